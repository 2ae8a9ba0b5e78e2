/* SPDX-License-Identifier: MIT */
/*
 * Which driver serves a device: every driver declares the PCI functions it
 * drives, and drv_open() matches the ids the bus read against them before
 * anything else is set up (the driver's DMA limits shape the DMA pool).
 */
#include <stdio.h>
#include <string.h>

#include "dev/devdrv.h"

static const struct drv_dev_ops *const drivers[] = { &drv_dev_dsim, &drv_dev_edu };
#define NDRIVERS (sizeof(drivers) / sizeof(drivers[0]))

const struct drv_dev_ops *drv_driver_match(uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < NDRIVERS; i++)
		for (const struct drv_pci_id *id = drivers[i]->ids; id->vendor; id++)
			if (id->vendor == vendor && id->device == device)
				return drivers[i];
	return NULL;
}

void drv_driver_list(char *buf, size_t len)
{
	size_t used = strlen(buf);
	for (size_t i = 0; i < NDRIVERS; i++)
		for (const struct drv_pci_id *id = drivers[i]->ids; id->vendor && used < len; id++)
			used += (size_t)snprintf(buf + used, len - used, "%s%s %04x:%04x",
						 used ? ", " : "", drivers[i]->name, id->vendor,
						 id->device);
}
