/* SPDX-License-Identifier: MIT */
/*
 * A device for unit tests that need no simulator: a bus whose DMA memory
 * is plain heap memory at a made-up bus address (optionally split into
 * pages with scattered bus addresses), and a driver whose "device" is the
 * test itself. The test sees each posted slot and decides what completes,
 * including completions that no well-behaved device would send.
 */
#ifndef FAKE_DEV_H
#define FAKE_DEV_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dev/devdrv.h"
#include "queue/queue.h"

#define FAKE_UNUSED __attribute__((unused))
#define FAKE_BUS_BASE 0x100000000ull
#define FAKE_PAGE 4096u

struct fake_cqe {
	uint32_t tag;
	int status;
	uint64_t result;
};

struct fake_state {
	/* bus */
	int page_split;   /* regions get scattered per-page bus addresses */
	size_t mapped;    /* bytes currently mapped */
	size_t map_limit; /* refuse dma_map beyond this (0 = no limit) */
	unsigned regions;
	/* device */
	struct drv_slot *posted[256];
	unsigned nposted;
	unsigned commits;
	uint32_t aborted[256];
	unsigned naborted;
	struct fake_cqe cq[256];
	unsigned cq_head, cq_tail;
	int reap_error;      /* reap returns this when set */
	unsigned hold_reaps; /* this many reaps see nothing, then the queued completions */
	unsigned abort_full; /* this many aborts are refused for lack of room (-EAGAIN) */
	int dead;
	/* probe/remove, which a reset runs */
	unsigned probes, removes;
	int probe_error;                /* the next probe fails with it, once */
	unsigned quarantined_at_remove; /* slots still held when remove() ran */
	unsigned queues_built;          /* queue_create minus queue_destroy */
};

static struct fake_state fake;

static int fake_dma_map(drv_dev *dev, size_t len, struct drv_dma_region *r)
{
	(void)dev;
	if (fake.map_limit && fake.mapped + len > fake.map_limit)
		return -ENOMEM;
	len = (len + FAKE_PAGE - 1) / FAKE_PAGE * FAKE_PAGE;
	void *va = aligned_alloc(FAKE_PAGE, len);
	if (!va)
		return -ENOMEM;
	*r = (struct drv_dma_region){ .va = va, .len = len, .contig = len };
	r->bus = FAKE_BUS_BASE * (1 + fake.regions++);
	if (fake.page_split) {
		size_t pages = len / FAKE_PAGE;
		r->contig = FAKE_PAGE;
		r->page_bus = calloc(pages, sizeof(uint64_t));
		/* Pairs of pages are adjacent, then a gap: segments merge in twos. */
		for (size_t i = 0; i < pages; i++)
			r->page_bus[i] = r->bus + (i / 2) * 4 * FAKE_PAGE + (i % 2) * FAKE_PAGE;
	}
	fake.mapped += len;
	return 0;
}

static void fake_dma_unmap(drv_dev *dev, struct drv_dma_region *r)
{
	(void)dev;
	fake.mapped -= r->len;
	free(r->page_bus);
	free(r->va);
}

static int fake_irq_fd(drv_dev *dev, unsigned v)
{
	(void)dev;
	(void)v;
	return -1;
}

static int fake_alive(drv_dev *dev)
{
	(void)dev;
	return fake.dead ? -ENODEV : 0;
}

static const struct drv_bus_ops fake_bus = {
	.name = "fake",
	.dma_map = fake_dma_map,
	.dma_unmap = fake_dma_unmap,
	.irq_fd = fake_irq_fd,
	.alive = fake_alive,
};

static int fake_probe(drv_dev *dev)
{
	(void)dev;
	fake.probes++;
	int err = fake.probe_error;
	fake.probe_error = 0;
	if (!err)
		fake.reap_error = 0;
	return err;
}

/* A reset forgets whatever the device had not posted yet. */
static void fake_remove(drv_dev *dev)
{
	fake.removes++;
	fake.quarantined_at_remove = 0;
	for (drv_queue *q = dev->queues; q; q = q->next)
		fake.quarantined_at_remove += q->stats.quarantined;
	fake.cq_head = fake.cq_tail;
}

static int fake_queue_create(drv_queue *q)
{
	(void)q;
	fake.queues_built++;
	return 0;
}

