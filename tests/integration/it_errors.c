/* SPDX-License-Identifier: MIT */
/*
 * Error paths: every bad request fails with its documented errno, changes
 * nothing on the device, and leaves the queue working.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Submits one request that must fail, and returns the status it was delivered with. */
static int submit_status(drv_queue *q, struct drv_req *r)
{
	int n = drv_submit(q, &r, 1);
	if (n < 0)
		return n; /* refused outright: nothing to deliver */
	assert_int_equal(n, 1);
	return it_wait_done(q, r);
}

static void expect_status(drv_queue *q, struct drv_req *r, int want, const char *what)
{
	int got = submit_status(q, r);
	if (got != want) {
		print_error("%s: got %d (%s), want %d\n", what, got, drv_errmsg(), want);
		fail();
	}
}

/* The queue still moves data correctly. */
static void check_healthy(struct it_ctx *c, drv_queue *q)
{
	uint8_t w[4096], rd[4096];
	const uint64_t off = it_align_up(12345, c->info.block_size);
	it_fill(w, sizeof w, off, 99);
	it_write(q, off, w, sizeof w);
	it_read(q, off, rd, sizeof rd);
	it_check_pattern(rd, sizeof rd, off, 99);
	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.in_flight, 0);
}

static void test_out_of_range(void **state)
{
	struct it_ctx *c = *state;
	const uint64_t cap = c->info.capacity;
	const size_t tail = 8192;
	uint8_t *before = it_calloc(c, 1, tail), *after = it_calloc(c, 1, tail);
	uint8_t *junk = it_calloc(c, 1, 8192);
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	memset(junk, 0x5a, 8192);

	it_fill(before, tail, cap - tail, 1);
	it_write(c->q, cap - tail, before, tail);

	drv_prep_write(r, cap, junk, 512);
	expect_status(c->q, r, -ERANGE, "write at capacity");
	drv_prep_write(r, cap - 100, junk, 4096);
	expect_status(c->q, r, -ERANGE, "write straddling capacity");
	drv_prep_write(r, UINT64_MAX - 100, junk, 4096);
	expect_status(c->q, r, -ERANGE, "write whose end wraps around");
	drv_prep_write(r, UINT64_MAX, junk, 1);
	expect_status(c->q, r, -ERANGE, "write at UINT64_MAX");
	drv_prep_read(r, cap - 1, junk, 2);
	expect_status(c->q, r, -ERANGE, "read straddling capacity");
	drv_prep_read(r, cap + 4096, junk, 4096);
	expect_status(c->q, r, -ERANGE, "read past capacity");

	drv_buf *b = it_buf(c, 8192);
	memset(drv_buf_addr(b), 0x6b, 8192);
	drv_prep_write_buf(r, cap - 4096, b, 0, 8192);
	expect_status(c->q, r, -ERANGE, "direct write straddling capacity");

	/* dsim's control codes that address storage are range-checked the same way. */
	if (c->dsim) {
		drv_prep_control(r, DSIM_CTL_FILL, NULL, 0, NULL, 0);
		r->offset = cap - 100;
		r->arg[0] = 4096;
		r->arg[1] = 0x77;
		expect_status(c->q, r, -ERANGE, "FILL straddling capacity");
	}

	assert_int_equal(drv_write(c->q, cap, junk, 16), -ERANGE);
	assert_int_equal(drv_read(c->q, cap, junk, 16), -ERANGE);

	it_read(c->q, cap - tail, after, tail);
	it_check_equal(after, before, tail, cap - tail, "storage after refused writes");

	/* The last block (byte, on dsim) is addressable. */
	const size_t bs = c->info.block_size;
	memset(junk, 'y', bs);
	junk[bs - 1] = 'z';
	it_write(c->q, cap - bs, junk, bs);
	memset(junk, 0, bs);
	it_read(c->q, cap - bs, junk, bs);
	assert_int_equal(junk[bs - 1], 'z');
	drv_buf_free(b);
	check_healthy(c, c->q);
}

