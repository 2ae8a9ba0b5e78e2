/* SPDX-License-Identifier: MIT */
/*
 * Shared command-line conventions of the sample tools: usage errors exit 2,
 * runtime failures exit 1 with libdrv's message, numbers are checked fully.
 */
#ifndef APPS_COMMON_H
#define APPS_COMMON_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include <drv/drv.h>

#define APP_DEFAULT_DEVICE "sim:inproc"
#define APP_EXIT_RUNTIME 1
#define APP_EXIT_USAGE 2

/* Prints "prog: message" and a hint to run --help, then exits 2. */
__attribute__((noreturn, format(printf, 2, 3))) void app_usage_error(const char *prog,
								     const char *fmt, ...);

/*
 * getopt_long(argc, argv, ":h", longopts) with the tools' conventions: -h and
 * --help print help() and exit 0, an unknown option or a missing value exits
 * 2. Returns the next option's value, or -1 after the last option.
 */
int app_getopt(const char *prog, int argc, char **argv, const struct option *longopts,
	       void (*help)(void));

/* Exits 2 naming the first argument left after the options, if there is one. */
void app_no_more_args(const char *prog, int argc, char **argv);

/* Reports the getopt_long error just returned (':' or '?') and exits 2. */
__attribute__((noreturn)) void app_bad_option(const char *prog, int getopt_ret, char **argv);

/*
 * Parses a decimal integer in [min, max], optionally with a K/M/G suffix
 * (powers of 1024) when `allow_suffix`; exits 2 naming `opt` otherwise.
 */
uint64_t app_parse_u64(const char *prog, const char *opt, const char *text, uint64_t min,
		       uint64_t max, int allow_suffix);

/* Parses a positive number of seconds ("2", "0.5"); exits 2 otherwise. */
double app_parse_seconds(const char *prog, const char *opt, const char *text);

/* Opens uri; on failure prints "prog: cannot open URI: <drv_errmsg()>" and returns 1. */
int app_open(const char *prog, const char *uri, drv_dev **dev);

/* Prints "prog: what: <drv_errmsg()>" to stderr and returns 1. */
int app_fail(const char *prog, const char *what);

/* Prints len bytes with non-printable characters escaped as \xNN. */
void app_print_escaped(const void *data, size_t len);

/* Prints s as a quoted JSON string, escaping what JSON requires. */
void app_print_json_string(const char *s);

#endif
