/* SPDX-License-Identifier: MIT */
/*
 * A hostile device against libdrv's completion path: the dsim driver on a
 * register page and rings that the input plays (the device's side of
 * tests/unit/test_ring.c, on the fake bus of fake_dev.h). The input submits
 * requests of every kind (plain memory, a DMA buffer, SG lists, deadlines,
 * callbacks), writes completions into the CQ with any tag (a posted SQE's,
 * a request's current or stale one, the driver's own, any number), status,
 * flags, phase, result and SQ head, in any order and as often as it likes,
 * moves SQ_HEAD, writes registers (STATUS.FATAL, queue errors), makes the
 * device vanish, and interleaves zero-timeout reaps, waits and tests,
 * cancels and drv_reset(). Invariants: no crash, no undefined behaviour;
 * every request is delivered at most once per submission (by reap, wait,
 * test or its callback); a delivered status is 0 or a negative errno; a
 * successful READ, WRITE or WAIT_EVENT never reports more than its length;
 * stats.rejected grows exactly by the completions that named no pending
 * request or claimed too many bytes (checked on every completion the
 * driver hands over, through the linker's --wrap); and after the close
 * nothing is left allocated (LeakSanitizer).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devsim/dsim_hw.h"
#include "drv/mmio.h"
#include "fake_dev.h"
#include "fuzz.h"

#define NREQ 8u
#define DATA_LEN 4096u
#define BUF_SLICES 4u /* requests share the DMA buffer in this many slices */
#define BUF_LEN (BUF_SLICES * DATA_LEN)

int __real_drv_queue_complete(drv_queue *q, uint32_t tag, int status, uint64_t result,
			      uint32_t result_flags);
int __wrap_drv_queue_complete(drv_queue *q, uint32_t tag, int status, uint64_t result,
			      uint32_t result_flags);

static uint8_t regs[DSIM_REG_PAGE_SIZE] __attribute__((aligned(64)));
static struct drv_bus_ops bus;
static drv_dev *dev;
static drv_queue *q;
static drv_buf *dbuf;
static uint32_t cq_tail; /* the device's count of CQEs posted since the queue was enabled */
static struct {
	uint8_t qerr;      /* a queue enable ends in ERROR with this code */
	bool fatal_enable; /* CONTROL.ENABLE ends in STATUS.FATAL */
} quirk;

static struct drv_req req[NREQ];
static struct drv_sge sgl[NREQ][2];
static uint8_t data[NREQ][DATA_LEN];
static uint8_t ctl_in[16];
static bool out[NREQ]; /* submitted and not delivered yet */

static uint32_t reg(unsigned off)
{
	return drv_mmio_rd32(regs, off);
}

static void set_reg(unsigned off, uint32_t v)
{
	drv_mmio_wr32(regs, off, v);
}

static void delivered(struct drv_req *r)
{
	unsigned i = (unsigned)(r - req);
	FUZZ_CHECK(i < NREQ && out[i]);
	out[i] = false;
	FUZZ_CHECK(r->status == 0 || (r->status < 0 && r->status >= -4095));
	bool data_op = r->op == DRV_OP_READ || r->op == DRV_OP_WRITE || r->op == DRV_OP_WAIT_EVENT;
	FUZZ_CHECK(r->status || !data_op || r->result <= r->len);
}

static void on_done(struct drv_req *r, void *user)
{
	(void)user;
	delivered(r);
}

int __wrap_drv_queue_complete(drv_queue *wq, uint32_t tag, int status, uint64_t result,
			      uint32_t result_flags)
{
	unsigned idx = drv_tag_index(tag);
	const struct drv_slot *s = idx < wq->depth ? &wq->slots[idx] : NULL;
	bool names_none = !s || s->state == DRV_SLOT_FREE || s->r.tag != tag;
	bool data_op = s && (s->r.op == DRV_OP_READ || s->r.op == DRV_OP_WRITE ||
			     s->r.op == DRV_OP_WAIT_EVENT);
	bool too_many = !names_none && status == 0 && data_op && result > s->r.len;
	uint64_t before = wq->stats.rejected;
	int rc = __real_drv_queue_complete(wq, tag, status, result, result_flags);
	FUZZ_CHECK(wq->stats.rejected == before + (names_none || too_many));
	return rc;
}

