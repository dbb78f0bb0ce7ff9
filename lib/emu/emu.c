// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The emulator as a backend: emulated fd table (each fd a real eventfd
 * number), pass-through of real fds, open() of device nodes, mmap tracking,
 * user memory access and fault injection.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "emu.h"
#include "iopt.h"

struct emu_node {
	struct emu_node *next;
	char *prefix;
	emu_open_fn fn;
	emu_stat_fn stat;
	emu_list_fn list;
	void *data;
};

/* a tracked mapping, as mmap()ed; its unmap() runs when its last piece goes */
struct emu_mmap_owner {
	void *addr;
	size_t len;
	void (*unmap)(void *priv, void *addr, size_t len);
	void *priv;
	unsigned int pieces;
};

/* one still-mapped piece [start, end) of a tracked mapping (a partial munmap
 * shrinks or splits it) */
struct emu_mmap {
	struct emu_mmap *next;
	uintptr_t start, end;
	struct emu_mmap_owner *owner;
};

/* piece m is gone: the owner's unmap() when it was the last */
static void mmap_piece_free(struct emu_mmap *m)
{
	struct emu_mmap_owner *o = m->owner;

	free(m);
	if (--o->pieces == 0) {
		o->unmap(o->priv, o->addr, o->len);
		free(o);
	}
}

/* ------------------------------------------------------------ locking, faults */

/* per thread: the reason of the last failed iommufd_emu_* call */
static __thread char last_error[512];

int emu_fail(const char *func, int err, const char *fmt, ...)
{
	va_list ap;

	if (err > 0)
		err = -err;
	if (err == 0)
		err = -EIO; /* a failure always has an errno */
	va_start(ap, fmt);
	ifd_reason_vformat(last_error, sizeof(last_error), func, err, fmt, ap);
	va_end(ap);
	return err;
}

IOMMUFD_EMU_EXPORT int iommufd_emu_ctx_new(struct iommufd_emu *emu, struct iommufd_ctx **ret)
{
	IOMMUFD_OPTS(struct iommufd_ctx_opts, opts);

	if (!emu)
		return EMU_FAIL(EINVAL, "emu is NULL");
	opts.backend = &emu->be;
	return iommufd_ctx_new_opts(&opts, ret);
}

IOMMUFD_EMU_EXPORT const char *iommufd_emu_last_error(void)
{
	return last_error;
}

void emu_lock(struct iommufd_emu *emu)
{
	pthread_mutex_lock(&emu->lock);
}

void emu_unlock(struct iommufd_emu *emu)
{
	pthread_mutex_unlock(&emu->lock);
}

static bool iopt_fail_hook(void *data, const char *site)
{
	(void)site;
	return emu_should_fail(data);
}

const struct iopt_fail_hook *emu_iopt_fail_hook(struct iommufd_emu *emu)
{
	return &emu->iopt_fail;
}

bool emu_should_fail(struct iommufd_emu *emu)
{
	if (!emu->fail_nth)
		return false;
	if (++emu->fail_count == emu->fail_nth)
		return true;
	return false;
}

void *emu_zalloc(struct iommufd_emu *emu, size_t size)
{
	if (emu_should_fail(emu))
		return NULL;
	return calloc(1, size ? size : 1);
}

/* ------------------------------------------------------------ user memory */

static __thread pid_t current_pid;

pid_t emu_current_pid(void)
{
	return current_pid ? current_pid : ifd_getpid();
}

void emu_set_current_pid(pid_t pid)
{
	current_pid = pid;
}

/*
 * The safe way to user memory is process_vm_readv/writev: a bad pointer gives
 * EFAULT, never a fault, whoever unmapped what. It costs ~4 trivial ioctls
 * each, and one command reads and writes several times. Most command structs
 * live on the caller's stack, though, and one part of the address space is
 * mapped read-write for sure without asking the kernel: the calling thread's
 * live stack, from the frame of the backend op that entered the emulator
 * (emu_user_enter(): every byte above it is a live frame of its callers) up
 * to the top of the thread's stack. A user range wholly inside it is copied
 * with memcpy; anything else (the heap, a pointer below the caller's frame,
 * a thread running on a stack of its own such as sigaltstack or a coroutine,
 * a forked child's call run here) takes the system call. So a pointer into
 * memory unmapped or mapped behind the emulator's back is never trusted: there
 * is no cache of the address space to go stale.
 */
static __thread uintptr_t user_sp;                /* 0: outside a backend op */
static __thread uintptr_t stack_lo, stack_hi;     /* stack_hi 0: unknown */
static __thread bool stack_learnt;

uintptr_t emu_user_enter(uintptr_t frame)
{
	uintptr_t prev = user_sp;

	user_sp = frame;
	return prev;
}

void emu_user_leave(uintptr_t prev)
{
	user_sp = prev;
}

/* this thread's stack, once (glibc reads /proc/self/maps for the main thread) */
static void stack_learn(void)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;

	stack_learnt = true;
	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (!pthread_attr_getstack(&attr, &addr, &size) && size) {
		stack_lo = (uintptr_t)addr;
		stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&attr);
}

