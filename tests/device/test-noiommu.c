// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * No-IOMMU VFIO devices: edu in a group vfio-pci made with
 * vfio.enable_unsafe_noiommu_mode=1 (drivers/vfio/group.c
 * vfio_noiommu_group_alloc()). Only its group (/dev/vfio/noiommu-N) reaches
 * it (iommufd_device_open_pci() too: its bind opens the group); it is bound to nothing (no DEVICE ID, attach ENOTTY) and its DMA is not
 * translated (IOMMUFD_DEVICE_INFO_NOIOMMU); its config space and regions
 * work. On the emulator (edu with IOMMUFD_EMU_DEVICE_NOIOMMU) and, with
 * IOMMUFD_TEST_REAL=1, in the VM booted with "intel_iommu=off
 * vfio.enable_unsafe_noiommu_mode=1" (tests/vm/meson.build vm-noiommu): the
 * kernel's answers are in tests/vm/README.md ("No-IOMMU devices").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "device-common.h"
#include "shared/abi.h"
#include "shared/backend.h" /* raw ioctls on the emulator's fds */

#define EDU_VENDOR_DEVICE 0x11e81234u

/* ------------------------------------------------------------ raw calls on either backend */

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	if (!test_real_kernel())
		return be_ioctl(test_backend_get(), fd, req, arg);
	r = ioctl(fd, req, arg);
	return r < 0 ? -errno : r;
}

static int xioctl_v(int fd, unsigned long req, unsigned long v)
{
	return xioctl(fd, req, (void *)(uintptr_t)v);
}

/* this test's scope, on a backend with edu in a no-IOMMU group; *group its number */
static struct iommufd_ctx *noiommu_scope(int *group)
{
	struct iommufd_ctx *scope;

	test_backend_get();
	if (!test_real_kernel()) {
		IOMMUFD_OPTS(struct iommufd_emu_device_opts, edu, .kind = IOMMUFD_EMU_DEVICE_EDU,
			     .bdf = EDU_BDF, .flags = IOMMUFD_EMU_DEVICE_NOIOMMU);
		char path[64] = "x";

		assert_ok(iommufd_emu_add_pci_device(test_emu(), &edu, path, sizeof(path)));
		assert_string_equal(path, ""); /* no cdev */
	}
	scope = test_scope();
	check(iommufd_pci_get_iommu_group(scope, EDU_BDF, group));
	return scope;
}

static struct iommufd_ctx *ctx_new(uint32_t flags)
{
	IOMMUFD_OPTS(struct iommufd_ctx_opts, opts, .backend = test_backend_get(), .flags = flags);
	struct iommufd_ctx *ctx = NULL;

	if (test_real_kernel())
		opts.backend = NULL;
	if (iommufd_ctx_new_opts(&opts, &ctx))
		fail_msg("iommufd_ctx_new_opts(%#x): %s", flags, iommufd_last_error());
	return ctx;
}

static int teardown(void **state)
{
	(void)state;
	test_backend_put();
	return 0;
}

