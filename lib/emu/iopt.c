// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The emulator's IOAS page-table engine (see iopt.h): areas, reserved and
 * allowed ranges in augmented AVL trees (itree.c), the kernel's IOVA
 * allocator, UNMAP/COPY rules, lazy pinning with RLIMIT_MEMLOCK accounting,
 * access pins and HW-queue locks, CPU access to the mapped memory, dirty bits.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/capability.h>

#include "iopt.h"
#include "itree.h"
#include "shared/pid.h"

#define TMPFS_MAGIC_ 0x01021994
#define HUGETLBFS_MAGIC_ 0x958458f6
#define CAP_IPC_LOCK_ 14
#define UNMAP_MAX_TRIES 100

static inline bool should_fail(const struct iopt_fail_hook *hook, const char *site)
{
	return hook->fn && hook->fn(hook->data, site);
}

uint64_t iopt_page_size(void)
{
	static uint64_t ps;

	if (!ps) {
		long v = sysconf(_SC_PAGESIZE);

		ps = v > 0 ? (uint64_t)v : 4096;
	}
	return ps;
}
#define PS iopt_page_size()

static inline uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* ---- objects ------------------------------------------------------------- */

struct iopt_pages {
	int refs; /* areas + copy collections + creator; pages_lock */
	enum iopt_pages_type type;
	enum iopt_acct_mode acct;
	bool writable;
	bool pfnmap;     /* VA: device memory may back it (IOPT_MAP_PFNMAP) */
	uint64_t addr;   /* uva, or file offset */
	uint64_t length;
	int fd;          /* FILE/DMABUF */
	pid_t pid;
	uint64_t npages; /* pages spanned from ALIGN_DOWN(addr) */
	uint32_t *pin;   /* per-page pin counts, NULL while nothing is pinned */
	struct iopt_fail_hook fail; /* of the iopt that made them */
	uint64_t npinned;
	/* VA pages of another process, pinned: its shared mapping, opened through
	 * /proc/<pid>/map_files, so the pinned pages outlive the process (the
	 * kernel holds them); file offset = uva - alias_base */
	int alias_fd;
	uint64_t alias_base;
	/* DMABUF of device memory (iopt_io_file_add): the file's revocation
	 * count when mapped; a later revocation empties the pages for good */
	bool io;
	unsigned int io_major, io_minor;
	uint64_t io_ino;
	unsigned int io_gen;
};

struct iopt_area {
	struct itree_node node;
	struct iopt_pages *pages;
	uint64_t start_byte; /* offset of the area's first byte from pages->addr */
	int prot;
	bool filled;         /* pinned on behalf of the domains */
	bool prevent_access; /* unmap in progress (access callback running) */
	unsigned int lock_cnt;
	unsigned int access_pins;
};

struct iopt_resv {
	struct itree_node node;
	void *owner;
};

struct iopt_allowed {
	struct itree_node node;
};

struct iopt_align_src {
	void *owner;
	uint64_t align;
	bool domain;
};

struct iopt_dirty {
	struct iopt *iopt;
	uint64_t granule;
	struct itree chunks; /* struct dirty_chunk, disjoint */
};

#define CHUNK_BITS 64
struct dirty_chunk {
	struct itree_node node; /* [base, base + 64 * granule - 1] */
	uint64_t bits;
};

struct iopt {
	pthread_mutex_t lock;
	struct iopt_fail_hook fail; /* fault injection of the owner */
	struct itree areas, reserved, allowed;
	bool huge_pages;
	bool ctx_mm;
	uint64_t iova_alignment;
	struct iopt_align_src *srcs;
	size_t nsrcs;
	int ndomains;
	iopt_access_unmap_fn unmap_fn;
	void *unmap_opaque;
	struct iopt_dirty **dirty;
	size_t ndirty;
};

static pthread_mutex_t pages_lock = PTHREAD_MUTEX_INITIALIZER;
static struct iopt_acct_stats acct_st;

static inline struct iopt_area *to_area(struct itree_node *n)
{
	return n ? itree_entry(n, struct iopt_area, node) : NULL;
}

static inline uint64_t area_length(const struct iopt_area *a)
{
	return a->node.last - a->node.start + 1;
}

/* byte offset of iova from the page-aligned base of the area's pages */
static inline uint64_t area_abs_byte(const struct iopt_area *a, uint64_t iova)
{
	return a->pages->addr % PS + a->start_byte + (iova - a->node.start);
}

static void *zalloc(const struct iopt_fail_hook *hook, size_t sz)
{
	if (should_fail(hook, "alloc"))
		return NULL;
	return calloc(1, sz);
}

/* ---- accounting ---------------------------------------------------------- */

static bool has_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_IPC_LOCK_ / 32].effective & (1u << (CAP_IPC_LOCK_ % 32));
}

static uint64_t memlock_limit_pages(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return rl.rlim_cur / PS;
}

/* the process' own mlock()ed pages (VmLck), part of mm->locked_vm */
static uint64_t vmlck_pages(void)
{
	char line[256];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb * 1024 / PS;
}

/* pages_lock held */
static int acct_charge(struct iopt_pages *p, uint64_t n)
{
	uint64_t limit;

	if (!n)
		return 0;
	switch (p->acct) {
	case IOPT_ACCT_USER:
		limit = memlock_limit_pages();
		if (limit != UINT64_MAX && acct_st.user_locked + n > limit)
			return -ENOMEM;
		acct_st.user_locked += n;
		break;
	case IOPT_ACCT_MM:
		limit = memlock_limit_pages();
		if (limit != UINT64_MAX && vmlck_pages() + acct_st.mm_locked + n > limit)
			return -ENOMEM;
		acct_st.mm_locked += n;
		break;
	case IOPT_ACCT_NONE:
		break;
	}
	acct_st.pinned += n;
	return 0;
}

static void acct_uncharge(struct iopt_pages *p, uint64_t n)
{
	if (p->acct == IOPT_ACCT_USER)
		acct_st.user_locked -= n;
	else if (p->acct == IOPT_ACCT_MM)
		acct_st.mm_locked -= n;
	acct_st.pinned -= n;
}

void iopt_acct_get(struct iopt_acct_stats *st)
{
	pthread_mutex_lock(&pages_lock);
	*st = acct_st;
	pthread_mutex_unlock(&pages_lock);
}

/* ---- pages --------------------------------------------------------------- */

static struct iopt_pages *pages_new(const struct iopt *iopt, enum iopt_pages_type type, uint64_t addr,
				    uint64_t length, bool writable, bool ctx_mm)
{
	struct iopt_pages *p = zalloc(&iopt->fail, sizeof(*p));

	if (!p)
		return NULL;
	p->refs = 1;
	p->fail = iopt->fail;
	p->type = type;
	p->addr = addr;
	p->length = length;
	p->writable = writable;
	p->fd = -1;
	p->alias_fd = -1;
	p->pid = emu_current_pid();
	p->npages = (addr % PS + length - 1) / PS + 1;
	if (type == IOPT_PAGES_DMABUF)
		p->acct = IOPT_ACCT_NONE;
	else
		p->acct = has_cap_ipc_lock() ? IOPT_ACCT_NONE : IOPT_ACCT_USER;
	if (ctx_mm && p->acct == IOPT_ACCT_USER)
		p->acct = IOPT_ACCT_MM;
	return p;
}

static void pages_get(struct iopt_pages *p)
{
	pthread_mutex_lock(&pages_lock);
	p->refs++;
	pthread_mutex_unlock(&pages_lock);
}

static void pages_put(struct iopt_pages *p)
{
	bool last;

	if (!p)
		return;
	pthread_mutex_lock(&pages_lock);
	last = --p->refs == 0;
	if (last && p->npinned)
		acct_uncharge(p, p->npinned);
	pthread_mutex_unlock(&pages_lock);
	if (!last)
		return;
	if (p->fd >= 0)
		close(p->fd);
	if (p->alias_fd >= 0)
		close(p->alias_fd);
	free(p->pin);
	free(p);
}

/* ---- device memory ------------------------------------------------------ */

struct io_file {
	unsigned int major, minor; /* st_dev, as /proc/<pid>/maps prints it */
	uint64_t ino;
	unsigned int gen;          /* revocations of its dma-bufs (iopt_io_file_revoke) */
};
static struct io_file *io_files; /* pages_lock */
static size_t nio_files;

int iopt_io_file_add(int fd)
{
	struct io_file *n;
	struct stat st;

	if (fstat(fd, &st))
		return -EBADF;
	pthread_mutex_lock(&pages_lock);
	n = realloc(io_files, (nio_files + 1) * sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&pages_lock);
		return -ENOMEM;
	}
	io_files = n;
	io_files[nio_files++] = (struct io_file){ major(st.st_dev), minor(st.st_dev), st.st_ino, 0 };
	pthread_mutex_unlock(&pages_lock);
	return 0;
}

