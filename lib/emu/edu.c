// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Identity and config space of the emulated PCI devices (what vfio-pci lets
 * a write change is in vfio-config.c), and two of their models: QEMU's edu
 * (a DMA engine) and a generic device (registers only).
 * The NVMe controller is in nvme.c; bar-thread.c runs the models behind
 * stores into an mmap of BAR0.
 *
 * edu, BAR0 (1 MiB), as QEMU's hw/misc/edu.c documents it:
 *   0x00 ident 0x010000ed (RO)      0x04 liveness: reads back ~written (0 at first)
 *   0x08 factorial                  0x20 status: bit0 computing, bit7 irq on factorial
 *   0x24 irq status                 0x60 raise irq    0x64 ack irq
 *   0x80 DMA src  0x88 DMA dst  0x90 DMA count  0x98 DMA cmd:
 *        bit0 start (clears when done), bit1 direction (1: device buffer -> RAM,
 *        0: RAM -> device buffer), bit2 raise irq 0x100 when done.
 *   The device buffer sits at device address 0x40000 (4 KiB); DMA addresses
 *   are masked to 28 bits. Registers below 0x80 take 4-byte accesses, the DMA
 *   registers 4 or 8; other accesses read all ones and writes are ignored.
 *
 * Emulation choices: a write through the device file (pwrite) runs the model
 * synchronously (the DMA is done when pwrite returns); a store into an mmap
 * of BAR0 is taken in by the device-model thread within microseconds (the
 * start bit clears, the factorial appears: poll, as on QEMU). The mapping
 * reads the registers' values (all ones where there is no register, in the
 * first 256 bytes the model watches; stores further out stay until reset).
 * The DMA goes through the device's current IOMMU attachment (emu_device_dma):
 * a refused request (unmapped, read-only, blocked) writes nothing and is
 * counted as a DMA fault; a refused read fills the device buffer with zeros
 * (QEMU's DMA reads unassigned memory then: seen in the VM). A transfer outside the device buffer (QEMU aborts
 * the VM with "DMA range out of bounds"; note its check refuses a transfer
 * that ends at the buffer's end, so 4096 bytes from 0x40000 is out of bounds)
 * is dropped, and so is any DMA while bus mastering is off in the command
 * register. The IOMMU in front of every model has no dirty tracking (QEMU's
 * VT-d) unless the device was added with IOMMUFD_EMU_DEVICE_DIRTY_TRACKING;
 * then a device -> RAM transfer through a tracking HWPT marks its IOVA pages
 * dirty (emu_device_dma), a RAM -> device one marks nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iopt.h"
#include "vfio.h"

#define EDU_BAR0_SIZE (1u << 20)
#define EDU_IDENT 0x010000edu
#define EDU_DMA_START 0x40000u
#define EDU_DMA_SIZE 4096u
#define EDU_DMA_MASK ((1ull << 28) - 1)
#define EDU_DMA_RUN 0x1u
#define EDU_DMA_TO_RAM 0x2u
#define EDU_DMA_IRQ 0x4u
#define EDU_STATUS_COMPUTING 0x01u
#define EDU_STATUS_IRQFACT 0x80u
#define EDU_IRQ_FACT 0x1u
#define EDU_IRQ_DMA 0x100u
#define EDU_WATCH 0x100u /* the register block the model watches in the mapping */
#define EDU_REG_CMD 0x98u /* the DMA command register (64 bits) */

struct edu {
	/* the registers and the buffer: what a reset clears (vdev_model_reset) */
	uint32_t addr4, fact, status, irq_status;
	uint64_t src, dst, cnt, cmd;
	uint8_t buf[EDU_DMA_SIZE]; /* the device buffer at device address 0x40000 */
	struct bar_watch watch;
	uint32_t shadow[EDU_WATCH / 4];
};


static void cfg_put(struct vdev *d, uint32_t off, size_t w, uint32_t v)
{
	memcpy(d->config + off, &v, w);
}

/* ------------------------------------------------------------ identity, config */

static void config_init(struct vdev *d)
{
	memset(d->config, 0, sizeof(d->config));
	cfg_put(d, 0x00, 2, d->vendor);
	cfg_put(d, 0x02, 2, d->device);
	cfg_put(d, 0x06, 2, 0x0010); /* status: capability list */
	cfg_put(d, 0x08, 1, d->kind == IOMMUFD_EMU_DEVICE_EDU ? 0x10 : 0x02); /* revision */
	cfg_put(d, 0x09, 1, d->class_code & 0xff);
	cfg_put(d, 0x0a, 2, d->class_code >> 8);
	/* BAR0 where QEMU's q35 BIOS puts them; NVMe's is 64-bit */
	if (d->kind == IOMMUFD_EMU_DEVICE_EDU)
		cfg_put(d, 0x10, 4, 0xfea00000u | d->bar0_flags);
	else if (d->kind == IOMMUFD_EMU_DEVICE_NVME)
		cfg_put(d, 0x10, 4, 0xfeb10000u | d->bar0_flags);
	else
		cfg_put(d, 0x10, 4, (0xfec00000u + (uint32_t)d->index * 0x1000u) | d->bar0_flags);
	cfg_put(d, 0x2c, 2, 0x1af4); /* subsystem: QEMU's defaults */
	cfg_put(d, 0x2e, 2, 0x1100);
	cfg_put(d, 0x34, 1, 0x40);   /* capabilities */
	cfg_put(d, 0x3c, 1, 0x0b); /* interrupt line */
	cfg_put(d, 0x3d, 1, d->intx_pin);
	if (d->msi_vectors) {
		cfg_put(d, 0x40, 1, 0x05); /* MSI, 64-bit, 1 vector */
		cfg_put(d, 0x41, 1, d->pcie ? 0x60 : 0x00);
		cfg_put(d, 0x42, 2, 0x0080);
	}
	if (d->msix_vectors) {
		uint32_t at = d->msi_vectors ? 0x60 : 0x40;

		cfg_put(d, at, 1, 0x11); /* MSI-X: table and PBA in BAR0 */
		cfg_put(d, at + 1, 1, d->pcie ? 0x80 : 0x00);
		cfg_put(d, at + 2, 2, (uint16_t)(d->msix_vectors - 1));
		cfg_put(d, at + 4, 4, d->msix_table);
		cfg_put(d, at + 8, 4, d->msix_pba);
	}
	if (d->pcie) {
		/* QEMU's on q35's root bus: a root complex integrated endpoint
		 * (PCIe v2), FLR capable, then power management */
		cfg_put(d, 0x80, 1, 0x10);
		cfg_put(d, 0x81, 1, 0x60);
		cfg_put(d, 0x82, 2, 0x0092);
		cfg_put(d, 0x84, 4, 0x10008000u); /* devcap: FLR, 128-byte payload */
		cfg_put(d, 0x8c, 4, 0x00000411u); /* link: x1, 2.5 GT/s */
		cfg_put(d, 0x92, 2, 0x0011);      /* link status: x1 at 2.5 GT/s */
		cfg_put(d, 0xa4, 4, 0x00300000u); /* devcap2 */
		cfg_put(d, 0x60, 1, 0x01);        /* power management, version 3 */
		cfg_put(d, 0x62, 2, 0x0003);
		cfg_put(d, 0x64, 2, 0x0008);      /* D0, no soft reset */
	}
	vsriov_config(d); /* an SR-IOV PF's or VF's (vfio-sriov.c) */
}

/* ------------------------------------------------------------ edu */

static uint64_t edu_reg(const struct edu *e, uint64_t off)
{
	switch (off) {
	case 0x00:
		return EDU_IDENT;
	case 0x04:
		return e->addr4;
	case 0x08:
		return e->fact;
	case 0x20:
		return e->status;
	case 0x24:
		return e->irq_status;
	case 0x80:
		return e->src;
	case 0x88:
		return e->dst;
	case 0x90:
		return e->cnt;
	case 0x98:
		return e->cmd;
	}
	return ~0ull;
}

/* what word off of the mapping reads: the registers, 64-bit ones in two halves */
static uint32_t edu_word(const struct edu *e, uint32_t off)
{
	if (off >= 0x80 && off < 0xa0)
		return (uint32_t)(edu_reg(e, off & ~7u) >> (off & 4 ? 32 : 0));
	return (uint32_t)edu_reg(e, off);
}

static void edu_publish(struct vdev *d)
{
	struct edu *e = d->model;

	for (uint32_t off = 0; off < EDU_WATCH; off += 4)
		bar_publish(d, &e->watch, off, edu_word(e, off));
}

static void edu_init_regs(struct vdev *d)
{
	struct edu *e = d->model;

	/* beyond the registers the BAR reads all ones (the model itself
	 * stores only into the register block, rewritten below) */
	if (!d->bar0_ones || d->bar0_mapped || d->bar0_dmabuf)
		memset(d->bar0, 0xff, d->bar0_size);
	d->bar0_ones = true;
	for (uint32_t off = 0; off < EDU_WATCH; off += 4)
		bar_set(d, &e->watch, off, edu_word(e, off));
}

static void edu_raise(struct vdev *d, uint32_t bits)
{
	struct edu *e = d->model;

	e->irq_status |= bits;
	vdev_irq_raise(d, 0);
}

static bool edu_in_buffer(uint64_t addr, uint64_t cnt)
{
	uint64_t end = addr + cnt;

	/* QEMU's check, exactly: the end must lie strictly inside the buffer too,
	 * so a transfer can reach at most the buffer's last byte but one */
	return end > addr && addr >= EDU_DMA_START && addr < EDU_DMA_START + EDU_DMA_SIZE &&
	       end >= EDU_DMA_START && end < EDU_DMA_START + EDU_DMA_SIZE;
}

static void edu_dma(struct vdev *d)
{
	struct edu *e = d->model;

	if (e->cmd & EDU_DMA_TO_RAM) {
		if (edu_in_buffer(e->src, e->cnt))
			vdev_dma(d, e->dst & EDU_DMA_MASK, e->buf + (e->src - EDU_DMA_START), e->cnt,
				 true);
	} else if (edu_in_buffer(e->dst, e->cnt)) {
		uint8_t tmp[EDU_DMA_SIZE];

		int r = vdev_dma(d, e->src & EDU_DMA_MASK, tmp, e->cnt, false);

		/* QEMU: a read the IOMMU refuses reads unassigned memory, zeros */
		if (r != -EIO)
			memcpy(e->buf + (e->dst - EDU_DMA_START), r ? memset(tmp, 0, e->cnt) : tmp, e->cnt);
	}
	e->cmd &= ~(uint64_t)EDU_DMA_RUN;
	if (e->cmd & EDU_DMA_IRQ)
		edu_raise(d, EDU_IRQ_DMA);
}

static uint64_t edu_read(struct vdev *d, uint64_t off, size_t w)
{
	if (w < 4)
		return 0; /* below the valid access size: QEMU answers 0 */
	if ((off < 0x80 && w != 4) || (off >= 0x80 && w != 4 && w != 8))
		return ~0ull;
	return edu_reg(d->model, off);
}

static void edu_write(struct vdev *d, uint64_t off, size_t w, uint64_t val)
{
	struct edu *e = d->model;

	if ((off < 0x80 && w != 4) || (off >= 0x80 && w != 4 && w != 8))
		return;
	if (w == 4)
		val = (uint32_t)val;
	switch (off) {
	case 0x04:
		e->addr4 = ~(uint32_t)val;
		break;
	case 0x08: {
		uint32_t fact = 1;

		if (e->status & EDU_STATUS_COMPUTING)
			break;
		for (uint32_t i = (uint32_t)val; i > 1; i--)
			fact *= i;
		e->fact = fact;
		if (e->status & EDU_STATUS_IRQFACT)
			edu_raise(d, EDU_IRQ_FACT);
		break;
	}
	case 0x20:
		e->status = (e->status & ~EDU_STATUS_IRQFACT) | ((uint32_t)val & EDU_STATUS_IRQFACT);
		break;
	case 0x60:
		edu_raise(d, (uint32_t)val);
		break;
	case 0x64:
		e->irq_status &= ~(uint32_t)val;
		break;
	case 0x80:
	case 0x88:
	case 0x90:
		if (e->cmd & EDU_DMA_RUN)
			break;
		*(off == 0x80 ? &e->src : off == 0x88 ? &e->dst : &e->cnt) = val;
		break;
	case 0x98:
		if (!(val & EDU_DMA_RUN) || (e->cmd & EDU_DMA_RUN))
			break;
		e->cmd = val;
		edu_dma(d);
		break;
	}
}

/* one register of the snapshot, if the program changed it: a write of what it holds */
static bool edu_take_in(struct vdev *d, const uint32_t *snap, uint32_t off)
{
	struct edu *e = d->model;

	if (off >= 0x80 && off < 0xa0) {
		/* a DMA register: its 64 bits as they stand (a 4-byte store
		 * leaves the high half as it was) */
		uint32_t lo = snap[off / 4], hi = snap[off / 4 + 1];

		if (lo == e->shadow[off / 4] && hi == e->shadow[off / 4 + 1])
			return false;
		bar_watch_seen(&e->watch, off, lo);
		bar_watch_seen(&e->watch, off + 4, hi);
		edu_write(d, off, 8, (uint64_t)hi << 32 | lo);
		return true;
	}
	if (snap[off / 4] == e->shadow[off / 4])
		return false;
	bar_watch_seen(&e->watch, off, snap[off / 4]);
	edu_write(d, off, 4, snap[off / 4]);
	return true;
}

/*
 * Take in the stores into the mapping. One look at all the words, the DMA
 * command first: a command seen here comes with every store the program
 * made before it (its addresses and count), and it is written last, as
 * QEMU's edu takes the MMIO writes in program order. Read in address
 * order instead, a pass that read the addresses just before the program
 * stored them and the command just after would start the transfer with
 * the previous ones.
 */
static bool edu_service(struct vdev *d)
{
	uint32_t snap[EDU_WATCH / 4];
	bool did = false;

	snap[EDU_REG_CMD / 4] = bar_load(d, EDU_REG_CMD);
	snap[EDU_REG_CMD / 4 + 1] = bar_load(d, EDU_REG_CMD + 4);
	for (uint32_t off = 0; off < EDU_WATCH; off += 4)
		if (off != EDU_REG_CMD && off != EDU_REG_CMD + 4)
			snap[off / 4] = bar_load(d, off);
	for (uint32_t off = 0; off < EDU_WATCH; off += (off >= 0x80 && off < 0xa0) ? 8 : 4)
		if (off != EDU_REG_CMD)
			did |= edu_take_in(d, snap, off);
	did |= edu_take_in(d, snap, EDU_REG_CMD);
	if (did)
		edu_publish(d);
	return did;
}

/* ------------------------------------------------------------ the device */

int vdev_dma(struct vdev *d, uint64_t iova, void *buf, size_t len, bool write)
{
	int r;

	/* bus master off, or stopped for migration: the request never leaves the
	 * device (no IOMMU fault) */
	if (!(d->config[0x04] & 0x04) || !vmig_running(d))
		return -EIO;
	r = emu_device_dma(&d->edev, EMU_NO_PASID, iova, buf, len, write);
	if (r) {
		d->dma_faults++;
		d->last_fault_iova = iova;
	} else if (write) {
		vmig_log_write(d, iova, len); /* DMA logging records writes only */
	}
	return r;
}

int vdev_model_init(struct vdev *d)
{
	int r;

	switch (d->kind) {
	case IOMMUFD_EMU_DEVICE_EDU:
		d->vendor = 0x1234;
		d->device = 0x11e8;
		d->class_code = 0x00ff00;
		d->pcie = false;
		d->reset_works = false;
		d->intx_pin = 1;
		d->msi_vectors = 1;
		d->msix_vectors = 0;
		d->bar0_size = EDU_BAR0_SIZE;
		d->bar0_flags = 0; /* 32-bit memory, not prefetchable */
		d->config_size = 256;
		break;
	case IOMMUFD_EMU_DEVICE_NVME:
		/* QEMU's layout: registers and doorbells, MSI-X table, PBA (nvme.c) */
		d->vendor = 0x1b36;
		d->device = 0x0010;
		d->class_code = 0x010802;
		d->pcie = true;
		d->reset_works = true;
		d->intx_pin = 1;
		d->msi_vectors = 0;
		d->msix_vectors = 65;
		d->msix_table = 0x2000;
		d->msix_pba = 0x3000;
		d->bar0_size = 16384;
		d->bar0_flags = 0x4; /* 64-bit memory, not prefetchable */
		d->config_size = 4096;
		break;
	default:
		d->vendor = 0x1b36;
		d->device = 0x0005; /* QEMU's pci-testdev */
		d->class_code = 0x00ff00;
		d->pcie = false;
		d->reset_works = true;
		d->intx_pin = 1;
		d->msi_vectors = 0;
		d->msix_vectors = 0;
		d->bar0_size = 4096;
		d->bar0_flags = 0;
		d->config_size = 256;
		break;
	}
	d->edev.flags = EMU_DEV_PCI | EMU_DEV_NO_DIRTY | EMU_DEV_NO_NEST;
	d->edev.aperture_last = (1ull << 39) - 1; /* QEMU's intel-iommu: 39-bit address width */
	{
		/* x86: the MSI window is reserved for every device */
		static const struct emu_resv_region msi = { 0xfee00000ull, 0xfeefffffull };

		d->edev.resv = &msi;
		d->edev.nresv = 1;
	}
	d->bar0_fd = memfd_create("iommufd-emu-bar0", MFD_CLOEXEC);
	if (d->bar0_fd < 0)
		return -errno;
	if (ftruncate(d->bar0_fd, (off_t)d->bar0_size) < 0) {
		r = -errno;
		goto fail;
	}
	/* a BAR: mappings of it are no memory to pin (VM_IO | VM_PFNMAP) */
	r = iopt_io_file_add(d->bar0_fd);
	if (r)
		goto fail;
	d->bar0_map = mmap(NULL, d->bar0_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->bar0_fd, 0);
	if (d->bar0_map == MAP_FAILED) {
		r = -errno;
		d->bar0_map = NULL;
		goto fail;
	}
	d->bar0 = d->bar0_map;
	config_init(d);
	if (d->kind == IOMMUFD_EMU_DEVICE_EDU) {
		struct edu *e = calloc(1, sizeof(*e));

		if (!e) {
			r = -ENOMEM;
			goto fail;
		}
		e->watch = (struct bar_watch){ 0, EDU_WATCH, e->shadow };
		d->model = e;
		edu_init_regs(d);
	} else if (d->kind == IOMMUFD_EMU_DEVICE_NVME) {
		r = nvme_model_init(d);
		if (r)
			goto fail;
	}
	return 0;
fail:
	vdev_model_free(d);
	return r;
}

/*
 * The state a migration carries (vfio-migration.c): edu's registers and its
 * DMA buffer, in a fixed layout; config space is the VMM's to restore (as
 * QEMU does for vfio-pci devices), so bus mastering is not part of it.
 */
struct edu_mig_state {
	uint32_t addr4, fact, status, irq_status;
	uint64_t src, dst, cnt, cmd;
	uint8_t buf[EDU_DMA_SIZE];
};

size_t vdev_model_state_size(struct vdev *d)
{
	return d->kind == IOMMUFD_EMU_DEVICE_EDU ? sizeof(struct edu_mig_state) : 0;
}

void vdev_model_save(struct vdev *d, void *buf)
{
	struct edu *e = d->model;
	struct edu_mig_state s;

	if (d->kind != IOMMUFD_EMU_DEVICE_EDU)
		return;
	/* stores into the mapping the program made are part of the state */
	edu_service(d);
	memset(&s, 0, sizeof(s));
	s.addr4 = e->addr4;
	s.fact = e->fact;
	s.status = e->status;
	s.irq_status = e->irq_status;
	s.src = e->src;
	s.dst = e->dst;
	s.cnt = e->cnt;
	s.cmd = e->cmd;
	memcpy(s.buf, e->buf, sizeof(s.buf));
	memcpy(buf, &s, sizeof(s));
}

void vdev_model_load(struct vdev *d, const void *buf)
{
	struct edu *e = d->model;
	struct edu_mig_state s;

	if (d->kind != IOMMUFD_EMU_DEVICE_EDU)
		return;
	memcpy(&s, buf, sizeof(s));
	e->addr4 = s.addr4;
	e->fact = s.fact;
	e->status = s.status;
	e->irq_status = s.irq_status;
	e->src = s.src;
	e->dst = s.dst;
	e->cnt = s.cnt;
	e->cmd = s.cmd & ~(uint64_t)EDU_DMA_RUN; /* a DMA is over when it is saved */
	memcpy(e->buf, s.buf, sizeof(e->buf));
	edu_init_regs(d);
}

void vdev_model_free(struct vdev *d)
{
	vmig_free(d);
	vsriov_free(d);
	if (d->kind == IOMMUFD_EMU_DEVICE_NVME)
		nvme_model_free(d);
	else
		free(d->model);
	d->model = NULL;
	if (d->bar0_map)
		munmap(d->bar0_map, d->bar0_size);
	if (d->bar0_saved)
		munmap(d->bar0_saved, d->bar0_size);
	if (d->bar0_fd >= 0) {
		iopt_io_file_remove(d->bar0_fd);
		close(d->bar0_fd);
	}
	d->bar0 = d->bar0_map = d->bar0_saved = NULL;
	d->bar0_fd = -1;
}

int vdev_model_power_on(struct vdev *d)
{
	int r = bar_decode(d, true);

	if (r)
		return r;
	if (d->kind == IOMMUFD_EMU_DEVICE_NVME)
		nvme_model_free(d);
	else
		free(d->model);
	d->model = NULL;
	if (d->kind != IOMMUFD_EMU_DEVICE_EDU)
		memset(d->bar0, 0, d->bar0_size); /* a new memfd's contents (edu's: all ones) */
	config_init(d);
	if (d->kind == IOMMUFD_EMU_DEVICE_EDU) {
		struct edu *e = calloc(1, sizeof(*e));

		if (!e)
			return -ENOMEM;
		e->watch = (struct bar_watch){ 0, EDU_WATCH, e->shadow };
		d->model = e;
		edu_init_regs(d);
	} else if (d->kind == IOMMUFD_EMU_DEVICE_NVME) {
		return nvme_model_init(d);
	}
	return 0;
}

void vdev_model_open(struct vdev *d)
{
	/* vfio-pci resets a device that can be reset when it is first opened */
	if (vdev_reset_works(d))
		vdev_model_reset(d);
	/* and enables it: I/O and memory space, SERR (bus mastering stays off);
	 * the close before left memory decoding on */
	cfg_put(d, 0x04, 2, 0x0103);
	/* a generic device has no behaviour behind its BAR: nothing to run */
	if (d->model && d->svc)
		vsvc_add(d->svc, d); /* without a thread, pwrite still runs the model */
}

void vdev_model_close(struct vdev *d)
{
	if (d->svc)
		vsvc_remove(d->svc, d);
	/* BAR0's memfd whole again (the next open enables decoding; a failure
	 * leaves the contents in the private copy, where the models work) */
	bar_decode(d, true);
	/* stores the program made before it let go still reach the device */
	if (d->model)
		vdev_model_service(d);
	/* the command register goes back to 0 (bus master off) */
	cfg_put(d, 0x04, 2, 0);
	if (d->kind == IOMMUFD_EMU_DEVICE_EDU) {
		struct edu *e = d->model;

		e->cmd &= ~(uint64_t)EDU_DMA_RUN;
		edu_publish(d);
	}
	/* vfio-pci resets the function on release */
	if (d->kind == IOMMUFD_EMU_DEVICE_NVME)
		nvme_model_reset(d);
	/* the migration driver's close_device: RUNNING, no session, no log */
	vmig_close(d);
}

void vdev_model_reset(struct vdev *d)
{
	/* a reset brings the migration state back to RUNNING (mlx5vf_reset_done) */
	vmig_reset(d);
	/* the function's registers; config space is saved and restored around it */
	switch (d->kind) {
	case IOMMUFD_EMU_DEVICE_EDU: {
		struct edu *e = d->model;

		/*
		 * The registers only: the device-model thread reads the watch
		 * (and its shadow pointer) without the lock, so it never
		 * changes; edu_init_regs() brings the shadow up to date.
		 */
		memset(e, 0, offsetof(struct edu, watch));
		edu_init_regs(d);
		break;
	}
	case IOMMUFD_EMU_DEVICE_NVME:
		nvme_model_reset(d);
		break;
	default:
		memset(d->bar0, 0, d->bar0_size);
		break;
	}
}

bool vdev_model_pending(struct vdev *d)
{
	switch (d->kind) {
	case IOMMUFD_EMU_DEVICE_EDU:
		return bar_watch_changed(d, &((struct edu *)d->model)->watch);
	case IOMMUFD_EMU_DEVICE_NVME:
		return nvme_model_pending(d);
	}
	return false;
}

bool vdev_model_service(struct vdev *d)
{
	switch (d->kind) {
	case IOMMUFD_EMU_DEVICE_EDU:
		return edu_service(d);
	case IOMMUFD_EMU_DEVICE_NVME:
		return nvme_model_service(d);
	}
	return false;
}

/* split [off, off+len) into naturally aligned accesses of 8, 4, 2 or 1 bytes, like vfio-pci */
static size_t chunk(uint64_t off, size_t left)
{
	if (left >= 8 && !(off & 7))
		return 8;
	if (left >= 4 && !(off & 3))
		return 4;
	if (left >= 2 && !(off & 1))
		return 2;
	return 1;
}

/*
 * The device file: synchronous. Stores into the mapping come first (the
 * program made them earlier), then this access, then the registers as the
 * mapping shows them.
 */
ssize_t vdev_bar0_read(struct vdev *d, uint64_t off, void *buf, size_t len)
{
	uint8_t *b = buf;

	switch (d->kind) {
	case IOMMUFD_EMU_DEVICE_EDU:
		edu_service(d);
		for (size_t done = 0; done < len;) {
			size_t w = chunk(off + done, len - done);
			uint64_t v = edu_read(d, off + done, w);

			memcpy(b + done, &v, w);
			done += w;
		}
		break;
	case IOMMUFD_EMU_DEVICE_NVME:
		nvme_bar0_read(d, off, buf, len);
		break;
	default:
		memcpy(buf, d->bar0 + off, len);
		break;
	}
	return (ssize_t)len;
}

ssize_t vdev_bar0_write(struct vdev *d, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	switch (d->kind) {
	case IOMMUFD_EMU_DEVICE_EDU:
		edu_service(d);
		for (size_t done = 0; done < len;) {
			size_t w = chunk(off + done, len - done);
			uint64_t v = 0;

			memcpy(&v, b + done, w);
			edu_write(d, off + done, w, v);
			done += w;
		}
		edu_publish(d);
		break;
	case IOMMUFD_EMU_DEVICE_NVME:
		nvme_bar0_write(d, off, buf, len);
		break;
	default:
		memcpy(d->bar0 + off, buf, len);
		break;
	}
	return (ssize_t)len;
}
