// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VFIO_DEVICE_FEATURE, typed: the PROBE of any feature, the generic GET/SET,
 * and the features of vfio-pci (low power, the SR-IOV VF token), vfio-cdx
 * (bus master); the migration drivers' features are in migration.c.
 *
 * The kernel's rules (drivers/vfio/vfio_main.c vfio_ioctl_device_feature(),
 * include/linux/vfio.h vfio_check_feature()): argsz below the header, an
 * unknown flag bit, or GET and SET together without PROBE: EINVAL; then the
 * feature: a driver without it answers ENOTTY; with it, an access (GET/SET)
 * it does not have: EINVAL, PROBE: 0, neither GET nor SET: EINVAL, argsz too
 * small for the feature's data: EINVAL. As everywhere in lib/device the
 * kernel is the judge: the library checks only its own arguments.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device-private.h"

#define FEATURE_MAX_DATA 4096

static struct iommufd_ctx *feat_ctx(struct iommufd_device *dev)
{
	struct iommufd_ctx *ctx;

	pthread_mutex_lock(&dev->lock);
	ctx = dev->ctx;
	pthread_mutex_unlock(&dev->lock);
	return ctx;
}

static const char *feature_name(uint32_t feature)
{
	static const char *const names[] = {
		[KABI_VFIO_DEVICE_FEATURE_PCI_VF_TOKEN] = "PCI_VF_TOKEN",
		[KABI_VFIO_DEVICE_FEATURE_MIGRATION] = "MIGRATION",
		[KABI_VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE] = "MIG_DEVICE_STATE",
		[KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY] = "LOW_POWER_ENTRY",
		[KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP] = "LOW_POWER_ENTRY_WITH_WAKEUP",
		[KABI_VFIO_DEVICE_FEATURE_LOW_POWER_EXIT] = "LOW_POWER_EXIT",
		[KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_START] = "DMA_LOGGING_START",
		[KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP] = "DMA_LOGGING_STOP",
		[KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT] = "DMA_LOGGING_REPORT",
		[KABI_VFIO_DEVICE_FEATURE_MIG_DATA_SIZE] = "MIG_DATA_SIZE",
		[KABI_VFIO_DEVICE_FEATURE_BUS_MASTER] = "BUS_MASTER",
		[KABI_VFIO_DEVICE_FEATURE_DMA_BUF] = "DMA_BUF",
		[KABI_VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2] = "MIG_PRECOPY_INFOv2",
	};

	return feature < ARRAY_SIZE(names) && names[feature] ? names[feature] : "feature";
}

static const char *access_name(uint32_t kflags)
{
	switch (kflags & (KABI_VFIO_DEVICE_FEATURE_GET | KABI_VFIO_DEVICE_FEATURE_SET)) {
	case KABI_VFIO_DEVICE_FEATURE_GET:
		return "GET";
	case KABI_VFIO_DEVICE_FEATURE_SET:
		return "SET";
	case KABI_VFIO_DEVICE_FEATURE_GET | KABI_VFIO_DEVICE_FEATURE_SET:
		return "GET|SET";
	}
	return "no access";
}

/* why the kernel refused a VFIO_DEVICE_FEATURE */
static const char *feature_why(uint32_t feature, uint32_t kflags, int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case ENOTTY:
		if (feature == KABI_VFIO_DEVICE_FEATURE_PCI_VF_TOKEN)
			return "the device has no VF token: it is not an SR-IOV physical function on vfio-pci";
		if (feature == KABI_VFIO_DEVICE_FEATURE_BUS_MASTER)
			return "bus mastering is a vfio-cdx feature; a PCI device controls it in its command register";
		if (feature <= KABI_VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE ||
		    feature == KABI_VFIO_DEVICE_FEATURE_MIG_DATA_SIZE)
			return "the device's VFIO driver has no migration support (vfio-pci alone has none)";
		if (feature >= KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_START &&
		    feature <= KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT)
			return "the device's VFIO driver has no DMA logging";
		return "the device's VFIO driver does not know this feature";
	case EINVAL:
		if (feature == KABI_VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2)
			return "the device has no PRE_COPY migration state";
		if (kflags & KABI_VFIO_DEVICE_FEATURE_PROBE)
			return "the feature exists but not with this access, or the device is not bound";
		return "not this access of the feature, bad data, a state it refuses (low power already entered...), or the device is not bound";
	case EOPNOTSUPP:
		return "the device cannot export its BARs as DMA buffers";
	case EBADF:
		return "a file descriptor in the data is not open";
	}
	return "the kernel refused";
}

