/* SPDX-License-Identifier: MIT */
/*
 * Opcodes: a fetched request is either executed at once (zero latency) or
 * put in service until its finish time. Validation and data movement
 * happen at execution, so an ABORT before the finish time leaves storage
 * and host memory untouched.
 */
#include "model.h"
#include "regs.h"

void dsim_exec_defer(struct dsim_dev *d, struct dsim_req *r, uint64_t finish)
{
	r->finish_ns = finish;
	d->q[r->qid].in_service++;
	dsim_heap_push(d, r);
}

static void end_service(struct dsim_dev *d, struct dsim_req *r)
{
	d->q[r->qid].in_service--;
	dsim_heap_remove(d, r);
}

static bool names_buffer(unsigned op)
{
	return op == DSIM_OP_READ || op == DSIM_OP_WRITE || op == DSIM_OP_CONTROL ||
	       op == DSIM_OP_WAIT_EVENT;
}

/*
 * The flag and size checks, the same for every opcode whether or not the
 * request ends up touching its buffer, so they come before anything else.
 */
static unsigned check_fields(const struct dsim_sqe *sqe)
{
	bool buffer = names_buffer(sqe->opcode);
	if (sqe->flags & ~DSIM_SQE_F_SGL)
		return DSIM_SC_INVALID_FIELD;
	if (!(sqe->flags & DSIM_SQE_F_SGL)) {
		if (sqe->sg_count)
			return DSIM_SC_INVALID_FIELD;
	} else if (!buffer || sqe->sg_count == 0) {
		return DSIM_SC_INVALID_FIELD;
	}
	if (buffer &&
	    (sqe->sg_count > DSIM_MAX_SG_ENTRIES || sqe->length > DSIM_MAX_TRANSFER_BYTES))
		return DSIM_SC_TOO_LARGE;
	return DSIM_SC_SUCCESS;
}

/* ABORT runs at fetch: its target was fetched before it, so it is in service or parked. */
static void do_abort(struct dsim_dev *d, struct dsim_req *r)
{
	unsigned sc = check_fields(&r->sqe);
	if (sc != DSIM_SC_SUCCESS) {
		dsim_complete(d, r, sc, 0, 0);
		return;
	}
	struct dsim_req *victim = NULL;
	for (unsigned i = 0; i < DSIM_REQ_POOL && !victim; i++) {
		struct dsim_req *c = &d->reqs[i];
		/* A late request executed already: only its CQE waits. */
		if (c != r && c->in_use && c->qid == r->qid && c->sqe.tag == r->sqe.abort_tag &&
		    ((c->heap_idx >= 0 && !c->fault.posting) || c->parked))
			victim = c;
	}
	if (victim) {
		if (victim->parked)
			dsim_event_unpark(d, victim);
		else
			end_service(d, victim);
		dsim_complete(d, victim, DSIM_SC_ABORTED, 0, 0);
	}
	dsim_complete(d, r, DSIM_SC_SUCCESS, 0, victim ? 1 : 0);
}

void dsim_exec_submit(struct dsim_dev *d, struct dsim_req *r)
{
	unsigned op = r->sqe.opcode;
	if (op == DSIM_OP_ABORT) {
		do_abort(d, r);
		return;
	}
	if (op >= DSIM_OP_COUNT) {
		dsim_exec_finish(d, r); /* fails with INVALID_OPCODE */
		return;
	}
	/* Faulted requests take the heap, where a hang holds them and a delay applies. */
	bool instant = (d->instant_ops >> op & 1) && !r->fault.kinds;
	/* Zero-latency fast path (no clock read when nothing is in service)... */
	if (instant && !d->heap_len) {
		dsim_exec_finish(d, r);
		return;
	}
	uint64_t now = dsim_now_ns();
	/* ... unless it would overtake a request already due. */
	if (instant && dsim_heap_top(d)->finish_ns > now) {
		dsim_exec_finish(d, r);
		return;
	}
	dsim_exec_defer(d, r, dsim_timing_schedule(d, &r->sqe, now) + r->fault.slow_ns);
}

