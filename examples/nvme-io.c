/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A userspace NVMe driver that moves data: it brings an NVMe controller on
 * vfio-pci up through libiommufd (as nvme-identify does), creates an I/O
 * queue pair, writes blocks of namespace 1 and reads them back through the
 * IOMMU, and checks that they match.
 *
 *   nvme-io [BDF]          (default 0000:00:03.0)
 *
 * On the emulator, through the preload library:
 *   LD_PRELOAD=libiommufd-preload.so IOMMUFD_EMU_DEVICES=nvme@0000:00:03.0 nvme-io
 * On a machine, with a controller bound to vfio-pci whose namespace 1 may be
 * overwritten (its first 16 KiB are): it exits 77 when there is no namespace.
 * install-test: build only
 *
 *   cc nvme-io.c $(pkg-config --cflags --libs libiommufd) -o nvme-io
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

#define REG_CAP 0x00
#define REG_CC 0x14
#define REG_CSTS 0x1c
#define REG_AQA 0x24
#define REG_ASQ 0x28
#define REG_ACQ 0x30
#define DOORBELLS 0x1000
#define CC_ENABLE (1u | 6u << 16 | 4u << 20) /* EN, 64-byte SQEs, 16-byte CQEs */
#define CSTS_RDY 1u
#define CSTS_CFS 2u

#define PAGE 4096
#define DEPTH 16 /* entries of each queue */
#define BLOCKS_BYTES (4 * PAGE)

/* pages of the one DMA buffer: queues, identify data, PRP list, data out, data in */
enum { ASQ, ACQ, IOSQ, IOCQ, IDENT, PRPLIST, OUT, IN = OUT + 4, NPAGES = IN + 4 };

/* a submission queue and its completion queue */
struct queue {
	uint16_t qid;
	int sq_page, cq_page;
	uint16_t tail, head, cid;
	uint8_t phase;
};

struct nvme {
	struct iommufd_device *dev;
	volatile uint8_t *bar;
	uint32_t dstrd;
	uint8_t *mem;   /* NPAGES pages, mapped in the IOAS at iova */
	uint64_t iova;
	struct queue admin, io;
};

static int fail(const char *what, int r)
{
	fprintf(stderr, "nvme-io: %s: %s (%s)\n", what, strerror(-r), iommufd_last_error());
	return r;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t rd32(struct nvme *n, uint32_t off)
{
	return *(volatile uint32_t *)(n->bar + off);
}

static void wr32(struct nvme *n, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(n->bar + off) = v;
}

static void wr64(struct nvme *n, uint32_t off, uint64_t v)
{
	wr32(n, off, (uint32_t)v);
	wr32(n, off + 4, (uint32_t)(v >> 32));
}

static uint64_t iova(struct nvme *n, int page)
{
	return n->iova + (uint64_t)page * PAGE;
}

static uint8_t *va(struct nvme *n, int page)
{
	return n->mem + (size_t)page * PAGE;
}

static int wait_ready(struct nvme *n, uint32_t want, uint64_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		uint32_t csts = rd32(n, REG_CSTS);

		if (csts & CSTS_CFS) {
			fprintf(stderr, "nvme-io: controller fatal status\n");
			return -EIO;
		}
		if ((csts & CSTS_RDY) == want)
			return 0;
		if (now_ms() > deadline) {
			fprintf(stderr, "nvme-io: CSTS.RDY not %u in time\n", want);
			return -ETIMEDOUT;
		}
		usleep(1000);
	}
}

/*
 * One command: put it at the SQ tail, ring the tail doorbell, wait for the
 * completion whose phase tag says it is new, ring the CQ head doorbell.
 * Returns the status field (0: success) or -errno.
 */
static int submit(struct nvme *n, struct queue *q, uint8_t sqe[64], uint32_t *dw0)
{
	volatile uint32_t *cqe;
	uint64_t deadline = now_ms() + 5000;
	uint16_t cid = ++q->cid;

	memcpy(sqe + 2, &cid, 2);
	memcpy(va(n, q->sq_page) + q->tail * 64, sqe, 64);
	q->tail = (q->tail + 1) % DEPTH;
	atomic_thread_fence(memory_order_seq_cst);
	wr32(n, DOORBELLS + (2u * q->qid) * (4u << n->dstrd), q->tail);
	cqe = (volatile uint32_t *)(va(n, q->cq_page) + q->head * 16);
	while (((cqe[3] >> 16) & 1) != q->phase) {
		if (now_ms() > deadline) {
			fprintf(stderr, "nvme-io: no completion for command %u\n", cid);
			return -ETIMEDOUT;
		}
		usleep(10);
	}
	atomic_thread_fence(memory_order_seq_cst);
	if (dw0)
		*dw0 = cqe[0];
	if ((cqe[3] & 0xffff) != cid) {
		fprintf(stderr, "nvme-io: completion for command %u, expected %u\n",
			cqe[3] & 0xffff, cid);
		return -EIO;
	}
	if (++q->head == DEPTH) {
		q->head = 0;
		q->phase ^= 1;
	}
	wr32(n, DOORBELLS + (2u * q->qid + 1) * (4u << n->dstrd), q->head);
	return (int)((cqe[3] >> 17) & 0x7fff);
}

