/* SPDX-License-Identifier: MIT */
/*
 * Recovery on the fake device: the health state machine, resets (asked
 * for and automatic) that release held slots only after the driver's
 * remove(), fatal errors against a device gone, a reset that fails, and
 * the lost-interrupt re-check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fake_fixture.h"

#define MS 1000000ll

static struct drv_health health_of(void)
{
	struct drv_health h;
	assert_int_equal(drv_health(dev, &h), 0);
	return h;
}

static bool health_fd_readable(void)
{
	struct pollfd p = { .fd = drv_health_fd(dev), .events = POLLIN };
	return poll(&p, 1, 0) == 1;
}

static void set_auto_reset(int64_t ns)
{
	assert_int_equal(drv_set_recovery(dev, &(struct drv_recovery){ .auto_reset_ns = ns }), 0);
}

/* Submits a NOP with a deadline that the fake device never answers, and waits for it. */
static void time_out_one(struct drv_req *r)
{
	drv_prep_nop(r);
	r->timeout_ns = 1 * MS;
	fake_submit(r);
	assert_int_equal(drv_wait(q, r, -1), 0);
	assert_int_equal(r->status, -ETIMEDOUT);
}

static void held_slot_degrades_until_given_back(void **state)
{
	(void)state;
	set_auto_reset(-1);
	assert_int_equal(health_of().state, DRV_HEALTH_OK);
	assert_false(health_fd_readable());
	struct drv_req r;
	time_out_one(&r);
	uint32_t tag = fake_slot_of(q, &r)->r.tag;
	assert_true(health_fd_readable());
	struct drv_health h = health_of();
	assert_int_equal(h.state, DRV_HEALTH_DEGRADED);
	assert_int_equal(h.quarantined, 1);
	assert_int_equal(h.changes, 1);
	assert_non_null(strstr(h.reason, "timed out"));
	assert_false(health_fd_readable()); /* drv_health consumed it */
	fake_complete(tag, 0, 0);
	struct drv_req *out[1];
	assert_int_equal(drv_reap(q, out, 1, 0, 0), 0);
	h = health_of();
	assert_int_equal(h.state, DRV_HEALTH_OK);
	assert_int_equal(h.quarantined, 0);
	assert_int_equal(h.changes, 2);
	assert_int_equal(h.resets, 0);
}

static void held_too_long_resets_and_releases_after_remove(void **state)
{
	(void)state;
	set_auto_reset(20 * MS);
	drv_queue *q2 = fake_queue(dev, 4);
	assert_non_null(q2);
	struct drv_req other;
	drv_prep_nop(&other);
	struct drv_req *op = &other;
	assert_int_equal(drv_submit(q2, &op, 1), 1);
	struct drv_req r;
	time_out_one(&r);
	unsigned probes = fake.probes;
	/* The next wait past the period resets: the other queue's request ends too. */
	struct drv_req *out[1];
	assert_int_equal(drv_reap(q, out, 1, 1, 200 * MS), 0);
	assert_int_equal(drv_wait(q2, &other, -1), 0);
	assert_int_equal(other.status, -ECONNRESET);
	assert_int_equal(fake.removes, 1);
	assert_int_equal(fake.quarantined_at_remove, 2); /* still held when remove() ran */
	assert_int_equal(fake.probes, probes + 1);
	assert_int_equal(fake.queues_built, 2);
	struct drv_queue_stats st;
	drv_queue_stats(q, &st);
	assert_int_equal(st.quarantined, 0);
	assert_int_equal(st.in_flight, 0);
	struct drv_health h = health_of();
	assert_int_equal(h.state, DRV_HEALTH_OK);
	assert_int_equal(h.resets, 1);
	assert_int_equal(h.auto_resets, 1);
	assert_int_equal(h.quarantined, 0);
	/* Both queues work again, every slot free. */
	for (int i = 0; i < 8; i++) {
		struct drv_req n;
		drv_prep_nop(&n);
		fake_submit(&n);
		fake_complete(fake_slot_of(q, &n)->r.tag, 0, 0);
		assert_int_equal(drv_wait(q, &n, -1), 0);
		assert_int_equal(n.status, 0);
	}
	assert_int_equal(drv_submit(q2, &op, 1), 1);
	fake_complete(fake_slot_of(q2, &other)->r.tag, 0, 0);
	assert_int_equal(drv_wait(q2, &other, -1), 0);
	assert_int_equal(other.status, 0);
}

