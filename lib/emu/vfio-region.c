// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The capability chain of VFIO_DEVICE_GET_REGION_INFO, as vfio-pci builds
 * it (drivers/vfio/pci/vfio_pci_core.c, drivers/vfio/vfio_main.c
 * vfio_info_add_capability/vfio_info_cap_shift): the BAR holding the MSI-X
 * table gets VFIO_REGION_INFO_CAP_MSIX_MAPPABLE (the table may be mmap'ed:
 * the interrupt remapping hardware isolates it), no sparse mmap areas. The
 * chain follows the info struct; when argsz is too small for it the kernel
 * writes back the argsz it needs and cap_offset 0, and the call succeeds.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "emu.h"
#include "vfio.h"

int vdev_region_caps(struct vdev *d, struct kabi_vfio_region_info *ri, void *arg)
{
	struct kabi_vfio_info_cap_header msix = {
		.id = KABI_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
		.version = 1,
		.next = 0,
	};
	size_t caps_size;

	if (ri->index != KABI_VFIO_PCI_BAR0_REGION_INDEX || !d->msix_vectors)
		return 0;
	caps_size = sizeof(msix);
	ri->flags |= KABI_VFIO_REGION_INFO_FLAG_CAPS;
	if (ri->argsz < sizeof(*ri) + caps_size) {
		ri->argsz = (uint32_t)(sizeof(*ri) + caps_size);
		ri->cap_offset = 0;
		return 0;
	}
	if (emu_copy_to_user((uintptr_t)arg + sizeof(*ri), &msix, sizeof(msix)))
		return -EFAULT;
	ri->cap_offset = sizeof(*ri);
	return 0;
}
