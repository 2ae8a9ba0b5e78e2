/* SPDX-License-Identifier: MIT */
/*
 * NVMe controller bring-up (NVMe 1.4, 7.6.1): disable, admin queue, enable,
 * Identify controller and namespace, Set Features Number of Queues. Every
 * value read from the controller is checked before it sizes anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drv/mmio.h>

#include "nvme.h"

#define READY_TIMEOUT_MAX_NS (60ull * 1000 * 1000 * 1000)

static const char *address(const struct nvme_ctrl *c)
{
	return drv_dev_info(c->dev)->address;
}

int nvme_ctrl_failed(const struct nvme_ctrl *c)
{
	uint32_t csts = drv_mmio_rd32(c->regs, NVME_REG_CSTS);
	if (csts == UINT32_MAX)
		return drv_fail(-ENODEV, "NVMe controller at %s reads as absent", address(c));
	if (csts & NVME_CSTS_CFS)
		return drv_fail(-EIO,
				"NVMe controller at %s reports a fatal error (CSTS.CFS): "
				"drv_reset() resets it",
				address(c));
	return 0;
}

int nvme_status_errno(uint16_t status)
{
	unsigned sc = NVME_STATUS_SC(status), sct = NVME_STATUS_SCT(status);
	if (sct == 0) {
		switch (sc) {
		case NVME_SC_SUCCESS:
			return 0;
		case NVME_SC_INVALID_OPCODE:
			return -EOPNOTSUPP;
		case NVME_SC_INVALID_FIELD:
			return -EINVAL;
		case NVME_SC_DATA_TRANSFER_ERROR:
			return -EFAULT;
		case NVME_SC_ABORTED_BY_REQUEST:
		case NVME_SC_ABORTED_SQ_DELETED:
			return -ECANCELED;
		case NVME_SC_INVALID_NAMESPACE:
			return -ENODEV;
		case NVME_SC_LBA_OUT_OF_RANGE:
			return -ERANGE;
		case NVME_SC_CAPACITY_EXCEEDED:
			return -ENOSPC;
		}
	}
	return -EIO;
}

/* ---- Enable and disable (7.6.1, 7.6.2) -------------------------------------- */

static int wait_ready(struct nvme_ctrl *c, bool ready)
{
	int err =
	    drv_dev_wait32(c->dev, c->regs, NVME_REG_CSTS, NVME_CSTS_RDY, ready ? NVME_CSTS_RDY : 0,
			   ready ? NVME_CSTS_CFS : 0, c->ready_timeout_ns);
	if (err == -EIO)
		return drv_fail(err, "NVMe controller at %s reported a fatal error while %s",
				address(c), ready ? "enabling" : "disabling");
	if (err == -ETIMEDOUT)
		return drv_fail(err,
				"NVMe controller at %s did not become %s within CAP.TO (%llu ms)",
				address(c), ready ? "ready" : "idle",
				(unsigned long long)(c->ready_timeout_ns / 1000000));
	if (err == -ENODEV)
		return drv_fail(err, "NVMe controller at %s went away while %s", address(c),
				ready ? "enabling" : "disabling");
	return err;
}

static int disable(struct nvme_ctrl *c)
{
	uint32_t cc = drv_mmio_rd32(c->regs, NVME_REG_CC);
	if (cc & NVME_CC_EN)
		drv_mmio_wr32(c->regs, NVME_REG_CC, cc & ~NVME_CC_EN);
	return wait_ready(c, false);
}

