/* SPDX-License-Identifier: MIT */
/*
 * Register page accessors. The page is shared with a driver in another
 * thread or process, so every access is an atomic load or store.
 */
#ifndef DEVSIM_REGS_H
#define DEVSIM_REGS_H

#include <stdint.h>

#include "devsim/dsim_hw.h"
#include "drv/mmio.h"

static inline uint32_t *dsim_reg32_ptr(uint8_t *page, uint32_t off)
{
	return (uint32_t *)(void *)(page + off);
}

static inline uint64_t *dsim_reg64_ptr(uint8_t *page, uint32_t off)
{
	return (uint64_t *)(void *)(page + off);
}

static inline uint32_t dsim_rd32(uint8_t *page, uint32_t off)
{
	return drv_mmio_rd32(page, off);
}

static inline uint64_t dsim_rd64(uint8_t *page, uint32_t off)
{
	return drv_mmio_rd64(page, off);
}

static inline void dsim_wr32(uint8_t *page, uint32_t off, uint32_t v)
{
	drv_mmio_wr32(page, off, v);
}

static inline void dsim_wr64(uint8_t *page, uint32_t off, uint64_t v)
{
	drv_mmio_wr64(page, off, v);
}

static inline void dsim_stat_add(uint8_t *page, unsigned stat, uint64_t n)
{
	/* Only the device writes counters: a load and a store suffice. */
	uint64_t *p = dsim_reg64_ptr(page, DSIM_REG_STAT(stat));
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint32_t dsim_qrd32(uint8_t *page, unsigned q, uint32_t reg)
{
	return dsim_rd32(page, DSIM_REG_Q(q, reg));
}

static inline void dsim_qwr32(uint8_t *page, unsigned q, uint32_t reg, uint32_t v)
{
	dsim_wr32(page, DSIM_REG_Q(q, reg), v);
}

#endif
