/* SPDX-License-Identifier: MIT */
/*
 * The dsim model driven through its register page and rings: ring wrap and
 * phase, every status code, DMA windows, SG lists, control codes, events
 * and ABORT.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "devsim_rig.h"

#define DATA RIG_DATA_OFF

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

	/* INFO comes from the device, not from registers a driver overwrote. */
	uint64_t features = dsim_rd64(r.d->regs, DSIM_REG_FEATURES);
	dsim_wr64(r.d->regs, DSIM_REG_FEATURES, 0);
	struct dsim_sqe s = rig_ctl(DSIM_CTL_INFO, 1);
	s.addr = rig_bus(DATA);
	s.length = sizeof(struct dsim_info);
	struct dsim_cqe c = rig_do(&r, 0, s);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, sizeof(struct dsim_info));
	struct dsim_info info;
	memcpy(&info, r.mem + DATA, sizeof(info));
	assert_int_equal(info.magic, DSIM_MAGIC);
	assert_true(features & DSIM_FEAT_SGL);
	assert_int_equal(info.features, features);
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

static struct dsim_sqe ctl_io(uint32_t code, uint64_t in_off, uint32_t in_len, uint64_t out_off,
			      uint32_t out_len)
{
	struct dsim_sqe s = rig_ctl(code, 0);
	s.in_addr = rig_bus(in_off);
	s.in_length = in_len;
	s.addr = rig_bus(out_off);
	s.length = out_len;
	return s;
}

/*
 * sg_count without SGL, SGL with sg_count 0 and SGL on an opcode without a
 * buffer are refused by every opcode and every control code, whether or not
 * it uses its buffer, before anything is done and before the storage range.
 */
static void test_sg_fields_every_opcode(void **state)
{
	(void)state;
	struct rig r;
	struct dsim_config cfg = rig_small_config();
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	memcpy(r.mem + DATA, "payload", 7);
	memcpy(r.mem + DATA + 4096, &cfg.timing, sizeof(cfg.timing));
	const uint64_t out = DATA + 8192;
	struct dsim_sqe fill = rig_ctl(DSIM_CTL_FILL, 0);
	fill.arg[0] = 4096;
	fill.arg[1] = 0x77;
	struct dsim_sqe crc = rig_ctl(DSIM_CTL_CRC32C, 0);
	crc.arg[0] = 4096;
	/* In an order where each succeeds: RAISE_EVENT queues the event WAIT_EVENT takes. */
	const struct dsim_sqe ok[] = {
		{ .opcode = DSIM_OP_NOP },
		{ .opcode = DSIM_OP_FLUSH },
		{ .opcode = DSIM_OP_ABORT, .abort_tag = 12345 },
		rig_rw(DSIM_OP_WRITE, 0, 0, DATA, 512),
		rig_rw(DSIM_OP_READ, 0, 0, out, 512),
		ctl_io(DSIM_CTL_INFO, 0, 0, out, sizeof(struct dsim_info)),
		ctl_io(DSIM_CTL_ECHO, DATA, 7, out, 7),
		fill,
		crc,
		ctl_io(DSIM_CTL_RAISE_EVENT, DATA, 7, 0, 0),
		ctl_io(DSIM_CTL_SET_TIMING, DATA + 4096, sizeof(cfg.timing), 0, 0),
		ctl_io(DSIM_CTL_GET_STATS, 0, 0, out, 8 * DSIM_STAT_COUNT),
		rig_wait_event(0, out, 64),
	};
	const size_t n = sizeof(ok) / sizeof(ok[0]);
	uint32_t tag = 1;
	for (size_t i = 0; i < n; i++) {
		struct dsim_sqe s = ok[i];
		s.tag = tag++;
		s.sg_count = 1;
		expect_status(&r, s, DSIM_SC_INVALID_FIELD);
		s.tag = tag++;
		s.flags = DSIM_SQE_F_SGL;
		s.sg_count = 0;
		expect_status(&r, s, DSIM_SC_INVALID_FIELD);
	}
	/* Refused before the storage range is looked at. */
	struct dsim_sqe s = rig_rw(DSIM_OP_READ, tag++, 1u << 20, out, 512);
	s.sg_count = 1;
	expect_status(&r, s, DSIM_SC_INVALID_FIELD);
	s = fill;
	s.tag = tag++;
	s.arg[0] = 2u << 20;
	s.sg_count = 1;
	expect_status(&r, s, DSIM_SC_INVALID_FIELD);

	/* Nothing moved, nothing was raised. */
	assert_int_equal(rig_stat(&r, DSIM_STAT_BYTES_READ), 0);
	assert_int_equal(rig_stat(&r, DSIM_STAT_BYTES_WRITTEN), 0);
	assert_int_equal(rig_stat(&r, DSIM_STAT_EVENTS), 0);
	assert_int_equal(rig_stat(&r, DSIM_STAT_ERRORS), 2 * n + 2);
	uint8_t zero[512] = { 0 };
	assert_memory_equal(r.mem + out, zero, sizeof(zero));

	/* The same SQEs with their SG fields right all succeed. */
	for (size_t i = 0; i < n; i++) {
		s = ok[i];
		s.tag = tag++;
		expect_status(&r, s, DSIM_SC_SUCCESS);
	}
	rig_stop(&r);
}

