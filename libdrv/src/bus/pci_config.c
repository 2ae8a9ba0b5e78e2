/* SPDX-License-Identifier: MIT */
#include "pci_config.h"

#include <errno.h>

#include "dev/devdrv.h"
#include "drv/driver.h"

int drvi_pci_command_update(const struct drv_bus_ops *bus, drv_dev *dev, uint16_t set,
			    uint16_t clear)
{
	uint16_t cmd;
	int err = bus->config_read(dev, DRV_PCI_COMMAND, &cmd, sizeof(cmd));
	if (err)
		return err;
	uint16_t want = (uint16_t)((cmd | set) & ~clear);
	return want == cmd ? 0 : bus->config_write(dev, DRV_PCI_COMMAND, &want, sizeof(want));
}

int drvi_pci_read_ids(const struct drv_bus_ops *bus, drv_dev *dev, uint16_t *vendor,
		      uint16_t *device)
{
	uint16_t id[2];
	int err = bus->config_read(dev, DRV_PCI_VENDOR_ID, id, sizeof(id));
	if (err)
		return err;
	if (id[0] == 0xffff)
		return drv_fail(-ENODEV,
				"PCI device %s reads as absent (vendor id 0xffff): it "
				"was removed or reset",
				dev->info.address);
	*vendor = id[0];
	*device = id[1];
	return 0;
}

int drvi_pci_enable(const struct drv_bus_ops *bus, drv_dev *dev)
{
	uint16_t vendor = 0, device = 0;
	uint32_t class_rev = 0;
	int err = drvi_pci_read_ids(bus, dev, &vendor, &device);
	if (!err)
		err = bus->config_read(dev, DRV_PCI_CLASS_REVISION, &class_rev, sizeof(class_rev));
	if (!err)
		err = drvi_pci_command_update(bus, dev, DRV_PCI_CMD_MASTER | DRV_PCI_CMD_MEMORY, 0);
	if (err)
		return err;
	dev->info.vendor_id = vendor;
	dev->info.device_id = device;
	dev->pci_class = class_rev >> 8;
	return 0;
}
