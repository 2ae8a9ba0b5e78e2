/* SPDX-License-Identifier: MIT */
/*
 * Entry points for programs and drivers built against libdrv 0.1, whose
 * struct drv_info ended at dma_pool_bytes. Only the shared library carries
 * them (a static consumer is always built against its own headers); the
 * version script names the nodes, abi.h binds these functions to the old
 * ones.
 */
#include <stddef.h>
#include <string.h>

#include "abi.h"
#include "drv/driver.h"
#include "drv/drv.h"

#define DRV_INFO_0_1_SIZE offsetof(struct drv_info, block_size)
_Static_assert(DRV_INFO_0_1_SIZE == 224, "the 0.1 drv_info layout must not move");

DRV_API int drvi_info_0_1(drv_dev *dev, void *out);
DRV_API void drvi_dev_set_info_0_1(drv_dev *dev, const void *info);

DRV_ABI_COMPAT(drvi_info_0_1, drv_info, "LIBDRV_0.1")
DRV_ABI_COMPAT(drvi_dev_set_info_0_1, drv_dev_set_info, "LIBDRV_0.1")

int drvi_info_0_1(drv_dev *dev, void *out)
{
	struct drv_info info;
	int r;

	if (!out)
		return drv_info(dev, NULL);
	r = drv_info(dev, &info);
	if (r == 0)
		memcpy(out, &info, DRV_INFO_0_1_SIZE);
	return r;
}

void drvi_dev_set_info_0_1(drv_dev *dev, const void *info)
{
	struct drv_info full = { 0 };

	memcpy(&full, info, DRV_INFO_0_1_SIZE);
	drv_dev_set_info(dev, &full);
}
