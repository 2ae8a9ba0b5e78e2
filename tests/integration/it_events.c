/* SPDX-License-Identifier: MIT */
/*
 * The inverse call: WAIT_EVENT requests parked in the device and completed
 * when it raises an event; events raised with nobody waiting queue up, in
 * order, up to DSIM_EVENT_QUEUE_DEPTH.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void raise_event(drv_queue *q, const void *payload, size_t len)
{
	int64_t r = drv_control(q, DSIM_CTL_RAISE_EVENT, payload, len, NULL, 0);
	if (r < 0) {
		print_error("RAISE_EVENT(%zu bytes): %lld %s\n", len, (long long)r, drv_errmsg());
		fail();
	}
}

/* Events raised by the test itself: dsim's RAISE_EVENT (NVMe's come from the host). */
static void require_raise(struct it_ctx *c)
{
	it_require(c, DRV_FEAT_EVENTS);
	it_require_dsim("RAISE_EVENT control code");
}

static int setup_events(void **state)
{
	it_setup(state);
	struct it_ctx *c = *state;
	if (c->info.features & DRV_FEAT_EVENTS)
		it_drain_events(c->q);
	return 0;
}

static void test_queued_in_order(void **state)
{
	struct it_ctx *c = *state;
	require_raise(c);
	char name[32], buf[DSIM_EVENT_PAYLOAD_MAX];
	for (int i = 0; i < 5; i++) {
		int n = snprintf(name, sizeof name, "event-%d", i);
		raise_event(c->q, name, (size_t)n + 1);
	}
	for (int i = 0; i < 5; i++) {
		int n = snprintf(name, sizeof name, "event-%d", i);
		memset(buf, 0, sizeof buf);
		int64_t r = drv_wait_event(c->q, buf, sizeof buf, it_timeout_ns());
		assert_int_equal(r, n + 1);
		assert_string_equal(buf, name);
	}
	/* Nothing left. */
	assert_int_equal(drv_wait_event(c->q, buf, sizeof buf, 50 * IT_MS), -ETIMEDOUT);
}

static void test_parked_waiters(void **state)
{
	struct it_ctx *c = *state;
	require_raise(c);
	enum { W = 4 };
	struct drv_req *r = it_calloc(c, W, sizeof *r);
	char *buf = it_calloc(c, W, DSIM_EVENT_PAYLOAD_MAX);
	struct drv_req *p[W];
	for (unsigned i = 0; i < W; i++) {
		drv_prep_wait_event(&r[i], buf + i * DSIM_EVENT_PAYLOAD_MAX,
				    DSIM_EVENT_PAYLOAD_MAX);
		p[i] = &r[i];
	}
	it_submit(c->q, p, W);
	it_sleep_ns(20 * IT_MS);
	for (unsigned i = 0; i < W; i++)
		assert_int_equal(drv_test(c->q, &r[i]), -EINPROGRESS);

	/* Parked waiters don't block other work. */
	uint8_t pat[512], got[512];
	it_fill(pat, sizeof pat, 0, 2);
	it_write(c->q, 0, pat, sizeof pat);
	it_read(c->q, 0, got, sizeof got);
	it_check_pattern(got, sizeof got, 0, 2);

	unsigned seen = 0;
	for (unsigned e = 0; e < W; e++) {
		char name[16];
		snprintf(name, sizeof name, "ev%u", e);
		raise_event(c->q, name, strlen(name) + 1);
	}
	assert_int_equal(drv_wait_all(c->q, p, W, it_timeout_ns()), 0);
	for (unsigned i = 0; i < W; i++) {
		assert_int_equal(r[i].status, 0);
		assert_int_equal(r[i].result, 4);
		assert_int_equal(r[i].result_flags & DRV_RESULT_TRUNCATED, 0);
		const char *s = buf + i * DSIM_EVENT_PAYLOAD_MAX;
		assert_true(s[0] == 'e' && s[1] == 'v' && s[2] >= '0' && s[2] < '0' + W);
		seen |= 1u << (s[2] - '0');
	}
	assert_int_equal(seen, (1u << W) - 1); /* each event went to exactly one waiter */
}

