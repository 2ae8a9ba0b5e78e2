/* SPDX-License-Identifier: MIT */
/*
 * Which interrupt kind a PCI function should use, given how many vectors
 * of each it offers: MSI-X before MSI before INTx, because message
 * interrupts need no unmasking round trip and allow several vectors.
 */
#ifndef DRV_BUS_IRQ_CHOICE_H
#define DRV_BUS_IRQ_CHOICE_H

#include "drv/drv.h"

struct drv_irq_avail {
	unsigned msix, msi, intx; /* vectors offered of each kind */
};

struct drv_irq_pick {
	enum drv_irq_mode mode; /* DRV_IRQ_NONE when nothing is wanted or offered */
	unsigned vectors;
};

struct drv_irq_pick drvi_irq_choose(const struct drv_irq_avail *avail, unsigned wanted);

#endif
