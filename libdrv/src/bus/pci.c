/* SPDX-License-Identifier: MIT */
/* The public PCI helpers of drv/pci.h: sysfs facts plus names from pci.ids. */
#include "drv/pci.h"

#include <pci/pci.h>
#include <stdio.h>
#include <stdlib.h>

#include "dev/devdrv.h"
#include "pci_sysfs.h"

static const char *state_dir(void)
{
	const char *dir = getenv("LIBDRV_STATE_DIR");
	return dir && dir[0] ? dir : "/run/libdrv";
}

static void ignore_message(char *msg, ...)
{
	(void)msg;
}

static void copy_name(char *dst, size_t len, const char *name)
{
	snprintf(dst, len, "%s", name ? name : "");
}

/* Names from pci.ids and libdrv's driver; a missing database just leaves names empty. */
static void describe(struct pci_access *ids, struct drv_pci_dev *d)
{
	char buf[256];
	copy_name(d->vendor_name, sizeof(d->vendor_name),
		  pci_lookup_name(ids, buf, sizeof(buf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_NO_NUMBERS,
				  d->vendor));
	copy_name(d->device_name, sizeof(d->device_name),
		  pci_lookup_name(ids, buf, sizeof(buf), PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
				  d->vendor, d->device));
	copy_name(d->class_name, sizeof(d->class_name),
		  pci_lookup_name(ids, buf, sizeof(buf), PCI_LOOKUP_CLASS | PCI_LOOKUP_NO_NUMBERS,
				  d->class_code >> 8));
	copy_name(d->libdrv_driver, sizeof(d->libdrv_driver),
		  drvi_driver_name_for(d->vendor, d->device, d->class_code));
}

static struct pci_access *open_ids(void)
{
	struct pci_access *ids = pci_alloc();
	/* Only the name database is used, so pci_init() (which probes hardware access) is not. */
	if (ids)
		ids->warning = ids->debug = ignore_message;
	return ids;
}

DRV_API int drv_pci_list(struct drv_pci_dev *out, unsigned max)
{
	int n = drvi_sysfs_pci_list(drvi_sysfs_root(), out, max);
	struct pci_access *ids = n > 0 ? open_ids() : NULL;
	for (int i = 0; ids && i < n && (unsigned)i < max; i++)
		describe(ids, &out[i]);
	if (ids)
		pci_cleanup(ids);
	return n;
}

DRV_API int drv_pci_get(const char *addr, struct drv_pci_dev *out)
{
	int err = drvi_pci_addr_check(addr);
	if (!err)
		err = drvi_sysfs_pci_get(drvi_sysfs_root(), addr, out);
	struct pci_access *ids = err ? NULL : open_ids();
	if (ids) {
		describe(ids, out);
		pci_cleanup(ids);
	}
	return err;
}

DRV_API int drv_pci_bind(const char *addr, const char *how, int force)
{
	int err = drvi_pci_addr_check(addr);
	return err ? err : drvi_sysfs_pci_bind(drvi_sysfs_root(), state_dir(), addr, how, force);
}

DRV_API int drv_pci_unbind(const char *addr)
{
	int err = drvi_pci_addr_check(addr);
	return err ? err : drvi_sysfs_pci_unbind(drvi_sysfs_root(), state_dir(), addr);
}
