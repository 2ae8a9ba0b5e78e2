/* SPDX-License-Identifier: MIT */
/*
 * The vfio bus: a PCI function bound to vfio-pci, reached through a VFIO
 * container (type1 IOMMU), its IOMMU group and the device fd. BARs and
 * config space are device-fd regions, interrupts are eventfds (MSI-X,
 * else MSI, else INTx), and DMA memory is ordinary memory mapped into the
 * IOMMU at I/O virtual addresses chosen by libdrv.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bus.h"
#include "dev/devdrv.h"
#include "drv/driver.h"
#include "iova.h"
#include "irq_choice.h"
#include "pci_config.h"
#include "pci_func.h"
#include "pci_sysfs.h"
#include "pinned.h"
#include "vfio_iommu.h"

#define MAX_VECTORS 64

/* One mapping made by dma_map, listed so close can undo forgotten ones. */
struct vfio_dma {
	struct vfio_dma *next;
	void *va;
	size_t len;
	uint64_t iova;
};

struct vfio {
	struct drvi_pci_func pci; /* first: the shared PCI operations find it in bus_priv */
	int container, group, device;
	int irq_index;  /* VFIO_PCI_*_IRQ_INDEX in use, -1 for none */
	int force_intx; /* URI option irq=intx */
	unsigned nvec;
	int vec_fd[MAX_VECTORS];
	int req_fd; /* signalled when the kernel wants the device back */
	struct drv_iova_space iova;
	uint64_t iova_align; /* the IOMMU's smallest page */
	struct vfio_dma *dma;
};

static struct vfio *vfio_of(drv_dev *dev)
{
	return dev->bus_priv;
}

static int open_vfio_node(const char *path, const char *what)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int err = -errno;
	if (err == -ENOENT)
		return drv_fail(err,
				"%s (%s) does not exist: run `modprobe vfio-pci` and bind the "
				"device with `drvctl bind ADDR vfio`",
				path, what);
	if (err == -EACCES || err == -EPERM)
		return drv_fail_errno(err, "opening %s needs root (or ownership of the node)",
				      path);
	if (err == -EBUSY)
		return drv_fail(err, "%s is in use by another process: close it first", path);
	return drv_fail_errno(err, "opening %s", path);
}

/* Connects `index` to eventfds fds[0..n), or disconnects it when n == 0. */
static int set_irq_fds(struct vfio *v, int index, const int *fds, unsigned n)
{
	char buf[sizeof(struct vfio_irq_set) + MAX_VECTORS * sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	*set = (struct vfio_irq_set){
		.argsz = (uint32_t)(sizeof(*set) + n * sizeof(int32_t)),
		.flags = (n ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE) |
			 VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = (uint32_t)index,
		.count = n,
	};
	if (n)
		memcpy(set->data, fds, n * sizeof(int32_t));
	if (ioctl(v->device, VFIO_DEVICE_SET_IRQS, set) != 0)
		return drv_fail_errno(-errno, "VFIO_DEVICE_SET_IRQS for %u vectors of %s", n,
				      v->pci.addr);
	return 0;
}

static void irqs_off(struct vfio *v)
{
	if (v->irq_index >= 0)
		set_irq_fds(v, v->irq_index, NULL, 0);
	for (unsigned i = 0; i < v->nvec; i++)
		close(v->vec_fd[i]);
	v->irq_index = -1;
	v->nvec = 0;
}

static void forget_dma(struct vfio *v, struct vfio_dma *d)
{
	struct vfio_dma **link = &v->dma;
	while (*link != d)
		link = &(*link)->next;
	*link = d->next;
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap),
						    .iova = d->iova,
						    .size = d->len };
	ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	drvi_iova_free(&v->iova, d->iova, d->len);
	munmap(d->va, d->len);
	free(d);
}

static void vfio_close(drv_dev *dev)
{
	struct vfio *v = vfio_of(dev);
	if (!v)
		return;
	irqs_off(v);
	if (v->req_fd >= 0) {
		set_irq_fds(v, VFIO_PCI_REQ_IRQ_INDEX, NULL, 0);
		close(v->req_fd);
	}
	drvi_pci_func_release(&drvi_bus_vfio, dev);
	while (v->dma)
		forget_dma(v, v->dma);
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	free(v);
	dev->bus_priv = NULL;
}

