// SPDX-License-Identifier: LGPL-2.1-or-later
/* Path interposers: the emulated nodes of /dev, /proc fakes, sysfs and debugfs. */
#include "preload.h"

/* ------------------------------------------------------------ paths */

static bool is_emulated_node(const char *path)
{
	if (!path)
		return false;
	return strcmp(path, "/dev/iommu") == 0 || strncmp(path, "/dev/vfio/", 10) == 0 ||
	       strcmp(path, "/dev/vfio") == 0;
}

/*
 * IOMMUFD_EMU_CONFIG=no-iommufd: a kernel without CONFIG_IOMMUFD has no
 * /dev/iommu and no /dev/vfio/devices/, whatever the host has: stat, access
 * and opendir say so too (open is the emulator's answer)
 */
static bool absent_node(const char *path)
{
	uint32_t flags;

	if (in_emu || !path || path[0] != '/')
		return false;
	if (strcmp(path, "/dev/iommu") != 0 && strcmp(path, "/dev/vfio/devices") != 0 &&
	    strncmp(path, "/dev/vfio/devices/", 18) != 0)
		return false;
	return preload_env_config(&flags, NULL, NULL) == 0 &&
	       (flags & IOMMUFD_EMU_CONFIG_NO_IOMMUFD);
}

/*
 * path below /dev/vfio with "." or ".." or empty components: into buf
 * without them (the kernel's walk, lexical there: no links), else path
 */
static const char *dev_norm(const char *path, char *buf)
{
	if (!path || strncmp(path, "/dev/vfio", 9) != 0 || (path[9] && path[9] != '/') ||
	    (!strstr(path, "/.") && !strstr(path, "//")) || strlen(path) >= PATH_MAX)
		return path;
	memcpy(buf, path, strlen(path) + 1);
	fake_abs_norm(buf);
	return buf;
}

/* the view's open of path (relative to dfd): true and *ret (libc's value) if the view answers */
static bool view_open(int dfd, const char *path, int flags, int *ret)
{
	struct fake_node n;
	int r;

	if (!in_emu && path && (strcmp(path, "/dev") == 0 || strcmp(path, "/dev/") == 0)) {
		/* the host's /dev, remembered for what is opened relative to it */
		*ret = REAL(openat)(AT_FDCWD, path, flags, 0);
		fake_dev_fd_opened(*ret);
		return true;
	}
	r = fake_lookup(dfd, path, !(flags & O_NOFOLLOW), &n);

	if (r == 0)
		return false;
	if (r == FAKE_HOST) {
		*ret = REAL(openat)(AT_FDCWD, n.abs, flags, 0);
		return true;
	}
	if (r == FAKE_PATH) { /* relative to an emulated /dev directory */
		*ret = openat(AT_FDCWD, n.abs, flags, 0);
		return true;
	}
	if (r > 0)
		r = fake_open(&n, flags);
	*ret = (int)ret_errno(r);
	return true;
}

/* ------------------------------------------------------------ open */

static int emu_open(const char *path, int flags)
{
	struct iommufd_emu *emu;
	int r;

	in_emu++;
	emu = emu_get();
	if (!emu) {
		in_emu--;
		return -1;
	}
	r = be_open(be_of(emu), path, flags);
	in_emu--;
	pdbg("open(%s) = %d", path, r);
	return (int)ret_errno(r);
}

