// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Paths the preload answers itself, from memory: the sysfs of the emulated
 * devices (/sys/..., the emulator's view: emu_sysfs_*) and the debugfs
 * fault-injection knobs (/sys/kernel/debug/..., debugfs.c). Nothing is
 * written to disk:
 *  - open() of a file gives a memfd holding its content (writes land in that
 *    copy and are thrown away at close); but open() for writing of an
 *    attribute with a store (an SR-IOV PF's sriov_numvfs, vfio-pci's
 *    enable_sriov: mode 0644) gives an fd whose write()s are the store
 *    (emu_sysfs_write), as sysfs runs it at each write; the others are
 *    read-only (EACCES);
 *  - open() of a directory, and dirfd() of one opened with opendir(), give a
 *    "directory fd" (a memfd, remembered with its path) that openat(),
 *    fstatat(), fdopendir() ... resolve relative paths against;
 *  - opendir() gives a DIR of this file (a registry tells them from libc's);
 *  - stat/lstat/access/readlink answer from the view.
 * Absolute paths the view does not have are the host's, except below an
 * emulated device's directory (devices/pci<seg>:00/[<root port>/]<bdf>/, and
 * bus/pci/devices/<bdf>/ that links there), which is the view's only (the
 * host may have another device at that address). The directories sysfs
 * shares between owners (/sys, /sys/bus, /sys/bus/pci/devices,
 * /sys/kernel/iommu_groups, /sys/devices/pci0000:00, ...: merged_dir()) are
 * merged: their listing is the view's entries and the host's other ones,
 * and a name the view lacks below one, also relative to its directory fd,
 * is the host's. An entry of
 * the view shadows the host's of the same name with all below it (an
 * emulated device's directory is the view's alone).
 *
 * The emulated directories of /dev, /dev/vfio and /dev/vfio/devices, open
 * and list the same way, from the emulator (emu_node_list): the container
 * node "vfio", each group's number and "devices" (with CONFIG_IOMMUFD, i.e.
 * not IOMMUFD_EMU_CONFIG=no-iommufd, and some device), and below devices/
 * each device's vfioN, d_type DT_CHR or DT_DIR. They are the emulator's
 * alone, not merged with the host's /dev/vfio: every path below it is the
 * emulator's for stat and open too (a host's group would list but not
 * open). A path relative to their directory fds is answered as its absolute
 * path is (FAKE_PATH). /dev itself stays the host's (its fds are real,
 * fstat is the host's): a libc DIR of it gets "iommu" and "vfio" after the
 * host's entries when the host lacks them, loses the host's "iommu"
 * without iommufd (fake_top_opened), and a /dev fd opened through this
 * library is remembered (FD_HOST_DEV) so that iommu and vfio/... relative to it
 * are answered as their absolute paths.
 */
#include "preload.h"

/* ------------------------------------------------------------ fds of the view */

/*
 * The fds this library handed out for names of the view, with what they
 * stand for: a directory of the view (FD_DIR, its absolute path, for the
 * *at() calls relative to it), the host's /dev opened for real (FD_HOST_DEV,
 * so that iommu and vfio/... relative to it are the view's), and a writable
 * attribute of the view (FD_ATTR: sriov_numvfs, vfio-pci's enable_sriov;
 * its path relative to the view, for a write(2) or pwrite(2) of the fd is
 * the attribute's store, emu_sysfs_write, as the kernel's sysfs runs the
 * store at each write). A dup of any of them stands for the same; a close
 * of any kind forgets it.
 */
enum fd_kind { FD_DIR, FD_HOST_DEV, FD_ATTR, FD_KINDS };

#define MAX_VIEW_FDS 80

static struct {
	int fd;
	enum fd_kind kind;
	char *path; /* NULL: a free slot */
} g_fds[MAX_VIEW_FDS];
/* per kind; atomic reads: the fast paths of every *at() call and write() */
static int g_nfds[FD_KINDS];

static bool fds_of(enum fd_kind kind)
{
	return __atomic_load_n(&g_nfds[kind], __ATOMIC_RELAXED) != 0;
}

static bool fds_any(void)
{
	return fds_of(FD_DIR) || fds_of(FD_HOST_DEV) || fds_of(FD_ATTR);
}

