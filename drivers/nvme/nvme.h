/* SPDX-License-Identifier: MIT */
/*
 * The NVMe driver's state: the controller (ctrl.c: registers, the admin
 * queue, identify, enable and disable) and its I/O queue pairs (io.c: one
 * per libdrv queue, requests into submission entries, completions out).
 */
#ifndef NVME_H
#define NVME_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <drv/driver.h>
#include <drv/mmio.h>

#include "nvme_spec.h"

#define NVME_PAGE_SHIFT 12 /* the memory page size libdrv programs (CC.MPS) */
#define NVME_PAGE (1u << NVME_PAGE_SHIFT)
#define NVME_ADMIN_ENTRIES 32
#define NVME_MAX_IO_QUEUES 64
/* PRP list of one request: at most this many pages, so one list never needs chaining. */
#define NVME_MAX_PRP_ENTRIES 512u
#define NVME_NSID 1 /* libdrv drives the controller's first namespace */

#define NVME_EVENT_BACKLOG 64
#define NVME_AER_MAX 4     /* Asynchronous Event Requests kept outstanding, at most */
#define NVME_LOG_BYTES 512 /* read of an event's log page, which re-enables its type */

struct nvme_queue;

/* What an admin command identifier (the index of its slot) is for. */
enum nvme_admin_kind {
	NVME_ADMIN_FREE = 0,
	NVME_ADMIN_SYNC,      /* probe or queue set-up waits for it */
	NVME_ADMIN_REQUEST,   /* a CONTROL request of an I/O queue */
	NVME_ADMIN_AER,       /* an Asynchronous Event Request */
	NVME_ADMIN_LOG,       /* the log page read that follows an event */
	NVME_ADMIN_ABANDONED, /* a SYNC command that timed out: freed when it completes */
};

struct nvme_admin_slot {
	uint8_t kind;
	bool done;                /* SYNC: cqe holds the completion */
	struct nvme_cqe cqe;      /* SYNC */
	struct nvme_queue *owner; /* REQUEST: NULL once that queue is gone */
	uint32_t tag;             /* REQUEST */
};

/*
 * The admin queue serves probe and queue set-up (synchronously), CONTROL
 * requests of every I/O queue and the controller's asynchronous events.
 * Its lock is taken after a queue's lock, never before one.
 */
struct nvme_admin {
	pthread_mutex_t lock; /* everything below */
	drv_buf *sq_buf, *cq_buf, *log_buf;
	struct nvme_sqe *sq;
	struct nvme_cqe *cq;
	uint32_t sq_tail, cq_head;
	uint16_t phase;
	unsigned outstanding; /* commands the controller holds */
	struct nvme_admin_slot slot[NVME_ADMIN_ENTRIES];
	unsigned aers, aer_limit;
	uint32_t events[NVME_EVENT_BACKLOG]; /* DW0 of events nobody has taken yet */
	unsigned event_head;
	unsigned nevents; /* atomic reads outside the lock are hints */
	struct nvme_queue *queues[NVME_MAX_IO_QUEUES + 1]; /* by NVMe queue id */
};

struct nvme_ctrl {
	drv_dev *dev;
	volatile uint8_t *regs;
	size_t regs_len;
	uint64_t cap;
	uint32_t doorbell_stride; /* bytes between doorbells */
	uint64_t ready_timeout_ns;
	struct nvme_admin admin;
	drv_buf *scratch;   /* one page for Identify and friends */
	unsigned io_queues; /* queue pairs the controller granted */
	unsigned vectors;   /* interrupt vectors libdrv got (0: polled) */
	uint32_t lba_shift;
	uint64_t nsze; /* namespace size in blocks */
	uint32_t max_transfer;
	unsigned aer_limit; /* Asynchronous Event Requests to keep outstanding */
	bool sgl;           /* SGLs for I/O commands (Identify SGLS bits 1:0) */
	bool sgl_dword;     /* ... with dword-aligned data blocks only */
};

