/* SPDX-License-Identifier: MIT */
#include "device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <devsim/dsim_hw.h>

#include "../common.h"
#include "uring_backend.h"

#define INPROC_PREFIX "sim:inproc"
#define INPROC_DEFAULT_QUEUES 4

static int parse_time_ns(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		uint64_t scale;
	} units[] = {
		{ "", 1 }, { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 }
	};
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].suffix)) {
			*out = (uint64_t)(v * (double)units[i].scale);
			return 0;
		}
	return -1;
}

/* One distribution: fixed:T, uniform:MEAN:SPREAD or exp:MEAN. */
static int parse_dist(const char *spec, struct dsim_op_timing *t)
{
	char buf[128], *mean, *spread;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	mean = strchr(buf, ':');
	if (!mean)
		return -1;
	*mean++ = '\0';
	spread = strchr(mean, ':');
	if (spread)
		*spread++ = '\0';
	*t = (struct dsim_op_timing){ 0 };
	if (!strcmp(buf, "fixed"))
		t->dist = DSIM_DIST_FIXED;
	else if (!strcmp(buf, "uniform"))
		t->dist = DSIM_DIST_UNIFORM;
	else if (!strcmp(buf, "exp"))
		t->dist = DSIM_DIST_EXPONENTIAL;
	else
		return -1;
	if (parse_time_ns(mean, &t->mean_ns))
		return -1;
	if (t->dist == DSIM_DIST_UNIFORM)
		return !spread || parse_time_ns(spread, &t->spread_ns) || t->spread_ns > t->mean_ns
			   ? -1
			   : 0;
	return spread ? -1 : 0;
}

/* "SPEC" (every data and control opcode) or "read=SPEC,write=SPEC,...". */
static int parse_timing(const char *spec, struct dsim_timing *t)
{
	static const char *const ops[DSIM_OP_COUNT] = { "nop",     "read",       "write", "flush",
							"control", "wait_event", "abort" };
	char buf[512], *save = NULL;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	*t = (struct dsim_timing){ 0 };
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		struct dsim_op_timing ot;
		if (parse_dist(eq ? eq + 1 : item, &ot))
			return -1;
		if (!eq) {
			for (unsigned op = 0; op <= DSIM_OP_CONTROL; op++)
				t->op[op] = ot;
			continue;
		}
		*eq = '\0';
		unsigned op = 0;
		while (op < DSIM_OP_COUNT && strcmp(ops[op], item))
			op++;
		if (op == DSIM_OP_COUNT)
			return -1;
		t->op[op] = ot;
	}
	return 0;
}

static int is_inproc(const char *uri)
{
	size_t n = strlen(INPROC_PREFIX);
	return !strncmp(uri, INPROC_PREFIX, n) && (uri[n] == '\0' || uri[n] == '?');
}

static int send_timing(drv_dev *dev, const struct dsim_timing *t)
{
	drv_queue *q;
	int rc = drv_queue_create(dev, NULL, &q);

	if (rc < 0)
		return app_fail("drvbench", "creating a queue to set the timing");
	int64_t res = drv_control(q, DSIM_CTL_SET_TIMING, t, sizeof(*t), NULL, 0);
	drv_queue_destroy(q);
	if (res < 0)
		return app_fail("drvbench", "DSIM_CTL_SET_TIMING");
	return 0;
}

/*
 * A fresh RAM-backed dsim reads untouched storage from the shared zero page,
 * which is faster than any real copy; writing the span first makes reads
 * copy real memory.
 */
static int prefill(drv_dev *dev, uint64_t span)
{
	struct drv_req req, *reqs[1] = { &req };
	drv_queue *q;
	int rc = drv_queue_create(dev, NULL, &q);

	if (rc < 0)
		return app_fail("drvbench", "creating a queue to fill the storage");
	drv_prep_control(&req, DSIM_CTL_FILL, NULL, 0, NULL, 0);
	req.offset = 0;
	req.arg[0] = span;
	req.arg[1] = 0xa5;
	rc = drv_submit(q, reqs, 1);
	if (rc == 1)
		rc = drv_wait(q, &req, -1);
	if (rc >= 0)
		rc = req.status;
	drv_queue_destroy(q);
	if (rc < 0) {
		fprintf(stderr, "drvbench: filling the storage before reading: %s\n",
			strerror(-rc));
		return APP_EXIT_RUNTIME;
	}
	return 0;
}

static int libdrv_open(const struct bench_opts *o, unsigned queues, drv_dev **dev,
		       struct drv_info *info)
{
	struct dsim_timing timing;
	char uri[1600]; /* fits the longest device and latency spec accepted */
	int inproc = is_inproc(o->device);

	if (o->latency && parse_timing(o->latency, &timing)) {
		fprintf(stderr,
			"drvbench: --latency '%s': expected fixed:TIME, uniform:MEAN:SPREAD or "
			"exp:MEAN (optionally OP=SPEC,...), TIME like 100ns, 10us, 1ms\n"
			"Try 'drvbench --help' for more information.\n",
			o->latency);
		return APP_EXIT_USAGE;
	}
	if (strlen(o->device) > 1000) {
		fprintf(stderr, "drvbench: --device URI is too long\n");
		return APP_EXIT_USAGE;
	}
	int len = snprintf(uri, sizeof(uri), "%s", o->device);
	if (inproc && o->latency)
		len += snprintf(uri + len, sizeof(uri) - (size_t)len, "%slatency=%s",
				strchr(uri, '?') ? "&" : "?", o->latency);
	if (inproc && queues > INPROC_DEFAULT_QUEUES && !strstr(uri, "queues="))
		len += snprintf(uri + len, sizeof(uri) - (size_t)len, "%squeues=%u",
				strchr(uri, '?') ? "&" : "?", queues);
	if (drv_open(uri, NULL, dev) < 0)
		return app_fail("drvbench", uri);
	if (drv_info(*dev, info) < 0) {
		app_fail("drvbench", "reading the device description");
		drv_close(*dev);
		return APP_EXIT_RUNTIME;
	}
	if (!inproc && o->latency) {
		int rc = 0;
		if (strcmp(info->driver, "dsim")) {
			fprintf(stderr, "drvbench: --latency needs a dsim device, not %s\n",
				info->driver);
			rc = APP_EXIT_USAGE;
		} else if (send_timing(*dev, &timing)) {
			rc = APP_EXIT_RUNTIME;
		}
		if (rc) {
			drv_close(*dev);
			return rc;
		}
	}
	if ((o->op == BENCH_READ || o->op == BENCH_MIX) && !strcmp(info->driver, "dsim") &&
	    prefill(*dev, info->capacity < DEVICE_SPAN_MAX ? info->capacity : DEVICE_SPAN_MAX)) {
		drv_close(*dev);
		return APP_EXIT_RUNTIME;
	}
	return 0;
}

int device_open(const struct bench_opts *o, unsigned queues, struct bench_device *d)
{
	const char *path = uring_path(o->device);

	*d = (struct bench_device){ 0 };
	if (!path)
		return libdrv_open(o, queues, &d->dev, &d->info);
	if (uring_dev_open(path, o->op != BENCH_READ, o->bs, o->mode, &d->uring, &d->info) < 0)
		return APP_EXIT_RUNTIME;
	return 0;
}

void device_close(struct bench_device *d)
{
	if (d->dev)
		drv_close(d->dev);
	uring_dev_close(d->uring);
	*d = (struct bench_device){ 0 };
}
