/* SPDX-License-Identifier: MIT */
/*
 * Teardown: drv_queue_destroy and drv_close with requests pending whose
 * callbacks call back into the queue (submit, test, wait on a neighbour,
 * destroy or close from inside), and with other threads blocked inside
 * the library (drv_wait, drv_reap, the sync helpers, a POLL spinner).
 * Everything pending ends exactly once, submits during teardown are
 * refused with -ESHUTDOWN, and nothing runs on freed memory (the asan and
 * tsan builds check the last part).
 */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define N 8
#define LEN 512

struct pending {
	drv_queue *q;
	drv_dev *dev;
	struct drv_req r[N];
	struct drv_req *p[N];
	struct drv_req extra[N]; /* what callbacks try to submit */
	uint8_t data[N][LEN];
	int cb_calls[N];
	int cb_status[N];
	int resubmit_rc[N];
	int neighbour_rc[N];
	int teardown_rc;
};

/* Records that req's callback ran, with what status; returns req's index. */
static unsigned callback_ran(struct pending *s, const struct drv_req *req)
{
	ptrdiff_t i = req - s->r;
	assert_true(i >= 0 && i < N);
	s->cb_calls[i]++;
	s->cb_status[i] = req->status;
	return (unsigned)i;
}

/* N reads that cannot finish on their own within the test: 1 s each, one unit. */
static struct pending *parked_reads(struct it_ctx *c, drv_queue *q, drv_req_cb cb)
{
	struct pending *s = it_calloc(c, 1, sizeof *s);
	s->q = q;
	s->dev = c->dev;
	it_set_latency(q, DSIM_DIST_FIXED, 10 * IT_SEC, 1);
	for (unsigned i = 0; i < N; i++) {
		drv_prep_read(&s->r[i], (uint64_t)i * LEN, s->data[i], LEN);
		s->r[i].cb = cb;
		s->r[i].user_data = s;
		s->p[i] = &s->r[i];
	}
	it_submit(q, s->p, N);
	return s;
}

static void check_each_ended_once(struct pending *s)
{
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(s->cb_calls[i], 1);
		assert_int_equal(s->cb_status[i], -ECANCELED);
		assert_int_equal(s->r[i].status, -ECANCELED);
	}
}

static void try_resubmit(struct pending *s, unsigned i)
{
	drv_prep_nop(&s->extra[i]);
	struct drv_req *e = &s->extra[i];
	s->resubmit_rc[i] = drv_submit(s->q, &e, 1);
}

static void resubmit_cb(struct drv_req *req, void *user_data)
{
	struct pending *s = user_data;
	try_resubmit(s, callback_ran(s, req));
}

static void test_destroy_refuses_submits_from_callbacks(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *q = it_queue(c, 16, DRV_CMODE_IRQ);
	struct pending *s = parked_reads(c, q, resubmit_cb);
	assert_int_equal(drv_queue_destroy(q), 0);
	check_each_ended_once(s);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(s->resubmit_rc[i], -ESHUTDOWN);
		assert_int_equal(s->extra[i].status, 0); /* never taken: still as prepared */
	}
	it_set_latency(c->q, DSIM_DIST_FIXED, 0, 0);
}

static void test_close_refuses_submits_from_callbacks(void **state)
{
	struct it_ctx *c = *state;
	struct pending *s = parked_reads(c, c->q, resubmit_cb);
	assert_int_equal(it_close(c), 0);
	check_each_ended_once(s);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(s->resubmit_rc[i], -ESHUTDOWN);
}

/* Each callback looks at its neighbour: drv_test, then drv_wait with a timeout. */
static void look_at_neighbour(struct pending *s, unsigned i)
{
	struct drv_req *next = &s->r[(i + 1) % N];
	int rc = drv_test(s->q, next);
	if (rc == -EINPROGRESS)
		rc = drv_wait(s->q, next, 50 * IT_MS);
	s->neighbour_rc[i] = rc;
}

static void neighbour_cb(struct drv_req *req, void *user_data)
{
	struct pending *s = user_data;
	look_at_neighbour(s, callback_ran(s, req));
}

