// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Unit tests of the emulator's IOAS page-table engine (lib/emu/iopt.c),
 * driven directly. The expectations follow drivers/iommu/iommufd/io_pagetable.c, pages.c
 * and ioas.c, and the kernel selftests of tools/testing/selftests/iommu/iommufd.c (named in each test). Emulator only: the
 * kernel-side equivalents run through the public API elsewhere.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <cmocka.h>

#include "emu/iopt.h"
#include "emu/itree.h"

#define PS (iopt_page_size())
#define RW (IOPT_READ | IOPT_WRITE)
#define MOCK_PAGE 2048ULL
#define AP_START (1ULL << 24)
#define AP_LAST ((1ULL << 31) - 1)
#define BUF_PAGES 16

#define assert_errno(call, E) assert_int_equal((call), -(E))
#define assert_ok(call) assert_int_equal((call), 0)

/*
 * A virtual address with no accessible memory behind it, aligned to 2 MiB
 * like the kernel selftests' 1 << 31 (which, under ASan, lies inside the
 * sanitizer's shadow memory). A PROT_NONE reservation, kept for the whole
 * run so that nothing else is ever mapped there.
 */
static uintptr_t bad_va(void)
{
	static uintptr_t va;

	if (!va) {
		size_t len = 4ul << 20;
		void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		assert_true(p != MAP_FAILED);
		va = ((uintptr_t)p + (2ul << 20) - 1) & ~((uintptr_t)(2ul << 20) - 1);
	}
	return va;
}
#define BAD_VA bad_va()

static char *buffer; /* BUF_PAGES pages, 2 MiB aligned, MAP_SHARED like the selftest */
static size_t buffer_size;
static int dom1, dom2;  /* owners */

