// SPDX-License-Identifier: LGPL-2.1-or-later
/* Errno names and the format of a failure reason (see errname.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errname.h"

const char *ifd_errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" },     { ENOENT, "ENOENT" },   { ESRCH, "ESRCH" },
		{ EINTR, "EINTR" },     { EIO, "EIO" },         { ENXIO, "ENXIO" },
		{ E2BIG, "E2BIG" },     { EBADF, "EBADF" },     { ECHILD, "ECHILD" },
		{ EAGAIN, "EAGAIN" },   { ENOMEM, "ENOMEM" },   { EACCES, "EACCES" },
		{ EFAULT, "EFAULT" },   { EBUSY, "EBUSY" },     { EEXIST, "EEXIST" },
		{ EXDEV, "EXDEV" },     { ENODEV, "ENODEV" },   { ENOTDIR, "ENOTDIR" },
		{ EISDIR, "EISDIR" },   { EINVAL, "EINVAL" },   { ENFILE, "ENFILE" },
		{ EMFILE, "EMFILE" },   { ENOTTY, "ENOTTY" },   { EFBIG, "EFBIG" },
		{ ENOSPC, "ENOSPC" },   { ESPIPE, "ESPIPE" },   { EROFS, "EROFS" },
		{ EPIPE, "EPIPE" },     { EDOM, "EDOM" },       { ERANGE, "ERANGE" },
		{ EDEADLK, "EDEADLK" }, { ENOSYS, "ENOSYS" },   { ENODATA, "ENODATA" },
		{ ELOOP, "ELOOP" },     { EBADE, "EBADE" },     { EBADFD, "EBADFD" },
		{ ENOTEMPTY, "ENOTEMPTY" },                     { ENAMETOOLONG, "ENAMETOOLONG" },
		{ EOVERFLOW, "EOVERFLOW" },                     { EMSGSIZE, "EMSGSIZE" },
		{ EOPNOTSUPP, "EOPNOTSUPP" },                   { EADDRINUSE, "EADDRINUSE" },
		{ ETIMEDOUT, "ETIMEDOUT" },                     { EALREADY, "EALREADY" },
		{ ESTALE, "ESTALE" },   { ECANCELED, "ECANCELED" },
		{ EOWNERDEAD, "EOWNERDEAD" },
	};

	if (err < 0)
		err = -err;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	return "E?";
}

void ifd_reason_vformat(char *buf, size_t len, const char *func, int err, const char *fmt, va_list ap)
{
	/* the errno part always fits: what is cut first */
	size_t what_end = len > 96 ? len - 96 : len;
	int n = snprintf(buf, what_end, "%s: ", func);

	if (n < 0 || (size_t)n >= what_end)
		n = (int)strlen(buf);
	else
		vsnprintf(buf + n, what_end - (size_t)n, fmt, ap);
	n = (int)strlen(buf);
	snprintf(buf + n, len - (size_t)n, ": %s (%s)", ifd_errno_name(err), strerror(err < 0 ? -err : err));
}
