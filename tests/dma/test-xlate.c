// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The translation table (lib/dma/xlate.c) against a model, on synthetic
 * addresses (no memory behind them): every encoding it has (direct entries,
 * small and large nodes, far ends, nodes shared by the chunks of a region
 * that fits no direct entry), the top of the VA space, IOVAs above 2^48,
 * slot reuse, running out of memory (RLIMIT_AS), and the arguments it
 * refuses; and three reader threads against a writer: every answer whole,
 * none from a region whose removal returned before the lookup began.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/resource.h>

#include "dma/dma-private.h"

#define PG 4096ull
#define CHUNK (2ull << 20)
#define MAXREG 512

struct reg {
	uint64_t va, len, iova;
};

struct model {
	struct xl_table t;
	struct reg r[MAXREG];
	int n;
};

static int lookup(const struct xl_table *t, uint64_t va, uint64_t *iova, uint64_t *len)
{
	struct ifd_rcu_reader *rd = ifd_rcu_read_lock();
	int r = xl_lookup(t, va, iova, len);

	ifd_rcu_read_unlock(rd);
	return r;
}

/* the table answers for va as the model does */
static void check(const struct model *m, uint64_t va)
{
	uint64_t iova = 0, len = 0;
	int r = lookup(&m->t, va, &iova, &len);

	for (int i = 0; i < m->n; i++) {
		if (va >= m->r[i].va && va - m->r[i].va < m->r[i].len) {
			if (r)
				fail_msg("va 0x%llx of region %d not found", (unsigned long long)va, i);
			assert_int_equal(iova, m->r[i].iova + (va - m->r[i].va));
			assert_int_equal(len, m->r[i].va + m->r[i].len - va);
			return;
		}
	}
	if (r != -ENOENT)
		fail_msg("va 0x%llx of no region translated to 0x%llx", (unsigned long long)va,
			 (unsigned long long)iova);
}

/* every region's first, last and a middle byte, and the pages around them */
static void check_all(const struct model *m)
{
	for (int i = 0; i < m->n; i++) {
		const struct reg *g = &m->r[i];

		check(m, g->va - PG);
		check(m, g->va);
		check(m, g->va + 123);
		check(m, g->va + g->len / 2);
		check(m, g->va + g->len - 1);
		check(m, g->va + g->len);
	}
}

static bool overlaps(const struct model *m, uint64_t va, uint64_t len)
{
	for (int i = 0; i < m->n; i++)
		if (va < m->r[i].va + m->r[i].len && m->r[i].va < va + len)
			return true;
	return false;
}

static void add(struct model *m, uint64_t va, uint64_t len, uint64_t iova)
{
	assert_true(m->n < MAXREG);
	assert_int_equal(xl_insert(&m->t, va, len, iova), 0);
	m->r[m->n++] = (struct reg){ va, len, iova };
}

