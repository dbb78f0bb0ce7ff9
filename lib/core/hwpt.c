// SPDX-License-Identifier: LGPL-2.1-or-later
/* HWPT: alloc, hardware info, dirty tracking, invalidation. */
#include <stddef.h>

#include "core.h"

#define HWPT_FLAGS (IOMMUFD_HWPT_NEST_PARENT | IOMMUFD_HWPT_DIRTY_TRACKING | \
		    IOMMUFD_HWPT_FAULT_ID_VALID | IOMMUFD_HWPT_PASID)

_Static_assert(IOMMUFD_HWPT_NEST_PARENT == KABI_HWPT_ALLOC_NEST_PARENT, "hwpt flag");
_Static_assert(IOMMUFD_HWPT_DIRTY_TRACKING == KABI_HWPT_ALLOC_DIRTY_TRACKING, "hwpt flag");
_Static_assert(IOMMUFD_HWPT_FAULT_ID_VALID == KABI_HWPT_FAULT_ID_VALID, "hwpt flag");
_Static_assert(IOMMUFD_HWPT_PASID == KABI_HWPT_ALLOC_PASID, "hwpt flag");
_Static_assert(IOMMUFD_HW_CAP_DIRTY_TRACKING == KABI_HW_CAP_DIRTY_TRACKING, "hw cap");
_Static_assert(IOMMUFD_HW_CAP_PCI_PASID_EXEC == KABI_HW_CAP_PCI_PASID_EXEC, "hw cap");
_Static_assert(IOMMUFD_HW_CAP_PCI_PASID_PRIV == KABI_HW_CAP_PCI_PASID_PRIV, "hw cap");
_Static_assert(IOMMUFD_HW_CAP_PCI_ATS_NOT_SUPPORTED == KABI_HW_CAP_PCI_ATS_NOT_SUPPORTED, "hw cap");

int ifd_hwpt_alloc(struct iommufd_ctx *ctx, const char *func, uint32_t dev_id, uint32_t pt_id,
		   const struct iommufd_hwpt_alloc_opts *opts, uint32_t *hwpt_id)
{
	struct iommufd_hwpt_alloc_opts o;
	struct kabi_hwpt_alloc cmd = { .size = sizeof(cmd), .dev_id = dev_id, .pt_id = pt_id };
	char note[IFD_FLAGS_NOTE_MAX];
	int r;

	if (!hwpt_id)
		return ifd_fail(ctx, func, EINVAL, "hwpt_id is NULL");
	r = ifd_ext_copy_in(&o, sizeof(o), opts, sizeof(size_t));
	if (r)
		return ifd_fail(ctx, func, r, "bad opts (sz %zu, dev %u, pt %u)", opts ? opts->sz : 0, dev_id,
			    pt_id);
	if (o.data_len && !o.data)
		return ifd_fail(ctx, func, EINVAL, "data is NULL with data_len %u (dev %u, pt %u)", o.data_len,
			    dev_id, pt_id);
	if (o.fault_id && !(o.flags & IOMMUFD_HWPT_FAULT_ID_VALID))
		return ifd_fail(ctx, func, EINVAL, "fault_id %u without IOMMUFD_HWPT_FAULT_ID_VALID (dev %u, pt %u)",
			    o.fault_id, dev_id, pt_id);
	cmd.flags = o.flags;
	cmd.fault_id = o.fault_id;
	cmd.data_type = o.data_type;
	cmd.data_len = o.data_len;
	cmd.data_uptr = U64_PTR(o.data);
	r = ifd_ioctl(ctx, KABI_IOMMU_HWPT_ALLOC, &cmd);
	if (r < 0)
		return ifd_fail(ctx, func, r,
			    "IOMMU_HWPT_ALLOC (dev %u, pt %u, flags 0x%x, data type 0x%x len %u, fault %u%s)",
			    dev_id, pt_id, o.flags, o.data_type, o.data_len, o.fault_id,
			    ifd_flags_note(note, o.flags, HWPT_FLAGS));
	*hwpt_id = cmd.out_hwpt_id;
	return 0;
}

IOMMUFD_EXPORT int iommufd_hwpt_alloc(struct iommufd_ctx *ctx, uint32_t dev_id, uint32_t pt_id,
				      const struct iommufd_hwpt_alloc_opts *opts, uint32_t *hwpt_id)
{
	CHECK_CTX(ctx);
	return ifd_hwpt_alloc(ctx, __func__, dev_id, pt_id, opts, hwpt_id);
}

