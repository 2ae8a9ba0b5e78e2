/* SPDX-License-Identifier: MIT */
/* DMA pool: allocation, coalescing, growth, exhaustion, deferred free, segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fake_dev.h"

static void alloc_is_zeroed_and_bus_addressed(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(1 << 20);
	assert_non_null(dev);
	drv_buf *b;
	assert_int_equal(drv_buf_alloc(dev, 10000, &b), 0);
	assert_int_equal(drv_buf_len(b), 10000);
	unsigned char *p = drv_buf_addr(b);
	for (size_t i = 0; i < 10000; i++)
		assert_int_equal(p[i], 0);
	memset(p, 0xab, 10000);
	assert_int_equal(drv_buf_bus(b),
			 FAKE_BUS_BASE + (uint64_t)(p - (unsigned char *)dev->dma.region[0].va));
	drv_buf_free(b);
	assert_int_equal(drv_buf_alloc(dev, 10000, &b), 0);
	p = drv_buf_addr(b);
	assert_int_equal(p[0], 0); /* reused memory is zeroed again */
	drv_buf_free(b);
	fake_close(dev);
}

static void freeing_coalesces_neighbours(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(64 * 1024);
	struct drv_buf a, b, c;
	struct drv_dma_pool *pool = &dev->dma;
	assert_int_equal(drvi_dma_alloc(pool, 16384, 64, 0, &a), 0);
	assert_int_equal(drvi_dma_alloc(pool, 16384, 64, 0, &b), 0);
	assert_int_equal(drvi_dma_alloc(pool, 16384, 64, 0, &c), 0);
	drvi_dma_release(&a);
	drvi_dma_release(&c);
	drvi_dma_release(&b);
	/* Coalesced into one free range: the whole region fits in one piece. */
	struct drv_buf all;
	assert_int_equal(drvi_dma_alloc(pool, 64 * 1024, 64, 1, &all), 0);
	assert_int_equal(pool->nregions, 1);
	drvi_dma_release(&all);
	assert_int_equal(pool->bytes_used, 0);
	fake_close(dev);
}

static void pool_grows_then_reports_exhaustion(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(64 * 1024);
	fake.map_limit = 64 * 1024 + (2u << 20);
	struct drv_buf a, b;
	assert_int_equal(drvi_dma_alloc(&dev->dma, 60000, 64, 0, &a), 0);
	/* Does not fit in the first region: a second one is mapped. */
	assert_int_equal(drvi_dma_alloc(&dev->dma, 60000, 64, 0, &b), 0);
	assert_int_equal(dev->dma.nregions, 2);
	drv_buf *big;
	assert_int_equal(drv_buf_alloc(dev, 8u << 20, &big), -ENOMEM);
	assert_non_null(strstr(drv_errmsg(), "dma_pool_bytes"));
	drvi_dma_release(&a);
	drvi_dma_release(&b);
	fake_close(dev);
}

static void free_while_in_flight_is_deferred(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(1 << 20);
	drv_buf *b;
	assert_int_equal(drv_buf_alloc(dev, 4096, &b), 0);
	size_t used = dev->dma.bytes_used;
	drvi_buf_get(b);
	drvi_buf_get(b);
	drv_buf_free(b);
	assert_int_equal(dev->dma.bytes_used, used); /* still held by the device */
	drvi_buf_put(b);
	assert_int_equal(dev->dma.bytes_used, used);
	drvi_buf_put(b); /* last user: released now */
	assert_int_equal(dev->dma.bytes_used, 0);
	fake_close(dev);
}

static void close_releases_forgotten_buffers(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(1 << 20);
	drv_buf *b;
	assert_int_equal(drv_buf_alloc(dev, 100, &b), 0);
	fake_close(dev); /* no leak reported by the sanitizer */
}

static void zero_and_bad_alignment_are_refused(void **state)
{
	(void)state;
	drv_dev *dev = fake_open(1 << 20);
	struct drv_buf b;
	assert_int_equal(drvi_dma_alloc(&dev->dma, 0, 64, 0, &b), -EINVAL);
	assert_int_equal(drvi_dma_alloc(&dev->dma, 64, 96, 0, &b), -EINVAL);
	drv_buf *pb = (drv_buf *)1;
	assert_int_equal(drv_buf_alloc(NULL, 64, &pb), -EINVAL);
	fake_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(alloc_is_zeroed_and_bus_addressed),
		cmocka_unit_test(freeing_coalesces_neighbours),
		cmocka_unit_test(pool_grows_then_reports_exhaustion),
		cmocka_unit_test(free_while_in_flight_is_deferred),
		cmocka_unit_test(close_releases_forgotten_buffers),
		cmocka_unit_test(zero_and_bad_alignment_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
