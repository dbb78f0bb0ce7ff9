/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DMA memory layer (lib/dma): an IOVA allocator, a lock-free VA -> IOVA
 * translation table with its own grace periods, and the struct iommufd_dma
 * and struct iommufd_dma_buf handles built on them. Private header.
 */
#ifndef IOMMUFD_DMA_PRIVATE_H
#define IOMMUFD_DMA_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "private.h"

/* ------------------------------------------------------------ treap.c */
/*
 * An intrusive treap (a balanced search tree, expected depth O(log n))
 * keyed by a uint64_t, with an optional augmentation: update() recomputes a
 * node's summary from its children after every structural change.
 */
struct ifd_tnode {
	struct ifd_tnode *l, *r;
	uint64_t key;
};

typedef void (*ifd_tupdate_fn)(struct ifd_tnode *n);

struct ifd_treap {
	struct ifd_tnode *root;
	ifd_tupdate_fn update; /* may be NULL */
	size_t count;
};

/* insert n (its key set; keys must be unique) */
void ifd_treap_insert(struct ifd_treap *t, struct ifd_tnode *n);
/* remove the node with n's key (n itself must be in t) */
void ifd_treap_remove(struct ifd_treap *t, struct ifd_tnode *n);
/* the node with the greatest key <= key, or NULL */
struct ifd_tnode *ifd_treap_le(const struct ifd_treap *t, uint64_t key);
/* the node with the smallest key >= key, or NULL */
struct ifd_tnode *ifd_treap_ge(const struct ifd_treap *t, uint64_t key);
/* the smallest node, and the next one after n in key order */
struct ifd_tnode *ifd_treap_first(const struct ifd_treap *t);
struct ifd_tnode *ifd_treap_next(const struct ifd_treap *t, const struct ifd_tnode *n);

#define tnode_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* ------------------------------------------------------------ iova.c */
/*
 * The IOVA allocator: the free ranges of an IOAS's usable space in a treap
 * keyed by start, each subtree knowing its longest free range (max_len), so
 * a first-fit allocation and a free (with coalescing) are O(log n).
 */
struct ifd_iova_free {
	struct ifd_tnode node; /* key: start */
	uint64_t last;         /* inclusive */
	uint64_t max_len;      /* of the subtree; UINT64_MAX stands for 2^64 */
};

struct ifd_iova {
	struct ifd_treap free;
	uint64_t granule;      /* power of two >= 4096 */
	uint64_t free_bytes;
	struct iommufd_iova_range *ranges; /* the usable ranges (sorted, clipped) */
	size_t nr_ranges;
};

void ifd_iova_init(struct ifd_iova *a, uint64_t granule);
void ifd_iova_fini(struct ifd_iova *a);
/*
 * Replace the usable ranges: the new free space is the new ranges minus what
 * is allocated now (what lies in the old ranges and is not free). The ranges
 * must be sorted and disjoint. -ENOMEM leaves the allocator unchanged.
 */
int ifd_iova_set_ranges(struct ifd_iova *a, const struct iommufd_iova_range *ranges, size_t nr);
/* the size class of len: len rounded up to the granule, and its natural alignment */
uint64_t ifd_iova_round(const struct ifd_iova *a, uint64_t len);
uint64_t ifd_iova_default_align(const struct ifd_iova *a, uint64_t len);
/* allocate len bytes (a multiple of the granule) aligned to align (a power of two, >= granule) */
int ifd_iova_alloc(struct ifd_iova *a, uint64_t len, uint64_t align, uint64_t *iova);
/* take exactly [iova, iova+len) out of the free space: -EADDRNOTAVAIL when not all free */
int ifd_iova_reserve(struct ifd_iova *a, uint64_t iova, uint64_t len);
/* give [iova, iova+len) back: -EINVAL when part of it is free already or outside the ranges */
int ifd_iova_free(struct ifd_iova *a, uint64_t iova, uint64_t len);

/* ------------------------------------------------------------ rcu.c */
/*
 * Grace periods for the lock-free readers of the translation tables (one
 * domain for the process). A reader thread has a record whose ctr is 0 when
 * outside a read-side section and the grace-period epoch it saw on entry
 * inside one. ifd_rcu_synchronize() bumps the epoch, makes every reader's
 * entry store visible (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), so the
 * read side is a plain store and a compiler barrier; without membarrier the
 * read side uses a full barrier, an atomic exchange) and waits until no
 * reader is still in a section that began before the bump.
 */
