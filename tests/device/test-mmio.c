// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Devices driven through an mmap of BAR0, as QEMU, libvfn and SPDK drive
 * them: edu's registers and DMA engine, and an NVMe controller brought up
 * and used through its registers, doorbells and queues in IOMMU-mapped
 * memory. Runs on the emulator (its device-model thread takes the stores in)
 * and, with IOMMUFD_TEST_REAL=1, on the VM's QEMU edu and NVMe. The VM's NVMe
 * has no namespace (no -drive/nvme-ns): the block I/O cases skip there when
 * Identify reports none.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "device-common.h"

#define PAGE 4096
#define TIMEOUT_MS 5000

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* wait (polling, as for hardware) until expr holds; fail after TIMEOUT_MS */
#define WAIT_FOR(expr, what)                                                          \
	do {                                                                          \
		uint64_t t0_ = now_ms();                                              \
		while (!(expr)) {                                                     \
			if (now_ms() - t0_ > TIMEOUT_MS)                              \
				fail_msg("%s: not after %d ms", what, TIMEOUT_MS);    \
			usleep(50);                                                   \
		}                                                                     \
	} while (0)

static uint32_t rd32(volatile uint8_t *bar, uint32_t off)
{
	return *(volatile uint32_t *)(bar + off);
}

static void wr32(volatile uint8_t *bar, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(bar + off) = v;
}

static uint64_t rd64(volatile uint8_t *bar, uint32_t off)
{
	return *(volatile uint64_t *)(bar + off);
}

static void wr64(volatile uint8_t *bar, uint32_t off, uint64_t v)
{
	*(volatile uint64_t *)(bar + off) = v;
}

/* a device bound to a fresh context and attached to an IOAS, bus master on,
 * BAR0 mapped, and pages of memory mapped at iova */
struct env {
	struct iommufd_ctx *scope, *ctx;
	struct iommufd_device *dev;
	uint32_t ioas;
	volatile uint8_t *bar;
	size_t bar_len;
	uint8_t *mem;
	size_t mem_len;
	uint64_t iova;
};

/* the devices of dev_scope() are there already (a test that adds more) */
static bool scope_made;
/* the handles of the running test's env (a copy: the test's frame is gone
 * when cleanup() runs after a failure), NULL dev when released */
static struct env live_env;