static int attach_container(struct vfio *v, int group_no)
{
	char path[64];
	v->container = open_vfio_node("/dev/vfio/vfio", "the VFIO container");
	if (v->container < 0)
		return v->container;
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return drv_fail(-ENOTSUP, "the kernel's VFIO API version is not %d",
				VFIO_API_VERSION);
	int type = VFIO_TYPE1v2_IOMMU;
	if (ioctl(v->container, VFIO_CHECK_EXTENSION, type) <= 0) {
		type = VFIO_TYPE1_IOMMU;
		if (ioctl(v->container, VFIO_CHECK_EXTENSION, type) <= 0)
			return drv_fail(-ENOTSUP, "VFIO offers no type1 IOMMU: is "
						  "vfio_iommu_type1 loaded?");
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_no);
	v->group = open_vfio_node(path, "the device's IOMMU group");
	if (v->group < 0)
		return v->group;
	struct vfio_group_status status = { .argsz = sizeof(status) };
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &status) != 0)
		return drv_fail_errno(-errno, "VFIO_GROUP_GET_STATUS on %s", path);
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return drvi_sysfs_iommu_group_not_viable(drvi_sysfs_root(), group_no);
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container) != 0)
		return drv_fail_errno(-errno, "attaching IOMMU group %d to a VFIO container",
				      group_no);
	if (ioctl(v->container, VFIO_SET_IOMMU, type) != 0)
		return drv_fail_errno(-errno, "VFIO_SET_IOMMU");
	return drvi_vfio_iommu_space(v->container, &v->iova, &v->iova_align);
}

static int attach_device(struct vfio *v)
{
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, v->pci.addr);
	if (v->device < 0)
		return drv_fail_errno(-errno, "VFIO_GROUP_GET_DEVICE_FD for %s", v->pci.addr);
	struct vfio_device_info info = { .argsz = sizeof(info) };
	if (ioctl(v->device, VFIO_DEVICE_GET_INFO, &info) != 0)
		return drv_fail_errno(-errno, "VFIO_DEVICE_GET_INFO for %s", v->pci.addr);
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI))
		return drv_fail(-ENOTSUP, "%s is not a PCI device to VFIO", v->pci.addr);
	struct vfio_region_info reg = { .argsz = sizeof(reg),
					.index = VFIO_PCI_CONFIG_REGION_INDEX };
	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &reg) != 0)
		return drv_fail_errno(-errno, "reading the config region of %s", v->pci.addr);
	v->pci.config_offset = reg.offset;
	v->pci.config_fd = v->device;
	return 0;
}

/* Optional: an eventfd the kernel signals when it wants the device back. */
static void watch_release_request(struct vfio *v)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_REQ_IRQ_INDEX };
	if (ioctl(v->device, VFIO_DEVICE_GET_IRQ_INFO, &info) != 0 || info.count == 0)
		return;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd >= 0 && set_irq_fds(v, VFIO_PCI_REQ_IRQ_INDEX, &fd, 1) == 0)
		v->req_fd = fd;
	else if (fd >= 0)
		close(fd);
}

/* BARs are regions of the device fd; VFIO says which can be mapped. */
static int map_bar(struct drvi_pci_func *f, unsigned idx, void **va, size_t *len)
{
	struct vfio *v = (struct vfio *)f;
	struct vfio_region_info reg = { .argsz = sizeof(reg), .index = idx };
	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &reg) != 0)
		return drv_fail_errno(-errno, "reading BAR %u of %s", idx, f->addr);
	if (reg.size == 0)
		return drv_fail(-ENOENT, "%s does not implement BAR %u", f->addr, idx);
	if (!(reg.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return drv_fail(-ENOTSUP, "BAR %u of %s cannot be mapped (an I/O port BAR?)", idx,
				f->addr);
	void *p =
	    mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED, v->device, (off_t)reg.offset);
	if (p == MAP_FAILED)
		return drv_fail_errno(-errno, "mapping BAR %u of %s", idx, f->addr);
	*va = p;
	*len = reg.size;
	return 0;
}

