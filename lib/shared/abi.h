/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel ABI libiommufd speaks: iommufd (/dev/iommu) and the VFIO
 * device/group requests it needs. These are the project's own definitions of
 * facts fixed by the Linux UAPI (struct layouts, ioctl numbers, flag values),
 * so the library builds on systems whose <linux/iommufd.h> is missing or old.
 * tests/test-abi.c checks every size, offset and number here against real
 * kernel headers. Names use the kabi_ prefix so that no UAPI name is reused.
 *
 * Private header: never installed.
 */
#ifndef IOMMUFD_ABI_H
#define IOMMUFD_ABI_H

#include <stdint.h>

#define KABI_IOC_TYPE ';' /* 0x3b, shared by iommufd and VFIO */
/* _IO(';', nr): direction and size bits are zero */
#define KABI_IO(nr) ((unsigned long)((KABI_IOC_TYPE << 8) | (nr)))

/* ---------------------------------------------------------------- iommufd */
enum {
	KABI_CMD_BASE = 0x80,
	KABI_CMD_DESTROY = 0x80,
	KABI_CMD_IOAS_ALLOC = 0x81,
	KABI_CMD_IOAS_ALLOW_IOVAS = 0x82,
	KABI_CMD_IOAS_COPY = 0x83,
	KABI_CMD_IOAS_IOVA_RANGES = 0x84,
	KABI_CMD_IOAS_MAP = 0x85,
	KABI_CMD_IOAS_UNMAP = 0x86,
	KABI_CMD_OPTION = 0x87,
	KABI_CMD_VFIO_IOAS = 0x88,
	KABI_CMD_HWPT_ALLOC = 0x89,
	KABI_CMD_GET_HW_INFO = 0x8a,
	KABI_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	KABI_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	KABI_CMD_HWPT_INVALIDATE = 0x8d,
	KABI_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	KABI_CMD_IOAS_MAP_FILE = 0x8f,
	KABI_CMD_VIOMMU_ALLOC = 0x90,
	KABI_CMD_VDEVICE_ALLOC = 0x91,
	KABI_CMD_IOAS_CHANGE_PROCESS = 0x92,
	KABI_CMD_VEVENTQ_ALLOC = 0x93,
	KABI_CMD_HW_QUEUE_ALLOC = 0x94,
	KABI_CMD_LAST = 0x94,
	KABI_CMD_TEST = 0xa0, /* CONFIG_IOMMUFD_TEST kernels only */
};

#define KABI_IOMMU_DESTROY KABI_IO(KABI_CMD_DESTROY)
#define KABI_IOMMU_IOAS_ALLOC KABI_IO(KABI_CMD_IOAS_ALLOC)
#define KABI_IOMMU_IOAS_ALLOW_IOVAS KABI_IO(KABI_CMD_IOAS_ALLOW_IOVAS)
#define KABI_IOMMU_IOAS_COPY KABI_IO(KABI_CMD_IOAS_COPY)
#define KABI_IOMMU_IOAS_IOVA_RANGES KABI_IO(KABI_CMD_IOAS_IOVA_RANGES)
#define KABI_IOMMU_IOAS_MAP KABI_IO(KABI_CMD_IOAS_MAP)
#define KABI_IOMMU_IOAS_UNMAP KABI_IO(KABI_CMD_IOAS_UNMAP)
#define KABI_IOMMU_OPTION KABI_IO(KABI_CMD_OPTION)
#define KABI_IOMMU_VFIO_IOAS KABI_IO(KABI_CMD_VFIO_IOAS)
#define KABI_IOMMU_HWPT_ALLOC KABI_IO(KABI_CMD_HWPT_ALLOC)
#define KABI_IOMMU_GET_HW_INFO KABI_IO(KABI_CMD_GET_HW_INFO)
#define KABI_IOMMU_HWPT_SET_DIRTY_TRACKING KABI_IO(KABI_CMD_HWPT_SET_DIRTY_TRACKING)
#define KABI_IOMMU_HWPT_GET_DIRTY_BITMAP KABI_IO(KABI_CMD_HWPT_GET_DIRTY_BITMAP)
#define KABI_IOMMU_HWPT_INVALIDATE KABI_IO(KABI_CMD_HWPT_INVALIDATE)
#define KABI_IOMMU_FAULT_QUEUE_ALLOC KABI_IO(KABI_CMD_FAULT_QUEUE_ALLOC)
#define KABI_IOMMU_IOAS_MAP_FILE KABI_IO(KABI_CMD_IOAS_MAP_FILE)
#define KABI_IOMMU_VIOMMU_ALLOC KABI_IO(KABI_CMD_VIOMMU_ALLOC)
#define KABI_IOMMU_VDEVICE_ALLOC KABI_IO(KABI_CMD_VDEVICE_ALLOC)
#define KABI_IOMMU_IOAS_CHANGE_PROCESS KABI_IO(KABI_CMD_IOAS_CHANGE_PROCESS)
#define KABI_IOMMU_VEVENTQ_ALLOC KABI_IO(KABI_CMD_VEVENTQ_ALLOC)
#define KABI_IOMMU_HW_QUEUE_ALLOC KABI_IO(KABI_CMD_HW_QUEUE_ALLOC)
#define KABI_IOMMU_TEST_CMD KABI_IO(KABI_CMD_TEST)

