/* SPDX-License-Identifier: MIT */
/*
 * Control codes of libdrv's driver for QEMU's educational PCI device
 * (`-device edu`, 1234:11e8). Submit them as DRV_OP_CONTROL requests with
 * the argument in req.arg[0]; the answer is in req.result.
 *
 * The device does one thing at a time, so the driver runs requests strictly
 * in submission order, one after the other; a DMA takes 100 ms of the
 * emulator's clock. READ/WRITE move data between host DMA memory and the
 * device's buffer: offset + length <= EDU_CAPACITY, one segment, no more.
 */
#ifndef DRV_EDU_H
#define DRV_EDU_H

#include "drv/drv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of the device buffer READ/WRITE can reach (the buffer is 4 KiB; see docs/edu.md). */
#define EDU_CAPACITY 4095u
/* The value EDU_CTL_IDENTITY returns on QEMU's edu 1.0. */
#define EDU_IDENTITY 0x010000edu

enum edu_ctl {
	/* result = the identity register, 0xMMmm00ed for version MM.mm */
	EDU_CTL_IDENTITY = 1,
	/* arg[0] = a 32-bit value; result = its bitwise inverse, as the device computes it */
	EDU_CTL_LIVENESS = 2,
	/* arg[0] = n (32-bit); result = n! modulo 2^32, computed by the device */
	EDU_CTL_FACTORIAL = 3,
	/*
	 * arg[0] = a non-zero 32-bit value without bits 0x1 and 0x100 (the
	 * device uses those for its own completions). The device raises an
	 * interrupt carrying it; a parked DRV_OP_WAIT_EVENT gets the value in
	 * its buffer (uint32_t, result = 4). Each raise is a separate event;
	 * raises nobody waits for are kept (up to 16) for later WAIT_EVENTs.
	 */
	EDU_CTL_RAISE = 4,
};

#ifdef __cplusplus
}
#endif

#endif
