/* SPDX-License-Identifier: MIT */
/*
 * The queue's file descriptor in an event loop (epoll, io_uring), and the
 * three completion modes moving data correctly.
 */
#include "harness.h"

#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* After the fd said "readable", reap with a zero timeout until r turns up. */
static void reap_after_ready(drv_queue *q, struct drv_req *r, int *got)
{
	struct drv_req *out[8];
	int n = drv_reap(q, out, 8, 0, 0);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		assert_ptr_equal(out[i], r);
		(*got)++;
	}
}

/* One 512-byte read the device answers after 100 ms (dsim), and when to stop waiting for it. */
struct slow_read {
	struct drv_req *r;
	uint8_t *data;
	uint64_t deadline;
	int got; /* times the read was reaped */
};

static void slow_read_start(struct it_ctx *c, struct slow_read *s)
{
	uint8_t pat[512];
	it_fill(pat, sizeof pat, 0, 31);
	it_write(c->q, 0, pat, sizeof pat);
	it_try_latency(c->q, DSIM_DIST_FIXED, 100 * IT_MS, 0); /* else as fast as the device */
	s->r = it_calloc(c, 1, sizeof *s->r);
	s->data = it_calloc(c, 1, 512);
	s->got = 0;
	drv_prep_read(s->r, 0, s->data, 512);
	it_submit1(c->q, s->r);
	s->deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
}

/* The read succeeded and brought the data written. */
static void slow_read_check(const struct slow_read *s)
{
	assert_int_equal(s->r->status, 0);
	it_check_pattern(s->data, 512, 0, 31);
}

static void test_epoll(void **state)
{
	struct it_ctx *c = *state;
	int fd = drv_queue_fd(c->q);
	assert_true(fd >= 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	struct epoll_event ev = { .events = EPOLLIN };
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);

	struct slow_read s;
	slow_read_start(c, &s);
	while (!s.got) {
		assert_true(drv_now_ns() < s.deadline);
		int n = epoll_wait(ep, &ev, 1, 1000);
		assert_true(n >= 0);
		if (n == 1)
			reap_after_ready(c->q, s.r, &s.got);
	}
	assert_int_equal(s.got, 1);
	slow_read_check(&s);
	close(ep);
}

static void test_io_uring_poll(void **state)
{
	struct it_ctx *c = *state;
	struct io_uring ring;
	int fd = drv_queue_fd(c->q);
	assert_true(fd >= 0);
	int rr = io_uring_queue_init(4, &ring, 0);
	if (rr < 0) {
		print_message("io_uring unavailable (%d): skipped\n", rr);
		skip();
	}
	struct slow_read s;
	slow_read_start(c, &s);
	while (!s.got) {
		assert_true(drv_now_ns() < s.deadline);
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		assert_non_null(sqe);
		io_uring_prep_poll_add(sqe, fd, POLLIN);
		io_uring_sqe_set_data(sqe, s.r);
		assert_int_equal(io_uring_submit(&ring), 1);
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = 1 };
		int w = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (w == -ETIME) {
			/* Take the poll back before arming another. */
			sqe = io_uring_get_sqe(&ring);
			io_uring_prep_poll_remove(sqe, (__u64)(uintptr_t)s.r);
			io_uring_sqe_set_data(sqe, NULL);
			io_uring_submit(&ring);
			continue;
		}
		assert_int_equal(w, 0);
		int res = cqe->res;
		void *ud = io_uring_cqe_get_data(cqe);
		io_uring_cqe_seen(&ring, cqe);
		if (ud == s.r && res > 0) {
			assert_true(res & POLLIN);
			reap_after_ready(c->q, s.r, &s.got);
		}
	}
	slow_read_check(&s);
	io_uring_queue_exit(&ring);
}

static void run_cmode(struct it_ctx *c, enum drv_cmode mode)
{
	enum { N = 200, LEN = 2048 };
	drv_queue *q = it_queue(c, 32, mode);
	struct drv_req *r = it_calloc(c, N, sizeof *r);
	uint8_t *data = it_calloc(c, N, LEN);
	it_try_latency(c->q, DSIM_DIST_EXPONENTIAL, 30 * IT_US, 4);

	for (unsigned round = 0; round < 2; round++) {
		unsigned next = 0, delivered = 0;
		for (unsigned i = 0; i < N; i++) {
			uint64_t off = (uint64_t)i * LEN;
			if (round == 0) {
				it_fill(data + off, LEN, off, 40 + mode);
				drv_prep_write(&r[i], off, data + off, LEN);
			} else {
				memset(data + off, 0, LEN);
				drv_prep_read(&r[i], off, data + off, LEN);
			}
		}
		uint64_t deadline = drv_now_ns() + 3 * (uint64_t)it_timeout_ns();
		while (delivered < N) {
			assert_true(drv_now_ns() < deadline);
			if (next < N) {
				struct drv_req *batch[8];
				unsigned nb = 0;
				while (nb < 8 && next + nb < N)
					batch[nb] = &r[next + nb], nb++;
				int k = drv_submit(q, batch, nb);
				assert_true(k > 0 || k == -EAGAIN);
				if (k > 0)
					next += (unsigned)k;
			}
			struct drv_req *out[32];
			int n =
			    drv_reap(q, out, 32, next < N ? 0 : 1, next < N ? 0 : it_timeout_ns());
			assert_true(n >= 0);
			for (int i = 0; i < n; i++) {
				assert_int_equal(out[i]->status, 0);
				assert_int_equal(out[i]->result, LEN);
			}
			delivered += (unsigned)n;
		}
	}
	for (unsigned i = 0; i < N; i++)
		it_check_pattern(data + (size_t)i * LEN, LEN, (uint64_t)i * LEN, 40 + mode);

	/* Single waits in this mode too. */
	drv_prep_nop(&r[0]);
	it_submit1(q, &r[0]);
	it_wait_ok(q, &r[0]);
	struct drv_queue_stats st;
	assert_int_equal(drv_queue_stats(q, &st), 0);
	assert_int_equal(st.completed, 2 * N + 1);
	if (mode == DRV_CMODE_POLL)
		print_message("poll mode: %llu interrupts, %llu sleeps\n",
			      (unsigned long long)st.interrupts, (unsigned long long)st.sleeps);
	assert_int_equal(drv_queue_destroy(q), 0);
}

static void test_mode_irq(void **state)
{
	run_cmode(*state, DRV_CMODE_IRQ);
}

static void test_mode_poll(void **state)
{
	run_cmode(*state, DRV_CMODE_POLL);
}

static void test_mode_hybrid(void **state)
{
	run_cmode(*state, DRV_CMODE_HYBRID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_epoll, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_io_uring_poll, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_mode_irq, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_mode_poll, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_mode_hybrid, it_setup, it_teardown),
	};
	return cmocka_run_group_tests_name("pollfd", tests, NULL, NULL);
}
