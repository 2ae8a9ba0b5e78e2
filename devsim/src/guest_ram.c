/* SPDX-License-Identifier: MIT */
#include "guest_ram.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* q35 keeps 2.75 GiB below the PCI hole; a larger guest gets 2 GiB low, the rest at 4 GiB. */
#define Q35_LOWMEM_LIMIT 0xb0000000ull
#define Q35_LOWMEM_SPLIT 0x80000000ull

void guest_ram_layout(uint64_t size, struct guest_ram_layout *out)
{
	out->low = size < Q35_LOWMEM_LIMIT ? size : Q35_LOWMEM_SPLIT;
	out->high = size - out->low;
}

int guest_ram_attach(struct dsim_dev *d, const char *path, uint64_t *size, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return -EAGAIN;
		int e = errno;
		snprintf(err, errlen, "cannot open guest RAM %s: %s", path, strerror(e));
		return -e;
	}
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		snprintf(err, errlen, "guest RAM %s is not a regular file", path);
		return -EINVAL;
	}
	long page = sysconf(_SC_PAGESIZE);
	if (sb.st_size == 0 || sb.st_size % page) {
		close(fd);
		return -EAGAIN; /* QEMU has created the file but not sized it yet */
	}
	size_t len = (size_t)sb.st_size;
	void *va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int e = errno;
	close(fd);
	if (va == MAP_FAILED) {
		snprintf(err, errlen, "cannot map guest RAM %s: %s", path, strerror(e));
		return -e;
	}
	struct guest_ram_layout lay;
	guest_ram_layout(len, &lay);
	/* The low window owns the mapping; the high one only borrows it. */
	int rc = dsim_dma_add(d, 0, lay.low, va, va, len);
	if (rc) {
		munmap(va, len);
	} else if (lay.high) {
		rc = dsim_dma_add(d, GUEST_RAM_HIGH_BASE, lay.high, (uint8_t *)va + lay.low, NULL,
				  0);
		if (rc)
			dsim_dma_remove(d, 0);
	}
	if (rc) {
		snprintf(err, errlen, "cannot add guest RAM as a DMA window: %s", strerror(-rc));
		return rc;
	}
	*size = len;
	return 0;
}
