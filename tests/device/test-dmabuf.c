// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dma-bufs of BARs (iommufd_bar_dmabuf_*): the NVMe's BAR0 exported, mapped
 * into the IOAS edu is attached to, and edu DMAing into it (peer-to-peer):
 * a read of the NVMe's version register, a write of its AQA register. Then
 * revocation: memory decoding of the NVMe off (the mapping loses its
 * translation: edu's DMA no longer reaches the NVMe), on again (the mapping
 * stays empty until it is mapped again), a reset, the close of the device
 * file; and the kernel's refusals. On the emulator and, with
 * IOMMUFD_TEST_REAL=1, on QEMU's edu and NVMe in the VM.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
#define IOVA 0x100000     /* RAM: 1 page */
#define P2P_IOVA 0x200000 /* the NVMe's BAR0 page 0 */
#define PAGE 4096
#define NVME_VS 0x08
#define NVME_AQA 0x24

struct env {
	struct iommufd_ctx *scope;
	struct iommufd_ctx *ctx;
	struct iommufd_device *edu, *nvme;
	uint32_t ioas;
	uint8_t *mem;
};

static void bar_write(struct iommufd_device *dev, uint64_t off, uint64_t v, size_t w)
{
	assert_int_equal(iommufd_device_region_write(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, w), (int)w);
}

static uint64_t bar_read(struct iommufd_device *dev, uint64_t off, size_t w)
{
	uint64_t v = 0;

	assert_int_equal(iommufd_device_region_read(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, w), (int)w);
	return v;
}

static void edu_dma(struct iommufd_device *dev, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	struct timespec t0, t;

	bar_write(dev, EDU_SRC, src, 8);
	bar_write(dev, EDU_DST, dst, 8);
	bar_write(dev, EDU_CNT, cnt, 8);
	bar_write(dev, EDU_CMD, cmd | EDU_CMD_RUN, 8);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (bar_read(dev, EDU_CMD, 8) & EDU_CMD_RUN) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			fail_msg("edu DMA did not complete in 10 s");
		usleep(1000);
	}
}

static void cmd_set(struct iommufd_device *dev, uint32_t set, uint32_t clear)
{
	uint32_t cmd;

	check(iommufd_device_config_read(dev, 0x04, 2, &cmd));
	check(iommufd_device_config_write(dev, 0x04, 2, (cmd | set) & ~clear));
}

