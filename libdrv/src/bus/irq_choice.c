/* SPDX-License-Identifier: MIT */
#include "irq_choice.h"

static unsigned at_most(unsigned have, unsigned wanted)
{
	return have < wanted ? have : wanted;
}

struct drv_irq_pick drvi_irq_choose(const struct drv_irq_avail *avail, unsigned wanted)
{
	if (wanted == 0)
		return (struct drv_irq_pick){ DRV_IRQ_NONE, 0 };
	if (avail->msix)
		return (struct drv_irq_pick){ DRV_IRQ_MSIX, at_most(avail->msix, wanted) };
	if (avail->msi)
		return (struct drv_irq_pick){ DRV_IRQ_MSI, at_most(avail->msi, wanted) };
	if (avail->intx)
		return (struct drv_irq_pick){ DRV_IRQ_INTX, 1 };
	return (struct drv_irq_pick){ DRV_IRQ_NONE, 0 };
}
