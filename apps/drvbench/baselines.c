/* SPDX-License-Identifier: MIT */
#include "baselines.h"

#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct pingpong {
	int to_peer, to_main;
};

static void *pong(void *arg)
{
	struct pingpong *pp = arg;
	uint64_t v;

	for (unsigned i = 0; i < PINGPONG_ROUNDS; i++) {
		if (read(pp->to_peer, &v, sizeof(v)) != sizeof(v) ||
		    write(pp->to_main, &v, sizeof(v)) != sizeof(v))
			break;
	}
	return NULL;
}

static void measure_eventfd(struct baselines *b)
{
	static struct hist h;
	struct pingpong pp = { eventfd(0, 0), eventfd(0, 0) };
	pthread_t peer;
	uint64_t v = 1;

	hist_reset(&h);
	if (pp.to_peer < 0 || pp.to_main < 0 || pthread_create(&peer, NULL, pong, &pp))
		goto out;
	for (unsigned i = 0; i < PINGPONG_ROUNDS; i++) {
		uint64_t t0 = drv_now_ns();
		if (write(pp.to_peer, &v, sizeof(v)) != sizeof(v) ||
		    read(pp.to_main, &v, sizeof(v)) != sizeof(v))
			break;
		hist_record(&h, drv_now_ns() - t0);
	}
	pthread_join(peer, NULL);
	b->eventfd_rtt_p50_ns = hist_quantile(&h, 0.5);
	b->eventfd_rtt_p99_ns = hist_quantile(&h, 0.99);
out:
	if (pp.to_peer >= 0)
		close(pp.to_peer);
	if (pp.to_main >= 0)
		close(pp.to_main);
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
