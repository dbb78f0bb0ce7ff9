/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Extensible structs of the public APIs (libiommufd's and the emulator's):
 * they start with "size_t sz", the number of bytes the caller's version of
 * the struct has (the kernel's own size rule, in the libbpf style).
 * Private header: never installed.
 */
#ifndef IOMMUFD_SHARED_EXT_H
#define IOMMUFD_SHARED_EXT_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

/*
 * ifd_ext_copy_in() copies the caller's *user into *known (known_sz bytes,
 * the library's version): the first min(sz, known_sz) bytes are copied and
 * the rest of *known is zeroed, so fields the caller's version lacks read as
 * 0. user NULL: *known all zero, 0. sz below min_sz (at least the sz member
 * itself): -EINVAL; a non-zero byte past known_sz (a field this library does
 * not know): -E2BIG. known->sz keeps the caller's sz.
 *
 * ifd_ext_copy_out() is the way back for a struct the library fills: it
 * writes only the first min(user sz, known_sz) bytes of *user (call it after
 * ifd_ext_copy_in() accepted *user, so sz is sane), never the bytes past sz.
 */
static inline int ifd_ext_copy_in(void *known, size_t known_sz, const void *user, size_t min_sz)
{
	const unsigned char *p = user;
	size_t sz;

	memset(known, 0, known_sz);
	if (!user)
		return 0;
	memcpy(&sz, user, sizeof(sz));
	if (sz < sizeof(size_t) || sz < min_sz)
		return -EINVAL;
	for (size_t i = known_sz; i < sz; i++)
		if (p[i])
			return -E2BIG;
	memcpy(known, user, sz < known_sz ? sz : known_sz);
	return 0;
}

static inline void ifd_ext_copy_out(void *user, const void *known, size_t known_sz)
{
	size_t sz;

	memcpy(&sz, user, sizeof(sz));
	/* the caller's sz stays as it is: copy what follows it */
	if (sz > known_sz)
		sz = known_sz;
	if (sz > sizeof(size_t))
		memcpy((unsigned char *)user + sizeof(size_t),
		       (const unsigned char *)known + sizeof(size_t), sz - sizeof(size_t));
}

#endif