static void no_auto_reset_when_forbidden(void **state)
{
	(void)state;
	set_auto_reset(-1);
	struct drv_req r;
	time_out_one(&r);
	struct drv_req *out[1];
	assert_int_equal(drv_reap(q, out, 1, 1, 30 * MS), 0);
	assert_int_equal(fake.removes, 0);
	assert_int_equal(health_of().state, DRV_HEALTH_DEGRADED);
	/* An explicit reset still works, and frees the slot. */
	assert_int_equal(drv_reset(dev), 0);
	struct drv_health h = health_of();
	assert_int_equal(h.state, DRV_HEALTH_OK);
	assert_int_equal(h.resets, 1);
	assert_int_equal(h.auto_resets, 0);
	assert_int_equal(q->stats.quarantined, 0);
}

static void fatal_error_fails_every_queue_and_reset_brings_it_back(void **state)
{
	(void)state;
	set_auto_reset(-1);
	drv_queue *q2 = fake_queue(dev, 4);
	struct drv_req a, b;
	drv_prep_nop(&a);
	drv_prep_nop(&b);
	struct drv_req *ap = &a, *bp = &b;
	assert_int_equal(drv_submit(q, &ap, 1), 1);
	assert_int_equal(drv_submit(q2, &bp, 1), 1);
	fake.reap_error = -EIO;
	assert_int_equal(drv_wait(q, &a, -1), 0);
	assert_int_equal(a.status, -EIO);
	assert_int_equal(drv_wait(q2, &b, -1), 0); /* noticed by the other queue at once */
	assert_int_equal(b.status, -EIO);
	struct drv_health h = health_of();
	assert_int_equal(h.state, DRV_HEALTH_FAILED);
	assert_int_equal(h.error, -EIO);
	assert_int_equal(drv_submit(q, &ap, 1), -EIO);
	assert_non_null(strstr(drv_errmsg(), "drv_reset"));
	assert_int_equal(drv_reset(dev), 0);
	assert_int_equal(health_of().state, DRV_HEALTH_OK);
	assert_int_equal(drv_submit(q, &ap, 1), 1);
	fake_complete(fake_slot_of(q, &a)->r.tag, 0, 0);
	assert_int_equal(drv_wait(q, &a, -1), 0);
	assert_int_equal(a.status, 0);
}

static void fatal_error_recovers_by_itself(void **state)
{
	(void)state;
	set_auto_reset(20 * MS);
	struct drv_req a;
	drv_prep_nop(&a);
	fake_submit(&a);
	fake.reap_error = -EIO;
	assert_int_equal(drv_wait(q, &a, -1), 0);
	assert_int_equal(a.status, -EIO);
	/* The next submit resets first: no request is refused. */
	struct drv_req *ap = &a;
	assert_int_equal(drv_submit(q, &ap, 1), 1);
	assert_int_equal(fake.removes, 1);
	struct drv_health h = health_of();
	assert_int_equal(h.state, DRV_HEALTH_OK);
	assert_int_equal(h.auto_resets, 1);
	/* Failing again at once: no second reset within the period. */
	fake.reap_error = -EIO;
	assert_int_equal(drv_wait(q, &a, -1), 0);
	assert_int_equal(a.status, -EIO);
	assert_int_equal(drv_submit(q, &ap, 1), -EIO);
	assert_int_equal(fake.removes, 1);
	usleep(25000);
	assert_int_equal(drv_submit(q, &ap, 1), 1);
	assert_int_equal(fake.removes, 2);
	assert_int_equal(health_of().auto_resets, 2);
	fake_complete(fake_slot_of(q, &a)->r.tag, 0, 0);
	assert_int_equal(drv_wait(q, &a, -1), 0);
	assert_int_equal(a.status, 0);
}

static void gone_device_cannot_be_reset(void **state)
{
	(void)state;
	struct drv_req a;
	drv_prep_nop(&a);
	fake_submit(&a);
	fake.dead = 1;
	assert_int_equal(drv_wait(q, &a, -1), 0);
	assert_int_equal(a.status, -ENODEV);
	struct drv_health h = health_of();
	assert_int_equal(h.state, DRV_HEALTH_FAILED);
	assert_int_equal(h.error, -ENODEV);
	assert_int_equal(drv_reset(dev), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "open it again"));
	assert_int_equal(fake.removes, 0);
	struct drv_req *ap = &a;
	assert_int_equal(drv_submit(q, &ap, 1), -ENODEV);
}