static void test_unknown_codes(void **state)
{
	struct it_ctx *c = *state;
	uint8_t out[64];
	struct drv_req *r = it_calloc(c, 1, sizeof *r);

	assert_int_equal(drv_control(c->q, 9999, NULL, 0, out, sizeof out), -EOPNOTSUPP);
	assert_int_equal(drv_control(c->q, 0, NULL, 0, NULL, 0), -EOPNOTSUPP);
	assert_int_equal(drv_control(c->q, UINT32_MAX, "x", 1, NULL, 0), -EOPNOTSUPP);

	drv_prep(r, (enum drv_op)42, 0, NULL, 0);
	expect_status(c->q, r, -EOPNOTSUPP, "unknown opcode");

	/* A known code still works after all that. */
	if (c->dsim) {
		char echo[8] = { 0 };
		assert_int_equal(drv_control(c->q, DSIM_CTL_ECHO, "abcdefg", 8, echo, sizeof echo),
				 8);
		assert_string_equal(echo, "abcdefg");
	}
	check_healthy(c, c->q);
}

static void test_invalid_arguments(void **state)
{
	struct it_ctx *c = *state;
	uint8_t *mem = it_calloc(c, 1, 4096);
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	drv_buf *b = it_buf(c, 8192);

	drv_prep_read(r, 0, mem, 0);
	expect_status(c->q, r, -EINVAL, "zero-length read");
	drv_prep_write(r, 0, mem, 0);
	expect_status(c->q, r, -EINVAL, "zero-length write");
	drv_prep_read(r, 0, NULL, 512);
	expect_status(c->q, r, -EINVAL, "read into NULL");
	drv_prep_write(r, 0, NULL, 512);
	expect_status(c->q, r, -EINVAL, "write from NULL");

	drv_prep_write(r, 0, mem, 512);
	r->buf = b;
	expect_status(c->q, r, -EINVAL, "both plain memory and a DMA buffer");
	drv_prep_write(r, 0, mem, 512);
	r->flags = 1;
	expect_status(c->q, r, -EINVAL, "reserved flags set");

	assert_int_equal(drv_read(c->q, 0, NULL, 512), -EINVAL);
	assert_true(strlen(drv_errmsg()) > 0);
	assert_int_equal(drv_write(c->q, 0, mem, 0), -EINVAL);
	assert_true(strlen(drv_errmsg()) > 0);

	/* Direct I/O ranges must lie inside their buffer. */
	drv_prep_read_buf(r, 0, b, 4096, 8192);
	expect_status(c->q, r, -EINVAL, "buffer range past the buffer's end");
	drv_prep_read_buf(r, 0, b, 9000, 1);
	expect_status(c->q, r, -EINVAL, "buffer offset past the buffer's end");
	drv_prep_read_buf(r, 0, b, SIZE_MAX - 10, 512);
	expect_status(c->q, r, -EINVAL, "buffer range that wraps around");
	drv_prep_read_buf(r, 0, NULL, 0, 512);
	expect_status(c->q, r, -EINVAL, "NULL DMA buffer");

	if (c->info.features & DRV_FEAT_SGL) {
		struct drv_sge *sgl = it_calloc(c, 2, sizeof *sgl);
		sgl[0] = (struct drv_sge){ b, 0, 4096 };
		sgl[1] = (struct drv_sge){ b, 6000, 4096 };
		drv_prep_rw_sgl(r, DRV_OP_READ, 0, sgl, 2);
		expect_status(c->q, r, -EINVAL, "SG entry past its buffer");
		sgl[1] = (struct drv_sge){ NULL, 0, 4096 };
		drv_prep_rw_sgl(r, DRV_OP_READ, 0, sgl, 2);
		expect_status(c->q, r, -EINVAL, "SG entry without a buffer");
		sgl[1] = (struct drv_sge){ b, 4096, 0 };
		drv_prep_rw_sgl(r, DRV_OP_READ, 0, sgl, 2);
		r->len = 8192; /* lies about the total */
		expect_status(c->q, r, -EINVAL, "SG total differs from len");
	}

	drv_buf *nb = NULL;
	assert_int_equal(drv_buf_alloc(c->dev, 0, &nb), -EINVAL);
	assert_true(drv_buf_alloc(c->dev, (size_t)1 << 44, &nb) < 0);
	assert_true(strlen(drv_errmsg()) > 0);
	drv_buf_free(b);
	check_healthy(c, c->q);
}

