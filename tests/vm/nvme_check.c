/* SPDX-License-Identifier: MIT */
/*
 * nvme_check: runs inside the QEMU guest against QEMU's NVMe controller,
 * through libdrv's public API only, and exits 0 when every check passed.
 *
 *   nvme_check uio | vfio | vfio-intx [write SEED | verify SEED | events]
 *   nvme_check kernel DEVICE verify SEED
 *
 * finds the NVMe function in sysfs and opens it as uio:ADDR, vfio:ADDR or
 * vfio:ADDR?irq=intx. Checks the controller's description, writes and
 * reads back with many requests in flight in each completion mode (direct
 * I/O through DMA buffers, buffered I/O from plain memory, transfers that
 * need PRP lists, a data pointer inside a page), NOP and FLUSH, the errors
 * for unaligned and out-of-range requests, two queues at once, and a close
 * with requests pending, and the control codes of drv/nvme.h. `write SEED`
 * leaves a pattern at the end of the namespace and flushes; `verify SEED`,
 * in a later boot, finds it there. `events` waits for asynchronous events
 * that the host raises through QMP (tests/vm/qmp.py --smart-toggle).
 * `kernel DEVICE verify SEED` looks for the pattern through the kernel's
 * own driver instead (DEVICE is its block device, read with O_DIRECT).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drv/drv.h>
#include <drv/nvme.h>

#define WAIT_NS (60ll * 1000000000ll)
#define BLOCK 4096u
#define INFLIGHT 48
#define PERSIST_BYTES (256u * 1024)

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

/* The first function whose class is NVMe (01 08 02). */
static int find_nvme(char *addr, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int found = 0;
	while (d && !found && (e = readdir(d))) {
		char path[300], class[16] = "";
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		found = fgets(class, sizeof(class), f) && strncmp(class, "0x010802", 8) == 0;
		fclose(f);
		if (found)
			snprintf(addr, len, "%.63s", e->d_name);
	}
	if (d)
		closedir(d);
	return found;
}

static uint8_t pattern(uint32_t seed, uint64_t off)
{
	uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ull ^ seed;
	return (uint8_t)(x >> 29);
}

static void fill(void *p, size_t len, uint64_t off, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)p)[i] = pattern(seed, off + i);
}

static int matches(const void *p, size_t len, uint64_t off, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		if (((const uint8_t *)p)[i] != pattern(seed, off + i))
			return 0;
	return 1;
}

static const char *mode_name(enum drv_cmode m)
{
	return m == DRV_CMODE_IRQ ? "irq" : m == DRV_CMODE_POLL ? "poll" : "hybrid";
}

/* Many 4 KiB writes in flight through DMA buffers, then reads of the same blocks. */
static void direct_io(drv_dev *dev, drv_queue *q, enum drv_cmode mode, uint32_t seed)
{
	drv_buf *buf[INFLIGHT];
	struct drv_req r[INFLIGHT], *rp[INFLIGHT];
	int ok = 1;
	for (unsigned i = 0; i < INFLIGHT; i++) {
		ok &= drv_buf_alloc(dev, BLOCK, &buf[i]) == 0;
		rp[i] = &r[i];
	}
	check(ok, "%s: %u DMA buffers", mode_name(mode), INFLIGHT);
	if (!ok)
		return;
	for (unsigned i = 0; i < INFLIGHT; i++) {
		fill(drv_buf_addr(buf[i]), BLOCK, (uint64_t)i * BLOCK, seed);
		drv_prep_write_buf(&r[i], (uint64_t)i * BLOCK, buf[i], 0, BLOCK);
	}
	int n = drv_submit(q, rp, INFLIGHT);
	check(n == INFLIGHT && drv_wait_all(q, rp, INFLIGHT, WAIT_NS) == 0,
	      "%s: %d writes in flight", mode_name(mode), n);
	for (unsigned i = 0; i < INFLIGHT; i++) {
		ok &= r[i].status == 0 && r[i].result == BLOCK;
		memset(drv_buf_addr(buf[i]), 0, BLOCK);
		drv_prep_read_buf(&r[i], (uint64_t)i * BLOCK, buf[i], 0, BLOCK);
	}
	check(ok, "%s: every write succeeded with its length as result", mode_name(mode));
	n = drv_submit(q, rp, INFLIGHT);
	check(n == INFLIGHT && drv_wait_all(q, rp, INFLIGHT, WAIT_NS) == 0,
	      "%s: %d reads in flight", mode_name(mode), n);
	ok = 1;
	for (unsigned i = 0; i < INFLIGHT; i++)
		ok &= r[i].status == 0 &&
		      matches(drv_buf_addr(buf[i]), BLOCK, (uint64_t)i * BLOCK, seed);
	check(ok, "%s: read back what was written", mode_name(mode));
	for (unsigned i = 0; i < INFLIGHT; i++)
		drv_buf_free(buf[i]);
}

