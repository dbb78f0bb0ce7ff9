// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-dma: the DMA layer's VA -> IOVA translation against three reference
 * designs written here from their published descriptions, and the map/unmap
 * rate with library-allocated IOVAs against kernel-chosen ones.
 *
 * Translation, for 1k, 10k and 100k regions, two layouts:
 *   mixed  sizes 4 KiB << k (k uniform in 0..9: 4 KiB .. 2 MiB), one page of
 *          gap between regions
 *   huge   2 MiB regions at 2 MiB-aligned VAs
 * and two access patterns over random VAs inside the regions:
 *   indep  independent lookups (the CPU may overlap their misses)
 *   chain  each VA picked from the previous result (a dependent chain: latency)
 * Implementations:
 *   lib      the library's table (lib/dma/xlate.c), with its read-side section,
 *            as iommufd_dma_translate() runs it (minus argument checks)
 *   radix    SPDK-style: 1 GiB slots -> 512 x 2 MiB entries, a 2 MiB entry is
 *            a translation or a 512 x 4 KiB table (spdk_mem_map_translate's
 *            design, with the 4 KiB level the brief asks for)
 *   bsearch  a sorted array of regions, binary search
 *   skiplist an 8-level skiplist (libvfn's iommu/dma design)
 * and the memory each needs per region. The regions are synthetic (no memory
 * behind them): only the tables are measured.
 *
 * Map/unmap: N one-page areas (1k, 10k) mapped then unmapped through
 * iommufd_dma_register/unregister (allocator + FIXED_IOVA) and through
 * iommufd_ioas_map/unmap with a kernel-chosen IOVA. On the emulator by
 * default; IOMMUFD_BENCH_REAL=1 uses the kernel's /dev/iommu instead (in the
 * VM: bench/run-vm-bench BUILD dma). "bench-dma quick" prints the
 * translation rows only, "bench-dma map" the map/unmap rows only (also from
 * BENCH_DMA_ARGS, for the VM runner, which passes no arguments), "bench-dma
 * translate" every translation row; a second argument "mixed" or "huge" keeps
 * that layout's rows only, a third (1000, 10000 or 100000) that size's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "dma/dma-private.h"
#include "iommufd-emu.h"

#define BASE 0x100000000000ull
#define NQ (1u << 20)
#define ROUNDS 4       /* the slow designs (bsearch, skiplist) */
#define ROUNDS_FAST 16 /* the library and the radix table: a round takes milliseconds */

struct region {
	uint64_t va, len, iova;
};

static double thread_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct region *layout(size_t n, bool huge)
{
	struct region *r = calloc(n, sizeof(*r));
	uint64_t va = BASE, iova = 1ull << 32;

	for (size_t i = 0; i < n; i++) {
		uint64_t len = huge ? 2ull << 20 : 4096ull << (rnd() % 10);

		r[i].va = va;
		r[i].len = len;
		r[i].iova = iova;
		va += len + (huge ? 0 : 4096);
		iova += len + 4096;
	}
	return r;
}

/* ---------------------------------------------------------------- radix (SPDK-style) */
struct radix {
	uint64_t **l1; /* [va >> 30]: 512 x 2 MiB entries; bit 0: pointer to 512 x 4 KiB */
	size_t bytes;
};

static void radix_init(struct radix *t)
{
	t->l1 = calloc(1u << 18, sizeof(*t->l1));
	t->bytes = (1u << 18) * sizeof(*t->l1);
}

static uint64_t *radix_slot2m(struct radix *t, uint64_t va)
{
	uint64_t **p = &t->l1[va >> 30];

	if (!*p) {
		*p = calloc(512, 8);
		t->bytes += 4096;
	}
	return &(*p)[(va >> 21) & 511];
}

static void radix_add(struct radix *t, const struct region *r)
{
	for (uint64_t va = r->va; va < r->va + r->len;) {
		uint64_t *e = radix_slot2m(t, va);

		if (!(va & ((2u << 20) - 1)) && r->va + r->len - va >= (2u << 20)) {
			*e = r->iova + (va - r->va) + 2; /* bit 1: valid translation */
			va += 2u << 20;
			continue;
		}
		if (!(*e & 1)) {
			uint64_t *l4 = calloc(512, 8);

			t->bytes += 4096;
			*e = (uint64_t)(uintptr_t)l4 | 1;
		}
		((uint64_t *)(uintptr_t)(*e & ~1ull))[(va >> 12) & 511] = r->iova + (va - r->va) + 2;
		va += 4096;
	}
}

