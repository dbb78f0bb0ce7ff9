// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The project's one PCI address parser (lib/shared/bdf.h), on its own and
 * through both libraries: iommufd_device_open_pci() and
 * iommufd_pci_get_iommu_group() of libiommufd, iommufd_emu_add_pci_device()
 * of the emulator, which accept and refuse the same strings.
 */
#include <errno.h>
#include <string.h>

#include "common.h"
#include "shared/bdf.h"

/* refused: each with the part the reason names */
static const struct {
	const char *s, *why;
} bad[] = {
	{ "", "domain" },
	{ "0", "domain" },
	{ "000:00:02.0", "domain" },
	{ " 000:00:02.0", "domain" },
	{ " 0000:00:2.0", "domain" },
	{ "+000:00:02.0", "domain" },
	{ "00000:00:02.0", "domain" },
	{ "0000-00:02.0", "domain" },
	{ "0000:0:02.0", "bus" },
	{ "0000:+0:02.0", "bus" },
	{ "0000:0x:02.0", "bus" },
	{ "0000:000:02.0", "bus" },
	{ "0000:00:2.0", "device" },
	{ "0000:00: 2.0", "device" },
	{ "0000:00:-2.0", "device" },
	{ "0000:00:02:0", "device" },
	{ "0000:00:20.0", "device is above" },
	{ "0000:00:ff.0", "device is above" },
	{ "0000:00:02.", "function" },
	{ "0000:00:02.g", "function" },
	{ "0000:00:02.8", "function is above" },
	{ "0000:00:02.f", "function is above" },
	{ "0000:00:02.0 ", "follows" },
	{ "0000:00:02.0\n", "follows" },
	{ "0000:00:02.00", "follows" },
	{ "0000:00:02.0/../../x", "follows" },
	{ "../../../../etc", "domain" },
};

static void test_parse(void **state)
{
	struct ifd_bdf b;
	char out[IFD_BDF_LEN];
	const char *why;

	(void)state;
	assert_int_equal(ifd_bdf_parse("0000:00:02.0", &b, NULL), 0);
	assert_int_equal(b.domain, 0);
	assert_int_equal(b.bus, 0);
	assert_int_equal(b.dev, 2);
	assert_int_equal(b.fn, 0);
	assert_int_equal(ifd_bdf_parse("FFFF:fF:1f.7", &b, &why), 0);
	assert_int_equal(b.domain, 0xffff);
	assert_int_equal(b.bus, 0xff);
	assert_int_equal(b.dev, 0x1f);
	assert_int_equal(b.fn, 7);
	ifd_bdf_format(&b, out);
	assert_string_equal(out, "ffff:ff:1f.7");
	assert_int_equal(ifd_bdf_parse("abcd:Ef:0A.3", &b, NULL), 0);
	ifd_bdf_format(&b, out);
	assert_string_equal(out, "abcd:ef:0a.3");
	assert_int_equal(ifd_bdf_parse(NULL, &b, &why), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = (struct ifd_bdf){ 1, 2, 3, 4 };
		why = NULL;
		if (ifd_bdf_parse(bad[i].s, &b, &why) != -EINVAL)
			fail_msg("\"%s\" accepted", bad[i].s);
		assert_non_null(why);
		if (!strstr(why, bad[i].why))
			fail_msg("\"%s\": \"%s\" does not name the %s", bad[i].s, why, bad[i].why);
		/* untouched on failure */
		assert_int_equal(b.domain, 1);
		assert_int_equal(b.fn, 4);
	}
}

/* the libraries refuse what the parser refuses, with EINVAL and its reason */
static void test_libraries(void **state)
{
	struct iommufd_ctx *scope;
	struct iommufd_device *dev = NULL;
	int group;

	(void)state;
	test_backend_get();
	scope = test_scope();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(iommufd_device_open_pci(scope, bad[i].s, &dev), -EINVAL);
		assert_null(dev);
		assert_non_null(strstr(iommufd_last_error(), bad[i].why));
		assert_int_equal(iommufd_pci_get_iommu_group(scope, bad[i].s, &group), -EINVAL);
		assert_non_null(strstr(iommufd_last_error(), bad[i].why));
		if (!test_real_kernel()) {
			IOMMUFD_OPTS(struct iommufd_emu_device_opts, opts,
				     .kind = IOMMUFD_EMU_DEVICE_EDU, .bdf = bad[i].s);
			char path[64];

			assert_int_equal(iommufd_emu_add_pci_device(test_emu(), &opts, path, sizeof(path)),
					 -EINVAL);
			assert_non_null(strstr(iommufd_emu_last_error(), bad[i].why));
		}
	}
	if (!test_real_kernel()) {
		/* the emulator names the device in the kernel's spelling, so the
		 * library finds it by either */
		IOMMUFD_OPTS(struct iommufd_emu_device_opts, opts, .kind = IOMMUFD_EMU_DEVICE_EDU,
			     .bdf = "0000:00:0A.0");
		char path[64];

		assert_int_equal(iommufd_emu_add_pci_device(test_emu(), &opts, path, sizeof(path)), 0);
		assert_int_equal(iommufd_device_open_pci(scope, "0000:00:0A.0", &dev), 0);
		iommufd_device_unref(dev);
		assert_int_equal(iommufd_device_open_pci(scope, "0000:00:0a.0", &dev), 0);
		iommufd_device_unref(dev);
		assert_int_equal(iommufd_pci_get_iommu_group(scope, "0000:00:0A.0", &group), 0);
	}
	test_backend_put();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_libraries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
