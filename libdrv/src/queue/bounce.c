/* SPDX-License-Identifier: MIT */
/*
 * Bounce memory for buffered I/O: one DMA area per queue, allocated when
 * the queue is created, carved into 4 KiB chunks tracked by a bitmap.
 * Requests take a run of chunks and give it back on completion, so
 * buffered I/O costs no allocation per request; when no run is free the
 * queue pushes back exactly as when it is out of slots.
 */
#include <stdlib.h>

#include "dev/devdrv.h"
#include "drv/driver.h"
#include "queue/queue.h"

#define CHUNK 4096u

struct drv_bounce {
	size_t nchunks;
	size_t hint;    /* where the next search starts */
	uint64_t map[]; /* bit set = chunk in use */
};

size_t drvi_bounce_chunk_round(size_t len)
{
	return (len + CHUNK - 1) / CHUNK * CHUNK;
}

size_t drvi_bounce_capacity(const drv_queue *q)
{
	return q->bounce_map ? q->bounce_map->nchunks * CHUNK : 0;
}

int drvi_bounce_init(drv_queue *q, size_t bytes)
{
	bytes = drvi_bounce_chunk_round(bytes);
	size_t nchunks = bytes / CHUNK;
	size_t words = (nchunks + 63) / 64;
	q->bounce_map = calloc(1, sizeof(*q->bounce_map) + words * sizeof(uint64_t));
	if (!q->bounce_map)
		return drv_fail(-ENOMEM, "out of memory for the bounce-buffer map");
	q->bounce_map->nchunks = nchunks;
	int err = drvi_dma_alloc(&q->dev->dma, bytes, CHUNK, 0, &q->bounce);
	if (err < 0) {
		free(q->bounce_map);
		q->bounce_map = NULL;
	}
	return err;
}

void drvi_bounce_fini(drv_queue *q)
{
	if (!q->bounce_map)
		return;
	drvi_dma_release(&q->bounce);
	free(q->bounce_map);
	q->bounce_map = NULL;
}

static bool used(const struct drv_bounce *b, size_t i)
{
	return b->map[i / 64] >> (i % 64) & 1;
}

static void mark(struct drv_bounce *b, size_t first, size_t n, bool set)
{
	for (size_t i = first; i < first + n; i++) {
		if (set)
			b->map[i / 64] |= 1ull << (i % 64);
		else
			b->map[i / 64] &= ~(1ull << (i % 64));
	}
}

/* First run of n free chunks in [from, to), or SIZE_MAX. */
static size_t find_run(const struct drv_bounce *b, size_t from, size_t to, size_t n)
{
	size_t run = 0;
	for (size_t i = from; i < to; i++) {
		if (used(b, i)) {
			run = 0;
			/* Skip whole words that are full. */
			if (i % 64 == 0 && b->map[i / 64] == UINT64_MAX)
				i += 63;
			continue;
		}
		if (++run == n)
			return i + 1 - n;
	}
	return SIZE_MAX;
}

size_t drvi_bounce_alloc(drv_queue *q, size_t len)
{
	struct drv_bounce *b = q->bounce_map;
	size_t n = drvi_bounce_chunk_round(len) / CHUNK;
	if (n == 0 || n > b->nchunks)
		return SIZE_MAX;
	size_t first = find_run(b, b->hint, b->nchunks, n);
	if (first == SIZE_MAX)
		first = find_run(b, 0, b->nchunks, n);
	if (first == SIZE_MAX)
		return SIZE_MAX;
	mark(b, first, n, true);
	b->hint = first + n == b->nchunks ? 0 : first + n;
	return first * CHUNK;
}

void drvi_bounce_free(drv_queue *q, size_t off, size_t len)
{
	mark(q->bounce_map, off / CHUNK, drvi_bounce_chunk_round(len) / CHUNK, false);
}
