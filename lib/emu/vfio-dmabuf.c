// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VFIO_DEVICE_FEATURE_DMA_BUF of the emulated vfio-pci devices and the
 * revocation of their dma-bufs (drivers/vfio/pci/vfio_pci_dmabuf.c).
 *
 * The export checks the request in vfio_pci_core_feature_dma_buf()'s order
 * and errno. The dma-buf the program gets is a memfd of the dma-buf's size
 * that the emulator knows by its inode (struct emu_dmabuf, as the selftest's
 * DMABUF_GET): IOMMU_IOAS_MAP_FILE of it (lib/emu/ioas.c) maps BAR0's own
 * memfd at the range's offset as dma-buf pages, so an emulated device's DMA
 * through that IOVA lands in the peer's BAR0 and its model sees the stores
 * as if the CPU had made them. The memfd's own contents mean nothing.
 *
 * Revocation as vfio_pci_dma_buf_move(): memory decoding off in the command
 * register, around a function reset, a hot reset or an FLR, in low power,
 * and for good at the last close of the device (vfio_pci_dma_buf_cleanup()).
 * A revoked dma-buf refuses new mappings (ENODEV); the mappings made before
 * lose their translation for good (iopt_io_file_revoke(), as iommufd's
 * iopt_revoke_notify() leaves them): DMA through them faults, even once
 * decoding is back. The emulator keeps a reference to each dma-buf's memfd
 * (so that its inode is never reused while the record exists) and drops the
 * records whose memfd the program no longer has open at the next export
 * (dmabuf_gc()): as the kernel releases a dma-buf at its last fput.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu.h"
#include "iopt.h"
#include "vfio.h"

#define PAGE_MASK_ (EMU_PAGE_SIZE - 1)
/* where the emulated BAR0s sit in "physical" memory: only overflow checks see it */
#define BAR_PHYS_BASE 0xfe000000ull
/* kmalloc's largest: memdup_array_user() of more fails */
#define KMALLOC_MAX (4ull << 20)
/* DMA_IOVA_USE_SWIOTLB: a dma-buf size with it set is refused */
#define DMA_IOVA_USE_SWIOTLB (1ull << 63)

/* validate_dmabuf_input() */
static int validate(const struct kabi_vfio_region_dma_range *r, uint32_t nr, uint64_t *lengthp)
{
	uint64_t length = 0;

	for (uint32_t i = 0; i < nr; i++) {
		if (!r[i].length || (r[i].offset & PAGE_MASK_) || (r[i].length & PAGE_MASK_))
			return -EINVAL;
		if (__builtin_add_overflow(length, r[i].length, &length))
			return -EINVAL;
	}
	if (length & DMA_IOVA_USE_SWIOTLB)
		return -EINVAL;
	*lengthp = length;
	return 0;
}

/* vfio_pci_core_fill_phys_vec() against BAR0 */
static int fill_phys(const struct vdev *d, const struct kabi_vfio_region_dma_range *r, uint32_t nr)
{
	uint64_t max = BAR_PHYS_BASE + d->bar0_size;

	for (uint32_t i = 0; i < nr; i++) {
		uint64_t paddr, end;

		if (!r[i].length)
			return -EINVAL;
		if (__builtin_add_overflow(BAR_PHYS_BASE, r[i].offset, &paddr) ||
		    __builtin_add_overflow(paddr, r[i].length, &end))
			return -EOVERFLOW;
		if (end > max)
			return -EINVAL;
	}
	return 0;
}

/* how many fds of the process hold the file (dev, ino): raw system calls, below
 * the preload library's view of /proc */
static int fds_holding(dev_t dev, ino_t ino)
{
	char buf[4096];
	int dir = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int n = 0;
	long len;

	if (dir < 0)
		return -1;
	while ((len = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < len;) {
			struct dirent64 *e = (struct dirent64 *)(buf + off);
			struct stat st;

			off += e->d_reclen;
			if (e->d_name[0] == '.' || atoi(e->d_name) == dir)
				continue;
			if (!syscall(SYS_newfstatat, dir, e->d_name, &st, 0) && st.st_dev == dev &&
			    st.st_ino == ino)
				n++;
		}
	}
	close(dir);
	return len < 0 ? -1 : n;
}

/* drop the vfio dma-bufs the program closed: only the emulator's fd holds them */
static void dmabuf_gc(struct iommufd_emu *emu)
{
	for (struct emu_dmabuf **p = &emu->dmabufs; *p;) {
		struct emu_dmabuf *db = *p;

		if (db->vfio && fds_holding(db->dev, db->ino) == 1) {
			*p = db->next;
			close(db->fd);
			free(db);
			continue;
		}
		p = &db->next;
	}
}

