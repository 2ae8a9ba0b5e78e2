/* SPDX-License-Identifier: MIT */
/*
 * Driver for dsim, the simulated ring device (devsim/include/devsim/dsim_hw.h).
 * Each libdrv queue owns one hardware queue: a submission ring of 64-byte
 * entries and a completion ring of 16-byte entries with a phase bit. The
 * submission ring carries requests and ABORTs and is sized and filled by
 * the ring rules of drv/driver.h, so a request always finds room and no entry
 * is written before the device consumed the one there (learnt from the
 * SQ head each completion carries). The device never
 * overruns the completion ring: it fetches only while it can reserve a
 * completion entry for what it fetches (docs/dsim.md).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <devsim/dsim_hw.h>
#include <drv/driver.h>
#include <drv/mmio.h>

#define REGISTER_WAIT_NS 2000000000ull
#define REGISTER_BAR 2        /* the register page: ivshmem's shared memory BAR */
#define IVSHMEM_DOORBELL 0x0c /* BAR0 register: write (peer << 16) | vector */

/* Request ops go into SQEs and device features into drv_info unchanged. */
#define SAME_OP(op) ((int)DRV_OP_##op == (int)DSIM_OP_##op)
_Static_assert(SAME_OP(NOP) && SAME_OP(READ) && SAME_OP(WRITE) && SAME_OP(FLUSH) &&
		   SAME_OP(CONTROL) && SAME_OP(WAIT_EVENT),
	       "DRV_OP_* must equal DSIM_OP_*");
#undef SAME_OP
_Static_assert(DRV_FEAT_SGL == DSIM_FEAT_SGL && DRV_FEAT_EVENTS == DSIM_FEAT_EVENTS &&
		   DRV_FEAT_ABORT == DSIM_FEAT_ABORT && DRV_FEAT_COALESCE == DSIM_FEAT_COALESCE &&
		   DRV_FEAT_PERSISTENT == DSIM_FEAT_PERSISTENT &&
		   DRV_FEAT_DEVICE_POLL == DSIM_FEAT_DEVICE_POLL,
	       "DRV_FEAT_* must equal DSIM_FEAT_* for the features dsim reports");
#define DSIM_FEATURES_MIRRORED                                                                     \
	(DSIM_FEAT_SGL | DSIM_FEAT_EVENTS | DSIM_FEAT_ABORT | DSIM_FEAT_COALESCE |                 \
	 DSIM_FEAT_PERSISTENT | DSIM_FEAT_DEVICE_POLL)

struct dsim {
	drv_dev *dev;
	volatile uint8_t *regs;
	/* Without bus doorbells (PCI, ivshmem-doorbell): BAR0's doorbell register, devsim's peer.
	 */
	bool bus_kick;
	volatile uint32_t *doorbell;
	uint32_t doorbell_peer;
	pthread_mutex_t poll_lock; /* queues are created and destroyed from any thread */
	unsigned poll_refs;        /* queues that asked the device to poll */
};

/* A slot's SG list, when requests may carry more than one segment. */
struct dsim_sgl {
	drv_buf *buf;
	struct dsim_sge *sge;
	uint64_t bus;
};

struct dsim_queue {
	struct dsim *d;
	unsigned id, depth;
	drv_buf *sq, *cq;
	struct dsim_sqe *sqe;
	struct dsim_cqe *cqe;
	struct dsim_sgl *sgl; /* one per slot, or NULL */
	struct drv_sq_ring ring;
	uint32_t mask; /* of both rings, which have the same size */
	uint32_t cq_head;
	uint16_t phase;
};

static uint32_t rd32(const struct dsim *d, unsigned off)
{
	return drv_mmio_rd32(d->regs, off);
}

static uint64_t rd64(const struct dsim *d, unsigned off)
{
	return drv_mmio_rd64(d->regs, off);
}

static void wr32(struct dsim *d, unsigned off, uint32_t v)
{
	drv_mmio_wr32(d->regs, off, v);
}

static void wr64(struct dsim *d, unsigned off, uint64_t v)
{
	drv_mmio_wr64(d->regs, off, v);
}

static const char *address(const struct dsim *d)
{
	return drv_dev_info(d->dev)->address;
}

static void kick(struct dsim *d, unsigned vector)
{
	if (d->bus_kick)
		(void)drv_dev_kick(d->dev, vector);
	else
		__atomic_store_n(d->doorbell, d->doorbell_peer << 16 | vector, __ATOMIC_RELEASE);
}

