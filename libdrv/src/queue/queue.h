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
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "dma/dma.h"
#include "drv/driver.h"

enum drv_slot_state {
	DRV_SLOT_FREE = 0,
	DRV_SLOT_INFLIGHT,    /* owned by the device */
	DRV_SLOT_ABORTING,    /* cancel issued; waiting for the device to give it back */
	DRV_SLOT_QUARANTINED, /* request already delivered (timed out/cancelled/device gone);
				 the device may still write the slot's memory */
};

/* Request life cycle, in drv_req.priv.state. */
enum drv_req_state {
	DRV_REQ_IDLE = 0, /* never submitted, or delivered */
	DRV_REQ_PENDING,  /* owns a slot */
	DRV_REQ_DONE,     /* finished, not yet delivered: on the done list (a helper's on none) */
	DRV_REQ_CALLBACK, /* finished, its callback is about to run */
};

/*
 * Tags carry a generation so stale or duplicate completions are caught
 * (drv/driver.h). Generation 0 is never used (a zeroed entry matches
 * nothing) and generation DRV_TAG_GEN_DRIVER is left to drivers for their
 * own entries (dsim's ABORT commands), so no request tag collides with them.
 */
#define DRV_TAG(slot, gen) ((uint32_t)(slot) | ((uint32_t)(gen) << DRV_TAG_INDEX_BITS))
#define DRV_TAG_GEN(tag) ((tag) >> DRV_TAG_INDEX_BITS)
_Static_assert(DRV_QUEUE_MAX_DEPTH <= 1u << DRV_TAG_INDEX_BITS, "slot indices must fit a tag");

/*
 * A request while it owns a slot. `r` is what the driver is handed
 * (drv/driver.h); the rest is the queue layer's bookkeeping.
 */
struct drv_slot {
	struct drv_request r;
	struct drv_req *req; /* NULL once delivered while quarantined */
	uint16_t gen;
	uint16_t state;      /* enum drv_slot_state */
	bool abort_deferred; /* abort refused for lack of room: resent by processing */
	uint64_t held_since; /* QUARANTINED: when its request was delivered */
	struct drv_seg *seg; /* q->segs + index * max_sg; r.seg points here */
	size_t bounce_off;   /* bounce-area offset of data (buffered), or SIZE_MAX */
	size_t bounce_len;   /* bytes of bounce held (data + input) */
	void *bounce_va;     /* data in the bounce area, NULL for direct I/O */
	unsigned nbufs;      /* direct I/O buffers whose inflight count we hold */
	drv_buf **bufs;      /* q->slot_bufs + index * max_sg */
};

/* What woke a queue's epoll set (epoll_event.data.u32). */
enum drv_wake_source {
	DRV_WAKE_IRQ = 1,
	DRV_WAKE_SW = 2,
	DRV_WAKE_HEALTH = 3,
	DRV_WAKE_TIMER = 4,
	DRV_WAKE_EXTRA_IRQ = 5,
};

/*
 * Teardown in phases, so that nothing runs against freed hardware state and
 * threads still inside the queue's calls leave before its memory goes.
 */
enum drv_queue_phase {
	DRV_QUEUE_OPEN = 0,
	DRV_QUEUE_CLOSING, /* drv_queue_destroy/drv_close began: submits are refused */
	DRV_QUEUE_STOPPED, /* no more driver calls: the hardware queue is going or gone */
};

struct drv_queue {
	/* What drivers read through struct drv_queue_view (drv/driver.h). */
	void *priv; /* the driver's */
	drv_dev *dev;
	unsigned id;    /* hardware queue index */
	unsigned depth; /* slots */
	unsigned max_sg;