static int setup_admin_queue(struct nvme_ctrl *c)
{
	struct nvme_admin *a = &c->admin;
	int err = drv_dev_dma_alloc(c->dev, NVME_ADMIN_ENTRIES * sizeof(struct nvme_sqe), NVME_PAGE,
				    &a->sq_buf);
	if (!err)
		err = drv_dev_dma_alloc(c->dev, NVME_ADMIN_ENTRIES * sizeof(struct nvme_cqe),
					NVME_PAGE, &a->cq_buf);
	if (!err)
		err = drv_dev_dma_alloc(c->dev, NVME_IDENTIFY_BYTES, NVME_PAGE, &c->scratch);
	if (!err)
		err = drv_dev_dma_alloc(c->dev, NVME_LOG_BYTES, NVME_PAGE, &a->log_buf);
	if (err)
		return err;
	a->sq = drv_buf_addr(a->sq_buf);
	a->cq = drv_buf_addr(a->cq_buf);
	a->sq_tail = a->cq_head = 0;
	a->phase = NVME_STATUS_PHASE;
	drv_mmio_wr32(c->regs, NVME_REG_AQA, NVME_AQA(NVME_ADMIN_ENTRIES, NVME_ADMIN_ENTRIES));
	drv_mmio_wr64(c->regs, NVME_REG_ASQ, drv_buf_bus(a->sq_buf));
	drv_mmio_wr64(c->regs, NVME_REG_ACQ, drv_buf_bus(a->cq_buf));
	return 0;
}

static int enable(struct nvme_ctrl *c)
{
	drv_mmio_wr32(c->regs, NVME_REG_CC,
		      NVME_CC_EN | NVME_CC_CSS_NVM | NVME_CC_MPS(NVME_PAGE_SHIFT) | NVME_CC_AMS_RR |
			  NVME_CC_IOSQES(NVME_SQE_LOG2) | NVME_CC_IOCQES(NVME_CQE_LOG2));
	return wait_ready(c, true);
}

/* ---- What the controller says about itself ------------------------------------ */

static int check_cap(struct nvme_ctrl *c)
{
	uint64_t cap = c->cap;
	if (cap == UINT64_MAX)
		return drv_fail(-ENODEV, "NVMe controller at %s reads as absent", address(c));
	if (!NVME_CAP_CSS_NVM(cap))
		return drv_fail(-ENODEV, "NVMe controller at %s has no NVM command set",
				address(c));
	if (NVME_CAP_MPSMIN(cap) != 0)
		return drv_fail(-ENODEV,
				"NVMe controller at %s needs memory pages of %u bytes; libdrv "
				"uses 4096",
				address(c), 4096u << NVME_CAP_MPSMIN(cap));
	if (NVME_CAP_MQES(cap) < 1)
		return drv_fail(-ENODEV, "NVMe controller at %s reports queues of one entry",
				address(c));
	c->doorbell_stride = 4u << NVME_CAP_DSTRD(cap);
	uint64_t to = (uint64_t)(NVME_CAP_TO(cap) ? NVME_CAP_TO(cap) : 1) * 500 * 1000 * 1000;
	c->ready_timeout_ns = to < READY_TIMEOUT_MAX_NS ? to : READY_TIMEOUT_MAX_NS;
	if (c->regs_len < NVME_REG_DOORBELLS + 2 * c->doorbell_stride)
		return drv_fail(-ENODEV, "BAR0 of %s (%zu bytes) has no room for doorbells",
				address(c), c->regs_len);
	return 0;
}

