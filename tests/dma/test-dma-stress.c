// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * 8 threads translate while 2 threads unregister and register again: every
 * translation that succeeds gives the IOVA of the registration current
 * around it, and one that starts after an unregistration returned (and
 * before the next registration) fails with -ENOENT: no stale translation.
 * Built also with -fsanitize=thread (test-dma-stress-tsan, see meson.build).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"
#include "iommufd.h"

#define SLOTS 64
#define READERS 8
#define WRITERS 2
#define PAGE 4096ull
#define SLOT_LEN (3 * PAGE) /* with a page of gap between slots */
#define ROUNDS 1500

struct slot {
	uint64_t gen;  /* atomic: % 4: 0 registered, 1 unregistering, 2 unregistered, 3 registering */
	uint64_t iova; /* atomic: valid while gen % 4 == 0 */
};

static struct iommufd_dma *dma;
static uint8_t *mem;
static struct slot slots[SLOTS];
static int stop;
static unsigned long stale, wrong, hits, misses, errors;

static void *writer(void *arg)
{
	unsigned int w = (unsigned int)(uintptr_t)arg, seed = w;

	for (int i = 0; i < ROUNDS; i++) {
		unsigned int s = (rand_r(&seed) % (SLOTS / WRITERS)) * WRITERS + w;
		uint8_t *va = mem + s * (SLOT_LEN + PAGE);
		uint64_t iova;

		__atomic_add_fetch(&slots[s].gen, 1, __ATOMIC_SEQ_CST);
		if (iommufd_dma_unregister(dma, va, SLOT_LEN)) {
			__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
			break;
		}
		__atomic_add_fetch(&slots[s].gen, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&slots[s].gen, 1, __ATOMIC_SEQ_CST);
		if (iommufd_dma_register(dma, va, SLOT_LEN, 0, &iova)) {
			__atomic_add_fetch(&errors, 1, __ATOMIC_RELAXED);
			break;
		}
		__atomic_store_n(&slots[s].iova, iova, __ATOMIC_RELAXED);
		__atomic_add_fetch(&slots[s].gen, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

static void *reader(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 7919;

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned int s = rand_r(&seed) % SLOTS;
		uint64_t off = rand_r(&seed) % (SLOT_LEN + PAGE), io = 0, g1, g2, want;
		size_t len;
		int r;

		g1 = __atomic_load_n(&slots[s].gen, __ATOMIC_SEQ_CST);
		want = __atomic_load_n(&slots[s].iova, __ATOMIC_RELAXED);
		r = iommufd_dma_translate(dma, mem + s * (SLOT_LEN + PAGE) + off, &io, &len);
		g2 = __atomic_load_n(&slots[s].gen, __ATOMIC_SEQ_CST);
		if (g1 != g2 || (g1 & 1))
			continue; /* raced with a change: either answer is right */
		if (off >= SLOT_LEN) {
			if (r != -ENOENT)
				__atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
		} else if (g1 & 2) {
			if (r != -ENOENT)
				__atomic_add_fetch(&stale, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&misses, 1, __ATOMIC_RELAXED);
		} else if (r || io != want + off || len != SLOT_LEN - off) {
			__atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
		} else {
			__atomic_add_fetch(&hits, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void test_stress(void **state)
{
	pthread_t rd[READERS], wr[WRITERS];
	struct iommufd_ctx *ctx;
	size_t total = SLOTS * (SLOT_LEN + PAGE);
	uint32_t ioas;

	(void)state;
	test_backend_get();
	ctx = test_ctx_new();
	assert_int_equal(iommufd_ioas_alloc(ctx, &ioas), 0);
	assert_int_equal(iommufd_dma_new(ctx, ioas, NULL, &dma), 0);
	mem = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	memset(mem, 1, total);
	for (int s = 0; s < SLOTS; s++)
		assert_int_equal(iommufd_dma_register(dma, mem + s * (SLOT_LEN + PAGE), SLOT_LEN, 0,
						      &slots[s].iova), 0);
	for (uintptr_t i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&rd[i], NULL, reader, (void *)(i + 1)), 0);
	for (uintptr_t i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&wr[i], NULL, writer, (void *)i), 0);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(wr[i], NULL);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < READERS; i++)
		pthread_join(rd[i], NULL);
	print_message("# %lu hits, %lu misses after unmap, %lu stale, %lu wrong, %lu errors\n", hits, misses,
		      stale, wrong, errors);
	assert_int_equal(errors, 0);
	assert_int_equal(stale, 0);
	assert_int_equal(wrong, 0);
	assert_true(hits > 0);
	iommufd_dma_unref(dma);
	iommufd_ctx_unref(ctx);
	munmap(mem, total);
	test_backend_put();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
