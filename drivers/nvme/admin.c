/* SPDX-License-Identifier: MIT */
/*
 * The admin queue (NVMe 1.4, 5): synchronous commands for probe and queue
 * set-up, CONTROL requests of the I/O queues (the DeviceIoControl role),
 * and Asynchronous Event Requests (5.2), the inverse call: commands parked
 * in the controller that complete when something happens there.
 *
 * A command identifier is the index of its slot. Whoever processes the
 * admin completion queue (a waiting synchronous caller, or the reap of any
 * I/O queue) dispatches each completion: a synchronous one to its waiter,
 * a CONTROL one to its queue's mail, an event to the backlog that parked
 * WAIT_EVENT requests take from; queues that got something are woken.
 */
#include <stdio.h>
#include <string.h>

#include <drv/nvme.h>

#include "nvme.h"

#define ADMIN_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)
#define NSID_ALL 0xffffffffu

void nvme_admin_init(struct nvme_admin *a)
{
	pthread_mutex_init(&a->lock, NULL);
}

void nvme_admin_fini(struct nvme_admin *a)
{
	drv_buf_free(a->sq_buf);
	drv_buf_free(a->cq_buf);
	drv_buf_free(a->log_buf);
	pthread_mutex_destroy(&a->lock);
}

static const char *address(const struct nvme_ctrl *c)
{
	return drv_dev_info(c->dev)->address;
}

/* Writes cmd into the submission queue as `kind`; returns its CID, or -EBUSY. Lock held. */
static int submit(struct nvme_ctrl *c, struct nvme_sqe *cmd, enum nvme_admin_kind kind)
{
	struct nvme_admin *a = &c->admin;
	if (a->outstanding >= NVME_ADMIN_ENTRIES - 1)
		return -EBUSY;
	unsigned cid = 0;
	while (a->slot[cid].kind != NVME_ADMIN_FREE)
		cid++;
	a->slot[cid] = (struct nvme_admin_slot){ .kind = (uint8_t)kind };
	cmd->cid = (uint16_t)cid;
	a->sq[a->sq_tail] = *cmd;
	a->sq_tail = (a->sq_tail + 1) % NVME_ADMIN_ENTRIES;
	a->outstanding++;
	nvme_ring(c, 0, false, a->sq_tail);
	return (int)cid;
}

static void send_aer(struct nvme_ctrl *c)
{
	struct nvme_sqe cmd = { .opcode = NVME_ADMIN_ASYNC_EVENT };
	if (submit(c, &cmd, NVME_ADMIN_AER) >= 0)
		c->admin.aers++;
}

/* Reading the event's log page without Retain re-enables its type (5.2.1). */
static void read_event_log(struct nvme_ctrl *c, uint32_t dw0)
{
	uint32_t dwords = NVME_LOG_BYTES / 4;
	struct nvme_sqe cmd = { .opcode = NVME_ADMIN_GET_LOG_PAGE,
				.nsid = NSID_ALL,
				.cdw10 = DRV_NVME_EVENT_LOG_PAGE(dw0) | (dwords - 1) << 16 };
	cmd.dptr[0] = drv_buf_bus(c->admin.log_buf);
	if (submit(c, &cmd, NVME_ADMIN_LOG) < 0)
		send_aer(c); /* no room to read it: at least keep listening */
}

static void backlog_event(struct nvme_admin *a, uint32_t dw0)
{
	if (a->nevents == NVME_EVENT_BACKLOG) { /* full: the oldest goes */
		a->event_head = (a->event_head + 1) % NVME_EVENT_BACKLOG;
		a->nevents--;
	}
	a->events[(a->event_head + a->nevents) % NVME_EVENT_BACKLOG] = dw0;
	__atomic_store_n(&a->nevents, a->nevents + 1, __ATOMIC_RELEASE);
}

