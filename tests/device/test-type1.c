// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The type1 mode through the public API: a context on the VFIO container,
 * devices joining it through their groups, the IOAS rules the library keeps
 * on top of type1, edu DMA through library-chosen IOVAs, dirty tracking, and
 * what type1 cannot do. Runs on the emulator and, with IOMMUFD_TEST_REAL=1,
 * on the VM's kernel (CONFIG_VFIO_CONTAINER with the real type1 driver).
 *
 * The mode is forced with IOMMUFD_CTX_MODE_TYPE1, unless IOMMUFD_TEST_AUTO
 * is set: then the contexts are made without a mode, as a program written
 * for any kernel makes them, and the test runs where /dev/iommu is absent
 * (tests/vm/no-iommufd) and checks that the library fell back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "device-common.h"

#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000
#define PAGE 4096
#define XFER 2048
#define MSI_WINDOW 0xfee00000ull

static bool auto_mode(void)
{
	return getenv("IOMMUFD_TEST_AUTO") != NULL;
}

/* a context in type1 mode on the test's backend */
static struct iommufd_ctx *t1_ctx(void)
{
	IOMMUFD_OPTS(struct iommufd_ctx_opts, opts, .backend = test_backend_get(),
		     .flags = IOMMUFD_CTX_MODE_TYPE1);
	struct iommufd_ctx *ctx = NULL;

	if (test_real_kernel())
		opts.backend = NULL;
	if (auto_mode())
		opts.flags = 0;
	if (iommufd_ctx_new_opts(&opts, &ctx))
		fail_msg("iommufd_ctx_new_opts(type1): %s", iommufd_last_error());
	assert_int_equal(iommufd_ctx_get_mode(ctx), IOMMUFD_MODE_TYPE1);
	return ctx;
}

struct env {
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
	uint32_t ioas;
	uint8_t *mem;
};

static void setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	dev_scope();
	e->ctx = t1_ctx();
	check(iommufd_ioas_alloc(e->ctx, &e->ioas));
	e->mem = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(e->mem != MAP_FAILED);
}

static void open_edu(struct env *e)
{
	uint32_t cmd, hwpt = 0;

	if (iommufd_device_open_pci(e->ctx, EDU_BDF, &e->dev))
		fail_msg("open_pci: %s", iommufd_last_error());
	check(iommufd_device_bind(e->dev, e->ctx, NULL, NULL));
	check(iommufd_device_attach(e->dev, e->ioas, &hwpt));
	assert_int_equal(hwpt, 2);
	check(iommufd_device_config_read(e->dev, 0x04, 2, &cmd));
	check(iommufd_device_config_write(e->dev, 0x04, 2, cmd | 0x6));
}

static void teardown(struct env *e)
{
	iommufd_device_unref(e->dev);
	iommufd_ctx_unref(e->ctx);
	munmap(e->mem, 4 * PAGE);
	test_backend_put();
}

static void reg_write(struct iommufd_device *dev, uint64_t off, uint64_t v)
{
	assert_int_equal(iommufd_device_region_write(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, 8), 8);
}

static uint64_t reg_read(struct iommufd_device *dev, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(iommufd_device_region_read(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, 8), 8);
	return v;
}

static void edu_dma(struct iommufd_device *dev, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	struct timespec t0, t;

	reg_write(dev, EDU_SRC, src);
	reg_write(dev, EDU_DST, dst);
	reg_write(dev, EDU_CNT, cnt);
	reg_write(dev, EDU_CMD, cmd | EDU_CMD_RUN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (reg_read(dev, EDU_CMD) & EDU_CMD_RUN) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			fail_msg("edu DMA did not complete in 10 s");
		usleep(1000);
	}
}

static bool in_ranges(struct iommufd_ctx *ctx, uint32_t ioas, uint64_t iova)
{
	struct iommufd_iova_range *r = NULL;
	size_t n = 0;
	bool in = false;

	check(iommufd_ioas_iova_ranges(ctx, ioas, &r, &n, NULL));
	for (size_t i = 0; i < n; i++)
		if (iova >= r[i].start && iova <= r[i].last)
			in = true;
	free(r);
	return in;
}

