// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device-side events of emulated devices, emulator only:
 * iommufd_emu_device_dma() (DMA through the attachment, refusals counted as
 * DMA faults, dirty marking), iommufd_emu_device_page_fault() (an I/O page
 * fault through a HWPT's fault queue) and iommufd_emu_device_vevent() (a
 * vEVENT to the vIOMMU of the device's nested HWPT).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device-common.h"

#define DIRTY_BDF "0000:00:04.0" /* an edu with IOMMUFD_EMU_DEVICE_DIRTY_TRACKING */
#define NEST_BDF "0000:00:05.0"  /* an edu with IOMMUFD_EMU_DEVICE_NESTING */
#define IOVA 0x100000
#define PAGE 4096
#define NPAGES 4

struct env {
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
	uint32_t ioas, dev_id;
	uint8_t *mem; /* NPAGES pages */
};

static struct iommufd_device *add_edu(const char *bdf, uint32_t flags)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o, .kind = IOMMUFD_EMU_DEVICE_EDU, .bdf = bdf,
		     .flags = flags);

	check(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0));
	return dev_open(test_scope(), bdf);
}

static int setup_flags(void **state, uint32_t flags)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	test_backend_get();
	e->ctx = test_ctx_new();
	check(iommufd_ioas_alloc(e->ctx, &e->ioas));
	e->dev = add_edu(!flags ? EDU_BDF : flags & IOMMUFD_EMU_DEVICE_NESTING ? NEST_BDF : DIRTY_BDF,
			 flags);
	check(iommufd_device_bind(e->dev, e->ctx, NULL, &e->dev_id));
	e->mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	assert_true(e->mem != MAP_FAILED);
	*state = e;
	return 0;
}

static int setup(void **state)
{
	return setup_flags(state, 0);
}

static int setup_dirty(void **state)
{
	return setup_flags(state, IOMMUFD_EMU_DEVICE_DIRTY_TRACKING);
}

static int setup_nesting(void **state)
{
	return setup_flags(state, IOMMUFD_EMU_DEVICE_NESTING);
}

static int teardown(void **state)
{
	struct env *e = *state;

	iommufd_device_unref(e->dev);
	iommufd_ctx_unref(e->ctx);
	munmap(e->mem, NPAGES * PAGE);
	test_backend_put();
	free(e);
	return 0;
}

static void map(struct env *e, uint64_t iova, void *va, uint64_t len, uint32_t prot)
{
	check(iommufd_ioas_map(e->ctx, e->ioas, va, len, &iova, IOMMUFD_MAP_FIXED_IOVA | prot));
}

static uint64_t faults(const char *bdf, uint64_t *last)
{
	uint64_t n = ~0ull;

	check(iommufd_emu_device_get_dma_faults(test_emu(), bdf, &n, last));
	return n;
}

/* writes land in memory at the IOVA's page, reads return memory; nothing faults */
static void test_dma_read_write(void **state)
{
	struct env *e = *state;
	uint8_t buf[300], back[300];

	map(e, IOVA, e->mem, NPAGES * PAGE, IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
	check(iommufd_device_attach(e->dev, e->ioas, NULL));
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	/* crosses the boundary between pages 1 and 2 */
	check(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, IOVA + 2 * PAGE - 100, buf,
				     sizeof(buf), true));
	assert_memory_equal(e->mem + 2 * PAGE - 100, buf, sizeof(buf));
	assert_int_equal(e->mem[2 * PAGE - 101], 0);
	assert_int_equal(e->mem[2 * PAGE + 200], 0);

	memset(e->mem + 3 * PAGE, 0x5a, 64);
	e->mem[3 * PAGE + 10] = 0x11;
	memset(back, 0, sizeof(back));
	check(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, IOVA + 3 * PAGE, back, 64, false));
	assert_int_equal(back[0], 0x5a);
	assert_int_equal(back[10], 0x11);
	assert_int_equal(back[63], 0x5a);
	assert_int_equal(back[64], 0);
	assert_int_equal(faults(EDU_BDF, NULL), 0);
}

