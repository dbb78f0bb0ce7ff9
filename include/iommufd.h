/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libiommufd - drive the Linux IOMMU from userspace through iommufd.
 *
 * Conventions (they hold for every function below unless its comment says
 * otherwise):
 *  - Every call returns 0 (or a documented non-negative value) on success and
 *    a negative errno on failure. Nothing in the library exits, aborts or
 *    prints. Arguments are checked before the kernel is asked; an invalid
 *    argument (NULL where an object is required) gives -EINVAL without a
 *    system call.
 *  - Flags: bits the library does not know are passed to the kernel, not
 *    refused, so a flag of a newer kernel needs no new library; the kernel
 *    answers -EOPNOTSUPP for bits it does not know either, and the reason
 *    then says which bits the library did not recognise.
 *  - After any failure, iommufd_ctx_last_error() (or iommufd_last_error())
 *    returns a human-readable reason: which call, which arguments, what the
 *    kernel said. It is per thread.
 *  - Objects are opaque and reference counted: *_ref() returns its argument,
 *    *_unref() returns NULL and accepts NULL, and *_unrefp(&p) (for
 *    __attribute__((cleanup)), like systemd's sd_event_unrefp) unrefs *p and
 *    sets it to NULL.
 *  - Getters (iommufd_<object>_get_<property>() and _is_ that read what the
 *    library holds, without a system call) take a const pointer and accept
 *    NULL, which gives a neutral value: -EINVAL (recorded as the last error)
 *    from an int getter, 0 from an ID getter (0 is never an object ID), NULL
 *    from a pointer getter, false from a bool one, IOMMUFD_DEVICE_PARKED
 *    from iommufd_device_get_state(). The *_get_*() calls that ask the
 *    kernel (rlimit mode, huge pages, hw info, dirty bitmap, device, region
 *    and irq info, group status) are commands: they take a non-const
 *    pointer and follow the rule of the first item.
 *  - Structs that carry a leading "size_t sz" are extensible: initialise them
 *    with IOMMUFD_OPTS(); the library reads only the first sz bytes and
 *    rejects (-E2BIG) a non-zero tail it does not know. They have no hidden
 *    padding ("reserved" members, 0, fill it), so IOMMUFD_OPTS() zeroes
 *    every byte; a field added later goes at the end.
 *  - The commands that name a bound device by (ctx, dev_id) also take a
 *    device handle: iommufd_device_get_hw_info(), iommufd_device_hwpt_alloc(),
 *    iommufd_device_viommu_alloc().
 *  - Allocation calls: the IDs and the type an object is made from are
 *    arguments; everything optional of the kernel's request (its flags word,
 *    vendor data, optional IDs) is in a trailing options struct
 *    (const struct iommufd_<call>_opts *, sz-leading, NULL: all defaults),
 *    so that a flag or field a newer kernel adds becomes a new member, not a
 *    new function: iommufd_hwpt_alloc, iommufd_viommu_alloc,
 *    iommufd_hw_queue_alloc, iommufd_veventq_new. Requests with nothing
 *    optional take none: IOAS_ALLOC and FAULT_QUEUE_ALLOC (a flags word that
 *    must be 0, no other input), VDEVICE_ALLOC (no flags word at all).
 *    Operations on an existing object (map, map_file, copy, the dirty
 *    bitmap) take their flags as a plain uint32_t argument: they are part of
 *    every such call (the map permissions), and a new kernel flag is only a
 *    new bit (passed through, see above).
 *  - Kernel object IDs (IOAS, HWPT, device, vIOMMU, ...) are plain uint32_t.
 *  - Thread safety: a context may be used from many threads at once: every
 *    iommufd_ctx_*, iommufd_ioas_*, iommufd_hwpt_*, iommufd_viommu_*,
 *    iommufd_vdevice_*, iommufd_hw_queue_* and iommufd_destroy() call may run
 *    concurrently with any other on the same context (the kernel serialises
 *    what must be). A device handle (struct iommufd_device) serialises its own
 *    state transitions internally; concurrent transitions on one device are
 *    safe and take effect in some order. A fault queue or vEVENT queue handle
 *    must be read by one thread at a time. After fork(), a child gets -ECHILD
 *    from every call on objects made by the parent.
 *
 * None of the names below reuse the kernel UAPI's own names, so this header
 * can be included together with <linux/iommufd.h>.
 */
#ifndef LIBIOMMUFD_H
#define LIBIOMMUFD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define IOMMUFD_EXPORT __attribute__((visibility("default")))
#else
#define IOMMUFD_EXPORT
#endif

/*
 * The version of this header; iommufd_version_major()/minor() give the one
 * of the library running. Kept equal to meson.build's project version
 * (tests/packaging/version.c checks both).
 */
#define IOMMUFD_VERSION_MAJOR 1
#define IOMMUFD_VERSION_MINOR 1

/*
 * Declare an extensible struct with every byte zero and its sz member set:
 *   IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = X);
 * Every byte is zero because every byte is a member: the extensible structs
 * of this header have no hidden padding (explicit "reserved" members fill
 * it, tests/packaging/struct-layout.c checks each struct), and the members an
 * initialiser list does not name are zero in ISO C. So the library's check of
 * an unknown tail never sees garbage, with no GNU extension needed.
 * C++ (no designated initialisers before C++20, and g++ warns about the
 * missing ones after): the form takes no field initialisers (they do not
 * compile) and value-initialises the struct, which zeroes padding too; set
 * the fields afterwards.
 */
#ifndef __cplusplus
#define IOMMUFD_OPTS(TYPE, NAME, ...)                                          \
	TYPE NAME = { .sz = sizeof(TYPE), __VA_ARGS__ }
#else
/* (NAME is the variadic part, so "IOMMUFD_OPTS(T, n)" is strict C++11) */
#define IOMMUFD_OPTS(TYPE, ...)                                                \
	TYPE __VA_ARGS__ = [] {                                                \
		typedef TYPE iommufd_opts_t_;                                  \
		iommufd_opts_t_ o_ = iommufd_opts_t_();                        \
		o_.sz = sizeof(o_);                                            \
		return o_;                                                     \
	}()
#endif

/* ------------------------------------------------------------------ */
/* Version                                                              */
/* ------------------------------------------------------------------ */

/* The version of the library running (which may be newer than this header). */
IOMMUFD_EXPORT int iommufd_version_major(void);
IOMMUFD_EXPORT int iommufd_version_minor(void);
/*
 * true if the library running provides the API of version major.minor: the
 * same major version and a minor version at least minor. E.g.
 * iommufd_check_version(IOMMUFD_VERSION_MAJOR, IOMMUFD_VERSION_MINOR) is
 * false when a program runs on an older library than it was built for.
 * (Note: the opposite sense of liburing's io_uring_check_version().)
 */
IOMMUFD_EXPORT bool iommufd_check_version(int major, int minor);

/* ------------------------------------------------------------------ */
/* Context: one iommufd file (/dev/iommu)                               */
/* ------------------------------------------------------------------ */

struct iommufd_ctx;

/* Open /dev/iommu (O_RDWR | O_CLOEXEC), or the VFIO container where there is none (see "Modes"). */
IOMMUFD_EXPORT int iommufd_ctx_new(struct iommufd_ctx **ret);
/*
 * Adopt an iommufd fd handed over by a privileged manager. On success the
 * context owns fd and closes it on its last unref; on failure fd is left open.
 * The fd is checked to be an iommufd or a VFIO container (-EBADF: not
 * open, -ENOTTY: neither); a container gives a context in IOMMUFD_MODE_TYPE1
 * whose map table starts empty (maps made before are not known to it).
 */
IOMMUFD_EXPORT int iommufd_ctx_new_from_fd(int fd, struct iommufd_ctx **ret);

/*
 * Who answers below the kernel boundary. Production code never names one:
 * the calls above use the running kernel. A test double (the emulator
 * library, libiommufd-emu) hands out a backend to put into
 * iommufd_ctx_opts; everything made from that context (devices, groups,
 * queues) inherits it. The library above the boundary is one code path.
 */
struct iommufd_backend;

#define IOMMUFD_CTX_FROM_FD (1u << 0) /* adopt opts->fd instead of opening /dev/iommu */
/*
 * The kernel interface a new context drives (see "Modes" below); neither
 * flag: IOMMUFD_MODE from the environment, else automatic. Ignored with
 * IOMMUFD_CTX_FROM_FD (the fd says what it is).
 */
#define IOMMUFD_CTX_MODE_IOMMUFD (1u << 1) /* /dev/iommu only */
#define IOMMUFD_CTX_MODE_TYPE1 (1u << 2)   /* the VFIO container /dev/vfio/vfio only */

struct iommufd_ctx_opts {
	size_t sz;
	struct iommufd_backend *backend; /* NULL: the running kernel */
	uint32_t flags;                  /* IOMMUFD_CTX_* */
	int fd;                          /* with IOMMUFD_CTX_FROM_FD */
};
/* iommufd_ctx_new() or, with IOMMUFD_CTX_FROM_FD, _new_from_fd(), with options (opts may be NULL). */
IOMMUFD_EXPORT int iommufd_ctx_new_opts(const struct iommufd_ctx_opts *opts, struct iommufd_ctx **ret);
IOMMUFD_EXPORT struct iommufd_ctx *iommufd_ctx_ref(struct iommufd_ctx *ctx);
/* Last unref closes the fd: the kernel then releases every object of the context. */
IOMMUFD_EXPORT struct iommufd_ctx *iommufd_ctx_unref(struct iommufd_ctx *ctx);
IOMMUFD_EXPORT void iommufd_ctx_unrefp(struct iommufd_ctx **ctx);
IOMMUFD_EXPORT int iommufd_ctx_get_fd(const struct iommufd_ctx *ctx);

/*
 * Modes. A context drives one of two kernel interfaces, chosen when it is
 * made; the API above it is the same:
 *  - IOMMUFD_MODE_IOMMUFD: /dev/iommu, devices through their VFIO cdevs (or
 *    groups set on the iommufd). Linux 6.6 and later with CONFIG_IOMMUFD.
 *  - IOMMUFD_MODE_TYPE1: the VFIO container /dev/vfio/vfio with the type1
 *    IOMMU driver (VFIO_TYPE1v2_IOMMU, else VFIO_TYPE1_IOMMU) and devices
 *    through their VFIO groups: every kernel with VFIO. The context is one
 *    container, which is one I/O address space: one IOAS (a second
 *    iommufd_ioas_alloc() gives -EOPNOTSUPP) and one HWPT, the container's
 *    domain, which every device attach gives. The library keeps the map
 *    table (maps made before the first device joins are replayed when it
 *    does), chooses IOVAs for maps without IOMMUFD_MAP_FIXED_IOVA, answers
 *    IOAS_UNMAP's rules (whole areas; -ENOENT when nothing is mapped) and
 *    checks the length the kernel says it unmapped (-EIO if less). Dirty
 *    tracking of that HWPT is VFIO_IOMMU_DIRTY_PAGES: type1 cannot see
 *    device writes for vfio-pci devices and reports every mapped page dirty
 *    (drivers/vfio/vfio_iommu_type1.c). What type1 has no equivalent for
 *    (HWPT allocation, nesting, vIOMMU, fault and event queues, PASID,
 *    MAP_FILE, COPY, ALLOW_IOVAS, OPTION, GET_HW_INFO) fails with
 *    -EOPNOTSUPP and a reason naming the mode; iommufd_ctx_supports()
 *    answers for the mode. Devices: see "VFIO devices".
 * Automatic choice (iommufd_ctx_new()): /dev/iommu if it opens, else the
 * container when /dev/iommu does not exist (ENOENT, ENODEV, ENXIO). The
 * environment variable IOMMUFD_MODE (auto, iommufd or type1; read with
 * secure_getenv) forces one for contexts whose options do not.
 */
