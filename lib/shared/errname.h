/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Error plumbing shared by libiommufd and the emulator library: errno names
 * and the one format of a failure reason. Each library keeps its own record
 * of the last failure (per thread); both spell it the same way.
 * Private header: never installed.
 */
#ifndef IOMMUFD_SHARED_ERRNAME_H
#define IOMMUFD_SHARED_ERRNAME_H

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

/* the name of an errno for messages ("EINVAL"; "E?" if unknown); err may be negative */
const char *ifd_errno_name(int err);

/*
 * Format the reason of a failure into buf: "func: what: ENAME (strerror)",
 * what being fmt with its arguments. err is a negative errno.
 */
void ifd_reason_vformat(char *buf, size_t len, const char *func, int err, const char *fmt,
			va_list ap) _printf_(5, 0);

#endif
