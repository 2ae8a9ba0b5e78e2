/* SPDX-License-Identifier: MIT */
/* Combining repeated runs: every reported figure is the median over runs. */
#ifndef DRVBENCH_STATS_H
#define DRVBENCH_STATS_H

#include "runner.h"

/* Field-by-field medians of n results (n >= 1). */
void stats_median(const struct run_result *runs, unsigned n, struct run_result *out);

#endif
