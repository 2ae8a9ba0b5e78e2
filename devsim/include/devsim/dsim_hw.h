/* SPDX-License-Identifier: MIT */
/*
 * dsim hardware interface: the device's datasheet in C.
 *
 * docs/dsim.md is the prose version of this header; the two must agree.
 * Everything here is little-endian as seen by the device. All register
 * offsets are byte offsets into the 4 KiB register page; every register is
 * accessed with naturally aligned 32-bit or 64-bit loads and stores.
 */
#ifndef DEVSIM_DSIM_HW_H
#define DEVSIM_DSIM_HW_H

#include <stdint.h>

#define DSIM_MAGIC 0x4d495344u   /* "DSIM" in little-endian byte order */
#define DSIM_VERSION 0x00010000u /* major.minor in the upper/lower 16 bits */
#define DSIM_REG_PAGE_SIZE 4096u

/* PCI identity used when the device is presented on a real PCI bus. */
#define DSIM_PCI_VENDOR 0x1af4u /* ivshmem-doorbell carrier */
#define DSIM_PCI_DEVICE 0x1110u
#define DSIM_PCI_CLASS 0x050000u /* memory controller, RAM: what ivshmem reports */

/* ---- Register page: global registers ---------------------------------- */
#define DSIM_REG_MAGIC 0x000          /* RO u32 */
#define DSIM_REG_VERSION 0x004        /* RO u32 */
#define DSIM_REG_FEATURES 0x008       /* RO u64, DSIM_FEAT_* */
#define DSIM_REG_NUM_QUEUES 0x010     /* RO u32: queue blocks implemented */
#define DSIM_REG_MAX_LOG2_DEPTH 0x014 /* RO u32: largest ring log2 size */
#define DSIM_REG_MAX_TRANSFER 0x018   /* RO u32: bytes per request */
#define DSIM_REG_MAX_SG 0x01c         /* RO u32: entries per SG list */
#define DSIM_REG_CAPACITY 0x020       /* RO u64: storage bytes */
#define DSIM_REG_NUM_VECTORS 0x028    /* RO u32: interrupt vectors */
#define DSIM_REG_NUM_KICKS 0x02c      /* RO u32: doorbell vectors */
#define DSIM_REG_CONTROL 0x030        /* RW u32, DSIM_CTRL_* */
#define DSIM_REG_STATUS 0x034         /* RO u32, DSIM_STS_* */
#define DSIM_REG_EVENTS_QUEUED 0x038  /* RO u32: events waiting for a WAIT_EVENT */
#define DSIM_REG_EVENTS_DROPPED 0x03c /* RO u32: events lost to a full queue */
#define DSIM_REG_DEVICE_POLLING 0x040 /* RO u32: 1 while the device polls SQ tails */
#define DSIM_REG_POLL_MODE 0x044      /* RW u32: 1 asks the device to poll SQ tails */
/*
 * RO u32: on PCI (QEMU ivshmem-doorbell) the device's ivshmem peer id, the
 * destination of every doorbell: the driver writes (peer << 16) | kick
 * vector to the carrier's BAR0 doorbell register. 0 on other buses.
 */
#define DSIM_REG_DOORBELL_PEER 0x048

#define DSIM_FEAT_SGL (1ull << 0)         /* SG lists (DSIM_SQE_F_SGL) */
#define DSIM_FEAT_EVENTS (1ull << 1)      /* WAIT_EVENT and the event queue */
#define DSIM_FEAT_ABORT (1ull << 2)       /* ABORT opcode */
#define DSIM_FEAT_COALESCE (1ull << 3)    /* interrupt coalescing */
#define DSIM_FEAT_PERSISTENT (1ull << 4)  /* storage survives device restarts */
#define DSIM_FEAT_DEVICE_POLL (1ull << 5) /* DSIM_REG_POLL_MODE honoured */

#define DSIM_CTRL_ENABLE (1u << 0) /* device processes queues while set */
#define DSIM_CTRL_RESET (1u << 1)  /* write 1: reset; reads back 0 when done */

