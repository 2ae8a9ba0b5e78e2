/* SPDX-License-Identifier: MIT */
/*
 * Synchronous helpers: one request on the caller's stack, submitted and
 * waited for. When the queue is full they wait for room without taking
 * other threads' completions, and no other thread's drv_reap is handed
 * theirs (drvi_helper_mark).
 */
#include "dev/devdrv.h"
#include "drv/driver.h"
#include "queue/queue.h"

struct room_wait {
	uint64_t progress;
	uint64_t returned;
};

static bool progressed(drv_queue *q, void *arg)
{
	const struct room_wait *w = arg;
	return q->progress != w->progress || drvi_queue_settled(q, w->returned);
}

/* Between the submit and the wait this thread is still inside q. */
static int64_t run_inside(drv_queue *q, struct drv_req *r)
{
	struct drv_req *one[1] = { r };
	/*
	 * Only an accepted request is given a slot. Whether it finished by now
	 * would not tell: another thread's wait may already have completed it.
	 */
	r->priv.slot = UINT32_MAX;
	r->cb = drvi_helper_mark;
	int rc;
	while ((rc = drv_submit(q, one, 1)) == -EAGAIN) {
		pthread_mutex_lock(&q->lock);
		struct room_wait seen = { q->progress, q->quarantine_returned };
		(void)drvi_queue_wait_until(q, progressed, &seen, UINT64_MAX);
		pthread_mutex_unlock(&q->lock);
	}
	if (rc < 0)
		return rc;
	/* A request refused by drv_submit keeps the message it was refused with. */
	bool refused = r->priv.slot == UINT32_MAX;
	rc = drv_wait(q, r, -1);
	if (rc < 0)
		return rc;
	static const char *const names[] = { "NOP",   "READ",    "WRITE",
					     "FLUSH", "CONTROL", "WAIT_EVENT" };
	if (r->status < 0 && !refused)
		return drv_fail_errno(r->status, "%s request failed", names[r->op]);
	if (r->status < 0)
		return r->status;
	return (int64_t)r->result;
}

static int64_t run(drv_queue *q, struct drv_req *r)
{
	if (!q)
		return drv_fail(-EINVAL, "NULL queue");
	drvi_queue_enter(q);
	int64_t rc = run_inside(q, r);
	pthread_mutex_lock(&q->lock);
	drvi_queue_leave(q);
	pthread_mutex_unlock(&q->lock);
	return rc;
}

DRV_API int64_t drv_read(drv_queue *q, uint64_t offset, void *data, size_t len)
{
	struct drv_req r;
	drv_prep_read(&r, offset, data, len);
	return run(q, &r);
}

DRV_API int64_t drv_write(drv_queue *q, uint64_t offset, const void *data, size_t len)
{
	struct drv_req r;
	drv_prep_write(&r, offset, data, len);
	return run(q, &r);
}

DRV_API int drv_flush(drv_queue *q)
{
	struct drv_req r;
	drv_prep_flush(&r);
	int64_t rc = run(q, &r);
	return rc < 0 ? (int)rc : 0;
}

DRV_API int64_t drv_control(drv_queue *q, uint32_t code, const void *in, size_t in_len, void *out,
			    size_t out_len)
{
	struct drv_req r;
	drv_prep_control(&r, code, in, in_len, out, out_len);
	return run(q, &r);
}

DRV_API int64_t drv_wait_event(drv_queue *q, void *data, size_t len, int64_t timeout_ns)
{
	struct drv_req r;
	drv_prep_wait_event(&r, data, len);
	/* The request's own deadline: past it the device is told to drop it. */
	if (timeout_ns >= 0)
		r.timeout_ns = timeout_ns > 1000000 ? (uint64_t)timeout_ns : 1000000;
	return run(q, &r);
}