struct kabi_destroy {
	uint32_t size;
	uint32_t id;
};

struct kabi_ioas_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};

struct kabi_iova_range {
	uint64_t start;
	uint64_t last;
};

struct kabi_ioas_iova_ranges {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	uint64_t allowed_iovas; /* user pointer to struct kabi_iova_range[] */
	uint64_t out_iova_alignment;
};

struct kabi_ioas_allow_iovas {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t reserved;
	uint64_t allowed_iovas;
};

enum {
	KABI_IOAS_MAP_FIXED_IOVA = 1 << 0,
	KABI_IOAS_MAP_WRITEABLE = 1 << 1,
	KABI_IOAS_MAP_READABLE = 1 << 2,
};

struct kabi_ioas_map {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	uint64_t user_va;
	uint64_t length;
	uint64_t iova;
};

struct kabi_ioas_map_file {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	int32_t fd;
	uint64_t start;
	uint64_t length;
	uint64_t iova;
};

struct kabi_ioas_copy {
	uint32_t size;
	uint32_t flags;
	uint32_t dst_ioas_id;
	uint32_t src_ioas_id;
	uint64_t length;
	uint64_t dst_iova;
	uint64_t src_iova;
};

struct kabi_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	uint64_t iova;
	uint64_t length;
};

enum {
	KABI_OPTION_RLIMIT_MODE = 0,
	KABI_OPTION_HUGE_PAGES = 1,
	KABI_OPTION_OP_SET = 0,
	KABI_OPTION_OP_GET = 1,
};

struct kabi_option {
	uint32_t size;
	uint32_t option_id;
	uint16_t op;
	uint16_t reserved;
	uint32_t object_id;
	uint64_t val64;
};

enum {
	KABI_VFIO_IOAS_GET = 0,
	KABI_VFIO_IOAS_SET = 1,
	KABI_VFIO_IOAS_CLEAR = 2,
};

struct kabi_vfio_ioas {
	uint32_t size;
	uint32_t ioas_id;
	uint16_t op;
	uint16_t reserved;
};

enum {
	KABI_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	KABI_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	KABI_HWPT_FAULT_ID_VALID = 1 << 2,
	KABI_HWPT_ALLOC_PASID = 1 << 3,
};

enum {
	KABI_HWPT_DATA_NONE = 0,
	KABI_HWPT_DATA_VTD_S1 = 1,
	KABI_HWPT_DATA_ARM_SMMUV3 = 2,
	KABI_HWPT_DATA_AMD_GUEST = 3,
	KABI_HWPT_DATA_SELFTEST = 0xdead,
};

struct kabi_hwpt_vtd_s1 {
	uint64_t flags;
	uint64_t pgtbl_addr;
	uint32_t addr_width;
	uint32_t reserved;
};

struct kabi_hwpt_arm_smmuv3 {
	uint64_t ste[2]; /* little endian */
};

struct kabi_hwpt_amd_guest {
	uint64_t dte[4];
};

struct kabi_hwpt_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pt_id;
	uint32_t out_hwpt_id;
	uint32_t reserved;
	uint32_t data_type;
	uint32_t data_len;
	uint64_t data_uptr;
	uint32_t fault_id;
	uint32_t reserved2;
};