/* CONTROL input over MAX_TRANSFER is TOO_LARGE whatever the code, even an unknown one. */
static void test_control_in_length_too_large(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	const uint32_t codes[] = { DSIM_CTL_INFO,        DSIM_CTL_ECHO,
				   DSIM_CTL_FILL,        DSIM_CTL_CRC32C,
				   DSIM_CTL_RAISE_EVENT, DSIM_CTL_SET_TIMING,
				   DSIM_CTL_GET_STATS,   99 };
	for (uint32_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		struct dsim_sqe s = ctl_io(codes[i], DATA, DSIM_MAX_TRANSFER_BYTES + 1, DATA, 64);
		s.tag = i;
		s.arg[0] = 4096;
		expect_status(&r, s, DSIM_SC_TOO_LARGE);
	}
	assert_int_equal(rig_stat(&r, DSIM_STAT_BYTES_WRITTEN), 0);
	assert_int_equal(rig_stat(&r, DSIM_STAT_EVENTS), 0);

	/* The limit itself is accepted. */
	struct dsim_sqe s = ctl_io(DSIM_CTL_ECHO, DATA, DSIM_MAX_TRANSFER_BYTES, DATA, 4);
	s.tag = 100;
	struct dsim_cqe c = rig_do(&r, 0, s);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 4);
	rig_stop(&r);
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
	struct dsim_cqe c = rig_do(&r, 0, rig_wait_event(1, DATA, 64));
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 5);
	assert_memory_equal(r.mem + DATA, "first", 5);
	c = rig_do(&r, 0, rig_wait_event(2, DATA, 6)); /* too small: truncated */
	assert_int_equal(c.result, 6);
	assert_true(c.flags & DSIM_CQE_F_TRUNCATED);
	assert_memory_equal(r.mem + DATA, "second", 6);
	assert_int_equal(rig_rd32(&r, DSIM_REG_EVENTS_QUEUED), 0);

	/* A parked waiter completes when the event comes, FIFO among waiters. */
	rig_submit(&r, 0, rig_wait_event(3, DATA + 1000, 64));
	rig_submit(&r, 0, rig_wait_event(4, DATA + 2000, 64));
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

	struct dsim_sqe bad = rig_wait_event(5, 0, 64);
	bad.addr = 0x10;
	assert_int_equal(rig_do(&r, 0, bad).status, DSIM_SC_DMA_ERROR);
	rig_stop(&r);
}

static void test_abort(void **state)
{
	(void)state;
	struct rig r;
	assert_int_equal(rig_start_slow_writes(&r), DSIM_QSTS_ENABLED);
	memset(r.mem + DATA, 0xcd, 4096);
	rig_submit(&r, 0, rig_rw(DSIM_OP_WRITE, 5, 0, DATA, 4096));
	rig_submit(&r, 0, rig_wait_event(6, DATA + 8192, 16));
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

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Garbage SQEs: every one completes with some status, and the device stays sound. */
static void test_random_sqes(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	assert_int_equal(rig_queue(&r, 0, 6), DSIM_QSTS_ENABLED);
	uint64_t x = 0x1234567887654321ull;
	for (unsigned i = 0; i < 3000; i++) {
		struct dsim_sqe s;
		uint64_t *w = (uint64_t *)(void *)&s;
		for (unsigned k = 0; k < sizeof(s) / 8; k++)
			w[k] = next_rand(&x);
		s.opcode %= 9;
		if (s.opcode == DSIM_OP_WAIT_EVENT)
			s.opcode = DSIM_OP_NOP; /* would park forever */
		if (s.opcode == DSIM_OP_CONTROL && (s.code % 8) == DSIM_CTL_SET_TIMING)
			s.code = DSIM_CTL_INFO; /* could slow the device down for an hour */
		if (next_rand(&x) % 2) {
			s.flags &= 1;
			s.code %= 8;
			s.length %= 8192;
			s.sg_count %= 4;
			s.offset %= 2u << 20;
			s.arg[0] %= 1u << 20;
			s.in_length %= 300;
			s.addr = rig_bus(DATA + next_rand(&x) % (RIG_MEM - DATA));
			s.in_addr = rig_bus(DATA + next_rand(&x) % (RIG_MEM - DATA));
		}
		s.tag = i;
		struct dsim_cqe c = rig_do(&r, 0, s);
		assert_int_equal(c.tag, i);
		assert_true(c.status < DSIM_SC_COUNT);
	}
	assert_int_equal(rig_rd32(&r, DSIM_REG_STATUS), DSIM_STS_READY);
	assert_int_equal(rig_rd32(&r, DSIM_REG_Q(0, DSIM_Q_QSTATUS)), DSIM_QSTS_ENABLED);
	rig_stop(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_wrap_and_phase),
		cmocka_unit_test(test_status_codes),
		cmocka_unit_test(test_read_write_and_sg),
		cmocka_unit_test(test_control_codes),
		cmocka_unit_test(test_sg_fields_every_opcode),
		cmocka_unit_test(test_control_in_length_too_large),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_abort),
		cmocka_unit_test(test_random_sqes),
	};
	return cmocka_run_group_tests_name("devsim model", tests, NULL, NULL);
}
