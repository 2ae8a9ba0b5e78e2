/* SPDX-License-Identifier: MIT */
/*
 * Which driver serves a device. Drivers declare the PCI functions they
 * serve and register (drv/driver.h); drv_open() matches the ids the bus
 * read against them before anything else is set up, because the driver's
 * DMA limits shape the DMA pool. Registered drivers are tried newest
 * first, then the drivers libdrv carries.
 */
#include <stdio.h>
#include <string.h>

#include "dev/devdrv.h"

#define MAX_REGISTERED 32
#define NAME_MAX_LEN (sizeof(((struct drv_info *)0)->driver) - 1)

struct entry {
	const struct drv_driver *drv;
	unsigned users; /* devices open with it */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry registered[MAX_REGISTERED]; /* oldest first */
static unsigned nregistered;
static struct entry builtin[] = { { &dsim_driver, 0 }, { &edu_driver, 0 }, { &nvme_driver, 0 } };
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))
/*
 * Why the last registration that left a driver out failed, for drv_open's
 * message: DRV_DRIVER_REGISTER's constructor has no one else to tell. A
 * name already registered left nothing out; registering the name later
 * clears it.
 */
static char register_failure[256];
static char failed_name[sizeof(((struct drv_info *)0)->driver)];

/* Every entry in match order: registered newest first, then built in. */
static struct entry *entry_at(unsigned i)
{
	if (i < nregistered)
		return &registered[nregistered - 1 - i];
	i -= nregistered;
	return i < NBUILTIN ? &builtin[i] : NULL;
}

static struct entry *find_name(const char *name)
{
	struct entry *e;
	for (unsigned i = 0; (e = entry_at(i)); i++)
		if (strcmp(e->drv->name, name) == 0)
			return e;
	return NULL;
}

bool drvi_pci_id_match(const struct drv_pci_id *id, uint16_t vendor, uint16_t device,
		       uint32_t pci_class)
{
	return (id->vendor == DRV_PCI_ANY_ID || id->vendor == vendor) &&
	       (id->device == DRV_PCI_ANY_ID || id->device == device) &&
	       (pci_class & id->class_mask) == id->class_code;
}

static bool id_end(const struct drv_pci_id *id)
{
	return !id->vendor && !id->device && !id->class_mask;
}

static bool serves(const struct drv_driver *drv, uint16_t vendor, uint16_t device,
		   uint32_t pci_class)
{
	for (const struct drv_pci_id *id = drv->ids; id && !id_end(id); id++)
		if (drvi_pci_id_match(id, vendor, device, pci_class))
			return true;
	return false;
}

static struct entry *find_ids(uint16_t vendor, uint16_t device, uint32_t pci_class)
{
	struct entry *e;
	for (unsigned i = 0; (e = entry_at(i)); i++)
		if (serves(e->drv, vendor, device, pci_class))
			return e;
	return NULL;
}

static int check(const struct drv_driver *drv)
{
	if (!drv)
		return drv_fail(-EINVAL, "drv_driver_register: NULL driver");
	if (drv->abi != DRV_DRIVER_ABI || drv->size != sizeof(*drv))
		return drv_fail(
		    -EINVAL,
		    "driver %s was built for driver ABI %u (%u bytes), this libdrv "
		    "has %u (%zu bytes): initialise it with DRV_DRIVER_INIT and rebuild",
		    drv->name ? drv->name : "(unnamed)", drv->abi, drv->size, DRV_DRIVER_ABI,
		    sizeof(*drv));
	if (!drv->name || !drv->name[0] || strlen(drv->name) > NAME_MAX_LEN)
		return drv_fail(-EINVAL, "a driver needs a name of 1 to %zu bytes",
				(size_t)NAME_MAX_LEN);
	const char *missing = !drv->probe           ? "probe"
			      : !drv->remove        ? "remove"
			      : !drv->queue_create  ? "queue_create"
			      : !drv->queue_destroy ? "queue_destroy"
			      : !drv->post          ? "post"
			      : !drv->commit        ? "commit"
			      : !drv->reap          ? "reap"
			      : !drv->irq_enable    ? "irq_enable"
						    : NULL;
	if (missing)
		return drv_fail(-EINVAL,
				"driver %s has no %s operation: every one but abort is "
				"required",
				drv->name, missing);
	return 0;
}

