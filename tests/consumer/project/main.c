/* SPDX-License-Identifier: MIT */
/*
 * A program outside the libdrv tree: it finds the installed library the
 * way any user would, writes a block to the embedded simulator and reads it
 * back.
 */
#include <stdio.h>
#include <string.h>

#include <drv/drv.h>

int main(void)
{
	static const char text[] = "written by an outside project";
	char back[sizeof(text)] = { 0 };
	drv_dev *dev;
	drv_queue *q;
	int rc = 1;

	if (drv_open("sim:inproc", NULL, &dev) < 0) {
		fprintf(stderr, "drv_open: %s\n", drv_errmsg());
		return 1;
	}
	if (drv_queue_create(dev, NULL, &q) < 0) {
		fprintf(stderr, "drv_queue_create: %s\n", drv_errmsg());
		goto out;
	}
	if (drv_write(q, 0, text, sizeof(text)) != (int64_t)sizeof(text) ||
	    drv_read(q, 0, back, sizeof(back)) != (int64_t)sizeof(back)) {
		fprintf(stderr, "I/O: %s\n", drv_errmsg());
	} else if (memcmp(text, back, sizeof(text)) != 0) {
		fprintf(stderr, "read back something else than was written\n");
	} else {
		printf("OK: libdrv %d.%d, read back \"%s\"\n", DRV_VERSION_MAJOR, DRV_VERSION_MINOR,
		       back);
		rc = 0;
	}
	drv_queue_destroy(q);
out:
	drv_close(dev);
	return rc;
}
