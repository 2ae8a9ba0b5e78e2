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

/*
 * Health, recovery policy and their counters; `lock` guards all but the
 * atomics, and drv_dev.info too (a reset's probe rewrites it while
 * drv_info() may copy it).
 */
struct drv_dev_health {
	pthread_mutex_t lock;
	struct drv_health now;
	int fd;                      /* eventfd: readable after a change */
	unsigned quarantined;        /* atomic mirror of now.quarantined, for the fast check */
	int reset_wanted;            /* atomic: recovery asks the next processing thread to reset */
	uint64_t auto_reset_ns;      /* UINT64_MAX: never */
	uint64_t recheck_ns;         /* lost-interrupt re-check period */
	uint64_t request_timeout_ns; /* deadline of requests submitted without one, 0 = none */
	uint64_t last_auto_reset;    /* when recovery last reset, for the fatal-error rate limit */
};

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
	int fatal;                /* atomic: the device reported a fatal error; until a reset */
	/*
	 * Held by whatever changes the device's queues as a whole: queue
	 * create/destroy, reset, close. Recovery only tries it (a thread
	 * waiting on a queue being destroyed must not wait for the destroy).
	 */
	pthread_mutex_t config_lock;
	struct drv_dev_health health; /* dev/health.c */
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

/* dev/health.c */
int drvi_health_init(drv_dev *dev);
void drvi_health_fini(drv_dev *dev);
/* Moves to state (recording error and the reason) and wakes drv_health_fd(). */
void drvi_health_set(drv_dev *dev, enum drv_health_state state, int error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* FAILED with status and why, unless it already is with that status (the first reason stays). */
void drvi_health_failed(drv_dev *dev, int status, const char *why);
/* A queue's quarantined slots changed by delta: OK <-> DEGRADED. Queue lock held. */
void drvi_health_quarantine(drv_dev *dev, int delta);
void drvi_health_count_lost_irq(drv_dev *dev);

/*
 * dev/reset.c. Fails everything and resets the device for recovery, when
 * it asked for one (health.reset_wanted) and nothing else holds
 * config_lock; called with no queue lock held. Returns true when a reset ran.
 */
bool drvi_dev_recover(drv_dev *dev);
/* Asks for a recovery reset unless the policy forbids it. */
void drvi_dev_want_reset(drv_dev *dev);
static inline bool drvi_dev_reset_wanted(drv_dev *dev)
{
	return __atomic_load_n(&dev->health.reset_wanted, __ATOMIC_RELAXED);
}
/* 0, or why the device takes no requests: -ENODEV gone, -EIO fatal error. */
static inline int drvi_dev_failure(drv_dev *dev)
{
	if (__atomic_load_n(&dev->dead, __ATOMIC_ACQUIRE))
		return -ENODEV;
	return __atomic_load_n(&dev->fatal, __ATOMIC_ACQUIRE) ? -EIO : 0;
}

#endif
