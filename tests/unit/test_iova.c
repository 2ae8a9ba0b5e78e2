/* SPDX-License-Identifier: MIT */
/* The IOVA allocator: alignment, DMA mask, reserved windows, exhaustion, reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "bus/iova.h"
#include "bus/vfio_iommu.h"
#include "drv/drv.h"

static void test_alloc_is_aligned_and_lowest_first(void **state)
{
	(void)state;
	struct drv_iova_space s;
	drvi_iova_init(&s);
	assert_int_equal(drvi_iova_add(&s, 0x1000, 0xffffff), 0);
	uint64_t a, b;
	assert_int_equal(drvi_iova_alloc(&s, 0x1000, 0x1000, UINT64_MAX, &a), 0);
	assert_int_equal(a, 0x1000);
	assert_int_equal(drvi_iova_alloc(&s, 0x3000, 0x10000, UINT64_MAX, &b), 0);
	assert_int_equal(b, 0x10000);
	/* The gap left below the aligned block is still usable. */
	assert_int_equal(drvi_iova_alloc(&s, 0x1000, 0x1000, UINT64_MAX, &a), 0);
	assert_int_equal(a, 0x2000);
}

static void test_mask_is_honoured(void **state)
{
	(void)state;
	struct drv_iova_space s;
	drvi_iova_init(&s);
	drvi_iova_add(&s, 0, UINT64_MAX);
	drvi_iova_reserve(&s, 0, (1ull << 28) - 0x2000 - 1);
	uint64_t a;
	const uint64_t mask28 = (1ull << 28) - 1;
	assert_int_equal(drvi_iova_alloc(&s, 0x2000, 0x1000, mask28, &a), 0);
	assert_true(a + 0x2000 - 1 <= mask28);
	assert_int_equal(drvi_iova_alloc(&s, 0x1000, 0x1000, mask28, &a), -ENOMEM);
	assert_non_null(strstr(drv_errmsg(), "DMA mask"));
	/* Without the mask the space above is fine. */
	assert_int_equal(drvi_iova_alloc(&s, 0x1000, 0x1000, UINT64_MAX, &a), 0);
	assert_true(a > mask28);
}

static void test_reserved_msi_window_is_avoided(void **state)
{
	(void)state;
	struct drv_iova_space s;
	drvi_iova_init(&s);
	drvi_iova_add(&s, 0xfe000000, 0xffffffff);
	drvi_iova_reserve(&s, DRV_MSI_WINDOW_START, DRV_MSI_WINDOW_LAST);
	uint64_t a;
	/* 32 MiB minus the 1 MiB window: exactly 31 blocks, none inside the window. */
	for (int i = 0; i < 31; i++) {
		assert_int_equal(drvi_iova_alloc(&s, 0x100000, 0x100000, UINT64_MAX, &a), 0);
		assert_true(a + 0x100000 - 1 < DRV_MSI_WINDOW_START || a > DRV_MSI_WINDOW_LAST);
	}
	assert_int_equal(drvi_iova_alloc(&s, 0x100000, 0x100000, UINT64_MAX, &a), -ENOMEM);
}

static void test_exhaustion_then_reuse(void **state)
{
	(void)state;
	struct drv_iova_space s;
	drvi_iova_init(&s);
	drvi_iova_add(&s, 0x10000, 0x13fff);
	uint64_t a[4], extra;
	for (int i = 0; i < 4; i++)
		assert_int_equal(drvi_iova_alloc(&s, 0x1000, 0x1000, UINT64_MAX, &a[i]), 0);
	assert_int_equal(drvi_iova_alloc(&s, 0x1000, 0x1000, UINT64_MAX, &extra), -ENOMEM);
	assert_int_equal(s.nfree, 0);
	assert_int_equal(drvi_iova_free(&s, a[1], 0x1000), 0);
	assert_int_equal(drvi_iova_free(&s, a[2], 0x1000), 0);
	assert_int_equal(s.nfree, 1); /* neighbours coalesce */
	assert_int_equal(drvi_iova_alloc(&s, 0x2000, 0x1000, UINT64_MAX, &extra), 0);
	assert_int_equal(extra, a[1]);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct drv_iova_space s;
	drvi_iova_init(&s);
	drvi_iova_add(&s, 0, 0xffff);
	uint64_t a;
	assert_int_equal(drvi_iova_alloc(&s, 0, 0x1000, UINT64_MAX, &a), -EINVAL);
	assert_int_equal(drvi_iova_alloc(&s, 0x1000, 0x3000, UINT64_MAX, &a), -EINVAL);
	assert_int_equal(drvi_iova_add(&s, 5, 4), -EINVAL);
}

