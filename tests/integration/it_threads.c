/* SPDX-License-Identifier: MIT */
/*
 * Concurrency: threads sharing one queue (submitting, waiting, reaping and
 * running callbacks at the same time), and one thread per queue. Every
 * request is delivered exactly once and all data is right.
 *
 * cmocka's assertions must not run off the main thread, so workers count
 * failures and the main thread asserts on the counts.
 */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define PER_THREAD 400
#define LEN 1024
#define REGION ((uint64_t)PER_THREAD * LEN)

struct job {
	struct drv_req req;
	uint64_t off;
	uint32_t seed;
	int deliveries; /* atomic */
};

struct shared {
	drv_queue *q;
	struct job *jobs; /* THREADS * PER_THREAD */
	uint8_t *mem;     /* one LEN block per job */
	unsigned total;
	unsigned delivered; /* atomic */
	unsigned errors;    /* atomic */
	int64_t timeout;
};

struct worker {
	struct shared *s;
	unsigned id;
	drv_queue *q; /* own queue (per-queue test) or the shared one */
	pthread_t thread;
};

static void error(struct shared *s, const char *what, int v)
{
	if (__atomic_fetch_add(&s->errors, 1, __ATOMIC_SEQ_CST) < 10)
		fprintf(stderr, "worker error: %s (%d)\n", what, v);
}

static int check_data(const struct job *j, const uint8_t *data)
{
	for (size_t i = 0; i < LEN; i++)
		if (data[i] != it_pattern(j->seed, j->off + i))
			return 0;
	return 1;
}

static void delivered(struct shared *s, struct job *j)
{
	if (__atomic_add_fetch(&j->deliveries, 1, __ATOMIC_SEQ_CST) != 1)
		error(s, "request delivered twice", (int)(j - s->jobs));
	if (j->req.status != 0 || j->req.result != LEN)
		error(s, "request failed", j->req.status);
	else if (j->req.op == DRV_OP_READ && !check_data(j, j->req.data))
		error(s, "read returned wrong data", (int)(j - s->jobs));
	__atomic_add_fetch(&s->delivered, 1, __ATOMIC_SEQ_CST);
}

static void job_cb(struct drv_req *req, void *user_data)
{
	delivered(user_data, (struct job *)req);
}

static void reap_some(struct shared *s, drv_queue *q, int64_t timeout)
{
	struct drv_req *out[16];
	int n = drv_reap(q, out, 16, 0, timeout);
	if (n < 0)
		error(s, "drv_reap", n);
	for (int i = 0; i < n; i++)
		delivered(s, (struct job *)out[i]);
}

/*
 * Even workers give their requests callbacks and also wait on them; odd
 * workers leave them to be reaped by anyone.
 */
static void *shared_worker(void *arg)
{
	struct worker *w = arg;
	struct shared *s = w->s;
	const int use_cb = (w->id % 2) == 0;
	for (unsigned i = 0; i < PER_THREAD; i++) {
		struct job *j = &s->jobs[w->id * PER_THREAD + i];
		struct drv_req *r = &j->req;
		uint8_t *data = s->mem + (size_t)(j - s->jobs) * LEN;
		if (j->req.op == DRV_OP_WRITE)
			it_fill(data, LEN, j->off, j->seed);
		if (use_cb) {
			r->cb = job_cb;
			r->user_data = s;
		}
		int k;
		while ((k = drv_submit(w->q, &r, 1)) == -EAGAIN)
			reap_some(s, w->q, IT_MS);
		if (k != 1) {
			error(s, "drv_submit", k);
			continue;
		}
		if (use_cb && i % 4 == 3) {
			int rc = drv_wait(w->q, r, s->timeout);
			if (rc != 0)
				error(s, "drv_wait on a callback request", rc);
		} else if (!use_cb) {
			reap_some(s, w->q, 0);
		}
	}
	uint64_t deadline = drv_now_ns() + 3 * (uint64_t)s->timeout;
	while (__atomic_load_n(&s->delivered, __ATOMIC_SEQ_CST) < s->total) {
		if (drv_now_ns() > deadline) {
			error(s, "not all requests delivered in time", (int)s->delivered);
			break;
		}
		reap_some(s, w->q, 5 * IT_MS);
	}
	return NULL;
}