static int setup(void **state)
{
	char *p;

	buffer_size = BUF_PAGES * PS;
	p = mmap(NULL, buffer_size + (2 << 20), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	buffer = (char *)(((uintptr_t)p + (2 << 20) - 1) & ~((uintptr_t)(2 << 20) - 1));
	memset(buffer, 0, buffer_size);
	return 0;
}

static struct iopt *new_iopt(void)
{
	struct iopt *iopt = NULL;

	assert_ok(iopt_new(false, NULL, &iopt));
	assert_non_null(iopt);
	return iopt;
}

static void map_fixed(struct iopt *iopt, void *va, uint64_t len, uint64_t iova)
{
	uint64_t i = iova;

	assert_ok(iopt_map_user(iopt, &i, (uintptr_t)va, len, RW, IOPT_MAP_FIXED));
	assert_true(i == iova);
}

static int map_fixed_rc(struct iopt *iopt, void *va, uint64_t len, uint64_t iova)
{
	return iopt_map_user(iopt, &iova, (uintptr_t)va, len, RW, IOPT_MAP_FIXED);
}

static uint64_t map_auto(struct iopt *iopt, void *va, uint64_t len)
{
	uint64_t iova = 0;

	assert_ok(iopt_map_user(iopt, &iova, (uintptr_t)va, len, RW, 0));
	return iova;
}

/* a mock domain like the selftest's: 2K pages, aperture [16M, 2G-1] */
static int add_mock_domain(struct iopt *iopt, void *owner)
{
	return iopt_domain_add(iopt, owner, MOCK_PAGE, AP_START, AP_LAST);
}

/* ---- basics ------------------------------------------------------------------------ */

static void test_new_empty(void **state)
{
	struct iopt *iopt = new_iopt();
	struct iopt_range r[2] = { { 1, 1 }, { 7, 7 } };
	uint64_t un = 99;

	assert_int_equal(iopt_iova_alignment(iopt), 1);
	assert_true(iopt_get_huge_pages(iopt));
	assert_int_equal(iopt_iova_ranges(iopt, r, 2), 1);
	assert_true(r[0].start == 0 && r[0].last == UINT64_MAX);
	assert_true(r[1].start == 7);
	assert_int_equal(iopt_area_count(iopt), 0);
	/* unmap all of an empty IOAS succeeds, length 0 */
	assert_ok(iopt_unmap(iopt, 0, UINT64_MAX, &un));
	assert_true(un == 0);
	iopt_free(iopt);
	iopt_free(NULL);
}

/* selftest iommufd_ioas.area */
static void test_area(void **state)
{
	struct iopt *iopt = new_iopt();
	uint64_t base = 0, un, i;

	/* unmap where nothing is mapped */
	assert_errno(iopt_unmap(iopt, base, PS, NULL), ENOENT);
	/* 10 single page maps then unmaps */
	for (i = 0; i != 10; i++)
		map_fixed(iopt, buffer, PS, base + i * PS);
	assert_int_equal(iopt_area_count(iopt), 10);
	for (i = 0; i != 10; i++) {
		assert_ok(iopt_unmap(iopt, base + i * PS, PS, &un));
		assert_true(un == PS);
	}
	assert_int_equal(iopt_area_count(iopt), 0);

	/* unmap half of a 2 page area: ENOENT, both halves */
	map_fixed(iopt, buffer, 2 * PS, base);
	assert_errno(iopt_unmap(iopt, base, PS, NULL), ENOENT);
	assert_errno(iopt_unmap(iopt, base + PS, PS, NULL), ENOENT);
	assert_int_equal(iopt_area_count(iopt), 1);

	/* overlapping fixed maps: EEXIST */
	map_fixed(iopt, buffer, 2 * PS, base + 8 * PS);
	assert_errno(map_fixed_rc(iopt, buffer, 2 * PS, base + 7 * PS), EEXIST); /* head */
	assert_errno(map_fixed_rc(iopt, buffer, 2 * PS, base + 9 * PS), EEXIST); /* tail */
	assert_errno(map_fixed_rc(iopt, buffer, 4 * PS, base + 7 * PS), EEXIST); /* covers */
	assert_errno(map_fixed_rc(iopt, buffer, PS, base + 8 * PS), EEXIST);     /* inside */
	assert_errno(map_fixed_rc(iopt, buffer, 1, base + 10 * PS - 1), EEXIST); /* last byte */
	assert_ok(map_fixed_rc(iopt, buffer, PS, base + 10 * PS));               /* touching */
	assert_ok(map_fixed_rc(iopt, buffer, 1, base + 7 * PS + PS - 1));         /* touching */

	/* unmap (0, U64_MAX) works, twice */
	assert_ok(iopt_unmap(iopt, 0, UINT64_MAX, &un));
	assert_true(un == 2 * PS + 2 * PS + PS + 1);
	assert_int_equal(iopt_area_count(iopt), 0);
	assert_ok(iopt_unmap(iopt, 0, UINT64_MAX, &un));
	assert_true(un == 0);
	iopt_free(iopt);
}

/* UNMAP argument rules (iopt_unmap_iova(), io_pagetable.c) */
static void test_unmap_args(void **state)
{
	struct iopt *iopt = new_iopt();

	map_fixed(iopt, buffer, PS, 0);
	assert_errno(iopt_unmap(iopt, 1, UINT64_MAX, NULL), EOVERFLOW);
	assert_errno(iopt_unmap(iopt, UINT64_MAX, 1, NULL), EOVERFLOW);
	assert_errno(iopt_unmap(iopt, 0, 0, NULL), EINVAL);
	assert_errno(iopt_unmap(iopt, 3, UINT64_MAX - 1, NULL), EOVERFLOW);
	/* no alignment needed: only containment */
	assert_ok(iopt_unmap(iopt, 0, PS + 123, NULL));
	assert_int_equal(iopt_area_count(iopt), 0);
	iopt_free(iopt);
}

/* selftest iommufd_ioas.unmap_fully_contained_areas */
static void test_unmap_fully_contained_areas(void **state)
{
	struct iopt *iopt = new_iopt();
	uint64_t base = 4 * PS, un = 0;
	int i;

	for (i = 0; i != 4; i++)
		map_fixed(iopt, buffer, 8 * PS, base + i * 16 * PS);
	assert_errno(iopt_unmap(iopt, base - 4 * PS, 8 * PS, NULL), ENOENT);
	assert_errno(iopt_unmap(iopt, base + 3 * 16 * PS + 8 * PS - 4 * PS, 8 * PS, NULL), ENOENT);
	assert_ok(iopt_unmap(iopt, base - 4 * PS,
			     3 * 16 * PS + 8 * PS - 4 * PS + 8 * PS, &un));
	assert_true(un == 32 * PS);
	assert_int_equal(iopt_area_count(iopt), 0);
	iopt_free(iopt);
}

static void noop_unmap(void *opaque, uint64_t iova, uint64_t length)
{
}

/* UNMAP is not atomic: areas before the offending one stay unmapped */
static void test_unmap_not_atomic(void **state)
{
	struct iopt *iopt = new_iopt();
	struct iopt_xlate x;
	uint64_t un = 777;

	map_fixed(iopt, buffer, PS, 0x10000);
	map_fixed(iopt, buffer, 2 * PS, 0x20000);
	map_fixed(iopt, buffer, PS, 0x30000);
	/* second area only partially covered: first is gone, second and third stay */
	assert_errno(iopt_unmap(iopt, 0x10000, 0x20000 + PS - 0x10000, &un), ENOENT);
	assert_true(un == 777);
	assert_errno(iopt_translate(iopt, 0x10000, &x), ENOENT);
	assert_ok(iopt_translate(iopt, 0x20000, &x));
	assert_int_equal(iopt_area_count(iopt), 2);

	/* locked area: EBUSY, the earlier one was unmapped */
	map_fixed(iopt, buffer, PS, 0x10000);
	iopt_set_access_unmap_cb(iopt, noop_unmap, NULL);
	assert_ok(iopt_access_pin(iopt, 0x20000, PS, IOPT_PIN_LOCK));
	assert_ok(iopt_translate(iopt, 0x20000, &x));
	assert_int_equal(x.lock_count, 1);
	assert_errno(iopt_unmap(iopt, 0x10000, 0x30000, &un), EBUSY);
	assert_errno(iopt_translate(iopt, 0x10000, &x), ENOENT);
	assert_ok(iopt_translate(iopt, 0x30000, &x));
	/* its neighbour unmaps fine (selftest hw_queue) */
	assert_ok(iopt_unmap(iopt, 0x30000, PS, &un));
	iopt_access_unpin(iopt, 0x20000, PS, IOPT_PIN_LOCK);
	assert_ok(iopt_unmap(iopt, 0x20000, 2 * PS, &un));
	assert_true(un == 2 * PS);
	iopt_free(iopt);
}

/* ---- the allocator ----------------------------------------------------------- */

/* selftest iommufd_ioas.area_auto_iova (no_domain variant) */
static void test_area_auto_iova(void **state)
{
	struct iopt *iopt = new_iopt();
	struct iopt_range allowed[2];
	uint64_t iovas[10];
	int i;

	for (i = 0; i != 10; i++) {
		uint64_t length = PS * (i + 1);

		iovas[i] = map_auto(iopt, (void *)BAD_VA, length);
		assert_true(iovas[i] % (length & -length) == 0);
		assert_true(iovas[i] != 0);
	}
	for (i = 0; i != 10; i++)
		assert_ok(iopt_unmap(iopt, iovas[i], PS * (i + 1), NULL));

	/* avoid some reserved space */
	assert_ok(iopt_reserve(iopt, PS, PS * 100 - 1, NULL));
	for (i = 0; i != 10; i++) {
		uint64_t length = PS * (i + 1);

		iovas[i] = map_auto(iopt, (void *)BAD_VA, length);
		assert_true(iovas[i] >= PS * 100 || iovas[i] + length - 1 < PS);
		assert_true(iovas[i] % (length & -length) == 0);
	}
	for (i = 0; i != 10; i++)
		assert_ok(iopt_unmap(iopt, iovas[i], PS * (i + 1), NULL));

	/* allowed ranges intersecting the reserved one: EADDRINUSE */
	allowed[0] = (struct iopt_range){ PS, PS * 600 - 1 };
	assert_errno(iopt_allow_iovas(iopt, allowed, 1), EADDRINUSE);

	/* allocation is limited to the allowed ranges */
	allowed[0] = (struct iopt_range){ PS * 200, PS * 300 - 1 };
	allowed[1] = (struct iopt_range){ PS * 1000, PS * 1300 - 1 };
	assert_ok(iopt_allow_iovas(iopt, allowed, 2));
	for (i = 0; i != 10; i++) {
		uint64_t length = PS * (i + 1);

		iovas[i] = map_auto(iopt, (void *)BAD_VA, length);
		assert_true((iovas[i] >= allowed[0].start && iovas[i] + length - 1 <= allowed[0].last) ||
			    (iovas[i] >= allowed[1].start && iovas[i] + length - 1 <= allowed[1].last));
	}
	iopt_free(iopt);
}

/* io_pagetable.c: first fit from PAGE_SIZE, alignment, sub-page offset, 2 MiB cap */
static void test_alloc_rules(void **state)
{
	struct iopt *iopt = new_iopt();
	uint64_t iova;

	/* first fit: never IOVA 0 */
	assert_true(map_auto(iopt, (void *)0x100000, PS) == PS);
	/* next: 2 pages aligned to 8K */
	assert_true(map_auto(iopt, (void *)0x100000, 2 * PS) == 2 * PS);
	/* align = min(pow2(len), lowest bit of addr): VA 0x1000 forces 4K alignment */
	assert_true(map_auto(iopt, (void *)0x1000, 4 * PS) == 4 * PS);
	/* sub-page offset of the VA is kept */
	iova = map_auto(iopt, (void *)0x100010, 0x10);
	assert_true(iova % PS == 0x10);
	assert_true(iova == 8 * PS + 0x10);
	/* big lengths align to 2 MiB at most */
	iova = map_auto(iopt, (void *)(1ULL << 40), 64ULL << 20);
	assert_true(iova == 2ULL << 20);
	/* EOVERFLOW for absurd lengths */
	iova = 0;
	assert_errno(iopt_map_user(iopt, &iova, 0, 1ULL << 63, RW, 0), EOVERFLOW);
	/* uva + length overflows */
	assert_errno(iopt_map_user(iopt, &iova, UINT64_MAX - 10, 100, RW, 0), EOVERFLOW);
	assert_errno(iopt_map_user(iopt, &iova, 0x1000, 0, RW, 0), EINVAL);
	assert_errno(iopt_map_user(iopt, &iova, 0x1000, PS, 0, 0), EINVAL);
	/* fixed: iova + length - 1 overflows */
	iova = UINT64_MAX - PS + 1;
	assert_errno(iopt_map_user(iopt, &iova, 0x1000, 2 * PS, RW, IOPT_MAP_FIXED), EOVERFLOW);
	iopt_free(iopt);
}

/* the last page is never chosen and ENOSPC when nothing fits */
static void test_alloc_top(void **state)
{
	struct iopt *iopt = new_iopt();
	uint64_t iova = 0;

	assert_ok(iopt_reserve(iopt, 0, UINT64_MAX - 4 * PS, NULL));
	/* space left: [U64_MAX - 4P + 1, U64_MAX]; the last page is excluded */
	iova = map_auto(iopt, (void *)0x1000, PS);
	assert_true(iova == UINT64_MAX - 4 * PS + 1);
	iova = map_auto(iopt, (void *)0x1000, PS);
	assert_true(iova == UINT64_MAX - 3 * PS + 1);
	iova = map_auto(iopt, (void *)0x1000, PS);
	assert_true(iova == UINT64_MAX - 2 * PS + 1);
	assert_errno(iopt_map_user(iopt, &iova, 0x1000, PS, RW, 0), ENOSPC);
	/* but a fixed map may use it */
	map_fixed(iopt, (void *)0x1000, PS, UINT64_MAX - PS + 1);
	iopt_free(iopt);
}

/* selftest iommufd_ioas.reserved_overflow */
static void test_reserved_overflow(void **state)
{
	struct iopt *iopt = new_iopt();
	uint64_t iova = 0, map_len;

	/* the selftest: ADD_RESERVED start 6, length 0xffffffffffff8001 (4K pages) */
	if (PS == 4096) {
		assert_ok(iopt_reserve(iopt, 6, 6 + 0xffffffffffff8001ULL - 1, NULL));
		map_len = 0x5000;
	} else {
		assert_ok(iopt_reserve(iopt, 6, 6 + (UINT64_MAX - MOCK_PAGE * 16) - 1, NULL));
		map_len = MOCK_PAGE * 10;
	}
	assert_errno(iopt_map_user(iopt, &iova, (uintptr_t)buffer, map_len, RW, 0), ENOSPC);
	iopt_free(iopt);

	/* the 2 MiB alignment cap counts: [PAGE, 2G-1] holds 2G-2M at 2M */
	iopt = new_iopt();
	assert_ok(iopt_reserve(iopt, 1ULL << 31, UINT64_MAX, NULL));
	map_len = (1ULL << 31) - (2ULL << 20) + PS;
	assert_errno(iopt_map_user(iopt, &iova, (uintptr_t)buffer, map_len, RW, 0), ENOSPC);
	map_len = (1ULL << 31) - (2ULL << 20);
	assert_ok(iopt_map_user(iopt, &iova, (uintptr_t)buffer, map_len, RW, 0));
	assert_true(iova == 2ULL << 20);
	iopt_free(iopt);
}

/* selftest iommufd_ioas.area_allowed */
static void test_area_allowed(void **state)
{
	struct iopt *iopt = new_iopt();
	struct iopt_range allowed[2] = { { 0x100000, 0x1fffff }, { 0x300000, 0x3fffff } };

	assert_ok(iopt_allow_iovas(iopt, allowed, 2));
	/* reservation inside an allowed range: EADDRINUSE */
	assert_errno(iopt_reserve(iopt, 0x1f0000, 0x2fffff, NULL), EADDRINUSE);
	/* outside works */
	assert_ok(iopt_reserve(iopt, 0x200000, 0x2fffff, NULL));
	/* clearing the list works, then the reservation is accepted */
	assert_ok(iopt_allow_iovas(iopt, NULL, 0));
	assert_ok(iopt_reserve(iopt, 0x100000, 0x100fff, NULL));
	/* allowing over a reserved range: EADDRINUSE, the old list is kept */
	assert_errno(iopt_allow_iovas(iopt, allowed, 2), EADDRINUSE);
	assert_ok(iopt_reserve(iopt, 0x350000, 0x350fff, NULL));
	iopt_unreserve(iopt, NULL);
	assert_ok(iopt_allow_iovas(iopt, allowed, 2));
	iopt_free(iopt);
}

/* iommufd_ioas_allow_iovas() list checks (ioas.c) */
static void test_allow_iovas_checks(void **state)
{
	struct iopt *iopt = new_iopt();
	struct iopt_range r[3];
	uint64_t iova;

	r[0] = (struct iopt_range){ 0x1000, 0x1000 }; /* single byte: start >= last */
	assert_errno(iopt_allow_iovas(iopt, r, 1), EINVAL);
	r[0] = (struct iopt_range){ 0x2000, 0x1000 };
	assert_errno(iopt_allow_iovas(iopt, r, 1), EINVAL);
	r[0] = (struct iopt_range){ 0x10000, 0x1ffff };
	r[1] = (struct iopt_range){ 0x30000, 0x3ffff };
	r[2] = (struct iopt_range){ 0x1f000, 0x20fff }; /* overlaps r[0] */
	assert_errno(iopt_allow_iovas(iopt, r, 3), EINVAL);
	/* existing mappings are not checked */
	map_fixed(iopt, buffer, PS, 0x50000);
	assert_ok(iopt_allow_iovas(iopt, r, 2));
	/* the allocator picks the first allowed window */
	assert_true(map_auto(iopt, (void *)0x1000, PS) == 0x10000);
	/* IOVA_RANGES ignores the allowed list */
	assert_int_equal(iopt_iova_ranges(iopt, NULL, 0), 1);
	/* the full windows: ENOSPC */
	iova = 0;
	assert_errno(iopt_map_user(iopt, &iova, 0, 0x20000, RW, 0), ENOSPC);
	iopt_free(iopt);
}

/* selftest iommufd_ioas.iova_ranges */
static void test_iova_ranges(void **state)
{
	struct iopt *iopt = new_iopt();
	struct iopt_range r[3];

	memset(r, 0xaa, sizeof(r));
	assert_int_equal(iopt_iova_ranges(iopt, NULL, 0), 1);
	assert_int_equal(iopt_iova_ranges(iopt, r, 1), 1);
	assert_true(r[0].start == 0 && r[0].last == SIZE_MAX);
	assert_ok(iopt_reserve(iopt, PS, PS * 2 - 1, NULL));
	memset(r, 0xaa, sizeof(r));
	assert_int_equal(iopt_iova_ranges(iopt, r, 1), 2);
	assert_true(r[0].start == 0 && r[0].last == PS - 1);
	assert_true(r[1].start == 0xaaaaaaaaaaaaaaaaULL); /* past capacity: untouched */
	assert_int_equal(iopt_iova_ranges(iopt, r, 3), 2);
	assert_true(r[1].start == 2 * PS && r[1].last == UINT64_MAX);
	iopt_free(iopt);

	/* with a mock domain: [16M, 2G-1], alignment 2048 */
	iopt = new_iopt();
	assert_ok(add_mock_domain(iopt, &dom1));
	assert_int_equal(iopt_iova_alignment(iopt), 2048);
	assert_int_equal(iopt_iova_ranges(iopt, r, 3), 1);
	assert_true(r[0].start == AP_START && r[0].last == AP_LAST);
	/* ADD_RESERVED at the aperture edge: still one range */
	assert_ok(iopt_reserve(iopt, 0, PS * 2 - 1, NULL));
	assert_int_equal(iopt_iova_ranges(iopt, r, 1), 1);
	/* overlapping reservations of different owners */
	assert_ok(iopt_reserve(iopt, AP_START, AP_START + 0xffff, &dom2));
	assert_int_equal(iopt_iova_ranges(iopt, r, 3), 1);
	assert_true(r[0].start == AP_START + 0x10000 && r[0].last == AP_LAST);
	iopt_domain_remove(iopt, &dom1);
	assert_int_equal(iopt_iova_alignment(iopt), 1);
	assert_int_equal(iopt_iova_ranges(iopt, r, 3), 2);
	assert_true(r[0].start == 2 * PS && r[0].last == AP_START - 1);
	assert_true(r[1].start == AP_START + 0x10000 && r[1].last == UINT64_MAX);
	iopt_unreserve(iopt, &dom2);
	assert_int_equal(iopt_iova_ranges(iopt, r, 3), 1);
	iopt_free(iopt);
}

/* ---- alignment, huge pages, domains -------------------------------------------- */

/* selftest iommufd_ioas.ioas_option_huge_pages (+ the rules of iommufd_ioas_option(), ioas.c) */
static void test_huge_pages_option(void **state)
{
	struct iopt *iopt = new_iopt();

	assert_true(iopt_get_huge_pages(iopt));
	assert_ok(iopt_set_huge_pages(iopt, false));
	assert_false(iopt_get_huge_pages(iopt));
	assert_int_equal(iopt_iova_alignment(iopt), PS);
	assert_ok(iopt_set_huge_pages(iopt, false)); /* already disabled */
	assert_ok(iopt_set_huge_pages(iopt, true));
	assert_true(iopt_get_huge_pages(iopt));
	assert_int_equal(iopt_iova_alignment(iopt), 1);

	/* domain + area: EINVAL; domain alone or area alone: fine */
	assert_ok(add_mock_domain(iopt, &dom1));
	assert_ok(iopt_set_huge_pages(iopt, false));
	assert_ok(iopt_set_huge_pages(iopt, true));
	map_fixed(iopt, buffer, PS, AP_START);
	assert_errno(iopt_set_huge_pages(iopt, false), EINVAL);
	assert_true(iopt_get_huge_pages(iopt));
	iopt_domain_remove(iopt, &dom1);
	assert_ok(iopt_set_huge_pages(iopt, false));
	iopt_free(iopt);
}

/* selftest iommufd_ioas.ioas_align_change */
static void test_align_change(void **state)
{
	struct iopt *iopt = new_iopt();
	uint64_t iova;

	/* can change while mapped */
	assert_ok(iopt_set_huge_pages(iopt, false));
	map_fixed(iopt, buffer, PS, AP_START);
	/* a 2K sub-page offset is rejected while the alignment is PAGE_SIZE */
	assert_errno(map_fixed_rc(iopt, buffer + MOCK_PAGE, PS, AP_START + PS), EINVAL);
	iova = 0;
	assert_errno(iopt_map_user(iopt, &iova, (uintptr_t)buffer + MOCK_PAGE, PS, RW, 0), EINVAL);
	/* reduce alignment: accepted */
	assert_ok(iopt_set_huge_pages(iopt, true));
	map_fixed(iopt, buffer + MOCK_PAGE, PS, AP_START + PS);
	/* misalignment rejected during the upgrade, setting reverted */
	assert_errno(iopt_set_huge_pages(iopt, false), EADDRINUSE);
	assert_true(iopt_get_huge_pages(iopt));
	assert_int_equal(iopt_iova_alignment(iopt), 1);
	assert_ok(iopt_unmap(iopt, AP_START + PS, PS, NULL));
	assert_ok(iopt_set_huge_pages(iopt, false));
	iopt_free(iopt);
}

/* selftest iommufd_ioas.ioas_iova_alloc */
static void test_iova_alloc_lengths(void **state)
{
	struct iopt *iopt = new_iopt();
	uint64_t length, iova;

	for (length = 1; length != PS * 2; length++) {
		iova = 0;
		assert_ok(iopt_map_user(iopt, &iova, (uintptr_t)buffer, length, RW, 0));
		assert_ok(iopt_unmap(iopt, iova, length, NULL));
	}
	assert_ok(add_mock_domain(iopt, &dom1));
	for (length = 1; length != PS * 2; length++) {
		int rc;

		iova = 0;
		rc = iopt_map_user(iopt, &iova, (uintptr_t)buffer, length, RW, 0);
		if (length % MOCK_PAGE) {
			assert_errno(rc, EINVAL);
		} else {
			assert_ok(rc);
			assert_true(iova >= AP_START && iova + length - 1 <= AP_LAST);
			assert_ok(iopt_unmap(iopt, iova, length, NULL));
		}
	}
	iopt_domain_remove(iopt, &dom1);
	iopt_free(iopt);
}

/* io_pagetable.c alignment inputs: domain page size, accesses; EADDRINUSE on raise */
static void test_domain_alignment(void **state)
{
	struct iopt *iopt = new_iopt();
	int acc1, acc2;

	/* a domain page larger than PAGE_SIZE or not a power of 2: EINVAL */
	assert_errno(iopt_domain_add(iopt, &dom1, PS * 2, 0, UINT64_MAX), EINVAL);
	assert_errno(iopt_domain_add(iopt, &dom1, 3, 0, UINT64_MAX), EINVAL);
	/* an area with odd length blocks the raise */
	map_fixed(iopt, buffer, 0x1001, AP_START);
	assert_errno(add_mock_domain(iopt, &dom1), EADDRINUSE);
	assert_int_equal(iopt_domain_count(iopt), 0);
	assert_int_equal(iopt_iova_ranges(iopt, NULL, 0), 1); /* reservations undone */
	assert_ok(iopt_unmap_all(iopt, NULL));
	/* an area at IOVA 0 clashes with the aperture reservation */
	map_fixed(iopt, buffer, PS, 0);
	assert_errno(add_mock_domain(iopt, &dom1), EADDRINUSE);
	assert_int_equal(iopt_iova_alignment(iopt), 1);
	assert_ok(iopt_unmap_all(iopt, NULL));

	/* accesses: a pinning access raises to PAGE_SIZE */
	assert_ok(iopt_access_add(iopt, &acc1, false));
	assert_int_equal(iopt_iova_alignment(iopt), 1);
	map_fixed(iopt, buffer + 0x800, PS, 0x10800);
	assert_errno(iopt_access_add(iopt, &acc2, true), EADDRINUSE);
	assert_int_equal(iopt_iova_alignment(iopt), 1);
	assert_ok(iopt_unmap_all(iopt, NULL));
	assert_ok(iopt_access_add(iopt, &acc2, true));
	assert_int_equal(iopt_iova_alignment(iopt), PS);
	iopt_access_remove(iopt, &acc2);
	assert_int_equal(iopt_iova_alignment(iopt), 1);
	iopt_access_remove(iopt, &acc1);

	/* two domains; removing one keeps the other's alignment */
	assert_ok(add_mock_domain(iopt, &dom1));
	assert_ok(iopt_domain_add(iopt, &dom2, 1024, 0, UINT64_MAX));
	assert_int_equal(iopt_iova_alignment(iopt), 2048);
	assert_int_equal(iopt_domain_count(iopt), 2);
	iopt_domain_remove(iopt, &dom1);
	assert_int_equal(iopt_iova_alignment(iopt), 1024);
	assert_int_equal(iopt_iova_ranges(iopt, NULL, 0), 1);
	iopt_domain_remove(iopt, &dom2);
	assert_int_equal(iopt_iova_alignment(iopt), 1);
	iopt_free(iopt);
}

/* FIXED map: reserved -> EINVAL, area -> EEXIST, misaligned -> EINVAL (iopt_map_pages(), io_pagetable.c) */
static void test_map_fixed_rules(void **state)
{
	struct iopt *iopt = new_iopt();

	assert_ok(add_mock_domain(iopt, &dom1));
	assert_errno(map_fixed_rc(iopt, buffer, PS, 0), EINVAL);             /* reserved */
	assert_errno(map_fixed_rc(iopt, buffer, PS, AP_START - PS), EINVAL); /* straddles */
	assert_errno(map_fixed_rc(iopt, buffer, PS, AP_START + 1024), EINVAL);
	assert_errno(map_fixed_rc(iopt, buffer, 1024, AP_START), EINVAL);
	assert_errno(map_fixed_rc(iopt, buffer + 1024, PS, AP_START), EINVAL); /* sub-page */
	map_fixed(iopt, buffer + 2048, PS, AP_START + 2048);
	assert_errno(map_fixed_rc(iopt, buffer, PS, AP_START), EEXIST);
	iopt_domain_remove(iopt, &dom1);
	iopt_free(iopt);
}

/* ---- pinning --------------------------------------------------------------------- */

/* lazy pinning (io_pagetable.c, pages.c) */
static void test_lazy_pin(void **state)
{
	struct iopt *iopt = new_iopt();
	struct iopt_xlate x;
	char *hole;
	uint64_t iova;

	/* no domain: any VA maps */
	map_fixed(iopt, (void *)BAD_VA, PS, AP_START);
	assert_ok(iopt_translate(iopt, AP_START, &x));
	assert_false(x.pinned);
	/* the domain fill finds it: EFAULT, nothing changed */
	assert_errno(add_mock_domain(iopt, &dom1), EFAULT);
	assert_int_equal(iopt_domain_count(iopt), 0);
	assert_int_equal(iopt_iova_alignment(iopt), 1);
	assert_int_equal(iopt_iova_ranges(iopt, NULL, 0), 1);
	assert_ok(iopt_unmap_all(iopt, NULL));

	map_fixed(iopt, buffer, 4 * PS, AP_START);
	assert_ok(add_mock_domain(iopt, &dom1));
	assert_ok(iopt_translate(iopt, AP_START + PS, &x));
	assert_true(x.pinned);
	assert_true(x.uva == (uintptr_t)buffer + PS);
	assert_int_equal(x.type, IOPT_PAGES_VA);

	/* with a domain, a bad VA fails the MAP: EFAULT, nothing left mapped */
	iova = 0;
	assert_errno(iopt_map_user(iopt, &iova, BAD_VA, PS, RW, 0), EFAULT);
	assert_int_equal(iopt_area_count(iopt), 1);
	/* part of the range unmapped (second half, then first half) */
	hole = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(hole != MAP_FAILED);
	munmap(hole + PS, PS);
	assert_errno(iopt_map_user(iopt, &iova, (uintptr_t)hole, 2 * PS, RW, 0), EFAULT);
	munmap(hole, PS);
	hole = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, PS);
	assert_errno(iopt_map_user(iopt, &iova, (uintptr_t)hole, 2 * PS, RW, 0), EFAULT);
	/* read-only memory: a writeable map fails, a readable one pins */
	assert_ok(mprotect(hole + PS, PS, PROT_READ));
	assert_errno(iopt_map_user(iopt, &iova, (uintptr_t)hole + PS, PS, RW, 0), EFAULT);
	assert_ok(iopt_map_user(iopt, &iova, (uintptr_t)hole + PS, PS, IOPT_READ, 0));
	assert_int_equal(iopt_area_count(iopt), 2);
	assert_ok(iopt_unmap(iopt, iova, PS, NULL));
	munmap(hole + PS, PS);

	/* the last domain leaving unpins */
	iopt_domain_remove(iopt, &dom1);
	assert_ok(iopt_translate(iopt, AP_START, &x));
	assert_false(x.pinned);
	iopt_free(iopt);
}

