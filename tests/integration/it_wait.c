/* SPDX-License-Identifier: MIT */
/*
 * Ways of getting completions: wait for one, any or all, test, reap in
 * batches, callbacks; every completion is delivered exactly once whichever
 * way it is collected.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NOP instant, READ slow. */
static void nop_fast_read_slow(drv_queue *q, uint64_t read_ns)
{
	struct dsim_timing t;
	it_timing_zero(&t);
	it_timing_op(&t, DSIM_OP_READ, DSIM_DIST_FIXED, read_ns, 0);
	it_set_timing(q, &t);
}

static void test_wait_any_all(void **state)
{
	struct it_ctx *c = *state;
	struct drv_req *r = it_calloc(c, 3, sizeof *r);
	uint8_t *data = it_calloc(c, 2, 512);
	nop_fast_read_slow(c->q, 500 * IT_MS);

	drv_prep_read(&r[0], 0, data, 512);
	drv_prep_nop(&r[1]);
	drv_prep_read(&r[2], 512, data + 512, 512);
	struct drv_req *set[3] = { &r[0], &r[1], &r[2] };
	it_submit(c->q, set, 3);
	/* The NOP, unless the machine stalled so long that a slow read finished too. */
	int idx = drv_wait_any(c->q, set, 3, it_timeout_ns());
	assert_in_range(idx, 0, 2);
	assert_true(drv_req_done(set[idx]));
	if (idx != 1)
		assert_true(set[idx]->complete_ns - set[idx]->submit_ns >= 500 * IT_MS);
	assert_int_equal(set[idx]->status, 0);
	/* A finished request stays "any": asking again answers at once. */
	idx = drv_wait_any(c->q, set, 3, 0);
	assert_in_range(idx, 0, 2);
	assert_true(drv_req_done(set[idx]));
	/* Without it, the slow ones are still pending. */
	struct drv_req *slow[2] = { &r[0], &r[2] };
	int any = drv_wait_any(c->q, slow, 2, it_timeout_ns());
	assert_true(any == 0 || any == 1);
	assert_true(drv_req_done(slow[any]));
	assert_int_equal(drv_wait_all(c->q, set, 3, it_timeout_ns()), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(r[i].status, 0);
	assert_int_equal(r[0].result, 512);
	assert_true(r[0].complete_ns - r[0].submit_ns >= 500 * IT_MS);
}

static void test_test(void **state)
{
	struct it_ctx *c = *state;
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	uint8_t *data = it_calloc(c, 1, 512);
	nop_fast_read_slow(c->q, 200 * IT_MS);
	drv_prep_read(r, 0, data, 512);
	it_submit1(c->q, r);
	assert_int_equal(drv_test(c->q, r), -EINPROGRESS);
	assert_int_equal(r->status, -EINPROGRESS);
	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	int t;
	while ((t = drv_test(c->q, r)) == -EINPROGRESS) {
		assert_true(drv_now_ns() < deadline);
		it_sleep_ns(5 * IT_MS);
	}
	assert_int_equal(t, 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->result, 512);
	assert_true(r->complete_ns >= r->submit_ns + 200 * IT_MS);
}

/* Batches of reap with min_complete; with a wait or a test in between. */
static void test_reap_batches_exactly_once(void **state)
{
	struct it_ctx *c = *state;
	enum { N = 60, BATCH = 16, MIN = 6 };
	struct drv_req *r = it_calloc(c, N, sizeof *r);
	struct drv_req **p = it_calloc(c, N, sizeof *p);
	unsigned seen[N] = { 0 };
	it_try_latency(c->q, DSIM_DIST_EXPONENTIAL, 2 * IT_MS, 4);
	for (unsigned i = 0; i < N; i++) {
		drv_prep_nop(&r[i]);
		r[i].user_data = (void *)(uintptr_t)(i + 1);
		p[i] = &r[i];
	}
	it_submit(c->q, p, N);

	/* Some collected by wait and test first: reap must never hand them out again. */
	it_wait_ok(c->q, &r[0]);
	seen[0]++;
	it_wait_ok(c->q, &r[N - 1]);
	seen[N - 1]++;
	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	while (drv_test(c->q, &r[1]) != 0) {
		assert_true(drv_now_ns() < deadline);
		it_sleep_ns(IT_MS);
	}
	seen[1]++;

	unsigned delivered = 3;
	while (delivered < N) {
		struct drv_req *out[BATCH];
		unsigned left = N - delivered, want = left < MIN ? left : MIN;
		int n = drv_reap(c->q, out, BATCH, want, it_timeout_ns());
		if (n < (int)want) {
			print_error("drv_reap(min %u): %d, %u left\n", want, n, left);
			fail();
		}
		assert_true(n <= BATCH);
		for (int i = 0; i < n; i++) {
			uintptr_t id = (uintptr_t)out[i]->user_data;
			assert_in_range(id, 1, N);
			assert_ptr_equal(out[i], &r[id - 1]);
			assert_int_equal(out[i]->status, 0);
			seen[id - 1]++;
		}
		delivered += (unsigned)n;
	}
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
	struct drv_req *out[4];
	assert_int_equal(drv_reap(c->q, out, 4, 0, 20 * IT_MS), 0);
}

struct chain {
	struct drv_req r[10];
	int calls[10];
	unsigned done;
	drv_queue *q;
	int submit_error;
};

static void chain_cb(struct drv_req *req, void *user_data)
{
	struct chain *ch = user_data;
	ptrdiff_t i = req - ch->r;
	if (i < 0 || i >= 10)
		return;
	ch->calls[i]++;
	__atomic_add_fetch(&ch->done, 1, __ATOMIC_SEQ_CST);
	if (i + 1 < 10) { /* a callback may submit the next request */
		struct drv_req *next = &ch->r[i + 1];
		if (drv_submit(ch->q, &next, 1) != 1)
			ch->submit_error = 1;
	}
}

static void test_callbacks(void **state)
{
	struct it_ctx *c = *state;
	struct chain *ch = it_calloc(c, 1, sizeof *ch);
	ch->q = c->q;
	it_try_latency(c->q, DSIM_DIST_FIXED, IT_MS, 0);
	for (unsigned i = 0; i < 10; i++) {
		drv_prep_nop(&ch->r[i]);
		ch->r[i].cb = chain_cb;
		ch->r[i].user_data = ch;
	}
	struct drv_req *first = &ch->r[0];
	it_submit(c->q, &first, 1);

	/* Callbacks run in whoever processes completions: here, reap. */
	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	while (__atomic_load_n(&ch->done, __ATOMIC_SEQ_CST) < 10) {
		assert_true(drv_now_ns() < deadline);
		struct drv_req *out[4];
		int n = drv_reap(c->q, out, 4, 0, 10 * IT_MS);
		assert_int_equal(n, 0); /* callback requests are never reaped */
	}
	assert_int_equal(ch->submit_error, 0);
	for (unsigned i = 0; i < 10; i++) {
		assert_int_equal(ch->calls[i], 1);
		assert_int_equal(ch->r[i].status, 0);
	}

	/* Waiting on a request with a callback: the callback still runs once. */
	struct chain *one = it_calloc(c, 1, sizeof *one);
	one->q = c->q;
	drv_prep_nop(&one->r[9]);
	one->r[9].cb = chain_cb;
	one->r[9].user_data = one;
	struct drv_req *last = &one->r[9];
	it_submit(c->q, &last, 1);
	it_wait_ok(c->q, last);
	assert_int_equal(one->calls[9], 1);
	struct drv_req *out[4];
	assert_int_equal(drv_reap(c->q, out, 4, 0, 10 * IT_MS), 0);
	assert_int_equal(one->calls[9], 1);
}

struct nested {
	drv_queue *q;
	struct drv_req inner;
	int calls;
	int rc;
};

/* A callback that runs a request of its own on the queue and waits for it. */
static void nested_wait_cb(struct drv_req *req, void *user_data)
{
	(void)req;
	struct nested *n = user_data;
	n->calls++;
	drv_prep_nop(&n->inner);
	struct drv_req *inner = &n->inner;
	n->rc = drv_submit(n->q, &inner, 1);
	if (n->rc == 1)
		n->rc = drv_wait(n->q, inner, it_timeout_ns());
}

/*
 * In POLL mode the waiter that spins on the ring finds the completion and
 * runs the callback; the callback's own wait must not wait for a leader
 * that is the same thread.
 */
static void test_callback_waits_in_poll_mode(void **state)
{
	struct it_ctx *c = *state;
	drv_queue *q = it_queue(c, 8, DRV_CMODE_POLL);
	it_try_latency(q, DSIM_DIST_FIXED, IT_MS, 0);
	struct nested *n = it_calloc(c, 1, sizeof *n);
	n->q = q;
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	drv_prep_nop(r);
	r->cb = nested_wait_cb;
	r->user_data = n;
	it_submit1(q, r);
	assert_int_equal(drv_wait(q, r, it_timeout_ns()), 0);
	assert_int_equal(n->calls, 1);
	assert_int_equal(n->rc, 0);
	assert_int_equal(n->inner.status, 0);
	/* One thread on a POLL queue: it always leads, so it never blocks on anyone. */
	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.sleeps, 0);
}

