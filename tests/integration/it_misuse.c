/* SPDX-License-Identifier: MIT */
/*
 * Misuse of the public API: it must be reported with a message that still
 * says what is wrong when the arguments are unreasonable, and must not
 * crash.
 */
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* drv_errmsg() is cut at this many bytes; a full buffer means the end was lost. */
#define ERRMSG_CAP 511

static void expect_in_message(const char *what)
{
	const char *msg = drv_errmsg();
	if (!strstr(msg, what)) {
		print_error("message lacks \"%s\": %s\n", what, msg);
		fail();
	}
}

/* A socket path far over the unix limit: the reason must survive the cut. */
static void test_long_socket_path(void **state)
{
	(void)state;
	char uri[1200];
	int n = snprintf(uri, sizeof(uri), "sim:/tmp/");
	memset(uri + n, 'd', 1000);
	snprintf(uri + n + 1000, sizeof(uri) - (size_t)n - 1000, "/end-of-path.sock");
	drv_dev *dev = NULL;

	assert_int_equal(drv_open(uri, NULL, &dev), -EINVAL);
	assert_null(dev);
	expect_in_message("too long");
	expect_in_message("shorter path");
	/* The tail names the file; the message is whole, not cut at the limit. */
	expect_in_message("/end-of-path.sock");
	assert_true(strlen(drv_errmsg()) < ERRMSG_CAP);
}

static void test_empty_socket_path(void **state)
{
	(void)state;
	drv_dev *dev = NULL;

	assert_int_equal(drv_open("sim:", NULL, &dev), -EINVAL);
	expect_in_message("sim:/path/to.sock");
}

/* Every accessor of a freed buffer refuses it with a message instead of using it. */
static void expect_refused_as_freed(drv_buf *b)
{
	assert_null(drv_buf_addr(b));
	expect_in_message("drv_buf_addr");
	expect_in_message("freed");
	assert_int_equal(drv_buf_len(b), 0);
	expect_in_message("drv_buf_len");
	assert_int_equal(drv_buf_bus(b), 0);
	expect_in_message("drv_buf_bus");
	drv_buf_free(b);
	expect_in_message("drv_buf_free");
	expect_in_message("already freed");
}

/* An idle buffer freed twice: the second free is reported and does nothing. */
static void test_buf_double_free(void **state)
{
	struct it_ctx *c = *state;
	drv_buf *b = it_buf(c, 4096);

	drv_buf_free(b);
	expect_refused_as_freed(b);
	/* The device is unharmed and hands out buffers as before. */
	drv_buf *again = it_buf(c, 4096);
	drv_buf_free(again);
}

/*
 * A buffer freed while a request uses it stays valid for the device until
 * the request is released; a second free in between or after is reported.
 */
static void test_buf_double_free_in_flight(void **state)
{
	struct it_ctx *c = *state;
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	drv_buf *b = it_buf(c, 8192);
	uint8_t *want = it_calloc(c, 1, 8192);

	it_fill(want, 8192, 0, 7);
	it_write(c->q, 0, want, 8192);
	it_set_latency(c->q, DSIM_DIST_FIXED, 200 * IT_MS, 0);
	drv_prep_read_buf(r, 0, b, 0, 8192);
	uint8_t *va = drv_buf_addr(b);
	it_submit1(c->q, r);
	drv_buf_free(b);
	expect_refused_as_freed(b);
	/* Still in use by the device, but no new request may name it. */
	struct drv_req *again = it_calloc(c, 1, sizeof *again);
	drv_prep_write_buf(again, 0, b, 0, 4096);
	it_submit1(c->q, again);
	assert_int_equal(it_wait_done(c->q, again), -EINVAL);
	expect_in_message("freed");
	it_wait_ok(c->q, r);
	/* The read landed in the memory the device was given, not in freed memory. */
	it_check_pattern(va, 8192, 0, 7);
	expect_refused_as_freed(b);
}

/* A request naming a released buffer is refused; the queue carries on. */
static void test_submit_freed_buf(void **state)
{
	struct it_ctx *c = *state;
	struct drv_req *r = it_calloc(c, 1, sizeof *r);
	drv_buf *b = it_buf(c, 4096);

	drv_buf_free(b);
	drv_prep_read_buf(r, 0, b, 0, 4096);
	it_submit1(c->q, r);
	assert_int_equal(it_wait_done(c->q, r), -EINVAL);
	expect_in_message("freed with drv_buf_free");
	drv_prep_nop(r);
	it_submit1(c->q, r);
	it_wait_ok(c->q, r);
}

/* Many buffers allocated and freed: recent ones are still caught, none leak. */
static void test_buf_free_churn(void **state)
{
	struct it_ctx *c = *state;
	drv_buf *last = NULL;

	for (int i = 0; i < 1000; i++) {
		last = it_buf(c, 4096 * (1 + i % 4));
		drv_buf_free(last);
	}
	expect_refused_as_freed(last);
}

/* A malformed PCI address is reported as such by every PCI scheme, before any lookup. */
static void test_bad_pci_address(void **state)
{
	(void)state;
	static const char *const uris[] = { "pci:zz", "vfio:zz", "uio:zz", "pci:0000:00:1f" };
	for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
		drv_dev *dev = NULL;
		assert_int_equal(drv_open(uris[i], NULL, &dev), -EINVAL);
		assert_null(dev);
		expect_in_message("not a PCI address");
	}
}

/* A bounce area too large to be meant is refused with the limit, not wrapped to 0. */
static void test_huge_bounce_bytes(void **state)
{
	struct it_ctx *c = *state;
	static const size_t sizes[] = { SIZE_MAX, SIZE_MAX - 100, DRV_QUEUE_MAX_BOUNCE_BYTES + 1 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct drv_queue_opts o = { .depth = 4, .bounce_bytes = sizes[i] };
		drv_queue *q = NULL;
		assert_int_equal(drv_queue_create(c->dev, &o, &q), -EINVAL);
		assert_null(q);
		expect_in_message("at most 1073741824 bytes");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_socket_path),
		cmocka_unit_test(test_empty_socket_path),
		cmocka_unit_test(test_bad_pci_address),
		cmocka_unit_test_setup_teardown(test_huge_bounce_bytes, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_buf_double_free, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_buf_double_free_in_flight, it_setup,
						it_teardown),
		cmocka_unit_test_setup_teardown(test_submit_freed_buf, it_setup, it_teardown),
		cmocka_unit_test_setup_teardown(test_buf_free_churn, it_setup, it_teardown),
	};
	return cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
}