/* [uptr, uptr + len) is in the caller's live stack (see above) */
static bool user_on_stack(uint64_t uptr, size_t len)
{
	uintptr_t sp = user_sp, here = (uintptr_t)__builtin_frame_address(0);

	if (!sp || current_pid)
		return false;
	if (!stack_learnt)
		stack_learn();
	/* both the entry frame and this one on the thread's own stack: no
	 * stack switch since (a signal handler on an alternate stack) */
	if (sp < stack_lo || sp >= stack_hi || here < stack_lo || here > sp)
		return false;
	return uptr >= sp && uptr <= stack_hi && len <= stack_hi - uptr;
}

int emu_copy_from_user(void *dst, uint64_t uptr, size_t len)
{
	struct iovec l = { dst, len }, r = { (void *)(uintptr_t)uptr, len };

	if (!len)
		return 0;
	if (uptr + len < uptr)
		return -EFAULT;
	if (user_on_stack(uptr, len)) {
		memcpy(dst, (const void *)(uintptr_t)uptr, len);
		return 0;
	}
	return process_vm_readv(emu_current_pid(), &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -EFAULT;
}

int emu_copy_to_user(uint64_t uptr, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len }, r = { (void *)(uintptr_t)uptr, len };
	pid_t pid = emu_current_pid();

	if (!len)
		return 0;
	if (uptr + len < uptr)
		return -EFAULT;
	if (user_on_stack(uptr, len)) {
		memmove((void *)(uintptr_t)uptr, src, len);
		return 0;
	}
	if (process_vm_writev(pid, &l, 1, &r, 1, 0) != (ssize_t)len)
		return -EFAULT;
	/* the memory is writable: store again the plain way so that tools like
	 * valgrind see the bytes as written; only when it is this process's
	 * memory (a forwarded call of a forked child writes the child's) */
	if (pid == ifd_getpid())
		memmove((void *)(uintptr_t)uptr, src, len);
	return 0;
}

int emu_clear_user(uint64_t uptr, size_t len)
{
	static const uint8_t zero[4096];

	while (len) {
		size_t n = len < sizeof(zero) ? len : sizeof(zero);

		if (emu_copy_to_user(uptr, zero, n))
			return -EFAULT;
		uptr += n;
		len -= n;
	}
	return 0;
}

int emu_copy_struct_from_user(void *dst, size_t ksize, uint64_t uptr, size_t usize)
{
	size_t n = usize < ksize ? usize : ksize;

	if (usize > ksize) {
		uint8_t buf[256];
		uint64_t p = uptr + ksize;
		size_t rest = usize - ksize;

		while (rest) {
			size_t c = rest < sizeof(buf) ? rest : sizeof(buf);

			if (emu_copy_from_user(buf, p, c))
				return -EFAULT;
			for (size_t i = 0; i < c; i++)
				if (buf[i])
					return -E2BIG;
			p += c;
			rest -= c;
		}
	}
	memset(dst, 0, ksize);
	return emu_copy_from_user(dst, uptr, n);
}

/* ------------------------------------------------------------ files */

static int fd_slot(struct iommufd_emu *emu, int fd)
{
	if (fd < 0)
		return -EBADF;
	if ((size_t)fd >= emu->nfds) {
		size_t n = emu->nfds ? emu->nfds : 64;
		struct emu_fd_id *ids;
		struct emu_file **p;

		while (n <= (size_t)fd)
			n *= 2;
		ids = realloc(emu->fd_ids, n * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		emu->fd_ids = ids;
		p = realloc(emu->fds, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + emu->nfds, 0, (n - emu->nfds) * sizeof(*p));
		emu->fds = p;
		emu->nfds = n;
	}
	return 0;
}

/*
 * Which open file fd is: the placeholder of an emulated fd is a socket, whose
 * inode no other open file shares (an eventfd's would be the anonymous inode
 * that every eventfd, epoll and timerfd shares), so a number closed and
 * reused behind the emulator's back is told apart from the placeholder.
 */
static bool fd_id_get(int fd, struct emu_fd_id *id)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return false;
	*id = (struct emu_fd_id){ st.st_dev, st.st_ino };
	return true;
}

static bool fd_is_ours(struct iommufd_emu *emu, int fd)
{
	struct emu_fd_id id;

	return fd_id_get(fd, &id) && id.dev == emu->fd_ids[fd].dev && id.ino == emu->fd_ids[fd].ino;
}

/* fd was closed without the emulator: its file loses that number */
static void fd_drop_stale(struct iommufd_emu *emu, int fd)
{
	struct emu_file *f = emu->fds[fd];

	emu->fds[fd] = NULL;
	f->nfds--;
	emu_file_put(f);
}

struct emu_file *emu_file_lookup(struct iommufd_emu *emu, int fd)
{
	if (fd < 0 || (size_t)fd >= emu->nfds || !emu->fds[fd])
		return NULL;
	if (!fd_is_ours(emu, fd)) {
		fd_drop_stale(emu, fd);
		return NULL;
	}
	return emu->fds[fd];
}