	struct drv_queue *next; /* dev->queues list */
	struct drv_queue_opts opts;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* completions for waiters that are not sleeping on the fd */
	struct drv_slot *slots;
	struct drv_seg *segs;
	uint32_t *free_slots; /* stack of free slot indices */
	unsigned nfree;
	drv_buf **slot_bufs;
	struct drv_req *done_head, *done_tail; /* finished, not yet delivered */
	unsigned ndone;
	struct drv_req *cb_head, *cb_tail; /* finished, callback not yet run */
	bool sleeper;             /* a thread is blocked on poll_fd or spinning for the others */
	bool fd_sleeping;         /* the leader is blocked in epoll_wait */
	bool failed;              /* everything was failed: device gone or fatal error */
	bool hw_built;            /* the driver's queue_create succeeded, queue_destroy not run */
	bool recheck;             /* a re-check tick came a whole period after any interrupt */
	bool irq_since_tick;      /* an interrupt arrived since the last re-check tick */
	int fail_status;          /* failed: -ENODEV or -EIO */
	uint64_t held_oldest;     /* held_since of the oldest QUARANTINED slot */
	uint8_t phase;            /* enum drv_queue_phase */
	unsigned users;           /* atomic: threads inside the queue's public calls */
	unsigned aborts_deferred; /* slots whose abort waits for room in the device */
	uint64_t drain_deadline;  /* CLOSING: past it, whatever is pending ends -ECANCELED */
	uint64_t quarantine_returned; /* quarantined slots the device gave back, ever */
	unsigned waiters;             /* threads blocked on cond */
	uint64_t progress;            /* counts completions, so waiters notice others' work */
	uint64_t next_deadline_ns;    /* earliest request deadline, UINT64_MAX if none */
	uint64_t alive_checked_ns;
	bool clock_batch;      /* a submit batch or reap pass shares one clock read */
	uint64_t clock_ns;     /* that read, 0 until the first request needs it */
	uint64_t processed_ns; /* the clock read of the last drvi_queue_process() */
	unsigned posted;       /* posted since the last commit */
	unsigned active;       /* slots INFLIGHT or ABORTING */
	int irq_fd;            /* bus interrupt fd for this queue, or -1 */
	int extra_irq_fd;      /* another vector the driver asked to watch, or -1 */
	bool watch_extra;      /* drv_queue_watch_vector() was called */
	unsigned extra_vector;
	bool irq_ack;  /* interrupts need bus->irq_ack (INTx); else watched edge-triggered */
	int sw_fd;     /* eventfd: software completions (cancel, timeout, device gone) */
	int health_fd; /* bus health fd, or -1 */
	int poll_fd;   /* epoll set of irq_fd (or timer_fd), sw_fd and the bus health fd */
	/*
	 * Periodic timerfd (IRQ/HYBRID): in place of the interrupt when there
	 * is none (ticks while requests are in flight), else the lost-interrupt
	 * re-check (armed with the first request, disarmed by a tick that finds
	 * nothing in flight, so a steady stream of requests costs no syscall).
	 */
	int timer_fd;
	bool timer_armed;
	unsigned vector;       /* interrupt vector the driver programmed */
	struct drv_buf bounce; /* buffered-I/O area */
	struct drv_bounce *bounce_map;
	struct drv_queue_stats stats;
};

#define DRV_SAME_AS_VIEW(field)                                                                    \
	(offsetof(struct drv_queue, field) == offsetof(struct drv_queue_view, field) &&            \
	 sizeof(((struct drv_queue *)0)->field) == sizeof(((struct drv_queue_view *)0)->field))
_Static_assert(DRV_SAME_AS_VIEW(priv) && DRV_SAME_AS_VIEW(dev) && DRV_SAME_AS_VIEW(id) &&
		   DRV_SAME_AS_VIEW(depth) && DRV_SAME_AS_VIEW(max_sg),
	       "struct drv_queue must begin with the members of struct drv_queue_view");
#undef DRV_SAME_AS_VIEW

/* Fails everything pending with status (device gone, queue error). Lock held. */
void drvi_queue_fail_all(drv_queue *q, int status);
/* Releases every slot that is not free: only once the device no longer owns them. */
void drvi_queue_release_slots(drv_queue *q);

/* ---- Inside the queue layer ------------------------------------------- */

