/* SPDX-License-Identifier: MIT */
/*
 * Register access for memory shared with a device: a BAR, or the register
 * page devsim shares with a driver in another thread or process. Every
 * access is one atomic load (acquire: what the device wrote before it is
 * seen after) or store (release: what the driver wrote before, a ring
 * entry, is visible before the register), so neither compiler nor CPU
 * tears, merges or reorders it.
 */
#ifndef DRV_MMIO_H
#define DRV_MMIO_H

#include <stdint.h>

/*
 * Reads or writes the 32- or 64-bit register at byte offset `off` of a
 * mapped register window (drv_dev_map_bar) or of memory shared with a
 * device; `off` must be aligned to the access size.
 */

static inline uint32_t drv_mmio_rd32(const volatile void *base, uint32_t off)
{
	return __atomic_load_n((const volatile uint32_t *)((const volatile uint8_t *)base + off),
			       __ATOMIC_ACQUIRE);
}
static inline uint64_t drv_mmio_rd64(const volatile void *base, uint32_t off)
{
	return __atomic_load_n((const volatile uint64_t *)((const volatile uint8_t *)base + off),
			       __ATOMIC_ACQUIRE);
}
static inline void drv_mmio_wr32(volatile void *base, uint32_t off, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)((volatile uint8_t *)base + off), v,
			 __ATOMIC_RELEASE);
}
static inline void drv_mmio_wr64(volatile void *base, uint32_t off, uint64_t v)
{
	__atomic_store_n((volatile uint64_t *)((volatile uint8_t *)base + off), v,
			 __ATOMIC_RELEASE);
}

#endif