/* One admin completion, by what its CID was for. Lock held; returns a queue to wake. */
static struct nvme_queue *dispatch(struct nvme_ctrl *c, const struct nvme_cqe *e, bool *event)
{
	struct nvme_admin *a = &c->admin;
	if (e->cid >= NVME_ADMIN_ENTRIES || a->slot[e->cid].kind == NVME_ADMIN_FREE)
		return NULL; /* names no command we sent */
	struct nvme_admin_slot *s = &a->slot[e->cid];
	a->outstanding--;
	struct nvme_queue *wake = NULL;
	switch (s->kind) {
	case NVME_ADMIN_SYNC:
		s->cqe = *e;
		s->done = true;
		return NULL; /* the waiter frees the slot */
	case NVME_ADMIN_REQUEST:
		if (s->owner) {
			struct nvme_queue_admin *qa = nvme_queue_admin(s->owner);
			int status = nvme_status_errno(e->status);
			qa->mail[qa->nmail] = (struct nvme_mail){ s->tag, status, e->result };
			__atomic_store_n(&qa->nmail, qa->nmail + 1, __ATOMIC_RELEASE);
			wake = s->owner;
		}
		break;
	case NVME_ADMIN_AER:
		a->aers--;
		if (nvme_status_errno(e->status) == 0) {
			backlog_event(a, e->result);
			*event = true;
			read_event_log(c, e->result);
		}
		break;
	case NVME_ADMIN_LOG:
		if (a->aers < a->aer_limit)
			send_aer(c);
		break;
	case NVME_ADMIN_ABANDONED:
		break;
	}
	s->kind = NVME_ADMIN_FREE;
	return wake;
}

static void wake_queue(struct nvme_queue *nq, const struct nvme_queue *self)
{
	if (nq && nq != self)
		drv_queue_wake(nvme_queue_admin(nq)->q);
}

/* Consumes the admin completion queue. Lock held. */
static void process(struct nvme_ctrl *c, const struct nvme_queue *self)
{
	struct nvme_admin *a = &c->admin;
	bool consumed = false, event = false;
	for (;;) {
		const struct nvme_cqe *e = &a->cq[a->cq_head];
		if ((__atomic_load_n(&e->status, __ATOMIC_ACQUIRE) & NVME_STATUS_PHASE) != a->phase)
			break;
		struct nvme_cqe cqe = *e;
		/* Stored atomically: nvme_admin_pending() peeks at them without the lock. */
		uint32_t head = a->cq_head + 1;
		if (head == NVME_ADMIN_ENTRIES) {
			head = 0;
			__atomic_store_n(&a->phase, a->phase ^ NVME_STATUS_PHASE, __ATOMIC_RELAXED);
		}
		__atomic_store_n(&a->cq_head, head, __ATOMIC_RELAXED);
		consumed = true;
		wake_queue(dispatch(c, &cqe, &event), self);
	}
	if (consumed)
		nvme_ring(c, 0, true, a->cq_head);
	if (event)
		for (unsigned i = 1; i <= NVME_MAX_IO_QUEUES; i++)
			if (a->queues[i] && nvme_queue_admin(a->queues[i])->nparked)
				wake_queue(a->queues[i], self);
}

/* ---- Synchronous commands ------------------------------------------------------ */

struct sync_wait {
	struct nvme_ctrl *c;
	int cid;
};

static int sync_done(void *arg)
{
	struct sync_wait *w = arg;
	struct nvme_admin *a = &w->c->admin;
	pthread_mutex_lock(&a->lock);
	process(w->c, NULL);
	bool done = a->slot[w->cid].done;
	pthread_mutex_unlock(&a->lock);
	if (done)
		return 1;
	int err = nvme_ctrl_failed(w->c);
	return err ? err : 0;
}

int nvme_admin_sync(struct nvme_ctrl *c, struct nvme_sqe *cmd, uint32_t *result, const char *what)
{
	struct nvme_admin *a = &c->admin;
	pthread_mutex_lock(&a->lock);
	struct sync_wait w = { c, submit(c, cmd, NVME_ADMIN_SYNC) };
	pthread_mutex_unlock(&a->lock);
	if (w.cid < 0)
		return drv_fail(-EBUSY, "NVMe admin queue of %s is full: %s must wait", address(c),
				what);
	int err = drv_dev_poll(c->dev, sync_done, &w, ADMIN_TIMEOUT_NS);
	pthread_mutex_lock(&a->lock);
	struct nvme_cqe cqe = a->slot[w.cid].cqe;
	/* Unanswered, the controller still holds it: its completion will free the slot. */
	a->slot[w.cid].kind = err == 1 ? NVME_ADMIN_FREE : NVME_ADMIN_ABANDONED;
	pthread_mutex_unlock(&a->lock);
	if (err == 1) {
		err = nvme_status_errno(cqe.status);
		if (err)
			return drv_fail(err, "NVMe %s at %s failed with status type %u, code %#x",
					what, address(c), NVME_STATUS_SCT(cqe.status),
					NVME_STATUS_SC(cqe.status));
		if (result)
			*result = cqe.result;
		return 0;
	}
	if (err == -ETIMEDOUT)
		return drv_fail(err, "NVMe %s at %s got no answer in %llu s", what, address(c),
				ADMIN_TIMEOUT_NS / 1000000000ull);
	if (err == -ENODEV)
		return drv_fail(err, "NVMe controller at %s went away during %s", address(c), what);
	return err;
}

