/* SPDX-License-Identifier: MIT */
#include "ivshmem_server.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "guest_ram.h"
#include "regs.h"

#define IVSHMEM_PROTOCOL_VERSION 0
#define RAM_RETRY_NS 20000000 /* QEMU creates the guest RAM file after connecting */
#define SEND_TIMEOUT_S 2

/* One message: a little-endian int64, with at most one fd. */
static int send_msg(int sock, int64_t value, int fd)
{
	int64_t le = (int64_t)htole64((uint64_t)value);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		m.msg_control = ctl.buf;
		m.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n = sendmsg(sock, &m, MSG_NOSIGNAL);
	return n == (ssize_t)sizeof(le) ? 0 : n < 0 ? -errno : -EIO;
}

/*
 * What QEMU reads: the protocol version, its own id, the shared memory
 * (the register page), then for each other peer (devsim) that peer's id
 * once per eventfd that rings it, then its own id once per eventfd that
 * raises its MSI-X vectors.
 */
static int send_setup(struct ivshmem_server *s)
{
	struct dsim_dev *d = s->dev;
	int rc = send_msg(s->client_fd, IVSHMEM_PROTOCOL_VERSION, -1);
	if (!rc)
		rc = send_msg(s->client_fd, s->client_id, -1);
	if (!rc)
		rc = send_msg(s->client_fd, -1, d->reg_fd);
	for (unsigned i = 0; !rc && i < d->num_kicks; i++)
		rc = send_msg(s->client_fd, IVSHMEM_DEVSIM_PEER, d->kick_fd[i]);
	for (unsigned i = 0; !rc && i < d->num_vectors; i++)
		rc = send_msg(s->client_fd, s->client_id, d->irq_fd[i]);
	return rc;
}

static void retry_arm(struct ivshmem_server *s, bool on)
{
	struct itimerspec its = { 0 };
	if (on)
		its.it_value.tv_nsec = its.it_interval.tv_nsec = RAM_RETRY_NS;
	timerfd_settime(s->retry_fd, 0, &its, NULL);
}

static void map_ram(struct ivshmem_server *s)
{
	char err[256];
	uint64_t size = 0;
	int rc = guest_ram_attach(s->dev, s->ram_path, &size, err, sizeof(err));
	if (rc == -EAGAIN) {
		retry_arm(s, true);
		return;
	}
	retry_arm(s, false);
	if (rc) {
		/* Without guest RAM every DMA fails with DMA_ERROR; the guest sees that. */
		fprintf(stderr, "devsim: %s\n", err);
		return;
	}
	s->ram_mapped = true;
	if (s->log) {
		struct guest_ram_layout lay;
		guest_ram_layout(size, &lay);
		fprintf(stderr, "devsim: guest RAM %s mapped for DMA: %llu MiB", s->ram_path,
			(unsigned long long)(size >> 20));
		if (lay.high)
			fprintf(stderr, " (%llu MiB at bus address 4 GiB)",
				(unsigned long long)(lay.high >> 20));
		fputc('\n', stderr);
	}
}

