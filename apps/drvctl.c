/* SPDX-License-Identifier: MIT */
/*
 * drvctl: device information (the GetFileSize / IRP_MJ_QUERY_INFORMATION
 * role) and, when built with PCI support, PCI function listing and binding
 * (the role of loading and unloading a driver).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drv/drv.h>

#include "common.h"
#ifdef DRVCTL_HAVE_PCI
#include "drvctl_pci.h"
#endif

#define PROG "drvctl"

static void usage(void)
{
	printf("Usage: " PROG " COMMAND [ARGS]\n"
#ifdef DRVCTL_HAVE_PCI
	       "Describes libdrv devices, lists PCI functions and hands them to libdrv.\n"
#else
	       "Describes libdrv devices.\n"
#endif
	       "\n"
	       "Commands:\n"
	       "  info [DEVICE] [--json]   describe a device (default " APP_DEFAULT_DEVICE ")\n"
#ifdef DRVCTL_HAVE_PCI
	       "  list                     list PCI functions and their drivers\n"
	       "  bind ADDR ...            hand a PCI function to uio_pci_generic or vfio-pci\n"
	       "  unbind ADDR              give a PCI function back to its previous driver\n"
#endif
	       "\n"
	       "Run '" PROG " COMMAND --help' for a command's options.\n"
	       "\n"
	       "Exit status: 0 success, 1 runtime failure, 2 bad arguments.\n");
}

static void info_usage(void)
{
	printf("Usage: " PROG " info [DEVICE] [--json]\n"
	       "Opens DEVICE (a libdrv URI, default " APP_DEFAULT_DEVICE ") and prints what\n"
	       "libdrv knows about it.\n"
	       "\n"
	       "Options:\n"
	       "  --device URI   the same as giving DEVICE\n"
	       "  --json         print one JSON object instead of text\n"
	       "  --help         show this help\n"
	       "\n"
	       "DEVICE examples: sim:inproc, sim:inproc?capacity=1G, sim:/tmp/dsim.sock,\n"
	       "uio:0000:00:04.0, vfio:0000:00:04.0, pci:0000:00:04.0\n");
}

static const struct {
	uint64_t bit;
	const char *name;
} feature_names[] = {
	{ DRV_FEAT_SGL, "sgl" },
	{ DRV_FEAT_EVENTS, "events" },
	{ DRV_FEAT_ABORT, "abort" },
	{ DRV_FEAT_COALESCE, "coalesce" },
	{ DRV_FEAT_PERSISTENT, "persistent" },
	{ DRV_FEAT_DEVICE_POLL, "device-poll" },
	{ DRV_FEAT_STORAGE, "storage" },
};

/* Calls emit(name) for each feature bit, named or "bit-N". */
static void for_each_feature(uint64_t features, void (*emit)(const char *name, int first))
{
	int first = 1;

	for (unsigned b = 0; b < 64; b++) {
		const char *name = NULL;
		char unknown[16];

		if (!(features & (1ull << b)))
			continue;
		for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
			if (feature_names[i].bit == 1ull << b)
				name = feature_names[i].name;
		if (!name) {
			snprintf(unknown, sizeof(unknown), "bit-%u", b);
			name = unknown;
		}
		emit(name, first);
		first = 0;
	}
}

static void emit_text_feature(const char *name, int first)
{
	printf("%s%s", first ? "" : " ", name);
}

static void emit_json_feature(const char *name, int first)
{
	printf("%s\"%s\"", first ? "" : ", ", name);
}

/* A fixed-size field of drv_info, read up to its first NUL or its end. */
#define FIELD(f) ((int)strnlen((f), sizeof(f))), (f)

static void print_text(const char *uri, const struct drv_info *in)
{
	printf("device          %s\n", uri);
	printf("driver          %.*s\n", FIELD(in->driver));
	printf("bus             %.*s\n", FIELD(in->bus));
	printf("address         %.*s\n", FIELD(in->address));
	printf("model           %.*s\n", FIELD(in->model));
	if (in->serial[0])
		printf("serial          %.*s\n", FIELD(in->serial));
	if (in->firmware[0])
		printf("firmware        %.*s\n", FIELD(in->firmware));
	printf("ids             %04x:%04x\n", in->vendor_id, in->device_id);
	printf("hw version      0x%08" PRIx32 "\n", in->hw_version);
	printf("capacity        %" PRIu64 " bytes\n", in->capacity);
	printf("block size      %" PRIu32 " bytes\n", in->block_size);
	printf("features        ");
	for_each_feature(in->features, emit_text_feature);
	printf("%s\n", in->features ? "" : "(none)");
	printf("queues          %" PRIu32 "\n", in->max_queues);
	printf("queue depth     %" PRIu32 "\n", in->max_queue_depth);
	printf("max transfer    %" PRIu32 " bytes\n", in->max_transfer);
	printf("max SG entries  %" PRIu32 "\n", in->max_sg);
	printf("irq vectors     %" PRIu32 "\n", in->irq_vectors);
	printf("irq mode        %s\n", drv_irq_mode_name(in->irq_mode));
	printf("DMA pool        %" PRIu64 " bytes\n", in->dma_pool_bytes);
}