void emu_files_sweep(struct iommufd_emu *emu)
{
	for (size_t i = 0; i < emu->nfds; i++)
		emu_file_lookup(emu, (int)i);
}

static void evfd_set(int fd, bool readable)
{
	uint64_t v;

	/* drain, then make readable again if wanted */
	while (read(fd, &v, sizeof(v)) == sizeof(v))
		;
	if (readable) {
		v = 1;
		if (write(fd, &v, sizeof(v)) < 0)
			return;
	}
}

/*
 * A new placeholder: an AF_UNIX datagram socket connected to itself (a
 * datagram it sends itself makes it readable, as the eventfd count would;
 * a connected datagram socket takes datagrams from its peer only). Without
 * sockets: an eventfd, which works but whose identity is shared.
 */
static int placeholder_new(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(a);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd >= 0) {
		/* autobind: a unique abstract name, then connect to it */
		if (bind(fd, (struct sockaddr *)&a, sizeof(sa_family_t)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&a, &len) == 0 &&
		    connect(fd, (struct sockaddr *)&a, len) == 0)
			return fd;
		close(fd);
	}
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* a new fd number referring to f */
static int file_add_fd(struct emu_file *f)
{
	struct iommufd_emu *emu = f->emu;
	struct emu_fd_id id;
	int fd, r;

	fd = placeholder_new();
	if (fd < 0)
		return fd;
	r = fd_slot(emu, fd);
	if (!r && !fd_id_get(fd, &id))
		r = -errno;
	if (r) {
		close(fd);
		return r;
	}
	if (emu->fds[fd]) {
		/* the number was closed behind the emulator's back (plain close()):
		 * that file lost this fd */
		fd_drop_stale(emu, fd);
	}
	emu->fds[fd] = f;
	emu->fd_ids[fd] = id;
	f->refs++;
	f->nfds++;
	if (f->readable)
		evfd_set(fd, true);
	return fd;
}

int emu_file_new(struct iommufd_emu *emu, const struct emu_file_ops *ops, void *priv,
		 struct emu_file **ret)
{
	struct emu_file *f = emu_zalloc(emu, sizeof(*f));
	int fd;

	if (!f)
		return -ENOMEM;
	f->emu = emu;
	f->ops = ops;
	f->priv = priv;
	emu->files_made = true;
	fd = file_add_fd(f);
	if (fd < 0) {
		free(f);
		return fd;
	}
	f->evfd = fd;
	emu->nfiles++;
	if (ret)
		*ret = f;
	return fd;
}

int emu_file_install(struct iommufd_emu *emu, int oldfd, int newfd)
{
	struct emu_file *f = emu_file_lookup(emu, oldfd), *prev;
	struct emu_fd_id id;
	int r;

	if (!f)
		return -EBADF;
	if (oldfd == newfd)
		return newfd;
	r = fd_slot(emu, newfd);
	if (r)
		return r;
	if (!fd_id_get(newfd, &id))
		return -EBADF;
	prev = emu->fds[newfd];
	emu->fds[newfd] = f;
	emu->fd_ids[newfd] = id;
	f->refs++;
	f->nfds++;
	if (prev) {
		prev->nfds--;
		emu_file_put(prev);
	}
	return newfd;
}

void emu_file_get(struct emu_file *f)
{
	f->refs++;
}

void emu_file_put(struct emu_file *f)
{
	if (--f->refs > 0)
		return;
	if (f->ops->release)
		f->ops->release(f);
	f->emu->nfiles--;
	free(f);
}

void emu_file_set_readable(struct emu_file *f, bool readable)
{
	struct iommufd_emu *emu = f->emu;

	if (f->readable == readable)
		return;
	f->readable = readable;
	/* never into a number that is no longer the placeholder */
	for (size_t i = 0; i < emu->nfds; i++)
		if (emu->fds[i] == f && fd_is_ours(emu, (int)i))
			evfd_set((int)i, readable);
}

bool emu_fd_is_open(struct iommufd_emu *emu, int fd)
{
	(void)emu;
	return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

/* ------------------------------------------------------------ nodes, mmaps */

int emu_node_register(struct iommufd_emu *emu, const char *prefix, emu_open_fn fn, void *data)
{
	struct emu_node *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->prefix = strdup(prefix);
	if (!n->prefix) {
		free(n);
		return -ENOMEM;
	}
	n->fn = fn;
	n->data = data;
	n->next = emu->nodes;
	emu->nodes = n;
	return 0;
}

int emu_node_set_stat(struct iommufd_emu *emu, const char *prefix, emu_stat_fn fn)
{
	for (struct emu_node *n = emu->nodes; n; n = n->next) {
		if (strcmp(n->prefix, prefix) == 0) {
			n->stat = fn;
			return 0;
		}
	}
	return -ENOENT;
}

int emu_node_set_list(struct iommufd_emu *emu, const char *prefix, emu_list_fn fn)
{
	for (struct emu_node *n = emu->nodes; n; n = n->next) {
		if (strcmp(n->prefix, prefix) == 0) {
			n->list = fn;
			return 0;
		}
	}
	return -ENOENT;
}

void emu_stat_chr(struct stat *st, unsigned int major, unsigned int minor, mode_t perm)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | perm;
	st->st_rdev = makedev(major, minor);
	st->st_nlink = 1;
	st->st_blksize = 4096;
	/* the caller's, as udev gives a VMM's user its nodes: open() agrees */
	st->st_uid = getuid();
	st->st_gid = getgid();
}

