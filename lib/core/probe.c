// SPDX-License-Identifier: LGPL-2.1-or-later
/* Capability probing: ask the running kernel which requests and flags it knows. */
#include "core.h"
#include "type1/type1.h"

static const char *const request_names[] = {
	[KABI_CMD_DESTROY - KABI_CMD_BASE] = "DESTROY",
	[KABI_CMD_IOAS_ALLOC - KABI_CMD_BASE] = "IOAS_ALLOC",
	[KABI_CMD_IOAS_ALLOW_IOVAS - KABI_CMD_BASE] = "IOAS_ALLOW_IOVAS",
	[KABI_CMD_IOAS_COPY - KABI_CMD_BASE] = "IOAS_COPY",
	[KABI_CMD_IOAS_IOVA_RANGES - KABI_CMD_BASE] = "IOAS_IOVA_RANGES",
	[KABI_CMD_IOAS_MAP - KABI_CMD_BASE] = "IOAS_MAP",
	[KABI_CMD_IOAS_UNMAP - KABI_CMD_BASE] = "IOAS_UNMAP",
	[KABI_CMD_OPTION - KABI_CMD_BASE] = "OPTION",
	[KABI_CMD_VFIO_IOAS - KABI_CMD_BASE] = "VFIO_IOAS",
	[KABI_CMD_HWPT_ALLOC - KABI_CMD_BASE] = "HWPT_ALLOC",
	[KABI_CMD_GET_HW_INFO - KABI_CMD_BASE] = "GET_HW_INFO",
	[KABI_CMD_HWPT_SET_DIRTY_TRACKING - KABI_CMD_BASE] = "HWPT_SET_DIRTY_TRACKING",
	[KABI_CMD_HWPT_GET_DIRTY_BITMAP - KABI_CMD_BASE] = "HWPT_GET_DIRTY_BITMAP",
	[KABI_CMD_HWPT_INVALIDATE - KABI_CMD_BASE] = "HWPT_INVALIDATE",
	[KABI_CMD_FAULT_QUEUE_ALLOC - KABI_CMD_BASE] = "FAULT_QUEUE_ALLOC",
	[KABI_CMD_IOAS_MAP_FILE - KABI_CMD_BASE] = "IOAS_MAP_FILE",
	[KABI_CMD_VIOMMU_ALLOC - KABI_CMD_BASE] = "VIOMMU_ALLOC",
	[KABI_CMD_VDEVICE_ALLOC - KABI_CMD_BASE] = "VDEVICE_ALLOC",
	[KABI_CMD_IOAS_CHANGE_PROCESS - KABI_CMD_BASE] = "IOAS_CHANGE_PROCESS",
	[KABI_CMD_VEVENTQ_ALLOC - KABI_CMD_BASE] = "VEVENTQ_ALLOC",
	[KABI_CMD_HW_QUEUE_ALLOC - KABI_CMD_BASE] = "HW_QUEUE_ALLOC",
};

_Static_assert(ARRAY_SIZE(request_names) == KABI_CMD_LAST - KABI_CMD_BASE + 1, "request names");
_Static_assert((int)IOMMUFD_REQ_DESTROY == (int)KABI_CMD_DESTROY, "request numbers");
_Static_assert((int)IOMMUFD_REQ_HW_QUEUE_ALLOC == (int)KABI_CMD_LAST, "request numbers");

static bool request_valid(enum iommufd_request req)
{
	return (unsigned int)req >= KABI_CMD_BASE && (unsigned int)req <= KABI_CMD_LAST;
}

IOMMUFD_EXPORT const char *iommufd_request_name(enum iommufd_request req)
{
	return request_valid(req) ? request_names[req - KABI_CMD_BASE] : NULL;
}

