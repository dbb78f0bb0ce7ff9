/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the test programs. A test program is written once and runs
 * against the emulated backend (default) or, with IOMMUFD_TEST_REAL=1, the
 * real kernel (the VM suite sets that). Run with CMOCKA_MESSAGE_OUTPUT=TAP to
 * get TAP output (the VM suite does).
 */
#ifndef IOMMUFD_TEST_COMMON_H
#define IOMMUFD_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>

#include "iommufd-emu.h"

/* true when the tests run against the real kernel */
bool test_real_kernel(void);
/*
 * A fresh backend for one test: the kernel, or a new emulator (released by
 * test_backend_put(), with the test's scope context). Each test takes its own
 * so no state leaks between them. For the backend ops (be_*) of tests that
 * reach below the boundary.
 */
struct iommufd_backend *test_backend_get(void); /* NULL: the running kernel */
void test_backend_put(void);
/*
 * The context the current test opens its devices and groups in (their
 * scope: iommufd_device_open_pci() and friends), on the test's backend; made
 * once per test, released by test_backend_put().
 */
struct iommufd_ctx *test_scope(void);
/* open(2) of a device node on the test's backend: an fd or -errno */
int test_open_node(const char *path, int flags);
/* read/write/close/mmap/munmap of an fd of the test's backend (queue fds...): >= 0 or -errno */
ssize_t test_fd_read(int fd, void *buf, size_t len);
ssize_t test_fd_write(int fd, const void *buf, size_t len);
int test_fd_close(int fd);
/* dup(2) of an fd of the test's backend (another number for the same open file): an fd or -errno */
int test_fd_dup(int fd);
int test_fd_mmap(int fd, off_t off, size_t len, int prot, int flags, void **addr);
int test_fd_munmap(void *addr, size_t len);
/*
 * sysfs by its absolute path ("/sys/..."), through the test's backend: the
 * kernel's /sys, or the emulator's view (be_sysfs_*). write: 0 or the
 * store's -errno; read: the first line, without its newline, 0 or -errno;
 * readlink: the target, NUL-terminated, or -errno; exists: lstat()'s view.
 */
int test_sysfs_write(const char *path, const char *s);
int test_sysfs_read(const char *path, char *buf, size_t len);
int test_sysfs_readlink(const char *path, char *buf, size_t len);
bool test_sysfs_exists(const char *path);
/* the emulator of the current test, NULL on the real kernel */
struct iommufd_emu *test_emu(void);
/* open a context on the current test's backend; fails the test on error */
struct iommufd_ctx *test_ctx_new(void);

/* assert that call returns -E (a negative errno) */
#define assert_errno(call, E) assert_int_equal((call), -(E))
#define assert_ok(call) assert_int_equal((call), 0)

#endif
