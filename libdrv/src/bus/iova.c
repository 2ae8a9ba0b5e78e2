/* SPDX-License-Identifier: MIT */
#include "iova.h"

#include <errno.h>
#include <string.h>

#include "drv/driver.h"

void drvi_iova_init(struct drv_iova_space *s)
{
	s->nfree = 0;
}

static void remove_at(struct drv_iova_space *s, unsigned i)
{
	memmove(&s->free[i], &s->free[i + 1], (s->nfree - i - 1) * sizeof(s->free[0]));
	s->nfree--;
}

static int insert_at(struct drv_iova_space *s, unsigned i, uint64_t start, uint64_t last)
{
	if (s->nfree == DRV_IOVA_MAX_RANGES)
		return drv_fail(-ENOSPC, "IOVA space fragmented into more than %d free ranges",
				DRV_IOVA_MAX_RANGES);
	memmove(&s->free[i + 1], &s->free[i], (s->nfree - i) * sizeof(s->free[0]));
	s->free[i] = (struct drv_iova_range){ start, last };
	s->nfree++;
	return 0;
}

int drvi_iova_add(struct drv_iova_space *s, uint64_t start, uint64_t last)
{
	if (last < start)
		return drv_fail(-EINVAL, "IOVA range %#llx-%#llx is empty",
				(unsigned long long)start, (unsigned long long)last);
	/* Absorb every free range that overlaps or touches [start, last]. */
	unsigned i = 0;
	while (i < s->nfree) {
		struct drv_iova_range *r = &s->free[i];
		int touches = (r->last == UINT64_MAX || r->last + 1 >= start) &&
			      (last == UINT64_MAX || r->start <= last + 1);
		if (touches) {
			if (r->start < start)
				start = r->start;
			if (r->last > last)
				last = r->last;
			remove_at(s, i);
			continue;
		}
		if (r->start > last)
			break;
		i++;
	}
	return insert_at(s, i, start, last);
}

int drvi_iova_reserve(struct drv_iova_space *s, uint64_t start, uint64_t last)
{
	for (unsigned i = 0; i < s->nfree;) {
		struct drv_iova_range *r = &s->free[i];
		if (r->last < start || r->start > last) {
			i++;
		} else if (r->start < start && r->last > last) {
			uint64_t tail = r->last;
			int err = insert_at(s, i + 1, last + 1, tail);
			if (err)
				return err;
			s->free[i].last = start - 1;
			i += 2;
		} else if (r->start < start) {
			r->last = start - 1;
			i++;
		} else if (r->last > last) {
			r->start = last + 1;
			i++;
		} else {
			remove_at(s, i);
		}
	}
	return 0;
}

int drvi_iova_alloc(struct drv_iova_space *s, uint64_t len, uint64_t align, uint64_t mask,
		    uint64_t *iova)
{
	if (len == 0 || align == 0 || (align & (align - 1)))
		return drv_fail(-EINVAL, "IOVA allocation of %llu bytes aligned to %llu",
				(unsigned long long)len, (unsigned long long)align);
	for (unsigned i = 0; i < s->nfree; i++) {
		struct drv_iova_range *r = &s->free[i];
		uint64_t base = (r->start + align - 1) & ~(align - 1);
		if (base < r->start) /* wrapped */
			break;
		if (base > r->last || r->last - base < len - 1)
			continue;
		uint64_t end = base + len - 1;
		if (end > mask)
			break; /* ranges are sorted: the rest lie higher still */
		*iova = base;
		return drvi_iova_reserve(s, base, end);
	}
	return drv_fail(-ENOMEM,
			"no free I/O virtual address range of %llu bytes below the device's DMA "
			"mask %#llx: use a smaller DMA pool (drv_open_opts.dma_pool_bytes)",
			(unsigned long long)len, (unsigned long long)mask);
}

int drvi_iova_free(struct drv_iova_space *s, uint64_t iova, uint64_t len)
{
	if (len == 0)
		return 0;
	return drvi_iova_add(s, iova, iova + len - 1);
}
