/* SPDX-License-Identifier: MIT */
/*
 * edu_check: runs inside the QEMU guest against the real `-device edu`,
 * through libdrv's public API only, and exits 0 when every check passed.
 *
 *   edu_check uio | vfio | vfio-intx
 *
 * finds the edu function in sysfs, opens it as uio:ADDR, vfio:ADDR or
 * vfio:ADDR?irq=intx and checks identity, liveness, factorials with
 * interrupts, DMA round trips, many queued requests completing in order,
 * cancellation, the limit errors (the VM must survive them), raise ->
 * WAIT_EVENT, polled completions, and destroying a busy queue.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drv/drv.h>
#include <drv/edu.h>

#define WAIT_NS (60ll * 1000000000ll)
#define ROUNDS 6
#define NBUFS (2 * ROUNDS)

static int failures;

__attribute__((format(printf, 2, 3))) static void check(int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s - ", ok ? "ok" : "FAIL");
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf("  [%s]", drv_errmsg());
	printf("\n");
	fflush(stdout);
	failures += !ok;
}

struct ctx {
	drv_dev *dev;
	drv_queue *q;
	drv_buf *buf[NBUFS];
	enum drv_irq_mode want_irq;
};

static int submit_wait(struct ctx *c, struct drv_req *const reqs[], unsigned n)
{
	int got = drv_submit(c->q, reqs, n);
	if (got != (int)n)
		return got < 0 ? got : -EAGAIN;
	return drv_wait_all(c->q, reqs, n, WAIT_NS);
}

static int64_t control(struct ctx *c, uint32_t code, uint64_t arg, int *status)
{
	struct drv_req r;
	drv_prep_control(&r, code, NULL, 0, NULL, 0);
	r.arg[0] = arg;
	struct drv_req *one[1] = { &r };
	int err = submit_wait(c, one, 1);
	*status = err ? err : r.status;
	return (int64_t)r.result;
}

static void fill(drv_buf *b, size_t len, unsigned seed)
{
	uint8_t *p = drv_buf_addr(b);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed * 101 + 5);
}

static void check_registers(struct ctx *c)
{
	int st;
	int64_t id = control(c, EDU_CTL_IDENTITY, 0, &st);
	check(st == 0 && id == EDU_IDENTITY, "identity reads 0x%llx", (unsigned long long)id);
	int64_t inv = control(c, EDU_CTL_LIVENESS, 0x12345678, &st);
	check(st == 0 && inv == 0xedcba987, "liveness inverts 0x12345678 to 0x%llx",
	      (unsigned long long)inv);
}

static void check_factorials(struct ctx *c)
{
	static const uint32_t n[] = { 0, 1, 5, 10, 12, 13, 20 };
	enum { N = sizeof(n) / sizeof(n[0]) };
	struct drv_req r[N];
	struct drv_req *p[N];
	for (unsigned i = 0; i < N; i++) {
		drv_prep_control(&r[i], EDU_CTL_FACTORIAL, NULL, 0, NULL, 0);
		r[i].arg[0] = n[i];
		p[i] = &r[i];
	}
	struct drv_queue_stats before, after;
	drv_queue_stats(c->q, &before);
	int err = submit_wait(c, p, N);
	drv_queue_stats(c->q, &after);
	for (unsigned i = 0; i < N; i++) {
		uint32_t want = 1;
		for (uint32_t k = 2; k <= n[i]; k++)
			want *= k;
		check(!err && r[i].status == 0 && r[i].result == want, "%u! = %llu (want %u)", n[i],
		      (unsigned long long)r[i].result, want);
	}
	if (c->want_irq != DRV_IRQ_NONE)
		check(after.interrupts > before.interrupts,
		      "factorials completed through interrupts (%llu wake-ups)",
		      (unsigned long long)(after.interrupts - before.interrupts));
}

static void check_round_trip(struct ctx *c)
{
	/* Direct I/O: the largest transfer edu can take. */
	struct drv_req w, r;
	fill(c->buf[0], EDU_CAPACITY, 1);
	memset(drv_buf_addr(c->buf[1]), 0, 4096);
	drv_prep_write_buf(&w, 0, c->buf[0], 0, EDU_CAPACITY);
	drv_prep_read_buf(&r, 0, c->buf[1], 0, EDU_CAPACITY);
	struct drv_req *both[2] = { &w, &r };
	int err = submit_wait(c, both, 2);
	check(!err && w.status == 0 && r.status == 0 && r.result == EDU_CAPACITY &&
		  !memcmp(drv_buf_addr(c->buf[0]), drv_buf_addr(c->buf[1]), EDU_CAPACITY),
	      "DMA round trip of 4095 bytes (direct I/O) took %.1f ms + %.1f ms",
	      (double)(w.complete_ns - w.submit_ns) / 1e6,
	      (double)(r.complete_ns - w.complete_ns) / 1e6);

	/* Buffered I/O at the very end of the reachable range. */
	char out[1000], in[1000] = { 0 };
	for (unsigned i = 0; i < sizeof(out); i++)
		out[i] = (char)(i ^ 0x5a);
	drv_prep_write(&w, EDU_CAPACITY - sizeof(out), out, sizeof(out));
	drv_prep_read(&r, EDU_CAPACITY - sizeof(out), in, sizeof(in));
	err = submit_wait(c, both, 2);
	check(!err && w.status == 0 && r.status == 0 && !memcmp(in, out, sizeof(in)),
	      "DMA round trip of 1000 bytes at offset 3095 (buffered I/O)");
}

