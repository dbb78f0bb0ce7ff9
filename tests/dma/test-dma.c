// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The DMA memory layer: IOVA allocator, registration and translation,
 * buffers of each backing, strict unmap, fork. Runs on the emulator and, with
 * IOMMUFD_TEST_REAL=1, on the real kernel in the VM, in both modes: the layer
 * sits on the IOAS calls, which the type1 mode (IOMMUFD_MODE=type1) answers
 * with the same rules (library-chosen IOVAs, whole-area unmaps, the length
 * the kernel unmapped checked), so every case asserts the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include "../device/device-common.h"
#include "iommufd.h"

#define PAGE 4096ull
#define MIB (1ull << 20)

struct env {
	struct iommufd_ctx *ctx;
	uint32_t ioas;
	struct iommufd_dma *dma;
};

static void env_new(struct env *e, const struct iommufd_dma_opts *opts)
{
	test_backend_get();
	e->ctx = test_ctx_new();
	check(iommufd_ioas_alloc(e->ctx, &e->ioas));
	check(iommufd_dma_new(e->ctx, e->ioas, opts, &e->dma));
}

static void env_free(struct env *e)
{
	assert_null(iommufd_dma_unref(e->dma));
	iommufd_ctx_unref(e->ctx);
	test_backend_put();
}

static void *mem(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	memset(p, 0x5a, len);
	return p;
}

static void test_args(void **state)
{
	struct iommufd_dma *dma = NULL;
	struct env e;
	struct {
		struct iommufd_dma_opts o;
		uint64_t extra;
	} big = { .o = { .sz = sizeof(big) }, .extra = 1 };
	uint64_t iova;

	(void)state;
	assert_errno(iommufd_dma_new(NULL, 1, NULL, &dma), EINVAL);
	env_new(&e, NULL);
	assert_errno(iommufd_dma_new(e.ctx, e.ioas, &big.o, &dma), E2BIG);
	{
		IOMMUFD_OPTS(struct iommufd_dma_opts, o, .flags = 0x80);
		assert_errno(iommufd_dma_new(e.ctx, e.ioas, &o, &dma), EINVAL);
	}
	assert_errno(iommufd_dma_new(e.ctx, 9999, NULL, &dma), ENOENT);
	assert_true(strlen(iommufd_last_error()) > 0);
	assert_null(iommufd_dma_unref(NULL));
	assert_int_equal(iommufd_dma_buf_free(NULL), 0);
	assert_errno(iommufd_dma_register(e.dma, (void *)0x1001, PAGE, 0, &iova), EINVAL);
	assert_errno(iommufd_dma_register(e.dma, (void *)0x1000, 0, 0, &iova), EINVAL);
	assert_errno(iommufd_dma_register(e.dma, (void *)0x1000, PAGE, 0x100, &iova), EINVAL);
	assert_errno(iommufd_dma_iova_alloc(e.dma, PAGE, 3 * PAGE, &iova), EINVAL);
	assert_ptr_equal(iommufd_dma_ref(e.dma), e.dma);
	assert_null(iommufd_dma_unref(e.dma));
	env_free(&e);
}