enum iommufd_mode {
	IOMMUFD_MODE_IOMMUFD = 1,
	IOMMUFD_MODE_TYPE1 = 2,
};
/* The mode of ctx (0 and a recorded reason if ctx is NULL). */
IOMMUFD_EXPORT enum iommufd_mode iommufd_ctx_get_mode(const struct iommufd_ctx *ctx);
/* "iommufd", "type1"; NULL for another value */
IOMMUFD_EXPORT const char *iommufd_mode_name(enum iommufd_mode mode);

#define IOMMUFD_MODE_INFO_FORCED (1u << 0)    /* chosen by the caller or IOMMUFD_MODE, not by probing */
#define IOMMUFD_MODE_INFO_COMPAT (1u << 1)    /* type1: /dev/vfio/vfio is served by iommufd (CONFIG_IOMMUFD_VFIO_CONTAINER) */
#define IOMMUFD_MODE_INFO_IOMMU_SET (1u << 2) /* type1: the container has its IOMMU driver (a group joined) */
#define IOMMUFD_MODE_INFO_DIRTY (1u << 3)     /* type1: the container tracks dirty pages (its migration capability; known once a group joined) */
struct iommufd_mode_info {
	size_t sz;
	uint32_t mode;       /* enum iommufd_mode */
	uint32_t flags;      /* IOMMUFD_MODE_INFO_* */
	uint32_t iommu_type; /* type1: VFIO_TYPE1v2_IOMMU (3) or VFIO_TYPE1_IOMMU (1), VFIO_NOIOMMU_IOMMU (8) for no-IOMMU groups, 0 before the first group */
	uint32_t reserved;   /* 0 */
	char why[256];       /* how the mode was chosen, e.g. "/dev/iommu: ENOENT; /dev/vfio/vfio: type1v2" */
};
IOMMUFD_EXPORT int iommufd_ctx_get_mode_info(const struct iommufd_ctx *ctx, struct iommufd_mode_info *info);

/* Human-readable reason of the calling thread's last failure on ctx ("" if none). */
IOMMUFD_EXPORT const char *iommufd_ctx_last_error(const struct iommufd_ctx *ctx);
/* The calling thread's last failure on any object of the library ("" if none). */
IOMMUFD_EXPORT const char *iommufd_last_error(void);

/* Logging: syslog priorities (LOG_ERR .. LOG_DEBUG). Default: no log function,
 * priority from the environment variable IOMMUFD_LOG (err, info, debug or a
 * number), read with secure_getenv() when the context is made. */
typedef void (*iommufd_log_fn)(void *userdata, int priority, const char *file, int line,
			       const char *func, const char *format, va_list args);
IOMMUFD_EXPORT void iommufd_ctx_set_log_fn(struct iommufd_ctx *ctx, iommufd_log_fn fn, void *userdata);
IOMMUFD_EXPORT int iommufd_ctx_get_log_priority(const struct iommufd_ctx *ctx);
IOMMUFD_EXPORT void iommufd_ctx_set_log_priority(struct iommufd_ctx *ctx, int priority);

/* ------------------------------------------------------------------ */
/* Capability probing: ask the running kernel, never its version.       */
/* ------------------------------------------------------------------ */

/* The iommufd requests, by their command number. */
enum iommufd_request {
	IOMMUFD_REQ_DESTROY = 0x80,
	IOMMUFD_REQ_IOAS_ALLOC = 0x81,
	IOMMUFD_REQ_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_REQ_IOAS_COPY = 0x83,
	IOMMUFD_REQ_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_REQ_IOAS_MAP = 0x85,
	IOMMUFD_REQ_IOAS_UNMAP = 0x86,
	IOMMUFD_REQ_OPTION = 0x87,
	IOMMUFD_REQ_VFIO_IOAS = 0x88,
	IOMMUFD_REQ_HWPT_ALLOC = 0x89,
	IOMMUFD_REQ_GET_HW_INFO = 0x8a,
	IOMMUFD_REQ_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_REQ_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_REQ_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_REQ_IOAS_MAP_FILE = 0x8f,
	IOMMUFD_REQ_VIOMMU_ALLOC = 0x90,
	IOMMUFD_REQ_VDEVICE_ALLOC = 0x91,
	IOMMUFD_REQ_IOAS_CHANGE_PROCESS = 0x92,
	IOMMUFD_REQ_VEVENTQ_ALLOC = 0x93,
	IOMMUFD_REQ_HW_QUEUE_ALLOC = 0x94,
};

/* Name of a request ("IOAS_MAP"), or NULL for an unknown value. */
IOMMUFD_EXPORT const char *iommufd_request_name(enum iommufd_request req);
/*
 * 1 if the kernel behind ctx knows req, 0 if it answers ENOTTY, negative
 * errno if it could not be asked. Results are cached per context.
 */
IOMMUFD_EXPORT int iommufd_ctx_supports(struct iommufd_ctx *ctx, enum iommufd_request req);
/*
 * 1 if the kernel accepts every bit of flags for req (the flag values of this
 * header for that request: IOMMUFD_MAP_* for IOAS_MAP/MAP_FILE/COPY,
 * IOMMUFD_HW_INFO_* for GET_HW_INFO, IOMMUFD_DIRTY_ENABLE for
 * HWPT_SET_DIRTY_TRACKING, IOMMUFD_DIRTY_NO_CLEAR for HWPT_GET_DIRTY_BITMAP,
 * IOMMUFD_OPTION_* ids for OPTION), 0 if it answers EOPNOTSUPP, -EINVAL for a
 * request whose flags cannot be probed without a device (HWPT_ALLOC: use
 * iommufd_hwpt_alloc() and its -EOPNOTSUPP). Bits this header does not
 * define are probed too (a newer kernel may know them), except for OPTION.
 */
IOMMUFD_EXPORT int iommufd_ctx_supports_flags(struct iommufd_ctx *ctx, enum iommufd_request req, uint64_t flags);
/* "Flags" of iommufd_ctx_supports_flags(OPTION): the options to probe for */
#define IOMMUFD_OPTION_RLIMIT_MODE (1u << 0)
#define IOMMUFD_OPTION_HUGE_PAGES (1u << 1)

/* ------------------------------------------------------------------ */
/* Objects in general                                                   */
/* ------------------------------------------------------------------ */

/*
 * Escape hatch: issue any ioctl on the context's fd through its backend
 * (for requests this library does not wrap yet, and the kernel selftest
 * command IOMMU_TEST_CMD). Returns the ioctl's result or -errno.
 */
IOMMUFD_EXPORT int iommufd_ctx_ioctl(struct iommufd_ctx *ctx, unsigned long request, void *arg);

/* IOMMU_DESTROY: any object ID. -EBUSY while in use, -ENOENT if unknown. */
IOMMUFD_EXPORT int iommufd_destroy(struct iommufd_ctx *ctx, uint32_t id);

/* ------------------------------------------------------------------ */
/* IOAS: an I/O address space                                           */
/* ------------------------------------------------------------------ */

struct iommufd_iova_range {
	uint64_t start;
	uint64_t last; /* inclusive */
};

IOMMUFD_EXPORT int iommufd_ioas_alloc(struct iommufd_ctx *ctx, uint32_t *ioas_id);
/*
 * The usable IOVA ranges (holes of the reserved space) and the required
 * alignment. *ranges is malloc()ed (free() it); the buffer grows on EMSGSIZE.
 * alignment may be NULL.
 */
IOMMUFD_EXPORT int iommufd_ioas_iova_ranges(struct iommufd_ctx *ctx, uint32_t ioas_id,
					    struct iommufd_iova_range **ranges, size_t *nr_ranges,
					    uint64_t *alignment);
/* Replace the allowed-IOVA list (nr 0 clears it). */
IOMMUFD_EXPORT int iommufd_ioas_allow_iovas(struct iommufd_ctx *ctx, uint32_t ioas_id,
					    const struct iommufd_iova_range *ranges, size_t nr_ranges);

/* Map flags (IOAS_MAP, IOAS_MAP_FILE, IOAS_COPY). */
#define IOMMUFD_MAP_FIXED_IOVA (1u << 0) /* *iova is an input; else the kernel picks it */
#define IOMMUFD_MAP_WRITE (1u << 1)     /* the device may write */
#define IOMMUFD_MAP_READ (1u << 2)      /* the device may read */

/* Map [va, va+length) at *iova (FIXED_IOVA) or at a kernel-chosen IOVA returned in *iova. */
IOMMUFD_EXPORT int iommufd_ioas_map(struct iommufd_ctx *ctx, uint32_t ioas_id, void *va,
				    uint64_t length, uint64_t *iova, uint32_t flags);
/* Map [start, start+length) of the file fd (a memfd) likewise. */
IOMMUFD_EXPORT int iommufd_ioas_map_file(struct iommufd_ctx *ctx, uint32_t ioas_id, int fd,
					 uint64_t start, uint64_t length, uint64_t *iova,
					 uint32_t flags);
/* Map in dst the pages already mapped in src at [src_iova, src_iova+length). */
IOMMUFD_EXPORT int iommufd_ioas_copy(struct iommufd_ctx *ctx, uint32_t dst_ioas_id, uint64_t *dst_iova,
				     uint32_t src_ioas_id, uint64_t src_iova, uint64_t length,
				     uint32_t flags);
/* Unmap every area inside [iova, iova+length); *unmapped (may be NULL) gets the bytes removed. */
IOMMUFD_EXPORT int iommufd_ioas_unmap(struct iommufd_ctx *ctx, uint32_t ioas_id, uint64_t iova,
				      uint64_t length, uint64_t *unmapped);
IOMMUFD_EXPORT int iommufd_ioas_unmap_all(struct iommufd_ctx *ctx, uint32_t ioas_id, uint64_t *unmapped);

/* IOMMU_OPTION */
enum iommufd_rlimit_mode {
	IOMMUFD_RLIMIT_USER = 0, /* charge the user's locked_vm */
	IOMMUFD_RLIMIT_MM = 1,   /* charge the process's locked_vm (VFIO style) */
};
IOMMUFD_EXPORT int iommufd_ctx_get_rlimit_mode(struct iommufd_ctx *ctx, enum iommufd_rlimit_mode *mode);
IOMMUFD_EXPORT int iommufd_ctx_set_rlimit_mode(struct iommufd_ctx *ctx, enum iommufd_rlimit_mode mode);
IOMMUFD_EXPORT int iommufd_ioas_get_huge_pages(struct iommufd_ctx *ctx, uint32_t ioas_id, bool *enabled);
IOMMUFD_EXPORT int iommufd_ioas_set_huge_pages(struct iommufd_ctx *ctx, uint32_t ioas_id, bool enabled);

