/* SPDX-License-Identifier: MIT */
/*
 * drvsoak: random reads, writes, flushes and control codes from several
 * threads, each on its own queue, against a dsim device with faults
 * injected and (with --spawn) its process killed and restarted on the same
 * backing file. Every read is checked against a model of what was
 * acknowledged and flushed (model.h). Exits 0 when nothing was corrupt or
 * lost and no request hung; the report says what happened.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "devsim/dsim_hw.h"
#include "drv/drv.h"
#include "model.h"

#define MAX_THREADS 16
#define MAX_RULES 16
#define OP_BLOCKS 4
#define DEPTH 16

struct options {
	double seconds;
	unsigned threads;
	uint64_t blocks;
	uint64_t seed;
	uint64_t timeout_ms;
	double restart_every; /* --spawn: kill and restart devsim this often; 0 = never */
	bool spawn;
	const char *devsim;
	const char *rules[MAX_RULES];
	unsigned nrules;
	const char *dir;
};

enum counter {
	C_READ,
	C_WRITE,
	C_FLUSH,
	C_CONTROL,
	C_NOP,
	C_OK,
	C_ETIMEDOUT,
	C_ECONNRESET,
	C_EIO,
	C_ENODEV,
	C_EOTHER,
	C_VERIFIED,
	C_CORRUPT,
	C_STALE,
	C_LOST_FLUSH,
	C_CONTROL_BAD,
	C_HANG,
	C_REFUSED,
	C_COUNT
};
static const char *const counter_names[C_COUNT] = {
	"reads",
	"writes",
	"flushes",
	"controls",
	"nops",
	"ok",
	"-ETIMEDOUT",
	"-ECONNRESET",
	"-EIO",
	"-ENODEV",
	"other errors",
	"blocks verified",
	"corrupt reads",
	"stale reads",
	"lost flushed writes",
	"control mismatches",
	"hung requests",
	"submits refused",
};

static uint64_t counters[C_COUNT];
static void count(enum counter c, uint64_t n)
{
	__atomic_add_fetch(&counters[c], n, __ATOMIC_RELAXED);
}

static struct options opt = {
	.seconds = 10, .threads = 4, .blocks = 1024, .seed = 1, .timeout_ms = 1000
};
static struct soak_model model;
static int session_bad; /* atomic: a worker saw the device gone */
static int stopping;    /* atomic: workers finish their session */
static bool is_dsim;

struct op {
	struct drv_req req;
	enum counter kind;
	uint64_t block;
	unsigned nblocks;
	uint64_t ids[OP_BLOCKS];
	uint64_t flush_acks;
	uint8_t *mem; /* OP_BLOCKS blocks of plain memory (buffered I/O) */
	drv_buf *buf; /* the same size of DMA memory (direct I/O), or NULL */
	uint8_t echo_in[64], echo_out[64];
	bool busy;
};

