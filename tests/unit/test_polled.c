/* SPDX-License-Identifier: MIT */
/*
 * IRQ and HYBRID queues on a device without interrupts (the fake bus gives
 * no interrupt fd, like ivshmem under uio): the queue sleeps on a periodic
 * timer instead, which ticks only while requests are in flight. Waiters
 * and the queue fd (epoll/io_uring users) work unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "fake_dev.h"

#define GENEROUS_MS 30000

static drv_dev *dev;
static drv_queue *q;

static drv_queue *open_queue(enum drv_cmode mode, uint32_t interval_us)
{
	struct drv_queue_opts o = { .depth = 8, .cmode = mode, .poll_interval_us = interval_us };
	drv_queue *nq = NULL;
	assert_int_equal(drv_queue_create(dev, &o, &nq), 0);
	return nq;
}

static int setup(void **state)
{
	(void)state;
	dev = fake_open(4 << 20);
	return dev ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	fake_close(dev);
	dev = NULL;
	q = NULL;
	return 0;
}

static struct itimerspec timer_of(drv_queue *tq)
{
	struct itimerspec its;
	assert_int_equal(timerfd_gettime(tq->timer_fd, &its), 0);
	return its;
}

static bool ticking(drv_queue *tq)
{
	struct itimerspec its = timer_of(tq);
	return its.it_value.tv_sec || its.it_value.tv_nsec;
}

static bool fd_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);
	assert_true(n >= 0);
	return n == 1 && (p.revents & POLLIN);
}

static unsigned in_flight(drv_queue *tq)
{
	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(tq, &st), 0);
	return st.in_flight;
}

static void submit1(struct drv_req *r)
{
	struct drv_req *rp = r;
	assert_int_equal(drv_submit(q, &rp, 1), 1);
}

/* The timer replaces the interrupt fd; POLL queues need neither. */
static void wakeup_source_by_mode(void **state)
{
	(void)state;
	q = open_queue(DRV_CMODE_IRQ, 0);
	assert_int_equal(q->irq_fd, -1);
	assert_true(q->timer_fd >= 0);
	assert_int_equal(q->opts.poll_interval_us, DRV_POLL_INTERVAL_US_DEFAULT);
	assert_false(ticking(q));
	drv_queue *hybrid = open_queue(DRV_CMODE_HYBRID, 0);
	assert_true(hybrid->timer_fd >= 0);
	drv_queue *polled = open_queue(DRV_CMODE_POLL, 0);
	assert_int_equal(polled->timer_fd, -1);
	assert_int_equal(drv_queue_destroy(polled), 0);
	assert_int_equal(drv_queue_destroy(hybrid), 0);
}

/* A bus that has an fd for every vector, like uio's device fd, whether it can fire or not. */
static int stray_fd = -1;

static int fd_for_every_vector(drv_dev *d, unsigned v)
{
	(void)d;
	(void)v;
	return stray_fd;
}

/* Without interrupts (irq_mode NONE) an fd the bus hands out is not slept on: it never fires. */
static void irq_mode_decides_over_the_bus_fd(void **state)
{
	(void)state;
	struct drv_bus_ops uio_like = fake_bus;
	uio_like.irq_fd = fd_for_every_vector;
	stray_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(stray_fd >= 0);
	dev->bus = &uio_like;
	drv_queue *without = open_queue(DRV_CMODE_IRQ, 0);
	assert_int_equal(without->irq_fd, -1);
	assert_true(without->timer_fd >= 0);
	dev->info.irq_mode = DRV_IRQ_EVENTFD;
	drv_queue *with = open_queue(DRV_CMODE_IRQ, 0);
	assert_int_equal(with->irq_fd, stray_fd);
	assert_true(with->timer_fd >= 0); /* the lost-interrupt re-check */
	assert_int_equal(drv_queue_destroy(with), 0);
	assert_int_equal(drv_queue_destroy(without), 0);
	dev->bus = &fake_bus;
	close(stray_fd);
}

/* Armed with the configured period on the first submit, disarmed when the queue drains. */
static void timer_ticks_only_while_in_flight(void **state)
{
	(void)state;
	q = open_queue(DRV_CMODE_IRQ, 1500);
	struct drv_req a, b;
	drv_prep_nop(&a);
	drv_prep_nop(&b);
	submit1(&a);
	assert_true(ticking(q));
	struct itimerspec its = timer_of(q);
	assert_int_equal(its.it_interval.tv_sec, 0);
	assert_int_equal(its.it_interval.tv_nsec, 1500000);
	submit1(&b);
	fake_complete(fake_slot_of(q, &a)->r.tag, 0, 0);
	assert_int_equal(drv_wait(q, &a, (int64_t)GENEROUS_MS * 1000000), 0);
	assert_int_equal(a.status, 0);
	assert_int_equal(in_flight(q), 1);
	assert_true(ticking(q)); /* b is still pending */
	fake_complete(fake_slot_of(q, &b)->r.tag, 0, 0);
	assert_int_equal(drv_wait(q, &b, (int64_t)GENEROUS_MS * 1000000), 0);
	assert_int_equal(in_flight(q), 0);
	assert_false(ticking(q));
}

