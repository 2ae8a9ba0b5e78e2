/* SPDX-License-Identifier: MIT */
/* PCI functions libdrv has a device driver for, and what their buses must know. */
#ifndef DRV_BUS_PCI_KNOWN_H
#define DRV_BUS_PCI_KNOWN_H

#include <stdint.h>

struct drv_pci_known {
	uint16_t vendor, device;
	const char *driver; /* libdrv device driver */
	uint64_t dma_mask;  /* highest bus address the device reaches */
	/*
	 * The device's DMA is done by something outside the guest's IOMMU
	 * (devsim on the host, writing guest RAM by physical address), so
	 * its bus addresses are physical even under vfio.
	 */
	int dma_is_physical;
};

/* NULL when libdrv does not drive vendor:device. */
const struct drv_pci_known *drv_pci_known_lookup(uint16_t vendor, uint16_t device);

#endif
