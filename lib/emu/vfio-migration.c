// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A VFIO migration driver for the emulated devices added with
 * IOMMUFD_EMU_DEVICE_MIGRATION (edu only; STOP_COPY, P2P and PRE_COPY, or
 * with IOMMUFD_EMU_DEVICE_MIGRATION_STOP_COPY_ONLY only STOP_COPY): the features the kernel's core
 * answers for a driver with mig_ops and log_ops (drivers/vfio/vfio_main.c
 * vfio_ioctl_device_feature_*: the same checks in the same order), the
 * driver's FSM walk as mlx5-vfio-pci does it (drivers/vfio/pci/mlx5/main.c
 * mlx5vf_pci_set_device_state(): vfio_mig_get_next_state() one arc at a
 * time, the state kept at the last arc that worked), its data fds, and DMA
 * logging. A device without the flag answers as vfio-pci: ENOTTY.
 *
 * The data stream: records of a 16-byte header (magic "EMIG", version, the
 * device kind, payload length, sequence number) and the model's state
 * (edu: its registers and its 4 KiB DMA buffer, vdev_model_save()). A saving
 * session is an emulated file (poll: readable while it has data or its end):
 *  - STOP -> STOP_COPY: one record, then the end of stream (read() 0);
 *  - RUNNING -> PRE_COPY: one record, the initial data; once it is read,
 *    a read finds a new record if the device's state changed since the last
 *    one was queued (dirty data), else -ENOMSG (the temporary end);
 *    VFIO_MIG_GET_PRECOPY_INFO counts both; PRE_COPY(_P2P) -> STOP_COPY
 *    queues the final record and the end of stream.
 * Leaving the saving group (STOP_COPY -> STOP, PRE_COPY -> RUNNING, ...)
 * ends the session: read() -ENODEV (mlx5's disabled file). A resuming
 * session (STOP -> RESUMING) takes writes; RESUMING -> STOP parses them: the
 * last whole record is loaded; a truncated or foreign stream fails the arc
 * with EINVAL and leaves the device in ERROR (the uapi allows either; this
 * driver takes ERROR so that state is reachable). ERROR is left by a reset
 * or the device's last close, as in mlx5 (mlx5vf_reset_done, close_device).
 *
 * The device does not run outside RUNNING, RUNNING_P2P and PRE_COPY(_P2P):
 * its DMA is dropped (edu's engine never starts). P2P quiescing changes
 * nothing: the models do no peer-to-peer DMA.
 *
 * DMA logging records the pages (of the granule START chose: the hint if a
 * power of two from 4 KiB to 1 GiB, else 4 KiB) of every DMA write the
 * device makes inside the started ranges, in a sorted set; REPORT checks as
 * pds-vfio-pci does (drivers/vfio/pci/pds/dirty.c pds_vfio_dirty_sync():
 * not started, or [iova, iova+length) not inside one started range: EINVAL),
 * sets the bits at the page size asked for and clears what it reported. As
 * the kernel's iova_bitmap (drivers/iommu/iommufd/iova_bitmap.c
 * iova_bitmap_set()), the user's bitmap is touched only where a bit is set,
 * and a bitmap that cannot be written loses those bits without an error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "vfio.h"
#include "shared/migfsm.h"

#define MIG_MAGIC 0x47494d45u /* "EMIG" */
#define MIG_VERSION 1
#define MIG_RESUME_MAX (1u << 20) /* bytes a resuming session takes */
#define LOG_MAX_RANGES (EMU_PAGE_SIZE / sizeof(struct kabi_vfio_device_feature_dma_logging_range))

struct mig_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t kind;
	uint32_t len; /* payload bytes */
	uint32_t seq;
};

struct mig_file {
	struct vdev *d;      /* NULL once the session ended */
	struct emu_file *file;
	bool save;           /* a saving session, else resuming */
	bool complete;       /* saving: the end of stream is queued */
	uint8_t *data;       /* the stream (saving: queued, resuming: written) */
	size_t len, pos, initial_end;
	uint8_t *last;       /* saving: the state of the last record queued */
	uint32_t seq;
};

struct log_range {
	uint64_t start, last;
};

