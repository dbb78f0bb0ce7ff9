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
 * unique fd number (a placeholder socket that the emulator keeps readable
 * when the file has data), so poll(), select() and epoll work unhooked; calls
 * on any other fd go straight to libc.
 *
 * Closes: close(), dup2/dup3 onto a number, close_range(), closefrom() and
 * fclose() are seen. A close that is not (syscall(SYS_close, fd), a libc
 * that closes internally) is noticed at the number's next use or the next
 * open of an emulated node: the emulator keeps the identity (st_dev, st_ino)
 * of each placeholder and drops an entry whose number no longer holds it,
 * so a real file that gets the number is never answered by the emulator.
 *
 * What is emulated:
 *  - /dev/iommu, /dev/vfio/... (open, openat, fopen, stat*, access); the
 *    directories /dev/vfio and /dev/vfio/devices open, list (opendir,
 *    readdir, fdopendir: the container, each group, devices/ and each vfioN,
 *    as the emulator's configuration has them) and resolve *at() paths
 *    (view.c); /dev is the host's, its listing with "iommu" and "vfio"
 *    added where the host lacks them ("iommu" hidden without iommufd),
 *    and both resolved relative to a /dev fd as their absolute paths;
 *    get/listxattr of these nodes and of the sysfs view: none;
 *  - with IOMMUFD_EMU_DEVICES="edu@0000:00:02.0,nvme,generic@0000:00:05.0":
 *    emulated PCI devices on vfio-pci; their sysfs entries
 *    (/sys/devices/pci0000:00/..., /sys/bus/pci/..., /sys/kernel/iommu_groups/
 *    ..., /sys/class/vfio-dev/...) come from the emulator's view, in memory,
 *    for open*, fopen, opendir/readdir, stat*, access and readlink (view.c);
 *  - /proc/<pid>/status: VmPin/VmLck include the pages the emulator pins
 *    (the kernel's mm->pinned_vm/locked_vm), for the process that owns them;
 *  - /proc/self/task/<tid>/fail-nth (and /proc/thread-self/fail-nth): the
 *    kernel's fault-injection knob, mapped onto iommufd_emu_set_fail_nth();
 *  - /sys/kernel/debug: the fault-injection knobs (failslab/,
 *    fail_page_alloc/, ...) in memory, so programs that configure debugfs
 *    fault injection (the kernel's iommufd_fail_nth selftest) find them and
 *    write into a throw-away copy (debugfs.c; IOMMUFD_PRELOAD_DEBUGFS=0: the
 *    host's).
 * Nothing is written to disk, in /tmp or elsewhere.
 *
 * Recursion: while a thread is inside the emulator (in_emu), every hook goes
 * straight to the real function, so the emulator's own libc calls (on its
 * eventfds, /proc/self/maps, memfds ...) are never emulated again.
 *
 * exec: every emulated fd is close-on-exec (also after dup/dup2/F_DUPFD),
 * since the emulator state cannot cross an exec.
 *
 * Limits: readv/writev/preadv and syscall(SYS_ioctl, ...) on emulated fds are
 * not interposed; close_range(CLOSE_RANGE_UNSHARE) in one thread of several
 * gives that thread its own fd table: the emulator follows the caller's; the emulator learns of a munmap only at the start address
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
 * SCM_RIGHTS: an emulated fd sent over a Unix socket travels as its
 * placeholder; recvmsg/recvmmsg map a received placeholder back onto the
 * emulated file it stands for, when the receiver's emulator holds that file
 * (the same process, or a forked child for a file it inherited: forwarded as
 * the emulator's process's number), see "SCM_RIGHTS" below for what stays a
 * plain socket.
 *
 * The kernel configuration: IOMMUFD_EMU_CONFIG, a comma-separated list of
 * "no-iommufd" (no /dev/iommu, no /dev/vfio/devices/: open, stat, access and
 * opendir give ENOENT; groups and the type1 container only) and
 * "container-compat" (/dev/vfio/vfio is iommufd's container compatibility
 * instead of the type1 container), see iommufd_emu_set_config(3). An unknown
 * word is reported on stderr and the emulator is not started (every open of
 * an emulated node then fails with EINVAL), as for a bad IOMMUFD_EMU_DEVICES.
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

#include "preload.h"

/* ------------------------------------------------------------ real functions */

#define REAL_DEFINE(name) __typeof__(name) *real_##name;
PRELOAD_REAL_FUNCS(REAL_DEFINE)

/* ------------------------------------------------------------ state */

/* > 0 while this thread runs emulator code: hooks pass straight through */
__thread int in_emu __attribute__((tls_model("initial-exec")));

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* guards everything below */
struct iommufd_emu *g_emu; /* the emulator, made at first use */
pid_t g_emu_pid;           /* the process that made it */
pid_t g_acct_pid;          /* the process charged with the emulator's pins */
static int g_emu_err;      /* creation failed: errno to give */
bool g_devices;            /* IOMMUFD_EMU_DEVICES configured some devices */

/* emulated mappings placed with MAP_FIXED: moved there by mremap */
struct fixed_map {
	void *user;
	void *emu;
	size_t len;
};
#define MAX_FIXED 64
static struct fixed_map g_fixed[MAX_FIXED];

static int dbg_on = -1;

void pdbg(const char *fmt, ...)
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
long ret_errno(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* ------------------------------------------------------------ emulator lifetime */

/* one device of IOMMUFD_EMU_DEVICES added to the emulator (data) */
static int add_env_device(void *data, const struct preload_dev_spec *d)
{
	struct iommufd_emu_device_opts o = { .sz = sizeof(o), .kind = d->kind, .bdf = d->bdf,
					     .group = d->group, .flags = d->flags };
	char path[64];
	int r = iommufd_emu_add_pci_device(data, &o, path, sizeof(path));

	if (r < 0) {
		fprintf(stderr, "iommufd-preload: IOMMUFD_EMU_DEVICES: %s: %s\n", d->tok,
			iommufd_emu_last_error()[0] ? iommufd_emu_last_error() : strerror(-r));
		return r;
	}
	pdbg("device %s -> %s", d->tok, path);
	return 0;
}

/* IOMMUFD_EMU_DEVICES (env.h): the number of devices added, or -errno after a message */
static int add_env_devices(struct iommufd_emu *emu)
{
	char why[256] = "";
	int r = preload_parse_devices(getenv("IOMMUFD_EMU_DEVICES"), add_env_device, emu, why,
				      sizeof(why));

	if (r < 0 && why[0])
		fprintf(stderr, "iommufd-preload: IOMMUFD_EMU_DEVICES: %s\n", why);
	return r;
}

/* IOMMUFD_EMU_CONFIG parsed (env.h) */
int preload_env_config(uint32_t *flags, const char **bad, size_t *badlen)
{
	return preload_parse_config(getenv("IOMMUFD_EMU_CONFIG"), flags, bad, badlen);
}

/* the environment's configuration set on emu; -errno after a message */
static int set_env_config(struct iommufd_emu *emu)
{
	const char *bad = NULL;
	size_t badlen = 0;
	uint32_t flags;
	int r = preload_env_config(&flags, &bad, &badlen);

	if (r) {
		fprintf(stderr, "iommufd-preload: IOMMUFD_EMU_CONFIG: unknown word \"%.*s\" "
			"(no-iommufd, container-compat)\n", (int)badlen, bad);
		return r;
	}
	r = iommufd_emu_set_config(emu, flags);
	if (r)
		fprintf(stderr, "iommufd-preload: IOMMUFD_EMU_CONFIG: %s\n", iommufd_emu_last_error());
	else if (flags)
		pdbg("kernel configuration %#x", flags);
	return r;
}

/* The emulator, made at first use (called with in_emu raised). NULL: errno set. */
struct iommufd_emu *emu_get(void)
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
		r = set_env_config(emu);
		if (r == 0)
			r = add_env_devices(emu);
		if (r > 0) {
			g_devices = true;
			pdbg("%d devices, their sysfs from the emulator's view", r);
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

struct iommufd_backend *be_of(struct iommufd_emu *emu)
{
	return iommufd_emu_get_backend(emu);
}

/* Does the emulator own fd? (no emulator yet: no) */
struct iommufd_emu *emu_owning(int fd)
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

__attribute__((destructor)) static void preload_fini(void)
{
	/* only the process that made the emulator tears it down; forked
	 * children that exit() leave the parent's alone */
	in_emu++;
	fwd_stop();
	if (g_emu && g_emu_pid == getpid() && g_devices) {
		iommufd_emu_unref(g_emu);
		g_emu = NULL;
	}
	in_emu--;
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
		if (!in_emu)
			fake_fd_closed(fd);
		return REAL(close)(fd);
	}
	in_emu++;
	r = be_close(be_of(emu), fd);
	in_emu--;
	return (int)ret_errno(r);
}

/*
 * Closes libc makes without close(): close_range(), closefrom() and
 * fclose() (glibc closes a FILE's fd with its internal __close_nocancel).
 * The real call first, then every number of [lo, hi] that was emulated or
 * faked is forgotten: the emulator drops an entry whose number no longer
 * holds its placeholder (emu_file_lookup). A close no libc function makes
 * (syscall(SYS_close, fd)) is caught the same way at the number's next use,
 * or at the next open of an emulated node.
 */
static void fds_closed(unsigned int lo, unsigned int hi)
{
	struct iommufd_emu *emu = __atomic_load_n(&g_emu, __ATOMIC_ACQUIRE);

	if (in_emu)
		return;
	remote_forget_range(lo, hi);
	nth_close_range(lo, hi);
	fake_fds_closed_range(lo, hi);
	if (!emu)
		return;
	in_emu++;
	emu_lock(emu);
	for (size_t fd = lo; fd < emu->nfds && fd <= hi; fd++)
		emu_file_lookup(emu, (int)fd);
	emu_unlock(emu);
	in_emu--;
}

EXPORT int close_range(unsigned int lo, unsigned int hi, int flags)
{
	int r = REAL(close_range)(lo, hi, flags);

	/* CLOSE_RANGE_CLOEXEC closes nothing (emulated fds are close-on-exec
	 * anyway); with CLOSE_RANGE_UNSHARE this thread's new table lost them */
	if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
		fds_closed(lo, hi);
	return r;
}

EXPORT void closefrom(int lo)
{
	REAL(closefrom)(lo);
	fds_closed(lo < 0 ? 0 : (unsigned int)lo, ~0u);
}

EXPORT int fclose(FILE *fp)
{
	int fd = fp ? fileno(fp) : -1;
	int r = REAL(fclose)(fp);

	if (fd >= 0)
		fds_closed((unsigned int)fd, (unsigned int)fd);
	return r;
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct iommufd_emu *emu;
	bool emulated;
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
	/* one look-up of fd (a system call when it is emulated, see
	 * emu_file_lookup), not emu_owning() and then the backend's own */
	emu = __atomic_load_n(&g_emu, __ATOMIC_ACQUIRE);
	if (!emu || fd < 0 || in_emu)
		return REAL(ioctl)(fd, req, arg);
	in_emu++;
	r = emu_fd_ioctl(emu, fd, req, arg, &emulated);
	if (emulated && r >= 0 && req == KABI_IOMMU_IOAS_CHANGE_PROCESS)
		g_acct_pid = getpid(); /* the pins are now charged to this process */
	in_emu--;
	if (!emulated)
		return REAL(ioctl)(fd, req, arg);
	return (int)ret_errno(r);
}

/*
 * read/write/pread/pwrite of an emulated fd, with one look-up of fd (the
 * backend's, emu_fd_rw): true and *ret (libc's value) when the emulator owns
 * fd, false when the caller makes the real call.
 */
static bool emu_rw(int fd, void *buf, size_t len, off_t off, bool pos, bool wr, ssize_t *ret)
{
	struct iommufd_emu *emu = __atomic_load_n(&g_emu, __ATOMIC_ACQUIRE);
	bool emulated;
	ssize_t r;

	if (!emu || fd < 0 || in_emu)
		return false;
	in_emu++;
	r = emu_fd_rw(emu, fd, buf, len, off, pos, wr, &emulated);
	in_emu--;
	if (emulated)
		*ret = ret_errno(r);
	return emulated;
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	ssize_t r;

	if (is_remote(fd)) {
		int64_t ret;

		if (fwd_call(FWD_READ, fd, 0, (uintptr_t)buf, len, 0, &ret))
			return ret_errno((long)ret);
	}
	if (emu_rw(fd, buf, len, 0, false, false, &r))
		return r;
	if (!in_emu && is_nth_fd(fd))
		return nth_read(buf, len, 0);
	return REAL(read)(fd, buf, len);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		return REAL(__read_chk)(fd, buf, len, buflen); /* libc aborts */
	return read(fd, buf, len);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
	ssize_t r;

	if (is_remote(fd)) {
		int64_t ret;

		if (fwd_call(FWD_WRITE, fd, 0, (uintptr_t)buf, len, 0, &ret))
			return ret_errno((long)ret);
	}
	if (emu_rw(fd, (void *)buf, len, 0, false, true, &r))
		return r;
	if (!in_emu && is_nth_fd(fd))
		return nth_write(buf, len);
	if (fake_attr_write(fd, buf, len, &r))
		return r;
	return REAL(write)(fd, buf, len);
}

EXPORT ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	ssize_t r;

	if (is_remote(fd)) {
		int64_t ret;

		if (fwd_call(FWD_PREAD, fd, 0, (uintptr_t)buf, len, off, &ret))
			return ret_errno((long)ret);
	}
	if (emu_rw(fd, buf, len, off, true, false, &r))
		return r;
	if (!in_emu && is_nth_fd(fd))
		return nth_read(buf, len, off);
	return REAL(pread)(fd, buf, len, off);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t len, off64_t off)
{
	ssize_t r;

	if (is_remote(fd))
		return pread(fd, buf, len, (off_t)off);
	if (emu_rw(fd, buf, len, (off_t)off, true, false, &r))
		return r;
	if (!in_emu && is_nth_fd(fd))
		return nth_read(buf, len, (off_t)off);
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
	ssize_t r;

	if (is_remote(fd)) {
		int64_t ret;

		if (fwd_call(FWD_PWRITE, fd, 0, (uintptr_t)buf, len, off, &ret))
			return ret_errno((long)ret);
	}
	if (emu_rw(fd, (void *)buf, len, off, true, true, &r))
		return r;
	if (!in_emu && is_nth_fd(fd))
		return nth_write(buf, len);
	if (fake_attr_write(fd, buf, len, &r))
		return r;
	return REAL(pwrite)(fd, buf, len, off);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	ssize_t r;

	if (is_remote(fd))
		return pwrite(fd, buf, len, (off_t)off);
	if (emu_rw(fd, (void *)buf, len, (off_t)off, true, true, &r))
		return r;
	if (!in_emu && is_nth_fd(fd))
		return nth_write(buf, len);
	if (fake_attr_write(fd, buf, len, &r))
		return r;
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
		return fake_fstat(fd, st) ? 0 : REAL(fstat)(fd, st);
	in_emu++;
	r = be_fstat(be_of(emu), fd, st);
	in_emu--;
	return (int)ret_errno(r);
}

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64 layout differs");

EXPORT int fstat64(int fd, struct stat64 *st)
{
	if (emu_owning(fd) || fake_is_dir_fd(fd))
		return fstat(fd, (struct stat *)st);
	return REAL(fstat64)(fd, st);
}

EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	if (emu_owning(fd) || fake_is_dir_fd(fd))
		return fstat(fd, st);
	return REAL(__fxstat)(ver, fd, st);
}

EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	if (emu_owning(fd) || fake_is_dir_fd(fd))
		return fstat(fd, (struct stat *)st);
	return REAL(__fxstat64)(ver, fd, st);
}

/*
 * Make fd number nfd (a real dup of ofd's placeholder) refer to ofd's
 * emulated file. The backend's dup op only makes fresh numbers.
 */
static int install_fd(struct iommufd_emu *emu, int ofd, int nfd)
{
	int r;

	emu_lock(emu);
	r = emu_file_install(emu, ofd, nfd);
	emu_unlock(emu);
	return r < 0 ? r : 0;
}

/* dup of an emulated fd: a new emulated fd number for the same file */
static int emu_dup_fd(struct iommufd_emu *emu, int fd, int min)
{
	int r;

	/* the kernel takes the lowest number as unsigned: a negative one is
	 * past RLIMIT_NOFILE (fs/fcntl.c f_dupfd) */
	if (min < 0)
		return (int)ret_errno(-EINVAL);
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
		return fake_fd_dup(fd, REAL(dup)(fd));
	return emu_dup_fd(emu, fd, 0);
}

static int emu_dup3(struct iommufd_emu *emu, int old, int new, int flags)
{
	struct emu_file *f;
	int r;

	if (new < 0)
		return (int)ret_errno(-EBADF);
	in_emu++;
	/* close what new refers to, emulated or not, then make new refer to old's file */
	emu_lock(emu);
	f = emu_file_lookup(emu, new);
	emu_unlock(emu);
	if (f)
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
		return fake_fd_dup(old, REAL(dup2)(old, new));
	}
	if (old == new)
		return new;
	return emu_dup3(emu, old, new, 0);
}

