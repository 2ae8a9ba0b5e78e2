/* SPDX-License-Identifier: MIT */
/*
 * The device-agnostic queue: the pending-request ring (slot table indexed
 * by tag), request state machine, bounce buffers, waiting (one thread at a
 * time sleeps on the interrupt fd, the others on a condition variable),
 * timeouts and cancellation. Device drivers see a request as a mapped slot.
 */
#ifndef DRV_QUEUE_H
#define DRV_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dma/dma.h"
#include "drv/drv.h"

enum drv_slot_state {
	DRV_SLOT_FREE = 0,
	DRV_SLOT_INFLIGHT, /* owned by the device */
	DRV_SLOT_ABORTING, /* cancel issued; waiting for the device to give it back */
	DRV_SLOT_QUARANTINED, /* request already delivered (timed out/cancelled/device gone);
				 the device may still write the slot's memory */
};

/* Tags carry a generation so stale or duplicate completions are caught. */
#define DRV_TAG_SLOT_BITS 16
#define DRV_TAG(slot, gen) ((uint32_t)(slot) | ((uint32_t)(gen) << DRV_TAG_SLOT_BITS))
#define DRV_TAG_SLOT(tag) ((tag) & ((1u << DRV_TAG_SLOT_BITS) - 1))
#define DRV_TAG_GEN(tag) ((tag) >> DRV_TAG_SLOT_BITS)

/* A request as the device driver sees it: everything resolved to bus addresses. */
struct drv_slot {
	struct drv_req *req; /* NULL once delivered while quarantined */
	uint32_t tag;
	uint16_t gen;
	uint16_t state; /* enum drv_slot_state */
	uint8_t op; /* copied from req: the request may be gone */
	uint32_t code;
	uint64_t offset;
	uint64_t arg[2];
	uint32_t len; /* data bytes */
	unsigned nseg; /* data segments (0 when len == 0) */
	struct drv_seg *seg; /* q->segs + index * max_sg */
	struct drv_seg in; /* CONTROL input, bounced; len 0 if none */
	size_t bounce_off; /* bounce-area offset of data (buffered), or SIZE_MAX */
	size_t bounce_len; /* bytes of bounce held (data + input) */
	drv_buf *buf; /* direct I/O buffer whose inflight count we hold */
	void *hw; /* driver's per-slot state (e.g. its SG list memory) */
};

struct drv_queue {
	drv_dev *dev;
	struct drv_queue *next; /* dev->queues list */
	unsigned id; /* hardware queue index */
	unsigned depth; /* slots */
	unsigned max_sg;
	struct drv_queue_opts opts;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* completions for waiters that are not sleeping on the fd */
	struct drv_slot *slots;
	struct drv_seg *segs;
	uint32_t *free_slots; /* stack of free slot indices */
	unsigned nfree;
	struct drv_req *done_head, *done_tail; /* finished, not yet delivered */
	bool sleeper; /* a thread is blocked on irq_fd */
	uint64_t next_deadline_ns; /* earliest request deadline, UINT64_MAX if none */
	unsigned posted; /* posted since the last commit */
	int irq_fd; /* bus interrupt fd for this queue, or -1 */
	int sw_fd; /* eventfd: software completions (cancel, timeout, device gone) */
	int poll_fd; /* epoll set of irq_fd, sw_fd and the bus health fd */
	struct drv_buf bounce; /* buffered-I/O area */
	struct drv_bounce_alloc *bounce_alloc;
	struct drv_queue_stats stats;
	void *hw; /* driver's per-queue state */
};

/*
 * Called by the driver's reap() for each device completion, with the queue
 * lock held. Validates the tag against the slot table (range, generation,
 * state); a completion that matches nothing is counted in stats.rejected
 * and returns -EPROTO without touching any request. `status` is 0 or
 * -errno (the driver translates device status codes).
 */
int drv_queue_complete(drv_queue *q, uint32_t tag, int status, uint64_t result,
		       uint32_t result_flags);

/* Fails everything pending with status (device gone, queue error). Lock held. */
void drv_queue_fail_all(drv_queue *q, int status);

#endif
