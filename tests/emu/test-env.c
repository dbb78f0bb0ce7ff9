// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The environment as the preload library and the emulator read it
 * (lib/preload/env.c, nvme_parse_size of lib/emu/nvme.c): pure functions of
 * the strings. tests/fuzz/fuzz-preload-env.c fuzzes the same functions; the
 * cases here are the rules, and what the fuzzer found.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "iommufd-emu.h"
#include "emu/vfio.h"
#include "preload/env.h"

static void test_config(void **state)
{
	const char *s = "no-iommufd, bogus", *bad = NULL;
	size_t badlen = 0;
	uint32_t f = 7;

	(void)state;
	assert_int_equal(preload_parse_config(NULL, &f, NULL, NULL), 0);
	assert_int_equal(f, 0);
	assert_int_equal(preload_parse_config(" ,, ", &f, NULL, NULL), 0);
	assert_int_equal(f, 0);
	assert_int_equal(preload_parse_config("container-compat", &f, NULL, NULL), 0);
	assert_int_equal(f, IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT);
	assert_int_equal(preload_parse_config("no-iommufd,no-iommufd", &f, NULL, NULL), 0);
	assert_int_equal(f, IOMMUFD_EMU_CONFIG_NO_IOMMUFD);
	/* the unknown word, where it is; a prefix of a word is not the word */
	assert_int_equal(preload_parse_config(s, &f, &bad, &badlen), -EINVAL);
	assert_ptr_equal(bad, s + 12);
	assert_int_equal(badlen, 5);
	assert_int_equal(preload_parse_config("no-iommu", &f, NULL, NULL), -EINVAL);
}

struct seen {
	int n;
	struct preload_dev_spec d[4];
	char bdf[4][32];
	int fail_at; /* the callback's return at this call (1-based), 0: never */
};

static int collect(void *data, const struct preload_dev_spec *d)
{
	struct seen *s = data;

	if (s->n < 4) {
		s->d[s->n] = *d;
		if (d->bdf)
			snprintf(s->bdf[s->n], sizeof(s->bdf[0]), "%s", d->bdf);
	}
	s->n++;
	return s->n == s->fail_at ? -EEXIST : 0;
}

static int devices(const char *env, struct seen *s, char *why, size_t whylen)
{
	int fail_at = s->fail_at;

	memset(s, 0, sizeof(*s));
	s->fail_at = fail_at;
	return preload_parse_devices(env, collect, s, why, whylen);
}

