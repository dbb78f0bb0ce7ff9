// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SR-IOV through vfio-pci: the VFs of a PF (sriov_numvfs, virtfnN) and the
 * opening of a VF with the PF's VF token.
 *
 * The kernel's rules: drivers/pci/iov.c sriov_numvfs_store() refuses a count
 * above sriov_totalvfs (ERANGE), a PF bound to no driver or to one without
 * sriov_configure (ENOENT), a new non-zero count while VFs are enabled
 * (EBUSY; the same count is a no-op); drivers/vfio/pci/vfio_pci.c
 * vfio_pci_sriov_configure() answers ENOENT while its module parameter
 * enable_sriov is off. vfio-pci captures the driver_override of the PF's VFs
 * (drivers/vfio/pci/vfio_pci_core.c vfio_pci_bus_notifier()), so they probe
 * to vfio-pci; opening one then needs the PF's VF token
 * (vfio_pci_core_match_token_uuid(): none or a wrong one, EACCES).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device-private.h"
#include "shared/bdf.h"

#define SYSFS_SHOWN "/sys"

static const char *last_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* user's BDF in the kernel's spelling, or -EINVAL recorded under func */
static int sriov_bdf(const char *func, const char *user_bdf, char bdf[IFD_BDF_LEN])
{
	struct ifd_bdf b;
	const char *why;

	if (ifd_bdf_parse(user_bdf, &b, &why))
		return ifd_fail(NULL, func, EINVAL, "\"%.64s\" is not a PCI address like 0000:00:02.0: %s",
				user_bdf, why);
	ifd_bdf_format(&b, bdf);
	return 0;
}