struct vmig {
	uint64_t flags;      /* KABI_VFIO_MIGRATION_* */
	uint32_t state;
	bool precopy_v2;
	struct mig_file *session;
	/* DMA logging */
	bool log_on;
	uint64_t log_page;
	struct log_range *ranges;
	uint32_t nr_ranges;
	bool log_err;        /* a page could not be recorded */
	uint64_t *pages;     /* dirty pages (iova / log_page), sorted */
	size_t nr_pages, cap_pages;
};

/* ------------------------------------------------------------ data sessions */

static size_t record_size(struct vdev *d)
{
	return sizeof(struct mig_hdr) + vdev_model_state_size(d);
}

static void session_update_poll(struct mig_file *m)
{
	if (m->file)
		emu_file_set_readable(m->file, !m->d || m->pos < m->len || m->complete);
}

/* queue a record of the device's state now */
static int session_queue(struct mig_file *m)
{
	struct vdev *d = m->d;
	size_t plen = vdev_model_state_size(d), rl = record_size(d);
	struct mig_hdr h = {
		.magic = MIG_MAGIC, .version = MIG_VERSION, .kind = (uint16_t)d->kind,
		.len = (uint32_t)plen, .seq = m->seq,
	};
	uint8_t *p = emu_realloc(d->emu, m->data, m->len + rl, 1);

	if (!p)
		return -ENOMEM;
	m->data = p;
	memcpy(p + m->len, &h, sizeof(h));
	vdev_model_save(d, p + m->len + sizeof(h));
	memcpy(m->last, p + m->len + sizeof(h), plen);
	m->len += rl;
	m->seq++;
	session_update_poll(m);
	return 0;
}

/* has the device's state changed since the last record queued? */
static bool session_changed(struct mig_file *m)
{
	size_t plen = vdev_model_state_size(m->d);
	uint8_t *now = malloc(plen);
	bool changed = true;

	if (now) {
		vdev_model_save(m->d, now);
		changed = memcmp(now, m->last, plen) != 0;
		free(now);
	}
	return changed;
}

static void session_end(struct vdev *d)
{
	struct mig_file *m = d->mig->session;

	if (!m)
		return;
	d->mig->session = NULL;
	m->d = NULL;
	session_update_poll(m);
}

static ssize_t mig_read(struct emu_file *f, void *buf, size_t len, off_t off, bool pos)
{
	struct mig_file *m = f->priv;
	size_t n;

	(void)off;
	if (pos)
		return -ESPIPE; /* stream_open() */
	if (!m->save)
		return -EINVAL; /* no read op */
	if (!m->d)
		return -ENODEV;
	if (m->pos == m->len && !m->complete) {
		/* PRE_COPY: new data if the device changed, else the temporary end */
		int r;

		if (!session_changed(m))
			return -ENOMSG;
		r = session_queue(m);
		if (r)
			return r;
	}
	n = m->len - m->pos < len ? m->len - m->pos : len;
	if (n && emu_copy_to_user((uintptr_t)buf, m->data + m->pos, n))
		return -EFAULT;
	m->pos += n;
	session_update_poll(m);
	return (ssize_t)n;
}

static ssize_t mig_write(struct emu_file *f, const void *buf, size_t len, off_t off, bool pos)
{
	struct mig_file *m = f->priv;
	uint8_t *p;

	(void)off;
	if (pos)
		return -ESPIPE;
	if (m->save)
		return -EINVAL; /* no write op */
	if (!m->d)
		return -ENODEV;
	if (len > MIG_RESUME_MAX - m->len)
		return -ENOMEM;
	if (!len)
		return 0;
	p = emu_realloc(f->emu, m->data, m->len + len, 1);
	if (!p)
		return -ENOMEM;
	m->data = p;
	if (emu_copy_from_user(p + m->len, (uintptr_t)buf, len))
		return -EFAULT;
	m->len += len;
	return (ssize_t)len;
}

