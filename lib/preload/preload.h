/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internals of libiommufd-preload.so, shared by its files:
 *   preload.c  state, the emulator's lifetime, the hooks of emulated fds
 *   env.c      the environment variables parsed (pure functions, fuzzed)
 *   paths.c    path interposers (open*, fopen*, opendir, stat*, access, readlink)
 *   fork.c     after fork: the child's calls forwarded to the emulator's process
 *   proc.c     /proc fakes: fail-nth knobs, VmPin/VmLck of /proc/<pid>/status
 *   debugfs.c  the debugfs fault-injection knobs
 *   hugetlb.c  the hugetlb stand-in
 */
#ifndef IOMMUFD_PRELOAD_H
#define IOMMUFD_PRELOAD_H

/* define open and open64 (etc.) both, as libc does: no LFS redirection here */
#undef _FILE_OFFSET_BITS
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/memfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "emu/emu.h"
#include "emu/iopt.h"
#include "preload/env.h"

#define EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------ real functions */

/* the next definition of each interposed name (libc's), found at first use */
#define REAL(name)                                                                    \
	(__atomic_load_n(&real_##name, __ATOMIC_RELAXED) ?:                           \
	 (real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)))

int __open_2(const char *path, int flags);
char *__realpath_chk(const char *path, char *resolved, size_t len);
int __open64_2(const char *path, int flags);
int __openat_2(int dfd, const char *path, int flags);
int __openat64_2(int dfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t len, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t len, off64_t off, size_t buflen);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int fcntl64(int fd, int cmd, ...);
int __fxstatat(int ver, int dfd, const char *path, struct stat *st, int flags);
int __fxstatat64(int ver, int dfd, const char *path, struct stat64 *st, int flags);
pid_t fork(void);
int memfd_create(const char *name, unsigned int flags);

#define PRELOAD_REAL_FUNCS(X) \
	X(open) \
	X(open64) \
	X(openat) \
	X(openat64) \
	X(__open_2) \
	X(__open64_2) \
	X(__openat_2) \
	X(__openat64_2) \
	X(close) \
	X(ioctl) \
	X(read) \
	X(write) \
	X(pread) \
	X(pread64) \
	X(pwrite) \
	X(pwrite64) \
	X(__read_chk) \
	X(__pread_chk) \
	X(__pread64_chk) \
	X(mmap) \
	X(munmap) \
	X(fstat) \
	X(fstat64) \
	X(__fxstat) \
	X(__fxstat64) \
	X(stat) \
	X(stat64) \
	X(lstat) \
	X(lstat64) \
	X(__xstat) \
	X(__xstat64) \
	X(__lxstat) \
	X(__lxstat64) \
	X(access) \
	X(readlink) \
	X(dup) \
	X(dup2) \
	X(dup3) \
	X(fcntl) \
	X(fcntl64) \
	X(fopen) \
	X(fopen64) \
	X(opendir) \
	X(closedir) \
	X(fdopendir) \
	X(readdir) \
	X(readdir64) \
	X(dirfd) \
	X(rewinddir) \
	X(seekdir) \
	X(telldir) \
	X(fstatat) \
	X(fstatat64) \
	X(__fxstatat) \
	X(__fxstatat64) \
	X(faccessat) \
	X(statx) \
	X(realpath) \
	X(canonicalize_file_name) \
	X(__realpath_chk) \
	X(readlinkat) \
	X(fork) \
	X(memfd_create) \
	X(close_range) \
	X(closefrom) \
	X(fclose) \
	X(getxattr) \
	X(lgetxattr) \
	X(listxattr) \
	X(llistxattr) \
	X(recvmsg) \
	X(recvmmsg) \

#define REAL_EXTERN(name) extern __typeof__(name) *real_##name;
PRELOAD_REAL_FUNCS(REAL_EXTERN)

/* ------------------------------------------------------------ state (preload.c) */

/* > 0 while this thread runs emulator code: hooks pass straight through */
extern __thread int in_emu __attribute__((tls_model("initial-exec")));

extern pthread_mutex_t g_lock;   /* guards everything below */
extern struct iommufd_emu *g_emu; /* the emulator, made at first use */
extern pid_t g_emu_pid;           /* the process that made it */
extern pid_t g_acct_pid;          /* the process charged with the emulator's pins */
extern bool g_devices;            /* IOMMUFD_EMU_DEVICES configured some devices */

void pdbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* set errno from a backend result (>= 0 or -errno) and return the libc value */
long ret_errno(long r);
/* The emulator, made at first use (called with in_emu raised). NULL: errno set. */
struct iommufd_emu *emu_get(void);
/* IOMMUFD_EMU_CONFIG parsed: 0 and *flags (IOMMUFD_EMU_CONFIG_*), or -EINVAL
 * with the unknown word at *bad (badlen bytes; bad may be NULL) */
int preload_env_config(uint32_t *flags, const char **bad, size_t *badlen);
struct iommufd_backend *be_of(struct iommufd_emu *emu);
/* Does the emulator own fd? (no emulator yet: no) */
struct iommufd_emu *emu_owning(int fd);

/* ------------------------------------------------------------ fork.c */

enum { FWD_IOCTL = 1, FWD_READ, FWD_WRITE, FWD_PREAD, FWD_PWRITE };

