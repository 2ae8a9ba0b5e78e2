/* SPDX-License-Identifier: MIT */
/*
 * asyncread: the overlapped-read demo. Text is written to the device, then
 * several reads are submitted at once; each is answered "pending" and the
 * program waits for all of them together, like WaitForMultipleObjects on
 * the events of three overlapped ReadFile calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drv/drv.h>

#include "common.h"

#define PROG "asyncread"
#define MAX_READS 26 /* one letter per buffer */
#define DEFAULT_LATENCY "fixed:1s"

struct options {
	const char *device;
	const char *latency;
	unsigned count;
	size_t size;
	int direct;
	int serial;
};

static void usage(void)
{
	printf("Usage: " PROG " [OPTIONS]\n"
	       "libdrv example: several reads pending at once, then waited for together.\n"
	       "\n"
	       "Writes one line of text per buffer into the device, submits one read per\n"
	       "buffer without waiting, then waits for all of them and prints each buffer\n"
	       "with its completion time.\n"
	       "\n"
	       "Options:\n"
	       "  --device URI     device to open (default " APP_DEFAULT_DEVICE ")\n"
	       "  --latency SPEC   sim:inproc service time, e.g. fixed:1s, uniform:10ms:5ms\n"
	       "                   (default " DEFAULT_LATENCY " when no --device is given)\n"
	       "  --count N        number of reads, 1-26 (default 3)\n"
	       "  --size N         bytes per read (default 32; K, M suffixes allowed)\n"
	       "  --direct         read into a DMA buffer (direct I/O) instead of plain\n"
	       "                   memory copied through a bounce buffer (buffered I/O)\n"
	       "  --serial         one request at a time on a sim:inproc device (units=1):\n"
	       "                   completions arrive one per latency period\n"
	       "  --help           show this help\n"
	       "\n"
	       "Exit status: 0 success, 1 runtime failure, 2 bad arguments.\n");
}

static void parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_DEVICE = 256, OPT_LATENCY, OPT_COUNT, OPT_SIZE, OPT_DIRECT, OPT_SERIAL };
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "latency", required_argument, NULL, OPT_LATENCY },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "size", required_argument, NULL, OPT_SIZE },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "serial", no_argument, NULL, OPT_SERIAL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .count = 3, .size = 32 };
	while ((c = app_getopt(PROG, argc, argv, longopts, usage)) != -1) {
		switch (c) {
		case OPT_DEVICE:
			o->device = optarg;
			break;
		case OPT_LATENCY:
			o->latency = optarg;
			break;
		case OPT_COUNT:
			o->count =
			    (unsigned)app_parse_u64(PROG, "--count", optarg, 1, MAX_READS, 0);
			break;
		case OPT_SIZE:
			o->size = (size_t)app_parse_u64(PROG, "--size", optarg, 1, 64u << 20, 1);
			break;
		case OPT_DIRECT:
			o->direct = 1;
			break;
		case OPT_SERIAL:
			o->serial = 1;
			break;
		}
	}
	app_no_more_args(PROG, argc, argv);
}

static int is_inproc(const char *uri)
{
	size_t n = strlen("sim:inproc");

	return strncmp(uri, "sim:inproc", n) == 0 && (uri[n] == '\0' || uri[n] == '?');
}

/*
 * The latency knobs only exist on the embedded simulator; a device given
 * explicitly is otherwise used as it is.
 */
static char *device_uri(const struct options *o)
{
	const char *base = o->device ? o->device : APP_DEFAULT_DEVICE;
	const char *latency = o->latency;
	const char *units = o->serial ? "&units=1" : "";
	char *uri;

	if (!is_inproc(base)) {
		if (o->serial || o->latency)
			app_usage_error(PROG, "--serial and --latency apply to sim:inproc only; "
					      "give the latency to `devsim serve` instead");
		return strdup(base);
	}
	if (!latency && (o->serial || strcmp(base, APP_DEFAULT_DEVICE) == 0))
		latency = DEFAULT_LATENCY;
	if (!latency)
		return strdup(base);
	if (asprintf(&uri, "%s%clatency=%s%s", base, strchr(base, '?') ? '&' : '?', latency,
		     units) < 0)
		return NULL;
	return uri;
}

/* Submits the requests (all at once when the queue has room) and checks they are pending. */
static int submit_all(drv_queue *q, struct drv_req **reqs, unsigned n)
{
	unsigned done = 0, pending = 0;

	while (done < n) {
		int rc = drv_submit(q, reqs + done, n - done);

		if (rc < 0)
			return app_fail(PROG, "submitting reads");
		done += (unsigned)rc;
	}
	for (unsigned i = 0; i < n; i++)
		pending += !drv_req_done(reqs[i]);
	if (pending == n)
		printf("submitted %u reads; all pending\n", n);
	else
		printf("submitted %u reads; %u pending, %u already finished\n", n, pending,
		       n - pending);
	return 0;
}

