// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Dirty tracking of device DMA, emulator only: an edu added with
 * IOMMUFD_EMU_DEVICE_DIRTY_TRACKING sits behind an IOMMU with dirty tracking;
 * its DMA writes into RAM through a tracking HWPT mark exactly the written
 * IOVA pages, reads mark nothing. Without the flag (the default, as QEMU's
 * VT-d in the VM) the capability is absent and such a HWPT is refused.
 * Not run in the VM: its IOMMU has no dirty tracking.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device-common.h"

#define PLAIN_BDF "0000:00:04.0" /* an edu without the flag */
#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000
#define IOVA 0x100000
#define PAGE 4096
#define NPAGES 8
#define XFER 2048

struct env {
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;   /* edu with dirty tracking */
	struct iommufd_device *plain; /* edu without */
	uint32_t ioas, dev_id, plain_id, hwpt;
	uint8_t *mem; /* NPAGES pages mapped at IOVA */
};

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

/* one edu DMA; the emulated engine runs synchronously on the cmd write */
static void edu_dma(struct iommufd_device *dev, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	reg_write(dev, EDU_SRC, src);
	reg_write(dev, EDU_DST, dst);
	reg_write(dev, EDU_CNT, cnt);
	reg_write(dev, EDU_CMD, cmd | EDU_CMD_RUN);
	assert_int_equal(reg_read(dev, EDU_CMD) & EDU_CMD_RUN, 0);
}

/* device buffer -> RAM at iova */
static void dma_write(struct env *e, uint64_t iova, uint64_t cnt)
{
	edu_dma(e->dev, EDU_BUF, iova, cnt, EDU_CMD_TO_RAM);
}

/* RAM at iova -> device buffer */
static void dma_read(struct env *e, uint64_t iova, uint64_t cnt)
{
	edu_dma(e->dev, iova, EDU_BUF, cnt, 0);
}

/* the dirty bitmap of the NPAGES mapped pages */
static uint64_t dirty(struct env *e, uint32_t flags)
{
	uint64_t bm = 0;

	check(iommufd_hwpt_get_dirty_bitmap(e->ctx, e->hwpt, IOVA, NPAGES * PAGE, PAGE, &bm, flags));
	assert_int_equal(bm >> NPAGES, 0);
	return bm;
}

static struct iommufd_device *add_edu(const char *bdf, uint32_t flags)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o, .kind = IOMMUFD_EMU_DEVICE_EDU, .bdf = bdf,
		     .flags = flags);

	check(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0));
	return dev_open(test_scope(), bdf);
}

static void bus_master_on(struct iommufd_device *dev)
{
	uint32_t cmd = 0;

	check(iommufd_device_config_read(dev, 0x04, 2, &cmd));
	check(iommufd_device_config_write(dev, 0x04, 2, cmd | 0x6));
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (test_real_kernel()) {
		free(e);
		*state = NULL;
		return 0;
	}
	assert_non_null(e);
	test_backend_get();
	e->ctx = test_ctx_new();
	check(iommufd_ioas_alloc(e->ctx, &e->ioas));
	e->dev = add_edu(EDU_BDF, IOMMUFD_EMU_DEVICE_DIRTY_TRACKING);
	e->plain = add_edu(PLAIN_BDF, 0);
	check(iommufd_device_bind(e->dev, e->ctx, NULL, &e->dev_id));
	check(iommufd_device_bind(e->plain, e->ctx, NULL, &e->plain_id));
	bus_master_on(e->dev);
	e->mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(e->mem != MAP_FAILED);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (!e)
		return 0;
	iommufd_device_unref(e->dev);
	iommufd_device_unref(e->plain);
	iommufd_ctx_unref(e->ctx);
	munmap(e->mem, NPAGES * PAGE);
	test_backend_put();
	free(e);
	return 0;
}

#define ENV(state)                                                            \
	({                                                                    \
		if (!*(state))                                                \
			skip();                                               \
		(struct env *)*(state);                                       \
	})

