/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IOMMUFD_TOOL_H
#define IOMMUFD_TOOL_H

/*
 * What the files of the iommufd command share: exit codes, the subcommand
 * table entry each of info.c, devices.c and demo.c defines, the error
 * printer of iommufd.c and the readers of files under the root (rootfs.c).
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <sys/types.h>

/* exit codes, documented in --help and iommufd(1) */
enum {
	EXIT_OK = 0,       /* done; info: iommufd is usable */
	EXIT_FAILED = 1,   /* an operation failed (demo step, unreadable output) */
	EXIT_USAGE = 2,    /* bad command line */
	EXIT_UNUSABLE = 3, /* info: not usable here; devices/demo: what they need is missing */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define DEMO_PIN (64ull << 10) /* what `iommufd demo` pins (info checks the memlock limit against it) */

/* the options of the command line, as main() parsed them */
struct tool_args {
	bool json;          /* --json */
	const char *device; /* --device, NULL when not given */
};

/* which options a subcommand takes */
enum {
	TOOL_OPT_JSON = 1 << 0,
	TOOL_OPT_ROOT = 1 << 1,   /* --root and $IOMMUFD_ROOT */
	TOOL_OPT_DEVICE = 1 << 2,
};

/* a subcommand: main() checks the options it takes, then runs it */
struct tool_cmd {
	const char *name;
	const char *help; /* its lines of --help, aligned after "  name     " */
	unsigned int opts; /* TOOL_OPT_* */
	int (*run)(const struct tool_args *args); /* returns an exit code */
};

extern const struct tool_cmd tool_cmd_info;    /* info.c */
extern const struct tool_cmd tool_cmd_devices; /* devices.c */
extern const struct tool_cmd tool_cmd_demo;    /* demo.c */

/* iommufd.c: "iommufd: " + the message + a newline on stderr */
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * rootfs.c: files under the root (--root DIR, $IOMMUFD_ROOT, else /), which
 * may be anyone's tree: paths are logical ones ("/sys/bus/pci/devices"),
 * resolved inside the root only (symlinks and ".." cannot leave it), only
 * regular files are read (a FIFO, socket or device node is never opened),
 * each read is bounded. Errors are -errno; tool_strerror() words them.
 */
#define ENOTREG EMEDIUMTYPE /* not the type of file expected (a FIFO where a file should be) */

extern char root[PATH_MAX]; /* "" for the real / */

/* the root: dir (an absolute path, "/" for the real one); -errno */
int root_set(const char *dir);
/* strerror(), with the words of this file's errors (ENOTREG, ELOOP, EFBIG) */
const char *tool_strerror(int err);
/* buf (PATH_MAX bytes) := the formatted logical path, "" if it does not fit; returns buf */
const char *lpath(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * A descriptor of path under the root if it is of type (S_IFREG, S_IFDIR,
 * S_IFCHR), opened with flags (O_PATH: not opened, only its type checked;
 * O_NONBLOCK and O_NOCTTY always). -ENOTREG (-ENOTDIR, -EISDIR) if another type.
 */
int root_open(const char *path, mode_t type, int flags);
/* a whole regular file (at most max bytes) in a malloc()ed NUL-terminated buffer; NULL and errno on failure (EFBIG: larger) */
char *slurp(const char *path, size_t max, size_t *len);
/*
 * A gzip file (such as /proc/config.gz) decompressed by zlib into a malloc()ed
 * NUL-terminated *out of at most max bytes (*len, if len is not NULL).
 * Returns 0, or -errno of open/read, -EBADMSG (not gzip, corrupt or
 * truncated; why says how), -EFBIG (more than max bytes, in or out), -ENOMEM.
 */
int read_gz(const char *path, size_t max, char **out, size_t *len, char *why, size_t why_size);
/* first line of a small sysfs/proc file, trimmed; -errno if absent, -EINVAL if it holds a NUL */
int read_line(const char *path, char *out, size_t size);
/* basename of a symlink's target (the driver or iommu_group links of sysfs), a valid path component */
int read_link_base(const char *path, char *out, size_t size);
bool exists(const char *path);
bool is_dir(const char *path);
/* is path readable and writable for the real uid (checked on the inode, never opened)? */
bool rw_access(const char *path);
/* sorted entries of a directory (no dot files); returns the count or -errno */
int list_dir(const char *path, char ***names);
void free_list(char **names);
/* the kernel release: <root>/proc/sys/kernel/osrelease (0), else uname(2) (-errno; -EINVAL: not a valid path component) */
int kernel_release(char *out, size_t size);

#endif
