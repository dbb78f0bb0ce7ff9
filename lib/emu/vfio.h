/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Emulated PCI devices behind vfio-pci: shared by vfio.c (the VFIO file
 * layer), edu.c (identity, config space, the edu and generic models),
 * nvme.c (the NVMe controller) and bar-thread.c (the thread that runs the
 * models behind stores into an mmap of BAR0). Private to lib/emu/.
 * Everything runs with emu->lock held, except what bar-thread.c documents as
 * lock-free (the watch of BAR0 words).
 */
#ifndef IOMMUFD_EMU_VFIO_H
#define IOMMUFD_EMU_VFIO_H

#include "emu.h"

struct vgroup;
struct vfile;
struct vsvc;

/*
 * Words of BAR0 that a model watches for stores through an mmap: [off,
 * off + len), 4-byte aligned. shadow[i] is what the model last saw or
 * published in word i (bar-thread.c).
 */
struct bar_watch {
	uint32_t off, len;
	uint32_t *shadow;
};

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
	struct emu_file *t1_group_file; /* opened through a type1 container: the group
					 * file it holds while open */
	/* PCI identity, filled by the model */
	uint16_t vendor, device;
	uint32_t class_code;
	bool pcie;
	bool reset_works;         /* a function reset of its own (FLR); see vdev_reset_works() */
	uint8_t intx_pin;
	uint32_t msi_vectors, msix_vectors;
	uint32_t msix_table, msix_pba; /* their offsets in BAR0 */
	uint8_t config[4096];
	uint32_t config_size;
	/* BAR0: a memfd, mapped here at bar0_map (what an mmap of the region
	 * shows). bar0 is where the models find its contents: bar0_map, or
	 * while memory decoding is off (the command register's MEM bit clear)
	 * bar0_saved, a private copy, the memfd being truncated to 0 so that
	 * every mapping of it faults with SIGBUS (bar_decode(); read without the
	 * lock by the device-model thread) */
	int bar0_fd;
	uint8_t *bar0;
	uint8_t *bar0_map;
	uint8_t *bar0_saved;
	uint64_t bar0_size;
	uint32_t bar0_flags;      /* the flag bits of BAR0 in config space */
	/* the options it was added with (iommufd_emu_device_opts) */
	uint32_t opt_flags;       /* IOMMUFD_EMU_DEVICE_* */
	uint64_t opt_ns_size;     /* NVMe: namespace bytes, 0: the default */
	char opt_serial[21];      /* NVMe: serial number, "": the default */
	/* the model's state (edu.c, nvme.c), NULL for a generic device */
	void *model;
	/* the BAR0 servicing thread of the emulator; active: serviced by it */
	struct vsvc *svc;
	bool svc_active;
	/* BAR0 can change behind the emulator, so the thread must watch it:
	 * mmapped (for good: the emulator does not see munmap), or a dma-buf
	 * of it exported (until emu_reset, which closes every dma-buf) */
	bool bar0_mapped, bar0_dmabuf;
	/* edu: BAR0 beyond the register block reads all ones as edu_init_regs()
	 * filled it, and nothing could store there since (neither mapped nor
	 * exported): the next fill of the 1 MiB is skipped */
	bool bar0_ones;
	/* device internals */
	uint64_t dma_faults;      /* DMA requests the IOMMU refused */
	uint64_t last_fault_iova;
	/* interrupts: the enabled index and its eventfds (dup'ed), -1 none */
	int irq_index;
	int *irq_fds;
	uint32_t nr_irq_fds;
	uint64_t irqs_raised;
	bool intx_masked, intx_pending; /* INTx automask; a raise while masked */
	int err_fd, req_fd;             /* ERR and REQ eventfds (dup'ed), -1 none */
	/* runtime PM (vfio-feature.c): a low power entry in force, its wake-up eventfd (dup'ed, -1 none) */
	bool pm_engaged;
	int pm_wake_fd;
	/* the migration driver (vfio-migration.c), NULL: none, as vfio-pci */
	struct vmig *mig;
	/* SR-IOV (vfio-sriov.c): a PF's state (IOMMUFD_EMU_DEVICE_SRIOV), NULL
	 * for any other device; a VF's PF and its number (virtfn<vf_id>) */
	struct vsriov *sriov;
	struct vdev *physfn;
	unsigned int vf_id;
	/* being removed (vfio_unregister_group_dev() waits for its users): no
	 * new open by its cdev or GET_DEVICE_FD, no vfio-dev in sysfs */
	bool removing;
};

/* edu.c: the models */
int vdev_model_init(struct vdev *d);       /* identity, config, BAR0 memfd, edev flags */
void vdev_model_free(struct vdev *d);
/* registers, config space and model state as vdev_model_init() made them,
 * BAR0's memfd kept (every file closed: emu_reset) */
int vdev_model_power_on(struct vdev *d);
void vdev_model_open(struct vdev *d);      /* first open (bind): starts the BAR0 service */
void vdev_model_close(struct vdev *d);     /* last close (unbind): stops it */
void vdev_model_reset(struct vdev *d);
bool vdev_msix_sparse(struct vdev *d, uint32_t index, struct kabi_vfio_region_sparse_mmap_area *a,
		      uint32_t *n);
