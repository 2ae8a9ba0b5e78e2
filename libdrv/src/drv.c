/* SPDX-License-Identifier: MIT */
/*
 * Opening and closing devices: URI dispatch to a bus, the DMA pool, the
 * choice of device driver, and teardown in the order that keeps the device
 * away from freed memory (cancel, grace period, reset, free).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi.h"
#include "bus/pci_sysfs.h"
#include "dev/devdrv.h"
#include "queue/queue.h"

/* pci:ADDR means whichever of uio/vfio the function is bound to. */
static int pci_bus_of(const char *addr, const struct drv_bus_ops **bus)
{
	int err = drvi_pci_addr_check(addr);
	if (err)
		return err;
	char link[PATH_MAX], target[PATH_MAX];
	snprintf(link, sizeof(link), "%s/bus/pci/devices/%s/driver", drvi_sysfs_root(), addr);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return drv_fail(-ENODEV,
				"PCI function %s is not bound to a driver: bind it to vfio-pci "
				"or uio_pci_generic",
				addr);
	target[n] = '\0';
	const char *name = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	if (strcmp(name, "vfio-pci") == 0)
		*bus = &drvi_bus_vfio;
	else if (strcmp(name, "uio_pci_generic") == 0)
		*bus = &drvi_bus_uio;
	else
		return drv_fail(-ENODEV,
				"PCI function %s is bound to %s: bind it to vfio-pci or "
				"uio_pci_generic",
				addr, name);
	return 0;
}

static int pick_bus(const char *uri, const struct drv_bus_ops **bus, const char **addr)
{
	static const struct {
		const char *scheme;
		const struct drv_bus_ops *ops; /* NULL: decided by the kernel driver bound */
	} schemes[] = {
		{ "sim:", &drvi_bus_sim },
		{ "uio:", &drvi_bus_uio },
		{ "vfio:", &drvi_bus_vfio },
		{ "pci:", NULL },
	};
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i].scheme);
		if (strncmp(uri, schemes[i].scheme, n) != 0)
			continue;
		*addr = uri + n;
		*bus = schemes[i].ops;
		return *bus ? 0 : pci_bus_of(*addr, bus);
	}
	return drv_fail(-EINVAL,
			"unknown URI scheme in \"%s\", expected sim:, uio:, vfio: or pci:", uri);
}

/* Releases whatever open_device set up, on every path (a failed open included). */
static void device_free(drv_dev *dev)
{
	if (dev->dma.dev)
		drvi_dma_pool_fini(&dev->dma);
	if (dev->ops)
		drvi_driver_put(dev);
	dev->bus->close(dev);
	drvi_health_fini(dev);
	pthread_mutex_destroy(&dev->config_lock);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

/* bus open -> ids -> driver -> DMA pool (within the driver's limits) -> probe. */
static int open_device(const char *uri, const char *driver, const struct drv_open_opts *opts,
		       drv_dev **out)
{
	if (!uri || !out)
		return drv_fail(-EINVAL, "drv_open: uri and out must not be NULL");
	*out = NULL;
	const struct drv_bus_ops *bus = NULL;
	const char *addr = NULL;
	int err = pick_bus(uri, &bus, &addr);
	if (err)
		return err;
	drv_dev *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return drv_fail(-ENOMEM, "out of memory opening %s", uri);
	dev->bus = bus;
	err = drvi_health_init(dev);
	if (err) {
		free(dev);
		return err;
	}
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->config_lock, NULL);
	size_t pool = opts && opts->dma_pool_bytes ? opts->dma_pool_bytes : 0;
	err = bus->open(dev, addr, opts);
	if (!err)
		err = drvi_driver_get(dev, driver);
	if (!err)
		err = drvi_dma_pool_init(&dev->dma, dev, pool);
	if (!err)
		err = dev->ops->probe(dev);
	if (err) {
		device_free(dev);
		return err;
	}
	*out = dev;
	return 0;
}

DRV_API int drv_open(const char *uri, const struct drv_open_opts *opts, drv_dev **out)
{
	return open_device(uri, NULL, opts, out);
}

DRV_API int drv_open_driver(const char *uri, const char *driver, const struct drv_open_opts *opts,
			    drv_dev **out)
{
	if (!driver)
		return drv_fail(-EINVAL, "drv_open_driver: name the driver");
	return open_device(uri, driver, opts, out);
}

DRV_API int drv_close(drv_dev *dev)
{
	if (!dev)
		return 0;
	if (drvi_in_callback_of(NULL, dev))
		return drv_fail(-EDEADLK, "drv_close from a callback of one of the device's queues "
					  "would wait for itself: close it after the callback");
	/* Recovery stays away from here on (it only tries this lock). */
	pthread_mutex_lock(&dev->config_lock);
	/* Every queue refuses submits and cancels at once; they share one grace period. */
	uint64_t deadline = drv_now_ns() + DRV_CLOSE_GRACE_NS;
	for (drv_queue *q = dev->queues; q; q = q->next)
		drvi_queue_close_begin(q, deadline);
	for (drv_queue *q = dev->queues; q; q = q->next)
		drvi_queue_drain(q);
	for (drv_queue *q = dev->queues; q; q = q->next)
		drvi_queue_stop(q);
	/* After remove() the device touches no memory: slots can be freed. */
	dev->ops->remove(dev);
	for (drv_queue *q = dev->queues; q; q = q->next) {
		if (q->hw_built)
			dev->ops->queue_destroy(q);
		q->hw_built = false;
		drvi_queue_finish(q);
	}
	pthread_mutex_unlock(&dev->config_lock);
	while (dev->queues) {
		drv_queue *q = dev->queues;
		dev->queues = q->next;
		drvi_queue_release(q);
	}
	device_free(dev);
	return 0;
}

DRV_ABI_DEFAULT(drv_info, "LIBDRV_0.2")
DRV_API int drv_info(drv_dev *dev, struct drv_info *out)
{
	if (!dev || !out)
		return drv_fail(-EINVAL, "drv_info: dev and out must not be NULL");
	pthread_mutex_lock(&dev->health.lock); /* a reset's probe may be rewriting it */
	*out = dev->info;
	pthread_mutex_unlock(&dev->health.lock);
	/* The pool grows when buffers are allocated, possibly in another thread. */
	pthread_mutex_lock(&dev->dma.lock);
	out->dma_pool_bytes = dev->dma.bytes_total;
	pthread_mutex_unlock(&dev->dma.lock);
	return 0;
}

#define DRV_STR_(x) #x
#define DRV_STR(x) DRV_STR_(x)

DRV_API const char *drv_irq_mode_name(enum drv_irq_mode mode)
{
	switch (mode) {
	case DRV_IRQ_NONE:
		/* What drv_queue_create does without interrupts, for queues left at the default. */
		return "none (polled every " DRV_STR(DRV_POLL_INTERVAL_US_DEFAULT) " us)";
	case DRV_IRQ_EVENTFD:
		return "eventfd";
	case DRV_IRQ_INTX:
		return "INTx";
	case DRV_IRQ_MSI:
		return "MSI";
	case DRV_IRQ_MSIX:
		return "MSI-X";
	}
	return "unknown";
}
