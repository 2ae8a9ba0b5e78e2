/* SPDX-License-Identifier: MIT */
/*
 * Queue set-up and teardown. Everything a queue needs while running (slots,
 * segment arrays, bounce memory, fds) is allocated here, never per request.
 */
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "dev/devdrv.h"
#include "drv/driver.h"
#include "queue/queue.h"

#define DEFAULT_DEPTH 64u
#define DEFAULT_SPIN_NS 20000u
#define BOUNCE_PER_SLOT (64u << 10)
#define BOUNCE_MAX (16u << 20)

static int epoll_add(int epfd, int fd, uint32_t tag, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u32 = tag };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int open_fds(drv_queue *q)
{
	q->sw_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	q->poll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (q->sw_fd < 0 || q->poll_fd < 0 ||
	    epoll_add(q->poll_fd, q->sw_fd, DRV_WAKE_SW, EPOLLIN) < 0)
		return drv_fail_errno(-errno, "cannot create the queue's eventfd/epoll");
	if (q->health_fd >= 0 && epoll_add(q->poll_fd, q->health_fd, DRV_WAKE_HEALTH, EPOLLIN) < 0)
		return drv_fail_errno(-errno, "cannot watch the device health fd");
	return 0;
}

static void queue_free(drv_queue *q)
{
	drvi_bounce_fini(q);
	drvi_slots_fini(q);
	if (q->sw_fd >= 0)
		close(q->sw_fd);
	if (q->poll_fd >= 0)
		close(q->poll_fd);
	if (q->timer_fd >= 0)
		close(q->timer_fd);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static int check_opts(const drv_dev *dev, const struct drv_queue_opts *o)
{
	if (o->depth > dev->info.max_queue_depth || o->depth > DRV_QUEUE_MAX_DEPTH)
		return drv_fail(-EINVAL, "queue depth %u: the device %s allows at most %u",
				o->depth, dev->info.driver,
				dev->info.max_queue_depth < DRV_QUEUE_MAX_DEPTH
				    ? dev->info.max_queue_depth
				    : DRV_QUEUE_MAX_DEPTH);
	if (o->cmode > DRV_CMODE_HYBRID)
		return drv_fail(-EINVAL, "unknown completion mode %d", (int)o->cmode);
	if (o->bounce_bytes > DRV_QUEUE_MAX_BOUNCE_BYTES)
		return drv_fail(
		    -EINVAL,
		    "bounce_bytes %zu: a queue has at most %llu bytes of bounce memory; "
		    "move larger transfers through drv_buf (direct I/O)",
		    o->bounce_bytes, (unsigned long long)DRV_QUEUE_MAX_BOUNCE_BYTES);
	return 0;
}

/* The lowest hardware queue index free on the device; drivers program that queue. */
static int take_queue_id(drv_queue *q)
{
	drv_dev *dev = q->dev;
	pthread_mutex_lock(&dev->lock);
	unsigned id = 0;
	while (id < dev->info.max_queues && (dev->queue_ids_used >> id & 1))
		id++;
	bool found = id < dev->info.max_queues;
	if (found)
		dev->queue_ids_used |= 1ull << id;
	pthread_mutex_unlock(&dev->lock);
	if (!dev->info.max_queues)
		return drv_fail(-ENODEV, "the %s driver reported no queues (max_queues is 0)",
				dev->info.driver);
	if (!found)
		return drv_fail(-EBUSY, "this %s has %u queue(s), all in use: destroy one first",
				dev->info.driver, dev->info.max_queues);
	q->id = id;
	return 0;
}

static void put_queue_id(drv_queue *q)
{
	pthread_mutex_lock(&q->dev->lock);
	q->dev->queue_ids_used &= ~(1ull << q->id);
	pthread_mutex_unlock(&q->dev->lock);
}

/*
 * The queue's wake-up sources in IRQ/HYBRID mode: the bus interrupt fd of
 * its vector (and of a vector it watches too), and the queue's timer. When
 * the device has no interrupts (ivshmem under uio) or the bus no fd for
 * the vector, the timer stands in for the interrupt and the device is
 * asked for none: nobody would receive them. A bus may hand out an fd that
 * never fires (uio's device fd without an INTx pin), so irq_mode decides
 * first. Run again after a reset: the bus may have new fds by then.
 */
int drvi_queue_watch_irqs(drv_queue *q)
{
	drv_dev *dev = q->dev;
	if (dev->info.irq_mode != DRV_IRQ_NONE)
		q->irq_fd = dev->bus->irq_fd(dev, q->vector);
	if (q->irq_fd >= 0 && q->watch_extra && q->extra_vector != q->vector)
		q->extra_irq_fd = dev->bus->irq_fd(dev, q->extra_vector);
	/*
	 * Eventfd, MSI and MSI-X interrupts are counters: watched edge-triggered,
	 * each interrupt is one event and the counter need not be read back (a
	 * read costs as much as the rest of the wake-up's bookkeeping). INTx is
	 * level-triggered and must be acknowledged (unmasked) every time.
	 */
	q->irq_ack = dev->info.irq_mode == DRV_IRQ_INTX;
	uint32_t irq_events = q->irq_ack ? EPOLLIN : EPOLLIN | EPOLLET;
	if (q->irq_fd >= 0 && epoll_add(q->poll_fd, q->irq_fd, DRV_WAKE_IRQ, irq_events) < 0)
		return drv_fail_errno(-errno, "cannot watch the interrupt fd");
	if (q->extra_irq_fd >= 0 &&
	    epoll_add(q->poll_fd, q->extra_irq_fd, DRV_WAKE_EXTRA_IRQ, irq_events) < 0)
		return drv_fail_errno(-errno, "cannot watch the interrupt fd of vector %u",
				      q->extra_vector);
	if (q->timer_fd < 0) {
		q->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (q->timer_fd < 0 ||
		    epoll_add(q->poll_fd, q->timer_fd, DRV_WAKE_TIMER, EPOLLIN) < 0)
			return drv_fail_errno(-errno, "cannot create the queue's timer");
	}
	if (q->irq_fd < 0)
		dev->ops->irq_enable(q, false);
	return 0;
}

DRV_API int drv_queue_create(drv_dev *dev, const struct drv_queue_opts *opts, drv_queue **out)
{
	if (!dev || !out)
		return drv_fail(-EINVAL, "drv_queue_create: dev and out must not be NULL");
	*out = NULL;
	struct drv_queue_opts o = opts ? *opts : (struct drv_queue_opts){ 0 };
	if (!o.depth)
		o.depth = DEFAULT_DEPTH;
	if (!o.spin_ns)
		o.spin_ns = DEFAULT_SPIN_NS;
	if (!o.poll_interval_us)
		o.poll_interval_us = DRV_POLL_INTERVAL_US_DEFAULT;
	if (!o.bounce_bytes) {
		o.bounce_bytes = (size_t)o.depth * BOUNCE_PER_SLOT;
		if (o.bounce_bytes > BOUNCE_MAX)
			o.bounce_bytes = BOUNCE_MAX;
	}
	int err = check_opts(dev, &o);
	if (err)
		return err;

	drv_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return drv_fail(-ENOMEM, "out of memory allocating a queue");
	q->dev = dev;
	q->opts = o;
	q->depth = o.depth;
	q->max_sg = dev->info.features & DRV_FEAT_SGL ? dev->info.max_sg : 1;
	if (q->max_sg == 0)
		q->max_sg = 1;
	q->next_deadline_ns = UINT64_MAX;
	q->irq_fd = q->extra_irq_fd = q->sw_fd = q->poll_fd = q->health_fd = q->timer_fd = -1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);

	pthread_mutex_lock(&dev->config_lock);
	err = drvi_slots_init(q);
	if (!err)
		err = drvi_bounce_init(q, o.bounce_bytes);
	bool id_taken = false;
	if (!err) {
		err = take_queue_id(q);
		id_taken = !err;
	}
	if (!err) {
		q->health_fd = dev->bus->health_fd ? dev->bus->health_fd(dev) : -1;
		err = open_fds(q);
	}
	if (!err)
		err = drvi_refusal(drvi_dev_failure(dev));
	if (!err) {
		err = dev->ops->queue_create(q);
		q->hw_built = !err;
	}
	if (!err && o.cmode != DRV_CMODE_POLL)
		err = drvi_queue_watch_irqs(q);
	if (err) {
		if (q->hw_built)
			dev->ops->queue_destroy(q);
		if (id_taken)
			put_queue_id(q);
		pthread_mutex_unlock(&dev->config_lock);
		queue_free(q);
		return err;
	}
	pthread_mutex_lock(&dev->lock);
	q->next = dev->queues;
	dev->queues = q;
	pthread_mutex_unlock(&dev->lock);
	pthread_mutex_unlock(&dev->config_lock);
	*out = q;
	return 0;
}

