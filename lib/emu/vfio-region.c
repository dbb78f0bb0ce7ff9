// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The capability chain of VFIO_DEVICE_GET_REGION_INFO, as vfio-pci builds
 * it (drivers/vfio/pci/vfio_pci_core.c, drivers/vfio/vfio_main.c
 * vfio_info_add_capability/vfio_info_cap_shift): the BAR holding the MSI-X
 * table gets VFIO_REGION_INFO_CAP_MSIX_MAPPABLE (the table may be mmap'ed:
 * the interrupt remapping hardware isolates it), no sparse mmap areas. The
 * chain follows the info struct; when argsz is too small for it the kernel
 * writes back the argsz it needs and cap_offset 0, and the call succeeds.
 * A device added with IOMMUFD_EMU_DEVICE_MSIX_SPARSE answers instead as a
 * VFIO driver that keeps the table unmappable: a sparse mmap capability
 * listing the pages around it (drivers/vfio/vfio_main.c
 * vfio_info_add_capability; the capability nvgrace-gpu builds in
 * drivers/vfio/pci/nvgrace-gpu/main.c), and mmap of its pages is -EINVAL.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "emu.h"
#include "vfio.h"

/*
 * IOMMUFD_EMU_DEVICE_MSIX_SPARSE: the table's pages are not mappable; the
 * areas are the pages of BAR0 before and after them (n of 2). false: no such
 * rule for this region.
 */
bool vdev_msix_sparse(struct vdev *d, uint32_t index, struct kabi_vfio_region_sparse_mmap_area *a,
		      uint32_t *n)
{
	uint64_t start, end;

	*n = 0;
	if (!(d->opt_flags & IOMMUFD_EMU_DEVICE_MSIX_SPARSE) || !d->msix_vectors ||
	    index != KABI_VFIO_PCI_BAR0_REGION_INDEX)
		return false;
	start = d->msix_table & ~(uint64_t)(EMU_PAGE_SIZE - 1);
	end = (d->msix_table + 16ull * d->msix_vectors + EMU_PAGE_SIZE - 1) &
	      ~(uint64_t)(EMU_PAGE_SIZE - 1);
	if (start)
		a[(*n)++] = (struct kabi_vfio_region_sparse_mmap_area){ .offset = 0, .size = start };
	if (end < d->bar0_size)
		a[(*n)++] = (struct kabi_vfio_region_sparse_mmap_area){ .offset = end,
									.size = d->bar0_size - end };
	return true;
}

int vdev_region_caps(struct vdev *d, struct kabi_vfio_region_info *ri, void *arg)
{
	struct kabi_vfio_info_cap_header msix = {
		.id = KABI_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
		.version = 1,
		.next = 0,
	};
	struct {
		struct kabi_vfio_region_info_cap_sparse_mmap s;
		struct kabi_vfio_region_sparse_mmap_area a[2];
	} sparse = { .s.header = { .id = KABI_VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1 } };
	const void *cap = &msix;
	size_t caps_size;
	uint32_t n;

	if (ri->index != KABI_VFIO_PCI_BAR0_REGION_INDEX || !d->msix_vectors)
		return 0;
	caps_size = sizeof(msix);
	if (vdev_msix_sparse(d, ri->index, sparse.a, &n)) {
		sparse.s.nr_areas = n;
		cap = &sparse;
		caps_size = sizeof(sparse.s) + n * sizeof(sparse.a[0]);
	}
	ri->flags |= KABI_VFIO_REGION_INFO_FLAG_CAPS;
	if (ri->argsz < sizeof(*ri) + caps_size) {
		ri->argsz = (uint32_t)(sizeof(*ri) + caps_size);
		ri->cap_offset = 0;
		return 0;
	}
	if (emu_copy_to_user((uintptr_t)arg + sizeof(*ri), cap, caps_size))
		return -EFAULT;
	ri->cap_offset = sizeof(*ri);
	return 0;
}
