/* SPDX-License-Identifier: MIT */
/*
 * The DMA engine and its emulated IOMMU: the device reaches host memory
 * only through windows the driver registered; anything else is a DMA error.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "model.h"
#include "regs.h"

int dsim_dma_add(struct dsim_dev *d, uint64_t bus, uint64_t len, void *va, void *map_base,
		 size_t map_len)
{
	if (len == 0 || bus + len < bus)
		return -EINVAL;
	if (d->nwin == DSIM_MAX_WINDOWS)
		return -ENOSPC;
	for (unsigned i = 0; i < d->nwin; i++) {
		const struct dsim_window *w = &d->win[i];
		if (bus < w->bus + w->len && w->bus < bus + len)
			return -EEXIST;
	}
	d->win[d->nwin++] = (struct dsim_window){
		.bus = bus, .len = len, .va = va, .map_base = map_base, .map_len = map_len
	};
	return 0;
}

static void window_release(struct dsim_window *w)
{
	if (w->map_len)
		munmap(w->map_base, w->map_len);
}

int dsim_dma_remove(struct dsim_dev *d, uint64_t bus)
{
	for (unsigned i = 0; i < d->nwin; i++) {
		if (d->win[i].bus != bus)
			continue;
		struct dsim_window w = d->win[i];
		d->win[i] = d->win[--d->nwin];
		/* Rings living in the window lose their memory: stop those queues. */
		for (unsigned q = 0; q < DSIM_MAX_QUEUES; q++) {
			const struct dsim_queue *dq = &d->q[q];
			if (!dq->enabled || dq->error)
				continue;
			if ((dq->sq_bus >= w.bus && dq->sq_bus - w.bus < w.len) ||
			    (dq->cq_bus >= w.bus && dq->cq_bus - w.bus < w.len))
				dsim_queue_stop(d, q, DSIM_QERR_RING_DMA);
		}
		window_release(&w);
		return 0;
	}
	return -ENOENT;
}

void dsim_dma_clear(struct dsim_dev *d)
{
	for (unsigned i = 0; i < d->nwin; i++)
		window_release(&d->win[i]);
	d->nwin = 0;
}

void *dsim_dma_ptr(struct dsim_dev *d, uint64_t bus, uint64_t len)
{
	for (unsigned i = 0; i < d->nwin; i++) {
		const struct dsim_window *w = &d->win[i];
		if (bus >= w->bus && bus - w->bus <= w->len && len <= w->len - (bus - w->bus))
			return w->va + (bus - w->bus);
	}
	return NULL;
}

static unsigned dma_error(struct dsim_dev *d)
{
	dsim_stat_add(d->regs, DSIM_STAT_DMA_ERRORS, 1);
	return DSIM_SC_DMA_ERROR;
}

unsigned dsim_dma_resolve(struct dsim_dev *d, const struct dsim_sqe *sqe, struct dsim_seg *segs,
			  unsigned *nseg)
{
	if (!(sqe->flags & DSIM_SQE_F_SGL)) {
		*nseg = 0;
		if (!sqe->length)
			return DSIM_SC_SUCCESS;
		void *p = dsim_dma_ptr(d, sqe->addr, sqe->length);
		if (!p)
			return dma_error(d);
		segs[0] = (struct dsim_seg){ .va = p, .len = sqe->length };
		*nseg = 1;
		return DSIM_SC_SUCCESS;
	}
	if (sqe->addr % 8)
		return DSIM_SC_INVALID_FIELD;
	const struct dsim_sge *list =
	    dsim_dma_ptr(d, sqe->addr, (uint64_t)sqe->sg_count * sizeof(struct dsim_sge));
	if (!list)
		return dma_error(d);
	uint64_t total = 0;
	unsigned status = DSIM_SC_SUCCESS;
	for (unsigned i = 0; i < sqe->sg_count; i++) {
		struct dsim_sge e;
		memcpy(&e, &list[i], sizeof(e)); /* the driver may rewrite it: read once */
		if (e.reserved || e.length == 0)
			return DSIM_SC_INVALID_FIELD;
		total += e.length;
		segs[i].va = dsim_dma_ptr(d, e.addr, e.length);
		segs[i].len = e.length;
		if (!segs[i].va)
			status = DSIM_SC_DMA_ERROR;
	}
	if (total != sqe->length)
		return DSIM_SC_INVALID_FIELD;
	if (status != DSIM_SC_SUCCESS)
		return dma_error(d);
	*nseg = sqe->sg_count;
	return DSIM_SC_SUCCESS;
}

size_t dsim_segs_write(const struct dsim_seg *segs, unsigned nseg, const void *src, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < nseg && done < len; i++) {
		size_t n = segs[i].len < len - done ? segs[i].len : len - done;
		memcpy(segs[i].va, (const uint8_t *)src + done, n);
		done += n;
	}
	return done;
}

size_t dsim_segs_read(const struct dsim_seg *segs, unsigned nseg, void *dst, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < nseg && done < len; i++) {
		size_t n = segs[i].len < len - done ? segs[i].len : len - done;
		memcpy((uint8_t *)dst + done, segs[i].va, n);
		done += n;
	}
	return done;
}
