// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The translation table (lib/dma/xlate.c) against a model, on synthetic
 * addresses (no memory behind them): every encoding it has (direct entries,
 * small and large nodes, far ends, nodes shared by the chunks of a region
 * that fits no direct entry), the top of the VA space, IOVAs above 2^48,
 * slot reuse, and the arguments it refuses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_low),
		cmocka_unit_test(test_random_unaligned),
		cmocka_unit_test(test_top_of_va),
		cmocka_unit_test(test_dense_chunk),
		cmocka_unit_test(test_shared_nodes),
		cmocka_unit_test(test_refused),
	};

	ifd_rcu_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
