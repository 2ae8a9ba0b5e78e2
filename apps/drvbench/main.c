/* SPDX-License-Identifier: MIT */
/*
 * drvbench: measures libdrv through its public API only, or with uring:PATH
 * the kernel's own block driver through io_uring, under the same workloads.
 * Runs the workload --runs times and reports medians, optionally with
 * same-run baselines, a sweep over queue depth or queue count, JSON and SVG
 * charts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drv/drv.h>

#include "../common.h"
#include "allocs.h"
#include "baselines.h"
#include "device.h"
#include "options.h"
#include "plot.h"
#include "report.h"
#include "runner.h"
#include "stats.h"

#define SWEEP_MAX_QD 256u
#define SWEEP_MIN_QUEUES 8u
#define MAX_SWEEP_POINTS 16

static struct run_config config_from(const struct bench_opts *o)
{
	return (struct run_config){
		.op = o->op,
		.mix_read = o->mix_read,
		.bs = o->bs,
		.qd = o->qd,
		.queues = o->queues,
		.threads = o->threads,
		.batch = o->batch < o->qd ? o->batch : o->qd,
		.seq = o->seq,
		.mode = o->mode,
		.spin_ns = o->spin_ns,
		.device_poll = o->device_poll,
		.buffered = o->buffered,
		.duration = o->duration,
		.count = o->count,
		.warmup = o->warmup,
		.progress = !o->quiet && (o->progress || isatty(STDERR_FILENO)),
	};
}

/* Runs cfg `runs` times; `out` gets the medians, `all` (if not NULL) each run. */
static int run_repeated(const struct bench_device *d, const struct run_config *cfg, unsigned runs,
			struct hist *merged, struct run_result *all, struct run_result *out)
{
	struct run_result *each = all ? all : calloc(runs, sizeof(*each));
	struct hist *lat = malloc(sizeof(*lat));
	int rc = 0;

	if (!each || !lat) {
		fprintf(stderr, "drvbench: out of memory\n");
		rc = APP_EXIT_RUNTIME;
	}
	if (merged)
		hist_reset(merged);
	for (unsigned i = 0; i < runs && !rc; i++) {
		rc = run_workload(d, cfg, lat, &each[i]);
		if (!rc && merged)
			hist_merge(merged, lat);
	}
	if (!rc)
		stats_median(each, runs, out);
	if (!all)
		free(each);
	free(lat);
	return rc;
}

static unsigned sweep_queues_limit(const struct bench_opts *o)
{
	return o->queues > 1 ? o->queues : SWEEP_MIN_QUEUES;
}

/* QD 1, 2, 4... up to 256 (or the device's depth), or 1, 2, 4... queues. */
static int run_sweep(const struct bench_device *d, const struct bench_opts *o,
		     enum bench_sweep kind, struct sweep_point *pts, unsigned *n)
{
	const struct drv_info *info = &d->info;
	unsigned limit = kind == SWEEP_QD ? SWEEP_MAX_QD : sweep_queues_limit(o);

	if (kind == SWEEP_QD && info->max_queue_depth < limit)
		limit = info->max_queue_depth;
	if (kind == SWEEP_QUEUES && info->max_queues < limit)
		limit = info->max_queues;
	*n = 0;
	for (unsigned x = 1; x <= limit && *n < MAX_SWEEP_POINTS; x *= 2) {
		struct run_config cfg = config_from(o);
		if (kind == SWEEP_QD) {
			cfg.qd = x;
			cfg.batch = o->batch < x ? o->batch : x;
		} else {
			cfg.queues = x;
			cfg.threads = o->threads < x ? o->threads : x;
		}
		if (!o->quiet)
			fprintf(stderr, "drvbench: sweep %s = %u\n",
				kind == SWEEP_QD ? "qd" : "queues", x);
		pts[*n].x = x;
		int rc = run_repeated(d, &cfg, o->runs, NULL, NULL, &pts[*n].r);
		if (rc)
			return rc;
		(*n)++;
	}
	return 0;
}

static int write_plots(const struct bench_opts *o, const struct hist *lat,
		       const struct sweep_point *pts, unsigned n)
{
	char path[4096], title[160];
	int rc;

	snprintf(title, sizeof(title), "%s %zu B, QD %u, %s completions: latency",
		 options_op_name(o->op), o->bs, o->qd, options_mode_name(o->mode));
	snprintf(path, sizeof(path), "%s-latency.svg", o->plot);
	rc = plot_latency(path, lat, title);
	if (!rc) {
		snprintf(title, sizeof(title), "%s %zu B, %s completions: queue depth sweep",
			 options_op_name(o->op), o->bs, options_mode_name(o->mode));
		snprintf(path, sizeof(path), "%s-qd-sweep.svg", o->plot);
		rc = plot_qd_sweep(path, pts, n, title);
	}
	if (rc) {
		fprintf(stderr, "drvbench: cannot write %s: %s\n", path, strerror(-rc));
		return APP_EXIT_RUNTIME;
	}
	return 0;
}

static int bench(const struct bench_opts *o, const struct bench_device *d)
{
	static struct hist lat;
	static struct sweep_point sweep[MAX_SWEEP_POINTS];
	struct baselines base;
	struct bench_report rep = { .opts = o,
				    .info = &d->info,
				    .uring = d->uring != NULL,
				    .nruns = o->runs,
				    .lat = &lat };
	struct run_result *runs = calloc(o->runs, sizeof(*runs));
	struct run_config cfg = config_from(o);
	int rc;

	if (!runs)
		return APP_EXIT_RUNTIME;
	rep.runs = runs;
	rep.allocs_counted = allocs_available();
	if (o->baselines) {
		baselines_measure(&base, cfg.batch, o->quiet);
		rep.base = &base;
	}
	rc = run_repeated(d, &cfg, o->runs, &lat, runs, &rep.median);
	rep.sweep_kind = o->sweep != SWEEP_NONE ? o->sweep : SWEEP_QD;
	if (!rc && (o->sweep != SWEEP_NONE || o->plot))
		rc = run_sweep(d, o, rep.sweep_kind, sweep, &rep.nsweep);
	rep.sweep = sweep;
	if (!rc && o->plot) {
		/* The chart needs a QD sweep even when the table sweeps queues. */
		static struct sweep_point qd_pts[MAX_SWEEP_POINTS];
		unsigned nqd = rep.nsweep;
		if (rep.sweep_kind != SWEEP_QD)
			rc = run_sweep(d, o, SWEEP_QD, qd_pts, &nqd);
		if (!rc)
			rc = write_plots(o, &lat, rep.sweep_kind == SWEEP_QD ? sweep : qd_pts, nqd);
	}
	if (!rc) {
		if (o->json)
			report_json(stdout, &rep);
		else
			report_text(stdout, &rep);
		if (o->count_allocs && rep.median.allocs_loop) {
			fprintf(stderr, "drvbench: the measured loop allocated memory %llu times\n",
				(unsigned long long)rep.median.allocs_loop);
			rc = APP_EXIT_RUNTIME;
		}
	}
	free(runs);
	return rc;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_device d;

	options_parse(&o, argc, argv);
	if (o.count_allocs && !allocs_available()) {
		fprintf(stderr, "drvbench: --count-allocs is not available in sanitizer builds\n");
		return APP_EXIT_USAGE;
	}
	unsigned queues = o.queues;
	if (o.sweep == SWEEP_QUEUES && sweep_queues_limit(&o) > queues)
		queues = sweep_queues_limit(&o);
	int rc = device_open(&o, queues, &d);
	if (rc)
		return rc;
	rc = bench(&o, &d);
	device_close(&d);
	return rc;
}
