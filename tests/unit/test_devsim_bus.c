/* SPDX-License-Identifier: MIT */
/*
 * libdrv's sim bus and the devsim socket protocol: open over sim:inproc and
 * over a unix socket, register page and doorbells, DMA windows, interrupts,
 * "device busy", reconnect after a driver leaves, malformed messages,
 * control clients (EVENT, STATS) and the health fd.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/bus.h"
#include "dev/devdrv.h"
#include "devsim/devsim.h"
#include "devsim/proto.h"
#include "drv/drv.h"
#include "regs.h"
#include "server.h"

#define WAIT_NS (10ull * 1000000000ull)

static volatile uint8_t *regs_of(drv_dev *dev)
{
	volatile void *va;
	size_t len;
	assert_int_equal(drvi_bus_sim.map_region(dev, 2, &va, &len), 0);
	assert_int_equal(len, DSIM_REG_PAGE_SIZE);
	return va;
}

static uint32_t rd32(volatile uint8_t *p, uint32_t off)
{
	return __atomic_load_n((volatile uint32_t *)(p + off), __ATOMIC_ACQUIRE);
}

static void wr32(volatile uint8_t *p, uint32_t off, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)(p + off), v, __ATOMIC_RELEASE);
}

static void wr64(volatile uint8_t *p, uint32_t off, uint64_t v)
{
	__atomic_store_n((volatile uint64_t *)(p + off), v, __ATOMIC_RELEASE);
}

static void wait_reg(volatile uint8_t *p, uint32_t off, uint32_t mask, uint32_t want)
{
	uint64_t end = dsim_now_ns() + WAIT_NS;
	while ((rd32(p, off) & mask) != want) {
		assert_true(dsim_now_ns() < end);
		usleep(100);
	}
}

/*
 * Drives the device through the bus like a driver would: enable, one queue
 * in a DMA region, a WRITE then a READ completed by interrupt.
 */
