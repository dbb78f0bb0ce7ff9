// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The project's own kernel ABI (lib/shared/abi.h, lib/shared/abi-test.h) against the real
 * kernel headers (meson option uapi_headers): every struct size, every field
 * offset and size, every ioctl number and every flag/enum value.
 *
 * Built with -DABI_TEST_BREAK, one struct of abi.h is replaced by a copy with
 * two fields swapped: that program must fail (meson: should_fail), which
 * proves that a wrong offset is caught.
 */
#include <stddef.h>
#include <stdio.h>

#include <linux/stddef.h>
/* newer UAPI headers use annotations that Debian 12's <linux/stddef.h> lacks */
#ifndef __counted_by
#define __counted_by(m)
#endif
#ifndef __counted_by_le
#define __counted_by_le(m)
#endif
#include <linux/iommufd.h>
#include <linux/vfio.h>
#include "iommufd_test.h"

#include "shared/abi.h"
#include "shared/abi-test.h"
/* the public header must compile together with the UAPI header */
#include "iommufd-emu.h"

#ifdef ABI_TEST_BREAK
/* a deliberately wrong layout: user_va and length swapped */
struct kabi_ioas_map_broken {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	uint64_t length;
	uint64_t user_va;
	uint64_t iova;
};
#define kabi_ioas_map kabi_ioas_map_broken
#endif

static int checks, failures;

static void check(unsigned long long ours, unsigned long long theirs, const char *what, int line)
{
	checks++;
	if (ours == theirs)
		return;
	failures++;
	printf("MISMATCH line %d: %s: ours %llu (0x%llx), kernel %llu (0x%llx)\n", line, what, ours,
	       ours, theirs, theirs);
}

