/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libiommufd internals shared by the lib/ sources. Private header: never installed.
 */
#ifndef IOMMUFD_PRIVATE_H
#define IOMMUFD_PRIVATE_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "iommufd.h"
#include "shared/abi.h"
#include "shared/backend.h"
#include "shared/errname.h"
#include "shared/ext.h"
#include "shared/macro.h"
#include "shared/pid.h"

/* a failure path: out of line, kept away from the hot code */
#define _cold_ __attribute__((cold, noinline))

struct iommufd_ctx {
	int refcount;               /* atomic */
	pid_t pid;                  /* creator: calls after fork() give -ECHILD */
	uint64_t serial;            /* unique per context: tags the last error */
	struct iommufd_backend *be; /* a reference (be_ref) */
	int fd;                     /* the iommufd, or the VFIO container (type1 mode) */
	bool kernel;                /* iommufd mode on the kernel's be: ifd_ioctl() calls ioctl(2) itself */
	uint8_t mode;               /* enum iommufd_mode */
	bool mode_forced;           /* chosen by the caller or IOMMUFD_MODE */
	struct ifd_t1 *t1;          /* type1 mode: the container's state (lib/type1) */
	char *mode_why;             /* how the mode was chosen (malloc()ed, may be NULL) */
	int log_priority;           /* atomic: read on every log call without the lock */
	pthread_mutex_t lock;       /* guards log_fn and log_data */
	iommufd_log_fn log_fn;
	void *log_data;
	/* capability cache: index nr - KABI_CMD_BASE; 0 unknown, 1 yes, 2 no */
	uint8_t cmd_supported[KABI_CMD_LAST - KABI_CMD_BASE + 1];
};

/*
 * Errors. Every public entry point that fails calls one of these, which
 * records "func: what (args): EXXX (strerror)" as the thread's last error
 * (tagged with ctx, which may be NULL) and logs it at LOG_DEBUG, and returns
 * -err (err is a positive or negative errno; the result is always negative).
 *
 * Failures are cheap, because some are expected by the thousand (a vIOMMU
 * unmapping what is not mapped: ENOENT; a re-map: EEXIST): the failure only
 * records func, err, fmt and the arguments by value, and the text is made
 * when iommufd_last_error() or iommufd_ctx_last_error() asks for it (once:
 * then cached), or at once when the context logs at LOG_DEBUG.
 *
 * ifd_fail() is a macro that sorts the arguments at compile time with
 * _Generic: integers (and void *) are kept as 64-bit values; strings (char *,
 * const char *) are copied, at the failure, into a per-thread buffer of
 * IFD_FAIL_STR_MAX bytes (at least what a message of the former eager
 * formatter could show), so a string argument may be a buffer that dies
 * right after the call. func and fmt must be string literals (__func__ and a
 * literal format): they are kept by pointer. At most IFD_FAIL_MAX_ARGS
 * arguments; an argument of another pointer type (only void * goes with %p)
 * or an argument count above the limit does not compile. The format is
 * checked against the arguments by the compiler (printf attribute); the text
 * is made one conversion at a time (lib/ctx.c format_args()), which knows the
 * C99 conversions, flags, widths, precisions and length modifiers, '*'
 * included, but not positional arguments (%1$s): none is used.
 */
#define IFD_FAIL_MAX_ARGS 12
#define IFD_FAIL_STR_MAX 448
int ifd_fail_capture(const struct iommufd_ctx *ctx, const char *func, int err, const char *fmt,
		     unsigned int nargs, unsigned int strmask, const uint64_t *args);
/*
 * A note for the next failure this thread records: appended to its reason
 * ("...: EOPNOTSUPP (...); <note>"). Set by a layer below the entry point
 * (the type1 mode) that knows why, right before it returns the error the
 * entry point then records.
 */
void ifd_fail_note(const char *fmt, ...) _printf_(1, 2);
/* drop a note no failure took (a probe that expected its error) */
void ifd_fail_note_clear(void);
/* never defined nor called: only its printf attribute checks fmt against the arguments */
int ifd_fail_fmt_check(const char *fmt, ...) _printf_(1, 2);