/*
 * Device memory (iopt_io_file_add: an emulated BAR's memfd): a mapping of it
 * is VM_IO | VM_PFNMAP to the kernel, which pin_user_pages() refuses, so
 * pinning fails with EFAULT (the map with a domain, the domain's fill), but
 * for IOPT_MAP_PFNMAP (type1 follows the PFNs). Once the file is no longer
 * device memory, its mapping pins like any shared memory.
 */
static void test_io_file(void **state)
{
	struct iopt *iopt = new_iopt();
	uint64_t iova = AP_START;
	char *bar;
	int mfd;

	(void)state;
	mfd = memfd_create("iopt-bar", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	assert_ok(ftruncate(mfd, 2 * (off_t)PS));
	bar = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(bar != MAP_FAILED);
	assert_errno(iopt_io_file_add(-1), EBADF);
	assert_ok(iopt_io_file_add(mfd));

	/* no domain: mapped, not pinned; the fill then fails, nothing changed */
	map_fixed(iopt, bar, PS, AP_START);
	assert_errno(add_mock_domain(iopt, &dom1), EFAULT);
	assert_int_equal(iopt_domain_count(iopt), 0);
	assert_ok(iopt_unmap_all(iopt, NULL));
	/* with a domain: the map fails, also a read-only one, also in part */
	assert_ok(add_mock_domain(iopt, &dom1));
	assert_errno(map_fixed_rc(iopt, bar, PS, AP_START), EFAULT);
	assert_errno(iopt_map_user(iopt, &iova, (uintptr_t)bar, PS, IOPT_READ, IOPT_MAP_FIXED), EFAULT);
	assert_int_equal(iopt_area_count(iopt), 0);
	/* type1's way: mapped */
	assert_ok(iopt_map_user(iopt, &iova, (uintptr_t)bar, 2 * PS, RW, IOPT_MAP_FIXED | IOPT_MAP_PFNMAP));
	assert_int_equal(iopt_area_count(iopt), 1);
	assert_ok(iopt_unmap_all(iopt, NULL));
	/* no longer device memory: pinned like shared memory */
	iopt_io_file_remove(mfd);
	map_fixed(iopt, bar, PS, AP_START);
	assert_ok(iopt_unmap_all(iopt, NULL));
	iopt_domain_remove(iopt, &dom1);
	munmap(bar, 2 * PS);
	close(mfd);
	iopt_free(iopt);
}

static int set_cap_ipc_lock(bool on)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	if (on)
		data[0].effective |= 1u << 14;
	else
		data[0].effective &= ~(1u << 14);
	return syscall(SYS_capset, &hdr, data);
}