static int fd_add(int fd, enum fd_kind kind, const char *path)
{
	char *p = strdup(path);
	int r = -EMFILE;

	if (!p)
		return -ENOMEM;
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < MAX_VIEW_FDS; i++) {
		if (!g_fds[i].path) {
			g_fds[i].fd = fd;
			g_fds[i].kind = kind;
			g_fds[i].path = p;
			__atomic_add_fetch(&g_nfds[kind], 1, __ATOMIC_RELAXED);
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&g_lock);
	if (r)
		free(p);
	return r;
}

/* the kind and path of fd into *kind and buf; false if fd is none of the view's */
static bool fd_get(int fd, enum fd_kind *kind, char *buf, size_t len)
{
	bool found = false;

	if (fd < 0 || !fds_any())
		return false;
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < MAX_VIEW_FDS && !found; i++) {
		if (g_fds[i].path && g_fds[i].fd == fd) {
			snprintf(buf, len, "%s", g_fds[i].path);
			*kind = g_fds[i].kind;
			found = true;
		}
	}
	pthread_mutex_unlock(&g_lock);
	return found;
}

/* the path of fd, an fd of kind kind, into buf; false if fd is not one */
static bool fd_path(int fd, enum fd_kind kind, char *buf, size_t len)
{
	enum fd_kind k;

	return fds_of(kind) && fd_get(fd, &k, buf, len) && k == kind;
}

void fake_dev_fd_opened(int fd)
{
	if (fd >= 0 && !in_emu)
		fd_add(fd, FD_HOST_DEV, "/dev"); /* untracked if full: the host's answers */
}

bool fake_attr_write(int fd, const void *buf, size_t len, ssize_t *ret)
{
	char rel[PATH_MAX];

	if (fd < 0 || in_emu || !fd_path(fd, FD_ATTR, rel, sizeof(rel)))
		return false;
	in_emu++;
	*ret = ret_errno(emu_sysfs_write(g_emu, rel, buf, len));
	in_emu--;
	return true;
}

void fake_fds_closed_range(unsigned int lo, unsigned int hi)
{
	if (!fds_any())
		return;
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < MAX_VIEW_FDS; i++) {
		if (g_fds[i].path && (unsigned int)g_fds[i].fd >= lo &&
		    (unsigned int)g_fds[i].fd <= hi) {
			free(g_fds[i].path);
			g_fds[i].path = NULL;
			__atomic_sub_fetch(&g_nfds[g_fds[i].kind], 1, __ATOMIC_RELAXED);
		}
	}
	pthread_mutex_unlock(&g_lock);
}

void fake_fd_closed(int fd)
{
	if (fd >= 0)
		fake_fds_closed_range((unsigned int)fd, (unsigned int)fd);
}

int fake_fd_dup(int old, int r)
{
	char p[PATH_MAX];
	enum fd_kind kind;
	int e;

	if (r < 0 || in_emu || r == old)
		return r;
	fake_fd_closed(r); /* dup2/dup3 closed what r was */
	if (!fd_get(old, &kind, p, sizeof(p)))
		return r;
	e = fd_add(r, kind, p);
	if (e < 0 && kind == FD_HOST_DEV)
		return r; /* untracked: the host's answers */
	if (e < 0) {
		in_emu++;
		REAL(close)(r);
		in_emu--;
		return (int)ret_errno(e);
	}
	return r;
}

static int anon_fd(const char *name, bool cloexec)
{
	int fd;

	in_emu++;
	fd = REAL(memfd_create)(name, cloexec ? MFD_CLOEXEC : 0);
	in_emu--;
	return fd < 0 ? -errno : fd;
}

/* ------------------------------------------------------------ lookup */

static bool sysfs_on(void)
{
	bool on;

	if (!getenv("IOMMUFD_EMU_DEVICES"))
		return false;
	in_emu++;
	on = emu_get() && g_devices;
	in_emu--;
	return on;
}

/* debugfs: rel without empty or "." components; false for ".." (the host's) */
static bool debugfs_norm(const char *rel, char *out, size_t len)
{
	size_t o = 0;

	out[0] = 0;
	while (*rel) {
		size_t n = strcspn(rel, "/");

		if (n == 2 && strncmp(rel, "..", 2) == 0)
			return false;
		if (n && !(n == 1 && rel[0] == '.')) {
			if (o + n + 2 > len)
				return false;
			if (o)
				out[o++] = '/';
			memcpy(out + o, rel, n);
			o += n;
			out[o] = 0;
		}
		rel += n;
		while (*rel == '/')
			rel++;
	}
	return true;
}

