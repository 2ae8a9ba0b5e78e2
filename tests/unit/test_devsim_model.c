/* SPDX-License-Identifier: MIT */
/*
 * The dsim model driven through its register page and rings: ring wrap and
 * phase, every status code, DMA windows, SG lists, control codes, events,
 * ABORT, timing order, coalescing and masking, reset, bad ring indices and
 * queue configuration, CQ back-pressure, device polling, file storage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "devsim_rig.h"

#define DATA RIG_DATA_OFF

static struct dsim_config small_config(void)
{
	struct dsim_config cfg;
	dsim_config_defaults(&cfg);
	cfg.capacity = 1u << 20;
	cfg.queues = 2;
	return cfg;
}

static void test_ring_wrap_and_phase(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	assert_int_equal(rig_queue(&r, 0, 2), DSIM_QSTS_ENABLED); /* 4 entries */
	uint32_t tag = 0;
	for (unsigned round = 0; round < 5; round++) {
		for (unsigned i = 0; i < 3; i++)
			rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = tag + i });
		rig_publish(&r, 0);
		for (unsigned i = 0; i < 3; i++) {
			struct dsim_cqe c;
			uint16_t phase = r.phase[0];
			assert_int_equal(rig_reap(&r, 0, &c), 0);
			assert_int_equal(c.tag, tag + i);
			assert_int_equal(c.status, DSIM_SC_SUCCESS);
			assert_int_equal(c.flags & DSIM_CQE_F_PHASE, phase);
			assert_true(c.sq_head < 4);
		}
		tag += 3;
	}
	/* 15 entries through a 4-entry ring: the phase flipped 3 times (15 / 4). */
	assert_int_equal(r.phase[0], 0);
	assert_int_equal(rig_stat(&r, DSIM_STAT_COMPLETED), 15);
	assert_int_equal(rig_stat(&r, DSIM_STAT_SUBMITTED), 15);
	rig_stop(&r);
}

static void expect_status(struct rig *r, struct dsim_sqe sqe, unsigned sc)
{
	struct dsim_cqe c = rig_do(r, 0, sqe);
	assert_int_equal(c.tag, sqe.tag);
	assert_int_equal(c.status, sc);
}

static void test_status_codes(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	const uint64_t cap = 1u << 20;
	expect_status(&r, (struct dsim_sqe){ .opcode = 99, .tag = 1 }, DSIM_SC_INVALID_OPCODE);
	expect_status(&r, rig_rw(DSIM_OP_READ, 2, 0, DATA, 0), DSIM_SC_INVALID_FIELD);
	struct dsim_sqe s = rig_rw(DSIM_OP_WRITE, 3, 0, DATA, 512);
	s.flags = 0x80;
	expect_status(&r, s, DSIM_SC_INVALID_FIELD);
	s = (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 4, .flags = DSIM_SQE_F_SGL };
	expect_status(&r, s, DSIM_SC_INVALID_FIELD);
	expect_status(&r, rig_rw(DSIM_OP_READ, 5, 0, DATA, DSIM_MAX_TRANSFER_BYTES + 1),
		      DSIM_SC_TOO_LARGE);
	s = rig_rw(DSIM_OP_READ, 6, 0, DATA, 512);
	s.flags = DSIM_SQE_F_SGL;
	s.sg_count = DSIM_MAX_SG_ENTRIES + 1;
	expect_status(&r, s, DSIM_SC_TOO_LARGE);
	expect_status(&r, rig_rw(DSIM_OP_READ, 7, cap - 100, DATA, 512), DSIM_SC_OUT_OF_RANGE);
	expect_status(&r, rig_rw(DSIM_OP_READ, 8, UINT64_MAX - 10, DATA, 512),
		      DSIM_SC_OUT_OF_RANGE);
	expect_status(&r, rig_ctl(99, 9), DSIM_SC_INVALID_CODE);
	assert_int_equal(rig_stat(&r, DSIM_STAT_ERRORS), 9);

	/* DMA outside the window: an error status and a counted DMA error. */
	s = rig_rw(DSIM_OP_READ, 10, 0, 0, 512);
	s.addr = RIG_BUS + RIG_MEM - 256; /* straddles the window's end */
	expect_status(&r, s, DSIM_SC_DMA_ERROR);
	s.addr = 0x1000;
	expect_status(&r, s, DSIM_SC_DMA_ERROR);
	assert_int_equal(rig_stat(&r, DSIM_STAT_DMA_ERRORS), 2);

	/* A rejected write leaves storage alone. */
	memset(r.mem + DATA, 0xab, 4096);
	expect_status(&r, rig_rw(DSIM_OP_WRITE, 11, cap - 512, DATA, 1024), DSIM_SC_OUT_OF_RANGE);
	s = rig_rw(DSIM_OP_WRITE, 12, 0, DATA, 1024);
	s.addr = RIG_BUS + RIG_MEM - 512;
	expect_status(&r, s, DSIM_SC_DMA_ERROR);
	memset(r.mem + DATA, 0, 4096);
	expect_status(&r, rig_rw(DSIM_OP_READ, 13, cap - 1024, DATA, 1024), DSIM_SC_SUCCESS);
	expect_status(&r, rig_rw(DSIM_OP_READ, 14, 0, DATA + 1024, 1024), DSIM_SC_SUCCESS);
	for (unsigned i = 0; i < 2048; i++)
		assert_int_equal(r.mem[DATA + i], 0);
	assert_int_equal(rig_stat(&r, DSIM_STAT_BYTES_WRITTEN), 0);
	rig_stop(&r);
}

