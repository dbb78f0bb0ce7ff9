/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libiommufd-emu - an in-process emulator of the kernel's iommufd and VFIO,
 * for tests: programs built on libiommufd run on it without an IOMMU, root
 * or a kernel built for it.
 *
 * It is a library of its own (link with -liommufd-emu, pkg-config
 * libiommufd-emu) beside libiommufd, which production code links alone. An
 * emulator hands out a backend (iommufd_emu_get_backend()) that a test puts
 * into struct iommufd_ctx_opts; the context made with it, and the devices and
 * groups opened in its scope, are emulated. The conventions of <iommufd.h>
 * hold here too; the reason of a failed iommufd_emu_* call is given by
 * iommufd_emu_last_error().
 */
#ifndef LIBIOMMUFD_EMU_H
#define LIBIOMMUFD_EMU_H

#include <iommufd.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define IOMMUFD_EMU_EXPORT __attribute__((visibility("default")))
#else
#define IOMMUFD_EMU_EXPORT
#endif

/* ------------------------------------------------------------------ */
/* The kernel selftest mock (CONFIG_IOMMUFD_TEST): its type values.      */
/* ------------------------------------------------------------------ */

/*
 * The kernel's iommufd selftests drive a mock IOMMU through IOMMU_TEST_CMD
 * (a kernel built with CONFIG_IOMMUFD_TEST); the emulator models it as well.
 * Their values (above INT_MAX, so not enumerators) for the libiommufd calls
 * that take a vendor type:
 */
#define IOMMUFD_HWPT_DATA_SELFTEST 0xdeadu      /* iommufd_hwpt_alloc_opts.data_type */
#define IOMMUFD_HW_INFO_SELFTEST 0xfeedbeefu    /* iommufd_hw_info.type */
#define IOMMUFD_INVALIDATE_SELFTEST 0xdeadbeefu /* iommufd_hwpt_invalidate() */
#define IOMMUFD_VIOMMU_SELFTEST 0xdeadbeefu     /* iommufd_viommu_alloc() */
#define IOMMUFD_HW_QUEUE_SELFTEST 0xdeadbeefu   /* iommufd_hw_queue_alloc() */
#define IOMMUFD_VEVENTQ_SELFTEST 0xbeefbeefu    /* iommufd_veventq_new() */

/* ------------------------------------------------------------------ */
/* The emulated backend                                                 */
/* ------------------------------------------------------------------ */

/*
 * An in-process model of the kernel's iommufd and VFIO (cdev and group)
 * behaviour: same validation order, errno values, object IDs and lifetimes,
 * with emulated devices that really DMA through their IOAS translation.
 */
struct iommufd_emu;

IOMMUFD_EMU_EXPORT int iommufd_emu_new(struct iommufd_emu **ret);
IOMMUFD_EMU_EXPORT struct iommufd_emu *iommufd_emu_ref(struct iommufd_emu *emu);
/* Every context, device and group on the emulator holds a reference: release in any order. */
IOMMUFD_EMU_EXPORT struct iommufd_emu *iommufd_emu_unref(struct iommufd_emu *emu);
/* The backend to put into iommufd_ctx_opts: contexts made with it, and what they open, are emulated. */
IOMMUFD_EMU_EXPORT struct iommufd_backend *iommufd_emu_get_backend(struct iommufd_emu *emu);
/*
 * A context on the emulator: iommufd_ctx_new_opts() with its backend. The
 * context's own failures are reported by iommufd_last_error().
 */
IOMMUFD_EMU_EXPORT int iommufd_emu_ctx_new(struct iommufd_emu *emu, struct iommufd_ctx **ret);
/* The reason of the calling thread's last failed iommufd_emu_* call ("" if none). */
IOMMUFD_EMU_EXPORT const char *iommufd_emu_last_error(void);

/*
 * Fault injection: make the nth internal allocation or step of the emulator
 * (counted from this call, 1-based) fail with -ENOMEM (or the errno the
 * kernel's injection site gives); 0 disables. Used to test the error paths
 * of the layers above: a failed call must leave the state unchanged.
 */
IOMMUFD_EMU_EXPORT int iommufd_emu_set_fail_nth(struct iommufd_emu *emu, unsigned long nth);
/* Steps counted since the last iommufd_emu_set_fail_nth(): a run that never reached nth
 * has a count below it. */
IOMMUFD_EMU_EXPORT unsigned long iommufd_emu_get_fail_count(struct iommufd_emu *emu);

