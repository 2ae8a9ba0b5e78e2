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

struct nvme_admin {
	pthread_mutex_t lock; /* one synchronous admin command at a time */
	drv_buf *sq_buf, *cq_buf;
	struct nvme_sqe *sq;
	struct nvme_cqe *cq;
	uint32_t sq_tail, cq_head;
	uint16_t phase;
	uint16_t next_cid;
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
	bool sgl;
};

/* ---- ctrl.c ------------------------------------------------------------- */
/* Rings the submission tail (cq false) or completion head doorbell of queue qid (3.1.x). */
static inline void nvme_ring(const struct nvme_ctrl *c, unsigned qid, bool cq, uint32_t value)
{
	drv_mmio_wr32((volatile void *)c->regs,
		      NVME_REG_DOORBELLS + (2 * (uint32_t)qid + cq) * c->doorbell_stride, value);
}

/*
 * Runs one admin command and waits for it (probe and queue set-up only).
 * Returns 0 with the completion's DW0 in *result, or -errno with a message
 * naming `what`.
 */
int nvme_admin_sync(struct nvme_ctrl *c, struct nvme_sqe *cmd, uint32_t *result, const char *what);
/* The errno for an NVMe completion status field (phase bit included or not). */
int nvme_status_errno(uint16_t status);
/* Whether the controller reports a fatal error, or reads as absent. */
int nvme_ctrl_failed(const struct nvme_ctrl *c);

/* ---- io.c --------------------------------------------------------------- */
int nvme_queue_create(drv_queue *q);
void nvme_queue_destroy(drv_queue *q);
int nvme_post(drv_queue *q, const struct drv_request *r);
unsigned nvme_commit(drv_queue *q);
int nvme_reap(drv_queue *q, unsigned budget);
bool nvme_irq_enable(drv_queue *q, bool on);

#endif
