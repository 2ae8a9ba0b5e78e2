/* SPDX-License-Identifier: MIT */
#include "model.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct header {
	uint64_t id;
	uint64_t block;
};

int soak_model_init(struct soak_model *m, uint64_t nblocks)
{
	memset(m, 0, sizeof(*m));
	m->blocks = calloc(nblocks, sizeof(*m->blocks));
	if (!m->blocks)
		return -ENOMEM;
	m->nblocks = nblocks;
	m->next_id = 1;
	return 0;
}

void soak_model_fini(struct soak_model *m)
{
	free(m->blocks);
	m->blocks = NULL;
}

uint64_t soak_model_new_id(struct soak_model *m)
{
	return __atomic_fetch_add(&m->next_id, 1, __ATOMIC_RELAXED);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void soak_block_fill(void *dst, uint64_t id, uint64_t block)
{
	uint64_t *w = dst;
	w[0] = id;
	w[1] = block;
	uint64_t s = id * 0x2545f4914f6cdd1dull ^ block;
	for (size_t i = 2; i < SOAK_BLOCK / 8; i++)
		w[i] = splitmix(&s);
}

uint64_t soak_model_acks(struct soak_model *m)
{
	return __atomic_load_n(&m->acks, __ATOMIC_ACQUIRE);
}

void soak_model_flush_done(struct soak_model *m, uint64_t acks_at_submit)
{
	uint64_t cur = __atomic_load_n(&m->durable_to, __ATOMIC_RELAXED);
	while (cur < acks_at_submit &&
	       !__atomic_compare_exchange_n(&m->durable_to, &cur, acks_at_submit, true,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

void soak_model_crash(struct soak_model *m)
{
	__atomic_add_fetch(&m->epoch, 1, __ATOMIC_RELEASE);
}

/* The newest write acknowledged and flushed becomes the durable one; older entries go. */
static void settle(struct soak_model *m, struct soak_block *b)
{
	uint64_t durable_to = __atomic_load_n(&m->durable_to, __ATOMIC_ACQUIRE);
	int last = -1;
	for (unsigned i = 0; i < b->n; i++)
		if (b->hist[i].acked && b->hist[i].acked <= durable_to)
			last = (int)i;
	if (last < 0)
		return;
	b->durable = b->hist[last].id;
	unsigned keep = b->n - (unsigned)last - 1;
	memmove(b->hist, b->hist + last + 1, keep * sizeof(b->hist[0]));
	b->n = keep;
}

bool soak_model_can_write(struct soak_model *m, uint64_t block)
{
	struct soak_block *b = &m->blocks[block];
	settle(m, b);
	return b->n < SOAK_HISTORY;
}

void soak_model_write_done(struct soak_model *m, uint64_t block, uint64_t id, bool ok)
{
	struct soak_block *b = &m->blocks[block];
	struct soak_write w = { .id = id };
	if (ok) {
		w.acked = __atomic_add_fetch(&m->acks, 1, __ATOMIC_ACQ_REL);
		w.epoch = __atomic_load_n(&m->epoch, __ATOMIC_ACQUIRE);
	}
	settle(m, b);
	/* soak_model_can_write() kept room. */
	if (b->n < SOAK_HISTORY)
		b->hist[b->n++] = w;
}

static bool intact(const void *data, uint64_t block, uint64_t *id)
{
	static const uint8_t zero[SOAK_BLOCK];
	struct header h;
	memcpy(&h, data, sizeof(h));
	*id = h.id;
	if (h.id == 0)
		return memcmp(data, zero, SOAK_BLOCK) == 0;
	if (h.block != block)
		return false;
	uint64_t want[SOAK_BLOCK / 8];
	soak_block_fill(want, h.id, block);
	return memcmp(data, want, SOAK_BLOCK) == 0;
}

enum soak_verdict soak_model_check(struct soak_model *m, uint64_t block, const void *data,
				   char *why, size_t whylen)
{
	struct soak_block *b = &m->blocks[block];
	uint64_t id;
	if (!intact(data, block, &id)) {
		snprintf(why, whylen,
			 "block %" PRIu64 ": torn or foreign data (header id %" PRIu64 ")", block,
			 id);
		return SOAK_CORRUPT;
	}
	settle(m, b);
	uint32_t epoch = __atomic_load_n(&m->epoch, __ATOMIC_ACQUIRE);
	int last_acked = -1;
	for (unsigned i = 0; i < b->n; i++)
		if (b->hist[i].acked)
			last_acked = (int)i;
	/*
	 * Without a restart since the last acknowledged write, it is what storage
	 * holds; writes of unknown outcome may still land (a timed-out one may be
	 * executed late). After a restart anything from the durable write on.
	 */
	bool strict = last_acked >= 0 && b->hist[last_acked].epoch == epoch;
	if (strict && id == b->hist[last_acked].id)
		return SOAK_OK;
	if (!strict && id == b->durable)
		return SOAK_OK;
	for (unsigned i = 0; i < b->n; i++)
		if (b->hist[i].id == id && (!strict || !b->hist[i].acked))
			return SOAK_OK;
	if (id < b->durable || (id == 0 && b->durable)) {
		snprintf(why, whylen,
			 "block %" PRIu64 ": write %" PRIu64 " read back, but write %" PRIu64
			 " was acknowledged and flushed",
			 block, id, b->durable);
		return SOAK_LOST_FLUSH;
	}
	uint64_t expect = strict ? b->hist[last_acked].id : b->durable;
	if (id < expect) {
		snprintf(why, whylen,
			 "block %" PRIu64 ": write %" PRIu64 " read back, write %" PRIu64
			 " was acknowledged after it",
			 block, id, expect);
		return SOAK_STALE;
	}
	snprintf(why, whylen, "block %" PRIu64 ": write %" PRIu64 " was never issued to it", block,
		 id);
	return SOAK_CORRUPT;
}
