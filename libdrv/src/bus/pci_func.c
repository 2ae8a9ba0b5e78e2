/* SPDX-License-Identifier: MIT */
#include "pci_func.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dev/devdrv.h"
#include "pci_config.h"
#include "pci_sysfs.h"

static struct drvi_pci_func *func_of(drv_dev *dev)
{
	return dev->bus_priv;
}

void drvi_pci_func_init(struct drvi_pci_func *f, const char *addr,
			int (*map_bar)(struct drvi_pci_func *f, unsigned idx, void **va,
				       size_t *len))
{
	memset(f, 0, sizeof(*f));
	snprintf(f->addr, sizeof(f->addr), "%s", addr);
	f->config_fd = -1;
	f->map_bar = map_bar;
}

int drvi_pci_func_check_bound(const char *addr, const char *bus, struct drv_pci_dev *out)
{
	int err = drvi_sysfs_pci_get(drvi_sysfs_root(), addr, out);
	if (err)
		return err;
	bool uio = strcmp(bus, "uio") == 0;
	const char *wanted = uio ? DRV_PCI_DRIVER_UIO : DRV_PCI_DRIVER_VFIO;
	const char *other_driver = uio ? DRV_PCI_DRIVER_VFIO : DRV_PCI_DRIVER_UIO;
	const char *other_bus = uio ? "vfio" : "uio";
	if (!out->driver[0])
		return drv_fail(-ENODEV,
				"device %s is not bound to any driver: run `drvctl bind %s %s`",
				addr, addr, bus);
	if (strcmp(out->driver, wanted) == 0)
		return 0;
	if (strcmp(out->driver, other_driver) == 0)
		return drv_fail(-EBUSY,
				"device %s is bound to %s: run `drvctl bind %s %s` or open %s:%s",
				addr, out->driver, addr, bus, other_bus, addr);
	return drv_fail(-EBUSY, "device %s is bound to %s: run `drvctl bind %s %s`", addr,
			out->driver, addr, bus);
}

int drvi_pci_func_enable(const struct drv_bus_ops *bus, drv_dev *dev)
{
	int err = drvi_pci_enable(bus, dev);
	if (!err)
		func_of(dev)->master_set = true;
	return err;
}

void drvi_pci_func_release(const struct drv_bus_ops *bus, drv_dev *dev)
{
	struct drvi_pci_func *f = func_of(dev);
	if (f->master_set)
		(void)drvi_pci_command_update(bus, dev, 0, DRV_PCI_CMD_MASTER);
	f->master_set = false;
	for (unsigned i = 0; i < DRVI_PCI_BARS; i++)
		if (f->bar[i].va)
			munmap(f->bar[i].va, f->bar[i].len);
	memset(f->bar, 0, sizeof(f->bar));
}

static int config_io(drv_dev *dev, unsigned off, void *data, size_t len, bool write)
{
	struct drvi_pci_func *f = func_of(dev);
	off_t at = (off_t)(f->config_offset + off);
	ssize_t n =
	    write ? pwrite(f->config_fd, data, len, at) : pread(f->config_fd, data, len, at);
	const char *what = write ? "writing" : "reading";
	if (n < 0)
		return drv_fail_errno(-errno, "%s config space of %s at %#x", what, f->addr, off);
	if ((size_t)n != len)
		return drv_fail(-EIO, "%s config space of %s: it ends before %#zx", what, f->addr,
				off + len);
	return 0;
}

int drvi_pci_func_config_read(drv_dev *dev, unsigned off, void *data, size_t len)
{
	return config_io(dev, off, data, len, false);
}

int drvi_pci_func_config_write(drv_dev *dev, unsigned off, const void *data, size_t len)
{
	return config_io(dev, off, (void *)(uintptr_t)data, len, true);
}

int drvi_pci_func_map_region(drv_dev *dev, unsigned idx, volatile void **va, size_t *len)
{
	struct drvi_pci_func *f = func_of(dev);
	if (idx >= DRVI_PCI_BARS)
		return drv_fail(-EINVAL, "BAR %u: PCI functions have BARs 0-5", idx);
	if (!f->bar[idx].va) {
		int err = f->map_bar(f, idx, &f->bar[idx].va, &f->bar[idx].len);
		if (err)
			return err;
	}
	*va = f->bar[idx].va;
	*len = f->bar[idx].len;
	return 0;
}
