/* SPDX-License-Identifier: MIT */
/*
 * A hostile driver against the dsim model, with no device thread: the
 * input's program (dsim_guest.c) writes registers and rings and decides
 * when the device runs a pass. Invariants: no crash, no undefined
 * behaviour, no leak; the ring indices the device keeps stay inside its
 * rings; and the device writes nothing outside its two DMA windows, which
 * lie in one allocation between guard bytes (window 1's bus range starts
 * right where window 0's ends, its memory does not).
 */
#include <string.h>

#include "dsim_guest.h"
#include "regs.h"

static struct dsim_dev *dev;
static uint8_t *mem; /* dsim_guest_memory(): both windows between guard bytes */

static void pass(struct dsim_guest *g)
{
	dsim_dev_process(g->d);
	dsim_guest_check(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dev) {
		dev = dsim_guest_device(2);
		mem = dsim_guest_memory(dev);
	}
	/* Every input starts from power-on: no rules, zeroed storage and memory. */
	static const struct dsim_fault_set no_rules;
	dsim_faults_init(&dev->faults, &no_rules, DSIM_FAULT_DEFAULT_SEED);
	dsim_dev_reset(dev);
	memset(dev->st.ram, 0, dev->st.capacity);
	struct dsim_guest g = { .d = dev, .regs = dev->regs, .pass = pass };
	dsim_guest_memory_reset(&g, mem);
	dsim_guest_restart(&g);
	dsim_wr32(dev->regs, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	pass(&g);
	struct fuzz_in in = { data, size };
	while (fuzz_more(&in))
		dsim_guest_step(&g, &in);
	pass(&g);
	dsim_guest_memory_check(mem);
	dsim_guest_check_pool(dev);
	return 0;
}
