/* SPDX-License-Identifier: MIT */
/*
 * drv_submit: argument checks, mapping of the request's memory to bus
 * segments (bounce copy for plain memory, the buffer's own bus addresses
 * for direct I/O), posting to the device and one doorbell per batch.
 */
#include <string.h>

#include "dev/devdrv.h"
#include "drv/driver.h"
#include "queue/queue.h"

static bool takes_data(uint8_t op)
{
	return op == DRV_OP_READ || op == DRV_OP_WRITE || op == DRV_OP_CONTROL ||
	       op == DRV_OP_WAIT_EVENT;
}

/* A range of a DMA buffer the caller still owns. */
static int check_buf_range(const drv_buf *buf, size_t off, size_t len)
{
	if (drvi_buf_is_freed(buf))
		return drv_fail(-EINVAL, "the request names a drv_buf that was freed with "
					 "drv_buf_free: allocate a new one");
	if (off > buf->len || len > buf->len - off)
		return drv_fail(-EINVAL, "range [%zu, +%zu) is outside the %zu-byte buffer", off,
				len, buf->len);
	return 0;
}

static int validate_sgl(const drv_queue *q, const struct drv_req *r)
{
	if (r->nsge == 0)
		return drv_fail(-EINVAL, "request has an SG list with 0 entries");
	if (r->nsge > q->max_sg)
		return drv_fail(-E2BIG, "SG list of %u entries: the device takes at most %u",
				r->nsge, q->max_sg);
	size_t total = 0;
	for (unsigned i = 0; i < r->nsge; i++) {
		const struct drv_sge *e = &r->sgl[i];
		if (!e->buf || e->len == 0)
			return drv_fail(
			    -EINVAL, "SG entry %u: needs a buffer and a non-empty range inside it",
			    i);
		int err = check_buf_range(e->buf, e->off, e->len);
		if (err)
			return err;
		total += e->len;
	}
	if (total != r->len)
		return drv_fail(-EINVAL, "SG list covers %zu bytes but the request's len is %zu",
				total, r->len);
	return 0;
}

/* Bounce memory a request needs: plain-memory data and CONTROL input. */
static size_t bounce_bytes(const struct drv_req *r)
{
	size_t data = r->len && r->data ? r->len : 0;
	if (!data && !r->in_len)
		return 0; /* NOP, FLUSH and direct I/O: the common case */
	return drvi_bounce_chunk_round(data) + drvi_bounce_chunk_round(r->in_len);
}

/*
 * The common request: NOP or FLUSH with nothing attached, or READ/WRITE of
 * a range of one DMA buffer; no flags, SG list, plain memory or input.
 * Checked first so the common path skips what only other requests need.
 */
static bool plain_request(const struct drv_req *r)
{
	if (r->flags || r->nsge || r->sgl || r->data || r->in || r->in_len)
		return false;
	if (r->op == DRV_OP_NOP || r->op == DRV_OP_FLUSH)
		return !r->len && !r->buf;
	return (r->op == DRV_OP_READ || r->op == DRV_OP_WRITE) && r->len && r->buf;
}

/* Why check_storage_range refused r: the message, apart from the hot path. */
static __attribute__((cold, noinline)) int storage_range_error(const struct drv_info *info,
							       const struct drv_req *r)
{
	if (r->offset >= info->capacity || r->len > info->capacity - r->offset)
		return drv_fail(-ERANGE, "%s of [%llu, +%zu) is past the device's %llu bytes",
				r->op == DRV_OP_READ ? "READ" : "WRITE",
				(unsigned long long)r->offset, r->len,
				(unsigned long long)info->capacity);
	return drv_fail(-EINVAL,
			"the device transfers whole blocks of %u bytes: offset %llu and "
			"length %zu must be multiples of it",
			info->block_size, (unsigned long long)r->offset, r->len);
}

/*
 * READ/WRITE on a storage device: inside the capacity (nothing is written
 * otherwise), in whole blocks. Checked here so every driver answers alike.
 */