static void exercise(drv_dev *dev)
{
	volatile uint8_t *p = regs_of(dev);
	assert_int_equal(rd32(p, DSIM_REG_MAGIC), DSIM_MAGIC);
	enum drv_irq_mode mode;
	int nv = drvi_bus_sim.irq_setup(dev, 64, &mode);
	assert_int_equal(nv, (int)rd32(p, DSIM_REG_NUM_VECTORS));
	assert_int_equal(mode, DRV_IRQ_EVENTFD);
	assert_int_equal(drvi_bus_sim.irq_fd(dev, (unsigned)nv), -1);

	struct drv_dma_region reg;
	assert_int_equal(drvi_bus_sim.dma_map(dev, 1u << 20, &reg), 0);
	assert_true(reg.bus >= 0x100000000ull);
	assert_int_equal(reg.contig, reg.len);
	assert_null(reg.page_bus);

	wr32(p, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	drvi_bus_sim.kick(dev, DSIM_KICK_ADMIN);
	wait_reg(p, DSIM_REG_STATUS, DSIM_STS_READY, DSIM_STS_READY);
	uint8_t *mem = reg.va;
	wr64(p, DSIM_REG_Q(0, DSIM_Q_SQ_BASE), reg.bus);
	wr64(p, DSIM_REG_Q(0, DSIM_Q_CQ_BASE), reg.bus + 4096);
	wr32(p, DSIM_REG_Q(0, DSIM_Q_LOG2_SIZE), 4);
	wr32(p, DSIM_REG_Q(0, DSIM_Q_VECTOR), 0);
	wr32(p, DSIM_REG_Q(0, DSIM_Q_ENABLE), 1);
	drvi_bus_sim.kick(dev, DSIM_KICK_ADMIN);
	wait_reg(p, DSIM_REG_Q(0, DSIM_Q_QSTATUS), ~0u, DSIM_QSTS_ENABLED);

	memcpy(mem + 65536, "through the bus", 15);
	struct dsim_sqe *sq = (struct dsim_sqe *)(void *)mem;
	sq[0] = (struct dsim_sqe){ .opcode = DSIM_OP_WRITE,
				   .tag = 1,
				   .offset = 512,
				   .length = 15,
				   .addr = reg.bus + 65536 };
	sq[1] = (struct dsim_sqe){ .opcode = DSIM_OP_READ,
				   .tag = 2,
				   .offset = 512,
				   .length = 15,
				   .addr = reg.bus + 131072 };
	wr32(p, DSIM_REG_Q(0, DSIM_Q_SQ_TAIL), 2);
	drvi_bus_sim.kick(dev, DSIM_KICK_QUEUE(0));
	struct pollfd pfd = { .fd = drvi_bus_sim.irq_fd(dev, 0), .events = POLLIN };
	struct dsim_cqe *cq = (struct dsim_cqe *)(void *)(mem + 4096);
	uint64_t end = dsim_now_ns() + WAIT_NS;
	while (!(__atomic_load_n(&cq[1].flags, __ATOMIC_ACQUIRE) & DSIM_CQE_F_PHASE)) {
		assert_true(dsim_now_ns() < end);
		poll(&pfd, 1, 100);
		drvi_bus_sim.irq_ack(dev, 0);
	}
	assert_int_equal(cq[0].status, 0);
	assert_int_equal(cq[1].status, 0);
	assert_memory_equal(mem + 131072, "through the bus", 15);
	drvi_bus_sim.irq_ack(dev, 0); /* an empty eventfd must not block */
	assert_int_equal(drvi_bus_sim.alive(dev), 0);
	drvi_bus_sim.dma_unmap(dev, &reg);
	assert_null(reg.va);
}

static void test_inproc(void **state)
{
	(void)state;
	drv_dev dev;
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(drvi_bus_sim.open(&dev, "inproc?queues=2&capacity=1M", NULL), 0);
	assert_string_equal(dev.info.bus, "sim");
	assert_string_equal(dev.info.address, "inproc");
	assert_int_equal(dev.info.irq_mode, DRV_IRQ_EVENTFD);
	assert_int_equal(rd32(regs_of(&dev), DSIM_REG_NUM_QUEUES), 2);
	exercise(&dev);
	drvi_bus_sim.close(&dev);
	assert_null(dev.bus_priv);

	memset(&dev, 0, sizeof(dev));
	assert_int_equal(drvi_bus_sim.open(&dev, "inproc?latency=sometimes", NULL), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "latency"));
	drvi_bus_sim.close(&dev); /* safe after a failed open */
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(drvi_bus_sim.open(&dev, "inproc?colour=blue", NULL), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "unknown option"));
	drvi_bus_sim.close(&dev);
}

struct served {
	struct dsim_dev *d;
	struct dsim_server srv;
	pthread_t thread;
	char path[108];
};

static void *serve_thread(void *arg)
{
	dsim_dev_run(arg);
	return NULL;
}

