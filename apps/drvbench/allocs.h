/* SPDX-License-Identifier: MIT */
/*
 * Counts malloc/calloc/realloc/free calls made while a measurement runs.
 * drvbench defines these functions itself, so the dynamic linker binds the
 * library's and the simulator's calls to them too (executable symbols come
 * first); they forward to glibc's __libc_* entry points.
 */
#ifndef DRVBENCH_ALLOCS_H
#define DRVBENCH_ALLOCS_H

#include <stdint.h>

/* 0 when counting is compiled out (sanitizer builds replace malloc themselves). */
int allocs_available(void);

/* Counts calls by the calling thread until allocs_thread_stop(); returns the count. */
void allocs_thread_start(void);
uint64_t allocs_thread_stop(void);

/* Counts calls by every thread except the caller while the window is open. */
void allocs_window_open(void);
uint64_t allocs_window_close(void);

#endif
