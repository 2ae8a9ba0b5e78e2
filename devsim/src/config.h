/* SPDX-License-Identifier: MIT */
/*
 * Device configuration and its one option parser, shared by the CLI
 * (`--latency fixed:1ms`) and sim:inproc ("latency=fixed:1ms&queues=2").
 */
#ifndef DEVSIM_CONFIG_H
#define DEVSIM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devsim/dsim_hw.h"
#include "fault_rules.h"

#define DSIM_DEFAULT_CAPACITY (64ull << 20)
#define DSIM_DEFAULT_QUEUES 4u
#define DSIM_MAX_LOG2 12u
#define DSIM_MAX_TRANSFER_BYTES (1u << 20)
#define DSIM_MAX_SG_ENTRIES 256u
#define DSIM_MAX_UNITS 1024u
#define DSIM_MAX_LATENCY_NS (3600ull * 1000000000ull) /* an hour: longer is surely a mistake */

struct dsim_config {
	uint64_t capacity;
	bool capacity_set;      /* given explicitly (else a backing file keeps its size) */
	char backing[PATH_MAX]; /* "" = RAM */
	unsigned queues;
	bool poll; /* POLL_MODE reads 1 after reset */
	struct dsim_timing timing;
	struct dsim_fault_set faults;
	uint64_t fault_seed;
};

void dsim_config_defaults(struct dsim_config *cfg);

/*
 * Applies one option ("capacity", "backing", "queues", "latency",
 * "bandwidth", "units", "poll", "fault", "seed"); value may be NULL for
 * "poll". Each "fault" adds rules.
 * Returns 0 or -EINVAL with a message in err.
 */
int dsim_config_set(struct dsim_config *cfg, const char *key, const char *value, char *err,
		    size_t errlen);

/* Applies "k=v&k=v..." (NULL or "" = nothing). 0 or -EINVAL with a message. */
int dsim_config_parse_query(struct dsim_config *cfg, const char *query, char *err, size_t errlen);

/* Opcode names as options spell them ("nop" ... "abort"); lookup returns DSIM_OP_COUNT if unknown.
 */
const char *dsim_op_name(unsigned op);
unsigned dsim_op_lookup(const char *name);

/* "4K", "16M", "1G" (binary multiples); 0 or -EINVAL. */
int dsim_parse_size(const char *s, uint64_t *out);
/* "1s", "10ms", "5us", "100ns" (a bare number is ns); 0 or -EINVAL. */
int dsim_parse_time_ns(const char *s, uint64_t *out);

#endif
