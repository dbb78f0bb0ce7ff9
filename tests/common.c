// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static struct iommufd_emu *cur_emu;

bool test_real_kernel(void)
{
	const char *e = getenv("IOMMUFD_TEST_REAL");
	return e && strcmp(e, "1") == 0;
}

struct iommufd_backend *test_backend_get(void)
{
	if (test_real_kernel())
		return iommufd_backend_kernel();
	if (!cur_emu)
		assert_int_equal(iommufd_emu_new(&cur_emu), 0);
	return iommufd_emu_get_backend(cur_emu);
}

void test_backend_put(void)
{
	cur_emu = iommufd_emu_unref(cur_emu);
}

struct iommufd_emu *test_emu(void)
{
	return cur_emu;
}

struct iommufd_ctx *test_ctx_new(void)
{
	struct iommufd_ctx *ctx = NULL;
	int r = iommufd_ctx_new(test_backend_get(), &ctx);
	if (r)
		fail_msg("iommufd_ctx_new: %s", iommufd_last_error());
	return ctx;
}
