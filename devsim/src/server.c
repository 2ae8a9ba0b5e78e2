/* SPDX-License-Identifier: MIT */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devsim/proto.h"
#include "regs.h"

_Static_assert(sizeof(((struct devsim_stats_reply *)0)->stat) == 8 * DSIM_STAT_COUNT,
	       "STATS reply carries every counter");
_Static_assert(sizeof(((struct devsim_fault_reply *)0)->injected) ==
		   sizeof(((struct dsim_fault_stats *)0)->injected),
	       "FAULT reply carries every fault kind");
_Static_assert(sizeof(struct devsim_fault_reply) + DSIM_FAULT_MAX_RULES * DSIM_FAULT_RULE_TEXT <=
		   DEVSIM_MSG_MAX_PAYLOAD,
	       "FAULT reply fits every rule");

struct dsim_conn {
	struct dsim_server *srv;
	int fd;
	unsigned id;
	struct dsim_watch watch;
	struct dsim_conn *next;
};

static void conn_close(struct dsim_conn *c, const char *why)
{
	struct dsim_server *s = c->srv;
	bool was_driver = s->driver == c;
	if (was_driver) {
		dsim_dev_detach(s->dev);
		s->driver = NULL;
	}
	if (s->log)
		fprintf(stderr, "devsim: client %u disconnected%s (%s)\n", c->id,
			was_driver ? ", device reset" : "", why);
	dsim_dev_unwatch(s->dev, &c->watch);
	close(c->fd);
	for (struct dsim_conn **p = &s->conns; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	free(c);
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/* Replies with an error status and a message; returns false if the client is gone. */
static bool reply_error(struct dsim_conn *c, uint32_t type, int err, const char *msg)
{
	return devsim_msg_send(c->fd, type, err, msg, strlen(msg) + 1, NULL, 0) == 0;
}

static bool handle_hello(struct dsim_conn *c, const void *p, size_t len)
{
	struct dsim_server *s = c->srv;
	struct devsim_hello h;
	if (len != sizeof(h))
		return reply_error(c, DEVSIM_MSG_HELLO, -EPROTO, "malformed HELLO");
	memcpy(&h, p, sizeof(h));
	if (h.version != DEVSIM_PROTO_VERSION)
		return reply_error(c, DEVSIM_MSG_HELLO, -EPROTONOSUPPORT,
				   "protocol version mismatch: rebuild the client against this "
				   "devsim");
	if (s->control_only)
		return reply_error(c, DEVSIM_MSG_HELLO, -EBUSY,
				   "device busy: it is presented to a VM through ivshmem; this "
				   "socket only takes events and statistics");
	if (s->driver == c)
		return reply_error(c, DEVSIM_MSG_HELLO, -EALREADY, "HELLO sent twice");
	if (s->driver)
		return reply_error(c, DEVSIM_MSG_HELLO, -EBUSY,
				   "device busy: another driver is connected");
	int rc = dsim_dev_attach(s->dev);
	if (rc)
		return reply_error(c, DEVSIM_MSG_HELLO, rc, "device could not set up a session");
	struct dsim_dev *d = s->dev;
	int fds[1 + 1 + 2 * DSIM_MAX_QUEUES];
	unsigned n = 0;
	fds[n++] = d->reg_fd;
	for (unsigned i = 0; i < d->num_kicks; i++)
		fds[n++] = d->kick_fd[i];
	for (unsigned i = 0; i < d->num_vectors; i++)
		fds[n++] = d->irq_fd[i];
	struct devsim_hello_reply r = { .version = DEVSIM_PROTO_VERSION,
					.reg_size = DSIM_REG_PAGE_SIZE,
					.num_kicks = d->num_kicks,
					.num_vectors = d->num_vectors };
	s->driver = c;
	if (s->log)
		fprintf(stderr, "devsim: client %u attached as the driver\n", c->id);
	return devsim_msg_send(c->fd, DEVSIM_MSG_HELLO, 0, &r, sizeof(r), fds, n) == 0;
}

static bool handle_dma_map(struct dsim_conn *c, const void *p, size_t len, int *fds, unsigned nfds)
{
	struct devsim_dma_map m;
	struct stat sb;
	const char *msg = NULL;
	int err = -EINVAL;
	if (c->srv->driver != c) {
		err = -EPERM;
		msg = "DMA_MAP before HELLO: only the attached driver maps DMA memory";
	} else if (len != sizeof(m) || nfds != 1) {
		err = -EPROTO;
		msg = "malformed DMA_MAP: needs one struct devsim_dma_map and one memfd";
	}
	if (!msg) {
		memcpy(&m, p, sizeof(m));
		long page = sysconf(_SC_PAGESIZE);
		int seals = fcntl(fds[0], F_GET_SEALS);
		if (m.len == 0 || m.offset % (uint64_t)page || m.offset + m.len < m.offset ||
		    m.len > SIZE_MAX)
			msg = "DMA_MAP: empty window or unaligned offset";
		else if (fstat(fds[0], &sb) < 0 || (uint64_t)sb.st_size < m.offset + m.len)
			msg = "DMA_MAP: the memfd is smaller than offset + len";
		else if (seals < 0 || !(seals & F_SEAL_SHRINK))
			msg = "DMA_MAP: seal the memfd with F_SEAL_SHRINK so it cannot shrink "
			      "under the device";
	}
	if (msg) {
		close_fds(fds, nfds);
		return reply_error(c, DEVSIM_MSG_DMA_MAP, err, msg);
	}
	void *va =
	    mmap(NULL, (size_t)m.len, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], (off_t)m.offset);
	close(fds[0]);
	if (va == MAP_FAILED)
		return reply_error(c, DEVSIM_MSG_DMA_MAP, -errno, "DMA_MAP: mmap failed");
	int rc = dsim_dma_add(c->srv->dev, m.bus, m.len, va, va, (size_t)m.len);
	if (rc) {
		munmap(va, (size_t)m.len);
		return reply_error(c, DEVSIM_MSG_DMA_MAP, rc,
				   rc == -EEXIST ? "DMA_MAP: window overlaps an existing one"
						 : "DMA_MAP: too many windows or bad range");
	}
	return devsim_msg_send(c->fd, DEVSIM_MSG_DMA_MAP, 0, NULL, 0, NULL, 0) == 0;
}

static bool handle_dma_unmap(struct dsim_conn *c, const void *p, size_t len)
{
	struct devsim_dma_unmap u;
	if (c->srv->driver != c)
		return reply_error(c, DEVSIM_MSG_DMA_UNMAP, -EPERM, "DMA_UNMAP before HELLO");
	if (len != sizeof(u))
		return reply_error(c, DEVSIM_MSG_DMA_UNMAP, -EPROTO, "malformed DMA_UNMAP");
	memcpy(&u, p, sizeof(u));
	if (dsim_dma_remove(c->srv->dev, u.bus))
		return reply_error(c, DEVSIM_MSG_DMA_UNMAP, -ENOENT,
				   "DMA_UNMAP: no window at that bus address");
	return devsim_msg_send(c->fd, DEVSIM_MSG_DMA_UNMAP, 0, NULL, 0, NULL, 0) == 0;
}

static bool handle_stats(struct dsim_conn *c)
{
	struct dsim_server *s = c->srv;
	uint8_t *regs = s->dev->regs;
	struct devsim_stats_reply r = { 0 };
	for (unsigned i = 0; i < DSIM_STAT_COUNT; i++)
		r.stat[i] = dsim_rd64(regs, DSIM_REG_STAT(i));
	r.events_queued = dsim_rd32(regs, DSIM_REG_EVENTS_QUEUED);
	r.events_dropped = dsim_rd32(regs, DSIM_REG_EVENTS_DROPPED);
	r.driver_attached = s->driver != NULL;
	r.status = dsim_rd32(regs, DSIM_REG_STATUS);
	return devsim_msg_send(c->fd, DEVSIM_MSG_STATS, 0, &r, sizeof(r), NULL, 0) == 0;
}

/* Changes the rules (or only reports them) and replies with what the device has now. */
static bool handle_fault(struct dsim_conn *c, const uint8_t *p, size_t len)
{
	struct dsim_faults *f = &c->srv->dev->faults;
	struct devsim_fault_req rq;
	if (len < sizeof(rq))
		return reply_error(c, DEVSIM_MSG_FAULT, -EPROTO, "malformed FAULT");
	memcpy(&rq, p, sizeof(rq));
	if (rq.reserved || (rq.flags & ~(DEVSIM_FAULT_CLEAR | DEVSIM_FAULT_SEED)))
		return reply_error(c, DEVSIM_MSG_FAULT, -EINVAL,
				   "FAULT: unknown flags: rebuild the client against this devsim");
	char text[DEVSIM_MSG_MAX_PAYLOAD + 1];
	memcpy(text, p + sizeof(rq), len - sizeof(rq));
	text[len - sizeof(rq)] = 0;
	struct dsim_fault_set set = f->set;
	if (rq.flags & DEVSIM_FAULT_CLEAR)
		set.n = 0;
	char err[256];
	if (dsim_fault_set_parse(&set, text, err, sizeof(err)))
		return reply_error(c, DEVSIM_MSG_FAULT, -EINVAL, err);
	dsim_faults_replace(f, &set);
	if (rq.flags & DEVSIM_FAULT_SEED)
		dsim_faults_seed(f, rq.seed);
	union {
		struct devsim_fault_reply r;
		uint8_t buf[DEVSIM_MSG_MAX_PAYLOAD];
	} out = { .r = { .seed = f->seed, .rules = f->set.n } };
	memcpy(out.r.injected, f->injected, sizeof(out.r.injected));
	size_t n = dsim_fault_set_render(&f->set, (char *)out.buf + sizeof(out.r),
					 sizeof(out.buf) - sizeof(out.r));
	return devsim_msg_send(c->fd, DEVSIM_MSG_FAULT, 0, &out, sizeof(out.r) + n + 1, NULL, 0) ==
	       0;
}

static bool handle(struct dsim_conn *c, const struct devsim_msg *h, const void *p, int *fds,
		   unsigned nfds)
{
	if (h->type == DEVSIM_MSG_DMA_MAP)
		return handle_dma_map(c, p, h->len, fds, nfds);
	close_fds(fds, nfds); /* no other message carries fds */
	switch (h->type) {
	case DEVSIM_MSG_HELLO:
		return handle_hello(c, p, h->len);
	case DEVSIM_MSG_DMA_UNMAP:
		return handle_dma_unmap(c, p, h->len);
	case DEVSIM_MSG_EVENT:
		if (h->len > DSIM_EVENT_PAYLOAD_MAX)
			return reply_error(c, h->type, -EMSGSIZE,
					   "event payload longer than 256 bytes");
		dsim_event_raise(c->srv->dev, p, h->len);
		return devsim_msg_send(c->fd, h->type, 0, NULL, 0, NULL, 0) == 0;
	case DEVSIM_MSG_STATS:
		return handle_stats(c);
	case DEVSIM_MSG_FAULT:
		return handle_fault(c, p, h->len);
	default:
		return reply_error(c, h->type, -EOPNOTSUPP, "unknown message type");
	}
}

static void on_conn(void *ctx, uint32_t events)
{
	struct dsim_conn *c = ctx;
	if (!(events & EPOLLIN)) {
		conn_close(c, "hang-up");
		return;
	}
	struct devsim_msg h;
	uint8_t buf[DEVSIM_MSG_MAX_PAYLOAD];
	int fds[DEVSIM_MSG_MAX_FDS];
	unsigned nfds = 4; /* no message carries more than one; extras are closed */
	int rc = devsim_msg_recv(c->fd, &h, buf, sizeof(buf), fds, &nfds);
	if (rc == -EAGAIN)
		return;
	if (rc == -EPROTO) {
		if (!reply_error(c, 0, -EPROTO, "malformed message"))
			conn_close(c, "send failed");
		return;
	}
	if (rc) {
		conn_close(c, rc == -ECONNRESET ? "closed" : strerror(-rc));
		return;
	}
	if (!handle(c, &h, buf, fds, nfds))
		conn_close(c, "send failed");
}

void dsim_server_drop_driver(struct dsim_server *s, const char *why)
{
	if (s->driver)
		conn_close(s->driver, why);
}

int dsim_server_add(struct dsim_server *s, int fd)
{
	struct dsim_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	/* So devsim_msg_recv() tells an empty packet (-EPROTO) from a hang-up. */
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0) {
		int rc = -errno;
		free(c);
		return rc;
	}
	c->srv = s;
	c->fd = fd;
	c->id = ++s->next_id;
	c->watch = (struct dsim_watch){ .fd = fd, .cb = on_conn, .ctx = c };
	int rc = dsim_dev_watch(s->dev, &c->watch);
	if (rc) {
		free(c);
		return rc;
	}
	c->next = s->conns;
	s->conns = c;
	if (s->log)
		fprintf(stderr, "devsim: client %u connected\n", c->id);
	return 0;
}

static void on_listen(void *ctx, uint32_t events)
{
	(void)events;
	struct dsim_server *s = ctx;
	int fd = accept4(s->listener.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (dsim_server_add(s, fd))
		close(fd);
}

void dsim_server_init(struct dsim_server *s, struct dsim_dev *dev, bool log)
{
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->listener = DSIM_LISTENER_CLOSED;
	s->log = log;
}

int dsim_server_listen(struct dsim_server *s, const char *path, char *err, size_t errlen)
{
	return dsim_listener_open(&s->listener, s->dev, path, SOCK_SEQPACKET, on_listen, s, err,
				  errlen);
}

void dsim_server_close(struct dsim_server *s)
{
	bool log = s->log;
	s->log = false;
	while (s->conns)
		conn_close(s->conns, "server stopping");
	s->log = log;
	dsim_listener_close(&s->listener, s->dev);
}