static int map_regs(drv_dev *d, unsigned idx, volatile void **va, size_t *len)
{
	(void)d;
	(void)idx;
	*va = regs;
	*len = sizeof(regs);
	return 0;
}

/* The admin doorbell: reset, enable and queue enables take effect at once (or fail). */
static void doorbell(drv_dev *d, unsigned vector)
{
	(void)d;
	if (vector != DSIM_KICK_ADMIN)
		return;
	uint32_t ctl = reg(DSIM_REG_CONTROL);
	if (ctl & DSIM_CTRL_RESET)
		set_reg(DSIM_REG_CONTROL, 0);
	uint32_t sts = ctl & DSIM_CTRL_ENABLE ? DSIM_STS_READY : 0;
	if ((ctl & DSIM_CTRL_ENABLE) && quirk.fatal_enable)
		sts = DSIM_STS_FATAL | DSIM_FATAL_INTERNAL << DSIM_STS_CODE_SHIFT;
	set_reg(DSIM_REG_STATUS, sts);
	for (unsigned i = 0; i < 2; i++) {
		bool on = reg(DSIM_REG_Q(i, DSIM_Q_ENABLE)) != 0;
		uint32_t was = reg(DSIM_REG_Q(i, DSIM_Q_QSTATUS));
		uint32_t now = !on ? 0
			       : quirk.qerr
				   ? DSIM_QSTS_ERROR | (uint32_t)quirk.qerr << DSIM_QSTS_CODE_SHIFT
				   : DSIM_QSTS_ENABLED;
		if (on && !(was & DSIM_QSTS_ENABLED) && q && (unsigned)q->id == i)
			cq_tail = 0; /* a fresh ring */
		if (!on || !(was & DSIM_QSTS_ERROR))
			set_reg(DSIM_REG_Q(i, DSIM_Q_QSTATUS), now);
	}
}

static void power_on(void)
{
	memset(regs, 0, sizeof(regs));
	set_reg(DSIM_REG_MAGIC, DSIM_MAGIC);
	set_reg(DSIM_REG_VERSION, DSIM_VERSION);
	drv_mmio_wr64(regs, DSIM_REG_FEATURES,
		      DSIM_FEAT_SGL | DSIM_FEAT_ABORT | DSIM_FEAT_EVENTS | DSIM_FEAT_DEVICE_POLL);
	drv_mmio_wr64(regs, DSIM_REG_CAPACITY, 1u << 20);
	set_reg(DSIM_REG_NUM_QUEUES, 2);
	set_reg(DSIM_REG_MAX_LOG2_DEPTH, 5);
	set_reg(DSIM_REG_MAX_TRANSFER, 1u << 16);
	set_reg(DSIM_REG_MAX_SG, 4);
	set_reg(DSIM_REG_NUM_VECTORS, 2);
}

/*
 * The CPU address of the ring at bus address b in the device's DMA memory,
 * or NULL (also when the input scribbled a misaligned base over the
 * register: the device would refuse it, and the entries could not be read).
 */
static void *ring_va(uint64_t b, size_t len)
{
	if (b % sizeof(struct dsim_sqe))
		return NULL;
	for (unsigned i = 0; i < dev->dma.nregions; i++) {
		const struct drv_dma_region *r = &dev->dma.region[i];
		if (b >= r->bus && b - r->bus <= r->len && len <= r->len - (b - r->bus))
			return (uint8_t *)r->va + (b - r->bus);
	}
	return NULL;
}

static uint32_t ring_size(void)
{
	return 1u << (reg(DSIM_REG_Q(q->id, DSIM_Q_LOG2_SIZE)) & 15);
}

