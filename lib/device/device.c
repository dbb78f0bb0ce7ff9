// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VFIO device files: parked -> bound -> attached, mirrored from the kernel.
 *
 * The rule of this file: every transition is asked of the kernel, whatever
 * the recorded state says (the kernel is the judge; a bind on a bound file or
 * an attach on a parked one gets the kernel's own errno), and the recorded
 * state changes only on the kernel's success. The recorded state is only
 * used to explain a refusal in the reason string.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "device-private.h"
#include "shared/bdf.h"
#include "type1/type1.h"

enum dev_op { OP_BIND, OP_ATTACH, OP_DETACH, OP_PASID, OP_OTHER };

/* why the kernel refused op on dev (called with dev->lock held) */
static const char *dev_why(const struct iommufd_device *dev, enum dev_op op, int err)
{
	if (err < 0)
		err = -err;
	if (dev->noiommu && (op == OP_ATTACH || op == OP_DETACH || op == OP_PASID) && err == ENOTTY)
		return "a no-IOMMU device: its DMA is not translated, there is no IOAS or HWPT to attach it to";
	if (dev->group_path) {
		if (op == OP_BIND && err == EINVAL)
			return "the device was obtained through its VFIO group, so it is already bound";
		if ((op == OP_ATTACH || op == OP_DETACH || op == OP_PASID) && err == ENOTTY)
			return "attach/detach are cdev-only calls: a group-path device stays on its group's IOAS";
	}
	if (dev->t1 && op == OP_DETACH && err == EOPNOTSUPP)
		return "type1 mode: a device's DMA follows its group's container until the device is closed (unref); there is no detached state";
	if (dev->t1 && op == OP_PASID && err == EOPNOTSUPP)
		return "type1 mode: a VFIO container has no PASID attach";
	if (dev->state == IOMMUFD_DEVICE_PARKED && op != OP_BIND && err == EINVAL)
		return "device is parked: bind it to a context first";
	switch (op) {
	case OP_BIND:
		switch (err) {
		case EINVAL:
			if (dev->state != IOMMUFD_DEVICE_PARKED)
				return "this device file is already bound";
			return "the device is already open through another file (a bound cdev file or a group-path file)";
		case EBUSY:
			return "the device's VFIO group file is open: the group path owns it";
		case EPERM:
			return "DMA ownership conflict (the group is owned by another iommufd or a VFIO container) or no interrupt remapping";
		case EACCES:
			return "VF token missing or wrong";
		case EBADF:
		case EBADFD:
			return "the context's fd is not an iommufd";
		case ENODEV:
			return "the device has no IOMMU group or is going away";
		}
		break;
	case OP_ATTACH:
	case OP_PASID:
		switch (err) {
		case ENOENT:
			return "no object with that ID in the context";
		case EINVAL:
			return "the object is not an IOAS or HWPT, or its domain is incompatible with the device (or its group)";
		case EADDRINUSE:
			return "the device's reserved regions clash with mappings or allowed ranges of the IOAS";
		case EOPNOTSUPP:
			return "the driver does not support PASID attach";
		case EBUSY:
			return "already attached";
		}
		break;
	case OP_DETACH:
		if (err == EOPNOTSUPP)
			return "the driver does not support PASID detach";
		break;
	case OP_OTHER:
		break;
	}
	return "the kernel refused";
}

/*
 * dev->ctx and dev->state change under dev->lock (bind, attach, detach):
 * a failure reported outside the lock reads them through this snapshot.
 */
static struct iommufd_ctx *dev_ctx(struct iommufd_device *dev)
{
	struct iommufd_ctx *ctx;

	pthread_mutex_lock(&dev->lock);
	ctx = dev->ctx;
	pthread_mutex_unlock(&dev->lock);
	return ctx;
}

/*
 * A failure of op on dev, reported on ctx with the device's state and the
 * reason; the caller holds dev->lock.
 */
static int dev_vfail_locked(struct iommufd_device *dev, const struct iommufd_ctx *ctx,
			    const char *func, enum dev_op op, int err, const char *fmt, va_list ap)
{
	char what[256];

	vsnprintf(what, sizeof(what), fmt, ap);
	return ifd_fail(ctx, func, err, "%s (%s): %s: %s", dev->name,
			iommufd_device_state_name(dev->state), what, dev_why(dev, op, err));
}

static int _printf_(6, 7) dev_fail_locked(struct iommufd_device *dev, const struct iommufd_ctx *ctx,
					  const char *func, enum dev_op op, int err,
					  const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = dev_vfail_locked(dev, ctx, func, op, err, fmt, ap);
	va_end(ap);
	return r;
}

/* the same on the device's own context, taking dev->lock */
static int _printf_(5, 6) dev_fail(struct iommufd_device *dev, const char *func, enum dev_op op,
				   int err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	pthread_mutex_lock(&dev->lock);
	r = dev_vfail_locked(dev, dev->ctx, func, op, err, fmt, ap);
	pthread_mutex_unlock(&dev->lock);
	va_end(ap);
	return r;
}
#define DEV_FAIL(dev, op, err, ...) dev_fail((dev), __func__, (op), (err), __VA_ARGS__)

/* forget the region info cache (a new bind: the kernel answers again); caller holds the lock */
static void regions_reset(struct iommufd_device *dev)
{
	for (unsigned int i = 0; i < DEV_REGION_CACHE; i++)
		free(dev->regions[i].areas);
	memset(dev->regions, 0, sizeof(dev->regions));
}

static int dev_check(struct iommufd_device *dev, const char *func)
{
	return ifd_owner_check(dev->pid, dev_ctx(dev), func, "device", dev->name);
}

IOMMUFD_EXPORT const char *iommufd_device_state_name(enum iommufd_device_state state)
{
	switch (state) {
	case IOMMUFD_DEVICE_PARKED:
		return "parked";
	case IOMMUFD_DEVICE_BOUND:
		return "bound";
	case IOMMUFD_DEVICE_ATTACHED:
		return "attached";
	}
	return "unknown";
}

static bool fd_id_get(struct iommufd_backend *be, int fd, dev_t *dev, dev_t *rdev, ino_t *ino)
{
	struct stat st;

	if (be_fstat(be, fd, &st) < 0)
		return false;
	*dev = st.st_dev;
	*rdev = st.st_rdev;
	*ino = st.st_ino;
	return true;
}

/* does dev->fd still hold the file the handle took? */
static bool fd_is_still(const struct iommufd_device *dev)
{
	dev_t d, rd;
	ino_t ino;

	if (!dev->fd_id_valid)
		return true;
	return fd_id_get(dev->be, dev->fd, &d, &rd, &ino) && d == dev->fd_dev &&
	       rd == dev->fd_rdev && ino == dev->fd_ino;
}

int ifd_device_alloc(struct iommufd_backend *be, int fd, const char *name, struct iommufd_device **ret)
{
	struct iommufd_device *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return -ENOMEM;
	dev->refcount = 1;
	dev->pid = ifd_getpid();
	dev->be = be_ref(be);
	dev->fd = fd;
	dev->fd_id_valid = fd >= 0 && fd_id_get(be, fd, &dev->fd_dev, &dev->fd_rdev, &dev->fd_ino);
	dev->state = IOMMUFD_DEVICE_PARKED;
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	pthread_mutex_init(&dev->lock, NULL);
	*ret = dev;
	return 0;
}

/* a short name for messages: the last path component */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int ifd_scope_backend(struct iommufd_ctx *ctx, const char *func, struct iommufd_backend **be)
{
	int r;

	if (!ctx)
		return ifd_fail(NULL, func, EINVAL, "ctx is NULL");
	r = ifd_ctx_check(ctx, func);
	if (r)
		return r;
	*be = ctx->be;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_open(struct iommufd_ctx *ctx, const char *cdev_path,
				       struct iommufd_device **ret)
{
	struct iommufd_backend *be = NULL;
	int fd, r;

	r = ifd_scope_backend(ctx, __func__, &be);
	if (r)
		return r;
	if (!cdev_path || !ret)
		return FAIL(ctx, EINVAL, "cdev_path or ret is NULL");
	if (ctx->t1)
		return FAIL(ctx, EOPNOTSUPP,
			    "%s: a type1-mode context drives devices through their VFIO groups: open them with iommufd_device_open_pci() or iommufd_group_get_device()",
			    cdev_path);
	fd = be_open(be, cdev_path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return FAIL(NULL, fd, "open %s", cdev_path);
	r = ifd_device_alloc(be, fd, base_name(cdev_path), ret);
	if (r < 0) {
		be_close(be, fd);
		return FAIL(NULL, r, "allocating the device for %s", cdev_path);
	}
	return 0;
}

/*
 * A VFIO device file, told by the kernel's answers
 * (drivers/vfio/vfio_main.c vfio_device_fops_unl_ioctl,
 * drivers/vfio/device_cdev.c): VFIO_DEVICE_BIND_IOMMUFD reads its argsz
 * first, so a NULL argument is EFAULT on every device file (and ENOTTY, or a
 * driver's EINVAL, on any other file); on a parked file every other command
 * is EINVAL, on one bound or opened through its group VFIO_DEVICE_GET_INFO
 * answers.
 */
int ifd_vfio_fd_bound(struct iommufd_backend *be, const struct iommufd_ctx *ctx, const char *func, int fd)
{
	struct kabi_vfio_device_info info = { .argsz = sizeof(info) };
	int r;

	r = be_ioctl(be, fd, KABI_VFIO_DEVICE_BIND_IOMMUFD, NULL);
	if (r != -EFAULT)
		return ifd_fail(ctx, func, ENOTTY, "fd %d is not a VFIO device file (VFIO_DEVICE_BIND_IOMMUFD: %s)",
				fd, r < 0 ? strerror(-r) : "succeeded with no argument");
	r = be_ioctl(be, fd, KABI_VFIO_DEVICE_GET_INFO, &info);
	if (r == 0)
		return 1;
	if (r == -EINVAL)
		return 0;
	return ifd_fail(ctx, func, -r, "fd %d: VFIO_DEVICE_GET_INFO", fd);
}

IOMMUFD_EXPORT int iommufd_device_new_from_fd(struct iommufd_ctx *ctx, int fd,
					      struct iommufd_device **ret)
{
	struct iommufd_backend *be = NULL;
	struct stat st;
	char name[32];
	int r;

	r = ifd_scope_backend(ctx, __func__, &be);
	if (r)
		return r;
	if (!ret)
		return FAIL(ctx, EINVAL, "ret is NULL");
	if (fd < 0)
		return FAIL(ctx, EBADF, "fd %d", fd);
	r = be_fstat(be, fd, &st);
	if (r < 0)
		return FAIL(ctx, -r, "fd %d: %s", fd, r == -EBADF ? "not an open file" : strerror(-r));
	if (ctx->t1)
		return FAIL(ctx, EOPNOTSUPP,
			    "fd %d: a type1-mode context cannot adopt a device file (the state of its group is not visible): open the device in its scope",
			    fd);
	r = ifd_vfio_fd_bound(be, ctx, __func__, fd);
	if (r < 0)
		return r;
	if (r == 1)
		return FAIL(ctx, EBUSY,
			    "fd %d is a VFIO device file already bound to an iommufd or opened through "
			    "its group: only a parked device file can be adopted", fd);
	snprintf(name, sizeof(name), "fd %d", fd);
	r = ifd_device_alloc(be, fd, name, ret);
	if (r < 0)
		return FAIL(NULL, r, "allocating the device for fd %d", fd);
	return 0;
}

/*
 * The caller's PCI address in the kernel's spelling, the name of its sysfs
 * directory (lib/shared/bdf.h: exactly DDDD:BB:DD.F), or -EINVAL and why.
 */
static int bdf_canonical(const char *user_bdf, char bdf[IFD_BDF_LEN])
{
	struct ifd_bdf b;
	const char *why;

	if (ifd_bdf_parse(user_bdf, &b, &why))
		return FAIL(NULL, EINVAL, "\"%.64s\" is not a PCI address like 0000:00:02.0: %s",
			    user_bdf, why);
	ifd_bdf_format(&b, bdf);
	return 0;
}

/* sysfs is at its root for messages; the backend is asked by relative path */
#define SYSFS_SHOWN "/sys"

/* read a small sysfs file into buf, without the trailing newline */
static int read_sysfs(struct iommufd_backend *be, const char *rel, char *buf, size_t len)
{
	ssize_t n = be_sysfs_read(be, rel, buf, len - 1);

	if (n < 0)
		return (int)n;
	buf[n] = 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

/* sysfs_list callback: stop at the first entry */
static int any_entry(void *data, const char *name)
{
	(void)data;
	(void)name;
	return 1;
}

/* sysfs_list callback: the one vfioN entry of vfio-dev/ into data (64 bytes) */
static int vfio_entry(void *data, const char *name)
{
	unsigned int n;
	char tail;

	if (sscanf(name, "vfio%u%c", &n, &tail) != 1)
		return 0;
	snprintf(data, 64, "vfio%u", n);
	return 1;
}

/*
 * The IOMMU group of bdf from sysfs (bus/pci/devices/<bdf>/iommu_group ->
 * .../<N>): 0 and *group, or -errno with the reason recorded under func.
 */
static int pci_group(struct iommufd_backend *be, const char *func, const char *bdf, int *group)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *s;
	char *end;
	ssize_t n;
	long v;

	snprintf(path, sizeof(path), "bus/pci/devices/%s/iommu_group", bdf);
	n = be_sysfs_readlink(be, path, target, sizeof(target) - 1);
	if (n < 0)
		return ifd_fail(NULL, func, ENODEV, "%s/%s: %s (no such device, or no IOMMU group)",
				SYSFS_SHOWN, path, strerror((int)-n));
	target[n] = 0;
	s = base_name(target);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > INT_MAX)
		return ifd_fail(NULL, func, ENODEV, "%s/%s points to %s, not a group number", SYSFS_SHOWN,
				path, target);
	*group = (int)v;
	return 0;
}

/*
 * open_pci on a type1 context: the device has no file until it joins the
 * container (bind); it is parked with its IOMMU group known.
 */
static int open_pci_t1(struct iommufd_ctx *ctx, struct iommufd_backend *be, const char *bdf,
		       struct iommufd_device **ret)
{
	static const char *const func = "iommufd_device_open_pci";
	char path[PATH_MAX], drv[PATH_MAX];
	int group = -1, r;
	ssize_t n;

	r = pci_group(be, func, bdf, &group);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "bus/pci/devices/%s/driver", bdf);
	n = be_sysfs_readlink(be, path, drv, sizeof(drv) - 1);
	if (n < 0)
		return ifd_fail(ctx, func, ENODEV, "PCI device %s is bound to no driver: bind it to vfio-pci",
				bdf);
	drv[n] = 0;
	if (!strstr(base_name(drv), "vfio"))
		return ifd_fail(ctx, func, ENODEV, "PCI device %s is bound to %s, not to a VFIO driver", bdf,
				base_name(drv));
	r = ifd_device_alloc(be, -1, bdf, ret);
	if (r < 0)
		return ifd_fail(NULL, func, r, "allocating the device for %s", bdf);
	(*ret)->t1 = true;
	(*ret)->group_nr = group;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_open_pci(struct iommufd_ctx *ctx, const char *user_bdf,
					   struct iommufd_device **ret)
{
	struct iommufd_backend *be = NULL;
	char bdf[IFD_BDF_LEN];
	char devdir[PATH_MAX - 256], path[PATH_MAX], node[PATH_MAX], buf[64], vfio_name[64] = "";
	unsigned int major_nr, minor_nr;
	struct stat st;
	int fd, r;

	r = ifd_scope_backend(ctx, __func__, &be);
	if (r)
		return r;
	if (!user_bdf || !ret)
		return FAIL(NULL, EINVAL, "bdf or ret is NULL");
	r = bdf_canonical(user_bdf, bdf);
	if (r)
		return r;

	/* devdir and path: relative to the sysfs root */
	r = snprintf(devdir, sizeof(devdir), "bus/pci/devices/%s", bdf);
	if (r < 0 || (size_t)r >= sizeof(devdir))
		return FAIL(NULL, ENAMETOOLONG, "sysfs root %s", SYSFS_SHOWN);
	r = be_sysfs_list(be, devdir, any_entry, NULL);
	if (r < 0)
		return FAIL(NULL, ENODEV, "no PCI device %s (%s/%s: %s)", bdf, SYSFS_SHOWN, devdir,
			    strerror(-r));
	if (ctx->t1)
		return open_pci_t1(ctx, be, bdf, ret);
	/*
	 * a no-IOMMU device has no cdev (drivers/vfio/vfio.h vfio_device_add()),
	 * although sysfs lists its vfio-dev/vfioN: only its group reaches it,
	 * /dev/vfio/noiommu-<N>, which the bind opens (bind_noiommu())
	 */
	{
		char target[PATH_MAX];
		ssize_t n;
		int group = -1;

		snprintf(path, sizeof(path), "%s/iommu_group", devdir);
		n = be_sysfs_readlink(be, path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			group = atoi(base_name(target));
		}
		if (n > 0 && ifd_group_is_noiommu(be, group)) {
			r = ifd_device_alloc(be, -1, bdf, ret);
			if (r < 0)
				return FAIL(NULL, r, "allocating the device for %s", bdf);
			(*ret)->noiommu_open = true;
			(*ret)->group_nr = group;
			dbg(ctx, "%s: no-IOMMU group %d, no cdev: the bind opens %s/vfio/noiommu-%d",
			    bdf, group, BE_DEV_ROOT, group);
			return 0;
		}
	}
	snprintf(path, sizeof(path), "%s/vfio-dev", devdir);
	/* the one vfioN entry of vfio-dev/ (none, or no vfio-dev/: no cdev) */
	be_sysfs_list(be, path, vfio_entry, vfio_name);
	if (!vfio_name[0])
		return FAIL(NULL, ENODEV,
			    "PCI device %s has no VFIO cdev (%s/%s/vfioN missing): is it bound to vfio-pci with VFIO_DEVICE_CDEV?",
			    bdf, SYSFS_SHOWN, path);
	snprintf(path, sizeof(path), "%s/vfio-dev/%s/dev", devdir, vfio_name);
	r = read_sysfs(be, path, buf, sizeof(buf));
	if (r < 0)
		return FAIL(NULL, ENODEV, "reading %s/%s: %s", SYSFS_SHOWN, path, strerror(-r));
	if (sscanf(buf, "%u:%u", &major_nr, &minor_nr) != 2)
		return FAIL(NULL, ENODEV, "%s/%s holds \"%s\", not major:minor", SYSFS_SHOWN, path, buf);

	r = snprintf(node, sizeof(node), "%s/vfio/devices/%s", BE_DEV_ROOT, vfio_name);
	if (r < 0 || (size_t)r >= sizeof(node))
		return FAIL(NULL, ENAMETOOLONG, "device root %s", BE_DEV_ROOT);
	fd = be_open(be, node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return FAIL(NULL, fd == -ENOENT ? -ENODEV : fd, "open %s (cdev of %s)", node, bdf);
	r = be_fstat(be, fd, &st);
	if (r < 0) {
		be_close(be, fd);
		return FAIL(NULL, r, "fstat %s", node);
	}
	if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != major_nr || minor(st.st_rdev) != minor_nr) {
		be_close(be, fd);
		return FAIL(NULL, ESTALE,
			    "%s is %s %u:%u but sysfs says %s is %u:%u: a stale or wrong device node", node,
			    S_ISCHR(st.st_mode) ? "char device" : "not a char device",
			    major(st.st_rdev), minor(st.st_rdev), vfio_name, major_nr, minor_nr);
	}
	r = ifd_device_alloc(be, fd, bdf, ret);
	if (r < 0) {
		be_close(be, fd);
		return FAIL(NULL, r, "allocating the device for %s", bdf);
	}
	return 0;
}

IOMMUFD_EXPORT int iommufd_pci_get_iommu_group(struct iommufd_ctx *ctx, const char *user_bdf,
					       int *group)
{
	struct iommufd_backend *be = NULL;
	char bdf[IFD_BDF_LEN];
	int r;

	r = ifd_scope_backend(ctx, __func__, &be);
	if (r)
		return r;
	if (!user_bdf || !group)
		return FAIL(NULL, EINVAL, "bdf or group is NULL");
	r = bdf_canonical(user_bdf, bdf);
	if (r)
		return r;
	return pci_group(be, __func__, bdf, group);
}

IOMMUFD_EXPORT struct iommufd_device *iommufd_device_ref(struct iommufd_device *dev)
{
	if (dev)
		__atomic_add_fetch(&dev->refcount, 1, __ATOMIC_RELAXED);
	return dev;
}

IOMMUFD_EXPORT struct iommufd_device *iommufd_device_unref(struct iommufd_device *dev)
{
	if (!dev)
		return NULL;
	if (__atomic_sub_fetch(&dev->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	/* the kernel detaches every pasid, then the RID, and unbinds; a number
	 * that no longer holds the handle's file (closed by its owner, reused
	 * since) is not the handle's to close */
	if (dev->fd >= 0 && fd_is_still(dev))
		be_close(dev->be, dev->fd);
	else if (dev->fd >= 0)
		err(dev->ctx, "%s: fd %d no longer holds the device file (closed by someone else): "
			      "not closed", dev->name, dev->fd);
	/* type1: the group leaves the container with its last device */
	if (dev->t1 && dev->ctx)
		ifd_t1_dev_release(dev->ctx, dev->group_nr, dev->state == IOMMUFD_DEVICE_ATTACHED);
	/* the group of a no-IOMMU device opened by address, after its file */
	iommufd_group_unref(dev->noiommu_grp);
	iommufd_ctx_unref(dev->ctx);
	be_unref(dev->be);
	free(dev->pasids);
	regions_reset(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
	return NULL;
}

IOMMUFD_EXPORT void iommufd_device_unrefp(struct iommufd_device **dev)
{
	if (dev)
		*dev = iommufd_device_unref(*dev);
}

IOMMUFD_EXPORT int iommufd_device_get_fd(const struct iommufd_device *dev)
{
	if (!dev)
		return FAIL(NULL, EINVAL, "dev is NULL");
	return dev->fd;
}

/* ------------------------------------------------------------ transitions */

/* bind in type1 mode: the device's group joins the container, the device gets its file */
static int bind_t1(struct iommufd_device *dev, struct iommufd_ctx *ctx, const uint8_t *token,
		   uint32_t *dev_id)
{
	static const char *const func = "iommufd_device_bind";
	uint32_t id;
	bool noiommu;
	int fd, r;

	if (dev->group_path)
		return ifd_fail(ctx, func, EINVAL,
				"%s: the device was obtained through its VFIO group, so it is already bound (its group is in the container)",
				dev->name);
	if (!dev->t1)
		return ifd_fail(ctx, func, EINVAL,
				"%s: the device was opened through its cdev (or adopted), a type1-mode context takes devices opened in its scope (iommufd_device_open_pci())",
				dev->name);
	if (!ctx->t1)
		return ifd_fail(ctx, func, EINVAL,
				"%s: the device was opened in a type1-mode context; an iommufd-mode context takes cdev devices",
				dev->name);
	pthread_mutex_lock(&dev->lock);
	if (dev->state != IOMMUFD_DEVICE_PARKED) {
		r = ifd_fail(ctx, func, EINVAL, "%s (%s): this device is already bound", dev->name,
			     iommufd_device_state_name(dev->state));
		pthread_mutex_unlock(&dev->lock);
		return r;
	}
	r = ifd_t1_dev_bind(ctx, func, dev->name, dev->group_nr, token, &fd, &id, &noiommu);
	if (r < 0) {
		pthread_mutex_unlock(&dev->lock);
		return r;
	}
	dev->noiommu = noiommu;
	dev->fd = fd;
	dev->fd_id_valid = fd_id_get(dev->be, fd, &dev->fd_dev, &dev->fd_rdev, &dev->fd_ino);
	dev->ctx = iommufd_ctx_ref(ctx);
	dev->dev_id = id;
	dev->pt_id = 0;
	dev->state = IOMMUFD_DEVICE_BOUND;
	regions_reset(dev);
	dbg(ctx, "%s joined container fd %d with group %d: device fd %d", dev->name, ctx->fd,
	    dev->group_nr, fd);
	pthread_mutex_unlock(&dev->lock);
	if (dev_id)
		*dev_id = id;
	return 0;
}

/*
 * bind in iommufd mode of a device of a no-IOMMU group opened by address: its
 * group joins ctx (SET_CONTAINER: the context turns no-IOMMU) and gives the
 * device's file (GET_DEVICE_FD, with the token as "vf_token="); the kernel
 * binds it to nothing (drivers/vfio/iommufd.c vfio_df_iommufd_bind()): no
 * DEVICE ID, no attach, DMA not translated. The group handle is kept while
 * the device is: the device file holds the group's (vfio_df_group_open()).
 */
static int bind_noiommu(struct iommufd_device *dev, struct iommufd_ctx *ctx, const uint8_t *token,
			uint32_t *dev_id)
{
	static const char *const func = "iommufd_device_bind";
	struct iommufd_group *grp = NULL;
	char name[128];
	int fd, r;

	pthread_mutex_lock(&dev->lock);
	if (dev->state != IOMMUFD_DEVICE_PARKED) {
		r = ifd_fail(ctx, func, EINVAL, "%s (%s): this device is already bound", dev->name,
			     iommufd_device_state_name(dev->state));
		pthread_mutex_unlock(&dev->lock);
		return r;
	}
	r = iommufd_group_open(ctx, dev->group_nr, &grp);
	if (r == 0)
		r = iommufd_group_set_ctx(grp, ctx);
	if (r) {
		/* the group call's reason, under this function's name */
		r = ifd_fail(ctx, func, -r, "%s: no-IOMMU group %d: %s", dev->name, dev->group_nr,
			     iommufd_last_error());
		iommufd_group_unref(grp);
		pthread_mutex_unlock(&dev->lock);
		return r;
	}
	if (token)
		snprintf(name, sizeof(name),
			 "%s vf_token=%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 dev->name, token[0], token[1], token[2], token[3], token[4], token[5], token[6],
			 token[7], token[8], token[9], token[10], token[11], token[12], token[13], token[14],
			 token[15]);
	else
		snprintf(name, sizeof(name), "%s", dev->name);
	fd = be_ioctl(grp->be, grp->fd, KABI_VFIO_GROUP_GET_DEVICE_FD, name);
	if (fd < 0) {
		r = ifd_fail(ctx, func, -fd, "%s: VFIO_GROUP_GET_DEVICE_FD on %s%s", dev->name, grp->path,
			     fd == -EPERM ? ": a no-IOMMU device needs CAP_SYS_RAWIO and a context "
					    "without a compat IOAS" :
			     fd == -EACCES ? ": VF token missing or wrong" : "");
		iommufd_group_unref(grp);
		pthread_mutex_unlock(&dev->lock);
		return r;
	}
	dev->fd = fd;
	dev->fd_id_valid = fd_id_get(dev->be, fd, &dev->fd_dev, &dev->fd_rdev, &dev->fd_ino);
	dev->noiommu_grp = grp;
	dev->group_path = true;
	dev->noiommu = true;
	dev->ctx = iommufd_ctx_ref(ctx);
	dev->dev_id = 0;
	dev->pt_id = 0;
	dev->state = IOMMUFD_DEVICE_BOUND;
	regions_reset(dev);
	dbg(ctx, "%s: device fd %d from no-IOMMU group %s: DMA not translated", dev->name, fd,
	    grp->path);
	pthread_mutex_unlock(&dev->lock);
	if (dev_id)
		*dev_id = 0;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_bind(struct iommufd_device *dev, struct iommufd_ctx *ctx,
				       const uint8_t *token, uint32_t *dev_id)
{
	struct kabi_vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	int r;

	if (!dev || !ctx)
		return FAIL(ctx, EINVAL, "dev or ctx is NULL");
	if (ctx->be != dev->be)
		return FAIL(ctx, EINVAL, "device %s and the context are on different backends", dev->name);
	r = dev_check(dev, __func__);
	if (r)
		return r;
	r = ifd_ctx_check(ctx, __func__);
	if (r)
		return r;
	if (dev->t1 || ctx->t1)
		return bind_t1(dev, ctx, token, dev_id);
	if (dev->noiommu_open)
		return bind_noiommu(dev, ctx, token, dev_id);
	bind.iommufd = ctx->fd;
	if (token) {
		bind.flags |= KABI_VFIO_DEVICE_BIND_FLAG_TOKEN;
		bind.token_uuid_ptr = (uintptr_t)token;
	}
	pthread_mutex_lock(&dev->lock);
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (r < 0) {
		/* report on the context being bound to */
		r = dev_fail_locked(dev, ctx, __func__, OP_BIND, r, "bind to iommufd fd %d%s", ctx->fd,
				    token ? " with a VF token" : "");
		pthread_mutex_unlock(&dev->lock);
		return r;
	}
	iommufd_ctx_unref(dev->ctx); /* a stale one, if the kernel bound a file we thought bound */
	dev->ctx = iommufd_ctx_ref(ctx);
	dev->dev_id = bind.out_devid;
	dev->pt_id = 0;
	dev->nr_pasids = 0;
	dev->state = IOMMUFD_DEVICE_BOUND;
	regions_reset(dev);
	dbg(ctx, "%s bound to fd %d: dev_id %u", dev->name, ctx->fd, bind.out_devid);
	pthread_mutex_unlock(&dev->lock);
	if (dev_id)
		*dev_id = bind.out_devid;
	return 0;
}

static int pasid_find(const struct iommufd_device *dev, uint32_t pasid, size_t *pos)
{
	size_t i;

	for (i = 0; i < dev->nr_pasids && dev->pasids[i].pasid < pasid; i++)
		;
	*pos = i;
	return i < dev->nr_pasids && dev->pasids[i].pasid == pasid;
}

/* record pasid -> hwpt (hwpt 0: remove); called with the lock held */
static int pasid_set(struct iommufd_device *dev, uint32_t pasid, uint32_t hwpt)
{
	size_t i;

	if (pasid_find(dev, pasid, &i)) {
		if (hwpt) {
			dev->pasids[i].hwpt_id = hwpt;
		} else {
			memmove(&dev->pasids[i], &dev->pasids[i + 1],
				(dev->nr_pasids - i - 1) * sizeof(dev->pasids[0]));
			dev->nr_pasids--;
		}
		return 0;
	}
	if (!hwpt)
		return 0;
	struct dev_pasid *n = realloc(dev->pasids, (dev->nr_pasids + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	dev->pasids = n;
	memmove(&n[i + 1], &n[i], (dev->nr_pasids - i) * sizeof(*n));
	n[i].pasid = pasid;
	n[i].hwpt_id = hwpt;
	dev->nr_pasids++;
	return 0;
}

/* attach in type1 mode: the device is in the container since bind; the HWPT is its domain */
static int attach_t1(struct iommufd_device *dev, bool use_pasid, uint32_t pt_id, uint32_t *hwpt_id,
		     const char *func)
{
	uint32_t hwpt;
	int r;

	pthread_mutex_lock(&dev->lock);
	if (dev->state == IOMMUFD_DEVICE_PARKED) {
		r = dev_fail_locked(dev, dev->ctx, func, use_pasid ? OP_PASID : OP_ATTACH, EINVAL,
				    "attach to %u", pt_id);
	} else if (dev->noiommu) {
		/* its file answers ATTACH_IOMMUFD_PT as every group-path file does */
		r = dev_fail_locked(dev, dev->ctx, func, use_pasid ? OP_PASID : OP_ATTACH, ENOTTY,
				    "attach to %u", pt_id);
	} else if (use_pasid) {
		r = dev_fail_locked(dev, dev->ctx, func, OP_PASID, EOPNOTSUPP, "attach of a pasid to %u",
				    pt_id);
	} else {
		r = ifd_t1_dev_attach(dev->ctx, func, dev->name, pt_id,
				      dev->state == IOMMUFD_DEVICE_ATTACHED, &hwpt);
		if (r == 0) {
			dev->state = IOMMUFD_DEVICE_ATTACHED;
			dev->pt_id = hwpt;
			if (hwpt_id)
				*hwpt_id = hwpt;
		}
	}
	pthread_mutex_unlock(&dev->lock);
	return r;
}

static int dev_attach(struct iommufd_device *dev, bool use_pasid, uint32_t pasid, uint32_t pt_id,
		      uint32_t *hwpt_id, const char *func)
{
	struct kabi_vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.flags = use_pasid ? KABI_VFIO_DEVICE_ATTACH_PASID : 0,
		.pt_id = pt_id,
		.pasid = use_pasid ? pasid : 0,
	};
	int r;

	if (!dev)
		return ifd_fail(NULL, func, EINVAL, "dev is NULL");
	r = dev_check(dev, func);
	if (r)
		return r;
	if (dev->t1)
		return attach_t1(dev, use_pasid, pt_id, hwpt_id, func);
	pthread_mutex_lock(&dev->lock);
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
	if (r < 0) {
		if (use_pasid)
			r = dev_fail_locked(dev, dev->ctx, func, OP_PASID, r,
					    "attach of pasid %u to %u", pasid, pt_id);
		else
			r = dev_fail_locked(dev, dev->ctx, func, OP_ATTACH, r, "attach to %u", pt_id);
		pthread_mutex_unlock(&dev->lock);
		return r;
	}
	if (use_pasid) {
		r = pasid_set(dev, pasid, at.pt_id);
		if (r < 0) {
			/* the kernel attached it: a record we cannot keep would lie; undo */
			struct kabi_vfio_device_detach_iommufd_pt de = {
				.argsz = sizeof(de),
				.flags = KABI_VFIO_DEVICE_DETACH_PASID,
				.pasid = pasid,
			};
			dev_ioctl(dev, KABI_VFIO_DEVICE_DETACH_IOMMUFD_PT, &de);
			r = ifd_fail(dev->ctx, func, r, "%s: recording pasid %u", dev->name, pasid);
			pthread_mutex_unlock(&dev->lock);
			return r;
		}
	} else {
		dev->pt_id = at.pt_id;
		dev->state = IOMMUFD_DEVICE_ATTACHED;
	}
	dbg(dev->ctx, "%s attached (pasid %s%u) to %u: hwpt %u", dev->name, use_pasid ? "" : "none ",
	    pasid, pt_id, at.pt_id);
	pthread_mutex_unlock(&dev->lock);
	if (hwpt_id)
		*hwpt_id = at.pt_id;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_attach(struct iommufd_device *dev, uint32_t pt_id, uint32_t *hwpt_id)
{
	return dev_attach(dev, false, 0, pt_id, hwpt_id, __func__);
}

IOMMUFD_EXPORT int iommufd_device_pasid_attach(struct iommufd_device *dev, uint32_t pasid,
					       uint32_t pt_id, uint32_t *hwpt_id)
{
	return dev_attach(dev, true, pasid, pt_id, hwpt_id, __func__);
}

static int dev_detach(struct iommufd_device *dev, bool use_pasid, uint32_t pasid, const char *func)
{
	struct kabi_vfio_device_detach_iommufd_pt de = {
		.argsz = sizeof(de),
		.flags = use_pasid ? KABI_VFIO_DEVICE_DETACH_PASID : 0,
		.pasid = use_pasid ? pasid : 0,
	};
	int r;

	if (!dev)
		return ifd_fail(NULL, func, EINVAL, "dev is NULL");
	r = dev_check(dev, func);
	if (r)
		return r;
	pthread_mutex_lock(&dev->lock);
	if (dev->t1 && dev->state != IOMMUFD_DEVICE_PARKED)
		/* bound and not attached: a no-op, as the kernel's; else no way back */
		r = use_pasid || dev->state == IOMMUFD_DEVICE_ATTACHED ? -EOPNOTSUPP : 0;
	else
		r = dev_ioctl(dev, KABI_VFIO_DEVICE_DETACH_IOMMUFD_PT, &de);
	if (r < 0) {
		if (use_pasid)
			r = dev_fail_locked(dev, dev->ctx, func, OP_DETACH, r, "detach of pasid %u",
					    pasid);
		else
			r = dev_fail_locked(dev, dev->ctx, func, OP_DETACH, r, "detach");
		pthread_mutex_unlock(&dev->lock);
		return r;
	}
	if (use_pasid) {
		pasid_set(dev, pasid, 0); /* removal never allocates */
	} else if (dev->state == IOMMUFD_DEVICE_ATTACHED) {
		dev->state = IOMMUFD_DEVICE_BOUND;
		dev->pt_id = 0;
	}
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_detach(struct iommufd_device *dev)
{
	return dev_detach(dev, false, 0, __func__);
}

IOMMUFD_EXPORT int iommufd_device_pasid_detach(struct iommufd_device *dev, uint32_t pasid)
{
	return dev_detach(dev, true, pasid, __func__);
}

/* ------------------------------------------------------------ queries */

/*
 * The getters take a const device (they change nothing the caller can see);
 * the lock that makes their reads consistent is the one mutable part.
 */
static pthread_mutex_t *dev_lock(const struct iommufd_device *dev)
{
	return (pthread_mutex_t *)&dev->lock;
}

IOMMUFD_EXPORT enum iommufd_device_state iommufd_device_get_state(const struct iommufd_device *dev)
{
	enum iommufd_device_state s;

	if (!dev)
		return IOMMUFD_DEVICE_PARKED;
	pthread_mutex_lock(dev_lock(dev));
	s = dev->state;
	pthread_mutex_unlock(dev_lock(dev));
	return s;
}

IOMMUFD_EXPORT uint32_t iommufd_device_get_dev_id(const struct iommufd_device *dev)
{
	uint32_t id;

	if (!dev)
		return 0;
	pthread_mutex_lock(dev_lock(dev));
	id = dev->dev_id;
	pthread_mutex_unlock(dev_lock(dev));
	return id;
}

IOMMUFD_EXPORT uint32_t iommufd_device_get_pt_id(const struct iommufd_device *dev)
{
	uint32_t id;

	if (!dev)
		return 0;
	pthread_mutex_lock(dev_lock(dev));
	id = dev->pt_id;
	pthread_mutex_unlock(dev_lock(dev));
	return id;
}

IOMMUFD_EXPORT uint32_t iommufd_device_get_pasid_pt_id(const struct iommufd_device *dev, uint32_t pasid)
{
	uint32_t id = 0;
	size_t i;

	if (!dev)
		return 0;
	pthread_mutex_lock(dev_lock(dev));
	if (pasid_find(dev, pasid, &i))
		id = dev->pasids[i].hwpt_id;
	pthread_mutex_unlock(dev_lock(dev));
	return id;
}

IOMMUFD_EXPORT int iommufd_device_get_pasids(const struct iommufd_device *dev, uint32_t **pasids, size_t *nr)
{
	uint32_t *a = NULL;

	if (!dev || !pasids || !nr)
		return FAIL(NULL, EINVAL, "dev, pasids or nr is NULL");
	pthread_mutex_lock(dev_lock(dev));
	if (dev->nr_pasids) {
		a = malloc(dev->nr_pasids * sizeof(*a));
		if (!a) {
			pthread_mutex_unlock(dev_lock(dev));
			return FAIL(dev->ctx, ENOMEM, "%s: copying %zu pasids", dev->name, dev->nr_pasids);
		}
		for (size_t i = 0; i < dev->nr_pasids; i++)
			a[i] = dev->pasids[i].pasid;
	}
	*nr = dev->nr_pasids;
	*pasids = a;
	pthread_mutex_unlock(dev_lock(dev));
	return 0;
}

IOMMUFD_EXPORT struct iommufd_ctx *iommufd_device_get_ctx(const struct iommufd_device *dev)
{
	struct iommufd_ctx *ctx;

	if (!dev)
		return NULL;
	pthread_mutex_lock(dev_lock(dev));
	ctx = dev->ctx;
	pthread_mutex_unlock(dev_lock(dev));
	return ctx;
}

IOMMUFD_EXPORT bool iommufd_device_is_group_path(const struct iommufd_device *dev)
{
	return dev && dev->group_path;
}

/* ------------------------------------------------------------ iommufd commands on the device */

/*
 * The context (a new reference: unref it) and DEVICE ID of a bound device,
 * for the iommufd commands that name a device: -EINVAL with a reason when
 * the device is parked or its ID is unknown (group path).
 */
static int dev_bound(struct iommufd_device *dev, const char *func, struct iommufd_ctx **ctx,
		     uint32_t *dev_id)
{
	int r;

	if (!dev)
		return ifd_fail(NULL, func, EINVAL, "dev is NULL");
	r = dev_check(dev, func);
	if (r)
		return r;
	pthread_mutex_lock(&dev->lock);
	if (!dev->ctx || !dev->dev_id) {
		r = ifd_fail(dev->ctx, func, EINVAL, "%s (%s): %s", dev->name,
			     iommufd_device_state_name(dev->state),
			     dev->group_path ?
			     "a device obtained through its VFIO group has no known DEVICE ID: use the (ctx, dev_id) call with an ID from elsewhere" :
			     "the device is not bound: bind it to a context first");
		pthread_mutex_unlock(&dev->lock);
		return r;
	}
	*ctx = iommufd_ctx_ref(dev->ctx);
	*dev_id = dev->dev_id;
	pthread_mutex_unlock(&dev->lock);
	r = ifd_ctx_check(*ctx, func);
	if (r)
		*ctx = iommufd_ctx_unref(*ctx);
	return r;
}

IOMMUFD_EXPORT int iommufd_device_get_hw_info(struct iommufd_device *dev, uint32_t type,
					      struct iommufd_hw_info *info)
{
	struct iommufd_ctx *ctx = NULL;
	uint32_t dev_id = 0;
	int r = dev_bound(dev, __func__, &ctx, &dev_id);

	if (r)
		return r;
	r = ifd_get_hw_info(ctx, __func__, dev_id, type, info);
	iommufd_ctx_unref(ctx);
	return r;
}

IOMMUFD_EXPORT int iommufd_device_hwpt_alloc(struct iommufd_device *dev, uint32_t pt_id,
					     const struct iommufd_hwpt_alloc_opts *opts,
					     uint32_t *hwpt_id)
{
	struct iommufd_ctx *ctx = NULL;
	uint32_t dev_id = 0;
	int r = dev_bound(dev, __func__, &ctx, &dev_id);

	if (r)
		return r;
	r = ifd_hwpt_alloc(ctx, __func__, dev_id, pt_id, opts, hwpt_id);
	iommufd_ctx_unref(ctx);
	return r;
}

IOMMUFD_EXPORT int iommufd_device_viommu_alloc(struct iommufd_device *dev, uint32_t hwpt_id,
					       uint32_t type,
					       const struct iommufd_viommu_alloc_opts *opts,
					       uint32_t *viommu_id)
{
	struct iommufd_ctx *ctx = NULL;
	uint32_t dev_id = 0;
	int r = dev_bound(dev, __func__, &ctx, &dev_id);

	if (r)
		return r;
	r = ifd_viommu_alloc(ctx, __func__, dev_id, hwpt_id, type, opts, viommu_id);
	iommufd_ctx_unref(ctx);
	return r;
}

/* ------------------------------------------------------------ userspace driver helpers */

IOMMUFD_EXPORT int iommufd_device_get_info(struct iommufd_device *dev, struct iommufd_device_info *info)
{
	struct kabi_vfio_device_info ki = { .argsz = sizeof(ki) };
	struct iommufd_device_info out;
	int r;

	if (!dev || !info)
		return FAIL(NULL, EINVAL, "dev or info is NULL");
	r = ifd_ext_copy_in(&out, sizeof(out), info, sizeof(size_t));
	if (r)
		return FAIL(dev_ctx(dev), r, "info->sz %zu", info->sz);
	r = dev_check(dev, __func__);
	if (r)
		return r;
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_GET_INFO, &ki);
	if (r < 0)
		return DEV_FAIL(dev, OP_OTHER, r, "VFIO_DEVICE_GET_INFO");
	out.flags = ki.flags | (dev->noiommu ? IOMMUFD_DEVICE_INFO_NOIOMMU : 0);
	out.num_regions = ki.num_regions;
	out.num_irqs = ki.num_irqs;
	ifd_ext_copy_out(info, &out, sizeof(out));
	return 0;
}

/* region info from the cache or the kernel */
static int region_get(struct iommufd_device *dev, uint32_t index, uint32_t *flags, uint64_t *size,
		      uint64_t *offset)
{
	struct kabi_vfio_region_info ri = { .argsz = sizeof(ri), .index = index };
	int r;

	pthread_mutex_lock(&dev->lock);
	if (index < DEV_REGION_CACHE && dev->regions[index].valid) {
		*flags = dev->regions[index].flags;
		*size = dev->regions[index].size;
		*offset = dev->regions[index].offset;
		pthread_mutex_unlock(&dev->lock);
		return 0;
	}
	pthread_mutex_unlock(&dev->lock);
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_GET_REGION_INFO, &ri);
	if (r < 0)
		return r;
	pthread_mutex_lock(&dev->lock);
	if (index < DEV_REGION_CACHE) {
		dev->regions[index].valid = true;
		dev->regions[index].flags = ri.flags;
		dev->regions[index].size = ri.size;
		dev->regions[index].offset = ri.offset;
	}
	pthread_mutex_unlock(&dev->lock);
	*flags = ri.flags;
	*size = ri.size;
	*offset = ri.offset;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_get_region_info(struct iommufd_device *dev, uint32_t index,
						  struct iommufd_region_info *info)
{
	struct iommufd_region_info out;
	int r;

	if (!dev || !info)
		return FAIL(NULL, EINVAL, "dev or info is NULL");
	r = ifd_ext_copy_in(&out, sizeof(out), info, sizeof(size_t));
	if (r)
		return FAIL(dev_ctx(dev), r, "info->sz %zu", info->sz);
	r = dev_check(dev, __func__);
	if (r)
		return r;
	r = region_get(dev, index, &out.flags, &out.size, &out.offset);
	if (r < 0)
		return DEV_FAIL(dev, OP_OTHER, r, "VFIO_DEVICE_GET_REGION_INFO(%u)", index);
	ifd_ext_copy_out(info, &out, sizeof(out));
	return 0;
}

static ssize_t region_rw(struct iommufd_device *dev, uint32_t index, uint64_t off, void *buf,
			 size_t len, bool write, const char *func)
{
	uint64_t size, offset;
	uint32_t flags;
	ssize_t n;
	int r;

	if (!dev || (!buf && len))
		return ifd_fail(NULL, func, EINVAL, "dev or buf is NULL");
	r = dev_check(dev, func);
	if (r)
		return r;
	r = region_get(dev, index, &flags, &size, &offset);
	if (r < 0)
		return dev_fail(dev, func, OP_OTHER, r, "region %u info", index);
	if (off > INT64_MAX - offset || len > INT64_MAX - offset - off)
		return ifd_fail(dev_ctx(dev), func, EOVERFLOW, "%s: region %u offset %#" PRIx64 " + %zu",
				dev->name, index, off, len);
	if (write)
		n = dev_pwrite(dev, buf, len, (off_t)(offset + off));
	else
		n = dev_pread(dev, buf, len, (off_t)(offset + off));
	if (write && n > 0 && index == KABI_VFIO_PCI_CONFIG_REGION_INDEX)
		dev_dmabuf_config_write(dev, off, buf, (size_t)n);
	if (n < 0)
		return ifd_fail(dev_ctx(dev), func, (int)n, "%s: %s %zu bytes at %#" PRIx64 " of region %u",
				dev->name, write ? "pwrite" : "pread", len, off, index);
	return n;
}

IOMMUFD_EXPORT ssize_t iommufd_device_region_read(struct iommufd_device *dev, uint32_t index,
						  uint64_t off, void *buf, size_t len)
{
	return region_rw(dev, index, off, buf, len, false, __func__);
}

IOMMUFD_EXPORT ssize_t iommufd_device_region_write(struct iommufd_device *dev, uint32_t index,
						   uint64_t off, const void *buf, size_t len)
{
	return region_rw(dev, index, off, (void *)buf, len, true, __func__);
}

/*
 * The sparse mmap areas of region index, decoded from its capability chain:
 * *sparse false when the region has none, or has MSI-X mappable as well
 * (the whole region may be mapped). *areas is malloc'ed (NULL when none).
 */
static int region_areas_get(struct iommufd_device *dev, uint32_t index, bool *sparse,
			    struct iommufd_region_area **areas, uint32_t *nr_areas)
{
	struct iommufd_region_caps caps = { .sz = sizeof(caps) };
	struct iommufd_region_area *a = NULL;
	int r;

	*sparse = false;
	*areas = NULL;
	*nr_areas = 0;
	for (unsigned int tries = 0; tries < 4; tries++) {
		r = iommufd_device_get_region_caps(dev, index, &caps);
		if (r < 0) {
			free(a);
			return r;
		}
		if (!(caps.caps & IOMMUFD_REGION_CAP_SPARSE_MMAP) ||
		    (caps.caps & IOMMUFD_REGION_CAP_MSIX_MAPPABLE)) {
			free(a);
			return 0;
		}
		if (caps.areas && caps.nr_areas <= caps.max_areas) {
			*sparse = true;
			*areas = a;
			*nr_areas = caps.nr_areas;
			return 0;
		}
		/* ask again with room for the areas (the chain may change between calls) */
		free(a);
		a = calloc(caps.nr_areas ? caps.nr_areas : 1, sizeof(*a));
		if (!a)
			return FAIL(dev_ctx(dev), ENOMEM, "%s: %u sparse mmap areas of region %u",
				    dev->name, caps.nr_areas, index);
		caps.areas = a;
		caps.max_areas = caps.nr_areas ? caps.nr_areas : 1;
	}
	free(a);
	return FAIL(dev_ctx(dev), EAGAIN, "%s: the sparse mmap areas of region %u keep changing",
		    dev->name, index);
}

/*
 * A region with sparse mmap areas and no MSI-X mappable: the mapping must
 * lie inside one area (the rest, e.g. the MSI-X table, is not the user's
 * to map). The areas are cached with the region info until the next bind.
 */
static int region_mmap_check(struct iommufd_device *dev, uint32_t index, uint64_t off, size_t len,
			     const char *func)
{
	struct iommufd_region_area *areas = NULL;
	uint32_t nr = 0;
	bool sparse = false, cached = false;
	char list[256];
	size_t used = 0;
	int r = 0;

	pthread_mutex_lock(&dev->lock);
	if (index < DEV_REGION_CACHE && dev->regions[index].caps_valid) {
		cached = true;
		sparse = dev->regions[index].sparse;
		nr = dev->regions[index].nr_areas;
		areas = dev->regions[index].areas;
	}
	if (cached) {
		for (uint32_t i = 0; sparse && i < nr; i++)
			if (off >= areas[i].offset && off - areas[i].offset <= areas[i].size &&
			    len <= areas[i].size - (off - areas[i].offset)) {
				sparse = false; /* inside area i */
				break;
			}
		if (sparse) {
			list[0] = 0;
			for (uint32_t i = 0; i < nr && used < sizeof(list) - 1; i++) {
				int n = snprintf(list + used, sizeof(list) - used, "%s[%#" PRIx64 ", +%#" PRIx64 ")",
						 i ? " " : "", areas[i].offset, areas[i].size);

				used = n < 0 ? used : used + (size_t)n;
			}
		}
		pthread_mutex_unlock(&dev->lock);
		if (!sparse)
			return 0;
		return ifd_fail(dev_ctx(dev), func, EINVAL,
				"%s: [%#" PRIx64 ", +%#zx) of region %u is not inside one of its sparse mmap areas: %s",
				dev->name, off, len, index, nr ? list : "none");
	}
	pthread_mutex_unlock(&dev->lock);
	r = region_areas_get(dev, index, &sparse, &areas, &nr);
	if (r < 0)
		return r;
	pthread_mutex_lock(&dev->lock);
	if (index < DEV_REGION_CACHE && !dev->regions[index].caps_valid) {
		dev->regions[index].caps_valid = true;
		dev->regions[index].sparse = sparse;
		dev->regions[index].nr_areas = nr;
		dev->regions[index].areas = areas;
		areas = NULL;
		pthread_mutex_unlock(&dev->lock);
		return region_mmap_check(dev, index, off, len, func);
	}
	pthread_mutex_unlock(&dev->lock);
	/* not cacheable (a high index, or a racing caller cached it): check this answer */
	for (uint32_t i = 0; sparse && i < nr; i++)
		if (off >= areas[i].offset && off - areas[i].offset <= areas[i].size &&
		    len <= areas[i].size - (off - areas[i].offset))
			sparse = false;
	free(areas);
	if (sparse)
		return ifd_fail(dev_ctx(dev), func, EINVAL,
				"%s: [%#" PRIx64 ", +%#zx) of region %u is not inside one of its %u sparse mmap areas",
				dev->name, off, len, index, nr);
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_region_mmap(struct iommufd_device *dev, uint32_t index, uint64_t off,
					      size_t len, int prot, void **addr)
{
	uint64_t size, offset, page, plen, psize;
	uint32_t flags;
	int r;

	if (!dev || !addr || !len)
		return FAIL(NULL, EINVAL, "dev or addr is NULL, or len is 0");
	if (prot & ~(PROT_READ | PROT_WRITE))
		return FAIL(dev_ctx(dev), EINVAL,
			    "%s: prot %#x of region %u: only PROT_READ and PROT_WRITE", dev->name,
			    (unsigned int)prot, index);
	r = dev_check(dev, __func__);
	if (r)
		return r;
	r = region_get(dev, index, &flags, &size, &offset);
	if (r < 0)
		return DEV_FAIL(dev, OP_OTHER, r, "region %u info", index);
	if (off > INT64_MAX - offset)
		return FAIL(dev_ctx(dev), EOVERFLOW, "%s: region %u offset %#" PRIx64, dev->name, index, off);
	/* vfio-pci's own rule: the whole pages mapped must lie in the page-rounded region */
	page = (uint64_t)sysconf(_SC_PAGESIZE);
	plen = ((uint64_t)len + page - 1) & ~(page - 1);
	psize = size > UINT64_MAX - page ? size : (size + page - 1) & ~(page - 1);
	if (plen < len || off > psize || plen > psize - off)
		return FAIL(dev_ctx(dev), EINVAL,
			    "%s: [%#" PRIx64 ", +%#zx) is past the end of region %u (size %#"
			    PRIx64 ")", dev->name, off, len, index, size);
	if (flags & KABI_VFIO_REGION_INFO_FLAG_CAPS) {
		r = region_mmap_check(dev, index, off, len, __func__);
		if (r < 0)
			return r;
	}
	r = dev_mmap(dev, (off_t)(offset + off), len, prot, MAP_SHARED, addr);
	if (r < 0)
		return FAIL(dev_ctx(dev), r, "%s: mmap %zu bytes at %#" PRIx64 " of region %u%s", dev->name,
			    len, off, index,
			    (flags & KABI_VFIO_REGION_INFO_FLAG_MMAP) ? "" : " (the region is not mmap-able)");
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_region_munmap(struct iommufd_device *dev, void *addr, size_t len)
{
	int r;

	if (!dev || !addr || !len)
		return FAIL(NULL, EINVAL, "dev or addr is NULL, or len is 0");
	r = dev_check(dev, __func__);
	if (r)
		return r;
	r = be_munmap(dev->be, addr, len);
	if (r < 0)
		return FAIL(dev_ctx(dev), r, "%s: munmap %p + %zu", dev->name, addr, len);
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_config_read(struct iommufd_device *dev, uint32_t off, size_t width,
					      uint32_t *val)
{
	uint8_t b[4] = { 0 };
	ssize_t n;

	if (!dev || !val || (width != 1 && width != 2 && width != 4))
		return FAIL(NULL, EINVAL, "dev or val is NULL, or width %zu is not 1, 2 or 4", width);
	n = region_rw(dev, KABI_VFIO_PCI_CONFIG_REGION_INDEX, off, b, width, false, __func__);
	if (n < 0)
		return (int)n;
	if ((size_t)n != width)
		return FAIL(dev_ctx(dev), EIO, "%s: short config read at %#x (%zd of %zu)", dev->name, off,
			    n, width);
	*val = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_config_write(struct iommufd_device *dev, uint32_t off, size_t width,
					       uint32_t val)
{
	uint8_t b[4] = { val, val >> 8, val >> 16, val >> 24 };
	ssize_t n;

	if (!dev || (width != 1 && width != 2 && width != 4))
		return FAIL(NULL, EINVAL, "dev is NULL, or width %zu is not 1, 2 or 4", width);
	n = region_rw(dev, KABI_VFIO_PCI_CONFIG_REGION_INDEX, off, b, width, true, __func__);
	if (n < 0)
		return (int)n;
	if ((size_t)n != width)
		return FAIL(dev_ctx(dev), EIO, "%s: short config write at %#x (%zd of %zu)", dev->name, off,
			    n, width);
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_reset(struct iommufd_device *dev)
{
	int r;

	if (!dev)
		return FAIL(NULL, EINVAL, "dev is NULL");
	r = dev_check(dev, __func__);
	if (r)
		return r;
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_RESET, NULL);
	dev_dmabuf_revoke(dev); /* even a failed reset revokes (vfio_pci_core.c) */
	if (r < 0)
		return DEV_FAIL(dev, OP_OTHER, r, "VFIO_DEVICE_RESET");
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_get_irq_info(struct iommufd_device *dev, uint32_t index,
					       struct iommufd_irq_info *info)
{
	struct kabi_vfio_irq_info ki = { .argsz = sizeof(ki), .index = index };
	struct iommufd_irq_info out;
	int r;

	if (!dev || !info)
		return FAIL(NULL, EINVAL, "dev or info is NULL");
	r = ifd_ext_copy_in(&out, sizeof(out), info, sizeof(size_t));
	if (r)
		return FAIL(dev_ctx(dev), r, "info->sz %zu", info->sz);
	r = dev_check(dev, __func__);
	if (r)
		return r;
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_GET_IRQ_INFO, &ki);
	if (r < 0)
		return DEV_FAIL(dev, OP_OTHER, r, "VFIO_DEVICE_GET_IRQ_INFO(%u)", index);
	out.flags = ki.flags;
	out.count = ki.count;
	ifd_ext_copy_out(info, &out, sizeof(out));
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_set_irqs(struct iommufd_device *dev, uint32_t index, uint32_t start,
					   const int *eventfds, uint32_t count)
{
	struct kabi_vfio_irq_set *set;
	size_t sz;
	int r;

	if (!dev || (!eventfds && count))
		return FAIL(NULL, EINVAL, "dev or eventfds is NULL");
	if (count > 65536)
		return FAIL(dev_ctx(dev), EINVAL, "%s: %u vectors", dev->name, count);
	r = dev_check(dev, __func__);
	if (r)
		return r;
	sz = sizeof(*set) + (size_t)count * sizeof(int32_t);
	set = calloc(1, sz);
	if (!set)
		return FAIL(dev_ctx(dev), ENOMEM, "%s: %u vectors", dev->name, count);
	set->argsz = (uint32_t)sz;
	set->flags = KABI_VFIO_IRQ_SET_DATA_EVENTFD | KABI_VFIO_IRQ_SET_ACTION_TRIGGER;
	set->index = index;
	set->start = start;
	set->count = count;
	for (uint32_t i = 0; i < count; i++) {
		int32_t v = eventfds[i];
		memcpy(set->data + i * sizeof(v), &v, sizeof(v));
	}
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_SET_IRQS, set);
	free(set);
	if (r < 0)
		return DEV_FAIL(dev, OP_OTHER, r, "VFIO_DEVICE_SET_IRQS(index %u, start %u, count %u)",
				index, start, count);
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_disable_irqs(struct iommufd_device *dev, uint32_t index)
{
	struct kabi_vfio_irq_set set = {
		.argsz = sizeof(set),
		.flags = KABI_VFIO_IRQ_SET_DATA_NONE | KABI_VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
	};
	int r;

	if (!dev)
		return FAIL(NULL, EINVAL, "dev is NULL");
	r = dev_check(dev, __func__);
	if (r)
		return r;
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_SET_IRQS, &set);
	if (r < 0)
		return DEV_FAIL(dev, OP_OTHER, r, "disable irq index %u", index);
	return 0;
}
