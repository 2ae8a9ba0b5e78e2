/* SPDX-License-Identifier: MIT */
/*
 * A queue's part in recovery: failing it when the device reports a fatal
 * error or disappears, noticing slots the device holds too long, and the
 * three steps of a reset (dev/reset.c runs them across every queue with
 * the queue locks held).
 */
#include <stdio.h>
#include <sys/epoll.h>

#include "dev/devdrv.h"
#include "drv/driver.h"
#include "queue/queue.h"

int drvi_refusal(int failure)
{
	if (failure == -ENODEV)
		return drv_fail(-ENODEV, "the device is gone: close it and open it again");
	if (failure)
		return drv_fail(-EIO, "the device reported a fatal error (drv_health() says "
				      "which): drv_reset() brings it back");
	return 0;
}

void drvi_queue_fail(drv_queue *q, int status)
{
	if (q->failed)
		return;
	q->failed = true;
	q->fail_status = status;
	drvi_queue_fail_all(q, status);
}

void drvi_queue_dev_error(drv_queue *q, int err)
{
	drv_dev *dev = q->dev;
	bool gone = err == -ENODEV || __atomic_load_n(&dev->dead, __ATOMIC_ACQUIRE) ||
		    (dev->bus->alive && dev->bus->alive(dev) < 0);
	char why[96];
	snprintf(why, sizeof(why), "%s", drv_errmsg());
	int status = gone ? -ENODEV : -EIO;
	__atomic_store_n(gone ? &dev->dead : &dev->fatal, 1, __ATOMIC_RELEASE);
	drvi_health_failed(dev, status, gone ? "the device is gone" : why);
	if (!q->failed) {
		if (gone)
			drv_fail(-ENODEV,
				 "the device at %s is gone: pending requests failed with -ENODEV; "
				 "close it and open it again",
				 dev->info.address);
		else
			drv_fail(-EIO,
				 "the device at %s reported a fatal error (%s): pending requests "
				 "failed with -EIO; drv_reset() brings it back",
				 dev->info.address, why);
	}
	drvi_queue_fail(q, status);
	if (!gone)
		drvi_dev_want_reset(dev);
}

void drvi_queue_dev_failed(drv_queue *q, int failure)
{
	/* Gone by the bus's word (health fd) is reported here first; a fatal error was already. */
	if (failure == -ENODEV)
		drvi_health_failed(q->dev, -ENODEV, "the device is gone");
	drvi_queue_fail(q, failure);
	if (failure == -EIO)
		drvi_dev_want_reset(q->dev);
}

uint64_t drvi_queue_oldest_held(const drv_queue *q)
{
	uint64_t oldest = UINT64_MAX;
	for (unsigned i = 0; i < q->depth; i++) {
		const struct drv_slot *s = &q->slots[i];
		if (s->state == DRV_SLOT_QUARANTINED && s->held_since < oldest)
			oldest = s->held_since;
	}
	return oldest;
}

void drvi_queue_check_held(drv_queue *q, uint64_t now)
{
	uint64_t period = __atomic_load_n(&q->dev->health.auto_reset_ns, __ATOMIC_RELAXED);
	/* held_oldest may be a clock read later than now. */
	if (period != UINT64_MAX && now > q->held_oldest && now - q->held_oldest >= period)
		drvi_dev_want_reset(q->dev);
}

static void unwatch(drv_queue *q, int *fd)
{
	if (*fd >= 0)
		(void)epoll_ctl(q->poll_fd, EPOLL_CTL_DEL, *fd, NULL);
	*fd = -1;
}

void drvi_queue_reset_stop(drv_queue *q)
{
	drvi_queue_fail_all(q, -ECONNRESET);
	/* The bus may hand out new interrupt fds when the device is probed again. */
	unwatch(q, &q->irq_fd);
	unwatch(q, &q->extra_irq_fd);
}

void drvi_queue_reset_release(drv_queue *q)
{
	if (q->hw_built)
		q->dev->ops->queue_destroy(q);
	q->hw_built = false;
	drvi_queue_release_slots(q);
}

int drvi_queue_reset_restart(drv_queue *q)
{
	drv_dev *dev = q->dev;
	q->watch_extra = false;
	int err = dev->ops->queue_create(q);
	if (err)
		return err;
	q->hw_built = true;
	q->failed = false;
	q->fail_status = 0;
	q->posted = 0;
	if (q->opts.cmode != DRV_CMODE_POLL) {
		err = drvi_queue_watch_irqs(q);
		if (err)
			return err;
	}
	if (q->opts.cmode == DRV_CMODE_POLL || q->irq_fd < 0)
		dev->ops->irq_enable(q, false);
	return 0;
}