static void env_setup(struct env *e, const char *bdf, size_t bar_len, size_t pages, uint64_t iova)
{
	uint32_t cmd, hwpt;
	void *bar;

	memset(e, 0, sizeof(*e));
	e->scope = scope_made ? test_scope() : dev_scope();
	e->ctx = test_ctx_new();
	check(iommufd_ioas_alloc(e->ctx, &e->ioas));
	e->dev = dev_open(e->scope, bdf);
	check(iommufd_device_bind(e->dev, e->ctx, NULL, NULL));
	check(iommufd_device_attach(e->dev, e->ioas, &hwpt));
	check(iommufd_device_config_read(e->dev, 0x04, 2, &cmd));
	check(iommufd_device_config_write(e->dev, 0x04, 2, cmd | 0x6));
	check(iommufd_device_region_mmap(e->dev, IOMMUFD_PCI_BAR0_REGION, 0, bar_len,
					 PROT_READ | PROT_WRITE, &bar));
	e->bar = bar;
	e->bar_len = bar_len;
	e->mem_len = pages * PAGE;
	e->mem = mmap(NULL, e->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(e->mem != MAP_FAILED);
	memset(e->mem, 0, e->mem_len);
	e->iova = iova;
	check(iommufd_ioas_map(e->ctx, e->ioas, e->mem, e->mem_len, &e->iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	live_env = *e;
}

static void env_release(struct env *e)
{
	if (e->bar)
		iommufd_device_region_munmap(e->dev, (void *)e->bar, e->bar_len);
	iommufd_device_unref(e->dev);
	iommufd_ctx_unref(e->ctx);
	if (e->mem)
		munmap(e->mem, e->mem_len);
	memset(&live_env, 0, sizeof(live_env));
}

static void env_teardown(struct env *e)
{
	env_release(e);
	test_backend_put();
}

/* after a failed test: let go of its device (on the kernel it would stay
 * open and every later test would fail to bind it) */
static int cleanup(void **state)
{
	(void)state;
	if (live_env.dev)
		env_release(&live_env);
	scope_made = false;
	test_backend_put();
	return 0;
}

/* ------------------------------------------------------------ edu */

#define EDU_IOVA 0x100000 /* below edu's 28-bit DMA mask */
#define EDU_BUF 0x40000

static void test_edu_registers(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e, EDU_BDF, PAGE, 1, EDU_IOVA);
	assert_int_equal(rd32(e.bar, 0x00), 0x010000ed);
	/* liveness: reads the complement of what was written */
	wr32(e.bar, 0x04, 0x12345678);
	WAIT_FOR(rd32(e.bar, 0x04) == ~0x12345678u, "edu liveness");
	wr32(e.bar, 0x04, 0x0f0f0f0f);
	WAIT_FOR(rd32(e.bar, 0x04) == 0xf0f0f0f0u, "edu liveness, again");
	/* factorial: poll until it is there and the computing bit is clear */
	wr32(e.bar, 0x08, 5);
	WAIT_FOR(rd32(e.bar, 0x08) == 120 && !(rd32(e.bar, 0x20) & 1), "5! from edu");
	wr32(e.bar, 0x08, 10);
	WAIT_FOR(rd32(e.bar, 0x08) == 3628800 && !(rd32(e.bar, 0x20) & 1), "10! from edu");
	/* no register there: all ones, and a store does not stick */
	assert_int_equal(rd32(e.bar, 0x0c), 0xffffffff);
	wr32(e.bar, 0x0c, 0x1234);
	WAIT_FOR(rd32(e.bar, 0x0c) == 0xffffffff, "edu's empty register reading all ones");
	/* the ident is read-only */
	wr32(e.bar, 0x00, 0);
	WAIT_FOR(rd32(e.bar, 0x00) == 0x010000ed, "edu's ident back");
	/* the device file sees the same registers */
	{
		uint32_t v = 0;

		assert_int_equal(iommufd_device_region_read(e.dev, IOMMUFD_PCI_BAR0_REGION, 0x08,
							    &v, 4), 4);
		assert_int_equal(v, 3628800);
	}
	env_teardown(&e);
}

/*
 * A BAR mmap is no memory the IOMMU can pin: vfio-pci maps it VM_IO |
 * VM_PFNMAP, which pin_user_pages() refuses (drivers/iommu/iommufd/pages.c),
 * so IOAS_MAP of it fails with EFAULT once a domain needs its pages (QEMU's
 * "IOMMU_IOAS_MAP failed: Bad address, PCI BAR?") and leaves nothing mapped.
 * Without a domain nothing is pinned: the map succeeds, and the first
 * attach, which pins every area, fails with EFAULT.
 */
static void test_bar_not_pinnable(void **state)
{
	const uint32_t rw = IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE;
	struct iommufd_device *nvme;
	uint64_t iova = 0x200000, unmapped;
	uint32_t ioas2, hwpt;
	struct env e;

	(void)state;
	env_setup(&e, EDU_BDF, PAGE, 1, EDU_IOVA);
	assert_errno(iommufd_ioas_map(e.ctx, e.ioas, (void *)e.bar, PAGE, &iova, rw), EFAULT);
	assert_errno(iommufd_ioas_map(e.ctx, e.ioas, (void *)e.bar, PAGE, &iova,
				      IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ),
		     EFAULT);
	/* nothing was left there: the IOVA takes ordinary memory */
	check(iommufd_ioas_map(e.ctx, e.ioas, e.mem, PAGE, &iova, rw));
	check(iommufd_ioas_unmap(e.ctx, e.ioas, iova, PAGE, &unmapped));
	assert_int_equal(unmapped, PAGE);

	/* an IOAS with no domain: mapped, unpinned; the attach pins and fails */
	check(iommufd_ioas_alloc(e.ctx, &ioas2));
	check(iommufd_ioas_map(e.ctx, ioas2, (void *)e.bar, PAGE, &iova, rw));
	nvme = dev_open(e.scope, NVME_BDF);
	check(iommufd_device_bind(nvme, e.ctx, NULL, NULL));
	assert_errno(iommufd_device_attach(nvme, ioas2, &hwpt), EFAULT);
	/* without the BAR's area the same attach works */
	check(iommufd_ioas_unmap(e.ctx, ioas2, iova, PAGE, &unmapped));
	check(iommufd_device_attach(nvme, ioas2, &hwpt));
	iommufd_device_unref(nvme);
	env_teardown(&e);
}

/* start bit through the mapping: the DMA runs and the bit clears */
static void edu_dma(struct env *e, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	WAIT_FOR(!(rd64(e->bar, 0x98) & 1), "edu idle");
	wr64(e->bar, 0x80, src);
	wr64(e->bar, 0x88, dst);
	wr64(e->bar, 0x90, cnt);
	wr64(e->bar, 0x98, cmd | 1);
	WAIT_FOR(!(rd64(e->bar, 0x98) & 1), "edu DMA done");
}

/*
 * DMA after DMA, each with other addresses and count, the registers stored
 * while the model thread is still looking (it keeps looking a while after
 * work): each transfer moves what its own registers say, never what the
 * previous ones said.
 */
static void test_edu_dma_sequence(void **state)
{
	/* QEMU's edu takes 100 ms a transfer (hw/misc/edu.c, its DMA timer) */
	unsigned int n = test_real_kernel() ? 10 : 500;
	struct env e;

	(void)state;
	env_setup(&e, EDU_BDF, PAGE, 2, EDU_IOVA);
	for (size_t i = 0; i < PAGE; i++)
		e.mem[i] = (uint8_t)(i * 7 + 3);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t from = (i * 40) % 2048, to = (i * 24) % 1024, cnt = 8 + i % 57;

		memset(e.mem + PAGE, 0, PAGE);
		edu_dma(&e, EDU_IOVA + from, EDU_BUF + to, cnt, 0);
		edu_dma(&e, EDU_BUF + to, EDU_IOVA + PAGE + to, cnt, 0x2);
		if (memcmp(e.mem + PAGE + to, e.mem + from, cnt) != 0 ||
		    e.mem[PAGE + to + cnt] != 0 || (to && e.mem[PAGE + to - 1] != 0))
			fail_msg("transfer %u (%" PRIu64 " bytes from %" PRIu64 " to %" PRIu64
				 ") moved other bytes", i, cnt, from, to);
	}
	env_teardown(&e);
}

static void test_edu_dma(void **state)
{
	uint8_t expect[2048];
	uint64_t cnt = 0;
	struct pollfd pfd;
	struct env e;
	int efd;

	(void)state;
	env_setup(&e, EDU_BDF, PAGE, 2, EDU_IOVA);
	for (size_t i = 0; i < sizeof(expect); i++)
		expect[i] = (uint8_t)(i * 13 + 1);
	memcpy(e.mem, expect, sizeof(expect));
	memset(e.mem + PAGE, 0xaa, PAGE);
	/* RAM -> device buffer -> RAM, with the done interrupt on the way back */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(efd >= 0);
	check(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI, 0, &efd, 1));
	edu_dma(&e, EDU_IOVA, EDU_BUF, sizeof(expect), 0);
	edu_dma(&e, EDU_BUF, EDU_IOVA + PAGE, sizeof(expect), 0x2 | 0x4);
	assert_memory_equal(e.mem + PAGE, expect, sizeof(expect));
	assert_int_equal(e.mem[PAGE + sizeof(expect)], 0xaa);
	pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, TIMEOUT_MS), 1);
	assert_int_equal(read(efd, &cnt, sizeof(cnt)), 8);
	assert_true(rd32(e.bar, 0x24) & 0x100);
	wr32(e.bar, 0x64, 0x100);
	WAIT_FOR(!(rd32(e.bar, 0x24) & 0x100), "edu irq acknowledged");
	check(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI));
	close(efd);
	env_teardown(&e);
}

