/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The smallest complete libiommufd program: open a context, make an I/O
 * address space, map a buffer into it, print the IOVA the kernel chose,
 * unmap it. Runs on the in-process emulator, or with --kernel on the real
 * /dev/iommu.
 *
 *   cc minimal.c $(pkg-config --cflags --libs libiommufd) -o minimal
 */
#include <iommufd.h>

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	struct iommufd_backend *be = NULL; /* NULL: the real kernel */
	struct iommufd_emu *emu = NULL;
	struct iommufd_ctx *ctx = NULL;
	size_t len = 1 << 20;
	uint64_t iova, unmapped;
	uint32_t ioas;
	void *buf;
	int r;

	if (argc < 2 || strcmp(argv[1], "--kernel") != 0) {
		r = iommufd_emu_new(&emu);
		if (r < 0)
			goto out;
		be = iommufd_emu_get_backend(emu);
	}
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;

	r = iommufd_ctx_new(be, &ctx);
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
	iommufd_emu_unref(emu);
	return r < 0;
}