/* Control requests return the code's value; ECHO copies in -> out. */
static void test_control_results(void **state)
{
	struct it_ctx *c = *state;
	char out[32] = { 0 };
	struct dsim_info info;
	it_require_dsim("control codes (ECHO, INFO, FILL, CRC32C)");
	assert_int_equal(drv_control(c->q, DSIM_CTL_ECHO, "hello", 6, out, sizeof out), 6);
	assert_string_equal(out, "hello");
	assert_int_equal(drv_control(c->q, DSIM_CTL_INFO, NULL, 0, &info, sizeof info),
			 sizeof info);
	assert_int_equal(info.magic, DSIM_MAGIC);
	assert_int_equal(info.capacity, c->info.capacity);

	/* FILL then CRC32C of the same range equals the CRC of what reads back. */
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	drv_prep_control(r, DSIM_CTL_FILL, NULL, 0, NULL, 0);
	r->offset = 4096;
	r->arg[0] = 8192;
	r->arg[1] = 0xa5;
	it_submit1(c->q, r);
	it_wait_ok(c->q, r);
	uint8_t *data = it_calloc(c, 1, 8192 + 2);
	it_read(c->q, 4095, data, 8192 + 2);
	for (unsigned i = 1; i <= 8192; i++)
		assert_int_equal(data[i], 0xa5);
	drv_prep_control(r, DSIM_CTL_CRC32C, NULL, 0, NULL, 0);
	r->offset = 4096;
	r->arg[0] = 8192;
	it_submit1(c->q, r);
	it_wait_ok(c->q, r);
	uint32_t crc = 0xffffffffu; /* software CRC-32C (Castagnoli, reflected) */
	for (unsigned i = 1; i <= 8192; i++) {
		crc ^= data[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	assert_int_equal(r->result, crc ^ 0xffffffffu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wait_any_all, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_test, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_reap_batches_exactly_once, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_callbacks, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_callback_waits_in_poll_mode, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_control_results, it_setup, it_teardown),
	};
	return cmocka_run_group_tests_name("wait", tests, NULL, NULL);
}
