/* SPDX-License-Identifier: MIT */
/*
 * Symbol versions for functions whose ABI changed (libdrv.map says which).
 * A function with an old version keeps its old entry point in src/compat.c
 * under an internal name, and its current definition is bound explicitly to
 * the newest node (node is a string, "LIBDRV_0.2"): naming it in two nodes of the version script
 * alone would leave the linker without a default. Only the shared library has versions; the static
 * library's objects carry plain names.
 */
#ifndef DRV_ABI_H
#define DRV_ABI_H

#ifdef DRV_SHARED_LIBRARY
#define DRV_ABI_DEFAULT(fn, node) __asm__(".symver " #fn ", " #fn "@@@" node);
#define DRV_ABI_COMPAT(impl, fn, node) __asm__(".symver " #impl ", " #fn "@" node);
#else
#define DRV_ABI_DEFAULT(fn, node)
#define DRV_ABI_COMPAT(impl, fn, node)
#endif

#endif
