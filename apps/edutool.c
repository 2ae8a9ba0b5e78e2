/* SPDX-License-Identifier: MIT */
/*
 * edutool: drives QEMU's educational PCI device (`-device edu`) through
 * libdrv. The device does one thing at a time; libdrv queues requests and
 * starts each one from the previous one's completion interrupt, so a batch
 * submitted at once completes in order, one DMA every 100 ms (emulator time).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drv/drv.h>
#include <drv/edu.h>
#include <drv/pci.h>

#include "common.h"

#define PROG "edutool"
#define MAX_FACT 64u
#define MAX_DMA_ROUNDS 256u
#define WAIT_NS (120ll * 1000000000ll)

struct options {
	const char *device;
	int poll;
	char pci_uri[32];
};

static void usage(void)
{
	printf("Usage: " PROG " [--device URI] [--poll] COMMAND [ARGS]\n"
	       "Drives QEMU's edu device (1234:11e8) through libdrv.\n"
	       "\n"
	       "Commands:\n"
	       "  info                  device, bus, interrupt mode, identity and limits\n"
	       "  fact N...             factorials computed by the device (modulo 2^32), all\n"
	       "                        submitted at once; prints each completion time\n"
	       "  dma [--size N] [--offset N] [--count N]\n"
	       "                        writes a pattern into the device buffer and reads it\n"
	       "                        back, COUNT rounds in one batch (default size 4095,\n"
	       "                        offset 0, count 1); each transfer takes ~100 ms\n"
	       "  raise VALUE           parks a WAIT_EVENT, has the device raise VALUE as an\n"
	       "                        interrupt and prints what the WAIT_EVENT received\n"
	       "\n"
	       "Options:\n"
	       "  --device URI          uio:ADDR, vfio:ADDR, vfio:ADDR?irq=intx or pci:ADDR\n"
	       "                        (default: pci: and the first 1234:11e8 function)\n"
	       "  --poll                poll for completions instead of sleeping on interrupts\n"
	       "  --help                show this help\n"
	       "\n"
	       "Limits: a transfer is 1-4095 bytes with offset + size <= 4095 (QEMU 7.2 stops\n"
	       "the VM on a 4096-byte transfer); RAISE values must not use bits 0x1 and 0x100.\n"
	       "\n"
	       "Exit status: 0 success, 1 runtime failure, 2 bad arguments.\n");
}

static double ms_between(uint64_t from_ns, uint64_t to_ns)
{
	return (double)(to_ns - from_ns) / 1e6;
}

static int find_edu(struct options *o)
{
	/* Count first: a machine may have many more functions than a fixed table holds. */
	int n = drv_pci_list(NULL, 0);
	if (n < 0)
		return app_fail(PROG, "listing PCI functions");
	struct drv_pci_dev *list = calloc(n ? (size_t)n : 1, sizeof(*list));
	if (!list) {
		fprintf(stderr, PROG ": out of memory\n");
		return APP_EXIT_RUNTIME;
	}
	int got = drv_pci_list(list, (unsigned)n);
	if (got < 0) {
		free(list);
		return app_fail(PROG, "listing PCI functions");
	}
	for (int i = 0; i < got && i < n; i++) {
		if (list[i].vendor == 0x1234 && list[i].device == 0x11e8) {
			snprintf(o->pci_uri, sizeof(o->pci_uri), "pci:%s", list[i].addr);
			o->device = o->pci_uri;
			free(list);
			return 0;
		}
	}
	free(list);
	fprintf(stderr, PROG ": no edu device (1234:11e8) found: start QEMU with -device edu, "
			     "or give --device URI\n");
	return APP_EXIT_RUNTIME;
}

