/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulator's internal API (private to lib/emu/). Three parts use it:
 *  - the iommufd model, split as drivers/iommu/iommufd is: emu.c (backend ops,
 *    fd table, user memory), obj.c (contexts and their object tables),
 *    main.c (ioctl dispatch), ioas.c, hw_pagetable.c, device.c, viommu.c,
 *    eventq.c, vfio_compat.c, selftest.c (the commands, by kernel object);
 *  - iopt.c/itree.c: the IOAS interval engine, see iopt.h;
 *  - vfio.c/edu.c: the emulated VFIO devices and their device models.
 *
 * LOCKING: one recursive mutex per emulator (emu->lock). Every backend op
 * takes it, so every emu_file_ops callback runs with it held, and every
 * function of this header must be called with it held (take it with
 * emu_lock()/emu_unlock() when calling from outside a file op, e.g. from a
 * public iommufd_emu_* call).
 *
 * ERRORS: functions return 0 / a non-negative value, or -errno exactly as the
 * kernel would give it to userspace.
 */
#ifndef IOMMUFD_EMU_H
#define IOMMUFD_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <pthread.h>

#include "iommufd-emu.h"
#include "shared/abi.h"
#include "shared/backend.h"
#include "shared/errname.h"
#include "shared/ext.h"
#include "shared/macro.h"
#include "shared/pid.h"
#include "iopt.h"

/* the end of MEMBER in TYPE: a command's or a payload's minimum size */
#define offsetofend(TYPE, MEMBER) (offsetof(TYPE, MEMBER) + sizeof(((TYPE *)0)->MEMBER))

struct emu_file;
struct emu_ictx;
struct emu_obj;
struct emu_dev;
struct emu_group;

/* ------------------------------------------------------------ emulator */

#define EMU_PAGE_SIZE 4096ull /* the emulated kernel's PAGE_SIZE */

/* which open file an fd number held when the emulator gave it out */
struct emu_fd_id {
	dev_t dev;
	ino_t ino;
};

struct iommufd_emu {
	struct iommufd_backend be;  /* must stay first: backend -> emu */
	int refcount;               /* atomic */
	pthread_mutex_t lock;       /* recursive, see LOCKING */
	/* emulated fd table, indexed by fd number; fd_ids: the identity of the
	 * real placeholder behind each entry (see emu_file_lookup) */
	struct emu_file **fds;
	struct emu_fd_id *fd_ids;
	size_t nfds;
	/* fstat of an anonymous inode: what a file without an fstat op shows */
	struct stat anon_st;
	bool anon_st_valid;
	/* vfio.enable_unsafe_noiommu_mode: a no-IOMMU device was added */
	bool noiommu_mode;
	/* open() registry for device nodes under BE_DEV_ROOT (see emu_node_register) */
	struct emu_node *nodes;
	/* mmaps of emulated files (addr -> owner), see emu_mmap_track */
	struct emu_mmap *mmaps;
	/* fault injection: fail the fail_nth-th step (1-based), 0: off */
	unsigned long fail_nth;
	unsigned long fail_count;
	struct iopt_fail_hook iopt_fail; /* {emu_should_fail, emu} for the IOAS engine */
	/* private state of the device layer (vfio.c), freed by device_priv_free */
	void *device_priv;
	void (*device_priv_free)(struct iommufd_emu *emu);
	/* and back to the devices' state when added (emu_reset), 0 or -errno */
	int (*device_priv_reset)(struct iommufd_emu *emu);
	/* global mock state: SET_TEMP_MEMORY_LIMIT */
	uint32_t temp_memory_limit;
	/* fake "hardware" address space for mock/device physical addresses */
	uint64_t next_pa;
	/* selftest dma-bufs (DMABUF_GET), known by their memfd's inode */
	struct emu_dmabuf *dmabufs;
	/* the kernel's configuration: IOMMUFD_EMU_CONFIG_* (iommufd_emu_set_config) */
	uint32_t config;
	bool files_made;            /* a file was ever opened: the config is fixed */
	/* live files and iommufd contexts: what emu_reset() finds left over */
	unsigned long nfiles, nictx;
};

struct vdev;
/*
 * The emulator as it was made, its devices included, without making it
 * again: for the fuzz targets, which keep one emulator across inputs (not
 * exported). Every fd still open is closed as iommufd_emu_unref() closes
 * them, mappings and dma-bufs are forgotten, the global mock state and fault
 * injection are reset, and each device is powered on again (its BAR0 memory
 * kept, its registers and config space as when added). 0, or -EBUSY when a
 * file or an iommufd context outlived the fds (a reference leaked) or a
 * device still holds something of the program's.
 */
int emu_reset(struct iommufd_emu *emu);

struct emu_dmabuf {
	struct emu_dmabuf *next;
	int fd;             /* the emulator's own reference */
	dev_t dev;
	ino_t ino;
	uint64_t size;
	bool revoked;
	/* a vfio-pci BAR0 export (lib/emu/vfio-dmabuf.c); NULL: the selftest's,
	 * or the device's file was closed */
	struct vdev *vdev;
	bool vfio;
	uint32_t nr_ranges;
	uint64_t bar_offset; /* of the first range */
	int map_fd;          /* what IOAS_MAP_FILE maps: BAR0's memfd (the device's; used
			      * only while not revoked, so while the device is open) */
};
/* the dma-buf (selftest or vfio) behind fd, NULL if fd is something else */
struct emu_dmabuf *emu_dmabuf_find(struct iommufd_emu *emu, int fd);

