/* SPDX-License-Identifier: MIT */
/*
 * The dsim device model: what a host (socket server, in-process thread,
 * unit test) creates, attaches to a driver session and runs.
 *
 * Everything below runs on the device thread except dsim_dev_stop(); hosts
 * add their own fds to the device loop with dsim_dev_watch() so protocol
 * handling (DMA_MAP, EVENT) happens on that thread too, without locks.
 */
#ifndef DEVSIM_MODEL_H
#define DEVSIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "devsim/dsim_hw.h"

#define DSIM_MAX_WINDOWS 32u
#define DSIM_REQ_POOL 1024u
#define DSIM_PASS_BYTES (256u << 10) /* data moved per pass before interrupting */

struct dsim_window {
	uint64_t bus;
	uint64_t len;
	uint8_t *va;
	size_t map_len; /* != 0: devsim mmapped it and unmaps it */
	void *map_base;
};

struct dsim_storage {
	int fd; /* -1 for RAM */
	uint8_t *ram;
	uint64_t capacity;
	bool fail_next;    /* fault storage-fail: the next read, write or flush fails */
	uint64_t failures; /* accesses that failed, injected or not: each makes the device FATAL */
};

/* The faults that rules fired on one request (bit k of kinds: enum dsim_fault_kind k). */
struct dsim_req_fault {
	uint16_t kinds;
	uint8_t status;       /* error */
	uint8_t how;          /* bad-tag: enum dsim_fault_tag_how */
	uint8_t field;        /* corrupt: enum dsim_fault_field */
	bool posting;         /* late: executed; its CQE waits in service until finish_ns */
	uint16_t post_status; /* late: the CQE to post */
	uint16_t post_flags;
	uint32_t post_result;
	uint32_t rand; /* drawn when the rule fired: random tag, result or status */
	uint64_t late_ns;
	uint64_t slow_ns;
};

/* Fault injection state; rules, RNG and counts survive CONTROL.RESET. */
struct dsim_faults {
	struct dsim_fault_set set;
	uint64_t seed;
	uint64_t rng;
	uint64_t injected[DSIM_FAULT_KIND_COUNT];
	bool stalled;  /* hang or vanish: nothing fetched or posted */
	bool vanished; /* reset does not bring the device back */
	bool vanish_told;
};

struct dsim_req {
	struct dsim_sqe sqe;
	unsigned qid;
	uint64_t finish_ns;
	uint64_t seq; /* tie-break: equal finish times complete in fetch order */
	int heap_idx; /* -1 when not in service */
	bool in_use;
	bool parked;           /* WAIT_EVENT waiting for an event */
	struct dsim_req *next; /* free list or parked FIFO */
	struct dsim_req *prev;
	struct dsim_req_fault fault;
};

struct dsim_queue {
	bool enabled;
	bool error;
	uint32_t mask; /* entries - 1 */
	uint32_t vector;
	struct dsim_sqe *sq;
	uint8_t *cq; /* 16-byte entries */
	uint64_t sq_bus, cq_bus;
	uint32_t sq_head, cq_tail;
	uint16_t phase;
	uint32_t inflight;     /* fetched, CQE not yet posted */
	uint32_t in_service;   /* of those, waiting in the timing heap */
	uint32_t irq_pending;  /* CQEs posted since the last interrupt */
	uint64_t irq_deadline; /* coalescing timer, 0 = none */
	bool posted;           /* CQEs posted in this pass: evaluate the interrupt */
};

struct dsim_event {
	uint32_t len;
	uint8_t data[DSIM_EVENT_PAYLOAD_MAX];
};

struct dsim_watch {
	int fd;
	void (*cb)(void *ctx, uint32_t events);
	void *ctx;
};

struct dsim_dev {
	struct dsim_config cfg;
	struct dsim_storage st;
	struct dsim_timing timing;
	uint32_t instant_ops; /* bit op: opcode op has no service time; follows `timing` */

