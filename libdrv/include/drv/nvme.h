/* SPDX-License-Identifier: MIT */
/*
 * Control codes and events of libdrv's NVMe driver (docs/nvme.md). Submit
 * the codes as DRV_OP_CONTROL requests (drv_prep_control, then arg[0] and
 * arg[1] as each code says) on any queue of the controller; they run as
 * admin commands, and req.result is the completion's DW0. The data buffer
 * receives what the controller returns.
 *
 * DRV_OP_WAIT_EVENT parks a request until the controller reports an
 * asynchronous event (NVMe 1.4, 5.2): its buffer (at least 4 bytes)
 * receives the event's DW0, decoded by the DRV_NVME_EVENT_* macros, and
 * req.result is 4. The driver keeps Asynchronous Event Requests outstanding
 * in the controller and reads the event's log page, as the specification
 * requires before that type is reported again; events that arrive while
 * nobody waits are kept (up to 64) for later WAIT_EVENTs.
 */
#ifndef DRV_NVME_H
#define DRV_NVME_H

#include <stdint.h>

#include "drv/drv.h"

#ifdef __cplusplus
extern "C" {
#endif

enum drv_nvme_ctl {
	/* Identify (5.15): arg[0] = CNS, arg[1] = NSID; a data buffer of 4096 bytes. */
	DRV_NVME_CTL_IDENTIFY = 0x4e01,
	/*
	 * Get Log Page (5.14): arg[0] = log identifier, arg[1] = NSID (0 for
	 * the controller); the data buffer's length (a multiple of 4, at most
	 * 4096) is how much of the page is read.
	 */
	DRV_NVME_CTL_GET_LOG_PAGE = 0x4e02,
	/* Get Features (5.21): arg[0] = feature identifier, arg[1] = CDW11; result = DW0. */
	DRV_NVME_CTL_GET_FEATURES = 0x4e03,
	/*
	 * Set Features (5.27) without a data buffer: arg[0] = feature
	 * identifier, arg[1] = CDW11. Number of Queues is refused (-EPERM):
	 * the driver sets it once, before any queue exists.
	 */
	DRV_NVME_CTL_SET_FEATURES = 0x4e04,
	/*
	 * Any other admin command: the input is a struct drv_nvme_admin_cmd;
	 * data, if the command transfers any, goes from the controller into the
	 * data buffer. Commands that manage what the driver owns (queues,
	 * aborts, asynchronous events, Number of Queues, Doorbell Buffer
	 * Config) are refused with -EPERM.
	 */
	DRV_NVME_CTL_ADMIN = 0x4e05,
};

struct drv_nvme_admin_cmd {
	uint8_t opcode;
	uint8_t reserved[3];
	uint32_t nsid;
	uint32_t cdw[6]; /* CDW10 .. CDW15 */
};

/* Fields of a WAIT_EVENT's DW0: event type (0 error, 1 SMART/health, 2 notice, 6 I/O set). */
#define DRV_NVME_EVENT_TYPE(dw0) ((dw0)&0x7u)
#define DRV_NVME_EVENT_INFO(dw0) (((dw0) >> 8) & 0xffu)
#define DRV_NVME_EVENT_LOG_PAGE(dw0) (((dw0) >> 16) & 0xffu)

#ifdef __cplusplus
}
#endif

#endif
