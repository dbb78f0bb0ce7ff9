// SPDX-License-Identifier: LGPL-2.1-or-later
/* The real kernel below the boundary: plain system calls. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
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

/* "/sys/<rel>" into path; -ENAMETOOLONG if it does not fit */
static int sysfs_path(const char *rel, char *path, size_t len)
{
	int n;

	if (!rel)
		return -EFAULT;
	n = snprintf(path, len, "/sys/%s", rel);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static ssize_t k_sysfs_write(struct iommufd_backend *be, const char *rel, const char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, r;

	(void)be;
	r = sysfs_path(rel, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : 0;
	close(fd);
	return r < 0 ? r : n;
}

static ssize_t k_sysfs_read(struct iommufd_backend *be, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	size_t got = 0;
	int fd, r;

	(void)be;
	r = sysfs_path(rel, path, sizeof(path));
	if (r < 0)
		return r;
	/* an attribute is a file of its directory: never a link to elsewhere */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -errno;
	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (ssize_t)got;
}

static ssize_t k_sysfs_readlink(struct iommufd_backend *be, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int r;

	(void)be;
	r = sysfs_path(rel, path, sizeof(path));
	if (r < 0)
		return r;
	n = readlink(path, buf, len);
	return n < 0 ? -errno : n;
}

static int k_sysfs_list(struct iommufd_backend *be, const char *rel,
			int (*fn)(void *data, const char *name), void *data)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int fd, r;

	(void)be;
	r = sysfs_path(rel, path, sizeof(path));
	if (r < 0)
		return r;
	/* the last component may be a link (bus/pci/devices/<bdf> is one) */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		r = -errno;
		close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			r = errno ? -errno : 0;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = fn(data, de->d_name);
		if (r)
			break;
	}
	closedir(dir);
	return r;
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
	.sysfs_read = k_sysfs_read,
	.sysfs_readlink = k_sysfs_readlink,
	.sysfs_list = k_sysfs_list,
	.sysfs_write = k_sysfs_write,
	.ref = k_ref,
	.unref = k_unref,
};

static struct iommufd_backend kernel_backend = { .abi = IFD_BACKEND_ABI, .ops = &kernel_ops };

struct iommufd_backend *ifd_backend_kernel(void)
{
	return &kernel_backend;
}
