/* SPDX-License-Identifier: MIT */
#include "pci_sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drv/driver.h"

const char *drvi_sysfs_root(void)
{
	const char *root = getenv("LIBDRV_SYSFS_ROOT");
	return root && root[0] ? root : "/sys";
}

int drvi_pci_addr_check(const char *addr)
{
	static const char shape[] = "xxxx:xx:xx.x";
	int ok = addr && strlen(addr) == sizeof(shape) - 1;
	for (size_t i = 0; ok && shape[i]; i++) {
		char c = addr[i];
		ok = shape[i] == 'x' ? (isdigit((unsigned char)c) || (c >= 'a' && c <= 'f'))
				     : c == shape[i];
	}
	if (ok) {
		unsigned long slot = strtoul(addr + 8, NULL, 16);
		ok = slot < 32 && addr[11] <= '7';
	}
	if (!ok)
		return drv_fail(
		    -EINVAL,
		    "\"%s\" is not a PCI address: expected DDDD:BB:DD.F in lower-case hex, "
		    "e.g. 0000:00:03.0 (see `drvctl list`)",
		    addr ? addr : "(null)");
	return 0;
}

int drvi_sysfs_dev_path(char *buf, size_t len, const char *root, const char *addr, const char *attr)
{
	int n = snprintf(buf, len, "%s/bus/pci/devices/%s%s%s", root, addr, attr ? "/" : "",
			 attr ? attr : "");
	if (n < 0 || (size_t)n >= len)
		return drv_fail(-ENAMETOOLONG, "sysfs path for %s/%s is too long", addr,
				attr ? attr : "");
	return 0;
}

int drvi_sysfs_read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return drv_fail_errno(-errno, "opening %s", path);
	ssize_t n = read(fd, buf, len - 1);
	int err = -errno;
	close(fd);
	if (n < 0)
		return drv_fail_errno(err, "reading %s", path);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

int drvi_sysfs_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		if (err == -EACCES || err == -EPERM)
			return drv_fail_errno(err, "writing %s needs root", path);
		return drv_fail_errno(err, "opening %s", path);
	}
	size_t len = strlen(s);
	ssize_t n = write(fd, s, len);
	int err = n < 0 ? -errno : 0;
	close(fd);
	if (n < 0)
		return drv_fail_errno(err, "writing \"%s\" to %s", s, path);
	if ((size_t)n != len)
		return drv_fail(-EIO, "short write of \"%s\" to %s", s, path);
	return 0;
}

/* Last path component of a symlink's target, "" when the link is absent. */
static int link_name(const char *path, char *buf, size_t len)
{
	char target[512];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno == ENOENT) {
			buf[0] = '\0';
			return 0;
		}
		return drv_fail_errno(-errno, "reading link %s", path);
	}
	target[n] = '\0';
	const char *slash = strrchr(target, '/');
	snprintf(buf, len, "%s", slash ? slash + 1 : target);
	return 0;
}

static int device_exists(const char *root, const char *addr)
{
	char path[512];
	int err = drvi_pci_addr_check(addr);
	if (!err)
		err = drvi_sysfs_dev_path(path, sizeof(path), root, addr, NULL);
	if (err)
		return err;
	struct stat st;
	if (stat(path, &st) != 0)
		return drv_fail(-ENODEV, "no PCI device %s (see `drvctl list`)", addr);
	return 0;
}

int drvi_sysfs_pci_driver(const char *root, const char *addr, char *buf, size_t len)
{
	char path[512];
	int err = device_exists(root, addr);
	if (!err)
		err = drvi_sysfs_dev_path(path, sizeof(path), root, addr, "driver");
	return err ? err : link_name(path, buf, len);
}

static int read_hex(const char *root, const char *addr, const char *attr, unsigned long *out)
{
	char path[512], line[64], *end;
	int err = drvi_sysfs_dev_path(path, sizeof(path), root, addr, attr);
	if (!err)
		err = drvi_sysfs_read_line(path, line, sizeof(line));
	if (err < 0)
		return err;
	errno = 0;
	*out = strtoul(line, &end, 16);
	if (errno || end == line || *end)
		return drv_fail(-EIO, "%s holds \"%s\", not a hex number", path, line);
	return 0;
}

int drvi_sysfs_pci_get(const char *root, const char *addr, struct drv_pci_dev *out)
{
	*out = (struct drv_pci_dev){ .iommu_group = -1 };
	unsigned long vendor, device, class_code;
	char path[512], group[32];
	int err = drvi_sysfs_pci_driver(root, addr, out->driver, sizeof(out->driver));
	if (!err)
		err = read_hex(root, addr, "vendor", &vendor);
	if (!err)
		err = read_hex(root, addr, "device", &device);
	if (!err)
		err = read_hex(root, addr, "class", &class_code);
	if (!err)
		err = drvi_sysfs_dev_path(path, sizeof(path), root, addr, "iommu_group");
	if (!err)
		err = link_name(path, group, sizeof(group));
	if (err)
		return err;
	snprintf(out->addr, sizeof(out->addr), "%s", addr);
	out->vendor = (uint16_t)vendor;
	out->device = (uint16_t)device;
	out->class_code = (uint32_t)class_code;
	if (group[0])
		out->iommu_group = atoi(group);
	return 0;
}

static int by_address(const void *a, const void *b)
{
	return strcmp(a, b); /* elements are char[16] addresses */
}