int nvme_admin_start_events(struct nvme_ctrl *c, unsigned aer_limit)
{
	/* Asynchronous Event Configuration (5.21.1.11): every SMART / health critical warning. */
	struct nvme_sqe cmd = { .opcode = NVME_ADMIN_SET_FEATURES,
				.cdw10 = NVME_FEAT_ASYNC_EVENT,
				.cdw11 = 0xff };
	int err = nvme_admin_sync(c, &cmd, NULL, "Set Features (Asynchronous Event Configuration)");
	if (err)
		return err;
	pthread_mutex_lock(&c->admin.lock);
	c->admin.aer_limit = aer_limit;
	while (c->admin.aers < aer_limit && c->admin.outstanding < NVME_ADMIN_ENTRIES / 2)
		send_aer(c);
	pthread_mutex_unlock(&c->admin.lock);
	return 0;
}

/* ---- CONTROL requests (drv/nvme.h) ------------------------------------------------ */

static bool owned_by_driver(const struct drv_nvme_admin_cmd *cmd)
{
	switch (cmd->opcode) {
	case NVME_ADMIN_DELETE_SQ:
	case NVME_ADMIN_CREATE_SQ:
	case NVME_ADMIN_DELETE_CQ:
	case NVME_ADMIN_CREATE_CQ:
	case NVME_ADMIN_ABORT:
	case NVME_ADMIN_ASYNC_EVENT:
	case NVME_ADMIN_DOORBELL_BUFFER_CONFIG:
		return true;
	case NVME_ADMIN_SET_FEATURES:
		return (cmd->cdw[0] & 0xff) == NVME_FEAT_NUM_QUEUES;
	}
	return false;
}

/* The admin command a CONTROL request stands for, its data pointer aside. */
static int control_command(const struct drv_request *r, struct nvme_sqe *e, bool *has_data)
{
	*has_data = r->len > 0;
	switch (r->code) {
	case DRV_NVME_CTL_IDENTIFY:
		if (r->len < NVME_IDENTIFY_BYTES)
			return drv_fail(-EINVAL,
					"NVMe Identify returns %u bytes: give a buffer of "
					"at least that many (%u given)",
					NVME_IDENTIFY_BYTES, r->len);
		e->opcode = NVME_ADMIN_IDENTIFY;
		e->cdw10 = (uint32_t)(r->arg[0] & 0xff);
		e->nsid = (uint32_t)r->arg[1];
		return 0;
	case DRV_NVME_CTL_GET_LOG_PAGE:
		if (r->len == 0 || r->len % 4 || r->len > NVME_PAGE)
			return drv_fail(-EINVAL,
					"NVMe Get Log Page reads whole dwords, up to %u bytes: %u "
					"bytes asked",
					NVME_PAGE, r->len);
		e->opcode = NVME_ADMIN_GET_LOG_PAGE;
		e->nsid = r->arg[1] ? (uint32_t)r->arg[1] : NSID_ALL;
		e->cdw10 = (uint32_t)(r->arg[0] & 0xff) | (r->len / 4 - 1) << 16;
		return 0;
	case DRV_NVME_CTL_GET_FEATURES:
	case DRV_NVME_CTL_SET_FEATURES: {
		bool set = r->code == DRV_NVME_CTL_SET_FEATURES;
		if ((r->arg[0] & 0xff) == NVME_FEAT_NUM_QUEUES && set)
			return drv_fail(-EPERM, "the NVMe driver sets Number of Queues itself, "
						"before any queue exists");
		if (set && (r->len || r->in.len))
			return drv_fail(-EOPNOTSUPP,
					"NVMe Set Features with a data buffer is not supported");
		e->opcode = set ? NVME_ADMIN_SET_FEATURES : NVME_ADMIN_GET_FEATURES;
		e->cdw10 = (uint32_t)(r->arg[0] & 0xff);
		e->cdw11 = (uint32_t)r->arg[1];
		return 0;
	}
	case DRV_NVME_CTL_ADMIN: {
		const struct drv_nvme_admin_cmd *cmd = r->in_cpu;
		if (r->in.len != sizeof(*cmd) || !cmd)
			return drv_fail(-EINVAL,
					"DRV_NVME_CTL_ADMIN takes a struct drv_nvme_admin_cmd (%zu "
					"bytes) as input",
					sizeof(*cmd));
		if (owned_by_driver(cmd))
			return drv_fail(
			    -EPERM,
			    "NVMe admin opcode %#x manages what the driver owns (queues, "
			    "aborts, events): refused",
			    cmd->opcode);
		e->opcode = cmd->opcode;
		e->nsid = cmd->nsid;
		e->cdw10 = cmd->cdw[0];
		e->cdw11 = cmd->cdw[1];
		e->cdw12 = cmd->cdw[2];
		e->cdw13 = cmd->cdw[3];
		e->cdw14 = cmd->cdw[4];
		e->cdw15 = cmd->cdw[5];
		return 0;
	}
	}
	return drv_fail(-EOPNOTSUPP, "the NVMe driver has no control code %#x (see drv/nvme.h)",
			r->code);
}

