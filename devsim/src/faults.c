/* SPDX-License-Identifier: MIT */
/*
 * Fault injection, the device's half: when a request is fetched the rules
 * pick it or not (by opcode, queue and a trigger counted per rule or drawn
 * from a seeded RNG), and a picked request misbehaves at the ring and
 * register level. Everything random is drawn at fetch, so one seed and one
 * request sequence inject the same faults whatever the timing.
 */
#include <string.h>

#include "model.h"
#include "regs.h"

#define BIT(kind) (1u << (kind))

/* splitmix64: every seed, 0 included, gives a well-mixed nonzero xorshift state. */
static uint64_t seed_state(uint64_t seed)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

void dsim_faults_seed(struct dsim_faults *f, uint64_t seed)
{
	f->seed = seed;
	f->rng = seed_state(seed);
}

void dsim_faults_init(struct dsim_faults *f, const struct dsim_fault_set *set, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	f->set = *set;
	dsim_faults_seed(f, seed);
}

void dsim_faults_replace(struct dsim_faults *f, const struct dsim_fault_set *set)
{
	f->set = *set;
}

static bool rule_matches(const struct dsim_fault_rule *ru, const struct dsim_req *r)
{
	unsigned op = r->sqe.opcode;
	/* ABORT and the fault codes stay reliable: a driver can always back out. */
	if (op >= DSIM_OP_ABORT)
		return false;
	if (op == DSIM_OP_CONTROL &&
	    (r->sqe.code == DSIM_CTL_SET_FAULTS || r->sqe.code == DSIM_CTL_GET_FAULTS))
		return false;
	return (ru->op == DSIM_FAULT_OP_ANY || ru->op == op) &&
	       (ru->queue == DSIM_FAULT_QUEUE_ANY || ru->queue == r->qid);
}

static bool rule_fires(struct dsim_faults *f, struct dsim_fault_rule *ru)
{
	ru->matched++;
	if (ru->count && ru->fired >= ru->count)
		return false;
	switch (ru->trigger) {
	case DSIM_TRIG_NTH:
		if (ru->matched != ru->n)
			return false;
		break;
	case DSIM_TRIG_EVERY:
		if (ru->matched % ru->n)
			return false;
		break;
	case DSIM_TRIG_RATE:
		if (dsim_rng_next(&f->rng) % DSIM_FAULT_RATE_ONE >= ru->rate_ppb)
			return false;
		break;
	default:
		break;
	}
	ru->fired++;
	return true;
}

/* An extra CQE, only into a slot no fetched request has reserved. */
static void post_spurious(struct dsim_dev *d, unsigned q)
{
	if (dsim_cq_room(d, q))
		dsim_cqe_post(d, q, (struct dsim_cqe){ .tag = DSIM_FAULT_SPURIOUS_TAG }, 0);
}

static void inject(struct dsim_dev *d, struct dsim_req *r, const struct dsim_fault_rule *ru)
{
	struct dsim_faults *f = &d->faults;
	struct dsim_req_fault *rf = &r->fault;
	f->injected[ru->kind]++;
	dsim_stat_add(d->regs, DSIM_STAT_FAULTS, 1);
	rf->kinds |= (uint16_t)BIT(ru->kind);
	switch (ru->kind) {
	case DSIM_FAULT_ERROR:
		rf->status = ru->arg;
		break;
	case DSIM_FAULT_LATE:
		rf->late_ns = ru->delay_ns;
		break;
	case DSIM_FAULT_DMA_SLOW:
		rf->slow_ns = ru->delay_ns;
		break;
	case DSIM_FAULT_BAD_TAG:
		rf->how = ru->arg;
		rf->rand = (uint32_t)dsim_rng_next(&f->rng);
		break;
	case DSIM_FAULT_CORRUPT:
		rf->field = ru->arg;
		rf->rand = (uint32_t)dsim_rng_next(&f->rng);
		break;
	case DSIM_FAULT_SPURIOUS:
		post_spurious(d, r->qid);
		break;
	case DSIM_FAULT_HANG:
		f->stalled = true;
		break;
	case DSIM_FAULT_FATAL:
		dsim_dev_set_fatal(d, DSIM_FATAL_INTERNAL);
		break;
	case DSIM_FAULT_VANISH:
		f->stalled = f->vanished = true;
		break;
	default:
		break;
	}
}

void dsim_fault_fetch(struct dsim_dev *d, struct dsim_req *r)
{
	struct dsim_faults *f = &d->faults;
	for (unsigned i = 0; i < f->set.n; i++) {
		struct dsim_fault_rule *ru = &f->set.rule[i];
		if (rule_matches(ru, r) && rule_fires(f, ru))
			inject(d, r, ru);
	}
}