/* an unsigned decimal sysfs attribute of the PF */
static int read_uint(struct iommufd_backend *be, const char *bdf, const char *attr, unsigned int *v)
{
	char path[128], buf[32], *end;
	unsigned long l;
	ssize_t n;

	snprintf(path, sizeof(path), "bus/pci/devices/%s/%s", bdf, attr);
	n = be_sysfs_read(be, path, buf, sizeof(buf) - 1);
	if (n < 0)
		return (int)n;
	buf[n] = 0;
	errno = 0;
	l = strtoul(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n') || l > UINT_MAX)
		return -EPROTO;
	*v = (unsigned int)l;
	return 0;
}

/* numvfs and totalvfs of an SR-IOV PF, with the reasons recorded under func */
static int pf_counts(struct iommufd_backend *be, const char *func, const char *bdf,
		     unsigned int *numvfs, unsigned int *totalvfs)
{
	char path[128], name[8];
	int r;

	snprintf(path, sizeof(path), "bus/pci/devices/%s/vendor", bdf);
	r = (int)be_sysfs_read(be, path, name, sizeof(name));
	if (r < 0)
		return ifd_fail(NULL, func, ENODEV, "no PCI device %s (%s/%s: %s)", bdf, SYSFS_SHOWN,
				path, strerror(-r));
	r = read_uint(be, bdf, "sriov_totalvfs", totalvfs);
	if (r == -ENOENT)
		return ifd_fail(NULL, func, EOPNOTSUPP,
				"PCI device %s is not an SR-IOV physical function (no %s/bus/pci/devices/%s/sriov_totalvfs; or the kernel lacks CONFIG_PCI_IOV)",
				bdf, SYSFS_SHOWN, bdf);
	if (r < 0)
		return ifd_fail(NULL, func, -r, "reading %s/bus/pci/devices/%s/sriov_totalvfs", SYSFS_SHOWN, bdf);
	r = read_uint(be, bdf, "sriov_numvfs", numvfs);
	if (r < 0)
		return ifd_fail(NULL, func, -r == ENOENT ? EOPNOTSUPP : -r,
				"reading %s/bus/pci/devices/%s/sriov_numvfs", SYSFS_SHOWN, bdf);
	return 0;
}

IOMMUFD_EXPORT int iommufd_pci_sriov_get_numvfs(struct iommufd_ctx *ctx, const char *pf_bdf,
						unsigned int *numvfs, unsigned int *totalvfs)
{
	struct iommufd_backend *be = NULL;
	char bdf[IFD_BDF_LEN];
	unsigned int num, total;
	int r;

	r = ifd_scope_backend(ctx, __func__, &be);
	if (r)
		return r;
	if (!pf_bdf || (!numvfs && !totalvfs))
		return FAIL(NULL, EINVAL, "pf_bdf is NULL, or both numvfs and totalvfs are");
	r = sriov_bdf(__func__, pf_bdf, bdf);
	if (r)
		return r;
	r = pf_counts(be, __func__, bdf, &num, &total);
	if (r)
		return r;
	if (numvfs)
		*numvfs = num;
	if (totalvfs)
		*totalvfs = total;
	return 0;
}

IOMMUFD_EXPORT int iommufd_pci_sriov_set_numvfs(struct iommufd_ctx *ctx, const char *pf_bdf,
						unsigned int numvfs)
{
	struct iommufd_backend *be = NULL;
	char bdf[IFD_BDF_LEN], path[128], drv[PATH_MAX], val[16], param[8] = "?";
	unsigned int num, total;
	ssize_t n;
	int r;

	r = ifd_scope_backend(ctx, __func__, &be);
	if (r)
		return r;
	if (!pf_bdf)
		return FAIL(NULL, EINVAL, "pf_bdf is NULL");
	r = sriov_bdf(__func__, pf_bdf, bdf);
	if (r)
		return r;
	r = pf_counts(be, __func__, bdf, &num, &total);
	if (r)
		return r;
	if (numvfs > total)
		return FAIL(NULL, ERANGE, "%u VFs asked of %s, which has at most %u (sriov_totalvfs)", numvfs,
			    bdf, total);
	if (numvfs == num)
		return 0; /* the kernel's no-op too */
	snprintf(path, sizeof(path), "bus/pci/devices/%s/driver", bdf);
	n = be_sysfs_readlink(be, path, drv, sizeof(drv) - 1);
	if (n < 0)
		return FAIL(NULL, ENOENT, "PF %s is bound to no driver: bind it to vfio-pci first", bdf);
	drv[n] = 0;
	if (strcmp(last_name(drv), "vfio-pci"))
		return FAIL(NULL, EPERM,
			    "PF %s is bound to %s, not to vfio-pci: its VFs would have no VF token to guard them",
			    bdf, last_name(drv));
	if (numvfs && num)
		return FAIL(NULL, EBUSY, "%s has %u VFs enabled: disable them (0) before enabling %u", bdf,
			    num, numvfs);
	snprintf(path, sizeof(path), "bus/pci/devices/%s/sriov_numvfs", bdf);
	snprintf(val, sizeof(val), "%u\n", numvfs);
	n = be_sysfs_write(be, path, val, strlen(val));
	if (n >= 0)
		return 0;
	r = (int)-n;
	if (be_sysfs_read(be, "module/vfio_pci/parameters/enable_sriov", param, 1) < 0)
		strcpy(param, "?");
	param[1] = 0;
	switch (r) {
	case ENOENT:
		return FAIL(NULL, ENOENT,
			    "writing %u to %s/%s: vfio-pci refuses SR-IOV while its parameter enable_sriov is off "
			    "(%s/module/vfio_pci/parameters/enable_sriov is %s: write Y there, or load vfio-pci with enable_sriov=1)",
			    numvfs, SYSFS_SHOWN, path, SYSFS_SHOWN, param);
	case EBUSY:
		return FAIL(NULL, EBUSY, "writing %u to %s/%s: VFs were enabled meanwhile: disable them first",
			    numvfs, SYSFS_SHOWN, path);
	case EACCES:
	case EPERM:
		return FAIL(NULL, r, "writing %u to %s/%s: %s (root is needed)", numvfs, SYSFS_SHOWN, path,
			    strerror(r));
	}
	return FAIL(NULL, r, "writing %u to %s/%s (enable_sriov %s): %s", numvfs, SYSFS_SHOWN, path,
		    param, strerror(r));
}

IOMMUFD_EXPORT int iommufd_pci_sriov_get_vf(struct iommufd_ctx *ctx, const char *pf_bdf,
					    unsigned int index, char vf_bdf[IOMMUFD_BDF_LEN])
{
	struct iommufd_backend *be = NULL;
	char bdf[IFD_BDF_LEN], vf[IFD_BDF_LEN], path[128], target[PATH_MAX];
	unsigned int num, total;
	const char *why;
	struct ifd_bdf b;
	ssize_t n;
	int r;

	r = ifd_scope_backend(ctx, __func__, &be);
	if (r)
		return r;
	if (!pf_bdf || !vf_bdf)
		return FAIL(NULL, EINVAL, "pf_bdf or vf_bdf is NULL");
	r = sriov_bdf(__func__, pf_bdf, bdf);
	if (r)
		return r;
	r = pf_counts(be, __func__, bdf, &num, &total);
	if (r)
		return r;
	if (index >= num)
		return FAIL(NULL, ENOENT, "%s has %u VFs enabled (of %u): no VF %u", bdf, num, total, index);
	snprintf(path, sizeof(path), "bus/pci/devices/%s/virtfn%u", bdf, index);
	n = be_sysfs_readlink(be, path, target, sizeof(target) - 1);
	if (n < 0)
		return FAIL(NULL, n == -ENOENT ? ENOENT : (int)-n, "reading the link %s/%s (VFs changed meanwhile?)",
			    SYSFS_SHOWN, path);
	target[n] = 0;
	if (ifd_bdf_parse(last_name(target), &b, &why))
		return FAIL(NULL, EPROTO, "%s/%s points to %s, not to a PCI device: %s", SYSFS_SHOWN, path,
			    target, why);
	ifd_bdf_format(&b, vf);
	memcpy(vf_bdf, vf, IFD_BDF_LEN);
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_open_vf(struct iommufd_ctx *ctx, const char *pf_bdf,
					  unsigned int index, const uint8_t token[16],
					  uint32_t *dev_id, struct iommufd_device **ret)
{
	char vf[IOMMUFD_BDF_LEN];
	struct iommufd_device *dev = NULL;
	int r;

	if (!ret)
		return FAIL(ctx, EINVAL, "ret is NULL");
	r = iommufd_pci_sriov_get_vf(ctx, pf_bdf, index, vf);
	if (r)
		return r;
	r = iommufd_device_open_pci(ctx, vf, &dev);
	if (r)
		return r;
	r = iommufd_device_bind(dev, ctx, token, dev_id);
	if (r) {
		/* keep the bind's reason: the unref of a parked device records none */
		iommufd_device_unref(dev);
		return r;
	}
	*ret = dev;
	return 0;
}
