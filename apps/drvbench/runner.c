/* SPDX-License-Identifier: MIT */
#include "runner.h"

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "allocs.h"
#include "device.h"
#include "sysstat.h"
#include "uring_backend.h"

#define STALL_NS (10ull * 1000000000) /* nothing completed for this long: give up */
#define WAIT_SLICE_NS (500ll * 1000000)

struct bench_queue {
	drv_queue *q;           /* a libdrv device's queue, or */
	struct uring_queue *uq; /* uring:PATH's io_uring */
	drv_buf *dma;
	unsigned char *plain;
	struct drv_req *reqs;
	struct drv_req **free_reqs;
	struct drv_req **done;
	unsigned nfree;
	unsigned in_flight;
	uint64_t quota;   /* submissions left; unlimited until recording starts */
	uint64_t planned; /* this queue's share of --count, or unlimited */
	uint64_t stripe_first, stripe_blocks, stripe_next; /* --seq: this queue's blocks */
	struct drv_queue_stats stats0, stats1;
};

struct worker {
	struct bench_shared *sh;
	pthread_t tid;
	struct bench_queue *bq;
	unsigned nq;
	struct pollfd *pfds;
	uint64_t rng;
	int recording;
	uint64_t ops, bytes; /* atomic: the progress line reads them */
	uint64_t end_ns;
	uint64_t completed_ns; /* complete_ns of the latest completion: a recent clock read */
	struct rusage ru0, ru1;
	uint64_t allocs;
	int failed;
	char err[256];
	struct hist hist;
};

struct bench_shared {
	const struct run_config *cfg;
	const struct bench_device *bdev;
	uint64_t blocks;             /* bs-sized blocks addressable */
	uint64_t measure_ns, end_ns; /* end_ns: UINT64_MAX in count mode */
	int stop;                    /* a worker failed: everyone stops submitting */
	unsigned finished;
	pthread_barrier_t ready, go, loop_done;
	struct worker *workers;
};

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint64_t rusage_ns(const struct rusage *ru)
{
	return ((uint64_t)ru->ru_utime.tv_sec + (uint64_t)ru->ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru->ru_utime.tv_usec + (uint64_t)ru->ru_stime.tv_usec) * 1000ull;
}

static void worker_stop(struct worker *w)
{
	w->failed = 1;
	__atomic_store_n(&w->sh->stop, 1, __ATOMIC_RELAXED);
}

static void worker_fail(struct worker *w, const char *what, int err)
{
	if (!w->failed && w->sh->bdev->uring)
		snprintf(w->err, sizeof(w->err), "%s: %s%s", what, strerror(-err),
			 uring_hint(err, w->sh->cfg->mode));
	else if (!w->failed)
		snprintf(w->err, sizeof(w->err), "%s: %s (%s)", what, drv_errmsg(), strerror(-err));
	worker_stop(w);
}

/* A request completed with an error: that ends the run. */
static int request_failed(struct worker *w, const struct drv_req *r)
{
	if (!w->sh->bdev->uring)
		worker_fail(w, "a request failed", r->status);
	else if (!w->failed)
		uring_describe_failure(r, w->sh->cfg->mode, w->err, sizeof(w->err));
	worker_stop(w);
	return r->status;
}

/* What stays the same for every submission of request r: all but offset and a mix's direction. */
static void prep_fixed(const struct run_config *cfg, struct bench_queue *b, struct drv_req *r)
{
	size_t slot_off = (size_t)(r - b->reqs) * cfg->bs;
	enum drv_op op = cfg->op == BENCH_WRITE ? DRV_OP_WRITE : DRV_OP_READ;

	if (cfg->op == BENCH_NOP) {
		drv_prep_nop(r);
	} else if (b->plain) {
		drv_prep(r, op, 0, b->plain + slot_off, cfg->bs);
	} else {
		drv_prep(r, op, 0, NULL, cfg->bs);
		r->buf = b->dma;
		r->buf_off = slot_off;
	}
}