/* a memfd the emulator knows as d's dma-buf; the program's fd or -errno */
static int dmabuf_new(struct vdev *d, const struct kabi_vfio_device_feature_dma_buf *get,
		      const struct kabi_vfio_region_dma_range *r, uint64_t length)
{
	struct iommufd_emu *emu = d->emu;
	struct emu_dmabuf *db;
	struct stat st;
	int fd;

	dmabuf_gc(emu);
	/* an IOAS may map it for another device's DMA, whose stores into
	 * BAR0 reach the model through the device-model thread */
	d->bar0_dmabuf = true;
	d->bar0_ones = false;
	if (d->svc) {
		int err = vsvc_exposed(d->svc, d);

		if (err)
			return err;
	}
	db = emu_zalloc(emu, sizeof(*db));
	if (!db)
		return -ENOMEM;
	fd = memfd_create("dmabuf", get->open_flags & O_CLOEXEC ? MFD_CLOEXEC : 0);
	if (fd < 0 || ftruncate(fd, (off_t)length) < 0 || fstat(fd, &st) < 0)
		goto fail;
	db->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (db->fd < 0)
		goto fail;
	db->dev = st.st_dev;
	db->ino = st.st_ino;
	db->size = length;
	db->vdev = d;
	db->vfio = true;
	db->map_fd = d->bar0_fd;
	db->nr_ranges = get->nr_ranges;
	db->bar_offset = r[0].offset;
	db->revoked = !vdev_mem_enabled(d);
	db->next = emu->dmabufs;
	emu->dmabufs = db;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	free(db);
	return -ENOMEM;
}

/* vfio_pci_core_feature_dma_buf() */
int vdev_feature_dma_buf(struct vdev *d, uint32_t flags, uint64_t uarg, size_t argsz)
{
	struct kabi_vfio_device_feature_dma_buf get;
	struct kabi_vfio_region_dma_range *r;
	uint64_t length;
	size_t rsz;
	int ret = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_GET, sizeof(get));

	if (ret != 1)
		return ret;
	if (emu_copy_from_user(&get, uarg, sizeof(get)))
		return -EFAULT;
	if (!get.nr_ranges || get.flags)
		return -EINVAL;
	/* the BARs: BAR0 alone has a resource (the NVMe's BAR1 is its upper half) */
	if (get.region_index >= KABI_VFIO_PCI_ROM_REGION_INDEX ||
	    get.region_index != KABI_VFIO_PCI_BAR0_REGION_INDEX)
		return -ENODEV;
	rsz = (size_t)get.nr_ranges * sizeof(*r);
	if (rsz > KMALLOC_MAX)
		return -ENOMEM;
	r = emu_zalloc(d->emu, rsz);
	if (!r)
		return -ENOMEM;
	if (emu_copy_from_user(r, uarg + sizeof(get), rsz)) {
		ret = -EFAULT;
		goto out;
	}
	ret = validate(r, get.nr_ranges, &length);
	if (ret)
		goto out;
	ret = fill_phys(d, r, get.nr_ranges);
	if (ret)
		goto out;
	ret = dmabuf_new(d, &get, r, length);
out:
	free(r);
	return ret;
}

/* vfio_pci_dma_buf_move() */
void vdev_dmabuf_move(struct vdev *d, bool revoked)
{
	bool any = false;

	for (struct emu_dmabuf *db = d->emu->dmabufs; db; db = db->next) {
		if (db->vdev != d || db->revoked == revoked)
			continue;
		db->revoked = revoked;
		any |= revoked;
	}
	/* the mappings made so far lose their translation (iopt_revoke_notify()) */
	if (any)
		(void)iopt_io_file_revoke(d->bar0_fd);
}

/* un-revoke when memory decoding is on: the end of a reset or low power */
void vdev_dmabuf_restore(struct vdev *d)
{
	if (vdev_mem_enabled(d))
		vdev_dmabuf_move(d, false);
}

/* vfio_pci_dma_buf_cleanup(): the last close; revoked for good */
void vdev_dmabuf_cleanup(struct vdev *d)
{
	vdev_dmabuf_move(d, true);
	for (struct emu_dmabuf *db = d->emu->dmabufs; db; db = db->next)
		if (db->vdev == d)
			db->vdev = NULL;
}
