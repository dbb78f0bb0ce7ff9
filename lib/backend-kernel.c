// SPDX-License-Identifier: LGPL-2.1-or-later
/* The real kernel below the boundary: plain system calls. */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "private.h"

static int k_open(struct iommufd_backend *be, const char *path, int flags)
{
	(void)be;
	int fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int k_close(struct iommufd_backend *be, int fd)
{
	(void)be;
	/* Linux always releases the fd, even on EINTR: never retry */
	return close(fd) < 0 && errno != EINTR ? -errno : 0;
}

static int k_ioctl(struct iommufd_backend *be, int fd, unsigned long request, void *arg)
{
	(void)be;
	int r = ioctl(fd, request, arg);
	return r < 0 ? -errno : r;
}

static ssize_t k_read(struct iommufd_backend *be, int fd, void *buf, size_t len)
{
	(void)be;
	ssize_t r = read(fd, buf, len);
	return r < 0 ? -errno : r;
}

static ssize_t k_write(struct iommufd_backend *be, int fd, const void *buf, size_t len)
{
	(void)be;
	ssize_t r = write(fd, buf, len);
	return r < 0 ? -errno : r;
}

static ssize_t k_pread(struct iommufd_backend *be, int fd, void *buf, size_t len, off_t off)
{
	(void)be;
	ssize_t r = pread(fd, buf, len, off);
	return r < 0 ? -errno : r;
}

static ssize_t k_pwrite(struct iommufd_backend *be, int fd, const void *buf, size_t len, off_t off)
{
	(void)be;
	ssize_t r = pwrite(fd, buf, len, off);
	return r < 0 ? -errno : r;
}

static int k_mmap(struct iommufd_backend *be, int fd, off_t off, size_t len, int prot, int flags,
		  void **addr)
{
	(void)be;
	void *p = mmap(NULL, len, prot, flags, fd, off);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

static int k_munmap(struct iommufd_backend *be, void *addr, size_t len)
{
	(void)be;
	return munmap(addr, len) < 0 ? -errno : 0;
}

static int k_fstat(struct iommufd_backend *be, int fd, struct stat *st)
{
	(void)be;
	return fstat(fd, st) < 0 ? -errno : 0;
}

static int k_dup(struct iommufd_backend *be, int fd)
{
	(void)be;
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return r < 0 ? -errno : r;
}

static const char *k_sysfs_root(struct iommufd_backend *be)
{
	(void)be;
	return "/sys";
}

static const char *k_dev_root(struct iommufd_backend *be)
{
	(void)be;
	return "/dev";
}

/* the kernel backend is static: nothing to count */
static void k_ref(struct iommufd_backend *be)
{
	(void)be;
}

static void k_unref(struct iommufd_backend *be)
{
	(void)be;
}

static const struct backend_ops kernel_ops = {
	.open = k_open,
	.close = k_close,
	.ioctl = k_ioctl,
	.read = k_read,
	.write = k_write,
	.pread = k_pread,
	.pwrite = k_pwrite,
	.mmap = k_mmap,
	.munmap = k_munmap,
	.fstat = k_fstat,
	.dup = k_dup,
	.sysfs_root = k_sysfs_root,
	.dev_root = k_dev_root,
	.ref = k_ref,
	.unref = k_unref,
};

static struct iommufd_backend kernel_backend = { .abi = IFD_BACKEND_ABI, .ops = &kernel_ops };

struct iommufd_backend *ifd_backend_kernel(void)
{
	return &kernel_backend;
}