/* the io_file of (major, minor, ino), NULL if none; pages_lock held */
static struct io_file *io_file_find(unsigned int maj, unsigned int min, uint64_t ino)
{
	for (size_t i = 0; i < nio_files; i++)
		if (io_files[i].major == maj && io_files[i].minor == min && io_files[i].ino == ino)
			return &io_files[i];
	return NULL;
}

int iopt_io_file_revoke(int fd)
{
	struct io_file *f;
	struct stat st;

	if (fstat(fd, &st))
		return -EBADF;
	pthread_mutex_lock(&pages_lock);
	f = io_file_find(major(st.st_dev), minor(st.st_dev), st.st_ino);
	if (f)
		f->gen++;
	pthread_mutex_unlock(&pages_lock);
	return f ? 0 : -ENOENT;
}

/* DMABUF pages of device memory: revoked since they were made */
static bool pages_revoked(struct iopt_pages *p)
{
	struct io_file *f;
	bool r;

	if (!p->io)
		return false;
	pthread_mutex_lock(&pages_lock);
	f = io_file_find(p->io_major, p->io_minor, p->io_ino);
	r = !f || f->gen != p->io_gen;
	pthread_mutex_unlock(&pages_lock);
	return r;
}

void iopt_io_file_remove(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		return;
	pthread_mutex_lock(&pages_lock);
	for (size_t i = 0; i < nio_files; i++) {
		if (io_files[i].major == major(st.st_dev) && io_files[i].minor == minor(st.st_dev) &&
		    io_files[i].ino == st.st_ino) {
			io_files[i] = io_files[--nio_files];
			break;
		}
	}
	if (!nio_files) {
		free(io_files);
		io_files = NULL;
	}
	pthread_mutex_unlock(&pages_lock);
}

/* a mapping of major:minor inode (from /proc/<pid>/maps) is device memory */
static bool is_io_file(unsigned int maj, unsigned int min, uint64_t ino)
{
	bool io = false;

	if (!ino)
		return false; /* anonymous memory */
	pthread_mutex_lock(&pages_lock);
	for (size_t i = 0; i < nio_files && !io; i++)
		io = io_files[i].major == maj && io_files[i].minor == min && io_files[i].ino == ino;
	pthread_mutex_unlock(&pages_lock);
	return io;
}

/*
 * PROCMAP_QUERY of include/uapi/linux/fs.h (Linux 6.11, fs/proc/task_mmu.c):
 * the VMA covering an address, asked with one ioctl on /proc/<pid>/maps
 * (-ENOENT: none), what the maps text gives without formatting every VMA of
 * the process. The libc headers here may predate it, hence this copy.
 */
struct procmap_query_ {
	uint64_t size;
	uint64_t query_flags;   /* 0: the VMA covering query_addr */
	uint64_t query_addr;
	uint64_t vma_start;     /* out */
	uint64_t vma_end;       /* out */
	uint64_t vma_flags;     /* out: PROCMAP_QUERY_VMA_* */
	uint64_t vma_page_size; /* out */
	uint64_t vma_offset;    /* out */
	uint64_t inode;         /* out: 0 for anonymous memory */
	uint32_t dev_major;     /* out */
	uint32_t dev_minor;     /* out */
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};
_Static_assert(sizeof(struct procmap_query_) == 104, "struct procmap_query");
#define PROCMAP_QUERY_ _IOWR('f', 17, struct procmap_query_)
#define PROCMAP_QUERY_VMA_READABLE_ 0x01
#define PROCMAP_QUERY_VMA_WRITABLE_ 0x02

/*
 * This process's /proc/self/maps, kept open for PROCMAP_QUERY (maps_lock):
 * opened by maps_pid (a forked child reopens its own), known by its inode
 * so that a number closed behind the emulator's back (closefrom(),
 * close_range()) and reused is never queried. maps_query 0: not tried yet,
 * 1: works, -1: the kernel has no PROCMAP_QUERY (the text is read).
 * It is opened with the first IOAS and closed when the last one goes
 * (maps_iopts): an emulator holds it while it has an IOAS, whether it pinned
 * yet or not, so that a pin (or a failed one) never changes the process's
 * open files.
 */
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long maps_iopts;
static int maps_fd = -1;
static pid_t maps_pid;
static dev_t maps_dev;
static ino_t maps_ino;
static int maps_query;

static bool maps_fd_is_ours(void)
{
	struct stat st;

	return maps_fd >= 0 && !fstat(maps_fd, &st) && st.st_dev == maps_dev &&
	       st.st_ino == maps_ino;
}

/* an fd on /proc/self/maps to query, -1 if none (maps_lock held) */
static int maps_self_fd(void)
{
	pid_t me = ifd_getpid();
	struct stat st;

	if (maps_fd >= 0 && (maps_pid != me || !maps_fd_is_ours())) {
		/* a forked child's copy of the parent's (close it: it is ours),
		 * or a number that is no longer ours (leave it) */
		if (maps_pid != me && maps_fd_is_ours())
			close(maps_fd);
		maps_fd = -1;
	}
	if (maps_fd < 0) {
		maps_fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
		if (maps_fd < 0)
			return -1;
		if (fstat(maps_fd, &st)) {
			close(maps_fd);
			maps_fd = -1;
			return -1;
		}
		maps_pid = me;
		maps_dev = st.st_dev;
		maps_ino = st.st_ino;
	}
	return maps_fd;
}

/* an IOAS is made (+1) or freed (-1) */
static void maps_iopt_count(int delta)
{
	pthread_mutex_lock(&maps_lock);
	maps_iopts += (unsigned long)(long)delta;
	if (maps_iopts && __atomic_load_n(&maps_query, __ATOMIC_RELAXED) >= 0)
		maps_self_fd();
	if (!maps_iopts && maps_fd >= 0) {
		if (maps_pid == ifd_getpid() && maps_fd_is_ours())
			close(maps_fd);
		maps_fd = -1;
	}
	pthread_mutex_unlock(&maps_lock);
}

/*
 * check_vas() by PROCMAP_QUERY on fd: 0, -EFAULT, or 1 when the kernel does
 * not know the ioctl (the caller reads the text instead).
 */
static int check_vas_query(int fd, uint64_t lo, uint64_t hi, bool write, bool pfnmap)
{
	uint64_t cur = lo;

	while (cur < hi) {
		struct procmap_query_ q = { .size = sizeof(q), .query_addr = cur };

		if (ioctl(fd, PROCMAP_QUERY_, &q)) {
			if (errno == ENOTTY)
				return 1;
			return -EFAULT; /* ENOENT: nothing mapped at cur */
		}
		if (q.vma_start > cur || q.vma_end <= cur)
			return -EFAULT;
		if (!(q.vma_flags & PROCMAP_QUERY_VMA_READABLE_) ||
		    (write && !(q.vma_flags & PROCMAP_QUERY_VMA_WRITABLE_)))
			return -EFAULT;
		if (!pfnmap && is_io_file(q.dev_major, q.dev_minor, q.inode))
			return -EFAULT;
		cur = q.vma_end;
	}
	return 0;
}

/* check_vas() by the text of /proc/<pid>/maps */
static int check_vas_text(pid_t pid, uint64_t lo, uint64_t hi, bool write, bool pfnmap)
{
	char path[64], line[512];
	uint64_t cur = lo;
	FILE *f;

	if (pid == ifd_getpid())
		snprintf(path, sizeof(path), "/proc/self/maps");
	else
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -EFAULT;
	while (cur < hi && fgets(line, sizeof(line), f)) {
		unsigned long long s, e, off, ino = 0;
		unsigned int maj = 0, min = 0;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &s, &e, perms, &off, &maj, &min,
			   &ino) < 3)
			continue;
		if (e <= cur)
			continue;
		if (s > cur)
			break;
		if (perms[0] != 'r' || (write && perms[1] != 'w'))
			break;
		if (!pfnmap && is_io_file(maj, min, ino))
			break;
		cur = e;
	}
	fclose(f);
	return cur >= hi ? 0 : -EFAULT;
}

/*
 * [lo, hi) (page aligned VAs of pid) must be covered by VMAs that are readable
 * (and writable when write): the checks of pin_user_pages without FOLL_FORCE.
 * A VMA of device memory (an emulated BAR's mmap: VM_IO | VM_PFNMAP in the
 * kernel) is refused too, but when pfnmap: type1 follows its PFNs instead.
 * The kernel looks at the VMAs at every pin and so does this: nothing is
 * cached, so memory mapped or unmapped behind the emulator's back (a raw
 * mmap/munmap system call, another library) is seen as it is. Our own
 * process is asked by PROCMAP_QUERY, one ioctl per VMA the range spans
 * (a read of the whole maps text cost ~50 us in a small process, more in a
 * VMM's); another process (a forked child's call served here) and kernels
 * before 6.11 by the text.
 */
