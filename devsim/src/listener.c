/* SPDX-License-Identifier: MIT */
#include "listener.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

_Static_assert(sizeof(((struct dsim_listener *)0)->path) ==
		   sizeof(((struct sockaddr_un *)0)->sun_path),
	       "a listener holds any unix socket path");

/* A socket file nobody answers on is left over from a crash and may go; a live one may not. */
static int clear_stale(const struct sockaddr_un *sa, int type, char *err, size_t errlen)
{
	struct stat sb;
	if (lstat(sa->sun_path, &sb) < 0)
		return 0;
	if (!S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket: choose another path",
			 sa->sun_path);
		return -EEXIST;
	}
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int e = errno;
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "another server is already listening at %s", sa->sun_path);
		return -EADDRINUSE;
	}
	if (e == ECONNREFUSED)
		unlink(sa->sun_path);
	return 0;
}

static int listen_on(const char *path, int type, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long (max %zu bytes): %s",
			 sizeof(sa.sun_path) - 1, path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	int rc = clear_stale(&sa, type, err, errlen);
	if (rc)
		return rc;
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0077);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (rc == 0 && (chmod(path, 0600) < 0 || listen(fd, 16) < 0)) {
		e = errno;
		unlink(path);
		rc = -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int dsim_listener_open(struct dsim_listener *l, struct dsim_dev *dev, const char *path, int type,
		       void (*on_accept)(void *ctx, uint32_t events), void *ctx, char *err,
		       size_t errlen)
{
	*l = DSIM_LISTENER_CLOSED;
	int fd = listen_on(path, type, err, errlen);
	if (fd < 0)
		return fd;
	l->fd = fd;
	strcpy(l->path, path);
	l->watch = (struct dsim_watch){ .fd = fd, .cb = on_accept, .ctx = ctx };
	int rc = dsim_dev_watch(dev, &l->watch);
	if (rc) {
		snprintf(err, errlen, "cannot watch the socket: %s", strerror(-rc));
		close(fd);
		unlink(path);
		*l = DSIM_LISTENER_CLOSED;
	}
	return rc;
}

void dsim_listener_close(struct dsim_listener *l, struct dsim_dev *dev)
{
	if (l->fd < 0)
		return;
	dsim_dev_unwatch(dev, &l->watch);
	close(l->fd);
	unlink(l->path);
	*l = DSIM_LISTENER_CLOSED;
}