static void prep(unsigned i, struct fuzz_in *in)
{
	struct drv_req *r = &req[i];
	uint8_t how = fuzz_u8(in);
	unsigned op = how % 6;
	size_t len = fuzz_u16(in) % (DATA_LEN + 1);
	drv_prep(r, op, (uint64_t)fuzz_u8(in) << 9,
		 op == DRV_OP_NOP || op == DRV_OP_FLUSH ? NULL : data[i],
		 op == DRV_OP_NOP || op == DRV_OP_FLUSH ? 0 : len);
	if (op == DRV_OP_CONTROL) {
		r->code = fuzz_u8(in) % 10;
		r->in = ctl_in;
		r->in_len = fuzz_u8(in) % (sizeof(ctl_in) + 1);
	}
	if (r->data && (how & 0x10)) { /* direct I/O from the DMA buffer */
		r->data = NULL;
		r->buf = dbuf;
		r->buf_off = (i % BUF_SLICES) * DATA_LEN;
	} else if (r->data && (how & 0x20)) { /* two SG entries */
		r->data = NULL;
		size_t half = len / 2, at = (i % BUF_SLICES) * DATA_LEN;
		sgl[i][0] = (struct drv_sge){ dbuf, at, half };
		sgl[i][1] = (struct drv_sge){ dbuf, at + DATA_LEN / 2, len - half };
		r->sgl = sgl[i];
		r->nsge = 2;
	}
	if (how & 0x40)
		r->timeout_ns = 1 + fuzz_u8(in);
	if (how & 0x80)
		r->cb = on_done;
}

static void act_submit(struct fuzz_in *in)
{
	unsigned first = fuzz_u8(in) % NREQ, n = 1 + fuzz_u8(in) % 3;
	struct drv_req *batch[3];
	bool was_out[3];
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (first + k) % NREQ;
		/* A request out with the device must stay untouched; it goes in as it is. */
		if (!out[i])
			prep(i, in);
		batch[k] = &req[i];
		/* Out before the call: a refused request's callback runs inside drv_submit. */
		was_out[k] = out[i];
		out[i] = true;
	}
	int rc = drv_submit(q, batch, n);
	for (unsigned k = rc > 0 ? (unsigned)rc : 0; k < n; k++)
		out[batch[k] - req] = was_out[k];
}

/* A tag for the device to complete: what it fetched, what a request had or has, or any. */
static uint32_t pick_tag(struct fuzz_in *in, const struct dsim_sqe **sqe)
{
	uint8_t how = fuzz_u8(in);
	uint32_t size = ring_size();
	struct dsim_sqe *sq = ring_va(drv_mmio_rd64(regs, DSIM_REG_Q(q->id, DSIM_Q_SQ_BASE)),
				      (size_t)size * sizeof(struct dsim_sqe));
	switch (how % 4) {
	case 0:
		if (!sq)
			return 0;
		*sqe = &sq[fuzz_u8(in) % size];
		return (*sqe)->tag;
	case 1: {
		const struct drv_req *r = &req[fuzz_u8(in) % NREQ];
		return r->priv.slot < q->depth ? fake_slot_of(q, r)->r.tag : 0;
	}
	case 2:
		return drv_driver_tag(fuzz_u8(in));
	default:
		return fuzz_u32(in);
	}
}

/* The device posts one CQE at its tail. */
static void act_cqe(struct fuzz_in *in)
{
	uint32_t size = ring_size();
	struct dsim_cqe *cq = ring_va(drv_mmio_rd64(regs, DSIM_REG_Q(q->id, DSIM_Q_CQ_BASE)),
				      (size_t)size * sizeof(struct dsim_cqe));
	if (!cq)
		return;
	const struct dsim_sqe *sqe = NULL;
	struct dsim_cqe c = { .tag = pick_tag(in, &sqe) };
	uint8_t how = fuzz_u8(in);
	c.status = how & 0x80 ? fuzz_u16(in) : how % 3 == 0 ? fuzz_u8(in) % DSIM_SC_COUNT : 0;
	uint32_t len = sqe ? sqe->length : 0;
	switch ((how >> 2) % 4) {
	case 0:
		c.result = len;
		break;
	case 1:
		c.result = len + 1;
		break;
	case 2:
		c.result = fuzz_u32(in);
		break;
	default:
		c.result = 0;
		break;
	}
	c.sq_head = how & 0x10 ? fuzz_u32(in) : reg(DSIM_REG_Q(q->id, DSIM_Q_SQ_HEAD));
	uint16_t phase = (cq_tail / size) % 2 == 0 ? DSIM_CQE_F_PHASE : 0;
	if (how & 0x20)
		phase ^= DSIM_CQE_F_PHASE;
	struct dsim_cqe *slot = &cq[cq_tail % size];
	slot->tag = c.tag;
	slot->status = c.status;
	slot->result = c.result;
	slot->sq_head = c.sq_head;
	__atomic_store_n(&slot->flags, (uint16_t)(phase | (how & 0x40 ? DSIM_CQE_F_TRUNCATED : 0)),
			 __ATOMIC_RELEASE);
	cq_tail++;
}