/*
 * The configuration of the emulated kernel (the default is the VM's: iommufd,
 * VFIO cdevs, and /dev/vfio/vfio a VFIO type1 container, i.e.
 * CONFIG_IOMMUFD=y, CONFIG_VFIO_DEVICE_CDEV=y, CONFIG_VFIO_CONTAINER=y,
 * CONFIG_VFIO_IOMMU_TYPE1=y, CONFIG_IOMMUFD_VFIO_CONTAINER off).
 */
/* no CONFIG_IOMMUFD: no /dev/iommu, no VFIO cdevs (/dev/vfio/devices/ absent,
 * no vfio-dev in sysfs); groups + type1 container only */
#define IOMMUFD_EMU_CONFIG_NO_IOMMUFD (1u << 0)
/* CONFIG_IOMMUFD_VFIO_CONTAINER: /dev/vfio/vfio is iommufd's container
 * compatibility (an iommufd file answering the VFIO container ioctls)
 * instead of the type1 container */
#define IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT (1u << 1)
/*
 * Set the configuration (IOMMUFD_EMU_CONFIG_* bits) before anything is opened
 * on the emulator. -EINVAL: both bits (the compatibility is part of iommufd)
 * or unknown bits; -EBUSY: a file of the emulator was already opened.
 */
IOMMUFD_EMU_EXPORT int iommufd_emu_set_config(struct iommufd_emu *emu, uint32_t flags);
/* The configuration (0 for a NULL emu). */
IOMMUFD_EMU_EXPORT uint32_t iommufd_emu_get_config(const struct iommufd_emu *emu);

/* Emulated PCI devices on vfio-pci. */
enum iommufd_emu_device_kind {
	IOMMUFD_EMU_DEVICE_EDU = 1,     /* QEMU's edu (1234:11e8): a DMA engine in BAR0 */
	IOMMUFD_EMU_DEVICE_NVME = 2,    /* QEMU's NVMe controller (1b36:0010) */
	IOMMUFD_EMU_DEVICE_GENERIC = 3, /* registers only */
};
struct iommufd_emu_device_opts {
	size_t sz;
	uint32_t kind;   /* enum iommufd_emu_device_kind */
	const char *bdf; /* "0000:00:02.0"; NULL: the next free 0000:00:NN.0 from 02 */
	int group;       /* IOMMU group number; 0: a new group, numbered like the kernel's */
	uint32_t flags;  /* IOMMUFD_EMU_DEVICE_* */
	/*
	 * NVMe: the bytes of its namespace (NSID 1, 512-byte LBAs, in memory
	 * that is allocated as it is written), a multiple of 512 up to 1 TiB;
	 * 0: the environment's IOMMUFD_EMU_NVME_SIZE (bytes, or with a K, M or
	 * G suffix, so devices made by the preload library can be sized), else
	 * 64 MiB.
	 */
	uint64_t nvme_ns_size;
	/* NVMe: its serial number (1-20 printable ASCII); NULL: "deadbeef", as the VM's */
	const char *nvme_serial;
};
#define IOMMUFD_EMU_DEVICE_PASID (1u << 0) /* PASID capable (20 bits), unlike QEMU's edu */
/*
 * Its IOMMU tracks dirty pages, unlike QEMU's VT-d: GET_HW_INFO reports
 * IOMMUFD_HW_CAP_DIRTY_TRACKING, a HWPT with IOMMUFD_HWPT_DIRTY_TRACKING can be
 * allocated for it and attached, and the device's DMA writes through such a HWPT
 * mark the written IOVA pages dirty while tracking is on (reads mark nothing).
 */
#define IOMMUFD_EMU_DEVICE_DIRTY_TRACKING (1u << 1)
/* NVMe: no namespace, like QEMU's NVMe without -drive/nvme-ns (the VM's) */
#define IOMMUFD_EMU_DEVICE_NVME_NO_NAMESPACE (1u << 2)
/*
 * Its IOMMU can nest, unlike QEMU's VT-d (the VM's kernel refuses a nest
 * parent HWPT there with EOPNOTSUPP): a HWPT with IOMMUFD_HWPT_NEST_PARENT
 * can be allocated for it, and on it the selftest vIOMMU and nested HWPTs
 * (as with the kernel's selftest mock), so that device-raised vEVENTs
 * (iommufd_emu_device_vevent()) can be tested.
 */
#define IOMMUFD_EMU_DEVICE_NESTING (1u << 3)
/*
 * The MSI-X table is not mappable, as under a VFIO driver without MSI-X
 * mappable (vfio-pci has it): BAR0's capability chain is a sparse mmap
 * capability listing the pages before and after the table's pages, and an
 * mmap that reaches those pages is -EINVAL. For NVMe (edu has no MSI-X).
 */