static void test_read_write_and_sg(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	for (unsigned i = 0; i < 8192; i++)
		r.mem[DATA + i] = (uint8_t)(i * 7 + 1);
	struct dsim_cqe c = rig_do(&r, 0, rig_rw(DSIM_OP_WRITE, 1, 4096, DATA, 8192));
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 8192);

	/* Read back through a 3-entry SG list into scattered pieces. */
	struct dsim_sge *sg = (struct dsim_sge *)(void *)(r.mem + DATA + 65536);
	sg[0] = (struct dsim_sge){ rig_bus(DATA + 100000), 1000, 0 };
	sg[1] = (struct dsim_sge){ rig_bus(DATA + 200000), 4000, 0 };
	sg[2] = (struct dsim_sge){ rig_bus(DATA + 300000), 3192, 0 };
	struct dsim_sqe s = rig_rw(DSIM_OP_READ, 2, 4096, DATA + 65536, 8192);
	s.flags = DSIM_SQE_F_SGL;
	s.sg_count = 3;
	c = rig_do(&r, 0, s);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 8192);
	assert_memory_equal(r.mem + DATA + 100000, r.mem + DATA, 1000);
	assert_memory_equal(r.mem + DATA + 200000, r.mem + DATA + 1000, 4000);
	assert_memory_equal(r.mem + DATA + 300000, r.mem + DATA + 5000, 3192);

	s.tag = 3;
	s.length = 8000; /* total differs from the list */
	assert_int_equal(rig_do(&r, 0, s).status, DSIM_SC_INVALID_FIELD);
	s.length = 8192;
	sg[1].reserved = 1;
	assert_int_equal(rig_do(&r, 0, s).status, DSIM_SC_INVALID_FIELD);
	sg[1].reserved = 0;
	sg[2].addr = 0x10;
	assert_int_equal(rig_do(&r, 0, s).status, DSIM_SC_DMA_ERROR);
	s.addr = 0x20; /* the list itself outside the windows */
	assert_int_equal(rig_do(&r, 0, s).status, DSIM_SC_DMA_ERROR);
	s.flags = 0;
	s.sg_count = 2; /* a count without the flag */
	s.addr = rig_bus(DATA);
	assert_int_equal(rig_do(&r, 0, s).status, DSIM_SC_INVALID_FIELD);

	assert_int_equal(rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_FLUSH }).status,
			 DSIM_SC_SUCCESS);
	rig_stop(&r);
}

