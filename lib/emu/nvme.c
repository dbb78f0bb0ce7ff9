// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The emulated NVMe controller: QEMU's hw/nvme as a driver sees it on
 * vfio-pci (1b36:0010, serial "deadbeef" like the VM's), written from the
 * NVMe base specification 1.4 and the values QEMU reports.
 *
 * BAR0 (16 KiB, QEMU's layout for 64 I/O queue pairs and 65 vectors):
 *   0x0000 controller registers: CAP 0x004018200f0107ff (MQES 2047, CQR, TO
 *          15, DSTRD 0, CSS NVM + I/O command sets, MPSMAX 64 KiB), VS 1.4,
 *          INTMS/INTMC, CC, CSTS, AQA, ASQ, ACQ; the rest reads 0
 *   0x1000 doorbells: SQy tail at 0x1000 + 8y, CQy head at 0x1004 + 8y
 *   0x2000 MSI-X table (65 entries), 0x3000 PBA
 *
 * Behaviour: CC.EN 0 -> 1 checks the admin queue setup and sets CSTS.RDY
 * (or CSTS.CFS, as QEMU does for a bad setup); EN 1 -> 0 resets the
 * controller (queues deleted, held AERs dropped, CC and CSTS 0); CC.SHN sets
 * CSTS.SHST complete. Admin commands: Delete/Create I/O SQ and CQ, Get Log
 * Page (error, SMART, firmware slot), Identify (namespace, controller, active
 * namespace list, namespace descriptors), Abort, Set/Get Features,
 * Asynchronous Event Request (held: no event is ever raised). I/O commands on
 * namespace 1: Flush, Write, Read, Write Zeroes. Data pointers: PRP1/PRP2
 * and PRP lists, SGL data blocks, bit buckets (reads) and (last) segments.
 * Every access to host memory goes through the device's IOMMU attachment
 * with bus mastering on (vdev_dma); a refused data transfer completes the
 * command with Data Transfer Error, a refused queue access sets CSTS.CFS
 * (QEMU's choices). Completions carry the phase tag; a CQ with interrupts
 * enabled signals its MSI-X vector's eventfd (VFIO_DEVICE_SET_IRQS) once per
 * batch, or INTx when that is the enabled index; as in QEMU, a CQ made
 * while MSI-X was off (the admin CQ: at CC.EN) never signals MSI-X.
 *
 * Differences from QEMU that a driver can see: Identify advertises only what
 * is modelled here (no namespace management, format, directives, doorbell
 * buffer, copy, DSM or compare); commands complete as soon as the
 * device-model thread (bar-thread.c) or a pwrite sees the doorbell; a load
 * of a doorbell through the mapping reads the last value stored there (a
 * pread reads 0, as QEMU's MMIO does); no asynchronous event is generated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vfio.h"

#define NQ 65                   /* queue pairs: admin + QEMU's max_ioqpairs 64 */
#define NVECTORS 65
#define MQES 0x7ffu
#define CAP_VALUE 0x004018200f0107ffull
#define VS_VALUE 0x00010400u
#define REGS_LEN 0x40u          /* CAP .. ACQ */
#define DB_BASE 0x1000u
#define DB_LEN (8u * NQ)
#define LBA_SHIFT 9
#define MDTS 7                  /* 2^7 minimum pages: 512 KiB */
#define AERL 3                  /* 4 outstanding AERs */
#define BUDGET 64               /* commands of one SQ per pass */
#define DEFAULT_NS_SIZE (64ull << 20)
#define NN 256                  /* QEMU's NVME_MAX_NAMESPACES */
#define FW_REV "10.0.0"         /* QEMU_VERSION of the VM's QEMU 10 */

/* registers */
#define R_CAP 0x00
#define R_VS 0x08
#define R_INTMS 0x0c
#define R_INTMC 0x10
#define R_CC 0x14
#define R_CSTS 0x1c
#define R_NSSR 0x20
#define R_AQA 0x24
#define R_ASQ 0x28
#define R_ACQ 0x30

#define CC_EN(cc) ((cc) & 1)
#define CC_CSS(cc) (((cc) >> 4) & 7)
#define CC_MPS(cc) (((cc) >> 7) & 0xf)
#define CC_SHN(cc) (((cc) >> 14) & 3)
#define CSTS_RDY 0x1u
#define CSTS_CFS 0x2u
#define CSTS_SHST_COMPLETE (2u << 2)

/* status: SC | SCT << 8, DNR 0x4000 (as in the CQE's status field) */
#define DNR 0x4000u
#define SC_SUCCESS 0x00u
#define SC_INVALID_OPCODE 0x01u
#define SC_INVALID_FIELD 0x02u
#define SC_DATA_XFER_ERROR 0x04u
#define SC_ABORT_REQUESTED 0x07u
#define SC_CMD_SEQ_ERROR 0x0cu
#define SC_SGL_SEG_INVALID 0x0du
#define SC_SGL_NUM_INVALID 0x0eu
#define SC_SGL_LEN_INVALID 0x0fu
#define SC_SGL_TYPE_INVALID 0x11u
#define SC_PRP_OFFSET_INVALID 0x13u
#define SC_INVALID_NSID 0x0bu
#define SC_LBA_RANGE 0x80u
#define SC_INVALID_CQID 0x100u
#define SC_INVALID_QID 0x101u
#define SC_MAX_QSIZE 0x102u
#define SC_AER_LIMIT 0x105u
#define SC_INVALID_VECTOR 0x108u
#define SC_INVALID_LOG 0x109u
#define SC_INVALID_QDEL 0x10cu
#define SC_NOT_SAVEABLE 0x10du
#define HELD 0xffffu            /* not a status: the command stays outstanding */

struct sq {
	bool on;
	uint16_t cqid;
	uint32_t size, head, tail;
	uint64_t base;
};

struct cq {
	bool on, ien, notify;
	bool msix_used;          /* MSI-X was on when the CQ was made (QEMU's rule) */
	uint16_t iv;
	uint8_t phase;
	uint32_t size, head, tail;
	uint64_t base;
};

struct cmd {
	uint8_t opc, flags;
	uint16_t cid;
	uint32_t nsid;
	uint64_t mptr;
	uint8_t dptr[16];
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

/* a piece of the data buffer a command names: host IOVA, or bytes to drop */
struct seg {
	uint64_t addr;
	uint32_t len;
	bool bucket;
};

struct seglist {
	struct seg *s;
	unsigned int n, cap;
};

struct nvme {
	struct bar_watch regs, dbs;
	uint32_t regs_shadow[REGS_LEN / 4];
	uint32_t dbs_shadow[DB_LEN / 4];
	/* registers */
	uint32_t intms, cc, csts, aqa;
	uint64_t asq, acq;
	uint32_t page_size;
	bool fatal;
	struct sq sq[NQ];
	struct cq cq[NQ];
	uint16_t aer[AERL + 1];
	unsigned int naer;
	bool qs_created;
	int more;                /* atomic: a pass left commands in a queue */
	/* features */
	uint32_t arbitration, power, temp_over, temp_under, err_recovery, vwc, coalescing;
	uint32_t atomicity, aec;
	/* namespace 1 */
	uint8_t *ns;
	uint64_t ns_bytes;
	char serial[21];
};

static struct nvme *N(struct vdev *d)
{
	return d->model;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* space-padded ASCII, as Identify's strings are */
static void put_str(uint8_t *p, size_t len, const char *s)
{
	size_t n = strlen(s);

	memset(p, ' ', len);
	memcpy(p, s, n < len ? n : len);
}

/* ------------------------------------------------------------ registers */

/* what register word off reads */
static uint32_t reg_word(struct nvme *n, uint32_t off)
{
	switch (off) {
	case R_CAP:
		return (uint32_t)CAP_VALUE;
	case R_CAP + 4:
		return (uint32_t)(CAP_VALUE >> 32);
	case R_VS:
		return VS_VALUE;
	case R_INTMS:
	case R_INTMC:
		return n->intms;
	case R_CC:
		return n->cc;
	case R_CSTS:
		return n->csts;
	case R_AQA:
		return n->aqa;
	case R_ASQ:
		return (uint32_t)n->asq;
	case R_ASQ + 4:
		return (uint32_t)(n->asq >> 32);
	case R_ACQ:
		return (uint32_t)n->acq;
	case R_ACQ + 4:
		return (uint32_t)(n->acq >> 32);
	}
	return 0;
}

static void regs_publish(struct vdev *d)
{
	struct nvme *n = N(d);

	for (uint32_t off = 0; off < REGS_LEN; off += 4)
		bar_publish(d, &n->regs, off, reg_word(n, off));
}

static void queues_clear(struct vdev *d)
{
	struct nvme *n = N(d);

	memset(n->sq, 0, sizeof(n->sq));
	memset(n->cq, 0, sizeof(n->cq));
	n->naer = 0;
	n->qs_created = false;
	n->fatal = false;
	__atomic_store_n(&n->more, 0, __ATOMIC_RELAXED);
	/* doorbells read 0 again, so the first store of a new queue is a change */
	for (uint32_t off = DB_BASE; off < DB_BASE + DB_LEN; off += 4)
		bar_set(d, &n->dbs, off, 0);
}

/* controller reset (CC.EN 1 -> 0): QEMU's nvme_ctrl_reset */
static void ctrl_reset(struct vdev *d)
{
	struct nvme *n = N(d);

	queues_clear(d);
	n->csts = 0;
	n->intms = 0;
	n->cc = 0;
}

static void features_default(struct nvme *n)
{
	n->arbitration = 0;
	n->power = 0;
	n->temp_over = 0x157; /* QEMU's warning temperature, ~70 C */
	n->temp_under = 0;
	n->err_recovery = 0;
	n->vwc = 0;
	n->coalescing = 0;
	n->atomicity = 0;
	n->aec = 0;
}

static int ctrl_start(struct vdev *d)
{
	struct nvme *n = N(d);
	uint32_t mps = CC_MPS(n->cc), page = 1u << (12 + mps);
	uint32_t css = (uint32_t)(CAP_VALUE >> 37) & 0xff;

	if ((n->asq & (page - 1)) || (n->acq & (page - 1)))
		return -1;
	if (!(css & (1u << CC_CSS(n->cc))))
		return -1;
	if (mps > ((CAP_VALUE >> 52) & 0xf)) /* MPSMIN is 0: 4 KiB */
		return -1;
	if (!(n->aqa & 0xfff) || !((n->aqa >> 16) & 0xfff))
		return -1;
	n->page_size = page;
	n->sq[0] = (struct sq){ .on = true, .cqid = 0, .size = (n->aqa & 0xfff) + 1,
				.base = n->asq };
	n->cq[0] = (struct cq){ .on = true, .ien = true, .iv = 0, .phase = 1,
				.size = ((n->aqa >> 16) & 0xfff) + 1, .base = n->acq,
				.msix_used = d->irq_index == KABI_VFIO_PCI_MSIX_IRQ_INDEX };
	return 0;
}

/* a write of v to register word off (QEMU's nvme_write_bar) */
static void reg_store(struct vdev *d, uint32_t off, uint32_t v)
{
	struct nvme *n = N(d);

	switch (off) {
	case R_INTMS:
		n->intms |= v;
		break;
	case R_INTMC:
		n->intms &= ~v;
		break;
	case R_CC: {
		uint32_t old = n->cc;

		n->cc = v;
		if (CC_SHN(v) && !CC_SHN(old))
			n->csts = (n->csts & ~(3u << 2)) | CSTS_SHST_COMPLETE;
		else if (!CC_SHN(v) && CC_SHN(old))
			n->csts &= ~(3u << 2);
		if (CC_EN(v) && !CC_EN(old))
			n->csts = ctrl_start(d) ? CSTS_CFS : CSTS_RDY;
		else if (!CC_EN(v) && CC_EN(old))
			ctrl_reset(d);
		break;
	}
	case R_AQA:
		n->aqa = v;
		break;
	case R_ASQ:
		n->asq = (n->asq & ~0xffffffffull) | v;
		break;
	case R_ASQ + 4:
		n->asq = (n->asq & 0xffffffffull) | (uint64_t)v << 32;
		break;
	case R_ACQ:
		n->acq = (n->acq & ~0xffffffffull) | v;
		break;
	case R_ACQ + 4:
		n->acq = (n->acq & 0xffffffffull) | (uint64_t)v << 32;
		break;
	default:
		break; /* read-only or reserved: no effect */
	}
}

/* take in the stores into the register words; CC last (it may use the others) */
static bool regs_take_in(struct vdev *d)
{
	struct nvme *n = N(d);
	uint32_t snap[REGS_LEN / 4];
	bool did = false;

	/* one look at all of them: CC before the rest, so a CC store seen here
	 * comes with every store the program made before it */
	snap[R_CC / 4] = bar_load(d, R_CC);
	for (uint32_t off = 0; off < REGS_LEN; off += 4)
		if (off != R_CC)
			snap[off / 4] = bar_load(d, off);
	for (uint32_t off = 0; off < REGS_LEN; off += 4) {
		if (off == R_CC || snap[off / 4] == n->regs_shadow[off / 4])
			continue;
		bar_watch_seen(&n->regs, off, snap[off / 4]);
		reg_store(d, off, snap[off / 4]);
		did = true;
	}
	if (snap[R_CC / 4] != n->regs_shadow[R_CC / 4]) {
		bar_watch_seen(&n->regs, R_CC, snap[R_CC / 4]);
		reg_store(d, R_CC, snap[R_CC / 4]);
		did = true;
	}
	return did;
}

/* ------------------------------------------------------------ doorbells */

static bool dbs_take_in(struct vdev *d)
{
	struct nvme *n = N(d);
	bool did = false;

	/* CQ heads first: they make room for the completions of new commands */
	for (int pass = 1; pass >= 0; pass--) {
		for (uint32_t q = 0; q < NQ; q++) {
			uint32_t off = DB_BASE + 8 * q + 4 * (uint32_t)pass;
			uint32_t v = bar_load(d, off);

			if (v == n->dbs_shadow[(off - DB_BASE) / 4])
				continue;
			bar_watch_seen(&n->dbs, off, v);
			did = true;
			/* writes to absent queues or past a queue's end are ignored (QEMU) */
			if (pass) {
				if (n->cq[q].on && (v & 0xffff) < n->cq[q].size)
					n->cq[q].head = v & 0xffff;
			} else if (n->sq[q].on && (v & 0xffff) < n->sq[q].size) {
				n->sq[q].tail = v & 0xffff;
			}
		}
	}
	return did;
}

/* ------------------------------------------------------------ completions, interrupts */

static bool cq_full(const struct cq *cq)
{
	return (cq->tail + 1) % cq->size == cq->head;
}

static void post(struct vdev *d, uint16_t sqid, uint16_t cid, uint16_t status, uint32_t dw0)
{
	struct nvme *n = N(d);
	struct sq *sq = &n->sq[sqid];
	struct cq *cq = &n->cq[sq->cqid];
	uint8_t e[16] = { 0 };
	uint64_t at = cq->base + (uint64_t)cq->tail * 16;

	put32(e, dw0);
	put16(e + 8, (uint16_t)sq->head);
	put16(e + 10, sqid);
	put16(e + 12, cid);
	put16(e + 14, (uint16_t)(status << 1 | cq->phase));
	/* the entry, then the dword with the phase tag: a poller never sees a half */
	if (vdev_dma(d, at, e, 12, true) || vdev_dma(d, at + 12, e + 12, 4, true)) {
		n->fatal = true;
		n->csts |= CSTS_CFS;
		return;
	}
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1;
	}
	cq->notify = true;
}

static void interrupts(struct vdev *d)
{
	struct nvme *n = N(d);

	for (uint32_t q = 0; q < NQ; q++) {
		struct cq *cq = &n->cq[q];

		if (!cq->on || !cq->notify)
			continue;
		cq->notify = false;
		if (!cq->ien)
			continue;
		/* QEMU's NVMe signals a vector only if MSI-X was enabled when the
		 * CQ was made (hw/nvme/ctrl.c nvme_init_cq: msix_vector_use) */
		if (d->irq_index == KABI_VFIO_PCI_MSIX_IRQ_INDEX && cq->msix_used)
			vdev_irq_raise(d, cq->iv);
		else if (d->irq_index == KABI_VFIO_PCI_INTX_IRQ_INDEX && !(n->intms & 1))
			vdev_irq_raise(d, 0);
	}
}

/* ------------------------------------------------------------ data pointers */

static int seg_add(struct seglist *l, uint64_t addr, uint32_t len, bool bucket)
{
	if (l->n == l->cap) {
		unsigned int cap = l->cap ? 2 * l->cap : 16;
		struct seg *s = realloc(l->s, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		l->s = s;
		l->cap = cap;
	}
	l->s[l->n++] = (struct seg){ addr, len, bucket };
	return 0;
}

/* PRP1/PRP2 and PRP lists for len bytes */
static uint16_t map_prp(struct vdev *d, const struct cmd *c, uint64_t len, struct seglist *l)
{
	struct nvme *n = N(d);
	uint64_t page = n->page_size, prp1 = get64(c->dptr), prp2 = get64(c->dptr + 8);
	uint64_t first = page - (prp1 & (page - 1)), list;

	if (first > len)
		first = len;
	if (seg_add(l, prp1, (uint32_t)first, false))
		return SC_DATA_XFER_ERROR;
	len -= first;
	if (!len)
		return SC_SUCCESS;
	if (len <= page) {
		if (prp2 & (page - 1))
			return SC_PRP_OFFSET_INVALID | DNR;
		return seg_add(l, prp2, (uint32_t)len, false) ? SC_DATA_XFER_ERROR : SC_SUCCESS;
	}
	/* a list: entries up to the end of its page, the last one chains to the next page */
	list = prp2;
	if (list & 7)
		return SC_PRP_OFFSET_INVALID | DNR;
	while (len) {
		uint64_t nent = (page - (list & (page - 1))) / 8, ent[512];

		if (nent > 512)
			nent = 512;
		if (vdev_dma(d, list, ent, nent * 8, false))
			return SC_DATA_XFER_ERROR;
		for (uint64_t i = 0; i < nent && len; i++) {
			uint64_t chunk = len < page ? len : page;

			if (i == nent - 1 && len > page) {
				list = ent[i];
				if (list & 7)
					return SC_PRP_OFFSET_INVALID | DNR;
				break;
			}
			if (ent[i] & (page - 1))
				return SC_PRP_OFFSET_INVALID | DNR;
			if (seg_add(l, ent[i], (uint32_t)chunk, false))
				return SC_DATA_XFER_ERROR;
			len -= chunk;
		}
	}
	return SC_SUCCESS;
}

enum { SGL_DATA = 0, SGL_BUCKET = 1, SGL_SEGMENT = 2, SGL_LAST = 3 };

/* SGL1 and the segments it chains, for len bytes (longer lists are cut at len) */
static uint16_t map_sgl(struct vdev *d, const struct cmd *c, uint64_t len, bool write,
			struct seglist *l)
{
	uint8_t list[256 * 16];
	unsigned int nlist = 1, nseg = 0;
	bool may_chain = true; /* SGL1 and a Segment may end with a segment descriptor */

	memcpy(list, c->dptr, 16);
	for (;;) {
		bool chained = false;

		for (unsigned int i = 0; i < nlist && len && !chained; i++) {
			const uint8_t *desc = list + 16 * i;
			uint64_t addr = get64(desc);
			uint32_t dlen = get32(desc + 8);
			uint8_t type = desc[15] >> 4;

			switch (type) {
			case SGL_DATA:
			case SGL_BUCKET:
				if ((desc[15] & 0xf) || (type == SGL_BUCKET && write))
					return SC_SGL_TYPE_INVALID | DNR;
				if (dlen > len)
					dlen = (uint32_t)len;
				if (dlen && seg_add(l, addr, dlen, type == SGL_BUCKET))
					return SC_DATA_XFER_ERROR;
				len -= dlen;
				break;
			case SGL_SEGMENT:
			case SGL_LAST:
				/* only as the last descriptor of SGL1 or of a Segment */
				if (i != nlist - 1 || !may_chain || (dlen % 16) || !dlen)
					return SC_SGL_SEG_INVALID | DNR;
				if (dlen > sizeof(list) || ++nseg > 4096)
					return SC_SGL_NUM_INVALID | DNR;
				if (vdev_dma(d, addr, list, dlen, false))
					return SC_DATA_XFER_ERROR;
				nlist = dlen / 16;
				may_chain = type == SGL_SEGMENT;
				chained = true;
				break;
			default:
				return SC_SGL_TYPE_INVALID | DNR;
			}
		}
		if (!chained)
			return len ? SC_SGL_LEN_INVALID | DNR : SC_SUCCESS;
	}
}

static uint16_t map_data(struct vdev *d, const struct cmd *c, uint64_t len, bool write,
			 struct seglist *l)
{
	switch (c->flags >> 6) {
	case 0:
		return map_prp(d, c, len, l);
	case 1:
	case 2:
		return map_sgl(d, c, len, write, l);
	}
	return SC_INVALID_FIELD | DNR;
}

/*
 * Move len bytes between buf and the host buffer the command names: to_host
 * writes the host's memory. A refused DMA: Data Transfer Error.
 */
static uint16_t xfer(struct vdev *d, const struct cmd *c, void *buf, uint64_t len, bool to_host)
{
	struct seglist l = { 0 };
	uint8_t *p = buf;
	uint16_t st;

	st = map_data(d, c, len, !to_host, &l);
	for (unsigned int i = 0; i < l.n && st == SC_SUCCESS; i++) {
		if (!l.s[i].bucket && vdev_dma(d, l.s[i].addr, p, l.s[i].len, to_host))
			st = SC_DATA_XFER_ERROR;
		p += l.s[i].len;
	}
	free(l.s);
	return st;
}

/* ------------------------------------------------------------ admin commands */

static void identify_ctrl(struct vdev *d, uint8_t *id)
{
	struct nvme *n = N(d);

	put16(id + 0, d->vendor);
	put16(id + 2, 0x1af4);                    /* SSVID */
	put_str(id + 4, 20, n->serial);
	put_str(id + 24, 40, "QEMU NVMe Ctrl");
	put_str(id + 64, 8, FW_REV);
	id[72] = 6;                               /* RAB */
	id[73] = 0x00;                            /* IEEE OUI, QEMU's */
	id[74] = 0x54;
	id[75] = 0x52;
	id[76] = 1u << 1;                         /* CMIC: multiple controllers */
	id[77] = MDTS;
	put16(id + 78, 0);                        /* CNTLID */
	put32(id + 80, VS_VALUE);
	put32(id + 96, (1u << 15) | (1u << 4));   /* CTRATT: ELBAS, endurance groups */
	id[111] = 1;                              /* CNTRLTYPE: I/O controller */
	put16(id + 256, 0);                       /* OACS: none of the optional admin commands */
	id[258] = 3;                              /* ACL */
	id[259] = AERL;
	id[260] = (1u << 1) | 1;                  /* FRMW: one slot, read-only */
	id[261] = 0x7;                            /* LPA */
	put16(id + 266, 0x157);                   /* WCTEMP */
	put16(id + 268, 0x175);                   /* CCTEMP */
	id[512] = 0x66;                           /* SQES: 64 bytes */
	id[513] = 0x44;                           /* CQES: 16 bytes */
	put32(id + 516, NN);
	put16(id + 520, 1u << 3);                 /* ONCS: Write Zeroes */
	id[524] = 1 | (3u << 1);                  /* VWC present, broadcast flush */
	put32(id + 536, 1);                       /* SGLS: supported, no alignment rule */
	snprintf((char *)id + 768, 256, "nqn.2019-08.org.qemu:%s", n->serial);
	put16(id + 2048, 0x9c4);                  /* power state 0 */
	put32(id + 2048 + 4, 0x10);
	put32(id + 2048 + 8, 0x4);
}

static bool ns_active(struct nvme *n, uint32_t nsid)
{
	return nsid == 1 && n->ns;
}

static void identify_ns(struct nvme *n, uint8_t *id)
{
	uint64_t nlba = n->ns_bytes >> LBA_SHIFT;

	put64(id + 0, nlba);  /* NSZE */
	put64(id + 8, nlba);  /* NCAP */
	put64(id + 16, nlba); /* NUSE */
	id[25] = 0;           /* NLBAF: one format */
	id[26] = 0;           /* FLBAS: format 0 */
	id[128 + 2] = LBA_SHIFT; /* LBAF0: 512-byte data, no metadata */
}

static uint16_t identify(struct vdev *d, const struct cmd *c)
{
	struct nvme *n = N(d);
	uint8_t id[4096] = { 0 };
	uint8_t cns = c->cdw10 & 0xff;

	switch (cns) {
	case 0x00: /* namespace */
		if (c->nsid == 0 || (c->nsid > NN && c->nsid != 0xffffffffu))
			return SC_INVALID_NSID | DNR;
		if (ns_active(n, c->nsid))
			identify_ns(n, id);
		break;
	case 0x01: /* controller */
		identify_ctrl(d, id);
		break;
	case 0x02: /* active namespace IDs above nsid */
		if (c->nsid >= 0xfffffffeu)
			return SC_INVALID_NSID | DNR;
		if (n->ns && c->nsid < 1)
			put32(id, 1);
		break;
	case 0x03: /* namespace identification descriptors */
		if (!ns_active(n, c->nsid))
			return SC_INVALID_NSID | DNR;
		id[0] = 3;  /* UUID */
		id[1] = 16;
		memcpy(id + 4, "iommufd-emu-ns", 14);
		memcpy(id + 18, &d->index, 2);
		id[20] = 4; /* CSI: NVM */
		id[21] = 1;
		id[24] = 0;
		break;
	default:
		return SC_INVALID_FIELD | DNR;
	}
	return xfer(d, c, id, sizeof(id), true);
}

static uint16_t create_cq(struct vdev *d, const struct cmd *c)
{
	struct nvme *n = N(d);
	uint16_t qid = c->cdw10 & 0xffff, iv = c->cdw11 >> 16;
	uint32_t qsize = (c->cdw10 >> 16) + 1;
	uint64_t base = get64(c->dptr);

	if (!qid || qid >= NQ || n->cq[qid].on)
		return SC_INVALID_QID | DNR;
	if (qsize < 2 || qsize > MQES + 1)
		return SC_MAX_QSIZE | DNR;
	if (base & (n->page_size - 1))
		return SC_PRP_OFFSET_INVALID | DNR;
	if (!(c->cdw11 & 1))
		return SC_INVALID_FIELD | DNR; /* CAP.CQR: physically contiguous only */
	if (iv >= NVECTORS || (iv && d->irq_index != KABI_VFIO_PCI_MSIX_IRQ_INDEX))
		return SC_INVALID_VECTOR | DNR;
	n->cq[qid] = (struct cq){ .on = true, .ien = (c->cdw11 >> 1) & 1, .iv = iv, .phase = 1,
				  .size = qsize, .base = base };
	n->cq[qid].msix_used = n->cq[qid].ien && d->irq_index == KABI_VFIO_PCI_MSIX_IRQ_INDEX;
	bar_set(d, &n->dbs, DB_BASE + 8 * qid + 4, 0);
	n->qs_created = true;
	return SC_SUCCESS;
}

static uint16_t create_sq(struct vdev *d, const struct cmd *c)
{
	struct nvme *n = N(d);
	uint16_t qid = c->cdw10 & 0xffff, cqid = c->cdw11 >> 16;
	uint32_t qsize = (c->cdw10 >> 16) + 1;
	uint64_t base = get64(c->dptr);

	if (!cqid || cqid >= NQ || !n->cq[cqid].on)
		return SC_INVALID_CQID | DNR;
	if (!qid || qid >= NQ || n->sq[qid].on)
		return SC_INVALID_QID | DNR;
	if (qsize < 2 || qsize > MQES + 1)
		return SC_MAX_QSIZE | DNR;
	if (base & (n->page_size - 1))
		return SC_PRP_OFFSET_INVALID | DNR;
	if (!(c->cdw11 & 1))
		return SC_INVALID_FIELD | DNR;
	n->sq[qid] = (struct sq){ .on = true, .cqid = cqid, .size = qsize, .base = base };
	bar_set(d, &n->dbs, DB_BASE + 8 * qid, 0);
	n->qs_created = true;
	return SC_SUCCESS;
}

static uint16_t delete_sq(struct vdev *d, const struct cmd *c)
{
	struct nvme *n = N(d);
	uint16_t qid = c->cdw10 & 0xffff;

	if (!qid || qid >= NQ || !n->sq[qid].on)
		return SC_INVALID_QID | DNR;
	/* every command of it has completed: they run to the end when fetched */
	n->sq[qid].on = false;
	return SC_SUCCESS;
}

static uint16_t delete_cq(struct vdev *d, const struct cmd *c)
{
	struct nvme *n = N(d);
	uint16_t qid = c->cdw10 & 0xffff;

	if (!qid || qid >= NQ || !n->cq[qid].on)
		return SC_INVALID_QID | DNR;
	for (uint32_t q = 1; q < NQ; q++)
		if (n->sq[q].on && n->sq[q].cqid == qid)
			return SC_INVALID_QDEL | DNR;
	n->cq[qid].on = false;
	return SC_SUCCESS;
}

static uint16_t get_log(struct vdev *d, const struct cmd *c)
{
	uint8_t lid = c->cdw10 & 0xff, log[512] = { 0 };
	uint64_t numd = ((c->cdw10 >> 16) | (uint64_t)(c->cdw11 & 0xffff) << 16) + 1;
	uint64_t off = c->cdw12 | (uint64_t)c->cdw13 << 32, len = numd * 4, size;
	uint8_t *buf;
	uint16_t st;

	switch (lid) {
	case 0x01: /* error information: one empty entry */
		size = 64;
		break;
	case 0x02: /* SMART / health */
		size = 512;
		put16(log + 1, 0x143); /* composite temperature, QEMU's */
		log[3] = 100;          /* available spare */
		log[4] = 10;           /* its threshold */
		break;
	case 0x03: /* firmware slots */
		size = 512;
		log[0] = 1;
		memcpy(log + 8, FW_REV "  ", 8);
		break;
	default:
		return SC_INVALID_LOG | DNR;
	}
	if (off & 3 || off > size)
		return SC_INVALID_FIELD | DNR;
	if (len > (4096u << MDTS))
		return SC_INVALID_FIELD | DNR;
	buf = calloc(1, len);
	if (!buf)
		return SC_DATA_XFER_ERROR;
	memcpy(buf, log + off, size - off < len ? size - off : len);
	st = xfer(d, c, buf, len, true);
	free(buf);
	return st;
}

static uint16_t features(struct vdev *d, const struct cmd *c, bool set, uint32_t *dw0)
{
	struct nvme *n = N(d);
	uint8_t fid = c->cdw10 & 0xff, sel = (c->cdw10 >> 8) & 7;
	uint32_t v = c->cdw11, *slot = NULL;

	if (set && (c->cdw10 >> 31))
		return SC_NOT_SAVEABLE | DNR;
	switch (fid) {
	case 0x01:
		slot = &n->arbitration;
		break;
	case 0x02:
		slot = &n->power;
		break;
	case 0x04: { /* temperature threshold: composite sensor, over and under */
		bool under = ((v >> 20) & 3) == 1;

		if (((v >> 16) & 0xf) != 0)
			return SC_INVALID_FIELD | DNR;
		slot = under ? &n->temp_under : &n->temp_over;
		if (set)
			*slot = v & 0xffff;
		*dw0 = *slot;
		return SC_SUCCESS;
	}
	case 0x05:
		slot = &n->err_recovery;
		break;
	case 0x06:
		slot = &n->vwc;
		v &= 1;
		break;
	case 0x07: /* number of queues: QEMU grants its maximum, whatever is asked */
		if (set) {
			if ((v & 0xffff) == 0xffff || (v >> 16) == 0xffff)
				return SC_INVALID_FIELD | DNR;
			if (n->qs_created)
				return SC_CMD_SEQ_ERROR | DNR;
		}
		*dw0 = (uint32_t)(NQ - 2) << 16 | (NQ - 2);
		return SC_SUCCESS;
	case 0x08:
		slot = &n->coalescing;
		break;
	case 0x09: /* interrupt vector configuration */
		if ((v & 0xffff) >= NVECTORS)
			return SC_INVALID_FIELD | DNR;
		*dw0 = (v & 0xffff) | (!(v & 0xffff) ? 1u << 16 : 0); /* admin: no coalescing */
		return SC_SUCCESS;
	case 0x0a:
		slot = &n->atomicity;
		break;
	case 0x0b:
		slot = &n->aec;
		break;
	default:
		return SC_INVALID_FIELD | DNR;
	}
	if (set) {
		*slot = v;
	} else if (sel == 3) {
		*dw0 = 1u << 2; /* changeable */
		return SC_SUCCESS;
	}
	*dw0 = sel == 1 ? 0 : *slot;
	return SC_SUCCESS;
}

static uint16_t abort_cmd(struct vdev *d, const struct cmd *c, uint32_t *dw0)
{
	struct nvme *n = N(d);
	uint16_t sqid = c->cdw10 & 0xffff, cid = c->cdw10 >> 16;

	/* only held AERs are ever outstanding here; the rest completed already */
	*dw0 = 1; /* not aborted */
	/* room for the AER's completion and this one's */
	if (sqid != 0 || n->cq[0].size - 1 - (n->cq[0].tail + n->cq[0].size - n->cq[0].head) %
			 n->cq[0].size < 2)
		return SC_SUCCESS;
	for (unsigned int i = 0; i < n->naer; i++) {
		if (n->aer[i] != cid)
			continue;
		memmove(n->aer + i, n->aer + i + 1, (n->naer - i - 1) * sizeof(n->aer[0]));
		n->naer--;
		post(d, 0, cid, SC_ABORT_REQUESTED, 0);
		*dw0 = 0;
		break;
	}
	return SC_SUCCESS;
}

static uint16_t admin(struct vdev *d, const struct cmd *c, uint32_t *dw0)
{
	struct nvme *n = N(d);

	switch (c->opc) {
	case 0x00:
		return delete_sq(d, c);
	case 0x01:
		return create_sq(d, c);
	case 0x02:
		return get_log(d, c);
	case 0x04:
		return delete_cq(d, c);
	case 0x05:
		return create_cq(d, c);
	case 0x06:
		return identify(d, c);
	case 0x08:
		return abort_cmd(d, c, dw0);
	case 0x09:
		return features(d, c, true, dw0);
	case 0x0a:
		return features(d, c, false, dw0);
	case 0x0c:
		if (n->naer > AERL)
			return SC_AER_LIMIT | DNR;
		n->aer[n->naer++] = c->cid;
		return HELD;
	}
	return SC_INVALID_OPCODE | DNR;
}

/* ------------------------------------------------------------ I/O commands */

static uint16_t io(struct vdev *d, const struct cmd *c)
{
	struct nvme *n = N(d);
	uint64_t slba = c->cdw10 | (uint64_t)c->cdw11 << 32, nlb = (c->cdw12 & 0xffff) + 1;
	uint64_t nsze = n->ns_bytes >> LBA_SHIFT, len = nlb << LBA_SHIFT;

	switch (c->opc) {
	case 0x00: /* flush: the namespace is memory, nothing is volatile */
		if (!ns_active(n, c->nsid) && !(c->nsid == 0xffffffffu && n->ns))
			return SC_INVALID_NSID | DNR;
		return SC_SUCCESS;
	case 0x01: /* write */
	case 0x02: /* read */
	case 0x08: /* write zeroes */
		break;
	default:
		return SC_INVALID_OPCODE | DNR;
	}
	if (!ns_active(n, c->nsid))
		return SC_INVALID_NSID | DNR;
	if (slba >= nsze || nlb > nsze - slba)
		return SC_LBA_RANGE | DNR;
	if (c->opc == 0x08) {
		memset(n->ns + (slba << LBA_SHIFT), 0, len);
		return SC_SUCCESS;
	}
	if (len > (4096u << MDTS))
		return SC_INVALID_FIELD | DNR;
	return xfer(d, c, n->ns + (slba << LBA_SHIFT), len, c->opc == 0x02);
}

/* ------------------------------------------------------------ queues */

static void parse(struct cmd *c, const uint8_t *e)
{
	c->opc = e[0];
	c->flags = e[1];
	memcpy(&c->cid, e + 2, 2);
	c->nsid = get32(e + 4);
	c->mptr = get64(e + 16);
	memcpy(c->dptr, e + 24, 16);
	c->cdw10 = get32(e + 40);
	c->cdw11 = get32(e + 44);
	c->cdw12 = get32(e + 48);
	c->cdw13 = get32(e + 52);
	c->cdw14 = get32(e + 56);
	c->cdw15 = get32(e + 60);
}

/* fetch and run what the SQs hold, as far as their CQs have room */
static bool run_queues(struct vdev *d)
{
	struct nvme *n = N(d);
	bool did = false, more = false;

	for (uint32_t q = 0; q < NQ && !n->fatal; q++) {
		struct sq *sq = &n->sq[q];
		int budget = BUDGET;

		while (sq->on && sq->head != sq->tail && !n->fatal) {
			struct cq *cq = &n->cq[sq->cqid];
			uint8_t e[64];
			uint32_t dw0 = 0;
			uint16_t st;
			struct cmd c;

			if (!cq->on || cq_full(cq))
				break; /* until the host frees a slot (CQ head doorbell) */
			if (!budget--) {
				more = true;
				break;
			}
			if (vdev_dma(d, sq->base + (uint64_t)sq->head * 64, e, sizeof(e), false)) {
				n->fatal = true;
				n->csts |= CSTS_CFS;
				break;
			}
			sq->head = (sq->head + 1) % sq->size;
			parse(&c, e);
			st = q == 0 ? admin(d, &c, &dw0) : io(d, &c);
			if (st != HELD)
				post(d, (uint16_t)q, c.cid, st, dw0);
			did = true;
		}
	}
	__atomic_store_n(&n->more, more, __ATOMIC_RELAXED);
	return did;
}

/* ------------------------------------------------------------ the model */

bool nvme_model_pending(struct vdev *d)
{
	struct nvme *n = N(d);

	return __atomic_load_n(&n->more, __ATOMIC_RELAXED) || bar_watch_changed(d, &n->regs) ||
	       bar_watch_changed(d, &n->dbs);
}

bool nvme_model_service(struct vdev *d)
{
	struct nvme *n = N(d);
	bool did = regs_take_in(d);

	did |= dbs_take_in(d);
	if ((n->csts & CSTS_RDY) && !n->fatal)
		did |= run_queues(d);
	interrupts(d);
	regs_publish(d);
	return did;
}

void nvme_bar0_read(struct vdev *d, uint64_t off, void *buf, size_t len)
{
	nvme_model_service(d);
	memcpy(buf, d->bar0 + off, len);
	/* QEMU's MMIO reads 0 past its registers, doorbells included */
	if (off < d->msix_table && off + len > 0x1000) {
		uint64_t from = off < 0x1000 ? 0x1000 : off;
		uint64_t to = off + len < d->msix_table ? off + len : d->msix_table;

		memset((uint8_t *)buf + (from - off), 0, to - from);
	}
}

void nvme_bar0_write(struct vdev *d, uint64_t off, const void *buf, size_t len)
{
	struct nvme *n = N(d);

	/* earlier stores into the mapping first */
	nvme_model_service(d);
	memcpy(d->bar0 + off, buf, len);
	/* a write, even of the value a word holds, is a write: make each touched
	 * watched word differ from its shadow so that it is taken in */
	for (uint64_t w = off & ~3ull; w < off + len; w += 4) {
		const struct bar_watch *bw = w < REGS_LEN ? &n->regs :
					     (w >= DB_BASE && w < DB_BASE + DB_LEN) ? &n->dbs : NULL;

		if (bw)
			bar_watch_seen(bw, (uint32_t)w, ~bar_load(d, (uint32_t)w));
	}
	nvme_model_service(d);
}

uint64_t nvme_parse_size(const char *e)
{
	unsigned int shift = 0;
	unsigned long long v;
	char *end;

	if (!e || !*e)
		return 0;
	errno = 0;
	v = strtoull(e, &end, 0);
	if (errno)
		return 0;
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		end++;
		break;
	case 'm': case 'M':
		shift = 20;
		end++;
		break;
	case 'g': case 'G':
		shift = 30;
		end++;
		break;
	}
	/* past 1 TiB before the shift: a shift that overflows must not wrap
	 * into a size ("17179869185G" was 1 GiB) */
	if (*end || v > (1ull << 40) >> shift)
		return 0;
	v <<= shift;
	if (v % 512)
		return 0;
	return v;
}

void nvme_model_reset(struct vdev *d)
{
	struct nvme *n = N(d);

	ctrl_reset(d);
	n->aqa = 0;
	n->asq = n->acq = 0;
	features_default(n);
	/* registers and doorbells read 0 but for CAP and VS; the MSI-X table
	 * entries are masked, the PBA clear */
	memset(d->bar0, 0, d->bar0_size);
	for (uint32_t off = 0; off < REGS_LEN; off += 4)
		bar_set(d, &n->regs, off, reg_word(n, off));
	for (uint32_t off = DB_BASE; off < DB_BASE + DB_LEN; off += 4)
		bar_set(d, &n->dbs, off, 0);
	for (uint32_t v = 0; v < d->msix_vectors; v++)
		bar_set(d, NULL, d->msix_table + 16 * v + 12, 1);
}

int nvme_model_init(struct vdev *d)
{
	struct nvme *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->regs = (struct bar_watch){ 0, REGS_LEN, n->regs_shadow };
	n->dbs = (struct bar_watch){ DB_BASE, DB_LEN, n->dbs_shadow };
	snprintf(n->serial, sizeof(n->serial), "%s", d->opt_serial[0] ? d->opt_serial : "deadbeef");
	if (!(d->opt_flags & IOMMUFD_EMU_DEVICE_NVME_NO_NAMESPACE)) {
		n->ns_bytes = d->opt_ns_size ? d->opt_ns_size :
						  nvme_parse_size(secure_getenv("IOMMUFD_EMU_NVME_SIZE"));
		if (!n->ns_bytes)
			n->ns_bytes = DEFAULT_NS_SIZE;
		/* pages come as they are written; reads of the rest are zeros */
		n->ns = mmap(NULL, n->ns_bytes, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (n->ns == MAP_FAILED) {
			int r = -errno;

			free(n);
			return r;
		}
	}
	d->model = n;
	nvme_model_reset(d);
	return 0;
}

void nvme_model_free(struct vdev *d)
{
	struct nvme *n = N(d);

	if (!n)
		return;
	if (n->ns)
		munmap(n->ns, n->ns_bytes);
	free(n);
	d->model = NULL;
}
