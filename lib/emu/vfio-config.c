// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Config space of the emulated devices as vfio-pci virtualises it
 * (drivers/vfio/pci/vfio_pci_config.c): what a write through the config
 * region changes, byte by byte, on QEMU's devices behind vfio-pci, as the VM
 * shows (tests/device/test-config.c):
 *
 * - the header (init_pci_cap_basic_perm): IDs, status, revision, class,
 *   header type, subsystem, the capability pointer and the interrupt pin read
 *   only; the command register takes I/O, memory, bus master, SERR and INTx
 *   disable (0x0507, what QEMU lets through); the cache line size and the
 *   interrupt line stick; QEMU's latency timer and BIST stay 0.
 * - the BARs and the ROM are virtual (vfio_bar_fixup): a write is kept
 *   masked by the BAR's size with its flag bits, so writing all ones reads
 *   back the size mask (edu's 1 MiB BAR0: 0xfff00000; the NVMe's 64-bit
 *   16 KiB BAR0: 0xffffc004, its upper half BAR1 0xffffffff), and the
 *   BARs a device lacks and the absent ROM read 0 whatever is written.
 * - clearing the command register's memory space bit turns BAR0's decoding
 *   off (vfio_basic_config_write): pread/pwrite of the region then fail with
 *   EIO and every mapping of it faults with SIGBUS until the bit is set
 *   again (bar_decode(), bar-thread.c).
 * - MSI (init_pci_cap_msi_perm, vfio_msi_config_write): the low byte of
 *   the flags, the address and the data are virtual and take any value;
 *   enable is cleared unless MSI is the enabled interrupt index and a queue
 *   size above the vectors the device has goes back to that (so writing
 *   0xffff to edu's flags reads 0x008e and writing 0 clears even its 64-bit
 *   bit, as on the kernel).
 * - MSI-X has no permissions in vfio-pci: its capability is read only and
 *   reads the device's, whose enable bit is on while VFIO_DEVICE_SET_IRQS has
 *   MSI-X enabled (MSI's flags are virtual: they never show it).
 * - power management: the power state bits of the control register stick,
 *   the rest reads as QEMU has it.
 * - PCI Express: the device control's payload and read request sizes are
 *   virtual and stick; initiating an FLR resets the function; the rest is
 *   read only as QEMU has it.
 * - the rest of the first 256 bytes, outside every capability, is passed
 *   to the device, and QEMU keeps what is written there.
 *
 * - the extended space of QEMU's NVMe has no capability: it reads 0 and
 *   writes are dropped.
 *
 * Not modelled: the effect of a power state other than D0 on the BAR, and
 * INTx disable masking INTx.
 */
#include <errno.h>
#include <string.h>

#include "vfio.h"

#define CMD_MEM 0x02u
#define CMD_WRITABLE 0x0507u
#define CAP_MSI 0x05
#define CAP_PM 0x01
#define CAP_EXP 0x10
#define CAP_MSIX 0x11
#define MSI_FLAGS_ENABLE 0x01u
#define MSI_FLAGS_QSIZE 0x70u
#define MSIX_FLAGS_ENABLE 0x8000u
#define EXP_DEVCTL_VIRT 0x70e0u /* payload and read request sizes */
#define EXP_DEVCTL_FLR 0x8000u

static uint32_t cfg_get(const struct vdev *d, uint32_t off, size_t w)
{
	uint32_t v = 0;

	memcpy(&v, d->config + off, w);
	return v;
}

static void cfg_set(struct vdev *d, uint32_t off, size_t w, uint32_t v)
{
	memcpy(d->config + off, &v, w);
}

bool vdev_mem_enabled(const struct vdev *d)
{
	return cfg_get(d, 0x04, 2) & CMD_MEM;
}

/* the length of the capability with this id, as the models lay them out */
static uint32_t cap_len(uint8_t id)
{
	switch (id) {
	case CAP_MSI:
		return 14; /* 64-bit, no per-vector masking */
	case CAP_MSIX:
		return 12;
	case CAP_PM:
		return 8;
	case CAP_EXP:
		return 0x3c; /* version 2 */
	}
	return 2;
}

/* the capability that holds byte off: its id, and its start in *start; 0: none */
static uint8_t cap_at(const struct vdev *d, uint32_t off, uint32_t *start)
{
	uint32_t p = d->config[0x34];

	for (int n = 0; p >= 0x40 && p < 0x100 && n < 48; n++) {
		uint8_t id = d->config[p];

		if (off >= p && off < p + cap_len(id)) {
			*start = p;
			return id;
		}
		p = d->config[p + 1];
	}
	return 0;
}

/* which bits of byte off a write changes directly (the fixups come after) */
static uint8_t write_mask(const struct vdev *d, uint32_t off)
{
	uint32_t start, rel;

	if (off >= 0x100)
		return 0;
	if (off < 0x40) {
		if (off == 0x04 || off == 0x05)
			return (uint8_t)(CMD_WRITABLE >> (8 * (off - 0x04)));
		if (off == 0x0c || off == 0x3c)
			return 0xff;
		if ((off >= 0x10 && off < 0x28) || (off >= 0x30 && off < 0x34))
			return 0xff;
		return 0;
	}
	switch (cap_at(d, off, &start)) {
	case 0:
		return 0xff;
	case CAP_MSI:
		rel = off - start;
		return rel >= 2 && rel != 3 ? 0xff : 0;
	case CAP_PM:
		return off - start == 4 ? 0x03 : 0;
	case CAP_EXP:
		rel = off - start;
		if (rel == 8 || rel == 9)
			return (uint8_t)(EXP_DEVCTL_VIRT >> (8 * (rel - 8)));
		return 0;
	}
	return 0;
}

/* vfio_bar_fixup: each BAR as the device decodes it, the ROM absent */
static void bar_fixup(struct vdev *d)
{
	uint32_t mask = (uint32_t)~(d->bar0_size - 1);
	uint32_t next = 0x14;

	cfg_set(d, 0x10, 4, (cfg_get(d, 0x10, 4) & mask) | d->bar0_flags);
	if (d->bar0_flags & 0x4) {
		/* the upper half of a 64-bit BAR below 4 GiB: every bit sticks */
		next = 0x18;
	}
	for (uint32_t off = next; off < 0x28; off += 4)
		cfg_set(d, off, 4, 0);
	cfg_set(d, 0x30, 4, 0);
}

/* vfio_msi_config_write: enable only through SET_IRQS, a queue size the device has */
static void msi_fixup(struct vdev *d, uint32_t start)
{
	uint32_t flags = d->config[start + 2];
	uint32_t qmax = 0; /* the models' MSI has one vector */

	if (d->irq_index != KABI_VFIO_PCI_MSI_IRQ_INDEX)
		flags &= ~MSI_FLAGS_ENABLE;
	if (((flags & MSI_FLAGS_QSIZE) >> 4) > qmax)
		flags = (flags & ~MSI_FLAGS_QSIZE) | qmax << 4;
	d->config[start + 2] = (uint8_t)flags;
}

/* the start of the first capability with this id, 0: none */
static uint32_t cap_find(const struct vdev *d, uint8_t id)
{
	uint32_t p = d->config[0x34];

	for (int n = 0; p >= 0x40 && p < 0x100 && n < 48; n++) {
		if (d->config[p] == id)
			return p;
		p = d->config[p + 1];
	}
	return 0;
}

ssize_t vdev_config_read(struct vdev *d, uint64_t off, void *buf, size_t len)
{
	uint32_t msix = cap_find(d, CAP_MSIX);

	memcpy(buf, d->config + off, len);
	/* MSI-X's flags are the device's (no vfio-pci permission): its enable
	 * bit is on while SET_IRQS has MSI-X enabled, as the PCI core set it */
	if (msix && d->irq_index == KABI_VFIO_PCI_MSIX_IRQ_INDEX &&
	    off <= msix + 3 && off + len > msix + 3)
		((uint8_t *)buf)[msix + 3 - off] |= MSIX_FLAGS_ENABLE >> 8;
	return (ssize_t)len;
}

ssize_t vdev_config_write(struct vdev *d, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	bool bars = false, cmd = false, flr = false;
	uint32_t msi = 0, start;
	int r;

	for (size_t i = 0; i < len; i++) {
		uint32_t o = (uint32_t)(off + i);
		uint8_t m = write_mask(d, o);

		d->config[o] = (uint8_t)((d->config[o] & ~m) | (b[i] & m));
		if ((o >= 0x10 && o < 0x28) || (o >= 0x30 && o < 0x34))
			bars = true;
		if (o == 0x04)
			cmd = true;
		if (o >= 0x40 && o < 0x100) {
			uint8_t id = cap_at(d, o, &start);

			if (id == CAP_MSI && o == start + 2)
				msi = start;
			if (id == CAP_EXP && o == start + 9 && (b[i] & (EXP_DEVCTL_FLR >> 8)))
				flr = true;
		}
	}
	if (bars)
		bar_fixup(d);
	if (msi)
		msi_fixup(d, msi);
	if (cmd) {
		/* a write that starts at the command register (vfio-pci splits
		 * accesses at their natural alignment, so any write covering
		 * byte 0x04 starts there) decides memory decoding */
		r = bar_decode(d, vdev_mem_enabled(d));
		if (r)
			return r;
		/* vfio_basic_config_write(): revoked while decoding is off */
		vdev_dmabuf_move(d, !vdev_mem_enabled(d));
	}
	if (flr && d->reset_works) {
		vdev_dmabuf_move(d, true);
		vdev_model_reset(d); /* vfio_exp_config_write: FLR; config space restored */
		vdev_dmabuf_restore(d);
	}
	return (ssize_t)len;
}