enum {
	KABI_HW_INFO_TYPE_NONE = 0,
	KABI_HW_INFO_TYPE_INTEL_VTD = 1,
	KABI_HW_INFO_TYPE_ARM_SMMUV3 = 2,
	KABI_HW_INFO_TYPE_TEGRA241_CMDQV = 3,
	KABI_HW_INFO_TYPE_AMD = 4,
	KABI_HW_INFO_TYPE_SELFTEST = 0xfeedbeef,
	KABI_HW_INFO_FLAG_INPUT_TYPE = 1 << 0,
	KABI_HW_CAP_DIRTY_TRACKING = 1 << 0,
	KABI_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	KABI_HW_CAP_PCI_PASID_PRIV = 1 << 2,
	KABI_HW_CAP_PCI_ATS_NOT_SUPPORTED = 1 << 3,
};

struct kabi_hw_info_vtd {
	uint32_t flags;
	uint32_t reserved;
	uint64_t cap_reg;
	uint64_t ecap_reg;
};

struct kabi_hw_info_arm_smmuv3 {
	uint32_t flags;
	uint32_t reserved;
	uint32_t idr[6];
	uint32_t iidr;
	uint32_t aidr;
};

struct kabi_hw_info_tegra241_cmdqv {
	uint32_t flags;
	uint8_t version;
	uint8_t log2vcmdqs;
	uint8_t log2vsids;
	uint8_t reserved;
};

struct kabi_hw_info_amd {
	uint64_t efr;
	uint64_t efr2;
};

struct kabi_hw_info_selftest {
	uint32_t flags;
	uint32_t test_reg;
};

struct kabi_hw_info {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t data_len;
	uint64_t data_uptr;
	uint32_t data_type; /* in_data_type / out_data_type */
	uint8_t out_max_pasid_log2;
	uint8_t reserved[3];
	uint64_t out_capabilities;
};

enum { KABI_HWPT_DIRTY_TRACKING_ENABLE = 1 };

struct kabi_hwpt_set_dirty_tracking {
	uint32_t size;
	uint32_t flags;
	uint32_t hwpt_id;
	uint32_t reserved;
};

enum { KABI_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1 };

struct kabi_hwpt_get_dirty_bitmap {
	uint32_t size;
	uint32_t hwpt_id;
	uint32_t flags;
	uint32_t reserved;
	uint64_t iova;
	uint64_t length;
	uint64_t page_size;
	uint64_t data;
};

enum {
	KABI_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	KABI_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
	KABI_HWPT_INVALIDATE_DATA_SELFTEST = 0xdeadbeef,
	KABI_HWPT_INVALIDATE_DATA_SELFTEST_INVALID = 0xdadbeef,
	KABI_VTD_INV_FLAGS_LEAF = 1 << 0,
};

struct kabi_hwpt_vtd_s1_invalidate {
	uint64_t addr;
	uint64_t npages;
	uint32_t flags;
	uint32_t reserved;
};

struct kabi_viommu_arm_smmuv3_invalidate {
	uint64_t cmd[2];
};

struct kabi_hwpt_invalidate {
	uint32_t size;
	uint32_t hwpt_id;
	uint64_t data_uptr;
	uint32_t data_type;
	uint32_t entry_len;
	uint32_t entry_num;
	uint32_t reserved;
};

enum {
	KABI_PGFAULT_FLAGS_PASID_VALID = 1 << 0,
	KABI_PGFAULT_FLAGS_LAST_PAGE = 1 << 1,
	KABI_PGFAULT_PERM_READ = 1 << 0,
	KABI_PGFAULT_PERM_WRITE = 1 << 1,
	KABI_PGFAULT_PERM_EXEC = 1 << 2,
	KABI_PGFAULT_PERM_PRIV = 1 << 3,
	KABI_PAGE_RESP_SUCCESS = 0,
	KABI_PAGE_RESP_INVALID = 1,
};

struct kabi_hwpt_pgfault {
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;
	uint32_t reserved;
	uint64_t addr;
	uint32_t length;
	uint32_t cookie;
};

struct kabi_hwpt_page_response {
	uint32_t cookie;
	uint32_t code;
};

struct kabi_fault_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_fault_id;
	uint32_t out_fault_fd;
};

