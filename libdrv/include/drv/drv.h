/* SPDX-License-Identifier: MIT */
/*
 * libdrv: asynchronous user-space PCI drivers.
 *
 * The model is overlapped I/O: a request is submitted, answered "pending",
 * held in the queue's pending ring and completed later by the device. The
 * caller waits for one, any or all requests, reaps completions in batches,
 * polls a file descriptor, or gets a callback; it may cancel.
 *
 * Every function returns 0 or a count on success and a negative errno on
 * failure; drv_errmsg() then says in words what went wrong and what to do.
 * libdrv starts no thread: completions are processed by the thread that
 * waits, reaps or tests. (The simulated device of sim:inproc, which lives
 * in the opt-in libdrv-sim, runs on a thread of its own, as a device would.)
 */
#ifndef DRV_DRV_H
#define DRV_DRV_H

#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DRV_API __attribute__((visibility("default")))

#define DRV_VERSION_MAJOR 0
#define DRV_VERSION_MINOR 3

typedef struct drv_dev drv_dev;
typedef struct drv_queue drv_queue;
typedef struct drv_buf drv_buf;
struct drv_req;

/* ---- Errors ----------------------------------------------------------- */

/* Message describing the last failure of a libdrv call in this thread. */
DRV_API const char *drv_errmsg(void);

/* ---- Devices ---------------------------------------------------------- */

struct drv_open_opts {
	size_t dma_pool_bytes; /* DMA memory to reserve; 0 = default (64 MiB) */
};

/*
 * Opens a device. URIs:
 *   sim:inproc[?opts]     devsim as a thread in this process
 *   sim:/path/to.sock     a running `devsim serve --socket /path/to.sock`
 *   uio:DDDD:BB:DD.F      a PCI function bound to uio_pci_generic
 *   vfio:DDDD:BB:DD.F     a PCI function bound to vfio-pci
 *   pci:DDDD:BB:DD.F      whichever of the two it is bound to
 * sim:inproc options are devsim's, e.g.
 *   sim:inproc?latency=fixed:1s&capacity=16M&queues=4&backing=/tmp/disk
 * `opts` may be NULL.
 */
DRV_API int drv_open(const char *uri, const struct drv_open_opts *opts, drv_dev **out);

/*
 * Cancels every pending request (callbacks run), resets the device, frees
 * all. Submits to its queues are refused with -ESHUTDOWN from the moment
 * close begins. Threads blocked in drv_wait/drv_reap/... on its queues are
 * woken (their requests end, -ECANCELED if not done) and close returns only
 * after every thread inside a call on its queues has left, so none runs on
 * freed memory. Calls that begin after close returned are use after free,
 * and requests must outlive close (it writes their final status): tell
 * your threads to stop, wake them (drv_cancel_all), join them, then close
 * (docs/api.md, "Teardown"). Nothing else may run
 * on the device concurrently with close (drv_buf_alloc, drv_info,
 * drv_queue_create/destroy). From a callback of one of the device's queues
 * close would wait for itself: it returns -EDEADLK.
 */
DRV_API int drv_close(drv_dev *dev);

enum drv_irq_mode {
	DRV_IRQ_NONE = 0,    /* no interrupts on this bus: completions are polled */
	DRV_IRQ_EVENTFD = 1, /* simulator: an eventfd per vector */
	DRV_IRQ_INTX = 2,
	DRV_IRQ_MSI = 3,
	DRV_IRQ_MSIX = 4,
};

#define DRV_FEAT_SGL (1ull << 0)
#define DRV_FEAT_EVENTS (1ull << 1)
#define DRV_FEAT_ABORT (1ull << 2)
#define DRV_FEAT_COALESCE (1ull << 3)
#define DRV_FEAT_PERSISTENT (1ull << 4)
#define DRV_FEAT_DEVICE_POLL (1ull << 5)
#define DRV_FEAT_STORAGE (1ull << 6) /* READ/WRITE address a storage range */