EXPORT int dup3(int old, int new, int flags)
{
	struct iommufd_emu *emu;

	/* the kernel's checks come before anything is closed (fs/file.c ksys_dup3) */
	if (flags & ~O_CLOEXEC)
		return (int)ret_errno(-EINVAL);
	emu = emu_owning(old);
	if (!emu) {
		struct iommufd_emu *e2 = emu_owning(new);

		if (e2 && old != new && fcntl(old, F_GETFD) >= 0)
			close(new);
		return fake_fd_dup(old, REAL(dup3)(old, new, flags));
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
	/* the emulator's state cannot cross exec: an emulated fd stays close-on-exec */
	if (cmd == F_SETFD && emu_owning(fd))
		arg = (void *)((intptr_t)arg | FD_CLOEXEC);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return fake_fd_dup(fd, realfn(fd, cmd, arg));
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

/* ------------------------------------------------------------ SCM_RIGHTS */

/*
 * recvmsg/recvmmsg: a placeholder that arrives by SCM_RIGHTS is the same open
 * socket as the emulated fd it was sent from (the kernel passes the file), so
 * its identity (st_dev, st_ino: see emu_file_lookup) names that fd's file,
 * among the files this process's emulator holds:
 *  - one it runs itself (the emulator's process; in a child, a file the
 *    child opened): the new number becomes another reference to the file,
 *    exactly as a dup makes;
 *  - an fd a child inherited from the emulator's process (forwarded, see
 *    fork.c): the new number is forwarded too, as the emulator's process's
 *    number of that file, and the child's copy answers for it what it
 *    answers for the inherited number (fstat, mmap); its close forgets
 *    that number only, in the child.
 * Any other placeholder stays a plain socket: one of a file the receiver
 * never held (opened in the sender after a fork, in an unrelated process or
 * in a child by itself), one whose inherited number the child closed before
 * it arrived, one of a file whose last number the sender closed while the
 * message was in flight (the emulated file went with it), one past the
 * 64 received numbers a child holds at once (fork.c MAX_ALIAS), and the
 * eventfd stand-in of a host without AF_UNIX sockets (whose identity every
 * eventfd shares). Only the kernel's fstat of the received file is
 * believed, and only a file the process holds is matched: nothing from the
 * sender is trusted beyond what the kernel passed.
 */
static void scm_fd_received(struct iommufd_emu *emu, int nfd)
{
	struct emu_file *f;
	struct stat st;
	int of = -1, r;

	if (nfd < 0 || REAL(fstat)(nfd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return;
	in_emu++;
	emu_lock(emu);
	/* a stale entry of the number (closed unseen) goes; the same placeholder stays */
	f = emu_file_lookup(emu, nfd);
	for (size_t i = 0; !f && i < emu->nfds && of < 0; i++)
		if ((int)i != nfd && emu->fds[i] && emu->fd_ids[i].dev == st.st_dev &&
		    emu->fd_ids[i].ino == st.st_ino && emu_file_lookup(emu, (int)i))
			of = (int)i;
	emu_unlock(emu);
	in_emu--;
	if (of < 0)
		return;
	r = 0;
	if (is_remote(of))
		r = remote_alias(nfd, of);
	if (r == 0) {
		in_emu++;
		r = install_fd(emu, of, nfd);
		in_emu--;
		if (r < 0)
			remote_forget(nfd);
	}
	if (r < 0) {
		pdbg("fd %d received with the placeholder of fd %d: %s, left a socket", nfd, of,
		     strerror(-r));
		return;
	}
	/* the emulator's state cannot cross exec (MSG_CMSG_CLOEXEC or not) */
	REAL(fcntl)(nfd, F_SETFD, FD_CLOEXEC);
	if (is_remote(nfd))
		pdbg("fd %d received: the file of fd %d, forwarded as the emulator's process's",
		     nfd, of);
	else
		pdbg("fd %d received: the file of fd %d", nfd, of);
}

/* the fds of m's SCM_RIGHTS messages, as they arrived */
static void scm_received(const struct msghdr *m)
{
	struct iommufd_emu *emu = __atomic_load_n(&g_emu, __ATOMIC_ACQUIRE);
	int e = errno;

	if (!emu || in_emu || !m || !m->msg_control || m->msg_controllen < sizeof(struct cmsghdr))
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			scm_fd_received(emu, fd);
		}
	}
	errno = e;
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	ssize_t r = REAL(recvmsg)(fd, m, flags);

	if (r >= 0)
		scm_received(m);
	return r;
}

EXPORT int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *t)
{
	int r = REAL(recvmmsg)(fd, v, n, flags, t);

	for (int i = 0; i < r; i++)
		scm_received(&v[i].msg_hdr);
	return r;
}