enum {
	KABI_VIOMMU_TYPE_DEFAULT = 0,
	KABI_VIOMMU_TYPE_ARM_SMMUV3 = 1,
	KABI_VIOMMU_TYPE_TEGRA241_CMDQV = 2,
	KABI_VIOMMU_TYPE_SELFTEST = 0xdeadbeef,
};

struct kabi_viommu_tegra241_cmdqv {
	uint64_t out_vintf_mmap_offset;
	uint64_t out_vintf_mmap_length;
};

struct kabi_viommu_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t type;
	uint32_t dev_id;
	uint32_t hwpt_id;
	uint32_t out_viommu_id;
	uint32_t data_len;
	uint32_t reserved;
	uint64_t data_uptr;
};

struct kabi_vdevice_alloc {
	uint32_t size;
	uint32_t viommu_id;
	uint32_t dev_id;
	uint32_t out_vdevice_id;
	uint64_t virt_id;
};

struct kabi_ioas_change_process {
	uint32_t size;
	uint32_t reserved;
};

enum {
	KABI_VEVENTQ_FLAG_LOST_EVENTS = 1u << 0,
	KABI_VEVENTQ_TYPE_DEFAULT = 0,
	KABI_VEVENTQ_TYPE_ARM_SMMUV3 = 1,
	KABI_VEVENTQ_TYPE_TEGRA241_CMDQV = 2,
	KABI_VEVENTQ_TYPE_SELFTEST = 0xbeefbeef,
};

struct kabi_vevent_header {
	uint32_t flags;
	uint32_t sequence;
};

struct kabi_vevent_arm_smmuv3 {
	uint64_t evt[4];
};

struct kabi_vevent_tegra241_cmdqv {
	uint64_t lvcmdq_err_map[2];
};

struct kabi_veventq_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t veventq_depth;
	uint32_t out_veventq_id;
	uint32_t out_veventq_fd;
	uint32_t reserved;
};

enum {
	KABI_HW_QUEUE_TYPE_DEFAULT = 0,
	KABI_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1,
	KABI_HW_QUEUE_TYPE_SELFTEST = 0xdeadbeef,
};

struct kabi_hw_queue_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t index;
	uint32_t out_hw_queue_id;
	uint64_t nesting_parent_iova;
	uint64_t length;
};

/* ------------------------------------------------------------------- VFIO */
#define KABI_VFIO_BASE 100
#define KABI_VFIO_IO(n) KABI_IO(KABI_VFIO_BASE + (n))

#define KABI_VFIO_API_VERSION 0
#define KABI_VFIO_TYPE1_IOMMU 1
#define KABI_VFIO_TYPE1v2_IOMMU 3
#define KABI_VFIO_UNMAP_ALL 9

#define KABI_VFIO_GET_API_VERSION KABI_VFIO_IO(0)
#define KABI_VFIO_CHECK_EXTENSION KABI_VFIO_IO(1)
#define KABI_VFIO_SET_IOMMU KABI_VFIO_IO(2)
#define KABI_VFIO_GROUP_GET_STATUS KABI_VFIO_IO(3)
#define KABI_VFIO_GROUP_SET_CONTAINER KABI_VFIO_IO(4)
#define KABI_VFIO_GROUP_UNSET_CONTAINER KABI_VFIO_IO(5)
#define KABI_VFIO_GROUP_GET_DEVICE_FD KABI_VFIO_IO(6)
#define KABI_VFIO_DEVICE_GET_INFO KABI_VFIO_IO(7)
#define KABI_VFIO_DEVICE_GET_REGION_INFO KABI_VFIO_IO(8)
#define KABI_VFIO_DEVICE_GET_IRQ_INFO KABI_VFIO_IO(9)
#define KABI_VFIO_DEVICE_SET_IRQS KABI_VFIO_IO(10)
#define KABI_VFIO_DEVICE_RESET KABI_VFIO_IO(11)
#define KABI_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO KABI_VFIO_IO(12) /* device fd: 12 and 13 again */
#define KABI_VFIO_DEVICE_PCI_HOT_RESET KABI_VFIO_IO(13)
#define KABI_VFIO_IOMMU_GET_INFO KABI_VFIO_IO(12)
#define KABI_VFIO_IOMMU_MAP_DMA KABI_VFIO_IO(13)
#define KABI_VFIO_IOMMU_UNMAP_DMA KABI_VFIO_IO(14)
#define KABI_VFIO_DEVICE_FEATURE KABI_VFIO_IO(17)
#define KABI_VFIO_DEVICE_BIND_IOMMUFD KABI_VFIO_IO(18)
#define KABI_VFIO_DEVICE_ATTACH_IOMMUFD_PT KABI_VFIO_IO(19)
#define KABI_VFIO_DEVICE_DETACH_IOMMUFD_PT KABI_VFIO_IO(20)

