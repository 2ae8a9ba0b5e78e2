/* SPDX-License-Identifier: MIT */
/*
 * Device drivers: what knows a device's registers and rings. The queue
 * layer (src/queue) is device-agnostic and calls a driver through
 * struct drv_dev_ops; a driver reaches its device only through the bus.
 */
#ifndef DRV_DEVDRV_H
#define DRV_DEVDRV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "dma/dma.h"
#include "drv/drv.h"

struct drv_slot;

/* A PCI function a driver serves. */
struct drv_pci_id {
	uint16_t vendor, device;
};

/*
 * The device's DMA is done by something outside the guest's IOMMU (devsim
 * on the host, writing guest RAM by physical address), so its bus
 * addresses are physical even under vfio.
 */
#define DRV_DRIVER_DMA_PHYSICAL (1u << 0)

struct drv_dev_ops {
	const char *name; /* "dsim", "edu" */
	/* What it drives, ending with { 0, 0 }; drv_open picks the driver by these. */
	const struct drv_pci_id *ids;
	/* Highest bus address the device reaches (0: all 64 bits); DMA stays below. */
	uint64_t dma_mask;
	unsigned flags; /* DRV_DRIVER_* */
	/* Identifies and initialises the device; fills dev->info. */
	int (*probe)(drv_dev *dev);
	/* Quiesces the device so it touches no memory, then forgets all queues. */
	void (*remove)(drv_dev *dev);
	/* Builds the hardware queue for q (rings, vector, coalescing, enable). */
	int (*queue_create)(drv_queue *q);
	void (*queue_destroy)(drv_queue *q);
	/*
	 * Hands the mapped request r to the device without ringing its
	 * doorbell. Returns 0, or -errno when the device cannot take this
	 * request (the queue layer then fails it with that status).
	 */
	int (*post)(drv_queue *q, const struct drv_request *r);
	/* Publishes everything posted since the last commit; at most one doorbell. */
	void (*commit)(drv_queue *q);
	/*
	 * Consumes device completions, calling drv_queue_complete() for each, up
	 * to `budget`. Returns the number consumed, or -errno when the queue or
	 * device failed (the queue layer then fails everything pending).
	 */
	int (*reap)(drv_queue *q, unsigned budget);
	/*
	 * Asks the device to give back request r early. 0: it will complete (as
	 * aborted or done); -EOPNOTSUPP: the device cannot abort it, the slot
	 * completes when the device finishes it.
	 */
	int (*abort)(drv_queue *q, const struct drv_request *r);
	/*
	 * Interrupts on (true) or off. Turning them on returns true when
	 * completions are already waiting, so a waiter never sleeps on a
	 * completion that raced with the unmask.
	 */
	bool (*irq_enable)(drv_queue *q, bool on);
};

/* The device, as the library holds it. */
struct drv_dev {
	const struct drv_bus_ops *bus;
	void *bus_priv;
	const struct drv_dev_ops *ops;
	void *drv_priv;
	struct drv_dma_pool dma;
	struct drv_info info;
	pthread_mutex_t lock;     /* queue list, queue id allocation */
	struct drv_queue *queues; /* singly linked through drv_queue.next */
	unsigned queue_ids_used;  /* bitmap of hardware queue ids */
	int dead;                 /* atomic: device unreachable, everything fails -ENODEV */
	/*
	 * Highest bus address the device can reach (edu: 28 bits), and whether
	 * its bus addresses are physical ones: both from the driver matched at
	 * open, before the first DMA region is mapped.
	 */
	uint64_t dma_mask;
	bool dma_physical;
};

extern const struct drv_dev_ops drv_dev_dsim;
extern const struct drv_dev_ops drv_dev_edu;

/* dev/registry.c: the driver whose id table names vendor:device, or NULL. */
const struct drv_dev_ops *drv_driver_match(uint16_t vendor, uint16_t device);
/* Appends "dsim 1af4:1110, edu 1234:11e8" (every driver's ids) to buf. */
void drv_driver_list(char *buf, size_t len);

#endif
