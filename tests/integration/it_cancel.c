/* SPDX-License-Identifier: MIT */
/*
 * Cancellation: a request still queued in the device, one being serviced,
 * a parked WAIT_EVENT, everything at once, one already finished, the
 * implicit cancel of drv_queue_destroy and drv_close, and cancel storms:
 * aborts that outlive their requests while slots are reused, at depths
 * whose rings have little slack, with and without latency, and with a
 * second thread cancelling while the first submits.
 */
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 12
#define LEN 4096

struct reqs {
	struct drv_req r[N];
	struct drv_req *p[N];
	uint8_t data[N][LEN];
	int cb_calls[N];
	int cb_status[N];
};

/*
 * n reads of a second each on dsim. Elsewhere (no service-time control)
 * they are ordinary reads, for the tests that only need them in flight.
 */
static struct reqs *slow_reads(struct it_ctx *c, drv_queue *q, unsigned n, unsigned units)
{
	struct reqs *s = it_calloc(c, 1, sizeof *s);
	uint8_t pat[LEN];
	for (unsigned i = 0; i < n; i++) {
		it_fill(pat, LEN, (uint64_t)i * LEN, 21);
		it_write(q, (uint64_t)i * LEN, pat, LEN);
	}
	it_try_latency(q, DSIM_DIST_FIXED, IT_SEC, units);
	for (unsigned i = 0; i < n; i++) {
		drv_prep_read(&s->r[i], (uint64_t)i * LEN, s->data[i], LEN);
		s->r[i].user_data = (void *)(uintptr_t)i;
		s->p[i] = &s->r[i];
	}
	return s;
}

/* A cancelled request ends -ECANCELED, or with its real (correct) result. */
static void check_cancelled_or_done(const struct reqs *s, unsigned i)
{
	const struct drv_req *r = &s->r[i];
	if (r->status == 0) {
		assert_int_equal(r->result, LEN);
		it_check_pattern(s->data[i], LEN, (uint64_t)i * LEN, 21);
	} else if (r->status != -ECANCELED) {
		print_error("request %u: status %d, want -ECANCELED or 0\n", i, r->status);
		fail();
	}
}

static void check_usable(drv_queue *q)
{
	uint8_t buf[512], got[512];
	it_try_latency(q, DSIM_DIST_FIXED, 0, 0);
	it_fill(buf, sizeof buf, 1 << 20, 5);
	it_write(q, 1 << 20, buf, sizeof buf);
	it_read(q, 1 << 20, got, sizeof got);
	it_check_pattern(got, sizeof got, 1 << 20, 5);
}

/* One unit, 1 s each: the last of N is queued behind ~N seconds of work. */
static void test_cancel_queued_in_device(void **state)
{
	struct it_ctx *c = *state;
	it_require_dsim("second-long reads (SET_TIMING) to cancel");
	struct reqs *s = slow_reads(c, c->q, N, 1);
	it_submit(c->q, s->p, N);
	assert_int_equal(drv_cancel(c->q, &s->r[N - 1]), 0);
	assert_int_equal(it_wait_done(c->q, &s->r[N - 1]), -ECANCELED);
	assert_true(s->r[N - 1].complete_ns >= s->r[N - 1].submit_ns);

	/* The others are unaffected by that cancel. */
	assert_int_equal(drv_test(c->q, &s->r[N - 2]), -EINPROGRESS);
	int pending = drv_cancel_all(c->q);
	assert_true(pending >= 1 && pending <= N - 1);
	for (unsigned i = 0; i < N - 1; i++) {
		it_wait_done(c->q, &s->r[i]);
		check_cancelled_or_done(s, i);
	}
	/* Queued work behind the first can't have finished in the time it took. */
	assert_int_equal(s->r[N - 2].status, -ECANCELED);

	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(c->q, &st), 0);
	assert_true(st.cancelled >= 2);
	check_usable(c->q);
}