static void sqe_init(uint8_t sqe[64], uint8_t opc, uint32_t nsid, uint64_t prp1, uint64_t prp2)
{
	memset(sqe, 0, 64);
	sqe[0] = opc;
	memcpy(sqe + 4, &nsid, 4);
	memcpy(sqe + 24, &prp1, 8);
	memcpy(sqe + 32, &prp2, 8);
}

static void cdw(uint8_t sqe[64], int n, uint32_t v)
{
	memcpy(sqe + 4 * n, &v, 4);
}

/* admin command with a status check */
static int admin(struct nvme *n, uint8_t sqe[64], uint32_t *dw0, const char *what)
{
	int st = submit(n, &n->admin, sqe, dw0);

	if (st > 0)
		fprintf(stderr, "nvme-io: %s: status 0x%x\n", what, st);
	return st > 0 ? -EIO : st;
}

/* Read or Write of the 4 pages at page, LBAs [slba, slba + nlb), through PRP1 + a PRP list */
static int rw(struct nvme *n, uint8_t opc, uint64_t slba, uint32_t nlb, int page)
{
	uint64_t *list = (uint64_t *)(void *)va(n, PRPLIST);
	uint8_t sqe[64];
	int st;

	for (int i = 1; i < 4; i++)
		list[i - 1] = iova(n, page + i);
	sqe_init(sqe, opc, 1, iova(n, page), iova(n, PRPLIST));
	cdw(sqe, 10, (uint32_t)slba);
	cdw(sqe, 11, (uint32_t)(slba >> 32));
	cdw(sqe, 12, nlb - 1);
	st = submit(n, &n->io, sqe, NULL);
	if (st > 0)
		fprintf(stderr, "nvme-io: %s: status 0x%x\n", opc == 1 ? "Write" : "Read", st);
	return st > 0 ? -EIO : st;
}

