/* SPDX-License-Identifier: MIT */
/*
 * The uio bus: a PCI function bound to uio_pci_generic. BARs are mapped
 * from sysfs resourceN, config space is the sysfs `config` file, the one
 * interrupt is INTx read from /dev/uioN, and DMA memory is pinned RAM
 * addressed physically (no IOMMU protection).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "dev/devdrv.h"
#include "drv/driver.h"
#include "pci_config.h"
#include "pci_func.h"
#include "pci_sysfs.h"
#include "pinned.h"

struct uio {
	struct drvi_pci_func pci; /* first: the shared PCI operations find it in bus_priv */
	int uio_fd;
};

static struct uio *uio_of(drv_dev *dev)
{
	return dev->bus_priv;
}

static int open_needing_root(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int err = -errno;
	if (err == -EACCES || err == -EPERM)
		return drv_fail_errno(err, "opening %s needs root", path);
	return drv_fail_errno(err, "opening %s", path);
}

static void uio_close(drv_dev *dev)
{
	struct uio *u = uio_of(dev);
	if (!u)
		return;
	drvi_pci_func_release(&drvi_bus_uio, dev);
	if (u->uio_fd >= 0)
		close(u->uio_fd);
	if (u->pci.config_fd >= 0)
		close(u->pci.config_fd);
	free(u);
	dev->bus_priv = NULL;
}

/* BARs are the sysfs resourceN files: memory BARs only. */
static int map_bar(struct drvi_pci_func *f, unsigned idx, void **va, size_t *len)
{
	uint64_t start, size, flags;
	char path[512], name[16];
	int err = drvi_sysfs_pci_resource(drvi_sysfs_root(), f->addr, idx, &start, &size, &flags);
	if (err)
		return err;
	if (flags & DRV_PCI_RES_IO)
		return drv_fail(-ENOTSUP,
				"BAR %u of %s is an I/O port BAR: libdrv maps only memory BARs",
				idx, f->addr);
	snprintf(name, sizeof(name), "resource%u", idx);
	err = drvi_sysfs_dev_path(path, sizeof(path), drvi_sysfs_root(), f->addr, name);
	int fd = err ? err : open_needing_root(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return fd;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = -errno;
	close(fd);
	if (p == MAP_FAILED)
		return drv_fail_errno(err, "mapping %s", path);
	*va = p;
	*len = size;
	return 0;
}

static int open_uio_node(struct uio *u)
{
	char path[64];
	int index = drvi_sysfs_pci_uio_index(drvi_sysfs_root(), u->pci.addr);
	if (index < 0)
		return index;
	snprintf(path, sizeof(path), "/dev/uio%d", index);
	/* Non-blocking: irq_ack must not sleep when a wake-up was spurious. */
	u->uio_fd = open_needing_root(path, O_RDWR | O_NONBLOCK);
	return u->uio_fd < 0 ? u->uio_fd : 0;
}

static int uio_open(drv_dev *dev, const char *addr, const struct drv_open_opts *opts)
{
	(void)opts;
	char path[512];
	struct drv_pci_dev found;
	int err = drvi_pci_addr_check(addr);
	if (!err)
		err = drvi_pci_func_check_bound(addr, "uio", &found);
	if (err)
		return err;
	struct uio *u = calloc(1, sizeof(*u));
	if (!u)
		return drv_fail(-ENOMEM, "out of memory opening %s", addr);
	drvi_pci_func_init(&u->pci, addr, map_bar);
	u->uio_fd = -1;
	dev->bus_priv = u;
	snprintf(dev->info.bus, sizeof(dev->info.bus), "uio");
	snprintf(dev->info.address, sizeof(dev->info.address), "%s", addr);

	err = drvi_sysfs_dev_path(path, sizeof(path), drvi_sysfs_root(), addr, "config");
	if (!err) {
		u->pci.config_fd = open_needing_root(path, O_RDWR);
		err = u->pci.config_fd < 0 ? u->pci.config_fd : 0;
	}
	if (!err)
		err = open_uio_node(u);
	if (!err)
		err = drvi_pci_func_enable(&drvi_bus_uio, dev);
	if (err)
		uio_close(dev);
	return err;
}

static int uio_irq_setup(drv_dev *dev, unsigned wanted, enum drv_irq_mode *mode)
{
	uint8_t pin = 0;
	*mode = DRV_IRQ_NONE;
	int err = wanted ? drvi_pci_func_config_read(dev, DRV_PCI_INTERRUPT_PIN, &pin, 1) : 0;
	if (err || !pin)
		return err; /* no INTx pin: the driver polls */
	err = drvi_pci_command_update(&drvi_bus_uio, dev, 0, DRV_PCI_CMD_INTX_DISABLE);
	if (err)
		return err;
	*mode = DRV_IRQ_INTX;
	return 1;
}

static int uio_irq_fd(drv_dev *dev, unsigned vector)
{
	return vector == 0 ? uio_of(dev)->uio_fd : -1;
}

static void uio_irq_ack(drv_dev *dev, unsigned vector)
{
	struct uio *u = uio_of(dev);
	uint32_t count;
	if (vector != 0)
		return;
	/* EAGAIN is a spurious wake-up; unmasking is right either way. */
	ssize_t n = read(u->uio_fd, &count, sizeof(count));
	(void)n;
	/*
	 * The kernel's handler masked INTx (command bit 10) and uio_pci_generic
	 * has no write() to undo it, so unmask through config space. The whole
	 * 16-bit command register is written: QEMU 7.2 re-evaluates the INTx
	 * line only for writes that cover byte 4, and after a write of byte 5
	 * alone its line state goes wrong (lost interrupts, then a storm that
	 * makes the kernel disable the IRQ).
	 */
	(void)drvi_pci_command_update(&drvi_bus_uio, dev, 0, DRV_PCI_CMD_INTX_DISABLE);
}

static int uio_dma_map(drv_dev *dev, size_t len, struct drv_dma_region *out)
{
	return drvi_pinned_map(len, dev->dma_mask ? dev->dma_mask : UINT64_MAX, out);
}

static void uio_dma_unmap(drv_dev *dev, struct drv_dma_region *r)
{
	(void)dev;
	drvi_pinned_unmap(r);
}

static int uio_health_fd(drv_dev *dev)
{
	(void)dev;
	return -1;
}

static int uio_alive(drv_dev *dev)
{
	struct uio *u = uio_of(dev);
	char path[512];
	struct stat st;
	uint16_t vendor, device;
	if (drvi_sysfs_dev_path(path, sizeof(path), drvi_sysfs_root(), u->pci.addr, NULL) ||
	    stat(path, &st) != 0)
		return drv_fail(-ENODEV, "PCI device %s is gone from sysfs", u->pci.addr);
	return drvi_pci_read_ids(&drvi_bus_uio, dev, &vendor, &device);
}

const struct drv_bus_ops drvi_bus_uio = {
	.name = "uio",
	.open = uio_open,
	.close = uio_close,
	.map_region = drvi_pci_func_map_region,
	.kick = NULL,
	.irq_setup = uio_irq_setup,
	.irq_fd = uio_irq_fd,
	.irq_ack = uio_irq_ack,
	.dma_map = uio_dma_map,
	.dma_unmap = uio_dma_unmap,
	.health_fd = uio_health_fd,
	.alive = uio_alive,
	.config_read = drvi_pci_func_config_read,
	.config_write = drvi_pci_func_config_write,
};
