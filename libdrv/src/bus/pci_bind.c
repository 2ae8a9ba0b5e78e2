/* SPDX-License-Identifier: MIT */
/*
 * Handing PCI functions to uio_pci_generic / vfio-pci and back, through
 * driver_override, the old driver's unbind and drivers_probe.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drv/driver.h"
#include "pci_sysfs.h"

static int is_user_space_driver(const char *driver)
{
	return !strcmp(driver, DRV_PCI_DRIVER_UIO) || !strcmp(driver, DRV_PCI_DRIVER_VFIO) ||
	       !strcmp(driver, "pci-stub");
}

/*
 * Finds a block device or network interface beneath dir: a directory whose
 * `subsystem` link names "block" or "net". Symlinks are not followed (sysfs
 * links back up the tree), and depth is bounded.
 */
static int find_child(const char *dir, int depth, char *what, size_t len)
{
	char path[1024], subsystem[512];
	snprintf(path, sizeof(path), "%s/subsystem", dir);
	ssize_t n = readlink(path, subsystem, sizeof(subsystem) - 1);
	if (n > 0) {
		subsystem[n] = '\0';
		const char *kind = strrchr(subsystem, '/');
		kind = kind ? kind + 1 : subsystem;
		const char *name = strrchr(dir, '/') + 1;
		if (!strcmp(kind, "block") || !strcmp(kind, "net")) {
			snprintf(what, len, "%s %s",
				 !strcmp(kind, "net") ? "network interface" : "block device", name);
			return 1;
		}
	}
	if (depth == 0)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		found = find_child(path, depth - 1, what, len);
	}
	closedir(d);
	return found;
}

static const char *class_role(uint32_t class_code)
{
	switch (class_code >> 16) {
	case 0x01:
		return "a storage controller";
	case 0x02:
		return "a network controller";
	case 0x03:
		return "a display controller";
	default:
		return NULL;
	}
}

int drvi_sysfs_pci_in_use(const char *root, const char *addr, char *why, size_t len)
{
	struct drv_pci_dev d;
	char dir[512], child[160];
	int err = drvi_sysfs_pci_get(root, addr, &d);
	if (err)
		return err;
	if (!d.driver[0] || is_user_space_driver(d.driver))
		return 0;
	const char *role = class_role(d.class_code);
	drvi_sysfs_dev_path(dir, sizeof(dir), root, addr, NULL);
	int has_child = find_child(dir, 6, child, sizeof(child));
	if (!role && !has_child)
		return 0;
	snprintf(why, len, "%s is bound to %s%s%s%s%s", addr, d.driver, role ? " and is " : "",
		 role ? role : "", has_child ? ", which provides " : "", has_child ? child : "");
	return 1;
}

static int state_path(char *buf, size_t len, const char *state_dir, const char *addr)
{
	int n = snprintf(buf, len, "%s/%s.prev-driver", state_dir, addr);
	if (n < 0 || (size_t)n >= len)
		return drv_fail(-ENAMETOOLONG, "state path under %s is too long", state_dir);
	return 0;
}

