/* SPDX-License-Identifier: MIT */
/*
 * The dsim device served the way `devsim ivshmem` serves it to QEMU: the
 * ivshmem server hands the register page, the doorbell eventfds and the
 * interrupt eventfds to a pretend QEMU over its socket, and guest RAM, a
 * file, becomes the DMA window at bus address 0 (guest_ram.c). The input
 * plays a hostile guest through dsim_guest.c with the fds QEMU got
 * (register writes on its own mapping of the page, doorbells on the kick
 * eventfds, rings in guest RAM), and at its first 0xff byte makes QEMU
 * talk on its socket, or go away and come back with other guest RAM:
 * present (64 or 128 KiB), absent, or created but not sized yet.
 * Invariants: no crash, no undefined behaviour, no leak; QEMU gets the
 * setup the protocol promises; the device's DMA windows are exactly guest
 * RAM (none when there is none); and QEMU leaving and coming back leaves
 * the process with the descriptors it had before.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dsim_guest.h"
#include "guest_ram.h"
#include "ivshmem_server.h"
#include "regs.h"

#define QUEUES 2u
#define KICKS (1u + QUEUES)
#define RAM_SMALL (64u << 10)
#define RAM_LARGE (128u << 10)

enum ram_kind { RAM_64K, RAM_128K, RAM_ABSENT, RAM_UNSIZED, RAM_KINDS };

static struct dsim_dev *dev;
static struct ivshmem_server srv;
static char dir[64], sock_path[96], ram_path[96];

/* What QEMU holds while connected. */
static struct {
	int sock;
	int kick[KICKS], irq[QUEUES];
	uint8_t *regs;
	uint8_t *ram; /* the guest's RAM: the file, or memory devsim cannot see */
	size_t ram_len;
	enum ram_kind kind;
} qemu = { .sock = -1 };
static uint8_t unseen_ram[RAM_SMALL];

/* The socket file goes with the server; the RAM file and the directory are ours. */
static void cleanup(void)
{
	ivshmem_server_stop(&srv);
	unlink(ram_path);
	rmdir(dir);
}

static void setup(void)
{
	char err[256];
	/* tmpfs: QEMU's guest RAM usually lives there too, and files come and go fast. */
	snprintf(dir, sizeof(dir), "/dev/shm/fuzz-ivshmem-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/ivs.sock", dir);
	snprintf(ram_path, sizeof(ram_path), "%s/ram", dir);
	dev = dsim_guest_device(QUEUES);
	if (ivshmem_server_start(&srv, dev, sock_path, ram_path, KICKS, false, err, sizeof(err)))
		abort();
	atexit(cleanup);
}

