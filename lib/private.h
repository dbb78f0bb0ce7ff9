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
#include <sys/types.h>

#include "iommufd.h"
#include "shared/abi.h"
#include "shared/backend.h"
#include "shared/errname.h"
#include "shared/ext.h"
#include "shared/macro.h"

struct iommufd_ctx {
	int refcount;               /* atomic */
	pid_t pid;                  /* creator: calls after fork() give -ECHILD */
	uint64_t serial;            /* unique per context: tags the last error */
	struct iommufd_backend *be; /* a reference (be_ref) */
	int fd;
	int log_priority;           /* atomic: read on every log call without the lock */
	pthread_mutex_t lock;       /* guards log_fn and log_data */
	iommufd_log_fn log_fn;
	void *log_data;
	/* capability cache: index nr - KABI_CMD_BASE; 0 unknown, 1 yes, 2 no */
	uint8_t cmd_supported[KABI_CMD_LAST - KABI_CMD_BASE + 1];
};

/*
 * Errors. Every public entry point that fails calls one of these, which
 * records "func: what (args): strerror" as the thread's last error (tagged
 * with ctx, which may be NULL) and logs it at LOG_DEBUG, and returns -err
 * (err is a positive or negative errno; the result is always negative).
 */
int ifd_fail(const struct iommufd_ctx *ctx, const char *func, int err, const char *fmt, ...) _printf_(4, 5);
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
 * The fork check of every handle (context, device, group): 0 if owner (the
 * pid that made the handle) is this process, else -ECHILD, recorded on ctx
 * (may be NULL) as "<kind> <name> made by process P, used in Q after fork"
 * (name may be NULL).
 */
int ifd_owner_check(pid_t owner, const struct iommufd_ctx *ctx, const char *func, const char *kind,
		    const char *name);
/* -ECHILD if ctx was made by another process (after fork), else 0 */
static inline int ifd_ctx_check(const struct iommufd_ctx *ctx, const char *func)
{
	return ifd_owner_check(ctx->pid, ctx, func, "context", NULL);
}

/* the real kernel below the boundary (backend-kernel.c) */
struct iommufd_backend *ifd_backend_kernel(void);

/* issue an iommufd ioctl on ctx's fd through its backend; returns >= 0 or -errno */
static inline int ifd_ioctl(struct iommufd_ctx *ctx, unsigned long req, void *arg)
{
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

#endif
