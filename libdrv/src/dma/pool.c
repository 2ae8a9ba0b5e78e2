/* SPDX-License-Identifier: MIT */
/*
 * The DMA pool: regions obtained from the bus, carved by a first-fit
 * allocator over an address-ordered free list that coalesces neighbours.
 * Allocation happens at set-up time (queues, rings, user buffers), so a
 * mutex and a linear list are good enough.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/devdrv.h"
#include "dma/dma.h"
#include "drv/driver.h"

/* A free range [off, off + len) of region `region`. */
struct drv_dma_free {
	struct drv_dma_free *next;
	unsigned region;
	size_t off;
	size_t len;
};

#define DRV_DMA_DEFAULT_POOL (64u << 20)
#define DRV_DMA_GRANULE 64u /* every allocation is a multiple of a cache line */

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Inserts a free range in address order, merging it with its neighbours. */
static int free_insert(struct drv_dma_pool *pool, unsigned region, size_t off, size_t len)
{
	struct drv_dma_free **link = &pool->free_list;
	while (*link &&
	       ((*link)->region < region || ((*link)->region == region && (*link)->off < off)))
		link = &(*link)->next;

	struct drv_dma_free *next = *link;
	struct drv_dma_free *prev =
	    link == &pool->free_list
		? NULL
		: (struct drv_dma_free *)((char *)link - offsetof(struct drv_dma_free, next));
	if (prev && prev->region == region && prev->off + prev->len == off) {
		prev->len += len;
		if (next && next->region == region && prev->off + prev->len == next->off) {
			prev->len += next->len;
			prev->next = next->next;
			free(next);
		}
		return 0;
	}
	if (next && next->region == region && off + len == next->off) {
		next->off = off;
		next->len += len;
		return 0;
	}
	struct drv_dma_free *f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	*f = (struct drv_dma_free){ .next = next, .region = region, .off = off, .len = len };
	*link = f;
	return 0;
}

static int pool_grow(struct drv_dma_pool *pool, size_t need)
{
	if (pool->nregions == DRV_DMA_MAX_REGIONS)
		return drv_fail(-ENOMEM,
				"DMA pool is out of memory (%zu bytes in use, %u regions): free "
				"buffers or open the device with a larger dma_pool_bytes",
				pool->bytes_used, pool->nregions);
	size_t len = need > pool->reserve ? need : pool->reserve;
	struct drv_dma_region *r = &pool->region[pool->nregions];
	drv_dev *dev = pool->dev;
	int err = dev->bus->dma_map(dev, len, r);
	if (err < 0)
		return err;
	if (free_insert(pool, pool->nregions, 0, r->len) < 0) {
		dev->bus->dma_unmap(dev, r);
		return drv_fail(-ENOMEM, "out of memory while growing the DMA pool");
	}
	pool->nregions++;
	pool->bytes_total += r->len;
	return 0;
}

int drvi_dma_pool_init(struct drv_dma_pool *pool, drv_dev *dev, size_t reserve)
{
	*pool = (struct drv_dma_pool){ .dev = dev };
	pool->reserve = reserve ? reserve : DRV_DMA_DEFAULT_POOL;
	pthread_mutex_init(&pool->lock, NULL);
	int err = pool_grow(pool, pool->reserve);
	if (err < 0) {
		pthread_mutex_destroy(&pool->lock);
		*pool = (struct drv_dma_pool){ 0 }; /* not set up: nothing for fini */
	}
	return err;
}

void drvi_dma_pool_fini(struct drv_dma_pool *pool)
{
	while (pool->user_bufs) {
		struct drv_buf *b = pool->user_bufs;
		pool->user_bufs = b->next;
		free(b);
	}
	while (pool->free_list) {
		struct drv_dma_free *f = pool->free_list;
		pool->free_list = f->next;
		free(f);
	}
	for (unsigned i = 0; i < pool->nregions; i++)
		pool->dev->bus->dma_unmap(pool->dev, &pool->region[i]);
	pool->nregions = 0;
	pthread_mutex_destroy(&pool->lock);
}

/*
 * Where in free range f an allocation can start, or SIZE_MAX. Contiguous
 * allocations must not cross a `contig` boundary of a page-split region.
 */
