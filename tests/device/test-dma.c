// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Through the library alone: bind edu, attach it to an IOAS, map a buffer,
 * and make the device DMA RAM -> device buffer -> RAM through the IOVA. After
 * unmap (or with a read-only mapping) the same DMA must not reach the buffer.
 * Runs on the emulator and, with IOMMUFD_TEST_REAL=1, on QEMU's edu in the VM,
 * in both modes: the type1 mode (IOMMUFD_MODE=type1, a VFIO container) has
 * one IOAS, its domain HWPT 2, and no blocked state (detach of an attached
 * device is refused), which the cases assert where they differ.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "device-common.h"

#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_ACK 0x64
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_CMD_IRQ 0x4
#define EDU_BUF 0x40000
#define IOVA 0x100000
#define PAGE 4096
/* QEMU's edu refuses (and aborts the VM on) a transfer that ends at the end of
 * its 4 KiB buffer: move at most 4095 bytes; 2 KiB keeps it simple */
#define XFER 2048

struct env {
	struct iommufd_ctx *scope;
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
	uint32_t ioas;
	uint8_t *mem; /* 2 pages: [0] source, [1] destination */
};

static void reg_write(struct iommufd_device *dev, uint64_t off, uint64_t v)
{
	assert_int_equal(iommufd_device_region_write(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, 8), 8);
}

static uint64_t reg_read(struct iommufd_device *dev, uint64_t off, size_t w)
{
	uint64_t v = 0;

	assert_int_equal(iommufd_device_region_read(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, w), (int)w);
	return v;
}

/* run one edu DMA and wait until the engine is idle again */
static void edu_dma(struct iommufd_device *dev, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	struct timespec t0, t;

	assert_int_equal(reg_read(dev, EDU_CMD, 8) & EDU_CMD_RUN, 0);
	reg_write(dev, EDU_SRC, src);
	reg_write(dev, EDU_DST, dst);
	reg_write(dev, EDU_CNT, cnt);
	reg_write(dev, EDU_CMD, cmd | EDU_CMD_RUN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (reg_read(dev, EDU_CMD, 8) & EDU_CMD_RUN) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			fail_msg("edu DMA did not complete in 10 s");
		usleep(1000);
	}
}

/* the test's context drives a VFIO container */
static bool type1(const struct env *e)
{
	return iommufd_ctx_get_mode(e->ctx) == IOMMUFD_MODE_TYPE1;
}

static void env_setup(struct env *e)
{
	uint32_t cmd, hwpt;

	memset(e, 0, sizeof(*e));
	e->scope = dev_scope();
	e->ctx = test_ctx_new();
	check(iommufd_ioas_alloc(e->ctx, &e->ioas));
	e->dev = dev_open(e->scope, EDU_BDF);
	check(iommufd_device_bind(e->dev, e->ctx, NULL, NULL));
	check(iommufd_device_attach(e->dev, e->ioas, &hwpt));
	assert_int_equal(iommufd_device_get_state(e->dev), IOMMUFD_DEVICE_ATTACHED);
	if (type1(e))
		assert_int_equal(hwpt, 2); /* the container's domain */
	/* memory space and bus master on: the device may DMA */
	check(iommufd_device_config_read(e->dev, 0x04, 2, &cmd));
	check(iommufd_device_config_write(e->dev, 0x04, 2, cmd | 0x6));
	e->mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(e->mem != MAP_FAILED);
}

static void env_teardown(struct env *e)
{
	iommufd_device_unref(e->dev);
	iommufd_ctx_unref(e->ctx);
	munmap(e->mem, 2 * PAGE);
	test_backend_put();
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static uint64_t faults(void)
{
	uint64_t n = 0;

	if (test_emu())
		check(iommufd_emu_device_get_dma_faults(test_emu(), EDU_BDF, &n, NULL));
	return n;
}

static void test_round_trip(void **state)
{
	uint8_t expect[PAGE], before[PAGE];
	uint64_t iova = IOVA, unmapped = 0, f0;
	struct env e;

	(void)state;
	env_setup(&e);
	fill(e.mem, PAGE, 3);
	memcpy(expect, e.mem, PAGE);
	memset(e.mem + PAGE, 0xaa, PAGE);
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 2 * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	assert_int_equal(iova, IOVA);

	/* RAM (IOVA) -> device buffer -> RAM (IOVA + 4 KiB) */
	edu_dma(e.dev, IOVA, EDU_BUF, XFER, 0);
	edu_dma(e.dev, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM);
	assert_memory_equal(e.mem + PAGE, expect, XFER);
	assert_int_equal(e.mem[PAGE + XFER], 0xaa); /* exactly XFER bytes */
	assert_memory_equal(e.mem, expect, PAGE); /* source untouched */

	/* a part of the buffer, at an offset */
	memset(e.mem + PAGE, 0x55, PAGE);
	edu_dma(e.dev, EDU_BUF + 16, IOVA + PAGE + 100, 200, EDU_CMD_TO_RAM);
	assert_memory_equal(e.mem + PAGE + 100, expect + 16, 200);
	assert_int_equal(e.mem[PAGE + 99], 0x55);
	assert_int_equal(e.mem[PAGE + 300], 0x55);

	/* unmapped: the same DMA does not reach the buffer */
	check(iommufd_ioas_unmap(e.ctx, e.ioas, IOVA, 2 * PAGE, &unmapped));
	assert_int_equal(unmapped, 2 * PAGE);
	memset(e.mem + PAGE, 0x5a, PAGE);
	memcpy(before, e.mem + PAGE, PAGE);
	f0 = faults();
	edu_dma(e.dev, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM);
	assert_memory_equal(e.mem + PAGE, before, PAGE);
	if (test_emu())
		assert_int_equal(faults(), f0 + 1);

	/* mapped again: it arrives again */
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 2 * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	edu_dma(e.dev, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM);
	assert_memory_equal(e.mem + PAGE, expect, XFER);
	env_teardown(&e);
}

/* a read-only mapping: the device may read it, not write it */
static void test_read_only(void **state)
{
	uint8_t expect[PAGE];
	uint64_t iova = IOVA, f0;
	struct env e;

	(void)state;
	env_setup(&e);
	fill(e.mem, PAGE, 9);
	memcpy(expect, e.mem, PAGE);
	memset(e.mem + PAGE, 0x11, PAGE);
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 2 * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ));
	edu_dma(e.dev, IOVA, EDU_BUF, XFER, 0); /* read: allowed */
	f0 = faults();
	edu_dma(e.dev, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM); /* write: refused */
	for (size_t i = 0; i < PAGE; i++)
		if (e.mem[PAGE + i] != 0x11)
			fail_msg("byte %zu of a read-only mapping was written by the device", i);
	if (test_emu())
		assert_int_equal(faults(), f0 + 1);
	/* the device buffer did get the data: DMA it out through a writable mapping */
	check(iommufd_ioas_unmap(e.ctx, e.ioas, IOVA, 2 * PAGE, NULL));
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 2 * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	edu_dma(e.dev, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM);
	assert_memory_equal(e.mem + PAGE, expect, XFER);
	env_teardown(&e);
}