/* pages.c accounting: USER mode against RLIMIT_MEMLOCK, each page once per pages */
static void test_accounting(void **state)
{
	struct iopt_acct_stats st0, st;
	struct iopt *a, *b;
	struct iopt_copy_src *cs = NULL;
	struct rlimit old, rl;
	uint64_t iova;

	assert_ok(getrlimit(RLIMIT_MEMLOCK, &old));
	set_cap_ipc_lock(false);
	iopt_acct_get(&st0);
	rl = old;
	rl.rlim_cur = st0.user_locked * PS + 8 * PS;
	if (old.rlim_max != RLIM_INFINITY && rl.rlim_cur > old.rlim_max) {
		set_cap_ipc_lock(true);
		skip();
	}
	assert_ok(setrlimit(RLIMIT_MEMLOCK, &rl));

	a = new_iopt();
	b = new_iopt();
	assert_ok(add_mock_domain(a, &dom1));
	assert_ok(add_mock_domain(b, &dom2));
	/* 16 pages over an 8 page limit: ENOMEM, nothing mapped or charged */
	iova = 0;
	assert_errno(iopt_map_user(a, &iova, (uintptr_t)buffer, 16 * PS, RW, 0), ENOMEM);
	assert_int_equal(iopt_area_count(a), 0);
	iopt_acct_get(&st);
	assert_true(st.user_locked == st0.user_locked && st.pinned == st0.pinned);
	/* 8 pages fit */
	assert_ok(iopt_map_user(a, &iova, (uintptr_t)buffer, 8 * PS, RW, 0));
	iopt_acct_get(&st);
	assert_true(st.user_locked == st0.user_locked + 8);
	assert_true(st.pinned == st0.pinned + 8);
	/* COPY shares the pages: no new charge, even into another domain */
	assert_ok(iopt_copy_collect(a, iova, 8 * PS, &cs));
	iova = 0;
	assert_ok(iopt_copy_map(b, cs, &iova, RW, 0));
	iopt_copy_src_free(cs);
	iopt_acct_get(&st);
	assert_true(st.user_locked == st0.user_locked + 8);
	/* a second map of the same memory is another pages object: charged again */
	iova = 0;
	assert_errno(iopt_map_user(a, &iova, (uintptr_t)buffer, PS, RW, 0), ENOMEM);
	/* unmapping in a leaves b's pins */
	assert_ok(iopt_unmap_all(a, NULL));
	iopt_acct_get(&st);
	assert_true(st.user_locked == st0.user_locked + 8);
	iopt_free(b);
	iopt_acct_get(&st);
	assert_true(st.user_locked == st0.user_locked && st.pinned == st0.pinned);
	iopt_free(a);

	/* mm mode: charged to mm_locked */
	assert_ok(iopt_new(true, NULL, &a));
	assert_ok(add_mock_domain(a, &dom1));
	iova = 0;
	assert_ok(iopt_map_user(a, &iova, (uintptr_t)buffer, 4 * PS, RW, 0));
	iopt_acct_get(&st);
	assert_true(st.mm_locked == st0.mm_locked + 4);
	assert_true(st.user_locked == st0.user_locked);
	iopt_free(a);
	iopt_acct_get(&st);
	assert_true(st.mm_locked == st0.mm_locked);

	assert_ok(setrlimit(RLIMIT_MEMLOCK, &old));
	set_cap_ipc_lock(true);
}