static struct shared *make_jobs(struct it_ctx *c, int op, uint32_t seed_base)
{
	struct shared *s = it_calloc(c, 1, sizeof *s);
	s->total = THREADS * PER_THREAD;
	s->jobs = it_calloc(c, s->total, sizeof *s->jobs);
	s->mem = it_calloc(c, s->total, LEN);
	s->timeout = it_timeout_ns();
	for (unsigned t = 0; t < THREADS; t++)
		for (unsigned i = 0; i < PER_THREAD; i++) {
			struct job *j = &s->jobs[t * PER_THREAD + i];
			j->off = t * REGION + (uint64_t)i * LEN;
			j->seed = seed_base + t;
			uint8_t *data = s->mem + (size_t)(t * PER_THREAD + i) * LEN;
			drv_prep(&j->req, (enum drv_op)op, j->off, data, LEN);
		}
	return s;
}

static void run_workers(struct shared *s, struct worker *w, void *(*fn)(void *))
{
	for (unsigned t = 0; t < THREADS; t++) {
		w[t].s = s;
		w[t].id = t;
		assert_int_equal(pthread_create(&w[t].thread, NULL, fn, &w[t]), 0);
	}
	for (unsigned t = 0; t < THREADS; t++)
		assert_int_equal(pthread_join(w[t].thread, NULL), 0);
	assert_int_equal(s->errors, 0);
	assert_int_equal(s->delivered, s->total);
	for (unsigned i = 0; i < s->total; i++)
		assert_int_equal(s->jobs[i].deliveries, 1);
}

static void test_shared_queue(void **state)
{
	struct it_ctx *c = *state;
	assert_true(c->info.capacity >= THREADS * REGION);
	drv_queue *q = it_queue(c, 64, DRV_CMODE_HYBRID);
	it_try_latency(c->q, DSIM_DIST_EXPONENTIAL, 40 * IT_US, 4);
	struct worker w[THREADS];

	struct shared *wr = make_jobs(c, DRV_OP_WRITE, 100);
	for (unsigned t = 0; t < THREADS; t++)
		w[t].q = q;
	run_workers(wr, w, shared_worker);
	struct shared *rd = make_jobs(c, DRV_OP_READ, 100);
	run_workers(rd, w, shared_worker);

	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.submitted, 2 * THREADS * PER_THREAD);
	assert_int_equal(st.completed, st.submitted);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(drv_queue_destroy(q), 0);
}

/* One queue per thread: the fast path. Synchronous and batched I/O. */
static void *own_queue_worker(void *arg)
{
	struct worker *w = arg;
	struct shared *s = w->s;
	uint8_t data[LEN];
	for (unsigned i = 0; i < PER_THREAD; i++) {
		struct job *j = &s->jobs[w->id * PER_THREAD + i];
		it_fill(data, LEN, j->off, j->seed);
		int64_t r = drv_write(w->q, j->off, data, LEN);
		if (r != LEN)
			error(s, "drv_write", (int)r);
		if (__atomic_add_fetch(&j->deliveries, 1, __ATOMIC_SEQ_CST) != 1)
			error(s, "job done twice", (int)i);
		__atomic_add_fetch(&s->delivered, 1, __ATOMIC_SEQ_CST);
	}
	for (unsigned i = 0; i < PER_THREAD; i++) {
		struct job *j = &s->jobs[w->id * PER_THREAD + i];
		memset(data, 0, LEN);
		int64_t r = drv_read(w->q, j->off, data, LEN);
		if (r != LEN || !check_data(j, data))
			error(s, "read-back", (int)r);
	}
	return NULL;
}

