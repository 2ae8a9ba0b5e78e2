/* SPDX-License-Identifier: MIT */
/*
 * What the devsim commands that run the device (`serve`, `ivshmem`) share:
 * the device-model options and stopping cleanly on SIGINT/SIGTERM.
 */
#ifndef DEVSIM_CLI_H
#define DEVSIM_CLI_H

#include <getopt.h>
#include <stddef.h>

#include "config.h"
#include "model.h"

/* getopt_long's value for every device-model option. */
#define DSIM_CLI_MODEL_OPT 'm'

/* A command's getopt_long table: its own options, then the device-model ones. */
struct dsim_cli_options {
	struct option opt[24];
};

/* Fills t with the n options of own followed by the device-model options and the end mark. */
void dsim_cli_options(struct dsim_cli_options *t, const struct option *own, size_t n);

/* Applies one device-model option with getopt_long's optarg. 0 or -EINVAL with a message. */
int dsim_cli_model_option(struct dsim_config *cfg, const struct option *opt, const char *arg,
			  char *err, size_t errlen);

struct dsim_cli_signals {
	int fd; /* signalfd, or -1 */
	struct dsim_dev *dev;
	struct dsim_watch watch;
};

/*
 * Blocks SIGINT and SIGTERM and stops dev's loop when one arrives (so the
 * socket files go); ignores SIGPIPE. 0 or -errno.
 */
int dsim_cli_stop_on_signals(struct dsim_cli_signals *sg, struct dsim_dev *dev);
void dsim_cli_signals_close(struct dsim_cli_signals *sg);

/* Fault vanish kills this process, as if someone had killed it. */
void dsim_cli_vanish_kills(struct dsim_dev *dev);

#endif