static void test_devices(void **state)
{
	struct seen s = { 0 };
	char why[128];

	(void)state;
	assert_int_equal(devices(NULL, &s, why, sizeof(why)), 0);
	assert_int_equal(devices("", &s, why, sizeof(why)), 0);
	assert_int_equal(devices("edu@0000:00:02.0, nvme,generic#7@0000:00:05.0", &s, why,
				 sizeof(why)), 3);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.d[0].kind, IOMMUFD_EMU_DEVICE_EDU);
	assert_string_equal(s.bdf[0], "0000:00:02.0");
	assert_int_equal(s.d[0].group, 0);
	assert_int_equal(s.d[1].kind, IOMMUFD_EMU_DEVICE_NVME);
	assert_null(s.d[1].bdf);
	/* "#group" before "@bdf" is the same as after */
	assert_int_equal(s.d[2].kind, IOMMUFD_EMU_DEVICE_GENERIC);
	assert_int_equal(s.d[2].group, 7);
	assert_string_equal(s.bdf[2], "0000:00:05.0");
	assert_int_equal(devices("edu@0000:00:02.0#2147483647", &s, why, sizeof(why)), 1);
	assert_int_equal(s.d[0].group, INT_MAX);
	/* refused before any device is added: nothing called for it */
	assert_int_equal(devices("edu,vga", &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(s.n, 1);
	assert_non_null(strstr(why, "\"vga\""));
	/* a group is a decimal number that fits an int, nothing else (atoi took
	 * "#12ab" as 12, "#-1" as -1 and overflowed on 2147483648) */
	assert_int_equal(devices("edu#2147483648", &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "group"));
	assert_int_equal(devices("edu#12ab", &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(devices("edu#-1", &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(devices("edu#", &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(devices("edu@", &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "'@'"));
	assert_int_equal(devices("edu@a@b", &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(devices("edu#1#2", &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(s.n, 0);
	/* options after the kind, in any order, before "@bdf" and "#group" */
	assert_int_equal(devices("edu+migration@0000:00:02.0#3,edu+stop-copy-only+migration", &s, why,
				 sizeof(why)), 2);
	assert_int_equal(s.d[0].kind, IOMMUFD_EMU_DEVICE_EDU);
	assert_int_equal(s.d[0].flags, IOMMUFD_EMU_DEVICE_MIGRATION);
	assert_string_equal(s.bdf[0], "0000:00:02.0");
	assert_int_equal(s.d[0].group, 3);
	assert_int_equal(s.d[1].flags,
			 IOMMUFD_EMU_DEVICE_MIGRATION | IOMMUFD_EMU_DEVICE_MIGRATION_STOP_COPY_ONLY);
	assert_int_equal(devices("edu+noiommu@0000:00:02.0", &s, why, sizeof(why)), 1);
	assert_int_equal(s.d[0].flags, IOMMUFD_EMU_DEVICE_NOIOMMU);
	assert_int_equal(devices("nvme+sriov+no-namespace@0000:02:00.0", &s, why, sizeof(why)), 1);
	assert_int_equal(s.d[0].flags, IOMMUFD_EMU_DEVICE_SRIOV | IOMMUFD_EMU_DEVICE_NVME_NO_NAMESPACE);
	assert_int_equal(devices("nvme", &s, why, sizeof(why)), 1);
	assert_int_equal(s.d[0].flags, 0);
	assert_int_equal(devices("edu+pasid+dirty-tracking+nesting,nvme+no-namespace+msix-sparse", &s, why,
				 sizeof(why)), 2);
	assert_int_equal(s.d[0].flags, IOMMUFD_EMU_DEVICE_PASID | IOMMUFD_EMU_DEVICE_DIRTY_TRACKING |
					       IOMMUFD_EMU_DEVICE_NESTING);
	assert_int_equal(s.d[1].flags, IOMMUFD_EMU_DEVICE_NVME_NO_NAMESPACE | IOMMUFD_EMU_DEVICE_MSIX_SPARSE);
	assert_int_equal(devices("edu+bogus", &s, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "\"bogus\""));
	assert_int_equal(devices("edu+", &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(devices("+migration", &s, why, sizeof(why)), -EINVAL);
	assert_int_equal(s.n, 0);
	/* the callback's failure ends the parse, as is */
	s.fail_at = 2;
	assert_int_equal(devices("edu nvme generic", &s, why, sizeof(why)), -EEXIST);
	assert_int_equal(s.n, 2);
}

static void test_nvme_size(void **state)
{
	(void)state;
	assert_int_equal(nvme_parse_size(NULL), 0);
	assert_int_equal(nvme_parse_size(""), 0);
	assert_int_equal(nvme_parse_size("4096"), 4096);
	assert_int_equal(nvme_parse_size("0x100000"), 1u << 20);
	assert_int_equal(nvme_parse_size("64M"), 64u << 20);
	assert_int_equal(nvme_parse_size("1024G"), 1ull << 40);
	assert_int_equal(nvme_parse_size("1025G"), 0);   /* past 1 TiB */
	assert_int_equal(nvme_parse_size("513"), 0);     /* not a multiple of 512 */
	assert_int_equal(nvme_parse_size("64MB"), 0);
	assert_int_equal(nvme_parse_size("-512"), 0);
	/* found by fuzz-preload-env: 2^34 + 1 GiB wrapped to 1 GiB */
	assert_int_equal(nvme_parse_size("17179869185G"), 0);
	assert_int_equal(nvme_parse_size("18014398509481985K"), 0);
	assert_int_equal(nvme_parse_size("99999999999999999999999"), 0); /* ERANGE */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_nvme_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