static int vfio_open(drv_dev *dev, const char *addr, const struct drv_open_opts *opts)
{
	(void)opts;
	/* "ADDR?irq=intx" takes INTx even when MSI exists, to exercise the level-triggered path. */
	char plain[sizeof(((struct drvi_pci_func *)0)->addr)];
	int force_intx = 0;
	const char *options = strchr(addr, '?');
	if (options) {
		if (strcmp(options, "?irq=intx") != 0)
			return drv_fail(-EINVAL, "vfio option \"%s\": the only option is irq=intx",
					options + 1);
		snprintf(plain, sizeof(plain), "%.*s", (int)(options - addr), addr);
		addr = plain;
		force_intx = 1;
	}
	struct drv_pci_dev found;
	int err = drvi_pci_addr_check(addr);
	if (!err)
		err = drvi_pci_func_check_bound(addr, "vfio", &found);
	if (!err && found.iommu_group < 0)
		err = drv_fail(-ENODEV, "%s has no IOMMU group: enable the IOMMU (intel_iommu=on)",
			       addr);
	if (err)
		return err;
	struct vfio *v = calloc(1, sizeof(*v));
	if (!v)
		return drv_fail(-ENOMEM, "out of memory opening %s", addr);
	drvi_pci_func_init(&v->pci, addr, map_bar);
	v->container = v->group = v->device = v->req_fd = v->irq_index = -1;
	v->force_intx = force_intx;
	dev->bus_priv = v;
	snprintf(dev->info.bus, sizeof(dev->info.bus), "vfio");
	snprintf(dev->info.address, sizeof(dev->info.address), "%s", addr);

	err = attach_container(v, found.iommu_group);
	if (!err)
		err = attach_device(v);
	if (!err)
		err = drvi_pci_func_enable(&drvi_bus_vfio, dev);
	if (err) {
		vfio_close(dev);
		return err;
	}
	watch_release_request(v);
	return 0;
}

static unsigned irq_count(struct vfio *v, unsigned index)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = index };
	return ioctl(v->device, VFIO_DEVICE_GET_IRQ_INFO, &info) == 0 ? info.count : 0;
}

static int vfio_irq_setup(drv_dev *dev, unsigned wanted, enum drv_irq_mode *mode)
{
	struct vfio *v = vfio_of(dev);
	irqs_off(v);
	struct drv_irq_avail avail = {
		.msix = v->force_intx ? 0 : irq_count(v, VFIO_PCI_MSIX_IRQ_INDEX),
		.msi = v->force_intx ? 0 : irq_count(v, VFIO_PCI_MSI_IRQ_INDEX),
		.intx = irq_count(v, VFIO_PCI_INTX_IRQ_INDEX),
	};
	struct drv_irq_pick pick =
	    drvi_irq_choose(&avail, wanted < MAX_VECTORS ? wanted : MAX_VECTORS);
	*mode = pick.mode;
	if (pick.vectors == 0)
		return 0;
	int index = pick.mode == DRV_IRQ_MSIX  ? VFIO_PCI_MSIX_IRQ_INDEX
		    : pick.mode == DRV_IRQ_MSI ? VFIO_PCI_MSI_IRQ_INDEX
					       : VFIO_PCI_INTX_IRQ_INDEX;
	for (; v->nvec < pick.vectors; v->nvec++) {
		v->vec_fd[v->nvec] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (v->vec_fd[v->nvec] < 0) {
			int err = drv_fail_errno(-errno, "creating an eventfd for an interrupt");
			irqs_off(v);
			*mode = DRV_IRQ_NONE;
			return err;
		}
	}
	int err = set_irq_fds(v, index, v->vec_fd, v->nvec);
	if (err) {
		irqs_off(v);
		*mode = DRV_IRQ_NONE;
		return err;
	}
	v->irq_index = index;
	return (int)v->nvec;
}

static int vfio_irq_fd(drv_dev *dev, unsigned vector)
{
	struct vfio *v = vfio_of(dev);
	return vector < v->nvec ? v->vec_fd[vector] : -1;
}

static void vfio_irq_ack(drv_dev *dev, unsigned vector)
{
	struct vfio *v = vfio_of(dev);
	uint64_t count;
	if (vector >= v->nvec)
		return;
	ssize_t n = read(v->vec_fd[vector], &count, sizeof(count));
	(void)n; /* EAGAIN: a spurious wake-up */
	if (v->irq_index == VFIO_PCI_INTX_IRQ_INDEX) {
		/* VFIO masked the level-triggered line when it fired. */
		struct vfio_irq_set unmask = {
			.argsz = sizeof(unmask),
			.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
			.index = VFIO_PCI_INTX_IRQ_INDEX,
			.count = 1,
		};
		ioctl(v->device, VFIO_DEVICE_SET_IRQS, &unmask);
	}
}