/* Buffered I/O: 128 KiB from plain memory (a PRP list), and a buffer offset inside a page. */
static void buffered_and_prp(drv_dev *dev, drv_queue *q, enum drv_cmode mode, uint32_t seed)
{
	size_t len = 128 * 1024;
	uint64_t off = 1024 * 1024;
	char *data = malloc(len), *back = malloc(len);
	fill(data, len, off, seed);
	check(drv_write(q, off, data, len) == (int64_t)len, "%s: 128 KiB buffered write",
	      mode_name(mode));
	memset(back, 0, len);
	check(drv_read(q, off, back, len) == (int64_t)len && memcmp(back, data, len) == 0,
	      "%s: 128 KiB buffered read back", mode_name(mode));

	drv_buf *buf;
	if (drv_buf_alloc(dev, 3 * BLOCK, &buf) == 0) {
		struct drv_req r;
		char *va = drv_buf_addr(buf);
		drv_prep_read_buf(&r, off, buf, 512, 2 * BLOCK);
		int err = drv_submit(q, (struct drv_req *[]){ &r }, 1) == 1
			      ? drv_wait(q, &r, WAIT_NS)
			      : -1;
		check(err == 0 && r.status == 0 && memcmp(va + 512, data, 2 * BLOCK) == 0,
		      "%s: read into a buffer at offset 512 (PRP1 inside a page)", mode_name(mode));
		drv_buf_free(buf);
	}
	free(data);
	free(back);
}

static void errors(drv_queue *q, const struct drv_info *info)
{
	char block[BLOCK];
	memset(block, 0, sizeof(block));
	int64_t rc = drv_read(q, 100, block, BLOCK);
	check(rc == -EINVAL && strstr(drv_errmsg(), "blocks of"),
	      "unaligned offset: -EINVAL naming the block size (%lld)", (long long)rc);
	rc = drv_read(q, 0, block, 100);
	check(rc == -EINVAL, "length not a whole block: -EINVAL (%lld)", (long long)rc);
	rc = drv_write(q, info->capacity, block, BLOCK);
	check(rc == -ERANGE, "write past the namespace: -ERANGE (%lld)", (long long)rc);
	rc = drv_read(q, info->capacity - BLOCK / 2, block, BLOCK);
	check(rc == -EINVAL || rc == -ERANGE, "read across the end: refused (%lld)", (long long)rc);
	struct drv_req nop;
	drv_prep_nop(&nop);
	check(drv_submit(q, (struct drv_req *[]){ &nop }, 1) == 1 &&
		  drv_wait(q, &nop, WAIT_NS) == 0 && nop.status == 0,
	      "NOP completes");
	check(drv_flush(q) == 0, "FLUSH completes");
	struct drv_queue_stats st;
	check(drv_queue_stats(q, &st) == 0 && st.rejected == 0, "no completion was rejected");
}