/* ------------------------------------------------------------ NVMe */

#define NVME_IOVA 0x10000000ull
#define CAP 0x00
#define VS 0x08
#define CC 0x14
#define CSTS 0x1c
#define AQA 0x24
#define ASQ 0x28
#define ACQ 0x30
#define QD 16          /* entries of every queue here */
#define NVME_BAR_LEN 0x2000 /* registers and doorbells, not the MSI-X table */

/* memory layout, in pages */
enum { P_ASQ, P_ACQ, P_SQ1, P_CQ1, P_SQ2, P_CQ2, P_ID, P_LIST, P_SGL, P_DATA, P_READ = P_DATA + 8,
       NPAGES = P_READ + 8 };

struct queue {
	uint16_t qid;
	uint32_t sq_page, cq_page;
	uint32_t tail, head;
	uint8_t phase;
	uint16_t cid;
};

struct nvme {
	struct env e;
	uint32_t dstrd;
	struct queue admin, io[2];
};

struct sqe {
	uint8_t opc, flags;
	uint16_t cid;
	uint32_t nsid;
	uint64_t rsvd, mptr, prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

static uint64_t iova_of(struct nvme *n, uint32_t page)
{
	return n->e.iova + (uint64_t)page * PAGE;
}

static uint8_t *va_of(struct nvme *n, uint32_t page)
{
	return n->e.mem + (size_t)page * PAGE;
}

/* submit one command and wait for its completion: the status field (SC |
 * SCT << 8 | ..., no phase) and dword 0 */
static uint16_t nvme_cmd(struct nvme *n, struct queue *q, struct sqe *s, uint32_t *dw0)
{
	volatile uint32_t *cqe;
	uint32_t dw3;

	s->cid = ++q->cid;
	memcpy(va_of(n, q->sq_page) + q->tail * 64, s, 64);
	q->tail = (q->tail + 1) % QD;
	atomic_thread_fence(memory_order_seq_cst);
	wr32(n->e.bar, 0x1000 + (2 * q->qid) * (4u << n->dstrd), q->tail);
	cqe = (volatile uint32_t *)(va_of(n, q->cq_page) + q->head * 16);
	WAIT_FOR(((cqe[3] >> 16) & 1) == q->phase, "NVMe completion");
	atomic_thread_fence(memory_order_seq_cst);
	dw3 = cqe[3];
	if (dw0)
		*dw0 = cqe[0];
	assert_int_equal(dw3 & 0xffff, s->cid);
	assert_int_equal(cqe[2] >> 16, q->qid);
	if (++q->head == QD) {
		q->head = 0;
		q->phase ^= 1;
	}
	wr32(n->e.bar, 0x1000 + (2 * q->qid + 1) * (4u << n->dstrd), q->head);
	return (uint16_t)(dw3 >> 17) & 0x7fff;
}

#define assert_status(st, want) assert_int_equal((st) & 0x7ff, (want))

static void nvme_attach(struct nvme *n, const char *bdf)
{
	memset(n, 0, sizeof(*n));
	env_setup(&n->e, bdf, NVME_BAR_LEN, NPAGES, NVME_IOVA);
}

static void nvme_enable(struct nvme *n)
{
	uint64_t cap;

	cap = rd64(n->e.bar, CAP);
	n->dstrd = (cap >> 32) & 0xf;
	wr32(n->e.bar, CC, 0);
	WAIT_FOR(!(rd32(n->e.bar, CSTS) & 1), "CSTS.RDY 0");
	n->admin = (struct queue){ .qid = 0, .sq_page = P_ASQ, .cq_page = P_ACQ, .phase = 1 };
	wr32(n->e.bar, AQA, (QD - 1) << 16 | (QD - 1));
	wr64(n->e.bar, ASQ, iova_of(n, P_ASQ));
	wr64(n->e.bar, ACQ, iova_of(n, P_ACQ));
	wr32(n->e.bar, CC, 1 | 6u << 16 | 4u << 20);
	WAIT_FOR(rd32(n->e.bar, CSTS) & 1, "CSTS.RDY 1");
	assert_int_equal(rd32(n->e.bar, CSTS) & 2, 0);
}

static void nvme_up_bdf(struct nvme *n, const char *bdf)
{
	nvme_attach(n, bdf);
	nvme_enable(n);
}

static void nvme_up(struct nvme *n)
{
	nvme_up_bdf(n, NVME_BDF);
}

static void nvme_down(struct nvme *n)
{
	wr32(n->e.bar, CC, 0);
	WAIT_FOR(!(rd32(n->e.bar, CSTS) & 1), "CSTS.RDY 0 at the end");
	env_teardown(&n->e);
}

static uint16_t identify(struct nvme *n, uint32_t cns, uint32_t nsid, uint64_t prp1)
{
	struct sqe s = { .opc = 0x06, .nsid = nsid, .prp1 = prp1, .cdw10 = cns };

	return nvme_cmd(n, &n->admin, &s, NULL);
}

/* I/O queue pair i (qid i + 1) on vector iv (interrupts on when ien) */
static void create_pair(struct nvme *n, int i, uint16_t iv, bool ien)
{
	struct queue *q = &n->io[i];
	struct sqe s;

	*q = (struct queue){ .qid = (uint16_t)(i + 1), .sq_page = i ? P_SQ2 : P_SQ1,
			     .cq_page = i ? P_CQ2 : P_CQ1, .phase = 1 };
	memset(va_of(n, q->cq_page), 0, PAGE);
	s = (struct sqe){ .opc = 0x05, .prp1 = iova_of(n, q->cq_page),
			  .cdw10 = (QD - 1) << 16 | q->qid,
			  .cdw11 = (uint32_t)iv << 16 | (ien ? 2 : 0) | 1 };
	assert_status(nvme_cmd(n, &n->admin, &s, NULL), 0);
	s = (struct sqe){ .opc = 0x01, .prp1 = iova_of(n, q->sq_page),
			  .cdw10 = (QD - 1) << 16 | q->qid, .cdw11 = (uint32_t)q->qid << 16 | 1 };
	assert_status(nvme_cmd(n, &n->admin, &s, NULL), 0);
}

/* namespace 1 is active (the VM's NVMe has none) */
static bool has_namespace(struct nvme *n)
{
	uint32_t first;

	memset(va_of(n, P_ID), 0xee, PAGE);
	assert_status(identify(n, 2, 0, iova_of(n, P_ID)), 0);
	memcpy(&first, va_of(n, P_ID), 4);
	return first == 1;
}

static void test_nvme_identify(void **state)
{
	struct nvme n;
	uint8_t *id;
	uint16_t vid;
	uint32_t sgls;
	uint64_t cap;

	(void)state;
	nvme_up(&n);
	cap = rd64(n.e.bar, CAP);
	assert_int_equal(cap & 0xffff, 0x7ff);          /* MQES */
	assert_true(cap & (1ull << 16));                 /* CQR */
	assert_int_equal((cap >> 24) & 0xff, 0xf);       /* TO */
	assert_int_equal((cap >> 32) & 0xf, 0);          /* DSTRD */
	assert_true(cap & (1ull << 37));                 /* CSS: NVM */
	if (!test_real_kernel())
		assert_int_equal(cap, 0x004018200f0107ffull); /* QEMU 10's */
	assert_int_equal(rd32(n.e.bar, VS), 0x00010400);
	id = va_of(&n, P_ID);
	memset(id, 0, PAGE);
	assert_status(identify(&n, 1, 0, iova_of(&n, P_ID)), 0);
	memcpy(&vid, id, 2);
	assert_int_equal(vid, 0x1b36);
	assert_memory_equal(id + 4, "deadbeef            ", 20);
	assert_memory_equal(id + 24, "QEMU NVMe Ctrl", 14);
	assert_int_equal(id[512], 0x66); /* SQES */
	assert_int_equal(id[513], 0x44); /* CQES */
	memcpy(&sgls, id + 536, 4);
	assert_int_equal(sgls & 3, 1);   /* SGLs, no alignment rule */
	/* an unknown CNS: Invalid Field */
	assert_status(identify(&n, 0x7f, 0, iova_of(&n, P_ID)), 0x02);
	/* an admin opcode nobody has: Invalid Opcode */
	{
		struct sqe s = { .opc = 0x7e };

		assert_status(nvme_cmd(&n, &n.admin, &s, NULL), 0x01);
	}
	nvme_down(&n);
}

/* the data for LBA range starting at slba, as written */
static void pattern(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i >> 9) * 31 + i * 7 + seed);
}

