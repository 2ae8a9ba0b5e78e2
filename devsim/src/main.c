/* SPDX-License-Identifier: MIT */
/* The devsim command: serve the device on a unix socket, raise events, show statistics. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "devsim/proto.h"
#include "ivshmem_server.h"
#include "model.h"
#include "server.h"

#define EXIT_USAGE 2

/* A FAULT reply: the struct, then the rules text; or a failed reply's message. */
union fault_reply {
	struct devsim_fault_reply r;
	char text[DEVSIM_MSG_MAX_PAYLOAD + 1];
};

static const char usage_main[] =
    "Usage: devsim COMMAND [OPTIONS]\n"
    "Runs dsim, the simulated PCI device of libdrv, and talks to a running one.\n"
    "\n"
    "Commands:\n"
    "  serve --socket PATH [OPTIONS]    run the dsim device on a unix socket\n"
    "  event --socket PATH TEXT         raise a device event with payload TEXT\n"
    "  stats --socket PATH [--json]     print the device's statistics\n"
    "  fault --socket PATH [--seed N] [--clear] [RULE...]\n"
    "                                   change and show the device's fault rules\n"
    "  ivshmem --socket PATH --guest-ram FILE [OPTIONS]\n"
    "                                   serve the device to a QEMU guest (ivshmem)\n"
    "\n"
    "Run `devsim COMMAND --help` for a command's options.\n"
    "\n"
    "Exit status: 0 success (serve and ivshmem: stopped by SIGINT or SIGTERM),\n"
    "1 runtime failure, 2 bad arguments.\n";

static const char usage_serve[] =
    "Usage: devsim serve --socket PATH [OPTIONS]\n"
    "Runs the dsim device and serves it to libdrv clients (sim:PATH) on a unix\n"
    "socket, one client at a time.\n"
    "\n"
    "Options:\n"
    "  --socket PATH      unix socket to serve (created with mode 0600)\n"
    "  --capacity SIZE    storage bytes, e.g. 64M, 1G (default 64M)\n"
    "  --backing FILE     keep storage in FILE (created if missing; persists)\n"
    "  --queues N         queue pairs, 1..32 (default 4)\n"
    "  --latency SPEC     service time: fixed:1ms, uniform:MEAN:SPREAD, exp:100us,\n"
    "                     or per opcode: read=exp:100us,write=fixed:50us\n"
    "                     (opcodes: nop read write flush control wait_event abort)\n"
    "  --bandwidth RATE   bytes per second, e.g. 500M (default unlimited)\n"
    "  --units N          requests serviced in parallel (default 0 = unlimited)\n"
    "  --poll             the device polls SQ tails from reset on (POLL_MODE=1)\n"
    "  --fault RULE       inject faults, e.g. error,op=read,rate=0.05 (repeatable;\n"
    "                     see `devsim fault --help`)\n"
    "  --seed N           seed of the fault RNG (default 1)\n"
    "  --help             show this help\n"
    "\n"
    "SIGINT/SIGTERM stop the device and remove the socket file.\n";

static const char usage_event[] =
    "Usage: devsim event --socket PATH TEXT\n"
    "Raises an event whose payload is TEXT (at most 256 bytes) in the device\n"
    "served at PATH; a parked WAIT_EVENT request receives it.\n"
    "\n"
    "Options:\n"
    "  --socket PATH   the socket given to serve, or ivshmem's control socket\n"
    "  --help          show this help\n";

static const char usage_stats[] =
    "Usage: devsim stats --socket PATH [--json]\n"
    "Prints the statistics counters of the device served at PATH.\n"
    "\n"
    "Options:\n"
    "  --socket PATH   the socket given to serve, or ivshmem's control socket\n"
    "  --json          print one JSON object instead of text\n"
    "  --help          show this help\n";

