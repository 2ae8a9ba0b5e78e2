/* SPDX-License-Identifier: MIT */
/*
 * notify: the inverse call. WAIT_EVENT requests are parked in the device and
 * each one completes when the device raises an event; the program prints the
 * payload and parks the request again. The queue's file descriptor sits in
 * the same poll() as a signalfd, so Ctrl-C cancels whatever is parked, and
 * as the device's health fd, so a reset or a failure is reported as it
 * happens (requests a reset ended are parked again).
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <devsim/dsim_hw.h>
#include <drv/drv.h>
#include <drv/nvme.h>

#include "common.h"

#define PROG "notify"
#define MAX_PARKED 256u
#define REAP_BATCH 8 /* requests taken per drv_reap() call */
#define DRAIN_TIMEOUT_NS (30ll * 1000000000ll)

struct options {
	const char *device;
	unsigned parked;
	uint64_t count; /* 0 = until interrupted */
	double timeout; /* 0 = none */
	const char **raise;
	unsigned nraise;
	int nvme; /* events are NVMe asynchronous event DW0s, printed decoded */
};

struct slot {
	struct drv_req req;
	int in_flight;
	char payload[DSIM_EVENT_PAYLOAD_MAX];
};

struct tally {
	uint64_t events; /* printed */
	unsigned late;   /* events past --count, not printed */
	unsigned cancelled;
};

static void usage(void)
{
	printf("Usage: " PROG " [OPTIONS]\n"
	       "libdrv example: device events delivered to parked WAIT_EVENT requests.\n"
	       "\n"
	       "Parks WAIT_EVENT requests in the device and prints each event's payload as\n"
	       "the request completes, parking it again for the next event. SIGINT or\n"
	       "SIGTERM cancels the parked requests and exits cleanly.\n"
	       "\n"
	       "Options:\n"
	       "  --device URI      device to open (default " APP_DEFAULT_DEVICE ")\n"
	       "  --parked N        requests kept parked, 1-256 (default 4)\n"
	       "  --count N         exit after N events (default: run until interrupted)\n"
	       "  --timeout SEC     give up after SEC seconds (exit 1 if --count was not met)\n"
	       "  --raise TEXT      after parking, ask the device to raise an event carrying\n"
	       "                    TEXT (repeatable; needed with sim:inproc, which has no\n"
	       "                    outside raiser)\n"
	       "  --help            show this help\n"
	       "\n"
	       "With --device sim:/path.sock, raise events with:\n"
	       "  devsim event --socket /path.sock \"text\"\n"
	       "On an NVMe controller each event is an Asynchronous Event (type, info, log\n"
	       "page; the driver reads the log page, re-arming the event); in the guest of\n"
	       "vm/run --nvme the host raises SMART ones through QMP (docs/nvme.md).\n"
	       "\n"
	       "Exit status: 0 success, 1 runtime failure (also: --timeout passed before\n"
	       "--count events), 2 bad arguments.\n");
}

static void parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_DEVICE = 256, OPT_PARKED, OPT_COUNT, OPT_TIMEOUT, OPT_RAISE };
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "parked", required_argument, NULL, OPT_PARKED },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "raise", required_argument, NULL, OPT_RAISE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .parked = 4 };
	o->raise = calloc((size_t)argc, sizeof(*o->raise));
	if (!o->raise) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(APP_EXIT_RUNTIME);
	}
	while ((c = app_getopt(PROG, argc, argv, longopts, usage)) != -1) {
		switch (c) {
		case OPT_DEVICE:
			o->device = optarg;
			break;
		case OPT_PARKED:
			o->parked =
			    (unsigned)app_parse_u64(PROG, "--parked", optarg, 1, MAX_PARKED, 0);
			break;
		case OPT_COUNT:
			o->count = app_parse_u64(PROG, "--count", optarg, 1, UINT32_MAX, 0);
			break;
		case OPT_TIMEOUT:
			o->timeout = app_parse_seconds(PROG, "--timeout", optarg);
			break;
		case OPT_RAISE:
			if (!optarg[0] || strlen(optarg) > DSIM_EVENT_PAYLOAD_MAX)
				app_usage_error(PROG, "--raise needs 1 to %u bytes of text",
						DSIM_EVENT_PAYLOAD_MAX);
			o->raise[o->nraise++] = optarg;
			break;
		}
	}
	app_no_more_args(PROG, argc, argv);
}