int main(int argc, char **argv)
{
	const char *bdf = argc > 1 ? argv[1] : "0000:00:03.0";
	struct iommufd_ctx *ctx = NULL;
	struct nvme n = { 0 };
	uint32_t ioas = 0, hwpt, cmd, nsid, lbads, nlb, timeout_ms;
	uint64_t cap, nsze;
	uint8_t sqe[64], *id;
	void *bar = NULL;
	int r;

	/* a context, an IOAS, the device attached to it, its registers mapped */
	r = iommufd_ctx_new(&ctx);
	if (r < 0 || (r = iommufd_ioas_alloc(ctx, &ioas)) < 0) {
		fail("make a context and an IOAS", r);
		goto out;
	}
	if ((r = iommufd_device_open_pci(ctx, bdf, &n.dev)) < 0 ||
	    (r = iommufd_device_bind(n.dev, ctx, NULL, NULL)) < 0 ||
	    (r = iommufd_device_attach(n.dev, ioas, &hwpt)) < 0) {
		fail("open, bind and attach the device", r);
		goto out;
	}
	r = iommufd_device_region_mmap(n.dev, IOMMUFD_PCI_BAR0_REGION, 0, 0x2000,
				       PROT_READ | PROT_WRITE, &bar);
	if (r < 0) {
		fail("map BAR0", r);
		goto out;
	}
	n.bar = bar;
	if ((r = iommufd_device_config_read(n.dev, 0x04, 2, &cmd)) < 0 ||
	    (r = iommufd_device_config_write(n.dev, 0x04, 2, cmd | 0x6)) < 0) {
		fail("enable memory space and bus mastering", r);
		goto out;
	}

	/* the memory the controller uses, all in one mapping */
	n.mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	if (n.mem == MAP_FAILED) {
		n.mem = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = iommufd_ioas_map(ctx, ioas, n.mem, NPAGES * PAGE, &n.iova,
			     IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
	if (r < 0) {
		fail("iommufd_ioas_map", r);
		goto out;
	}

	/* reset, admin queues, enable */
	cap = *(volatile uint64_t *)(n.bar + REG_CAP);
	n.dstrd = (cap >> 32) & 0xf;
	timeout_ms = (uint32_t)((cap >> 24) & 0xff) * 500; /* CAP.TO: 500 ms units */
	if (!timeout_ms)
		timeout_ms = 500;
	wr32(&n, REG_CC, 0);
	if ((r = wait_ready(&n, 0, timeout_ms)) < 0)
		goto out;
	n.admin = (struct queue){ .qid = 0, .sq_page = ASQ, .cq_page = ACQ, .phase = 1 };
	wr32(&n, REG_AQA, (DEPTH - 1) << 16 | (DEPTH - 1));
	wr64(&n, REG_ASQ, iova(&n, ASQ));
	wr64(&n, REG_ACQ, iova(&n, ACQ));
	wr32(&n, REG_CC, CC_ENABLE);
	if ((r = wait_ready(&n, CSTS_RDY, timeout_ms)) < 0)
		goto out;

	/* Identify: the active namespaces (CNS 2), then namespace 1 (CNS 0) */
	id = va(&n, IDENT);
	sqe_init(sqe, 0x06, 0, iova(&n, IDENT), 0);
	cdw(sqe, 10, 2);
	if ((r = admin(&n, sqe, NULL, "Identify active namespaces")) < 0)
		goto out;
	memcpy(&nsid, id, 4);
	if (nsid != 1) {
		printf("no namespace 1: nothing to write\n");
		r = 77;
		goto out;
	}
	sqe_init(sqe, 0x06, 1, iova(&n, IDENT), 0);
	cdw(sqe, 10, 0);
	if ((r = admin(&n, sqe, NULL, "Identify namespace")) < 0)
		goto out;
	memcpy(&nsze, id, 8);
	lbads = id[128 + 4 * (id[26] & 0xf) + 2];
	nlb = BLOCKS_BYTES >> lbads;
	printf("namespace 1: %llu blocks of %u bytes\n", (unsigned long long)nsze, 1u << lbads);
	if (lbads < 9 || lbads > 12 || nsze < nlb) {
		fprintf(stderr, "nvme-io: namespace too small or odd block size\n");
		r = -EINVAL;
		goto out;
	}

	/* an I/O queue pair: the CQ first (no interrupts: we poll), then its SQ */
	n.io = (struct queue){ .qid = 1, .sq_page = IOSQ, .cq_page = IOCQ, .phase = 1 };
	sqe_init(sqe, 0x05, 0, iova(&n, IOCQ), 0);
	cdw(sqe, 10, (DEPTH - 1) << 16 | 1);
	cdw(sqe, 11, 1); /* physically contiguous */
	if ((r = admin(&n, sqe, NULL, "Create I/O CQ")) < 0)
		goto out;
	sqe_init(sqe, 0x01, 0, iova(&n, IOSQ), 0);
	cdw(sqe, 10, (DEPTH - 1) << 16 | 1);
	cdw(sqe, 11, 1u << 16 | 1); /* CQ 1, physically contiguous */
	if ((r = admin(&n, sqe, NULL, "Create I/O SQ")) < 0)
		goto out;

	/* write 16 KiB at LBA 0, read it back into other pages, compare */
	for (size_t i = 0; i < BLOCKS_BYTES; i++)
		va(&n, OUT)[i] = (uint8_t)(i * 7 + (i >> 9));
	memset(va(&n, IN), 0, BLOCKS_BYTES);
	if ((r = rw(&n, 0x01, 0, nlb, OUT)) < 0 || (r = rw(&n, 0x02, 0, nlb, IN)) < 0)
		goto out;
	if (memcmp(va(&n, OUT), va(&n, IN), BLOCKS_BYTES)) {
		fprintf(stderr, "nvme-io: what was read differs from what was written\n");
		r = -EIO;
		goto out;
	}
	printf("wrote and read back %u blocks at LBA 0: identical\n", nlb);

	/* tidy up: the SQ, then the CQ, then the controller */
	sqe_init(sqe, 0x00, 0, 0, 0);
	cdw(sqe, 10, 1);
	if ((r = admin(&n, sqe, NULL, "Delete I/O SQ")) < 0)
		goto out;
	sqe_init(sqe, 0x04, 0, 0, 0);
	cdw(sqe, 10, 1);
	if ((r = admin(&n, sqe, NULL, "Delete I/O CQ")) < 0)
		goto out;
	wr32(&n, REG_CC, 0);
	r = wait_ready(&n, 0, timeout_ms);
out:
	if (bar)
		iommufd_device_region_munmap(n.dev, bar, 0x2000);
	iommufd_device_unref(n.dev);
	if (ctx) {
		iommufd_ioas_unmap_all(ctx, ioas, NULL);
		iommufd_ctx_unref(ctx);
	}
	if (n.mem)
		munmap(n.mem, NPAGES * PAGE);
	return r == 77 ? 77 : r < 0 ? 1 : 0;
}