static inline uint64_t ifd_arg_int(uint64_t v)
{
	return v;
}

static inline uint64_t ifd_arg_str(const char *s)
{
	return (uintptr_t)s;
}

static inline uint64_t ifd_arg_ptr(const void *p)
{
	return (uintptr_t)p;
}

static inline uint64_t ifd_arg_dbl(double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	return v;
}

#define IFD_ARG_V(x)                                                                       \
	_Generic((x), char *: ifd_arg_str, const char *: ifd_arg_str, void *: ifd_arg_ptr, \
		 const void *: ifd_arg_ptr, float: ifd_arg_dbl, double: ifd_arg_dbl,       \
		 default: ifd_arg_int)(x)
#define IFD_ARG_S(x) _Generic((x), char *: 1u, const char *: 1u, default: 0u)

/* the number of arguments after fmt, 0 to IFD_FAIL_MAX_ARGS */
#define IFD_NARGS(...) IFD_NARGS_(__VA_ARGS__, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0)
#define IFD_NARGS_(fmt, _1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, n, ...) n
#define IFD_CAT(a, b) IFD_CAT_(a, b)
#define IFD_CAT_(a, b) a##b
/* IFD_V_n: the n values; IFD_M_n: bit i set if argument i is a string */
#define IFD_V_1(x) IFD_ARG_V(x)
#define IFD_M_1(x) IFD_ARG_S(x)
#define IFD_V_2(x, ...) IFD_ARG_V(x), IFD_V_1(__VA_ARGS__)
#define IFD_M_2(x, ...) (IFD_ARG_S(x) | IFD_M_1(__VA_ARGS__) << 1)
#define IFD_V_3(x, ...) IFD_ARG_V(x), IFD_V_2(__VA_ARGS__)
#define IFD_M_3(x, ...) (IFD_ARG_S(x) | IFD_M_2(__VA_ARGS__) << 1)
#define IFD_V_4(x, ...) IFD_ARG_V(x), IFD_V_3(__VA_ARGS__)
#define IFD_M_4(x, ...) (IFD_ARG_S(x) | IFD_M_3(__VA_ARGS__) << 1)
#define IFD_V_5(x, ...) IFD_ARG_V(x), IFD_V_4(__VA_ARGS__)
#define IFD_M_5(x, ...) (IFD_ARG_S(x) | IFD_M_4(__VA_ARGS__) << 1)
#define IFD_V_6(x, ...) IFD_ARG_V(x), IFD_V_5(__VA_ARGS__)
#define IFD_M_6(x, ...) (IFD_ARG_S(x) | IFD_M_5(__VA_ARGS__) << 1)
#define IFD_V_7(x, ...) IFD_ARG_V(x), IFD_V_6(__VA_ARGS__)
#define IFD_M_7(x, ...) (IFD_ARG_S(x) | IFD_M_6(__VA_ARGS__) << 1)
#define IFD_V_8(x, ...) IFD_ARG_V(x), IFD_V_7(__VA_ARGS__)
#define IFD_M_8(x, ...) (IFD_ARG_S(x) | IFD_M_7(__VA_ARGS__) << 1)
#define IFD_V_9(x, ...) IFD_ARG_V(x), IFD_V_8(__VA_ARGS__)
#define IFD_M_9(x, ...) (IFD_ARG_S(x) | IFD_M_8(__VA_ARGS__) << 1)
#define IFD_V_10(x, ...) IFD_ARG_V(x), IFD_V_9(__VA_ARGS__)
#define IFD_M_10(x, ...) (IFD_ARG_S(x) | IFD_M_9(__VA_ARGS__) << 1)
#define IFD_V_11(x, ...) IFD_ARG_V(x), IFD_V_10(__VA_ARGS__)
#define IFD_M_11(x, ...) (IFD_ARG_S(x) | IFD_M_10(__VA_ARGS__) << 1)
#define IFD_V_12(x, ...) IFD_ARG_V(x), IFD_V_11(__VA_ARGS__)
#define IFD_M_12(x, ...) (IFD_ARG_S(x) | IFD_M_11(__VA_ARGS__) << 1)
#define IFD_FAIL_0(ctx, func, err, fmt) \
	((void)sizeof(ifd_fail_fmt_check(fmt)), ifd_fail_capture((ctx), (func), (err), (fmt), 0, 0, NULL))
