/* SPDX-License-Identifier: MIT */
/*
 * Driver for QEMU's educational PCI device (`-device edu`), see edu_regs.h.
 *
 * edu does one thing at a time and has no request ring, so the ring lives
 * here: posted requests wait in a fixed FIFO (sized at queue creation) and
 * the one at its head runs on the device. Each completion, found from the
 * interrupt status (or, without interrupts, from the busy bits), finishes
 * the head and starts the next: a list of pending IRPs driven by the
 * completion DPC. Requests that need no device time (identity, liveness,
 * raise, NOP, FLUSH) finish when they reach the head, so order is kept.
 * WAIT_EVENT requests are parked apart and finished by raised interrupts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <drv/driver.h>
#include <drv/edu.h>
#include <drv/mmio.h>

#include "edu_regs.h"

#define EDU_EVENT_BACKLOG 16
/* Longest a transfer may take in wall-clock time: 50 times its virtual time on a slow emulator. */
#define EDU_QUIESCE_NS (50ull * EDU_DMA_TIME_MS * 1000 * 1000)

struct edu_dev {
	volatile uint8_t *bar;
};

/* A ring of slot pointers; capacity fixed at queue creation. */
struct edu_ring {
	const struct drv_request **slot;
	unsigned cap, head, count;
};

enum edu_busy {
	EDU_IDLE = 0,
	EDU_BUSY_DMA,
	EDU_BUSY_FACT,
};

struct edu_queue {
	struct edu_ring fifo;   /* posted requests in order; the head may be running */
	unsigned ready;         /* leading FIFO entries published by commit */
	enum edu_busy busy;     /* what the FIFO head is doing on the device */
	struct edu_ring parked; /* WAIT_EVENT requests */
	uint32_t irq_seen;      /* EDU_IRQ_FACT/DMA bits acknowledged, not yet consumed */
	uint32_t backlog[EDU_EVENT_BACKLOG]; /* raised values nobody waited for yet */
	unsigned backlog_head, backlog_count;
	bool use_irq; /* ask the device for completion interrupts */
};

static struct edu_dev *edu_of(const drv_queue *q)
{
	return drv_dev_priv(drv_queue_dev(q));
}

static uint32_t rd(const struct edu_dev *e, unsigned reg)
{
	return drv_mmio_rd32(e->bar, reg);
}

static void wr(const struct edu_dev *e, unsigned reg, uint32_t val)
{
	drv_mmio_wr32(e->bar, reg, val);
}

/* ---- FIFO of slots ------------------------------------------------------ */

static void ring_push(struct edu_ring *r, const struct drv_request *rq)
{
	r->slot[(r->head + r->count++) % r->cap] = rq;
}

static const struct drv_request *ring_at(const struct edu_ring *r, unsigned i)
{
	return r->slot[(r->head + i) % r->cap];
}

static const struct drv_request *ring_pop(struct edu_ring *r)
{
	const struct drv_request *rq = r->slot[r->head];
	r->head = (r->head + 1) % r->cap;
	r->count--;
	return rq;
}

/* Removes entry i, keeping the order of the others. */
static void ring_remove(struct edu_ring *r, unsigned i)
{
	for (; i + 1 < r->count; i++)
		r->slot[(r->head + i) % r->cap] = r->slot[(r->head + i + 1) % r->cap];
	r->count--;
}

static int ring_find(const struct edu_ring *r, const struct drv_request *rq)
{
	for (unsigned i = 0; i < r->count; i++)
		if (ring_at(r, i) == rq)
			return (int)i;
	return -1;
}

/* ---- Request checks (before anything reaches the device) ----------------- */

/*
 * Length and range were checked by libdrv against max_transfer and
 * capacity (both EDU_BUF_USABLE); what is left is edu's own DMA limits.
 */
static int check_transfer(const struct drv_request *rq)
{
	if (rq->nseg != 1)
		return drv_fail(-EINVAL,
				"edu has no scatter-gather: the data must be one bus-contiguous "
				"range (it is %u)",
				rq->nseg);
	uint64_t last = rq->seg[0].bus + rq->seg[0].len - 1;
	if (rq->seg[0].len != rq->len || last > EDU_DMA_MASK || last < rq->seg[0].bus)
		return drv_fail(-EINVAL,
				"edu reaches only bus addresses below 256 MiB, the buffer ends at "
				"0x%llx: allocate it with drv_buf_alloc on this device",
				(unsigned long long)last);
	return 0;
}

