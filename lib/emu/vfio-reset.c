// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PCI hot reset of the emulated vfio-pci devices:
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and VFIO_DEVICE_PCI_HOT_RESET in the
 * order and with the errno of drivers/vfio/pci/vfio_pci_core.c
 * (vfio_pci_ioctl_get_pci_hot_reset_info(), vfio_pci_ioctl_pci_hot_reset(),
 * vfio_pci_dev_set_hot_reset()) and drivers/vfio/iommufd.c
 * (vfio_iommufd_get_dev_id()).
 *
 * The topology: a device on bus 0 sits on the root bus, as QEMU's q35
 * devices do: no bridge above it, so neither a slot nor a bus reset
 * (ENODEV, as vfio-pci answers in the VM). A device on another bus sits
 * behind a bridge with a secondary bus reset and no hotplug slot (the VM's
 * pcie-root-port, its kernel without pciehp): a hot reset resets every
 * emulated device of that segment and bus, which are all on vfio-pci and
 * so all in the device set. A device alone on such a bus also has the bus
 * reset as its function reset (drivers/pci/pci.c pci_parent_bus_reset()),
 * so VFIO_DEVICE_RESET works on it whatever its model offers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "emu.h"
#include "vfio.h"

struct pci_addr {
	unsigned int seg, bus, devfn;
};

static struct pci_addr addr_of(const struct vdev *d)
{
	unsigned int seg = 0, bus = 0, slot = 0, fn = 0;

	/* "ssss:bb:dd.f", checked when the device was added */
	if (sscanf(d->bdf, "%x:%x:%x.%x", &seg, &bus, &slot, &fn) != 4)
		seg = bus = slot = fn = 0;
	return (struct pci_addr){ .seg = seg, .bus = bus, .devfn = (slot << 3) | fn };
}

/* pci_probe_reset_slot() / pci_probe_reset_bus(): only a bridge resets */
static bool resettable(const struct vdev *d)
{
	return addr_of(d).bus != 0;
}

bool vdev_reset_works(struct vdev *d)
{
	struct pci_addr a = addr_of(d);

	if (d->reset_works)
		return true;
	if (!resettable(d))
		return false;
	for (struct vdev *x = vfio_devices(d->emu); x; x = x->next) {
		struct pci_addr b = addr_of(x);

		if (x != d && b.seg == a.seg && b.bus == a.bus)
			return false; /* pci_parent_bus_reset(): not alone on the bus */
	}
	return true;
}

