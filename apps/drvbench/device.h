/* SPDX-License-Identifier: MIT */
/* Opening the device under test and applying the requested service time. */
#ifndef DRVBENCH_DEVICE_H
#define DRVBENCH_DEVICE_H

#include <drv/drv.h>

#include "options.h"

/* Offsets are spread over at most this much of the device's storage. */
#define DEVICE_SPAN_MAX (1ull << 30)

struct uring_dev;

/* The device under test: a libdrv device, or a kernel block device or file (uring:PATH). */
struct bench_device {
	drv_dev *dev;            /* NULL for uring:PATH */
	struct uring_dev *uring; /* NULL for libdrv devices */
	struct drv_info info;    /* for uring:PATH as uring_dev_open() describes it */
};

/*
 * Opens opts->device with room for `queues` queues. A --latency spec goes
 * into the URI for sim:inproc and is sent as DSIM_CTL_SET_TIMING otherwise.
 * Before reads, a dsim device's storage span is written once (DSIM_CTL_FILL).
 * uring:PATH is opened by uring_dev_open() (uring_backend.h).
 * Returns 0, 1 (runtime failure, message printed) or 2 (bad --latency).
 */
int device_open(const struct bench_opts *opts, unsigned queues, struct bench_device *d);
void device_close(struct bench_device *d);

#endif