static const char usage_fault[] =
    "Usage: devsim fault --socket PATH [--seed N] [--clear] [RULE...]\n"
    "Adds fault RULEs to the device served at PATH and prints the rules it has\n"
    "now. With no RULE, --clear or --seed it only prints them.\n"
    "\n"
    "Options:\n"
    "  --socket PATH   the socket given to serve, or ivshmem's control socket\n"
    "  --seed N        reseed the fault RNG (rate=, random values)\n"
    "  --clear         remove every rule first\n"
    "  --help          show this help\n"
    "\n"
    "RULE: KIND[,key=value...], e.g. error,op=read,status=dma-error,rate=0.05\n"
    "  KIND   error lost-irq late duplicate spurious bad-tag corrupt hang fatal\n"
    "         dma-slow dma-fail storage-fail vanish\n"
    "  keys   op=nop|read|write|flush|control|wait_event|any  queue=N\n"
    "         nth=N | every=N | rate=P (default: every match)  count=N\n"
    "         error: status=NAME  late, dma-slow: delay=TIME\n"
    "         bad-tag: how=stale|random  corrupt: field=phase|result|status\n"
    "docs/dsim.md, \"Fault injection\", says what each kind does.\n";

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
	fprintf(stderr, "devsim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage);
	return EXIT_USAGE;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option own[] = { { "socket", required_argument, 0, 's' },
					     { "help", no_argument, 0, 'h' } };
	struct dsim_cli_options opts;
	dsim_cli_options(&opts, own, sizeof(own) / sizeof(own[0]));
	struct dsim_config cfg;
	dsim_config_defaults(&cfg);
	const char *path = NULL;
	char err[512];
	int o, idx;
	while ((o = getopt_long(argc, argv, "h", opts.opt, &idx)) != -1) {
		if (o == 'h') {
			fputs(usage_serve, stdout);
			return 0;
		}
		if (o == '?')
			return usage_error(usage_serve, "%s", "bad option");
		if (o == 's') {
			path = optarg;
			continue;
		}
		if (dsim_cli_model_option(&cfg, &opts.opt[idx], optarg, err, sizeof(err)))
			return usage_error(usage_serve, "%s", err);
	}
	if (optind < argc)
		return usage_error(usage_serve, "unexpected argument '%s'", argv[optind]);
	if (!path)
		return usage_error(usage_serve, "%s", "--socket PATH is required");

	struct dsim_dev *dev;
	int rc = dsim_dev_create(&cfg, &dev, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "devsim: %s\n", err);
		return 1;
	}
	struct dsim_cli_signals sg;
	struct dsim_server srv;
	dsim_server_init(&srv, dev, true);
	dsim_cli_vanish_kills(dev);
	rc = dsim_cli_stop_on_signals(&sg, dev);
	if (!rc)
		rc = dsim_server_listen(&srv, path, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "cannot watch signals: %s", strerror(-rc));
	if (!rc) {
		fprintf(stderr, "devsim: serving %s (%llu bytes %s, %u queues)\n", path,
			(unsigned long long)dev->st.capacity, cfg.backing[0] ? cfg.backing : "RAM",
			cfg.queues);
		rc = dsim_dev_run(dev);
		fprintf(stderr, "devsim: stopped\n");
	} else {
		fprintf(stderr, "devsim: %s\n", err);
	}
	dsim_server_close(&srv);
	dsim_cli_signals_close(&sg);
	dsim_dev_destroy(dev);
	return rc ? 1 : 0;
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "devsim: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	fprintf(stderr,
		"devsim: no devsim listening at %s (%s): start `devsim serve --socket %s`\n", path,
		strerror(errno), path);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Parses --socket, --json and --help of the client commands; returns -1 to continue. */
static int client_args(int argc, char **argv, const char *usage, const char **path, int *json)
{
	static const struct option opts[] = { { "socket", required_argument, 0, 's' },
					      { "json", no_argument, 0, 'j' },
					      { "help", no_argument, 0, 'h' },
					      { 0, 0, 0, 0 } };
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			fputs(usage, stdout);
			return 0;
		}
		if (o == 's')
			*path = optarg;
		else if (o == 'j' && json)
			*json = 1;
		else
			return usage_error(usage, "%s", "bad option");
	}
	if (!*path)
		return usage_error(usage, "%s", "--socket PATH is required");
	return -1;
}