static void test_destroy_with_callbacks_that_wait_on_neighbours(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *q = it_queue(c, 16, DRV_CMODE_HYBRID);
	struct pending *s = parked_reads(c, q, neighbour_cb);
	assert_int_equal(drv_queue_destroy(q), 0);
	check_each_ended_once(s);
	for (unsigned i = 0; i < N; i++)
		assert_true(s->neighbour_rc[i] == 0 || s->neighbour_rc[i] == -ETIMEDOUT);
	it_set_latency(c->q, DSIM_DIST_FIXED, 0, 0);
}

static void test_close_with_callbacks_that_wait_on_neighbours(void **state)
{
	struct it_ctx *c = *state;
	struct pending *s = parked_reads(c, c->q, neighbour_cb);
	assert_int_equal(it_close(c), 0);
	check_each_ended_once(s);
}

static void neighbour_and_resubmit_cb(struct drv_req *req, void *user_data)
{
	struct pending *s = user_data;
	unsigned i = callback_ran(s, req);
	look_at_neighbour(s, i);
	try_resubmit(s, i);
}

/*
 * A device that stops answering (devsim stopped with SIGSTOP): nothing
 * completes during the grace period, so every callback runs after the
 * hardware queue is gone. Their calls into the queue must not reach it.
 */
static void test_destroy_with_a_stalled_device(void **state)
{
	struct it_ctx *c = *state;
	if (!it_devsim_bin())
		skip();
	if (!c->sim.pid) {
		it_close(c);
		it_devsim_start(&c->sim, NULL);
		it_open(c, c->sim.uri);
	}
	drv_queue *q = it_queue(c, 16, DRV_CMODE_IRQ);
	struct pending *s = parked_reads(c, q, neighbour_and_resubmit_cb);
	assert_int_equal(kill(c->sim.pid, SIGSTOP), 0);
	int rc = drv_queue_destroy(q);
	assert_int_equal(kill(c->sim.pid, SIGCONT), 0);
	assert_int_equal(rc, 0);
	check_each_ended_once(s);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(s->neighbour_rc[i], 0);
		assert_int_equal(s->resubmit_rc[i], -ESHUTDOWN);
	}
	assert_int_equal(it_close(c), 0);
}

struct hostage {
	drv_queue *other_q;
	struct drv_req *other;
	int rc;
	int calls;
};

/* Waits without a timeout for a request that only the teardown can end. */
static void wait_forever_cb(struct drv_req *req, void *user_data)
{
	(void)req;
	struct hostage *h = user_data;
	h->calls++;
	h->rc = drv_wait(h->other_q, h->other, -1);
}

/*
 * With the device stalled, a callback (run by the teardown itself, or by
 * another thread) waits forever on a request of the same or another queue:
 * the grace period still bounds the teardown, and the waited-for request
 * ends -ECANCELED.
 */
static void hostage_case(struct it_ctx *c, bool other_queue, bool close_device)
{
	if (!it_devsim_bin())
		skip();
	if (!c->sim.pid) {
		it_close(c);
		it_devsim_start(&c->sim, NULL);
		it_open(c, c->sim.uri);
	}
	drv_queue *qb = other_queue ? it_queue(c, 8, DRV_CMODE_IRQ) : NULL;
	drv_queue *qa = it_queue(c, 8, DRV_CMODE_IRQ);
	it_set_latency(qa, DSIM_DIST_FIXED, 10 * IT_SEC, 1);
	struct drv_req *r = it_calloc(c, 3, sizeof *r);
	uint8_t *data = it_calloc(c, 3, LEN);
	struct hostage *h = it_calloc(c, 1, sizeof *h);
	drv_prep_read(&r[0], 0, data, LEN);
	r[0].cb = wait_forever_cb;
	r[0].user_data = h;
	drv_prep_read(&r[1], LEN, data + LEN, LEN);
	it_submit1(qa, &r[0]);
	it_submit1(qa, &r[1]);
	h->other_q = qa;
	h->other = &r[1];
	if (qb) {
		drv_prep_read(&r[2], 0, data + 2 * LEN, LEN);
		it_submit1(qb, &r[2]);
		h->other_q = qb;
		h->other = &r[2];
	}
	assert_int_equal(kill(c->sim.pid, SIGSTOP), 0);
	int rc = close_device ? it_close(c) : drv_queue_destroy(qa);
	assert_int_equal(kill(c->sim.pid, SIGCONT), 0);
	assert_int_equal(rc, 0);
	assert_int_equal(h->calls, 1);
	assert_int_equal(h->rc, 0);
	assert_int_equal(h->other->status, -ECANCELED);
	assert_int_equal(r[0].status, -ECANCELED);
	if (!close_device) {
		if (qb)
			assert_int_equal(drv_queue_destroy(qb), 0);
		assert_int_equal(it_close(c), 0);
	}
}

