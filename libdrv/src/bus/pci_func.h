/* SPDX-License-Identifier: MIT */
/*
 * What the two PCI buses (uio, vfio) share about the function they opened:
 * its configuration space behind a file descriptor, its BAR mappings made
 * once and kept until close, bus mastering turned on at open and off at
 * close, and the check that the function is bound to the kernel driver the
 * bus needs. Each bus embeds struct drvi_pci_func first in its bus_priv, so
 * the bus operations below serve both unchanged.
 */
#ifndef DRV_BUS_PCI_FUNC_H
#define DRV_BUS_PCI_FUNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "drv/pci.h"

#define DRVI_PCI_BARS 6

struct drvi_pci_func {
	char addr[16];
	int config_fd;          /* uio: sysfs `config`; vfio: the device fd */
	uint64_t config_offset; /* where config space starts in config_fd */
	bool master_set;        /* open turned bus mastering on: close turns it off */
	/* Maps BAR idx for the first time (the buses reach BARs differently). */
	int (*map_bar)(struct drvi_pci_func *f, unsigned idx, void **va, size_t *len);
	struct {
		void *va;
		size_t len;
	} bar[DRVI_PCI_BARS];
};

/* Empty: no fd, nothing mapped. */
void drvi_pci_func_init(struct drvi_pci_func *f, const char *addr,
			int (*map_bar)(struct drvi_pci_func *f, unsigned idx, void **va,
				       size_t *len));

/*
 * 0 when the function exists and is bound to the kernel driver of `bus`
 * ("uio" or "vfio"), filling *out; else -ENODEV / -EBUSY with the drvctl
 * command that binds it.
 */
int drvi_pci_func_check_bound(const char *addr, const char *bus, struct drv_pci_dev *out);

/* Reads the ids (they pick the driver) and class, turns memory decoding and bus mastering on. */
int drvi_pci_func_enable(const struct drv_bus_ops *bus, drv_dev *dev);
/* Bus mastering back off if open turned it on, BARs unmapped. The fd stays the bus's. */
void drvi_pci_func_release(const struct drv_bus_ops *bus, drv_dev *dev);

/* Bus operations for a dev whose bus_priv begins with struct drvi_pci_func. */
int drvi_pci_func_config_read(drv_dev *dev, unsigned off, void *data, size_t len);
int drvi_pci_func_config_write(drv_dev *dev, unsigned off, const void *data, size_t len);
int drvi_pci_func_map_region(drv_dev *dev, unsigned idx, volatile void **va, size_t *len);

#endif
