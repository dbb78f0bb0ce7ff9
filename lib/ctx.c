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
#include "type1/type1.h"

/* ------------------------------------------------------------ errors */

#define LAST_ERROR_MAX 768

/*
 * per thread: the last failure and the context it happened on, by serial
 * number (0: none), not by pointer: a freed context's address can be reused
 * by a new one, which must not inherit the message. A failure records its
 * parts (pending); msg is made from them on the first read (lib/private.h).
 */
static __thread struct last_error {
	uint64_t ctx_serial;
	bool pending;               /* the parts below are newer than msg */
	int err;                    /* negative */
	unsigned int nargs;
	const char *func, *fmt;     /* string literals */
	uint64_t args[IFD_FAIL_MAX_ARGS];
	char strs[IFD_FAIL_STR_MAX]; /* the string arguments, copied */
	bool has_note;
	char note[192];             /* a layer's note on the failure (ifd_fail_note()) */
	char msg[LAST_ERROR_MAX];
} last_error;

/* per thread: a note waiting for the next failure */
static __thread struct {
	bool pending;
	char text[192];
} fail_note;

void ifd_fail_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fail_note.text, sizeof(fail_note.text), fmt, ap);
	va_end(ap);
	fail_note.pending = true;
}

void ifd_fail_note_clear(void)
{
	fail_note.pending = false;
}

/* the serial numbers of contexts, from 1 */
static uint64_t ctx_serials;

/*
 * The thread's record, its address computed once: a dynamic-TLS address costs
 * a __tls_get_addr() call, which GCC otherwise repeats inside loops.
 */
static inline struct last_error *this_thread_error(void)
{
	struct last_error *e = &last_error;

	__asm__("" : "+r"(e));
	return e;
}

