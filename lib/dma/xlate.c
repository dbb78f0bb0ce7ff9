// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VA -> IOVA translation table (layout and reader rules in
 * dma-private.h). Writers are serialised by the caller (struct
 * iommufd_dma's lock); readers run concurrently inside read-side sections.
 *
 * A region [va, end) touches at most two partial 2 MiB chunks (its first and
 * its last); every chunk between is covered whole and gets a direct entry
 * (or, when the region does not fit one, a node the region's whole chunks
 * share). A partial chunk's entry points to a node listing every region in
 * it; an addition builds a new node, publishes it with one release store and
 * retires the old one, reused after the next grace period (at the latest
 * when 64 nodes wait, or when the table is destroyed); a removal marks its
 * segment dead in place, or rebuilds the node when half of it would be dead.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "dma-private.h"

#define DIRECT_END_BITS 27
#define FIRST_BLOCK (16u << 10)
#define MAX_BLOCK (1u << 20)

/* ------------------------------------------------------------ nodes */

/* a node is handled by its header's address (see dma-private.h) */
static uint32_t node_n(const uint64_t *h)
{
	return (uint32_t)(*h >> 48);
}

/* seg[i] */
static uint64_t *node_seg(uint64_t *h, uint32_t i)
{
	return h - 1 - i;
}

static uint16_t *node_pg(uint64_t *h)
{
	return (uint16_t *)(void *)(h + 1);
}

/* whether a node's slot has a far word (before seg[n-1]) */
static bool node_far(uint64_t *h)
{
	return *h & XL_HDR_FAR;
}

/* its live segments (the others are dead: 0) */
static uint32_t node_live(uint64_t *h)
{
	return (uint32_t)(*h >> XL_HDR_LIVE_SHIFT) & XL_HDR_LIVE_MASK;
}

/* the far word: the end VA of the last live segment when it reaches the chunk's end */
static uint64_t *node_far_word(uint64_t *h)
{
	return node_seg(h, node_n(h));
}

/* the last live segment's index (n when none) */
static uint32_t node_last_live(uint64_t *h)
{
	for (uint32_t i = node_n(h); i-- > 0;)
		if (*node_seg(h, i))
			return i;
	return node_n(h);
}

/* whether the last live segment reaches the chunk's end (its end is the far word) */
static bool node_reaches_end(uint64_t *h)
{
	uint32_t i = node_last_live(h);

	return i < node_n(h) && (*node_seg(h, i) & XL_SEG_END) == XL_END_FAR;
}

/* the bytes of a node of n segments */
static size_t node_bytes(uint32_t n, bool far)
{
	return (n + far + 1) * sizeof(uint64_t) + xl_lanes(n) * sizeof(uint16_t);
}

/* its slot in the arena: 64-byte lines (at most XL_ARENA_CLASSES of them) */
static size_t slot_bytes(uint32_t n, bool far)
{
	return (node_bytes(n, far) + 63) & ~(size_t)63;
}

/* ------------------------------------------------------------ the arena */

/* carve the rest of the current block into free slots (largest first) */
static void spill_block(struct xl_table *t)
{
	while (t->bump < t->bump_end) {
		size_t units = (size_t)(t->bump_end - t->bump) / 64;
		uint32_t c = units > XL_ARENA_CLASSES ? XL_ARENA_CLASSES : (uint32_t)units;

		*(void **)(void *)t->bump = t->free_slot[c];
		t->free_slot[c] = t->bump;
		t->bump += c * 64;
	}
}

static int new_block(struct xl_table *t)
{
	size_t sz = t->next_block ? t->next_block : FIRST_BLOCK;
	char *b = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (b == MAP_FAILED)
		return -ENOMEM;
	spill_block(t);
	/* the first line links the blocks: next, size */
	((void **)(void *)b)[0] = t->blocks;
	((size_t *)(void *)b)[1] = sz;
	t->blocks = b;
	t->bump = b + 64;
	t->bump_end = b + sz;
	t->bytes += sz;
	t->next_block = sz < MAX_BLOCK ? sz * 2 : MAX_BLOCK;
	return 0;
}

static void *slot_alloc(struct xl_table *t, size_t bytes)
{
	uint32_t c = (uint32_t)(bytes / 64);
	void *p;

	p = t->free_slot[c];
	if (p) {
		t->free_slot[c] = *(void **)p;
		return p;
	}
	if ((size_t)(t->bump_end - t->bump) < bytes && new_block(t))
		return NULL;
	p = t->bump;
	t->bump += bytes;
	return p;
}

/* a node of n segments (a far word when far), ending at its slot's end: its header */
static uint64_t *node_new(struct xl_table *t, uint32_t n, bool far)
{
	uint32_t lanes = xl_lanes(n);
	size_t sb = slot_bytes(n, far);
	char *slot = slot_alloc(t, sb);
	uint64_t *h;

	if (!slot)
		return NULL;
	t->live += sb;
	h = (uint64_t *)(void *)(slot + sb - lanes * sizeof(uint16_t)) - 1;
	/* the callers write pg[0..n), seg[0..n) and far: every byte a lookup uses is set */
	*h = (uint64_t)n << 48 | (uint64_t)n << XL_HDR_LIVE_SHIFT | (far ? XL_HDR_FAR : 0) |
	     (n <= 8 ? XL_HDR_LANES8 : n <= 16 ? XL_HDR_LANES16 : 0);
	for (uint32_t i = n; i < lanes; i++)
		node_pg(h)[i] = XL_PG_PAD;
	return h;
}

/* give a node no reader can see any more back */
static void node_free(struct xl_table *t, uint64_t *h)
{
	uint32_t n = node_n(h);
	size_t sb = slot_bytes(n, node_far(h));
	char *slot = (char *)(node_pg(h) + xl_lanes(n)) - sb;

	t->live -= sb;
	*(void **)(void *)slot = t->free_slot[sb / 64];
	t->free_slot[sb / 64] = slot;
}

/* the first of old's slots >= pg (its n when none; 0 without a node) */
static uint32_t lower_bound(uint64_t *old, uint16_t pg)
{
	uint32_t lo = 0, hi = old ? node_n(old) : 0;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (node_pg(old)[mid] < pg)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* the page of the chunk at base where a segment starting at start begins (0: before it) */
static uint16_t seg_start(uint64_t base, uint64_t start)
{
	return start <= base ? 0 : (uint16_t)((start - base) >> 12);
}

/* a segment of the chunk at base for a region [.., end) with iova - va = delta */
static uint64_t seg_make(uint64_t base, uint64_t end, uint64_t delta)
{
	return delta | (end - base >= XL_CHUNK ? XL_END_FAR : (end - base) >> 12);
}

/*
 * a new node for the chunk at base: old's live segments (but seg[skip];
 * UINT32_MAX: none skipped) plus, when add, [start, end) with delta
 */
static uint64_t *node_build(struct xl_table *t, uint64_t *old, uint32_t skip, bool add, uint64_t base,
			    uint64_t start, uint64_t end, uint64_t delta)
{
	uint32_t on = old ? node_n(old) : 0, n = (old ? node_live(old) : 0) + add - (skip != UINT32_MAX), j = 0;
	uint64_t s = add ? seg_make(base, end, delta) : 0;
	uint16_t pg = add ? seg_start(base, start) : 0;
	bool far = add && (s & XL_SEG_END) == XL_END_FAR; /* the new one is then the last */
	uint64_t *nd, far_end = far ? end : 0;

	if (!far && old && node_reaches_end(old) && node_last_live(old) != skip) {
		far = true;
		far_end = *node_far_word(old);
	}
	nd = node_new(t, n, far);
	if (!nd)
		return NULL;
	if (old && skip == UINT32_MAX && node_live(old) == on) {
		/* nothing dead to leave out: two runs of each array, the new one between them */
		uint32_t i = add ? lower_bound(old, pg) : on;

		memcpy(node_pg(nd), node_pg(old), i * sizeof(uint16_t));
		memcpy(node_pg(nd) + i + add, node_pg(old) + i, (on - i) * sizeof(uint16_t));
		if (i)
			memcpy(node_seg(nd, i - 1), node_seg(old, i - 1), i * sizeof(uint64_t));
		if (on > i)
			memcpy(node_seg(nd, on - 1 + add), node_seg(old, on - 1), (on - i) * sizeof(uint64_t));
		j = on;
		old = NULL; /* copied */
		if (add) {
			node_pg(nd)[i] = pg;
			*node_seg(nd, i) = s;
			add = false;
			j++;
		}
	}
	for (uint32_t i = 0; old && i < on; i++) {
		if (i == skip || !*node_seg(old, i))
			continue;
		if (add && node_pg(old)[i] > pg) {
			node_pg(nd)[j] = pg;
			*node_seg(nd, j++) = s;
			add = false;
		}
		node_pg(nd)[j] = node_pg(old)[i];
		*node_seg(nd, j) = *node_seg(old, i);
		j++;
	}
	if (add) {
		node_pg(nd)[j] = pg;
		*node_seg(nd, j++) = s;
	}
	if (far)
		*node_far_word(nd) = far_end;
	return nd;
}

/* ------------------------------------------------------------ the table */

int xl_init(struct xl_table *t)
{
	size_t map = XL_ENTRIES * sizeof(uint64_t) + XL_ENTRY_PAGES / 8;

	memset(t, 0, sizeof(*t));
	t->ent = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->ent == MAP_FAILED) {
		t->ent = NULL;
		return -ENOMEM;
	}
	/* sparse: a huge page would back 512 GiB of VA's entries for one region */
	(void)madvise(t->ent, map, MADV_NOHUGEPAGE);
	t->touched = t->ent + XL_ENTRIES;
	t->bytes = sizeof(*t);
	return 0;
}

/* the header of the node an entry points to, or NULL */
static uint64_t *entry_node(uint64_t e)
{
	return e & 1 ? (uint64_t *)(uintptr_t)(e - 1) : NULL;
}

static void reuse_retired(struct xl_table *t)
{
	for (size_t i = 0; i < t->nr_retired; i++)
		node_free(t, t->retired[i]);
	t->nr_retired = 0;
}

void xl_reclaim(struct xl_table *t)
{
	if (!t->nr_retired)
		return;
	ifd_rcu_synchronize();
	reuse_retired(t);
}

void xl_fini(struct xl_table *t)
{
	void *b;

	if (!t->ent)
		return;
	/* every node lives in the arena's blocks */
	while ((b = t->blocks)) {
		t->blocks = ((void **)b)[0];
		munmap(b, ((size_t *)b)[1]);
	}
	munmap(t->ent, XL_ENTRIES * sizeof(uint64_t) + XL_ENTRY_PAGES / 8);
	memset(t, 0, sizeof(*t));
}

/* the entry of chunk c, its page counted when first written */
static uint64_t *entry_w(struct xl_table *t, uint64_t c)
{
	uint64_t pg = c / 512;

	if (!(t->touched[pg / 64] & 1ull << (pg % 64))) {
		/* the bitmap's page holding this bit */
		uint32_t bp = (uint32_t)(pg / 64 * sizeof(uint64_t) / 4096);

		if (!(t->touched_pages & 1u << bp)) {
			t->touched_pages |= 1u << bp;
			t->bytes += 4096;
		}
		t->touched[pg / 64] |= 1ull << (pg % 64);
		t->bytes += 4096;
	}
	return &t->ent[c];
}

static void publish(uint64_t *e, uint64_t v)
{
	__atomic_store_n(e, v, __ATOMIC_RELEASE);
}

static void retire(struct xl_table *t, uint64_t *nd)
{
	t->retired[t->nr_retired++] = nd;
}

static void maybe_reclaim(struct xl_table *t)
{
	if (t->nr_retired >= XL_RETIRE_BATCH)
		xl_reclaim(t);
}

/*
 * the direct entry of chunk c for a region ending at end with iova - va =
 * delta, or 0 when it does not fit one
 */
static uint64_t direct_entry(uint64_t c, uint64_t end, uint64_t delta)
{
	uint64_t base = c << XL_CHUNK_SHIFT, io = base + delta, to_end = (end - base) >> 12;

	if (io & ~XL_DIRECT_IOVA || to_end >> DIRECT_END_BITS)
		return 0;
	return io | (to_end & 0x7ff) << 1 | to_end >> 11 << 48;
}

/*
 * whether [va, end) covers its first chunk (pf) and its last chunk (pl) only
 * partly; a region within one chunk has only a first one
 */
static void partial_chunks(uint64_t va, uint64_t end, bool *pf, bool *pl)
{
	*pf = va & (XL_CHUNK - 1);
	*pl = end & (XL_CHUNK - 1);
	if (va >> XL_CHUNK_SHIFT == (end - 1) >> XL_CHUNK_SHIFT) {
		*pf = *pf || *pl;
		*pl = false;
	}
}

int xl_insert(struct xl_table *t, uint64_t va, uint64_t len, uint64_t iova)
{
	uint64_t end = va + len, first = va >> XL_CHUNK_SHIFT, last = (end - 1) >> XL_CHUNK_SHIFT;
	uint64_t delta = iova - va, mfirst, mlast;
	uint64_t *nf = NULL, *nl = NULL, *shared = NULL;
	bool pf, pl, direct;

	if (!len || end < va || (end - 1) >> XL_VA_BITS || (va | len | iova) & 4095)
		return -ERANGE;
	partial_chunks(va, end, &pf, &pl);
	/* the whole chunks [mfirst, mlast]: direct entries when the farthest ones fit */
	mfirst = first + pf;
	mlast = last - pl;
	direct = mfirst > mlast || (direct_entry(mfirst, end, delta) && direct_entry(mlast, end, delta));
	/* every node first: a failure leaves nothing changed */
	if (pf && !(nf = node_build(t, entry_node(t->ent[first]), UINT32_MAX, true, first << XL_CHUNK_SHIFT, va,
				    end, delta)))
		goto nomem;
	if (pl && !(nl = node_build(t, entry_node(t->ent[last]), UINT32_MAX, true, last << XL_CHUNK_SHIFT, va,
				    end, delta)))
		goto nomem;
	if (!direct && !(shared = node_build(t, NULL, UINT32_MAX, true, mfirst << XL_CHUNK_SHIFT, va, end, delta)))
		goto nomem;
	for (uint64_t c = first; c <= last; c++) {
		uint64_t *e = entry_w(t, c);
		uint64_t *old = entry_node(*e);

		if (c == first && pf) {
			publish(e, (uintptr_t)nf | 1);
		} else if (c == last && pl) {
			publish(e, (uintptr_t)nl | 1);
		} else {
			publish(e, direct ? direct_entry(c, end, delta) : (uintptr_t)shared | 1);
			continue;
		}
		if (old)
			retire(t, old);
	}
	maybe_reclaim(t);
	return 0;
nomem:
	/* never published: no reader saw them */
	if (nf)
		node_free(t, nf);
	if (nl)
		node_free(t, nl);
	return -ENOMEM;
}

/* how a region leaves a partly covered chunk's node */
struct part {
	uint64_t *old, *nd; /* nd: the compacted node (NULL: none) */
	uint32_t i;         /* its segment */
	bool empty;         /* the last live one: the entry is cleared */
	bool in_place;      /* marked dead where it is */
};

/*
 * plan the removal of the region starting at va from the node of the chunk
 * at base: mark its segment dead in place while more than half the node's
 * segments stay live, else build the node again from the live ones (so a
 * removal costs O(1) amortised, not a copy of its node)
 */
static int part_plan(struct xl_table *t, struct part *p, uint64_t *old, uint64_t base, uint64_t va)
{
	uint32_t live;

	*p = (struct part){ .old = old };
	if (!old)
		return -ENOENT;
	live = node_live(old);
	p->i = lower_bound(old, seg_start(base, va));
	/* cannot be: the caller only removes what it inserted (its region tree) */
	if (p->i >= node_n(old) || node_pg(old)[p->i] != seg_start(base, va) || !*node_seg(old, p->i))
		return -ENOENT;
	if (live == 1) {
		p->empty = true;
		return 0;
	}
	if (2 * (live - 1) > node_n(old)) {
		p->in_place = true;
		return 0;
	}
	p->nd = node_build(t, old, p->i, false, base, 0, 0, 0);
	return p->nd ? 0 : -ENOMEM;
}

static void part_apply(struct xl_table *t, uint64_t *e, struct part *p)
{
	if (p->in_place) {
		/* a reader sees the segment whole or dead (0: ends at page 0), never torn */
		__atomic_store_n(node_seg(p->old, p->i), 0, __ATOMIC_RELEASE);
		__atomic_store_n(p->old, *p->old - (1ull << XL_HDR_LIVE_SHIFT), __ATOMIC_RELAXED);
		return;
	}
	publish(e, p->nd ? (uintptr_t)p->nd | 1 : 0);
	retire(t, p->old);
}

int xl_remove(struct xl_table *t, uint64_t va, uint64_t len)
{
	uint64_t end = va + len, first = va >> XL_CHUNK_SHIFT, last = (end - 1) >> XL_CHUNK_SHIFT;
	struct part f = { 0 }, l = { 0 };
	uint64_t *shared = NULL;
	bool pf, pl;
	int r;

	if (!len || end < va || (end - 1) >> XL_VA_BITS || !t->ent[first] || !t->ent[last])
		return -ENOENT;
	partial_chunks(va, end, &pf, &pl);
	if (pf && (r = part_plan(t, &f, entry_node(t->ent[first]), first << XL_CHUNK_SHIFT, va)))
		return r;
	if (pl && (r = part_plan(t, &l, entry_node(t->ent[last]), last << XL_CHUNK_SHIFT, va))) {
		/* never published: no reader saw it */
		if (f.nd)
			node_free(t, f.nd);
		return r;
	}
	for (uint64_t c = first; c <= last; c++) {
		uint64_t *e = &t->ent[c];

		if (c == first && pf) {
			part_apply(t, e, &f);
		} else if (c == last && pl) {
			part_apply(t, e, &l);
		} else {
			if (!shared)
				shared = entry_node(*e);
			publish(e, 0);
		}
	}
	if (shared)
		retire(t, shared);
	maybe_reclaim(t);
	return 0;
}
