/* SPDX-License-Identifier: MIT */
/*
 * drv_buf: user-visible DMA buffers (the MDL role), their in-flight
 * reference that defers a free until the device is done, and the
 * translation of buffer ranges into bus-contiguous segments.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "dev/devdrv.h"
#include "dma/dma.h"
#include "drv/driver.h"

/* A buffer on pool->user_bufs, released by drv_buf_free() or at close. */
static int buf_alloc(drv_dev *dev, size_t len, size_t align, int contiguous, drv_buf **out)
{
	*out = NULL;
	drv_buf *b = malloc(sizeof(*b));
	if (!b)
		return drv_fail(-ENOMEM, "out of memory allocating a buffer descriptor");
	int err = drvi_dma_alloc(&dev->dma, len, align, contiguous, b);
	if (err < 0) {
		free(b);
		return err;
	}
	struct drv_dma_pool *pool = &dev->dma;
	pthread_mutex_lock(&pool->lock);
	b->prev = NULL;
	b->next = pool->user_bufs;
	if (pool->user_bufs)
		pool->user_bufs->prev = b;
	pool->user_bufs = b;
	pthread_mutex_unlock(&pool->lock);
	*out = b;
	return 0;
}

DRV_API int drv_buf_alloc(drv_dev *dev, size_t len, drv_buf **out)
{
	if (!dev || !out)
		return drv_fail(-EINVAL, "drv_buf_alloc: dev and out must not be NULL");
	return buf_alloc(dev, len, 4096, 0, out);
}

#define DRIVER_ALIGN_MAX (64u * 1024)

DRV_API int drv_dev_dma_alloc(drv_dev *dev, size_t len, size_t align, drv_buf **out)
{
	if (!dev || !out)
		return drv_fail(-EINVAL, "drv_dev_dma_alloc: dev and out must not be NULL");
	if (align > DRIVER_ALIGN_MAX)
		return drv_fail(-EINVAL, "drv_dev_dma_alloc: alignment %zu is above %u bytes",
				align, DRIVER_ALIGN_MAX);
	return buf_alloc(dev, len, align, 1, out);
}

/* Unlinks b from pool->user_bufs; the pool lock is held. */
static void buf_unlink(struct drv_dma_pool *pool, drv_buf *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		pool->user_bufs = b->next;
	if (b->next)
		b->next->prev = b->prev;
}

/*
 * Gives the memory back and quarantines the header, freeing the oldest
 * quarantined one instead.
 */
static void buf_destroy(drv_buf *b)
{
	struct drv_dma_pool *pool = b->pool;
	drvi_dma_release(b);
	pthread_mutex_lock(&pool->lock);
	/* drv_submit's range check now refuses every request that names it. */
	b->len = 0;
	drv_buf *oldest = pool->quarantine[pool->quarantine_next];
	pool->quarantine[pool->quarantine_next] = b;
	pool->quarantine_next = (pool->quarantine_next + 1) % DRV_BUF_QUARANTINE;
	if (oldest)
		buf_unlink(pool, oldest);
	pthread_mutex_unlock(&pool->lock);
	free(oldest);
}

DRV_API void drv_buf_free(drv_buf *buf)
{
	if (!buf)
		return;
	unsigned old = __atomic_fetch_or(&buf->inflight, DRV_BUF_FREED, __ATOMIC_ACQ_REL);
	if (old & DRV_BUF_FREED)
		drv_fail(-EINVAL,
			 "drv_buf_free: buffer %p was already freed: free each buffer once",
			 (void *)buf);
	else if (old == 0)
		buf_destroy(buf);
}

/* Reports a buffer the caller already freed, whose contents must not be used. */
static bool buf_freed(const drv_buf *buf, const char *fn)
{
	if (!(__atomic_load_n(&buf->inflight, __ATOMIC_ACQUIRE) & DRV_BUF_FREED))
		return false;
	drv_fail(-EINVAL, "%s: buffer %p was freed with drv_buf_free: allocate a new one", fn,
		 (const void *)buf);
	return true;
}

void drvi_buf_get(drv_buf *buf)
{
	__atomic_add_fetch(&buf->inflight, 1, __ATOMIC_ACQ_REL);
}

void drvi_buf_put(drv_buf *buf)
{
	if (__atomic_sub_fetch(&buf->inflight, 1, __ATOMIC_ACQ_REL) == DRV_BUF_FREED)
		buf_destroy(buf);
}

DRV_API void *drv_buf_addr(const drv_buf *buf)
{
	return buf && !buf_freed(buf, __func__) ? buf->va : NULL;
}

DRV_API size_t drv_buf_len(const drv_buf *buf)
{
	return buf && !buf_freed(buf, __func__) ? buf->len : 0;
}

DRV_API uint64_t drv_buf_bus(const drv_buf *buf)
{
	return buf && !buf_freed(buf, __func__) ? drvi_dma_bus(buf, 0) : 0;
}

uint64_t drvi_dma_bus(const drv_buf *buf, size_t off)
{
	return drvi_dma_region_bus(buf->region, buf->region_off + off);
}

int drvi_dma_segments(const struct drv_buf *buf, size_t off, size_t len, struct drv_seg *segs,
		      unsigned max)
{
	const struct drv_dma_region *r = buf->region;
	unsigned n = 0;
	size_t pos = buf->region_off + off;
	size_t end = pos + len;
	while (pos < end) {
		size_t run = end - pos;
		if (r->page_bus && run > r->contig - pos % r->contig)
			run = r->contig - pos % r->contig;
		if (run > UINT32_MAX)
			run = UINT32_MAX & ~(size_t)4095;
		uint64_t bus = drvi_dma_region_bus(r, pos);
		if (n && segs[n - 1].bus + segs[n - 1].len == bus &&
		    (size_t)segs[n - 1].len + run <= UINT32_MAX) {
			segs[n - 1].len += (uint32_t)run;
		} else {
			if (n == max)
				return -E2BIG;
			segs[n++] = (struct drv_seg){ .bus = bus, .len = (uint32_t)run };
		}
		pos += run;
	}
	return (int)n;
}
