/* SPDX-License-Identifier: MIT */
#include "dsim_guest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "regs.h"

/* Where queue q's rings go in window 0 when the input sets a queue up in one step. */
#define SQ_AREA(q) ((size_t)(q) << 13) /* 128 entries * 64 bytes */
#define CQ_AREA(q) (SQ_AREA(GUEST_QUEUES) + ((size_t)(q) << 11))
#define SCRATCH_AREA 0x8000u /* SG lists and control inputs the input writes */

enum action {
	ACT_REG32,
	ACT_REG64,
	ACT_QUEUE,
	ACT_SQE,
	ACT_CONTROL_TEXT,
	ACT_SQ_TAIL,
	ACT_CQ,
	ACT_PASSES,
	ACT_CONTROL_REG,
	ACT_POLL_MODE,
	ACT_KICK,
	ACT_EVENT,
	ACT_FAULTS,
	ACT_DISK_FAILS,
	ACT_COUNT
};

struct dsim_dev *dsim_guest_device(unsigned queues)
{
	struct dsim_config cfg;
	dsim_config_defaults(&cfg);
	cfg.capacity = 64u << 10;
	cfg.queues = queues;
	struct dsim_dev *d;
	char err[256];
	if (dsim_dev_create(&cfg, &d, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	return d;
}

void dsim_guest_serve(struct dsim_dev *d)
{
	struct epoll_event evs[8];
	int n;
	while ((n = epoll_wait(d->epfd, evs, 8, 0)) > 0) {
		for (int i = 0; i < n; i++) {
			struct dsim_watch *w = evs[i].data.ptr;
			if (w->cb)
				w->cb(w->ctx, evs[i].events);
		}
	}
}

#define WIN0_BUS 0x10000000ull
#define WIN0_LEN (64u << 10)
#define WIN1_LEN (4u << 10)
#define GUARD 4096u
#define GUARD_BYTE 0xa5
#define MEMORY_LEN (3 * GUARD + WIN0_LEN + WIN1_LEN) /* guard, window 0, guard, window 1, guard */

static uint8_t *win0(uint8_t *mem)
{
	return mem + GUARD;
}

static uint8_t *win1(uint8_t *mem)
{
	return win0(mem) + WIN0_LEN + GUARD;
}

uint8_t *dsim_guest_memory(struct dsim_dev *d)
{
	uint8_t *mem = malloc(MEMORY_LEN);
	if (!mem || dsim_dma_add(d, WIN0_BUS, WIN0_LEN, win0(mem), NULL, 0) ||
	    dsim_dma_add(d, WIN0_BUS + WIN0_LEN, WIN1_LEN, win1(mem), NULL, 0))
		abort();
	return mem;
}

void dsim_guest_memory_reset(struct dsim_guest *g, uint8_t *mem)
{
	memset(mem, GUARD_BYTE, MEMORY_LEN);
	memset(win0(mem), 0, WIN0_LEN);
	memset(win1(mem), 0, WIN1_LEN);
	g->win[0] = (struct guest_window){ WIN0_BUS, win0(mem), WIN0_LEN };
	g->win[1] = (struct guest_window){ WIN0_BUS + WIN0_LEN, win1(mem), WIN1_LEN };
	g->nwin = 2;
}

void dsim_guest_memory_check(const uint8_t *mem)
{
	static uint8_t intact[GUARD];
	if (!intact[0])
		memset(intact, GUARD_BYTE, sizeof(intact));
	FUZZ_CHECK(memcmp(mem, intact, GUARD) == 0);
	FUZZ_CHECK(memcmp(mem + GUARD + WIN0_LEN, intact, GUARD) == 0);
	FUZZ_CHECK(memcmp(mem + 2 * GUARD + WIN0_LEN + WIN1_LEN, intact, GUARD) == 0);
}

void dsim_guest_restart(struct dsim_guest *g)
{
	memset(g->tail, 0, sizeof(g->tail));
	memset(g->head, 0, sizeof(g->head));
	for (unsigned q = 0; q < GUEST_QUEUES; q++)
		g->phase[q] = DSIM_CQE_F_PHASE;
	g->storage_failures = g->d->st.failures;
}

/* The driver's pointer for [bus, bus + len) when it lies in one window. */
static uint8_t *guest_va(const struct dsim_guest *g, uint64_t bus, uint64_t len)
{
	for (unsigned i = 0; i < g->nwin; i++) {
		const struct guest_window *w = &g->win[i];
		if (bus >= w->bus && len <= w->len && bus - w->bus <= w->len - len)
			return w->va + (bus - w->bus);
	}
	return NULL;
}

static void kick(struct dsim_guest *g, unsigned vector)
{
	if (g->kick)
		g->kick(g, vector);
}

/* Addresses mostly inside a window (near its end too), sometimes anywhere. */
static uint64_t guest_addr(const struct dsim_guest *g, struct fuzz_in *in)
{
	uint8_t sel = fuzz_u8(in);
	const struct guest_window *w = &g->win[(sel >> 2) % g->nwin];
	switch (sel & 3) {
	case 0:
		return w->bus + fuzz_u16(in) % w->len;
	case 1:
		return w->bus + w->len - fuzz_u8(in);
	case 2:
		return w->bus - fuzz_u8(in);
	default:
		return fuzz_u64(in);
	}
}

static uint32_t guest_len(struct fuzz_in *in)
{
	uint8_t sel = fuzz_u8(in);
	switch (sel & 3) {
	case 0:
		return fuzz_u8(in);
	case 1:
		return fuzz_u16(in);
	case 2:
		return 1u << (fuzz_u8(in) % 32);
	default:
		return fuzz_u32(in);
	}
}

static uint32_t qsize(const struct dsim_guest *g, unsigned q)
{
	uint32_t log2 = dsim_qrd32(g->regs, q, DSIM_Q_LOG2_SIZE);
	return log2 >= 1 && log2 <= DSIM_MAX_LOG2 ? 1u << log2 : 0;
}

static void publish(struct dsim_guest *g, unsigned q)
{
	uint32_t size = qsize(g, q);
	dsim_qwr32(g->regs, q, DSIM_Q_SQ_TAIL, size ? g->tail[q] % size : g->tail[q]);
	kick(g, DSIM_KICK_QUEUE(q));
}

/* Places sqe at the driver's tail of queue q (wherever SQ_BASE points) and maybe rings. */
static void put_sqe(struct dsim_guest *g, unsigned q, const struct dsim_sqe *sqe, bool ring)
{
	uint32_t size = qsize(g, q);
	uint64_t base = dsim_rd64(g->regs, DSIM_REG_Q(q, DSIM_Q_SQ_BASE));
	uint8_t *sq = size ? guest_va(g, base, (uint64_t)size * sizeof(*sqe)) : NULL;
	if (sq)
		memcpy(sq + (size_t)(g->tail[q] % size) * sizeof(*sqe), sqe, sizeof(*sqe));
	g->tail[q]++;
	if (ring)
		publish(g, q);
}

/* An SG list of the input's entries in the scratch area; returns its bus address. */
static uint64_t put_sgl(struct dsim_guest *g, struct fuzz_in *in, uint16_t *count)
{
	struct guest_window *w = &g->win[0];
	unsigned n = fuzz_u8(in) % 9;
	size_t at = SCRATCH_AREA + (fuzz_u8(in) & 0x7f);
	for (unsigned i = 0; i < n && at + (i + 1) * sizeof(struct dsim_sge) <= w->len; i++) {
		struct dsim_sge e = { .addr = guest_addr(g, in), .length = guest_len(in) };
		e.reserved = fuzz_u8(in) == 0xff ? 1 : 0;
		memcpy(w->va + at + i * sizeof(e), &e, sizeof(e));
	}
	*count = (uint16_t)n;
	return w->bus + at;
}

static void act_sqe(struct dsim_guest *g, struct fuzz_in *in)
{
	unsigned q = fuzz_u8(in) % GUEST_QUEUES;
	struct dsim_sqe s = { .opcode = fuzz_u8(in) % (DSIM_OP_COUNT + 1) };
	uint8_t how = fuzz_u8(in);
	s.flags = how & 0x81;
	s.tag = fuzz_u16(in);
	s.offset = how & 2 ? fuzz_u64(in) : fuzz_u16(in);
	s.length = guest_len(in);
	if (how & 4)
		s.addr = put_sgl(g, in, &s.sg_count);
	else
		s.addr = guest_addr(g, in);
	if (how & 8)
		s.sg_count = fuzz_u16(in);
	if (s.opcode == DSIM_OP_CONTROL) {
		s.code = fuzz_u8(in) % 11;
		s.in_addr = guest_addr(g, in);
		s.in_length = guest_len(in);
		s.arg[0] = guest_len(in);
		s.arg[1] = fuzz_u8(in);
	}
	if (s.opcode == DSIM_OP_ABORT)
		s.abort_tag = fuzz_u16(in);
	put_sqe(g, q, &s, how & 0x10);
}

/* A CONTROL whose input is text of the input's (SET_FAULTS rules, RAISE_EVENT, ECHO...). */
static void act_control_text(struct dsim_guest *g, struct fuzz_in *in)
{
	unsigned q = fuzz_u8(in) % GUEST_QUEUES;
	struct guest_window *w = &g->win[0];
	struct dsim_sqe s = { .opcode = DSIM_OP_CONTROL, .tag = fuzz_u16(in) };
	s.code = fuzz_u8(in) % 11;
	size_t len = fuzz_u8(in);
	len = fuzz_bytes(in, w->va + SCRATCH_AREA, len);
	s.in_addr = w->bus + SCRATCH_AREA;
	s.in_length = (uint32_t)len;
	s.addr = w->bus + SCRATCH_AREA + 0x400;
	s.length = fuzz_u16(in) % 0x400;
	put_sqe(g, q, &s, true);
}

/* Sets queue q up in one step (registers, ENABLE, admin doorbell, a pass). */
static void act_queue(struct dsim_guest *g, struct fuzz_in *in)
{
	unsigned q = fuzz_u8(in) % GUEST_QUEUES;
	uint8_t how = fuzz_u8(in);
	uint32_t log2 = how % (GUEST_MAX_LOG2 + 1);
	const struct guest_window *w = &g->win[how & 0x80 ? g->nwin - 1 : 0];
	uint64_t sq = w->bus + SQ_AREA(q) + (how & 0x10 ? 8 : 0);
	uint64_t cq = w->bus + CQ_AREA(q) + (how & 0x20 ? 4 : 0);
	uint8_t *cq_va = guest_va(g, cq, (uint64_t)16 << log2);
	if (cq_va)
		memset(cq_va, 0, (size_t)16 << log2);
	dsim_wr64(g->regs, DSIM_REG_Q(q, DSIM_Q_SQ_BASE), sq);
	dsim_wr64(g->regs, DSIM_REG_Q(q, DSIM_Q_CQ_BASE), cq);
	dsim_qwr32(g->regs, q, DSIM_Q_LOG2_SIZE, log2);
	dsim_qwr32(g->regs, q, DSIM_Q_VECTOR, how & 0x40 ? q + 4 : q);
	dsim_qwr32(g->regs, q, DSIM_Q_SQ_TAIL, 0);
	dsim_qwr32(g->regs, q, DSIM_Q_CQ_HEAD, 0);
	dsim_qwr32(g->regs, q, DSIM_Q_COAL_COUNT, how & 8 ? 4 : 0);
	dsim_qwr32(g->regs, q, DSIM_Q_ENABLE, 1);
	dsim_wr32(g->regs, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	g->tail[q] = g->head[q] = 0;
	g->phase[q] = DSIM_CQE_F_PHASE;
	kick(g, DSIM_KICK_ADMIN);
	g->pass(g);
}

/* Consumes CQEs as a driver does (phase tracking), or writes CQ_HEAD outright. */
static void act_cq(struct dsim_guest *g, struct fuzz_in *in)
{
	unsigned q = fuzz_u8(in) % GUEST_QUEUES;
	uint8_t how = fuzz_u8(in);
	if (how & 0x80) {
		dsim_qwr32(g->regs, q, DSIM_Q_CQ_HEAD, fuzz_u32(in));
		return;
	}
	uint32_t size = qsize(g, q);
	uint64_t base = dsim_rd64(g->regs, DSIM_REG_Q(q, DSIM_Q_CQ_BASE));
	uint8_t *cq = size ? guest_va(g, base, (uint64_t)size * sizeof(struct dsim_cqe)) : NULL;
	if (!cq)
		return;
	for (unsigned n = 0; n < (how & 0x3fu); n++) {
		struct dsim_cqe c;
		memcpy(&c, cq + (size_t)(g->head[q] % size) * sizeof(c), sizeof(c));
		if ((c.flags & DSIM_CQE_F_PHASE) != g->phase[q])
			break;
		if (++g->head[q] % size == 0)
			g->phase[q] ^= DSIM_CQE_F_PHASE;
	}
	dsim_qwr32(g->regs, q, DSIM_Q_CQ_HEAD, g->head[q] % size);
}

/* Rules set by the host (devsim fault, --fault) rather than by SET_FAULTS. */
static void act_faults(struct dsim_guest *g, struct fuzz_in *in)
{
	char text[128];
	size_t len = fuzz_bytes(in, text, fuzz_u8(in) % sizeof(text));
	text[len] = 0;
	struct dsim_fault_set set = g->d->faults.set;
	char err[128];
	bool valid = dsim_fault_set_parse(&set, text, err, sizeof(err)) == 0;
	uint8_t seed = fuzz_u8(in);
	if (g->device_thread)
		return;
	if (valid)
		dsim_faults_replace(&g->d->faults, &set);
	dsim_faults_seed(&g->d->faults, seed);
}

void dsim_guest_step(struct dsim_guest *g, struct fuzz_in *in)
{
	switch (fuzz_u8(in) % ACT_COUNT) {
	case ACT_REG32:
		dsim_wr32(g->regs, fuzz_u16(in) & 0xffc, fuzz_u32(in));
		break;
	case ACT_REG64:
		dsim_wr64(g->regs, fuzz_u16(in) & 0xff8, fuzz_u64(in));
		break;
	case ACT_QUEUE:
		act_queue(g, in);
		break;
	case ACT_SQE:
		act_sqe(g, in);
		break;
	case ACT_CONTROL_TEXT:
		act_control_text(g, in);
		break;
	case ACT_SQ_TAIL: {
		unsigned q = fuzz_u8(in) % GUEST_QUEUES;
		dsim_qwr32(g->regs, q, DSIM_Q_SQ_TAIL, fuzz_u8(in) == 0xff ? fuzz_u32(in) : 0);
		kick(g, DSIM_KICK_QUEUE(q));
		break;
	}
	case ACT_CQ:
		act_cq(g, in);
		break;
	case ACT_PASSES:
		for (unsigned n = 1 + fuzz_u8(in) % 3; n > 0; n--)
			g->pass(g);
		break;
	case ACT_CONTROL_REG:
		dsim_wr32(g->regs, DSIM_REG_CONTROL, fuzz_u8(in) % 4);
		kick(g, DSIM_KICK_ADMIN);
		g->pass(g);
		break;
	case ACT_POLL_MODE:
		dsim_wr32(g->regs, DSIM_REG_POLL_MODE, fuzz_u8(in) % 3);
		kick(g, DSIM_KICK_ADMIN);
		break;
	case ACT_KICK:
		kick(g, fuzz_u8(in) % (GUEST_QUEUES + 2));
		break;
	case ACT_EVENT: {
		uint8_t payload[DSIM_EVENT_PAYLOAD_MAX];
		size_t len = fuzz_bytes(in, payload, fuzz_u8(in));
		if (!g->device_thread)
			dsim_event_raise(g->d, payload, len);
		break;
	}
	case ACT_FAULTS:
		act_faults(g, in);
		break;
	case ACT_DISK_FAILS: /* whatever reaches the store next, whenever that is */
		if (!g->device_thread)
			g->d->st.fail_next = true;
		break;
	}
}

void dsim_guest_check(struct dsim_guest *g)
{
	const struct dsim_dev *d = g->d;
	dsim_guest_check_rings(d);
	if (d->st.failures != g->storage_failures) {
		g->storage_failures = d->st.failures;
		FUZZ_CHECK(dsim_rd32(d->regs, DSIM_REG_STATUS) ==
			   (DSIM_STS_FATAL | DSIM_FATAL_INTERNAL << DSIM_STS_CODE_SHIFT));
	}
}

void dsim_guest_check_rings(const struct dsim_dev *d)
{
	FUZZ_CHECK(d->heap_len <= DSIM_REQ_POOL);
	for (unsigned q = 0; q < d->cfg.queues; q++) {
		const struct dsim_queue *dq = &d->q[q];
		if (!dq->enabled)
			continue;
		FUZZ_CHECK(dq->sq_head <= dq->mask && dq->cq_tail <= dq->mask);
		FUZZ_CHECK(dq->inflight <= dq->mask + 1u);
	}
}

void dsim_guest_check_pool(const struct dsim_dev *d)
{
	unsigned held = 0, free_reqs = 0, counted = 0;
	for (unsigned i = 0; i < DSIM_REQ_POOL; i++)
		held += d->reqs[i].in_use;
	for (const struct dsim_req *r = d->free_reqs; r && free_reqs <= DSIM_REQ_POOL; r = r->next)
		free_reqs++;
	for (unsigned q = 0; q < DSIM_MAX_QUEUES; q++)
		counted += d->q[q].inflight;
	FUZZ_CHECK(held == counted && held + free_reqs == DSIM_REQ_POOL);
}
