/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internals of lib/device/: the device and group handles. */
#ifndef IOMMUFD_DEVICE_PRIVATE_H
#define IOMMUFD_DEVICE_PRIVATE_H

#include "private.h"

#define DEV_REGION_CACHE 16

/*
 * The device and group constructors take a context as their scope: the
 * device lives on the system below that context's kernel boundary, and a
 * device made there inherits its backend. Checks ctx like every entry point
 * on a context (-EINVAL NULL, -ECHILD after fork) and gives its backend.
 */
int ifd_scope_backend(struct iommufd_ctx *ctx, const char *func, struct iommufd_backend **be);

struct dev_pasid {
	uint32_t pasid;
	uint32_t hwpt_id;
};

struct iommufd_device {
	int refcount; /* atomic */
	pid_t pid;
	struct iommufd_backend *be;
	int fd;                   /* -1: a type1-mode device before bind (it has no file yet) */
	/* which open file fd was when the handle took it: closed at the
	 * last unref only if the number still holds that file */
	bool fd_id_valid;
	dev_t fd_dev, fd_rdev;
	ino_t fd_ino;
	bool group_path;
	bool noiommu;             /* of a no-IOMMU group: its DMA is not translated */
	bool t1;                  /* opened in a type1 context: joins the container through group_nr */
	int group_nr;
	/* opened by address in an iommufd context, of a no-IOMMU group (it has
	 * no cdev): bind reaches it through /dev/vfio/noiommu-<group_nr>, whose
	 * group handle it holds from then on */
	bool noiommu_open;
	struct iommufd_group *noiommu_grp;
	char name[64]; /* for messages: "vfio0", "fd 7", "0000:00:02.0" */
	/* bumped (atomic) by every call through which the kernel revokes the
	 * device's dma-bufs (lib/device/dmabuf.c) */
	unsigned int revoke_epoch;
	/* in low power entered through the library: the kernel keeps the
	 * dma-bufs revoked until LOW_POWER_EXIT (atomic) */
	bool dmabuf_low_power;

	pthread_mutex_t lock; /* guards the fields below and serialises transitions */
	enum iommufd_device_state state;
	struct iommufd_ctx *ctx; /* ref while bound */
	uint32_t dev_id;
	uint32_t pt_id;
	struct dev_pasid *pasids; /* sorted by pasid */
	size_t nr_pasids;
	/* region info cache (kernel answers only; valid while bound) */
	struct {
		bool valid;
		uint32_t flags;
		uint64_t size;
		uint64_t offset;
		/* the mmap rule of its capability chain (iommufd_device_region_mmap) */
		bool caps_valid;
		bool sparse;      /* sparse mmap areas and no MSI-X mappable */
		uint32_t nr_areas;
		struct iommufd_region_area *areas; /* owned */
	} regions[DEV_REGION_CACHE];
};

struct iommufd_group {
	int refcount; /* atomic */
	pid_t pid;
	struct iommufd_backend *be;
	int fd;
	bool noiommu;  /* /dev/vfio/noiommu-<N> */
	char path[128];
	pthread_mutex_t lock;
	struct iommufd_ctx *ctx; /* ref while set */
};

/*
 * The kernel revokes every dma-buf of the device (drivers/vfio/pci/
 * vfio_pci_dmabuf.c vfio_pci_dma_buf_move()): memory decoding turned off,
 * a reset, low power. A dma-buf's IOAS mappings made before stay empty
 * (lib/device/dmabuf.c). dev_dmabuf_revoke_all(): a hot reset, which resets
 * devices the library may hold other handles of.
 */
static inline void dev_dmabuf_revoke(struct iommufd_device *dev)
{
	__atomic_add_fetch(&dev->revoke_epoch, 1, __ATOMIC_RELEASE);
}
static inline void dev_dmabuf_low_power(struct iommufd_device *dev, bool in)
{
	if (in)
		dev_dmabuf_revoke(dev);
	__atomic_store_n(&dev->dmabuf_low_power, in, __ATOMIC_RELEASE);
}
void dev_dmabuf_revoke_all(void);
/* a write of len bytes at off of the config space clears memory decoding */
void dev_dmabuf_config_write(struct iommufd_device *dev, uint64_t off, const void *buf, size_t len);

int ifd_device_alloc(struct iommufd_backend *be, int fd, const char *name, struct iommufd_device **ret);
/*
 * Is fd (of be) a VFIO device file, and bound? 1 bound (or opened through
 * its group), 0 parked, or a negative errno recorded under func on ctx
 * (-ENOTTY: not a VFIO device file). It changes nothing of the file.
 */
int ifd_vfio_fd_bound(struct iommufd_backend *be, const struct iommufd_ctx *ctx, const char *func, int fd);

/*
 * VFIO_DEVICE_FEATURE of feature with kflags (GET/SET/PROBE) and len bytes of
 * data (copied back when out), on the device's file; a failure is recorded
 * under func with the kernel's reason (feature.c).
 */
int ifd_feature_ioctl(struct iommufd_device *dev, const char *func, uint32_t feature,
		      uint32_t kflags, void *data, size_t len, bool out);

/*
 * The calls on the device's file. A type1-mode device has none before bind
 * (GET_DEVICE_FD makes it): like a parked cdev file, it answers EINVAL.
 */
static inline int dev_ioctl(const struct iommufd_device *dev, unsigned long req, void *arg)
{
	if (dev->fd < 0)
		return -EINVAL;
	return be_ioctl(dev->be, dev->fd, req, arg);
}

static inline ssize_t dev_pread(const struct iommufd_device *dev, void *buf, size_t len, off_t off)
{
	if (dev->fd < 0)
		return -EINVAL;
	return be_pread(dev->be, dev->fd, buf, len, off);
}

static inline ssize_t dev_pwrite(const struct iommufd_device *dev, const void *buf, size_t len, off_t off)
{
	if (dev->fd < 0)
		return -EINVAL;
	return be_pwrite(dev->be, dev->fd, buf, len, off);
}

static inline int dev_mmap(const struct iommufd_device *dev, off_t off, size_t len, int prot, int flags,
			   void **addr)
{
	if (dev->fd < 0)
		return -EINVAL;
	return be_mmap(dev->be, dev->fd, off, len, prot, flags, addr);
}

#endif
