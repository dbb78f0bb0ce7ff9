// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include <fcntl.h>
#include <errno.h>
#include <unistd.h>
#include <sys/mman.h>

#include "shared/backend.h"

static struct iommufd_emu *cur_emu;
static struct iommufd_ctx *cur_scope;

bool test_real_kernel(void)
{
	const char *e = getenv("IOMMUFD_TEST_REAL");
	return e && strcmp(e, "1") == 0;
}

struct iommufd_backend *test_backend_get(void)
{
	if (test_real_kernel())
		return NULL;
	if (!cur_emu) {
		const char *cfg = getenv("IOMMUFD_TEST_EMU_CONFIG");

		assert_int_equal(iommufd_emu_new(&cur_emu), 0);
		/* tests/vm/no-iommufd: a kernel without iommufd */
		if (cfg && strcmp(cfg, "no-iommufd") == 0)
			assert_int_equal(iommufd_emu_set_config(cur_emu, IOMMUFD_EMU_CONFIG_NO_IOMMUFD), 0);
		else if (cfg && *cfg)
			fail_msg("IOMMUFD_TEST_EMU_CONFIG=%s: only no-iommufd is known", cfg);
	}
	return iommufd_emu_get_backend(cur_emu);
}

void test_backend_put(void)
{
	cur_scope = iommufd_ctx_unref(cur_scope);
	cur_emu = iommufd_emu_unref(cur_emu);
}

int test_open_node(const char *path, int flags)
{
	int fd;

	if (!test_real_kernel())
		return be_open(test_backend_get(), path, flags);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* file calls on an fd of the test's backend: the emulator's, or plain system calls */
ssize_t test_fd_read(int fd, void *buf, size_t len)
{
	ssize_t r;

	if (!test_real_kernel())
		return be_read(test_backend_get(), fd, buf, len);
	r = read(fd, buf, len);
	return r < 0 ? -errno : r;
}

ssize_t test_fd_write(int fd, const void *buf, size_t len)
{
	ssize_t r;

	if (!test_real_kernel())
		return be_write(test_backend_get(), fd, buf, len);
	r = write(fd, buf, len);
	return r < 0 ? -errno : r;
}

int test_fd_close(int fd)
{
	if (!test_real_kernel())
		return be_close(test_backend_get(), fd);
	return close(fd) < 0 ? -errno : 0;
}

int test_fd_dup(int fd)
{
	int r;

	if (!test_real_kernel())
		return be_dup(test_backend_get(), fd);
	r = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return r < 0 ? -errno : r;
}

int test_fd_mmap(int fd, off_t off, size_t len, int prot, int flags, void **addr)
{
	void *p;

	if (!test_real_kernel())
		return be_mmap(test_backend_get(), fd, off, len, prot, flags, addr);
	p = mmap(NULL, len, prot, flags, fd, off);
	if (p == MAP_FAILED)
		return -errno;
	*addr = p;
	return 0;
}

int test_fd_munmap(void *addr, size_t len)
{
	if (!test_real_kernel())
		return be_munmap(test_backend_get(), addr, len);
	return munmap(addr, len) < 0 ? -errno : 0;
}

/* "/sys/x" -> "x", the backend's relative spelling */
static const char *sysfs_rel(const char *path)
{
	assert_int_equal(strncmp(path, "/sys/", 5), 0);
	return path + 5;
}

int test_sysfs_write(const char *path, const char *s)
{
	ssize_t n;
	int fd, r = 0;

	if (!test_real_kernel()) {
		n = be_sysfs_write(test_backend_get(), sysfs_rel(path), s, strlen(s));
		return n < 0 ? (int)n : 0;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		r = -errno;
	close(fd);
	return r;
}

int test_sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	assert_true(len > 1);
	if (!test_real_kernel()) {
		n = be_sysfs_read(test_backend_get(), sysfs_rel(path), buf, len - 1);
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = read(fd, buf, len - 1);
		if (n < 0)
			n = -errno;
		close(fd);
	}
	if (n < 0)
		return (int)n;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

int test_sysfs_readlink(const char *path, char *buf, size_t len)
{
	ssize_t n;

	assert_true(len > 1);
	if (!test_real_kernel())
		n = be_sysfs_readlink(test_backend_get(), sysfs_rel(path), buf, len - 1);
	else if ((n = readlink(path, buf, len - 1)) < 0)
		n = -errno;
	if (n < 0)
		return (int)n;
	buf[n] = 0;
	return 0;
}

bool test_sysfs_exists(const char *path)
{
	char buf[8];
	ssize_t n;

	if (test_real_kernel())
		return access(path, F_OK) == 0;
	if (be_sysfs_readlink(test_backend_get(), sysfs_rel(path), buf, sizeof(buf)) >= 0)
		return true;
	n = be_sysfs_read(test_backend_get(), sysfs_rel(path), buf, sizeof(buf));
	return n >= 0 || n == -EISDIR;
}

struct iommufd_ctx *test_scope(void)
{
	if (!cur_scope)
		cur_scope = test_ctx_new();
	return cur_scope;
}

struct iommufd_emu *test_emu(void)
{
	return cur_emu;
}

struct iommufd_ctx *test_ctx_new(void)
{
	struct iommufd_ctx *ctx = NULL;
	IOMMUFD_OPTS(struct iommufd_ctx_opts, opts, .backend = test_backend_get());
	int r;

	if (test_real_kernel())
		opts.backend = NULL; /* what a program does: name no backend */
	r = iommufd_ctx_new_opts(&opts, &ctx);
	if (r)
		fail_msg("iommufd_ctx_new: %s", iommufd_last_error());
	return ctx;
}
