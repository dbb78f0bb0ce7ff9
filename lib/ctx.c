// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The context (one iommufd file), errors, logging and the generic ioctl
 * escape hatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "private.h"

/* ------------------------------------------------------------ errors */

#define LAST_ERROR_MAX 512

/*
 * per thread: the last failure and the context it happened on, by serial
 * number (0: none), not by pointer: a freed context's address can be reused
 * by a new one, which must not inherit the message
 */
static __thread struct {
	uint64_t ctx_serial;
	char msg[LAST_ERROR_MAX];
} last_error;

/* the serial numbers of contexts, from 1 */
static uint64_t ctx_serials;

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

int ifd_fail(const struct iommufd_ctx *ctx, const char *func, int err, const char *fmt, ...)
{
	char what[LAST_ERROR_MAX - 96];
	va_list ap;

	if (err > 0)
		err = -err;
	if (err == 0)
		err = -EIO; /* a failure always has an errno */

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	last_error.ctx_serial = ctx ? ctx->serial : 0;
	snprintf(last_error.msg, sizeof(last_error.msg), "%s: %s: %s (%s)", func, what,
		 ifd_errno_name(err), strerror(-err));
	dbg(ctx, "%s", last_error.msg);
	return err;
}

IOMMUFD_EXPORT const char *iommufd_last_error(void)
{
	return last_error.msg;
}

IOMMUFD_EXPORT const char *iommufd_ctx_last_error(const struct iommufd_ctx *ctx)
{
	if (!ctx || last_error.ctx_serial != ctx->serial)
		return "";
	return last_error.msg;
}

/* ------------------------------------------------------------ logging */

void ifd_log(const struct iommufd_ctx *ctx, int priority, const char *file, int line, const char *fn,
	     const char *fmt, ...)
{
	struct iommufd_ctx *c = (struct iommufd_ctx *)ctx;
	iommufd_log_fn log_fn;
	void *data;
	va_list ap;

	pthread_mutex_lock(&c->lock);
	log_fn = c->log_fn;
	data = c->log_data;
	pthread_mutex_unlock(&c->lock);
	if (!log_fn)
		return;
	va_start(ap, fmt);
	log_fn(data, priority, file, line, fn, fmt, ap);
	va_end(ap);
}

int ifd_log_priority_from_env(void)
{
	const char *e = secure_getenv("IOMMUFD_LOG");
	char *end;
	long v;

	if (!e || !*e)
		return LOG_ERR;
	if (!strcasecmp(e, "err") || !strcasecmp(e, "error"))
		return LOG_ERR;
	if (!strcasecmp(e, "info"))
		return LOG_INFO;
	if (!strcasecmp(e, "debug"))
		return LOG_DEBUG;
	errno = 0;
	v = strtol(e, &end, 10);
	if (errno || *end || v < 0 || v > LOG_DEBUG)
		return LOG_ERR;
	return (int)v;
}

IOMMUFD_EXPORT void iommufd_ctx_set_log_fn(struct iommufd_ctx *ctx, iommufd_log_fn fn, void *userdata)
{
	if (!ctx)
		return;
	pthread_mutex_lock(&ctx->lock);
	ctx->log_fn = fn;
	ctx->log_data = userdata;
	pthread_mutex_unlock(&ctx->lock);
}

IOMMUFD_EXPORT int iommufd_ctx_get_log_priority(const struct iommufd_ctx *ctx)
{
	if (!ctx)
		return -EINVAL;
	return __atomic_load_n(&ctx->log_priority, __ATOMIC_RELAXED);
}