/* allocator: alignment, size classes, limits, exhaustion, coalescing */
static void test_iova_alloc(void **state)
{
	IOMMUFD_OPTS(struct iommufd_dma_opts, o, .iova_min = 0x100000, .iova_max = 0x1fffff);
	uint64_t a[300], b, c;
	struct env e;
	size_t n = 0;

	(void)state;
	env_new(&e, &o);
	/* 1 MiB of space: 256 pages, then nothing */
	while (n < 300 && iommufd_dma_iova_alloc(e.dma, PAGE, 0, &a[n]) == 0) {
		assert_true(a[n] >= 0x100000 && a[n] + PAGE - 1 <= 0x1fffff);
		assert_int_equal(a[n] % PAGE, 0);
		n++;
	}
	assert_int_equal(n, 256);
	assert_errno(iommufd_dma_iova_alloc(e.dma, PAGE, 0, &b), ENOSPC);
	/* free every other page: 128 holes of one page, no 2-page block */
	for (size_t i = 0; i < n; i += 2)
		check(iommufd_dma_iova_free(e.dma, a[i], PAGE));
	assert_errno(iommufd_dma_iova_alloc(e.dma, 2 * PAGE, 0, &b), ENOSPC);
	assert_errno(iommufd_dma_iova_free(e.dma, a[0], PAGE), EINVAL); /* double free */
	/* free the rest: all coalesces back to one 1 MiB block */
	for (size_t i = 1; i < n; i += 2)
		check(iommufd_dma_iova_free(e.dma, a[i], PAGE));
	check(iommufd_dma_iova_alloc(e.dma, MIB, 0, &b));
	assert_int_equal(b, 0x100000);
	check(iommufd_dma_iova_free(e.dma, b, MIB));
	/* alignment: 64 KiB class and explicit */
	check(iommufd_dma_iova_alloc(e.dma, PAGE, 0, &c));
	check(iommufd_dma_iova_alloc(e.dma, 64 * 1024, 0, &b));
	assert_int_equal(b % (64 * 1024), 0);
	check(iommufd_dma_iova_free(e.dma, b, 64 * 1024));
	check(iommufd_dma_iova_alloc(e.dma, PAGE, 256 * 1024, &b));
	assert_int_equal(b % (256 * 1024), 0);
	check(iommufd_dma_iova_free(e.dma, b, PAGE));
	/* the size rounds up to the granule */
	check(iommufd_dma_iova_alloc(e.dma, 100, 0, &b));
	check(iommufd_dma_iova_free(e.dma, b, 100));
	check(iommufd_dma_iova_free(e.dma, c, PAGE));
	assert_errno(iommufd_dma_iova_alloc(e.dma, 2 * MIB, 0, &b), ENOSPC);
	/* a refresh keeps what is allocated */
	check(iommufd_dma_iova_alloc(e.dma, PAGE, 0, &b));
	check(iommufd_dma_refresh_ranges(e.dma));
	check(iommufd_dma_iova_alloc(e.dma, PAGE, 0, &c));
	assert_int_not_equal(b, c);
	check(iommufd_dma_iova_free(e.dma, b, PAGE));
	check(iommufd_dma_iova_free(e.dma, c, PAGE));
	env_free(&e);
}

/* the allocator stays inside the usable ranges the kernel reports */
static void test_ranges(void **state)
{
	struct iommufd_iova_range *rs;
	uint64_t iova[64];
	struct env e;
	size_t nr;

	(void)state;
	env_new(&e, NULL);
	check(iommufd_ioas_iova_ranges(e.ctx, e.ioas, &rs, &nr, NULL));
	check(iommufd_dma_refresh_ranges(e.dma));
	for (int i = 0; i < 64; i++) {
		bool in = false;

		check(iommufd_dma_iova_alloc(e.dma, (i % 7 + 1) * 64 * 1024, 0, &iova[i]));
		assert_int_not_equal(iova[i], 0);
		for (size_t k = 0; k < nr; k++)
			in |= iova[i] >= rs[k].start && iova[i] + (i % 7 + 1) * 64 * 1024 - 1 <= rs[k].last;
		assert_true(in);
	}
	for (int i = 0; i < 64; i++)
		check(iommufd_dma_iova_free(e.dma, iova[i], (i % 7 + 1) * 64 * 1024));
	free(rs);
	env_free(&e);
}