/* One CONTROL request with arguments; returns its status, the result in *result. */
static int control(drv_queue *q, uint32_t code, uint64_t arg0, uint64_t arg1, const void *in,
		   size_t in_len, void *out, size_t out_len, uint64_t *result)
{
	struct drv_req r;
	drv_prep_control(&r, code, in, in_len, out, out_len);
	r.arg[0] = arg0;
	r.arg[1] = arg1;
	if (drv_submit(q, (struct drv_req *[]){ &r }, 1) != 1)
		return r.status;
	if (drv_wait(q, &r, WAIT_NS) != 0)
		return -ETIMEDOUT;
	*result = r.result;
	return r.status;
}

static void control_codes(drv_queue *q, const struct drv_info *info)
{
	static uint8_t page[BLOCK];
	uint64_t result = 0;
	int st = control(q, DRV_NVME_CTL_IDENTIFY, 1, 0, NULL, 0, page, sizeof(page), &result);
	check(st == 0 && page[0] == 0x36 && page[1] == 0x1b && memcmp(page + 24, "QEMU", 4) == 0,
	      "Identify Controller: PCI vendor 1b36, model %.14s (%d)", (char *)page + 24, st);
	st = control(q, DRV_NVME_CTL_GET_LOG_PAGE, 2, 0, NULL, 0, page, 512, &result);
	check(st == 0, "Get Log Page SMART / health (%d)", st);
	st = control(q, DRV_NVME_CTL_GET_FEATURES, 7, 0, NULL, 0, NULL, 0, &result);
	check(st == 0 && (result & 0xffff) + 1 >= info->max_queues,
	      "Get Features Number of Queues: %#llx", (unsigned long long)result);
	st = control(q, DRV_NVME_CTL_SET_FEATURES, 7, 0, NULL, 0, NULL, 0, &result);
	check(st == -EPERM, "Set Features Number of Queues refused (%d)", st);
	struct drv_nvme_admin_cmd cmd = { .opcode = 0x06, .nsid = 1 }; /* Identify Namespace */
	memset(page, 0, sizeof(page));
	st = control(q, DRV_NVME_CTL_ADMIN, 0, 0, &cmd, sizeof(cmd), page, sizeof(page), &result);
	uint64_t nsze;
	memcpy(&nsze, page, sizeof(nsze));
	check(st == 0 && nsze && info->capacity % nsze == 0,
	      "admin passthrough Identify Namespace: %llu blocks", (unsigned long long)nsze);
	cmd = (struct drv_nvme_admin_cmd){ .opcode = 0x01 }; /* Create I/O Submission Queue */
	st = control(q, DRV_NVME_CTL_ADMIN, 0, 0, &cmd, sizeof(cmd), NULL, 0, &result);
	check(st == -EPERM, "admin passthrough of a queue command refused (%d)", st);
	st = control(q, 0x4eff, 0, 0, NULL, 0, NULL, 0, &result);
	check(st == -EOPNOTSUPP, "unknown control code: -EOPNOTSUPP (%d)", st);
	st = control(q, DRV_NVME_CTL_IDENTIFY, 1, 0, NULL, 0, page, 512, &result);
	check(st == -EINVAL, "Identify into 512 bytes refused (%d)", st);

	/* A parked WAIT_EVENT can be cancelled: it waits in the driver, not the controller. */
	uint32_t ev = 0;
	struct drv_req w;
	drv_prep_wait_event(&w, &ev, sizeof(ev));
	int ok = drv_submit(q, (struct drv_req *[]){ &w }, 1) == 1 && drv_cancel(q, &w) == 0 &&
		 drv_wait(q, &w, WAIT_NS) == 0 && w.status == -ECANCELED;
	check(ok, "a parked WAIT_EVENT is cancelled (%d)", w.status);
}

/* Events the host raises (SMART critical warning bit 4, set and cleared in turn). */
static void events(drv_queue *q)
{
	for (unsigned i = 0; i < 3; i++) {
		uint32_t ev = 0;
		int64_t n = drv_wait_event(q, &ev, sizeof(ev), 60ll * 1000000000ll);
		check(n == 4 && DRV_NVME_EVENT_TYPE(ev) == 1 && DRV_NVME_EVENT_LOG_PAGE(ev) == 2,
		      "event %u: type %u, info %#x, log page %#x (%lld)", i,
		      DRV_NVME_EVENT_TYPE(ev), DRV_NVME_EVENT_INFO(ev), DRV_NVME_EVENT_LOG_PAGE(ev),
		      (long long)n);
	}
}

