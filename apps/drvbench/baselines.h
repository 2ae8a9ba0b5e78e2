/* SPDX-License-Identifier: MIT */
/*
 * Reference costs measured on the same machine in the same run, so the
 * library's numbers can be read as ratios: io_uring NOP throughput, the
 * cross-thread eventfd round trip (the floor for an interrupt-driven round
 * trip), the same round trip waiting the way libdrv and devsim wait
 * (edge-triggered epoll_wait, no read), and single-thread memcpy bandwidth.
 */
#ifndef DRVBENCH_BASELINES_H
#define DRVBENCH_BASELINES_H

#include <stdint.h>

struct baselines {
	unsigned uring_batch;
	double uring_nop_ops_per_s; /* 0 when io_uring is unavailable */
	double uring_nop_ns_per_op;
	uint64_t eventfd_rtt_p50_ns;
	uint64_t eventfd_rtt_p99_ns;
	uint64_t epoll_rtt_p50_ns; /* both sides in edge-triggered epoll_wait */
	double memcpy_gb_per_s;
};

/* Measures all three; io_uring failing to set up is reported, not fatal. */
void baselines_measure(struct baselines *b, unsigned batch, int quiet);

#endif
