// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The IOVA allocator of struct iommufd_dma: the free parts of the IOAS's
 * usable ranges in a treap keyed by start, augmented with the longest free
 * range of each subtree.
 *
 * Allocation is first fit in address order. A request of len bytes aligned
 * to align looks for the leftmost free range of at least len + align -
 * granule bytes (any such range holds an aligned block): one descent of the
 * tree, O(log n). Only when no range is that long does it fall back to
 * checking the ranges of at least len bytes one by one for an aligned fit
 * (subtrees shorter than len are skipped). A free coalesces with its
 * neighbours: O(log n).
 *
 * Size classes: a length is rounded up to the granule (the IOAS's IOVA
 * alignment, at least 4 KiB), and by default aligned to the largest of
 * 4 KiB, 64 KiB, 2 MiB and 1 GiB that it reaches, so that a block can use the
 * IOMMU's large pages and blocks of one class pack without fragments of
 * another.
 */
#include <stdlib.h>

#include "dma-private.h"

static inline struct ifd_iova_free *fr(const struct ifd_tnode *n)
{
	return n ? tnode_entry(n, struct ifd_iova_free, node) : NULL;
}

static inline uint64_t flen(const struct ifd_iova_free *f)
{
	uint64_t d = f->last - f->node.key;

	return d == UINT64_MAX ? UINT64_MAX : d + 1;
}

static void upd(struct ifd_tnode *n)
{
	struct ifd_iova_free *f = fr(n);
	uint64_t m = flen(f);

	if (n->l && fr(n->l)->max_len > m)
		m = fr(n->l)->max_len;
	if (n->r && fr(n->r)->max_len > m)
		m = fr(n->r)->max_len;
	f->max_len = m;
}

void ifd_iova_init(struct ifd_iova *a, uint64_t granule)
{
	memset(a, 0, sizeof(*a));
	a->free.update = upd;
	a->granule = granule;
}

static void free_all(struct ifd_tnode *n)
{
	if (!n)
		return;
	free_all(n->l);
	free_all(n->r);
	free(fr(n));
}

void ifd_iova_fini(struct ifd_iova *a)
{
	free_all(a->free.root);
	a->free.root = NULL;
	a->free.count = 0;
	free(a->ranges);
	a->ranges = NULL;
	a->nr_ranges = 0;
}

uint64_t ifd_iova_round(const struct ifd_iova *a, uint64_t len)
{
	if (len > UINT64_MAX - (a->granule - 1))
		return 0;
	return (len + a->granule - 1) & ~(a->granule - 1);
}

uint64_t ifd_iova_default_align(const struct ifd_iova *a, uint64_t len)
{
	static const uint64_t classes[] = { 1ull << 30, 1ull << 21, 1ull << 16 };

	for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
		if (len >= classes[i])
			return classes[i] > a->granule ? classes[i] : a->granule;
	return a->granule;
}

static int add_free(struct ifd_iova *a, uint64_t start, uint64_t last)
{
	struct ifd_iova_free *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->node.key = start;
	f->last = last;
	ifd_treap_insert(&a->free, &f->node);
	return 0;
}

/* the leftmost free range of at least need bytes */
static struct ifd_iova_free *first_fit(struct ifd_tnode *n, uint64_t need)
{
	while (n) {
		if (fr(n)->max_len < need)
			return NULL;
		if (n->l && fr(n->l)->max_len >= need)
			n = n->l;
		else if (flen(fr(n)) >= need)
			return fr(n);
		else
			n = n->r;
	}
	return NULL;
}

/* an aligned block of len in f: its start, or 1 (never aligned) when none */
static uint64_t fit_in(const struct ifd_iova_free *f, uint64_t len, uint64_t align)
{
	uint64_t s = f->node.key;

	if (s & (align - 1)) {
		if (s > UINT64_MAX - (align - 1))
			return 1;
		s = (s + align - 1) & ~(align - 1);
	}
	if (s < f->node.key || s > f->last || f->last - s < len - 1)
		return 1;
	return s;
}

/* the exhaustive fallback: leftmost range with an aligned fit, skipping short subtrees */
static struct ifd_iova_free *scan_fit(struct ifd_tnode *n, uint64_t len, uint64_t align, uint64_t *at)
{
	struct ifd_iova_free *f;

	if (!n || fr(n)->max_len < len)
		return NULL;
	f = scan_fit(n->l, len, align, at);
	if (f)
		return f;
	if (flen(fr(n)) >= len) {
		uint64_t s = fit_in(fr(n), len, align);

		if (s != 1) {
			*at = s;
			return fr(n);
		}
	}
	return scan_fit(n->r, len, align, at);
}

/* take [s, s+len) out of free range f, which holds it */
static int take(struct ifd_iova *a, struct ifd_iova_free *f, uint64_t s, uint64_t len)
{
	uint64_t fs = f->node.key, fl = f->last, e = s + len - 1;
	struct ifd_iova_free *extra = NULL;

	if (fs < s && e < fl) {
		extra = calloc(1, sizeof(*extra));
		if (!extra)
			return -ENOMEM;
	}
	ifd_treap_remove(&a->free, &f->node);
	if (fs < s) {
		f->node.key = fs;
		f->last = s - 1;
		ifd_treap_insert(&a->free, &f->node);
		f = extra;
	}
	if (e < fl) {
		f->node.key = e + 1;
		f->last = fl;
		ifd_treap_insert(&a->free, &f->node);
		f = NULL;
	}
	free(f);
	a->free_bytes -= len;
	return 0;
}

