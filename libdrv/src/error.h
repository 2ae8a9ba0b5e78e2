/* SPDX-License-Identifier: MIT */
#ifndef DRV_ERROR_H
#define DRV_ERROR_H

/*
 * Records a message for drv_errmsg() in this thread and returns err, which
 * is a negative errno: `return drv_fail(-EINVAL, "depth %u: ...", d);`
 * Messages say what was attempted and what the user can do about it.
 */
int drv_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like drv_fail, appending ": strerror(-err)". */
int drv_fail_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
