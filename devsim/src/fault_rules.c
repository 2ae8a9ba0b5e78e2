/* SPDX-License-Identifier: MIT */
#include "fault_rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const char *const kind_names[] = { "error",    "lost-irq", "late",     "duplicate",
					  "spurious", "bad-tag",  "corrupt",  "hang",
					  "fatal",    "dma-slow", "dma-fail", "storage-fail",
					  "vanish" };
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == DSIM_FAULT_KIND_COUNT,
	       "a name for every fault kind");

static const char *const status_names[] = { "success",      "invalid-opcode", "invalid-field",
					    "out-of-range", "dma-error",      "aborted",
					    "too-large",    "internal",       "invalid-code" };
_Static_assert(sizeof(status_names) / sizeof(status_names[0]) == DSIM_SC_COUNT,
	       "a name for every status");

static const char *const how_names[] = { "stale", "random" };
static const char *const field_names[] = { "phase", "result", "status" };
/* Opcodes a rule can pick: ABORT is the driver's way out and is never faulted. */
static const char *const op_names[] = { "nop",     "read",       "write", "flush",
					"control", "wait_event", "any" };
_Static_assert(sizeof(op_names) / sizeof(op_names[0]) == DSIM_OP_ABORT + 1,
	       "every opcode but ABORT, then any");

#define N(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

const char *dsim_fault_kind_name(unsigned kind)
{
	return kind < DSIM_FAULT_KIND_COUNT ? kind_names[kind] : "?";
}

static int lookup(const char *const *names, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* "a, b, c": what a message lists as accepted. */
static const char *join(const char *const *names, unsigned n, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ", " : "", names[i]);
	return buf;
}

struct parse {
	const char *rule; /* the whole rule, for messages */
	char *err;
	size_t errlen;
};

