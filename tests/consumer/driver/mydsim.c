/* SPDX-License-Identifier: MIT */
/*
 * mydsim: a deliberately small driver for the dsim ring device, written
 * outside the libdrv tree against nothing but the installed headers
 * (<drv/driver.h>, <drv/mmio.h> and the datasheet <devsim/dsim_hw.h>).
 *
 * What it does: NOP, READ and WRITE with one data segment each (it reports
 * max_sg 1 and no SGL, so libdrv never hands it more), ABORT for cancelled
 * requests when the device has it, interrupts through the queue's IRQ_MASK.
 * What it leaves out: SG lists, CONTROL, FLUSH, events, coalescing, device
 * polling, and buses without doorbells (ivshmem under uio/vfio).
 *
 * Each libdrv queue gets one hardware queue: a submission ring of 64-byte
 * entries sized with drv_sq_ring_size(depth) (room for every request and
 * the aborts the ring rules allow) and a completion ring of as many 16-byte
 * entries carrying a phase bit. The driver learns how far the device read
 * the submission ring only from the sq_head of each completion.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <devsim/dsim_hw.h>
#include <drv/driver.h>
#include <drv/mmio.h>

#include "mydsim.h"

#define MYDSIM_BAR 2                 /* the register page on the sim bus */
#define MYDSIM_WAIT_NS 2000000000ull /* for resets and queue state changes */
/* Rings above 2^14 entries are never needed: drv_sq_ring_size(DRV_QUEUE_MAX_DEPTH) is 2^14. */
#define MYDSIM_MAX_LOG2 14u
#define MYDSIM_RING_ALIGN 4096u /* more than the 64 (SQ) and 16 (CQ) bytes dsim asks */

struct mydsim {
	volatile void *regs;
	unsigned max_log2; /* largest ring the device takes, clamped */
	unsigned vectors;  /* interrupt vectors it has, clamped */
};

struct mydsim_queue {
	drv_dev *dev;
	volatile void *regs;
	unsigned id, depth;
	bool can_abort;
	drv_buf *sq_buf, *cq_buf;
	struct dsim_sqe *sq;
	struct dsim_cqe *cq;
	struct drv_sq_ring ring;
	uint32_t cq_head; /* completions consumed, ever; the ring index is cq_head & (size - 1) */
	uint16_t phase;   /* the phase a new completion carries */
};

static uint32_t rd32(const volatile void *regs, uint32_t off)
{
	return drv_mmio_rd32(regs, off);
}

static void wr32(volatile void *regs, uint32_t off, uint32_t v)
{
	drv_mmio_wr32(regs, off, v);
}

static const char *where(const drv_dev *dev)
{
	return drv_dev_info(dev)->address;
}

/* Register changes that need the device's attention are followed by an admin kick. */
static void admin_kick(drv_dev *dev)
{
	(void)drv_dev_kick(dev, DSIM_KICK_ADMIN);
}

/* Resets without reporting (also used to undo a failed probe): 0 or -errno. */
static int reset_quiet(drv_dev *dev, volatile void *regs)
{
	wr32(regs, DSIM_REG_CONTROL, DSIM_CTRL_RESET);
	admin_kick(dev);
	return drv_dev_wait32(dev, regs, DSIM_REG_CONTROL, DSIM_CTRL_RESET, 0, 0, MYDSIM_WAIT_NS);
}

static int reset(drv_dev *dev, volatile void *regs)
{
	int err = reset_quiet(dev, regs);
	if (err)
		return drv_fail(err, "mydsim: dsim at %s did not finish its reset (%s)", where(dev),
				err == -ENODEV ? "device gone" : "timed out");
	return 0;
}