static void test_truncated_payload(void **state)
{
	struct it_ctx *c = *state;
	require_raise(c);
	uint8_t payload[100], buf[DSIM_EVENT_PAYLOAD_MAX];
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	uint8_t *small = it_calloc(c, 1, 10);
	it_fill(payload, sizeof payload, 0, 77);
	raise_event(c->q, payload, sizeof payload);
	drv_prep_wait_event(r, small, 10);
	it_submit1(c->q, r);
	it_wait_ok(c->q, r);
	assert_true(r->result_flags & DRV_RESULT_TRUNCATED);
	assert_int_equal(r->result, 10);
	assert_memory_equal(small, payload, 10);

	/* A payload that fits exactly is not truncated. */
	raise_event(c->q, payload, 10);
	drv_prep_wait_event(r, small, 10);
	it_submit1(c->q, r);
	it_wait_ok(c->q, r);
	assert_int_equal(r->result_flags & DRV_RESULT_TRUNCATED, 0);
	assert_int_equal(r->result, 10);

	/* The largest payload the device allows round-trips. */
	uint8_t big[DSIM_EVENT_PAYLOAD_MAX];
	it_fill(big, sizeof big, 0, 78);
	raise_event(c->q, big, sizeof big);
	assert_int_equal(drv_wait_event(c->q, buf, sizeof buf, it_timeout_ns()), sizeof big);
	assert_memory_equal(buf, big, sizeof big);

	/* One byte more is refused, not truncated silently. */
	uint8_t over[DSIM_EVENT_PAYLOAD_MAX + 1] = { 0 };
	int64_t e = drv_control(c->q, DSIM_CTL_RAISE_EVENT, over, sizeof over, NULL, 0);
	assert_true(e == -EINVAL || e == -E2BIG);
	assert_int_equal(drv_wait_event(c->q, buf, sizeof buf, 50 * IT_MS), -ETIMEDOUT);
}

static void test_overflow(void **state)
{
	struct it_ctx *c = *state;
	require_raise(c);
	const unsigned extra = 10, total = DSIM_EVENT_QUEUE_DEPTH + extra;
	uint64_t before[DSIM_STAT_COUNT], after[DSIM_STAT_COUNT];
	it_device_stats(c->q, before);
	for (unsigned i = 0; i < total; i++) {
		uint32_t v = i;
		raise_event(c->q, &v, sizeof v);
	}
	it_device_stats(c->q, after);
	assert_int_equal(after[DSIM_STAT_EVENTS] - before[DSIM_STAT_EVENTS], total);

	/* The oldest DEPTH events are kept, in order; the rest were dropped. */
	for (unsigned i = 0; i < DSIM_EVENT_QUEUE_DEPTH; i++) {
		uint32_t v = UINT32_MAX;
		assert_int_equal(drv_wait_event(c->q, &v, sizeof v, it_timeout_ns()), sizeof v);
		assert_int_equal(v, i);
	}
	uint32_t v;
	assert_int_equal(drv_wait_event(c->q, &v, sizeof v, 50 * IT_MS), -ETIMEDOUT);

	/* The queue takes events again once drained. */
	v = 4242;
	raise_event(c->q, &v, sizeof v);
	v = 0;
	assert_int_equal(drv_wait_event(c->q, &v, sizeof v, it_timeout_ns()), sizeof v);
	assert_int_equal(v, 4242);
}

/* An event raised on one queue reaches a waiter parked on another. */
static void test_across_queues(void **state)
{
	struct it_ctx *c = *state;
	require_raise(c);
	if (c->info.max_queues < 2)
		skip();
	drv_queue *q2 = it_queue(c, 4, DRV_CMODE_IRQ);
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	char *buf = it_calloc(c, 1, 32);
	drv_prep_wait_event(r, buf, 32);
	it_submit1(q2, r);
	it_sleep_ns(10 * IT_MS);
	raise_event(c->q, "cross", 6);
	it_wait_ok(q2, r);
	assert_string_equal(buf, "cross");
	assert_int_equal(drv_queue_destroy(q2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_queued_in_order, setup_events, it_teardown),
		cmocka_unit_test_setup_teardown(test_parked_waiters, setup_events, it_teardown),
		cmocka_unit_test_setup_teardown(test_truncated_payload, setup_events, it_teardown),
		cmocka_unit_test_setup_teardown(test_overflow, setup_events, it_teardown),
		cmocka_unit_test_setup_teardown(test_across_queues, setup_events, it_teardown),
	};
	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