static uint16_t rw(struct nvme *n, struct queue *q, uint8_t opc, uint64_t slba, uint32_t nlb,
		   uint64_t prp1, uint64_t prp2, uint8_t psdt)
{
	struct sqe s = { .opc = opc, .flags = (uint8_t)(psdt << 6), .nsid = 1, .prp1 = prp1,
			 .prp2 = prp2, .cdw10 = (uint32_t)slba, .cdw11 = (uint32_t)(slba >> 32),
			 .cdw12 = nlb - 1 };

	return nvme_cmd(n, q, &s, NULL);
}

static void test_nvme_io(void **state)
{
	uint8_t *data, *rbuf;
	uint64_t *list;
	struct nvme n;
	uint32_t dw0;

	(void)state;
	nvme_up(&n);
	{
		struct sqe s = { .opc = 0x09, .cdw10 = 0x07, .cdw11 = 0x00010001 };

		assert_status(nvme_cmd(&n, &n.admin, &s, &dw0), 0);
		assert_true((dw0 & 0xffff) >= 1 && (dw0 >> 16) >= 1);
	}
	create_pair(&n, 0, 0, false);
	if (!has_namespace(&n)) {
		nvme_down(&n);
		skip(); /* the VM's NVMe: no -drive/nvme-ns, no namespace to write */
	}
	data = va_of(&n, P_DATA);
	rbuf = va_of(&n, P_READ);
	/* 8 blocks from one page (PRP1), read back */
	pattern(data, PAGE, 1);
	assert_status(rw(&n, &n.io[0], 0x01, 16, 8, iova_of(&n, P_DATA), 0, 0), 0);
	memset(rbuf, 0, PAGE);
	assert_status(rw(&n, &n.io[0], 0x02, 16, 8, iova_of(&n, P_READ), 0, 0), 0);
	assert_memory_equal(rbuf, data, PAGE);
	/* two pages: PRP1 at an offset + PRP2 */
	pattern(data, 2 * PAGE, 2);
	assert_status(rw(&n, &n.io[0], 0x01, 100, 8, iova_of(&n, P_DATA) + 2048,
			 iova_of(&n, P_DATA + 1), 0), 0);
	memset(rbuf, 0, 2 * PAGE);
	assert_status(rw(&n, &n.io[0], 0x02, 100, 8, iova_of(&n, P_READ), 0, 0), 0);
	assert_memory_equal(rbuf, data + 2048, 4096);
	/* 8 pages through a PRP list (PRP1 + 7 entries), read back in reverse page order */
	pattern(data, 8 * PAGE, 3);
	list = (uint64_t *)(void *)va_of(&n, P_LIST);
	for (int i = 1; i < 8; i++)
		list[i - 1] = iova_of(&n, P_DATA + (uint32_t)i);
	assert_status(rw(&n, &n.io[0], 0x01, 1000, 64, iova_of(&n, P_DATA),
			 iova_of(&n, P_LIST), 0), 0);
	memset(rbuf, 0, 8 * PAGE);
	for (int i = 1; i < 8; i++)
		list[i - 1] = iova_of(&n, P_READ + 7 - (uint32_t)i);
	assert_status(rw(&n, &n.io[0], 0x02, 1000, 64, iova_of(&n, P_READ + 7),
			 iova_of(&n, P_LIST), 0), 0);
	for (int i = 0; i < 8; i++)
		assert_memory_equal(rbuf + (size_t)(7 - i) * PAGE, data + (size_t)i * PAGE, PAGE);
	/* flush, and an LBA past the end */
	{
		struct sqe s = { .opc = 0x00, .nsid = 1 };
		uint8_t *ns = va_of(&n, P_ID);
		uint64_t nsze;

		assert_status(nvme_cmd(&n, &n.io[0], &s, NULL), 0);
		assert_status(identify(&n, 0, 1, iova_of(&n, P_ID)), 0);
		memcpy(&nsze, ns, 8);
		assert_true(nsze >= 2048);
		assert_status(rw(&n, &n.io[0], 0x02, nsze - 1, 2, iova_of(&n, P_READ), 0, 0), 0x80);
	}
	nvme_down(&n);
}

