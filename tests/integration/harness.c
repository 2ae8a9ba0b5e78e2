/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t it_timeout_ns(void)
{
	const char *s = getenv("DRV_TEST_TIMEOUT_SCALE");
	double scale = s ? atof(s) : 1.0;
	if (scale < 1.0)
		scale = 1.0;
	return (int64_t)(10.0 * scale * (double)IT_SEC);
}

const char *it_device_uri(void)
{
	const char *uri = getenv("DRV_TEST_URI");
	return uri && *uri ? uri : "sim:inproc";
}

void it_sleep_ns(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / IT_SEC, .tv_nsec = ns % IT_SEC };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* ---- devsim process ------------------------------------------------------ */

const char *it_devsim_bin(void)
{
	const char *bin = getenv("DEVSIM_BIN");
	return bin && *bin ? bin : NULL;
}

static const char *tmp_root(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t && strlen(t) < 40 ? t : "/tmp";
}

const char *it_devsim_path(struct it_devsim *d, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", d->dir, name);
	return out;
}

/* A listening unix socket shows up in /proc/net/unix with __SO_ACCEPTCON. */
static int socket_listens(const char *path)
{
	FILE *f = fopen("/proc/net/unix", "r");
	char line[512];
	int found = 0;
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof line, f)) {
		unsigned long flags;
		char p[256];
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %255s", &flags, p) == 2 &&
		    (flags & 0x10000) && strcmp(p, path) == 0)
			found = 1;
	}
	fclose(f);
	return found;
}

static pid_t spawn(const char *const argv[], int out_fd)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* A crashed test must not leave a devsim behind. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	int null_fd = open("/dev/null", O_RDWR);
	if (null_fd >= 0) {
		dup2(null_fd, 0);
		dup2(out_fd >= 0 ? out_fd : null_fd, 1);
	}
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void it_devsim_start(struct it_devsim *d, const char *const extra[])
{
	const char *bin = it_devsim_bin();
	if (!bin) {
		print_error("DEVSIM_BIN is not set: cannot start devsim\n");
		fail();
	}
	if (!d->dir[0]) {
		snprintf(d->dir, sizeof d->dir, "%s/drv-it-XXXXXX", tmp_root());
		if (!mkdtemp(d->dir)) {
			print_error("mkdtemp %s: %s\n", d->dir, strerror(errno));
			d->dir[0] = 0;
			fail();
		}
		it_devsim_path(d, "dsim.sock", d->sock, sizeof d->sock);
		snprintf(d->uri, sizeof d->uri, "sim:%s", d->sock);
	}
	unlink(d->sock);

	const char *argv[32] = { bin, "serve", "--socket", d->sock };
	unsigned n = 4;
	for (unsigned i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	d->pid = spawn(argv, -1);
	assert_true(d->pid > 0);

	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	while (!socket_listens(d->sock)) {
		int st;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			print_error("devsim serve exited before listening (status 0x%x)\n", st);
			fail();
		}
		if (drv_now_ns() > deadline) {
			print_error("devsim serve did not listen on %s in time\n", d->sock);
			fail();
		}
		it_sleep_ns(5 * IT_MS);
	}
}

int it_devsim_stop(struct it_devsim *d, int sig)
{
	int st = 0;
	if (d->pid <= 0)
		return 0;
	kill(d->pid, sig);
	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	while (waitpid(d->pid, &st, WNOHANG) != d->pid) {
		if (drv_now_ns() > deadline && sig != SIGKILL) {
			print_error("devsim ignored signal %d: killing it\n", sig);
			kill(d->pid, SIGKILL);
			sig = SIGKILL;
		}
		it_sleep_ns(2 * IT_MS);
	}
	d->pid = 0;
	return st;
}

void it_devsim_destroy(struct it_devsim *d)
{
	it_devsim_stop(d, SIGKILL);
	if (!d->dir[0])
		return;
	DIR *dir = opendir(d->dir);
	if (dir) {
		struct dirent *e;
		while ((e = readdir(dir))) {
			char p[sizeof d->dir + 260];
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlink(it_devsim_path(d, e->d_name, p, sizeof p));
		}
		closedir(dir);
	}
	rmdir(d->dir);
	d->dir[0] = 0;
}

int it_run(const char *const argv[], char *out, size_t outlen)
{
	int pipefd[2];
	size_t got = 0;
	int st;
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	pid_t pid = spawn(argv, pipefd[1]);
	close(pipefd[1]);
	assert_true(pid > 0);
	uint64_t deadline = drv_now_ns() + (uint64_t)it_timeout_ns();
	for (;;) {
		struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
		if (drv_now_ns() > deadline) {
			print_error("%s %s did not finish in time\n", argv[0], argv[1]);
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, 50) <= 0)
			continue;
		char tmp[512];
		ssize_t r = read(pipefd[0], tmp, sizeof tmp);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r && out && got + 1 < outlen; i++)
			out[got++] = tmp[i];
	}
	close(pipefd[0]);
	if (out && outlen)
		out[got] = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- Fixture ----------------------------------------------------------- */