static inline int check_storage_range(const struct drv_info *info, const struct drv_req *r)
{
	if (!(info->features & DRV_FEAT_STORAGE) || (r->op != DRV_OP_READ && r->op != DRV_OP_WRITE))
		return 0;
	bool outside = r->offset >= info->capacity || r->len > info->capacity - r->offset;
	bool partial =
	    info->block_size > 1 && (r->offset % info->block_size || r->len % info->block_size);
	return outside || partial ? storage_range_error(info, r) : 0;
}

/* validate() for a plain request: only its size and ranges are left to check. */
static int validate_plain(const drv_queue *q, const struct drv_req *r)
{
	if (!r->len)
		return 0;
	if (r->len > q->dev->info.max_transfer)
		return drv_fail(-E2BIG, "request of %zu bytes: the device moves at most %u", r->len,
				q->dev->info.max_transfer);
	int err = check_storage_range(&q->dev->info, r);
	return err ? err : check_buf_range(r->buf, r->buf_off, r->len);
}

/* Checks everything about a request that does not depend on free resources. */
static int validate(const drv_queue *q, const struct drv_req *r)
{
	const struct drv_info *info = &q->dev->info;
	if (r->op > DRV_OP_WAIT_EVENT)
		return drv_fail(-EOPNOTSUPP, "unknown request op %u", r->op);
	if (r->op == DRV_OP_WAIT_EVENT && !(info->features & DRV_FEAT_EVENTS))
		return drv_fail(-EOPNOTSUPP, "device %s has no events: WAIT_EVENT unsupported",
				info->driver);
	if (r->flags)
		return drv_fail(-EINVAL, "request flags must be 0");
	int kinds = (r->data != NULL) + (r->buf != NULL) + (r->sgl != NULL);
	if (!takes_data(r->op)) {
		if (r->len || kinds)
			return drv_fail(-EINVAL, "NOP and FLUSH requests carry no data");
	} else if (r->len == 0) {
		if (r->op == DRV_OP_READ || r->op == DRV_OP_WRITE)
			return drv_fail(-EINVAL, "READ/WRITE of 0 bytes: give data and len");
	} else if (kinds != 1) {
		return drv_fail(-EINVAL, "request needs exactly one of data, buf or sgl (has %d)",
				kinds);
	}
	if (r->len > info->max_transfer)
		return drv_fail(-E2BIG, "request of %zu bytes: the device moves at most %u", r->len,
				info->max_transfer);
	int range = check_storage_range(info, r);
	if (range)
		return range;
	if (r->len && r->buf) {
		int err = check_buf_range(r->buf, r->buf_off, r->len);
		if (err)
			return err;
	}
	if (r->len && r->sgl) {
		int err = validate_sgl(q, r);
		if (err)
			return err;
	}
	if (r->in_len || r->in) {
		if (r->op != DRV_OP_CONTROL || !r->in || !r->in_len)
			return drv_fail(
			    -EINVAL, "input (in, in_len) is for CONTROL requests, and needs both: "
				     "in = NULL, in_len = 0 for none");
		if (r->in_len > info->max_transfer)
			return drv_fail(-E2BIG, "control input of %zu bytes: at most %u", r->in_len,
					info->max_transfer);
	}
	size_t bounce = bounce_bytes(r);
	if (bounce && bounce > drvi_bounce_capacity(q))
		return drv_fail(-E2BIG,
				"request needs %zu bytes of bounce memory, the queue has %zu: "
				"use a drv_buf or a larger bounce_bytes",
				bounce, drvi_bounce_capacity(q));
	return 0;
}

static int add_segments(drv_queue *q, struct drv_slot *s, const drv_buf *buf, size_t off,
			size_t len)
{
	int n = drvi_dma_segments(buf, off, len, s->seg + s->r.nseg, q->max_sg - s->r.nseg);
	if (n < 0)
		return drv_fail(-E2BIG, "buffer splits into more than %u bus segments", q->max_sg);
	/* Merge across SG entries when the device sees one run. */
	if (s->r.nseg && n) {
		struct drv_seg *prev = &s->seg[s->r.nseg - 1];
		struct drv_seg *first = &s->seg[s->r.nseg];
		if (prev->bus + prev->len == first->bus &&
		    (uint64_t)prev->len + first->len <= UINT32_MAX) {
			prev->len += first->len;
			memmove(first, first + 1, (size_t)(n - 1) * sizeof(*first));
			n--;
		}
	}
	s->r.nseg += (unsigned)n;
	return 0;
}