/* the devices a bus reset of d's bus resets, by devfn (pci_walk_bus()); malloc()ed */
static int affected(struct vdev *d, struct vdev ***ret, uint32_t *nr)
{
	struct pci_addr a = addr_of(d);
	struct vdev **v;
	uint32_t n = 0;

	for (struct vdev *x = vfio_devices(d->emu); x; x = x->next) {
		struct pci_addr b = addr_of(x);

		n += b.seg == a.seg && b.bus == a.bus;
	}
	v = emu_calloc(d->emu, n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	n = 0;
	for (struct vdev *x = vfio_devices(d->emu); x; x = x->next) {
		struct pci_addr b = addr_of(x);
		uint32_t i;

		if (b.seg != a.seg || b.bus != a.bus)
			continue;
		for (i = n; i > 0 && addr_of(v[i - 1]).devfn > b.devfn; i--)
			v[i] = v[i - 1];
		v[i] = x;
		n++;
	}
	*ret = v;
	*nr = n;
	return 0;
}

/*
 * vfio_iommufd_get_dev_id(x, ictx): x's DEVICE ID when bound to ictx;
 * -ENOENT when not, but a device of its IOMMU group is
 * (iommufd_ctx_has_group()); else -ENODEV.
 */
static int dev_id_in(struct vdev *x, struct emu_ictx *ictx)
{
	struct iommufd_emu *emu = x->emu;

	if (ictx && emu_device_ictx(&x->edev) == ictx)
		return (int)emu_device_id(&x->edev);
	if (!ictx)
		return -ENODEV;
	for (struct vdev *y = vfio_devices(emu); y; y = y->next)
		if (y->edev.group == x->edev.group && emu_device_ictx(&y->edev) == ictx)
			return -ENOENT;
	return -ENODEV;
}

int vdev_hot_reset_info(struct vdev *d, bool cdev, void *arg)
{
	struct kabi_vfio_pci_hot_reset_info hdr;
	const size_t minsz = sizeof(hdr);
	struct kabi_vfio_pci_dependent_device *out;
	struct emu_ictx *ictx = emu_device_ictx(&d->edev);
	struct vdev **v;
	uint32_t n;
	int r;

	if (emu_copy_from_user(&hdr, (uintptr_t)arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;
	if (!resettable(d))
		return -ENODEV;
	r = affected(d, &v, &n);
	if (r)
		return r;
	if (n > (hdr.argsz - minsz) / sizeof(*out)) {
		free(v);
		hdr.count = n;
		return emu_copy_to_user((uintptr_t)arg, &hdr, minsz) ? -EFAULT : -ENOSPC;
	}
	out = emu_calloc(d->emu, n ? n : 1, sizeof(*out));
	if (!out) {
		free(v);
		return -ENOMEM;
	}
	if (cdev)
		hdr.flags = KABI_VFIO_PCI_HOT_RESET_FLAG_DEV_ID | KABI_VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
	for (uint32_t i = 0; i < n; i++) {
		struct pci_addr a = addr_of(v[i]);

		out[i].segment = (uint16_t)a.seg;
		out[i].bus = (uint8_t)a.bus;
		out[i].devfn = (uint8_t)a.devfn;
		if (cdev) {
			int id = dev_id_in(v[i], ictx);

			if (id > 0)
				out[i].devid = (uint32_t)id;
			else if (id == -ENOENT)
				out[i].devid = KABI_VFIO_PCI_DEVID_OWNED;
			else
				out[i].devid = (uint32_t)KABI_VFIO_PCI_DEVID_NOT_OWNED;
			if (out[i].devid == (uint32_t)KABI_VFIO_PCI_DEVID_NOT_OWNED)
				hdr.flags &= ~(uint32_t)KABI_VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
		} else {
			out[i].devid = (uint32_t)vdev_group_nr(v[i]);
		}
	}
	free(v);
	if (emu_copy_to_user((uintptr_t)arg + minsz, out, n * sizeof(*out))) {
		free(out);
		return -EFAULT;
	}
	free(out);
	hdr.count = n;
	return emu_copy_to_user((uintptr_t)arg, &hdr, minsz) ? -EFAULT : 0;
}

/* a VFIO group file's group number, -EBADF not open, -EINVAL not a group (vfio_file_is_group()) */
static int group_of_fd(struct iommufd_emu *emu, int fd)
{
	struct emu_file *f;
	struct stat st;

	if (!emu_fd_is_open(emu, fd))
		return -EBADF;
	f = emu_file_lookup(emu, fd);
	if (!f || strcmp(f->ops->name, "vfio-group") || !f->ops->fstat || f->ops->fstat(f, &st))
		return -EINVAL;
	return (int)minor(st.st_rdev);
}

int vdev_hot_reset(struct vdev *d, bool cdev, void *arg)
{
	struct kabi_vfio_pci_hot_reset hdr;
	const size_t minsz = sizeof(hdr);
	struct emu_ictx *ictx = emu_device_ictx(&d->edev);
	int32_t *fds = NULL;
	int *groups = NULL;
	struct vdev **v;
	uint32_t n;
	int r;

	if (emu_copy_from_user(&hdr, (uintptr_t)arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags)
		return -EINVAL;
	/* a zero-length array for cdev-opened devices only */
	if (!!hdr.count == cdev)
		return -EINVAL;
	if (!resettable(d))
		return -ENODEV;
	r = affected(d, &v, &n);
	if (r)
		return r;
	if (hdr.count) {
		/* vfio_pci_ioctl_pci_hot_reset_groups(): at most one group per affected device */
		if (hdr.count > n) {
			r = -EINVAL;
			goto out;
		}
		fds = emu_calloc(d->emu, hdr.count, sizeof(*fds));
		groups = emu_calloc(d->emu, hdr.count, sizeof(*groups));
		if (!fds || !groups) {
			r = -ENOMEM;
			goto out;
		}
		if (emu_copy_from_user(fds, (uintptr_t)arg + minsz, hdr.count * sizeof(*fds))) {
			r = -EFAULT;
			goto out;
		}
		for (uint32_t i = 0; i < hdr.count; i++) {
			groups[i] = group_of_fd(d->emu, fds[i]);
			if (groups[i] < 0) {
				r = groups[i];
				goto out;
			}
		}
	}
	/* vfio_pci_dev_set_hot_reset(): every device of the set owned */
	for (uint32_t i = 0; i < n; i++) {
		bool owned = false;

		if (!hdr.count) {
			int id = dev_id_in(v[i], ictx);

			owned = id > 0 || id == -ENOENT;
		} else {
			for (uint32_t j = 0; j < hdr.count && !owned; j++)
				owned = groups[j] == vdev_group_nr(v[i]);
		}
		if (!owned) {
			r = -EINVAL;
			goto out;
		}
	}
	/* pci_reset_bus(): every function below the bridge */
	for (uint32_t i = 0; i < n; i++) {
		vdev_dmabuf_move(v[i], true);
		vdev_model_reset(v[i]);
		vdev_dmabuf_restore(v[i]);
	}
	r = 0;
out:
	free(groups);
	free(fds);
	free(v);
	return r;
}
