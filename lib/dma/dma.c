// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * struct iommufd_dma: registrations (VA -> IOVA) of one IOAS, with IOVAs from
 * the library's allocator (iova.c) and a lock-free translation table
 * (xlate.c). Writers take dma->lock; translations take no lock.
 *
 * Order of a registration: IOVA, kernel map (FIXED_IOVA), table entry, so a
 * translation never gives an IOVA the kernel has not mapped yet. Order of an
 * unregistration: table entry out, kernel unmap, IOVA back, so once
 * the table no longer gives the IOVA, the device stops reaching the memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dma-private.h"

#define MAP_RW (IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE)
#define REG_FLAGS (IOMMUFD_DMA_REG_FIXED_IOVA | IOMMUFD_DMA_REG_READ_ONLY)

static inline struct dma_region *rg(const struct ifd_tnode *n)
{
	return n ? tnode_entry(n, struct dma_region, node) : NULL;
}

static uint64_t page_size(void)
{
	static uint64_t ps;
	uint64_t p = __atomic_load_n(&ps, __ATOMIC_RELAXED);

	if (!p) {
		long v = sysconf(_SC_PAGESIZE);

		p = v > 0 ? (uint64_t)v : 4096;
		__atomic_store_n(&ps, p, __ATOMIC_RELAXED);
	}
	return p;
}

int ifd_dma_check(const struct iommufd_dma *dma, const char *func)
{
	if (_likely_(dma->fork_gen == __atomic_load_n(&ifd_dma_fork_gen, __ATOMIC_RELAXED)))
		return 0;
	return ifd_fail(dma->ctx, func, ECHILD, "DMA manager of ioas %u made before fork, used in %d",
			dma->ioas_id, (int)getpid());
}

#define CHECK_DMA(dma)                                                          \
	do {                                                                    \
		int r__;                                                        \
		if (!(dma))                                                     \
			return FAIL(NULL, EINVAL, "dma is NULL");               \
		r__ = ifd_dma_check((dma), __func__);                           \
		if (r__)                                                        \
			return r__;                                             \
	} while (0)

/* the usable ranges, clipped to [max(min, granule), max] and sorted */
static int load_ranges(struct iommufd_dma *dma, const char *func, struct iommufd_iova_range **out,
		       size_t *nr_out, uint64_t *granule)
{
	struct iommufd_iova_range *rs = NULL;
	uint64_t align = 0, g, lo, hi;
	size_t nr = 0, k = 0;
	char why[256];
	int r;

	r = iommufd_ioas_iova_ranges(dma->ctx, dma->ioas_id, &rs, &nr, &align);
	if (r < 0) {
		snprintf(why, sizeof(why), "%s", iommufd_last_error());
		return ifd_fail(dma->ctx, func, r, "IOVA ranges of ioas %u: %s", dma->ioas_id, why);
	}
	g = page_size();
	if (align > g && !(align & (align - 1)))
		g = align;
	lo = dma->iova_min > g ? dma->iova_min : g; /* never IOVA 0 */
	hi = dma->iova_max ? dma->iova_max : UINT64_MAX;
	if (hi > UINT64_MAX - g)
		hi = UINT64_MAX - g; /* iova + length stays representable */
	for (size_t i = 0; i < nr; i++) {
		uint64_t s = rs[i].start > lo ? rs[i].start : lo;
		uint64_t e = rs[i].last < hi ? rs[i].last : hi;

		if (s > e)
			continue;
		/* whole granules only */
		s = (s + g - 1) & ~(g - 1);
		if (e + 1 < g)
			continue;
		e = ((e + 1) & ~(g - 1)) - 1;
		if (s > e)
			continue;
		rs[k].start = s;
		rs[k].last = e;
		k++;
	}
	/* the kernel reports them sorted; keep that an invariant anyway */
	for (size_t i = 1; i < k; i++)
		for (size_t j = i; j > 0 && rs[j - 1].start > rs[j].start; j--) {
			struct iommufd_iova_range t = rs[j];

			rs[j] = rs[j - 1];
			rs[j - 1] = t;
		}
	*out = rs;
	*nr_out = k;
	*granule = g;
	return 0;
}

