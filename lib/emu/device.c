// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The IOMMU side of a device (the kernel's drivers/iommu/iommufd/device.c):
 * IOMMU groups and DMA ownership, DEVICE objects and their attachments
 * (bind/attach/replace/detach/unbind), DMA, I/O page faults and
 * vEVENTs raised by a device, GET_HW_INFO, and access objects (the
 * in-kernel users of an IOAS: the selftest's accesses and the HW queues).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "iopt.h"

#define MOCK_DEV_CACHE_DEFAULT 0xbaddadu
#define MOCK_PASID_RESERVED 1024u
#define MOCK_HW_INFO_REGVAL 0xdeadbeefu
/*
 * The VT-d registers the VM's kernel reports for QEMU's intel-iommu
 * (intremap=on, its defaults: 39-bit address width, no scalable mode, no
 * nesting, no dirty tracking), read through IOMMU_GET_HW_INFO in the VM;
 * flags: IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17, which
 * drivers/iommu/intel/iommu.c intel_iommu_hw_info sets on every VT-d.
 */
#define QEMU_VTD_FLAGS 0x1u
#define QEMU_VTD_CAP 0x00d2008c22260206ull
#define QEMU_VTD_ECAP 0x0000000000f00f4aull

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
	struct emu_hwpt *p = emu_hwpt_paging(old);

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
	struct emu_hwpt *paging = emu_hwpt_paging(hwpt);
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
	if ((emu_hwpt_paging(hwpt)->flags & KABI_HWPT_ALLOC_DIRTY_TRACKING) &&
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
		struct emu_hwpt *curp = emu_hwpt_paging(cur);

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
		struct emu_hwpt *curp = emu_hwpt_paging(cur), *np = emu_hwpt_paging(hwpt);

		/* a RID replace moves the whole group (iommufd_device_replace(), drivers/iommu/iommufd/device.c) */
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
	p = emu_hwpt_paging(a->hwpt);
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

/* ------------------------------------------------------------ GET_HW_INFO */

int emu_cmd_get_hw_info(struct emu_ucmd *u)
{
	struct kabi_hw_info *cmd = u->cmd;
	struct kabi_hw_info_selftest mock = { .flags = 0, .test_reg = MOCK_HW_INFO_REGVAL };
	struct kabi_hw_info_vtd vtd = {
		.flags = QEMU_VTD_FLAGS, .cap_reg = QEMU_VTD_CAP, .ecap_reg = QEMU_VTD_ECAP,
	};
	struct emu_idev *idev;
	uint32_t type, n, len, own;
	const void *info;
	bool pci;
	int r;

	if (cmd->flags & ~KABI_HW_INFO_FLAG_INPUT_TYPE)
		return -EOPNOTSUPP;
	if (cmd->reserved[0] || cmd->reserved[1] || cmd->reserved[2])
		return -EOPNOTSUPP;
	type = cmd->flags & KABI_HW_INFO_FLAG_INPUT_TYPE ? cmd->data_type : 0;
	idev = emu_idev_find(u->ictx, cmd->dev_id);
	if (!idev)
		return -ENOENT;
	/* an emulated PCI device sits behind the VT-d of QEMU (the VM's), the
	 * selftest mock behind the mock IOMMU; each answers its own type only */
	pci = (idev->dev->flags & EMU_DEV_PCI) && !(idev->dev->flags & EMU_DEV_MOCK);
	own = pci ? KABI_HW_INFO_TYPE_INTEL_VTD : KABI_HW_INFO_TYPE_SELFTEST;
	info = pci ? (const void *)&vtd : (const void *)&mock;
	len = pci ? sizeof(vtd) : sizeof(mock);
	if (type != KABI_HW_INFO_TYPE_NONE && type != own)
		return -EOPNOTSUPP;
	n = cmd->data_len < len ? cmd->data_len : len;
	r = emu_copy_to_user(cmd->data_uptr, info, n);
	if (r)
		return r;
	if (cmd->data_len > n) {
		r = emu_clear_user(cmd->data_uptr + n, cmd->data_len - n);
		if (r)
			return r;
	}
	cmd->data_len = len;
	cmd->data_type = own;
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

/* ------------------------------------------------------------ access objects */

static void access_unpin_all(struct emu_access *a)
{
	while (a->npins) {
		struct emu_access_pin *p = &a->pins[--a->npins];

		if (a->ioas)
			iopt_access_unpin(a->ioas->iopt, p->iova, p->length, p->flags);
	}
}

static void access_detach(struct emu_access *a)
{
	struct emu_ioas *ioas = a->ioas;

	if (!ioas)
		return;
	access_unpin_all(a);
	iopt_access_remove(ioas->iopt, a);
	for (unsigned int i = 0; i < ioas->naccesses; i++) {
		if (ioas->accesses[i] == a) {
			memmove(&ioas->accesses[i], &ioas->accesses[i + 1],
				(ioas->naccesses - i - 1) * sizeof(*ioas->accesses));
			ioas->naccesses--;
			break;
		}
	}
	ioas->obj.users--;
	a->ioas = NULL;
}

int emu_access_attach(struct emu_access *a, struct emu_ioas *ioas)
{
	struct emu_access **p;
	int r;

	p = emu_realloc(ioas->obj.ictx->emu, ioas->accesses, ioas->naccesses + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	ioas->accesses = p;
	r = iopt_access_add(ioas->iopt, a, a->needs_pin);
	if (r)
		return r;
	p[ioas->naccesses++] = a;
	ioas->obj.users++;
	a->ioas = ioas;
	return 0;
}

static void access_destroy(struct emu_obj *obj)
{
	struct emu_access *a = (struct emu_access *)obj;

	access_detach(a);
	free(a->pins);
	free(a);
}

int emu_access_new(struct emu_ictx *ictx, struct emu_ioas *ioas, bool needs_pin, bool internal,
		   struct emu_access **ret)
{
	struct emu_access *a;
	int r;

	a = emu_obj_alloc(ictx, EMU_OBJ_ACCESS, sizeof(*a), access_destroy, &r);
	if (!a)
		return r;
	a->needs_pin = needs_pin;
	a->internal = internal;
	a->next_pin_id = 1;
	a->obj.users++; /* the creating driver's ref */
	if (ioas) {
		r = emu_access_attach(a, ioas);
		if (r) {
			emu_obj_abort(&a->obj);
			return r;
		}
	}
	emu_obj_publish(&a->obj);
	*ret = a;
	return 0;
}

int emu_access_set_ioas(struct emu_access *a, struct emu_ioas *ioas)
{
	struct emu_ioas *old = a->ioas;
	int r;

	if (!old)
		return -ENOENT;
	if (old == ioas)
		return 0;
	/* join the new IOAS first: a failure leaves the access where it was */
	r = emu_access_attach(a, ioas);
	if (r)
		return r;
	/* the kernel keeps the pins' IOVAs: the mock only has none left on replace */
	a->ioas = old;
	access_detach(a);
	a->ioas = ioas;
	return 0;
}

int emu_access_pin(struct emu_access *a, uint64_t iova, uint64_t length, unsigned int flags,
		   uint64_t uptr, uint32_t *pin_id)
{
	struct emu_access_pin *p;
	int r;

	if (!a->ioas)
		return -ENOENT;
	p = emu_realloc(a->obj.ictx->emu, a->pins, a->npins + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->pins = p;
	r = iopt_access_pin(a->ioas->iopt, iova, length, flags);
	if (r)
		return r;
	p = &a->pins[a->npins++];
	p->id = a->next_pin_id++;
	p->iova = iova;
	p->length = length;
	p->flags = flags;
	p->uptr = uptr;
	if (pin_id)
		*pin_id = p->id;
	return 0;
}

void emu_access_drop_pin(struct emu_access *a, unsigned int i)
{
	struct emu_access_pin *p = &a->pins[i];

	if (a->ioas)
		iopt_access_unpin(a->ioas->iopt, p->iova, p->length, p->flags);
	memmove(&a->pins[i], &a->pins[i + 1], (a->npins - i - 1) * sizeof(*p));
	a->npins--;
}

void emu_ioas_access_unmap(void *opaque, uint64_t iova, uint64_t length)
{
	struct emu_ioas *ioas = opaque;
	uint64_t last = iova + length - 1;

	for (unsigned int k = 0; k < ioas->naccesses; k++) {
		struct emu_access *a = ioas->accesses[k];

		for (unsigned int i = 0; i < a->npins;) {
			struct emu_access_pin *p = &a->pins[i];

			if (!(p->flags & IOPT_PIN_LOCK) && p->iova <= last &&
			    iova <= p->iova + p->length - 1)
				emu_access_drop_pin(a, i);
			else
				i++;
		}
	}
}
