/* SPDX-License-Identifier: MIT */
/*
 * Writing a libdrv driver: what a driver sees of the requests it is handed.
 * Applications never need this header (they use drv.h).
 *
 * A driver receives each request as a read-only struct drv_request: the
 * request's memory is already resolved to bus segments (direct I/O through
 * the caller's DMA buffers, or the queue's bounce memory for buffered I/O),
 * so the driver only translates it into its device's command format. It
 * reports the outcome with the request's tag.
 */
#ifndef DRV_DRIVER_H
#define DRV_DRIVER_H

#include <stdint.h>

#include "drv/drv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A run of bus-contiguous memory the device may reach. */
struct drv_seg {
	uint64_t bus;
	uint32_t len;
};

/* A pending request as its driver sees it; owned by libdrv, valid until completed. */
struct drv_request {
	uint32_t tag;  /* echoed by the device's completion: drv_request_index() + generation */
	uint8_t op;    /* enum drv_op */
	uint32_t code; /* CONTROL: the control code */
	uint64_t offset;
	uint64_t arg[2];
	uint32_t len;              /* data bytes */
	unsigned nseg;             /* data segments, 0 when len is 0 */
	const struct drv_seg *seg; /* the data's bus segments, in order */
	struct drv_seg in;         /* CONTROL input (bounced, one segment); len 0 if none */
	void *cpu; /* the data as the CPU sees it when it is one run (bounce memory, one
		      buffer, an SG list of one entry), for devices the CPU feeds; else NULL */
};

/*
 * A tag is the request's index in its queue (0 .. depth-1) plus a
 * generation that changes every time the index is reused, so a late or
 * duplicate completion is recognised. Drivers keep per-request state in
 * arrays indexed by drv_request_index().
 */
#define DRV_TAG_INDEX_BITS 16
static inline unsigned drv_tag_index(uint32_t tag)
{
	return tag & ((1u << DRV_TAG_INDEX_BITS) - 1);
}

static inline unsigned drv_request_index(const struct drv_request *r)
{
	return drv_tag_index(r->tag);
}

/*
 * Tags with this generation are never given to requests: a driver may put
 * them on its own entries in a ring shared with requests (an ABORT, say)
 * and recognise their completions with drv_tag_is_driver().
 */
#define DRV_TAG_GEN_DRIVER 0xffffu
static inline uint32_t drv_driver_tag(unsigned index)
{
	return (uint32_t)index | (uint32_t)DRV_TAG_GEN_DRIVER << DRV_TAG_INDEX_BITS;
}

static inline int drv_tag_is_driver(uint32_t tag)
{
	return tag >> DRV_TAG_INDEX_BITS == DRV_TAG_GEN_DRIVER;
}

/*
 * The driver's side of a submission ring it shares with a device: entries
 * are written at tail and consumed by the device up to head. Both count
 * entries for ever (wrapping at 2^32; the ring index is count & (size - 1))
 * and one entry stays empty, so a full ring differs from an empty one.
 *
 * The rule every driver keeps: never write an entry the device has not
 * consumed. Check drv_sq_room() first, and learn how far the device got
 * from one source that only moves forward: the head each completion
 * reports (drv_sq_consumed(), applied before completing the request, so a
 * completed request's entry is known to be consumed). Do not mix in a
 * head register read at another time: a completion read after it may
 * report an older head, and when the ring is nearly full an index a few
 * entries behind cannot be told from one almost a whole ring ahead.
 *
 * Requests and the driver's own entries (aborts) share the ring. Requests
 * can never be refused for room when the ring has at least 2 * depth + 2
 * entries and the driver writes an abort only while more than `depth`
 * entries stay free afterwards (drv_sq_room_for_abort): at most
 * size - 1 - depth aborts are then ever unconsumed, and at most depth
 * requests. An abort refused that way returns -EAGAIN, and the queue layer
 * sends it again after later completions (an abort already in the ring
 * completes and frees room).
 */
struct drv_sq_ring {
	uint32_t size; /* entries, a power of two */
	uint32_t tail; /* entries written */
	uint32_t head; /* entries the device is known to have consumed */
};

/* Smallest power-of-two ring for `depth` requests and their aborts. */
static inline uint32_t drv_sq_ring_size(uint32_t depth)
{
	uint32_t size = 2;
	while (size < 2 * depth + 2)
		size <<= 1;
	return size;
}

static inline uint32_t drv_sq_room(const struct drv_sq_ring *r)
{
	return r->size - 1 - (r->tail - r->head);
}

static inline int drv_sq_room_for_abort(const struct drv_sq_ring *r, uint32_t depth)
{
	return drv_sq_room(r) > depth;
}

/* Index of the next entry to write; the caller fills it, then drv_sq_push(). */
static inline uint32_t drv_sq_index(const struct drv_sq_ring *r)
{
	return r->tail & (r->size - 1);
}

static inline void drv_sq_push(struct drv_sq_ring *r)
{
	r->tail++;
}

/*
 * The device says it had consumed up to ring index `index` when it posted
 * a completion. Accepted when it lies between the known head and the tail:
 * the head only moves forward, and never past the tail or outside the
 * ring (what a broken device might report).
 */
static inline void drv_sq_consumed(struct drv_sq_ring *r, uint32_t index)
{
	uint32_t advance = (index - r->head) & (r->size - 1);
	if (index < r->size && advance <= r->tail - r->head)
		r->head += advance;
}

#ifdef __cplusplus
}
#endif

#endif
