/* SPDX-License-Identifier: MIT */
/*
 * Events (the "inverse call"): a WAIT_EVENT parks until an event is raised;
 * events raised with nobody waiting queue up, bounded, and overflow is
 * counted.
 */
#include <string.h>

#include "model.h"
#include "regs.h"

static void publish_counts(struct dsim_dev *d)
{
	dsim_wr32(d->regs, DSIM_REG_EVENTS_QUEUED, d->ev_count);
}

/* Copies the payload into the waiter's buffer and completes it. */
static void deliver(struct dsim_dev *d, struct dsim_req *r, const void *payload, uint32_t len)
{
	struct dsim_seg segs[DSIM_MAX_SG_ENTRIES];
	unsigned nseg = 0;
	unsigned sc = dsim_dma_resolve(d, &r->sqe, segs, &nseg);
	if (sc != DSIM_SC_SUCCESS) {
		dsim_complete(d, r, sc, 0, 0);
		return;
	}
	size_t n = dsim_segs_write(segs, nseg, payload, len);
	dsim_complete(d, r, DSIM_SC_SUCCESS, n < len ? DSIM_CQE_F_TRUNCATED : 0, (uint32_t)n);
}

void dsim_event_raise(struct dsim_dev *d, const void *payload, size_t len)
{
	if (len > DSIM_EVENT_PAYLOAD_MAX)
		len = DSIM_EVENT_PAYLOAD_MAX;
	dsim_stat_add(d->regs, DSIM_STAT_EVENTS, 1);
	/* A hung device posts nothing: the event waits in the queue like any other. */
	struct dsim_req *r = d->faults.stalled ? NULL : d->parked_head;
	if (r) {
		dsim_event_unpark(d, r);
		deliver(d, r, payload, (uint32_t)len);
		return;
	}
	if (d->ev_count == DSIM_EVENT_QUEUE_DEPTH) {
		dsim_wr32(d->regs, DSIM_REG_EVENTS_DROPPED,
			  dsim_rd32(d->regs, DSIM_REG_EVENTS_DROPPED) + 1);
		return;
	}
	struct dsim_event *e = &d->events[(d->ev_head + d->ev_count) % DSIM_EVENT_QUEUE_DEPTH];
	e->len = (uint32_t)len;
	memcpy(e->data, payload, len);
	d->ev_count++;
	publish_counts(d);
}

void dsim_event_wait(struct dsim_dev *d, struct dsim_req *r)
{
	if (d->ev_count) {
		/* Copy out first: completing may not touch the queue slot again. */
		struct dsim_event e = d->events[d->ev_head];
		d->ev_head = (d->ev_head + 1) % DSIM_EVENT_QUEUE_DEPTH;
		d->ev_count--;
		publish_counts(d);
		deliver(d, r, e.data, e.len);
		return;
	}
	r->parked = true;
	r->next = NULL;
	r->prev = d->parked_tail;
	if (d->parked_tail)
		d->parked_tail->next = r;
	else
		d->parked_head = r;
	d->parked_tail = r;
}

void dsim_event_unpark(struct dsim_dev *d, struct dsim_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		d->parked_head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		d->parked_tail = r->prev;
	r->parked = false;
	r->next = r->prev = NULL;
}

void dsim_events_clear(struct dsim_dev *d)
{
	d->ev_head = d->ev_count = 0;
	publish_counts(d);
	dsim_wr32(d->regs, DSIM_REG_EVENTS_DROPPED, 0);
}
