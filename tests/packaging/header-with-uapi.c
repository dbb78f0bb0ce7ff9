/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The header promises it can be included together with the kernel's
 * <linux/iommufd.h>: no name of one is redefined by the other. Compiled
 * only when the meson option uapi_headers names real kernel headers.
 */
#include <linux/iommufd.h>
#include <iommufd.h>

int header_with_uapi(void);

int header_with_uapi(void)
{
	struct iommu_ioas_alloc kernel = { .size = sizeof(kernel) };
	struct iommufd_iova_range ours = { .start = 0, .last = 0 };

	return (int)(kernel.size + ours.last);
}
