/* SPDX-License-Identifier: MIT */
/*
 * An outside program with its own driver: mydsim (mydsim.c) registers when
 * the program loads, is chosen by name with drv_open_driver(), and then
 * serves the ordinary application API: buffered and direct I/O, NOP,
 * waiting for one, all or through the queue fd, callbacks, cancellation,
 * refused operations, queues in every completion mode, teardown with a
 * request pending. drv_open() without a name must still pick the built-in
 * dsim. Prints OK only when every check passed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <drv/drv.h>
#include <drv/driver.h>

#include "mydsim.h"

#define URI "sim:inproc"
/* READs take 10 s (a cancel finds them pending), NOPs 20 ms (a poll() has to wait). */
#define SLOW_URI "sim:inproc?latency=read=fixed:10s,nop=fixed:20ms"
#define SLOW_READ_NS 10000000000ll
#define WAIT_NS 10000000000ll /* generous: the machine may be loaded, or sanitized */
#define WATCHDOG_S 120        /* the whole run takes about a second */
#define STR_(x) #x
#define STR(x) STR_(x)
#define WATCHDOG_TEXT STR(WATCHDOG_S)

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                       \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, " [last drv_errmsg: %s]\n", drv_errmsg());                 \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* The sync helpers wait forever: a driver that loses a completion must not hang the test. */
static void watchdog(int sig)
{
	(void)sig;
	static const char msg[] =
	    "FAIL: still running after " WATCHDOG_TEXT " s: a request never completed\n";
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(1);
}

static void fill(unsigned char *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 131u + i * 7u + (i >> 8));
}

/* Submits one request and waits for it: its status, or the error of the call that failed. */
static int run(drv_queue *q, struct drv_req *r)
{
	struct drv_req *one[1] = { r };
	int rc = drv_submit(q, one, 1);
	if (rc != 1)
		return rc < 0 ? rc : -EAGAIN;
	rc = drv_wait(q, r, WAIT_NS);
	return rc < 0 ? rc : r->status;
}

static void check_info(drv_dev *dev, const char *driver)
{
	struct drv_info info;
	int rc = drv_info(dev, &info);
	CHECK(rc == 0, "drv_info: %d", rc);
	CHECK(strcmp(info.driver, driver) == 0, "drv_info reports driver \"%s\", expected \"%s\"",
	      info.driver, driver);
	if (strcmp(driver, "mydsim") != 0)
		return;
	CHECK(strcmp(info.bus, "sim") == 0, "bus \"%s\"", info.bus);
	CHECK(strncmp(info.model, "mydsim on dsim 1.", 17) == 0, "model \"%s\"", info.model);
	CHECK(info.max_sg == 1 && !(info.features & DRV_FEAT_SGL),
	      "mydsim must report max_sg 1 without SGL (max_sg %u, features %#llx)", info.max_sg,
	      (unsigned long long)info.features);
	CHECK(info.features & DRV_FEAT_ABORT, "devsim's dsim aborts, mydsim should say so");
	CHECK(info.features & DRV_FEAT_STORAGE, "no storage reported");
	CHECK(!(info.features & DRV_FEAT_EVENTS), "mydsim has no events");
	CHECK(info.capacity > 0 && info.max_queues >= 1 && info.max_queue_depth >= 16 &&
		  info.max_transfer >= 65536,
	      "limits: capacity %llu, queues %u, depth %u, transfer %u",
	      (unsigned long long)info.capacity, info.max_queues, info.max_queue_depth,
	      info.max_transfer);
}

/* Plain memory, copied through the queue's bounce buffer: sync helpers and submit/wait. */
static void test_buffered(drv_queue *q)
{
	static unsigned char out[4096], back[4096];
	fill(out, sizeof(out), 1);
	int64_t n = drv_write(q, 0, out, sizeof(out));
	CHECK(n == (int64_t)sizeof(out), "drv_write: %lld", (long long)n);
	n = drv_read(q, 0, back, sizeof(back));
	CHECK(n == (int64_t)sizeof(back), "drv_read: %lld", (long long)n);
	CHECK(memcmp(out, back, sizeof(out)) == 0, "buffered read-back differs");

	struct drv_req w, r;
	fill(out, 512, 2);
	memset(back, 0, sizeof(back));
	drv_prep_write(&w, 8192, out, 512);
	int rc = run(q, &w);
	CHECK(rc == 0 && w.result == 512, "async WRITE: %d, result %llu", rc,
	      (unsigned long long)w.result);
	drv_prep_read(&r, 8192, back, 512);
	rc = run(q, &r);
	CHECK(rc == 0 && r.result == 512, "async READ: %d, result %llu", rc,
	      (unsigned long long)r.result);
	CHECK(memcmp(out, back, 512) == 0, "async buffered read-back differs");
	CHECK(r.complete_ns >= r.submit_ns && r.submit_ns > 0, "timestamps %llu..%llu",
	      (unsigned long long)r.submit_ns, (unsigned long long)r.complete_ns);
}