enum {
	KABI_VFIO_GROUP_FLAGS_VIABLE = 1 << 0,
	KABI_VFIO_GROUP_FLAGS_CONTAINER_SET = 1 << 1,
};

struct kabi_vfio_group_status {
	uint32_t argsz;
	uint32_t flags;
};

enum {
	KABI_VFIO_DEVICE_FLAGS_RESET = 1 << 0,
	KABI_VFIO_DEVICE_FLAGS_PCI = 1 << 1,
	KABI_VFIO_DEVICE_FLAGS_CAPS = 1 << 7,
};

struct kabi_vfio_device_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
	uint32_t cap_offset;
	uint32_t pad;
};

enum {
	KABI_VFIO_REGION_INFO_FLAG_READ = 1 << 0,
	KABI_VFIO_REGION_INFO_FLAG_WRITE = 1 << 1,
	KABI_VFIO_REGION_INFO_FLAG_MMAP = 1 << 2,
	KABI_VFIO_REGION_INFO_FLAG_CAPS = 1 << 3,
};

struct kabi_vfio_region_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t cap_offset;
	uint64_t size;
	uint64_t offset;
};

/* the capability chain after the info struct: offsets from its start, 0 ends */
struct kabi_vfio_info_cap_header {
	uint16_t id;
	uint16_t version;
	uint32_t next;
};

enum {
	KABI_VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1,
	KABI_VFIO_REGION_INFO_CAP_TYPE = 2,
	KABI_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3,
};

struct kabi_vfio_region_sparse_mmap_area {
	uint64_t offset;
	uint64_t size;
};

struct kabi_vfio_region_info_cap_sparse_mmap {
	struct kabi_vfio_info_cap_header header;
	uint32_t nr_areas;
	uint32_t reserved;
	struct kabi_vfio_region_sparse_mmap_area areas[];
};

struct kabi_vfio_region_info_cap_type {
	struct kabi_vfio_info_cap_header header;
	uint32_t type;
	uint32_t subtype;
};

enum {
	KABI_VFIO_IRQ_INFO_EVENTFD = 1 << 0,
	KABI_VFIO_IRQ_INFO_MASKABLE = 1 << 1,
	KABI_VFIO_IRQ_INFO_AUTOMASKED = 1 << 2,
	KABI_VFIO_IRQ_INFO_NORESIZE = 1 << 3,
};

struct kabi_vfio_irq_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t count;
};

enum {
	KABI_VFIO_IRQ_SET_DATA_NONE = 1 << 0,
	KABI_VFIO_IRQ_SET_DATA_BOOL = 1 << 1,
	KABI_VFIO_IRQ_SET_DATA_EVENTFD = 1 << 2,
	KABI_VFIO_IRQ_SET_ACTION_MASK = 1 << 3,
	KABI_VFIO_IRQ_SET_ACTION_UNMASK = 1 << 4,
	KABI_VFIO_IRQ_SET_ACTION_TRIGGER = 1 << 5,
};

struct kabi_vfio_irq_set {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t start;
	uint32_t count;
	uint8_t data[];
};

enum {
	KABI_VFIO_PCI_BAR0_REGION_INDEX = 0,
	KABI_VFIO_PCI_ROM_REGION_INDEX = 6,
	KABI_VFIO_PCI_CONFIG_REGION_INDEX = 7,
	KABI_VFIO_PCI_VGA_REGION_INDEX = 8,
	KABI_VFIO_PCI_NUM_REGIONS = 9,
	KABI_VFIO_PCI_INTX_IRQ_INDEX = 0,
	KABI_VFIO_PCI_MSI_IRQ_INDEX = 1,
	KABI_VFIO_PCI_MSIX_IRQ_INDEX = 2,
	KABI_VFIO_PCI_ERR_IRQ_INDEX = 3,
	KABI_VFIO_PCI_REQ_IRQ_INDEX = 4,
	KABI_VFIO_PCI_NUM_IRQS = 5,
};