static void check_queued_in_order(struct ctx *c)
{
	struct drv_req r[NBUFS];
	struct drv_req *p[NBUFS];
	for (unsigned i = 0; i < ROUNDS; i++) {
		fill(c->buf[2 * i], 512, 10 + i);
		memset(drv_buf_addr(c->buf[2 * i + 1]), 0, 512);
		drv_prep_write_buf(&r[2 * i], 64, c->buf[2 * i], 0, 512);
		drv_prep_read_buf(&r[2 * i + 1], 64, c->buf[2 * i + 1], 0, 512);
	}
	for (unsigned i = 0; i < NBUFS; i++)
		p[i] = &r[i];
	struct drv_queue_stats before, after;
	drv_queue_stats(c->q, &before);
	int err = submit_wait(c, p, NBUFS);
	drv_queue_stats(c->q, &after);
	int in_order = 1, data_ok = 1, status_ok = !err;
	for (unsigned i = 0; i < NBUFS; i++) {
		status_ok &= r[i].status == 0;
		if (i)
			in_order &= r[i].complete_ns >= r[i - 1].complete_ns;
		if (i % 2)
			data_ok &=
			    !memcmp(drv_buf_addr(c->buf[i]), drv_buf_addr(c->buf[i - 1]), 512);
	}
	double total = (double)(r[NBUFS - 1].complete_ns - r[0].submit_ns) / 1e6;
	check(status_ok, "%u queued transfers all succeeded", NBUFS);
	check(in_order, "they completed in submission order");
	check(data_ok, "each read saw the write just before it");
	/* Each transfer starts only after the previous one's completion was processed. */
	uint64_t irqs = after.interrupts - before.interrupts;
	check(irqs >= NBUFS, "each completion arrived as an interrupt (%llu wake-ups, %llu sleeps)",
	      (unsigned long long)irqs, (unsigned long long)(after.sleeps - before.sleeps));
	printf("# %u transfers in one batch: %.1f ms, %.1f ms each\n", NBUFS, total, total / NBUFS);
}

static void check_cancel(struct ctx *c)
{
	struct drv_req r[4];
	struct drv_req *p[4];
	for (unsigned i = 0; i < 4; i++) {
		drv_prep_write_buf(&r[i], 0, c->buf[i], 0, 256);
		p[i] = &r[i];
	}
	int got = drv_submit(c->q, p, 4);
	check(got == 4, "submitted 4 transfers");
	if (got != 4)
		return;
	int err = drv_cancel(c->q, &r[2]);
	check(err == 0 && drv_req_done(&r[2]) && r[2].status == -ECANCELED,
	      "a request still queued in the driver is cancelled at once (%d)", r[2].status);
	err = drv_cancel(c->q, &r[0]);
	check(err == 0, "cancel of the running request is accepted");
	err = drv_wait_all(c->q, p, 4, WAIT_NS);
	check(!err && r[0].status == 0 && r[0].result == 256,
	      "the running request still finishes with its data (edu cannot stop a DMA)");
	check(r[1].status == 0 && r[3].status == 0, "the others complete normally");
	check(r[3].complete_ns >= r[1].complete_ns, "and in order");
}

static void expect_error(struct ctx *c, struct drv_req *r, int want, const char *what)
{
	struct drv_req *one[1] = { r };
	int err = submit_wait(c, one, 1);
	check(!err && r->status == want, "%s fails with %d (got %d)", what, want, r->status);
}

