/* SPDX-License-Identifier: MIT */
/*
 * devsim as a separate process: data over the socket, events raised from
 * outside with `devsim event`, the device dying mid-flight, one client at
 * a time, and file-backed storage that survives a restart.
 *
 * These tests start their own devsim (DEVSIM_BIN), whatever DRV_TEST_URI says.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static int setup_process(void **state)
{
	if (!it_devsim_bin()) {
		print_message("DEVSIM_BIN not set: skipped\n");
		return -1;
	}
	struct it_ctx *c = calloc(1, sizeof *c);
	assert_non_null(c);
	*state = c;
	return 0;
}

static void test_data_over_socket(void **state)
{
	struct it_ctx *c = *state;
	it_devsim_start(&c->sim, NULL);
	it_open(c, c->sim.uri);
	assert_string_equal(c->info.bus, "sim");
	assert_string_equal(c->info.driver, "dsim");

	enum { N = 64, LEN = 16384 };
	struct drv_req *r = it_calloc(c, N, sizeof *r);
	struct drv_req **p = it_calloc(c, N, sizeof *p);
	uint8_t *data = it_calloc(c, N, LEN);
	drv_buf *b = it_buf(c, (size_t)N * LEN);
	it_set_latency(c->q, DSIM_DIST_EXPONENTIAL, 100 * IT_US, 4);
	for (unsigned i = 0; i < N; i++) {
		uint64_t off = (uint64_t)i * LEN;
		if (i % 2) {
			it_fill(data + off, LEN, off, 61);
			drv_prep_write(&r[i], off, data + off, LEN);
		} else {
			it_fill((uint8_t *)drv_buf_addr(b) + off, LEN, off, 61);
			drv_prep_write_buf(&r[i], off, b, off, LEN);
		}
		p[i] = &r[i];
	}
	unsigned done = 0;
	while (done < N) {
		int k = drv_submit(c->q, p + done, N - done);
		if (k == -EAGAIN) {
			assert_int_equal(drv_wait(c->q, p[done ? done - 1 : 0], it_timeout_ns()),
					 0);
			continue;
		}
		assert_true(k > 0);
		done += (unsigned)k;
	}
	assert_int_equal(drv_wait_all(c->q, p, N, it_timeout_ns()), 0);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(r[i].status, 0);
	uint8_t *back = it_calloc(c, 1, (size_t)N * LEN);
	for (unsigned i = 0; i < N; i++)
		it_read(c->q, (uint64_t)i * LEN, back + (size_t)i * LEN, LEN);
	it_check_pattern(back, (size_t)N * LEN, 0, 61);
	drv_buf_free(b);
}

static void test_event_from_outside(void **state)
{
	struct it_ctx *c = *state;
	it_devsim_start(&c->sim, NULL);
	it_open(c, c->sim.uri);
	it_require(c, DRV_FEAT_EVENTS);
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	char *buf = it_calloc(c, 1, DSIM_EVENT_PAYLOAD_MAX + 1);
	drv_prep_wait_event(r, buf, DSIM_EVENT_PAYLOAD_MAX);
	it_submit1(c->q, r);
	it_sleep_ns(20 * IT_MS);
	assert_int_equal(drv_test(c->q, r), -EINPROGRESS);

	char out[256];
	const char *argv[] = { it_devsim_bin(), "event",       "--socket",
			       c->sim.sock,     "door opened", NULL };
	int rc = it_run(argv, out, sizeof out);
	if (rc != 0) {
		print_error("devsim event exited %d: %s\n", rc, out);
		fail();
	}
	it_wait_ok(c->q, r);
	assert_true(r->result >= strlen("door opened"));
	assert_memory_equal(buf, "door opened", strlen("door opened"));

	/* Bad input to the tool: a clear failure, the device unharmed. */
	char huge[DSIM_EVENT_PAYLOAD_MAX + 50];
	memset(huge, 'x', sizeof huge - 1);
	huge[sizeof huge - 1] = 0;
	const char *bad[] = { it_devsim_bin(), "event", "--socket", c->sim.sock, huge, NULL };
	assert_true(it_run(bad, out, sizeof out) != 0);
	const char *nosock[] = { it_devsim_bin(),       "event", "--socket",
				 "/nonexistent/x.sock", "hi",    NULL };
	assert_true(it_run(nosock, out, sizeof out) != 0);
	assert_int_equal(drv_control(c->q, DSIM_CTL_ECHO, "ok", 3, out, 3), 3);
}

static void test_device_killed_mid_flight(void **state)
{
	struct it_ctx *c = *state;
	enum { N = 8 };
	it_devsim_start(&c->sim, NULL);
	it_open(c, c->sim.uri);
	struct drv_req *r = it_calloc(c, N + 1, sizeof *r);
	struct drv_req **p = it_calloc(c, N, sizeof *p);
	uint8_t *data = it_calloc(c, N, 4096);
	it_set_latency(c->q, DSIM_DIST_FIXED, IT_SEC, 1);
	for (unsigned i = 0; i < N; i++) {
		drv_prep_read(&r[i], (uint64_t)i * 4096, data + i * 4096, 4096);
		p[i] = &r[i];
	}
	it_submit(c->q, p, N);
	it_sleep_ns(20 * IT_MS);
	int st = it_devsim_stop(&c->sim, SIGKILL);
	assert_true(WIFSIGNALED(st));

	/* Every request ends with the status that says the device is gone, not a fatal error. */
	for (unsigned i = 0; i < N; i++) {
		int s = it_wait_done(c->q, &r[i]);
		if (s != -ENODEV) {
			print_error("request %u after the device died: %d, want -ENODEV\n", i, s);
			fail();
		}
	}
	struct drv_health h;
	assert_int_equal(drv_health(c->dev, &h), 0);
	assert_int_equal(h.state, DRV_HEALTH_FAILED);
	assert_int_equal(h.error, -ENODEV);
	assert_int_equal(drv_reset(c->dev), -ENODEV);
	/* New work fails too, at submit or as its status. */
	drv_prep_nop(&r[N]);
	struct drv_req *one = &r[N];
	int k = drv_submit(c->q, &one, 1);
	if (k == 1)
		assert_int_equal(it_wait_done(c->q, &r[N]), -ENODEV);
	else
		assert_int_equal(k, -ENODEV);
	uint8_t tmp[16];
	assert_int_equal(drv_read(c->q, 0, tmp, sizeof tmp), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "open it again"));
	drv_buf *b = NULL;
	(void)drv_buf_alloc(c->dev, 4096, &b); /* may fail; must not crash */
	assert_int_equal(it_close(c), 0);
	/* The next open works, on a device that came back. */
	it_devsim_start(&c->sim, NULL);
	it_open(c, c->sim.uri);
	it_write(c->q, 0, "back", 4);
	it_read(c->q, 0, tmp, 4);
	assert_memory_equal(tmp, "back", 4);
}