static int queue_setup(struct worker *w, struct bench_queue *b)
{
	const struct run_config *cfg = w->sh->cfg;
	const struct bench_device *d = w->sh->bdev;
	struct drv_queue_opts qo = {
		.depth = cfg->qd,
		.cmode = cfg->mode,
		.spin_ns = cfg->spin_ns,
		.device_poll = cfg->device_poll,
	};
	size_t data_bytes = cfg->bs * cfg->qd;
	int rc;

	if (d->dev) {
		rc = drv_queue_create(d->dev, &qo, &b->q);
		if (rc < 0)
			return worker_fail(w, "creating a queue", rc), rc;
	}
	/* uring:PATH reads and writes plain aligned memory, as --buffered does here. */
	if (data_bytes && !cfg->buffered && d->dev) {
		rc = drv_buf_alloc(d->dev, data_bytes, &b->dma);
		if (rc < 0)
			return worker_fail(w, "allocating DMA buffers", rc), rc;
	} else if (data_bytes) {
		b->plain = aligned_alloc(4096, (data_bytes + 4095) & ~(size_t)4095);
		if (!b->plain)
			return worker_fail(w, "allocating buffers", -ENOMEM), -ENOMEM;
		memset(b->plain, 0x5a, data_bytes);
	}
	if (d->uring) {
		rc = uring_queue_create(d->uring, cfg->qd, cfg->mode, b->plain, cfg->bs, &b->uq);
		if (rc < 0)
			return worker_fail(w, "setting up an io_uring", rc), rc;
	}
	b->reqs = calloc(cfg->qd, sizeof(*b->reqs));
	b->free_reqs = calloc(cfg->qd, sizeof(*b->free_reqs));
	b->done = calloc(cfg->qd, sizeof(*b->done));
	if (!b->reqs || !b->free_reqs || !b->done)
		return worker_fail(w, "allocating requests", -ENOMEM), -ENOMEM;
	for (unsigned i = 0; i < cfg->qd; i++) {
		prep_fixed(cfg, b, &b->reqs[i]);
		b->free_reqs[i] = &b->reqs[cfg->qd - 1 - i];
	}
	b->nfree = cfg->qd;
	b->quota = UINT64_MAX;
	return 0;
}

static void queue_teardown(struct bench_queue *b)
{
	uring_queue_destroy(b->uq); /* before its buffers go */
	if (b->q)
		drv_queue_destroy(b->q);
	if (b->dma)
		drv_buf_free(b->dma);
	free(b->plain);
	free(b->reqs);
	free(b->free_reqs);
	free(b->done);
}

/* The calls that differ between a libdrv queue and an io_uring. */
static int queue_submit(struct bench_queue *b, struct drv_req *const reqs[], unsigned n)
{
	return b->uq ? uring_queue_submit(b->uq, reqs, n) : drv_submit(b->q, reqs, n);
}

static int queue_reap(struct bench_queue *b, struct drv_req **out, unsigned max, unsigned min,
		      int64_t timeout)
{
	return b->uq ? uring_queue_reap(b->uq, out, max, min, timeout)
		     : drv_reap(b->q, out, max, min, timeout);
}

static void queue_stats(const struct bench_queue *b, struct drv_queue_stats *st)
{
	if (b->uq)
		uring_queue_stats(b->uq, st);
	else
		drv_queue_stats(b->q, st);
}

static int queue_fd(const struct bench_queue *b)
{
	return b->uq ? uring_queue_fd(b->uq) : drv_queue_fd(b->q);
}

/* Per submission: the next block (random, or this queue's next), and for a mix a direction. */
static void prep_request(struct worker *w, struct bench_queue *b, struct drv_req *r)
{
	const struct run_config *cfg = w->sh->cfg;

	if (cfg->op == BENCH_NOP)
		return;
	if (cfg->seq) {
		r->offset = (b->stripe_first + b->stripe_next) * cfg->bs;
		if (++b->stripe_next == b->stripe_blocks)
			b->stripe_next = 0;
	} else {
		r->offset = (next_rand(&w->rng) % w->sh->blocks) * cfg->bs;
	}
	if (cfg->op == BENCH_MIX)
		r->op = next_rand(&w->rng) % 100 < cfg->mix_read ? DRV_OP_READ : DRV_OP_WRITE;
}

/*
 * Submits one batch if enough requests are free: 1 if it did, 0 if not, <0
 * on failure. The batch is the top of the free stack, handed over in place.
 */
