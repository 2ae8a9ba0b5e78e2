/* SPDX-License-Identifier: MIT */
/* What a VFIO type1 IOMMU lets us map: usable IOVA ranges and page size. */
#ifndef DRV_BUS_VFIO_IOMMU_H
#define DRV_BUS_VFIO_IOMMU_H

#include <stddef.h>
#include <stdint.h>

#include "iova.h"

/* x86's MSI doorbell window: DMA writes there become interrupts. */
#define DRV_MSI_WINDOW_START 0xfee00000ull
#define DRV_MSI_WINDOW_LAST 0xfeefffffull

/*
 * Fills s from a VFIO_IOMMU_GET_INFO answer (struct vfio_iommu_type1_info
 * and its capability chain, len bytes): the IOVA-range capability's
 * ranges, or the whole 64-bit space when the kernel reports none, minus
 * page 0 (so bus address 0 never names DMA memory) and the MSI window.
 */
int drvi_vfio_iova_from_info(const void *info, size_t len, struct drv_iova_space *s);

/* Queries the container and fills s and the smallest IOMMU page size. */
int drvi_vfio_iommu_space(int container, struct drv_iova_space *s, uint64_t *page);

#endif