int ifd_iova_alloc(struct ifd_iova *a, uint64_t len, uint64_t align, uint64_t *iova)
{
	struct ifd_iova_free *f;
	uint64_t s = 1;

	if (!len || (len & (a->granule - 1)) || !align || (align & (align - 1)) || align < a->granule)
		return -EINVAL;
	if (len <= UINT64_MAX - (align - a->granule)) {
		f = first_fit(a->free.root, len + (align - a->granule));
		if (f)
			s = fit_in(f, len, align);
	}
	if (s == 1) {
		f = scan_fit(a->free.root, len, align, &s);
		if (!f)
			return -ENOSPC;
	}
	if (take(a, f, s, len))
		return -ENOMEM;
	*iova = s;
	return 0;
}

int ifd_iova_reserve(struct ifd_iova *a, uint64_t iova, uint64_t len)
{
	struct ifd_iova_free *f;

	if (!len || (len & (a->granule - 1)) || (iova & (a->granule - 1)) || iova + (len - 1) < iova)
		return -EINVAL;
	f = fr(ifd_treap_le(&a->free, iova));
	if (!f || f->last < iova + (len - 1))
		return -EADDRNOTAVAIL;
	return take(a, f, iova, len);
}

static bool in_ranges(const struct ifd_iova *a, uint64_t s, uint64_t e)
{
	size_t lo = 0, hi = a->nr_ranges;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (a->ranges[mid].last < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->nr_ranges && a->ranges[lo].start <= s && e <= a->ranges[lo].last;
}

int ifd_iova_free(struct ifd_iova *a, uint64_t iova, uint64_t len)
{
	struct ifd_iova_free *pred, *succ;
	uint64_t e = iova + (len - 1);

	if (!len || (len & (a->granule - 1)) || (iova & (a->granule - 1)) || e < iova ||
	    !in_ranges(a, iova, e))
		return -EINVAL;
	pred = fr(ifd_treap_le(&a->free, iova));
	succ = fr(ifd_treap_ge(&a->free, iova));
	if ((pred && pred->last >= iova) || (succ && succ->node.key <= e))
		return -EINVAL; /* part of it is free already */
	if (pred && pred->last + 1 == iova) {
		ifd_treap_remove(&a->free, &pred->node);
		pred->last = e;
		if (succ && e + 1 == succ->node.key) {
			ifd_treap_remove(&a->free, &succ->node);
			pred->last = succ->last;
			free(succ);
		}
		ifd_treap_insert(&a->free, &pred->node);
	} else if (succ && e + 1 == succ->node.key) {
		ifd_treap_remove(&a->free, &succ->node);
		succ->node.key = iova;
		ifd_treap_insert(&a->free, &succ->node);
	} else if (add_free(a, iova, e)) {
		return -ENOMEM;
	}
	a->free_bytes += len;
	return 0;
}

struct ivl {
	uint64_t s, e;
};

struct ivls {
	struct ivl *v;
	size_t n, cap;
};

static int push(struct ivls *l, uint64_t s, uint64_t e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct ivl *nv = realloc(l->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = (struct ivl){ s, e };
	return 0;
}

int ifd_iova_set_ranges(struct ifd_iova *a, const struct iommufd_iova_range *ranges, size_t nr)
{
	struct ivls used = { 0 }, nfree = { 0 };
	struct iommufd_iova_range *copy;
	struct ifd_treap fresh = { .update = upd };
	struct ifd_tnode *n;
	uint64_t bytes = 0;
	size_t j = 0;
	int r = -ENOMEM;

	copy = calloc(nr ? nr : 1, sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	if (nr)
		memcpy(copy, ranges, nr * sizeof(*copy));

	/* allocated now = old ranges minus the free ranges (both sorted) */
	n = ifd_treap_first(&a->free);
	for (size_t i = 0; i < a->nr_ranges; i++) {
		uint64_t cur = a->ranges[i].start, last = a->ranges[i].last;

		for (;;) {
			while (n && fr(n)->last < cur)
				n = ifd_treap_next(&a->free, n);
			if (!n || n->key > last) {
				if (push(&used, cur, last))
					goto out;
				break;
			}
			if (n->key > cur && push(&used, cur, n->key - 1))
				goto out;
			if (fr(n)->last >= last)
				break;
			cur = fr(n)->last + 1;
		}
	}

	/* the new free space = new ranges minus allocated */
	for (size_t i = 0; i < nr; i++) {
		uint64_t cur = ranges[i].start, last = ranges[i].last;

		while (j < used.n && used.v[j].e < cur)
			j++;
		for (size_t k = j;; k++) {
			if (k >= used.n || used.v[k].s > last) {
				if (push(&nfree, cur, last))
					goto out;
				break;
			}
			if (used.v[k].s > cur && push(&nfree, cur, used.v[k].s - 1))
				goto out;
			if (used.v[k].e >= last)
				break;
			cur = used.v[k].e + 1;
		}
	}

	for (size_t i = 0; i < nfree.n; i++) {
		struct ifd_iova_free *f = calloc(1, sizeof(*f));
		uint64_t d = nfree.v[i].e - nfree.v[i].s;

		if (!f) {
			free_all(fresh.root);
			goto out;
		}
		f->node.key = nfree.v[i].s;
		f->last = nfree.v[i].e;
		ifd_treap_insert(&fresh, &f->node);
		bytes += d == UINT64_MAX ? d : d + 1;
	}
	free_all(a->free.root);
	a->free = fresh;
	a->free_bytes = bytes;
	free(a->ranges);
	a->ranges = copy;
	a->nr_ranges = nr;
	copy = NULL;
	r = 0;
out:
	free(copy);
	free(used.v);
	free(nfree.v);
	return r;
}