/* Maps the request's memory into the slot. -EAGAIN: no bounce memory now. */
static int map(drv_queue *q, struct drv_slot *s, struct drv_req *r)
{
	size_t need = bounce_bytes(r);
	size_t data_bytes = need && r->len && r->data ? drvi_bounce_chunk_round(r->len) : 0;
	if (need) {
		s->bounce_off = drvi_bounce_alloc(q, need);
		if (s->bounce_off == SIZE_MAX)
			return -EAGAIN;
		s->bounce_len = need;
	}
	int err = 0;
	if (r->len && r->data) {
		s->bounce_va = (char *)q->bounce.va + s->bounce_off;
		s->r.cpu = s->bounce_va;
		if (r->op == DRV_OP_WRITE)
			memcpy(s->bounce_va, r->data, r->len);
		err = add_segments(q, s, &q->bounce, s->bounce_off, r->len);
	} else if (r->len && r->buf) {
		err = add_segments(q, s, r->buf, r->buf_off, r->len);
		s->r.cpu = (char *)r->buf->va + r->buf_off;
		drvi_buf_get(r->buf);
		s->bufs[s->nbufs++] = r->buf;
	} else if (r->len) {
		if (r->nsge == 1)
			s->r.cpu = (char *)r->sgl[0].buf->va + r->sgl[0].off;
		for (unsigned i = 0; i < r->nsge && !err; i++) {
			err = add_segments(q, s, r->sgl[i].buf, r->sgl[i].off, r->sgl[i].len);
			drvi_buf_get(r->sgl[i].buf);
			s->bufs[s->nbufs++] = r->sgl[i].buf;
		}
	}
	if (!err && r->in_len) {
		size_t off = s->bounce_off + data_bytes;
		memcpy((char *)q->bounce.va + off, r->in, r->in_len);
		struct drv_seg in[1];
		if (drvi_dma_segments(&q->bounce, off, r->in_len, in, 1) != 1)
			err = drv_fail(-E2BIG, "control input of %zu bytes is not bus-contiguous",
				       r->in_len);
		else
			s->r.in = in[0];
		s->r.in_cpu = (char *)q->bounce.va + off;
	}
	return err;
}

/* map() for a plain request: at most one DMA buffer, never bounce memory. */
static int map_plain(drv_queue *q, struct drv_slot *s, struct drv_req *r)
{
	if (!r->buf)
		return 0;
	int err = add_segments(q, s, r->buf, r->buf_off, r->len);
	s->r.cpu = (char *)r->buf->va + r->buf_off;
	drvi_buf_get(r->buf);
	s->bufs[s->nbufs++] = r->buf;
	return err;
}

static void fail_request(drv_queue *q, struct drv_req *r, int err)
{
	r->submit_ns = drvi_queue_clock(q);
	r->priv.q = q;
	drvi_req_finish(q, r, err, 0, 0);
}

/* Returns 1 when posted, 0 when the queue is out of room, -1 when failed. */
/* Out of line: most requests have no deadline. */
static __attribute__((noinline)) void set_deadline(drv_queue *q, struct drv_req *r, uint64_t now,
						   uint64_t default_timeout)
{
	/* A parked event request waits for its event, however long: no default for it. */
	uint64_t timeout = r->timeout_ns;
	if (!timeout && r->op != DRV_OP_WAIT_EVENT)
		timeout = default_timeout;
	if (!timeout)
		return;
	/* Saturates: a timeout past the clock's range never expires. */
	r->priv.deadline_ns = timeout > UINT64_MAX - now ? UINT64_MAX : now + timeout;
	drvi_queue_note_deadline(q, r->priv.deadline_ns);
}