/*
 * An fd-driven caller (epoll, io_uring): the queue fd becomes readable on
 * a tick once the device completed the request, drv_reap() with a zero
 * timeout delivers it, and with nothing in flight the fd stays quiet.
 */
static void queue_fd_readable_on_tick(void **state)
{
	(void)state;
	q = open_queue(DRV_CMODE_IRQ, 0);
	int fd = drv_queue_fd(q);
	assert_true(fd >= 0);
	assert_false(fd_readable(fd, 0));
	char data[512];
	struct drv_req r;
	drv_prep_read(&r, 0, data, sizeof(data));
	submit1(&r);
	struct drv_slot *s = fake_slot_of(q, &r);
	memset(s->bounce_va, 0x5a, sizeof(data)); /* what the device "read" */
	fake_complete(s->r.tag, 0, sizeof(data));

	struct drv_req *out[4] = { NULL };
	int got = 0;
	for (int tries = 0; got == 0 && tries < 100; tries++) {
		assert_true(fd_readable(fd, GENEROUS_MS));
		got = drv_reap(q, out, 4, 0, 0);
		assert_true(got >= 0);
	}
	assert_int_equal(got, 1);
	assert_ptr_equal(out[0], &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.result, sizeof(data));
	assert_int_equal((unsigned char)data[0], 0x5a);
	assert_int_equal((unsigned char)data[511], 0x5a);
	assert_int_equal(in_flight(q), 0);
	assert_false(ticking(q));
	assert_false(fd_readable(fd, 0));
}

/* A parked WAIT_EVENT is in flight: the fd ticks although nothing completes. */
static void parked_event_keeps_the_timer_ticking(void **state)
{
	(void)state;
	q = open_queue(DRV_CMODE_IRQ, 0);
	int fd = drv_queue_fd(q);
	char payload[64];
	struct drv_req ev;
	drv_prep(&ev, DRV_OP_WAIT_EVENT, 0, payload, sizeof(payload));
	submit1(&ev);
	for (int i = 0; i < 3; i++) {
		assert_true(fd_readable(fd, GENEROUS_MS));
		struct drv_req *out[1];
		assert_int_equal(drv_reap(q, out, 1, 0, 0), 0);
		assert_true(ticking(q));
	}
	assert_int_equal(drv_cancel(q, &ev), 0);
	assert_int_equal(fake.naborted, 1);
	fake_complete(fake_slot_of(q, &ev)->r.tag, -ECANCELED, 0);
	assert_int_equal(drv_wait(q, &ev, (int64_t)GENEROUS_MS * 1000000), 0);
	assert_int_equal(ev.status, -ECANCELED);
	assert_false(ticking(q));
}

/*
 * The device completes while the waiter sleeps: the completer waits until
 * the waiter is asleep on the queue fd with the timer armed, then answers
 * (under the queue lock, as reap() reads the fake completion queue under it).
 */
struct completer {
	struct drv_req *r;
	bool saw_sleeper;
	bool saw_ticking;
};

static void *complete_while_asleep(void *arg)
{
	struct completer *c = arg;
	for (int tries = 0; tries < GENEROUS_MS * 10; tries++) {
		pthread_mutex_lock(&q->lock);
		if (q->fd_sleeping) {
			c->saw_sleeper = true;
			c->saw_ticking = ticking(q);
			fake_complete(fake_slot_of(q, c->r)->r.tag, 0, 0);
			pthread_mutex_unlock(&q->lock);
			return NULL;
		}
		pthread_mutex_unlock(&q->lock);
		usleep(100);
	}
	return NULL;
}

static void waiter_wakes_on_the_timer(enum drv_cmode mode)
{
	/*
	 * A long period keeps the waiter asleep between ticks: with a short
	 * one on a loaded machine the timer has often expired again before the
	 * waiter reaches epoll_wait, and the completer can miss every sleep.
	 */
	q = open_queue(mode, 50000);
	struct drv_req r;
	drv_prep_nop(&r);
	submit1(&r);
	struct completer c = { .r = &r };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, complete_while_asleep, &c), 0);
	/* Until the completer gave up: then the wait ends with -ETIMEDOUT and fails below. */
	int err = drv_wait(q, &r, (int64_t)GENEROUS_MS * 3 * 1000000);
	pthread_join(t, NULL);
	assert_true(c.saw_sleeper);
	assert_true(c.saw_ticking);
	assert_int_equal(err, 0);
	assert_int_equal(r.status, 0);
	assert_false(ticking(q));
}

static void irq_waiter_wakes_on_the_timer(void **state)
{
	(void)state;
	waiter_wakes_on_the_timer(DRV_CMODE_IRQ);
}

static void hybrid_waiter_wakes_on_the_timer(void **state)
{
	(void)state;
	waiter_wakes_on_the_timer(DRV_CMODE_HYBRID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(wakeup_source_by_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(irq_mode_decides_over_the_bus_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(timer_ticks_only_while_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(queue_fd_readable_on_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(parked_event_keeps_the_timer_ticking, setup,
						teardown),
		cmocka_unit_test_setup_teardown(irq_waiter_wakes_on_the_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(hybrid_waiter_wakes_on_the_timer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
