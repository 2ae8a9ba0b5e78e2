/* SPDX-License-Identifier: MIT */
/*
 * A unix socket the device loop accepts connections on: the driver protocol
 * server and the ivshmem server both listen through one. The socket file is
 * private to its owner (mode 0600) and removed again on close.
 */
#ifndef DEVSIM_LISTENER_H
#define DEVSIM_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct dsim_listener {
	int fd; /* -1 while closed */
	struct dsim_watch watch;
	char path[108]; /* socket file to remove on close */
};

#define DSIM_LISTENER_CLOSED ((struct dsim_listener){ .fd = -1 })

/*
 * Listens on `path` with a socket of `type` (SOCK_STREAM, SOCK_SEQPACKET) and
 * calls on_accept(ctx, events) on the device loop when a client knocks. A
 * stale socket file left by a crash is replaced; a live one is not.
 * 0 or -errno with a message in err; on failure l stays closed.
 */
int dsim_listener_open(struct dsim_listener *l, struct dsim_dev *dev, const char *path, int type,
		       void (*on_accept)(void *ctx, uint32_t events), void *ctx, char *err,
		       size_t errlen);
/* Stops listening and removes the socket file; a closed listener is left alone. */
void dsim_listener_close(struct dsim_listener *l, struct dsim_dev *dev);

#endif
