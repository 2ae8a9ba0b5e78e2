/* SPDX-License-Identifier: MIT */
/*
 * NVMe I/O queue pairs: each libdrv queue owns one submission and one
 * completion queue (NVMe 1.4, 4.1), created with the admin commands of
 * 5.4 and 5.5. A request becomes one Read, Write or Flush command whose
 * data pointer is built from the request's bus segments: PRPs (4.3), or an
 * SGL (4.4) for segments PRPs cannot describe;
 * the completion's command identifier names the request.
 *
 * Command identifiers: the request's index in the queue in the low bits,
 * the low bits of its tag's generation above, so a completion that names a
 * command already finished (a stale or repeated CID) does not match the
 * request that reuses the index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme.h"

/* What the driver remembers of a posted request, by its index. */
struct nvme_slot {
	uint32_t tag;
	uint32_t len;
	drv_buf *list; /* the request's PRP list or SGL segment */
};

struct nvme_queue {
	struct nvme_ctrl *c;
	unsigned qid, depth;
	uint32_t entries; /* of both queues, a power of two */
	drv_buf *sq_buf, *cq_buf;
	struct nvme_sqe *sq;
	struct nvme_cqe *cq;
	struct drv_sq_ring ring; /* head learnt from each completion's SQ head */
	uint32_t cq_head;
	uint16_t phase;
	unsigned index_bits; /* CID bits that hold the request index */
	bool sq_created, cq_created;
	uint32_t posted_to_sq; /* submission entries since the last commit */
	unsigned prp_entries;  /* room in each request's list, as PRP entries */
	unsigned sgl_entries;  /* ... and as SGL descriptors */
	/* Requests that need no device time (NOP), completed by the next reap. */
	uint32_t *instant;
	unsigned ninstant;
	struct nvme_slot *slots;
	struct nvme_queue_admin admin; /* CONTROL and WAIT_EVENT requests */
};

struct nvme_queue_admin *nvme_queue_admin(struct nvme_queue *nq)
{
	return &nq->admin;
}

unsigned nvme_queue_qid(const struct nvme_queue *nq)
{
	return nq->qid;
}

static uint16_t cid_of(const struct nvme_queue *nq, uint32_t tag)
{
	uint32_t gen = tag >> DRV_TAG_INDEX_BITS;
	return (uint16_t)(drv_tag_index(tag) | gen << nq->index_bits);
}

/* ---- Creating and deleting the queue pair (5.4, 5.5, 5.6, 5.7) ----------------- */

static int delete_queue(struct nvme_queue *nq, uint8_t opcode, const char *what)
{
	struct nvme_sqe cmd = { .opcode = opcode, .cdw10 = nq->qid };
	return nvme_admin_sync(nq->c, &cmd, NULL, what);
}

static int create_pair(drv_queue *q, struct nvme_queue *nq)
{
	struct nvme_ctrl *c = nq->c;
	bool irq = drv_queue_options(q)->cmode != DRV_CMODE_POLL && c->vectors > 0;
	/* Vector 0 is the admin queue's; each I/O queue has its own when there are enough. */
	unsigned vector = c->vectors > 1 ? 1 + (nq->qid - 1) % (c->vectors - 1) : 0;
	drv_queue_set_vector(q, vector);
	struct nvme_sqe cmd = { .opcode = NVME_ADMIN_CREATE_CQ,
				.cdw10 = NVME_QUEUE_CDW10(nq->qid, nq->entries),
				.cdw11 =
				    NVME_CQ_PC | (irq ? NVME_CQ_IEN | NVME_CQ_IV(vector) : 0) };
	cmd.dptr[0] = drv_buf_bus(nq->cq_buf);
	int err = nvme_admin_sync(c, &cmd, NULL, "Create I/O Completion Queue");
	if (err)
		return err;
	nq->cq_created = true;
	cmd = (struct nvme_sqe){ .opcode = NVME_ADMIN_CREATE_SQ,
				 .cdw10 = NVME_QUEUE_CDW10(nq->qid, nq->entries),
				 .cdw11 = NVME_SQ_PC | NVME_SQ_CQID(nq->qid) };
	cmd.dptr[0] = drv_buf_bus(nq->sq_buf);
	err = nvme_admin_sync(c, &cmd, NULL, "Create I/O Submission Queue");
	nq->sq_created = !err;
	return err;
}