static inline struct iommufd_emu *emu_from_be(struct iommufd_backend *be)
{
	return (struct iommufd_emu *)be;
}

/*
 * Failure of a public iommufd_emu_* call: records "func: what: ENAME
 * (strerror)" as the calling thread's last emulator error
 * (iommufd_emu_last_error()) and returns -err (err positive or negative).
 */
int emu_fail(const char *func, int err, const char *fmt, ...) _printf_(3, 4);
#define EMU_FAIL(err, ...) emu_fail(__func__, (err), __VA_ARGS__)

void emu_lock(struct iommufd_emu *emu);
void emu_unlock(struct iommufd_emu *emu);

/*
 * Fault injection point: true when this step must fail (the caller then
 * returns -ENOMEM, or the errno the kernel's injection site would give).
 * Counts calls while iommufd_emu_set_fail_nth() is armed.
 */
bool emu_should_fail(struct iommufd_emu *emu);
/* the same injection for the IOAS engine (iopt_new()) */
const struct iopt_fail_hook *emu_iopt_fail_hook(struct iommufd_emu *emu);
/* malloc/calloc that honour fault injection */
void *emu_zalloc(struct iommufd_emu *emu, size_t size);
/*
 * Fault-injectable allocations for every ioctl path (obj.c): emu_calloc zeroes
 * n * size bytes; emu_realloc resizes p to n * size bytes. Both return NULL
 * (p left untouched) when injected or on overflow/out of memory.
 */
void *emu_calloc(struct iommufd_emu *emu, size_t n, size_t size);
void *emu_realloc(struct iommufd_emu *emu, void *p, size_t n, size_t size);

/* ------------------------------------------------------------ emulated fds */

/*
 * An emulated open file. Each fd number that refers to it is a real,
 * unique process fd (an eventfd), so numbers never collide with real fds
 * and poll() works: emu_file_set_readable() keeps that eventfd readable
 * exactly when the file has data. dup() makes another fd for the same file.
 */
struct emu_file_ops {
	const char *name; /* "[iommufd]", "vfio-device", ... */
	/* all optional; a missing op gives the errno listed */
	int (*ioctl)(struct emu_file *f, unsigned long req, void *arg);                 /* ENOTTY */
	ssize_t (*read)(struct emu_file *f, void *buf, size_t len, off_t off, bool pos); /* EINVAL */
	ssize_t (*write)(struct emu_file *f, const void *buf, size_t len, off_t off, bool pos); /* EINVAL */
	/* returns the mapping in *addr; emu_mmap_track() it if munmap must be seen */
	int (*mmap)(struct emu_file *f, off_t off, size_t len, int prot, int flags, void **addr); /* ENODEV */
	/* last fd of the file closed */
	void (*release)(struct emu_file *f);
	/* fstat(2) (device nodes: S_IFCHR + st_rdev); optional, else an anonymous inode's */
	int (*fstat)(struct emu_file *f, struct stat *st);
};
/* read/write: pos is false for read()/write() (off is then the file position
 * kept by the emulator, always 0 for stream files) and true for pread/pwrite. */

struct emu_file {
	struct iommufd_emu *emu;
	const struct emu_file_ops *ops;
	void *priv;
	int refs;        /* fds referring to it + emu_file_get() refs */
	int evfd;        /* first fd number (the one returned by emu_file_new) */
	bool readable;
	int nfds;        /* fd numbers currently referring to it */
};

/* Make a new file and its first fd; returns the fd number or -errno. */
int emu_file_new(struct iommufd_emu *emu, const struct emu_file_ops *ops, void *priv,
		 struct emu_file **ret);
/*
 * The emulated file behind fd (no ref taken), NULL if fd is not emulated.
 * Called with emu->lock held. An entry whose number no longer holds the
 * placeholder the emulator gave out (closed by a call the emulator did not
 * see: close_range(), fclose(), syscall(SYS_close), ...; maybe reused by a
 * real file since) is dropped here, as a close of that fd would have.
 */
struct emu_file *emu_file_lookup(struct iommufd_emu *emu, int fd);
/* Drop every such stale entry (emu->lock held). */
void emu_files_sweep(struct iommufd_emu *emu);
/*
 * dup2(oldfd, newfd) of an emulated fd: the caller has already made the real
 * number newfd (e.g. dup2 of oldfd's eventfd); make it refer to oldfd's file
 * too (an emulated file previously at newfd loses that fd). Returns newfd,
 * -EBADF if oldfd is not emulated.
 */
int emu_file_install(struct iommufd_emu *emu, int oldfd, int newfd);
void emu_file_get(struct emu_file *f);
void emu_file_put(struct emu_file *f); /* release() on last ref */
/* Poll state: POLLIN on all of f's fds iff readable. */
void emu_file_set_readable(struct emu_file *f, bool readable);
/*
 * The backend's ioctl with a single look-up of fd, for a caller that routes
 * real fds itself (the preload library): *emulated false when fd is not an
 * emulated fd (nothing done: the caller makes the real call), else the
 * emulated file's answer is returned.
 */
