/* SPDX-License-Identifier: MIT */
/*
 * Every fault of dsim's fault model (docs/dsim.md, section 13), injected
 * through the SET_FAULTS control code so that it runs on every path to a
 * dsim (in process, a devsim process, ivshmem in a guest), and what libdrv
 * makes of it: the request's status, stats.rejected, the health state and
 * its counters, and recovery by reset where the device cannot recover by
 * itself. Each test ends with the device healthy and its rules cleared.
 */
#include "harness.h"

#include <poll.h>
#include <string.h>

#define LEN 4096u

static int setup(void **state)
{
	int rc = it_setup(state);
	if (rc)
		return rc;
	struct it_ctx *c = *state;
	/* Recovery in test time: a held slot resets after 200 ms, lost interrupts cost 1 ms. */
	struct drv_recovery p = { .auto_reset_ns = 200 * IT_MS, .irq_recheck_us = 1000 };
	assert_int_equal(drv_set_recovery(c->dev, &p), 0);
	return 0;
}

/* The rules stay with the device (a devsim serving a guest outlives the test): clear them. */
static int teardown(void **state)
{
	struct it_ctx *c = *state;
	if (c->dev && c->dsim && drv_health_fd(c->dev) >= 0) {
		struct drv_health h;
		drv_health(c->dev, &h);
		if (h.state != DRV_HEALTH_FAILED || h.error != -ENODEV)
			(void)drv_control(c->q, DSIM_CTL_SET_FAULTS, NULL, 0, NULL, 0);
	}
	return it_teardown(state);
}

static void set_faults(struct it_ctx *c, const char *rules)
{
	it_require_dsim("fault injection (SET_FAULTS)");
	size_t len = strlen(rules);
	int64_t n = drv_control(c->q, DSIM_CTL_SET_FAULTS, len ? rules : NULL, len, NULL, 0);
	if (n < 0) {
		print_error("SET_FAULTS \"%s\": %lld %s\n", rules, (long long)n, drv_errmsg());
		fail();
	}
}

static uint64_t injected(struct it_ctx *c, enum dsim_fault_kind kind)
{
	struct dsim_fault_stats st;
	assert_int_equal(drv_control(c->q, DSIM_CTL_GET_FAULTS, NULL, 0, &st, sizeof st),
			 sizeof st);
	return st.injected[kind];
}

static struct drv_health health(struct it_ctx *c)
{
	struct drv_health h;
	assert_int_equal(drv_health(c->dev, &h), 0);
	return h;
}

static struct drv_queue_stats qstats(drv_queue *q)
{
	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(q, &st), 0);
	return st;
}

/* A read that the fault applies to, with a deadline; returns its status. */
static int read_with_deadline(struct it_ctx *c, drv_queue *q, uint64_t off, int64_t timeout_ns)
{
	uint8_t *data = it_calloc(c, 1, LEN);
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	drv_prep_read(r, off, data, LEN);
	r->timeout_ns = (uint64_t)timeout_ns;
	it_submit1(q, r);
	return it_wait_done(q, r);
}

/* The device works and is healthy: a pattern goes in and comes back. */
static void check_healthy(struct it_ctx *c, uint64_t off, uint32_t seed)
{
	uint8_t *w = it_calloc(c, 1, LEN), *r = it_calloc(c, 1, LEN);
	it_fill(w, LEN, off, seed);
	it_write(c->q, off, w, LEN);
	it_read(c->q, off, r, LEN);
	it_check_pattern(r, LEN, off, seed);
	assert_int_equal(health(c).state, DRV_HEALTH_OK);
}

static void test_error_completion_leaves_storage_untouched(void **state)
{
	struct it_ctx *c = *state;
	uint8_t *a = it_calloc(c, 1, LEN), *b = it_calloc(c, 1, LEN), *r = it_calloc(c, 1, LEN);
	it_fill(a, LEN, 0, 1);
	it_fill(b, LEN, 0, 2);
	it_write(c->q, 0, a, LEN);
	set_faults(c, "error,op=write,status=internal,nth=1");
	assert_int_equal(drv_write(c->q, 0, b, LEN), -EIO);
	set_faults(c, "error,op=read,status=dma-error,nth=1");
	assert_int_equal(drv_read(c->q, 0, r, LEN), -EFAULT);
	it_read(c->q, 0, r, LEN);
	it_check_pattern(r, LEN, 0, 1);
	assert_int_equal(injected(c, DSIM_FAULT_ERROR), 2);
	/* An error completion is the request's, not the device's: it stays healthy. */
	assert_int_equal(health(c).state, DRV_HEALTH_OK);
}