struct ifd_rcu_reader {
	uint64_t ctr;  /* atomic: 0, or the epoch at entry */
	int in_use;    /* atomic: owned by a live thread */
	struct ifd_rcu_reader *next;
} __attribute__((aligned(64)));

extern __thread struct ifd_rcu_reader *ifd_rcu_self __attribute__((tls_model("initial-exec")));
extern uint64_t ifd_rcu_epoch;   /* atomic */
extern int ifd_rcu_membarrier;   /* set once before any reader exists */
/* bumped in the child after fork(): handles made before answer -ECHILD */
extern uint64_t ifd_dma_fork_gen;

void ifd_rcu_init(void);
struct ifd_rcu_reader *ifd_rcu_register_thread(void);
void ifd_rcu_synchronize(void);

/* enter a read-side section: its record, for ifd_rcu_read_unlock() (one TLS load for both) */
static inline struct ifd_rcu_reader *ifd_rcu_read_lock(void)
{
	struct ifd_rcu_reader *r = ifd_rcu_self;
	uint64_t e;

	if (_unlikely_(!r))
		r = ifd_rcu_register_thread();
	/* acquire: a reader that sees a writer's new epoch sees what it published before */
	e = __atomic_load_n(&ifd_rcu_epoch, __ATOMIC_ACQUIRE);
	if (_likely_(__atomic_load_n(&ifd_rcu_membarrier, __ATOMIC_RELAXED))) {
		/* the writer's membarrier() supplies the store-load barrier */
		__atomic_store_n(&r->ctr, e, __ATOMIC_RELEASE);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	} else {
		__atomic_exchange_n(&r->ctr, e, __ATOMIC_SEQ_CST);
	}
	return r;
}

