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

static inline void ifd_rcu_read_lock(void)
{
	struct ifd_rcu_reader *r = ifd_rcu_self;
	uint64_t e;

	if (_unlikely_(!r))
		r = ifd_rcu_register_thread();
	e = __atomic_load_n(&ifd_rcu_epoch, __ATOMIC_RELAXED);
	if (_likely_(__atomic_load_n(&ifd_rcu_membarrier, __ATOMIC_RELAXED))) {
		/* the writer's membarrier() supplies the store-load barrier */
		__atomic_store_n(&r->ctr, e, __ATOMIC_RELEASE);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	} else {
		__atomic_exchange_n(&r->ctr, e, __ATOMIC_SEQ_CST);
	}
}

static inline void ifd_rcu_read_unlock(void)
{
	__atomic_store_n(&ifd_rcu_self->ctr, 0, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ xlate.c */
/*
 * The translation table: a two-level radix tree over the 48-bit VA space
 * down to 2 MiB chunks. The top level is one 8-byte word per GiB of VA
 * (2^18 words, 2 MiB of address space reserved without backing: only the
 * pages written hold memory, one per 512 GiB of VA in use); a word is the
 * offset of that GiB's L3 table from xl_empty_l3 (all zeros, never
 * written), so an absent table (word 0) reads as the empty one and a lookup
 * walks both levels without a test. An L3 table (8 KiB, one per GiB in use)
 * holds one 16-byte entry per 2 MiB chunk:
 *   w0 == 0             nothing registered in the chunk
 *   w0 even (!= 0)      "direct": one region covers the whole chunk; w0 is
 *                       its end VA (exclusive), w1 its iova - va
 *   w0 odd              (w0 & ~1) points to an immutable node describing
 *                       the regions in the chunk
 * A node holds n segments, sorted: pg[i], the 4 KiB page of the chunk where
 * segment i starts (0 for a region that began in an earlier chunk), then
 * seg[i], the segment's end VA and iova - va. pg[] has xl_lanes(n) slots,
 * those past n hold XL_PG_PAD: with n <= 16 (nearly every chunk) a lookup
 * counts the pg[] <= its page over all 16 slots, two vector compares with no
 * branch that depends on the data, and reads one seg[]; larger nodes are
 * searched by bisection.
 * Readers never lock: they load w0 (acquire), then w1 or the node, inside a
 * read-side section. Writers (serialised by the caller) replace nodes copy-
 * on-write and retire the old ones, freed after a grace period; L2/L3 tables
 * live until the table is destroyed. A slot's w1 is only rewritten after a
 * grace period has passed since the slot last held a different direct value,
 * so no reader can pair an old w0 with a new w1.
 */
#define XL_CHUNK_SHIFT 21
#define XL_CHUNK (1ull << XL_CHUNK_SHIFT)
#define XL_VA_BITS 48
#define XL_PG_PAD 0x7fff
#define XL_SCAN 16 /* slots counted without bisection */

struct xl_entry {
	uint64_t w0;
	uint64_t w1;
};

struct xl_l3 {
	struct xl_entry e[512];
};

/* the shared empty table (never written) */
extern struct xl_l3 xl_empty_l3;

#define XL_TOP_WORDS (1u << (XL_VA_BITS - 30))
#define XL_TOP_PAGES (XL_TOP_WORDS * sizeof(uint64_t) / 4096)

struct xl_seg {
	uint64_t end, delta;
};

struct xl_node {
	uint32_t n;
	uint32_t pad;
	uint16_t pg[]; /* then struct xl_seg seg[n], see xl_node_seg() */
};

/* the pg[] slots of a node of n segments (a multiple of 4: seg[] stays 8-aligned) */
static inline uint32_t xl_lanes(uint32_t n)
{
	return n <= XL_SCAN ? XL_SCAN : (n + 3) & ~3u;
}

static inline const struct xl_seg *xl_node_seg(const struct xl_node *nd)
{
	return (const struct xl_seg *)(const void *)(nd->pg + xl_lanes(nd->n));
}

#define XL_RETIRE_BATCH 64 /* a grace period when this many nodes wait */

struct xl_table {
	uint64_t *top;              /* XL_TOP_WORDS: offsets of L3 tables from xl_empty_l3 */
	uint64_t top_touched[XL_TOP_PAGES / 64]; /* its pages written (counted in bytes) */
	/* nodes to free after the next grace period (a change retires at most two) */
	struct xl_node *retired[XL_RETIRE_BATCH + 2];
	size_t nr_retired;
	bool direct_cleared;        /* a direct entry was cleared since the last grace period */
	size_t bytes;               /* memory of tables and live nodes */
};

/* 0, or -ENOMEM (no address space for the top level) */
int xl_init(struct xl_table *t);
/* frees everything: no reader may be left */
void xl_fini(struct xl_table *t);
/* add [va, va+len) -> iova (va, len multiples of 4 KiB; no overlap with a present region) */
int xl_insert(struct xl_table *t, uint64_t va, uint64_t len, uint64_t iova);

/* remove the region [va, va+len) inserted before: 0, or -ENOMEM with nothing changed */
int xl_remove(struct xl_table *t, uint64_t va, uint64_t len);
/* wait for a grace period and free what was retired before it */
void xl_reclaim(struct xl_table *t);

typedef int16_t xl_v8 __attribute__((vector_size(16)));
typedef uint64_t xl_v2 __attribute__((vector_size(16)));

/* how many of the node's pg[] are <= p: the index of the segment holding page p, plus one */
static inline __attribute__((always_inline)) uint32_t xl_node_rank(const struct xl_node *nd, uint32_t p)
{
	uint32_t n = nd->n;

	if (_likely_(n <= XL_SCAN)) {
#if defined(__SSE2__)
		/* the slots past p are a suffix (sorted, padded high): the number of
		 * slots <= p is the index of the first set bit of their mask */
		__m128i vp = _mm_set1_epi16((int16_t)p);
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)nd->pg);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(nd->pg + 8));
		uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(_mm_cmpgt_epi16(a, vp),
									_mm_cmpgt_epi16(b, vp)));

		return (uint32_t)__builtin_ctz(m | 1u << XL_SCAN);