/* "pci<seg>:<bus>" of length len: a PCI root's directory below /sys/devices */
static bool pci_root_name(const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	if (len != 10 || strncmp(s, "pci", 3) != 0 || s[7] != ':')
		return false;
	for (size_t i = 3; i < len; i++)
		if (i != 7 && !memchr(hex, s[i], 16))
			return false;
	return true;
}

/*
 * The directories sysfs shares between owners, where the view's entries
 * join the host's rather than replace them.
 */
static bool merged_dir(const char *abs)
{
	static const char *const dirs[] = {
		"/sys", "/sys/bus", "/sys/bus/pci", "/sys/bus/pci/devices", "/sys/bus/pci/drivers",
		"/sys/class", "/sys/class/vfio-dev", "/sys/devices", "/sys/kernel",
		"/sys/kernel/iommu_groups", "/sys/module", "/sys/module/vfio_pci",
		"/sys/module/vfio_pci/parameters",
	};
	static const char devs[] = "/sys/devices/";

	size_t len = strlen(abs);

	while (len > 1 && abs[len - 1] == '/') /* "/sys/bus/" is "/sys/bus" */
		len--;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (strlen(dirs[i]) == len && !strncmp(abs, dirs[i], len))
			return true;
	/* a PCI root: the host's devices and the emulated ones side by side */
	return len > sizeof(devs) - 1 && !strncmp(abs, devs, sizeof(devs) - 1) &&
	       pci_root_name(abs + sizeof(devs) - 1, len - (sizeof(devs) - 1));
}

/* is the first len bytes of rel a path of the view (not following its end)? */
static bool in_view(const char *rel, size_t len)
{
	char top[PATH_MAX];
	int r;

	if (len >= sizeof(top))
		return false;
	memcpy(top, rel, len);
	top[len] = 0;
	in_emu++;
	r = emu_sysfs_lookup(g_emu, top, false, NULL);
	in_emu--;
	return r == 0;
}

/*
 * Is rel at or below the directory of an emulated device or root port
 * (devices/pci<seg>:00/<bdf>/..., or through its link bus/pci/devices/
 * <bdf>/...)? There the view is the whole truth: what it lacks does not
 * exist, whatever the host has at the same address.
 */
static bool in_device_dir(const char *rel)
{
	static const char bus[] = "bus/pci/devices/", devs[] = "devices/";
	size_t n;

	if (strncmp(rel, bus, sizeof(bus) - 1) == 0) {
		n = strcspn(rel + sizeof(bus) - 1, "/");
		return n && in_view(rel, sizeof(bus) - 1 + n);
	}
	if (strncmp(rel, devs, sizeof(devs) - 1) != 0)
		return false;
	n = strcspn(rel + sizeof(devs) - 1, "/");
	if (!pci_root_name(rel + sizeof(devs) - 1, n) || rel[sizeof(devs) - 1 + n] != '/')
		return false;
	n += sizeof(devs); /* past "devices/pci<seg>:00/" */
	n += strcspn(rel + n, "/");
	return rel[n - 1] != '/' && in_view(rel, n);
}

bool fake_dev_dir(const char *path)
{
	size_t len;

	if (!path || strncmp(path, "/dev/vfio", 9) != 0)
		return false;
	len = strlen(path);
	while (len > 9 && path[len - 1] == '/')
		len--;
	return len == 9 || (len == 17 && strncmp(path + 9, "/devices", 8) == 0);
}

/* /dev/vfio or below */
static bool dev_path(const char *p)
{
	return strncmp(p, "/dev/vfio", 9) == 0 && (!p[9] || p[9] == '/');
}

void fake_abs_norm(char *abs)
{
	char *in = abs, *out = abs;

	while (*in) {
		size_t n;

		while (*in == '/')
			in++;
		n = strcspn(in, "/");
		if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (out > abs && *--out != '/')
				;
		} else if (n && !(n == 1 && in[0] == '.')) {
			*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in += n;
	}
	if (out == abs)
		*out++ = '/';
	*out = 0;
}