/* Copies a fixed-size field so that it is NUL-terminated for json_string. */
#define JSON_FIELD(key, f)                                                                         \
	do {                                                                                       \
		char tmp_[sizeof(f) + 1] = { 0 };                                                  \
		memcpy(tmp_, (f), sizeof(f));                                                      \
		printf("  \"%s\": ", (key));                                                       \
		app_print_json_string(tmp_);                                                       \
		printf(",\n");                                                                     \
	} while (0)

static void print_json(const char *uri, const struct drv_info *in)
{
	printf("{\n  \"device\": ");
	app_print_json_string(uri);
	printf(",\n");
	JSON_FIELD("driver", in->driver);
	JSON_FIELD("bus", in->bus);
	JSON_FIELD("address", in->address);
	JSON_FIELD("model", in->model);
	JSON_FIELD("serial", in->serial);
	JSON_FIELD("firmware", in->firmware);
	printf("  \"vendor_id\": %u,\n  \"device_id\": %u,\n", in->vendor_id, in->device_id);
	printf("  \"hw_version\": %" PRIu32 ",\n", in->hw_version);
	printf("  \"capacity\": %" PRIu64 ",\n", in->capacity);
	printf("  \"block_size\": %" PRIu32 ",\n", in->block_size);
	printf("  \"features\": [");
	for_each_feature(in->features, emit_json_feature);
	printf("],\n");
	printf("  \"max_queues\": %" PRIu32 ",\n", in->max_queues);
	printf("  \"max_queue_depth\": %" PRIu32 ",\n", in->max_queue_depth);
	printf("  \"max_transfer\": %" PRIu32 ",\n", in->max_transfer);
	printf("  \"max_sg\": %" PRIu32 ",\n", in->max_sg);
	printf("  \"irq_vectors\": %" PRIu32 ",\n", in->irq_vectors);
	printf("  \"irq_mode\": ");
	app_print_json_string(drv_irq_mode_name(in->irq_mode));
	printf(",\n  \"dma_pool_bytes\": %" PRIu64 "\n}\n", in->dma_pool_bytes);
}

static int cmd_info(int argc, char **argv)
{
	enum { OPT_DEVICE = 256, OPT_JSON };
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *uri = NULL;
	struct drv_info info;
	drv_dev *dev;
	int json = 0, c, rc = 0;

	while ((c = app_getopt(PROG " info", argc, argv, longopts, info_usage)) != -1) {
		switch (c) {
		case OPT_DEVICE:
			uri = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		}
	}
	if (optind < argc) {
		if (uri)
			app_usage_error(PROG " info", "give the device once, not '%s' as well",
					argv[optind]);
		uri = argv[optind++];
	}
	app_no_more_args(PROG " info", argc, argv);
	if (!uri)
		uri = APP_DEFAULT_DEVICE;

	if (app_open(PROG, uri, &dev))
		return APP_EXIT_RUNTIME;
	if (drv_info(dev, &info) < 0)
		rc = app_fail(PROG, "reading device info");
	else if (json)
		print_json(uri, &info);
	else
		print_text(uri, &info);
	if (drv_close(dev) < 0 && !rc)
		rc = app_fail(PROG, "closing the device");
	return rc;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "info", cmd_info },
#ifdef DRVCTL_HAVE_PCI
	{ "list", drvctl_list },
	{ "bind", drvctl_bind },
	{ "unbind", drvctl_unbind },
#endif
};

int main(int argc, char **argv)
{
	if (argc < 2)
		app_usage_error(PROG, "a command is needed");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage();
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		app_usage_error(PROG, "unknown option '%s'", argv[1]);
	app_usage_error(PROG, "unknown command '%s'", argv[1]);
}
