/* SPDX-License-Identifier: MIT */
/*
 * The text parsers: devsim's option parser (dsim_config_parse_query and
 * dsim_config_set: sizes, times, latency specs, fault rules, which the
 * CLI, sim:inproc and devsim_start_inproc share), the fault rule parser and
 * its canonical rendering, and drv_open's URI dispatch with the PCI address
 * check (against a fake sysfs root with nothing in it, so no real device is
 * touched; sim: URIs are parsed only, as opening one starts a device). The first
 * input byte picks the parser, the rest is the text. Invariants: no crash,
 * no undefined behaviour, no leak; an accepted configuration is within the
 * limits docs/dsim.md gives (and its timing passes SET_TIMING's check);
 * rendering accepted rules and parsing the text again gives the same rules
 * and the same text, one line of at most DSIM_FAULT_RULE_TEXT bytes per
 * rule; a refused option or rule leaves what it was parsed into unchanged;
 * the PCI address check accepts exactly the DDDD:BB:DD.F shape with a
 * device below 32 and a function below 8; and drv_open refuses every URI
 * it is given here without handing out a device.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci_sysfs.h"
#include "config.h"
#include "drv/drv.h"
#include "fuzz.h"
#include "model.h"

#define TEXT_MAX 1024u

static void check_config(const struct dsim_config *cfg)
{
	FUZZ_CHECK(cfg->capacity > 0);
	FUZZ_CHECK(cfg->queues >= 1 && cfg->queues <= DSIM_MAX_QUEUES);
	FUZZ_CHECK(cfg->faults.n <= DSIM_FAULT_MAX_RULES);
	FUZZ_CHECK(dsim_timing_valid(&cfg->timing));
	FUZZ_CHECK(memchr(cfg->backing, 0, sizeof(cfg->backing)) != NULL);
}

static bool same_rules(const struct dsim_fault_set *a, const struct dsim_fault_set *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++) {
		const struct dsim_fault_rule *x = &a->rule[i], *y = &b->rule[i];
		if (x->kind != y->kind || x->op != y->op || x->trigger != y->trigger ||
		    x->arg != y->arg || x->queue != y->queue || x->n != y->n ||
		    x->rate_ppb != y->rate_ppb || x->count != y->count ||
		    x->delay_ns != y->delay_ns)
			return false;
	}
	return true;
}

/* Canonical text parses back to the same rules and renders to the same text. */
static void check_render(const struct dsim_fault_set *set)
{
	char text[DSIM_FAULT_MAX_RULES * DSIM_FAULT_RULE_TEXT + 1], again[sizeof(text)], err[256];
	size_t len = dsim_fault_set_render(set, text, sizeof(text));
	FUZZ_CHECK(len < sizeof(text) && strlen(text) == len);
	unsigned lines = 0;
	for (const char *line = text; *line; lines++) {
		const char *nl = strchr(line, '\n');
		FUZZ_CHECK(nl && (size_t)(nl - line) + 1 <= DSIM_FAULT_RULE_TEXT);
		line = nl + 1;
	}
	FUZZ_CHECK(lines == set->n);
	struct dsim_fault_set back = { .n = 0 };
	FUZZ_CHECK(dsim_fault_set_parse(&back, text, err, sizeof(err)) == 0);
	FUZZ_CHECK(same_rules(set, &back));
	FUZZ_CHECK(dsim_fault_set_render(&back, again, sizeof(again)) == len);
	FUZZ_CHECK(strcmp(text, again) == 0);
}

static void fuzz_query(const char *text)
{
	struct dsim_config cfg, before;
	dsim_config_defaults(&cfg);
	char err[256];
	if (dsim_config_parse_query(&cfg, text, err, sizeof(err)) == 0) {
		check_config(&cfg);
		check_render(&cfg.faults);
	}
	/* One option on its own: a refusal changes nothing. */
	dsim_config_defaults(&cfg);
	const char *eq = strchr(text, '=');
	char key[64];
	size_t klen = eq ? (size_t)(eq - text) : strlen(text);
	snprintf(key, sizeof(key), "%.*s", (int)(klen < sizeof(key) ? klen : sizeof(key) - 1),
		 text);
	before = cfg;
	if (dsim_config_set(&cfg, key, eq ? eq + 1 : NULL, err, sizeof(err)) == 0)
		check_config(&cfg);
	else
		FUZZ_CHECK(memcmp(&cfg, &before, sizeof(cfg)) == 0);
}

