// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device models of the emulated PCI devices: QEMU's edu (a DMA engine), an
 * NVMe-like controller (registers only) and a generic device.
 *
 * edu, BAR0 (1 MiB), as QEMU's hw/misc/edu.c documents it:
 *   0x00 ident 0x010000ed (RO)      0x04 liveness: reads back ~written
 *   0x08 factorial                  0x20 status: bit0 computing, bit7 irq on factorial
 *   0x24 irq status                 0x60 raise irq    0x64 ack irq
 *   0x80 DMA src  0x88 DMA dst  0x90 DMA count  0x98 DMA cmd:
 *        bit0 start (clears when done), bit1 direction (1: device buffer -> RAM,
 *        0: RAM -> device buffer), bit2 raise irq 0x100 when done.
 *   The device buffer sits at device address 0x40000 (4 KiB); DMA addresses
 *   are masked to 28 bits. Registers below 0x80 take 4-byte accesses, the DMA
 *   registers 4 or 8; other accesses read all ones and writes are ignored.
 *
 * Emulation choices: the DMA runs synchronously when the cmd register is
 * written through the device file (pwrite); a write into an mmap of BAR0
 * updates the registers' memory but cannot trigger the engine. The DMA goes
 * through the device's current IOMMU attachment (emu_device_dma): a refused
 * request (unmapped, read-only, blocked) writes nothing and is counted as a
 * DMA fault. A transfer outside the device buffer (QEMU aborts the VM with
 * "DMA range out of bounds"; note its check refuses a transfer that ends at
 * the buffer's end, so 4096 bytes from 0x40000 is out of bounds) is dropped, and so is any DMA while bus mastering is off in the command register.
 * The IOMMU in front of every model has no dirty tracking (QEMU's VT-d) unless
 * the device was added with IOMMUFD_EMU_DEVICE_DIRTY_TRACKING; then a
 * device -> RAM transfer through a tracking HWPT marks its IOVA pages dirty
 * (emu_device_dma), a RAM -> device one marks nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

static uint64_t rd(const struct vdev *d, uint64_t off, size_t w)
{
	uint64_t v = 0;

	memcpy(&v, d->bar0 + off, w); /* little-endian host */
	return v;
}

static void wr(struct vdev *d, uint64_t off, size_t w, uint64_t v)
{
	memcpy(d->bar0 + off, &v, w);
}

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
		cfg_put(d, 0x10, 4, 0xfea00000u);
	else if (d->kind == IOMMUFD_EMU_DEVICE_NVME)
		cfg_put(d, 0x10, 4, 0xfeb10004u);
	else
		cfg_put(d, 0x10, 4, 0xfec00000u + (uint32_t)d->index * 0x1000u);
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

		cfg_put(d, at, 1, 0x11); /* MSI-X: table in BAR0 */
		cfg_put(d, at + 1, 1, d->pcie ? 0x80 : 0x00);
		cfg_put(d, at + 2, 2, (uint16_t)(d->msix_vectors - 1));
		cfg_put(d, at + 4, 4, 0x2000);
		cfg_put(d, at + 8, 4, 0x3000);
	}
	if (d->pcie) {
		cfg_put(d, 0x80, 1, 0x10); /* PCI Express endpoint, FLR capable */
		cfg_put(d, 0x82, 2, 0x0002);
		cfg_put(d, 0x84, 4, 0x10008000u);
	}
}

static void bar0_init(struct vdev *d)
{
	memset(d->bar0, 0, d->bar0_size);
	switch (d->kind) {
	case IOMMUFD_EMU_DEVICE_EDU:
		wr(d, 0x00, 4, EDU_IDENT);
		wr(d, 0x04, 4, ~0u);
		break;
	case IOMMUFD_EMU_DEVICE_NVME:
		wr(d, 0x00, 8, 0x0000002000f007ffull); /* CAP: MQES 2047, CQR, TO 15 */
		wr(d, 0x08, 4, 0x00010400);             /* VS 1.4 */
		break;
	}
}