static void sgl_desc(uint8_t *d, uint64_t addr, uint32_t len, uint8_t type)
{
	memset(d, 0, 16);
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	d[15] = (uint8_t)(type << 4);
}

/* SGLs: a data block in the command, and a segment of three data blocks */
static void test_nvme_sgl(void **state)
{
	uint8_t *data, *rbuf, *seg;
	struct nvme n;

	(void)state;
	nvme_up(&n);
	create_pair(&n, 0, 0, false);
	if (!has_namespace(&n)) {
		nvme_down(&n);
		skip(); /* the VM's NVMe has no namespace */
	}
	data = va_of(&n, P_DATA);
	rbuf = va_of(&n, P_READ);
	pattern(data, 3 * PAGE, 9);
	/* write 3 pages with SGL1 a data block of them */
	{
		struct sqe s = { .opc = 0x01, .flags = 1 << 6, .nsid = 1, .cdw10 = 500,
				 .cdw12 = 24 - 1 };

		sgl_desc((uint8_t *)&s.prp1, iova_of(&n, P_DATA), 3 * PAGE, 0);
		assert_status(nvme_cmd(&n, &n.io[0], &s, NULL), 0);
	}
	/* read them back through a Last Segment: page 2, page 0 at an offset, the rest */
	seg = va_of(&n, P_SGL);
	sgl_desc(seg, iova_of(&n, P_READ + 2), PAGE, 0);
	sgl_desc(seg + 16, iova_of(&n, P_READ) + 100, PAGE, 0);
	sgl_desc(seg + 32, iova_of(&n, P_READ + 4), PAGE, 0);
	memset(rbuf, 0, 8 * PAGE);
	{
		struct sqe s = { .opc = 0x02, .flags = 1 << 6, .nsid = 1, .cdw10 = 500,
				 .cdw12 = 24 - 1 };

		sgl_desc((uint8_t *)&s.prp1, iova_of(&n, P_SGL), 48, 3);
		assert_status(nvme_cmd(&n, &n.io[0], &s, NULL), 0);
	}
	assert_memory_equal(rbuf + 2 * PAGE, data, PAGE);
	assert_memory_equal(rbuf + 100, data + PAGE, PAGE);
	assert_memory_equal(rbuf + 4 * PAGE, data + 2 * PAGE, PAGE);
	/* too short a list: Data SGL Length Invalid */
	{
		struct sqe s = { .opc = 0x02, .flags = 1 << 6, .nsid = 1, .cdw10 = 500,
				 .cdw12 = 24 - 1 };

		sgl_desc((uint8_t *)&s.prp1, iova_of(&n, P_READ), PAGE, 0);
		assert_status(nvme_cmd(&n, &n.io[0], &s, NULL), 0x0f);
	}
	nvme_down(&n);
}