static bool nothing_active(drv_queue *q, void *arg)
{
	(void)arg;
	return q->failed || (q->active == 0 && q->stats.quarantined == 0);
}

/* Refuses further submits and cancels everything; the grace period ends at deadline. */
void drvi_queue_close_begin(drv_queue *q, uint64_t deadline)
{
	pthread_mutex_lock(&q->lock);
	q->phase = DRV_QUEUE_CLOSING;
	q->drain_deadline = deadline;
	/* Sleepers recompute their wake-up time: none may sleep past the grace period. */
	drvi_queue_signal(q);
	pthread_mutex_unlock(&q->lock);
	drv_cancel_all(q);
}

/* Gives the device until the grace deadline to hand back; callbacks run meanwhile. */
void drvi_queue_drain(drv_queue *q)
{
	pthread_mutex_lock(&q->lock);
	(void)drvi_queue_wait_until(q, nothing_active, NULL, q->drain_deadline);
	pthread_mutex_unlock(&q->lock);
}

/* From here on nothing calls the driver for q: its hardware queue may go. */
void drvi_queue_stop(drv_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->phase = DRV_QUEUE_STOPPED;
	drvi_queue_signal(q);
	pthread_mutex_unlock(&q->lock);
}

/*
 * After the device stopped touching q's memory: fails what is left and
 * releases every slot. Callbacks wait for drvi_queue_release(), so that by
 * the time any runs every queue being torn down is finished: a callback
 * that waits on another queue's request then returns at once.
 */