ssize_t vdev_bar0_read(struct vdev *d, uint64_t off, void *buf, size_t len);
ssize_t vdev_bar0_write(struct vdev *d, uint64_t off, const void *buf, size_t len);
/* lock-free: a store into the BAR0 mmap, or work the model left, waits */
bool vdev_model_pending(struct vdev *d);
/* take in the stores into the BAR0 mmap and run the device; true: it did work */
bool vdev_model_service(struct vdev *d);
/* DMA through the device's attachment (bus master on), counting refused requests */
int vdev_dma(struct vdev *d, uint64_t iova, void *buf, size_t len, bool write);

/* the state a migration carries (registers, buffers): its size (0: none), save, load */
size_t vdev_model_state_size(struct vdev *d);
void vdev_model_save(struct vdev *d, void *buf);
void vdev_model_load(struct vdev *d, const void *buf);

/* nvme.c: the NVMe controller (edu.c dispatches to it) */
int nvme_model_init(struct vdev *d);
/* IOMMUFD_EMU_NVME_SIZE: bytes, or with a K, M or G suffix, a multiple of 512
 * up to 1 TiB; 0 (the default size) for anything else */
uint64_t nvme_parse_size(const char *s);
void nvme_model_free(struct vdev *d);
void nvme_model_reset(struct vdev *d);     /* function reset (FLR, open) */
bool nvme_model_pending(struct vdev *d);
bool nvme_model_service(struct vdev *d);
void nvme_bar0_read(struct vdev *d, uint64_t off, void *buf, size_t len);
void nvme_bar0_write(struct vdev *d, uint64_t off, const void *buf, size_t len);

/* bar-thread.c: the words of BAR0 as the program's mmap shows them */
uint32_t bar_load(struct vdev *d, uint32_t off);
/* has any watched word changed since the model saw it? (lock-free) */
bool bar_watch_changed(struct vdev *d, const struct bar_watch *w);
/* the model saw value v in word off: remember it */
void bar_watch_seen(const struct bar_watch *w, uint32_t off, uint32_t v);
/* the model wants word off to read v: store it unless the program stored
 * there since the model last looked (that store is then taken in first) */
void bar_publish(struct vdev *d, const struct bar_watch *w, uint32_t off, uint32_t v);
/* set word off to v unconditionally (reset, init) */
void bar_set(struct vdev *d, const struct bar_watch *w, uint32_t off, uint32_t v);

/* bar-thread.c: memory decoding of BAR0 on or off (every mapping of it
 * faults with SIGBUS while off, its contents kept for when it comes back) */
int bar_decode(struct vdev *d, bool on);

/* bar-thread.c: the servicing thread, one per emulator */
struct vsvc *vsvc_new(struct iommufd_emu *emu);
void vsvc_free(struct vsvc *t);            /* stops the thread */
/* serve d (starts the thread if a served BAR0 can change behind the emulator) */
int vsvc_add(struct vsvc *t, struct vdev *d);
void vsvc_remove(struct vsvc *t, struct vdev *d); /* stop serving d (the last: joins it) */
/* d's BAR0 was just mmapped or exported as a dma-buf: the thread runs if d is served */
int vsvc_exposed(struct vsvc *t, struct vdev *d);

/* vfio-config.c: config space as vfio-pci virtualises it */
ssize_t vdev_config_read(struct vdev *d, uint64_t off, void *buf, size_t len);
ssize_t vdev_config_write(struct vdev *d, uint64_t off, const void *buf, size_t len);
/* does BAR0 decode (the command register's memory space bit)? */
bool vdev_mem_enabled(const struct vdev *d);

/* vfio-irq.c: signal vector of the enabled interrupt index (no-op when not set) */
void vdev_irq_raise(struct vdev *d, uint32_t vector);
/* vfio-irq.c: VFIO_DEVICE_SET_IRQS; every interrupt off (unbind) */
int vdev_set_irqs(struct vdev *d, void *arg);
void vdev_irqs_clear(struct vdev *d);
/* vfio.c: the emulator's devices (a list through ->next), the IOMMU group number of d */
struct vdev *vfio_devices(struct iommufd_emu *emu);
int vdev_group_nr(const struct vdev *d);
/* vfio-feature.c: VFIO_DEVICE_FEATURE; a device ioctl's runtime resume; low power off (unbind) */
int vdev_feature(struct vdev *d, void *arg);
/* vfio_check_feature(): 1 run the feature, else the value to return (0 for a PROBE) */
int vdev_check_feature(uint32_t flags, size_t argsz, uint32_t supported_ops, size_t minsz);
void vdev_pm_resume(struct vdev *d);
void vdev_pm_clear(struct vdev *d);
/* vfio-dmabuf.c: VFIO_DEVICE_FEATURE_DMA_BUF and the revocation of the dma-bufs */
int vdev_feature_dma_buf(struct vdev *d, uint32_t flags, uint64_t uarg, size_t argsz);
void vdev_dmabuf_move(struct vdev *d, bool revoked);
void vdev_dmabuf_restore(struct vdev *d); /* un-revoke if memory decoding is on */
void vdev_dmabuf_cleanup(struct vdev *d); /* the last close: revoked for good */
/*
 * vfio-migration.c: the migration driver of a device added with
 * IOMMUFD_EMU_DEVICE_MIGRATION: its features (ENOTTY without it), its life
 * (init with the device, reset, last close, free), whether the device runs
 * (not in STOP, STOP_COPY, RESUMING, ERROR), and the DMA log of its writes
 */
