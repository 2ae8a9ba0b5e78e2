/* SPDX-License-Identifier: MIT */
/*
 * devsim as the server of QEMU's ivshmem-doorbell device: the dsim register
 * page becomes the guest's BAR2, guest doorbell writes arrive on the
 * device's kick eventfds, the device's interrupt eventfds raise the guest's
 * MSI-X vectors, and the guest's RAM file is the DMA window. One QEMU at a
 * time; when it goes, the device resets and waits for the next one.
 * docs/ivshmem.md describes the protocol.
 */
#ifndef DEVSIM_IVSHMEM_SERVER_H
#define DEVSIM_IVSHMEM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "listener.h"
#include "model.h"

/* devsim's own peer id; DSIM_REG_DOORBELL_PEER tells the guest. */
#define IVSHMEM_DEVSIM_PEER 1

struct ivshmem_server {
	struct dsim_dev *dev;
	char ram_path[4096];
	unsigned vectors; /* the guest device's `vectors` property */
	struct dsim_listener listener;
	int client_fd; /* the connected QEMU, or -1 */
	struct dsim_watch client_watch;
	int64_t client_id;
	int64_t next_id;
	int retry_fd; /* timerfd: look for the guest RAM file again */
	struct dsim_watch retry_watch;
	bool ram_mapped;
	bool log;
};

/*
 * Listens on `path` for QEMU. `vectors` must be at least the device's
 * doorbell count (1 + queues). 0 or -errno with a message in err.
 */
int ivshmem_server_start(struct ivshmem_server *s, struct dsim_dev *dev, const char *path,
			 const char *ram_path, unsigned vectors, bool log, char *err,
			 size_t errlen);
/* Disconnects QEMU, closes the listener and removes the socket file. */
void ivshmem_server_stop(struct ivshmem_server *s);

/* `devsim ivshmem ...` */
int devsim_cmd_ivshmem(int argc, char **argv);

#endif
