// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VFIO container with the type1 IOMMU driver: /dev/vfio/vfio of a kernel
 * built with CONFIG_VFIO_CONTAINER and CONFIG_VFIO_IOMMU_TYPE1 but without
 * CONFIG_IOMMUFD_VFIO_CONTAINER (the emulator's default; vfio_compat.c is
 * the other model). The rules are the kernel's:
 *
 *  - drivers/vfio/container.c: the container file, CHECK_EXTENSION before
 *    and after SET_IOMMU, SET_IOMMU (needs a group, once; the driver is
 *    chosen by probing the extension and opening it), groups joining
 *    (vfio_container_attach_group) and leaving (vfio_group_detach_container:
 *    the last group out releases the IOMMU driver and with it every
 *    mapping), the container living as long as its file or a group holds it;
 *  - drivers/vfio/vfio_iommu_type1.c: the driver: its list of user mappings
 *    (struct vfio_dma: iova, size, vaddr, prot), dma_entry_limit, the valid
 *    IOVA list (the domains' aperture minus the groups' reserved regions,
 *    recomputed as groups come and go), GET_INFO and its capability chain,
 *    MAP_DMA, UNMAP_DMA (v1 and v2 rules, UNMAP_ALL, VADDR, the dirty
 *    bitmap), DIRTY_PAGES.
 *
 * Translation for the devices: a container whose driver is set keeps a
 * hidden iommufd context with one IOAS (never visible to the program); a
 * group that joins the driver has its devices bound to that context and
 * attached to the IOAS (the auto domain is the IOMMU domain that type1
 * attaches the group to, iommu_attach_group()), and every user mapping is
 * also an area of the IOAS, pinned like type1 pins it. Device DMA therefore
 * goes through the same engine as with iommufd and faults outside the
 * mappings. Every check the program can observe is made here first, with
 * type1's errno, before the IOAS is touched.
 *
 * Dirty pages: the groups of vfio-pci devices have no pinned-page scope
 * (num_non_pinned_groups > 0: the kernel cannot see the device's writes), so
 * type1 reports every page of every mapping in the range dirty at each
 * GET_BITMAP and at each unmap with GET_DIRTY_BITMAP (update_user_bitmap()),
 * whatever the device did. Each mapping keeps its bitmap as the kernel does,
 * because what the kernel reports depends on it: for a mapping that does not
 * start on a 64-page boundary of the user's bitmap, the bitmap is shifted in
 * place and only its first nbits are cleared afterwards, so the bits shifted
 * past them stay and come back, shifted again, at the next read (the VM's
 * kernel reports 0x30f0f where 0x30f was set, on the second read).
 *
 * VADDR (VFIO_UPDATE_VADDR): UNMAP with VFIO_DMA_UNMAP_FLAG_VADDR marks the
 * mappings' vaddr invalid and MAP with VFIO_DMA_MAP_FLAG_VADDR gives them a
 * new one, as in the kernel, which keeps the pages it pinned meanwhile; the
 * emulator's IOAS keeps translating to the old addresses likewise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "iopt.h"
#include "itree.h"

/* vfio_iommu_type1.c: module parameter dma_entry_limit, its default */
#define T1_DMA_ENTRY_LIMIT 65535u
/* DIRTY_BITMAP_PAGES_MAX and DIRTY_BITMAP_SIZE_MAX of vfio_iommu_type1.c */
#define T1_BITMAP_PAGES_MAX ((uint64_t)INT32_MAX)
#define T1_BITMAP_BYTES(n) ((((uint64_t)(n) + 63) & ~63ull) / 8)
#define T1_BITMAP_SIZE_MAX T1_BITMAP_BYTES(T1_BITMAP_PAGES_MAX)
/*
 * The page sizes of the IOMMU domain of the emulated PCI devices (an Intel
 * VT-d second-stage table as QEMU's intel-iommu offers it: 4 KiB, 2 MiB and
 * 1 GiB pages), what the VM's kernel reports in iova_pgsizes.
 */
#define T1_DOMAIN_PGSIZES 0x40201000ull
/* VFIO_UPDATE_VADDR of <linux/vfio.h> */
#define T1_UPDATE_VADDR 10
/* x86-64 TASK_SIZE_MAX with 4-level paging: access_ok()'s limit */
#define T1_TASK_SIZE_MAX ((1ull << 47) - 4096)

/* struct vfio_dma: a user mapping, in the container's tree by [iova, iova + size - 1] */
struct t1_dma {
	struct itree_node node;
	uint64_t iova;
	uint64_t size;
	uint64_t vaddr;
	int prot;           /* IOPT_READ | IOPT_WRITE */
	bool vaddr_invalid;
	uint64_t *bitmap;   /* while dirty tracking: size / pgsize bits + one word */
};

struct t1_iova {
	uint64_t start, end; /* inclusive */
};

struct emu_type1 {
	struct iommufd_emu *emu;
	int refs;                    /* the file + each group in it (vfio_container_get) */
	struct emu_type1_group *groups; /* container->group_list, newest first */
	/* the IOMMU driver (container->iommu_driver and its vfio_iommu) */
	bool driver_set;
	bool v2;
	bool noiommu;                /* container->noiommu: its groups are no-IOMMU ones */
	bool noiommu_driver;         /* the driver set is vfio-noiommu (drivers/vfio/container.c) */
	struct itree dmas;           /* iommu->dma_list: struct t1_dma, disjoint */
	unsigned int dma_avail;
	unsigned int vaddr_invalid_count;
	struct t1_iova *iova;        /* iommu->iova_list, ascending */
	size_t niova;
	uint64_t pgsize_bitmap;
	bool dirty_tracking;
	unsigned int num_non_pinned_groups;
	/* the translation behind it */
	struct emu_ictx *ictx;
	struct emu_ioas *ioas;
};

/* ------------------------------------------------------------ the mapping list */

static uint64_t pgsize_min(const struct emu_type1 *c)
{
	return c->pgsize_bitmap & -c->pgsize_bitmap; /* 1 << __ffs() */
}

/* __ffs() as the kernel computes it on x86-64 (tzcnt: 64 for 0) */
static unsigned int ffs64(uint64_t v)
{
	return v ? (unsigned int)__builtin_ctzll(v) : 64;
}

static void bits_set(uint64_t *map, uint64_t n)
{
	for (uint64_t w = 0; w < n / 64; w++)
		map[w] = UINT64_MAX;
	if (n % 64)
		map[n / 64] |= (1ull << (n % 64)) - 1;
}

static void bits_clear(uint64_t *map, uint64_t n)
{
	for (uint64_t w = 0; w < n / 64; w++)
		map[w] = 0;
	if (n % 64)
		map[n / 64] &= ~((1ull << (n % 64)) - 1);
}


static struct t1_dma *dma_of(struct itree_node *n)
{
	return n ? itree_entry(n, struct t1_dma, node) : NULL;
}

static struct t1_dma *dma_first(struct emu_type1 *c)
{
	return dma_of(itree_first(&c->dmas));
}

static struct t1_dma *dma_next(struct t1_dma *d)
{
	return dma_of(itree_next(&d->node));
}

/*
 * vfio_find_dma_first_node(): the first mapping (by IOVA) intersecting
 * [start, last]; with size 1 (start == last), vfio_find_dma(): the one
 * holding start. NULL if none.
 */
static struct t1_dma *dma_find_range(struct emu_type1 *c, uint64_t start, uint64_t last)
{
	return dma_of(itree_iter_first(&c->dmas, start, last));
}

/* vfio_find_dma(): a mapping intersecting [start, start + size - 1], NULL if none */
static struct t1_dma *dma_find(struct emu_type1 *c, uint64_t start, uint64_t size)
{
	return dma_find_range(c, start, start + size - 1);
}

/* vfio_remove_dma() */
static void dma_remove(struct emu_type1 *c, struct t1_dma *d)
{
	/* the pages leave the IOMMU (vfio_unmap_unpin) */
	if (c->ioas)
		iopt_unmap(c->ioas->iopt, d->iova, d->size, NULL);
	if (d->vaddr_invalid)
		c->vaddr_invalid_count--;
	itree_remove(&c->dmas, &d->node);
	free(d->bitmap);
	free(d);
	c->dma_avail++;
}

/* vfio_dma_bitmap_alloc(): DIRTY_BITMAP_BYTES(npages) + one u64, zeroed */
static int dma_bitmap_alloc(struct emu_type1 *c, struct t1_dma *d, uint64_t pgsize)
{
	uint64_t npages = d->size / pgsize;

	if (npages > T1_BITMAP_PAGES_MAX)
		return -EINVAL;
	d->bitmap = emu_calloc(c->emu, T1_BITMAP_BYTES(npages) / 8 + 1, sizeof(uint64_t));
	return d->bitmap ? 0 : -ENOMEM;
}

/* vfio_dma_bitmap_free_all() */
static void dma_bitmap_free_all(struct emu_type1 *c)
{
	for (struct t1_dma *d = dma_first(c); d; d = dma_next(d)) {
		free(d->bitmap);
		d->bitmap = NULL;
	}
}

/* vfio_iommu_unmap_unpin_all() */
static void dma_remove_all(struct emu_type1 *c)
{
	struct t1_dma *d;

	while ((d = dma_first(c)))
		dma_remove(c, d);
}

/* ------------------------------------------------------------ the valid IOVA list */

/* the aperture of a group's domain: the narrowest of its devices' */
static void group_aperture(const struct emu_type1_group *g, uint64_t *start, uint64_t *end)
{
	*start = 0;
	*end = UINT64_MAX;
	for (unsigned int i = 0; i < g->ndevs; i++)
		if (g->devs[i]->aperture_last && g->devs[i]->aperture_last < *end)
			*end = g->devs[i]->aperture_last;
}

/* exclude [s, e] from the list (vfio_iommu_resv_exclude) */
static int iova_exclude(struct iommufd_emu *emu, struct t1_iova **list, size_t *n, uint64_t s,
			uint64_t e)
{
	for (size_t i = 0; i < *n; i++) {
		struct t1_iova *l = *list, cur = l[i];
		struct t1_iova parts[2];
		size_t np = 0;

		if (s > cur.end || e < cur.start)
			continue;
		if (s > cur.start)
			parts[np++] = (struct t1_iova){ cur.start, s - 1 };
		if (e < cur.end)
			parts[np++] = (struct t1_iova){ e + 1, cur.end };
		if (np == 2) {
			l = emu_realloc(emu, *list, *n + 1, sizeof(*l));
			if (!l)
				return -ENOMEM;
			*list = l;
			memmove(&l[i + 2], &l[i + 1], (*n - i - 1) * sizeof(*l));
			(*n)++;
		} else if (np == 0) {
			memmove(&l[i], &l[i + 1], (*n - i - 1) * sizeof(*l));
			(*n)--;
		}
		for (size_t k = 0; k < np; k++)
			l[i + k] = parts[k];
		i += np;
		i--; /* the loop's i++ moves past what replaced cur */
	}
	return 0;
}

/*
 * The IOVA list of the groups in the driver plus extra (NULL: none): the
 * intersection of their domains' apertures minus every reserved region
 * (vfio_iommu_aper_resize + vfio_iommu_resv_exclude on attach,
 * vfio_iommu_aper_expand + vfio_iommu_resv_refresh on detach, which give the
 * same list). -EINVAL when nothing is left.
 */
static int iova_compute(struct emu_type1 *c, const struct emu_type1_group *extra,
			struct t1_iova **out, size_t *nout)
{
	uint64_t start = 0, end = UINT64_MAX;
	struct t1_iova *l;
	size_t n = 1;
	bool any = false;
	int r;

	for (int pass = 0; pass < 2; pass++) {
		for (const struct emu_type1_group *g = pass ? extra : c->groups; g;
		     g = pass ? NULL : g->next) {
			uint64_t s, e;

			if (!pass && !g->in_driver)
				continue;
			group_aperture(g, &s, &e);
			start = s > start ? s : start;
			end = e < end ? e : end;
			any = true;
		}
	}
	*out = NULL;
	*nout = 0;
	if (!any)
		return 0;
	l = emu_calloc(c->emu, 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l[0] = (struct t1_iova){ start, end };
	for (int pass = 0; pass < 2; pass++) {
		for (const struct emu_type1_group *g = pass ? extra : c->groups; g;
		     g = pass ? NULL : g->next) {
			if (!pass && !g->in_driver)
				continue;
			for (unsigned int i = 0; i < g->ndevs; i++) {
				for (unsigned int k = 0; k < g->devs[i]->nresv; k++) {
					r = iova_exclude(c->emu, &l, &n, g->devs[i]->resv[k].start,
							 g->devs[i]->resv[k].last);
					if (r) {
						free(l);
						return r;
					}
				}
			}
		}
	}
	if (!n) {
		free(l);
		return -EINVAL;
	}
	*out = l;
	*nout = n;
	return 0;
}

/* vfio_iommu_iova_dma_valid() */
static bool iova_valid(const struct emu_type1 *c, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < c->niova; i++)
		if (start >= c->iova[i].start && end <= c->iova[i].end)
			return true;
	return c->niova == 0;
}

/* ------------------------------------------------------------ groups in the driver */

/* the group's devices leave the IOAS (iommu_detach_group) */
static void group_unbind(struct emu_type1_group *g)
{
	for (unsigned int i = 0; i < g->ndevs; i++)
		if (g->devs[i]->idev)
			emu_device_unbind(g->devs[i]);
}

/*
 * vfio_iommu_type1_attach_group(): the checks against the mappings and the
 * IOVA list, then the devices bound to the hidden context and attached to
 * its IOAS (pinning the mappings into the new domain: vfio_iommu_replay).
 */
static int driver_attach_group(struct emu_type1 *c, struct emu_type1_group *g)
{
	uint64_t ap_start, ap_end;
	struct t1_iova *list;
	size_t n;
	int r;

	if (c->vaddr_invalid_count)
		return -EBUSY;
	if (g->in_driver)
		return -EINVAL;
	/* vfio_iommu_aper_conflict(): mappings outside the new aperture */
	group_aperture(g, &ap_start, &ap_end);
	if (c->niova) {
		uint64_t first = c->iova[0].start, last = c->iova[c->niova - 1].end;

		if (ap_start > last || ap_end < first)
			return -EINVAL;
		if (ap_start > first && dma_find(c, first, ap_start - first))
			return -EINVAL;
		if (ap_end < last && dma_find(c, ap_end + 1, last - ap_end))
			return -EINVAL;
	}
	/* vfio_iommu_resv_conflict(): mappings in its reserved regions */
	for (unsigned int i = 0; i < g->ndevs; i++)
		for (unsigned int k = 0; k < g->devs[i]->nresv; k++)
			if (dma_find(c, g->devs[i]->resv[k].start,
				     g->devs[i]->resv[k].last - g->devs[i]->resv[k].start + 1))
				return -EINVAL;
	r = iova_compute(c, g, &list, &n);
	if (r)
		return r;
	for (unsigned int i = 0; i < g->ndevs; i++) {
		uint32_t id, pt = c->ioas->obj.id;

		r = emu_device_bind(c->ictx, g->devs[i], &id);
		if (!r) {
			r = emu_device_attach(g->devs[i], EMU_NO_PASID, &pt);
			if (r)
				emu_device_unbind(g->devs[i]);
		}
		if (r) {
			group_unbind(g);
			free(list);
			return r;
		}
	}
	free(c->iova);
	c->iova = list;
	c->niova = n;
	c->pgsize_bitmap = T1_DOMAIN_PGSIZES;
	g->in_driver = true;
	c->num_non_pinned_groups++;
	return 0;
}

/* vfio_iommu_type1_release(): every mapping, the domains, the IOVA list */
static void driver_release(struct emu_type1 *c)
{
	for (struct emu_type1_group *g = c->groups; g; g = g->next) {
		if (g->in_driver) {
			group_unbind(g);
			g->in_driver = false;
		}
	}
	dma_remove_all(c);
	free(c->iova);
	c->iova = NULL;
	c->niova = 0;
	if (c->ictx)
		emu_ictx_put(c->ictx); /* destroys the IOAS */
	c->ictx = NULL;
	c->ioas = NULL;
	c->driver_set = false;
	c->noiommu_driver = false;
	c->v2 = false;
	c->dirty_tracking = false;
	c->num_non_pinned_groups = 0;
	c->vaddr_invalid_count = 0;
}

/* vfio_iommu_type1_detach_group() */
static void driver_detach_group(struct emu_type1 *c, struct emu_type1_group *g)
{
	struct t1_iova *list;
	size_t n;
	bool last = true;

	if (!g->in_driver)
		return;
	group_unbind(g);
	g->in_driver = false;
	for (struct emu_type1_group *o = c->groups; o; o = o->next)
		if (o != g && o->in_driver)
			last = false;
	/* the last IOMMU-backed domain gone: the mappings go too */
	if (last)
		dma_remove_all(c);
	if (!iova_compute(c, NULL, &list, &n)) {
		free(c->iova);
		c->iova = list;
		c->niova = n;
	}
	if (last)
		c->pgsize_bitmap = ~(EMU_PAGE_SIZE - 1); /* no domain: PAGE_MASK */
	/* a group without dirty scope left: vfio_iommu_populate_bitmap_full() */
	c->num_non_pinned_groups--;
	if (c->dirty_tracking)
		for (struct t1_dma *d = dma_first(c); d; d = dma_next(d))
			bits_set(d->bitmap, d->size / pgsize_min(c));
}

/* ------------------------------------------------------------ container: groups */

static void container_put(struct emu_type1 *c)
{
	if (--c->refs > 0)
		return;
	if (c->driver_set)
		driver_release(c);
	free(c->iova);
	free(c);
}

int emu_type1_attach_group(struct emu_type1 *c, struct emu_type1_group *g)
{
	int r;

	if (g->container)
		return -EINVAL;
	/* vfio_container_attach_group(): real groups and fake groups cannot mix */
	if (c->groups && c->noiommu != g->noiommu)
		return -EPERM;
	if (!g->noiommu && g->ndevs && g->devs[0]->group && g->devs[0]->group->owner)
		return -EBUSY; /* iommu_group_claim_dma_owner() */
	if (c->driver_set && !c->noiommu_driver) {
		r = driver_attach_group(c, g);
		if (r)
			return r;
	}
	g->container = c;
	c->noiommu = g->noiommu;
	g->next = c->groups;
	c->groups = g;
	c->refs++;
	return 0;
}

void emu_type1_detach_group(struct emu_type1_group *g)
{
	struct emu_type1 *c = g->container;

	if (!c)
		return;
	if (c->driver_set)
		driver_detach_group(c, g);
	for (struct emu_type1_group **pp = &c->groups; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	g->next = NULL;
	g->container = NULL;
	/* detaching the last group deprivileges the container */
	if (c->driver_set && !c->groups)
		driver_release(c);
	container_put(c);
}

bool emu_type1_driver_set(const struct emu_type1 *c)
{
	return c && c->driver_set;
}

/* ------------------------------------------------------------ SET_IOMMU, CHECK_EXTENSION */

/* vfio_iommu_type1_check_extension(), iommu NULL before SET_IOMMU */
static int t1_check_extension(struct emu_type1 *c, unsigned long arg)
{
	switch (arg) {
	case KABI_VFIO_TYPE1_IOMMU:
	case KABI_VFIO_TYPE1v2_IOMMU:
	case KABI_VFIO_UNMAP_ALL:
		return 1;
	case T1_UPDATE_VADDR:
		return c != NULL; /* no emulated (mdev) groups here */
	case KABI_VFIO_DMA_CC_IOMMU:
		/* the domains enforce cache coherency: VT-d without snoop control does not */
		return 0;
	default:
		return 0;
	}
}

/*
 * vfio_container_ioctl_check_extension(): the driver set answers; without
 * one every registered driver allowed for the container (any, while it has
 * no group: drivers/vfio/container.c vfio_iommu_driver_allowed()) is asked,
 * the first positive answer wins: type1, then vfio-noiommu, whose answer is
 * vfio_noiommu && arg == VFIO_NOIOMMU_IOMMU.
 */
static int container_check_extension(struct emu_type1 *c, unsigned long arg)
{
	int noiommu = c->emu->noiommu_mode && arg == KABI_VFIO_NOIOMMU_IOMMU;

	if (c->driver_set)
		return c->noiommu_driver ? noiommu : t1_check_extension(c, arg);
	if (c->groups)
		return c->noiommu ? noiommu : t1_check_extension(NULL, arg);
	return t1_check_extension(NULL, arg) > 0 ? 1 : noiommu;
}

/* vfio_ioctl_set_iommu() */
static int t1_set_iommu(struct emu_type1 *c, unsigned long arg)
{
	int r = -ENODEV;

	if (!c->groups || c->driver_set)
		return -EINVAL;
	if (c->noiommu) {
		/* only vfio-noiommu is allowed: vfio_noiommu_open() (CAP_SYS_RAWIO assumed) */
		if (!c->emu->noiommu_mode || arg != KABI_VFIO_NOIOMMU_IOMMU)
			return -ENODEV;
		c->driver_set = true;
		c->noiommu_driver = true;
		return 0;
	}
	if (t1_check_extension(NULL, arg) <= 0)
		return -ENODEV;
	/* vfio_iommu_type1_open(): only the two types */
	if (arg != KABI_VFIO_TYPE1_IOMMU && arg != KABI_VFIO_TYPE1v2_IOMMU)
		return -EINVAL;
	c->v2 = arg == KABI_VFIO_TYPE1v2_IOMMU;
	c->dma_avail = T1_DMA_ENTRY_LIMIT;
	c->pgsize_bitmap = ~(EMU_PAGE_SIZE - 1);
	c->ictx = emu_ictx_new_internal(c->emu, true);
	if (!c->ictx)
		return -ENOMEM;
	r = emu_ictx_new_ioas(c->ictx, &c->ioas);
	if (r)
		goto fail;
	c->driver_set = true;
	/* __vfio_container_attach_groups(): every group, unwound on failure */
	for (struct emu_type1_group *g = c->groups; g; g = g->next) {
		r = driver_attach_group(c, g);
		if (r)
			goto fail;
	}
	return 0;
fail:
	driver_release(c);
	return r;
}

/* ------------------------------------------------------------ GET_INFO */

/* vfio_iommu_type1_get_info(): caps MIGRATION, DMA_AVAIL, IOVA_RANGE, in that order */
static int t1_get_info(struct emu_type1 *c, void *arg)
{
	struct kabi_vfio_iommu_type1_info info = { 0 };
	const uint64_t uarg = (uintptr_t)arg;
	const size_t minsz = offsetofend(struct kabi_vfio_iommu_type1_info, iova_pgsizes);
	struct kabi_vfio_iommu_type1_info_cap_migration mig = { 0 };
	struct kabi_vfio_iommu_type1_info_dma_avail avail = { 0 };
	struct kabi_vfio_iommu_type1_info_cap_iova_range rng = { 0 };
	uint32_t mig_sz = sizeof(mig), avail_sz = (sizeof(avail) + 7) & ~7u, rng_sz = 0;
	uint32_t caps_sz, off;
	size_t copy;
	int r;

	if (emu_copy_from_user(&info, uarg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	copy = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	info.flags = KABI_VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = c->pgsize_bitmap;
	if (c->niova)
		rng_sz = (uint32_t)(sizeof(rng) + c->niova * sizeof(struct kabi_vfio_iova_range));
	caps_sz = mig_sz + avail_sz + rng_sz;
	info.flags |= KABI_VFIO_IOMMU_INFO_CAPS;
	if (info.argsz < sizeof(info) + caps_sz) {
		info.argsz = (uint32_t)(sizeof(info) + caps_sz);
	} else {
		/* the chain after the info, its next offsets shifted by it (vfio_info_cap_shift) */
		off = sizeof(info);
		mig.header.id = KABI_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION;
		mig.header.version = 1;
		mig.header.next = off + mig_sz;
		mig.pgsize_bitmap = pgsize_min(c);
		mig.max_dirty_bitmap_size = T1_BITMAP_SIZE_MAX;
		avail.header.id = KABI_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
		avail.header.version = 1;
		avail.header.next = rng_sz ? off + mig_sz + avail_sz : 0;
		avail.avail = c->dma_avail;
		r = emu_copy_to_user(uarg + off, &mig, sizeof(mig));
		if (!r)
			r = emu_clear_user(uarg + off + mig_sz, avail_sz);
		if (!r)
			r = emu_copy_to_user(uarg + off + mig_sz, &avail, sizeof(avail));
		if (!r && rng_sz) {
			uint64_t p = uarg + off + mig_sz + avail_sz;

			rng.header.id = KABI_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
			rng.header.version = 1;
			rng.nr_iovas = (uint32_t)c->niova;
			r = emu_copy_to_user(p, &rng, sizeof(rng));
			for (size_t i = 0; i < c->niova && !r; i++) {
				struct kabi_vfio_iova_range x = { c->iova[i].start, c->iova[i].end };

				r = emu_copy_to_user(p + sizeof(rng) + i * sizeof(x), &x, sizeof(x));
			}
		}
		if (r)
			return -EFAULT;
		info.cap_offset = sizeof(info);
	}
	return emu_copy_to_user(uarg, &info, copy) ? -EFAULT : 0;
}

/* ------------------------------------------------------------ MAP_DMA */

/* vfio_iommu_type1_map_dma() + vfio_dma_do_map() */
static int t1_map(struct emu_type1 *c, void *arg)
{
	struct kabi_vfio_iommu_type1_dma_map m;
	const uint32_t mask = KABI_VFIO_DMA_MAP_FLAG_READ | KABI_VFIO_DMA_MAP_FLAG_WRITE |
			      KABI_VFIO_DMA_MAP_FLAG_VADDR;
	bool set_vaddr;
	uint64_t end, vend, pgsize, iova;
	struct t1_dma *d;
	int prot = 0, r;

	if (emu_copy_from_user(&m, (uintptr_t)arg, sizeof(m)))
		return -EFAULT;
	if (m.argsz < sizeof(m) || (m.flags & ~mask))
		return -EINVAL;
	set_vaddr = m.flags & KABI_VFIO_DMA_MAP_FLAG_VADDR;
	if (!m.size)
		return -EINVAL;
	if (__builtin_add_overflow(m.iova, m.size - 1, &end) ||
	    __builtin_add_overflow(m.vaddr, m.size - 1, &vend))
		return -EOVERFLOW;
	if (m.flags & KABI_VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOPT_WRITE;
	if (m.flags & KABI_VFIO_DMA_MAP_FLAG_READ)
		prot |= IOPT_READ;
	if ((prot && set_vaddr) || (!prot && !set_vaddr))
		return -EINVAL;
	pgsize = pgsize_min(c);
	if ((m.size | m.iova | m.vaddr) & (pgsize - 1))
		return -EINVAL;
	d = dma_find(c, m.iova, m.size);
	if (set_vaddr) {
		if (!d)
			return -ENOENT;
		if (!d->vaddr_invalid || d->iova != m.iova || d->size != m.size)
			return -EINVAL;
		d->vaddr = m.vaddr;
		d->vaddr_invalid = false;
		c->vaddr_invalid_count--;
		return 0;
	}
	if (d)
		return -EEXIST;
	if (!c->dma_avail)
		return -ENOSPC;
	if (!iova_valid(c, m.iova, end))
		return -EINVAL;
	d = emu_zalloc(c->emu, sizeof(*d));
	if (!d)
		return -ENOMEM;
	/* vfio_pin_map_dma(): pin and map into the domain; a failure maps nothing */
	iova = m.iova;
	/* a BAR mmap is mapped too: vaddr_get_pfns() follows a VM_PFNMAP vma's PFNs */
	r = iopt_map_user(c->ioas->iopt, &iova, m.vaddr, m.size, prot, IOPT_MAP_FIXED | IOPT_MAP_PFNMAP);
	if (r) {
		free(d);
		return r;
	}
	d->iova = m.iova;
	d->size = m.size;
	d->vaddr = m.vaddr;
	d->prot = prot;
	/* with dirty tracking on, the new mapping gets a bitmap (vfio_dma_bitmap_alloc) */
	if (c->dirty_tracking) {
		r = dma_bitmap_alloc(c, d, pgsize);
		if (r) {
			iopt_unmap(c->ioas->iopt, m.iova, m.size, NULL);
			free(d);
			return r;
		}
	}
	d->node.start = m.iova;
	d->node.last = end;
	itree_insert(&c->dmas, &d->node);
	c->dma_avail--;
	return 0;
}

/* ------------------------------------------------------------ dirty bitmaps */

/* access_ok() of x86-64 */
static bool user_range_ok(uint64_t p, uint64_t size)
{
	uint64_t end;

	if (__builtin_add_overflow(p, size, &end))
		return false;
	return end <= T1_TASK_SIZE_MAX;
}

/* verify_bitmap_size() */
static int bitmap_size_ok(uint64_t npages, uint64_t size)
{
	if (!npages || !size || size > T1_BITMAP_SIZE_MAX || size < T1_BITMAP_BYTES(npages))
		return -EINVAL;
	return 0;
}

/*
 * update_user_bitmap(): the mapping's bits (all set: no pinned-page scope)
 * shifted in place to their place relative to base (bitmap_shift_left() over
 * BITS_TO_LONGS(nbits + shift) words, no masking), the first word ORed with
 * the user's word when shifted, then DIRTY_BITMAP_BYTES(nbits + shift) bytes
 * written to the user's bitmap; then the first nbits cleared again
 * (vfio_iova_dirty_bitmap(): bitmap_clear + vfio_dma_populate_bitmap, no
 * pinned pages here).
 */
static int bitmap_write(struct emu_type1 *c, uint64_t ubitmap, struct t1_dma *d, uint64_t base,
			uint64_t pgsize, bool reset)
{
	unsigned int pgshift = ffs64(pgsize);
	uint64_t nbits = d->size >> pgshift;
	uint64_t bit_offset = (d->iova - base) >> pgshift;
	uint64_t copy_offset = bit_offset / 64;
	unsigned int shift = (unsigned int)(bit_offset % 64);
	uint64_t *map = d->bitmap;
	uint64_t lim = (nbits + shift + 63) / 64;

	if (c->num_non_pinned_groups)
		bits_set(map, nbits);
	if (shift) {
		uint64_t leftover;

		for (uint64_t k = lim; k-- > 0;)
			map[k] = (map[k] << shift) | (k ? map[k - 1] >> (64 - shift) : 0);
		if (emu_copy_from_user(&leftover, ubitmap + copy_offset * 8, sizeof(leftover)))
			return -EFAULT;
		map[0] |= leftover;
	}
	if (emu_copy_to_user(ubitmap + copy_offset * 8, map, T1_BITMAP_BYTES(nbits + shift)))
		return -EFAULT;
	if (reset)
		bits_clear(map, nbits);
	return 0;
}

/* ------------------------------------------------------------ UNMAP_DMA */

/* vfio_iommu_type1_unmap_dma() + vfio_dma_do_unmap() */
static int t1_unmap(struct emu_type1 *c, void *arg)
{
	struct kabi_vfio_iommu_type1_dma_unmap u;
	struct kabi_vfio_bitmap bm = { 0 };
	const uint32_t mask = KABI_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			      KABI_VFIO_DMA_UNMAP_FLAG_VADDR | KABI_VFIO_DMA_UNMAP_FLAG_ALL;
	const uint64_t uarg = (uintptr_t)arg;
	bool unmap_all, invalidate, get_dirty;
	uint64_t pgsize, end, unmapped = 0;
	struct t1_dma *d, *first;
	int r;

	if (emu_copy_from_user(&u, uarg, sizeof(u)))
		return -EFAULT;
	if (u.argsz < sizeof(u) || (u.flags & ~mask))
		return -EINVAL;
	unmap_all = u.flags & KABI_VFIO_DMA_UNMAP_FLAG_ALL;
	invalidate = u.flags & KABI_VFIO_DMA_UNMAP_FLAG_VADDR;
	get_dirty = u.flags & KABI_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	if (get_dirty && (unmap_all || invalidate))
		return -EINVAL;
	if (get_dirty) {
		if (u.argsz < sizeof(u) + sizeof(bm))
			return -EINVAL;
		if (emu_copy_from_user(&bm, uarg + sizeof(u), sizeof(bm)))
			return -EFAULT;
		if (!user_range_ok(bm.data, bm.size))
			return -EINVAL;
		r = bitmap_size_ok(ffs64(bm.pgsize) >= 64 ? u.size : u.size >> ffs64(bm.pgsize),
				   bm.size);
		if (r)
			return r;
	}
	/* vfio_dma_do_unmap() */
	pgsize = pgsize_min(c);
	if (u.iova & (pgsize - 1))
		return -EINVAL;
	if (unmap_all) {
		if (u.iova || u.size)
			return -EINVAL;
		end = UINT64_MAX;
	} else {
		if (!u.size || (u.size & (pgsize - 1)))
			return -EINVAL;
		if (__builtin_add_overflow(u.iova, u.size - 1, &end))
			return -EOVERFLOW;
	}
	if (get_dirty && (!c->dirty_tracking || bm.pgsize != pgsize))
		return -EINVAL;
	/* v2: the range must not bisect a mapping */
	if (c->v2 && !unmap_all) {
		d = dma_find(c, u.iova, 1);
		if (d && d->iova != u.iova)
			return -EINVAL;
		d = dma_find(c, end, 1);
		if (d && d->iova + d->size - 1 != end)
			return -EINVAL;
	}
	r = 0;
	first = d = dma_find_range(c, u.iova, end);
	while (d) {
		struct t1_dma *next = dma_next(d);

		if (d->iova > end)
			break;
		/* v1: a range starting inside a mapping unmaps nothing from there on */
		if (!c->v2 && u.iova > d->iova)
			break;
		if (invalidate) {
			if (d->vaddr_invalid) {
				/* already invalid: undo this call's marks */
				for (struct t1_dma *k = first; k != d; k = dma_next(k)) {
					k->vaddr_invalid = false;
					c->vaddr_invalid_count--;
				}
				r = -EINVAL;
				unmapped = 0;
				break;
			}
			d->vaddr_invalid = true;
			c->vaddr_invalid_count++;
			unmapped += d->size;
			d = next;
			continue;
		}
		if (get_dirty) {
			r = bitmap_write(c, bm.data, d, u.iova, pgsize, false);
			if (r)
				break;
		}
		unmapped += d->size;
		dma_remove(c, d);
		d = next;
	}
	if (r)
		return r;
	u.size = unmapped;
	return emu_copy_to_user(uarg, &u, sizeof(u)) ? -EFAULT : 0;
}

/* ------------------------------------------------------------ DIRTY_PAGES */

/* vfio_iommu_type1_dirty_pages() */
static int t1_dirty_pages(struct emu_type1 *c, void *arg)
{
	struct kabi_vfio_iommu_type1_dirty_bitmap db;
	struct kabi_vfio_iommu_type1_dirty_bitmap_get g;
	const uint32_t mask = KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
			      KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
			      KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	const uint64_t uarg = (uintptr_t)arg;
	uint64_t pgsize, end;
	struct t1_dma *d;
	int r;

	if (!c->v2)
		return -EACCES;
	if (emu_copy_from_user(&db, uarg, sizeof(db)))
		return -EFAULT;
	if (db.argsz < sizeof(db) || (db.flags & ~mask))
		return -EINVAL;
	/* only one flag at a time */
	if (!db.flags || (db.flags & (db.flags - 1)))
		return -EINVAL;
	pgsize = pgsize_min(c);
	if (db.flags & KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_START) {
		if (!c->dirty_tracking) {
			/* vfio_dma_bitmap_alloc_all(): a bitmap per mapping, all or none */
			for (d = dma_first(c); d; d = dma_next(d)) {
				r = dma_bitmap_alloc(c, d, pgsize);
				if (r) {
					dma_bitmap_free_all(c);
					return r;
				}
			}
			c->dirty_tracking = true;
		}
		return 0;
	}
	if (db.flags & KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP) {
		if (c->dirty_tracking) {
			c->dirty_tracking = false;
			dma_bitmap_free_all(c);
		}
		return 0;
	}
	if (db.argsz - sizeof(db) < sizeof(g))
		return -EINVAL;
	if (emu_copy_from_user(&g, uarg + sizeof(db), sizeof(g)))
		return -EFAULT;
	if (!g.size)
		return -EINVAL;
	if (__builtin_add_overflow(g.iova, g.size - 1, &end))
		return -EOVERFLOW;
	if (!user_range_ok(g.bitmap.data, g.bitmap.size))
		return -EINVAL;
	r = bitmap_size_ok(ffs64(g.bitmap.pgsize) >= 64 ? g.size : g.size >> ffs64(g.bitmap.pgsize),
			   g.bitmap.size);
	if (r)
		return r;
	if (g.bitmap.pgsize != pgsize || (g.iova & (pgsize - 1)) || (g.size & (pgsize - 1)))
		return -EINVAL;
	if (!c->dirty_tracking)
		return -EINVAL;
	/* vfio_iova_dirty_bitmap(): whole mappings only */
	d = dma_find(c, g.iova, 1);
	if (d && d->iova != g.iova)
		return -EINVAL;
	d = dma_find(c, end, 1);
	if (d && d->iova + d->size - 1 != end)
		return -EINVAL;
	for (d = dma_find_range(c, g.iova, end); d && d->iova <= end; d = dma_next(d)) {
		if (d->iova < g.iova)
			continue;
		r = bitmap_write(c, g.bitmap.data, d, g.iova, pgsize, true);
		if (r)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------ the container file */

/* vfio_fops_unl_ioctl() */
static int t1_ioctl(struct emu_file *f, unsigned long req, void *arg)
{
	struct emu_type1 *c = f->priv;
	unsigned long a = (unsigned long)arg;

	switch (req) {
	case KABI_VFIO_GET_API_VERSION:
		return KABI_VFIO_API_VERSION;
	case KABI_VFIO_CHECK_EXTENSION:
		return container_check_extension(c, a);
	case KABI_VFIO_SET_IOMMU:
		return t1_set_iommu(c, a);
	}
	if (!c->driver_set)
		return -EINVAL;
	if (c->noiommu_driver)
		return -ENOTTY; /* vfio_noiommu_ioctl(): CHECK_EXTENSION only */
	switch (req) {
	case KABI_VFIO_IOMMU_GET_INFO:
		return t1_get_info(c, arg);
	case KABI_VFIO_IOMMU_MAP_DMA:
		return t1_map(c, arg);
	case KABI_VFIO_IOMMU_UNMAP_DMA:
		return t1_unmap(c, arg);
	case KABI_VFIO_IOMMU_DIRTY_PAGES:
		return t1_dirty_pages(c, arg);
	}
	return -ENOTTY;
}

static void t1_release(struct emu_file *f)
{
	container_put(f->priv);
}

static int t1_fstat(struct emu_file *f, struct stat *st)
{
	(void)f;
	emu_stat_chr(st, EMU_MISC_MAJOR, EMU_VFIO_MINOR, 0666);
	return 0;
}

static const struct emu_file_ops t1_fops = {
	.name = "vfio-container",
	.fstat = t1_fstat,
	.ioctl = t1_ioctl,
	.release = t1_release,
};

int emu_type1_open(struct iommufd_emu *emu, int flags)
{
	struct emu_type1 *c = emu_zalloc(emu, sizeof(*c));
	int fd;

	(void)flags;
	if (!c)
		return -ENOMEM;
	c->emu = emu;
	c->refs = 1;
	c->pgsize_bitmap = ~(EMU_PAGE_SIZE - 1);
	fd = emu_file_new(emu, &t1_fops, c, NULL);
	if (fd < 0)
		free(c);
	return fd;
}

struct emu_type1 *emu_type1_from_fd(struct iommufd_emu *emu, int fd)
{
	struct emu_file *f = emu_file_lookup(emu, fd);

	return f && f->ops == &t1_fops ? f->priv : NULL;
}
