/* SPDX-License-Identifier: MIT */
#include "stats.h"

#include <stddef.h>
#include <stdlib.h>

#define MAX_RUNS 1000

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of one double field across runs, located by its byte offset. */
static double median_at(const struct run_result *runs, unsigned n, size_t off)
{
	double v[MAX_RUNS];

	for (unsigned i = 0; i < n; i++)
		v[i] = *(const double *)((const char *)&runs[i] + off);
	qsort(v, n, sizeof(v[0]), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t median_u64_at(const struct run_result *runs, unsigned n, size_t off)
{
	double v[MAX_RUNS];

	for (unsigned i = 0; i < n; i++)
		v[i] = (double)*(const uint64_t *)((const char *)&runs[i] + off);
	qsort(v, n, sizeof(v[0]), cmp_double);
	return (uint64_t)(n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

#define MED_D(field) out->field = median_at(runs, n, offsetof(struct run_result, field))
#define MED_U(field) out->field = median_u64_at(runs, n, offsetof(struct run_result, field))

void stats_median(const struct run_result *runs, unsigned n, struct run_result *out)
{
	if (n > MAX_RUNS)
		n = MAX_RUNS;
	MED_U(ops);
	MED_U(bytes);
	MED_D(seconds);
	MED_D(iops);
	MED_D(mbps);
	MED_U(p50);
	MED_U(p90);
	MED_U(p99);
	MED_U(p999);
	MED_U(max);
	MED_D(mean);
	MED_D(thread_cpu_ns_per_op);
	MED_D(process_cpu_ns_per_op);
	MED_D(system_cpu_ns_per_op);
	MED_D(thread_cpu_util);
	MED_U(kicks);
	MED_U(interrupts);
	MED_U(sleeps);
	MED_D(ops_per_kick);
	MED_D(ops_per_sleep);
	/* Allocations are a proof, not a statistic: report the worst run. */
	out->allocs_loop = 0;
	out->allocs_process = 0;
	for (unsigned i = 0; i < n; i++) {
		if (runs[i].allocs_loop > out->allocs_loop)
			out->allocs_loop = runs[i].allocs_loop;
		if (runs[i].allocs_process > out->allocs_process)
			out->allocs_process = runs[i].allocs_process;
	}
}
