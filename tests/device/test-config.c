// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * PCI config space through the VFIO config region, as vfio-pci virtualises
 * it (drivers/vfio/pci/vfio_pci_config.c) on QEMU's edu and NVMe: the
 * capability list, BAR sizing, the command register and the header's
 * writable bytes, MSI, MSI-X, power management and PCI Express writes, and
 * memory decoding turned off (BAR reads and writes fail with EIO, a mapping
 * of the BAR faults with SIGBUS until it is back), and the IOMMU in front
 * of them (QEMU's VT-d: GET_HW_INFO's registers, no nest parent, no dirty
 * tracking), the same on the emulator and on vfio-pci in the VM.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device-common.h"

#define PAGE 4096
#define EDU_IDENT 0x010000edu

struct env {
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
};

static void env_setup(struct env *e, const char *bdf)
{
	struct iommufd_ctx *scope = dev_scope();

	e->ctx = test_ctx_new();
	e->dev = dev_open(scope, bdf);
	check(iommufd_device_bind(e->dev, e->ctx, NULL, NULL));
}

static void env_teardown(struct env *e)
{
	iommufd_device_unref(e->dev);
	iommufd_ctx_unref(e->ctx);
}

static uint32_t rd(struct env *e, uint32_t off, size_t w)
{
	uint32_t v = 0;

	check(iommufd_device_config_read(e->dev, off, w, &v));
	return v;
}

static void wr(struct env *e, uint32_t off, size_t w, uint32_t v)
{
	check(iommufd_device_config_write(e->dev, off, w, v));
}

/* the capability list: ids and offsets, in order */
static size_t caps(struct env *e, uint8_t *ids, uint8_t *at, size_t max)
{
	size_t n = 0;

	assert_true(rd(e, 0x06, 2) & 0x10); /* status: capability list */
	for (uint32_t p = rd(e, 0x34, 1); p && n < max; p = rd(e, p + 1, 1)) {
		ids[n] = (uint8_t)rd(e, p, 1);
		at[n++] = (uint8_t)p;
	}
	return n;
}

static void test_caps_edu(void **state)
{
	struct env e;
	uint8_t ids[8], at[8];

	(void)state;
	env_setup(&e, EDU_BDF);
	/* QEMU's edu: one MSI capability, 64-bit, one vector */
	assert_int_equal(caps(&e, ids, at, 8), 1);
	assert_int_equal(ids[0], 0x05);
	assert_int_equal(at[0], 0x40);
	assert_int_equal(rd(&e, 0x40, 4), 0x00800005);
	assert_int_equal(rd(&e, 0x00, 4), 0x11e81234);
	assert_int_equal(rd(&e, 0x08, 4), 0x00ff0010);
	assert_int_equal(rd(&e, 0x2c, 4), 0x11001af4);
	assert_int_equal(rd(&e, 0x3c, 2), 0x010b);
	/* opened by vfio-pci: I/O and memory decoding, SERR */
	assert_int_equal(rd(&e, 0x04, 2), 0x0103);
	env_teardown(&e);
}

static void test_caps_nvme(void **state)
{
	/* QEMU's NVMe on q35's root bus, as the VM's vfio-pci shows it */
	static const uint32_t exp_cap[] = { 0x00926010, 0x10008000, 0x00000000, 0x00000411,
					    0x00110000, 0x00000000, 0x00000000, 0x00000000,
					    0x00000000, 0x00300000, 0x00000000 };
	struct env e;
	uint8_t ids[8], at[8];

	(void)state;
	env_setup(&e, NVME_BDF);
	assert_int_equal(caps(&e, ids, at, 8), 3);
	assert_int_equal(ids[0], 0x11);
	assert_int_equal(at[0], 0x40);
	assert_int_equal(ids[1], 0x10);
	assert_int_equal(at[1], 0x80);
	assert_int_equal(ids[2], 0x01);
	assert_int_equal(at[2], 0x60);
	assert_int_equal(rd(&e, 0x40, 4), 0x00408011);
	assert_int_equal(rd(&e, 0x44, 4), 0x00002000);
	assert_int_equal(rd(&e, 0x48, 4), 0x00003000);
	assert_int_equal(rd(&e, 0x60, 4), 0x00030001);
	assert_int_equal(rd(&e, 0x64, 4), 0x00000008);
	for (uint32_t i = 0; i < sizeof(exp_cap) / sizeof(exp_cap[0]); i++)
		assert_int_equal(rd(&e, 0x80 + 4 * i, 4), exp_cap[i]);
	assert_int_equal(rd(&e, 0x08, 4), 0x01080202);
	env_teardown(&e);
}