static void del(struct model *m, int i)
{
	assert_int_equal(xl_remove(&m->t, m->r[i].va, m->r[i].len), 0);
	m->r[i] = m->r[--m->n];
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* random regions of 1 page to 3 chunks in a 16-chunk window at base, IOVAs anywhere */
static void random_ops(uint64_t base, uint64_t seed)
{
	struct model *m = calloc(1, sizeof(*m));
	size_t bytes = 0;
	static const uint64_t iova_bases[] = { 0, 1ull << 32, (1ull << 48) - (64ull << 20), 1ull << 48,
					       0xfff0000000000000ull };

	assert_non_null(m);
	assert_int_equal(xl_init(&m->t), 0);
	for (int step = 0; step < 3000; step++) {
		if (m->n && (rnd(&seed) % 10 < 4 || m->n == MAXREG)) {
			del(m, (int)(rnd(&seed) % m->n));
		} else {
			uint64_t pages = rnd(&seed) % 4 ? 1 + rnd(&seed) % 24 : 1 + rnd(&seed) % (3 * 512);
			uint64_t va = base + rnd(&seed) % (16 * 512 - pages + 1) * PG, len = pages * PG;
			uint64_t iova = iova_bases[rnd(&seed) % 5] + rnd(&seed) % (1ull << 20) * PG;

			if (!overlaps(m, va, len))
				add(m, va, len, iova);
		}
		for (int i = 0; i < 16; i++)
			check(m, base - PG + rnd(&seed) % (16 * 512 + 2) * PG);
		if (step % 250 == 249)
			check_all(m);
	}
	check_all(m);
	/* every slot is reused: removing and adding everything again takes no more memory */
	for (int cycle = 0; cycle < 30; cycle++) {
		struct reg saved[MAXREG];
		int n = m->n;

		if (cycle == 3)
			bytes = m->t.bytes;
		memcpy(saved, m->r, sizeof(saved));
		while (m->n)
			del(m, (int)(rnd(&seed) % m->n));
		xl_reclaim(&m->t);
		for (int i = 0; i < n; i++)
			add(m, saved[i].va, saved[i].len, saved[i].iova);
		xl_reclaim(&m->t);
	}
	assert_int_equal(m->t.bytes, bytes);
	check_all(m);
	while (m->n)
		del(m, 0);
	for (uint64_t va = base - CHUNK; va < base + 17 * CHUNK; va += PG)
		check(m, va);
	/* every node's slot given back whole */
	xl_reclaim(&m->t);
	assert_int_equal(m->t.live, 0);
	xl_fini(&m->t);
	free(m);
}

static void test_random_low(void **state)
{
	(void)state;
	random_ops(0x7f0000000000ull, 20261203);
}

static void test_random_unaligned(void **state)
{
	(void)state;
	random_ops(0x100000123000ull, 42);
}

/* the last chunks of the VA space: a region ending at 2^48 */
static void test_top_of_va(void **state)
{
	struct model *m = calloc(1, sizeof(*m));
	uint64_t top = 1ull << XL_VA_BITS, iova, len;

	(void)state;
	assert_non_null(m);
	assert_int_equal(xl_init(&m->t), 0);
	add(m, top - 3 * CHUNK - 5 * PG, 3 * CHUNK + 5 * PG, 1ull << 40);
	add(m, top - 4 * CHUNK, CHUNK - 8 * PG, 1ull << 41);
	check_all(m);
	assert_int_equal(lookup(&m->t, top, &iova, &len), -ENOENT);
	assert_int_equal(lookup(&m->t, UINT64_MAX, &iova, &len), -ENOENT);
	assert_int_equal(xl_insert(&m->t, top - PG, 2 * PG, 0), -ERANGE);
	while (m->n)
		del(m, 0);
	check(m, top - PG);
	xl_fini(&m->t);
	free(m);
}

/* a chunk with a region on every other page: nodes past 16 segments (bisected) and slots of many lines */
static void test_dense_chunk(void **state)
{
	struct model *m = calloc(1, sizeof(*m));
	uint64_t base = 0x200000000000ull;

	(void)state;
	assert_non_null(m);
	assert_int_equal(xl_init(&m->t), 0);
	for (uint64_t pg = 0; pg < 512; pg += 2) {
		add(m, base + pg * PG, PG, 0x10000000ull + pg * 3 * PG);
		if (pg % 16 == 0)
			check_all(m);
	}
	/* and the region that continues into the next chunk */
	add(m, base + 511 * PG, 2 * CHUNK, 1ull << 50);
	check_all(m);
	for (int i = m->n - 1; i >= 0; i -= 2)
		del(m, i);
	check_all(m);
	for (uint64_t va = base; va < base + CHUNK; va += PG)
		check(m, va);
	while (m->n)
		del(m, m->n - 1);
	check(m, base);
	xl_reclaim(&m->t);
	assert_int_equal(m->t.live, 0);
	xl_fini(&m->t);
	free(m);
}

/* regions that fit no direct entry: IOVA above 2^48, an end 512 GiB away; one shared node each */
static void test_shared_nodes(void **state)
{
	struct model *m = calloc(1, sizeof(*m));
	uint64_t base = 1ull << 40, iova, len;
	size_t bytes = 0;

	(void)state;
	assert_non_null(m);
	assert_int_equal(xl_init(&m->t), 0);
	add(m, base + 3 * PG, 600ull << 30, 1ull << 34);          /* far end */
	add(m, base + (601ull << 30), 10 * CHUNK, 3ull << 50);     /* high IOVA, aligned */
	add(m, base + (602ull << 30) + PG, 10 * CHUNK, 1ull << 48); /* high IOVA, unaligned */
	add(m, base + (604ull << 30), 4 * CHUNK, (1ull << 48) - 2 * CHUNK); /* crosses 2^48 */
	check_all(m);
	for (uint64_t off = 0; off < (600ull << 30); off += 7919 * CHUNK + 5 * PG)
		check(m, base + 3 * PG + off);
	/* a whole direct chunk answers the length to its region's end */
	assert_int_equal(lookup(&m->t, base + CHUNK, &iova, &len), 0);
	assert_int_equal(len, (600ull << 30) + 3 * PG - CHUNK);
	/* reuse: removing and adding the same regions again takes no more memory
	 * (once the first round has made the slots a change needs) */
	for (int round = 0; round < 60; round++) {
		struct reg r = m->r[round % m->n];

		if (round == 10)
			bytes = m->t.bytes;
		del(m, round % m->n);
		add(m, r.va, r.len, r.iova);
		xl_reclaim(&m->t);
	}
	assert_int_equal(m->t.bytes, bytes);
	check_all(m);
	while (m->n)
		del(m, 0);
	check(m, base + CHUNK);
	xl_reclaim(&m->t);
	assert_int_equal(m->t.live, 0);
	xl_fini(&m->t);
	free(m);
}

/* a chunk with all 512 pages registered one by one (the largest node: 512 segments and a far word) */
static void test_full_chunk(void **state)
{
	struct model *m = calloc(1, sizeof(*m));
	uint64_t base = 0x300000000000ull, seed = 5;

	(void)state;
	assert_non_null(m);
	assert_int_equal(xl_init(&m->t), 0);
	for (int round = 0; round < 3; round++) {
		/* the page-511 region first, reaching into the next chunks, then the others in random order */
		add(m, base + 511 * PG, 2 * CHUNK, 0xabc000000ull);
		for (uint64_t i = 0; i < 511; i++) {
			uint64_t pg = (i * 263 + round * 17) % 511;

			add(m, base + pg * PG, PG, (1ull << 49) + pg * 7 * PG);
		}
		for (uint64_t va = base - PG; va < base + 2 * CHUNK + PG; va += PG / 2)
			check(m, va);
		while (m->n) {
			del(m, (int)(rnd(&seed) % m->n));
			for (int k = 0; k < 8; k++)
				check(m, base + rnd(&seed) % (CHUNK + PG));
		}
		xl_reclaim(&m->t);
		assert_int_equal(m->t.live, 0);
	}
	xl_fini(&m->t);
	free(m);
}

static uint64_t vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kb = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb * 1024;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

/* no memory for a node: -ENOMEM leaves the table as it was, and every slot comes back */
static void test_enomem(void **state)
{
	struct model *m;
	uint64_t base = 0x500000000000ull, seed = 77;
	struct rlimit old, lim;
	int nomem_ins = 0, nomem_rem = 0;

	(void)state;
#ifdef UNDER_SANITIZER
	/* the sanitizers' own allocators need address space past the limit: run without them */
	print_message("# under a sanitizer RLIMIT_AS starves its runtime: case skipped\n");
	skip();
	return;
#endif
	m = calloc(1, sizeof(*m));
	assert_non_null(m);
	assert_int_equal(xl_init(&m->t), 0);
	assert_int_equal(getrlimit(RLIMIT_AS, &old), 0);
	for (int step = 0; step < 20000; step++) {
		if (step == 5) {
			lim = old;
			lim.rlim_cur = vm_size();
			assert_int_equal(setrlimit(RLIMIT_AS, &lim), 0);
		}
		if (m->n && (rnd(&seed) % 10 < 4 || m->n == MAXREG)) {
			int i = (int)(rnd(&seed) % m->n);
			int r = xl_remove(&m->t, m->r[i].va, m->r[i].len);

			if (r == -ENOMEM)
				nomem_rem++;
			else {
				assert_int_equal(r, 0);
				m->r[i] = m->r[--m->n];
			}
		} else {
			uint64_t pages = rnd(&seed) % 4 ? 1 + rnd(&seed) % 24 : 1 + rnd(&seed) % (3 * 512);
			uint64_t va = base + rnd(&seed) % (256 * 512 - pages + 1) * PG, len = pages * PG;
			uint64_t iova = rnd(&seed) % (1ull << 30) * PG;

			if (!overlaps(m, va, len)) {
				int r = xl_insert(&m->t, va, len, iova);

				if (r == -ENOMEM)
					nomem_ins++;
				else {
					assert_int_equal(r, 0);
					m->r[m->n++] = (struct reg){ va, len, iova };
				}
			}
		}
		for (int k = 0; k < 16; k++)
			check(m, base - PG + rnd(&seed) % (256 * 512 + 2) * PG);
	}
	assert_int_equal(setrlimit(RLIMIT_AS, &old), 0);
	fprintf(stderr, "enomem: %d insertions, %d removals refused\n", nomem_ins, nomem_rem);
	assert_true(nomem_ins > 0);
	check_all(m);
	while (m->n)
		del(m, 0);
	xl_reclaim(&m->t);
	assert_int_equal(m->t.live, 0);
	xl_fini(&m->t);
	free(m);
}

/* many seeds, small windows, now and then a region of more than 512 GiB starting in the window */
static void test_fuzz(void **state)
{
	unsigned nbig = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct model *m = calloc(1, sizeof(*m));
		uint64_t base = 0x400000000000ull + seed * (1ull << 41) + (seed % 3) * PG, s = seed * 1000003;
		uint64_t win = (1 + seed % 6) * 512;

		assert_non_null(m);
		assert_int_equal(xl_init(&m->t), 0);
		for (int step = 0; step < 4000; step++) {
			if (m->n && (rnd(&s) % 10 < 4 || m->n == MAXREG)) {
				del(m, (int)(rnd(&s) % m->n));
			} else {
				uint64_t pages = rnd(&s) % 4 ? 1 + rnd(&s) % 12 : 1 + rnd(&s) % (2 * 512 + 3);
				uint64_t va = base + rnd(&s) % (win - (pages < win ? pages : win) + 1) * PG, len = pages * PG;
				uint64_t iova = (rnd(&s) % 3 ? 0 : rnd(&s) % 2 ? 1ull << 48 : (1ull << 48) - CHUNK * 2) +
						rnd(&s) % (1ull << 20) * PG;

				if (rnd(&s) % 40 == 0)
					len = (512ull << 30) + (rnd(&s) % 3) * CHUNK + (rnd(&s) % 2) * PG - (rnd(&s) % 2) * CHUNK;
				if (!overlaps(m, va, len)) {
					add(m, va, len, iova);
					nbig += len > (512ull << 30) - CHUNK;
				}
			}
			for (int i = 0; i < 8; i++)
				check(m, base - PG + rnd(&s) % (win + 2) * PG);
			for (int i = 0; i < m->n; i++)
				if (m->r[i].len > CHUNK * 4) {
					check(m, m->r[i].va + m->r[i].len - PG);
					check(m, m->r[i].va + m->r[i].len);
					check(m, m->r[i].va + m->r[i].len - CHUNK - PG);
					check(m, m->r[i].va + (m->r[i].len & ~(CHUNK - 1)));
				}
		}
		check_all(m);
		while (m->n)
			del(m, (int)(rnd(&s) % m->n));
		xl_reclaim(&m->t);
		assert_int_equal(m->t.live, 0);
		for (uint64_t va = base - PG; va < base + win * PG + PG; va += PG)
			check(m, va);
		xl_fini(&m->t);
		free(m);
	}
	fprintf(stderr, "fuzz: %u regions of about 512 GiB or more\n", nbig);
}

