// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * IOAS objects (the kernel's drivers/iommu/iommufd/ioas.c): IOAS_ALLOC,
 * IOAS_IOVA_RANGES, IOAS_ALLOW_IOVAS, IOAS_MAP, IOAS_MAP_FILE, IOAS_COPY,
 * IOAS_UNMAP and IOAS_CHANGE_PROCESS. The interval engine behind an IOAS is
 * iopt.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "iopt.h"

#define U64_MAX UINT64_MAX

struct emu_ioas *emu_ioas_find(struct emu_ictx *ictx, uint32_t id)
{
	return (struct emu_ioas *)emu_obj_find(ictx, id, EMU_OBJ_IOAS);
}

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

struct emu_ioas *emu_ioas_alloc(struct emu_ictx *ictx, int *err)
{
	return emu_obj_alloc(ictx, EMU_OBJ_IOAS, sizeof(struct emu_ioas), ioas_destroy, err);
}

int emu_ictx_new_ioas(struct emu_ictx *ictx, struct emu_ioas **ret)
{
	struct emu_ioas *ioas;
	int r;

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
	*ret = ioas;
	return 0;
}

int emu_cmd_ioas_alloc(struct emu_ucmd *u)
{
	struct kabi_ioas_alloc *cmd = u->cmd;
	struct emu_ioas *ioas;
	int r;

	if (cmd->flags)
		return -EOPNOTSUPP;
	ioas = emu_ioas_alloc(u->ictx, &r);
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

int emu_cmd_ioas_iova_ranges(struct emu_ucmd *u)
{
	struct kabi_ioas_iova_ranges *cmd = u->cmd;
	struct iopt_range *buf = NULL;
	struct emu_ioas *ioas;
	int total, r;
	uint32_t n;

	if (cmd->reserved)
		return -EOPNOTSUPP;
	ioas = emu_ioas_find(u->ictx, cmd->ioas_id);
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

int emu_cmd_ioas_allow_iovas(struct emu_ucmd *u)
{
	struct kabi_ioas_allow_iovas *cmd = u->cmd;
	struct iopt_range *ranges = NULL;
	struct emu_ioas *ioas;
	uint32_t cap = 0;
	int r = 0;

	if (cmd->reserved)
		return -EOPNOTSUPP;
	ioas = emu_ioas_find(u->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	/*
	 * The kernel allocates one node per range it has read
	 * (drivers/iommu/iommufd/ioas.c iommufd_ioas_load_iovas): a num_iovas
	 * past the user's array fails with EFAULT at the first range it cannot
	 * read, never on an allocation of num_iovas ranges up front (a 4G
	 * count made that 64 GiB here). The array grows as ranges are read.
	 */
	for (uint32_t i = 0; i < cmd->num_iovas; i++) {
		if (i == cap) {
			struct iopt_range *p;

			cap = cap ? (cap > cmd->num_iovas / 2 ? cmd->num_iovas : 2 * cap) :
				    (cmd->num_iovas < 16 ? cmd->num_iovas : 16);
			p = emu_realloc(u->ictx->emu, ranges, cap, sizeof(*ranges));
			if (!p) {
				r = -ENOMEM;
				goto out;
			}
			ranges = p;
		}
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

int emu_cmd_ioas_map(struct emu_ucmd *u)
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
	ioas = emu_ioas_find(u->ictx, cmd->ioas_id);
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

int emu_cmd_ioas_map_file(struct emu_ucmd *u)
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
	ioas = emu_ioas_find(u->ictx, cmd->ioas_id);
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
			return -ENODEV; /* vfio_pci_dma_buf_attach() */
		/* vfio_pci_dma_buf_iommufd_map(): one physical range only */
		if (db->vfio && db->nr_ranges != 1)
			return -EOPNOTSUPP;
		mflags |= IOPT_MAP_DMABUF;
	}
	if (emu_should_fail(u->ictx->emu))
		return -ENOMEM;
	/* a vfio dma-buf is the peer's BAR0 memfd from the range's offset on */
	if (db && db->vfio)
		r = iopt_map_file(ioas->iopt, &iova, db->map_fd, db->bar_offset + cmd->start,
				  cmd->length, map_prot(cmd->flags), mflags);
	else
		r = iopt_map_file(ioas->iopt, &iova, cmd->fd, cmd->start, cmd->length,
				  map_prot(cmd->flags), mflags);
	if (r)
		return r;
	cmd->iova = iova;
	return emu_ucmd_respond(u);
}

int emu_cmd_ioas_copy(struct emu_ucmd *u)
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
	src = emu_ioas_find(u->ictx, cmd->src_ioas_id);
	if (!src)
		return -ENOENT;
	r = iopt_copy_collect(src->iopt, cmd->src_iova, cmd->length, &cs);
	if (r)
		return r;
	dst = emu_ioas_find(u->ictx, cmd->dst_ioas_id);
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

int emu_cmd_ioas_unmap(struct emu_ucmd *u)
{
	struct kabi_ioas_unmap *cmd = u->cmd;
	struct emu_ioas *ioas;
	uint64_t unmapped = 0;
	int r;

	ioas = emu_ioas_find(u->ictx, cmd->ioas_id);
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

/* IOMMU_OPTION_HUGE_PAGES of an IOAS: val64 in/out */
int emu_ioas_option(struct emu_ucmd *u)
{
	struct kabi_option *cmd = u->cmd;
	struct emu_ioas *ioas;

	ioas = emu_ioas_find(u->ictx, cmd->object_id);
	if (!ioas)
		return -ENOENT;
	if (cmd->op == KABI_OPTION_OP_GET) {
		cmd->val64 = iopt_get_huge_pages(ioas->iopt);
	} else if (cmd->op == KABI_OPTION_OP_SET) {
		if (cmd->val64 > 1)
			return -EINVAL;
		return iopt_set_huge_pages(ioas->iopt, cmd->val64 == 1);
	} else {
		return -EOPNOTSUPP;
	}
	return 0;
}

int emu_cmd_ioas_change_process(struct emu_ucmd *u)
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
