// SPDX-License-Identifier: LGPL-2.1-or-later
/* DESTROY, OPTION, VFIO_IOAS, IOAS_CHANGE_PROCESS and the iommufd mmap. */
#include <sys/mman.h>

#include "core.h"

IOMMUFD_EXPORT int iommufd_destroy(struct iommufd_ctx *ctx, uint32_t id)
{
	struct kabi_destroy cmd = { .size = sizeof(cmd), .id = id };
	int r;

	CHECK_CTX(ctx);
	r = ifd_ioctl(ctx, KABI_IOMMU_DESTROY, &cmd);
	if (r < 0)
		return FAIL(ctx, r, "IOMMU_DESTROY (id %u)", id);
	return 0;
}

/* IOMMU_OPTION; *val in and out */
static int option(struct iommufd_ctx *ctx, const char *func, uint32_t option_id, uint16_t op,
		  uint32_t object_id, uint64_t *val)
{
	struct kabi_option cmd = {
		.size = sizeof(cmd),
		.option_id = option_id,
		.op = op,
		.object_id = object_id,
		.val64 = *val,
	};
	int r = ifd_ioctl(ctx, KABI_IOMMU_OPTION, &cmd);

	if (r < 0)
		return ifd_fail(ctx, func, r, "IOMMU_OPTION (%s %s, object %u, val %llu)",
				option_id == KABI_OPTION_RLIMIT_MODE ? "RLIMIT_MODE" : "HUGE_PAGES",
				op == KABI_OPTION_OP_GET ? "GET" : "SET", object_id,
				(unsigned long long)*val);
	*val = cmd.val64;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ctx_get_rlimit_mode(struct iommufd_ctx *ctx, enum iommufd_rlimit_mode *mode)
{
	uint64_t v = 0;
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, mode);
	r = option(ctx, __func__, KABI_OPTION_RLIMIT_MODE, KABI_OPTION_OP_GET, 0, &v);
	if (r)
		return r;
	*mode = v ? IOMMUFD_RLIMIT_MM : IOMMUFD_RLIMIT_USER;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ctx_set_rlimit_mode(struct iommufd_ctx *ctx, enum iommufd_rlimit_mode mode)
{
	uint64_t v = mode;

	CHECK_CTX(ctx);
	if (mode != IOMMUFD_RLIMIT_USER && mode != IOMMUFD_RLIMIT_MM)
		return FAIL(ctx, EINVAL, "unknown rlimit mode %d", (int)mode);
	return option(ctx, __func__, KABI_OPTION_RLIMIT_MODE, KABI_OPTION_OP_SET, 0, &v);
}

IOMMUFD_EXPORT int iommufd_ioas_get_huge_pages(struct iommufd_ctx *ctx, uint32_t ioas_id, bool *enabled)
{
	uint64_t v = 0;
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, enabled);
	r = option(ctx, __func__, KABI_OPTION_HUGE_PAGES, KABI_OPTION_OP_GET, ioas_id, &v);
	if (r)
		return r;
	*enabled = v != 0;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ioas_set_huge_pages(struct iommufd_ctx *ctx, uint32_t ioas_id, bool enabled)
{
	uint64_t v = enabled ? 1 : 0;

	CHECK_CTX(ctx);
	return option(ctx, __func__, KABI_OPTION_HUGE_PAGES, KABI_OPTION_OP_SET, ioas_id, &v);
}

static int vfio_ioas(struct iommufd_ctx *ctx, const char *func, uint16_t op, uint32_t *ioas_id)
{
	static const char *const names[] = { "GET", "SET", "CLEAR" };
	struct kabi_vfio_ioas cmd = { .size = sizeof(cmd), .ioas_id = *ioas_id, .op = op };
	int r = ifd_ioctl(ctx, KABI_IOMMU_VFIO_IOAS, &cmd);

	if (r < 0)
		return ifd_fail(ctx, func, r, "IOMMU_VFIO_IOAS (%s, ioas %u)", names[op], *ioas_id);
	*ioas_id = cmd.ioas_id;
	return 0;
}

IOMMUFD_EXPORT int iommufd_vfio_ioas_get(struct iommufd_ctx *ctx, uint32_t *ioas_id)
{
	uint32_t id = 0;
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, ioas_id);
	r = vfio_ioas(ctx, __func__, KABI_VFIO_IOAS_GET, &id);
	if (r)
		return r;
	*ioas_id = id;
	return 0;
}

IOMMUFD_EXPORT int iommufd_vfio_ioas_set(struct iommufd_ctx *ctx, uint32_t ioas_id)
{
	CHECK_CTX(ctx);
	return vfio_ioas(ctx, __func__, KABI_VFIO_IOAS_SET, &ioas_id);
}

IOMMUFD_EXPORT int iommufd_vfio_ioas_clear(struct iommufd_ctx *ctx)
{
	uint32_t id = 0;

	CHECK_CTX(ctx);
	return vfio_ioas(ctx, __func__, KABI_VFIO_IOAS_CLEAR, &id);
}

IOMMUFD_EXPORT int iommufd_ioas_change_process(struct iommufd_ctx *ctx)
{
	struct kabi_ioas_change_process cmd = { .size = sizeof(cmd) };
	int r;

	CHECK_CTX(ctx);
	r = ifd_ioctl(ctx, KABI_IOMMU_IOAS_CHANGE_PROCESS, &cmd);
	if (r < 0)
		return FAIL(ctx, r, "IOMMU_IOAS_CHANGE_PROCESS");
	return 0;
}

IOMMUFD_EXPORT int iommufd_ctx_mmap(struct iommufd_ctx *ctx, uint64_t offset, size_t length, void **addr)
{
	void *p = NULL;
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, addr);
	if (!length)
		return FAIL(ctx, EINVAL, "mmap of length 0 (offset 0x%llx)", (unsigned long long)offset);
	if (offset > INT64_MAX)
		return FAIL(ctx, EINVAL, "mmap offset 0x%llx too large", (unsigned long long)offset);
	r = be_mmap(ctx->be, ctx->fd, (off_t)offset, length, PROT_READ | PROT_WRITE, MAP_SHARED, &p);
	if (r < 0)
		return FAIL(ctx, r, "mmap of the iommufd (offset 0x%llx, length 0x%zx)",
			    (unsigned long long)offset, length);
	*addr = p;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ctx_munmap(struct iommufd_ctx *ctx, void *addr, size_t length)
{
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, addr);
	if (!length)
		return FAIL(ctx, EINVAL, "munmap of length 0 (addr %p)", addr);
	r = be_munmap(ctx->be, addr, length);
	if (r < 0)
		return FAIL(ctx, r, "munmap (addr %p, length 0x%zx)", addr, length);
	return 0;
}