void emu_stat_dir(struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | 0755;
	st->st_nlink = 2;
	st->st_blksize = 4096;
}

/*
 * A node of devtmpfs has an inode of its own (programs that walk /dev tell
 * directories apart by st_dev and st_ino): a stable number from its path
 * (trailing slashes aside), on devtmpfs's device (0:7 on the VM's kernel)
 */
static void stat_ino(struct stat *st, const char *rel)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t len = strlen(rel);

	while (len && rel[len - 1] == '/')
		len--;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)rel[i]) * 1099511628211ull;
	st->st_ino = (ino_t)(h | 1);
	st->st_dev = makedev(0, 7);
}

static int count_ent(void *fdata, const char *name, mode_t mode)
{
	(void)name;
	(void)mode;
	++*(off_t *)fdata;
	return 0;
}

/* a directory's size on devtmpfs (shmem): BOGO_DIRENT_SIZE (20) for each
 * entry, "." and ".." included (mm/shmem.c) */
static void stat_dir_size(struct iommufd_emu *emu, struct stat *st, const char *rel)
{
	off_t n = 2;

	for (struct emu_node *e = emu->nodes; e; e = e->next)
		if (e->list)
			e->list(emu, rel, count_ent, &n, e->data);
	st->st_size = 20 * n;
}

int emu_node_stat(struct iommufd_emu *emu, const char *path, struct stat *st)
{
	const char *root = BE_DEV_ROOT;
	size_t rl = strlen(root);
	struct emu_node *best = NULL;
	const char *rel;
	int r;

	if (!path || strncmp(path, root, rl) != 0 || path[rl] != '/')
		return -EXDEV;
	rel = path + rl + 1;
	if (strcmp(rel, "iommu") != 0 && strcmp(rel, "vfio") != 0 && strncmp(rel, "vfio/", 5) != 0)
		return -EXDEV;
	emu_lock(emu);
	if (strcmp(rel, "iommu") == 0) {
		/* CONFIG_IOMMUFD off: no /dev/iommu; crw-rw---- as udev leaves it */
		r = emu->config & IOMMUFD_EMU_CONFIG_NO_IOMMUFD ? -ENOENT : 0;
		if (!r) {
			emu_stat_chr(st, EMU_MISC_MAJOR, EMU_IOMMUFD_MINOR, 0660);
			stat_ino(st, rel);
		}
		emu_unlock(emu);
		return r;
	}
	if (strcmp(rel, "vfio") == 0 || strcmp(rel, "vfio/") == 0) {
		/* the container node is always there, so is its directory */
		struct stat sub;

		emu_stat_dir(st);
		stat_ino(st, "vfio");
		stat_dir_size(emu, st, "vfio");
		/* a directory's links: its own two and each subdirectory's ".." */
		if (emu_node_stat(emu, BE_DEV_ROOT "/vfio/devices", &sub) == 0)
			st->st_nlink++;
		emu_unlock(emu);
		return 0;
	}
	for (struct emu_node *n = emu->nodes; n; n = n->next)
		if (strncmp(rel, n->prefix, strlen(n->prefix)) == 0 &&
		    (!best || strlen(n->prefix) > strlen(best->prefix)))
			best = n;
	r = best && best->stat ? best->stat(emu, rel, st, best->data) : -ENOENT;
	if (!r && S_ISDIR(st->st_mode))
		stat_dir_size(emu, st, "vfio/devices"); /* the only other directory */
	emu_unlock(emu);
	if (!r)
		stat_ino(st, rel);
	return r;
}

int emu_node_list(struct iommufd_emu *emu, const char *path, emu_dirent_fn fn, void *fdata)
{
	const char *root = BE_DEV_ROOT;
	size_t rl = strlen(root), len;
	char rel[32];
	struct stat st;
	int r;

	if (!path || strncmp(path, root, rl) != 0 || path[rl] != '/')
		return -EXDEV;
	/* "vfio" or "vfio/devices", with or without a trailing slash */
	len = strlen(path + rl + 1);
	while (len && path[rl + len] == '/')
		len--;
	if (len >= sizeof(rel))
		return -EXDEV;
	memcpy(rel, path + rl + 1, len);
	rel[len] = 0;
	if (strcmp(rel, "vfio") != 0 && strcmp(rel, "vfio/devices") != 0)
		return -EXDEV;
	emu_lock(emu);
	r = emu_node_stat(emu, path, &st);
	if (!r && !S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	for (struct emu_node *n = emu->nodes; n && !r; n = n->next)
		if (n->list)
			r = n->list(emu, rel, fn, fdata, n->data);
	emu_unlock(emu);
	return r;
}

void emu_node_unregister(struct iommufd_emu *emu, const char *prefix)
{
	for (struct emu_node **pp = &emu->nodes; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->prefix, prefix) == 0) {
			struct emu_node *n = *pp;

			*pp = n->next;
			free(n->prefix);
			free(n);
			return;
		}
	}
}