static void test_lost_interrupts_do_not_hang(void **state)
{
	struct it_ctx *c = *state;
	if (c->info.irq_mode == DRV_IRQ_NONE)
		print_message("no interrupts on this path: the poll timer stands in anyway\n");
	set_faults(c, "lost-irq");
	/* Long enough that the waiter sleeps: only the re-check can wake it. */
	it_set_latency(c->q, DSIM_DIST_FIXED, 3 * IT_MS, 0);
	uint8_t *data = it_calloc(c, 1, LEN);
	for (int i = 0; i < 20; i++)
		it_read(c->q, 0, data, LEN);
	assert_true(injected(c, DSIM_FAULT_LOST_IRQ) >= 20);
	if (c->info.irq_mode != DRV_IRQ_NONE)
		assert_true(health(c).lost_interrupts > 0);
	set_faults(c, "");
	it_set_latency(c->q, DSIM_DIST_FIXED, 0, 0);
	check_healthy(c, 0, 3);
}

static void test_late_completion_returns_the_slot(void **state)
{
	struct it_ctx *c = *state;
	set_faults(c, "late,delay=100ms,nth=1");
	assert_int_equal(read_with_deadline(c, c->q, 0, 20 * IT_MS), -ETIMEDOUT);
	/* The ABORT found nothing (the request had finished); the slot waits for the CQE. */
	struct drv_health h = health(c);
	assert_int_equal(h.state, DRV_HEALTH_DEGRADED);
	assert_int_equal(h.quarantined, 1);
	it_sleep_ns(150 * IT_MS);
	struct drv_req *out[1];
	assert_int_equal(drv_reap(c->q, out, 1, 0, 0), 0);
	assert_int_equal(qstats(c->q).quarantined, 0);
	h = health(c);
	assert_int_equal(h.state, DRV_HEALTH_OK);
	assert_int_equal(h.resets, 0);
}

static void test_duplicate_and_spurious_completions_are_rejected(void **state)
{
	struct it_ctx *c = *state;
	set_faults(c, "duplicate,nth=1;spurious,nth=2");
	uint8_t *data = it_calloc(c, 1, LEN);
	it_read(c->q, 0, data, LEN);
	it_read(c->q, 0, data, LEN);
	it_read(c->q, 0, data, LEN);
	struct drv_queue_stats st = qstats(c->q);
	assert_int_equal(st.rejected, 2);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(injected(c, DSIM_FAULT_DUPLICATE), 1);
	assert_int_equal(injected(c, DSIM_FAULT_SPURIOUS), 1);
	check_healthy(c, 0, 4);
}

/* What the device never gives back is taken back by a reset: degraded, resetting, ok. */
static void expect_recovery_reset(struct it_ctx *c, uint64_t resets_before)
{
	int fd = drv_health_fd(c->dev);
	struct drv_req *out[1];
	uint64_t end = drv_now_ns() + (uint64_t)it_timeout_ns();
	while (health(c).resets == resets_before && drv_now_ns() < end)
		(void)drv_reap(c->q, out, 1, 1, 20 * IT_MS);
	struct drv_health h = health(c);
	assert_int_equal(h.resets, resets_before + 1);
	assert_int_equal(h.auto_resets, resets_before + 1);
	assert_int_equal(h.state, DRV_HEALTH_OK);
	assert_int_equal(h.quarantined, 0);
	assert_int_equal(qstats(c->q).quarantined, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0); /* drv_health consumed the changes */
}

static void test_bad_tag_is_rejected_and_recovered(void **state)
{
	struct it_ctx *c = *state;
	set_faults(c, "bad-tag,how=stale,nth=1");
	assert_int_equal(read_with_deadline(c, c->q, 0, 30 * IT_MS), -ETIMEDOUT);
	assert_int_equal(qstats(c->q).rejected, 1);
	assert_int_equal(health(c).state, DRV_HEALTH_DEGRADED);
	expect_recovery_reset(c, 0);
	set_faults(c, "bad-tag,how=random,nth=1");
	assert_int_equal(read_with_deadline(c, c->q, 0, 30 * IT_MS), -ETIMEDOUT);
	expect_recovery_reset(c, 1);
	check_healthy(c, 0, 5);
}