/* refused DMA: -EFAULT, nothing transferred, counted with its IOVA */
static void test_dma_refused(void **state)
{
	struct env *e = *state;
	uint8_t buf[16], zero[16] = { 0 };
	uint64_t last = 0;

	/* bound, not attached: blocked */
	memset(buf, 0xab, sizeof(buf));
	assert_errno(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, IOVA, buf, sizeof(buf), true),
		     EFAULT);
	assert_int_equal(faults(EDU_BDF, &last), 1);
	assert_int_equal(last, IOVA);

	map(e, IOVA, e->mem, PAGE, IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
	map(e, IOVA + PAGE, e->mem + PAGE, PAGE, IOMMUFD_MAP_READ); /* read-only */
	check(iommufd_device_attach(e->dev, e->ioas, NULL));
	check(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, IOVA, buf, sizeof(buf), true));
	assert_memory_equal(e->mem, buf, sizeof(buf));

	/* the read-only page: a write is refused, a read is not */
	assert_errno(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, IOVA + PAGE, buf, sizeof(buf),
					    true),
		     EFAULT);
	assert_memory_equal(e->mem + PAGE, zero, sizeof(zero));
	assert_int_equal(faults(EDU_BDF, &last), 2);
	assert_int_equal(last, IOVA + PAGE);
	check(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, IOVA + PAGE, buf, sizeof(buf), false));
	assert_memory_equal(buf, zero, sizeof(zero));

	/* after unmap: neither direction reaches the memory */
	check(iommufd_ioas_unmap(e->ctx, e->ioas, IOVA, PAGE, NULL));
	memset(buf, 0xcd, sizeof(buf));
	assert_errno(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, IOVA + 8, buf, sizeof(buf),
					    true),
		     EFAULT);
	assert_int_equal(e->mem[0], 0xab);
	assert_int_equal(e->mem[8], 0xab);
	assert_errno(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, IOVA, buf, sizeof(buf), false),
		     EFAULT);
	assert_int_equal(buf[0], 0xcd);
	assert_int_equal(buf[15], 0xcd);
	assert_int_equal(faults(EDU_BDF, &last), 4);
	assert_int_equal(last, IOVA);
	/* a DMA straddling a mapped and an unmapped page is refused whole */
	assert_errno(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, IOVA + PAGE - 8, buf,
					    sizeof(buf), false),
		     EFAULT);
	assert_int_equal(faults(EDU_BDF, NULL), 5);
	/* a pasid the device has not attached (it has no PASID capability) */
	assert_errno(iommufd_emu_device_dma(test_emu(), EDU_BDF, 5, IOVA + PAGE, buf, 4, false),
		     EFAULT);
	assert_int_equal(faults(EDU_BDF, NULL), 6);

	/* argument errors are not DMA faults */
	assert_errno(iommufd_emu_device_dma(test_emu(), "0000:00:1f.0", 0, IOVA, buf, 4, false),
		     ENODEV);
	assert_errno(iommufd_emu_device_dma(test_emu(), NULL, 0, IOVA, buf, 4, false), EINVAL);
	assert_errno(iommufd_emu_device_dma(test_emu(), EDU_BDF, 0, IOVA, NULL, 4, false), EINVAL);
	assert_errno(iommufd_emu_device_dma(NULL, EDU_BDF, 0, IOVA, buf, 4, false), EINVAL);
	assert_non_null(strstr(iommufd_emu_last_error(), "NULL"));
	assert_int_equal(faults(EDU_BDF, NULL), 6);
}

/* writes through a tracking HWPT mark exactly the written pages; reads nothing */
static void test_dma_dirty(void **state)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_DIRTY_TRACKING);
	struct env *e = *state;
	uint8_t buf[PAGE + 16];
	uint32_t hwpt;
	uint64_t bm;

	memset(buf, 0x3c, sizeof(buf));
	map(e, IOVA, e->mem, NPAGES * PAGE, IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
	check(iommufd_hwpt_alloc(e->ctx, e->dev_id, e->ioas, &o, &hwpt));
	check(iommufd_device_attach(e->dev, hwpt, NULL));
	/* tracking off: nothing marked */
	check(iommufd_emu_device_dma(test_emu(), DIRTY_BDF, 0, IOVA, buf, 8, true));
	check(iommufd_hwpt_set_dirty_tracking(e->ctx, hwpt, true));
	bm = 0;
	check(iommufd_hwpt_get_dirty_bitmap(e->ctx, hwpt, IOVA, NPAGES * PAGE, PAGE, &bm, 0));
	assert_int_equal(bm, 0);

	check(iommufd_emu_device_dma(test_emu(), DIRTY_BDF, 0, IOVA + 3 * PAGE, buf, 8, false));
	check(iommufd_emu_device_dma(test_emu(), DIRTY_BDF, 0, IOVA + PAGE + 8, buf, PAGE, true));
	assert_memory_equal(e->mem + PAGE + 8, buf, PAGE);
	bm = 0;
	check(iommufd_hwpt_get_dirty_bitmap(e->ctx, hwpt, IOVA, NPAGES * PAGE, PAGE, &bm, 0));
	assert_int_equal(bm, 0x6); /* pages 1 and 2 */
	bm = 0;
	check(iommufd_hwpt_get_dirty_bitmap(e->ctx, hwpt, IOVA, NPAGES * PAGE, PAGE, &bm, 0));
	assert_int_equal(bm, 0);
	check(iommufd_device_detach(e->dev));
	check(iommufd_destroy(e->ctx, hwpt));
}