static inline int radix_lookup(const struct radix *t, uint64_t va, uint64_t *iova)
{
	const uint64_t *m = t->l1[(va >> 30) & ((1u << 18) - 1)];
	uint64_t e;

	if (!m)
		return -1;
	e = m[(va >> 21) & 511];
	if (e & 1) {
		e = ((const uint64_t *)(uintptr_t)(e & ~1ull))[(va >> 12) & 511];
		if (!e)
			return -1;
		*iova = e - 2 + (va & 4095);
		return 0;
	}
	if (!e)
		return -1;
	*iova = e - 2 + (va & ((2u << 20) - 1));
	return 0;
}

static void radix_free(struct radix *t)
{
	for (size_t i = 0; i < (1u << 18); i++) {
		if (!t->l1[i])
			continue;
		for (size_t j = 0; j < 512; j++)
			if (t->l1[i][j] & 1)
				free((void *)(uintptr_t)(t->l1[i][j] & ~1ull));
		free(t->l1[i]);
	}
	free(t->l1);
}

/* ---------------------------------------------------------------- sorted array */
static inline int bs_lookup(const struct region *r, size_t n, uint64_t va, uint64_t *iova)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (r[mid].va <= va)
			lo = mid;
		else
			hi = mid;
	}
	if (va - r[lo].va < r[lo].len) {
		*iova = r[lo].iova + (va - r[lo].va);
		return 0;
	}
	return -1;
}

/* ---------------------------------------------------------------- skiplist, 8 levels */
#define SL_LEVELS 8
struct sl_node {
	uint64_t va, len, iova;
	int level;
	struct sl_node *next[];
};

struct skiplist {
	struct sl_node *head;
	size_t bytes;
};

static void sl_init(struct skiplist *s)
{
	s->head = calloc(1, sizeof(struct sl_node) + SL_LEVELS * sizeof(void *));
	s->head->level = SL_LEVELS;
	s->bytes = 0;
}

/* regions come in ascending order: append at every level's tail */
static void sl_append(struct skiplist *s, struct sl_node **tails, const struct region *r)
{
	int lvl = 1;
	struct sl_node *n;

	while (lvl < SL_LEVELS && (rnd() & 1))
		lvl++;
	n = calloc(1, sizeof(*n) + lvl * sizeof(void *));
	s->bytes += sizeof(*n) + lvl * sizeof(void *);
	n->va = r->va;
	n->len = r->len;
	n->iova = r->iova;
	n->level = lvl;
	for (int i = 0; i < lvl; i++) {
		tails[i]->next[i] = n;
		tails[i] = n;
	}
}

static inline int sl_lookup(const struct skiplist *s, uint64_t va, uint64_t *iova)
{
	const struct sl_node *x = s->head;

	for (int i = SL_LEVELS - 1; i >= 0; i--)
		while (x->next[i] && x->next[i]->va <= va)
			x = x->next[i];
	if (x != s->head && va - x->va < x->len) {
		*iova = x->iova + (va - x->va);
		return 0;
	}
	return -1;
}

static void sl_free(struct skiplist *s)
{
	struct sl_node *x = s->head, *n;

	for (; x; x = n) {
		n = x->next[0];
		free(x);
	}
}

/* ---------------------------------------------------------------- the runs */
enum impl { LIB, RADIX, BSEARCH, SKIPLIST };
static const char *const impl_names[] = { "lib", "radix", "bsearch", "skiplist" };

struct tables {
	struct xl_table xl;
	struct radix radix;
	struct region *r;
	size_t n;
	struct skiplist sl;
};

static inline __attribute__((always_inline)) int lookup(const struct tables *t, enum impl im, uint64_t va, uint64_t *iova)
{
	struct ifd_rcu_reader *rd;
	uint64_t len;
	int r;

	switch (im) {
	case LIB:
		rd = ifd_rcu_read_lock();
		r = xl_lookup(&t->xl, va, iova, &len);
		ifd_rcu_read_unlock(rd);
		return r;
	case RADIX:
		return radix_lookup(&t->radix, va, iova);
	case BSEARCH:
		return bs_lookup(t->r, t->n, va, iova);
	default:
		return sl_lookup(&t->sl, va, iova);
	}
}

/*
 * ns per lookup: the best of ROUNDS (ROUNDS_FAST) rounds in this thread's CPU time, so that
 * time the scheduler gives to other processes, and rounds disturbed by them,
 * do not count (the machines this runs on are shared)
 */