static void test_control_codes(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	assert_int_equal(dsim_crc32c(0, "123456789", 9), 0xe3069283u);

	struct dsim_sqe s = rig_ctl(DSIM_CTL_INFO, 1);
	s.addr = rig_bus(DATA);
	s.length = sizeof(struct dsim_info);
	struct dsim_cqe c = rig_do(&r, 0, s);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, sizeof(struct dsim_info));
	struct dsim_info info;
	memcpy(&info, r.mem + DATA, sizeof(info));
	assert_int_equal(info.magic, DSIM_MAGIC);
	assert_int_equal(info.capacity, 1u << 20);
	assert_int_equal(info.num_queues, 2);
	assert_int_equal(info.max_event_payload, DSIM_EVENT_PAYLOAD_MAX);
	assert_string_equal(info.model, "devsim 1.0 ram");

	memcpy(r.mem + DATA + 4096, "echo this", 9);
	s = rig_ctl(DSIM_CTL_ECHO, 2);
	s.in_addr = rig_bus(DATA + 4096);
	s.in_length = 9;
	s.addr = rig_bus(DATA + 8192);
	s.length = 4; /* shorter output: copies what fits */
	c = rig_do(&r, 0, s);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 4);
	assert_memory_equal(r.mem + DATA + 8192, "echo", 4);
	s.in_addr = 0x10;
	assert_int_equal(rig_do(&r, 0, s).status, DSIM_SC_DMA_ERROR);

	s = rig_ctl(DSIM_CTL_FILL, 3);
	s.offset = 1000;
	s.arg[0] = 5000;
	s.arg[1] = 0x5a;
	c = rig_do(&r, 0, s);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 5000);
	uint8_t expect[5000];
	memset(expect, 0x5a, sizeof(expect));
	s = rig_ctl(DSIM_CTL_CRC32C, 4);
	s.offset = 1000;
	s.arg[0] = 5000;
	c = rig_do(&r, 0, s);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, dsim_crc32c(0, expect, sizeof(expect)));
	s.arg[0] = 1u << 20; /* past the end */
	assert_int_equal(rig_do(&r, 0, s).status, DSIM_SC_OUT_OF_RANGE);

	s = rig_ctl(DSIM_CTL_GET_STATS, 5);
	s.addr = rig_bus(DATA);
	s.length = 8 * DSIM_STAT_COUNT;
	c = rig_do(&r, 0, s);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	uint64_t st[DSIM_STAT_COUNT];
	memcpy(st, r.mem + DATA, sizeof(st));
	assert_int_equal(st[DSIM_STAT_SUBMITTED], 7);
	assert_int_equal(st[DSIM_STAT_BYTES_WRITTEN], 5000);

	struct dsim_timing t = { 0 };
	t.op[DSIM_OP_NOP].dist = 7; /* no such distribution */
	memcpy(r.mem + DATA, &t, sizeof(t));
	s = rig_ctl(DSIM_CTL_SET_TIMING, 6);
	s.in_addr = rig_bus(DATA);
	s.in_length = sizeof(t);
	assert_int_equal(rig_do(&r, 0, s).status, DSIM_SC_INVALID_FIELD);
	s.in_length = 8;
	assert_int_equal(rig_do(&r, 0, s).status, DSIM_SC_INVALID_FIELD);
	rig_stop(&r);
}

static struct dsim_sqe wait_event(uint32_t tag, uint64_t data_off, uint32_t len)
{
	return (struct dsim_sqe){
		.opcode = DSIM_OP_WAIT_EVENT, .tag = tag, .addr = rig_bus(data_off), .length = len
	};
}

