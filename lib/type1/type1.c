// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The type1 mode: iommufd's IOAS commands answered on a VFIO container
 * (drivers/vfio/container.c, drivers/vfio/vfio_iommu_type1.c).
 *
 * The container is one I/O address space. The library keeps its map table
 * (sorted by IOVA): type1 has no IOVA allocator, its unmap rules are not
 * IOAS_UNMAP's, its dirty bitmaps must cover whole mappings, and a container
 * takes no map before its IOMMU driver is set (VFIO_SET_IOMMU, possible only
 * once a group is in it) and drops every mapping when its last group leaves
 * (__vfio_group_unset_container()). So a map is entered in the table, and
 * made in the kernel while the IOMMU is set; setting it replays the table.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "type1.h"

struct t1_map {
	uint64_t iova;
	uint64_t len;
	uint64_t va;
	uint32_t prot; /* KABI_VFIO_DMA_MAP_FLAG_* */
};

struct t1_group {
	int nr;
	int fd;
	bool noiommu;      /* /dev/vfio/noiommu-<nr> */
	unsigned int devs; /* devices of the device API using it */
};

struct ifd_t1 {
	pthread_mutex_t lock;
	bool compat;      /* iommufd serves the container */
	bool has_v2;      /* VFIO_TYPE1v2_IOMMU offered */
	bool has_v1;
	bool unmap_all;   /* VFIO_UNMAP_ALL */
	bool iommu_set;
	bool noiommu;     /* the IOMMU is VFIO_NOIOMMU_IOMMU: no translation */
	bool dirty;       /* VFIO_IOMMU_DIRTY_PAGES started */
	bool has_dirty;   /* GET_INFO has the migration capability (dirty page tracking) */
	uint32_t iommu_type;
	uint32_t ioas_id; /* 0 until IOAS_ALLOC */
	unsigned int groups_in; /* groups in the container: device API and group API */
	unsigned int attached;  /* devices attached to the HWPT */
	uint32_t next_dev_id;
	struct t1_group *groups;
	size_t nr_groups;
	struct t1_map *maps;
	size_t nr_maps, cap_maps;
};

/* -------------------------------------------------------------- helpers */

static int cioctl(struct iommufd_ctx *ctx, unsigned long req, void *arg)
{
	return be_ioctl(ctx->be, ctx->fd, req, arg);
}

static uint64_t page_size(void)
{
	static uint64_t ps;

	if (!ps)
		ps = (uint64_t)sysconf(_SC_PAGESIZE);
	return ps;
}