int emu_fd_ioctl(struct iommufd_emu *emu, int fd, unsigned long request, void *arg,
		 bool *emulated);
/* The same for read/write (pos false; off ignored) and pread/pwrite (pos true). */
ssize_t emu_fd_rw(struct iommufd_emu *emu, int fd, void *buf, size_t len, off_t off, bool pos,
		  bool wr, bool *emulated);
/* Is fd an open process fd at all (emulated or real)? */
bool emu_fd_is_open(struct iommufd_emu *emu, int fd);

/* Track an mmap of an emulated file so munmap() calls unmap(priv). */
int emu_mmap_track(struct iommufd_emu *emu, void *addr, size_t len,
		   void (*unmap)(void *priv, void *addr, size_t len), void *priv);

/*
 * open() of "<BE_DEV_ROOT>/<rel>": the iommufd node "iommu" is handled by the
 * emulator; other nodes are offered to the registered handlers (longest
 * prefix wins). The handler returns an fd or -errno.
 */
typedef int (*emu_open_fn)(struct iommufd_emu *emu, const char *rel, int flags, void *data);
int emu_node_register(struct iommufd_emu *emu, const char *prefix, emu_open_fn fn, void *data);
void emu_node_unregister(struct iommufd_emu *emu, const char *prefix);
/*
 * stat() of "<BE_DEV_ROOT>/<rel>" without opening it: the handler of the
 * prefix fills *st as devtmpfs shows the node (or a directory of nodes) or
 * returns -ENOENT. emu_node_stat() answers for any path: 0, -ENOENT, or
 * -ENOTDIR... as the kernel's path walk would; -EXDEV: not under BE_DEV_ROOT's
 * emulated part (/dev/iommu, /dev/vfio), the caller asks the host.
 */
typedef int (*emu_stat_fn)(struct iommufd_emu *emu, const char *rel, struct stat *st, void *data);
int emu_node_set_stat(struct iommufd_emu *emu, const char *prefix, emu_stat_fn fn);
int emu_node_stat(struct iommufd_emu *emu, const char *path, struct stat *st);
/*
 * The entries of an emulated directory of BE_DEV_ROOT ("<root>/vfio",
 * "<root>/vfio/devices") as devtmpfs lists them: fn(fdata, name, mode) for
 * each (mode: S_IFCHR or S_IFDIR), without "." and ".."; a non-zero return
 * of fn stops the walk and is returned. The handler of a prefix lists what
 * it owns in the directory rel (relative to BE_DEV_ROOT). emu_node_list():
 * 0, -ENOENT / -ENOTDIR as emu_node_stat() says of path, -EXDEV: not an
 * emulated directory.
 */
typedef int (*emu_dirent_fn)(void *fdata, const char *name, mode_t mode);
typedef int (*emu_list_fn)(struct iommufd_emu *emu, const char *rel, emu_dirent_fn fn,
			   void *fdata, void *data);
int emu_node_set_list(struct iommufd_emu *emu, const char *prefix, emu_list_fn fn);
int emu_node_list(struct iommufd_emu *emu, const char *path, emu_dirent_fn fn, void *fdata);
/* a device node's or a directory's stat as devtmpfs gives it */
void emu_stat_chr(struct stat *st, unsigned int major, unsigned int minor, mode_t perm);
void emu_stat_dir(struct stat *st);
/* the misc device numbers of the VM's kernel (drivers/char/misc.c, vfio.c) */
#define EMU_MISC_MAJOR 10
#define EMU_IOMMUFD_MINOR 257 /* dynamic: what the VM's kernel gives /dev/iommu */
#define EMU_VFIO_MINOR 196    /* VFIO_MINOR of include/linux/miscdevice.h */

/* ------------------------------------------------------------ iommufd contexts */

/*
 * One iommufd file (/dev/iommu open). refs counts its fds plus the refs that
 * bound devices, accesses and queue fds hold on the file (iommufd_fops_release(), main.c): the context
 * is torn down (objects destroyed leaf first) when the last one goes.
 */
/* The context behind an fd, with a ref: -EBADF if fd is not open, -EBADFD if
 * it is not an iommufd. */
int emu_ictx_from_fd(struct iommufd_emu *emu, int fd, struct emu_ictx **ret);
void emu_ictx_get(struct emu_ictx *ictx);
void emu_ictx_put(struct emu_ictx *ictx);
struct iommufd_emu *emu_ictx_emu(struct emu_ictx *ictx);

/*
 * VFIO compat: the context's compat IOAS (GROUP_SET_CONTAINER). With create,
 * make a new user-visible IOAS when none is set. -ENODEV when none and !create,
 * -EINVAL when the context is in no-iommu mode.
 */
int emu_ictx_compat_ioas(struct emu_ictx *ictx, bool create, uint32_t *ioas_id);
/* a no-IOMMU group joins (iommufd_vfio_compat_set_no_iommu()): -EINVAL with a compat IOAS */
int emu_ictx_set_no_iommu(struct emu_ictx *ictx);

/*
 * An iommufd context of the emulator's own, with no file (the translation
 * behind a type1 container); refs 1, released by emu_ictx_put(). mm: RLIMIT
 * accounting on mm->locked_vm, as type1 does. NULL: out of memory.
 */
