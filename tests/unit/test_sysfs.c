/* SPDX-License-Identifier: MIT */
/* PCI discovery and binding against a fake sysfs tree built in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus/pci_sysfs.h"
#include "drv/drv.h"

struct tree {
	char root[64];
	char state[96];
};

static void put(const struct tree *t, const char *rel, const char *text)
{
	char path[512], cmd[600];
	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_to(const struct tree *t, const char *rel, const char *target)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

static char *get(const struct tree *t, const char *rel)
{
	static char buf[256];
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", t->root, rel);
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (f) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

static void device(const struct tree *t, const char *addr, const char *vendor, const char *dev,
		   const char *class_code, const char *driver, int group)
{
	char rel[256], target[128];
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vendor", addr);
	put(t, rel, vendor);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/device", addr);
	put(t, rel, dev);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/class", addr);
	put(t, rel, class_code);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver_override", addr);
	put(t, rel, ""); /* sysfs writes do not truncate: start empty */
	if (driver) {
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/driver", addr);
		snprintf(target, sizeof(target), "../../../../bus/pci/drivers/%s", driver);
		link_to(t, rel, target);
	}
	if (group >= 0) {
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices/%s", group, addr);
		put(t, rel, "");
		snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", addr);
		snprintf(target, sizeof(target), "../../../../kernel/iommu_groups/%d", group);
		link_to(t, rel, target);
	}
}

static int setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	snprintf(t->root, sizeof(t->root), "/tmp/test_sysfs.XXXXXX");
	assert_non_null(mkdtemp(t->root));
	snprintf(t->state, sizeof(t->state), "%s/run-libdrv", t->root);
	const char *drivers[] = { "uio_pci_generic", "vfio-pci", "e1000", "virtio-pci", "ahci" };
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		char rel[128];
		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s/bind", drivers[i]);
		put(t, rel, "");
		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s/unbind", drivers[i]);
		put(t, rel, "");
	}
	put(t, "bus/pci/drivers_probe", "");
	/* edu, unbound; a NIC in use; a virtio device with a block device beneath; an
	 * unclassified device bound to a kernel driver but idle; edu bound to uio. */
	device(t, "0000:00:04.0", "0x1234\n", "0x11e8\n", "0x00ff00\n", NULL, 3);
	device(t, "0000:00:02.0", "0x8086\n", "0x100e\n", "0x020000\n", "e1000", 1);
	device(t, "0000:00:05.0", "0x1af4\n", "0x1001\n", "0x010000\n", "virtio-pci", 4);
	put(t, "bus/pci/devices/0000:00:05.0/virtio1/block/vda/size", "0\n");
	link_to(t, "bus/pci/devices/0000:00:05.0/virtio1/block/vda/subsystem",
		"../../../../../../class/block");
	device(t, "0000:00:06.0", "0x1af4\n", "0x1005\n", "0x00ff00\n", "virtio-pci", 5);
	device(t, "0000:00:07.0", "0x1af4\n", "0x1044\n", "0xff0000\n", "virtio-pci", 5);
	put(t, "bus/pci/devices/0000:00:07.0/virtio3/net/eth1/mtu", "1500\n");
	link_to(t, "bus/pci/devices/0000:00:07.0/virtio3/net/eth1/subsystem",
		"../../../../../../class/net");
	device(t, "0000:00:03.0", "0x1234\n", "0x11e8\n", "0x00ff00\n", "uio_pci_generic", -1);
	put(t, "bus/pci/devices/0000:00:03.0/uio/uio2/name", "uio_pci_generic\n");
	put(t, "bus/pci/devices/0000:00:03.0/resource",
	    "0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n"
	    "0x000000000000c000 0x000000000000c01f 0x0000000000040101\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	put(t, "bus/pci/devices/not-a-device/vendor", "0x0\n");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	int rc = system(cmd);
	free(t);
	return rc;
}

static void test_address_format(void **state)
{
	(void)state;
	assert_int_equal(drvi_pci_addr_check("0000:00:03.0"), 0);
	assert_int_equal(drvi_pci_addr_check("0000:af:1f.7"), 0);
	const char *bad[] = { "00:03.0",
			      "0000:00:03.8",
			      "0000:00:20.0",
			      "0000:00:03.0x",
			      "0000:AF:03.0",
			      "0000-00:03.0",
			      "",
			      NULL };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(drvi_pci_addr_check(bad[i]), -EINVAL);
		assert_non_null(strstr(drv_errmsg(), "DDDD:BB:DD.F"));
	}
}

