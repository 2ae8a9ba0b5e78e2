/* SPDX-License-Identifier: MIT */
/*
 * Fault injection from outside the device: `devsim serve --fault/--seed`,
 * `devsim fault` on a running device (and its errors), the per-kind counts
 * of `devsim stats`, and fault vanish as a driver on libdrv's sim bus sees
 * it, from a devsim process and from sim:inproc.
 */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/bus.h"
#include "dev/devdrv.h"
#include "devsim/dsim_hw.h"
#include "drv/drv.h"
#include "drv/mmio.h"
#include "model.h"

#define WAIT_NS (10ull * 1000000000ull)

extern char **environ;

/* A driver session on the sim bus: device enabled, queue 0 (16 entries) in one DMA region. */
struct session {
	drv_dev dev;
	volatile void *regs;
	struct drv_dma_region reg;
	uint32_t tail;
};

static void wait_reg(struct session *s, uint32_t off, uint32_t want)
{
	uint64_t end = dsim_now_ns() + WAIT_NS;
	while (drv_mmio_rd32(s->regs, off) != want) {
		assert_true(dsim_now_ns() < end);
		usleep(100);
	}
}

static void session_open(struct session *s, const char *addr)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(drvi_bus_sim.open(&s->dev, addr, NULL), 0);
	size_t len;
	assert_int_equal(drvi_bus_sim.map_region(&s->dev, 2, &s->regs, &len), 0);
	assert_int_equal(drvi_bus_sim.dma_map(&s->dev, 1u << 20, &s->reg), 0);
	drv_mmio_wr32(s->regs, DSIM_REG_CONTROL, DSIM_CTRL_ENABLE);
	drvi_bus_sim.kick(&s->dev, DSIM_KICK_ADMIN);
	wait_reg(s, DSIM_REG_STATUS, DSIM_STS_READY);
	drv_mmio_wr64(s->regs, DSIM_REG_Q(0, DSIM_Q_SQ_BASE), s->reg.bus);
	drv_mmio_wr64(s->regs, DSIM_REG_Q(0, DSIM_Q_CQ_BASE), s->reg.bus + 4096);
	drv_mmio_wr32(s->regs, DSIM_REG_Q(0, DSIM_Q_LOG2_SIZE), 4);
	drv_mmio_wr32(s->regs, DSIM_REG_Q(0, DSIM_Q_ENABLE), 1);
	drvi_bus_sim.kick(&s->dev, DSIM_KICK_ADMIN);
	wait_reg(s, DSIM_REG_Q(0, DSIM_Q_QSTATUS), DSIM_QSTS_ENABLED);
}

/* Submits sqe on queue 0; its CQE, or status 0xffff if the device went away first. */
static struct dsim_cqe session_do(struct session *s, struct dsim_sqe sqe)
{
	struct dsim_sqe *sq = s->reg.va;
	struct dsim_cqe *cq = (struct dsim_cqe *)(void *)((uint8_t *)s->reg.va + 4096);
	uint32_t slot = s->tail;
	sq[slot] = sqe;
	s->tail = (s->tail + 1) % 16;
	drv_mmio_wr32(s->regs, DSIM_REG_Q(0, DSIM_Q_SQ_TAIL), s->tail);
	drvi_bus_sim.kick(&s->dev, DSIM_KICK_QUEUE(0));
	struct pollfd p = { .fd = drvi_bus_sim.health_fd(&s->dev), .events = POLLIN };
	uint64_t end = dsim_now_ns() + WAIT_NS;
	while (!(__atomic_load_n(&cq[slot].flags, __ATOMIC_ACQUIRE) & DSIM_CQE_F_PHASE)) {
		assert_true(dsim_now_ns() < end);
		if (poll(&p, 1, 10) == 1)
			return (struct dsim_cqe){ .status = 0xffff };
	}
	return cq[slot];
}

static void session_close(struct session *s)
{
	drvi_bus_sim.dma_unmap(&s->dev, &s->reg);
	drvi_bus_sim.close(&s->dev);
}