/* the mode, how it was chosen, and the environment variable */
static void test_mode(void **state)
{
	IOMMUFD_OPTS(struct iommufd_mode_info, info);
	IOMMUFD_OPTS(struct iommufd_ctx_opts, opts, .backend = test_backend_get(),
		     .flags = IOMMUFD_CTX_MODE_TYPE1 | IOMMUFD_CTX_MODE_IOMMUFD);
	struct iommufd_ctx *ctx, *bad = NULL;

	(void)state;
	ctx = t1_ctx();
	check(iommufd_ctx_get_mode_info(ctx, &info));
	assert_int_equal(info.mode, IOMMUFD_MODE_TYPE1);
	assert_int_equal(!!(info.flags & IOMMUFD_MODE_INFO_FORCED), !auto_mode());
	assert_int_equal(info.flags & IOMMUFD_MODE_INFO_COMPAT, 0); /* the real type1 */
	assert_int_equal(info.flags & IOMMUFD_MODE_INFO_IOMMU_SET, 0);
	assert_int_equal(info.iommu_type, 0);
	assert_int_equal(info.flags & IOMMUFD_MODE_INFO_DIRTY, 0); /* unknown before a group joins */
	assert_non_null(strstr(info.why, "/dev/vfio/vfio"));
	if (auto_mode())
		assert_non_null(strstr(info.why, "/dev/iommu: ENOENT"));
	assert_string_equal(iommufd_mode_name(IOMMUFD_MODE_TYPE1), "type1");
	assert_string_equal(iommufd_mode_name(IOMMUFD_MODE_IOMMUFD), "iommufd");
	assert_null(iommufd_mode_name(0));
	assert_errno(iommufd_ctx_get_mode_info(ctx, NULL), EINVAL);
	assert_int_equal(iommufd_ctx_get_mode(NULL), 0);
	if (test_real_kernel())
		opts.backend = NULL;
	assert_errno(iommufd_ctx_new_opts(&opts, &bad), EINVAL);
	assert_null(bad);
	setenv("IOMMUFD_MODE", "bogus", 1);
	opts.flags = 0;
	assert_errno(iommufd_ctx_new_opts(&opts, &bad), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "IOMMUFD_MODE"));
	setenv("IOMMUFD_MODE", "type1", 1);
	check(iommufd_ctx_new_opts(&opts, &bad));
	assert_int_equal(iommufd_ctx_get_mode(bad), IOMMUFD_MODE_TYPE1);
	iommufd_ctx_unref(bad);
	unsetenv("IOMMUFD_MODE");
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/* what type1 has no equivalent for: EOPNOTSUPP, with a reason naming the mode */
static void test_unsupported(void **state)
{
	uint32_t id = 0, other = 0;
	uint64_t iova = 0;
	struct env e;

	(void)state;
	setup(&e);
	assert_errno(iommufd_ioas_alloc(e.ctx, &other), EOPNOTSUPP);
	assert_non_null(strstr(iommufd_last_error(), "type1"));
	assert_errno(iommufd_ioas_copy(e.ctx, e.ioas, &iova, e.ioas, 0, PAGE, 0), EOPNOTSUPP);
	assert_non_null(strstr(iommufd_last_error(), "type1"));
	assert_errno(iommufd_ioas_map_file(e.ctx, e.ioas, 0, 0, PAGE, &iova,
					   IOMMUFD_MAP_READ), EOPNOTSUPP);
	assert_errno(iommufd_ioas_allow_iovas(e.ctx, e.ioas, NULL, 0), EOPNOTSUPP);
	assert_errno(iommufd_hwpt_alloc(e.ctx, 3, e.ioas, NULL, &id), EOPNOTSUPP);
	assert_non_null(strstr(iommufd_last_error(), "type1"));
	/* nothing invalidated: none of the entries counted as done */
	{
		uint64_t entry[4] = { 0 };
		uint32_t n = 1;

		assert_errno(iommufd_hwpt_invalidate(e.ctx, 2, IOMMUFD_INVALIDATE_SELFTEST, entry,
						     sizeof(entry), &n), EOPNOTSUPP);
		assert_int_equal(n, 0);
		assert_non_null(strstr(iommufd_last_error(), "0 done"));
	}
	assert_int_equal(iommufd_ctx_supports(e.ctx, IOMMUFD_REQ_IOAS_MAP), 1);
	assert_int_equal(iommufd_ctx_supports(e.ctx, IOMMUFD_REQ_IOAS_UNMAP), 1);
	assert_int_equal(iommufd_ctx_supports(e.ctx, IOMMUFD_REQ_HWPT_ALLOC), 0);
	assert_int_equal(iommufd_ctx_supports(e.ctx, IOMMUFD_REQ_IOAS_MAP_FILE), 0);
	assert_int_equal(iommufd_ctx_supports_flags(e.ctx, IOMMUFD_REQ_IOAS_MAP,
						    IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ), 1);
	assert_int_equal(iommufd_ctx_supports_flags(e.ctx, IOMMUFD_REQ_IOAS_MAP, 1u << 20), 0);
	/* type1 always clears what it reports: the probe of NO_CLEAR says so */
	assert_int_equal(iommufd_ctx_supports_flags(e.ctx, IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP,
						    IOMMUFD_DIRTY_NO_CLEAR), 0);
	assert_int_equal(iommufd_ctx_supports_flags(e.ctx, IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP, 0), 1);
	/* a cdev path is not for a container context */
	assert_errno(iommufd_device_open(e.ctx, "/dev/vfio/devices/vfio0", &e.dev), EOPNOTSUPP);
	teardown(&e);
}

