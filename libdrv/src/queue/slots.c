/* SPDX-License-Identifier: MIT */
/*
 * The pending ring: a table of `depth` slots indexed by tag, a stack of
 * free slots, and the lists finished requests wait on until they are
 * delivered. drv_queue_complete() is the one door through which the
 * device's word about a request gets in, so it checks everything.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "dev/devdrv.h"
#include "drv/driver.h"
#include "queue/queue.h"

int drvi_slots_init(drv_queue *q)
{
	q->slots = calloc(q->depth, sizeof(*q->slots));
	q->segs = calloc((size_t)q->depth * q->max_sg, sizeof(*q->segs));
	q->slot_bufs = calloc((size_t)q->depth * q->max_sg, sizeof(*q->slot_bufs));
	q->free_slots = calloc(q->depth, sizeof(*q->free_slots));
	if (!q->slots || !q->segs || !q->slot_bufs || !q->free_slots)
		return drv_fail(-ENOMEM, "out of memory allocating a queue of depth %u", q->depth);
	for (unsigned i = 0; i < q->depth; i++) {
		struct drv_slot *s = &q->slots[i];
		s->gen = 1;
		s->seg = q->segs + (size_t)i * q->max_sg;
		s->r.seg = s->seg;
		s->bufs = q->slot_bufs + (size_t)i * q->max_sg;
		s->bounce_off = SIZE_MAX;
		/* Lowest slot on top of the stack: tags start at 0. */
		q->free_slots[i] = q->depth - 1 - i;
	}
	q->nfree = q->depth;
	return 0;
}

void drvi_slots_fini(drv_queue *q)
{
	free(q->slots);
	free(q->segs);
	free(q->slot_bufs);
	free(q->free_slots);
	q->slots = NULL;
	q->segs = NULL;
	q->slot_bufs = NULL;
	q->free_slots = NULL;
}

/* Bounce memory, buffer references and CONTROL input: what only some requests hold. */
static void release_extras(drv_queue *q, struct drv_slot *s)
{
	if (s->bounce_off != SIZE_MAX) {
		drvi_bounce_free(q, s->bounce_off, s->bounce_len);
		s->bounce_off = SIZE_MAX;
		s->bounce_len = 0;
		s->bounce_va = NULL;
	}
	for (unsigned i = 0; i < s->nbufs; i++)
		drvi_buf_put(s->bufs[i]);
	s->nbufs = 0;
	s->r.in = (struct drv_seg){ 0 };
	s->r.in_cpu = NULL;
}

/* Inlined into drv_queue_complete(), which runs it for every request. */
static inline void slot_release(drv_queue *q, struct drv_slot *s)
{
	if (s->bounce_off != SIZE_MAX || s->nbufs || s->r.in.len)
		release_extras(q, s);
	if (s->abort_deferred)
		drvi_slot_abort_forget(q, s);
	bool held = s->state == DRV_SLOT_QUARANTINED;
	if (!held && s->state != DRV_SLOT_FREE)
		q->active--;
	uint16_t gen = (uint16_t)(s->gen + 1);
	if (gen == 0 || gen == DRV_TAG_GEN_DRIVER)
		gen = 1;
	/* What submit does not overwrite; seg, bufs and hw are the slot's for good. */
	s->gen = gen;
	s->state = DRV_SLOT_FREE;
	s->req = NULL;
	s->r.nseg = 0;
	/* A slot is released only after drvi_slot_take() gave it a tag. */
	q->free_slots[q->nfree++] = drv_tag_index(s->r.tag);
	if (held)
		drvi_queue_unhold(q, s->held_since);
}

void drvi_slot_release(drv_queue *q, struct drv_slot *s)
{
	slot_release(q, s);
}

static void list_append(struct drv_req **head, struct drv_req **tail, struct drv_req *req)
{
	req->priv.next = NULL;
	req->priv.prev = *tail;
	if (*tail)
		(*tail)->priv.next = req;
	else
		*head = req;
	*tail = req;
}

static void list_remove(struct drv_req **head, struct drv_req **tail, struct drv_req *req)
{
	if (req->priv.prev)
		req->priv.prev->priv.next = req->priv.next;
	else
		*head = req->priv.next;
	if (req->priv.next)
		req->priv.next->priv.prev = req->priv.prev;
	else
		*tail = req->priv.prev;
	req->priv.next = req->priv.prev = NULL;
}

uint64_t drvi_queue_clock(drv_queue *q)
{
	if (!q->clock_batch)
		return drv_now_ns();
	if (!q->clock_ns)
		q->clock_ns = drv_now_ns();
	return q->clock_ns;
}

void drvi_clock_batch_open(drv_queue *q)
{
	q->clock_batch = true;
	q->clock_ns = 0;
}

void drvi_clock_batch_close(drv_queue *q)
{
	q->clock_batch = false;
}

void drvi_helper_mark(struct drv_req *req, void *user_data)
{
	(void)req;
	(void)user_data;
}