/* On PCI the device is reached through ivshmem-doorbell: BAR0 holds the doorbell. */
static int map_doorbell(struct dsim *d)
{
	volatile void *va;
	size_t len;
	d->bus_kick = drv_dev_has_kick(d->dev);
	if (d->bus_kick)
		return 0;
	int err = drv_dev_map_bar(d->dev, 0, &va, &len);
	if (!err && len < IVSHMEM_DOORBELL + 4)
		err = drv_fail(-ENODEV, "BAR0 of %s is too small for an ivshmem doorbell",
			       address(d));
	if (err)
		return err;
	d->doorbell = (volatile uint32_t *)((volatile uint8_t *)va + IVSHMEM_DOORBELL);
	d->doorbell_peer = rd32(d, DSIM_REG_DOORBELL_PEER);
	return 0;
}

struct reg_wait {
	struct dsim *d;
	unsigned off;
	uint32_t mask, want, fail;
	bool stop_on_fatal;
};

static int reg_reached(void *arg)
{
	const struct reg_wait *w = arg;
	uint32_t v = rd32(w->d, w->off);
	if ((v & w->mask) == w->want)
		return 1;
	if ((v & w->fail) || (w->stop_on_fatal && (rd32(w->d, DSIM_REG_STATUS) & DSIM_STS_FATAL)))
		return -EIO;
	return 0;
}

/*
 * Waits until (reg & mask) == want, up to REGISTER_WAIT_NS. A device that
 * cannot get there says so at once: -EIO when the register shows one of
 * the `fail` bits or, with stop_on_fatal, STATUS shows FATAL; -ENODEV when
 * the bus reports the device gone. Only silence is -ETIMEDOUT.
 */
static int wait_reg(struct dsim *d, unsigned off, uint32_t mask, uint32_t want, uint32_t fail,
		    bool stop_on_fatal)
{
	struct reg_wait w = { d, off, mask, want, fail, stop_on_fatal };
	int rc = drv_dev_poll(d->dev, reg_reached, &w, REGISTER_WAIT_NS);
	return rc == 1 ? 0 : rc;
}

static int reset(struct dsim *d)
{
	wr32(d, DSIM_REG_CONTROL, DSIM_CTRL_RESET);
	kick(d, DSIM_KICK_ADMIN);
	int err = wait_reg(d, DSIM_REG_CONTROL, DSIM_CTRL_RESET, 0, 0, false);
	if (err == -ENODEV)
		return drv_fail(err, "dsim at %s went away during its reset", address(d));
	if (err)
		return drv_fail(err, "dsim at %s did not finish its reset: is devsim running?",
				address(d));
	return 0;
}