static inline __attribute__((always_inline)) double run_impl(const struct tables *t, enum impl im,
							      const uint64_t *q, bool chain, uint64_t *sink)
{
	uint64_t acc = 0, iova = 0;
	double best = 1e30;

	for (int round = 0; round < (im <= RADIX ? ROUNDS_FAST : ROUNDS); round++) {
		double t0 = thread_now(), dt;

		if (!chain) {
			for (size_t i = 0; i < NQ; i++) {
				if (lookup(t, im, q[i], &iova))
					abort();
				acc += iova;
			}
		} else {
			size_t i = 0;

			for (size_t k = 0; k < NQ; k++) {
				if (lookup(t, im, q[i], &iova))
					abort();
				i = (i + 1 + (iova & 1)) & (NQ - 1); /* depends on the result */
				acc += iova;
			}
		}
		dt = thread_now() - t0;
		best = dt < best ? dt : best;
	}
	*sink += acc;
	return best * 1e9 / NQ;
}

/* one loop per implementation: the choice is not made in the loop */
static double run(const struct tables *t, enum impl im, const uint64_t *q, bool chain, uint64_t *sink)
{
	switch (im) {
	case LIB:
		return run_impl(t, LIB, q, chain, sink);
	case RADIX:
		return run_impl(t, RADIX, q, chain, sink);
	case BSEARCH:
		return run_impl(t, BSEARCH, q, chain, sink);
	default:
		return run_impl(t, SKIPLIST, q, chain, sink);
	}
}

static bool quick; /* argument "quick": the library's translation only */