static void failed_reset_leaves_the_device_failed_until_the_next(void **state)
{
	(void)state;
	set_auto_reset(-1);
	struct drv_req a;
	drv_prep_nop(&a);
	fake_submit(&a);
	fake.probe_error = drv_fail(-ETIMEDOUT, "fake device never ready");
	assert_int_equal(drv_reset(dev), -ETIMEDOUT);
	assert_non_null(strstr(drv_errmsg(), "never ready"));
	assert_int_equal(drv_wait(q, &a, -1), 0);
	assert_int_equal(a.status, -ECONNRESET);
	struct drv_health h = health_of();
	assert_int_equal(h.state, DRV_HEALTH_FAILED);
	assert_int_equal(h.error, -EIO);
	assert_int_equal(h.failed_resets, 1);
	assert_int_equal(fake.queues_built, 0);
	struct drv_req *ap = &a;
	assert_int_equal(drv_submit(q, &ap, 1), -EIO);
	assert_int_equal(drv_reset(dev), 0);
	assert_int_equal(fake.queues_built, 1);
	assert_int_equal(health_of().state, DRV_HEALTH_OK);
	assert_int_equal(drv_submit(q, &ap, 1), 1);
	fake_complete(fake_slot_of(q, &a)->r.tag, 0, 0);
	assert_int_equal(drv_wait(q, &a, -1), 0);
}

static int reset_rc;

static void reset_in_callback(struct drv_req *r, void *arg)
{
	(void)r;
	(void)arg;
	reset_rc = drv_reset(dev);
}

static void reset_from_a_callback(void **state)
{
	(void)state;
	struct drv_req a, other;
	drv_prep_nop(&a);
	drv_prep_nop(&other);
	a.cb = reset_in_callback;
	fake_submit(&a);
	fake_submit(&other);
	fake_complete(fake_slot_of(q, &a)->r.tag, 0, 0);
	reset_rc = 1;
	assert_int_equal(drv_wait(q, &other, -1), 0);
	assert_int_equal(reset_rc, 0);
	assert_int_equal(other.status, -ECONNRESET);
	/* While a queue is created or destroyed: -EBUSY instead of a deadlock. */
	fake_submit(&a);
	fake_complete(fake_slot_of(q, &a)->r.tag, 0, 0);
	pthread_mutex_lock(&dev->config_lock);
	struct drv_req *out[1];
	assert_int_equal(drv_reap(q, out, 1, 0, 0), 0);
	pthread_mutex_unlock(&dev->config_lock);
	assert_int_equal(reset_rc, -EBUSY);
	assert_int_equal(health_of().resets, 1);
}

static void default_request_timeout(void **state)
{
	(void)state;
	struct drv_recovery p = { .auto_reset_ns = -1, .request_timeout_ns = 2 * MS };
	assert_int_equal(drv_set_recovery(dev, &p), 0);
	struct drv_req nop, ev, own;
	drv_prep_nop(&nop);
	char buf[16];
	drv_prep_wait_event(&ev, buf, sizeof(buf));
	drv_prep_nop(&own);
	own.timeout_ns = 1000 * MS; /* its own deadline wins */
	fake_submit(&nop);
	fake_submit(&ev);
	fake_submit(&own);
	assert_int_equal(drv_wait(q, &nop, -1), 0);
	assert_int_equal(nop.status, -ETIMEDOUT);
	usleep(10000);
	assert_int_equal(drv_test(q, &ev), -EINPROGRESS); /* an event request waits on */
	assert_int_equal(drv_test(q, &own), -EINPROGRESS);
	assert_int_equal(drv_cancel(q, &ev), 0);
	assert_int_equal(drv_cancel(q, &own), 0);
	fake_complete(fake_slot_of(q, &ev)->r.tag, -ECANCELED, 0);
	fake_complete(fake_slot_of(q, &own)->r.tag, -ECANCELED, 0);
	assert_int_equal(drv_wait(q, &ev, -1), 0);
	assert_int_equal(drv_wait(q, &own, -1), 0);
	p.request_timeout_ns = -1;
	assert_int_equal(drv_set_recovery(dev, &p), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "request_timeout_ns"));
}