/* 1: n->abs is in the view (n->type), 0: not a path of the view, -errno */
static int node_lookup(struct fake_node *n, bool follow)
{
	const char *p = n->abs;
	struct stat st;
	int r;

	n->dev = false;
	if (dev_path(p)) {
		if (!fake_dev_dir(p))
			return 0; /* a node: the emulator's open and stat */
		in_emu++;
		r = emu_get() ? emu_node_stat(g_emu, p, &st) : -EXDEV;
		in_emu--;
		if (r == -EXDEV)
			return 0;
		if (r == -ENOENT) /* no-iommufd: no devices/, whatever the host has */
			return -ENOTRECOVERABLE;
		if (r < 0)
			return r;
		n->dev = true;
		n->debugfs = false;
		n->type = EMU_SYSFS_DIR;
		snprintf(n->rel, sizeof(n->rel), "%s", p + 5);
		return 1;
	}

	if (strncmp(p, "/sys/kernel/debug", 17) == 0 && (!p[17] || p[17] == '/') &&
	    debugfs_enabled()) {
		n->debugfs = true;
		if (!debugfs_norm(p + 17, n->rel, sizeof(n->rel)))
			return 0;
		r = debugfs_lookup(n->rel, &n->type);
		return r < 0 ? r : 1;
	}
	if (strncmp(p, "/sys", 4) != 0 || (p[4] && p[4] != '/') || !sysfs_on())
		return 0;
	n->debugfs = false;
	p += 4;
	while (*p == '/')
		p++;
	snprintf(n->rel, sizeof(n->rel), "%s", p);
	in_emu++;
	r = emu_sysfs_lookup(g_emu, n->rel, follow, &n->type);
	in_emu--;
	if (r == -ENOENT && in_device_dir(n->rel))
		return -ENOTRECOVERABLE; /* absent for sure (fake_lookup: ENOENT) */
	return r < 0 ? r : 1;
}

/*
 * abs, relative to a directory fd of the view, is not in the view: is it
 * the host's? Yes when the deepest merged directory above it has no entry
 * of the view by the next name (and no ".." can climb out of that).
 */
static bool host_below_merged(const char *abs)
{
	char p[PATH_MAX], *slash;
	struct fake_node n;

	if (strstr(abs, "/..") || strncmp(abs, "/sys/kernel/debug", 17) == 0)
		return false;
	snprintf(p, sizeof(p), "%s", abs);
	for (slash = strrchr(p, '/'); slash && slash > p; slash = strrchr(p, '/')) {
		snprintf(n.abs, sizeof(n.abs), "%s", p);
		*slash = 0;
		/* n.abs: the child of merged directory p on the way to abs; one
		 * of the view shadows the host's */
		if (merged_dir(p))
			return node_lookup(&n, false) == -ENOENT;
	}
	return false;
}

int fake_lookup(int dfd, const char *path, bool follow, struct fake_node *n)
{
	bool strict = false;
	int r;

	if (in_emu || !path)
		return 0;
	if (path[0] == '/' && strncmp(path, "/sys", 4) != 0 && !fake_dev_dir(path))
		return 0; /* the common case, before any copy */
	if (path[0] == '/') {
		if ((size_t)snprintf(n->abs, sizeof(n->abs), "%s", path) >= sizeof(n->abs))
			return 0;
	} else {
		char dir[PATH_MAX];
		enum fd_kind kind;
		size_t top;

		if (!fd_get(dfd, &kind, dir, sizeof(dir)) || kind == FD_ATTR)
			return 0; /* relative to the cwd, a real directory or a file */
		if (kind == FD_HOST_DEV) {
			/* the host's /dev: its emulated names are answered as
			 * their absolute paths, the rest is the host's */
			top = strcspn(path, "/");
			if (!((top == 5 && strncmp(path, "iommu", 5) == 0) ||
			      (top == 4 && strncmp(path, "vfio", 4) == 0)))
				return 0;
			if ((size_t)snprintf(n->abs, sizeof(n->abs), "/dev/%s", path) >=
			    sizeof(n->abs))
				return -ENAMETOOLONG;
			fake_abs_norm(n->abs);
			return FAKE_PATH;
		}
		strict = true;
		if (!*path) /* AT_EMPTY_PATH: the directory itself */
			snprintf(n->abs, sizeof(n->abs), "%s", dir);
		else if ((size_t)snprintf(n->abs, sizeof(n->abs), "%s/%s", dir, path) >=
			 sizeof(n->abs))
			return -ENAMETOOLONG;
		if (dev_path(dir)) {
			fake_abs_norm(n->abs);
			r = node_lookup(n, follow);
			if (r == -ENOTRECOVERABLE)
				return -ENOENT;
			return r ? r : FAKE_PATH;
		}
	}
	r = node_lookup(n, follow);
	if (r == -ENOTRECOVERABLE)
		return -ENOENT; /* below an emulated device: never the host's */
	if (strict && r == -ENOENT && host_below_merged(n->abs))
		return FAKE_HOST;
	if (strict && r == 0)
		return -ENOENT;
	if (!strict && r == -ENOENT)
		return 0; /* the host's */
	if (r > 0)
		pdbg("%s: %s of the view", n->abs,
		     n->debugfs ? "debugfs" : n->dev ? "emulated /dev" : "sysfs");
	return r;
}