/* Segments a request may carry (drv_info max_sg): a page each, plus a partial first. */
static inline unsigned nvme_max_segments(const struct nvme_ctrl *c)
{
	return c->max_transfer / NVME_PAGE + 1;
}

/* ---- ctrl.c ------------------------------------------------------------- */
/* Rings the submission tail (cq false) or completion head doorbell of queue qid (3.1.x). */
static inline void nvme_ring(const struct nvme_ctrl *c, unsigned qid, bool cq, uint32_t value)
{
	drv_mmio_wr32((volatile void *)c->regs,
		      NVME_REG_DOORBELLS + (2 * (uint32_t)qid + cq) * c->doorbell_stride, value);
}

/* The errno for an NVMe completion status field (phase bit included or not). */
int nvme_status_errno(uint16_t status);
/* Whether the controller reports a fatal error, or reads as absent. */
int nvme_ctrl_failed(const struct nvme_ctrl *c);

/* ---- admin.c ------------------------------------------------------------- */
void nvme_admin_init(struct nvme_admin *a);
void nvme_admin_fini(struct nvme_admin *a);
/*
 * Runs one admin command and waits for it (probe and queue set-up only).
 * Returns 0 with the completion's DW0 in *result, or -errno with a message
 * naming `what`.
 */
int nvme_admin_sync(struct nvme_ctrl *c, struct nvme_sqe *cmd, uint32_t *result, const char *what);
/* Enables the asynchronous events libdrv reports and sends the Asynchronous Event Requests. */
int nvme_admin_start_events(struct nvme_ctrl *c, unsigned aer_limit);
/* Sends request r's admin command (CONTROL) on behalf of queue nq. */
int nvme_admin_request(struct nvme_ctrl *c, struct nvme_queue *nq, const struct drv_request *r);
/* The queue can be found by the admin queue (for waking), or no longer. */
void nvme_admin_attach(struct nvme_ctrl *c, struct nvme_queue *nq);
void nvme_admin_detach(struct nvme_ctrl *c, struct nvme_queue *nq);
/* Whether the admin queue has anything for nq: completions, mail, or an event it waits for. */
bool nvme_admin_pending(struct nvme_ctrl *c, const struct nvme_queue *nq);
/* Processes admin completions and completes what is nq's; returns how many of nq's. */
unsigned nvme_admin_reap(struct nvme_ctrl *c, struct nvme_queue *nq, drv_queue *q, unsigned budget);

/* ---- io.c --------------------------------------------------------------- */
/* What the admin queue needs of an I/O queue. */
struct nvme_mail {
	uint32_t tag;
	int status;
	uint32_t result;
};

struct nvme_queue_admin {
	drv_queue *q;
	struct nvme_mail *mail;            /* completed CONTROL requests, for this queue's reap */
	unsigned nmail;                    /* atomic reads outside the admin lock are hints */
	const struct drv_request **parked; /* WAIT_EVENT requests, oldest first */
	unsigned nparked;
};
struct nvme_queue_admin *nvme_queue_admin(struct nvme_queue *nq);
unsigned nvme_queue_qid(const struct nvme_queue *nq);
/*
 * Points e at request r's data: PRPs (4.3) where the segments allow, else
 * an SGL (4.4) when the controller has them and the command is not an
 * admin command (which take PRPs only).
 */
int nvme_build_data_pointer(struct nvme_queue *nq, const struct drv_request *r, struct nvme_sqe *e,
			    bool admin);

int nvme_queue_create(drv_queue *q);
void nvme_queue_destroy(drv_queue *q);
int nvme_post(drv_queue *q, const struct drv_request *r);
unsigned nvme_commit(drv_queue *q);
int nvme_reap(drv_queue *q, unsigned budget);
int nvme_abort(drv_queue *q, const struct drv_request *r);
bool nvme_irq_enable(drv_queue *q, bool on);

#endif
