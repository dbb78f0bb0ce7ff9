// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Files under the root override: every path the command reads goes through
 * rpath(), which prefixes --root DIR (or $IOMMUFD_ROOT). See tool.h.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <zlib.h>

#include "tool.h"

char root[PATH_MAX];

/* buf := root + formatted logical path */
const char *rpath(char *buf, const char *fmt, ...)
{
	size_t n = strlen(root);
	va_list ap;

	memcpy(buf, root, n);
	va_start(ap, fmt);
	vsnprintf(buf + n, PATH_MAX - n, fmt, ap);
	va_end(ap);
	return buf;
}

/* read a whole file (at most max bytes) into a malloc()ed NUL-terminated buffer */
char *slurp(const char *path, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb = cap >= max ? NULL : realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/*
 * gzip through zlib's inflate, 16 KiB of input at a time. The output buffer
 * grows up to max + 1 bytes: filling that means more than max. The input is
 * bounded too: empty stored blocks make no output, and a FIFO has no end.
 */
int read_gz(const char *path, size_t max, char **out, size_t *len, char *why, size_t why_size)
{
	unsigned char in[16384];
	z_stream zs = { 0 };
	size_t cap = 0, n = 0, nin = 0, limit = max + 1;
	char *buf = NULL;
	int fd, zr = Z_OK, r = 0;

	*out = NULL;
	snprintf(why, why_size, "%s", "");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
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

/* first line of a small sysfs/proc file, trimmed; -errno if absent */
int read_line(const char *path, char *out, size_t size)
{
	char *s = slurp(path, 4096, NULL);
	size_t n;

	if (!s)
		return -errno;
	n = strcspn(s, "\n");
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	s[n] = 0;
	snprintf(out, size, "%s", s);
	free(s);
	return 0;
}

/* basename of a symlink's target (the driver or iommu_group links of sysfs) */
int read_link_base(const char *path, char *out, size_t size)
{
	char t[PATH_MAX];
	ssize_t n = readlink(path, t, sizeof(t) - 1);
	const char *b;

	if (n < 0)
		return -errno;
	t[n] = 0;
	b = strrchr(t, '/');
	snprintf(out, size, "%.*s", (int)size - 1, b ? b + 1 : t);
	return 0;
}

bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* sorted entries of a directory (no dot files); returns the count or -errno */
int list_dir(const char *path, char ***names)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, versionsort), k = 0;

	if (n < 0)
		return -errno;
	*names = calloc(n + 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && *names)
			(*names)[k++] = strdup(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return *names ? k : -ENOMEM;
}

void free_list(char **names)
{
	for (char **p = names; p && *p; p++)
		free(*p);
	free(names);
}

/* the kernel release: <root>/proc/sys/kernel/osrelease, else uname(2) */
void kernel_release(char *out, size_t size)
{
	char p[PATH_MAX];
	struct utsname u;

	if (read_line(rpath(p, "/proc/sys/kernel/osrelease"), out, size) == 0 && *out)
		return;
	snprintf(out, size, "%s", uname(&u) == 0 ? u.release : "unknown");
}