	/* session: what a driver holds */
	int reg_fd;
	uint8_t *regs;
	unsigned num_kicks, num_vectors;
	int kick_fd[1 + DSIM_MAX_QUEUES];
	int irq_fd[DSIM_MAX_QUEUES];
	struct dsim_watch kick_watch[1 + DSIM_MAX_QUEUES];
	struct dsim_window win[DSIM_MAX_WINDOWS];
	unsigned nwin;

	struct dsim_queue q[DSIM_MAX_QUEUES];
	uint32_t live_queues; /* bit q: enabled without error, fetched every pass */
	uint32_t irq_queues;  /* bit q: CQEs posted or an interrupt pending since */
	bool admin_kicked;    /* admin doorbell: sync CONTROL and queue enables next pass */
	bool ready;
	bool fatal;

	/* requests */
	struct dsim_req reqs[DSIM_REQ_POOL];
	struct dsim_req *free_reqs;
	struct dsim_req *heap[DSIM_REQ_POOL]; /* in service, by (finish_ns, seq) */
	unsigned heap_len;
	uint64_t seq;
	uint64_t unit_free[DSIM_MAX_UNITS];
	struct dsim_req *parked_head, *parked_tail;

	/* events waiting for a WAIT_EVENT */
	struct dsim_event events[DSIM_EVENT_QUEUE_DEPTH];
	unsigned ev_head, ev_count;

	uint8_t *scratch; /* DSIM_MAX_TRANSFER_BYTES, for ECHO/FILL/CRC */
	uint64_t rng;
	struct dsim_faults faults;
	/* The host's part of fault vanish (exit, drop the driver); called after the pass. */
	void (*vanish)(void *ctx);
	void *vanish_ctx;

	/* loop */
	int epfd, timer_fd, stop_fd;
	struct dsim_watch timer_watch, stop_watch;
	bool stopping;
	bool polling;
	uint64_t now_ns;         /* time of the current pass */
	uint64_t timer_armed_ns; /* when timer_fd fires, 0 = disarmed */
	uint64_t last_work_ns;
	uint64_t last_yield_ns;
	uint64_t poll_idle_ns;  /* current idle window of device polling */
	uint64_t poll_slept_ns; /* when polling last stopped for lack of work, 0 = not since */
	bool cq_blocked;        /* a queue waits for CQ space: re-check soon */
	uint64_t pass_bytes;    /* storage bytes moved in this pass */
	bool pass_cut;          /* the pass stopped fetching early: run another at once */
	uint64_t irq_deadline;  /* earliest coalescing deadline, 0 = none */
	unsigned poll_spins;
};