static int enable(struct dsim *d)
{
	wr32(d, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	kick(d, DSIM_KICK_ADMIN);
	int err =
	    wait_reg(d, DSIM_REG_STATUS, DSIM_STS_READY, DSIM_STS_READY, DSIM_STS_FATAL, false);
	uint32_t sts = rd32(d, DSIM_REG_STATUS);
	if (err == -EIO)
		return drv_fail(err, "dsim at %s stopped with fatal error %u while enabling: %s",
				address(d), DSIM_STS_CODE(sts),
				DSIM_STS_CODE(sts) == DSIM_FATAL_INTERNAL
				    ? "check its storage (devsim's messages say more)"
				    : "restart devsim");
	if (err == -ENODEV)
		return drv_fail(err, "dsim at %s went away while enabling", address(d));
	if (err)
		return drv_fail(err, "dsim at %s did not become ready (status %#x)", address(d),
				sts);
	return 0;
}

/* Everything the device says about itself is checked before it is believed. */
static int identify(struct dsim *d)
{
	uint32_t magic = rd32(d, DSIM_REG_MAGIC);
	uint32_t version = rd32(d, DSIM_REG_VERSION);
	if (magic != DSIM_MAGIC)
		return drv_fail(-ENODEV,
				"device at %s is not a dsim (magic %#x, expected %#x): check the "
				"address",
				address(d), magic, DSIM_MAGIC);
	if (version >> 16 != DSIM_VERSION >> 16)
		return drv_fail(-ENODEV, "dsim at %s speaks version %u.%u, this driver needs %u.x",
				address(d), version >> 16, version & 0xffff, DSIM_VERSION >> 16);
	struct drv_info info = *drv_dev_info(d->dev);
	info.hw_version = version;
	snprintf(info.model, sizeof(info.model), "dsim %u.%u", version >> 16, version & 0xffff);
	info.features = rd64(d, DSIM_REG_FEATURES) & DSIM_FEATURES_MIRRORED;
	info.capacity = rd64(d, DSIM_REG_CAPACITY);
	if (info.capacity)
		info.features |= DRV_FEAT_STORAGE;
	uint32_t nq = rd32(d, DSIM_REG_NUM_QUEUES);
	info.max_queues = nq < DSIM_MAX_QUEUES ? nq : DSIM_MAX_QUEUES;
	uint32_t log2 = rd32(d, DSIM_REG_MAX_LOG2_DEPTH);
	if (log2 > 16)
		log2 = 16;
	/* drv_sq_ring_size(): a ring of 2^log2 entries serves (2^log2 - 2) / 2 requests. */
	info.max_queue_depth = log2 ? ((1u << log2) - 2) / 2 : 0;
	info.max_transfer = rd32(d, DSIM_REG_MAX_TRANSFER);
	info.max_sg = rd32(d, DSIM_REG_MAX_SG);
	if (info.max_sg > 1024)
		info.max_sg = 1024;
	if (!info.max_queues || !info.max_queue_depth || !info.max_transfer)
		return drv_fail(-EIO, "dsim at %s reports no usable queues", address(d));
	drv_dev_set_info(d->dev, &info);
	return 0;
}

static int map_registers(struct dsim *d)
{
	volatile void *va;
	size_t len;
	int err = drv_dev_map_bar(d->dev, REGISTER_BAR, &va, &len);
	if (err)
		return err;
	if (len < DSIM_REG_PAGE_SIZE)
		return drv_fail(-ENODEV, "register window of %zu bytes is too small for dsim", len);
	d->regs = (volatile uint8_t *)va;
	return 0;
}

static int dsim_probe(drv_dev *dev)
{
	struct dsim *d = calloc(1, sizeof(*d));
	if (!d)
		return drv_fail(-ENOMEM, "out of memory probing dsim");
	d->dev = dev;
	pthread_mutex_init(&d->poll_lock, NULL);
	int err = map_registers(d);
	if (!err)
		err = identify(d);
	if (!err)
		err = map_doorbell(d);
	if (!err)
		err = reset(d);
	if (!err)
		err = enable(d);
	if (!err) {
		int n = drv_dev_irq_setup(dev, rd32(d, DSIM_REG_NUM_VECTORS));
		err = n < 0 ? n : 0;
	}
	if (err) {
		pthread_mutex_destroy(&d->poll_lock);
		free(d);
		return err;
	}
	drv_dev_set_priv(dev, d);
	return 0;
}

static void dsim_remove(drv_dev *dev)
{
	struct dsim *d = drv_dev_priv(dev);
	if (!d)
		return;
	if (drv_dev_alive(dev) == 0)
		(void)reset(d);
	pthread_mutex_destroy(&d->poll_lock);
	free(d);
	/* Queues destroyed after this touch no registers. */
	drv_dev_set_priv(dev, NULL);
}

static void set_device_poll(struct dsim *d, bool on)
{
	pthread_mutex_lock(&d->poll_lock);
	if (!(on ? d->poll_refs++ : --d->poll_refs)) {
		wr32(d, DSIM_REG_POLL_MODE, on);
		kick(d, DSIM_KICK_ADMIN);
	}
	pthread_mutex_unlock(&d->poll_lock);
}

static void free_rings(struct dsim_queue *dq)
{
	if (dq->sgl)
		for (unsigned i = 0; i < dq->depth; i++)
			drv_buf_free(dq->sgl[i].buf);
	free(dq->sgl);
	drv_buf_free(dq->sq);
	drv_buf_free(dq->cq);
	free(dq);
}

static int alloc_rings(drv_queue *q, struct dsim_queue *dq, uint32_t size)
{
	drv_dev *dev = drv_queue_dev(q);
	int err = drv_dev_dma_alloc(dev, size * sizeof(struct dsim_sqe), 4096, &dq->sq);
	if (!err)
		err = drv_dev_dma_alloc(dev, size * sizeof(struct dsim_cqe), 4096, &dq->cq);
	if (err)
		return err;
	dq->sqe = drv_buf_addr(dq->sq);
	dq->cqe = drv_buf_addr(dq->cq);
	unsigned max_sg = drv_queue_max_sg(q);
	if (max_sg <= 1)
		return 0;
	dq->sgl = calloc(dq->depth, sizeof(*dq->sgl));
	if (!dq->sgl)
		return drv_fail(-ENOMEM, "out of memory for SG lists");
	for (unsigned i = 0; i < dq->depth && !err; i++) {
		struct dsim_sgl *l = &dq->sgl[i];
		err = drv_dev_dma_alloc(dev, max_sg * sizeof(struct dsim_sge), 64, &l->buf);
		if (!err) {
			l->sge = drv_buf_addr(l->buf);
			l->bus = drv_buf_bus(l->buf);
		}
	}
	return err;
}

static const char *queue_error_name(unsigned code)
{
	switch (code) {
	case DSIM_QERR_BAD_CONFIG:
		return "bad ring size, vector or alignment";
	case DSIM_QERR_BAD_TAIL:
		return "SQ tail outside the ring";
	case DSIM_QERR_BAD_HEAD:
		return "CQ head outside the ring";
	case DSIM_QERR_RING_DMA:
		return "ring outside the DMA windows";
	}
	return "unknown error";
}

static int enable_queue(drv_queue *q, struct dsim_queue *dq, unsigned log2)
{
	struct dsim *d = dq->d;
	const struct drv_queue_opts *o = drv_queue_options(q);
	unsigned id = dq->id;
	uint32_t vectors = drv_dev_info(d->dev)->irq_vectors;
	unsigned vector = vectors ? id % vectors : 0;
	drv_queue_set_vector(q, vector);
	wr64(d, DSIM_REG_Q(id, DSIM_Q_SQ_BASE), drv_buf_bus(dq->sq));
	wr64(d, DSIM_REG_Q(id, DSIM_Q_CQ_BASE), drv_buf_bus(dq->cq));
	wr32(d, DSIM_REG_Q(id, DSIM_Q_LOG2_SIZE), log2);
	wr32(d, DSIM_REG_Q(id, DSIM_Q_VECTOR), vector);
	wr32(d, DSIM_REG_Q(id, DSIM_Q_COAL_COUNT), o->coalesce_count);
	wr32(d, DSIM_REG_Q(id, DSIM_Q_COAL_USEC), o->coalesce_usec);
	wr32(d, DSIM_REG_Q(id, DSIM_Q_IRQ_MASK), o->cmode != DRV_CMODE_IRQ);
	wr32(d, DSIM_REG_Q(id, DSIM_Q_SQ_TAIL), 0);
	wr32(d, DSIM_REG_Q(id, DSIM_Q_CQ_HEAD), 0);
	wr32(d, DSIM_REG_Q(id, DSIM_Q_ENABLE), 1);
	kick(d, DSIM_KICK_ADMIN);
	unsigned reg = DSIM_REG_Q(id, DSIM_Q_QSTATUS);
	int err = wait_reg(d, reg, DSIM_QSTS_ENABLED, DSIM_QSTS_ENABLED, DSIM_QSTS_ERROR, true);
	uint32_t st = rd32(d, reg);
	uint32_t sts = rd32(d, DSIM_REG_STATUS);
	if (err == -EIO && (st & DSIM_QSTS_ERROR))
		return drv_fail(err, "dsim refused queue %u with error code %u (%s)", id,
				DSIM_QSTS_CODE(st), queue_error_name(DSIM_QSTS_CODE(st)));
	if (err == -EIO)
		return drv_fail(err, "dsim stopped with fatal error %u while starting queue %u",
				DSIM_STS_CODE(sts), id);
	if (err == -ENODEV)
		return drv_fail(err, "dsim went away while starting queue %u", id);
	if (err)
		return drv_fail(err, "dsim queue %u did not start (status %#x)", id, st);
	return 0;
}

static int dsim_queue_create(drv_queue *q)
{
	drv_dev *dev = drv_queue_dev(q);
	const struct drv_info *info = drv_dev_info(dev);
	const struct drv_queue_opts *o = drv_queue_options(q);
	if ((o->coalesce_count || o->coalesce_usec) && !(info->features & DRV_FEAT_COALESCE))
		return drv_fail(-EOPNOTSUPP, "this dsim has no interrupt coalescing");
	if (o->device_poll && !(info->features & DRV_FEAT_DEVICE_POLL))
		return drv_fail(-EOPNOTSUPP, "this dsim cannot poll its rings (device_poll)");
	struct dsim_queue *dq = calloc(1, sizeof(*dq));
	if (!dq)
		return drv_fail(-ENOMEM, "out of memory creating a dsim queue");
	dq->d = drv_dev_priv(dev);
	dq->id = drv_queue_id(q);
	dq->depth = drv_queue_depth(q);
	uint32_t size = drv_sq_ring_size(dq->depth);
	unsigned log2 = 0;
	while ((1u << log2) < size)
		log2++;
	dq->ring.size = size;
	dq->mask = size - 1;
	dq->phase = DSIM_CQE_F_PHASE;
	int err = alloc_rings(q, dq, size);
	if (!err)
		err = enable_queue(q, dq, log2);
	if (err) {
		free_rings(dq);
		return err;
	}
	drv_queue_set_priv(q, dq);
	if (o->device_poll)
		set_device_poll(dq->d, true);
	return 0;
}

/* On drv_close this runs after remove(): the device is reset and dsim gone. */
static void dsim_queue_destroy(drv_queue *q)
{
	drv_dev *dev = drv_queue_dev(q);
	struct dsim *d = drv_dev_priv(dev);
	struct dsim_queue *dq = drv_queue_priv(q);
	if (d && drv_dev_alive(dev) == 0) {
		wr32(d, DSIM_REG_Q(dq->id, DSIM_Q_ENABLE), 0);
		kick(d, DSIM_KICK_ADMIN);
		(void)wait_reg(d, DSIM_REG_Q(dq->id, DSIM_Q_QSTATUS), DSIM_QSTS_ENABLED, 0, 0,
			       true);
		if (drv_queue_options(q)->device_poll)
			set_device_poll(d, false);
	}
	free_rings(dq);
	drv_queue_set_priv(q, NULL);
}

/* Fills the ring entry in place: every field is written once, no copy. */
static int dsim_post(drv_queue *q, const struct drv_request *rq)
{
	struct dsim_queue *dq = drv_queue_priv(q);
	if (!drv_sq_room(&dq->ring))
		return -EAGAIN; /* only a device that stopped fetching gets here */
	struct dsim_sqe *e = &dq->sqe[drv_sq_index(&dq->ring)];
	e->opcode = rq->op;
	e->flags = 0;
	e->sg_count = 0;
	e->tag = rq->tag;
	e->offset = rq->offset;
	e->length = rq->len;
	e->code = rq->code;
	e->addr = rq->nseg ? rq->seg[0].bus : 0;
	e->in_addr = rq->in.bus;
	e->in_length = rq->in.len;
	e->abort_tag = 0;
	e->arg[0] = rq->arg[0];
	e->arg[1] = rq->arg[1];
	if (rq->nseg > 1) {
		const struct dsim_sgl *list = &dq->sgl[drv_request_index(rq)];
		for (unsigned i = 0; i < rq->nseg; i++)
			list->sge[i] =
			    (struct dsim_sge){ .addr = rq->seg[i].bus, .length = rq->seg[i].len };
		e->flags = DSIM_SQE_F_SGL;
		e->sg_count = (uint16_t)rq->nseg;
		e->addr = list->bus;
	}
	drv_sq_push(&dq->ring);
	return 0;
}

static unsigned commit(struct dsim_queue *dq)
{
	struct dsim *d = dq->d;
	wr32(d, DSIM_REG_Q(dq->id, DSIM_Q_SQ_TAIL), drv_sq_index(&dq->ring));
	/* The tail store must be visible before we read whether the device polls. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (rd32(d, DSIM_REG_DEVICE_POLLING))
		return 0;
	kick(d, DSIM_KICK_QUEUE(dq->id));
	return 1;
}

static unsigned dsim_commit(drv_queue *q)
{
	return commit(drv_queue_priv(q));
}

/*
 * An ABORT can outlive its target (the device finishes the request before
 * it fetches the ABORT; the slot is reused and cancelled again), so aborts
 * are limited by room in the ring, not by slots (drv/driver.h).
 */
static int dsim_abort(drv_queue *q, const struct drv_request *rq)
{
	struct dsim_queue *dq = drv_queue_priv(q);
	if (!(drv_dev_info(drv_queue_dev(q))->features & DRV_FEAT_ABORT))
		return -EOPNOTSUPP;
	if (!drv_sq_room_for_abort(&dq->ring, dq->depth))
		return -EAGAIN;
	dq->sqe[drv_sq_index(&dq->ring)] = (struct dsim_sqe){
		.opcode = DSIM_OP_ABORT,
		.tag = drv_driver_tag(drv_request_index(rq)),
		.abort_tag = rq->tag,
	};
	drv_sq_push(&dq->ring);
	commit(dq);
	return 0;
}

static int translate(uint16_t status)
{
	switch (status) {
	case DSIM_SC_SUCCESS:
		return 0;
	case DSIM_SC_INVALID_OPCODE:
	case DSIM_SC_INVALID_CODE:
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
	default:
		return -EIO;
	}
}

/* Nothing new on the ring: is that because the queue or device stopped? */
static int check_health(struct dsim_queue *dq)
{
	struct dsim *d = dq->d;
	uint32_t sts = rd32(d, DSIM_REG_STATUS);
	if (sts & DSIM_STS_FATAL)
		return drv_fail(-EIO, "dsim stopped with fatal error %u: drv_reset() resets it",
				DSIM_STS_CODE(sts));
	uint32_t qs = rd32(d, DSIM_REG_Q(dq->id, DSIM_Q_QSTATUS));
	if (qs & DSIM_QSTS_ERROR)
		return drv_fail(-EIO, "dsim queue %u stopped with error %u (%s)", dq->id,
				DSIM_QSTS_CODE(qs), queue_error_name(DSIM_QSTS_CODE(qs)));
	return 0;
}

static int dsim_reap(drv_queue *q, unsigned budget)
{
	struct dsim_queue *dq = drv_queue_priv(q);
	unsigned n = 0;
	uint32_t head = dq->cq_head;
	bool internal = false;
	while (n < budget) {
		struct dsim_cqe *c = &dq->cqe[head & dq->mask];
		uint16_t flags = __atomic_load_n(&c->flags, __ATOMIC_ACQUIRE);
		if ((flags & DSIM_CQE_F_PHASE) != dq->phase)
			break;
		uint32_t tag = c->tag;
		uint16_t status = c->status;
		uint32_t result = c->result;
		drv_sq_consumed(&dq->ring, c->sq_head);
		head++;
		if ((head & dq->mask) == 0)
			dq->phase ^= DSIM_CQE_F_PHASE;
		n++;
		if (drv_tag_is_driver(tag))
			continue; /* an ABORT's own completion: the target reports separately */
		uint32_t rf = flags & DSIM_CQE_F_TRUNCATED ? DRV_RESULT_TRUNCATED : 0;
		internal |= status == DSIM_SC_INTERNAL;
		(void)drv_queue_complete(q, tag, status ? translate(status) : 0, result, rf);
	}
	if (n) {
		dq->cq_head = head;
		wr32(dq->d, DSIM_REG_Q(dq->id, DSIM_Q_CQ_HEAD), head & dq->mask);
	}
	/*
	 * Nothing new: did the queue or the device stop? An internal error may
	 * have stopped the device (2.1): then what else is pending fails now,
	 * not when the ring next reads empty.
	 */
	if (!n || internal) {
		int err = check_health(dq);
		if (err)
			return err;
	}
	return (int)n;
}

static bool dsim_irq_enable(drv_queue *q, bool on)
{
	struct dsim_queue *dq = drv_queue_priv(q);
	wr32(dq->d, DSIM_REG_Q(dq->id, DSIM_Q_IRQ_MASK), !on);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!on)
		return false;
	const struct dsim_cqe *c = &dq->cqe[dq->cq_head & dq->mask];
	return (__atomic_load_n(&c->flags, __ATOMIC_ACQUIRE) & DSIM_CQE_F_PHASE) == dq->phase;
}

/* devsim's own id, also the one the sim bus reports. */
static const struct drv_pci_id dsim_ids[] = { { DSIM_PCI_VENDOR, DSIM_PCI_DEVICE, 0, 0 }, { 0 } };

const struct drv_driver dsim_driver = {
	DRV_DRIVER_INIT,
	.name = "dsim",
	.ids = dsim_ids,
	/* Behind ivshmem, devsim on the host writes guest RAM by physical address. */
	.flags = DRV_DRIVER_DMA_PHYSICAL,
	.probe = dsim_probe,
	.remove = dsim_remove,
	.queue_create = dsim_queue_create,
	.queue_destroy = dsim_queue_destroy,
	.post = dsim_post,
	.commit = dsim_commit,
	.reap = dsim_reap,
	.abort = dsim_abort,
	.irq_enable = dsim_irq_enable,
};
