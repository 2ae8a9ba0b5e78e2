/* SPDX-License-Identifier: MIT */
/*
 * Malformed and well-formed message sequences against devsim's protocol
 * server (server.c over proto.c), from two clients on socketpairs: HELLO,
 * DMA_MAP with memfds of fuzzed sizes (sealed or not) or fds of the wrong
 * kind, DMA_UNMAP, EVENT, STATS, FAULT rule text, unknown types, bad magic,
 * wrong lengths, truncated and empty packets, clients that hang up. The
 * device loop's dispatch is done here, without a thread. Invariants: no
 * crash, no undefined behaviour, no leaked memory; every packet gets
 * exactly one reply, well formed, of the request's type or (malformed
 * packets) of type 0 with -EPROTO; and no leaked fd: once the clients
 * are gone and the server is closed, the process holds exactly the
 * descriptors it held before the input, and the device has no DMA window
 * left.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "devsim/proto.h"
#include "dsim_guest.h"
#include "server.h"

#define CLIENTS 2

enum action { ACT_RAW, ACT_HELLO, ACT_DMA_MAP, ACT_HANG_UP, ACT_CONNECT, ACT_PASS, ACT_COUNT };

static struct dsim_dev *dev;
static struct dsim_server srv;
static int client[CLIENTS];

static void setup(void)
{
	dev = dsim_guest_device(2);
	/* Sessions start with HELLO: no session fds between inputs. */
	dsim_dev_detach(dev);
}

/*
 * Reads every reply client c has and returns how many there were; the fds
 * a reply carries are closed. A reply is a well-formed message of the
 * request's type, or of type 0 when the request was malformed.
 */
static unsigned drain(int c, uint32_t type)
{
	for (unsigned n = 0;; n++) {
		uint8_t buf[sizeof(struct devsim_msg) + DEVSIM_MSG_MAX_PAYLOAD];
		union {
			char buf[CMSG_SPACE(sizeof(int) * DEVSIM_MSG_MAX_FDS)];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };
		ssize_t got = recvmsg(client[c], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (got <= 0)
			return n;
		struct devsim_msg h;
		FUZZ_CHECK((size_t)got >= sizeof(h));
		memcpy(&h, buf, sizeof(h));
		FUZZ_CHECK(h.magic == DEVSIM_PROTO_MAGIC && h.len == (size_t)got - sizeof(h));
		FUZZ_CHECK(h.type == type || (h.type == 0 && h.status == -EPROTO));
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int rfd;
				memcpy(&rfd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				close(rfd);
			}
		}
	}
}

/* Every packet the server gets is answered once. */
static void expect_reply(int c, bool sent, uint32_t type)
{
	dsim_guest_serve(dev);
	FUZZ_CHECK(drain(c, type) == (sent ? 1u : 0u));
}

