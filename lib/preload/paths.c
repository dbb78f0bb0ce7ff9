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
 * With emulated devices, sysfs paths that exist in the emulator's tree are
 * redirected there: "/sys/X" -> "<tree>/X". Returns path or buf.
 */
static const char *sysfs_redirect(const char *path, char *buf, size_t len)
{
	struct stat st;
	int r;

	if (!path || strncmp(path, "/sys/", 5) != 0 || in_emu || !getenv("IOMMUFD_EMU_DEVICES"))
		return path;
	in_emu++;
	if (!emu_get() || !g_devices) {
		in_emu--;
		return path;
	}
	if ((size_t)snprintf(buf, len, "%s/%.*s", g_sysfs, PATH_MAX / 2, path + 5) >= len) {
		in_emu--;
		return path;
	}
	r = REAL(lstat)(buf, &st);
	in_emu--;
	if (r < 0)
		return path;
	pdbg("sysfs %s -> %s", path, buf);
	return buf;
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
	if (in_emu || !path)
		return -2;
	if (is_emulated_node(path))
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
	char buf[PATH_MAX];
	va_list ap;
	mode_t mode;
	int r = try_open(path, flags);

	if (r != -2)
		return r;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return REAL(open)(sysfs_redirect(path, buf, sizeof(buf)), flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	char buf[PATH_MAX];
	va_list ap;
	mode_t mode;
	int r = try_open(path, flags);

	if (r != -2)
		return r;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return REAL(open64)(sysfs_redirect(path, buf, sizeof(buf)), flags, mode);
}

EXPORT int __open_2(const char *path, int flags)
{
	char buf[PATH_MAX];
	int r = try_open(path, flags);

	return r != -2 ? r : REAL(__open_2)(sysfs_redirect(path, buf, sizeof(buf)), flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	char buf[PATH_MAX];
	int r = try_open(path, flags);

	return r != -2 ? r : REAL(__open64_2)(sysfs_redirect(path, buf, sizeof(buf)), flags);
}

EXPORT int openat(int dfd, const char *path, int flags, ...)
{
	char buf[PATH_MAX];
	va_list ap;
	mode_t mode;
	int r = path[0] == '/' ? try_open(path, flags) : -2;

	if (r != -2)
		return r;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return REAL(openat)(dfd, sysfs_redirect(path, buf, sizeof(buf)), flags, mode);
}

EXPORT int openat64(int dfd, const char *path, int flags, ...)
{
	char buf[PATH_MAX];
	va_list ap;
	mode_t mode;
	int r = path[0] == '/' ? try_open(path, flags) : -2;

	if (r != -2)
		return r;
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return REAL(openat64)(dfd, sysfs_redirect(path, buf, sizeof(buf)), flags, mode);
}

EXPORT int __openat_2(int dfd, const char *path, int flags)
{
	char buf[PATH_MAX];
	int r = path[0] == '/' ? try_open(path, flags) : -2;

	return r != -2 ? r : REAL(__openat_2)(dfd, sysfs_redirect(path, buf, sizeof(buf)), flags);
}

EXPORT int __openat64_2(int dfd, const char *path, int flags)
{
	char buf[PATH_MAX];
	int r = path[0] == '/' ? try_open(path, flags) : -2;

	return r != -2 ? r : REAL(__openat64_2)(dfd, sysfs_redirect(path, buf, sizeof(buf)), flags);
}

static FILE *do_fopen(FILE *(*realfn)(const char *, const char *), const char *path,
		      const char *mode)
{
	char buf[PATH_MAX];
	pid_t pid;

	if (in_emu || !path || !mode)
		return realfn(path, mode);
	if (is_emulated_node(path) || is_fail_nth(path)) {
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
	return realfn(sysfs_redirect(path, buf, sizeof(buf)), mode);
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	return do_fopen(REAL(fopen), path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	return do_fopen(REAL(fopen64), path, mode);
}

EXPORT DIR *opendir(const char *path)
{
	char buf[PATH_MAX];

	if (!in_emu && (strcmp(path, "/sys/kernel/debug") == 0 ||
				strcmp(path, "/sys/kernel/debug/") == 0)) {
		const char *e = getenv("IOMMUFD_PRELOAD_DEBUGFS");

		if (!e || strcmp(e, "0") != 0)
			return debugfs_open();
	}
	return REAL(opendir)(sysfs_redirect(path, buf, sizeof(buf)));
}

EXPORT int closedir(DIR *d)
{
	bool ours = false;
	int r;

	if (!in_emu) {
		pthread_mutex_lock(&g_lock);
		ours = d == g_debugfs_dir;
		if (ours)
			g_debugfs_dir = NULL;
		pthread_mutex_unlock(&g_lock);
	}
	r = REAL(closedir)(d);
	if (ours) {
		in_emu++;
		rm_tree(g_debugfs);
		g_debugfs[0] = '\0';
		in_emu--;
	}
	return r;
}

/* ------------------------------------------------------------ path queries (sysfs) */

EXPORT int stat(const char *path, struct stat *st)
{
	char buf[PATH_MAX];

	return REAL(stat)(sysfs_redirect(path, buf, sizeof(buf)), st);
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
	char buf[PATH_MAX];

	return REAL(stat64)(sysfs_redirect(path, buf, sizeof(buf)), st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
	char buf[PATH_MAX];

	return REAL(lstat)(sysfs_redirect(path, buf, sizeof(buf)), st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
	char buf[PATH_MAX];

	return REAL(lstat64)(sysfs_redirect(path, buf, sizeof(buf)), st);
}

EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	char buf[PATH_MAX];

	return REAL(__xstat)(ver, sysfs_redirect(path, buf, sizeof(buf)), st);
}

EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	char buf[PATH_MAX];

	return REAL(__xstat64)(ver, sysfs_redirect(path, buf, sizeof(buf)), st);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	char buf[PATH_MAX];

	return REAL(__lxstat)(ver, sysfs_redirect(path, buf, sizeof(buf)), st);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	char buf[PATH_MAX];

	return REAL(__lxstat64)(ver, sysfs_redirect(path, buf, sizeof(buf)), st);
}

EXPORT int access(const char *path, int mode)
{
	char buf[PATH_MAX];

	/* the emulated nodes exist: /dev/iommu always, /dev/vfio/... with devices */
	if (!in_emu && (strcmp(path, "/dev/iommu") == 0 ||
				(is_emulated_node(path) && getenv("IOMMUFD_EMU_DEVICES"))))
		return 0;
	return REAL(access)(sysfs_redirect(path, buf, sizeof(buf)), mode);
}

EXPORT ssize_t readlink(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];

	return REAL(readlink)(sysfs_redirect(path, buf, sizeof(buf)), out, len);
}