/* copy the string arguments (bits of strmask) into e->strs and point at the copies */
static void capture_strings(struct last_error *e, unsigned int strmask)
{
	size_t used = 0;

	for (unsigned int i = 0; strmask; i++, strmask >>= 1) {
		const char *str = (const char *)(uintptr_t)e->args[i];
		size_t room = sizeof(e->strs) - used, n;

		if (!(strmask & 1) || !str)
			continue; /* NULL stays NULL: "(null)", as printf shows it */
		if (room == 0) {
			e->args[i] = (uintptr_t)"";
			continue;
		}
		n = strnlen(str, room - 1);
		/* memmove: an argument may be an earlier message of this thread */
		memmove(e->strs + used, str, n);
		e->strs[used + n] = '\0';
		e->args[i] = (uintptr_t)(e->strs + used);
		used += n + 1;
	}
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/*
 * printf(fmt, args) into buf (size > 0), one conversion at a time: each
 * conversion of fmt takes its value from args as the type its length
 * modifier and letter name (the compiler checked fmt against the arguments
 * at the call site, so the types agree). '*' widths and precisions take an
 * int argument first, as in printf.
 */
static void format_args(char *buf, size_t size, const char *fmt, const uint64_t *args,
			unsigned int nargs)
{
	size_t out = 0;
	unsigned int ai = 0;

#define NEXT_ARG() (ai < nargs ? args[ai++] : 0)
	while (*fmt && out < size - 1) {
		const char *q = fmt + 1;
		char spec[32], len[3] = "";
		int star[2], nstar = 0, n = 0;
		size_t speclen;
		uint64_t v;
		char *dst;
		size_t room;

		if (*fmt != '%' || *q == '%') {
			buf[out++] = *fmt;
			fmt += *fmt == '%' ? 2 : 1;
			continue;
		}
		while (*q && strchr("-+ #0'", *q))
			q++;
		if (*q == '*') {
			star[nstar++] = (int)NEXT_ARG();
			q++;
		}
		while (*q >= '0' && *q <= '9')
			q++;
		if (*q == '.') {
			q++;
			if (*q == '*') {
				star[nstar++] = (int)NEXT_ARG();
				q++;
			}
			while (*q >= '0' && *q <= '9')
				q++;
		}
		while (*q && strchr("hlzjtLq", *q) && strlen(len) < 2)
			len[strlen(len)] = *q++;
		if (!*q)
			break;
		speclen = (size_t)(q + 1 - fmt);
		if (speclen >= sizeof(spec))
			break;
		memcpy(spec, fmt, speclen);
		spec[speclen] = '\0';
		fmt = q + 1;
		v = NEXT_ARG();
		dst = buf + out;
		room = size - out;
#define EMIT(val)                                                                          \
	(nstar == 0 ? snprintf(dst, room, spec, val) :                                     \
	 nstar == 1 ? snprintf(dst, room, spec, star[0], val) :                            \
		      snprintf(dst, room, spec, star[0], star[1], val))
		switch (*q) {
		case 'd':
		case 'i':
			if (!strcmp(len, "l") || !strcmp(len, "z") || !strcmp(len, "t") ||
			    !strcmp(len, "j"))
				n = EMIT((long)v);
			else if (!strcmp(len, "ll") || !strcmp(len, "q") || !strcmp(len, "L"))
				n = EMIT((long long)v);
			else
				n = EMIT((int)v);
			break;
		case 'u':
		case 'o':
		case 'x':
		case 'X':
			if (!strcmp(len, "l") || !strcmp(len, "z") || !strcmp(len, "t") ||
			    !strcmp(len, "j"))
				n = EMIT((unsigned long)v);
			else if (!strcmp(len, "ll") || !strcmp(len, "q") || !strcmp(len, "L"))
				n = EMIT((unsigned long long)v);
			else
				n = EMIT((unsigned int)v);
			break;
		case 'c':
			n = EMIT((int)v);
			break;
		case 's': {
			const char *str = (const char *)(uintptr_t)v;

			n = EMIT(str ? str : "(null)");
			break;
		}
		case 'p':
			n = EMIT((void *)(uintptr_t)v);
			break;
		case 'e':
		case 'E':
		case 'f':
		case 'F':
		case 'g':
		case 'G':
		case 'a':
		case 'A': {
			double d;

			memcpy(&d, &v, sizeof(d));
			n = EMIT(d);
			break;
		}
		default: /* a conversion the compiler would have refused: show it as it is */
			n = snprintf(dst, room, "%s", spec);
			break;
		}
#undef EMIT
		if (n > 0)
			out += (size_t)n < room ? (size_t)n : room - 1;
	}
#undef NEXT_ARG
	buf[out] = '\0';
}
#pragma GCC diagnostic pop

/* make e->msg from the recorded parts */
static void format_last_error(struct last_error *e)
{
	char what[416];

	format_args(what, sizeof(what), e->fmt, e->args, e->nargs);
	snprintf(e->msg, sizeof(e->msg), "%s: %s: %s (%s)%s%s", e->func, what, ifd_errno_name(e->err),
		 strerror(-e->err), e->has_note ? "; " : "", e->has_note ? e->note : "");
	e->pending = false;
}

int ifd_fail_capture(const struct iommufd_ctx *ctx, const char *func, int err, const char *fmt,
		     unsigned int nargs, unsigned int strmask, const uint64_t *args)
{
	struct last_error *e = this_thread_error();

	if (err > 0)
		err = -err;
	if (err == 0)
		err = -EIO; /* a failure always has an errno */

	e->ctx_serial = ctx ? ctx->serial : 0;
	e->err = err;
	e->func = func;
	e->fmt = fmt;
	e->nargs = nargs;
	for (unsigned int i = 0; i < nargs; i++)
		e->args[i] = args[i];
	if (strmask)
		capture_strings(e, strmask);
	e->has_note = fail_note.pending;
	if (fail_note.pending) {
		memcpy(e->note, fail_note.text, sizeof(e->note));
		fail_note.pending = false;
	}
	e->pending = true;
	/* a log function at LOG_DEBUG wants the text now */
	if (ctx && __atomic_load_n(&ctx->log_priority, __ATOMIC_RELAXED) >= LOG_DEBUG) {
		format_last_error(e);
		dbg(ctx, "%s", e->msg);
	}
	return err;
}

IOMMUFD_EXPORT const char *iommufd_last_error(void)
{
	struct last_error *e = this_thread_error();

	if (e->pending)
		format_last_error(e);
	return e->msg;
}

IOMMUFD_EXPORT const char *iommufd_ctx_last_error(const struct iommufd_ctx *ctx)
{
	struct last_error *e = this_thread_error();

	if (!ctx || e->ctx_serial != ctx->serial)
		return "";
	if (e->pending)
		format_last_error(e);
	return e->msg;
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
		return FAIL(NULL, EINVAL, "ctx is NULL");
	return __atomic_load_n(&ctx->log_priority, __ATOMIC_RELAXED);
}

IOMMUFD_EXPORT void iommufd_ctx_set_log_priority(struct iommufd_ctx *ctx, int priority)
{
	if (!ctx)
		return;
	__atomic_store_n(&ctx->log_priority, priority, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ context */

/* ------------------------------------------------------------ fork check */

int ifd_owner_check_slow(pid_t owner, const struct iommufd_ctx *ctx, const char *func,
			 const char *kind, const char *name)
{
	pid_t self = ifd_getpid();

	if (owner == self)
		return 0;
	return ifd_fail(ctx, func, ECHILD, "%s%s%s made by process %d, used in %d after fork", kind,
			name ? " " : "", name ? name : "", (int)owner, (int)self);
}

int ifd_ctx_fork_fail(const struct iommufd_ctx *ctx, const char *func)
{
	/* never 0 (see ifd_ctx_check()): even if owner == self, report it */
	return ifd_fail(ctx, func, ECHILD, "context made by process %d, used in %d after fork",
			(int)ctx->pid, (int)ifd_getpid());
}

static int ctx_alloc(struct iommufd_backend *be, int fd, enum iommufd_mode mode,
		     struct iommufd_ctx **ret)
{
	struct iommufd_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->refcount = 1;
	ctx->pid = ifd_getpid();
	/* no context without a working pid cache: ifd_ctx_check() relies on it */
	if (__atomic_load_n(&ifd_pid_cache, __ATOMIC_RELAXED) != ctx->pid) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->serial = __atomic_add_fetch(&ctx_serials, 1, __ATOMIC_RELAXED);
	ctx->be = be_ref(be);
	ctx->fd = fd;
	ctx->mode = (uint8_t)mode;
	ctx->kernel = be == ifd_backend_kernel() && mode == IOMMUFD_MODE_IOMMUFD;
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->log_priority = ifd_log_priority_from_env();
	*ret = ctx;
	return 0;
}

/* the mode IOMMUFD_MODE asks for: 0 (auto), a mode, or -EINVAL recorded under func */
static int mode_from_env(const char *func)
{
	const char *e = secure_getenv("IOMMUFD_MODE");

	if (!e || !*e || !strcmp(e, "auto"))
		return 0;
	if (!strcmp(e, "iommufd"))
		return IOMMUFD_MODE_IOMMUFD;
	if (!strcmp(e, "type1"))
		return IOMMUFD_MODE_TYPE1;
	return ifd_fail(NULL, func, EINVAL, "IOMMUFD_MODE=\"%s\": expected auto, iommufd or type1", e);
}

static void set_why(struct iommufd_ctx *ctx, const char *why)
{
	ctx->mode_why = strdup(why);
}

/* /dev/iommu does not exist here: the errors of a kernel without iommufd */
static bool no_iommufd(int err)
{
	return err == -ENOENT || err == -ENODEV || err == -ENXIO;
}

/*
 * Open a context on be in mode (0: automatic, see include/iommufd.h
 * "Modes"); failures are reported as func's.
 */
static int ctx_open(const char *func, struct iommufd_backend *be, int mode, bool forced,
		    struct iommufd_ctx **ret)
{
	static const char iommu_path[] = BE_DEV_ROOT "/iommu";
	static const char container_path[] = BE_DEV_ROOT "/vfio/vfio";
	char why[256];
	int fd = -ENOENT, iommu_err, r;

	if (mode != IOMMUFD_MODE_TYPE1) {
		fd = be_open(be, iommu_path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			r = ctx_alloc(be, fd, IOMMUFD_MODE_IOMMUFD, ret);
			if (r < 0) {
				be_close(be, fd);
				return ifd_fail(NULL, func, r, "allocating the context");
			}
			(*ret)->mode_forced = forced;
			set_why(*ret, forced ? "iommufd mode asked for; /dev/iommu opened" : "/dev/iommu opened");
			dbg(*ret, "opened %s as fd %d", iommu_path, fd);
			return 0;
		}
		if (mode == IOMMUFD_MODE_IOMMUFD)
			return ifd_fail(NULL, func, fd, "open %s (iommufd mode asked for)", iommu_path);
		if (!no_iommufd(fd))
			return ifd_fail(NULL, func, fd,
					"open %s (it exists, so the VFIO container is not tried: fix its access)",
					iommu_path);
	}
	r = be_open(be, container_path, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		if (mode == IOMMUFD_MODE_TYPE1)
			return ifd_fail(NULL, func, r, "open %s (type1 mode asked for)", container_path);
		return ifd_fail(NULL, func, r, "open %s: %s; open %s (no iommufd, so the VFIO container)",
				iommu_path, ifd_errno_name(fd), container_path);
	}
	iommu_err = fd;
	fd = r;
	r = ctx_alloc(be, fd, IOMMUFD_MODE_TYPE1, ret);
	if (r < 0) {
		be_close(be, fd);
		return ifd_fail(NULL, func, r, "allocating the context");
	}
	r = ifd_t1_init(*ret, func);
	if (r < 0) {
		(*ret)->t1 = NULL;
		iommufd_ctx_unref(*ret);
		*ret = NULL;
		return r;
	}
	(*ret)->mode_forced = mode == IOMMUFD_MODE_TYPE1 && forced;
	if (mode == IOMMUFD_MODE_TYPE1)
		snprintf(why, sizeof(why), "type1 mode asked for; %s opened", container_path);
	else
		snprintf(why, sizeof(why), "%s: %s (no iommufd); %s opened", iommu_path,
			 ifd_errno_name(iommu_err), container_path);
	set_why(*ret, why);
	dbg(*ret, "%s", why);
	return 0;
}

/* adopt fd, an iommufd or a VFIO container on be; failures are reported as func's */
static int ctx_adopt(const char *func, struct iommufd_backend *be, int fd, struct iommufd_ctx **ret)
{
	struct kabi_destroy probe = { .size = sizeof(probe), .id = 0 };
	int r;

	if (fd < 0)
		return ifd_fail(NULL, func, EBADF, "fd %d", fd);
	/* a harmless probe: an iommufd answers ENOENT for ID 0 */
	r = be_ioctl(be, fd, KABI_IOMMU_DESTROY, &probe);
	if (r == -EBADF)
		return ifd_fail(NULL, func, EBADF, "fd %d is not open", fd);
	if (r != -ENOENT) {
		/* a VFIO container answers VFIO_GET_API_VERSION with 0 */
		int v = be_ioctl(be, fd, KABI_VFIO_GET_API_VERSION, NULL);

		if (v != KABI_VFIO_API_VERSION)
			return ifd_fail(NULL, func, ENOTTY,
					"fd %d is neither an iommufd (probe DESTROY(0) gave %s) nor a VFIO container",
					fd, r < 0 ? ifd_errno_name(r) : "success");
		r = ctx_alloc(be, fd, IOMMUFD_MODE_TYPE1, ret);
		if (r < 0)
			return ifd_fail(NULL, func, r, "allocating the context for fd %d", fd);
		r = ifd_t1_init(*ret, func);
		if (r < 0) {
			/* fd stays open: the caller keeps it */
			(*ret)->fd = -1;
			iommufd_ctx_unref(*ret);
			*ret = NULL;
			return r;
		}
		set_why(*ret, "adopted a VFIO container fd");
		return 0;
	}
	r = ctx_alloc(be, fd, IOMMUFD_MODE_IOMMUFD, ret);
	if (r < 0)
		return ifd_fail(NULL, func, r, "allocating the context for fd %d", fd);
	set_why(*ret, "adopted an iommufd fd");
	return 0;
}

IOMMUFD_EXPORT int iommufd_ctx_new_opts(const struct iommufd_ctx_opts *user_opts, struct iommufd_ctx **ret)
{
	struct iommufd_ctx_opts opts;
	struct iommufd_backend *be;
	int r;

	if (!ret)
		return FAIL(NULL, EINVAL, "ret is NULL");
	r = ifd_ext_copy_in(&opts, sizeof(opts), user_opts, sizeof(size_t));
	if (r)
		return FAIL(NULL, r, "opts->sz %zu: %s", user_opts->sz,
			    r == -E2BIG ? "fields this library does not know are set" : "too small");
	if (opts.flags & ~(IOMMUFD_CTX_FROM_FD | IOMMUFD_CTX_MODE_IOMMUFD | IOMMUFD_CTX_MODE_TYPE1))
		return FAIL(NULL, EINVAL, "unknown flags %#x (library flags: nothing to pass to the kernel)",
			    opts.flags & ~(IOMMUFD_CTX_FROM_FD | IOMMUFD_CTX_MODE_IOMMUFD | IOMMUFD_CTX_MODE_TYPE1));
	if ((opts.flags & IOMMUFD_CTX_MODE_IOMMUFD) && (opts.flags & IOMMUFD_CTX_MODE_TYPE1))
		return FAIL(NULL, EINVAL, "IOMMUFD_CTX_MODE_IOMMUFD and IOMMUFD_CTX_MODE_TYPE1 both set");
	be = opts.backend ? opts.backend : ifd_backend_kernel();
	if (be->abi != IFD_BACKEND_ABI)
		return FAIL(NULL, EPROTO,
			    "the backend was built for another version of libiommufd (ABI %#x, this one %#x)",
			    be->abi, IFD_BACKEND_ABI);
	if (opts.flags & IOMMUFD_CTX_FROM_FD)
		return ctx_adopt(__func__, be, opts.fd, ret);
	if (opts.flags & IOMMUFD_CTX_MODE_IOMMUFD)
		return ctx_open(__func__, be, IOMMUFD_MODE_IOMMUFD, true, ret);
	if (opts.flags & IOMMUFD_CTX_MODE_TYPE1)
		return ctx_open(__func__, be, IOMMUFD_MODE_TYPE1, true, ret);
	r = mode_from_env(__func__);
	if (r < 0)
		return r;
	return ctx_open(__func__, be, r, r != 0, ret);
}

IOMMUFD_EXPORT int iommufd_ctx_new(struct iommufd_ctx **ret)
{
	int mode;

	if (!ret)
		return FAIL(NULL, EINVAL, "ret is NULL");
	mode = mode_from_env(__func__);
	if (mode < 0)
		return mode;
	return ctx_open(__func__, ifd_backend_kernel(), mode, mode != 0, ret);
}

IOMMUFD_EXPORT int iommufd_ctx_new_from_fd(int fd, struct iommufd_ctx **ret)
{
	if (!ret)
		return FAIL(NULL, EINVAL, "ret is NULL");
	return ctx_adopt(__func__, ifd_backend_kernel(), fd, ret);
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
	ifd_t1_free(ctx);
	if (ctx->fd >= 0)
		be_close(ctx->be, ctx->fd);
	free(ctx->mode_why);
	be_unref(ctx->be);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
	return NULL;
}

IOMMUFD_EXPORT void iommufd_ctx_unrefp(struct iommufd_ctx **ctx)
{
	if (ctx)
		*ctx = iommufd_ctx_unref(*ctx);
}

IOMMUFD_EXPORT int iommufd_ctx_get_fd(const struct iommufd_ctx *ctx)
{
	if (!ctx)
		return FAIL(NULL, EINVAL, "ctx is NULL");
	return ctx->fd;
}

IOMMUFD_EXPORT int iommufd_ctx_ioctl(struct iommufd_ctx *ctx, unsigned long request, void *arg)
{
	int r;

	if (!ctx)
		return FAIL(NULL, EINVAL, "ctx is NULL");
	r = ifd_ctx_check(ctx, __func__);
	if (r)
		return r;
	/* raw: on a type1 context, the container's own ioctls */
	r = ctx->t1 ? be_ioctl(ctx->be, ctx->fd, request, arg) : ifd_ioctl(ctx, request, arg);
	if (r < 0)
		return FAIL(ctx, r, "ioctl 0x%lx on fd %d", request, ctx->fd);
	return r;
}

/* ------------------------------------------------------------ modes */

IOMMUFD_EXPORT enum iommufd_mode iommufd_ctx_get_mode(const struct iommufd_ctx *ctx)
{
	if (!ctx) {
		FAIL(NULL, EINVAL, "ctx is NULL");
		return 0;
	}
	return (enum iommufd_mode)ctx->mode;
}

IOMMUFD_EXPORT const char *iommufd_mode_name(enum iommufd_mode mode)
{
	switch (mode) {
	case IOMMUFD_MODE_IOMMUFD:
		return "iommufd";
	case IOMMUFD_MODE_TYPE1:
		return "type1";
	}
	return NULL;
}

IOMMUFD_EXPORT int iommufd_ctx_get_mode_info(const struct iommufd_ctx *ctx, struct iommufd_mode_info *info)
{
	struct iommufd_mode_info out;
	int r;

	if (!ctx || !info)
		return FAIL(ctx, EINVAL, "ctx or info is NULL");
	r = ifd_ctx_check(ctx, __func__);
	if (r)
		return r;
	r = ifd_ext_copy_in(&out, sizeof(out), info, offsetof(struct iommufd_mode_info, flags));
	if (r)
		return FAIL(ctx, r, "info->sz %zu: %s", info->sz,
			    r == -E2BIG ? "fields this library does not know are set" : "too small");
	memset((char *)&out + sizeof(out.sz), 0, sizeof(out) - sizeof(out.sz));
	out.mode = ctx->mode;
	if (ctx->t1)
		ifd_t1_mode_info((struct iommufd_ctx *)ctx, &out.flags, &out.iommu_type);
	if (ctx->mode_forced)
		out.flags |= IOMMUFD_MODE_INFO_FORCED;
	snprintf(out.why, sizeof(out.why), "%s", ctx->mode_why ? ctx->mode_why : "");
	ifd_ext_copy_out(info, &out, sizeof(out));
	return 0;
}

/* ------------------------------------------------------------ version */

IOMMUFD_EXPORT int iommufd_version_major(void)
{
	return IOMMUFD_VERSION_MAJOR;
}

IOMMUFD_EXPORT int iommufd_version_minor(void)
{
	return IOMMUFD_VERSION_MINOR;
}

IOMMUFD_EXPORT bool iommufd_check_version(int major, int minor)
{
	return major == IOMMUFD_VERSION_MAJOR && minor <= IOMMUFD_VERSION_MINOR;
}
