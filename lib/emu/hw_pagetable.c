// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * HW page tables (the kernel's drivers/iommu/iommufd/hw_pagetable.c), with the
 * selftest mock domain as the "hardware": paging and nested HWPT objects,
 * HWPT_ALLOC, HWPT_SET_DIRTY_TRACKING, HWPT_GET_DIRTY_BITMAP and
 * HWPT_INVALIDATE. Attaching a device to a HWPT is device.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "iopt.h"

#define VIOMMU_INVALIDATE_SELFTEST 0xdeadbeefu
#define TEST_INVALIDATE_FLAG_ALL 1u

/* iommu_copy_struct_from_user: type, then min/max length, then the copy */
int emu_copy_driver_data(void *dst, size_t ksize, size_t min, uint32_t type, uint32_t want,
			 uint64_t uptr, uint32_t len)
{
	if (type != want)
		return -EINVAL;
	if (len < min || len > ksize)
		return -EINVAL;
	return emu_copy_struct_from_user(dst, ksize, uptr, len);
}

/* ------------------------------------------------------------ HWPT objects */

static void ioas_remove_auto(struct emu_ioas *ioas, struct emu_hwpt *hwpt)
{
	for (unsigned int i = 0; i < ioas->nautos; i++) {
		if (ioas->autos[i] == hwpt) {
			memmove(&ioas->autos[i], &ioas->autos[i + 1],
				(ioas->nautos - i - 1) * sizeof(*ioas->autos));
			ioas->nautos--;
			return;
		}
	}
}

static void hwpt_destroy(struct emu_obj *obj)
{
	struct emu_hwpt *hwpt = (struct emu_hwpt *)obj;

	if (hwpt->dirty)
		iopt_dirty_free(hwpt->dirty);
	if (hwpt->ioas) {
		if (hwpt->domain_added)
			iopt_domain_remove(hwpt->ioas->iopt, hwpt);
		ioas_remove_auto(hwpt->ioas, hwpt);
		hwpt->ioas->obj.users--;
	}
	if (hwpt->parent)
		hwpt->parent->obj.users--;
	if (hwpt->viommu)
		hwpt->viommu->obj.users--;
	if (hwpt->fault) {
		emu_fault_flush(hwpt->fault, NULL, hwpt);
		hwpt->fault->obj.users--;
	}
	free(hwpt);
}

int emu_hwpt_paging_new(struct emu_ictx *ictx, struct emu_idev *idev, struct emu_ioas *ioas,
			uint32_t flags, bool auto_domain, bool huge, struct emu_hwpt **ret)
{
	struct emu_hwpt *hwpt;
	int r;

	(void)idev;
	hwpt = emu_obj_alloc(ictx, EMU_OBJ_HWPT_PAGING, sizeof(*hwpt), hwpt_destroy, &r);
	if (!hwpt)
		return r;
	hwpt->flags = flags;
	hwpt->auto_domain = auto_domain;
	hwpt->huge = huge;
	hwpt->ioas = ioas;
	ioas->obj.users++;
	if (emu_should_fail(ictx->emu)) {
		r = -ENOMEM;
		goto fail;
	}
	if (huge) /* the "huge" mock format: a 38-bit address space (seen on 7.2) */
		r = iopt_domain_add(ioas->iopt, hwpt, iopt_page_size(), 0, (1ull << 38) - 1);
	else if (idev && idev->dev && idev->dev->aperture_last)
		r = iopt_domain_add(ioas->iopt, hwpt, 4096, 0, idev->dev->aperture_last);
	else
		r = iopt_domain_add(ioas->iopt, hwpt, EMU_MOCK_PAGE_SIZE, EMU_MOCK_APERTURE_START,
				    EMU_MOCK_APERTURE_LAST);
	if (r)
		goto fail;
	hwpt->domain_added = true;
	if (flags & KABI_HWPT_ALLOC_DIRTY_TRACKING) {
		uint64_t granule = EMU_MOCK_PAGE_SIZE;

		/* the huge mock format maps (hugepage) memory with 1 MiB leaves, so a
		 * dirty mark covers 1 MiB; a VT-d like device has 4 KiB PTEs */
		if (huge)
			granule = 512 * EMU_MOCK_PAGE_SIZE;
		else if (idev && idev->dev && idev->dev->aperture_last)
			granule = iopt_page_size();
		r = iopt_dirty_new(ioas->iopt, granule, &hwpt->dirty);
		if (r)
			goto fail;
	}
	if (auto_domain) {
		struct emu_hwpt **p = emu_realloc(ictx->emu, ioas->autos, ioas->nautos + 1,
						  sizeof(*p));

		if (!p) {
			r = -ENOMEM;
			goto fail;
		}
		ioas->autos = p;
		p[ioas->nautos++] = hwpt;
	}
	*ret = hwpt;
	return 0;
fail:
	emu_obj_abort(&hwpt->obj);
	return r;
}

