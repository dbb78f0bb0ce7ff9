// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Files under the root (--root DIR, $IOMMUFD_ROOT, else /). See tool.h.
 *
 * The tree may be anyone's (a container image, a mounted disk), so every
 * access holds up against it:
 *  - paths are resolved inside the root, never out of it: ".." stops at the
 *    root and an absolute symlink starts again from the root (as a chroot
 *    would see it). openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) does it
 *    where the kernel has it (5.6); else walk_in_root() walks the components
 *    with O_NOFOLLOW and follows symlinks itself. A chain of more than 40
 *    symlinks is ELOOP, as in the kernel.
 *  - nothing but a regular file is opened for reading, a directory for
 *    listing, a character device for /dev/iommu (info): the path is resolved
 *    to an O_PATH descriptor, its type checked by fstat, and only then opened
 *    for real through /proc/self/fd (the same inode, no second lookup to
 *    race with). A FIFO, socket or device node is never opened, so nothing
 *    blocks and no device driver sees an open().
 *  - reads are bounded: each reader has a cap, a file larger than it (a
 *    sparse 1 TiB one too, by its size or by what read() returns) is EFBIG,
 *    not read to its end.
 *  - a path component taken from file contents (the kernel release, a
 *    symlink's target) is checked by valid_component() first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <zlib.h>

#include "parse.h"
#include "tool.h"

char root[PATH_MAX];
static int root_fd = -1;
static int use_openat2 = -1; /* -1: not tried yet */

#define SYMLINKS_MAX 40 /* as the kernel's MAXSYMLINKS */
#define WALK_DEPTH_MAX 256
#define LIST_MAX 65536 /* entries of one directory */

/* openat2(2), without needing <linux/openat2.h> */
struct tool_open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#define TOOL_RESOLVE_NO_MAGICLINKS 0x02
#define TOOL_RESOLVE_IN_ROOT 0x10
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

int root_set(const char *dir)
{
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (root_fd >= 0)
		close(root_fd);
	root_fd = fd;
	snprintf(root, sizeof(root), "%s", strcmp(dir, "/") ? dir : "");
	return 0;
}

const char *tool_strerror(int err)
{
	switch (err) {
	case ENOTREG:
		return "not a regular file";
	case ELOOP:
		return "a loop of symbolic links (or more than 40 in a row)";
	case EFBIG:
		return "larger than the command reads";
	default:
		return strerror(err);
	}
}

/* buf := the logical path; "" (ENAMETOOLONG for the readers) when it does not fit */
const char *lpath(char *buf, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX)
		buf[0] = 0;
	return buf;
}

/*
 * The fallback of openat2(RESOLVE_IN_ROOT): path resolved from the root one
 * component at a time, each opened O_PATH | O_NOFOLLOW. A symlink's target
 * replaces it in what is left to walk (an absolute one from the root); ".."
 * pops a level, never above the root. Returns an O_PATH descriptor.
 */
static int walk_in_root(const char *path, bool follow)
{
	char buf[PATH_MAX], comp[NAME_MAX + 1], target[PATH_MAX], next[PATH_MAX];
	int stack[WALK_DEPTH_MAX], depth = 0, links = 0, r;
	char *p = buf;

	snprintf(buf, sizeof(buf), "%s", path);
	stack[0] = root_fd;
	for (;;) {
		size_t n;
		bool last;
		struct stat st;
		int fd;

		while (*p == '/')
			p++;
		if (!*p) {
			r = fcntl(stack[depth], F_DUPFD_CLOEXEC, 0);
			if (r < 0)
				r = -errno;
			break;
		}
		n = strcspn(p, "/");
		if (n > NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		p += n;
		last = p[strspn(p, "/")] == 0;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		fd = openat(stack[depth], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			r = -errno;
			if (fd >= 0)
				close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode) && (!last || follow)) {
			ssize_t t = readlinkat(fd, "", target, sizeof(target));

			r = t < 0 ? -errno : 0;
			close(fd);
			if (r < 0)
				break;
			if (++links > SYMLINKS_MAX) {
				r = -ELOOP;
				break;
			}
			if (t == 0 || (size_t)t >= sizeof(target)) {
				r = t ? -ENAMETOOLONG : -ENOENT;
				break;
			}
			target[t] = 0;
			if (target[0] == '/')
				while (depth > 0)
					close(stack[depth--]);
			if ((size_t)snprintf(next, sizeof(next), "%s/%s", target, p) >= sizeof(next)) {
				r = -ENAMETOOLONG;
				break;
			}
			memcpy(buf, next, sizeof(buf));
			p = buf;
			continue;
		}
		if (last) {
			r = fd;
			break;
		}
		if (!S_ISDIR(st.st_mode) || depth + 1 >= WALK_DEPTH_MAX) {
			close(fd);
			r = S_ISDIR(st.st_mode) ? -ENAMETOOLONG : -ENOTDIR;
			break;
		}
		stack[++depth] = fd;
	}
	while (depth > 0)
		close(stack[depth--]);
	return r;
}

