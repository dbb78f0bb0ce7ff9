// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VFIO group path (/dev/vfio/<group>) on an iommufd "container": the
 * group is set onto a context (VFIO_GROUP_SET_CONTAINER with the iommufd fd)
 * and hands out device files already bound and attached to the context's
 * compat IOAS.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device-private.h"
#include "type1/type1.h"

bool ifd_group_is_noiommu(struct iommufd_backend *be, int group)
{
	char rel[64], buf[32];
	ssize_t n;

	snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/name", group);
	n = be_sysfs_read(be, rel, buf, sizeof(buf) - 1);
	if (n < 0)
		return false; /* a group with no name: one of an IOMMU */
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return strcmp(buf, "vfio-noiommu") == 0;
}

bool ifd_group_node(struct iommufd_backend *be, int group, char *path, size_t len)
{
	bool noiommu = ifd_group_is_noiommu(be, group);

	snprintf(path, len, "%s/vfio/%s%d", BE_DEV_ROOT, noiommu ? "noiommu-" : "", group);
	return noiommu;
}

/* a node named noiommu-<N> (drivers/vfio/group.c vfio_group_alloc()) */
static bool path_is_noiommu(const char *path)
{
	const char *b = strrchr(path, '/');

	return strncmp(b ? b + 1 : path, "noiommu-", 8) == 0;
}

static int grp_check(const struct iommufd_group *grp, const char *func)
{
	return ifd_owner_check(grp->pid, grp->ctx, func, "group", grp->path);
}

IOMMUFD_EXPORT int iommufd_group_open_path(struct iommufd_ctx *ctx, const char *path,
					   struct iommufd_group **ret)
{
	struct iommufd_backend *be = NULL;
	struct iommufd_group *grp;
	int fd, r;

