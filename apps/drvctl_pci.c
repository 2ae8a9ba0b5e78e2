/* SPDX-License-Identifier: MIT */
/*
 * drvctl list / bind / unbind: which PCI functions exist, which driver has
 * each, and handing them to uio_pci_generic or vfio-pci for libdrv.
 */
#include "drvctl_pci.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <drv/pci.h>

#include "common.h"

#define MAX_FUNCTIONS 1024

static void list_usage(void)
{
	printf("Usage: drvctl list [--json]\n"
	       "Lists PCI functions: address, vendor:device, names, class, bound driver,\n"
	       "IOMMU group (- without an IOMMU), and the libdrv driver that can drive it.\n"
	       "\n"
	       "Options:\n"
	       "  --json   print a JSON array\n"
	       "  --help   show this help\n");
}

static void bind_usage(void)
{
	printf("Usage: drvctl bind ADDR uio|vfio [--force]\n"
	       "Hands PCI function ADDR (DDDD:BB:DD.F) to uio_pci_generic (open it as\n"
	       "uio:ADDR) or vfio-pci (vfio:ADDR), remembering its previous driver.\n"
	       "\n"
	       "Options:\n"
	       "  --force  take it even from a kernel driver that is using it\n"
	       "  --help   show this help\n");
}

static void unbind_usage(void)
{
	printf("Usage: drvctl unbind ADDR\n"
	       "Takes ADDR from uio_pci_generic / vfio-pci and gives it back to the driver\n"
	       "it had before `drvctl bind`.\n"
	       "\n"
	       "Options:\n"
	       "  --help   show this help\n");
}

static void print_json(const struct drv_pci_dev *d, int n)
{
	printf("[");
	for (int i = 0; i < n; i++) {
		printf("%s\n  {\"address\": ", i ? "," : "");
		app_print_json_string(d[i].addr);
		printf(", \"vendor\": \"%04x\", \"device\": \"%04x\", \"class\": \"%06x\"",
		       d[i].vendor, d[i].device, d[i].class_code);
		printf(", \"vendor_name\": ");
		app_print_json_string(d[i].vendor_name);
		printf(", \"device_name\": ");
		app_print_json_string(d[i].device_name);
		printf(", \"class_name\": ");
		app_print_json_string(d[i].class_name);
		printf(", \"driver\": ");
		app_print_json_string(d[i].driver);
		printf(", \"iommu_group\": %d, \"libdrv_driver\": ", d[i].iommu_group);
		app_print_json_string(d[i].libdrv_driver);
		printf("}");
	}
	printf("%s]\n", n ? "\n" : "");
}

static void print_table(const struct drv_pci_dev *d, int n)
{
	printf("%-12s  %-9s  %-5s  %-16s  %-6s  %s\n", "ADDRESS", "ID", "GROUP", "DRIVER", "LIBDRV",
	       "NAME (CLASS)");
	for (int i = 0; i < n; i++) {
		char id[16], group[12], name[256];
		snprintf(id, sizeof(id), "%04x:%04x", d[i].vendor, d[i].device);
		if (d[i].iommu_group >= 0)
			snprintf(group, sizeof(group), "%d", d[i].iommu_group);
		else
			snprintf(group, sizeof(group), "-");
		snprintf(name, sizeof(name), "%s%s%s (%s)",
			 d[i].vendor_name[0] ? d[i].vendor_name : "unknown vendor",
			 d[i].device_name[0] ? " " : "", d[i].device_name,
			 d[i].class_name[0] ? d[i].class_name : "class unknown");
		printf("%-12s  %-9s  %-5s  %-16s  %-6s  %s [%06x]\n", d[i].addr, id, group,
		       d[i].driver[0] ? d[i].driver : "-",
		       d[i].libdrv_driver[0] ? d[i].libdrv_driver : "-", name, d[i].class_code);
	}
}

/* Parses the command's options: --json / --force and -h; returns the first operand. */
static int parse(int argc, char **argv, const char *prog, const char *flag, int *set,
		 void (*help)(void))
{
	enum { OPT_FLAG = 256 };
	const struct option opts[] = { { flag, no_argument, NULL, OPT_FLAG },
				       { "help", no_argument, NULL, 'h' },
				       { NULL, 0, NULL, 0 } };
	int c;
	optind = 1;
	while ((c = app_getopt(prog, argc, argv, opts, help)) != -1)
		*set = 1; /* OPT_FLAG, the only other option */
	return optind;
}

int drvctl_list(int argc, char **argv)
{
	int json = 0;
	parse(argc, argv, "drvctl list", "json", &json, list_usage);
	app_no_more_args("drvctl list", argc, argv);
	struct drv_pci_dev *d = calloc(MAX_FUNCTIONS, sizeof(*d));
	if (!d) {
		fprintf(stderr, "drvctl list: out of memory\n");
		return APP_EXIT_RUNTIME;
	}
	int n = drv_pci_list(d, MAX_FUNCTIONS);
	if (n < 0) {
		free(d);
		return app_fail("drvctl list", "listing PCI functions");
	}
	if (n > MAX_FUNCTIONS)
		n = MAX_FUNCTIONS;
	if (json)
		print_json(d, n);
	else
		print_table(d, n);
	free(d);
	return 0;
}

int drvctl_bind(int argc, char **argv)
{
	int force = 0;
	int first = parse(argc, argv, "drvctl bind", "force", &force, bind_usage);
	if (argc - first != 2)
		app_usage_error("drvctl bind", "expected ADDR and uio or vfio");
	const char *addr = argv[first], *how = argv[first + 1];
	if (strcmp(how, "uio") && strcmp(how, "vfio"))
		app_usage_error("drvctl bind", "bind to 'uio' or 'vfio', not '%s'", how);
	if (drv_pci_bind(addr, how, force) < 0)
		return app_fail("drvctl bind", addr);
	printf("%s: bound to %s; open it as %s:%s\n", addr,
	       strcmp(how, "uio") ? "vfio-pci" : "uio_pci_generic", how, addr);
	return 0;
}

int drvctl_unbind(int argc, char **argv)
{
	int force = 0;
	int first = parse(argc, argv, "drvctl unbind", "force", &force, unbind_usage);
	if (force)
		app_usage_error("drvctl unbind", "unbind has no --force: give just ADDR");
	if (argc - first != 1)
		app_usage_error("drvctl unbind", "expected one ADDR");
	const char *addr = argv[first];
	struct drv_pci_dev d;
	if (drv_pci_unbind(addr) < 0 || drv_pci_get(addr, &d) < 0)
		return app_fail("drvctl unbind", addr);
	printf("%s: now %s%s\n", addr, d.driver[0] ? "bound to " : "unbound",
	       d.driver[0] ? d.driver : " (no previous driver was recorded)");
	return 0;
}