IOMMUFD_EXPORT int iommufd_dma_new(struct iommufd_ctx *ctx, uint32_t ioas_id,
				   const struct iommufd_dma_opts *opts, struct iommufd_dma **ret)
{
	struct iommufd_dma_opts o;
	struct iommufd_iova_range *rs;
	struct iommufd_dma *dma;
	uint64_t g;
	size_t nr;
	int r;

	if (!ctx)
		return FAIL(NULL, EINVAL, "ctx is NULL");
	r = ifd_ctx_check(ctx, __func__);
	if (r)
		return r;
	if (!ret)
		return FAIL(ctx, EINVAL, "ret is NULL");
	r = ifd_ext_copy_in(&o, sizeof(o), opts, sizeof(size_t));
	if (r)
		return FAIL(ctx, r, "opts: sz %zu %s", opts ? opts->sz : 0,
			    r == -E2BIG ? "has unknown non-zero fields" : "is too small");
	if (o.flags & ~IOMMUFD_DMA_IOVA_EQ_VA)
		return FAIL(ctx, EINVAL, "unknown flags 0x%x (ioas %u)", o.flags & ~IOMMUFD_DMA_IOVA_EQ_VA,
			    ioas_id);
	if (o.map_flags & ~MAP_RW)
		return FAIL(ctx, EINVAL, "map_flags 0x%x: only IOMMUFD_MAP_READ and IOMMUFD_MAP_WRITE",
			    o.map_flags);
	if (o.iova_max && o.iova_max < o.iova_min)
		return FAIL(ctx, EINVAL, "iova_max 0x%llx below iova_min 0x%llx",
			    (unsigned long long)o.iova_max, (unsigned long long)o.iova_min);
	ifd_rcu_init();
	dma = calloc(1, sizeof(*dma));
	if (!dma)
		return FAIL(ctx, ENOMEM, "DMA manager of ioas %u", ioas_id);
	if (xl_init(&dma->xl)) {
		free(dma);
		return FAIL(ctx, ENOMEM, "translation table of ioas %u: no address space", ioas_id);
	}
	dma->fork_gen = __atomic_load_n(&ifd_dma_fork_gen, __ATOMIC_RELAXED);
	dma->refcount = 1;
	dma->ctx = iommufd_ctx_ref(ctx);
	dma->ioas_id = ioas_id;
	dma->flags = o.flags;
	dma->map_flags = o.map_flags ? o.map_flags : MAP_RW;
	dma->iova_min = o.iova_min;
	dma->iova_max = o.iova_max;
	pthread_mutex_init(&dma->lock, NULL);
	r = load_ranges(dma, __func__, &rs, &nr, &g);
	if (r)
		goto fail;
	ifd_iova_init(&dma->iova, g);
	r = ifd_iova_set_ranges(&dma->iova, rs, nr);
	free(rs);
	if (r) {
		r = FAIL(ctx, r, "IOVA allocator of ioas %u", ioas_id);
		goto fail;
	}
	dbg(ctx, "dma: ioas %u, %zu usable ranges, granule 0x%llx", ioas_id, nr, (unsigned long long)g);
	*ret = dma;
	return 0;
fail:
	ifd_iova_fini(&dma->iova);
	iommufd_ctx_unref(dma->ctx);
	pthread_mutex_destroy(&dma->lock);
	xl_fini(&dma->xl);
	free(dma);
	return r;
}

IOMMUFD_EXPORT struct iommufd_dma *iommufd_dma_ref(struct iommufd_dma *dma)
{
	if (dma)
		__atomic_add_fetch(&dma->refcount, 1, __ATOMIC_RELAXED);
	return dma;
}

static void free_regions(struct iommufd_dma *dma, struct ifd_tnode *n, bool unmap)
{
	struct dma_region *reg;

	if (!n)
		return;
	free_regions(dma, n->l, unmap);
	free_regions(dma, n->r, unmap);
	reg = rg(n);
	if (unmap)
		iommufd_ioas_unmap(dma->ctx, dma->ioas_id, reg->iova, reg->len, NULL);
	free(reg);
}