struct emu_ictx *emu_ictx_new_internal(struct iommufd_emu *emu, bool mm);
struct emu_ioas;
/* a new, published IOAS in ictx (its iopt made) */
int emu_ictx_new_ioas(struct emu_ictx *ictx, struct emu_ioas **ret);

/* ------------------------------------------------------------ the type1 container (type1.c) */

/*
 * /dev/vfio/vfio with the type1 IOMMU driver. A VFIO group as the container
 * sees it: the device layer owns it (one per group) and fills devs/ndevs
 * before attaching; the container links it and sets the rest.
 */
struct emu_type1;
struct emu_type1_group {
	struct emu_dev **devs;          /* the group's devices */
	unsigned int ndevs;
	struct emu_type1 *container;    /* SET_CONTAINER done (holds a container ref) */
	struct emu_type1_group *next;   /* in the container's list */
	bool in_driver;                 /* attached to the IOMMU driver: devices bound */
	bool noiommu;                   /* a no-IOMMU group (VFIO_NO_IOMMU) */
};
/* open of /dev/vfio/vfio: a new container, its fd or -errno */
int emu_type1_open(struct iommufd_emu *emu, int flags);
/* the container behind fd, NULL if fd is not one (no ref taken) */
struct emu_type1 *emu_type1_from_fd(struct iommufd_emu *emu, int fd);
/* VFIO_GROUP_SET_CONTAINER with a container (vfio_container_attach_group()) */
int emu_type1_attach_group(struct emu_type1 *c, struct emu_type1_group *g);
/* the group leaves its container (UNSET_CONTAINER, group close): the last one
 * out releases the IOMMU driver and every mapping; drops the container ref */
void emu_type1_detach_group(struct emu_type1_group *g);
/* SET_IOMMU done (container->iommu_driver) */
bool emu_type1_driver_set(const struct emu_type1 *c);

/* ------------------------------------------------------------ devices behind the IOMMU */

/*
 * An IOMMU group: DMA ownership (one iommufd context at a time) and the RID
 * attachment shared by its devices. Made by the device layer, one per group.
 */
struct emu_group *emu_group_new(struct iommufd_emu *emu);
void emu_group_free(struct emu_group *g); /* no device of it may be bound */

enum {
	EMU_DEV_NO_DIRTY = 1 << 0,   /* no dirty-tracking capability */
	EMU_DEV_PASID = 1 << 1,      /* PASID capable (max_pasid_log2 = 20) */
	EMU_DEV_MOCK = 1 << 2,       /* selftest mock: DEVICE holds no ref on the iommufd file */
	EMU_DEV_PCI = 1 << 3,        /* PCI behind QEMU's VT-d: GET_HW_INFO's VT-d data,
				      * PASID exec/priv caps when PASID */
	EMU_DEV_NO_NEST = 1 << 4,    /* no nest parent HWPT (QEMU's VT-d) */
};

struct emu_resv_region {
	uint64_t start;
	uint64_t last; /* inclusive */
};

/*
 * A device behind the emulated IOMMU (the kernel's struct device as the
 * IOMMU core sees it). The device layer fills the first block and keeps
 * the struct alive while bound.
 */
struct emu_dev {
	struct emu_group *group;
	unsigned int flags;                  /* EMU_DEV_* */
	const struct emu_resv_region *resv;  /* reserved regions (IOVA), nresv of them */
	unsigned int nresv;
	/* non-zero: the IOMMU's domains for this device have the aperture
	 * [0, aperture_last] and 4 KiB pages (a real IOMMU such as VT-d), instead
	 * of the selftest mock's */
	uint64_t aperture_last;
	/* the device's IOMMU-side state, private to the emulator */
	struct emu_idev *idev;               /* current binding, NULL when unbound */
	uint32_t cache[4];                   /* mock per-device cache words */
};

/* The pasid value meaning "the RID" (no PASID). */
#define EMU_NO_PASID 0u

/*
 * iommufd_device_bind: claim DMA ownership of dev's group for ictx (-EPERM if
 * another context owns it) and create the DEVICE object, whose ID is returned
 * in *dev_id. The group's DMA is blocked. Unless EMU_DEV_MOCK, the DEVICE
 * holds a ref on the iommufd file.
 */
int emu_device_bind(struct emu_ictx *ictx, struct emu_dev *dev, uint32_t *dev_id);
/*
 * Unbind: detach every pasid then the RID, force-destroy (tombstone) a
 * vDEVICE, destroy an auto-HWPT left without users, release ownership and
 * the file ref. The DEVICE ID is freed.
 */
void emu_device_unbind(struct emu_dev *dev);
/*
 * Attach pasid (EMU_NO_PASID: the RID) to *pt_id (IOAS: auto domain, or a
 * HWPT), as drivers/iommu/iommufd/device.c: ENOENT missing pt, EINVAL wrong type/incompatible,
 * EADDRINUSE reserved clash, EBUSY pasid already attached, EFAULT/ENOMEM from
 * pinning. On success *pt_id is the HWPT attached.
 */