static int check_value(uint64_t v, const char *what)
{
	if (v > UINT32_MAX)
		return drv_fail(-EINVAL, "edu %s takes a 32-bit value in arg[0], got 0x%llx", what,
				(unsigned long long)v);
	return 0;
}

static int check_control(const struct drv_request *rq)
{
	switch (rq->code) {
	case EDU_CTL_IDENTITY:
		return 0;
	case EDU_CTL_LIVENESS:
		return check_value(rq->arg[0], "LIVENESS");
	case EDU_CTL_FACTORIAL:
		return check_value(rq->arg[0], "FACTORIAL");
	case EDU_CTL_RAISE:
		if (rq->arg[0] == 0 || rq->arg[0] > UINT32_MAX ||
		    (rq->arg[0] & ~EDU_IRQ_EVENT_MASK))
			return drv_fail(-EINVAL,
					"edu RAISE value 0x%llx: give a non-zero 32-bit value "
					"without bits 0x1 and 0x100 (the device's own)",
					(unsigned long long)rq->arg[0]);
		return 0;
	default:
		return drv_fail(-EOPNOTSUPP, "edu has no control code %u (see drv/edu.h)",
				rq->code);
	}
}

static int check(const struct drv_request *rq)
{
	switch (rq->op) {
	case DRV_OP_NOP:
	case DRV_OP_FLUSH:
		return 0;
	case DRV_OP_READ:
	case DRV_OP_WRITE:
		return check_transfer(rq);
	case DRV_OP_CONTROL:
		return check_control(rq);
	case DRV_OP_WAIT_EVENT:
		if (rq->len < sizeof(uint32_t))
			return drv_fail(-EINVAL, "edu events are a 32-bit value: WAIT_EVENT needs "
						 "a buffer of at least 4 bytes");
		return 0;
	default:
		return drv_fail(-EOPNOTSUPP, "edu does not support request op %u", rq->op);
	}
}

/* ---- Running requests ------------------------------------------------------ */

static void start_dma(struct edu_dev *e, struct edu_queue *eq, const struct drv_request *rq)
{
	uint32_t edu_addr = EDU_BUF_ADDR + (uint32_t)rq->offset;
	uint32_t host = (uint32_t)rq->seg[0].bus;
	bool to_ram = rq->op == DRV_OP_READ;
	wr(e, EDU_REG_DMA_SRC, to_ram ? edu_addr : host);
	wr(e, EDU_REG_DMA_DST, to_ram ? host : edu_addr);
	wr(e, EDU_REG_DMA_COUNT, rq->len);
	eq->irq_seen &= ~EDU_IRQ_DMA;
	wr(e, EDU_REG_DMA_CMD,
	   EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0) | (eq->use_irq ? EDU_DMA_IRQ : 0));
	eq->busy = EDU_BUSY_DMA;
}

static void start_factorial(struct edu_dev *e, struct edu_queue *eq, const struct drv_request *rq)
{
	wr(e, EDU_REG_STATUS, eq->use_irq ? EDU_STATUS_IRQFACT : 0);
	eq->irq_seen &= ~EDU_IRQ_FACT;
	wr(e, EDU_REG_FACTORIAL, (uint32_t)rq->arg[0]);
	eq->busy = EDU_BUSY_FACT;
}

static bool needs_device(const struct drv_request *rq)
{
	return rq->op == DRV_OP_READ || rq->op == DRV_OP_WRITE ||
	       (rq->op == DRV_OP_CONTROL && rq->code == EDU_CTL_FACTORIAL);
}

/* Starts the FIFO head on the device when it is idle and the head needs it. */
static void start_head(struct edu_dev *e, struct edu_queue *eq)
{
	if (eq->busy != EDU_IDLE || eq->ready == 0)
		return;
	const struct drv_request *rq = ring_at(&eq->fifo, 0);
	if (!needs_device(rq))
		return;
	if (rq->op == DRV_OP_CONTROL)
		start_factorial(e, eq, rq);
	else
		start_dma(e, eq, rq);
}