/* Sorted names of the entries of dir that are PCI addresses; caller frees. */
static int list_addresses(const char *dir, char (**names)[16])
{
	DIR *d = opendir(dir);
	if (!d)
		return drv_fail_errno(-errno, "listing %s", dir);
	char(*v)[16] = NULL;
	int n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strlen(e->d_name) != 12 || drvi_pci_addr_check(e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			char(*grown)[16] = realloc(v, (size_t)cap * sizeof(*v));
			if (!grown) {
				free(v);
				closedir(d);
				return drv_fail(-ENOMEM, "out of memory listing %s", dir);
			}
			v = grown;
		}
		memcpy(v[n++], e->d_name, 13); /* checked: 12 characters and NUL */
	}
	closedir(d);
	qsort(v, (size_t)n, sizeof(*v), by_address);
	*names = v;
	return n;
}

int drvi_sysfs_pci_list(const char *root, struct drv_pci_dev *out, unsigned max)
{
	char dir[512];
	char(*names)[16] = NULL;
	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", root);
	int n = list_addresses(dir, &names);
	for (int i = 0; i < n && (unsigned)i < max; i++) {
		int err = drvi_sysfs_pci_get(root, names[i], &out[i]);
		if (err) {
			free(names);
			return err;
		}
	}
	free(names);
	return n;
}

/*
 * Members of the group that keep it from being viable: "ADDR (bound to
 * DRIVER)" into who, and the commands that free them into fix. Returns
 * their number.
 */
static int group_blockers(const char *root, int group, char *who, char *fix, size_t len)
{
	char dir[512];
	char(*names)[16] = NULL;
	snprintf(dir, sizeof(dir), "%s/kernel/iommu_groups/%d/devices", root, group);
	int n = list_addresses(dir, &names);
	int blockers = 0;
	size_t who_used = 0, fix_used = 0;
	who[0] = fix[0] = '\0';
	for (int i = 0; i < n; i++) {
		char driver[64];
		/* vfio-pci and pci-stub leave DMA to user space; unbound devices do no DMA. */
		if (drvi_sysfs_pci_driver(root, names[i], driver, sizeof(driver)) || !driver[0] ||
		    !strcmp(driver, DRV_PCI_DRIVER_VFIO) || !strcmp(driver, "pci-stub"))
			continue;
		int w = snprintf(who + who_used, len - who_used, "%s%s (bound to %s)",
				 blockers ? ", " : "", names[i], driver);
		int f = snprintf(fix + fix_used, len - fix_used, "%s`drvctl bind %s vfio`",
				 blockers ? ", " : "", names[i]);
		if (w < 0 || f < 0 || (size_t)w >= len - who_used || (size_t)f >= len - fix_used)
			break;
		who_used += (size_t)w;
		fix_used += (size_t)f;
		blockers++;
	}
	free(names);
	return n < 0 ? n : blockers;
}

int drvi_sysfs_iommu_group_not_viable(const char *root, int group)
{
	char who[256], fix[256];
	if (group_blockers(root, group, who, fix, sizeof(who)) <= 0)
		return drv_fail(-EPERM,
				"IOMMU group %d is not viable: every device in %s/kernel/"
				"iommu_groups/%d/devices must be bound to vfio-pci or pci-stub, or "
				"to no driver (`drvctl list` shows the drivers)",
				group, root, group);
	return drv_fail(-EPERM,
			"IOMMU group %d is not viable: it also holds %s. Bind the group's "
			"other devices to vfio-pci (%s) or unbind them, then try again",
			group, who, fix);
}

int drvi_sysfs_pci_uio_index(const char *root, const char *addr)
{
	char path[512];
	int err = drvi_sysfs_dev_path(path, sizeof(path), root, addr, "uio");
	if (err)
		return err;
	DIR *d = opendir(path);
	if (!d)
		return drv_fail(-ENODEV,
				"%s has no uio node (%s): bind it with `drvctl bind %s uio`", addr,
				path, addr);
	int index = -ENODEV;
	struct dirent *e;
	while ((e = readdir(d))) {
		unsigned n;
		char extra;
		if (sscanf(e->d_name, "uio%u%c", &n, &extra) == 1) {
			index = (int)n;
			break;
		}
	}
	closedir(d);
	if (index < 0)
		return drv_fail(-ENODEV, "%s lists no uioN node", path);
	return index;
}

int drvi_sysfs_pci_resource(const char *root, const char *addr, unsigned bar, uint64_t *start,
			    uint64_t *size, uint64_t *flags)
{
	char path[512];
	int err = drvi_sysfs_dev_path(path, sizeof(path), root, addr, "resource");
	if (err)
		return err;
	FILE *f = fopen(path, "re");
	if (!f)
		return drv_fail_errno(-errno, "opening %s", path);
	unsigned long long s, e, fl;
	unsigned line = 0;
	int found = 0;
	while (!found && fscanf(f, "%llx %llx %llx", &s, &e, &fl) == 3)
		found = line++ == bar;
	fclose(f);
	if (!found)
		return drv_fail(-ENOENT, "%s has no BAR %u", addr, bar);
	*start = s;
	*size = (s || e) ? e - s + 1 : 0;
	*flags = fl;
	if (!*size)
		return drv_fail(-ENOENT, "%s does not implement BAR %u", addr, bar);
	return 0;
}