static void raise_event(struct rig *r, const char *text, uint32_t tag)
{
	size_t n = strlen(text);
	memcpy(r->mem + DATA + 60000, text, n);
	struct dsim_sqe s = rig_ctl(DSIM_CTL_RAISE_EVENT, tag);
	s.in_addr = rig_bus(DATA + 60000);
	s.in_length = (uint32_t)n;
	struct dsim_cqe c = rig_do(r, 1, s);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
}

static void test_events(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	assert_int_equal(rig_queue(&r, 1, 4), DSIM_QSTS_ENABLED);

	/* Raised before anyone waits: queued, then handed out in order. */
	raise_event(&r, "first", 100);
	raise_event(&r, "second event", 101);
	assert_int_equal(rig_rd32(&r, DSIM_REG_EVENTS_QUEUED), 2);
	struct dsim_cqe c = rig_do(&r, 0, wait_event(1, DATA, 64));
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 5);
	assert_memory_equal(r.mem + DATA, "first", 5);
	c = rig_do(&r, 0, wait_event(2, DATA, 6)); /* too small: truncated */
	assert_int_equal(c.result, 6);
	assert_true(c.flags & DSIM_CQE_F_TRUNCATED);
	assert_memory_equal(r.mem + DATA, "second", 6);
	assert_int_equal(rig_rd32(&r, DSIM_REG_EVENTS_QUEUED), 0);

	/* A parked waiter completes when the event comes, FIFO among waiters. */
	rig_submit(&r, 0, wait_event(3, DATA + 1000, 64));
	rig_submit(&r, 0, wait_event(4, DATA + 2000, 64));
	rig_sleep_us(20000);
	assert_int_equal(rig_try_reap(&r, 0, &c), 0);
	raise_event(&r, "wake", 102);
	assert_int_equal(rig_reap(&r, 0, &c), 0);
	assert_int_equal(c.tag, 3);
	assert_int_equal(c.result, 4);
	assert_memory_equal(r.mem + DATA + 1000, "wake", 4);
	dsim_dev_stop(r.d); /* host-raised events go through the same path */
	pthread_join(r.thread, NULL);
	dsim_event_raise(r.d, "host", 4);
	pthread_create(&r.thread, NULL, rig_thread, r.d);
	assert_int_equal(rig_reap(&r, 0, &c), 0);
	assert_int_equal(c.tag, 4);
	assert_memory_equal(r.mem + DATA + 2000, "host", 4);

	/* Overflow: the queue holds DSIM_EVENT_QUEUE_DEPTH, the rest are counted. */
	for (unsigned i = 0; i < DSIM_EVENT_QUEUE_DEPTH + 6; i++)
		raise_event(&r, "x", 200 + i);
	assert_int_equal(rig_rd32(&r, DSIM_REG_EVENTS_QUEUED), DSIM_EVENT_QUEUE_DEPTH);
	assert_int_equal(rig_rd32(&r, DSIM_REG_EVENTS_DROPPED), 6);
	assert_int_equal(rig_stat(&r, DSIM_STAT_EVENTS), 3 + 1 + DSIM_EVENT_QUEUE_DEPTH + 6);

	struct dsim_sqe bad = wait_event(5, 0, 64);
	bad.addr = 0x10;
	assert_int_equal(rig_do(&r, 0, bad).status, DSIM_SC_DMA_ERROR);
	rig_stop(&r);
}

static void set_op_latency(struct dsim_config *cfg, unsigned op, uint64_t ns)
{
	cfg->timing.op[op] = (struct dsim_op_timing){ .dist = DSIM_DIST_FIXED, .mean_ns = ns };
}

