/* SPDX-License-Identifier: MIT */
/*
 * The dsim driver against a register page and rings played by the test:
 * identification, queue programming, SQE contents, doorbells, the phase
 * bit across ring wraps, status translation, aborts and queue errors, and
 * the room rule: no entry is written before the device fetched the one
 * there, however aborts, completions and reuse interleave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "devsim/dsim_hw.h"
#include "fake_dev.h"

static uint8_t regs[DSIM_REG_PAGE_SIZE] __attribute__((aligned(64)));
static unsigned kicks[DSIM_MAX_QUEUES + 1];
/* How the fake answers the admin doorbell, when a test wants it to fail. */
static struct {
	uint32_t queue_error; /* a queue enable ends in ERROR with this code */
	bool fatal_on_enable; /* CONTROL.ENABLE ends in STATUS.FATAL */
	bool stuck_reset;     /* CONTROL.RESET never clears */
	int gone;             /* the bus reports the device gone */
} quirk;

static uint32_t reg32(unsigned off)
{
	return *(uint32_t *)(regs + off);
}

static void set32(unsigned off, uint32_t v)
{
	*(uint32_t *)(regs + off) = v;
}

static uint64_t reg64(unsigned off)
{
	return *(uint64_t *)(regs + off);
}

static int map_regs(drv_dev *dev, unsigned idx, volatile void **va, size_t *len)
{
	(void)dev;
	assert_int_equal(idx, 2);
	*va = regs;
	*len = sizeof(regs);
	return 0;
}

/* The admin doorbell: the device acts on CONTROL and queue enables at once. */
static void ring_doorbell(drv_dev *dev, unsigned vector)
{
	(void)dev;
	kicks[vector]++;
	if (vector != DSIM_KICK_ADMIN)
		return;
	uint32_t ctl = reg32(DSIM_REG_CONTROL);
	if ((ctl & DSIM_CTRL_RESET) && !quirk.stuck_reset)
		set32(DSIM_REG_CONTROL, 0);
	if ((ctl & DSIM_CTRL_ENABLE) && quirk.fatal_on_enable)
		set32(DSIM_REG_STATUS, DSIM_STS_FATAL | DSIM_FATAL_INTERNAL << DSIM_STS_CODE_SHIFT);
	else
		set32(DSIM_REG_STATUS, ctl & DSIM_CTRL_ENABLE ? DSIM_STS_READY : 0);
	for (unsigned q = 0; q < 4; q++) {
		uint32_t st = reg32(DSIM_REG_Q(q, DSIM_Q_QSTATUS)) & ~DSIM_QSTS_ENABLED;
		bool enable = reg32(DSIM_REG_Q(q, DSIM_Q_ENABLE));
		if (enable && quirk.queue_error && !(st & DSIM_QSTS_ERROR))
			st = DSIM_QSTS_ERROR | quirk.queue_error << DSIM_QSTS_CODE_SHIFT;
		else if (enable && !quirk.queue_error)
			st |= DSIM_QSTS_ENABLED;
		set32(DSIM_REG_Q(q, DSIM_Q_QSTATUS), st);
	}
}

static int quirk_alive(drv_dev *dev)
{
	(void)dev;
	return quirk.gone ? -ENODEV : 0;
}

static int no_irq_setup(drv_dev *dev, unsigned wanted, enum drv_irq_mode *mode)
{
	(void)dev;
	(void)wanted;
	*mode = DRV_IRQ_NONE;
	return 0;
}

static struct drv_bus_ops ring_bus;

static drv_dev *dev;
static drv_queue *q;
static unsigned cq_tail; /* the device's side of the completion ring */