/* IOMMU_VFIO_IOAS: the IOAS the legacy VFIO container API acts on. */
IOMMUFD_EXPORT int iommufd_vfio_ioas_get(struct iommufd_ctx *ctx, uint32_t *ioas_id);
IOMMUFD_EXPORT int iommufd_vfio_ioas_set(struct iommufd_ctx *ctx, uint32_t ioas_id);
IOMMUFD_EXPORT int iommufd_vfio_ioas_clear(struct iommufd_ctx *ctx);

/* IOMMU_IOAS_CHANGE_PROCESS: move the pinned-page accounting of file maps to the caller. */
IOMMUFD_EXPORT int iommufd_ioas_change_process(struct iommufd_ctx *ctx);

/* ------------------------------------------------------------------ */
/* HWPT: hardware page tables                                           */
/* ------------------------------------------------------------------ */

#define IOMMUFD_HWPT_NEST_PARENT (1u << 0)
#define IOMMUFD_HWPT_DIRTY_TRACKING (1u << 1)
#define IOMMUFD_HWPT_FAULT_ID_VALID (1u << 2)
#define IOMMUFD_HWPT_PASID (1u << 3)

/* Vendor formats of nested (stage-1) HWPT data. */
enum iommufd_hwpt_data_type {
	IOMMUFD_HWPT_DATA_NONE = 0,
	IOMMUFD_HWPT_DATA_VTD_S1 = 1,
	IOMMUFD_HWPT_DATA_ARM_SMMUV3 = 2,
	IOMMUFD_HWPT_DATA_AMD_GUEST = 3,
};

struct iommufd_hwpt_alloc_opts {
	size_t sz;
	uint32_t flags;     /* IOMMUFD_HWPT_* */
	uint32_t fault_id;  /* with IOMMUFD_HWPT_FAULT_ID_VALID */
	uint32_t data_type; /* enum iommufd_hwpt_data_type, for nested HWPTs */
	uint32_t data_len;
	const void *data;
};

/* Allocate a HWPT for device dev_id on pt_id (an IOAS, a nest-parent HWPT or a vIOMMU). opts may be NULL. */
IOMMUFD_EXPORT int iommufd_hwpt_alloc(struct iommufd_ctx *ctx, uint32_t dev_id, uint32_t pt_id,
				      const struct iommufd_hwpt_alloc_opts *opts, uint32_t *hwpt_id);

/* IOMMU_GET_HW_INFO, decoded per vendor. */
enum iommufd_hw_info_type {
	IOMMUFD_HW_INFO_NONE = 0,
	IOMMUFD_HW_INFO_INTEL_VTD = 1,
	IOMMUFD_HW_INFO_ARM_SMMUV3 = 2,
	IOMMUFD_HW_INFO_TEGRA241_CMDQV = 3,
	IOMMUFD_HW_INFO_AMD = 4,
};

#define IOMMUFD_HW_CAP_DIRTY_TRACKING (1ull << 0)
#define IOMMUFD_HW_CAP_PCI_PASID_EXEC (1ull << 1)
#define IOMMUFD_HW_CAP_PCI_PASID_PRIV (1ull << 2)
#define IOMMUFD_HW_CAP_PCI_ATS_NOT_SUPPORTED (1ull << 3)

/* Flag for iommufd_ctx_supports_flags(GET_HW_INFO) */
#define IOMMUFD_HW_INFO_INPUT_TYPE (1u << 0)

/*
 * The fixed fields come first and the vendor data last, so that the vendor
 * union can grow in a later release (a new vendor, a longer struct) without
 * moving any other field: a caller built against this header passes its sz,
 * and the library writes only those bytes.
 */
struct iommufd_hw_info {
	size_t sz;
	uint32_t type;           /* enum iommufd_hw_info_type reported by the kernel */
	uint32_t data_len;       /* bytes of vendor data the kernel has (may exceed data.raw) */
	uint64_t capabilities;   /* IOMMUFD_HW_CAP_* */
	uint8_t max_pasid_log2;  /* 0: no PASID */
	uint8_t reserved[7];     /* 0 */
	/* decoded per type; unknown types: the first bytes of the kernel's data in raw */
	union {
		uint8_t raw[128]; /* first member: an initialiser zeroes the whole union */
		struct {
			uint32_t flags;
			uint32_t reserved;
			uint64_t cap_reg;
			uint64_t ecap_reg;
		} vtd;
		struct {
			uint32_t flags;
			uint32_t idr[6];
			uint32_t iidr;
			uint32_t aidr;
		} smmuv3;
		struct {
			uint32_t flags;
			uint8_t version;
			uint8_t log2vcmdqs;
			uint8_t log2vsids;
			uint8_t reserved;
		} tegra241_cmdqv;
		struct {
			uint64_t efr;
			uint64_t efr2;
		} amd;
		struct {
			uint32_t flags;
			uint32_t test_reg;
		} selftest;
	} data;
};

/* type: IOMMUFD_HW_INFO_NONE asks for the device's default type. */
IOMMUFD_EXPORT int iommufd_get_hw_info(struct iommufd_ctx *ctx, uint32_t dev_id, uint32_t type,
				       struct iommufd_hw_info *info);

/* Dirty tracking */
#define IOMMUFD_DIRTY_NO_CLEAR (1u << 0) /* flag of iommufd_hwpt_get_dirty_bitmap() */
/*
 * The flag of HWPT_SET_DIRTY_TRACKING, for iommufd_ctx_supports_flags() only
 * (iommufd_hwpt_set_dirty_tracking() sets it from its enable argument).
 */
#define IOMMUFD_DIRTY_ENABLE (1u << 0)
IOMMUFD_EXPORT int iommufd_hwpt_set_dirty_tracking(struct iommufd_ctx *ctx, uint32_t hwpt_id, bool enable);
/*
 * OR the dirty state of [iova, iova+length) into bitmap: bit i is the page
 * iova + i*page_size. The bitmap must hold length/page_size bits; the caller
 * zeroes it (the kernel only sets bits). flags: IOMMUFD_DIRTY_NO_CLEAR.
 */
IOMMUFD_EXPORT int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ctx *ctx, uint32_t hwpt_id, uint64_t iova,
						 uint64_t length, uint64_t page_size, uint64_t *bitmap,
						 uint32_t flags);
/*
 * Walk the runs of set bits of a bitmap of nbits bits: find the first run at
 * or after bit *pos, store its first bit in *start and its length in *count,
 * advance *pos past it and return 1; return 0 when there is none.
 */
IOMMUFD_EXPORT int iommufd_bitmap_next_run(const uint64_t *bitmap, uint64_t nbits, uint64_t *pos,
					   uint64_t *start, uint64_t *count);

/* Cache invalidation of a nested HWPT or a vIOMMU. */
enum iommufd_invalidate_data_type {
	IOMMUFD_INVALIDATE_VTD_S1 = 0,
	IOMMUFD_INVALIDATE_VIOMMU_ARM_SMMUV3 = 1,
};
/*
 * Hand *entry_num entries of entry_len bytes each to the kernel. On return
 * (success or failure) *entry_num holds how many were handled.
 */
IOMMUFD_EXPORT int iommufd_hwpt_invalidate(struct iommufd_ctx *ctx, uint32_t id, uint32_t data_type,
					   const void *entries, uint32_t entry_len, uint32_t *entry_num);

/* ------------------------------------------------------------------ */
/* I/O page fault queue                                                 */
/* ------------------------------------------------------------------ */

struct iommufd_fault_queue;

#define IOMMUFD_FAULT_PASID_VALID (1u << 0)
#define IOMMUFD_FAULT_LAST_PAGE (1u << 1)
#define IOMMUFD_FAULT_PERM_READ (1u << 0)
#define IOMMUFD_FAULT_PERM_WRITE (1u << 1)
#define IOMMUFD_FAULT_PERM_EXEC (1u << 2)
#define IOMMUFD_FAULT_PERM_PRIV (1u << 3)

struct iommufd_fault {
	uint32_t flags;  /* IOMMUFD_FAULT_* */
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;   /* IOMMUFD_FAULT_PERM_* */
	uint64_t addr;
	uint32_t length;
	uint32_t cookie; /* answer with iommufd_fault_queue_respond() */
};

enum iommufd_fault_response {
	IOMMUFD_FAULT_RESPONSE_SUCCESS = 0,
	IOMMUFD_FAULT_RESPONSE_INVALID = 1,
};

/* IOMMU_FAULT_QUEUE_ALLOC. The queue holds a reference on ctx. */
IOMMUFD_EXPORT int iommufd_fault_queue_new(struct iommufd_ctx *ctx, struct iommufd_fault_queue **ret);
IOMMUFD_EXPORT struct iommufd_fault_queue *iommufd_fault_queue_ref(struct iommufd_fault_queue *q);
/*
 * The last unref closes the fd, then destroys the FAULT object (which fails
 * with EBUSY while a HWPT uses it: it is then left for the context's close).
 */
IOMMUFD_EXPORT struct iommufd_fault_queue *iommufd_fault_queue_unref(struct iommufd_fault_queue *q);
IOMMUFD_EXPORT void iommufd_fault_queue_unrefp(struct iommufd_fault_queue **q);
IOMMUFD_EXPORT uint32_t iommufd_fault_queue_get_id(const struct iommufd_fault_queue *q);
/* Pollable fd: POLLIN when faults are pending. */
IOMMUFD_EXPORT int iommufd_fault_queue_get_fd(const struct iommufd_fault_queue *q);
/*
 * Read whole fault groups into faults[0..max). Returns the number of faults
 * read (0: none pending; never blocks), or a negative errno.
 */
IOMMUFD_EXPORT int iommufd_fault_queue_read(struct iommufd_fault_queue *q, struct iommufd_fault *faults, size_t max);
IOMMUFD_EXPORT int iommufd_fault_queue_respond(struct iommufd_fault_queue *q, uint32_t cookie,
					       enum iommufd_fault_response code);

/* ------------------------------------------------------------------ */
/* vIOMMU, vDEVICE, vEVENT queue, HW queue                              */
/* ------------------------------------------------------------------ */

enum iommufd_viommu_type {
	IOMMUFD_VIOMMU_ARM_SMMUV3 = 1,
	IOMMUFD_VIOMMU_TEGRA241_CMDQV = 2,
};

struct iommufd_viommu_alloc_opts {
	size_t sz;
	uint32_t flags;    /* the kernel's (none defined yet; passed through) */
	uint32_t data_len;
	void *data;        /* vendor data, in and out (the kernel writes its outputs back) */
};
/* IOMMU_VIOMMU_ALLOC on nest-parent HWPT hwpt_id for device dev_id. opts may be NULL. */
IOMMUFD_EXPORT int iommufd_viommu_alloc(struct iommufd_ctx *ctx, uint32_t dev_id, uint32_t hwpt_id,
					uint32_t type, const struct iommufd_viommu_alloc_opts *opts,
					uint32_t *viommu_id);
IOMMUFD_EXPORT int iommufd_vdevice_alloc(struct iommufd_ctx *ctx, uint32_t viommu_id, uint32_t dev_id,
					 uint64_t virt_id, uint32_t *vdevice_id);