static void test_translate(void **state)
{
	uint8_t *m = mem(16 * PAGE);
	uint64_t iova, io;
	size_t len;
	struct env e;

	(void)state;
	env_new(&e, NULL);
	check(iommufd_dma_register(e.dma, m + 4 * PAGE, 8 * PAGE, 0, &iova));
	assert_int_equal(iova % PAGE, 0);
	/* hits, at the first and last byte */
	check(iommufd_dma_translate(e.dma, m + 4 * PAGE, &io, &len));
	assert_int_equal(io, iova);
	assert_int_equal(len, 8 * PAGE);
	check(iommufd_dma_translate(e.dma, m + 12 * PAGE - 1, &io, &len));
	assert_int_equal(io, iova + 8 * PAGE - 1);
	assert_int_equal(len, 1);
	check(iommufd_dma_translate(e.dma, m + 5 * PAGE + 123, &io, NULL));
	assert_int_equal(io, iova + PAGE + 123);
	/* misses: just outside, unregistered, NULL, a kernel-half address */
	assert_errno(iommufd_dma_translate(e.dma, m + 4 * PAGE - 1, &io, &len), ENOENT);
	assert_errno(iommufd_dma_translate(e.dma, m + 12 * PAGE, &io, &len), ENOENT);
	assert_errno(iommufd_dma_translate(e.dma, NULL, &io, &len), ENOENT);
	assert_errno(iommufd_dma_translate(e.dma, (void *)~0ul, &io, &len), ENOENT);
	assert_non_null(strstr(iommufd_last_error(), "not registered"));
	/* overlap refused; neighbours fine and translate apart */
	assert_errno(iommufd_dma_register(e.dma, m + 11 * PAGE, 2 * PAGE, 0, &io), EEXIST);
	assert_errno(iommufd_dma_register(e.dma, m, 16 * PAGE, 0, &io), EEXIST);
	check(iommufd_dma_register(e.dma, m + 12 * PAGE, 2 * PAGE, 0, &io));
	check(iommufd_dma_translate(e.dma, m + 12 * PAGE, &iova, &len));
	assert_int_equal(iova, io);
	assert_int_equal(len, 2 * PAGE);
	/* partial unregistration refused, whole one works, then a miss */
	assert_errno(iommufd_dma_unregister(e.dma, m + 4 * PAGE, 4 * PAGE), EINVAL);
	assert_errno(iommufd_dma_unregister(e.dma, m + 5 * PAGE, 7 * PAGE), EINVAL);
	assert_errno(iommufd_dma_unregister(e.dma, m + 4 * PAGE, 10 * PAGE), EINVAL);
	assert_errno(iommufd_dma_unregister(e.dma, m, PAGE), ENOENT);
	check(iommufd_dma_unregister(e.dma, m + 4 * PAGE, 8 * PAGE));
	assert_errno(iommufd_dma_translate(e.dma, m + 4 * PAGE, &io, &len), ENOENT);
	check(iommufd_dma_translate(e.dma, m + 13 * PAGE, &io, &len));
	check(iommufd_dma_unregister(e.dma, m + 12 * PAGE, 2 * PAGE));
	env_free(&e);
	munmap(m, 16 * PAGE);
}

/* regions crossing 2 MiB chunks, several regions in one chunk */
static void test_translate_chunks(void **state)
{
	size_t total = 8 * MIB;
	uint8_t *raw = mem(total + 2 * MIB), *m;
	uint64_t iova[4], io;
	size_t len;
	struct env e;

	(void)state;
	m = (uint8_t *)(((uintptr_t)raw + 2 * MIB - 1) & ~(uintptr_t)(2 * MIB - 1));
	env_new(&e, NULL);
	check(iommufd_dma_register(e.dma, m + MIB, 4 * MIB, 0, &iova[0]));          /* partial, whole, partial */
	check(iommufd_dma_register(e.dma, m + 5 * MIB, PAGE, 0, &iova[1]));         /* same chunk as the end */
	check(iommufd_dma_register(e.dma, m + 5 * MIB + 2 * PAGE, PAGE, 0, &iova[2]));
	check(iommufd_dma_register(e.dma, m + 6 * MIB, 2 * MIB, 0, &iova[3]));     /* exactly one chunk */
	for (uint64_t off = MIB; off < 5 * MIB; off += 64 * 1024) {
		check(iommufd_dma_translate(e.dma, m + off, &io, &len));
		assert_int_equal(io, iova[0] + off - MIB);
		assert_int_equal(len, 5 * MIB - off);
	}
	check(iommufd_dma_translate(e.dma, m + 5 * MIB + 5, &io, &len));
	assert_int_equal(io, iova[1] + 5);
	assert_errno(iommufd_dma_translate(e.dma, m + 5 * MIB + PAGE, &io, &len), ENOENT);
	check(iommufd_dma_translate(e.dma, m + 5 * MIB + 2 * PAGE, &io, &len));
	assert_int_equal(io, iova[2]);
	check(iommufd_dma_translate(e.dma, m + 8 * MIB - 1, &io, &len));
	assert_int_equal(io, iova[3] + 2 * MIB - 1);
	assert_errno(iommufd_dma_translate(e.dma, m + MIB - 1, &io, &len), ENOENT);
	/* out of the middle of a node */
	check(iommufd_dma_unregister(e.dma, m + 5 * MIB, PAGE));
	assert_errno(iommufd_dma_translate(e.dma, m + 5 * MIB, &io, &len), ENOENT);
	check(iommufd_dma_translate(e.dma, m + 5 * MIB - 1, &io, &len));
	check(iommufd_dma_translate(e.dma, m + 5 * MIB + 2 * PAGE, &io, &len));
	check(iommufd_dma_unregister(e.dma, m + MIB, 4 * MIB));
	/* the same VA again, a new IOVA or not, translates to what it is now */
	check(iommufd_dma_register(e.dma, m + MIB, 4 * MIB, 0, &iova[0]));
	check(iommufd_dma_translate(e.dma, m + 3 * MIB, &io, &len));
	assert_int_equal(io, iova[0] + 2 * MIB);
	env_free(&e); /* unregisters the rest */
	munmap(raw, total + 2 * MIB);
}