/* An Identify string: ASCII, space padded, not terminated. */
static void copy_id_string(char *dst, size_t dst_len, const uint8_t *src, size_t src_len)
{
	size_t n = src_len < dst_len - 1 ? src_len : dst_len - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

static int identify(struct nvme_ctrl *c, uint32_t cns, uint32_t nsid, const char *what)
{
	memset(drv_buf_addr(c->scratch), 0, NVME_IDENTIFY_BYTES);
	struct nvme_sqe cmd = { .opcode = NVME_ADMIN_IDENTIFY, .nsid = nsid, .cdw10 = cns };
	cmd.dptr[0] = drv_buf_bus(c->scratch);
	return nvme_admin_sync(c, &cmd, NULL, what);
}

static uint32_t le32_at(const uint8_t *p, size_t off)
{
	uint32_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}

static int identify_controller(struct nvme_ctrl *c, struct drv_info *info)
{
	int err = identify(c, NVME_IDENTIFY_CTRL, 0, "Identify Controller");
	if (err)
		return err;
	const uint8_t *id = drv_buf_addr(c->scratch);
	copy_id_string(info->model, sizeof(info->model), id + NVME_ID_CTRL_MN, 40);
	copy_id_string(info->serial, sizeof(info->serial), id + NVME_ID_CTRL_SN, 20);
	copy_id_string(info->firmware, sizeof(info->firmware), id + NVME_ID_CTRL_FR, 8);
	if (le32_at(id, NVME_ID_CTRL_NN) < NVME_NSID)
		return drv_fail(-ENODEV, "NVMe controller at %s has no namespace", address(c));
	/* MDTS is in units of the minimum page; 0 means no limit. */
	uint32_t pages = NVME_MAX_PRP_ENTRIES;
	uint8_t mdts = id[NVME_ID_CTRL_MDTS];
	if (mdts && mdts < 10 && (1u << mdts) < pages)
		pages = 1u << mdts;
	c->max_transfer = pages * NVME_PAGE;
	uint32_t sgls = le32_at(id, NVME_ID_CTRL_SGLS) & 3;
	c->sgl = sgls == 1 || sgls == 2;
	c->sgl_dword = sgls == 2;
	unsigned aerl = id[NVME_ID_CTRL_AERL] + 1u;
	c->aer_limit = aerl < NVME_AER_MAX ? aerl : NVME_AER_MAX;
	return 0;
}

static int identify_namespace(struct nvme_ctrl *c)
{
	int err = identify(c, NVME_IDENTIFY_NS, NVME_NSID, "Identify Namespace");
	if (err)
		return err;
	const uint8_t *id = drv_buf_addr(c->scratch);
	uint64_t nsze;
	memcpy(&nsze, id + NVME_ID_NS_NSZE, sizeof(nsze));
	unsigned format = id[NVME_ID_NS_FLBAS] & 0xf;
	if (format > id[NVME_ID_NS_NLBAF])
		return drv_fail(-EIO, "NVMe namespace at %s uses LBA format %u of %u", address(c),
				format, id[NVME_ID_NS_NLBAF] + 1u);
	uint32_t lbads = (le32_at(id, NVME_ID_NS_LBAF + 4 * format) >> 16) & 0xff;
	if (lbads < 9 || lbads > NVME_PAGE_SHIFT)
		return drv_fail(-EIO,
				"NVMe namespace at %s has blocks of 2^%u bytes; libdrv handles 512 "
				"to 4096",
				address(c), lbads);
	if (nsze == 0 || nsze > (UINT64_MAX >> lbads))
		return drv_fail(-EIO, "NVMe namespace at %s reports %llu blocks", address(c),
				(unsigned long long)nsze);
	c->lba_shift = lbads;
	c->nsze = nsze;
	return 0;
}

/* Asks for as many I/O queue pairs as libdrv can use; valid only before any exists. */
static int negotiate_queues(struct nvme_ctrl *c)
{
	uint32_t want = NVME_MAX_IO_QUEUES - 1;
	struct nvme_sqe cmd = { .opcode = NVME_ADMIN_SET_FEATURES,
				.cdw10 = NVME_FEAT_NUM_QUEUES,
				.cdw11 = want << 16 | want };
	uint32_t got;
	int err = nvme_admin_sync(c, &cmd, &got, "Set Features (Number of Queues)");
	if (err)
		return err;
	uint32_t sqs = (got & 0xffff) + 1, cqs = (got >> 16) + 1;
	unsigned n = sqs < cqs ? sqs : cqs;
	if (n > NVME_MAX_IO_QUEUES)
		n = NVME_MAX_IO_QUEUES;
	/* Each pair needs its two doorbells inside BAR0. */
	size_t room = (c->regs_len - NVME_REG_DOORBELLS) / (2 * c->doorbell_stride);
	if (room < 2)
		return drv_fail(-ENODEV, "BAR0 of %s has no room for I/O queue doorbells",
				address(c));
	if (n > room - 1)
		n = (unsigned)(room - 1);
	c->io_queues = n;
	return 0;
}

static int describe(struct nvme_ctrl *c)
{
	struct drv_info info = *drv_dev_info(c->dev);
	int err = identify_controller(c, &info);
	if (!err)
		err = identify_namespace(c);
	if (!err)
		err = negotiate_queues(c);
	if (err)
		return err;
	info.hw_version = drv_mmio_rd32(c->regs, NVME_REG_VS);
	/*
	 * Several segments per request: PRPs take those that meet at page
	 * boundaries, SGLs (when the controller has them) any.
	 */
	info.features = DRV_FEAT_STORAGE | DRV_FEAT_SGL | DRV_FEAT_EVENTS | DRV_FEAT_ABORT;
	info.capacity = c->nsze << c->lba_shift;
	info.block_size = 1u << c->lba_shift;
	info.max_queues = c->io_queues;
	/* Queue sizes are powers of two (one entry stays empty): MQES + 1 entries at most. */
	uint32_t entries = 2;
	while (entries * 2 <= NVME_CAP_MQES(c->cap) + 1 && entries * 2 <= DRV_QUEUE_MAX_DEPTH)
		entries *= 2;
	info.max_queue_depth = entries - 1;
	info.max_transfer = c->max_transfer;
	info.max_sg = nvme_max_segments(c);
	drv_dev_set_info(c->dev, &info);
	return 0;
}

static void ctrl_free(struct nvme_ctrl *c)
{
	nvme_admin_fini(&c->admin);
	drv_buf_free(c->scratch);
	free(c);
}

static int nvme_probe(drv_dev *dev)
{
	struct nvme_ctrl *c = calloc(1, sizeof(*c));
	if (!c)
		return drv_fail(-ENOMEM, "out of memory probing an NVMe controller");
	c->dev = dev;
	nvme_admin_init(&c->admin);
	volatile void *regs;
	int err = drv_dev_map_bar(dev, 0, &regs, &c->regs_len);
	if (!err && c->regs_len < NVME_REGS_MIN)
		err = drv_fail(-ENODEV, "BAR0 of %s is %zu bytes: not an NVMe controller",
			       drv_dev_info(dev)->address, c->regs_len);
	if (!err) {
		c->regs = (volatile uint8_t *)regs;
		c->cap = drv_mmio_rd64(c->regs, NVME_REG_CAP);
		err = check_cap(c);
	}
	if (!err)
		err = disable(c);
	if (!err) {
		/*
		 * Vector 0 serves the admin queue, one more per I/O queue when
		 * there are enough. Set up before CC.EN creates the admin
		 * completion queue: QEMU 7.2 signals MSI-X only on vectors in use
		 * when their queue was created, so an admin queue created with
		 * MSI-X still off would never interrupt (docs/nvme.md).
		 */
		int n = drv_dev_irq_setup(dev, 1 + NVME_MAX_IO_QUEUES);
		err = n < 0 ? n : 0;
		c->vectors = n > 0 ? (unsigned)n : 0;
	}
	if (!err)
		err = setup_admin_queue(c);
	if (!err)
		err = enable(c);
	if (!err)
		err = describe(c);
	if (!err)
		err = nvme_admin_start_events(c, c->aer_limit);
	if (err) {
		if (c->regs && drv_dev_alive(dev) == 0)
			(void)disable(c);
		ctrl_free(c);
		return err;
	}
	drv_dev_set_priv(dev, c);
	return 0;
}

/* Disabling frees every queue in the controller (7.6.2): it touches no memory after. */
static void nvme_remove(drv_dev *dev)
{
	struct nvme_ctrl *c = drv_dev_priv(dev);
	if (!c)
		return;
	if (drv_dev_alive(dev) == 0)
		(void)disable(c);
	ctrl_free(c);
	drv_dev_set_priv(dev, NULL);
}

/* Any NVMe controller (class 01, subclass 08, programming interface 02). */
static const struct drv_pci_id nvme_ids[] = {
	{ DRV_PCI_ANY_ID, DRV_PCI_ANY_ID, 0x010802, 0xffffff }, { 0 }
};

const struct drv_driver nvme_driver = {
	DRV_DRIVER_INIT,
	.name = "nvme",
	.ids = nvme_ids,
	.probe = nvme_probe,
	.remove = nvme_remove,
	.queue_create = nvme_queue_create,
	.queue_destroy = nvme_queue_destroy,
	.post = nvme_post,
	.commit = nvme_commit,
	.reap = nvme_reap,
	.abort = nvme_abort,
	.irq_enable = nvme_irq_enable,
};