bool is_remote(int fd);
void remote_forget(int fd);
/* the same for every number in [lo, hi] */
void remote_forget_range(unsigned int lo, unsigned int hi);
/* in a child: fd (received by SCM_RIGHTS) holds the placeholder of the remote
 * fd of: make it remote too, standing for the emulator's process's number of
 * of; 0, -EINVAL (of is not remote) or -ENFILE (the alias table is full) */
int remote_alias(int fd, int of);
/* in a child: send a call to the emulator's process; false if unreachable */
bool fwd_call(int op, int fd, unsigned long req, uint64_t arg, uint64_t len, int64_t off,
	      int64_t *ret);
/* at exit: stop the fork server */
void fwd_stop(void);

/* ------------------------------------------------------------ proc.c */

bool is_fail_nth(const char *path);
pid_t status_pid(const char *path);
bool is_nth_fd(int fd);
int nth_open(int flags);
void nth_close(int fd);
/* nth_close() of every such fd in [lo, hi] */
void nth_close_range(unsigned int lo, unsigned int hi);
ssize_t nth_read(void *buf, size_t len, off_t off);
ssize_t nth_write(const void *buf, size_t len);
FILE *status_open(const char *path, const char *mode, pid_t pid);

/* ------------------------------------------------------------ debugfs.c */

/* IOMMUFD_PRELOAD_DEBUGFS is not "0" */
bool debugfs_enabled(void);
/* rel: relative to /sys/kernel/debug, normalised ("" the root, no "." or "//") */
int debugfs_lookup(const char *rel, enum emu_sysfs_type *type);
ssize_t debugfs_read(const char *rel, char *buf, size_t len);
int debugfs_list(const char *rel, int (*fn)(void *data, const char *name, enum emu_sysfs_type t),
		 void *data);

/* ------------------------------------------------------------ view.c */

/* a path of the view: sysfs of the emulated devices, or debugfs */
struct fake_node {
	enum emu_sysfs_type type;
	bool debugfs;
	bool dev; /* /dev/vfio or /dev/vfio/devices, the emulator's (type: a directory) */
	char abs[PATH_MAX]; /* the absolute path asked */
	char rel[PATH_MAX]; /* relative to the root of its part of the view */
};

/*
 * path (relative to dfd when not absolute) in the view: 1 (*n filled), 0 when
 * it is the host's, -errno when the view says so (follow: the last link too),
 * FAKE_HOST when path is relative to a directory fd of the view but names
 * the host's entry of a merged directory: n->abs is its absolute path
 */
#define FAKE_HOST 2
/* FAKE_PATH: path is relative to an emulated directory of /dev: n->abs, its
 * absolute path (without "." and ".."), is answered as if it had been asked */
#define FAKE_PATH 3
/* /dev/vfio or /dev/vfio/devices (trailing slashes allowed) */
bool fake_dev_dir(const char *path);
/* abs (absolute) without empty, "." and ".." components, in place */
void fake_abs_norm(char *abs);
int fake_lookup(int dfd, const char *path, bool follow, struct fake_node *n);
int fake_open(const struct fake_node *n, int flags); /* fd or -errno */
void fake_stat(const struct fake_node *n, struct stat *st);
ssize_t fake_readlink(const struct fake_node *n, char *buf, size_t len);
int fake_access(const struct fake_node *n, int mode);
/* fd is a directory fd of the view: *st and true */
bool fake_fstat(int fd, struct stat *st);
bool fake_is_dir_fd(int fd);
/* close() of any fd: forget it if it was an fd of the view */
void fake_fd_closed(int fd);
/* a write to fd, an attribute of the view opened for writing: its store's
 * answer in *ret (-1 and errno, or the bytes) and true; false: not one */
bool fake_attr_write(int fd, const void *buf, size_t len, ssize_t *ret);
/* fd: the host's /dev opened; openat() ... of "iommu", "vfio/..." relative
 * to it are answered as their absolute paths (FAKE_PATH) */
void fake_dev_fd_opened(int fd);
/* r: the result of a dup of old (dup, dup2, dup3, F_DUPFD*): r, standing
 * for what old does if old is an fd of the view (a directory, the host's
 * /dev, a writable attribute); -1 and errno if that fails */
int fake_fd_dup(int old, int r);
/* fake_fd_closed() of every such fd in [lo, hi] */
void fake_fds_closed_range(unsigned int lo, unsigned int hi);
DIR *fake_opendir(const struct fake_node *n, int fd);
DIR *fake_fdopendir(int fd);
/* dir (libc's) was opened: if it is the host's /dev, its listing gets the
 * emulated names the host lacks (and loses what the emulator has not) */
void fake_top_opened(DIR *dir);
/* the DIR ops of the view's DIRs: 0/false/-2 when dir is libc's */
int fake_readdir(DIR *dir, struct dirent **de, struct dirent64 **de64);
int fake_dirfd(DIR *dir);
bool fake_seekdir(DIR *dir, long pos);
long fake_telldir(DIR *dir);
bool fake_closedir(DIR *dir);

/* ------------------------------------------------------------ hugetlb.c */

void *real_mmap_huge(void *addr, size_t len, int prot, int flags, int fd, off_t off);

#endif
