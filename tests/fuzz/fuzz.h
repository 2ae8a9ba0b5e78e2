/* SPDX-License-Identifier: MIT */
/*
 * What every fuzz harness shares: the input read as a little program (a
 * stream of numbers that runs dry into zeros, so every prefix of an input
 * is a valid program and the fuzzer's mutations stay meaningful), the
 * check that stops a run when an invariant breaks (assert() vanishes
 * under NDEBUG, and the fuzz builds are optimised), and an fd count for
 * the harnesses that pass descriptors around.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline bool fuzz_more(const struct fuzz_in *in)
{
	return in->n > 0;
}

/* Copies up to len input bytes into dst; returns how many there were. */
static inline size_t fuzz_bytes(struct fuzz_in *in, void *dst, size_t len)
{
	size_t k = len < in->n ? len : in->n;
	memcpy(dst, in->p, k);
	in->p += k;
	in->n -= k;
	return k;
}

/* Little-endian numbers; missing bytes read as 0. */
static inline uint64_t fuzz_num(struct fuzz_in *in, unsigned bytes)
{
	uint8_t b[8] = { 0 };
	fuzz_bytes(in, b, bytes);
	uint64_t v = 0;
	for (unsigned i = bytes; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	return (uint8_t)fuzz_num(in, 1);
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)fuzz_num(in, 2);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	return (uint32_t)fuzz_num(in, 4);
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	return fuzz_num(in, 8);
}

/* Open descriptors of this process (the directory's own one not counted). */
static inline unsigned fuzz_open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		abort();
	unsigned n = 0;
	for (struct dirent *e; (e = readdir(dir));)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n - 1;
}

#endif