static int check_vas(pid_t pid, uint64_t lo, uint64_t hi, bool write, bool pfnmap)
{
	int rc = 1;

	if (pid == ifd_getpid() && __atomic_load_n(&maps_query, __ATOMIC_RELAXED) >= 0) {
		int fd;

		pthread_mutex_lock(&maps_lock);
		fd = maps_self_fd();
		if (fd >= 0) {
			rc = check_vas_query(fd, lo, hi, write, pfnmap);
			__atomic_store_n(&maps_query, rc == 1 ? -1 : 1, __ATOMIC_RELAXED);
			if (rc == 1) {
				close(fd);
				maps_fd = -1;
			}
		}
		pthread_mutex_unlock(&maps_lock);
	}
	if (rc == 1)
		rc = check_vas_text(pid, lo, hi, write, pfnmap);
	return rc;
}

static int check_file(struct iopt_pages *p, uint64_t off, uint64_t len)
{
	struct statfs sfs;
	struct stat st;

	if (p->type == IOPT_PAGES_DMABUF)
		return 0;
	if (fstat(p->fd, &st) || !S_ISREG(st.st_mode))
		return -EINVAL;
	if (fstatfs(p->fd, &sfs) ||
	    ((unsigned long)sfs.f_type != TMPFS_MAGIC_ &&
	     (unsigned long)sfs.f_type != HUGETLBFS_MAGIC_))
		return -EINVAL;
	if (p->addr + off + len > (uint64_t)st.st_size)
		return -EINVAL;
	return 0;
}

static inline uint64_t page_idx(const struct iopt_pages *p, uint64_t byte)
{
	return (p->addr % PS + byte) / PS;
}

/*
 * VA pages of another (live) process: open its shared mapping holding all of
 * p through /proc/<pid>/map_files, to reach the pages once pinned even after
 * the process is gone. Private memory has no such alias (best effort).
 */
static void pages_take_alias(struct iopt_pages *p)
{
	char path[96], line[512];
	FILE *f;

	if (p->alias_fd >= 0 || p->pid == ifd_getpid())
		return;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)p->pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, pgoff;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s %llx", &s, &e, perms, &pgoff) != 4)
			continue;
		if (p->addr < s || p->addr >= e)
			continue;
		if (perms[3] == 's' && p->addr + p->length <= e) {
			snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)p->pid,
				 s, e);
			p->alias_fd = open(path, (p->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
			p->alias_base = s - pgoff;
		}
		break;
	}
	fclose(f);
}

/* every page of [first, last] is pinned already (pages_lock held) */
static bool pages_all_pinned(struct iopt_pages *p, uint64_t first, uint64_t last)
{
	if (!p->pin)
		return false;
	for (uint64_t i = first; i <= last; i++)
		if (!p->pin[i])
			return false;
	return true;
}

/* pin bytes [off, off + len) of p: validate, charge the newly pinned pages */
static int pages_pin(struct iopt_pages *p, uint64_t off, uint64_t len)
{
	uint64_t first = page_idx(p, off), last = page_idx(p, off + len - 1), i, n = 0;
	bool again;
	int rc;

	if (should_fail(&p->fail, "pin"))
		return -ENOMEM;
	pthread_mutex_lock(&pages_lock);
	again = pages_all_pinned(p, first, last);
	pthread_mutex_unlock(&pages_lock);
	if (again) {
		/* held already (by another domain): no new look at the process */
		rc = 0;
	} else if (p->type == IOPT_PAGES_VA) {
		uint64_t base = p->addr - p->addr % PS;

		rc = check_vas(p->pid, base + first * PS, base + (last + 1) * PS, p->writable, p->pfnmap);
		if (!rc)
			pages_take_alias(p);
	} else {
		rc = check_file(p, off, len);
	}
	if (rc)
		return rc;

	pthread_mutex_lock(&pages_lock);
	if (!p->pin) {
		p->pin = should_fail(&p->fail, "alloc") ? NULL : calloc(p->npages, sizeof(*p->pin));
		if (!p->pin) {
			pthread_mutex_unlock(&pages_lock);
			return -ENOMEM;
		}
	}
	for (i = first; i <= last; i++)
		n += !p->pin[i];
	rc = acct_charge(p, n);
	if (!rc) {
		for (i = first; i <= last; i++)
			p->pin[i]++;
		p->npinned += n;
	} else if (!p->npinned) {
		free(p->pin);
		p->pin = NULL;
	}
	pthread_mutex_unlock(&pages_lock);
	return rc;
}

static void pages_unpin(struct iopt_pages *p, uint64_t off, uint64_t len)
{
	uint64_t first = page_idx(p, off), last = page_idx(p, off + len - 1), i, n = 0;

	pthread_mutex_lock(&pages_lock);
	if (p->pin) {
		for (i = first; i <= last; i++)
			if (p->pin[i] && !--p->pin[i])
				n++;
		p->npinned -= n;
		acct_uncharge(p, n);
		if (!p->npinned) {
			free(p->pin);
			p->pin = NULL;
		}
	}
	pthread_mutex_unlock(&pages_lock);
}

static bool pages_pinned_at(struct iopt_pages *p, uint64_t off)
{
	bool r;

	pthread_mutex_lock(&pages_lock);
	r = p->pin && p->pin[page_idx(p, off)];
	pthread_mutex_unlock(&pages_lock);
	return r;
}

