/* SPDX-License-Identifier: MIT */
/*
 * The kernel's view of PCI functions under sysfs: addresses, ids, bound
 * driver, IOMMU group, BAR resources, uio nodes, and binding. Every
 * function takes the sysfs root ("/sys" on a real system) so tests can run
 * against a fake tree.
 */
#ifndef DRV_BUS_PCI_SYSFS_H
#define DRV_BUS_PCI_SYSFS_H

#include <stddef.h>
#include <stdint.h>

#include "drv/pci.h"

#define DRV_PCI_DRIVER_UIO "uio_pci_generic"
#define DRV_PCI_DRIVER_VFIO "vfio-pci"

/* 0 when addr is "DDDD:BB:DD.F" in lower-case hex, else -EINVAL with a message. */
int drvi_pci_addr_check(const char *addr);
/* "/sys", or $LIBDRV_SYSFS_ROOT: every sysfs lookup of the library starts here. */
const char *drvi_sysfs_root(void);

/* root/bus/pci/devices/addr[/attr] into buf; -ENAMETOOLONG if it does not fit. */
int drvi_sysfs_dev_path(char *buf, size_t len, const char *root, const char *addr,
			const char *attr);

/* Reads a one-line sysfs attribute, without the newline. Returns its length. */
int drvi_sysfs_read_line(const char *path, char *buf, size_t len);
/* Writes s to a sysfs attribute; the message names the file. */
int drvi_sysfs_write(const char *path, const char *s);

/* Name of the bound driver ("" when none). -ENODEV when there is no such device. */
int drvi_sysfs_pci_driver(const char *root, const char *addr, char *buf, size_t len);

/* Ids, class, driver and IOMMU group (names are left empty). */
int drvi_sysfs_pci_get(const char *root, const char *addr, struct drv_pci_dev *out);
/* Every function, ordered by address; returns the total count (may exceed max). */
int drvi_sysfs_pci_list(const char *root, struct drv_pci_dev *out, unsigned max);

/*
 * The failure for an IOMMU group that VFIO reports not viable: -EPERM with a
 * message naming each member bound to a driver other than vfio-pci or
 * pci-stub, and how to free it.
 */
int drvi_sysfs_iommu_group_not_viable(const char *root, int group);

/* N of the /dev/uioN node of a device bound to uio_pci_generic. */
int drvi_sysfs_pci_uio_index(const char *root, const char *addr);

#define DRV_PCI_RES_IO 0x100ull /* IORESOURCE_IO in the resource file's flags */
#define DRV_PCI_RES_MEM 0x200ull

/* Start, size and flags of BAR `bar` from the device's `resource` file. */
int drvi_sysfs_pci_resource(const char *root, const char *addr, unsigned bar, uint64_t *start,
			    uint64_t *size, uint64_t *flags);

/*
 * 1 when a kernel driver other than uio_pci_generic, vfio-pci or pci-stub
 * is bound and the device matters to the running system (a storage,
 * network or display controller, or block devices / network interfaces
 * beneath it); `why` then explains. 0 otherwise.
 */
int drvi_sysfs_pci_in_use(const char *root, const char *addr, char *why, size_t len);

/*
 * Binding. state_dir keeps "<addr>.prev-driver" files so unbind can give
 * the device back (/run/libdrv on a real system). how: "uio" or "vfio".
 */
int drvi_sysfs_pci_bind(const char *root, const char *state_dir, const char *addr, const char *how,
			int force);
int drvi_sysfs_pci_unbind(const char *root, const char *state_dir, const char *addr);

#endif
