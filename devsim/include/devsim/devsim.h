/* SPDX-License-Identifier: MIT */
/*
 * Embedding devsim: run the dsim device as a thread of this process and
 * talk to it over one end of a socketpair with the protocol of proto.h.
 * This is what libdrv's `sim:inproc` uses.
 */
#ifndef DEVSIM_DEVSIM_H
#define DEVSIM_DEVSIM_H

#include <stddef.h>

struct devsim_inproc;

/*
 * Starts a device with `options`, a query string with the CLI's options:
 *   "latency=fixed:1s&capacity=16M&queues=4&backing=/tmp/f&bandwidth=1G&units=4&poll=1"
 * (NULL or "" = defaults). On success *client_fd is the caller's end of a
 * SOCK_SEQPACKET socketpair (the caller closes it) and *out the handle for
 * devsim_stop_inproc(). Returns 0 or -errno; on -EINVAL and other failures
 * `err` (if not NULL) receives a message saying what is wrong.
 */
int devsim_start_inproc(const char *options, int *client_fd, struct devsim_inproc **out, char *err,
			size_t errlen);

/* Stops the device thread and frees everything; the storage file stays. */
void devsim_stop_inproc(struct devsim_inproc *h);

#endif
