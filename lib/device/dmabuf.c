// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dma-bufs of BARs for peer-to-peer DMA: VFIO_DEVICE_FEATURE_DMA_BUF
 * (drivers/vfio/pci/vfio_pci_dmabuf.c) and their IOAS mappings
 * (IOMMU_IOAS_MAP_FILE of the dma-buf, drivers/iommu/iommufd/pages.c
 * iopt_alloc_dmabuf_pages()).
 *
 * Revocation, as the kernel does it: vfio_pci_dma_buf_move(vdev, true) when
 * memory decoding is turned off (vfio_pci_config.c), around a reset
 * (function or hot), on low power entry, and for good when the device file
 * is closed (vfio_pci_dma_buf_cleanup()). iommufd's importer
 * (iopt_revoke_notify()) then unmaps the area from every domain and sets the
 * pages' length to 0: a state it never leaves. When decoding is back,
 * vfio_pci_dma_buf_move(vdev, false) un-revokes the dma-buf, so a new
 * IOAS_MAP_FILE of it works, but the old area stays in the IOAS without a
 * translation until it is unmapped. No kernel interface tells userspace that
 * an area was revoked, so the library counts the revocations it causes
 * itself (dev->revoke_epoch, bumped by config writes that clear memory
 * decoding, resets, low power entry; a hot reset bumps every device) and
 * reads the command register for the current state. What another path does
 * (a pwrite of the command register behind the library, another process's
 * hot reset) it cannot see once memory decoding is back on.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device-private.h"

#define DMABUF_MAX_RANGES 65536u
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2

/* a hot reset resets devices other handles stand for: every dma-buf sees it */
static unsigned int hot_reset_epoch;

void dev_dmabuf_revoke_all(void)
{
	__atomic_add_fetch(&hot_reset_epoch, 1, __ATOMIC_RELEASE);
}

void dev_dmabuf_config_write(struct iommufd_device *dev, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *b = buf;

	/* the command register's low byte holds memory space enable */
	if (off <= PCI_COMMAND && off + len > PCI_COMMAND && !(b[PCI_COMMAND - off] & PCI_COMMAND_MEMORY))
		dev_dmabuf_revoke(dev);
}

static uint64_t epoch_now(struct iommufd_device *dev)
{
	return (uint64_t)__atomic_load_n(&dev->revoke_epoch, __ATOMIC_ACQUIRE) << 32 |
	       __atomic_load_n(&hot_reset_epoch, __ATOMIC_ACQUIRE);
}

struct dmabuf_map {
	struct iommufd_ctx *ctx; /* ref */
	uint32_t ioas_id;
	uint32_t flags;          /* IOMMUFD_MAP_*, FIXED_IOVA included */
	uint64_t iova;
	uint64_t epoch;          /* epoch_now() when mapped */
	bool mapped;             /* false: a remap unmapped it and could not map it again */
};

struct iommufd_bar_dmabuf {
	struct iommufd_device *dev; /* ref */
	int fd;
	uint32_t bar;
	uint32_t nr_ranges;
	uint64_t size;
	pthread_mutex_t lock;       /* the mappings */
	struct dmabuf_map *maps;
	size_t nr_maps;
};

static struct iommufd_ctx *db_ctx(struct iommufd_device *dev)
{
	return iommufd_device_get_ctx(dev);
}

/* why the kernel refused the export: the request looked at again */
static const char *export_why(struct iommufd_device *dev, uint32_t bar,
			      const struct iommufd_dmabuf_range *ranges, uint32_t nr, int err,
			      char *buf, size_t len)
{
	struct iommufd_region_info info = { .sz = sizeof(info) };

	switch (err) {
	case EINVAL:
		if (iommufd_device_get_state(dev) == IOMMUFD_DEVICE_PARKED)
			return "the device is not bound (a VFIO device file answers nothing before BIND)";
		if (!nr)
			return "no range";
		for (uint32_t i = 0; i < nr; i++) {
			if (!ranges[i].length || ranges[i].offset % 4096 || ranges[i].length % 4096) {
				snprintf(buf, len, "range %u (offset %#" PRIx64 ", length %#" PRIx64
					 ") is empty or not page aligned", i, ranges[i].offset,
					 ranges[i].length);
				return buf;
			}
		}
		if (!iommufd_device_get_region_info(dev, bar, &info)) {
			for (uint32_t i = 0; i < nr; i++) {
				if (ranges[i].offset + ranges[i].length > info.size) {
					snprintf(buf, len, "range %u ends at %#" PRIx64
						 ", past the end of BAR %u (%#" PRIx64 " bytes)", i,
						 ranges[i].offset + ranges[i].length, bar, info.size);
					return buf;
				}
			}
		}
		return "the kernel refused the ranges (their total too large?)";
	case ENODEV:
		return "not a memory BAR the device has (vfio-pci claimed no resource for it), "
		       "or the device is going away";
	case EOVERFLOW:
		return "a range's end overflows the BAR's physical address";
	case EOPNOTSUPP:
		return "the device's VFIO driver cannot export its BARs (no p2p provider for it)";
	case ENOTTY:
		return "the kernel has no VFIO_DEVICE_FEATURE_DMA_BUF (CONFIG_VFIO_PCI_DMABUF off or "
		       "before Linux 6.19)";
	case EFAULT:
		return "the ranges are not readable";
	}
	return "the kernel refused";
}