static void check_limits(struct ctx *c)
{
	struct drv_req r;
	drv_prep_write_buf(&r, 0, c->buf[0], 0, 4096);
	expect_error(c, &r, -E2BIG, "a 4096-byte transfer");
	drv_prep_read_buf(&r, 1, c->buf[0], 0, 4095);
	expect_error(c, &r, -ERANGE, "offset 1 + 4095 bytes");
	drv_prep_read_buf(&r, 96, c->buf[0], 0, 4000);
	expect_error(c, &r, -ERANGE, "offset 96 + 4000 bytes (ends at 4096)");
	struct drv_sge sgl[2] = { { c->buf[0], 0, 64 }, { c->buf[1], 0, 64 } };
	drv_prep_rw_sgl(&r, DRV_OP_WRITE, 0, sgl, 2);
	expect_error(c, &r, -E2BIG, "a 2-entry scatter-gather list");
	drv_prep_control(&r, EDU_CTL_RAISE, NULL, 0, NULL, 0);
	r.arg[0] = 0x100;
	expect_error(c, &r, -EINVAL, "raising the DMA bit 0x100");
	drv_prep_control(&r, 77, NULL, 0, NULL, 0);
	expect_error(c, &r, -EOPNOTSUPP, "unknown control code 77");
	drv_prep_control(&r, EDU_CTL_FACTORIAL, NULL, 0, NULL, 0);
	r.arg[0] = 1ull << 32;
	expect_error(c, &r, -EINVAL, "factorial of 2^32");
	int st;
	int64_t id = control(c, EDU_CTL_IDENTITY, 0, &st);
	check(st == 0 && id == EDU_IDENTITY, "the device still answers after the refusals");
}

static void check_events(struct ctx *c)
{
	uint32_t v[2] = { 0, 0 };
	struct drv_req ev[2], raise[2];
	drv_prep_wait_event(&ev[0], &v[0], sizeof(v[0]));
	drv_prep_wait_event(&ev[1], &v[1], sizeof(v[1]));
	drv_prep_control(&raise[0], EDU_CTL_RAISE, NULL, 0, NULL, 0);
	raise[0].arg[0] = 0x1000;
	drv_prep_control(&raise[1], EDU_CTL_RAISE, NULL, 0, NULL, 0);
	raise[1].arg[0] = 0x20000;
	struct drv_req *all[4] = { &ev[0], &ev[1], &raise[0], &raise[1] };
	int err = submit_wait(c, all, 4);
	check(!err && ev[0].status == 0 && ev[0].result == 4 && v[0] == 0x1000,
	      "first parked WAIT_EVENT received 0x%x", v[0]);
	check(!err && ev[1].status == 0 && v[1] == 0x20000,
	      "second parked WAIT_EVENT received 0x%x", v[1]);

	drv_prep_wait_event(&ev[0], &v[0], sizeof(v[0]));
	struct drv_req *one[1] = { &ev[0] };
	check(drv_submit(c->q, one, 1) == 1, "parked one more WAIT_EVENT");
	check(drv_cancel(c->q, &ev[0]) == 0 && drv_wait(c->q, &ev[0], WAIT_NS) == 0 &&
		  ev[0].status == -ECANCELED,
	      "a parked WAIT_EVENT is cancelled");
}

static int open_queue(struct ctx *c, enum drv_cmode cmode)
{
	struct drv_queue_opts o = { .depth = 32, .cmode = cmode };
	int err = drv_queue_create(c->dev, &o, &c->q);
	check(err == 0, "queue created (%s)", cmode == DRV_CMODE_POLL ? "polled" : "interrupts");
	return err;
}

static void check_polled(struct ctx *c)
{
	drv_queue_destroy(c->q);
	c->q = NULL;
	if (open_queue(c, DRV_CMODE_POLL))
		return;
	struct drv_queue_stats st;
	check_round_trip(c);
	int s;
	check(control(c, EDU_CTL_FACTORIAL, 8, &s) == 40320 && s == 0,
	      "polled factorial 8! = 40320");
	drv_queue_stats(c->q, &st);
	check(st.interrupts == 0, "no interrupt was used while polling");
}

/*
 * drv_reset with DMA and factorials queued: each ends once, then edu works
 * as before, its interrupts included (the bus may hand out new interrupt fds).
 */
static void check_reset(struct ctx *c)
{
	struct drv_req r[NBUFS];
	struct drv_req *p[NBUFS];
	for (unsigned i = 0; i < NBUFS; i++) {
		if (i % 2)
			drv_prep_write_buf(&r[i], 0, c->buf[i], 0, 4095);
		else
			drv_prep_control(&r[i], EDU_CTL_FACTORIAL, NULL, 0, NULL, 0);
		r[i].arg[0] = 12;
		p[i] = &r[i];
	}
	int n = drv_submit(c->q, p, NBUFS);
	int err = drv_reset(c->dev);
	check(n == NBUFS && err == 0, "reset with %d requests queued: %s", n,
	      err ? drv_errmsg() : "done");
	unsigned ended = 0, finished = 0, other = 0;
	for (int i = 0; i < n; i++) {
		drv_wait(c->q, &r[i], -1);
		if (r[i].status == -ECONNRESET)
			ended++;
		else if (r[i].status == 0)
			finished++;
		else
			other++;
	}
	check(other == 0, "%u ended by the reset, %u finished before it, %u otherwise", ended,
	      finished, other);
	struct drv_health h;
	drv_health(c->dev, &h);
	check(h.state == DRV_HEALTH_OK && h.resets == 1, "health %d after %llu reset(s)", h.state,
	      (unsigned long long)h.resets);
	check_registers(c);
	check_factorials(c);
	check_round_trip(c);
}

