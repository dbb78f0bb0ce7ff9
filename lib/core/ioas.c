// SPDX-License-Identifier: LGPL-2.1-or-later
/* IOAS: alloc, IOVA ranges, allowed IOVAs, map, map file, copy, unmap. */
#include <stdlib.h>

#include "core.h"

#define MAP_FLAGS (IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_WRITE | IOMMUFD_MAP_READ)

/* the library's map flags are the kernel's values; keep it so */
_Static_assert(IOMMUFD_MAP_FIXED_IOVA == KABI_IOAS_MAP_FIXED_IOVA, "map flag");
_Static_assert(IOMMUFD_MAP_WRITE == KABI_IOAS_MAP_WRITEABLE, "map flag");
_Static_assert(IOMMUFD_MAP_READ == KABI_IOAS_MAP_READABLE, "map flag");

IOMMUFD_EXPORT int iommufd_ioas_alloc(struct iommufd_ctx *ctx, uint32_t *ioas_id)
{
	struct kabi_ioas_alloc cmd = { .size = sizeof(cmd) };
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, ioas_id);
	r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_ALLOC, &cmd);
	if (r < 0)
		return FAIL(ctx, r, "IOMMU_IOAS_ALLOC");
	*ioas_id = cmd.out_ioas_id;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ioas_iova_ranges(struct iommufd_ctx *ctx, uint32_t ioas_id,
					    struct iommufd_iova_range **ranges, size_t *nr_ranges,
					    uint64_t *alignment)
{
	struct kabi_iova_range *buf = NULL;
	struct iommufd_iova_range *out;
	uint32_t cap = 4;
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, ranges);
	CHECK_PTR(ctx, nr_ranges);

	/* the set can change between calls: grow until one call fits */
	for (int tries = 0;; tries++) {
		struct kabi_ioas_iova_ranges cmd = {
			.size = sizeof(cmd),
			.ioas_id = ioas_id,
			.num_iovas = cap,
		};
		struct kabi_iova_range *nbuf = reallocarray(buf, cap, sizeof(*buf));

		if (!nbuf) {
			free(buf);
			return FAIL(ctx, ENOMEM, "IOMMU_IOAS_IOVA_RANGES (ioas %u): %u ranges",
				    ioas_id, cap);
		}
		buf = nbuf;
		cmd.allowed_iovas = U64_PTR(buf);
		r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_IOVA_RANGES, &cmd);
		if (r == -EMSGSIZE && tries < 16 && cmd.num_iovas > cap) {
			cap = cmd.num_iovas;
			continue;
		}
		if (r < 0) {
			free(buf);
			return FAIL(ctx, r, "IOMMU_IOAS_IOVA_RANGES (ioas %u, capacity %u)", ioas_id,
				    cap);
		}
		out = calloc(cmd.num_iovas ? cmd.num_iovas : 1, sizeof(*out));
		if (!out) {
			free(buf);
			return FAIL(ctx, ENOMEM, "IOMMU_IOAS_IOVA_RANGES (ioas %u)", ioas_id);
		}
		for (uint32_t i = 0; i < cmd.num_iovas; i++) {
			out[i].start = buf[i].start;
			out[i].last = buf[i].last;
		}
		free(buf);
		*ranges = out;
		*nr_ranges = cmd.num_iovas;
		if (alignment)
			*alignment = cmd.out_iova_alignment;
		return 0;
	}
}

IOMMUFD_EXPORT int iommufd_ioas_allow_iovas(struct iommufd_ctx *ctx, uint32_t ioas_id,
					    const struct iommufd_iova_range *ranges, size_t nr_ranges)
{
	struct kabi_ioas_allow_iovas cmd = { .size = sizeof(cmd), .ioas_id = ioas_id };
	struct kabi_iova_range *buf = NULL;
	int r;

	CHECK_CTX(ctx);
	if (nr_ranges && !ranges)
		return FAIL(ctx, EINVAL, "ranges is NULL (ioas %u, %zu ranges)", ioas_id, nr_ranges);
	if (nr_ranges > UINT32_MAX)
		return FAIL(ctx, EINVAL, "too many ranges (ioas %u, %zu ranges)", ioas_id, nr_ranges);
	if (nr_ranges) {
		buf = calloc(nr_ranges, sizeof(*buf));
		if (!buf)
			return FAIL(ctx, ENOMEM, "IOMMU_IOAS_ALLOW_IOVAS (ioas %u, %zu ranges)",
				    ioas_id, nr_ranges);
		for (size_t i = 0; i < nr_ranges; i++) {
			buf[i].start = ranges[i].start;
			buf[i].last = ranges[i].last;
		}
	}
	cmd.num_iovas = (uint32_t)nr_ranges;
	cmd.allowed_iovas = U64_PTR(buf);
	r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_ALLOW_IOVAS, &cmd);
	free(buf);
	if (r < 0) {
		if (nr_ranges)
			return FAIL(ctx, r,
				    "IOMMU_IOAS_ALLOW_IOVAS (ioas %u, %zu ranges, first [0x%llx, 0x%llx])",
				    ioas_id, nr_ranges, (unsigned long long)ranges[0].start,
				    (unsigned long long)ranges[0].last);
		return FAIL(ctx, r, "IOMMU_IOAS_ALLOW_IOVAS (ioas %u, clear)", ioas_id);
	}
	return 0;
}

/*
 * The failure of IOAS_MAP, out of line and from cmd (the kernel changes none
 * of its input fields on failure): the hot path then keeps nothing but ctx and
 * iova across the ioctl.
 */
