/* SPDX-License-Identifier: MIT */
/*
 * I/O virtual address space of one VFIO container: which bus addresses are
 * free to map DMA memory at. The IOMMU's usable ranges are added, reserved
 * windows (the MSI doorbell window) taken out, and allocations honour the
 * device's DMA mask. Ranges are inclusive [start, last] so the top of the
 * 64-bit space is representable. Fixed-size, no heap.
 */
#ifndef DRV_BUS_IOVA_H
#define DRV_BUS_IOVA_H

#include <stdint.h>

#define DRV_IOVA_MAX_RANGES 64

struct drv_iova_range {
	uint64_t start, last;
};

struct drv_iova_space {
	struct drv_iova_range free[DRV_IOVA_MAX_RANGES]; /* sorted, disjoint, not adjacent */
	unsigned nfree;
};

void drvi_iova_init(struct drv_iova_space *s);
/* Makes [start, last] available (merging with neighbours). -ENOSPC when full. */
int drvi_iova_add(struct drv_iova_space *s, uint64_t start, uint64_t last);
/* Takes [start, last] out of the free ranges, wherever it overlaps them. */
int drvi_iova_reserve(struct drv_iova_space *s, uint64_t start, uint64_t last);
/*
 * Finds the lowest free block of len bytes aligned to align (a power of
 * two) whose last byte is <= mask. -ENOMEM with a message when none fits.
 */
int drvi_iova_alloc(struct drv_iova_space *s, uint64_t len, uint64_t align, uint64_t mask,
		    uint64_t *iova);
/* Gives back a block from drvi_iova_alloc. */
int drvi_iova_free(struct drv_iova_space *s, uint64_t iova, uint64_t len);

#endif