/* VFIO_MIG_GET_PRECOPY_INFO (vfio_check_precopy_ioctl(), then mlx5vf_precopy_ioctl()'s state check) */
static int mig_ioctl(struct emu_file *f, unsigned long req, void *arg)
{
	struct mig_file *m = f->priv;
	struct kabi_vfio_precopy_info info;
	size_t queued;

	if (req != KABI_VFIO_MIG_GET_PRECOPY_INFO)
		return -ENOTTY;
	if (emu_copy_from_user(&info, (uintptr_t)arg, sizeof(info)))
		return -EFAULT;
	if (info.argsz < sizeof(info))
		return -EINVAL;
	if (!m->save || !m->d ||
	    (m->d->mig->state != IFD_MIG_PRE_COPY && m->d->mig->state != IFD_MIG_PRE_COPY_P2P))
		return -EINVAL;
	info.flags = 0; /* REINIT never: the device's initial data does not change */
	info.initial_bytes = m->pos < m->initial_end ? m->initial_end - m->pos : 0;
	queued = m->len - (m->pos > m->initial_end ? m->pos : m->initial_end);
	info.dirty_bytes = queued + (session_changed(m) ? record_size(m->d) : 0);
	return emu_copy_to_user((uintptr_t)arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static void mig_release(struct emu_file *f)
{
	struct mig_file *m = f->priv;

	if (m->d && m->d->mig->session == m)
		m->d->mig->session = NULL;
	free(m->data);
	free(m->last);
	free(m);
}

static const struct emu_file_ops mig_fops = {
	.name = "[vfio-migration-data]",
	.read = mig_read,
	.write = mig_write,
	.ioctl = mig_ioctl,
	.release = mig_release,
};

/* a new session and its fd (returned), with the initial record when saving */
static int session_new(struct vdev *d, bool save, bool complete)
{
	struct mig_file *m = emu_zalloc(d->emu, sizeof(*m));
	int fd, r;

	if (!m)
		return -ENOMEM;
	m->d = d;
	m->save = save;
	if (save) {
		m->last = emu_zalloc(d->emu, vdev_model_state_size(d));
		r = m->last ? session_queue(m) : -ENOMEM;
		if (r) {
			free(m->last);
			free(m->data);
			free(m);
			return r;
		}
		m->initial_end = m->len;
		m->complete = complete;
	}
	fd = emu_file_new(d->emu, &mig_fops, m, &m->file);
	if (fd < 0) {
		free(m->last);
		free(m->data);
		free(m);
		return fd;
	}
	session_update_poll(m);
	d->mig->session = m;
	return fd;
}

/* RESUMING -> STOP: the last whole record written becomes the device's state */
static int session_load(struct vdev *d, struct mig_file *m)
{
	size_t plen = vdev_model_state_size(d), off = 0;
	const uint8_t *state = NULL;

	while (m && off < m->len) {
		struct mig_hdr h;

		if (m->len - off < sizeof(h))
			return -EINVAL;
		memcpy(&h, m->data + off, sizeof(h));
		if (h.magic != MIG_MAGIC || h.version != MIG_VERSION || h.kind != d->kind ||
		    h.len != plen || m->len - off - sizeof(h) < plen)
			return -EINVAL;
		state = m->data + off + sizeof(h);
		off += sizeof(h) + plen;
	}
	if (state)
		vdev_model_load(d, state);
	return 0;
}

/*
 * One arc of the FSM (mlx5vf_pci_step_device_state_locked()): the fd of a
 * session it opens (>= 0), -1 when none, or -errno.
 */
static int step(struct vdev *d, uint32_t cur, uint32_t next)
{
	struct vmig *mg = d->mig;
	int r;

	if (cur == IFD_MIG_STOP && next == IFD_MIG_STOP_COPY)
		return session_new(d, true, true);
	if ((cur == IFD_MIG_RUNNING && next == IFD_MIG_PRE_COPY) ||
	    (cur == IFD_MIG_RUNNING_P2P && next == IFD_MIG_PRE_COPY_P2P))
		return session_new(d, true, false);
	if ((cur == IFD_MIG_PRE_COPY || cur == IFD_MIG_PRE_COPY_P2P) && next == IFD_MIG_STOP_COPY) {
		/* the final record, then the end of stream */
		if (mg->session) {
			r = session_queue(mg->session);
			if (r)
				return r;
			mg->session->complete = true;
			session_update_poll(mg->session);
		}
		return -1;
	}
	if ((cur == IFD_MIG_STOP_COPY && next == IFD_MIG_STOP) ||
	    (cur == IFD_MIG_PRE_COPY && next == IFD_MIG_RUNNING) ||
	    (cur == IFD_MIG_PRE_COPY_P2P && next == IFD_MIG_RUNNING_P2P)) {
		session_end(d);
		return -1;
	}
	if (cur == IFD_MIG_STOP && next == IFD_MIG_RESUMING)
		return session_new(d, false, false);
	if (cur == IFD_MIG_RESUMING && next == IFD_MIG_STOP) {
		r = session_load(d, mg->session);
		session_end(d);
		if (r) {
			mg->state = IFD_MIG_ERROR;
			return r;
		}
		return -1;
	}
	/* RUNNING <-> RUNNING_P2P <-> STOP, PRE_COPY <-> PRE_COPY_P2P: the device
	 * (no peer-to-peer DMA) only stops or runs */
	return -1;
}

/* mlx5vf_pci_set_device_state() */
static int set_state(struct vdev *d, uint32_t want, int *fd)
{
	struct vmig *mg = d->mig;
	uint32_t next;
	int r;

	*fd = -1;
	while (want != mg->state) {
		r = ifd_mig_next_state(mg->flags, mg->state, want, &next);
		if (r)
			return r;
		r = step(d, mg->state, next);
		if (r < -1)
			return r;
		mg->state = next;
		if (r >= 0) {
			*fd = r;
			if (want != mg->state) /* a session only at the end of a path */
				return -EINVAL;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ the features */

static int feature_mig_state(struct vdev *d, uint32_t flags, uint64_t uarg, size_t argsz)
{
	struct kabi_vfio_device_feature_mig_state mig;
	int r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_GET | KABI_VFIO_DEVICE_FEATURE_SET,
			      sizeof(mig));
	int fd;

	if (r != 1)
		return r;
	if (emu_copy_from_user(&mig, uarg, sizeof(mig)))
		return -EFAULT;
	if (flags & KABI_VFIO_DEVICE_FEATURE_GET) {
		mig.device_state = d->mig->state;
		mig.data_fd = -1;
		return emu_copy_to_user(uarg, &mig, sizeof(mig)) ? -EFAULT : 0;
	}
	r = set_state(d, mig.device_state, &fd);
	if (r && fd >= 0) {
		d->emu->be.ops->close(&d->emu->be, fd);
		fd = -1;
	}
	mig.data_fd = fd;
	if (emu_copy_to_user(uarg, &mig, sizeof(mig))) {
		if (fd >= 0)
			d->emu->be.ops->close(&d->emu->be, fd);
		return -EFAULT;
	}
	return r;
}

/* the granule the driver logs at: the hint when it can, else 4 KiB */
static uint64_t log_granule(uint64_t hint)
{
	if (hint >= EMU_PAGE_SIZE && hint <= (1ull << 30) && !(hint & (hint - 1)))
		return hint;
	return EMU_PAGE_SIZE;
}

static int feature_log_start(struct vdev *d, uint32_t flags, uint64_t uarg, size_t argsz)
{
	struct kabi_vfio_device_feature_dma_logging_control c;
	struct vmig *mg = d->mig;
	struct log_range *rs;
	int r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_SET, sizeof(c));

	if (r != 1)
		return r;
	if (emu_copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if (!c.num_ranges)
		return -EINVAL;
	if (c.num_ranges > LOG_MAX_RANGES)
		return -E2BIG;
	rs = emu_calloc(d->emu, c.num_ranges, sizeof(*rs));
	if (!rs)
		return -ENOMEM;
	for (uint32_t i = 0; i < c.num_ranges; i++) {
		struct kabi_vfio_device_feature_dma_logging_range range;
		uint64_t end;

		r = 0;
		if (emu_copy_from_user(&range, c.ranges + i * sizeof(range), sizeof(range)))
			r = -EFAULT;
		/* IS_ALIGNED(x, a): x & (a - 1), whatever a is */
		else if ((range.iova & (c.page_size - 1)) || (range.length & (c.page_size - 1)))
			r = -EINVAL;
		else if (__builtin_add_overflow(range.iova, range.length, &end))
			r = -EOVERFLOW;
		if (!r) {
			rs[i].start = range.iova;
			rs[i].last = range.iova + range.length - 1;
			for (uint32_t j = 0; j < i; j++)
				if (rs[i].start <= rs[j].last && rs[j].start <= rs[i].last)
					r = -EINVAL; /* overlapping */
		}
		if (r) {
			free(rs);
			return r;
		}
	}
	/* the driver's log_start: one at a time */
	if (mg->log_on) {
		free(rs);
		return -EINVAL;
	}
	c.page_size = log_granule(c.page_size);
	if (emu_copy_to_user(uarg, &c, sizeof(c))) {
		free(rs);
		return -EFAULT;
	}
	mg->log_on = true;
	mg->log_page = c.page_size;
	mg->ranges = rs;
	mg->nr_ranges = c.num_ranges;
	mg->nr_pages = 0;
	return 0;
}

static void log_stop(struct vmig *mg)
{
	free(mg->ranges);
	free(mg->pages);
	mg->ranges = NULL;
	mg->pages = NULL;
	mg->nr_ranges = 0;
	mg->nr_pages = mg->cap_pages = 0;
	mg->log_on = mg->log_err = false;
}

/* the first index of pages[] >= page */
static size_t log_find(const struct vmig *mg, uint64_t page)
{
	size_t lo = 0, hi = mg->nr_pages;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mg->pages[mid] < page)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int feature_log_report(struct vdev *d, uint32_t flags, uint64_t uarg, size_t argsz)
{
	struct kabi_vfio_device_feature_dma_logging_report rep;
	struct vmig *mg = d->mig;
	uint64_t end, last, lp;
	size_t i, j;
	bool inside = false;
	int r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_GET, sizeof(rep));

	if (r != 1)
		return r;
	if (emu_copy_from_user(&rep, uarg, sizeof(rep)))
		return -EFAULT;
	if (rep.page_size < EMU_PAGE_SIZE || (rep.page_size & (rep.page_size - 1)))
		return -EINVAL;
	if (__builtin_add_overflow(rep.iova, rep.length, &end))
		return -EOVERFLOW;
	/* the driver's read_and_clear (pds_vfio_dirty_sync()) */
	if (!mg->log_on || !rep.length)
		return -EINVAL;
	last = rep.iova + rep.length - 1;
	for (uint32_t k = 0; k < mg->nr_ranges; k++)
		inside |= rep.iova >= mg->ranges[k].start && last <= mg->ranges[k].last;
	if (!inside)
		return -EINVAL;
	if (mg->log_err)
		return -EIO;
	lp = mg->log_page;
	i = log_find(mg, rep.iova / lp);
	for (j = i; j < mg->nr_pages && mg->pages[j] <= last / lp; j++) {
		/* the logged page's part inside the report, in report pages */
		uint64_t s = mg->pages[j] * lp, e = s + lp - 1;

		if (s < rep.iova)
			s = rep.iova;
		if (e > last)
			e = last;
		for (uint64_t b = (s - rep.iova) / rep.page_size; b <= (e - rep.iova) / rep.page_size;
		     b++) {
			uint64_t w, addr = rep.bitmap + b / 64 * 8;

			/* iova_bitmap_set(): a bitmap it cannot pin loses the bit, no error */
			if (emu_copy_from_user(&w, addr, 8))
				continue;
			w |= 1ull << (b % 64);
			(void)emu_copy_to_user(addr, &w, 8);
		}
	}
	/* read and clear: what was reported is gone from the log */
	if (j > i) {
		memmove(mg->pages + i, mg->pages + j, (mg->nr_pages - j) * sizeof(*mg->pages));
		mg->nr_pages -= j - i;
	}
	return 0;
}

static int feature_data_size(struct vdev *d, uint32_t flags, uint64_t uarg, size_t argsz)
{
	struct kabi_vfio_device_feature_mig_data_size ds = { .stop_copy_length = record_size(d) };
	int r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_GET, sizeof(ds));

	if (r != 1)
		return r;
	return emu_copy_to_user(uarg, &ds, sizeof(ds)) ? -EFAULT : 0;
}

int vmig_feature(struct vdev *d, uint32_t flags, uint64_t uarg, size_t argsz)
{
	struct vmig *mg = d->mig;
	int r;

	switch (flags & KABI_VFIO_DEVICE_FEATURE_MASK) {
	case KABI_VFIO_DEVICE_FEATURE_MIGRATION: {
		struct kabi_vfio_device_feature_migration m;

		if (!mg)
			return -ENOTTY;
		r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_GET, sizeof(m));
		if (r != 1)
			return r;
		m.flags = mg->flags;
		return emu_copy_to_user(uarg, &m, sizeof(m)) ? -EFAULT : 0;
	}
	case KABI_VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
		return mg ? feature_mig_state(d, flags, uarg, argsz) : -ENOTTY;
	case KABI_VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
		return mg ? feature_data_size(d, flags, uarg, argsz) : -ENOTTY;
	case KABI_VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2:
		/* before any check: a device without PRE_COPY in its migration flags */
		if (!mg || !(mg->flags & KABI_VFIO_MIGRATION_PRE_COPY))
			return -EINVAL;
		r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_SET, 0);
		if (r != 1)
			return r;
		mg->precopy_v2 = true;
		return 0;
	case KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
		return mg ? feature_log_start(d, flags, uarg, argsz) : -ENOTTY;
	case KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
		if (!mg)
			return -ENOTTY;
		r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_SET, 0);
		if (r != 1)
			return r;
		log_stop(mg);
		return 0;
	case KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
		return mg ? feature_log_report(d, flags, uarg, argsz) : -ENOTTY;
	}
	return -ENOTTY;
}