/* the paging HWPT that translates for hwpt (itself, its parent, or its vIOMMU's parent) */
struct emu_hwpt *emu_hwpt_paging(struct emu_hwpt *hwpt)
{
	if (!hwpt)
		return NULL;
	if (hwpt->obj.type == EMU_OBJ_HWPT_PAGING)
		return hwpt;
	if (hwpt->parent)
		return hwpt->parent;
	if (hwpt->viommu)
		return hwpt->viommu->parent;
	return NULL;
}

/* drop one attachment ref; an auto-HWPT left without users goes away */
void emu_hwpt_put_attach(struct emu_hwpt *hwpt)
{
	hwpt->nattach--;
	hwpt->obj.users--;
	if (hwpt->auto_domain && hwpt->obj.users == 1 && hwpt->obj.published)
		emu_obj_remove(&hwpt->obj, false);
}

/* ------------------------------------------------------------ HWPT_ALLOC */

struct mock_hwpt_data {
	uint32_t iotlb;
	uint32_t pagetable_type;
};

int emu_cmd_hwpt_alloc(struct emu_ucmd *u)
{
	struct kabi_hwpt_alloc *cmd = u->cmd;
	struct emu_ictx *ictx = u->ictx;
	struct emu_hwpt *hwpt = NULL;
	struct emu_idev *idev;
	struct emu_obj *pt;
	int r;

	if (cmd->reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == KABI_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != KABI_HWPT_DATA_NONE && !cmd->data_len))
		return -EINVAL;
	idev = emu_idev_find(ictx, cmd->dev_id);
	if (!idev)
		return -ENOENT;
	pt = emu_obj_find(ictx, cmd->pt_id, EMU_OBJ_ANY);
	if (!pt)
		return -EINVAL;

	if (pt->type == EMU_OBJ_IOAS) {
		const uint32_t valid = KABI_HWPT_ALLOC_NEST_PARENT |
				       KABI_HWPT_ALLOC_DIRTY_TRACKING | KABI_HWPT_FAULT_ID_VALID |
				       KABI_HWPT_ALLOC_PASID;
		struct mock_hwpt_data d = { 0 };

		if (cmd->flags & ~valid)
			return -EOPNOTSUPP;
		/* drivers/iommu/intel/iommu.c intel_iommu_domain_alloc_paging_flags:
		 * QEMU's VT-d has no nesting (ecap NEST) nor dirty tracking */
		if ((cmd->flags & KABI_HWPT_ALLOC_NEST_PARENT) &&
		    (idev->dev->flags & EMU_DEV_NO_NEST))
			return -EOPNOTSUPP;
		if ((cmd->flags & KABI_HWPT_ALLOC_DIRTY_TRACKING) &&
		    (idev->dev->flags & EMU_DEV_NO_DIRTY))
			return -EOPNOTSUPP;
		if ((cmd->flags & KABI_HWPT_FAULT_ID_VALID) &&
		    (cmd->flags & KABI_HWPT_ALLOC_NEST_PARENT))
			return -EOPNOTSUPP;
		if (cmd->data_len) {
			if (cmd->data_type != KABI_HWPT_DATA_SELFTEST)
				return -EOPNOTSUPP;
			r = emu_copy_driver_data(&d, sizeof(d),
						 offsetofend(struct mock_hwpt_data, iotlb),
						 cmd->data_type, KABI_HWPT_DATA_SELFTEST,
						 cmd->data_uptr, cmd->data_len);
			if (r)
				return r;
			if (d.pagetable_type > 1)
				return -EOPNOTSUPP;
		}
		r = emu_hwpt_paging_new(ictx, idev, (struct emu_ioas *)pt,
					cmd->flags & ~KABI_HWPT_FAULT_ID_VALID, false,
					d.pagetable_type == 1, &hwpt);
		if (r)
			return r;
		hwpt->flags = cmd->flags & ~KABI_HWPT_FAULT_ID_VALID;
	} else if (pt->type == EMU_OBJ_HWPT_PAGING || pt->type == EMU_OBJ_VIOMMU) {
		struct emu_hwpt *parent = NULL;
		struct emu_viommu *viommu = NULL;
		struct mock_hwpt_data d = { 0 };

		if (pt->type == EMU_OBJ_HWPT_PAGING)
			parent = (struct emu_hwpt *)pt;
		else
			viommu = (struct emu_viommu *)pt;
		if (cmd->flags & ~(KABI_HWPT_FAULT_ID_VALID | KABI_HWPT_ALLOC_PASID))
			return -EOPNOTSUPP;
		if (!cmd->data_len)
			return -EOPNOTSUPP;
		if (parent && (parent->auto_domain ||
			       !(parent->flags & KABI_HWPT_ALLOC_NEST_PARENT)))
			return -EINVAL;
		if (cmd->data_type != KABI_HWPT_DATA_SELFTEST)
			return -EOPNOTSUPP;
		r = emu_copy_driver_data(&d, sizeof(d), offsetofend(struct mock_hwpt_data, iotlb),
					 cmd->data_type, KABI_HWPT_DATA_SELFTEST, cmd->data_uptr,
					 cmd->data_len);
		if (r)
			return r;
		hwpt = emu_obj_alloc(ictx, EMU_OBJ_HWPT_NESTED, sizeof(*hwpt), hwpt_destroy, &r);
		if (!hwpt)
			return r;
		hwpt->flags = cmd->flags & ~KABI_HWPT_FAULT_ID_VALID;
		hwpt->parent = parent;
		hwpt->viommu = viommu;
		if (parent)
			parent->obj.users++;
		if (viommu)
			viommu->obj.users++;
		for (int i = 0; i < 4; i++)
			hwpt->iotlb[i] = d.iotlb;
	} else {
		return -EINVAL;
	}

	if (cmd->flags & KABI_HWPT_FAULT_ID_VALID) {
		struct emu_fault *fault =
			(struct emu_fault *)emu_obj_find(ictx, cmd->fault_id, EMU_OBJ_FAULT);

		if (!fault) {
			r = -ENOENT;
			goto out_abort;
		}
		hwpt->fault = fault;
		fault->obj.users++;
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	r = emu_ucmd_respond(u);
	if (r)
		goto out_abort;
	emu_obj_publish(&hwpt->obj);
	return 0;
out_abort:
	emu_obj_abort(&hwpt->obj);
	return r;
}

