/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The devices the device tests use, the same on both backends: the VM's edu
 * (0000:00:02.0, vfio0) and NVMe (0000:00:03.0, vfio1) on vfio-pci, and on
 * the emulator the same two devices created with the same addresses. (The
 * VM also has a two-function edu behind a root port, 0000:01:00.0 and .1,
 * which test-feature.c adds to the emulator for its hot reset cases.)
 */
#ifndef IOMMUFD_TEST_DEVICE_COMMON_H
#define IOMMUFD_TEST_DEVICE_COMMON_H

#include <stdio.h>

#include "common.h"

#define EDU_BDF "0000:00:02.0"
#define NVME_BDF "0000:00:03.0"

/* this test's scope context (test_scope()), on a backend with edu and NVMe present */
static inline struct iommufd_ctx *dev_scope(void)
{
	struct iommufd_ctx *scope;

	test_backend_get();
	if (!test_real_kernel()) {
		IOMMUFD_OPTS(struct iommufd_emu_device_opts, edu, .kind = IOMMUFD_EMU_DEVICE_EDU,
			     .bdf = EDU_BDF);
		IOMMUFD_OPTS(struct iommufd_emu_device_opts, nvme, .kind = IOMMUFD_EMU_DEVICE_NVME,
			     .bdf = NVME_BDF);
		char path[64];

		/* no cdev on a kernel without iommufd (tests/vm/no-iommufd) */
		bool cdevs = !(iommufd_emu_get_config(test_emu()) & IOMMUFD_EMU_CONFIG_NO_IOMMUFD);

		assert_ok(iommufd_emu_add_pci_device(test_emu(), &edu, path, sizeof(path)));
		assert_string_equal(path, cdevs ? "/dev/vfio/devices/vfio0" : "");
		assert_ok(iommufd_emu_add_pci_device(test_emu(), &nvme, path, sizeof(path)));
		assert_string_equal(path, cdevs ? "/dev/vfio/devices/vfio1" : "");
	}
	scope = test_scope();
	return scope;
}

/* open bdf's cdev; fails the test with the library's reason */
static inline struct iommufd_device *dev_open(struct iommufd_ctx *scope, const char *bdf)
{
	struct iommufd_device *dev = NULL;
	int r = iommufd_device_open_pci(scope, bdf, &dev);

	if (r)
		fail_msg("iommufd_device_open_pci(%s): %s", bdf, iommufd_last_error());
	return dev;
}

#define check(call)                                                                   \
	do {                                                                          \
		int r_ = (call);                                                      \
		if (r_)                                                               \
			fail_msg("%s = %d: %s", #call, r_, iommufd_last_error());     \
	} while (0)

#endif
