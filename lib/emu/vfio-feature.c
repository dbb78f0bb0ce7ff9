// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VFIO_DEVICE_FEATURE of the emulated vfio-pci devices, in the kernel's
 * order: the core's checks and the features it answers itself
 * (drivers/vfio/vfio_main.c vfio_ioctl_device_feature(): migration and DMA
 * logging, which need a migration driver: ENOTTY on vfio-pci, and
 * vfio-migration.c for a device added with one), then
 * vfio-pci's (drivers/vfio/pci/vfio_pci_core.c vfio_pci_core_ioctl_feature():
 * the low power features, the VF token of an SR-IOV PF, DMA_BUF), each
 * through vfio_check_feature() (include/linux/vfio.h).
 *
 * Runtime PM is modelled as vfio-pci leaves it in the VM: after a low power
 * entry the device suspends at once, and the next device ioctl resumes it
 * (vfio_device_pm_runtime_get()); a resume with a wake-up eventfd signals it
 * and ends the low power state (vfio_pci_core_runtime_resume()). What is not
 * modelled: the BAR mmaps stay usable while in low power (the kernel zaps
 * them). DMA_BUF is lib/emu/vfio-dmabuf.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu.h"
#include "vfio.h"

/* include/linux/vfio.h vfio_check_feature() */
int vdev_check_feature(uint32_t flags, size_t argsz, uint32_t supported_ops, size_t minsz)
{
	if ((flags & (KABI_VFIO_DEVICE_FEATURE_GET | KABI_VFIO_DEVICE_FEATURE_SET)) & ~supported_ops)
		return -EINVAL;
	if (flags & KABI_VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!(flags & (KABI_VFIO_DEVICE_FEATURE_GET | KABI_VFIO_DEVICE_FEATURE_SET)))
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}

/*
 * eventfd_ctx_fdget(): -EBADF for a closed fd, -EINVAL for a file that is
 * not an eventfd. The emulator's own files are eventfds underneath, so
 * they are refused first; a real fd is an eventfd if /proc says so (a raw
 * system call: the preload library's readlink() would answer for the
 * emulator's /proc view).
 */
static int eventfd_check(struct iommufd_emu *emu, int fd)
{
	char path[64], link[64];
	long n;

	if (!emu_fd_is_open(emu, fd))
		return -EBADF;
	if (emu_file_lookup(emu, fd))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = syscall(SYS_readlinkat, AT_FDCWD, path, link, sizeof(link) - 1);
	if (n < 0)
		return -EINVAL;
	link[n] = 0;
	return strcmp(link, "anon_inode:[eventfd]") ? -EINVAL : 0;
}

/* vfio_pci_runtime_pm_entry() */
static int pm_entry(struct vdev *d, int wake_fd)
{
	vdev_dmabuf_move(d, true); /* before the check, as vfio_pci_runtime_pm_entry() */
	if (d->pm_engaged)
		return -EINVAL;
	d->pm_engaged = true;
	d->pm_wake_fd = wake_fd;
	return 0;
}

void vdev_pm_clear(struct vdev *d)
{
	if (d->pm_wake_fd >= 0)
		close(d->pm_wake_fd);
	d->pm_wake_fd = -1;
	d->pm_engaged = false;
}

void vdev_pm_resume(struct vdev *d)
{
	struct pollfd p;
	uint64_t one = 1;

	/* without an eventfd the device stays in low power between accesses */
	if (!d->pm_engaged || d->pm_wake_fd < 0)
		return;
	/* eventfd_signal() never blocks: a full counter (the caller's eventfd may
	 * be blocking) stays as it is */
	p = (struct pollfd){ .fd = d->pm_wake_fd, .events = POLLOUT };
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT))
		(void)!write(d->pm_wake_fd, &one, sizeof(one));
	vdev_pm_clear(d);
}