int emu_device_attach(struct emu_dev *dev, uint32_t pasid, uint32_t *pt_id);
/* Replace: EINVAL if not attached; same HWPT: no-op; old auto-HWPT freed when unused. */
int emu_device_replace(struct emu_dev *dev, uint32_t pasid, uint32_t *pt_id);
/* Detach: a no-op when not attached. */
void emu_device_detach(struct emu_dev *dev, uint32_t pasid);
/* The HWPT ID attached at pasid, 0 if none (blocked). */
uint32_t emu_device_attached_hwpt(struct emu_dev *dev, uint32_t pasid);
/* dev is bound: its DEVICE ID, else 0 */
uint32_t emu_device_id(struct emu_dev *dev);
/* dev is bound: its context, else NULL (no ref) */
struct emu_ictx *emu_device_ictx(struct emu_dev *dev);

/*
 * DMA by dev through its attachment at pasid: copy len bytes between buf and
 * IOVA iova (write: device writes memory, i.e. buf -> IOVA). Honours the
 * area permissions and marks dirty bits of a tracking HWPT on write.
 * -ENODEV: not attached (blocked); -ENOENT: IOVA not mapped; -EPERM:
 * permission; -EFAULT: the process memory behind it is gone.
 */
int emu_device_dma(struct emu_dev *dev, uint32_t pasid, uint64_t iova, void *buf, size_t len,
		   bool write);
/* Raise an I/O page fault (last page of group grpid). -EOPNOTSUPP if the
 * attached HWPT has no fault queue, -ENODEV if not attached. */
int emu_device_iopf(struct emu_dev *dev, uint32_t pasid, uint32_t grpid, uint32_t perm,
		    uint64_t addr);
/* Report a vEVENT for dev's vDEVICE (payload: the vDEVICE's virt_id as u32 for
 * the selftest type): ENOENT without vIOMMU/vDEVICE, EOPNOTSUPP without queue. */
int emu_device_vevent(struct emu_dev *dev);

/* ------------------------------------------------------------ user memory */

/*
 * The process on whose behalf the calling thread runs emulator code (the
 * kernel's "current"): getpid() unless emu_set_current_pid() named another
 * (the preload library runs a forked child's calls in the emulator's
 * process). User memory (emu_copy_*_user), page ownership (IOAS_MAP,
 * CHANGE_PROCESS) and "is this the caller's memory" checks use it.
 */
pid_t emu_current_pid(void);
/* thread-local; 0: back to getpid() */
void emu_set_current_pid(pid_t pid);

/*
 * A backend op that may reach user memory (ioctl, read, write) marks its own
 * frame on entry: user ranges above it, in the calling thread's live stack,
 * are then copied without a system call (emu.c, "user memory"). Returns the
 * previous mark, which emu_user_leave() puts back (ops nest).
 */
uintptr_t emu_user_enter(uintptr_t frame);
void emu_user_leave(uintptr_t prev);

/*
 * Copy from/to the calling process's memory like copy_{from,to}_user: -EFAULT
 * when any byte is not accessible (never crashes on a bad pointer).
 */
int emu_copy_from_user(void *dst, uint64_t uptr, size_t len);
int emu_copy_to_user(uint64_t uptr, const void *src, size_t len);
/* copy_struct_from_user: zero-extend, -E2BIG for non-zero bytes past ksize */
int emu_copy_struct_from_user(void *dst, size_t ksize, uint64_t uptr, size_t usize);
/* clear_user */
int emu_clear_user(uint64_t uptr, size_t len);


/* ------------------------------------------------------------ device layer hooks (vfio.c) */

/*
 * The backend's fstat op defers to emu_file_ops.fstat, which vfio.c sets for
 * device nodes; the device layer frees its state through
 * emu->device_priv_free.
 */

/*
 * The emulator's sysfs, in memory: computed from the device list at each
 * call, by a path relative to the sysfs root (no leading '/'):
 *   devices/pci<seg>:00/[<root port>/]<bdf>/{vendor,device,class}  (the device's
 *       directory, <dev> below; behind a root port when its bus is not 0)
 *   <dev>/vfio-dev/vfioN/dev        "511:N"
 *   <dev>/iommu_group -> ../../../kernel/iommu_groups/<N>   (one more ../ behind
 *   <dev>/driver -> ../../../bus/pci/drivers/vfio-pci       a root port)
 *   <dev>/subsystem -> ../../../bus/pci
 *   bus/pci/devices/<bdf> -> ../../../<dev>
 *   bus/pci/drivers/vfio-pci/<bdf> -> ../../../../<dev>
 *   kernel/iommu_groups/<N>/devices/<bdf> -> ../../../../<dev>
 *   class/vfio-dev/vfioN -> ../../<dev>/vfio-dev/vfioN
 * Links in intermediate components are followed (relative to the link's
 * directory; -ELOOP past 40), and the last one too when follow is set.
 * "" is the root. Each takes emu->lock itself.
 */
enum emu_sysfs_type { EMU_SYSFS_DIR = 1, EMU_SYSFS_FILE, EMU_SYSFS_LINK };

/* 0 and *type when rel exists; -ENOENT, -ENOTDIR, -ELOOP, -ENAMETOOLONG */
int emu_sysfs_lookup(struct iommufd_emu *emu, const char *rel, bool follow,
		     enum emu_sysfs_type *type);
/* the same, and rel's path without links, "." or ".." (relative to the
 * root, "" the root) into canon, len bytes: the same node, the same path */
int emu_sysfs_resolve(struct iommufd_emu *emu, const char *rel, bool follow,
		      enum emu_sysfs_type *type, char *canon, size_t len);
