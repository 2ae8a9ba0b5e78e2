/* SPDX-License-Identifier: MIT */
/*
 * devsim's fault injection seen from the rings and registers: every fault
 * kind, the triggers (nth, every, rate, count, op, queue), determinism for
 * a seed, what CONTROL.RESET keeps, and the SET_FAULTS/GET_FAULTS codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "devsim_rig.h"

#define DATA RIG_DATA_OFF
#define MS 1000000ull

/* A small device with `rules` (NULL: none), fault seed 1 and queue 0 of 16 entries. */
static void start(struct rig *r, const char *rules)
{
	struct dsim_config cfg = rig_small_config();
	char err[256];
	if (rules)
		assert_int_equal(dsim_config_set(&cfg, "fault", rules, err, sizeof(err)), 0);
	rig_start(r, &cfg);
	assert_int_equal(rig_queue(r, 0, 4), DSIM_QSTS_ENABLED);
}

static struct dsim_sqe nop(uint32_t tag)
{
	return (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = tag };
}

/* GET_FAULTS through queue q: the injected count of one kind. */
static uint64_t injected_on(struct rig *r, unsigned q, unsigned kind)
{
	struct dsim_sqe s = rig_ctl(DSIM_CTL_GET_FAULTS, 0xf00);
	s.addr = rig_bus(DATA + 900000);
	s.length = sizeof(struct dsim_fault_stats);
	struct dsim_cqe c = rig_do(r, q, s);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, sizeof(struct dsim_fault_stats));
	struct dsim_fault_stats fs;
	memcpy(&fs, r->mem + DATA + 900000, sizeof(fs));
	return fs.injected[kind];
}

static uint64_t injected(struct rig *r, unsigned kind)
{
	return injected_on(r, 0, kind);
}

/* No CQE on queue q within ms milliseconds. */
static void expect_silence(struct rig *r, unsigned q, unsigned ms)
{
	struct dsim_cqe c;
	rig_sleep_us(ms * 1000);
	assert_int_equal(rig_try_reap(r, q, &c), 0);
}

/* CONTROL.RESET, then enable the device and queue 0 again. */
static void reset(struct rig *r)
{
	rig_wr32(r, DSIM_REG_CONTROL, DSIM_CTRL_RESET);
	rig_kick(r, DSIM_KICK_ADMIN);
	assert_int_equal(rig_wait_reg(r, DSIM_REG_CONTROL, ~0u, 0), 0);
	rig_wr32(r, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	rig_kick(r, DSIM_KICK_ADMIN);
	assert_int_equal(rig_wait_reg(r, DSIM_REG_STATUS, ~0u, DSIM_STS_READY), 0);
	assert_int_equal(rig_queue(r, 0, 4), DSIM_QSTS_ENABLED);
}

static void fill(struct rig *r, uint64_t off, uint8_t v, size_t len)
{
	memset(r->mem + off, v, len);
}

static bool all(const struct rig *r, uint64_t off, uint8_t v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (r->mem[off + i] != v)
			return false;
	return true;
}

static void test_error(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "error,op=write,status=dma-error;error,op=flush");
	fill(&r, DATA, 0x5a, 4096);
	struct dsim_cqe c = rig_do(&r, 0, rig_rw(DSIM_OP_WRITE, 1, 0, DATA, 4096));
	assert_int_equal(c.tag, 1);
	assert_int_equal(c.status, DSIM_SC_DMA_ERROR);
	assert_int_equal(c.result, 0);
	c = rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_FLUSH, .tag = 2 });
	assert_int_equal(c.status, DSIM_SC_INTERNAL); /* the default status */
	assert_int_equal(rig_rd32(&r, DSIM_REG_STATUS), DSIM_STS_READY);
	/* Not executed: storage untouched. */
	c = rig_do(&r, 0, rig_rw(DSIM_OP_READ, 3, 0, DATA + 8192, 4096));
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_true(all(&r, DATA + 8192, 0, 4096));
	assert_int_equal(rig_stat(&r, DSIM_STAT_BYTES_WRITTEN), 0);
	assert_int_equal(rig_stat(&r, DSIM_STAT_FAULTS), 2);
	assert_int_equal(injected(&r, DSIM_FAULT_ERROR), 2);
	rig_stop(&r);
}

