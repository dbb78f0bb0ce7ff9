// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device control a VMM or a userspace driver needs beyond the lifecycle:
 * the raw ioctl escape hatch and the interrupt actions of
 * VFIO_DEVICE_SET_IRQS other than eventfd triggers (mask, unmask, loopback
 * triggers). As in device.c the kernel is the judge: arguments are passed
 * on, and a refusal is reported with the kernel's errno and a reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device-private.h"

static struct iommufd_ctx *ctl_ctx(struct iommufd_device *dev)
{
	struct iommufd_ctx *ctx;

	pthread_mutex_lock(&dev->lock);
	ctx = dev->ctx;
	pthread_mutex_unlock(&dev->lock);
	return ctx;
}

static int ctl_check(struct iommufd_device *dev, const char *func)
{
	if (!dev)
		return ifd_fail(NULL, func, EINVAL, "dev is NULL");
	return ifd_owner_check(dev->pid, ctl_ctx(dev), func, "device", dev->name);
}

IOMMUFD_EXPORT int iommufd_device_ioctl(struct iommufd_device *dev, unsigned long request, void *arg)
{
	int r = ctl_check(dev, __func__);

	if (r)
		return r;
	r = dev_ioctl(dev, request, arg);
	if (r < 0)
		return FAIL(ctl_ctx(dev), r, "%s: ioctl 0x%lx on fd %d", dev->name, request, dev->fd);
	return r;
}

/* ------------------------------------------------------------ interrupts */

/* why vfio-pci refused a VFIO_DEVICE_SET_IRQS (drivers/vfio/pci/vfio_pci_intrs.c) */
static const char *irq_why(uint32_t index, uint32_t action, int err)
{
	if (err < 0)
		err = -err;
	if (err == ENOTTY) {
		if (index == IOMMUFD_PCI_IRQ_MSI || index == IOMMUFD_PCI_IRQ_MSIX)
			return "vfio-pci cannot mask or unmask MSI/MSI-X vectors (only INTx is maskable)";
		if (index == IOMMUFD_PCI_IRQ_ERR || index == IOMMUFD_PCI_IRQ_REQ)
			return "the error and request interrupts only have a trigger action";
		return "the driver has no such action on this index";
	}
	if (err == EINVAL) {
		if (index == IOMMUFD_PCI_IRQ_INTX && action != KABI_VFIO_IRQ_SET_ACTION_TRIGGER)
			return "INTx is not the enabled interrupt type (or start/count is not 0/1)";
		if (action == KABI_VFIO_IRQ_SET_ACTION_TRIGGER)
			return "the index is not enabled (another index is, or none: a loopback trigger or a disable needs it enabled), the range is outside the index's vectors, or the device is parked";
		return "the range is outside the index's vectors, or the device is parked";
	}
	if (err == EBADF)
		return "an eventfd is not an open file descriptor";
	return "the kernel refused";
}

static const char *action_name(uint32_t action)
{
	switch (action) {
	case KABI_VFIO_IRQ_SET_ACTION_MASK:
		return "MASK";
	case KABI_VFIO_IRQ_SET_ACTION_UNMASK:
		return "UNMASK";
	}
	return "TRIGGER";
}

/* VFIO_DEVICE_SET_IRQS with action and DATA_NONE (values NULL) or DATA_BOOL */
static int irq_action(struct iommufd_device *dev, const char *func, uint32_t action, uint32_t index,
		      uint32_t start, uint32_t count, const bool *values)
{
	struct kabi_vfio_irq_set *set;
	size_t sz;
	int r = ctl_check(dev, func);

	if (r)
		return r;
	if (count > 65536)
		return ifd_fail(ctl_ctx(dev), func, EINVAL, "%s: %u vectors", dev->name, count);
	sz = sizeof(*set) + (values ? count : 0);
	set = calloc(1, sz);
	if (!set)
		return ifd_fail(ctl_ctx(dev), func, ENOMEM, "%s: %u vectors", dev->name, count);
	set->argsz = (uint32_t)sz;
	set->flags = action | (values ? KABI_VFIO_IRQ_SET_DATA_BOOL : KABI_VFIO_IRQ_SET_DATA_NONE);
	set->index = index;
	set->start = start;
	set->count = count;
	for (uint32_t i = 0; values && i < count; i++)
		set->data[i] = values[i] ? 1 : 0;
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_SET_IRQS, set);
	free(set);
	if (r < 0)
		return ifd_fail(ctl_ctx(dev), func, r,
				"%s: VFIO_DEVICE_SET_IRQS(%s | DATA_%s, index %u, start %u, count %u): %s",
				dev->name, action_name(action), values ? "BOOL" : "NONE", index, start,
				count, irq_why(index, action, r));
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_irq_mask(struct iommufd_device *dev, uint32_t index, uint32_t start,
					   uint32_t count)
{
	return irq_action(dev, __func__, KABI_VFIO_IRQ_SET_ACTION_MASK, index, start, count, NULL);
}

IOMMUFD_EXPORT int iommufd_device_irq_unmask(struct iommufd_device *dev, uint32_t index,
					     uint32_t start, uint32_t count)
{
	return irq_action(dev, __func__, KABI_VFIO_IRQ_SET_ACTION_UNMASK, index, start, count, NULL);
}

IOMMUFD_EXPORT int iommufd_device_irq_trigger(struct iommufd_device *dev, uint32_t index,
					      uint32_t start, uint32_t count, const bool *values)
{
	return irq_action(dev, __func__, KABI_VFIO_IRQ_SET_ACTION_TRIGGER, index, start, count,
			  values);
}
