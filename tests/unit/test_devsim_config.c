/* SPDX-License-Identifier: MIT */
/* devsim's one option parser, as the CLI and sim:inproc use it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

static void test_sizes_and_times(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(dsim_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(dsim_parse_size("16M", &v), 0);
	assert_int_equal(v, 16u << 20);
	assert_int_equal(dsim_parse_size("2g", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(dsim_parse_size("1K", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(dsim_parse_size("", &v), -EINVAL);
	assert_int_equal(dsim_parse_size("-1", &v), -EINVAL);
	assert_int_equal(dsim_parse_size("12Q", &v), -EINVAL);
	assert_int_equal(dsim_parse_size("99999999999999999999", &v), -EINVAL);
	assert_int_equal(dsim_parse_size("99999999999T", &v), -EINVAL);
	assert_int_equal(dsim_parse_time_ns("1s", &v), 0);
	assert_int_equal(v, 1000000000ull);
	assert_int_equal(dsim_parse_time_ns("10us", &v), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(dsim_parse_time_ns("3ms", &v), 0);
	assert_int_equal(v, 3000000);
	assert_int_equal(dsim_parse_time_ns("7ns", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(dsim_parse_time_ns("1h", &v), -EINVAL);
}

static void test_latency_specs(void **state)
{
	(void)state;
	struct dsim_config c;
	char err[256];
	dsim_config_defaults(&c);
	assert_int_equal(dsim_config_set(&c, "latency", "fixed:1ms", err, sizeof(err)), 0);
	assert_int_equal(c.timing.op[DSIM_OP_READ].mean_ns, 1000000);
	assert_int_equal(c.timing.op[DSIM_OP_NOP].mean_ns, 1000000);
	assert_int_equal(c.timing.op[DSIM_OP_WAIT_EVENT].mean_ns, 0);
	assert_int_equal(c.timing.op[DSIM_OP_ABORT].mean_ns, 0);
	assert_int_equal(
	    dsim_config_set(&c, "latency", "read=exp:100us,write=uniform:10us:5us", err, 256), 0);
	assert_int_equal(c.timing.op[DSIM_OP_READ].dist, DSIM_DIST_EXPONENTIAL);
	assert_int_equal(c.timing.op[DSIM_OP_READ].mean_ns, 100000);
	assert_int_equal(c.timing.op[DSIM_OP_WRITE].dist, DSIM_DIST_UNIFORM);
	assert_int_equal(c.timing.op[DSIM_OP_WRITE].spread_ns, 5000);
	assert_int_equal(c.timing.op[DSIM_OP_NOP].mean_ns, 1000000); /* untouched */

	const char *bad[] = { "fixed",           "fixed:",      "slow:1ms",
			      "uniform:1us:5us", "exp:1ms:1ms", "teleport=fixed:1ms",
			      "read=fixed:1x",   "fixed:3601s", "exp:18446744073709551615" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(dsim_config_set(&c, "latency", bad[i], err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 10);
	}
	assert_int_equal(dsim_config_set(&c, "latency", "write=fixed:3600s", err, sizeof(err)), 0);
	/* A failed spec leaves the configuration as it was. */
	assert_int_equal(c.timing.op[DSIM_OP_READ].mean_ns, 100000);
}

static void test_query_strings(void **state)
{
	(void)state;
	struct dsim_config c;
	char err[256];
	dsim_config_defaults(&c);
	assert_int_equal(
	    dsim_config_parse_query(&c,
				    "latency=fixed:1s&capacity=16M&queues=4&backing=/tmp/"
				    "f&bandwidth=1G&units=4&poll",
				    err, sizeof(err)),
	    0);
	assert_int_equal(c.capacity, 16u << 20);
	assert_true(c.capacity_set);
	assert_int_equal(c.queues, 4);
	assert_string_equal(c.backing, "/tmp/f");
	assert_int_equal(c.timing.bandwidth_bps, 1ull << 30);
	assert_int_equal(c.timing.units, 4);
	assert_true(c.poll);
	assert_int_equal(c.timing.op[DSIM_OP_WRITE].mean_ns, 1000000000ull);
	assert_int_equal(dsim_config_parse_query(&c, NULL, err, sizeof(err)), 0);
	assert_int_equal(dsim_config_parse_query(&c, "", err, sizeof(err)), 0);

	const char *bad[] = { "queues=0", "queues=33",  "capacity=0", "capacity=lots", "units=5000",
			      "poll=2",   "colour=red", "backing=",   "queues" };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(dsim_config_parse_query(&c, bad[i], err, sizeof(err)), -EINVAL);
		assert_true(strlen(err) > 10);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_and_times),
		cmocka_unit_test(test_latency_specs),
		cmocka_unit_test(test_query_strings),
	};
	return cmocka_run_group_tests_name("devsim options", tests, NULL, NULL);
}