static int submit_one(drv_queue *q, struct drv_req *r, uint64_t now, uint64_t default_timeout)
{
	bool plain = plain_request(r);
	int err = plain ? validate_plain(q, r) : validate(q, r);
	if (err) {
		fail_request(q, r, err);
		return -1;
	}
	struct drv_slot *s = drvi_slot_take(q);
	if (!s)
		return 0;
	s->req = r;
	s->r.op = r->op;
	s->r.code = r->code;
	s->r.offset = r->offset;
	s->r.arg[0] = r->arg[0];
	s->r.arg[1] = r->arg[1];
	s->r.len = (uint32_t)r->len;
	s->r.cpu = NULL;
	s->state = DRV_SLOT_INFLIGHT;
	q->active++;
	err = plain ? map_plain(q, s, r) : map(q, s, r);
	if (!err)
		err = q->dev->ops->post(q, &s->r);
	if (err) {
		drvi_slot_release(q, s);
		if (err == -EAGAIN)
			return 0;
		fail_request(q, r, err);
		return -1;
	}
	q->posted++;
	r->result = 0;
	r->result_flags = 0;
	r->complete_ns = 0;
	r->submit_ns = now;
	r->priv.q = q;
	r->priv.slot = drv_tag_index(s->r.tag);
	r->priv.state = DRV_REQ_PENDING;
	r->priv.deadline_ns = 0;
	if (r->timeout_ns || default_timeout)
		set_deadline(q, r, now, default_timeout);
	__atomic_store_n(&r->status, -EINPROGRESS, __ATOMIC_RELEASE);
	q->stats.submitted++;
	return 1;
}

/* A request the caller may hand in: not pending, and not someone else's. */
static int check_reusable(drv_queue *q, struct drv_req *r)
{
	if (!r)
		return drv_fail(-EINVAL, "NULL request");
	if (r->priv.state == DRV_REQ_IDLE)
		return 0;
	if (r->priv.q != q)
		return drv_fail(-EINVAL, "request is still owned by another queue");
	if (r->priv.state == DRV_REQ_DONE) {
		drvi_req_deliver(q, r);
		return 0;
	}
	return drv_fail(-EBUSY, "request is already pending: wait for it before resubmitting");
}

DRV_API int drv_submit(drv_queue *q, struct drv_req *const reqs[], unsigned n)
{
	if (!q || (!reqs && n))
		return drv_fail(-EINVAL, "drv_submit: NULL queue or request array");
	drvi_queue_enter(q);
	pthread_mutex_lock(&q->lock);
	if (q->failed && drvi_dev_reset_wanted(q->dev)) {
		/* Recovery resets a failed device before refusing its work; it takes every lock. */
		pthread_mutex_unlock(&q->lock);
		drvi_dev_recover(q->dev);
		pthread_mutex_lock(&q->lock);
	}
	int count = 0;
	int err = 0;
	/* A fatal error another queue saw reaches this one when it next processes. */
	if (q->failed || __atomic_load_n(&q->dev->dead, __ATOMIC_ACQUIRE))
		err = drvi_refusal(q->failed ? q->fail_status : -ENODEV);
	if (!err && q->phase != DRV_QUEUE_OPEN)
		err = drv_fail(-ESHUTDOWN, "the queue is being destroyed (drv_queue_destroy or "
					   "drv_close): submit nothing more to it");
	drvi_clock_batch_open(q);
	/* One clock read for the batch; failed requests share it too. */
	uint64_t now = n && !err ? drvi_queue_clock(q) : 0;
	uint64_t default_timeout =
	    __atomic_load_n(&q->dev->health.request_timeout_ns, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < n && !err; i++) {
		err = check_reusable(q, reqs[i]);
		if (err)
			break;
		int rc = submit_one(q, reqs[i], now, default_timeout);
		if (rc == 0)
			break;
		count++;
		if (rc < 0) {
			drvi_queue_signal(q);
			break;
		}
	}
	drvi_clock_batch_close(q);
	if (q->posted) {
		q->stats.kicks += q->dev->ops->commit(q);
		q->posted = 0;
	}
	drvi_queue_timer_sync(q);
	drvi_queue_run_callbacks(q);
	bool quarantine_only = q->active == 0 && q->stats.quarantined;
	drvi_queue_leave(q);
	pthread_mutex_unlock(&q->lock);
	if (count)
		return count;
	if (err)
		return err;
	if (n == 0)
		return 0;
	if (quarantine_only)
		return drv_fail(-EAGAIN,
				"queue is full of timed-out requests the device has not "
				"returned (quarantined): drv_reap waits until it returns one");
	return drv_fail(-EAGAIN, "queue is full: wait for or reap completions, then retry");
}
