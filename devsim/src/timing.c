/* SPDX-License-Identifier: MIT */
/*
 * Timing model: each request starts on the earliest free service unit and
 * finishes at start + service time + bytes / bandwidth. Requests in
 * service wait in a min-heap ordered by finish time.
 */
#include <math.h>

#include "model.h"

/* Uniform in (0, 1]. */
static double rng_unit(struct dsim_dev *d)
{
	return ((double)(dsim_rng_next(&d->rng) >> 11) + 1.0) / 9007199254740992.0;
}

static uint64_t service_ns(struct dsim_dev *d, const struct dsim_op_timing *t)
{
	switch (t->dist) {
	case DSIM_DIST_UNIFORM: {
		uint64_t width = 2 * t->spread_ns + 1;
		return t->mean_ns - t->spread_ns + dsim_rng_next(&d->rng) % width;
	}
	case DSIM_DIST_EXPONENTIAL:
		return (uint64_t)(-log(rng_unit(d)) * (double)t->mean_ns);
	default:
		return t->mean_ns;
	}
}

/*
 * Storage bytes a request moves, for the bandwidth cap. The SQE is not
 * validated yet: a request that execution will refuse (too long, past the
 * capacity) moves nothing, so it takes no transfer time; a bogus length
 * must not hold a service unit for years.
 */
static uint64_t request_bytes(const struct dsim_dev *d, const struct dsim_sqe *sqe)
{
	uint64_t len;
	if (sqe->opcode == DSIM_OP_READ || sqe->opcode == DSIM_OP_WRITE)
		len = sqe->length <= DSIM_MAX_TRANSFER_BYTES ? sqe->length : 0;
	else if (sqe->opcode == DSIM_OP_CONTROL &&
		 (sqe->code == DSIM_CTL_FILL || sqe->code == DSIM_CTL_CRC32C))
		len = sqe->arg[0];
	else
		return 0;
	return dsim_storage_range_ok(&d->st, sqe->offset, len) ? len : 0;
}

/* Transfer time at the bandwidth cap, saturated so the conversion stays defined. */
static uint64_t transfer_ns(uint64_t bytes, uint64_t bandwidth_bps)
{
	double ns = (double)bytes * 1e9 / (double)bandwidth_bps;
	return ns < 0x1p62 ? (uint64_t)ns : 1ull << 62;
}

uint32_t dsim_timing_instant_ops(const struct dsim_timing *t)
{
	uint32_t mask = 0;
	for (unsigned op = 0; op < DSIM_OP_COUNT; op++) {
		const struct dsim_op_timing *ot = &t->op[op];
		bool moves_bytes =
		    op == DSIM_OP_READ || op == DSIM_OP_WRITE || op == DSIM_OP_CONTROL;
		if (ot->mean_ns == 0 && ot->dist != DSIM_DIST_UNIFORM &&
		    !(moves_bytes && t->bandwidth_bps))
			mask |= 1u << op;
	}
	return mask;
}

uint64_t dsim_timing_schedule(struct dsim_dev *d, const struct dsim_sqe *sqe, uint64_t now)
{
	const struct dsim_timing *t = &d->timing;
	uint64_t busy = service_ns(d, &t->op[sqe->opcode]);
	if (t->bandwidth_bps)
		busy += transfer_ns(request_bytes(d, sqe), t->bandwidth_bps);
	if (!t->units)
		return now + busy;
	unsigned best = 0;
	for (unsigned i = 1; i < t->units; i++)
		if (d->unit_free[i] < d->unit_free[best])
			best = i;
	uint64_t start = d->unit_free[best] > now ? d->unit_free[best] : now;
	d->unit_free[best] = start + busy;
	return start + busy;
}

bool dsim_timing_valid(const struct dsim_timing *t)
{
	if (t->reserved || t->units > DSIM_MAX_UNITS)
		return false;
	for (unsigned op = 0; op < DSIM_OP_COUNT; op++) {
		const struct dsim_op_timing *o = &t->op[op];
		if (o->dist > DSIM_DIST_EXPONENTIAL || o->reserved)
			return false;
		if (o->dist == DSIM_DIST_UNIFORM && o->spread_ns > o->mean_ns)
			return false;
		if (o->mean_ns > DSIM_MAX_LATENCY_NS)
			return false;
	}
	return true;
}

/* ---- min-heap on (finish_ns, seq) ------------------------------------- */

static bool before(const struct dsim_req *a, const struct dsim_req *b)
{
	return a->finish_ns < b->finish_ns || (a->finish_ns == b->finish_ns && a->seq < b->seq);
}

static void heap_set(struct dsim_dev *d, unsigned i, struct dsim_req *r)
{
	d->heap[i] = r;
	r->heap_idx = (int)i;
}

static void sift_up(struct dsim_dev *d, unsigned i)
{
	struct dsim_req *r = d->heap[i];
	while (i > 0) {
		unsigned parent = (i - 1) / 2;
		if (!before(r, d->heap[parent]))
			break;
		heap_set(d, i, d->heap[parent]);
		i = parent;
	}
	heap_set(d, i, r);
}

static void sift_down(struct dsim_dev *d, unsigned i)
{
	struct dsim_req *r = d->heap[i];
	for (;;) {
		unsigned c = 2 * i + 1;
		if (c >= d->heap_len)
			break;
		if (c + 1 < d->heap_len && before(d->heap[c + 1], d->heap[c]))
			c++;
		if (!before(d->heap[c], r))
			break;
		heap_set(d, i, d->heap[c]);
		i = c;
	}
	heap_set(d, i, r);
}

void dsim_heap_push(struct dsim_dev *d, struct dsim_req *r)
{
	heap_set(d, d->heap_len++, r);
	sift_up(d, d->heap_len - 1);
}

struct dsim_req *dsim_heap_top(struct dsim_dev *d)
{
	return d->heap_len ? d->heap[0] : NULL;
}

void dsim_heap_remove(struct dsim_dev *d, struct dsim_req *r)
{
	unsigned i = (unsigned)r->heap_idx;
	struct dsim_req *last = d->heap[--d->heap_len];
	r->heap_idx = -1;
	if (i == d->heap_len)
		return;
	heap_set(d, i, last);
	sift_up(d, i);
	sift_down(d, (unsigned)last->heap_idx);
}