static void queue_free(struct nvme_queue *nq)
{
	bool alive = nq->c && drv_dev_alive(nq->c->dev) == 0;
	/* Deleting the submission queue ends what is outstanding on it (5.6). */
	if (nq->sq_created && alive)
		(void)delete_queue(nq, NVME_ADMIN_DELETE_SQ, "Delete I/O Submission Queue");
	if (nq->cq_created && alive)
		(void)delete_queue(nq, NVME_ADMIN_DELETE_CQ, "Delete I/O Completion Queue");
	if (nq->slots)
		for (unsigned i = 0; i < nq->depth; i++)
			drv_buf_free(nq->slots[i].list);
	free(nq->slots);
	free(nq->instant);
	free(nq->admin.mail);
	free(nq->admin.parked);
	drv_buf_free(nq->sq_buf);
	drv_buf_free(nq->cq_buf);
	free(nq);
}

static int alloc_memory(struct nvme_queue *nq, drv_dev *dev)
{
	int err =
	    drv_dev_dma_alloc(dev, nq->entries * sizeof(struct nvme_sqe), NVME_PAGE, &nq->sq_buf);
	if (!err)
		err = drv_dev_dma_alloc(dev, nq->entries * sizeof(struct nvme_cqe), NVME_PAGE,
					&nq->cq_buf);
	if (err)
		return err;
	nq->sq = drv_buf_addr(nq->sq_buf);
	nq->cq = drv_buf_addr(nq->cq_buf);
	nq->slots = calloc(nq->depth, sizeof(*nq->slots));
	nq->instant = calloc(nq->depth, sizeof(*nq->instant));
	nq->admin.mail = calloc(nq->depth, sizeof(*nq->admin.mail));
	nq->admin.parked = calloc(nq->depth, sizeof(*nq->admin.parked));
	if (!nq->slots || !nq->instant || !nq->admin.mail || !nq->admin.parked)
		return drv_fail(-ENOMEM, "out of memory for an NVMe queue of depth %u", nq->depth);
	/*
	 * A list of this size, aligned to its size, never crosses a page (4.3):
	 * room for a PRP per page of the largest transfer, or an SGL
	 * descriptor per segment of the most a request may carry.
	 */
	size_t list_bytes = 64;
	size_t prp_bytes = (nq->c->max_transfer / NVME_PAGE) * sizeof(uint64_t);
	size_t sgl_bytes = nq->c->sgl ? nvme_max_segments(nq->c) * sizeof(struct nvme_sgl_desc) : 0;
	while (list_bytes < prp_bytes || list_bytes < sgl_bytes)
		list_bytes *= 2;
	nq->prp_entries = (unsigned)(list_bytes / sizeof(uint64_t));
	nq->sgl_entries = (unsigned)(list_bytes / sizeof(struct nvme_sgl_desc));
	for (unsigned i = 0; i < nq->depth && !err; i++)
		err = drv_dev_dma_alloc(dev, list_bytes, list_bytes, &nq->slots[i].list);
	return err;
}

