/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A program built against the INSTALLED library through `pkg-config
 * libiommufd` alone (see install-test.sh), as a driver or a VMM is: it names
 * no backend, so it talks to the kernel's /dev/iommu; the install test runs
 * it where there is none through the installed preload library. Context,
 * IOAS, map, unmap.
 */
#include <iommufd.h>

#include <stdio.h>
#include <sys/mman.h>

static int fail(const char *what, int r)
{
	fprintf(stderr, "%s: %d (%s)\n", what, r, iommufd_last_error());
	return 1;
}

int main(void)
{
	struct iommufd_ctx *ctx = NULL;
	uint64_t iova = 0, unmapped = 0;
	size_t len = 2 * 4096;
	uint32_t ioas;
	void *buf;
	int r;

	/* the installed header and the installed library are the same version */
	if (!iommufd_check_version(IOMMUFD_VERSION_MAJOR, IOMMUFD_VERSION_MINOR))
		return fail("iommufd_check_version", -iommufd_version_minor());
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	r = iommufd_ctx_new(&ctx);
	if (r < 0)
		return fail("iommufd_ctx_new", r);
	r = iommufd_ioas_alloc(ctx, &ioas);
	if (r < 0)
		return fail("iommufd_ioas_alloc", r);
	r = iommufd_ioas_map(ctx, ioas, buf, len, &iova, IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
	if (r < 0)
		return fail("iommufd_ioas_map", r);
	r = iommufd_ioas_unmap(ctx, ioas, iova, len, &unmapped);
	if (r < 0)
		return fail("iommufd_ioas_unmap", r);
	if (unmapped != len) {
		fprintf(stderr, "unmapped %llu bytes, expected %zu\n", (unsigned long long)unmapped, len);
		return 1;
	}
	iommufd_ctx_unref(ctx);
	munmap(buf, len);
	printf("OK ioas %u iova 0x%llx\n", ioas, (unsigned long long)iova);
	return 0;
}
