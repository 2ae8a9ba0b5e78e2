/* SPDX-License-Identifier: MIT */
/*
 * Waiting without hidden threads: whoever waits processes completions.
 * One waiter at a time is the leader: it sleeps on the queue's poll fd
 * (IRQ), spins on the ring (POLL), or spins and then sleeps (HYBRID). On a
 * device without interrupts the fd wakes on the queue's poll timer. The
 * other waiters sleep on the condition variable and are woken whenever
 * completions were processed or the leader steps down.
 */
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "dev/devdrv.h"
#include "drv_support/cpu.h"
#include "drv/driver.h"
#include "queue/queue.h"

#define ALIVE_CHECK_NS 1000000ull
#define SPIN_YIELD_NS 2000ull
/*
 * Sleeps are capped when a wake-up could go unseen: without a health fd a
 * vanished device is only noticed by polling alive(), and a vector shared
 * by two queues may be acknowledged by the other queue's waiter.
 */
#define SLEEP_CAP_NS 100000000ull

DRV_API uint64_t drv_now_ns(void)
{
	return drv_monotonic_ns();
}

uint64_t drvi_deadline(int64_t timeout_ns)
{
	if (timeout_ns < 0)
		return UINT64_MAX;
	return drv_now_ns() + (uint64_t)timeout_ns;
}

void drvi_queue_device_gone(drv_queue *q, int err)
{
	__atomic_store_n(&q->dev->dead, 1, __ATOMIC_RELEASE);
	if (q->failed)
		return;
	q->failed = true;
	drv_fail(err, "the device is gone (%s): pending requests failed with -ENODEV",
		 q->dev->info.address);
	drvi_queue_fail_all(q, -ENODEV);
}

/*
 * Reaps, expires deadlines, notices a dead device; leaves the callbacks
 * queued. Lock held.
 */
static int process(drv_queue *q)
{
	uint64_t before = q->progress;
	drv_dev *dev = q->dev;
	if (!drvi_queue_quiet(q)) {
		drvi_clock_batch_open(q);
		unsigned budget = q->depth * 2;
		int n = dev->ops->reap(q, budget);
		uint64_t now = drvi_queue_clock(q);
		drvi_clock_batch_close(q);
		q->processed_ns = now;
		/*
		 * A full budget means more may be waiting, with their interrupt
		 * spent: make the poll fd readable so no waiter (nor an fd-driven
		 * loop) sleeps on them.
		 */
		if (n > 0 && (unsigned)n == budget)
			eventfd_write(q->sw_fd, 1);
		if (n < 0) {
			drvi_queue_device_gone(q, n);
		} else if (__atomic_load_n(&dev->dead, __ATOMIC_ACQUIRE)) {
			drvi_queue_device_gone(q, -ENODEV);
		} else if (now - q->alive_checked_ns >= ALIVE_CHECK_NS) {
			q->alive_checked_ns = now;
			if (dev->bus->alive && dev->bus->alive(dev) < 0)
				drvi_queue_device_gone(q, -ENODEV);
		}
		if (q->aborts_deferred)
			drvi_queue_resend_aborts(q);
		drvi_queue_expire(q, now);
		/* The grace period is over: nothing may keep a teardown (or its callbacks) waiting.
		 */
		if (q->phase == DRV_QUEUE_CLOSING && now >= q->drain_deadline)
			drvi_queue_fail_all(q, -ECANCELED);
	}
	if (q->progress != before)
		drvi_queue_signal(q);
	drvi_queue_timer_sync(q);
	return (int)(q->progress - before);
}

/* process(), then the callbacks. Lock held. */
int drvi_queue_process(drv_queue *q)
{
	int n = process(q);
	drvi_queue_run_callbacks(q);
	return n;
}

void drvi_queue_timer_set(drv_queue *q, bool on)
{
	uint64_t ns = on ? (uint64_t)q->opts.poll_interval_us * 1000u : 0;
	struct timespec period = { .tv_sec = (time_t)(ns / 1000000000u),
				   .tv_nsec = (long)(ns % 1000000000u) };
	struct itimerspec its = { .it_interval = period, .it_value = period };
	/* On failure timer_armed stays as it was, and the next sync retries. */
	if (timerfd_settime(q->timer_fd, 0, &its, NULL) == 0)
		q->timer_armed = on;
}

/*
 * Consumes whatever woke poll_fd; runs with the lock dropped, so it only
 * returns the number of interrupts seen for the caller to count under it.
 */
static unsigned drain_fds(drv_queue *q, int timeout_ms)
{
	struct epoll_event ev[4];
	int n = epoll_wait(q->poll_fd, ev, 4, timeout_ms);
	unsigned interrupts = 0;
	for (int i = 0; i < n; i++) {
		eventfd_t v;
		switch (ev[i].data.u32) {
		case DRV_WAKE_IRQ:
			if (q->irq_ack)
				q->dev->bus->irq_ack(q->dev, q->vector);
			interrupts++;
			break;
		case DRV_WAKE_EXTRA_IRQ:
			if (q->irq_ack)
				q->dev->bus->irq_ack(q->dev, q->extra_vector);
			interrupts++;
			break;
		case DRV_WAKE_SW:
			eventfd_read(q->sw_fd, &v);
			break;
		case DRV_WAKE_HEALTH:
			__atomic_store_n(&q->dev->dead, 1, __ATOMIC_RELEASE);
			break;
		case DRV_WAKE_TIMER:
			/* Clears the expiry count; EAGAIN when another thread read it first. */
			(void)!read(q->timer_fd, &v, sizeof(v));
			break;
		}
	}
	return interrupts;
}

