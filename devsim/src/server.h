/* SPDX-License-Identifier: MIT */
/*
 * The protocol server: serves driver and control clients on the device
 * loop's thread. One driver at a time; control clients come and go.
 */
#ifndef DEVSIM_SERVER_H
#define DEVSIM_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "listener.h"
#include "model.h"

struct dsim_conn;

struct dsim_server {
	struct dsim_dev *dev;
	struct dsim_listener listener;
	struct dsim_conn *conns;
	struct dsim_conn *driver;
	unsigned next_id;
	bool log;          /* one stderr line per connect/disconnect */
	bool control_only; /* HELLO refused: a VM drives the device (devsim ivshmem) */
};

void dsim_server_init(struct dsim_server *s, struct dsim_dev *dev, bool log);
/* Listens on a unix socket (mode 0600). 0 or -errno with a message in err. */
int dsim_server_listen(struct dsim_server *s, const char *path, char *err, size_t errlen);
/* Serves an already connected socket (sim:inproc's socketpair end). */
int dsim_server_add(struct dsim_server *s, int fd);
/* Ends the driver's connection (if one is attached) as if it had closed it. */
void dsim_server_drop_driver(struct dsim_server *s, const char *why);
/* Closes every connection and the listener, removes the socket file. */
void dsim_server_close(struct dsim_server *s);

#endif
