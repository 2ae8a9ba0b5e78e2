/* SPDX-License-Identifier: MIT */
/* pagemap decoding: present bit, PFN bits, hidden PFNs, lookups through a file; pinned sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/pagemap.h"
#include "bus/pinned.h"
#include "drv/drv.h"

static void test_decode(void **state)
{
	(void)state;
	uint64_t pfn = 0;
	/* Present, soft-dirty and exclusive bits set around PFN 0x12345. */
	assert_int_equal(
	    drvi_pagemap_decode(DRV_PAGEMAP_PRESENT | (1ull << 55) | (1ull << 56) | 0x12345, &pfn),
	    0);
	assert_true(pfn == 0x12345);
	assert_int_equal(drvi_pagemap_decode(DRV_PAGEMAP_PRESENT | DRV_PAGEMAP_PFN_MASK, &pfn), 0);
	assert_true(pfn == DRV_PAGEMAP_PFN_MASK);
}

static void test_not_present(void **state)
{
	(void)state;
	uint64_t pfn = 7;
	assert_int_equal(drvi_pagemap_decode(0x12345, &pfn), -EFAULT);
	assert_true(pfn == 7);
	assert_non_null(strstr(drv_errmsg(), "not resident"));
}

static void test_pfn_hidden(void **state)
{
	(void)state;
	uint64_t pfn;
	assert_int_equal(drvi_pagemap_decode(DRV_PAGEMAP_PRESENT, &pfn), -EPERM);
	assert_non_null(strstr(drv_errmsg(), "PFN 0"));
	assert_non_null(strstr(drv_errmsg(), "CAP_SYS_ADMIN"));
	assert_non_null(strstr(drv_errmsg(), "root"));
	assert_non_null(strstr(drv_errmsg(), "vfio"));
}

static void test_lookup_through_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test_pagemap.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	const long page = sysconf(_SC_PAGESIZE);
	/* Entries for virtual pages 16..19; page 18 is not present. */
	uint64_t entries[4] = { DRV_PAGEMAP_PRESENT | 100, DRV_PAGEMAP_PRESENT | 101, 102,
				DRV_PAGEMAP_PRESENT | 500 };
	assert_int_equal(pwrite(fd, entries, sizeof(entries), 16 * 8), sizeof(entries));
	uint64_t phys[4] = { 0 };
	uintptr_t va = 16 * (uintptr_t)page;
	assert_int_equal(drvi_pagemap_phys(fd, va, 2 * (size_t)page, (size_t)page, phys), 0);
	assert_true(phys[0] == 100 * (uint64_t)page && phys[1] == 101 * (uint64_t)page);
	/* Steps of two pages read only the first page of each block. */
	assert_int_equal(drvi_pagemap_phys(fd, va, 2 * (size_t)page, 2 * (size_t)page, phys), 0);
	assert_true(phys[0] == 100 * (uint64_t)page);
	assert_int_equal(drvi_pagemap_phys(fd, va, 4 * (size_t)page, (size_t)page, phys), -EFAULT);
	/* Past the end of the file. */
	assert_int_equal(
	    drvi_pagemap_phys(fd, 64 * (uintptr_t)page, (size_t)page, (size_t)page, phys), -EIO);
	assert_int_equal(drvi_pagemap_phys(fd, va + 1, (size_t)page, (size_t)page, phys), -EINVAL);
	close(fd);
}

static void test_own_memory(void **state)
{
	(void)state;
	FILE *f = fopen("/proc/self/pagemap", "re");
	if (!f)
		skip();
	const long page = sysconf(_SC_PAGESIZE);
	char *mem = aligned_alloc((size_t)page, (size_t)page);
	memset(mem, 1, (size_t)page);
	uint64_t phys;
	int err = drvi_pagemap_phys(fileno(f), (uintptr_t)mem, (size_t)page, (size_t)page, &phys);
	/* Root sees a frame; others get the documented -EPERM. */
	if (geteuid() == 0)
		assert_int_equal(err, 0);
	else
		assert_int_equal(err, -EPERM);
	free(mem);
	fclose(f);
}

/* A length that rounding up to a hugepage would wrap is refused, not mapped as 0 bytes. */
static void test_pinned_refuses_wrapping_length(void **state)
{
	(void)state;
	struct drv_dma_region r = { 0 };
	assert_int_equal(drvi_pinned_map(SIZE_MAX, UINT64_MAX, &r), -ENOMEM);
	assert_non_null(strstr(drv_errmsg(), "dma_pool_bytes"));
	assert_null(r.va);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_not_present),
		cmocka_unit_test(test_pfn_hidden),
		cmocka_unit_test(test_lookup_through_file),
		cmocka_unit_test(test_own_memory),
		cmocka_unit_test(test_pinned_refuses_wrapping_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