IOMMUFD_EXPORT int iommufd_bar_dmabuf_export(struct iommufd_device *dev, uint32_t bar,
					     const struct iommufd_dmabuf_range *ranges,
					     uint32_t nr_ranges, uint32_t flags,
					     struct iommufd_bar_dmabuf **ret)
{
	struct kabi_vfio_device_feature_dma_buf *get;
	struct kabi_vfio_device_feature *f;
	struct iommufd_bar_dmabuf *db;
	char why[160];
	uint64_t size = 0;
	size_t sz;
	int r;

	if (!dev || !ret)
		return FAIL(NULL, EINVAL, "dev or ret is NULL");
	*ret = NULL;
	r = ifd_owner_check(dev->pid, db_ctx(dev), __func__, "device", dev->name);
	if (r)
		return r;
	if (flags)
		return FAIL(db_ctx(dev), EINVAL, "%s: flags 0x%x: none is defined", dev->name, flags);
	if (nr_ranges > DMABUF_MAX_RANGES || (nr_ranges && !ranges))
		return FAIL(db_ctx(dev), EINVAL, "%s: %u ranges at %p (at most %u)", dev->name, nr_ranges,
			    (const void *)ranges, DMABUF_MAX_RANGES);
	for (uint32_t i = 0; i < nr_ranges; i++)
		size += ranges[i].length; /* wraps only where the kernel refuses */
	sz = sizeof(*f) + sizeof(*get) + (size_t)nr_ranges * sizeof(get->dma_ranges[0]);
	f = calloc(1, sz);
	db = calloc(1, sizeof(*db));
	if (!f || !db) {
		free(f);
		free(db);
		return FAIL(db_ctx(dev), ENOMEM, "%s: %u ranges", dev->name, nr_ranges);
	}
	f->argsz = (uint32_t)sz;
	f->flags = KABI_VFIO_DEVICE_FEATURE_DMA_BUF | KABI_VFIO_DEVICE_FEATURE_GET;
	get = (struct kabi_vfio_device_feature_dma_buf *)f->data;
	get->region_index = bar;
	get->open_flags = O_RDWR | O_CLOEXEC;
	get->nr_ranges = nr_ranges;
	for (uint32_t i = 0; i < nr_ranges; i++) {
		get->dma_ranges[i].offset = ranges[i].offset;
		get->dma_ranges[i].length = ranges[i].length;
	}
	r = dev_ioctl(dev, KABI_VFIO_DEVICE_FEATURE, f);
	free(f);
	if (r < 0) {
		free(db);
		return FAIL(db_ctx(dev), r, "%s: VFIO_DEVICE_FEATURE(DMA_BUF GET, BAR %u, %u ranges): %s",
			    dev->name, bar, nr_ranges,
			    export_why(dev, bar, ranges, nr_ranges, -r, why, sizeof(why)));
	}
	db->fd = r;
	db->dev = iommufd_device_ref(dev);
	db->bar = bar;
	db->nr_ranges = nr_ranges;
	db->size = size;
	pthread_mutex_init(&db->lock, NULL);
	*ret = db;
	return 0;
}

IOMMUFD_EXPORT int iommufd_bar_dmabuf_get_fd(const struct iommufd_bar_dmabuf *db)
{
	return db ? db->fd : -EINVAL;
}

IOMMUFD_EXPORT uint64_t iommufd_bar_dmabuf_get_size(const struct iommufd_bar_dmabuf *db)
{
	return db ? db->size : 0;
}

/*
 * The map's failure explained for a dma-buf; the errno is map_file's, whose
 * own reason (type1 mode, a used IOVA...) is copied to buf and returned
 * otherwise.
 */