static void env_setup(struct env *e)
{
	memset(e, 0, sizeof(*e));
	e->scope = dev_scope();
	e->ctx = test_ctx_new();
	check(iommufd_ioas_alloc(e->ctx, &e->ioas));
	e->edu = dev_open(e->scope, EDU_BDF);
	e->nvme = dev_open(e->scope, NVME_BDF);
	check(iommufd_device_bind(e->edu, e->ctx, NULL, NULL));
	check(iommufd_device_bind(e->nvme, e->ctx, NULL, NULL));
	check(iommufd_device_attach(e->edu, e->ioas, NULL));
	cmd_set(e->edu, 0x6, 0);  /* memory space and bus master */
	cmd_set(e->nvme, 0x2, 0); /* memory space */
	e->mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(e->mem != MAP_FAILED);
	uint64_t iova = IOVA;
	check(iommufd_ioas_map(e->ctx, e->ioas, e->mem, PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
}

static void env_teardown(struct env *e)
{
	iommufd_device_unref(e->edu);
	iommufd_device_unref(e->nvme);
	iommufd_ctx_unref(e->ctx);
	munmap(e->mem, PAGE);
	test_backend_put();
}

/* the type1 mode (a VFIO container) exports but has no dma-buf import: test_type1 */
#define SKIP_IN_TYPE1(e)                                                       \
	do {                                                                   \
		if (iommufd_ctx_get_mode((e)->ctx) == IOMMUFD_MODE_TYPE1) {    \
			env_teardown(e);                                       \
			skip();                                                \
		}                                                              \
	} while (0)

/* the NVMe's BAR0 page 0 as a dma-buf, mapped at P2P_IOVA */
static struct iommufd_bar_dmabuf *export_map(struct env *e)
{
	const struct iommufd_dmabuf_range r = { .offset = 0, .length = PAGE };
	struct iommufd_bar_dmabuf *db = NULL;
	uint64_t iova = P2P_IOVA;

	check(iommufd_bar_dmabuf_export(e->nvme, 0, &r, 1, 0, &db));
	assert_true(iommufd_bar_dmabuf_get_fd(db) >= 0);
	assert_int_equal(iommufd_bar_dmabuf_get_size(db), PAGE);
	check(iommufd_bar_dmabuf_map(db, e->ctx, e->ioas, &iova,
				     IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	assert_int_equal(iova, P2P_IOVA);
	return db;
}

/* edu reads 4 bytes at iova (peer-to-peer) into RAM: what it got; a read the
 * IOMMU refuses gives QEMU's edu zeros (unassigned memory reads as 0) */
static uint32_t p2p_read(struct env *e, uint64_t iova)
{
	uint32_t v;

	memset(e->mem, 0x5a, 16);
	/* the edu buffer first gets the pattern too, so a refused read leaves it */
	edu_dma(e->edu, IOVA, EDU_BUF, 16, 0);
	edu_dma(e->edu, iova, EDU_BUF, 4, 0);
	memset(e->mem, 0, 16);
	edu_dma(e->edu, EDU_BUF, IOVA, 16, EDU_CMD_TO_RAM);
	memcpy(&v, e->mem, 4);
	return v;
}

/* edu writes v (4 bytes) at iova (peer-to-peer) */
static void p2p_write(struct env *e, uint64_t iova, uint32_t v)
{
	memcpy(e->mem, &v, 4);
	edu_dma(e->edu, IOVA, EDU_BUF, 4, 0);
	edu_dma(e->edu, EDU_BUF, iova, 4, EDU_CMD_TO_RAM);
}

static enum iommufd_dmabuf_state state_of(struct iommufd_bar_dmabuf *db)
{
	enum iommufd_dmabuf_state s;

	check(iommufd_bar_dmabuf_get_state(db, &s));
	return s;
}

#define FAULTED 0u /* what a refused read brings */

/* ------------------------------------------------------------ export, map, peer-to-peer DMA */

static void test_p2p(void **state)
{
	struct iommufd_bar_dmabuf *db;
	uint32_t vs;
	struct env e;

	(void)state;
	env_setup(&e);
	SKIP_IN_TYPE1(&e);
	db = export_map(&e);
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_LIVE);
	vs = (uint32_t)bar_read(e.nvme, NVME_VS, 4);
	assert_int_not_equal(vs, 0);
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), vs);
	/* a write: the admin queue attributes (plain while the controller is off) */
	p2p_write(&e, P2P_IOVA + NVME_AQA, 0x001f001f);
	assert_int_equal(bar_read(e.nvme, NVME_AQA, 4), 0x001f001f);
	/* a second mapping of the same dma-buf, at a kernel-chosen IOVA */
	{
		uint64_t iova = 0;

		check(iommufd_bar_dmabuf_map(db, e.ctx, e.ioas, &iova, IOMMUFD_MAP_READ));
		assert_int_not_equal(iova, P2P_IOVA);
		check(iommufd_bar_dmabuf_unmap(db, e.ctx, e.ioas, iova));
		assert_errno(iommufd_bar_dmabuf_unmap(db, e.ctx, e.ioas, iova), ENOENT);
	}
	iommufd_bar_dmabuf_free(db);
	/* free unmapped it: the IOVA is free again */
	assert_errno(iommufd_ioas_unmap(e.ctx, e.ioas, P2P_IOVA, PAGE, NULL), ENOENT);
	env_teardown(&e);
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* an export freed gives its fd back (the emulator drops its record at the next export) */
static void test_export_many(void **state)
{
	const struct iommufd_dmabuf_range r = { .offset = 0, .length = PAGE };
	struct iommufd_bar_dmabuf *db;
	int before;
	struct env e;

	(void)state;
	env_setup(&e);
	before = count_fds();
	for (int i = 0; i < 200; i++) {
		check(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, &db));
		iommufd_bar_dmabuf_free(db);
	}
	assert_in_range(count_fds(), before, before + 1);
	env_teardown(&e);
}

/* ------------------------------------------------------------ revocation */

static void test_revoke_memory(void **state)
{
	struct iommufd_bar_dmabuf *db;
	uint64_t unmapped = 0;
	uint32_t vs, nr;
	struct env e;

	(void)state;
	env_setup(&e);
	SKIP_IN_TYPE1(&e);
	db = export_map(&e);
	vs = (uint32_t)bar_read(e.nvme, NVME_VS, 4);
	bar_write(e.nvme, NVME_AQA, 0x00010001, 4);
	/* memory decoding off: revoked, the mapping loses its translation */
	cmd_set(e.nvme, 0, 0x2);
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_REVOKED);
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), FAULTED);
	p2p_write(&e, P2P_IOVA + NVME_AQA, 0x00070007);
	/* a new mapping is refused while revoked, and remap changes nothing */
	{
		uint64_t iova = 0;

		assert_errno(iommufd_bar_dmabuf_map(db, e.ctx, e.ioas, &iova, IOMMUFD_MAP_READ), ENODEV);
		assert_errno(iommufd_bar_dmabuf_remap(db, 0, &nr), ENODEV);
		assert_int_equal(nr, 0);
	}
	/* on again: the dma-buf is usable, the old mapping still empty */
	cmd_set(e.nvme, 0x2, 0);
	assert_int_equal(bar_read(e.nvme, NVME_AQA, 4), 0x00010001); /* the write never landed */
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_STALE);
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), FAULTED);
	/* the area is still in the IOAS: mapping over it is refused */
	{
		uint64_t iova = P2P_IOVA;

		assert_errno(iommufd_ioas_map(e.ctx, e.ioas, e.mem, PAGE, &iova,
					      IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ), EEXIST);
	}
	/* remapped: DMA reaches the NVMe again */
	check(iommufd_bar_dmabuf_remap(db, 0, &nr));
	assert_int_equal(nr, 1);
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_LIVE);
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), vs);
	p2p_write(&e, P2P_IOVA + NVME_AQA, 0x00030003);
	assert_int_equal(bar_read(e.nvme, NVME_AQA, 4), 0x00030003);
	/* nothing stale: a remap does nothing, unless asked to redo all */
	check(iommufd_bar_dmabuf_remap(db, 0, &nr));
	assert_int_equal(nr, 0);
	check(iommufd_bar_dmabuf_remap(db, IOMMUFD_DMABUF_REMAP_ALL, &nr));
	assert_int_equal(nr, 1);
	/* a revoked area unmaps whole */
	cmd_set(e.nvme, 0, 0x2);
	check(iommufd_ioas_unmap(e.ctx, e.ioas, P2P_IOVA, PAGE, &unmapped));
	assert_int_equal(unmapped, PAGE);
	cmd_set(e.nvme, 0x2, 0);
	/* its area is gone from under the handle: a remap says so, an unmap
	 * forgets the record */
	assert_errno(iommufd_bar_dmabuf_remap(db, 0, &nr), ENOENT);
	assert_errno(iommufd_bar_dmabuf_unmap(db, e.ctx, e.ioas, P2P_IOVA), ENOENT);
	assert_non_null(strstr(iommufd_last_error(), "behind the handle"));
	assert_errno(iommufd_bar_dmabuf_unmap(db, e.ctx, e.ioas, P2P_IOVA), ENOENT);
	check(iommufd_bar_dmabuf_remap(db, 0, &nr));
	assert_int_equal(nr, 0);
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_LIVE);
	iommufd_bar_dmabuf_free(db);
	env_teardown(&e);
}