int nvme_admin_request(struct nvme_ctrl *c, struct nvme_queue *nq, const struct drv_request *r)
{
	struct nvme_sqe e = { 0 };
	bool has_data;
	int err = control_command(r, &e, &has_data);
	if (!err && has_data)
		err = nvme_build_data_pointer(nq, r, &e, true);
	if (err)
		return err;
	pthread_mutex_lock(&c->admin.lock);
	int cid = submit(c, &e, NVME_ADMIN_REQUEST);
	if (cid >= 0) {
		c->admin.slot[cid].owner = nq;
		c->admin.slot[cid].tag = r->tag;
	}
	pthread_mutex_unlock(&c->admin.lock);
	if (cid < 0)
		return drv_fail(-EBUSY, "the NVMe admin queue is full: retry the control request");
	return 0;
}

/* ---- The I/O queues' side ----------------------------------------------------------- */

void nvme_admin_attach(struct nvme_ctrl *c, struct nvme_queue *nq)
{
	pthread_mutex_lock(&c->admin.lock);
	c->admin.queues[nvme_queue_qid(nq)] = nq;
	pthread_mutex_unlock(&c->admin.lock);
}

void nvme_admin_detach(struct nvme_ctrl *c, struct nvme_queue *nq)
{
	pthread_mutex_lock(&c->admin.lock);
	c->admin.queues[nvme_queue_qid(nq)] = NULL;
	for (unsigned i = 0; i < NVME_ADMIN_ENTRIES; i++)
		if (c->admin.slot[i].owner == nq)
			c->admin.slot[i].owner = NULL; /* its completion will be dropped */
	pthread_mutex_unlock(&c->admin.lock);
}

bool nvme_admin_pending(struct nvme_ctrl *c, const struct nvme_queue *nq)
{
	struct nvme_admin *a = &c->admin;
	const struct nvme_queue_admin *qa = nvme_queue_admin((struct nvme_queue *)nq);
	if (__atomic_load_n(&qa->nmail, __ATOMIC_ACQUIRE))
		return true;
	if (qa->nparked && __atomic_load_n(&a->nevents, __ATOMIC_ACQUIRE))
		return true;
	/* A hint read without the lock: whoever takes it looks again under the lock. */
	const struct nvme_cqe *e = &a->cq[__atomic_load_n(&a->cq_head, __ATOMIC_RELAXED)];
	uint16_t phase = __atomic_load_n(&a->phase, __ATOMIC_RELAXED);
	return (__atomic_load_n(&e->status, __ATOMIC_ACQUIRE) & NVME_STATUS_PHASE) == phase;
}

unsigned nvme_admin_reap(struct nvme_ctrl *c, struct nvme_queue *nq, drv_queue *q, unsigned budget)
{
	struct nvme_admin *a = &c->admin;
	struct nvme_queue_admin *qa = nvme_queue_admin(nq);
	unsigned n = 0;
	pthread_mutex_lock(&a->lock);
	process(c, nq);
	unsigned taken = 0;
	for (; taken < qa->nmail && n < budget; taken++, n++) {
		const struct nvme_mail *m = &qa->mail[taken];
		(void)drv_queue_complete(q, m->tag, m->status, m->result, 0);
	}
	memmove(qa->mail, qa->mail + taken, (qa->nmail - taken) * sizeof(qa->mail[0]));
	__atomic_store_n(&qa->nmail, qa->nmail - taken, __ATOMIC_RELEASE);
	for (; qa->nparked && a->nevents && n < budget; n++) {
		uint32_t dw0 = a->events[a->event_head];
		a->event_head = (a->event_head + 1) % NVME_EVENT_BACKLOG;
		__atomic_store_n(&a->nevents, a->nevents - 1, __ATOMIC_RELEASE);
		const struct drv_request *r = qa->parked[0];
		memmove(qa->parked, qa->parked + 1, --qa->nparked * sizeof(qa->parked[0]));
		memcpy(r->cpu, &dw0, sizeof(dw0));
		(void)drv_queue_complete(q, r->tag, 0, sizeof(dw0), 0);
	}
	pthread_mutex_unlock(&a->lock);
	return n;
}
