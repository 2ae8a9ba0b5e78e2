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

/* Parses rules into a fresh set and renders them back, one per line. */
static const char *rules_round_trip(const char *text, char *buf, size_t len)
{
	struct dsim_fault_set set = { .n = 0 };
	char err[256];
	assert_int_equal(dsim_fault_set_parse(&set, text, err, sizeof(err)), 0);
	dsim_fault_set_render(&set, buf, len);
	return buf;
}

static void test_fault_rules(void **state)
{
	(void)state;
	char buf[DSIM_FAULT_MAX_RULES * DSIM_FAULT_RULE_TEXT];
	assert_string_equal(
	    rules_round_trip("error,op=read,status=internal,rate=0.05", buf, sizeof(buf)),
	    "error,op=read,rate=0.05,status=internal\n");
	assert_string_equal(rules_round_trip("error", buf, sizeof(buf)), "error,status=internal\n");
	assert_string_equal(
	    rules_round_trip(" hang, nth=100 ;lost-irq,rate=1\n\n", buf, sizeof(buf)),
	    "hang,nth=100\nlost-irq,rate=1\n");
	assert_string_equal(rules_round_trip("late,delay=10ms,queue=3,every=4,count=2;dma-slow,"
					     "delay=1500us,op=any",
					     buf, sizeof(buf)),
			    "late,queue=3,every=4,count=2,delay=10ms\ndma-slow,delay=1500us\n");
	assert_string_equal(rules_round_trip("bad-tag;bad-tag,how=random;corrupt,field=phase;"
					     "spurious,op=wait_event;vanish,rate=0.000000001",
					     buf, sizeof(buf)),
			    "bad-tag,how=stale\nbad-tag,how=random\ncorrupt,field=phase\n"
			    "spurious,op=wait_event\nvanish,rate=0.000000001\n");
	/* The longest rule there is still fits its share of a FAULT reply. */
	size_t n = strlen(rules_round_trip("error,op=wait_event,queue=31,every=4294967295,"
					   "count=4294967295,status=invalid-opcode",
					   buf, sizeof(buf)));
	assert_true(n < DSIM_FAULT_RULE_TEXT);
	n = strlen(rules_round_trip("dma-slow,op=wait_event,queue=31,rate=0.123456789,"
				    "count=4294967295,delay=3599999999999ns",
				    buf, sizeof(buf)));
	assert_true(n < DSIM_FAULT_RULE_TEXT);

	/* Through the option parser: each fault= adds, seed= seeds. */
	struct dsim_config c;
	char err[256];
	dsim_config_defaults(&c);
	assert_int_equal(c.fault_seed, DSIM_FAULT_DEFAULT_SEED);
	assert_int_equal(dsim_config_parse_query(&c,
						 "seed=42&fault=hang,nth=100&fault=lost-irq,"
						 "rate=0.1",
						 err, sizeof(err)),
			 0);
	assert_int_equal(c.fault_seed, 42);
	assert_int_equal(c.faults.n, 2);
	assert_int_equal(c.faults.rule[0].kind, DSIM_FAULT_HANG);
	assert_int_equal(c.faults.rule[0].trigger, DSIM_TRIG_NTH);
	assert_int_equal(c.faults.rule[0].n, 100);
	assert_int_equal(c.faults.rule[1].kind, DSIM_FAULT_LOST_IRQ);
	assert_int_equal(c.faults.rule[1].rate_ppb, 100000000);

	struct {
		const char *rule, *says;
	} bad[] = {
		{ "explode", "unknown kind 'explode' (error, lost-irq, late" },
		{ "", "expected a rule" },
		{ ",op=read", "unknown kind 'op=read'" },
		{ ",,", "expected KIND,key=value" },
		{ "error,colour=red", "unknown key 'colour' (error takes op, queue, nth, every, "
				      "rate, count, status)" },
		{ "hang,status=internal", "unknown key 'status' (hang takes op" },
		{ "error,op", "'op' is not key=value" },
		{ "error,op=abort", "op 'abort': expected one of nop, read" },
		{ "error,status=broken", "status 'broken': expected one of success" },
		{ "error,queue=32", "queue '32': expected a queue number from 0 to 31" },
		{ "error,nth=0", "nth '0': expected a whole number" },
		{ "error,every=x", "every 'x'" },
		{ "error,count=0", "count '0'" },
		{ "error,rate=0", "rate '0': expected a probability" },
		{ "error,rate=1.5", "rate '1.5'" },
		{ "error,rate=0.0000000001", "at most 9 decimals" },
		{ "error,rate=-0.5", "rate '-0.5'" },
		{ "error,nth=2,rate=0.5", "at most one of nth, every and rate" },
		{ "late", "late needs delay=TIME" },
		{ "dma-slow,delay=3601s", "delay '3601s'" },
		{ "late,delay=0", "delay '0'" },
		{ "corrupt", "corrupt needs field=" },
		{ "corrupt,field=tag", "field 'tag': expected one of phase, result, status" },
		{ "bad-tag,how=nice", "how 'nice': expected one of stale, random" },
		{ "hang;hang;hang;hang;hang;hang;hang;hang;hang", "at most 8" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dsim_fault_set set = { .n = 0 };
		assert_int_equal(dsim_fault_set_parse(&set, "fatal", err, sizeof(err)), 0);
		err[0] = 0;
		assert_int_equal(dsim_config_set(&c, "fault", bad[i].rule, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, bad[i].says))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].rule, err, bad[i].says);
		/* A failed parse leaves the rules as they were ("" is no rule: nothing to add). */
		assert_int_equal(dsim_fault_set_parse(&set, bad[i].rule, err, sizeof(err)),
				 bad[i].rule[0] ? -EINVAL : 0);
		assert_int_equal(set.n, 1);
	}
	assert_int_equal(c.faults.n, 2);
	assert_int_equal(dsim_config_set(&c, "fault", NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(dsim_config_set(&c, "seed", "many", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "seed 'many'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_and_times),
		cmocka_unit_test(test_latency_specs),
		cmocka_unit_test(test_query_strings),
		cmocka_unit_test(test_fault_rules),
	};
	return cmocka_run_group_tests_name("devsim options", tests, NULL, NULL);
}