#else
		xl_v8 vp = { 0 }, acc = { 0 };
		xl_v2 q;
		uint64_t x;

		vp += (int16_t)p;
#pragma GCC unroll 2
		for (int b = 0; b < XL_SCAN / 8; b++) {
			xl_v8 v;

			__builtin_memcpy(&v, nd->pg + 8 * b, sizeof(v));
			acc -= v > vp; /* a true compare is -1: one more slot past p */
		}
		/* the sum of the 8 slots (each at most XL_SCAN / 8: no carry between them) */
		q = (xl_v2)acc;
		x = q[0] + q[1];
		x += x >> 32;
		x += x >> 16;
		return XL_SCAN - (uint32_t)(x & 0xffff);
#endif
	} else {
		const uint16_t *base = nd->pg;

		/* the last pg <= p, without branches to mispredict */
		while (n > 1) {
			uint32_t half = n / 2;

			base = base[half] <= p ? base + half : base;
			n -= half;
		}
		return (uint32_t)(base - nd->pg) + (*base <= p);
	}
}

/* inside a read-side section: 0 and *iova, *len (bytes valid from va), or -ENOENT */
static inline __attribute__((always_inline)) int xl_lookup(const struct xl_table *t, uint64_t va, uint64_t *iova, uint64_t *len)
{
	const struct xl_l3 *l3;
	const struct xl_entry *e;
	uint64_t w0;

	if (_unlikely_(va >> XL_VA_BITS))
		return -ENOENT;
	l3 = (const struct xl_l3 *)((uintptr_t)&xl_empty_l3 +
				    __atomic_load_n(&t->top[va >> 30], __ATOMIC_ACQUIRE));
	e = &l3->e[(va >> XL_CHUNK_SHIFT) & 511];
	w0 = __atomic_load_n(&e->w0, __ATOMIC_ACQUIRE);
	if (w0 & 1) {
		const struct xl_node *nd = (const struct xl_node *)(uintptr_t)(w0 & ~1ull);
		uint32_t k;

		/* a node of up to 16 segments spans one to four lines: ask for the next two
		 * while the first is on its way (a prefetch past the heap is dropped) */
		__builtin_prefetch((const char *)nd + 64);
		__builtin_prefetch((const char *)nd + 128);
		k = xl_node_rank(nd, (uint32_t)(va >> 12) & 511);
		const struct xl_seg *s = &xl_node_seg(nd)[k ? k - 1 : 0];

		if (_likely_(k && va < s->end)) {
			*iova = va + s->delta;
			*len = s->end - va;
			return 0;
		}
		return -ENOENT;
	}
	if (_likely_(w0)) {
		*iova = va + __atomic_load_n(&e->w1, __ATOMIC_RELAXED);
		*len = w0 - va;
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