static void reset_registers(void)
{
	memset(regs, 0, sizeof(regs));
	memset(kicks, 0, sizeof(kicks));
	set32(DSIM_REG_MAGIC, DSIM_MAGIC);
	set32(DSIM_REG_VERSION, DSIM_VERSION);
	*(uint64_t *)(regs + DSIM_REG_FEATURES) =
	    DSIM_FEAT_SGL | DSIM_FEAT_ABORT | DSIM_FEAT_EVENTS | DSIM_FEAT_DEVICE_POLL;
	*(uint64_t *)(regs + DSIM_REG_CAPACITY) = 1 << 20;
	set32(DSIM_REG_NUM_QUEUES, 4);
	set32(DSIM_REG_MAX_LOG2_DEPTH, 6);
	set32(DSIM_REG_MAX_TRANSFER, 1 << 16);
	set32(DSIM_REG_MAX_SG, 4);
	set32(DSIM_REG_NUM_VECTORS, 4);
}

static int setup(void **state)
{
	(void)state;
	dev = fake_open(4 << 20);
	ring_bus = fake_bus;
	ring_bus.name = "sim";
	ring_bus.map_region = map_regs;
	ring_bus.kick = ring_doorbell;
	ring_bus.irq_setup = no_irq_setup;
	ring_bus.alive = quirk_alive;
	memset(&quirk, 0, sizeof(quirk));
	dev->bus = &ring_bus;
	dev->ops = &dsim_driver;
	reset_registers();
	cq_tail = 0;
	assert_int_equal(dsim_driver.probe(dev), 0);
	q = fake_queue(dev, 4);
	assert_non_null(q);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dsim_driver.remove(dev);
	while (dev->queues) {
		drv_queue *dq = dev->queues;
		dev->queues = dq->next;
		if (dq->hw_built)
			dev->ops->queue_destroy(dq);
		drvi_queue_finish(dq);
		drvi_queue_release(dq);
	}
	drvi_dma_pool_fini(&dev->dma);
	drvi_health_fini(dev);
	free(dev);
	return 0;
}

static void *bus_va(uint64_t bus)
{
	for (unsigned i = 0; i < dev->dma.nregions; i++) {
		struct drv_dma_region *r = &dev->dma.region[i];
		if (bus >= r->bus && bus < r->bus + r->len)
			return (char *)r->va + (bus - r->bus);
	}
	fail_msg("bus address %#llx is not DMA memory", (unsigned long long)bus);
	return NULL;
}

static struct dsim_sqe *sqe(unsigned idx)
{
	struct dsim_sqe *ring = bus_va(reg64(DSIM_REG_Q(q->id, DSIM_Q_SQ_BASE)));
	return &ring[idx % (1u << reg32(DSIM_REG_Q(q->id, DSIM_Q_LOG2_SIZE)))];
}

/* The device has fetched everything up to ring index `head`. */
static void fetched_to(uint32_t head)
{
	set32(DSIM_REG_Q(q->id, DSIM_Q_SQ_HEAD), head);
}

/* A completion as the device posts it; SQ_HEAD is left as the test set it. */
static void post_cqe(uint32_t tag, uint16_t status, uint32_t result)
{
	unsigned size = 1u << reg32(DSIM_REG_Q(q->id, DSIM_Q_LOG2_SIZE));
	struct dsim_cqe *ring = bus_va(reg64(DSIM_REG_Q(q->id, DSIM_Q_CQ_BASE)));
	uint16_t phase = (cq_tail / size) % 2 == 0 ? DSIM_CQE_F_PHASE : 0;
	struct dsim_cqe *c = &ring[cq_tail % size];
	c->tag = tag;
	c->status = status;
	c->result = result;
	c->sq_head = reg32(DSIM_REG_Q(q->id, DSIM_Q_SQ_HEAD));
	__atomic_store_n(&c->flags, phase, __ATOMIC_RELEASE);
	cq_tail++;
}

static void probe_reads_identity(void **state)
{
	(void)state;
	assert_int_equal(dev->info.max_queues, 4);
	assert_int_equal(dev->info.max_queue_depth, 31); /* 64-entry rings hold 2*31+2 */
	assert_int_equal(dev->info.max_sg, 4);
	assert_true(dev->info.features & DRV_FEAT_STORAGE);
	assert_true(dev->info.features & DRV_FEAT_ABORT);
	assert_int_equal(reg32(DSIM_REG_CONTROL), DSIM_CTRL_ENABLE);
	/* Ring of 16 entries for depth 4, vector = queue id, interrupts masked. */
	assert_int_equal(reg32(DSIM_REG_Q(q->id, DSIM_Q_LOG2_SIZE)), 4);
	assert_int_equal(reg32(DSIM_REG_Q(q->id, DSIM_Q_VECTOR)), q->id);
	assert_int_equal(reg32(DSIM_REG_Q(q->id, DSIM_Q_IRQ_MASK)), 1);
	assert_int_equal(reg32(DSIM_REG_Q(q->id, DSIM_Q_ENABLE)), 1);
}

