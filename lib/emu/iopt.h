/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulator's IOAS page-table engine: a model of the kernel's io_pagetable
 * (drivers/iommu/iommufd/io_pagetable.c, pages.c, ioas.c).
 *
 * One struct iopt per emulated IOAS. It holds three ordered interval sets over
 * [0, U64_MAX] (areas, reserved ranges, allowed ranges), kept in balanced trees
 * (lib/emu/itree.h), so map, unmap and lookup are O(log n) in the number of
 * areas, and the automatic IOVA allocator finds its hole in O(log n) too
 * (max-gap augmentation), plus O(#reserved + #allowed) to build its windows.
 *
 * Every call returns 0 (or a non-negative count) or a negative errno: the
 * kernel's errno, in the kernel's validation order, for the steps the engine
 * owns. The ioctl-level steps that come *before* the object lookup (size,
 * flags, reserved fields, U64_MAX EOVERFLOW checks, "no R/W flag" EINVAL) and
 * the lookups themselves belong to the caller (the emulator's object layer);
 * where the kernel interleaves a lookup (COPY's dst IOAS), the API is split in
 * two phases so the caller can do the lookup in between.
 *
 * Memory model: the emulator runs inside the process, so an area of type VA
 * names memory of the pid that mapped it (normally getpid()). The engine never
 * dereferences a user VA itself: pinning validates the range against the
 * process's VMAs at every pin (present, readable; writable for writeable
 * pages; not device memory), by PROCMAP_QUERY on /proc/self/maps or the maps
 * text, and data moves with process_vm_readv/writev, so a bad VA gives
 * EFAULT, never a crash.
 * FILE areas hold a dup of the fd and move data with pread/pwrite.
 *
 * Locking: each iopt has its own mutex; pages objects (shared between IOASes by
 * COPY) and the pinned-page accounting are guarded by one global mutex. All
 * calls are thread-safe. Callbacks (access unmap) run without the iopt lock.
 *
 * Private header: never installed.
 */
#ifndef IOMMUFD_EMU_IOPT_H
#define IOMMUFD_EMU_IOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* the process the calling thread acts for (emu.c; getpid() outside the preload) */
pid_t emu_current_pid(void);

/* host page size (sysconf, cached) and the THP size used by the allocator */
uint64_t iopt_page_size(void);
#define IOPT_HPAGE_SIZE (2ULL << 20)

/* protection of an area (IOMMU_IOAS_MAP_READABLE/WRITEABLE in kernel terms) */
enum {
	IOPT_READ = 1 << 0,
	IOPT_WRITE = 1 << 1,
};

/* flags of iopt_map_user/iopt_map_file/iopt_copy_map */
enum {
	IOPT_MAP_FIXED = 1 << 0,  /* *iova is the IOVA; else allocate (io_pagetable.c) */
	IOPT_MAP_DMABUF = 1 << 1, /* map_file only: dma-buf pages: never accounted,
				     no memfd/EOF check at pin, cannot be cut */
	IOPT_MAP_PFNMAP = 1 << 2, /* map_user only: device memory (iopt_io_file_add)
				     may be mapped, as vfio_iommu_type1.c follows a
				     VM_PFNMAP vma's PFNs where pinning fails */
};

/*
 * Device memory: a file whose mappings the kernel would make VM_IO |
 * VM_PFNMAP (an emulated BAR0's memfd, as vfio-pci maps a BAR), which
 * pin_user_pages() refuses. Pinning user VA that a mapping of such a file
 * backs fails with -EFAULT (drivers/iommu/iommufd/pages.c), but for pages
 * mapped with IOPT_MAP_PFNMAP. add: 0, -EBADF or -ENOMEM; remove: before the
 * file is closed. Thread-safe.
 */
int iopt_io_file_add(int fd);
void iopt_io_file_remove(int fd);
/*
 * Revoke the dma-bufs of device memory fd (a BAR memfd added above): DMABUF
 * pages mapped from it so far lose their translation for good (DMA through
 * them fails with -EFAULT), as iommufd's iopt_revoke_notify() leaves them;
 * pages mapped later work. -ENOENT: fd is not device memory.
 */
int iopt_io_file_revoke(int fd);

/* what backs an area's pages */
enum iopt_pages_type {
	IOPT_PAGES_VA = 0,     /* user VA of pages->pid (IOAS_MAP, VFIO compat MAP_DMA) */
	IOPT_PAGES_FILE = 1,   /* memfd/shmem/hugetlb file + offset (IOAS_MAP_FILE) */
	IOPT_PAGES_DMABUF = 2, /* dma-buf (emulated by a file) */
};

/* pinned-page accounting mode of a pages object (pages.c) */
enum iopt_acct_mode {
	IOPT_ACCT_NONE = 0, /* CAP_IPC_LOCK: only pinned_vm is counted */
	IOPT_ACCT_USER = 1, /* user->locked_vm against RLIMIT_MEMLOCK */
	IOPT_ACCT_MM = 2,   /* mm->locked_vm (includes the process' VmLck) against RLIMIT_MEMLOCK */
};

struct iopt;

/* ---- lifetime ---------------------------------------------------------- */

/*
 * A new IOAS: no areas, no reserved or allowed ranges, iova_alignment 1, huge
 * pages on. ctx_mm_mode: the owning context is in RLIMIT_MODE "mm" (the kernel
 * upgrades USER pages to MM when mapped into such a context; the mode can only
 * change while the context has no objects, so it is fixed per IOAS).
 * Returns 0 or -ENOMEM.
 */
/*
 * Fault injection of one engine instance: fn is called at every allocation
 * and pin step; returning true makes that step fail (-ENOMEM for
 * allocations, -EFAULT/-ENOMEM for pins) with the state unchanged. site: a
 * short name ("alloc", "pin"). fn NULL: never.
 */
struct iopt_fail_hook {
	bool (*fn)(void *data, const char *site);
	void *data;
};

/* fail (may be NULL: no injection) is copied into the iopt and the pages it makes */
int iopt_new(bool ctx_mm_mode, const struct iopt_fail_hook *fail, struct iopt **out);
/* unmaps everything (ignoring locks and pins), frees. NULL is fine. */
void iopt_free(struct iopt *iopt);

/* ---- alignment inputs: domains and accesses (io_pagetable.c) ------------------- */

/*
 * A paging domain joins the IOAS (HWPT_ALLOC / first auto-attach), in kernel
 * order:
 *  1. min_pgsize > PAGE_SIZE (or 0 / not a power of 2) -> -EINVAL;
 *  2. reserve the outside of the aperture [ap_start, ap_last] with owner = owner
 *     (pass 0, U64_MAX for no aperture) -> -EADDRINUSE if it hits an area or an
 *     allowed range;
 *  3. recompute iova_alignment with min_pgsize -> -EADDRINUSE if an area is
 *     misaligned;
 *  4. if this is the first domain, "fill": pin every area (-EFAULT bad VA or
 *     dead process, -EINVAL bad file / past EOF, -ENOMEM rlimit).
 * Any failure undoes the earlier steps. owner identifies the domain (unique).
 */
int iopt_domain_add(struct iopt *iopt, void *owner, uint64_t min_pgsize, uint64_t ap_start,
		    uint64_t ap_last);
/* the domain leaves: drops its reservations (owner), its alignment, and unpins
 * every area if it was the last domain. No-op for an unknown owner. */
void iopt_domain_remove(struct iopt *iopt, void *owner);
int iopt_domain_count(struct iopt *iopt);

/*
 * An access (in-kernel user like an mdev / selftest access / HW-queue access)
 * attaches: alignment PAGE_SIZE if needs_pin else 1. -EADDRINUSE if that
 * raises the alignment past an existing area; -ENOMEM.
 */
int iopt_access_add(struct iopt *iopt, void *owner, bool needs_pin);
void iopt_access_remove(struct iopt *iopt, void *owner);

/* current iova_alignment (IOAS_IOVA_RANGES.out_iova_alignment) */
uint64_t iopt_iova_alignment(struct iopt *iopt);

/* ---- options (ioas.c) --------------------------------------------------- */

/*
 * IOMMU_OPTION HUGE_PAGES SET: enable -> 0 (alignment recomputed);
 * disable when already disabled -> 0; disable with >=1 domain and >=1 area ->
 * -EINVAL; disable raising the alignment past an existing area -> -EADDRINUSE
 * (setting reverted). (val64 other than 0/1 is the caller's EINVAL.)
 */
int iopt_set_huge_pages(struct iopt *iopt, bool enable);
bool iopt_get_huge_pages(struct iopt *iopt);

/* ---- mapping (ioas.c, io_pagetable.c) ---------------------------------------------- */

/*
 * IOAS_MAP from step 5 on: uva + length overflows -> -EOVERFLOW; length 0 or
 * > SIZE_MAX - PAGE_SIZE -> -EINVAL; length % alignment -> -EINVAL; FIXED:
 * iova % alignment -> -EINVAL, iova + length - 1 overflows -> -EOVERFLOW,
 * reserved -> -EINVAL, any area overlap -> -EEXIST; auto: the allocator
 * (-EOVERFLOW/-EINVAL/-ENOSPC); uva sub-page offset % alignment -> -EINVAL;
 * with >=1 domain: pin (-EFAULT/-ENOMEM; -EFAULT for device memory but with
 * IOPT_MAP_PFNMAP). Atomic. *iova in/out.
 * prot: IOPT_READ|IOPT_WRITE, at least one (else -EINVAL).
 * The pages remember getpid() and the accounting mode (CAP_IPC_LOCK -> NONE,
 * else USER, or MM if the context is in mm mode).
 */
int iopt_map_user(struct iopt *iopt, uint64_t *iova, uint64_t uva, uint64_t length, int prot,
		  unsigned int flags);

/*
 * IOAS_MAP_FILE from step 5 on: length 0 -> -EINVAL; start + length - 1
 * overflows -> -EOVERFLOW; bad fd -> -EBADF (the fd is dup'ed; the caller
 * keeps its own); then as iopt_map_user with start as the allocator's addr.
 * The file is checked only when pinned: not memfd/shmem/hugetlb or range past
 * EOF -> -EINVAL.
 */
int iopt_map_file(struct iopt *iopt, uint64_t *iova, int fd, uint64_t start, uint64_t length,
		  int prot, unsigned int flags);

/* ---- copy (ioas.c): two phases so the caller can look up dst in between ---- */

struct iopt_copy_src;
/*
 * Collect [src_iova, src_iova + length - 1] of src: length 0 -> -EINVAL;
 * overflow -> -EOVERFLOW; not completely covered by a gap-free chain of areas
 * -> -ENOENT; -ENOMEM. Takes references on the pages.
 */
int iopt_copy_collect(struct iopt *src, uint64_t src_iova, uint64_t length,
		      struct iopt_copy_src **out);
/*
 * Map the collected segments into dst (one area per segment, sharing pages):
 * as MAP steps 6-9 against dst's alignment; WRITE on pages created read-only
 * -> -EPERM. Atomic. Auto IOVA uses the first segment's address. *dst_iova
 * in/out. Does not free cs.
 */
int iopt_copy_map(struct iopt *dst, struct iopt_copy_src *cs, uint64_t *dst_iova, int prot,
		  unsigned int flags);
void iopt_copy_src_free(struct iopt_copy_src *cs);

/* ---- unmap (io_pagetable.c) -------------------------------------------------------- */

/*
 * Called (without the iopt lock) when UNMAP meets an area pinned by an access:
 * the caller must iopt_access_unpin() every pin of its accesses intersecting
 * [iova, iova + length - 1]. The engine retries up to 100 times (-EDEADLOCK).
 */
typedef void (*iopt_access_unmap_fn)(void *opaque, uint64_t iova, uint64_t length);
void iopt_set_access_unmap_cb(struct iopt *iopt, iopt_access_unmap_fn fn, void *opaque);

/*
 * IOAS_UNMAP from step 2 on. (iova 0, length U64_MAX) = unmap all, which
 * succeeds on an empty IOAS. Else iova or length == U64_MAX -> -EOVERFLOW;
 * length 0 -> -EINVAL; iova + length - 1 overflows -> -EOVERFLOW; then each
 * intersecting area in ascending order: locked -> -EBUSY; not fully inside ->
 * -ENOENT (areas before it stay unmapped); access pins -> callback + retry.
 * Nothing unmapped -> -ENOENT. *unmapped (may be NULL) = sum of the removed
 * areas' lengths, set only on success.
 */
int iopt_unmap(struct iopt *iopt, uint64_t iova, uint64_t length, uint64_t *unmapped);
int iopt_unmap_all(struct iopt *iopt, uint64_t *unmapped);

/*
 * VFIO type1 (v1) compat (iopt_cut_iova): for each IOVA, the area holding it
 * is split so that the IOVA becomes the *last* byte of the left part (an IOVA
 * outside any area, or at an area's first or last byte, is a no-op).
 * -EBUSY for an area being unmapped; -EOPNOTSUPP for dma-buf areas; -EINVAL
 * if iova + 1 or its byte offset is not aligned to iova_alignment, if the area
 * has access pins, or if it is in a domain while huge pages are enabled;
 * -ENOMEM. Cuts already done stay done on error.
 */
int iopt_cut(struct iopt *iopt, const uint64_t *iovas, size_t n);

/* ---- reserved and allowed ranges (io_pagetable.c) ------------------- */

/*
 * Reserve [start, last] (inclusive) for owner (domain, device, or NULL for
 * mock ADD_RESERVED). start > last -> -EINVAL; intersects an area or an allowed
 * range -> -EADDRINUSE; -ENOMEM. Reserved ranges may overlap each other.
 * (ADD_RESERVED's "length 0 -> EINVAL, overflow -> EOVERFLOW" are the caller's.)
 */
int iopt_reserve(struct iopt *iopt, uint64_t start, uint64_t last, void *owner);
/* drop every reserved range of owner (owner NULL: the owner-less ones) */
void iopt_unreserve(struct iopt *iopt, void *owner);

/* an inclusive IOVA range, the layout of struct iommu_iova_range */
struct iopt_range {
	uint64_t start;
	uint64_t last;
};

/*
 * IOVA_RANGES: the holes of the reserved set in [0, U64_MAX], ascending. The
 * first min(cap, total) go to out (may be NULL when cap is 0). Returns the
 * total count (>= 0, even if > cap: the caller writes the struct back and
 * then returns EMSGSIZE).
 */
int iopt_iova_ranges(struct iopt *iopt, struct iopt_range *out, uint32_t cap);

/*
 * ALLOW_IOVAS: replace the allowed list atomically. start >= last -> -EINVAL;
 * overlap with an earlier entry -> -EINVAL; any range intersecting a reserved
 * range -> -EADDRINUSE (old list kept); n 0 clears. -ENOMEM.
 */
int iopt_allow_iovas(struct iopt *iopt, const struct iopt_range *ranges, uint32_t n);
/* only the list checks of ALLOW_IOVAS (-EINVAL), for a caller that copies the
 * user's entries one by one and must order EINVAL against a copy EFAULT */
int iopt_allowed_check(const struct iopt *iopt, const struct iopt_range *ranges, uint32_t n);

/* ---- accesses: pin, lock, rw (device.c, selftest ACCESS_PAGES/ACCESS_RW) ---- */

enum {
	IOPT_PIN_WRITE = 1 << 0, /* pinned for write: area must be WRITE */
	IOPT_PIN_LOCK = 1 << 1,  /* HW queue: UNMAP of the areas gives EBUSY until unpinned */
};

/*
 * Pin [iova, iova + length - 1]: length 0 -> -EINVAL, overflow -> -EOVERFLOW;
 * not fully covered by areas -> -ENOENT; an area being unmapped / IOVA or end
 * not aligned to the area's iova_alignment -> -EINVAL; WRITE on a non-WRITE
 * area -> -EPERM; pin errors -EFAULT/-EINVAL/-ENOMEM. Atomic.
 * Each successful pin must be undone by iopt_access_unpin with the same range
 * and flags.
 */
int iopt_access_pin(struct iopt *iopt, uint64_t iova, uint64_t length, unsigned int flags);
void iopt_access_unpin(struct iopt *iopt, uint64_t iova, uint64_t length, unsigned int flags);

enum {
	IOPT_RW_WRITE = 1 << 0,  /* buf -> IOVA; else IOVA -> buf */
	IOPT_RW_DEVICE = 1 << 1, /* device DMA (same checks; for the caller's bookkeeping) */
};

/*
 * Copy between buf and the memory mapped at [iova, iova + length - 1]:
 * length 0 -> -EINVAL, overflow -> -EOVERFLOW; then area by area in ascending
 * order like iommufd_access_rw: area being unmapped -> -EINVAL; a write needs
 * WRITE prot, a read READ prot, else -EPERM; backing memory gone/unreadable ->
 * -EFAULT; a gap (or nothing mapped) -> -ENOENT. As in the kernel, the bytes
 * of the areas before the failing one have already moved. Never touches
 * memory outside the mappings.
 */
int iopt_access_rw(struct iopt *iopt, uint64_t iova, void *buf, uint64_t length,
		   unsigned int flags);

/* ---- lookup -------------------------------------------------------------------- */

struct iopt_xlate {
	uint64_t area_iova;   /* the area holding the IOVA */
	uint64_t area_length;
	int prot;             /* IOPT_READ | IOPT_WRITE */
	enum iopt_pages_type type;
	pid_t pid;            /* VA: the process whose memory it is */
	uint64_t uva;         /* VA: the user address backing iova */
	int fd;               /* FILE/DMABUF: the engine's fd (do not close) */
	uint64_t file_offset; /* FILE/DMABUF: the offset backing iova */
	bool pinned;          /* the page at iova is pinned (domain or access) */
	unsigned int lock_count;
	unsigned int access_pins;
};
/* translate one IOVA: -ENOENT if unmapped */
int iopt_translate(struct iopt *iopt, uint64_t iova, struct iopt_xlate *x);

/* call fn for each area intersecting [iova, last], ascending; a non-zero return stops */
typedef int (*iopt_area_fn)(void *opaque, uint64_t iova, uint64_t length, int prot);
int iopt_for_each_area(struct iopt *iopt, uint64_t iova, uint64_t last, iopt_area_fn fn,
		       void *opaque);
size_t iopt_area_count(struct iopt *iopt);

/* ---- change process (ioas.c): check every IOAS first, then commit all ---- */

/* -EINVAL if any area is not FILE-typed */
int iopt_change_process_check(struct iopt *iopt);
/* re-own every pages object to the current process (accounting moved) */
void iopt_change_process_commit(struct iopt *iopt);

/* ---- pinned-page accounting (pages.c), process-wide ---------------------- */

struct iopt_acct_stats {
	uint64_t user_locked; /* pages charged in USER mode (user->locked_vm) */
	uint64_t mm_locked;   /* pages charged in MM mode (mm->locked_vm, on top of VmLck) */
	uint64_t pinned;      /* pages pinned in any mode (mm->pinned_vm, VmPin) */
};
void iopt_acct_get(struct iopt_acct_stats *st);

/* ---- dirty tracking (hw_pagetable.c, selftest DIRTY) -------------------------- */

/*
 * One tracker per dirty-tracking domain (HWPT), registered with its IOAS so
 * that unmapping an area forgets its dirty bits. granule: the PTE size of the
 * domain (power of 2, e.g. 2048 for the mock); marks are rounded out to it.
 */
struct iopt_dirty;
int iopt_dirty_new(struct iopt *iopt, uint64_t granule, struct iopt_dirty **out);
void iopt_dirty_free(struct iopt_dirty *d);
/*
 * Mark the *mapped* part of [iova, iova + length - 1] dirty (rounded out to
 * granule). Returns the number of granules that became dirty (>= 0).
 */
int64_t iopt_dirty_mark(struct iopt_dirty *d, uint64_t iova, uint64_t length);
/* forget every dirty bit (SET_DIRTY_TRACKING enable starts clean) */
void iopt_dirty_clear(struct iopt_dirty *d);
/*
 * GET_DIRTY_BITMAP after the caller's checks: for each dirty granule
 * intersecting [iova, iova + length - 1], OR in every bit it covers (bit i =
 * iova + i * page_size, little-endian u64 words), and clear it unless
 * no_clear. Bits are never cleared in bitmap. page_size: power of 2.
 */
void iopt_dirty_read(struct iopt_dirty *d, uint64_t iova, uint64_t length, uint64_t page_size,
		     uint64_t *bitmap, bool no_clear);
/*
 * The lowest IOVA in [iova, last] of a granule that may be dirty in *first
 * (true), or false when nothing there is: lets a reader of a huge range skip
 * the clean parts instead of walking them.
 */
bool iopt_dirty_first(struct iopt_dirty *d, uint64_t iova, uint64_t last, uint64_t *first);

#endif