/* Is the running operation finished? Its interrupt bit, or without interrupts its busy bit. */
static bool head_done(struct edu_dev *e, struct edu_queue *eq)
{
	if (eq->busy == EDU_BUSY_DMA)
		return eq->use_irq ? (eq->irq_seen & EDU_IRQ_DMA) != 0
				   : !(rd(e, EDU_REG_DMA_CMD) & EDU_DMA_RUN);
	return eq->use_irq ? (eq->irq_seen & EDU_IRQ_FACT) != 0
			   : !(rd(e, EDU_REG_STATUS) & EDU_STATUS_COMPUTING);
}

/* Result of an operation that needs no device time. */
static uint64_t run_instant(struct edu_dev *e, const struct drv_request *rq)
{
	if (rq->op != DRV_OP_CONTROL)
		return 0;
	switch (rq->code) {
	case EDU_CTL_IDENTITY:
		return rd(e, EDU_REG_ID);
	case EDU_CTL_LIVENESS:
		wr(e, EDU_REG_LIVENESS, (uint32_t)rq->arg[0]);
		return rd(e, EDU_REG_LIVENESS);
	case EDU_CTL_RAISE:
		wr(e, EDU_REG_IRQ_RAISE, (uint32_t)rq->arg[0]);
		return 0;
	default:
		return 0;
	}
}

static void backlog_add(struct edu_queue *eq, uint32_t value)
{
	if (eq->backlog_count == EDU_EVENT_BACKLOG) {
		/* Full: merge into the newest, as the device itself would. */
		eq->backlog[(eq->backlog_head + eq->backlog_count - 1) % EDU_EVENT_BACKLOG] |=
		    value;
		return;
	}
	eq->backlog[(eq->backlog_head + eq->backlog_count++) % EDU_EVENT_BACKLOG] = value;
}

/* Reads and acknowledges the interrupt status, so a level-triggered line drops. */
static void collect_irq(struct edu_dev *e, struct edu_queue *eq)
{
	uint32_t status = rd(e, EDU_REG_IRQ_STATUS);
	if (!status)
		return;
	wr(e, EDU_REG_IRQ_ACK, status);
	eq->irq_seen |= status & ~EDU_IRQ_EVENT_MASK;
	if (status & EDU_IRQ_EVENT_MASK)
		backlog_add(eq, status & EDU_IRQ_EVENT_MASK);
}

/* Finishes what the device has done at the FIFO head and starts the next; returns the count. */
static int advance(drv_queue *q, struct edu_dev *e, struct edu_queue *eq, unsigned budget)
{
	int n = 0;
	while ((unsigned)n < budget && eq->ready > 0) {
		const struct drv_request *rq = ring_at(&eq->fifo, 0);
		uint64_t result;
		if (eq->busy != EDU_IDLE) {
			if (!head_done(e, eq))
				break;
			eq->irq_seen &= eq->busy == EDU_BUSY_DMA ? ~EDU_IRQ_DMA : ~EDU_IRQ_FACT;
			result = eq->busy == EDU_BUSY_DMA ? rq->len : rd(e, EDU_REG_FACTORIAL);
			eq->busy = EDU_IDLE;
		} else if (needs_device(rq)) {
			start_head(e, eq);
			continue;
		} else {
			result = run_instant(e, rq);
			/* edu sets IRQ_STATUS during the write: collect it so raises stay apart. */
			if (rq->op == DRV_OP_CONTROL && rq->code == EDU_CTL_RAISE)
				collect_irq(e, eq);
		}
		ring_pop(&eq->fifo);
		eq->ready--;
		drv_queue_complete(q, rq->tag, 0, result, 0);
		n++;
	}
	start_head(e, eq);
	return n;
}

/* Hands raised values to parked WAIT_EVENT requests, oldest first. */
static int deliver_events(drv_queue *q, struct edu_queue *eq, unsigned budget)
{
	int n = 0;
	while ((unsigned)n < budget && eq->backlog_count && eq->parked.count) {
		uint32_t value = eq->backlog[eq->backlog_head];
		eq->backlog_head = (eq->backlog_head + 1) % EDU_EVENT_BACKLOG;
		eq->backlog_count--;
		const struct drv_request *rq = ring_pop(&eq->parked);
		void *va = rq->cpu;
		if (va)
			memcpy(va, &value, sizeof(value));
		drv_queue_complete(q, rq->tag, 0, sizeof(value), 0);
		n++;
	}
	return n;
}

