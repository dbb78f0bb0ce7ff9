// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vIOMMU objects and what hangs off them (the kernel's
 * drivers/iommu/iommufd/viommu.c): VIOMMU_ALLOC and the vIOMMU's mmap region
 * (mmap of the iommufd file), VDEVICE_ALLOC and HW_QUEUE_ALLOC.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emu.h"
#include "iopt.h"

struct emu_vdevice *emu_viommu_find_vdev(struct emu_viommu *v, uint64_t virt_id)
{
	struct emu_ictx *ictx = v->obj.ictx;

	for (uint32_t i = 1; i < ictx->xa_size; i++) {
		struct emu_vdevice *vd =
			(struct emu_vdevice *)emu_obj_find(ictx, i, EMU_OBJ_VDEVICE);

		if (vd && vd->viommu == v && vd->virt_id == virt_id)
			return vd;
	}
	return NULL;
}

/* ------------------------------------------------------------ vIOMMU */

struct mock_viommu_data {
	uint32_t in_data;
	uint32_t out_data;
	uint64_t out_mmap_offset;
	uint64_t out_mmap_length;
};

static void viommu_destroy(struct emu_obj *obj)
{
	struct emu_viommu *v = (struct emu_viommu *)obj;

	if (v->parent)
		v->parent->obj.users--;
	if (v->mmap_mem)
		munmap(v->mmap_mem, v->mmap_len);
	if (v->mmap_fd >= 0)
		close(v->mmap_fd);
	free(v);
}