/* One setup message: a little-endian int64 and maybe an fd. */
static int64_t recv_setup(int *fd)
{
	int64_t v = 0;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { &v, sizeof(v) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	*fd = -1;
	FUZZ_CHECK(recvmsg(qemu.sock, &mh, MSG_CMSG_CLOEXEC) == sizeof(v));
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return (int64_t)le64toh((uint64_t)v);
}

/* Makes the guest RAM file what `kind` says (a QEMU restarting with the same RAM keeps it). */
static void make_ram(enum ram_kind kind)
{
	if (qemu.ram && kind == qemu.kind)
		return;
	if (qemu.ram && qemu.ram != unseen_ram)
		munmap(qemu.ram, qemu.ram_len);
	unlink(ram_path);
	qemu.kind = kind;
	qemu.ram = unseen_ram;
	qemu.ram_len = sizeof(unseen_ram);
	if (kind == RAM_ABSENT)
		return;
	int fd = open(ram_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	if (kind != RAM_UNSIZED) {
		qemu.ram_len = kind == RAM_64K ? RAM_SMALL : RAM_LARGE;
		FUZZ_CHECK(ftruncate(fd, (off_t)qemu.ram_len) == 0);
		qemu.ram = mmap(NULL, qemu.ram_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		FUZZ_CHECK(qemu.ram != MAP_FAILED);
	}
	close(fd);
}

static void connect_qemu(void)
{
	qemu.sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	FUZZ_CHECK(connect(qemu.sock, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	dsim_guest_serve(dev);
	int fd;
	FUZZ_CHECK(recv_setup(&fd) == 0 && fd < 0); /* protocol version */
	int64_t id = recv_setup(&fd);
	FUZZ_CHECK(id > IVSHMEM_DEVSIM_PEER && fd < 0);
	int reg_fd;
	FUZZ_CHECK(recv_setup(&reg_fd) == -1 && reg_fd >= 0);
	for (unsigned i = 0; i < KICKS; i++)
		FUZZ_CHECK(recv_setup(&qemu.kick[i]) == IVSHMEM_DEVSIM_PEER && qemu.kick[i] >= 0);
	for (unsigned i = 0; i < QUEUES; i++)
		FUZZ_CHECK(recv_setup(&qemu.irq[i]) == id && qemu.irq[i] >= 0);
	qemu.regs = mmap(NULL, DSIM_REG_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, reg_fd, 0);
	close(reg_fd);
	FUZZ_CHECK(qemu.regs != MAP_FAILED);
	FUZZ_CHECK(dsim_rd32(qemu.regs, DSIM_REG_DOORBELL_PEER) == IVSHMEM_DEVSIM_PEER);
	/* Guest RAM is the one window, at guest-physical 0; without RAM there is none. */
	bool mapped = qemu.kind == RAM_64K || qemu.kind == RAM_128K;
	FUZZ_CHECK(dev->nwin == (mapped ? 1u : 0u));
	FUZZ_CHECK(!mapped || (dev->win[0].bus == 0 && dev->win[0].len == qemu.ram_len));
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

/* QEMU exits: its socket and every fd it got go; devsim resets and waits. */
static void disconnect_qemu(void)
{
	if (qemu.sock < 0)
		return;
	close(qemu.sock);
	qemu.sock = -1;
	dsim_guest_serve(dev);
	FUZZ_CHECK(srv.client_fd < 0 && dev->nwin == 0);
	close_fds(qemu.kick, KICKS);
	close_fds(qemu.irq, QUEUES);
	munmap(qemu.regs, DSIM_REG_PAGE_SIZE);
}

/*
 * QEMU goes (closing its socket, or only its sending side first) and starts
 * again with guest RAM of `kind`: afterwards the process holds the same
 * descriptors as before.
 */
static void reconnect_qemu(enum ram_kind kind, bool half_close)
{
	unsigned fds = qemu.sock >= 0 ? fuzz_open_fds() : 0;
	if (half_close && qemu.sock >= 0) {
		shutdown(qemu.sock, SHUT_WR);
		dsim_guest_serve(dev);
		FUZZ_CHECK(srv.client_fd < 0);
	}
	disconnect_qemu();
	make_ram(kind);
	connect_qemu();
	FUZZ_CHECK(!fds || fuzz_open_fds() == fds);
}

static void kick(struct dsim_guest *g, unsigned vector)
{
	(void)g;
	if (vector < KICKS)
		eventfd_write(qemu.kick[vector], 1);
}

/*
 * A turn of the device loop. The doorbells the guest rang are left in their
 * eventfds: a pass looks at every queue anyway, and QEMU's own socket is
 * served where QEMU acts.
 */
static void pass(struct dsim_guest *g)
{
	dsim_dev_process(dev);
	dsim_guest_check(g);
}

/* What QEMU itself may do: leave and come back, or talk on a socket it should not. */
static void qemu_action(struct dsim_guest *g, struct fuzz_in *in)
{
	uint8_t what = fuzz_u8(in);
	if (what % 3 == 1) {
		send(qemu.sock, "?", 1, MSG_NOSIGNAL);
		dsim_guest_serve(dev);
	} else {
		reconnect_qemu((what >> 2) % RAM_KINDS, what % 3 == 2);
	}
	g->regs = qemu.regs;
	g->win[0] = (struct guest_window){ 0, qemu.ram, qemu.ram_len };
	dsim_guest_restart(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dev)
		setup();
	struct fuzz_in in = { data, size };
	/* Inputs start with 64 KiB of guest RAM; QEMU restarts with other RAM only when told. */
	if (qemu.sock < 0 || qemu.kind != RAM_64K)
		reconnect_qemu(RAM_64K, false);
	/* Each input starts from a device reset with no rules and zeroed memory and storage. */
	static const struct dsim_fault_set no_rules;
	dsim_faults_init(&dev->faults, &no_rules, DSIM_FAULT_DEFAULT_SEED);
	memset(qemu.ram, 0, qemu.ram_len);
	memset(dev->st.ram, 0, dev->st.capacity);
	struct dsim_guest g = {
		.d = dev,
		.regs = qemu.regs,
		.win = { { 0, qemu.ram, qemu.ram_len } },
		.nwin = 1,
		.kick = kick,
		.pass = pass,
	};
	dsim_guest_restart(&g);
	dsim_wr32(g.regs, DSIM_REG_CONTROL, DSIM_CTRL_RESET);
	kick(&g, DSIM_KICK_ADMIN);
	pass(&g);
	dsim_wr32(g.regs, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	kick(&g, DSIM_KICK_ADMIN);
	pass(&g);
	/* One QEMU restart per input at most: restarts cost a hundred times a register write. */
	bool restarted = false;
	while (fuzz_more(&in)) {
		if (in.p[0] == 0xff && !restarted) {
			fuzz_u8(&in);
			qemu_action(&g, &in);
			restarted = true;
		} else {
			dsim_guest_step(&g, &in);
		}
	}
	pass(&g);
	dsim_guest_check_pool(dev);
	return 0;
}