/* slots.c: slot table, free stack, done list, completion delivery. */
int drvi_slots_init(drv_queue *q);
void drvi_slots_fini(drv_queue *q);
/* Inline: drv_submit takes one per request. */
static inline struct drv_slot *drvi_slot_take(drv_queue *q)
{
	if (q->nfree == 0)
		return NULL;
	uint32_t idx = q->free_slots[--q->nfree];
	struct drv_slot *s = &q->slots[idx];
	s->r.tag = DRV_TAG(idx, s->gen);
	return s;
}
/* Gives back the slot's bounce memory and buffers, bumps its generation. */
void drvi_slot_release(drv_queue *q, struct drv_slot *s);
/* Records the outcome and queues the request for delivery (done or callback list). */
void drvi_req_finish(drv_queue *q, struct drv_req *req, int status, uint64_t result,
		     uint32_t flags);
/* Takes a finished request off the done list: it is delivered. */
void drvi_req_deliver(drv_queue *q, struct drv_req *req);
/*
 * The synchronous helpers put this in their request's cb; it is never
 * called. Such a request finishes DONE but on no list, so only the
 * helper's own wait delivers it: another thread's drv_reap must not be
 * handed a request that lives on the helper's stack.
 */
void drvi_helper_mark(struct drv_req *req, void *user_data);
/* Delivers up to max requests from the head of the done list into out; returns how many. */
unsigned drvi_req_deliver_head(drv_queue *q, struct drv_req **out, unsigned max);
/*
 * Timestamps for submit_ns/complete_ns. Between drvi_clock_batch_open() and
 * _close() every request shares the clock read taken for the first one: a
 * clock read costs as much as the rest of a NOP's bookkeeping.
 */
uint64_t drvi_queue_clock(drv_queue *q);
void drvi_clock_batch_open(drv_queue *q);
void drvi_clock_batch_close(drv_queue *q);
/* Wakes waiters after completions: condition variable and the sleeper's fd. */
void drvi_queue_signal(drv_queue *q);
/* Runs queued callbacks with the lock dropped around each. Lock held. */
void drvi_queue_run_callbacks(drv_queue *q);

/* bounce.c: fixed-chunk bitmap allocator over q->bounce. */
int drvi_bounce_init(drv_queue *q, size_t bytes);
void drvi_bounce_fini(drv_queue *q);
/* Offset of len free bytes, or SIZE_MAX when they are not available now. */
size_t drvi_bounce_alloc(drv_queue *q, size_t len);
void drvi_bounce_free(drv_queue *q, size_t off, size_t len);
size_t drvi_bounce_chunk_round(size_t len);
size_t drvi_bounce_capacity(const drv_queue *q);

/* cancel.c: deadlines, cancellation, aborts */
void drvi_queue_expire(drv_queue *q, uint64_t now);
void drvi_queue_note_deadline(drv_queue *q, uint64_t deadline);
/*
 * Asks the driver to abort s. A driver with no room for the abort now
 * (-EAGAIN) gets it again from drvi_queue_resend_aborts() after each reap.
 */
int drvi_slot_abort(drv_queue *q, struct drv_slot *s);
void drvi_queue_resend_aborts(drv_queue *q);
/* The slot left the device before its deferred abort went out. */
void drvi_slot_abort_forget(drv_queue *q, struct drv_slot *s);
/* A QUARANTINED slot held since held_since was released (now FREE). */
void drvi_queue_unhold(drv_queue *q, uint64_t held_since);

/* wait.c: processes completions; waits until done(q, arg) or the deadline. */
int drvi_queue_process(drv_queue *q);
int drvi_queue_wait_until(drv_queue *q, bool (*done)(drv_queue *q, void *arg), void *arg,
			  uint64_t deadline_ns);
uint64_t drvi_deadline(int64_t timeout_ns);
/*
 * The queue's timer (timer_fd): sync after anything that changes
 * q->active (submit, completion processing). In place of an interrupt it
 * follows q->active exactly; as the re-check it is only armed here.
 */
