/* SPDX-License-Identifier: MIT */
/* Device storage: anonymous memory, or a file that survives restarts. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"

int dsim_storage_open(struct dsim_storage *st, const struct dsim_config *cfg, char *err,
		      size_t errlen)
{
	st->fd = -1;
	st->ram = NULL;
	st->capacity = cfg->capacity;
	st->fail_next = false;
	st->failures = 0;
	if (!cfg->backing[0]) {
		void *p = mmap(NULL, cfg->capacity, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			snprintf(err, errlen, "cannot reserve %llu bytes of RAM storage: %s",
				 (unsigned long long)cfg->capacity, strerror(errno));
			return -ENOMEM;
		}
		st->ram = p;
		return 0;
	}
	int fd = open(cfg->backing, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		int e = errno;
		snprintf(err, errlen, "backing file %s: %s", cfg->backing, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "backing file %s is not a regular file", cfg->backing);
		close(fd);
		return -EINVAL;
	}
	/* An existing file keeps its size unless a capacity was asked for. */
	if (sb.st_size > 0 && !cfg->capacity_set)
		st->capacity = (uint64_t)sb.st_size;
	if ((uint64_t)sb.st_size < st->capacity && ftruncate(fd, (off_t)st->capacity) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot size backing file %s to %llu bytes: %s", cfg->backing,
			 (unsigned long long)st->capacity, strerror(e));
		close(fd);
		return -e;
	}
	st->fd = fd;
	return 0;
}

void dsim_storage_close(struct dsim_storage *st)
{
	if (st->ram)
		munmap(st->ram, st->capacity);
	if (st->fd >= 0)
		close(st->fd);
	st->ram = NULL;
	st->fd = -1;
}

bool dsim_storage_range_ok(const struct dsim_storage *st, uint64_t off, uint64_t len)
{
	return off <= st->capacity && len <= st->capacity - off;
}

bool dsim_storage_fail_now(struct dsim_storage *st)
{
	if (__builtin_expect(!st->fail_next, 1))
		return false;
	st->fail_next = false;
	st->failures++;
	return true;
}

static int failed(struct dsim_storage *st, int err)
{
	st->failures++;
	return err;
}

int dsim_storage_read(struct dsim_storage *st, uint64_t off, void *dst, size_t len)
{
	if (dsim_storage_fail_now(st))
		return -EIO;
	if (st->ram) {
		memcpy(dst, st->ram + off, len);
		return 0;
	}
	while (len) {
		ssize_t n = pread(st->fd, dst, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return failed(st, n < 0 ? -errno : -EIO);
		dst = (uint8_t *)dst + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int dsim_storage_write(struct dsim_storage *st, uint64_t off, const void *src, size_t len)
{
	if (dsim_storage_fail_now(st))
		return -EIO;
	if (st->ram) {
		memcpy(st->ram + off, src, len);
		return 0;
	}
	while (len) {
		ssize_t n = pwrite(st->fd, src, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return failed(st, n < 0 ? -errno : -EIO);
		src = (const uint8_t *)src + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int dsim_storage_flush(struct dsim_storage *st)
{
	if (dsim_storage_fail_now(st))
		return -EIO;
	if (st->fd < 0)
		return 0;
	return fdatasync(st->fd) < 0 ? failed(st, -errno) : 0;
}