int emu_cmd_viommu_alloc(struct emu_ucmd *u)
{
	struct kabi_viommu_alloc *cmd = u->cmd;
	struct emu_ictx *ictx = u->ictx;
	struct mock_viommu_data d = { 0 };
	struct emu_viommu *v;
	struct emu_hwpt *parent;
	struct emu_idev *idev;
	int r;

	if (cmd->flags || cmd->type == KABI_VIOMMU_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	idev = emu_idev_find(ictx, cmd->dev_id);
	if (!idev)
		return -ENOENT;
	if (cmd->type != KABI_VIOMMU_TYPE_SELFTEST)
		return -EOPNOTSUPP;
	parent = (struct emu_hwpt *)emu_obj_find(ictx, cmd->hwpt_id, EMU_OBJ_HWPT_PAGING);
	if (!parent)
		return -ENOENT;
	if (!(parent->flags & KABI_HWPT_ALLOC_NEST_PARENT))
		return -EINVAL;
	if (cmd->data_len) {
		r = emu_copy_driver_data(&d, sizeof(d), offsetofend(struct mock_viommu_data, out_data),
					 0, 0, cmd->data_uptr, cmd->data_len);
		if (r)
			return r;
	}
	v = emu_obj_alloc(ictx, EMU_OBJ_VIOMMU, sizeof(*v), viommu_destroy, &r);
	if (!v)
		return r;
	v->mmap_fd = -1;
	v->type = cmd->type;
	v->parent = parent;
	parent->obj.users++;
	v->mmap_len = 2 * EMU_PAGE_SIZE;
	v->mmap_fd = memfd_create("iommufd-emu-viommu", MFD_CLOEXEC);
	if (v->mmap_fd < 0 || ftruncate(v->mmap_fd, v->mmap_len) < 0) {
		r = -ENOMEM;
		goto out_abort;
	}
	v->mmap_mem = mmap(NULL, v->mmap_len, PROT_READ | PROT_WRITE, MAP_SHARED, v->mmap_fd, 0);
	if (v->mmap_mem == MAP_FAILED) {
		v->mmap_mem = NULL;
		r = -ENOMEM;
		goto out_abort;
	}
	v->mmap_off = (ictx->next_mmap_off += 0x10000) << 12;
	if (cmd->data_len) {
		d.out_data = d.in_data;
		d.out_mmap_offset = v->mmap_off;
		d.out_mmap_length = v->mmap_len;
		memcpy(v->mmap_mem, &d.in_data, sizeof(d.in_data));
		r = emu_copy_to_user(cmd->data_uptr, &d,
				     cmd->data_len < sizeof(d) ? cmd->data_len : sizeof(d));
		if (r)
			goto out_abort;
	}
	cmd->out_viommu_id = v->obj.id;
	r = emu_ucmd_respond(u);
	if (r)
		goto out_abort;
	emu_obj_publish(&v->obj);
	return 0;
out_abort:
	emu_obj_abort(&v->obj);
	return r;
}

static void viommu_unmap(void *priv, void *addr, size_t len)
{
	struct emu_viommu *v = priv;

	(void)addr;
	(void)len;
	v->obj.users--;
}

int emu_ictx_mmap(struct emu_ictx *ictx, off_t off, size_t len, int prot, int flags, void **addr)
{
	struct emu_viommu *v = NULL;
	void *p;
	int r;

	/* the VMA covers whole pages: a short length is a length mismatch (ENXIO) */
	len = (len + EMU_PAGE_SIZE - 1) & ~(EMU_PAGE_SIZE - 1);
	if (!(flags & MAP_SHARED))
		return -EINVAL;
	if (prot & PROT_EXEC)
		return -EPERM;
	for (uint32_t i = 1; i < ictx->xa_size && !v; i++) {
		struct emu_viommu *c = (struct emu_viommu *)emu_obj_find(ictx, i, EMU_OBJ_VIOMMU);

		if (c && c->mmap_off == (uint64_t)off)
			v = c;
	}
	if (!v || len != v->mmap_len)
		return -ENXIO;
	if (emu_should_fail(ictx->emu))
		return -ENOMEM;
	p = mmap(NULL, len, prot, flags, v->mmap_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r = emu_mmap_track(ictx->emu, p, len, viommu_unmap, v);
	if (r) {
		munmap(p, len);
		return r;
	}
	v->obj.users++;
	*addr = p;
	return 0;
}

/* ------------------------------------------------------------ vDEVICE */

static void vdevice_destroy(struct emu_obj *obj)
{
	struct emu_vdevice *vd = (struct emu_vdevice *)obj;

	if (vd->viommu)
		vd->viommu->obj.users--;
	if (vd->idev) {
		vd->idev->vdev = NULL;
		vd->idev->obj.users--;
	}
	free(vd);
}

int emu_cmd_vdevice_alloc(struct emu_ucmd *u)
{
	struct kabi_vdevice_alloc *cmd = u->cmd;
	struct emu_ictx *ictx = u->ictx;
	struct emu_viommu *v;
	struct emu_idev *idev;
	struct emu_vdevice *vd;
	int r;

	v = (struct emu_viommu *)emu_obj_find(ictx, cmd->viommu_id, EMU_OBJ_VIOMMU);
	if (!v)
		return -ENOENT;
	idev = emu_idev_find(ictx, cmd->dev_id);
	if (!idev)
		return -ENOENT;
	if (idev->unbinding)
		return -ENOENT;
	if (idev->vdev)
		return -EEXIST;
	if (emu_viommu_find_vdev(v, cmd->virt_id))
		return -EEXIST;
	vd = emu_obj_alloc(ictx, EMU_OBJ_VDEVICE, sizeof(*vd), vdevice_destroy, &r);
	if (!vd)
		return r;
	vd->viommu = v;
	v->obj.users++;
	vd->idev = idev;
	idev->obj.users++;
	idev->vdev = vd;
	vd->virt_id = cmd->virt_id;
	cmd->out_vdevice_id = vd->obj.id;
	r = emu_ucmd_respond(u);
	if (r) {
		emu_obj_abort(&vd->obj);
		return r;
	}
	emu_obj_publish(&vd->obj);
	return 0;
}

/* ------------------------------------------------------------ HW queue */

static void hwq_destroy(struct emu_obj *obj)
{
	struct emu_hw_queue *q = (struct emu_hw_queue *)obj;

	if (q->viommu) {
		if (q->index < 2 && q->viommu->hwq[q->index] == q)
			q->viommu->hwq[q->index] = NULL;
		q->viommu->obj.users--;
	}
	if (q->prev)
		q->prev->obj.users--;
	if (q->access)
		emu_obj_remove(&q->access->obj, false);
	free(q);
}

int emu_cmd_hw_queue_alloc(struct emu_ucmd *u)
{
	struct kabi_hw_queue_alloc *cmd = u->cmd;
	struct emu_ictx *ictx = u->ictx;
	struct emu_hw_queue *q;
	struct emu_viommu *v;
	uint64_t last, ps = EMU_PAGE_SIZE, start, end;
	uint32_t pin_id;
	int r;

	if (cmd->flags || cmd->type == KABI_HW_QUEUE_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->length)
		return -EINVAL;
	if (__builtin_add_overflow(cmd->nesting_parent_iova, cmd->length - 1, &last))
		return -EOVERFLOW;
	v = (struct emu_viommu *)emu_obj_find(ictx, cmd->viommu_id, EMU_OBJ_VIOMMU);
	if (!v)
		return -ENOENT;
	if (cmd->type != KABI_HW_QUEUE_TYPE_SELFTEST)
		return -EOPNOTSUPP;
	q = emu_obj_alloc(ictx, EMU_OBJ_HW_QUEUE, sizeof(*q), hwq_destroy, &r);
	if (!q)
		return r;
	q->index = ~0u;
	r = emu_access_new(ictx, v->parent->ioas, true, true, &q->access);
	if (r)
		goto out_abort;
	start = cmd->nesting_parent_iova & ~(ps - 1);
	end = (last | (ps - 1));
	r = emu_access_pin(q->access, start, end - start + 1, IOPT_PIN_LOCK, 0, &pin_id);
	if (r)
		goto out_abort;
	if (cmd->index >= 2) {
		r = -EINVAL;
		goto out_abort;
	}
	if (v->hwq[cmd->index]) {
		r = -EEXIST;
		goto out_abort;
	}
	if (cmd->index > 0 && !v->hwq[cmd->index - 1]) {
		r = -EIO;
		goto out_abort;
	}
	q->viommu = v;
	v->obj.users++;
	q->index = cmd->index;
	v->hwq[q->index] = q;
	if (q->index > 0) {
		q->prev = v->hwq[q->index - 1];
		q->prev->obj.users++;
	}
	cmd->out_hw_queue_id = q->obj.id;
	r = emu_ucmd_respond(u);
	if (r)
		goto out_abort;
	emu_obj_publish(&q->obj);
	return 0;
out_abort:
	emu_obj_abort(&q->obj);
	return r;
}