static int remember_driver(const char *state_dir, const char *addr, const char *driver)
{
	char path[512], line[80];
	int err = state_path(path, sizeof(path), state_dir, addr);
	if (err)
		return err;
	if (mkdir(state_dir, 0755) != 0 && errno != EEXIST)
		return drv_fail_errno(-errno, "creating %s (where libdrv remembers drivers)",
				      state_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return drv_fail_errno(-errno, "creating %s", path);
	int n = snprintf(line, sizeof(line), "%s\n", driver);
	ssize_t w = write(fd, line, (size_t)n);
	err = w == n ? 0 : drv_fail_errno(w < 0 ? -errno : -EIO, "writing %s", path);
	close(fd);
	return err;
}

static int driver_dir(char *buf, size_t len, const char *root, const char *driver, const char *file)
{
	int n = snprintf(buf, len, "%s/bus/pci/drivers/%s%s%s", root, driver, file ? "/" : "",
			 file ? file : "");
	if (n < 0 || (size_t)n >= len)
		return drv_fail(-ENAMETOOLONG, "sysfs path for driver %s is too long", driver);
	return 0;
}

static int unbind_from(const char *root, const char *addr, const char *driver)
{
	char path[512];
	int err = driver_dir(path, sizeof(path), root, driver, "unbind");
	return err ? err : drvi_sysfs_write(path, addr);
}

/* Empties driver_override at path, quietly: the caller reports the failure it handles. */
static void clear_override(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = write(fd, "\n", 1);
	(void)n;
	close(fd);
}

int drvi_sysfs_pci_bind(const char *root, const char *state_dir, const char *addr, const char *how,
			int force)
{
	const char *target = NULL, *module = NULL;
	if (how && !strcmp(how, "uio"))
		target = module = DRV_PCI_DRIVER_UIO;
	else if (how && !strcmp(how, "vfio"))
		target = module = DRV_PCI_DRIVER_VFIO;
	else
		return drv_fail(-EINVAL, "bind %s to \"%s\": expected uio or vfio", addr,
				how ? how : "(null)");

	struct drv_pci_dev d;
	char path[512], why[256];
	struct stat st;
	int err = drvi_sysfs_pci_get(root, addr, &d);
	if (err)
		return err;
	if (!strcmp(d.driver, target))
		return 0;
	if (driver_dir(path, sizeof(path), root, target, NULL) || stat(path, &st) != 0)
		return drv_fail(-ENOENT, "driver %s is not loaded: run `modprobe %s`", target,
				module);
	if (!strcmp(target, DRV_PCI_DRIVER_VFIO) && d.iommu_group < 0)
		return drv_fail(-ENODEV,
				"%s has no IOMMU group, so vfio-pci cannot take it: enable the "
				"IOMMU (intel_iommu=on or amd_iommu=on) or use uio",
				addr);
	if (!force && drvi_sysfs_pci_in_use(root, addr, why, sizeof(why)) == 1)
		return drv_fail(-EBUSY,
				"%s: taking it away would remove it from the running system. Use "
				"--force (drv_pci_bind force=1) if that is really what you want",
				why);

	if (d.driver[0] && !is_user_space_driver(d.driver)) {
		err = remember_driver(state_dir, addr, d.driver);
		if (err)
			return err;
	}
	err = drvi_sysfs_dev_path(path, sizeof(path), root, addr, "driver_override");
	if (!err)
		err = drvi_sysfs_write(path, target);
	if (!err && d.driver[0]) {
		err = unbind_from(root, addr, d.driver);
		/* Still with its old driver: the override must not steal it at the next probe. */
		if (err)
			clear_override(path);
	}
	if (!err) {
		snprintf(path, sizeof(path), "%s/bus/pci/drivers_probe", root);
		err = drvi_sysfs_write(path, addr);
	}
	if (err)
		return err;
	err = drvi_sysfs_pci_driver(root, addr, d.driver, sizeof(d.driver));
	if (err)
		return err;
	if (strcmp(d.driver, target))
		return drv_fail(-EIO, "%s did not bind to %s (bound to: %s): see `dmesg`", addr,
				target, d.driver[0] ? d.driver : "nothing");
	return 0;
}

/* The driver remembered by drvi_sysfs_pci_bind, "" when none. */
static int remembered_driver(const char *state_dir, const char *addr, char *buf, size_t len)
{
	char path[512];
	int err = state_path(path, sizeof(path), state_dir, addr);
	if (err)
		return err;
	buf[0] = '\0';
	if (access(path, F_OK) != 0)
		return 0;
	err = drvi_sysfs_read_line(path, buf, len);
	return err < 0 ? err : 0;
}

int drvi_sysfs_pci_unbind(const char *root, const char *state_dir, const char *addr)
{
	char driver[32], prev[64], path[512];
	int err = drvi_sysfs_pci_driver(root, addr, driver, sizeof(driver));
	if (err)
		return err;
	if (driver[0] && !is_user_space_driver(driver))
		return drv_fail(
		    -EINVAL,
		    "%s is bound to the kernel driver %s, not to uio or vfio: nothing to "
		    "undo",
		    addr, driver);
	err = remembered_driver(state_dir, addr, prev, sizeof(prev));
	if (!err && driver[0])
		err = unbind_from(root, addr, driver);
	if (!err)
		err = drvi_sysfs_dev_path(path, sizeof(path), root, addr, "driver_override");
	if (!err)
		err = drvi_sysfs_write(path, "\n");
	if (err || !prev[0])
		return err;
	err = driver_dir(path, sizeof(path), root, prev, "bind");
	if (!err)
		err = drvi_sysfs_write(path, addr);
	if (err)
		return err;
	state_path(path, sizeof(path), state_dir, addr);
	unlink(path);
	return 0;
}