/*
 * Translation against a model, page by page: random registrations of 1 page
 * to more than a chunk over three 2 MiB chunks and random unregistrations,
 * then one chunk with a region on every other page (256 in a chunk, past
 * the nodes that are counted rather than bisected) emptied again. Every
 * page of the area is checked after each phase and a few after every step.
 */
#define MODEL_PAGES (3 * 512)

struct model {
	struct env e;
	uint8_t *m;
	int owner[MODEL_PAGES];    /* region index or -1 */
	struct { int start, n; uint64_t iova; } reg[MODEL_PAGES];
	int nreg;
};

static void model_check_page(struct model *md, int pg)
{
	uint64_t io = 0;
	size_t len = 0;
	int o = md->owner[pg], r = iommufd_dma_translate(md->e.dma, md->m + (size_t)pg * PAGE + 17, &io, &len);

	if (o < 0) {
		assert_int_equal(r, -ENOENT);
		return;
	}
	assert_int_equal(r, 0);
	assert_int_equal(io, md->reg[o].iova + (uint64_t)(pg - md->reg[o].start) * PAGE + 17);
	assert_int_equal(len, (uint64_t)(md->reg[o].start + md->reg[o].n - pg) * PAGE - 17);
}

static void model_check_all(struct model *md)
{
	for (int pg = 0; pg < MODEL_PAGES; pg++)
		model_check_page(md, pg);
}

static int model_add(struct model *md, int start, int n)
{
	bool free_ = true;
	uint64_t iova;
	int r;

	for (int i = start; i < start + n; i++)
		free_ = free_ && md->owner[i] < 0;
	r = iommufd_dma_register(md->e.dma, md->m + (size_t)start * PAGE, (size_t)n * PAGE, 0, &iova);
	if (!free_) {
		assert_int_equal(r, -EEXIST);
		return -1;
	}
	assert_int_equal(r, 0);
	for (int i = start; i < start + n; i++)
		md->owner[i] = md->nreg;
	md->reg[md->nreg].start = start;
	md->reg[md->nreg].n = n;
	md->reg[md->nreg].iova = iova;
	return md->nreg++;
}

static void model_del(struct model *md, int k)
{
	check(iommufd_dma_unregister(md->e.dma, md->m + (size_t)md->reg[k].start * PAGE,
				     (size_t)md->reg[k].n * PAGE));
	for (int i = md->reg[k].start; i < md->reg[k].start + md->reg[k].n; i++)
		md->owner[i] = -1;
	md->reg[k].n = 0;
}

