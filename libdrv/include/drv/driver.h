/* SPDX-License-Identifier: MIT */
/*
 * Writing a libdrv driver: the driver's half of the model. Applications
 * never need this header (they use drv.h); docs/driver-guide.md walks
 * through a driver step by step.
 *
 * A driver describes itself with a struct drv_driver (name, the PCI
 * functions it serves, its DMA limits, its operations) and registers it
 * (DriverEntry). drv_open() finds the bus, reads the function's ids, picks
 * the registered driver whose id table names them, builds the DMA pool
 * within the driver's limits and calls its probe (EvtDevicePrepareHardware).
 * The queue layer then calls the driver's post and commit for submitted
 * requests (the dispatch routines), its reap when completions may be ready
 * (the DPC), which calls drv_queue_complete() for each, and its abort for
 * cancelled requests (the cancel routine).
 *
 * A driver receives each request as a read-only struct drv_request: the
 * request's memory is already resolved to bus segments (direct I/O through
 * the caller's DMA buffers, or the queue's bounce memory for buffered I/O),
 * so the driver only translates it into its device's command format. It
 * reports the outcome with the request's tag.
 *
 * Locking: post, commit, reap, abort and irq_enable of a queue run with
 * that queue's lock held, one at a time; different queues run
 * concurrently. probe and remove run alone (a reset runs them with every
 * queue's lock held). queue_create and queue_destroy of different queues
 * do not run concurrently with each other or with a reset.
 *
 * What reap returns decides what happens to the device: -ENODEV says it
 * is gone (every request fails -ENODEV, only closing helps); any other
 * error is a fatal error (every request fails -EIO, a reset may cure it).
 */
#ifndef DRV_DRIVER_H
#define DRV_DRIVER_H

#include <stdbool.h>
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
	const void *in_cpu;        /* the same input as the CPU sees it (parameters to read) */
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

/* The deepest queue libdrv makes (a driver may report it as max_queue_depth). */
#define DRV_QUEUE_MAX_DEPTH 4096u

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
 * entries are free, so `depth` stay free after it (drv_sq_room_for_abort): at most
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

/* ---- Describing a driver ---------------------------------------------- */

/*
 * A PCI function a driver serves. vendor and device match exactly, or
 * anything when DRV_PCI_ANY_ID; when class_mask is not zero the function's
 * 24-bit class code must also satisfy (class & class_mask) == class_code.
 * A table ends with an entry that is all zero.
 */
struct drv_pci_id {
	uint16_t vendor, device;
	uint32_t class_code, class_mask;
};
#define DRV_PCI_ANY_ID 0xffffu

/*
 * The device's DMA is done by something outside the IOMMU that maps the
 * function (devsim behind ivshmem, writing guest RAM by physical address),
 * so its bus addresses are physical even under vfio.
 */
#define DRV_DRIVER_DMA_PHYSICAL (1u << 0)

/* The layout of struct drv_driver this header describes: the abi field. */
#define DRV_DRIVER_ABI 1

/*
 * A driver. Initialise it with DRV_DRIVER_INIT first so libdrv knows which
 * layout it is reading. Every operation but abort is required. The driver
 * structure and its id table must stay valid while it is registered.
 */