static int open_queue(struct options *o, drv_dev **dev, drv_queue **q, unsigned depth)
{
	if (!o->device) {
		int rc = find_edu(o);
		if (rc)
			return rc;
	}
	if (drv_open(o->device, NULL, dev) < 0)
		return app_fail(PROG, o->device);
	struct drv_info info;
	drv_info(*dev, &info);
	if (strcmp(info.driver, "edu") != 0) {
		fprintf(stderr, PROG ": %s is a %s device, not edu\n", o->device, info.driver);
		drv_close(*dev);
		return APP_EXIT_RUNTIME;
	}
	struct drv_queue_opts qo = { .depth = depth };
	if (o->poll || info.irq_mode == DRV_IRQ_NONE)
		qo.cmode = DRV_CMODE_POLL;
	if (drv_queue_create(*dev, &qo, q) < 0) {
		int rc = app_fail(PROG, "creating a queue");
		drv_close(*dev);
		return rc;
	}
	return 0;
}

static void close_queue(drv_dev *dev, drv_queue *q)
{
	drv_queue_destroy(q);
	drv_close(dev);
}

static int cmd_info(struct options *o)
{
	drv_dev *dev;
	drv_queue *q;
	int rc = open_queue(o, &dev, &q, 0);
	if (rc)
		return rc;
	struct drv_info info;
	drv_info(dev, &info);
	int64_t id = drv_control(q, EDU_CTL_IDENTITY, NULL, 0, NULL, 0);
	if (id < 0) {
		rc = app_fail(PROG, "reading the identity register");
	} else {
		printf("device:       %s on %s %s (%04x:%04x)\n", info.model, info.bus,
		       info.address, info.vendor_id, info.device_id);
		printf("identity:     0x%08llx\n", (unsigned long long)id);
		printf("interrupts:   %s, %u vector(s)\n", drv_irq_mode_name(info.irq_mode),
		       info.irq_vectors);
		printf("buffer:       %llu bytes reachable, at most %u per transfer, %u segment\n",
		       (unsigned long long)info.capacity, info.max_transfer, info.max_sg);
		printf("DMA pool:     %llu bytes\n", (unsigned long long)info.dma_pool_bytes);
	}
	close_queue(dev, q);
	return rc;
}

static int cmd_fact(struct options *o, int argc, char **argv)
{
	if (argc < 1)
		app_usage_error(PROG, "fact needs at least one number");
	if ((unsigned)argc > MAX_FACT)
		app_usage_error(PROG, "fact takes at most %u numbers", MAX_FACT);
	struct drv_req reqs[MAX_FACT];
	struct drv_req *ptrs[MAX_FACT];
	for (int i = 0; i < argc; i++) {
		drv_prep_control(&reqs[i], EDU_CTL_FACTORIAL, NULL, 0, NULL, 0);
		reqs[i].arg[0] = app_parse_u64(PROG, "fact", argv[i], 0, UINT32_MAX, 0);
		ptrs[i] = &reqs[i];
	}
	drv_dev *dev;
	drv_queue *q;
	int rc = open_queue(o, &dev, &q, (unsigned)argc);
	if (rc)
		return rc;
	uint64_t t0 = drv_now_ns();
	int n = drv_submit(q, ptrs, (unsigned)argc);
	if (n != argc) {
		rc = app_fail(PROG, "submitting the factorials");
	} else if (drv_wait_all(q, ptrs, (unsigned)argc, WAIT_NS) < 0) {
		rc = app_fail(PROG, "waiting for the factorials");
	} else {
		for (int i = 0; i < argc; i++) {
			if (reqs[i].status < 0) {
				fprintf(stderr, PROG ": %llu!: %s\n",
					(unsigned long long)reqs[i].arg[0],
					strerror(-reqs[i].status));
				rc = APP_EXIT_RUNTIME;
				continue;
			}
			printf("%llu! = %llu (mod 2^32)  done at %.3f ms\n",
			       (unsigned long long)reqs[i].arg[0],
			       (unsigned long long)reqs[i].result,
			       ms_between(t0, reqs[i].complete_ns));
		}
	}
	close_queue(dev, q);
	return rc;
}