static void fuzz_rules(const char *text)
{
	struct dsim_fault_set set = { .n = 0 }, before;
	char err[256];
	/* Rules go after one already there, as the FAULT message adds them. */
	FUZZ_CHECK(dsim_fault_set_parse(&set, "late,delay=1ms,queue=3", err, sizeof(err)) == 0);
	before = set;
	if (dsim_fault_set_parse(&set, text, err, sizeof(err)) == 0)
		check_render(&set);
	else
		FUZZ_CHECK(memcmp(&set, &before, sizeof(set)) == 0 && err[0]);
}

static void fuzz_numbers(const char *text)
{
	uint64_t v = 0;
	if (dsim_parse_size(text, &v) == 0)
		FUZZ_CHECK(isdigit((unsigned char)text[0]));
	if (dsim_parse_time_ns(text, &v) == 0)
		FUZZ_CHECK(isdigit((unsigned char)text[0]));
}

/* DDDD:BB:DD.F in lower-case hex, device < 32, function < 8: the shape sysfs names. */
static bool pci_shaped(const char *a)
{
	static const char shape[] = "xxxx:xx:xx.x";
	if (strlen(a) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++) {
		bool hex = (a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f');
		if (shape[i] == 'x' ? !hex : a[i] != shape[i])
			return false;
	}
	unsigned dev = (unsigned)(isdigit((unsigned char)a[8]) ? a[8] - '0' : a[8] - 'a' + 10)
			   << 4 |
		       (unsigned)(isdigit((unsigned char)a[9]) ? a[9] - '0' : a[9] - 'a' + 10);
	return dev < 32 && a[11] >= '0' && a[11] <= '7';
}

static void fuzz_uri(const char *uri)
{
	static const char *const pci_schemes[] = { "uio:", "vfio:" };
	for (unsigned i = 0; i < 2; i++) {
		size_t n = strlen(pci_schemes[i]);
		if (strncmp(uri, pci_schemes[i], n) == 0) {
			FUZZ_CHECK((drvi_pci_addr_check(uri + n) == 0) == pci_shaped(uri + n));
			return;
		}
	}
	if (strncmp(uri, "sim:", 4) == 0) {
		const char *query = strncmp(uri + 4, "inproc?", 7) == 0 ? uri + 11 : NULL;
		if (query)
			fuzz_query(query);
		return;
	}
	/* pci:ADDR and anything else: the fake sysfs has no device, so nothing opens. */
	drv_dev *dev = (drv_dev *)(uintptr_t)1; /* drv_open must clear it */
	int rc = drv_open(uri, NULL, &dev);
	FUZZ_CHECK(rc < 0 && dev == NULL);
	FUZZ_CHECK(strncmp(uri, "pci:", 4) != 0 || rc == (pci_shaped(uri + 4) ? -ENODEV : -EINVAL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A sysfs tree with no device in it: nothing can be opened, nothing real is read. */
	if (setenv("LIBDRV_SYSFS_ROOT", "/nonexistent/fuzz-sysfs", 0))
		abort();
	struct fuzz_in in = { data, size };
	uint8_t which = fuzz_u8(&in);
	char text[TEXT_MAX + 1];
	text[fuzz_bytes(&in, text, TEXT_MAX)] = 0;
	switch (which % 4) {
	case 0:
		fuzz_query(text);
		break;
	case 1:
		fuzz_rules(text);
		break;
	case 2:
		fuzz_numbers(text);
		break;
	default:
		fuzz_uri(text);
		break;
	}
	return 0;
}
