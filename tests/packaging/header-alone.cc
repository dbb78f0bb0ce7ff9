// SPDX-License-Identifier: LGPL-2.1-or-later
// The public header on its own, as strict ISO C++11: its declarations get C
// linkage (extern "C"), so a C++ program links to the library.
#include <iommufd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main()
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, opts);
	struct iommufd_ctx *ctx = NULL;
	int r = iommufd_ctx_new_from_fd(-1, &ctx);

	if (opts.sz != sizeof(opts) || opts.flags || opts.data) {
		std::printf("IOMMUFD_OPTS: sz %zu flags 0x%x\n", opts.sz, (unsigned)opts.flags);
		return 1;
	}
	opts.flags = IOMMUFD_HWPT_DIRTY_TRACKING;
	// fd -1 is refused before any system call, with a reason
	if (r != -EBADF || ctx || !std::strstr(iommufd_last_error(), "iommufd_ctx_new_from_fd")) {
		std::printf("iommufd_ctx_new_from_fd(-1) = %d, last error \"%s\"\n", r,
			    iommufd_last_error());
		return 1;
	}
	std::printf("ok (opts.sz %zu)\n", opts.sz);
	return 0;
}