struct vmig;
int vmig_feature(struct vdev *d, uint32_t flags, uint64_t uarg, size_t argsz);
int vmig_init(struct vdev *d);
void vmig_free(struct vdev *d);
void vmig_reset(struct vdev *d);
void vmig_close(struct vdev *d);
bool vmig_running(const struct vdev *d);
void vmig_log_write(struct vdev *d, uint64_t iova, size_t len);
/*
 * vfio-reset.c: does VFIO_DEVICE_RESET work (the model's reset, or a bus reset
 * of a device alone below its bridge); GET_PCI_HOT_RESET_INFO and
 * PCI_HOT_RESET (cdev: the calling file is a cdev)
 */
bool vdev_reset_works(struct vdev *d);
int vdev_hot_reset_info(struct vdev *d, bool cdev, void *arg);
int vdev_hot_reset(struct vdev *d, bool cdev, void *arg);
/*
 * vfio-sriov.c: an SR-IOV PF (IOMMUFD_EMU_DEVICE_SRIOV, NVMe only) and its
 * VFs, with the rules of drivers/pci/iov.c and vfio-pci: the PF's state
 * (init before the model, free), its SR-IOV capability and a VF's config
 * (config_init), the sysfs attributes (sriov_*: render, sriov_numvfs store),
 * vfio-pci's enable_sriov parameter, the VF token (match at bind or
 * GET_DEVICE_FD, VFIO_DEVICE_FEATURE_PCI_VF_TOKEN), a VF's open and close
 * (the token's users), and the VFs dropped by an emulator reset.
 */
struct vsriov;
#define VSRIOV_MAX_VFS 127 /* QEMU's NVME_MAX_VFS */
int vsriov_init(struct vdev *d);
/* another TotalVFs (1..VSRIOV_MAX_VFS, -EINVAL; -EBUSY while VFs are enabled) */
int vsriov_set_totalvfs(struct vdev *pf, unsigned int total);
void vsriov_free(struct vdev *d);
void vsriov_config(struct vdev *d);
enum vsriov_attr {
	VSRIOV_TOTALVFS,
	VSRIOV_NUMVFS,
	VSRIOV_OFFSET,
	VSRIOV_STRIDE,
	VSRIOV_VF_DEVICE,
	VSRIOV_DRIVERS_AUTOPROBE,
	VSRIOV_NR_ATTRS,
};
extern const char *const vsriov_attr_names[VSRIOV_NR_ATTRS];
int vsriov_attr_show(struct vdev *pf, enum vsriov_attr a, char *buf, size_t len);
/* a store to attribute a: len, or the kernel's -errno; may drop emu->lock while it waits */
ssize_t vsriov_attr_store(struct vdev *pf, enum vsriov_attr a, const char *buf, size_t len);
/* /sys/module/vfio_pci/parameters/enable_sriov */
int vsriov_param_show(struct iommufd_emu *emu, char *buf, size_t len);
ssize_t vsriov_param_store(struct iommufd_emu *emu, const char *buf, size_t len);
int vsriov_match_token(struct vdev *d, const uint8_t *uuid); /* uuid NULL: none given */
void vsriov_set_token(struct vdev *pf, const uint8_t uuid[16]); /* VFIO_DEVICE_FEATURE_PCI_VF_TOKEN SET */
void vsriov_open(struct vdev *d);  /* first open of a device (vfio_pci_core_finish_enable) */
void vsriov_close(struct vdev *d); /* its last close */
void vsriov_reset(struct iommufd_emu *emu); /* emu_reset: every VF gone, enable_sriov off */
/* vfio.c: a VF of pf at bdf, a device of its own (a new group, a free vfioN); its removal */
int vfio_vf_add(struct vdev *pf, unsigned int vf_id, const char *bdf, struct vdev **ret);
void vfio_vf_remove(struct vdev *vf);
/* vfio.c: the device at bdf, NULL if none; is d open, or its group file? */
struct vdev *vfio_device_find(struct iommufd_emu *emu, const char *bdf);
bool vfio_device_in_use(const struct vdev *d);
/* vfio.c: vfio-pci's enable_sriov module parameter of the emulator */
bool *vfio_enable_sriov(struct iommufd_emu *emu);
/* vfio-region.c: the capability chain of region ri->index after the info at arg */
int vdev_region_caps(struct vdev *d, struct kabi_vfio_region_info *ri, void *arg);

#endif
