/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const struct option model_options[] = {
	{ "capacity", required_argument, 0, DSIM_CLI_MODEL_OPT },
	{ "backing", required_argument, 0, DSIM_CLI_MODEL_OPT },
	{ "queues", required_argument, 0, DSIM_CLI_MODEL_OPT },
	{ "latency", required_argument, 0, DSIM_CLI_MODEL_OPT },
	{ "bandwidth", required_argument, 0, DSIM_CLI_MODEL_OPT },
	{ "units", required_argument, 0, DSIM_CLI_MODEL_OPT },
	{ "poll", no_argument, 0, DSIM_CLI_MODEL_OPT },
	{ "fault", required_argument, 0, DSIM_CLI_MODEL_OPT },
	{ "seed", required_argument, 0, DSIM_CLI_MODEL_OPT },
};

#define MODEL_OPTIONS (sizeof(model_options) / sizeof(model_options[0]))

void dsim_cli_options(struct dsim_cli_options *t, const struct option *own, size_t n)
{
	assert(n + MODEL_OPTIONS < sizeof(t->opt) / sizeof(t->opt[0]));
	memset(t, 0, sizeof(*t));
	memcpy(t->opt, own, n * sizeof(*own));
	memcpy(t->opt + n, model_options, sizeof(model_options));
}

int dsim_cli_model_option(struct dsim_config *cfg, const struct option *opt, const char *arg,
			  char *err, size_t errlen)
{
	return dsim_config_set(cfg, opt->name, opt->has_arg == no_argument ? NULL : arg, err,
			       errlen);
}

static void on_signal(void *ctx, uint32_t events)
{
	(void)events;
	struct dsim_cli_signals *sg = ctx;
	struct signalfd_siginfo si;
	while (read(sg->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		fprintf(stderr, "devsim: %s, stopping\n", strsignal((int)si.ssi_signo));
	dsim_dev_stop(sg->dev);
}

int dsim_cli_stop_on_signals(struct dsim_cli_signals *sg, struct dsim_dev *dev)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sg->dev = dev;
	sg->fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sg->fd < 0)
		return -errno;
	sg->watch = (struct dsim_watch){ .fd = sg->fd, .cb = on_signal, .ctx = sg };
	return dsim_dev_watch(dev, &sg->watch);
}

void dsim_cli_signals_close(struct dsim_cli_signals *sg)
{
	if (sg->fd >= 0)
		close(sg->fd);
	sg->fd = -1;
}

static void vanish(void *ctx)
{
	(void)ctx;
	fprintf(stderr, "devsim: fault vanish: the device disappears (SIGKILL)\n");
	raise(SIGKILL);
}

void dsim_cli_vanish_kills(struct dsim_dev *dev)
{
	dev->vanish = vanish;
	dev->vanish_ctx = NULL;
}