static void test_lost_irq(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "lost-irq,nth=2");
	for (uint32_t tag = 1; tag <= 3; tag++) {
		struct dsim_cqe c = rig_do(&r, 0, nop(tag));
		assert_int_equal(c.tag, tag);
		assert_int_equal(c.status, DSIM_SC_SUCCESS);
		rig_sleep_us(20000); /* the interrupt follows the CQE at the end of the pass */
		assert_int_equal(rig_irqs(&r, 0), tag == 2 ? 0 : 1);
	}
	assert_int_equal(rig_stat(&r, DSIM_STAT_INTERRUPTS), 2);
	assert_int_equal(injected(&r, DSIM_FAULT_LOST_IRQ), 1);
	rig_stop(&r);
}

static void test_late(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "late,op=write,delay=200ms");
	assert_int_equal(rig_queue(&r, 1, 4), DSIM_QSTS_ENABLED);
	fill(&r, DATA, 0x77, 512);
	uint64_t t0 = rig_now();
	rig_submit(&r, 0, rig_rw(DSIM_OP_WRITE, 1, 4096, DATA, 512));
	rig_sleep_us(20000);
	/* The data moved at the normal time; only the CQE waits. */
	struct dsim_cqe c = rig_do(&r, 1, rig_rw(DSIM_OP_READ, 2, 4096, DATA + 4096, 512));
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_true(all(&r, DATA + 4096, 0x77, 512));
	/* An ABORT finds nothing to abort: the request has executed. */
	c = rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_ABORT, .tag = 3, .abort_tag = 1 });
	assert_int_equal(c.tag, 3);
	assert_int_equal(c.result, 0);
	assert_int_equal(rig_reap(&r, 0, &c), 0);
	assert_true(rig_now() - t0 >= 200 * MS);
	assert_int_equal(c.tag, 1);
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 512);
	rig_stop(&r);
}

static void test_duplicate(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "duplicate,nth=1");
	rig_submit(&r, 0, nop(7));
	rig_expect_tags(&r, 0, 7, 7);
	rig_expect_tags(&r, 0, 7, 7); /* the copy, in the next slot */
	assert_int_equal(rig_do(&r, 0, nop(8)).tag, 8);
	expect_silence(&r, 0, 10);
	assert_int_equal(rig_stat(&r, DSIM_STAT_COMPLETED), 3);
	assert_int_equal(injected(&r, DSIM_FAULT_DUPLICATE), 1);
	rig_stop(&r);
}

static void test_spurious(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "spurious,nth=1");
	rig_submit(&r, 0, nop(5));
	struct dsim_cqe c;
	assert_int_equal(rig_reap(&r, 0, &c), 0);
	assert_int_equal(c.tag, DSIM_FAULT_SPURIOUS_TAG);
	rig_expect_tags(&r, 0, 5, 5);
	rig_sleep_us(20000);
	assert_true(rig_irqs(&r, 0) >= 1); /* the extra entry raised one, perhaps its own */
	assert_int_equal(injected(&r, DSIM_FAULT_SPURIOUS), 1);
	rig_stop(&r);
}

/* The tag a bad-tag rule puts in the CQE of request `tag`; the request never completes. */
static uint32_t bad_tag(const char *rule, uint64_t seed, uint32_t tag)
{
	struct rig r;
	struct dsim_config cfg = rig_small_config();
	char err[256];
	assert_int_equal(dsim_config_set(&cfg, "fault", rule, err, sizeof(err)), 0);
	cfg.fault_seed = seed;
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	struct dsim_cqe c = rig_do(&r, 0, nop(tag));
	assert_int_not_equal(c.tag, tag);
	assert_int_equal(rig_do(&r, 0, nop(9)).tag, 9);
	expect_silence(&r, 0, 10);
	assert_int_equal(injected(&r, DSIM_FAULT_BAD_TAG), 1);
	rig_stop(&r);
	return c.tag;
}

static void test_bad_tag(void **state)
{
	(void)state;
	/* stale: same index (low 16 bits), the generation before. */
	assert_int_equal(bad_tag("bad-tag,nth=1", 1, 0x00030005), 0x00020005);
	assert_int_equal(bad_tag("bad-tag,how=stale,nth=1", 1, 0x00010005), 0xfffe0005);
	uint32_t a = bad_tag("bad-tag,how=random,nth=1", 1, 0x00010001);
	assert_int_equal(bad_tag("bad-tag,how=random,nth=1", 1, 0x00010001), a);
	assert_int_not_equal(bad_tag("bad-tag,how=random,nth=1", 2, 0x00010001), a);
}

