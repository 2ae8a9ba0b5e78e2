/* SPDX-License-Identifier: MIT */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <drv/drv.h>

void app_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	exit(APP_EXIT_USAGE);
}

void app_bad_option(const char *prog, int getopt_ret, char **argv)
{
	/*
	 * optopt holds a short option's letter; for a long option it is 0 or the
	 * option's value (>= 256 in these tools), and argv[optind - 1] names it.
	 */
	char short_name[3] = { '-', (char)optopt, '\0' };
	const char *name = optopt > 0 && optopt < 256 ? short_name : argv[optind - 1];

	if (getopt_ret == ':')
		app_usage_error(prog, "option '%s' needs a value", name);
	app_usage_error(prog, "unknown option '%s'", name);
}

int app_getopt(const char *prog, int argc, char **argv, const struct option *longopts,
	       void (*help)(void))
{
	int c = getopt_long(argc, argv, ":h", longopts, NULL);

	if (c == 'h') {
		help();
		exit(0);
	}
	if (c == '?' || c == ':')
		app_bad_option(prog, c, argv);
	return c;
}

void app_no_more_args(const char *prog, int argc, char **argv)
{
	if (optind < argc)
		app_usage_error(prog, "unexpected argument '%s'", argv[optind]);
}

uint64_t app_parse_u64(const char *prog, const char *opt, const char *text, uint64_t min,
		       uint64_t max, int allow_suffix)
{
	char *end;
	unsigned long long value;
	unsigned shift = 0;

	errno = 0;
	if (!isdigit((unsigned char)text[0]))
		goto bad;
	value = strtoull(text, &end, 10);
	if (errno)
		goto bad;
	if (allow_suffix && *end) {
		switch (*end) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		default:
			goto bad;
		}
		end++;
		if (value > (UINT64_MAX >> shift))
			goto bad;
		value <<= shift;
	}
	if (*end)
		goto bad;
	if (value < min || value > max)
		app_usage_error(prog, "%s must be between %llu and %llu, not '%s'", opt,
				(unsigned long long)min, (unsigned long long)max, text);
	return value;
bad:
	app_usage_error(prog, "%s needs a whole number%s, not '%s'", opt,
			allow_suffix ? " (K, M or G suffix allowed)" : "", text);
}

double app_parse_seconds(const char *prog, const char *opt, const char *text)
{
	char *end;
	double value;

	errno = 0;
	value = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(value) || value <= 0)
		app_usage_error(prog, "%s needs a positive number of seconds, not '%s'", opt, text);
	return value;
}

int app_open(const char *prog, const char *uri, drv_dev **dev)
{
	if (drv_open(uri, NULL, dev) == 0)
		return 0;
	fprintf(stderr, "%s: cannot open %s: %s\n", prog, uri, drv_errmsg());
	return APP_EXIT_RUNTIME;
}

int app_fail(const char *prog, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, drv_errmsg());
	return APP_EXIT_RUNTIME;
}

void app_print_escaped(const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		if (isprint(p[i]) && p[i] != '\\')
			putchar(p[i]);
		else
			printf("\\x%02x", p[i]);
	}
}

void app_print_json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}