static inline void req_finish(drv_queue *q, struct drv_req *req, int status, uint64_t result,
			      uint32_t flags)
{
	req->result = result;
	req->result_flags = flags;
	req->complete_ns = drvi_queue_clock(q);
	if (__builtin_expect(req->cb != NULL, 0)) {
		if (req->cb == drvi_helper_mark) {
			/* Off the done list: another thread's drv_reap must not take it. */
			req->priv.state = DRV_REQ_DONE;
		} else {
			req->priv.state = DRV_REQ_CALLBACK;
			list_append(&q->cb_head, &q->cb_tail, req);
		}
	} else {
		req->priv.state = DRV_REQ_DONE;
		list_append(&q->done_head, &q->done_tail, req);
		q->ndone++;
	}
	q->progress++;
	__atomic_store_n(&req->status, status, __ATOMIC_RELEASE);
}

void drvi_req_finish(drv_queue *q, struct drv_req *req, int status, uint64_t result, uint32_t flags)
{
	req_finish(q, req, status, result, flags);
}

void drvi_req_deliver(drv_queue *q, struct drv_req *req)
{
	if (req->priv.state != DRV_REQ_DONE)
		return;
	req->priv.state = DRV_REQ_IDLE;
	if (req->cb) /* a helper's: on no list */
		return;
	list_remove(&q->done_head, &q->done_tail, req);
	q->ndone--;
}

unsigned drvi_req_deliver_head(drv_queue *q, struct drv_req **out, unsigned max)
{
	struct drv_req *req = q->done_head;
	unsigned n = 0;
	for (; n < max && req; n++) {
		struct drv_req *next = req->priv.next;
		req->priv.next = req->priv.prev = NULL;
		req->priv.state = DRV_REQ_IDLE;
		out[n] = req;
		req = next;
	}
	q->done_head = req;
	if (req)
		req->priv.prev = NULL;
	else
		q->done_tail = NULL;
	q->ndone -= n;
	return n;
}

void drvi_queue_signal(drv_queue *q)
{
	if (q->waiters)
		pthread_cond_broadcast(&q->cond);
	if (q->fd_sleeping)
		eventfd_write(q->sw_fd, 1);
}

/* The queues whose callbacks this thread is running, innermost first. */
static _Thread_local const struct drv_cb_frame {
	const drv_queue *q;
	const struct drv_cb_frame *up;
} * cb_frames;

bool drvi_in_callback_of(const drv_queue *q, const drv_dev *dev)
{
	for (const struct drv_cb_frame *f = cb_frames; f; f = f->up)
		if (f->q == q || (dev && f->q->dev == dev))
			return true;
	return false;
}

void drvi_queue_run_callbacks(drv_queue *q)
{
	if (!q->cb_head)
		return;
	struct drv_cb_frame frame = { q, cb_frames };
	cb_frames = &frame;
	while (q->cb_head) {
		struct drv_req *req = q->cb_head;
		list_remove(&q->cb_head, &q->cb_tail, req);
		req->priv.state = DRV_REQ_IDLE;
		pthread_mutex_unlock(&q->lock);
		req->cb(req, req->user_data);
		pthread_mutex_lock(&q->lock);
	}
	cb_frames = frame.up;
}

static bool data_op(uint8_t op)
{
	return op == DRV_OP_READ || op == DRV_OP_WRITE || op == DRV_OP_WAIT_EVENT;
}

static void copy_out(const struct drv_slot *s, struct drv_req *req, uint64_t result)
{
	if (!s->bounce_va)
		return;
	size_t n = 0;
	if (s->r.op == DRV_OP_READ || s->r.op == DRV_OP_WAIT_EVENT)
		n = (size_t)result;
	else if (s->r.op == DRV_OP_CONTROL)
		n = s->r.len;
	if (n)
		memcpy(req->data, s->bounce_va, n);
}

/* Everything but a successful completion of an in-flight request. */
static __attribute__((noinline)) int complete_other(drv_queue *q, struct drv_slot *s, int status,
						    uint64_t result, uint32_t result_flags)
{
	bool bad_result = status == 0 && data_op(s->r.op) && result > s->r.len;
	if (bad_result) {
		q->stats.rejected++;
		status = -EPROTO;
	}
	struct drv_req *req = s->req;
	if (s->state == DRV_SLOT_QUARANTINED || !req) {
		/* Already delivered; the device has now let go of the memory. */
		slot_release(q, s);
		return bad_result ? -EPROTO : 0;
	}
	if (status == 0)
		copy_out(s, req, result);
	if (status == -ECANCELED)
		q->stats.cancelled++;
	slot_release(q, s);
	q->stats.completed++;
	req_finish(q, req, status, bad_result ? 0 : result, result_flags);
	return bad_result ? -EPROTO : 0;
}

DRV_API int drv_queue_complete(drv_queue *q, uint32_t tag, int status, uint64_t result,
			       uint32_t result_flags)
{
	uint32_t idx = drv_tag_index(tag);
	struct drv_slot *s = idx < q->depth ? &q->slots[idx] : NULL;
	if (!s || s->state == DRV_SLOT_FREE || s->r.tag != tag) {
		q->stats.rejected++;
		return -EPROTO;
	}
	/* The common case: success, in flight, nothing to copy back, result in range. */
	if (status || s->state != DRV_SLOT_INFLIGHT || s->bounce_va || result > s->r.len)
		return complete_other(q, s, status, result, result_flags);
	struct drv_req *req = s->req;
	slot_release(q, s);
	q->stats.completed++;
	req_finish(q, req, 0, result, result_flags);
	return 0;
}