IOMMUFD_EXPORT struct iommufd_dma *iommufd_dma_unref(struct iommufd_dma *dma)
{
	bool parent;

	if (!dma || __atomic_sub_fetch(&dma->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	/* in a child after fork the IOAS is the parent's: leave its maps alone */
	parent = dma->fork_gen == __atomic_load_n(&ifd_dma_fork_gen, __ATOMIC_RELAXED);
	free_regions(dma, dma->regions.root, parent);
	xl_fini(&dma->xl);
	ifd_iova_fini(&dma->iova);
	pthread_mutex_destroy(&dma->lock);
	iommufd_ctx_unref(dma->ctx);
	free(dma);
	return NULL;
}

IOMMUFD_EXPORT int iommufd_dma_refresh_ranges(struct iommufd_dma *dma)
{
	struct iommufd_iova_range *rs;
	uint64_t g;
	size_t nr;
	int r;

	CHECK_DMA(dma);
	pthread_mutex_lock(&dma->lock);
	r = load_ranges(dma, __func__, &rs, &nr, &g);
	if (!r) {
		if (g != dma->iova.granule) {
			free(rs);
			r = FAIL(dma->ctx, EOPNOTSUPP, "IOVA alignment of ioas %u changed from 0x%llx to 0x%llx",
				 dma->ioas_id, (unsigned long long)dma->iova.granule, (unsigned long long)g);
		} else {
			r = ifd_iova_set_ranges(&dma->iova, rs, nr);
			free(rs);
			if (r)
				r = FAIL(dma->ctx, r, "IOVA allocator of ioas %u: %zu ranges", dma->ioas_id, nr);
		}
	}
	pthread_mutex_unlock(&dma->lock);
	return r;
}

IOMMUFD_EXPORT int iommufd_dma_iova_alloc(struct iommufd_dma *dma, uint64_t len, uint64_t align, uint64_t *iova)
{
	uint64_t rlen;
	int r;

	CHECK_DMA(dma);
	if (!iova)
		return FAIL(dma->ctx, EINVAL, "iova is NULL");
	if (!len || (align & (align - 1)))
		return FAIL(dma->ctx, EINVAL, "length 0x%llx, align 0x%llx: need length > 0, align a power of two",
			    (unsigned long long)len, (unsigned long long)align);
	pthread_mutex_lock(&dma->lock);
	rlen = ifd_iova_round(&dma->iova, len);
	if (!align)
		align = ifd_iova_default_align(&dma->iova, rlen);
	if (align < dma->iova.granule)
		align = dma->iova.granule;
	r = rlen ? ifd_iova_alloc(&dma->iova, rlen, align, iova) : -ENOSPC;
	pthread_mutex_unlock(&dma->lock);
	if (r)
		return FAIL(dma->ctx, r, "0x%llx bytes aligned to 0x%llx in ioas %u (0x%llx bytes free)",
			    (unsigned long long)len, (unsigned long long)align, dma->ioas_id,
			    (unsigned long long)dma->iova.free_bytes);
	return 0;
}

IOMMUFD_EXPORT int iommufd_dma_iova_free(struct iommufd_dma *dma, uint64_t iova, uint64_t len)
{
	int r;

	CHECK_DMA(dma);
	pthread_mutex_lock(&dma->lock);
	r = ifd_iova_free(&dma->iova, iova, ifd_iova_round(&dma->iova, len));
	pthread_mutex_unlock(&dma->lock);
	if (r)
		return FAIL(dma->ctx, r, "iova 0x%llx length 0x%llx: not an allocated block (ioas %u)",
			    (unsigned long long)iova, (unsigned long long)len, dma->ioas_id);
	return 0;
}

/* the region holding va, or NULL */
static struct dma_region *region_at(const struct iommufd_dma *dma, uint64_t va)
{
	struct dma_region *reg = rg(ifd_treap_le(&dma->regions, va));

	return reg && va - reg->node.key < reg->len ? reg : NULL;
}

int ifd_dma_register_locked(struct iommufd_dma *dma, const char *func, void *va, uint64_t len,
			    uint32_t flags, int memfd, uint64_t *iova, uint32_t rflags)
{
	uint64_t v = (uint64_t)(uintptr_t)va, ps = page_size(), a, rlen, align;
	uint32_t mflags = IOMMUFD_MAP_FIXED_IOVA | dma->map_flags;
	struct dma_region *reg, *prev;
	char why[256];
	int r;

	if (!len || (v & (ps - 1)) || (len & (ps - 1)) || v + len < v)
		return ifd_fail(dma->ctx, func, EINVAL, "va %p length 0x%llx: need page-aligned va and length > 0",
				va, (unsigned long long)len);
	if ((v + len - 1) >> XL_VA_BITS)
		return ifd_fail(dma->ctx, func, ERANGE, "va %p length 0x%llx: above the 48-bit VA space",
				va, (unsigned long long)len);
	prev = rg(ifd_treap_le(&dma->regions, v + len - 1));
	if (prev && prev->node.key + prev->len > v)
		return ifd_fail(dma->ctx, func, EEXIST,
				"va %p length 0x%llx overlaps the registration at 0x%llx length 0x%llx",
				va, (unsigned long long)len, (unsigned long long)prev->node.key,
				(unsigned long long)prev->len);
	if (flags & IOMMUFD_DMA_REG_READ_ONLY)
		mflags &= ~IOMMUFD_MAP_WRITE;
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return ifd_fail(dma->ctx, func, ENOMEM, "registration of va %p", va);
	rlen = ifd_iova_round(&dma->iova, len);
	/* the IOVA: given, identity, or allocated (aligned like its size class, or like va's
	 * offset in a 2 MiB page so the IOMMU can use large pages) */
	if (flags & IOMMUFD_DMA_REG_FIXED_IOVA || dma->flags & IOMMUFD_DMA_IOVA_EQ_VA) {
		a = flags & IOMMUFD_DMA_REG_FIXED_IOVA ? *iova : v;
		r = ifd_iova_reserve(&dma->iova, a, rlen);
		if (r) {
			free(reg);
			return ifd_fail(dma->ctx, func, r == -EINVAL ? EINVAL : EADDRNOTAVAIL,
					"iova 0x%llx length 0x%llx: %s (ioas %u)", (unsigned long long)a,
					(unsigned long long)rlen,
					r == -EINVAL ? "not aligned to the IOVA granule" :
						       "not free or outside the usable ranges",
					dma->ioas_id);
		}
	} else {
		align = ifd_iova_default_align(&dma->iova, rlen);
		if ((uint32_t)rflags >> 16) /* the buffer's alignment, from buf.c */
			align = 1ull << (rflags >> 16);
		r = ifd_iova_alloc(&dma->iova, rlen, align, &a);
		if (r) {
			free(reg);
			return ifd_fail(dma->ctx, func, r == -ENOSPC ? ENOSPC : r,
					"no IOVA for 0x%llx bytes aligned to 0x%llx in ioas %u (0x%llx bytes free)",
					(unsigned long long)rlen, (unsigned long long)align, dma->ioas_id,
					(unsigned long long)dma->iova.free_bytes);
		}
	}
	if (memfd >= 0)
		r = iommufd_ioas_map_file(dma->ctx, dma->ioas_id, memfd, 0, len, &a, mflags);
	else
		r = iommufd_ioas_map(dma->ctx, dma->ioas_id, va, len, &a, mflags);
	if (r < 0) {
		snprintf(why, sizeof(why), "%s", iommufd_last_error());
		ifd_iova_free(&dma->iova, a, rlen);
		free(reg);
		return ifd_fail(dma->ctx, func, r, "registration of va %p length 0x%llx: %s", va,
				(unsigned long long)len, why);
	}
	r = xl_insert(&dma->xl, v, len, a);
	if (r) {
		iommufd_ioas_unmap(dma->ctx, dma->ioas_id, a, len, NULL);
		ifd_iova_free(&dma->iova, a, rlen);
		free(reg);
		return ifd_fail(dma->ctx, func, r, "translation entry of va %p length 0x%llx", va,
				(unsigned long long)len);
	}
	reg->node.key = v;
	reg->len = len;
	reg->iova = a;
	reg->flags = rflags & 0xffff;
	ifd_treap_insert(&dma->regions, &reg->node);
	*iova = a;
	return 0;
}

IOMMUFD_EXPORT int iommufd_dma_register(struct iommufd_dma *dma, void *va, size_t len, uint32_t flags,
					uint64_t *iova)
{
	int r;

	CHECK_DMA(dma);
	if (!iova)
		return FAIL(dma->ctx, EINVAL, "iova is NULL");
	if (flags & ~REG_FLAGS)
		return FAIL(dma->ctx, EINVAL, "unknown flags 0x%x", flags & ~REG_FLAGS);
	pthread_mutex_lock(&dma->lock);
	r = ifd_dma_register_locked(dma, __func__, va, len, flags, -1, iova, 0);
	pthread_mutex_unlock(&dma->lock);
	return r;
}

int ifd_dma_unregister_locked(struct iommufd_dma *dma, const char *func, void *va, uint64_t len,
			      bool buf)
{
	uint64_t v = (uint64_t)(uintptr_t)va, unmapped = 0;
	struct dma_region *reg = region_at(dma, v);
	int32_t zero = 0;
	char why[256];
	int r;

	if (!reg)
		return ifd_fail(dma->ctx, func, ENOENT, "va %p is not registered (ioas %u)", va, dma->ioas_id);
	if (reg->node.key != v || reg->len != len)
		return ifd_fail(dma->ctx, func, EINVAL,
				"va %p length 0x%llx is not one registration: the one there is va 0x%llx length 0x%llx",
				va, (unsigned long long)len, (unsigned long long)reg->node.key,
				(unsigned long long)reg->len);
	if (!buf && (reg->flags & DMA_REGION_BUF))
		return ifd_fail(dma->ctx, func, EINVAL, "va %p is a DMA buffer: free it with iommufd_dma_buf_free()",
				va);
	if (!__atomic_compare_exchange_n(&reg->pins, &zero, -1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return ifd_fail(dma->ctx, func, EBUSY, "va %p length 0x%llx is pinned (%d pins): in flight",
				va, (unsigned long long)len, (int)zero);
	r = xl_remove(&dma->xl, v, len);
	if (r) {
		__atomic_store_n(&reg->pins, 0, __ATOMIC_RELEASE);
		return ifd_fail(dma->ctx, func, r, "translation entry of va %p", va);
	}
	ifd_treap_remove(&dma->regions, &reg->node);
	r = iommufd_ioas_unmap(dma->ctx, dma->ioas_id, reg->iova, len, &unmapped);
	if (r < 0 || unmapped != len) {
		/* the IOVA may still be (partly) mapped: never hand it out again */
		if (r < 0)
			snprintf(why, sizeof(why), "%s", iommufd_last_error());
		else
			snprintf(why, sizeof(why), "the kernel unmapped 0x%llx of 0x%llx bytes",
				 (unsigned long long)unmapped, (unsigned long long)len);
		dma->quarantined += ifd_iova_round(&dma->iova, reg->len);
		ifd_fail(dma->ctx, func, r < 0 ? r : EIO, "unmap of va %p iova 0x%llx length 0x%llx: %s", va,
			 (unsigned long long)reg->iova, (unsigned long long)len, why);
		free(reg);
		return r < 0 ? r : -EIO;
	}
	ifd_iova_free(&dma->iova, reg->iova, ifd_iova_round(&dma->iova, reg->len));
	free(reg);
	return 0;
}

IOMMUFD_EXPORT int iommufd_dma_unregister(struct iommufd_dma *dma, void *va, size_t len)
{
	int r;

	CHECK_DMA(dma);
	pthread_mutex_lock(&dma->lock);
	r = ifd_dma_unregister_locked(dma, __func__, va, len, false);
	pthread_mutex_unlock(&dma->lock);
	return r;
}

static int pin(struct iommufd_dma *dma, const char *func, const void *va, int d)
{
	struct dma_region *reg;
	int32_t c;
	int r = 0;

	pthread_mutex_lock(&dma->lock);
	reg = region_at(dma, (uint64_t)(uintptr_t)va);
	if (!reg) {
		r = ifd_fail(dma->ctx, func, ENOENT, "va %p is not registered (ioas %u)", va, dma->ioas_id);
	} else {
		c = __atomic_load_n(&reg->pins, __ATOMIC_RELAXED);
		if (d < 0 && c <= 0)
			r = ifd_fail(dma->ctx, func, EINVAL, "va %p is not pinned", va);
		else if (d > 0 && c == INT32_MAX)
			r = ifd_fail(dma->ctx, func, EOVERFLOW, "va %p: too many pins", va);
		else
			__atomic_add_fetch(&reg->pins, d, __ATOMIC_ACQ_REL);
	}
	pthread_mutex_unlock(&dma->lock);
	return r;
}

IOMMUFD_EXPORT int iommufd_dma_pin(struct iommufd_dma *dma, const void *va)
{
	CHECK_DMA(dma);
	return pin(dma, __func__, va, 1);
}

IOMMUFD_EXPORT int iommufd_dma_unpin(struct iommufd_dma *dma, const void *va)
{
	CHECK_DMA(dma);
	return pin(dma, __func__, va, -1);
}

IOMMUFD_EXPORT int iommufd_dma_translate(const struct iommufd_dma *dma, const void *va, uint64_t *iova,
					 size_t *len)
{
	struct ifd_rcu_reader *rd;
	uint64_t io, l;
	int r;

	if (_unlikely_(!dma || !iova))
		return FAIL(dma ? dma->ctx : NULL, EINVAL, "%s is NULL", dma ? "iova" : "dma");
	if (_unlikely_(dma->fork_gen != __atomic_load_n(&ifd_dma_fork_gen, __ATOMIC_RELAXED)))
		return ifd_dma_check(dma, __func__);
	rd = ifd_rcu_read_lock();
	r = xl_lookup(&dma->xl, (uint64_t)(uintptr_t)va, &io, &l);
	ifd_rcu_read_unlock(rd);
	if (_unlikely_(r))
		return FAIL(dma->ctx, ENOENT, "va %p is not registered (ioas %u)", va, dma->ioas_id);
	*iova = io;
	if (len)
		*len = l > SIZE_MAX ? SIZE_MAX : (size_t)l;
	return 0;
}

IOMMUFD_EXPORT int iommufd_dma_translate_iov(const struct iommufd_dma *dma, const struct iovec *iov,
					     size_t iovcnt, struct iommufd_dma_seg *segs, size_t max_segs,
					     size_t *nr_segs)
{
	struct ifd_rcu_reader *rd;
	size_t n = 0;
	int r = 0;

	if (!dma || (iovcnt && !iov) || !nr_segs || (max_segs && !segs))
		return FAIL(dma ? dma->ctx : NULL, EINVAL, "dma, iov, segs or nr_segs is NULL");
	if (_unlikely_(dma->fork_gen != __atomic_load_n(&ifd_dma_fork_gen, __ATOMIC_RELAXED)))
		return ifd_dma_check(dma, __func__);
	rd = ifd_rcu_read_lock();
	for (size_t i = 0; i < iovcnt && !r; i++) {
		uint64_t va = (uint64_t)(uintptr_t)iov[i].iov_base, rem = iov[i].iov_len;

		while (rem) {
			uint64_t io, l;

			if (xl_lookup(&dma->xl, va, &io, &l)) {
				r = -ENOENT;
				break;
			}
			if (l > rem)
				l = rem;
			if (n && segs[n - 1].iova + segs[n - 1].len == io) {
				segs[n - 1].len += l;
			} else if (n == max_segs) {
				r = -ENOSPC;
				break;
			} else {
				segs[n].iova = io;
				segs[n].len = l;
				n++;
			}
			va += l;
			rem -= l;
		}
		if (r == -ENOENT) {
			ifd_rcu_read_unlock(rd);
			*nr_segs = n;
			return FAIL(dma->ctx, ENOENT, "iov[%zu]: va 0x%llx is not registered (ioas %u)", i,
				    (unsigned long long)va, dma->ioas_id);
		}
	}
	ifd_rcu_read_unlock(rd);
	*nr_segs = n;
	if (r)
		return FAIL(dma->ctx, ENOSPC, "%zu iovecs need more than %zu segments", iovcnt, max_segs);
	return 0;
}

size_t ifd_dma_table_bytes(const struct iommufd_dma *dma)
{
	return dma->xl.bytes + dma->regions.count * sizeof(struct dma_region);
}
