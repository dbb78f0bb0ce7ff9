/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A test program built against the INSTALLED emulator library through
 * `pkg-config libiommufd-emu` (see install-test.sh): an emulator, a context
 * on it, IOAS, map, unmap.
 */
#include <iommufd-emu.h>

#include <stdio.h>
#include <sys/mman.h>

static int fail(const char *what, int r)
{
	fprintf(stderr, "%s: %d (%s)\n", what, r, iommufd_last_error());
	return 1;
}

int main(void)
{
	struct iommufd_emu *emu = NULL;
	struct iommufd_ctx *ctx = NULL;
	uint64_t iova = 0, unmapped = 0;
	size_t len = 2 * 4096;
	uint32_t ioas;
	void *buf;
	int r;

	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	r = iommufd_emu_new(&emu);
	if (r < 0)
		return fail("iommufd_emu_new", r);
	r = iommufd_emu_ctx_new(emu, &ctx);
	if (r < 0)
		return fail("iommufd_emu_ctx_new", r);
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
	iommufd_emu_unref(emu);
	munmap(buf, len);
	printf("OK ioas %u iova 0x%llx\n", ioas, (unsigned long long)iova);
	return 0;
}