/* VFIO_DEVICE_FEATURE of kflags (feature | GET/SET/PROBE) with len bytes of data */
static int feature_ioctl(struct iommufd_device *dev, const char *func, uint32_t feature,
			 uint32_t kflags, void *data, size_t len, bool out)
{
	struct kabi_vfio_device_feature *f;
	int r;

	if (!dev)
		return ifd_fail(NULL, func, EINVAL, "dev is NULL");
	r = ifd_owner_check(dev->pid, feat_ctx(dev), func, "device", dev->name);
	if (r)
		return r;
	if (feature > KABI_VFIO_DEVICE_FEATURE_MASK)
		return ifd_fail(feat_ctx(dev), func, EINVAL, "%s: feature %u is not a 16-bit index",
				dev->name, feature);
	if (len > FEATURE_MAX_DATA || (len && !data))
		return ifd_fail(feat_ctx(dev), func, EINVAL, "%s: %zu bytes of data at %p", dev->name,
				len, data);
	f = calloc(1, sizeof(*f) + len);
	if (!f)
		return ifd_fail(feat_ctx(dev), func, ENOMEM, "%s: feature %u", dev->name, feature);
	f->argsz = (uint32_t)(sizeof(*f) + len);
	f->flags = feature | kflags;
	if (len)
		memcpy(f->data, data, len);
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_FEATURE, f);
	if (r >= 0 && (kflags & KABI_VFIO_DEVICE_FEATURE_SET) &&
	    (feature == KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY ||
	     feature == KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP))
		dev_dmabuf_low_power(dev, true); /* vfio_pci_runtime_pm_entry() */
	if (r >= 0 && (kflags & KABI_VFIO_DEVICE_FEATURE_SET) &&
	    feature == KABI_VFIO_DEVICE_FEATURE_LOW_POWER_EXIT)
		dev_dmabuf_low_power(dev, false); /* vfio_pci_runtime_pm_exit() */
	if (r >= 0 && out && len)
		memcpy(data, f->data, len);
	free(f);
	if (r < 0)
		return ifd_fail(feat_ctx(dev), func, r, "%s: VFIO_DEVICE_FEATURE(%s %u, %s%s): %s",
				dev->name, feature_name(feature), feature,
				kflags & KABI_VFIO_DEVICE_FEATURE_PROBE ? "PROBE " : "", access_name(kflags),
				feature_why(feature, kflags, r));
	return r;
}

int ifd_feature_ioctl(struct iommufd_device *dev, const char *func, uint32_t feature,
		      uint32_t kflags, void *data, size_t len, bool out)
{
	return feature_ioctl(dev, func, feature, kflags, data, len, out);
}

static uint32_t access_flags(uint32_t flags)
{
	return (flags & IOMMUFD_FEATURE_GET ? KABI_VFIO_DEVICE_FEATURE_GET : 0) |
	       (flags & IOMMUFD_FEATURE_SET ? KABI_VFIO_DEVICE_FEATURE_SET : 0);
}

