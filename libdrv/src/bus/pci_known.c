/* SPDX-License-Identifier: MIT */
#include "pci_known.h"

#include <stddef.h>

static const struct drv_pci_known known[] = {
	/* QEMU edu: 28-bit DMA addresses, higher bits silently dropped. */
	{ 0x1234, 0x11e8, "edu", (1ull << 28) - 1, 0 },
	/* dsim behind QEMU's ivshmem-doorbell; devsim writes guest RAM. */
	{ 0x1af4, 0x1110, "dsim", UINT64_MAX, 1 },
};

const struct drv_pci_known *drv_pci_known_lookup(uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].vendor == vendor && known[i].device == device)
			return &known[i];
	return NULL;
}
