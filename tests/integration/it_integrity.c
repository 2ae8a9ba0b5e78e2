/* SPDX-License-Identifier: MIT */
/*
 * Data integrity under load: thousands of random writes and reads in
 * flight at once, completing out of order, checked against a shadow copy
 * of the storage; buffered, direct and scatter-gather I/O.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH 128
#define MAX_LEN (32u * 1024)
#define REGION_MAX (8u * 1024 * 1024)
#define OPS 3000
#define MAX_SEGS 4

enum io_mode { IO_BUFFERED, IO_DIRECT, IO_SGL };

struct op {
	struct drv_req req;
	struct drv_sge sge[MAX_SEGS];
	uint64_t off;
	size_t len;
	int write;
	unsigned seq;
	unsigned slot;
};

struct run {
	struct it_ctx *c;
	drv_queue *q;
	enum io_mode mode;
	uint64_t region;
	size_t max_len;
	uint32_t block; /* offsets and lengths are multiples of it */
	unsigned nsegs;
	uint8_t *shadow;
	uint8_t *plain;             /* buffered: DEPTH * MAX_LEN */
	drv_buf *direct;            /* direct: DEPTH * MAX_LEN */
	drv_buf *seg_buf[MAX_SEGS]; /* SGL: segment k of slot s lives in seg_buf[k] */
	uint8_t *gather;            /* SGL: a read's data put back together */
	struct op *ops;             /* DEPTH, indexed by slot */
	struct op *inflight[DEPTH];
	unsigned ninflight;
	unsigned free_slots[DEPTH];
	unsigned nfree;
	unsigned delivered_max_seq;
	unsigned out_of_order;
	unsigned completed;
	uint64_t rng;
};