/* the first len bytes of a file (no NUL added): bytes read; -EISDIR for a directory */
ssize_t emu_sysfs_read(struct iommufd_emu *emu, const char *rel, char *buf, size_t len);
/* like readlink(2): the target, truncated to len, no NUL; -EINVAL if not a link */
ssize_t emu_sysfs_readlink(struct iommufd_emu *emu, const char *rel, char *buf, size_t len);
/* a write(2) of len bytes to an attribute: the store's answer (len, or -errno:
 * -EACCES for a read-only one, -EISDIR); a store may wait (sriov_numvfs) */
ssize_t emu_sysfs_write(struct iommufd_emu *emu, const char *rel, const char *buf, size_t len);
/* is rel an attribute with a store (mode 0644)? */
bool emu_sysfs_writable(struct iommufd_emu *emu, const char *rel);
/* fn for each entry of a directory (no . and ..); fn's non-zero return stops the
 * walk and is returned; -ENOTDIR if not a directory */
int emu_sysfs_list(struct iommufd_emu *emu, const char *rel,
		   int (*fn)(void *data, const char *name, enum emu_sysfs_type type), void *data);

/* ================================================================
 * Model internals (obj.c, main.c and the per-object command files).
 * Not for the device layer: use the API above.
 * ================================================================ */

enum emu_obj_type {
	EMU_OBJ_ANY = 0,
	EMU_OBJ_IOAS,
	EMU_OBJ_HWPT_PAGING,
	EMU_OBJ_HWPT_NESTED,
	EMU_OBJ_DEVICE,
	EMU_OBJ_ACCESS,
	EMU_OBJ_FAULT,
	EMU_OBJ_VIOMMU,
	EMU_OBJ_VDEVICE,
	EMU_OBJ_VEVENTQ,
	EMU_OBJ_HW_QUEUE,
	EMU_OBJ_SELFTEST,
};

struct emu_obj {
	enum emu_obj_type type;
	uint32_t id;
	int users;            /* the table holds 1; DESTROY needs users == 1 */
	bool published;       /* false while being created: looks up as ENOENT */
	struct emu_ictx *ictx;
	/* drop the refs the object holds and free it (also for half-built ones) */
	void (*destroy)(struct emu_obj *obj);
};

struct emu_ictx {
	struct iommufd_emu *emu;
	int refs;                  /* file refs: fds + devices + accesses + queue fds */
	struct emu_file *file;     /* the iommufd file (NULL once all its fds closed) */
	struct emu_obj **xa;       /* index = ID; NULL free, EMU_XA_TOMB tombstone */
	uint32_t xa_size;
	bool rlimit_mm;
	bool container_node; /* opened as /dev/vfio/vfio (iommufd's compat container) */
	bool noiommu;
	bool dead;                 /* being torn down */
	uint32_t compat_ioas;      /* IOMMU_VFIO_IOAS / VFIO compat, 0: none */
	bool compat_type1;         /* VFIO_SET_IOMMU(TYPE1) done */
	uint64_t next_mmap_off;    /* vIOMMU mmap regions */
};

#define EMU_XA_TOMB ((struct emu_obj *)(uintptr_t)1)

int emu_ictx_open(struct iommufd_emu *emu, int flags);
/* mm: RLIMIT_MODE "mm" from the start (/dev/vfio/vfio) */
int emu_ictx_open_mode(struct iommufd_emu *emu, int flags, bool mm);

/* allocate an object and reserve the lowest free ID (unpublished) */
void *emu_obj_alloc(struct emu_ictx *ictx, enum emu_obj_type type, size_t size,
		    void (*destroy)(struct emu_obj *obj), int *err);
void emu_obj_publish(struct emu_obj *obj);
/* creation failed: release the ID and destroy */
void emu_obj_abort(struct emu_obj *obj);
/* published object of type (EMU_OBJ_ANY: any), NULL if none (caller: ENOENT) */
struct emu_obj *emu_obj_find(struct emu_ictx *ictx, uint32_t id, enum emu_obj_type type);
/* remove from the table and destroy, whatever users says (internal destroys) */
void emu_obj_remove(struct emu_obj *obj, bool tombstone);
int emu_obj_destroy_user(struct emu_ictx *ictx, uint32_t id);
/* true if any ID is in use (reserved, published or tombstoned) */
bool emu_ictx_has_objects(struct emu_ictx *ictx);

/* the ioctls of an iommufd file (main.c) and its mmap of a vIOMMU region (viommu.c) */
int emu_ictx_ioctl(struct emu_ictx *ictx, unsigned long req, void *arg);
int emu_ictx_mmap(struct emu_ictx *ictx, off_t off, size_t len, int prot, int flags, void **addr);

/* ---- model objects ---- */
struct iopt;
struct iopt_dirty;

struct emu_ioas {
	struct emu_obj obj;
	struct iopt *iopt;
	struct emu_hwpt **autos;   /* auto HWPTs in creation order */
	unsigned int nautos;
	struct emu_access **accesses;
	unsigned int naccesses;
};

struct emu_fault;
struct emu_viommu;

