/* SPDX-License-Identifier: MIT */
/* What a spinning thread does between looks: shared by libdrv's waiters and devsim's poller. */
#ifndef DRV_SUPPORT_CPU_H
#define DRV_SUPPORT_CPU_H

#include <stdint.h>
#include <time.h>

/* Tells the CPU this is a spin-wait: saves power, yields to a sibling hyperthread. */
static inline void drv_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* CLOCK_MONOTONIC in nanoseconds: the one clock of deadlines and timing models. */
static inline uint64_t drv_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