#define IOMMUFD_EMU_DEVICE_MSIX_SPARSE (1u << 4)
/*
 * edu only: a VFIO migration driver, unlike vfio-pci (the VM's devices answer
 * ENOTTY): MIGRATION with STOP_COPY, P2P and PRE_COPY, MIG_DEVICE_STATE over
 * the kernel's FSM with data fds carrying its registers and DMA buffer (a
 * device resumed from them behaves as the source), MIG_DATA_SIZE,
 * VFIO_MIG_GET_PRECOPY_INFO, and DMA logging of the pages its DMA writes.
 * Through the preload library: "edu+migration" in IOMMUFD_EMU_DEVICES.
 */
#define IOMMUFD_EMU_DEVICE_MIGRATION (1u << 5)
/*
 * With IOMMUFD_EMU_DEVICE_MIGRATION: MIGRATION gives STOP_COPY alone (no
 * RUNNING_P2P, no PRE_COPY states), the minimum a migration driver has; the
 * FSM then skips the states the device lacks, as the kernel's does.
 * Preload: "edu+migration+stop-copy-only".
 */
#define IOMMUFD_EMU_DEVICE_MIGRATION_STOP_COPY_ONLY (1u << 6)
/*
 * A device without an IOMMU, as vfio-pci gives one with
 * vfio.enable_unsafe_noiommu_mode=1 (drivers/vfio/group.c
 * vfio_noiommu_group_alloc()): its group is named "vfio-noiommu"
 * (<sysfs>/kernel/iommu_groups/<N>/name) and its node is
 * <dev>/vfio/noiommu-<N>; it has no cdev (sysfs still lists vfio-dev/vfioN).
 * Its group joins a type1 container that then offers VFIO_NOIOMMU_IOMMU only
 * (no IOMMU and no-IOMMU groups do not mix: EPERM), or an iommufd without a
 * compat IOAS, which turns no-IOMMU (TYPE1 extensions 0, SET_IOMMU of
 * VFIO_NOIOMMU_IOMMU 0); the device file is bound to nothing (BIND EINVAL,
 * ATTACH ENOTTY) but its config space, regions and interrupts work. Its DMA
 * would reach physical addresses: the emulator has none, so every DMA of it
 * is refused and counted as a fault (iommufd_emu_device_dma() says why). A
 * group given by number must be all no-IOMMU or none (-EINVAL). Adding one
 * enables the no-IOMMU mode (a type1 container's CHECK_EXTENSION of
 * VFIO_NOIOMMU_IOMMU answers 1). Preload: "edu+noiommu".
 */
#define IOMMUFD_EMU_DEVICE_NOIOMMU (1u << 7)
/*
 * NVMe only: an SR-IOV physical function, as QEMU's NVMe with sriov_max_vfs=2
 * (the VM of tests/vm/run-vm --sriov): its SR-IOV extended capability
 * (after ARI; read only, as vfio-pci passes it), sysfs sriov_totalvfs (2),
 * sriov_numvfs, sriov_offset (1), sriov_stride (1), sriov_vf_device, and
 * vfio-pci's /sys/module/vfio_pci/parameters/enable_sriov (N at start).
 * Writing sriov_numvfs (iommufd_pci_sriov_set_numvfs(), or a raw sysfs
 * write) follows drivers/pci/iov.c and vfio-pci: EINVAL not a number,
 * ERANGE above the total, ENOENT with enable_sriov off, EBUSY for another
 * non-zero count while VFs are enabled. Each VF is an emulated device of its
 * own at the PF's address + 1 + i (its function number), on vfio-pci with
 * a group and a cdev of its own, linked virtfnN (PF) and physfn (VF); it
 * has the PF's options but this one. Disabling waits until each VF is
 * closed (its request eventfd signalled). The VF token: set on the PF
 * (iommufd_device_set_vf_token()), required to bind or open a VF (none or
 * another: EACCES) and, while a VF is open, to bind the PF. Not with
 * IOMMUFD_EMU_DEVICE_NOIOMMU. Preload: "nvme+sriov".
 */
