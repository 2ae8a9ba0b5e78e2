/* SPDX-License-Identifier: MIT */
/*
 * The dsim model's time and state behaviour: finish-time order, interrupt
 * coalescing and masking, reset, bad ring indices and queue configuration,
 * CQ back-pressure, device polling and file storage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "devsim_rig.h"

#define DATA RIG_DATA_OFF

static void test_finish_time_order(void **state)
{
	(void)state;
	struct dsim_config cfg = rig_small_config();
	rig_set_latency(&cfg, DSIM_OP_READ, 300ull * 1000000);
	rig_set_latency(&cfg, DSIM_OP_WRITE, 150ull * 1000000);
	rig_set_latency(&cfg, DSIM_OP_NOP, 1ull * 1000000);
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
	cfg = rig_small_config();
	rig_set_latency(&cfg, DSIM_OP_NOP, 2ull * 1000000);
	rig_set_latency(&cfg, DSIM_OP_READ, 10ull * 1000000);
	cfg.timing.units = 1;
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	rig_put(&r, 0, rig_rw(DSIM_OP_READ, 1, 0, DATA, 512));
	rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 2 });
	rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 3 });
	rig_publish(&r, 0);
	rig_expect_tags(&r, 0, 1, 3);
	rig_stop(&r);
}

/* A length the device will refuse costs no transfer time: it fails at once, the unit stays free. */
static void test_bandwidth_ignores_refused_lengths(void **state)
{
	(void)state;
	struct dsim_config cfg = rig_small_config();
	cfg.timing.bandwidth_bps = 1u << 20;
	cfg.timing.units = 1;
	struct rig r;
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	uint64_t lens[] = { 1ull << 40, UINT64_MAX };
	for (unsigned i = 0; i < 2; i++) {
		struct dsim_sqe fill = rig_ctl(DSIM_CTL_FILL, 1);
		fill.arg[0] = lens[i];
		assert_int_equal(rig_do(&r, 0, fill).status, DSIM_SC_OUT_OF_RANGE);
		struct dsim_sqe crc = rig_ctl(DSIM_CTL_CRC32C, 2);
		crc.offset = 4096;
		crc.arg[0] = lens[i];
		assert_int_equal(rig_do(&r, 0, crc).status, DSIM_SC_OUT_OF_RANGE);
	}
	struct dsim_sqe big = rig_rw(DSIM_OP_READ, 3, 0, DATA, UINT32_MAX);
	assert_int_equal(rig_do(&r, 0, big).status, DSIM_SC_TOO_LARGE);
	struct dsim_sqe past = rig_rw(DSIM_OP_WRITE, 4, cfg.capacity, DATA, 512);
	assert_int_equal(rig_do(&r, 0, past).status, DSIM_SC_OUT_OF_RANGE);
	/* The one unit is not held up: a small read still completes. */
	assert_int_equal(rig_do(&r, 0, rig_rw(DSIM_OP_READ, 5, 0, DATA, 512)).status,
			 DSIM_SC_SUCCESS);
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
	struct dsim_config cfg = rig_small_config();
	rig_set_latency(&cfg, DSIM_OP_NOP, 2ull * 1000000);
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
	struct rig r;
	assert_int_equal(rig_start_slow_writes(&r), DSIM_QSTS_ENABLED);
	memset(r.mem + DATA, 0xee, 512);
	rig_submit(&r, 0, rig_rw(DSIM_OP_WRITE, 1, 0, DATA, 512));
	rig_submit(&r, 0, rig_wait_event(2, DATA + 4096, 16));
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
	rig_expect_tags(&r, 0, 0, 5);
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
	struct dsim_config cfg = rig_small_config();
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

/* A storage failure is fatal: the device fetches nothing more until reset. */
static void test_storage_failure_stops_fetching(void **state)
{
	(void)state;
	char path[] = "/tmp/devsim-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	struct dsim_config cfg = rig_small_config();
	strcpy(cfg.backing, path);
	cfg.capacity = 256u << 10;
	cfg.capacity_set = true;
	struct rig r;
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	assert_int_equal(ftruncate(fd, 0), 0); /* reads now hit end of file */
	rig_put(&r, 0, rig_rw(DSIM_OP_READ, 1, 0, DATA, 512));
	rig_put(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 2 });
	rig_publish(&r, 0);
	struct dsim_cqe c;
	assert_int_equal(rig_reap(&r, 0, &c), 0);
	assert_int_equal(c.tag, 1);
	assert_int_equal(c.status, DSIM_SC_INTERNAL);
	uint32_t sts = rig_rd32(&r, DSIM_REG_STATUS);
	assert_true(sts & DSIM_STS_FATAL);
	assert_false(sts & DSIM_STS_READY);
	assert_int_equal(DSIM_STS_CODE(sts), DSIM_FATAL_INTERNAL);
	/* The NOP behind it stays unfetched, doorbells or not. */
	rig_kick(&r, DSIM_KICK_QUEUE(0));
	rig_sleep_us(100000);
	assert_int_equal(rig_try_reap(&r, 0, &c), 0);
	assert_int_equal(dsim_qrd32(r.d->regs, 0, DSIM_Q_SQ_HEAD), 1);
	rig_stop(&r);
	close(fd);
	unlink(path);
}

/* Garbage in every register: the device reports errors, then recovers by reset. */
static void test_random_registers(void **state)
{
	(void)state;
	struct rig r;
	rig_start(&r, NULL);
	uint64_t x = 0x0badc0ffee0ddf00ull;
	for (unsigned i = 0; i < 2000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t off = (uint32_t)(x % (DSIM_REG_PAGE_SIZE / 4)) * 4;
		if (off >= DSIM_REG_STAT_BASE && off < DSIM_REG_QUEUE_BASE)
			continue;
		rig_wr32(&r, off, (uint32_t)(x >> 32) % 4 ? (uint32_t)(x >> 20) : 1);
		rig_kick(&r, (unsigned)(x >> 40) % r.d->num_kicks);
	}
	rig_wr32(&r, DSIM_REG_CONTROL, DSIM_CTRL_RESET);
	rig_kick(&r, DSIM_KICK_ADMIN);
	assert_int_equal(rig_wait_reg(&r, DSIM_REG_CONTROL, ~0u, 0), 0);
	assert_int_equal(rig_rd32(&r, DSIM_REG_MAGIC), DSIM_MAGIC);
	rig_wr32(&r, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	rig_kick(&r, DSIM_KICK_ADMIN);
	assert_int_equal(rig_wait_reg(&r, DSIM_REG_STATUS, ~0u, DSIM_STS_READY), 0);
	assert_int_equal(rig_queue(&r, 1, 4), DSIM_QSTS_ENABLED);
	struct dsim_cqe c = rig_do(&r, 1, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 77 });
	assert_int_equal(c.tag, 77);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	rig_stop(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finish_time_order),
		cmocka_unit_test(test_bandwidth_ignores_refused_lengths),
		cmocka_unit_test(test_interrupts_coalescing_and_mask),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_bad_queue_config_and_indices),
		cmocka_unit_test(test_cq_never_overrun),
		cmocka_unit_test(test_device_polling),
		cmocka_unit_test(test_file_storage_persists),
		cmocka_unit_test(test_storage_failure_stops_fetching),
		cmocka_unit_test(test_random_registers),
	};
	return cmocka_run_group_tests_name("devsim timing and state", tests, NULL, NULL);
}