static void test_corrupt(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "corrupt,field=result,op=read;corrupt,field=status,op=flush");
	struct dsim_cqe c = rig_do(&r, 0, rig_rw(DSIM_OP_READ, 1, 0, DATA, 512));
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_true(c.result > 512);
	c = rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_FLUSH, .tag = 2 });
	assert_true(c.status >= DSIM_SC_COUNT);
	assert_int_equal(injected(&r, DSIM_FAULT_CORRUPT), 2);
	rig_stop(&r);

	/* phase: the device moved on, the driver sees no entry in the slot and stalls. */
	start(&r, "corrupt,field=phase,nth=1");
	rig_submit(&r, 0, nop(1));
	assert_int_equal(rig_wait_reg(&r, DSIM_REG_Q(0, DSIM_Q_CQ_TAIL), ~0u, 1), 0);
	expect_silence(&r, 0, 10);
	rig_submit(&r, 0, nop(2));
	assert_int_equal(rig_wait_reg(&r, DSIM_REG_Q(0, DSIM_Q_CQ_TAIL), ~0u, 2), 0);
	expect_silence(&r, 0, 10);
	const struct dsim_cqe *cq = (const struct dsim_cqe *)(void *)(r.mem + rig_cq_off(0));
	assert_int_equal(cq[0].tag, 1);
	assert_int_equal(cq[0].flags & DSIM_CQE_F_PHASE, 0);
	assert_int_equal(cq[1].tag, 2);
	assert_int_equal(cq[1].flags & DSIM_CQE_F_PHASE, DSIM_CQE_F_PHASE);
	rig_stop(&r);
}

static void test_hang_and_reset(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "hang,every=2");
	assert_int_equal(rig_queue(&r, 1, 4), DSIM_QSTS_ENABLED);
	assert_int_equal(rig_do(&r, 0, nop(1)).tag, 1);
	rig_put(&r, 0, nop(2));
	rig_put(&r, 0, nop(3));
	rig_publish(&r, 0);
	assert_int_equal(rig_wait_reg(&r, DSIM_REG_Q(0, DSIM_Q_SQ_HEAD), ~0u, 2), 0);
	rig_submit(&r, 1, nop(4)); /* every queue stops */
	expect_silence(&r, 0, 50);
	expect_silence(&r, 1, 0);
	assert_int_equal(rig_rd32(&r, DSIM_REG_Q(1, DSIM_Q_SQ_HEAD)), 0);
	/* Reset ends the hang and keeps the rule and its counter: the 4th match hangs again. */
	reset(&r);
	assert_int_equal(rig_stat(&r, DSIM_STAT_FAULTS), 0);
	assert_int_equal(rig_do(&r, 0, nop(5)).tag, 5);
	rig_submit(&r, 0, nop(6));
	expect_silence(&r, 0, 50);
	reset(&r);
	assert_int_equal(injected(&r, DSIM_FAULT_HANG), 2); /* GET_FAULTS is never matched */
	rig_stop(&r);
}

static void test_fatal(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "fatal,op=write,nth=1");
	fill(&r, DATA, 0x11, 512);
	struct dsim_cqe c = rig_do(&r, 0, rig_rw(DSIM_OP_WRITE, 1, 0, DATA, 512));
	assert_int_equal(c.status, DSIM_SC_INTERNAL);
	uint32_t sts = rig_rd32(&r, DSIM_REG_STATUS);
	assert_true(sts & DSIM_STS_FATAL);
	assert_int_equal(DSIM_STS_CODE(sts), DSIM_FATAL_INTERNAL);
	rig_submit(&r, 0, nop(2));
	expect_silence(&r, 0, 30);
	reset(&r);
	c = rig_do(&r, 0, rig_rw(DSIM_OP_READ, 3, 0, DATA + 4096, 512));
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_true(all(&r, DATA + 4096, 0, 512));
	assert_int_equal(injected(&r, DSIM_FAULT_FATAL), 1);
	rig_stop(&r);
}

static void test_dma_slow_and_fail(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "dma-slow,op=read,delay=100ms;dma-fail,op=write");
	uint64_t t0 = rig_now();
	struct dsim_cqe c = rig_do(&r, 0, rig_rw(DSIM_OP_READ, 1, 0, DATA, 512));
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_true(rig_now() - t0 >= 100 * MS);
	fill(&r, DATA, 0x33, 512);
	c = rig_do(&r, 0, rig_rw(DSIM_OP_WRITE, 2, 0, DATA, 512));
	assert_int_equal(c.status, DSIM_SC_DMA_ERROR);
	assert_int_equal(rig_stat(&r, DSIM_STAT_DMA_ERRORS), 1);
	assert_int_equal(rig_stat(&r, DSIM_STAT_BYTES_WRITTEN), 0);
	assert_int_equal(injected(&r, DSIM_FAULT_DMA_SLOW), 1);
	assert_int_equal(injected(&r, DSIM_FAULT_DMA_FAIL), 1);
	rig_stop(&r);
}