/* ------------------------------------------------------------ dirty tracking */

int emu_cmd_hwpt_set_dirty_tracking(struct emu_ucmd *u)
{
	struct kabi_hwpt_set_dirty_tracking *cmd = u->cmd;
	struct emu_hwpt *hwpt;
	bool enable = cmd->flags & KABI_HWPT_DIRTY_TRACKING_ENABLE;

	if (cmd->flags & ~KABI_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	hwpt = (struct emu_hwpt *)emu_obj_find(u->ictx, cmd->hwpt_id, EMU_OBJ_HWPT_PAGING);
	if (!hwpt)
		return -ENOENT;
	if (!hwpt->dirty)
		return -EOPNOTSUPP;
	if (enable && !hwpt->dirty_enabled)
		iopt_dirty_clear(hwpt->dirty);
	hwpt->dirty_enabled = enable;
	return 0;
}

int emu_cmd_hwpt_get_dirty_bitmap(struct emu_ucmd *u)
{
	struct kabi_hwpt_get_dirty_bitmap *cmd = u->cmd;
	struct emu_hwpt *hwpt;
	uint64_t last, align, nbits, chunk = 1ull << 18, *bm;

	if ((cmd->flags & ~KABI_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || cmd->reserved)
		return -EOPNOTSUPP;
	hwpt = (struct emu_hwpt *)emu_obj_find(u->ictx, cmd->hwpt_id, EMU_OBJ_HWPT_PAGING);
	if (!hwpt)
		return -ENOENT;
	if (__builtin_add_overflow(cmd->iova, cmd->length - 1, &last))
		return -EOVERFLOW;
	align = iopt_iova_alignment(hwpt->ioas->iopt);
	if ((cmd->iova & (align - 1)) || ((last + 1) & (align - 1)))
		return -EINVAL;
	if (!cmd->page_size)
		return -EINVAL;
	if ((cmd->iova & (cmd->page_size - 1)) || ((last + 1) & (cmd->page_size - 1)))
		return -EINVAL;
	if (!hwpt->dirty)
		return -EOPNOTSUPP;
	nbits = cmd->length / cmd->page_size;
	/* the buffer before any bit is read (and cleared): ENOMEM changes nothing */
	bm = emu_calloc(u->ictx->emu, ((nbits < chunk ? nbits : chunk) + 63) / 64, 8);
	if (!bm)
		return -ENOMEM;
	/* walk in chunks of bits; user words only ever get bits ORed in */
	for (uint64_t b = 0; b < nbits; b += chunk) {
		uint64_t n, first;

		/* only the dirty parts: a huge clean range must not be walked bit by bit
		 * (the kernel's cost is the dirty walk, not the length); b stays a
		 * multiple of 64 so that bm's words line up with the user's */
		if (!iopt_dirty_first(hwpt->dirty, cmd->iova + b * cmd->page_size, last, &first))
			break;
		if ((first - cmd->iova) / cmd->page_size / 64 * 64 > b)
			b = (first - cmd->iova) / cmd->page_size / 64 * 64;
		n = nbits - b < chunk ? nbits - b : chunk;
		memset(bm, 0, (n + 63) / 64 * 8);
		/* read, OR into the user's bitmap, then clear. The kernel pins the
		 * user's bitmap only when it has a bit to set and drops the bits it
		 * cannot write; the call still succeeds and still clears
		 * (drivers/iommu/iommufd/iova_bitmap.c iova_bitmap_set(), whose
		 * failure io_pagetable.c iopt_read_and_clear_dirty_data() never
		 * sees): a word that cannot be written loses its bits here too */
		iopt_dirty_read(hwpt->dirty, cmd->iova + b * cmd->page_size, n * cmd->page_size,
				cmd->page_size, bm, true);
		for (uint64_t w = 0; w < (n + 63) / 64; w++) {
			uint64_t uw, addr = cmd->data + (b / 64 + w) * 8;

			if (!bm[w] || emu_copy_from_user(&uw, addr, 8))
				continue;
			uw |= bm[w];
			(void)emu_copy_to_user(addr, &uw, 8);
		}
		if (!(cmd->flags & KABI_HWPT_GET_DIRTY_BITMAP_NO_CLEAR))
			iopt_dirty_read(hwpt->dirty, cmd->iova + b * cmd->page_size,
					n * cmd->page_size, cmd->page_size, bm, false);
	}
	free(bm);
	return 0;
}

/* ------------------------------------------------------------ INVALIDATE */

struct mock_hwpt_inv {
	uint32_t flags;
	uint32_t iotlb_id;
};

struct mock_viommu_inv {
	uint32_t flags;
	uint32_t vdev_id;
	uint32_t cache_id;
};

static int inv_nested(struct emu_hwpt *hwpt, struct kabi_hwpt_invalidate *cmd, uint32_t *done)
{
	uint32_t i;

	if (cmd->data_type != KABI_HWPT_INVALIDATE_DATA_SELFTEST)
		return -EINVAL;
	for (i = 0; i < cmd->entry_num; i++) {
		struct mock_hwpt_inv e;
		int r;

		/* iommu_copy_struct_from_user_array: a driver payload, so the
		 * entry length must lie in [min, sizeof] (EINVAL) */
		r = emu_copy_driver_data(&e, sizeof(e), offsetofend(struct mock_hwpt_inv, iotlb_id),
					 cmd->data_type, KABI_HWPT_INVALIDATE_DATA_SELFTEST,
					 cmd->data_uptr + (uint64_t)i * cmd->entry_len,
					 cmd->entry_len);
		if (r)
			goto out;
		if (e.flags & ~TEST_INVALIDATE_FLAG_ALL) {
			r = -EOPNOTSUPP;
			goto out;
		}
		if (e.flags & TEST_INVALIDATE_FLAG_ALL) {
			memset(hwpt->iotlb, 0, sizeof(hwpt->iotlb));
		} else {
			if (e.iotlb_id > 3) {
				r = -EINVAL;
				goto out;
			}
			hwpt->iotlb[e.iotlb_id] = 0;
		}
		continue;
out:
		*done = i;
		return r;
	}
	*done = i;
	return 0;
}

static int inv_viommu(struct emu_viommu *v, struct kabi_hwpt_invalidate *cmd, uint32_t *done)
{
	struct mock_viommu_inv *e;
	uint32_t i;
	int r = 0;

	if (cmd->data_type != VIOMMU_INVALIDATE_SELFTEST)
		return -EINVAL;
	if (!cmd->entry_num)
		return 0;
	/* the whole array is read first (iommu_copy_struct_from_full_user_array):
	 * a bad entry there means none is handled */
	e = emu_calloc(v->obj.ictx->emu, cmd->entry_num, sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (i = 0; i < cmd->entry_num && !r; i++)
		r = emu_copy_struct_from_user(&e[i], sizeof(*e),
					      cmd->data_uptr + (uint64_t)i * cmd->entry_len,
					      cmd->entry_len);
	for (i = 0; !r && i < cmd->entry_num; i++) {
		struct emu_vdevice *vd;

		if (e[i].flags & ~TEST_INVALIDATE_FLAG_ALL) {
			r = -EOPNOTSUPP;
			break;
		}
		if (e[i].cache_id > 3) {
			r = -EINVAL;
			break;
		}
		vd = emu_viommu_find_vdev(v, e[i].vdev_id);
		if (!vd) {
			r = -EINVAL;
			break;
		}
		if (e[i].flags & TEST_INVALIDATE_FLAG_ALL)
			memset(vd->idev->dev->cache, 0, sizeof(vd->idev->dev->cache));
		else
			vd->idev->dev->cache[e[i].cache_id] = 0;
	}
	*done = i;
	free(e);
	return r;
}

int emu_cmd_hwpt_invalidate(struct emu_ucmd *u)
{
	struct kabi_hwpt_invalidate *cmd = u->cmd;
	struct emu_obj *obj;
	uint32_t done = 0;
	int r;

	if (cmd->reserved) {
		r = -EOPNOTSUPP;
		goto out;
	}
	if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len ||
			       cmd->entry_len > EMU_PAGE_SIZE || cmd->entry_num > (1u << 19))) {
		r = -EINVAL;
		goto out;
	}
	obj = emu_obj_find(u->ictx, cmd->hwpt_id, EMU_OBJ_ANY);
	if (!obj) {
		r = -ENOENT;
		goto out;
	}
	if (obj->type == EMU_OBJ_HWPT_NESTED)
		r = inv_nested((struct emu_hwpt *)obj, cmd, &done);
	else if (obj->type == EMU_OBJ_VIOMMU)
		r = inv_viommu((struct emu_viommu *)obj, cmd, &done);
	else
		r = -EINVAL;
out:
	cmd->entry_num = done;
	if (emu_ucmd_respond(u))
		return -EFAULT;
	return r;
}