/* detached (blocking domain) or replaced: DMA follows the current attachment */
static void test_detach_replace(void **state)
{
	uint8_t expect[PAGE];
	uint64_t iova = IOVA;
	uint32_t ioas2, hwpt;
	struct env e;

	(void)state;
	env_setup(&e);
	fill(e.mem, PAGE, 5);
	memcpy(expect, e.mem, PAGE);
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 2 * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	edu_dma(e.dev, IOVA, EDU_BUF, XFER, 0);
	if (type1(&e)) {
		/*
		 * A container has no blocked state nor a second IOAS: detach is
		 * refused and the device stays attached, DMA still arriving;
		 * attaching again (to the IOAS or to HWPT 2) changes nothing.
		 */
		assert_errno(iommufd_device_detach(e.dev), EOPNOTSUPP);
		assert_non_null(strstr(iommufd_last_error(), "type1"));
		assert_int_equal(iommufd_device_get_state(e.dev), IOMMUFD_DEVICE_ATTACHED);
		memset(e.mem + PAGE, 0x22, PAGE);
		edu_dma(e.dev, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM);
		assert_memory_equal(e.mem + PAGE, expect, XFER);
		assert_int_equal(e.mem[PAGE + XFER], 0x22);
		assert_errno(iommufd_ioas_alloc(e.ctx, &ioas2), EOPNOTSUPP);
		assert_non_null(strstr(iommufd_last_error(), "type1"));
		check(iommufd_device_attach(e.dev, 2, &hwpt));
		assert_int_equal(hwpt, 2);
		check(iommufd_device_attach(e.dev, e.ioas, &hwpt));
		assert_int_equal(hwpt, 2);
		assert_int_equal(iommufd_device_get_pt_id(e.dev), 2);
		memset(e.mem + PAGE, 0x33, PAGE);
		edu_dma(e.dev, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM);
		assert_memory_equal(e.mem + PAGE, expect, XFER);
		env_teardown(&e);
		return;
	}
	/* detached: blocked */
	check(iommufd_device_detach(e.dev));
	memset(e.mem + PAGE, 0x22, PAGE);
	edu_dma(e.dev, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM);
	assert_int_equal(e.mem[PAGE], 0x22);
	assert_int_equal(e.mem[2 * PAGE - 1], 0x22);
	/* attached to a second IOAS where IOVA maps the destination page only */
	check(iommufd_ioas_alloc(e.ctx, &ioas2));
	check(iommufd_device_attach(e.dev, e.ioas, &hwpt));
	iova = IOVA + 0x10000;
	check(iommufd_ioas_map(e.ctx, ioas2, e.mem + PAGE, PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	check(iommufd_device_attach(e.dev, ioas2, &hwpt)); /* replace */
	edu_dma(e.dev, EDU_BUF, IOVA + 0x10000, XFER, EDU_CMD_TO_RAM);
	assert_memory_equal(e.mem + PAGE, expect, XFER);
	env_teardown(&e);
}

/* MSI through an eventfd: the DMA-done interrupt arrives */
static void test_msi(void **state)
{
	uint64_t iova = IOVA, cnt = 0;
	struct pollfd pfd;
	struct env e;
	int efd;

	(void)state;
	env_setup(&e);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(efd >= 0);
	check(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI, 0, &efd, 1));
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, 2 * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	edu_dma(e.dev, IOVA, EDU_BUF, 64, EDU_CMD_IRQ);
	pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(efd, &cnt, sizeof(cnt)), 8);
	assert_true(cnt >= 1);
	assert_true(reg_read(e.dev, EDU_IRQ_STATUS, 4) & 0x100);
	reg_write(e.dev, EDU_IRQ_ACK, 0x100);
	/* more vectors than MSI has: the kernel refuses */
	{
		int two[2] = { efd, efd };

		assert_errno(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI, 0, two, 2), EINVAL);
	}
	check(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI));
	close(efd);
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_detach_replace),
		cmocka_unit_test(test_msi),
	};

	return cmocka_run_group_tests_name("device-dma", tests, NULL, NULL);
}
