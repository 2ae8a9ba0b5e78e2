/* SPDX-License-Identifier: MIT */
/*
 * A test rig that plays the driver against the dsim model directly: one
 * DMA window of plain memory, the device loop on a thread, and helpers to
 * configure queues, post SQEs and collect CQEs through the register page.
 */
#ifndef DEVSIM_RIG_H
#define DEVSIM_RIG_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "devsim/dsim_hw.h"
#include "model.h"
#include "regs.h"

#define RIG_BUS 0x40000000ull
#define RIG_MEM (4u << 20)
#define RIG_SQ_OFF 0u /* queue q's SQ at q * 256 KiB */
#define RIG_CQ_OFF (128u << 10)
#define RIG_DATA_OFF (2u << 20) /* free memory for buffers */
#define RIG_WAIT_NS (10ull * 1000000000ull)

struct rig {
	struct dsim_dev *d;
	uint8_t *mem;
	pthread_t thread;
	uint32_t size[DSIM_MAX_QUEUES];
	uint32_t tail[DSIM_MAX_QUEUES];
	uint32_t head[DSIM_MAX_QUEUES];
	uint16_t phase[DSIM_MAX_QUEUES];
};

static inline void *rig_thread(void *arg)
{
	dsim_dev_run(arg);
	return NULL;
}

static inline uint64_t rig_now(void)
{
	return dsim_now_ns();
}

