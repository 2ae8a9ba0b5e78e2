/* SPDX-License-Identifier: MIT */
/*
 * The sim bus: devsim reached over its unix socket (or a socketpair to an
 * in-process devsim thread). The register page, doorbells and interrupts
 * arrive as fds at HELLO; DMA memory is a memfd we create and lend to
 * devsim, at bus addresses far from any host pointer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "bus/bus.h"
#include "dev/devdrv.h"
#include "drv/sim.h"
#include "devsim/dsim_hw.h"
#include "devsim/proto.h"
#include "drv/driver.h"

#define SIM_BUS_BASE 0x100000000ull /* bus addresses start at 4 GiB */

static const struct drv_sim_inproc_ops *inproc_ops; /* libdrv-sim's, once loaded */

DRV_API void drv_sim_register_inproc(const struct drv_sim_inproc_ops *ops)
{
	__atomic_store_n(&inproc_ops, ops, __ATOMIC_RELEASE);
}
#define SIM_REPLY_TIMEOUT_S 10

struct sim_bus {
	int sock;
	void *inproc; /* the in-process device, or NULL */
	const struct drv_sim_inproc_ops *inproc_ops;
	pthread_mutex_t lock; /* one request/reply on the socket at a time */
	void *regs;
	unsigned num_kicks, num_vectors;
	int kick_fd[1 + DSIM_MAX_QUEUES];
	int irq_fd[DSIM_MAX_QUEUES];
	uint64_t next_bus;
};

static struct sim_bus *sim_of(drv_dev *dev)
{
	return dev->bus_priv;
}