static void test_refused(void **state)
{
	struct xl_table t;
	uint64_t iova, len;

	(void)state;
	assert_int_equal(xl_init(&t), 0);
	assert_int_equal(xl_insert(&t, 0x1000, 0, 0), -ERANGE);
	assert_int_equal(xl_insert(&t, 0x1001, PG, 0), -ERANGE);
	assert_int_equal(xl_insert(&t, 0x1000, PG + 1, 0), -ERANGE);
	assert_int_equal(xl_insert(&t, 0x1000, PG, 0x10), -ERANGE);
	assert_int_equal(xl_insert(&t, UINT64_MAX - PG + 1, 2 * PG, 0), -ERANGE);
	assert_int_equal(xl_remove(&t, 0x1000, PG), -ENOENT);
	assert_int_equal(xl_insert(&t, 0x1000, PG, 0x5000), 0);
	assert_int_equal(xl_remove(&t, 0x1000 + CHUNK, PG), -ENOENT);
	assert_int_equal(lookup(&t, 0x1000, &iova, &len), 0);
	assert_int_equal(iova, 0x5000);
	assert_int_equal(len, PG);
	assert_int_equal(lookup(&t, 0x2000, &iova, &len), -ENOENT);
	assert_int_equal(lookup(&t, 0, &iova, &len), -ENOENT);
	assert_int_equal(xl_remove(&t, 0x1000, PG), 0);
	assert_int_equal(lookup(&t, 0x1000, &iova, &len), -ENOENT);
	xl_fini(&t);
	/* fini of a finished table, as the error paths may call it */
	xl_fini(&t);
}