/* MAP_FILE (iommufd_ioas_map_file(), ioas.c): file typed, checked at pin */
static void test_map_file(void **state)
{
	struct iopt *iopt = new_iopt();
	struct iopt_xlate x;
	uint64_t iova = 0;
	char data[8] = { 0 };
	int mfd, rfd;

	mfd = memfd_create("iopt", 0);
	assert_true(mfd >= 0);
	assert_ok(ftruncate(mfd, 4 * PS));
	assert_errno(iopt_map_file(iopt, &iova, mfd, 0, 0, RW, 0), EINVAL);
	assert_errno(iopt_map_file(iopt, &iova, mfd, UINT64_MAX, 2, RW, 0), EOVERFLOW);
	assert_errno(iopt_map_file(iopt, &iova, 1000, 0, PS, RW, 0), EBADF);
	assert_ok(iopt_map_file(iopt, &iova, mfd, PS, 2 * PS, RW, 0));
	assert_true(iova == PS * 2 || iova % PS == 0);
	close(mfd); /* the engine holds its own reference */
	assert_ok(iopt_translate(iopt, iova + 10, &x));
	assert_int_equal(x.type, IOPT_PAGES_FILE);
	assert_true(x.file_offset == PS + 10);
	assert_ok(iopt_change_process_check(iopt));
	/* data goes through the file */
	assert_ok(iopt_access_rw(iopt, iova + 5, (char *)"hello", 5, IOPT_RW_WRITE));
	assert_ok(iopt_access_rw(iopt, iova + 5, data, 5, 0));
	assert_memory_equal(data, "hello", 5);
	assert_ok(iopt_domain_add(iopt, &dom1, MOCK_PAGE, 0, UINT64_MAX));
	iopt_domain_remove(iopt, &dom1);

	/* past EOF: EINVAL at fill */
	mfd = memfd_create("iopt2", 0);
	assert_ok(ftruncate(mfd, PS));
	assert_ok(iopt_map_file(iopt, &iova, mfd, 0, 2 * PS, RW, 0));
	assert_errno(iopt_domain_add(iopt, &dom1, MOCK_PAGE, 0, UINT64_MAX), EINVAL);
	assert_ok(iopt_unmap(iopt, iova, 2 * PS, NULL));
	close(mfd);

	/* not shmem/hugetlb: EINVAL at fill */
	rfd = open("/proc/self/exe", O_RDONLY);
	assert_true(rfd >= 0);
	assert_ok(iopt_map_file(iopt, &iova, rfd, 0, PS, IOPT_READ, 0));
	close(rfd);
	assert_errno(iopt_domain_add(iopt, &dom1, MOCK_PAGE, 0, UINT64_MAX), EINVAL);
	/* VA areas make CHANGE_PROCESS fail */
	map_fixed(iopt, buffer, PS, 0);
	assert_errno(iopt_change_process_check(iopt), EINVAL);
	iopt_free(iopt);
}

/* ---- copy ------------------------------------------------------------------------ */

static int count_cb(void *opaque, uint64_t iova, uint64_t length, int prot)
{
	(*(int *)opaque)++;
	return 0;
}