static void check_destroy_busy(struct ctx *c)
{
	drv_queue_destroy(c->q);
	c->q = NULL;
	if (open_queue(c, DRV_CMODE_IRQ))
		return;
	struct drv_req r[3];
	struct drv_req *p[3];
	for (unsigned i = 0; i < 3; i++) {
		drv_prep_write_buf(&r[i], 0, c->buf[i], 0, 128);
		p[i] = &r[i];
	}
	check(drv_submit(c->q, p, 3) == 3, "submitted 3 transfers before destroying the queue");
	drv_queue_destroy(c->q);
	c->q = NULL;
	check(r[0].status == 0 && r[1].status == -ECANCELED && r[2].status == -ECANCELED,
	      "destroy let the running transfer finish and cancelled the queued ones (%d %d %d)",
	      r[0].status, r[1].status, r[2].status);
	if (open_queue(c, DRV_CMODE_IRQ) == 0)
		check_round_trip(c);
}

/* Scans sysfs itself: the guest has no pci.ids, and libpci's fallback leaks under ASan. */
static int find_edu(char *addr, size_t len)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	if (!dir)
		return -errno;
	int err = -ENODEV;
	struct dirent *e;
	while (err && (e = readdir(dir))) {
		char path[512];
		unsigned vendor = 0, device = 0;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		int ok = fscanf(f, "%x", &vendor) == 1;
		fclose(f);
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		ok &= fscanf(f, "%x", &device) == 1;
		fclose(f);
		size_t name_len = strlen(e->d_name);
		if (ok && vendor == 0x1234 && device == 0x11e8 && name_len < len) {
			memcpy(addr, e->d_name, name_len + 1);
			err = 0;
		}
	}
	closedir(dir);
	return err;
}

int main(int argc, char **argv)
{
	if (argc != 2 ||
	    (strcmp(argv[1], "uio") && strcmp(argv[1], "vfio") && strcmp(argv[1], "vfio-intx"))) {
		fprintf(stderr, "usage: edu_check uio|vfio|vfio-intx\n");
		return 2;
	}
	char addr[32], uri[64];
	if (find_edu(addr, sizeof(addr))) {
		fprintf(stderr, "edu_check: no 1234:11e8 PCI function\n");
		return 1;
	}
	struct ctx c = { .want_irq = DRV_IRQ_INTX };
	if (!strcmp(argv[1], "uio")) {
		snprintf(uri, sizeof(uri), "uio:%s", addr);
	} else if (!strcmp(argv[1], "vfio")) {
		snprintf(uri, sizeof(uri), "vfio:%s", addr);
		c.want_irq = DRV_IRQ_MSI;
	} else {
		snprintf(uri, sizeof(uri), "vfio:%s?irq=intx", addr);
	}
	int err = drv_open(uri, NULL, &c.dev);
	check(err == 0, "open %s", uri);
	if (err)
		return 1;
	struct drv_info info;
	drv_info(c.dev, &info);
	check(!strcmp(info.driver, "edu") && info.irq_mode == c.want_irq,
	      "driver %s, interrupts %s", info.driver, drv_irq_mode_name(info.irq_mode));
	check(info.max_transfer == 4095 && info.capacity == EDU_CAPACITY && info.max_sg == 1,
	      "limits: %u bytes per transfer, %llu reachable, %u segment", info.max_transfer,
	      (unsigned long long)info.capacity, info.max_sg);
	for (unsigned i = 0; i < NBUFS && !err; i++)
		err = drv_buf_alloc(c.dev, 4096, &c.buf[i]);
	check(err == 0, "allocated %u DMA buffers", NBUFS);
	if (!err && !open_queue(&c, DRV_CMODE_IRQ)) {
		check_registers(&c);
		check_factorials(&c);
		check_round_trip(&c);
		check_queued_in_order(&c);
		check_cancel(&c);
		check_limits(&c);
		check_events(&c);
		check_reset(&c);
		check_polled(&c);
		check_destroy_busy(&c);
	}
	if (c.q)
		drv_queue_destroy(c.q);
	for (unsigned i = 0; i < NBUFS; i++)
		drv_buf_free(c.buf[i]);
	drv_close(c.dev);
	printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
	return failures ? 1 : 0;
}