/* ------------------------------------------------------------ nodes */

static ssize_t node_read(const struct fake_node *n, char *buf, size_t len)
{
	ssize_t r;

	if (n->debugfs)
		return debugfs_read(n->rel, buf, len);
	in_emu++;
	r = emu_sysfs_read(g_emu, n->rel, buf, len);
	in_emu--;
	return r;
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int fake_open(const struct fake_node *n, int flags)
{
	int acc = flags & O_ACCMODE;
	char buf[4096];
	ssize_t len;
	int fd, r;

	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (n->type == EMU_SYSFS_LINK) /* O_NOFOLLOW on a link */
		return -ELOOP;
	if (n->type == EMU_SYSFS_DIR) {
		if (acc != O_RDONLY || (flags & (O_TRUNC | O_CREAT)))
			return -EISDIR;
		fd = anon_fd("iommufd-preload-dir", flags & O_CLOEXEC);
		if (fd < 0)
			return fd;
		r = fd_add(fd, FD_DIR, n->abs);
		if (r < 0) {
			REAL(close)(fd);
			return r;
		}
		return fd;
	}
	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	/* sysfs attributes of the view are read-only but the writable ones
	 * (0644: their writes are stores); debugfs knobs take writes */
	if (!n->debugfs && acc != O_RDONLY) {
		bool w;

		in_emu++;
		w = emu_sysfs_writable(g_emu, n->rel);
		in_emu--;
		if (!w)
			return -EACCES;
		fd = anon_fd(base_of(n->abs), flags & O_CLOEXEC);
		if (fd < 0)
			return fd;
		r = fd_add(fd, FD_ATTR, n->rel);
		if (r) {
			in_emu++;
			REAL(close)(fd);
			in_emu--;
			return r;
		}
		return fd;
	}
	len = (flags & O_TRUNC) ? 0 : node_read(n, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	fd = anon_fd(base_of(n->abs), flags & O_CLOEXEC);
	if (fd < 0)
		return fd;
	in_emu++;
	if (len && REAL(pwrite)(fd, buf, (size_t)len, 0) != len) {
		r = -errno;
		REAL(close)(fd);
		in_emu--;
		return r ? r : -EIO;
	}
	if (flags & O_APPEND)
		REAL(fcntl)(fd, F_SETFL, O_APPEND);
	in_emu--;
	return fd;
}

void fake_stat(const struct fake_node *n, struct stat *st)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a of the path: a stable inode number */
	char buf[4096], canon[PATH_MAX];
	const char *path = n->abs;
	ssize_t len = 0;

	if (n->dev) { /* as stat() of the path says */
		in_emu++;
		if (emu_node_stat(g_emu, n->abs, st) < 0)
			memset(st, 0, sizeof(*st));
		in_emu--;
		return;
	}

	/* a node of sysfs has one inode by whatever links it is reached: its
	 * path without them */
	in_emu++;
	if (!n->debugfs && emu_sysfs_resolve(g_emu, n->rel, n->type != EMU_SYSFS_LINK, NULL,
					     canon, sizeof(canon)) == 0)
		path = canon;
	in_emu--;
	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	memset(st, 0, sizeof(*st));
	st->st_dev = n->debugfs ? 0x14 : 0x15;
	st->st_ino = (ino_t)(h | 1);
	st->st_blksize = 4096;
	switch (n->type) {
	case EMU_SYSFS_DIR:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		break;
	case EMU_SYSFS_FILE:
		in_emu++;
		st->st_mode = S_IFREG | (n->debugfs ? 0600 :
					 emu_sysfs_writable(g_emu, n->rel) ? 0644 : 0444);
		in_emu--;
		st->st_nlink = 1;
		len = node_read(n, buf, sizeof(buf));
		break;
	case EMU_SYSFS_LINK:
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		len = fake_readlink(n, buf, sizeof(buf));
		break;
	}
	st->st_size = len > 0 ? len : 0;
}

ssize_t fake_readlink(const struct fake_node *n, char *buf, size_t len)
{
	ssize_t r;

	if (n->type != EMU_SYSFS_LINK || n->debugfs)
		return -EINVAL;
	in_emu++;
	r = emu_sysfs_readlink(g_emu, n->rel, buf, len);
	in_emu--;
	return r;
}

int fake_access(const struct fake_node *n, int mode)
{
	bool w;

	in_emu++;
	w = !n->debugfs && emu_sysfs_writable(g_emu, n->rel);
	in_emu--;
	if ((mode & W_OK) && !n->debugfs && (geteuid() != 0 || !w))
		return -EACCES;
	if ((mode & X_OK) && n->type == EMU_SYSFS_FILE)
		return -EACCES;
	return 0;
}

bool fake_fstat(int fd, struct stat *st)
{
	struct fake_node n;

	if (in_emu || !fd_path(fd, FD_DIR, n.abs, sizeof(n.abs)))
		return false;
	if (fake_lookup(fd, "", true, &n) <= 0)
		return false;
	fake_stat(&n, st);
	return true;
}

/* ------------------------------------------------------------ DIR */

struct fake_ent {
	char name[256];
	unsigned char type;
};

struct fake_dir {
	struct fake_dir *next;
	int fd;
	struct fake_ent *ents;
	size_t n, cap, pos;
	struct dirent de;
	struct dirent64 de64;
};

static struct fake_dir *g_dirs; /* guarded by g_lock */
static int g_ndirs;             /* atomic reads: the fast path of readdir() */

static int ent_add(void *data, const char *name, enum emu_sysfs_type type)
{
	struct fake_dir *d = data;

	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct fake_ent *e = realloc(d->ents, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		d->ents = e;
		d->cap = cap;
	}
	snprintf(d->ents[d->n].name, sizeof(d->ents[d->n].name), "%s", name);
	d->ents[d->n++].type = type == EMU_SYSFS_DIR ? DT_DIR :
			       type == EMU_SYSFS_LINK ? DT_LNK : DT_REG;
	return 0;
}

static int dev_ent_add(void *data, const char *name, mode_t mode)
{
	struct fake_dir *d = data;
	int r = ent_add(d, name, EMU_SYSFS_FILE);

	if (!r)
		d->ents[d->n - 1].type = S_ISDIR(mode) ? DT_DIR : DT_CHR;
	return r;
}

/* the host's entries of merged directory abs that the view has not */
static int host_ents_add(struct fake_dir *d, const char *abs)
{
	size_t nview = d->n;
	struct dirent *de;
	DIR *h;
	int r = 0;

	in_emu++;
	h = REAL(opendir)(abs);
	while (h && !r && (de = REAL(readdir)(h))) {
		bool shadowed = false;

		for (size_t i = 0; i < nview && !shadowed; i++)
			shadowed = !strcmp(d->ents[i].name, de->d_name);
		if (shadowed)
			continue;
		r = ent_add(d, de->d_name, EMU_SYSFS_FILE);
		if (!r)
			d->ents[d->n - 1].type = de->d_type;
	}
	if (h)
		REAL(closedir)(h);
	in_emu--;
	return r;
}

/* a DIR of the view's directory n; on fd (a directory fd) or a new one if -1 */
DIR *fake_opendir(const struct fake_node *n, int fd)
{
	struct fake_dir *d;
	int r;

	if (n->type != EMU_SYSFS_DIR) {
		errno = ENOTDIR;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		errno = ENOMEM;
		return NULL;
	}
	r = ent_add(d, ".", EMU_SYSFS_DIR);
	r = r ?: ent_add(d, "..", EMU_SYSFS_DIR);
	if (!r && n->dev) {
		in_emu++;
		r = emu_node_list(g_emu, n->abs, dev_ent_add, d);
		in_emu--;
	} else if (!r && n->debugfs) {
		r = debugfs_list(n->rel, ent_add, d);
	} else if (!r) {
		in_emu++;
		r = emu_sysfs_list(g_emu, n->rel, ent_add, d);
		in_emu--;
		if (!r && merged_dir(n->abs))
			r = host_ents_add(d, n->abs);
	}
	if (!r && fd < 0) {
		fd = r = anon_fd("iommufd-preload-dir", true);
		if (fd >= 0) {
			r = fd_add(fd, FD_DIR, n->abs);
			if (r < 0)
				REAL(close)(fd);
		}
	}
	if (r < 0) {
		free(d->ents);
		free(d);
		errno = -r;
		return NULL;
	}
	d->fd = fd;
	pthread_mutex_lock(&g_lock);
	d->next = g_dirs;
	g_dirs = d;
	__atomic_add_fetch(&g_ndirs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&g_lock);
	return (DIR *)d;
}

/* one of the view's DIRs (not libc's)? */
static struct fake_dir *fake_dir_of(DIR *dir)
{
	struct fake_dir *d;

	if (!dir || !__atomic_load_n(&g_ndirs, __ATOMIC_RELAXED))
		return NULL;
	pthread_mutex_lock(&g_lock);
	for (d = g_dirs; d && (DIR *)d != dir; d = d->next)
		;
	pthread_mutex_unlock(&g_lock);
	return d;
}

DIR *fake_fdopendir(int fd)
{
	struct fake_node n;
	int r;

	if (in_emu || !fd_path(fd, FD_DIR, n.abs, sizeof(n.abs)))
		return NULL;
	r = fake_lookup(fd, "", true, &n);
	if (r <= 0) {
		errno = r < 0 ? -r : ENOENT;
		return NULL;
	}
	return fake_opendir(&n, fd);
}

bool fake_is_dir_fd(int fd)
{
	char p[PATH_MAX];

	return !in_emu && fd_path(fd, FD_DIR, p, sizeof(p));
}

/* ------------------------------------------------------------ /dev's listing */

/*
 * A libc DIR of the host's /dev, whose listing gets what the emulated /dev
 * has and the host lacks ("iommu", "vfio": stat and open of both are the
 * emulator's) after the host's entries, and loses the host's "iommu" when
 * the emulated kernel has no iommufd. Nothing else of the DIR changes.
 */
struct top_dir {
	struct top_dir *next;
	DIR *dir;
	bool hide_iommu;
	size_t n, pos; /* extras, and how many were returned */
	struct fake_ent extra[2];
	struct dirent de;
	struct dirent64 de64;
};

static struct top_dir *g_tops; /* guarded by g_lock */
static int g_ntops;            /* atomic reads: the fast path of readdir() */

void fake_top_opened(DIR *dir)
{
	struct stat dev, st, tmp;
	struct top_dir t = { .dir = dir }, *p;
	uint32_t flags = 0;

	if (in_emu || !dir)
		return;
	in_emu++;
	if (REAL(fstat)(REAL(dirfd)(dir), &st) < 0 || REAL(stat)("/dev", &dev) < 0 ||
	    st.st_dev != dev.st_dev || st.st_ino != dev.st_ino) {
		in_emu--;
		return;
	}
	if (preload_env_config(&flags, NULL, NULL) < 0)
		flags = 0;
	if (flags & IOMMUFD_EMU_CONFIG_NO_IOMMUFD)
		t.hide_iommu = REAL(lstat)("/dev/iommu", &tmp) == 0;
	else if (REAL(lstat)("/dev/iommu", &tmp) < 0)
		t.extra[t.n++] = (struct fake_ent){ .name = "iommu", .type = DT_CHR };
	if (REAL(lstat)("/dev/vfio", &tmp) < 0)
		t.extra[t.n++] = (struct fake_ent){ .name = "vfio", .type = DT_DIR };
	in_emu--;
	if (!t.n && !t.hide_iommu)
		return; /* the host's listing is the emulated /dev's */
	p = malloc(sizeof(*p));
	if (!p)
		return; /* the host's listing, as without the emulator */
	*p = t;
	pthread_mutex_lock(&g_lock);
	p->next = g_tops;
	g_tops = p;
	__atomic_add_fetch(&g_ntops, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&g_lock);
}

static struct top_dir *top_of(DIR *dir)
{
	struct top_dir *t;

	if (!dir || !__atomic_load_n(&g_ntops, __ATOMIC_RELAXED))
		return NULL;
	pthread_mutex_lock(&g_lock);
	for (t = g_tops; t && t->dir != dir; t = t->next)
		;
	pthread_mutex_unlock(&g_lock);
	return t;
}

/* fill de (a struct dirent or dirent64: the same fields) from e at index i */
#define FILL_DIRENT(de, e, i)                                            \
	do {                                                             \
		(de)->d_ino = (i) + 1;                                   \
		(de)->d_off = (long)(i) + 1;                             \
		(de)->d_reclen = sizeof(*(de));                          \
		(de)->d_type = (e)->type;                                \
		snprintf((de)->d_name, sizeof((de)->d_name), "%s", (e)->name); \
	} while (0)

/* readdir of a DIR of the host's /dev (fake_top_opened) */
static int top_readdir(struct top_dir *t, struct dirent **de, struct dirent64 **de64)
{
	int saved = errno;

	errno = 0; /* libc's end leaves errno alone, its error sets it */
	for (;;) {
		const char *name;

		if (de) {
			*de = REAL(readdir)(t->dir);
			name = *de ? (*de)->d_name : NULL;
		} else {
			*de64 = REAL(readdir64)(t->dir);
			name = *de64 ? (*de64)->d_name : NULL;
		}
		if (!name)
			break; /* the end (errno as libc left it) or an error */
		if (!(t->hide_iommu && strcmp(name, "iommu") == 0)) {
			errno = saved;
			return 1;
		}
	}
	if (errno)
		return 1; /* libc's error */
	errno = saved;
	if (t->pos == t->n)
		return 1;
	if (de) {
		FILL_DIRENT(&t->de, &t->extra[t->pos], t->pos);
		t->de.d_off = 0;
		*de = &t->de;
	} else {
		FILL_DIRENT(&t->de64, &t->extra[t->pos], t->pos);
		t->de64.d_off = 0;
		*de64 = &t->de64;
	}
	t->pos++;
	return 1;
}

int fake_readdir(DIR *dir, struct dirent **de, struct dirent64 **de64)
{
	struct fake_dir *d = fake_dir_of(dir);
	struct top_dir *t;

	if (!d && (t = top_of(dir)))
		return top_readdir(t, de, de64);
	if (!d)
		return 0;
	if (d->pos == d->n) {
		if (de)
			*de = NULL;
		if (de64)
			*de64 = NULL;
		return 1;
	}
	if (de) {
		FILL_DIRENT(&d->de, &d->ents[d->pos], d->pos);
		*de = &d->de;
	}
	if (de64) {
		FILL_DIRENT(&d->de64, &d->ents[d->pos], d->pos);
		*de64 = &d->de64;
	}
	d->pos++;
	return 1;
}

int fake_dirfd(DIR *dir)
{
	struct fake_dir *d = fake_dir_of(dir);

	return d ? d->fd : -2;
}

bool fake_seekdir(DIR *dir, long pos)
{
	struct fake_dir *d = fake_dir_of(dir);
	struct top_dir *t;

	if (!d && (t = top_of(dir))) {
		/* the host's position; the extras follow its end again */
		t->pos = 0;
		if (pos == 0)
			REAL(rewinddir)(dir);
		else
			REAL(seekdir)(dir, pos);
		return true;
	}
	if (!d)
		return false;
	d->pos = pos < 0 ? 0 : (size_t)pos > d->n ? d->n : (size_t)pos;
	return true;
}

long fake_telldir(DIR *dir)
{
	struct fake_dir *d = fake_dir_of(dir);

	return d ? (long)d->pos : -2;
}

bool fake_closedir(DIR *dir)
{
	struct fake_dir *d = NULL;

	if (dir && __atomic_load_n(&g_ntops, __ATOMIC_RELAXED)) {
		struct top_dir *t = NULL;

		pthread_mutex_lock(&g_lock);
		for (struct top_dir **pp = &g_tops; *pp; pp = &(*pp)->next) {
			if ((*pp)->dir == dir) {
				t = *pp;
				*pp = t->next;
				__atomic_sub_fetch(&g_ntops, 1, __ATOMIC_RELAXED);
				break;
			}
		}
		pthread_mutex_unlock(&g_lock);
		free(t);
		if (t)
			return false; /* libc's closedir() closes the DIR itself */
	}
	if (!dir || !__atomic_load_n(&g_ndirs, __ATOMIC_RELAXED))
		return false;
	pthread_mutex_lock(&g_lock);
	for (struct fake_dir **pp = &g_dirs; *pp; pp = &(*pp)->next) {
		if ((DIR *)*pp == dir) {
			d = *pp;
			*pp = d->next;
			__atomic_sub_fetch(&g_ndirs, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	pthread_mutex_unlock(&g_lock);
	if (!d)
		return false;
	fake_fd_closed(d->fd);
	in_emu++;
	REAL(close)(d->fd);
	in_emu--;
	free(d->ents);
	free(d);
	return true;
}