static void test_abort(void **state)
{
	(void)state;
	struct dsim_config cfg = small_config();
	set_op_latency(&cfg, DSIM_OP_WRITE, 60ull * 1000000000ull);
	struct rig r;
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	memset(r.mem + DATA, 0xcd, 4096);
	rig_submit(&r, 0, rig_rw(DSIM_OP_WRITE, 5, 0, DATA, 4096));
	rig_submit(&r, 0, wait_event(6, DATA + 8192, 16));
	rig_submit(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_ABORT, .tag = 7, .abort_tag = 5 });
	struct dsim_cqe c;
	assert_int_equal(rig_reap(&r, 0, &c), 0);
	assert_int_equal(c.tag, 5);
	assert_int_equal(c.status, DSIM_SC_ABORTED);
	assert_int_equal(rig_reap(&r, 0, &c), 0);
	assert_int_equal(c.tag, 7);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 1);

	/* A parked WAIT_EVENT aborts too; an unknown tag aborts nothing. */
	rig_submit(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_ABORT, .tag = 8, .abort_tag = 6 });
	assert_int_equal(rig_reap(&r, 0, &c), 0);
	assert_int_equal(c.tag, 6);
	assert_int_equal(c.status, DSIM_SC_ABORTED);
	assert_int_equal(rig_reap(&r, 0, &c), 0);
	assert_int_equal(c.result, 1);
	c = rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_ABORT, .tag = 9, .abort_tag = 6 });
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 0);
	assert_int_equal(rig_stat(&r, DSIM_STAT_ABORTS), 2);

	/* The aborted write never reached storage. */
	uint8_t zero[4096] = { 0 };
	assert_memory_equal(r.d->st.ram, zero, sizeof(zero));
	rig_stop(&r);
}

static void test_finish_time_order(void **state)
{
	(void)state;
	struct dsim_config cfg = small_config();
	set_op_latency(&cfg, DSIM_OP_READ, 300ull * 1000000);
	set_op_latency(&cfg, DSIM_OP_WRITE, 150ull * 1000000);
	set_op_latency(&cfg, DSIM_OP_NOP, 1ull * 1000000);
	struct rig r;
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	rig_put(&r, 0, rig_rw(DSIM_OP_READ, 1, 0, DATA, 512));
	rig_put(&r, 0, rig_rw(DSIM_OP_WRITE, 2, 0, DATA, 512));
	rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 3 });
	rig_publish(&r, 0);
	uint32_t want[] = { 3, 2, 1 };
	for (unsigned i = 0; i < 3; i++) {
		struct dsim_cqe c;
		assert_int_equal(rig_reap(&r, 0, &c), 0);
		assert_int_equal(c.tag, want[i]);
	}
	rig_stop(&r);

	/* One unit: requests run one after another, in submission order. */
	cfg = small_config();
	set_op_latency(&cfg, DSIM_OP_NOP, 2ull * 1000000);
	set_op_latency(&cfg, DSIM_OP_READ, 10ull * 1000000);
	cfg.timing.units = 1;
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	rig_put(&r, 0, rig_rw(DSIM_OP_READ, 1, 0, DATA, 512));
	rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 2 });
	rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 3 });
	rig_publish(&r, 0);
	for (unsigned i = 1; i <= 3; i++) {
		struct dsim_cqe c;
		assert_int_equal(rig_reap(&r, 0, &c), 0);
		assert_int_equal(c.tag, i);
	}
	rig_stop(&r);
}

