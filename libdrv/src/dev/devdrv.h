/* SPDX-License-Identifier: MIT */
/*
 * The device as libdrv holds it, between a bus (src/bus) and a driver
 * (drv/driver.h). Drivers never see this structure: they reach the device
 * through the drv_dev_* functions of driver.h (dev/device.c), which speak
 * to the bus for them.
 */
#ifndef DRV_DEVDRV_H
#define DRV_DEVDRV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "dma/dma.h"
#include "drv/driver.h"

/* A queue index is a bit of drv_dev.queue_ids_used. */
#define DRV_DEV_MAX_QUEUES 64u

struct drv_dev {
	const struct drv_bus_ops *bus;
	void *bus_priv;
	const struct drv_driver *ops;
	void *drv_priv;
	struct drv_dma_pool dma;
	struct drv_info info;
	uint32_t pci_class;       /* 24-bit class code the bus read (matching) */
	pthread_mutex_t lock;     /* queue list, queue id allocation */
	struct drv_queue *queues; /* singly linked through drv_queue.next */
	uint64_t queue_ids_used;  /* bitmap of hardware queue ids */
	int dead;                 /* atomic: device unreachable, everything fails -ENODEV */
	/*
	 * Highest bus address the device can reach (edu: 28 bits), and whether
	 * its bus addresses are physical ones: both from the driver matched at
	 * open, before the first DMA region is mapped.
	 */
	uint64_t dma_mask;
	bool dma_physical;
};

/* The drivers libdrv carries (drivers/): known without registration. */
extern const struct drv_driver dsim_driver;
extern const struct drv_driver edu_driver;
extern const struct drv_driver nvme_driver;

/*
 * dev/registry.c. Picks the driver for dev (by `name` when not NULL, else
 * by the ids the bus read) and holds it until drvi_driver_put(); sets
 * dev->ops, info.driver, dma_mask, dma_physical. -ENODEV with a message naming the
 * drivers there are.
 */
int drvi_driver_get(drv_dev *dev, const char *name);
void drvi_driver_put(drv_dev *dev);
/* Whether id matches vendor:device of class `pci_class`. */
bool drvi_pci_id_match(const struct drv_pci_id *id, uint16_t vendor, uint16_t device,
		       uint32_t pci_class);
/* The name of the driver that would serve vendor:device, or NULL. */
const char *drvi_driver_name_for(uint16_t vendor, uint16_t device, uint32_t pci_class);

#endif