enum { KABI_VFIO_DEVICE_BIND_FLAG_TOKEN = 1 << 0 };

struct kabi_vfio_device_bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
	uint64_t token_uuid_ptr;
};

enum { KABI_VFIO_DEVICE_ATTACH_PASID = 1 << 0 };

struct kabi_vfio_device_attach_iommufd_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pt_id;
	uint32_t pasid;
};

enum { KABI_VFIO_DEVICE_DETACH_PASID = 1 << 0 };

struct kabi_vfio_device_detach_iommufd_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pasid;
};

/* VFIO_DEVICE_FEATURE: the feature index in the low 16 bits of flags */
enum {
	KABI_VFIO_DEVICE_FEATURE_MASK = 0xffff,
	KABI_VFIO_DEVICE_FEATURE_GET = 1 << 16,
	KABI_VFIO_DEVICE_FEATURE_SET = 1 << 17,
	KABI_VFIO_DEVICE_FEATURE_PROBE = 1 << 18,
};

enum {
	KABI_VFIO_DEVICE_FEATURE_PCI_VF_TOKEN = 0,
	KABI_VFIO_DEVICE_FEATURE_MIGRATION = 1,
	KABI_VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE = 2,
	KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY = 3,
	KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP = 4,
	KABI_VFIO_DEVICE_FEATURE_LOW_POWER_EXIT = 5,
	KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_START = 6,
	KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP = 7,
	KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT = 8,
	KABI_VFIO_DEVICE_FEATURE_MIG_DATA_SIZE = 9,
	KABI_VFIO_DEVICE_FEATURE_BUS_MASTER = 10,
	KABI_VFIO_DEVICE_FEATURE_DMA_BUF = 11,
	KABI_VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 = 12,
};

struct kabi_vfio_device_feature {
	uint32_t argsz;
	uint32_t flags;
	uint8_t data[];
};

struct kabi_vfio_device_feature_migration {
	uint64_t flags;
};

enum {
	KABI_VFIO_MIGRATION_STOP_COPY = 1 << 0,
	KABI_VFIO_MIGRATION_P2P = 1 << 1,
	KABI_VFIO_MIGRATION_PRE_COPY = 1 << 2,
};

struct kabi_vfio_device_feature_mig_state {
	uint32_t device_state;
	int32_t data_fd;
};

struct kabi_vfio_device_feature_mig_data_size {
	uint64_t stop_copy_length;
};

/* VFIO_MIG_GET_PRECOPY_INFO, an ioctl of the migration data fd */
#define KABI_VFIO_MIG_GET_PRECOPY_INFO KABI_VFIO_IO(21)
struct kabi_vfio_precopy_info {
	uint32_t argsz;
	uint32_t flags;
	uint64_t initial_bytes;
	uint64_t dirty_bytes;
};

enum {
	KABI_VFIO_PRECOPY_INFO_REINIT = 1 << 0,
	KABI_VFIO_DEVICE_STATE_NR = 8, /* enum vfio_device_mig_state's VFIO_DEVICE_STATE_NR */
};

/* DMA_LOGGING_START (its control and ranges) and DMA_LOGGING_REPORT */
struct kabi_vfio_device_feature_dma_logging_control {
	uint64_t page_size;
	uint32_t num_ranges;
	uint32_t reserved;
	uint64_t ranges;
};

struct kabi_vfio_device_feature_dma_logging_range {
	uint64_t iova;
	uint64_t length;
};

struct kabi_vfio_device_feature_dma_logging_report {
	uint64_t iova;
	uint64_t length;
	uint64_t page_size;
	uint64_t bitmap;
};

struct kabi_vfio_device_low_power_entry_with_wakeup {
	int32_t wakeup_eventfd;
	uint32_t reserved;
};

/* VFIO_DEVICE_FEATURE_DMA_BUF (GET): a dma-buf of ranges of one BAR */
struct kabi_vfio_region_dma_range {
	uint64_t offset;
	uint64_t length;
};

struct kabi_vfio_device_feature_dma_buf {
	uint32_t region_index;
	uint32_t open_flags;
	uint32_t flags;
	uint32_t nr_ranges;
	struct kabi_vfio_region_dma_range dma_ranges[];
};