struct drv_driver {
	uint32_t abi;                 /* DRV_DRIVER_ABI */
	uint32_t size;                /* sizeof(struct drv_driver) */
	const char *name;             /* short, shown in drv_info (at most 15 bytes) */
	const struct drv_pci_id *ids; /* what it serves; NULL: only by drv_open_driver */
	uint64_t dma_mask;            /* highest bus address the device reaches; 0: all */
	uint32_t flags;               /* DRV_DRIVER_* */
	/*
	 * Identifies and initialises the device: maps its registers, resets
	 * and enables it, sets up interrupts, describes it with
	 * drv_dev_set_info(). Undoes everything it did before failing. A
	 * reset (drv_reset, recovery) calls it again after remove(), with
	 * the same queues to be re-created by queue_create.
	 */
	int (*probe)(drv_dev *dev);
	/*
	 * Quiesces the device so it touches no memory (skipped when it is
	 * gone), frees its state. A reset relies on it: what the device held
	 * is released only after remove() returns. Called with
	 * drv_dev_priv() NULL when a reset's probe failed: nothing to do.
	 */
	void (*remove)(drv_dev *dev);
	/*
	 * Builds the hardware queue for q: its rings (drv_dev_dma_alloc), its
	 * vector (drv_queue_set_vector), enabling it. Interrupts start masked
	 * when the queue's cmode is DRV_CMODE_POLL.
	 */
	int (*queue_create)(drv_queue *q);
	/*
	 * Disables the hardware queue and frees what queue_create built. On
	 * drv_close it runs after remove(), when the device is already reset:
	 * then it only frees memory. drv_queue_create calls it too when it
	 * fails after queue_create succeeded.
	 */
	void (*queue_destroy)(drv_queue *q);
	/*
	 * Hands request r to the device without ringing its doorbell. Returns
	 * 0; -EAGAIN when the device has no room now (the request is not
	 * taken: drv_submit stops before it); or another -errno when the
	 * device cannot do it: the request then completes with that status,
	 * and a message set with drv_fail() reaches the caller.
	 */
	int (*post)(drv_queue *q, const struct drv_request *r);
	/* Publishes everything posted since the last commit; returns the doorbells rung (0 or 1).
	 */
	unsigned (*commit)(drv_queue *q);
	/*
	 * Consumes device completions, calling drv_queue_complete() for each,
	 * at most `budget` of them. Returns the number consumed, or -errno
	 * when the queue or device failed (-ENODEV: gone; else a fatal error,
	 * with a drv_fail() message saying which): everything pending then
	 * fails, completions already reported stand.
	 */
	int (*reap)(drv_queue *q, unsigned budget);
	/*
	 * Asks the device to give request r back early. 0: it will complete
	 * (aborted or done), now or through reap; -EAGAIN: no room to ask now,
	 * libdrv asks again after later completions; -EOPNOTSUPP (or a NULL
	 * abort): the device cannot abort it, it completes when done. No
	 * commit follows: an abort that writes a ring rings the doorbell.
	 */
	int (*abort)(drv_queue *q, const struct drv_request *r);
	/*
	 * Interrupts of q on (true) or off. Turning them on returns true when
	 * completions are already waiting, so a waiter never sleeps on a
	 * completion that raced with the unmask.
	 */
	bool (*irq_enable)(drv_queue *q, bool on);
};
#define DRV_DRIVER_INIT .abi = DRV_DRIVER_ABI, .size = sizeof(struct drv_driver)

/*
 * Makes drv a candidate for drv_open() (DriverEntry). Drivers registered
 * later are tried first, and every registered driver before libdrv's own,
 * so a program may replace a built-in driver. -EINVAL for a malformed
 * driver (the message names the field), -EEXIST when a driver of that
 * name is registered, -ENOSPC past 32 drivers.
 */
DRV_API int drv_driver_register(const struct drv_driver *drv);
/* Withdraws drv; -EBUSY while a device opened with it is open, -ENOENT if not registered. */
DRV_API int drv_driver_unregister(const struct drv_driver *drv);

/*
 * Registers a driver when the program (or shared library) holding it
 * loads: DRV_DRIVER_REGISTER(my_driver); at file scope. Failures cannot be reported from there:
 * drv_open() names a driver that failed to register and why. In a static archive an object nothing
 * refers to is not linked: call drv_driver_register() instead.
 */
#define DRV_DRIVER_REGISTER(drv)                                                                   \
	__attribute__((constructor)) static void drv_driver_register_##drv(void)                   \
	{                                                                                          \
		(void)drv_driver_register(&(drv));                                                 \
	}                                                                                          \
	static void drv_driver_register_##drv(void) /* the caller's ';' ends this */

/*
 * drv_open() with the driver named `driver` (registered or built in),
 * whatever the function's ids: for tests, and devices without stable ids.
 */
DRV_API int drv_open_driver(const char *uri, const char *driver, const struct drv_open_opts *opts,
			    drv_dev **out);