static void test_corrupt_entries(void **state)
{
	struct it_ctx *c = *state;
	uint8_t *data = it_calloc(c, 1, LEN);
	set_faults(c, "corrupt,field=result,nth=1");
	assert_int_equal(drv_read(c->q, 0, data, LEN), -EPROTO);
	assert_int_equal(qstats(c->q).rejected, 1);
	set_faults(c, "corrupt,field=status,nth=1");
	assert_int_equal(drv_read(c->q, 0, data, LEN), -EIO);
	/* A wrong phase hides the entry and stalls the queue behind it: a reset clears it. */
	set_faults(c, "corrupt,field=phase,nth=1");
	assert_int_equal(read_with_deadline(c, c->q, 0, 30 * IT_MS), -ETIMEDOUT);
	expect_recovery_reset(c, 0);
	check_healthy(c, 0, 6);
}

static void test_hang_is_recovered_by_reset(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *other = it_queue(c, 16, DRV_CMODE_POLL);
	set_faults(c, "hang,nth=1");
	struct drv_req *r = it_calloc(c, 4, sizeof *r);
	uint8_t *data = it_calloc(c, 4, LEN);
	for (unsigned i = 0; i < 4; i++) {
		drv_prep_read(&r[i], 0, data + i * LEN, LEN);
		r[i].timeout_ns = 30 * IT_MS;
		it_submit1(i < 2 ? c->q : other, &r[i]);
	}
	for (unsigned i = 0; i < 4; i++) {
		int s = it_wait_done(i < 2 ? c->q : other, &r[i]);
		assert_true(s == -ETIMEDOUT || s == -ECONNRESET);
	}
	expect_recovery_reset(c, 0);
	assert_int_equal(injected(c, DSIM_FAULT_HANG), 1);
	/* A request without a deadline of its own gets the device's default one. */
	struct drv_recovery p = { .auto_reset_ns = 200 * IT_MS,
				  .irq_recheck_us = 1000,
				  .request_timeout_ns = 30 * IT_MS };
	assert_int_equal(drv_set_recovery(c->dev, &p), 0);
	set_faults(c, "hang,nth=1");
	assert_int_equal(read_with_deadline(c, c->q, 0, 0), -ETIMEDOUT);
	expect_recovery_reset(c, 1);
	set_faults(c, "");
	check_healthy(c, 0, 7);
	assert_int_equal(qstats(other).quarantined, 0);
}

static void test_fatal_fails_everything_and_reset_brings_it_back(void **state)
{
	struct it_ctx *c = *state;
	struct drv_recovery manual = { .auto_reset_ns = -1 };
	assert_int_equal(drv_set_recovery(c->dev, &manual), 0);
	it_try_latency(c->q, DSIM_DIST_FIXED, 50 * IT_MS, 0);
	drv_queue *other = it_queue(c, 16, DRV_CMODE_HYBRID);
	struct drv_req *r = it_calloc(c, 4, sizeof *r);
	uint8_t *data = it_calloc(c, 4, LEN);
	for (unsigned i = 0; i < 3; i++) {
		drv_prep_read(&r[i], 0, data + i * LEN, LEN);
		it_submit1(i < 2 ? c->q : other, &r[i]);
	}
	set_faults(c, "fatal,op=nop,nth=1");
	drv_prep_nop(&r[3]);
	it_submit1(c->q, &r[3]);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(it_wait_done(i == 2 ? other : c->q, &r[i]), -EIO);
	struct drv_health h = health(c);
	assert_int_equal(h.state, DRV_HEALTH_FAILED);
	assert_int_equal(h.error, -EIO);
	assert_non_null(strstr(h.reason, "fatal"));
	struct drv_req *p = &r[0];
	assert_int_equal(drv_submit(other, &p, 1), -EIO);
	assert_non_null(strstr(drv_errmsg(), "drv_reset"));
	assert_int_equal(drv_reset(c->dev), 0);
	it_set_latency(c->q, DSIM_DIST_FIXED, 0, 0);
	check_healthy(c, 0, 8);
	/* With recovery on (the default policy), the same fault is reset by itself. */
	struct drv_recovery automatic = { .auto_reset_ns = 100 * IT_MS };
	assert_int_equal(drv_set_recovery(c->dev, &automatic), 0);
	set_faults(c, "fatal,op=nop,nth=1");
	it_submit1(c->q, &r[3]);
	assert_int_equal(it_wait_done(c->q, &r[3]), -EIO);
	assert_int_equal(health(c).state, DRV_HEALTH_FAILED);
	check_healthy(c, LEN, 9); /* the next submit resets first */
	assert_int_equal(health(c).auto_resets, 1);
}