static void probe_refuses_other_devices(void **state)
{
	(void)state;
	set32(DSIM_REG_MAGIC, 0x12345678);
	drv_dev other = { .bus = &ring_bus };
	assert_int_equal(dsim_driver.probe(&other), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "not a dsim"));
	set32(DSIM_REG_MAGIC, DSIM_MAGIC);
	set32(DSIM_REG_VERSION, 0x00020000);
	assert_int_equal(dsim_driver.probe(&other), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "version 2.0"));
	set32(DSIM_REG_VERSION, DSIM_VERSION);
	drv_queue *big;
	struct drv_queue_opts o = { .depth = 32, .cmode = DRV_CMODE_POLL };
	assert_int_equal(drv_queue_create(dev, &o, &big), -EINVAL);
}

static void entries_phase_and_wrap(void **state)
{
	(void)state;
	char data[4][64];
	struct drv_req r[4];
	struct drv_req *set[4];
	unsigned sq = 0;
	for (unsigned round = 0; round < 10; round++) {
		for (unsigned i = 0; i < 4; i++) {
			drv_prep_read(&r[i], i * 64u, data[i], sizeof(data[i]));
			set[i] = &r[i];
		}
		unsigned before = kicks[DSIM_KICK_QUEUE(q->id)];
		assert_int_equal(drv_submit(q, set, 4), 4);
		assert_int_equal(kicks[DSIM_KICK_QUEUE(q->id)], before + 1); /* one per batch */
		assert_int_equal(reg32(DSIM_REG_Q(q->id, DSIM_Q_SQ_TAIL)), (sq + 4) % 16);
		fetched_to((sq + 4) % 16);
		for (unsigned i = 0; i < 4; i++) {
			struct dsim_sqe *e = sqe(sq + i);
			assert_int_equal(e->opcode, DSIM_OP_READ);
			assert_int_equal(e->tag, fake_slot_of(q, &r[i])->r.tag);
			assert_int_equal(e->length, 64);
			assert_int_equal(e->offset, i * 64u);
			memset(bus_va(e->addr), 'a' + (int)i, 64);
		}
		/* Complete in reverse order. */
		for (unsigned i = 4; i-- > 0;)
			post_cqe(sqe(sq + i)->tag, DSIM_SC_SUCCESS, 64);
		sq += 4;
		assert_int_equal(drv_wait_all(q, set, 4, -1), 0);
		for (unsigned i = 0; i < 4; i++) {
			assert_int_equal(r[i].status, 0);
			assert_int_equal(data[i][63], 'a' + (int)i);
		}
		assert_int_equal(reg32(DSIM_REG_Q(q->id, DSIM_Q_CQ_HEAD)), cq_tail % 16);
	}
	struct drv_queue_stats st;
	drv_queue_stats(q, &st);
	assert_int_equal(st.completed, 40);
	assert_int_equal(st.rejected, 0);
}

static void statuses_are_translated(void **state)
{
	(void)state;
	static const struct {
		uint16_t sc;
		int err;
	} map[] = {
		{ DSIM_SC_INVALID_OPCODE, -EOPNOTSUPP },
		{ DSIM_SC_INVALID_CODE, -EOPNOTSUPP },
		{ DSIM_SC_INVALID_FIELD, -EINVAL },
		{ DSIM_SC_OUT_OF_RANGE, -ERANGE },
		{ DSIM_SC_DMA_ERROR, -EFAULT },
		{ DSIM_SC_ABORTED, -ECANCELED },
		{ DSIM_SC_TOO_LARGE, -E2BIG },
		{ DSIM_SC_INTERNAL, -EIO },
		{ 999, -EIO },
	};
	for (unsigned i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		struct drv_req r;
		struct drv_req *rp = &r;
		drv_prep_flush(&r);
		assert_int_equal(drv_submit(q, &rp, 1), 1);
		post_cqe(fake_slot_of(q, &r)->r.tag, map[i].sc, 0);
		assert_int_equal(drv_wait(q, &r, -1), 0);
		assert_int_equal(r.status, map[i].err);
	}
}