struct drv_info {
	char driver[16];   /* "dsim", "edu" */
	char bus[8];       /* "sim", "uio", "vfio" */
	char address[108]; /* socket path, "inproc" or PCI address */
	char model[32];    /* device's own description */
	uint16_t vendor_id, device_id;
	uint32_t hw_version;
	uint64_t features; /* DRV_FEAT_* */
	uint64_t capacity; /* bytes addressable by READ/WRITE */
	uint32_t max_queues;
	uint32_t max_queue_depth;
	uint32_t max_transfer; /* bytes per request */
	uint32_t max_sg;       /* SG entries per request */
	uint32_t irq_vectors;
	enum drv_irq_mode irq_mode;
	uint64_t dma_pool_bytes;
	/* Since 0.2 (ABI node LIBDRV_0.2; programs built against 0.1 get the fields above). */
	uint32_t block_size; /* READ/WRITE offsets and lengths are multiples of this; 1 = any */
	char serial[24];     /* device's serial number, "" when it has none */
	char firmware[12];   /* firmware revision, "" when it has none */
};

DRV_API int drv_info(drv_dev *dev, struct drv_info *out);
DRV_API const char *drv_irq_mode_name(enum drv_irq_mode mode);

/* ---- Health and recovery ---------------------------------------------- */

/*
 * The device's health, a state machine (docs/reliability.md):
 *
 *   OK -> DEGRADED      a request passed its deadline and the device has not
 *                       given its slot back (drv_queue_stats().quarantined)
 *   DEGRADED -> OK      the device gave every such slot back
 *   OK|DEGRADED -> RESETTING -> OK | FAILED
 *                       drv_reset(), or recovery: a slot held past
 *                       auto_reset_ns, or a fatal error
 *   any -> FAILED       a fatal error the device reported (error -EIO: a
 *                       reset may bring it back) or the device is gone
 *                       (error -ENODEV: close it and open it again)
 *
 * Changes are noticed by the threads that process completions (wait, reap,
 * test, submit), as completions are: libdrv starts no thread.
 */
enum drv_health_state {
	DRV_HEALTH_OK = 0,
	DRV_HEALTH_DEGRADED = 1,
	DRV_HEALTH_RESETTING = 2,
	DRV_HEALTH_FAILED = 3,
};

struct drv_health {
	enum drv_health_state state;
	int error;            /* FAILED: -EIO (fatal error) or -ENODEV (gone); else 0 */
	uint64_t changes;     /* state changes since open */
	uint64_t resets;      /* resets begun, by drv_reset() or recovery */
	uint64_t auto_resets; /* of those, begun by recovery */
	uint64_t failed_resets;
	uint64_t lost_interrupts; /* IRQ-mode re-checks that found completions no interrupt
				     announced for a whole re-check period */
	uint32_t quarantined;     /* slots held past their requests' deadlines, all queues */
	char reason[128];         /* the last change, in words */
};

/* Copies the device's health and makes drv_health_fd() unreadable until the next change. */
DRV_API int drv_health(drv_dev *dev, struct drv_health *out);
/*
 * An fd that becomes readable when the health state changes (poll/epoll
 * it; call drv_health() to read the state and consume the readiness).
 * Owned by the device: do not close it.
 */
DRV_API int drv_health_fd(drv_dev *dev);
/*
 * Resets the device and brings it back: every request pending on any of
 * its queues ends with -ECONNRESET (it may or may not have been carried
 * out), the driver quiesces the device and probes it again, and the
 * queues are re-created in place (same drv_queue handles, same fds).
 * Only then are slots and buffers the device held released (quarantined
 * slots included). Submits wait while it runs. Returns 0 when the device
 * is back (state OK); -ENODEV when it is gone; another -errno when it did
 * not come back (state FAILED: close it, or try again). Not while the
 * device is being closed or its queues created or destroyed; from a
 * callback it returns -EBUSY when such a call is in progress.
 */
DRV_API int drv_reset(drv_dev *dev);

/* Recovery policy of a device (drv_set_recovery). */
struct drv_recovery {
	/*
	 * Reset the device when a request that passed its deadline has not
	 * been given back by the device this long after (aborts where the
	 * device has them come first), and after a fatal error (at most once
	 * per this period). 0 = DRV_AUTO_RESET_NS_DEFAULT; < 0 = never.
	 */
	int64_t auto_reset_ns;
	/*
	 * While requests are in flight, a waiter sleeping on interrupts (and
	 * the queue fd) wakes this often to look at the rings, so a lost
	 * interrupt delays completions instead of hanging them; what it finds
	 * is counted in lost_interrupts. 0 = DRV_IRQ_RECHECK_US_DEFAULT.
	 */
	uint32_t irq_recheck_us;
	/*
	 * The deadline of requests submitted with timeout_ns 0 (WAIT_EVENT
	 * excepted: it waits for its event), so that a device that stops
	 * answering cannot hold them for ever: past it they end -ETIMEDOUT
	 * and recovery takes over. 0 = none, they wait as long as the device
	 * takes (the default).
	 */
	int64_t request_timeout_ns;
};
#define DRV_AUTO_RESET_NS_DEFAULT 5000000000ll
#define DRV_IRQ_RECHECK_US_DEFAULT 10000u