int emu_mmap_track(struct iommufd_emu *emu, void *addr, size_t len,
		   void (*unmap)(void *priv, void *addr, size_t len), void *priv)
{
	struct emu_mmap_owner *o = calloc(1, sizeof(*o));
	struct emu_mmap *m = calloc(1, sizeof(*m));
	size_t ps = (size_t)getpagesize();

	if (!o || !m) {
		free(o);
		free(m);
		return -ENOMEM;
	}
	o->addr = addr;
	o->len = len;
	o->unmap = unmap;
	o->priv = priv;
	o->pieces = 1;
	m->start = (uintptr_t)addr;
	m->end = m->start + ((len + ps - 1) & ~(ps - 1));
	m->owner = o;
	m->next = emu->mmaps;
	emu->mmaps = m;
	return 0;
}

/* ------------------------------------------------------------ backend ops */

static int e_open(struct iommufd_backend *be, const char *path, int flags)
{
	struct iommufd_emu *emu = emu_from_be(be);
	const char *root = BE_DEV_ROOT;
	size_t rl = strlen(root);
	struct emu_node *best = NULL;
	const char *rel;
	int r;

	if (!path)
		return -EFAULT;
	/* the path walk's limits come first, as in the kernel's getname()/link_path_walk() */
	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	for (const char *c = path; *c;) {
		size_t n = strcspn(c, "/");

		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		c += n + (c[n] == '/');
	}
	if (strncmp(path, root, rl) != 0 || path[rl] != '/')
		return -ENOENT;
	rel = path + rl + 1;
	emu_lock(emu);
	/* files whose fds were all closed unseen are released before a new
	 * open could see them (a device still bound by a closed fd) */
	emu_files_sweep(emu);
	if (strcmp(rel, "iommu") == 0) {
		/* CONFIG_IOMMUFD off: no /dev/iommu */
		r = emu->config & IOMMUFD_EMU_CONFIG_NO_IOMMUFD ? -ENOENT : emu_ictx_open(emu, flags);
		emu_unlock(emu);
		return r;
	}
	for (struct emu_node *n = emu->nodes; n; n = n->next)
		if (strncmp(rel, n->prefix, strlen(n->prefix)) == 0 &&
		    (!best || strlen(n->prefix) > strlen(best->prefix)))
			best = n;
	r = best ? best->fn(emu, rel, flags, best->data) : -ENOENT;
	emu_unlock(emu);
	return r;
}

static int e_close(struct iommufd_backend *be, int fd)
{
	struct iommufd_emu *emu = emu_from_be(be);
	struct emu_file *f;

	emu_lock(emu);
	f = emu_file_lookup(emu, fd);
	if (!f) {
		emu_unlock(emu);
		return close(fd) < 0 && errno != EINTR ? -errno : 0;
	}
	emu->fds[fd] = NULL;
	close(fd);
	f->nfds--;
	emu_file_put(f);
	emu_unlock(emu);
	return 0;
}

int emu_fd_ioctl(struct iommufd_emu *emu, int fd, unsigned long request, void *arg,
		 bool *emulated)
{
	struct emu_file *f;
	uintptr_t prev;
	int r;

	emu_lock(emu);
	f = emu_file_lookup(emu, fd);
	*emulated = f;
	if (!f) {
		emu_unlock(emu);
		return 0;
	}
	emu_file_get(f);
	prev = emu_user_enter((uintptr_t)__builtin_frame_address(0));
	r = f->ops->ioctl ? f->ops->ioctl(f, request, arg) : -ENOTTY;
	emu_user_leave(prev);
	emu_file_put(f);
	emu_unlock(emu);
	return r;
}

static int e_ioctl(struct iommufd_backend *be, int fd, unsigned long request, void *arg)
{
	bool emulated;
	int r = emu_fd_ioctl(emu_from_be(be), fd, request, arg, &emulated);

	if (emulated)
		return r;
	r = ioctl(fd, request, arg);
	return r < 0 ? -errno : r;
}

ssize_t emu_fd_rw(struct iommufd_emu *emu, int fd, void *buf, size_t len, off_t off, bool pos,
		  bool wr, bool *emulated)
{
	struct emu_file *f;
	uintptr_t prev;
	ssize_t r;

	emu_lock(emu);
	f = emu_file_lookup(emu, fd);
	*emulated = f;
	if (!f) {
		emu_unlock(emu);
		return 0;
	}
	emu_file_get(f);
	prev = emu_user_enter((uintptr_t)__builtin_frame_address(0));
	if (wr)
		r = f->ops->write ? f->ops->write(f, buf, len, off, pos) : -EINVAL;
	else
		r = f->ops->read ? f->ops->read(f, buf, len, off, pos) : -EINVAL;
	emu_user_leave(prev);
	emu_file_put(f);
	emu_unlock(emu);
	return r;
}