/* a page fault reaches the fault queue of the attached HWPT and is answered */
static void test_page_fault(void **state)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_FAULT_ID_VALID);
	struct env *e = *state;
	struct iommufd_fault_queue *q = NULL;
	struct iommufd_fault f[4];
	uint32_t hwpt, plain;

	check(iommufd_fault_queue_new(e->ctx, &q));
	o.fault_id = iommufd_fault_queue_get_id(q);
	check(iommufd_hwpt_alloc(e->ctx, e->dev_id, e->ioas, &o, &hwpt));
	check(iommufd_hwpt_alloc(e->ctx, e->dev_id, e->ioas, NULL, &plain));

	/* not attached, then a HWPT without a fault queue: no handler */
	assert_errno(iommufd_emu_device_page_fault(test_emu(), EDU_BDF, 0, 1,
						   IOMMUFD_FAULT_PERM_READ, IOVA),
		     EOPNOTSUPP);
	check(iommufd_device_attach(e->dev, plain, NULL));
	assert_errno(iommufd_emu_device_page_fault(test_emu(), EDU_BDF, 0, 1,
						   IOMMUFD_FAULT_PERM_READ, IOVA),
		     EOPNOTSUPP);
	assert_int_equal(iommufd_fault_queue_read(q, f, 4), 0);

	check(iommufd_device_attach(e->dev, hwpt, NULL));
	check(iommufd_emu_device_page_fault(test_emu(), EDU_BDF, 0, 7,
					    IOMMUFD_FAULT_PERM_READ | IOMMUFD_FAULT_PERM_WRITE,
					    IOVA + 0x1234));
	memset(f, 0xff, sizeof(f));
	assert_int_equal(iommufd_fault_queue_read(q, f, 4), 1);
	assert_int_equal(f[0].flags, IOMMUFD_FAULT_LAST_PAGE);
	assert_int_equal(f[0].dev_id, e->dev_id);
	assert_int_equal(f[0].pasid, 0);
	assert_int_equal(f[0].grpid, 7);
	assert_int_equal(f[0].perm, IOMMUFD_FAULT_PERM_READ | IOMMUFD_FAULT_PERM_WRITE);
	assert_int_equal(f[0].addr, IOVA + 0x1234);
	assert_int_equal(f[0].length, 0);
	assert_int_not_equal(f[0].cookie, 0);
	assert_int_equal(iommufd_fault_queue_read(q, f + 1, 3), 0);
	check(iommufd_fault_queue_respond(q, f[0].cookie, IOMMUFD_FAULT_RESPONSE_SUCCESS));
	/* answered: the cookie is gone */
	assert_errno(iommufd_fault_queue_respond(q, f[0].cookie, IOMMUFD_FAULT_RESPONSE_SUCCESS),
		     EINVAL);

	/* argument errors */
	assert_errno(iommufd_emu_device_page_fault(test_emu(), "0000:00:1f.0", 0, 1, 0, IOVA),
		     ENODEV);
	assert_errno(iommufd_emu_device_page_fault(test_emu(), EDU_BDF, 0, 1, 1u << 4, IOVA),
		     EINVAL);
	assert_errno(iommufd_emu_device_page_fault(test_emu(), NULL, 0, 1, 0, IOVA), EINVAL);
	assert_int_equal(iommufd_fault_queue_read(q, f, 4), 0);

	check(iommufd_device_detach(e->dev));
	check(iommufd_destroy(e->ctx, hwpt));
	check(iommufd_destroy(e->ctx, plain));
	iommufd_fault_queue_unref(q);
}

