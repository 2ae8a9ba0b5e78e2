/* SPDX-License-Identifier: MIT */
/*
 * What a driver may do with its device (drv/driver.h): everything goes
 * through here to the bus, so one driver runs on every bus and never
 * touches the framework's structures.
 */
#include <stdio.h>
#include <sys/eventfd.h>
#include <time.h>

#include "abi.h"
#include "dev/devdrv.h"
#include "drv/mmio.h"
#include "queue/queue.h"

_Static_assert(DRV_DEV_MAX_QUEUES <= 8 * sizeof(((struct drv_dev *)0)->queue_ids_used),
	       "every queue index needs a bit of queue_ids_used");

DRV_API void *drv_dev_priv(const drv_dev *dev)
{
	return dev->drv_priv;
}

DRV_API void drv_dev_set_priv(drv_dev *dev, void *priv)
{
	dev->drv_priv = priv;
}

DRV_API const struct drv_info *drv_dev_info(const drv_dev *dev)
{
	return &dev->info;
}

DRV_ABI_DEFAULT(drv_dev_set_info, "LIBDRV_0.2")
DRV_API void drv_dev_set_info(drv_dev *dev, const struct drv_info *info)
{
	/* drv_info() may copy it in another thread while a reset's probe rewrites it. */
	pthread_mutex_lock(&dev->health.lock);
	struct drv_info kept = dev->info;
	dev->info = *info;
	memcpy(dev->info.driver, kept.driver, sizeof(kept.driver));
	memcpy(dev->info.bus, kept.bus, sizeof(kept.bus));
	memcpy(dev->info.address, kept.address, sizeof(kept.address));
	dev->info.vendor_id = kept.vendor_id;
	dev->info.device_id = kept.device_id;
	dev->info.irq_vectors = kept.irq_vectors;
	dev->info.irq_mode = kept.irq_mode;
	dev->info.dma_pool_bytes = kept.dma_pool_bytes;
	if (dev->info.max_queues > DRV_DEV_MAX_QUEUES)
		dev->info.max_queues = DRV_DEV_MAX_QUEUES;
	if (dev->info.block_size == 0)
		dev->info.block_size = 1;
	dev->info.serial[sizeof(dev->info.serial) - 1] = 0;
	dev->info.firmware[sizeof(dev->info.firmware) - 1] = 0;
	dev->info.model[sizeof(dev->info.model) - 1] = 0;
	pthread_mutex_unlock(&dev->health.lock);
}

DRV_API int drv_dev_map_bar(drv_dev *dev, unsigned bar, volatile void **va, size_t *len)
{
	return dev->bus->map_region(dev, bar, va, len);
}

DRV_API int drv_dev_config_read(drv_dev *dev, unsigned off, void *data, size_t len)
{
	if (!dev->bus->config_read)
		return drv_fail(-EOPNOTSUPP, "the %s bus has no PCI configuration space",
				dev->bus->name);
	return dev->bus->config_read(dev, off, data, len);
}

DRV_API int drv_dev_config_write(drv_dev *dev, unsigned off, const void *data, size_t len)
{
	if (!dev->bus->config_write)
		return drv_fail(-EOPNOTSUPP, "the %s bus has no PCI configuration space",
				dev->bus->name);
	return dev->bus->config_write(dev, off, data, len);
}

DRV_API bool drv_dev_has_kick(const drv_dev *dev)
{
	return dev->bus->kick != NULL;
}

DRV_API int drv_dev_kick(drv_dev *dev, unsigned vector)
{
	if (!dev->bus->kick)
		return -EOPNOTSUPP;
	dev->bus->kick(dev, vector);
	return 0;
}

DRV_API int drv_dev_irq_setup(drv_dev *dev, unsigned wanted)
{
	enum drv_irq_mode mode = DRV_IRQ_NONE;
	int n = dev->bus->irq_setup ? dev->bus->irq_setup(dev, wanted, &mode) : 0;
	if (n < 0)
		return n;
	pthread_mutex_lock(&dev->health.lock);
	dev->info.irq_vectors = (uint32_t)n;
	dev->info.irq_mode = n > 0 ? mode : DRV_IRQ_NONE;
	pthread_mutex_unlock(&dev->health.lock);
	return n;
}

DRV_API int drv_dev_alive(drv_dev *dev)
{
	if (__atomic_load_n(&dev->dead, __ATOMIC_ACQUIRE))
		return -ENODEV;
	if (dev->bus->alive && dev->bus->alive(dev) < 0)
		return -ENODEV;
	return 0;
}

DRV_API void drv_dev_set_failed(drv_dev *dev)
{
	__atomic_store_n(&dev->dead, 1, __ATOMIC_RELEASE);
	drvi_health_set(dev, DRV_HEALTH_FAILED, -ENODEV, "the %s driver marked the device failed",
			dev->info.driver);
}

#define POLL_PAUSE_NS 20000

DRV_API int drv_dev_poll(drv_dev *dev, int (*check)(void *arg), void *arg, uint64_t timeout_ns)
{
	uint64_t end = drv_now_ns() + timeout_ns;
	for (;;) {
		int rc = check(arg);
		if (rc)
			return rc;
		if (drv_dev_alive(dev) < 0)
			return -ENODEV;
		if (drv_now_ns() >= end)
			return -ETIMEDOUT;
		nanosleep(&(struct timespec){ .tv_nsec = POLL_PAUSE_NS }, NULL);
	}
}

struct reg_wait {
	const volatile void *regs;
	uint32_t off, mask, want, fail;
};

static int reg_reached(void *arg)
{
	const struct reg_wait *w = arg;
	uint32_t v = drv_mmio_rd32(w->regs, w->off);
	if ((v & w->mask) == w->want)
		return 1;
	return v & w->fail ? -EIO : 0;
}

DRV_API int drv_dev_wait32(drv_dev *dev, const volatile void *regs, uint32_t off, uint32_t mask,
			   uint32_t want, uint32_t fail, uint64_t timeout_ns)
{
	struct reg_wait w = { regs, off, mask, want, fail };
	int rc = drv_dev_poll(dev, reg_reached, &w, timeout_ns);
	return rc == 1 ? 0 : rc;
}

DRV_API const struct drv_queue_opts *drv_queue_options(const drv_queue *q)
{
	return &q->opts;
}

DRV_API void drv_queue_set_vector(drv_queue *q, unsigned vector)
{
	q->vector = vector;
}

DRV_API void drv_queue_watch_vector(drv_queue *q, unsigned vector)
{
	q->watch_extra = true;
	q->extra_vector = vector;
}

DRV_API void drv_queue_wake(drv_queue *q)
{
	eventfd_write(q->sw_fd, 1);
}
