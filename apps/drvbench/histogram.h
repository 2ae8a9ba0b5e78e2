/* SPDX-License-Identifier: MIT */
/*
 * Log-linear latency histogram: exact below 64 ns, then 32 buckets per
 * power of two (about 3 % resolution). Fixed size, so recording a value in
 * the measurement loop never allocates.
 */
#ifndef DRVBENCH_HISTOGRAM_H
#define DRVBENCH_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS 5u
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_EXP 42u /* values up to 2^47 ns (about 39 hours) */
#define HIST_BUCKETS ((HIST_MAX_EXP + 2u) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t min, max;
	uint64_t sum; /* ns: overflows after 584 years of summed latency */
	uint64_t bucket[HIST_BUCKETS];
};

void hist_reset(struct hist *h);
/* The bucket a value falls in. */
static inline unsigned hist_bucket_of(uint64_t ns)
{
	if (ns < 2 * HIST_SUB)
		return (unsigned)ns;
	unsigned msb = 63u - (unsigned)__builtin_clzll(ns);
	unsigned exp = msb - HIST_SUB_BITS;
	if (exp > HIST_MAX_EXP)
		return HIST_BUCKETS - 1;
	/* The mantissa keeps its top bit, so it lies in [HIST_SUB, 2 * HIST_SUB). */
	return exp * HIST_SUB + (unsigned)(ns >> exp);
}

/* n values equal to ns; inline, it runs in the measured loop. */
static inline void hist_record_n(struct hist *h, uint64_t ns, uint64_t n)
{
	h->bucket[hist_bucket_of(ns)] += n;
	h->count += n;
	h->sum += ns * n;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}
static inline void hist_record(struct hist *h, uint64_t ns)
{
	hist_record_n(h, ns, 1);
}
void hist_merge(struct hist *into, const struct hist *from);
/* Value at quantile q in [0, 1] (a bucket midpoint, clamped to min/max); 0 if empty. */
uint64_t hist_quantile(const struct hist *h, double q);
double hist_mean(const struct hist *h);
/* Lowest value that falls in bucket i. */
uint64_t hist_bucket_low(unsigned i);

#endif