static void test_cancel_in_flight(void **state)
{
	struct it_ctx *c = *state;
	it_require_dsim("second-long reads (SET_TIMING) to cancel");
	struct reqs *s = slow_reads(c, c->q, 1, 0);
	it_submit(c->q, s->p, 1);
	it_sleep_ns(50 * IT_MS); /* let the device pick it up */
	assert_int_equal(drv_cancel(c->q, &s->r[0]), 0);
	it_wait_done(c->q, &s->r[0]);
	check_cancelled_or_done(s, 0);
	/* Cancelling it again: it is no longer pending. */
	assert_int_equal(drv_cancel(c->q, &s->r[0]), -ENOENT);
	check_usable(c->q);
}

static void test_cancel_wait_event(void **state)
{
	struct it_ctx *c = *state;
	it_require(c, DRV_FEAT_EVENTS);
	struct drv_req *w = it_calloc(c, 2, sizeof *w);
	char *buf = it_calloc(c, 2, DSIM_EVENT_PAYLOAD_MAX);
	it_drain_events(c->q);

	drv_prep_wait_event(&w[0], buf, DSIM_EVENT_PAYLOAD_MAX);
	it_submit1(c->q, &w[0]);
	it_sleep_ns(20 * IT_MS);
	assert_int_equal(drv_test(c->q, &w[0]), -EINPROGRESS);
	assert_int_equal(drv_cancel(c->q, &w[0]), 0);
	assert_int_equal(it_wait_done(c->q, &w[0]), -ECANCELED);

	/* The cancelled waiter must not swallow the next event (dsim raises one on request). */
	if (!c->dsim)
		return;
	assert_true(drv_control(c->q, DSIM_CTL_RAISE_EVENT, "after-cancel", 13, NULL, 0) >= 0);
	drv_prep_wait_event(&w[1], buf + DSIM_EVENT_PAYLOAD_MAX, DSIM_EVENT_PAYLOAD_MAX);
	it_submit1(c->q, &w[1]);
	it_wait_ok(c->q, &w[1]);
	assert_int_equal(w[1].result, 13);
	assert_string_equal(buf + DSIM_EVENT_PAYLOAD_MAX, "after-cancel");
}

static void test_cancel_all(void **state)
{
	struct it_ctx *c = *state;
	it_require_dsim("second-long reads (SET_TIMING) to cancel");
	struct reqs *s = slow_reads(c, c->q, N, 2);
	it_submit(c->q, s->p, N);
	assert_int_equal(drv_cancel_all(c->q), N);
	assert_int_equal(drv_wait_all(c->q, s->p, N, it_timeout_ns()), 0);
	unsigned cancelled = 0;
	for (unsigned i = 0; i < N; i++) {
		check_cancelled_or_done(s, i);
		cancelled += s->r[i].status == -ECANCELED;
	}
	assert_true(cancelled >= N - 2);
	assert_int_equal(drv_cancel_all(c->q), 0);
	check_usable(c->q);
}

static void test_cancel_finished(void **state)
{
	struct it_ctx *c = *state;
	struct drv_req *r = it_calloc(c, 2, sizeof *r);

	/* Delivered: nothing to cancel. */
	drv_prep_nop(&r[0]);
	it_submit1(c->q, &r[0]);
	it_wait_ok(c->q, &r[0]);
	assert_int_equal(drv_cancel(c->q, &r[0]), -ENOENT);
	assert_int_equal(r[0].status, 0);

	/* Finished but not yet delivered: the cancel may be issued, the real result wins. */
	drv_prep_nop(&r[0]);
	drv_prep_nop(&r[1]);
	struct drv_req *both[2] = { &r[0], &r[1] };
	it_submit(c->q, both, 2);
	it_wait_ok(c->q, &r[1]);
	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	while (!drv_req_done(&r[0]) && drv_now_ns() < deadline)
		it_sleep_ns(IT_MS);
	int cr = drv_cancel(c->q, &r[0]);
	assert_true(cr == 0 || cr == -ENOENT);
	it_wait_ok(c->q, &r[0]);
}