/* decode the vendor data of GET_HW_INFO into info->data */
static void hw_info_decode(struct iommufd_hw_info *info, const void *raw)
{
	switch (info->type) {
	case IOMMUFD_HW_INFO_INTEL_VTD: {
		const struct kabi_hw_info_vtd *v = raw;
		info->data.vtd.flags = v->flags;
		info->data.vtd.cap_reg = v->cap_reg;
		info->data.vtd.ecap_reg = v->ecap_reg;
		break;
	}
	case IOMMUFD_HW_INFO_ARM_SMMUV3: {
		const struct kabi_hw_info_arm_smmuv3 *v = raw;
		info->data.smmuv3.flags = v->flags;
		for (int i = 0; i < 6; i++)
			info->data.smmuv3.idr[i] = v->idr[i];
		info->data.smmuv3.iidr = v->iidr;
		info->data.smmuv3.aidr = v->aidr;
		break;
	}
	case IOMMUFD_HW_INFO_TEGRA241_CMDQV: {
		const struct kabi_hw_info_tegra241_cmdqv *v = raw;
		info->data.tegra241_cmdqv.flags = v->flags;
		info->data.tegra241_cmdqv.version = v->version;
		info->data.tegra241_cmdqv.log2vcmdqs = v->log2vcmdqs;
		info->data.tegra241_cmdqv.log2vsids = v->log2vsids;
		break;
	}
	case IOMMUFD_HW_INFO_AMD: {
		const struct kabi_hw_info_amd *v = raw;
		info->data.amd.efr = v->efr;
		info->data.amd.efr2 = v->efr2;
		break;
	}
	case KABI_HW_INFO_TYPE_SELFTEST: {
		const struct kabi_hw_info_selftest *v = raw;
		info->data.selftest.flags = v->flags;
		info->data.selftest.test_reg = v->test_reg;
		break;
	}
	default: /* unknown vendor: only raw */
		memcpy(info->data.raw, raw, sizeof(info->data.raw));
		break;
	}
}

int ifd_get_hw_info(struct iommufd_ctx *ctx, const char *func, uint32_t dev_id, uint32_t type,
		    struct iommufd_hw_info *info)
{
	/* big enough for every known vendor struct; uint64_t for alignment */
	uint64_t raw[sizeof(((struct iommufd_hw_info *)0)->data.raw) / sizeof(uint64_t)] = { 0 };
	struct iommufd_hw_info out;
	struct kabi_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = sizeof(raw),
		.data_uptr = U64_PTR(raw),
	};
	int r;

	_Static_assert(sizeof(raw) == sizeof(out.data.raw), "hw info buffer");
	if (!info)
		return ifd_fail(ctx, func, EINVAL, "info is NULL");
	r = ifd_ext_copy_in(&out, sizeof(out), info, sizeof(size_t));
	if (r)
		return ifd_fail(ctx, func, r, "bad info struct (sz %zu, dev %u)", info->sz, dev_id);
	if (type != IOMMUFD_HW_INFO_NONE) {
		cmd.flags = KABI_HW_INFO_FLAG_INPUT_TYPE;
		cmd.data_type = type;
	}
	r = ifd_ioctl(ctx, KABI_IOMMU_GET_HW_INFO, &cmd);
	if (r < 0)
		return ifd_fail(ctx, func, r, "IOMMU_GET_HW_INFO (dev %u, type 0x%x)", dev_id, type);

	out.type = cmd.data_type;
	out.max_pasid_log2 = cmd.out_max_pasid_log2;
	out.capabilities = cmd.out_capabilities;
	out.data_len = cmd.data_len;
	memset(out.reserved, 0, sizeof(out.reserved));
	memset(&out.data, 0, sizeof(out.data));
	hw_info_decode(&out, raw);
	ifd_ext_copy_out(info, &out, sizeof(out));
	return 0;
}

IOMMUFD_EXPORT int iommufd_get_hw_info(struct iommufd_ctx *ctx, uint32_t dev_id, uint32_t type,
				       struct iommufd_hw_info *info)
{
	CHECK_CTX(ctx);
	return ifd_get_hw_info(ctx, __func__, dev_id, type, info);
}

