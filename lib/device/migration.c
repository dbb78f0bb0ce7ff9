// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The features of the VFIO migration drivers (mlx5-vfio-pci, pds-vfio-pci,
 * virtio-vfio-pci...), typed: MIGRATION, MIG_DEVICE_STATE and its data fd
 * (read, write, VFIO_MIG_GET_PRECOPY_INFO, close), MIG_DATA_SIZE,
 * MIG_PRECOPY_INFOv2, and DMA logging (START, STOP, REPORT).
 *
 * The kernel's rules: drivers/vfio/vfio_main.c (vfio_ioctl_device_feature_*:
 * ENOTTY without mig_ops/log_ops, then vfio_check_feature(), then the
 * feature's own checks) and vfio_mig_get_next_state(), the FSM every driver
 * walks a requested state through. As in the rest of lib/device the kernel is
 * the judge: the library checks only what it must dereference, and explains
 * the kernel's refusal afterwards (for a state change: which arc, from the
 * state the device is in, and why the FSM has no path there).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device-private.h"
#include "shared/migfsm.h"

#define NR_STATES KABI_VFIO_DEVICE_STATE_NR
#define LOG_MAX_RANGES (4096 / sizeof(struct kabi_vfio_device_feature_dma_logging_range))

_Static_assert(IOMMUFD_MIGRATION_STOP_COPY == KABI_VFIO_MIGRATION_STOP_COPY, "migration flag");
_Static_assert(IOMMUFD_MIGRATION_P2P == KABI_VFIO_MIGRATION_P2P, "migration flag");
_Static_assert(IOMMUFD_MIGRATION_PRE_COPY == KABI_VFIO_MIGRATION_PRE_COPY, "migration flag");
_Static_assert(IOMMUFD_PRECOPY_INFO_REINIT == KABI_VFIO_PRECOPY_INFO_REINIT, "precopy flag");
_Static_assert(sizeof(struct iommufd_dma_log_range) ==
		       sizeof(struct kabi_vfio_device_feature_dma_logging_range) &&
	       offsetof(struct iommufd_dma_log_range, length) ==
		       offsetof(struct kabi_vfio_device_feature_dma_logging_range, length),
	       "the caller's ranges are the kernel's");

/* bound (or opened through its group): the kernel's EINVAL is then about the request */
static bool mig_bound(struct iommufd_device *dev)
{
	enum iommufd_device_state st;

	pthread_mutex_lock(&dev->lock);
	st = dev->state;
	pthread_mutex_unlock(&dev->lock);
	return st != IOMMUFD_DEVICE_PARKED;
}

static struct iommufd_ctx *mig_ctx(struct iommufd_device *dev)
{
	struct iommufd_ctx *ctx;

	pthread_mutex_lock(&dev->lock);
	ctx = dev->ctx;
	pthread_mutex_unlock(&dev->lock);
	return ctx;
}

IOMMUFD_EXPORT const char *iommufd_mig_state_name(enum iommufd_mig_state state)
{
	static const char *const names[NR_STATES] = {
		[IOMMUFD_MIG_STATE_ERROR] = "ERROR",
		[IOMMUFD_MIG_STATE_STOP] = "STOP",
		[IOMMUFD_MIG_STATE_RUNNING] = "RUNNING",
		[IOMMUFD_MIG_STATE_STOP_COPY] = "STOP_COPY",
		[IOMMUFD_MIG_STATE_RESUMING] = "RESUMING",
		[IOMMUFD_MIG_STATE_RUNNING_P2P] = "RUNNING_P2P",
		[IOMMUFD_MIG_STATE_PRE_COPY] = "PRE_COPY",
		[IOMMUFD_MIG_STATE_PRE_COPY_P2P] = "PRE_COPY_P2P",
	};

	return (unsigned int)state < NR_STATES ? names[state] : NULL;
}

static const char *state_str(uint32_t s)
{
	const char *n = iommufd_mig_state_name((enum iommufd_mig_state)s);

	return n ? n : "?";
}

/* ------------------------------------------------------------ the FSM (lib/shared/migfsm.c) */