/* an O_PATH descriptor of path, resolved inside the root; the last symlink followed if follow */
static int resolve(const char *path, bool follow)
{
	const char *rel = path;

	if (root_fd < 0 && (root_fd = open(*root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (!*path)
		return -ENAMETOOLONG;
	if (use_openat2 < 0) /* IOMMUFD_TEST_NO_OPENAT2: the tests run the fallback too */
		use_openat2 = !secure_getenv("IOMMUFD_TEST_NO_OPENAT2");
	if (use_openat2) {
		struct tool_open_how how = {
			.flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW),
			.resolve = TOOL_RESOLVE_IN_ROOT | TOOL_RESOLVE_NO_MAGICLINKS,
		};
		long fd;

		while (*rel == '/')
			rel++;
		fd = syscall(SYS_openat2, root_fd, *rel ? rel : ".", &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != ENOSYS) /* seccomp filters answer ENOSYS too */
			return errno == EAGAIN ? -ELOOP : -errno; /* EAGAIN: a rename raced the lookup */
		use_openat2 = 0;
	}
	return walk_in_root(path, follow);
}

int root_open(const char *path, mode_t type, int flags)
{
	struct stat st, st2;
	char proc[40];
	int fd = resolve(path, true), fd2, r;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if ((st.st_mode & S_IFMT) != type) {
		close(fd);
		return type == S_IFDIR ? -ENOTDIR : S_ISDIR(st.st_mode) ? -EISDIR : -ENOTREG;
	}
	if (flags & O_PATH)
		return fd;
	if (type == S_IFDIR) {
		fd2 = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		fd2 = open(proc, flags | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	}
	r = fd2 < 0 ? -errno : 0;
	close(fd);
	if (r == 0 && (fstat(fd2, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino))
		r = -ESTALE;
	if (r < 0 && fd2 >= 0)
		close(fd2);
	return r < 0 ? r : fd2;
}

/* a whole file (at most max bytes); NULL and errno on failure, EFBIG when larger */
char *slurp(const char *path, size_t max, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL;
	struct stat st;
	int fd = root_open(path, S_IFREG, O_RDONLY), err = 0;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > max) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nb;

			if (cap > max) { /* max + 1 bytes read: larger than max */
				err = EFBIG;
				break;
			}
			if (ncap > max + 1)
				ncap = max + 1;
			nb = realloc(buf, ncap + 1);
			if (!nb) {
				err = ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = errno;
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	if (!buf && !(buf = malloc(1))) {
		errno = ENOMEM;
		return NULL;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/*
 * gzip through zlib's inflate, 16 KiB of input at a time. The output buffer
 * grows up to max + 1 bytes: filling that means more than max. The input is
 * bounded too: empty stored blocks make no output.
 */
int read_gz(const char *path, size_t max, char **out, size_t *len, char *why, size_t why_size)
{
	unsigned char in[16384];
	z_stream zs = { 0 };
	size_t cap = 0, n = 0, nin = 0, limit = max + 1;
	char *buf = NULL;
	struct stat st;
	int fd, zr = Z_OK, r = 0;

	*out = NULL;
	snprintf(why, why_size, "%s", "");
	fd = root_open(path, S_IFREG, O_RDONLY);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) { /* 16: a gzip header and trailer, not zlib's */
		close(fd);
		return -ENOMEM;
	}
	while (zr != Z_STREAM_END) {
		if (zs.avail_in == 0) {
			ssize_t got = read(fd, in, sizeof(in));

			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0) {
				r = -errno;
				break;
			}
			if (got == 0) {
				r = -EBADMSG;
				snprintf(why, why_size, "truncated");
				break;
			}
			nin += got;
			if (nin > max) {
				r = -EFBIG;
				break;
			}
			zs.next_in = in;
			zs.avail_in = got;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb;

			if (cap == limit) {
				r = -EFBIG;
				break;
			}
			if (ncap > limit)
				ncap = limit;
			nb = realloc(buf, ncap + 1);
			if (!nb) {
				r = -ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		zs.next_out = (Bytef *)buf + n;
		zs.avail_out = cap - n;
		zr = inflate(&zs, Z_NO_FLUSH);
		n = cap - zs.avail_out;
		if (zr == Z_MEM_ERROR) {
			r = -ENOMEM;
			break;
		}
		if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR) {
			r = -EBADMSG;
			snprintf(why, why_size, "%s", zs.msg ? zs.msg : "corrupt data");
			break;
		}
		/* Z_OK or Z_BUF_ERROR: more input or more room, both handled above */
	}
	inflateEnd(&zs);
	close(fd);
	if (r == 0 && n > max)
		r = -EFBIG;
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[n] = 0;
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

/* first line of a small sysfs/proc file (at most 64 KiB), trimmed; -errno if absent */
int read_line(const char *path, char *out, size_t size)
{
	size_t n;
	char *s = slurp(path, 64 << 10, &n);
	int r;

	if (!s)
		return -errno;
	r = first_line(s, n, out, size);
	free(s);
	return r;
}

/* basename of a symlink's target (the driver or iommu_group links of sysfs), a valid path component */
int read_link_base(const char *path, char *out, size_t size)
{
	char dir[PATH_MAX], t[PATH_MAX];
	const char *slash = strrchr(path, '/'), *b;
	ssize_t n;
	int dfd;

	if (!slash || !valid_component(slash + 1, strlen(slash + 1)))
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dfd = root_open(*dir ? dir : "/", S_IFDIR, O_PATH);
	if (dfd < 0)
		return dfd;
	n = readlinkat(dfd, slash + 1, t, sizeof(t) - 1);
	n = n < 0 ? -errno : n;
	close(dfd);
	if (n < 0)
		return n;
	t[n] = 0;
	while (n > 1 && t[n - 1] == '/')
		t[--n] = 0;
	b = strrchr(t, '/');
	b = b ? b + 1 : t;
	if (!valid_component(b, strlen(b)))
		return -EINVAL;
	if (strlen(b) >= size)
		return -ENAMETOOLONG;
	snprintf(out, size, "%s", b);
	return 0;
}

bool exists(const char *path)
{
	int fd = resolve(path, true);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

bool is_dir(const char *path)
{
	int fd = root_open(path, S_IFDIR, O_PATH);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* is path (any type, not opened) readable and writable for the real uid? */
bool rw_access(const char *path)
{
	int fd = resolve(path, true);
	bool ok;

	if (fd < 0)
		return false;
	ok = faccessat(fd, "", R_OK | W_OK, AT_EMPTY_PATH) == 0;
	close(fd);
	return ok;
}

static int cmp_version(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* sorted entries of a directory (no dot files, at most LIST_MAX); returns the count or -errno */
int list_dir(const char *path, char ***names)
{
	int fd = root_open(path, S_IFDIR, O_RDONLY), n = 0, cap = 0, r = 0;
	struct dirent *e;
	char **v = NULL;
	DIR *d;

	*names = NULL;
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((errno = 0, e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == LIST_MAX) {
			r = -E2BIG;
			break;
		}
		if (n + 1 >= cap) {
			char **nv = realloc(v, (cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap = cap ? cap * 2 : 16;
		}
		if (!(v[n] = strdup(e->d_name))) {
			r = -ENOMEM;
			break;
		}
		v[++n] = NULL;
	}
	if (!e && errno && !r)
		r = -errno;
	closedir(d);
	if (r == 0 && !v && !(v = calloc(1, sizeof(*v))))
		r = -ENOMEM;
	if (r < 0) {
		free_list(v);
		return r;
	}
	qsort(v, n, sizeof(*v), cmp_version);
	*names = v;
	return n;
}

void free_list(char **names)
{
	for (char **p = names; p && *p; p++)
		free(*p);
	free(names);
}

/*
 * The kernel release: <root>/proc/sys/kernel/osrelease, else uname(2). It
 * becomes a path component (/boot/config-<release>, /lib/modules/<release>):
 * one that is not a valid one is -EINVAL, and out is uname's.
 */
int kernel_release(char *out, size_t size)
{
	char line[NAME_COMPONENT_MAX + 2];
	struct utsname u;
	int r = read_line("/proc/sys/kernel/osrelease", line, sizeof(line));

	if (r == 0 && !valid_component(line, strlen(line)))
		r = -EINVAL;
	if (r == 0 && strlen(line) < size) {
		snprintf(out, size, "%s", line);
		return 0;
	}
	snprintf(out, size, "%s", uname(&u) == 0 ? u.release : "unknown");
	return r ? r : -ENAMETOOLONG;
}