/* Runs a shell command (stderr with stdout into out); returns its exit status. */
static int run(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int run(char *out, size_t len, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd) - 8, fmt, ap);
	va_end(ap);
	strcat(cmd, " 2>&1");
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, len - 1, f);
	out[n] = 0;
	int st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_serve_and_fault_command(void **state)
{
	(void)state;
	const char *bin = getenv("DEVSIM_BIN");
	if (!bin)
		skip();
	char dir[] = "/tmp/dsim-fault-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char sock[64], out[4096];
	snprintf(sock, sizeof(sock), "%s/d.sock", dir);
	char *argv[] = { (char *)bin, "serve",   "--socket",
			 sock,        "--fault", "error,op=read,status=out-of-range",
			 "--seed",    "5",       NULL };
	pid_t pid;
	assert_int_equal(posix_spawn(&pid, bin, NULL, NULL, argv, environ), 0);
	/* Until devsim listens; then the rules and seed given to serve are there. */
	uint64_t end = dsim_now_ns() + WAIT_NS;
	while (run(out, sizeof(out), "%s fault --socket %s", bin, sock) != 0) {
		assert_true(dsim_now_ns() < end);
		usleep(20000);
	}
	assert_non_null(strstr(out, "seed 5\n"));
	assert_non_null(strstr(out, "rule error,op=read,status=out-of-range\n"));

	assert_int_equal(
	    run(out, sizeof(out), "%s fault --socket %s --seed 9 lost-irq,nth=3", bin, sock), 0);
	assert_non_null(strstr(out, "seed 9\n"));
	assert_non_null(
	    strstr(out, "rule error,op=read,status=out-of-range\nrule lost-irq,nth=3\n"));
	assert_int_equal(run(out, sizeof(out), "%s fault --socket %s bogus", bin, sock), 2);
	assert_non_null(strstr(out, "unknown kind 'bogus' (error, lost-irq"));
	assert_int_equal(
	    run(out, sizeof(out), "%s fault --socket %s error,op=read,rate=0", bin, sock), 2);
	assert_non_null(strstr(out, "rate '0'"));
	assert_int_equal(run(out, sizeof(out), "%s fault --socket %s/none.sock", bin, dir), 1);
	assert_non_null(strstr(out, "no devsim listening"));
	assert_int_equal(run(out, sizeof(out), "%s fault --socket %s --clear", bin, sock), 0);
	assert_non_null(strstr(out, "no rules\n"));

	/* A driver meets the rule; stats count it. */
	assert_int_equal(
	    run(out, sizeof(out), "%s fault --socket %s error,op=nop,status=aborted", bin, sock),
	    0);
	struct session s;
	session_open(&s, sock);
	assert_int_equal(
	    session_do(&s, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 1 }).status,
	    DSIM_SC_ABORTED);
	assert_int_equal(run(out, sizeof(out), "%s stats --socket %s", bin, sock), 0);
	char line[64];
	snprintf(line, sizeof(line), "%-16s 1\n", "faults");
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof(line), "%-16s 1\n", "fault:error");
	assert_non_null(strstr(out, line));

	/* vanish: the process dies as if killed; the driver's health fd hangs up. */
	assert_int_equal(
	    run(out, sizeof(out), "%s fault --socket %s --clear vanish,op=nop,nth=2", bin, sock),
	    0);
	assert_int_equal(
	    session_do(&s, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 2 }).status,
	    DSIM_SC_SUCCESS);
	assert_int_equal(
	    session_do(&s, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 3 }).status, 0xffff);
	assert_int_equal(drvi_bus_sim.alive(&s.dev), -ENODEV);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	session_close(&s);
	unlink(sock);
	rmdir(dir);
}

static void test_inproc_vanish(void **state)
{
	(void)state;
	struct session s;
	session_open(&s, "inproc?fault=vanish,op=write&fault=lost-irq,nth=1&seed=3");
	assert_int_equal(
	    session_do(&s, (struct dsim_sqe){ .opcode = DSIM_OP_NOP, .tag = 1 }).status,
	    DSIM_SC_SUCCESS);
	struct dsim_sqe w = {
		.opcode = DSIM_OP_WRITE, .tag = 2, .length = 512, .addr = s.reg.bus + 65536
	};
	assert_int_equal(session_do(&s, w).status, 0xffff);
	assert_int_equal(drvi_bus_sim.alive(&s.dev), -ENODEV);
	session_close(&s);

	/* A bad rule in the URI: the open fails and says why. */
	drv_dev dev;
	memset(&dev, 0, sizeof(dev));
	assert_int_equal(drvi_bus_sim.open(&dev, "inproc?fault=hang,every=0", NULL), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "every '0'"));
	drvi_bus_sim.close(&dev);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serve_and_fault_command),
		cmocka_unit_test(test_inproc_vanish),
	};
	return cmocka_run_group_tests_name("devsim fault commands", tests, NULL, NULL);
}
