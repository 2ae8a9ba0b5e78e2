/* SPDX-License-Identifier: MIT */
/*
 * uring:PATH, the kernel's own block driver (or a file system) under the
 * same workloads as a libdrv device: PATH is opened with O_DIRECT and each
 * queue is an io_uring with the file and the queue's buffers registered.
 * Requests are the runner's struct drv_req, and the queue calls mirror
 * drv_submit/drv_reap: this file plays libdrv's part (it sets status,
 * result, submit_ns and complete_ns), so the measuring loop is the same.
 */
#ifndef DRVBENCH_URING_BACKEND_H
#define DRVBENCH_URING_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <drv/drv.h>

#define URING_PREFIX "uring:"
/* Registered buffers per ring: the kernel takes at most 16384. */
#define URING_MAX_DEPTH 16384u
/* In result_flags of a request that moved fewer bytes than asked (status -EIO). */
#define URING_RESULT_SHORT (1u << 31)

struct uring_dev;
struct uring_queue;

/* PATH when uri is "uring:PATH", else NULL ("" for "uring:"). */
const char *uring_path(const char *uri);

/*
 * Opens PATH (a block device or a regular file) with O_DIRECT, read-only
 * unless `writes`. Checks that bs is a multiple of a block device's logical
 * block size and, with `mode` DRV_CMODE_POLL, that the kernel polls the
 * device (its queue/io_poll in sysfs). Fills info: driver "kernel", bus
 * "uring", the size (BLKGETSIZE64 or st_size) as capacity, io_uring's
 * limits. Prints the reason and returns -errno on failure.
 */
int uring_dev_open(const char *path, int writes, size_t bs, enum drv_cmode mode,
		   struct uring_dev **out, struct drv_info *info);
void uring_dev_close(struct uring_dev *d);

/*
 * An io_uring of `depth` entries, IORING_SETUP_IOPOLL with DRV_CMODE_POLL
 * (DRV_CMODE_HYBRID is refused: -EINVAL). `bufs` holds `depth` slots of
 * `slot_len` bytes, registered one per slot; requests must point into them.
 */
int uring_queue_create(const struct uring_dev *d, unsigned depth, enum drv_cmode mode, void *bufs,
		       size_t slot_len, struct uring_queue **out);
void uring_queue_destroy(struct uring_queue *q);
/* The ring's fd: readable when completions are ready (not with IOPOLL, which must poll). */
int uring_queue_fd(const struct uring_queue *q);

/*
 * READ or WRITE requests of r->data, r->len at r->offset: one SQE each and
 * io_uring_submit. Returns n, or -errno (nothing was accepted).
 */
int uring_queue_submit(struct uring_queue *q, struct drv_req *const reqs[], unsigned n);
/*
 * Delivers up to max finished requests. With timeout_ns 0 it does not wait
 * (with IOPOLL it still lets the kernel poll once); otherwise it waits for
 * min_complete (asleep in io_uring_enter, or with IOPOLL while the kernel
 * polls) for at most about timeout_ns. Returns the count or -errno.
 */
int uring_queue_reap(struct uring_queue *q, struct drv_req **out, unsigned max,
		     unsigned min_complete, int64_t timeout_ns);
/*
 * submitted, completed; kicks = io_uring_enter calls that submitted, sleeps
 * = calls that waited for completions in irq mode; interrupts stay 0
 * (handled by the kernel, not seen here).
 */
void uring_queue_stats(const struct uring_queue *q, struct drv_queue_stats *st);

/*
 * "io_uring read of 4096 bytes at offset 8192: Invalid argument (hint)":
 * what a failed request of a uring: queue says, with a hint for the errors
 * that have a likely cause (O_DIRECT alignment, no poll queues).
 */
void uring_describe_failure(const struct drv_req *r, enum drv_cmode mode, char *buf, size_t len);
/* A hint for -errno from setting up or using a ring in `mode`, or "". */
const char *uring_hint(int err, enum drv_cmode mode);

#endif