static void on_retry(void *ctx, uint32_t events)
{
	(void)events;
	struct ivshmem_server *s = ctx;
	uint64_t ticks;
	if (read(s->retry_fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	if (s->client_fd >= 0 && !s->ram_mapped)
		map_ram(s);
	else
		retry_arm(s, false);
}

static void drop_client(struct ivshmem_server *s, const char *why)
{
	if (s->client_fd < 0)
		return;
	dsim_dev_unwatch(s->dev, &s->client_watch);
	close(s->client_fd);
	s->client_fd = -1;
	retry_arm(s, false);
	dsim_dev_detach(s->dev);
	s->ram_mapped = false;
	if (s->log)
		fprintf(stderr,
			"devsim: QEMU (peer %lld) disconnected (%s), device reset; waiting for "
			"the next one\n",
			(long long)s->client_id, why);
}

/* QEMU never writes to the server: readable means gone. */
static void on_client(void *ctx, uint32_t events)
{
	struct ivshmem_server *s = ctx;
	char buf[64];
	ssize_t n = (events & EPOLLIN) ? recv(s->client_fd, buf, sizeof(buf), MSG_DONTWAIT) : 0;
	if (n > 0 || (n < 0 && errno == EAGAIN))
		return;
	drop_client(s, n < 0 ? strerror(errno) : "hang-up");
}

static void on_listen(void *ctx, uint32_t events)
{
	(void)events;
	struct ivshmem_server *s = ctx;
	int fd = accept4(s->listener.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (s->client_fd >= 0) {
		fprintf(stderr, "devsim: refusing a second QEMU: peer %lld still owns the device\n",
			(long long)s->client_id);
		close(fd);
		return;
	}
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int rc = dsim_dev_attach(s->dev);
	if (rc) {
		fprintf(stderr, "devsim: cannot set up a device session: %s\n", strerror(-rc));
		close(fd);
		return;
	}
	dsim_wr32(s->dev->regs, DSIM_REG_DOORBELL_PEER, IVSHMEM_DEVSIM_PEER);
	s->client_fd = fd;
	s->client_id = s->next_id++;
	s->client_watch = (struct dsim_watch){ .fd = fd, .cb = on_client, .ctx = s };
	rc = send_setup(s);
	if (!rc)
		rc = dsim_dev_watch(s->dev, &s->client_watch);
	if (rc) {
		fprintf(stderr, "devsim: QEMU setup failed: %s\n", strerror(-rc));
		close(fd);
		s->client_fd = -1;
		dsim_dev_detach(s->dev);
		return;
	}
	if (s->log)
		fprintf(stderr, "devsim: QEMU connected as ivshmem peer %lld (devsim is peer %d)\n",
			(long long)s->client_id, IVSHMEM_DEVSIM_PEER);
	map_ram(s);
}

int ivshmem_server_start(struct ivshmem_server *s, struct dsim_dev *dev, const char *path,
			 const char *ram_path, unsigned vectors, bool log, char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->vectors = vectors;
	s->log = log;
	s->listener = DSIM_LISTENER_CLOSED;
	s->client_fd = s->retry_fd = -1;
	s->next_id = IVSHMEM_DEVSIM_PEER + 1;
	if (vectors < dev->num_kicks || vectors < dev->num_vectors) {
		snprintf(err, errlen,
			 "--vectors %u is too few: the device needs %u doorbells and %u "
			 "interrupt vectors (use at least %u, and the same vectors=N for QEMU)",
			 vectors, dev->num_kicks, dev->num_vectors, dev->num_kicks);
		return -EINVAL;
	}
	if (strlen(ram_path) >= sizeof(s->ram_path)) {
		snprintf(err, errlen, "guest RAM path too long");
		return -ENAMETOOLONG;
	}
	strcpy(s->ram_path, ram_path);
	s->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->retry_fd < 0) {
		snprintf(err, errlen, "timerfd: %s", strerror(errno));
		return -errno;
	}
	s->retry_watch = (struct dsim_watch){ .fd = s->retry_fd, .cb = on_retry, .ctx = s };
	int rc = dsim_dev_watch(dev, &s->retry_watch);
	if (!rc)
		rc = dsim_listener_open(&s->listener, dev, path, SOCK_STREAM, on_listen, s, err,
					errlen);
	else
		snprintf(err, errlen, "cannot watch a timer: %s", strerror(-rc));
	if (rc)
		ivshmem_server_stop(s);
	return rc;
}

void ivshmem_server_stop(struct ivshmem_server *s)
{
	bool log = s->log;
	s->log = false;
	drop_client(s, "server stopping");
	s->log = log;
	dsim_listener_close(&s->listener, s->dev);
	if (s->retry_fd >= 0) {
		dsim_dev_unwatch(s->dev, &s->retry_watch);
		close(s->retry_fd);
		s->retry_fd = -1;
	}
}