IOMMUFD_EXPORT int iommufd_device_feature_probe(struct iommufd_device *dev, uint32_t feature,
						uint32_t flags)
{
	if (dev && (flags & ~(IOMMUFD_FEATURE_GET | IOMMUFD_FEATURE_SET)))
		return FAIL(feat_ctx(dev), EINVAL, "%s: flags 0x%x: only IOMMUFD_FEATURE_GET and _SET",
			    dev->name, flags);
	return feature_ioctl(dev, __func__, feature, KABI_VFIO_DEVICE_FEATURE_PROBE | access_flags(flags),
			     NULL, 0, false);
}

IOMMUFD_EXPORT int iommufd_device_feature(struct iommufd_device *dev, uint32_t feature,
					  uint32_t flags, void *data, size_t len)
{
	if (dev && flags != IOMMUFD_FEATURE_GET && flags != IOMMUFD_FEATURE_SET)
		return FAIL(feat_ctx(dev), EINVAL,
			    "%s: flags 0x%x: exactly one of IOMMUFD_FEATURE_GET and _SET", dev->name, flags);
	return feature_ioctl(dev, __func__, feature, access_flags(flags), data, len,
			     flags == IOMMUFD_FEATURE_GET);
}

IOMMUFD_EXPORT int iommufd_device_set_bus_master(struct iommufd_device *dev, bool enable)
{
	struct kabi_vfio_device_feature_bus_master bm = {
		.op = enable ? KABI_VFIO_DEVICE_FEATURE_SET_MASTER : KABI_VFIO_DEVICE_FEATURE_CLEAR_MASTER,
	};
	int r = feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_BUS_MASTER,
			      KABI_VFIO_DEVICE_FEATURE_SET, &bm, sizeof(bm), false);

	return r < 0 ? r : 0;
}

IOMMUFD_EXPORT int iommufd_device_low_power_enter(struct iommufd_device *dev,
						  const struct iommufd_low_power_opts *opts)
{
	struct kabi_vfio_device_low_power_entry_with_wakeup w = { 0 };
	struct iommufd_low_power_opts o;
	int r;

	if (!dev)
		return FAIL(NULL, EINVAL, "dev is NULL");
	r = ifd_ext_copy_in(&o, sizeof(o), opts, sizeof(size_t));
	if (r)
		return FAIL(feat_ctx(dev), r, "%s: opts->sz %zu", dev->name, opts->sz);
	if (o.flags & ~IOMMUFD_LOW_POWER_WAKEUP)
		return FAIL(feat_ctx(dev), EINVAL, "%s: opts->flags 0x%x: only IOMMUFD_LOW_POWER_WAKEUP",
			    dev->name, o.flags);
	if (!(o.flags & IOMMUFD_LOW_POWER_WAKEUP)) {
		r = feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
				  KABI_VFIO_DEVICE_FEATURE_SET, NULL, 0, false);
		return r < 0 ? r : 0;
	}
	if (o.wakeup_eventfd < 0)
		return FAIL(feat_ctx(dev), EINVAL, "%s: wakeup_eventfd %d", dev->name, o.wakeup_eventfd);
	w.wakeup_eventfd = o.wakeup_eventfd;
	r = feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
			  KABI_VFIO_DEVICE_FEATURE_SET, &w, sizeof(w), false);
	return r < 0 ? r : 0;
}

IOMMUFD_EXPORT int iommufd_device_low_power_exit(struct iommufd_device *dev)
{
	int r = feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
			      KABI_VFIO_DEVICE_FEATURE_SET, NULL, 0, false);

	return r < 0 ? r : 0;
}

IOMMUFD_EXPORT int iommufd_device_set_vf_token(struct iommufd_device *dev, const uint8_t token[16])
{
	uint8_t uuid[16];
	int r;

	if (dev && !token)
		return FAIL(feat_ctx(dev), EINVAL, "%s: token is NULL", dev->name);
	if (token)
		memcpy(uuid, token, sizeof(uuid));
	r = feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
			  KABI_VFIO_DEVICE_FEATURE_SET, uuid, sizeof(uuid), false);
	return r < 0 ? r : 0;
}