struct kabi_vfio_device_feature_bus_master {
	uint32_t op;
};

enum {
	KABI_VFIO_DEVICE_FEATURE_CLEAR_MASTER = 0,
	KABI_VFIO_DEVICE_FEATURE_SET_MASTER = 1,
};

/* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO / VFIO_DEVICE_PCI_HOT_RESET */
struct kabi_vfio_pci_dependent_device {
	uint32_t devid; /* group_id (group path) or devid (cdev) */
	uint16_t segment;
	uint8_t bus;
	uint8_t devfn;
};

enum {
	KABI_VFIO_PCI_DEVID_OWNED = 0,
	KABI_VFIO_PCI_DEVID_NOT_OWNED = -1,
	KABI_VFIO_PCI_HOT_RESET_FLAG_DEV_ID = 1 << 0,
	KABI_VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED = 1 << 1,
};

struct kabi_vfio_pci_hot_reset_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t count;
	struct kabi_vfio_pci_dependent_device devices[];
};

struct kabi_vfio_pci_hot_reset {
	uint32_t argsz;
	uint32_t flags;
	uint32_t count;
	int32_t group_fds[];
};

/* legacy type1 compat (served by iommufd on /dev/iommu too) */
struct kabi_vfio_iommu_type1_dma_map {
	uint32_t argsz;
	uint32_t flags;
	uint64_t vaddr;
	uint64_t iova;
	uint64_t size;
};

struct kabi_vfio_iommu_type1_dma_unmap {
	uint32_t argsz;
	uint32_t flags;
	uint64_t iova;
	uint64_t size;
};

/* the VFIO container with the type1 IOMMU driver (drivers/vfio/vfio_iommu_type1.c) */
#define KABI_VFIO_DMA_CC_IOMMU 4
#define KABI_VFIO_NOIOMMU_IOMMU 8
#define KABI_VFIO_IOMMU_DIRTY_PAGES KABI_VFIO_IO(17)

enum {
	KABI_VFIO_DMA_MAP_FLAG_READ = 1 << 0,
	KABI_VFIO_DMA_MAP_FLAG_WRITE = 1 << 1,
	KABI_VFIO_DMA_MAP_FLAG_VADDR = 1 << 2,
};

enum {
	KABI_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1 << 0,
	KABI_VFIO_DMA_UNMAP_FLAG_ALL = 1 << 1,
	KABI_VFIO_DMA_UNMAP_FLAG_VADDR = 1 << 2,
};

enum {
	KABI_VFIO_IOMMU_INFO_PGSIZES = 1 << 0,
	KABI_VFIO_IOMMU_INFO_CAPS = 1 << 1,
};

struct kabi_vfio_iommu_type1_info {
	uint32_t argsz;
	uint32_t flags;
	uint64_t iova_pgsizes;
	uint32_t cap_offset;
	uint32_t pad;
};

enum {
	KABI_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1,
	KABI_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2,
	KABI_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3,
};

struct kabi_vfio_iova_range {
	uint64_t start;
	uint64_t end;
};

struct kabi_vfio_iommu_type1_info_cap_iova_range {
	struct kabi_vfio_info_cap_header header;
	uint32_t nr_iovas;
	uint32_t reserved;
	struct kabi_vfio_iova_range iova_ranges[];
};

struct kabi_vfio_iommu_type1_info_cap_migration {
	struct kabi_vfio_info_cap_header header;
	uint32_t flags;
	uint64_t pgsize_bitmap;
	uint64_t max_dirty_bitmap_size;
};

struct kabi_vfio_iommu_type1_info_dma_avail {
	struct kabi_vfio_info_cap_header header;
	uint32_t avail;
};

struct kabi_vfio_bitmap {
	uint64_t pgsize;
	uint64_t size;
	uint64_t data; /* __u64 *: a user pointer */
};

enum {
	KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_START = 1 << 0,
	KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP = 1 << 1,
	KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP = 1 << 2,
};

struct kabi_vfio_iommu_type1_dirty_bitmap {
	uint32_t argsz;
	uint32_t flags;
};

struct kabi_vfio_iommu_type1_dirty_bitmap_get {
	uint64_t iova;
	uint64_t size;
	struct kabi_vfio_bitmap bitmap;
};

#endif
