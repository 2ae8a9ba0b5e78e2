/* SPDX-License-Identifier: MIT */
/*
 * A QEMU guest's RAM, shared with devsim through the guest's
 * memory-backend-file, as the device's DMA windows: bus address =
 * guest-physical address, so the device writes guest RAM exactly where a
 * real PCI device would.
 */
#ifndef DEVSIM_GUEST_RAM_H
#define DEVSIM_GUEST_RAM_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/*
 * Where a q35 machine puts RAM of `size` bytes: the first `low` bytes of
 * the file at guest-physical 0, the rest (`high`, 0 for guests below
 * 2.75 GiB) at 4 GiB, above the PCI hole.
 */
struct guest_ram_layout {
	uint64_t low;
	uint64_t high;
};
#define GUEST_RAM_HIGH_BASE (4ull << 30)

void guest_ram_layout(uint64_t size, struct guest_ram_layout *out);

/*
 * Maps the file at `path` into the device's DMA windows. Returns 0,
 * -EAGAIN while QEMU has not created or sized the file yet, or another
 * -errno with a message in err. The windows are dropped (and the mapping
 * released) by dsim_dev_detach().
 */
int guest_ram_attach(struct dsim_dev *d, const char *path, uint64_t *size, char *err,
		     size_t errlen);

#endif
