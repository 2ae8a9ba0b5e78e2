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

struct drv_dev_ops {
	const char *name; /* "dsim", "edu" */
	/* Identifies and initialises the device; fills dev->info. */
	int (*probe)(drv_dev *dev);
	/* Quiesces the device so it touches no memory, then forgets all queues. */
	void (*remove)(drv_dev *dev);
	/* Builds the hardware queue for q (rings, vector, coalescing, enable). */
	int (*queue_create)(drv_queue *q);
	void (*queue_destroy)(drv_queue *q);
	/*
	 * Hands the mapped request in slot s to the device without ringing its
	 * doorbell. Returns 0, or -errno when the device cannot take this
	 * request (the queue layer then fails it with that status).
	 */
	int (*post)(drv_queue *q, struct drv_slot *s);
	/* Publishes everything posted since the last commit; at most one doorbell. */
	void (*commit)(drv_queue *q);
	/*
	 * Consumes device completions, calling drv_queue_complete() for each, up
	 * to `budget`. Returns the number consumed, or -errno when the queue or
	 * device failed (the queue layer then fails everything pending).
	 */
	int (*reap)(drv_queue *q, unsigned budget);
	/*
	 * Asks the device to give back slot s early. 0: it will complete (as
	 * aborted or done); -EOPNOTSUPP: the device cannot abort it, the slot
	 * completes when the device finishes it.
	 */
	int (*abort)(drv_queue *q, struct drv_slot *s);
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
	 * Highest bus address the device can reach (edu: 28 bits). PCI buses
	 * fill it at open from the device's id when 0; a driver may lower it
	 * in probe. DMA regions mapped later stay below it.
	 */
	uint64_t dma_mask;
};

extern const struct drv_dev_ops drv_dev_dsim;
extern const struct drv_dev_ops drv_dev_edu;

#endif