/* selftest iommufd_ioas.copy_area and iommufd_ioas_copy() (ioas.c) */
static void test_copy(void **state)
{
	struct iopt *src = new_iopt(), *dst = new_iopt();
	struct iopt_copy_src *cs = NULL;
	uint64_t iova, un, ro_iova;
	struct iopt_xlate x;
	int n = 0;

	map_fixed(src, buffer, 2 * PS, 0x10000);
	map_fixed(src, buffer + 2 * PS, 2 * PS, 0x12000);
	/* inside one IOAS */
	assert_ok(iopt_copy_collect(src, 0x10000, 2 * PS, &cs));
	iova = 0x40000;
	assert_ok(iopt_copy_map(src, cs, &iova, RW, IOPT_MAP_FIXED));
	iopt_copy_src_free(cs);
	/* a span of two areas into another IOAS at fixed 0: one area per segment */
	assert_ok(iopt_copy_collect(src, 0x11000, 2 * PS, &cs));
	iova = 0;
	assert_ok(iopt_copy_map(dst, cs, &iova, RW, IOPT_MAP_FIXED));
	iopt_copy_src_free(cs);
	assert_int_equal(iopt_area_count(dst), 2);
	assert_ok(iopt_for_each_area(dst, 0, UINT64_MAX, count_cb, &n));
	assert_int_equal(n, 2);
	/* a range not covering the first segment entirely: ENOENT, nothing removed */
	assert_errno(iopt_unmap(dst, 0x800, 2 * PS, NULL), ENOENT);
	assert_int_equal(iopt_area_count(dst), 2);
	assert_ok(iopt_unmap(dst, 0, 2 * PS, &un));
	assert_true(un == 2 * PS);

	/* errors of the collect */
	assert_errno(iopt_copy_collect(src, 0x10000, 0, &cs), EINVAL);
	assert_errno(iopt_copy_collect(src, UINT64_MAX, 2, &cs), EOVERFLOW);
	assert_errno(iopt_copy_collect(src, 0xf000, 2 * PS, &cs), ENOENT); /* head gap */
	assert_errno(iopt_copy_collect(src, 0x13000, 2 * PS, &cs), ENOENT); /* tail gap */
	assert_errno(iopt_copy_collect(src, 0x20000, PS, &cs), ENOENT);

	/* WRITE on read-only pages: EPERM; READ works */
	iova = 0x30000;
	assert_ok(iopt_map_user(src, &iova, (uintptr_t)buffer, PS, IOPT_READ, IOPT_MAP_FIXED));
	assert_ok(iopt_copy_collect(src, 0x30000, PS, &cs));
	iova = 0;
	assert_errno(iopt_copy_map(dst, cs, &iova, RW, 0), EPERM);
	assert_int_equal(iopt_area_count(dst), 0);
	assert_ok(iopt_copy_map(dst, cs, &iova, IOPT_READ, 0));
	iopt_copy_src_free(cs);
	ro_iova = iova;
	/* the copy shares the source pages */
	assert_ok(iopt_translate(dst, ro_iova + 3, &x));
	assert_true(x.uva == (uintptr_t)buffer + 3);
	/* dst alignment applies to each segment's sub-page offset */
	assert_ok(iopt_copy_collect(src, 0x10000 + 1024, PS, &cs));
	assert_ok(iopt_set_huge_pages(dst, false));
	iova = 0x100000;
	assert_errno(iopt_copy_map(dst, cs, &iova, RW, IOPT_MAP_FIXED), EINVAL);
	assert_ok(iopt_set_huge_pages(dst, true));
	assert_ok(iopt_copy_map(dst, cs, &iova, RW, IOPT_MAP_FIXED));
	assert_ok(iopt_translate(dst, 0x100000, &x));
	assert_true(x.uva == (uintptr_t)buffer + 1024);
	iopt_copy_src_free(cs);
	iopt_free(src);
	/* dst survives the source IOAS */
	assert_ok(iopt_translate(dst, ro_iova + 3, &x));
	assert_true(x.uva == (uintptr_t)buffer + 3 && x.prot == IOPT_READ);
	iopt_free(dst);
}

/* selftest iommufd_ioas.copy_sweep (no_domain variant: 2K windows, step 511) */
static void test_copy_sweep(void **state)
{
	struct iopt *src = new_iopt(), *dst = new_iopt();
	uint64_t base = AP_START, last = base + buffer_size - 1, iova;
	struct iopt_copy_src *cs;
	unsigned int ok = 0, bad = 0;

	map_fixed(src, buffer, buffer_size, base);
	for (iova = base - 4096; iova <= base + buffer_size + 4096; iova += 511) {
		uint64_t d = AP_START;
		int rc;

		cs = NULL;
		rc = iopt_copy_collect(src, iova, MOCK_PAGE, &cs);
		if (iova < base || iova + MOCK_PAGE - 1 > last) {
			assert_errno(rc, ENOENT);
			bad++;
		} else {
			assert_ok(rc);
			assert_ok(iopt_copy_map(dst, cs, &d, RW, IOPT_MAP_FIXED));
			iopt_copy_src_free(cs);
			assert_ok(iopt_unmap(dst, d, MOCK_PAGE, NULL));
			ok++;
		}
	}
	assert_true(ok > 100 && bad > 10);
	iopt_free(src);
	iopt_free(dst);
}

/* ---- accesses --------------------------------------------------------------------- */

struct unmap_ctx {
	struct iopt *iopt;
	uint64_t iova, length;
	int calls;
};

static void unpin_on_unmap(void *opaque, uint64_t iova, uint64_t length)
{
	struct unmap_ctx *u = opaque;

	u->calls++;
	if (u->length && u->iova >= iova && u->iova <= iova + length - 1) {
		iopt_access_unpin(u->iopt, u->iova, u->length, 0);
		u->length = 0;
	}
}

/* selftest access_pin / access_pin_unmap and iommufd_access_pin_pages() errors (device.c) */
static void test_access_pin(void **state)
{
	struct iopt *iopt = new_iopt();
	struct unmap_ctx u = { iopt, 0, 0, 0 };
	struct iopt_xlate x;
	uint64_t un;
	int npages;

	map_fixed(iopt, buffer, buffer_size, 0x100000);
	for (npages = 1; npages < BUF_PAGES; npages++) {
		assert_ok(iopt_access_pin(iopt, 0x100000, npages * PS, IOPT_PIN_WRITE));
		assert_ok(iopt_access_pin(iopt, 0x100000, npages * PS, 0));
		assert_ok(iopt_translate(iopt, 0x100000 + (npages - 1) * PS, &x));
		assert_true(x.pinned && x.access_pins == 2);
		iopt_access_unpin(iopt, 0x100000, npages * PS, 0);
		iopt_access_unpin(iopt, 0x100000, npages * PS, IOPT_PIN_WRITE);
		assert_ok(iopt_translate(iopt, 0x100000, &x));
		assert_false(x.pinned);
	}
	/* errors */
	assert_errno(iopt_access_pin(iopt, 0x100000, 0, 0), EINVAL);
	assert_errno(iopt_access_pin(iopt, UINT64_MAX, 2, 0), EOVERFLOW);
	assert_errno(iopt_access_pin(iopt, 0x100000 - PS, 2 * PS, 0), ENOENT);
	assert_errno(iopt_access_pin(iopt, 0x100000 + buffer_size - PS, 2 * PS, 0), ENOENT);
	assert_errno(iopt_access_pin(iopt, 0x100000 + 2048, PS, 0), EINVAL); /* unaligned */
	/* read-only area: write pin EPERM */
	un = 0x400000;
	assert_ok(iopt_map_user(iopt, &un, (uintptr_t)buffer, PS, IOPT_READ, IOPT_MAP_FIXED));
	assert_errno(iopt_access_pin(iopt, 0x400000, PS, IOPT_PIN_WRITE), EPERM);
	assert_ok(iopt_access_pin(iopt, 0x400000, PS, 0));
	iopt_access_unpin(iopt, 0x400000, PS, 0);
	/* an unpinned failure leaves no pin behind */
	assert_ok(iopt_translate(iopt, 0x100000, &x));
	assert_int_equal(x.access_pins, 0);
	/* bad VA: EFAULT */
	un = 0x800000;
	assert_ok(iopt_map_user(iopt, &un, BAD_VA, PS, RW, IOPT_MAP_FIXED));
	assert_errno(iopt_access_pin(iopt, 0x800000, PS, 0), EFAULT);

	/* UNMAP over pinned pages calls back the access, then unmaps */
	iopt_set_access_unmap_cb(iopt, unpin_on_unmap, &u);
	assert_ok(iopt_access_pin(iopt, 0x100000 + PS, PS, 0));
	u.iova = 0x100000 + PS;
	u.length = PS;
	assert_ok(iopt_unmap(iopt, 0x100000, buffer_size, &un));
	assert_true(un == buffer_size);
	assert_int_equal(u.calls, 1);
	/* a callback that does not unpin: EDEADLK after 100 tries */
	map_fixed(iopt, buffer, PS, 0x100000);
	assert_ok(iopt_access_pin(iopt, 0x100000, PS, 0));
	u.calls = 0;
	assert_errno(iopt_unmap(iopt, 0x100000, PS, NULL), EDEADLK);
	assert_int_equal(u.calls, 101);
	/* ...and the area now refuses access (being unmapped) */
	assert_errno(iopt_access_pin(iopt, 0x100000, PS, 0), EINVAL);
	iopt_free(iopt);
}

