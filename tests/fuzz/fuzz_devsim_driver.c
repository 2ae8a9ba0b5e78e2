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
#include <stdlib.h>
#include <string.h>

#include "dsim_guest.h"
#include "regs.h"

#define WIN0_BUS 0x10000000ull
#define WIN0_LEN (64u << 10)
#define WIN1_LEN (4u << 10)
#define GUARD 4096u
#define GUARD_BYTE 0xa5

static struct dsim_dev *dev;
static uint8_t *mem; /* guard, window 0, guard, window 1, guard */

static uint8_t *win0(void)
{
	return mem + GUARD;
}

static uint8_t *win1(void)
{
	return win0() + WIN0_LEN + GUARD;
}

static void setup(void)
{
	dev = dsim_guest_device(2);
	mem = malloc(3 * GUARD + WIN0_LEN + WIN1_LEN);
	if (!mem || dsim_dma_add(dev, WIN0_BUS, WIN0_LEN, win0(), NULL, 0) ||
	    dsim_dma_add(dev, WIN0_BUS + WIN0_LEN, WIN1_LEN, win1(), NULL, 0))
		abort();
}

static void pass(struct dsim_guest *g)
{
	dsim_dev_process(g->d);
	dsim_guest_check(g);
}

static void check_guards(void)
{
	static uint8_t intact[GUARD];
	if (!intact[0])
		memset(intact, GUARD_BYTE, sizeof(intact));
	FUZZ_CHECK(memcmp(mem, intact, GUARD) == 0);
	FUZZ_CHECK(memcmp(win0() + WIN0_LEN, intact, GUARD) == 0);
	FUZZ_CHECK(memcmp(win1() + WIN1_LEN, intact, GUARD) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dev)
		setup();
	/* Every input starts from power-on: no rules, zeroed storage and memory. */
	static const struct dsim_fault_set no_rules;
	dsim_faults_init(&dev->faults, &no_rules, DSIM_FAULT_DEFAULT_SEED);
	dsim_dev_reset(dev);
	memset(dev->st.ram, 0, dev->st.capacity);
	memset(mem, GUARD_BYTE, 3 * GUARD + WIN0_LEN + WIN1_LEN);
	memset(win0(), 0, WIN0_LEN);
	memset(win1(), 0, WIN1_LEN);
	struct dsim_guest g = {
		.d = dev,
		.regs = dev->regs,
		.win = { { WIN0_BUS, win0(), WIN0_LEN },
			 { WIN0_BUS + WIN0_LEN, win1(), WIN1_LEN } },
		.nwin = 2,
		.pass = pass,
	};
	dsim_guest_restart(&g);
	dsim_wr32(dev->regs, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	pass(&g);
	struct fuzz_in in = { data, size };
	while (fuzz_more(&in))
		dsim_guest_step(&g, &in);
	pass(&g);
	check_guards();
	dsim_guest_check_pool(dev);
	return 0;
}