/* Signals must be blocked before libdrv may start a thread, so none of them takes it. */
static int open_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	/* A shell starts background jobs with SIGINT ignored; take it back. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int park(drv_queue *q, struct slot *s)
{
	struct drv_req *r = &s->req;

	drv_prep_wait_event(r, s->payload, sizeof(s->payload));
	r->user_data = s;
	if (drv_submit(q, &r, 1) != 1)
		return app_fail(PROG, "parking a WAIT_EVENT request");
	s->in_flight = 1;
	return 0;
}

static const char *nvme_event_type(unsigned type)
{
	switch (type) {
	case 0:
		return "error";
	case 1:
		return "SMART/health";
	case 2:
		return "notice";
	case 6:
		return "I/O command set";
	case 7:
		return "vendor";
	default:
		return "reserved-type";
	}
}

/* Accounts for one delivered request; returns -1 on a device error. */
static int deliver(const struct options *o, struct slot *s, struct tally *t)
{
	const struct drv_req *r = &s->req;

	s->in_flight = 0;
	if (r->status == -ECANCELED) {
		t->cancelled++;
		return 0;
	}
	if (r->status == -ECONNRESET || r->status == -EIO) {
		/* A reset ended it, or a fatal error that recovery resets: park it again. */
		if (r->status == -EIO)
			printf("the device reported a fatal error; parking again\n");
		return 0;
	}
	if (r->status < 0) {
		fprintf(stderr, PROG ": WAIT_EVENT failed: %s\n", strerror(-r->status));
		return -1;
	}
	if (o->count && t->events >= o->count) {
		t->late++;
		return 0;
	}
	t->events++;
	if (o->nvme && r->result >= sizeof(uint32_t)) {
		uint32_t dw0;
		memcpy(&dw0, s->payload, sizeof(dw0));
		printf("event %llu: NVMe %s event, info 0x%02x, log page 0x%02x\n",
		       (unsigned long long)t->events, nvme_event_type(DRV_NVME_EVENT_TYPE(dw0)),
		       DRV_NVME_EVENT_INFO(dw0), DRV_NVME_EVENT_LOG_PAGE(dw0));
		fflush(stdout);
		return 0;
	}
	printf("event %llu: \"", (unsigned long long)t->events);
	app_print_escaped(s->payload, (size_t)r->result);
	printf("\" (%llu bytes%s)\n", (unsigned long long)r->result,
	       r->result_flags & DRV_RESULT_TRUNCATED ? ", truncated" : "");
	fflush(stdout);
	return 0;
}

static int raise_events(const struct options *o, drv_queue *q)
{
	for (unsigned i = 0; i < o->nraise; i++) {
		if (drv_control(q, DSIM_CTL_RAISE_EVENT, o->raise[i], strlen(o->raise[i]), NULL,
				0) < 0)
			return app_fail(PROG, "raising an event");
		printf("raised \"%s\"\n", o->raise[i]);
	}
	fflush(stdout);
	return 0;
}

/* Cancels what is still parked and collects every request back. */
static int drain(const struct options *o, drv_queue *q, struct slot *slots, struct tally *t)
{
	struct drv_req *wait[MAX_PARKED];
	struct slot *owner[MAX_PARKED];
	unsigned n = 0;
	int rc = 0;

	if (drv_cancel_all(q) < 0)
		return app_fail(PROG, "cancelling the parked requests");
	for (unsigned i = 0; i < o->parked; i++) {
		if (slots[i].in_flight) {
			owner[n] = &slots[i];
			wait[n++] = &slots[i].req;
		}
	}
	if (n && drv_wait_all(q, wait, n, DRAIN_TIMEOUT_NS) < 0)
		return app_fail(PROG, "waiting for the cancelled requests");
	for (unsigned i = 0; i < n; i++)
		if (deliver(o, owner[i], t) < 0)
			rc = APP_EXIT_RUNTIME;
	printf("cancelled %u parked requests", t->cancelled);
	if (t->late)
		printf("; %u more events arrived after --count was reached", t->late);
	printf("\n");
	return rc;
}

/*
 * Delivers every finished request and parks it again. One wake-up of the
 * queue fd may stand for many completions and the first drv_reap() consumes
 * it, so reap until a call returns fewer than asked for: what is left
 * behind would never make the fd readable again.
 */
static int reap_all(const struct options *o, drv_queue *q, struct tally *t)
{
	struct drv_req *done[REAP_BATCH];
	int n;

	do {
		n = drv_reap(q, done, REAP_BATCH, 0, 0);
		if (n < 0)
			return app_fail(PROG, "reaping completions");
		for (int i = 0; i < n; i++) {
			struct slot *s = done[i]->user_data;

			if (deliver(o, s, t) < 0)
				return APP_EXIT_RUNTIME;
			if ((!o->count || t->events < o->count) && park(q, s))
				return APP_EXIT_RUNTIME;
		}
	} while (n == REAP_BATCH);
	return 0;
}

static int poll_timeout_ms(uint64_t deadline_ns)
{
	uint64_t now = drv_now_ns();

	if (!deadline_ns)
		return -1;
	if (now >= deadline_ns)
		return 0;
	return (int)((deadline_ns - now + 999999) / 1000000);
}

enum stop_reason { STOP_COUNT, STOP_SIGNAL, STOP_TIMEOUT };