#define DSIM_STS_READY (1u << 0) /* enabled and accepting work */
#define DSIM_STS_FATAL (1u << 1) /* device stopped; see DSIM_STS_CODE */
#define DSIM_STS_CODE_SHIFT 8    /* fatal code, DSIM_FATAL_* */
#define DSIM_STS_CODE(sts) (((sts) >> DSIM_STS_CODE_SHIFT) & 0xffu)

enum dsim_fatal {
	DSIM_FATAL_NONE = 0,
	DSIM_FATAL_INTERNAL = 1,  /* storage I/O failed or the model broke */
	DSIM_FATAL_HOST_GONE = 2, /* DMA memory went away (client died) */
};

/* ---- Register page: statistics (RO u64 counters, reset by CTRL_RESET) -- */
#define DSIM_REG_STAT_BASE 0x100
#define DSIM_STAT_SUBMITTED 0     /* SQEs fetched */
#define DSIM_STAT_COMPLETED 1     /* CQEs posted */
#define DSIM_STAT_ERRORS 2        /* CQEs with a status other than SUCCESS */
#define DSIM_STAT_BYTES_READ 3    /* storage -> host bytes */
#define DSIM_STAT_BYTES_WRITTEN 4 /* host -> storage bytes */
#define DSIM_STAT_KICKS 5         /* doorbells received */
#define DSIM_STAT_INTERRUPTS 6    /* interrupts raised */
#define DSIM_STAT_DMA_ERRORS 7    /* accesses outside the DMA windows */
#define DSIM_STAT_EVENTS 8        /* events raised */
#define DSIM_STAT_ABORTS 9        /* requests completed as ABORTED */
#define DSIM_STAT_FAULTS 10       /* faults injected (rules that fired) */
#define DSIM_STAT_COUNT 11
#define DSIM_REG_STAT(i) (DSIM_REG_STAT_BASE + 8u * (i))

/* ---- Register page: per-queue blocks ---------------------------------- */
#define DSIM_MAX_QUEUES 32
#define DSIM_REG_QUEUE_BASE 0x400
#define DSIM_QUEUE_STRIDE 0x40
#define DSIM_REG_Q(q, reg) (DSIM_REG_QUEUE_BASE + DSIM_QUEUE_STRIDE * (q) + (reg))

#define DSIM_Q_SQ_BASE 0x00    /* RW u64: bus address of the submission ring */
#define DSIM_Q_CQ_BASE 0x08    /* RW u64: bus address of the completion ring */
#define DSIM_Q_LOG2_SIZE 0x10  /* RW u32: entries = 1 << value, both rings */
#define DSIM_Q_VECTOR 0x14     /* RW u32: interrupt vector of this queue */
#define DSIM_Q_ENABLE 0x18     /* RW u32: 1 = enabled; 0 = disable (drops work) */
#define DSIM_Q_QSTATUS 0x1c    /* RO u32, DSIM_QSTS_* */
#define DSIM_Q_SQ_TAIL 0x20    /* RW u32: driver's producer index (mod size) */
#define DSIM_Q_SQ_HEAD 0x24    /* RO u32: device's consumer index */
#define DSIM_Q_CQ_HEAD 0x28    /* RW u32: driver's consumer index */
#define DSIM_Q_CQ_TAIL 0x2c    /* RO u32: device's producer index */
#define DSIM_Q_COAL_COUNT 0x30 /* RW u32: interrupt after N CQEs (0,1 = each) */
#define DSIM_Q_COAL_USEC 0x34  /* RW u32: ... or N us after the first unsignalled */
#define DSIM_Q_IRQ_MASK 0x38   /* RW u32: 1 = no interrupts (driver polls) */

#define DSIM_QSTS_ENABLED (1u << 0)
#define DSIM_QSTS_ERROR (1u << 1) /* queue stopped; see DSIM_QSTS_CODE */
#define DSIM_QSTS_CODE_SHIFT 8
#define DSIM_QSTS_CODE(s) (((s) >> DSIM_QSTS_CODE_SHIFT) & 0xffu)

enum dsim_queue_error {
	DSIM_QERR_NONE = 0,
	DSIM_QERR_BAD_CONFIG = 1, /* log2 size, vector or ring alignment invalid */
	DSIM_QERR_BAD_TAIL = 2,   /* SQ_TAIL outside the ring */
	DSIM_QERR_BAD_HEAD = 3,   /* CQ_HEAD outside the ring */
	DSIM_QERR_RING_DMA = 4,   /* a ring address is outside the DMA windows */
};