/* the IOAS rules kept above type1, before any device (nothing in the kernel yet) */
static void test_map_rules(void **state)
{
	uint64_t iova = 0x100000, a = 0, b = 0, unmapped = 0;
	struct env e;

	(void)state;
	setup(&e);
	assert_true(in_ranges(e.ctx, e.ioas, MSI_WINDOW)); /* no device: the whole space */
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 2 * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	assert_errno(iommufd_ioas_map(e.ctx, e.ioas, e.mem, PAGE, &iova,
				      IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ), EEXIST);
	assert_errno(iommufd_ioas_map(e.ctx, e.ioas, e.mem, PAGE, &iova, IOMMUFD_MAP_FIXED_IOVA), EINVAL);
	assert_errno(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 100, &iova,
				      IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ), EINVAL);
	assert_errno(iommufd_ioas_map(e.ctx, 99, e.mem, PAGE, &iova, IOMMUFD_MAP_READ), ENOENT);
	/* automatic IOVAs: never 0, aligned, not overlapping */
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem + 2 * PAGE, PAGE, &a, IOMMUFD_MAP_READ));
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem + 3 * PAGE, PAGE, &b, IOMMUFD_MAP_READ));
	assert_true(a != 0 && b != 0 && a != b);
	assert_int_equal(a % PAGE, 0);
	assert_true(a + PAGE <= 0x100000 || a >= 0x100000 + 2 * PAGE);
	/* IOAS_UNMAP's rules: whole mappings only, nothing mapped is ENOENT */
	assert_errno(iommufd_ioas_unmap(e.ctx, e.ioas, 0x100000, PAGE, &unmapped), ENOENT);
	assert_errno(iommufd_ioas_unmap(e.ctx, e.ioas, 0x900000, PAGE, &unmapped), ENOENT);
	assert_errno(iommufd_ioas_unmap(e.ctx, e.ioas, 0x100000, 0, &unmapped), EINVAL);
	check(iommufd_ioas_unmap(e.ctx, e.ioas, 0x100000, 2 * PAGE, &unmapped));
	assert_int_equal(unmapped, 2 * PAGE);
	check(iommufd_ioas_unmap_all(e.ctx, e.ioas, &unmapped));
	assert_int_equal(unmapped, 2 * PAGE);
	check(iommufd_ioas_unmap_all(e.ctx, e.ioas, &unmapped));
	assert_int_equal(unmapped, 0);
	/* the IOAS goes and comes back */
	check(iommufd_destroy(e.ctx, e.ioas));
	assert_errno(iommufd_ioas_map(e.ctx, e.ioas, e.mem, PAGE, &iova, IOMMUFD_MAP_READ), ENOENT);
	check(iommufd_ioas_alloc(e.ctx, &e.ioas));
	teardown(&e);
}

