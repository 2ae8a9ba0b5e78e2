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

/*
 * Reaps, expires deadlines, notices a failed device and what recovery
 * needs; leaves the callbacks queued. Lock held.
 */
static int process(drv_queue *q)
{
	uint64_t before = q->progress;
	drv_dev *dev = q->dev;
	int failure = drvi_dev_failure(dev);
	if (failure && !q->failed)
		drvi_queue_dev_failed(q, failure);
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
		if (n > 0 && q->recheck)
			drvi_health_count_lost_irq(dev);
		if (n < 0) {
			drvi_queue_dev_error(q, n);
		} else if (now - q->alive_checked_ns >= ALIVE_CHECK_NS) {
			q->alive_checked_ns = now;
			if (dev->bus->alive && dev->bus->alive(dev) < 0)
				drvi_queue_dev_error(q, -ENODEV);
		}
		if (q->aborts_deferred)
			drvi_queue_resend_aborts(q);
		drvi_queue_expire(q, now);
		if (q->stats.quarantined)
			drvi_queue_check_held(q, now);
		/* The grace period is over: nothing may keep a teardown (or its callbacks) waiting.
		 */
		if (q->phase == DRV_QUEUE_CLOSING && now >= q->drain_deadline)
			drvi_queue_fail_all(q, -ECANCELED);
	}
	q->recheck = false;
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
	uint64_t every = q->irq_fd >= 0
			     ? __atomic_load_n(&q->dev->health.recheck_ns, __ATOMIC_RELAXED)
			     : (uint64_t)q->opts.poll_interval_us * 1000u;
	uint64_t ns = on ? every : 0;
	struct timespec period = { .tv_sec = (time_t)(ns / 1000000000u),
				   .tv_nsec = (long)(ns % 1000000000u) };
	struct itimerspec its = { .it_interval = period, .it_value = period };
	/* On failure timer_armed stays as it was, and the next sync retries. */
	if (timerfd_settime(q->timer_fd, 0, &its, NULL) == 0)
		q->timer_armed = on;
}

/*
 * What drain_fds() needs of the queue, read under the lock before it is
 * dropped (a reset may rewrite them meanwhile), and what it saw.
 */
struct fd_wake {
	bool ack; /* INTx: acknowledge each interrupt */
	unsigned vector, extra_vector;
	int timer_fd;
	unsigned interrupts;
	bool ticked;
};

static struct fd_wake fd_wake_of(const drv_queue *q)
{
	return (struct fd_wake){ q->irq_ack, q->vector, q->extra_vector, q->timer_fd, 0, false };
}

/* Consumes whatever woke poll_fd; runs with the lock dropped, so it only fills w. */
static void drain_fds(drv_queue *q, struct fd_wake *w, int timeout_ms)
{
	struct epoll_event ev[4];
	int n = epoll_wait(q->poll_fd, ev, 4, timeout_ms);
	for (int i = 0; i < n; i++) {
		eventfd_t v;
		switch (ev[i].data.u32) {
		case DRV_WAKE_IRQ:
			if (w->ack)
				q->dev->bus->irq_ack(q->dev, w->vector);
			w->interrupts++;
			break;
		case DRV_WAKE_EXTRA_IRQ:
			if (w->ack)
				q->dev->bus->irq_ack(q->dev, w->extra_vector);
			w->interrupts++;
			break;
		case DRV_WAKE_SW:
			eventfd_read(q->sw_fd, &v);
			break;
		case DRV_WAKE_HEALTH:
			__atomic_store_n(&q->dev->dead, 1, __ATOMIC_RELEASE);
			break;
		case DRV_WAKE_TIMER:
			/* Clears the expiry count; EAGAIN when another thread read it first. */
			(void)!read(w->timer_fd, &v, sizeof(v));
			w->ticked = true;
			break;
		}
	}
}

/*
 * Lock held again after drain_fds(). A re-check tick after a whole period
 * without any interrupt marks the next processing pass: what it finds, an
 * interrupt should have announced long ago (one merely late, or on its
 * way while the tick came, is not counted). A tick with nothing in flight
 * disarms the re-check timer.
 */
static void note_wake(drv_queue *q, const struct fd_wake *w)
{
	q->stats.interrupts += w->interrupts;
	if (w->interrupts)
		q->irq_since_tick = true;
	if (!w->ticked || q->irq_fd < 0)
		return;
	/* HYBRID masks interrupts while it spins: silence there proves nothing. */
	q->recheck = !q->irq_since_tick && q->opts.cmode == DRV_CMODE_IRQ;
	q->irq_since_tick = false;
	if (q->active == 0 && q->timer_armed)
		drvi_queue_timer_set(q, false);
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
	struct fd_wake w = fd_wake_of(q);
	pthread_mutex_unlock(&q->lock);
	drain_fds(q, &w, ms_until(wake, now));
	pthread_mutex_lock(&q->lock);
	q->fd_sleeping = false;
	note_wake(q, &w);
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
	/* A quarantined slot given back is news too: a waiter may want its room. */
	uint64_t returned = q->quarantine_returned;
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
		if (q->progress != start || q->quarantine_returned != returned ||
		    drvi_queue_quiet(q) || now >= wake || now >= stop_ns ||
		    drvi_dev_reset_wanted(q->dev))
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
	if (q->irq_fd < 0) {
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

/* Runs a recovery reset, which takes every queue lock: q's is dropped meanwhile. */
static bool recover(drv_queue *q)
{
	pthread_mutex_unlock(&q->lock);
	bool ran = drvi_dev_recover(q->dev);
	pthread_mutex_lock(&q->lock);
	return ran;
}

int drvi_queue_wait_until(drv_queue *q, bool (*done)(drv_queue *q, void *arg), void *arg,
			  uint64_t deadline_ns)
{
	if (q->opts.cmode != DRV_CMODE_POLL && deadline_ns <= drv_now_ns() && !q->sleeper) {
		/* Called from an fd-driven loop: consume the wake-up before reaping. */
		struct fd_wake w = fd_wake_of(q);
		pthread_mutex_unlock(&q->lock);
		drain_fds(q, &w, 0);
		pthread_mutex_lock(&q->lock);
		note_wake(q, &w);
	}
	for (;;) {
		drvi_queue_process(q);
		if (done(q, arg))
			return 0;
		if (drvi_dev_reset_wanted(q->dev) && recover(q))
			continue;
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