static void flags_str(char *buf, size_t len, uint64_t flags)
{
	snprintf(buf, len, "%s%s%s%s", flags & KABI_VFIO_MIGRATION_STOP_COPY ? "STOP_COPY" : "",
		 flags & KABI_VFIO_MIGRATION_P2P ? "|P2P" : "",
		 flags & KABI_VFIO_MIGRATION_PRE_COPY ? "|PRE_COPY" : "", flags ? "" : "none");
}

/*
 * Why the kernel refused cur -> want (EINVAL), by its FSM: a state the FSM
 * or the device lacks, no path, or (a path exists) a step the driver failed.
 */
static void explain_arc(char *buf, size_t len, uint64_t flags, uint32_t cur, uint32_t want)
{
	char fl[48], path[160];
	size_t n;
	uint32_t s;

	flags_str(fl, sizeof(fl), flags);
	if (want >= NR_STATES) {
		snprintf(buf, len, "%u is not a migration state (0 ERROR .. 7 PRE_COPY_P2P)", want);
		return;
	}
	if (want == IFD_MIG_ERROR) {
		snprintf(buf, len, "ERROR cannot be asked for: a device enters it when an arc fails");
		return;
	}
	if (!ifd_mig_state_ok(flags, want)) {
		snprintf(buf, len, "the device has no %s state (its migration flags: %s)",
			 state_str(want), fl);
		return;
	}
	if (cur == IFD_MIG_ERROR) {
		snprintf(buf, len, "the device is in ERROR (the migration driver failed an arc of this "
			 "change, e.g. resuming from data it does not accept, or it was in ERROR "
			 "already): only a reset (VFIO_DEVICE_RESET, or closing the device) brings "
			 "it back to RUNNING");
		return;
	}
	if (cur >= NR_STATES || !ifd_mig_state_ok(flags, cur)) {
		snprintf(buf, len, "the device reports state %u, which its flags (%s) do not have", cur, fl);
		return;
	}
	/* the path, skipping the states the device does not have */
	n = (size_t)snprintf(path, sizeof(path), "%s", state_str(cur));
	for (s = cur; s != want;) {
		uint32_t next;

		if (ifd_mig_next_state(flags, s, want, &next) < 0) {
			snprintf(buf, len, "%s -> %s is no arc of the FSM: the saving group "
				 "(PRE_COPY*, STOP_COPY) is left through STOP only, and STOP_COPY "
				 "never goes back to PRE_COPY", state_str(s), state_str(want));
			return;
		}
		if (n < sizeof(path))
			n += (size_t)snprintf(path + n, sizeof(path) - n, " -> %s", state_str(next));
		s = next;
	}
	snprintf(buf, len, "the migration driver failed a step of %s (the device is now in %s%s)",
		 path, state_str(cur),
		 cur == IFD_MIG_RESUMING || want == IFD_MIG_STOP ?
			 "; resuming: the data written is incomplete or not this device's" : "");
}

/* MIGRATION and MIG_DEVICE_STATE by plain ioctls: 0 or -errno, nothing recorded */
static int mig_query(struct iommufd_device *dev, uint64_t *flags, uint32_t *state)
{
	struct {
		struct kabi_vfio_device_feature h;
		union {
			struct kabi_vfio_device_feature_migration m;
			struct kabi_vfio_device_feature_mig_state s;
		};
	} f;
	int r;

	memset(&f, 0, sizeof(f));
	f.h.argsz = sizeof(f.h) + sizeof(f.m);
	f.h.flags = KABI_VFIO_DEVICE_FEATURE_MIGRATION | KABI_VFIO_DEVICE_FEATURE_GET;
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_FEATURE, &f);
	if (r < 0)
		return r;
	*flags = f.m.flags;
	memset(&f, 0, sizeof(f));
	f.h.argsz = sizeof(f.h) + sizeof(f.s);
	f.h.flags = KABI_VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE | KABI_VFIO_DEVICE_FEATURE_GET;
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_FEATURE, &f);
	if (r < 0)
		return r;
	*state = f.s.device_state;
	return 0;
}

/* ------------------------------------------------------------ migration */