static void test_storage_fail(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "storage-fail,op=write,nth=2");
	fill(&r, DATA, 0xa1, 512);
	assert_int_equal(rig_do(&r, 0, rig_rw(DSIM_OP_WRITE, 1, 0, DATA, 512)).status,
			 DSIM_SC_SUCCESS);
	fill(&r, DATA, 0xb2, 512);
	struct dsim_cqe c = rig_do(&r, 0, rig_rw(DSIM_OP_WRITE, 2, 4096, DATA, 512));
	assert_int_equal(c.status, DSIM_SC_INTERNAL);
	uint32_t sts = rig_rd32(&r, DSIM_REG_STATUS);
	assert_int_equal(DSIM_STS_CODE(sts), DSIM_FATAL_INTERNAL);
	reset(&r);
	/* What was acknowledged is there; the failed write is not. */
	assert_int_equal(rig_do(&r, 0, rig_rw(DSIM_OP_READ, 3, 0, DATA + 8192, 1024)).status,
			 DSIM_SC_SUCCESS);
	assert_true(all(&r, DATA + 8192, 0xa1, 512));
	assert_int_equal(rig_do(&r, 0, rig_rw(DSIM_OP_READ, 4, 4096, DATA + 8192, 512)).status,
			 DSIM_SC_SUCCESS);
	assert_true(all(&r, DATA + 8192, 0, 512));
	assert_int_equal(injected(&r, DSIM_FAULT_STORAGE_FAIL), 1);
	rig_stop(&r);

	/* A write refused before it reaches the store ends the same way; the next is fine. */
	start(&r, "storage-fail,op=write,nth=1");
	c = rig_do(&r, 0, rig_rw(DSIM_OP_WRITE, 6, 0, DATA, DSIM_MAX_TRANSFER_BYTES + 1));
	assert_int_equal(c.status, DSIM_SC_INTERNAL);
	reset(&r);
	assert_int_equal(rig_do(&r, 0, rig_rw(DSIM_OP_WRITE, 7, 0, DATA, 512)).status,
			 DSIM_SC_SUCCESS);
	rig_stop(&r);

	start(&r, "storage-fail,op=flush");
	c = rig_do(&r, 0, (struct dsim_sqe){ .opcode = DSIM_OP_FLUSH, .tag = 5 });
	assert_int_equal(c.status, DSIM_SC_INTERNAL);
	assert_true(rig_rd32(&r, DSIM_REG_STATUS) & DSIM_STS_FATAL);
	rig_stop(&r);
}

static int vanished;

static void on_vanish(void *ctx)
{
	(void)ctx;
	__atomic_add_fetch(&vanished, 1, __ATOMIC_RELEASE);
}

static void test_vanish(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "vanish,nth=2");
	r.d->vanish = on_vanish; /* set before any request: the device thread reads it later */
	assert_int_equal(rig_do(&r, 0, nop(1)).tag, 1);
	rig_submit(&r, 0, nop(2));
	expect_silence(&r, 0, 30);
	assert_int_equal(__atomic_load_n(&vanished, __ATOMIC_ACQUIRE), 1);
	/* A reset does not bring a vanished device back. */
	reset(&r);
	rig_submit(&r, 0, nop(3));
	expect_silence(&r, 0, 30);
	assert_int_equal(__atomic_load_n(&vanished, __ATOMIC_ACQUIRE), 1);
	rig_stop(&r);
}

/* Statuses of tags 1..n of NOPs on queue q: bit i set if NOP i + 1 failed. */
static uint64_t nop_failures(struct rig *r, unsigned q, unsigned n)
{
	uint64_t bits = 0;
	for (unsigned i = 0; i < n; i++)
		if (rig_do(r, q, nop(i + 1)).status != DSIM_SC_SUCCESS)
			bits |= 1ull << i;
	return bits;
}