/*
 * Identify into an IOVA that is not mapped: the IOMMU refuses the write. The
 * emulated controller completes with Data Transfer Error and nothing
 * arrives; QEMU's ignores the result of its data DMA (hw/nvme/ctrl.c
 * nvme_tx) and completes it like any other, so in the VM only "it completes
 * and the queue goes on" is checked.
 */
static void test_nvme_dma_fault(void **state)
{
	uint64_t unmapped = NVME_IOVA + (uint64_t)NPAGES * PAGE + 0x100000;
	uint64_t f0 = 0, f1 = 0, last = 0;
	struct nvme n;
	uint16_t st;

	(void)state;
	nvme_up(&n);
	if (test_emu())
		check(iommufd_emu_device_get_dma_faults(test_emu(), NVME_BDF, &f0, NULL));
	st = identify(&n, 1, 0, unmapped);
	if (!test_real_kernel()) {
		assert_int_equal(st, 0x04); /* Data Transfer Error */
		check(iommufd_emu_device_get_dma_faults(test_emu(), NVME_BDF, &f1, &last));
		assert_true(f1 > f0);
		assert_int_equal(last, unmapped);
	}
	/* the controller carries on */
	assert_status(identify(&n, 1, 0, iova_of(&n, P_ID)), 0);
	assert_memory_equal(va_of(&n, P_ID) + 4, "deadbeef", 8);
	nvme_down(&n);
}

