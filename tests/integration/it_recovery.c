/* SPDX-License-Identifier: MIT */
/*
 * drv_reset on a real driver (dsim here, NVMe and edu in the guest): the
 * driver's remove and probe run, every queue is re-created in place (same
 * handles, same fds), what was pending ends with -ECONNRESET or its real
 * result, stored data survives, and the health fd reports each change.
 */
#include "harness.h"

#include <poll.h>
#include <pthread.h>
#include <string.h>

#define LEN 4096u
#define N 32

static struct drv_health health(struct it_ctx *c)
{
	struct drv_health h;
	assert_int_equal(drv_health(c->dev, &h), 0);
	return h;
}

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, timeout_ms) == 1;
}

/* Writes and reads back a pattern on q: the queue works. */
static void check_queue_works(struct it_ctx *c, drv_queue *q, uint64_t off, uint32_t seed)
{
	uint8_t *w = it_calloc(c, 1, LEN), *r = it_calloc(c, 1, LEN);
	it_fill(w, LEN, off, seed);
	it_write(q, off, w, LEN);
	it_read(q, off, r, LEN);
	it_check_pattern(r, LEN, off, seed);
}

static void test_reset_idle_device(void **state)
{
	struct it_ctx *c = *state;
	int qfd = drv_queue_fd(c->q);
	struct drv_health before = health(c);
	assert_int_equal(before.state, DRV_HEALTH_OK);
	assert_int_equal(drv_reset(c->dev), 0);
	assert_true(readable(drv_health_fd(c->dev), 0));
	struct drv_health h = health(c);
	assert_int_equal(h.state, DRV_HEALTH_OK);
	assert_int_equal(h.resets, before.resets + 1);
	assert_int_equal(h.changes, before.changes + 2); /* RESETTING, then OK */
	assert_int_equal(h.auto_resets, 0);
	assert_false(readable(drv_health_fd(c->dev), 0));
	assert_int_equal(drv_queue_fd(c->q), qfd);
	check_queue_works(c, c->q, 0, 1);
	struct drv_info info;
	assert_int_equal(drv_info(c->dev, &info), 0);
	assert_string_equal(info.driver, c->info.driver);
	assert_int_equal(info.capacity, c->info.capacity);
}

/* Requests on two queues in every mode at the moment of the reset: each ends exactly once. */
static void test_reset_with_requests_in_flight(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *qs[3] = { c->q, it_queue(c, 64, DRV_CMODE_POLL),
			     it_queue(c, 64, DRV_CMODE_HYBRID) };
	bool slow = it_try_latency(c->q, DSIM_DIST_FIXED, 10 * IT_SEC, 1);
	uint64_t bs = c->info.block_size ? c->info.block_size : 1;
	uint8_t *data = it_calloc(c, 3 * N, LEN);
	struct drv_req *r = it_calloc(c, 3 * N, sizeof *r);
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned i = 0; i < N; i++) {
			struct drv_req *x = &r[k * N + i];
			uint64_t off = it_align_down((uint64_t)(k * N + i) * LEN, bs);
			it_fill(data + (k * N + i) * LEN, LEN, off, 7);
			drv_prep_write(x, off, data + (k * N + i) * LEN, LEN);
			it_submit1(qs[k], x);
		}
	}
	assert_int_equal(drv_reset(c->dev), 0);
	unsigned reset = 0, done = 0;
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned i = 0; i < N; i++) {
			int s = it_wait_done(qs[k], &r[k * N + i]);
			if (s == -ECONNRESET)
				reset++;
			else if (s == 0)
				done++;
			else {
				print_error("queue %u request %u: %d after a reset\n", k, i, s);
				fail();
			}
		}
	}
	print_message("%u requests ended by the reset, %u finished before it\n", reset, done);
	if (slow)
		assert_int_equal(reset, 3 * N); /* 10 s each on one unit: none could finish */
	for (unsigned k = 0; k < 3; k++) {
		struct drv_queue_stats st;
		assert_int_equal(drv_queue_stats(qs[k], &st), 0);
		assert_int_equal(st.in_flight, 0);
		assert_int_equal(st.quarantined, 0);
	}
	if (slow)
		it_set_latency(c->q, DSIM_DIST_FIXED, 0, 0);
	for (unsigned k = 0; k < 3; k++)
		check_queue_works(c, qs[k], it_align_up(3 * N * LEN, bs) + k * LEN, 20 + k);
}