struct worker {
	unsigned index;
	drv_dev *dev;
	drv_queue *q;
	uint64_t first, nblocks; /* the blocks this worker owns */
	uint64_t rng;
	struct op ops[DEPTH];
	pthread_t thread;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void note_status(int status)
{
	switch (status) {
	case 0:
		count(C_OK, 1);
		break;
	case -ETIMEDOUT:
		count(C_ETIMEDOUT, 1);
		break;
	case -ECONNRESET:
		count(C_ECONNRESET, 1);
		break;
	case -EIO:
		count(C_EIO, 1);
		break;
	case -ENODEV:
		count(C_ENODEV, 1);
		break;
	default:
		count(C_EOTHER, 1);
		break;
	}
	if (status == -ENODEV)
		__atomic_store_n(&session_bad, 1, __ATOMIC_RELEASE);
}

static void *data_of(struct op *o)
{
	return o->buf ? drv_buf_addr(o->buf) : o->mem;
}

static void report_failure(const char *why)
{
	static unsigned printed;
	if (__atomic_add_fetch(&printed, 1, __ATOMIC_RELAXED) <= 10)
		fprintf(stderr, "drvsoak: %s\n", why);
}

static void finish(struct worker *w, struct op *o)
{
	int status = o->req.status;
	note_status(status);
	size_t len = (size_t)o->nblocks * SOAK_BLOCK;
	bool ok = status == 0;
	char why[160];
	switch (o->kind) {
	case C_WRITE:
		for (unsigned i = 0; i < o->nblocks; i++)
			soak_model_write_done(&model, o->block + i, o->ids[i],
					      ok && o->req.result == len);
		break;
	case C_READ:
		for (unsigned i = 0; ok && i < o->nblocks; i++) {
			enum soak_verdict v = soak_model_check(
			    &model, o->block + i, (uint8_t *)data_of(o) + i * SOAK_BLOCK, why,
			    sizeof why);
			count(C_VERIFIED, 1);
			if (v != SOAK_OK)
				report_failure(why);
			if (v == SOAK_CORRUPT)
				count(C_CORRUPT, 1);
			else if (v == SOAK_STALE)
				count(C_STALE, 1);
			else if (v == SOAK_LOST_FLUSH)
				count(C_LOST_FLUSH, 1);
		}
		break;
	case C_FLUSH:
		if (ok)
			soak_model_flush_done(&model, o->flush_acks);
		break;
	case C_CONTROL:
		if (ok && memcmp(o->echo_in, o->echo_out, sizeof o->echo_in) != 0) {
			count(C_CONTROL_BAD, 1);
			report_failure("ECHO returned other bytes than it was given");
		}
		break;
	default:
		break;
	}
	(void)w;
	for (unsigned i = 0; i < o->nblocks; i++)
		model.blocks[o->block + i].busy = false;
	o->busy = false;
}

/* Up to OP_BLOCKS free owned blocks from a random start; 0 when the first is busy. */
static unsigned pick_blocks(struct worker *w, bool writing, uint64_t *first)
{
	uint64_t b = w->first + rnd(&w->rng) % w->nblocks;
	unsigned want = 1 + (unsigned)(rnd(&w->rng) % OP_BLOCKS), n = 0;
	while (n < want && b + n < w->first + w->nblocks && !model.blocks[b + n].busy &&
	       (!writing || soak_model_can_write(&model, b + n)))
		n++;
	*first = b;
	return n;
}

/* Prepares o as a random operation; false when none fits now. */
static bool prepare(struct worker *w, struct op *o)
{
	unsigned r = (unsigned)(rnd(&w->rng) % 100);
	o->nblocks = 0;
	o->kind = r < 40   ? C_READ
		  : r < 75 ? C_WRITE
		  : r < 85 ? C_FLUSH
		  : r < 93 ? C_CONTROL
			   : C_NOP;
	if (o->kind == C_CONTROL && !is_dsim)
		o->kind = C_NOP;
	if (o->kind == C_READ || o->kind == C_WRITE) {
		o->nblocks = pick_blocks(w, o->kind == C_WRITE, &o->block);
		if (!o->nblocks)
			return false;
		size_t len = (size_t)o->nblocks * SOAK_BLOCK;
		uint64_t off = o->block * SOAK_BLOCK;
		if (o->kind == C_WRITE)
			for (unsigned i = 0; i < o->nblocks; i++) {
				o->ids[i] = soak_model_new_id(&model);
				soak_block_fill((uint8_t *)data_of(o) + i * SOAK_BLOCK, o->ids[i],
						o->block + i);
			}
		if (o->buf && o->kind == C_READ)
			drv_prep_read_buf(&o->req, off, o->buf, 0, len);
		else if (o->buf)
			drv_prep_write_buf(&o->req, off, o->buf, 0, len);
		else if (o->kind == C_READ)
			drv_prep_read(&o->req, off, o->mem, len);
		else
			drv_prep_write(&o->req, off, o->mem, len);
		for (unsigned i = 0; i < o->nblocks; i++)
			model.blocks[o->block + i].busy = true;
	} else if (o->kind == C_FLUSH) {
		o->flush_acks = soak_model_acks(&model);
		drv_prep_flush(&o->req);
	} else if (o->kind == C_CONTROL) {
		for (size_t i = 0; i < sizeof o->echo_in; i++)
			o->echo_in[i] = (uint8_t)rnd(&w->rng);
		memset(o->echo_out, 0, sizeof o->echo_out);
		drv_prep_control(&o->req, DSIM_CTL_ECHO, o->echo_in, sizeof o->echo_in, o->echo_out,
				 sizeof o->echo_out);
	} else {
		drv_prep_nop(&o->req);
	}
	o->req.timeout_ns = opt.timeout_ms * 1000000ull;
	return true;
}

/* Undoes prepare() for an operation that was not submitted. */
static void unprepare(struct op *o)
{
	for (unsigned i = 0; i < o->nblocks; i++) {
		if (o->kind == C_WRITE)
			soak_model_write_done(&model, o->block + i, o->ids[i], false);
		model.blocks[o->block + i].busy = false;
	}
	o->busy = false;
}

static bool hung(const struct op *o, uint64_t now)
{
	/* Past its own deadline plus recovery (a reset) and a generous margin. */
	uint64_t limit = opt.timeout_ms * 1000000ull + 30ull * 1000000000ull;
	return o->busy && now - o->req.submit_ns > limit;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct drv_req *out[DEPTH];
	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&session_bad, __ATOMIC_ACQUIRE)) {
		for (unsigned i = 0; i < DEPTH; i++) {
			struct op *o = &w->ops[i];
			if (o->busy || !prepare(w, o))
				continue;
			o->busy = true;
			struct drv_req *rp = &o->req;
			int n = drv_submit(w->q, &rp, 1);
			if (n == 1) {
				count(o->kind, 1);
				continue;
			}
			unprepare(o);
			count(C_REFUSED, 1);
			if (n == -ENODEV)
				__atomic_store_n(&session_bad, 1, __ATOMIC_RELEASE);
			/* A failed device: wait for its health to change (recovery resets it). */
			if (n == -EIO) {
				struct pollfd p = { .fd = drv_health_fd(w->dev), .events = POLLIN };
				struct drv_health h;
				if (poll(&p, 1, 5) == 1)
					drv_health(w->dev, &h); /* consumes the change */
			}
			break;
		}
		int n = drv_reap(w->q, out, DEPTH, 1, 20 * 1000000ll);
		for (int i = 0; i < n; i++)
			finish(w, (struct op *)(void *)out[i]);
		uint64_t now = drv_now_ns();
		for (unsigned i = 0; i < DEPTH; i++)
			if (hung(&w->ops[i], now)) {
				count(C_HANG, 1);
				report_failure(
				    "a request stayed pending past its deadline and recovery");
				__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
				return NULL;
			}
	}
	/* The session ends: every request comes back (the device answers or fails it). */
	for (unsigned i = 0; i < DEPTH; i++) {
		struct op *o = &w->ops[i];
		if (!o->busy)
			continue;
		if (drv_wait(w->q, &o->req, 60ll * 1000000000) == 0) {
			finish(w, o);
		} else {
			count(C_HANG, 1);
			report_failure(
			    "a request did not end within a minute of the session's end");
		}
	}
	return NULL;
}

