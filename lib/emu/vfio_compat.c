// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VFIO type1 container on an iommufd (the kernel's
 * drivers/iommu/iommufd/vfio_compat.c): the compat IOAS that a VFIO group's
 * SET_CONTAINER uses, IOMMU_VFIO_IOAS, and the VFIO_* container ioctls that an
 * iommufd fd answers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "iopt.h"

/* for VFIO group SET_CONTAINER: make or find the compat IOAS */
int emu_ictx_compat_ioas(struct emu_ictx *ictx, bool create, uint32_t *ioas_id)
{
	struct emu_ioas *ioas;
	int r;

	if (ictx->noiommu)
		return -EINVAL;
	if (ictx->compat_ioas && emu_ioas_find(ictx, ictx->compat_ioas)) {
		*ioas_id = ictx->compat_ioas;
		return 0;
	}
	if (!create)
		return -ENODEV;
	ioas = emu_ioas_alloc(ictx, &r);
	if (!ioas)
		return r;
	r = iopt_new(ictx->rlimit_mm, emu_iopt_fail_hook(ictx->emu), &ioas->iopt);
	if (r) {
		emu_obj_abort(&ioas->obj);
		return r;
	}
	iopt_set_access_unmap_cb(ioas->iopt, emu_ioas_access_unmap, ioas);
	emu_obj_publish(&ioas->obj);
	ictx->compat_ioas = ioas->obj.id;
	*ioas_id = ioas->obj.id;
	return 0;
}

/* iommufd_vfio_compat_set_no_iommu() of drivers/iommu/iommufd/vfio_compat.c */
int emu_ictx_set_no_iommu(struct emu_ictx *ictx)
{
	if (ictx->compat_ioas && emu_ioas_find(ictx, ictx->compat_ioas))
		return -EINVAL;
	ictx->noiommu = true;
	return 0;
}

