/* SPDX-License-Identifier: MIT */
/* Framing of the devsim socket protocol: one packet per message, fds as SCM_RIGHTS. */
#include "devsim/proto.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int devsim_msg_send(int sock, uint32_t type, int32_t status, const void *payload, size_t len,
		    const int *fds, unsigned nfds)
{
	if (len > DEVSIM_MSG_MAX_PAYLOAD || nfds > DEVSIM_MSG_MAX_FDS)
		return -EINVAL;
	struct devsim_msg hdr = {
		.magic = DEVSIM_PROTO_MAGIC, .type = type, .status = status, .len = (uint32_t)len
	};
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)payload, len } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * DEVSIM_MSG_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(hdr) + len ? 0 : -EPROTO;
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
}

int devsim_msg_recv(int sock, struct devsim_msg *hdr, void *buf, size_t cap, int *fds,
		    unsigned *nfds)
{
	struct iovec iov[2] = { { hdr, sizeof(*hdr) }, { buf, cap } };
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred)) +
			 CMSG_SPACE(sizeof(int) * DEVSIM_MSG_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { .msg_iov = iov,
			     .msg_iovlen = 2,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	unsigned cap_fds = nfds ? *nfds : 0, got = 0;
	if (nfds)
		*nfds = 0;
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	int all[DEVSIM_MSG_MAX_FDS];
	bool creds = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		creds |= c->cmsg_type == SCM_CREDENTIALS;
		if (c->cmsg_type != SCM_RIGHTS)
			continue;
		unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (unsigned i = 0; i < k && got < DEVSIM_MSG_MAX_FDS; i++)
			memcpy(&all[got++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	/*
	 * 0 is both end-of-file and an empty packet. With SO_PASSCRED every
	 * packet, even an empty one, carries SCM_CREDENTIALS and end-of-file
	 * carries nothing; without it an empty packet reads as end-of-file.
	 */
	if (n == 0 && !creds) {
		close_fds(all, got);
		return -ECONNRESET;
	}
	if ((size_t)n < sizeof(*hdr) || hdr->magic != DEVSIM_PROTO_MAGIC ||
	    hdr->len != (size_t)n - sizeof(*hdr) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		close_fds(all, got);
		return -EPROTO;
	}
	unsigned keep = got < cap_fds ? got : cap_fds;
	if (keep)
		memcpy(fds, all, sizeof(int) * keep);
	close_fds(all + keep, got - keep);
	if (nfds)
		*nfds = keep;
	return 0;
}

int devsim_msg_call(int sock, uint32_t type, const void *payload, size_t len, const int *fds,
		    unsigned nfds, void *reply, size_t reply_cap, size_t *reply_len, int *rfds,
		    unsigned *rnfds)
{
	int rc = devsim_msg_send(sock, type, 0, payload, len, fds, nfds);
	if (rc) {
		if (rnfds)
			*rnfds = 0;
		return rc;
	}
	struct devsim_msg hdr;
	char scratch[DEVSIM_MSG_MAX_PAYLOAD];
	void *buf = reply ? reply : scratch;
	size_t cap = reply ? reply_cap : sizeof(scratch);
	rc = devsim_msg_recv(sock, &hdr, buf, cap, rfds, rnfds);
	if (rc)
		return rc;
	rc = hdr.type != type ? -EPROTO : hdr.status;
	/* Callers look at fds only after a successful call: any others would leak. */
	if (rc && rnfds) {
		close_fds(rfds, *rnfds);
		*rnfds = 0;
	}
	if (hdr.type == type && reply_len)
		*reply_len = hdr.len;
	return rc;
}
