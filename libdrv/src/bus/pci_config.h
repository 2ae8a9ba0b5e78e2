/* SPDX-License-Identifier: MIT */
/* PCI configuration space registers the PCI buses touch themselves. */
#ifndef DRV_BUS_PCI_CONFIG_H
#define DRV_BUS_PCI_CONFIG_H

#include <stdint.h>

#include "bus.h"

#define DRV_PCI_VENDOR_ID 0x00 /* the device id follows: both in one 32-bit read */
#define DRV_PCI_COMMAND 0x04
#define DRV_PCI_CLASS_REVISION 0x08 /* revision id, then the 24-bit class code */
#define DRV_PCI_CMD_MEMORY 0x0002u
#define DRV_PCI_CMD_MASTER 0x0004u /* without it DMA and MSI are dropped silently */
#define DRV_PCI_CMD_INTX_DISABLE 0x0400u
#define DRV_PCI_INTERRUPT_PIN 0x3d

/* Sets then clears bits of the command register through bus->config_*. */
int drvi_pci_command_update(const struct drv_bus_ops *bus, drv_dev *dev, uint16_t set,
			    uint16_t clear);

/* Vendor and device id; -ENODEV when the function reads as absent (all ones). */
int drvi_pci_read_ids(const struct drv_bus_ops *bus, drv_dev *dev, uint16_t *vendor,
		      uint16_t *device);

/*
 * Takes a freshly opened function into use: its ids into dev->info and
 * its class code (they pick the driver), memory decoding and bus mastering on. 0 or -errno.
 */
int drvi_pci_enable(const struct drv_bus_ops *bus, drv_dev *dev);

#endif
