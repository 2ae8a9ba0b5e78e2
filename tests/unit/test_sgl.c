/* SPDX-License-Identifier: MIT */
/* Buffer ranges to bus segments: contiguous, page-split, merging, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_dev.h"

static void contiguous_region_gives_one_segment(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(1 << 20);
	drv_buf *b;
	assert_int_equal(drv_buf_alloc(dev, 65536, &b), 0);
	struct drv_seg s[4];
	assert_int_equal(drvi_dma_segments(b, 100, 60000, s, 4), 1);
	assert_int_equal(s[0].bus, drv_buf_bus(b) + 100);
	assert_int_equal(s[0].len, 60000);
	drv_buf_free(b);
	fake_close(dev);
}

static void page_split_region_merges_adjacent_pages(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(1 << 20);
	fake.page_split = 1;
	/* Force a fresh, page-split region. */
	dev->dma.reserve = 1 << 20;
	struct drv_buf hog;
	assert_int_equal(drvi_dma_alloc(&dev->dma, 1 << 20, 4096, 0, &hog), 0);
	drv_buf *b;
	assert_int_equal(drv_buf_alloc(dev, 4 * FAKE_PAGE, &b), 0);
	const struct drv_dma_region *r = b->region;
	assert_non_null(r->page_bus);
	assert_int_equal(b->region_off % (2 * FAKE_PAGE), 0);
	struct drv_seg s[8];
	/* Pages 0+1 are adjacent on the bus, then a gap, then 2+3. */
	assert_int_equal(drvi_dma_segments(b, 0, 4 * FAKE_PAGE, s, 8), 2);
	assert_int_equal(s[0].len, 2 * FAKE_PAGE);
	assert_int_equal(s[1].len, 2 * FAKE_PAGE);
	assert_int_equal(s[1].bus, drvi_dma_bus(b, 2 * FAKE_PAGE));
	/* A range starting mid-page keeps its offset. */
	assert_int_equal(drvi_dma_segments(b, 100, 2 * FAKE_PAGE, s, 8), 2);
	assert_int_equal(s[0].bus, drvi_dma_bus(b, 100));
	assert_int_equal(s[0].len, 2 * FAKE_PAGE - 100);
	assert_int_equal(s[1].len, 100);
	/* Too many segments for the caller's array. */
	assert_int_equal(drvi_dma_segments(b, 0, 4 * FAKE_PAGE, s, 1), -E2BIG);
	/* Contiguous allocations never straddle a page here. */
	struct drv_buf ring;
	assert_int_equal(drvi_dma_alloc(&dev->dma, 3000, 64, 1, &ring), 0);
	assert_int_equal(drvi_dma_segments(&ring, 0, 3000, s, 8), 1);
	assert_int_equal(drvi_dma_alloc(&dev->dma, 2 * FAKE_PAGE, 64, 1, &ring), -ENOMEM);
	drv_buf_free(b);
	fake_close(dev);
}

static void sg_request_maps_each_entry(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(1 << 20);
	drv_queue *q = fake_queue(dev, 8);
	drv_buf *a, *b;
	assert_int_equal(drv_buf_alloc(dev, 8192, &a), 0);
	assert_int_equal(drv_buf_alloc(dev, 8192, &b), 0);
	/* a[0,4096) and a[4096,8192) are adjacent: they merge into one segment. */
	struct drv_sge sgl[3] = { { a, 0, 4096 }, { a, 4096, 4096 }, { b, 512, 1000 } };
	struct drv_req r;
	drv_prep_rw_sgl(&r, DRV_OP_WRITE, 0, sgl, 3);
	struct drv_req *rp = &r;
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	struct drv_slot *s = fake_slot_of(q, &r);
	assert_int_equal(s->r.nseg, 2);
	assert_int_equal(s->seg[0].bus, drv_buf_bus(a));
	assert_int_equal(s->seg[0].len, 8192);
	assert_int_equal(s->seg[1].bus, drv_buf_bus(b) + 512);
	assert_int_equal(s->seg[1].len, 1000);
	assert_int_equal(a->inflight, 2);
	assert_int_equal(b->inflight, 1);
	fake_complete(s->r.tag, 0, r.len);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.status, 0);
	assert_int_equal(a->inflight, 0);
	drv_buf_free(a);
	drv_buf_free(b);
	fake_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(contiguous_region_gives_one_segment),
		cmocka_unit_test(page_split_region_merges_adjacent_pages),
		cmocka_unit_test(sg_request_maps_each_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
