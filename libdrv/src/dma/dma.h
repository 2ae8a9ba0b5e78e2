/* SPDX-License-Identifier: MIT */
/*
 * DMA memory: a pool of bus-visible regions obtained from the bus and
 * carved into drv_buf allocations (the MDL role), plus the translation of
 * buffer ranges into bus-address segments for scatter-gather.
 */
#ifndef DRV_DMA_H
#define DRV_DMA_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "bus/bus.h"
#include "drv/driver.h"

/* One device-visible contiguous range. */

#define DRV_DMA_MAX_REGIONS 16

/*
 * Headers of the last DRV_BUF_QUARANTINE released user buffers stay
 * allocated (on user_bufs, marked DRV_BUF_FREED) so that freeing one again
 * or using it is reported instead of touching freed memory; releasing one
 * more frees the oldest.
 */
#define DRV_BUF_QUARANTINE 64

struct drv_dma_pool {
	pthread_mutex_t lock;
	drv_dev *dev;
	struct drv_dma_region region[DRV_DMA_MAX_REGIONS];
	unsigned nregions;
	size_t reserve;                 /* bytes asked of the bus per region */
	struct drv_dma_free *free_list; /* address-ordered, coalesced */
	size_t bytes_used;
	size_t bytes_total;
	struct drv_buf *user_bufs; /* drv_buf_alloc'ed or quarantined, released at fini */
	struct drv_buf *quarantine[DRV_BUF_QUARANTINE]; /* ring; oldest at quarantine_next */
	unsigned quarantine_next;
};

/* Set in drv_buf.inflight by drv_buf_free; stays set while the header is quarantined. */
#define DRV_BUF_FREED (1u << 31)

struct drv_buf {
	void *va;
	size_t len;
	struct drv_dma_region *region;
	size_t region_off;
	struct drv_dma_pool *pool;
	/* atomic: requests the device may be using it for, | DRV_BUF_FREED */
	unsigned inflight;
	struct drv_buf *next, *prev; /* pool->user_bufs */
};

int drvi_dma_pool_init(struct drv_dma_pool *pool, drv_dev *dev, size_t reserve);
void drvi_dma_pool_fini(struct drv_dma_pool *pool);
/*
 * Allocates len bytes aligned to align (a power of two). With contiguous,
 * the bus addresses of the whole allocation are contiguous (rings, edu
 * buffers); -ENOMEM with a message when that cannot be had.
 */
int drvi_dma_alloc(struct drv_dma_pool *pool, size_t len, size_t align, int contiguous,
		   struct drv_buf *out);
void drvi_dma_release(struct drv_buf *buf);
/* A request starts / stops using buf; the last put after drv_buf_free releases it. */
/* The caller gave it to drv_buf_free: it must not be named by new requests. */
static inline bool drvi_buf_is_freed(const drv_buf *buf)
{
	return __atomic_load_n(&buf->inflight, __ATOMIC_RELAXED) & DRV_BUF_FREED;
}
void drvi_buf_get(drv_buf *buf);
void drvi_buf_put(drv_buf *buf);
/*
 * Splits buf[off, off + len) into bus-contiguous segments, merging
 * neighbours. Returns the number of segments, or -E2BIG past max.
 */
int drvi_dma_segments(const struct drv_buf *buf, size_t off, size_t len, struct drv_seg *segs,
		      unsigned max);
uint64_t drvi_dma_bus(const struct drv_buf *buf, size_t off);

#endif
