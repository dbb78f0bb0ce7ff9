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
 * rootfs.c: files under the root override (--root DIR or $IOMMUFD_ROOT).
 * Every /dev, /sys, /proc, /boot and /lib/modules path goes through rpath(),
 * so the tests run the command on fake trees; paths shown to the user are the
 * logical ones ("/dev/iommu").
 */
extern char root[PATH_MAX]; /* "" for the real / */

/* buf (PATH_MAX bytes) := root + formatted logical path; returns buf */
const char *rpath(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* a whole file (at most max bytes) in a malloc()ed NUL-terminated buffer; NULL and errno on failure */
char *slurp(const char *path, size_t max, size_t *len);
/*
 * A gzip file (such as /proc/config.gz) decompressed by zlib into a malloc()ed
 * NUL-terminated *out of at most max bytes (*len, if len is not NULL).
 * Returns 0, or -errno of open/read, -EBADMSG (not gzip, corrupt or
 * truncated; why says how), -EFBIG (more than max bytes, in or out), -ENOMEM.
 */
int read_gz(const char *path, size_t max, char **out, size_t *len, char *why, size_t why_size);
/* first line of a small sysfs/proc file, trimmed; -errno if absent */
int read_line(const char *path, char *out, size_t size);
/* basename of a symlink's target (the driver or iommu_group links of sysfs) */
int read_link_base(const char *path, char *out, size_t size);
bool exists(const char *path);
bool is_dir(const char *path);
/* sorted entries of a directory (no dot files); returns the count or -errno */
int list_dir(const char *path, char ***names);
void free_list(char **names);
/* the kernel release: <root>/proc/sys/kernel/osrelease, else uname(2) */
void kernel_release(char *out, size_t size);

#endif