static void serve(struct served *s)
{
	struct dsim_config cfg;
	dsim_config_defaults(&cfg);
	cfg.capacity = 1u << 20;
	cfg.queues = 2;
	char err[256];
	assert_int_equal(dsim_dev_create(&cfg, &s->d, err, sizeof(err)), 0);
	dsim_server_init(&s->srv, s->d, false);
	snprintf(s->path, sizeof(s->path), "/tmp/devsim-bus-test-%d.sock", (int)getpid());
	assert_int_equal(dsim_server_listen(&s->srv, s->path, err, sizeof(err)), 0);
	struct stat sb;
	assert_int_equal(stat(s->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	pthread_create(&s->thread, NULL, serve_thread, s->d);
}

static void unserve(struct served *s)
{
	dsim_dev_stop(s->d);
	pthread_join(s->thread, NULL);
	dsim_server_close(&s->srv);
	dsim_dev_destroy(s->d);
	assert_int_equal(access(s->path, F_OK), -1);
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void test_socket_busy_and_reconnect(void **state)
{
	(void)state;
	struct served s;
	serve(&s);
	drv_dev a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(drvi_bus_sim.open(&a, s.path, NULL), 0);
	assert_string_equal(a.info.address, s.path);
	assert_int_equal(drvi_bus_sim.open(&b, s.path, NULL), -EBUSY);
	assert_non_null(strstr(drv_errmsg(), "device busy: another driver is connected"));
	drvi_bus_sim.close(&b);
	exercise(&a);

	/* Leave with a queue enabled and a request parked: the device resets. */
	volatile uint8_t *p = regs_of(&a);
	wr32(p, DSIM_REG_Q(1, DSIM_Q_ENABLE), 1);
	drvi_bus_sim.kick(&a, DSIM_KICK_ADMIN);
	drvi_bus_sim.close(&a);
	memset(&a, 0, sizeof(a));
	uint64_t end = dsim_now_ns() + WAIT_NS;
	int rc;
	while ((rc = drvi_bus_sim.open(&a, s.path, NULL)) == -EBUSY) {
		drvi_bus_sim.close(&a);
		memset(&a, 0, sizeof(a));
		assert_true(dsim_now_ns() < end);
		usleep(1000);
	}
	assert_int_equal(rc, 0);
	p = regs_of(&a);
	assert_int_equal(rd32(p, DSIM_REG_STATUS), 0);
	assert_int_equal(rd32(p, DSIM_REG_Q(0, DSIM_Q_QSTATUS)), 0);
	/* Storage survives the driver: the first session's WRITE is still there. */
	assert_memory_equal(s.d->st.ram + 512, "through the bus", 15);
	exercise(&a);

	/* Control clients while a driver is attached. */
	int c = raw_connect(s.path);
	assert_int_equal(
	    devsim_msg_call(c, DEVSIM_MSG_EVENT, "ping", 4, NULL, 0, NULL, 0, NULL, NULL, NULL), 0);
	struct devsim_stats_reply st;
	size_t len = 0;
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_STATS, NULL, 0, NULL, 0, &st, sizeof(st),
					 &len, NULL, NULL),
			 0);
	assert_int_equal(len, sizeof(st));
	assert_int_equal(st.events_queued, 1);
	assert_int_equal(st.driver_attached, 1);
	assert_int_equal(st.stat[DSIM_STAT_COMPLETED], 2);
	char big[300];
	memset(big, 'x', sizeof(big));
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_EVENT, big, sizeof(big), NULL, 0, NULL, 0,
					 NULL, NULL, NULL),
			 -EMSGSIZE);
	/* DMA_MAP is the driver's alone. */
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_DMA_UNMAP, &(uint64_t){ 0 }, 8, NULL, 0,
					 NULL, 0, NULL, NULL, NULL),
			 -EPERM);
	close(c);

	assert_int_equal(drvi_bus_sim.alive(&a), 0);
	drvi_bus_sim.close(&a);
	unserve(&s);

	memset(&a, 0, sizeof(a));
	assert_int_equal(drvi_bus_sim.open(&a, s.path, NULL), -ENOENT);
	assert_non_null(strstr(drv_errmsg(), "no devsim listening at"));
	assert_non_null(strstr(drv_errmsg(), "devsim serve --socket"));
	drvi_bus_sim.close(&a);
}