int nvme_queue_create(drv_queue *q)
{
	drv_dev *dev = drv_queue_dev(q);
	struct nvme_queue *nq = calloc(1, sizeof(*nq));
	if (!nq)
		return drv_fail(-ENOMEM, "out of memory creating an NVMe queue");
	nq->c = drv_dev_priv(dev);
	nq->qid = drv_queue_id(q) + 1;
	nq->depth = drv_queue_depth(q);
	nq->entries = 2;
	while (nq->entries < nq->depth + 1)
		nq->entries *= 2;
	nq->ring.size = nq->entries;
	nq->phase = NVME_STATUS_PHASE;
	while ((1u << nq->index_bits) < nq->depth)
		nq->index_bits++;
	nq->admin.q = q;
	int err = alloc_memory(nq, dev);
	if (!err)
		err = create_pair(q, nq);
	if (err) {
		queue_free(nq);
		return err;
	}
	/* Waiters of CONTROL and WAIT_EVENT requests wake on the admin queue's vector. */
	drv_queue_watch_vector(q, 0);
	nvme_admin_attach(nq->c, nq);
	drv_queue_set_priv(q, nq);
	return 0;
}

/* On drv_close this runs after remove(): the controller is disabled and gone. */
void nvme_queue_destroy(drv_queue *q)
{
	struct nvme_queue *nq = drv_queue_priv(q);
	if (!drv_dev_priv(drv_queue_dev(q)))
		nq->c = NULL;
	else
		nvme_admin_detach(nq->c, nq);
	queue_free(nq);
	drv_queue_set_priv(q, NULL);
}

/* ---- Requests (6.9 Read, 6.15 Write, 6.8 Flush) ---------------------------------- */

/*
 * PRPs (4.3) describe the data when every segment but the first starts on
 * a page and every segment but the last ends on one (the first entry may
 * start inside a page, every other one is a whole page), all dword aligned.
 */
static bool fits_prps(const struct drv_request *r)
{
	for (unsigned i = 0; i < r->nseg; i++) {
		uint64_t bus = r->seg[i].bus, end = bus + r->seg[i].len;
		if ((i > 0 && bus % NVME_PAGE) || (i + 1 < r->nseg && end % NVME_PAGE) || (bus & 3))
			return false;
	}
	return true;
}

/*
 * An SGL (4.4) describes any segments: one Data Block descriptor in the
 * command, or a Last Segment descriptor pointing at the slot's list of them.
 */
static int build_sgl(struct nvme_queue *nq, const struct drv_request *r, struct nvme_sqe *e)
{
	struct nvme_slot *slot = &nq->slots[drv_request_index(r)];
	struct nvme_sgl_desc *list = drv_buf_addr(slot->list);
	struct nvme_sgl_desc *first = (struct nvme_sgl_desc *)e->dptr;
	if (r->nseg > nq->sgl_entries)
		return drv_fail(-E2BIG, "NVMe request of %u segments: an SGL holds %u", r->nseg,
				nq->sgl_entries);
	for (unsigned i = 0; i < r->nseg; i++) {
		if (nq->c->sgl_dword && ((r->seg[i].bus | r->seg[i].len) & 3))
			return drv_fail(-EINVAL,
					"this NVMe controller's SGLs need dword-aligned segments "
					"(segment %u is at 0x%llx, %u bytes)",
					i, (unsigned long long)r->seg[i].bus, r->seg[i].len);
		list[i] = (struct nvme_sgl_desc){ .addr = r->seg[i].bus,
						  .len = r->seg[i].len,
						  .type = NVME_SGL_DATA_BLOCK };
	}
	e->flags |= NVME_SQE_PSDT_SGL;
	if (r->nseg == 1) {
		*first = list[0];
		return 0;
	}
	*first = (struct nvme_sgl_desc){ .addr = drv_buf_bus(slot->list),
					 .len = r->nseg * (uint32_t)sizeof(*list),
					 .type = NVME_SGL_LAST_SEGMENT };
	return 0;
}