static void test_too_large(void **state)
{
	struct it_ctx *c = *state;
	const size_t big = (size_t)c->info.max_transfer + 4096;
	uint8_t *mem = it_calloc(c, 1, big);
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	drv_buf *b = it_buf(c, big);

	drv_prep_write(r, 0, mem, (size_t)c->info.max_transfer + 1);
	expect_status(c->q, r, -E2BIG, "buffered write over max_transfer");
	drv_prep_read_buf(r, 0, b, 0, big);
	expect_status(c->q, r, -E2BIG, "direct read over max_transfer");
	assert_int_equal(drv_read(c->q, 0, mem, big), -E2BIG);

	if (c->info.features & DRV_FEAT_SGL) {
		unsigned n = c->info.max_sg + 1;
		struct drv_sge *sgl = it_calloc(c, n, sizeof *sgl);
		drv_buf *s = it_buf(c, (size_t)n * 512);
		for (unsigned i = 0; i < n; i++)
			sgl[i] = (struct drv_sge){ s, (size_t)i * 512, 512 };
		drv_prep_rw_sgl(r, DRV_OP_READ, 0, sgl, (uint16_t)n);
		expect_status(c->q, r, -E2BIG, "SG list longer than max_sg");
		drv_prep_rw_sgl(r, DRV_OP_READ, 0, sgl, (uint16_t)(n - 1));
		it_submit1(c->q, r);
		it_wait_ok(c->q, r); /* exactly max_sg is fine */
		drv_buf_free(s);
	}

	/* Exactly max_transfer is fine. */
	it_fill(mem, c->info.max_transfer, 0, 4);
	it_write(c->q, 0, mem, c->info.max_transfer);
	drv_buf_free(b);
	check_healthy(c, c->q);
}

/* A bad request in the middle of a batch: the earlier ones go, the rest are untouched. */
static void test_batch_stops_at_bad_request(void **state)
{
	struct it_ctx *c = *state;
	struct drv_req *r = it_calloc(c, 4, sizeof *r);
	uint8_t *mem = it_calloc(c, 4, 512);
	struct drv_req *batch[4] = { &r[0], &r[1], &r[2], &r[3] };

	drv_prep_write(&r[0], 0, mem, 512);
	drv_prep_write(&r[1], 512, mem + 512, 512);
	drv_prep_read(&r[2], 0, NULL, 512); /* bad */
	drv_prep_write(&r[3], 1536, mem + 1536, 512);
	r[3].status = 777;
	assert_int_equal(drv_submit(c->q, batch, 4), 3);
	assert_int_equal(r[3].status, 777);

	/* The bad one is delivered like any other completion, reap included. */
	struct drv_req *out[4];
	unsigned got = 0, seen[3] = { 0 };
	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	while (got < 3 && drv_now_ns() < deadline) {
		int n = drv_reap(c->q, out, 4, 1, it_timeout_ns());
		assert_true(n >= 0);
		for (int i = 0; i < n; i++) {
			ptrdiff_t idx = out[i] - r;
			assert_in_range(idx, 0, 2);
			seen[idx]++;
			got++;
		}
	}
	assert_int_equal(got, 3);
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], 1);
	assert_int_equal(seen[2], 1);
	assert_int_equal(r[0].status, 0);
	assert_int_equal(r[1].status, 0);
	assert_int_equal(r[2].status, -EINVAL);

	it_submit1(c->q, &r[3]);
	it_wait_ok(c->q, &r[3]);
	check_healthy(c, c->q);
}

