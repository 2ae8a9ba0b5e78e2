/* SPDX-License-Identifier: MIT */
/* drvbench's command line: what to run and how to report it. */
#ifndef DRVBENCH_OPTIONS_H
#define DRVBENCH_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include <drv/drv.h>

enum bench_op { BENCH_READ, BENCH_WRITE, BENCH_NOP, BENCH_MIX };
enum bench_sweep { SWEEP_NONE, SWEEP_QD, SWEEP_QUEUES };

struct bench_opts {
	const char *device;
	enum bench_op op;
	unsigned mix_read; /* percent of reads with BENCH_MIX */
	size_t bs;
	unsigned qd;
	unsigned queues;
	unsigned threads;
	enum drv_cmode mode;
	uint64_t spin_ns;
	int device_poll;
	double duration; /* seconds; 0 when count is used */
	uint64_t count;  /* requests; 0 when duration is used */
	unsigned batch;
	int seq;             /* sequential offsets, a stripe per queue; else random */
	const char *latency; /* device timing spec or NULL */
	int buffered;
	double warmup;
	unsigned runs;
	int json;
	const char *plot; /* file prefix or NULL */
	enum bench_sweep sweep;
	int baselines;
	int quiet;
	int progress;
	int count_allocs; /* exit 1 when the loop allocated */
};

/* Fills opts from argv; prints help and exits 0, or exits 2 on bad input. */
void options_parse(struct bench_opts *opts, int argc, char **argv);

const char *options_op_name(enum bench_op op);
const char *options_mode_name(enum drv_cmode mode);

#endif