/* Direct I/O: the device moves the data straight from and into a drv_buf. */
static void test_direct(drv_dev *dev, drv_queue *q)
{
	drv_buf *buf;
	int rc = drv_buf_alloc(dev, 16384, &buf);
	CHECK(rc == 0, "drv_buf_alloc: %d", rc);
	if (rc)
		return;
	unsigned char *p = drv_buf_addr(buf);
	fill(p, 8192, 3);
	struct drv_req w, r;
	drv_prep_write_buf(&w, 65536, buf, 0, 8192);
	rc = run(q, &w);
	CHECK(rc == 0 && w.result == 8192, "direct WRITE: %d, result %llu", rc,
	      (unsigned long long)w.result);
	drv_prep_read_buf(&r, 65536, buf, 8192, 8192);
	rc = run(q, &r);
	CHECK(rc == 0 && r.result == 8192, "direct READ: %d, result %llu", rc,
	      (unsigned long long)r.result);
	CHECK(memcmp(p, p + 8192, 8192) == 0, "direct read-back differs");

	/* What went in directly comes out buffered too: one storage behind both. */
	static unsigned char back[8192];
	int64_t n = drv_read(q, 65536, back, sizeof(back));
	CHECK(n == (int64_t)sizeof(back) && memcmp(back, p, sizeof(back)) == 0,
	      "buffered read of directly written data: %lld", (long long)n);
	drv_buf_free(buf);
}

static void test_nop(drv_queue *q)
{
	struct drv_req r;
	drv_prep_nop(&r);
	int rc = run(q, &r);
	CHECK(rc == 0 && r.result == 0, "NOP: %d", rc);
}

/* Many requests with one doorbell, then drv_wait_all and drv_wait_any. */
#define BATCH 8
#define BLOCK 1024
static void test_batch(drv_queue *q)
{
	static unsigned char out[BATCH][BLOCK], back[BATCH][BLOCK];
	struct drv_req w[BATCH], r[BATCH];
	struct drv_req *reqs[BATCH];
	for (unsigned i = 0; i < BATCH; i++) {
		fill(out[i], BLOCK, 10 + i);
		drv_prep_write(&w[i], (1u << 20) + i * BLOCK, out[i], BLOCK);
		reqs[i] = &w[i];
	}
	int rc = drv_submit(q, reqs, BATCH);
	CHECK(rc == BATCH, "batch submit of %d WRITEs: %d", BATCH, rc);
	rc = drv_wait_all(q, reqs, BATCH, WAIT_NS);
	CHECK(rc == 0, "drv_wait_all: %d", rc);
	for (unsigned i = 0; i < BATCH; i++)
		CHECK(w[i].status == 0 && w[i].result == BLOCK, "batch WRITE %u: %d", i,
		      w[i].status);

	for (unsigned i = 0; i < BATCH; i++) {
		drv_prep_read(&r[i], (1u << 20) + i * BLOCK, back[i], BLOCK);
		reqs[i] = &r[i];
	}
	rc = drv_submit(q, reqs, BATCH);
	CHECK(rc == BATCH, "batch submit of %d READs: %d", BATCH, rc);
	rc = drv_wait_any(q, reqs, BATCH, WAIT_NS);
	CHECK(rc >= 0 && rc < BATCH && drv_req_done(reqs[rc]), "drv_wait_any: %d", rc);
	rc = drv_wait_all(q, reqs, BATCH, WAIT_NS);
	CHECK(rc == 0, "drv_wait_all: %d", rc);
	for (unsigned i = 0; i < BATCH; i++)
		CHECK(r[i].status == 0 && memcmp(out[i], back[i], BLOCK) == 0,
		      "batch READ %u: %d, or its data differs", i, r[i].status);
}