IOMMUFD_EXPORT int iommufd_device_get_migration(struct iommufd_device *dev, uint64_t *flags)
{
	struct kabi_vfio_device_feature_migration m = { 0 };
	int r;

	if (dev && !flags)
		return FAIL(mig_ctx(dev), EINVAL, "%s: flags is NULL", dev->name);
	r = ifd_feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_MIGRATION,
			      KABI_VFIO_DEVICE_FEATURE_GET, &m, sizeof(m), true);
	if (r < 0)
		return r;
	*flags = m.flags;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_get_mig_state(struct iommufd_device *dev,
						enum iommufd_mig_state *state)
{
	struct kabi_vfio_device_feature_mig_state m = { .data_fd = -1 };
	int r;

	if (dev && !state)
		return FAIL(mig_ctx(dev), EINVAL, "%s: state is NULL", dev->name);
	r = ifd_feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			      KABI_VFIO_DEVICE_FEATURE_GET, &m, sizeof(m), true);
	if (r < 0)
		return r;
	*state = (enum iommufd_mig_state)m.device_state;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_set_mig_state(struct iommufd_device *dev,
						enum iommufd_mig_state state, int *data_fd)
{
	struct kabi_vfio_device_feature_mig_state m = { .device_state = (uint32_t)state, .data_fd = -1 };
	char why[320];
	uint64_t flags;
	uint32_t cur;
	int r;

	if (data_fd)
		*data_fd = -1;
	r = ifd_feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
			      KABI_VFIO_DEVICE_FEATURE_SET, &m, sizeof(m), true);
	if (r == -EINVAL && dev && mig_bound(dev) && mig_query(dev, &flags, &cur) == 0) {
		explain_arc(why, sizeof(why), flags, cur, (uint32_t)state);
		return FAIL(mig_ctx(dev), r, "%s: MIG_DEVICE_STATE SET %s (%u): %s", dev->name,
			    state_str((uint32_t)state), (unsigned int)state, why);
	}
	if (r < 0)
		return r;
	if (data_fd)
		*data_fd = m.data_fd;
	else if (m.data_fd >= 0)
		be_close(dev->be, m.data_fd);
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_get_mig_data_size(struct iommufd_device *dev,
						    uint64_t *stop_copy_length)
{
	struct kabi_vfio_device_feature_mig_data_size m = { 0 };
	int r;

	if (dev && !stop_copy_length)
		return FAIL(mig_ctx(dev), EINVAL, "%s: stop_copy_length is NULL", dev->name);
	r = ifd_feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
			      KABI_VFIO_DEVICE_FEATURE_GET, &m, sizeof(m), true);
	if (r < 0)
		return r;
	*stop_copy_length = m.stop_copy_length;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_enable_precopy_info_v2(struct iommufd_device *dev)
{
	int r = ifd_feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2,
				  KABI_VFIO_DEVICE_FEATURE_SET, NULL, 0, false);

	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------ the data fd */

/* the device is usable from here, and data_fd is a descriptor: 0, else the recorded failure */
static int data_fd_check(struct iommufd_device *dev, const char *func, int data_fd)
{
	int r;

	if (!dev)
		return ifd_fail(NULL, func, EINVAL, "dev is NULL");
	r = ifd_owner_check(dev->pid, mig_ctx(dev), func, "device", dev->name);
	if (r)
		return r;
	if (data_fd < 0)
		return ifd_fail(mig_ctx(dev), func, EBADF, "%s: data_fd %d", dev->name, data_fd);
	return 0;
}

static const char *data_why(int err, bool wr)
{
	switch (-err) {
	case ENOMSG:
		return "PRE_COPY: nothing to read for now (the stream's temporary end: read again later, "
		       "or move the device on to STOP_COPY)";
	case ENODEV:
		return "the session has ended: the device left the state that opened it";
	case EINVAL:
		return wr ? "a saving session's fd takes no writes, or the data is not this device's stream"
			  : "a resuming session's fd gives nothing to read";
	case ESPIPE:
		return "the stream has no position";
	case EAGAIN:
		return "non-blocking fd: no data yet";
	case EBADF:
		return "data_fd is not open";
	}
	return "the migration driver refused";
}

