/* SPDX-License-Identifier: MIT */
/*
 * Timeouts: a per-request timeout fails the request -ETIMEDOUT and holds
 * its slot (quarantine) until the device gives it back; a wait timeout
 * only stops waiting.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH 4
#define LEN 4096

static struct drv_queue_stats stats(drv_queue *q)
{
	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(q, &st), 0);
	return st;
}

/* Reaps (processing device completions) until no slot is quarantined. */
static void wait_quarantine_released(drv_queue *q)
{
	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	struct drv_req *out[DEPTH];
	while (stats(q).quarantined) {
		if (drv_now_ns() > deadline) {
			print_error("quarantined slots never released (%u)\n",
				    stats(q).quarantined);
			fail();
		}
		assert_true(drv_reap(q, out, DEPTH, 0, 20 * IT_MS) >= 0);
	}
}

struct seen {
	drv_queue *q;
	unsigned calls;
	unsigned quarantined;
};

/*
 * At delivery of a timed-out request its slot is still the device's (the
 * library may ask for it back with an abort, but has not seen the answer
 * while running this callback): the stats must show it quarantined.
 */
static void note_quarantine(struct drv_req *req, void *user_data)
{
	struct seen *s = user_data;
	struct drv_queue_stats st;
	(void)req;
	s->calls++;
	if (drv_queue_stats(s->q, &st) == 0 && st.quarantined > s->quarantined)
		s->quarantined = st.quarantined;
}

static void test_request_timeout(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *q = it_queue(c, DEPTH, DRV_CMODE_IRQ);
	struct drv_req *r = it_calloc(c, DEPTH, sizeof *r);
	uint8_t *data = it_calloc(c, DEPTH, LEN);
	const uint64_t timeout = 100 * IT_MS;
	struct seen *seen = it_calloc(c, 1, sizeof *seen);

	struct dsim_timing t;
	it_timing_zero(&t);
	it_timing_op(&t, DSIM_OP_READ, DSIM_DIST_FIXED, 4 * IT_SEC, 0);
	it_set_timing(c->q, &t);

	/* Fill every slot with a request that will time out. */
	for (unsigned i = 0; i < DEPTH; i++) {
		drv_prep_read(&r[i], (uint64_t)i * LEN, data + i * LEN, LEN);
		r[i].timeout_ns = timeout;
		r[i].cb = note_quarantine;
		r[i].user_data = seen;
		seen->q = q;
		it_submit1(q, &r[i]);
	}
	for (unsigned i = 0; i < DEPTH; i++) {
		assert_int_equal(it_wait_done(q, &r[i]), -ETIMEDOUT);
		assert_true(r[i].complete_ns - r[i].submit_ns >= timeout);
	}
	struct drv_queue_stats st = stats(q);
	assert_true(st.timed_out >= DEPTH);
	assert_int_equal(seen->calls, DEPTH);
	assert_true(seen->quarantined >= 1);

	/* NOPs are instant, but every slot is held until the device answers the reads. */
	struct drv_req *nop = it_calloc(c, DEPTH, sizeof *nop);
	wait_quarantine_released(q);
	assert_int_equal(stats(q).in_flight, 0);
	for (unsigned i = 0; i < DEPTH; i++) {
		drv_prep_nop(&nop[i]);
		it_submit1(q, &nop[i]);
	}
	for (unsigned i = 0; i < DEPTH; i++)
		it_wait_ok(q, &nop[i]);
	/* The late device completions were not delivered a second time. */
	for (unsigned i = 0; i < DEPTH; i++)
		assert_int_equal(r[i].status, -ETIMEDOUT);

	/* A timeout longer than the latency does not fire. */
	it_timing_zero(&t);
	it_timing_op(&t, DSIM_OP_READ, DSIM_DIST_FIXED, 20 * IT_MS, 0);
	it_set_timing(c->q, &t);
	uint8_t pat[LEN];
	it_fill(pat, LEN, 0, 8);
	it_write(q, 0, pat, LEN);
	drv_prep_read(&r[0], 0, data, LEN);
	r[0].timeout_ns = 4 * (uint64_t)it_timeout_ns();
	it_submit1(q, &r[0]);
	it_wait_ok(q, &r[0]);
	it_check_pattern(data, LEN, 0, 8);
	assert_int_equal(drv_queue_destroy(q), 0);
}

/* While slots are quarantined the queue holds fewer requests, but still works. */
static void test_queue_works_during_quarantine(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *q = it_queue(c, DEPTH, DRV_CMODE_IRQ);
	struct drv_req *r = it_calloc(c, 2, sizeof *r);
	uint8_t *data = it_calloc(c, 1, LEN);

	struct dsim_timing t;
	it_timing_zero(&t);
	it_timing_op(&t, DSIM_OP_FLUSH, DSIM_DIST_FIXED, 2 * IT_SEC, 0);
	it_set_timing(c->q, &t);
	drv_prep_flush(&r[0]);
	r[0].timeout_ns = 50 * IT_MS;
	it_submit1(q, &r[0]);
	assert_int_equal(it_wait_done(q, &r[0]), -ETIMEDOUT);

	it_fill(data, LEN, 777, 9);
	drv_prep_write(&r[1], 777, data, LEN);
	it_submit1(q, &r[1]);
	it_wait_ok(q, &r[1]);
	memset(data, 0, LEN);
	it_read(q, 777, data, LEN);
	it_check_pattern(data, LEN, 777, 9);
	wait_quarantine_released(q);
	assert_int_equal(drv_queue_destroy(q), 0);
}

