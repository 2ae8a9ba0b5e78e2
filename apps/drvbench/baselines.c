/* SPDX-License-Identifier: MIT */
#include "baselines.h"

#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <drv/drv.h>

#include "histogram.h"

#define URING_SECONDS 0.5
#define URING_MAX_BATCH 256u
#define PINGPONG_ROUNDS 3000
#define MEMCPY_BUFFER (64u << 20) /* well past the last-level cache */
#define MEMCPY_BLOCK (64u << 10)
#define MEMCPY_PASSES 8

static void measure_uring(struct baselines *b, unsigned batch, int quiet)
{
	struct io_uring ring;
	struct io_uring_cqe *cqes[URING_MAX_BATCH];
	uint64_t ops = 0, start, deadline;
	int rc = io_uring_queue_init(batch < 8 ? 8 : batch, &ring, 0);

	if (rc < 0) {
		if (!quiet)
			fprintf(stderr, "drvbench: io_uring baseline skipped: %s\n", strerror(-rc));
		return;
	}
	start = drv_now_ns();
	deadline = start + (uint64_t)(URING_SECONDS * 1e9);
	while (drv_now_ns() < deadline) {
		for (unsigned i = 0; i < batch; i++)
			io_uring_prep_nop(io_uring_get_sqe(&ring));
		rc = io_uring_submit_and_wait(&ring, batch);
		if (rc < 0)
			break;
		unsigned got = 0;
		while (got < batch) {
			unsigned n = io_uring_peek_batch_cqe(&ring, cqes, URING_MAX_BATCH);
			if (!n && io_uring_wait_cqe(&ring, cqes) < 0)
				break;
			io_uring_cq_advance(&ring, n);
			got += n;
		}
		ops += got;
	}
	double secs = (double)(drv_now_ns() - start) / 1e9;
	io_uring_queue_exit(&ring);
	b->uring_nop_ops_per_s = (double)ops / secs;
	b->uring_nop_ns_per_op = secs * 1e9 / (double)ops;
}

/*
 * Two threads bounce a signal over two eventfds. Each side waits either in
 * a blocking read, or (epoll) in edge-triggered epoll_wait without reading
 * the count, which is how a libdrv queue and devsim wait. Each side also
 * counts its signals, and a waiter goes on only when the count says the
 * signal it waits for was sent: an interrupted or doubly reported wake-up
 * must not let it run ahead, or two signals merge into one edge and the
 * other side waits forever.
 */
struct pingpong {
	int to_peer, to_main;
	int ep_peer, ep_main;  /* -1: blocking reads */
	unsigned pings, pongs; /* atomic: signals sent to the peer and back */
};

static int wait_signal(int fd, int ep, const unsigned *count, unsigned want)
{
	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < want) {
		uint64_t v;
		struct epoll_event ev;
		int rc = ep < 0 ? (int)read(fd, &v, sizeof(v)) : epoll_wait(ep, &ev, 1, -1);
		if (rc < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

static int signal_fd(int fd, unsigned *count)
{
	uint64_t one = 1;
	__atomic_fetch_add(count, 1, __ATOMIC_RELEASE);
	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

static void *pong(void *arg)
{
	struct pingpong *pp = arg;

	for (unsigned i = 0; i < PINGPONG_ROUNDS; i++)
		if (wait_signal(pp->to_peer, pp->ep_peer, &pp->pings, i + 1) ||
		    signal_fd(pp->to_main, &pp->pongs))
			break;
	return NULL;
}

static int edge_epoll(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(ep);
		ep = -1;
	}
	return ep;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Returns the histogram of round trips, empty if set-up failed. */
static const struct hist *pingpong_rtt(int use_epoll)
{
	static struct hist h;
	struct pingpong pp = { eventfd(0, 0), eventfd(0, 0), -1, -1, 0, 0 };
	pthread_t peer;

	hist_reset(&h);
	if (use_epoll) {
		pp.ep_peer = edge_epoll(pp.to_peer);
		pp.ep_main = edge_epoll(pp.to_main);
	}
	if (pp.to_peer < 0 || pp.to_main < 0 || (use_epoll && (pp.ep_peer < 0 || pp.ep_main < 0)) ||
	    pthread_create(&peer, NULL, pong, &pp))
		goto out;
	for (unsigned i = 0; i < PINGPONG_ROUNDS; i++) {
		uint64_t t0 = drv_now_ns();
		if (signal_fd(pp.to_peer, &pp.pings) ||
		    wait_signal(pp.to_main, pp.ep_main, &pp.pongs, i + 1))
			break;
		hist_record(&h, drv_now_ns() - t0);
	}
	pthread_join(peer, NULL);
out:
	close_fd(pp.to_peer);
	close_fd(pp.to_main);
	close_fd(pp.ep_peer);
	close_fd(pp.ep_main);
	return &h;
}

static void measure_eventfd(struct baselines *b)
{
	const struct hist *h = pingpong_rtt(0);

	b->eventfd_rtt_p50_ns = hist_quantile(h, 0.5);
	b->eventfd_rtt_p99_ns = hist_quantile(h, 0.99);
	b->epoll_rtt_p50_ns = hist_quantile(pingpong_rtt(1), 0.5);
}

static void measure_memcpy(struct baselines *b)
{
	unsigned char *src = malloc(MEMCPY_BUFFER), *dst = malloc(MEMCPY_BUFFER);

	if (src && dst) {
		memset(src, 1, MEMCPY_BUFFER);
		memset(dst, 2, MEMCPY_BUFFER); /* fault the pages in before timing */
		uint64_t start = drv_now_ns();
		for (unsigned pass = 0; pass < MEMCPY_PASSES; pass++)
			for (size_t off = 0; off < MEMCPY_BUFFER; off += MEMCPY_BLOCK)
				memcpy(dst + off, src + off, MEMCPY_BLOCK);
		double secs = (double)(drv_now_ns() - start) / 1e9;
		/* Read the copy so the compiler cannot drop it. */
		if (dst[MEMCPY_BUFFER - 1] == 1)
			b->memcpy_gb_per_s = (double)MEMCPY_BUFFER * MEMCPY_PASSES / secs / 1e9;
	}
	free(src);
	free(dst);
}

void baselines_measure(struct baselines *b, unsigned batch, int quiet)
{
	if (batch > URING_MAX_BATCH)
		batch = URING_MAX_BATCH;
	*b = (struct baselines){ .uring_batch = batch };
	measure_uring(b, batch, quiet);
	measure_eventfd(b);
	measure_memcpy(b);
}
