/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel boundary. Everything above it (the lib/ sources) issues the same requests
 * whichever backend answers: the real kernel (backend-kernel.c: plain system
 * calls) or the emulator (lib/emu/). Every op returns >= 0 on success and a
 * negative errno on failure; none of them touches errno-as-output.
 *
 * Private header: never installed.
 */
#ifndef IOMMUFD_BACKEND_H
#define IOMMUFD_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct iommufd_backend;

/* where the device nodes are, whichever backend answers their open() */
#define BE_DEV_ROOT "/dev"

struct backend_ops {
	/* open(2) of a device node: /dev/iommu, /dev/vfio/devices/vfioN, /dev/vfio/N */
	int (*open)(struct iommufd_backend *be, const char *path, int flags);
	int (*close)(struct iommufd_backend *be, int fd);
	/* ioctl(2): returns the ioctl's non-negative result or -errno */
	int (*ioctl)(struct iommufd_backend *be, int fd, unsigned long request, void *arg);
	ssize_t (*read)(struct iommufd_backend *be, int fd, void *buf, size_t len);
	ssize_t (*write)(struct iommufd_backend *be, int fd, const void *buf, size_t len);
	ssize_t (*pread)(struct iommufd_backend *be, int fd, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(struct iommufd_backend *be, int fd, const void *buf, size_t len, off_t off);
	/* mmap(2) of fd at off; *addr gets the mapping */
	int (*mmap)(struct iommufd_backend *be, int fd, off_t off, size_t len, int prot, int flags,
		    void **addr);
	int (*munmap)(struct iommufd_backend *be, void *addr, size_t len);
	int (*fstat)(struct iommufd_backend *be, int fd, struct stat *st);
	/* fcntl(F_DUPFD_CLOEXEC) */
	int (*dup)(struct iommufd_backend *be, int fd);
	/*
	 * sysfs, by a path relative to its root (no leading '/', e.g.
	 * "bus/pci/devices/0000:00:02.0/vendor"); symlinks in the path are
	 * followed, but for the last component of sysfs_readlink. The kernel's
	 * is /sys; the emulator's a view of its devices, in memory.
	 *  - sysfs_read: the first len bytes of a file (no NUL added): bytes read;
	 *  - sysfs_readlink: like readlink(2) (no NUL added, truncated to len);
	 *  - sysfs_list: fn(data, name) for each entry of a directory but . and ..;
	 *    a non-zero return of fn stops the walk and is returned; 0 at the end.
	 * All return -errno on failure. Device nodes are under /dev for both.
	 */
	ssize_t (*sysfs_read)(struct iommufd_backend *be, const char *rel, char *buf, size_t len);
	ssize_t (*sysfs_readlink)(struct iommufd_backend *be, const char *rel, char *buf, size_t len);
	int (*sysfs_list)(struct iommufd_backend *be, const char *rel,
			  int (*fn)(void *data, const char *name), void *data);
	/*
	 * sysfs_write: write len bytes to an attribute in one write(2) (the
	 * kernel's store functions take a whole value): bytes written, or the
	 * store's -errno (sriov_numvfs: ERANGE, EBUSY, ENOENT...).
	 */
	ssize_t (*sysfs_write)(struct iommufd_backend *be, const char *rel, const char *buf, size_t len);
	/*
	 * Lifetime: every handle that keeps be (context, device, group) takes a
	 * reference when it is made and drops it after its last be_* call, so
	 * a backend with a lifetime of its own (the emulator) lives until its
	 * last handle is gone. NULL (a static backend, as the kernel's): no-op.
	 */
	void (*ref)(struct iommufd_backend *be);
	void (*unref)(struct iommufd_backend *be);
};

/*
 * The ops are an interface between two libraries built from this tree
 * (libiommufd and the emulator library), not a public ABI: a backend says
 * which layout it was built with, and libiommufd refuses (-EPROTO) a backend
 * of another one rather than calling through a wrong table.
 */
#define IFD_BACKEND_ABI ((uint32_t)(sizeof(struct backend_ops) << 8 | 1))

struct iommufd_backend {
	uint32_t abi; /* IFD_BACKEND_ABI */
	const struct backend_ops *ops;
};

/* shorthands used by the library */
#define be_open(be, p, f) ((be)->ops->open((be), (p), (f)))
#define be_close(be, fd) ((be)->ops->close((be), (fd)))
#define be_ioctl(be, fd, r, a) ((be)->ops->ioctl((be), (fd), (r), (a)))
#define be_read(be, fd, b, l) ((be)->ops->read((be), (fd), (b), (l)))
#define be_write(be, fd, b, l) ((be)->ops->write((be), (fd), (b), (l)))
#define be_pread(be, fd, b, l, o) ((be)->ops->pread((be), (fd), (b), (l), (o)))
#define be_pwrite(be, fd, b, l, o) ((be)->ops->pwrite((be), (fd), (b), (l), (o)))
#define be_mmap(be, fd, o, l, p, f, a) ((be)->ops->mmap((be), (fd), (o), (l), (p), (f), (a)))
#define be_munmap(be, a, l) ((be)->ops->munmap((be), (a), (l)))
#define be_fstat(be, fd, st) ((be)->ops->fstat((be), (fd), (st)))
#define be_dup(be, fd) ((be)->ops->dup((be), (fd)))
#define be_sysfs_read(be, r, b, l) ((be)->ops->sysfs_read((be), (r), (b), (l)))
#define be_sysfs_readlink(be, r, b, l) ((be)->ops->sysfs_readlink((be), (r), (b), (l)))
#define be_sysfs_list(be, r, fn, d) ((be)->ops->sysfs_list((be), (r), (fn), (d)))
#define be_sysfs_write(be, r, b, l) ((be)->ops->sysfs_write((be), (r), (b), (l)))

static inline struct iommufd_backend *be_ref(struct iommufd_backend *be)
{
	if (be && be->ops->ref)
		be->ops->ref(be);
	return be;
}

static inline void be_unref(struct iommufd_backend *be)
{
	if (be && be->ops->unref)
		be->ops->unref(be);
}

#endif