/* what the device file answers: info with the library's flag, config space */
static void check_device_file(struct iommufd_device *dev)
{
	IOMMUFD_OPTS(struct iommufd_device_info, info);
	IOMMUFD_OPTS(struct iommufd_region_info, ri);
	uint32_t v = 0;
	uint16_t cmd = 0;

	check(iommufd_device_get_info(dev, &info));
	assert_true(info.flags & IOMMUFD_DEVICE_INFO_NOIOMMU);
	assert_true(info.flags & IOMMUFD_DEVICE_INFO_PCI);
	assert_int_equal(info.num_regions, 9);
	assert_int_equal(info.num_irqs, 5);
	check(iommufd_device_get_region_info(dev, IOMMUFD_PCI_CONFIG_REGION, &ri));
	assert_true(ri.size >= 256);
	assert_int_equal(iommufd_device_region_read(dev, IOMMUFD_PCI_CONFIG_REGION, 0, &v, 4), 4);
	assert_int_equal(v, EDU_VENDOR_DEVICE);
	/* vfio-pci's enable at open: memory and I/O decoding, INTx disabled */
	assert_int_equal(iommufd_device_region_read(dev, IOMMUFD_PCI_CONFIG_REGION, 4, &cmd, 2), 2);
	assert_int_equal(cmd, 0x0103);
	check(iommufd_device_get_region_info(dev, IOMMUFD_PCI_BAR0_REGION, &ri));
	assert_int_equal(ri.size, 1u << 20);
	/* edu's identification register, through the BAR */
	assert_int_equal(iommufd_device_region_read(dev, IOMMUFD_PCI_BAR0_REGION, 0, &v, 4), 4);
	assert_int_equal(v & 0xffff, 0x00ed);
	/* nothing to attach: the kernel's ENOTTY, with the reason */
	assert_errno(iommufd_device_attach(dev, 1, NULL), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "no-IOMMU"));
	assert_int_equal(iommufd_device_get_dev_id(dev), 0);
	assert_int_equal(iommufd_device_get_pt_id(dev), 0);
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_BOUND);
	if (!test_real_kernel()) {
		/* the emulator has no physical memory for untranslated DMA: refused */
		uint64_t faults = 0;
		uint8_t buf[8];

		assert_errno(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, 0x1000, buf,
						    sizeof(buf), false),
			     EFAULT);
		assert_non_null(strstr(iommufd_last_error(), "not translated"));
		check(iommufd_emu_device_get_dma_faults(test_emu(), EDU_BDF, &faults, NULL));
		assert_int_equal(faults, 1);
	}
}

/* no cdev, no /dev/vfio/N: only /dev/vfio/noiommu-N */
static void test_paths(void **state)
{
	char path[64];
	int group = -1, fd;

	(void)state;
	noiommu_scope(&group);
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	assert_errno(test_open_node(path, O_RDWR), ENOENT);
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", group);
	fd = test_open_node(path, O_RDWR);
	assert_true(fd >= 0);
	test_fd_close(fd);
}

/*
 * iommufd_device_open_pci() in iommufd mode: the device parks without a
 * file; its bind goes through the group (the context turns no-IOMMU), bound
 * to nothing, DMA not translated
 */
static void test_open_pci(void **state)
{
	static const uint8_t token[16] = { 1, 2, 3 };
	struct iommufd_device *dev = NULL, *dev2 = NULL;
	struct iommufd_ctx *ctx, *ctx2;
	uint32_t dev_id = 99, ioas = 0;
	int group = -1, fd;

	(void)state;
	noiommu_scope(&group);
	ctx = ctx_new(IOMMUFD_CTX_MODE_IOMMUFD);
	check(iommufd_device_open_pci(ctx, EDU_BDF, &dev));
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_PARKED);
	/* a token to a device that is neither VF nor PF: the kernel's EINVAL */
	assert_errno(iommufd_device_bind(dev, ctx, token, NULL), EINVAL);
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_PARKED);
	check(iommufd_device_bind(dev, ctx, NULL, &dev_id));
	assert_int_equal(dev_id, 0);
	assert_true(iommufd_device_is_group_path(dev));
	check_device_file(dev);
	fd = iommufd_ctx_get_fd(ctx);
	assert_int_equal(xioctl_v(fd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1v2_IOMMU), 0);
	assert_int_equal(xioctl_v(fd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_NOIOMMU_IOMMU), 1);
	assert_errno(iommufd_device_bind(dev, ctx, NULL, NULL), EINVAL);
	/* the group is taken while the device is open: another open binds nowhere */
	check(iommufd_device_open_pci(ctx, EDU_BDF, &dev2));
	assert_errno(iommufd_device_bind(dev2, ctx, NULL, NULL), EBUSY);
	assert_int_equal(iommufd_device_get_state(dev2), IOMMUFD_DEVICE_PARKED);
	iommufd_device_unref(dev);
	check(iommufd_device_bind(dev2, ctx, NULL, NULL));
	iommufd_device_unref(dev2);
	iommufd_ctx_unref(ctx);
	/* a context that expects translation (a compat IOAS) refuses it */
	ctx2 = ctx_new(IOMMUFD_CTX_MODE_IOMMUFD);
	check(iommufd_ioas_alloc(ctx2, &ioas));
	check(iommufd_vfio_ioas_set(ctx2, ioas));
	check(iommufd_device_open_pci(ctx2, EDU_BDF, &dev));
	assert_errno(iommufd_device_bind(dev, ctx2, NULL, NULL), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "compat IOAS"));
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_PARKED);
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx2);
}