/* selftest access_rw / access_rw_unaligned and iommufd_access_rw() rules (device.c) */
static void test_access_rw(void **state)
{
	struct iopt *iopt = new_iopt();
	char tmp[64], *guard;
	uint64_t iova;
	size_t i;

	for (i = 0; i != buffer_size; i++)
		buffer[i] = (char)i;
	map_fixed(iopt, buffer, buffer_size, 0x100000);
	/* byte granular around a page boundary */
	for (i = 1; i < sizeof(tmp); i++) {
		uint64_t at = 0x100000 + PS - i / 2;

		memset(tmp, 0, sizeof(tmp));
		assert_ok(iopt_access_rw(iopt, at, tmp, i, 0));
		assert_memory_equal(tmp, buffer + PS - i / 2, i);
		memset(tmp, 0x5a, i);
		assert_ok(iopt_access_rw(iopt, at, tmp, i, IOPT_RW_WRITE));
		assert_memory_equal(buffer + PS - i / 2, tmp, i);
	}
	/* a read spanning two areas, unaligned (2K offset) */
	iova = 0x100000 + buffer_size;
	assert_ok(iopt_map_user(iopt, &iova, (uintptr_t)buffer + 2048, PS, RW, IOPT_MAP_FIXED));
	assert_ok(iopt_access_rw(iopt, iova - 8, tmp, 16, 0));
	assert_memory_equal(tmp, buffer + buffer_size - 8, 8);
	assert_memory_equal(tmp + 8, buffer + 2048, 8);
	/* unmapped: ENOENT; no byte written past the mappings */
	guard = malloc(PS + 16);
	memset(guard, 0x11, PS + 16);
	assert_errno(iopt_access_rw(iopt, iova + PS - 4, guard, 8, 0), ENOENT);
	assert_errno(iopt_access_rw(iopt, 0x10, guard, 8, 0), ENOENT);
	assert_errno(iopt_access_rw(iopt, iova, guard, 0, 0), EINVAL);
	assert_errno(iopt_access_rw(iopt, UINT64_MAX, guard, 2, 0), EOVERFLOW);
	/* read-only area: write EPERM, memory unchanged */
	iova = 0x400000;
	assert_ok(iopt_map_user(iopt, &iova, (uintptr_t)buffer, PS, IOPT_READ, IOPT_MAP_FIXED));
	memcpy(tmp, buffer, 8);
	assert_errno(iopt_access_rw(iopt, 0x400000, (char *)"XXXXXXXX", 8, IOPT_RW_WRITE | IOPT_RW_DEVICE),
		     EPERM);
	assert_memory_equal(tmp, buffer, 8);
	/* write-only area: read EPERM */
	iova = 0x500000;
	assert_ok(iopt_map_user(iopt, &iova, (uintptr_t)buffer, PS, IOPT_WRITE, IOPT_MAP_FIXED));
	assert_errno(iopt_access_rw(iopt, 0x500000, tmp, 8, IOPT_RW_DEVICE), EPERM);
	assert_ok(iopt_access_rw(iopt, 0x500000, (char *)"abc", 3, IOPT_RW_WRITE));
	assert_memory_equal(buffer, "abc", 3);
	/* a bogus VA behind the IOVA: EFAULT, no crash */
	iova = 0x600000;
	assert_ok(iopt_map_user(iopt, &iova, BAD_VA, PS, RW, IOPT_MAP_FIXED));
	assert_errno(iopt_access_rw(iopt, 0x600000, tmp, 8, 0), EFAULT);
	assert_errno(iopt_access_rw(iopt, 0x600000, tmp, 8, IOPT_RW_WRITE), EFAULT);
	free(guard);
	iopt_free(iopt);
}

/* ---- dirty tracking ------------------------------------------------------------------- */

static void test_dirty(void **state)
{
	struct iopt *iopt = new_iopt();
	struct iopt_dirty *d = NULL;
	uint64_t bm[4], base = AP_START;

	map_fixed(iopt, buffer, buffer_size, base);
	assert_ok(iopt_dirty_new(iopt, MOCK_PAGE, &d));
	/* every other 2K page */
	for (int i = 0; i < 32; i += 2)
		assert_int_equal(iopt_dirty_mark(d, base + i * MOCK_PAGE, 1), 1);
	assert_int_equal(iopt_dirty_mark(d, base, MOCK_PAGE), 0); /* already dirty */
	assert_int_equal(iopt_dirty_mark(d, 0x10, 16), 0);        /* unmapped */
	memset(bm, 0, sizeof(bm));
	iopt_dirty_read(d, base, 32 * MOCK_PAGE, MOCK_PAGE, bm, true);
	assert_true(bm[0] == 0x55555555ULL);
	/* OR only: bits already set stay */
	bm[0] = 0x2;
	iopt_dirty_read(d, base, 32 * MOCK_PAGE, MOCK_PAGE, bm, false);
	assert_true(bm[0] == 0x55555557ULL);
	memset(bm, 0, sizeof(bm));
	iopt_dirty_read(d, base, 32 * MOCK_PAGE, MOCK_PAGE, bm, false);
	assert_true(bm[0] == 0);
	/* a granule larger than page_size sets all its bits */
	assert_int_equal(iopt_dirty_mark(d, base + 3 * MOCK_PAGE, 1), 1);
	memset(bm, 0, sizeof(bm));
	iopt_dirty_read(d, base, 32 * MOCK_PAGE, 512, bm, false);
	assert_true(bm[0] == 0xfULL << 12);
	/* page_size bigger than the granule */
	assert_int_equal(iopt_dirty_mark(d, base + 5 * MOCK_PAGE, 1), 1);
	memset(bm, 0, sizeof(bm));
	iopt_dirty_read(d, base, 32 * MOCK_PAGE, 8192, bm, false);
	assert_true(bm[0] == 0x2);
	/* unmap forgets, clear forgets */
	assert_int_equal(iopt_dirty_mark(d, base, buffer_size), 32);
	iopt_dirty_clear(d);
	memset(bm, 0, sizeof(bm));
	iopt_dirty_read(d, base, 32 * MOCK_PAGE, MOCK_PAGE, bm, true);
	assert_true(bm[0] == 0);
	assert_int_equal(iopt_dirty_mark(d, base, buffer_size), 32);
	assert_ok(iopt_unmap_all(iopt, NULL));
	map_fixed(iopt, buffer, buffer_size, base);
	iopt_dirty_read(d, base, 32 * MOCK_PAGE, MOCK_PAGE, bm, true);
	assert_true(bm[0] == 0);
	iopt_dirty_free(d);
	iopt_free(iopt);
}

/* ---- VFIO type1 cut ----------------------------------------------------------------- */

static void test_cut(void **state)
{
	struct iopt *iopt = new_iopt();
	uint64_t cuts[2], un;
	struct iopt_xlate x;

	assert_ok(iopt_set_huge_pages(iopt, false));
	map_fixed(iopt, buffer, 8 * PS, 0x100000);
	assert_ok(iopt_domain_add(iopt, &dom1, PS, 0, UINT64_MAX));
	cuts[0] = 0x100000 + 2 * PS - 1;
	cuts[1] = 0x100000 + 4 * PS - 1;
	assert_ok(iopt_cut(iopt, cuts, 2));
	assert_int_equal(iopt_area_count(iopt), 3);
	assert_ok(iopt_translate(iopt, 0x100000 + 2 * PS, &x));
	assert_true(x.area_iova == 0x100000 + 2 * PS && x.area_length == 2 * PS);
	assert_true(x.uva == (uintptr_t)buffer + 2 * PS && x.pinned);
	assert_ok(iopt_unmap(iopt, 0x100000 + 2 * PS, 2 * PS, &un));
	assert_true(un == 2 * PS);
	/* the neighbours keep their pins */
	assert_ok(iopt_translate(iopt, 0x100000 + 2 * PS - 1, &x));
	assert_true(x.pinned);
	/* cut at an unaligned IOVA: EINVAL; at an edge: no-op */
	cuts[0] = 0x100000 + 100;
	assert_errno(iopt_cut(iopt, cuts, 1), EINVAL);
	cuts[0] = 0x100000;
	assert_ok(iopt_cut(iopt, cuts, 1));
	assert_int_equal(iopt_area_count(iopt), 2);
	iopt_domain_remove(iopt, &dom1);
	iopt_free(iopt);
}

/* ---- stress: the trees and the allocator against a naive model ----------------------------- */

struct model_area {
	uint64_t start, last;
};

static struct model_area model[4096];
static int nmodel;

