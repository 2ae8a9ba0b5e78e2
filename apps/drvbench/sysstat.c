/* SPDX-License-Identifier: MIT */
#include "sysstat.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#define PROC_STAT "/proc/stat"

int sysstat_busy_ns(uint64_t *ns)
{
	/* The aggregate line: user nice system idle iowait irq softirq steal guest guest_nice. */
	unsigned long long user, nice, system, idle, iowait, irq, softirq;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen(PROC_STAT, "re");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle,
		   &iowait, &irq, &softirq);
	fclose(f);
	if (n != 7 || hz <= 0)
		return -EPROTO;
	uint64_t ticks = user + nice + system + irq + softirq;
	*ns = ticks / (uint64_t)hz * 1000000000ull +
	      ticks % (uint64_t)hz * 1000000000ull / (uint64_t)hz;
	return 0;
}
