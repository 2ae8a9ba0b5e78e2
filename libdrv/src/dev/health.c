/* SPDX-License-Identifier: MIT */
/*
 * The device's health (drv.h, docs/reliability.md): one state, counters,
 * the reason for the last change, and an eventfd that wakes whoever
 * watches. Every change goes through drvi_health_set().
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dev/devdrv.h"

int drvi_health_init(drv_dev *dev)
{
	struct drv_dev_health *h = &dev->health;
	pthread_mutex_init(&h->lock, NULL);
	h->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->fd < 0) {
		pthread_mutex_destroy(&h->lock);
		return drv_fail_errno(-errno, "cannot create the device's health eventfd");
	}
	h->now.state = DRV_HEALTH_OK;
	snprintf(h->now.reason, sizeof(h->now.reason), "opened");
	h->auto_reset_ns = DRV_AUTO_RESET_NS_DEFAULT;
	h->recheck_ns = DRV_IRQ_RECHECK_US_DEFAULT * 1000ull;
	return 0;
}

void drvi_health_fini(drv_dev *dev)
{
	close(dev->health.fd);
	pthread_mutex_destroy(&dev->health.lock);
}

static void set_locked(struct drv_dev_health *h, enum drv_health_state state, int error)
{
	bool changed = h->now.state != state;
	h->now.state = state;
	h->now.error = error;
	if (state == DRV_HEALTH_RESETTING)
		h->now.resets++;
	if (changed) {
		h->now.changes++;
		eventfd_write(h->fd, 1);
	}
}

void drvi_health_set(drv_dev *dev, enum drv_health_state state, int error, const char *fmt, ...)
{
	struct drv_dev_health *h = &dev->health;
	pthread_mutex_lock(&h->lock);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->now.reason, sizeof(h->now.reason), fmt, ap);
	va_end(ap);
	set_locked(h, state, error);
	pthread_mutex_unlock(&h->lock);
}

void drvi_health_failed(drv_dev *dev, int status, const char *why)
{
	struct drv_dev_health *h = &dev->health;
	pthread_mutex_lock(&h->lock);
	if (h->now.state != DRV_HEALTH_FAILED || h->now.error != status) {
		snprintf(h->now.reason, sizeof(h->now.reason), "%s", why);
		set_locked(h, DRV_HEALTH_FAILED, status);
	}
	pthread_mutex_unlock(&h->lock);
}

void drvi_health_quarantine(drv_dev *dev, int delta)
{
	struct drv_dev_health *h = &dev->health;
	pthread_mutex_lock(&h->lock);
	h->now.quarantined += (uint32_t)delta;
	__atomic_store_n(&h->quarantined, h->now.quarantined, __ATOMIC_RELAXED);
	enum drv_health_state s = h->now.state;
	if (s == DRV_HEALTH_OK && h->now.quarantined) {
		snprintf(h->now.reason, sizeof(h->now.reason),
			 "a request timed out and the device has not given it back");
		set_locked(h, DRV_HEALTH_DEGRADED, 0);
	} else if (s == DRV_HEALTH_DEGRADED && !h->now.quarantined) {
		snprintf(h->now.reason, sizeof(h->now.reason),
			 "the device gave back every timed-out request");
		set_locked(h, DRV_HEALTH_OK, 0);
	}
	pthread_mutex_unlock(&h->lock);
}

void drvi_health_count_lost_irq(drv_dev *dev)
{
	pthread_mutex_lock(&dev->health.lock);
	dev->health.now.lost_interrupts++;
	pthread_mutex_unlock(&dev->health.lock);
}

DRV_API int drv_health(drv_dev *dev, struct drv_health *out)
{
	if (!dev || !out)
		return drv_fail(-EINVAL, "drv_health: dev and out must not be NULL");
	struct drv_dev_health *h = &dev->health;
	pthread_mutex_lock(&h->lock);
	eventfd_t v;
	(void)eventfd_read(h->fd, &v);
	*out = h->now;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

DRV_API int drv_health_fd(drv_dev *dev)
{
	if (!dev)
		return drv_fail(-EINVAL, "drv_health_fd: NULL device");
	return dev->health.fd;
}

DRV_API int drv_set_recovery(drv_dev *dev, const struct drv_recovery *policy)
{
	if (!dev)
		return drv_fail(-EINVAL, "drv_set_recovery: NULL device");
	struct drv_recovery p = policy ? *policy : (struct drv_recovery){ 0 };
	if (p.irq_recheck_us > 60u * 1000 * 1000)
		return drv_fail(-EINVAL,
				"irq_recheck_us %u: at most a minute (60000000), or a lost "
				"interrupt could stall a waiter that long",
				p.irq_recheck_us);
	if (p.request_timeout_ns < 0)
		return drv_fail(-EINVAL, "request_timeout_ns %lld: 0 (none) or a positive deadline",
				(long long)p.request_timeout_ns);
	struct drv_dev_health *h = &dev->health;
	uint64_t reset = p.auto_reset_ns < 0    ? UINT64_MAX
			 : p.auto_reset_ns == 0 ? (uint64_t)DRV_AUTO_RESET_NS_DEFAULT
						: (uint64_t)p.auto_reset_ns;
	uint64_t recheck =
	    (p.irq_recheck_us ? p.irq_recheck_us : DRV_IRQ_RECHECK_US_DEFAULT) * 1000ull;
	/* Read without the lock on the request path and by recovery. */
	__atomic_store_n(&h->auto_reset_ns, reset, __ATOMIC_RELAXED);
	__atomic_store_n(&h->recheck_ns, recheck, __ATOMIC_RELAXED);
	__atomic_store_n(&h->request_timeout_ns, (uint64_t)p.request_timeout_ns, __ATOMIC_RELAXED);
	return 0;
}