/* common part of the open family: -2 means "not ours" */
static int try_open(const char *path, int flags)
{
	char buf[PATH_MAX];

	if (in_emu || !path)
		return -2;
	if (dev_norm(path, buf) != path) {
		int fd = try_open(buf, flags);

		/* not an emulated node: the directory's or the host's */
		return fd != -2 ? fd : openat(AT_FDCWD, buf, flags, 0);
	}
	if (is_emulated_node(path) && !fake_dev_dir(path)) /* directories: the view's */
		return emu_open(path, flags);
	if (is_fail_nth(path))
		return nth_open(flags);
	return -2;
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | __O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int r = try_open(path, flags);

	if (r != -2 || view_open(AT_FDCWD, path, flags, &r))
		return r;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return REAL(open)(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int r = try_open(path, flags);

	if (r != -2 || view_open(AT_FDCWD, path, flags, &r))
		return r;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return REAL(open64)(path, flags, mode);
}

EXPORT int __open_2(const char *path, int flags)
{
	int r = try_open(path, flags);

	if (r != -2 || view_open(AT_FDCWD, path, flags, &r))
		return r;
	return REAL(__open_2)(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	int r = try_open(path, flags);

	if (r != -2 || view_open(AT_FDCWD, path, flags, &r))
		return r;
	return REAL(__open64_2)(path, flags);
}

EXPORT int openat(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int r = path[0] == '/' ? try_open(path, flags) : -2;

	if (r != -2 || view_open(dfd, path, flags, &r))
		return r;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return REAL(openat)(dfd, path, flags, mode);
}

EXPORT int openat64(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int r = path[0] == '/' ? try_open(path, flags) : -2;

	if (r != -2 || view_open(dfd, path, flags, &r))
		return r;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return REAL(openat64)(dfd, path, flags, mode);
}

EXPORT int __openat_2(int dfd, const char *path, int flags)
{
	int r = path[0] == '/' ? try_open(path, flags) : -2;

	if (r != -2 || view_open(dfd, path, flags, &r))
		return r;
	return REAL(__openat_2)(dfd, path, flags);
}

EXPORT int __openat64_2(int dfd, const char *path, int flags)
{
	int r = path[0] == '/' ? try_open(path, flags) : -2;

	if (r != -2 || view_open(dfd, path, flags, &r))
		return r;
	return REAL(__openat64_2)(dfd, path, flags);
}

static FILE *do_fopen(FILE *(*realfn)(const char *, const char *), const char *path,
		      const char *mode)
{
	struct fake_node n;
	pid_t pid;
	int r;

	if (in_emu || !path || !mode)
		return realfn(path, mode);
	if ((is_emulated_node(path) && !fake_dev_dir(path)) || is_fail_nth(path)) {
		int fl = strchr(mode, '+') ? O_RDWR : mode[0] == 'r' ? O_RDONLY : O_WRONLY;
		int fd = try_open(path, fl | (strchr(mode, 'e') ? O_CLOEXEC : 0));
		FILE *f;

		if (fd < 0)
			return NULL;
		/* stdio's internal read/write are not interposable: unbuffered
		 * is the best available; emulated nodes are ioctl-driven */
		f = fdopen(fd, mode);
		if (!f)
			close(fd);
		return f;
	}
	pid = mode[0] == 'r' && !strchr(mode, '+') ? status_pid(path) : 0;
	if (pid && __atomic_load_n(&g_emu, __ATOMIC_ACQUIRE) && pid == g_acct_pid)
		return status_open(path, mode, pid);
	r = fake_lookup(AT_FDCWD, path, true, &n);
	if (r) {
		int fl = strchr(mode, '+') ? O_RDWR : mode[0] == 'r' ? O_RDONLY : O_WRONLY;
		FILE *f;

		fl |= mode[0] == 'w' ? O_CREAT | O_TRUNC : mode[0] == 'a' ? O_CREAT | O_APPEND : 0;
		fl |= strchr(mode, 'e') ? O_CLOEXEC : 0;
		r = r < 0 ? r : fake_open(&n, fl);
		if (r < 0) {
			errno = -r;
			return NULL;
		}
		f = fdopen(r, mode);
		if (!f)
			REAL(close)(r);
		return f;
	}
	return realfn(path, mode);
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	return do_fopen(REAL(fopen), path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	return do_fopen(REAL(fopen64), path, mode);
}

/* ------------------------------------------------------------ directories */

static bool node_stat(const char *path, struct stat *st, int *r);

EXPORT DIR *opendir(const char *path)
{
	char buf[PATH_MAX];
	struct fake_node n;
	struct stat st;
	DIR *dir;
	int r;

	path = dev_norm(path, buf);
	r = absent_node(path) ? -ENOENT : fake_lookup(AT_FDCWD, path, true, &n);

	/* an emulated node of /dev/vfio that is not a directory of the view */
	if (r == 0 && !fake_dev_dir(path) && node_stat(path, &st, &r)) {
		errno = r < 0 ? -r : ENOTDIR;
		return NULL;
	}
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if (r)
		return fake_opendir(&n, -1);
	dir = REAL(opendir)(path);
	fake_top_opened(dir);
	return dir;
}

EXPORT DIR *fdopendir(int fd)
{
	DIR *dir;

	if (fake_is_dir_fd(fd))
		return fake_fdopendir(fd);
	dir = REAL(fdopendir)(fd);
	fake_top_opened(dir);
	return dir;
}

EXPORT int closedir(DIR *d)
{
	return fake_closedir(d) ? 0 : REAL(closedir)(d);
}

EXPORT struct dirent *readdir(DIR *d)
{
	struct dirent *de;

	return fake_readdir(d, &de, NULL) ? de : REAL(readdir)(d);
}

EXPORT struct dirent64 *readdir64(DIR *d)
{
	struct dirent64 *de;

	return fake_readdir(d, NULL, &de) ? de : REAL(readdir64)(d);
}

EXPORT int dirfd(DIR *d)
{
	int fd = fake_dirfd(d);

	return fd != -2 ? fd : REAL(dirfd)(d);
}

EXPORT void rewinddir(DIR *d)
{
	if (!fake_seekdir(d, 0))
		REAL(rewinddir)(d);
}

EXPORT void seekdir(DIR *d, long pos)
{
	if (!fake_seekdir(d, pos))
		REAL(seekdir)(d, pos);
}

EXPORT long telldir(DIR *d)
{
	long pos = fake_telldir(d);

	return pos != -2 ? pos : REAL(telldir)(d);
}

/* ------------------------------------------------------------ path queries */

/*
 * The emulated nodes of /dev (/dev/iommu, /dev/vfio and what is in it) as
 * the emulator has them: true and *r (0 or -errno) when path is one, so that
 * stat, access and open agree (char devices, with the numbers the emulated
 * sysfs reports; owned by the caller, who may open them)
 */
static bool node_stat(const char *path, struct stat *st, int *r)
{
	struct iommufd_emu *emu;

	if (in_emu || !is_emulated_node(path))
		return false;
	in_emu++;
	emu = emu_get();
	*r = emu ? emu_node_stat(emu, path, st) : -EXDEV;
	in_emu--;
	return *r != -EXDEV;
}

/* the view's stat of path: true and *ret (libc's value) if the view answers */
static bool view_stat(int dfd, const char *path, bool follow, struct stat *st, int *ret)
{
	char buf[PATH_MAX];
	struct fake_node n;
	int r;

	if (dev_norm(path, buf) != path) {
		if (!view_stat(AT_FDCWD, buf, follow, st, ret))
			*ret = follow ? REAL(stat)(buf, st) : REAL(lstat)(buf, st);
		return true;
	}
	if (absent_node(path)) {
		*ret = (int)ret_errno(-ENOENT);
		return true;
	}
	if (path && path[0] == '/' && node_stat(path, st, &r)) {
		*ret = (int)ret_errno(r);
		return true;
	}
	r = fake_lookup(dfd, path, follow, &n);

	if (r == 0)
		return false;
	if (r == FAKE_HOST) {
		*ret = follow ? REAL(stat)(n.abs, st) : REAL(lstat)(n.abs, st);
		return true;
	}
	if (r == FAKE_PATH) {
		if (!view_stat(AT_FDCWD, n.abs, follow, st, ret))
			*ret = follow ? REAL(stat)(n.abs, st) : REAL(lstat)(n.abs, st);
		return true;
	}
	if (r > 0)
		fake_stat(&n, st);
	*ret = (int)ret_errno(r < 0 ? r : 0);
	return true;
}

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64 layout differs");

EXPORT int stat(const char *path, struct stat *st)
{
	int r;

	return view_stat(AT_FDCWD, path, true, st, &r) ? r : REAL(stat)(path, st);
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
	int r;

	return view_stat(AT_FDCWD, path, true, (struct stat *)st, &r) ? r : REAL(stat64)(path, st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
	int r;

	return view_stat(AT_FDCWD, path, false, st, &r) ? r : REAL(lstat)(path, st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
	int r;

	return view_stat(AT_FDCWD, path, false, (struct stat *)st, &r) ? r :
									   REAL(lstat64)(path, st);
}

EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	int r;

	return view_stat(AT_FDCWD, path, true, st, &r) ? r : REAL(__xstat)(ver, path, st);
}

EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	int r;

	return view_stat(AT_FDCWD, path, true, (struct stat *)st, &r) ? r :
									  REAL(__xstat64)(ver, path, st);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	int r;

	return view_stat(AT_FDCWD, path, false, st, &r) ? r : REAL(__lxstat)(ver, path, st);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	int r;

	return view_stat(AT_FDCWD, path, false, (struct stat *)st, &r) ? r :
									   REAL(__lxstat64)(ver, path, st);
}

EXPORT int fstatat(int dfd, const char *path, struct stat *st, int flags)
{
	int r;

	if (view_stat(dfd, path, !(flags & AT_SYMLINK_NOFOLLOW), st, &r))
		return r;
	return REAL(fstatat)(dfd, path, st, flags);
}

EXPORT int fstatat64(int dfd, const char *path, struct stat64 *st, int flags)
{
	int r;

	if (view_stat(dfd, path, !(flags & AT_SYMLINK_NOFOLLOW), (struct stat *)st, &r))
		return r;
	return REAL(fstatat64)(dfd, path, st, flags);
}

EXPORT int __fxstatat(int ver, int dfd, const char *path, struct stat *st, int flags)
{
	int r;

	if (view_stat(dfd, path, !(flags & AT_SYMLINK_NOFOLLOW), st, &r))
		return r;
	return REAL(__fxstatat)(ver, dfd, path, st, flags);
}

EXPORT int __fxstatat64(int ver, int dfd, const char *path, struct stat64 *st, int flags)
{
	int r;

	if (view_stat(dfd, path, !(flags & AT_SYMLINK_NOFOLLOW), (struct stat *)st, &r))
		return r;
	return REAL(__fxstatat64)(ver, dfd, path, st, flags);
}

/* statx's answer from a stat (the view has every basic field; mask asks for no more) */
static void stat_to_statx(const struct stat *st, struct statx *stx)
{
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = (uint32_t)st->st_blksize;
	stx->stx_nlink = (uint32_t)st->st_nlink;
	stx->stx_uid = st->st_uid;
	stx->stx_gid = st->st_gid;
	stx->stx_mode = (uint16_t)st->st_mode;
	stx->stx_ino = st->st_ino;
	stx->stx_size = (uint64_t)st->st_size;
	stx->stx_blocks = (uint64_t)st->st_blocks;
	stx->stx_atime.tv_sec = st->st_atim.tv_sec;
	stx->stx_atime.tv_nsec = (uint32_t)st->st_atim.tv_nsec;
	stx->stx_mtime.tv_sec = st->st_mtim.tv_sec;
	stx->stx_mtime.tv_nsec = (uint32_t)st->st_mtim.tv_nsec;
	stx->stx_ctime.tv_sec = st->st_ctim.tv_sec;
	stx->stx_ctime.tv_nsec = (uint32_t)st->st_ctim.tv_nsec;
	stx->stx_rdev_major = major(st->st_rdev);
	stx->stx_rdev_minor = minor(st->st_rdev);
	stx->stx_dev_major = major(st->st_dev);
	stx->stx_dev_minor = minor(st->st_dev);
}

EXPORT int statx(int dfd, const char *path, int flags, unsigned int mask, struct statx *stx)
{
	struct stat st;
	int r;

	/* a directory fd of the view itself (a memfd to the kernel) */
	if ((flags & AT_EMPTY_PATH) && !path[0] && fake_fstat(dfd, &st)) {
		stat_to_statx(&st, stx);
		return 0;
	}
	if (!(flags & AT_EMPTY_PATH && !path[0]) &&
	    view_stat(dfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &st, &r)) {
		if (r == 0)
			stat_to_statx(&st, stx);
		return r;
	}
	return REAL(statx)(dfd, path, flags, mask, stx);
}

/* the view's access(): true and *ret (libc's value) if the view answers */
static bool view_access(int dfd, const char *path, int mode, int flags, int *ret)
{
	struct fake_node n;
	int r = fake_lookup(dfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &n);

	if (r == 0)
		return false;
	if (r == FAKE_HOST) {
		*ret = REAL(faccessat)(AT_FDCWD, n.abs, mode, flags);
		return true;
	}
	if (r == FAKE_PATH) {
		*ret = access(n.abs, mode);
		return true;
	}
	*ret = (int)ret_errno(r < 0 ? r : fake_access(&n, mode));
	return true;
}

EXPORT int access(const char *path, int mode)
{
	char buf[PATH_MAX];
	struct stat st;
	int r;

	if (dev_norm(path, buf) != path)
		return access(buf, mode);
	if (absent_node(path))
		return (int)ret_errno(-ENOENT);
	/* the emulated nodes: as their stat says (the caller's, read-write) */
	if (node_stat(path, &st, &r))
		return (int)ret_errno(r < 0                             ? r :
				      (mode & X_OK) && !S_ISDIR(st.st_mode) ? -EACCES :
									      0);
	return view_access(AT_FDCWD, path, mode, 0, &r) ? r : REAL(access)(path, mode);
}

EXPORT int faccessat(int dfd, const char *path, int mode, int flags)
{
	int r;

	if (path[0] == '/')
		return access(path, mode);
	return view_access(dfd, path, mode, flags, &r) ? r : REAL(faccessat)(dfd, path, mode, flags);
}

/* the view's readlink(): true and *ret (libc's value) if the view answers */
static bool view_readlink(int dfd, const char *path, char *out, size_t len, ssize_t *ret)
{
	struct fake_node n;
	struct stat st;
	int r;

	/* the emulated nodes of /dev: none is a link */
	if (path && path[0] == '/' && (absent_node(path) || node_stat(path, &st, &r))) {
		*ret = ret_errno(absent_node(path) ? -ENOENT : r < 0 ? r : -EINVAL);
		return true;
	}
	r = fake_lookup(dfd, path, false, &n);

	if (r == 0)
		return false;
	if (r == FAKE_HOST) {
		*ret = REAL(readlink)(n.abs, out, len);
		return true;
	}
	if (r == FAKE_PATH) {
		*ret = readlink(n.abs, out, len);
		return true;
	}
	*ret = ret_errno(r < 0 ? r : fake_readlink(&n, out, len));
	return true;
}

EXPORT ssize_t readlink(const char *path, char *out, size_t len)
{
	ssize_t r;

	return view_readlink(AT_FDCWD, path, out, len, &r) ? r : REAL(readlink)(path, out, len);
}

EXPORT ssize_t readlinkat(int dfd, const char *path, char *out, size_t len)
{
	ssize_t r;

	return view_readlink(dfd, path, out, len, &r) ? r : REAL(readlinkat)(dfd, path, out, len);
}

/* ------------------------------------------------------------ xattrs */

/*
 * The extended attributes of a node of the view or of the emulated /dev:
 * none (sysfs and devtmpfs without a security module), rather than the
 * host's ENOENT for a path it lacks. true and *ret (0: none, else -errno)
 * if the view or the emulator answers.
 */
static bool view_xattr(const char *path, bool follow, int *ret)
{
	struct fake_node n;
	struct stat st;
	int r;

	if (in_emu || !path || path[0] != '/')
		return false;
	if (absent_node(path)) {
		*ret = -ENOENT;
		return true;
	}
	if (node_stat(path, &st, &r)) {
		*ret = r;
		return true;
	}
	r = fake_lookup(AT_FDCWD, path, follow, &n);
	if (r == 0 || r == FAKE_HOST || r == FAKE_PATH)
		return false;
	*ret = r < 0 ? r : 0;
	return true;
}

EXPORT ssize_t getxattr(const char *path, const char *name, void *value, size_t size)
{
	char buf[PATH_MAX];
	int r;

	path = dev_norm(path, buf); /* "." and ".." below /dev/vfio: the host may lack it */
	if (view_xattr(path, true, &r))
		return ret_errno(r ? r : -ENODATA);
	return REAL(getxattr)(path, name, value, size);
}

EXPORT ssize_t lgetxattr(const char *path, const char *name, void *value, size_t size)
{
	char buf[PATH_MAX];
	int r;

	path = dev_norm(path, buf); /* "." and ".." below /dev/vfio: the host may lack it */
	if (view_xattr(path, false, &r))
		return ret_errno(r ? r : -ENODATA);
	return REAL(lgetxattr)(path, name, value, size);
}

EXPORT ssize_t listxattr(const char *path, char *list, size_t size)
{
	char buf[PATH_MAX];
	int r;

	path = dev_norm(path, buf); /* "." and ".." below /dev/vfio: the host may lack it */
	if (view_xattr(path, true, &r))
		return ret_errno(r);
	return REAL(listxattr)(path, list, size);
}

EXPORT ssize_t llistxattr(const char *path, char *list, size_t size)
{
	char buf[PATH_MAX];
	int r;

	path = dev_norm(path, buf); /* "." and ".." below /dev/vfio: the host may lack it */
	if (view_xattr(path, false, &r))
		return ret_errno(r);
	return REAL(llistxattr)(path, list, size);
}

/* ------------------------------------------------------------ realpath */

/*
 * realpath() of a path in the view: glibc resolves with its own readlink
 * system calls, which would walk the host's sysfs. The walk here asks
 * lstat() and readlink() (this library's: the view, else the host) for
 * each component. 1 and out (PATH_MAX bytes) when the view is involved,
 * 0: not a path of the view, -errno.
 */
static int view_realpath(const char *path, char *out)
{
	char rest[PATH_MAX], res[PATH_MAX] = "", tmp[PATH_MAX];
	struct fake_node n;
	int links = 0;

	if (in_emu || !path || path[0] != '/' || strncmp(path, "/sys", 4) != 0 ||
	    (path[4] && path[4] != '/'))
		return 0;
	if (fake_lookup(AT_FDCWD, "/sys", false, &n) <= 0)
		return 0; /* no view: the host's */
	if ((size_t)snprintf(rest, sizeof(rest), "%s", path) >= sizeof(rest))
		return -ENAMETOOLONG;
	for (char *p = rest;;) {
		struct stat st;
		size_t len, rl = strlen(res);
		ssize_t tl;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		len = strcspn(p, "/");
		if (len == 1 && p[0] == '.') {
			p += len;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(res, '/');

			if (slash)
				*slash = 0;
			p += len;
			continue;
		}
		if (rl + 1 + len >= sizeof(res))
			return -ENAMETOOLONG;
		res[rl] = '/';
		memcpy(res + rl + 1, p, len);
		res[rl + 1 + len] = 0;
		p += len;
		if (lstat(res, &st) < 0)
			return -errno;
		if (!S_ISLNK(st.st_mode)) {
			if (*p && !S_ISDIR(st.st_mode))
				return -ENOTDIR;
			continue;
		}
		if (++links > 40)
			return -ELOOP;
		tl = readlink(res, tmp, sizeof(tmp) - 1);
		if (tl < 0)
			return -errno;
		tmp[tl] = 0;
		res[rl] = 0; /* the link's directory */
		if (tmp[0] == '/')
			res[0] = 0;
		/* the target, then what was left */
		if ((size_t)snprintf(tmp + tl, sizeof(tmp) - (size_t)tl, "%s", p) >=
		    sizeof(tmp) - (size_t)tl)
			return -ENAMETOOLONG;
		memcpy(rest, tmp, strlen(tmp) + 1);
		p = rest;
	}
	snprintf(out, PATH_MAX, "%s", res[0] ? res : "/");
	return 1;
}

EXPORT char *realpath(const char *path, char *resolved)
{
	char buf[PATH_MAX];
	int r = view_realpath(path, buf);

	if (!r)
		return REAL(realpath)(path, resolved);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if (!resolved)
		return strdup(buf);
	memcpy(resolved, buf, strlen(buf) + 1);
	return resolved;
}

EXPORT char *__realpath_chk(const char *path, char *resolved, size_t len)
{
	char buf[PATH_MAX];
	int r;

	if (resolved && len < PATH_MAX)
		abort(); /* what fortify's __chk_fail does: the buffer is too small */
	r = view_realpath(path, buf);
	if (!r)
		return REAL(__realpath_chk)(path, resolved, len);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	if (!resolved)
		return strdup(buf);
	memcpy(resolved, buf, strlen(buf) + 1);
	return resolved;
}

EXPORT char *canonicalize_file_name(const char *path)
{
	return realpath(path, NULL);
}