/* write all ones to a BAR, read the size mask with its flags, restore */
static uint32_t bar_size(struct env *e, uint32_t off)
{
	uint32_t v = rd(e, off, 4), s;

	wr(e, off, 4, 0xffffffff);
	s = rd(e, off, 4);
	wr(e, off, 4, v);
	assert_int_equal(rd(e, off, 4), v);
	return s;
}

static void test_bar_sizing(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e, EDU_BDF);
	assert_int_equal(rd(&e, 0x10, 4), 0xfea00000);
	assert_int_equal(bar_size(&e, 0x10), 0xfff00000); /* 1 MiB, 32-bit memory */
	for (uint32_t off = 0x14; off < 0x28; off += 4)
		assert_int_equal(bar_size(&e, off), 0); /* no BAR there */
	assert_int_equal(bar_size(&e, 0x30), 0);        /* no ROM */
	/* what sticks: the bits the size lets through */
	wr(&e, 0x10, 4, 0x12345678);
	assert_int_equal(rd(&e, 0x10, 4), 0x12300000);
	wr(&e, 0x12, 2, 0xffff);
	assert_int_equal(rd(&e, 0x10, 4), 0xfff00000);
	wr(&e, 0x10, 4, 0xfea00000);
	env_teardown(&e);
	test_backend_put();

	env_setup(&e, NVME_BDF);
	assert_int_equal(rd(&e, 0x10, 4), 0xfeb10004);
	assert_int_equal(bar_size(&e, 0x10), 0xffffc004); /* 16 KiB, 64-bit memory */
	assert_int_equal(bar_size(&e, 0x14), 0xffffffff); /* its upper half */
	for (uint32_t off = 0x18; off < 0x28; off += 4)
		assert_int_equal(bar_size(&e, off), 0);
	assert_int_equal(bar_size(&e, 0x30), 0);
	wr(&e, 0x10, 4, 0x12345678);
	assert_int_equal(rd(&e, 0x10, 4), 0x12344004);
	wr(&e, 0x10, 4, 0xfeb10004);
	env_teardown(&e);
}

static void header_writes(const char *bdf, uint32_t id)
{
	struct env e;

	env_setup(&e, bdf);
	/* command: I/O, memory, bus master, SERR, INTx disable stick */
	wr(&e, 0x04, 2, 0xffff);
	assert_int_equal(rd(&e, 0x04, 2), 0x0507);
	wr(&e, 0x04, 2, 0x0000);
	assert_int_equal(rd(&e, 0x04, 2), 0x0000);
	wr(&e, 0x04, 2, 0x0006);
	assert_int_equal(rd(&e, 0x04, 2), 0x0006);
	/* status (write-1-to-clear, nothing set), IDs, subsystem, pointer: read only */
	wr(&e, 0x06, 2, 0xffff);
	assert_int_equal(rd(&e, 0x06, 2), 0x0010);
	wr(&e, 0x00, 4, 0);
	assert_int_equal(rd(&e, 0x00, 4), id);
	wr(&e, 0x2c, 4, 0);
	assert_int_equal(rd(&e, 0x2c, 4), 0x11001af4);
	wr(&e, 0x34, 1, 0);
	assert_int_equal(rd(&e, 0x34, 1), 0x40);
	/* cache line size and interrupt line stick; latency timer and pin do not */
	wr(&e, 0x0c, 1, 0xff);
	assert_int_equal(rd(&e, 0x0c, 1), 0xff);
	wr(&e, 0x0d, 1, 0xff);
	assert_int_equal(rd(&e, 0x0d, 1), 0);
	wr(&e, 0x3c, 1, 0x55);
	assert_int_equal(rd(&e, 0x3c, 1), 0x55);
	wr(&e, 0x3d, 1, 0x55);
	assert_int_equal(rd(&e, 0x3d, 1), 1);
	/* outside every capability: passed to the device, which keeps it */
	wr(&e, 0xf0, 4, 0x12345678);
	assert_int_equal(rd(&e, 0xf0, 4), 0x12345678);
	wr(&e, 0xf0, 4, 0);
	env_teardown(&e);
}