static int submit_batch(struct worker *w, struct bench_queue *b)
{
	unsigned want = w->sh->cfg->batch;
	unsigned n = b->nfree < want ? b->nfree : want;
	int rc;

	if (n > b->quota)
		n = (unsigned)b->quota;
	/* Partial batches only when nothing else would ever free more requests. */
	if (!n || (n < want && b->in_flight && n != b->quota))
		return 0;
	struct drv_req **batch = &b->free_reqs[b->nfree - n];
	for (unsigned i = 0; i < n; i++)
		prep_request(w, b, batch[i]);
	rc = queue_submit(b, batch, n);
	if (rc < 0 && rc != -EAGAIN)
		return worker_fail(w, "submitting", rc), rc;
	unsigned accepted = rc < 0 ? 0 : (unsigned)rc;
	/* The requests not accepted stay free: close the gap the accepted ones leave. */
	if (accepted && accepted < n)
		memmove(batch, batch + accepted, (n - accepted) * sizeof(*batch));
	b->nfree -= accepted;
	b->in_flight += accepted;
	if (w->recording && b->quota != UINT64_MAX)
		b->quota -= accepted;
	return accepted == n;
}

/* Fills the queue to its depth, one batch per submit call. */
static int queue_refill(struct worker *w, struct bench_queue *b)
{
	int rc = 0;

	while (b->nfree && (rc = submit_batch(w, b)) > 0)
		;
	return rc;
}

static int account(struct worker *w, struct bench_queue *b, unsigned n)
{
	uint64_t bytes = 0;
	int rec = w->recording;
	/* Requests of one submit call and reap pass share their timestamps: record runs. */
	uint64_t run_ns = 0, run_len = 0;

	for (unsigned i = 0; i < n; i++) {
		struct drv_req *r = b->done[i];
		if (r->status < 0)
			return request_failed(w, r);
		uint64_t ns = r->complete_ns - r->submit_ns;
		if (ns != run_ns) {
			if (run_len && rec)
				hist_record_n(&w->hist, run_ns, run_len);
			run_ns = ns;
			run_len = 0;
		}
		run_len++;
		bytes += r->result;
		b->free_reqs[b->nfree++] = r;
	}
	if (n)
		w->completed_ns = b->done[n - 1]->complete_ns;
	b->in_flight -= n;
	if (rec) {
		if (run_len)
			hist_record_n(&w->hist, run_ns, run_len);
		__atomic_store_n(&w->ops, w->ops + n, __ATOMIC_RELAXED);
		__atomic_store_n(&w->bytes, w->bytes + bytes, __ATOMIC_RELAXED);
	}
	return 0;
}

static void start_recording(struct worker *w)
{
	w->recording = 1;
	for (unsigned i = 0; i < w->nq; i++) {
		struct bench_queue *b = &w->bq[i];
		queue_stats(b, &b->stats0);
		b->quota = b->planned;
	}
	getrusage(RUSAGE_THREAD, &w->ru0);
	allocs_thread_start();
}

/* Returns how many completions were delivered, or <0 on failure. */
static int reap_queue(struct worker *w, struct bench_queue *b, int64_t timeout)
{
	unsigned batch = w->sh->cfg->batch;
	unsigned want = batch < b->in_flight ? batch : b->in_flight;
	int n = queue_reap(b, b->done, w->sh->cfg->qd, timeout ? want : 0, timeout);

	if (n == -ETIMEDOUT)
		return 0;
	if (n < 0)
		return worker_fail(w, "reaping", n), n;
	int rc = account(w, b, (unsigned)n);
	return rc < 0 ? rc : n;
}

/*
 * With several queues per thread no single drv_reap() may block, so the
 * thread spins over them and, unless polling, sleeps on all their fds.
 */
static void wait_queues(struct worker *w, uint64_t idle_since)
{
	const struct run_config *cfg = w->sh->cfg;

	if (cfg->mode == DRV_CMODE_POLL)
		return;
	if (cfg->mode == DRV_CMODE_HYBRID && drv_now_ns() - idle_since < cfg->spin_ns)
		return;
	poll(w->pfds, w->nq, 100);
}

static int stalled(struct worker *w, uint64_t idle_since, unsigned busy)
{
	if (drv_now_ns() - idle_since <= STALL_NS)
		return 0;
	snprintf(w->err, sizeof(w->err),
		 "the device completed nothing for %llu s with %u requests in flight",
		 STALL_NS / 1000000000, busy);
	worker_stop(w);
	return 1;
}

