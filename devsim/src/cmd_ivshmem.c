/* SPDX-License-Identifier: MIT */
/* `devsim ivshmem`: the dsim device served to a QEMU guest as its ivshmem server. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "ivshmem_server.h"
#include "model.h"
#include "server.h"

#define EXIT_USAGE 2

static const char usage_ivshmem[] =
    "Usage: devsim ivshmem --socket PATH --guest-ram FILE [OPTIONS]\n"
    "Serves the dsim device to a QEMU guest as the server of an ivshmem-doorbell\n"
    "PCI function: the device DMAs into the guest's RAM and raises MSI-X interrupts.\n"
    "\n"
    "Options:\n"
    "  --socket PATH      ivshmem server socket, given to QEMU as\n"
    "                     -chardev socket,path=PATH,id=ivs\n"
    "                     -device ivshmem-doorbell,chardev=ivs,vectors=N\n"
    "  --guest-ram FILE   the guest's RAM, given to QEMU as\n"
    "                     -object memory-backend-file,mem-path=FILE,share=on,...\n"
    "                     (devsim DMAs there; guest-physical address = bus address)\n"
    "  --vectors N        QEMU's vectors=N, at least 1 + queues (default 1 + queues)\n"
    "  --control PATH     also serve `devsim event/stats/fault --socket PATH` here\n"
    "  --help             show this help\n"
    "\n"
    "The device model takes the options of `devsim serve`: --capacity SIZE,\n"
    "--backing FILE, --queues N, --latency SPEC, --bandwidth RATE, --units N, --poll,\n"
    "--fault RULE, --seed N.\n"
    "\n"
    "Start devsim before QEMU (QEMU reads the setup while it starts). When QEMU\n"
    "exits the device resets and waits for the next one. SIGINT/SIGTERM stop devsim\n"
    "and remove its socket files. See docs/ivshmem.md.\n";

static int usage_error(const char *what)
{
	fprintf(stderr, "devsim ivshmem: %s\n%s", what, usage_ivshmem);
	return EXIT_USAGE;
}

struct ivshmem_args {
	const char *socket, *ram, *control;
	unsigned vectors;
	struct dsim_config cfg;
};

/* Returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, struct ivshmem_args *a)
{
	static const struct option own[] = { { "socket", required_argument, 0, 's' },
					     { "guest-ram", required_argument, 0, 'r' },
					     { "vectors", required_argument, 0, 'v' },
					     { "control", required_argument, 0, 'C' },
					     { "help", no_argument, 0, 'h' } };
	struct dsim_cli_options opts;
	dsim_cli_options(&opts, own, sizeof(own) / sizeof(own[0]));
	char err[512];
	int o, idx;
	memset(a, 0, sizeof(*a));
	dsim_config_defaults(&a->cfg);
	while ((o = getopt_long(argc, argv, "h", opts.opt, &idx)) != -1) {
		char *end;
		switch (o) {
		case 'h':
			fputs(usage_ivshmem, stdout);
			return 0;
		case '?':
			return usage_error("bad option");
		case 's':
			a->socket = optarg;
			break;
		case 'r':
			a->ram = optarg;
			break;
		case 'C':
			a->control = optarg;
			break;
		case 'v':
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || v == 0 || v > 1024)
				return usage_error("--vectors: expected a number from 1 to 1024");
			a->vectors = (unsigned)v;
			break;
		case DSIM_CLI_MODEL_OPT:
			if (dsim_cli_model_option(&a->cfg, &opts.opt[idx], optarg, err,
						  sizeof(err)))
				return usage_error(err);
			break;
		default:
			return usage_error("bad option");
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument");
	if (!a->socket || !a->ram)
		return usage_error("--socket PATH and --guest-ram FILE are required");
	return -1;
}

int devsim_cmd_ivshmem(int argc, char **argv)
{
	struct ivshmem_args a;
	int rc = parse(argc, argv, &a);
	if (rc >= 0)
		return rc;
	char err[512];
	struct dsim_dev *dev;
	if (dsim_dev_create(&a.cfg, &dev, err, sizeof(err))) {
		fprintf(stderr, "devsim: %s\n", err);
		return 1;
	}
	struct dsim_cli_signals sg = { .fd = -1 };
	struct ivshmem_server ivs = { .listener = DSIM_LISTENER_CLOSED,
				      .client_fd = -1,
				      .retry_fd = -1 };
	struct dsim_server ctl;
	dsim_server_init(&ctl, dev, true);
	ctl.control_only = true;
	dsim_cli_vanish_kills(dev);
	rc = dsim_cli_stop_on_signals(&sg, dev);
	if (rc)
		snprintf(err, sizeof(err), "cannot watch signals: %s", strerror(-rc));
	if (!rc)
		rc = ivshmem_server_start(&ivs, dev, a.socket, a.ram,
					  a.vectors ? a.vectors : dev->num_kicks, true, err,
					  sizeof(err));
	if (!rc && a.control)
		rc = dsim_server_listen(&ctl, a.control, err, sizeof(err));
	if (!rc) {
		fprintf(stderr,
			"devsim: ivshmem server at %s (%llu bytes %s, %u queues, vectors=%u)%s%s\n",
			a.socket, (unsigned long long)dev->st.capacity,
			a.cfg.backing[0] ? a.cfg.backing : "RAM", a.cfg.queues, ivs.vectors,
			a.control ? ", control socket " : "", a.control ? a.control : "");
		rc = dsim_dev_run(dev);
		fprintf(stderr, "devsim: stopped\n");
	} else {
		fprintf(stderr, "devsim: %s\n", err);
	}
	dsim_server_close(&ctl);
	ivshmem_server_stop(&ivs);
	dsim_cli_signals_close(&sg);
	dsim_dev_destroy(dev);
	return rc ? 1 : 0;
}