static void test_header_writes(void **state)
{
	(void)state;
	header_writes(EDU_BDF, 0x11e81234);
	test_backend_put();
	header_writes(NVME_BDF, 0x00101b36);
}

static void test_msi_writes(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e, EDU_BDF);
	/* the flags' low byte is virtual: enable and an impossible queue
	 * size are taken back, the 64-bit bit goes with the rest */
	wr(&e, 0x42, 2, 0xffff);
	assert_int_equal(rd(&e, 0x42, 2), 0x008e);
	wr(&e, 0x42, 2, 0x0000);
	assert_int_equal(rd(&e, 0x42, 2), 0x0000);
	wr(&e, 0x42, 2, 0x0080);
	assert_int_equal(rd(&e, 0x42, 2), 0x0080);
	/* address and data: anything sticks */
	wr(&e, 0x44, 4, 0xffffffff);
	assert_int_equal(rd(&e, 0x44, 4), 0xffffffff);
	wr(&e, 0x48, 4, 0xffffffff);
	assert_int_equal(rd(&e, 0x48, 4), 0xffffffff);
	wr(&e, 0x4c, 2, 0xffff);
	assert_int_equal(rd(&e, 0x4c, 2), 0xffff);
	/* id and next: read only */
	wr(&e, 0x40, 2, 0);
	assert_int_equal(rd(&e, 0x40, 2), 0x0005);
	env_teardown(&e);
}

static void test_nvme_cap_writes(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e, NVME_BDF);
	/* MSI-X: vfio-pci gives it no write permission */
	wr(&e, 0x42, 2, 0xffff);
	assert_int_equal(rd(&e, 0x42, 2), 0x0040);
	wr(&e, 0x44, 4, 0);
	assert_int_equal(rd(&e, 0x44, 4), 0x2000);
	wr(&e, 0x48, 4, 0);
	assert_int_equal(rd(&e, 0x48, 4), 0x3000);
	/* power management: the state bits */
	wr(&e, 0x64, 2, 0x0003);
	assert_int_equal(rd(&e, 0x64, 2), 0x000b);
	wr(&e, 0x64, 2, 0x0000);
	assert_int_equal(rd(&e, 0x64, 2), 0x0008);
	/* PCI Express device control: payload and read request sizes */
	wr(&e, 0x88, 2, 0x70e0);
	assert_int_equal(rd(&e, 0x88, 2), 0x70e0);
	wr(&e, 0x88, 2, 0x0000);
	assert_int_equal(rd(&e, 0x88, 2), 0x0000);
	wr(&e, 0x90, 2, 0xffff);
	assert_int_equal(rd(&e, 0x90, 2), 0x0000); /* link control */
	env_teardown(&e);
}

static sigjmp_buf jb;

static void on_fault(int sig)
{
	siglongjmp(jb, sig);
}

/* a load from p: 0 and *v, or the signal it raised */
static int try_load(volatile uint32_t *p, uint32_t *v)
{
	int sig = sigsetjmp(jb, 1);

	if (!sig)
		*v = *p;
	return sig;
}

static int try_store(volatile uint32_t *p, uint32_t v)
{
	int sig = sigsetjmp(jb, 1);

	if (!sig)
		*p = v;
	return sig;
}