static int enable(drv_dev *dev, volatile void *regs)
{
	wr32(regs, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	admin_kick(dev);
	int err = drv_dev_wait32(dev, regs, DSIM_REG_STATUS, DSIM_STS_READY, DSIM_STS_READY,
				 DSIM_STS_FATAL, MYDSIM_WAIT_NS);
	uint32_t sts = rd32(regs, DSIM_REG_STATUS);
	if (err == -EIO)
		return drv_fail(err,
				"mydsim: dsim at %s stopped with fatal error %u while enabling",
				where(dev), DSIM_STS_CODE(sts));
	if (err)
		return drv_fail(err, "mydsim: dsim at %s did not become ready (status %#x)",
				where(dev), sts);
	return 0;
}

/*
 * What the device says about itself, read after the reset (which rewrites
 * the identity registers) and believed only within limits.
 */
static int describe(drv_dev *dev, struct mydsim *d, struct drv_info *info)
{
	volatile void *regs = d->regs;
	uint32_t version = rd32(regs, DSIM_REG_VERSION);
	uint64_t features = drv_mmio_rd64(regs, DSIM_REG_FEATURES);
	uint32_t queues = rd32(regs, DSIM_REG_NUM_QUEUES);
	uint32_t kicks = rd32(regs, DSIM_REG_NUM_KICKS);
	uint32_t log2 = rd32(regs, DSIM_REG_MAX_LOG2_DEPTH);
	uint32_t vectors = rd32(regs, DSIM_REG_NUM_VECTORS);
	uint32_t max_transfer = rd32(regs, DSIM_REG_MAX_TRANSFER);

	if (queues > DSIM_MAX_QUEUES)
		queues = DSIM_MAX_QUEUES;
	if (kicks == 0)
		queues = 0;
	else if (queues > kicks - 1)
		queues = kicks - 1; /* every queue needs a doorbell of its own */
	if (log2 > MYDSIM_MAX_LOG2)
		log2 = MYDSIM_MAX_LOG2;
	if (vectors > DSIM_MAX_QUEUES)
		vectors = DSIM_MAX_QUEUES; /* one per queue is all a queue can use */
	/* A ring of 2^log2 entries serves depth requests when 2 * depth + 2 <= 2^log2. */
	uint32_t depth = log2 >= 2 ? ((1u << log2) - 2) / 2 : 0;
	if (depth > DRV_QUEUE_MAX_DEPTH)
		depth = DRV_QUEUE_MAX_DEPTH;
	if (!queues || !depth || !vectors || !max_transfer)
		return drv_fail(-EIO,
				"mydsim: dsim at %s reports no usable queue (queues %u, doorbells "
				"%u, max log2 depth %u, vectors %u, max transfer %u)",
				where(dev), queues, kicks, log2, vectors, max_transfer);
	d->max_log2 = log2;
	d->vectors = vectors;

	info->hw_version = version;
	snprintf(info->model, sizeof(info->model), "mydsim on dsim %u.%u", version >> 16,
		 version & 0xffffu);
	info->capacity = drv_mmio_rd64(regs, DSIM_REG_CAPACITY);
	info->features = 0;
	if (info->capacity)
		info->features |= DRV_FEAT_STORAGE;
	if (features & DSIM_FEAT_ABORT)
		info->features |= DRV_FEAT_ABORT;
	if (features & DSIM_FEAT_PERSISTENT)
		info->features |= DRV_FEAT_PERSISTENT;
	info->max_queues = queues;
	info->max_queue_depth = depth;
	info->max_transfer = max_transfer;
	info->max_sg = 1; /* one data segment per request: no SG lists */
	return 0;
}

static int mydsim_probe(drv_dev *dev)
{
	if (!drv_dev_has_kick(dev))
		return drv_fail(
		    -EOPNOTSUPP,
		    "mydsim: %s has no bus doorbells; mydsim drives dsim on the sim bus "
		    "only (the built-in dsim driver handles the rest)",
		    where(dev));
	volatile void *regs;
	size_t len;
	int err = drv_dev_map_bar(dev, MYDSIM_BAR, &regs, &len);
	if (err)
		return err;
	if (len < DSIM_REG_PAGE_SIZE)
		return drv_fail(-ENODEV, "mydsim: register window of %s is %zu bytes, dsim has %u",
				where(dev), len, DSIM_REG_PAGE_SIZE);
	uint32_t magic = rd32(regs, DSIM_REG_MAGIC);
	uint32_t version = rd32(regs, DSIM_REG_VERSION);
	if (magic != DSIM_MAGIC)
		return drv_fail(-ENODEV, "mydsim: %s is not a dsim (magic %#x, expected %#x)",
				where(dev), magic, DSIM_MAGIC);
	if (version >> 16 != DSIM_VERSION >> 16)
		return drv_fail(-ENODEV, "mydsim: dsim at %s has version %u.%u, mydsim needs %u.x",
				where(dev), version >> 16, version & 0xffffu, DSIM_VERSION >> 16);

	struct mydsim *d = calloc(1, sizeof(*d));
	if (!d)
		return drv_fail(-ENOMEM, "mydsim: out of memory");
	d->regs = regs;
	struct drv_info info = *drv_dev_info(dev);
	err = reset(dev, regs);
	if (!err)
		err = describe(dev, d, &info);
	if (!err)
		err = enable(dev, regs);
	if (!err) {
		int n = drv_dev_irq_setup(dev, d->vectors);
		err = n < 0 ? n : 0;
	}
	if (err) {
		if (drv_dev_alive(dev) == 0)
			(void)reset_quiet(dev, regs); /* leaves the device disabled */
		free(d);
		return err;
	}
	drv_dev_set_info(dev, &info);
	drv_dev_set_priv(dev, d);
	return 0;
}

/* drv_close runs this before queue_destroy: after the reset no queue is enabled. */
static void mydsim_remove(drv_dev *dev)
{
	struct mydsim *d = drv_dev_priv(dev);
	if (!d)
		return;
	if (drv_dev_alive(dev) == 0)
		(void)reset_quiet(dev, d->regs);
	free(d);
	drv_dev_set_priv(dev, NULL);
}

static uint32_t qreg(const struct mydsim_queue *mq, uint32_t reg)
{
	return DSIM_REG_Q(mq->id, reg);
}

/* Disables the hardware queue and waits until the device let go of its rings. */
static void stop_queue(struct mydsim_queue *mq)
{
	wr32(mq->regs, qreg(mq, DSIM_Q_ENABLE), 0);
	admin_kick(mq->dev);
	(void)drv_dev_wait32(mq->dev, mq->regs, qreg(mq, DSIM_Q_QSTATUS), DSIM_QSTS_ENABLED, 0, 0,
			     MYDSIM_WAIT_NS);
}

static void free_queue(struct mydsim_queue *mq)
{
	drv_buf_free(mq->sq_buf);
	drv_buf_free(mq->cq_buf);
	free(mq);
}

static int start_queue(drv_queue *q, struct mydsim_queue *mq, unsigned log2)
{
	unsigned vectors = drv_dev_info(mq->dev)->irq_vectors;
	unsigned vector = vectors ? mq->id % vectors : 0;
	drv_queue_set_vector(q, vector);
	volatile void *regs = mq->regs;
	drv_mmio_wr64(regs, qreg(mq, DSIM_Q_SQ_BASE), drv_buf_bus(mq->sq_buf));
	drv_mmio_wr64(regs, qreg(mq, DSIM_Q_CQ_BASE), drv_buf_bus(mq->cq_buf));
	wr32(regs, qreg(mq, DSIM_Q_LOG2_SIZE), log2);
	wr32(regs, qreg(mq, DSIM_Q_VECTOR), vector);
	wr32(regs, qreg(mq, DSIM_Q_COAL_COUNT), 0);
	wr32(regs, qreg(mq, DSIM_Q_COAL_USEC), 0);
	/* Only an IRQ queue starts unmasked; the others unmask through irq_enable. */
	wr32(regs, qreg(mq, DSIM_Q_IRQ_MASK), drv_queue_options(q)->cmode != DRV_CMODE_IRQ);
	wr32(regs, qreg(mq, DSIM_Q_SQ_TAIL), 0);
	wr32(regs, qreg(mq, DSIM_Q_CQ_HEAD), 0);
	wr32(regs, qreg(mq, DSIM_Q_ENABLE), 1);
	admin_kick(mq->dev);
	int err = drv_dev_wait32(mq->dev, regs, qreg(mq, DSIM_Q_QSTATUS), DSIM_QSTS_ENABLED,
				 DSIM_QSTS_ENABLED, DSIM_QSTS_ERROR, MYDSIM_WAIT_NS);
	if (!err)
		return 0;
	uint32_t st = rd32(regs, qreg(mq, DSIM_Q_QSTATUS));
	if (err != -ENODEV)
		stop_queue(mq); /* an ERROR queue stays stopped until disabled */
	if (err == -EIO)
		return drv_fail(err, "mydsim: dsim refused queue %u (queue error %u)", mq->id,
				DSIM_QSTS_CODE(st));
	return drv_fail(err, "mydsim: dsim queue %u did not start (status %#x)", mq->id, st);
}

static int mydsim_queue_create(drv_queue *q)
{
	drv_dev *dev = drv_queue_dev(q);
	const struct mydsim *d = drv_dev_priv(dev);
	const struct drv_queue_opts *o = drv_queue_options(q);
	if (o->coalesce_count || o->coalesce_usec)
		return drv_fail(-EOPNOTSUPP, "mydsim does not coalesce interrupts: leave "
					     "coalesce_count and coalesce_usec at 0");
	if (o->device_poll)
		return drv_fail(-EOPNOTSUPP, "mydsim does not let the device poll its rings: "
					     "leave device_poll at 0");
	unsigned depth = drv_queue_depth(q);
	uint32_t size = drv_sq_ring_size(depth);
	unsigned log2 = 1;
	while ((1u << log2) < size)
		log2++;
	if (drv_queue_id(q) >= DSIM_MAX_QUEUES || log2 > d->max_log2)
		return drv_fail(-EINVAL, "mydsim: queue %u of depth %u does not fit this dsim",
				drv_queue_id(q), depth);

	struct mydsim_queue *mq = calloc(1, sizeof(*mq));
	if (!mq)
		return drv_fail(-ENOMEM, "mydsim: out of memory for a queue");
	mq->dev = dev;
	mq->regs = d->regs;
	mq->id = drv_queue_id(q);
	mq->depth = depth;
	mq->can_abort = drv_dev_info(dev)->features & DRV_FEAT_ABORT;
	mq->ring.size = size;
	mq->phase = DSIM_CQE_F_PHASE; /* the device's first pass writes phase 1 */
	/* Zeroed memory: no completion entry carries phase 1 before the device writes it. */
	int err = drv_dev_dma_alloc(dev, (size_t)size * sizeof(struct dsim_sqe), MYDSIM_RING_ALIGN,
				    &mq->sq_buf);
	if (!err)
		err = drv_dev_dma_alloc(dev, (size_t)size * sizeof(struct dsim_cqe),
					MYDSIM_RING_ALIGN, &mq->cq_buf);
	if (!err) {
		mq->sq = drv_buf_addr(mq->sq_buf);
		mq->cq = drv_buf_addr(mq->cq_buf);
		err = start_queue(q, mq, log2);
	}
	if (err) {
		free_queue(mq);
		return err;
	}
	drv_queue_set_priv(q, mq);
	return 0;
}

static void mydsim_queue_destroy(drv_queue *q)
{
	struct mydsim_queue *mq = drv_queue_priv(q);
	if (!mq)
		return;
	/* After remove (drv_close) the device was reset; a gone device touches nothing. */
	if (drv_dev_priv(mq->dev) && drv_dev_alive(mq->dev) == 0)
		stop_queue(mq);
	free_queue(mq);
	drv_queue_set_priv(q, NULL);
}

static int dsim_opcode(uint8_t op)
{
	switch (op) {
	case DRV_OP_NOP:
		return DSIM_OP_NOP;
	case DRV_OP_READ:
		return DSIM_OP_READ;
	case DRV_OP_WRITE:
		return DSIM_OP_WRITE;
	}
	return -1;
}

static int mydsim_post(drv_queue *q, const struct drv_request *r)
{
	struct mydsim_queue *mq = drv_queue_priv(q);
	int opcode = dsim_opcode(r->op);
	if (opcode < 0)
		return drv_fail(-EOPNOTSUPP,
				"mydsim carries only NOP, READ and WRITE, not op %u: open the "
				"device with the dsim driver for the others",
				(unsigned)r->op);
	if (r->nseg > 1)
		return drv_fail(-E2BIG, "mydsim takes one data segment per request, not %u",
				r->nseg);
	bool data = opcode != DSIM_OP_NOP;
	if (data != (r->nseg == 1) || (data && r->seg[0].len != r->len))
		return drv_fail(-EINVAL, "mydsim: request of %u bytes with %u data segment(s)",
				r->len, r->nseg);
	if (!drv_sq_room(&mq->ring))
		return -EAGAIN; /* cannot happen with the ring sized by drv_sq_ring_size */
	mq->sq[drv_sq_index(&mq->ring)] = (struct dsim_sqe){
		.opcode = (uint8_t)opcode,
		.tag = r->tag,
		.offset = data ? r->offset : 0,
		.length = data ? r->len : 0,
		.addr = data ? r->seg[0].bus : 0,
	};
	drv_sq_push(&mq->ring);
	return 0;
}

/* The tail store releases the entries written before it; then the queue's doorbell. */
static void publish(struct mydsim_queue *mq)
{
	wr32(mq->regs, qreg(mq, DSIM_Q_SQ_TAIL), drv_sq_index(&mq->ring));
	(void)drv_dev_kick(mq->dev, DSIM_KICK_QUEUE(mq->id));
}

static unsigned mydsim_commit(drv_queue *q)
{
	publish(drv_queue_priv(q));
	return 1;
}

static int mydsim_abort(drv_queue *q, const struct drv_request *r)
{
	struct mydsim_queue *mq = drv_queue_priv(q);
	if (!mq->can_abort)
		return -EOPNOTSUPP;
	if (!drv_sq_room_for_abort(&mq->ring, mq->depth))
		return -EAGAIN;
	mq->sq[drv_sq_index(&mq->ring)] = (struct dsim_sqe){
		.opcode = DSIM_OP_ABORT,
		.tag = drv_driver_tag(drv_request_index(r)),
		.abort_tag = r->tag,
	};
	drv_sq_push(&mq->ring);
	publish(mq); /* libdrv commits only after posts */
	return 0;
}

static int status_errno(uint16_t status)
{
	switch (status) {
	case DSIM_SC_SUCCESS:
		return 0;
	case DSIM_SC_INVALID_OPCODE:
		return -EOPNOTSUPP;
	case DSIM_SC_INVALID_FIELD:
		return -EINVAL;
	case DSIM_SC_OUT_OF_RANGE:
		return -ERANGE;
	case DSIM_SC_DMA_ERROR:
		return -EFAULT;
	case DSIM_SC_ABORTED:
		return -ECANCELED;
	case DSIM_SC_TOO_LARGE:
		return -E2BIG;
	}
	return -EIO;
}

/* An empty completion ring: fine, unless the device or the queue stopped. */
static int check_stopped(const struct mydsim_queue *mq)
{
	uint32_t sts = rd32(mq->regs, DSIM_REG_STATUS);
	if (sts & DSIM_STS_FATAL)
		return drv_fail(-EIO, "mydsim: dsim stopped with fatal error %u: reopen it",
				DSIM_STS_CODE(sts));
	uint32_t qs = rd32(mq->regs, qreg(mq, DSIM_Q_QSTATUS));
	if (qs & DSIM_QSTS_ERROR)
		return drv_fail(-EIO, "mydsim: dsim stopped queue %u with error %u", mq->id,
				DSIM_QSTS_CODE(qs));
	return 0;
}

static int mydsim_reap(drv_queue *q, unsigned budget)
{
	struct mydsim_queue *mq = drv_queue_priv(q);
	uint32_t mask = mq->ring.size - 1;
	unsigned n = 0;
	while (n < budget) {
		const struct dsim_cqe *c = &mq->cq[mq->cq_head & mask];
		/* The device writes the status/flags word last, with release. */
		uint16_t flags = __atomic_load_n(&c->flags, __ATOMIC_ACQUIRE);
		if ((flags & DSIM_CQE_F_PHASE) != mq->phase)
			break;
		uint32_t tag = c->tag;
		int status = status_errno(c->status);
		uint32_t result = c->result;
		/* First the ring head: the completed request's entry is known consumed. */
		drv_sq_consumed(&mq->ring, c->sq_head);
		if ((++mq->cq_head & mask) == 0)
			mq->phase ^= DSIM_CQE_F_PHASE;
		n++;
		if (drv_tag_is_driver(tag))
			continue; /* an ABORT's own completion; its target completes on its own */
		/* A tag that matches no request is counted and ignored by libdrv. */
		(void)drv_queue_complete(q, tag, status, result, 0);
	}
	if (!n)
		return check_stopped(mq);
	wr32(mq->regs, qreg(mq, DSIM_Q_CQ_HEAD), mq->cq_head & mask);
	return (int)n;
}

static bool mydsim_irq_enable(drv_queue *q, bool on)
{
	struct mydsim_queue *mq = drv_queue_priv(q);
	wr32(mq->regs, qreg(mq, DSIM_Q_IRQ_MASK), on ? 0 : 1);
	if (!on)
		return false;
	/* The device posts, fences, reads IRQ_MASK; we unmask, fence, look: one sees the other. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	const struct dsim_cqe *c = &mq->cq[mq->cq_head & (mq->ring.size - 1)];
	return (__atomic_load_n(&c->flags, __ATOMIC_ACQUIRE) & DSIM_CQE_F_PHASE) == mq->phase;
}

const struct drv_driver mydsim_driver = {
	DRV_DRIVER_INIT,
	.name = "mydsim",
	.ids = NULL, /* by name only: drv_open() keeps choosing the built-in dsim */
	.probe = mydsim_probe,
	.remove = mydsim_remove,
	.queue_create = mydsim_queue_create,
	.queue_destroy = mydsim_queue_destroy,
	.post = mydsim_post,
	.commit = mydsim_commit,
	.reap = mydsim_reap,
	.abort = mydsim_abort,
	.irq_enable = mydsim_irq_enable,
};

DRV_DRIVER_REGISTER(mydsim_driver);