static int overlaps(uint64_t a, size_t alen, uint64_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

/* A write may not overlap anything in flight, a read no write in flight. */
static int conflicts(const struct run *r, uint64_t off, size_t len, int write)
{
	for (unsigned i = 0; i < r->ninflight; i++) {
		const struct op *o = r->inflight[i];
		if ((write || o->write) && overlaps(off, len, o->off, o->len))
			return 1;
	}
	return 0;
}

static uint8_t *slot_mem(struct run *r, unsigned slot)
{
	if (r->mode == IO_BUFFERED)
		return r->plain + (size_t)slot * MAX_LEN;
	return (uint8_t *)drv_buf_addr(r->direct) + (size_t)slot * MAX_LEN;
}

/* SGL: cut [0, len) into nsegs pieces at random points (empty pieces skipped). */
static uint16_t build_sgl(struct run *r, struct op *o)
{
	size_t cut[MAX_SEGS + 1] = { 0 };
	cut[r->nsegs] = o->len;
	for (unsigned k = 1; k < r->nsegs; k++)
		cut[k] = it_rand(&r->rng) % (o->len + 1);
	for (unsigned k = 1; k < r->nsegs; k++) /* sort the inner cuts */
		for (unsigned j = k + 1; j < r->nsegs; j++)
			if (cut[j] < cut[k]) {
				size_t t = cut[j];
				cut[j] = cut[k];
				cut[k] = t;
			}
	uint16_t n = 0;
	for (unsigned k = 0; k < r->nsegs; k++) {
		if (cut[k + 1] == cut[k])
			continue;
		o->sge[n++] = (struct drv_sge){ .buf = r->seg_buf[k],
						.off = (size_t)o->slot * MAX_LEN + cut[k],
						.len = cut[k + 1] - cut[k] };
	}
	return n;
}

static void sgl_copy(struct op *o, uint8_t *flat, int to_segments)
{
	size_t pos = 0;
	for (uint16_t k = 0; k < o->req.nsge; k++) {
		uint8_t *seg = (uint8_t *)drv_buf_addr(o->sge[k].buf) + o->sge[k].off;
		if (to_segments)
			memcpy(seg, flat + pos, o->sge[k].len);
		else
			memcpy(flat + pos, seg, o->sge[k].len);
		pos += o->sge[k].len;
	}
}

static void prepare(struct run *r, struct op *o, uint64_t off, size_t len, int write)
{
	o->off = off;
	o->len = len;
	o->write = write;
	o->seq = r->completed + r->ninflight; /* submission order */
	enum drv_op op = write ? DRV_OP_WRITE : DRV_OP_READ;
	uint8_t *data = r->mode == IO_SGL ? r->gather : slot_mem(r, o->slot);
	if (write) {
		it_fill(data, len, off, (uint32_t)it_rand(&r->rng));
		memcpy(r->shadow + off, data, len);
	} else {
		memset(data, 0xee, len);
	}
	switch (r->mode) {
	case IO_BUFFERED:
		drv_prep(&o->req, op, off, data, len);
		break;
	case IO_DIRECT:
		drv_prep(&o->req, op, off, NULL, len);
		o->req.buf = r->direct;
		o->req.buf_off = (size_t)o->slot * MAX_LEN;
		break;
	case IO_SGL: {
		uint16_t n = build_sgl(r, o);
		drv_prep_rw_sgl(&o->req, op, off, o->sge, n);
		sgl_copy(o, data, 1);
		if (!write)
			for (uint16_t k = 0; k < n; k++)
				memset((uint8_t *)drv_buf_addr(o->sge[k].buf) + o->sge[k].off, 0xee,
				       o->sge[k].len);
		break;
	}
	}
	o->req.user_data = o;
	r->inflight[r->ninflight++] = o;
}

static void finish(struct run *r, struct drv_req *req)
{
	struct op *o = req->user_data;
	assert_non_null(o);
	assert_ptr_equal(&o->req, req);
	if (req->status != 0 || req->result != o->len) {
		print_error("%s off %llu len %zu: status %d result %llu\n",
			    o->write ? "write" : "read", (unsigned long long)o->off, o->len,
			    req->status, (unsigned long long)req->result);
		fail();
	}
	if (!o->write) {
		const uint8_t *data = r->gather;
		if (r->mode == IO_SGL)
			sgl_copy(o, r->gather, 0);
		else
			data = slot_mem(r, o->slot);
		it_check_equal(data, r->shadow + o->off, o->len, o->off, "read-back");
	}
	if (o->seq < r->delivered_max_seq)
		r->out_of_order++;
	else
		r->delivered_max_seq = o->seq;
	for (unsigned i = 0; i < r->ninflight; i++)
		if (r->inflight[i] == o) {
			r->inflight[i] = r->inflight[--r->ninflight];
			break;
		}
	r->free_slots[r->nfree++] = o->slot;
	r->completed++;
}

static void reap(struct run *r, unsigned min)
{
	struct drv_req *out[DEPTH];
	int n = drv_reap(r->q, out, DEPTH, min, min ? it_timeout_ns() : 0);
	if (n < 0 || (unsigned)n < min) {
		print_error("drv_reap(min %u): %d %s (in flight %u)\n", min, n, drv_errmsg(),
			    r->ninflight);
		fail();
	}
	for (int i = 0; i < n; i++)
		finish(r, out[i]);
}

/* Submits what was prepared, taking back whatever the queue refused. */
static void submit(struct run *r, struct op **batch, unsigned n)
{
	unsigned done = 0;
	while (done < n) {
		int k = drv_submit(r->q, (struct drv_req *const *)&batch[done], n - done);
		if (k == -EAGAIN) {
			reap(r, 1);
			continue;
		}
		if (k <= 0) {
			print_error("drv_submit: %d %s\n", k, drv_errmsg());
			fail();
		}
		done += (unsigned)k;
	}
}

static void random_ops(struct run *r, unsigned count)
{
	unsigned issued = 0;
	while (issued < count || r->ninflight) {
		struct op *batch[8];
		unsigned nb = 0;
		while (issued < count && r->nfree && nb < 8) {
			uint64_t off = it_align_down(it_rand(&r->rng) % r->region, r->block);
			size_t len = it_align_up(1 + it_rand(&r->rng) % r->max_len, r->block);
			int write = it_rand(&r->rng) & 1;
			if (len > r->region - off)
				len = r->region - off;
			if (conflicts(r, off, len, write))
				break;
			struct op *o = &r->ops[r->free_slots[--r->nfree]];
			prepare(r, o, off, len, write);
			batch[nb++] = o;
			issued++;
		}
		if (nb)
			submit(r, batch, nb);
		reap(r, nb ? 0 : 1);
	}
}

static void check_all(struct run *r)
{
	size_t chunk = r->c->info.max_transfer < (1u << 20) ? r->c->info.max_transfer : (1u << 20);
	uint8_t *tmp = malloc(chunk);
	assert_non_null(tmp);
	for (uint64_t off = 0; off < r->region; off += chunk) {
		size_t len = r->region - off < chunk ? (size_t)(r->region - off) : chunk;
		it_read(r->q, off, tmp, len);
		it_check_equal(tmp, r->shadow + off, len, off, "final read-back");
	}
	free(tmp);
}

/* Reads of overlapping windows, all in flight together. */
static void overlapping_reads(struct run *r)
{
	const size_t win = it_align_up(8000, r->block), step = it_align_up(3000, r->block);
	unsigned n = 0;
	struct op *batch[DEPTH];
	for (uint64_t off = 0; off + win <= r->region && n < DEPTH; off += step) {
		struct op *o = &r->ops[r->free_slots[--r->nfree]];
		prepare(r, o, off, win < r->max_len ? win : r->max_len, 0);
		batch[n++] = o;
	}
	submit(r, batch, n);
	while (r->ninflight)
		reap(r, 1);
}

static void run_mode(void **state, enum io_mode mode)
{
	struct it_ctx *c = *state;
	struct run *r = it_calloc(c, 1, sizeof *r);
	r->c = c;
	r->mode = mode;
	r->rng = it_seed() + mode;
	if (mode == IO_SGL) {
		it_require(c, DRV_FEAT_SGL);
		r->nsegs = c->info.max_sg < MAX_SEGS ? c->info.max_sg : MAX_SEGS;
		assert_true(r->nsegs >= 2);
	}
	r->block = c->info.block_size;
	r->region =
	    it_align_down(c->info.capacity < REGION_MAX ? c->info.capacity : REGION_MAX, r->block);
	r->max_len = it_align_down(c->info.max_transfer < MAX_LEN ? c->info.max_transfer : MAX_LEN,
				   r->block);
	assert_true(r->region >= 1024 * 1024);
	r->q = it_queue(c, DEPTH, DRV_CMODE_IRQ);
	r->ops = it_calloc(c, DEPTH, sizeof *r->ops);
	r->shadow = it_calloc(c, 1, r->region);
	r->gather = it_calloc(c, 1, MAX_LEN);
	r->plain = it_calloc(c, DEPTH, MAX_LEN);
	if (mode == IO_DIRECT)
		r->direct = it_buf(c, (size_t)DEPTH * MAX_LEN);
	for (unsigned k = 0; mode == IO_SGL && k < r->nsegs; k++)
		r->seg_buf[k] = it_buf(c, (size_t)DEPTH * MAX_LEN);
	for (unsigned s = 0; s < DEPTH; s++) {
		r->ops[s].slot = s;
		r->free_slots[r->nfree++] = DEPTH - 1 - s;
	}

	/* Known contents first, written with plain synchronous I/O. */
	it_fill(r->shadow, r->region, 0, 7);
	for (uint64_t off = 0; off < r->region; off += r->max_len)
		it_write(r->q, off, r->shadow + off,
			 r->max_len < r->region - off ? r->max_len : (size_t)(r->region - off));

	/* dsim's random service times reorder completions; other devices may or may not. */
	bool reordered = it_try_latency(r->q, DSIM_DIST_EXPONENTIAL, 50 * IT_US, 8);
	random_ops(r, OPS);
	print_message("%u requests, %u delivered out of submission order\n", r->completed,
		      r->out_of_order);
	if (reordered)
		assert_true(r->out_of_order > 0);
	overlapping_reads(r);
	check_all(r);

	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(r->q, &st), 0);
	assert_int_equal(st.in_flight, 0);
	assert_true(st.submitted >= r->completed);
	assert_int_equal(st.submitted, st.completed);
	assert_int_equal(drv_queue_destroy(r->q), 0);
	if (r->direct)
		drv_buf_free(r->direct);
	for (unsigned k = 0; k < r->nsegs; k++)
		drv_buf_free(r->seg_buf[k]);
}

