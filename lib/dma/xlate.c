// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VA -> IOVA translation table (layout and reader rules in
 * dma-private.h). Writers are serialised by the caller (struct
 * iommufd_dma's lock); readers run concurrently inside read-side sections.
 *
 * A region [va, end) touches at most two partial 2 MiB chunks (its first and
 * its last); every chunk between is covered whole and gets a direct entry.
 * A partial chunk's entry points to a node listing every region in it; a
 * change builds a new node, publishes it with one release store and retires
 * the old one, freed after the next grace period (at the latest when 64
 * nodes wait, or when the table is destroyed).
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "dma-private.h"

/* the bytes of a node of n segments */
static size_t node_bytes(uint32_t n)
{
	return sizeof(struct xl_node) + xl_lanes(n) * sizeof(uint16_t) + n * sizeof(struct xl_seg);
}

static struct xl_node *node_new(struct xl_table *t, uint32_t n)
{
	size_t b = node_bytes(n);
	struct xl_node *nd = malloc(b);

	if (!nd)
		return NULL;
	/* the callers write pg[0..n) and seg[0..n): every byte a lookup reads is set */
	nd->n = n;
	nd->pad = 0;
	for (uint32_t i = n; i < xl_lanes(n); i++)
		nd->pg[i] = XL_PG_PAD;
	t->bytes += b;
	return nd;
}

static struct xl_seg *node_seg(struct xl_node *nd)
{
	return (struct xl_seg *)(void *)(nd->pg + xl_lanes(nd->n));
}

static void node_drop(struct xl_table *t, struct xl_node *nd)
{
	t->bytes -= node_bytes(nd->n);
	free(nd);
}

static void node_retire(struct xl_table *t, struct xl_node *nd)
{
	t->bytes -= node_bytes(nd->n);
	t->retired[t->nr_retired++] = nd;
}

struct xl_l3 xl_empty_l3;

int xl_init(struct xl_table *t)
{
	memset(t, 0, sizeof(*t));
	t->top = mmap(NULL, XL_TOP_WORDS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->top == MAP_FAILED) {
		t->top = NULL;
		return -ENOMEM;
	}
	t->bytes = sizeof(*t);
	return 0;
}

static struct xl_l3 *top_l3(const struct xl_table *t, size_t i)
{
	return t->top[i] ? (struct xl_l3 *)(uintptr_t)((uintptr_t)&xl_empty_l3 + t->top[i]) : NULL;
}

static void free_retired(struct xl_table *t)
{
	for (size_t i = 0; i < t->nr_retired; i++)
		free(t->retired[i]);
	t->nr_retired = 0;
}

void xl_reclaim(struct xl_table *t)
{
	if (!t->nr_retired && !t->direct_cleared)
		return;
	ifd_rcu_synchronize();
	free_retired(t);
	t->direct_cleared = false;
}

void xl_fini(struct xl_table *t)
{
	free_retired(t);
	for (size_t pg = 0; t->top && pg < XL_TOP_PAGES; pg++) {
		if (!(t->top_touched[pg / 64] & 1ull << (pg % 64)))
			continue;
		for (size_t i = pg * 512; i < (pg + 1) * 512; i++) {
			struct xl_l3 *l3 = top_l3(t, i);

			if (!l3)
				continue;
			for (size_t k = 0; k < 512; k++) {
				uint64_t w0 = l3->e[k].w0;

				if (w0 & 1)
					free((void *)(uintptr_t)(w0 & ~1ull));
			}
			free(l3);
		}
	}
	if (t->top)
		munmap(t->top, XL_TOP_WORDS * sizeof(uint64_t));
	memset(t, 0, sizeof(*t));
}

/* the entry of the chunk holding va, its table made when create */
static struct xl_entry *entry(struct xl_table *t, uint64_t va, bool create)
{
	size_t i = va >> 30;
	struct xl_l3 *l3 = top_l3(t, i);

	if (!l3) {
		if (!create || !(l3 = calloc(1, sizeof(*l3))))
			return NULL;
		t->bytes += sizeof(*l3);
		if (!(t->top_touched[i / 512 / 64] & 1ull << (i / 512 % 64))) {
			t->top_touched[i / 512 / 64] |= 1ull << (i / 512 % 64);
			t->bytes += 4096;
		}
		__atomic_store_n(&t->top[i], (uint64_t)((uintptr_t)l3 - (uintptr_t)&xl_empty_l3),
				 __ATOMIC_RELEASE);
	}
	return &l3->e[(va >> XL_CHUNK_SHIFT) & 511];
}

static struct xl_node *entry_node(const struct xl_entry *e)
{
	return e->w0 & 1 ? (struct xl_node *)(uintptr_t)(e->w0 & ~1ull) : NULL;
}

/* the first of old's slots >= pg (old->n when none; 0 without a node) */
static uint32_t lower_bound(const struct xl_node *old, uint16_t pg)
{
	uint32_t lo = 0, hi = old ? old->n : 0;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (old->pg[mid] < pg)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* the page of the chunk at base where a segment starting at start begins (0: before it) */
static uint16_t seg_pg(uint64_t base, uint64_t start)
{
	return start <= base ? 0 : (uint16_t)((start - base) >> 12);
}

/* a new node for the chunk at base: old's segments plus [start, end) with delta */
static struct xl_node *node_with(struct xl_table *t, const struct xl_node *old, uint64_t base,
				 uint64_t start, uint64_t end, uint64_t delta)
{
	uint32_t n = old ? old->n : 0, i = lower_bound(old, seg_pg(base, start));
	struct xl_node *nd = node_new(t, n + 1);
	struct xl_seg *ns;

	if (!nd)
		return NULL;
	ns = node_seg(nd);
	if (n) {
		const struct xl_seg *os = xl_node_seg(old);

		memcpy(nd->pg, old->pg, i * sizeof(*nd->pg));
		memcpy(nd->pg + i + 1, old->pg + i, (n - i) * sizeof(*nd->pg));
		memcpy(ns, os, i * sizeof(*ns));
		memcpy(ns + i + 1, os + i, (n - i) * sizeof(*ns));
	}
	nd->pg[i] = seg_pg(base, start);
	ns[i] = (struct xl_seg){ end, delta };
	return nd;
}

/*
 * a new node for the chunk at base: old's segments but the one of the region
 * starting at start (NULL with *empty when none is left)
 */
static struct xl_node *node_without(struct xl_table *t, const struct xl_node *old, uint64_t base,
				    uint64_t start, bool *empty)
{
	uint32_t n = old->n, i = lower_bound(old, seg_pg(base, start));
	const struct xl_seg *os = xl_node_seg(old);
	struct xl_node *nd;
	struct xl_seg *ns;

	*empty = n <= 1;
	if (*empty)
		return NULL;
	if (i == n) /* cannot be: the caller only removes what it inserted (its region tree) */
		i = n - 1;
	nd = node_new(t, n - 1);
	if (!nd)
		return NULL;
	ns = node_seg(nd);
	memcpy(nd->pg, old->pg, i * sizeof(*nd->pg));
	memcpy(nd->pg + i, old->pg + i + 1, (n - i - 1) * sizeof(*nd->pg));
	memcpy(ns, os, i * sizeof(*ns));
	memcpy(ns + i, os + i + 1, (n - i - 1) * sizeof(*ns));
	return nd;
}

static void publish_node(struct xl_table *t, struct xl_entry *e, struct xl_node *nd)
{
	struct xl_node *old = entry_node(e);

	__atomic_store_n(&e->w0, nd ? (uint64_t)(uintptr_t)nd | 1 : 0, __ATOMIC_RELEASE);
	if (old)
		node_retire(t, old);
}

static void maybe_reclaim(struct xl_table *t)
{
	if (t->nr_retired >= XL_RETIRE_BATCH)
		xl_reclaim(t);
}

int xl_insert(struct xl_table *t, uint64_t va, uint64_t len, uint64_t iova)
{
	uint64_t end = va + len, first = va >> XL_CHUNK_SHIFT, last = (end - 1) >> XL_CHUNK_SHIFT;
	struct xl_entry *ef, *el = NULL;
	struct xl_node *nf = NULL, *nl = NULL;
	bool pf = va & (XL_CHUNK - 1), pl = end & (XL_CHUNK - 1);

	if (!len || end < va || (end - 1) >> XL_VA_BITS)
		return -ERANGE;
	/* every table first: a failure leaves nothing half done (tables stay, empty) */
	for (uint64_t c = first; c <= last; c++)
		if (!entry(t, c << XL_CHUNK_SHIFT, true))
			return -ENOMEM;
	ef = entry(t, va, false);
	if (first == last) {
		pf = pf || pl;
		pl = false;
	} else {
		el = entry(t, end - 1, false);
	}
	if (pf && !(nf = node_with(t, entry_node(ef), first << XL_CHUNK_SHIFT, va, end, iova - va)))
		return -ENOMEM;
	if (pl && !(nl = node_with(t, entry_node(el), last << XL_CHUNK_SHIFT, va, end, iova - va))) {
		if (nf)
			node_drop(t, nf);
		return -ENOMEM;
	}
	/* a direct entry rewrites w1: wait out readers of a slot's former direct value */
	if (t->direct_cleared && last - first + 1 > (uint64_t)pf + pl)
		xl_reclaim(t);
	for (uint64_t c = first; c <= last; c++) {
		struct xl_entry *e = entry(t, c << XL_CHUNK_SHIFT, false);

		if (c == first && pf) {
			publish_node(t, e, nf);
		} else if (c == last && pl) {
			publish_node(t, e, nl);
		} else {
			__atomic_store_n(&e->w1, iova - va, __ATOMIC_RELAXED);
			__atomic_store_n(&e->w0, end, __ATOMIC_RELEASE);
		}
	}
	maybe_reclaim(t);
	return 0;
}

int xl_remove(struct xl_table *t, uint64_t va, uint64_t len)
{
	uint64_t end = va + len, first = va >> XL_CHUNK_SHIFT, last = (end - 1) >> XL_CHUNK_SHIFT;
	struct xl_entry *ef = entry(t, va, false), *el = entry(t, end - 1, false);
	struct xl_node *nf = NULL, *nl = NULL;
	bool ff = false, fl = false; /* first / last chunk is a node entry */
	bool emptyf = false, emptyl = false;

	if (!ef || !el)
		return -ENOENT;
	if (entry_node(ef)) {
		ff = true;
		nf = node_without(t, entry_node(ef), first << XL_CHUNK_SHIFT, va, &emptyf);
		if (!nf && !emptyf)
			return -ENOMEM;
	}
	if (last != first && entry_node(el)) {
		fl = true;
		nl = node_without(t, entry_node(el), last << XL_CHUNK_SHIFT, va, &emptyl);
		if (!nl && !emptyl) {
			if (nf)
				node_drop(t, nf);
			return -ENOMEM;
		}
	}
	for (uint64_t c = first; c <= last; c++) {
		struct xl_entry *e = entry(t, c << XL_CHUNK_SHIFT, false);

		if (c == first && ff) {
			publish_node(t, e, nf);
		} else if (c == last && fl) {
			publish_node(t, e, nl);
		} else {
			__atomic_store_n(&e->w0, 0, __ATOMIC_RELEASE);
			t->direct_cleared = true;
		}
	}
	maybe_reclaim(t);
	return 0;
}
