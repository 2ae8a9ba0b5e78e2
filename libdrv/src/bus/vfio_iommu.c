/* SPDX-License-Identifier: MIT */
#include "vfio_iommu.h"

#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "drv/driver.h"

static int add_cap_ranges(const uint8_t *base, size_t len, uint32_t off, struct drv_iova_space *s,
			  int *found)
{
	/* Bounded walk: a corrupt chain must not loop. */
	for (unsigned hops = 0; off && hops < 64; hops++) {
		struct vfio_info_cap_header hdr;
		if ((size_t)off + sizeof(hdr) > len)
			return drv_fail(-EIO, "VFIO IOMMU info capability at %u is truncated", off);
		memcpy(&hdr, base + off, sizeof(hdr));
		if (hdr.id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range cap;
			if ((size_t)off + sizeof(cap) > len)
				return drv_fail(-EIO, "VFIO IOVA range capability is truncated");
			memcpy(&cap, base + off, sizeof(cap));
			size_t first = off + sizeof(cap);
			if (first + (size_t)cap.nr_iovas * sizeof(struct vfio_iova_range) > len)
				return drv_fail(-EIO, "VFIO IOVA range list is truncated");
			for (uint32_t i = 0; i < cap.nr_iovas; i++) {
				struct vfio_iova_range r;
				memcpy(&r, base + first + i * sizeof(r), sizeof(r));
				int err = drvi_iova_add(s, r.start, r.end);
				if (err)
					return err;
				*found = 1;
			}
		}
		off = hdr.next;
	}
	return 0;
}

int drvi_vfio_iova_from_info(const void *info, size_t len, struct drv_iova_space *s)
{
	struct vfio_iommu_type1_info head;
	if (len < sizeof(head))
		return drv_fail(-EIO, "VFIO IOMMU info is truncated");
	memcpy(&head, info, sizeof(head));
	drvi_iova_init(s);
	int found = 0, err = 0;
	if (head.flags & VFIO_IOMMU_INFO_CAPS)
		err = add_cap_ranges(info, len, head.cap_offset, s, &found);
	if (!err && !found)
		err = drvi_iova_add(s, 0, UINT64_MAX);
	if (!err)
		err = drvi_iova_reserve(s, 0, 4095);
	if (!err)
		err = drvi_iova_reserve(s, DRV_MSI_WINDOW_START, DRV_MSI_WINDOW_LAST);
	return err;
}

int drvi_vfio_iommu_space(int container, struct drv_iova_space *s, uint64_t *page)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	if (ioctl(container, VFIO_IOMMU_GET_INFO, &probe) != 0)
		return drv_fail_errno(-errno, "VFIO_IOMMU_GET_INFO");
	size_t len = probe.argsz > sizeof(probe) ? probe.argsz : sizeof(probe);
	struct vfio_iommu_type1_info *info = calloc(1, len);
	if (!info)
		return drv_fail(-ENOMEM, "out of memory for VFIO IOMMU info");
	info->argsz = (uint32_t)len;
	int err = 0;
	if (ioctl(container, VFIO_IOMMU_GET_INFO, info) != 0)
		err = drv_fail_errno(-errno, "VFIO_IOMMU_GET_INFO");
	if (!err)
		err = drvi_vfio_iova_from_info(info, len, s);
	*page = 4096;
	if (!err && (info->flags & VFIO_IOMMU_INFO_PGSIZES) && info->iova_pgsizes)
		*page = info->iova_pgsizes & -info->iova_pgsizes; /* lowest set bit */
	free(info);
	return err;
}
