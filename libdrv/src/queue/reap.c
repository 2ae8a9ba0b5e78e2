/* SPDX-License-Identifier: MIT */
/*
 * Delivering completions to the caller: wait for one, any or all of a set,
 * reap in batches, or test without blocking. A finished request is
 * delivered exactly once; delivery takes it off the done list.
 */
#include "dev/devdrv.h"
#include "drv/driver.h"
#include "queue/queue.h"

static bool finished(const struct drv_req *r)
{
	return r->priv.state != DRV_REQ_PENDING;
}

/* A request may be waited for on q if it is not pending elsewhere. */
static int check_owner(drv_queue *q, const struct drv_req *r)
{
	if (!r)
		return drv_fail(-EINVAL, "NULL request");
	if (r->priv.state != DRV_REQ_IDLE && r->priv.q != q)
		return drv_fail(-EINVAL, "request belongs to another queue");
	return 0;
}

static bool one_done(drv_queue *q, void *arg)
{
	(void)q;
	return finished(arg);
}

DRV_API int drv_wait(drv_queue *q, struct drv_req *req, int64_t timeout_ns)
{
	if (!q)
		return drv_fail(-EINVAL, "drv_wait: NULL queue");
	drvi_queue_enter(q);
	pthread_mutex_lock(&q->lock);
	int err = check_owner(q, req);
	if (!err)
		err = drvi_queue_wait_until(q, one_done, req, drvi_deadline(timeout_ns));
	if (!err)
		drvi_req_deliver(q, req);
	drvi_queue_leave(q);
	pthread_mutex_unlock(&q->lock);
	if (err == -ETIMEDOUT)
		return drv_fail(err, "request still pending when the wait timed out");
	return err;
}

struct set {
	struct drv_req *const *reqs;
	unsigned n;
	int found;
};

static bool any_done(drv_queue *q, void *arg)
{
	(void)q;
	struct set *s = arg;
	for (unsigned i = 0; i < s->n; i++) {
		if (finished(s->reqs[i])) {
			s->found = (int)i;
			return true;
		}
	}
	return false;
}

static bool all_done(drv_queue *q, void *arg)
{
	(void)q;
	struct set *s = arg;
	for (unsigned i = 0; i < s->n; i++)
		if (!finished(s->reqs[i]))
			return false;
	return true;
}

static int check_set(drv_queue *q, struct drv_req *const reqs[], unsigned n)
{
	if (!q || !reqs || n == 0)
		return drv_fail(-EINVAL, "wait for a set: needs a queue and at least one request");
	for (unsigned i = 0; i < n; i++) {
		int err = check_owner(q, reqs[i]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Waits until any (or all) of the set finished, then delivers what the caller is
 * told about: the one request found (any) or all of them (all).
 */
static int wait_set(drv_queue *q, struct drv_req *const reqs[], unsigned n, int64_t timeout_ns,
		    bool all)
{
	uint64_t deadline = drvi_deadline(timeout_ns);
	if (!q)
		return check_set(q, reqs, n);
	drvi_queue_enter(q);
	pthread_mutex_lock(&q->lock);
	struct set s = { reqs, n, -1 };
	int err = check_set(q, reqs, n);
	if (!err)
		err = drvi_queue_wait_until(q, all ? all_done : any_done, &s, deadline);
	if (!err && all) {
		for (unsigned i = 0; i < n; i++)
			drvi_req_deliver(q, reqs[i]);
	} else if (!err) {
		drvi_req_deliver(q, reqs[s.found]);
		err = s.found;
	}
	drvi_queue_leave(q);
	pthread_mutex_unlock(&q->lock);
	if (err == -ETIMEDOUT)
		return drv_fail(err, "%s of the %u requests finished before the timeout",
				all ? "not all" : "none", n);
	return err;
}

DRV_API int drv_wait_any(drv_queue *q, struct drv_req *const reqs[], unsigned n, int64_t timeout_ns)
{
	return wait_set(q, reqs, n, timeout_ns, false);
}

DRV_API int drv_wait_all(drv_queue *q, struct drv_req *const reqs[], unsigned n, int64_t timeout_ns)
{
	return wait_set(q, reqs, n, timeout_ns, true);
}

struct reap_goal {
	unsigned want;
	uint64_t returned; /* q->quarantine_returned when the wait began */
};

static bool enough_done(drv_queue *q, void *arg)
{
	const struct reap_goal *g = arg;
	/*
	 * With nothing in flight no more can arrive: do not wait for them. But
	 * a caller whose submit was refused because every slot is quarantined
	 * waits until the device gives one back, instead of spinning.
	 */
	return q->ndone >= g->want || drvi_queue_settled(q, g->returned);
}

DRV_API int drv_reap(drv_queue *q, struct drv_req **out, unsigned max, unsigned min_complete,
		     int64_t timeout_ns)
{
	if (!q || (!out && max))
		return drv_fail(-EINVAL, "drv_reap: NULL queue or output array");
	uint64_t deadline = drvi_deadline(timeout_ns);
	struct reap_goal goal = { min_complete < max ? min_complete : max, 0 };
	drvi_queue_enter(q);
	pthread_mutex_lock(&q->lock);
	goal.returned = q->quarantine_returned;
	int err = drvi_queue_wait_until(q, enough_done, &goal, deadline);
	unsigned n = drvi_req_deliver_head(q, out, max);
	drvi_queue_leave(q);
	pthread_mutex_unlock(&q->lock);
	if (n == 0 && err == -ETIMEDOUT && goal.want)
		drv_fail(err, "no completion arrived before the timeout");
	return (int)n;
}

DRV_API int drv_test(drv_queue *q, struct drv_req *req)
{
	if (!q)
		return drv_fail(-EINVAL, "drv_test: NULL queue");
	drvi_queue_enter(q);
	pthread_mutex_lock(&q->lock);
	int err = check_owner(q, req);
	if (!err)
		err = drvi_queue_wait_until(q, one_done, req, 0);
	if (!err)
		drvi_req_deliver(q, req);
	drvi_queue_leave(q);
	pthread_mutex_unlock(&q->lock);
	return err == -ETIMEDOUT ? -EINPROGRESS : err;
}
