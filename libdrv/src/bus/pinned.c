/* SPDX-License-Identifier: MIT */
#include "pinned.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drv/driver.h"
#include "pagemap.h"

#define HUGE_PAGE (2u << 20)
#define SMALL_PAGE 4096u

static size_t round_up(size_t v, size_t to)
{
	return (v + to - 1) / to * to;
}

static void touch(char *va, size_t len, size_t step)
{
	for (size_t off = 0; off < len; off += step)
		((volatile char *)va)[off] = 0;
}

/* Pages that sat above the DMA mask, held so the kernel cannot hand them back. */
struct graveyard {
	void **page;
	size_t n, cap;
};

static int bury(struct graveyard *g, void *page)
{
	if (g->n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 64;
		void **grown = realloc(g->page, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		g->page = grown;
		g->cap = cap;
	}
	g->page[g->n++] = page;
	return 0;
}

static void empty_graveyard(struct graveyard *g)
{
	for (size_t i = 0; i < g->n; i++)
		munmap(g->page[i], SMALL_PAGE);
	free(g->page);
}

/* Moves a locked page that lies below mask over `target`. */
static int replace_page(int pagemap, char *target, uint64_t mask, uint64_t *phys,
			struct graveyard *g, size_t budget)
{
	for (size_t tries = 0; tries < budget; tries++) {
		void *p = mmap(NULL, SMALL_PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
		if (mlock(p, SMALL_PAGE) != 0) {
			munmap(p, SMALL_PAGE);
			return -ENOMEM;
		}
		touch(p, SMALL_PAGE, SMALL_PAGE);
		int err = drvi_pagemap_phys(pagemap, (uintptr_t)p, SMALL_PAGE, SMALL_PAGE, phys);
		if (!err && *phys + SMALL_PAGE - 1 <= mask) {
			if (mremap(p, SMALL_PAGE, SMALL_PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
				   target) == MAP_FAILED) {
				munmap(p, SMALL_PAGE);
				return -errno;
			}
			return 0;
		}
		if (err || bury(g, p)) {
			munmap(p, SMALL_PAGE);
			return err ? err : -ENOMEM;
		}
	}
	return -ENOMEM;
}

static int lower_pages(int pagemap, char *va, size_t len, uint64_t mask, uint64_t *phys)
{
	struct graveyard g = { 0 };
	size_t pages = len / SMALL_PAGE, budget = 4 * pages + 256;
	int err = 0;
	for (size_t i = 0; i < pages && !err; i++)
		if (phys[i] + SMALL_PAGE - 1 > mask)
			err =
			    replace_page(pagemap, va + i * SMALL_PAGE, mask, &phys[i], &g, budget);
	empty_graveyard(&g);
	if (err && err != -EPERM)
		return drv_fail(err,
				"not enough free physical memory below the device's DMA mask %#llx "
				"for %zu bytes of uio DMA memory: use vfio (the IOMMU remaps "
				"addresses) or a smaller DMA pool",
				(unsigned long long)mask, len);
	return err;
}

static void note_no_hugepages(size_t len)
{
	static int noted;
	if (__atomic_exchange_n(&noted, 1, __ATOMIC_RELAXED) || getenv("LIBDRV_QUIET"))
		return;
	fprintf(stderr,
		"libdrv: no free 2 MiB hugepages: DMA memory uses locked 4 KiB pages, so buffers "
		"are bus-contiguous only within a page. For hugepages: echo %zu > "
		"/proc/sys/vm/nr_hugepages\n",
		round_up(len, HUGE_PAGE) / HUGE_PAGE + 2);
}

static void *map_huge(size_t len)
{
	void *va = mmap(NULL, len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	return va == MAP_FAILED ? NULL : va;
}

static int map_small(size_t len, void **out)
{
	void *va = mmap(NULL, len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (va == MAP_FAILED)
		return drv_fail_errno(-errno, "mapping %zu bytes of DMA memory", len);
	if (mlock(va, len) != 0) {
		int err = -errno;
		munmap(va, len);
		return drv_fail_errno(
		    err,
		    "locking %zu bytes of DMA memory in RAM: raise RLIMIT_MEMLOCK "
		    "(`ulimit -l`) or run as root",
		    len);
	}
	*out = va;
	return 0;
}

static int pin(size_t len, uint64_t dma_mask, int try_huge, struct drv_dma_region *out)
{
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		return drv_fail_errno(-errno, "opening /proc/self/pagemap");
	size_t block = HUGE_PAGE, maplen = round_up(len, block);
	void *va = try_huge ? map_huge(maplen) : NULL;
	if (!va) {
		if (try_huge)
			note_no_hugepages(len);
		block = SMALL_PAGE;
		maplen = round_up(len, block);
	}
	int err = va ? 0 : map_small(maplen, &va);
	size_t blocks = maplen / block;
	uint64_t *phys = err ? NULL : calloc(blocks, sizeof(*phys));
	if (!err && !phys)
		err = drv_fail(-ENOMEM, "out of memory for a %zu-entry page table", blocks);
	if (!err) {
		touch(va, maplen, SMALL_PAGE);
		err = drvi_pagemap_phys(pagemap, (uintptr_t)va, maplen, block, phys);
	}
	for (size_t i = 0; !err && i < blocks; i++) {
		if (phys[i] + block - 1 <= dma_mask)
			continue;
		err = block == SMALL_PAGE ? lower_pages(pagemap, va, maplen, dma_mask, phys)
					  : -EAGAIN;
		break;
	}
	close(pagemap);
	if (err) {
		if (va)
			munmap(va, maplen);
		free(phys);
		return err;
	}
	/*
	 * A fork must not move pages under DMA. Only now: lower_pages() moves
	 * fresh pages in, and those would not carry an earlier madvise.
	 */
	madvise(va, maplen, MADV_DONTFORK);
	*out = (struct drv_dma_region){ .va = va, .len = maplen, .contig = block };
	if (blocks == 1) {
		out->bus = phys[0];
		out->contig = maplen;
		free(phys);
	} else {
		out->page_bus = phys;
	}
	return 0;
}

int drvi_pinned_map(size_t len, uint64_t dma_mask, struct drv_dma_region *out)
{
	/* Rounding up to a hugepage must not wrap to a zero-length mapping. */
	if (len > SIZE_MAX - HUGE_PAGE)
		return drv_fail(-ENOMEM,
				"%zu bytes of DMA memory cannot be mapped: use a smaller DMA pool "
				"(drv_open_opts.dma_pool_bytes)",
				len);
	int err = pin(len, dma_mask, 1, out);
	if (err == -EAGAIN) /* hugepages above the DMA mask: small pages can be swapped */
		err = pin(len, dma_mask, 0, out);
	return err;
}

void drvi_pinned_unmap(struct drv_dma_region *r)
{
	if (r->va)
		munmap(r->va, r->len);
	free(r->page_bus);
	*r = (struct drv_dma_region){ 0 };
}