static _cold_ int map_fail(struct iommufd_ctx *ctx, int r, const struct kabi_ioas_map *cmd)
{
	char note[IFD_FLAGS_NOTE_MAX];

	return ifd_fail(ctx, "iommufd_ioas_map", r,
			"IOMMU_IOAS_MAP (ioas %u, va %p, length 0x%llx, iova %s0x%llx, flags 0x%x%s)",
			cmd->ioas_id, (void *)(uintptr_t)cmd->user_va, (unsigned long long)cmd->length,
			cmd->flags & IOMMUFD_MAP_FIXED_IOVA ? "" : "auto ",
			(unsigned long long)cmd->iova, cmd->flags,
			ifd_flags_note(note, cmd->flags, MAP_FLAGS));
}

IOMMUFD_EXPORT int iommufd_ioas_map(struct iommufd_ctx *ctx, uint32_t ioas_id, void *va,
				    uint64_t length, uint64_t *iova, uint32_t flags)
{
	struct kabi_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.user_va = U64_PTR(va),
		.length = length,
	};
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, iova);
	if (flags & IOMMUFD_MAP_FIXED_IOVA)
		cmd.iova = *iova;
	r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_MAP, &cmd);
	if (r < 0)
		return map_fail(ctx, r, &cmd);
	*iova = cmd.iova;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ioas_map_file(struct iommufd_ctx *ctx, uint32_t ioas_id, int fd,
					 uint64_t start, uint64_t length, uint64_t *iova,
					 uint32_t flags)
{
	struct kabi_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.fd = fd,
		.start = start,
		.length = length,
	};
	char note[IFD_FLAGS_NOTE_MAX];
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, iova);
	if (fd < 0)
		return FAIL(ctx, EBADF, "fd %d (ioas %u)", fd, ioas_id);
	if (flags & IOMMUFD_MAP_FIXED_IOVA)
		cmd.iova = *iova;
	r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_MAP_FILE, &cmd);
	if (r < 0)
		return FAIL(ctx, r,
			    "IOMMU_IOAS_MAP_FILE (ioas %u, fd %d, start 0x%llx, length 0x%llx, iova %s0x%llx, flags 0x%x%s)",
			    ioas_id, fd, (unsigned long long)start, (unsigned long long)length,
			    flags & IOMMUFD_MAP_FIXED_IOVA ? "" : "auto ",
			    (unsigned long long)cmd.iova, flags, ifd_flags_note(note, flags, MAP_FLAGS));
	*iova = cmd.iova;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ioas_copy(struct iommufd_ctx *ctx, uint32_t dst_ioas_id, uint64_t *dst_iova,
				     uint32_t src_ioas_id, uint64_t src_iova, uint64_t length,
				     uint32_t flags)
{
	struct kabi_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst_ioas_id,
		.src_ioas_id = src_ioas_id,
		.length = length,
		.src_iova = src_iova,
	};
	char note[IFD_FLAGS_NOTE_MAX];
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, dst_iova);
	if (flags & IOMMUFD_MAP_FIXED_IOVA)
		cmd.dst_iova = *dst_iova;
	r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_COPY, &cmd);
	if (r < 0)
		return FAIL(ctx, r,
			    "IOMMU_IOAS_COPY (src ioas %u iova 0x%llx, dst ioas %u iova %s0x%llx, length 0x%llx, flags 0x%x%s)",
			    src_ioas_id, (unsigned long long)src_iova, dst_ioas_id,
			    flags & IOMMUFD_MAP_FIXED_IOVA ? "" : "auto ",
			    (unsigned long long)cmd.dst_iova, (unsigned long long)length, flags,
			    ifd_flags_note(note, flags, MAP_FLAGS));
	*dst_iova = cmd.dst_iova;
	return 0;
}

/* the failure of IOAS_UNMAP, out of line and from cmd, as map_fail() */
static _cold_ int unmap_fail(struct iommufd_ctx *ctx, const char *func, int r,
			     const struct kabi_ioas_unmap *cmd)
{
	if (cmd->iova == 0 && cmd->length == UINT64_MAX)
		return ifd_fail(ctx, func, r, "IOMMU_IOAS_UNMAP (ioas %u, all)", cmd->ioas_id);
	return ifd_fail(ctx, func, r, "IOMMU_IOAS_UNMAP (ioas %u, iova 0x%llx, length 0x%llx)",
			cmd->ioas_id, (unsigned long long)cmd->iova, (unsigned long long)cmd->length);
}

static inline int unmap(struct iommufd_ctx *ctx, const char *func, uint32_t ioas_id, uint64_t iova,
			uint64_t length, uint64_t *unmapped)
{
	struct kabi_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_UNMAP, &cmd);

	if (r < 0)
		return unmap_fail(ctx, func, r, &cmd);
	if (unmapped)
		*unmapped = cmd.length;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ioas_unmap(struct iommufd_ctx *ctx, uint32_t ioas_id, uint64_t iova,
				      uint64_t length, uint64_t *unmapped)
{
	CHECK_CTX(ctx);
	return unmap(ctx, __func__, ioas_id, iova, length, unmapped);
}

IOMMUFD_EXPORT int iommufd_ioas_unmap_all(struct iommufd_ctx *ctx, uint32_t ioas_id, uint64_t *unmapped)
{
	CHECK_CTX(ctx);
	return unmap(ctx, __func__, ioas_id, 0, UINT64_MAX, unmapped);
}