static size_t fit(const struct drv_dma_pool *pool, const struct drv_dma_free *f, size_t len,
		  size_t align, int contiguous)
{
	const struct drv_dma_region *r = &pool->region[f->region];
	size_t start = round_up(f->off, align);
	if (contiguous && r->page_bus) {
		if (len > r->contig)
			return SIZE_MAX;
		if (start / r->contig != (start + len - 1) / r->contig)
			start = round_up(start, r->contig);
	}
	if (start < f->off || start + len > f->off + f->len)
		return SIZE_MAX;
	return start;
}

static int take(struct drv_dma_pool *pool, size_t len, size_t align, int contiguous,
		struct drv_buf *out)
{
	for (struct drv_dma_free **link = &pool->free_list; *link; link = &(*link)->next) {
		struct drv_dma_free *f = *link;
		size_t start = fit(pool, f, len, align, contiguous);
		if (start == SIZE_MAX)
			continue;
		unsigned region = f->region;
		size_t head = start - f->off;
		size_t tail = f->off + f->len - (start + len);
		if (head == 0 && tail == 0) {
			*link = f->next;
			free(f);
		} else if (head == 0) {
			f->off += len;
			f->len -= len;
		} else {
			f->len = head;
			if (tail && free_insert(pool, region, start + len, tail) < 0) {
				f->len = head + len + tail;
				return drv_fail(-ENOMEM, "out of memory in the DMA allocator");
			}
		}
		struct drv_dma_region *r = &pool->region[region];
		*out = (struct drv_buf){ .va = (char *)r->va + start,
					 .len = len,
					 .region = r,
					 .region_off = start,
					 .pool = pool };
		pool->bytes_used += len;
		return 0;
	}
	return -ENOSPC;
}

/* sysconf(_SC_PHYS_PAGES) is a sysinfo() system call: asked once, not per buffer. */
static size_t machine_ram(void)
{
	static _Atomic size_t ram;
	size_t bytes = atomic_load_explicit(&ram, memory_order_relaxed);
	if (!bytes) {
		bytes = (size_t)sysconf(_SC_PHYS_PAGES) * (size_t)sysconf(_SC_PAGESIZE);
		atomic_store_explicit(&ram, bytes, memory_order_relaxed);
	}
	return bytes;
}

int drvi_dma_alloc(struct drv_dma_pool *pool, size_t len, size_t align, int contiguous,
		   struct drv_buf *out)
{
	if (len == 0)
		return drv_fail(-EINVAL, "DMA allocation of 0 bytes: ask for at least one byte");
	if (align < DRV_DMA_GRANULE)
		align = DRV_DMA_GRANULE;
	if (align & (align - 1))
		return drv_fail(-EINVAL, "DMA alignment %zu is not a power of two", align);
	/* Growing the pool beyond memory would only end in the OOM killer. */
	size_t ram = machine_ram();
	if (len > ram / 2)
		return drv_fail(-ENOMEM,
				"DMA allocation of %zu bytes is more than half of this machine's "
				"memory (%zu bytes): allocate smaller buffers",
				len, ram);
	size_t want = len;
	len = round_up(len, DRV_DMA_GRANULE);

	pthread_mutex_lock(&pool->lock);
	int err = take(pool, len, align, contiguous, out);
	if (err == -ENOSPC) {
		err = pool_grow(pool, round_up(len + align, 1u << 20));
		if (err == 0)
			err = take(pool, len, align, contiguous, out);
		if (err < 0) {
			char why[256];
			snprintf(why, sizeof(why), "%s", err == -ENOSPC ? "no room" : drv_errmsg());
			err =
			    drv_fail(-ENOMEM,
				     "cannot allocate %zu bytes of %sDMA memory (%zu of %zu bytes "
				     "in use; %s): free buffers or raise dma_pool_bytes",
				     len, contiguous ? "bus-contiguous " : "", pool->bytes_used,
				     pool->bytes_total, why);
		}
	}
	pthread_mutex_unlock(&pool->lock);
	if (err == 0) {
		memset(out->va, 0, len);
		out->len = want;
	}
	return err;
}

void drvi_dma_release(struct drv_buf *buf)
{
	struct drv_dma_pool *pool = buf->pool;
	if (!pool)
		return;
	pthread_mutex_lock(&pool->lock);
	unsigned region = (unsigned)(buf->region - pool->region);
	/* If the node cannot be allocated the range is lost, never handed out twice. */
	size_t len = round_up(buf->len, DRV_DMA_GRANULE);
	(void)free_insert(pool, region, buf->region_off, len);
	pool->bytes_used -= len;
	pthread_mutex_unlock(&pool->lock);
	buf->pool = NULL;
}
