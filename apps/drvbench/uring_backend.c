/* SPDX-License-Identifier: MIT */
#include "uring_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#define PROG "drvbench"

struct uring_dev {
	int fd;
};

struct uring_queue {
	struct io_uring ring;
	enum drv_cmode mode;
	const unsigned char *bufs; /* registered: slot i is buffer index i */
	size_t slot_len;
	uint64_t submitted, completed, submit_calls, waits;
};

const char *uring_path(const char *uri)
{
	size_t n = strlen(URING_PREFIX);
	return strncmp(uri, URING_PREFIX, n) ? NULL : uri + n;
}

/* First line of a sysfs file, without the newline; 0 or -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		rc = -EIO;
	fclose(f);
	if (!rc)
		buf[strcspn(buf, "\n")] = '\0';
	return rc;
}

/*
 * A sysfs attribute of the disk behind device number dev: the device's own
 * directory for a whole disk, its parent's for a partition. 0 or -errno.
 */
static int disk_attr(dev_t dev, const char *attr, char *buf, size_t len)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", major(dev), minor(dev), attr);
	if (!read_line(path, buf, len))
		return 0;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../%s", major(dev), minor(dev), attr);
	return read_line(path, buf, len);
}

/*
 * --mode poll needs a block layer queue that polls (NVMe: poll queues);
 * without one the kernel quietly completes IOPOLL requests by interrupt.
 * A device number without a disk in sysfs (tmpfs, overlay) is not checked.
 */
static int check_polling(const char *path, dev_t disk)
{
	char v[16];

	if (disk_attr(disk, "queue/io_poll", v, sizeof(v)) || strcmp(v, "0"))
		return 0;
	fprintf(stderr,
		"%s: --mode poll: the kernel does not poll the device behind %s "
		"(/sys/dev/block/%u:%u/queue/io_poll is 0), so completions would still come "
		"by interrupt. For NVMe, give the driver poll queues (nvme.poll_queues=N on "
		"the kernel command line, or modprobe nvme poll_queues=N), or use --mode irq.\n",
		PROG, path, major(disk), minor(disk));
	return -EOPNOTSUPP;
}

static int check_block_size(const char *path, int fd, size_t bs)
{
	int lbs = 0;

	if (ioctl(fd, BLKSSZGET, &lbs) < 0 || lbs <= 0 || bs % (size_t)lbs == 0)
		return 0;
	fprintf(stderr,
		"%s: --bs %zu is not a multiple of the logical block size of %s (%d bytes), "
		"which O_DIRECT requires\n",
		PROG, bs, path, lbs);
	return -EINVAL;
}

static void describe(const char *path, const struct stat *st, uint64_t capacity,
		     struct drv_info *info)
{
	char model[sizeof(info->model)] = "";

	*info = (struct drv_info){
		.capacity = capacity,
		.max_queues = 1024,
		.max_queue_depth = URING_MAX_DEPTH,
		.max_transfer = UINT32_MAX,
		.irq_mode = DRV_IRQ_NONE,
	};
	snprintf(info->driver, sizeof(info->driver), "kernel");
	snprintf(info->bus, sizeof(info->bus), "uring");
	snprintf(info->address, sizeof(info->address), "%s", path);
	if (S_ISBLK(st->st_mode) && !disk_attr(st->st_rdev, "device/model", model, sizeof(model))) {
		/* sysfs pads the model with blanks. */
		size_t n = strlen(model);
		while (n && model[n - 1] == ' ')
			model[--n] = '\0';
	}
	if (!*model)
		snprintf(model, sizeof(model), "%s",
			 S_ISBLK(st->st_mode) ? "block device" : "regular file");
	snprintf(info->model, sizeof(info->model), "%s", model);
}