static void sg_lists_and_control_input(void **state)
{
	(void)state;
	drv_buf *a, *b;
	assert_int_equal(drv_buf_alloc(dev, 4096, &a), 0);
	assert_int_equal(drv_buf_alloc(dev, 4096, &b), 0);
	struct drv_sge sgl[2] = { { a, 0, 100 }, { b, 200, 300 } };
	struct drv_req r;
	struct drv_req *rp = &r;
	drv_prep_rw_sgl(&r, DRV_OP_WRITE, 512, sgl, 2);
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	struct dsim_sqe *e = sqe(0);
	assert_int_equal(e->flags, DSIM_SQE_F_SGL);
	assert_int_equal(e->sg_count, 2);
	struct dsim_sge *list = bus_va(e->addr);
	assert_int_equal(list[0].addr, drv_buf_bus(a));
	assert_int_equal(list[0].length, 100);
	assert_int_equal(list[1].addr, drv_buf_bus(b) + 200);
	assert_int_equal(list[1].length, 300);
	post_cqe(e->tag, DSIM_SC_SUCCESS, 400);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.result, 400);

	char in[5] = "echo", out[8] = "";
	drv_prep_control(&r, DSIM_CTL_ECHO, in, sizeof(in), out, sizeof(out));
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	e = sqe(1);
	assert_int_equal(e->opcode, DSIM_OP_CONTROL);
	assert_int_equal(e->code, DSIM_CTL_ECHO);
	assert_int_equal(e->in_length, sizeof(in));
	assert_string_equal(bus_va(e->in_addr), "echo");
	memcpy(bus_va(e->addr), "echo", 5);
	post_cqe(e->tag, DSIM_SC_SUCCESS, 5);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_string_equal(out, "echo");
	drv_buf_free(a);
	drv_buf_free(b);
}

static void aborts_use_driver_tags(void **state)
{
	(void)state;
	struct drv_req r;
	struct drv_req *rp = &r;
	drv_prep_nop(&r);
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	uint32_t tag = sqe(0)->tag;
	assert_int_equal(drv_cancel(q, &r), 0);
	struct dsim_sqe *ab = sqe(1);
	assert_int_equal(ab->opcode, DSIM_OP_ABORT);
	assert_int_equal(ab->abort_tag, tag);
	assert_int_equal(DRV_TAG_GEN(ab->tag), DRV_TAG_GEN_DRIVER);
	post_cqe(ab->tag, DSIM_SC_SUCCESS, 0); /* the abort's own completion */
	post_cqe(tag, DSIM_SC_ABORTED, 0);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	assert_int_equal(r.status, -ECANCELED);
	struct drv_queue_stats st;
	drv_queue_stats(q, &st);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(st.cancelled, 1);
}

static void device_polling_skips_the_doorbell(void **state)
{
	(void)state;
	set32(DSIM_REG_DEVICE_POLLING, 1);
	struct drv_req r;
	struct drv_req *rp = &r;
	drv_prep_nop(&r);
	unsigned before = kicks[DSIM_KICK_QUEUE(q->id)];
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	assert_int_equal(kicks[DSIM_KICK_QUEUE(q->id)], before);
	post_cqe(sqe(0)->tag, DSIM_SC_SUCCESS, 0);
	assert_int_equal(drv_wait(q, &r, -1), 0);
	set32(DSIM_REG_DEVICE_POLLING, 0);
}

