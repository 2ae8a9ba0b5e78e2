/* SPDX-License-Identifier: MIT */
/* Small self-contained SVG charts: no plotting package needed to read results. */
#ifndef DRVBENCH_PLOT_H
#define DRVBENCH_PLOT_H

#include "histogram.h"
#include "report.h"

/* PREFIX-latency.svg: share of requests per latency bucket, log time axis. 0 or -errno. */
int plot_latency(const char *path, const struct hist *h, const char *title);

/* PREFIX-qd-sweep.svg: IOPS and median latency against queue depth. 0 or -errno. */
int plot_qd_sweep(const char *path, const struct sweep_point *pts, unsigned n, const char *title);

#endif