static void test_one_client_at_a_time(void **state)
{
	struct it_ctx *c = *state;
	it_devsim_start(&c->sim, NULL);
	it_open(c, c->sim.uri);
	drv_dev *second = NULL;
	int r = drv_open(c->sim.uri, NULL, &second);
	assert_int_equal(r, -EBUSY);
	assert_null(second);
	assert_non_null(strstr(drv_errmsg(), "busy"));

	/* The first client is unaffected. */
	uint8_t w[512], got[512];
	it_fill(w, sizeof w, 0, 12);
	it_write(c->q, 0, w, sizeof w);

	/* Once it disconnects, the next client is served (and sees the same RAM storage). */
	assert_int_equal(it_close(c), 0);
	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	while ((r = drv_open(c->sim.uri, NULL, &second)) == -EBUSY && drv_now_ns() < deadline)
		it_sleep_ns(10 * IT_MS);
	assert_int_equal(r, 0);
	c->dev = second;
	assert_int_equal(drv_info(c->dev, &c->info), 0);
	c->q = it_queue(c, 8, DRV_CMODE_IRQ);
	it_read(c->q, 0, got, sizeof got);
	it_check_pattern(got, sizeof got, 0, 12);
}

static void test_backing_file_survives_restart(void **state)
{
	struct it_ctx *c = *state;
	char backing[160];
	it_devsim_start(&c->sim, NULL); /* creates the directory */
	it_devsim_stop(&c->sim, SIGKILL);
	it_devsim_path(&c->sim, "disk.img", backing, sizeof backing);
	const char *args[] = { "--backing", backing, "--capacity", "4M", NULL };
	it_devsim_start(&c->sim, args);
	it_open(c, c->sim.uri);
	assert_int_equal(c->info.capacity, 4u << 20);
	assert_true(c->info.features & DRV_FEAT_PERSISTENT);

	const size_t len = 256 * 1024;
	uint8_t *w = it_calloc(c, 1, len), *got = it_calloc(c, 1, len);
	it_fill(w, len, 1 << 20, 55);
	for (size_t off = 0; off < len; off += 65536)
		it_write(c->q, (1 << 20) + off, w + off, 65536);
	assert_int_equal(drv_flush(c->q), 0);
	assert_int_equal(it_close(c), 0);
	int st = it_devsim_stop(&c->sim, SIGTERM);
	assert_true((WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
		    (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM));

	it_devsim_start(&c->sim, args);
	it_open(c, c->sim.uri);
	for (size_t off = 0; off < len; off += 65536)
		it_read(c->q, (1 << 20) + off, got + off, 65536);
	it_check_pattern(got, len, 1 << 20, 55);
	/* Untouched storage reads as zeros. */
	it_read(c->q, 0, got, 4096);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(got[i], 0);
}

/* The device survives a client that dies without closing. */
static void test_client_crash(void **state)
{
	struct it_ctx *c = *state;
	it_devsim_start(&c->sim, NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		drv_dev *d;
		drv_queue *q;
		struct drv_queue_opts o = { .depth = 8 };
		if (drv_open(c->sim.uri, NULL, &d) || drv_queue_create(d, &o, &q))
			_exit(1);
		uint8_t w[4096];
		it_fill(w, sizeof w, 0, 13);
		if (drv_write(q, 0, w, sizeof w) != (int64_t)sizeof w)
			_exit(2);
		struct drv_req r[4];
		struct drv_req *p[4];
		for (int i = 0; i < 4; i++) {
			drv_prep_write(&r[i], 8192, w, sizeof w);
			p[i] = &r[i];
		}
		drv_submit(q, p, 4);
		_exit(0); /* no close, requests in flight */
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);

	int r;
	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	while ((r = drv_open(c->sim.uri, NULL, &c->dev)) == -EBUSY && drv_now_ns() < deadline)
		it_sleep_ns(10 * IT_MS);
	assert_int_equal(r, 0);
	assert_int_equal(drv_info(c->dev, &c->info), 0);
	c->q = it_queue(c, 8, DRV_CMODE_IRQ);
	uint8_t got[4096];
	it_read(c->q, 0, got, sizeof got);
	it_check_pattern(got, sizeof got, 0, 13);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_data_over_socket, setup_process, it_teardown),
		cmocka_unit_test_setup_teardown(test_event_from_outside, setup_process,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_device_killed_mid_flight, setup_process,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_one_client_at_a_time, setup_process,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_backing_file_survives_restart, setup_process,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_client_crash, setup_process, it_teardown),
	};
	return cmocka_run_group_tests_name("process", tests, NULL, NULL);
}