static void print_health(drv_dev *dev)
{
	static const char *const names[] = { "ok", "degraded", "resetting", "failed" };
	struct drv_health h;

	if (drv_health(dev, &h) < 0)
		return;
	printf("device health: %s (%s)\n", h.state <= DRV_HEALTH_FAILED ? names[h.state] : "?",
	       h.reason);
	fflush(stdout);
}

/* Delivers events until --count, a signal or the deadline. */
static int event_loop(const struct options *o, drv_dev *dev, drv_queue *q, int sfd, struct tally *t,
		      enum stop_reason *why)
{
	uint64_t deadline = o->timeout > 0 ? drv_now_ns() + (uint64_t)(o->timeout * 1e9) : 0;
	struct pollfd fds[3] = { { .fd = drv_queue_fd(q), .events = POLLIN },
				 { .fd = sfd, .events = POLLIN },
				 { .fd = drv_health_fd(dev), .events = POLLIN } };

	for (;;) {
		int rc = reap_all(o, q, t);

		if (rc)
			return rc;
		if (o->count && t->events >= o->count) {
			*why = STOP_COUNT;
			return 0;
		}
		int n = poll(fds, 3, poll_timeout_ms(deadline));
		if (n < 0 && errno != EINTR) {
			perror(PROG ": poll");
			return APP_EXIT_RUNTIME;
		}
		if (n == 0) {
			*why = STOP_TIMEOUT;
			return 0;
		}
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				printf("caught %s; cancelling\n",
				       si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			*why = STOP_SIGNAL;
			return 0;
		}
		if (fds[2].revents & POLLIN)
			print_health(dev);
	}
}

static int run(const struct options *o, drv_dev *dev, int sfd)
{
	struct drv_queue_opts qo = { .depth = 64 };
	struct slot *slots = calloc(o->parked, sizeof(*slots));
	struct tally t = { 0 };
	enum stop_reason why = STOP_COUNT;
	drv_queue *q = NULL;
	int rc = APP_EXIT_RUNTIME;

	/* One slot beyond the parked requests keeps room for RAISE_EVENT. */
	while (qo.depth < o->parked + 1)
		qo.depth *= 2;
	if (!slots) {
		fprintf(stderr, PROG ": out of memory\n");
		return APP_EXIT_RUNTIME;
	}
	if (drv_queue_create(dev, &qo, &q) < 0) {
		rc = app_fail(PROG, "creating a queue");
		goto out;
	}
	for (unsigned i = 0; i < o->parked; i++)
		if (park(q, &slots[i]))
			goto out;
	printf("parked %u WAIT_EVENT requests; waiting for events (Ctrl-C stops)\n", o->parked);
	fflush(stdout);
	rc = raise_events(o, q);
	if (!rc)
		rc = event_loop(o, dev, q, sfd, &t, &why);
	if (!rc && why == STOP_TIMEOUT) {
		printf("timed out after %g s with %llu events; cancelling\n", o->timeout,
		       (unsigned long long)t.events);
		if (o->count) {
			fprintf(stderr, PROG ": timed out: %llu of %llu events arrived\n",
				(unsigned long long)t.events, (unsigned long long)o->count);
			rc = APP_EXIT_RUNTIME;
		}
	}
	if (drain(o, q, slots, &t) && !rc)
		rc = APP_EXIT_RUNTIME;
out:
	if (q && drv_queue_destroy(q) < 0 && !rc)
		rc = app_fail(PROG, "destroying the queue");
	free(slots);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct drv_info info;
	drv_dev *dev;
	int sfd, rc;

	parse_args(argc, argv, &o);
	sfd = open_signalfd();
	if (sfd < 0) {
		perror(PROG ": signalfd");
		free(o.raise);
		return APP_EXIT_RUNTIME;
	}
	if (!o.device)
		o.device = APP_DEFAULT_DEVICE;
	rc = app_open(PROG, o.device, &dev);
	if (rc)
		goto out;
	if (drv_info(dev, &info) < 0)
		rc = app_fail(PROG, "reading device info");
	else if (!(info.features & DRV_FEAT_EVENTS)) {
		fprintf(stderr, PROG ": %s (%s) raises no events\n", o.device, info.driver);
		rc = APP_EXIT_RUNTIME;
	} else if (o.nraise && strcmp(info.driver, "dsim") != 0) {
		fprintf(stderr,
			PROG ": --raise asks dsim to raise an event; %s (%s) has no such "
			     "control code: raise events from outside the device instead\n",
			o.device, info.driver);
		rc = APP_EXIT_USAGE;
	} else {
		o.nvme = strcmp(info.driver, "nvme") == 0;
		rc = run(&o, dev, sfd);
	}
	if (drv_close(dev) < 0 && !rc)
		rc = app_fail(PROG, "closing the device");
out:
	close(sfd);
	free(o.raise);
	return rc;
}