/* PRP1/PRP2 and, past two pages, the slot's PRP list. */
static int build_prps(struct nvme_queue *nq, const struct drv_request *r, struct nvme_sqe *e)
{
	struct nvme_slot *slot = &nq->slots[drv_request_index(r)];
	uint64_t *prp = drv_buf_addr(slot->list);
	uint64_t first = r->seg[0].bus;
	unsigned n = 0;
	for (unsigned i = 0; i < r->nseg; i++) {
		uint64_t bus = r->seg[i].bus, end = bus + r->seg[i].len;
		/* The pages after the one the first entry points into. */
		for (uint64_t page = (bus & ~(uint64_t)(NVME_PAGE - 1)) + (i == 0 ? NVME_PAGE : 0);
		     page < end; page += NVME_PAGE) {
			if (n == nq->prp_entries)
				return drv_fail(-E2BIG,
						"NVMe request of %u bytes spans too many pages",
						r->len);
			prp[n++] = page;
		}
	}
	e->dptr[0] = first;
	e->dptr[1] = n == 0 ? 0 : n == 1 ? prp[0] : drv_buf_bus(slot->list);
	return 0;
}

int nvme_build_data_pointer(struct nvme_queue *nq, const struct drv_request *r, struct nvme_sqe *e,
			    bool admin)
{
	if (fits_prps(r))
		return build_prps(nq, r, e);
	if (nq->c->sgl && !admin)
		return build_sgl(nq, r, e);
	return drv_fail(-EINVAL,
			"NVMe data must be pages, but for the start of the first and the end of "
			"the last segment (%s): use buffers from drv_buf_alloc or plain memory, "
			"or segments that meet at page boundaries",
			admin ? "admin commands take no SGLs" : "this controller has no SGLs");
}

/* A WAIT_EVENT waits in the driver for the next event the controller reports. */
static int park(struct nvme_queue *nq, const struct drv_request *r)
{
	if (r->len < sizeof(uint32_t) || !r->cpu)
		return drv_fail(-EINVAL, "an NVMe event is a 32-bit value: WAIT_EVENT needs a "
					 "buffer of at least 4 bytes in one piece");
	pthread_mutex_lock(&nq->c->admin.lock);
	nq->admin.parked[nq->admin.nparked++] = r;
	pthread_mutex_unlock(&nq->c->admin.lock);
	return 0;
}

int nvme_post(drv_queue *q, const struct drv_request *r)
{
	struct nvme_queue *nq = drv_queue_priv(q);
	unsigned index = drv_request_index(r);
	struct nvme_slot *slot = &nq->slots[index];
	if (r->op == DRV_OP_NOP) {
		nq->instant[nq->ninstant++] = r->tag;
		return 0;
	}
	if (r->op == DRV_OP_CONTROL)
		return nvme_admin_request(nq->c, nq, r);
	if (r->op == DRV_OP_WAIT_EVENT)
		return park(nq, r);
	if (r->op != DRV_OP_READ && r->op != DRV_OP_WRITE && r->op != DRV_OP_FLUSH)
		return drv_fail(-EOPNOTSUPP, "the NVMe driver has no request op %u", r->op);
	if (!drv_sq_room(&nq->ring))
		return -EAGAIN; /* only a controller that stopped fetching gets here */
	struct nvme_sqe *e = &nq->sq[drv_sq_index(&nq->ring)];
	memset(e, 0, sizeof(*e));
	e->nsid = NVME_NSID;
	if (r->op == DRV_OP_FLUSH) {
		e->opcode = NVME_CMD_FLUSH;
	} else {
		/* libdrv checked the range against capacity and block_size (drv_info). */
		int err = nvme_build_data_pointer(nq, r, e, false);
		if (err)
			return err;
		uint64_t slba = r->offset >> nq->c->lba_shift;
		e->opcode = r->op == DRV_OP_READ ? NVME_CMD_READ : NVME_CMD_WRITE;
		e->cdw10 = (uint32_t)slba;
		e->cdw11 = (uint32_t)(slba >> 32);
		e->cdw12 = (r->len >> nq->c->lba_shift) - 1;
	}
	e->cid = cid_of(nq, r->tag);
	slot->tag = r->tag;
	slot->len = r->op == DRV_OP_FLUSH ? 0 : r->len;
	drv_sq_push(&nq->ring);
	nq->posted_to_sq++;
	return 0;
}