/* MSI-X: the admin CQ signals vector 0, an I/O CQ its own vector */
static void test_nvme_msix(void **state)
{
	struct pollfd pfd[2];
	uint64_t cnt;
	struct nvme n;
	int efd[2];

	(void)state;
	nvme_attach(&n, NVME_BDF);
	for (int i = 0; i < 2; i++) {
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		assert_true(efd[i] >= 0);
		pfd[i] = (struct pollfd){ .fd = efd[i], .events = POLLIN };
	}
	/* MSI-X on before the controller: QEMU's NVMe uses a CQ's vector only if
	 * MSI-X was enabled when the CQ was made (hw/nvme/ctrl.c nvme_init_cq),
	 * the admin CQ's at CC.EN */
	check(iommufd_device_set_irqs(n.e.dev, IOMMUFD_PCI_IRQ_MSIX, 0, efd, 2));
	nvme_enable(&n);
	assert_status(identify(&n, 1, 0, iova_of(&n, P_ID)), 0);
	assert_int_equal(poll(&pfd[0], 1, TIMEOUT_MS), 1);
	assert_int_equal(read(efd[0], &cnt, sizeof(cnt)), 8);
	assert_true(cnt >= 1);
	assert_int_equal(poll(&pfd[1], 1, 0), 0);
	/* an I/O queue pair on vector 1: a flush completes there (with an error
	 * status without a namespace, all the same a completion) */
	create_pair(&n, 0, 1, true);
	while (read(efd[0], &cnt, sizeof(cnt)) == 8)
		;
	{
		struct sqe s = { .opc = 0x00, .nsid = 1 };

		nvme_cmd(&n, &n.io[0], &s, NULL);
	}
	assert_int_equal(poll(&pfd[1], 1, TIMEOUT_MS), 1);
	assert_int_equal(read(efd[1], &cnt, sizeof(cnt)), 8);
	check(iommufd_device_disable_irqs(n.e.dev, IOMMUFD_PCI_IRQ_MSIX));
	close(efd[0]);
	close(efd[1]);
	nvme_down(&n);
}

/* two threads, each with its own queue pair, at once */
struct worker {
	struct nvme *n;
	int i;
	int errors;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct nvme *n = w->n;
	struct queue *q = &n->io[w->i];
	uint32_t page = P_DATA + 4 * (uint32_t)w->i, rpage = P_READ + 4 * (uint32_t)w->i;

	for (int round = 0; round < 50; round++) {
		uint64_t slba = 4096 + (uint64_t)w->i * 1024 + (uint64_t)(round % 8) * 8;

		pattern(va_of(n, page), PAGE, (uint32_t)(round * 2 + w->i));
		memset(va_of(n, rpage), 0, PAGE);
		if (rw(n, q, 0x01, slba, 8, iova_of(n, page), 0, 0) ||
		    rw(n, q, 0x02, slba, 8, iova_of(n, rpage), 0, 0) ||
		    memcmp(va_of(n, page), va_of(n, rpage), PAGE))
			w->errors++;
	}
	return NULL;
}

static void test_nvme_threads(void **state)
{
	struct worker w[2];
	pthread_t t[2];
	struct nvme n;

	(void)state;
	nvme_up(&n);
	create_pair(&n, 0, 0, false);
	create_pair(&n, 1, 0, false);
	if (!has_namespace(&n)) {
		nvme_down(&n);
		skip(); /* the VM's NVMe has no namespace */
	}
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ &n, i, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	nvme_down(&n);
}

/* the queues are gone after CC.EN 1 -> 0, and the controller comes up again */
static void test_nvme_reset(void **state)
{
	struct nvme n;

	(void)state;
	nvme_up(&n);
	create_pair(&n, 0, 0, false);
	wr32(n.e.bar, CC, 0);
	WAIT_FOR(!(rd32(n.e.bar, CSTS) & 1), "CSTS.RDY 0");
	memset(va_of(&n, P_ASQ), 0, 2 * PAGE);
	n.admin = (struct queue){ .qid = 0, .sq_page = P_ASQ, .cq_page = P_ACQ, .phase = 1 };
	wr32(n.e.bar, AQA, (QD - 1) << 16 | (QD - 1));
	wr64(n.e.bar, ASQ, iova_of(&n, P_ASQ));
	wr64(n.e.bar, ACQ, iova_of(&n, P_ACQ));
	wr32(n.e.bar, CC, 1 | 6u << 16 | 4u << 20);
	WAIT_FOR(rd32(n.e.bar, CSTS) & 1, "CSTS.RDY 1 again");
	/* qid 1 is free again: deleting it fails, creating it works */
	{
		struct sqe s = { .opc = 0x00, .cdw10 = 1 };

		assert_status(nvme_cmd(&n, &n.admin, &s, NULL), 0x101);
	}
	create_pair(&n, 0, 0, false);
	nvme_down(&n);
}

/* the device file: a write takes effect before pwrite returns */
static void preg_write(struct nvme *n, uint32_t off, uint32_t v)
{
	assert_int_equal(iommufd_device_region_write(n->e.dev, IOMMUFD_PCI_BAR0_REGION, off, &v, 4), 4);
}

static uint32_t preg_read(struct nvme *n, uint32_t off)
{
	uint32_t v = 0;

	assert_int_equal(iommufd_device_region_read(n->e.dev, IOMMUFD_PCI_BAR0_REGION, off, &v, 4), 4);
	return v;
}