/* the group on an iommufd: the context turns no-IOMMU */
static void test_iommufd(void **state)
{
	struct iommufd_ctx *ctx;
	struct iommufd_group *grp = NULL;
	struct iommufd_device *dev = NULL;
	uint32_t flags = 0, ioas = 0;
	int group = -1, fd;

	(void)state;
	noiommu_scope(&group);
	ctx = ctx_new(IOMMUFD_CTX_MODE_IOMMUFD);
	fd = iommufd_ctx_get_fd(ctx);
	assert_int_equal(xioctl_v(fd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1v2_IOMMU), 1);
	assert_int_equal(xioctl_v(fd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_NOIOMMU_IOMMU), 1);
	check(iommufd_group_open(ctx, group, &grp));
	check(iommufd_group_get_status(grp, &flags));
	assert_int_equal(flags, IOMMUFD_GROUP_VIABLE);
	/* no context: no device */
	assert_errno(iommufd_group_get_device(grp, EDU_BDF, &dev), EINVAL);
	check(iommufd_group_set_ctx(grp, ctx));
	check(iommufd_group_get_status(grp, &flags));
	assert_int_equal(flags, IOMMUFD_GROUP_VIABLE | IOMMUFD_GROUP_CTX_SET);
	/* drivers/iommu/iommufd/vfio_compat.c: no-IOMMU mode */
	assert_int_equal(xioctl_v(fd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1_IOMMU), 0);
	assert_int_equal(xioctl_v(fd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1v2_IOMMU), 0);
	assert_int_equal(xioctl_v(fd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_NOIOMMU_IOMMU), 1);
	assert_errno(xioctl_v(fd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU), EINVAL);
	assert_ok(xioctl_v(fd, KABI_VFIO_SET_IOMMU, KABI_VFIO_NOIOMMU_IOMMU));
	assert_errno(iommufd_vfio_ioas_get(ctx, &ioas), ENODEV);
	check(iommufd_group_get_device(grp, EDU_BDF, &dev));
	assert_true(iommufd_device_is_group_path(dev));
	check_device_file(dev);
	/* the group path's file is bound already */
	assert_errno(iommufd_device_bind(dev, ctx, NULL, NULL), EINVAL);
	iommufd_device_unref(dev);
	iommufd_group_unref(grp);
	iommufd_ctx_unref(ctx);
}

/* a context that expects translation (a compat IOAS) refuses the group */
static void test_compat_ioas(void **state)
{
	struct iommufd_ctx *ctx;
	struct iommufd_group *grp = NULL;
	struct iommufd_device *dev = NULL;
	uint32_t ioas = 0, flags = 0;
	int group = -1;

	(void)state;
	noiommu_scope(&group);
	ctx = ctx_new(IOMMUFD_CTX_MODE_IOMMUFD);
	check(iommufd_ioas_alloc(ctx, &ioas));
	check(iommufd_vfio_ioas_set(ctx, ioas));
	check(iommufd_group_open(ctx, group, &grp));
	assert_errno(iommufd_group_set_ctx(grp, ctx), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "compat IOAS"));
	check(iommufd_group_get_status(grp, &flags));
	assert_int_equal(flags, IOMMUFD_GROUP_VIABLE);
	assert_errno(iommufd_group_get_device(grp, EDU_BDF, &dev), EINVAL);
	iommufd_group_unref(grp);
	iommufd_ctx_unref(ctx);
}