static void test_destroy_bounded_when_a_callback_waits_on_a_neighbour(void **state)
{
	hostage_case(*state, false, false);
}

static void test_close_bounded_when_a_callback_waits_on_another_queue(void **state)
{
	hostage_case(*state, true, true);
}

/* A callback that tears down its own queue (or device) would wait for itself. */
static void self_teardown_cb(struct drv_req *req, void *user_data)
{
	struct pending *s = user_data;
	unsigned i = callback_ran(s, req);
	if (i == 0)
		s->teardown_rc = drv_queue_destroy(s->q);
	else if (i == 1)
		s->neighbour_rc[i] = drv_close(s->dev);
}

static void test_teardown_from_own_callback_is_refused(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *q = it_queue(c, 16, DRV_CMODE_IRQ);
	struct pending *s = parked_reads(c, q, self_teardown_cb);
	assert_int_equal(drv_cancel_all(q), N);
	struct drv_req *out[N];
	while (s->cb_calls[0] == 0 || s->cb_calls[1] == 0)
		(void)drv_reap(q, out, N, 1, it_timeout_ns());
	assert_int_equal(s->teardown_rc, -EDEADLK);
	assert_int_equal(s->neighbour_rc[1], -EDEADLK);
	assert_non_null(strstr(drv_errmsg(), "callback"));
	assert_int_equal(drv_queue_destroy(q), 0);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(s->cb_calls[i], 1);
	it_set_latency(c->q, DSIM_DIST_FIXED, 0, 0);
}

/* ---- Other threads inside the library while the queue or device goes ---- */

enum blocker_kind { IN_WAIT, IN_REAP, IN_SYNC_READ, IN_LOOP };

struct blocker {
	drv_queue *q;
	enum blocker_kind kind;
	struct drv_req req;
	uint8_t data[LEN];
	int rc;
	int64_t sync_rc;
	int started; /* atomic */
	int *stop;   /* atomic, IN_LOOP: set before the teardown, as the contract asks */
	unsigned loops;
};

static void *blocker_main(void *arg)
{
	struct blocker *b = arg;
	struct drv_req *out[4];
	switch (b->kind) {
	case IN_WAIT:
		drv_prep_read(&b->req, 0, b->data, LEN);
		it_submit1(b->q, &b->req);
		__atomic_store_n(&b->started, 1, __ATOMIC_RELEASE);
		b->rc = drv_wait(b->q, &b->req, -1);
		break;
	case IN_REAP:
		drv_prep_read(&b->req, 0, b->data, LEN);
		it_submit1(b->q, &b->req);
		__atomic_store_n(&b->started, 1, __ATOMIC_RELEASE);
		b->rc = drv_reap(b->q, out, 4, 1, -1);
		break;
	case IN_SYNC_READ:
		__atomic_store_n(&b->started, 1, __ATOMIC_RELEASE);
		b->sync_rc = drv_read(b->q, 0, b->data, LEN);
		break;
	case IN_LOOP:
		__atomic_store_n(&b->started, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(b->stop, __ATOMIC_ACQUIRE)) {
			drv_prep_read(&b->req, 0, b->data, LEN);
			struct drv_req *rp = &b->req;
			b->rc = drv_submit(b->q, &rp, 1);
			if (b->rc == 1)
				b->rc = drv_wait(b->q, &b->req, -1);
			b->loops++;
		}
		break;
	}
	return NULL;
}

static void start_blockers(struct blocker *b, unsigned n, pthread_t *t)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(pthread_create(&t[i], NULL, blocker_main, &b[i]), 0);
	for (unsigned i = 0; i < n; i++)
		while (!__atomic_load_n(&b[i].started, __ATOMIC_ACQUIRE))
			sched_yield();
	/* Give them time to block inside the library; correctness does not depend on it. */
	struct timespec ts = { 0, 20 * IT_MS };
	nanosleep(&ts, NULL);
}

