/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void dsim_config_defaults(struct dsim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = DSIM_DEFAULT_CAPACITY;
	cfg->queues = DSIM_DEFAULT_QUEUES;
	cfg->fault_seed = DSIM_FAULT_DEFAULT_SEED;
}

/* Parses an unsigned number followed by a suffix looked up in a table. */
static int parse_scaled(const char *s, const char *const *suffix, const uint64_t *scale,
			unsigned nsuffix, uint64_t *out)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (unsigned i = 0; i < nsuffix; i++) {
		if (strcmp(end, suffix[i]) != 0)
			continue;
		if (scale[i] && v > UINT64_MAX / scale[i])
			return -EINVAL;
		*out = v * scale[i];
		return 0;
	}
	return -EINVAL;
}

int dsim_parse_size(const char *s, uint64_t *out)
{
	static const char *const sfx[] = { "", "K", "k", "M", "m", "G", "g", "T", "t" };
	static const uint64_t scale[] = { 1,          1ull << 10, 1ull << 10,
					  1ull << 20, 1ull << 20, 1ull << 30,
					  1ull << 30, 1ull << 40, 1ull << 40 };
	return parse_scaled(s, sfx, scale, 9, out);
}

int dsim_parse_time_ns(const char *s, uint64_t *out)
{
	static const char *const sfx[] = { "", "ns", "us", "ms", "s" };
	static const uint64_t scale[] = { 1, 1, 1000, 1000000, 1000000000 };
	return parse_scaled(s, sfx, scale, 5, out);
}

/* "fixed:T", "uniform:MEAN:SPREAD", "exp:MEAN". */
static int parse_dist(const char *spec, struct dsim_op_timing *t)
{
	char buf[128];
	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	char *a = strchr(buf, ':');
	if (!a)
		return -EINVAL;
	*a++ = 0;
	char *b = strchr(a, ':');
	if (b)
		*b++ = 0;
	struct dsim_op_timing n = { 0 };
	if (strcmp(buf, "fixed") == 0)
		n.dist = DSIM_DIST_FIXED;
	else if (strcmp(buf, "uniform") == 0)
		n.dist = DSIM_DIST_UNIFORM;
	else if (strcmp(buf, "exp") == 0)
		n.dist = DSIM_DIST_EXPONENTIAL;
	else
		return -EINVAL;
	/* The limit SET_TIMING enforces: beyond it finish times would overflow. */
	if (dsim_parse_time_ns(a, &n.mean_ns) || n.mean_ns > DSIM_MAX_LATENCY_NS)
		return -EINVAL;
	if (n.dist == DSIM_DIST_UNIFORM) {
		if (!b || dsim_parse_time_ns(b, &n.spread_ns) || n.spread_ns > n.mean_ns)
			return -EINVAL;
	} else if (b) {
		return -EINVAL;
	}
	*t = n;
	return 0;
}

static const char *const op_names[DSIM_OP_COUNT] = { "nop",     "read",       "write", "flush",
						     "control", "wait_event", "abort" };

const char *dsim_op_name(unsigned op)
{
	return op < DSIM_OP_COUNT ? op_names[op] : "?";
}

unsigned dsim_op_lookup(const char *name)
{
	unsigned op = 0;
	while (op < DSIM_OP_COUNT && strcmp(op_names[op], name) != 0)
		op++;
	return op;
}

/* Ops a plain "latency=SPEC" applies to: not WAIT_EVENT (waits anyway) nor ABORT. */
static bool default_latency_op(unsigned op)
{
	return op != DSIM_OP_WAIT_EVENT && op != DSIM_OP_ABORT;
}

