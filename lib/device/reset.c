// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PCI hot reset (a bus or slot reset of every device below it) and the
 * choice of a reset as QEMU makes it.
 *
 * The kernel's rules (drivers/vfio/pci/vfio_pci_core.c):
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: argsz below the header: EINVAL; no
 * slot reset and no bus reset (a device on a root bus): ENODEV; a buffer
 * too small for the affected devices: ENOSPC with the count written back;
 * then one entry per device, a DEVICE ID (cdev: its own ID in the caller's
 * context, 0 "owned through its group", -1 not owned) or an IOMMU group.
 * VFIO_DEVICE_PCI_HOT_RESET: argsz below the header or flags: EINVAL; a
 * group fd array on a cdev device, or none on a group-path one: EINVAL; no
 * bus or slot reset: ENODEV; group fds: more than the affected devices
 * EINVAL, a closed fd EBADF, not a group EINVAL; an affected device not
 * owned (not in the groups given / not in the caller's context): EINVAL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device-private.h"

#define HOT_RESET_MAX_DEVS 4096
#define HOT_RESET_TRIES 4

static struct iommufd_ctx *rst_ctx(struct iommufd_device *dev)
{
	struct iommufd_ctx *ctx;

	pthread_mutex_lock(&dev->lock);
	ctx = dev->ctx;
	pthread_mutex_unlock(&dev->lock);
	return ctx;
}

static const char *info_why(int err)
{
	switch (-err) {
	case ENODEV:
		return "the device has neither a slot nor a bus reset (a device on a root bus has no bridge to reset it)";
	case EINVAL:
		return "the device is not bound";
	case EPERM:
		return "an affected device has no IOMMU group (not isolated: no reset)";
	case ENOTTY:
		return "not a vfio-pci device";
	}
	return "the kernel refused";
}

/* GET_PCI_HOT_RESET_INFO into a buffer of the right size: *info malloc()ed */
static int hot_reset_info(struct iommufd_device *dev, const char *func,
			  struct kabi_vfio_pci_hot_reset_info **ret)
{
	struct kabi_vfio_pci_hot_reset_info *info = NULL;
	uint32_t count = 0;
	int r = 0;

	for (int tries = 0; tries < HOT_RESET_TRIES; tries++) {
		size_t sz = sizeof(*info) + (size_t)count * sizeof(info->devices[0]);
		struct kabi_vfio_pci_hot_reset_info *n = realloc(info, sz);

		if (!n) {
			free(info);
			return ifd_fail(rst_ctx(dev), func, ENOMEM, "%s: %u affected devices", dev->name,
					count);
		}
		info = n;
		memset(info, 0, sz);
		info->argsz = (uint32_t)sz;
		r = dev_ioctl(dev, KABI_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
		if (r != -ENOSPC)
			break;
		/* the kernel wrote back how many it has: ask again with room for them */
		if (info->count <= count || info->count > HOT_RESET_MAX_DEVS) {
			r = -EPROTO;
			break;
		}
		count = info->count;
	}
	if (r == -ENOSPC)
		r = -EAGAIN; /* the topology kept growing */
	if (r >= 0 && info->count > count) /* the kernel wrote more than it had room for */
		r = -EPROTO;
	if (r < 0) {
		free(info);
		return ifd_fail(rst_ctx(dev), func, r, "%s: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: %s",
				dev->name,
				r == -EPROTO ? "the kernel's count is not consistent"
				: r == -EAGAIN ? "the set of affected devices kept changing"
					       : info_why(r));
	}
	*ret = info;
	return 0;
}

static int check_dev(struct iommufd_device *dev, const char *func)
{
	if (!dev)
		return ifd_fail(NULL, func, EINVAL, "dev is NULL");
	return ifd_owner_check(dev->pid, rst_ctx(dev), func, "device", dev->name);
}

IOMMUFD_EXPORT int iommufd_device_get_hot_reset_info(struct iommufd_device *dev, uint32_t *flags,
						     struct iommufd_hot_reset_dev **devs, size_t *nr)
{
	struct kabi_vfio_pci_hot_reset_info *info = NULL;
	struct iommufd_hot_reset_dev *out;
	uint32_t count;
	int r = check_dev(dev, __func__);

	if (r)
		return r;
	if (!devs || !nr)
		return FAIL(rst_ctx(dev), EINVAL, "%s: devs or nr is NULL", dev->name);
	r = hot_reset_info(dev, __func__, &info);
	if (r)
		return r;
	count = info->count;
	out = calloc(count ? count : 1, sizeof(*out));
	if (!out) {
		free(info);
		return FAIL(rst_ctx(dev), ENOMEM, "%s: %u affected devices", dev->name, count);
	}
	for (uint32_t i = 0; i < info->count; i++) {
		const struct kabi_vfio_pci_dependent_device *k = &info->devices[i];

		out[i].segment = k->segment;
		out[i].bus = k->bus;
		out[i].devfn = k->devfn;
		if (!(info->flags & KABI_VFIO_PCI_HOT_RESET_FLAG_DEV_ID)) {
			out[i].group_id = k->devid;
			continue;
		}
		if (k->devid != (uint32_t)KABI_VFIO_PCI_DEVID_NOT_OWNED) {
			out[i].flags |= IOMMUFD_HOT_RESET_DEV_OWNED;
			out[i].dev_id = k->devid; /* 0: owned through its group, no DEVICE ID */
		}
	}
	if (flags)
		*flags = (info->flags & KABI_VFIO_PCI_HOT_RESET_FLAG_DEV_ID ? IOMMUFD_HOT_RESET_DEV_ID : 0) |
			 (info->flags & KABI_VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED ? IOMMUFD_HOT_RESET_ALL_OWNED : 0);
	*nr = info->count;
	*devs = out;
	free(info);
	return 0;
}

static const char *hot_reset_why(int err, bool groups)
{
	switch (-err) {
	case ENODEV:
		return "the device has neither a slot nor a bus reset (a device on a root bus has no bridge to reset it)";
	case EINVAL:
		return groups ? "a group-path device needs the group fds of every affected device, a cdev device none; or a given fd is not a VFIO group, more fds than affected devices, or an affected device not in the groups given"
			      : "a cdev device resets only when every affected device is owned by its context (a group-path device needs the group fds); or the device is not bound";
	case EBADF:
		return "a group fd is not open";
	case EBUSY:
		return "an affected device is busy (its memory is being accessed)";
	}
	return "the kernel refused";
}

IOMMUFD_EXPORT int iommufd_device_hot_reset(struct iommufd_device *dev,
					    const struct iommufd_hot_reset_opts *opts)
{
	struct kabi_vfio_pci_hot_reset *hr;
	struct iommufd_hot_reset_opts o;
	size_t sz;
	int r = check_dev(dev, __func__);

	if (r)
		return r;
	r = ifd_ext_copy_in(&o, sizeof(o), opts, sizeof(size_t));
	if (r)
		return FAIL(rst_ctx(dev), r, "%s: opts->sz %zu", dev->name, opts->sz);
	if (o.nr_group_fds > HOT_RESET_MAX_DEVS || (o.nr_group_fds && !o.group_fds))
		return FAIL(rst_ctx(dev), EINVAL, "%s: %u group fds at %p", dev->name, o.nr_group_fds,
			    (const void *)o.group_fds);
	sz = sizeof(*hr) + (size_t)o.nr_group_fds * sizeof(hr->group_fds[0]);
	hr = calloc(1, sz);
	if (!hr)
		return FAIL(rst_ctx(dev), ENOMEM, "%s: %u group fds", dev->name, o.nr_group_fds);
	hr->argsz = (uint32_t)sz;
	hr->flags = o.flags; /* the kernel's: passed on, it refuses any bit today */
	hr->count = o.nr_group_fds;
	for (uint32_t i = 0; i < o.nr_group_fds; i++)
		hr->group_fds[i] = o.group_fds[i];
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_PCI_HOT_RESET, hr);
	free(hr);
	if (r >= 0)
		dev_dmabuf_revoke_all(); /* every device of the bus or slot */
	if (r < 0)
		return FAIL(rst_ctx(dev), r, "%s: VFIO_DEVICE_PCI_HOT_RESET(flags 0x%x, %u group fds): %s",
			    dev->name, o.flags, o.nr_group_fds, hot_reset_why(r, o.nr_group_fds));
	return 0;
}

/* ------------------------------------------------------------ the automatic choice */

#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_PM 0x01
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_AF 0x13
#define PCI_PM_CTRL 4
#define PCI_PM_CTRL_NO_SOFT_RESET 0x0008
#define PCI_EXP_DEVCAP 4
#define PCI_EXP_DEVCAP_FLR (1u << 28)
#define PCI_AF_CAP 3
#define PCI_AF_CAP_FLR 0x02

/*
 * What the function's capabilities offer, as QEMU reads them
 * (hw/vfio/pci.c vfio_check_pcie_flr, vfio_check_af_flr, vfio_check_pm_reset):
 * FLR in the PCIe or AF capability; a PM reset when the PM capability's
 * PMCSR lacks No_Soft_Reset. A config space that cannot be read offers none.
 */
static void function_resets(struct iommufd_device *dev, bool *flr, bool *pm)
{
	uint32_t v, at;

	*flr = *pm = false;
	if (iommufd_device_config_read(dev, PCI_STATUS, 2, &v) || !(v & PCI_STATUS_CAP_LIST))
		return;
	if (iommufd_device_config_read(dev, PCI_CAPABILITY_LIST, 1, &at))
		return;
	for (int hops = 0; at >= 0x40 && at < 0x100 && hops < 48; hops++) {
		uint32_t id, x;

		at &= ~3u;
		if (iommufd_device_config_read(dev, at, 1, &id))
			return;
		if (id == PCI_CAP_ID_EXP && !iommufd_device_config_read(dev, at + PCI_EXP_DEVCAP, 4, &x))
			*flr |= !!(x & PCI_EXP_DEVCAP_FLR);
		else if (id == PCI_CAP_ID_AF && !iommufd_device_config_read(dev, at + PCI_AF_CAP, 1, &x))
			*flr |= !!(x & PCI_AF_CAP_FLR);
		else if (id == PCI_CAP_ID_PM && !iommufd_device_config_read(dev, at + PCI_PM_CTRL, 2, &x))
			*pm = !(x & PCI_PM_CTRL_NO_SOFT_RESET);
		if (iommufd_device_config_read(dev, at + 1, 1, &at))
			return;
	}
}

static int function_reset(struct iommufd_device *dev)
{
	int r = dev_ioctl(dev, KABI_VFIO_DEVICE_RESET, NULL);

	dev_dmabuf_revoke(dev);
	return r;
}

/* a hot reset of dev when QEMU would do one: every device owned, dev alone unless multi */
static int try_hot_reset(struct iommufd_device *dev, const struct iommufd_reset_how *h, uint32_t *nr_done,
			 const char **why)
{
	IOMMUFD_OPTS(struct iommufd_hot_reset_opts, o, .nr_group_fds = h->nr_group_fds,
		     .group_fds = h->group_fds);
	struct iommufd_hot_reset_dev *devs = NULL;
	uint32_t flags = 0;
	size_t nr = 0;
	int r = iommufd_device_get_hot_reset_info(dev, &flags, &devs, &nr);

	if (r) {
		*why = r == -ENODEV ? "no bus or slot reset" : "its hot reset info failed";
		return r;
	}
	free(devs);
	if (flags & IOMMUFD_HOT_RESET_DEV_ID) {
		/* a cdev device: the iommufd form, group fds would be refused */
		o.nr_group_fds = 0;
		o.group_fds = NULL;
	}
	if (!(h->flags & IOMMUFD_RESET_HOT_MULTI) && nr > 1) {
		*why = "a hot reset would reset other devices too (IOMMUFD_RESET_HOT_MULTI allows it)";
		return -EBUSY;
	}
	if ((flags & IOMMUFD_HOT_RESET_DEV_ID) && !(flags & IOMMUFD_HOT_RESET_ALL_OWNED)) {
		*why = "an affected device is not owned by the device's context";
		return -EPERM;
	}
	if (!(flags & IOMMUFD_HOT_RESET_DEV_ID) && !h->nr_group_fds) {
		*why = "a group-path device needs the group fds (how->group_fds) for a hot reset";
		return -EPERM;
	}
	r = iommufd_device_hot_reset(dev, &o);
	if (r) {
		*why = "the hot reset failed";
		return r;
	}
	*nr_done = (uint32_t)nr;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_reset_auto(struct iommufd_device *dev, struct iommufd_reset_how *how)
{
	IOMMUFD_OPTS(struct iommufd_device_info, info);
	struct iommufd_reset_how h;
	const char *hot_why = "not tried (IOMMUFD_RESET_NO_HOT)";
	int r = check_dev(dev, __func__), last = -ENODEV;
	bool flr, pm, can;
	uint32_t nr_done = 1;

	if (r)
		return r;
	r = ifd_ext_copy_in(&h, sizeof(h), how, sizeof(size_t));
	if (r)
		return FAIL(rst_ctx(dev), r, "%s: how->sz %zu", dev->name, how->sz);
	if (h.flags & ~(IOMMUFD_RESET_NO_HOT | IOMMUFD_RESET_HOT_MULTI))
		return FAIL(rst_ctx(dev), EINVAL, "%s: how->flags 0x%x: only IOMMUFD_RESET_NO_HOT and _HOT_MULTI",
			    dev->name, h.flags);
	if (h.nr_group_fds && !h.group_fds)
		return FAIL(rst_ctx(dev), EINVAL, "%s: %u group fds at NULL", dev->name, h.nr_group_fds);
	r = iommufd_device_get_info(dev, &info);
	if (r)
		return r;
	can = info.flags & IOMMUFD_DEVICE_INFO_RESET;
	function_resets(dev, &flr, &pm);
	h.method = IOMMUFD_RESET_NONE;
	h.nr_devs = 0;
	/* 1. the function's own reset, when it is an FLR or not a PM reset */
	if (can && (flr || !pm)) {
		last = function_reset(dev);
		if (last == 0) {
			h.method = IOMMUFD_RESET_FUNCTION;
			goto done;
		}
	}
	/* 2. a bus or slot reset of this device */
	if (!(h.flags & IOMMUFD_RESET_NO_HOT)) {
		last = try_hot_reset(dev, &h, &nr_done, &hot_why);
		if (last == 0) {
			h.method = IOMMUFD_RESET_HOT;
			goto done;
		}
	}
	/* 3. the PM reset, last */
	if (can && pm) {
		last = function_reset(dev);
		if (last == 0) {
			h.method = IOMMUFD_RESET_PM;
			goto done;
		}
	}
	return FAIL(rst_ctx(dev), last,
		    "%s: no reset: the function's reset %s (FLR %s, PM reset %s); hot reset: %s", dev->name,
		    can ? "failed" : "is not offered (VFIO_DEVICE_FLAGS_RESET not set)", flr ? "yes" : "no",
		    pm ? "yes" : "no", hot_why);
done:
	h.nr_devs = nr_done;
	if (how)
		ifd_ext_copy_out(how, &h, sizeof(h));
	return 0;
}