/* Whether the open device is dsim, whose control codes set its timing (one device at a time). */
static bool device_is_dsim;

void it_open(struct it_ctx *c, const char *uri)
{
	int r = drv_open(uri, NULL, &c->dev);
	if (r) {
		print_error("drv_open(%s): %d %s\n", uri, r, drv_errmsg());
		c->dev = NULL;
		fail();
	}
	assert_int_equal(drv_info(c->dev, &c->info), 0);
	c->dsim = strcmp(c->info.driver, "dsim") == 0;
	device_is_dsim = c->dsim;
	c->q = it_queue(c, 64, DRV_CMODE_IRQ);
	if (c->dsim) {
		struct dsim_timing t;
		it_timing_zero(&t);
		it_set_timing(c->q, &t);
	}
}

int it_setup(void **state)
{
	/* cmocka skips the teardown of a setup that failed: that one is released here. */
	static struct it_ctx *unfinished;
	if (unfinished)
		it_teardown((void **)&unfinished);
	struct it_ctx *c = calloc(1, sizeof *c);
	assert_non_null(c);
	*state = c;
	unfinished = c;
	const char *spawn_env = getenv("DRV_TEST_SPAWN");
	if (spawn_env && strcmp(spawn_env, "1") == 0) {
		it_devsim_start(&c->sim, NULL);
		it_open(c, c->sim.uri);
	} else {
		it_open(c, it_device_uri());
	}
	unfinished = NULL;
	return 0;
}

int it_close(struct it_ctx *c)
{
	int r = 0;
	if (c->dev)
		r = drv_close(c->dev);
	c->dev = NULL;
	c->q = NULL;
	return r;
}

int it_teardown(void **state)
{
	struct it_ctx *c = *state;
	if (!c)
		return 0;
	it_close(c);
	it_devsim_destroy(&c->sim);
	for (unsigned i = 0; i < c->nallocs; i++)
		free(c->allocs[i]);
	free(c);
	*state = NULL;
	return 0;
}

drv_queue *it_queue(struct it_ctx *c, unsigned depth, enum drv_cmode mode)
{
	struct drv_queue_opts o = { .depth = depth, .cmode = mode };
	drv_queue *q = NULL;
	int r = drv_queue_create(c->dev, &o, &q);
	if (r) {
		print_error("drv_queue_create(depth %u, mode %d): %d %s\n", depth, mode, r,
			    drv_errmsg());
		fail();
	}
	return q;
}

void *it_calloc(struct it_ctx *c, size_t n, size_t size)
{
	assert_true(c->nallocs < IT_MAX_ALLOCS);
	void *p = calloc(n ? n : 1, size ? size : 1);
	assert_non_null(p);
	c->allocs[c->nallocs++] = p;
	return p;
}

drv_buf *it_buf(struct it_ctx *c, size_t len)
{
	drv_buf *b = NULL;
	int r = drv_buf_alloc(c->dev, len, &b);
	if (r) {
		print_error("drv_buf_alloc(%zu): %d %s\n", len, r, drv_errmsg());
		fail();
	}
	assert_non_null(drv_buf_addr(b));
	assert_true(drv_buf_len(b) >= len);
	return b;
}

void it_require(struct it_ctx *c, uint64_t features)
{
	if ((c->info.features & features) != features) {
		print_message("device lacks features 0x%llx: skipped\n",
			      (unsigned long long)(features & ~c->info.features));
		skip();
	}
}

/* ---- Timing ------------------------------------------------------------ */

void it_timing_zero(struct dsim_timing *t)
{
	memset(t, 0, sizeof *t);
}

void it_timing_op(struct dsim_timing *t, unsigned op, unsigned dist, uint64_t mean_ns,
		  uint64_t spread_ns)
{
	assert_true(op < DSIM_OP_COUNT);
	t->op[op] =
	    (struct dsim_op_timing){ .dist = dist, .mean_ns = mean_ns, .spread_ns = spread_ns };
}

void it_require_dsim(const char *what)
{
	if (!device_is_dsim) {
		print_message("n/a: needs dsim's %s\n", what);
		skip();
	}
}

bool it_try_latency(drv_queue *q, unsigned dist, uint64_t mean_ns, unsigned units)
{
	if (!device_is_dsim)
		return false;
	it_set_latency(q, dist, mean_ns, units);
	return true;
}

void it_set_timing(drv_queue *q, const struct dsim_timing *t)
{
	it_require_dsim("service-time control (SET_TIMING)");
	int64_t r = drv_control(q, DSIM_CTL_SET_TIMING, t, sizeof *t, NULL, 0);
	if (r < 0) {
		print_error("SET_TIMING: %lld %s\n", (long long)r, drv_errmsg());
		fail();
	}
}