static void run_mode(drv_dev *dev, const struct drv_info *info, enum drv_cmode mode, uint32_t seed)
{
	struct drv_queue_opts o = { .depth = 64, .cmode = mode };
	drv_queue *q;
	if (drv_queue_create(dev, &o, &q) != 0) {
		check(0, "%s: queue created", mode_name(mode));
		return;
	}
	direct_io(dev, q, mode, seed);
	buffered_and_prp(dev, q, mode, seed + 1);
	if (mode == DRV_CMODE_IRQ)
		errors(q, info);
	if (mode != DRV_CMODE_HYBRID)
		control_codes(q, info);
	check(drv_queue_destroy(q) == 0, "%s: queue destroyed", mode_name(mode));
}

static void two_queues(drv_dev *dev)
{
	struct drv_queue_opts o = { .depth = 16 };
	drv_queue *a, *b;
	int ok = drv_queue_create(dev, &o, &a) == 0 && drv_queue_create(dev, &o, &b) == 0;
	check(ok, "two queues at once");
	if (!ok)
		return;
	char x[BLOCK], y[BLOCK];
	fill(x, BLOCK, 7, 11);
	ok = drv_write(a, 64 * BLOCK, x, BLOCK) == BLOCK &&
	     drv_read(b, 64 * BLOCK, y, BLOCK) == BLOCK;
	check(ok && memcmp(x, y, BLOCK) == 0, "written through one queue, read through the other");
	drv_queue_destroy(a);
	drv_queue_destroy(b);
}

/* drv_close with reads in flight: each ends, none is left pending. */
static void close_busy(const char *uri)
{
	drv_dev *dev;
	if (drv_open(uri, NULL, &dev) != 0) {
		check(0, "reopen %s", uri);
		return;
	}
	struct drv_queue_opts o = { .depth = 32 };
	drv_queue *q;
	static char data[16][BLOCK];
	struct drv_req r[16], *rp[16];
	int n = -1;
	if (drv_queue_create(dev, &o, &q) == 0) {
		for (unsigned i = 0; i < 16; i++) {
			drv_prep_read(&r[i], (uint64_t)i * BLOCK, data[i], BLOCK);
			rp[i] = &r[i];
		}
		n = drv_submit(q, rp, 16);
	}
	check(drv_close(dev) == 0, "close with %d reads submitted", n);
	int ok = 1;
	for (int i = 0; i < n; i++)
		ok &= r[i].status != -EINPROGRESS;
	check(ok, "every request ended by the close");
}

static void persistence(drv_queue *q, const struct drv_info *info, const char *what, uint32_t seed)
{
	uint64_t off = info->capacity - PERSIST_BYTES;
	char *data = malloc(PERSIST_BYTES);
	if (strcmp(what, "write") == 0) {
		fill(data, PERSIST_BYTES, off, seed);
		check(drv_write(q, off, data, PERSIST_BYTES) == PERSIST_BYTES && drv_flush(q) == 0,
		      "wrote and flushed the pattern of seed %u at the end of the namespace",
		      (unsigned)seed);
	} else {
		check(drv_read(q, off, data, PERSIST_BYTES) == PERSIST_BYTES &&
			  matches(data, PERSIST_BYTES, off, seed),
		      "the pattern of seed %u from an earlier boot is there", (unsigned)seed);
	}
	free(data);
}