static void test_triggers(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "error,op=nop,queue=1,every=3,count=2;error,op=read,nth=2");
	assert_int_equal(rig_queue(&r, 1, 4), DSIM_QSTS_ENABLED);
	assert_int_equal(nop_failures(&r, 0, 9), 0);                     /* other queue */
	assert_int_equal(nop_failures(&r, 1, 9), (1u << 2) | (1u << 5)); /* 3rd, 6th; capped */
	for (uint32_t tag = 1; tag <= 4; tag++) {
		struct dsim_cqe c = rig_do(&r, 1, rig_rw(DSIM_OP_READ, tag, 0, DATA, 512));
		assert_int_equal(c.status, tag == 2 ? DSIM_SC_INTERNAL : DSIM_SC_SUCCESS);
	}
	assert_int_equal(injected_on(&r, 1, DSIM_FAULT_ERROR), 3);
	rig_stop(&r);
}

/* Which of 64 NOPs a rate rule fails under `seed`. */
static uint64_t rate_pattern(uint64_t seed)
{
	struct rig r;
	struct dsim_config cfg = rig_small_config();
	char err[256];
	assert_int_equal(dsim_config_parse_query(&cfg, "fault=error,rate=0.3", err, sizeof(err)),
			 0);
	cfg.fault_seed = seed;
	rig_start(&r, &cfg);
	assert_int_equal(rig_queue(&r, 0, 4), DSIM_QSTS_ENABLED);
	uint64_t bits = nop_failures(&r, 0, 64);
	assert_int_equal(injected(&r, DSIM_FAULT_ERROR), __builtin_popcountll(bits));
	rig_stop(&r);
	return bits;
}

static void test_determinism(void **state)
{
	(void)state;
	uint64_t a = rate_pattern(42);
	assert_int_equal(rate_pattern(42), a);
	assert_int_not_equal(rate_pattern(43), a);
	/* 0.3 of 64 is about 19; far outside that the rate is not honoured. */
	assert_in_range(__builtin_popcountll(a), 6, 34);
}

static struct dsim_cqe set_faults(struct rig *r, const char *text)
{
	size_t n = strlen(text);
	memcpy(r->mem + DATA + 800000, text, n);
	struct dsim_sqe s = rig_ctl(DSIM_CTL_SET_FAULTS, 0xabc);
	s.in_addr = rig_bus(DATA + 800000);
	s.in_length = (uint32_t)n;
	return rig_do(r, 0, s);
}

static void test_control_codes(void **state)
{
	(void)state;
	struct rig r;
	start(&r, "error"); /* every request but the fault codes fails */
	assert_int_equal(rig_do(&r, 0, nop(1)).status, DSIM_SC_INTERNAL);
	struct dsim_cqe c = set_faults(&r, "error,op=nop,status=aborted;lost-irq,nth=5\n"
					   "hang,nth=100\n");
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 3);
	assert_int_equal(rig_do(&r, 0, nop(2)).status, DSIM_SC_ABORTED);
	/* A bad rule changes nothing. */
	assert_int_equal(set_faults(&r, "error,op=nop;bogus").status, DSIM_SC_INVALID_FIELD);
	assert_int_equal(set_faults(&r, "error,op=teleport").status, DSIM_SC_INVALID_FIELD);
	assert_int_equal(rig_do(&r, 0, nop(3)).status, DSIM_SC_ABORTED);
	assert_int_equal(injected(&r, DSIM_FAULT_ERROR), 3);
	/* Empty input clears. */
	c = set_faults(&r, "");
	assert_int_equal(c.status, DSIM_SC_SUCCESS);
	assert_int_equal(c.result, 0);
	assert_int_equal(rig_do(&r, 0, nop(4)).status, DSIM_SC_SUCCESS);
	assert_int_equal(injected(&r, DSIM_FAULT_ERROR), 3);
	assert_int_equal(rig_stat(&r, DSIM_STAT_FAULTS), 3);
	rig_stop(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error),         cmocka_unit_test(test_lost_irq),
		cmocka_unit_test(test_late),          cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_spurious),      cmocka_unit_test(test_bad_tag),
		cmocka_unit_test(test_corrupt),       cmocka_unit_test(test_hang_and_reset),
		cmocka_unit_test(test_fatal),         cmocka_unit_test(test_dma_slow_and_fail),
		cmocka_unit_test(test_storage_fail),  cmocka_unit_test(test_vanish),
		cmocka_unit_test(test_triggers),      cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_control_codes),
	};
	return cmocka_run_group_tests_name("devsim faults", tests, NULL, NULL);
}