static void test_list(void **state)
{
	struct tree *t = *state;
	struct drv_pci_dev d[8];
	assert_int_equal(drvi_sysfs_pci_list(t->root, d, 8), 6);
	assert_string_equal(d[0].addr, "0000:00:02.0");
	assert_string_equal(d[1].addr, "0000:00:03.0");
	assert_string_equal(d[2].addr, "0000:00:04.0");
	assert_int_equal(d[0].vendor, 0x8086);
	assert_int_equal(d[0].device, 0x100e);
	assert_int_equal(d[0].class_code, 0x020000);
	assert_string_equal(d[0].driver, "e1000");
	assert_int_equal(d[0].iommu_group, 1);
	assert_string_equal(d[1].driver, "uio_pci_generic");
	assert_int_equal(d[1].iommu_group, -1);
	assert_string_equal(d[2].driver, "");
	assert_int_equal(d[2].iommu_group, 3);
	/* A short array still learns the total. */
	assert_int_equal(drvi_sysfs_pci_list(t->root, d, 2), 6);
}

/* Group 5 holds 0000:00:06.0 and 0000:00:07.0, both on virtio-pci at first. */
static void test_group_not_viable(void **state)
{
	struct tree *t = *state;
	link_to(t, "bus/pci/devices/0000:00:06.0/driver", "../../../../bus/pci/drivers/vfio-pci");
	assert_int_equal(drvi_sysfs_iommu_group_not_viable(t->root, 5), -EPERM);
	const char *msg = drv_errmsg();
	assert_non_null(strstr(msg, "IOMMU group 5 is not viable"));
	assert_non_null(strstr(msg, "0000:00:07.0 (bound to virtio-pci)"));
	assert_non_null(strstr(msg, "`drvctl bind 0000:00:07.0 vfio`"));
	assert_null(strstr(msg, "0000:00:06.0")); /* already on vfio-pci: not in the way */

	link_to(t, "bus/pci/devices/0000:00:06.0/driver", "../../../../bus/pci/drivers/ahci");
	assert_int_equal(drvi_sysfs_iommu_group_not_viable(t->root, 5), -EPERM);
	msg = drv_errmsg();
	assert_non_null(
	    strstr(msg, "0000:00:06.0 (bound to ahci), 0000:00:07.0 (bound to virtio-pci)"));
	assert_non_null(
	    strstr(msg, "`drvctl bind 0000:00:06.0 vfio`, `drvctl bind 0000:00:07.0 vfio`"));

	/* Nothing in sysfs explains it (the kernel knows more): say what viable means. */
	link_to(t, "bus/pci/devices/0000:00:06.0/driver", "../../../../bus/pci/drivers/pci-stub");
	char rel[128];
	snprintf(rel, sizeof(rel), "%s/bus/pci/devices/0000:00:07.0/driver", t->root);
	assert_int_equal(unlink(rel), 0);
	assert_int_equal(drvi_sysfs_iommu_group_not_viable(t->root, 5), -EPERM);
	msg = drv_errmsg();
	assert_non_null(strstr(msg, "bound to vfio-pci or pci-stub, or to no driver"));
	assert_non_null(strstr(msg, "iommu_groups/5/devices"));
}

static void test_missing_device(void **state)
{
	struct tree *t = *state;
	struct drv_pci_dev d;
	assert_int_equal(drvi_sysfs_pci_get(t->root, "0000:00:09.0", &d), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "drvctl list"));
}

static void test_uio_and_resources(void **state)
{
	struct tree *t = *state;
	assert_int_equal(drvi_sysfs_pci_uio_index(t->root, "0000:00:03.0"), 2);
	assert_int_equal(drvi_sysfs_pci_uio_index(t->root, "0000:00:04.0"), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "drvctl bind 0000:00:04.0 uio"));
	uint64_t start, size, flags;
	assert_int_equal(drvi_sysfs_pci_resource(t->root, "0000:00:03.0", 0, &start, &size, &flags),
			 0);
	assert_true(start == 0xfea00000 && size == 1 << 20 && (flags & DRV_PCI_RES_MEM));
	assert_int_equal(drvi_sysfs_pci_resource(t->root, "0000:00:03.0", 1, &start, &size, &flags),
			 0);
	assert_true(size == 32 && (flags & DRV_PCI_RES_IO));
	assert_int_equal(drvi_sysfs_pci_resource(t->root, "0000:00:03.0", 2, &start, &size, &flags),
			 -ENOENT);
	assert_int_equal(drvi_sysfs_pci_resource(t->root, "0000:00:03.0", 5, &start, &size, &flags),
			 -ENOENT);
}

static void test_in_use(void **state)
{
	struct tree *t = *state;
	char why[256];
	assert_int_equal(drvi_sysfs_pci_in_use(t->root, "0000:00:02.0", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "e1000"));
	assert_non_null(strstr(why, "network controller"));
	assert_int_equal(drvi_sysfs_pci_in_use(t->root, "0000:00:05.0", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "block device vda"));
	assert_int_equal(drvi_sysfs_pci_in_use(t->root, "0000:00:07.0", why, sizeof(why)), 1);
	assert_non_null(strstr(why, "network interface eth1"));
	assert_int_equal(drvi_sysfs_pci_in_use(t->root, "0000:00:06.0", why, sizeof(why)), 0);
	assert_int_equal(drvi_sysfs_pci_in_use(t->root, "0000:00:04.0", why, sizeof(why)), 0);
	assert_int_equal(drvi_sysfs_pci_in_use(t->root, "0000:00:03.0", why, sizeof(why)), 0);
}

