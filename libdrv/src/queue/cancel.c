/* SPDX-License-Identifier: MIT */
/*
 * Getting requests back early: per-request deadlines, cancellation, and
 * failing everything when the device is gone. A request delivered before
 * the device returned its slot leaves the slot QUARANTINED: its bounce
 * memory and buffers stay out of reach until the device gives the tag back
 * or is reset, so nothing it may still write is ever reused.
 */
#include "dev/devdrv.h"
#include "drv/driver.h"
#include "queue/queue.h"

void drvi_queue_note_deadline(drv_queue *q, uint64_t deadline)
{
	if (deadline < q->next_deadline_ns) {
		q->next_deadline_ns = deadline;
		/* A sleeper computed its wake-up time without this one. */
		drvi_queue_signal(q);
	}
}

int drvi_slot_abort(drv_queue *q, struct drv_slot *s)
{
	/* A driver without abort: the request completes when the device finishes it. */
	if (drvi_queue_quiet(q) || !q->dev->ops->abort)
		return 0;
	int err = q->dev->ops->abort(q, &s->r);
	if (err == -EAGAIN) {
		if (!s->abort_deferred) {
			s->abort_deferred = true;
			q->aborts_deferred++;
		}
		return 0;
	}
	return err == -EOPNOTSUPP ? 0 : err;
}

void drvi_slot_abort_forget(drv_queue *q, struct drv_slot *s)
{
	s->abort_deferred = false;
	q->aborts_deferred--;
}

/* After a reap: completions made room in the device for aborts it refused. */
void drvi_queue_resend_aborts(drv_queue *q)
{
	for (unsigned i = 0; i < q->depth && q->aborts_deferred && !drvi_queue_quiet(q); i++) {
		struct drv_slot *s = &q->slots[i];
		if (!s->abort_deferred)
			continue;
		int err = q->dev->ops->abort(q, &s->r);
		if (err == -EAGAIN)
			return;
		drvi_slot_abort_forget(q, s);
		if (err < 0 && err != -EOPNOTSUPP)
			drvi_queue_dev_error(q, err);
	}
}

/* Delivers the slot's request now with status; the slot waits for the device. */
static void quarantine(drv_queue *q, struct drv_slot *s, int status)
{
	struct drv_req *req = s->req;
	if (s->state != DRV_SLOT_QUARANTINED) {
		q->active--;
		s->held_since = drvi_queue_clock(q);
		if (q->stats.quarantined++ == 0)
			q->held_oldest = s->held_since;
		drvi_health_quarantine(q->dev, 1);
	}
	s->state = DRV_SLOT_QUARANTINED;
	s->req = NULL;
	q->stats.completed++;
	drvi_req_finish(q, req, status, 0, 0);
}

void drvi_queue_expire(drv_queue *q, uint64_t now)
{
	if (now < q->next_deadline_ns)
		return;
	uint64_t next = UINT64_MAX;
	for (unsigned i = 0; i < q->depth; i++) {
		struct drv_slot *s = &q->slots[i];
		if (!s->req || (s->state != DRV_SLOT_INFLIGHT && s->state != DRV_SLOT_ABORTING))
			continue;
		uint64_t d = s->req->priv.deadline_ns;
		if (!d)
			continue;
		if (d > now) {
			next = d < next ? d : next;
			continue;
		}
		bool aborting = s->state == DRV_SLOT_ABORTING;
		quarantine(q, s, -ETIMEDOUT);
		q->stats.timed_out++;
		if (!aborting)
			(void)drvi_slot_abort(q, s);
	}
	q->next_deadline_ns = next;
	drvi_queue_signal(q);
}

void drvi_queue_unhold(drv_queue *q, uint64_t held_since)
{
	q->stats.quarantined--;
	q->quarantine_returned++;
	if (q->stats.quarantined == 0)
		q->held_oldest = UINT64_MAX;
	else if (held_since == q->held_oldest)
		q->held_oldest = drvi_queue_oldest_held(q);
	drvi_health_quarantine(q->dev, -1);
}

void drvi_queue_release_slots(drv_queue *q)
{
	for (unsigned i = 0; i < q->depth; i++)
		if (q->slots[i].state != DRV_SLOT_FREE)
			drvi_slot_release(q, &q->slots[i]);
}

void drvi_queue_fail_all(drv_queue *q, int status)
{
	for (unsigned i = 0; i < q->depth; i++) {
		struct drv_slot *s = &q->slots[i];
		if (s->req && (s->state == DRV_SLOT_INFLIGHT || s->state == DRV_SLOT_ABORTING))
			quarantine(q, s, status);
	}
	q->next_deadline_ns = UINT64_MAX;
	drvi_queue_signal(q);
}

static int cancel_locked(drv_queue *q, struct drv_req *req)
{
	if (!req || req->priv.q != q || req->priv.state != DRV_REQ_PENDING)
		return -ENOENT;
	struct drv_slot *s = &q->slots[req->priv.slot];
	if (s->state != DRV_SLOT_INFLIGHT)
		return 0;
	s->state = DRV_SLOT_ABORTING;
	return drvi_slot_abort(q, s);
}

/* A driver may complete a cancelled request at once (edu, for a queued one). */
static void after_cancel(drv_queue *q, uint64_t before)
{
	if (q->progress == before)
		return;
	drvi_queue_signal(q);
	drvi_queue_run_callbacks(q);
}

DRV_API int drv_cancel(drv_queue *q, struct drv_req *req)
{
	if (!q)
		return drv_fail(-EINVAL, "drv_cancel: NULL queue");
	drvi_queue_enter(q);
	pthread_mutex_lock(&q->lock);
	uint64_t before = q->progress;
	int err = cancel_locked(q, req);
	after_cancel(q, before);
	drvi_queue_leave(q);
	pthread_mutex_unlock(&q->lock);
	if (err == -ENOENT)
		return drv_fail(-ENOENT, "request is not pending on this queue");
	if (err < 0)
		return drv_fail(err, "the device did not accept the abort");
	return 0;
}

DRV_API int drv_cancel_all(drv_queue *q)
{
	if (!q)
		return drv_fail(-EINVAL, "drv_cancel_all: NULL queue");
	drvi_queue_enter(q);
	pthread_mutex_lock(&q->lock);
	uint64_t before = q->progress;
	int pending = 0;
	for (unsigned i = 0; i < q->depth; i++) {
		struct drv_slot *s = &q->slots[i];
		if (!s->req || (s->state != DRV_SLOT_INFLIGHT && s->state != DRV_SLOT_ABORTING))
			continue;
		pending++;
		(void)cancel_locked(q, s->req);
	}
	after_cancel(q, before);
	drvi_queue_leave(q);
	pthread_mutex_unlock(&q->lock);
	return pending;
}
