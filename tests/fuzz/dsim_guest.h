/* SPDX-License-Identifier: MIT */
/*
 * A hostile dsim driver played by the fuzzer: the input says which
 * registers to write, which SQEs (SG lists, control inputs, addresses in
 * and out of the DMA windows) to place in the rings, when to ring which
 * doorbell, how far to consume the CQ and when the device gets a pass. The
 * devsim_driver and ivshmem harnesses share it; they differ in how the
 * device is reached (its model directly, or the ivshmem server behind a
 * pretend QEMU) and in what they check around it. The harnesses that host
 * the device without its thread share the two functions below too.
 */
#ifndef FUZZ_DSIM_GUEST_H
#define FUZZ_DSIM_GUEST_H

#include <stdint.h>

#include "fuzz.h"
#include "model.h"

/* One queue block more than the device has: writes there must be ignored. */
#define GUEST_QUEUES 3u
#define GUEST_MAX_LOG2 7u /* rings of up to 128 entries keep inputs short */

struct guest_window {
	uint64_t bus;
	uint8_t *va;
	size_t len;
};

struct dsim_guest {
	struct dsim_dev *d;
	uint8_t *regs; /* the register page as the driver maps it */
	struct guest_window win[2];
	unsigned nwin;
	void (*kick)(struct dsim_guest *g, unsigned vector); /* a doorbell */
	void (*pass)(struct dsim_guest *g);                  /* one turn of the device loop */
	uint32_t tail[GUEST_QUEUES], head[GUEST_QUEUES];
	uint16_t phase[GUEST_QUEUES];
	uint64_t storage_failures; /* the store's count when last checked */
	/*
	 * The device runs its own loop on another thread: the host's actions
	 * that would touch the model from this one (events, fault rules, a
	 * failing store) are read from the input and skipped.
	 */
	bool device_thread;
};

/* A small device for the harnesses: 64 KiB of storage in RAM, `queues` queues. */
struct dsim_dev *dsim_guest_device(unsigned queues);
/*
 * What the device loop does with its readable fds (protocol sockets,
 * listeners, timers), without a thread. Doorbells are left alone: every
 * pass looks at every queue anyway.
 */
void dsim_guest_serve(struct dsim_dev *d);

/*
 * Guest memory for the harnesses that give the device its DMA windows
 * themselves: window 0 (64 KiB) and window 1 (4 KiB) in one allocation
 * between guard bytes; window 1's bus range starts right where window 0's
 * ends, its memory does not. dsim_guest_memory() allocates it and adds the
 * windows to d; _reset() rewrites the guards, zeroes the windows and points
 * g's windows at them; _check() finds the guards intact.
 */
uint8_t *dsim_guest_memory(struct dsim_dev *d);
void dsim_guest_memory_reset(struct dsim_guest *g, uint8_t *mem);
void dsim_guest_memory_check(const uint8_t *mem);

/* Forgets the rings (the device was reset under the driver); starts the input's checks. */
void dsim_guest_restart(struct dsim_guest *g);
/* Runs the input's next action. */
void dsim_guest_step(struct dsim_guest *g, struct fuzz_in *in);
/* The device's ring state stays inside the limits it was given. */
void dsim_guest_check_rings(const struct dsim_dev *d);
/* After a pass: the rings, and a storage access that failed in the pass left the device FATAL. */
void dsim_guest_check(struct dsim_guest *g);
/*
 * Every request the device holds is counted in its queue's inflight (the
 * device stops looking for held requests at that count) and the rest are
 * on the free list. A walk of the whole pool: once per input.
 */
void dsim_guest_check_pool(const struct dsim_dev *d);

#endif