static void check_blockers(struct blocker *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		switch (b[i].kind) {
		case IN_WAIT:
			assert_int_equal(b[i].rc, 0);
			assert_int_equal(b[i].req.status, -ECANCELED);
			break;
		case IN_REAP: /* may also deliver the waiters' requests: they have no callback */
			assert_true(b[i].rc >= 1);
			assert_int_equal(b[i].req.status, -ECANCELED);
			break;
		case IN_SYNC_READ:
			assert_true(b[i].sync_rc == -ECANCELED || b[i].sync_rc == -ESHUTDOWN);
			break;
		case IN_LOOP:
			assert_true(b[i].loops > 0);
			break;
		}
	}
}

static void blockers_on(struct it_ctx *c, drv_queue *q, bool close_device)
{
	static const enum blocker_kind kinds[] = { IN_WAIT, IN_REAP, IN_SYNC_READ, IN_WAIT,
						   IN_LOOP };
	enum { NB = sizeof kinds / sizeof kinds[0] };
	struct blocker *b = it_calloc(c, NB, sizeof *b);
	int *stop = it_calloc(c, 1, sizeof *stop);
	pthread_t t[NB];
	it_set_latency(q, DSIM_DIST_FIXED, 10 * IT_SEC, 0);
	for (unsigned i = 0; i < NB; i++) {
		b[i].q = q;
		b[i].kind = kinds[i];
		b[i].stop = stop;
	}
	start_blockers(b, NB, t);
	__atomic_store_n(stop, 1, __ATOMIC_RELEASE);
	if (close_device)
		assert_int_equal(it_close(c), 0);
	else
		assert_int_equal(drv_queue_destroy(q), 0);
	for (unsigned i = 0; i < NB; i++)
		pthread_join(t[i], NULL);
	check_blockers(b, NB);
}

static void test_destroy_wakes_blocked_threads(void **state)
{
	struct it_ctx *c = *state;
	blockers_on(c, it_queue(c, 16, DRV_CMODE_IRQ), false);
	it_set_latency(c->q, DSIM_DIST_FIXED, 0, 0);
}

static void test_destroy_wakes_polling_threads(void **state)
{
	struct it_ctx *c = *state;
	blockers_on(c, it_queue(c, 16, DRV_CMODE_POLL), false);
	it_set_latency(c->q, DSIM_DIST_FIXED, 0, 0);
}

static void test_close_wakes_blocked_threads(void **state)
{
	struct it_ctx *c = *state;
	blockers_on(c, c->q, true);
}

static void test_close_wakes_blocked_threads_on_two_queues(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *hybrid = it_queue(c, 8, DRV_CMODE_HYBRID);
	struct blocker *b = it_calloc(c, 2, sizeof *b);
	pthread_t t[2];
	it_set_latency(c->q, DSIM_DIST_FIXED, 10 * IT_SEC, 0);
	b[0] = (struct blocker){ .q = c->q, .kind = IN_WAIT };
	b[1] = (struct blocker){ .q = hybrid, .kind = IN_REAP };
	start_blockers(b, 2, t);
	assert_int_equal(it_close(c), 0);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	check_blockers(b, 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, it_setup, it_teardown)
	const struct CMUnitTest tests[] = {
		T(test_destroy_refuses_submits_from_callbacks),
		T(test_close_refuses_submits_from_callbacks),
		T(test_destroy_with_callbacks_that_wait_on_neighbours),
		T(test_close_with_callbacks_that_wait_on_neighbours),
		T(test_destroy_with_a_stalled_device),
		T(test_destroy_bounded_when_a_callback_waits_on_a_neighbour),
		T(test_close_bounded_when_a_callback_waits_on_another_queue),
		T(test_teardown_from_own_callback_is_refused),
		T(test_destroy_wakes_blocked_threads),
		T(test_destroy_wakes_polling_threads),
		T(test_close_wakes_blocked_threads),
		T(test_close_wakes_blocked_threads_on_two_queues),
	};
	return cmocka_run_group_tests_name("teardown", tests, NULL, NULL);
}
