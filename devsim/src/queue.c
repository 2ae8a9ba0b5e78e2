/* SPDX-License-Identifier: MIT */
/*
 * Queue rings and interrupts: enabling with validation, fetching SQEs,
 * posting CQEs with the phase bit, never overrunning the CQ, and raising
 * (coalesced, maskable) interrupts on the queue's vector.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "regs.h"

static void queue_regs_clear(struct dsim_dev *d, unsigned q, uint32_t qstatus)
{
	dsim_qwr32(d->regs, q, DSIM_Q_SQ_HEAD, 0);
	dsim_qwr32(d->regs, q, DSIM_Q_CQ_TAIL, 0);
	dsim_qwr32(d->regs, q, DSIM_Q_QSTATUS, qstatus);
}

static void queue_forget(struct dsim_dev *d, unsigned q)
{
	dsim_queue_drop(d, (int)q);
	d->live_queues &= ~(1u << q);
	struct dsim_queue *dq = &d->q[q];
	memset(dq, 0, sizeof(*dq));
}

void dsim_queue_stop(struct dsim_dev *d, unsigned q, unsigned qerr)
{
	dsim_queue_drop(d, (int)q);
	d->q[q].error = true;
	d->live_queues &= ~(1u << q);
	dsim_qwr32(d->regs, q, DSIM_Q_QSTATUS, DSIM_QSTS_ERROR | qerr << DSIM_QSTS_CODE_SHIFT);
}

static unsigned validate_config(struct dsim_dev *d, unsigned q, struct dsim_queue *dq)
{
	uint32_t log2 = dsim_qrd32(d->regs, q, DSIM_Q_LOG2_SIZE);
	dq->sq_bus = dsim_rd64(d->regs, DSIM_REG_Q(q, DSIM_Q_SQ_BASE));
	dq->cq_bus = dsim_rd64(d->regs, DSIM_REG_Q(q, DSIM_Q_CQ_BASE));
	dq->vector = dsim_qrd32(d->regs, q, DSIM_Q_VECTOR);
	if (log2 < 1 || log2 > DSIM_MAX_LOG2 || dq->vector >= d->num_vectors || dq->sq_bus % 64 ||
	    dq->cq_bus % 16)
		return DSIM_QERR_BAD_CONFIG;
	uint32_t entries = 1u << log2;
	dq->mask = entries - 1;
	dq->sq = dsim_dma_ptr(d, dq->sq_bus, (uint64_t)entries * sizeof(struct dsim_sqe));
	dq->cq = dsim_dma_ptr(d, dq->cq_bus, (uint64_t)entries * sizeof(struct dsim_cqe));
	if (!dq->sq || !dq->cq)
		return DSIM_QERR_RING_DMA;
	return DSIM_QERR_NONE;
}

void dsim_queue_sync_enable(struct dsim_dev *d, unsigned q)
{
	struct dsim_queue *dq = &d->q[q];
	bool want = dsim_qrd32(d->regs, q, DSIM_Q_ENABLE) == 1;
	if (want == dq->enabled)
		return;
	queue_forget(d, q);
	if (!want) {
		queue_regs_clear(d, q, 0);
		return;
	}
	dq->enabled = true;
	dq->phase = DSIM_CQE_F_PHASE;
	unsigned err = validate_config(d, q, dq);
	if (err) {
		dq->error = true;
		queue_regs_clear(d, q, DSIM_QSTS_ERROR | err << DSIM_QSTS_CODE_SHIFT);
		return;
	}
	queue_regs_clear(d, q, DSIM_QSTS_ENABLED);
	d->live_queues |= 1u << q;
}

unsigned dsim_queue_fetch(struct dsim_dev *d, unsigned q)
{
	struct dsim_queue *dq = &d->q[q];
	if (!dq->enabled || dq->error)
		return 0;
	uint32_t tail = dsim_qrd32(d->regs, q, DSIM_Q_SQ_TAIL);
	if (tail > dq->mask) {
		dsim_queue_stop(d, q, DSIM_QERR_BAD_TAIL);
		return 0;
	}
	uint32_t cq_head = dsim_qrd32(d->regs, q, DSIM_Q_CQ_HEAD);
	if (cq_head > dq->mask) {
		dsim_queue_stop(d, q, DSIM_QERR_BAD_HEAD);
		return 0;
	}
	unsigned n = 0;
	while (dq->sq_head != tail && !dq->error && d->ready && !d->faults.stalled) {
		/*
		 * A pass that has moved DSIM_PASS_BYTES ends here, so its interrupt
		 * goes out and the driver reaps while the next pass copies.
		 */
		if (d->pass_bytes >= DSIM_PASS_BYTES) {
			d->pass_cut = true;
			break;
		}
		/* Reserve a CQ slot per fetched request: posting never overruns. */
		uint32_t used = (dq->cq_tail - cq_head) & dq->mask;
		struct dsim_req *r = d->free_reqs;
		if (dq->inflight + used >= dq->mask || !r) {
			d->cq_blocked = true;
			break;
		}
		d->free_reqs = r->next;
		memcpy(&r->sqe, &dq->sq[dq->sq_head], sizeof(r->sqe));
		r->in_use = true;
		r->parked = false;
		r->heap_idx = -1;
		r->next = r->prev = NULL;
		r->finish_ns = 0;
		r->qid = q;
		r->seq = d->seq++;
		memset(&r->fault, 0, sizeof(r->fault));
		dq->sq_head = (dq->sq_head + 1) & dq->mask;
		dq->inflight++;
		dsim_stat_add(d->regs, DSIM_STAT_SUBMITTED, 1);
		if (d->faults.set.n)
			dsim_fault_fetch(d, r);
		dsim_exec_submit(d, r);
		n++;
	}
	/*
	 * Published once per pass: the register shares a cache line with
	 * SQ_TAIL, so a store per entry would bounce it under the driver.
	 */
	if (n)
		dsim_qwr32(d->regs, q, DSIM_Q_SQ_HEAD, dq->sq_head);
	return n;
}