static void test_queue_per_thread(void **state)
{
	struct it_ctx *c = *state;
	assert_true(c->info.capacity >= THREADS * REGION);
	unsigned nq = c->info.max_queues < THREADS ? c->info.max_queues : THREADS;
	if (nq < THREADS) {
		print_message("device has %u queues: skipped\n", c->info.max_queues);
		skip();
	}
	struct worker w[THREADS];
	w[0].q = c->q; /* the default queue counts as one */
	for (unsigned t = 1; t < THREADS; t++)
		w[t].q = it_queue(c, 16, t % 2 ? DRV_CMODE_IRQ : DRV_CMODE_POLL);
	it_try_latency(c->q, DSIM_DIST_EXPONENTIAL, 20 * IT_US, 8);
	struct shared *s = make_jobs(c, DRV_OP_WRITE, 300);
	run_workers(s, w, own_queue_worker);
	for (unsigned t = 1; t < THREADS; t++)
		assert_int_equal(drv_queue_destroy(w[t].q), 0);
	/* Each thread's region holds its own pattern, seen from the main thread. */
	uint8_t *all = it_calloc(c, 1, REGION);
	for (unsigned t = 0; t < THREADS; t++) {
		for (uint64_t off = 0; off < REGION; off += 64 * 1024) {
			size_t len = REGION - off < 64 * 1024 ? (size_t)(REGION - off) : 64 * 1024;
			it_read(c->q, t * REGION + off, all + off, len);
		}
		it_check_pattern(all, REGION, t * REGION, 300 + t);
	}
}

/*
 * The synchronous helpers beside a thread that reaps the same queue: the
 * reaper is handed only its own requests, never a helper's (which lives on
 * the helper's stack and is gone once the helper returns), and each helper
 * returns its own result.
 */
#define REAPER_REQS 8

struct reaper {
	drv_queue *q;
	struct drv_req req[REAPER_REQS];
	uint8_t data[REAPER_REQS][LEN];
	unsigned done, errors, foreign;
	int stop; /* atomic */
};

static void *reaper_thread(void *arg)
{
	struct reaper *r = arg;
	unsigned out_now = 0;
	for (unsigned i = 0; i < REAPER_REQS; i++) {
		struct drv_req *one = &r->req[i];
		drv_prep_read(one, (uint64_t)i * LEN, r->data[i], LEN);
		out_now += drv_submit(r->q, &one, 1) == 1;
	}
	while (out_now) {
		struct drv_req *out[REAPER_REQS];
		int n = drv_reap(r->q, out, REAPER_REQS, 1, 5 * IT_MS);
		for (int i = 0; i < n; i++) {
			if (out[i] < r->req || out[i] >= r->req + REAPER_REQS) {
				r->foreign++; /* not ours: not to be touched */
				continue;
			}
			out_now--;
			r->done++;
			r->errors += out[i]->status != 0 || out[i]->result != LEN;
			if (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
				out_now += drv_submit(r->q, &out[i], 1) == 1;
		}
	}
	return NULL;
}

static void test_helpers_beside_reaper(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *q = it_queue(c, 32, DRV_CMODE_HYBRID);
	uint8_t block[LEN], back[LEN];
	const uint64_t off = REAPER_REQS * LEN;
	struct reaper *r = it_calloc(c, 1, sizeof(*r));
	r->q = q;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, reaper_thread, r), 0);
	for (unsigned i = 0; i < 300; i++) {
		it_fill(block, LEN, off, 700 + i);
		assert_int_equal(drv_write(q, off, block, LEN), LEN);
		memset(back, 0, LEN);
		assert_int_equal(drv_read(q, off, back, LEN), LEN);
		it_check_pattern(back, LEN, off, 700 + i);
		if (i % 10 == 0)
			assert_int_equal(drv_flush(q), 0);
	}
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r->foreign, 0);
	assert_int_equal(r->errors, 0);
	assert_true(r->done >= REAPER_REQS);
	assert_int_equal(drv_queue_destroy(q), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shared_queue, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_queue_per_thread, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_helpers_beside_reaper, it_setup, it_teardown),
	};
	return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}