static void test_interrupts_coalescing_and_mask(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	struct dsim_cqe c;
	/* Each completion interrupts by default. */
	c = rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 1 });
	assert_int_equal(rig_irqs(&r, 0), 1);

	/* A batch of 8 in one doorbell: one interrupt for the batch. */
	dsim_qwr32(r.d->regs, 0, DSIM_Q_COAL_COUNT, 4);
	for (unsigned i = 0; i < 8; i++)
		rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 10 + i });
	rig_publish(&r, 0);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(rig_reap(&r, 0, &c), 0);
	rig_sleep_us(10000);
	assert_int_equal(rig_irqs(&r, 0), 1);

	/* Masked: completions arrive, no interrupt. */
	dsim_qwr32(r.d->regs, 0, DSIM_Q_IRQ_MASK, 1);
	c = rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 20 });
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	rig_sleep_us(10000);
	assert_int_equal(rig_irqs(&r, 0), 0);
	dsim_qwr32(r.d->regs, 0, DSIM_Q_IRQ_MASK, 0);
	rig_stop(&r);

	/* With service times, COAL_COUNT bounds interrupts by completions / count + 1. */
	struct dsim_config cfg = small_config();
	set_op_latency(&cfg, DSIM_OP_NOP, 2ull * 1000000);
	cfg.timing.units = 1;
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	dsim_qwr32(r.d->regs, 0, DSIM_Q_COAL_COUNT, 4);
	for (unsigned i = 0; i < 8; i++)
		rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = i });
	rig_publish(&r, 0);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(rig_reap(&r, 0, &c), 0);
	rig_sleep_us(10000);
	uint64_t n = rig_stat(&r, DSIM_STAT_INTERRUPTS);
	assert_true(n >= 1 && n <= 3);
	assert_int_equal(rig_irqs(&r, 0), n);

	/* COAL_USEC: the timer raises the interrupt even below the count. */
	dsim_qwr32(r.d->regs, 0, DSIM_Q_COAL_COUNT, 100);
	dsim_qwr32(r.d->regs, 0, DSIM_Q_COAL_USEC, 5000);
	rig_submit(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 50 });
	rig_submit(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 51 });
	struct pollfd p = { .fd = r.d->irq_fd[0], .events = POLLIN };
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_true(rig_irqs(&r, 0) >= 1);
	rig_stop(&r);
}

static void test_reset(void **state)
{
	(void)state;
	struct dsim_config cfg = small_config();
	set_op_latency(&cfg, DSIM_OP_WRITE, 60ull * 1000000000ull);
	struct rig r;
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	memset(r.mem + DATA, 0xee, 512);
	rig_submit(&r, 0, rig_rw(DSIM_OP_WRITE, 1, 0, DATA, 512));
	rig_submit(&r, 0, wait_event(2, DATA + 4096, 16));
	assert_int_equal(rig_wait_reg(&r, DSIM_REG_Q(0, DSIM_Q_SQ_HEAD), ~0u, 2), 0);
	rig_wr32(&r, DSIM_REG_CONTROL, DSIM_CTRL_RESET);
	rig_kick(&r, DSIM_KICK_ADMIN);
	assert_int_equal(rig_wait_reg(&r, DSIM_REG_CONTROL, ~0u, 0), 0);
	assert_int_equal(rig_rd32(&r, DSIM_REG_STATUS), 0);
	assert_int_equal(rig_rd32(&r, DSIM_REG_Q(0, DSIM_Q_QSTATUS)), 0);
	assert_int_equal(rig_rd32(&r, DSIM_REG_Q(0, DSIM_Q_ENABLE)), 0);
	for (unsigned i = 0; i < DSIM_STAT_COUNT; i++)
		assert_int_equal(rig_stat(&r, i), 0);
	rig_sleep_us(20000);
	struct dsim_cqe c;
	assert_int_equal(rig_try_reap(&r, 0, &c), 0);
	uint8_t zero[512] = { 0 };
	assert_memory_equal(r.d->st.ram, zero, sizeof(zero));

	/* Enabled again, it works from a clean state. */
	rig_wr32(&r, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	rig_kick(&r, DSIM_KICK_ADMIN);
	assert_int_equal(rig_wait_reg(&r, DSIM_REG_STATUS, DSIM_STS_READY, DSIM_STS_READY), 0);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	c = rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 9 });
	assert_int_equal(c.tag, 9);
	assert_int_equal(c.flags & DSIM_CQE_F_PHASE, DSIM_CQE_F_PHASE);
	rig_stop(&r);
}

static uint32_t qerr(uint32_t qstatus)
{
	assert_true(qstatus & DSIM_QSTS_ERROR);
	return DSIM_QSTS_CODE(qstatus);
}