static inline void rig_sleep_us(unsigned us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

static inline void rig_kick(struct rig *r, unsigned v)
{
	uint64_t one = 1;
	if (write(r->d->kick_fd[v], &one, sizeof(one)) != sizeof(one))
		abort();
}

static inline uint32_t rig_rd32(struct rig *r, uint32_t off)
{
	return dsim_rd32(r->d->regs, off);
}

static inline void rig_wr32(struct rig *r, uint32_t off, uint32_t v)
{
	dsim_wr32(r->d->regs, off, v);
}

static inline uint64_t rig_stat(struct rig *r, unsigned i)
{
	return dsim_rd64(r->d->regs, DSIM_REG_STAT(i));
}

/* Waits until (reg & mask) == want; returns 0 or -ETIMEDOUT. */
static inline int rig_wait_reg(struct rig *r, uint32_t off, uint32_t mask, uint32_t want)
{
	uint64_t end = rig_now() + RIG_WAIT_NS;
	while ((rig_rd32(r, off) & mask) != want) {
		if (rig_now() > end)
			return -ETIMEDOUT;
		rig_sleep_us(100);
	}
	return 0;
}

static inline uint64_t rig_bus(uint64_t off)
{
	return RIG_BUS + off;
}

static inline void rig_start(struct rig *r, const struct dsim_config *cfg_in)
{
	struct dsim_config cfg;
	if (cfg_in) {
		cfg = *cfg_in;
	} else {
		dsim_config_defaults(&cfg);
		cfg.capacity = 1u << 20;
		cfg.queues = 2;
	}
	memset(r, 0, sizeof(*r));
	char err[256];
	if (dsim_dev_create(&cfg, &r->d, err, sizeof(err)))
		abort();
	r->mem = aligned_alloc(4096, RIG_MEM);
	memset(r->mem, 0, RIG_MEM);
	if (dsim_dma_add(r->d, RIG_BUS, RIG_MEM, r->mem, NULL, 0))
		abort();
	pthread_create(&r->thread, NULL, rig_thread, r->d);
	rig_wr32(r, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	rig_kick(r, DSIM_KICK_ADMIN);
	if (rig_wait_reg(r, DSIM_REG_STATUS, DSIM_STS_READY, DSIM_STS_READY))
		abort();
}

static inline void rig_stop(struct rig *r)
{
	dsim_dev_stop(r->d);
	pthread_join(r->thread, NULL);
	dsim_dev_destroy(r->d);
	free(r->mem);
}

static inline uint64_t rig_sq_off(unsigned q)
{
	return RIG_SQ_OFF + (uint64_t)q * (256u << 10);
}

static inline uint64_t rig_cq_off(unsigned q)
{
	return RIG_CQ_OFF + (uint64_t)q * (256u << 10);
}

/* Writes the queue registers and ENABLE; returns QSTATUS once the device acted. */
static inline uint32_t rig_queue_raw(struct rig *r, unsigned q, uint64_t sq_bus, uint64_t cq_bus,
				     uint32_t log2, uint32_t vector)
{
	uint8_t *p = r->d->regs;
	dsim_wr64(p, DSIM_REG_Q(q, DSIM_Q_SQ_BASE), sq_bus);
	dsim_wr64(p, DSIM_REG_Q(q, DSIM_Q_CQ_BASE), cq_bus);
	dsim_qwr32(p, q, DSIM_Q_LOG2_SIZE, log2);
	dsim_qwr32(p, q, DSIM_Q_VECTOR, vector);
	dsim_qwr32(p, q, DSIM_Q_SQ_TAIL, 0);
	dsim_qwr32(p, q, DSIM_Q_CQ_HEAD, 0);
	dsim_qwr32(p, q, DSIM_Q_ENABLE, 1);
	rig_kick(r, DSIM_KICK_ADMIN);
	uint32_t off = DSIM_REG_Q(q, DSIM_Q_QSTATUS);
	uint64_t end = rig_now() + RIG_WAIT_NS;
	while (!(rig_rd32(r, off) & (DSIM_QSTS_ENABLED | DSIM_QSTS_ERROR)) && rig_now() < end)
		rig_sleep_us(100);
	r->size[q] = log2 < 31 ? 1u << log2 : 0;
	r->tail[q] = r->head[q] = 0;
	r->phase[q] = DSIM_CQE_F_PHASE;
	return rig_rd32(r, off);
}

static inline uint32_t rig_queue(struct rig *r, unsigned q, uint32_t log2)
{
	memset(r->mem + rig_cq_off(q), 0, (size_t)16 << log2);
	return rig_queue_raw(r, q, rig_bus(rig_sq_off(q)), rig_bus(rig_cq_off(q)), log2, q);
}

/* Places an SQE without publishing it. */
static inline void rig_put(struct rig *r, unsigned q, struct dsim_sqe sqe)
{
	struct dsim_sqe *sq = (struct dsim_sqe *)(void *)(r->mem + rig_sq_off(q));
	sq[r->tail[q]] = sqe;
	r->tail[q] = (r->tail[q] + 1) % r->size[q];
}

static inline void rig_publish(struct rig *r, unsigned q)
{
	dsim_qwr32(r->d->regs, q, DSIM_Q_SQ_TAIL, r->tail[q]);
	rig_kick(r, DSIM_KICK_QUEUE(q));
}

static inline void rig_submit(struct rig *r, unsigned q, struct dsim_sqe sqe)
{
	rig_put(r, q, sqe);
	rig_publish(r, q);
}

/* Takes the next CQE if one is there; returns 1, or 0 when the ring is empty. */
static inline int rig_try_reap(struct rig *r, unsigned q, struct dsim_cqe *out)
{
	uint8_t *e = r->mem + rig_cq_off(q) + (size_t)r->head[q] * 16;
	uint32_t word = __atomic_load_n((uint32_t *)(void *)(e + 4), __ATOMIC_ACQUIRE);
	if (((word >> 16) & DSIM_CQE_F_PHASE) != r->phase[q])
		return 0;
	memcpy(out, e, sizeof(*out));
	r->head[q] = (r->head[q] + 1) % r->size[q];
	if (r->head[q] == 0)
		r->phase[q] ^= DSIM_CQE_F_PHASE;
	dsim_qwr32(r->d->regs, q, DSIM_Q_CQ_HEAD, r->head[q]);
	return 1;
}

/* Waits for the next CQE; returns 0 or -ETIMEDOUT. */
static inline int rig_reap(struct rig *r, unsigned q, struct dsim_cqe *out)
{
	uint64_t end = rig_now() + RIG_WAIT_NS;
	while (!rig_try_reap(r, q, out)) {
		if (rig_now() > end)
			return -ETIMEDOUT;
		rig_sleep_us(50);
	}
	return 0;
}

/* Reaps the completions of tags first..last, expecting them in that order. */
static inline void rig_expect_tags(struct rig *r, unsigned q, unsigned first, unsigned last)
{
	for (unsigned tag = first; tag <= last; tag++) {
		struct dsim_cqe c;
		assert_int_equal(rig_reap(r, q, &c), 0);
		assert_int_equal(c.tag, tag);
	}
}

/* Submits one SQE and returns its CQE. */
static inline struct dsim_cqe rig_do(struct rig *r, unsigned q, struct dsim_sqe sqe)
{
	struct dsim_cqe c = { .status = 0xffff };
	rig_submit(r, q, sqe);
	if (rig_reap(r, q, &c))
		c.status = 0xfffe;
	return c;
}

static inline struct dsim_sqe rig_rw(uint8_t op, uint32_t tag, uint64_t off, uint64_t data_off,
				     uint32_t len)
{
	return (struct dsim_sqe){
		.opcode = op, .tag = tag, .offset = off, .length = len, .addr = rig_bus(data_off)
	};
}

static inline struct dsim_sqe rig_ctl(uint32_t code, uint32_t tag)
{
	return (struct dsim_sqe){ .opcode = DSIM_OP_CONTROL, .tag = tag, .code = code };
}

static inline struct dsim_sqe rig_wait_event(uint32_t tag, uint64_t data_off, uint32_t len)
{
	return (struct dsim_sqe){
		.opcode = DSIM_OP_WAIT_EVENT, .tag = tag, .addr = rig_bus(data_off), .length = len
	};
}

static inline struct dsim_config rig_small_config(void)
{
	struct dsim_config cfg;
	dsim_config_defaults(&cfg);
	cfg.capacity = 1u << 20;
	cfg.queues = 2;
	return cfg;
}

static inline void rig_set_latency(struct dsim_config *cfg, unsigned op, uint64_t ns)
{
	cfg->timing.op[op] = (struct dsim_op_timing){ .dist = DSIM_DIST_FIXED, .mean_ns = ns };
}

/* Reads the irq eventfd of vector v without blocking; returns the count (0 if none). */
/*
 * Starts a small device whose writes take a minute, so a write stays in
 * flight until it is aborted or the device resets, and enables queue 0 with
 * 16 entries. Returns queue 0's QSTATUS.
 */
static inline uint32_t rig_start_slow_writes(struct rig *r)
{
	struct dsim_config cfg = rig_small_config();
	rig_set_latency(&cfg, DSIM_OP_WRITE, 60ull * 1000000000ull);
	rig_start(r, &cfg);
	return rig_queue(r, 0, 4);
}

static inline uint64_t rig_irqs(struct rig *r, unsigned v)
{
	uint64_t n = 0;
	if (read(r->d->irq_fd[v], &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

#endif