static void fake_queue_destroy(drv_queue *q)
{
	(void)q;
	fake.queues_built--;
}

/* The slot whose driver view r is: the fake keeps slots to look at the queue's side. */
static struct drv_slot *fake_slot_of_request(const struct drv_request *r)
{
	return (struct drv_slot *)(void *)((char *)(uintptr_t)r - offsetof(struct drv_slot, r));
}

static int fake_post(drv_queue *q, const struct drv_request *r)
{
	(void)q;
	fake.posted[fake.nposted++ % 256] = fake_slot_of_request(r);
	return 0;
}

static unsigned fake_commit(drv_queue *q)
{
	(void)q;
	fake.commits++;
	return 1;
}

static int fake_reap(drv_queue *q, unsigned budget)
{
	if (fake.reap_error)
		return fake.reap_error;
	if (fake.hold_reaps) {
		fake.hold_reaps--;
		return 0;
	}
	unsigned n = 0;
	while (fake.cq_head != fake.cq_tail && n < budget) {
		struct fake_cqe *c = &fake.cq[fake.cq_head++ % 256];
		drv_queue_complete(q, c->tag, c->status, c->result, 0);
		n++;
	}
	return (int)n;
}

static int fake_abort(drv_queue *q, const struct drv_request *r)
{
	(void)q;
	if (fake.abort_full) {
		fake.abort_full--;
		return -EAGAIN;
	}
	fake.aborted[fake.naborted++ % 256] = r->tag;
	return 0;
}

static bool fake_irq_enable(drv_queue *q, bool on)
{
	(void)q;
	(void)on;
	return false;
}

static const struct drv_driver fake_ops = {
	DRV_DRIVER_INIT,
	.name = "fake",
	.probe = fake_probe,
	.remove = fake_remove,
	.queue_create = fake_queue_create,
	.queue_destroy = fake_queue_destroy,
	.post = fake_post,
	.commit = fake_commit,
	.reap = fake_reap,
	.abort = fake_abort,
	.irq_enable = fake_irq_enable,
};

/* The device answers tag with status/result on its next reap. */
static FAKE_UNUSED void fake_complete(uint32_t tag, int status, uint64_t result)
{
	fake.cq[fake.cq_tail++ % 256] = (struct fake_cqe){ tag, status, result };
}

static FAKE_UNUSED drv_dev *fake_open(size_t pool_bytes)
{
	memset(&fake, 0, sizeof(fake));
	drv_dev *dev = calloc(1, sizeof(*dev));
	dev->bus = &fake_bus;
	dev->ops = &fake_ops;
	if (drvi_health_init(dev) < 0) {
		free(dev);
		return NULL;
	}
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->config_lock, NULL);
	struct drv_info *i = &dev->info;
	strcpy(i->driver, "fake");
	strcpy(i->bus, "fake");
	i->features = DRV_FEAT_SGL | DRV_FEAT_EVENTS | DRV_FEAT_ABORT;
	i->max_queues = 4;
	i->max_queue_depth = 128;
	i->max_transfer = 1u << 20;
	i->max_sg = 8;
	i->irq_mode = DRV_IRQ_NONE;
	if (drvi_dma_pool_init(&dev->dma, dev, pool_bytes) < 0) {
		drvi_health_fini(dev);
		free(dev);
		return NULL;
	}
	return dev;
}

static FAKE_UNUSED drv_queue *fake_queue(drv_dev *dev, unsigned depth)
{
	struct drv_queue_opts o = { .depth = depth, .cmode = DRV_CMODE_POLL };
	drv_queue *q = NULL;
	if (drv_queue_create(dev, &o, &q) < 0)
		return NULL;
	return q;
}

/* Frees everything like drv_close, with the fake device already "reset". */
static FAKE_UNUSED void fake_close(drv_dev *dev)
{
	while (dev->queues) {
		drv_queue *q = dev->queues;
		dev->queues = q->next;
		drvi_queue_finish(q);
		drvi_queue_release(q);
	}
	drvi_dma_pool_fini(&dev->dma);
	drvi_health_fini(dev);
	pthread_mutex_destroy(&dev->config_lock);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

/* The slot the device saw for request r. */
static FAKE_UNUSED struct drv_slot *fake_slot_of(drv_queue *q, const struct drv_req *r)
{
	return &q->slots[r->priv.slot];
}

#endif