/* More requests than the queue holds: partial acceptance, -EAGAIN, none lost. */
static void test_back_pressure(void **state)
{
	struct it_ctx *c = *state;
	enum { N = 40 };
	drv_queue *q = it_queue(c, 8, DRV_CMODE_IRQ);
	struct drv_req *r = it_calloc(c, N, sizeof *r);
	struct drv_req **ptr = it_calloc(c, N, sizeof *ptr);
	unsigned seen[N] = { 0 };

	for (unsigned i = 0; i < N; i++) {
		drv_prep_nop(&r[i]);
		r[i].status = 777;
		ptr[i] = &r[i];
	}
	/* Slow NOPs on dsim; elsewhere a NOP completes at the next reap, none comes first. */
	it_try_latency(c->q, DSIM_DIST_FIXED, 300 * IT_MS, 0);
	int first = drv_submit(q, ptr, N);
	assert_true(first >= 1 && first < N);
	for (unsigned i = (unsigned)first; i < N; i++)
		assert_int_equal(r[i].status, 777); /* untouched */
	int again = drv_submit(q, ptr + first, N - (unsigned)first);
	if (again != -EAGAIN) {
		/* Only possible when something finished in the meantime. */
		struct drv_queue_stats st;
		assert_int_equal(drv_queue_stats(q, &st), 0);
		assert_true(again > 0);
		assert_true(st.completed > 0 || drv_req_done(&r[0]));
	}

	it_try_latency(c->q, DSIM_DIST_FIXED, 2 * IT_MS, 0);
	unsigned next = (unsigned)first + (again > 0 ? (unsigned)again : 0), delivered = 0;
	uint64_t deadline = drv_now_ns() + 4 * (uint64_t)it_timeout_ns();
	while (delivered < N) {
		assert_true(drv_now_ns() < deadline);
		if (next < N) {
			int k = drv_submit(q, ptr + next, N - next);
			assert_true(k > 0 || k == -EAGAIN);
			if (k > 0)
				next += (unsigned)k;
		}
		struct drv_req *out[N];
		int n = drv_reap(q, out, N, next < N ? 0 : 1, next < N ? 0 : it_timeout_ns());
		assert_true(n >= 0);
		if (n == 0 && next < N)
			n = drv_reap(q, out, N, 1, it_timeout_ns());
		for (int i = 0; i < n; i++) {
			ptrdiff_t idx = out[i] - r;
			assert_in_range(idx, 0, N - 1);
			assert_int_equal(out[i]->status, 0);
			seen[idx]++;
			delivered++;
		}
	}
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.submitted, N);
	assert_int_equal(st.completed, N);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(drv_queue_destroy(q), 0);
}

static int not_a_hang(int r)
{
	return r == 0 || r == -EINVAL || r == -ENOENT;
}

/* Misuse must neither crash nor hang. */
static void test_misuse(void **state)
{
	struct it_ctx *c = *state;
	struct drv_req *never = it_calloc(c, 1, sizeof *never);
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	drv_dev *dev = NULL;

	drv_prep_nop(never);
	assert_true(not_a_hang(drv_wait(c->q, never, IT_SEC)));
	assert_true(not_a_hang(drv_test(c->q, never)));
	assert_int_equal(drv_cancel(c->q, never), -ENOENT);
	struct drv_req *one[1] = { never };
	assert_true(not_a_hang(drv_wait_all(c->q, one, 1, IT_SEC)));

	/* Waiting again on a delivered request returns at once. */
	drv_prep_nop(r);
	it_submit1(c->q, r);
	it_wait_ok(c->q, r);
	assert_true(not_a_hang(drv_wait(c->q, r, IT_SEC)));
	assert_int_equal(r->status, 0);
	assert_int_equal(drv_cancel(c->q, r), -ENOENT);

	/* Cancelling on a queue the request is not on. */
	drv_queue *other = it_queue(c, 4, DRV_CMODE_IRQ);
	it_try_latency(c->q, DSIM_DIST_FIXED, 200 * IT_MS, 0);
	drv_prep_nop(r);
	it_submit1(c->q, r); /* pending until reaped, even without latency */
	assert_int_equal(drv_cancel(other, r), -ENOENT);
	it_wait_ok(c->q, r);
	it_try_latency(c->q, DSIM_DIST_FIXED, 0, 0);

	struct drv_req *out[1];
	assert_int_equal(drv_submit(c->q, one, 0), 0);
	assert_int_equal(drv_reap(c->q, out, 1, 0, 0), 0);
	assert_int_equal(drv_queue_destroy(other), 0);

	assert_true(drv_open("bogus:thing", NULL, &dev) < 0);
	assert_true(strlen(drv_errmsg()) > 0);
	assert_true(drv_open("sim:/nonexistent-dir/dsim.sock", NULL, &dev) < 0);
	assert_true(strlen(drv_errmsg()) > 0);
	assert_true(drv_open("sim:inproc?no_such_option=1", NULL, &dev) < 0);
	assert_true(strlen(drv_errmsg()) > 0);
	check_healthy(c, c->q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_out_of_range, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_codes, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_arguments, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_too_large, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_batch_stops_at_bad_request, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_back_pressure, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_misuse, it_setup, it_teardown),
	};
	return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
