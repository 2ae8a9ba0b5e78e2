/* SPDX-License-Identifier: MIT */
/*
 * CPU time of the whole machine, from the first line of /proc/stat: what
 * getrusage cannot see (interrupt handlers, softirqs, kernel threads, other
 * processes working for the benchmark such as QEMU's or devsim's threads).
 */
#ifndef DRVBENCH_SYSSTAT_H
#define DRVBENCH_SYSSTAT_H

#include <stdint.h>

/*
 * Non-idle CPU time of all CPUs together, in ns: user + nice + system + irq
 * + softirq. Left out: idle and iowait (nothing ran), steal (the hypervisor
 * ran something else), guest and guest_nice (already inside user and nice).
 * The kernel counts in clock ticks (USER_HZ, 10 ms with the usual 100), so a
 * difference is that coarse. 0, or -errno when /proc/stat cannot be read or
 * parsed.
 */
int sysstat_busy_ns(uint64_t *ns);

#endif