/*
 * Records a failure message for drv_errmsg() in this thread and returns
 * err (a negative errno): return drv_fail(-EINVAL, "depth %u: ...", d).
 * Say what was attempted and what the user can do about it.
 */
DRV_API int drv_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* drv_fail(), appending ": " and strerror(-err). */
DRV_API int drv_fail_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- The device --------------------------------------------------------- */

/* The driver's per-device state: NULL until drv_dev_set_priv() stores one. */

DRV_API void *drv_dev_priv(const drv_dev *dev);
DRV_API void drv_dev_set_priv(drv_dev *dev, void *priv);

/*
 * What the device reports through drv_info(); valid while it is open. The
 * bus fills bus, address, vendor_id and device_id before probe.
 */
DRV_API const struct drv_info *drv_dev_info(const drv_dev *dev);
/*
 * Describes the device (from probe): model, serial, firmware, hw_version,
 * features, capacity, block_size and the queue, transfer and SG limits.
 * The fields libdrv owns are kept: driver, bus, address, ids, irq_vectors,
 * irq_mode, dma_pool_bytes. max_queues is capped at 64, block_size 0 means
 * 1, and the strings are cut to their arrays.
 */
DRV_API void drv_dev_set_info(drv_dev *dev, const struct drv_info *info);

/*
 * Maps register window `bar` (a PCI BAR; sim: 2, dsim's register page).
 * The mapping lasts until the device is closed. -ENOENT when there is none.
 */
DRV_API int drv_dev_map_bar(drv_dev *dev, unsigned bar, volatile void **va, size_t *len);
/* Reads or writes PCI configuration space; -EOPNOTSUPP on the sim bus, which has none. */

DRV_API int drv_dev_config_read(drv_dev *dev, unsigned off, void *data, size_t len);
DRV_API int drv_dev_config_write(drv_dev *dev, unsigned off, const void *data, size_t len);

/*
 * Whether the bus carries doorbells for this device (the sim bus does);
 * otherwise the device's own doorbell register is the way to notify it.
 */
DRV_API bool drv_dev_has_kick(const drv_dev *dev);
/* Rings bus doorbell `vector` (see drv_dev_has_kick); -EOPNOTSUPP when the bus has none. */
DRV_API int drv_dev_kick(drv_dev *dev, unsigned vector);

/*
 * Asks for up to `wanted` interrupt vectors and returns how many the
 * device got (0: none, queues are polled); their mode lands in
 * drv_dev_info()->irq_mode and irq_vectors. Call once, from probe.
 */
DRV_API int drv_dev_irq_setup(drv_dev *dev, unsigned wanted);

/*
 * 0 while the device is reachable; -ENODEV when the bus reports it gone
 * or it was marked failed. Cheap enough to call in a polling loop.
 */
DRV_API int drv_dev_alive(drv_dev *dev);
/*
 * Marks the device gone (surprise removal, registers reading all ones):
 * every queue fails what is pending with -ENODEV, new queues and requests
 * are refused, remove() is told it is gone, and only closing helps. For a
 * fatal error a reset may cure, return the error from reap instead.
 */
DRV_API void drv_dev_set_failed(drv_dev *dev);

/*
 * Polls check(arg) every 20 us until it returns non-zero, and returns that
 * (so check returns 1 when done, or a negative errno to stop at once);
 * -ENODEV as soon as drv_dev_alive() fails; -ETIMEDOUT after timeout_ns.
 */
DRV_API int drv_dev_poll(drv_dev *dev, int (*check)(void *arg), void *arg, uint64_t timeout_ns);
/*
 * Waits until (register & mask) == want: 0; -EIO when the register shows
 * any of `fail`; -ENODEV, -ETIMEDOUT as drv_dev_poll().
 */
DRV_API int drv_dev_wait32(drv_dev *dev, const volatile void *regs, uint32_t off, uint32_t mask,
			   uint32_t want, uint32_t fail, uint64_t timeout_ns);