static void test_malformed_messages(void **state)
{
	(void)state;
	struct served s;
	serve(&s);
	int c = raw_connect(s.path);
	/* Too short, wrong magic, length mismatch: each gets -EPROTO, the server lives on. */
	assert_int_equal(send(c, "abc", 3, 0), 3);
	struct devsim_msg h;
	char buf[DEVSIM_MSG_MAX_PAYLOAD];
	assert_int_equal(devsim_msg_recv(c, &h, buf, sizeof(buf), NULL, NULL), 0);
	assert_int_equal(h.status, -EPROTO);
	struct devsim_msg bad = { .magic = DEVSIM_PROTO_MAGIC,
				  .type = DEVSIM_MSG_EVENT,
				  .len = 99 };
	assert_int_equal(send(c, &bad, sizeof(bad), 0), (ssize_t)sizeof(bad));
	assert_int_equal(devsim_msg_recv(c, &h, buf, sizeof(buf), NULL, NULL), 0);
	assert_int_equal(h.status, -EPROTO);
	assert_int_equal(devsim_msg_call(c, 77, NULL, 0, NULL, 0, NULL, 0, NULL, NULL, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(
	    devsim_msg_call(c, DEVSIM_MSG_HELLO, "x", 1, NULL, 0, NULL, 0, NULL, NULL, NULL),
	    -EPROTO);

	/* A driver's bad DMA_MAPs: no fd, an unsealed memfd, a memfd too small. */
	struct devsim_hello hello = { .version = DEVSIM_PROTO_VERSION };
	int fds[DEVSIM_MSG_MAX_FDS];
	unsigned nfds = DEVSIM_MSG_MAX_FDS;
	struct devsim_hello_reply rep;
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_HELLO, &hello, sizeof(hello), NULL, 0, &rep,
					 sizeof(rep), NULL, fds, &nfds),
			 0);
	assert_int_equal(nfds, 1 + rep.num_kicks + rep.num_vectors);
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	struct devsim_dma_map m = { .bus = 1ull << 32, .len = 8192 };
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_DMA_MAP, &m, sizeof(m), NULL, 0, NULL, 0,
					 NULL, NULL, NULL),
			 -EPROTO);
	int mfd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_int_equal(ftruncate(mfd, 4096), 0);
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_DMA_MAP, &m, sizeof(m), &mfd, 1, NULL, 0,
					 NULL, NULL, NULL),
			 -EINVAL);
	assert_int_equal(ftruncate(mfd, 8192), 0);
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_DMA_MAP, &m, sizeof(m), &mfd, 1, NULL, 0,
					 NULL, NULL, NULL),
			 -EINVAL);
	assert_int_equal(fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_DMA_MAP, &m, sizeof(m), &mfd, 1, NULL, 0,
					 NULL, NULL, NULL),
			 0);
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_DMA_MAP, &m, sizeof(m), &mfd, 1, NULL, 0,
					 NULL, NULL, NULL),
			 -EEXIST);
	struct devsim_dma_unmap u = { .bus = m.bus };
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_DMA_UNMAP, &u, sizeof(u), NULL, 0, NULL, 0,
					 NULL, NULL, NULL),
			 0);
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_DMA_UNMAP, &u, sizeof(u), NULL, 0, NULL, 0,
					 NULL, NULL, NULL),
			 -ENOENT);
	close(mfd);
	close(c);
	unserve(&s);
}

static unsigned open_fd_count(void)
{
	unsigned n = 0;
	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* A reply with an error status hands back no fds, even if a peer attached some. */
static void test_failed_call_closes_reply_fds(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	unsigned base = open_fd_count();
	int sent[2] = { memfd_create("a", MFD_CLOEXEC), memfd_create("b", MFD_CLOEXEC) };
	assert_true(sent[0] >= 0 && sent[1] >= 0);
	/* The reply is queued before the request: the call reads it at once. */
	assert_int_equal(devsim_msg_send(sv[1], DEVSIM_MSG_HELLO, -EIO, "no", 3, sent, 2), 0);
	close(sent[0]);
	close(sent[1]);
	struct devsim_hello hello = { .version = DEVSIM_PROTO_VERSION };
	int fds[DEVSIM_MSG_MAX_FDS];
	unsigned nfds = DEVSIM_MSG_MAX_FDS;
	char msg[64];
	size_t len = 0;
	assert_int_equal(devsim_msg_call(sv[0], DEVSIM_MSG_HELLO, &hello, sizeof(hello), NULL, 0,
					 msg, sizeof(msg), &len, fds, &nfds),
			 -EIO);
	assert_int_equal(nfds, 0);
	assert_int_equal(len, 3);
	assert_string_equal(msg, "no");
	assert_int_equal(open_fd_count(), base);

	/* A failed send leaves no fds to close either. */
	close(sv[1]);
	nfds = DEVSIM_MSG_MAX_FDS;
	assert_true(devsim_msg_call(sv[0], DEVSIM_MSG_HELLO, &hello, sizeof(hello), NULL, 0, msg,
				    sizeof(msg), &len, fds, &nfds) < 0);
	assert_int_equal(nfds, 0);
	close(sv[0]);
}

/* Sends an empty packet, optionally with an fd, and returns the status of the reply. */
static int32_t empty_packet(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { 0 };
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(sock, &mh, 0), 0);
	struct devsim_msg h;
	char buf[DEVSIM_MSG_MAX_PAYLOAD];
	assert_int_equal(devsim_msg_recv(sock, &h, buf, sizeof(buf), NULL, NULL), 0);
	return h.status;
}

static uint32_t driver_attached(int sock)
{
	struct devsim_stats_reply st;
	assert_int_equal(devsim_msg_call(sock, DEVSIM_MSG_STATS, NULL, 0, NULL, 0, &st, sizeof(st),
					 NULL, NULL, NULL),
			 0);
	return st.driver_attached;
}