enum iommufd_hw_queue_type {
	IOMMUFD_HW_QUEUE_TEGRA241_CMDQV = 1,
};
struct iommufd_hw_queue_alloc_opts {
	size_t sz;
	uint32_t flags;    /* the kernel's (none defined yet; passed through) */
	uint32_t reserved; /* 0 */
};
/* IOMMU_HW_QUEUE_ALLOC: queue index of type at [iova, iova+length) of the parent. opts may be NULL. */
IOMMUFD_EXPORT int iommufd_hw_queue_alloc(struct iommufd_ctx *ctx, uint32_t viommu_id, uint32_t type,
					  uint32_t index, uint64_t iova, uint64_t length,
					  const struct iommufd_hw_queue_alloc_opts *opts,
					  uint32_t *hw_queue_id);

/* mmap of a driver region of the iommufd (vIOMMU data's out mmap offset/length). */
IOMMUFD_EXPORT int iommufd_ctx_mmap(struct iommufd_ctx *ctx, uint64_t offset, size_t length, void **addr);
IOMMUFD_EXPORT int iommufd_ctx_munmap(struct iommufd_ctx *ctx, void *addr, size_t length);

struct iommufd_veventq;

enum iommufd_veventq_type {
	IOMMUFD_VEVENTQ_ARM_SMMUV3 = 1,
	IOMMUFD_VEVENTQ_TEGRA241_CMDQV = 2,
};

struct iommufd_vevent {
	uint32_t sequence;
	uint32_t lost;        /* events lost just before this one (0: none) */
	size_t data_len;
	const void *data;     /* valid until the next read on the queue */
};

struct iommufd_veventq_opts {
	size_t sz;
	uint32_t flags;    /* the kernel's (none defined yet; passed through) */
	uint32_t reserved; /* 0 */
};
/* IOMMU_VEVENTQ_ALLOC: a queue of depth events of type on viommu_id. opts may be NULL. */
IOMMUFD_EXPORT int iommufd_veventq_new(struct iommufd_ctx *ctx, uint32_t viommu_id, uint32_t type,
				       uint32_t depth, const struct iommufd_veventq_opts *opts,
				       struct iommufd_veventq **ret);
IOMMUFD_EXPORT struct iommufd_veventq *iommufd_veventq_ref(struct iommufd_veventq *q);
/* The last unref closes the fd, then destroys the VEVENTQ object. */
IOMMUFD_EXPORT struct iommufd_veventq *iommufd_veventq_unref(struct iommufd_veventq *q);
IOMMUFD_EXPORT void iommufd_veventq_unrefp(struct iommufd_veventq **q);
IOMMUFD_EXPORT uint32_t iommufd_veventq_get_id(const struct iommufd_veventq *q);
IOMMUFD_EXPORT int iommufd_veventq_get_fd(const struct iommufd_veventq *q);
/*
 * Next event: returns 1 and fills *ev, or 0 when the queue is empty (never
 * blocks). Lost events (the kernel's LOST_EVENTS record or a gap in the
 * sequence numbers) are counted in ev->lost of the next event; a trailing
 * LOST_EVENTS record is returned as an event with data_len 0 and lost >= 1.
 */
IOMMUFD_EXPORT int iommufd_veventq_read(struct iommufd_veventq *q, struct iommufd_vevent *ev);

/* ------------------------------------------------------------------ */
/* VFIO devices: parked -> bound -> attached                            */
/* ------------------------------------------------------------------ */

/*
 * A VFIO device file, opened through its cdev (/dev/vfio/devices/vfioN) or
 * obtained from a VFIO group. Lifecycle (the kernel's, mirrored exactly):
 *
 *        open                  bind(ctx)                attach(pt)
 *   ---------> PARKED --------------------> BOUND ------------------> ATTACHED(hwpt)
 *                |  ^ every ioctl but bind     |  <------------------   |   ^  attach(pt2) =
 *                |    gives EINVAL             |      detach()          |   |  replace, no DMA gap
 *                | unref (last) = close        | unref (last) =         +---+
 *                v                             v close = unbind       unref (last) = detach + unbind
 *              (gone)                        (gone)
 *
 * The library never invents an outcome: every transition is asked of the
 * kernel (a bind on a bound device, an attach on a parked one...) and the
 * recorded state changes only when the kernel succeeds; the reason of a
 * refusal (iommufd_last_error()) explains it. Transitions of one device are
 * serialised by a per-device lock.
 *
 * Group-path devices (iommufd_group_get_device()) start ATTACHED to the
 * group's compat IOAS auto-HWPT, with dev_id and pt_id unknown (0); bind,
 * attach and detach on them are passed to the kernel, which answers EINVAL
 * (bind) or ENOTTY (attach/detach).
 *
 * In the type1 mode (see "Modes") a device opened with
 * iommufd_device_open_pci() is PARKED without a file (its calls give
 * EINVAL); bind puts its group into the context's container and gets the
 * device's file (the group path underneath), so from BOUND on its DMA goes
 * through the container's mappings; attach records the container's HWPT.
 * There is no way back to BOUND: detach of an ATTACHED device gives
 * EOPNOTSUPP; the device leaves the container on its last unref.
 *
 * A device of a no-IOMMU group (vfio.enable_unsafe_noiommu_mode=1) has no
 * cdev: iommufd_device_open_pci() gives it PARKED without a file in the
 * iommufd mode too, and its bind opens /dev/vfio/noiommu-<N>, joins it to
 * the context (which turns no-IOMMU; a context with a compat IOAS refuses:
 * EINVAL) and takes the device's file from it: BOUND, a group-path device
 * with no DEVICE ID, IOMMUFD_DEVICE_INFO_NOIOMMU (its DMA is not
 * translated), attach ENOTTY. The group stays open until the device's last
 * unref (another open of the device binds nowhere meanwhile: EBUSY).
 */
struct iommufd_device;
struct iommufd_group;

enum iommufd_device_state {
	IOMMUFD_DEVICE_PARKED = 0,   /* opened, not bound: only bind works */
	IOMMUFD_DEVICE_BOUND = 1,    /* bound to a context (has a dev_id), DMA blocked */
	IOMMUFD_DEVICE_ATTACHED = 2, /* bound, its RID attached to a HWPT */
};

/*
 * The constructors of devices and groups take a context as their scope: the
 * device is one of the system that context talks to (the running kernel, or
 * the backend the context was made with). A device opened in the scope of
 * one context may be bound to any context of the same system.
 */
/* Open a cdev path (/dev/vfio/devices/vfioN). The device is PARKED. */
IOMMUFD_EXPORT int iommufd_device_open(struct iommufd_ctx *ctx, const char *cdev_path,
				       struct iommufd_device **ret);
/*
 * Open the cdev of the PCI device bdf ("0000:00:02.0"): found through
 * <sysfs>/bus/pci/devices/<bdf>/vfio-dev/vfioN/dev, opened at
 * <dev>/vfio/devices/vfioN, and the node's major:minor checked against sysfs.
 * A device of a no-IOMMU group is PARKED without a file: its bind reaches it
 * through the group (above). -ENODEV: no such PCI device or not bound to a
 * VFIO driver with a cdev; -ESTALE: the node's device number is not the one
 * sysfs gives.
 */
IOMMUFD_EXPORT int iommufd_device_open_pci(struct iommufd_ctx *ctx, const char *bdf,
					   struct iommufd_device **ret);
/*
 * Adopt an open VFIO device fd in state PARKED (as after open()). On success
 * the device owns fd and closes it on its last unref (if the number still
 * holds that file); on failure fd stays open. -EBADF: not open, -ENOTTY: not
 * a VFIO device file, -EBUSY: a device file bound already or of the group path
 * (a bound one whose IDs are known: iommufd_device_adopt()).
 */
IOMMUFD_EXPORT int iommufd_device_new_from_fd(struct iommufd_ctx *ctx, int fd,
					      struct iommufd_device **ret);
/*
 * Adopt a VFIO device fd that is already BOUND to ctx's iommufd (and, with
 * IOMMUFD_DEVICE_ADOPT_ATTACHED, attached to pt_id): a live update's incoming
 * side or a secondary process, which got the fd and its IDs from elsewhere.
 * Checked without changing anything: fd is a bound VFIO device file, dev_id
 * is a DEVICE object of ctx (IOMMU_GET_HW_INFO), and when attached a
 * re-attach of fd to pt_id (the same domain: a no-op for the kernel)
 * succeeds, which also shows fd is bound to ctx (unless pt_id happens to name
 * a page table in fd's own context too: IDs are per context). The IDs must
 * be the ones the binder got: with a wrong pt_id of fd's context, the
 * re-attach moves the device there. On success the device owns
 * fd and holds a reference on ctx; on failure fd stays open. -EINVAL: bad
 * opts or a parked fd (use iommufd_device_new_from_fd()), -ENOTTY: not a VFIO
 * device file, -ENOENT: dev_id or pt_id is not an object of ctx (or fd is
 * bound to another context), -EOPNOTSUPP: type1 mode.
 */
#define IOMMUFD_DEVICE_ADOPT_ATTACHED (1u << 0) /* pt_id: the HWPT or IOAS fd is attached to */
struct iommufd_device_adopt_opts {
	size_t sz;
	uint32_t flags;    /* IOMMUFD_DEVICE_ADOPT_* */
	uint32_t dev_id;   /* the DEVICE ID the bind gave */
	uint32_t pt_id;    /* with IOMMUFD_DEVICE_ADOPT_ATTACHED; else 0 */
	uint32_t reserved; /* 0 */
};
IOMMUFD_EXPORT int iommufd_device_adopt(struct iommufd_ctx *ctx, int fd,
					const struct iommufd_device_adopt_opts *opts,
					struct iommufd_device **ret);
/*
 * Hand a context and its devices to another process over the Unix socket
 * sock: one message, a versioned header and per device its state, dev_id and
 * pt_id, with the context's fd and the devices' fds (SCM_RIGHTS). At most
 * IOMMUFD_HANDOVER_MAX_DEVICES devices. The receiver adopts the context
 * (iommufd_ctx_new_from_fd()) and each device (iommufd_device_adopt(), or
 * iommufd_device_new_from_fd() for a parked one); on any failure it closes
 * every fd it received. *devs is malloc()ed: unref each device, free() it.
 * Kernel backend and iommufd mode only (-EOPNOTSUPP otherwise).
 */
#define IOMMUFD_HANDOVER_MAX_DEVICES 64
IOMMUFD_EXPORT int iommufd_handover_send(int sock, struct iommufd_ctx *ctx,
					 struct iommufd_device *const *devs, size_t nr);
IOMMUFD_EXPORT int iommufd_handover_recv(int sock, struct iommufd_ctx **ctx,
					 struct iommufd_device ***devs, size_t *nr);
IOMMUFD_EXPORT struct iommufd_device *iommufd_device_ref(struct iommufd_device *dev);
/* Last unref closes the fd: the kernel detaches (pasids, then RID) and unbinds. */
IOMMUFD_EXPORT struct iommufd_device *iommufd_device_unref(struct iommufd_device *dev);
IOMMUFD_EXPORT void iommufd_device_unrefp(struct iommufd_device **dev);
IOMMUFD_EXPORT int iommufd_device_get_fd(const struct iommufd_device *dev);

/*
 * VFIO_DEVICE_BIND_IOMMUFD: PARKED -> BOUND. token: the 16-byte VF token
 * (UUID) or NULL. *dev_id (may be NULL) gets the DEVICE object ID. The device
 * keeps a reference on ctx while bound.
 */
IOMMUFD_EXPORT int iommufd_device_bind(struct iommufd_device *dev, struct iommufd_ctx *ctx,
				       const uint8_t *token, uint32_t *dev_id);