static void test_translate_model(void **state)
{
	static const int sizes[] = { 1, 1, 2, 3, 8, 64, 300, 700 };
	struct model *md = calloc(1, sizeof(*md));
	uint8_t *raw = mem(MODEL_PAGES * PAGE + 2 * MIB);
	unsigned int seed = 20261203;
	int live[MODEL_PAGES], nlive, dense;

	(void)state;
	assert_non_null(md);
	md->m = (uint8_t *)(((uintptr_t)raw + 2 * MIB - 1) & ~(uintptr_t)(2 * MIB - 1));
	for (int i = 0; i < MODEL_PAGES; i++)
		md->owner[i] = -1;
	env_new(&md->e, NULL);
	for (int step = 0; step < 400; step++) {
		nlive = 0;
		for (int k = 0; k < md->nreg; k++)
			if (md->reg[k].n)
				live[nlive++] = k;
		if (nlive && rand_r(&seed) % 10 < 4) {
			model_del(md, live[rand_r(&seed) % nlive]);
		} else {
			int n = sizes[rand_r(&seed) % (sizeof(sizes) / sizeof(sizes[0]))];
			int start = rand_r(&seed) % (MODEL_PAGES - n + 1);

			model_add(md, start, n);
		}
		for (int i = 0; i < 8; i++)
			model_check_page(md, rand_r(&seed) % MODEL_PAGES);
		if (step % 100 == 99)
			model_check_all(md);
	}
	for (int k = 0; k < md->nreg; k++)
		if (md->reg[k].n)
			model_del(md, k);
	model_check_all(md);
	/* the middle chunk: a region on every other page, then every other one of them gone */
	dense = md->nreg;
	for (int pg = 512; pg < 1024; pg += 2)
		assert_int_equal(model_add(md, pg, 1), dense + (pg - 512) / 2);
	model_check_all(md);
	for (int k = dense; k < md->nreg; k += 2)
		if (md->reg[k].n)
			model_del(md, k);
	model_check_all(md);
	for (int k = 0; k < md->nreg; k++)
		if (md->reg[k].n)
			model_del(md, k);
	model_check_all(md);
	env_free(&md->e);
	munmap(raw, MODEL_PAGES * PAGE + 2 * MIB);
	free(md);
}

static void test_translate_iov(void **state)
{
	uint8_t *m = mem(8 * PAGE);
	struct iommufd_dma_seg segs[4];
	uint64_t a, b;
	size_t n;
	struct env e;

	(void)state;
	env_new(&e, NULL);
	check(iommufd_dma_register(e.dma, m, 2 * PAGE, 0, &a));
	check(iommufd_dma_register(e.dma, m + 2 * PAGE, 2 * PAGE, 0, &b));
	{
		struct iovec iov[] = { { m + 100, PAGE }, { m + PAGE + 100, 2 * PAGE } };

		check(iommufd_dma_translate_iov(e.dma, iov, 2, segs, 4, &n));
		if (b == a + 2 * PAGE) { /* contiguous IOVAs merge */
			assert_int_equal(n, 1);
			assert_int_equal(segs[0].len, 3 * PAGE);
		} else {
			assert_int_equal(n, 2);
			assert_int_equal(segs[0].iova, a + 100);
			assert_int_equal(segs[0].len, 2 * PAGE - 100);
			assert_int_equal(segs[1].iova, b);
			assert_int_equal(segs[1].len, PAGE + 100);
		}
		assert_errno(iommufd_dma_translate_iov(e.dma, iov, 2, segs, 0, &n), ENOSPC);
	}
	{
		struct iovec iov[] = { { m + 3 * PAGE, 2 * PAGE } }; /* runs past the end */

		assert_errno(iommufd_dma_translate_iov(e.dma, iov, 1, segs, 4, &n), ENOENT);
	}
	env_free(&e);
	munmap(m, 8 * PAGE);
}