static void bench_translate(size_t n, bool huge)
{
	struct tables t;
	struct sl_node *tails[SL_LEVELS];
	uint64_t *q = malloc(NQ * sizeof(*q)), sink = 0, iova;
	size_t lib_bytes;
	double lib_ind = 0, radix_ind = 1;

	t.n = n;
	t.r = layout(n, huge);
	if (xl_init(&t.xl))
		abort();
	radix_init(&t.radix);
	sl_init(&t.sl);
	for (int i = 0; i < SL_LEVELS; i++)
		tails[i] = t.sl.head;
	for (size_t i = 0; i < n; i++) {
		if (xl_insert(&t.xl, t.r[i].va, t.r[i].len, t.r[i].iova))
			abort();
		radix_add(&t.radix, &t.r[i]);
		sl_append(&t.sl, tails, &t.r[i]);
	}
	xl_reclaim(&t.xl);
	for (size_t i = 0; i < NQ; i++) {
		const struct region *r = &t.r[rnd() % n];

		q[i] = r->va + (rnd() % r->len);
	}
	/* every implementation agrees on every query */
	for (size_t i = 0; i < 4096; i++) {
		uint64_t a, b, c, d;

		if (lookup(&t, LIB, q[i], &a) || lookup(&t, RADIX, q[i], &b) || lookup(&t, BSEARCH, q[i], &c) ||
		    lookup(&t, SKIPLIST, q[i], &d) || a != b || a != c || a != d) {
			fprintf(stderr, "bench-dma: implementations disagree at va 0x%" PRIx64 "\n", q[i]);
			exit(1);
		}
	}
	if (!lookup(&t, LIB, t.r[0].va - 1, &iova) && !huge) {
		fprintf(stderr, "bench-dma: a gap translated\n");
		exit(1);
	}
	lib_bytes = t.xl.bytes + n * sizeof(struct dma_region);
	for (int im = LIB; im <= (quick ? LIB : SKIPLIST); im++) {
		double ind = run(&t, im, q, false, &sink), dep = run(&t, im, q, true, &sink);

		if (im == LIB)
			lib_ind = ind;
		else if (im == RADIX)
			radix_ind = ind;
		size_t bytes = im == LIB ? lib_bytes : im == RADIX ? t.radix.bytes + n * sizeof(struct region) :
			       im == BSEARCH ? n * sizeof(struct region) : t.sl.bytes;

		printf("%-6s %7zu  %-8s  %6.2f ns %8.1f M/s   %6.2f ns %8.1f M/s   %8.1f B/region\n",
		       huge ? "huge" : "mixed", n, impl_names[im], ind, 1e3 / ind, dep, 1e3 / dep,
		       (double)bytes / n);
	}
	if (!quick)
		printf("%-6s %7zu  lib is %.2fx the radix table's lookup time (independent; < 1: ahead)\n",
		       huge ? "huge" : "mixed", n, lib_ind / radix_ind);
	if (sink == 42)
		puts("");
	xl_fini(&t.xl);
	radix_free(&t.radix);
	sl_free(&t.sl);
	free(t.r);
	free(q);
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* map then unmap n one-page areas: through the DMA layer (lib) or with kernel IOVAs; adds the CPU times */
static int map_pass(struct iommufd_ctx *ctx, struct iommufd_dma *dma, uint32_t ioas, uint8_t *m, uint64_t *iova,
		    size_t n, bool lib, double *t_map, double *t_unmap)
{
	double t0 = cpu_now(), t1, t2;

	for (size_t i = 0; i < n; i++)
		if (lib ? iommufd_dma_register(dma, m + i * 4096, 4096, 0, &iova[i]) :
			  iommufd_ioas_map(ctx, ioas, m + i * 4096, 4096, &iova[i],
					   IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE))
			return -1;
	t1 = cpu_now();
	for (size_t i = 0; i < n; i++)
		if (lib ? iommufd_dma_unregister(dma, m + i * 4096, 4096) :
			  iommufd_ioas_unmap(ctx, ioas, iova[i], 4096, NULL))
			return -1;
	t2 = cpu_now();
	*t_map += t1 - t0;
	*t_unmap += t2 - t1;
	return 0;
}

static int bench_map(struct iommufd_ctx *ctx, size_t n)
{
	uint8_t *m = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t *iova = calloc(n, sizeof(*iova));
	double lm = 0, lu = 0, km = 0, ku = 0;
	struct iommufd_dma *dma;
	uint32_t ioas, ioas2;

	if (m == MAP_FAILED || !iova)
		return -1;
	memset(m, 1, n * 4096);
	if (iommufd_ioas_alloc(ctx, &ioas) || iommufd_ioas_alloc(ctx, &ioas2) ||
	    iommufd_dma_new(ctx, ioas, NULL, &dma))
		return -1;
	/* library, kernel, kernel, library: what the first pass pays (the kernel's first
	 * unpin of these pages costs more than later ones) falls on both sides alike */
	if (map_pass(ctx, dma, ioas, m, iova, n, true, &lm, &lu) ||
	    map_pass(ctx, dma, ioas2, m, iova, n, false, &km, &ku) ||
	    map_pass(ctx, dma, ioas2, m, iova, n, false, &km, &ku) ||
	    map_pass(ctx, dma, ioas, m, iova, n, true, &lm, &lu))
		return -1;
	printf("%7zu  library IOVA: map %9.0f ops/s  unmap %9.0f ops/s   kernel IOVA: map %9.0f ops/s  unmap %9.0f ops/s"
	       "   library/kernel ops/s: map %.2fx unmap %.2fx\n",
	       n, 2 * n / lm, 2 * n / lu, 2 * n / km, 2 * n / ku, km / lm, ku / lu);
	iommufd_dma_unref(dma);
	iommufd_destroy(ctx, ioas);
	iommufd_destroy(ctx, ioas2);
	munmap(m, n * 4096);
	free(iova);
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1000, 10000, 100000 };
	struct iommufd_emu *emu = NULL;
	struct iommufd_ctx *ctx;
	const char *real = getenv("IOMMUFD_BENCH_REAL");
	int r;

	const char *arg = argc > 1 ? argv[1] : (getenv("BENCH_DMA_ARGS") ? getenv("BENCH_DMA_ARGS") : "");
	const char *only = argc > 2 ? argv[2] : "";
	size_t only_n = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	bool map_only = !strcmp(arg, "map"), xlate_only = !strcmp(arg, "translate");

	if (*arg && !map_only && !xlate_only && strcmp(arg, "quick")) {
		fprintf(stderr, "usage: bench-dma [quick|translate|map] [mixed|huge] [1000|10000|100000]\n");
		return 2;
	}
	quick = !strcmp(arg, "quick");
	if (!map_only) {
		printf("translation: random lookups, %u per round, best of %d rounds (lib, radix) or %d in thread CPU time (ns per lookup, lookups/s)\n",
		       NQ, ROUNDS_FAST, ROUNDS);
		printf("layout regions  impl      independent              dependent chain          memory\n");
		for (int huge = 0; huge <= 1; huge++)
			for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
				if ((!*only || !strcmp(only, huge ? "huge" : "mixed")) &&
				    (!only_n || only_n == sizes[i]))
					bench_translate(sizes[i], huge);
	}
	if (quick || xlate_only)
		return 0;

	if (real && !strcmp(real, "1")) {
		r = iommufd_ctx_new(&ctx);
	} else {
		r = iommufd_emu_new(&emu);
		if (!r)
			r = iommufd_emu_ctx_new(emu, &ctx);
	}
	if (r) {
		fprintf(stderr, "bench-dma: no context: %s\n", iommufd_last_error());
		return 1;
	}
	printf("\nmap/unmap of one-page areas (%s, %s mode, process CPU time)\n", emu ? "emulator" : "kernel",
	       iommufd_mode_name(iommufd_ctx_get_mode(ctx)));
	for (size_t n = 1000; n <= 10000; n *= 10)
		if (bench_map(ctx, n)) {
			fprintf(stderr, "bench-dma: map/unmap: %s\n", iommufd_last_error());
			return 1;
		}
	iommufd_ctx_unref(ctx);
	iommufd_emu_unref(emu);
	return 0;
}