void it_set_latency(drv_queue *q, unsigned dist, uint64_t mean_ns, unsigned units)
{
	static const unsigned ops[] = { DSIM_OP_NOP, DSIM_OP_READ, DSIM_OP_WRITE, DSIM_OP_FLUSH };
	struct dsim_timing t;
	it_timing_zero(&t);
	for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++)
		it_timing_op(&t, ops[i], dist, mean_ns,
			     dist == DSIM_DIST_UNIFORM ? mean_ns / 2 : 0);
	t.units = units;
	it_set_timing(q, &t);
}

void it_device_stats(drv_queue *q, uint64_t stats[DSIM_STAT_COUNT])
{
	it_require_dsim("statistics (STATS)");
	memset(stats, 0, sizeof(uint64_t) * DSIM_STAT_COUNT);
	int64_t r =
	    drv_control(q, DSIM_CTL_GET_STATS, NULL, 0, stats, sizeof(uint64_t) * DSIM_STAT_COUNT);
	if (r < 0) {
		print_error("GET_STATS: %lld %s\n", (long long)r, drv_errmsg());
		fail();
	}
}

/* ---- Data ---------------------------------------------------------------- */

uint8_t it_pattern(uint32_t seed, uint64_t off)
{
	uint64_t x = off * 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 32 | seed);
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)x;
}

void it_fill(void *p, size_t len, uint64_t off, uint32_t seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		b[i] = it_pattern(seed, off + i);
}

void it_check_pattern(const void *p, size_t len, uint64_t off, uint32_t seed)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++) {
		if (b[i] != it_pattern(seed, off + i)) {
			print_error("pattern %u mismatch at storage offset %llu (byte %zu of %zu): "
				    "got 0x%02x want 0x%02x\n",
				    seed, (unsigned long long)(off + i), i, len, b[i],
				    it_pattern(seed, off + i));
			fail();
		}
	}
}

ptrdiff_t it_first_diff(const void *a, const void *b, size_t len)
{
	const uint8_t *x = a, *y = b;
	if (memcmp(a, b, len) == 0)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (x[i] != y[i])
			return (ptrdiff_t)i;
	return -1;
}

void it_check_equal(const void *got, const void *want, size_t len, uint64_t off, const char *what)
{
	ptrdiff_t i = it_first_diff(got, want, len);
	if (i >= 0) {
		print_error("%s: mismatch at storage offset %llu (byte %td of %zu): got 0x%02x "
			    "want 0x%02x\n",
			    what, (unsigned long long)(off + (uint64_t)i), i, len,
			    ((const uint8_t *)got)[i], ((const uint8_t *)want)[i]);
		fail();
	}
}

uint64_t it_seed(void)
{
	static uint64_t seed;
	if (!seed) {
		const char *s = getenv("IT_SEED");
		seed = s ? strtoull(s, NULL, 0) : drv_now_ns();
		if (!seed)
			seed = 1;
		print_message("IT_SEED=%llu\n", (unsigned long long)seed);
	}
	return seed;
}

uint64_t it_rand(uint64_t *state)
{
	uint64_t x = *state += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* ---- Requests ------------------------------------------------------------ */

int it_wait_done(drv_queue *q, struct drv_req *r)
{
	int w = drv_wait(q, r, it_timeout_ns());
	if (w != 0) {
		print_error("drv_wait(op %u): %d %s\n", r->op, w, drv_errmsg());
		fail();
	}
	assert_true(drv_req_done(r));
	return r->status;
}

void it_wait_ok(drv_queue *q, struct drv_req *r)
{
	int st = it_wait_done(q, r);
	if (st != 0) {
		print_error("request op %u offset %llu len %zu failed: %d\n", r->op,
			    (unsigned long long)r->offset, r->len, st);
		fail();
	}
}

void it_submit(drv_queue *q, struct drv_req *const reqs[], unsigned n)
{
	int r = drv_submit(q, reqs, n);
	if (r != (int)n) {
		print_error("drv_submit(%u): %d %s\n", n, r, drv_errmsg());
		fail();
	}
}

void it_submit1(drv_queue *q, struct drv_req *r)
{
	it_submit(q, &r, 1);
}

void it_write(drv_queue *q, uint64_t off, const void *data, size_t len)
{
	int64_t r = drv_write(q, off, data, len);
	if (r != (int64_t)len) {
		print_error("drv_write(%llu, %zu): %lld %s\n", (unsigned long long)off, len,
			    (long long)r, drv_errmsg());
		fail();
	}
}

void it_read(drv_queue *q, uint64_t off, void *data, size_t len)
{
	int64_t r = drv_read(q, off, data, len);
	if (r != (int64_t)len) {
		print_error("drv_read(%llu, %zu): %lld %s\n", (unsigned long long)off, len,
			    (long long)r, drv_errmsg());
		fail();
	}
}

void it_drain_events(drv_queue *q)
{
	char buf[DSIM_EVENT_PAYLOAD_MAX];
	while (drv_wait_event(q, buf, sizeof buf, 50 * IT_MS) >= 0)
		;
}
