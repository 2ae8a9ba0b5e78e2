/* SPDX-License-Identifier: MIT */
/*
 * libdrv PCI helpers: find PCI functions and hand them to (or take them back
 * from) the user-space driver frameworks libdrv opens: uio_pci_generic
 * ("uio:ADDR") and vfio-pci ("vfio:ADDR"). Binding needs root.
 *
 * The environment variables LIBDRV_SYSFS_ROOT (default "/sys") and
 * LIBDRV_STATE_DIR (default "/run/libdrv") point these functions at another
 * tree, e.g. a fake one in tests.
 */
#ifndef DRV_PCI_H
#define DRV_PCI_H

#include <stdint.h>

#include "drv/drv.h"

#ifdef __cplusplus
extern "C" {
#endif

struct drv_pci_dev {
	char addr[16]; /* "DDDD:BB:DD.F" */
	uint16_t vendor, device;
	uint32_t class_code;                    /* base class << 16 | subclass << 8 | prog-if */
	char driver[32];                        /* bound kernel driver, "" when none */
	int iommu_group;                        /* -1 without an IOMMU */
	char vendor_name[64], device_name[128]; /* from pci.ids, "" when unknown */
	char class_name[48];                    /* from pci.ids, "" when unknown */
	char libdrv_driver[16]; /* libdrv's device driver for it ("edu"), "" when none */
};

/*
 * Fills up to max entries, ordered by address, and returns how many PCI
 * functions exist (which may exceed max).
 */
DRV_API int drv_pci_list(struct drv_pci_dev *out, unsigned max);
DRV_API int drv_pci_get(const char *addr, struct drv_pci_dev *out);

/*
 * Binds addr to uio_pci_generic (how = "uio") or vfio-pci ("vfio"),
 * remembering the previous driver for drv_pci_unbind(). Refuses with
 * -EBUSY to take a device from a kernel driver that is using it (storage,
 * network or display controllers, or any device with block devices or
 * network interfaces beneath it) unless force is set.
 */
DRV_API int drv_pci_bind(const char *addr, const char *how, int force);

/*
 * Unbinds addr from its driver and gives it back to the driver it had
 * before drv_pci_bind(), when that is known.
 */
DRV_API int drv_pci_unbind(const char *addr);

#ifdef __cplusplus
}
#endif

#endif