/* a tracking HWPT on the IOAS with the device attached and NPAGES mapped */
static void attach_tracking(struct env *e)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_DIRTY_TRACKING);
	uint64_t iova = IOVA;
	uint32_t out = 0;

	check(iommufd_hwpt_alloc(e->ctx, e->dev_id, e->ioas, &o, &e->hwpt));
	check(iommufd_device_attach(e->dev, e->hwpt, &out));
	assert_int_equal(out, e->hwpt);
	check(iommufd_ioas_map(e->ctx, e->ioas, e->mem, NPAGES * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
}

static void test_hw_info(void **state)
{
	struct env *e = ENV(state);
	IOMMUFD_OPTS(struct iommufd_hw_info, hw);
	IOMMUFD_OPTS(struct iommufd_hw_info, hw_plain);

	check(iommufd_get_hw_info(e->ctx, e->dev_id, IOMMUFD_HW_INFO_NONE, &hw));
	assert_true(hw.capabilities & IOMMUFD_HW_CAP_DIRTY_TRACKING);
	check(iommufd_get_hw_info(e->ctx, e->plain_id, IOMMUFD_HW_INFO_NONE, &hw_plain));
	assert_false(hw_plain.capabilities & IOMMUFD_HW_CAP_DIRTY_TRACKING);
	/* the flag changes nothing else */
	assert_int_equal(hw.capabilities & ~IOMMUFD_HW_CAP_DIRTY_TRACKING, hw_plain.capabilities);
	assert_int_equal(hw.type, hw_plain.type);
	assert_int_equal(hw.max_pasid_log2, hw_plain.max_pasid_log2);
}

/* only the page the device wrote; reading clears unless NO_CLEAR */
static void test_write_marks_page(void **state)
{
	struct env *e = ENV(state);
	uint64_t pos = 0, start = 0, count = 0, bm;

	uint8_t pattern[XFER], other[PAGE];

	attach_tracking(e);
	check(iommufd_hwpt_set_dirty_tracking(e->ctx, e->hwpt, true));
	assert_int_equal(dirty(e, 0), 0);

	/* the device reads a pattern from page 0 and writes it into page 3 */
	for (size_t i = 0; i < XFER; i++)
		pattern[i] = (uint8_t)(i * 13 + 1);
	memset(e->mem, 0x33, NPAGES * PAGE);
	memcpy(e->mem, pattern, XFER);
	dma_read(e, IOVA, XFER);
	dma_write(e, IOVA + 3 * PAGE + 0x100, XFER);
	assert_memory_equal(e->mem + 3 * PAGE + 0x100, pattern, XFER);
	memset(other, 0x33, PAGE);
	assert_memory_equal(e->mem + 2 * PAGE, other, PAGE);
	assert_memory_equal(e->mem + 4 * PAGE, other, PAGE);
	bm = dirty(e, 0);
	assert_int_equal(bm, 1ull << 3);
	assert_int_equal(iommufd_bitmap_next_run(&bm, NPAGES, &pos, &start, &count), 1);
	assert_int_equal(start, 3);
	assert_int_equal(count, 1);
	assert_int_equal(iommufd_bitmap_next_run(&bm, NPAGES, &pos, &start, &count), 0);
	/* read and cleared */
	assert_int_equal(dirty(e, 0), 0);

	/* NO_CLEAR keeps the bits until a clearing read */
	dma_write(e, IOVA + 3 * PAGE, 64);
	assert_int_equal(dirty(e, IOMMUFD_DIRTY_NO_CLEAR), 1ull << 3);
	assert_int_equal(dirty(e, IOMMUFD_DIRTY_NO_CLEAR), 1ull << 3);
	assert_int_equal(dirty(e, 0), 1ull << 3);
	assert_int_equal(dirty(e, 0), 0);

	/* a write across a page boundary dirties both pages */
	dma_write(e, IOVA + 2 * PAGE - 0x80, 0x100);
	assert_int_equal(dirty(e, 0), (1ull << 1) | (1ull << 2));

	/* the bitmap is ORed into: bits already set stay, the dirty one is added */
	dma_write(e, IOVA + 6 * PAGE, 16);
	bm = 1ull << 0;
	check(iommufd_hwpt_get_dirty_bitmap(e->ctx, e->hwpt, IOVA, NPAGES * PAGE, PAGE, &bm, 0));
	assert_int_equal(bm, (1ull << 0) | (1ull << 6));

	/* a bitmap the kernel cannot write: the call succeeds and the bits are
	 * gone, as Linux 7.2 does (tests/emu/test-emu.c dirty_tracking shows it
	 * on the real kernel's mock domain) */
	dma_write(e, IOVA + 5 * PAGE, 16);
	check(iommufd_hwpt_get_dirty_bitmap(e->ctx, e->hwpt, IOVA, NPAGES * PAGE, PAGE,
					    (uint64_t *)(uintptr_t)8, 0));
	assert_int_equal(dirty(e, 0), 0);
	check(iommufd_hwpt_set_dirty_tracking(e->ctx, e->hwpt, false));
}

/* a device read of RAM (RAM -> device buffer) marks nothing */
static void test_read_marks_nothing(void **state)
{
	struct env *e = ENV(state);
	uint8_t buf[64];

	attach_tracking(e);
	check(iommufd_hwpt_set_dirty_tracking(e->ctx, e->hwpt, true));
	memset(e->mem + 5 * PAGE, 0x77, PAGE);
	dma_read(e, IOVA + 5 * PAGE, XFER);
	assert_int_equal(dirty(e, 0), 0);
	/* the read did happen: the device buffer has the bytes, written back elsewhere */
	dma_write(e, IOVA + 7 * PAGE, 64);
	memset(buf, 0x77, sizeof(buf));
	assert_memory_equal(e->mem + 7 * PAGE, buf, sizeof(buf));
	assert_int_equal(dirty(e, 0), 1ull << 7);
	check(iommufd_hwpt_set_dirty_tracking(e->ctx, e->hwpt, false));
}

/* tracking off: writes land but mark nothing; turning it on starts clean */
static void test_disabled_marks_nothing(void **state)
{
	struct env *e = ENV(state);

	attach_tracking(e);
	memset(e->mem, 0, NPAGES * PAGE);
	dma_write(e, IOVA + 3 * PAGE, XFER);
	assert_int_equal(dirty(e, 0), 0);
	check(iommufd_hwpt_set_dirty_tracking(e->ctx, e->hwpt, true));
	dma_write(e, IOVA + 4 * PAGE, XFER);
	check(iommufd_hwpt_set_dirty_tracking(e->ctx, e->hwpt, false));
	dma_write(e, IOVA + 5 * PAGE, XFER);
	/* only the write made while tracking was on */
	assert_int_equal(dirty(e, 0), 1ull << 4);
	/* enabling again forgets what was left */
	dma_write(e, IOVA + 4 * PAGE, XFER);
	check(iommufd_hwpt_set_dirty_tracking(e->ctx, e->hwpt, true));
	dma_write(e, IOVA + 1 * PAGE, 8);
	check(iommufd_hwpt_set_dirty_tracking(e->ctx, e->hwpt, false));
	assert_int_equal(dirty(e, IOMMUFD_DIRTY_NO_CLEAR), 1ull << 1);
}

/* a refused write (unmapped IOVA) marks nothing; the auto domain tracks nothing */
static void test_fault_and_auto_domain(void **state)
{
	struct env *e = ENV(state);
	uint64_t f0 = 0, f1 = 0, unmapped = 0, iova;
	uint32_t auto_hwpt = 0;

	attach_tracking(e);
	check(iommufd_hwpt_set_dirty_tracking(e->ctx, e->hwpt, true));
	check(iommufd_ioas_unmap(e->ctx, e->ioas, IOVA, NPAGES * PAGE, &unmapped));
	assert_int_equal(unmapped, NPAGES * PAGE);
	check(iommufd_emu_device_get_dma_faults(test_emu(), EDU_BDF, &f0, NULL));
	dma_write(e, IOVA + 2 * PAGE, 64);
	check(iommufd_emu_device_get_dma_faults(test_emu(), EDU_BDF, &f1, NULL));
	assert_int_equal(f1, f0 + 1);
	/* refused: nothing dirty (an unmapped range reads as clean, no error) */
	assert_int_equal(dirty(e, 0), 0);
	iova = IOVA;
	check(iommufd_ioas_map(e->ctx, e->ioas, e->mem, NPAGES * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	dma_write(e, IOVA + 2 * PAGE, 64);
	assert_int_equal(dirty(e, 0), 1ull << 2);

	/* attached to the IOAS (an automatic domain, never a tracking one): nothing marked */
	check(iommufd_device_attach(e->dev, e->ioas, &auto_hwpt));
	assert_int_not_equal(auto_hwpt, e->hwpt);
	dma_write(e, IOVA + 3 * PAGE, 64);
	assert_int_equal(dirty(e, 0), 0);
	/* back on the tracking HWPT: marked again */
	check(iommufd_device_attach(e->dev, e->hwpt, NULL));
	dma_write(e, IOVA + 3 * PAGE, 64);
	assert_int_equal(dirty(e, 0), 1ull << 3);
	check(iommufd_device_detach(e->dev));
}

/* without the flag: no tracking HWPT for it, nor an attach to one */
static void test_without_flag(void **state)
{
	struct env *e = ENV(state);
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_DIRTY_TRACKING);
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, bad, .kind = IOMMUFD_EMU_DEVICE_EDU,
		     .bdf = "0000:00:05.0", .flags = 1u << 30);
	uint32_t hwpt = 0, plain_hwpt = 0;

	assert_errno(iommufd_hwpt_alloc(e->ctx, e->plain_id, e->ioas, &o, &hwpt), EOPNOTSUPP);
	/* a plain HWPT is fine */
	check(iommufd_hwpt_alloc(e->ctx, e->plain_id, e->ioas, NULL, &plain_hwpt));
	/* a tracking HWPT made for the capable device: the plain one cannot attach */
	check(iommufd_hwpt_alloc(e->ctx, e->dev_id, e->ioas, &o, &hwpt));
	assert_errno(iommufd_device_attach(e->plain, hwpt, NULL), EINVAL);
	assert_int_equal(iommufd_device_get_state(e->plain), IOMMUFD_DEVICE_BOUND);
	check(iommufd_device_attach(e->plain, plain_hwpt, NULL));
	/* unknown device flags are refused */
	assert_errno(iommufd_emu_add_pci_device(test_emu(), &bad, NULL, 0), EINVAL);
	check(iommufd_device_detach(e->plain));
	check(iommufd_destroy(e->ctx, hwpt));
	check(iommufd_destroy(e->ctx, plain_hwpt));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hw_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_marks_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_marks_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_marks_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_and_auto_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_flag, setup, teardown),
	};

	return cmocka_run_group_tests_name("device-dirty", tests, NULL, NULL);
}