static void run_loop(struct worker *w)
{
	struct bench_shared *sh = w->sh;
	int64_t timeout = w->nq == 1 ? WAIT_SLICE_NS : 0;
	uint64_t now = drv_now_ns();
	uint64_t idle_since = now;

	for (;;) {
		unsigned busy = 0;
		int reaped = 0;

		if (!w->recording && now >= sh->measure_ns)
			start_recording(w);
		if (now >= sh->end_ns || __atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
			for (unsigned i = 0; i < w->nq; i++)
				w->bq[i].quota = 0;
		for (unsigned i = 0; i < w->nq; i++) {
			if (queue_refill(w, &w->bq[i]) < 0)
				return;
			busy += w->bq[i].in_flight;
		}
		if (!busy)
			return;
		for (unsigned i = 0; i < w->nq; i++) {
			if (!w->bq[i].in_flight)
				continue;
			int n = reap_queue(w, &w->bq[i], timeout);
			if (n < 0)
				return;
			reaped += n;
		}
		/* Completions carry the time of the pass that reaped them: no clock read. */
		now = reaped ? w->completed_ns : drv_now_ns();
		if (reaped) {
			idle_since = now;
			continue;
		}
		if (stalled(w, idle_since, busy))
			return;
		if (w->nq > 1)
			wait_queues(w, idle_since);
	}
}

static void finish_recording(struct worker *w)
{
	w->allocs = allocs_thread_stop();
	getrusage(RUSAGE_THREAD, &w->ru1);
	w->end_ns = drv_now_ns();
	for (unsigned i = 0; i < w->nq; i++)
		queue_stats(&w->bq[i], &w->bq[i].stats1);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench_shared *sh = w->sh;
	int ok = 1;

	for (unsigned i = 0; i < w->nq && ok; i++) {
		ok = queue_setup(w, &w->bq[i]) == 0;
		if (ok)
			w->pfds[i] = (struct pollfd){ .fd = queue_fd(&w->bq[i]), .events = POLLIN };
	}
	pthread_barrier_wait(&sh->ready);
	pthread_barrier_wait(&sh->go);
	if (ok && !__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		run_loop(w);
		if (!w->recording)
			start_recording(w);
		finish_recording(w);
	}
	__atomic_fetch_add(&sh->finished, 1, __ATOMIC_RELEASE);
	pthread_barrier_wait(&sh->loop_done);
	for (unsigned i = 0; i < w->nq; i++)
		queue_teardown(&w->bq[i]);
	return NULL;
}

static void print_progress(struct bench_shared *sh, uint64_t now, uint64_t *last_ops)
{
	uint64_t ops = 0, bytes = 0;
	char line[128];

	for (unsigned i = 0; i < sh->cfg->threads; i++) {
		ops += __atomic_load_n(&sh->workers[i].ops, __ATOMIC_RELAXED);
		bytes += __atomic_load_n(&sh->workers[i].bytes, __ATOMIC_RELAXED);
	}
	int len = snprintf(
	    line, sizeof(line), "\r[%4.0f s] %10.0f IOPS  %8.1f MB/s total ops %llu ",
	    (double)(now - sh->measure_ns) / 1e9, (double)(ops - *last_ops),
	    (double)bytes / ((double)(now - sh->measure_ns) / 1e3), (unsigned long long)ops);
	*last_ops = ops;
	if (write(STDERR_FILENO, line, (size_t)len) < 0) {
		/* A lost progress line is harmless. */
	}
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000),
			       .tv_nsec = (long)(ns % 1000000000) };
	nanosleep(&ts, NULL);
}

/* CPU time of the process and of the whole machine over the measured interval. */
struct cpu_window {
	struct rusage ru0, ru1;
	uint64_t sys0, sys1;
	int sys_ok; /* both /proc/stat reads worked */
};

/* Main thread: waits for the loops to end, timing the process and the machine as a whole. */
static void supervise(struct bench_shared *sh, struct run_result *out, struct cpu_window *cw)
{
	unsigned threads = sh->cfg->threads;
	uint64_t last_ops = 0, next_progress = sh->measure_ns + 1000000000;
	int printed = 0;

	while (drv_now_ns() < sh->measure_ns &&
	       __atomic_load_n(&sh->finished, __ATOMIC_ACQUIRE) < threads)
		sleep_ns(1000000);
	getrusage(RUSAGE_SELF, &cw->ru0);
	cw->sys_ok = sysstat_busy_ns(&cw->sys0) == 0;
	allocs_window_open();
	while (__atomic_load_n(&sh->finished, __ATOMIC_ACQUIRE) < threads) {
		sleep_ns(10000000);
		uint64_t now = drv_now_ns();
		if (sh->cfg->progress && now >= next_progress) {
			print_progress(sh, now, &last_ops);
			next_progress += 1000000000;
			printed = 1;
		}
	}
	out->allocs_process = allocs_window_close();
	cw->sys_ok = sysstat_busy_ns(&cw->sys1) == 0 && cw->sys_ok;
	getrusage(RUSAGE_SELF, &cw->ru1);
	if (printed && write(STDERR_FILENO, "\n", 1) < 0) {
		/* As above. */
	}
}

