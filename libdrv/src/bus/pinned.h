/* SPDX-License-Identifier: MIT */
/*
 * Pinned DMA memory addressed by physical address, for devices whose DMA
 * does not go through an IOMMU mapping we control (uio; dsim under vfio).
 * 2 MiB hugetlb pages when the system has them free, else locked 4 KiB
 * pages. Needs root to read physical addresses.
 */
#ifndef DRV_BUS_PINNED_H
#define DRV_BUS_PINNED_H

#include <stdint.h>

#include "bus.h"

/*
 * Maps at least len bytes into *out (len rounded up to the block size),
 * every block below dma_mask. out->page_bus is a malloc'ed table unless one
 * block covers everything.
 */
int drvi_pinned_map(size_t len, uint64_t dma_mask, struct drv_dma_region *out);
void drvi_pinned_unmap(struct drv_dma_region *r);

#endif
