/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers shared by the command wrappers of lib/core. Private header.
 */
#ifndef IOMMUFD_CORE_H
#define IOMMUFD_CORE_H

#include <stdio.h>
#include <string.h>

#include "private.h"

/* a user pointer field of the kernel ABI */
#define U64_PTR(p) ((uint64_t)(uintptr_t)(p))

/* every entry point on a context: ctx non-NULL and made by this process */
#define CHECK_CTX(ctx)                                                  \
	do {                                                            \
		int r__;                                                \
		if (!(ctx))                                             \
			return FAIL(NULL, EINVAL, "ctx is NULL");       \
		r__ = ifd_ctx_check((ctx), __func__);                   \
		if (r__)                                                \
			return r__;                                     \
	} while (0)

/* an argument that must not be NULL */
#define CHECK_PTR(ctx, p)                                               \
	do {                                                            \
		if (!(p))                                               \
			return FAIL((ctx), EINVAL, "%s is NULL", #p);   \
	} while (0)

/*
 * Flag bits the library does not know are passed to the kernel, which
 * answers EOPNOTSUPP for the ones it does not know either (so a new kernel
 * flag needs no library release). For the reason of a refused call:
 * "; flag bits 0x.. not recognised by libiommufd" if flags has bits outside
 * known, else "". buf must outlive the use of the result.
 */
#define IFD_FLAGS_NOTE_MAX 64
static inline const char *ifd_flags_note(char buf[IFD_FLAGS_NOTE_MAX], uint64_t flags,
					 uint64_t known)
{
	if (!(flags & ~known))
		return "";
	snprintf(buf, IFD_FLAGS_NOTE_MAX, "; the library did not recognise flag bits 0x%llx",
		 (unsigned long long)(flags & ~known));
	return buf;
}

/*
 * The fault queue and the vEVENT queue handles: an object ID and the fd that
 * delivers its records, on a context (a reference), refcounted. Each handle
 * struct starts with this.
 */
struct ifd_queue {
	int refcount; /* atomic */
	struct iommufd_ctx *ctx;
	uint32_t id;
	int fd;
};

/*
 * Allocate a zeroed handle of size bytes (starting with struct ifd_queue) and
 * issue req with cmd; on success the fields out_id and out_fd of cmd become its
 * ID and fd. Returns 0 or -errno (not recorded: the caller reports it).
 */
int ifd_queue_new(struct iommufd_ctx *ctx, size_t size, unsigned long req, void *cmd,
		  const uint32_t *out_id, const uint32_t *out_fd, struct ifd_queue **ret);
struct ifd_queue *ifd_queue_ref(struct ifd_queue *q);
/* the last unref closes the fd, destroys the object (what: for the log) and frees q */
void ifd_queue_unref(struct ifd_queue *q, const char *what);

#endif