	r = ifd_scope_backend(ctx, __func__, &be);
	if (r)
		return r;
	if (!path || !ret)
		return FAIL(NULL, EINVAL, "path or ret is NULL");
	fd = be_open(be, path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return FAIL(NULL, fd, "open %s%s", path,
			    fd == -EBUSY ? ": the group is already open, or a device of it is bound through its cdev" : "");
	grp = calloc(1, sizeof(*grp));
	if (!grp) {
		be_close(be, fd);
		return FAIL(NULL, ENOMEM, "allocating the group for %s", path);
	}
	grp->refcount = 1;
	grp->pid = ifd_getpid();
	grp->be = be_ref(be);
	grp->fd = fd;
	grp->noiommu = path_is_noiommu(path);
	snprintf(grp->path, sizeof(grp->path), "%s", path);
	pthread_mutex_init(&grp->lock, NULL);
	*ret = grp;
	return 0;
}

IOMMUFD_EXPORT int iommufd_group_open(struct iommufd_ctx *ctx, int group, struct iommufd_group **ret)
{
	struct iommufd_backend *be = NULL;
	char path[PATH_MAX];
	int r;

	r = ifd_scope_backend(ctx, __func__, &be);
	if (r)
		return r;
	if (group < 0 || !ret)
		return FAIL(NULL, EINVAL, "group %d, or ret is NULL", group);
	ifd_group_node(be, group, path, sizeof(path));
	return iommufd_group_open_path(ctx, path, ret);
}

IOMMUFD_EXPORT struct iommufd_group *iommufd_group_ref(struct iommufd_group *grp)
{
	if (grp)
		__atomic_add_fetch(&grp->refcount, 1, __ATOMIC_RELAXED);
	return grp;
}

IOMMUFD_EXPORT struct iommufd_group *iommufd_group_unref(struct iommufd_group *grp)
{
	if (!grp)
		return NULL;
	if (__atomic_sub_fetch(&grp->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	be_close(grp->be, grp->fd);
	/* closing the group took it out of its container */
	if (grp->ctx && grp->ctx->t1)
		ifd_t1_group_left(grp->ctx);
	iommufd_ctx_unref(grp->ctx);
	be_unref(grp->be);
	pthread_mutex_destroy(&grp->lock);
	free(grp);
	return NULL;
}

IOMMUFD_EXPORT void iommufd_group_unrefp(struct iommufd_group **grp)
{
	if (grp)
		*grp = iommufd_group_unref(*grp);
}

IOMMUFD_EXPORT int iommufd_group_get_fd(const struct iommufd_group *grp)
{
	if (!grp)
		return FAIL(NULL, EINVAL, "grp is NULL");
	return grp->fd;
}

IOMMUFD_EXPORT int iommufd_group_set_ctx(struct iommufd_group *grp, struct iommufd_ctx *ctx)
{
	int32_t fd;
	int r;

	if (!grp || !ctx)
		return FAIL(ctx, EINVAL, "grp or ctx is NULL");
	if (ctx->be != grp->be)
		return FAIL(ctx, EINVAL, "group %s and the context are on different backends", grp->path);
	r = grp_check(grp, __func__);
	if (r)
		return r;
	r = ifd_ctx_check(ctx, __func__);
	if (r)
		return r;
	fd = ctx->fd;
	pthread_mutex_lock(&grp->lock);
	r = be_ioctl(grp->be, grp->fd, KABI_VFIO_GROUP_SET_CONTAINER, &fd);
	if (r < 0) {
		r = FAIL(ctx, r, "group %s: VFIO_GROUP_SET_CONTAINER(iommufd fd %d)%s", grp->path, fd,
			 r == -EINVAL && grp->noiommu ? ": the group already has a container or context, or the context has a compat IOAS (a no-IOMMU group joins only a context that expects no translation)" :
			 r == -EINVAL ? ": the group already has a container or context, or the context is no-iommu" :
			 r == -EPERM && grp->noiommu ? ": a no-IOMMU group needs CAP_SYS_RAWIO, and a container of no-IOMMU groups only" :
			 r == -EPERM ? ": the group is not viable, or its IOMMU cannot join this container" : "");
		pthread_mutex_unlock(&grp->lock);
		return r;
	}
	if (ctx->t1) {
		/* the container needs its IOMMU driver once a group is in it */
		r = ifd_t1_group_joined(ctx, __func__, grp->path, grp->noiommu);
		if (r < 0) {
			be_ioctl(grp->be, grp->fd, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL);
			pthread_mutex_unlock(&grp->lock);
			return r;
		}
	}
	iommufd_ctx_unref(grp->ctx);
	grp->ctx = iommufd_ctx_ref(ctx);
	pthread_mutex_unlock(&grp->lock);
	return 0;
}

IOMMUFD_EXPORT int iommufd_group_unset_ctx(struct iommufd_group *grp)
{
	int r;

	if (!grp)
		return FAIL(NULL, EINVAL, "grp is NULL");
	r = grp_check(grp, __func__);
	if (r)
		return r;
	pthread_mutex_lock(&grp->lock);
	r = be_ioctl(grp->be, grp->fd, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL);
	if (r < 0) {
		r = FAIL(grp->ctx, r, "group %s: VFIO_GROUP_UNSET_CONTAINER%s", grp->path,
			 r == -EINVAL ? ": no context is set" : "");
		pthread_mutex_unlock(&grp->lock);
		return r;
	}
	if (grp->ctx && grp->ctx->t1)
		ifd_t1_group_left(grp->ctx);
	grp->ctx = iommufd_ctx_unref(grp->ctx);
	pthread_mutex_unlock(&grp->lock);
	return 0;
}

IOMMUFD_EXPORT int iommufd_group_get_status(struct iommufd_group *grp, uint32_t *flags)
{
	struct kabi_vfio_group_status st = { .argsz = sizeof(st) };
	int r;

	if (!grp || !flags)
		return FAIL(NULL, EINVAL, "grp or flags is NULL");
	r = grp_check(grp, __func__);
	if (r)
		return r;
	r = be_ioctl(grp->be, grp->fd, KABI_VFIO_GROUP_GET_STATUS, &st);
	if (r < 0)
		return FAIL(grp->ctx, r, "group %s: VFIO_GROUP_GET_STATUS", grp->path);
	*flags = st.flags;
	return 0;
}

IOMMUFD_EXPORT int iommufd_group_get_device(struct iommufd_group *grp, const char *name,
					    struct iommufd_device **ret)
{
	struct iommufd_device *dev;
	int fd, r;

	if (!grp || !name || !ret)
		return FAIL(NULL, EINVAL, "grp, name or ret is NULL");
	r = grp_check(grp, __func__);
	if (r)
		return r;
	pthread_mutex_lock(&grp->lock);
	fd = be_ioctl(grp->be, grp->fd, KABI_VFIO_GROUP_GET_DEVICE_FD, (void *)name);
	if (fd < 0) {
		r = FAIL(grp->ctx, fd, "group %s: VFIO_GROUP_GET_DEVICE_FD(%s)%s", grp->path, name,
			 fd == -EINVAL ? ": no context set on the group (iommufd_group_set_ctx)" :
			 fd == -EPERM && grp->noiommu ? ": a no-IOMMU device needs CAP_SYS_RAWIO and a context without a compat IOAS" :
			 fd == -ENODEV ? ": no such device in the group, or the context's compat IOAS is gone" : "");
		pthread_mutex_unlock(&grp->lock);
		return r;
	}
	r = ifd_device_alloc(grp->be, fd, name, &dev);
	if (r < 0) {
		be_close(grp->be, fd);
		r = FAIL(grp->ctx, r, "allocating the device %s", name);
		pthread_mutex_unlock(&grp->lock);
		return r;
	}
	dev->group_path = true;
	dev->ctx = iommufd_ctx_ref(grp->ctx);
	if (grp->noiommu) {
		/* no IOMMU: the kernel binds it to nothing (drivers/vfio/iommufd.c
		 * vfio_df_iommufd_bind() gives no iommufd device), its DMA is
		 * not translated: bound, with no DEVICE ID and nothing attached */
		dev->noiommu = true;
		dev->state = IOMMUFD_DEVICE_BOUND;
	} else {
		/* bound by the kernel to the group's context and attached to its compat IOAS */
		dev->state = IOMMUFD_DEVICE_ATTACHED;
		if (grp->ctx && grp->ctx->t1)
			dev->pt_id = IFD_T1_HWPT_ID; /* the container's domain */
	}
	pthread_mutex_unlock(&grp->lock);
	*ret = dev;
	return 0;
}