static inline void ifd_rcu_read_unlock(struct ifd_rcu_reader *r)
{
	__atomic_store_n(&r->ctr, 0, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ xlate.c */
/*
 * The translation table: one 8-byte entry per 2 MiB chunk of the 48-bit VA
 * space, in a flat array of 2^27 entries (1 GiB of address space reserved
 * without backing: only the pages written hold memory, one per GiB of VA
 * in use), so a lookup loads its entry directly, with no level above it:
 *   0                  nothing registered in the chunk
 *   bit 0 clear        "direct": one region covers the whole chunk; bits
 *                      12..47 are the IOVA the chunk's start maps to, bits
 *                      1..11 and 48..63 (above them) the pages from the
 *                      chunk's start to the region's end (>= 512)
 *   bit 0 set          e - 1 points to a node describing the
 *                      regions in the chunk (also a whole chunk whose region
 *                      does not fit a direct entry: IOVA >= 2^48 or an end
 *                      512 GiB away; the chunks of such a region share one
 *                      node)
 * A node of n segments, sorted by VA, is laid out around its header, where
 * the entry points:
 *   [far] seg[n-1] ... seg[1] seg[0] | hdr | pg[0] ... pg[lanes-1]
 * pg[i] is the 4 KiB page of the chunk where segment i starts (0 for a
 * region that began in an earlier chunk); the lanes - n slots past them hold
 * XL_PG_PAD. seg[i] is iova - va (page aligned, modulo 2^64) ORed with the
 * page of the chunk where the segment ends, 1..512, XL_END_FAR (512) when it
 * reaches the chunk's end: then only seg[n-1], and the word before it, far,
 * is the region's end VA. A dead segment (its region removed) is 0: it ends
 * at page 0 and holds nothing. hdr has bits 0..9 clear (so that the rank 0,
 * "before the first segment", reads hdr as a segment ending at page 0:
 * nothing), XL_HDR_FAR when the slot has a far word, the live segments in
 * bits 33..42, n in bits 48..63, and the lanes: XL_HDR_LANES8 (n <= 8, 8 slots),
 * XL_HDR_LANES16 (n <= 16, 16 slots) or neither (more: a multiple of 4 slots,
 * searched by bisection). Bits 16..47 of hdr, ORed into the compare mask of
 * a small node, stop the count at its lanes; bit 32 is also the offset (16)
 * of its second vector of slots (the first again with 8 lanes). So a lookup
 * in a small node is two vector compares and one segment load, with no
 * branch that depends on the data.
 * Nodes come from the table's arena, in slots of 64-byte lines, placed to
 * end at the slot's end (the header, the slots and the first segments share
 * a line; up to 5 segments, one line); a chunk has at most 512 segments, so
 * a slot is at most XL_ARENA_CLASSES lines.
 * Readers never lock: they load the entry (acquire) and then the node,
 * inside a read-side section. Writers (serialised by the caller) add a
 * segment copy-on-write (the new node has the live segments only) and retire
 * the old node, reused after a grace period; a removal marks its segment
 * dead in place (one atomic store: a reader sees it whole or dead) while more
 * than half the node stays live, and builds the node again otherwise, so
 * removing the regions of a dense chunk one by one is O(1) amortised each.
 */
#define XL_CHUNK_SHIFT 21
#define XL_CHUNK (1ull << XL_CHUNK_SHIFT)
#define XL_VA_BITS 48
#define XL_VA_LAST ((1ull << XL_VA_BITS) - 1)
#define XL_ENTRIES (1ull << (XL_VA_BITS - XL_CHUNK_SHIFT))
#define XL_DIRECT_IOVA 0x0000fffffffff000ull
#define XL_ENTRY_PAGES (XL_ENTRIES * sizeof(uint64_t) / 4096)
#define XL_PG_PAD 0x7fff
#define XL_END_FAR 512
#define XL_SEG_END 1023ull
#define XL_HDR_FAR (1ull << 10)
#define XL_HDR_LANES8 (1ull << 24)
#define XL_HDR_LANES16 (1ull << 32)
#define XL_HDR_LIVE_SHIFT 33
#define XL_HDR_LIVE_MASK 0x3ffu
/* the lines of the largest node's slot: 512 segments, a far word, hdr, 512 pg */
#define XL_ARENA_CLASSES (((512 + 2) * 8 + 512 * 2 + 63) / 64)
#define XL_RETIRE_BATCH 64  /* a grace period when this many nodes wait */

/* the pg[] slots of a node of n segments (a multiple of 4) */
static inline uint32_t xl_lanes(uint32_t n)
{
	return n <= 8 ? 8 : n <= 16 ? 16 : (n + 3) & ~3u;
}

struct xl_table {
	uint64_t *ent;              /* XL_ENTRIES entries, then the bitmap of their pages written */
	uint64_t *touched;          /* that bitmap (XL_ENTRY_PAGES bits) */
	uint32_t touched_pages;     /* the bitmap's own pages written (one bit each) */
	/* the node arena: the block being carved, free slots by size (64-byte units) */
	char *bump, *bump_end;
	void *free_slot[XL_ARENA_CLASSES + 1];
	void *blocks;               /* mmap'd blocks, linked through their first word */
	size_t next_block;          /* bytes of the next block */
	/* nodes to reuse after the next grace period (a change retires at most three) */
	uint64_t *retired[XL_RETIRE_BATCH + 3];
	size_t nr_retired;
	size_t bytes;               /* memory of entries and arena blocks */
	size_t live;                /* bytes of the slots of nodes not freed (retired included) */
};

/* 0, or -ENOMEM (no address space for the entries) */
int xl_init(struct xl_table *t);
/* frees everything: no reader may be left */
void xl_fini(struct xl_table *t);
/* add [va, va+len) -> iova (va, len, iova multiples of 4 KiB; no overlap with a present region) */
int xl_insert(struct xl_table *t, uint64_t va, uint64_t len, uint64_t iova);
/* remove the region [va, va+len) inserted before: 0, or -ENOMEM with nothing changed */
int xl_remove(struct xl_table *t, uint64_t va, uint64_t len);
/* wait for a grace period and reuse what was retired before it */
void xl_reclaim(struct xl_table *t);

typedef int16_t xl_v8 __attribute__((vector_size(16)));
typedef uint64_t xl_v2 __attribute__((vector_size(16)));

/* how many of a small node's pg[] are <= p (the slots past p are a suffix) */
static inline __attribute__((always_inline)) uint64_t xl_rank_small(const uint64_t *hdr_p, uint64_t hdr,
								    uint64_t p)
{
	const char *pg = (const char *)(hdr_p + 1);
#if defined(__SSE2__)
	__m128i vp = _mm_set1_epi16((int16_t)p);
	__m128i a = _mm_loadu_si128((const __m128i *)(const void *)pg);
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(pg + (hdr >> 28 & 16)));
	uint64_t m = (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(_mm_cmpgt_epi16(a, vp), _mm_cmpgt_epi16(b, vp)));

	return (uint64_t)__builtin_ctzll(m | (uint32_t)(hdr >> 16));
#else
	uint32_t lanes = hdr & XL_HDR_LANES16 ? 16 : 8;
	xl_v8 vp = { 0 }, acc = { 0 };
	xl_v2 q;
	uint64_t x;

	vp += (int16_t)p;
	for (uint32_t b = 0; b < lanes / 8; b++) {
		xl_v8 v;

		__builtin_memcpy(&v, pg + 16 * b, sizeof(v));
		acc -= v > vp; /* a true compare is -1: one more slot past p */
	}
	/* the sum of the 8 counters (each at most 2: no carry between them) */
	q = (xl_v2)acc;
	x = q[0] + q[1];
	x += x >> 32;
	x += x >> 16;
	return lanes - (uint32_t)(x & 0xffff);
#endif
}

/* the same for a large node: bisection without branches to mispredict */
static inline uint64_t xl_rank_big(const uint64_t *hdr_p, uint32_t n, uint64_t p)
{
	const uint16_t *pg = (const uint16_t *)(const void *)(hdr_p + 1), *base = pg;

	while (n > 1) {
		uint32_t half = n / 2;

		base = base[half] <= p ? base + half : base;
		n -= half;
	}
	return (uint64_t)(base - pg) + (*base <= p);
}

/* inside a read-side section: 0 and *iova, *len (bytes valid from va), or -ENOENT */
static inline __attribute__((always_inline)) int xl_lookup(const struct xl_table *t, uint64_t va, uint64_t *iova,
							   uint64_t *len)
{
	uint64_t e, c = va >> XL_CHUNK_SHIFT;

	if (_unlikely_(va > XL_VA_LAST))
		return -ENOENT;
	e = __atomic_load_n(&t->ent[c], __ATOMIC_ACQUIRE);
	if (e & 1) {
		const uint64_t *h = (const uint64_t *)(uintptr_t)(e - 1), *sp;
		uint64_t hdr = __atomic_load_n(h, __ATOMIC_RELAXED), s;
		uint64_t p = va >> 12 & 511, k;

		if (_likely_(hdr & (XL_HDR_LANES8 | XL_HDR_LANES16)))
			k = xl_rank_small(h, hdr, p);
		else
			k = xl_rank_big(h, (uint32_t)(hdr >> 48), p);
		sp = h - k; /* seg[k - 1]; hdr itself for k == 0 */
		s = __atomic_load_n(sp, __ATOMIC_ACQUIRE);
		if (_likely_(p < (s & XL_SEG_END))) {
			*iova = va + (s & ~4095ull);
			*len = ((s & XL_SEG_END) == XL_END_FAR ? sp[-1] : (c << XL_CHUNK_SHIFT) +
				((s & XL_SEG_END) << 12)) - va;
			return 0;
		}
		return -ENOENT;
	}
	if (_likely_(e)) {
		*iova = (e & XL_DIRECT_IOVA) + (va & (XL_CHUNK - 1));
		*len = (c << XL_CHUNK_SHIFT) + ((e >> 1 & 0x7ff) << 12 | e >> 48 << 23) - va;
		return 0;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------ dma.c */
struct dma_region {
	struct ifd_tnode node; /* key: va */
	uint64_t len;          /* its IOVA block is ifd_iova_round(len) */
	uint64_t iova;
	int32_t pins;          /* under the lock; -1 once being unregistered */
	uint32_t flags;        /* DMA_REGION_* */
};
#define DMA_REGION_BUF (1u << 0) /* made by iommufd_dma_buf_alloc() */

struct iommufd_dma {
	struct xl_table xl;         /* first: the hot path */
	uint64_t fork_gen;
	int refcount;               /* atomic */
	struct iommufd_ctx *ctx;
	uint32_t ioas_id;
	uint32_t flags;             /* IOMMUFD_DMA_* */
	uint32_t map_flags;
	pthread_mutex_t lock;       /* writers: regions, allocator, table */
	struct ifd_treap regions;   /* by va */
	struct ifd_iova iova;
	uint64_t iova_min, iova_max;
	uint64_t quarantined;       /* bytes of IOVA lost to failed unmaps */
};

/* the fork check of the dma calls: -ECHILD (recorded) in a child */
int ifd_dma_check(const struct iommufd_dma *dma, const char *func);
/*
 * register/unregister with the lock taken, for buf.c. memfd >= 0: map that
 * file from offset 0 (IOAS_MAP_FILE) rather than va. rflags: DMA_REGION_*
 * in the low 16 bits, log2 of the IOVA alignment above (0: by size class).
 */
int ifd_dma_register_locked(struct iommufd_dma *dma, const char *func, void *va, uint64_t len,
			    uint32_t flags, int memfd, uint64_t *iova, uint32_t rflags);
int ifd_dma_unregister_locked(struct iommufd_dma *dma, const char *func, void *va, uint64_t len,
			      bool buf);
size_t ifd_dma_table_bytes(const struct iommufd_dma *dma);

#endif
