/* SPDX-License-Identifier: MIT */
/*
 * The driver's side of a submission ring it shares with a device: entries
 * are written at tail and consumed by the device up to head. Both count
 * entries for ever (wrapping at 2^32; the ring index is count & (size - 1))
 * and one entry stays empty, so a full ring differs from an empty one.
 *
 * The rule every driver keeps: never write an entry the device has not
 * consumed. Check drv_sq_room() first; when it says full, learn how far the
 * device got (drv_sq_consumed() with a head register) before giving up
 * with -EAGAIN. A driver whose completions report the device's head must
 * apply it (drv_sq_consumed()) before completing the request: a released
 * slot's entry is then known to be consumed, which the argument below
 * needs (a head register may lag the completions it covers).
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
#ifndef DRV_SQ_RING_H
#define DRV_SQ_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

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

static inline bool drv_sq_room_for_abort(const struct drv_sq_ring *r, uint32_t depth)
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
 * The device says it had consumed up to ring index `index`: from a head
 * register, or the head a completion reports (when the device posted it).
 * Either may lag the other (a register published once per pass lags the
 * completions of that pass; a completion read now may be older than a
 * register read before), so a value behind the known head changes
 * nothing, nor does one no device could report (past the tail, outside
 * the ring): the head only moves forward, and never past the tail.
 */
static inline void drv_sq_consumed(struct drv_sq_ring *r, uint32_t index)
{
	uint32_t advance = (index - r->head) & (r->size - 1);
	if (index < r->size && advance <= r->tail - r->head)
		r->head += advance;
}

#endif