int uring_dev_open(const char *path, int writes, size_t bs, enum drv_cmode mode,
		   struct uring_dev **out, struct drv_info *info)
{
	struct uring_dev *d;
	struct stat st;
	uint64_t capacity;
	int fd = open(path, (writes ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC), rc = 0;

	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, "%s: cannot open %s with O_DIRECT: %s%s\n", PROG, path,
			strerror(-rc),
			rc == -EINVAL ? " (O_DIRECT is not supported there: use a block device, "
					"or a file on a file system that supports it)"
				      : "");
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(-rc));
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &capacity) < 0) {
			rc = -errno;
			fprintf(stderr, "%s: %s: BLKGETSIZE64: %s\n", PROG, path, strerror(-rc));
		} else {
			rc = check_block_size(path, fd, bs);
		}
		if (!rc && mode == DRV_CMODE_POLL)
			rc = check_polling(path, st.st_rdev);
	} else if (S_ISREG(st.st_mode)) {
		capacity = (uint64_t)st.st_size;
		if (mode == DRV_CMODE_POLL)
			rc = check_polling(path, st.st_dev);
	} else {
		fprintf(stderr, "%s: %s is neither a block device nor a regular file\n", PROG,
			path);
		rc = -EINVAL;
	}
	if (!rc && !(d = malloc(sizeof(*d))))
		rc = -ENOMEM;
	if (rc) {
		close(fd);
		return rc;
	}
	d->fd = fd;
	describe(path, &st, capacity, info);
	*out = d;
	return 0;
}

void uring_dev_close(struct uring_dev *d)
{
	if (d) {
		close(d->fd);
		free(d);
	}
}

int uring_queue_create(const struct uring_dev *d, unsigned depth, enum drv_cmode mode, void *bufs,
		       size_t slot_len, struct uring_queue **out)
{
	struct uring_queue *q;
	struct iovec *iov;
	int rc;

	if (mode == DRV_CMODE_HYBRID || !depth || depth > URING_MAX_DEPTH)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	iov = calloc(depth, sizeof(*iov));
	if (!q || !iov) {
		free(q);
		free(iov);
		return -ENOMEM;
	}
	q->mode = mode;
	q->bufs = bufs;
	q->slot_len = slot_len;
	for (unsigned i = 0; i < depth; i++)
		iov[i] = (struct iovec){ (unsigned char *)bufs + i * slot_len, slot_len };
	rc = io_uring_queue_init(depth, &q->ring, mode == DRV_CMODE_POLL ? IORING_SETUP_IOPOLL : 0);
	if (rc < 0) {
		free(q);
		free(iov);
		return rc;
	}
	rc = io_uring_register_files(&q->ring, &d->fd, 1);
	if (rc >= 0)
		rc = io_uring_register_buffers(&q->ring, iov, depth);
	free(iov);
	if (rc < 0) {
		io_uring_queue_exit(&q->ring);
		free(q);
		return rc;
	}
	*out = q;
	return 0;
}

void uring_queue_destroy(struct uring_queue *q)
{
	struct __kernel_timespec ts = { .tv_sec = 1 };
	struct io_uring_cqe *cqe;

	if (!q)
		return;
	/* After a failure requests may still be in flight into the buffers: let them end. */
	while (q->submitted > q->completed && !io_uring_wait_cqe_timeout(&q->ring, &cqe, &ts)) {
		io_uring_cqe_seen(&q->ring, cqe);
		q->completed++;
	}
	io_uring_queue_exit(&q->ring);
	free(q);
}

int uring_queue_fd(const struct uring_queue *q)
{
	return q->ring.ring_fd;
}

int uring_queue_submit(struct uring_queue *q, struct drv_req *const reqs[], unsigned n)
{
	uint64_t now = drv_now_ns();
	unsigned done = 0;

	for (unsigned i = 0; i < n; i++) {
		struct drv_req *r = reqs[i];
		struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);
		unsigned char *data = r->data;
		int idx = (int)((size_t)(data - q->bufs) / q->slot_len);

		if (!sqe) /* more than the ring's depth in flight: a caller's bug */
			return -EOVERFLOW;
		if (r->op == DRV_OP_WRITE)
			io_uring_prep_write_fixed(sqe, 0, data, (unsigned)r->len, r->offset, idx);
		else
			io_uring_prep_read_fixed(sqe, 0, data, (unsigned)r->len, r->offset, idx);
		sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data(sqe, r);
		r->status = -EINPROGRESS;
		r->result_flags = 0;
		r->submit_ns = now;
	}
	/* The kernel takes them all unless the ring itself fails. */
	while (done < n) {
		int rc = io_uring_submit(&q->ring);
		q->submit_calls++;
		if (rc == -EINTR)
			continue;
		if (rc < 0)
			return rc;
		if (rc == 0)
			return -EBUSY;
		done += (unsigned)rc;
	}
	q->submitted += n;
	return (int)n;
}

