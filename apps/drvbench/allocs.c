/* SPDX-License-Identifier: MIT */
#include "allocs.h"

#include <errno.h>
#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) ||                         \
    __has_feature(thread_sanitizer)
#define ALLOCS_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ALLOCS_SANITIZED 1
#endif

static _Thread_local int thread_counting;
static _Thread_local uint64_t thread_count;
static _Thread_local int window_owner;
static int window_open;
static uint64_t window_count;

#ifndef ALLOCS_SANITIZED

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void __libc_free(void *ptr);
void *__libc_memalign(size_t align, size_t size);

static inline void count_call(void)
{
	if (thread_counting)
		thread_count++;
	if (__atomic_load_n(&window_open, __ATOMIC_RELAXED) && !window_owner)
		__atomic_fetch_add(&window_count, 1, __ATOMIC_RELAXED);
}

/* The interposed allocator entry points; declared by <stdlib.h>. */
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);
int posix_memalign(void **out, size_t align, size_t size);
void *aligned_alloc(size_t align, size_t size);

void *malloc(size_t size)
{
	count_call();
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	count_call();
	return __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
	count_call();
	return __libc_realloc(ptr, size);
}

void free(void *ptr)
{
	if (ptr)
		count_call();
	__libc_free(ptr);
}

/* Overridden too, so memory they return is never handed to the wrong free(). */
int posix_memalign(void **out, size_t align, size_t size)
{
	if (!align || (align & (align - 1)) || align % sizeof(void *))
		return EINVAL;
	count_call();
	void *p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *aligned_alloc(size_t align, size_t size)
{
	count_call();
	return __libc_memalign(align, size);
}

int allocs_available(void)
{
	return 1;
}

#else

int allocs_available(void)
{
	return 0;
}

#endif

void allocs_thread_start(void)
{
	thread_count = 0;
	thread_counting = 1;
}

uint64_t allocs_thread_stop(void)
{
	thread_counting = 0;
	return thread_count;
}

void allocs_window_open(void)
{
	window_owner = 1;
	__atomic_store_n(&window_count, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&window_open, 1, __ATOMIC_RELEASE);
}

uint64_t allocs_window_close(void)
{
	__atomic_store_n(&window_open, 0, __ATOMIC_RELEASE);
	window_owner = 0;
	return __atomic_load_n(&window_count, __ATOMIC_ACQUIRE);
}