static int fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parse *p, const char *fmt, ...)
{
	if (p->err && p->errlen) {
		int n = snprintf(p->err, p->errlen, "fault '%s': ", p->rule);
		if (n >= 0 && (size_t)n < p->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

static int parse_count(struct parse *p, const char *key, const char *v, uint32_t *out)
{
	uint64_t n;
	if (dsim_parse_size(v, &n) || n == 0 || n > UINT32_MAX)
		return fail(p, "%s '%s': expected a whole number from 1 to %u", key, v, UINT32_MAX);
	*out = (uint32_t)n;
	return 0;
}

/* "0.05", "1": parts per billion, exactly (no floating point, no locale). */
static int parse_rate(struct parse *p, const char *v, uint32_t *ppb)
{
	const char *s = v;
	uint64_t whole = 0, frac = 0, scale = DSIM_FAULT_RATE_ONE;
	unsigned digits = 0;
	while (*s >= '0' && *s <= '9' && whole <= 1)
		whole = whole * 10 + (uint64_t)(*s++ - '0');
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9' && digits < 9; digits++, s++) {
			frac = frac * 10 + (uint64_t)(*s - '0');
			scale /= 10;
		}
	uint64_t total = whole * DSIM_FAULT_RATE_ONE + frac * scale;
	if (*s || s == v || total == 0 || total > DSIM_FAULT_RATE_ONE)
		return fail(p,
			    "rate '%s': expected a probability P with 0 < P <= 1 and at most 9 "
			    "decimals, e.g. 0.05",
			    v);
	*ppb = (uint32_t)total;
	return 0;
}

static int parse_choice(struct parse *p, const char *key, const char *v, const char *const *names,
			unsigned n, uint8_t *out)
{
	int i = lookup(names, n, v);
	char list[256];
	if (i < 0)
		return fail(p, "%s '%s': expected one of %s", key, v,
			    join(names, n, list, sizeof(list)));
	*out = (uint8_t)i;
	return 0;
}

/* The key only some kinds take, or NULL. */
static const char *own_key(unsigned kind)
{
	switch (kind) {
	case DSIM_FAULT_ERROR:
		return "status";
	case DSIM_FAULT_LATE:
	case DSIM_FAULT_DMA_SLOW:
		return "delay";
	case DSIM_FAULT_BAD_TAG:
		return "how";
	case DSIM_FAULT_CORRUPT:
		return "field";
	default:
		return NULL;
	}
}

static int set_trigger(struct parse *p, struct dsim_fault_rule *r, unsigned trigger)
{
	if (r->trigger != DSIM_TRIG_ALWAYS)
		return fail(p, "give at most one of nth, every and rate");
	r->trigger = (uint8_t)trigger;
	return 0;
}

static int parse_key(struct parse *p, struct dsim_fault_rule *r, const char *key, const char *v)
{
	uint8_t c;
	const char *own = own_key(r->kind);
	if (strcmp(key, "op") == 0) {
		if (parse_choice(p, key, v, op_names, N(op_names), &c))
			return -EINVAL;
		r->op = c == DSIM_OP_ABORT ? DSIM_FAULT_OP_ANY : c;
	} else if (strcmp(key, "queue") == 0) {
		uint64_t q;
		if (dsim_parse_size(v, &q) || q >= DSIM_MAX_QUEUES)
			return fail(p, "queue '%s': expected a queue number from 0 to %u", v,
				    DSIM_MAX_QUEUES - 1);
		r->queue = (uint32_t)q;
	} else if (strcmp(key, "nth") == 0 || strcmp(key, "every") == 0) {
		bool nth = key[0] == 'n';
		if (set_trigger(p, r, nth ? DSIM_TRIG_NTH : DSIM_TRIG_EVERY) ||
		    parse_count(p, key, v, &r->n))
			return -EINVAL;
	} else if (strcmp(key, "rate") == 0) {
		if (set_trigger(p, r, DSIM_TRIG_RATE) || parse_rate(p, v, &r->rate_ppb))
			return -EINVAL;
	} else if (strcmp(key, "count") == 0) {
		return parse_count(p, key, v, &r->count);
	} else if (own && strcmp(key, own) == 0) {
		if (r->kind == DSIM_FAULT_ERROR)
			return parse_choice(p, key, v, status_names, N(status_names), &r->arg);
		if (r->kind == DSIM_FAULT_BAD_TAG)
			return parse_choice(p, key, v, how_names, N(how_names), &r->arg);
		if (r->kind == DSIM_FAULT_CORRUPT)
			return parse_choice(p, key, v, field_names, N(field_names), &r->arg);
		if (dsim_parse_time_ns(v, &r->delay_ns) || r->delay_ns == 0 ||
		    r->delay_ns > DSIM_MAX_LATENCY_NS)
			return fail(p,
				    "delay '%s': expected a time like 10ms, 500us or 2s (at most "
				    "3600s)",
				    v);
	} else {
		return fail(p, "unknown key '%s' (%s takes op, queue, nth, every, rate, count%s%s)",
			    key, kind_names[r->kind], own ? ", " : "", own ? own : "");
	}
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = 0;
	return s;
}

/* One rule; text is a writable copy, p->rule the original for messages. */
static int parse_rule(struct parse *p, char *text, struct dsim_fault_rule *out)
{
	char *save = NULL;
	char *kind = strtok_r(text, ",", &save);
	char list[256];
	if (!kind)
		return fail(p, "expected KIND,key=value,... with KIND one of %s",
			    join(kind_names, N(kind_names), list, sizeof(list)));
	kind = trim(kind);
	int k = lookup(kind_names, N(kind_names), kind);
	if (k < 0)
		return fail(p, "unknown kind '%s' (%s)", kind,
			    join(kind_names, N(kind_names), list, sizeof(list)));
	struct dsim_fault_rule r = { .kind = (uint8_t)k,
				     .op = DSIM_FAULT_OP_ANY,
				     .queue = DSIM_FAULT_QUEUE_ANY };
	if (k == DSIM_FAULT_ERROR)
		r.arg = DSIM_SC_INTERNAL;
	bool field_set = false;
	for (char *kv = strtok_r(NULL, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq)
			return fail(p, "'%s' is not key=value", trim(kv));
		*eq = 0;
		char *key = trim(kv);
		field_set |= strcmp(key, "field") == 0;
		if (parse_key(p, &r, key, trim(eq + 1)))
			return -EINVAL;
	}
	if ((k == DSIM_FAULT_LATE || k == DSIM_FAULT_DMA_SLOW) && !r.delay_ns)
		return fail(p, "%s needs delay=TIME, e.g. %s,delay=10ms", kind, kind);
	if (k == DSIM_FAULT_CORRUPT && !field_set)
		return fail(p, "corrupt needs field=phase, field=result or field=status");
	*out = r;
	return 0;
}

int dsim_fault_set_parse(struct dsim_fault_set *set, const char *text, char *err, size_t errlen)
{
	struct parse p = { .err = err, .errlen = errlen, .rule = "" };
	if (!text)
		return fail(&p, "expected a rule such as error,op=read,rate=0.05");
	char *buf = strdup(text);
	if (!buf)
		return fail(&p, "out of memory");
	struct dsim_fault_set next = *set;
	int rc = 0;
	char *save = NULL;
	for (char *item = strtok_r(buf, ";\n", &save); item && !rc;
	     item = strtok_r(NULL, ";\n", &save)) {
		item = trim(item);
		if (!*item)
			continue;
		/* The message names the rule as given: copy it before strtok_r cuts it. */
		char *orig = strdup(item);
		p.rule = orig ? orig : item;
		if (next.n == DSIM_FAULT_MAX_RULES)
			rc = fail(&p, "too many rules: a device takes at most %u",
				  DSIM_FAULT_MAX_RULES);
		else
			rc = parse_rule(&p, item, &next.rule[next.n]);
		if (!rc)
			next.n++;
		free(orig);
	}
	free(buf);
	if (!rc)
		*set = next;
	return rc;
}

static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	if (*at >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at += (size_t)n < len - *at ? (size_t)n : len - *at - 1;
}

static void put_delay(char *buf, size_t len, size_t *at, uint64_t ns)
{
	static const char *const unit[] = { "s", "ms", "us", "ns" };
	uint64_t scale = 1000000000u;
	unsigned u = 0;
	while (ns % scale) {
		scale /= 1000;
		u++;
	}
	put(buf, len, at, ",delay=%llu%s", (unsigned long long)(ns / scale), unit[u]);
}

static void put_rule(const struct dsim_fault_rule *r, char *buf, size_t len, size_t *at)
{
	put(buf, len, at, "%s", kind_names[r->kind]);
	if (r->op != DSIM_FAULT_OP_ANY)
		put(buf, len, at, ",op=%s", op_names[r->op]);
	if (r->queue != DSIM_FAULT_QUEUE_ANY)
		put(buf, len, at, ",queue=%u", r->queue);
	if (r->trigger == DSIM_TRIG_NTH || r->trigger == DSIM_TRIG_EVERY)
		put(buf, len, at, ",%s=%u", r->trigger == DSIM_TRIG_NTH ? "nth" : "every", r->n);
	if (r->trigger == DSIM_TRIG_RATE) {
		uint32_t frac = r->rate_ppb % DSIM_FAULT_RATE_ONE;
		unsigned digits = 9;
		while (frac && frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		if (frac)
			put(buf, len, at, ",rate=%u.%0*u", r->rate_ppb / DSIM_FAULT_RATE_ONE,
			    (int)digits, frac);
		else
			put(buf, len, at, ",rate=%u", r->rate_ppb / DSIM_FAULT_RATE_ONE);
	}
	if (r->count)
		put(buf, len, at, ",count=%u", r->count);
	if (r->kind == DSIM_FAULT_ERROR)
		put(buf, len, at, ",status=%s", status_names[r->arg]);
	else if (r->kind == DSIM_FAULT_BAD_TAG)
		put(buf, len, at, ",how=%s", how_names[r->arg]);
	else if (r->kind == DSIM_FAULT_CORRUPT)
		put(buf, len, at, ",field=%s", field_names[r->arg]);
	else if (r->delay_ns)
		put_delay(buf, len, at, r->delay_ns);
	put(buf, len, at, "\n");
}

size_t dsim_fault_set_render(const struct dsim_fault_set *set, char *buf, size_t len)
{
	size_t at = 0;
	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < set->n; i++)
		put_rule(&set->rule[i], buf, len, &at);
	return at;
}