static void act_reap(struct fuzz_in *in)
{
	struct drv_req *got[NREQ];
	int n = drv_reap(q, got, 1 + fuzz_u8(in) % NREQ, 0, 0);
	for (int k = 0; k < n; k++)
		delivered(got[k]);
}

/* wait or test on one request: a 0 for one that was out is its delivery. */
static void act_wait(struct fuzz_in *in, bool test)
{
	unsigned i = fuzz_u8(in) % NREQ;
	if (req[i].cb)
		return; /* its callback delivers it */
	int rc = test ? drv_test(q, &req[i]) : drv_wait(q, &req[i], 0);
	if (rc == 0 && out[i])
		delivered(&req[i]);
}

static void open_device(struct fuzz_in *in)
{
	memset(&quirk, 0, sizeof(quirk));
	memset(out, 0, sizeof(out));
	memset(req, 0, sizeof(req));
	power_on();
	dev = fake_open(64u << 10);
	if (!dev)
		abort();
	bus = fake_bus;
	bus.name = "sim";
	bus.map_region = map_regs;
	bus.kick = doorbell;
	dev->bus = &bus;
	dev->ops = &dsim_driver;
	q = NULL;
	FUZZ_CHECK(dsim_driver.probe(dev) == 0);
	struct drv_queue_opts o = { .depth = 1 + fuzz_u8(in) % 8,
				    .cmode = DRV_CMODE_POLL,
				    .bounce_bytes = 16u << 10 };
	FUZZ_CHECK(drv_queue_create(dev, &o, &q) == 0);
	FUZZ_CHECK(drv_buf_alloc(dev, BUF_LEN, &dbuf) == 0);
}

/* What drv_close does, without its grace period for a device that never answers. */
static void close_device(void)
{
	drv_buf_free(dbuf);
	dsim_driver.remove(dev);
	for (drv_queue *dq = dev->queues; dq; dq = dq->next)
		if (dq->hw_built)
			dsim_driver.queue_destroy(dq);
	fake_close(dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	struct fuzz_in in = { input, size };
	open_device(&in);
	while (fuzz_more(&in)) {
		switch (fuzz_u8(&in) % 12) {
		case 0:
			act_submit(&in);
			break;
		case 1:
			act_cqe(&in);
			break;
		case 2: /* the device fetched up to here */
			set_reg(DSIM_REG_Q(q->id, DSIM_Q_SQ_HEAD),
				fuzz_u8(&in) == 0xff ? fuzz_u32(&in)
						     : reg(DSIM_REG_Q(q->id, DSIM_Q_SQ_TAIL)));
			break;
		case 3:
			act_reap(&in);
			break;
		case 4:
			act_wait(&in, false);
			break;
		case 5:
			act_wait(&in, true);
			break;
		case 6:
			drv_cancel(q, &req[fuzz_u8(&in) % NREQ]);
			break;
		case 7:
			drv_cancel_all(q);
			break;
		case 8:
			drv_reset(dev);
			break;
		case 9:
			set_reg(fuzz_u16(&in) & 0xffc, fuzz_u32(&in));
			break;
		case 10: {
			uint8_t what = fuzz_u8(&in);
			fake.dead = what == 0xff; /* the bus says the device is gone */
			quirk.qerr = what & 0x80 ? what % 5 : 0;
			quirk.fatal_enable = (what & 0x0f) == 0x0f;
			break;
		}
		case 11: {
			struct drv_queue_stats st;
			drv_queue_stats(q, &st);
			FUZZ_CHECK(st.in_flight <= q->depth && st.quarantined <= q->depth);
			break;
		}
		}
	}
	close_device();
	return 0;
}