unsigned nvme_commit(drv_queue *q)
{
	struct nvme_queue *nq = drv_queue_priv(q);
	if (!nq->posted_to_sq)
		return 0; /* NOPs only */
	nq->posted_to_sq = 0;
	nvme_ring(nq->c, nq->qid, false, drv_sq_index(&nq->ring));
	return 1;
}

static bool cq_ready(const struct nvme_queue *nq)
{
	const struct nvme_cqe *e = &nq->cq[nq->cq_head];
	return (__atomic_load_n(&e->status, __ATOMIC_ACQUIRE) & NVME_STATUS_PHASE) == nq->phase;
}

int nvme_reap(drv_queue *q, unsigned budget)
{
	struct nvme_queue *nq = drv_queue_priv(q);
	unsigned n = 0;
	for (; n < budget && nq->ninstant; n++)
		(void)drv_queue_complete(q, nq->instant[--nq->ninstant], 0, 0, 0);
	if (n < budget && nvme_admin_pending(nq->c, nq))
		n += nvme_admin_reap(nq->c, nq, q, budget - n);
	unsigned consumed = 0;
	while (n < budget && cq_ready(nq)) {
		struct nvme_cqe e = nq->cq[nq->cq_head];
		if (++nq->cq_head == nq->entries) {
			nq->cq_head = 0;
			nq->phase ^= NVME_STATUS_PHASE;
		}
		consumed++;
		n++;
		if (e.sq_id != nq->qid)
			continue; /* not ours: nothing to complete */
		drv_sq_consumed(&nq->ring, e.sq_head);
		unsigned index = e.cid & ((1u << nq->index_bits) - 1);
		const struct nvme_slot *slot = index < nq->depth ? &nq->slots[index] : NULL;
		/* A CID that is not the one posted for this index names no pending request. */
		uint32_t tag = slot && cid_of(nq, slot->tag) == e.cid ? slot->tag : UINT32_MAX;
		int status = nvme_status_errno(e.status);
		uint32_t result = status || !slot ? 0 : slot->len; /* bytes moved */
		(void)drv_queue_complete(q, tag, status, result, 0);
	}
	if (consumed) {
		nvme_ring(nq->c, nq->qid, true, nq->cq_head);
		return (int)n;
	}
	if (n)
		return (int)n;
	int err = nvme_ctrl_failed(nq->c);
	return err ? err : 0;
}

bool nvme_irq_enable(drv_queue *q, bool on)
{
	/* NVMe masks no single queue's interrupt; report work already waiting. */
	struct nvme_queue *nq = drv_queue_priv(q);
	return on && (nq->ninstant || cq_ready(nq) || nvme_admin_pending(nq->c, nq));
}

/*
 * QEMU's Abort command never aborts (docs/nvme.md), so only what waits in
 * the driver can be given back: a parked WAIT_EVENT.
 */
int nvme_abort(drv_queue *q, const struct drv_request *r)
{
	struct nvme_queue *nq = drv_queue_priv(q);
	struct nvme_queue_admin *qa = &nq->admin;
	if (r->op != DRV_OP_WAIT_EVENT)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&nq->c->admin.lock);
	unsigned i = 0;
	while (i < qa->nparked && qa->parked[i] != r)
		i++;
	bool found = i < qa->nparked;
	if (found) {
		qa->nparked--;
		memmove(qa->parked + i, qa->parked + i + 1,
			(qa->nparked - i) * sizeof(qa->parked[0]));
	}
	pthread_mutex_unlock(&nq->c->admin.lock);
	if (found)
		(void)drv_queue_complete(q, r->tag, -ECANCELED, 0, 0);
	return found ? 0 : -EOPNOTSUPP;
}
