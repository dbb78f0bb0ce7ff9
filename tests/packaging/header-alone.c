/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The public header on its own, as strict ISO C (see meson.build for the
 * flags): nothing included before it, included twice (the guard works).
 * Run, it checks that IOMMUFD_OPTS() fills in sz and that a C program links
 * to the library through the header's declarations and gets its errors.
 */
#include <iommufd.h>
#include <iommufd.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, opts, .flags = IOMMUFD_HWPT_NEST_PARENT);
	int r = iommufd_ctx_new(NULL);

	if (opts.sz != sizeof(opts) || opts.flags != IOMMUFD_HWPT_NEST_PARENT || opts.data) {
		printf("IOMMUFD_OPTS: sz %zu flags 0x%x\n", opts.sz, (unsigned)opts.flags);
		return 1;
	}
	/* an argument error: -EINVAL without a system call, and a reason */
	if (r != -EINVAL || !strstr(iommufd_last_error(), "iommufd_ctx_new")) {
		printf("iommufd_ctx_new(NULL) = %d, last error \"%s\"\n", r,
		       iommufd_last_error());
		return 1;
	}
	printf("ok\n");
	return 0;
}