static int write_text(drv_queue *q, const char *text, drv_buf *dma, size_t total,
		      size_t max_transfer)
{
	for (size_t off = 0; off < total; off += max_transfer) {
		size_t len = total - off < max_transfer ? total - off : max_transfer;
		struct drv_req w, *wp = &w;

		if (dma)
			drv_prep_write_buf(&w, off, dma, off, len);
		else
			drv_prep_write(&w, off, text + off, len);
		if (drv_submit(q, &wp, 1) < 0 || drv_wait(q, &w, -1) < 0)
			return app_fail(PROG, "writing the text");
		if (w.status < 0) {
			fprintf(stderr, PROG ": writing the text: %s\n", strerror(-w.status));
			return APP_EXIT_RUNTIME;
		}
	}
	return 0;
}

static int report(struct drv_req *const *reqs, unsigned n, const char *text, const char *got,
		  size_t size)
{
	uint64_t first = reqs[0]->submit_ns, last = 0;
	int rc = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct drv_req *r = reqs[i];
		const char *data = got + (size_t)i * size;

		if (r->status < 0) {
			fprintf(stderr, PROG ": read %c failed: %s\n", 'A' + i,
				strerror(-r->status));
			rc = APP_EXIT_RUNTIME;
			continue;
		}
		printf("buffer %c: \"", 'A' + i);
		app_print_escaped(data, strnlen(data, (size_t)r->result));
		printf("\"  (%llu bytes, completed %.3f s after submission)\n",
		       (unsigned long long)r->result,
		       (double)(r->complete_ns - r->submit_ns) / 1e9);
		if (r->result != size || memcmp(data, text + (size_t)i * size, size) != 0) {
			fprintf(stderr, PROG ": buffer %c differs from the text written\n",
				'A' + i);
			rc = APP_EXIT_RUNTIME;
		}
		if (r->complete_ns > last)
			last = r->complete_ns;
	}
	if (rc == 0)
		printf("all %u reads finished %.3f s after the first submission\n", n,
		       (double)(last - first) / 1e9);
	return rc;
}

static int run(const struct options *o, drv_dev *dev)
{
	struct drv_req reqs[MAX_READS], *ptrs[MAX_READS];
	struct drv_info info;
	drv_queue *q = NULL;
	drv_buf *dma = NULL;
	size_t total = (size_t)o->count * o->size;
	char *text = calloc(1, total), *plain = calloc(1, total);
	char *dst;
	int rc = APP_EXIT_RUNTIME;

	if (!text || !plain) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	if (drv_info(dev, &info) < 0) {
		rc = app_fail(PROG, "reading device info");
		goto out;
	}
	if (total > info.capacity) {
		fprintf(stderr,
			PROG
			": %zu bytes needed but the device holds %llu; lower --count or --size\n",
			total, (unsigned long long)info.capacity);
		goto out;
	}
	if (info.max_transfer && o->size > info.max_transfer) {
		fprintf(stderr, PROG ": --size %zu is above the device's %u bytes per request\n",
			o->size, info.max_transfer);
		goto out;
	}
	if (drv_queue_create(dev, NULL, &q) < 0) {
		rc = app_fail(PROG, "creating a queue");
		goto out;
	}
	for (unsigned i = 0; i < o->count; i++)
		snprintf(text + (size_t)i * o->size, o->size, "%c: hello from dsim", 'A' + i);
	if (o->direct) {
		if (drv_buf_alloc(dev, total, &dma) < 0) {
			rc = app_fail(PROG, "allocating a DMA buffer");
			goto out;
		}
		memcpy(drv_buf_addr(dma), text, total);
	}
	rc = write_text(q, text, dma, total, info.max_transfer ? info.max_transfer : total);
	if (rc)
		goto out;
	printf("wrote %u buffers of %zu bytes (%s I/O)\n", o->count, o->size,
	       o->direct ? "direct" : "buffered");

	dst = dma ? drv_buf_addr(dma) : plain;
	memset(dst, 0, total);
	for (unsigned i = 0; i < o->count; i++) {
		size_t off = (size_t)i * o->size;

		if (dma)
			drv_prep_read_buf(&reqs[i], off, dma, off, o->size);
		else
			drv_prep_read(&reqs[i], off, plain + off, o->size);
		ptrs[i] = &reqs[i];
	}
	rc = submit_all(q, ptrs, o->count);
	if (rc)
		goto out;
	if (drv_wait_all(q, ptrs, o->count, -1) < 0) {
		rc = app_fail(PROG, "waiting for the reads");
		goto out;
	}
	rc = report(ptrs, o->count, text, dst, o->size);
out:
	if (dma)
		drv_buf_free(dma);
	if (q && drv_queue_destroy(q) < 0 && rc == 0)
		rc = app_fail(PROG, "destroying the queue");
	free(text);
	free(plain);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	drv_dev *dev;
	char *uri;
	int rc;

	parse_args(argc, argv, &o);
	uri = device_uri(&o);
	if (!uri) {
		fprintf(stderr, PROG ": out of memory\n");
		return APP_EXIT_RUNTIME;
	}
	if (app_open(PROG, uri, &dev)) {
		free(uri);
		return APP_EXIT_RUNTIME;
	}
	printf("opened %s\n", uri);
	rc = run(&o, dev);
	if (drv_close(dev) < 0 && rc == 0)
		rc = app_fail(PROG, "closing the device");
	free(uri);
	fflush(stdout);
	return rc;
}