static int parse_latency(struct dsim_config *cfg, const char *value, char *err, size_t errlen)
{
	char buf[512];
	if (!value || strlen(value) >= sizeof(buf))
		return fail(err, errlen, "latency: expected SPEC or OP=SPEC,... (e.g. fixed:1ms)");
	strcpy(buf, value);
	struct dsim_timing t = cfg->timing;
	char *save = NULL;
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		struct dsim_op_timing ot;
		const char *spec = eq ? eq + 1 : item;
		if (parse_dist(spec, &ot))
			return fail(
			    err, errlen,
			    "latency '%s': expected fixed:TIME, uniform:MEAN:SPREAD (spread "
			    "<= mean) or exp:MEAN, TIME like 100us, 1ms, 1s (at most 3600s)",
			    spec);
		if (!eq) {
			for (unsigned op = 0; op < DSIM_OP_COUNT; op++)
				if (default_latency_op(op))
					t.op[op] = ot;
			continue;
		}
		*eq = 0;
		unsigned op = dsim_op_lookup(item);
		if (op == DSIM_OP_COUNT)
			return fail(
			    err, errlen,
			    "latency: unknown opcode '%s' (nop, read, write, flush, control, "
			    "wait_event, abort)",
			    item);
		t.op[op] = ot;
	}
	cfg->timing = t;
	return 0;
}

int dsim_config_set(struct dsim_config *cfg, const char *key, const char *value, char *err,
		    size_t errlen)
{
	uint64_t v;
	if (strcmp(key, "poll") == 0) {
		if (value && strcmp(value, "1") != 0 && strcmp(value, "0") != 0)
			return fail(err, errlen, "poll: expected 0 or 1");
		cfg->poll = !value || strcmp(value, "1") == 0;
		return 0;
	}
	if (!value)
		return fail(err, errlen, "option '%s' needs a value", key);
	if (strcmp(key, "capacity") == 0) {
		if (dsim_parse_size(value, &v) || v == 0)
			return fail(err, errlen, "capacity '%s': expected a size like 64M or 1G",
				    value);
		cfg->capacity = v;
		cfg->capacity_set = true;
	} else if (strcmp(key, "backing") == 0) {
		if (!*value || strlen(value) >= sizeof(cfg->backing))
			return fail(err, errlen, "backing: expected a file path");
		strcpy(cfg->backing, value);
	} else if (strcmp(key, "queues") == 0) {
		if (dsim_parse_size(value, &v) || v < 1 || v > DSIM_MAX_QUEUES)
			return fail(err, errlen, "queues '%s': expected 1..%u", value,
				    DSIM_MAX_QUEUES);
		cfg->queues = (unsigned)v;
	} else if (strcmp(key, "latency") == 0) {
		return parse_latency(cfg, value, err, errlen);
	} else if (strcmp(key, "bandwidth") == 0) {
		if (dsim_parse_size(value, &v))
			return fail(err, errlen,
				    "bandwidth '%s': expected bytes per second like 500M or 2G "
				    "(0 = unlimited)",
				    value);
		cfg->timing.bandwidth_bps = v;
	} else if (strcmp(key, "units") == 0) {
		if (dsim_parse_size(value, &v) || v > DSIM_MAX_UNITS)
			return fail(err, errlen, "units '%s': expected 0 (unlimited) .. %u", value,
				    DSIM_MAX_UNITS);
		cfg->timing.units = (uint32_t)v;
	} else if (strcmp(key, "fault") == 0) {
		if (!*value)
			return fail(err, errlen,
				    "fault: expected a rule such as error,op=read,rate=0.05");
		return dsim_fault_set_parse(&cfg->faults, value, err, errlen);
	} else if (strcmp(key, "seed") == 0) {
		if (dsim_parse_size(value, &v))
			return fail(err, errlen, "seed '%s': expected a whole number like 42",
				    value);
		cfg->fault_seed = v;
	} else {
		return fail(err, errlen,
			    "unknown option '%s' (capacity, backing, queues, latency, bandwidth, "
			    "units, poll, fault, seed)",
			    key);
	}
	return 0;
}

int dsim_config_parse_query(struct dsim_config *cfg, const char *query, char *err, size_t errlen)
{
	if (!query || !*query)
		return 0;
	size_t n = strlen(query);
	char *buf = malloc(n + 1);
	if (!buf)
		return fail(err, errlen, "out of memory");
	memcpy(buf, query, n + 1);
	int rc = 0;
	char *save = NULL;
	for (char *item = strtok_r(buf, "&", &save); item && !rc;
	     item = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(item, '=');
		if (eq)
			*eq = 0;
		rc = dsim_config_set(cfg, item, eq ? eq + 1 : NULL, err, errlen);
	}
	free(buf);
	return rc;
}