IOMMUFD_EXPORT ssize_t iommufd_device_mig_data_read(struct iommufd_device *dev, int data_fd, void *buf,
						    size_t len)
{
	ssize_t n;
	int r = data_fd_check(dev, __func__, data_fd);

	if (r)
		return r;
	if (!buf && len)
		return FAIL(mig_ctx(dev), EINVAL, "%s: buf is NULL", dev->name);
	n = be_read(dev->be, data_fd, buf, len);
	if (n < 0)
		return FAIL(mig_ctx(dev), (int)n, "%s: read of migration data fd %d (%zu bytes): %s",
			    dev->name, data_fd, len, data_why((int)n, false));
	return n;
}

IOMMUFD_EXPORT ssize_t iommufd_device_mig_data_write(struct iommufd_device *dev, int data_fd,
						     const void *buf, size_t len)
{
	ssize_t n;
	int r = data_fd_check(dev, __func__, data_fd);

	if (r)
		return r;
	if (!buf && len)
		return FAIL(mig_ctx(dev), EINVAL, "%s: buf is NULL", dev->name);
	n = be_write(dev->be, data_fd, buf, len);
	if (n < 0)
		return FAIL(mig_ctx(dev), (int)n, "%s: write of migration data fd %d (%zu bytes): %s",
			    dev->name, data_fd, len, data_why((int)n, true));
	return n;
}

IOMMUFD_EXPORT int iommufd_device_mig_data_close(struct iommufd_device *dev, int data_fd)
{
	int r = data_fd_check(dev, __func__, data_fd);

	if (r)
		return r;
	r = be_close(dev->be, data_fd);
	if (r < 0)
		return FAIL(mig_ctx(dev), r, "%s: close of migration data fd %d", dev->name, data_fd);
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_mig_precopy_info(struct iommufd_device *dev, int data_fd,
						   struct iommufd_mig_precopy_info *info)
{
	struct kabi_vfio_precopy_info k = { .argsz = sizeof(k) };
	struct iommufd_mig_precopy_info o;
	int r = data_fd_check(dev, __func__, data_fd);

	if (r)
		return r;
	if (!info)
		return FAIL(mig_ctx(dev), EINVAL, "%s: info is NULL", dev->name);
	r = ifd_ext_copy_in(&o, sizeof(o), info, sizeof(o));
	if (r)
		return FAIL(mig_ctx(dev), r, "%s: info->sz %zu: %s", dev->name, info->sz,
			    r == -E2BIG ? "unknown non-zero bytes past the known fields" : "too small");
	if (o.reserved)
		return FAIL(mig_ctx(dev), EINVAL, "%s: info->reserved %u is not 0", dev->name, o.reserved);
	r = be_ioctl(dev->be, data_fd, KABI_VFIO_MIG_GET_PRECOPY_INFO, &k);
	if (r < 0)
		return FAIL(mig_ctx(dev), r, "%s: VFIO_MIG_GET_PRECOPY_INFO on fd %d: %s", dev->name,
			    data_fd,
			    r == -EINVAL ? "the device is not in PRE_COPY or PRE_COPY_P2P" :
			    r == -ENOTTY ? "not a migration data fd" :
			    r == -EBADF ? "data_fd is not open" : "the migration driver refused");
	o.flags = k.flags;
	o.initial_bytes = k.initial_bytes;
	o.dirty_bytes = k.dirty_bytes;
	ifd_ext_copy_out(info, &o, sizeof(o));
	return 0;
}

/* ------------------------------------------------------------ DMA logging */

/* why START was refused with EINVAL: the first range the kernel's checks stop at */
static void explain_start(char *buf, size_t len, const struct iommufd_dma_log_range *r, uint32_t nr,
			  uint64_t page_size)
{
	uint64_t mask = page_size - 1;

	if (!nr) {
		snprintf(buf, len, "no range");
		return;
	}
	for (uint32_t i = 0; i < nr && nr <= LOG_MAX_RANGES; i++) {
		if ((r[i].iova & mask) || (r[i].length & mask)) {
			snprintf(buf, len, "range %u [0x%llx, +0x%llx) is not aligned to the page size 0x%llx",
				 i, (unsigned long long)r[i].iova, (unsigned long long)r[i].length,
				 (unsigned long long)page_size);
			return;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (r[i].iova <= r[j].iova + r[j].length - 1 &&
			    r[j].iova <= r[i].iova + r[i].length - 1) {
				snprintf(buf, len, "ranges %u and %u overlap", j, i);
				return;
			}
		}
	}
	snprintf(buf, len, "DMA logging is already started (stop it first), or the driver refuses "
		 "these ranges");
}

IOMMUFD_EXPORT int iommufd_device_dma_log_start(struct iommufd_device *dev,
						const struct iommufd_dma_log_range *ranges,
						uint32_t nr_ranges, uint64_t *page_size)
{
	struct kabi_vfio_device_feature_dma_logging_control c = { 0 };
	char why[160];
	int r;

	if (dev && !page_size)
		return FAIL(mig_ctx(dev), EINVAL, "%s: page_size is NULL", dev->name);
	if (dev && nr_ranges && !ranges)
		return FAIL(mig_ctx(dev), EINVAL, "%s: ranges is NULL with %u ranges", dev->name,
			    nr_ranges);
	c.page_size = page_size ? *page_size : 0;
	c.num_ranges = nr_ranges;
	c.ranges = (uint64_t)(uintptr_t)(ranges);
	r = ifd_feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
			      KABI_VFIO_DEVICE_FEATURE_SET, &c, sizeof(c), true);
	if (r == -EINVAL && dev && mig_bound(dev)) {
		explain_start(why, sizeof(why), ranges, nr_ranges, c.page_size);
		return FAIL(mig_ctx(dev), r, "%s: DMA_LOGGING_START (%u ranges, page size 0x%llx): %s",
			    dev->name, nr_ranges, (unsigned long long)c.page_size, why);
	}
	if ((r == -E2BIG || r == -EOVERFLOW) && dev)
		return FAIL(mig_ctx(dev), r, "%s: DMA_LOGGING_START (%u ranges, page size 0x%llx): %s",
			    dev->name, nr_ranges, (unsigned long long)c.page_size,
			    r == -E2BIG ? "more ranges than a kernel page holds (256)" :
					  "a range wraps past the end of the IOVA space");
	if (r < 0)
		return r;
	*page_size = c.page_size;
	return 0;
}