struct cb_seen {
	int calls;
	int status;
	uint64_t result;
};

static void on_done(struct drv_req *req, void *user_data)
{
	struct cb_seen *seen = user_data;
	seen->calls++;
	seen->status = req->status;
	seen->result = req->result;
}

static void test_callback(drv_queue *q)
{
	static unsigned char back[256];
	struct cb_seen seen = { 0 };
	struct drv_req r;
	drv_prep_read(&r, 0, back, sizeof(back));
	r.cb = on_done;
	r.user_data = &seen;
	struct drv_req *one[1] = { &r };
	int rc = drv_submit(q, one, 1);
	CHECK(rc == 1, "submit with a callback: %d", rc);
	rc = drv_wait(q, &r, WAIT_NS);
	CHECK(rc == 0, "drv_wait for a callback request: %d", rc);
	CHECK(seen.calls == 1 && seen.status == 0 && seen.result == sizeof(back),
	      "callback ran %d time(s), status %d, result %llu", seen.calls, seen.status,
	      (unsigned long long)seen.result);
}

/* What mydsim does not carry completes with -EOPNOTSUPP; the queue goes on. */
static void test_unsupported(drv_queue *q)
{
	struct drv_req f;
	drv_prep_flush(&f);
	int rc = run(q, &f);
	CHECK(rc == -EOPNOTSUPP && f.status == -EOPNOTSUPP, "FLUSH: %d, status %d", rc, f.status);
	rc = drv_flush(q);
	CHECK(rc == -EOPNOTSUPP, "drv_flush: %d", rc);
	CHECK(strstr(drv_errmsg(), "mydsim") != NULL, "the refusal should name mydsim: \"%s\"",
	      drv_errmsg());
	char out[16];
	int64_t n = drv_control(q, 2, "echo", 4, out, sizeof(out));
	CHECK(n == -EOPNOTSUPP, "CONTROL: %lld", (long long)n);
	n = drv_wait_event(q, out, sizeof(out), 0);
	CHECK(n == -EOPNOTSUPP, "WAIT_EVENT without DRV_FEAT_EVENTS: %lld", (long long)n);
	test_nop(q);
}

/* Other completion modes, small rings and more hardware queues. */
static void test_modes(drv_dev *dev)
{
	static const enum drv_cmode modes[] = { DRV_CMODE_POLL, DRV_CMODE_HYBRID, DRV_CMODE_IRQ };
	for (unsigned i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct drv_queue_opts o = { .depth = 1u + i * 3u, .cmode = modes[i] };
		drv_queue *q;
		int rc = drv_queue_create(dev, &o, &q);
		CHECK(rc == 0, "queue in mode %d, depth %u: %d", (int)modes[i], o.depth, rc);
		if (rc)
			continue;
		unsigned char out[300], back[300];
		for (unsigned k = 0; k < 4; k++) {
			uint64_t off = (2u << 20) + (i * 4u + k) * 512u;
			fill(out, sizeof(out), 40 + i * 4 + k);
			int64_t n = drv_write(q, off, out, sizeof(out));
			int64_t m = drv_read(q, off, back, sizeof(back));
			CHECK(n == (int64_t)sizeof(out) && m == (int64_t)sizeof(back) &&
				  memcmp(out, back, sizeof(out)) == 0,
			      "mode %d: write %lld, read %lld, or data differs", (int)modes[i],
			      (long long)n, (long long)m);
		}
		test_nop(q);
		rc = drv_queue_destroy(q);
		CHECK(rc == 0, "drv_queue_destroy: %d", rc);
	}
	/* Refused queue options: mydsim neither coalesces nor lets the device poll. */
	struct drv_queue_opts o = { .coalesce_count = 4 };
	drv_queue *q = NULL;
	int rc = drv_queue_create(dev, &o, &q);
	CHECK(rc == -EOPNOTSUPP && q == NULL, "coalescing queue: %d", rc);
	o = (struct drv_queue_opts){ .device_poll = 1 };
	rc = drv_queue_create(dev, &o, &q);
	CHECK(rc == -EOPNOTSUPP && q == NULL, "device_poll queue: %d", rc);
}