/* exported while memory decoding is off: revoked from the start */
static void test_export_revoked(void **state)
{
	const struct iommufd_dmabuf_range r = { .offset = 0, .length = PAGE };
	struct iommufd_bar_dmabuf *db = NULL;
	uint64_t iova = 0;
	uint32_t nr;
	struct env e;

	(void)state;
	env_setup(&e);
	SKIP_IN_TYPE1(&e);
	cmd_set(e.nvme, 0, 0x2);
	check(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, &db));
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_REVOKED);
	assert_errno(iommufd_bar_dmabuf_map(db, e.ctx, e.ioas, &iova, IOMMUFD_MAP_READ), ENODEV);
	cmd_set(e.nvme, 0x2, 0);
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_LIVE);
	iova = P2P_IOVA;
	check(iommufd_bar_dmabuf_map(db, e.ctx, e.ioas, &iova, IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ));
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), (uint32_t)bar_read(e.nvme, NVME_VS, 4));
	check(iommufd_bar_dmabuf_remap(db, 0, &nr));
	assert_int_equal(nr, 0);
	iommufd_bar_dmabuf_free(db);
	env_teardown(&e);
}

/* a reset of the exporter revokes; its mappings must be made again */
static void test_revoke_reset(void **state)
{
	struct iommufd_bar_dmabuf *db;
	uint32_t vs, nr;
	struct env e;

	(void)state;
	env_setup(&e);
	SKIP_IN_TYPE1(&e);
	db = export_map(&e);
	vs = (uint32_t)bar_read(e.nvme, NVME_VS, 4);
	check(iommufd_device_reset(e.nvme));
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_STALE);
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), FAULTED);
	check(iommufd_bar_dmabuf_remap(db, 0, &nr));
	assert_int_equal(nr, 1);
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), vs);
	iommufd_bar_dmabuf_free(db);
	env_teardown(&e);
}