static void queue_error_fails_pending_requests(void **state)
{
	(void)state;
	struct drv_req r;
	struct drv_req *rp = &r;
	/* These registers cannot reset: no recovery. */
	assert_int_equal(drv_set_recovery(dev, &(struct drv_recovery){ .auto_reset_ns = -1 }), 0);
	drv_prep_nop(&r);
	assert_int_equal(drv_submit(q, &rp, 1), 1);
	set32(DSIM_REG_Q(q->id, DSIM_Q_QSTATUS),
	      DSIM_QSTS_ERROR | (DSIM_QERR_BAD_TAIL << DSIM_QSTS_CODE_SHIFT));
	assert_int_equal(drv_wait(q, &r, -1), 0);
	/* A queue error is the device's fatal error, not its disappearance: a reset helps. */
	assert_int_equal(r.status, -EIO);
	assert_int_equal(drv_submit(q, &rp, 1), -EIO);
}

static void submit_all(struct drv_req *r, unsigned n, int expect)
{
	struct drv_req *set[8];
	for (unsigned i = 0; i < n; i++) {
		drv_prep_nop(&r[i]);
		set[i] = &r[i];
	}
	assert_int_equal(drv_submit(q, set, n), expect);
}

/*
 * Requests finish before the device fetches the ABORTs sent for them; the
 * slots are reused and cancelled again. Depth 4 gives a 16-entry ring (15
 * usable): an abort goes out only while more than 4 entries stay free, so
 * the 4th abort of the second round waits, and goes out once the device
 * has fetched what was there.
 */
static void aborts_that_outlive_their_requests_wait_for_room(void **state)
{
	(void)state;
	struct drv_req r[4];
	struct drv_req *set[4] = { &r[0], &r[1], &r[2], &r[3] };
	submit_all(r, 4, 4);
	fetched_to(4);
	assert_int_equal(drv_cancel_all(q), 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(sqe(4 + i)->opcode, DSIM_OP_ABORT);
		post_cqe(sqe(i)->tag, DSIM_SC_SUCCESS, 0); /* done before the ABORTs are read */
	}
	assert_int_equal(drv_wait_all(q, set, 4, -1), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r[i].status, 0);

	submit_all(r, 4, 4); /* entries 8..11 */
	assert_int_equal(drv_cancel_all(q), 4);
	uint32_t unaborted = 0; /* XOR of the request tags not aborted yet */
	for (unsigned i = 0; i < 4; i++)
		unaborted ^= sqe(8 + i)->tag;
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(sqe(12 + i)->opcode, DSIM_OP_ABORT);
		unaborted ^= sqe(12 + i)->abort_tag;
	}
	assert_int_equal(reg32(DSIM_REG_Q(q->id, DSIM_Q_SQ_TAIL)), 15);
	for (unsigned i = 0; i < 4; i++) /* the first round's ABORTs are intact */
		assert_int_equal(sqe(4 + i)->opcode, DSIM_OP_ABORT);

	/* The device fetches all 15 and completes the first round's ABORTs. */
	fetched_to(15);
	for (unsigned i = 0; i < 4; i++)
		post_cqe(sqe(4 + i)->tag, DSIM_SC_SUCCESS, 0);
	assert_int_equal(drv_test(q, &r[3]), -EINPROGRESS);
	assert_int_equal(reg32(DSIM_REG_Q(q->id, DSIM_Q_SQ_TAIL)), 0);
	assert_int_equal(sqe(15)->opcode, DSIM_OP_ABORT);
	assert_int_equal(sqe(15)->abort_tag, unaborted);
	fetched_to(0);
	for (unsigned i = 0; i < 4; i++)
		post_cqe(sqe(8 + i)->tag, DSIM_SC_ABORTED, 0);
	assert_int_equal(drv_wait_all(q, set, 4, -1), 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(r[i].status, -ECANCELED);
	struct drv_queue_stats st;
	drv_queue_stats(q, &st);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(st.in_flight, 0);
}

/*
 * A device that completes requests but never fetches further (SQ_HEAD stuck
 * at 0): the driver fills the 15 usable entries and then pushes back with
 * -EAGAIN rather than overwrite one the device has not read.
 */