void drvi_queue_finish(drv_queue *q)
{
	pthread_mutex_lock(&q->lock);
	drvi_queue_fail_all(q, -ECANCELED);
	drvi_queue_release_slots(q);
	drvi_queue_signal(q);
	pthread_mutex_unlock(&q->lock);
}

/*
 * Runs the last callbacks, waits for every thread still inside a call on q
 * (they are woken and return, their requests finished), then frees q.
 */
void drvi_queue_release(drv_queue *q)
{
	pthread_mutex_lock(&q->lock);
	drvi_queue_run_callbacks(q);
	while (__atomic_load_n(&q->users, __ATOMIC_ACQUIRE)) {
		drvi_queue_signal(q);
		uint64_t wake = drv_now_ns() + 10000000u;
		struct timespec ts = { .tv_sec = (time_t)(wake / 1000000000u),
				       .tv_nsec = (long)(wake % 1000000000u) };
		/* Woken by the last thread out; the timeout re-signals a leader in epoll. */
		q->waiters++;
		pthread_cond_timedwait(&q->cond, &q->lock, &ts);
		q->waiters--;
	}
	pthread_mutex_unlock(&q->lock);
	queue_free(q);
}

DRV_API int drv_queue_destroy(drv_queue *q)
{
	if (!q)
		return 0;
	if (drvi_in_callback_of(q, NULL))
		return drv_fail(-EDEADLK, "drv_queue_destroy from a callback of the same queue "
					  "would wait for itself: destroy it after the callback");
	drv_dev *dev = q->dev;
	pthread_mutex_lock(&dev->config_lock);
	drvi_queue_close_begin(q, drv_now_ns() + DRV_CLOSE_GRACE_NS);
	drvi_queue_drain(q);
	pthread_mutex_lock(&dev->lock);
	for (drv_queue **link = &dev->queues; *link; link = &(*link)->next) {
		if (*link == q) {
			*link = q->next;
			break;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	drvi_queue_stop(q);
	if (q->hw_built)
		dev->ops->queue_destroy(q);
	q->hw_built = false;
	put_queue_id(q);
	pthread_mutex_unlock(&dev->config_lock);
	drvi_queue_finish(q);
	drvi_queue_release(q);
	return 0;
}

DRV_API int drv_queue_fd(drv_queue *q)
{
	if (!q)
		return drv_fail(-EINVAL, "drv_queue_fd: NULL queue");
	return q->poll_fd;
}

DRV_API int drv_queue_stats(drv_queue *q, struct drv_queue_stats *out)
{
	if (!q || !out)
		return drv_fail(-EINVAL, "drv_queue_stats: NULL queue or output");
	drvi_queue_enter(q);
	pthread_mutex_lock(&q->lock);
	*out = q->stats;
	out->in_flight = q->active;
	drvi_queue_leave(q);
	pthread_mutex_unlock(&q->lock);
	return 0;
}
