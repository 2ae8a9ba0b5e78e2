/* SPDX-License-Identifier: MIT */
/*
 * One measured run: threads own queues, keep each queue filled to its
 * depth, and record every completion's latency. Everything a run touches
 * is allocated before the clock starts.
 */
#ifndef DRVBENCH_RUNNER_H
#define DRVBENCH_RUNNER_H

#include <stdint.h>

#include <drv/drv.h>

#include "device.h"
#include "histogram.h"
#include "options.h"

struct run_config {
	enum bench_op op;
	unsigned mix_read;
	size_t bs;
	unsigned qd, queues, threads, batch;
	int seq; /* sequential offsets, one stripe of the span per queue */
	enum drv_cmode mode;
	uint64_t spin_ns;
	int device_poll;
	int buffered;
	double duration; /* seconds, or 0 with count */
	uint64_t count;
	double warmup;
	int progress; /* progress line on stderr once per second */
};

struct run_result {
	uint64_t ops, bytes;
	double seconds;
	double iops, mbps;
	uint64_t p50, p90, p99, p999, max;
	double mean;
	double thread_cpu_ns_per_op;  /* submitting/reaping threads only */
	double process_cpu_ns_per_op; /* every thread, the sim:inproc device too */
	double system_cpu_ns_per_op;  /* every CPU's non-idle time (sysstat.h); < 0: unknown */
	double thread_cpu_util;       /* busy share of the I/O threads' wall time, 0..1 each */
	uint64_t kicks, interrupts, sleeps;
	double ops_per_kick, ops_per_sleep; /* < 0 when there were none */
	uint64_t allocs_loop;               /* by the measuring threads in their loops */
	uint64_t allocs_process;            /* by any other thread meanwhile */
};

/* Runs cfg on d; fills out and the merged latency histogram `lat`. 0 or 1 (message printed). */
int run_workload(const struct bench_device *d, const struct run_config *cfg, struct hist *lat,
		 struct run_result *out);

#endif