static void summarize(struct bench_shared *sh, struct hist *lat, struct run_result *out,
		      const struct cpu_window *cw)
{
	const struct run_config *cfg = sh->cfg;
	uint64_t end = sh->measure_ns, thread_cpu = 0, completed = 0;

	hist_reset(lat);
	for (unsigned t = 0; t < cfg->threads; t++) {
		struct worker *w = &sh->workers[t];
		out->ops += w->ops;
		out->bytes += w->bytes;
		out->allocs_loop += w->allocs;
		thread_cpu += rusage_ns(&w->ru1) - rusage_ns(&w->ru0);
		if (w->end_ns > end)
			end = w->end_ns;
		hist_merge(lat, &w->hist);
		for (unsigned i = 0; i < w->nq; i++) {
			const struct bench_queue *b = &w->bq[i];
			out->kicks += b->stats1.kicks - b->stats0.kicks;
			out->interrupts += b->stats1.interrupts - b->stats0.interrupts;
			out->sleeps += b->stats1.sleeps - b->stats0.sleeps;
			completed += b->stats1.completed - b->stats0.completed;
		}
	}
	double ops = out->ops ? (double)out->ops : 1.0;
	out->seconds = (double)(end - sh->measure_ns) / 1e9;
	out->iops = out->seconds > 0 ? (double)out->ops / out->seconds : 0;
	out->mbps = out->seconds > 0 ? (double)out->bytes / out->seconds / 1e6 : 0;
	out->p50 = hist_quantile(lat, 0.50);
	out->p90 = hist_quantile(lat, 0.90);
	out->p99 = hist_quantile(lat, 0.99);
	out->p999 = hist_quantile(lat, 0.999);
	out->max = lat->count ? lat->max : 0;
	out->mean = hist_mean(lat);
	out->thread_cpu_ns_per_op = (double)thread_cpu / ops;
	out->process_cpu_ns_per_op = (double)(rusage_ns(&cw->ru1) - rusage_ns(&cw->ru0)) / ops;
	out->system_cpu_ns_per_op = cw->sys_ok ? (double)(cw->sys1 - cw->sys0) / ops : -1;
	if (out->seconds > 0)
		out->thread_cpu_util = (double)thread_cpu / 1e9 / out->seconds / cfg->threads;
	out->ops_per_kick = out->kicks ? (double)completed / (double)out->kicks : -1;
	out->ops_per_sleep = out->sleeps ? (double)completed / (double)out->sleeps : -1;
}

static int prepare(struct bench_shared *sh)
{
	const struct run_config *cfg = sh->cfg;
	const struct drv_info *info = &sh->bdev->info;

	if (cfg->op != BENCH_NOP) {
		uint64_t span = info->capacity < DEVICE_SPAN_MAX ? info->capacity : DEVICE_SPAN_MAX;
		sh->blocks = span / cfg->bs;
		if (!sh->blocks) {
			fprintf(stderr,
				"drvbench: --bs %zu is larger than the device (%llu bytes)\n",
				cfg->bs, (unsigned long long)info->capacity);
			return 1;
		}
		if (cfg->bs > info->max_transfer) {
			fprintf(stderr,
				"drvbench: --bs %zu exceeds the device's largest transfer (%u)\n",
				cfg->bs, info->max_transfer);
			return 1;
		}
	}
	if (cfg->seq && cfg->op != BENCH_NOP && sh->blocks < cfg->queues) {
		fprintf(stderr,
			"drvbench: --seq: %llu blocks of %zu bytes cannot be split into %u "
			"stripes\n",
			(unsigned long long)sh->blocks, cfg->bs, cfg->queues);
		return 1;
	}
	if (cfg->queues > info->max_queues || cfg->qd > info->max_queue_depth) {
		fprintf(stderr,
			"drvbench: the device has %u queues of depth %u at most (asked: %u of "
			"%u)\n",
			info->max_queues, info->max_queue_depth, cfg->queues, cfg->qd);
		return 1;
	}
	if (cfg->device_poll && !(info->features & DRV_FEAT_DEVICE_POLL)) {
		fprintf(stderr, "drvbench: --device-poll: this device cannot poll its rings\n");
		return 1;
	}
	return 0;
}

