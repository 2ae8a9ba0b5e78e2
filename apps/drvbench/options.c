/* SPDX-License-Identifier: MIT */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common.h"
#include "uring_backend.h"

#define PROG "drvbench"

static const char usage_text[] =
    "Usage: drvbench [OPTIONS]\n"
    "Measures libdrv request throughput, latency and CPU cost per request.\n"
    "\n"
    "Workload:\n"
    "  --device URI        device to open (default sim:inproc); uring:PATH measures\n"
    "                      the kernel's driver instead (see below)\n"
    "  --op OP             read, write, nop or mix (default read)\n"
    "  --mix-read PCT      percentage of reads with --op mix (default 70)\n"
    "  --bs SIZE           bytes per request, K/M suffix allowed (default 4K)\n"
    "  --qd N              requests in flight per queue (default 1)\n"
    "  --queues N          queues (default 1)\n"
    "  --threads N         threads; queues are spread over them (default 1)\n"
    "  --batch N           requests per submit call (default 1)\n"
    "  --seq               sequential offsets: each queue walks its own stripe of\n"
    "                      the device from its start, wrapping around (default:\n"
    "                      random offsets)\n"
    "  --mode MODE         completion mode: irq, poll or hybrid (default irq)\n"
    "  --spin-us N         hybrid: spin this long before sleeping (default 20)\n"
    "  --device-poll       the device polls the rings: no doorbells\n"
    "  --latency SPEC      device service time, e.g. fixed:10us, uniform:10us:2us,\n"
    "                      exp:50us\n"
    "  --direct            DMA buffers, zero copy (default)\n"
    "  --buffered          plain memory, copied through bounce buffers\n"
    "  --duration SECONDS  run this long (default 3)\n"
    "  --count N           run N requests instead\n"
    "  --warmup SECONDS    unmeasured time before measuring (default 0)\n"
    "  --runs N            repeat and report medians (default 1)\n"
    "\n"
    "Reporting:\n"
    "  --json              JSON on stdout instead of text\n"
    "  --plot PREFIX       write PREFIX-latency.svg and PREFIX-qd-sweep.svg\n"
    "  --sweep qd|queues   QD 1..256, or 1..N queues: cost per request\n"
    "  --baselines         also measure io_uring NOP, eventfd ping-pong, memcpy\n"
    "  --count-allocs      exit 1 if the measured loop allocated memory\n"
    "  --progress          progress line on stderr even when it is not a terminal\n"
    "  --quiet             no progress line\n"
    "  -h, --help          this text\n"
    "\n"
    "Offsets are multiples of --bs within the first 1 GiB of the device. CPU per op\n"
    "is reported three ways: the I/O threads, the whole process (getrusage), and\n"
    "the whole system (non-idle time of all CPUs in /proc/stat: user, nice, system,\n"
    "irq and softirq), which includes interrupt handlers and kernel threads.\n"
    "\n"
    "uring:PATH, a block device (e.g. uring:/dev/nvme0n1) or a regular file, is\n"
    "driven by the kernel's own driver through io_uring with the same workload and\n"
    "report: PATH opened with O_DIRECT, one io_uring per queue, the file and the\n"
    "queue's 4 KiB-aligned buffers registered with it. The modes map as follows.\n"
    "\n"
    "Completion modes with uring:PATH:\n"
    "  irq                 io_uring_submit, then sleep in io_uring_enter until\n"
    "                      completions arrive\n"
    "  poll                IORING_SETUP_IOPOLL: the kernel polls the device for\n"
    "                      completions. It needs poll queues (NVMe:\n"
    "                      nvme.poll_queues=N on the kernel command line); without\n"
    "                      them drvbench stops with a message saying so\n"
    "  hybrid              refused: io_uring has no counterpart here\n"
    "\n"
    "With uring:PATH, --buffered, --device-poll, --latency and --op nop are refused.\n"
    "Writes overwrite PATH.\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 bad arguments.\n";

enum {
	OPT_DEVICE = 256,
	OPT_OP,
	OPT_MIX_READ,
	OPT_BS,
	OPT_QD,
	OPT_QUEUES,
	OPT_THREADS,
	OPT_BATCH,
	OPT_SEQ,
	OPT_MODE,
	OPT_SPIN_US,
	OPT_DEVICE_POLL,
	OPT_LATENCY,
	OPT_DIRECT,
	OPT_BUFFERED,
	OPT_DURATION,
	OPT_COUNT,
	OPT_WARMUP,
	OPT_RUNS,
	OPT_JSON,
	OPT_PLOT,
	OPT_SWEEP,
	OPT_BASELINES,
	OPT_COUNT_ALLOCS,
	OPT_PROGRESS,
	OPT_QUIET,
};

static const struct option long_options[] = {
	{ "device", required_argument, NULL, OPT_DEVICE },
	{ "op", required_argument, NULL, OPT_OP },
	{ "mix-read", required_argument, NULL, OPT_MIX_READ },
	{ "bs", required_argument, NULL, OPT_BS },
	{ "qd", required_argument, NULL, OPT_QD },
	{ "queues", required_argument, NULL, OPT_QUEUES },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "seq", no_argument, NULL, OPT_SEQ },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "spin-us", required_argument, NULL, OPT_SPIN_US },
	{ "device-poll", no_argument, NULL, OPT_DEVICE_POLL },
	{ "latency", required_argument, NULL, OPT_LATENCY },
	{ "direct", no_argument, NULL, OPT_DIRECT },
	{ "buffered", no_argument, NULL, OPT_BUFFERED },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "sweep", required_argument, NULL, OPT_SWEEP },
	{ "baselines", no_argument, NULL, OPT_BASELINES },
	{ "count-allocs", no_argument, NULL, OPT_COUNT_ALLOCS },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static const char *const op_names[] = { "read", "write", "nop", "mix" };