static void count_cb(struct drv_req *req, void *user_data)
{
	struct reqs *s = user_data;
	ptrdiff_t i = req - s->r;
	if (i >= 0 && i < N) {
		s->cb_calls[i]++;
		s->cb_status[i] = req->status;
	}
}

static void test_queue_destroy_cancels(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *q = it_queue(c, 16, DRV_CMODE_IRQ);
	struct reqs *s = slow_reads(c, q, N, 1);
	for (unsigned i = 0; i < N / 2; i++) {
		s->r[i].cb = count_cb;
		s->r[i].user_data = s;
	}
	it_submit(q, s->p, N);
	assert_int_equal(drv_queue_destroy(q), 0);
	for (unsigned i = 0; i < N; i++) {
		assert_true(drv_req_done(&s->r[i]));
		check_cancelled_or_done(s, i);
		if (i < N / 2) {
			assert_int_equal(s->cb_calls[i], 1);
			assert_int_equal(s->cb_status[i], s->r[i].status);
		}
	}
	check_usable(c->q);
}

static void test_close_cancels(void **state)
{
	struct it_ctx *c = *state;
	struct reqs *s = slow_reads(c, c->q, N, 1);
	for (unsigned i = 0; i < N; i++) {
		s->r[i].cb = count_cb;
		s->r[i].user_data = s;
	}
	it_submit(c->q, s->p, N);
	struct reqs *s2 = it_calloc(c, 1, sizeof *s2);
	drv_queue *q2 = it_queue(c, 8, DRV_CMODE_IRQ);
	for (unsigned i = 0; i < 4; i++) {
		drv_prep_read(&s2->r[i], 0, s2->data[i], LEN);
		s2->p[i] = &s2->r[i];
	}
	it_submit(q2, s2->p, 4);

	assert_int_equal(it_close(c), 0);
	unsigned cancelled = 0;
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(s->cb_calls[i], 1);
		check_cancelled_or_done(s, i);
		cancelled += s->r[i].status == -ECANCELED;
	}
	if (c->dsim) /* reads of a second each: close comes first */
		assert_true(cancelled >= N - 1);
	for (unsigned i = 0; i < 4; i++)
		assert_true(drv_req_done(&s2->r[i]) && s2->r[i].status != -EINPROGRESS);
}

#define STORM_LEN 512
#define STORM_MAX_DEPTH 2047

struct storm {
	drv_queue *q;
	unsigned depth, rounds;
	struct drv_req r[STORM_MAX_DEPTH];
	struct drv_req *p[STORM_MAX_DEPTH];
	uint8_t data[STORM_MAX_DEPTH][STORM_LEN];
	int stop; /* atomic: the submitting thread is done */
	unsigned cancel_calls;
};

static struct storm *storm_new(struct it_ctx *c)
{
	struct storm *st = it_calloc(c, 1, sizeof *st);
	uint8_t pat[STORM_LEN];
	for (unsigned i = 0; i < 64; i++) {
		it_fill(pat, STORM_LEN, (uint64_t)i * STORM_LEN, 33);
		it_write(c->q, (uint64_t)i * STORM_LEN, pat, STORM_LEN);
	}
	return st;
}

/* Every request ends once: done with the right data, or cancelled. */
static void storm_check(struct storm *st, unsigned round)
{
	for (unsigned i = 0; i < st->depth; i++) {
		const struct drv_req *r = &st->r[i];
		uint64_t off = (uint64_t)(i % 64) * STORM_LEN;
		if (r->status == 0) {
			assert_int_equal(r->result, STORM_LEN);
			it_check_pattern(st->data[i], STORM_LEN, off, 33);
		} else if (r->status != -ECANCELED) {
			print_error("depth %u round %u request %u: status %d\n", st->depth, round,
				    i, r->status);
			fail();
		}
	}
}

