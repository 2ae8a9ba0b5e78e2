/* SPDX-License-Identifier: MIT */
#include "pagemap.h"

#include <errno.h>
#include <unistd.h>

#include "drv/driver.h"

int drvi_pagemap_decode(uint64_t entry, uint64_t *pfn)
{
	if (!(entry & DRV_PAGEMAP_PRESENT))
		return drv_fail(-EFAULT, "DMA page is not resident in memory (pagemap entry %#llx)",
				(unsigned long long)entry);
	uint64_t frame = entry & DRV_PAGEMAP_PFN_MASK;
	if (frame == 0)
		return drv_fail(-EPERM, "pagemap gave PFN 0: run as root (CAP_SYS_ADMIN) or use "
					"vfio");
	*pfn = frame;
	return 0;
}

int drvi_pagemap_phys(int fd, uintptr_t va, size_t len, size_t step, uint64_t *phys)
{
	long page = sysconf(_SC_PAGESIZE);
	if (step == 0 || va % (uintptr_t)page || step % (size_t)page)
		return drv_fail(-EINVAL,
				"pagemap lookup of %#lx+%zu in steps of %zu is not "
				"page aligned",
				(unsigned long)va, len, step);
	for (size_t off = 0, i = 0; off < len; off += step, i++) {
		uint64_t entry, pfn = 0;
		off_t pos = (off_t)((va + off) / (uintptr_t)page * sizeof(entry));
		ssize_t n = pread(fd, &entry, sizeof(entry), pos);
		if (n < 0)
			return drv_fail_errno(-errno, "reading /proc/self/pagemap");
		if (n != sizeof(entry))
			return drv_fail(-EIO, "short read from /proc/self/pagemap");
		int err = drvi_pagemap_decode(entry, &pfn);
		if (err)
			return err;
		phys[i] = pfn * (uint64_t)page;
	}
	return 0;
}