/* low power revokes until it is left (vfio_pci_runtime_pm_entry/exit) */
static void test_revoke_low_power(void **state)
{
	struct iommufd_bar_dmabuf *db;
	uint64_t iova = 0;
	uint32_t vs, nr;
	struct env e;

	(void)state;
	env_setup(&e);
	SKIP_IN_TYPE1(&e);
	db = export_map(&e);
	vs = (uint32_t)bar_read(e.nvme, NVME_VS, 4);
	check(iommufd_device_low_power_enter(e.nvme, NULL));
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_REVOKED);
	assert_errno(iommufd_bar_dmabuf_map(db, e.ctx, e.ioas, &iova, IOMMUFD_MAP_READ), ENODEV);
	assert_errno(iommufd_bar_dmabuf_remap(db, 0, &nr), ENODEV);
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), FAULTED);
	check(iommufd_device_low_power_exit(e.nvme));
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_STALE);
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), FAULTED);
	check(iommufd_bar_dmabuf_remap(db, 0, &nr));
	assert_int_equal(nr, 1);
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), vs);
	iommufd_bar_dmabuf_free(db);
	env_teardown(&e);
}

/* the exporter's file closed: revoked for good (a raw dma-buf: the handle would keep the file open) */
static void test_revoke_close(void **state)
{
	struct {
		uint32_t region_index, open_flags, flags, nr_ranges;
		uint64_t offset, length;
	} req = { .region_index = 0, .open_flags = O_RDWR | O_CLOEXEC, .nr_ranges = 1, .length = PAGE };
	uint64_t iova = P2P_IOVA, unmapped = 0;
	uint32_t vs;
	struct env e;
	int fd;

	(void)state;
	env_setup(&e);
	SKIP_IN_TYPE1(&e);
	vs = (uint32_t)bar_read(e.nvme, NVME_VS, 4);
	fd = iommufd_device_feature(e.nvme, IOMMUFD_FEATURE_DMA_BUF, IOMMUFD_FEATURE_GET, &req, sizeof(req));
	if (fd < 0)
		fail_msg("DMA_BUF GET: %s", iommufd_last_error());
	check(iommufd_ioas_map_file(e.ctx, e.ioas, fd, 0, PAGE, &iova,
				    IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), vs);
	e.nvme = iommufd_device_unref(e.nvme);
	assert_int_equal(p2p_read(&e, P2P_IOVA + NVME_VS), FAULTED);
	/* the dma-buf outlives the device file, revoked: no new mapping */
	iova = 0;
	assert_errno(iommufd_ioas_map_file(e.ctx, e.ioas, fd, 0, PAGE, &iova, IOMMUFD_MAP_READ), ENODEV);
	check(iommufd_ioas_unmap(e.ctx, e.ioas, P2P_IOVA, PAGE, &unmapped));
	assert_int_equal(unmapped, PAGE);
	assert_ok(test_fd_close(fd));
	env_teardown(&e);
}

/* ------------------------------------------------------------ refusals */