static const char *const mode_names[] = { "irq", "poll", "hybrid" };

const char *options_op_name(enum bench_op op)
{
	return op_names[op];
}

const char *options_mode_name(enum drv_cmode mode)
{
	return mode_names[mode];
}

static unsigned parse_choice(const char *opt, const char *text, const char *const names[],
			     unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(text, names[i]))
			return i;
	app_usage_error(PROG, "%s: unknown value '%s'", opt, text);
}

static unsigned parse_uint(const char *opt, const char *text, unsigned min, unsigned max)
{
	return (unsigned)app_parse_u64(PROG, opt, text, min, max, 0);
}

static double parse_warmup(const char *text)
{
	return strcmp(text, "0") ? app_parse_seconds(PROG, "--warmup", text) : 0.0;
}

/* What a kernel block device driven through io_uring cannot do. */
static void check_uring(const struct bench_opts *o, const char *path)
{
	if (!*path)
		app_usage_error(PROG, "--device uring: needs a path, e.g. uring:/dev/nvme0n1");
	if (o->mode == DRV_CMODE_HYBRID)
		app_usage_error(PROG, "--mode hybrid has no io_uring counterpart: use irq or poll "
				      "with uring:");
	if (o->op == BENCH_NOP)
		app_usage_error(PROG, "--op nop: the kernel's block layer has no no-op request; "
				      "use read, write or mix with uring:");
	if (o->device_poll)
		app_usage_error(PROG, "--device-poll applies to libdrv devices, not uring:");
	if (o->latency)
		app_usage_error(PROG, "--latency applies to dsim devices, not uring:");
	if (o->buffered)
		app_usage_error(PROG, "--buffered: uring: always uses O_DIRECT");
}

static void check_consistency(const struct bench_opts *o)
{
	const char *path = uring_path(o->device);

	if (path)
		check_uring(o, path);
	if (o->threads > o->queues)
		app_usage_error(PROG, "--threads %u needs at least as many queues (--queues %u)",
				o->threads, o->queues);
	if (o->batch > o->qd && o->sweep != SWEEP_QD && !o->plot)
		app_usage_error(PROG, "--batch %u is larger than --qd %u", o->batch, o->qd);
	if (o->mode != DRV_CMODE_HYBRID && o->spin_ns != 20000)
		app_usage_error(PROG, "--spin-us only applies to --mode hybrid");
}

void options_parse(struct bench_opts *o, int argc, char **argv)
{
	static const char *const sweep_names[] = { "none", "qd", "queues" };
	int c;

	*o = (struct bench_opts){
		.device = APP_DEFAULT_DEVICE,
		.op = BENCH_READ,
		.mix_read = 70,
		.bs = 4096,
		.qd = 1,
		.queues = 1,
		.threads = 1,
		.mode = DRV_CMODE_IRQ,
		.spin_ns = 20000,
		.duration = 3.0,
		.batch = 1,
		.runs = 1,
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		switch (c) {
		case OPT_DEVICE:
			o->device = optarg;
			break;
		case OPT_OP:
			o->op = parse_choice("--op", optarg, op_names, 4);
			break;
		case OPT_MIX_READ:
			o->mix_read = parse_uint("--mix-read", optarg, 0, 100);
			break;
		case OPT_BS:
			o->bs = app_parse_u64(PROG, "--bs", optarg, 1, 1u << 30, 1);
			break;
		case OPT_QD:
			o->qd = parse_uint("--qd", optarg, 1, 65536);
			break;
		case OPT_QUEUES:
			o->queues = parse_uint("--queues", optarg, 1, 1024);
			break;
		case OPT_THREADS:
			o->threads = parse_uint("--threads", optarg, 1, 1024);
			break;
		case OPT_BATCH:
			o->batch = parse_uint("--batch", optarg, 1, 65536);
			break;
		case OPT_SEQ:
			o->seq = 1;
			break;
		case OPT_MODE:
			o->mode = (enum drv_cmode)parse_choice("--mode", optarg, mode_names, 3);
			break;
		case OPT_SPIN_US:
			o->spin_ns =
			    app_parse_u64(PROG, "--spin-us", optarg, 1, 10000000, 0) * 1000;
			break;
		case OPT_DEVICE_POLL:
			o->device_poll = 1;
			break;
		case OPT_LATENCY:
			o->latency = optarg;
			break;
		case OPT_DIRECT:
			o->buffered = 0;
			break;
		case OPT_BUFFERED:
			o->buffered = 1;
			break;
		case OPT_DURATION:
			o->duration = app_parse_seconds(PROG, "--duration", optarg);
			o->count = 0;
			break;
		case OPT_COUNT:
			o->count = app_parse_u64(PROG, "--count", optarg, 1, UINT64_MAX / 2, 1);
			o->duration = 0;
			break;
		case OPT_WARMUP:
			o->warmup = parse_warmup(optarg);
			break;
		case OPT_RUNS:
			o->runs = parse_uint("--runs", optarg, 1, 1000);
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_PLOT:
			o->plot = optarg;
			break;
		case OPT_SWEEP:
			o->sweep =
			    (enum bench_sweep)parse_choice("--sweep", optarg, sweep_names, 3);
			break;
		case OPT_BASELINES:
			o->baselines = 1;
			break;
		case OPT_COUNT_ALLOCS:
			o->count_allocs = 1;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case OPT_QUIET:
			o->quiet = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			app_bad_option(PROG, c, argv);
		}
	}
	if (optind < argc)
		app_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
	if (o->op == BENCH_NOP)
		o->bs = 0;
	check_consistency(o);
}
