/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A userspace NVMe driver in one file: it takes an NVMe controller bound to
 * vfio-pci, gives it an I/O address space through libiommufd, brings the
 * controller up through its registers and asks it "who are you?" (Identify
 * Controller), then prints the model and serial number it answers.
 *
 *   nvme-identify [BDF]          (default 0000:00:03.0)
 *
 * On a machine it needs /dev/iommu and the controller bound to vfio-pci (the
 * VM of tests/vm has QEMU's); it runs unmodified on the emulator's NVMe too:
 *   LD_PRELOAD=libiommufd-preload.so IOMMUFD_EMU_DEVICES=nvme@0000:00:03.0 \
 *   nvme-identify 0000:00:03.0
 * install-test: build only
 *
 *   cc nvme-identify.c $(pkg-config --cflags --libs libiommufd) -o nvme-identify
 *
 * What the device sees: everything it reads or writes in memory goes through
 * the IOMMU, so each buffer it uses is mapped into the IOAS and the device is
 * given the IOVA (the address the IOMMU translates), never a pointer. The
 * library's DMA layer (struct iommufd_dma) allocates, maps and tracks them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* usleep() */
#endif
#include <iommufd.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* Controller registers in BAR0 (NVMe base specification, "Controller Registers") */
#define NVME_REG_CAP 0x00  /* capabilities, 64 bit */
#define NVME_REG_CC 0x14   /* controller configuration */
#define NVME_REG_CSTS 0x1c /* controller status */
#define NVME_REG_AQA 0x24  /* admin queue sizes */
#define NVME_REG_ASQ 0x28  /* admin submission queue address, 64 bit */
#define NVME_REG_ACQ 0x30  /* admin completion queue address, 64 bit */
#define NVME_REG_DBS 0x1000 /* doorbells: SQ0 tail, then CQ0 head, 4 << CAP.DSTRD apart */

#define NVME_CC_EN (1u << 0)
#define NVME_CC_IOSQES(n) ((uint32_t)(n) << 16) /* SQ entry size: 2^n bytes */
#define NVME_CC_IOCQES(n) ((uint32_t)(n) << 20) /* CQ entry size: 2^n bytes */
#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1) /* controller fatal status */

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY (1u << 1) /* respond to BAR accesses */
#define PCI_COMMAND_MASTER (1u << 2) /* bus mastering: allowed to DMA */

#define QUEUE_DEPTH 16   /* admin queue entries (the spec allows 2..4096) */
#define SQE_SIZE 64      /* a submission queue entry (a command) */
#define CQE_SIZE 16      /* a completion queue entry */
#define PAGE 4096
#define BAR_MAP_LEN 0x2000 /* registers and the admin doorbells */

/* A piece of memory the device may use: where we see it, where the device sees it. */
struct dma_buf {
	struct iommufd_dma_buf *buf;
	void *va;
	uint64_t iova;
};

/* The controller's BAR0: mmap()ed if the kernel allows it, else read/write calls. */
struct nvme {
	struct iommufd_device *dev;
	volatile uint8_t *bar;
};

static int fail(const char *what, int r)
{
	fprintf(stderr, "nvme-identify: %s: %s (%s)\n", what, strerror(-r), iommufd_last_error());
	return r;
}

static int reg_read32(struct nvme *n, uint32_t off, uint32_t *val)
{
	ssize_t r;

	if (n->bar) {
		*val = *(volatile uint32_t *)(n->bar + off);
		return 0;
	}
	r = iommufd_device_region_read(n->dev, IOMMUFD_PCI_BAR0_REGION, off, val, 4);
	return r == 4 ? 0 : r < 0 ? (int)r : -EIO;
}

static int reg_write32(struct nvme *n, uint32_t off, uint32_t val)
{
	ssize_t r;

	if (n->bar) {
		*(volatile uint32_t *)(n->bar + off) = val;
		return 0;
	}
	r = iommufd_device_region_write(n->dev, IOMMUFD_PCI_BAR0_REGION, off, &val, 4);
	return r == 4 ? 0 : r < 0 ? (int)r : -EIO;
}

/* 64-bit registers as two 32-bit accesses, low half first (every controller accepts that) */
static int reg_write64(struct nvme *n, uint32_t off, uint64_t val)
{
	int r = reg_write32(n, off, (uint32_t)val);

	return r ? r : reg_write32(n, off + 4, (uint32_t)(val >> 32));
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until CSTS.RDY == ready, for at most timeout_ms. */
static int wait_ready(struct nvme *n, uint32_t ready, uint64_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	uint32_t csts;
	int r;

	for (;;) {
		r = reg_read32(n, NVME_REG_CSTS, &csts);
		if (r)
			return fail("read CSTS", r);
		if (csts & NVME_CSTS_CFS) {
			fprintf(stderr, "nvme-identify: controller fatal status, CSTS 0x%x\n",
				csts);
			return -EIO;
		}
		if ((csts & NVME_CSTS_RDY) == ready)
			return 0;
		if (now_ms() > deadline) {
			fprintf(stderr, "nvme-identify: CSTS.RDY not %u after %llu ms\n",
				ready, (unsigned long long)timeout_ms);
			return -ETIMEDOUT;
		}
		usleep(1000);
	}
}

/* A zeroed page, mapped into the IOAS at an IOVA of the library's allocator. */
static int dma_alloc(struct iommufd_dma *dma, struct dma_buf *b)
{
	int r = iommufd_dma_buf_alloc(dma, PAGE, NULL, &b->buf);

	if (r < 0)
		return fail("iommufd_dma_buf_alloc", r);
	b->va = iommufd_dma_buf_get_va(b->buf);
	b->iova = iommufd_dma_buf_get_iova(b->buf);
	return 0;
}

/* Print a space-padded ASCII field of the identify data without its trailing blanks. */
static void print_field(const char *name, const uint8_t *p, size_t len)
{
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\0'))
		len--;
	printf("%s: %.*s\n", name, (int)len, (const char *)p);
}

int main(int argc, char **argv)
{
	const char *bdf = argc > 1 ? argv[1] : "0000:00:03.0";
	struct dma_buf sq = { 0 }, cq = { 0 }, id = { 0 };
	struct iommufd_ctx *ctx = NULL;
	struct iommufd_dma *dma = NULL;
	struct nvme n = { 0 };
	uint32_t ioas = 0, dev_id, hwpt, cmd, lo, hi, status, dw3, dstrd;
	uint64_t cap, timeout_ms, deadline;
	uint8_t *sqe, *cqe;
	void *bar = NULL;
	int r;

	/* 1. A context with one IOAS, and the device (its VFIO cdev, found through sysfs). */
	r = iommufd_ctx_new(&ctx);
	if (r < 0 || (r = iommufd_ioas_alloc(ctx, &ioas)) < 0) {
		fail("make a context and an IOAS", r);
		goto out;
	}
	r = iommufd_device_open_pci(ctx, bdf, &n.dev);
	if (r < 0) {
		fail("open the device", r);
		goto out;
	}
	/* bind: the device now belongs to ctx (its DMA is blocked); attach: it DMAs through ioas */
	r = iommufd_device_bind(n.dev, ctx, NULL, &dev_id);
	if (r < 0 || (r = iommufd_device_attach(n.dev, ioas, &hwpt)) < 0) {
		fail("bind and attach the device", r);
		goto out;
	}
	printf("device %s: dev_id %u attached to IOAS %u (HWPT %u)\n", bdf, dev_id, ioas, hwpt);

	/* 2. Memory the controller reads (the SQ) and writes (the CQ, the identify data),
	 * from a DMA manager on the IOAS (made after the attach: it knows the reserved ranges). */
	r = iommufd_dma_new(ctx, ioas, NULL, &dma);
	if (r < 0) {
		fail("iommufd_dma_new", r);
		goto out;
	}
	if ((r = dma_alloc(dma, &sq)) < 0 || (r = dma_alloc(dma, &cq)) < 0 || (r = dma_alloc(dma, &id)) < 0)
		goto out;

	/* 3. The registers: map BAR0 if we can, else go through the device file. */
	r = iommufd_device_region_mmap(n.dev, IOMMUFD_PCI_BAR0_REGION, 0, BAR_MAP_LEN,
				       PROT_READ | PROT_WRITE, &bar);
	if (r == 0)
		n.bar = bar;
	else
		printf("BAR0 cannot be mapped (%s): using region reads and writes\n", strerror(-r));

	/* 4. Let the device answer on its BAR and master the bus (DMA). */
	r = iommufd_device_config_read(n.dev, PCI_COMMAND, 2, &cmd);
	if (r == 0)
		r = iommufd_device_config_write(n.dev, PCI_COMMAND, 2,
						cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	if (r < 0) {
		fail("enable bus mastering", r);
		goto out;
	}

	/* 5. CAP: the ready timeout (TO, in 500 ms units) and the doorbell stride. */
	if ((r = reg_read32(&n, NVME_REG_CAP, &lo)) < 0 ||
	    (r = reg_read32(&n, NVME_REG_CAP + 4, &hi)) < 0) {
		fail("read CAP", r);
		goto out;
	}
	cap = (uint64_t)hi << 32 | lo;
	timeout_ms = ((cap >> 24) & 0xff) * 500;
	if (timeout_ms == 0)
		timeout_ms = 500;
	dstrd = (cap >> 32) & 0xf;

	/* 6. Reset: clear CC.EN and wait until the controller says it is not ready. */
	if ((r = reg_write32(&n, NVME_REG_CC, 0)) < 0 || (r = wait_ready(&n, 0, timeout_ms)) < 0)
		goto out;

	/* 7. The admin queues: their sizes (0-based) and IOVAs, then enable. */
	if ((r = reg_write32(&n, NVME_REG_AQA, (QUEUE_DEPTH - 1) << 16 | (QUEUE_DEPTH - 1))) < 0 ||
	    (r = reg_write64(&n, NVME_REG_ASQ, sq.iova)) < 0 ||
	    (r = reg_write64(&n, NVME_REG_ACQ, cq.iova)) < 0 ||
	    (r = reg_write32(&n, NVME_REG_CC,
			     NVME_CC_EN | NVME_CC_IOSQES(6) | NVME_CC_IOCQES(4))) < 0) {
		fail("program the admin queues", r);
		goto out;
	}
	r = wait_ready(&n, NVME_CSTS_RDY, timeout_ms);
	if (r < 0)
		goto out;

	/*
	 * 8. Identify Controller: opcode 0x06, command id 1, CNS (dword 10) = 1,
	 * PRP1 = where to write the 4 KiB answer. Write it in SQ slot 0, make
	 * sure it is in memory, then move the SQ tail doorbell to 1.
	 */
	sqe = sq.va;
	memset(sqe, 0, SQE_SIZE);
	sqe[0] = 0x06;
	sqe[2] = 1;
	memcpy(sqe + 24, &id.iova, 8); /* PRP1 (little endian, like x86 and the controller) */
	sqe[40] = 1;
	atomic_thread_fence(memory_order_seq_cst);
	r = reg_write32(&n, NVME_REG_DBS, 1);
	if (r < 0) {
		fail("ring the SQ doorbell", r);
		goto out;
	}

	/* 9. The controller posts a completion in CQ slot 0 and flips its phase bit to 1. */
	cqe = cq.va;
	deadline = now_ms() + 5000;
	for (;;) {
		dw3 = *(volatile uint32_t *)(cqe + 12);
		if (dw3 & (1u << 16))
			break;
		if (now_ms() > deadline) {
			fprintf(stderr, "nvme-identify: no completion after 5 s\n");
			r = -ETIMEDOUT;
			goto out;
		}
		usleep(100);
	}
	atomic_thread_fence(memory_order_seq_cst);
	/* we consumed slot 0: CQ head doorbell = 1 (good manners, it frees the slot) */
	reg_write32(&n, NVME_REG_DBS + (4u << dstrd), 1);
	status = dw3 >> 17; /* status field, without the phase bit */
	if (status != 0 || (dw3 & 0xffff) != 1) {
		fprintf(stderr, "nvme-identify: Identify failed: status 0x%x, command id %u\n",
			status, dw3 & 0xffff);
		r = -EIO;
		goto out;
	}

	/* 10. The answer: serial number in bytes 4-23, model in bytes 24-63. */
	print_field("model", (uint8_t *)id.va + 24, 40);
	print_field("serial", (uint8_t *)id.va + 4, 20);

	/* Stop the controller before its memory goes away. */
	reg_write32(&n, NVME_REG_CC, 0);
	r = wait_ready(&n, 0, timeout_ms);
out:
	if (bar)
		iommufd_device_region_munmap(n.dev, bar, BAR_MAP_LEN);
	/* Closing the device detaches and unbinds it; then the buffers can go (unmapped and freed). */
	iommufd_device_unref(n.dev);
	iommufd_dma_buf_free(sq.buf);
	iommufd_dma_buf_free(cq.buf);
	iommufd_dma_buf_free(id.buf);
	iommufd_dma_unref(dma);
	iommufd_ctx_unref(ctx);
	return r < 0 ? 1 : 0;
}