/* A memfd of a fuzzed size, sealed against shrinking or not, or an eventfd. */
static int make_fd(struct fuzz_in *in)
{
	uint8_t how = fuzz_u8(in);
	if (how % 4 == 3)
		return eventfd(0, EFD_CLOEXEC);
	int fd = memfd_create("fuzz-dma", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	off_t size = (off_t)(fuzz_u8(in) % 64) * 4096 + (how & 0x10 ? fuzz_u8(in) : 0);
	if (ftruncate(fd, size) == 0 && how % 4 != 0)
		fcntl(fd, F_ADD_SEALS, how % 4 == 1 ? F_SEAL_SHRINK : F_SEAL_SHRINK | F_SEAL_GROW);
	return fd;
}

/* Sends one packet (header fields as given) with nfds fresh fds, then closes our copies. */
static void send_packet(int c, const struct devsim_msg *h, const void *payload, size_t len,
			unsigned nfds, struct fuzz_in *in)
{
	if (client[c] < 0)
		return;
	int fds[4];
	unsigned n = 0;
	for (; n < nfds; n++)
		if ((fds[n] = make_fd(in)) < 0)
			break;
	struct iovec iov[2] = { { (void *)h, sizeof(*h) }, { (void *)payload, len } };
	union {
		char buf[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	if (n) {
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	bool sent = sendmsg(client[c], &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
	expect_reply(c, sent, h->type);
}

/* Any header and payload: magic, type and length as the input says. */
static void act_raw(struct fuzz_in *in)
{
	int c = fuzz_u8(in) % CLIENTS;
	uint8_t how = fuzz_u8(in);
	uint8_t payload[DEVSIM_MSG_MAX_PAYLOAD + 64] = { 0 };
	size_t len = fuzz_u16(in) % sizeof(payload);
	fuzz_bytes(in, payload, len);
	struct devsim_msg h = { .magic = how & 1 ? fuzz_u32(in) : DEVSIM_PROTO_MAGIC,
				.type = fuzz_u8(in) % 8,
				.len = how & 2 ? fuzz_u32(in) : (uint32_t)len };
	/* An empty packet: nothing at all, not even a header. */
	if (how & 4) {
		if (client[c] >= 0)
			expect_reply(c, send(client[c], "", 0, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0,
				     0);
		return;
	}
	send_packet(c, &h, payload, len, (how >> 4) % 4, in);
}

static void act_hello(struct fuzz_in *in)
{
	int c = fuzz_u8(in) % CLIENTS;
	struct devsim_hello hello = { .version = fuzz_u8(in) == 0xff ? fuzz_u32(in) : 1 };
	struct devsim_msg h = { DEVSIM_PROTO_MAGIC, DEVSIM_MSG_HELLO, 0, sizeof(hello) };
	send_packet(c, &h, &hello, sizeof(hello), 0, in);
}

static void act_dma_map(struct fuzz_in *in)
{
	int c = fuzz_u8(in) % CLIENTS;
	uint8_t how = fuzz_u8(in);
	struct devsim_dma_map m = {
		.bus = how & 1 ? fuzz_u64(in) : (uint64_t)fuzz_u8(in) << 16,
		.len = how & 2 ? fuzz_u64(in) : (uint64_t)fuzz_u8(in) << 12,
		.offset = how & 4 ? fuzz_u64(in) : (uint64_t)(fuzz_u8(in) % 4) << 12,
	};
	struct devsim_msg h = { DEVSIM_PROTO_MAGIC,
				how & 8 ? DEVSIM_MSG_DMA_UNMAP : DEVSIM_MSG_DMA_MAP, 0,
				how & 8 ? sizeof(struct devsim_dma_unmap) : sizeof(m) };
	send_packet(c, &h, &m, h.len, how & 8 ? 0 : 1 + (how >> 6) % 2, in);
}

static void hang_up(int c)
{
	if (client[c] < 0)
		return;
	close(client[c]);
	client[c] = -1;
	dsim_guest_serve(dev);
}

static void connect_client(int c)
{
	int sv[2];
	if (client[c] >= 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	if (dsim_server_add(&srv, sv[0]) < 0) {
		close(sv[0]);
		close(sv[1]);
		return;
	}
	client[c] = sv[1];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dev)
		setup();
	unsigned fds_before = fuzz_open_fds();
	struct fuzz_in in = { data, size };
	dsim_server_init(&srv, dev, false);
	srv.control_only = fuzz_u8(&in) == 0xff;
	for (int c = 0; c < CLIENTS; c++) {
		client[c] = -1;
		connect_client(c);
	}
	while (fuzz_more(&in)) {
		switch (fuzz_u8(&in) % ACT_COUNT) {
		case ACT_RAW:
			act_raw(&in);
			break;
		case ACT_HELLO:
			act_hello(&in);
			break;
		case ACT_DMA_MAP:
			act_dma_map(&in);
			break;
		case ACT_HANG_UP:
			hang_up(fuzz_u8(&in) % CLIENTS);
			break;
		case ACT_CONNECT:
			connect_client(fuzz_u8(&in) % CLIENTS);
			break;
		case ACT_PASS:
			dsim_dev_process(dev);
			break;
		}
	}
	for (int c = 0; c < CLIENTS; c++)
		hang_up(c);
	FUZZ_CHECK(srv.driver == NULL && srv.conns == NULL);
	FUZZ_CHECK(dev->nwin == 0);
	dsim_server_close(&srv);
	FUZZ_CHECK(fuzz_open_fds() == fds_before);
	return 0;
}