static ssize_t e_rw(struct iommufd_backend *be, int fd, void *buf, size_t len, off_t off,
		    bool pos, bool wr)
{
	bool emulated;
	ssize_t r = emu_fd_rw(emu_from_be(be), fd, buf, len, off, pos, wr, &emulated);

	if (emulated)
		return r;
	if (wr)
		r = pos ? pwrite(fd, buf, len, off) : write(fd, buf, len);
	else
		r = pos ? pread(fd, buf, len, off) : read(fd, buf, len);
	return r < 0 ? -errno : r;
}

static ssize_t e_read(struct iommufd_backend *be, int fd, void *buf, size_t len)
{
	return e_rw(be, fd, buf, len, 0, false, false);
}

static ssize_t e_write(struct iommufd_backend *be, int fd, const void *buf, size_t len)
{
	return e_rw(be, fd, (void *)buf, len, 0, false, true);
}

static ssize_t e_pread(struct iommufd_backend *be, int fd, void *buf, size_t len, off_t off)
{
	return e_rw(be, fd, buf, len, off, true, false);
}

static ssize_t e_pwrite(struct iommufd_backend *be, int fd, const void *buf, size_t len, off_t off)
{
	return e_rw(be, fd, (void *)buf, len, off, true, true);
}

static int e_mmap(struct iommufd_backend *be, int fd, off_t off, size_t len, int prot, int flags,
		  void **addr)
{
	struct iommufd_emu *emu = emu_from_be(be);
	struct emu_file *f;
	int r;

	emu_lock(emu);
	f = emu_file_lookup(emu, fd);
	if (!f) {
		void *p;

		emu_unlock(emu);
		p = mmap(NULL, len, prot, flags, fd, off);
		if (p == MAP_FAILED)
			return -errno;
		*addr = p;
		return 0;
	}
	emu_file_get(f);
	r = f->ops->mmap ? f->ops->mmap(f, off, len, prot, flags, addr) : -ENODEV;
	emu_file_put(f);
	emu_unlock(emu);
	return r;
}

static int e_munmap(struct iommufd_backend *be, void *addr, size_t len)
{
	struct iommufd_emu *emu = emu_from_be(be);
	size_t ps = (size_t)getpagesize();
	uintptr_t a = (uintptr_t)addr, b = a + ((len + ps - 1) & ~(ps - 1));
	/* for a hole punched in the middle of a piece, allocated before anything changes */
	struct emu_mmap *spare = calloc(1, sizeof(*spare)), *m, **pp;

	emu_lock(emu);
	if (munmap(addr, len) < 0) {
		int e = -errno;

		emu_unlock(emu);
		free(spare);
		return e;
	}
	/* [a, b) is gone (the kernel rounds len up to pages): cut it out of every
	 * tracked piece; a mapping's unmap() runs when nothing of it is left */
	for (pp = &emu->mmaps; (m = *pp);) {
		if (m->end <= a || m->start >= b) {
			pp = &m->next;
		} else if (m->start >= a && m->end <= b) {
			*pp = m->next;
			mmap_piece_free(m);
		} else if (m->start < a && m->end > b) {
			struct emu_mmap *tail = spare ? spare : calloc(1, sizeof(*tail));

			spare = NULL;
			if (tail) {
				tail->start = b;
				tail->end = m->end;
				tail->owner = m->owner;
				m->owner->pieces++;
				tail->next = m->next;
				m->next = tail;
				m->end = a;
			} /* else: keep the piece whole (unmap() late rather than early) */
			pp = &m->next;
		} else {
			if (m->start < a)
				m->end = a;
			else
				m->start = b;
			pp = &m->next;
		}
	}
	emu_unlock(emu);
	free(spare);
	return 0;
}

/* the fstat of an anonymous inode (an eventfd's), learnt once */
static int anon_stat(struct iommufd_emu *emu, struct stat *st)
{
	if (!emu->anon_st_valid) {
		int fd = eventfd(0, EFD_CLOEXEC);
		int r = fd < 0 || fstat(fd, &emu->anon_st) < 0 ? -errno : 0;

		if (fd >= 0)
			close(fd);
		if (r)
			return r;
		emu->anon_st_valid = true;
	}
	*st = emu->anon_st;
	return 0;
}

static int e_fstat(struct iommufd_backend *be, int fd, struct stat *st)
{
	struct iommufd_emu *emu = emu_from_be(be);
	struct emu_file *f;
	int r;

	emu_lock(emu);
	f = emu_file_lookup(emu, fd);
	if (f && f->ops->fstat) {
		r = f->ops->fstat(f, st);
		emu_unlock(emu);
		return r;
	}
	if (f) {
		/* the kernel's anonymous files (fault queues, ...) show the
		 * anonymous inode, not the placeholder socket */
		r = anon_stat(emu, st);
		emu_unlock(emu);
		return r;
	}
	emu_unlock(emu);
	return fstat(fd, st) < 0 ? -errno : 0;
}

