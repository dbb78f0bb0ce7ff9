// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Devices behind the emulated IOMMU (bind/attach/replace/detach/unbind, §4.4-4.7),
 * HWPTs with the selftest mock domain as the "hardware", and the HWPT_ALLOC,
 * GET_HW_INFO, dirty tracking, INVALIDATE, VIOMMU_ALLOC, VDEVICE_ALLOC and
 * HW_QUEUE_ALLOC commands (§3.14-3.23).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emu.h"
#include "iopt.h"

#define U64_MAX UINT64_MAX
#define MOCK_IOTLB_DEFAULT 0xbadbeefu
#define MOCK_DEV_CACHE_DEFAULT 0xbaddadu
#define MOCK_PASID_RESERVED 1024u
#define MOCK_HW_INFO_REGVAL 0xdeadbeefu
#define VIOMMU_INVALIDATE_SELFTEST 0xdeadbeefu
#define TEST_INVALIDATE_FLAG_ALL 1u

/* ------------------------------------------------------------ groups */

struct emu_group *emu_group_new(struct iommufd_emu *emu)
{
	struct emu_group *g = calloc(1, sizeof(*g));

	if (g)
		g->emu = emu;
	return g;
}

void emu_group_free(struct emu_group *g)
{
	if (g)
		free(g->members);
	free(g);
}