/* Moves what the completion queue holds into requests; no system call. */
static unsigned harvest(struct uring_queue *q, struct drv_req **out, unsigned max)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&q->ring, head, cqe)
	{
		if (n == max)
			break;
		struct drv_req *r = io_uring_cqe_get_data(cqe);
		if (cqe->res < 0) {
			r->status = cqe->res;
			r->result = 0;
		} else {
			r->result = (uint64_t)cqe->res;
			r->status = r->result == r->len ? 0 : -EIO;
			if (r->status)
				r->result_flags |= URING_RESULT_SHORT;
		}
		out[n++] = r;
	}
	if (!n)
		return 0;
	io_uring_cq_advance(&q->ring, n);
	/* One clock read per pass, as libdrv stamps a reap pass. */
	uint64_t now = drv_now_ns();
	for (unsigned i = 0; i < n; i++)
		out[i]->complete_ns = now;
	q->completed += n;
	return n;
}

int uring_queue_reap(struct uring_queue *q, struct drv_req **out, unsigned max,
		     unsigned min_complete, int64_t timeout_ns)
{
	unsigned got = harvest(q, out, max);
	struct io_uring_cqe *cqe;
	int rc;

	if (got >= min_complete && (got || q->mode != DRV_CMODE_POLL))
		return (int)got;
	if (!timeout_ns) {
		if (q->mode != DRV_CMODE_POLL)
			return (int)got;
		/* IOPOLL: completions exist only once someone polls for them. */
		rc = io_uring_get_events(&q->ring);
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN)
			return rc;
	} else {
		struct __kernel_timespec ts = { .tv_sec = timeout_ns / 1000000000,
						.tv_nsec = timeout_ns % 1000000000 };
		if (q->mode != DRV_CMODE_POLL)
			q->waits++;
		rc = io_uring_wait_cqes(&q->ring, &cqe, min_complete - got, &ts, NULL);
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN)
			return rc;
	}
	return (int)(got + harvest(q, out + got, max - got));
}

void uring_queue_stats(const struct uring_queue *q, struct drv_queue_stats *st)
{
	*st = (struct drv_queue_stats){
		.submitted = q->submitted,
		.completed = q->completed,
		.kicks = q->submit_calls,
		.sleeps = q->waits,
		.in_flight = (unsigned)(q->submitted - q->completed),
	};
}

const char *uring_hint(int err, enum drv_cmode mode)
{
	switch (err) {
	case -EOPNOTSUPP:
		return mode == DRV_CMODE_POLL
			   ? " (--mode poll: the kernel cannot poll this file; it needs a driver "
			     "with poll queues, e.g. nvme.poll_queues=N on the kernel command line)"
			   : " (O_DIRECT I/O is not supported here)";
	case -EINVAL:
		return " (O_DIRECT needs --bs and the offsets to be multiples of the logical "
		       "block size)";
	case -ENOMEM:
		return " (registered buffers count against the locked-memory limit: raise "
		       "ulimit -l, or lower --qd or --bs)";
	default:
		return "";
	}
}

void uring_describe_failure(const struct drv_req *r, enum drv_cmode mode, char *buf, size_t len)
{
	const char *op = r->op == DRV_OP_WRITE ? "write" : "read";

	if (r->result_flags & URING_RESULT_SHORT)
		snprintf(buf, len, "io_uring %s of %zu bytes at offset %llu: short transfer (%llu)",
			 op, r->len, (unsigned long long)r->offset, (unsigned long long)r->result);
	else
		snprintf(buf, len, "io_uring %s of %zu bytes at offset %llu: %s%s", op, r->len,
			 (unsigned long long)r->offset, strerror(-r->status),
			 uring_hint(r->status, mode));
}
