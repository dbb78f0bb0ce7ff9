/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ABI of the kernel's selftest mock (IOMMU_TEST_CMD, CONFIG_IOMMUFD_TEST):
 * the project's own definitions, checked against the kernel's iommufd_test.h
 * by tests/core/test-abi.c. Used by the tests (through iommufd_ctx_ioctl())
 * and by the emulator, which serves the same command.
 *
 * Private header: never installed.
 */
#ifndef IOMMUFD_ABI_TEST_H
#define IOMMUFD_ABI_TEST_H

#include <stdint.h>

#include "abi.h"

/* KABI_IOMMU_TEST_CMD (abi.h) = _IO(';', 0xa0) */

enum {
	KABI_TEST_OP_ADD_RESERVED = 1,
	KABI_TEST_OP_MOCK_DOMAIN = 2,
	KABI_TEST_OP_MD_CHECK_MAP = 3,
	KABI_TEST_OP_MD_CHECK_REFS = 4,
	KABI_TEST_OP_CREATE_ACCESS = 5,
	KABI_TEST_OP_DESTROY_ACCESS_PAGES = 6,
	KABI_TEST_OP_ACCESS_PAGES = 7,
	KABI_TEST_OP_ACCESS_RW = 8,
	KABI_TEST_OP_SET_TEMP_MEMORY_LIMIT = 9,
	KABI_TEST_OP_MOCK_DOMAIN_REPLACE = 10,
	KABI_TEST_OP_ACCESS_REPLACE_IOAS = 11,
	KABI_TEST_OP_MOCK_DOMAIN_FLAGS = 12,
	KABI_TEST_OP_DIRTY = 13,
	KABI_TEST_OP_MD_CHECK_IOTLB = 14,
	KABI_TEST_OP_TRIGGER_IOPF = 15,
	KABI_TEST_OP_DEV_CHECK_CACHE = 16,
	KABI_TEST_OP_TRIGGER_VEVENT = 17,
	KABI_TEST_OP_PASID_ATTACH = 18,
	KABI_TEST_OP_PASID_REPLACE = 19,
	KABI_TEST_OP_PASID_DETACH = 20,
	KABI_TEST_OP_PASID_CHECK_HWPT = 21,
	KABI_TEST_OP_DMABUF_GET = 22,
	KABI_TEST_OP_DMABUF_REVOKE = 23,
};

enum {
	KABI_MOCK_IOMMUPT_DEFAULT = 0,
	KABI_MOCK_IOMMUPT_HUGE = 1,
};

/* true for KABI_MOCK_IOMMUPT_DEFAULT */
#define KABI_MOCK_APERTURE_START (1ull << 24)
#define KABI_MOCK_APERTURE_LAST ((1ull << 31) - 1)
#define KABI_MOCK_PAGE_SIZE 2048u
#define KABI_MOCK_HUGE_PAGE_SIZE (512u * KABI_MOCK_PAGE_SIZE)

enum {
	KABI_MOCK_FLAGS_ACCESS_WRITE = 1 << 0,
	KABI_MOCK_FLAGS_ACCESS_SYZ = 1 << 16,
	KABI_MOCK_ACCESS_RW_WRITE = 1 << 0,
	KABI_MOCK_ACCESS_RW_SLOW_PATH = 1 << 2,
	KABI_MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0,
	KABI_MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,
	KABI_MOCK_FLAGS_DEVICE_PASID = 1 << 2,
	KABI_MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3,
	KABI_MOCK_NESTED_DOMAIN_IOTLB_NUM = 4,
	KABI_MOCK_DEV_CACHE_ID_MAX = 3,
	KABI_MOCK_DEV_CACHE_NUM = 4,
};

#define KABI_TEST_PASID_RESERVED 1024
#define KABI_MOCK_PASID_WIDTH 20