static int cmd_event(int argc, char **argv)
{
	const char *path = NULL;
	int rc = client_args(argc, argv, usage_event, &path, NULL);
	if (rc >= 0)
		return rc;
	if (optind != argc - 1)
		return usage_error(usage_event, "%s", "expected exactly one TEXT argument");
	const char *text = argv[optind];
	if (strlen(text) > DSIM_EVENT_PAYLOAD_MAX)
		return usage_error(usage_event, "%s", "TEXT is longer than 256 bytes");
	int fd = connect_socket(path);
	if (fd < 0)
		return 1;
	char reply[DEVSIM_MSG_MAX_PAYLOAD] = "";
	rc = devsim_msg_call(fd, DEVSIM_MSG_EVENT, text, strlen(text), NULL, 0, reply,
			     sizeof(reply) - 1, NULL, NULL, NULL);
	close(fd);
	if (rc) {
		fprintf(stderr, "devsim: event failed: %s\n", reply[0] ? reply : strerror(-rc));
		return 1;
	}
	return 0;
}

static const char *const stat_names[DSIM_STAT_COUNT] = { "submitted",  "completed",     "errors",
							 "bytes_read", "bytes_written", "kicks",
							 "interrupts", "dma_errors",    "events",
							 "aborts",     "faults" };

/* Asks for the fault state (changing it as rq says, with rules text); reply text in r. */
static int fault_call(int fd, const struct devsim_fault_req *rq, const char *rules,
		      union fault_reply *r)
{
	uint8_t msg[DEVSIM_MSG_MAX_PAYLOAD];
	size_t n = strlen(rules);
	if (sizeof(*rq) + n > sizeof(msg))
		return -EMSGSIZE;
	memcpy(msg, rq, sizeof(*rq));
	memcpy(msg + sizeof(*rq), rules, n);
	size_t len = 0;
	memset(r, 0, sizeof(*r));
	int rc = devsim_msg_call(fd, DEVSIM_MSG_FAULT, msg, sizeof(*rq) + n, NULL, 0, r,
				 sizeof(*r) - 1, &len, NULL, NULL);
	if (!rc && len < sizeof(r->r))
		rc = -EPROTO;
	return rc;
}

static void print_fault_counts(const struct devsim_fault_reply *f, int json)
{
	if (json)
		printf(", \"faults_injected\": {");
	for (unsigned k = 0; k < DSIM_FAULT_KIND_COUNT; k++)
		if (json)
			printf("%s\"%s\": %llu", k ? ", " : "", dsim_fault_kind_name(k),
			       (unsigned long long)f->injected[k]);
		else
			printf("fault:%-10s %llu\n", dsim_fault_kind_name(k),
			       (unsigned long long)f->injected[k]);
	if (json)
		printf("}");
}

static int cmd_stats(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0;
	int rc = client_args(argc, argv, usage_stats, &path, &json);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return usage_error(usage_stats, "unexpected argument '%s'", argv[optind]);
	int fd = connect_socket(path);
	if (fd < 0)
		return 1;
	struct devsim_stats_reply r;
	size_t len = 0;
	rc = devsim_msg_call(fd, DEVSIM_MSG_STATS, NULL, 0, NULL, 0, &r, sizeof(r), &len, NULL,
			     NULL);
	if (!rc && len != sizeof(r))
		rc = -EPROTO;
	union fault_reply f;
	if (!rc)
		rc = fault_call(fd, &(struct devsim_fault_req){ 0 }, "", &f);
	close(fd);
	if (rc) {
		fprintf(stderr,
			"devsim: stats failed: %s (is the devsim at the socket as new as this "
			"one?)\n",
			strerror(-rc));
		return 1;
	}
	if (json)
		printf("{");
	for (unsigned i = 0; i < DSIM_STAT_COUNT; i++)
		printf(json ? "%s\"%s\": %llu" : "%s%-16s %llu\n", json && i ? ", " : "",
		       stat_names[i], (unsigned long long)r.stat[i]);
	print_fault_counts(&f.r, json);
	if (json)
		printf(", \"events_queued\": %u, \"events_dropped\": %u, \"driver_attached\": %s, "
		       "\"status\": %u}\n",
		       r.events_queued, r.events_dropped, r.driver_attached ? "true" : "false",
		       r.status);
	else
		printf("%-16s %u\n%-16s %u\n%-16s %s\n%-16s 0x%x\n", "events_queued",
		       r.events_queued, "events_dropped", r.events_dropped, "driver_attached",
		       r.driver_attached ? "yes" : "no", "status", r.status);
	return 0;
}