static void test_nvme_pwrite(void **state)
{
	volatile uint32_t *cqe;
	struct sqe s = { .opc = 0x06, .cid = 7, .cdw10 = 1 };
	struct nvme n;

	(void)state;
	nvme_attach(&n, NVME_BDF);
	preg_write(&n, CC, 0);
	assert_int_equal(preg_read(&n, CSTS) & 1, 0);
	preg_write(&n, AQA, (QD - 1) << 16 | (QD - 1));
	preg_write(&n, ASQ, (uint32_t)iova_of(&n, P_ASQ));
	preg_write(&n, ASQ + 4, (uint32_t)(iova_of(&n, P_ASQ) >> 32));
	preg_write(&n, ACQ, (uint32_t)iova_of(&n, P_ACQ));
	preg_write(&n, ACQ + 4, (uint32_t)(iova_of(&n, P_ACQ) >> 32));
	preg_write(&n, CC, 1 | 6u << 16 | 4u << 20);
	/* no waiting: the enable happened in the pwrite (as in QEMU's MMIO write) */
	assert_int_equal(preg_read(&n, CSTS) & 3, 1);
	assert_int_equal(rd32(n.e.bar, CSTS) & 3, 1);
	s.prp1 = iova_of(&n, P_ID);
	memcpy(va_of(&n, P_ASQ), &s, 64);
	atomic_thread_fence(memory_order_seq_cst);
	preg_write(&n, 0x1000, 1);
	cqe = (volatile uint32_t *)va_of(&n, P_ACQ);
	WAIT_FOR((cqe[3] >> 16) & 1, "completion of a pwrite doorbell");
	assert_int_equal(cqe[3], 7u | 1u << 16);
	assert_memory_equal(va_of(&n, P_ID) + 4, "deadbeef", 8);
	preg_write(&n, 0x1004, 1);
	/* doorbells read 0 through the file, as QEMU's MMIO */
	assert_int_equal(preg_read(&n, 0x1000), 0);
	preg_write(&n, CC, 0);
	assert_int_equal(preg_read(&n, CSTS) & 1, 0);
	env_teardown(&n.e);
}

/* emulator only: the device options (serial, no namespace, its size) */
static void test_nvme_options(void **state)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o, .kind = IOMMUFD_EMU_DEVICE_NVME,
		     .bdf = "0000:00:04.0", .flags = IOMMUFD_EMU_DEVICE_NVME_NO_NAMESPACE,
		     .nvme_serial = "EMU-0042");
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, small, .kind = IOMMUFD_EMU_DEVICE_NVME,
		     .bdf = "0000:00:05.0", .nvme_ns_size = 1 << 20);
	struct nvme n;
	uint64_t nsze;

	(void)state;
	if (test_real_kernel())
		skip();
	dev_scope();
	scope_made = true;
	assert_ok(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0));
	assert_ok(iommufd_emu_add_pci_device(test_emu(), &small, NULL, 0));
	o.bdf = "0000:00:06.0";
	o.nvme_serial = "a serial longer than 20";
	assert_errno(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0), EINVAL);
	o.nvme_serial = NULL;
	o.nvme_ns_size = 1000;
	assert_errno(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0), EINVAL);

	nvme_up_bdf(&n, "0000:00:04.0");
	assert_status(identify(&n, 1, 0, iova_of(&n, P_ID)), 0);
	assert_memory_equal(va_of(&n, P_ID) + 4, "EMU-0042            ", 20);
	create_pair(&n, 0, 0, false);
	assert_false(has_namespace(&n));
	memset(va_of(&n, P_ID), 0xee, PAGE);
	assert_status(identify(&n, 0, 1, iova_of(&n, P_ID)), 0);
	memcpy(&nsze, va_of(&n, P_ID), 8);
	assert_int_equal(nsze, 0); /* inactive: all zeros */
	assert_status(rw(&n, &n.io[0], 0x02, 0, 1, iova_of(&n, P_READ), 0, 0), 0x0b);
	wr32(n.e.bar, CC, 0);
	WAIT_FOR(!(rd32(n.e.bar, CSTS) & 1), "CSTS.RDY 0");
	env_release(&n.e); /* the scope stays, with the other device */

	nvme_up_bdf(&n, "0000:00:05.0");
	create_pair(&n, 0, 0, false);
	assert_true(has_namespace(&n));
	assert_status(identify(&n, 0, 1, iova_of(&n, P_ID)), 0);
	memcpy(&nsze, va_of(&n, P_ID), 8);
	assert_int_equal(nsze, 2048);
	scope_made = false;
	nvme_down(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_edu_registers, cleanup),
		cmocka_unit_test_teardown(test_edu_dma, cleanup),
		cmocka_unit_test_teardown(test_edu_dma_sequence, cleanup),
		cmocka_unit_test_teardown(test_bar_not_pinnable, cleanup),
		cmocka_unit_test_teardown(test_nvme_identify, cleanup),
		cmocka_unit_test_teardown(test_nvme_io, cleanup),
		cmocka_unit_test_teardown(test_nvme_sgl, cleanup),
		cmocka_unit_test_teardown(test_nvme_dma_fault, cleanup),
		cmocka_unit_test_teardown(test_nvme_msix, cleanup),
		cmocka_unit_test_teardown(test_nvme_threads, cleanup),
		cmocka_unit_test_teardown(test_nvme_reset, cleanup),
		cmocka_unit_test_teardown(test_nvme_pwrite, cleanup),
		cmocka_unit_test_teardown(test_nvme_options, cleanup),
	};

	return cmocka_run_group_tests_name("device-mmio", tests, NULL, NULL);
}