DRV_API int drv_driver_register(const struct drv_driver *drv)
{
	int err = check(drv);
	pthread_mutex_lock(&lock);
	if (!err && find_name(drv->name))
		err =
		    drv_fail(-EEXIST, "a driver named %s is already registered: pick another name",
			     drv->name);
	if (!err && nregistered == MAX_REGISTERED)
		err = drv_fail(-ENOSPC, "%u drivers are registered, the most libdrv holds",
			       MAX_REGISTERED);
	if (!err) {
		registered[nregistered++] = (struct entry){ drv, 0 };
		if (strcmp(failed_name, drv->name) == 0)
			register_failure[0] = failed_name[0] = '\0';
	} else if (err != -EEXIST) {
		snprintf(register_failure, sizeof(register_failure), "%s", drv_errmsg());
		snprintf(failed_name, sizeof(failed_name), "%s", drv && drv->name ? drv->name : "");
	}
	pthread_mutex_unlock(&lock);
	return err;
}

DRV_API int drv_driver_unregister(const struct drv_driver *drv)
{
	int err = -ENOENT;
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < nregistered; i++) {
		if (registered[i].drv != drv)
			continue;
		if (registered[i].users) {
			err = drv_fail(-EBUSY,
				       "driver %s still serves %u open device(s): close them "
				       "first",
				       drv->name, registered[i].users);
			break;
		}
		memmove(&registered[i], &registered[i + 1],
			(nregistered - i - 1) * sizeof(registered[0]));
		nregistered--;
		err = 0;
		break;
	}
	pthread_mutex_unlock(&lock);
	if (err == -ENOENT)
		drv_fail(err, "drv_driver_unregister: that driver is not registered");
	return err;
}

/* "dsim 1af4:1110, edu 1234:11e8, mine (by name)": what there is to match. */
static void list_drivers(char *buf, size_t len)
{
	size_t used = 0;
	struct entry *e;
	buf[0] = '\0';
	for (unsigned i = 0; (e = entry_at(i)) && used < len; i++) {
		const struct drv_pci_id *id = e->drv->ids;
		if (!id || id_end(id))
			used += (size_t)snprintf(buf + used, len - used, "%s%s (by name only)",
						 used ? ", " : "", e->drv->name);
		for (; id && !id_end(id) && used < len; id++)
			used += (size_t)snprintf(buf + used, len - used, "%s%s %04x:%04x",
						 used ? ", " : "", e->drv->name, id->vendor,
						 id->device);
	}
}

int drvi_driver_get(drv_dev *dev, const char *name)
{
	const struct drv_info *info = &dev->info;
	pthread_mutex_lock(&lock);
	struct entry *e =
	    name ? find_name(name) : find_ids(info->vendor_id, info->device_id, dev->pci_class);
	if (e)
		e->users++;
	char known[256];
	list_drivers(known, sizeof(known));
	char failure[sizeof(register_failure) + 32] = "";
	if (register_failure[0])
		snprintf(failure, sizeof(failure), "; a driver failed to register: %s",
			 register_failure);
	pthread_mutex_unlock(&lock);
	if (!e && name)
		return drv_fail(-ENODEV, "no libdrv driver named %s (there are: %s%s)", name, known,
				failure);
	if (!e)
		return drv_fail(-ENODEV,
				"no libdrv driver for PCI device %04x:%04x at %s (supported: %s%s)",
				info->vendor_id, info->device_id, info->address, known, failure);
	dev->ops = e->drv;
	snprintf(dev->info.driver, sizeof(dev->info.driver), "%s", e->drv->name);
	dev->dma_mask = e->drv->dma_mask ? e->drv->dma_mask : UINT64_MAX;
	dev->dma_physical = e->drv->flags & DRV_DRIVER_DMA_PHYSICAL;
	return 0;
}

void drvi_driver_put(drv_dev *dev)
{
	pthread_mutex_lock(&lock);
	struct entry *e;
	for (unsigned i = 0; (e = entry_at(i)); i++)
		if (e->drv == dev->ops && e->users) {
			e->users--;
			break;
		}
	pthread_mutex_unlock(&lock);
	dev->ops = NULL;
}

const char *drvi_driver_name_for(uint16_t vendor, uint16_t device, uint32_t pci_class)
{
	pthread_mutex_lock(&lock);
	struct entry *e = find_ids(vendor, device, pci_class);
	pthread_mutex_unlock(&lock);
	return e ? e->drv->name : NULL;
}