static int ms_until(uint64_t wake, uint64_t now)
{
	if (wake <= now)
		return 0;
	uint64_t ms = (wake - now + 999999) / 1000000;
	return ms > 60000 ? 60000 : (int)ms;
}

static void sleep_on_fd(drv_queue *q, uint64_t wake, uint64_t now)
{
	const struct drv_info *info = &q->dev->info;
	bool capped = q->health_fd < 0 || info->irq_vectors < info->max_queues;
	if (capped && wake > now + SLEEP_CAP_NS)
		wake = now + SLEEP_CAP_NS;
	q->stats.sleeps++;
	q->fd_sleeping = true;
	pthread_mutex_unlock(&q->lock);
	unsigned interrupts = drain_fds(q, ms_until(wake, now));
	pthread_mutex_lock(&q->lock);
	q->fd_sleeping = false;
	q->stats.interrupts += interrupts;
}

/*
 * Spins until something completes, the wake time, or stop_ns. Lock held.
 * A spin that has seen nothing for SPIN_YIELD_NS yields the CPU once: when
 * the thread that must complete the work (a device thread, say) shares our
 * core, it runs now instead of after our whole time slice. Callbacks wait
 * until the leader has stepped down: one that waits on this queue itself
 * would otherwise wait for a leader that is its own thread.
 */
static void spin(drv_queue *q, uint64_t wake, uint64_t stop_ns)
{
	uint64_t start = q->progress;
	uint64_t yield_at = 0;
	for (;;) {
		pthread_mutex_unlock(&q->lock);
		for (int i = 0; i < 32; i++)
			drv_cpu_relax();
		pthread_mutex_lock(&q->lock);
		if (q->progress != start)
			return;
		process(q);
		/* The pass's own clock read: at most one iteration old. */
		uint64_t now = q->processed_ns;
		if (q->progress != start || drvi_queue_quiet(q) || now >= wake || now >= stop_ns)
			return;
		if (!yield_at) {
			yield_at = now + SPIN_YIELD_NS;
		} else if (now >= yield_at) {
			pthread_mutex_unlock(&q->lock);
			sched_yield();
			pthread_mutex_lock(&q->lock);
			yield_at = 0;
		}
	}
}

/* The leader's turn: wait for device activity in the queue's mode. */
static void lead(drv_queue *q, uint64_t wake, uint64_t now)
{
	const struct drv_driver *ops = q->dev->ops;
	if (q->opts.cmode == DRV_CMODE_POLL) {
		spin(q, wake, UINT64_MAX);
		return;
	}
	if (q->opts.cmode == DRV_CMODE_HYBRID) {
		uint64_t before = q->progress;
		spin(q, wake, now + q->opts.spin_ns);
		now = drv_now_ns();
		if (q->progress != before || now >= wake || drvi_queue_quiet(q))
			return;
	}
	if (q->timer_fd >= 0) {
		/*
		 * No interrupt: the poll timer wakes us. Waiting with nothing in
		 * flight (draining quarantined slots) needs it too; the next
		 * processing pass disarms it again.
		 */
		if (!q->timer_armed)
			drvi_queue_timer_set(q, true);
		sleep_on_fd(q, wake, now);
		return;
	}
	if (q->opts.cmode == DRV_CMODE_HYBRID) {
		if (!ops->irq_enable(q, true))
			sleep_on_fd(q, wake, now);
		/* The queue may have been stopped while we slept. */
		if (!drvi_queue_quiet(q))
			ops->irq_enable(q, false);
		return;
	}
	sleep_on_fd(q, wake, now);
}

static int timed_wait(drv_queue *q, uint64_t wake)
{
	if (wake == UINT64_MAX)
		return pthread_cond_wait(&q->cond, &q->lock);
	struct timespec ts = { .tv_sec = (time_t)(wake / 1000000000ull),
			       .tv_nsec = (long)(wake % 1000000000ull) };
	return pthread_cond_timedwait(&q->cond, &q->lock, &ts);
}

int drvi_queue_wait_until(drv_queue *q, bool (*done)(drv_queue *q, void *arg), void *arg,
			  uint64_t deadline_ns)
{
	if (q->opts.cmode != DRV_CMODE_POLL && deadline_ns <= drv_now_ns() && !q->sleeper) {
		/* Called from an fd-driven loop: consume the wake-up before reaping. */
		pthread_mutex_unlock(&q->lock);
		unsigned interrupts = drain_fds(q, 0);
		pthread_mutex_lock(&q->lock);
		q->stats.interrupts += interrupts;
	}
	for (;;) {
		drvi_queue_process(q);
		if (done(q, arg))
			return 0;
		uint64_t now = drv_now_ns();
		if (now >= deadline_ns)
			return -ETIMEDOUT;
		uint64_t wake =
		    deadline_ns < q->next_deadline_ns ? deadline_ns : q->next_deadline_ns;
		if (q->phase == DRV_QUEUE_CLOSING && q->drain_deadline < wake)
			wake = q->drain_deadline;
		/* A stopped queue changes only by its teardown, which broadcasts. */
		bool stopped = q->phase == DRV_QUEUE_STOPPED;
		if (q->sleeper || stopped) {
			q->waiters++;
			q->stats.sleeps++;
			timed_wait(q, stopped ? deadline_ns : wake);
			q->waiters--;
			continue;
		}
		q->sleeper = true;
		lead(q, wake, now);
		q->sleeper = false;
		if (q->waiters)
			pthread_cond_broadcast(&q->cond);
	}
}