int emu_cmd_vfio_ioas(struct emu_ucmd *u)
{
	struct kabi_vfio_ioas *cmd = u->cmd;

	if (cmd->reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case KABI_VFIO_IOAS_GET:
		if (!u->ictx->compat_ioas || !emu_ioas_find(u->ictx, u->ictx->compat_ioas))
			return -ENODEV;
		cmd->ioas_id = u->ictx->compat_ioas;
		return emu_ucmd_respond(u);
	case KABI_VFIO_IOAS_SET:
		if (!emu_ioas_find(u->ictx, cmd->ioas_id))
			return -ENOENT;
		u->ictx->compat_ioas = cmd->ioas_id;
		return 0;
	case KABI_VFIO_IOAS_CLEAR:
		u->ictx->compat_ioas = 0;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

#define VFIO_DMA_MAP_FLAG_READ 1u
#define VFIO_DMA_MAP_FLAG_WRITE 2u
#define VFIO_DMA_UNMAP_FLAG_ALL 2u
#define VFIO_NOIOMMU_IOMMU 8
#define VFIO_DMA_CC_IOMMU 4

static struct emu_ioas *compat_ioas(struct emu_ictx *ictx)
{
	return ictx->compat_ioas ? emu_ioas_find(ictx, ictx->compat_ioas) : NULL;
}

static int compat_map(struct emu_ictx *ictx, void *arg)
{
	struct kabi_vfio_iommu_type1_dma_map m;
	struct emu_ioas *ioas;
	uint64_t iova;
	int prot;

	if (emu_copy_from_user(&m, (uintptr_t)arg, sizeof(m)))
		return -EFAULT;
	if (m.argsz < sizeof(m) || (m.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)))
		return -EINVAL;
	ioas = compat_ioas(ictx);
	if (!ioas)
		return -ENODEV;
	prot = (m.flags & VFIO_DMA_MAP_FLAG_READ ? IOPT_READ : 0) |
	       (m.flags & VFIO_DMA_MAP_FLAG_WRITE ? IOPT_WRITE : 0);
	iova = m.iova;
	/* a mapping with no rights is allowed here: map it readable-less via the engine */
	return iopt_map_user(ioas->iopt, &iova, m.vaddr, m.size, prot ? prot : IOPT_READ,
			     IOPT_MAP_FIXED);
}

static int count_area(void *opaque, uint64_t iova, uint64_t length, int prot)
{
	(*(uint64_t *)opaque)++;
	return 0;
}

static int compat_unmap(struct emu_ictx *ictx, void *arg)
{
	struct kabi_vfio_iommu_type1_dma_unmap m;
	struct emu_ioas *ioas;
	uint64_t unmapped = 0;
	int r;

	if (emu_copy_from_user(&m, (uintptr_t)arg, sizeof(m)))
		return -EFAULT;
	if (m.argsz < sizeof(m) || (m.flags & ~VFIO_DMA_UNMAP_FLAG_ALL))
		return -EINVAL;
	ioas = compat_ioas(ictx);
	if (!ioas)
		return -ENODEV;
	if (m.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (m.iova || m.size)
			return -EINVAL;
		r = iopt_unmap_all(ioas->iopt, &unmapped);
	} else {
		r = 0;
		if (!iopt_get_huge_pages(ioas->iopt)) {
			uint64_t cuts[2];
			size_t n = 0;

			/* the kernel's cut points: the last byte before and of the range */
			if (m.iova)
				cuts[n++] = m.iova - 1;
			cuts[n++] = m.iova + m.size - 1;
			r = iopt_cut(ioas->iopt, cuts, n);
		}
		if (!r) {
			r = iopt_unmap(ioas->iopt, m.iova, m.size, &unmapped);
			if (r == -ENOENT && !unmapped) {
				/* nothing there is no error for type1; partial coverage is */
				uint64_t n = 0;

				iopt_for_each_area(ioas->iopt, m.iova, m.iova + m.size - 1,
						   count_area, &n);
				if (!n)
					r = 0;
			}
		}
	}
	m.size = unmapped;
	if (emu_copy_to_user((uintptr_t)arg + offsetof(typeof(m), size), &m.size, sizeof(m.size)))
		return -EFAULT;
	return r;
}

/* VFIO_IOMMU_GET_INFO: header, then IOVA_RANGE and DMA_AVAIL caps, each
 * written only when it fits whole; "next" links written when its target
 * offset is within argsz */
static int compat_get_info(struct emu_ictx *ictx, void *arg)
{
	struct {
		uint32_t argsz;
		uint32_t flags;
		uint64_t iova_pgsizes;
		uint32_t cap_offset;
		uint32_t pad;
	} info;
	const uint64_t uarg = (uintptr_t)arg;
	struct emu_ioas *ioas;
	struct iopt_range *ranges;
	uint32_t total = sizeof(info), last_cap = 0, minsz;
	int n, r = 0;

	if (emu_copy_from_user(&info, uarg, 16))
		return -EFAULT;
	if (info.argsz < 16)
		return -EINVAL;
	minsz = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	ioas = compat_ioas(ictx);
	if (!ioas)
		return -ENODEV;
	{
		uint64_t pg = ~0ull, align = iopt_iova_alignment(ioas->iopt);

		if (iopt_domain_count(ioas->iopt))
			pg &= ~(EMU_MOCK_PAGE_SIZE - 1); /* the mock domains' page sizes */
		pg &= ~(EMU_PAGE_SIZE - 1);          /* sub-PAGE_SIZE bits become PAGE_SIZE */
		pg |= EMU_PAGE_SIZE;
		while (align > EMU_PAGE_SIZE && (pg & (align - 1)))
			pg &= pg - 1;
		info.iova_pgsizes = pg;
	}
	info.flags = 1; /* PGSIZES */
	info.cap_offset = 0;
	info.pad = 0;
	n = iopt_iova_ranges(ioas->iopt, NULL, 0);
	ranges = emu_calloc(ictx->emu, n ? n : 1, sizeof(*ranges));
	if (!ranges)
		return -ENOMEM;
	iopt_iova_ranges(ioas->iopt, ranges, n);
	for (int c = 0; c < 2 && !r; c++) {
		uint32_t size = c == 0 ? 16 + 16 * (uint32_t)n : 12;
		uint8_t hdr[16] = { 0 };
		uint16_t id = c == 0 ? 1 : 3, ver = 1;

		if (info.argsz > total && info.argsz - total >= size) {
			memcpy(hdr, &id, 2);
			memcpy(hdr + 2, &ver, 2);
			if (c == 0) {
				uint32_t nr = (uint32_t)n;

				memcpy(hdr + 8, &nr, 4);
				r = emu_copy_to_user(uarg + total, hdr, 16);
				for (int i = 0; i < n && !r; i++)
					r = emu_copy_to_user(uarg + total + 16 + i * 16,
							     &ranges[i], 16);
			} else {
				uint32_t avail = UINT32_MAX;

				memcpy(hdr + 8, &avail, 4);
				r = emu_copy_to_user(uarg + total, hdr, 12);
			}
		}
		size = (size + 7) & ~7u;
		if (!r && last_cap && info.argsz >= total)
			r = emu_copy_to_user(uarg + last_cap + 4, &total, 4);
		last_cap = total;
		total += size;
	}
	free(ranges);
	if (r)
		return r;
	if (info.argsz >= total)
		info.cap_offset = sizeof(info);
	info.argsz = total;
	info.flags |= 2; /* CAPS */
	return emu_copy_to_user(uarg, &info, minsz);
}

int emu_vfio_compat_ioctl(struct emu_ictx *ictx, unsigned long req, void *arg)
{
	struct emu_ioas *ioas;
	unsigned long a = (unsigned long)arg;

	switch (req) {
	case KABI_VFIO_GET_API_VERSION:
		return KABI_VFIO_API_VERSION;
	case KABI_VFIO_CHECK_EXTENSION:
		switch (a) {
		case KABI_VFIO_TYPE1_IOMMU:
		case KABI_VFIO_TYPE1v2_IOMMU:
		case KABI_VFIO_UNMAP_ALL:
			return !ictx->noiommu;
		case VFIO_NOIOMMU_IOMMU:
			return 1; /* IS_ENABLED(CONFIG_VFIO_NOIOMMU), as the VM's kernel */
		case VFIO_DMA_CC_IOMMU:
			/* 1 when every HWPT of the compat IOAS enforces coherency:
			 * the mock domains do not */
			ioas = compat_ioas(ictx);
			if (!ioas)
				return -ENODEV;
			for (uint32_t i = 1; i < ictx->xa_size; i++) {
				struct emu_hwpt *h = (struct emu_hwpt *)emu_obj_find(
					ictx, i, EMU_OBJ_HWPT_PAGING);

				if (h && h->ioas == ioas)
					return 0;
			}
			return 1;
		default:
			return 0;
		}
	case KABI_VFIO_SET_IOMMU:
		/* no-IOMMU: accepted, and nothing else works (CAP_SYS_RAWIO assumed) */
		if (a == VFIO_NOIOMMU_IOMMU && ictx->noiommu)
			return 0;
		if ((a != KABI_VFIO_TYPE1_IOMMU && a != KABI_VFIO_TYPE1v2_IOMMU) || ictx->noiommu)
			return -EINVAL;
		ioas = compat_ioas(ictx);
		if (!ioas)
			return -ENODEV;
		if (a == KABI_VFIO_TYPE1_IOMMU) {
			int r = iopt_set_huge_pages(ioas->iopt, false);

			if (r)
				return r;
		}
		return 0;
	case KABI_VFIO_IOMMU_GET_INFO:
		return compat_get_info(ictx, arg);
	case KABI_VFIO_IOMMU_MAP_DMA:
		return compat_map(ictx, arg);
	case KABI_VFIO_IOMMU_UNMAP_DMA:
		return compat_unmap(ictx, arg);
	default:
		return -ENOTTY;
	}
}