static int e_dup(struct iommufd_backend *be, int fd)
{
	struct iommufd_emu *emu = emu_from_be(be);
	struct emu_file *f;
	int r;

	emu_lock(emu);
	f = emu_file_lookup(emu, fd);
	if (!f) {
		emu_unlock(emu);
		r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		return r < 0 ? -errno : r;
	}
	r = file_add_fd(f);
	emu_unlock(emu);
	return r;
}

static ssize_t e_sysfs_read(struct iommufd_backend *be, const char *rel, char *buf, size_t len)
{
	return emu_sysfs_read(emu_from_be(be), rel, buf, len);
}

/* the store of a writable attribute (sriov_numvfs, enable_sriov: vfio-sriov.c), else -EACCES */
static ssize_t e_sysfs_write(struct iommufd_backend *be, const char *rel, const char *buf, size_t len)
{
	return emu_sysfs_write(emu_from_be(be), rel, buf, len);
}

static ssize_t e_sysfs_readlink(struct iommufd_backend *be, const char *rel, char *buf, size_t len)
{
	return emu_sysfs_readlink(emu_from_be(be), rel, buf, len);
}

struct e_list {
	int (*fn)(void *data, const char *name);
	void *data;
};

static int e_list_one(void *data, const char *name, enum emu_sysfs_type type)
{
	struct e_list *l = data;

	(void)type;
	return l->fn(l->data, name);
}

static int e_sysfs_list(struct iommufd_backend *be, const char *rel,
			int (*fn)(void *data, const char *name), void *data)
{
	struct e_list l = { fn, data };

	return emu_sysfs_list(emu_from_be(be), rel, e_list_one, &l);
}

/* every library handle on the emulator keeps it alive (iommufd_emu_ref/unref) */
static void e_ref(struct iommufd_backend *be)
{
	iommufd_emu_ref(emu_from_be(be));
}

static void e_unref(struct iommufd_backend *be)
{
	iommufd_emu_unref(emu_from_be(be));
}

static const struct backend_ops emu_ops = {
	.open = e_open,
	.close = e_close,
	.ioctl = e_ioctl,
	.read = e_read,
	.write = e_write,
	.pread = e_pread,
	.pwrite = e_pwrite,
	.mmap = e_mmap,
	.munmap = e_munmap,
	.fstat = e_fstat,
	.dup = e_dup,
	.sysfs_read = e_sysfs_read,
	.sysfs_readlink = e_sysfs_readlink,
	.sysfs_list = e_sysfs_list,
	.sysfs_write = e_sysfs_write,
	.ref = e_ref,
	.unref = e_unref,
};

/*
 * /dev/vfio/vfio: the type1 container (CONFIG_VFIO_CONTAINER, type1.c), or,
 * with IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT, served by iommufd
 * (CONFIG_IOMMUFD_VFIO_CONTAINER): an iommufd context in VFIO-style (mm)
 * accounting mode
 */
static int open_vfio_container(struct iommufd_emu *emu, const char *rel, int flags, void *data)
{
	(void)data;
	if (strcmp(rel, "vfio/vfio") != 0)
		return -ENOENT;
	if (emu->config & IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT)
		return emu_ictx_open_mode(emu, flags, true);
	return emu_type1_open(emu, flags);
}

/* /dev/vfio/vfio: the misc device crw-rw-rw- of drivers/vfio/container.c */
static int stat_vfio_container(struct iommufd_emu *emu, const char *rel, struct stat *st,
			       void *data)
{
	(void)emu;
	(void)data;
	if (strcmp(rel, "vfio/vfio") != 0)
		return -ENOENT;
	emu_stat_chr(st, EMU_MISC_MAJOR, EMU_VFIO_MINOR, 0666);
	return 0;
}

/* /dev/vfio lists the container node (whichever kind the configuration makes) */
static int list_vfio_container(struct iommufd_emu *emu, const char *rel, emu_dirent_fn fn,
			       void *fdata, void *data)
{
	(void)emu;
	(void)data;
	return strcmp(rel, "vfio") == 0 ? fn(fdata, "vfio", S_IFCHR) : 0;
}

/* ------------------------------------------------------------ public */

IOMMUFD_EMU_EXPORT int iommufd_emu_new(struct iommufd_emu **ret)
{
	struct iommufd_emu *emu;
	pthread_mutexattr_t a;

	if (!ret)
		return EMU_FAIL(EINVAL, "ret is NULL");
	emu = calloc(1, sizeof(*emu));
	if (!emu)
		return EMU_FAIL(ENOMEM, "emulator allocation");
	emu->be.abi = IFD_BACKEND_ABI;
	emu->be.ops = &emu_ops;
	emu->refcount = 1;
	emu->iopt_fail.fn = iopt_fail_hook;
	emu->iopt_fail.data = emu;
	emu->temp_memory_limit = 65536;
	emu->next_pa = 1ull << 32;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&emu->lock, &a);
	pthread_mutexattr_destroy(&a);
	if (emu_node_register(emu, "vfio/vfio", open_vfio_container, NULL) ||
	    emu_node_set_stat(emu, "vfio/vfio", stat_vfio_container) ||
	    emu_node_set_list(emu, "vfio/vfio", list_vfio_container)) {
		pthread_mutex_destroy(&emu->lock);
		free(emu);
		return EMU_FAIL(ENOMEM, "emulator allocation");
	}
	*ret = emu;
	return 0;
}