/* iommu_copy_struct_from_user: type, then min/max length, then the copy */
static int copy_driver_data(void *dst, size_t ksize, size_t min, uint32_t type, uint32_t want,
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
static struct emu_hwpt *hwpt_paging(struct emu_hwpt *hwpt)
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

/* ------------------------------------------------------------ devices */

struct emu_idev *emu_idev_find(struct emu_ictx *ictx, uint32_t id)
{
	return (struct emu_idev *)emu_obj_find(ictx, id, EMU_OBJ_DEVICE);
}

static void idev_destroy(struct emu_obj *obj)
{
	struct emu_idev *idev = (struct emu_idev *)obj;

	free(idev->att);
	free(idev);
}

int emu_device_bind(struct emu_ictx *ictx, struct emu_dev *dev, uint32_t *dev_id)
{
	struct emu_group *g = dev->group;
	struct emu_idev *idev;
	int r;

	if (dev->idev)
		return -EINVAL;
	if (g && g->owner && g->owner != ictx)
		return -EPERM;
	idev = emu_obj_alloc(ictx, EMU_OBJ_DEVICE, sizeof(*idev), idev_destroy, &r);
	if (!idev)
		return r;
	idev->dev = dev;
	idev->obj.users++; /* the binding driver's ref */
	dev->idev = idev;
	if (g) {
		struct emu_idev **m = emu_realloc(ictx->emu, g->members, g->owner_cnt + 1,
						  sizeof(*m));

		if (!m) {
			dev->idev = NULL;
			emu_obj_abort(&idev->obj);
			return -ENOMEM;
		}
		g->members = m;
		m[g->owner_cnt++] = idev;
		g->owner = ictx;
	}
	for (int i = 0; i < 4; i++)
		dev->cache[i] = MOCK_DEV_CACHE_DEFAULT;
	if (!(dev->flags & EMU_DEV_MOCK)) {
		emu_ictx_get(ictx);
		idev->holds_file_ref = true;
	}
	emu_obj_publish(&idev->obj);
	*dev_id = idev->obj.id;
	return 0;
}

static struct emu_attach *att_find(struct emu_idev *idev, uint32_t pasid)
{
	for (unsigned int i = 0; i < idev->natt; i++)
		if (idev->att[i].pasid == pasid && idev->att[i].hwpt)
			return &idev->att[i];
	return NULL;
}

static bool any_pasid_attached(struct emu_idev *idev)
{
	for (unsigned int i = 0; i < idev->natt; i++)
		if (idev->att[i].pasid != EMU_NO_PASID && idev->att[i].hwpt)
			return true;
	return false;
}

static struct emu_attach *att_slot(struct emu_idev *idev, uint32_t pasid)
{
	struct emu_attach *a;

	for (unsigned int i = 0; i < idev->natt; i++)
		if (idev->att[i].pasid == pasid)
			return &idev->att[i];
	a = emu_realloc(idev->obj.ictx->emu, idev->att, idev->natt + 1, sizeof(*a));
	if (!a)
		return NULL;
	idev->att = a;
	a = &idev->att[idev->natt++];
	memset(a, 0, sizeof(*a));
	a->pasid = pasid;
	return a;
}

static void resv_remove(struct emu_idev *idev, struct emu_hwpt *old)
{
	struct emu_hwpt *p = hwpt_paging(old);

	if (p && idev->dev->nresv)
		iopt_unreserve(p->ioas->iopt, idev);
}

/*
 * Check that hwpt can take (idev, pasid) and apply reserved regions.
 * cur: the current attachment (replace) or NULL.
 */
static int hwpt_check_attach(struct emu_idev *idev, uint32_t pasid, struct emu_hwpt *hwpt,
			     struct emu_hwpt *cur)
{
	struct emu_dev *dev = idev->dev;
	struct emu_hwpt *paging = hwpt_paging(hwpt);
	struct emu_attach *slot;

	if (pasid != EMU_NO_PASID) {
		struct emu_attach *rid = att_find(idev, EMU_NO_PASID);

		if (!(dev->flags & EMU_DEV_PASID))
			return -EINVAL;
		if (!(hwpt->flags & KABI_HWPT_ALLOC_PASID))
			return -EINVAL;
		if (rid && !(rid->hwpt->flags & KABI_HWPT_ALLOC_PASID))
			return -EINVAL;
	} else {
		if (any_pasid_attached(idev) && !(hwpt->flags & KABI_HWPT_ALLOC_PASID))
			return -EINVAL;
		if (!cur && dev->group && dev->group->hwpt && dev->group->hwpt != hwpt)
			return -EINVAL;
	}
	if ((hwpt_paging(hwpt)->flags & KABI_HWPT_ALLOC_DIRTY_TRACKING) &&
	    (dev->flags & EMU_DEV_NO_DIRTY))
		return -EINVAL;
	if (hwpt->viommu && (!idev->vdev || idev->vdev->viommu != hwpt->viommu))
		return -ENOENT;
	slot = cur ? att_find(idev, pasid) : NULL;
	if (slot && slot->fake_error) {
		slot->fake_error = false;
		return -ENOMEM;
	}
	if (pasid == EMU_NO_PASID && dev->nresv && paging) {
		struct emu_hwpt *curp = hwpt_paging(cur);

		if (!curp || curp->ioas != paging->ioas) {
			for (unsigned int i = 0; i < dev->nresv; i++) {
				int r = iopt_reserve(paging->ioas->iopt, dev->resv[i].start,
						     dev->resv[i].last, idev);

				if (r) {
					iopt_unreserve(paging->ioas->iopt, idev);
					return r;
				}
			}
		}
	}
	return 0;
}

/* commit: (idev, pasid) now on hwpt, replacing cur; the slot exists (do_attach) */
static int hwpt_commit_attach(struct emu_idev *idev, uint32_t pasid, struct emu_hwpt *hwpt,
			      struct emu_hwpt *cur)
{
	struct emu_attach *a = att_slot(idev, pasid);
	struct emu_group *g = idev->dev->group;

	if (!a)
		return -ENOMEM;
	a->hwpt = hwpt;
	hwpt->nattach++;
	hwpt->obj.users++;
	if (pasid == EMU_NO_PASID && g) {
		g->hwpt = hwpt;
		if (!cur)
			g->nattached++;
	}
	if (!cur) {
		idev->obj.users++;
	} else {
		struct emu_hwpt *curp = hwpt_paging(cur), *np = hwpt_paging(hwpt);

		/* a RID replace moves the whole group (§4.4 step 6) */
		for (int i = 0; pasid == EMU_NO_PASID && g && i < g->owner_cnt; i++) {
			struct emu_idev *o = g->members[i];
			struct emu_attach *oa = o == idev ? NULL : att_find(o, EMU_NO_PASID);

			if (!oa || oa->hwpt != cur)
				continue;
			oa->hwpt = hwpt;
			hwpt->nattach++;
			hwpt->obj.users++;
			if (cur->fault)
				emu_fault_flush(cur->fault, o, cur);
			if (curp && (!np || np->ioas != curp->ioas))
				resv_remove(o, cur);
			cur->nattach--;
			cur->obj.users--;
		}
		if (cur->fault)
			emu_fault_flush(cur->fault, idev, cur);
		if (pasid == EMU_NO_PASID && curp && (!np || np->ioas != curp->ioas))
			resv_remove(idev, cur);
		emu_hwpt_put_attach(cur);
	}
	if (pasid == MOCK_PASID_RESERVED && (idev->dev->flags & EMU_DEV_MOCK) && !cur)
		a->fake_error = true;
	return 0;
}

static int do_attach(struct emu_dev *dev, uint32_t pasid, uint32_t *pt_id, bool replace)
{
	struct emu_idev *idev = dev->idev;
	struct emu_ictx *ictx;
	struct emu_attach *cur_att;
	struct emu_hwpt *cur, *hwpt;
	struct emu_obj *pt;
	int r;

	if (!idev)
		return -EINVAL;
	ictx = idev->obj.ictx;
	pt = emu_obj_find(ictx, *pt_id, EMU_OBJ_ANY);
	if (!pt)
		return -ENOENT;
	if (pt->type != EMU_OBJ_IOAS && pt->type != EMU_OBJ_HWPT_PAGING &&
	    pt->type != EMU_OBJ_HWPT_NESTED)
		return -EINVAL;
	cur_att = att_find(idev, pasid);
	cur = cur_att ? cur_att->hwpt : NULL;
	if (replace && !cur)
		return -EINVAL;
	if (!replace && cur)
		return -EBUSY;
	/* the attachment slot first: once reserved regions are applied by
	 * hwpt_check_attach(), the commit must not fail */
	if (!att_slot(idev, pasid))
		return -ENOMEM;

	if (pt->type != EMU_OBJ_IOAS) {
		hwpt = (struct emu_hwpt *)pt;
		if (hwpt == cur)
			return 0;
		r = hwpt_check_attach(idev, pasid, hwpt, cur);
		if (r)
			return r;
		r = hwpt_commit_attach(idev, pasid, hwpt, cur);
		if (r)
			return r;
		*pt_id = hwpt->obj.id;
		return 0;
	}

	/* an IOAS: the auto domains in creation order, else a new one */
	struct emu_ioas *ioas = (struct emu_ioas *)pt;

	if (pasid != EMU_NO_PASID)
		return -EINVAL; /* auto domains are never pasid-compatible */
	for (unsigned int i = 0; i < ioas->nautos; i++) {
		hwpt = ioas->autos[i];
		if (hwpt == cur) {
			*pt_id = hwpt->obj.id; /* same auto domain: no-op, pt_id is the HWPT */
			return 0;
		}
		r = hwpt_check_attach(idev, pasid, hwpt, cur);
		if (r == -EINVAL)
			continue;
		if (r)
			return r;
		r = hwpt_commit_attach(idev, pasid, hwpt, cur);
		if (r)
			return r;
		*pt_id = hwpt->obj.id;
		return 0;
	}
	r = emu_hwpt_paging_new(ictx, idev, ioas, 0, true, false, &hwpt);
	if (r)
		return r;
	r = hwpt_check_attach(idev, pasid, hwpt, cur);
	if (!r)
		r = hwpt_commit_attach(idev, pasid, hwpt, cur);
	if (r) {
		emu_obj_abort(&hwpt->obj);
		return r;
	}
	emu_obj_publish(&hwpt->obj);
	*pt_id = hwpt->obj.id;
	return 0;
}

int emu_device_attach(struct emu_dev *dev, uint32_t pasid, uint32_t *pt_id)
{
	return do_attach(dev, pasid, pt_id, false);
}

int emu_device_replace(struct emu_dev *dev, uint32_t pasid, uint32_t *pt_id)
{
	return do_attach(dev, pasid, pt_id, true);
}

void emu_device_detach(struct emu_dev *dev, uint32_t pasid)
{
	struct emu_idev *idev = dev->idev;
	struct emu_attach *a;
	struct emu_hwpt *hwpt;
	struct emu_group *g = dev->group;

	if (!idev || !(a = att_find(idev, pasid)))
		return;
	hwpt = a->hwpt;
	a->hwpt = NULL;
	a->fake_error = false;
	if (hwpt->fault)
		emu_fault_flush(hwpt->fault, idev, hwpt);
	if (pasid == EMU_NO_PASID) {
		resv_remove(idev, hwpt);
		if (g && --g->nattached == 0)
			g->hwpt = NULL;
	}
	idev->obj.users--;
	emu_hwpt_put_attach(hwpt);
}

uint32_t emu_device_attached_hwpt(struct emu_dev *dev, uint32_t pasid)
{
	struct emu_attach *a = dev->idev ? att_find(dev->idev, pasid) : NULL;

	return a ? a->hwpt->obj.id : 0;
}

uint32_t emu_device_id(struct emu_dev *dev)
{
	return dev->idev ? dev->idev->obj.id : 0;
}

struct emu_ictx *emu_device_ictx(struct emu_dev *dev)
{
	return dev->idev ? dev->idev->obj.ictx : NULL;
}

void emu_device_unbind(struct emu_dev *dev)
{
	struct emu_idev *idev = dev->idev;
	struct emu_ictx *ictx;
	struct emu_group *g = dev->group;
	bool file_ref;

	if (!idev)
		return;
	ictx = idev->obj.ictx;
	idev->unbinding = true;
	for (unsigned int i = 0; i < idev->natt; i++)
		if (idev->att[i].pasid != EMU_NO_PASID && idev->att[i].hwpt)
			emu_device_detach(dev, idev->att[i].pasid);
	emu_device_detach(dev, EMU_NO_PASID);
	if (idev->vdev)
		emu_obj_remove(&idev->vdev->obj, true);
	if (g) {
		for (int i = 0; i < g->owner_cnt; i++) {
			if (g->members[i] == idev) {
				g->members[i] = g->members[--g->owner_cnt];
				break;
			}
		}
		if (g->owner_cnt == 0) {
			g->owner = NULL;
			g->hwpt = NULL;
		}
	}
	file_ref = idev->holds_file_ref;
	dev->idev = NULL;
	emu_obj_remove(&idev->obj, false);
	if (file_ref)
		emu_ictx_put(ictx);
}

/* ------------------------------------------------------------ DMA, IOPF, vEVENT */

int emu_device_dma(struct emu_dev *dev, uint32_t pasid, uint64_t iova, void *buf, size_t len,
		   bool write)
{
	struct emu_attach *a = dev->idev ? att_find(dev->idev, pasid) : NULL;
	struct emu_hwpt *p;
	int r;

	if (!a)
		return -ENODEV;
	p = hwpt_paging(a->hwpt);
	if (!p)
		return -ENODEV;
	r = iopt_access_rw(p->ioas->iopt, iova, buf, len,
			   IOPT_RW_DEVICE | (write ? IOPT_RW_WRITE : 0));
	if (!r && write && p->dirty && p->dirty_enabled)
		iopt_dirty_mark(p->dirty, iova, len);
	return r;
}

int emu_device_iopf(struct emu_dev *dev, uint32_t pasid, uint32_t grpid, uint32_t perm,
		    uint64_t addr)
{
	struct emu_attach *a = dev->idev ? att_find(dev->idev, pasid) : NULL;
	struct kabi_hwpt_pgfault rec = { 0 };

	/* the mock has a user-managed PASID table: a fault on a pasid without
	 * its own domain goes to the nested domain on the RID */
	if (!a && pasid != EMU_NO_PASID && dev->idev) {
		a = att_find(dev->idev, EMU_NO_PASID);
		if (a && a->hwpt->obj.type != EMU_OBJ_HWPT_NESTED)
			a = NULL;
	}
	if (!a)
		return -ENODEV;
	if (!a->hwpt->fault)
		return -EOPNOTSUPP;
	rec.flags = KABI_PGFAULT_FLAGS_LAST_PAGE | (pasid ? KABI_PGFAULT_FLAGS_PASID_VALID : 0);
	rec.dev_id = dev->idev->obj.id;
	rec.pasid = pasid;
	rec.grpid = grpid;
	rec.perm = perm;
	rec.addr = addr;
	return emu_fault_report(a->hwpt->fault, dev->idev, a->hwpt, &rec);
}

int emu_device_vevent(struct emu_dev *dev)
{
	struct emu_idev *idev = dev->idev;
	struct emu_attach *a = idev ? att_find(idev, EMU_NO_PASID) : NULL;
	struct emu_veventq *q;
	uint32_t virt;

	/* the vIOMMU of the device's current (nested) domain */
	if (!a || !a->hwpt->viommu)
		return -ENOENT;
	if (!idev->vdev || idev->vdev->viommu != a->hwpt->viommu)
		return -ENOENT;
	q = emu_viommu_find_veventq(idev->vdev->viommu, KABI_VEVENTQ_TYPE_SELFTEST);
	if (!q)
		return -EOPNOTSUPP;
	virt = (uint32_t)idev->vdev->virt_id;
	return emu_veventq_report(q, &virt, sizeof(virt));
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
		if ((cmd->flags & KABI_HWPT_ALLOC_DIRTY_TRACKING) &&
		    (idev->dev->flags & EMU_DEV_NO_DIRTY))
			return -EOPNOTSUPP;
		if ((cmd->flags & KABI_HWPT_FAULT_ID_VALID) &&
		    (cmd->flags & KABI_HWPT_ALLOC_NEST_PARENT))
			return -EOPNOTSUPP;
		if (cmd->data_len) {
			if (cmd->data_type != KABI_HWPT_DATA_SELFTEST)
				return -EOPNOTSUPP;
			/* min length: offsetofend(iotlb) */
			r = copy_driver_data(&d, sizeof(d), sizeof(uint32_t), cmd->data_type,
					     KABI_HWPT_DATA_SELFTEST, cmd->data_uptr,
					     cmd->data_len);
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
		r = copy_driver_data(&d, sizeof(d), sizeof(uint32_t), cmd->data_type,
				     KABI_HWPT_DATA_SELFTEST, cmd->data_uptr, cmd->data_len);
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

/* ------------------------------------------------------------ GET_HW_INFO */

int emu_cmd_get_hw_info(struct emu_ucmd *u)
{
	struct kabi_hw_info *cmd = u->cmd;
	struct kabi_hw_info_selftest info = { .flags = 0, .test_reg = MOCK_HW_INFO_REGVAL };
	struct emu_idev *idev;
	uint32_t type, n;
	int r;

	if (cmd->flags & ~KABI_HW_INFO_FLAG_INPUT_TYPE)
		return -EOPNOTSUPP;
	if (cmd->reserved[0] || cmd->reserved[1] || cmd->reserved[2])
		return -EOPNOTSUPP;
	type = cmd->flags & KABI_HW_INFO_FLAG_INPUT_TYPE ? cmd->data_type : 0;
	idev = emu_idev_find(u->ictx, cmd->dev_id);
	if (!idev)
		return -ENOENT;
	if (type != KABI_HW_INFO_TYPE_NONE && type != KABI_HW_INFO_TYPE_SELFTEST)
		return -EOPNOTSUPP;
	n = cmd->data_len < sizeof(info) ? cmd->data_len : sizeof(info);
	r = emu_copy_to_user(cmd->data_uptr, &info, n);
	if (r)
		return r;
	if (cmd->data_len > n) {
		r = emu_clear_user(cmd->data_uptr + n, cmd->data_len - n);
		if (r)
			return r;
	}
	cmd->data_len = sizeof(info);
	cmd->data_type = KABI_HW_INFO_TYPE_SELFTEST;
	cmd->out_capabilities = KABI_HW_CAP_PCI_ATS_NOT_SUPPORTED;
	if (!(idev->dev->flags & EMU_DEV_NO_DIRTY))
		cmd->out_capabilities |= KABI_HW_CAP_DIRTY_TRACKING;
	cmd->out_max_pasid_log2 = 0;
	if (idev->dev->flags & EMU_DEV_PASID) {
		cmd->out_max_pasid_log2 = 20;
		if (idev->dev->flags & EMU_DEV_PCI)
			cmd->out_capabilities |= KABI_HW_CAP_PCI_PASID_EXEC |
						 KABI_HW_CAP_PCI_PASID_PRIV;
	}
	return emu_ucmd_respond(u);
}

/* ------------------------------------------------------------ dirty tracking */

int emu_cmd_set_dirty(struct emu_ucmd *u)
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

int emu_cmd_get_dirty(struct emu_ucmd *u)
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
		iopt_dirty_read(hwpt->dirty, cmd->iova + b * cmd->page_size, n * cmd->page_size,
				cmd->page_size, bm,
				cmd->flags & KABI_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
		for (uint64_t w = 0; w < (n + 63) / 64; w++) {
			uint64_t uw, addr = cmd->data + (b / 64 + w) * 8;

			if (!bm[w])
				continue;
			if (emu_copy_from_user(&uw, addr, 8))
				continue;
			uw |= bm[w];
			emu_copy_to_user(addr, &uw, 8);
		}
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
		r = copy_driver_data(&e, sizeof(e), sizeof(e), cmd->data_type,
				     KABI_HWPT_INVALIDATE_DATA_SELFTEST,
				     cmd->data_uptr + (uint64_t)i * cmd->entry_len, cmd->entry_len);
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

static struct emu_vdevice *viommu_find_vdev(struct emu_viommu *v, uint64_t virt_id)
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
		vd = viommu_find_vdev(v, e[i].vdev_id);
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

int emu_cmd_invalidate(struct emu_ucmd *u)
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
		/* min length: offsetofend(out_data) */
		r = copy_driver_data(&d, sizeof(d), 2 * sizeof(uint32_t), 0, 0, cmd->data_uptr,
				     cmd->data_len);
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
	if (viommu_find_vdev(v, cmd->virt_id))
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