struct dma_opts {
	uint64_t size, offset, count;
};

static void parse_dma(int argc, char **argv, struct dma_opts *d)
{
	enum { OPT_SIZE = 256, OPT_OFFSET, OPT_COUNT };
	static const struct option longopts[] = {
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*d = (struct dma_opts){ .size = EDU_CAPACITY, .offset = 0, .count = 1 };
	optind = 1;
	int c;
	while ((c = app_getopt(PROG " dma", argc, argv, longopts, usage)) != -1) {
		switch (c) {
		case OPT_SIZE:
			d->size = app_parse_u64(PROG, "--size", optarg, 1, EDU_CAPACITY, 0);
			break;
		case OPT_OFFSET:
			d->offset = app_parse_u64(PROG, "--offset", optarg, 0, EDU_CAPACITY - 1, 0);
			break;
		case OPT_COUNT:
			d->count = app_parse_u64(PROG, "--count", optarg, 1, MAX_DMA_ROUNDS, 0);
			break;
		}
	}
	if (optind < argc)
		app_usage_error(PROG, "dma: unexpected argument '%s'", argv[optind]);
	if (d->offset + d->size > EDU_CAPACITY)
		app_usage_error(PROG, "dma: offset + size must be <= %u", EDU_CAPACITY);
}

/* Round i writes bufs[2i] (a pattern seeded by i) and reads it back into bufs[2i + 1]. */
static int dma_rounds(drv_dev *dev, drv_queue *q, const struct dma_opts *d, drv_buf **bufs,
		      struct drv_req *reqs, struct drv_req **ptrs)
{
	unsigned n = (unsigned)d->count * 2;
	for (unsigned i = 0; i < n; i++) {
		if (drv_buf_alloc(dev, 4096, &bufs[i]) < 0)
			return app_fail(PROG, "allocating DMA buffers");
		ptrs[i] = &reqs[i];
	}
	for (unsigned r = 0; r < d->count; r++) {
		uint8_t *p = drv_buf_addr(bufs[2 * r]);
		for (uint64_t k = 0; k < d->size; k++)
			p[k] = (uint8_t)(k * 31 + r * 7 + 1);
		drv_prep_write_buf(&reqs[2 * r], d->offset, bufs[2 * r], 0, d->size);
		drv_prep_read_buf(&reqs[2 * r + 1], d->offset, bufs[2 * r + 1], 0, d->size);
	}
	uint64_t t0 = drv_now_ns();
	int got = drv_submit(q, ptrs, n);
	if (got != (int)n)
		return app_fail(PROG, "submitting the transfers");
	if (drv_wait_all(q, ptrs, n, WAIT_NS) < 0)
		return app_fail(PROG, "waiting for the transfers");
	int rc = 0;
	uint64_t prev = t0;
	for (unsigned i = 0; i < n; i++) {
		const struct drv_req *r = &reqs[i];
		const char *what = i % 2 ? "read " : "write";
		if (r->status < 0) {
			fprintf(stderr, PROG ": %s %u: %s\n", what, i / 2, strerror(-r->status));
			rc = APP_EXIT_RUNTIME;
			continue;
		}
		int same = 1;
		if (i % 2)
			same = !memcmp(drv_buf_addr(bufs[i]), drv_buf_addr(bufs[i - 1]), d->size);
		printf("%s %3u: %llu bytes at offset %llu, done at %9.3f ms (+%8.3f ms)%s\n", what,
		       i / 2, (unsigned long long)r->result, (unsigned long long)d->offset,
		       ms_between(t0, r->complete_ns), ms_between(prev, r->complete_ns),
		       same ? "" : "  MISMATCH");
		if (!same)
			rc = APP_EXIT_RUNTIME;
		prev = r->complete_ns;
	}
	printf("%u transfers in %.3f ms: %.3f ms each; data %s\n", n, ms_between(t0, prev),
	       ms_between(t0, prev) / n, rc ? "DIFFERS" : "matches");
	return rc;
}

static int cmd_dma(struct options *o, int argc, char **argv)
{
	struct dma_opts d;
	parse_dma(argc, argv, &d);
	unsigned n = (unsigned)d.count * 2;
	drv_buf **bufs = calloc(n, sizeof(*bufs));
	struct drv_req *reqs = calloc(n, sizeof(*reqs));
	struct drv_req **ptrs = calloc(n, sizeof(*ptrs));
	int rc = APP_EXIT_RUNTIME;
	drv_dev *dev = NULL;
	drv_queue *q = NULL;
	if (!bufs || !reqs || !ptrs)
		fprintf(stderr, PROG ": out of memory\n");
	else
		rc = open_queue(o, &dev, &q, n);
	if (!rc) {
		rc = dma_rounds(dev, q, &d, bufs, reqs, ptrs);
		for (unsigned i = 0; i < n; i++)
			drv_buf_free(bufs[i]);
		close_queue(dev, q);
	}
	free(bufs);
	free(reqs);
	free(ptrs);
	return rc;
}

static int cmd_raise(struct options *o, int argc, char **argv)
{
	if (argc != 1)
		app_usage_error(PROG, "raise takes one value");
	char *end;
	errno = 0;
	unsigned long long value = strtoull(argv[0], &end, 0);
	if (errno || end == argv[0] || *end || argv[0][0] == '-' || value == 0 ||
	    value > UINT32_MAX)
		app_usage_error(PROG, "raise needs a 32-bit value such as 0x1000, not '%s'",
				argv[0]);
	drv_dev *dev;
	drv_queue *q;
	int rc = open_queue(o, &dev, &q, 0);
	if (rc)
		return rc;
	uint32_t got = 0;
	struct drv_req ev, raise;
	drv_prep_wait_event(&ev, &got, sizeof(got));
	drv_prep_control(&raise, EDU_CTL_RAISE, NULL, 0, NULL, 0);
	raise.arg[0] = value;
	struct drv_req *both[2] = { &ev, &raise };
	uint64_t t0 = drv_now_ns();
	if (drv_submit(q, both, 2) != 2 || drv_wait_all(q, both, 2, WAIT_NS) < 0) {
		rc = app_fail(PROG, "raising an interrupt");
	} else if (raise.status < 0 || ev.status < 0) {
		fprintf(stderr, PROG ": raise: %s; wait_event: %s\n", strerror(-raise.status),
			strerror(-ev.status));
		rc = APP_EXIT_RUNTIME;
	} else {
		printf("raised 0x%llx, WAIT_EVENT received 0x%x after %.3f ms\n", value, got,
		       ms_between(t0, ev.complete_ns));
		rc = got == value ? 0 : APP_EXIT_RUNTIME;
	}
	close_queue(dev, q);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "poll", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options o = { 0 };
	int c;
	/* "+": stop at the command, whose own options follow it. */
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.device = optarg;
			break;
		case 'p':
			o.poll = 1;
			break;
		case 'h':
			usage();
			return 0;
		default:
			app_bad_option(PROG, c, argv);
		}
	}
	if (optind >= argc)
		app_usage_error(PROG, "missing command (info, fact, dma or raise)");
	const char *cmd = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	int known = !strcmp(cmd, "info") || !strcmp(cmd, "fact") || !strcmp(cmd, "dma") ||
		    !strcmp(cmd, "raise");
	if (!known)
		app_usage_error(PROG, "unknown command '%s'", cmd);
	if (!strcmp(cmd, "info") && nargs)
		app_usage_error(PROG, "info takes no arguments");
	if (!strcmp(cmd, "info"))
		return cmd_info(&o);
	if (!strcmp(cmd, "fact"))
		return cmd_fact(&o, nargs, args);
	if (!strcmp(cmd, "dma"))
		return cmd_dma(&o, nargs + 1, argv + optind);
	return cmd_raise(&o, nargs, args);
}
