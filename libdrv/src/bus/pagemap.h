/* SPDX-License-Identifier: MIT */
/*
 * Physical addresses of this process's pages from /proc/self/pagemap, for
 * buses without an IOMMU mapping (uio): the device is given the physical
 * address of pinned memory.
 */
#ifndef DRV_BUS_PAGEMAP_H
#define DRV_BUS_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>

#define DRV_PAGEMAP_PRESENT (1ull << 63)
#define DRV_PAGEMAP_PFN_MASK ((1ull << 55) - 1)

/*
 * Decodes one 64-bit pagemap entry into a page frame number. -EFAULT when
 * the page is not resident, -EPERM when the kernel hid the frame number
 * (it reads 0 without CAP_SYS_ADMIN); both with a message.
 */
int drvi_pagemap_decode(uint64_t entry, uint64_t *pfn);

/*
 * Physical address of the first byte of each `step`-byte block of
 * [va, va + len), from the pagemap file open at fd (normally
 * /proc/self/pagemap). va and step are multiples of the page size.
 */
int drvi_pagemap_phys(int fd, uintptr_t va, size_t len, size_t step, uint64_t *phys);

#endif
