/* SPDX-License-Identifier: MIT */
/*
 * devsim socket protocol (docs/dsim.md, "Socket protocol").
 *
 * Transport: a SOCK_SEQPACKET unix socket, one message per packet. Every
 * message is a struct devsim_msg header followed by `len` payload bytes;
 * file descriptors travel as SCM_RIGHTS ancillary data of the same packet.
 * Every request gets exactly one reply with the same `type`; `status` is 0
 * or -errno, and a failed reply's payload is a NUL-terminated message.
 * devsim never sends anything unsolicited.
 */
#ifndef DEVSIM_PROTO_H
#define DEVSIM_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define DEVSIM_PROTO_MAGIC 0x50565344u /* "DSVP" */
#define DEVSIM_PROTO_VERSION 1u
#define DEVSIM_MSG_MAX_PAYLOAD 1024u
#define DEVSIM_MSG_MAX_FDS 96u

enum devsim_msg_type {
	DEVSIM_MSG_HELLO = 1,     /* driver attach: hello -> hello_reply + fds */
	DEVSIM_MSG_DMA_MAP = 2,   /* dma_map + 1 memfd -> empty */
	DEVSIM_MSG_DMA_UNMAP = 3, /* dma_unmap -> empty */
	DEVSIM_MSG_EVENT = 4,     /* payload bytes -> empty */
	DEVSIM_MSG_STATS = 5,     /* empty -> stats_reply */
	DEVSIM_MSG_FAULT = 6,     /* fault_req + rule text -> fault_reply + rule text */
};

struct devsim_msg {
	uint32_t magic; /* DEVSIM_PROTO_MAGIC */
	uint32_t type;  /* devsim_msg_type */
	int32_t status; /* replies: 0 or -errno */
	uint32_t len;   /* payload bytes that follow */
};

struct devsim_hello {
	uint32_t version; /* DEVSIM_PROTO_VERSION */
	uint32_t reserved;
};

/* fds that follow, in order: register page, kicks[num_kicks], irqs[num_vectors]. */
struct devsim_hello_reply {
	uint32_t version;
	uint32_t reg_size; /* bytes of the register page memfd */
	uint32_t num_kicks;
	uint32_t num_vectors;
};

struct devsim_dma_map {
	uint64_t bus; /* bus address of byte `offset` of the memfd */
	uint64_t len;
	uint64_t offset; /* page aligned */
};

struct devsim_dma_unmap {
	uint64_t bus; /* as given to DMA_MAP */
};

struct devsim_stats_reply {
	uint64_t stat[11]; /* DSIM_STAT_* order */
	uint32_t events_queued;
	uint32_t events_dropped;
	uint32_t driver_attached;
	uint32_t status; /* DSIM_REG_STATUS */
};

#define DEVSIM_FAULT_CLEAR 1u /* remove every rule before adding the ones sent */
#define DEVSIM_FAULT_SEED 2u  /* reseed the fault RNG with `seed` */

/* Followed by rules as text, separated by ';' or newlines (none: change nothing). */
struct devsim_fault_req {
	uint32_t flags; /* DEVSIM_FAULT_* */
	uint32_t reserved;
	uint64_t seed;
};

/* Followed by the rules now set, one per line, NUL-terminated. */
struct devsim_fault_reply {
	uint64_t seed;         /* the last seed given */
	uint64_t injected[13]; /* by enum dsim_fault_kind */
	uint32_t rules;
	uint32_t reserved;
};

/*
 * Sends one message with up to DEVSIM_MSG_MAX_FDS fds. Returns 0 or -errno.
 */
int devsim_msg_send(int sock, uint32_t type, int32_t status, const void *payload, size_t len,
		    const int *fds, unsigned nfds);

/*
 * Receives one message: header into *hdr, payload into buf (at most cap
 * bytes), fds into fds (at most *nfds, updated; extra fds are closed).
 * Returns 0, -ECONNRESET on orderly close, -EPROTO on a malformed packet
 * (received fds closed), or -errno.
 */
int devsim_msg_recv(int sock, struct devsim_msg *hdr, void *buf, size_t cap, int *fds,
		    unsigned *nfds);

/*
 * Sends a request and waits for its reply (blocking). Returns the reply
 * status or -errno. Fds come back only with status 0; otherwise *rnfds is 0.
 */
int devsim_msg_call(int sock, uint32_t type, const void *payload, size_t len, const int *fds,
		    unsigned nfds, void *reply, size_t reply_cap, size_t *reply_len, int *rfds,
		    unsigned *rnfds);

#endif