/*
 * An empty packet is a short packet, not end-of-file: it gets -EPROTO and
 * the session goes on, over a served socket and over sim:inproc alike.
 */
static void test_empty_packet(void **state)
{
	(void)state;
	struct served s;
	serve(&s);
	int c = raw_connect(s.path);
	struct devsim_hello hello = { .version = DEVSIM_PROTO_VERSION };
	int fds[DEVSIM_MSG_MAX_FDS];
	unsigned nfds = DEVSIM_MSG_MAX_FDS;
	assert_int_equal(devsim_msg_call(c, DEVSIM_MSG_HELLO, &hello, sizeof(hello), NULL, 0, NULL,
					 0, NULL, fds, &nfds),
			 0);
	for (unsigned i = 0; i < nfds; i++)
		close(fds[i]);
	unsigned base = open_fd_count();
	assert_int_equal(empty_packet(c, -1), -EPROTO);
	assert_int_equal(driver_attached(c), 1);
	int mfd = memfd_create("t", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	assert_int_equal(empty_packet(c, mfd), -EPROTO);
	close(mfd);
	assert_int_equal(open_fd_count(), base); /* devsim closed its copy */
	assert_int_equal(driver_attached(c), 1);

	/* One reply even if the client stops sending right after the packet. */
	assert_int_equal(send(c, "", 0, 0), 0);
	assert_int_equal(shutdown(c, SHUT_WR), 0);
	struct devsim_msg h;
	char buf[DEVSIM_MSG_MAX_PAYLOAD];
	assert_int_equal(devsim_msg_recv(c, &h, buf, sizeof(buf), NULL, NULL), 0);
	assert_int_equal(h.status, -EPROTO);
	/* Then end-of-file ends the session: devsim hangs up and the driver is gone. */
	assert_int_equal(devsim_msg_recv(c, &h, buf, sizeof(buf), NULL, NULL), -ECONNRESET);
	close(c);
	c = raw_connect(s.path);
	assert_int_equal(driver_attached(c), 0);
	close(c);
	unserve(&s);

	struct devsim_inproc *h_in;
	char err[256];
	assert_int_equal(devsim_start_inproc(NULL, &c, &h_in, err, sizeof(err)), 0);
	assert_int_equal(empty_packet(c, -1), -EPROTO);
	assert_int_equal(driver_attached(c), 0);
	close(c);
	devsim_stop_inproc(h_in);
}

static void test_health_fd_on_device_death(void **state)
{
	(void)state;
	struct served s;
	serve(&s);
	drv_dev a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(drvi_bus_sim.open(&a, s.path, NULL), 0);
	int hfd = drvi_bus_sim.health_fd(&a);
	assert_true(hfd >= 0);
	struct pollfd p = { .fd = hfd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0);
	unserve(&s); /* devsim goes away */
	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_int_equal(drvi_bus_sim.alive(&a), -ENODEV);
	struct drv_dma_region reg;
	assert_true(drvi_bus_sim.dma_map(&a, 4096, &reg) < 0);
	drvi_bus_sim.close(&a);
}

/* A length that would wrap when rounded up to a page is refused as too large, not as empty. */
static void test_dma_map_huge_length(void **state)
{
	(void)state;
	drv_dev a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(drvi_bus_sim.open(&a, "inproc", NULL), 0);
	struct drv_dma_region reg;
	assert_int_equal(drvi_bus_sim.dma_map(&a, SIZE_MAX, &reg), -ENOMEM);
	assert_non_null(strstr(drv_errmsg(), "smaller DMA pool"));
	assert_int_equal(drvi_bus_sim.dma_map(&a, SIZE_MAX - 100, &reg), -ENOMEM);
	drvi_bus_sim.close(&a);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inproc),
		cmocka_unit_test(test_socket_busy_and_reconnect),
		cmocka_unit_test(test_malformed_messages),
		cmocka_unit_test(test_failed_call_closes_reply_fds),
		cmocka_unit_test(test_empty_packet),
		cmocka_unit_test(test_health_fd_on_device_death),
		cmocka_unit_test(test_dma_map_huge_length),
	};
	return cmocka_run_group_tests_name("devsim bus", tests, NULL, NULL);
}