/*
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT of the RID to pt_id (an IOAS or a HWPT);
 * on an ATTACHED device this replaces the domain without a DMA gap.
 * *hwpt_id (may be NULL) gets the HWPT actually attached (the auto-HWPT
 * when pt_id is an IOAS).
 */
IOMMUFD_EXPORT int iommufd_device_attach(struct iommufd_device *dev, uint32_t pt_id,
					 uint32_t *hwpt_id);
/* VFIO_DEVICE_DETACH_IOMMUFD_PT of the RID: ATTACHED -> BOUND (BOUND: a no-op success). */
IOMMUFD_EXPORT int iommufd_device_detach(struct iommufd_device *dev);
/* The same for one PASID: attach (replace when that pasid is attached) and detach. */
IOMMUFD_EXPORT int iommufd_device_pasid_attach(struct iommufd_device *dev, uint32_t pasid,
					       uint32_t pt_id, uint32_t *hwpt_id);
IOMMUFD_EXPORT int iommufd_device_pasid_detach(struct iommufd_device *dev, uint32_t pasid);

/* State queries (what the kernel last confirmed). A NULL dev gives IOMMUFD_DEVICE_PARKED. */
IOMMUFD_EXPORT enum iommufd_device_state iommufd_device_get_state(const struct iommufd_device *dev);
/* "parked", "bound", "attached" */
IOMMUFD_EXPORT const char *iommufd_device_state_name(enum iommufd_device_state state);
/* DEVICE object ID, 0 when parked (or unknown: group path) */
IOMMUFD_EXPORT uint32_t iommufd_device_get_dev_id(const struct iommufd_device *dev);
/* HWPT the RID is attached to, 0 when not attached (or unknown: group path) */
IOMMUFD_EXPORT uint32_t iommufd_device_get_pt_id(const struct iommufd_device *dev);
/* HWPT of pasid, 0 if that pasid is not attached */
IOMMUFD_EXPORT uint32_t iommufd_device_get_pasid_pt_id(const struct iommufd_device *dev, uint32_t pasid);
/* The attached PASIDs, ascending, in a malloc()ed array (*pasids NULL when *nr is 0). */
IOMMUFD_EXPORT int iommufd_device_get_pasids(const struct iommufd_device *dev, uint32_t **pasids,
					     size_t *nr);
/* The context the device is bound to (borrowed), NULL when parked. */
IOMMUFD_EXPORT struct iommufd_ctx *iommufd_device_get_ctx(const struct iommufd_device *dev);
/* true for a device obtained through a VFIO group */
IOMMUFD_EXPORT bool iommufd_device_is_group_path(const struct iommufd_device *dev);

/* The IOMMU group number of PCI device bdf (<sysfs>/bus/pci/devices/<bdf>/iommu_group). */
IOMMUFD_EXPORT int iommufd_pci_get_iommu_group(struct iommufd_ctx *ctx, const char *bdf, int *group);

/*
 * The group path: /dev/vfio/<group> on an iommufd "container".
 * iommufd_group_open() opens /dev/vfio/noiommu-<group> instead when
 * <sysfs>/kernel/iommu_groups/<group>/name is "vfio-noiommu" (as does
 * iommufd_group_open_path() of a node so named): its devices
 * (iommufd_group_get_device()) are BOUND with no DEVICE ID, their DMA not
 * translated (IOMMUFD_DEVICE_INFO_NOIOMMU), and the context it joins turns
 * no-IOMMU (a type1 container gets VFIO_NOIOMMU_IOMMU).
 */
IOMMUFD_EXPORT int iommufd_group_open(struct iommufd_ctx *ctx, int group, struct iommufd_group **ret);
IOMMUFD_EXPORT int iommufd_group_open_path(struct iommufd_ctx *ctx, const char *path,
					   struct iommufd_group **ret);
IOMMUFD_EXPORT struct iommufd_group *iommufd_group_ref(struct iommufd_group *grp);
/* Last unref closes the group fd (its devices stay usable). */
IOMMUFD_EXPORT struct iommufd_group *iommufd_group_unref(struct iommufd_group *grp);
IOMMUFD_EXPORT void iommufd_group_unrefp(struct iommufd_group **grp);
IOMMUFD_EXPORT int iommufd_group_get_fd(const struct iommufd_group *grp);
/* VFIO_GROUP_SET_CONTAINER with ctx's fd (the group then works on the compat IOAS). */
IOMMUFD_EXPORT int iommufd_group_set_ctx(struct iommufd_group *grp, struct iommufd_ctx *ctx);
/* VFIO_GROUP_UNSET_CONTAINER */
IOMMUFD_EXPORT int iommufd_group_unset_ctx(struct iommufd_group *grp);
#define IOMMUFD_GROUP_VIABLE (1u << 0)
#define IOMMUFD_GROUP_CTX_SET (1u << 1)
/* VFIO_GROUP_GET_STATUS: *flags gets IOMMUFD_GROUP_* */
IOMMUFD_EXPORT int iommufd_group_get_status(struct iommufd_group *grp, uint32_t *flags);
/* VFIO_GROUP_GET_DEVICE_FD(name, e.g. "0000:00:02.0"): a device in state ATTACHED (BOUND, of a no-IOMMU group). */
IOMMUFD_EXPORT int iommufd_group_get_device(struct iommufd_group *grp, const char *name,
					    struct iommufd_device **ret);

/*
 * The iommufd commands that name a device, on a device handle: the same as
 * iommufd_get_hw_info(), iommufd_hwpt_alloc() and iommufd_viommu_alloc()
 * with the context and DEVICE ID of dev. -EINVAL (with a reason) when dev is
 * not bound, or is a group-path device (its DEVICE ID is unknown).
 */
IOMMUFD_EXPORT int iommufd_device_get_hw_info(struct iommufd_device *dev, uint32_t type,
					      struct iommufd_hw_info *info);
IOMMUFD_EXPORT int iommufd_device_hwpt_alloc(struct iommufd_device *dev, uint32_t pt_id,
					     const struct iommufd_hwpt_alloc_opts *opts,
					     uint32_t *hwpt_id);
IOMMUFD_EXPORT int iommufd_device_viommu_alloc(struct iommufd_device *dev, uint32_t hwpt_id,
					       uint32_t type,
					       const struct iommufd_viommu_alloc_opts *opts,
					       uint32_t *viommu_id);

/* What a userspace driver needs around DMA (all need a bound device). */
#define IOMMUFD_DEVICE_INFO_RESET (1u << 0)
#define IOMMUFD_DEVICE_INFO_PCI (1u << 1)
/*
 * Set by the library, not the kernel: the device is of a no-IOMMU VFIO group
 * (vfio.enable_unsafe_noiommu_mode=1, /dev/vfio/noiommu-<N>). Its DMA is not
 * translated: it reaches physical addresses, nothing isolates it. It was
 * bound to nothing (DEVICE ID 0) and cannot be attached (-ENOTTY).
 */
#define IOMMUFD_DEVICE_INFO_NOIOMMU (1u << 31)
struct iommufd_device_info {
	size_t sz;
	uint32_t flags; /* IOMMUFD_DEVICE_INFO_* (and the kernel's other bits) */
	uint32_t num_regions;
	uint32_t num_irqs;
	uint32_t reserved; /* 0: no hidden padding (see IOMMUFD_OPTS) */
};
IOMMUFD_EXPORT int iommufd_device_get_info(struct iommufd_device *dev, struct iommufd_device_info *info);

/* PCI region indexes */
#define IOMMUFD_PCI_BAR0_REGION 0
#define IOMMUFD_PCI_ROM_REGION 6
#define IOMMUFD_PCI_CONFIG_REGION 7
#define IOMMUFD_REGION_READ (1u << 0)
#define IOMMUFD_REGION_WRITE (1u << 1)
#define IOMMUFD_REGION_MMAP (1u << 2)
#define IOMMUFD_REGION_CAPS (1u << 3) /* the kernel has capabilities (sparse mmap...) for it */
struct iommufd_region_info {
	size_t sz;
	uint32_t flags;  /* IOMMUFD_REGION_* */
	uint32_t reserved; /* 0: no hidden padding (see IOMMUFD_OPTS) */
	uint64_t size;   /* 0: the region does not exist */
	uint64_t offset; /* in the device fd */
};
IOMMUFD_EXPORT int iommufd_device_get_region_info(struct iommufd_device *dev, uint32_t index,
						  struct iommufd_region_info *info);
/* pread/pwrite of len bytes at off inside region index; returns bytes done or -errno */
IOMMUFD_EXPORT ssize_t iommufd_device_region_read(struct iommufd_device *dev, uint32_t index,
						  uint64_t off, void *buf, size_t len);
IOMMUFD_EXPORT ssize_t iommufd_device_region_write(struct iommufd_device *dev, uint32_t index,
						   uint64_t off, const void *buf, size_t len);
/*
 * mmap [off, off+len) of region index, shared. prot: PROT_READ and/or
 * PROT_WRITE (other bits: -EINVAL). As vfio-pci, the whole pages mapped must
 * lie in the region rounded up to a page, else -EINVAL. A region whose
 * capability chain has sparse mmap areas and no MSI-X mappable
 * (iommufd_device_get_region_caps) is mapped only inside one of its areas:
 * any other range is -EINVAL, the reason listing the areas. The areas are
 * read once per bind. (vfio-pci marks its MSI-X BAR MSI-X mappable: the
 * whole BAR maps.)
 */
IOMMUFD_EXPORT int iommufd_device_region_mmap(struct iommufd_device *dev, uint32_t index, uint64_t off,
					      size_t len, int prot, void **addr);
IOMMUFD_EXPORT int iommufd_device_region_munmap(struct iommufd_device *dev, void *addr, size_t len);
/* PCI config space access of width 1, 2 or 4 bytes (little endian, converted) */
IOMMUFD_EXPORT int iommufd_device_config_read(struct iommufd_device *dev, uint32_t off, size_t width,
					      uint32_t *val);
IOMMUFD_EXPORT int iommufd_device_config_write(struct iommufd_device *dev, uint32_t off, size_t width,
					       uint32_t val);
/* VFIO_DEVICE_RESET */
IOMMUFD_EXPORT int iommufd_device_reset(struct iommufd_device *dev);

/* PCI interrupt indexes */
#define IOMMUFD_PCI_IRQ_INTX 0
#define IOMMUFD_PCI_IRQ_MSI 1
#define IOMMUFD_PCI_IRQ_MSIX 2
#define IOMMUFD_PCI_IRQ_ERR 3
#define IOMMUFD_PCI_IRQ_REQ 4
#define IOMMUFD_IRQ_INFO_EVENTFD (1u << 0)
#define IOMMUFD_IRQ_INFO_MASKABLE (1u << 1)
#define IOMMUFD_IRQ_INFO_AUTOMASKED (1u << 2)
#define IOMMUFD_IRQ_INFO_NORESIZE (1u << 3)
struct iommufd_irq_info {
	size_t sz;
	uint32_t flags; /* IOMMUFD_IRQ_INFO_* */
	uint32_t count; /* vectors */
};
IOMMUFD_EXPORT int iommufd_device_get_irq_info(struct iommufd_device *dev, uint32_t index,
					       struct iommufd_irq_info *info);