/* a vEVENT reaches the queue of its type on the vIOMMU of the nested HWPT */
static void test_vevent(void **state)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, po, .flags = IOMMUFD_HWPT_NEST_PARENT);
	struct env *e = *state;
	const uint32_t iotlb = 0;
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, no, .data_type = IOMMUFD_HWPT_DATA_SELFTEST,
		     .data_len = sizeof(iotlb), .data = &iotlb);
	const uint8_t payload[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t big[33] = { 0 };
	struct iommufd_veventq *q = NULL;
	struct iommufd_vevent ev;
	uint32_t parent, viommu, vdev, nested;

	check(iommufd_hwpt_alloc(e->ctx, e->dev_id, e->ioas, &po, &parent));
	check(iommufd_viommu_alloc(e->ctx, e->dev_id, parent, IOMMUFD_VIOMMU_SELFTEST, NULL,
				   &viommu));
	check(iommufd_hwpt_alloc(e->ctx, e->dev_id, viommu, &no, &nested));

	/* attached to the parent (no vIOMMU): ENOENT */
	check(iommufd_device_attach(e->dev, parent, NULL));
	assert_errno(iommufd_emu_device_vevent(test_emu(), NEST_BDF, IOMMUFD_VEVENTQ_SELFTEST,
					       payload, 4),
		     ENOENT);
	check(iommufd_vdevice_alloc(e->ctx, viommu, e->dev_id, 0x42, &vdev));
	check(iommufd_device_attach(e->dev, nested, NULL));
	/* no queue of that type yet */
	assert_errno(iommufd_emu_device_vevent(test_emu(), NEST_BDF, IOMMUFD_VEVENTQ_SELFTEST,
					       payload, 4),
		     EOPNOTSUPP);
	check(iommufd_veventq_new(e->ctx, viommu, IOMMUFD_VEVENTQ_SELFTEST, 4, NULL, &q));
	assert_errno(iommufd_emu_device_vevent(test_emu(), NEST_BDF, IOMMUFD_VEVENTQ_ARM_SMMUV3,
					       big, 32),
		     EOPNOTSUPP);
	assert_int_equal(iommufd_veventq_read(q, &ev), 0);

	check(iommufd_emu_device_vevent(test_emu(), NEST_BDF, IOMMUFD_VEVENTQ_SELFTEST, payload, 4));
	check(iommufd_emu_device_vevent(test_emu(), NEST_BDF, IOMMUFD_VEVENTQ_SELFTEST, payload + 4,
					4));
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.sequence, 0);
	assert_int_equal(ev.lost, 0);
	assert_int_equal(ev.data_len, 4);
	assert_memory_equal(ev.data, payload, 4);
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.sequence, 1);
	assert_int_equal(ev.lost, 0);
	assert_int_equal(ev.data_len, 4);
	assert_memory_equal(ev.data, payload + 4, 4);
	assert_int_equal(iommufd_veventq_read(q, &ev), 0);

	/* depth 4: the fifth unread event is lost and counted */
	for (int i = 0; i < 5; i++)
		check(iommufd_emu_device_vevent(test_emu(), NEST_BDF, IOMMUFD_VEVENTQ_SELFTEST,
						payload + i, 4));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(iommufd_veventq_read(q, &ev), 1);
		assert_int_equal(ev.sequence, 2 + i);
		assert_memory_equal(ev.data, payload + i, 4);
	}
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.data_len, 0);
	assert_true(ev.lost >= 1);
	assert_int_equal(iommufd_veventq_read(q, &ev), 0);

	/* argument errors: the payload must have the type's record size */
	assert_errno(iommufd_emu_device_vevent(test_emu(), NEST_BDF, IOMMUFD_VEVENTQ_SELFTEST, big,
					       sizeof(big)),
		     EINVAL);
	assert_errno(iommufd_emu_device_vevent(test_emu(), NEST_BDF, IOMMUFD_VEVENTQ_SELFTEST,
					       payload, 8),
		     EINVAL);
	assert_errno(iommufd_emu_device_vevent(test_emu(), NEST_BDF, 0x1234, payload, 4), EINVAL);
	assert_errno(iommufd_emu_device_vevent(test_emu(), NEST_BDF, IOMMUFD_VEVENTQ_SELFTEST, NULL,
					       4),
		     EINVAL);
	assert_errno(iommufd_emu_device_vevent(test_emu(), "0000:00:1f.0", IOMMUFD_VEVENTQ_SELFTEST,
					       payload, 4),
		     ENODEV);
	assert_int_equal(iommufd_veventq_read(q, &ev), 0);

	/* detached: no vIOMMU any more */
	check(iommufd_device_detach(e->dev));
	assert_errno(iommufd_emu_device_vevent(test_emu(), NEST_BDF, IOMMUFD_VEVENTQ_SELFTEST,
					       payload, 4),
		     ENOENT);
	iommufd_veventq_unref(q);
	check(iommufd_destroy(e->ctx, vdev));
	check(iommufd_destroy(e->ctx, nested));
	check(iommufd_destroy(e->ctx, viommu));
	check(iommufd_destroy(e->ctx, parent));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dma_read_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_dirty, setup_dirty, teardown),
		cmocka_unit_test_setup_teardown(test_page_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vevent, setup_nesting, teardown),
	};

	if (test_real_kernel()) {
		printf("1..0 # SKIP emulator only\n");
		return 77;
	}
	return cmocka_run_group_tests_name("device-emu-events", tests, NULL, NULL);
}