static int feature_low_power_wakeup(struct vdev *d, uint32_t flags, uint64_t uarg, size_t argsz)
{
	struct kabi_vfio_device_low_power_entry_with_wakeup entry;
	int r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_SET, sizeof(entry));
	int fd;

	if (r != 1)
		return r;
	if (emu_copy_from_user(&entry, uarg, sizeof(entry)))
		return -EFAULT;
	if (entry.wakeup_eventfd < 0)
		return -EINVAL;
	r = eventfd_check(d->emu, entry.wakeup_eventfd);
	if (r)
		return r;
	fd = fcntl(entry.wakeup_eventfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return -ENOMEM;
	r = pm_entry(d, fd);
	if (r)
		close(fd);
	return r;
}

/* vfio_pci_core_ioctl_feature() */
static int pci_feature(struct vdev *d, uint32_t flags, uint64_t uarg, size_t argsz)
{
	int r;

	switch (flags & KABI_VFIO_DEVICE_FEATURE_MASK) {
	case KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
		r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_SET, 0);
		return r != 1 ? r : pm_entry(d, -1);
	case KABI_VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		return feature_low_power_wakeup(d, flags, uarg, argsz);
	case KABI_VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_SET, 0);
		if (r != 1)
			return r;
		vdev_pm_clear(d);
		/* vfio_pci_runtime_pm_exit(); a resume with a wake-up eventfd
		 * (vdev_pm_resume) leaves the dma-bufs revoked, as
		 * vfio_pci_core_runtime_resume() does */
		vdev_dmabuf_restore(d);
		return 0;
	case KABI_VFIO_DEVICE_FEATURE_PCI_VF_TOKEN: {
		/* vfio_pci_core_feature_token(): a PF's, SET only (a GET would
		 * show the token of the previous user) */
		uint8_t uuid[16];

		if (!d->sriov)
			return -ENOTTY;
		r = vdev_check_feature(flags, argsz, KABI_VFIO_DEVICE_FEATURE_SET, sizeof(uuid));
		if (r != 1)
			return r;
		if (emu_copy_from_user(uuid, uarg, sizeof(uuid)))
			return -EFAULT;
		vsriov_set_token(d, uuid);
		return 0;
	}
	case KABI_VFIO_DEVICE_FEATURE_DMA_BUF:
		return vdev_feature_dma_buf(d, flags, uarg, argsz); /* vfio-dmabuf.c */
	}
	return -ENOTTY; /* BUS_MASTER is vfio-cdx's */
}

int vdev_feature(struct vdev *d, void *arg)
{
	struct kabi_vfio_device_feature f;
	const size_t minsz = sizeof(f);
	uint64_t uarg = (uintptr_t)arg + minsz;
	size_t argsz;

	if (emu_copy_from_user(&f, (uintptr_t)arg, minsz))
		return -EFAULT;
	if (f.argsz < minsz)
		return -EINVAL;
	if (f.flags & ~(KABI_VFIO_DEVICE_FEATURE_MASK | KABI_VFIO_DEVICE_FEATURE_SET |
			KABI_VFIO_DEVICE_FEATURE_GET | KABI_VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	if (!(f.flags & KABI_VFIO_DEVICE_FEATURE_PROBE) && (f.flags & KABI_VFIO_DEVICE_FEATURE_SET) &&
	    (f.flags & KABI_VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;
	argsz = f.argsz - minsz;
	switch (f.flags & KABI_VFIO_DEVICE_FEATURE_MASK) {
	case KABI_VFIO_DEVICE_FEATURE_MIGRATION:
	case KABI_VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
	case KABI_VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
	case KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
	case KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
	case KABI_VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
	case KABI_VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2:
		/* the core's, for a driver with mig_ops/log_ops (vfio-migration.c);
		 * vfio-pci has none: ENOTTY, and EINVAL for PRECOPY_INFOv2 */
		return vmig_feature(d, f.flags, uarg, argsz);
	}
	return pci_feature(d, f.flags, uarg, argsz);
}
