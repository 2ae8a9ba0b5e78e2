/* SPDX-License-Identifier: MIT */
/*
 * Fault rules: the text form (`KIND,key=value,...`), its parser and its
 * canonical rendering. A rule picks requests by opcode, queue and trigger
 * and makes the device misbehave on them (docs/dsim.md, "Fault
 * injection"); what the device does with them is faults.c,
 * declared in model.h.
 */
#ifndef DEVSIM_FAULT_RULES_H
#define DEVSIM_FAULT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devsim/dsim_hw.h"

#define DSIM_FAULT_MAX_RULES 8u
#define DSIM_FAULT_OP_ANY 0xffu
#define DSIM_FAULT_QUEUE_ANY 0xffffffffu
#define DSIM_FAULT_RATE_ONE 1000000000u /* rate=1 in parts per billion */
#define DSIM_FAULT_RULE_TEXT 104u       /* a canonical rule and its newline fit */
#define DSIM_FAULT_DEFAULT_SEED 1u

enum dsim_fault_trigger {
	DSIM_TRIG_ALWAYS = 0, /* every matching request */
	DSIM_TRIG_NTH,        /* only the n-th */
	DSIM_TRIG_EVERY,      /* every n-th */
	DSIM_TRIG_RATE,       /* each with probability rate_ppb / 1e9 */
};

enum dsim_fault_tag_how { DSIM_TAG_STALE = 0, DSIM_TAG_RANDOM };
enum dsim_fault_field { DSIM_FIELD_PHASE = 0, DSIM_FIELD_RESULT, DSIM_FIELD_STATUS };

struct dsim_fault_rule {
	uint8_t kind;    /* enum dsim_fault_kind */
	uint8_t op;      /* DSIM_OP_* or DSIM_FAULT_OP_ANY */
	uint8_t trigger; /* enum dsim_fault_trigger */
	uint8_t arg;     /* error: status; bad-tag: how; corrupt: field */
	uint32_t queue;  /* or DSIM_FAULT_QUEUE_ANY */
	uint32_t n;      /* nth, every */
	uint32_t rate_ppb;
	uint32_t count;    /* injections at most; 0 = no cap */
	uint64_t delay_ns; /* late, dma-slow */
	uint64_t matched;  /* matching requests since the rule was set */
	uint64_t fired;
};

struct dsim_fault_set {
	struct dsim_fault_rule rule[DSIM_FAULT_MAX_RULES];
	unsigned n;
};

/*
 * Appends the rules of text (separated by ';' or newlines; blank ones are
 * skipped) to set. 0, or -EINVAL with a message naming the offending text
 * and set unchanged.
 */
int dsim_fault_set_parse(struct dsim_fault_set *set, const char *text, char *err, size_t errlen);

/* Writes set's rules in canonical form, one per line; returns the length. */
size_t dsim_fault_set_render(const struct dsim_fault_set *set, char *buf, size_t len);

/* "error", "lost-irq", ...: the name rules and statistics use. */
const char *dsim_fault_kind_name(unsigned kind);

#endif