static uint64_t block_align(struct vfio *v, size_t len)
{
	uint64_t align = v->iova_align;
	while (align < len && align < (2u << 20))
		align <<= 1;
	return align;
}

static int vfio_dma_map(drv_dev *dev, size_t len, struct drv_dma_region *out)
{
	struct vfio *v = vfio_of(dev);
	uint64_t mask = dev->dma_mask ? dev->dma_mask : UINT64_MAX;
	if (dev->dma_physical)
		return drvi_pinned_map(len, mask, out);
	/* Rounding up to the IOMMU page must not wrap to a zero-length mapping. */
	if (len > SIZE_MAX - v->iova_align)
		return drv_fail(-ENOMEM,
				"%zu bytes of DMA memory cannot be mapped: use a smaller DMA pool "
				"(drv_open_opts.dma_pool_bytes)",
				len);
	len = (len + v->iova_align - 1) / v->iova_align * v->iova_align;
	struct vfio_dma *d = calloc(1, sizeof(*d));
	if (!d)
		return drv_fail(-ENOMEM, "out of memory for a DMA mapping");
	int err = drvi_iova_alloc(&v->iova, len, block_align(v, len), mask, &d->iova);
	if (err) {
		free(d);
		return err;
	}
	void *va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (va == MAP_FAILED) {
		err = drv_fail_errno(-errno, "mapping %zu bytes of DMA memory", len);
		drvi_iova_free(&v->iova, d->iova, len);
		free(d);
		return err;
	}
	madvise(va, len, MADV_DONTFORK); /* a fork must not move pages under DMA */
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = d->iova,
		.size = len,
	};
	if (ioctl(v->container, VFIO_IOMMU_MAP_DMA, &map) != 0) {
		err = -errno;
		if (err == -ENOMEM)
			drv_fail(err,
				 "VFIO could not pin %zu bytes of DMA memory: raise "
				 "RLIMIT_MEMLOCK (`ulimit -l`) or use a smaller DMA pool",
				 len);
		else
			drv_fail_errno(err, "VFIO_IOMMU_MAP_DMA of %zu bytes at IOVA %#llx", len,
				       (unsigned long long)d->iova);
		munmap(va, len);
		drvi_iova_free(&v->iova, d->iova, len);
		free(d);
		return err;
	}
	*out = (struct drv_dma_region){
		.va = va, .len = len, .contig = len, .bus = d->iova, .bus_priv = d
	};
	d->va = va;
	d->len = len;
	d->next = v->dma;
	v->dma = d;
	return 0;
}

static void vfio_dma_unmap(drv_dev *dev, struct drv_dma_region *r)
{
	struct vfio *v = vfio_of(dev);
	if (r->bus_priv) {
		forget_dma(v, r->bus_priv);
		*r = (struct drv_dma_region){ 0 };
	} else {
		drvi_pinned_unmap(r);
	}
}

static int vfio_health_fd(drv_dev *dev)
{
	return vfio_of(dev)->req_fd;
}

static int vfio_alive(drv_dev *dev)
{
	struct vfio *v = vfio_of(dev);
	struct pollfd p = { .fd = v->req_fd, .events = POLLIN };
	if (v->req_fd >= 0 && poll(&p, 1, 0) == 1)
		return drv_fail(-ENODEV, "the kernel asked for %s back (unbind or removal)",
				v->pci.addr);
	uint16_t vendor, device;
	return drvi_pci_read_ids(&drvi_bus_vfio, dev, &vendor, &device);
}

const struct drv_bus_ops drvi_bus_vfio = {
	.name = "vfio",
	.open = vfio_open,
	.close = vfio_close,
	.map_region = drvi_pci_func_map_region,
	.kick = NULL,
	.irq_setup = vfio_irq_setup,
	.irq_fd = vfio_irq_fd,
	.irq_ack = vfio_irq_ack,
	.dma_map = vfio_dma_map,
	.dma_unmap = vfio_dma_unmap,
	.health_fd = vfio_health_fd,
	.alive = vfio_alive,
	.config_read = drvi_pci_func_config_read,
	.config_write = drvi_pci_func_config_write,
};