static void test_refusals(void **state)
{
	struct iommufd_dmabuf_range r = { .offset = 0, .length = PAGE };
	struct iommufd_dmabuf_range two[2] = { { 0, PAGE }, { 2 * PAGE, PAGE } };
	IOMMUFD_OPTS(struct iommufd_region_info, info);
	struct iommufd_bar_dmabuf *db = NULL;
	struct iommufd_device *parked;
	uint64_t iova = 0;
	struct env e;

	(void)state;
	env_setup(&e);
	/* the library's own checks */
	assert_errno(iommufd_bar_dmabuf_export(NULL, 0, &r, 1, 0, &db), EINVAL);
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, NULL), EINVAL);
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 1, &db), EINVAL);
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 0, NULL, 1, 0, &db), EINVAL);
	assert_null(db);
	/* the kernel's: no range, a BAR the device lacks, the ROM, past the regions */
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 0, 0, &db), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "no range"));
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 1, &r, 1, 0, &db), ENODEV);
	assert_errno(iommufd_bar_dmabuf_export(e.edu, 5, &r, 1, 0, &db), ENODEV);
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, IOMMUFD_PCI_ROM_REGION, &r, 1, 0, &db), ENODEV);
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, IOMMUFD_PCI_CONFIG_REGION, &r, 1, 0, &db), ENODEV);
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 1000, &r, 1, 0, &db), ENODEV);
	/* ranges: empty, unaligned, past the BAR, overflowing */
	check(iommufd_device_get_region_info(e.nvme, 0, &info));
	r = (struct iommufd_dmabuf_range){ 0, 0 };
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, &db), EINVAL);
	r = (struct iommufd_dmabuf_range){ 100, PAGE };
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, &db), EINVAL);
	r = (struct iommufd_dmabuf_range){ 0, 100 };
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, &db), EINVAL);
	r = (struct iommufd_dmabuf_range){ info.size, PAGE };
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, &db), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "past the end of BAR 0"));
	r = (struct iommufd_dmabuf_range){ 0, info.size + PAGE };
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, &db), EINVAL);
	r = (struct iommufd_dmabuf_range){ 0ull - PAGE, PAGE };
	assert_errno(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, &db), EOVERFLOW);
	assert_null(db);
	/* the whole BAR is fine */
	r = (struct iommufd_dmabuf_range){ 0, info.size };
	check(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, &db));
	assert_int_equal(iommufd_bar_dmabuf_get_size(db), info.size);
	iommufd_bar_dmabuf_free(db);
	/* two ranges: exported, but iommufd maps only one */
	check(iommufd_bar_dmabuf_export(e.nvme, 0, two, 2, 0, &db));
	assert_int_equal(iommufd_bar_dmabuf_get_size(db), 2 * PAGE);
	assert_errno(iommufd_bar_dmabuf_map(db, e.ctx, e.ioas, &iova, IOMMUFD_MAP_READ), EOPNOTSUPP);
	assert_non_null(strstr(iommufd_last_error(),
			       iommufd_ctx_get_mode(e.ctx) == IOMMUFD_MODE_TYPE1 ? "type1" : "one range"));
	/* map's own checks */
	assert_errno(iommufd_bar_dmabuf_map(db, NULL, e.ioas, &iova, IOMMUFD_MAP_READ), EINVAL);
	assert_errno(iommufd_bar_dmabuf_map(db, e.ctx, e.ioas, NULL, IOMMUFD_MAP_READ), EINVAL);
	assert_errno(iommufd_bar_dmabuf_map(db, e.ctx, e.ioas, &iova, 1u << 8), EINVAL);
	assert_errno(iommufd_bar_dmabuf_remap(db, 2, NULL), EINVAL);
	assert_errno(iommufd_bar_dmabuf_get_state(db, NULL), EINVAL);
	assert_errno(iommufd_bar_dmabuf_get_state(NULL, NULL), EINVAL);
	assert_int_equal(iommufd_bar_dmabuf_get_fd(NULL), -EINVAL);
	assert_int_equal(iommufd_bar_dmabuf_get_size(NULL), 0);
	iommufd_bar_dmabuf_free(NULL);
	iommufd_bar_dmabuf_free(db);
	db = NULL;
	/* the kernel's flags: none defined */
	{
		struct {
			uint32_t region_index, open_flags, flags, nr_ranges;
			uint64_t offset, length;
		} req = { .flags = 1, .nr_ranges = 1, .length = PAGE };

		assert_errno(iommufd_device_feature(e.nvme, IOMMUFD_FEATURE_DMA_BUF, IOMMUFD_FEATURE_GET, &req,
						    sizeof(req)), EINVAL);
	}
	/* a device not bound */
	e.nvme = iommufd_device_unref(e.nvme);
	parked = dev_open(e.scope, NVME_BDF);
	r = (struct iommufd_dmabuf_range){ 0, PAGE };
	assert_errno(iommufd_bar_dmabuf_export(parked, 0, &r, 1, 0, &db), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "not bound"));
	iommufd_device_unref(parked);
	env_teardown(&e);
}

/* type1 mode: the export is the device file's and works, the map has no type1 equivalent */
static void test_type1(void **state)
{
	struct iommufd_dmabuf_range r = { .offset = 0, .length = PAGE };
	struct iommufd_bar_dmabuf *db = NULL;
	uint64_t iova = P2P_IOVA;
	struct env e;

	(void)state;
	env_setup(&e);
	if (iommufd_ctx_get_mode(e.ctx) != IOMMUFD_MODE_TYPE1) {
		env_teardown(&e);
		skip();
	}
	check(iommufd_bar_dmabuf_export(e.nvme, 0, &r, 1, 0, &db));
	assert_errno(iommufd_bar_dmabuf_map(db, e.ctx, e.ioas, &iova,
					    IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ), EOPNOTSUPP);
	assert_non_null(strstr(iommufd_last_error(), "type1"));
	assert_int_equal(state_of(db), IOMMUFD_DMABUF_LIVE);
	iommufd_bar_dmabuf_free(db);
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p2p),
		cmocka_unit_test(test_export_many),
		cmocka_unit_test(test_revoke_memory),
		cmocka_unit_test(test_export_revoked),
		cmocka_unit_test(test_revoke_reset),
		cmocka_unit_test(test_revoke_low_power),
		cmocka_unit_test(test_revoke_close),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_type1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