static void test_fixed_and_identity(void **state)
{
	IOMMUFD_OPTS(struct iommufd_dma_opts, o, .flags = IOMMUFD_DMA_IOVA_EQ_VA);
	uint8_t *m = mem(4 * PAGE);
	uint64_t iova = 0x7000000, io;
	struct env e;

	(void)state;
	env_new(&e, NULL);
	check(iommufd_dma_register(e.dma, m, PAGE, IOMMUFD_DMA_REG_FIXED_IOVA, &iova));
	assert_int_equal(iova, 0x7000000);
	io = 0x7000000;
	assert_errno(iommufd_dma_register(e.dma, m + PAGE, PAGE, IOMMUFD_DMA_REG_FIXED_IOVA, &io), EADDRNOTAVAIL);
	check(iommufd_dma_register(e.dma, m + 2 * PAGE, PAGE, IOMMUFD_DMA_REG_READ_ONLY, &io));
	env_free(&e);

	env_new(&e, &o);
	check(iommufd_dma_register(e.dma, m, 2 * PAGE, 0, &iova));
	assert_int_equal(iova, (uint64_t)(uintptr_t)m);
	check(iommufd_dma_translate(e.dma, m + 7, &io, NULL));
	assert_int_equal(io, (uint64_t)(uintptr_t)m + 7);
	env_free(&e);
	munmap(m, 4 * PAGE);
}

static void test_pins(void **state)
{
	uint8_t *m = mem(2 * PAGE);
	struct iommufd_dma_buf *buf;
	uint64_t iova;
	struct env e;

	(void)state;
	env_new(&e, NULL);
	check(iommufd_dma_register(e.dma, m, 2 * PAGE, 0, &iova));
	assert_errno(iommufd_dma_unpin(e.dma, m), EINVAL);
	check(iommufd_dma_pin(e.dma, m + PAGE));
	assert_errno(iommufd_dma_unregister(e.dma, m, 2 * PAGE), EBUSY);
	assert_non_null(strstr(iommufd_last_error(), "pinned"));
	check(iommufd_dma_translate(e.dma, m, &iova, NULL)); /* still there */
	check(iommufd_dma_unpin(e.dma, m));
	check(iommufd_dma_unregister(e.dma, m, 2 * PAGE));
	assert_errno(iommufd_dma_pin(e.dma, m), ENOENT);

	check(iommufd_dma_buf_alloc(e.dma, PAGE, NULL, &buf));
	check(iommufd_dma_buf_pin(buf));
	assert_errno(iommufd_dma_buf_free(buf), EBUSY);
	/* a buffer is not unregistered behind its back */
	assert_errno(iommufd_dma_unregister(e.dma, iommufd_dma_buf_get_va(buf), PAGE), EINVAL);
	check(iommufd_dma_buf_unpin(buf));
	check(iommufd_dma_buf_free(buf));
	env_free(&e);
	munmap(m, 2 * PAGE);
}

/* an unmap behind the manager's back: the kernel unmaps less, the error says so */
static void test_short_unmap(void **state)
{
	uint8_t *m = mem(2 * PAGE);
	uint64_t iova;
	struct env e;

	(void)state;
	env_new(&e, NULL);
	check(iommufd_dma_register(e.dma, m, 2 * PAGE, 0, &iova));
	/* someone else replaces the area by a smaller one at the same IOVA */
	check(iommufd_ioas_unmap(e.ctx, e.ioas, iova, 2 * PAGE, NULL));
	check(iommufd_ioas_map(e.ctx, e.ioas, m, PAGE, &iova, IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ));
	assert_errno(iommufd_dma_unregister(e.dma, m, 2 * PAGE), EIO);
	assert_non_null(strstr(iommufd_last_error(), "unmapped 0x1000 of 0x2000"));
	assert_errno(iommufd_dma_translate(e.dma, m, &iova, NULL), ENOENT);
	env_free(&e);
	munmap(m, 2 * PAGE);
}

static void buf_check(struct env *e, size_t size, struct iommufd_dma_buf_opts *o,
		      enum iommufd_dma_backing *got)
{
	struct iommufd_dma_buf *buf;
	uint64_t io;
	size_t len;
	uint8_t *va;
	int r = iommufd_dma_buf_alloc(e->dma, size, o, &buf);

