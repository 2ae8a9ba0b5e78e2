/* SPDX-License-Identifier: MIT */
/* sim:inproc: the socket server's code serving one socketpair, on a thread. */
#include "devsim/devsim.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "model.h"
#include "server.h"

struct devsim_inproc {
	struct dsim_dev *dev;
	struct dsim_server srv;
	pthread_t thread;
};

/* Fault vanish: the device stops serving, so the driver's end hangs up (its health fd). */
static void vanish(void *ctx)
{
	struct devsim_inproc *h = ctx;
	dsim_server_drop_driver(&h->srv, "device vanished (fault)");
}

static void *device_thread(void *arg)
{
	struct devsim_inproc *h = arg;
	dsim_dev_run(h->dev);
	return NULL;
}

/* A socketpair whose far end devsim serves; *near is the client's end. */
static int serve_socketpair(struct devsim_inproc *h, int *near, char *err, size_t errlen)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		int rc = -errno;
		snprintf(err, errlen, "socketpair: %s", strerror(-rc));
		return rc;
	}
	int rc = dsim_server_add(&h->srv, sv[1]);
	if (rc) {
		close(sv[0]);
		close(sv[1]);
		snprintf(err, errlen, "cannot serve the socketpair: %s", strerror(-rc));
		return rc;
	}
	*near = sv[0];
	return 0;
}

static int start_device_thread(struct devsim_inproc *h, char *err, size_t errlen)
{
	/* The device thread takes no process signals: they belong to the application. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = -pthread_create(&h->thread, NULL, device_thread, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		snprintf(err, errlen, "cannot start the device thread: %s", strerror(-rc));
	return rc;
}

int devsim_start_inproc(const char *options, int *client_fd, struct devsim_inproc **out, char *err,
			size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = 0;
	struct dsim_config cfg;
	dsim_config_defaults(&cfg);
	int rc = dsim_config_parse_query(&cfg, options, err, errlen);
	if (rc)
		return rc;
	struct devsim_inproc *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = dsim_dev_create(&cfg, &h->dev, err, errlen);
	if (rc) {
		free(h);
		return rc;
	}
	dsim_server_init(&h->srv, h->dev, false);
	h->dev->vanish = vanish;
	h->dev->vanish_ctx = h;
	int near = -1;
	rc = serve_socketpair(h, &near, err, errlen);
	if (!rc)
		rc = start_device_thread(h, err, errlen);
	if (rc) {
		if (near >= 0)
			close(near);
		dsim_server_close(&h->srv);
		dsim_dev_destroy(h->dev);
		free(h);
		return rc;
	}
	*client_fd = near;
	*out = h;
	return 0;
}

void devsim_stop_inproc(struct devsim_inproc *h)
{
	if (!h)
		return;
	dsim_dev_stop(h->dev);
	pthread_join(h->thread, NULL);
	dsim_server_close(&h->srv);
	dsim_dev_destroy(h->dev);
	free(h);
}