/* Sets the recovery policy (NULL: the defaults); applies to queues created after it too. */
DRV_API int drv_set_recovery(drv_dev *dev, const struct drv_recovery *policy);

/* ---- DMA memory (the MDL role) ---------------------------------------- */

/* Device-visible memory with a bus address; contents start zeroed. */
DRV_API int drv_buf_alloc(drv_dev *dev, size_t len, drv_buf **out);
/*
 * Frees now, or once the device can no longer touch it (see docs). Freeing
 * a buffer twice, or passing a freed buffer to the accessors below, sets
 * drv_errmsg() and does nothing, for the device's last 64 freed buffers.
 */
DRV_API void drv_buf_free(drv_buf *buf);
DRV_API void *drv_buf_addr(const drv_buf *buf);
DRV_API size_t drv_buf_len(const drv_buf *buf);
DRV_API uint64_t drv_buf_bus(const drv_buf *buf);

/* One scatter-gather segment: a range of a DMA buffer. */
struct drv_sge {
	drv_buf *buf;
	size_t off;
	size_t len;
};

/* ---- Queues ----------------------------------------------------------- */

enum drv_cmode {
	DRV_CMODE_IRQ = 0,    /* sleep on the interrupt (no interrupts: on a poll timer) */
	DRV_CMODE_POLL = 1,   /* interrupts masked; waiters spin on the ring */
	DRV_CMODE_HYBRID = 2, /* spin up to spin_ns, then sleep on the interrupt */
};

struct drv_queue_opts {
	unsigned depth; /* requests in flight; 0 = 64 */
	enum drv_cmode cmode;
	uint64_t spin_ns;        /* HYBRID: spin before sleeping; 0 = 20 us */
	unsigned coalesce_count; /* interrupt after N completions (0 = each) */
	unsigned coalesce_usec;  /* ... or this long after the first */
	size_t bounce_bytes;     /* buffered-I/O memory; 0 = depth * 64 KiB capped at 16 MiB;
				    at most DRV_QUEUE_MAX_BOUNCE_BYTES */
	int device_poll;         /* ask the device to poll the ring (no doorbells) */
	/*
	 * IRQ/HYBRID on a device without interrupts (drv_info irq_mode
	 * DRV_IRQ_NONE, e.g. ivshmem under uio): waiters and the queue fd wake
	 * on a timer with this period instead, armed only while requests are
	 * in flight (parked WAIT_EVENTs included): one wake-up per period while
	 * anything is pending. 0 = DRV_POLL_INTERVAL_US_DEFAULT. Ignored when
	 * the device has interrupts, and in POLL mode.
	 */
	uint32_t poll_interval_us;
};
#define DRV_POLL_INTERVAL_US_DEFAULT 200
#define DRV_QUEUE_MAX_BOUNCE_BYTES (1ull << 30)

DRV_API int drv_queue_create(drv_dev *dev, const struct drv_queue_opts *opts, drv_queue **out);
/*
 * Cancels what is pending on the queue (callbacks run) and frees it. As for
 * drv_close: submits are refused with -ESHUTDOWN once it begins (including
 * from the callbacks it runs), every request ends exactly once, blocked
 * threads are woken and waited for, and the device is given at most one
 * second to return cancelled requests. From a callback of this queue it
 * returns -EDEADLK.
 */
DRV_API int drv_queue_destroy(drv_queue *q);
/*
 * Readable when completions may be ready: add it to epoll/poll/io_uring,
 * then call drv_reap() with a zero timeout. The fd is edge-like: one wake-up
 * may stand for many completions and is consumed by the first reap, so on
 * each wake-up reap until a call returns fewer than `max` (what is left
 * unreaped raises no new readiness). In DRV_CMODE_POLL the device
 * raises no interrupt; the fd still reports software completions. On a
 * device without interrupts an IRQ/HYBRID queue's fd becomes readable on
 * every tick of its poll timer (poll_interval_us) while requests are pending.
 */
DRV_API int drv_queue_fd(drv_queue *q);