static void close_all(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * Bytes echoed from the end of a socket path too long to use: the file name
 * is what the user recognises, and the whole path could push the reason out
 * of drv_errmsg(). Shorter than any path that is too long.
 */
#define SIM_PATH_TAIL 60

static int connect_path(const char *path, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	if (len == 0)
		return drv_fail(-EINVAL,
				"sim: no socket path: give sim:/path/to.sock or sim:inproc");
	if (len >= sizeof(sa.sun_path))
		return drv_fail(-EINVAL,
				"sim: socket path too long (%zu bytes; unix sockets take at most "
				"%zu): use a shorter path, e.g. under /tmp or /run (...%s)",
				len, sizeof(sa.sun_path) - 1, path + len - SIM_PATH_TAIL);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return drv_fail_errno(-errno, "sim: cannot create a socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED)
			return drv_fail(-e,
					"no devsim listening at %s: start `devsim serve --socket "
					"%s`",
					path, path);
		return drv_fail_errno(-e, "sim: cannot connect to %s", path);
	}
	*out = fd;
	return 0;
}

/* Sends HELLO and takes the register page, kick and interrupt fds. */
static int hello(drv_dev *dev, struct sim_bus *s)
{
	struct devsim_hello h = { .version = DEVSIM_PROTO_VERSION };
	union {
		struct devsim_hello_reply r;
		char msg[DEVSIM_MSG_MAX_PAYLOAD];
	} rep;
	memset(&rep, 0, sizeof(rep));
	int fds[DEVSIM_MSG_MAX_FDS];
	unsigned nfds = DEVSIM_MSG_MAX_FDS;
	size_t len = 0;
	int rc = devsim_msg_call(s->sock, DEVSIM_MSG_HELLO, &h, sizeof(h), NULL, 0, &rep,
				 sizeof(rep) - 1, &len, fds, &nfds);
	if (rc == -EBUSY)
		return drv_fail(rc, "device busy: another driver is connected to devsim at %s",
				dev->info.address);
	if (rc < 0 && len && rep.msg[0])
		return drv_fail(rc, "devsim at %s refused HELLO: %s", dev->info.address, rep.msg);
	if (rc < 0)
		return drv_fail_errno(rc, "no answer to HELLO from devsim at %s",
				      dev->info.address);
	const struct devsim_hello_reply *r = &rep.r;
	if (len != sizeof(*r) || r->num_vectors > DSIM_MAX_QUEUES ||
	    r->num_kicks != 1 + r->num_vectors || r->reg_size < DSIM_REG_PAGE_SIZE ||
	    nfds != 1 + r->num_kicks + r->num_vectors) {
		close_all(fds, nfds);
		return drv_fail(-EPROTO, "devsim at %s sent a malformed HELLO reply",
				dev->info.address);
	}
	s->regs = mmap(NULL, DSIM_REG_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	close(fds[0]);
	s->num_kicks = r->num_kicks;
	s->num_vectors = r->num_vectors;
	memcpy(s->kick_fd, fds + 1, sizeof(int) * s->num_kicks);
	memcpy(s->irq_fd, fds + 1 + s->num_kicks, sizeof(int) * s->num_vectors);
	if (s->regs == MAP_FAILED) {
		s->regs = NULL;
		return drv_fail_errno(-errno, "sim: cannot map the dsim register page");
	}
	return 0;
}

static int sim_open(drv_dev *dev, const char *addr, const struct drv_open_opts *opts)
{
	(void)opts;
	struct sim_bus *s = calloc(1, sizeof(*s));
	if (!s)
		return drv_fail(-ENOMEM, "out of memory opening sim:%s", addr);
	s->sock = -1;
	memset(s->kick_fd, -1, sizeof(s->kick_fd));
	memset(s->irq_fd, -1, sizeof(s->irq_fd));
	s->next_bus = SIM_BUS_BASE;
	pthread_mutex_init(&s->lock, NULL);
	dev->bus_priv = s;
	snprintf(dev->info.bus, sizeof(dev->info.bus), "sim");
	/* devsim serves one kind of device; its PCI id picks the driver as on PCI. */
	dev->info.vendor_id = DSIM_PCI_VENDOR;
	dev->info.device_id = DSIM_PCI_DEVICE;
	dev->pci_class = DSIM_PCI_CLASS;
	dev->info.irq_mode = DRV_IRQ_EVENTFD;

	int rc;
	if (strncmp(addr, "inproc", 6) == 0 && (addr[6] == 0 || addr[6] == '?')) {
		snprintf(dev->info.address, sizeof(dev->info.address), "inproc");
		const struct drv_sim_inproc_ops *ops =
		    __atomic_load_n(&inproc_ops, __ATOMIC_ACQUIRE);
		if (!ops)
			return drv_fail(-ENOTSUP,
					"sim:inproc needs the simulator library: link libdrv-sim "
					"(pkg-config libdrv-sim, or CMake libdrv::sim)");
		char err[256] = "";
		rc = ops->start(addr[6] ? addr + 7 : "", &s->sock, &s->inproc, err, sizeof(err));
		if (rc)
			return drv_fail(rc, "sim:inproc: %s", err[0] ? err : strerror(-rc));
		s->inproc_ops = ops;
	} else {
		snprintf(dev->info.address, sizeof(dev->info.address), "%s", addr);
		rc = connect_path(addr, &s->sock);
		if (rc)
			return rc;
	}
	/* A hung devsim must not hang us: replies come quickly or never. */
	struct timeval tv = { .tv_sec = SIM_REPLY_TIMEOUT_S };
	setsockopt(s->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return hello(dev, s);
}

static void sim_close(drv_dev *dev)
{
	struct sim_bus *s = sim_of(dev);
	if (!s)
		return;
	if (s->regs)
		munmap(s->regs, DSIM_REG_PAGE_SIZE);
	close_all(s->kick_fd, 1 + DSIM_MAX_QUEUES);
	close_all(s->irq_fd, DSIM_MAX_QUEUES);
	if (s->sock >= 0)
		close(s->sock);
	/* The device thread sees the hang-up, then stops and frees the device. */
	if (s->inproc)
		s->inproc_ops->stop(s->inproc);
	pthread_mutex_destroy(&s->lock);
	free(s);
	dev->bus_priv = NULL;
}

static int sim_map_region(drv_dev *dev, unsigned idx, volatile void **va, size_t *len)
{
	struct sim_bus *s = sim_of(dev);
	/* Where ivshmem-doorbell puts the shared page on PCI, so the dsim driver needs no case. */
	if (idx != 2)
		return drv_fail(-ENOENT, "sim: no register window %u (only 2, the dsim page)", idx);
	*va = s->regs;
	*len = DSIM_REG_PAGE_SIZE;
	return 0;
}

static void sim_kick(drv_dev *dev, unsigned vector)
{
	struct sim_bus *s = sim_of(dev);
	uint64_t one = 1;
	if (vector < s->num_kicks && write(s->kick_fd[vector], &one, sizeof(one)) < 0)
		return; /* the device is gone; alive() reports it */
}

static int sim_irq_setup(drv_dev *dev, unsigned wanted, enum drv_irq_mode *mode)
{
	struct sim_bus *s = sim_of(dev);
	*mode = DRV_IRQ_EVENTFD;
	return (int)(wanted < s->num_vectors ? wanted : s->num_vectors);
}

static int sim_irq_fd(drv_dev *dev, unsigned vector)
{
	struct sim_bus *s = sim_of(dev);
	return vector < s->num_vectors ? s->irq_fd[vector] : -1;
}

static void sim_irq_ack(drv_dev *dev, unsigned vector)
{
	struct sim_bus *s = sim_of(dev);
	uint64_t v;
	/* devsim made the eventfds non-blocking; an empty one just returns EAGAIN. */
	if (vector < s->num_vectors && read(s->irq_fd[vector], &v, sizeof(v)) < 0)
		return;
}

/* One request/reply on the socket; the reply's message (if any) goes to msg. */
static int call(struct sim_bus *s, uint32_t type, const void *p, size_t len, int fd, char *msg,
		size_t msglen)
{
	size_t rlen = 0;
	msg[0] = 0;
	pthread_mutex_lock(&s->lock);
	int rc = devsim_msg_call(s->sock, type, p, len, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, msg,
				 msglen - 1, &rlen, NULL, NULL);
	pthread_mutex_unlock(&s->lock);
	msg[rlen < msglen ? rlen : msglen - 1] = 0;
	return rc;
}

static int sim_dma_map(drv_dev *dev, size_t len, struct drv_dma_region *out)
{
	struct sim_bus *s = sim_of(dev);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	/* Rounding up to a page must not wrap to a zero-length mapping. */
	if (len > SIZE_MAX - page)
		return drv_fail(-ENOMEM,
				"sim: %zu bytes of DMA memory cannot be mapped: use a smaller DMA "
				"pool (drv_open_opts.dma_pool_bytes)",
				len);
	len = (len + page - 1) / page * page;
	if (len == 0)
		return drv_fail(-EINVAL, "sim: cannot map an empty DMA region");
	/* memfds are sparse: without this check a huge request "succeeds" until touched. */
	struct sysinfo si;
	if (sysinfo(&si) == 0 && len / si.mem_unit > si.totalram)
		return drv_fail(-ENOMEM,
				"sim: %zu bytes of DMA memory is more than this machine's RAM; ask "
				"for less",
				len);
	int fd = memfd_create("drv-dma", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return drv_fail_errno(-errno, "sim: memfd_create for %zu bytes of DMA memory", len);
	void *va = MAP_FAILED;
	if (ftruncate(fd, (off_t)len) == 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0)
		va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (va == MAP_FAILED) {
		int e = errno;
		close(fd);
		return drv_fail_errno(-e, "sim: cannot allocate %zu bytes of DMA memory", len);
	}
	pthread_mutex_lock(&s->lock);
	uint64_t bus = s->next_bus;
	/* A page of unmapped bus space between windows makes overruns DMA errors. */
	s->next_bus += len + page;
	pthread_mutex_unlock(&s->lock);
	if (dev->dma_mask && bus + len - 1 > dev->dma_mask) {
		munmap(va, len);
		close(fd);
		return drv_fail(-ENOMEM, "sim: DMA address space below %#llx exhausted",
				(unsigned long long)dev->dma_mask);
	}
	struct devsim_dma_map m = { .bus = bus, .len = len, .offset = 0 };
	char msg[256];
	int rc = call(s, DEVSIM_MSG_DMA_MAP, &m, sizeof(m), fd, msg, sizeof(msg));
	close(fd);
	if (rc) {
		munmap(va, len);
		return drv_fail(rc, "devsim refused DMA memory: %s", msg[0] ? msg : strerror(-rc));
	}
	*out = (struct drv_dma_region){ .va = va, .len = len, .contig = len, .bus = bus };
	return 0;
}

static void sim_dma_unmap(drv_dev *dev, struct drv_dma_region *r)
{
	struct sim_bus *s = sim_of(dev);
	if (!r->va)
		return;
	struct devsim_dma_unmap u = { .bus = r->bus };
	char msg[256];
	/* A dead devsim has no windows left to unmap: ignore the failure. */
	(void)call(s, DEVSIM_MSG_DMA_UNMAP, &u, sizeof(u), -1, msg, sizeof(msg));
	munmap(r->va, r->len);
	r->va = NULL;
}

static int sim_health_fd(drv_dev *dev)
{
	return sim_of(dev)->sock;
}

static int sim_alive(drv_dev *dev)
{
	struct sim_bus *s = sim_of(dev);
	/* While a call is in flight its reply may be pending: the device is alive. */
	if (pthread_mutex_trylock(&s->lock) != 0)
		return 0;
	struct pollfd p = { .fd = s->sock, .events = POLLIN };
	int n = poll(&p, 1, 0);
	pthread_mutex_unlock(&s->lock);
	/* devsim never speaks unprompted: anything readable is a hang-up or an error. */
	return n == 0 ? 0 : -ENODEV;
}

const struct drv_bus_ops drvi_bus_sim = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.map_region = sim_map_region,
	.kick = sim_kick,
	.irq_setup = sim_irq_setup,
	.irq_fd = sim_irq_fd,
	.irq_ack = sim_irq_ack,
	.dma_map = sim_dma_map,
	.dma_unmap = sim_dma_unmap,
	.health_fd = sim_health_fd,
	.alive = sim_alive,
	.config_read = NULL,
	.config_write = NULL,
};