IOMMUFD_EXPORT int iommufd_ctx_supports(struct iommufd_ctx *ctx, enum iommufd_request req)
{
	/* every iommufd struct starts with u32 size; size 0 is below every minimum */
	uint64_t probe[8] = { 0 };
	uint8_t *slot;
	uint8_t cached;
	int r;

	CHECK_CTX(ctx);
	if (!request_valid(req))
		return FAIL(ctx, EINVAL, "unknown request 0x%x", (unsigned int)req);
	if (ctx->t1)
		return ifd_t1_supports(req);
	slot = &ctx->cmd_supported[req - KABI_CMD_BASE];
	cached = __atomic_load_n(slot, __ATOMIC_RELAXED);
	if (cached)
		return cached == 1;
	/*
	 * The kernel checks the ioctl number before the size: a known request
	 * with size 0 gives EINVAL, an unknown one ENOTTY.
	 */
	r = ifd_ioctl(ctx, KABI_IO(req), probe);
	if (r == -EINVAL)
		cached = 1;
	else if (r == -ENOTTY)
		cached = 2;
	else
		return FAIL(ctx, r < 0 ? r : -EIO, "probing %s with size 0 gave %s",
			    request_names[req - KABI_CMD_BASE], r < 0 ? ifd_errno_name(r) : "success");
	__atomic_store_n(slot, cached, __ATOMIC_RELAXED);
	return cached == 1;
}

/*
 * Each probe sets only flags, with IDs and values chosen so that the request
 * fails right after its flag check (spec 1.2/3.x order): EOPNOTSUPP means a
 * flag is unknown; the expected later errno means every flag is accepted.
 */