	if (r) {
		*got = IOMMUFD_DMA_BACKING_ANY;
		return;
	}
	va = iommufd_dma_buf_get_va(buf);
	assert_int_equal(iommufd_dma_buf_get_size(buf), size);
	assert_int_equal(va[0], 0);
	memset(va, 0xab, size);
	check(iommufd_dma_translate(e->dma, va + size - 1, &io, &len));
	assert_int_equal(io, iommufd_dma_buf_get_iova(buf) + size - 1);
	if (o && o->align) {
		assert_int_equal((uintptr_t)va % o->align, 0);
		assert_int_equal(iommufd_dma_buf_get_iova(buf) % o->align, 0);
	}
	*got = iommufd_dma_buf_get_backing(buf);
	if (*got == IOMMUFD_DMA_BACKING_MEMFD || *got == IOMMUFD_DMA_BACKING_MEMFD_HUGE_2M)
		assert_true(iommufd_dma_buf_get_fd(buf) >= 0);
	else
		assert_int_equal(iommufd_dma_buf_get_fd(buf), -1);
	check(iommufd_dma_buf_free(buf));
	assert_errno(iommufd_dma_translate(e->dma, va, &io, &len), ENOENT);
}

static void test_buffers(void **state)
{
	enum iommufd_dma_backing got;
	struct env e;

	(void)state;
	env_new(&e, NULL);
	buf_check(&e, 3 * PAGE, NULL, &got);
	assert_int_equal(got, IOMMUFD_DMA_BACKING_PAGES);
	{
		IOMMUFD_OPTS(struct iommufd_dma_buf_opts, o, .align = 1 * MIB);
		buf_check(&e, 5 * PAGE, &o, &got);
		assert_int_equal(got, IOMMUFD_DMA_BACKING_PAGES);
	}
	{
		/* 2 MiB pages where the pool has them, else normal pages */
		IOMMUFD_OPTS(struct iommufd_dma_buf_opts, o, .backing = IOMMUFD_DMA_BACKING_HUGE_2M);
		buf_check(&e, 2 * MIB, &o, &got);
		assert_true(got == IOMMUFD_DMA_BACKING_HUGE_2M || got == IOMMUFD_DMA_BACKING_PAGES);
	}
	{
		IOMMUFD_OPTS(struct iommufd_dma_buf_opts, o, .backing = IOMMUFD_DMA_BACKING_HUGE_1G,
			     .flags = IOMMUFD_DMA_BUF_STRICT);
		struct iommufd_dma_buf *buf = NULL;
		int r = iommufd_dma_buf_alloc(e.dma, PAGE, &o, &buf);

		/* no 1 GiB pool here: refused, no fallback */
		if (r == 0)
			check(iommufd_dma_buf_free(buf));
		else
			assert_int_equal(r, -ENOMEM);
	}
	{
		IOMMUFD_OPTS(struct iommufd_dma_buf_opts, o, .backing = IOMMUFD_DMA_BACKING_MEMFD);
		buf_check(&e, 2 * PAGE, &o, &got);
		assert_int_equal(got, IOMMUFD_DMA_BACKING_MEMFD);
	}
	{
		IOMMUFD_OPTS(struct iommufd_dma_buf_opts, o, .flags = IOMMUFD_DMA_BUF_NUMA, .numa_node = 0);
		buf_check(&e, PAGE, &o, &got);
		assert_int_equal(got, IOMMUFD_DMA_BACKING_PAGES);
	}
	{
		IOMMUFD_OPTS(struct iommufd_dma_buf_opts, o, .reserved = 1);
		struct iommufd_dma_buf *buf;

		assert_errno(iommufd_dma_buf_alloc(e.dma, PAGE, &o, &buf), EINVAL);
		assert_errno(iommufd_dma_buf_alloc(e.dma, 0, NULL, &buf), EINVAL);
	}
	env_free(&e);
}