/* parked -> bound -> attached through the group; maps made before are replayed */
static void test_lifecycle_dma(void **state)
{
	IOMMUFD_OPTS(struct iommufd_mode_info, info);
	IOMMUFD_OPTS(struct iommufd_device_info, dinfo);
	uint8_t expect[PAGE];
	uint64_t iova = 0, unmapped = 0;
	uint32_t dev_id = 0, hwpt = 0;
	struct env e;

	(void)state;
	setup(&e);
	/* mapped before any device: a library-chosen IOVA */
	for (int i = 0; i < PAGE; i++)
		e.mem[i] = (uint8_t)(i * 13 + 1);
	memcpy(expect, e.mem, PAGE);
	memset(e.mem + PAGE, 0xaa, PAGE);
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 2 * PAGE, &iova,
			       IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	assert_true(iova != 0 && iova + 2 * PAGE <= (1ull << 28)); /* edu's DMA mask */

	check(iommufd_device_open_pci(e.ctx, EDU_BDF, &e.dev));
	assert_int_equal(iommufd_device_get_state(e.dev), IOMMUFD_DEVICE_PARKED);
	assert_errno(iommufd_device_get_info(e.dev, &dinfo), EINVAL); /* no file yet */
	assert_errno(iommufd_device_attach(e.dev, e.ioas, &hwpt), EINVAL);
	check(iommufd_device_bind(e.dev, e.ctx, NULL, &dev_id));
	assert_true(dev_id > 2);
	assert_int_equal(iommufd_device_get_state(e.dev), IOMMUFD_DEVICE_BOUND);
	assert_errno(iommufd_device_bind(e.dev, e.ctx, NULL, NULL), EINVAL);
	check(iommufd_device_get_info(e.dev, &dinfo));
	assert_true(dinfo.flags & IOMMUFD_DEVICE_INFO_PCI);
	check(iommufd_ctx_get_mode_info(e.ctx, &info));
	assert_true(info.flags & IOMMUFD_MODE_INFO_IOMMU_SET);
	assert_true(info.iommu_type == 3 || info.iommu_type == 1);
	assert_true(info.flags & IOMMUFD_MODE_INFO_DIRTY); /* type1 has the migration capability */
	/* the container now reports the reserved MSI window */
	assert_false(in_ranges(e.ctx, e.ioas, MSI_WINDOW));
	assert_errno(iommufd_device_attach(e.dev, 77, &hwpt), ENOENT);
	check(iommufd_device_attach(e.dev, e.ioas, &hwpt));
	assert_int_equal(hwpt, 2);
	assert_int_equal(iommufd_device_get_state(e.dev), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(iommufd_device_get_pt_id(e.dev), 2);
	assert_errno(iommufd_device_pasid_attach(e.dev, 1, e.ioas, &hwpt), EOPNOTSUPP);
	assert_errno(iommufd_device_detach(e.dev), EOPNOTSUPP);
	assert_non_null(strstr(iommufd_last_error(), "type1"));
	assert_errno(iommufd_destroy(e.ctx, e.ioas), EBUSY);

	{
		uint32_t cmd;

		check(iommufd_device_config_read(e.dev, 0x04, 2, &cmd));
		check(iommufd_device_config_write(e.dev, 0x04, 2, cmd | 0x6));
	}
	/* the DMA round trip through the IOVA the library chose arrives */
	edu_dma(e.dev, iova, EDU_BUF, XFER, 0);
	edu_dma(e.dev, EDU_BUF, iova + PAGE, XFER, EDU_CMD_TO_RAM);
	assert_memory_equal(e.mem + PAGE, expect, XFER);
	assert_int_equal(e.mem[PAGE + XFER], 0xaa);
	/* unmapped: it does not */
	check(iommufd_ioas_unmap(e.ctx, e.ioas, iova, 2 * PAGE, &unmapped));
	assert_int_equal(unmapped, 2 * PAGE);
	memset(e.mem + PAGE, 0x5a, PAGE);
	edu_dma(e.dev, EDU_BUF, iova + PAGE, XFER, EDU_CMD_TO_RAM);
	for (int i = 0; i < PAGE; i++)
		assert_int_equal(e.mem[PAGE + i], 0x5a);
	teardown(&e);
}

/* the last group leaving drops the kernel's mappings; the library replays them */
static void test_rejoin(void **state)
{
	IOMMUFD_OPTS(struct iommufd_mode_info, info);
	uint8_t expect[PAGE];
	uint64_t iova = 0x200000;
	struct env e;

	(void)state;
	setup(&e);
	for (int i = 0; i < PAGE; i++)
		e.mem[i] = (uint8_t)(i * 5 + 9);
	memcpy(expect, e.mem, PAGE);
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 2 * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	open_edu(&e);
	e.dev = iommufd_device_unref(e.dev);
	check(iommufd_ctx_get_mode_info(e.ctx, &info));
	assert_int_equal(info.flags & IOMMUFD_MODE_INFO_IOMMU_SET, 0);
	open_edu(&e);
	memset(e.mem + PAGE, 0, PAGE);
	edu_dma(e.dev, 0x200000, EDU_BUF, XFER, 0);
	edu_dma(e.dev, EDU_BUF, 0x200000 + PAGE, XFER, EDU_CMD_TO_RAM);
	assert_memory_equal(e.mem + PAGE, expect, XFER);
	teardown(&e);
}

/* two groups in one container; a group in use refuses a second container */
static void test_two_groups(void **state)
{
	struct iommufd_device *nvme = NULL, *again = NULL;
	struct iommufd_ctx *other;
	uint32_t hwpt = 0, ioas2 = 0;
	struct env e;
	int g1 = -1, g2 = -1;

	(void)state;
	setup(&e);
	check(iommufd_pci_get_iommu_group(e.ctx, EDU_BDF, &g1));
	check(iommufd_pci_get_iommu_group(e.ctx, NVME_BDF, &g2));
	assert_int_not_equal(g1, g2);
	open_edu(&e);
	check(iommufd_device_open_pci(e.ctx, NVME_BDF, &nvme));
	check(iommufd_device_bind(nvme, e.ctx, NULL, NULL));
	check(iommufd_device_attach(nvme, e.ioas, &hwpt));
	assert_int_equal(hwpt, 2);
	/* the same group from another container: its file is taken */
	other = t1_ctx();
	check(iommufd_ioas_alloc(other, &ioas2));
	check(iommufd_device_open_pci(other, EDU_BDF, &again));
	assert_errno(iommufd_device_bind(again, other, NULL, NULL), EBUSY);
	assert_non_null(strstr(iommufd_last_error(), "open elsewhere"));
	assert_int_equal(iommufd_device_get_state(again), IOMMUFD_DEVICE_PARKED);
	iommufd_device_unref(again);
	iommufd_ctx_unref(other);
	iommufd_device_unref(nvme);
	teardown(&e);
}

/* dirty tracking through VFIO_IOMMU_DIRTY_PAGES: every page the device wrote is reported */
static void test_dirty(void **state)
{
	uint64_t iova = 0x400000, bitmap[1];
	struct env e;

	(void)state;
	setup(&e);
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 4 * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	assert_errno(iommufd_hwpt_set_dirty_tracking(e.ctx, 2, true), ENOENT); /* no device: no HWPT */
	open_edu(&e);
	check(iommufd_hwpt_set_dirty_tracking(e.ctx, 2, true));
	bitmap[0] = 0;
	check(iommufd_hwpt_get_dirty_bitmap(e.ctx, 2, iova, 4 * PAGE, PAGE, bitmap, 0));
	edu_dma(e.dev, EDU_BUF, iova + 2 * PAGE, 64, EDU_CMD_TO_RAM);
	bitmap[0] = 0;
	check(iommufd_hwpt_get_dirty_bitmap(e.ctx, 2, iova, 4 * PAGE, PAGE, bitmap, 0));
	/* the written page is reported; type1 reports every page of a vfio-pci device's container */
	assert_true(bitmap[0] & (1u << 2));
	assert_int_equal(bitmap[0], 0xf);
	assert_errno(iommufd_hwpt_get_dirty_bitmap(e.ctx, 2, iova, 4 * PAGE, PAGE, bitmap,
						   IOMMUFD_DIRTY_NO_CLEAR), EOPNOTSUPP);
	check(iommufd_hwpt_set_dirty_tracking(e.ctx, 2, false));
	teardown(&e);
}

/*
 * The VF token goes with the device's name to VFIO_GROUP_GET_DEVICE_FD: edu
 * is neither a PF nor a VF, so vfio-pci refuses a token with EINVAL
 * (vfio_pci_core_match_token_uuid()); without one the device joins.
 */
static void test_token(void **state)
{
	static const uint8_t token[16] = { 1, 2, 3 };
	struct env e;

	(void)state;
	setup(&e);
	check(iommufd_device_open_pci(e.ctx, EDU_BDF, &e.dev));
	assert_errno(iommufd_device_bind(e.dev, e.ctx, token, NULL), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "VFIO_GROUP_GET_DEVICE_FD(0000:00:02.0)"));
	assert_int_equal(iommufd_device_get_state(e.dev), IOMMUFD_DEVICE_PARKED);
	check(iommufd_device_bind(e.dev, e.ctx, NULL, NULL));
	assert_int_equal(iommufd_device_get_state(e.dev), IOMMUFD_DEVICE_BOUND);
	teardown(&e);
}