/* Out of line, like wait_event(): their segment arrays would give every NOP a 4 KiB frame. */
static __attribute__((noinline)) unsigned storage_io(struct dsim_dev *d, const struct dsim_sqe *sqe,
						     uint32_t *result)
{
	if (sqe->length == 0)
		return DSIM_SC_INVALID_FIELD; /* check_fields() refused the too long */
	if (!dsim_storage_range_ok(&d->st, sqe->offset, sqe->length))
		return DSIM_SC_OUT_OF_RANGE;
	struct dsim_seg segs[DSIM_MAX_SG_ENTRIES];
	unsigned nseg = 0;
	unsigned sc = dsim_dma_resolve(d, sqe, segs, &nseg);
	if (sc != DSIM_SC_SUCCESS)
		return sc;
	bool rd = sqe->opcode == DSIM_OP_READ;
	uint64_t off = sqe->offset;
	for (unsigned i = 0; i < nseg; i++) {
		int rc = rd ? dsim_storage_read(&d->st, off, segs[i].va, segs[i].len)
			    : dsim_storage_write(&d->st, off, segs[i].va, segs[i].len);
		if (rc) {
			dsim_dev_set_fatal(d, DSIM_FATAL_INTERNAL);
			return DSIM_SC_INTERNAL;
		}
		off += segs[i].len;
	}
	dsim_stat_add(d->regs, rd ? DSIM_STAT_BYTES_READ : DSIM_STAT_BYTES_WRITTEN, sqe->length);
	d->pass_bytes += sqe->length;
	*result = sqe->length;
	return DSIM_SC_SUCCESS;
}

/* Parks r or completes it from the event queue; returns a failure status, or SUCCESS if handled. */
static __attribute__((noinline)) unsigned wait_event(struct dsim_dev *d, struct dsim_req *r)
{
	struct dsim_seg segs[DSIM_MAX_SG_ENTRIES];
	unsigned nseg;
	unsigned sc = dsim_dma_resolve(d, &r->sqe, segs, &nseg);
	if (sc == DSIM_SC_SUCCESS)
		dsim_event_wait(d, r);
	return sc;
}

/* Completes an executed (or refused) request. */
static void finished(struct dsim_dev *d, struct dsim_req *r, unsigned sc, uint32_t result)
{
	if (__builtin_expect(r->fault.kinds != 0, 0))
		sc = dsim_fault_executed(d, sc);
	dsim_complete(d, r, sc, 0, result);
}

void dsim_exec_finish(struct dsim_dev *d, struct dsim_req *r)
{
	if (__builtin_expect(r->fault.kinds != 0, 0) && dsim_fault_execute(d, r))
		return;
	const struct dsim_sqe *sqe = &r->sqe;
	uint32_t result = 0;
	unsigned sc = sqe->opcode < DSIM_OP_COUNT ? check_fields(sqe) : DSIM_SC_INVALID_OPCODE;
	if (sc != DSIM_SC_SUCCESS) {
		finished(d, r, sc, 0);
		return;
	}
	switch (sqe->opcode) {
	case DSIM_OP_FLUSH:
		if (dsim_storage_flush(&d->st)) {
			dsim_dev_set_fatal(d, DSIM_FATAL_INTERNAL);
			sc = DSIM_SC_INTERNAL;
		}
		break;
	case DSIM_OP_READ:
	case DSIM_OP_WRITE:
		sc = storage_io(d, sqe, &result);
		break;
	case DSIM_OP_CONTROL:
		sc = dsim_control(d, r, &result);
		/* SET_TIMING may have changed which opcodes complete at fetch. */
		d->instant_ops = dsim_timing_instant_ops(&d->timing);
		break;
	case DSIM_OP_WAIT_EVENT:
		sc = wait_event(d, r);
		if (sc == DSIM_SC_SUCCESS)
			return;
		break;
	default: /* NOP: ABORT acted at fetch and never gets here */
		break;
	}
	finished(d, r, sc, result);
}

unsigned dsim_exec_due(struct dsim_dev *d, uint64_t now)
{
	unsigned n = 0;
	struct dsim_req *r;
	while ((r = dsim_heap_top(d)) && r->finish_ns <= now) {
		end_service(d, r);
		dsim_exec_finish(d, r);
		n++;
	}
	return n;
}