/* ---- concurrent readers against one writer: every answer is whole and not stale ---- */
#define C_BASE 0x7e0000000000ull
#define C_CHUNKS 8
#define C_PAGES (C_CHUNKS * 512)
#define C_IDS (1u << 18)
#define C_OPS 1000000

struct creg {
	uint64_t va, len;      /* atomic (relaxed) */
	uint64_t rem_done;     /* op after which its removal had returned (0: not removed) */
};

static struct xl_table ct;
static struct creg creg[C_IDS];
static uint32_t cover[C_PAGES]; /* id + 1 of the region on each page, set after insert, cleared before remove */
static uint64_t op_done;
static int c_stop;
static unsigned long c_bad, c_found, c_absent;

static uint64_t id_iova(uint32_t id)
{
	/* ids with bit 0 set get an IOVA above 2^48 (nodes shared by whole chunks) */
	return (uint64_t)id << 24 | (id & 1 ? 1ull << 56 : 0);
}

static void *c_reader(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 7919 + 1;

	while (!__atomic_load_n(&c_stop, __ATOMIC_ACQUIRE)) {
		uint64_t pg = rnd(&seed) % C_PAGES, va = C_BASE + pg * PG + rnd(&seed) % PG, iova, len;
		uint64_t o1 = __atomic_load_n(&op_done, __ATOMIC_ACQUIRE), off, rva, rlen, rd;
		uint32_t c1 = __atomic_load_n(&cover[pg], __ATOMIC_ACQUIRE), c2, id;
		int r = lookup(&ct, va, &iova, &len);

		c2 = __atomic_load_n(&cover[pg], __ATOMIC_ACQUIRE);
		__atomic_add_fetch(r ? &c_absent : &c_found, 1, __ATOMIC_RELAXED);
		if (r) {
			if (c1 && c1 == c2) {
				fprintf(stderr, "va 0x%llx of region %u absent\n", (unsigned long long)va, c1 - 1);
				__atomic_add_fetch(&c_bad, 1, __ATOMIC_RELAXED);
			}
			continue;
		}
		id = (uint32_t)((iova & ~(1ull << 56)) >> 24);
		off = iova & 0xffffff;
		if (id >= C_IDS || iova != (id_iova(id) | off)) {
			fprintf(stderr, "va 0x%llx: garbage iova 0x%llx\n", (unsigned long long)va, (unsigned long long)iova);
			__atomic_add_fetch(&c_bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		rva = __atomic_load_n(&creg[id].va, __ATOMIC_RELAXED);
		rlen = __atomic_load_n(&creg[id].len, __ATOMIC_RELAXED);
		rd = __atomic_load_n(&creg[id].rem_done, __ATOMIC_ACQUIRE);
		if (va < rva || va - rva >= rlen || off != va - rva || va + len != rva + rlen) {
			fprintf(stderr, "va 0x%llx: iova 0x%llx len 0x%llx, region %u is 0x%llx+0x%llx\n",
				(unsigned long long)va, (unsigned long long)iova, (unsigned long long)len, id,
				(unsigned long long)rva, (unsigned long long)rlen);
			__atomic_add_fetch(&c_bad, 1, __ATOMIC_RELAXED);
		} else if (rd && rd <= o1) {
			fprintf(stderr, "va 0x%llx: region %u removed (op %llu) before the lookup began (op %llu)\n",
				(unsigned long long)va, id, (unsigned long long)rd, (unsigned long long)o1);
			__atomic_add_fetch(&c_bad, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	static uint32_t live[C_IDS];
	pthread_t th[3];
	uint64_t seed = 99;
	uint32_t nlive = 0, next = 1;

	(void)state;
	if (getenv("XL_NO_MEMBARRIER"))
		ifd_rcu_membarrier = 0;
	assert_int_equal(xl_init(&ct), 0);
	for (uintptr_t i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, c_reader, (void *)(i + 1)), 0);
	for (uint64_t op = 1; op <= C_OPS && next < C_IDS; op++) {
		if (nlive && (rnd(&seed) % 10 < 4 || nlive > 400)) {
			uint32_t k = (uint32_t)(rnd(&seed) % nlive), id = live[k];
			uint64_t va = creg[id].va, len = creg[id].len;

			for (uint64_t p = (va - C_BASE) / PG; p < (va + len - C_BASE) / PG; p++)
				__atomic_store_n(&cover[p], 0, __ATOMIC_RELEASE);
			assert_int_equal(xl_remove(&ct, va, len), 0);
			__atomic_store_n(&creg[id].rem_done, op, __ATOMIC_RELEASE);
			live[k] = live[--nlive];
		} else {
			uint64_t pages = rnd(&seed) % 4 ? 1 + rnd(&seed) % 24 : 1 + rnd(&seed) % (3 * 512);
			uint64_t p0 = rnd(&seed) % (C_PAGES - pages + 1), va = C_BASE + p0 * PG, len = pages * PG;
			bool free_ = true;

			for (uint64_t p = p0; p < p0 + pages && free_; p++)
				free_ = !cover[p];
			if (free_) {
				uint32_t id = next++;

				__atomic_store_n(&creg[id].va, va, __ATOMIC_RELAXED);
				__atomic_store_n(&creg[id].len, len, __ATOMIC_RELAXED);
				assert_int_equal(xl_insert(&ct, va, len, id_iova(id)), 0);
				for (uint64_t p = p0; p < p0 + pages; p++)
					__atomic_store_n(&cover[p], id + 1, __ATOMIC_RELEASE);
				live[nlive++] = id;
			}
		}
		__atomic_store_n(&op_done, op, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&c_stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	fprintf(stderr, "concurrent: %lu found, %lu absent, %u regions\n", c_found, c_absent, next - 1);
	assert_int_equal(c_bad, 0);
	xl_fini(&ct);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_low),
		cmocka_unit_test(test_random_unaligned),
		cmocka_unit_test(test_top_of_va),
		cmocka_unit_test(test_dense_chunk),
		cmocka_unit_test(test_shared_nodes),
		cmocka_unit_test(test_full_chunk),
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_concurrent),
	};

	ifd_rcu_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