/* the group API on a container context */
static void test_group_api(void **state)
{
	struct iommufd_group *grp = NULL;
	struct iommufd_device *dev = NULL;
	uint32_t flags = 0;
	struct env e;
	int g = -1;

	(void)state;
	setup(&e);
	check(iommufd_pci_get_iommu_group(e.ctx, EDU_BDF, &g));
	check(iommufd_group_open(e.ctx, g, &grp));
	check(iommufd_group_get_status(grp, &flags));
	assert_int_equal(flags, IOMMUFD_GROUP_VIABLE);
	assert_errno(iommufd_group_get_device(grp, EDU_BDF, &dev), EINVAL);
	check(iommufd_group_set_ctx(grp, e.ctx));
	check(iommufd_group_get_status(grp, &flags));
	assert_int_equal(flags, IOMMUFD_GROUP_VIABLE | IOMMUFD_GROUP_CTX_SET);
	check(iommufd_group_get_device(grp, EDU_BDF, &dev));
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(iommufd_device_get_pt_id(dev), 2);
	/* it came bound with its group: a bind says so, not that it is a cdev */
	assert_errno(iommufd_device_bind(dev, e.ctx, NULL, NULL), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "obtained through its VFIO group"));
	assert_errno(iommufd_group_unset_ctx(grp), EBUSY); /* the device file is open */
	iommufd_device_unref(dev);
	check(iommufd_group_unset_ctx(grp));
	iommufd_group_unref(grp);
	teardown(&e);
}