#define IOMMUFD_EMU_DEVICE_SRIOV (1u << 8)
/*
 * Add a device bound to vfio-pci: it appears in the emulator's sysfs tree as
 * the kernel lays it out (devices/pci<seg>:00/[<root port>/]<bdf>/{vendor,
 * device,iommu_group,driver,subsystem,vfio-dev/vfioN/dev}, linked from
 * bus/pci/devices/<bdf>, the group and class/vfio-dev/vfioN)
 * and as <dev>/vfio/devices/vfioN and <dev>/vfio/<group>. cdev_path (may be
 * NULL) gets the cdev path ("" with IOMMUFD_EMU_CONFIG_NO_IOMMUFD: no cdev).
 * -EEXIST: bdf taken.
 * The devices behave through an mmap of BAR0 as through the device file: a
 * store into the mapping is taken in by the emulator's device-model thread
 * (running while a device is open) within microseconds, as hardware takes a
 * posted write; a write through the device file (pwrite,
 * iommufd_device_region_write()) takes effect before it returns. Loads from
 * the mapping read what the model says.
 * edu: its DMA engine runs when the cmd register (0x98) gets the start bit,
 * through the device's current attachment; the start bit clears when done.
 * NVMe: a controller as QEMU's hw/nvme reports it (CAP, VS 1.4, Identify with
 * QEMU's model name, admin and I/O queues, Read/Write/Flush/Write Zeroes over
 * an in-memory namespace, PRPs and SGLs, MSI-X vector per CQ); its DMA goes
 * through the device's attachment, and a refused transfer completes the
 * command with Data Transfer Error (a refused queue access: fatal status).
 */
IOMMUFD_EMU_EXPORT int iommufd_emu_add_pci_device(struct iommufd_emu *emu,
					      const struct iommufd_emu_device_opts *opts,
					      char *cdev_path, size_t len);
/*
 * The TotalVFs of SR-IOV PF bdf (IOMMUFD_EMU_DEVICE_SRIOV; 2 when added), as
 * QEMU's sriov_max_vfs: 1 to 127 (QEMU's NVMe at most), its VFs then at the
 * PF's routing ID + 1 + i. -ENODEV: no such device; -EINVAL: not a PF, or
 * totalvfs out of range; -EBUSY: VFs are enabled.
 */
IOMMUFD_EMU_EXPORT int iommufd_emu_device_set_sriov_totalvfs(struct iommufd_emu *emu, const char *bdf,
							 unsigned int totalvfs);
/*
 * DMA requests of device bdf that the IOMMU refused (unmapped IOVA, missing
 * permission, no attachment): *count gets their number since creation and
 * *last_iova (may be NULL) the IOVA of the latest.
 */
IOMMUFD_EMU_EXPORT int iommufd_emu_device_get_dma_faults(struct iommufd_emu *emu, const char *bdf,
						     uint64_t *count, uint64_t *last_iova);
/*
 * Device-side events of emulated device bdf, as if the device itself issued
 * them (-ENODEV: no such device). iommufd_emu_device_dma(): a DMA of len bytes
 * at iova through the device's current attachment at pasid (0: the RID),
 * like edu's engine: write copies buf -> memory, else memory -> buf. A refused
 * request (not attached, unmapped, no permission) gives -EFAULT, transfers
 * nothing and counts as a DMA fault; a write through a tracking HWPT marks
 * the pages dirty.
 */
IOMMUFD_EMU_EXPORT int iommufd_emu_device_dma(struct iommufd_emu *emu, const char *bdf, uint32_t pasid,
					  uint64_t iova, void *buf, size_t len, bool write);
/*
 * An I/O page fault (a last-page request, PASID_VALID when pasid != 0) to the
 * fault queue of the HWPT attached at pasid. perm: IOMMUFD_FAULT_PERM_*.
 * -EOPNOTSUPP: not attached, or that HWPT has no fault queue.
 */
IOMMUFD_EMU_EXPORT int iommufd_emu_device_page_fault(struct iommufd_emu *emu, const char *bdf,
						 uint32_t pasid, uint32_t grpid, uint32_t perm,
						 uint64_t addr);
/*
 * A vEVENT of type (enum iommufd_veventq_type or IOMMUFD_VEVENTQ_SELFTEST)
 * with payload data[0..len), len exactly that type's record size (SMMUv3 32,
 * TEGRA241 CMDQV 16, selftest 4; else -EINVAL), to the queue of that type of
 * the vIOMMU of the device's current nested HWPT (on the RID). -ENOENT: no
 * such vIOMMU, or no vDEVICE of the device in it; -EOPNOTSUPP: no queue of
 * that type. A full queue records the loss (LOST_EVENTS) and returns 0.
 */
IOMMUFD_EMU_EXPORT int iommufd_emu_device_vevent(struct iommufd_emu *emu, const char *bdf,
					     uint32_t type, const void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif
