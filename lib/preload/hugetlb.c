// SPDX-License-Identifier: LGPL-2.1-or-later
/* The hugetlb stand-in (IOMMUFD_PRELOAD_FAKE_HUGETLB=1). */
#include "preload.h"

/* ------------------------------------------------------------ hugetlb stand-in */

/*
 * IOMMUFD_PRELOAD_FAKE_HUGETLB=1: on a host without free hugetlb pages, a
 * MAP_HUGETLB mapping that fails is made of normal pages instead, aligned to
 * and sized in huge pages (as hugetlb would be), and memfd_create(MFD_HUGETLB)
 * makes a normal memfd. Programs that need huge-page *alignment* then run;
 * nothing pretends the pages are physically contiguous.
 */
static bool fake_hugetlb(void)
{
	const char *e = getenv("IOMMUFD_PRELOAD_FAKE_HUGETLB");

	return e && *e && strcmp(e, "0") != 0;
}

static bool host_has_free_hugepages(void)
{
	char line[128];
	bool r = false;
	FILE *f;

	in_emu++;
	f = REAL(fopen)("/proc/meminfo", "re");
	in_emu--;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		long v;

		if (sscanf(line, "HugePages_Free: %ld", &v) == 1) {
			r = v > 0;
			break;
		}
	}
	fclose(f);
	return r;
}

static size_t huge_size(int flags)
{
	int shift = (flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;

	return shift ? (size_t)1 << shift : (size_t)2 << 20;
}

static void *hugetlb_fallback(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	size_t hs = huge_size(flags);
	size_t alen = (len + hs - 1) & ~(hs - 1);
	int nflags = flags & ~(MAP_HUGETLB | (MAP_HUGE_MASK << MAP_HUGE_SHIFT));
	uint8_t *res, *aligned;
	void *p;

	if (!alen)
		return MAP_FAILED;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		p = REAL(mmap)(addr, alen, prot, nflags, fd, off);
	} else {
		/* reserve, then place the mapping on a huge-page boundary inside */
		res = REAL(mmap)(NULL, alen + hs, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
				 MAP_NORESERVE, -1, 0);
		if (res == MAP_FAILED)
			return MAP_FAILED;
		aligned = (uint8_t *)(((uintptr_t)res + hs - 1) & ~(uintptr_t)(hs - 1));
		p = REAL(mmap)(aligned, alen, prot, nflags | MAP_FIXED, fd, off);
		if (p == MAP_FAILED) {
			int e = errno;

			REAL(munmap)(res, alen + hs);
			errno = e;
			return MAP_FAILED;
		}
		if (aligned > res)
			REAL(munmap)(res, (size_t)(aligned - res));
		if (res + alen + hs > aligned + alen)
			REAL(munmap)(aligned + alen, (size_t)(res + alen + hs - (aligned + alen)));
	}
	if (p != MAP_FAILED) {
		madvise(p, alen, MADV_HUGEPAGE);
		pdbg("MAP_HUGETLB of %zu bytes: normal pages at %p", len, p);
	}
	return p;
}

void *real_mmap_huge(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = REAL(mmap)(addr, len, prot, flags, fd, off);

	if (p == MAP_FAILED && (flags & MAP_HUGETLB) && !in_emu &&
	    (errno == ENOMEM || errno == EINVAL) && fake_hugetlb()) {
		int e = errno;

		p = hugetlb_fallback(addr, len, prot, flags, fd, off);
		if (p == MAP_FAILED)
			errno = e;
	}
	return p;
}


EXPORT int memfd_create(const char *name, unsigned int flags)
{
	if ((flags & MFD_HUGETLB) && !in_emu && fake_hugetlb() && !host_has_free_hugepages()) {
		pdbg("memfd_create(%s, MFD_HUGETLB): a normal memfd", name);
		flags &= ~(MFD_HUGETLB | (MFD_HUGE_MASK << MFD_HUGE_SHIFT));
	}
	return REAL(memfd_create)(name, flags);
}