/* xorshift64*: reproducible and cheap; statistical quality is plenty here. */
static inline uint64_t dsim_rng_next(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* ---- device.c: life cycle and loop ------------------------------------ */
int dsim_dev_create(const struct dsim_config *cfg, struct dsim_dev **out, char *err, size_t errlen);
void dsim_dev_destroy(struct dsim_dev *d);
/* New driver session: fresh register page and eventfds, device reset. */
int dsim_dev_attach(struct dsim_dev *d);
/* Driver gone: reset, forget DMA windows, close the session fds. */
void dsim_dev_detach(struct dsim_dev *d);
/* Runs the loop until dsim_dev_stop(). */
int dsim_dev_run(struct dsim_dev *d);
/* Thread-safe. */
void dsim_dev_stop(struct dsim_dev *d);
int dsim_dev_watch(struct dsim_dev *d, struct dsim_watch *w);
void dsim_dev_unwatch(struct dsim_dev *d, struct dsim_watch *w);
/* CONTROL.RESET semantics. */
void dsim_dev_reset(struct dsim_dev *d);
/* One pass over admin registers, queues and due completions; returns work done. */
unsigned dsim_dev_process(struct dsim_dev *d);
uint64_t dsim_now_ns(void);
void dsim_dev_set_fatal(struct dsim_dev *d, unsigned code);
/* DSIM_FEAT_* of this device (the register is shared memory a driver can overwrite). */
uint64_t dsim_dev_features(const struct dsim_dev *d);

/* ---- dma.c: the emulated IOMMU ---------------------------------------- */
/* Adds a window; map_base/map_len != 0 hands an mmap to devsim. 0 or -errno. */
int dsim_dma_add(struct dsim_dev *d, uint64_t bus, uint64_t len, void *va, void *map_base,
		 size_t map_len);
int dsim_dma_remove(struct dsim_dev *d, uint64_t bus);
void dsim_dma_clear(struct dsim_dev *d);
/* Host pointer for [bus, bus + len) inside one window, or NULL. */
void *dsim_dma_ptr(struct dsim_dev *d, uint64_t bus, uint64_t len);

struct dsim_seg {
	uint8_t *va;
	uint32_t len;
};
/*
 * Resolves the data buffer of sqe (addr/length, or the SG list) into host
 * segments, at most DSIM_MAX_SG_ENTRIES. Returns a dsim_status; *nseg set
 * on success. The SQE's flag and size fields must have been checked
 * (dsim_exec_finish() does it before any opcode runs).
 */
unsigned dsim_dma_resolve(struct dsim_dev *d, const struct dsim_sqe *sqe, struct dsim_seg *segs,
			  unsigned *nseg);
/* Copies between a flat buffer and segments, up to len bytes; returns bytes copied. */
size_t dsim_segs_write(const struct dsim_seg *segs, unsigned nseg, const void *src, size_t len);
size_t dsim_segs_read(const struct dsim_seg *segs, unsigned nseg, void *dst, size_t len);

/* ---- storage.c -------------------------------------------------------- */
int dsim_storage_open(struct dsim_storage *st, const struct dsim_config *cfg, char *err,
		      size_t errlen);
void dsim_storage_close(struct dsim_storage *st);
bool dsim_storage_range_ok(const struct dsim_storage *st, uint64_t off, uint64_t len);
int dsim_storage_read(struct dsim_storage *st, uint64_t off, void *dst, size_t len);
int dsim_storage_write(struct dsim_storage *st, uint64_t off, const void *src, size_t len);
int dsim_storage_flush(struct dsim_storage *st);
/* Consumes an injected failure (fault storage-fail), counted as a failed access. */
bool dsim_storage_fail_now(struct dsim_storage *st);

/* ---- timing.c --------------------------------------------------------- */
/* Schedules req on a unit; returns its finish time. */
uint64_t dsim_timing_schedule(struct dsim_dev *d, const struct dsim_sqe *sqe, uint64_t now);
/* Bit op set when opcode op takes no service time under t (completes at fetch). */
uint32_t dsim_timing_instant_ops(const struct dsim_timing *t);
void dsim_heap_push(struct dsim_dev *d, struct dsim_req *r);
struct dsim_req *dsim_heap_top(struct dsim_dev *d);
void dsim_heap_remove(struct dsim_dev *d, struct dsim_req *r);
/* Validates a SET_TIMING argument. */
bool dsim_timing_valid(const struct dsim_timing *t);

/* ---- events.c --------------------------------------------------------- */
/* Raises an event (from RAISE_EVENT or the host). len <= DSIM_EVENT_PAYLOAD_MAX. */
void dsim_event_raise(struct dsim_dev *d, const void *payload, size_t len);
/* A WAIT_EVENT is executing: completes at once from the event queue, or parks. */
void dsim_event_wait(struct dsim_dev *d, struct dsim_req *r);
void dsim_event_unpark(struct dsim_dev *d, struct dsim_req *r);
void dsim_events_clear(struct dsim_dev *d);

/* ---- control.c -------------------------------------------------------- */
/* Executes a CONTROL request; returns a dsim_status, *result set. */
unsigned dsim_control(struct dsim_dev *d, struct dsim_req *r, uint32_t *result);
uint32_t dsim_crc32c(uint32_t crc, const void *buf, size_t len);

/* ---- exec.c: opcodes ------------------------------------------------- */
/* A fetched SQE: validates, schedules or executes it. */
void dsim_exec_submit(struct dsim_dev *d, struct dsim_req *r);
/* A request's finish time came: moves data and completes it. */
void dsim_exec_finish(struct dsim_dev *d, struct dsim_req *r);
/* Finishes every request due by `now`, in finish-time order; returns how many. */
unsigned dsim_exec_due(struct dsim_dev *d, uint64_t now);
/* Puts r (back) in service until `finish`. */
void dsim_exec_defer(struct dsim_dev *d, struct dsim_req *r, uint64_t finish);

/* ---- faults.c: the device misbehaving on purpose ---------------------- */
void dsim_faults_init(struct dsim_faults *f, const struct dsim_fault_set *set, uint64_t seed);
void dsim_faults_seed(struct dsim_faults *f, uint64_t seed);
/* Replaces the rules (their counters start again); injected counts and RNG stay. */
void dsim_faults_replace(struct dsim_faults *f, const struct dsim_fault_set *set);
/* A request was fetched: fires the rules that pick it (r->fault), acts on the device. */
void dsim_fault_fetch(struct dsim_dev *d, struct dsim_req *r);
/* r's finish time came: true if its faults completed or deferred it instead of executing. */
bool dsim_fault_execute(struct dsim_dev *d, struct dsim_req *r);
/* A faulted request executed with status sc: returns the status it completes with. */
unsigned dsim_fault_executed(struct dsim_dev *d, unsigned sc);
/* r completes: posts its CQE the way its faults say (or defers it) and retires it. */
void dsim_fault_post(struct dsim_dev *d, struct dsim_req *r, unsigned status, uint16_t flags,
		     uint32_t result);
/* CONTROL.RESET: hang and its stall end (a vanished device stays gone). */
void dsim_faults_reset(struct dsim_dev *d);
/* After a pass: tells the host the device vanished, once. */
void dsim_faults_after_pass(struct dsim_dev *d);
/* SET_FAULTS with text (NUL-terminated): a dsim_status, *result = rules set. */
unsigned dsim_fault_control_set(struct dsim_dev *d, const char *text, uint32_t *result);
void dsim_fault_stats(const struct dsim_dev *d, struct dsim_fault_stats *out);

/* ---- queue.c: rings and interrupts ------------------------------------ */
void dsim_queue_sync_enable(struct dsim_dev *d, unsigned q);
void dsim_queue_stop(struct dsim_dev *d, unsigned q, unsigned qerr);
/* Fetches new SQEs of queue q; returns how many. */
unsigned dsim_queue_fetch(struct dsim_dev *d, unsigned q);
/* Posts a CQE for r and frees it. */
void dsim_complete(struct dsim_dev *d, struct dsim_req *r, unsigned status, uint16_t flags,
		   uint32_t result);
#define DSIM_POST_NO_IRQ (1u << 0)      /* the CQE raises no interrupt */
#define DSIM_POST_WRONG_PHASE (1u << 1) /* the CQE carries the phase of the previous pass */
/* Writes c (its sq_head and phase filled in) at queue q's CQ tail; no request bookkeeping. */
void dsim_cqe_post(struct dsim_dev *d, unsigned q, struct dsim_cqe c, unsigned how);
/* True if queue q's CQ has a slot no fetched request has reserved. */
bool dsim_cq_room(struct dsim_dev *d, unsigned q);
/* Ends r's life in the device after its last CQE (or none). */
void dsim_req_retire(struct dsim_dev *d, struct dsim_req *r);
/* After a pass: raises the interrupts that are due; returns the next coalescing deadline. */
uint64_t dsim_queue_irqs(struct dsim_dev *d, uint64_t now);
/* Drops every request of queue q (all queues if q < 0) without completions. */
void dsim_queue_drop(struct dsim_dev *d, int q);

#endif