/* ------------------------------------------------------------ the device's side */

int vmig_init(struct vdev *d)
{
	if (!(d->opt_flags & IOMMUFD_EMU_DEVICE_MIGRATION))
		return d->opt_flags & IOMMUFD_EMU_DEVICE_MIGRATION_STOP_COPY_ONLY ? -EINVAL : 0;
	if (d->kind != IOMMUFD_EMU_DEVICE_EDU)
		return -EINVAL;
	d->mig = calloc(1, sizeof(*d->mig));
	if (!d->mig)
		return -ENOMEM;
	d->mig->flags = KABI_VFIO_MIGRATION_STOP_COPY;
	if (!(d->opt_flags & IOMMUFD_EMU_DEVICE_MIGRATION_STOP_COPY_ONLY))
		d->mig->flags |= KABI_VFIO_MIGRATION_P2P | KABI_VFIO_MIGRATION_PRE_COPY;
	d->mig->state = IFD_MIG_RUNNING;
	return 0;
}

void vmig_free(struct vdev *d)
{
	if (!d->mig)
		return;
	session_end(d);
	log_stop(d->mig);
	free(d->mig);
	d->mig = NULL;
}

void vmig_reset(struct vdev *d)
{
	if (!d->mig)
		return;
	session_end(d);
	d->mig->state = IFD_MIG_RUNNING;
}