static void a_device_that_stops_fetching_gets_no_overwrites(void **state)
{
	(void)state;
	struct drv_req r[4];
	struct drv_req *set[4] = { &r[0], &r[1], &r[2], &r[3] };
	unsigned written = 0;
	for (unsigned round = 0; round < 4; round++) {
		submit_all(r, 4, 4);
		assert_int_equal(drv_cancel_all(q), 4);
		unsigned tail = reg32(DSIM_REG_Q(q->id, DSIM_Q_SQ_TAIL));
		for (unsigned i = 0; i < 4; i++)
			post_cqe(sqe(written + i)->tag, DSIM_SC_SUCCESS, 0);
		assert_int_equal(drv_wait_all(q, set, 4, -1), 0);
		written = tail;
		if (written > 15 - 4)
			break;
	}
	assert_int_equal(written, 12); /* 4 + 4 aborts, 4 + 0 aborts: no room for them */
	uint32_t first = sqe(0)->tag;
	submit_all(r, 4, 3);
	assert_int_equal(reg32(DSIM_REG_Q(q->id, DSIM_Q_SQ_TAIL)), 15);
	assert_int_equal(sqe(0)->tag, first);
	struct drv_req *last = &r[3];
	assert_int_equal(drv_submit(q, &last, 1), -EAGAIN);
	assert_non_null(strstr(drv_errmsg(), "queue is full"));

	/*
	 * A completion reporting a head no device could (outside the ring) frees
	 * its request's slot but no ring room: the next submit is still refused.
	 */
	fetched_to(40);
	post_cqe(sqe(12)->tag, DSIM_SC_SUCCESS, 0);
	assert_int_equal(drv_wait(q, &r[0], -1), 0);
	assert_int_equal(drv_submit(q, &last, 1), -EAGAIN);
	assert_int_equal(sqe(0)->tag, first);
	fetched_to(15);
	for (unsigned i = 1; i < 3; i++)
		post_cqe(sqe(12 + i)->tag, DSIM_SC_SUCCESS, 0);
	assert_int_equal(drv_wait_all(q, set + 1, 2, -1), 0);
	assert_int_equal(drv_submit(q, &last, 1), 1); /* entry 15: room again */
	fetched_to(0);
	post_cqe(sqe(15)->tag, DSIM_SC_SUCCESS, 0);
	assert_int_equal(drv_wait(q, last, -1), 0);
}

/*
 * Set-up waits end as soon as the device says it cannot get there, with
 * what it reported; only a silent device costs the whole wait.
 */
static void queue_refused_at_enable_fails_at_once(void **state)
{
	(void)state;
	quirk.queue_error = DSIM_QERR_RING_DMA;
	drv_queue *other;
	struct drv_queue_opts o = { .depth = 4, .cmode = DRV_CMODE_POLL };
	assert_int_equal(drv_queue_create(dev, &o, &other), -EIO);
	assert_non_null(strstr(drv_errmsg(), "refused queue"));
	assert_non_null(strstr(drv_errmsg(), "outside the DMA windows"));
}

static void fatal_at_enable_fails_at_once(void **state)
{
	(void)state;
	quirk.fatal_on_enable = true;
	drv_dev other = { .bus = &ring_bus };
	assert_int_equal(dsim_driver.probe(&other), -EIO);
	assert_non_null(strstr(drv_errmsg(), "fatal error 1"));
}

static void reset_of_a_vanished_device_says_so(void **state)
{
	(void)state;
	quirk.stuck_reset = true;
	quirk.gone = 1;
	drv_dev other = { .bus = &ring_bus };
	assert_int_equal(dsim_driver.probe(&other), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "went away"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(probe_reads_identity),
		T(probe_refuses_other_devices),
		T(entries_phase_and_wrap),
		T(statuses_are_translated),
		T(sg_lists_and_control_input),
		T(aborts_use_driver_tags),
		T(device_polling_skips_the_doorbell),
		T(queue_error_fails_pending_requests),
		T(aborts_that_outlive_their_requests_wait_for_room),
		T(a_device_that_stops_fetching_gets_no_overwrites),
		T(queue_refused_at_enable_fails_at_once),
		T(fatal_at_enable_fails_at_once),
		T(reset_of_a_vanished_device_says_so),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