/* ---- The device: devsim in process or as a process we may kill -------------------------- */

static pid_t devsim_pid;
static char sock_path[PATH_MAX], backing[PATH_MAX], devsim_log[PATH_MAX];

static void devsim_start(void)
{
	char cap[32];
	snprintf(cap, sizeof cap, "%" PRIu64, opt.blocks * SOAK_BLOCK);
	char seed[32];
	snprintf(seed, sizeof seed, "%" PRIu64, opt.seed);
	const char *argv[8 + 2 * MAX_RULES] = { opt.devsim,  "serve", "--socket",   sock_path,
						"--backing", backing, "--capacity", cap };
	unsigned n = 8;
	if (opt.nrules) {
		argv[n++] = "--seed";
		argv[n++] = seed;
	}
	for (unsigned i = 0; i < opt.nrules; i++) {
		argv[n++] = "--fault";
		argv[n++] = opt.rules[i];
	}
	argv[n] = NULL;
	unlink(sock_path);
	devsim_pid = fork();
	if (devsim_pid == 0) {
		int log = open(devsim_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (log >= 0) {
			dup2(log, STDOUT_FILENO);
			dup2(log, STDERR_FILENO);
		}
		execv(opt.devsim, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500 && access(sock_path, F_OK) != 0; i++)
		usleep(10000);
}

static void devsim_kill(void)
{
	if (devsim_pid <= 0)
		return;
	kill(devsim_pid, SIGKILL);
	waitpid(devsim_pid, NULL, 0);
	devsim_pid = 0;
}

/* A process that exited on its own (a vanish fault) is reaped and counted as a restart. */
static bool devsim_exited(void)
{
	if (devsim_pid <= 0)
		return false;
	if (waitpid(devsim_pid, NULL, WNOHANG) != devsim_pid)
		return false;
	devsim_pid = 0;
	return true;
}

static void inproc_uri(char *uri, size_t len)
{
	int n = snprintf(uri, len, "sim:inproc?backing=%s&capacity=%" PRIu64, backing,
			 opt.blocks * SOAK_BLOCK);
	/* The seed is the fault model's: only given with faults. */
	if (opt.nrules && n > 0 && (size_t)n < len)
		n += snprintf(uri + n, len - (size_t)n, "&seed=%" PRIu64, opt.seed);
	for (unsigned i = 0; i < opt.nrules && n > 0 && (size_t)n < len; i++)
		n += snprintf(uri + n, len - (size_t)n, "&fault=%s", opt.rules[i]);
}

struct session {
	drv_dev *dev;
	struct worker w[MAX_THREADS];
};

static int session_open(struct session *s)
{
	char uri[PATH_MAX + 1024];
	if (opt.spawn)
		snprintf(uri, sizeof uri, "sim:%s", sock_path);
	else
		inproc_uri(uri, sizeof uri);
	int err = drv_open(uri, NULL, &s->dev);
	if (err) {
		fprintf(stderr, "drvsoak: cannot open %s: %s\n", uri, drv_errmsg());
		return err;
	}
	/* Hung requests are reset quickly; lost interrupts cost at most 2 ms. */
	struct drv_recovery policy = { .auto_reset_ns = 200 * 1000000ll, .irq_recheck_us = 2000 };
	drv_set_recovery(s->dev, &policy);
	struct drv_info info;
	drv_info(s->dev, &info);
	is_dsim = strcmp(info.driver, "dsim") == 0;
	static const enum drv_cmode modes[] = { DRV_CMODE_IRQ, DRV_CMODE_POLL, DRV_CMODE_HYBRID };
	uint64_t per = opt.blocks / opt.threads;
	for (unsigned t = 0; t < opt.threads; t++) {
		struct worker *w = &s->w[t];
		memset(w, 0, sizeof *w);
		w->index = t;
		w->dev = s->dev;
		w->first = t * per;
		w->nblocks = per;
		w->rng = opt.seed * 0x9e3779b97f4a7c15ull + t + 1;
		struct drv_queue_opts qo = { .depth = DEPTH, .cmode = modes[t % 3] };
		err = drv_queue_create(s->dev, &qo, &w->q);
		for (unsigned i = 0; !err && i < DEPTH; i++) {
			w->ops[i].mem = calloc(OP_BLOCKS, SOAK_BLOCK);
			if (!w->ops[i].mem)
				err = -ENOMEM;
			else if (i % 2)
				err = drv_buf_alloc(s->dev, OP_BLOCKS * SOAK_BLOCK, &w->ops[i].buf);
		}
		if (err) {
			fprintf(stderr, "drvsoak: setting up queue %u: %s\n", t, drv_errmsg());
			return err;
		}
	}
	return 0;
}

static void session_close(struct session *s)
{
	drv_close(s->dev);
	for (unsigned t = 0; t < opt.threads; t++)
		for (unsigned i = 0; i < DEPTH; i++)
			free(s->w[t].ops[i].mem);
	s->dev = NULL;
}

static struct drv_health health_total;

static void add_health(drv_dev *dev)
{
	struct drv_health h;
	if (drv_health(dev, &h))
		return;
	health_total.resets += h.resets;
	health_total.auto_resets += h.auto_resets;
	health_total.failed_resets += h.failed_resets;
	health_total.lost_interrupts += h.lost_interrupts;
}

static uint64_t rejected_total;

/*
 * Faults the device injected, per kind: asked at the end of a session, or
 * just before the kill; a device process that vanished cannot be asked.
 */
static uint64_t faults_total[DSIM_FAULT_KIND_COUNT];
static unsigned faults_sessions;

static void add_faults(struct session *s)
{
	struct dsim_fault_stats st;
	if (!is_dsim || drv_control(s->w[0].q, DSIM_CTL_GET_FAULTS, NULL, 0, &st, sizeof st) !=
			    (int64_t)sizeof st)
		return;
	for (unsigned k = 0; k < DSIM_FAULT_KIND_COUNT; k++)
		faults_total[k] += st.injected[k];
	faults_sessions++;
}

static void print_faults(unsigned sessions)
{
	static const char *const names[DSIM_FAULT_KIND_COUNT] = {
		"error", "lost-irq", "late",     "duplicate", "spurious",     "bad-tag", "corrupt",
		"hang",  "fatal",    "dma-slow", "dma-fail",  "storage-fail", "vanish",
	};
	printf("  %-20s", "faults injected");
	for (unsigned k = 0; k < DSIM_FAULT_KIND_COUNT; k++)
		if (faults_total[k])
			printf(" %s %" PRIu64, names[k], faults_total[k]);
	printf(" (%u of %u sessions counted: a device that vanished cannot be asked)\n",
	       faults_sessions, sessions);
}

static void add_queue_stats(struct session *s)
{
	for (unsigned t = 0; t < opt.threads; t++) {
		struct drv_queue_stats st;
		if (s->w[t].q && drv_queue_stats(s->w[t].q, &st) == 0)
			rejected_total += st.rejected;
	}
}

/* One read with a deadline, tried again while recovery brings the device back. */
static bool read_block(drv_queue *q, uint64_t b, void *blk)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		struct drv_req r;
		drv_prep_read(&r, b * SOAK_BLOCK, blk, SOAK_BLOCK);
		r.timeout_ns = opt.timeout_ms * 1000000ull;
		struct drv_req *rp = &r;
		if (drv_submit(q, &rp, 1) != 1) {
			usleep(10000);
			continue;
		}
		if (drv_wait(q, &r, -1) == 0 && r.status == 0 && r.result == SOAK_BLOCK)
			return true;
		if (r.status == -ENODEV)
			return false;
	}
	return false;
}