void vmig_close(struct vdev *d)
{
	if (!d->mig)
		return;
	vmig_reset(d);
	log_stop(d->mig);
	d->mig->precopy_v2 = false;
}

bool vmig_running(const struct vdev *d)
{
	uint32_t s = d->mig ? d->mig->state : IFD_MIG_RUNNING;

	return s == IFD_MIG_RUNNING || s == IFD_MIG_RUNNING_P2P || s == IFD_MIG_PRE_COPY ||
	       s == IFD_MIG_PRE_COPY_P2P;
}

void vmig_log_write(struct vdev *d, uint64_t iova, size_t len)
{
	struct vmig *mg = d->mig;
	uint64_t last;

	if (!mg || !mg->log_on || !len || __builtin_add_overflow(iova, len - 1, &last))
		return;
	for (uint32_t k = 0; k < mg->nr_ranges; k++) {
		uint64_t s = iova > mg->ranges[k].start ? iova : mg->ranges[k].start;
		uint64_t e = last < mg->ranges[k].last ? last : mg->ranges[k].last;

		if (s > e)
			continue;
		for (uint64_t p = s / mg->log_page; p <= e / mg->log_page; p++) {
			size_t at = log_find(mg, p);

			if (at < mg->nr_pages && mg->pages[at] == p)
				continue;
			if (mg->nr_pages == mg->cap_pages) {
				size_t cap = mg->cap_pages ? mg->cap_pages * 2 : 64;
				uint64_t *np = realloc(mg->pages, cap * sizeof(*np));

				/* out of memory: the log is broken, REPORT says so
				 * (EIO, as mlx5's tracker in error) until a restart */
				if (!np) {
					mg->log_err = true;
					return;
				}
				mg->pages = np;
				mg->cap_pages = cap;
			}
			memmove(mg->pages + at + 1, mg->pages + at, (mg->nr_pages - at) * sizeof(*mg->pages));
			mg->pages[at] = p;
			mg->nr_pages++;
		}
	}
}