static void req_free(struct dsim_dev *d, struct dsim_req *r)
{
	r->in_use = false;
	r->heap_idx = -1;
	r->next = d->free_reqs;
	d->free_reqs = r;
}

void dsim_cqe_post(struct dsim_dev *d, unsigned q, struct dsim_cqe c, unsigned how)
{
	struct dsim_queue *dq = &d->q[q];
	uint8_t *cqe = dq->cq + (size_t)dq->cq_tail * sizeof(struct dsim_cqe);
	__atomic_store_n((uint32_t *)(void *)cqe, c.tag, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(void *)(cqe + 8), c.result, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(void *)(cqe + 12), dq->sq_head, __ATOMIC_RELAXED);
	uint16_t phase = how & DSIM_POST_WRONG_PHASE ? dq->phase ^ DSIM_CQE_F_PHASE : dq->phase;
	/* status and flags (with the phase bit) last: the driver polls on the phase. */
	uint32_t word = (uint32_t)c.status | (uint32_t)(c.flags | phase) << 16;
	__atomic_store_n((uint32_t *)(void *)(cqe + 4), word, __ATOMIC_RELEASE);
	dq->cq_tail = (dq->cq_tail + 1) & dq->mask;
	if (dq->cq_tail == 0)
		dq->phase ^= DSIM_CQE_F_PHASE;
	/* CQ_TAIL is published at the end of the pass, in dsim_queue_irqs(). */
	if (!(how & DSIM_POST_NO_IRQ))
		dq->irq_pending++;
	dq->posted = true;
	d->irq_queues |= 1u << q;
	dsim_stat_add(d->regs, DSIM_STAT_COMPLETED, 1);
	if (c.status != DSIM_SC_SUCCESS)
		dsim_stat_add(d->regs, DSIM_STAT_ERRORS, 1);
	if (c.status == DSIM_SC_ABORTED)
		dsim_stat_add(d->regs, DSIM_STAT_ABORTS, 1);
}

bool dsim_cq_room(struct dsim_dev *d, unsigned q)
{
	struct dsim_queue *dq = &d->q[q];
	uint32_t used = (dq->cq_tail - dsim_qrd32(d->regs, q, DSIM_Q_CQ_HEAD)) & dq->mask;
	return used + dq->inflight < dq->mask;
}