IOMMUFD_EXPORT int iommufd_device_dma_log_stop(struct iommufd_device *dev)
{
	int r = ifd_feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
				  KABI_VFIO_DEVICE_FEATURE_SET, NULL, 0, false);

	return r < 0 ? r : 0;
}

IOMMUFD_EXPORT int iommufd_device_dma_log_report(struct iommufd_device *dev, uint64_t iova,
						 uint64_t length, uint64_t page_size, uint64_t *bitmap)
{
	struct kabi_vfio_device_feature_dma_logging_report rep = {
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.bitmap = (uint64_t)(uintptr_t)(bitmap),
	};
	int r;

	if (dev && !bitmap)
		return FAIL(mig_ctx(dev), EINVAL, "%s: bitmap is NULL", dev->name);
	r = ifd_feature_ioctl(dev, __func__, KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
			      KABI_VFIO_DEVICE_FEATURE_GET, &rep, sizeof(rep), false);
	if ((r == -EINVAL || r == -EOVERFLOW) && dev && mig_bound(dev))
		return FAIL(mig_ctx(dev), r,
			    "%s: DMA_LOGGING_REPORT (iova 0x%llx, length 0x%llx, page size 0x%llx): %s",
			    dev->name, (unsigned long long)iova, (unsigned long long)length,
			    (unsigned long long)page_size,
			    r == -EOVERFLOW ? "iova + length wraps" :
			    page_size < 4096 || (page_size & (page_size - 1)) ?
					      "the page size is not a power of two of at least 4096" :
					      "DMA logging is not started, or the range is not inside one "
					      "range it was started with");
	return r < 0 ? r : 0;
}
