/* SPDX-License-Identifier: MIT */
/* Opening the device under test and applying the requested service time. */
#ifndef DRVBENCH_DEVICE_H
#define DRVBENCH_DEVICE_H

#include <drv/drv.h>

#include "options.h"

/*
 * Opens opts->device with room for `queues` queues. A --latency spec goes
 * into the URI for sim:inproc and is sent as DSIM_CTL_SET_TIMING otherwise.
 * Returns 0, 1 (runtime failure, message printed) or 2 (bad --latency).
 */
int device_open(const struct bench_opts *opts, unsigned queues, drv_dev **dev,
		struct drv_info *info);

#endif