/* A pending READ is cancelled: the device aborts it long before its 10 s are up. */
static void test_cancel(drv_queue *q)
{
	static unsigned char back[4096];
	memset(back, 0xa5, sizeof(back));
	struct drv_req r;
	drv_prep_read(&r, 0, back, sizeof(back));
	struct drv_req *one[1] = { &r };
	int rc = drv_submit(q, one, 1);
	CHECK(rc == 1, "submit of a slow READ: %d", rc);
	if (rc != 1)
		return;
	CHECK(drv_test(q, &r) == -EINPROGRESS, "a 10 s READ should still be pending");
	rc = drv_cancel(q, &r);
	CHECK(rc == 0, "drv_cancel: %d", rc);
	rc = drv_wait(q, &r, WAIT_NS + SLOW_READ_NS);
	CHECK(rc == 0, "drv_wait after cancel: %d", rc);
	CHECK(r.status == -ECANCELED, "cancelled READ ended with %d, expected -ECANCELED",
	      r.status);
	uint64_t took = r.complete_ns - r.submit_ns;
	CHECK(took < (uint64_t)SLOW_READ_NS / 2, "the cancel took %llu ms: was it aborted?",
	      (unsigned long long)(took / 1000000));
	unsigned char untouched[sizeof(back)];
	memset(untouched, 0xa5, sizeof(untouched));
	CHECK(memcmp(back, untouched, sizeof(back)) == 0, "an aborted READ wrote the buffer");
	rc = drv_cancel(q, &r);
	CHECK(rc == -ENOENT, "cancel of a finished request: %d", rc);
	struct drv_queue_stats st;
	rc = drv_queue_stats(q, &st);
	CHECK(rc == 0 && st.cancelled == 1 && st.in_flight == 0 && st.rejected == 0,
	      "stats: cancelled %llu, in flight %u, rejected %llu",
	      (unsigned long long)st.cancelled, st.in_flight, (unsigned long long)st.rejected);
}

/* Waiting the way an event loop does: poll() the queue fd, then drv_reap without blocking. */
static void test_poll_fd(drv_queue *q)
{
	int fd = drv_queue_fd(q);
	CHECK(fd >= 0, "drv_queue_fd: %d", fd);
	if (fd < 0)
		return;
	struct drv_req r[2];
	struct drv_req *reqs[2] = { &r[0], &r[1] };
	drv_prep_nop(&r[0]);
	drv_prep_nop(&r[1]);
	int rc = drv_submit(q, reqs, 2);
	CHECK(rc == 2, "submit of two 20 ms NOPs: %d", rc);
	if (rc != 2)
		return;
	unsigned got = 0, wakeups = 0;
	uint64_t give_up = drv_now_ns() + (uint64_t)WAIT_NS;
	while (got < 2 && drv_now_ns() < give_up) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		rc = poll(&pfd, 1, 1000);
		CHECK(rc >= 0, "poll: %s", strerror(errno));
		if (rc < 0)
			break;
		if (rc > 0)
			wakeups++;
		/* Edge-like: reap until a call returns fewer than asked for. */
		struct drv_req *out[2];
		int n;
		do {
			n = drv_reap(q, out, 2, 0, 0);
			CHECK(n >= 0, "drv_reap: %d", n);
			for (int i = 0; i < n; i++) {
				CHECK(out[i] == &r[0] || out[i] == &r[1], "reaped a stranger");
				CHECK(out[i]->status == 0, "NOP via poll: %d", out[i]->status);
			}
			got += n > 0 ? (unsigned)n : 0;
		} while (n == 2);
	}
	CHECK(got == 2, "reaped %u of 2 NOPs through the queue fd", got);
	CHECK(wakeups >= 1, "poll() never reported the queue fd readable");
}

/* drv_close with a request pending: the request ends (-ECANCELED) before close returns. */
static void test_close_pending(drv_dev *dev, drv_queue *q)
{
	static unsigned char back[512];
	static struct drv_req r; /* requests must outlive drv_close */
	drv_prep_read(&r, 0, back, sizeof(back));
	struct drv_req *one[1] = { &r };
	int rc = drv_submit(q, one, 1);
	CHECK(rc == 1, "submit before close: %d", rc);
	uint64_t start = drv_now_ns();
	rc = drv_close(dev);
	CHECK(rc == 0, "drv_close with a request pending: %d", rc);
	CHECK(drv_req_done(&r) && r.status == -ECANCELED,
	      "request pending at close ended with %d, expected -ECANCELED", r.status);
	CHECK(drv_now_ns() - start < (uint64_t)SLOW_READ_NS / 2, "close waited for the slow READ");
}