struct drv_queue_stats {
	uint64_t submitted;
	uint64_t completed;
	uint64_t kicks;      /* doorbells rung for submissions */
	uint64_t interrupts; /* interrupt wake-ups consumed */
	uint64_t sleeps;     /* times a waiter blocked in the kernel */
	uint64_t cancelled;
	uint64_t timed_out;
	uint64_t rejected; /* device completions matching no pending request */
	unsigned in_flight;
	unsigned quarantined; /* slots of timed-out requests the device still holds (until it
				 gives them back, or a reset) */
};
DRV_API int drv_queue_stats(drv_queue *q, struct drv_queue_stats *out);

/* ---- Requests (the OVERLAPPED / IRP role) ------------------------------ */

enum drv_op {
	DRV_OP_NOP = 0,
	DRV_OP_READ = 1,  /* device -> memory */
	DRV_OP_WRITE = 2, /* memory -> device */
	DRV_OP_FLUSH = 3,
	DRV_OP_CONTROL = 4,    /* DeviceIoControl: code, in buffer, out buffer */
	DRV_OP_WAIT_EVENT = 5, /* inverse call: completes when the device raises an event */
};

typedef void (*drv_req_cb)(struct drv_req *req, void *user_data);

/*
 * Caller-owned; must stay valid and unmodified from drv_submit() until the
 * request is delivered (by wait, test, reap or its callback). Data buffers:
 * exactly one of `data` (plain memory, copied through a bounce buffer:
 * buffered I/O), `buf` + `buf_off` (direct I/O, zero copy) or `sgl` +
 * `nsge` (direct I/O, scatter-gather). For CONTROL the data buffer is the
 * output; `in`/`in_len` is the input (always copied).
 */
struct drv_req {
	uint8_t op;    /* enum drv_op */
	uint8_t flags; /* reserved, 0 */
	uint16_t nsge;
	uint32_t code;   /* CONTROL: device control code */
	uint64_t offset; /* storage offset, or control argument */
	void *data;
	size_t len; /* bytes of data / buf / sgl total */
	drv_buf *buf;
	size_t buf_off;
	const struct drv_sge *sgl;
	const void *in;
	size_t in_len;
	uint64_t arg[2];     /* CONTROL arguments */
	uint64_t timeout_ns; /* 0 = none; past it the request fails -ETIMEDOUT */
	drv_req_cb cb;       /* runs in the thread that processes the completion */
	void *user_data;

	/* Set by libdrv. */
	int status;            /* -EINPROGRESS while pending; then 0 or -errno */
	uint32_t result_flags; /* DRV_RESULT_* */
	uint64_t result;       /* bytes transferred, or the control code's value */
	uint64_t submit_ns;    /* CLOCK_MONOTONIC */
	uint64_t complete_ns;

	/* Private to libdrv. */
	struct {
		struct drv_req *next, *prev;
		drv_queue *q;
		uint64_t deadline_ns;
		uint32_t slot;
		uint32_t state;
	} priv;
};

#define DRV_RESULT_TRUNCATED (1u << 0) /* event payload did not fit */

/* memset, not a compound literal: C++ has none, nor (before C++20) designated initializers. */
static inline void drv_prep(struct drv_req *r, enum drv_op op, uint64_t offset, void *data,
			    size_t len)
{
	memset(r, 0, sizeof(*r));
	r->op = (uint8_t)op;
	r->offset = offset;
	r->data = data;
	r->len = len;
}

static inline void drv_prep_nop(struct drv_req *r)
{
	drv_prep(r, DRV_OP_NOP, 0, NULL, 0);
}
static inline void drv_prep_read(struct drv_req *r, uint64_t offset, void *data, size_t len)
{
	drv_prep(r, DRV_OP_READ, offset, data, len);
}
static inline void drv_prep_write(struct drv_req *r, uint64_t offset, const void *data, size_t len)
{
	drv_prep(r, DRV_OP_WRITE, offset, (void *)data, len);
}
static inline void drv_prep_read_buf(struct drv_req *r, uint64_t offset, drv_buf *buf,
				     size_t buf_off, size_t len)
{
	drv_prep(r, DRV_OP_READ, offset, NULL, len);
	r->buf = buf;
	r->buf_off = buf_off;
}
static inline void drv_prep_write_buf(struct drv_req *r, uint64_t offset, drv_buf *buf,
				      size_t buf_off, size_t len)
{
	drv_prep(r, DRV_OP_WRITE, offset, NULL, len);
	r->buf = buf;
	r->buf_off = buf_off;
}
static inline void drv_prep_rw_sgl(struct drv_req *r, enum drv_op op, uint64_t offset,
				   const struct drv_sge *sgl, uint16_t nsge)
{
	size_t len = 0;
	for (uint16_t i = 0; i < nsge; i++)
		len += sgl[i].len;
	drv_prep(r, op, offset, NULL, len);
	r->sgl = sgl;
	r->nsge = nsge;
}
static inline void drv_prep_flush(struct drv_req *r)
{
	drv_prep(r, DRV_OP_FLUSH, 0, NULL, 0);
}
static inline void drv_prep_control(struct drv_req *r, uint32_t code, const void *in, size_t in_len,
				    void *out, size_t out_len)
{
	drv_prep(r, DRV_OP_CONTROL, 0, out, out_len);
	r->code = code;
	r->in = in;
	r->in_len = in_len;
}
static inline void drv_prep_wait_event(struct drv_req *r, void *data, size_t len)
{
	drv_prep(r, DRV_OP_WAIT_EVENT, 0, data, len);
}