/* copy len bytes at pages byte offset off to/from buf */
static int pages_rw(struct iopt_pages *p, uint64_t off, void *buf, uint64_t len, bool write)
{
	/* iopt_revoke_notify(): the domains lost the translation */
	if (pages_revoked(p))
		return -EFAULT;
	while (len) {
		ssize_t n;

		if (p->type == IOPT_PAGES_VA) {
			struct iovec local = { buf, len }, remote = {
				(void *)(uintptr_t)(p->addr + off), len };

			n = write ? process_vm_writev(p->pid, &local, 1, &remote, 1, 0) :
				    process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
			if (n < 0 && errno == ESRCH && p->alias_fd >= 0 &&
			    pages_pinned_at(p, off)) {
				/* the process is gone; its pinned pages are not */
				off_t fo = (off_t)(p->addr + off - p->alias_base);

				n = write ? pwrite(p->alias_fd, buf, len, fo) :
					    pread(p->alias_fd, buf, len, fo);
			}
		} else {
			n = write ? pwrite(p->fd, buf, len, (off_t)(p->addr + off)) :
				    pread(p->fd, buf, len, (off_t)(p->addr + off));
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EFAULT;
		buf = (char *)buf + n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* ---- areas --------------------------------------------------------------- */

static int area_fill(struct iopt_area *a)
{
	int rc;

	if (a->filled)
		return 0;
	rc = pages_pin(a->pages, a->start_byte, area_length(a));
	if (!rc)
		a->filled = true;
	return rc;
}

static void area_unfill(struct iopt_area *a)
{
	if (!a->filled)
		return;
	pages_unpin(a->pages, a->start_byte, area_length(a));
	a->filled = false;
}

static void dirty_forget(struct iopt_dirty *d, uint64_t start, uint64_t last);

/* remove from the tree, unpin, forget dirty bits, free (iopt locked) */
static void area_destroy(struct iopt *iopt, struct iopt_area *a)
{
	size_t i;

	itree_remove(&iopt->areas, &a->node);
	for (i = 0; i < iopt->ndirty; i++)
		dirty_forget(iopt->dirty[i], a->node.start, a->node.last);
	area_unfill(a);
	pages_put(a->pages);
	free(a);
}

/* ---- iopt lifetime and alignment ----------------------------------------- */

int iopt_new(bool ctx_mm_mode, const struct iopt_fail_hook *fail, struct iopt **out)
{
	static const struct iopt_fail_hook none;
	struct iopt *iopt;

	if (!out)
		return -EINVAL;
	if (!fail)
		fail = &none;
	iopt = zalloc(fail, sizeof(*iopt));
	if (!iopt)
		return -ENOMEM;
	iopt->fail = *fail;
	pthread_mutex_init(&iopt->lock, NULL);
	iopt->huge_pages = true;
	iopt->ctx_mm = ctx_mm_mode;
	iopt->iova_alignment = 1;
	maps_iopt_count(1);
	*out = iopt;
	return 0;
}

static void tree_free(struct itree *t, size_t off)
{
	struct itree_node *n;

	while ((n = t->root)) {
		itree_remove(t, n);
		free((char *)n - off);
	}
}

void iopt_free(struct iopt *iopt)
{
	struct itree_node *n;
	size_t i;

	if (!iopt)
		return;
	while ((n = iopt->areas.root)) {
		struct iopt_area *a = to_area(n);

		itree_remove(&iopt->areas, n);
		area_unfill(a);
		pages_put(a->pages);
		free(a);
	}
	tree_free(&iopt->reserved, offsetof(struct iopt_resv, node));
	tree_free(&iopt->allowed, offsetof(struct iopt_allowed, node));
	for (i = 0; i < iopt->ndirty; i++)
		iopt->dirty[i]->iopt = NULL;
	free(iopt->dirty);
	free(iopt->srcs);
	pthread_mutex_destroy(&iopt->lock);
	free(iopt);
	maps_iopt_count(-1);
}

static int check_alignment(struct iopt *iopt, uint64_t align)
{
	uint64_t mask = align - 1;
	struct itree_node *n;

	for (n = itree_first(&iopt->areas); n; n = itree_next(n)) {
		struct iopt_area *a = to_area(n);

		if ((a->node.start & mask) || (area_length(a) & mask) ||
		    (area_abs_byte(a, a->node.start) % PS & mask))
			return -EADDRINUSE;
	}
	return 0;
}

/* iopt_calculate_iova_alignment: raising it is checked against the areas */
static int recompute_alignment(struct iopt *iopt)
{
	uint64_t align = iopt->huge_pages ? 1 : PS;
	size_t i;
	int rc;

	for (i = 0; i < iopt->nsrcs; i++)
		align = max64(align, iopt->srcs[i].align);
	if (align > iopt->iova_alignment) {
		rc = check_alignment(iopt, align);
		if (rc)
			return rc;
	}
	iopt->iova_alignment = align;
	return 0;
}

static int src_add(struct iopt *iopt, void *owner, uint64_t align, bool domain)
{
	struct iopt_align_src *s;

	if (should_fail(&iopt->fail, "alloc"))
		return -ENOMEM;
	s = realloc(iopt->srcs, (iopt->nsrcs + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	iopt->srcs = s;
	s[iopt->nsrcs++] = (struct iopt_align_src){ owner, align, domain };
	return 0;
}

static bool src_del(struct iopt *iopt, void *owner, bool domain)
{
	size_t i;

	for (i = 0; i < iopt->nsrcs; i++) {
		if (iopt->srcs[i].owner == owner && iopt->srcs[i].domain == domain) {
			iopt->srcs[i] = iopt->srcs[--iopt->nsrcs];
			return true;
		}
	}
	return false;
}

static int reserve_locked(struct iopt *iopt, uint64_t start, uint64_t last, void *owner);
static void unreserve_locked(struct iopt *iopt, void *owner);

int iopt_domain_add(struct iopt *iopt, void *owner, uint64_t min_pgsize, uint64_t ap_start,
		    uint64_t ap_last)
{
	struct itree_node *n, *m;
	uint64_t old_align;
	int rc;

	if (!iopt || !min_pgsize || (min_pgsize & (min_pgsize - 1)) || ap_start > ap_last)
		return -EINVAL;
	pthread_mutex_lock(&iopt->lock);
	old_align = iopt->iova_alignment;
	if (max64(min_pgsize, old_align) > PS) {
		rc = -EINVAL;
		goto out;
	}
	if (min_pgsize > old_align) {
		rc = check_alignment(iopt, min_pgsize);
		if (rc)
			goto out;
	}
	if (ap_start) {
		rc = reserve_locked(iopt, 0, ap_start - 1, owner);
		if (rc)
			goto out_resv;
	}
	if (ap_last != UINT64_MAX) {
		rc = reserve_locked(iopt, ap_last + 1, UINT64_MAX, owner);
		if (rc)
			goto out_resv;
	}
	rc = src_add(iopt, owner, min_pgsize, true);
	if (rc)
		goto out_resv;
	if (!iopt->ndomains) {
		for (n = itree_first(&iopt->areas); n; n = itree_next(n)) {
			rc = area_fill(to_area(n));
			if (rc)
				break;
		}
		if (rc) {
			for (m = itree_first(&iopt->areas); m != n; m = itree_next(m))
				area_unfill(to_area(m));
			src_del(iopt, owner, true);
			goto out_resv;
		}
	}
	iopt->ndomains++;
	iopt->iova_alignment = max64(old_align, min_pgsize);
	pthread_mutex_unlock(&iopt->lock);
	return 0;
out_resv:
	unreserve_locked(iopt, owner);
out:
	pthread_mutex_unlock(&iopt->lock);
	return rc;
}

void iopt_domain_remove(struct iopt *iopt, void *owner)
{
	struct itree_node *n;

	if (!iopt)
		return;
	pthread_mutex_lock(&iopt->lock);
	if (src_del(iopt, owner, true)) {
		if (!--iopt->ndomains)
			for (n = itree_first(&iopt->areas); n; n = itree_next(n))
				area_unfill(to_area(n));
		unreserve_locked(iopt, owner);
		recompute_alignment(iopt);
	}
	pthread_mutex_unlock(&iopt->lock);
}

int iopt_domain_count(struct iopt *iopt)
{
	int n;

	pthread_mutex_lock(&iopt->lock);
	n = iopt->ndomains;
	pthread_mutex_unlock(&iopt->lock);
	return n;
}

int iopt_access_add(struct iopt *iopt, void *owner, bool needs_pin)
{
	int rc;

	if (!iopt)
		return -EINVAL;
	pthread_mutex_lock(&iopt->lock);
	rc = src_add(iopt, owner, needs_pin ? PS : 1, false);
	if (!rc) {
		rc = recompute_alignment(iopt);
		if (rc)
			src_del(iopt, owner, false);
	}
	pthread_mutex_unlock(&iopt->lock);
	return rc;
}

void iopt_access_remove(struct iopt *iopt, void *owner)
{
	if (!iopt)
		return;
	pthread_mutex_lock(&iopt->lock);
	if (src_del(iopt, owner, false))
		recompute_alignment(iopt);
	pthread_mutex_unlock(&iopt->lock);
}

uint64_t iopt_iova_alignment(struct iopt *iopt)
{
	uint64_t a;

	pthread_mutex_lock(&iopt->lock);
	a = iopt->iova_alignment;
	pthread_mutex_unlock(&iopt->lock);
	return a;
}

int iopt_set_huge_pages(struct iopt *iopt, bool enable)
{
	int rc = 0;

	if (!iopt)
		return -EINVAL;
	pthread_mutex_lock(&iopt->lock);
	if (enable) {
		iopt->huge_pages = true;
		recompute_alignment(iopt);
	} else if (iopt->huge_pages) {
		if (iopt->ndomains && iopt->areas.count) {
			rc = -EINVAL;
		} else {
			iopt->huge_pages = false;
			rc = recompute_alignment(iopt);
			if (rc)
				iopt->huge_pages = true;
		}
	}
	pthread_mutex_unlock(&iopt->lock);
	return rc;
}

bool iopt_get_huge_pages(struct iopt *iopt)
{
	bool r;

	pthread_mutex_lock(&iopt->lock);
	r = iopt->huge_pages;
	pthread_mutex_unlock(&iopt->lock);
	return r;
}

/* ---- the IOVA allocator (io_pagetable.c) ---------------------------------------- */

struct hole_search {
	uint64_t length, align, page_offset;
	uint64_t lo, hi;  /* window, inclusive */
	uint64_t cursor;  /* first address not yet known used */
	bool end;         /* cursor ran past U64_MAX */
	bool stop;        /* past the window */
	uint64_t found;
};

/* __alloc_iova_check_range: the aligned candidate in [start, last] */
static bool check_range(uint64_t start, uint64_t last, uint64_t length, uint64_t align,
			uint64_t page_offset, uint64_t *out)
{
	uint64_t aligned;

	if (__builtin_add_overflow(start, align - 1, &aligned))
		return false;
	aligned &= ~(align - 1);
	aligned |= page_offset;
	if (aligned >= last || last - aligned < length - 1)
		return false;
	*out = aligned;
	return true;
}

/* the hole [cursor, next_start - 1] clipped to the window */
static bool try_hole(struct hole_search *s, uint64_t next_start)
{
	uint64_t last;

	if (s->end || next_start <= s->cursor)
		return false;
	last = min64(next_start - 1, s->hi);
	if (s->cursor > last)
		return false;
	return check_range(s->cursor, last, s->length, s->align, s->page_offset, &s->found);
}

static void advance(struct hole_search *s, uint64_t last)
{
	if (s->end || last < s->cursor)
		return;
	if (last == UINT64_MAX || last >= s->hi) {
		s->end = true;
		s->stop = true;
		return;
	}
	s->cursor = last + 1;
}

/* in-order walk of the area holes, skipping subtrees whose holes are too small */
static bool hole_walk(struct hole_search *s, struct itree_node *n)
{
	if (!n || s->stop)
		return false;
	if (n->max_last < s->cursor)
		return false;
	if (n->max_start < s->cursor || n->max_gap < s->length) {
		/* no usable hole inside: only the one before the subtree */
		if (try_hole(s, n->min_start))
			return true;
		if (n->min_start > s->hi) {
			s->stop = true;
			return false;
		}
		advance(s, n->max_last);
		return false;
	}
	if (hole_walk(s, n->left))
		return true;
	if (s->stop)
		return false;
	if (try_hole(s, n->start))
		return true;
	if (n->start > s->hi) {
		s->stop = true;
		return false;
	}
	advance(s, n->last);
	return hole_walk(s, n->right);
}

static bool search_window(struct iopt *iopt, struct hole_search *s, uint64_t lo, uint64_t hi)
{
	s->lo = lo;
	s->hi = hi;
	s->cursor = lo;
	s->end = s->stop = false;
	if (hole_walk(s, iopt->areas.root))
		return true;
	if (s->stop || s->end)
		return false;
	/* the tail hole [cursor, hi] */
	return check_range(s->cursor, hi, s->length, s->align, s->page_offset, &s->found);
}

/* search [lo, hi] minus the reserved ranges */
static bool search_span(struct iopt *iopt, struct hole_search *s, uint64_t lo, uint64_t hi)
{
	struct itree_node *r;
	uint64_t cur = lo;

	for (r = itree_iter_first(&iopt->reserved, lo, hi); r; r = itree_iter_next(r, lo, hi)) {
		if (r->start > cur && search_window(iopt, s, cur, r->start - 1))
			return true;
		if (r->last >= hi)
			return false;
		cur = max64(cur, r->last + 1);
	}
	return search_window(iopt, s, cur, hi);
}

static int alloc_iova(struct iopt *iopt, uint64_t *iova, uint64_t addr, uint64_t length)
{
	const uint64_t lo = PS, hi = UINT64_MAX - PS;
	struct hole_search s = { 0 };
	struct itree_node *n;
	uint64_t align;

	if (!length || length >= UINT64_MAX / 2)
		return -EOVERFLOW;
	align = length == 1 ? 1 : 1ULL << (64 - __builtin_clzll(length - 1));
	if (addr)
		align = min64(align, addr & -addr);
	align = min64(align, IOPT_HPAGE_SIZE);
	if (align < iopt->iova_alignment)
		return -EINVAL;
	s.length = length;
	s.align = align;
	s.page_offset = addr % PS;

	if (!iopt->allowed.count) {
		if (search_span(iopt, &s, lo, hi))
			goto found;
		return -ENOSPC;
	}
	/* the allowed spans (touching ranges merge) clipped to [lo, hi] */
	n = itree_iter_first(&iopt->allowed, lo, hi);
	while (n) {
		uint64_t start = max64(n->start, lo), last = n->last;
		struct itree_node *m = itree_next(n);

		while (m && last != UINT64_MAX && m->start <= last + 1) {
			last = max64(last, m->last);
			m = itree_next(m);
		}
		last = min64(last, hi);
		if (check_range(start, last, length, align, s.page_offset, &s.found) &&
		    search_span(iopt, &s, start, last))
			goto found;
		n = m && m->start <= hi ? m : NULL;
	}
	return -ENOSPC;
found:
	*iova = s.found;
	return 0;
}

/* iopt_check_iova */
static int check_iova(struct iopt *iopt, uint64_t iova, uint64_t length)
{
	uint64_t last;

	if (iova & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (itree_iter_first(&iopt->reserved, iova, last))
		return -EINVAL;
	if (itree_iter_first(&iopt->areas, iova, last))
		return -EEXIST;
	return 0;
}

/* ---- map ----------------------------------------------------------------- */

struct seg {
	struct iopt_pages *pages;
	uint64_t start_byte; /* from pages->addr */
	uint64_t length;
};

struct iopt_copy_src {
	size_t n;
	struct seg segs[];
};

/* iopt_map_pages: one area per segment, atomic */
static int map_segments(struct iopt *iopt, struct seg *segs, size_t nsegs, uint64_t *iova,
			int prot, unsigned int flags)
{
	struct iopt_area **areas;
	uint64_t length = 0, cur;
	size_t i, inserted = 0, filled = 0;
	int rc = 0;

	if (!(prot & (IOPT_READ | IOPT_WRITE)) || (prot & ~(IOPT_READ | IOPT_WRITE)))
		return -EINVAL;
	for (i = 0; i < nsegs; i++)
		length += segs[i].length;
	areas = should_fail(&iopt->fail, "alloc") ? NULL : calloc(nsegs, sizeof(*areas));
	if (!areas)
		return -ENOMEM;
	for (i = 0; i < nsegs; i++) {
		areas[i] = zalloc(&iopt->fail, sizeof(**areas));
		if (!areas[i]) {
			rc = -ENOMEM;
			goto out_free;
		}
	}

	pthread_mutex_lock(&iopt->lock);
	if ((length & (iopt->iova_alignment - 1)) || !length) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (flags & IOPT_MAP_FIXED)
		rc = check_iova(iopt, *iova, length);
	else
		rc = alloc_iova(iopt, iova, segs[0].pages->addr + segs[0].start_byte, length);
	if (rc)
		goto out_unlock;

	cur = *iova;
	for (i = 0; i < nsegs; i++) {
		struct iopt_area *a = areas[i];
		struct iopt_pages *p = segs[i].pages;

		if ((prot & IOPT_WRITE) && !p->writable) {
			rc = -EPERM;
			goto out_remove;
		}
		if (((p->addr + segs[i].start_byte) % PS) & (iopt->iova_alignment - 1)) {
			rc = -EINVAL;
			goto out_remove;
		}
		if (__builtin_add_overflow(cur, segs[i].length - 1, &a->node.last)) {
			rc = -EOVERFLOW;
			goto out_remove;
		}
		a->node.start = cur;
		a->pages = p;
		a->start_byte = segs[i].start_byte;
		a->prot = prot;
		itree_insert(&iopt->areas, &a->node);
		inserted++;
		cur += segs[i].length;
	}
	if (iopt->ndomains) {
		for (; filled < nsegs; filled++) {
			rc = area_fill(areas[filled]);
			if (rc)
				goto out_remove;
		}
	}
	for (i = 0; i < nsegs; i++) {
		pages_get(segs[i].pages);
		areas[i] = NULL;
	}
	goto out_unlock;

out_remove:
	for (i = 0; i < inserted; i++) {
		area_unfill(areas[i]);
		itree_remove(&iopt->areas, &areas[i]->node);
	}
out_unlock:
	pthread_mutex_unlock(&iopt->lock);
out_free:
	for (i = 0; i < nsegs; i++)
		free(areas[i]);
	free(areas);
	return rc;
}

int iopt_map_user(struct iopt *iopt, uint64_t *iova, uint64_t uva, uint64_t length, int prot,
		  unsigned int flags)
{
	struct iopt_pages *p;
	struct seg seg;
	uint64_t end;
	int rc;

	if (!iopt || !iova || (flags & ~(IOPT_MAP_FIXED | IOPT_MAP_PFNMAP)))
		return -EINVAL;
	if (!(prot & (IOPT_READ | IOPT_WRITE)))
		return -EINVAL;
	if (__builtin_add_overflow(uva, length, &end))
		return -EOVERFLOW;
	if (!length || length > SIZE_MAX - PS)
		return -EINVAL;
	p = pages_new(iopt, IOPT_PAGES_VA, uva, length, prot & IOPT_WRITE, iopt->ctx_mm);
	if (!p)
		return -ENOMEM;
	p->pfnmap = flags & IOPT_MAP_PFNMAP;
	flags &= ~IOPT_MAP_PFNMAP;
	seg = (struct seg){ p, 0, length };
	rc = map_segments(iopt, &seg, 1, iova, prot, flags);
	pages_put(p);
	return rc;
}

int iopt_map_file(struct iopt *iopt, uint64_t *iova, int fd, uint64_t start, uint64_t length,
		  int prot, unsigned int flags)
{
	struct iopt_pages *p;
	struct seg seg;
	uint64_t last;
	int rc, nfd;

	if (!iopt || !iova || (flags & ~(IOPT_MAP_FIXED | IOPT_MAP_DMABUF)))
		return -EINVAL;
	if (!(prot & (IOPT_READ | IOPT_WRITE)))
		return -EINVAL;
	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(start, length - 1, &last))
		return -EOVERFLOW;
	if (fd < 0)
		return -EBADF;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (nfd < 0)
		return errno == EBADF ? -EBADF : -ENOMEM;
	p = pages_new(iopt, flags & IOPT_MAP_DMABUF ? IOPT_PAGES_DMABUF : IOPT_PAGES_FILE, start, length,
		      prot & IOPT_WRITE, iopt->ctx_mm);
	if (!p) {
		close(nfd);
		return -ENOMEM;
	}
	p->fd = nfd;
	if (flags & IOPT_MAP_DMABUF) {
		struct io_file *f;
		struct stat st;

		pthread_mutex_lock(&pages_lock);
		f = fstat(nfd, &st) ? NULL : io_file_find(major(st.st_dev), minor(st.st_dev), st.st_ino);
		if (f) {
			p->io = true;
			p->io_major = f->major;
			p->io_minor = f->minor;
			p->io_ino = f->ino;
			p->io_gen = f->gen;
		}
		pthread_mutex_unlock(&pages_lock);
	}
	seg = (struct seg){ p, 0, length };
	rc = map_segments(iopt, &seg, 1, iova, prot, flags & IOPT_MAP_FIXED);
	pages_put(p);
	return rc;
}

/* ---- contiguous area walks ----------------------------------------------- */

/* the area holding iova, or NULL */
static struct iopt_area *area_at(struct iopt *iopt, uint64_t iova)
{
	return to_area(itree_iter_first(&iopt->areas, iova, iova));
}

/*
 * iopt_for_each_contig_area: starting at iova, the areas that follow each other
 * without a gap up to last. Returns the next area of the chain or NULL; *cur
 * tracks the next IOVA wanted; the chain is complete when *cur passed last.
 */
static struct iopt_area *contig_next(struct iopt_area *a, uint64_t *cur, uint64_t last,
				     bool *done)
{
	uint64_t seg_last = min64(last, a->node.last);

	if (seg_last == last) {
		*done = true;
		return NULL;
	}
	*cur = seg_last + 1;
	a = to_area(itree_next(&a->node));
	if (a && a->node.start == *cur)
		return a;
	return NULL;
}

/* ---- copy ---------------------------------------------------------------- */

int iopt_copy_collect(struct iopt *src, uint64_t src_iova, uint64_t length,
		      struct iopt_copy_src **out)
{
	struct iopt_copy_src *cs = NULL;
	struct iopt_area *a;
	uint64_t last, cur = src_iova;
	size_t cap = 4;
	bool done = false;
	int rc = 0;

	if (!src || !out)
		return -EINVAL;
	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(src_iova, length - 1, &last))
		return -EOVERFLOW;
	cs = zalloc(&src->fail, sizeof(*cs) + cap * sizeof(cs->segs[0]));
	if (!cs)
		return -ENOMEM;
	pthread_mutex_lock(&src->lock);
	for (a = area_at(src, cur); a; a = contig_next(a, &cur, last, &done)) {
		uint64_t seg_last = min64(last, a->node.last);

		if (cs->n == cap) {
			struct iopt_copy_src *ncs;

			cap *= 2;
			ncs = should_fail(&src->fail, "alloc") ? NULL :
				realloc(cs, sizeof(*cs) + cap * sizeof(cs->segs[0]));
			if (!ncs) {
				rc = -ENOMEM;
				break;
			}
			cs = ncs;
		}
		cs->segs[cs->n++] = (struct seg){
			a->pages, a->start_byte + (cur - a->node.start), seg_last - cur + 1 };
		pages_get(a->pages);
	}
	if (!rc && !done)
		rc = -ENOENT;
	pthread_mutex_unlock(&src->lock);
	if (rc) {
		iopt_copy_src_free(cs);
		return rc;
	}
	*out = cs;
	return 0;
}

int iopt_copy_map(struct iopt *dst, struct iopt_copy_src *cs, uint64_t *dst_iova, int prot,
		  unsigned int flags)
{
	if (!dst || !cs || !dst_iova || (flags & ~IOPT_MAP_FIXED))
		return -EINVAL;
	return map_segments(dst, cs->segs, cs->n, dst_iova, prot, flags);
}

void iopt_copy_src_free(struct iopt_copy_src *cs)
{
	size_t i;

	if (!cs)
		return;
	for (i = 0; i < cs->n; i++)
		pages_put(cs->segs[i].pages);
	free(cs);
}

/* ---- unmap --------------------------------------------------------------- */

void iopt_set_access_unmap_cb(struct iopt *iopt, iopt_access_unmap_fn fn, void *opaque)
{
	pthread_mutex_lock(&iopt->lock);
	iopt->unmap_fn = fn;
	iopt->unmap_opaque = opaque;
	pthread_mutex_unlock(&iopt->lock);
}

/* iopt_unmap_iova_range */
static int unmap_range(struct iopt *iopt, uint64_t start, uint64_t last, uint64_t *unmapped)
{
	uint64_t total = 0;
	int tries = 0, rc = -ENOENT;
	struct iopt_area *a;

	pthread_mutex_lock(&iopt->lock);
again:
	for (a = to_area(itree_iter_first(&iopt->areas, start, last)); a;) {
		uint64_t first = a->node.start, alast = a->node.last;
		struct iopt_area *next;

		if (a->lock_cnt) {
			rc = -EBUSY;
			goto out;
		}
		if (first < start || alast > last) {
			rc = -ENOENT;
			goto out;
		}
		if (first != start)
			tries = 0;
		if (a->access_pins) {
			iopt_access_unmap_fn fn = iopt->unmap_fn;
			void *opaque = iopt->unmap_opaque;

			start = first;
			a->prevent_access = true;
			pthread_mutex_unlock(&iopt->lock);
			if (fn)
				fn(opaque, first, alast - first + 1);
			pthread_mutex_lock(&iopt->lock);
			if (++tries > UNMAP_MAX_TRIES) {
				rc = -EDEADLK;
				goto out;
			}
			goto again;
		}
		next = to_area(itree_iter_next(&a->node, start, last));
		area_destroy(iopt, a);
		total += alast - first + 1;
		a = next;
	}
	if (total)
		rc = 0;
out:
	pthread_mutex_unlock(&iopt->lock);
	if (!rc && unmapped)
		*unmapped = total;
	return rc;
}

int iopt_unmap(struct iopt *iopt, uint64_t iova, uint64_t length, uint64_t *unmapped)
{
	uint64_t last;

	if (!iopt)
		return -EINVAL;
	if (iova == 0 && length == UINT64_MAX)
		return iopt_unmap_all(iopt, unmapped);
	if (iova == UINT64_MAX || length == UINT64_MAX)
		return -EOVERFLOW;
	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return unmap_range(iopt, iova, last, unmapped);
}

int iopt_unmap_all(struct iopt *iopt, uint64_t *unmapped)
{
	int rc;

	if (!iopt)
		return -EINVAL;
	rc = unmap_range(iopt, 0, UINT64_MAX, unmapped);
	if (rc == -ENOENT) {
		if (unmapped)
			*unmapped = 0;
		return 0;
	}
	return rc;
}

/* iopt_area_split: iova becomes the last byte of the left part */
static int area_split(struct iopt *iopt, struct iopt_area *a, uint64_t iova)
{
	uint64_t new_start = iova + 1, align = iopt->iova_alignment;
	struct iopt_area *rhs;
	int rc;

	if (iova == a->node.start || iova == a->node.last)
		return 0;
	if (a->prevent_access)
		return -EBUSY;
	if (a->pages->type == IOPT_PAGES_DMABUF)
		return -EOPNOTSUPP;
	if ((new_start & (align - 1)) || (area_abs_byte(a, new_start) & (align - 1)))
		return -EINVAL;
	rhs = zalloc(&iopt->fail, sizeof(*rhs));
	if (!rhs)
		return -ENOMEM;
	if (a->access_pins || (a->filled && iopt->huge_pages)) {
		free(rhs);
		return -EINVAL;
	}
	rhs->pages = a->pages;
	rhs->prot = a->prot;
	rhs->start_byte = a->start_byte + (new_start - a->node.start);
	rhs->node.start = new_start;
	rhs->node.last = a->node.last;
	if (a->filled) {
		/* pin both halves, then drop the whole: no count reaches 0, no new charge */
		rc = pages_pin(a->pages, a->start_byte, iova - a->node.start + 1);
		if (rc) {
			free(rhs);
			return rc;
		}
		rc = pages_pin(a->pages, rhs->start_byte, area_length(rhs));
		if (rc) {
			pages_unpin(a->pages, a->start_byte, iova - a->node.start + 1);
			free(rhs);
			return rc;
		}
		pages_unpin(a->pages, a->start_byte, area_length(a));
		rhs->filled = true;
	}
	pages_get(rhs->pages);
	itree_remove(&iopt->areas, &a->node);
	a->node.last = iova;
	itree_insert(&iopt->areas, &a->node);
	itree_insert(&iopt->areas, &rhs->node);
	return 0;
}

int iopt_cut(struct iopt *iopt, const uint64_t *iovas, size_t n)
{
	size_t i;
	int rc = 0;

	if (!iopt || (n && !iovas))
		return -EINVAL;
	pthread_mutex_lock(&iopt->lock);
	for (i = 0; i < n; i++) {
		struct iopt_area *a = area_at(iopt, iovas[i]);

		if (!a)
			continue;
		rc = area_split(iopt, a, iovas[i]);
		if (rc)
			break;
	}
	pthread_mutex_unlock(&iopt->lock);
	return rc;
}

/* ---- reserved and allowed ------------------------------------------------ */

static int reserve_locked(struct iopt *iopt, uint64_t start, uint64_t last, void *owner)
{
	struct iopt_resv *r;

	if (itree_iter_first(&iopt->areas, start, last))
		return -EADDRINUSE;
	if (itree_iter_first(&iopt->allowed, start, last))
		return -EADDRINUSE;
	r = zalloc(&iopt->fail, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->node.start = start;
	r->node.last = last;
	r->owner = owner;
	itree_insert(&iopt->reserved, &r->node);
	return 0;
}

static void unreserve_locked(struct iopt *iopt, void *owner)
{
	struct itree_node *n = itree_first(&iopt->reserved), *next;

	for (; n; n = next) {
		struct iopt_resv *r = itree_entry(n, struct iopt_resv, node);

		next = itree_next(n);
		if (r->owner == owner) {
			itree_remove(&iopt->reserved, n);
			free(r);
		}
	}
}

int iopt_reserve(struct iopt *iopt, uint64_t start, uint64_t last, void *owner)
{
	int rc;

	if (!iopt || start > last)
		return -EINVAL;
	pthread_mutex_lock(&iopt->lock);
	rc = reserve_locked(iopt, start, last, owner);
	pthread_mutex_unlock(&iopt->lock);
	return rc;
}

void iopt_unreserve(struct iopt *iopt, void *owner)
{
	if (!iopt)
		return;
	pthread_mutex_lock(&iopt->lock);
	unreserve_locked(iopt, owner);
	pthread_mutex_unlock(&iopt->lock);
}

int iopt_iova_ranges(struct iopt *iopt, struct iopt_range *out, uint32_t cap)
{
	struct itree_node *n;
	uint64_t cur = 0;
	bool end = false;
	int total = 0;

	if (!iopt || (cap && !out))
		return -EINVAL;
	pthread_mutex_lock(&iopt->lock);
	for (n = itree_first(&iopt->reserved); n && !end; n = itree_next(n)) {
		if (n->start > cur) {
			if ((uint32_t)total < cap)
				out[total] = (struct iopt_range){ cur, n->start - 1 };
			total++;
		}
		if (n->last == UINT64_MAX)
			end = true;
		else if (n->last + 1 > cur)
			cur = n->last + 1;
	}
	if (!end) {
		if ((uint32_t)total < cap)
			out[total] = (struct iopt_range){ cur, UINT64_MAX };
		total++;
	}
	pthread_mutex_unlock(&iopt->lock);
	return total;
}

static int cmp_range(const void *a, const void *b)
{
	const struct iopt_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int iopt_allowed_check(const struct iopt *iopt, const struct iopt_range *ranges, uint32_t n)
{
	struct iopt_range *s;
	uint32_t i;

	if (n && !ranges)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (ranges[i].start >= ranges[i].last)
			return -EINVAL;
	if (n < 2)
		return 0;
	s = should_fail(&iopt->fail, "alloc") ? NULL : malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, ranges, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_range);
	for (i = 1; i < n; i++) {
		if (s[i].start <= s[i - 1].last) {
			free(s);
			return -EINVAL;
		}
	}
	free(s);
	return 0;
}

int iopt_allow_iovas(struct iopt *iopt, const struct iopt_range *ranges, uint32_t n)
{
	struct itree fresh = ITREE_INIT;
	uint32_t i;
	int rc;

	if (!iopt)
		return -EINVAL;
	rc = iopt_allowed_check(iopt, ranges, n);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		struct iopt_allowed *a = zalloc(&iopt->fail, sizeof(*a));

		if (!a) {
			tree_free(&fresh, offsetof(struct iopt_allowed, node));
			return -ENOMEM;
		}
		a->node.start = ranges[i].start;
		a->node.last = ranges[i].last;
		itree_insert(&fresh, &a->node);
	}
	pthread_mutex_lock(&iopt->lock);
	for (i = 0; i < n; i++) {
		if (itree_iter_first(&iopt->reserved, ranges[i].start, ranges[i].last)) {
			pthread_mutex_unlock(&iopt->lock);
			tree_free(&fresh, offsetof(struct iopt_allowed, node));
			return -EADDRINUSE;
		}
	}
	tree_free(&iopt->allowed, offsetof(struct iopt_allowed, node));
	iopt->allowed = fresh;
	pthread_mutex_unlock(&iopt->lock);
	return 0;
}

/* ---- access pins and CPU access ------------------------------------------ */

static void unpin_chain(struct iopt *iopt, uint64_t iova, uint64_t last, unsigned int flags)
{
	struct iopt_area *a;
	uint64_t cur = iova;
	bool done = false;

	for (a = area_at(iopt, cur); a; a = contig_next(a, &cur, last, &done)) {
		uint64_t seg_last = min64(last, a->node.last);

		pages_unpin(a->pages, a->start_byte + (cur - a->node.start), seg_last - cur + 1);
		if (a->access_pins)
			a->access_pins--;
		if ((flags & IOPT_PIN_LOCK) && a->lock_cnt)
			a->lock_cnt--;
	}
}

static bool area_prot_ok(const struct iopt_area *a, bool write)
{
	return write ? a->prot & IOPT_WRITE : a->prot & IOPT_READ;
}

int iopt_access_pin(struct iopt *iopt, uint64_t iova, uint64_t length, unsigned int flags)
{
	struct iopt_area *a;
	uint64_t last, cur = iova;
	bool done = false;
	int rc = 0;

	if (!iopt || (flags & ~(IOPT_PIN_WRITE | IOPT_PIN_LOCK)))
		return -EINVAL;
	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	pthread_mutex_lock(&iopt->lock);
	for (a = area_at(iopt, cur); a; a = contig_next(a, &cur, last, &done)) {
		uint64_t seg_last = min64(last, a->node.last);

		/* iopt_area_contig_is_aligned */
		if (a->prevent_access || area_abs_byte(a, cur) % PS ||
		    (seg_last != last && area_abs_byte(a, a->node.last) % PS != PS - 1)) {
			rc = -EINVAL;
			break;
		}
		if (!area_prot_ok(a, flags & IOPT_PIN_WRITE)) {
			rc = -EPERM;
			break;
		}
		rc = pages_pin(a->pages, a->start_byte + (cur - a->node.start), seg_last - cur + 1);
		if (rc)
			break;
		a->access_pins++;
		if (flags & IOPT_PIN_LOCK)
			a->lock_cnt++;
	}
	if (!rc && !done)
		rc = -ENOENT;
	if (rc && cur > iova)
		unpin_chain(iopt, iova, cur - 1, flags);
	pthread_mutex_unlock(&iopt->lock);
	return rc;
}

void iopt_access_unpin(struct iopt *iopt, uint64_t iova, uint64_t length, unsigned int flags)
{
	uint64_t last;

	if (!iopt || !length || __builtin_add_overflow(iova, length - 1, &last))
		return;
	pthread_mutex_lock(&iopt->lock);
	unpin_chain(iopt, iova, last, flags);
	pthread_mutex_unlock(&iopt->lock);
}

int iopt_access_rw(struct iopt *iopt, uint64_t iova, void *buf, uint64_t length,
		   unsigned int flags)
{
	bool write = flags & IOPT_RW_WRITE, done = false;
	uint64_t last, cur = iova;
	struct iopt_area *a;
	int rc = 0;

	if (!iopt || (length && !buf) || (flags & ~(IOPT_RW_WRITE | IOPT_RW_DEVICE)))
		return -EINVAL;
	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	pthread_mutex_lock(&iopt->lock);
	for (a = area_at(iopt, cur); a; a = contig_next(a, &cur, last, &done)) {
		uint64_t seg_last = min64(last, a->node.last), bytes = seg_last - cur + 1;

		if (a->prevent_access) {
			rc = -EINVAL;
			break;
		}
		if (!area_prot_ok(a, write) || (write && !a->pages->writable)) {
			rc = -EPERM;
			break;
		}
		rc = pages_rw(a->pages, a->start_byte + (cur - a->node.start), buf, bytes, write);
		if (rc)
			break;
		buf = (char *)buf + bytes;
	}
	if (!rc && !done)
		rc = -ENOENT;
	pthread_mutex_unlock(&iopt->lock);
	return rc;
}

/* ---- lookup -------------------------------------------------------------- */

int iopt_translate(struct iopt *iopt, uint64_t iova, struct iopt_xlate *x)
{
	struct iopt_area *a;
	uint64_t off;

	if (!iopt || !x)
		return -EINVAL;
	pthread_mutex_lock(&iopt->lock);
	a = area_at(iopt, iova);
	if (!a) {
		pthread_mutex_unlock(&iopt->lock);
		return -ENOENT;
	}
	off = a->start_byte + (iova - a->node.start);
	memset(x, 0, sizeof(*x));
	x->area_iova = a->node.start;
	x->area_length = area_length(a);
	x->prot = a->prot;
	x->type = a->pages->type;
	x->pid = a->pages->pid;
	x->fd = a->pages->fd;
	if (a->pages->type == IOPT_PAGES_VA)
		x->uva = a->pages->addr + off;
	else
		x->file_offset = a->pages->addr + off;
	x->pinned = pages_pinned_at(a->pages, off);
	x->lock_count = a->lock_cnt;
	x->access_pins = a->access_pins;
	pthread_mutex_unlock(&iopt->lock);
	return 0;
}

int iopt_for_each_area(struct iopt *iopt, uint64_t iova, uint64_t last, iopt_area_fn fn,
		       void *opaque)
{
	struct itree_node *n;
	int rc = 0;

	if (!iopt || !fn)
		return -EINVAL;
	pthread_mutex_lock(&iopt->lock);
	for (n = itree_iter_first(&iopt->areas, iova, last); n && !rc;
	     n = itree_iter_next(n, iova, last))
		rc = fn(opaque, n->start, n->last - n->start + 1, to_area(n)->prot);
	pthread_mutex_unlock(&iopt->lock);
	return rc;
}

size_t iopt_area_count(struct iopt *iopt)
{
	size_t n;

	pthread_mutex_lock(&iopt->lock);
	n = iopt->areas.count;
	pthread_mutex_unlock(&iopt->lock);
	return n;
}

/* ---- change process ------------------------------------------------------ */

int iopt_change_process_check(struct iopt *iopt)
{
	struct itree_node *n;
	int rc = 0;

	pthread_mutex_lock(&iopt->lock);
	for (n = itree_first(&iopt->areas); n; n = itree_next(n)) {
		if (to_area(n)->pages->type != IOPT_PAGES_FILE) {
			rc = -EINVAL;
			break;
		}
	}
	pthread_mutex_unlock(&iopt->lock);
	return rc;
}

void iopt_change_process_commit(struct iopt *iopt)
{
	struct itree_node *n;
	pid_t me = emu_current_pid();

	pthread_mutex_lock(&iopt->lock);
	pthread_mutex_lock(&pages_lock);
	for (n = itree_first(&iopt->areas); n; n = itree_next(n))
		to_area(n)->pages->pid = me;
	pthread_mutex_unlock(&pages_lock);
	pthread_mutex_unlock(&iopt->lock);
}

/* ---- dirty tracking ------------------------------------------------------ */

int iopt_dirty_new(struct iopt *iopt, uint64_t granule, struct iopt_dirty **out)
{
	struct iopt_dirty *d, **arr;

	if (!iopt || !out || !granule || (granule & (granule - 1)))
		return -EINVAL;
	d = zalloc(&iopt->fail, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->iopt = iopt;
	d->granule = granule;
	pthread_mutex_lock(&iopt->lock);
	arr = should_fail(&iopt->fail, "alloc") ? NULL :
		realloc(iopt->dirty, (iopt->ndirty + 1) * sizeof(*arr));
	if (!arr) {
		pthread_mutex_unlock(&iopt->lock);
		free(d);
		return -ENOMEM;
	}
	iopt->dirty = arr;
	arr[iopt->ndirty++] = d;
	pthread_mutex_unlock(&iopt->lock);
	*out = d;
	return 0;
}

static void dirty_clear_locked(struct iopt_dirty *d)
{
	tree_free(&d->chunks, offsetof(struct dirty_chunk, node));
}

void iopt_dirty_free(struct iopt_dirty *d)
{
	struct iopt *iopt;
	size_t i;

	if (!d)
		return;
	iopt = d->iopt;
	if (iopt) {
		pthread_mutex_lock(&iopt->lock);
		for (i = 0; i < iopt->ndirty; i++) {
			if (iopt->dirty[i] == d) {
				iopt->dirty[i] = iopt->dirty[--iopt->ndirty];
				break;
			}
		}
		pthread_mutex_unlock(&iopt->lock);
	}
	dirty_clear_locked(d);
	free(d);
}

void iopt_dirty_clear(struct iopt_dirty *d)
{
	if (!d)
		return;
	if (d->iopt)
		pthread_mutex_lock(&d->iopt->lock);
	dirty_clear_locked(d);
	if (d->iopt)
		pthread_mutex_unlock(&d->iopt->lock);
}

static inline uint64_t chunk_span(const struct iopt_dirty *d)
{
	return d->granule * CHUNK_BITS;
}

/* set granules [gfirst, glast] (granule indexes); returns newly set count */
static int64_t dirty_set(struct iopt_dirty *d, uint64_t gfirst, uint64_t glast)
{
	int64_t count = 0;
	uint64_t g = gfirst;

	for (;;) {
		uint64_t cidx = g / CHUNK_BITS, base = cidx * chunk_span(d);
		uint64_t bit_lo = g % CHUNK_BITS, hi_g = min64(glast, cidx * CHUNK_BITS + 63);
		uint64_t bit_hi = hi_g % CHUNK_BITS, mask;
		struct itree_node *n = itree_iter_first(&d->chunks, base, base);
		struct dirty_chunk *c;

		if (n) {
			c = itree_entry(n, struct dirty_chunk, node);
		} else {
			c = calloc(1, sizeof(*c));
			if (!c)
				return count;
			c->node.start = base;
			c->node.last = base + chunk_span(d) - 1;
			itree_insert(&d->chunks, &c->node);
		}
		mask = (bit_hi == 63 ? ~0ULL : (1ULL << (bit_hi + 1)) - 1) & ~((1ULL << bit_lo) - 1);
		count += __builtin_popcountll(mask & ~c->bits);
		c->bits |= mask;
		if (hi_g == glast)
			break;
		g = hi_g + 1;
	}
	return count;
}

int64_t iopt_dirty_mark(struct iopt_dirty *d, uint64_t iova, uint64_t length)
{
	struct itree_node *n;
	int64_t count = 0;
	uint64_t last;

	if (!d || !d->iopt || !length || __builtin_add_overflow(iova, length - 1, &last))
		return 0;
	pthread_mutex_lock(&d->iopt->lock);
	for (n = itree_iter_first(&d->iopt->areas, iova, last); n;
	     n = itree_iter_next(n, iova, last)) {
		uint64_t s = max64(iova, n->start), e = min64(last, n->last);

		count += dirty_set(d, s / d->granule, e / d->granule);
	}
	pthread_mutex_unlock(&d->iopt->lock);
	return count;
}

/* iopt lock held */
static void dirty_forget(struct iopt_dirty *d, uint64_t start, uint64_t last)
{
	uint64_t gfirst = start / d->granule, glast = last / d->granule;
	struct itree_node *n, *next;

	for (n = itree_iter_first(&d->chunks, start, last); n; n = next) {
		struct dirty_chunk *c = itree_entry(n, struct dirty_chunk, node);
		uint64_t c0 = n->start / d->granule, i;

		next = itree_iter_next(n, start, last);
		for (i = 0; i < CHUNK_BITS; i++)
			if (c0 + i >= gfirst && c0 + i <= glast)
				c->bits &= ~(1ULL << i);
		if (!c->bits) {
			itree_remove(&d->chunks, n);
			free(c);
		}
	}
}

bool iopt_dirty_first(struct iopt_dirty *d, uint64_t iova, uint64_t last, uint64_t *first)
{
	struct itree_node *n;

	if (!d || iova > last)
		return false;
	if (d->iopt)
		pthread_mutex_lock(&d->iopt->lock);
	n = itree_iter_first(&d->chunks, iova, last);
	if (n)
		*first = max64(n->start, iova);
	if (d->iopt)
		pthread_mutex_unlock(&d->iopt->lock);
	return n != NULL;
}

void iopt_dirty_read(struct iopt_dirty *d, uint64_t iova, uint64_t length, uint64_t page_size,
		     uint64_t *bitmap, bool no_clear)
{
	struct itree_node *n, *next;
	uint64_t last;

	if (!d || !bitmap || !length || !page_size ||
	    __builtin_add_overflow(iova, length - 1, &last))
		return;
	if (d->iopt)
		pthread_mutex_lock(&d->iopt->lock);
	for (n = itree_iter_first(&d->chunks, iova, last); n; n = next) {
		struct dirty_chunk *c = itree_entry(n, struct dirty_chunk, node);
		uint64_t bits = c->bits;

		next = itree_iter_next(n, iova, last);
		while (bits) {
			int i = __builtin_ctzll(bits);
			uint64_t gs = n->start + (uint64_t)i * d->granule;
			uint64_t ge = gs + d->granule - 1, s, e, b;

			bits &= bits - 1;
			if (ge < iova || gs > last)
				continue;
			s = max64(gs, iova);
			e = min64(ge, last);
			for (b = (s - iova) / page_size; b <= (e - iova) / page_size; b++)
				bitmap[b / 64] |= 1ULL << (b % 64);
			if (!no_clear)
				c->bits &= ~(1ULL << i);
		}
		if (!c->bits) {
			itree_remove(&d->chunks, n);
			free(c);
		}
	}
	if (d->iopt)
		pthread_mutex_unlock(&d->iopt->lock);
}
