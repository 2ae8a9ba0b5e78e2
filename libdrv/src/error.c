/* SPDX-License-Identifier: MIT */
#include "drv/driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "drv/drv.h"

static _Thread_local char errmsg[512];

static void set_message(int err, const char *fmt, va_list ap, int with_errno)
{
	int n = vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(errmsg))
		snprintf(errmsg + n, sizeof(errmsg) - (size_t)n, ": %s", strerror(-err));
}

int drv_fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(err, fmt, ap, 0);
	va_end(ap);
	return err;
}

int drv_fail_errno(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(err, fmt, ap, 1);
	va_end(ap);
	return err;
}

DRV_API const char *drv_errmsg(void)
{
	return errmsg[0] ? errmsg : "no error recorded";
}
