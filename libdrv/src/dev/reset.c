/* SPDX-License-Identifier: MIT */
/*
 * Resetting a device in place (drv_reset, and recovery): every queue is
 * stopped with its lock held, the driver's remove() quiesces the device so
 * that it touches no memory, and only then are the slots it held released;
 * probe() and queue_create() bring the same queues back. A reset is the
 * driver's own remove and probe, so every driver has one.
 */
#include <stdio.h>

#include "dev/devdrv.h"
#include "queue/queue.h"

static void lock_queues(drv_dev *dev)
{
	for (drv_queue *q = dev->queues; q; q = q->next)
		pthread_mutex_lock(&q->lock);
}

static void unlock_queues(drv_dev *dev)
{
	for (drv_queue *q = dev->queues; q; q = q->next) {
		drvi_queue_signal(q);
		/* Fd-driven loops reap the requests the reset ended. */
		drv_queue_wake(q);
		pthread_mutex_unlock(&q->lock);
	}
}

/* probe, then every queue's hardware again; the first failure stops it. */
static int bring_back(drv_dev *dev)
{
	int err = dev->ops->probe(dev);
	for (drv_queue *q = dev->queues; q && !err; q = q->next)
		err = drvi_queue_reset_restart(q);
	return err;
}

/* config_lock held. */
static int reset_locked(drv_dev *dev, bool recovery)
{
	if (__atomic_load_n(&dev->dead, __ATOMIC_ACQUIRE))
		return drv_fail(-ENODEV, "the device at %s is gone: close it and open it again",
				dev->info.address);
	lock_queues(dev);
	struct drv_dev_health *h = &dev->health;
	drvi_health_set(dev, DRV_HEALTH_RESETTING, 0, "%s",
			recovery ? "recovery reset" : "drv_reset() called");
	if (recovery) {
		pthread_mutex_lock(&h->lock);
		h->now.auto_resets++;
		h->last_auto_reset = drv_now_ns();
		pthread_mutex_unlock(&h->lock);
	}
	for (drv_queue *q = dev->queues; q; q = q->next)
		drvi_queue_reset_stop(q);
	/* After remove() the device owns no memory: now the slots it held can go. */
	dev->ops->remove(dev);
	for (drv_queue *q = dev->queues; q; q = q->next)
		drvi_queue_reset_release(q);
	__atomic_store_n(&dev->fatal, 0, __ATOMIC_RELEASE);
	int err = bring_back(dev);
	if (err) {
		char why[96];
		snprintf(why, sizeof(why), "%s", drv_errmsg());
		int status = __atomic_load_n(&dev->dead, __ATOMIC_ACQUIRE) ? -ENODEV : -EIO;
		if (status == -EIO)
			__atomic_store_n(&dev->fatal, 1, __ATOMIC_RELEASE);
		for (drv_queue *q = dev->queues; q; q = q->next)
			drvi_queue_fail(q, status);
		pthread_mutex_lock(&h->lock);
		h->now.failed_resets++;
		pthread_mutex_unlock(&h->lock);
		drvi_health_set(dev, DRV_HEALTH_FAILED, status, "the reset failed: %s", why);
		unlock_queues(dev);
		return drv_fail(err, "resetting %s failed: %s", dev->info.address, why);
	}
	drvi_health_set(dev, DRV_HEALTH_OK, 0, "%s",
			recovery ? "back after a recovery reset" : "back after drv_reset()");
	unlock_queues(dev);
	return 0;
}

DRV_API int drv_reset(drv_dev *dev)
{
	if (!dev)
		return drv_fail(-EINVAL, "drv_reset: NULL device");
	/* A callback's thread may be one a concurrent destroy waits for. */
	if (drvi_in_callback_of(NULL, dev)) {
		if (pthread_mutex_trylock(&dev->config_lock))
			return drv_fail(-EBUSY, "a queue of this device is being created or "
						"destroyed: reset after the callback");
	} else {
		pthread_mutex_lock(&dev->config_lock);
	}
	int err = reset_locked(dev, false);
	pthread_mutex_unlock(&dev->config_lock);
	return err;
}

void drvi_dev_want_reset(drv_dev *dev)
{
	struct drv_dev_health *h = &dev->health;
	if (__atomic_load_n(&h->auto_reset_ns, __ATOMIC_RELAXED) != UINT64_MAX)
		__atomic_store_n(&h->reset_wanted, 1, __ATOMIC_RELAXED);
}

bool drvi_dev_recover(drv_dev *dev)
{
	struct drv_dev_health *h = &dev->health;
	if (!__atomic_exchange_n(&h->reset_wanted, 0, __ATOMIC_RELAXED))
		return false;
	if (pthread_mutex_trylock(&dev->config_lock))
		return false; /* close, create or destroy: the condition is seen again later */
	uint64_t period = __atomic_load_n(&h->auto_reset_ns, __ATOMIC_RELAXED);
	pthread_mutex_lock(&h->lock);
	uint64_t last = h->last_auto_reset;
	pthread_mutex_unlock(&h->lock);
	/* A device that fails again at once is not reset in a loop. */
	bool ran = false;
	if (period != UINT64_MAX && (!last || drv_now_ns() - last >= period)) {
		(void)reset_locked(dev, true);
		ran = true;
	} else if (period != UINT64_MAX) {
		__atomic_store_n(&h->reset_wanted, 1,
				 __ATOMIC_RELAXED); /* once the period is over */
	}
	pthread_mutex_unlock(&dev->config_lock);
	return ran;
}