static int cmp_model(const void *a, const void *b)
{
	const struct model_area *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* the kernel's allocator, written the plain way: sorted used list, linear hole walk */
static bool model_alloc(uint64_t addr, uint64_t len, const struct iopt_range *resv, int nresv,
			uint64_t *out)
{
	static struct model_area used[4096 + 8];
	uint64_t align = 1, po = addr % PS, cursor = PS, hi = UINT64_MAX - PS;
	int n = 0, i;

	while (align < len)
		align <<= 1;
	if (addr && (addr & -addr) < align)
		align = addr & -addr;
	if (align > (2ULL << 20))
		align = 2ULL << 20;
	for (i = 0; i < nmodel; i++)
		used[n++] = model[i];
	for (i = 0; i < nresv; i++)
		used[n++] = (struct model_area){ resv[i].start, resv[i].last };
	qsort(used, n, sizeof(used[0]), cmp_model);
	for (i = 0; i <= n; i++) {
		uint64_t hole_last = i < n ? (used[i].start ? used[i].start - 1 : 0) : hi;
		uint64_t c;

		if (hole_last > hi)
			hole_last = hi;
		if ((i == n || used[i].start > cursor) && cursor <= hole_last &&
		    !__builtin_add_overflow(cursor, align - 1, &c)) {
			c = (c & ~(align - 1)) | po;
			if (c < hole_last && hole_last - c >= len - 1) {
				*out = c;
				return true;
			}
		}
		if (i < n && used[i].last >= cursor) {
			if (used[i].last >= hi)
				return false;
			cursor = used[i].last + 1;
		}
	}
	return false;
}

static void test_stress_model(void **state)
{
	struct iopt *iopt = new_iopt();
	struct iopt_range resv[3] = {
		{ 0x300000, 0x37ffff }, { 0x340000, 0x3fffff }, { 0x10000000, 0x1fffffff } };
	unsigned int seed = 12345;
	int step, i;

	for (i = 0; i < 3; i++)
		assert_ok(iopt_reserve(iopt, resv[i].start, resv[i].last, NULL));
	nmodel = 0;
	for (step = 0; step < 6000; step++) {
		int op = rand_r(&seed) % 3;

		if (op < 2 && nmodel < 4000) {
			uint64_t len = (uint64_t)(rand_r(&seed) % 64 + 1) * (rand_r(&seed) % 4 ? PS : 1);
			uint64_t addr = (uint64_t)(rand_r(&seed) % 4096) << (rand_r(&seed) % 20);
			uint64_t expect = 0, got = 0;
			bool ok = model_alloc(addr, len, resv, 3, &expect);
			int rc = iopt_map_user(iopt, &got, addr, len, RW, 0);

			if (ok) {
				assert_ok(rc);
				if (got != expect)
					fail_msg("step %d: len %#llx addr %#llx: got %#llx expected %#llx",
						 step, (unsigned long long)len, (unsigned long long)addr,
						 (unsigned long long)got, (unsigned long long)expect);
				model[nmodel++] = (struct model_area){ got, got + len - 1 };
			} else {
				assert_errno(rc, ENOSPC);
			}
		} else if (nmodel) {
			int k = rand_r(&seed) % nmodel;
			uint64_t un = 0;

			assert_ok(iopt_unmap(iopt, model[k].start, model[k].last - model[k].start + 1,
					     &un));
			assert_true(un == model[k].last - model[k].start + 1);
			model[k] = model[--nmodel];
		}
		assert_int_equal(iopt_area_count(iopt), nmodel);
	}
	/* every model area translates, holes do not */
	for (i = 0; i < nmodel; i++) {
		struct iopt_xlate x;

		assert_ok(iopt_translate(iopt, model[i].last, &x));
		assert_true(x.area_iova == model[i].start);
	}
	iopt_free(iopt);
}

/* the tree alone: random inserts/removes, in-order and augmentation checks */
static uint64_t check_subtree(struct itree_node *n, int *h)
{
	int hl = 0, hr = 0;
	uint64_t ml = 0;

	if (!n) {
		*h = 0;
		return 0;
	}
	if (n->left) {
		assert_true(n->left->parent == n);
		ml = check_subtree(n->left, &hl);
	}
	if (n->right) {
		assert_true(n->right->parent == n);
		ml = ml > check_subtree(n->right, &hr) ? ml : check_subtree(n->right, &hr);
	}
	assert_true(hl - hr <= 1 && hr - hl <= 1);
	*h = 1 + (hl > hr ? hl : hr);
	assert_int_equal(n->height, *h);
	if (n->last > ml)
		ml = n->last;
	assert_true(n->max_last == ml);
	return ml;
}

static void test_itree(void **state)
{
	static struct itree_node nodes[2000];
	struct itree t = ITREE_INIT;
	struct itree_node *n, *prev;
	unsigned int seed = 7;
	bool in[2000] = { false };
	int i, h;

	for (i = 0; i < 20000; i++) {
		int k = rand_r(&seed) % 2000;

		if (in[k]) {
			itree_remove(&t, &nodes[k]);
			in[k] = false;
		} else {
			nodes[k].start = (uint64_t)(rand_r(&seed) % 100000) * 16;
			nodes[k].last = nodes[k].start + rand_r(&seed) % 64;
			itree_insert(&t, &nodes[k]);
			in[k] = true;
		}
		if (i % 997 == 0)
			check_subtree(t.root, &h);
	}
	check_subtree(t.root, &h);
	prev = NULL;
	for (n = itree_first(&t); n; n = itree_next(n)) {
		if (prev)
			assert_true(prev->start <= n->start);
		prev = n;
	}
	assert_true(prev == itree_last(&t));
	/* intersection query matches brute force */
	for (i = 0; i < 200; i++) {
		uint64_t qs = (uint64_t)(rand_r(&seed) % 1600000), ql = qs + rand_r(&seed) % 200;
		size_t cnt = 0, bf = 0;
		int k;

		for (n = itree_iter_first(&t, qs, ql); n; n = itree_iter_next(n, qs, ql))
			cnt++;
		for (k = 0; k < 2000; k++)
			if (in[k] && nodes[k].start <= ql && nodes[k].last >= qs)
				bf++;
		assert_int_equal(cnt, bf);
	}
}

/* fault injection: every failing allocation/pin leaves the state unchanged */
static int fail_at, fail_count;

static bool fail_nth(void *data, const char *site)
{
	(void)data;
	return ++fail_count == fail_at;
}

static void test_fail_nth(void **state)
{
	for (int n = 1; n < 40; n++) {
		struct iopt *iopt = NULL;
		struct iopt_copy_src *cs = NULL;
		uint64_t iova = 0;
		int rc;

		fail_count = 0;
		fail_at = n;
		rc = iopt_new(false, &(struct iopt_fail_hook){ .fn = fail_nth }, &iopt);
		if (rc) {
			assert_errno(rc, ENOMEM);
			continue;
		}
		rc = add_mock_domain(iopt, &dom1);
		if (!rc)
			rc = iopt_map_user(iopt, &iova, (uintptr_t)buffer, 2 * PS, RW, 0);
		if (!rc)
			rc = iopt_copy_collect(iopt, iova, 2 * PS, &cs);
		if (!rc) {
			uint64_t d = 0;

			rc = iopt_copy_map(iopt, cs, &d, RW, 0);
		}
		iopt_copy_src_free(cs);
		fail_at = 0; /* the engine keeps the hook: no injection in the checks below */
		if (rc) {
			/* whatever failed, no stray area or pin remains */
			assert_true(rc == -ENOMEM || rc == -EFAULT);
			assert_true(iopt_area_count(iopt) <= 1);
		}
		iopt_free(iopt);
		{
			struct iopt_acct_stats st;

			iopt_acct_get(&st);
			assert_true(st.pinned == 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_empty),
		cmocka_unit_test(test_area),
		cmocka_unit_test(test_unmap_args),
		cmocka_unit_test(test_unmap_fully_contained_areas),
		cmocka_unit_test(test_unmap_not_atomic),
		cmocka_unit_test(test_area_auto_iova),
		cmocka_unit_test(test_alloc_rules),
		cmocka_unit_test(test_alloc_top),
		cmocka_unit_test(test_reserved_overflow),
		cmocka_unit_test(test_area_allowed),
		cmocka_unit_test(test_allow_iovas_checks),
		cmocka_unit_test(test_iova_ranges),
		cmocka_unit_test(test_huge_pages_option),
		cmocka_unit_test(test_align_change),
		cmocka_unit_test(test_iova_alloc_lengths),
		cmocka_unit_test(test_domain_alignment),
		cmocka_unit_test(test_map_fixed_rules),
		cmocka_unit_test(test_lazy_pin),
		cmocka_unit_test(test_accounting),
		cmocka_unit_test(test_map_file),
		cmocka_unit_test(test_io_file),
		cmocka_unit_test(test_copy),
		cmocka_unit_test(test_copy_sweep),
		cmocka_unit_test(test_access_pin),
		cmocka_unit_test(test_access_rw),
		cmocka_unit_test(test_dirty),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_stress_model),
		cmocka_unit_test(test_itree),
		cmocka_unit_test(test_fail_nth),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