/* first map with iova + len > addr (i.e. ending after addr) */
static size_t map_first_after(const struct ifd_t1 *t, uint64_t addr)
{
	size_t lo = 0, hi = t->nr_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->maps[mid].iova + t->maps[mid].len - 1 < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool overlaps(const struct ifd_t1 *t, uint64_t iova, uint64_t last)
{
	size_t i = map_first_after(t, iova);

	return i < t->nr_maps && t->maps[i].iova <= last;
}

static int map_insert(struct ifd_t1 *t, const struct t1_map *m)
{
	size_t i = map_first_after(t, m->iova);

	if (t->nr_maps == t->cap_maps) {
		size_t cap = t->cap_maps ? t->cap_maps * 2 : 16;
		struct t1_map *n = reallocarray(t->maps, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->maps = n;
		t->cap_maps = cap;
	}
	memmove(&t->maps[i + 1], &t->maps[i], (t->nr_maps - i) * sizeof(*m));
	t->maps[i] = *m;
	t->nr_maps++;
	return 0;
}

static void map_remove(struct ifd_t1 *t, size_t i)
{
	memmove(&t->maps[i], &t->maps[i + 1], (t->nr_maps - i - 1) * sizeof(t->maps[0]));
	t->nr_maps--;
}

static int kmap(struct iommufd_ctx *ctx, const struct t1_map *m)
{
	struct kabi_vfio_iommu_type1_dma_map cmd = {
		.argsz = sizeof(cmd),
		.flags = m->prot,
		.vaddr = m->va,
		.iova = m->iova,
		.size = m->len,
	};

	return cioctl(ctx, KABI_VFIO_IOMMU_MAP_DMA, &cmd);
}

/* unmap [iova, iova + len) in the kernel; *done gets what it says it unmapped */
static int kunmap(struct iommufd_ctx *ctx, uint64_t iova, uint64_t len, uint32_t flags, uint64_t *done)
{
	struct kabi_vfio_iommu_type1_dma_unmap cmd = {
		.argsz = sizeof(cmd),
		.flags = flags,
		.iova = iova,
		.size = len,
	};
	int r = cioctl(ctx, KABI_VFIO_IOMMU_UNMAP_DMA, &cmd);

	if (r >= 0)
		*done = cmd.size;
	return r;
}

/*
 * VFIO_IOMMU_GET_INFO with its capability chain (argsz growth protocol):
 * a malloc()ed copy in *info (free it), 0 or -errno.
 */
static int get_info(struct iommufd_ctx *ctx, struct kabi_vfio_iommu_type1_info **info)
{
	uint32_t argsz = 256;

	for (int tries = 0; tries < 8; tries++) {
		struct kabi_vfio_iommu_type1_info *buf = calloc(1, argsz);
		int r;

		if (!buf)
			return -ENOMEM;
		buf->argsz = argsz;
		r = cioctl(ctx, KABI_VFIO_IOMMU_GET_INFO, buf);
		if (r < 0) {
			free(buf);
			return r;
		}
		if (buf->argsz > argsz) {
			argsz = buf->argsz;
			free(buf);
			continue;
		}
		*info = buf;
		return 0;
	}
	return -EAGAIN;
}

/* the capability id of info (0 if absent) */
static const void *info_cap(const struct kabi_vfio_iommu_type1_info *info, uint16_t id, size_t min)
{
	uint32_t off;
	unsigned int hops = 0;

	if (!(info->flags & KABI_VFIO_IOMMU_INFO_CAPS))
		return NULL;
	for (off = info->cap_offset; off && hops < 64; hops++) {
		const struct kabi_vfio_info_cap_header *h;

		if (off < sizeof(*info) || off > info->argsz || info->argsz - off < sizeof(*h))
			return NULL;
		h = (const void *)((const char *)info + off);
		if (h->id == id)
			return info->argsz - off >= min ? h : NULL;
		off = h->next;
	}
	return NULL;
}

/* one range, [0, 2^64 - 1], malloc()ed into *ranges */
static int whole_space(struct kabi_iova_range **ranges, size_t *nr)
{
	struct kabi_iova_range *out = malloc(sizeof(*out));

	if (!out)
		return -ENOMEM;
	out->start = 0;
	out->last = UINT64_MAX;
	*ranges = out;
	*nr = 1;
	return 0;
}

/*
 * The usable IOVA ranges: the kernel's once the IOMMU is set, [0, 2^64-1]
 * before (as an IOAS with no device). *ranges malloc()ed. *pgsize: the
 * smallest IOMMU page (the IOVA alignment).
 */
static int usable_ranges(struct iommufd_ctx *ctx, struct kabi_iova_range **ranges, size_t *nr,
			 uint64_t *pgsize)
{
	struct kabi_vfio_iommu_type1_info *info;
	const struct kabi_vfio_iommu_type1_info_cap_iova_range *cap;
	struct kabi_iova_range *out;
	int r;

	*pgsize = page_size();
	if (!ctx->t1->iommu_set)
		return whole_space(ranges, nr);
	r = get_info(ctx, &info);
	if (r < 0)
		return r;
	if ((info->flags & KABI_VFIO_IOMMU_INFO_PGSIZES) && info->iova_pgsizes)
		*pgsize = info->iova_pgsizes & -info->iova_pgsizes;
	cap = info_cap(info, KABI_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, sizeof(*cap));
	if (!cap) {
		/* a kernel before 5.4 has no IOVA range capability: the whole space */
		free(info);
		return whole_space(ranges, nr);
	}
	if ((size_t)cap->nr_iovas * sizeof(cap->iova_ranges[0]) >
	    info->argsz - (size_t)((const char *)cap->iova_ranges - (const char *)info)) {
		free(info);
		return -EPROTO;
	}
	out = calloc(cap->nr_iovas ? cap->nr_iovas : 1, sizeof(*out));
	if (!out) {
		free(info);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cap->nr_iovas; i++) {
		out[i].start = cap->iova_ranges[i].start;
		out[i].last = cap->iova_ranges[i].end;
	}
	*nr = cap->nr_iovas;
	*ranges = out;
	free(info);
	return 0;
}

/* ------------------------------------------------------- IOMMU driver */

/*
 * Set the IOMMU driver of the container (a group just joined it) and replay
 * the map table. On failure the kernel keeps no mapping of ours.
 */
static int set_iommu(struct iommufd_ctx *ctx, const char *func, bool noiommu)
{
	struct ifd_t1 *t = ctx->t1;
	uint32_t type = t->has_v2 ? KABI_VFIO_TYPE1v2_IOMMU : KABI_VFIO_TYPE1_IOMMU;
	size_t i;
	int r;

	if (noiommu) {
		/*
		 * a container of no-IOMMU groups takes the vfio-noiommu driver
		 * only (drivers/vfio/container.c vfio_iommu_driver_allowed():
		 * TYPE1v2 gives ENODEV); it maps nothing
		 */
		if (t->nr_maps)
			return ifd_fail(ctx, func, EINVAL,
					"type1: a no-IOMMU group joins a container with %zu mapping(s) made before: a no-IOMMU container translates nothing",
					t->nr_maps);
		r = cioctl(ctx, KABI_VFIO_SET_IOMMU, (void *)(uintptr_t)KABI_VFIO_NOIOMMU_IOMMU);
		if (r < 0)
			return ifd_fail(ctx, func, r,
					"type1: VFIO_SET_IOMMU(VFIO_NOIOMMU_IOMMU) on container fd %d%s", ctx->fd,
					r == -EPERM ? ": it needs CAP_SYS_RAWIO" : "");
		t->iommu_set = true;
		t->noiommu = true;
		t->iommu_type = KABI_VFIO_NOIOMMU_IOMMU;
		t->has_dirty = false;
		return 0;
	}
	if (!t->has_v2 && !t->has_v1)
		return ifd_fail(ctx, func, ENODEV,
				"type1: the container offers neither VFIO_TYPE1v2_IOMMU nor VFIO_TYPE1_IOMMU (CHECK_EXTENSION)");
	r = cioctl(ctx, KABI_VFIO_SET_IOMMU, (void *)(uintptr_t)type);
	if (r < 0 && type == KABI_VFIO_TYPE1v2_IOMMU && t->has_v1) {
		type = KABI_VFIO_TYPE1_IOMMU;
		r = cioctl(ctx, KABI_VFIO_SET_IOMMU, (void *)(uintptr_t)type);
	}
	if (r < 0)
		return ifd_fail(ctx, func, r, "type1: VFIO_SET_IOMMU(%s) on container fd %d",
				type == KABI_VFIO_TYPE1v2_IOMMU ? "VFIO_TYPE1v2_IOMMU" : "VFIO_TYPE1_IOMMU",
				ctx->fd);
	t->iommu_set = true;
	t->iommu_type = type;
	{
		struct kabi_vfio_iommu_type1_info *info;

		t->has_dirty = false;
		if (get_info(ctx, &info) == 0) {
			t->has_dirty = info_cap(info, KABI_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
						sizeof(struct kabi_vfio_iommu_type1_info_cap_migration)) != NULL;
			free(info);
		}
	}
	for (i = 0; i < t->nr_maps; i++) {
		r = kmap(ctx, &t->maps[i]);
		if (r < 0)
			break;
	}
	if (i == t->nr_maps)
		return 0;
	/* undo: the maps made so far; none of the table is in the kernel then */
	for (size_t j = 0; j < i; j++) {
		uint64_t done;

		kunmap(ctx, t->maps[j].iova, t->maps[j].len, 0, &done);
	}
	t->iommu_set = false;
	t->iommu_type = 0;
	return ifd_fail(ctx, func, r,
			"type1: replaying the map of iova 0x%llx, length 0x%llx (va %p) made before the first device: %s",
			(unsigned long long)t->maps[i].iova, (unsigned long long)t->maps[i].len,
			(void *)(uintptr_t)t->maps[i].va,
			r == -EINVAL ? "outside the IOVA ranges the container has now (reserved regions of the device)" :
			r == -EFAULT ? "the memory is no longer mapped" : "the kernel refused");
}

/*
 * A group left the container; the last one takes the IOMMU driver and every
 * mapping with it, unless iommufd serves the container: its compat IOAS,
 * and the mappings in it, stay (drivers/iommu/iommufd/vfio_compat.c).
 */
static void group_left_locked(struct iommufd_ctx *ctx)
{
	struct ifd_t1 *t = ctx->t1;

	if (t->groups_in && --t->groups_in == 0 && !t->compat) {
		t->iommu_set = false;
		t->noiommu = false;
		t->iommu_type = 0;
		t->dirty = false;
	}
}

/* ----------------------------------------------------------- commands */

/* the reason every command without a type1 equivalent gives */
static int no_equivalent(const char *what)
{
	ifd_fail_note("type1 mode (a VFIO container): %s has no type1 equivalent", what);
	return -EOPNOTSUPP;
}

/* iommufd's size rule: at least the known struct; more only if zero */
static int size_ok(const void *arg, size_t known)
{
	uint32_t size;

	memcpy(&size, arg, sizeof(size));
	if (size < known)
		return -EINVAL;
	for (size_t i = known; i < size; i++)
		if (((const uint8_t *)arg)[i])
			return -E2BIG;
	return 0;
}

static int check_ioas(struct ifd_t1 *t, uint32_t id)
{
	if (!id || id != t->ioas_id) {
		if (id == IFD_T1_HWPT_ID && t->ioas_id)
			ifd_fail_note("type1 mode: object %u is the container's HWPT, not an IOAS", id);
		else if (t->ioas_id)
			ifd_fail_note("type1 mode: the container's IOAS is %u", t->ioas_id);
		else
			ifd_fail_note("type1 mode: no IOAS allocated");
		return -ENOENT;
	}
	return 0;
}

static int cmd_ioas_alloc(struct iommufd_ctx *ctx, void *arg)
{
	struct kabi_ioas_alloc *cmd = arg;
	struct ifd_t1 *t = ctx->t1;

	if (cmd->flags)
		return -EOPNOTSUPP;
	if (t->ioas_id) {
		ifd_fail_note("type1 mode: a VFIO container is one I/O address space and has IOAS %u; another needs another context",
			      t->ioas_id);
		return -EOPNOTSUPP;
	}
	t->ioas_id = IFD_T1_IOAS_ID;
	cmd->out_ioas_id = t->ioas_id;
	return 0;
}

static int cmd_destroy(struct iommufd_ctx *ctx, void *arg)
{
	struct kabi_destroy *cmd = arg;
	struct ifd_t1 *t = ctx->t1;

	if (t->ioas_id && (cmd->id == t->ioas_id || cmd->id == IFD_T1_HWPT_ID)) {
		if (t->groups_in) {
			ifd_fail_note("type1 mode: %u group(s) of devices are in the container", t->groups_in);
			return -EBUSY;
		}
		if (cmd->id == IFD_T1_HWPT_ID) {
			ifd_fail_note("type1 mode: the container's HWPT exists only while a device is in it");
			return -ENOENT;
		}
		t->nr_maps = 0; /* nothing is in the kernel without a group */
		t->ioas_id = 0;
		return 0;
	}
	return -ENOENT;
}

static int cmd_iova_ranges(struct iommufd_ctx *ctx, void *arg)
{
	struct kabi_ioas_iova_ranges *cmd = arg;
	struct kabi_iova_range *ranges;
	uint64_t pgsize;
	size_t nr;
	int r;

	r = check_ioas(ctx->t1, cmd->ioas_id);
	if (r)
		return r;
	r = usable_ranges(ctx, &ranges, &nr, &pgsize);
	if (r < 0) {
		ifd_fail_note("type1 mode: VFIO_IOMMU_GET_INFO failed");
		return r;
	}
	if (nr > cmd->num_iovas) {
		cmd->num_iovas = (uint32_t)nr;
		free(ranges);
		return -EMSGSIZE;
	}
	if (nr) {
		if (!cmd->allowed_iovas) {
			free(ranges);
			return -EFAULT;
		}
		memcpy((void *)(uintptr_t)cmd->allowed_iovas, ranges, nr * sizeof(*ranges));
	}
	cmd->num_iovas = (uint32_t)nr;
	cmd->out_iova_alignment = pgsize;
	free(ranges);
	return 0;
}

/* iommufd's automatic IOVA (first fit, naturally aligned up to 2 MiB) within the usable ranges */
static int alloc_iova(struct iommufd_ctx *ctx, uint64_t va, uint64_t len, uint64_t *iova)
{
	struct ifd_t1 *t = ctx->t1;
	struct kabi_iova_range *ranges;
	uint64_t pgsize, align = 1, ps = page_size();
	size_t nr;
	int r;

	if (len == 0 || len >= UINT64_MAX / 2)
		return -EOVERFLOW;
	while (align < len && align < (1ull << 21))
		align <<= 1;
	if (va && (va & -va) < align)
		align = va & -va;
	r = usable_ranges(ctx, &ranges, &nr, &pgsize);
	if (r < 0)
		return r;
	if (align < pgsize)
		align = pgsize;
	/* IOVA 0 and the last page are never chosen, as by iommufd */
	for (size_t i = 0; i < nr; i++) {
		uint64_t lo = ranges[i].start < ps ? ps : ranges[i].start;
		uint64_t hi = ranges[i].last > UINT64_MAX - ps ? UINT64_MAX - ps : ranges[i].last;
		size_t m = map_first_after(t, lo);

		while (lo <= hi) {
			uint64_t hole_last, cand, end;

			if (m < t->nr_maps && t->maps[m].iova <= lo) {
				/* lo is inside map m: go past it */
				end = t->maps[m].iova + t->maps[m].len - 1;
				if (end >= hi)
					break;
				lo = end + 1;
				m++;
				continue;
			}
			hole_last = m < t->nr_maps && t->maps[m].iova <= hi ? t->maps[m].iova - 1 : hi;
			cand = (lo + align - 1) & ~(align - 1);
			if (cand >= lo && cand <= hole_last && hole_last - cand >= len - 1) {
				*iova = cand;
				free(ranges);
				return 0;
			}
			if (m >= t->nr_maps || t->maps[m].iova > hi)
				break;
			lo = t->maps[m].iova; /* the next round steps over map m */
		}
	}
	free(ranges);
	return -ENOSPC;
}

static int cmd_map(struct iommufd_ctx *ctx, void *arg)
{
	struct kabi_ioas_map *cmd = arg;
	struct ifd_t1 *t = ctx->t1;
	const uint32_t known = KABI_IOAS_MAP_FIXED_IOVA | KABI_IOAS_MAP_WRITEABLE | KABI_IOAS_MAP_READABLE;
	struct t1_map m = { .va = cmd->user_va, .len = cmd->length };
	uint64_t pgsize = page_size();
	int r;

	if ((cmd->flags & ~known) || cmd->reserved)
		return -EOPNOTSUPP;
	if (cmd->iova == UINT64_MAX || cmd->length == UINT64_MAX)
		return -EOVERFLOW;
	if (!(cmd->flags & (KABI_IOAS_MAP_WRITEABLE | KABI_IOAS_MAP_READABLE)))
		return -EINVAL;
	r = check_ioas(t, cmd->ioas_id);
	if (r)
		return r;
	if (cmd->user_va + cmd->length < cmd->user_va)
		return -EOVERFLOW;
	if (cmd->length == 0)
		return -EINVAL;
	/* type1 maps whole pages at page-aligned VAs and IOVAs (vfio_dma_do_map) */
	if ((cmd->length | cmd->user_va) & (pgsize - 1)) {
		ifd_fail_note("type1 mode: the length and the VA must be multiples of the page size (0x%llx)",
			      (unsigned long long)pgsize);
		return -EINVAL;
	}
	if (cmd->flags & KABI_IOAS_MAP_READABLE)
		m.prot |= KABI_VFIO_DMA_MAP_FLAG_READ;
	if (cmd->flags & KABI_IOAS_MAP_WRITEABLE)
		m.prot |= KABI_VFIO_DMA_MAP_FLAG_WRITE;
	if (cmd->flags & KABI_IOAS_MAP_FIXED_IOVA) {
		if (cmd->iova & (pgsize - 1))
			return -EINVAL;
		if (cmd->iova + cmd->length - 1 < cmd->iova)
			return -EOVERFLOW;
		m.iova = cmd->iova;
	} else {
		r = alloc_iova(ctx, cmd->user_va, cmd->length, &m.iova);
		if (r < 0) {
			if (r == -ENOSPC)
				ifd_fail_note("type1 mode: no hole of 0x%llx bytes in the container's IOVA ranges",
					      (unsigned long long)cmd->length);
			return r;
		}
	}
	if (overlaps(t, m.iova, m.iova + m.len - 1))
		return -EEXIST;
	if (t->iommu_set) {
		r = kmap(ctx, &m);
		if (r < 0) {
			if (r == -EINVAL)
				ifd_fail_note("type1 mode: VFIO_IOMMU_MAP_DMA refused (outside the container's IOVA ranges, or an invalid VA)");
			else if (r == -ENOSPC)
				ifd_fail_note("type1 mode: the container's DMA entry limit is reached (vfio_iommu_type1 dma_entry_limit)");
			return r;
		}
	}
	r = map_insert(t, &m);
	if (r < 0) {
		uint64_t done;

		if (t->iommu_set)
			kunmap(ctx, m.iova, m.len, 0, &done);
		return r;
	}
	cmd->iova = m.iova;
	return 0;
}

/* remove maps [i, j) from the kernel and the table; the kernel must confirm every byte */
static int unmap_span(struct iommufd_ctx *ctx, size_t i, size_t j, uint64_t *total)
{
	struct ifd_t1 *t = ctx->t1;

	while (j > i) {
		struct t1_map *m = &t->maps[i];
		uint64_t done = 0;
		int r;

		if (t->iommu_set) {
			r = kunmap(ctx, m->iova, m->len, 0, &done);
			if (r < 0) {
				ifd_fail_note("type1 mode: VFIO_IOMMU_UNMAP_DMA of iova 0x%llx, length 0x%llx",
					      (unsigned long long)m->iova, (unsigned long long)m->len);
				return r;
			}
			if (done != m->len) {
				/* never pass silently: the IOMMU may still translate part of it */
				ifd_fail_note("type1 mode: the kernel unmapped 0x%llx of the 0x%llx bytes at iova 0x%llx",
					      (unsigned long long)done, (unsigned long long)m->len,
					      (unsigned long long)m->iova);
				return -EIO;
			}
		}
		*total += m->len;
		map_remove(t, i);
		j--;
	}
	return 0;
}

static int cmd_unmap(struct iommufd_ctx *ctx, void *arg)
{
	struct kabi_ioas_unmap *cmd = arg;
	struct ifd_t1 *t = ctx->t1;
	uint64_t total = 0, last;
	size_t i, j;
	int r;

	r = check_ioas(t, cmd->ioas_id);
	if (r)
		return r;
	if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
		if (t->iommu_set && t->unmap_all && t->nr_maps) {
			uint64_t expect = 0, done = 0;

			for (i = 0; i < t->nr_maps; i++)
				expect += t->maps[i].len;
			r = kunmap(ctx, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, &done);
			if (r < 0) {
				ifd_fail_note("type1 mode: VFIO_IOMMU_UNMAP_DMA with VFIO_DMA_UNMAP_FLAG_ALL");
				return r;
			}
			t->nr_maps = 0;
			if (done != expect) {
				ifd_fail_note("type1 mode: unmapping everything, the kernel unmapped 0x%llx bytes, the library had 0x%llx mapped",
					      (unsigned long long)done, (unsigned long long)expect);
				return -EIO;
			}
			cmd->length = done;
			return 0;
		}
		r = unmap_span(ctx, 0, t->nr_maps, &total);
		if (r < 0)
			return r;
		cmd->length = total;
		return 0;
	}
	if (cmd->iova == UINT64_MAX || cmd->length == UINT64_MAX)
		return -EOVERFLOW;
	if (cmd->length == 0)
		return -EINVAL;
	last = cmd->iova + cmd->length - 1;
	if (last < cmd->iova)
		return -EOVERFLOW;
	i = map_first_after(t, cmd->iova);
	for (j = i; j < t->nr_maps && t->maps[j].iova <= last; j++) {
		if (t->maps[j].iova < cmd->iova || t->maps[j].iova + t->maps[j].len - 1 > last) {
			/* iommufd unmaps the areas before the one it cannot take whole */
			r = unmap_span(ctx, i, j, &total);
			if (r < 0)
				return r;
			ifd_fail_note("type1 mode: the range cuts the mapping at iova 0x%llx",
				      (unsigned long long)t->maps[i].iova);
			return -ENOENT;
		}
	}
	r = unmap_span(ctx, i, j, &total);
	if (r < 0)
		return r;
	if (!total)
		return -ENOENT;
	cmd->length = total;
	return 0;
}

static int check_hwpt(struct ifd_t1 *t, uint32_t id)
{
	if (id != IFD_T1_HWPT_ID || !t->iommu_set) {
		ifd_fail_note(t->iommu_set ? "type1 mode: the container's HWPT is %u" :
			      "type1 mode: the container has no HWPT until a device is attached (its domain is HWPT %u then)",
			      IFD_T1_HWPT_ID);
		return -ENOENT;
	}
	return 0;
}

static int cmd_set_dirty(struct iommufd_ctx *ctx, void *arg)
{
	struct kabi_hwpt_set_dirty_tracking *cmd = arg;
	struct ifd_t1 *t = ctx->t1;
	struct kabi_vfio_iommu_type1_dirty_bitmap d = { .argsz = sizeof(d) };
	bool on = cmd->flags & KABI_HWPT_DIRTY_TRACKING_ENABLE;
	int r;

	if (cmd->flags & ~KABI_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	r = check_hwpt(t, cmd->hwpt_id);
	if (r)
		return r;
	if (on == t->dirty)
		return 0;
	d.flags = on ? KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_START : KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP;
	r = cioctl(ctx, KABI_VFIO_IOMMU_DIRTY_PAGES, &d);
	if (r < 0) {
		if (r == -ENOTTY || r == -EINVAL) {
			ifd_fail_note("type1 mode: the container has no dirty page tracking (VFIO_IOMMU_DIRTY_PAGES: %s)",
				      ifd_errno_name(r));
			return -EOPNOTSUPP;
		}
		return r;
	}
	t->dirty = on;
	return 0;
}

static void bitmap_or(uint64_t *dst, uint64_t dst_bit, const uint64_t *src, uint64_t src_bit, uint64_t n)
{
	for (uint64_t k = 0; k < n; k++) {
		uint64_t s = src_bit + k, d = dst_bit + k;

		if (src[s / 64] >> (s % 64) & 1)
			dst[d / 64] |= 1ull << (d % 64);
	}
}

/*
 * IOMMU_HWPT_GET_DIRTY_BITMAP: type1's bitmaps cover whole mappings
 * (vfio_iova_dirty_bitmap()), so each mapping meeting the range is asked
 * whole and its bits inside the range are copied.
 */
static int cmd_get_dirty(struct iommufd_ctx *ctx, void *arg)
{
	struct kabi_hwpt_get_dirty_bitmap *cmd = arg;
	struct ifd_t1 *t = ctx->t1;
	uint64_t *user = (uint64_t *)(uintptr_t)cmd->data, last;
	int r;

	if ((cmd->flags & ~KABI_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) || cmd->reserved)
		return -EOPNOTSUPP;
	/*
	 * A flag the mode cannot honour is refused with the unknown ones,
	 * before any lookup, as iommufd orders it: so the flag probe of
	 * iommufd_ctx_supports_flags() answers 0 for it.
	 */
	if (cmd->flags & KABI_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) {
		ifd_fail_note("type1 mode: VFIO_IOMMU_DIRTY_PAGES always clears what it reports");
		return -EOPNOTSUPP;
	}
	r = check_hwpt(t, cmd->hwpt_id);
	if (r)
		return r;
	last = cmd->iova + cmd->length - 1;
	if (last < cmd->iova)
		return -EOVERFLOW;
	if (!cmd->page_size || (cmd->iova | (last + 1)) & (cmd->page_size - 1) ||
	    (cmd->iova | (last + 1)) & (page_size() - 1))
		return -EINVAL;
	if (!t->dirty) {
		ifd_fail_note("type1 mode: dirty tracking is not started (VFIO_IOMMU_DIRTY_PAGES needs it)");
		return -EINVAL;
	}
	if (!user)
		return -EFAULT;
	for (size_t i = map_first_after(t, cmd->iova); i < t->nr_maps && t->maps[i].iova <= last; i++) {
		const struct t1_map *m = &t->maps[i];
		uint64_t nbits = m->len / cmd->page_size, words = (nbits + 63) / 64;
		struct {
			struct kabi_vfio_iommu_type1_dirty_bitmap h;
			struct kabi_vfio_iommu_type1_dirty_bitmap_get g;
		} req = { 0 };
		uint64_t lo, hi, *bits;

		if (m->len % cmd->page_size || m->iova % cmd->page_size) {
			ifd_fail_note("type1 mode: the mapping at iova 0x%llx is not a multiple of page_size",
				      (unsigned long long)m->iova);
			return -EINVAL;
		}
		bits = calloc(words ? words : 1, sizeof(*bits));
		if (!bits)
			return -ENOMEM;
		req.h.argsz = sizeof(req);
		req.h.flags = KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
		req.g.iova = m->iova;
		req.g.size = m->len;
		req.g.bitmap.pgsize = cmd->page_size;
		req.g.bitmap.size = words * sizeof(*bits);
		req.g.bitmap.data = (uintptr_t)bits;
		r = cioctl(ctx, KABI_VFIO_IOMMU_DIRTY_PAGES, &req);
		if (r < 0) {
			free(bits);
			ifd_fail_note("type1 mode: VFIO_IOMMU_DIRTY_PAGES GET_BITMAP of iova 0x%llx, length 0x%llx, page size 0x%llx",
				      (unsigned long long)m->iova, (unsigned long long)m->len,
				      (unsigned long long)cmd->page_size);
			return r;
		}
		lo = m->iova > cmd->iova ? m->iova : cmd->iova;
		hi = m->iova + m->len - 1 < last ? m->iova + m->len - 1 : last;
		bitmap_or(user, (lo - cmd->iova) / cmd->page_size, bits, (lo - m->iova) / cmd->page_size,
			  (hi - lo + 1) / cmd->page_size);
		free(bits);
	}
	return 0;
}

/* the iommufd commands type1 answers: the struct size iommufd requires, and the handler */
static const struct {
	size_t size;
	int (*fn)(struct iommufd_ctx *ctx, void *arg);
} t1_cmds[KABI_CMD_LAST - KABI_CMD_BASE + 1] = {
#define T1_CMD(nr, type, handler) [nr - KABI_CMD_BASE] = { sizeof(struct type), handler }
	T1_CMD(KABI_CMD_DESTROY, kabi_destroy, cmd_destroy),
	T1_CMD(KABI_CMD_IOAS_ALLOC, kabi_ioas_alloc, cmd_ioas_alloc),
	T1_CMD(KABI_CMD_IOAS_IOVA_RANGES, kabi_ioas_iova_ranges, cmd_iova_ranges),
	T1_CMD(KABI_CMD_IOAS_MAP, kabi_ioas_map, cmd_map),
	T1_CMD(KABI_CMD_IOAS_UNMAP, kabi_ioas_unmap, cmd_unmap),
	T1_CMD(KABI_CMD_HWPT_SET_DIRTY_TRACKING, kabi_hwpt_set_dirty_tracking, cmd_set_dirty),
	T1_CMD(KABI_CMD_HWPT_GET_DIRTY_BITMAP, kabi_hwpt_get_dirty_bitmap, cmd_get_dirty),
#undef T1_CMD
};

int ifd_t1_supports(unsigned int cmd)
{
	return cmd >= KABI_CMD_BASE && cmd <= KABI_CMD_LAST && t1_cmds[cmd - KABI_CMD_BASE].fn;
}

static const char *cmd_what(unsigned int nr)
{
	switch (nr) {
	case KABI_CMD_IOAS_ALLOW_IOVAS:
		return "IOMMU_IOAS_ALLOW_IOVAS";
	case KABI_CMD_IOAS_COPY:
		return "IOMMU_IOAS_COPY";
	case KABI_CMD_OPTION:
		return "IOMMU_OPTION";
	case KABI_CMD_VFIO_IOAS:
		return "IOMMU_VFIO_IOAS";
	case KABI_CMD_HWPT_ALLOC:
		return "HWPT allocation";
	case KABI_CMD_GET_HW_INFO:
		return "IOMMU_GET_HW_INFO";
	case KABI_CMD_HWPT_INVALIDATE:
		return "IOMMU_HWPT_INVALIDATE";
	case KABI_CMD_FAULT_QUEUE_ALLOC:
		return "a fault queue";
	case KABI_CMD_IOAS_MAP_FILE:
		return "IOMMU_IOAS_MAP_FILE";
	case KABI_CMD_VIOMMU_ALLOC:
		return "a vIOMMU";
	case KABI_CMD_VDEVICE_ALLOC:
		return "a vDEVICE";
	case KABI_CMD_IOAS_CHANGE_PROCESS:
		return "IOMMU_IOAS_CHANGE_PROCESS";
	case KABI_CMD_VEVENTQ_ALLOC:
		return "a vEVENT queue";
	case KABI_CMD_HW_QUEUE_ALLOC:
		return "a HW queue";
	default:
		return "this command";
	}
}

int ifd_t1_ioctl(struct iommufd_ctx *ctx, unsigned long req, void *arg)
{
	struct ifd_t1 *t = ctx->t1;
	unsigned int nr = _IOC_NR(req);
	int r;

	if (_IOC_TYPE(req) != KABI_IOC_TYPE || nr < KABI_CMD_BASE || nr > KABI_CMD_LAST)
		return -ENOTTY;
	if (!ifd_t1_supports(nr)) {
		/*
		 * No handler ran, so nothing was done: HWPT_INVALIDATE's
		 * entry_num is an output (the entries done) the caller reads
		 * back on failure too.
		 */
		if (nr == KABI_CMD_HWPT_INVALIDATE && arg)
			((struct kabi_hwpt_invalidate *)arg)->entry_num = 0;
		return no_equivalent(cmd_what(nr));
	}
	if (!arg)
		return -EFAULT;
	pthread_mutex_lock(&t->lock);
	r = size_ok(arg, t1_cmds[nr - KABI_CMD_BASE].size);
	if (!r)
		r = t1_cmds[nr - KABI_CMD_BASE].fn(ctx, arg);
	pthread_mutex_unlock(&t->lock);
	return r;
}

/* -------------------------------------------------------------- setup */

int ifd_t1_init(struct iommufd_ctx *ctx, const char *func)
{
	struct kabi_destroy probe = { .size = sizeof(probe), .id = 0 };
	struct ifd_t1 *t;
	int r;

	r = cioctl(ctx, KABI_VFIO_GET_API_VERSION, NULL);
	if (r != KABI_VFIO_API_VERSION)
		return ifd_fail(NULL, func, r < 0 ? r : -ENOTTY,
				"fd %d is not a VFIO container (VFIO_GET_API_VERSION gave %d, expected %d)",
				ctx->fd, r, KABI_VFIO_API_VERSION);
	t = calloc(1, sizeof(*t));
	if (!t)
		return ifd_fail(NULL, func, ENOMEM, "allocating the type1 state");
	pthread_mutex_init(&t->lock, NULL);
	t->has_v2 = cioctl(ctx, KABI_VFIO_CHECK_EXTENSION, (void *)(uintptr_t)KABI_VFIO_TYPE1v2_IOMMU) > 0;
	t->has_v1 = cioctl(ctx, KABI_VFIO_CHECK_EXTENSION, (void *)(uintptr_t)KABI_VFIO_TYPE1_IOMMU) > 0;
	t->unmap_all = cioctl(ctx, KABI_VFIO_CHECK_EXTENSION, (void *)(uintptr_t)KABI_VFIO_UNMAP_ALL) > 0;
	/* iommufd's container answers its own commands: an ID 0 lookup gives ENOENT */
	t->compat = cioctl(ctx, KABI_IOMMU_DESTROY, &probe) == -ENOENT;
	/*
	 * An adopted container may already have its IOMMU driver (a group
	 * joined it before): then VFIO_IOMMU_GET_INFO answers.
	 */
	{
		struct kabi_vfio_iommu_type1_info info = { .argsz = sizeof(info) };

		if (cioctl(ctx, KABI_VFIO_IOMMU_GET_INFO, &info) == 0) {
			t->iommu_set = true;
			t->groups_in = 1; /* at least one, not ours: never released by us */
			t->iommu_type = t->has_v2 ? KABI_VFIO_TYPE1v2_IOMMU : KABI_VFIO_TYPE1_IOMMU;
		}
	}
	if (!t->has_v2 && !t->has_v1) {
		pthread_mutex_destroy(&t->lock);
		free(t);
		return ifd_fail(NULL, func, ENODEV,
				"the VFIO container (fd %d) offers no type1 IOMMU (CHECK_EXTENSION of VFIO_TYPE1v2_IOMMU and VFIO_TYPE1_IOMMU gave 0): is vfio_iommu_type1 loaded?",
				ctx->fd);
	}
	t->next_dev_id = IFD_T1_HWPT_ID + 1;
	ctx->t1 = t;
	return 0;
}

void ifd_t1_free(struct iommufd_ctx *ctx)
{
	struct ifd_t1 *t = ctx->t1;

	if (!t)
		return;
	/* the devices hold context references: no group is left but leaked ones */
	for (size_t i = 0; i < t->nr_groups; i++)
		be_close(ctx->be, t->groups[i].fd);
	free(t->groups);
	free(t->maps);
	pthread_mutex_destroy(&t->lock);
	free(t);
	ctx->t1 = NULL;
}

void ifd_t1_mode_info(struct iommufd_ctx *ctx, uint32_t *flags, uint32_t *iommu_type)
{
	struct ifd_t1 *t = ctx->t1;

	pthread_mutex_lock(&t->lock);
	*flags = (t->compat ? IOMMUFD_MODE_INFO_COMPAT : 0) |
		 (t->iommu_set ? IOMMUFD_MODE_INFO_IOMMU_SET : 0) |
		 (t->iommu_set && t->has_dirty ? IOMMUFD_MODE_INFO_DIRTY : 0);
	*iommu_type = t->iommu_type;
	pthread_mutex_unlock(&t->lock);
}

/* ------------------------------------------------------------ devices */

static struct t1_group *group_find(struct ifd_t1 *t, int nr)
{
	for (size_t i = 0; i < t->nr_groups; i++)
		if (t->groups[i].nr == nr)
			return &t->groups[i];
	return NULL;
}

/* open group nr and put it into the container; the caller holds t->lock */
static int group_join(struct iommufd_ctx *ctx, const char *func, int nr, struct t1_group **ret)
{
	struct ifd_t1 *t = ctx->t1;
	struct kabi_vfio_group_status st = { .argsz = sizeof(st) };
	struct t1_group *n;
	char path[64];
	int32_t cfd = ctx->fd;
	bool noiommu;
	int fd, r;

	n = reallocarray(t->groups, t->nr_groups + 1, sizeof(*n));
	if (!n)
		return ifd_fail(ctx, func, ENOMEM, "type1: group %d", nr);
	t->groups = n;
	noiommu = ifd_group_node(ctx->be, nr, path, sizeof(path));
	fd = be_open(ctx->be, path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return ifd_fail(ctx, func, fd, "type1: open %s%s", path,
				fd == -EBUSY ? ": the group is open elsewhere (another container or process), or a device of it is open through its cdev" :
				fd == -ENOENT ? ": no such VFIO group (is the device bound to vfio-pci?)" : "");
	r = be_ioctl(ctx->be, fd, KABI_VFIO_GROUP_GET_STATUS, &st);
	if (r < 0) {
		be_close(ctx->be, fd);
		return ifd_fail(ctx, func, r, "type1: VFIO_GROUP_GET_STATUS of %s", path);
	}
	if (!(st.flags & KABI_VFIO_GROUP_FLAGS_VIABLE)) {
		be_close(ctx->be, fd);
		return ifd_fail(ctx, func, EPERM,
				"type1: group %d is not viable: every device of it must be bound to vfio-pci (or to no driver)",
				nr);
	}
	if (st.flags & KABI_VFIO_GROUP_FLAGS_CONTAINER_SET) {
		be_close(ctx->be, fd);
		return ifd_fail(ctx, func, EBUSY, "type1: group %d is already in a container", nr);
	}
	r = be_ioctl(ctx->be, fd, KABI_VFIO_GROUP_SET_CONTAINER, &cfd);
	if (r < 0) {
		be_close(ctx->be, fd);
		return ifd_fail(ctx, func, r, "type1: VFIO_GROUP_SET_CONTAINER of group %d into container fd %d%s",
				nr, cfd,
				r == -EPERM && (noiommu || t->noiommu) ? ": no-IOMMU and IOMMU groups do not mix in a container, and a no-IOMMU group needs CAP_SYS_RAWIO" :
				r == -EPERM ? ": the group's DMA is owned elsewhere, or its IOMMU is incompatible with the container's" :
				r == -EINVAL ? ": the group already has a container" : "");
	}
	t->groups_in++;
	if (!t->iommu_set) {
		r = set_iommu(ctx, func, noiommu);
		if (r < 0) {
			be_ioctl(ctx->be, fd, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL);
			be_close(ctx->be, fd);
			group_left_locked(ctx);
			return r;
		}
	}
	t->groups[t->nr_groups] = (struct t1_group){ .nr = nr, .fd = fd, .noiommu = noiommu };
	*ret = &t->groups[t->nr_groups++];
	return 0;
}

static void group_put_locked(struct iommufd_ctx *ctx, int nr)
{
	struct ifd_t1 *t = ctx->t1;
	struct t1_group *g = group_find(t, nr);

	if (!g || --g->devs)
		return;
	/* closing the group takes it out of the container */
	be_close(ctx->be, g->fd);
	*g = t->groups[--t->nr_groups];
	group_left_locked(ctx);
}

int ifd_t1_dev_bind(struct iommufd_ctx *ctx, const char *func, const char *bdf, int group,
		    const uint8_t *token, int *fd, uint32_t *dev_id, bool *noiommu)
{
	struct ifd_t1 *t = ctx->t1;
	struct t1_group *g;
	char name[128];
	int r;

	if (token)
		snprintf(name, sizeof(name),
			 "%s vf_token=%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bdf,
			 token[0], token[1], token[2], token[3], token[4], token[5], token[6], token[7],
			 token[8], token[9], token[10], token[11], token[12], token[13], token[14], token[15]);
	else
		snprintf(name, sizeof(name), "%s", bdf);
	pthread_mutex_lock(&t->lock);
	g = group_find(t, group);
	if (!g) {
		r = group_join(ctx, func, group, &g);
		if (r < 0) {
			pthread_mutex_unlock(&t->lock);
			return r;
		}
	}
	g->devs++;
	r = be_ioctl(ctx->be, g->fd, KABI_VFIO_GROUP_GET_DEVICE_FD, name);
	if (r < 0) {
		r = ifd_fail(ctx, func, r, "type1: VFIO_GROUP_GET_DEVICE_FD(%s) on group %d%s", bdf, group,
			     r == -EBUSY ? ": the device is already open" :
			     r == -EACCES ? ": VF token missing or wrong" :
			     r == -ENODEV ? ": the device is not in that group" : "");
		group_put_locked(ctx, group);
		pthread_mutex_unlock(&t->lock);
		return r;
	}
	*fd = r;
	*noiommu = g->noiommu;
	/* a no-IOMMU device is bound to nothing: no DEVICE ID */
	*dev_id = g->noiommu ? 0 : t->next_dev_id++;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

void ifd_t1_dev_release(struct iommufd_ctx *ctx, int group, bool attached)
{
	struct ifd_t1 *t = ctx->t1;

	pthread_mutex_lock(&t->lock);
	if (attached && t->attached)
		t->attached--;
	group_put_locked(ctx, group);
	pthread_mutex_unlock(&t->lock);
}

int ifd_t1_dev_attach(struct iommufd_ctx *ctx, const char *func, const char *name, uint32_t pt_id,
		      bool was_attached, uint32_t *hwpt_id)
{
	struct ifd_t1 *t = ctx->t1;

	pthread_mutex_lock(&t->lock);
	if (!t->ioas_id || (pt_id != t->ioas_id && pt_id != IFD_T1_HWPT_ID)) {
		pthread_mutex_unlock(&t->lock);
		return ifd_fail(ctx, func, ENOENT,
				"%s: type1 mode: pt %u is neither the container's IOAS (%u) nor its HWPT (%u)",
				name, pt_id, t->ioas_id, IFD_T1_HWPT_ID);
	}
	if (!was_attached)
		t->attached++;
	pthread_mutex_unlock(&t->lock);
	*hwpt_id = IFD_T1_HWPT_ID;
	return 0;
}

int ifd_t1_group_joined(struct iommufd_ctx *ctx, const char *func, const char *path, bool noiommu)
{
	struct ifd_t1 *t = ctx->t1;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	t->groups_in++;
	if (!t->iommu_set) {
		r = set_iommu(ctx, func, noiommu);
		if (r < 0)
			group_left_locked(ctx);
	}
	pthread_mutex_unlock(&t->lock);
	(void)path;
	return r;
}

void ifd_t1_group_left(struct iommufd_ctx *ctx)
{
	pthread_mutex_lock(&ctx->t1->lock);
	group_left_locked(ctx);
	pthread_mutex_unlock(&ctx->t1->lock);
}