static void test_mem_off(void **state)
{
	struct sigaction sa = { .sa_handler = on_fault }, old_bus, old_segv;
	struct env e;
	volatile uint32_t *bar, *bar2;
	void *p;
	uint32_t v = 0;

	(void)state;
	env_setup(&e, EDU_BDF);
	check(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, PAGE,
					 PROT_READ | PROT_WRITE, &p));
	bar = p;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGBUS, &sa, &old_bus), 0);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old_segv), 0);
	assert_int_equal(try_load(bar, &v), 0);
	assert_int_equal(v, EDU_IDENT);
	/* liveness: reads back the complement, kept while decoding is off */
	v = 0x5a5a5a5a;
	assert_int_equal(iommufd_device_region_write(e.dev, IOMMUFD_PCI_BAR0_REGION, 4, &v, 4), 4);

	wr(&e, 0x04, 2, 0x0004); /* memory space off, bus master on */
	assert_int_equal(rd(&e, 0x04, 2), 0x0004);
	assert_int_equal(iommufd_device_region_read(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, &v, 4), -EIO);
	assert_int_equal(iommufd_device_region_write(e.dev, IOMMUFD_PCI_BAR0_REGION, 4, &v, 4),
			 -EIO);
	assert_int_equal(try_load(bar, &v), SIGBUS);
	assert_int_equal(try_store(bar + 1, 5), SIGBUS);
	/* a mapping made meanwhile succeeds and faults too */
	check(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, PAGE, PROT_READ, &p));
	bar2 = p;
	assert_int_equal(try_load(bar2, &v), SIGBUS);
	/* a one-byte write of the command register decides as well */
	wr(&e, 0x04, 1, 0x06);
	assert_int_equal(try_load(bar, &v), 0);
	assert_int_equal(v, EDU_IDENT);
	assert_int_equal(try_load(bar2 + 1, &v), 0);
	assert_int_equal(v, ~0x5a5a5a5au);
	assert_int_equal(iommufd_device_region_read(e.dev, IOMMUFD_PCI_BAR0_REGION, 4, &v, 4), 4);
	assert_int_equal(v, ~0x5a5a5a5au);
	wr(&e, 0x04, 1, 0x04);
	assert_int_equal(iommufd_device_region_read(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, &v, 4), -EIO);
	assert_int_equal(try_load(bar2, &v), SIGBUS);
	wr(&e, 0x04, 2, 0x0006);
	assert_int_equal(try_load(bar2, &v), 0);
	assert_int_equal(v, EDU_IDENT);

	assert_int_equal(sigaction(SIGBUS, &old_bus, NULL), 0);
	assert_int_equal(sigaction(SIGSEGV, &old_segv, NULL), 0);
	check(iommufd_device_region_munmap(e.dev, (void *)bar2, PAGE));
	check(iommufd_device_region_munmap(e.dev, (void *)bar, PAGE));
	env_teardown(&e);
}

/* the NVMe with decoding off and on again: its registers are intact */
static void test_mem_off_nvme(void **state)
{
	struct env e;
	uint32_t vs = 0, v = 0;

	(void)state;
	env_setup(&e, NVME_BDF);
	assert_int_equal(iommufd_device_region_read(e.dev, IOMMUFD_PCI_BAR0_REGION, 8, &vs, 4), 4);
	wr(&e, 0x04, 2, 0x0000);
	assert_int_equal(iommufd_device_region_read(e.dev, IOMMUFD_PCI_BAR0_REGION, 8, &v, 4), -EIO);
	wr(&e, 0x04, 2, 0x0002);
	assert_int_equal(iommufd_device_region_read(e.dev, IOMMUFD_PCI_BAR0_REGION, 8, &v, 4), 4);
	assert_int_equal(v, vs);
	env_teardown(&e);
}

/* closed with decoding off: the next open finds the device decoding again */
static void test_mem_off_close(void **state)
{
	struct env e;
	uint32_t v = 0;

	(void)state;
	env_setup(&e, EDU_BDF);
	wr(&e, 0x04, 2, 0x0000);
	env_teardown(&e);
	test_backend_put();
	env_setup(&e, EDU_BDF);
	assert_int_equal(rd(&e, 0x04, 2), 0x0103);
	assert_int_equal(iommufd_device_region_read(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, &v, 4), 4);
	assert_int_equal(v, EDU_IDENT);
	env_teardown(&e);
}