/*
 * DMA memory for the driver's own rings and tables: zeroed, bus-contiguous
 * (drv_buf_bus() + offset is byte offset's bus address), aligned to
 * `align` (a power of two, at most 64 KiB), below the driver's dma_mask.
 * Free it with drv_buf_free(), at the latest in remove/queue_destroy.
 */
DRV_API int drv_dev_dma_alloc(drv_dev *dev, size_t len, size_t align, drv_buf **out);

/* ---- Queues --------------------------------------------------------------- */

/*
 * The first members of every queue, read by the inline helpers below so
 * that a driver's request path makes no calls for them. Read them through
 * the helpers; only priv is the driver's to change.
 */
struct drv_queue_view {
	void *priv;
	drv_dev *dev;
	unsigned id;          /* hardware queue index, below drv_dev_info()->max_queues */
	unsigned depth;       /* requests in flight at most: drv_request_index() is below */
	unsigned max_sg;      /* bus segments a request may carry */
} __attribute__((may_alias)); /* read over libdrv's own struct drv_queue */

/* The queue's view; the helpers below read it. */
static inline const struct drv_queue_view *drv_queue_view_of(const drv_queue *q)
{
	return (const struct drv_queue_view *)(const void *)q;
}

/* The driver's per-queue state, NULL until drv_queue_set_priv(). */
static inline void *drv_queue_priv(const drv_queue *q)
{
	return drv_queue_view_of(q)->priv;
}

/* Stores the driver's per-queue state, from queue_create. */
static inline void drv_queue_set_priv(drv_queue *q, void *priv)
{
	((struct drv_queue_view *)(void *)q)->priv = priv;
}

/* The device the queue belongs to. */
static inline drv_dev *drv_queue_dev(const drv_queue *q)
{
	return drv_queue_view_of(q)->dev;
}

/* libdrv gives each queue the lowest hardware index free on its device. */
static inline unsigned drv_queue_id(const drv_queue *q)
{
	return drv_queue_view_of(q)->id;
}

/* Requests the queue holds at most; drv_request_index() is below it. */
static inline unsigned drv_queue_depth(const drv_queue *q)
{
	return drv_queue_view_of(q)->depth;
}

/* Bus segments a request may carry: 1 unless the device reports DRV_FEAT_SGL. */
static inline unsigned drv_queue_max_sg(const drv_queue *q)
{
	return drv_queue_view_of(q)->max_sg;
}

/* The options the queue was created with, defaults filled in. */
DRV_API const struct drv_queue_opts *drv_queue_options(const drv_queue *q);
/* The interrupt vector the driver programmed for q (from queue_create); 0 by default. */
DRV_API void drv_queue_set_vector(drv_queue *q, unsigned vector);
/*
 * From queue_create: the queue's waiters also wake on interrupts of
 * `vector`, a device-wide one whose completions the queue's reap may find
 * (an admin queue's, where requests of this queue wait). Nothing changes
 * when it is the queue's own vector or the device has no interrupts.
 */
DRV_API void drv_queue_watch_vector(drv_queue *q, unsigned vector);
/*
 * Makes the queue's fd readable and wakes a waiter so that it reaps: for
 * completions that the reap of another queue found on this one's behalf.
 * Any thread, any time while the queue exists; takes no lock.
 */
DRV_API void drv_queue_wake(drv_queue *q);

/*
 * Reports the completion of the request with `tag`, from reap or abort
 * (never from post: the request is not pending until post returns; one
 * that needs no device time completes on the next reap, and irq_enable
 * reports it as waiting); the queue lock is held there. The tag is checked against the queue's
 * requests (index, generation, state): one that matches nothing is counted in stats.rejected and
 * returns -EPROTO, touching no request, so a device that repeats or invents tags cannot complete a
 * request twice. status is 0 or -errno (the driver translates its device's codes), result the
 * request's result, result_flags DRV_RESULT_*.
 */
DRV_API int drv_queue_complete(drv_queue *q, uint32_t tag, int status, uint64_t result,
			       uint32_t result_flags);

#ifdef __cplusplus
}
#endif

#endif