/* Rounds of: submit depth reads, cancel them all (unless another thread does), wait for all. */
static void storm_rounds(struct storm *st, bool cancel_here)
{
	for (unsigned round = 0; round < st->rounds; round++) {
		for (unsigned i = 0; i < st->depth; i++) {
			drv_prep_read(&st->r[i], (uint64_t)(i % 64) * STORM_LEN, st->data[i],
				      STORM_LEN);
			st->p[i] = &st->r[i];
		}
		it_submit(st->q, st->p, st->depth);
		if (cancel_here)
			assert_true(drv_cancel_all(st->q) >= 0);
		int rc = drv_wait_all(st->q, st->p, st->depth, it_timeout_ns());
		if (rc) {
			struct drv_queue_stats qs;
			drv_queue_stats(st->q, &qs);
			print_error("depth %u round %u: %s (in flight %u)\n", st->depth, round,
				    drv_errmsg(), qs.in_flight);
			fail();
		}
		storm_check(st, round);
	}
	struct drv_queue_stats qs;
	assert_int_equal(drv_queue_stats(st->q, &qs), 0);
	assert_int_equal(qs.in_flight, 0);
	assert_int_equal(qs.rejected, 0);
}

/* Fewer rounds where everything is slower (a TCG guest, sanitizers): same coverage per depth. */
static unsigned scaled_rounds(unsigned rounds)
{
	unsigned scale = (unsigned)(it_timeout_ns() / (10 * IT_SEC));
	return rounds / scale > 10 ? rounds / scale : 10;
}

static void storm_depths(struct it_ctx *c, bool latency)
{
	static const unsigned depths[] = { 1, 2, 3, 4, 5, 6, 7, 11, 12, 15, 31, 63, 127, 2047 };
	struct storm *st = storm_new(c);
	for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++) {
		st->depth = depths[k];
		if (st->depth > c->info.max_queue_depth)
			continue;
		st->rounds = scaled_rounds(st->depth > 127 ? 20 : st->depth > 15 ? 100 : 400);
		st->q = it_queue(c, st->depth, DRV_CMODE_IRQ);
		if (latency) { /* n/a without dsim's timing */
			struct dsim_timing t;
			it_timing_zero(&t);
			it_timing_op(&t, DSIM_OP_READ, DSIM_DIST_UNIFORM, 20 * IT_US, 20 * IT_US);
			it_set_timing(st->q, &t);
		}
		storm_rounds(st, true);
		assert_int_equal(drv_queue_destroy(st->q), 0);
	}
	it_try_latency(c->q, DSIM_DIST_FIXED, 0, 0);
}

static void test_cancel_storm_depths(void **state)
{
	storm_depths(*state, false);
}

static void test_cancel_storm_depths_latency(void **state)
{
	storm_depths(*state, true);
}

static void *storm_canceller(void *arg)
{
	struct storm *st = arg;
	while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
		assert_true(drv_cancel_all(st->q) >= 0);
		st->cancel_calls++;
		sched_yield();
	}
	return NULL;
}

/* One thread submits and waits, another cancels whatever is pending meanwhile. */
static void test_cancel_storm_two_threads(void **state)
{
	struct it_ctx *c = *state;
	struct storm *st = storm_new(c);
	static const unsigned depths[] = { 3, 7, 12 };
	for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++) {
		st->depth = depths[k];
		st->rounds = scaled_rounds(1000);
		st->stop = 0;
		st->q = it_queue(c, st->depth, DRV_CMODE_IRQ);
		if (k == 1)
			it_try_latency(st->q, DSIM_DIST_UNIFORM, 20 * IT_US, 0);
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, storm_canceller, st), 0);
		storm_rounds(st, false);
		__atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
		assert_true(st->cancel_calls > 0);
		assert_int_equal(drv_queue_destroy(st->q), 0);
	}
	it_try_latency(c->q, DSIM_DIST_FIXED, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cancel_queued_in_device, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_in_flight, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_wait_event, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_all, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_finished, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_queue_destroy_cancels, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_close_cancels, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_storm_depths, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_storm_depths_latency, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_storm_two_threads, it_setup,
						it_teardown),
	};
	return cmocka_run_group_tests_name("cancel", tests, NULL, NULL);
}