/* interrupts enabled through SET_IRQS, as config space shows them */
static void test_irq_flags(void **state)
{
	struct env e;
	int efd;

	(void)state;
	env_setup(&e, EDU_BDF);
	efd = eventfd(0, EFD_CLOEXEC);
	assert_true(efd >= 0);
	check(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI, 0, &efd, 1));
	assert_int_equal(rd(&e, 0x42, 2), 0x0080); /* MSI's flags are virtual */
	check(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI));
	assert_int_equal(rd(&e, 0x42, 2), 0x0080);
	env_teardown(&e);
	test_backend_put();

	env_setup(&e, NVME_BDF);
	check(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_MSIX, 0, &efd, 1));
	assert_int_equal(rd(&e, 0x42, 2), 0x8040); /* MSI-X's are the device's */
	check(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_MSIX));
	assert_int_equal(rd(&e, 0x42, 2), 0x0040);
	/* the extended space: no capability, writes dropped */
	wr(&e, 0x100, 4, 0x12345678);
	assert_int_equal(rd(&e, 0x100, 4), 0);
	close(efd);
	env_teardown(&e);
}

/* GET_HW_INFO and what the VT-d of QEMU cannot do (the VM's answers) */
static void test_iommu(void **state)
{
	IOMMUFD_OPTS(struct iommufd_hw_info, a);
	IOMMUFD_OPTS(struct iommufd_hw_info, b);
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, nest, .flags = IOMMUFD_HWPT_NEST_PARENT);
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, dirty, .flags = IOMMUFD_HWPT_DIRTY_TRACKING);
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, pasid, .flags = IOMMUFD_HWPT_PASID);
	struct env e;
	uint32_t ioas, hwpt = 0;

	(void)state;
	env_setup(&e, NVME_BDF);
	if (iommufd_ctx_get_mode(e.ctx) == IOMMUFD_MODE_TYPE1) {
		env_teardown(&e);
		skip();
	}
	check(iommufd_device_get_hw_info(e.dev, IOMMUFD_HW_INFO_NONE, &a));
	assert_int_equal(a.type, IOMMUFD_HW_INFO_INTEL_VTD);
	assert_int_equal(a.data_len, 24);
	assert_int_equal(a.capabilities, IOMMUFD_HW_CAP_PCI_ATS_NOT_SUPPORTED);
	assert_int_equal(a.max_pasid_log2, 0);
	assert_int_equal(a.data.vtd.flags, 0x1); /* IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 */
	assert_int_equal(a.data.vtd.cap_reg, 0x00d2008c22260206ull);
	assert_int_equal(a.data.vtd.ecap_reg, 0x0000000000f00f4aull);
	check(iommufd_device_get_hw_info(e.dev, IOMMUFD_HW_INFO_INTEL_VTD, &b));
	assert_memory_equal(&a, &b, sizeof(a));
	assert_errno(iommufd_device_get_hw_info(e.dev, IOMMUFD_HW_INFO_ARM_SMMUV3, &b), EOPNOTSUPP);

	check(iommufd_ioas_alloc(e.ctx, &ioas));
	assert_errno(iommufd_device_hwpt_alloc(e.dev, ioas, &nest, &hwpt), EOPNOTSUPP);
	assert_errno(iommufd_device_hwpt_alloc(e.dev, ioas, &dirty, &hwpt), EOPNOTSUPP);
	check(iommufd_device_hwpt_alloc(e.dev, ioas, &pasid, &hwpt));
	check(iommufd_destroy(e.ctx, hwpt));
	env_teardown(&e);
}

static int backend_reset(void **state)
{
	(void)state;
	test_backend_put();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_caps_edu, backend_reset),
		cmocka_unit_test_teardown(test_caps_nvme, backend_reset),
		cmocka_unit_test_teardown(test_bar_sizing, backend_reset),
		cmocka_unit_test_teardown(test_header_writes, backend_reset),
		cmocka_unit_test_teardown(test_msi_writes, backend_reset),
		cmocka_unit_test_teardown(test_nvme_cap_writes, backend_reset),
		cmocka_unit_test_teardown(test_mem_off, backend_reset),
		cmocka_unit_test_teardown(test_mem_off_nvme, backend_reset),
		cmocka_unit_test_teardown(test_mem_off_close, backend_reset),
		cmocka_unit_test_teardown(test_iommu, backend_reset),
		cmocka_unit_test_teardown(test_irq_flags, backend_reset),
	};

	return cmocka_run_group_tests_name("device-config", tests, NULL, NULL);
}
