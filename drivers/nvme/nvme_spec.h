/* SPDX-License-Identifier: MIT */
/*
 * What the NVMe driver uses of the NVM Express Base Specification 1.4:
 * controller registers (section 3.1), the submission and completion queue
 * entries (4.2, 4.6), admin and NVM command set opcodes (5, 6) and the
 * Identify data structures (5.15). Section numbers are the 1.4 document's.
 */
#ifndef NVME_SPEC_H
#define NVME_SPEC_H

#include <stdint.h>

/* ---- Controller registers (3.1) ---------------------------------------- */
#define NVME_REG_CAP 0x00   /* u64 Controller Capabilities */
#define NVME_REG_VS 0x08    /* u32 Version */
#define NVME_REG_INTMS 0x0c /* u32 Interrupt Mask Set (INTx and MSI only) */
#define NVME_REG_INTMC 0x10 /* u32 Interrupt Mask Clear */
#define NVME_REG_CC 0x14    /* u32 Controller Configuration */
#define NVME_REG_CSTS 0x1c  /* u32 Controller Status */
#define NVME_REG_AQA 0x24   /* u32 Admin Queue Attributes */
#define NVME_REG_ASQ 0x28   /* u64 Admin Submission Queue base */
#define NVME_REG_ACQ 0x30   /* u64 Admin Completion Queue base */
#define NVME_REG_DOORBELLS 0x1000
#define NVME_REGS_MIN 0x2000 /* the registers and the first doorbells */

#define NVME_CAP_MQES(cap) ((uint32_t)((cap)&0xffff))        /* largest queue size - 1 */
#define NVME_CAP_CQR(cap) ((uint32_t)((cap) >> 16) & 1)      /* queues must be contiguous */
#define NVME_CAP_TO(cap) ((uint32_t)((cap) >> 24) & 0xff)    /* ready timeout, 500 ms units */
#define NVME_CAP_DSTRD(cap) ((uint32_t)((cap) >> 32) & 0xf)  /* doorbell stride 4 << n */
#define NVME_CAP_CSS_NVM(cap) ((uint32_t)((cap) >> 37) & 1)  /* NVM command set */
#define NVME_CAP_MPSMIN(cap) ((uint32_t)((cap) >> 48) & 0xf) /* page 4 KiB << n */

#define NVME_CC_EN (1u << 0)
#define NVME_CC_CSS_NVM (0u << 4)
#define NVME_CC_MPS(shift) (((uint32_t)(shift)-12) << 7) /* memory page 2^shift */
#define NVME_CC_AMS_RR (0u << 11)
#define NVME_CC_SHN_NORMAL (1u << 14)
#define NVME_CC_IOSQES(log2) ((uint32_t)(log2) << 16)
#define NVME_CC_IOCQES(log2) ((uint32_t)(log2) << 20)

#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1) /* controller fatal status */
#define NVME_CSTS_SHST_MASK (3u << 2)
#define NVME_CSTS_SHST_DONE (2u << 2)

/* AQA: admin completion queue size - 1 in bits 27:16, submission in 11:0. */
#define NVME_AQA(sq_entries, cq_entries)                                                           \
	((((uint32_t)(cq_entries)-1) << 16) | ((uint32_t)(sq_entries)-1))

/* ---- Queue entries (4.2, 4.6) ------------------------------------------- */
struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags; /* bits 7:6 PSDT: 0 PRPs, 1 SGL */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint64_t dptr[2]; /* PRP1, PRP2, or one SGL descriptor */
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "an NVMe submission entry is 64 bytes");
#define NVME_SQE_LOG2 6

#define NVME_SQE_PSDT_SGL (1u << 6) /* data pointer is an SGL, metadata a pointer */

struct nvme_cqe {
	uint32_t result; /* command specific (DW0) */
	uint32_t dw1;
	uint16_t sq_head;
	uint16_t sq_id;
	uint16_t cid;
	uint16_t status; /* bit 0 phase, 8:1 status code, 11:9 status code type, 15 DNR */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "an NVMe completion entry is 16 bytes");
#define NVME_CQE_LOG2 4

#define NVME_STATUS_PHASE 1u
#define NVME_STATUS_SC(s) (((s) >> 1) & 0xff)
#define NVME_STATUS_SCT(s) (((s) >> 9) & 0x7)