IOMMUFD_EXPORT void iommufd_ctx_set_log_priority(struct iommufd_ctx *ctx, int priority)
{
	if (!ctx)
		return;
	__atomic_store_n(&ctx->log_priority, priority, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ context */

int ifd_owner_check(pid_t owner, const struct iommufd_ctx *ctx, const char *func, const char *kind,
		    const char *name)
{
	pid_t self = getpid();

	if (owner == self)
		return 0;
	return ifd_fail(ctx, func, ECHILD, "%s%s%s made by process %d, used in %d after fork", kind,
			name ? " " : "", name ? name : "", (int)owner, (int)self);
}

static int ctx_alloc(struct iommufd_backend *be, int fd, struct iommufd_ctx **ret)
{
	struct iommufd_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->refcount = 1;
	ctx->pid = getpid();
	ctx->serial = __atomic_add_fetch(&ctx_serials, 1, __ATOMIC_RELAXED);
	ctx->be = be_ref(be);
	ctx->fd = fd;
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->log_priority = ifd_log_priority_from_env();
	*ret = ctx;
	return 0;
}

IOMMUFD_EXPORT int iommufd_ctx_new(struct iommufd_backend *be, struct iommufd_ctx **ret)
{
	char path[PATH_MAX];
	int fd, r;

	if (!ret)
		return FAIL(NULL, EINVAL, "ret is NULL");
	if (!be)
		be = iommufd_backend_kernel();
	snprintf(path, sizeof(path), "%s/iommu", BE_DEV_ROOT);
	fd = be_open(be, path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return FAIL(NULL, fd, "open %s", path);
	r = ctx_alloc(be, fd, ret);
	if (r < 0) {
		be_close(be, fd);
		return FAIL(NULL, r, "allocating the context");
	}
	dbg(*ret, "opened %s as fd %d", path, fd);
	return 0;
}

IOMMUFD_EXPORT int iommufd_ctx_new_from_fd(struct iommufd_backend *be, int fd, struct iommufd_ctx **ret)
{
	struct kabi_destroy probe = { .size = sizeof(probe), .id = 0 };
	int r;

	if (!ret)
		return FAIL(NULL, EINVAL, "ret is NULL");
	if (fd < 0)
		return FAIL(NULL, EBADF, "fd %d", fd);
	if (!be)
		be = iommufd_backend_kernel();
	/* a harmless probe: an iommufd answers ENOENT for ID 0 */
	r = be_ioctl(be, fd, KABI_IOMMU_DESTROY, &probe);
	if (r != -ENOENT) {
		if (r == -EBADF)
			return FAIL(NULL, EBADF, "fd %d is not open", fd);
		return FAIL(NULL, ENOTTY, "fd %d is not an iommufd (probe DESTROY(0) gave %s)", fd,
			    r < 0 ? ifd_errno_name(r) : "success");
	}
	r = ctx_alloc(be, fd, ret);
	if (r < 0)
		return FAIL(NULL, r, "allocating the context for fd %d", fd);
	return 0;
}

IOMMUFD_EXPORT struct iommufd_ctx *iommufd_ctx_ref(struct iommufd_ctx *ctx)
{
	if (ctx)
		__atomic_add_fetch(&ctx->refcount, 1, __ATOMIC_RELAXED);
	return ctx;
}

IOMMUFD_EXPORT struct iommufd_ctx *iommufd_ctx_unref(struct iommufd_ctx *ctx)
{
	if (!ctx)
		return NULL;
	if (__atomic_sub_fetch(&ctx->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	dbg(ctx, "closing fd %d", ctx->fd);
	be_close(ctx->be, ctx->fd);
	be_unref(ctx->be);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
	return NULL;
}

IOMMUFD_EXPORT int iommufd_ctx_get_fd(const struct iommufd_ctx *ctx)
{
	if (!ctx)
		return FAIL(NULL, EINVAL, "ctx is NULL");
	return ctx->fd;
}

IOMMUFD_EXPORT struct iommufd_backend *iommufd_ctx_get_backend(const struct iommufd_ctx *ctx)
{
	return ctx ? ctx->be : NULL;
}

IOMMUFD_EXPORT int iommufd_ctx_ioctl(struct iommufd_ctx *ctx, unsigned long request, void *arg)
{
	int r;

	if (!ctx)
		return FAIL(NULL, EINVAL, "ctx is NULL");
	r = ifd_ctx_check(ctx, __func__);
	if (r)
		return r;
	r = ifd_ioctl(ctx, request, arg);
	if (r < 0)
		return FAIL(ctx, r, "ioctl 0x%lx on fd %d", request, ctx->fd);
	return r;
}