/* Joins the RULE arguments into one text, checking each as the device will. */
static int fault_rules_arg(int argc, char **argv, char *text, size_t len)
{
	size_t at = 0;
	text[0] = 0;
	for (int i = optind; i < argc; i++) {
		struct dsim_fault_set set = { .n = 0 };
		char err[512];
		if (dsim_fault_set_parse(&set, argv[i], err, sizeof(err)))
			return usage_error(usage_fault, "%s", err);
		int n = snprintf(text + at, len - at, "%s%s", at ? ";" : "", argv[i]);
		if (n < 0 || (size_t)n >= len - at)
			return usage_error(usage_fault, "%s", "too many or too long RULEs");
		at += (size_t)n;
	}
	return -1;
}

static int cmd_fault(int argc, char **argv)
{
	static const struct option opts[] = { { "socket", required_argument, 0, 's' },
					      { "seed", required_argument, 0, 'S' },
					      { "clear", no_argument, 0, 'c' },
					      { "help", no_argument, 0, 'h' },
					      { 0, 0, 0, 0 } };
	const char *path = NULL;
	struct devsim_fault_req rq = { 0 };
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			fputs(usage_fault, stdout);
			return 0;
		}
		if (o == 's') {
			path = optarg;
		} else if (o == 'c') {
			rq.flags |= DEVSIM_FAULT_CLEAR;
		} else if (o == 'S') {
			if (dsim_parse_size(optarg, &rq.seed))
				return usage_error(usage_fault,
						   "--seed '%s': expected a whole number", optarg);
			rq.flags |= DEVSIM_FAULT_SEED;
		} else {
			return usage_error(usage_fault, "%s", "bad option");
		}
	}
	if (!path)
		return usage_error(usage_fault, "%s", "--socket PATH is required");
	char rules[DEVSIM_MSG_MAX_PAYLOAD - sizeof(rq)];
	int rc = fault_rules_arg(argc, argv, rules, sizeof(rules));
	if (rc >= 0)
		return rc;
	int fd = connect_socket(path);
	if (fd < 0)
		return 1;
	union fault_reply r;
	rc = fault_call(fd, &rq, rules, &r);
	close(fd);
	if (rc) {
		fprintf(stderr, "devsim: fault failed: %s\n", r.text[0] ? r.text : strerror(-rc));
		return 1;
	}
	printf("seed %llu\n", (unsigned long long)r.r.seed);
	if (!r.r.rules)
		printf("no rules\n");
	for (char *line = r.text + sizeof(r.r); *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		printf("rule %s\n", line);
		line = nl ? nl + 1 : line + strlen(line);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error(usage_main, "%s", "missing COMMAND");
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_main, stdout);
		return 0;
	}
	argc--;
	argv++;
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc, argv);
	if (!strcmp(cmd, "event"))
		return cmd_event(argc, argv);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(cmd, "fault"))
		return cmd_fault(argc, argv);
	if (!strcmp(cmd, "ivshmem"))
		return devsim_cmd_ivshmem(argc, argv);
	return usage_error(usage_main, "unknown command '%s'", cmd);
}