static void test_buffered(void **state)
{
	run_mode(state, IO_BUFFERED);
}

static void test_direct(void **state)
{
	run_mode(state, IO_DIRECT);
}

static void test_sgl(void **state)
{
	run_mode(state, IO_SGL);
}

/* The same storage seen through all three kinds of buffer. */
static void test_mixed_views(void **state)
{
	struct it_ctx *c = *state;
	const uint32_t bs = c->info.block_size;
	const size_t len = it_align_up(3 * 4096 + 100, bs);
	const uint64_t off = it_align_up(5000, bs);
	drv_buf *b = it_buf(c, 2 * len);
	uint8_t *plain = it_calloc(c, 1, len);
	struct drv_req *w = it_calloc(c, 1, sizeof *w);
	struct drv_req *rd = it_calloc(c, 1, sizeof *rd);

	/* Buffer offset 17: not even dword aligned (NVMe then needs an SGL). */
	it_fill((uint8_t *)drv_buf_addr(b) + 17, len, off, 3);
	drv_prep_write_buf(w, off, b, 17, len);
	it_submit1(c->q, w);
	it_wait_ok(c->q, w);
	assert_int_equal(w->result, len);

	it_read(c->q, off, plain, len);
	it_check_pattern(plain, len, off, 3);

	if (c->info.features & DRV_FEAT_SGL && c->info.max_sg >= 3) {
		drv_buf *s1 = it_buf(c, 4096), *s2 = it_buf(c, 8192);
		const size_t l1 = it_align_up(1000, bs), l2 = it_align_up(4000, bs),
			     l3 = it_align_up(500, bs);
		const uint64_t from = it_align_up(off + 10, bs);
		struct drv_sge sgl[3] = { { s1, 1, l1 }, { s2, 4096, l2 }, { s1, 2000, l3 } };
		drv_prep_rw_sgl(rd, DRV_OP_READ, from, sgl, 3);
		it_submit1(c->q, rd);
		it_wait_ok(c->q, rd);
		assert_int_equal(rd->result, l1 + l2 + l3);
		it_check_pattern((uint8_t *)drv_buf_addr(s1) + 1, l1, from, 3);
		it_check_pattern((uint8_t *)drv_buf_addr(s2) + 4096, l2, from + l1, 3);
		it_check_pattern((uint8_t *)drv_buf_addr(s1) + 2000, l3, from + l1 + l2, 3);
		drv_buf_free(s1);
		drv_buf_free(s2);
	}
	drv_buf_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mixed_views, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_buffered, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_direct, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_sgl, it_setup, it_teardown),
	};
	return cmocka_run_group_tests_name("integrity", tests, NULL, NULL);
}
