/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Emulated PCI devices behind vfio-pci: shared by vfio.c (the VFIO file
 * layer) and edu.c (the device models: registers, config space, DMA engine).
 * Private to lib/emu/. Everything runs with emu->lock held.
 */
#ifndef IOMMUFD_EMU_VFIO_H
#define IOMMUFD_EMU_VFIO_H

#include "emu.h"

struct vgroup;
struct vfile;

struct vdev {
	struct vdev *next;
	struct iommufd_emu *emu;
	struct emu_dev edev;      /* the IOMMU side (group, binding) */
	struct vgroup *grp;
	char bdf[16];
	uint32_t kind;            /* enum iommufd_emu_device_kind */
	int index;                /* vfioN */
	/* VFIO file state */
	struct vfile *cdev_file;  /* the bound cdev file, if any */
	int open_count;           /* open group-path files */
	/* PCI identity, filled by the model */
	uint16_t vendor, device;
	uint32_t class_code;
	bool pcie;
	bool reset_works;
	uint8_t intx_pin;
	uint32_t msi_vectors, msix_vectors;
	uint8_t config[4096];
	uint32_t config_size;
	/* BAR0: a memfd, mapped here at bar0 (the registers' backing store) */
	int bar0_fd;
	uint8_t *bar0;
	uint64_t bar0_size;
	/* device internals */
	uint8_t dma_buf[4096];    /* edu: the device buffer at device address 0x40000 */
	uint64_t dma_faults;      /* DMA requests the IOMMU refused */
	uint64_t last_fault_iova;
	/* interrupts: the enabled index and its eventfds (dup'ed), -1 none */
	int irq_index;
	int *irq_fds;
	uint32_t nr_irq_fds;
	uint64_t irqs_raised;
};

/* edu.c: the models */
int vdev_model_init(struct vdev *d);       /* identity, config, BAR0 memfd, edev flags */
void vdev_model_free(struct vdev *d);
void vdev_model_open(struct vdev *d);      /* first open (bind) */
void vdev_model_close(struct vdev *d);     /* last close (unbind) */
void vdev_model_reset(struct vdev *d);
ssize_t vdev_config_read(struct vdev *d, uint64_t off, void *buf, size_t len);
ssize_t vdev_config_write(struct vdev *d, uint64_t off, const void *buf, size_t len);
ssize_t vdev_bar0_read(struct vdev *d, uint64_t off, void *buf, size_t len);
ssize_t vdev_bar0_write(struct vdev *d, uint64_t off, const void *buf, size_t len);

/* vfio.c: signal vector of the enabled interrupt index (no-op when not set) */
void vdev_irq_raise(struct vdev *d, uint32_t vector);

#endif
