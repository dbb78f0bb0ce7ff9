// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ioctl dispatch of an emulated iommufd file (§1.2) and the IOAS, OPTION,
 * VFIO_IOAS, CHANGE_PROCESS and DESTROY commands (§3), plus the VFIO type1
 * compat requests on the iommufd fd (§5).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "emu.h"
#include "iopt.h"

#define U64_MAX UINT64_MAX

/* ------------------------------------------------------------ helpers */

int emu_ucmd_respond(struct emu_ucmd *u)
{
	size_t n = u->user_size < u->ksize ? u->user_size : u->ksize;

	return emu_copy_to_user(u->ubuf, u->cmd, n);
}

static bool capable(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

static struct emu_ioas *ioas_find(struct emu_ictx *ictx, uint32_t id)
{
	return (struct emu_ioas *)emu_obj_find(ictx, id, EMU_OBJ_IOAS);
}

/* ------------------------------------------------------------ IOAS object */

static void ioas_destroy(struct emu_obj *obj)
{
	struct emu_ioas *ioas = (struct emu_ioas *)obj;

	if (obj->ictx->compat_ioas == obj->id)
		obj->ictx->compat_ioas = 0;
	iopt_free(ioas->iopt);
	free(ioas->autos);
	free(ioas->accesses);
	free(ioas);
}

static int cmd_ioas_alloc(struct emu_ucmd *u)
{
	struct kabi_ioas_alloc *cmd = u->cmd;
	struct emu_ioas *ioas;
	int r;

	if (cmd->flags)
		return -EOPNOTSUPP;
	ioas = emu_obj_alloc(u->ictx, EMU_OBJ_IOAS, sizeof(*ioas), ioas_destroy, &r);
	if (!ioas)
		return r;
	r = emu_should_fail(u->ictx->emu) ? -ENOMEM : iopt_new(u->ictx->rlimit_mm, emu_iopt_fail_hook(u->ictx->emu), &ioas->iopt);
	if (r)
		goto out_abort;
	iopt_set_access_unmap_cb(ioas->iopt, emu_ioas_access_unmap, ioas);
	cmd->out_ioas_id = ioas->obj.id;
	r = emu_ucmd_respond(u);
	if (r)
		goto out_abort;
	emu_obj_publish(&ioas->obj);
	return 0;
out_abort:
	emu_obj_abort(&ioas->obj);
	return r;
}

/* for VFIO group SET_CONTAINER: make or find the compat IOAS */
int emu_ictx_compat_ioas(struct emu_ictx *ictx, bool create, uint32_t *ioas_id)
{
	struct emu_ioas *ioas;
	int r;

	if (ictx->noiommu)
		return -EINVAL;
	if (ictx->compat_ioas && ioas_find(ictx, ictx->compat_ioas)) {
		*ioas_id = ictx->compat_ioas;
		return 0;
	}
	if (!create)
		return -ENODEV;
	ioas = emu_obj_alloc(ictx, EMU_OBJ_IOAS, sizeof(*ioas), ioas_destroy, &r);
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

static int cmd_iova_ranges(struct emu_ucmd *u)
{
	struct kabi_ioas_iova_ranges *cmd = u->cmd;
	struct iopt_range *buf = NULL;
	struct emu_ioas *ioas;
	int total, r;
	uint32_t n;

	if (cmd->reserved)
		return -EOPNOTSUPP;
	ioas = ioas_find(u->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	total = iopt_iova_ranges(ioas->iopt, NULL, 0);
	if (total < 0)
		return total;
	n = cmd->num_iovas < (uint32_t)total ? cmd->num_iovas : (uint32_t)total;
	if (n) {
		buf = emu_calloc(u->ictx->emu, n, sizeof(*buf));
		if (!buf)
			return -ENOMEM;
		iopt_iova_ranges(ioas->iopt, buf, n);
		r = emu_copy_to_user(cmd->allowed_iovas, buf, n * sizeof(*buf));
		free(buf);
		if (r)
			return r;
	}
	cmd->out_iova_alignment = iopt_iova_alignment(ioas->iopt);
	r = (uint32_t)total > cmd->num_iovas ? -EMSGSIZE : 0;
	cmd->num_iovas = (uint32_t)total;
	if (emu_ucmd_respond(u))
		return -EFAULT;
	return r;
}

static int cmd_allow_iovas(struct emu_ucmd *u)
{
	struct kabi_ioas_allow_iovas *cmd = u->cmd;
	struct iopt_range *ranges = NULL;
	struct emu_ioas *ioas;
	int r;

	if (cmd->reserved)
		return -EOPNOTSUPP;
	ioas = ioas_find(u->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	if (cmd->num_iovas) {
		ranges = emu_calloc(u->ictx->emu, cmd->num_iovas, sizeof(*ranges));
		if (!ranges)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < cmd->num_iovas; i++) {
		r = emu_copy_from_user(&ranges[i], cmd->allowed_iovas + i * sizeof(*ranges),
				       sizeof(*ranges));
		if (r)
			goto out;
		r = -EINVAL;
		if (ranges[i].start >= ranges[i].last)
			goto out;
		for (uint32_t j = 0; j < i; j++)
			if (ranges[j].start <= ranges[i].last && ranges[i].start <= ranges[j].last)
				goto out;
	}
	r = emu_should_fail(u->ictx->emu) ? -ENOMEM :
					    iopt_allow_iovas(ioas->iopt, ranges, cmd->num_iovas);
out:
	free(ranges);
	return r;
}

static int map_prot(uint32_t flags)
{
	return (flags & KABI_IOAS_MAP_READABLE ? IOPT_READ : 0) |
	       (flags & KABI_IOAS_MAP_WRITEABLE ? IOPT_WRITE : 0);
}

#define MAP_FLAGS (KABI_IOAS_MAP_FIXED_IOVA | KABI_IOAS_MAP_WRITEABLE | KABI_IOAS_MAP_READABLE)

static int cmd_ioas_map(struct emu_ucmd *u)
{
	struct kabi_ioas_map *cmd = u->cmd;
	struct emu_ioas *ioas;
	uint64_t iova = cmd->iova;
	int r;

	if ((cmd->flags & ~MAP_FLAGS) || cmd->reserved)
		return -EOPNOTSUPP;
	if (cmd->iova == U64_MAX || cmd->length == U64_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags & (KABI_IOAS_MAP_WRITEABLE | KABI_IOAS_MAP_READABLE)))
		return -EINVAL;
	ioas = ioas_find(u->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	if (emu_should_fail(u->ictx->emu))
		return -ENOMEM;
	r = iopt_map_user(ioas->iopt, &iova, cmd->user_va, cmd->length, map_prot(cmd->flags),
			  cmd->flags & KABI_IOAS_MAP_FIXED_IOVA ? IOPT_MAP_FIXED : 0);
	if (r)
		return r;
	cmd->iova = iova;
	return emu_ucmd_respond(u);
}

static int cmd_ioas_map_file(struct emu_ucmd *u)
{
	struct kabi_ioas_map_file *cmd = u->cmd;
	struct emu_dmabuf *db;
	unsigned int mflags = cmd->flags & KABI_IOAS_MAP_FIXED_IOVA ? IOPT_MAP_FIXED : 0;
	struct emu_file *ef;
	struct emu_ioas *ioas;
	uint64_t iova = cmd->iova;
	int r;

	if (cmd->flags & ~MAP_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->iova == U64_MAX || cmd->length == U64_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags & (KABI_IOAS_MAP_WRITEABLE | KABI_IOAS_MAP_READABLE)))
		return -EINVAL;
	ioas = ioas_find(u->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	if (cmd->length == 0)
		return -EINVAL;
	if (cmd->start + cmd->length - 1 < cmd->start)
		return -EOVERFLOW;
	ef = emu_file_lookup(u->ictx->emu, cmd->fd);
	if (ef) /* an emulated file is no memfd: pinning would fail */
		return iopt_domain_count(ioas->iopt) ? -EINVAL : -EBADF;
	db = emu_dmabuf_find(u->ictx->emu, cmd->fd);
	if (db) {
		if (cmd->start + cmd->length - 1 >= db->size)
			return -EINVAL;
		if (db->revoked)
			return -ENODEV;
		mflags |= IOPT_MAP_DMABUF;
	}
	if (emu_should_fail(u->ictx->emu))
		return -ENOMEM;
	r = iopt_map_file(ioas->iopt, &iova, cmd->fd, cmd->start, cmd->length,
			  map_prot(cmd->flags), mflags);
	if (r)
		return r;
	cmd->iova = iova;
	return emu_ucmd_respond(u);
}

static int cmd_ioas_copy(struct emu_ucmd *u)
{
	struct kabi_ioas_copy *cmd = u->cmd;
	struct iopt_copy_src *cs;
	struct emu_ioas *src, *dst;
	uint64_t iova = cmd->dst_iova;
	int r;

	if (cmd->flags & ~MAP_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->length == U64_MAX || cmd->src_iova == U64_MAX || cmd->dst_iova == U64_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags & (KABI_IOAS_MAP_WRITEABLE | KABI_IOAS_MAP_READABLE)))
		return -EINVAL;
	src = ioas_find(u->ictx, cmd->src_ioas_id);
	if (!src)
		return -ENOENT;
	r = iopt_copy_collect(src->iopt, cmd->src_iova, cmd->length, &cs);
	if (r)
		return r;
	dst = ioas_find(u->ictx, cmd->dst_ioas_id);
	if (!dst) {
		r = -ENOENT;
		goto out;
	}
	r = emu_should_fail(u->ictx->emu) ? -ENOMEM :
		iopt_copy_map(dst->iopt, cs, &iova, map_prot(cmd->flags),
			      cmd->flags & KABI_IOAS_MAP_FIXED_IOVA ? IOPT_MAP_FIXED : 0);
	if (r)
		goto out;
	cmd->dst_iova = iova;
	r = emu_ucmd_respond(u);
out:
	iopt_copy_src_free(cs);
	return r;
}

static int cmd_ioas_unmap(struct emu_ucmd *u)
{
	struct kabi_ioas_unmap *cmd = u->cmd;
	struct emu_ioas *ioas;
	uint64_t unmapped = 0;
	int r;

	ioas = ioas_find(u->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	if (cmd->iova == 0 && cmd->length == U64_MAX)
		r = iopt_unmap_all(ioas->iopt, &unmapped);
	else
		r = iopt_unmap(ioas->iopt, cmd->iova, cmd->length, &unmapped);
	if (r)
		return r;
	cmd->length = unmapped;
	return emu_ucmd_respond(u);
}

static int cmd_option(struct emu_ucmd *u)
{
	struct kabi_option *cmd = u->cmd;
	struct emu_ioas *ioas;
	int r = 0;

	if (cmd->reserved)
		return -EOPNOTSUPP;
	if (cmd->option_id == KABI_OPTION_RLIMIT_MODE) {
		if (cmd->object_id)
			return -EOPNOTSUPP;
		if (cmd->op == KABI_OPTION_OP_GET) {
			cmd->val64 = u->ictx->rlimit_mm;
		} else if (cmd->op == KABI_OPTION_OP_SET) {
			if (!capable(CAP_SYS_RESOURCE))
				return -EPERM;
			if (emu_ictx_has_objects(u->ictx))
				return -EBUSY;
			if (cmd->val64 > 1)
				return -EINVAL;
			u->ictx->rlimit_mm = cmd->val64;
		} else {
			return -EOPNOTSUPP;
		}
	} else if (cmd->option_id == KABI_OPTION_HUGE_PAGES) {
		ioas = ioas_find(u->ictx, cmd->object_id);
		if (!ioas)
			return -ENOENT;
		if (cmd->op == KABI_OPTION_OP_GET) {
			cmd->val64 = iopt_get_huge_pages(ioas->iopt);
		} else if (cmd->op == KABI_OPTION_OP_SET) {
			if (cmd->val64 > 1)
				return -EINVAL;
			r = iopt_set_huge_pages(ioas->iopt, cmd->val64 == 1);
			if (r)
				return r;
		} else {
			return -EOPNOTSUPP;
		}
	} else {
		return -EOPNOTSUPP;
	}
	return emu_copy_to_user(u->ubuf + offsetof(struct kabi_option, val64), &cmd->val64,
				sizeof(cmd->val64));
}

static int cmd_vfio_ioas(struct emu_ucmd *u)
{
	struct kabi_vfio_ioas *cmd = u->cmd;

	if (cmd->reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case KABI_VFIO_IOAS_GET:
		if (!u->ictx->compat_ioas || !ioas_find(u->ictx, u->ictx->compat_ioas))
			return -ENODEV;
		cmd->ioas_id = u->ictx->compat_ioas;
		return emu_ucmd_respond(u);
	case KABI_VFIO_IOAS_SET:
		if (!ioas_find(u->ictx, cmd->ioas_id))
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

static int cmd_change_process(struct emu_ucmd *u)
{
	struct kabi_ioas_change_process *cmd = u->cmd;
	struct emu_ictx *ictx = u->ictx;
	int r;

	if (cmd->reserved)
		return -EOPNOTSUPP;
	for (uint32_t i = 1; i < ictx->xa_size; i++) {
		struct emu_obj *o = emu_obj_find(ictx, i, EMU_OBJ_IOAS);

		if (o && (r = iopt_change_process_check(((struct emu_ioas *)o)->iopt)))
			return r;
	}
	for (uint32_t i = 1; i < ictx->xa_size; i++) {
		struct emu_obj *o = emu_obj_find(ictx, i, EMU_OBJ_IOAS);

		if (o)
			iopt_change_process_commit(((struct emu_ioas *)o)->iopt);
	}
	return 0;
}

static int cmd_destroy(struct emu_ucmd *u)
{
	struct kabi_destroy *cmd = u->cmd;

	return emu_obj_destroy_user(u->ictx, cmd->id);
}

static int cmd_test(struct emu_ucmd *u)
{
	return emu_test_cmd(u->ictx, u);
}

/* ------------------------------------------------------------ VFIO type1 compat (§5) */

#define VFIO_DMA_MAP_FLAG_READ 1u
#define VFIO_DMA_MAP_FLAG_WRITE 2u
#define VFIO_DMA_UNMAP_FLAG_ALL 2u
#define VFIO_NOIOMMU_IOMMU 8
#define VFIO_DMA_CC_IOMMU 4

static struct emu_ioas *compat_ioas(struct emu_ictx *ictx)
{
	return ictx->compat_ioas ? ioas_find(ictx, ictx->compat_ioas) : NULL;
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

static int vfio_compat_ioctl(struct emu_ictx *ictx, unsigned long req, void *arg)
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
			return 0;
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

/* ------------------------------------------------------------ dispatch */

struct cmd_desc {
	unsigned long req;
	uint32_t ksize;
	uint32_t min;
	int (*fn)(struct emu_ucmd *u);
};

#define TEST_CMD_SIZE 72u
#define TEST_CMD_MIN 68u

#define D(NR, S, M, F) [KABI_CMD_##NR - KABI_CMD_BASE] = { KABI_IO(KABI_CMD_##NR), S, M, F }
static const struct cmd_desc cmds[] = {
	D(DESTROY, 8, 8, cmd_destroy),
	D(IOAS_ALLOC, 12, 12, cmd_ioas_alloc),
	D(IOAS_ALLOW_IOVAS, 24, 24, cmd_allow_iovas),
	D(IOAS_COPY, 40, 40, cmd_ioas_copy),
	D(IOAS_IOVA_RANGES, 32, 32, cmd_iova_ranges),
	D(IOAS_MAP, 40, 40, cmd_ioas_map),
	D(IOAS_UNMAP, 24, 24, cmd_ioas_unmap),
	D(OPTION, 24, 24, cmd_option),
	D(VFIO_IOAS, 12, 12, cmd_vfio_ioas),
	D(HWPT_ALLOC, 48, 24, emu_cmd_hwpt_alloc),
	D(GET_HW_INFO, 40, 32, emu_cmd_get_hw_info),
	D(HWPT_SET_DIRTY_TRACKING, 16, 16, emu_cmd_set_dirty),
	D(HWPT_GET_DIRTY_BITMAP, 48, 48, emu_cmd_get_dirty),
	D(HWPT_INVALIDATE, 32, 32, emu_cmd_invalidate),
	D(FAULT_QUEUE_ALLOC, 16, 16, emu_cmd_fault_alloc),
	D(IOAS_MAP_FILE, 40, 40, cmd_ioas_map_file),
	D(VIOMMU_ALLOC, 40, 24, emu_cmd_viommu_alloc),
	D(VDEVICE_ALLOC, 24, 24, emu_cmd_vdevice_alloc),
	D(IOAS_CHANGE_PROCESS, 8, 8, cmd_change_process),
	D(VEVENTQ_ALLOC, 32, 28, emu_cmd_veventq_alloc),
	D(HW_QUEUE_ALLOC, 40, 40, emu_cmd_hw_queue_alloc),
	D(TEST, TEST_CMD_SIZE, TEST_CMD_MIN, cmd_test),
};
#undef D

int emu_ictx_ioctl(struct emu_ictx *ictx, unsigned long req, void *arg)
{
	unsigned int nr = req & 0xff;
	const struct cmd_desc *d;
	uint64_t buf[16];
	struct emu_ucmd u;
	uint32_t size;
	int r;

	if (nr < KABI_CMD_BASE || nr >= KABI_CMD_BASE + ARRAY_SIZE(cmds))
		return vfio_compat_ioctl(ictx, req, arg);
	if (emu_copy_from_user(&size, (uintptr_t)arg, sizeof(size)))
		return -EFAULT;
	d = &cmds[nr - KABI_CMD_BASE];
	if (!d->fn || d->req != req)
		return -ENOTTY;
	if (size < d->min)
		return -EINVAL;
	r = emu_copy_struct_from_user(buf, d->ksize, (uintptr_t)arg, size);
	if (r)
		return r;
	u.ictx = ictx;
	u.ubuf = (uintptr_t)arg;
	u.user_size = size;
	u.cmd = buf;
	u.ksize = d->ksize;
	emu_ictx_get(ictx);
	r = d->fn(&u);
	emu_ictx_put(ictx);
	return r;
}