static void disable_queue(struct rig *r, unsigned q)
{
	dsim_qwr32(r->d->regs, q, DSIM_Q_ENABLE, 0);
	rig_kick(r, DSIM_KICK_ADMIN);
	assert_int_equal(rig_wait_reg(r, DSIM_REG_Q(q, DSIM_Q_QSTATUS), ~0u, 0), 0);
}

static void test_bad_queue_config_and_indices(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	uint64_t sq = rig_bus(rig_sq_off(0)), cq = rig_bus(rig_cq_off(0));
	assert_int_equal(qerr(rig_queue_raw(&r, 0, sq, cq, 20, 0)), DSIM_QERR_BAD_CONFIG);
	disable_queue(&r, 0);
	assert_int_equal(qerr(rig_queue_raw(&r, 0, sq, cq, 4, 7)), DSIM_QERR_BAD_CONFIG);
	disable_queue(&r, 0);
	assert_int_equal(qerr(rig_queue_raw(&r, 0, sq + 8, cq, 4, 0)), DSIM_QERR_BAD_CONFIG);
	disable_queue(&r, 0);
	assert_int_equal(qerr(rig_queue_raw(&r, 0, sq, cq + 4, 4, 0)), DSIM_QERR_BAD_CONFIG);
	disable_queue(&r, 0);
	assert_int_equal(qerr(rig_queue_raw(&r, 0, 0x1000, cq, 4, 0)), DSIM_QERR_RING_DMA);
	disable_queue(&r, 0);
	assert_int_equal(qerr(rig_queue_raw(&r, 0, sq, RIG_BUS + RIG_MEM - 64, 4, 0)),
			 DSIM_QERR_RING_DMA);
	disable_queue(&r, 0);

	assert_int_equal(rig_queue(&r, 0, 3), DSIM_QSTS_ENABLED);
	dsim_qwr32(r.d->regs, 0, DSIM_Q_SQ_TAIL, 100);
	rig_kick(&r, DSIM_KICK_QUEUE(0));
	assert_int_equal(
	    rig_wait_reg(&r, DSIM_REG_Q(0, DSIM_Q_QSTATUS), DSIM_QSTS_ERROR, DSIM_QSTS_ERROR), 0);
	assert_int_equal(qerr(rig_rd32(&r, DSIM_REG_Q(0, DSIM_Q_QSTATUS))), DSIM_QERR_BAD_TAIL);
	disable_queue(&r, 0);

	assert_int_equal(rig_queue(&r, 0, 3), DSIM_QSTS_ENABLED);
	dsim_qwr32(r.d->regs, 0, DSIM_Q_CQ_HEAD, 8);
	rig_submit(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP });
	assert_int_equal(
	    rig_wait_reg(&r, DSIM_REG_Q(0, DSIM_Q_QSTATUS), DSIM_QSTS_ERROR, DSIM_QSTS_ERROR), 0);
	assert_int_equal(qerr(rig_rd32(&r, DSIM_REG_Q(0, DSIM_Q_QSTATUS))), DSIM_QERR_BAD_HEAD);
	disable_queue(&r, 0);

	/* The other queue was never disturbed, and the device is still ready. */
	assert_int_equal(rig_queue(&r, 1, 3), DSIM_QSTS_ENABLED);
	assert_int_equal(rig_do(&r, 1, (struct dsim_sqe){ .opcode = DSIM_OP_NOP }).status, 0);
	assert_int_equal(rig_rd32(&r, DSIM_REG_STATUS), DSIM_STS_READY);
	rig_stop(&r);
}