/*
 * VFIO_DEVICE_SET_IRQS, ACTION_TRIGGER | DATA_EVENTFD: vectors
 * [start, start+count) of irq index signal eventfds[i] (-1: that vector is
 * unset). Enabling MSI/MSI-X: start 0 and count vectors.
 */
IOMMUFD_EXPORT int iommufd_device_set_irqs(struct iommufd_device *dev, uint32_t index, uint32_t start,
					   const int *eventfds, uint32_t count);
/* Disable irq index (DATA_NONE | ACTION_TRIGGER with count 0). */
IOMMUFD_EXPORT int iommufd_device_disable_irqs(struct iommufd_device *dev, uint32_t index);

/* ------------------------------------------------------------------ */
/* Device control: raw ioctls, interrupt actions                       */

/*
 * An escape hatch: ioctl request with arg on the device's VFIO file, through
 * its backend (so it reaches the emulator). The ioctl's result or -errno.
 */
IOMMUFD_EXPORT int iommufd_device_ioctl(struct iommufd_device *dev, unsigned long request, void *arg);
/*
 * VFIO_DEVICE_SET_IRQS with DATA_NONE: mask / unmask vectors
 * [start, start+count) of irq index. vfio-pci masks only INTx (start 0,
 * count 1, while INTx is enabled); INTx is automasked: a driver unmasks it
 * after each interrupt.
 */
IOMMUFD_EXPORT int iommufd_device_irq_mask(struct iommufd_device *dev, uint32_t index, uint32_t start,
					   uint32_t count);
IOMMUFD_EXPORT int iommufd_device_irq_unmask(struct iommufd_device *dev, uint32_t index,
					     uint32_t start, uint32_t count);
/*
 * ACTION_TRIGGER loopback: signal the eventfds of vectors [start,
 * start+count) (values NULL: DATA_NONE, all of them; else DATA_BOOL, those
 * with values[i] true). The index must be enabled.
 */
IOMMUFD_EXPORT int iommufd_device_irq_trigger(struct iommufd_device *dev, uint32_t index,
					      uint32_t start, uint32_t count, const bool *values);
/*
 * The capability chain of region index (VFIO_DEVICE_GET_REGION_INFO),
 * decoded; unknown capabilities are skipped. caps->areas (max_areas
 * entries, may be NULL) receives the sparse mmap areas; nr_areas is the
 * kernel's count, which may exceed max_areas.
 */
#define IOMMUFD_REGION_CAP_SPARSE_MMAP (1u << 0)
#define IOMMUFD_REGION_CAP_TYPE (1u << 1)
#define IOMMUFD_REGION_CAP_MSIX_MAPPABLE (1u << 2)
struct iommufd_region_area {
	uint64_t offset; /* in the region */
	uint64_t size;
};
struct iommufd_region_caps {
	size_t sz;
	uint32_t caps;      /* out: IOMMUFD_REGION_CAP_* found */
	uint32_t type;      /* out: with IOMMUFD_REGION_CAP_TYPE */
	uint32_t subtype;
	uint32_t nr_areas;  /* out: sparse mmap areas */
	uint32_t max_areas; /* in: entries of areas */
	uint32_t reserved;  /* 0 */
	struct iommufd_region_area *areas; /* in */
};
IOMMUFD_EXPORT int iommufd_device_get_region_caps(struct iommufd_device *dev, uint32_t index,
						  struct iommufd_region_caps *caps);

/* ------------------------------------------------------------------ */
/* Device features (VFIO_DEVICE_FEATURE) and reset                     */

/*
 * The features of VFIO_DEVICE_FEATURE (values equal to the kernel's).
 * Which a device has depends on its VFIO driver: vfio-pci has the low power
 * ones and DMA_BUF (GET), a PF with SR-IOV also PCI_VF_TOKEN (SET);
 * migration and DMA logging need a migration driver (mlx5-vfio-pci...);
 * BUS_MASTER is vfio-cdx's (PCI devices control it in config space).
 */
enum iommufd_device_feature {
	IOMMUFD_FEATURE_PCI_VF_TOKEN = 0,
	IOMMUFD_FEATURE_MIGRATION = 1,
	IOMMUFD_FEATURE_MIG_DEVICE_STATE = 2,
	IOMMUFD_FEATURE_LOW_POWER_ENTRY = 3,
	IOMMUFD_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP = 4,
	IOMMUFD_FEATURE_LOW_POWER_EXIT = 5,
	IOMMUFD_FEATURE_DMA_LOGGING_START = 6,
	IOMMUFD_FEATURE_DMA_LOGGING_STOP = 7,
	IOMMUFD_FEATURE_DMA_LOGGING_REPORT = 8,
	IOMMUFD_FEATURE_MIG_DATA_SIZE = 9,
	IOMMUFD_FEATURE_BUS_MASTER = 10,
	IOMMUFD_FEATURE_DMA_BUF = 11,
	IOMMUFD_FEATURE_MIG_PRECOPY_INFO_V2 = 12,
};
/* the access asked for (probe: 0 asks whether the feature exists at all) */
#define IOMMUFD_FEATURE_GET (1u << 0)
#define IOMMUFD_FEATURE_SET (1u << 1)
/*
 * VFIO_DEVICE_FEATURE with PROBE: 0 if the device has feature (0..0xffff)
 * with every access of flags (IOMMUFD_FEATURE_GET and/or _SET), else the
 * kernel's errno: -ENOTTY the device's driver has no such feature, -EINVAL
 * it has it but not with that access (or the device is not bound). Other
 * bits of flags: -EINVAL.
 */
IOMMUFD_EXPORT int iommufd_device_feature_probe(struct iommufd_device *dev, uint32_t feature,
						uint32_t flags);
/*
 * VFIO_DEVICE_FEATURE GET or SET (flags: exactly one of them) of feature
 * with len bytes of data (in for SET, out for GET; data may be NULL when
 * len is 0): for features without a typed call (DMA_BUF...). Returns the
 * kernel's non-negative result (DMA_BUF: a file descriptor) or -errno.
 */
IOMMUFD_EXPORT int iommufd_device_feature(struct iommufd_device *dev, uint32_t feature,
					  uint32_t flags, void *data, size_t len);
/* BUS_MASTER (vfio-cdx): enable (SET_MASTER) or disable (CLEAR_MASTER) the device's DMA. */
IOMMUFD_EXPORT int iommufd_device_set_bus_master(struct iommufd_device *dev, bool enable);

#define IOMMUFD_LOW_POWER_WAKEUP (1u << 0) /* LOW_POWER_ENTRY_WITH_WAKEUP: signal wakeup_eventfd */
struct iommufd_low_power_opts {
	size_t sz;
	uint32_t flags;         /* IOMMUFD_LOW_POWER_* */
	int32_t wakeup_eventfd; /* with IOMMUFD_LOW_POWER_WAKEUP: an eventfd */
};
/*
 * LOW_POWER_ENTRY (opts NULL or without flags) or, with
 * IOMMUFD_LOW_POWER_WAKEUP, LOW_POWER_ENTRY_WITH_WAKEUP: the device may
 * enter a low power state (runtime PM) until iommufd_device_low_power_exit();
 * its BAR mmaps are unusable meanwhile. With the eventfd, the device leaves
 * low power by itself at the next access (any device ioctl) and signals it;
 * entry may then be asked again. -EINVAL: already entered, or a bad eventfd
 * (-EBADF: not open).
 */
IOMMUFD_EXPORT int iommufd_device_low_power_enter(struct iommufd_device *dev,
						  const struct iommufd_low_power_opts *opts);
/* LOW_POWER_EXIT: 0 also when not in low power. */
IOMMUFD_EXPORT int iommufd_device_low_power_exit(struct iommufd_device *dev);
/*
 * PCI_VF_TOKEN (SET only): the shared secret (a UUID, 16 bytes) that VFs of
 * this SR-IOV PF must present at bind (iommufd_device_bind()'s token).
 * -ENOTTY: the device is not an SR-IOV PF on vfio-pci.
 */
IOMMUFD_EXPORT int iommufd_device_set_vf_token(struct iommufd_device *dev, const uint8_t token[16]);

/*
 * SR-IOV: the VFs of a physical function bound to vfio-pci (sysfs
 * bus/pci/devices/<pf>/sriov_numvfs, sriov_totalvfs, virtfnN, in the scope of
 * ctx: the running kernel, or the emulator, whose IOMMUFD_EMU_DEVICE_SRIOV
 * NVMe is a PF with the kernel's rules). vfio-pci
 * binds the VFs it enables to itself; opening one needs the PF's VF token
 * (iommufd_device_set_vf_token() on the bound PF), else the kernel's EACCES.
 */
/* "0000:00:02.0" and its NUL: the size of a BDF the library writes */
#define IOMMUFD_BDF_LEN 13
/*
 * The PF's enabled VFs (*numvfs) and its capacity (*totalvfs); either may be
 * NULL. -ENODEV: no such PCI device; -EOPNOTSUPP: not an SR-IOV PF.
 */
IOMMUFD_EXPORT int iommufd_pci_sriov_get_numvfs(struct iommufd_ctx *ctx, const char *pf_bdf,
						unsigned int *numvfs, unsigned int *totalvfs);
/*
 * Enable numvfs VFs (0: disable them) by writing sriov_numvfs; root only. The
 * same count as now: 0, nothing done. Checked first, with the kernel's
 * errno: -ERANGE above sriov_totalvfs, -EBUSY a new non-zero count while VFs
 * are enabled (disable first), -ENOENT the PF bound to no driver; -EPERM
 * bound to another driver than vfio-pci. The kernel's -ENOENT: vfio-pci's
 * enable_sriov parameter is off (/sys/module/vfio_pci/parameters/enable_sriov).
 * Disabling the VFs of a PF while one is open blocks in the kernel until it is
 * closed (drivers/vfio/vfio_main.c waits for the VF's users).
 */
IOMMUFD_EXPORT int iommufd_pci_sriov_set_numvfs(struct iommufd_ctx *ctx, const char *pf_bdf,
						unsigned int numvfs);
/*
 * The BDF of VF index (0 .. numvfs - 1, the kernel's virtfnN link) into
 * vf_bdf. -ENOENT: index not below the number of enabled VFs.
 */
IOMMUFD_EXPORT int iommufd_pci_sriov_get_vf(struct iommufd_ctx *ctx, const char *pf_bdf,
					    unsigned int index, char vf_bdf[IOMMUFD_BDF_LEN]);
/*
 * Open VF index of pf_bdf (iommufd_device_open_pci()) and bind it to ctx with
 * token (iommufd_device_bind(); NULL: none): *ret BOUND, *dev_id its ID (dev_id
 * may be NULL). On failure nothing is left open; -EACCES: token missing or
 * not the PF's.
 */
IOMMUFD_EXPORT int iommufd_device_open_vf(struct iommufd_ctx *ctx, const char *pf_bdf,
					  unsigned int index, const uint8_t token[16],
					  uint32_t *dev_id, struct iommufd_device **ret);