/*
 * Doorbells: kick vector 0 is the admin doorbell (CONTROL, POLL_MODE, queue
 * ENABLE/config changes); kick vector 1 + q announces a new SQ_TAIL of
 * queue q. The device may treat any kick as "look at everything".
 * While DSIM_REG_DEVICE_POLLING reads 1 the device is watching SQ tails and
 * queue doorbells may be skipped; the driver must re-read the register after
 * publishing a tail (full barrier between the two) to avoid a lost wake-up.
 */
#define DSIM_KICK_ADMIN 0u
#define DSIM_KICK_QUEUE(q) (1u + (q))

/* ---- Submission queue entry (64 bytes) -------------------------------- */
enum dsim_opcode {
	DSIM_OP_NOP = 0,
	DSIM_OP_READ = 1,       /* storage[offset, +length) -> addr */
	DSIM_OP_WRITE = 2,      /* addr -> storage[offset, +length) */
	DSIM_OP_FLUSH = 3,      /* make completed writes durable */
	DSIM_OP_CONTROL = 4,    /* control code in `code`, see dsim_ctl */
	DSIM_OP_WAIT_EVENT = 5, /* park until an event; payload -> addr */
	DSIM_OP_ABORT = 6,      /* complete `abort_tag` as ABORTED if not done */
	DSIM_OP_COUNT
};

#define DSIM_SQE_F_SGL (1u << 0) /* addr points to sg_count dsim_sge entries */

struct dsim_sqe {
	uint8_t opcode;
	uint8_t flags;
	uint16_t sg_count;  /* with DSIM_SQE_F_SGL */
	uint32_t tag;       /* echoed in the CQE */
	uint64_t offset;    /* storage offset (READ/WRITE, FILL, CRC32C) */
	uint32_t length;    /* bytes at addr (data / control output) */
	uint32_t code;      /* CONTROL: dsim_ctl */
	uint64_t addr;      /* data buffer, control output, event buffer, or SG list */
	uint64_t in_addr;   /* CONTROL input buffer */
	uint32_t in_length; /* CONTROL input bytes */
	uint32_t abort_tag; /* ABORT: tag to abort */
	uint64_t arg[2];    /* CONTROL arguments */
};

struct dsim_sge {
	uint64_t addr;
	uint32_t length;
	uint32_t reserved; /* must be 0 */
};

/* ---- Completion queue entry (16 bytes) -------------------------------- */
enum dsim_status {
	DSIM_SC_SUCCESS = 0,
	DSIM_SC_INVALID_OPCODE = 1,
	DSIM_SC_INVALID_FIELD = 2, /* reserved bits, bad SG list, zero length... */
	DSIM_SC_OUT_OF_RANGE = 3,  /* storage range past capacity; nothing done */
	DSIM_SC_DMA_ERROR = 4,     /* an address outside the DMA windows */
	DSIM_SC_ABORTED = 5,
	DSIM_SC_TOO_LARGE = 6,    /* length > MAX_TRANSFER or sg_count > MAX_SG */
	DSIM_SC_INTERNAL = 7,     /* storage I/O error */
	DSIM_SC_INVALID_CODE = 8, /* unknown control code */
	DSIM_SC_COUNT
};

#define DSIM_CQE_F_PHASE (1u << 0)     /* 1 on the first pass, flips on each wrap */
#define DSIM_CQE_F_TRUNCATED (1u << 1) /* event payload longer than the buffer */

struct dsim_cqe {
	uint32_t tag;
	uint16_t status;  /* dsim_status */
	uint16_t flags;   /* DSIM_CQE_F_* */
	uint32_t result;  /* bytes transferred, or the control code's value */
	uint32_t sq_head; /* device's SQ head when the entry was posted */
};