static void bad_arguments(void **state)
{
	(void)state;
	assert_int_equal(
	    drv_set_recovery(dev, &(struct drv_recovery){ .irq_recheck_us = 61000000 }), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "irq_recheck_us"));
	assert_int_equal(drv_set_recovery(dev, NULL), 0);
	assert_int_equal(drv_reset(NULL), -EINVAL);
	assert_int_equal(drv_health(NULL, NULL), -EINVAL);
	assert_int_equal(drv_health_fd(NULL), -EINVAL);
}

struct blocked {
	drv_queue *q;
	struct drv_req r;
	int rc;
};

static void *wait_forever(void *arg)
{
	struct blocked *b = arg;
	b->rc = drv_wait(b->q, &b->r, -1);
	return NULL;
}

static void reset_wakes_a_blocked_waiter(void **state)
{
	(void)state;
	struct blocked b = { .q = q };
	drv_prep_nop(&b.r);
	fake_submit(&b.r);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, wait_forever, &b), 0);
	usleep(10000);
	assert_int_equal(drv_reset(dev), 0);
	pthread_join(t, NULL);
	assert_int_equal(b.rc, 0);
	assert_int_equal(b.r.status, -ECONNRESET);
}

/* An interrupt fd that never fires: the re-check finds the completion anyway. */
static int silent_fd = -1;

static int silent_irq_fd(drv_dev *d, unsigned v)
{
	(void)d;
	(void)v;
	return silent_fd;
}

static void lost_interrupt_is_found_by_the_recheck(void **state)
{
	(void)state;
	struct drv_bus_ops with_irq = fake_bus;
	with_irq.irq_fd = silent_irq_fd;
	silent_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dev->bus = &with_irq;
	dev->info.irq_mode = DRV_IRQ_EVENTFD;
	assert_int_equal(drv_set_recovery(dev, &(struct drv_recovery){ .irq_recheck_us = 2000 }),
			 0);
	drv_queue *iq = NULL;
	struct drv_queue_opts o = { .depth = 4, .cmode = DRV_CMODE_IRQ };
	assert_int_equal(drv_queue_create(dev, &o, &iq), 0);
	struct drv_req r;
	drv_prep_nop(&r);
	struct drv_req *rp = &r;
	assert_int_equal(drv_submit(iq, &rp, 1), 1);
	fake_complete(fake_slot_of(iq, &r)->r.tag, 0, 0);
	/* The queue fd turns readable on the re-check, though no interrupt came. */
	struct pollfd p = { .fd = drv_queue_fd(iq), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 1000), 1);
	struct drv_req *out[1];
	assert_int_equal(drv_reap(iq, out, 1, 0, 0), 1);
	assert_int_equal(r.status, 0);
	assert_int_equal(health_of().lost_interrupts, 1);
	/* A waiter asleep when the completion comes is woken by the re-check too. */
	assert_int_equal(drv_submit(iq, &rp, 1), 1);
	fake.hold_reaps = 1;
	fake_complete(fake_slot_of(iq, &r)->r.tag, 0, 0);
	assert_int_equal(drv_wait(iq, &r, -1), 0);
	assert_int_equal(health_of().lost_interrupts, 2);
	assert_int_equal(drv_queue_destroy(iq), 0);
	dev->bus = &fake_bus;
	close(silent_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		FAKE_TEST(held_slot_degrades_until_given_back),
		FAKE_TEST(held_too_long_resets_and_releases_after_remove),
		FAKE_TEST(no_auto_reset_when_forbidden),
		FAKE_TEST(fatal_error_fails_every_queue_and_reset_brings_it_back),
		FAKE_TEST(fatal_error_recovers_by_itself),
		FAKE_TEST(gone_device_cannot_be_reset),
		FAKE_TEST(failed_reset_leaves_the_device_failed_until_the_next),
		FAKE_TEST(reset_from_a_callback),
		FAKE_TEST(default_request_timeout),
		FAKE_TEST(bad_arguments),
		FAKE_TEST(reset_wakes_a_blocked_waiter),
		FAKE_TEST(lost_interrupt_is_found_by_the_recheck),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