struct kabi_test_cmd {
	uint32_t size;
	uint32_t op;
	uint32_t id;
	uint32_t reserved;
	union {
		struct {
			uint64_t start;
			uint64_t length;
		} add_reserved;
		struct {
			uint32_t out_stdev_id;
			uint32_t out_hwpt_id;
			uint32_t out_idev_id; /* the DEVICE object ID */
		} mock_domain;
		struct {
			uint32_t out_stdev_id;
			uint32_t out_hwpt_id;
			uint32_t out_idev_id;
			uint32_t dev_flags; /* KABI_MOCK_FLAGS_DEVICE_* */
		} mock_domain_flags;
		struct {
			uint32_t pt_id;
		} mock_domain_replace;
		struct {
			uint64_t iova;
			uint64_t length;
			uint64_t uptr;
		} check_map;
		struct {
			uint64_t length;
			uint64_t uptr;
			uint32_t refs;
		} check_refs;
		struct {
			uint32_t out_access_fd;
			uint32_t flags;
		} create_access;
		struct {
			uint32_t access_pages_id;
		} destroy_access_pages;
		struct {
			uint32_t flags;
			uint32_t out_access_pages_id;
			uint64_t iova;
			uint64_t length;
			uint64_t uptr;
		} access_pages;
		struct {
			uint64_t iova;
			uint64_t length;
			uint64_t uptr;
			uint32_t flags;
		} access_rw;
		struct {
			uint32_t limit;
		} memory_limit;
		struct {
			uint32_t ioas_id;
		} access_replace_ioas;
		struct {
			uint32_t flags;
			uint64_t iova;
			uint64_t length;
			uint64_t page_size;
			uint64_t uptr;
			uint64_t out_nr_dirty;
		} dirty;
		struct {
			uint32_t id;
			uint32_t iotlb;
		} check_iotlb;
		struct {
			uint32_t dev_id;
			uint32_t pasid;
			uint32_t grpid;
			uint32_t perm;
			uint64_t addr;
		} trigger_iopf;
		struct {
			uint32_t id;
			uint32_t cache;
		} check_dev_cache;
		struct {
			uint32_t dev_id;
		} trigger_vevent;
		struct {
			uint32_t pasid;
			uint32_t pt_id;
		} pasid_attach; /* id: the stdev ID */
		struct {
			uint32_t pasid;
			uint32_t pt_id;
		} pasid_replace;
		struct {
			uint32_t pasid;
		} pasid_detach;
		struct {
			uint32_t pasid;
			uint32_t hwpt_id;
		} pasid_check;
		struct {
			uint32_t length;
			uint32_t open_flags;
		} dmabuf_get;
		struct {
			int32_t dmabuf_fd;
			uint32_t revoked;
		} dmabuf_revoke;
	};
	uint32_t last;
};

/* hw info of the mock device */
#define KABI_HW_INFO_SELFTEST_REGVAL 0xdeadbeef

/* nested HWPT data (KABI_HWPT_DATA_SELFTEST) */
#define KABI_TEST_IOTLB_DEFAULT 0xbadbeef
#define KABI_TEST_DEV_CACHE_DEFAULT 0xbaddad

struct kabi_hwpt_selftest {
	uint32_t iotlb;
	uint32_t pagetable_type;
};

#define KABI_TEST_INVALIDATE_FLAG_ALL (1 << 0)

/* entries of HWPT_INVALIDATE on a mock nested HWPT (KABI_HWPT_INVALIDATE_DATA_SELFTEST) */
struct kabi_hwpt_invalidate_selftest {
	uint32_t flags;
	uint32_t iotlb_id;
};

/* vIOMMU data of KABI_VIOMMU_TYPE_SELFTEST */
struct kabi_viommu_selftest {
	uint32_t in_data;
	uint32_t out_data;
	uint64_t out_mmap_offset;
	uint64_t out_mmap_length;
};

#define KABI_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeef
#define KABI_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

/* entries of HWPT_INVALIDATE on a mock vIOMMU */
struct kabi_viommu_invalidate_selftest {
	uint32_t flags;
	uint32_t vdev_id;
	uint32_t cache_id;
};

/* payload of each event of a KABI_VEVENTQ_TYPE_SELFTEST queue */
struct kabi_viommu_event_selftest {
	uint32_t virt_id;
};

#define KABI_TEST_HW_QUEUE_MAX 2

#endif