#define IFD_FAIL_1(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 1, IFD_M_1(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_1(__VA_ARGS__) }))
#define IFD_FAIL_2(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 2, IFD_M_2(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_2(__VA_ARGS__) }))
#define IFD_FAIL_3(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 3, IFD_M_3(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_3(__VA_ARGS__) }))
#define IFD_FAIL_4(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 4, IFD_M_4(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_4(__VA_ARGS__) }))
#define IFD_FAIL_5(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 5, IFD_M_5(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_5(__VA_ARGS__) }))
#define IFD_FAIL_6(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 6, IFD_M_6(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_6(__VA_ARGS__) }))
#define IFD_FAIL_7(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 7, IFD_M_7(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_7(__VA_ARGS__) }))
#define IFD_FAIL_8(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 8, IFD_M_8(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_8(__VA_ARGS__) }))
#define IFD_FAIL_9(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 9, IFD_M_9(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_9(__VA_ARGS__) }))
#define IFD_FAIL_10(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 10, IFD_M_10(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_10(__VA_ARGS__) }))
#define IFD_FAIL_11(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 11, IFD_M_11(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_11(__VA_ARGS__) }))
#define IFD_FAIL_12(ctx, func, err, fmt, ...)                                   \
	((void)sizeof(ifd_fail_fmt_check(fmt, __VA_ARGS__)),                          \
	 ifd_fail_capture((ctx), (func), (err), (fmt), 12, IFD_M_12(__VA_ARGS__),    \
			  (const uint64_t[]){ IFD_V_12(__VA_ARGS__) }))
#define ifd_fail(ctx, func, err, ...) \
	IFD_CAT(IFD_FAIL_, IFD_NARGS(__VA_ARGS__))(ctx, func, err, __VA_ARGS__)
#define FAIL(ctx, err, ...) ifd_fail((ctx), __func__, (err), __VA_ARGS__)

/*
 * Logging through the context's log function. One scheme: the priority is an
 * atomic, checked here without a lock (so messages below it cost nothing);
 * the function and its data are a pair that changes together, read only by
 * ifd_log() under ctx->lock.
 */
void ifd_log(const struct iommufd_ctx *ctx, int priority, const char *file, int line, const char *fn,
	     const char *fmt, ...) _printf_(6, 7);
#define ifd_log_cond(ctx, prio, ...)                                                    \
	do {                                                                            \
		if ((ctx) && __atomic_load_n(&(ctx)->log_priority, __ATOMIC_RELAXED) >= (prio)) \
			ifd_log((ctx), (prio), __FILE__, __LINE__, __func__, __VA_ARGS__); \
	} while (0)
#define dbg(ctx, ...) ifd_log_cond(ctx, LOG_DEBUG, __VA_ARGS__)
#define info(ctx, ...) ifd_log_cond(ctx, LOG_INFO, __VA_ARGS__)
#define err(ctx, ...) ifd_log_cond(ctx, LOG_ERR, __VA_ARGS__)

/* log priority from IOMMUFD_LOG (secure_getenv), default LOG_ERR */
int ifd_log_priority_from_env(void);

/*
 * The fork check of every handle (context, device, group) compares the pid
 * that made the handle with this process's pid (ifd_getpid(), no system
 * call: shared/pid.h), on every public call.
 */

/* the real kernel below the boundary (backend-kernel.c) */
struct iommufd_backend *ifd_backend_kernel(void);