struct emu_hwpt {
	struct emu_obj obj;        /* EMU_OBJ_HWPT_PAGING or EMU_OBJ_HWPT_NESTED */
	uint32_t flags;            /* KABI_HWPT_ALLOC_* */
	bool auto_domain;
	struct emu_fault *fault;   /* FAULT_ID_VALID: holds a users ref */
	int nattach;               /* (device, pasid) attachments */
	/* paging */
	struct emu_ioas *ioas;     /* holds a users ref */
	bool domain_added;         /* iopt_domain_add done (owner = this hwpt) */
	bool huge;                 /* mock pagetable_type HUGE */
	struct iopt_dirty *dirty;  /* DIRTY_TRACKING */
	bool dirty_enabled;
	/* nested */
	struct emu_hwpt *parent;   /* holds a users ref (nested from a HWPT) */
	struct emu_viommu *viommu; /* holds a users ref (nested from a vIOMMU) */
	uint32_t iotlb[4];
};

struct emu_attach {
	uint32_t pasid;
	struct emu_hwpt *hwpt;
	bool fake_error;           /* mock pasid 1024: next set fails with ENOMEM */
};

struct emu_vdevice;

struct emu_idev {
	struct emu_obj obj;        /* EMU_OBJ_DEVICE; users: table + driver + attachments + vdev */
	struct emu_dev *dev;
	struct emu_attach *att;    /* att[0..natt): RID (pasid 0) and pasids */
	unsigned int natt;
	struct emu_vdevice *vdev;
	bool unbinding;
	bool holds_file_ref;
};

struct emu_group {
	struct iommufd_emu *emu;
	struct emu_ictx *owner;    /* DMA owner context */
	int owner_cnt;             /* bound devices */
	struct emu_hwpt *hwpt;     /* RID domain of the group, NULL: blocked */
	int nattached;             /* devices of the group attached on the RID */
	struct emu_idev **members; /* bound devices (owner_cnt of them) */
};

/* pins taken through an access (mock ACCESS_PAGES items, HW queue) */
struct emu_access_pin {
	uint32_t id;
	uint64_t iova;
	uint64_t length;
	unsigned int flags;        /* IOPT_PIN_* */
	uint64_t uptr;
};

struct emu_access {
	struct emu_obj obj;        /* EMU_OBJ_ACCESS */
	struct emu_ioas *ioas;     /* attached IOAS (holds a users ref), may be NULL */
	bool needs_pin;
	bool internal;             /* HW queue's access: no file ref */
	struct emu_access_pin *pins;
	unsigned int npins;
	uint32_t next_pin_id;
	struct emu_file *file;     /* mock: the access fd */
};

struct emu_fault_rec {
	struct kabi_hwpt_pgfault rec;
	struct emu_idev *idev;
	struct emu_hwpt *hwpt;
};

struct emu_fault {
	struct emu_obj obj;        /* EMU_OBJ_FAULT */
	struct emu_file *file;
	/* pending (undelivered) faults, then delivered groups waiting for a response */
	struct emu_fault_rec *pending;
	unsigned int npending;
	struct emu_fault_rec *resp;   /* delivered: one per cookie */
	unsigned int nresp;
	uint32_t next_cookie;
};

struct emu_vevent {
	uint32_t flags;
	uint32_t seq;
	uint32_t len;
	uint8_t data[32];
};

struct emu_veventq {
	struct emu_obj obj;        /* EMU_OBJ_VEVENTQ */
	struct emu_viommu *viommu;
	uint32_t type;
	uint32_t depth;
	struct emu_file *file;
	struct emu_vevent *ev;     /* ring in order, nev entries (+ maybe a lost header) */
	unsigned int nev;
	unsigned int cap;
	uint32_t seq;
	bool lost_tail;
};

struct emu_vdevice {
	struct emu_obj obj;        /* EMU_OBJ_VDEVICE */
	struct emu_viommu *viommu;
	struct emu_idev *idev;
	uint64_t virt_id;
};

struct emu_hw_queue {
	struct emu_obj obj;        /* EMU_OBJ_HW_QUEUE */
	struct emu_viommu *viommu;
	struct emu_access *access;
	struct emu_hw_queue *prev; /* mock: dependency on index - 1 */
	uint32_t index;
	uint64_t pin_iova, pin_len;
};

struct emu_viommu {
	struct emu_obj obj;        /* EMU_OBJ_VIOMMU */
	struct emu_hwpt *parent;   /* users ref */
	uint32_t type;
	struct emu_hw_queue *hwq[2];
	void *mmap_mem;            /* 2 pages, shared */
	int mmap_fd;
	uint64_t mmap_off;
	uint64_t mmap_len;
};

#define EMU_MOCK_PAGE_SIZE 2048ull
#define EMU_MOCK_APERTURE_START (1ull << 24)
#define EMU_MOCK_APERTURE_LAST ((1ull << 31) - 1)

/* main.c: the ioctl dispatch; one emu_ucmd per call, cmd holds the kernel struct */
struct emu_ucmd {
	struct emu_ictx *ictx;
	uint64_t ubuf;
	uint32_t user_size;
	void *cmd;
	size_t ksize;
};
/* write cmd back to the caller's struct, min(user_size, ksize) bytes */
int emu_ucmd_respond(struct emu_ucmd *u);
/*
 * The handler of command KABI_CMD_<NAME> is emu_cmd_<name>(), in the file of
 * the object it acts on (DESTROY and OPTION: main.c); it returns 0 or -errno
 * and writes results back with emu_ucmd_respond().
 */