/* Migration (a device with a VFIO migration driver; vfio-pci alone: -ENOTTY) */
#define IOMMUFD_MIGRATION_STOP_COPY (1u << 0)
#define IOMMUFD_MIGRATION_P2P (1u << 1)
#define IOMMUFD_MIGRATION_PRE_COPY (1u << 2)
enum iommufd_mig_state {
	IOMMUFD_MIG_STATE_ERROR = 0,
	IOMMUFD_MIG_STATE_STOP = 1,
	IOMMUFD_MIG_STATE_RUNNING = 2,
	IOMMUFD_MIG_STATE_STOP_COPY = 3,
	IOMMUFD_MIG_STATE_RESUMING = 4,
	IOMMUFD_MIG_STATE_RUNNING_P2P = 5,
	IOMMUFD_MIG_STATE_PRE_COPY = 6,
	IOMMUFD_MIG_STATE_PRE_COPY_P2P = 7,
};
/* MIGRATION (GET): *flags gets IOMMUFD_MIGRATION_* */
IOMMUFD_EXPORT int iommufd_device_get_migration(struct iommufd_device *dev, uint64_t *flags);
/* MIG_DEVICE_STATE GET */
IOMMUFD_EXPORT int iommufd_device_get_mig_state(struct iommufd_device *dev,
						enum iommufd_mig_state *state);
/*
 * MIG_DEVICE_STATE SET: move to state; *data_fd (may be NULL: then a data
 * fd the kernel returns is closed) gets the migration data fd of a
 * STOP_COPY, RESUMING or PRE_COPY state, else -1.
 */
IOMMUFD_EXPORT int iommufd_device_set_mig_state(struct iommufd_device *dev,
						enum iommufd_mig_state state, int *data_fd);
/* MIG_DATA_SIZE (GET): the bytes STOP_COPY is estimated to produce */
IOMMUFD_EXPORT int iommufd_device_get_mig_data_size(struct iommufd_device *dev,
						    uint64_t *stop_copy_length);
/*
 * The name of a migration state ("RUNNING", "PRE_COPY_P2P"...), NULL for a
 * value that is none.
 */
IOMMUFD_EXPORT const char *iommufd_mig_state_name(enum iommufd_mig_state state);
/*
 * The migration data fd (from iommufd_device_set_mig_state()) is a file of
 * the device's backend: these calls are read(2), write(2), ioctl(2) and
 * close(2) on it through that backend, so one program runs on the kernel and
 * on the emulator alike. Saving (STOP_COPY, PRE_COPY*): read gives the
 * device's state, 0 at the end of the stream (STOP_COPY: all of it read),
 * -ENOMSG in PRE_COPY when nothing is there for now; resuming (RESUMING):
 * write gives the stream read on the source, in order. -ENODEV: the session
 * has ended (the device left the state), -EINVAL: not that direction.
 */
IOMMUFD_EXPORT ssize_t iommufd_device_mig_data_read(struct iommufd_device *dev, int data_fd, void *buf,
						    size_t len);
IOMMUFD_EXPORT ssize_t iommufd_device_mig_data_write(struct iommufd_device *dev, int data_fd,
						     const void *buf, size_t len);
IOMMUFD_EXPORT int iommufd_device_mig_data_close(struct iommufd_device *dev, int data_fd);
#define IOMMUFD_PRECOPY_INFO_REINIT (1u << 0) /* new initial data is on the stream (PRECOPY_INFOv2 only) */
struct iommufd_mig_precopy_info {
	size_t sz;
	uint32_t flags;         /* out: IOMMUFD_PRECOPY_INFO_* */
	uint32_t reserved;      /* 0 */
	uint64_t initial_bytes; /* out: initial data not read yet */
	uint64_t dirty_bytes;   /* out: state changed since it was read */
};
/*
 * VFIO_MIG_GET_PRECOPY_INFO on data_fd (a PRE_COPY session): what the stream
 * holds for now. -EINVAL: the device is not in PRE_COPY or PRE_COPY_P2P;
 * -ENOTTY: data_fd is no migration data fd.
 */
IOMMUFD_EXPORT int iommufd_device_mig_precopy_info(struct iommufd_device *dev, int data_fd,
						   struct iommufd_mig_precopy_info *info);
/*
 * MIG_PRECOPY_INFOv2 (SET): from now on until the device is closed, the
 * precopy info's flags are an output (IOMMUFD_PRECOPY_INFO_REINIT).
 * -EINVAL: the device has no PRE_COPY.
 */
IOMMUFD_EXPORT int iommufd_device_enable_precopy_info_v2(struct iommufd_device *dev);

/*
 * DMA logging (a migration driver's dirty tracking in the device itself,
 * vfio-pci alone: -ENOTTY): the device records the pages its DMA writes in
 * the ranges given at start, and REPORT reads and clears that record. The
 * kernel takes 1 to 256 ranges (a kernel page of them; -E2BIG beyond), each
 * aligned to the page size hinted, none overlapping (-EINVAL), none wrapping
 * (-EOVERFLOW); one start at a time (-EINVAL until stopped).
 */
struct iommufd_dma_log_range {
	uint64_t iova;
	uint64_t length;
};
/*
 * DMA_LOGGING_START: *page_size in: the tracking granule wanted, out: the one
 * the driver chose.
 */
IOMMUFD_EXPORT int iommufd_device_dma_log_start(struct iommufd_device *dev,
						const struct iommufd_dma_log_range *ranges,
						uint32_t nr_ranges, uint64_t *page_size);
/* DMA_LOGGING_STOP: 0 also when not started. */
IOMMUFD_EXPORT int iommufd_device_dma_log_stop(struct iommufd_device *dev);
/*
 * DMA_LOGGING_REPORT: OR the pages written in [iova, iova+length) into
 * bitmap and clear them in the device's log: bit i is the page iova +
 * i*page_size (page_size: a power of two, at least 4096, any one whatever the
 * start's), the layout of iommufd_hwpt_get_dirty_bitmap(), so
 * iommufd_bitmap_next_run() walks it. The bitmap must hold length/page_size
 * bits; the caller zeroes it. -EINVAL: logging not started, the range not
 * inside one started range, or a bad page size.
 */
IOMMUFD_EXPORT int iommufd_device_dma_log_report(struct iommufd_device *dev, uint64_t iova,
						 uint64_t length, uint64_t page_size, uint64_t *bitmap);

/*
 * PCI hot reset (a secondary bus or slot reset). It resets every device
 * below the bus or slot, so the caller must own all of them:
 * iommufd_device_get_hot_reset_info() lists them. Devices on a root bus
 * (no bridge above them) have no hot reset: -ENODEV.
 */
#define IOMMUFD_HOT_RESET_DEV_ID (1u << 0)    /* the devices carry DEVICE IDs (cdev), else group IDs */
#define IOMMUFD_HOT_RESET_ALL_OWNED (1u << 1) /* cdev: every device is owned by dev's context */
#define IOMMUFD_HOT_RESET_DEV_OWNED (1u << 0) /* iommufd_hot_reset_dev.flags: owned (cdev only) */
struct iommufd_hot_reset_dev {
	uint16_t segment;
	uint8_t bus;
	uint8_t devfn;     /* slot << 3 | function */
	uint32_t group_id; /* group path: its IOMMU group; cdev: 0 */
	uint32_t dev_id;   /* cdev: its DEVICE ID in dev's context, 0 when it has none there */
	uint32_t flags;    /* IOMMUFD_HOT_RESET_DEV_OWNED */
};
/*
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, decoded: *devs (malloc()ed, free()
 * it) gets the *nr affected devices, dev among them; *flags (may be NULL)
 * IOMMUFD_HOT_RESET_DEV_ID / _ALL_OWNED. A cdev device is owned when it is
 * bound to dev's context, or when its IOMMU group has a device bound there.
 * The buffer grows as the kernel asks (ENOSPC and its count).
 */
IOMMUFD_EXPORT int iommufd_device_get_hot_reset_info(struct iommufd_device *dev, uint32_t *flags,
						     struct iommufd_hot_reset_dev **devs, size_t *nr);
struct iommufd_hot_reset_opts {
	size_t sz;
	uint32_t flags;         /* 0 (the kernel's, none defined) */
	uint32_t nr_group_fds;
	const int *group_fds;   /* group path: the VFIO group fds that prove ownership */
};
/*
 * VFIO_DEVICE_PCI_HOT_RESET. A cdev device (opts NULL or no group fds):
 * every affected device must be owned by dev's context (the iommufd form).
 * A group-path device: the fds of every group of the affected devices
 * (iommufd_group_get_fd()). -EINVAL: an affected device is not owned (or
 * the form does not match the device), -ENODEV: no bus or slot reset.
 */
IOMMUFD_EXPORT int iommufd_device_hot_reset(struct iommufd_device *dev,
					    const struct iommufd_hot_reset_opts *opts);

enum iommufd_reset_method {
	IOMMUFD_RESET_NONE = 0,
	IOMMUFD_RESET_FUNCTION = 1, /* VFIO_DEVICE_RESET first: the function has FLR, or no PM reset */
	IOMMUFD_RESET_HOT = 2,      /* VFIO_DEVICE_PCI_HOT_RESET: a bus/slot reset of this device alone */
	IOMMUFD_RESET_PM = 3,       /* VFIO_DEVICE_RESET as the last resort: a PM (D3hot) reset */
};
#define IOMMUFD_RESET_NO_HOT (1u << 0)         /* never a hot reset */
#define IOMMUFD_RESET_HOT_MULTI (1u << 1)      /* a hot reset may reset other (owned) devices too */
struct iommufd_reset_how {
	size_t sz;
	uint32_t flags;         /* in: IOMMUFD_RESET_NO_HOT, IOMMUFD_RESET_HOT_MULTI */
	uint32_t method;        /* out: enum iommufd_reset_method done */
	uint32_t nr_devs;       /* out: devices reset (a hot reset may reset more than dev) */
	uint32_t nr_group_fds;  /* in: group path, for a hot reset (see iommufd_hot_reset_opts) */
	const int *group_fds;
};
/*
 * Reset dev the way QEMU's vfio-pci does (hw/vfio/pci.c vfio_pci_reset):
 * VFIO_DEVICE_RESET when the device info has IOMMUFD_DEVICE_INFO_RESET and
 * the function has FLR or no PM reset; else a hot reset when the bus or
 * slot allows one and every affected device is owned (and, without
 * IOMMUFD_RESET_HOT_MULTI, dev is the only one); else VFIO_DEVICE_RESET as
 * a PM reset. how (may be NULL) says which one was done. When none can be
 * done: the errno of the last way tried (-ENODEV: no reset at all).
 */
IOMMUFD_EXPORT int iommufd_device_reset_auto(struct iommufd_device *dev, struct iommufd_reset_how *how);

/* ------------------------------------------------------------------ */
/* dma-buf export of BARs, for peer-to-peer DMA (man iommufd_bar_dmabuf) */
/* ------------------------------------------------------------------ */

/*
 * VFIO_DEVICE_FEATURE_DMA_BUF: ranges of one memory BAR of a bound vfio-pci
 * device as a dma-buf, which IOMMU_IOAS_MAP_FILE maps into an IOAS so that
 * other devices DMA into the BAR (peer-to-peer). The kernel revokes the
 * dma-buf while the exporter's memory decoding is off, during its resets and
 * in low power, and when its file is closed; an IOAS mapping of a revoked
 * dma-buf loses its IOMMU translation for good (its IOVA stays allocated),
 * even once memory decoding is back: it must be unmapped and mapped again.
 * The handle records its mappings, tells which are revoked and maps them
 * again (man iommufd_bar_dmabuf for what the kernel guarantees).
 */
struct iommufd_bar_dmabuf;