static void test_bind_refuses_device_in_use(void **state)
{
	struct tree *t = *state;
	assert_int_equal(drvi_sysfs_pci_bind(t->root, t->state, "0000:00:02.0", "vfio", 0), -EBUSY);
	assert_non_null(strstr(drv_errmsg(), "--force"));
	assert_string_equal(get(t, "bus/pci/drivers/e1000/unbind"), "");
	assert_string_equal(get(t, "bus/pci/devices/0000:00:02.0/driver_override"), "");
}

static void test_bind_writes_override_unbind_probe(void **state)
{
	struct tree *t = *state;
	/* The fake kernel never rebinds, so the final check reports failure. */
	assert_int_equal(drvi_sysfs_pci_bind(t->root, t->state, "0000:00:02.0", "vfio", 1), -EIO);
	assert_non_null(strstr(drv_errmsg(), "dmesg"));
	assert_string_equal(get(t, "bus/pci/devices/0000:00:02.0/driver_override"), "vfio-pci");
	assert_string_equal(get(t, "bus/pci/drivers/e1000/unbind"), "0000:00:02.0");
	assert_string_equal(get(t, "bus/pci/drivers_probe"), "0000:00:02.0");
	assert_string_equal(get(t, "run-libdrv/0000:00:02.0.prev-driver"), "e1000\n");
}

static void test_bind_clears_override_when_unbind_fails(void **state)
{
	struct tree *t = *state;
	char path[160];
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/e1000/unbind", t->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(drvi_sysfs_pci_bind(t->root, t->state, "0000:00:02.0", "vfio", 1),
			 -ENOENT);
	assert_non_null(strstr(drv_errmsg(), "e1000/unbind"));
	/* The fake's writes do not truncate: "\n" lands over the start of "vfio-pci". */
	assert_int_equal(get(t, "bus/pci/devices/0000:00:02.0/driver_override")[0], '\n');
	assert_string_equal(get(t, "bus/pci/drivers_probe"), "");
}

static void test_bind_errors(void **state)
{
	struct tree *t = *state;
	assert_int_equal(drvi_sysfs_pci_bind(t->root, t->state, "0000:00:04.0", "nvme", 0),
			 -EINVAL);
	assert_int_equal(drvi_sysfs_pci_bind(t->root, t->state, "0000:00:03.0", "vfio", 0),
			 -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "IOMMU"));
	/* Already there: nothing to do. */
	assert_int_equal(drvi_sysfs_pci_bind(t->root, t->state, "0000:00:03.0", "uio", 0), 0);
	assert_string_equal(get(t, "bus/pci/drivers_probe"), "");
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/bus/pci/drivers/vfio-pci'", t->root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(drvi_sysfs_pci_bind(t->root, t->state, "0000:00:04.0", "vfio", 0),
			 -ENOENT);
	assert_non_null(strstr(drv_errmsg(), "modprobe vfio-pci"));
}

static void test_unbind_restores_previous_driver(void **state)
{
	struct tree *t = *state;
	put(t, "run-libdrv/0000:00:03.0.prev-driver", "virtio-pci\n");
	assert_int_equal(drvi_sysfs_pci_unbind(t->root, t->state, "0000:00:03.0"), 0);
	assert_string_equal(get(t, "bus/pci/drivers/uio_pci_generic/unbind"), "0000:00:03.0");
	assert_string_equal(get(t, "bus/pci/devices/0000:00:03.0/driver_override"), "\n");
	assert_string_equal(get(t, "bus/pci/drivers/virtio-pci/bind"), "0000:00:03.0");
	char path[160];
	snprintf(path, sizeof(path), "%s/0000:00:03.0.prev-driver", t->state);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_unbind_refuses_kernel_driver(void **state)
{
	struct tree *t = *state;
	assert_int_equal(drvi_sysfs_pci_unbind(t->root, t->state, "0000:00:02.0"), -EINVAL);
	assert_non_null(strstr(drv_errmsg(), "e1000"));
	assert_string_equal(get(t, "bus/pci/drivers/e1000/unbind"), "");
}

/* pci: URIs look up the bound driver under the same sysfs root as everything else. */
static void test_pci_uri_honours_sysfs_root(void **state)
{
	struct tree *t = *state;
	setenv("LIBDRV_SYSFS_ROOT", t->root, 1);
	drv_dev *dev = NULL;
	assert_int_equal(drv_open("pci:0000:00:02.0", NULL, &dev), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "bound to e1000"));
	assert_int_equal(drv_open("pci:0000:00:04.0", NULL, &dev), -ENODEV);
	assert_non_null(strstr(drv_errmsg(), "not bound to a driver"));
	unsetenv("LIBDRV_SYSFS_ROOT");
	assert_null(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_format),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_not_viable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pci_uri_honours_sysfs_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uio_and_resources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_refuses_device_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_writes_override_unbind_probe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bind_clears_override_when_unbind_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bind_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbind_restores_previous_driver, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unbind_refuses_kernel_driver, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
