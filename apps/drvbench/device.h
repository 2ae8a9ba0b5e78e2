/* SPDX-License-Identifier: MIT */
/* Opening the device under test and applying the requested service time. */
#ifndef DRVBENCH_DEVICE_H
#define DRVBENCH_DEVICE_H

#include <drv/drv.h>

#include "options.h"

/* Offsets are spread over at most this much of the device's storage. */
#define DEVICE_SPAN_MAX (1ull << 30)

/*
 * Opens opts->device with room for `queues` queues. A --latency spec goes
 * into the URI for sim:inproc and is sent as DSIM_CTL_SET_TIMING otherwise.
 * Before reads, a dsim device's storage span is written once (DSIM_CTL_FILL).
 * Returns 0, 1 (runtime failure, message printed) or 2 (bad --latency).
 */
int device_open(const struct bench_opts *opts, unsigned queues, drv_dev **dev,
		struct drv_info *info);

#endif