static void test_top_of_address_space(void **state)
{
	(void)state;
	struct drv_iova_space s;
	drvi_iova_init(&s);
	drvi_iova_add(&s, UINT64_MAX - 0xffff, UINT64_MAX);
	uint64_t a;
	assert_int_equal(drvi_iova_alloc(&s, 0x10000, 0x1000, UINT64_MAX, &a), 0);
	assert_true(a == UINT64_MAX - 0xffff);
	assert_int_equal(drvi_iova_free(&s, a, 0x10000), 0);
	assert_int_equal(s.nfree, 1);
	assert_true(s.free[0].last == UINT64_MAX);
}

/* A VFIO_IOMMU_GET_INFO answer with an IOVA-range capability, as the kernel lays it out. */
static void test_ranges_from_vfio_info(void **state)
{
	(void)state;
	/* info, then the capability header with its range count, then two ranges. */
	struct vfio_iommu_type1_info info = { .argsz = 0, .flags = VFIO_IOMMU_INFO_CAPS };
	struct vfio_iommu_type1_info_cap_iova_range cap = { .nr_iovas = 2 };
	struct vfio_iova_range r[2] = { { 0, 0xfedfffff }, { 0xfef00000, (1ull << 39) - 1 } };
	uint8_t answer[sizeof(info) + sizeof(cap) + sizeof(r)];
	info.argsz = sizeof(answer);
	info.cap_offset = sizeof(info);
	cap.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	memcpy(answer, &info, sizeof(info));
	memcpy(answer + sizeof(info), &cap, sizeof(cap));
	memcpy(answer + sizeof(info) + sizeof(cap), r, sizeof(r));
	struct drv_iova_space s;
	assert_int_equal(drvi_vfio_iova_from_info(answer, sizeof(answer), &s), 0);
	assert_int_equal(s.nfree, 2);
	assert_true(s.free[0].start == 0x1000); /* page 0 never used */
	assert_true(s.free[0].last == 0xfedfffff);
	assert_true(s.free[1].last == (1ull << 39) - 1);

	/* No capability: the whole space minus page 0 and the MSI window. */
	info.flags = 0;
	memcpy(answer, &info, sizeof(info));
	assert_int_equal(drvi_vfio_iova_from_info(answer, sizeof(answer), &s), 0);
	assert_int_equal(s.nfree, 2);
	assert_true(s.free[0].last == DRV_MSI_WINDOW_START - 1);
	assert_true(s.free[1].start == DRV_MSI_WINDOW_LAST + 1);

	/* A truncated chain is an error, not a read past the buffer. */
	info.flags = VFIO_IOMMU_INFO_CAPS;
	memcpy(answer, &info, sizeof(info));
	assert_int_equal(drvi_vfio_iova_from_info(answer, sizeof(answer) - 8, &s), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_is_aligned_and_lowest_first),
		cmocka_unit_test(test_mask_is_honoured),
		cmocka_unit_test(test_reserved_msi_window_is_avoided),
		cmocka_unit_test(test_exhaustion_then_reuse),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_top_of_address_space),
		cmocka_unit_test(test_ranges_from_vfio_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