/* iommufd's container compatibility (CONFIG_IOMMUFD_VFIO_CONTAINER): detected and reported */
static void test_compat(void **state)
{
	IOMMUFD_OPTS(struct iommufd_mode_info, info);
	uint8_t expect[PAGE];
	struct env e;

	(void)state;
	/* the VM's kernel has the real type1 container: only the emulator models both */
	if (test_real_kernel() || auto_mode())
		skip();
	test_backend_get();
	assert_ok(iommufd_emu_set_config(test_emu(), IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT));
	setup(&e);
	check(iommufd_ctx_get_mode_info(e.ctx, &info));
	assert_int_equal(info.mode, IOMMUFD_MODE_TYPE1);
	assert_true(info.flags & IOMMUFD_MODE_INFO_COMPAT);
	/* the same calls work on it: a DMA round trip through a fixed IOVA */
	for (int i = 0; i < PAGE; i++)
		e.mem[i] = (uint8_t)(i * 3 + 7);
	memcpy(expect, e.mem, PAGE);
	{
		uint64_t iova = 0x300000;

		check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 2 * PAGE, &iova,
				       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	}
	open_edu(&e);
	check(iommufd_ctx_get_mode_info(e.ctx, &info));
	assert_true(info.flags & IOMMUFD_MODE_INFO_IOMMU_SET);
	assert_false(info.flags & IOMMUFD_MODE_INFO_DIRTY); /* iommufd's compat has no DIRTY_PAGES */
	memset(e.mem + PAGE, 0, PAGE);
	edu_dma(e.dev, 0x300000, EDU_BUF, XFER, 0);
	edu_dma(e.dev, EDU_BUF, 0x300000 + PAGE, XFER, EDU_CMD_TO_RAM);
	assert_memory_equal(e.mem + PAGE, expect, XFER);
	teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_map_rules),
		cmocka_unit_test(test_lifecycle_dma),
		cmocka_unit_test(test_rejoin),
		cmocka_unit_test(test_two_groups),
		cmocka_unit_test(test_dirty),
		cmocka_unit_test(test_group_api),
		cmocka_unit_test(test_compat),
		cmocka_unit_test(test_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