IOMMUFD_EXPORT int iommufd_hwpt_set_dirty_tracking(struct iommufd_ctx *ctx, uint32_t hwpt_id, bool enable)
{
	struct kabi_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = enable ? KABI_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt_id,
	};
	int r;

	CHECK_CTX(ctx);
	r = ifd_ioctl(ctx, KABI_IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd);
	if (r < 0)
		return FAIL(ctx, r, "IOMMU_HWPT_SET_DIRTY_TRACKING (hwpt %u, %s)", hwpt_id,
			    enable ? "enable" : "disable");
	return 0;
}

IOMMUFD_EXPORT int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ctx *ctx, uint32_t hwpt_id, uint64_t iova,
						 uint64_t length, uint64_t page_size, uint64_t *bitmap,
						 uint32_t flags)
{
	struct kabi_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_id,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.data = U64_PTR(bitmap),
	};
	char note[IFD_FLAGS_NOTE_MAX];
	int r;

	_Static_assert(IOMMUFD_DIRTY_NO_CLEAR == KABI_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, "dirty flag");
	CHECK_CTX(ctx);
	CHECK_PTR(ctx, bitmap);
	cmd.flags = flags;
	r = ifd_ioctl(ctx, KABI_IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd);
	if (r < 0)
		return FAIL(ctx, r,
			    "IOMMU_HWPT_GET_DIRTY_BITMAP (hwpt %u, iova 0x%llx, length 0x%llx, page size 0x%llx, flags 0x%x%s)",
			    hwpt_id, (unsigned long long)iova, (unsigned long long)length,
			    (unsigned long long)page_size, flags,
			    ifd_flags_note(note, flags, IOMMUFD_DIRTY_NO_CLEAR));
	return 0;
}

/* first bit >= pos whose value is want, or nbits */
static uint64_t bitmap_find(const uint64_t *bitmap, uint64_t nbits, uint64_t pos, bool want)
{
	while (pos < nbits) {
		uint64_t w = bitmap[pos / 64];

		if (!want)
			w = ~w;
		w &= ~0ull << (pos % 64);
		if (w) {
			pos = (pos & ~63ull) + (uint64_t)__builtin_ctzll(w);
			return pos < nbits ? pos : nbits;
		}
		pos = (pos & ~63ull) + 64;
	}
	return nbits;
}

IOMMUFD_EXPORT int iommufd_bitmap_next_run(const uint64_t *bitmap, uint64_t nbits, uint64_t *pos,
					   uint64_t *start, uint64_t *count)
{
	uint64_t s, e;

	if (!bitmap || !pos || !start || !count)
		return FAIL(NULL, EINVAL, "NULL argument (bitmap %p, pos %p, start %p, count %p)",
			    (const void *)bitmap, (void *)pos, (void *)start, (void *)count);
	if (*pos >= nbits)
		return 0;
	s = bitmap_find(bitmap, nbits, *pos, true);
	if (s >= nbits) {
		*pos = nbits;
		return 0;
	}
	e = bitmap_find(bitmap, nbits, s, false);
	*start = s;
	*count = e - s;
	*pos = e;
	return 1;
}

IOMMUFD_EXPORT int iommufd_hwpt_invalidate(struct iommufd_ctx *ctx, uint32_t id, uint32_t data_type,
					   const void *entries, uint32_t entry_len, uint32_t *entry_num)
{
	struct kabi_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = id,
		.data_type = data_type,
		.entry_len = entry_len,
		.data_uptr = U64_PTR(entries),
	};
	uint32_t n;
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, entry_num);
	n = *entry_num;
	if (n && !entries) {
		*entry_num = 0;
		return FAIL(ctx, EINVAL, "entries is NULL with %u entries (id %u)", n, id);
	}
	cmd.entry_num = n;
	r = ifd_ioctl(ctx, KABI_IOMMU_HWPT_INVALIDATE, &cmd);
	/*
	 * The kernel writes entry_num back on success and on a failure of the
	 * handler; ENOTTY (no such request) means no handler ran: none done.
	 */
	if (r == -ENOTTY)
		cmd.entry_num = 0;
	*entry_num = cmd.entry_num;
	if (r < 0)
		return FAIL(ctx, r,
			    "IOMMU_HWPT_INVALIDATE (id %u, type 0x%x, entry len %u, %u entries, %u done)",
			    id, data_type, entry_len, n, cmd.entry_num);
	return 0;
}
