/* SPDX-License-Identifier: MIT */
/*
 * Misuse of the public API: it must be reported with a message that still
 * says what is wrong when the arguments are unreasonable, and must not
 * crash.
 */
#include "harness.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_socket_path),
		cmocka_unit_test(test_empty_socket_path),
	};
	return cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
}