/* ioas.c: IOAS objects and the IOAS_* commands */
/* the published IOAS id, NULL if none (caller: ENOENT) */
struct emu_ioas *emu_ioas_find(struct emu_ictx *ictx, uint32_t id);
/* a new, unpublished IOAS object without its iopt (the caller makes it) */
struct emu_ioas *emu_ioas_alloc(struct emu_ictx *ictx, int *err);
int emu_cmd_ioas_alloc(struct emu_ucmd *u);
int emu_cmd_ioas_iova_ranges(struct emu_ucmd *u);
int emu_cmd_ioas_allow_iovas(struct emu_ucmd *u);
int emu_cmd_ioas_map(struct emu_ucmd *u);
int emu_cmd_ioas_map_file(struct emu_ucmd *u);
int emu_cmd_ioas_copy(struct emu_ucmd *u);
int emu_cmd_ioas_unmap(struct emu_ucmd *u);
int emu_cmd_ioas_change_process(struct emu_ucmd *u);
/* OPTION on an IOAS (HUGE_PAGES), called by main.c's OPTION */
int emu_ioas_option(struct emu_ucmd *u);

/* hw_pagetable.c: HWPT objects and the HWPT_* commands */
int emu_hwpt_paging_new(struct emu_ictx *ictx, struct emu_idev *idev, struct emu_ioas *ioas,
			uint32_t flags, bool auto_domain, bool huge, struct emu_hwpt **ret);
/* the paging HWPT that translates for hwpt (itself, its parent, or its vIOMMU's parent) */
struct emu_hwpt *emu_hwpt_paging(struct emu_hwpt *hwpt);
void emu_hwpt_put_attach(struct emu_hwpt *hwpt);
/* iommu_copy_struct_from_user() of a driver payload: type, then min/max length, then the copy */
int emu_copy_driver_data(void *dst, size_t ksize, size_t min, uint32_t type, uint32_t want,
			 uint64_t uptr, uint32_t len);
int emu_cmd_hwpt_alloc(struct emu_ucmd *u);
int emu_cmd_hwpt_set_dirty_tracking(struct emu_ucmd *u);
int emu_cmd_hwpt_get_dirty_bitmap(struct emu_ucmd *u);
int emu_cmd_hwpt_invalidate(struct emu_ucmd *u);

/* device.c: DEVICE objects (emu_device_* above), GET_HW_INFO, access objects */
struct emu_idev *emu_idev_find(struct emu_ictx *ictx, uint32_t id);
int emu_cmd_get_hw_info(struct emu_ucmd *u);
int emu_access_new(struct emu_ictx *ictx, struct emu_ioas *ioas, bool needs_pin, bool internal,
		   struct emu_access **ret);
/* join ioas (the access has none) */
int emu_access_attach(struct emu_access *a, struct emu_ioas *ioas);
int emu_access_set_ioas(struct emu_access *a, struct emu_ioas *ioas);
int emu_access_pin(struct emu_access *a, uint64_t iova, uint64_t length, unsigned int flags,
		   uint64_t uptr, uint32_t *pin_id);
/* unpin and forget a->pins[i] */
void emu_access_drop_pin(struct emu_access *a, unsigned int i);
/* the IOAS access-unmap callback: drops the pins of its accesses in the range */
void emu_ioas_access_unmap(void *opaque, uint64_t iova, uint64_t length);

/* viommu.c: vIOMMU, vDEVICE and HW queue objects (and emu_ictx_mmap above) */
/* the vDEVICE of v with virt_id, NULL if none */
struct emu_vdevice *emu_viommu_find_vdev(struct emu_viommu *v, uint64_t virt_id);
int emu_cmd_viommu_alloc(struct emu_ucmd *u);
int emu_cmd_vdevice_alloc(struct emu_ucmd *u);
int emu_cmd_hw_queue_alloc(struct emu_ucmd *u);

/* eventq.c: FAULT and VEVENTQ objects and their fds */
int emu_fault_report(struct emu_fault *fault, struct emu_idev *idev, struct emu_hwpt *hwpt,
		     const struct kabi_hwpt_pgfault *rec);
/* auto-respond INVALID to the pending/delivered faults of idev on hwpt (NULL: all) */
void emu_fault_flush(struct emu_fault *fault, struct emu_idev *idev, struct emu_hwpt *hwpt);
struct emu_veventq *emu_viommu_find_veventq(struct emu_viommu *viommu, uint32_t type);
/* queue a vEVENT; -ENOMEM when it could not be stored (a LOST_EVENTS header
 * then records the loss, as in the kernel) */
int emu_veventq_report(struct emu_veventq *q, const void *data, uint32_t len);
int emu_cmd_fault_queue_alloc(struct emu_ucmd *u);
int emu_cmd_veventq_alloc(struct emu_ucmd *u);

/* vfio_compat.c: IOMMU_VFIO_IOAS and the VFIO container ioctls on an iommufd */
int emu_cmd_vfio_ioas(struct emu_ucmd *u);
/* a request outside the iommufd command range: VFIO_* or -ENOTTY */
int emu_vfio_compat_ioctl(struct emu_ictx *ictx, unsigned long req, void *arg);

/* selftest.c: IOMMU_TEST_CMD */
int emu_cmd_test(struct emu_ucmd *u);

#endif