int vdev_model_init(struct vdev *d)
{
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
		d->config_size = 256;
		break;
	case IOMMUFD_EMU_DEVICE_NVME:
		d->vendor = 0x1b36;
		d->device = 0x0010;
		d->class_code = 0x010802;
		d->pcie = true;
		d->reset_works = true;
		d->intx_pin = 1;
		d->msi_vectors = 0;
		d->msix_vectors = 65;
		d->bar0_size = 16384;
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
		d->config_size = 256;
		break;
	}
	d->edev.flags = EMU_DEV_PCI | EMU_DEV_NO_DIRTY;
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
		int e = -errno;

		close(d->bar0_fd);
		return e;
	}
	d->bar0 = mmap(NULL, d->bar0_size, PROT_READ | PROT_WRITE, MAP_SHARED, d->bar0_fd, 0);
	if (d->bar0 == MAP_FAILED) {
		int e = -errno;

		close(d->bar0_fd);
		return e;
	}
	config_init(d);
	bar0_init(d);
	return 0;
}

void vdev_model_free(struct vdev *d)
{
	if (d->bar0 && d->bar0 != MAP_FAILED)
		munmap(d->bar0, d->bar0_size);
	if (d->bar0_fd >= 0)
		close(d->bar0_fd);
	d->bar0 = NULL;
	d->bar0_fd = -1;
}

void vdev_model_open(struct vdev *d)
{
	/* vfio-pci resets a device that can be reset when it is first opened */
	if (d->reset_works)
		vdev_model_reset(d);
	/* and enables it: I/O and memory space, SERR (bus mastering stays off) */
	cfg_put(d, 0x04, 2, 0x0103);
}

void vdev_model_close(struct vdev *d)
{
	/* the command register goes back to 0 (bus master off) */
	cfg_put(d, 0x04, 2, 0);
	if (d->kind == IOMMUFD_EMU_DEVICE_EDU)
		wr(d, 0x98, 8, rd(d, 0x98, 8) & ~(uint64_t)EDU_DMA_RUN);
}

void vdev_model_reset(struct vdev *d)
{
	/* the function's registers; config space is saved and restored around it */
	bar0_init(d);
}

ssize_t vdev_config_read(struct vdev *d, uint64_t off, void *buf, size_t len)
{
	memcpy(buf, d->config + off, len);
	return (ssize_t)len;
}

ssize_t vdev_config_write(struct vdev *d, uint64_t off, const void *buf, size_t len)
{
	/* only the command register is writable; the rest is silently ignored */
	for (size_t i = 0; i < len; i++)
		if (off + i == 0x04 || off + i == 0x05)
			d->config[off + i] = ((const uint8_t *)buf)[i];
	return (ssize_t)len;
}

/* ------------------------------------------------------------ edu */

static void edu_raise(struct vdev *d, uint32_t bits)
{
	wr(d, 0x24, 4, rd(d, 0x24, 4) | bits);
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
	uint64_t src = rd(d, 0x80, 8), dst = rd(d, 0x88, 8), cnt = rd(d, 0x90, 8);
	uint64_t cmd = rd(d, 0x98, 8), iova;
	int r;

	if (!(d->config[0x04] & 0x04)) {
		/* bus master off: the request never leaves the device (no IOMMU fault) */
	} else if (cmd & EDU_DMA_TO_RAM) {
		if (edu_in_buffer(src, cnt)) {
			iova = dst & EDU_DMA_MASK;
			r = emu_device_dma(&d->edev, EMU_NO_PASID, iova, d->dma_buf + (src - EDU_DMA_START),
					   cnt, true);
			if (r) {
				d->dma_faults++;
				d->last_fault_iova = iova;
			}
		}
	} else if (edu_in_buffer(dst, cnt)) {
		uint8_t tmp[EDU_DMA_SIZE];

		iova = src & EDU_DMA_MASK;
		r = emu_device_dma(&d->edev, EMU_NO_PASID, iova, tmp, cnt, false);
		if (r) {
			d->dma_faults++;
			d->last_fault_iova = iova;
		} else {
			memcpy(d->dma_buf + (dst - EDU_DMA_START), tmp, cnt);
		}
	}
	wr(d, 0x98, 8, cmd & ~(uint64_t)EDU_DMA_RUN);
	if (cmd & EDU_DMA_IRQ)
		edu_raise(d, EDU_IRQ_DMA);
}