IOMMUFD_EXPORT int iommufd_ctx_supports_flags(struct iommufd_ctx *ctx, enum iommufd_request req,
					      uint64_t flags)
{
	union {
		struct kabi_ioas_map map;
		struct kabi_ioas_map_file map_file;
		struct kabi_ioas_copy copy;
		struct kabi_hw_info hw_info;
		struct kabi_hwpt_set_dirty_tracking set_dirty;
		struct kabi_hwpt_get_dirty_bitmap get_dirty;
		struct kabi_option option;
	} u;
	const char *name;
	uint64_t known;
	int r, expect;

	CHECK_CTX(ctx);
	if (!request_valid(req))
		return FAIL(ctx, EINVAL, "unknown request 0x%x", (unsigned int)req);
	name = request_names[req - KABI_CMD_BASE];
	if (!flags)
		return iommufd_ctx_supports(ctx, req);

	memset(&u, 0, sizeof(u));
	switch (req) {
	case IOMMUFD_REQ_IOAS_MAP:
	case IOMMUFD_REQ_IOAS_MAP_FILE:
	case IOMMUFD_REQ_IOAS_COPY:
		known = IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_WRITE | IOMMUFD_MAP_READ;
		break;
	case IOMMUFD_REQ_GET_HW_INFO:
		known = IOMMUFD_HW_INFO_INPUT_TYPE;
		break;
	/* the enable bit of the request (set by iommufd_hwpt_set_dirty_tracking) */
	_Static_assert(IOMMUFD_DIRTY_ENABLE == KABI_HWPT_DIRTY_TRACKING_ENABLE, "dirty flag");
	case IOMMUFD_REQ_HWPT_SET_DIRTY_TRACKING:
		known = IOMMUFD_DIRTY_ENABLE;
		break;
	case IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP:
		known = IOMMUFD_DIRTY_NO_CLEAR;
		break;
	case IOMMUFD_REQ_OPTION:
		known = IOMMUFD_OPTION_RLIMIT_MODE | IOMMUFD_OPTION_HUGE_PAGES;
		break;
	default:
		return FAIL(ctx, EINVAL, "flags of %s cannot be probed without a device", name);
	}
	/*
	 * Bits this library does not know go to the kernel like the others (a
	 * newer kernel may know them), except for OPTION, whose "flags" are
	 * this library's names for option IDs.
	 */
	if (req == IOMMUFD_REQ_OPTION && (flags & ~known))
		return FAIL(ctx, EINVAL, "unknown option bits 0x%llx for %s",
			    (unsigned long long)(flags & ~known), name);
	if (flags > UINT32_MAX)
		return FAIL(ctx, EINVAL, "flags 0x%llx of %s do not fit the kernel's 32 bits",
			    (unsigned long long)flags, name);

	r = iommufd_ctx_supports(ctx, req);
	if (r <= 0)
		return r;

	if (req == IOMMUFD_REQ_OPTION) {
		/* one probe per option: an unknown option_id gives EOPNOTSUPP */
		if (flags & IOMMUFD_OPTION_RLIMIT_MODE) {
			/* GET of the global option: harmless, succeeds */
			u.option = (struct kabi_option){ .size = sizeof(u.option),
							 .option_id = KABI_OPTION_RLIMIT_MODE,
							 .op = KABI_OPTION_OP_GET };
			r = ifd_ioctl(ctx, KABI_IOMMU_OPTION, &u.option);
			if (r == -EOPNOTSUPP)
				return 0;
			if (r < 0)
				return FAIL(ctx, r, "probing OPTION RLIMIT_MODE GET");
		}
		if (flags & IOMMUFD_OPTION_HUGE_PAGES) {
			/* object 0 is never an IOAS: ENOENT once the option is known */
			u.option = (struct kabi_option){ .size = sizeof(u.option),
							 .option_id = KABI_OPTION_HUGE_PAGES,
							 .op = KABI_OPTION_OP_GET };
			r = ifd_ioctl(ctx, KABI_IOMMU_OPTION, &u.option);
			if (r == -EOPNOTSUPP)
				return 0;
			if (r != -ENOENT)
				return FAIL(ctx, r < 0 ? r : -EIO,
					    "probing OPTION HUGE_PAGES GET on object 0 gave %s",
					    r < 0 ? ifd_errno_name(r) : "success");
		}
		return 1;
	}

	switch (req) {
	case IOMMUFD_REQ_IOAS_MAP:
		/* flags, then iova == U64_MAX -> EOVERFLOW before any lookup */
		u.map = (struct kabi_ioas_map){ .size = sizeof(u.map), .flags = (uint32_t)flags,
						.iova = UINT64_MAX };
		expect = -EOVERFLOW;
		r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_MAP, &u.map);
		break;
	case IOMMUFD_REQ_IOAS_MAP_FILE:
		u.map_file = (struct kabi_ioas_map_file){ .size = sizeof(u.map_file),
							  .flags = (uint32_t)flags, .fd = -1,
							  .iova = UINT64_MAX };
		expect = -EOVERFLOW;
		r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_MAP_FILE, &u.map_file);
		break;
	case IOMMUFD_REQ_IOAS_COPY:
		u.copy = (struct kabi_ioas_copy){ .size = sizeof(u.copy), .flags = (uint32_t)flags,
						  .length = UINT64_MAX };
		expect = -EOVERFLOW;
		r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_COPY, &u.copy);
		break;
	case IOMMUFD_REQ_GET_HW_INFO:
		/* flags, reserved, then the lookup of device 0 -> ENOENT */
		u.hw_info = (struct kabi_hw_info){ .size = sizeof(u.hw_info),
						   .flags = (uint32_t)flags };
		expect = -ENOENT;
		r = ifd_ioctl(ctx, KABI_IOMMU_GET_HW_INFO, &u.hw_info);
		break;
	case IOMMUFD_REQ_HWPT_SET_DIRTY_TRACKING:
		u.set_dirty = (struct kabi_hwpt_set_dirty_tracking){ .size = sizeof(u.set_dirty),
								     .flags = (uint32_t)flags };
		expect = -ENOENT;
		r = ifd_ioctl(ctx, KABI_IOMMU_HWPT_SET_DIRTY_TRACKING, &u.set_dirty);
		break;
	default: /* IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP */
		u.get_dirty = (struct kabi_hwpt_get_dirty_bitmap){ .size = sizeof(u.get_dirty),
								   .flags = (uint32_t)flags };
		expect = -ENOENT;
		r = ifd_ioctl(ctx, KABI_IOMMU_HWPT_GET_DIRTY_BITMAP, &u.get_dirty);
		break;
	}
	ifd_fail_note_clear();
	if (r == -EOPNOTSUPP)
		return 0;
	if (r != expect)
		return FAIL(ctx, r < 0 ? r : -EIO, "probing %s flags 0x%llx gave %s (expected %s)",
			    name, (unsigned long long)flags, r < 0 ? ifd_errno_name(r) : "success",
			    ifd_errno_name(expect));
	return 1;
}