/* Is the request finished (delivered or waiting to be)? Cheap, no locking. */
static inline int drv_req_done(const struct drv_req *r)
{
	return __atomic_load_n(&r->status, __ATOMIC_ACQUIRE) != -EINPROGRESS;
}

/*
 * Submits n requests with one doorbell. Returns how many were accepted (in
 * order); the rest were not touched and may be submitted again later. When
 * the queue is full and none fits, returns -EAGAIN: wait or reap, then retry.
 * On a queue being destroyed (or its device closed) returns -ESHUTDOWN.
 * A request that fails validation makes the call stop there: the earlier
 * ones are submitted and counted, that one gets -errno in its status and is
 * delivered like any other completion, and the count includes it.
 */
DRV_API int drv_submit(drv_queue *q, struct drv_req *const reqs[], unsigned n);

/* timeout_ns: <0 waits forever, 0 only checks. */
DRV_API int drv_wait(drv_queue *q, struct drv_req *req, int64_t timeout_ns);
/* Returns the index of a finished request, or -ETIMEDOUT. */
DRV_API int drv_wait_any(drv_queue *q, struct drv_req *const reqs[], unsigned n,
			 int64_t timeout_ns);
/* Returns 0 when all n are finished, or -ETIMEDOUT. */
DRV_API int drv_wait_all(drv_queue *q, struct drv_req *const reqs[], unsigned n,
			 int64_t timeout_ns);
/*
 * Delivers up to max finished requests that nobody has waited for yet (and
 * that have no callback), blocking until at least min_complete are ready or
 * the timeout passes. Returns the count. With nothing in flight it returns
 * at once, as no more can arrive; but when slots are quarantined (requests
 * that timed out, which the device has not returned) it blocks until the
 * device returns one, so a submit loop that reaps on -EAGAIN does not spin.
 */
DRV_API int drv_reap(drv_queue *q, struct drv_req **out, unsigned max, unsigned min_complete,
		     int64_t timeout_ns);
/* GetOverlappedResult(bWait=FALSE): 0 if finished, -EINPROGRESS if not. */
DRV_API int drv_test(drv_queue *q, struct drv_req *req);
/*
 * CancelIo for one request: 0 if the cancel was issued (the request will
 * finish with -ECANCELED, or with its real result if the device finished it
 * first), -ENOENT if it is not pending on q.
 */
DRV_API int drv_cancel(drv_queue *q, struct drv_req *req);
/* Cancels every pending request; returns how many were pending. */
DRV_API int drv_cancel_all(drv_queue *q);

/* ---- Synchronous helpers ---------------------------------------------- */
/*
 * Each submits one request, waits for it and returns its result or -errno.
 * They may share a queue with other threads' submits, waits and reaps: they
 * take no other thread's completion, and no other thread's drv_reap is
 * handed theirs.
 */

DRV_API int64_t drv_read(drv_queue *q, uint64_t offset, void *data, size_t len);
DRV_API int64_t drv_write(drv_queue *q, uint64_t offset, const void *data, size_t len);
DRV_API int drv_flush(drv_queue *q);
DRV_API int64_t drv_control(drv_queue *q, uint32_t code, const void *in, size_t in_len, void *out,
			    size_t out_len);
DRV_API int64_t drv_wait_event(drv_queue *q, void *data, size_t len, int64_t timeout_ns);

/* CLOCK_MONOTONIC in nanoseconds, the clock of submit_ns / complete_ns. */
DRV_API uint64_t drv_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif
