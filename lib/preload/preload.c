// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libiommufd-preload.so: an emulated /dev/iommu and /dev/vfio for unmodified
 * programs.
 *
 *   LD_PRELOAD=libiommufd-preload.so program ...
 *
 * The library interposes the libc entry points a program uses to reach the
 * kernel's iommufd and VFIO (open, ioctl, read, write, mmap, close, dup,
 * fstat, ...) and sends them to one in-process emulator (lib/emu/), made
 * lazily at the first open of an emulated node. Every emulated fd is a real,
 * unique fd number (an eventfd that the emulator keeps readable when the file
 * has data), so poll(), select() and epoll work unhooked; calls on any other
 * fd go straight to libc.
 *
 * What is emulated:
 *  - /dev/iommu, /dev/vfio/... (open, openat, fopen);
 *  - with IOMMUFD_EMU_DEVICES="edu@0000:00:02.0,nvme,generic@0000:00:05.0":
 *    emulated PCI devices on vfio-pci; their sysfs entries (/sys/bus/pci/...,
 *    /sys/kernel/iommu_groups/...) are redirected to the emulator's private
 *    tree for open/opendir/fopen/stat/lstat/access/readlink;
 *  - /proc/<pid>/status: VmPin/VmLck include the pages the emulator pins
 *    (the kernel's mm->pinned_vm/locked_vm), for the process that owns them;
 *  - /proc/self/task/<tid>/fail-nth (and /proc/thread-self/fail-nth): the
 *    kernel's fault-injection knob, mapped onto iommufd_emu_set_fail_nth();
 *  - opendir("/sys/kernel/debug"): a private scratch tree holding the
 *    fault-injection knobs (failslab/, fail_page_alloc/), so programs that
 *    configure debugfs fault injection (the kernel's iommufd_fail_nth
 *    selftest) find it and write into a throw-away copy.
 *
 * Recursion: while a thread is inside the emulator (in_emu), every hook goes
 * straight to the real function, so the emulator's own libc calls (on its
 * eventfds, /proc/self/maps, memfds ...) are never emulated again.
 *
 * exec: every emulated fd is close-on-exec (also after dup/dup2/F_DUPFD),
 * since the emulator state cannot cross an exec.
 *
 * Limits: readv/writev/preadv and syscall(SYS_ioctl, ...) on emulated fds are
 * not interposed; the emulator learns of a munmap only at the start address
 * of an emulated mapping (where it put it, or where MAP_FIXED moved it);
 * access("/dev/vfio/...") says yes for any name once IOMMUFD_EMU_DEVICES is
 * set (open() then gives the real answer); stdio on an emulated node opened
 * with fopen() bypasses the emulator (the nodes are ioctl-driven anyway).
 *
 * fork: the kernel shares one iommufd object between parent and child. The
 * child's calls on the emulated fds it inherited are forwarded to the
 * emulator's process (see "fork: forwarding"), which runs them on the child's
 * behalf; fds the child opens itself, and everything if the emulator's
 * process is gone, work on the child's own copy of the emulator state.
 * pthread_atfork keeps the locks consistent. vfork/clone/posix_spawn are not
 * hooked (the child execs, where emulated fds are closed anyway).
 *
 * hugetlb: with IOMMUFD_PRELOAD_FAKE_HUGETLB=1 a MAP_HUGETLB mapping that the
 * host cannot back gets 2 MiB-aligned normal pages (see "hugetlb stand-in").
 *
 * IOMMUFD_PRELOAD_DEBUG=1 traces what is emulated on stderr.
 *
 * The emulator is linked in from the library's internal static copy
 * (libiommufd-internal): the preload library needs internals (is this fd
 * emulated, the pinned-page figures) that libiommufd.so does not export, and
 * must not depend on an installed libiommufd. A version script exports only
 * the libc names interposed here.
 */

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
#include <sys/uio.h>
#include <unistd.h>

#include "emu/emu.h"
#include "emu/iopt.h"

#define EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------ real functions */

#define REAL_DECL(name) static __typeof__(name) *real_##name
#define REAL(name)                                                                    \
	(__atomic_load_n(&real_##name, __ATOMIC_RELAXED) ?:                           \
	 (real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)))

int __open_2(const char *path, int flags);
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

REAL_DECL(open);
REAL_DECL(open64);
REAL_DECL(openat);
REAL_DECL(openat64);
REAL_DECL(__open_2);
REAL_DECL(__open64_2);
REAL_DECL(__openat_2);
REAL_DECL(__openat64_2);
REAL_DECL(close);
REAL_DECL(ioctl);
REAL_DECL(read);
REAL_DECL(write);
REAL_DECL(pread);
REAL_DECL(pread64);
REAL_DECL(pwrite);
REAL_DECL(pwrite64);
REAL_DECL(__read_chk);
REAL_DECL(__pread_chk);
REAL_DECL(__pread64_chk);
REAL_DECL(mmap);
REAL_DECL(munmap);
REAL_DECL(fstat);
REAL_DECL(fstat64);
REAL_DECL(__fxstat);
REAL_DECL(__fxstat64);
REAL_DECL(stat);
REAL_DECL(stat64);
REAL_DECL(lstat);
REAL_DECL(lstat64);
REAL_DECL(__xstat);
REAL_DECL(__xstat64);
REAL_DECL(__lxstat);
REAL_DECL(__lxstat64);
REAL_DECL(access);
REAL_DECL(readlink);
REAL_DECL(dup);
REAL_DECL(dup2);
REAL_DECL(dup3);
REAL_DECL(fcntl);
REAL_DECL(fcntl64);
REAL_DECL(fopen);
REAL_DECL(fopen64);
REAL_DECL(opendir);
REAL_DECL(closedir);

/* ------------------------------------------------------------ state */

/* > 0 while this thread runs emulator code: hooks pass straight through */
static __thread int in_emu __attribute__((tls_model("initial-exec")));

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* guards everything below */
static struct iommufd_emu *g_emu; /* the emulator, made at first use */
static pid_t g_emu_pid;           /* the process that made it */
static pid_t g_acct_pid;          /* the process charged with the emulator's pins */
static int g_emu_err;             /* creation failed: errno to give */
static bool g_devices;            /* IOMMUFD_EMU_DEVICES configured some devices */
static char g_sysfs[PATH_MAX];    /* the emulator's sysfs tree (with devices) */

/* fail-nth files: real eventfds, written/read as the kernel's knob */
#define MAX_NTH_FDS 16
static int g_nth_fds[MAX_NTH_FDS];
static int g_nnth_fds;
static unsigned long g_nth; /* armed value, 0: off */

/* debugfs stand-in (made at opendir("/sys/kernel/debug"), gone at closedir) */
static char g_debugfs[PATH_MAX];
static DIR *g_debugfs_dir;

/* emulated mappings placed with MAP_FIXED: moved there by mremap */
struct fixed_map {
	void *user;
	void *emu;
	size_t len;
};
#define MAX_FIXED 64
static struct fixed_map g_fixed[MAX_FIXED];

static int dbg_on = -1;

static void pdbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void pdbg(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	if (dbg_on < 0) {
		const char *e = getenv("IOMMUFD_PRELOAD_DEBUG");

		dbg_on = e && *e && strcmp(e, "0") != 0;
	}
	if (!dbg_on)
		return;
	n = snprintf(buf, sizeof(buf), "iommufd-preload[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	in_emu++;
	if (REAL(write)(2, buf, (size_t)n) < 0)
		n = 0;
	in_emu--;
}

/* set errno from a backend result (>= 0 or -errno) and return the libc value */
static long ret_errno(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* ------------------------------------------------------------ emulator lifetime */

static const struct {
	const char *name;
	uint32_t kind;
} dev_kinds[] = {
	{ "edu", IOMMUFD_EMU_DEVICE_EDU },
	{ "nvme", IOMMUFD_EMU_DEVICE_NVME },
	{ "generic", IOMMUFD_EMU_DEVICE_GENERIC },
};

/* IOMMUFD_EMU_DEVICES: "kind[@bdf][#group],..."; returns the number added or -errno */
static int add_env_devices(struct iommufd_emu *emu)
{
	const char *env = getenv("IOMMUFD_EMU_DEVICES");
	char *copy, *save = NULL;
	int n = 0, r = 0;

	if (!env || !*env)
		return 0;
	copy = strdup(env);
	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		struct iommufd_emu_device_opts o = { .sz = sizeof(o) };
		char *at = strchr(tok, '@'), *hash = strchr(tok, '#');
		char path[64];
		size_t i;

		if (hash) {
			*hash = '\0';
			o.group = atoi(hash + 1);
		}
		if (at) {
			*at = '\0';
			o.bdf = at + 1;
		}
		for (i = 0; i < sizeof(dev_kinds) / sizeof(dev_kinds[0]); i++)
			if (strcmp(tok, dev_kinds[i].name) == 0)
				o.kind = dev_kinds[i].kind;
		if (!o.kind) {
			fprintf(stderr, "iommufd-preload: IOMMUFD_EMU_DEVICES: unknown device kind "
				"\"%s\" (edu, nvme, generic)\n", tok);
			r = -EINVAL;
			break;
		}
		r = iommufd_emu_add_pci_device(emu, &o, path, sizeof(path));
		if (r < 0) {
			fprintf(stderr, "iommufd-preload: IOMMUFD_EMU_DEVICES: %s: %s\n", tok,
				iommufd_emu_last_error()[0] ? iommufd_emu_last_error() : strerror(-r));
			break;
		}
		pdbg("device %s%s%s -> %s", tok, o.bdf ? "@" : "", o.bdf ? o.bdf : "", path);
		n++;
	}
	free(copy);
	return r < 0 ? r : n;
}

/* The emulator, made at first use (called with in_emu raised). NULL: errno set. */
static struct iommufd_emu *emu_get(void)
{
	struct iommufd_emu *emu;
	int r;

	pthread_mutex_lock(&g_lock);
	if (g_emu || g_emu_err) {
		emu = g_emu;
		r = g_emu_err;
		pthread_mutex_unlock(&g_lock);
		if (!emu)
			errno = r;
		return emu;
	}
	r = iommufd_emu_new(&emu);
	if (r == 0) {
		r = add_env_devices(emu);
		if (r > 0) {
			const char *root = be_sysfs_root(iommufd_emu_get_backend(emu));

			g_devices = true;
			snprintf(g_sysfs, sizeof(g_sysfs), "%s", root);
			pdbg("sysfs tree %s", g_sysfs);
		}
		if (r < 0) {
			iommufd_emu_unref(emu);
			emu = NULL;
		}
	}
	if (r < 0) {
		g_emu_err = -r;
		pthread_mutex_unlock(&g_lock);
		errno = -r;
		return NULL;
	}
	g_emu_pid = g_acct_pid = getpid();
	__atomic_store_n(&g_emu, emu, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_lock);
	pdbg("emulator ready");
	return emu;
}

static struct iommufd_backend *be_of(struct iommufd_emu *emu)
{
	return iommufd_emu_get_backend(emu);
}

/* Does the emulator own fd? (no emulator yet: no) */
static struct iommufd_emu *emu_owning(int fd)
{
	struct iommufd_emu *emu = __atomic_load_n(&g_emu, __ATOMIC_ACQUIRE);
	struct emu_file *f;

	if (!emu || fd < 0 || in_emu)
		return NULL;
	in_emu++;
	emu_lock(emu);
	f = emu_file_lookup(emu, fd);
	emu_unlock(emu);
	in_emu--;
	return f ? emu : NULL;
}

/* ------------------------------------------------------------ fork: forwarding */

/*
 * After fork the kernel has ONE iommufd object behind the parent's and the
 * child's fd. Here the child has a copy of the emulator; so that both work on
 * the same state, the child sends its calls on the fds it inherited to the
 * process that owns the emulator, where a server thread runs them on behalf
 * of the child (emu_set_current_pid: user memory and page ownership are the
 * child's, like "current" in the kernel). The server starts at the first fork
 * of that process. If it cannot be reached (gone), the child's own copy
 * answers, as before.
 */
void emu_set_current_pid(pid_t pid) __attribute__((weak));

enum { FWD_IOCTL = 1, FWD_READ, FWD_WRITE, FWD_PREAD, FWD_PWRITE };

struct fwd_req {
	int op;
	int fd;
	unsigned long req;
	uint64_t arg; /* ioctl arg / buffer, in the child's memory */
	uint64_t len;
	int64_t off;
	pid_t pid;
};

static int g_fwd_srv = -1;  /* the owner's end (served by its thread) */
static int g_fwd_cli = -1;  /* the children's end */
static bool g_fwd_started;
static bool g_fwd_thread;   /* the server thread runs (joined at exit) */
static pthread_t g_fwd_tid;
/* in a child: the emulated fds inherited from the emulator's process */
static uint8_t *g_remote;   /* bitmap */
static size_t g_nremote;    /* bits */

static bool is_remote(int fd)
{
	return !in_emu && g_remote && fd >= 0 && (size_t)fd < g_nremote &&
	       (g_remote[fd / 8] & (1u << (fd % 8)));
}

static void remote_forget(int fd)
{
	if (is_remote(fd))
		g_remote[fd / 8] &= (uint8_t)~(1u << (fd % 8));
}

/* run one forwarded call in the emulator's process */
static int64_t fwd_serve_one(const struct fwd_req *q)
{
	struct iommufd_emu *emu = g_emu;
	struct iommufd_backend *be = be_of(emu);
	struct iovec l, r;
	void *buf = NULL;
	int64_t ret;

	if (q->op != FWD_IOCTL) {
		if (q->len > (64u << 20))
			return -EINVAL;
		buf = malloc(q->len ? q->len : 1);
		if (!buf)
			return -ENOMEM;
		l = (struct iovec){ buf, q->len };
		r = (struct iovec){ (void *)(uintptr_t)q->arg, q->len };
		if ((q->op == FWD_WRITE || q->op == FWD_PWRITE) && q->len &&
		    process_vm_readv(q->pid, &l, 1, &r, 1, 0) != (ssize_t)q->len) {
			free(buf);
			return -EFAULT;
		}
	}
	if (emu_set_current_pid)
		emu_set_current_pid(q->pid);
	switch (q->op) {
	case FWD_IOCTL:
		ret = be_ioctl(be, q->fd, q->req, (void *)(uintptr_t)q->arg);
		break;
	case FWD_READ:
		ret = be_read(be, q->fd, buf, q->len);
		break;
	case FWD_PREAD:
		ret = be_pread(be, q->fd, buf, q->len, q->off);
		break;
	case FWD_WRITE:
		ret = be_write(be, q->fd, buf, q->len);
		break;
	case FWD_PWRITE:
		ret = be_pwrite(be, q->fd, buf, q->len, q->off);
		break;
	default:
		ret = -EINVAL;
	}
	if (emu_set_current_pid)
		emu_set_current_pid(0);
	if ((q->op == FWD_READ || q->op == FWD_PREAD) && ret > 0) {
		l.iov_len = r.iov_len = (size_t)ret;
		if (process_vm_writev(q->pid, &l, 1, &r, 1, 0) != ret)
			ret = -EFAULT;
	}
	free(buf);
	return ret;
}

static void *fwd_server(void *unused)
{
	(void)unused;
	in_emu++; /* everything this thread does is the emulator's own */
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct fwd_req q;
		struct iovec iov = { &q, sizeof(q) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		int64_t ret;
		int rfd = -1;
		ssize_t n = recvmsg(g_fwd_srv, &m, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				memcpy(&rfd, CMSG_DATA(c), sizeof(int));
		if (rfd < 0)
			continue;
		ret = n == sizeof(q) ? fwd_serve_one(&q) : -EINVAL;
		if (send(rfd, &ret, sizeof(ret), MSG_NOSIGNAL) < 0)
			pdbg("forward reply: %s", strerror(errno));
		REAL(close)(rfd);
	}
	in_emu--;
	return NULL;
}

/* the emulator's process is about to fork: make sure children can reach it */
static void fwd_start(void)
{
	int sv[2];

	if (g_fwd_started || !g_emu || g_emu_pid != getpid() || !emu_set_current_pid)
		return;
	g_fwd_started = true;
	in_emu++;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		in_emu--;
		return;
	}
	g_fwd_srv = sv[0];
	g_fwd_cli = sv[1];
	if (pthread_create(&g_fwd_tid, NULL, fwd_server, NULL) != 0) {
		REAL(close)(sv[0]);
		REAL(close)(sv[1]);
		g_fwd_srv = g_fwd_cli = -1;
	} else {
		g_fwd_thread = true;
	}
	in_emu--;
}

/* in a child: send a call to the emulator's process; false if unreachable */
static bool fwd_call(int op, int fd, unsigned long req, uint64_t arg, uint64_t len, int64_t off,
		     int64_t *ret)
{
	struct fwd_req q;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &q, sizeof(q) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int rp[2];
	ssize_t n;

	if (g_fwd_cli < 0)
		return false;
	memset(&q, 0, sizeof(q)); /* no stray padding bytes on the socket */
	q.op = op;
	q.fd = fd;
	q.req = req;
	q.arg = arg;
	q.len = len;
	q.off = off;
	q.pid = getpid();
	in_emu++;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp) < 0) {
		in_emu--;
		return false;
	}
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &rp[1], sizeof(int));
	n = sendmsg(g_fwd_cli, &m, MSG_NOSIGNAL);
	REAL(close)(rp[1]);
	if (n == sizeof(q)) {
		do
			n = recv(rp[0], ret, sizeof(*ret), 0);
		while (n < 0 && errno == EINTR);
	}
	REAL(close)(rp[0]);
	in_emu--;
	if (n != sizeof(*ret)) {
		pdbg("forwarding fd %d: the emulator's process is gone, using the copy", fd);
		return false;
	}
	return true;
}

/* in a child: remember the emulated fds inherited (once; grandchildren keep them) */
static void fwd_child_setup(void)
{
	struct iommufd_emu *emu = g_emu;

	if (g_remote || !emu || g_fwd_cli < 0)
		return;
	g_nremote = emu->nfds;
	g_remote = calloc((g_nremote + 7) / 8, 1);
	if (!g_remote)
		return;
	for (size_t i = 0; i < emu->nfds; i++)
		if (emu->fds[i])
			g_remote[i / 8] |= (uint8_t)(1u << (i % 8));
}

pid_t fork(void);
REAL_DECL(fork);

EXPORT pid_t fork(void)
{
	if (!in_emu && __atomic_load_n(&g_emu, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&g_lock);
		fwd_start();
		pthread_mutex_unlock(&g_lock);
	}
	return REAL(fork)();
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&g_lock);
	if (g_emu)
		emu_lock(g_emu);
}

static void atfork_parent(void)
{
	if (g_emu)
		emu_unlock(g_emu);
	pthread_mutex_unlock(&g_lock);
}

/*
 * In the child the locks taken by atfork_prepare belong to a thread id that
 * does not exist there (a recursive mutex refuses an unlock by another
 * owner): make them afresh, unlocked. The child has only the forking thread.
 */
static void atfork_child(void)
{
	if (g_emu) {
		pthread_mutexattr_t a;

		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&g_emu->lock, &a);
		pthread_mutexattr_destroy(&a);
	}
	pthread_mutex_init(&g_lock, NULL);
	if (g_fwd_srv >= 0) {
		/* the server thread did not come along */
		REAL(close)(g_fwd_srv);
		g_fwd_srv = -1;
	}
	g_fwd_thread = false;
	fwd_child_setup();
}

static void rm_tree(const char *dir);

__attribute__((constructor)) static void preload_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

__attribute__((destructor)) static void preload_fini(void)
{
	/* only the process that made the emulator tears it down (removes its
	 * sysfs tree); forked children that exit() leave the parent's alone */
	in_emu++;
	if (g_fwd_thread) {
		/* stop the fork server: its recvmsg sees the end */
		shutdown(g_fwd_srv, SHUT_RDWR);
		pthread_join(g_fwd_tid, NULL);
		g_fwd_thread = false;
	}
	if (g_emu && g_emu_pid == getpid() && g_devices) {
		iommufd_emu_unref(g_emu);
		g_emu = NULL;
	}
	if (g_debugfs[0])
		rm_tree(g_debugfs);
	in_emu--;
}

/* ------------------------------------------------------------ paths */

static bool is_emulated_node(const char *path)
{
	if (!path)
		return false;
	return strcmp(path, "/dev/iommu") == 0 || strncmp(path, "/dev/vfio/", 10) == 0 ||
	       strcmp(path, "/dev/vfio") == 0;
}

/* "/proc/self/task/N/fail-nth", "/proc/N/task/N/fail-nth", "/proc/thread-self/fail-nth" */
static bool is_fail_nth(const char *path)
{
	size_t l;

	if (!path || strncmp(path, "/proc/", 6) != 0)
		return false;
	l = strlen(path);
	return l > 9 && strcmp(path + l - 9, "/fail-nth") == 0 &&
	       (strstr(path, "/task/") || strncmp(path, "/proc/thread-self/", 18) == 0);
}

/* /proc/<pid>/status: the pid it names, 0 if not such a path */
static pid_t status_pid(const char *path)
{
	char *end;
	long pid;

	if (!path || strncmp(path, "/proc/", 6) != 0)
		return 0;
	path += 6;
	if (strcmp(path, "self/status") == 0 || strcmp(path, "thread-self/status") == 0)
		return getpid();
	pid = strtol(path, &end, 10);
	if (end == path || pid <= 0 || strcmp(end, "/status") != 0)
		return 0;
	return (pid_t)pid;
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

/* ------------------------------------------------------------ fail-nth */

static int nth_slot(int fd)
{
	for (int i = 0; i < g_nnth_fds; i++)
		if (g_nth_fds[i] == fd)
			return i;
	return -1;
}

static bool is_nth_fd(int fd)
{
	bool r;

	if (fd < 0 || !g_nnth_fds)
		return false;
	pthread_mutex_lock(&g_lock);
	r = nth_slot(fd) >= 0;
	pthread_mutex_unlock(&g_lock);
	return r;
}

static int nth_open(int flags)
{
	int fd;

	fd = eventfd(0, (flags & O_CLOEXEC) ? EFD_CLOEXEC : 0);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&g_lock);
	if (g_nnth_fds == MAX_NTH_FDS) {
		pthread_mutex_unlock(&g_lock);
		REAL(close)(fd);
		errno = EMFILE;
		return -1;
	}
	g_nth_fds[g_nnth_fds++] = fd;
	pthread_mutex_unlock(&g_lock);
	pdbg("fail-nth opened as fd %d", fd);
	return fd;
}

static void nth_close(int fd)
{
	pthread_mutex_lock(&g_lock);
	int i = nth_slot(fd);

	if (i >= 0)
		g_nth_fds[i] = g_nth_fds[--g_nnth_fds];
	pthread_mutex_unlock(&g_lock);
}

/* the kernel's value: armed count left, "0" once the fault fired (or off) */
static ssize_t nth_read(void *buf, size_t len, off_t off)
{
	char s[32];
	unsigned long left = 0;
	size_t n;

	in_emu++;
	if (g_nth && g_emu) {
		unsigned long count = iommufd_emu_get_fail_count(g_emu);

		left = count >= g_nth ? 0 : g_nth - count;
	}
	in_emu--;
	n = (size_t)snprintf(s, sizeof(s), "%lu\n", left);
	if (off < 0)
		return ret_errno(-EINVAL);
	if ((size_t)off >= n)
		return 0;
	n -= (size_t)off;
	if (n > len)
		n = len;
	memcpy(buf, s + off, n);
	return (ssize_t)n;
}

static ssize_t nth_write(const void *buf, size_t len)
{
	struct iommufd_emu *emu;
	char s[32];
	unsigned long v;
	char *end;

	if (len == 0 || len >= sizeof(s))
		return ret_errno(-EINVAL);
	memcpy(s, buf, len);
	s[len] = '\0';
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || (*end && strcmp(end, "\n") != 0) || v > UINT_MAX)
		return ret_errno(-EINVAL);
	in_emu++;
	emu = emu_get();
	if (!emu) {
		in_emu--;
		return -1;
	}
	iommufd_emu_set_fail_nth(emu, v);
	g_nth = v;
	in_emu--;
	return (ssize_t)len;
}

/* ------------------------------------------------------------ /proc/<pid>/status */

static FILE *status_open(const char *path, const char *mode, pid_t pid)
{
	struct iopt_acct_stats st;
	char line[512];
	FILE *in, *out;
	long pin_kb, lck_kb;

	in_emu++;
	iopt_acct_get(&st);
	pin_kb = (long)(st.pinned * iopt_page_size() / 1024);
	lck_kb = (long)(st.mm_locked * iopt_page_size() / 1024);
	in = REAL(fopen)(path, mode);
	if (!in) {
		in_emu--;
		return NULL;
	}
	out = fmemopen(NULL, 16384, "w+");
	if (!out) {
		in_emu--;
		return in;
	}
	while (fgets(line, sizeof(line), in)) {
		long v;

		if (sscanf(line, "VmPin: %ld", &v) == 1)
			fprintf(out, "VmPin:\t%8ld kB\n", v + pin_kb);
		else if (sscanf(line, "VmLck: %ld", &v) == 1)
			fprintf(out, "VmLck:\t%8ld kB\n", v + lck_kb);
		else
			fputs(line, out);
	}
	fclose(in);
	rewind(out);
	in_emu--;
	pdbg("%s: VmPin +%ld kB, VmLck +%ld kB", path, pin_kb, lck_kb);
	(void)pid;
	return out;
}

/* ------------------------------------------------------------ debugfs stand-in */

static void rm_tree(const char *dir)
{
	DIR *d = REAL(opendir)(dir);
	struct dirent *e;
	char p[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			rm_tree(p);
		else
			unlink(p);
	}
	REAL(closedir)(d);
	rmdir(dir);
}

static int put_file(const char *dir, const char *rel, const char *val)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	fd = REAL(open)(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (REAL(write)(fd, val, strlen(val)) < 0) {
		REAL(close)(fd);
		return -1;
	}
	return REAL(close)(fd);
}

static DIR *debugfs_open(void)
{
	static const char *const knobs[] = { "failslab", "fail_page_alloc", "fail_usercopy",
					     "fail_iommufd" };
	char tmpl[] = "/tmp/iommufd-preload-debugfs.XXXXXX";
	char p[PATH_MAX];
	DIR *d;

	in_emu++;
	if (!mkdtemp(tmpl)) {
		in_emu--;
		return NULL;
	}
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpl, knobs[i]);
		mkdir(p, 0700);
		snprintf(p, sizeof(p), "%s/verbose", knobs[i]);
		put_file(tmpl, p, "2\n");
		snprintf(p, sizeof(p), "%s/ignore-gfp-wait", knobs[i]);
		put_file(tmpl, p, "Y\n");
	}
	put_file(tmpl, "fail_page_alloc/ignore-gfp-highmem", "Y\n");
	d = REAL(opendir)(tmpl);
	if (d) {
		pthread_mutex_lock(&g_lock);
		if (g_debugfs[0])
			rm_tree(g_debugfs);
		snprintf(g_debugfs, sizeof(g_debugfs), "%s", tmpl);
		g_debugfs_dir = d;
		pthread_mutex_unlock(&g_lock);
		pdbg("debugfs -> %s", tmpl);
	} else {
		rm_tree(tmpl);
	}
	in_emu--;
	return d;
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

/* ------------------------------------------------------------ fd operations */

EXPORT int close(int fd)
{
	struct iommufd_emu *emu;
	int r;

	remote_forget(fd); /* the emulator's process keeps its own fd */
	emu = emu_owning(fd);

	if (!emu) {
		if (!in_emu && is_nth_fd(fd))
			nth_close(fd);
		return REAL(close)(fd);
	}
	in_emu++;
	r = be_close(be_of(emu), fd);
	in_emu--;
	return (int)ret_errno(r);
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct iommufd_emu *emu;
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (is_remote(fd)) {
		int64_t ret;

		if (fwd_call(FWD_IOCTL, fd, req, (uintptr_t)arg, 0, 0, &ret)) {
			if (ret >= 0 && req == KABI_IOMMU_IOAS_CHANGE_PROCESS)
				g_acct_pid = getpid();
			return (int)ret_errno((long)ret);
		}
	}
	emu = emu_owning(fd);
	if (!emu)
		return REAL(ioctl)(fd, req, arg);
	in_emu++;
	r = be_ioctl(be_of(emu), fd, req, arg);
	if (r >= 0 && req == KABI_IOMMU_IOAS_CHANGE_PROCESS)
		g_acct_pid = getpid(); /* the pins are now charged to this process */
	in_emu--;
	return (int)ret_errno(r);
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	struct iommufd_emu *emu = emu_owning(fd);
	ssize_t r;

	if (is_remote(fd)) {
		int64_t ret;

		if (fwd_call(FWD_READ, fd, 0, (uintptr_t)buf, len, 0, &ret))
			return ret_errno((long)ret);
	}

	if (!emu) {
		if (!in_emu && is_nth_fd(fd))
			return nth_read(buf, len, 0);
		return REAL(read)(fd, buf, len);
	}
	in_emu++;
	r = be_read(be_of(emu), fd, buf, len);
	in_emu--;
	return ret_errno(r);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		return REAL(__read_chk)(fd, buf, len, buflen); /* libc aborts */
	return read(fd, buf, len);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	struct iommufd_emu *emu = emu_owning(fd);
	ssize_t r;

	if (is_remote(fd)) {
		int64_t ret;

		if (fwd_call(FWD_WRITE, fd, 0, (uintptr_t)buf, len, 0, &ret))
			return ret_errno((long)ret);
	}

	if (!emu) {
		if (!in_emu && is_nth_fd(fd))
			return nth_write(buf, len);
		return REAL(write)(fd, buf, len);
	}
	in_emu++;
	r = be_write(be_of(emu), fd, buf, len);
	in_emu--;
	return ret_errno(r);
}

EXPORT ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	struct iommufd_emu *emu = emu_owning(fd);
	ssize_t r;

	if (is_remote(fd)) {
		int64_t ret;

		if (fwd_call(FWD_PREAD, fd, 0, (uintptr_t)buf, len, off, &ret))
			return ret_errno((long)ret);
	}

	if (!emu) {
		if (!in_emu && is_nth_fd(fd))
			return nth_read(buf, len, off);
		return REAL(pread)(fd, buf, len, off);
	}
	in_emu++;
	r = be_pread(be_of(emu), fd, buf, len, off);
	in_emu--;
	return ret_errno(r);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t len, off64_t off)
{
	if (!in_emu && (emu_owning(fd) || is_nth_fd(fd)))
		return pread(fd, buf, len, (off_t)off);
	return REAL(pread64)(fd, buf, len, off);
}

EXPORT ssize_t __pread_chk(int fd, void *buf, size_t len, off_t off, size_t buflen)
{
	if (len > buflen)
		return REAL(__pread_chk)(fd, buf, len, off, buflen);
	return pread(fd, buf, len, off);
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t len, off64_t off, size_t buflen)
{
	if (len > buflen)
		return REAL(__pread64_chk)(fd, buf, len, off, buflen);
	return pread64(fd, buf, len, off);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	struct iommufd_emu *emu = emu_owning(fd);
	ssize_t r;

	if (is_remote(fd)) {
		int64_t ret;

		if (fwd_call(FWD_PWRITE, fd, 0, (uintptr_t)buf, len, off, &ret))
			return ret_errno((long)ret);
	}

	if (!emu) {
		if (!in_emu && is_nth_fd(fd))
			return nth_write(buf, len);
		return REAL(pwrite)(fd, buf, len, off);
	}
	in_emu++;
	r = be_pwrite(be_of(emu), fd, buf, len, off);
	in_emu--;
	return ret_errno(r);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	if (!in_emu && (emu_owning(fd) || is_nth_fd(fd)))
		return pwrite(fd, buf, len, (off_t)off);
	return REAL(pwrite64)(fd, buf, len, off);
}

static void *emu_mmap(struct iommufd_emu *emu, void *addr, size_t len, int prot, int flags,
		      int fd, off_t off)
{
	void *p = NULL;
	int r;

	in_emu++;
	r = be_mmap(be_of(emu), fd, off, len, prot, flags & ~(MAP_FIXED | MAP_FIXED_NOREPLACE),
		    &p);
	in_emu--;
	if (r < 0) {
		errno = -r;
		return MAP_FAILED;
	}
	if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) && addr && p != addr) {
		/* place it where asked, remember where the emulator thinks it is */
		int slot = -1;
		void *q;

		pthread_mutex_lock(&g_lock);
		for (int i = 0; i < MAX_FIXED && slot < 0; i++)
			if (!g_fixed[i].user)
				slot = i;
		if (slot >= 0)
			g_fixed[slot] = (struct fixed_map){ addr, p, len };
		pthread_mutex_unlock(&g_lock);
		q = slot < 0 ? MAP_FAILED :
			       mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, addr);
		if (q == MAP_FAILED) {
			int e = slot < 0 ? ENOMEM : errno;

			if (slot >= 0)
				g_fixed[slot].user = NULL;
			munmap(p, len);
			errno = e;
			return MAP_FAILED;
		}
		p = q;
	}
	return p;
}

/* ------------------------------------------------------------ hugetlb stand-in */

/*
 * IOMMUFD_PRELOAD_FAKE_HUGETLB=1: on a host without free hugetlb pages, a
 * MAP_HUGETLB mapping that fails is made of normal pages instead, aligned to
 * and sized in huge pages (as hugetlb would be), and memfd_create(MFD_HUGETLB)
 * makes a normal memfd. Programs that need huge-page *alignment* then run;
 * nothing pretends the pages are physically contiguous.
 */
static bool fake_hugetlb(void)
{
	const char *e = getenv("IOMMUFD_PRELOAD_FAKE_HUGETLB");

	return e && *e && strcmp(e, "0") != 0;
}

static bool host_has_free_hugepages(void)
{
	char line[128];
	bool r = false;
	FILE *f;

	in_emu++;
	f = REAL(fopen)("/proc/meminfo", "re");
	in_emu--;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		long v;

		if (sscanf(line, "HugePages_Free: %ld", &v) == 1) {
			r = v > 0;
			break;
		}
	}
	fclose(f);
	return r;
}

static size_t huge_size(int flags)
{
	int shift = (flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;

	return shift ? (size_t)1 << shift : (size_t)2 << 20;
}

static void *hugetlb_fallback(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	size_t hs = huge_size(flags);
	size_t alen = (len + hs - 1) & ~(hs - 1);
	int nflags = flags & ~(MAP_HUGETLB | (MAP_HUGE_MASK << MAP_HUGE_SHIFT));
	uint8_t *res, *aligned;
	void *p;

	if (!alen)
		return MAP_FAILED;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		p = REAL(mmap)(addr, alen, prot, nflags, fd, off);
	} else {
		/* reserve, then place the mapping on a huge-page boundary inside */
		res = REAL(mmap)(NULL, alen + hs, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
				 MAP_NORESERVE, -1, 0);
		if (res == MAP_FAILED)
			return MAP_FAILED;
		aligned = (uint8_t *)(((uintptr_t)res + hs - 1) & ~(uintptr_t)(hs - 1));
		p = REAL(mmap)(aligned, alen, prot, nflags | MAP_FIXED, fd, off);
		if (p == MAP_FAILED) {
			int e = errno;

			REAL(munmap)(res, alen + hs);
			errno = e;
			return MAP_FAILED;
		}
		if (aligned > res)
			REAL(munmap)(res, (size_t)(aligned - res));
		if (res + alen + hs > aligned + alen)
			REAL(munmap)(aligned + alen, (size_t)(res + alen + hs - (aligned + alen)));
	}
	if (p != MAP_FAILED) {
		madvise(p, alen, MADV_HUGEPAGE);
		pdbg("MAP_HUGETLB of %zu bytes: normal pages at %p", len, p);
	}
	return p;
}

static void *real_mmap_huge(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = REAL(mmap)(addr, len, prot, flags, fd, off);

	if (p == MAP_FAILED && (flags & MAP_HUGETLB) && !in_emu &&
	    (errno == ENOMEM || errno == EINVAL) && fake_hugetlb()) {
		int e = errno;

		p = hugetlb_fallback(addr, len, prot, flags, fd, off);
		if (p == MAP_FAILED)
			errno = e;
	}
	return p;
}

int memfd_create(const char *name, unsigned int flags);
REAL_DECL(memfd_create);

EXPORT int memfd_create(const char *name, unsigned int flags)
{
	if ((flags & MFD_HUGETLB) && !in_emu && fake_hugetlb() && !host_has_free_hugepages()) {
		pdbg("memfd_create(%s, MFD_HUGETLB): a normal memfd", name);
		flags &= ~(MFD_HUGETLB | (MFD_HUGE_MASK << MFD_HUGE_SHIFT));
	}
	return REAL(memfd_create)(name, flags);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct iommufd_emu *emu = (flags & MAP_ANONYMOUS) ? NULL : emu_owning(fd);

	if (!emu)
		return real_mmap_huge(addr, len, prot, flags, fd, off);
	return emu_mmap(emu, addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	struct iommufd_emu *emu = (flags & MAP_ANONYMOUS) ? NULL : emu_owning(fd);

	if (!emu)
		return real_mmap_huge(addr, len, prot, flags, fd, (off_t)off);
	return emu_mmap(emu, addr, len, prot, flags, fd, (off_t)off);
}

EXPORT int munmap(void *addr, size_t len)
{
	struct iommufd_emu *emu = __atomic_load_n(&g_emu, __ATOMIC_ACQUIRE);
	void *eaddr = addr;
	int r;

	if (!emu || in_emu)
		return REAL(munmap)(addr, len);
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < MAX_FIXED; i++) {
		if (g_fixed[i].user && g_fixed[i].user == addr) {
			eaddr = g_fixed[i].emu;
			g_fixed[i].user = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&g_lock);
	in_emu++;
	if (eaddr != addr) {
		/* the emulator's address is empty by now: its munmap only notifies */
		r = REAL(munmap)(addr, len);
		if (r == 0)
			r = be_munmap(be_of(emu), eaddr, len);
		else
			r = -errno;
	} else {
		r = be_munmap(be_of(emu), addr, len);
	}
	in_emu--;
	return (int)ret_errno(r);
}

EXPORT int fstat(int fd, struct stat *st)
{
	struct iommufd_emu *emu = emu_owning(fd);
	int r;

	if (!emu)
		return REAL(fstat)(fd, st);
	in_emu++;
	r = be_fstat(be_of(emu), fd, st);
	in_emu--;
	return (int)ret_errno(r);
}

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64 layout differs");

EXPORT int fstat64(int fd, struct stat64 *st)
{
	if (emu_owning(fd))
		return fstat(fd, (struct stat *)st);
	return REAL(fstat64)(fd, st);
}

EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	if (emu_owning(fd))
		return fstat(fd, st);
	return REAL(__fxstat)(ver, fd, st);
}

EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	if (emu_owning(fd))
		return fstat(fd, (struct stat *)st);
	return REAL(__fxstat64)(ver, fd, st);
}

/*
 * Make fd number nfd (a real dup of ofd's eventfd) refer to ofd's emulated
 * file. The backend's dup op only makes fresh numbers; this fills the table
 * slot itself (the emulator has no fd-install call yet).
 */
static int install_fd(struct iommufd_emu *emu, int ofd, int nfd)
{
	struct emu_file *f;

	emu_lock(emu);
	f = emu_file_lookup(emu, ofd);
	if (!f) {
		emu_unlock(emu);
		return -EBADF;
	}
	if ((size_t)nfd >= emu->nfds) {
		size_t n = emu->nfds ? emu->nfds : 64;
		struct emu_file **p;

		while (n <= (size_t)nfd)
			n *= 2;
		p = realloc(emu->fds, n * sizeof(*p));
		if (!p) {
			emu_unlock(emu);
			return -ENOMEM;
		}
		memset(p + emu->nfds, 0, (n - emu->nfds) * sizeof(*p));
		emu->fds = p;
		emu->nfds = n;
	}
	emu->fds[nfd] = f;
	f->refs++;
	f->nfds++;
	emu_unlock(emu);
	return 0;
}

/* dup of an emulated fd: a new emulated fd number for the same file */
static int emu_dup_fd(struct iommufd_emu *emu, int fd, int min)
{
	int r;

	in_emu++;
	r = be_dup(be_of(emu), fd);
	if (r >= 0 && r < min) {
		/* the emulator picks the lowest free number: move it up */
		int r2 = REAL(fcntl)(r, F_DUPFD_CLOEXEC, min);

		if (r2 < 0) {
			int e = errno;

			be_close(be_of(emu), r);
			r = -e;
		} else {
			int e = install_fd(emu, r, r2);

			be_close(be_of(emu), r);
			if (e < 0) {
				REAL(close)(r2);
				r2 = e;
			}
			r = r2;
		}
	}
	in_emu--;
	return (int)ret_errno(r);
}

EXPORT int dup(int fd)
{
	struct iommufd_emu *emu = emu_owning(fd);

	if (!emu)
		return REAL(dup)(fd);
	return emu_dup_fd(emu, fd, 0);
}

static int emu_dup3(struct iommufd_emu *emu, int old, int new, int flags)
{
	int r;

	if (new < 0)
		return (int)ret_errno(-EBADF);
	in_emu++;
	/* close what new refers to, emulated or not, then make new refer to old's file */
	if (emu_file_lookup(emu, new))
		be_close(be_of(emu), new);
	r = REAL(dup3)(old, new, flags | O_CLOEXEC);
	if (r >= 0) {
		int e = install_fd(emu, old, new);

		if (e < 0) {
			REAL(close)(new);
			r = e;
		}
	} else {
		r = -errno;
	}
	in_emu--;
	return (int)ret_errno(r);
}

EXPORT int dup2(int old, int new)
{
	struct iommufd_emu *emu = emu_owning(old);

	if (!emu) {
		/* dup2 onto an emulated fd closes it first */
		struct iommufd_emu *e2 = emu_owning(new);

		if (e2 && old != new && fcntl(old, F_GETFD) >= 0)
			close(new);
		return REAL(dup2)(old, new);
	}
	if (old == new)
		return new;
	return emu_dup3(emu, old, new, 0);
}

EXPORT int dup3(int old, int new, int flags)
{
	struct iommufd_emu *emu = emu_owning(old);

	if (!emu) {
		struct iommufd_emu *e2 = emu_owning(new);

		if (e2 && old != new && fcntl(old, F_GETFD) >= 0)
			close(new);
		return REAL(dup3)(old, new, flags);
	}
	if (old == new)
		return (int)ret_errno(-EINVAL);
	return emu_dup3(emu, old, new, flags);
}

static int do_fcntl(int (*realfn)(int, int, ...), int fd, int cmd, va_list ap)
{
	struct iommufd_emu *emu;
	void *arg = va_arg(ap, void *);

	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && (emu = emu_owning(fd)))
		return emu_dup_fd(emu, fd, (int)(intptr_t)arg);
	return realfn(fd, cmd, arg);
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = do_fcntl(REAL(fcntl), fd, cmd, ap);
	va_end(ap);
	return r;
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	int r;

	va_start(ap, cmd);
	r = do_fcntl(REAL(fcntl64) ? REAL(fcntl64) : REAL(fcntl), fd, cmd, ap);
	va_end(ap);
	return r;
}
