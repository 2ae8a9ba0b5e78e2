/* SPDX-License-Identifier: MIT */
/*
 * Register map of QEMU's educational PCI device (`-device edu`, 1234:11e8),
 * as measured on QEMU 7.2 (see the project's PLATFORM notes and docs/edu.md).
 * BAR0 is a 1 MiB MMIO window; registers below 0x80 accept only 4-byte
 * accesses, the DMA registers 4 or 8 bytes (a 4-byte write sets the whole
 * 64-bit register, which suffices: edu addresses fit in 28 bits).
 */
#ifndef DRV_EDU_REGS_H
#define DRV_EDU_REGS_H

#define EDU_VENDOR_ID 0x1234
#define EDU_DEVICE_ID 0x11e8

#define EDU_REG_ID 0x00 /* reads EDU_ID_VALUE: 0xMMmm00ed, version MM.mm */
#define EDU_ID_VALUE 0x010000edu
#define EDU_ID_MAGIC_MASK 0xffu
#define EDU_ID_MAGIC 0xedu

#define EDU_REG_LIVENESS 0x04  /* reads back the bitwise inverse of what was written */
#define EDU_REG_FACTORIAL 0x08 /* write n: starts n!; read: the 32-bit (wrapped) result */

#define EDU_REG_STATUS 0x20
#define EDU_STATUS_COMPUTING 0x01u /* factorial running; writes to 0x08 are ignored */
#define EDU_STATUS_IRQFACT 0x80u   /* raise EDU_IRQ_FACT when the factorial is done */

#define EDU_REG_IRQ_STATUS 0x24 /* pending interrupt bits; the line is up while non-zero */
#define EDU_REG_IRQ_RAISE 0x60  /* ORs the written value into IRQ_STATUS and interrupts */
#define EDU_REG_IRQ_ACK 0x64    /* clears the written bits of IRQ_STATUS */
#define EDU_IRQ_FACT 0x001u
#define EDU_IRQ_DMA 0x100u
/* Bits of IRQ_STATUS that only EDU_REG_IRQ_RAISE can set, i.e. software events. */
#define EDU_IRQ_EVENT_MASK (~(EDU_IRQ_FACT | EDU_IRQ_DMA))

/* DMA engine: ignores every write to these while EDU_DMA_RUN is set. */
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_COUNT 0x90
#define EDU_REG_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1u    /* start; the device clears it when the transfer is done */
#define EDU_DMA_TO_RAM 0x2u /* direction: edu buffer -> RAM (clear: RAM -> edu buffer) */
#define EDU_DMA_IRQ 0x4u    /* raise EDU_IRQ_DMA when done */

/* The device's own 4 KiB buffer, reachable only by DMA, at this device address. */
#define EDU_BUF_ADDR 0x40000u
#define EDU_BUF_SIZE 4096u
/*
 * QEMU 7.2 checks a transfer as [addr, addr + count) with addr + count
 * strictly inside the buffer, and a failed check stops the whole VM
 * (hw_error, "EDU: DMA range ... out of bounds"). So the last byte is
 * unreachable: offset + count <= 4095, and count >= 1.
 */
#define EDU_BUF_USABLE (EDU_BUF_SIZE - 1u)

/* Each transfer completes from a 100 ms timer of QEMU's virtual clock. */
#define EDU_DMA_TIME_MS 100u
/* Bus addresses are masked to 28 bits by the device: 256 MiB reach. */
#define EDU_DMA_MASK ((1ull << 28) - 1)

#define EDU_BAR 0

/* PCI Local Bus 3.0, 6.2.2: the command register and its bus-master enable. */
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MASTER 0x0004u
#define EDU_BAR_MIN_LEN 0x100u

#endif