static const char *map_why(const struct iommufd_bar_dmabuf *db, const struct iommufd_ctx *ctx, int err,
			   char *buf, size_t len)
{
	if (err == ENODEV)
		return "the dma-buf is revoked: the exporter's memory decoding is off (or it is in "
		       "reset or low power, or its file was closed)";
	if (err == EOPNOTSUPP && db->nr_ranges > 1 && iommufd_ctx_get_mode(ctx) != IOMMUFD_MODE_TYPE1)
		return "iommufd maps only a dma-buf of one range (vfio_pci_dma_buf_iommufd_map())";
	snprintf(buf, len, "%s", iommufd_last_error());
	return buf;
}

IOMMUFD_EXPORT int iommufd_bar_dmabuf_map(struct iommufd_bar_dmabuf *db, struct iommufd_ctx *ctx,
					  uint32_t ioas_id, uint64_t *iova, uint32_t flags)
{
	struct dmabuf_map *maps;
	char why[512];
	uint64_t epoch;
	int r;

	if (!db || !ctx || !iova)
		return FAIL(ctx, EINVAL, "db, ctx or iova is NULL");
	r = ifd_owner_check(db->dev->pid, ctx, __func__, "device", db->dev->name);
	if (r)
		return r;
	if (flags & ~(IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE))
		return FAIL(ctx, EINVAL, "%s: flags 0x%x: only IOMMUFD_MAP_*", db->dev->name, flags);
	pthread_mutex_lock(&db->lock);
	maps = realloc(db->maps, (db->nr_maps + 1) * sizeof(*maps));
	if (!maps) {
		pthread_mutex_unlock(&db->lock);
		return FAIL(ctx, ENOMEM, "%s: mapping %zu", db->dev->name, db->nr_maps);
	}
	db->maps = maps;
	epoch = epoch_now(db->dev);
	r = iommufd_ioas_map_file(ctx, ioas_id, db->fd, 0, db->size, iova, flags);
	if (r) {
		pthread_mutex_unlock(&db->lock);
		return FAIL(ctx, -r, "%s: dma-buf of BAR %u (%#" PRIx64 " bytes) into IOAS %u: %s",
			    db->dev->name, db->bar, db->size, ioas_id, map_why(db, ctx, -r, why, sizeof(why)));
	}
	maps[db->nr_maps++] = (struct dmabuf_map){
		.ctx = iommufd_ctx_ref(ctx),
		.ioas_id = ioas_id,
		.flags = flags | IOMMUFD_MAP_FIXED_IOVA,
		.iova = *iova,
		.epoch = epoch,
		.mapped = true,
	};
	pthread_mutex_unlock(&db->lock);
	return 0;
}

/* the caller holds db->lock */
static void map_forget(struct iommufd_bar_dmabuf *db, size_t i)
{
	iommufd_ctx_unref(db->maps[i].ctx);
	db->maps[i] = db->maps[--db->nr_maps];
}

IOMMUFD_EXPORT int iommufd_bar_dmabuf_unmap(struct iommufd_bar_dmabuf *db, struct iommufd_ctx *ctx,
					    uint32_t ioas_id, uint64_t iova)
{
	bool gone = false;
	int r = -ENOENT;

	if (!db || !ctx)
		return FAIL(ctx, EINVAL, "db or ctx is NULL");
	pthread_mutex_lock(&db->lock);
	for (size_t i = 0; i < db->nr_maps; i++) {
		struct dmabuf_map *m = &db->maps[i];

		if (m->ctx != ctx || m->ioas_id != ioas_id || m->iova != iova)
			continue;
		r = m->mapped ? iommufd_ioas_unmap(ctx, ioas_id, iova, db->size, NULL) : 0;
		/* ENOENT: unmapped behind the handle; the record goes too */
		gone = r == -ENOENT;
		if (!r || gone)
			map_forget(db, i);
		break;
	}
	pthread_mutex_unlock(&db->lock);
	if (gone)
		return FAIL(ctx, ENOENT, "%s: the dma-buf's mapping at IOAS %u IOVA %#" PRIx64
			    " was unmapped behind the handle; forgotten now", db->dev->name, ioas_id, iova);
	if (r == -ENOENT)
		return FAIL(ctx, ENOENT, "%s: no mapping of the dma-buf at IOAS %u IOVA %#" PRIx64,
			    db->dev->name, ioas_id, iova);
	return r; /* iommufd_ioas_unmap() recorded its reason */
}