static void test_cq_never_overrun(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	assert_int_equal(rig_queue(&r, 0, 2), DSIM_QSTS_ENABLED); /* 3 usable entries */
	for (unsigned i = 0; i < 3; i++)
		rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = i });
	rig_publish(&r, 0);
	assert_int_equal(rig_wait_reg(&r, DSIM_REG_Q(0, DSIM_Q_CQ_TAIL), ~0u, 3), 0);
	/* The CQ is full: new SQEs wait in the SQ. */
	for (unsigned i = 3; i < 6; i++)
		rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = i });
	rig_publish(&r, 0);
	rig_sleep_us(30000);
	assert_int_equal(rig_rd32(&r, DSIM_REG_Q(0, DSIM_Q_CQ_TAIL)), 3);
	assert_int_equal(rig_rd32(&r, DSIM_REG_Q(0, DSIM_Q_SQ_HEAD)), 3);
	for (unsigned i = 0; i < 6; i++) {
		struct dsim_cqe c;
		assert_int_equal(rig_reap(&r, 0, &c), 0);
		assert_int_equal(c.tag, i);
	}
	rig_stop(&r);
}

static void test_device_polling(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	rig_wr32(&r, DSIM_REG_POLL_MODE, 1);
	rig_kick(&r, DSIM_KICK_ADMIN);
	/* Without doorbells: the device finds the tails itself while it polls. */
	unsigned done = 0;
	for (unsigned i = 0; i < 20; i++) {
		rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = i });
		dsim_qwr32(r.d->regs, 0, DSIM_Q_SQ_TAIL, r.tail[0]);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!rig_rd32(&r, DSIM_REG_DEVICE_POLLING))
			rig_kick(&r, DSIM_KICK_QUEUE(0));
		struct dsim_cqe c;
		assert_int_equal(rig_reap(&r, 0, &c), 0);
		assert_int_equal(c.tag, i);
		done++;
	}
	assert_int_equal(done, 20);
	/* Idle: it stops polling and sleeps. */
	assert_int_equal(rig_wait_reg(&r, DSIM_REG_DEVICE_POLLING, ~0u, 0), 0);
	rig_wr32(&r, DSIM_REG_POLL_MODE, 0);
	rig_kick(&r, DSIM_KICK_ADMIN);
	assert_int_equal(rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 99 }).tag,
			 99);
	rig_stop(&r);
}

static void test_file_storage_persists(void **state)
{
	(void)state;
	char path[] = "/tmp/devsim-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path); /* let the device create it */
	struct dsim_config cfg = small_config();
	strcpy(cfg.backing, path);
	cfg.capacity = 256u << 10;
	cfg.capacity_set = true;
	struct rig r;
	rig_start(&r, &cfg);
	assert_true(dsim_rd64(r.d->regs, DSIM_REG_FEATURES) & DSIM_FEAT_PERSISTENT);
	assert_int_equal(dsim_rd64(r.d->regs, DSIM_REG_CAPACITY), 256u << 10);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	memcpy(r.mem + DATA, "persistent bytes", 16);
	assert_int_equal(rig_do(&r, 0, rig_rw(DSIM_OP_WRITE, 1, 1000, DATA, 16)).status, 0);
	assert_int_equal(rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_FLUSH }).status, 0);
	rig_stop(&r);

	cfg.capacity_set = false; /* an existing file keeps its size */
	cfg.capacity = 1;
	rig_start(&r, &cfg);
	assert_int_equal(dsim_rd64(r.d->regs, DSIM_REG_CAPACITY), 256u << 10);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	assert_int_equal(rig_do(&r, 0, rig_rw(DSIM_OP_READ, 2, 1000, DATA + 100, 16)).status, 0);
	assert_memory_equal(r.mem + DATA + 100, "persistent bytes", 16);
	rig_stop(&r);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_wrap_and_phase),
		cmocka_unit_test(test_status_codes),
		cmocka_unit_test(test_read_write_and_sg),
		cmocka_unit_test(test_control_codes),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_finish_time_order),
		cmocka_unit_test(test_interrupts_coalescing_and_mask),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_bad_queue_config_and_indices),
		cmocka_unit_test(test_cq_never_overrun),
		cmocka_unit_test(test_device_polling),
		cmocka_unit_test(test_file_storage_persists),
	};
	return cmocka_run_group_tests_name("devsim model", tests, NULL, NULL);
}
