/* SPDX-License-Identifier: MIT */
/*
 * What the soak knows about storage: for every block, the write known to be
 * durable (acknowledged, then covered by a completed FLUSH) and the writes
 * after it, each acknowledged or of unknown outcome (failed, timed out,
 * reset). A read must return one of those; which ones depends on whether
 * the device lost its memory since (a restart: only flushed data must
 * survive) or not (the last acknowledged write, or a later unknown one).
 *
 * Every written block carries its own identity: the write's id and the
 * block number in a header, then bytes derived from both, so a read tells
 * which write it returns and whether it is intact.
 */
#ifndef SOAK_MODEL_H
#define SOAK_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOAK_BLOCK 4096u
#define SOAK_HISTORY 8u /* writes remembered after the durable one; older ones settle */

struct soak_write {
	uint64_t id;
	uint64_t acked; /* acknowledgement number, 0 = outcome unknown */
	uint32_t epoch; /* device epoch (restarts) when acknowledged */
};

struct soak_block {
	uint64_t durable; /* write id known durable; 0 = never written (zeros) */
	struct soak_write hist[SOAK_HISTORY];
	unsigned n;
	bool busy; /* an operation on it is in flight (its owner's flag, no lock) */
};

struct soak_model {
	struct soak_block *blocks;
	uint64_t nblocks;
	uint64_t acks;       /* atomic: acknowledgement counter */
	uint64_t durable_to; /* atomic: every ack numbered <= this is durable */
	uint32_t epoch;      /* atomic: bumped when the device lost its memory */
	uint64_t next_id;    /* atomic */
};

int soak_model_init(struct soak_model *m, uint64_t nblocks);
void soak_model_fini(struct soak_model *m);
uint64_t soak_model_new_id(struct soak_model *m);

/* Fills one block of write id. */
void soak_block_fill(void *dst, uint64_t id, uint64_t block);

/* Whether block b has room for one more write of unknown durability (else flush first). */
bool soak_model_can_write(struct soak_model *m, uint64_t block);
/*
 * Records the outcome of a write of `id` to block b: acknowledged (ok) or
 * unknown. Only the block's owner calls it, one operation at a time.
 */
void soak_model_write_done(struct soak_model *m, uint64_t b, uint64_t id, bool ok);
/* A FLUSH submitted when the ack counter read `acks_at_submit` completed. */
void soak_model_flush_done(struct soak_model *m, uint64_t acks_at_submit);
/* The ack counter now, for a FLUSH about to be submitted. */
uint64_t soak_model_acks(struct soak_model *m);
/* The device lost what was not flushed (its process was killed). */
void soak_model_crash(struct soak_model *m);

enum soak_verdict {
	SOAK_OK = 0,
	SOAK_CORRUPT,    /* not a block any write produced, or a torn one */
	SOAK_STALE,      /* an older write than the model allows, acknowledged data lost */
	SOAK_LOST_FLUSH, /* older than the durable write: a flushed write lost */
};

/* Judges a block read from b; writes a description of a failure into why. */
enum soak_verdict soak_model_check(struct soak_model *m, uint64_t b, const void *data, char *why,
				   size_t whylen);

#endif