/* Generic command status (SCT 0), 4.6.1.2.1. */
#define NVME_SC_SUCCESS 0x00
#define NVME_SC_INVALID_OPCODE 0x01
#define NVME_SC_INVALID_FIELD 0x02
#define NVME_SC_DATA_TRANSFER_ERROR 0x04
#define NVME_SC_ABORTED_BY_REQUEST 0x07
#define NVME_SC_ABORTED_SQ_DELETED 0x08
#define NVME_SC_INVALID_NAMESPACE 0x0b
#define NVME_SC_LBA_OUT_OF_RANGE 0x80
#define NVME_SC_CAPACITY_EXCEEDED 0x81
/* Command specific status (SCT 1). */
#define NVME_SCT_COMMAND_SPECIFIC 1
#define NVME_SC_ABORT_LIMIT 0x03 /* also AER limit exceeded */
/* Media errors (SCT 2). */
#define NVME_SCT_MEDIA 2

/* SGL descriptors (4.4): data block, segment, last segment. */
struct nvme_sgl_desc {
	uint64_t addr;
	uint32_t len;
	uint8_t rsvd[3];
	uint8_t type; /* bits 7:4 type, 3:0 subtype */
};
_Static_assert(sizeof(struct nvme_sgl_desc) == 16, "an SGL descriptor is 16 bytes");
#define NVME_SGL_DATA_BLOCK 0x00
#define NVME_SGL_LAST_SEGMENT 0x30

/* ---- Admin commands (5) --------------------------------------------------- */
#define NVME_ADMIN_DELETE_SQ 0x00
#define NVME_ADMIN_CREATE_SQ 0x01
#define NVME_ADMIN_GET_LOG_PAGE 0x02
#define NVME_ADMIN_DELETE_CQ 0x04
#define NVME_ADMIN_CREATE_CQ 0x05
#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_ADMIN_ABORT 0x08
#define NVME_ADMIN_SET_FEATURES 0x09
#define NVME_ADMIN_GET_FEATURES 0x0a
#define NVME_ADMIN_ASYNC_EVENT 0x0c
#define NVME_ADMIN_DOORBELL_BUFFER_CONFIG 0x7c

/* Create I/O queues (5.4, 5.5): cdw10 = (size - 1) << 16 | qid. */
#define NVME_QUEUE_CDW10(qid, entries) ((((uint32_t)(entries)-1) << 16) | (uint32_t)(qid))
#define NVME_CQ_PC (1u << 0)  /* physically contiguous */
#define NVME_CQ_IEN (1u << 1) /* interrupts enabled */
#define NVME_CQ_IV(v) ((uint32_t)(v) << 16)
#define NVME_SQ_PC (1u << 0)
#define NVME_SQ_CQID(q) ((uint32_t)(q) << 16)

#define NVME_IDENTIFY_NS 0x00
#define NVME_IDENTIFY_CTRL 0x01
#define NVME_IDENTIFY_BYTES 4096

#define NVME_FEAT_NUM_QUEUES 0x07 /* cdw11/result: (cqs - 1) << 16 | (sqs - 1) */
#define NVME_FEAT_ASYNC_EVENT 0x0b

/* ---- NVM command set (6) --------------------------------------------------- */
#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ 0x02

/* ---- Identify data (5.15.2) ------------------------------------------------ */
#define NVME_ID_CTRL_SN 4     /* 20 ASCII bytes, space padded */
#define NVME_ID_CTRL_MN 24    /* 40 */
#define NVME_ID_CTRL_FR 64    /* 8 */
#define NVME_ID_CTRL_MDTS 77  /* max transfer 2^n min pages, 0: no limit */
#define NVME_ID_CTRL_VER 80   /* u32 */
#define NVME_ID_CTRL_AERL 259 /* outstanding AERs - 1 */
#define NVME_ID_CTRL_NN 516   /* u32 number of namespaces */
#define NVME_ID_CTRL_SGLS 536 /* u32: bits 1:0 nonzero when SGLs are supported */

#define NVME_ID_NS_NSZE 0   /* u64 size in logical blocks */
#define NVME_ID_NS_NLBAF 25 /* number of LBA formats - 1 */
#define NVME_ID_NS_FLBAS 26 /* bits 3:0 the format in use */
#define NVME_ID_NS_LBAF 128 /* u32 per format: bits 23:16 LBADS (log2 block size) */

#endif
