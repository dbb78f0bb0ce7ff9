/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The smallest complete libiommufd program: open a context, make an I/O
 * address space, map a buffer into it, print the IOVA the kernel chose,
 * unmap it. It runs on the /dev/iommu the process sees: the kernel's, or,
 * on a machine without one, the emulator's through the preload library:
 *
 *   cc minimal.c $(pkg-config --cflags --libs libiommufd) -o minimal
 *   LD_PRELOAD=libiommufd-preload.so ./minimal
 */
#include <iommufd.h>

#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
	struct iommufd_ctx *ctx = NULL;
	size_t len = 1 << 20;
	uint64_t iova, unmapped;
	uint32_t ioas;
	void *buf;
	int r;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;

	r = iommufd_ctx_new(&ctx);
	if (r < 0)
		goto out;
	r = iommufd_ioas_alloc(ctx, &ioas);
	if (r < 0)
		goto out;
	/* no IOMMUFD_MAP_FIXED_IOVA: the kernel picks the IOVA */
	r = iommufd_ioas_map(ctx, ioas, buf, len, &iova, IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
	if (r < 0)
		goto out;
	printf("IOAS %u: %zu bytes at %p mapped at IOVA 0x%llx\n", ioas, len, buf,
	       (unsigned long long)iova);
	r = iommufd_ioas_unmap(ctx, ioas, iova, len, &unmapped);
	if (r < 0)
		goto out;
	printf("unmapped %llu bytes\n", (unsigned long long)unmapped);
out:
	if (r < 0)
		fprintf(stderr, "error: %s\n", iommufd_last_error());
	iommufd_ctx_unref(ctx); /* closes the iommufd: the IOAS goes with it */
	return r < 0;
}