void dsim_req_retire(struct dsim_dev *d, struct dsim_req *r)
{
	d->q[r->qid].inflight--;
	req_free(d, r);
}

void dsim_complete(struct dsim_dev *d, struct dsim_req *r, unsigned status, uint16_t flags,
		   uint32_t result)
{
	if (__builtin_expect(r->fault.kinds != 0, 0)) {
		dsim_fault_post(d, r, status, flags, result);
		return;
	}
	struct dsim_cqe c = {
		.tag = r->sqe.tag, .status = (uint16_t)status, .flags = flags, .result = result
	};
	dsim_cqe_post(d, r->qid, c, 0);
	dsim_req_retire(d, r);
}

static void raise_irq(struct dsim_dev *d, struct dsim_queue *dq)
{
	dq->irq_pending = 0;
	dq->irq_deadline = 0;
	uint64_t one = 1;
	if (d->irq_fd[dq->vector] >= 0 && write(d->irq_fd[dq->vector], &one, sizeof(one)) > 0)
		dsim_stat_add(d->regs, DSIM_STAT_INTERRUPTS, 1);
}

/* The CQE stores are done; a full fence orders them before the mask read. */
static bool masked(struct dsim_dev *d, unsigned q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return dsim_qrd32(d->regs, q, DSIM_Q_IRQ_MASK) != 0;
}

uint64_t dsim_queue_irqs(struct dsim_dev *d, uint64_t now)
{
	uint64_t next = 0;
	for (uint32_t m = d->irq_queues; m; m &= m - 1) {
		unsigned q = (unsigned)__builtin_ctz(m);
		struct dsim_queue *dq = &d->q[q];
		if (dq->posted)
			dsim_qwr32(d->regs, q, DSIM_Q_CQ_TAIL, dq->cq_tail);
		if (!dq->enabled || dq->error || !dq->irq_pending) {
			dq->posted = false;
			d->irq_queues &= ~(1u << q);
			continue;
		}
		bool due = dq->irq_deadline && now >= dq->irq_deadline;
		if (dq->posted) {
			dq->posted = false;
			uint32_t count = dsim_qrd32(d->regs, q, DSIM_Q_COAL_COUNT);
			uint32_t usec = dsim_qrd32(d->regs, q, DSIM_Q_COAL_USEC);
			if (count <= 1 || dq->irq_pending >= count ||
			    (usec == 0 && dq->in_service == 0))
				due = true;
			else if (usec && !dq->irq_deadline)
				dq->irq_deadline = now + (uint64_t)usec * 1000u;
		}
		if ((due || dq->irq_deadline) && masked(d, q)) {
			/* The driver polls: it sees these CQEs without an interrupt. */
			dq->irq_pending = 0;
			dq->irq_deadline = 0;
		} else if (due) {
			raise_irq(d, dq);
		} else if (dq->irq_deadline && (!next || dq->irq_deadline < next)) {
			next = dq->irq_deadline;
		}
		if (!dq->irq_pending)
			d->irq_queues &= ~(1u << q);
	}
	return next;
}

void dsim_queue_drop(struct dsim_dev *d, int q)
{
	/* Every request in use is counted in its queue's inflight: stop when all are found. */
	uint32_t held = 0;
	for (unsigned i = 0; i < DSIM_MAX_QUEUES; i++)
		if (q < 0 || i == (unsigned)q)
			held += d->q[i].inflight;
	for (unsigned i = 0; held && i < DSIM_REQ_POOL; i++) {
		struct dsim_req *r = &d->reqs[i];
		if (!r->in_use || (q >= 0 && r->qid != (unsigned)q))
			continue;
		if (r->parked)
			dsim_event_unpark(d, r);
		else if (r->heap_idx >= 0)
			dsim_heap_remove(d, r);
		req_free(d, r);
		held--;
	}
	for (unsigned i = 0; i < DSIM_MAX_QUEUES; i++) {
		if (q >= 0 && i != (unsigned)q)
			continue;
		d->q[i].inflight = 0;
		d->q[i].in_service = 0;
		d->q[i].irq_pending = 0;
		d->q[i].irq_deadline = 0;
	}
}