/* ---- drv_dev_ops ------------------------------------------------------------ */

/*
 * Without bus mastering DMA and MSI vanish silently (PCI 3.0, 6.2.2). The
 * PCI buses turn it on at open; this covers any bus that does not.
 */
static int enable_bus_master(drv_dev *dev)
{
	uint16_t cmd;
	int err = drv_dev_config_read(dev, PCI_COMMAND, &cmd, sizeof(cmd));
	if (err == -EOPNOTSUPP || (!err && (cmd & PCI_COMMAND_MASTER)))
		return 0;
	if (!err) {
		cmd |= PCI_COMMAND_MASTER;
		err = drv_dev_config_write(dev, PCI_COMMAND, &cmd, sizeof(cmd));
	}
	return err;
}

static int edu_probe(drv_dev *dev)
{
	volatile void *bar;
	size_t len;
	int err = drv_dev_map_bar(dev, EDU_BAR, &bar, &len);
	if (err < 0)
		return err;
	if (len < EDU_BAR_MIN_LEN)
		return drv_fail(-ENODEV, "edu BAR0 is %zu bytes, expected 1 MiB: not an edu device",
				len);
	struct edu_dev probe = { .bar = bar };
	uint32_t id = rd(&probe, EDU_REG_ID);
	if ((id & EDU_ID_MAGIC_MASK) != EDU_ID_MAGIC)
		return drv_fail(-ENODEV,
				"identity register reads 0x%08x, expected 0x%08x: this is not "
				"QEMU's edu device, or it is not responding",
				id, EDU_ID_VALUE);
	err = enable_bus_master(dev);
	if (err < 0)
		return err;
	int vectors = drv_dev_irq_setup(dev, 1);
	if (vectors < 0)
		return vectors;
	struct edu_dev *e = calloc(1, sizeof(*e));
	if (!e)
		return drv_fail(-ENOMEM, "out of memory for the edu driver");
	*e = probe;
	/* Leftovers of an earlier user must not look like our completions. */
	wr(e, EDU_REG_STATUS, 0);
	wr(e, EDU_REG_IRQ_ACK, rd(e, EDU_REG_IRQ_STATUS));
	drv_dev_set_priv(dev, e);

	struct drv_info info = *drv_dev_info(dev);
	snprintf(info.model, sizeof(info.model), "QEMU edu %u.%u", id >> 24, (id >> 16) & 0xff);
	info.hw_version = id >> 16;
	info.features = DRV_FEAT_EVENTS | DRV_FEAT_ABORT | DRV_FEAT_STORAGE;
	info.capacity = EDU_BUF_USABLE;
	info.max_queues = 1; /* one device, one operation at a time: one queue */
	info.max_queue_depth = DRV_QUEUE_MAX_DEPTH;
	info.max_transfer = EDU_BUF_USABLE;
	info.max_sg = 1;
	drv_dev_set_info(dev, &info);
	return 0;
}

/* Waits (bounded) until no DMA or factorial runs, so the device touches no memory. */
static void quiesce(struct edu_dev *e)
{
	struct timespec pause = { 0, 1000 * 1000 };
	for (uint64_t waited = 0; waited < EDU_QUIESCE_NS; waited += 1000 * 1000) {
		if (!(rd(e, EDU_REG_DMA_CMD) & EDU_DMA_RUN) &&
		    !(rd(e, EDU_REG_STATUS) & EDU_STATUS_COMPUTING))
			break;
		nanosleep(&pause, NULL);
	}
	wr(e, EDU_REG_STATUS, 0);
	wr(e, EDU_REG_IRQ_ACK, rd(e, EDU_REG_IRQ_STATUS));
}

static void edu_remove(drv_dev *dev)
{
	struct edu_dev *e = drv_dev_priv(dev);
	if (!e)
		return;
	if (drv_dev_alive(dev) == 0)
		quiesce(e);
	free(e);
	drv_dev_set_priv(dev, NULL);
}