#define EQ(what, a, b) check((unsigned long long)(a), (unsigned long long)(b), what, __LINE__)
/* struct K of ours is struct U of the kernel */
#define SIZE(K, U) EQ("sizeof(struct " #K ")", sizeof(struct K), sizeof(struct U))
/* field kf of struct K is field uf of struct U: same offset, same size */
#define FIELD(K, kf, U, uf)                                                                   \
	do {                                                                                  \
		EQ("offsetof(" #K ", " #kf ")", offsetof(struct K, kf), offsetof(struct U, uf)); \
		EQ("sizeof(" #K "." #kf ")", sizeof(((struct K *)0)->kf),                       \
		   sizeof(((struct U *)0)->uf));                                                \
	} while (0)
#define F(K, U, f) FIELD(K, f, U, f)
#define VAL(ours, theirs) EQ(#ours " == " #theirs, ours, theirs)

static void check_iommufd(void)
{
	/* command numbers and ioctl numbers */
	VAL(KABI_IOC_TYPE, IOMMUFD_TYPE);
	VAL(KABI_CMD_BASE, IOMMUFD_CMD_BASE);
	VAL(KABI_CMD_DESTROY, IOMMUFD_CMD_DESTROY);
	VAL(KABI_CMD_IOAS_ALLOC, IOMMUFD_CMD_IOAS_ALLOC);
	VAL(KABI_CMD_IOAS_ALLOW_IOVAS, IOMMUFD_CMD_IOAS_ALLOW_IOVAS);
	VAL(KABI_CMD_IOAS_COPY, IOMMUFD_CMD_IOAS_COPY);
	VAL(KABI_CMD_IOAS_IOVA_RANGES, IOMMUFD_CMD_IOAS_IOVA_RANGES);
	VAL(KABI_CMD_IOAS_MAP, IOMMUFD_CMD_IOAS_MAP);
	VAL(KABI_CMD_IOAS_UNMAP, IOMMUFD_CMD_IOAS_UNMAP);
	VAL(KABI_CMD_OPTION, IOMMUFD_CMD_OPTION);
	VAL(KABI_CMD_VFIO_IOAS, IOMMUFD_CMD_VFIO_IOAS);
	VAL(KABI_CMD_HWPT_ALLOC, IOMMUFD_CMD_HWPT_ALLOC);
	VAL(KABI_CMD_GET_HW_INFO, IOMMUFD_CMD_GET_HW_INFO);
	VAL(KABI_CMD_HWPT_SET_DIRTY_TRACKING, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING);
	VAL(KABI_CMD_HWPT_GET_DIRTY_BITMAP, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP);
	VAL(KABI_CMD_HWPT_INVALIDATE, IOMMUFD_CMD_HWPT_INVALIDATE);
	VAL(KABI_CMD_FAULT_QUEUE_ALLOC, IOMMUFD_CMD_FAULT_QUEUE_ALLOC);
	VAL(KABI_CMD_IOAS_MAP_FILE, IOMMUFD_CMD_IOAS_MAP_FILE);
	VAL(KABI_CMD_VIOMMU_ALLOC, IOMMUFD_CMD_VIOMMU_ALLOC);
	VAL(KABI_CMD_VDEVICE_ALLOC, IOMMUFD_CMD_VDEVICE_ALLOC);
	VAL(KABI_CMD_IOAS_CHANGE_PROCESS, IOMMUFD_CMD_IOAS_CHANGE_PROCESS);
	VAL(KABI_CMD_VEVENTQ_ALLOC, IOMMUFD_CMD_VEVENTQ_ALLOC);
	VAL(KABI_CMD_HW_QUEUE_ALLOC, IOMMUFD_CMD_HW_QUEUE_ALLOC);
	VAL(KABI_IOMMU_DESTROY, IOMMU_DESTROY);
	VAL(KABI_IOMMU_IOAS_ALLOC, IOMMU_IOAS_ALLOC);
	VAL(KABI_IOMMU_IOAS_ALLOW_IOVAS, IOMMU_IOAS_ALLOW_IOVAS);
	VAL(KABI_IOMMU_IOAS_COPY, IOMMU_IOAS_COPY);
	VAL(KABI_IOMMU_IOAS_IOVA_RANGES, IOMMU_IOAS_IOVA_RANGES);
	VAL(KABI_IOMMU_IOAS_MAP, IOMMU_IOAS_MAP);
	VAL(KABI_IOMMU_IOAS_UNMAP, IOMMU_IOAS_UNMAP);
	VAL(KABI_IOMMU_OPTION, IOMMU_OPTION);
	VAL(KABI_IOMMU_VFIO_IOAS, IOMMU_VFIO_IOAS);
	VAL(KABI_IOMMU_HWPT_ALLOC, IOMMU_HWPT_ALLOC);
	VAL(KABI_IOMMU_GET_HW_INFO, IOMMU_GET_HW_INFO);
	VAL(KABI_IOMMU_HWPT_SET_DIRTY_TRACKING, IOMMU_HWPT_SET_DIRTY_TRACKING);
	VAL(KABI_IOMMU_HWPT_GET_DIRTY_BITMAP, IOMMU_HWPT_GET_DIRTY_BITMAP);
	VAL(KABI_IOMMU_HWPT_INVALIDATE, IOMMU_HWPT_INVALIDATE);
	VAL(KABI_IOMMU_FAULT_QUEUE_ALLOC, IOMMU_FAULT_QUEUE_ALLOC);
	VAL(KABI_IOMMU_IOAS_MAP_FILE, IOMMU_IOAS_MAP_FILE);
	VAL(KABI_IOMMU_VIOMMU_ALLOC, IOMMU_VIOMMU_ALLOC);
	VAL(KABI_IOMMU_VDEVICE_ALLOC, IOMMU_VDEVICE_ALLOC);
	VAL(KABI_IOMMU_IOAS_CHANGE_PROCESS, IOMMU_IOAS_CHANGE_PROCESS);
	VAL(KABI_IOMMU_VEVENTQ_ALLOC, IOMMU_VEVENTQ_ALLOC);
	VAL(KABI_IOMMU_HW_QUEUE_ALLOC, IOMMU_HW_QUEUE_ALLOC);

	SIZE(kabi_destroy, iommu_destroy);
	F(kabi_destroy, iommu_destroy, size);
	F(kabi_destroy, iommu_destroy, id);

	SIZE(kabi_ioas_alloc, iommu_ioas_alloc);
	F(kabi_ioas_alloc, iommu_ioas_alloc, size);
	F(kabi_ioas_alloc, iommu_ioas_alloc, flags);
	F(kabi_ioas_alloc, iommu_ioas_alloc, out_ioas_id);

	SIZE(kabi_iova_range, iommu_iova_range);
	F(kabi_iova_range, iommu_iova_range, start);
	F(kabi_iova_range, iommu_iova_range, last);

	SIZE(kabi_ioas_iova_ranges, iommu_ioas_iova_ranges);
	F(kabi_ioas_iova_ranges, iommu_ioas_iova_ranges, size);
	F(kabi_ioas_iova_ranges, iommu_ioas_iova_ranges, ioas_id);
	F(kabi_ioas_iova_ranges, iommu_ioas_iova_ranges, num_iovas);
	FIELD(kabi_ioas_iova_ranges, reserved, iommu_ioas_iova_ranges, __reserved);
	F(kabi_ioas_iova_ranges, iommu_ioas_iova_ranges, allowed_iovas);
	F(kabi_ioas_iova_ranges, iommu_ioas_iova_ranges, out_iova_alignment);

	SIZE(kabi_ioas_allow_iovas, iommu_ioas_allow_iovas);
	F(kabi_ioas_allow_iovas, iommu_ioas_allow_iovas, size);
	F(kabi_ioas_allow_iovas, iommu_ioas_allow_iovas, ioas_id);
	F(kabi_ioas_allow_iovas, iommu_ioas_allow_iovas, num_iovas);
	FIELD(kabi_ioas_allow_iovas, reserved, iommu_ioas_allow_iovas, __reserved);
	F(kabi_ioas_allow_iovas, iommu_ioas_allow_iovas, allowed_iovas);

	VAL(KABI_IOAS_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_FIXED_IOVA);
	VAL(KABI_IOAS_MAP_WRITEABLE, IOMMU_IOAS_MAP_WRITEABLE);
	VAL(KABI_IOAS_MAP_READABLE, IOMMU_IOAS_MAP_READABLE);

	SIZE(kabi_ioas_map, iommu_ioas_map);
	F(kabi_ioas_map, iommu_ioas_map, size);
	F(kabi_ioas_map, iommu_ioas_map, flags);
	F(kabi_ioas_map, iommu_ioas_map, ioas_id);
	FIELD(kabi_ioas_map, reserved, iommu_ioas_map, __reserved);
	F(kabi_ioas_map, iommu_ioas_map, user_va);
	F(kabi_ioas_map, iommu_ioas_map, length);
	F(kabi_ioas_map, iommu_ioas_map, iova);

	SIZE(kabi_ioas_map_file, iommu_ioas_map_file);
	F(kabi_ioas_map_file, iommu_ioas_map_file, size);
	F(kabi_ioas_map_file, iommu_ioas_map_file, flags);
	F(kabi_ioas_map_file, iommu_ioas_map_file, ioas_id);
	F(kabi_ioas_map_file, iommu_ioas_map_file, fd);
	F(kabi_ioas_map_file, iommu_ioas_map_file, start);
	F(kabi_ioas_map_file, iommu_ioas_map_file, length);
	F(kabi_ioas_map_file, iommu_ioas_map_file, iova);

	SIZE(kabi_ioas_copy, iommu_ioas_copy);
	F(kabi_ioas_copy, iommu_ioas_copy, size);
	F(kabi_ioas_copy, iommu_ioas_copy, flags);
	F(kabi_ioas_copy, iommu_ioas_copy, dst_ioas_id);
	F(kabi_ioas_copy, iommu_ioas_copy, src_ioas_id);
	F(kabi_ioas_copy, iommu_ioas_copy, length);
	F(kabi_ioas_copy, iommu_ioas_copy, dst_iova);
	F(kabi_ioas_copy, iommu_ioas_copy, src_iova);

	SIZE(kabi_ioas_unmap, iommu_ioas_unmap);
	F(kabi_ioas_unmap, iommu_ioas_unmap, size);
	F(kabi_ioas_unmap, iommu_ioas_unmap, ioas_id);
	F(kabi_ioas_unmap, iommu_ioas_unmap, iova);
	F(kabi_ioas_unmap, iommu_ioas_unmap, length);

	VAL(KABI_OPTION_RLIMIT_MODE, IOMMU_OPTION_RLIMIT_MODE);
	VAL(KABI_OPTION_HUGE_PAGES, IOMMU_OPTION_HUGE_PAGES);
	VAL(KABI_OPTION_OP_SET, IOMMU_OPTION_OP_SET);
	VAL(KABI_OPTION_OP_GET, IOMMU_OPTION_OP_GET);
	SIZE(kabi_option, iommu_option);
	F(kabi_option, iommu_option, size);
	F(kabi_option, iommu_option, option_id);
	F(kabi_option, iommu_option, op);
	FIELD(kabi_option, reserved, iommu_option, __reserved);
	F(kabi_option, iommu_option, object_id);
	F(kabi_option, iommu_option, val64);

	VAL(KABI_VFIO_IOAS_GET, IOMMU_VFIO_IOAS_GET);
	VAL(KABI_VFIO_IOAS_SET, IOMMU_VFIO_IOAS_SET);
	VAL(KABI_VFIO_IOAS_CLEAR, IOMMU_VFIO_IOAS_CLEAR);
	SIZE(kabi_vfio_ioas, iommu_vfio_ioas);
	F(kabi_vfio_ioas, iommu_vfio_ioas, size);
	F(kabi_vfio_ioas, iommu_vfio_ioas, ioas_id);
	F(kabi_vfio_ioas, iommu_vfio_ioas, op);
	FIELD(kabi_vfio_ioas, reserved, iommu_vfio_ioas, __reserved);

	VAL(KABI_HWPT_ALLOC_NEST_PARENT, IOMMU_HWPT_ALLOC_NEST_PARENT);
	VAL(KABI_HWPT_ALLOC_DIRTY_TRACKING, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	VAL(KABI_HWPT_FAULT_ID_VALID, IOMMU_HWPT_FAULT_ID_VALID);
	VAL(KABI_HWPT_ALLOC_PASID, IOMMU_HWPT_ALLOC_PASID);
	VAL(KABI_HWPT_DATA_NONE, IOMMU_HWPT_DATA_NONE);
	VAL(KABI_HWPT_DATA_VTD_S1, IOMMU_HWPT_DATA_VTD_S1);
	VAL(KABI_HWPT_DATA_ARM_SMMUV3, IOMMU_HWPT_DATA_ARM_SMMUV3);
	VAL(KABI_HWPT_DATA_AMD_GUEST, IOMMU_HWPT_DATA_AMD_GUEST);
	VAL(KABI_HWPT_DATA_SELFTEST, IOMMU_HWPT_DATA_SELFTEST);

	SIZE(kabi_hwpt_vtd_s1, iommu_hwpt_vtd_s1);
	F(kabi_hwpt_vtd_s1, iommu_hwpt_vtd_s1, flags);
	F(kabi_hwpt_vtd_s1, iommu_hwpt_vtd_s1, pgtbl_addr);
	F(kabi_hwpt_vtd_s1, iommu_hwpt_vtd_s1, addr_width);
	FIELD(kabi_hwpt_vtd_s1, reserved, iommu_hwpt_vtd_s1, __reserved);
	SIZE(kabi_hwpt_arm_smmuv3, iommu_hwpt_arm_smmuv3);
	F(kabi_hwpt_arm_smmuv3, iommu_hwpt_arm_smmuv3, ste);
	SIZE(kabi_hwpt_amd_guest, iommu_hwpt_amd_guest);
	F(kabi_hwpt_amd_guest, iommu_hwpt_amd_guest, dte);

	SIZE(kabi_hwpt_alloc, iommu_hwpt_alloc);
	F(kabi_hwpt_alloc, iommu_hwpt_alloc, size);
	F(kabi_hwpt_alloc, iommu_hwpt_alloc, flags);
	F(kabi_hwpt_alloc, iommu_hwpt_alloc, dev_id);
	F(kabi_hwpt_alloc, iommu_hwpt_alloc, pt_id);
	F(kabi_hwpt_alloc, iommu_hwpt_alloc, out_hwpt_id);
	FIELD(kabi_hwpt_alloc, reserved, iommu_hwpt_alloc, __reserved);
	F(kabi_hwpt_alloc, iommu_hwpt_alloc, data_type);
	F(kabi_hwpt_alloc, iommu_hwpt_alloc, data_len);
	F(kabi_hwpt_alloc, iommu_hwpt_alloc, data_uptr);
	F(kabi_hwpt_alloc, iommu_hwpt_alloc, fault_id);
	FIELD(kabi_hwpt_alloc, reserved2, iommu_hwpt_alloc, __reserved2);

	VAL(KABI_HW_INFO_TYPE_NONE, IOMMU_HW_INFO_TYPE_NONE);
	VAL(KABI_HW_INFO_TYPE_INTEL_VTD, IOMMU_HW_INFO_TYPE_INTEL_VTD);
	VAL(KABI_HW_INFO_TYPE_ARM_SMMUV3, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	VAL(KABI_HW_INFO_TYPE_TEGRA241_CMDQV, IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV);
	VAL(KABI_HW_INFO_TYPE_AMD, IOMMU_HW_INFO_TYPE_AMD);
	VAL(KABI_HW_INFO_TYPE_SELFTEST, IOMMU_HW_INFO_TYPE_SELFTEST);
	VAL(KABI_HW_INFO_FLAG_INPUT_TYPE, IOMMU_HW_INFO_FLAG_INPUT_TYPE);
	VAL(KABI_HW_CAP_DIRTY_TRACKING, IOMMU_HW_CAP_DIRTY_TRACKING);
	VAL(KABI_HW_CAP_PCI_PASID_EXEC, IOMMU_HW_CAP_PCI_PASID_EXEC);
	VAL(KABI_HW_CAP_PCI_PASID_PRIV, IOMMU_HW_CAP_PCI_PASID_PRIV);
	VAL(KABI_HW_CAP_PCI_ATS_NOT_SUPPORTED, IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);

	SIZE(kabi_hw_info_vtd, iommu_hw_info_vtd);
	F(kabi_hw_info_vtd, iommu_hw_info_vtd, flags);
	FIELD(kabi_hw_info_vtd, reserved, iommu_hw_info_vtd, __reserved);
	F(kabi_hw_info_vtd, iommu_hw_info_vtd, cap_reg);
	F(kabi_hw_info_vtd, iommu_hw_info_vtd, ecap_reg);
	SIZE(kabi_hw_info_arm_smmuv3, iommu_hw_info_arm_smmuv3);
	F(kabi_hw_info_arm_smmuv3, iommu_hw_info_arm_smmuv3, flags);
	FIELD(kabi_hw_info_arm_smmuv3, reserved, iommu_hw_info_arm_smmuv3, __reserved);
	F(kabi_hw_info_arm_smmuv3, iommu_hw_info_arm_smmuv3, idr);
	F(kabi_hw_info_arm_smmuv3, iommu_hw_info_arm_smmuv3, iidr);
	F(kabi_hw_info_arm_smmuv3, iommu_hw_info_arm_smmuv3, aidr);
	SIZE(kabi_hw_info_tegra241_cmdqv, iommu_hw_info_tegra241_cmdqv);
	F(kabi_hw_info_tegra241_cmdqv, iommu_hw_info_tegra241_cmdqv, flags);
	F(kabi_hw_info_tegra241_cmdqv, iommu_hw_info_tegra241_cmdqv, version);
	F(kabi_hw_info_tegra241_cmdqv, iommu_hw_info_tegra241_cmdqv, log2vcmdqs);
	F(kabi_hw_info_tegra241_cmdqv, iommu_hw_info_tegra241_cmdqv, log2vsids);
	FIELD(kabi_hw_info_tegra241_cmdqv, reserved, iommu_hw_info_tegra241_cmdqv, __reserved);
	SIZE(kabi_hw_info_amd, iommu_hw_info_amd);
	F(kabi_hw_info_amd, iommu_hw_info_amd, efr);
	F(kabi_hw_info_amd, iommu_hw_info_amd, efr2);
	SIZE(kabi_hw_info_selftest, iommu_test_hw_info);
	F(kabi_hw_info_selftest, iommu_test_hw_info, flags);
	F(kabi_hw_info_selftest, iommu_test_hw_info, test_reg);

	SIZE(kabi_hw_info, iommu_hw_info);
	F(kabi_hw_info, iommu_hw_info, size);
	F(kabi_hw_info, iommu_hw_info, flags);
	F(kabi_hw_info, iommu_hw_info, dev_id);
	F(kabi_hw_info, iommu_hw_info, data_len);
	F(kabi_hw_info, iommu_hw_info, data_uptr);
	FIELD(kabi_hw_info, data_type, iommu_hw_info, in_data_type);
	FIELD(kabi_hw_info, data_type, iommu_hw_info, out_data_type);
	F(kabi_hw_info, iommu_hw_info, out_max_pasid_log2);
	FIELD(kabi_hw_info, reserved, iommu_hw_info, __reserved);
	F(kabi_hw_info, iommu_hw_info, out_capabilities);

	VAL(KABI_HWPT_DIRTY_TRACKING_ENABLE, IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	SIZE(kabi_hwpt_set_dirty_tracking, iommu_hwpt_set_dirty_tracking);
	F(kabi_hwpt_set_dirty_tracking, iommu_hwpt_set_dirty_tracking, size);
	F(kabi_hwpt_set_dirty_tracking, iommu_hwpt_set_dirty_tracking, flags);
	F(kabi_hwpt_set_dirty_tracking, iommu_hwpt_set_dirty_tracking, hwpt_id);
	FIELD(kabi_hwpt_set_dirty_tracking, reserved, iommu_hwpt_set_dirty_tracking, __reserved);

	VAL(KABI_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
	SIZE(kabi_hwpt_get_dirty_bitmap, iommu_hwpt_get_dirty_bitmap);
	F(kabi_hwpt_get_dirty_bitmap, iommu_hwpt_get_dirty_bitmap, size);
	F(kabi_hwpt_get_dirty_bitmap, iommu_hwpt_get_dirty_bitmap, hwpt_id);
	F(kabi_hwpt_get_dirty_bitmap, iommu_hwpt_get_dirty_bitmap, flags);
	FIELD(kabi_hwpt_get_dirty_bitmap, reserved, iommu_hwpt_get_dirty_bitmap, __reserved);
	F(kabi_hwpt_get_dirty_bitmap, iommu_hwpt_get_dirty_bitmap, iova);
	F(kabi_hwpt_get_dirty_bitmap, iommu_hwpt_get_dirty_bitmap, length);
	F(kabi_hwpt_get_dirty_bitmap, iommu_hwpt_get_dirty_bitmap, page_size);
	F(kabi_hwpt_get_dirty_bitmap, iommu_hwpt_get_dirty_bitmap, data);

	VAL(KABI_HWPT_INVALIDATE_DATA_VTD_S1, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1);
	VAL(KABI_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3);
	VAL(KABI_HWPT_INVALIDATE_DATA_SELFTEST, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST);
	VAL(KABI_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID);
	VAL(KABI_VTD_INV_FLAGS_LEAF, IOMMU_VTD_INV_FLAGS_LEAF);
	SIZE(kabi_hwpt_vtd_s1_invalidate, iommu_hwpt_vtd_s1_invalidate);
	F(kabi_hwpt_vtd_s1_invalidate, iommu_hwpt_vtd_s1_invalidate, addr);
	F(kabi_hwpt_vtd_s1_invalidate, iommu_hwpt_vtd_s1_invalidate, npages);
	F(kabi_hwpt_vtd_s1_invalidate, iommu_hwpt_vtd_s1_invalidate, flags);
	FIELD(kabi_hwpt_vtd_s1_invalidate, reserved, iommu_hwpt_vtd_s1_invalidate, __reserved);
	SIZE(kabi_viommu_arm_smmuv3_invalidate, iommu_viommu_arm_smmuv3_invalidate);
	F(kabi_viommu_arm_smmuv3_invalidate, iommu_viommu_arm_smmuv3_invalidate, cmd);

	SIZE(kabi_hwpt_invalidate, iommu_hwpt_invalidate);
	F(kabi_hwpt_invalidate, iommu_hwpt_invalidate, size);
	F(kabi_hwpt_invalidate, iommu_hwpt_invalidate, hwpt_id);
	F(kabi_hwpt_invalidate, iommu_hwpt_invalidate, data_uptr);
	F(kabi_hwpt_invalidate, iommu_hwpt_invalidate, data_type);
	F(kabi_hwpt_invalidate, iommu_hwpt_invalidate, entry_len);
	F(kabi_hwpt_invalidate, iommu_hwpt_invalidate, entry_num);
	FIELD(kabi_hwpt_invalidate, reserved, iommu_hwpt_invalidate, __reserved);

	VAL(KABI_PGFAULT_FLAGS_PASID_VALID, IOMMU_PGFAULT_FLAGS_PASID_VALID);
	VAL(KABI_PGFAULT_FLAGS_LAST_PAGE, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	VAL(KABI_PGFAULT_PERM_READ, IOMMU_PGFAULT_PERM_READ);
	VAL(KABI_PGFAULT_PERM_WRITE, IOMMU_PGFAULT_PERM_WRITE);
	VAL(KABI_PGFAULT_PERM_EXEC, IOMMU_PGFAULT_PERM_EXEC);
	VAL(KABI_PGFAULT_PERM_PRIV, IOMMU_PGFAULT_PERM_PRIV);
	VAL(KABI_PAGE_RESP_SUCCESS, IOMMUFD_PAGE_RESP_SUCCESS);
	VAL(KABI_PAGE_RESP_INVALID, IOMMUFD_PAGE_RESP_INVALID);
	SIZE(kabi_hwpt_pgfault, iommu_hwpt_pgfault);
	F(kabi_hwpt_pgfault, iommu_hwpt_pgfault, flags);
	F(kabi_hwpt_pgfault, iommu_hwpt_pgfault, dev_id);
	F(kabi_hwpt_pgfault, iommu_hwpt_pgfault, pasid);
	F(kabi_hwpt_pgfault, iommu_hwpt_pgfault, grpid);
	F(kabi_hwpt_pgfault, iommu_hwpt_pgfault, perm);
	FIELD(kabi_hwpt_pgfault, reserved, iommu_hwpt_pgfault, __reserved);
	F(kabi_hwpt_pgfault, iommu_hwpt_pgfault, addr);
	F(kabi_hwpt_pgfault, iommu_hwpt_pgfault, length);
	F(kabi_hwpt_pgfault, iommu_hwpt_pgfault, cookie);
	SIZE(kabi_hwpt_page_response, iommu_hwpt_page_response);
	F(kabi_hwpt_page_response, iommu_hwpt_page_response, cookie);
	F(kabi_hwpt_page_response, iommu_hwpt_page_response, code);
	SIZE(kabi_fault_alloc, iommu_fault_alloc);
	F(kabi_fault_alloc, iommu_fault_alloc, size);
	F(kabi_fault_alloc, iommu_fault_alloc, flags);
	F(kabi_fault_alloc, iommu_fault_alloc, out_fault_id);
	F(kabi_fault_alloc, iommu_fault_alloc, out_fault_fd);

	VAL(KABI_VIOMMU_TYPE_DEFAULT, IOMMU_VIOMMU_TYPE_DEFAULT);
	VAL(KABI_VIOMMU_TYPE_ARM_SMMUV3, IOMMU_VIOMMU_TYPE_ARM_SMMUV3);
	VAL(KABI_VIOMMU_TYPE_TEGRA241_CMDQV, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV);
	VAL(KABI_VIOMMU_TYPE_SELFTEST, IOMMU_VIOMMU_TYPE_SELFTEST);
	SIZE(kabi_viommu_tegra241_cmdqv, iommu_viommu_tegra241_cmdqv);
	F(kabi_viommu_tegra241_cmdqv, iommu_viommu_tegra241_cmdqv, out_vintf_mmap_offset);
	F(kabi_viommu_tegra241_cmdqv, iommu_viommu_tegra241_cmdqv, out_vintf_mmap_length);
	SIZE(kabi_viommu_alloc, iommu_viommu_alloc);
	F(kabi_viommu_alloc, iommu_viommu_alloc, size);
	F(kabi_viommu_alloc, iommu_viommu_alloc, flags);
	F(kabi_viommu_alloc, iommu_viommu_alloc, type);
	F(kabi_viommu_alloc, iommu_viommu_alloc, dev_id);
	F(kabi_viommu_alloc, iommu_viommu_alloc, hwpt_id);
	F(kabi_viommu_alloc, iommu_viommu_alloc, out_viommu_id);
	F(kabi_viommu_alloc, iommu_viommu_alloc, data_len);
	FIELD(kabi_viommu_alloc, reserved, iommu_viommu_alloc, __reserved);
	F(kabi_viommu_alloc, iommu_viommu_alloc, data_uptr);

	SIZE(kabi_vdevice_alloc, iommu_vdevice_alloc);
	F(kabi_vdevice_alloc, iommu_vdevice_alloc, size);
	F(kabi_vdevice_alloc, iommu_vdevice_alloc, viommu_id);
	F(kabi_vdevice_alloc, iommu_vdevice_alloc, dev_id);
	F(kabi_vdevice_alloc, iommu_vdevice_alloc, out_vdevice_id);
	F(kabi_vdevice_alloc, iommu_vdevice_alloc, virt_id);

	SIZE(kabi_ioas_change_process, iommu_ioas_change_process);
	F(kabi_ioas_change_process, iommu_ioas_change_process, size);
	FIELD(kabi_ioas_change_process, reserved, iommu_ioas_change_process, __reserved);

	VAL(KABI_VEVENTQ_FLAG_LOST_EVENTS, IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
	VAL(KABI_VEVENTQ_TYPE_DEFAULT, IOMMU_VEVENTQ_TYPE_DEFAULT);
	VAL(KABI_VEVENTQ_TYPE_ARM_SMMUV3, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3);
	VAL(KABI_VEVENTQ_TYPE_TEGRA241_CMDQV, IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV);
	VAL(KABI_VEVENTQ_TYPE_SELFTEST, IOMMU_VEVENTQ_TYPE_SELFTEST);
	SIZE(kabi_vevent_header, iommufd_vevent_header);
	F(kabi_vevent_header, iommufd_vevent_header, flags);
	F(kabi_vevent_header, iommufd_vevent_header, sequence);
	SIZE(kabi_vevent_arm_smmuv3, iommu_vevent_arm_smmuv3);
	F(kabi_vevent_arm_smmuv3, iommu_vevent_arm_smmuv3, evt);
	SIZE(kabi_vevent_tegra241_cmdqv, iommu_vevent_tegra241_cmdqv);
	F(kabi_vevent_tegra241_cmdqv, iommu_vevent_tegra241_cmdqv, lvcmdq_err_map);
	SIZE(kabi_veventq_alloc, iommu_veventq_alloc);
	F(kabi_veventq_alloc, iommu_veventq_alloc, size);
	F(kabi_veventq_alloc, iommu_veventq_alloc, flags);
	F(kabi_veventq_alloc, iommu_veventq_alloc, viommu_id);
	F(kabi_veventq_alloc, iommu_veventq_alloc, type);
	F(kabi_veventq_alloc, iommu_veventq_alloc, veventq_depth);
	F(kabi_veventq_alloc, iommu_veventq_alloc, out_veventq_id);
	F(kabi_veventq_alloc, iommu_veventq_alloc, out_veventq_fd);
	FIELD(kabi_veventq_alloc, reserved, iommu_veventq_alloc, __reserved);

	VAL(KABI_HW_QUEUE_TYPE_DEFAULT, IOMMU_HW_QUEUE_TYPE_DEFAULT);
	VAL(KABI_HW_QUEUE_TYPE_TEGRA241_CMDQV, IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV);
	VAL(KABI_HW_QUEUE_TYPE_SELFTEST, IOMMU_HW_QUEUE_TYPE_SELFTEST);
	SIZE(kabi_hw_queue_alloc, iommu_hw_queue_alloc);
	F(kabi_hw_queue_alloc, iommu_hw_queue_alloc, size);
	F(kabi_hw_queue_alloc, iommu_hw_queue_alloc, flags);
	F(kabi_hw_queue_alloc, iommu_hw_queue_alloc, viommu_id);
	F(kabi_hw_queue_alloc, iommu_hw_queue_alloc, type);
	F(kabi_hw_queue_alloc, iommu_hw_queue_alloc, index);
	F(kabi_hw_queue_alloc, iommu_hw_queue_alloc, out_hw_queue_id);
	F(kabi_hw_queue_alloc, iommu_hw_queue_alloc, nesting_parent_iova);
	F(kabi_hw_queue_alloc, iommu_hw_queue_alloc, length);
}

static void check_vfio(void)
{
	VAL(KABI_VFIO_BASE, VFIO_BASE);
	VAL(KABI_IOC_TYPE, VFIO_TYPE);
	VAL(KABI_VFIO_API_VERSION, VFIO_API_VERSION);
	VAL(KABI_VFIO_TYPE1_IOMMU, VFIO_TYPE1_IOMMU);
	VAL(KABI_VFIO_TYPE1v2_IOMMU, VFIO_TYPE1v2_IOMMU);
	VAL(KABI_VFIO_UNMAP_ALL, VFIO_UNMAP_ALL);
	VAL(KABI_VFIO_GET_API_VERSION, VFIO_GET_API_VERSION);
	VAL(KABI_VFIO_CHECK_EXTENSION, VFIO_CHECK_EXTENSION);
	VAL(KABI_VFIO_SET_IOMMU, VFIO_SET_IOMMU);
	VAL(KABI_VFIO_GROUP_GET_STATUS, VFIO_GROUP_GET_STATUS);
	VAL(KABI_VFIO_GROUP_SET_CONTAINER, VFIO_GROUP_SET_CONTAINER);
	VAL(KABI_VFIO_GROUP_UNSET_CONTAINER, VFIO_GROUP_UNSET_CONTAINER);
	VAL(KABI_VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_GET_DEVICE_FD);
	VAL(KABI_VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_INFO);
	VAL(KABI_VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_GET_REGION_INFO);
	VAL(KABI_VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_GET_IRQ_INFO);
	VAL(KABI_VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_SET_IRQS);
	VAL(KABI_VFIO_DEVICE_RESET, VFIO_DEVICE_RESET);
	VAL(KABI_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO);
	VAL(KABI_VFIO_DEVICE_PCI_HOT_RESET, VFIO_DEVICE_PCI_HOT_RESET);
	VAL(KABI_VFIO_IOMMU_GET_INFO, VFIO_IOMMU_GET_INFO);
	VAL(KABI_VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_MAP_DMA);
	VAL(KABI_VFIO_IOMMU_UNMAP_DMA, VFIO_IOMMU_UNMAP_DMA);
	VAL(KABI_VFIO_DEVICE_FEATURE, VFIO_DEVICE_FEATURE);
	VAL(KABI_VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_BIND_IOMMUFD);
	VAL(KABI_VFIO_DEVICE_ATTACH_IOMMUFD_PT, VFIO_DEVICE_ATTACH_IOMMUFD_PT);
	VAL(KABI_VFIO_DEVICE_DETACH_IOMMUFD_PT, VFIO_DEVICE_DETACH_IOMMUFD_PT);

	VAL(KABI_VFIO_GROUP_FLAGS_VIABLE, VFIO_GROUP_FLAGS_VIABLE);
	VAL(KABI_VFIO_GROUP_FLAGS_CONTAINER_SET, VFIO_GROUP_FLAGS_CONTAINER_SET);
	SIZE(kabi_vfio_group_status, vfio_group_status);
	F(kabi_vfio_group_status, vfio_group_status, argsz);
	F(kabi_vfio_group_status, vfio_group_status, flags);

	VAL(KABI_VFIO_DEVICE_FLAGS_RESET, VFIO_DEVICE_FLAGS_RESET);
	VAL(KABI_VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_FLAGS_PCI);
	VAL(KABI_VFIO_DEVICE_FLAGS_CAPS, VFIO_DEVICE_FLAGS_CAPS);
	SIZE(kabi_vfio_device_info, vfio_device_info);
	F(kabi_vfio_device_info, vfio_device_info, argsz);
	F(kabi_vfio_device_info, vfio_device_info, flags);
	F(kabi_vfio_device_info, vfio_device_info, num_regions);
	F(kabi_vfio_device_info, vfio_device_info, num_irqs);
	F(kabi_vfio_device_info, vfio_device_info, cap_offset);
	F(kabi_vfio_device_info, vfio_device_info, pad);

	VAL(KABI_VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_READ);
	VAL(KABI_VFIO_REGION_INFO_FLAG_WRITE, VFIO_REGION_INFO_FLAG_WRITE);
	VAL(KABI_VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_MMAP);
	VAL(KABI_VFIO_REGION_INFO_FLAG_CAPS, VFIO_REGION_INFO_FLAG_CAPS);
	SIZE(kabi_vfio_region_info, vfio_region_info);
	F(kabi_vfio_region_info, vfio_region_info, argsz);
	F(kabi_vfio_region_info, vfio_region_info, flags);
	F(kabi_vfio_region_info, vfio_region_info, index);
	F(kabi_vfio_region_info, vfio_region_info, cap_offset);
	F(kabi_vfio_region_info, vfio_region_info, size);
	F(kabi_vfio_region_info, vfio_region_info, offset);
	SIZE(kabi_vfio_info_cap_header, vfio_info_cap_header);
	F(kabi_vfio_info_cap_header, vfio_info_cap_header, id);
	F(kabi_vfio_info_cap_header, vfio_info_cap_header, version);
	F(kabi_vfio_info_cap_header, vfio_info_cap_header, next);
	VAL(KABI_VFIO_REGION_INFO_CAP_SPARSE_MMAP, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	VAL(KABI_VFIO_REGION_INFO_CAP_TYPE, VFIO_REGION_INFO_CAP_TYPE);
	VAL(KABI_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
	SIZE(kabi_vfio_region_sparse_mmap_area, vfio_region_sparse_mmap_area);
	F(kabi_vfio_region_sparse_mmap_area, vfio_region_sparse_mmap_area, offset);
	F(kabi_vfio_region_sparse_mmap_area, vfio_region_sparse_mmap_area, size);
	SIZE(kabi_vfio_region_info_cap_sparse_mmap, vfio_region_info_cap_sparse_mmap);
	F(kabi_vfio_region_info_cap_sparse_mmap, vfio_region_info_cap_sparse_mmap, header);
	F(kabi_vfio_region_info_cap_sparse_mmap, vfio_region_info_cap_sparse_mmap, nr_areas);
	EQ("offsetof(kabi_vfio_region_info_cap_sparse_mmap, areas)",
	   offsetof(struct kabi_vfio_region_info_cap_sparse_mmap, areas),
	   offsetof(struct vfio_region_info_cap_sparse_mmap, areas));
	SIZE(kabi_vfio_region_info_cap_type, vfio_region_info_cap_type);
	F(kabi_vfio_region_info_cap_type, vfio_region_info_cap_type, header);
	F(kabi_vfio_region_info_cap_type, vfio_region_info_cap_type, type);
	F(kabi_vfio_region_info_cap_type, vfio_region_info_cap_type, subtype);

	VAL(KABI_VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_EVENTFD);
	VAL(KABI_VFIO_IRQ_INFO_MASKABLE, VFIO_IRQ_INFO_MASKABLE);
	VAL(KABI_VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_AUTOMASKED);
	VAL(KABI_VFIO_IRQ_INFO_NORESIZE, VFIO_IRQ_INFO_NORESIZE);
	SIZE(kabi_vfio_irq_info, vfio_irq_info);
	F(kabi_vfio_irq_info, vfio_irq_info, argsz);
	F(kabi_vfio_irq_info, vfio_irq_info, flags);
	F(kabi_vfio_irq_info, vfio_irq_info, index);
	F(kabi_vfio_irq_info, vfio_irq_info, count);

	VAL(KABI_VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_NONE);
	VAL(KABI_VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_BOOL);
	VAL(KABI_VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_EVENTFD);
	VAL(KABI_VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_MASK);
	VAL(KABI_VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_ACTION_UNMASK);
	VAL(KABI_VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_TRIGGER);
	SIZE(kabi_vfio_irq_set, vfio_irq_set);
	F(kabi_vfio_irq_set, vfio_irq_set, argsz);
	F(kabi_vfio_irq_set, vfio_irq_set, flags);
	F(kabi_vfio_irq_set, vfio_irq_set, index);
	F(kabi_vfio_irq_set, vfio_irq_set, start);
	F(kabi_vfio_irq_set, vfio_irq_set, count);
	EQ("offsetof(kabi_vfio_irq_set, data)", offsetof(struct kabi_vfio_irq_set, data),
	   offsetof(struct vfio_irq_set, data));

	VAL(KABI_VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_BAR0_REGION_INDEX);
	VAL(KABI_VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_ROM_REGION_INDEX);
	VAL(KABI_VFIO_PCI_CONFIG_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX);
	VAL(KABI_VFIO_PCI_VGA_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX);
	VAL(KABI_VFIO_PCI_NUM_REGIONS, VFIO_PCI_NUM_REGIONS);
	VAL(KABI_VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_INTX_IRQ_INDEX);
	VAL(KABI_VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX);
	VAL(KABI_VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX);
	VAL(KABI_VFIO_PCI_ERR_IRQ_INDEX, VFIO_PCI_ERR_IRQ_INDEX);
	VAL(KABI_VFIO_PCI_REQ_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX);
	VAL(KABI_VFIO_PCI_NUM_IRQS, VFIO_PCI_NUM_IRQS);

	VAL(KABI_VFIO_DEVICE_BIND_FLAG_TOKEN, VFIO_DEVICE_BIND_FLAG_TOKEN);
	SIZE(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd);
	F(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd, argsz);
	F(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd, flags);
	F(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd, iommufd);
	F(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd, out_devid);
	F(kabi_vfio_device_bind_iommufd, vfio_device_bind_iommufd, token_uuid_ptr);

	VAL(KABI_VFIO_DEVICE_ATTACH_PASID, VFIO_DEVICE_ATTACH_PASID);
	SIZE(kabi_vfio_device_attach_iommufd_pt, vfio_device_attach_iommufd_pt);
	F(kabi_vfio_device_attach_iommufd_pt, vfio_device_attach_iommufd_pt, argsz);
	F(kabi_vfio_device_attach_iommufd_pt, vfio_device_attach_iommufd_pt, flags);
	F(kabi_vfio_device_attach_iommufd_pt, vfio_device_attach_iommufd_pt, pt_id);
	F(kabi_vfio_device_attach_iommufd_pt, vfio_device_attach_iommufd_pt, pasid);

	VAL(KABI_VFIO_DEVICE_DETACH_PASID, VFIO_DEVICE_DETACH_PASID);
	SIZE(kabi_vfio_device_detach_iommufd_pt, vfio_device_detach_iommufd_pt);
	F(kabi_vfio_device_detach_iommufd_pt, vfio_device_detach_iommufd_pt, argsz);
	F(kabi_vfio_device_detach_iommufd_pt, vfio_device_detach_iommufd_pt, flags);
	F(kabi_vfio_device_detach_iommufd_pt, vfio_device_detach_iommufd_pt, pasid);

	VAL(KABI_VFIO_DEVICE_FEATURE_MASK, VFIO_DEVICE_FEATURE_MASK);
	VAL(KABI_VFIO_DEVICE_FEATURE_GET, VFIO_DEVICE_FEATURE_GET);
	VAL(KABI_VFIO_DEVICE_FEATURE_SET, VFIO_DEVICE_FEATURE_SET);
	VAL(KABI_VFIO_DEVICE_FEATURE_PROBE, VFIO_DEVICE_FEATURE_PROBE);
	VAL(KABI_VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, VFIO_DEVICE_FEATURE_PCI_VF_TOKEN);
	VAL(KABI_VFIO_DEVICE_FEATURE_MIGRATION, VFIO_DEVICE_FEATURE_MIGRATION);
	VAL(KABI_VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE);
	VAL(KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY);
	VAL(KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
	    VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP);
	VAL(KABI_VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT);
	VAL(KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_START, VFIO_DEVICE_FEATURE_DMA_LOGGING_START);
	VAL(KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP, VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP);
	VAL(KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT, VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT);
	VAL(KABI_VFIO_DEVICE_FEATURE_MIG_DATA_SIZE, VFIO_DEVICE_FEATURE_MIG_DATA_SIZE);
	VAL(KABI_VFIO_DEVICE_FEATURE_BUS_MASTER, VFIO_DEVICE_FEATURE_BUS_MASTER);
	VAL(KABI_VFIO_DEVICE_FEATURE_DMA_BUF, VFIO_DEVICE_FEATURE_DMA_BUF);
	VAL(KABI_VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2, VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2);
	SIZE(kabi_vfio_device_feature, vfio_device_feature);
	F(kabi_vfio_device_feature, vfio_device_feature, argsz);
	F(kabi_vfio_device_feature, vfio_device_feature, flags);
	SIZE(kabi_vfio_device_feature_migration, vfio_device_feature_migration);
	F(kabi_vfio_device_feature_migration, vfio_device_feature_migration, flags);
	VAL(KABI_VFIO_MIGRATION_STOP_COPY, VFIO_MIGRATION_STOP_COPY);
	VAL(KABI_VFIO_MIGRATION_P2P, VFIO_MIGRATION_P2P);
	VAL(KABI_VFIO_MIGRATION_PRE_COPY, VFIO_MIGRATION_PRE_COPY);
	SIZE(kabi_vfio_device_feature_mig_state, vfio_device_feature_mig_state);
	F(kabi_vfio_device_feature_mig_state, vfio_device_feature_mig_state, device_state);
	F(kabi_vfio_device_feature_mig_state, vfio_device_feature_mig_state, data_fd);
	SIZE(kabi_vfio_device_feature_mig_data_size, vfio_device_feature_mig_data_size);
	F(kabi_vfio_device_feature_mig_data_size, vfio_device_feature_mig_data_size, stop_copy_length);
	VAL(KABI_VFIO_MIG_GET_PRECOPY_INFO, VFIO_MIG_GET_PRECOPY_INFO);
	SIZE(kabi_vfio_precopy_info, vfio_precopy_info);
	F(kabi_vfio_precopy_info, vfio_precopy_info, argsz);
	F(kabi_vfio_precopy_info, vfio_precopy_info, flags);
	F(kabi_vfio_precopy_info, vfio_precopy_info, initial_bytes);
	F(kabi_vfio_precopy_info, vfio_precopy_info, dirty_bytes);
	VAL(KABI_VFIO_PRECOPY_INFO_REINIT, VFIO_PRECOPY_INFO_REINIT);
	VAL(KABI_VFIO_DEVICE_STATE_NR, VFIO_DEVICE_STATE_NR);
	SIZE(kabi_vfio_device_feature_dma_logging_control, vfio_device_feature_dma_logging_control);
	F(kabi_vfio_device_feature_dma_logging_control, vfio_device_feature_dma_logging_control,
	  page_size);
	F(kabi_vfio_device_feature_dma_logging_control, vfio_device_feature_dma_logging_control,
	  num_ranges);
	FIELD(kabi_vfio_device_feature_dma_logging_control, reserved,
	      vfio_device_feature_dma_logging_control, __reserved);
	F(kabi_vfio_device_feature_dma_logging_control, vfio_device_feature_dma_logging_control,
	  ranges);
	SIZE(kabi_vfio_device_feature_dma_logging_range, vfio_device_feature_dma_logging_range);
	F(kabi_vfio_device_feature_dma_logging_range, vfio_device_feature_dma_logging_range, iova);
	F(kabi_vfio_device_feature_dma_logging_range, vfio_device_feature_dma_logging_range, length);
	SIZE(kabi_vfio_device_feature_dma_logging_report, vfio_device_feature_dma_logging_report);
	F(kabi_vfio_device_feature_dma_logging_report, vfio_device_feature_dma_logging_report, iova);
	F(kabi_vfio_device_feature_dma_logging_report, vfio_device_feature_dma_logging_report, length);
	F(kabi_vfio_device_feature_dma_logging_report, vfio_device_feature_dma_logging_report,
	  page_size);
	F(kabi_vfio_device_feature_dma_logging_report, vfio_device_feature_dma_logging_report, bitmap);
	SIZE(kabi_vfio_device_low_power_entry_with_wakeup, vfio_device_low_power_entry_with_wakeup);
	F(kabi_vfio_device_low_power_entry_with_wakeup, vfio_device_low_power_entry_with_wakeup,
	  wakeup_eventfd);
	F(kabi_vfio_device_low_power_entry_with_wakeup, vfio_device_low_power_entry_with_wakeup,
	  reserved);
	SIZE(kabi_vfio_device_feature_bus_master, vfio_device_feature_bus_master);
	F(kabi_vfio_device_feature_bus_master, vfio_device_feature_bus_master, op);
	VAL(KABI_VFIO_DEVICE_FEATURE_CLEAR_MASTER, VFIO_DEVICE_FEATURE_CLEAR_MASTER);
	VAL(KABI_VFIO_DEVICE_FEATURE_SET_MASTER, VFIO_DEVICE_FEATURE_SET_MASTER);
	SIZE(kabi_vfio_region_dma_range, vfio_region_dma_range);
	F(kabi_vfio_region_dma_range, vfio_region_dma_range, offset);
	F(kabi_vfio_region_dma_range, vfio_region_dma_range, length);
	SIZE(kabi_vfio_device_feature_dma_buf, vfio_device_feature_dma_buf);
	F(kabi_vfio_device_feature_dma_buf, vfio_device_feature_dma_buf, region_index);
	F(kabi_vfio_device_feature_dma_buf, vfio_device_feature_dma_buf, open_flags);
	F(kabi_vfio_device_feature_dma_buf, vfio_device_feature_dma_buf, flags);
	F(kabi_vfio_device_feature_dma_buf, vfio_device_feature_dma_buf, nr_ranges);
	EQ("offsetof(kabi_vfio_device_feature_dma_buf, dma_ranges)",
	   offsetof(struct kabi_vfio_device_feature_dma_buf, dma_ranges),
	   offsetof(struct vfio_device_feature_dma_buf, dma_ranges));

	SIZE(kabi_vfio_pci_dependent_device, vfio_pci_dependent_device);
	F(kabi_vfio_pci_dependent_device, vfio_pci_dependent_device, devid);
	F(kabi_vfio_pci_dependent_device, vfio_pci_dependent_device, segment);
	F(kabi_vfio_pci_dependent_device, vfio_pci_dependent_device, bus);
	F(kabi_vfio_pci_dependent_device, vfio_pci_dependent_device, devfn);
	VAL(KABI_VFIO_PCI_DEVID_OWNED, VFIO_PCI_DEVID_OWNED);
	VAL(KABI_VFIO_PCI_DEVID_NOT_OWNED, VFIO_PCI_DEVID_NOT_OWNED);
	VAL(KABI_VFIO_PCI_HOT_RESET_FLAG_DEV_ID, VFIO_PCI_HOT_RESET_FLAG_DEV_ID);
	VAL(KABI_VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED, VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED);
	SIZE(kabi_vfio_pci_hot_reset_info, vfio_pci_hot_reset_info);
	F(kabi_vfio_pci_hot_reset_info, vfio_pci_hot_reset_info, argsz);
	F(kabi_vfio_pci_hot_reset_info, vfio_pci_hot_reset_info, flags);
	F(kabi_vfio_pci_hot_reset_info, vfio_pci_hot_reset_info, count);
	SIZE(kabi_vfio_pci_hot_reset, vfio_pci_hot_reset);
	F(kabi_vfio_pci_hot_reset, vfio_pci_hot_reset, argsz);
	F(kabi_vfio_pci_hot_reset, vfio_pci_hot_reset, flags);
	F(kabi_vfio_pci_hot_reset, vfio_pci_hot_reset, count);

	SIZE(kabi_vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_map);
	F(kabi_vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_map, argsz);
	F(kabi_vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_map, flags);
	F(kabi_vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_map, vaddr);
	F(kabi_vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_map, iova);
	F(kabi_vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_map, size);
	SIZE(kabi_vfio_iommu_type1_dma_unmap, vfio_iommu_type1_dma_unmap);
	F(kabi_vfio_iommu_type1_dma_unmap, vfio_iommu_type1_dma_unmap, argsz);
	F(kabi_vfio_iommu_type1_dma_unmap, vfio_iommu_type1_dma_unmap, flags);
	F(kabi_vfio_iommu_type1_dma_unmap, vfio_iommu_type1_dma_unmap, iova);
	F(kabi_vfio_iommu_type1_dma_unmap, vfio_iommu_type1_dma_unmap, size);

	VAL(KABI_VFIO_DMA_CC_IOMMU, VFIO_DMA_CC_IOMMU);
	VAL(KABI_VFIO_NOIOMMU_IOMMU, VFIO_NOIOMMU_IOMMU);
	VAL(KABI_VFIO_UNMAP_ALL, VFIO_UNMAP_ALL);
	VAL(KABI_VFIO_IOMMU_DIRTY_PAGES, VFIO_IOMMU_DIRTY_PAGES);
	VAL(KABI_VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_READ);
	VAL(KABI_VFIO_DMA_MAP_FLAG_WRITE, VFIO_DMA_MAP_FLAG_WRITE);
	VAL(KABI_VFIO_DMA_MAP_FLAG_VADDR, VFIO_DMA_MAP_FLAG_VADDR);
	VAL(KABI_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP);
	VAL(KABI_VFIO_DMA_UNMAP_FLAG_ALL, VFIO_DMA_UNMAP_FLAG_ALL);
	VAL(KABI_VFIO_DMA_UNMAP_FLAG_VADDR, VFIO_DMA_UNMAP_FLAG_VADDR);
	VAL(KABI_VFIO_IOMMU_INFO_PGSIZES, VFIO_IOMMU_INFO_PGSIZES);
	VAL(KABI_VFIO_IOMMU_INFO_CAPS, VFIO_IOMMU_INFO_CAPS);
	VAL(KABI_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	VAL(KABI_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
	VAL(KABI_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	VAL(KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_START, VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
	VAL(KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP);
	VAL(KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP, VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP);
	SIZE(kabi_vfio_iommu_type1_info, vfio_iommu_type1_info);
	F(kabi_vfio_iommu_type1_info, vfio_iommu_type1_info, argsz);
	F(kabi_vfio_iommu_type1_info, vfio_iommu_type1_info, flags);
	F(kabi_vfio_iommu_type1_info, vfio_iommu_type1_info, iova_pgsizes);
	F(kabi_vfio_iommu_type1_info, vfio_iommu_type1_info, cap_offset);
	SIZE(kabi_vfio_iova_range, vfio_iova_range);
	F(kabi_vfio_iova_range, vfio_iova_range, start);
	F(kabi_vfio_iova_range, vfio_iova_range, end);
	SIZE(kabi_vfio_iommu_type1_info_cap_iova_range, vfio_iommu_type1_info_cap_iova_range);
	F(kabi_vfio_iommu_type1_info_cap_iova_range, vfio_iommu_type1_info_cap_iova_range, nr_iovas);
	EQ("offsetof(kabi_vfio_iommu_type1_info_cap_iova_range.iova_ranges)",
	   offsetof(struct kabi_vfio_iommu_type1_info_cap_iova_range, iova_ranges),
	   offsetof(struct vfio_iommu_type1_info_cap_iova_range, iova_ranges));
	SIZE(kabi_vfio_iommu_type1_info_cap_migration, vfio_iommu_type1_info_cap_migration);
	F(kabi_vfio_iommu_type1_info_cap_migration, vfio_iommu_type1_info_cap_migration, flags);
	F(kabi_vfio_iommu_type1_info_cap_migration, vfio_iommu_type1_info_cap_migration, pgsize_bitmap);
	F(kabi_vfio_iommu_type1_info_cap_migration, vfio_iommu_type1_info_cap_migration, max_dirty_bitmap_size);
	SIZE(kabi_vfio_iommu_type1_info_dma_avail, vfio_iommu_type1_info_dma_avail);
	F(kabi_vfio_iommu_type1_info_dma_avail, vfio_iommu_type1_info_dma_avail, avail);
	SIZE(kabi_vfio_bitmap, vfio_bitmap);
	F(kabi_vfio_bitmap, vfio_bitmap, pgsize);
	F(kabi_vfio_bitmap, vfio_bitmap, size);
	F(kabi_vfio_bitmap, vfio_bitmap, data);
	SIZE(kabi_vfio_iommu_type1_dirty_bitmap, vfio_iommu_type1_dirty_bitmap);
	F(kabi_vfio_iommu_type1_dirty_bitmap, vfio_iommu_type1_dirty_bitmap, flags);
	SIZE(kabi_vfio_iommu_type1_dirty_bitmap_get, vfio_iommu_type1_dirty_bitmap_get);
	F(kabi_vfio_iommu_type1_dirty_bitmap_get, vfio_iommu_type1_dirty_bitmap_get, iova);
	F(kabi_vfio_iommu_type1_dirty_bitmap_get, vfio_iommu_type1_dirty_bitmap_get, size);
	F(kabi_vfio_iommu_type1_dirty_bitmap_get, vfio_iommu_type1_dirty_bitmap_get, bitmap);
}

static void check_selftest(void)
{
	VAL(KABI_IOMMU_TEST_CMD, IOMMU_TEST_CMD);
	VAL(KABI_TEST_OP_ADD_RESERVED, IOMMU_TEST_OP_ADD_RESERVED);
	VAL(KABI_TEST_OP_MOCK_DOMAIN, IOMMU_TEST_OP_MOCK_DOMAIN);
	VAL(KABI_TEST_OP_MD_CHECK_MAP, IOMMU_TEST_OP_MD_CHECK_MAP);
	VAL(KABI_TEST_OP_MD_CHECK_REFS, IOMMU_TEST_OP_MD_CHECK_REFS);
	VAL(KABI_TEST_OP_CREATE_ACCESS, IOMMU_TEST_OP_CREATE_ACCESS);
	VAL(KABI_TEST_OP_DESTROY_ACCESS_PAGES, IOMMU_TEST_OP_DESTROY_ACCESS_PAGES);
	VAL(KABI_TEST_OP_ACCESS_PAGES, IOMMU_TEST_OP_ACCESS_PAGES);
	VAL(KABI_TEST_OP_ACCESS_RW, IOMMU_TEST_OP_ACCESS_RW);
	VAL(KABI_TEST_OP_SET_TEMP_MEMORY_LIMIT, IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT);
	VAL(KABI_TEST_OP_MOCK_DOMAIN_REPLACE, IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE);
	VAL(KABI_TEST_OP_ACCESS_REPLACE_IOAS, IOMMU_TEST_OP_ACCESS_REPLACE_IOAS);
	VAL(KABI_TEST_OP_MOCK_DOMAIN_FLAGS, IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS);
	VAL(KABI_TEST_OP_DIRTY, IOMMU_TEST_OP_DIRTY);
	VAL(KABI_TEST_OP_MD_CHECK_IOTLB, IOMMU_TEST_OP_MD_CHECK_IOTLB);
	VAL(KABI_TEST_OP_TRIGGER_IOPF, IOMMU_TEST_OP_TRIGGER_IOPF);
	VAL(KABI_TEST_OP_DEV_CHECK_CACHE, IOMMU_TEST_OP_DEV_CHECK_CACHE);
	VAL(KABI_TEST_OP_TRIGGER_VEVENT, IOMMU_TEST_OP_TRIGGER_VEVENT);
	VAL(KABI_TEST_OP_PASID_ATTACH, IOMMU_TEST_OP_PASID_ATTACH);
	VAL(KABI_TEST_OP_PASID_REPLACE, IOMMU_TEST_OP_PASID_REPLACE);
	VAL(KABI_TEST_OP_PASID_DETACH, IOMMU_TEST_OP_PASID_DETACH);
	VAL(KABI_TEST_OP_PASID_CHECK_HWPT, IOMMU_TEST_OP_PASID_CHECK_HWPT);
	VAL(KABI_TEST_OP_DMABUF_GET, IOMMU_TEST_OP_DMABUF_GET);
	VAL(KABI_TEST_OP_DMABUF_REVOKE, IOMMU_TEST_OP_DMABUF_REVOKE);
	VAL(KABI_MOCK_IOMMUPT_DEFAULT, MOCK_IOMMUPT_DEFAULT);
	VAL(KABI_MOCK_IOMMUPT_HUGE, MOCK_IOMMUPT_HUGE);
	VAL(KABI_MOCK_APERTURE_START, MOCK_APERTURE_START);
	VAL(KABI_MOCK_APERTURE_LAST, MOCK_APERTURE_LAST);
	VAL(KABI_MOCK_PAGE_SIZE, MOCK_PAGE_SIZE);
	VAL(KABI_MOCK_HUGE_PAGE_SIZE, MOCK_HUGE_PAGE_SIZE);
	VAL(KABI_MOCK_FLAGS_ACCESS_WRITE, MOCK_FLAGS_ACCESS_WRITE);
	VAL(KABI_MOCK_FLAGS_ACCESS_SYZ, MOCK_FLAGS_ACCESS_SYZ);
	VAL(KABI_MOCK_ACCESS_RW_WRITE, MOCK_ACCESS_RW_WRITE);
	VAL(KABI_MOCK_ACCESS_RW_SLOW_PATH, MOCK_ACCESS_RW_SLOW_PATH);
	VAL(KABI_MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
	VAL(KABI_MOCK_FLAGS_DEVICE_NO_DIRTY, MOCK_FLAGS_DEVICE_NO_DIRTY);
	VAL(KABI_MOCK_FLAGS_DEVICE_PASID, MOCK_FLAGS_DEVICE_PASID);
	VAL(KABI_MOCK_NESTED_DOMAIN_IOTLB_ID_MAX, MOCK_NESTED_DOMAIN_IOTLB_ID_MAX);
	VAL(KABI_MOCK_NESTED_DOMAIN_IOTLB_NUM, MOCK_NESTED_DOMAIN_IOTLB_NUM);
	VAL(KABI_MOCK_DEV_CACHE_ID_MAX, MOCK_DEV_CACHE_ID_MAX);
	VAL(KABI_MOCK_DEV_CACHE_NUM, MOCK_DEV_CACHE_NUM);
	VAL(KABI_TEST_PASID_RESERVED, IOMMU_TEST_PASID_RESERVED);
	VAL(KABI_MOCK_PASID_WIDTH, MOCK_PASID_WIDTH);
	VAL(KABI_HW_INFO_SELFTEST_REGVAL, IOMMU_HW_INFO_SELFTEST_REGVAL);
	VAL(KABI_TEST_IOTLB_DEFAULT, IOMMU_TEST_IOTLB_DEFAULT);
	VAL(KABI_TEST_DEV_CACHE_DEFAULT, IOMMU_TEST_DEV_CACHE_DEFAULT);
	VAL(KABI_TEST_INVALIDATE_FLAG_ALL, IOMMU_TEST_INVALIDATE_FLAG_ALL);
	VAL(KABI_VIOMMU_INVALIDATE_DATA_SELFTEST, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST);
	VAL(KABI_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID,
	    IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID);
	VAL(KABI_TEST_HW_QUEUE_MAX, IOMMU_TEST_HW_QUEUE_MAX);

	SIZE(kabi_test_cmd, iommu_test_cmd);
	F(kabi_test_cmd, iommu_test_cmd, size);
	F(kabi_test_cmd, iommu_test_cmd, op);
	F(kabi_test_cmd, iommu_test_cmd, id);
	FIELD(kabi_test_cmd, reserved, iommu_test_cmd, __reserved);
	F(kabi_test_cmd, iommu_test_cmd, add_reserved.start);
	F(kabi_test_cmd, iommu_test_cmd, add_reserved.length);
	F(kabi_test_cmd, iommu_test_cmd, mock_domain.out_stdev_id);
	F(kabi_test_cmd, iommu_test_cmd, mock_domain.out_hwpt_id);
	F(kabi_test_cmd, iommu_test_cmd, mock_domain.out_idev_id);
	F(kabi_test_cmd, iommu_test_cmd, mock_domain_flags.out_stdev_id);
	F(kabi_test_cmd, iommu_test_cmd, mock_domain_flags.out_hwpt_id);
	F(kabi_test_cmd, iommu_test_cmd, mock_domain_flags.out_idev_id);
	F(kabi_test_cmd, iommu_test_cmd, mock_domain_flags.dev_flags);
	F(kabi_test_cmd, iommu_test_cmd, mock_domain_replace.pt_id);
	F(kabi_test_cmd, iommu_test_cmd, check_map.iova);
	F(kabi_test_cmd, iommu_test_cmd, check_map.length);
	F(kabi_test_cmd, iommu_test_cmd, check_map.uptr);
	F(kabi_test_cmd, iommu_test_cmd, check_refs.length);
	F(kabi_test_cmd, iommu_test_cmd, check_refs.uptr);
	F(kabi_test_cmd, iommu_test_cmd, check_refs.refs);
	F(kabi_test_cmd, iommu_test_cmd, create_access.out_access_fd);
	F(kabi_test_cmd, iommu_test_cmd, create_access.flags);
	F(kabi_test_cmd, iommu_test_cmd, destroy_access_pages.access_pages_id);
	F(kabi_test_cmd, iommu_test_cmd, access_pages.flags);
	F(kabi_test_cmd, iommu_test_cmd, access_pages.out_access_pages_id);
	F(kabi_test_cmd, iommu_test_cmd, access_pages.iova);
	F(kabi_test_cmd, iommu_test_cmd, access_pages.length);
	F(kabi_test_cmd, iommu_test_cmd, access_pages.uptr);
	F(kabi_test_cmd, iommu_test_cmd, access_rw.iova);
	F(kabi_test_cmd, iommu_test_cmd, access_rw.length);
	F(kabi_test_cmd, iommu_test_cmd, access_rw.uptr);
	F(kabi_test_cmd, iommu_test_cmd, access_rw.flags);
	F(kabi_test_cmd, iommu_test_cmd, memory_limit.limit);
	F(kabi_test_cmd, iommu_test_cmd, access_replace_ioas.ioas_id);
	F(kabi_test_cmd, iommu_test_cmd, dirty.flags);
	F(kabi_test_cmd, iommu_test_cmd, dirty.iova);
	F(kabi_test_cmd, iommu_test_cmd, dirty.length);
	F(kabi_test_cmd, iommu_test_cmd, dirty.page_size);
	F(kabi_test_cmd, iommu_test_cmd, dirty.uptr);
	F(kabi_test_cmd, iommu_test_cmd, dirty.out_nr_dirty);
	F(kabi_test_cmd, iommu_test_cmd, check_iotlb.id);
	F(kabi_test_cmd, iommu_test_cmd, check_iotlb.iotlb);
	F(kabi_test_cmd, iommu_test_cmd, trigger_iopf.dev_id);
	F(kabi_test_cmd, iommu_test_cmd, trigger_iopf.pasid);
	F(kabi_test_cmd, iommu_test_cmd, trigger_iopf.grpid);
	F(kabi_test_cmd, iommu_test_cmd, trigger_iopf.perm);
	F(kabi_test_cmd, iommu_test_cmd, trigger_iopf.addr);
	F(kabi_test_cmd, iommu_test_cmd, check_dev_cache.id);
	F(kabi_test_cmd, iommu_test_cmd, check_dev_cache.cache);
	F(kabi_test_cmd, iommu_test_cmd, trigger_vevent.dev_id);
	F(kabi_test_cmd, iommu_test_cmd, pasid_attach.pasid);
	F(kabi_test_cmd, iommu_test_cmd, pasid_attach.pt_id);
	F(kabi_test_cmd, iommu_test_cmd, pasid_replace.pasid);
	F(kabi_test_cmd, iommu_test_cmd, pasid_replace.pt_id);
	F(kabi_test_cmd, iommu_test_cmd, pasid_detach.pasid);
	F(kabi_test_cmd, iommu_test_cmd, pasid_check.pasid);
	F(kabi_test_cmd, iommu_test_cmd, pasid_check.hwpt_id);
	F(kabi_test_cmd, iommu_test_cmd, dmabuf_get.length);
	F(kabi_test_cmd, iommu_test_cmd, dmabuf_get.open_flags);
	F(kabi_test_cmd, iommu_test_cmd, dmabuf_revoke.dmabuf_fd);
	F(kabi_test_cmd, iommu_test_cmd, dmabuf_revoke.revoked);
	F(kabi_test_cmd, iommu_test_cmd, last);

	SIZE(kabi_hwpt_selftest, iommu_hwpt_selftest);
	F(kabi_hwpt_selftest, iommu_hwpt_selftest, iotlb);
	F(kabi_hwpt_selftest, iommu_hwpt_selftest, pagetable_type);
	SIZE(kabi_hwpt_invalidate_selftest, iommu_hwpt_invalidate_selftest);
	F(kabi_hwpt_invalidate_selftest, iommu_hwpt_invalidate_selftest, flags);
	F(kabi_hwpt_invalidate_selftest, iommu_hwpt_invalidate_selftest, iotlb_id);
	SIZE(kabi_viommu_selftest, iommu_viommu_selftest);
	F(kabi_viommu_selftest, iommu_viommu_selftest, in_data);
	F(kabi_viommu_selftest, iommu_viommu_selftest, out_data);
	F(kabi_viommu_selftest, iommu_viommu_selftest, out_mmap_offset);
	F(kabi_viommu_selftest, iommu_viommu_selftest, out_mmap_length);
	SIZE(kabi_viommu_invalidate_selftest, iommu_viommu_invalidate_selftest);
	F(kabi_viommu_invalidate_selftest, iommu_viommu_invalidate_selftest, flags);
	F(kabi_viommu_invalidate_selftest, iommu_viommu_invalidate_selftest, vdev_id);
	F(kabi_viommu_invalidate_selftest, iommu_viommu_invalidate_selftest, cache_id);
	SIZE(kabi_viommu_event_selftest, iommu_viommu_event_selftest);
	F(kabi_viommu_event_selftest, iommu_viommu_event_selftest, virt_id);
}

/* the public header's values that are the kernel's */
static void check_public(void)
{
	VAL(IOMMUFD_REQ_DESTROY, IOMMUFD_CMD_DESTROY);
	VAL(IOMMUFD_REQ_IOAS_ALLOC, IOMMUFD_CMD_IOAS_ALLOC);
	VAL(IOMMUFD_REQ_IOAS_ALLOW_IOVAS, IOMMUFD_CMD_IOAS_ALLOW_IOVAS);
	VAL(IOMMUFD_REQ_IOAS_COPY, IOMMUFD_CMD_IOAS_COPY);
	VAL(IOMMUFD_REQ_IOAS_IOVA_RANGES, IOMMUFD_CMD_IOAS_IOVA_RANGES);
	VAL(IOMMUFD_REQ_IOAS_MAP, IOMMUFD_CMD_IOAS_MAP);
	VAL(IOMMUFD_REQ_IOAS_UNMAP, IOMMUFD_CMD_IOAS_UNMAP);
	VAL(IOMMUFD_REQ_OPTION, IOMMUFD_CMD_OPTION);
	VAL(IOMMUFD_REQ_VFIO_IOAS, IOMMUFD_CMD_VFIO_IOAS);
	VAL(IOMMUFD_REQ_HWPT_ALLOC, IOMMUFD_CMD_HWPT_ALLOC);
	VAL(IOMMUFD_REQ_GET_HW_INFO, IOMMUFD_CMD_GET_HW_INFO);
	VAL(IOMMUFD_REQ_HWPT_SET_DIRTY_TRACKING, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING);
	VAL(IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP);
	VAL(IOMMUFD_REQ_HWPT_INVALIDATE, IOMMUFD_CMD_HWPT_INVALIDATE);
	VAL(IOMMUFD_REQ_FAULT_QUEUE_ALLOC, IOMMUFD_CMD_FAULT_QUEUE_ALLOC);
	VAL(IOMMUFD_REQ_IOAS_MAP_FILE, IOMMUFD_CMD_IOAS_MAP_FILE);
	VAL(IOMMUFD_REQ_VIOMMU_ALLOC, IOMMUFD_CMD_VIOMMU_ALLOC);
	VAL(IOMMUFD_REQ_VDEVICE_ALLOC, IOMMUFD_CMD_VDEVICE_ALLOC);
	VAL(IOMMUFD_REQ_IOAS_CHANGE_PROCESS, IOMMUFD_CMD_IOAS_CHANGE_PROCESS);
	VAL(IOMMUFD_REQ_VEVENTQ_ALLOC, IOMMUFD_CMD_VEVENTQ_ALLOC);
	VAL(IOMMUFD_REQ_HW_QUEUE_ALLOC, IOMMUFD_CMD_HW_QUEUE_ALLOC);
	VAL(IOMMUFD_MAP_FIXED_IOVA, IOMMU_IOAS_MAP_FIXED_IOVA);
	VAL(IOMMUFD_MAP_WRITE, IOMMU_IOAS_MAP_WRITEABLE);
	VAL(IOMMUFD_MAP_READ, IOMMU_IOAS_MAP_READABLE);
	VAL(IOMMUFD_RLIMIT_USER, 0);
	VAL(IOMMUFD_RLIMIT_MM, 1);
	VAL(IOMMUFD_HWPT_NEST_PARENT, IOMMU_HWPT_ALLOC_NEST_PARENT);
	VAL(IOMMUFD_HWPT_DIRTY_TRACKING, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	VAL(IOMMUFD_HWPT_FAULT_ID_VALID, IOMMU_HWPT_FAULT_ID_VALID);
	VAL(IOMMUFD_HWPT_PASID, IOMMU_HWPT_ALLOC_PASID);
	VAL(IOMMUFD_HWPT_DATA_NONE, IOMMU_HWPT_DATA_NONE);
	VAL(IOMMUFD_HWPT_DATA_VTD_S1, IOMMU_HWPT_DATA_VTD_S1);
	VAL(IOMMUFD_HWPT_DATA_ARM_SMMUV3, IOMMU_HWPT_DATA_ARM_SMMUV3);
	VAL(IOMMUFD_HWPT_DATA_AMD_GUEST, IOMMU_HWPT_DATA_AMD_GUEST);
	VAL(IOMMUFD_HWPT_DATA_SELFTEST, IOMMU_HWPT_DATA_SELFTEST);
	VAL(IOMMUFD_HW_INFO_NONE, IOMMU_HW_INFO_TYPE_NONE);
	VAL(IOMMUFD_HW_INFO_INTEL_VTD, IOMMU_HW_INFO_TYPE_INTEL_VTD);
	VAL(IOMMUFD_HW_INFO_ARM_SMMUV3, IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	VAL(IOMMUFD_HW_INFO_TEGRA241_CMDQV, IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV);
	VAL(IOMMUFD_HW_INFO_AMD, IOMMU_HW_INFO_TYPE_AMD);
	VAL(IOMMUFD_HW_INFO_SELFTEST, IOMMU_HW_INFO_TYPE_SELFTEST);
	VAL(IOMMUFD_HW_CAP_DIRTY_TRACKING, IOMMU_HW_CAP_DIRTY_TRACKING);
	VAL(IOMMUFD_HW_CAP_PCI_PASID_EXEC, IOMMU_HW_CAP_PCI_PASID_EXEC);
	VAL(IOMMUFD_HW_CAP_PCI_PASID_PRIV, IOMMU_HW_CAP_PCI_PASID_PRIV);
	VAL(IOMMUFD_HW_CAP_PCI_ATS_NOT_SUPPORTED, IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED);
	VAL(IOMMUFD_HW_INFO_INPUT_TYPE, IOMMU_HW_INFO_FLAG_INPUT_TYPE);
	VAL(IOMMUFD_DIRTY_NO_CLEAR, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
	VAL(IOMMUFD_INVALIDATE_VTD_S1, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1);
	VAL(IOMMUFD_INVALIDATE_VIOMMU_ARM_SMMUV3, IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3);
	VAL(IOMMUFD_INVALIDATE_SELFTEST, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST);
	VAL(IOMMUFD_FAULT_PASID_VALID, IOMMU_PGFAULT_FLAGS_PASID_VALID);
	VAL(IOMMUFD_FAULT_LAST_PAGE, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	VAL(IOMMUFD_FAULT_PERM_READ, IOMMU_PGFAULT_PERM_READ);
	VAL(IOMMUFD_FAULT_PERM_WRITE, IOMMU_PGFAULT_PERM_WRITE);
	VAL(IOMMUFD_FAULT_PERM_EXEC, IOMMU_PGFAULT_PERM_EXEC);
	VAL(IOMMUFD_FAULT_PERM_PRIV, IOMMU_PGFAULT_PERM_PRIV);
	VAL(IOMMUFD_FAULT_RESPONSE_SUCCESS, IOMMUFD_PAGE_RESP_SUCCESS);
	VAL(IOMMUFD_FAULT_RESPONSE_INVALID, IOMMUFD_PAGE_RESP_INVALID);
	VAL(IOMMUFD_VIOMMU_ARM_SMMUV3, IOMMU_VIOMMU_TYPE_ARM_SMMUV3);
	VAL(IOMMUFD_VIOMMU_TEGRA241_CMDQV, IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV);
	VAL(IOMMUFD_VIOMMU_SELFTEST, IOMMU_VIOMMU_TYPE_SELFTEST);
	VAL(IOMMUFD_HW_QUEUE_TEGRA241_CMDQV, IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV);
	VAL(IOMMUFD_HW_QUEUE_SELFTEST, IOMMU_HW_QUEUE_TYPE_SELFTEST);
	VAL(IOMMUFD_VEVENTQ_ARM_SMMUV3, IOMMU_VEVENTQ_TYPE_ARM_SMMUV3);
	VAL(IOMMUFD_VEVENTQ_TEGRA241_CMDQV, IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV);
	VAL(IOMMUFD_VEVENTQ_SELFTEST, IOMMU_VEVENTQ_TYPE_SELFTEST);
}

int main(void)
{
	check_iommufd();
	check_vfio();
	check_selftest();
	check_public();
	printf("%d checks, %d mismatches\n", checks, failures);
	return failures ? 1 : 0;
}