static void test_slow_and_failing_dma(void **state)
{
	struct it_ctx *c = *state;
	set_faults(c, "dma-slow,delay=200ms,nth=1");
	/* Slow, then taken back by the ABORT: no reset needed. */
	assert_int_equal(read_with_deadline(c, c->q, 0, 20 * IT_MS), -ETIMEDOUT);
	struct drv_req *out[1];
	uint64_t end = drv_now_ns() + (uint64_t)it_timeout_ns();
	while (qstats(c->q).quarantined && drv_now_ns() < end)
		(void)drv_reap(c->q, out, 1, 1, 10 * IT_MS);
	assert_int_equal(qstats(c->q).quarantined, 0);
	assert_int_equal(health(c).resets, 0);
	uint8_t *a = it_calloc(c, 1, LEN), *b = it_calloc(c, 1, LEN);
	it_fill(a, LEN, LEN, 10);
	it_fill(b, LEN, LEN, 11);
	it_write(c->q, LEN, a, LEN);
	set_faults(c, "dma-fail,op=write,nth=1");
	assert_int_equal(drv_write(c->q, LEN, b, LEN), -EFAULT);
	it_read(c->q, LEN, b, LEN);
	it_check_pattern(b, LEN, LEN, 10);
	assert_int_equal(injected(c, DSIM_FAULT_DMA_FAIL), 1);
}

static void test_storage_failure_is_fatal_and_keeps_acknowledged_data(void **state)
{
	struct it_ctx *c = *state;
	uint8_t *a = it_calloc(c, 1, LEN), *b = it_calloc(c, 1, LEN);
	it_fill(a, LEN, 2 * LEN, 12);
	it_fill(b, LEN, 2 * LEN, 13);
	it_write(c->q, 2 * LEN, a, LEN);
	set_faults(c, "storage-fail,op=write,nth=1");
	assert_int_equal(drv_write(c->q, 2 * LEN, b, LEN), -EIO);
	assert_int_equal(health(c).error, -EIO);
	it_read(c->q, 2 * LEN, b, LEN); /* recovery resets at this submit */
	it_check_pattern(b, LEN, 2 * LEN, 12);
	assert_int_equal(health(c).state, DRV_HEALTH_OK);
}

static void test_vanished_device(void **state)
{
	struct it_ctx *c = *state;
	it_require_dsim("fault injection (vanish)");
	/*
	 * Only a device of this test's own may go: in process, or a devsim the
	 * fixture started for it. A shared one (a socket, the guest's) serves the
	 * tests after this one.
	 */
	bool own = strncmp(it_device_uri(), "sim:inproc", 10) == 0 || c->sim.pid > 0;
	if (!own) {
		print_message("n/a: vanish would end the devsim that serves the other tests\n");
		skip();
	}
	it_try_latency(c->q, DSIM_DIST_FIXED, 50 * IT_MS, 0);
	struct drv_req *r = it_calloc(c, 3, sizeof *r);
	uint8_t *data = it_calloc(c, 3, LEN);
	for (unsigned i = 0; i < 2; i++) {
		drv_prep_read(&r[i], 0, data + i * LEN, LEN);
		it_submit1(c->q, &r[i]);
	}
	set_faults(c, "vanish,op=nop,nth=1");
	drv_prep_nop(&r[2]);
	it_submit1(c->q, &r[2]);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(it_wait_done(c->q, &r[i]), -ENODEV);
	struct drv_health h = health(c);
	assert_int_equal(h.state, DRV_HEALTH_FAILED);
	assert_int_equal(h.error, -ENODEV);
	assert_int_equal(drv_reset(c->dev), -ENODEV);
	assert_int_equal(it_close(c), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_error_completion_leaves_storage_untouched),
		T(test_lost_interrupts_do_not_hang),
		T(test_late_completion_returns_the_slot),
		T(test_duplicate_and_spurious_completions_are_rejected),
		T(test_bad_tag_is_rejected_and_recovered),
		T(test_corrupt_entries),
		T(test_hang_is_recovered_by_reset),
		T(test_fatal_fails_everything_and_reset_brings_it_back),
		T(test_slow_and_failing_dma),
		T(test_storage_failure_is_fatal_and_keeps_acknowledged_data),
		T(test_vanished_device),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