static bool edu_is_reg(uint64_t off)
{
	switch (off) {
	case 0x00: case 0x04: case 0x08: case 0x20: case 0x24:
	case 0x80: case 0x88: case 0x90: case 0x98:
		return true;
	}
	return false;
}

static uint64_t edu_read(struct vdev *d, uint64_t off, size_t w)
{
	if (w < 4)
		return 0; /* below the valid access size: QEMU answers 0 */
	if ((off < 0x80 && w != 4) || (off >= 0x80 && w != 4 && w != 8) || !edu_is_reg(off))
		return ~0ull;
	return rd(d, off, w);
}

static void edu_write(struct vdev *d, uint64_t off, size_t w, uint64_t val)
{
	uint32_t status = (uint32_t)rd(d, 0x20, 4);

	if ((off < 0x80 && w != 4) || (off >= 0x80 && w != 4 && w != 8))
		return;
	switch (off) {
	case 0x04:
		wr(d, 0x04, 4, ~(uint32_t)val);
		break;
	case 0x08: {
		uint32_t n = (uint32_t)val, fact = 1;

		if (status & EDU_STATUS_COMPUTING)
			break;
		for (uint32_t i = n; i > 1; i--)
			fact *= i;
		wr(d, 0x08, 4, fact);
		if (status & EDU_STATUS_IRQFACT)
			edu_raise(d, EDU_IRQ_FACT);
		break;
	}
	case 0x20:
		wr(d, 0x20, 4, (status & ~EDU_STATUS_IRQFACT) | ((uint32_t)val & EDU_STATUS_IRQFACT));
		break;
	case 0x60:
		edu_raise(d, (uint32_t)val);
		break;
	case 0x64:
		wr(d, 0x24, 4, rd(d, 0x24, 4) & ~(uint32_t)val);
		break;
	case 0x80:
	case 0x88:
	case 0x90:
		if (!(rd(d, 0x98, 8) & EDU_DMA_RUN))
			wr(d, off, 8, w == 4 ? (uint32_t)val : val);
		break;
	case 0x98:
		if (!(val & EDU_DMA_RUN) || (rd(d, 0x98, 8) & EDU_DMA_RUN))
			break;
		wr(d, 0x98, 8, w == 4 ? (uint32_t)val : val);
		edu_dma(d);
		break;
	}
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

ssize_t vdev_bar0_read(struct vdev *d, uint64_t off, void *buf, size_t len)
{
	uint8_t *b = buf;

	if (d->kind != IOMMUFD_EMU_DEVICE_EDU) {
		memcpy(buf, d->bar0 + off, len);
		return (ssize_t)len;
	}
	for (size_t done = 0; done < len;) {
		size_t w = chunk(off + done, len - done);
		uint64_t v = edu_read(d, off + done, w);

		memcpy(b + done, &v, w);
		done += w;
	}
	return (ssize_t)len;
}

ssize_t vdev_bar0_write(struct vdev *d, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	if (d->kind != IOMMUFD_EMU_DEVICE_EDU) {
		memcpy(d->bar0 + off, buf, len);
		return (ssize_t)len;
	}
	for (size_t done = 0; done < len;) {
		size_t w = chunk(off + done, len - done);
		uint64_t v = 0;

		memcpy(&v, b + done, w);
		edu_write(d, off + done, w, v);
		done += w;
	}
	return (ssize_t)len;
}