static int alloc_workers(struct bench_shared *sh)
{
	const struct run_config *cfg = sh->cfg;

	sh->workers = calloc(cfg->threads, sizeof(*sh->workers));
	if (!sh->workers)
		return -ENOMEM;
	for (unsigned t = 0; t < cfg->threads; t++) {
		struct worker *w = &sh->workers[t];
		w->sh = sh;
		w->nq = cfg->queues / cfg->threads + (t < cfg->queues % cfg->threads);
		w->bq = calloc(w->nq, sizeof(*w->bq));
		w->pfds = calloc(w->nq, sizeof(*w->pfds));
		if (!w->bq || !w->pfds)
			return -ENOMEM;
		w->rng = 0x9e3779b97f4a7c15ull * (t + 1);
		hist_reset(&w->hist);
		for (unsigned i = 0; i < w->nq; i++) {
			unsigned qi =
			    t + i * cfg->threads; /* queue qi goes to thread qi % threads */
			struct bench_queue *b = &w->bq[i];
			b->planned = UINT64_MAX;
			if (cfg->count)
				b->planned =
				    cfg->count / cfg->queues + (qi < cfg->count % cfg->queues);
			/* --seq: queue qi walks the qi-th of `queues` equal stripes. */
			b->stripe_blocks = sh->blocks / cfg->queues;
			b->stripe_first = qi * b->stripe_blocks;
		}
	}
	return 0;
}

static void free_workers(struct bench_shared *sh)
{
	for (unsigned t = 0; sh->workers && t < sh->cfg->threads; t++) {
		free(sh->workers[t].bq);
		free(sh->workers[t].pfds);
	}
	free(sh->workers);
}

static int start_threads(struct bench_shared *sh)
{
	unsigned t;

	for (t = 0; t < sh->cfg->threads; t++) {
		int rc = pthread_create(&sh->workers[t].tid, NULL, worker_main, &sh->workers[t]);
		if (rc) {
			fprintf(stderr, "drvbench: cannot start a thread: %s\n", strerror(rc));
			break;
		}
	}
	return (int)t;
}

int run_workload(const struct bench_device *d, const struct run_config *cfg, struct hist *lat,
		 struct run_result *out)
{
	struct bench_shared sh = { .cfg = cfg, .bdev = d };
	struct cpu_window cw = { 0 };
	int rc = 1;

	*out = (struct run_result){ 0 };
	if (prepare(&sh))
		return 1;
	if (alloc_workers(&sh) < 0) {
		fprintf(stderr, "drvbench: out of memory\n");
		free_workers(&sh);
		return 1;
	}
	pthread_barrier_init(&sh.ready, NULL, cfg->threads + 1);
	pthread_barrier_init(&sh.go, NULL, cfg->threads + 1);
	pthread_barrier_init(&sh.loop_done, NULL, cfg->threads + 1);
	int started = start_threads(&sh);
	if ((unsigned)started == cfg->threads) {
		pthread_barrier_wait(&sh.ready);
		uint64_t t0 = drv_now_ns();
		sh.measure_ns = t0 + (uint64_t)(cfg->warmup * 1e9);
		sh.end_ns =
		    cfg->count ? UINT64_MAX : sh.measure_ns + (uint64_t)(cfg->duration * 1e9);
		pthread_barrier_wait(&sh.go);
		supervise(&sh, out, &cw);
		pthread_barrier_wait(&sh.loop_done);
		for (unsigned t = 0; t < cfg->threads; t++)
			pthread_join(sh.workers[t].tid, NULL);
		rc = 0;
		for (unsigned t = 0; t < cfg->threads; t++)
			if (sh.workers[t].failed) {
				fprintf(stderr, "drvbench: %s\n", sh.workers[t].err);
				rc = 1;
				break;
			}
		if (!rc)
			summarize(&sh, lat, out, &cw);
	} else {
		/* Threads that did start are stuck at the first barrier: nothing to undo safely. */
		_exit(1);
	}
	pthread_barrier_destroy(&sh.ready);
	pthread_barrier_destroy(&sh.go);
	pthread_barrier_destroy(&sh.loop_done);
	free_workers(&sh);
	return rc;
}