/* a type1 container in raw ioctls: it offers, then takes, VFIO_NOIOMMU_IOMMU only */
static void test_container_raw(void **state)
{
	char path[64];
	int group = -1, cfd, gfd, dfd;
	int32_t c;
	uint32_t st[2] = { 8, 0 };

	(void)state;
	noiommu_scope(&group);
	cfd = test_open_node("/dev/vfio/vfio", O_RDWR);
	assert_true(cfd >= 0);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1_IOMMU), 1);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1v2_IOMMU), 1);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_NOIOMMU_IOMMU), 1);
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", group);
	gfd = test_open_node(path, O_RDWR);
	assert_true(gfd >= 0);
	assert_ok(xioctl(gfd, KABI_VFIO_GROUP_GET_STATUS, st));
	assert_int_equal(st[1], KABI_VFIO_GROUP_FLAGS_VIABLE);
	c = cfd;
	assert_ok(xioctl(gfd, KABI_VFIO_GROUP_SET_CONTAINER, &c));
	assert_ok(xioctl(gfd, KABI_VFIO_GROUP_GET_STATUS, st));
	assert_int_equal(st[1], KABI_VFIO_GROUP_FLAGS_VIABLE | KABI_VFIO_GROUP_FLAGS_CONTAINER_SET);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1_IOMMU), 0);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1v2_IOMMU), 0);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_NOIOMMU_IOMMU), 1);
	/* no IOMMU driver yet: no device */
	assert_errno(xioctl(gfd, KABI_VFIO_GROUP_GET_DEVICE_FD, (void *)EDU_BDF), EINVAL);
	assert_errno(xioctl_v(cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU), ENODEV);
	assert_ok(xioctl_v(cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_NOIOMMU_IOMMU));
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_NOIOMMU_IOMMU), 1);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1v2_IOMMU), 0);
	dfd = xioctl(gfd, KABI_VFIO_GROUP_GET_DEVICE_FD, (void *)EDU_BDF);
	assert_true(dfd >= 0);
	{
		struct kabi_vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = cfd };
		struct kabi_vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at), .pt_id = 1 };

		assert_errno(xioctl(dfd, KABI_VFIO_DEVICE_BIND_IOMMUFD, &b), EINVAL);
		assert_errno(xioctl(dfd, KABI_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), ENOTTY);
	}
	test_fd_close(dfd);
	test_fd_close(gfd);
	test_fd_close(cfd);
}

/* the library's type1 mode: the container selects VFIO_NOIOMMU_IOMMU */
static void test_type1(void **state)
{
	IOMMUFD_OPTS(struct iommufd_mode_info, mi);
	struct iommufd_device *dev = NULL;
	struct iommufd_ctx *ctx;
	uint32_t dev_id = 99;
	int group = -1;

	(void)state;
	noiommu_scope(&group);
	ctx = ctx_new(IOMMUFD_CTX_MODE_TYPE1);
	assert_int_equal(iommufd_ctx_get_mode(ctx), IOMMUFD_MODE_TYPE1);
	check(iommufd_device_open_pci(ctx, EDU_BDF, &dev));
	check(iommufd_device_bind(dev, ctx, NULL, &dev_id));
	assert_int_equal(dev_id, 0);
	check(iommufd_ctx_get_mode_info(ctx, &mi));
	assert_true(mi.flags & IOMMUFD_MODE_INFO_IOMMU_SET);
	assert_int_equal(mi.iommu_type, KABI_VFIO_NOIOMMU_IOMMU);
	check_device_file(dev);
	iommufd_device_unref(dev);
	check(iommufd_ctx_get_mode_info(ctx, &mi));
	assert_false(mi.flags & IOMMUFD_MODE_INFO_IOMMU_SET);
	iommufd_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_paths, teardown),
		cmocka_unit_test_teardown(test_open_pci, teardown),
		cmocka_unit_test_teardown(test_iommufd, teardown),
		cmocka_unit_test_teardown(test_compat_ioas, teardown),
		cmocka_unit_test_teardown(test_container_raw, teardown),
		cmocka_unit_test_teardown(test_type1, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