IOMMUFD_EMU_EXPORT struct iommufd_emu *iommufd_emu_ref(struct iommufd_emu *emu)
{
	if (emu)
		__atomic_add_fetch(&emu->refcount, 1, __ATOMIC_SEQ_CST);
	return emu;
}

/* every emulated fd still open closed (files release their objects), the
 * mappings and dma-bufs forgotten; called with the lock held */
static void close_all(struct iommufd_emu *emu)
{
	/* close every emulated fd still open: files release their objects */
	for (size_t i = 0; i < emu->nfds; i++) {
		struct emu_file *f = emu->fds[i];

		if (!f)
			continue;
		emu->fds[i] = NULL;
		/* a number closed behind the emulator's back may be someone
		 * else's file now: closed only if it is still the placeholder */
		if (fd_is_ours(emu, (int)i))
			close((int)i);
		f->nfds--;
		emu_file_put(f);
	}
	while (emu->mmaps) {
		struct emu_mmap *m = emu->mmaps;

		emu->mmaps = m->next;
		mmap_piece_free(m);
	}
	while (emu->dmabufs) {
		struct emu_dmabuf *d = emu->dmabufs;

		emu->dmabufs = d->next;
		close(d->fd);
		free(d);
	}
}

int emu_reset(struct iommufd_emu *emu)
{
	int r = 0;

	emu_lock(emu);
	close_all(emu);
	if (emu->nfiles || emu->nictx)
		r = -EBUSY;
	emu->fail_nth = 0;
	emu->fail_count = 0;
	emu->temp_memory_limit = 65536;
	emu->next_pa = 1ull << 32;
	if (!r && emu->device_priv_reset)
		r = emu->device_priv_reset(emu);
	emu_unlock(emu);
	return r;
}

IOMMUFD_EMU_EXPORT struct iommufd_emu *iommufd_emu_unref(struct iommufd_emu *emu)
{
	if (!emu || __atomic_sub_fetch(&emu->refcount, 1, __ATOMIC_SEQ_CST) > 0)
		return NULL;
	emu_lock(emu);
	close_all(emu);
	if (emu->device_priv_free)
		emu->device_priv_free(emu);
	while (emu->nodes) {
		struct emu_node *n = emu->nodes;

		emu->nodes = n->next;
		free(n->prefix);
		free(n);
	}
	emu_unlock(emu);
	free(emu->fds);
	free(emu->fd_ids);
	pthread_mutex_destroy(&emu->lock);
	free(emu);
	return NULL;
}

IOMMUFD_EMU_EXPORT struct iommufd_backend *iommufd_emu_get_backend(struct iommufd_emu *emu)
{
	return emu ? &emu->be : NULL;
}

IOMMUFD_EMU_EXPORT int iommufd_emu_set_fail_nth(struct iommufd_emu *emu, unsigned long nth)
{
	if (!emu)
		return EMU_FAIL(EINVAL, "emu is NULL");
	emu_lock(emu);
	emu->fail_nth = nth;
	emu->fail_count = 0;
	emu_unlock(emu);
	return 0;
}

IOMMUFD_EMU_EXPORT int iommufd_emu_set_config(struct iommufd_emu *emu, uint32_t flags)
{
	const uint32_t known = IOMMUFD_EMU_CONFIG_NO_IOMMUFD | IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT;
	int r = 0;

	if (!emu)
		return EMU_FAIL(EINVAL, "emu is NULL");
	if (flags & ~known)
		return EMU_FAIL(EINVAL, "unknown config bits %#x", flags & ~known);
	if ((flags & known) == known)
		return EMU_FAIL(EINVAL, "NO_IOMMUFD and CONTAINER_COMPAT together: the container "
			    "compatibility is part of iommufd");
	emu_lock(emu);
	if (emu->files_made)
		r = EMU_FAIL(EBUSY, "a file of the emulator was already opened: the kernel's "
			     "configuration is fixed from then on");
	else
		emu->config = flags;
	emu_unlock(emu);
	return r;
}

IOMMUFD_EMU_EXPORT uint32_t iommufd_emu_get_config(const struct iommufd_emu *emu)
{
	uint32_t c;

	if (!emu)
		return 0;
	emu_lock((struct iommufd_emu *)emu);
	c = emu->config;
	emu_unlock((struct iommufd_emu *)emu);
	return c;
}

IOMMUFD_EMU_EXPORT unsigned long iommufd_emu_get_fail_count(struct iommufd_emu *emu)
{
	unsigned long n;

	if (!emu)
		return 0;
	emu_lock(emu);
	n = emu->fail_count;
	emu_unlock(emu);
	return n;
}
