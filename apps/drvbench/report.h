/* SPDX-License-Identifier: MIT */
/* Printing results: a human-readable summary or one JSON document. */
#ifndef DRVBENCH_REPORT_H
#define DRVBENCH_REPORT_H

#include <stdio.h>

#include <drv/drv.h>

#include "baselines.h"
#include "histogram.h"
#include "options.h"
#include "runner.h"

struct sweep_point {
	unsigned x; /* queue depth or number of queues */
	struct run_result r;
};

struct bench_report {
	const struct bench_opts *opts;
	const struct drv_info *info;
	int uring;                     /* uring:PATH: no interrupt counts, the kernel's */
	const struct run_result *runs; /* each run of the main workload */
	unsigned nruns;
	struct run_result median;
	const struct hist *lat;       /* all runs merged */
	const struct baselines *base; /* NULL unless measured */
	enum bench_sweep sweep_kind;
	const struct sweep_point *sweep;
	unsigned nsweep;
	int allocs_counted;
};

void report_text(FILE *f, const struct bench_report *r);
void report_json(FILE *f, const struct bench_report *r);

#endif