/*
 * Reads every block back, the faults cleared; the same checks as during
 * the run. A fault that fired before the rules went (a hang) is recovered
 * like any other.
 */
static void final_pass(struct session *s)
{
	drv_queue *q = s->w[0].q;
	if (is_dsim)
		(void)drv_control(q, DSIM_CTL_SET_FAULTS, NULL, 0, NULL, 0);
	uint8_t *blk = malloc(SOAK_BLOCK);
	char why[160];
	uint64_t unread = 0;
	for (uint64_t b = 0; blk && b < opt.threads * (opt.blocks / opt.threads); b++) {
		if (!read_block(q, b, blk)) {
			unread++;
			continue;
		}
		enum soak_verdict v = soak_model_check(&model, b, blk, why, sizeof why);
		count(C_VERIFIED, 1);
		if (v != SOAK_OK) {
			report_failure(why);
			count(v == SOAK_CORRUPT ? C_CORRUPT
			      : v == SOAK_STALE ? C_STALE
						: C_LOST_FLUSH,
			      1);
		}
	}
	free(blk);
	if (unread) {
		fprintf(stderr, "drvsoak: %" PRIu64 " blocks could not be read back at the end\n",
			unread);
		count(C_HANG, unread);
	}
}

static unsigned open_fds(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static double now_s(void)
{
	return (double)drv_now_ns() / 1e9;
}

static int run(void)
{
	unsigned fds_before = open_fds();
	unsigned restarts = 0, sessions = 0;
	bool final_done = false;
	double start = now_s(), next_restart = opt.restart_every ? start + opt.restart_every : 0;
	struct session s = { 0 };
	if (opt.spawn)
		devsim_start();
	while (now_s() - start < opt.seconds && !__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		if (session_open(&s))
			return 2;
		sessions++;
		__atomic_store_n(&session_bad, 0, __ATOMIC_RELEASE);
		for (unsigned t = 0; t < opt.threads; t++)
			pthread_create(&s.w[t].thread, NULL, work, &s.w[t]);
		bool killed = false;
		while (now_s() - start < opt.seconds &&
		       !__atomic_load_n(&session_bad, __ATOMIC_ACQUIRE) &&
		       !__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
			usleep(20000);
			if (opt.spawn && next_restart && now_s() >= next_restart) {
				add_faults(&s); /* the last moment the device can be asked */
				/* What was not flushed may be lost from here on. */
				soak_model_crash(&model);
				devsim_kill();
				killed = true;
				next_restart += opt.restart_every;
				break;
			}
			if (devsim_exited()) {
				soak_model_crash(&model);
				killed = true;
				break;
			}
		}
		/* Time is up, or a worker found a hang: this session is the last. */
		bool last = !killed && !__atomic_load_n(&session_bad, __ATOMIC_ACQUIRE);
		if (last)
			__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&session_bad, 1, __ATOMIC_RELEASE); /* workers leave */
		for (unsigned t = 0; t < opt.threads; t++)
			pthread_join(s.w[t].thread, NULL);
		if (last && !counters[C_HANG]) {
			final_pass(&s);
			final_done = true;
		}
		add_health(s.dev);
		add_queue_stats(&s);
		if (!killed)
			add_faults(&s);
		session_close(&s);
		if (!last && !__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
			restarts++;
			if (opt.spawn) {
				devsim_kill();
				devsim_start();
			}
		}
	}
	/* The run ended with a restart: one more session reads everything back. */
	if (!final_done && !counters[C_HANG] && session_open(&s) == 0) {
		final_pass(&s);
		session_close(&s);
	}
	devsim_kill();
	unsigned fds_after = open_fds();
	printf("drvsoak: %.0f s, %u threads (queues in IRQ, POLL, HYBRID), %" PRIu64
	       " blocks of %u bytes, seed %" PRIu64 ", %s\n",
	       opt.seconds, opt.threads, opt.blocks, SOAK_BLOCK, opt.seed,
	       opt.spawn ? "devsim process" : "devsim in process");
	for (unsigned i = 0; i < opt.nrules; i++)
		printf("  fault %s\n", opt.rules[i]);
	for (unsigned c = 0; c < C_COUNT; c++)
		printf("  %-20s %" PRIu64 "\n", counter_names[c], counters[c]);
	printf("  %-20s %u (%u device restarts)\n", "sessions", sessions, restarts);
	printf("  %-20s %" PRIu64 " (%" PRIu64 " by recovery, %" PRIu64 " failed)\n", "resets",
	       health_total.resets, health_total.auto_resets, health_total.failed_resets);
	printf("  %-20s %" PRIu64 "\n", "lost interrupts", health_total.lost_interrupts);
	printf("  %-20s %" PRIu64 "\n", "rejected completions", rejected_total);
	print_faults(sessions);
	printf("  %-20s %u before, %u after\n", "open fds", fds_before, fds_after);
	bool pass = !counters[C_CORRUPT] && !counters[C_STALE] && !counters[C_LOST_FLUSH] &&
		    !counters[C_HANG] && !counters[C_CONTROL_BAD] && fds_after == fds_before &&
		    counters[C_VERIFIED] > 0;
	printf("result: %s\n", pass ? "PASS" : "FAIL");
	return pass ? 0 : 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: drvsoak [options]\n"
	    "  --seconds S        how long to run (default 10)\n"
	    "  --threads N        worker threads, one queue each (default 4, at most %d)\n"
	    "  --blocks N         4 KiB blocks of storage (default 1024)\n"
	    "  --fault RULE       a devsim fault rule (repeatable; docs/dsim.md)\n"
	    "  --seed N           seeds the faults and the operations (default 1)\n"
	    "  --timeout-ms MS    each request's deadline (default 1000)\n"
	    "  --spawn DEVSIM     run DEVSIM serve as a process instead of in process\n"
	    "  --restart-every S  with --spawn: kill devsim (SIGKILL) and restart it this often\n"
	    "  --dir DIR          where the backing file and socket go (default: a new one in "
	    "/tmp)\n",
	    MAX_THREADS);
}