/* memory decoding of the exporter, now: 1 on, 0 off, or -errno */
static int memory_on(struct iommufd_bar_dmabuf *db, const char *func)
{
	uint32_t cmd;
	int r = iommufd_device_config_read(db->dev, PCI_COMMAND, 2, &cmd);

	if (r)
		return ifd_fail(db_ctx(db->dev), func, -r, "%s: reading the command register: %s",
				db->dev->name, iommufd_last_error());
	return !!(cmd & PCI_COMMAND_MEMORY);
}

IOMMUFD_EXPORT int iommufd_bar_dmabuf_get_state(struct iommufd_bar_dmabuf *db,
						enum iommufd_dmabuf_state *state)
{
	enum iommufd_dmabuf_state s = IOMMUFD_DMABUF_LIVE;
	uint64_t epoch;
	int r;

	if (!db || !state)
		return FAIL(NULL, EINVAL, "db or state is NULL");
	r = memory_on(db, __func__);
	if (r < 0)
		return r;
	epoch = epoch_now(db->dev);
	pthread_mutex_lock(&db->lock);
	for (size_t i = 0; i < db->nr_maps; i++)
		if (db->maps[i].epoch != epoch || !db->maps[i].mapped)
			s = IOMMUFD_DMABUF_STALE;
	pthread_mutex_unlock(&db->lock);
	if (__atomic_load_n(&db->dev->dmabuf_low_power, __ATOMIC_ACQUIRE))
		r = 0;
	*state = r ? s : IOMMUFD_DMABUF_REVOKED;
	return 0;
}

IOMMUFD_EXPORT int iommufd_bar_dmabuf_remap(struct iommufd_bar_dmabuf *db, uint32_t flags, uint32_t *nr)
{
	uint32_t done = 0;
	char why[512];
	uint64_t epoch;
	int r;

	if (nr)
		*nr = 0;
	if (!db)
		return FAIL(NULL, EINVAL, "db is NULL");
	if (flags & ~IOMMUFD_DMABUF_REMAP_ALL)
		return FAIL(db_ctx(db->dev), EINVAL, "%s: flags 0x%x: only IOMMUFD_DMABUF_REMAP_ALL",
			    db->dev->name, flags);
	if (__atomic_load_n(&db->dev->dmabuf_low_power, __ATOMIC_ACQUIRE))
		return FAIL(db_ctx(db->dev), ENODEV,
			    "%s: the dma-buf is revoked: the exporter is in low power "
			    "(iommufd_device_low_power_exit() ends it)", db->dev->name);
	r = memory_on(db, __func__);
	if (r < 0)
		return r;
	if (!r)
		return FAIL(db_ctx(db->dev), ENODEV,
			    "%s: the dma-buf is revoked: memory decoding of the exporter is off", db->dev->name);
	pthread_mutex_lock(&db->lock);
	epoch = epoch_now(db->dev);
	for (size_t i = 0; i < db->nr_maps; i++) {
		struct dmabuf_map *m = &db->maps[i];
		uint64_t iova = m->iova;

		if (m->mapped && m->epoch == epoch && !(flags & IOMMUFD_DMABUF_REMAP_ALL))
			continue;
		if (m->mapped) {
			r = iommufd_ioas_unmap(m->ctx, m->ioas_id, m->iova, db->size, NULL);
			if (r)
				break;
			m->mapped = false;
		}
		r = iommufd_ioas_map_file(m->ctx, m->ioas_id, db->fd, 0, db->size, &iova, m->flags);
		if (r) {
			r = ifd_fail(m->ctx, __func__, -r, "%s: dma-buf of BAR %u at IOAS %u IOVA %#" PRIx64
				     " (now unmapped, retried by the next remap): %s", db->dev->name, db->bar,
				     m->ioas_id, m->iova, map_why(db, m->ctx, -r, why, sizeof(why)));
			break;
		}
		m->mapped = true;
		m->epoch = epoch;
		done++;
	}
	pthread_mutex_unlock(&db->lock);
	if (nr)
		*nr = done;
	return r < 0 ? r : 0;
}

IOMMUFD_EXPORT void iommufd_bar_dmabuf_free(struct iommufd_bar_dmabuf *db)
{
	if (!db)
		return;
	while (db->nr_maps) {
		struct dmabuf_map *m = &db->maps[db->nr_maps - 1];

		if (m->mapped)
			(void)iommufd_ioas_unmap(m->ctx, m->ioas_id, m->iova, db->size, NULL);
		map_forget(db, db->nr_maps - 1);
	}
	free(db->maps);
	be_close(db->dev->be, db->fd);
	iommufd_device_unref(db->dev);
	pthread_mutex_destroy(&db->lock);
	free(db);
}