void drvi_queue_timer_set(drv_queue *q, bool on);
static inline void drvi_queue_timer_sync(drv_queue *q)
{
	if (q->timer_fd >= 0 && (q->active > 0) != q->timer_armed && (q->active || q->irq_fd < 0))
		drvi_queue_timer_set(q, q->active > 0);
}
/*
 * queue.c: teardown in steps, so drv_close can take all its queues through
 * each step together and reset the device in between: begin (refuse
 * submits, cancel everything), drain (give the device until the deadline),
 * stop (no more driver calls), the driver's queue_destroy, finish (fail
 * what is left, release every slot), then release (run the last callbacks,
 * wait for the threads still inside the queue's calls, free).
 */
#define DRV_CLOSE_GRACE_NS 1000000000ull /* how long drain waits for the device */
void drvi_queue_close_begin(drv_queue *q, uint64_t deadline);
void drvi_queue_drain(drv_queue *q);
void drvi_queue_stop(drv_queue *q);
void drvi_queue_finish(drv_queue *q);
void drvi_queue_release(drv_queue *q);

/*
 * Every public call on a queue is bracketed by enter/leave, so teardown can
 * wait until the threads inside have left. Entering counts before the lock
 * is taken: a thread blocked on the lock is inside too.
 */
static inline void drvi_queue_enter(drv_queue *q)
{
	__atomic_add_fetch(&q->users, 1, __ATOMIC_ACQUIRE);
}
/* Lock held: the last one out wakes a teardown waiting for it. */
static inline void drvi_queue_leave(drv_queue *q)
{
	if (__atomic_sub_fetch(&q->users, 1, __ATOMIC_RELEASE) == 0 &&
	    q->phase == DRV_QUEUE_STOPPED)
		pthread_cond_broadcast(&q->cond);
}
/*
 * For waiters that want room (a slot, bounce memory): true when waiting
 * longer is pointless (device gone, nothing the device owns) or room came
 * back. With nothing in flight only quarantined slots can still free room,
 * when the device returns them; `returned_before` is q->quarantine_returned
 * when the wait began.
 */
static inline bool drvi_queue_settled(const drv_queue *q, uint64_t returned_before)
{
	if (q->failed)
		return true;
	return q->active == 0 &&
	       (q->stats.quarantined == 0 || q->quarantine_returned != returned_before);
}

/* The queue takes no more driver calls: device failed, or torn down. */
static inline bool drvi_queue_quiet(const drv_queue *q)
{
	return q->failed || q->phase == DRV_QUEUE_STOPPED;
}
/*
 * Whether this thread is running callbacks of q (or of any queue of dev,
 * when dev is given): tearing those down from there would wait for itself.
 */
bool drvi_in_callback_of(const drv_queue *q, const drv_dev *dev);

/* queue.c: the interrupt fds of q's vectors and its timer, watched by poll_fd. */
int drvi_queue_watch_irqs(drv_queue *q);

/*
 * recover.c. The driver reported err (from reap or abort): the device is
 * gone (-ENODEV, or the bus says so) or had a fatal error (anything
 * else). Marks the device, reports it in its health, fails q. Lock held.
 */
void drvi_queue_dev_error(drv_queue *q, int err);
/* The error (with its message) for work refused after failure (-ENODEV, -EIO), or 0. */
int drvi_refusal(int failure);
/* The device failed (drvi_dev_failure()) and q has not noticed yet: fails q. Lock held. */
void drvi_queue_dev_failed(drv_queue *q, int failure);
/* Fails everything pending on q with status (-ENODEV, -EIO); q takes no driver calls. */
void drvi_queue_fail(drv_queue *q, int status);
/* Asks for a recovery reset when the oldest quarantined slot is held too long. */
void drvi_queue_check_held(drv_queue *q, uint64_t now);
uint64_t drvi_queue_oldest_held(const drv_queue *q);
/* A reset in three steps, lock held: end what is pending; after remove(), free; rebuild. */
void drvi_queue_reset_stop(drv_queue *q);
void drvi_queue_reset_release(drv_queue *q);
int drvi_queue_reset_restart(drv_queue *q);

#endif