static bool parse_number(const char *s, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end && *out >= 0;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "seconds", required_argument, 0, 's' },
		{ "threads", required_argument, 0, 't' },
		{ "blocks", required_argument, 0, 'b' },
		{ "fault", required_argument, 0, 'f' },
		{ "seed", required_argument, 0, 'S' },
		{ "timeout-ms", required_argument, 0, 'T' },
		{ "spawn", required_argument, 0, 'p' },
		{ "restart-every", required_argument, 0, 'r' },
		{ "dir", required_argument, 0, 'd' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;
	double v = 0;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		bool ok = c == 'f' || c == 'p' || c == 'd' || c == 'h' ||
			  (optarg && parse_number(optarg, &v));
		if (!ok) {
			fprintf(stderr,
				"drvsoak: bad value \"%s\" for an option that takes a number\n",
				optarg ? optarg : "");
			return 2;
		}
		switch (c) {
		case 's':
			opt.seconds = v;
			break;
		case 't':
			opt.threads = (unsigned)v;
			break;
		case 'b':
			opt.blocks = (uint64_t)v;
			break;
		case 'S':
			opt.seed = (uint64_t)v;
			break;
		case 'T':
			opt.timeout_ms = (uint64_t)v;
			break;
		case 'r':
			opt.restart_every = v;
			break;
		case 'p':
			opt.spawn = true;
			opt.devsim = optarg;
			break;
		case 'd':
			opt.dir = optarg;
			break;
		case 'f':
			if (opt.nrules == MAX_RULES) {
				fprintf(stderr, "drvsoak: at most %d --fault rules\n", MAX_RULES);
				return 2;
			}
			opt.rules[opt.nrules++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || opt.threads < 1 || opt.threads > MAX_THREADS ||
	    opt.blocks < opt.threads * OP_BLOCKS || opt.seed == 0 || opt.timeout_ms == 0) {
		fprintf(stderr,
			"drvsoak: 1 to %d threads, at least %d blocks per thread, a seed and a "
			"timeout above 0\n",
			MAX_THREADS, OP_BLOCKS);
		usage(stderr);
		return 2;
	}
	if (opt.restart_every && !opt.spawn) {
		fprintf(stderr,
			"drvsoak: --restart-every needs --spawn DEVSIM (a process to kill)\n");
		return 2;
	}
	char tmp[] = "/tmp/drvsoak.XXXXXX";
	const char *dir = opt.dir ? opt.dir : mkdtemp(tmp);
	if (!dir) {
		perror("drvsoak: mkdtemp");
		return 2;
	}
	snprintf(sock_path, sizeof sock_path, "%s/dsim.sock", dir);
	snprintf(backing, sizeof backing, "%s/backing.img", dir);
	snprintf(devsim_log, sizeof devsim_log, "%s/devsim.log", dir);
	unlink(backing);
	if (soak_model_init(&model, opt.blocks)) {
		fprintf(stderr, "drvsoak: out of memory for %" PRIu64 " blocks\n", opt.blocks);
		return 2;
	}
	int rc = run();
	unlink(backing);
	unlink(sock_path);
	unlink(devsim_log);
	if (!opt.dir)
		rmdir(dir);
	soak_model_fini(&model);
	return rc;
}