struct iommufd_dmabuf_range {
	uint64_t offset; /* in the BAR, page aligned */
	uint64_t length; /* page aligned, not 0 */
};

/*
 * Export nr_ranges ranges of BAR bar (0-5) of dev (bound) as one dma-buf,
 * laid out one range after the other. flags: 0 (none defined). The handle
 * holds a reference on dev and owns the dma-buf fd (O_RDWR | O_CLOEXEC).
 * The kernel's errno: -EINVAL (no range, a range empty, unaligned or past
 * the BAR, dev not bound), -ENODEV (not a memory BAR of the device),
 * -EOPNOTSUPP/-ENOTTY (no dma-buf export), -EOVERFLOW.
 */
IOMMUFD_EXPORT int iommufd_bar_dmabuf_export(struct iommufd_device *dev, uint32_t bar,
					     const struct iommufd_dmabuf_range *ranges,
					     uint32_t nr_ranges, uint32_t flags,
					     struct iommufd_bar_dmabuf **ret);
/* Unmap the mappings made through the handle, close the fd, drop the device. NULL: nothing. */
IOMMUFD_EXPORT void iommufd_bar_dmabuf_free(struct iommufd_bar_dmabuf *db);
/* The dma-buf fd (owned by the handle: dup it to keep it), -EINVAL for NULL. */
IOMMUFD_EXPORT int iommufd_bar_dmabuf_get_fd(const struct iommufd_bar_dmabuf *db);
/* Its size in bytes (the sum of the ranges), 0 for NULL. */
IOMMUFD_EXPORT uint64_t iommufd_bar_dmabuf_get_size(const struct iommufd_bar_dmabuf *db);
/*
 * Map the whole dma-buf into ioas_id of ctx (IOMMU_IOAS_MAP_FILE) at *iova
 * (IOMMUFD_MAP_FIXED_IOVA) or a kernel-chosen IOVA returned in *iova, and
 * record the mapping. flags: IOMMUFD_MAP_*. -ENODEV: revoked now;
 * -EOPNOTSUPP: iommufd maps only a dma-buf of one range.
 */
IOMMUFD_EXPORT int iommufd_bar_dmabuf_map(struct iommufd_bar_dmabuf *db, struct iommufd_ctx *ctx,
					  uint32_t ioas_id, uint64_t *iova, uint32_t flags);
/* Unmap a mapping made by iommufd_bar_dmabuf_map (-ENOENT: none at iova). */
IOMMUFD_EXPORT int iommufd_bar_dmabuf_unmap(struct iommufd_bar_dmabuf *db, struct iommufd_ctx *ctx,
					    uint32_t ioas_id, uint64_t iova);

enum iommufd_dmabuf_state {
	IOMMUFD_DMABUF_LIVE = 0,    /* exported and every recorded mapping translates */
	IOMMUFD_DMABUF_REVOKED = 1, /* revoked now: the exporter's memory decoding is off, or
				     * it is in low power (iommufd_device_low_power_enter) */
	IOMMUFD_DMABUF_STALE = 2,   /* usable again, but mappings made before a revocation
				     * are empty: iommufd_bar_dmabuf_remap() */
};
/* The dma-buf's state, from the exporter's command register and the revocations seen. */
IOMMUFD_EXPORT int iommufd_bar_dmabuf_get_state(struct iommufd_bar_dmabuf *db,
						enum iommufd_dmabuf_state *state);
/*
 * Unmap and map again, at the same IOVA with the same flags, every recorded
 * mapping made before the last revocation (all of them with
 * IOMMUFD_DMABUF_REMAP_ALL). *nr (may be NULL): how many. -ENODEV while
 * revoked (nothing changed).
 */
#define IOMMUFD_DMABUF_REMAP_ALL (1u << 0)
IOMMUFD_EXPORT int iommufd_bar_dmabuf_remap(struct iommufd_bar_dmabuf *db, uint32_t flags, uint32_t *nr);

/* ------------------------------------------------------------------ */
/* DMA memory for userspace drivers: IOVAs, translation, buffers        */
/* ------------------------------------------------------------------ */

/*
 * struct iommufd_dma manages the memory a driver gives its device, on one
 * IOAS: it allocates IOVAs itself from the IOAS's usable ranges (so every map
 * is a FIXED_IOVA map), keeps a VA -> IOVA table of everything registered
 * and answers translations lock-free, from any thread, while other threads
 * register and unregister. Unregistered VAs answer -ENOENT; once
 * iommufd_dma_unregister() has returned, no translation that starts later
 * gives the old IOVA. Registration, unregistration and the buffer calls are
 * serialised by a lock per handle.
 */
struct iommufd_dma;
struct iommufd_dma_buf;
struct iovec;

#define IOMMUFD_DMA_IOVA_EQ_VA (1u << 0) /* every registration at iova == va (-EADDRNOTAVAIL where the ranges forbid it) */

struct iommufd_dma_opts {
	size_t sz;
	uint32_t flags;     /* IOMMUFD_DMA_* */
	uint32_t map_flags; /* IOMMUFD_MAP_READ and/or IOMMUFD_MAP_WRITE; 0: both */
	uint64_t iova_min;  /* allocate IOVAs in [iova_min, iova_max] only */
	uint64_t iova_max;  /* 0: no upper limit */
};

/* A DMA manager on ioas_id of ctx (which it references). opts may be NULL. */
IOMMUFD_EXPORT int iommufd_dma_new(struct iommufd_ctx *ctx, uint32_t ioas_id,
				   const struct iommufd_dma_opts *opts, struct iommufd_dma **ret);
IOMMUFD_EXPORT struct iommufd_dma *iommufd_dma_ref(struct iommufd_dma *dma);
/* The last unref unmaps and forgets every registration (buffers hold a reference). */
IOMMUFD_EXPORT struct iommufd_dma *iommufd_dma_unref(struct iommufd_dma *dma);
/* Re-read the IOAS's usable IOVA ranges (after a device attach changed the reserved regions). */
IOMMUFD_EXPORT int iommufd_dma_refresh_ranges(struct iommufd_dma *dma);

/* IOVA allocation alone (for maps the caller makes): len rounded up to the IOVA granule; align 0: natural. */
IOMMUFD_EXPORT int iommufd_dma_iova_alloc(struct iommufd_dma *dma, uint64_t len, uint64_t align, uint64_t *iova);
IOMMUFD_EXPORT int iommufd_dma_iova_free(struct iommufd_dma *dma, uint64_t iova, uint64_t len);

#define IOMMUFD_DMA_REG_FIXED_IOVA (1u << 0) /* *iova is an input */
#define IOMMUFD_DMA_REG_READ_ONLY (1u << 1)  /* the device may only read */

/*
 * Map [va, va+len) (page aligned) at an allocated IOVA returned in *iova and
 * enter it in the translation table. -EEXIST if it overlaps a registration.
 */
IOMMUFD_EXPORT int iommufd_dma_register(struct iommufd_dma *dma, void *va, size_t len, uint32_t flags,
					uint64_t *iova);
/*
 * Undo exactly one iommufd_dma_register(): -EINVAL for a part of a
 * registration, -EBUSY while pinned; -EIO if the kernel unmapped less than
 * asked (the IOVA is then never reused).
 */
IOMMUFD_EXPORT int iommufd_dma_unregister(struct iommufd_dma *dma, void *va, size_t len);
/* Pin counts: a pinned registration or buffer refuses to go (-EBUSY). */
IOMMUFD_EXPORT int iommufd_dma_pin(struct iommufd_dma *dma, const void *va);
IOMMUFD_EXPORT int iommufd_dma_unpin(struct iommufd_dma *dma, const void *va);

/* Lock-free: *iova of va and (len may be NULL) the bytes registered contiguously from va. */
IOMMUFD_EXPORT int iommufd_dma_translate(const struct iommufd_dma *dma, const void *va, uint64_t *iova,
					 size_t *len);

struct iommufd_dma_seg {
	uint64_t iova;
	uint64_t len;
};
/*
 * Translate a scatter list into IOVA-contiguous segments (merged where they
 * touch). -ENOENT if a byte is not registered, -ENOSPC if more than max_segs.
 */
IOMMUFD_EXPORT int iommufd_dma_translate_iov(const struct iommufd_dma *dma, const struct iovec *iov,
					     size_t iovcnt, struct iommufd_dma_seg *segs, size_t max_segs,
					     size_t *nr_segs);

enum iommufd_dma_backing {
	IOMMUFD_DMA_BACKING_ANY = 0,      /* request only: 1 GiB, then 2 MiB pages by size, else normal pages */
	IOMMUFD_DMA_BACKING_PAGES = 1,    /* anonymous memory, the base page size */
	IOMMUFD_DMA_BACKING_HUGE_2M = 2,  /* hugetlb 2 MiB pages */
	IOMMUFD_DMA_BACKING_HUGE_1G = 3,  /* hugetlb 1 GiB pages */
	IOMMUFD_DMA_BACKING_MEMFD = 4,    /* a memfd (shareable, mapped with IOAS_MAP_FILE where supported) */
	IOMMUFD_DMA_BACKING_MEMFD_HUGE_2M = 5, /* a hugetlb memfd of 2 MiB pages */
};

#define IOMMUFD_DMA_BUF_STRICT (1u << 0) /* the backing asked for or fail: no fallback */
#define IOMMUFD_DMA_BUF_NUMA (1u << 1)   /* bind the memory to numa_node */

struct iommufd_dma_buf_opts {
	size_t sz;
	uint32_t flags;    /* IOMMUFD_DMA_BUF_* */
	uint32_t backing;  /* enum iommufd_dma_backing */
	uint64_t align;    /* of VA and IOVA: a power of two; 0: natural for the size */
	int32_t numa_node; /* with IOMMUFD_DMA_BUF_NUMA */
	uint32_t reserved; /* 0 */
};

/* Allocate, map and register size bytes (zeroed). opts may be NULL. */
IOMMUFD_EXPORT int iommufd_dma_buf_alloc(struct iommufd_dma *dma, size_t size,
					 const struct iommufd_dma_buf_opts *opts, struct iommufd_dma_buf **ret);
/* Unregister, unmap and free (NULL: 0). -EBUSY while pinned: the buffer stays valid. */
IOMMUFD_EXPORT int iommufd_dma_buf_free(struct iommufd_dma_buf *buf);
IOMMUFD_EXPORT void *iommufd_dma_buf_get_va(const struct iommufd_dma_buf *buf);
IOMMUFD_EXPORT uint64_t iommufd_dma_buf_get_iova(const struct iommufd_dma_buf *buf);
/* the size asked for; the mapping is rounded up to the backing's page size */
IOMMUFD_EXPORT size_t iommufd_dma_buf_get_size(const struct iommufd_dma_buf *buf);
/* the backing used (never ANY) */
IOMMUFD_EXPORT enum iommufd_dma_backing iommufd_dma_buf_get_backing(const struct iommufd_dma_buf *buf);
/* the memfd of a MEMFD buffer (owned by the buffer), else -1 */
IOMMUFD_EXPORT int iommufd_dma_buf_get_fd(const struct iommufd_dma_buf *buf);
IOMMUFD_EXPORT int iommufd_dma_buf_pin(struct iommufd_dma_buf *buf);
IOMMUFD_EXPORT int iommufd_dma_buf_unpin(struct iommufd_dma_buf *buf);

#ifdef __cplusplus
}
#endif

#endif