/* Registration as seen from outside: duplicates, unregistering in use, and again. */
static void test_registry(void)
{
	int rc = drv_driver_register(&mydsim_driver);
	CHECK(rc == -EEXIST, "registering mydsim a second time: %d, expected -EEXIST", rc);

	drv_dev *dev;
	rc = drv_open(URI, NULL, &dev);
	CHECK(rc == 0, "drv_open(%s): %d", URI, rc);
	if (rc == 0) {
		check_info(dev, "dsim"); /* by ids: mydsim has none, the built-in dsim serves */
		drv_close(dev);
	}
}

static void test_unregister(void)
{
	drv_dev *dev;
	int rc = drv_open_driver(URI, "mydsim", NULL, &dev);
	CHECK(rc == 0, "drv_open_driver: %d", rc);
	if (rc == 0) {
		rc = drv_driver_unregister(&mydsim_driver);
		CHECK(rc == -EBUSY, "unregistering mydsim while it serves a device: %d", rc);
		drv_close(dev);
	}
	rc = drv_driver_unregister(&mydsim_driver);
	CHECK(rc == 0, "drv_driver_unregister: %d", rc);
	dev = NULL;
	rc = drv_open_driver(URI, "mydsim", NULL, &dev);
	CHECK(rc == -ENODEV && dev == NULL, "drv_open_driver of an unregistered driver: %d", rc);
	if (rc == 0)
		drv_close(dev);
	rc = drv_driver_register(&mydsim_driver);
	CHECK(rc == 0, "registering mydsim again: %d", rc);
}

int main(void)
{
	signal(SIGALRM, watchdog);
	alarm(WATCHDOG_S);
	test_registry();

	drv_dev *dev;
	int rc = drv_open_driver(URI, "mydsim", NULL, &dev);
	if (rc < 0) {
		fprintf(stderr, "drv_open_driver(%s, mydsim): %s\n", URI, drv_errmsg());
		return 1;
	}
	check_info(dev, "mydsim");
	drv_queue *q;
	struct drv_queue_opts o = { .depth = 16 };
	rc = drv_queue_create(dev, &o, &q);
	if (rc < 0) {
		fprintf(stderr, "drv_queue_create: %s\n", drv_errmsg());
		drv_close(dev);
		return 1;
	}
	test_buffered(q);
	test_direct(dev, q);
	test_nop(q);
	test_batch(q);
	test_callback(q);
	test_unsupported(q);
	test_modes(dev);
	struct drv_queue_stats st;
	rc = drv_queue_stats(q, &st);
	/* Requests refused at submit (FLUSH, CONTROL, WAIT_EVENT) count in neither. */
	CHECK(rc == 0 && st.submitted >= 20 && st.completed == st.submitted && st.rejected == 0 &&
		  st.in_flight == 0,
	      "stats: submitted %llu, completed %llu, rejected %llu, in flight %u",
	      (unsigned long long)st.submitted, (unsigned long long)st.completed,
	      (unsigned long long)st.rejected, st.in_flight);
	rc = drv_queue_destroy(q);
	CHECK(rc == 0, "drv_queue_destroy: %d", rc);
	rc = drv_close(dev);
	CHECK(rc == 0, "drv_close: %d", rc);

	rc = drv_open_driver(SLOW_URI, "mydsim", NULL, &dev);
	if (rc < 0) {
		fprintf(stderr, "drv_open_driver(%s, mydsim): %s\n", SLOW_URI, drv_errmsg());
		return 1;
	}
	rc = drv_queue_create(dev, NULL, &q);
	if (rc < 0) {
		fprintf(stderr, "drv_queue_create: %s\n", drv_errmsg());
		drv_close(dev);
		return 1;
	}
	test_cancel(q);
	test_poll_fd(q);
	test_close_pending(dev, q);

	test_unregister();

	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("OK: out-of-tree driver mydsim served libdrv %d.%d's application API\n",
	       DRV_VERSION_MAJOR, DRV_VERSION_MINOR);
	return 0;
}