/*
 * 0 if owner (the pid that made the handle) is this process, else -ECHILD,
 * recorded on ctx (may be NULL) as "<kind> <name> made by process P, used in
 * Q after fork" (name may be NULL). Inline: the common case is one load and
 * one compare (owner is never 0, so an empty cache takes the slow path).
 */
int ifd_owner_check_slow(pid_t owner, const struct iommufd_ctx *ctx, const char *func,
			 const char *kind, const char *name);
static inline int ifd_owner_check(pid_t owner, const struct iommufd_ctx *ctx, const char *func,
				  const char *kind, const char *name)
{
	if (__builtin_expect(owner == __atomic_load_n(&ifd_pid_cache, __ATOMIC_RELAXED), 1))
		return 0;
	return ifd_owner_check_slow(owner, ctx, func, kind, name);
}
/*
 * -ECHILD if ctx was made by another process (after fork), else 0. A context
 * exists only where the pid cache works (ctx_alloc() checks it), and in the
 * process that made it the cache then holds its pid for good (only a fork
 * child's copy is reset): so a mismatch is always a fork, and the compiler is
 * told so. The hot path then keeps nothing live across the slow call.
 */
int ifd_ctx_fork_fail(const struct iommufd_ctx *ctx, const char *func) __attribute__((cold));
static inline int ifd_ctx_check(const struct iommufd_ctx *ctx, const char *func)
{
	int r;

	if (__builtin_expect(ctx->pid == __atomic_load_n(&ifd_pid_cache, __ATOMIC_RELAXED), 1))
		return 0;
	r = ifd_ctx_fork_fail(ctx, func);
	if (r >= 0)
		__builtin_unreachable();
	return r;
}

/*
 * issue an iommufd ioctl on ctx's fd through its backend; returns >= 0 or
 * -errno. On the kernel's backend the ioctl(2) is made here, inline: the
 * same system call as backend-kernel.c's, without two indirect loads, an
 * indirect call and a stack frame on every command.
 */
int ifd_t1_ioctl(struct iommufd_ctx *ctx, unsigned long req, void *arg);
static inline int ifd_ioctl(struct iommufd_ctx *ctx, unsigned long req, void *arg)
{
	if (__builtin_expect(ctx->kernel, 1)) {
		int r = ioctl(ctx->fd, req, arg);

		return r < 0 ? -errno : r;
	}
	if (ctx->t1)
		return ifd_t1_ioctl(ctx, req, arg);
	return be_ioctl(ctx->be, ctx->fd, req, arg);
}

/*
 * The commands that also have a device-handle form (iommufd_device_*()),
 * after the context check; failures are recorded under func.
 */
int ifd_hwpt_alloc(struct iommufd_ctx *ctx, const char *func, uint32_t dev_id, uint32_t pt_id,
		   const struct iommufd_hwpt_alloc_opts *opts, uint32_t *hwpt_id);
int ifd_get_hw_info(struct iommufd_ctx *ctx, const char *func, uint32_t dev_id, uint32_t type,
		    struct iommufd_hw_info *info);
int ifd_viommu_alloc(struct iommufd_ctx *ctx, const char *func, uint32_t dev_id, uint32_t hwpt_id,
		     uint32_t type, const struct iommufd_viommu_alloc_opts *opts, uint32_t *viommu_id);

/*
 * A no-IOMMU VFIO group (vfio.enable_unsafe_noiommu_mode=1, a device without
 * an IOMMU group): <sysfs>/kernel/iommu_groups/<group>/name is "vfio-noiommu"
 * (drivers/vfio/group.c vfio_noiommu_group_alloc()) and its node is
 * <dev>/vfio/noiommu-<group>. ifd_group_node() writes the node's path into
 * path (len bytes) and says whether the group is a no-IOMMU one.
 */
bool ifd_group_is_noiommu(struct iommufd_backend *be, int group);
bool ifd_group_node(struct iommufd_backend *be, int group, char *path, size_t len);

#endif