static int edu_queue_create(drv_queue *q)
{
	unsigned depth = drv_queue_depth(q);
	struct edu_queue *eq = calloc(1, sizeof(*eq));
	const struct drv_request **fifo = calloc(depth, sizeof(*fifo));
	const struct drv_request **parked = calloc(depth, sizeof(*parked));
	if (!eq || !fifo || !parked) {
		free(eq);
		free(fifo);
		free(parked);
		return drv_fail(-ENOMEM, "out of memory for an edu queue of depth %u", depth);
	}
	eq->fifo = (struct edu_ring){ .slot = fifo, .cap = depth };
	eq->parked = (struct edu_ring){ .slot = parked, .cap = depth };
	/* The queue layer refuses interrupt modes on a device without interrupts. */
	eq->use_irq = drv_queue_options(q)->cmode != DRV_CMODE_POLL;
	drv_queue_set_priv(q, eq);
	struct edu_dev *e = edu_of(q);
	wr(e, EDU_REG_IRQ_ACK, rd(e, EDU_REG_IRQ_STATUS));
	return 0;
}

static void edu_queue_destroy(drv_queue *q)
{
	struct edu_queue *eq = drv_queue_priv(q);
	if (!eq)
		return;
	/* On drv_close remove() has already quiesced the device and dropped edu_dev. */
	struct edu_dev *e = edu_of(q);
	if (e && eq->busy != EDU_IDLE && drv_dev_alive(drv_queue_dev(q)) == 0)
		quiesce(e);
	free(eq->fifo.slot);
	free(eq->parked.slot);
	free(eq);
	drv_queue_set_priv(q, NULL);
}

static int edu_post(drv_queue *q, const struct drv_request *rq)
{
	struct edu_queue *eq = drv_queue_priv(q);
	int err = check(rq);
	if (err)
		return err;
	/* The queue layer never has more slots out than the depth both rings hold. */
	if (rq->op == DRV_OP_WAIT_EVENT)
		ring_push(&eq->parked, rq);
	else
		ring_push(&eq->fifo, rq);
	return 0;
}

/* edu has no doorbell: starting the head operation is the notification. */
static unsigned edu_commit(drv_queue *q)
{
	struct edu_queue *eq = drv_queue_priv(q);
	eq->ready = eq->fifo.count;
	start_head(edu_of(q), eq);
	return 0;
}

static int edu_reap(drv_queue *q, unsigned budget)
{
	struct edu_dev *e = edu_of(q);
	struct edu_queue *eq = drv_queue_priv(q);
	collect_irq(e, eq);
	int n = advance(q, e, eq, budget);
	return n + deliver_events(q, eq, budget - (unsigned)n);
}

static int edu_abort(drv_queue *q, const struct drv_request *rq)
{
	struct edu_queue *eq = drv_queue_priv(q);
	int i = ring_find(&eq->parked, rq);
	if (i >= 0) {
		ring_remove(&eq->parked, (unsigned)i);
	} else {
		i = ring_find(&eq->fifo, rq);
		if (i < 0)
			return -ENOENT;
		if (i == 0 && eq->busy != EDU_IDLE)
			return -EOPNOTSUPP; /* edu cannot stop an operation; it ends on its own */
		ring_remove(&eq->fifo, (unsigned)i);
		if ((unsigned)i < eq->ready)
			eq->ready--;
	}
	drv_queue_complete(q, rq->tag, -ECANCELED, 0, 0);
	return 0;
}

static bool edu_irq_enable(drv_queue *q, bool on)
{
	if (!on)
		return false;
	/* edu cannot mask its interrupt; report work that needs no interrupt to be found. */
	struct edu_dev *e = edu_of(q);
	struct edu_queue *eq = drv_queue_priv(q);
	if (eq->ready && eq->busy == EDU_IDLE)
		return true;
	if (eq->backlog_count && eq->parked.count)
		return true;
	if (eq->busy != EDU_IDLE && !eq->use_irq)
		return head_done(e, eq);
	return rd(e, EDU_REG_IRQ_STATUS) != 0;
}

static const struct drv_pci_id edu_ids[] = { { EDU_VENDOR_ID, EDU_DEVICE_ID, 0, 0 }, { 0 } };

const struct drv_driver edu_driver = {
	DRV_DRIVER_INIT,
	.name = "edu",
	.ids = edu_ids,
	.dma_mask = EDU_DMA_MASK,
	.probe = edu_probe,
	.remove = edu_remove,
	.queue_create = edu_queue_create,
	.queue_destroy = edu_queue_destroy,
	.post = edu_post,
	.commit = edu_commit,
	.reap = edu_reap,
	.abort = edu_abort,
	.irq_enable = edu_irq_enable,
};