bool dsim_fault_execute(struct dsim_dev *d, struct dsim_req *r)
{
	struct dsim_req_fault *rf = &r->fault;
	if (rf->posting) {
		dsim_fault_post(d, r, rf->post_status, rf->post_flags, rf->post_result);
		return true;
	}
	unsigned sc;
	unsigned op = r->sqe.opcode;
	if (rf->kinds & BIT(DSIM_FAULT_FATAL)) {
		sc = DSIM_SC_INTERNAL; /* the request that "broke" the device */
	} else if (rf->kinds & BIT(DSIM_FAULT_ERROR)) {
		sc = rf->status;
	} else if (rf->kinds & BIT(DSIM_FAULT_DMA_FAIL)) {
		dsim_stat_add(d->regs, DSIM_STAT_DMA_ERRORS, 1);
		sc = DSIM_SC_DMA_ERROR;
	} else if (rf->kinds & BIT(DSIM_FAULT_STORAGE_FAIL)) {
		/* Requests that reach the store fail there, through the real failure path. */
		if (op == DSIM_OP_READ || op == DSIM_OP_WRITE || op == DSIM_OP_FLUSH) {
			d->st.fail_next = true;
			return false;
		}
		dsim_dev_set_fatal(d, DSIM_FATAL_INTERNAL);
		sc = DSIM_SC_INTERNAL;
	} else {
		return false;
	}
	dsim_complete(d, r, sc, 0, 0);
	return true;
}

unsigned dsim_fault_executed(struct dsim_dev *d, unsigned sc)
{
	/* Refused before it reached the store: it ends the way a failed access ends. */
	if (dsim_storage_fail_now(&d->st)) {
		dsim_dev_set_fatal(d, DSIM_FATAL_INTERNAL);
		return DSIM_SC_INTERNAL;
	}
	return sc;
}

/* bad-tag: stale keeps the index (low 16 bits) and takes the generation before. */
static uint32_t other_tag(uint32_t tag, const struct dsim_req_fault *rf)
{
	if (rf->how == DSIM_TAG_RANDOM)
		return rf->rand != tag ? rf->rand : ~tag;
	uint32_t gen = ((tag >> 16) + 0xffffu) & 0xffffu;
	if (gen == 0 || gen == 0xffffu) /* 0 and 0xffff are no request's generation */
		gen = 0xfffeu;
	return (tag & 0xffffu) | gen << 16;
}

void dsim_fault_post(struct dsim_dev *d, struct dsim_req *r, unsigned status, uint16_t flags,
		     uint32_t result)
{
	struct dsim_req_fault *rf = &r->fault;
	if (rf->late_ns && !rf->posting) {
		rf->posting = true;
		rf->post_status = (uint16_t)status;
		rf->post_flags = flags;
		rf->post_result = result;
		dsim_exec_defer(d, r, dsim_now_ns() + rf->late_ns);
		return;
	}
	struct dsim_cqe c = {
		.tag = r->sqe.tag, .status = (uint16_t)status, .flags = flags, .result = result
	};
	unsigned how = rf->kinds & BIT(DSIM_FAULT_LOST_IRQ) ? DSIM_POST_NO_IRQ : 0;
	if (rf->kinds & BIT(DSIM_FAULT_BAD_TAG))
		c.tag = other_tag(c.tag, rf);
	if (rf->kinds & BIT(DSIM_FAULT_CORRUPT)) {
		if (rf->field == DSIM_FIELD_PHASE) {
			how |= DSIM_POST_WRONG_PHASE;
		} else if (rf->field == DSIM_FIELD_RESULT) {
			uint64_t big = (uint64_t)r->sqe.length + 1 + rf->rand % 4096u;
			c.result = big > UINT32_MAX ? UINT32_MAX : (uint32_t)big;
		} else {
			c.status =
			    (uint16_t)(DSIM_SC_COUNT + rf->rand % (0x10000u - DSIM_SC_COUNT));
		}
	}
	unsigned q = r->qid;
	dsim_cqe_post(d, q, c, how);
	dsim_req_retire(d, r);
	if ((rf->kinds & BIT(DSIM_FAULT_DUPLICATE)) && dsim_cq_room(d, q))
		dsim_cqe_post(d, q, c, how);
}

void dsim_faults_reset(struct dsim_dev *d)
{
	d->faults.stalled = d->faults.vanished;
	d->st.fail_next = false;
}

void dsim_faults_after_pass(struct dsim_dev *d)
{
	if (d->faults.vanish_told)
		return;
	d->faults.vanish_told = true;
	if (d->vanish)
		d->vanish(d->vanish_ctx);
}

unsigned dsim_fault_control_set(struct dsim_dev *d, const char *text, uint32_t *result)
{
	struct dsim_fault_set set = { .n = 0 };
	if (dsim_fault_set_parse(&set, text, NULL, 0))
		return DSIM_SC_INVALID_FIELD;
	dsim_faults_replace(&d->faults, &set);
	*result = set.n;
	return DSIM_SC_SUCCESS;
}

void dsim_fault_stats(const struct dsim_dev *d, struct dsim_fault_stats *out)
{
	memcpy(out->injected, d->faults.injected, sizeof(out->injected));
}