/* ---- Control codes (DSIM_OP_CONTROL) ---------------------------------- */
enum dsim_ctl {
	DSIM_CTL_INFO = 1,        /* out: struct dsim_info; result = bytes */
	DSIM_CTL_ECHO = 2,        /* out <- in; result = bytes copied */
	DSIM_CTL_FILL = 3,        /* storage[offset, +arg[0]) = (uint8_t)arg[1] */
	DSIM_CTL_CRC32C = 4,      /* result = CRC-32C of storage[offset, +arg[0]) */
	DSIM_CTL_RAISE_EVENT = 5, /* raise an event; payload = in */
	DSIM_CTL_SET_TIMING = 6,  /* in: struct dsim_timing */
	DSIM_CTL_GET_STATS = 7,   /* out: uint64_t[DSIM_STAT_COUNT] */
	DSIM_CTL_SET_FAULTS = 8,  /* in: fault rules as text; result = rules now set */
	DSIM_CTL_GET_FAULTS = 9,  /* out: struct dsim_fault_stats; result = bytes */
};

/* Fault injection (docs/dsim.md, "Fault injection"): what a rule makes the device do. */
enum dsim_fault_kind {
	DSIM_FAULT_ERROR = 0,         /* not executed; completes with a chosen status */
	DSIM_FAULT_LOST_IRQ = 1,      /* CQE posted, its interrupt not raised */
	DSIM_FAULT_LATE = 2,          /* CQE posted a delay after the request finished */
	DSIM_FAULT_DUPLICATE = 3,     /* CQE posted twice */
	DSIM_FAULT_SPURIOUS = 4,      /* an extra CQE that names no request */
	DSIM_FAULT_BAD_TAG = 5,       /* CQE names another tag; the request never completes */
	DSIM_FAULT_CORRUPT = 6,       /* CQE with a wrong phase, result or status */
	DSIM_FAULT_HANG = 7,          /* nothing fetched or posted until CONTROL.RESET */
	DSIM_FAULT_FATAL = 8,         /* STATUS.FATAL, code INTERNAL */
	DSIM_FAULT_DMA_SLOW = 9,      /* data movement takes a delay longer */
	DSIM_FAULT_DMA_FAIL = 10,     /* completes DMA_ERROR, storage untouched */
	DSIM_FAULT_STORAGE_FAIL = 11, /* the backing store fails: FATAL INTERNAL */
	DSIM_FAULT_VANISH = 12,       /* the device disappears (process exits) */
	DSIM_FAULT_KIND_COUNT
};

/* Fault spurious: the tag of its CQE (index 0xffff, generation 0: no request has it). */
#define DSIM_FAULT_SPURIOUS_TAG 0x0000ffffu

/* DSIM_CTL_GET_FAULTS: injections since the device started, kept across resets. */
struct dsim_fault_stats {
	uint64_t injected[DSIM_FAULT_KIND_COUNT]; /* by enum dsim_fault_kind */
};

struct dsim_info {
	uint32_t magic;
	uint32_t version;
	uint64_t features;
	uint64_t capacity;
	uint32_t num_queues;
	uint32_t max_log2_depth;
	uint32_t max_transfer;
	uint32_t max_sg;
	uint32_t num_vectors;
	uint32_t max_event_payload;
	char model[32]; /* NUL-terminated, e.g. "devsim 1.0 ram" */
};

/* Service time distributions of the timing model. */
enum dsim_dist {
	DSIM_DIST_FIXED = 0,       /* mean_ns */
	DSIM_DIST_UNIFORM = 1,     /* uniform in [mean_ns - spread_ns, mean_ns + spread_ns] */
	DSIM_DIST_EXPONENTIAL = 2, /* exponential with mean mean_ns */
};

struct dsim_op_timing {
	uint32_t dist; /* dsim_dist */
	uint32_t reserved;
	uint64_t mean_ns;
	uint64_t spread_ns;
};

struct dsim_timing {
	struct dsim_op_timing op[DSIM_OP_COUNT]; /* per opcode */
	uint64_t bandwidth_bps;                  /* bytes per second across units; 0 = unlimited */
	uint32_t units;                          /* requests serviced in parallel; 0 = unlimited */
	uint32_t reserved;
};

#define DSIM_EVENT_PAYLOAD_MAX 256u
#define DSIM_EVENT_QUEUE_DEPTH 64u

#endif