static void test_fork(void **state)
{
	uint8_t *m = mem(PAGE);
	uint64_t iova;
	struct env e;
	pid_t pid;
	int st;

	(void)state;
	env_new(&e, NULL);
	check(iommufd_dma_register(e.dma, m, PAGE, 0, &iova));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint64_t io;
		int ok = iommufd_dma_translate(e.dma, m, &io, NULL) == -ECHILD &&
			 iommufd_dma_register(e.dma, m, PAGE, 0, &io) == -ECHILD &&
			 iommufd_dma_unregister(e.dma, m, PAGE) == -ECHILD;

		/* frees the child's copy only: the parent's maps stay */
		iommufd_dma_unref(e.dma);
		iommufd_ctx_unref(e.ctx);
		test_backend_put();
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	check(iommufd_dma_translate(e.dma, m, &iova, NULL));
	env_free(&e);
	munmap(m, PAGE);
}

/* edu (tests/device/test-dma.c): a device DMA through a buffer of the allocator, by its translated IOVA */
#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000
#define XFER 2048

static void reg_write(struct iommufd_device *dev, uint64_t off, uint64_t v)
{
	assert_int_equal(iommufd_device_region_write(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, 8), 8);
}

static uint64_t reg_read(struct iommufd_device *dev, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(iommufd_device_region_read(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, 8), 8);
	return v;
}

static void edu_dma(struct iommufd_device *dev, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	struct timespec t0, t;

	reg_write(dev, EDU_SRC, src);
	reg_write(dev, EDU_DST, dst);
	reg_write(dev, EDU_CNT, cnt);
	reg_write(dev, EDU_CMD, cmd | EDU_CMD_RUN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (reg_read(dev, EDU_CMD) & EDU_CMD_RUN) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			fail_msg("edu DMA did not complete in 10 s");
		usleep(1000);
	}
}

static void test_edu_dma(void **state)
{
	struct iommufd_ctx *scope = dev_scope(), *ctx = test_ctx_new();
	struct iommufd_dma_buf *buf;
	struct iommufd_device *dev;
	struct iommufd_dma *dma;
	uint64_t src, dst;
	uint32_t ioas, cmd, hwpt = 0;
	uint8_t *va;
	size_t len;

	(void)state;
	check(iommufd_ioas_alloc(ctx, &ioas));
	check(iommufd_dma_new(ctx, ioas, NULL, &dma));
	dev = dev_open(scope, EDU_BDF);
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	check(iommufd_device_attach(dev, ioas, &hwpt));
	if (iommufd_ctx_get_mode(ctx) == IOMMUFD_MODE_TYPE1)
		assert_int_equal(hwpt, 2); /* the container's domain */
	check(iommufd_dma_refresh_ranges(dma)); /* the attach brought reserved regions */
	check(iommufd_device_config_read(dev, 0x04, 2, &cmd));
	check(iommufd_device_config_write(dev, 0x04, 2, cmd | 0x6));
	check(iommufd_dma_buf_alloc(dma, 2 * PAGE, NULL, &buf));
	va = iommufd_dma_buf_get_va(buf);
	for (size_t i = 0; i < PAGE; i++)
		va[i] = (uint8_t)(i * 13 + 1);
	memset(va + PAGE, 0xee, PAGE);
	check(iommufd_dma_translate(dma, va, &src, &len));
	assert_true(len >= 2 * PAGE);
	check(iommufd_dma_translate(dma, va + PAGE, &dst, NULL));
	check(iommufd_dma_buf_pin(buf)); /* in flight */
	edu_dma(dev, src, EDU_BUF, XFER, 0);
	edu_dma(dev, EDU_BUF, dst, XFER, EDU_CMD_TO_RAM);
	check(iommufd_dma_buf_unpin(buf));
	assert_memory_equal(va + PAGE, va, XFER);
	assert_int_equal(va[PAGE + XFER], 0xee);
	check(iommufd_dma_buf_free(buf));
	iommufd_device_unref(dev);
	iommufd_dma_unref(dma);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_iova_alloc),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_translate),
		cmocka_unit_test(test_translate_chunks),
		cmocka_unit_test(test_translate_model),
		cmocka_unit_test(test_translate_iov),
		cmocka_unit_test(test_fixed_and_identity),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_short_unmap),
		cmocka_unit_test(test_buffers),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_edu_dma),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