/* drv_wait's own timeout leaves the request pending; it completes normally later. */
static void test_wait_timeout_does_not_cancel(void **state)
{
	struct it_ctx *c = *state;
	struct drv_req *r = it_calloc(c, 2, sizeof *r);
	uint8_t *data = it_calloc(c, 1, LEN);
	uint8_t pat[LEN];
	it_fill(pat, LEN, 8192, 11);
	it_write(c->q, 8192, pat, LEN);
	it_set_latency(c->q, DSIM_DIST_FIXED, 300 * IT_MS, 0);

	drv_prep_read(&r[0], 8192, data, LEN);
	drv_prep_nop(&r[1]);
	struct drv_req *both[2] = { &r[0], &r[1] };
	it_submit(c->q, both, 2);
	uint64_t t0 = drv_now_ns();
	assert_int_equal(drv_wait(c->q, &r[0], 20 * IT_MS), -ETIMEDOUT);
	assert_true(drv_now_ns() - t0 >= 20 * IT_MS);
	assert_int_equal(r[0].status, -EINPROGRESS);
	assert_int_equal(drv_wait(c->q, &r[0], 0), -ETIMEDOUT);
	assert_int_equal(drv_wait_any(c->q, both, 2, 10 * IT_MS), -ETIMEDOUT);
	assert_int_equal(drv_wait_all(c->q, both, 2, 10 * IT_MS), -ETIMEDOUT);
	struct drv_req *out[2];
	assert_int_equal(drv_reap(c->q, out, 2, 2, 10 * IT_MS), 0);

	assert_int_equal(drv_wait_all(c->q, both, 2, it_timeout_ns()), 0);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[0].result, LEN);
	it_check_pattern(data, LEN, 8192, 11);
	assert_int_equal(stats(c->q).timed_out, 0);
}

/* drv_wait_event's timeout cancels its own request (it lives on the caller's stack). */
/* A timeout too long to add to the clock means no deadline, not one in the past. */
static void test_huge_timeout_never_expires(void **state)
{
	struct it_ctx *c = *state;
	it_try_latency(c->q, DSIM_DIST_FIXED, 20 * IT_MS, 0);
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	drv_prep_nop(r);
	r->timeout_ns = UINT64_MAX;
	it_submit1(c->q, r);
	it_wait_ok(c->q, r);
	assert_int_equal(stats(c->q).timed_out, 0);
}

static void test_sync_helper_timeout(void **state)
{
	struct it_ctx *c = *state;
	it_require(c, DRV_FEAT_EVENTS);
	char buf[64];
	it_drain_events(c->q);
	uint64_t t0 = drv_now_ns();
	assert_int_equal(drv_wait_event(c->q, buf, sizeof buf, 30 * IT_MS), -ETIMEDOUT);
	assert_true(drv_now_ns() - t0 >= 30 * IT_MS);
	struct drv_queue_stats st = stats(c->q);
	assert_int_equal(st.in_flight, 0);
	/* The next event goes to the next waiter (dsim raises one on request). */
	if (!c->dsim)
		return;
	assert_true(drv_control(c->q, DSIM_CTL_RAISE_EVENT, "late", 4, NULL, 0) >= 0);
	assert_int_equal(drv_wait_event(c->q, buf, sizeof buf, it_timeout_ns()), 4);
	assert_memory_equal(buf, "late", 4);
}

/*
 * Parked WAIT_EVENTs with a per-request timeout fail -ETIMEDOUT on time and
 * their slots come back (the driver takes a parked event request back), so
 * the queue holds its full depth again. Needs no timing control: an event
 * request stays pending by itself, on NVMe the only request that does.
 */
static void test_event_request_timeout(void **state)
{
	struct it_ctx *c = *state;
	it_require(c, DRV_FEAT_EVENTS);
	it_drain_events(c->q);
	drv_queue *q = it_queue(c, DEPTH, DRV_CMODE_IRQ);
	struct drv_req *w = it_calloc(c, DEPTH, sizeof *w);
	struct drv_req *nop = it_calloc(c, DEPTH, sizeof *nop);
	char *buf = it_calloc(c, DEPTH, 64);
	const uint64_t timeout = 50 * IT_MS;

	for (unsigned i = 0; i < DEPTH; i++) {
		drv_prep_wait_event(&w[i], buf + 64 * i, 64);
		w[i].timeout_ns = timeout;
		it_submit1(q, &w[i]);
	}
	for (unsigned i = 0; i < DEPTH; i++) {
		assert_int_equal(it_wait_done(q, &w[i]), -ETIMEDOUT);
		assert_true(w[i].complete_ns - w[i].submit_ns >= timeout);
	}
	assert_int_equal(stats(q).timed_out, DEPTH);
	wait_quarantine_released(q);
	for (unsigned i = 0; i < DEPTH; i++) {
		drv_prep_nop(&nop[i]);
		it_submit1(q, &nop[i]);
	}
	for (unsigned i = 0; i < DEPTH; i++)
		it_wait_ok(q, &nop[i]);
	assert_int_equal(stats(q).in_flight, 0);
	assert_int_equal(drv_queue_destroy(q), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_timeout, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_queue_works_during_quarantine, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_wait_timeout_does_not_cancel, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_sync_helper_timeout, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_event_request_timeout, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_huge_timeout_never_expires, it_setup,
						it_teardown),
	};
	return cmocka_run_group_tests_name("timeout", tests, NULL, NULL);
}
