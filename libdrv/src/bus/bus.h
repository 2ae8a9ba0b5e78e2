/* SPDX-License-Identifier: MIT */
/*
 * A bus is how libdrv reaches a device: register windows, doorbells,
 * interrupt file descriptors, DMA memory with bus addresses, and teardown.
 * Device drivers (src/dev) see only this interface, so one driver runs on
 * every bus.
 */
#ifndef DRV_BUS_H
#define DRV_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "drv/drv.h"

/*
 * A span of DMA memory obtained from the bus. `va` is the CPU mapping; the
 * device sees byte `off` of it at bus address bus_of(off). `contig` is the
 * largest power-of-two block size within which bus addresses are
 * contiguous and which never straddles (the whole length on sim and vfio,
 * the page size on uio).
 */
struct drv_dma_region {
	void *va;
	size_t len;
	size_t contig;
	uint64_t bus;       /* bus address of byte 0 when contig == len */
	uint64_t *page_bus; /* else: bus address of each contig-sized block */
	void *bus_priv;
};

static inline uint64_t drvi_dma_region_bus(const struct drv_dma_region *r, size_t off)
{
	if (!r->page_bus)
		return r->bus + off;
	return r->page_bus[off / r->contig] + off % r->contig;
}

struct drv_bus_ops {
	const char *name; /* "sim", "uio", "vfio" */
	/* addr is the URI's part after "name:". Fills dev->info.bus/address. */
	int (*open)(drv_dev *dev, const char *addr, const struct drv_open_opts *opts);
	/* Releases everything open() took, on every path; safe after a failed open. */
	void (*close)(drv_dev *dev);
	/* Register window idx (sim: 0 = dsim register page; PCI: BAR idx). */
	int (*map_region)(drv_dev *dev, unsigned idx, volatile void **va, size_t *len);
	/* Doorbell vector v; NULL where the device has its own doorbell register. */
	void (*kick)(drv_dev *dev, unsigned vector);
	/* Number of interrupt vectors delivered as fds, and how (DRV_IRQ_*). */
	int (*irq_setup)(drv_dev *dev, unsigned wanted, enum drv_irq_mode *mode);
	/* Pollable fd signalled on vector v, or -1 when the bus has none. */
	int (*irq_fd)(drv_dev *dev, unsigned vector);
	/* Consumes one wake-up of vector v and re-arms it (read eventfd, INTx unmask). */
	void (*irq_ack)(drv_dev *dev, unsigned vector);
	int (*dma_map)(drv_dev *dev, size_t len, struct drv_dma_region *out);
	void (*dma_unmap)(drv_dev *dev, struct drv_dma_region *r);
	/* fd that becomes readable (POLLHUP/POLLIN) when the device is gone; -1 if none. */
	int (*health_fd)(drv_dev *dev);
	/* 0 while the device is reachable, else -ENODEV. Cheap enough to poll. */
	int (*alive)(drv_dev *dev);
	/* PCI config space; NULL on buses without one. */
	int (*config_read)(drv_dev *dev, unsigned off, void *data, size_t len);
	int (*config_write)(drv_dev *dev, unsigned off, const void *data, size_t len);
};

extern const struct drv_bus_ops drvi_bus_sim;
extern const struct drv_bus_ops drvi_bus_uio;
extern const struct drv_bus_ops drvi_bus_vfio;

#endif