/* The end of the namespace as the kernel's nvme driver shows it. */
static int kernel_verify(const char *device, uint32_t seed)
{
	int fd = open(device, O_RDONLY | O_DIRECT);
	int open_errno = errno;
	uint64_t size = 0;
	void *data = NULL;
	if (fd >= 0 && ioctl(fd, BLKGETSIZE64, &size) != 0)
		size = 0;
	check(size >= PERSIST_BYTES, "%s: %llu bytes%s%s", device, (unsigned long long)size,
	      fd < 0 ? ", cannot open: " : "", fd < 0 ? strerror(open_errno) : "");
	if (fd >= 0 && size >= PERSIST_BYTES && posix_memalign(&data, BLOCK, PERSIST_BYTES) == 0) {
		uint64_t off = size - PERSIST_BYTES;
		check(pread(fd, data, PERSIST_BYTES, (off_t)off) == PERSIST_BYTES &&
			  matches(data, PERSIST_BYTES, off, seed),
		      "the kernel's driver reads the pattern of seed %u that libdrv wrote",
		      (unsigned)seed);
	}
	free(data);
	if (fd >= 0)
		close(fd);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 5) {
		fprintf(stderr,
			"usage: nvme_check uio|vfio|vfio-intx [write|verify SEED | events]\n"
			"       nvme_check kernel DEVICE verify SEED\n");
		return 2;
	}
	const char *mode = argv[1];
	if (strcmp(mode, "kernel") == 0) {
		if (argc != 5 || strcmp(argv[3], "verify") != 0) {
			fprintf(stderr, "usage: nvme_check kernel DEVICE verify SEED\n");
			return 2;
		}
		return kernel_verify(argv[2], (uint32_t)strtoul(argv[4], NULL, 0));
	}
	char addr[64], uri[128];
	if (!find_nvme(addr, sizeof(addr))) {
		fprintf(stderr, "nvme_check: no NVMe controller in /sys/bus/pci/devices\n");
		return 1;
	}
	enum drv_irq_mode want_irq = DRV_IRQ_MSIX;
	if (strcmp(mode, "uio") == 0) {
		snprintf(uri, sizeof(uri), "uio:%s", addr);
		want_irq = DRV_IRQ_INTX;
	} else if (strcmp(mode, "vfio") == 0) {
		snprintf(uri, sizeof(uri), "vfio:%s", addr);
	} else if (strcmp(mode, "vfio-intx") == 0) {
		snprintf(uri, sizeof(uri), "vfio:%s?irq=intx", addr);
		want_irq = DRV_IRQ_INTX;
	} else {
		fprintf(stderr, "nvme_check: unknown mode %s\n", mode);
		return 2;
	}
	drv_dev *dev;
	if (drv_open(uri, NULL, &dev) != 0) {
		fprintf(stderr, "nvme_check: drv_open %s: %s\n", uri, drv_errmsg());
		return 1;
	}
	struct drv_info info;
	drv_info(dev, &info);
	check(strcmp(info.driver, "nvme") == 0, "driver is nvme (%s)", info.driver);
	check(info.irq_mode == want_irq, "interrupts: %s", drv_irq_mode_name(info.irq_mode));
	check(info.capacity >= 4u << 20 && info.max_transfer >= BLOCK && info.max_queues >= 2,
	      "%s: %llu bytes, %u queues of up to %u, %u bytes per transfer", info.model,
	      (unsigned long long)info.capacity, info.max_queues, info.max_queue_depth,
	      info.max_transfer);
	if (argc == 3 && strcmp(argv[2], "events") == 0) {
		drv_queue *q;
		if (drv_queue_create(dev, NULL, &q) == 0)
			events(q);
		else
			check(0, "queue created");
		drv_close(dev);
		return failures ? 1 : 0;
	}
	if (argc == 4) {
		drv_queue *q;
		if (drv_queue_create(dev, NULL, &q) == 0)
			persistence(q, &info, argv[2], (uint32_t)strtoul(argv[3], NULL, 0));
		else
			check(0, "queue created");
		drv_close(dev);
		return failures ? 1 : 0;
	}
	const enum drv_cmode modes[] = { DRV_CMODE_IRQ, DRV_CMODE_POLL, DRV_CMODE_HYBRID };
	for (unsigned i = 0; i < 3; i++)
		run_mode(dev, &info, modes[i], 100 + i);
	two_queues(dev);
	check(drv_close(dev) == 0, "closed");
	close_busy(uri);
	printf("%s: %d failure(s)\n", uri, failures);
	return failures ? 1 : 0;
}
