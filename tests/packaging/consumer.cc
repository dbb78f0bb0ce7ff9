// SPDX-License-Identifier: LGPL-2.1-or-later
// The C++ twin of consumer.c, built against the INSTALLED library through
// `pkg-config libiommufd` alone (see install-test.sh): it names no backend.
#include <iommufd.h>

#include <cerrno>
#include <cstdio>

namespace {

struct Fail {
	const char *what;
	int r;
};

void check(const char *what, int r)
{
	if (r < 0)
		throw Fail{ what, r };
}

} // namespace

int main()
{
	struct iommufd_ctx *ctx = nullptr;
	alignas(4096) static unsigned char buf[4 * 4096];
	uint64_t iova = 0, unmapped = 0;
	uint32_t ioas = 0;

	try {
		check("iommufd_ctx_new", iommufd_ctx_new(&ctx));
		check("iommufd_ioas_alloc", iommufd_ioas_alloc(ctx, &ioas));
		check("iommufd_ioas_map", iommufd_ioas_map(ctx, ioas, buf, sizeof(buf), &iova,
							   IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
		check("iommufd_ioas_unmap_all", iommufd_ioas_unmap_all(ctx, ioas, &unmapped));
		{
			// the C++ form of IOMMUFD_OPTS: zeroed, sz set, fields afterwards
			IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, opts);
			if (opts.sz != sizeof(opts) || opts.flags || opts.data)
				throw Fail{ "IOMMUFD_OPTS", -EINVAL };
		}
	} catch (const Fail &f) {
		std::fprintf(stderr, "%s: %d (%s)\n", f.what, f.r, iommufd_last_error());
		return 1;
	}
	if (unmapped != sizeof(buf)) {
		std::fprintf(stderr, "unmapped %llu bytes\n", (unsigned long long)unmapped);
		return 1;
	}
	iommufd_ctx_unref(ctx);
	std::printf("OK ioas %u iova 0x%llx\n", ioas, (unsigned long long)iova);
	return 0;
}