static void test_data_survives_reset(void **state)
{
	struct it_ctx *c = *state;
	check_queue_works(c, c->q, 8 * LEN, 3);
	assert_int_equal(drv_flush(c->q), 0);
	assert_int_equal(drv_reset(c->dev), 0);
	uint8_t *r = it_calloc(c, 1, LEN);
	it_read(c->q, 8 * LEN, r, LEN);
	it_check_pattern(r, LEN, 8 * LEN, 3);
}

/* A parked event request (an NVMe AER, a dsim WAIT_EVENT) ends; events work after. */
static void test_reset_ends_parked_event_requests(void **state)
{
	struct it_ctx *c = *state;
	it_require(c, DRV_FEAT_EVENTS);
	it_drain_events(c->q);
	uint8_t *ev = it_calloc(c, 1, 256);
	struct drv_req *w = it_calloc(c, 1, sizeof *w);
	drv_prep_wait_event(w, ev, 256);
	it_submit1(c->q, w);
	assert_int_equal(drv_test(c->q, w), -EINPROGRESS);
	assert_int_equal(drv_reset(c->dev), 0);
	assert_int_equal(it_wait_done(c->q, w), -ECONNRESET);
	it_require_dsim("RAISE_EVENT to check events after the reset");
	drv_prep_wait_event(w, ev, 256);
	it_submit1(c->q, w);
	assert_true(drv_control(c->q, DSIM_CTL_RAISE_EVENT, "again", 5, NULL, 0) >= 0);
	it_wait_ok(c->q, w);
	assert_memory_equal(ev, "again", 5);
}

struct resetter {
	drv_dev *dev;
	int rounds;
	int failures;
};

static void *reset_repeatedly(void *arg)
{
	struct resetter *t = arg;
	for (int i = 0; i < t->rounds; i++)
		if (drv_reset(t->dev) != 0)
			t->failures++;
	return NULL;
}

/* Another thread resets while this one keeps I/O going: every request ends once, 0 or reset. */
static void test_reset_from_another_thread_during_io(void **state)
{
	struct it_ctx *c = *state;
	uint64_t bs = c->info.block_size ? c->info.block_size : 1;
	struct resetter t = { c->dev, 5, 0 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, reset_repeatedly, &t), 0);
	uint8_t *buf = it_calloc(c, 8, LEN);
	struct drv_req *r = it_calloc(c, 8, sizeof *r);
	unsigned ok = 0, reset = 0;
	for (int round = 0; round < 200; round++) {
		struct drv_req *p[8];
		for (unsigned i = 0; i < 8; i++) {
			drv_prep_read(&r[i], it_align_down(i * LEN, bs), buf + i * LEN, LEN);
			p[i] = &r[i];
		}
		int n = drv_submit(c->q, p, 8);
		assert_true(n >= 0);
		struct drv_info info; /* read while a reset's probe may rewrite it */
		assert_int_equal(drv_info(c->dev, &info), 0);
		assert_int_equal(info.capacity, c->info.capacity);
		for (int i = 0; i < n; i++) {
			int s = it_wait_done(c->q, &r[i]);
			assert_true(s == 0 || s == -ECONNRESET);
			if (s)
				reset++;
			else
				ok++;
		}
	}
	pthread_join(th, NULL);
	assert_int_equal(t.failures, 0);
	print_message("%u reads done, %u ended by one of 5 resets\n", ok, reset);
	assert_int_equal(health(c).state, DRV_HEALTH_OK);
	check_queue_works(c, c->q, 16 * LEN, 9);
}

static void test_recovery_policy_arguments(void **state)
{
	struct it_ctx *c = *state;
	struct drv_recovery p = { .auto_reset_ns = -1, .irq_recheck_us = 1000 };
	assert_int_equal(drv_set_recovery(c->dev, &p), 0);
	p.irq_recheck_us = 120u * 1000 * 1000;
	assert_int_equal(drv_set_recovery(c->dev, &p), -EINVAL);
	assert_int_equal(drv_set_recovery(c->dev, NULL), 0);
	assert_int_equal(drv_health_fd(NULL), -EINVAL);
	assert_int_equal(drv_reset(NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_idle_device, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_reset_with_requests_in_flight, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_data_survives_reset, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_reset_ends_parked_event_requests, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_reset_from_another_thread_during_io, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_policy_arguments, it_setup,
						it_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
