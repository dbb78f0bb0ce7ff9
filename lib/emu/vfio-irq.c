// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VFIO_DEVICE_SET_IRQS of the emulated vfio-pci devices, by the rules of
 * drivers/vfio/pci/vfio_pci_intrs.c: vfio_set_irqs_validate_and_prepare()
 * (drivers/vfio/vfio_main.c) checks the header against the index's vector
 * count, then vfio_pci_set_irqs_ioctl() picks the handler of (index,
 * action), -ENOTTY when there is none.
 *
 * INTx, MSI and MSI-X exclude each other (d->irq_index, -1: none). INTx is
 * automasked: a raise signals the eventfd and masks the line; a raise while
 * masked is left pending and signalled on unmask. ERR and REQ each hold one
 * eventfd of their own, beside the enabled type.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"
#include "vfio.h"

static void signal_fd(struct vdev *d, int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) == sizeof(one))
		d->irqs_raised++;
}

static void type_clear(struct vdev *d)
{
	for (uint32_t i = 0; i < d->nr_irq_fds; i++)
		if (d->irq_fds[i] >= 0)
			close(d->irq_fds[i]);
	free(d->irq_fds);
	d->irq_fds = NULL;
	d->nr_irq_fds = 0;
	d->irq_index = -1;
	d->intx_masked = false;
	d->intx_pending = false;
}

void vdev_irqs_clear(struct vdev *d)
{
	type_clear(d);
	if (d->err_fd >= 0)
		close(d->err_fd);
	if (d->req_fd >= 0)
		close(d->req_fd);
	d->err_fd = -1;
	d->req_fd = -1;
}

void vdev_irq_raise(struct vdev *d, uint32_t vector)
{
	if (d->irq_index < 0 || vector >= d->nr_irq_fds)
		return;
	if (d->irq_index == KABI_VFIO_PCI_INTX_IRQ_INDEX) {
		if (d->intx_masked) {
			d->intx_pending = true;
			return;
		}
		d->intx_masked = true; /* automasked until the driver unmasks */
	}
	signal_fd(d, d->irq_fds[vector]);
}

/*
 * Whether fd is an eventfd: its /proc link names the eventfd anon inode.
 * Without /proc, any anonymous inode (no file type in st_mode) passes.
 */
static bool is_eventfd(int fd)
{
	static const char want[] = "anon_inode:[eventfd]";
	char path[64], link[sizeof(want)];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link));
	if (n >= 0)
		return n == (ssize_t)sizeof(want) - 1 && !memcmp(link, want, sizeof(want) - 1);
	return errno == ENOENT && !fstat(fd, &st) && !(st.st_mode & S_IFMT);
}

/*
 * A dup of the caller's eventfd, or -errno as eventfd_ctx_fdget() gives it
 * (fs/eventfd.c): EBADF for a closed number, EINVAL for a file that is not
 * an eventfd.
 */
static int fd_take(int32_t fd)
{
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);

	if (nfd < 0)
		return -EBADF;
	if (!is_eventfd(nfd)) {
		close(nfd);
		return -EINVAL;
	}
	return nfd;
}

static int type_enable(struct vdev *d, uint32_t index, uint32_t nvec)
{
	d->irq_fds = calloc(nvec, sizeof(int));
	if (!d->irq_fds)
		return -ENOMEM;
	for (uint32_t i = 0; i < nvec; i++)
		d->irq_fds[i] = -1;
	d->nr_irq_fds = nvec;
	d->irq_index = (int)index;
	return 0;
}

static void intx_unmask(struct vdev *d)
{
	d->intx_masked = false;
	if (d->intx_pending) {
		d->intx_pending = false;
		vdev_irq_raise(d, 0);
	}
}

/* vfio_pci_set_intx_mask / _unmask */
static int intx_mask(struct vdev *d, bool unmask, uint32_t start, uint32_t count, uint32_t flags,
		     const uint8_t *data)
{
	if (d->irq_index != KABI_VFIO_PCI_INTX_IRQ_INDEX || start != 0 || count != 1)
		return -EINVAL;
	if (flags & KABI_VFIO_IRQ_SET_DATA_EVENTFD)
		return -ENOTTY; /* an unmask irqfd: not modelled (the kernel has no mask one) */
	if ((flags & KABI_VFIO_IRQ_SET_DATA_BOOL) && !data[0])
		return 0;
	if (unmask)
		intx_unmask(d);
	else
		d->intx_masked = true;
	return 0;
}

/* vfio_pci_set_intx_trigger */
static int intx_trigger(struct vdev *d, uint32_t start, uint32_t count, uint32_t flags,
			const uint8_t *data)
{
	bool is_intx = d->irq_index == KABI_VFIO_PCI_INTX_IRQ_INDEX;
	int32_t fd;
	int r;

	if (is_intx && !count && (flags & KABI_VFIO_IRQ_SET_DATA_NONE)) {
		type_clear(d);
		return 0;
	}
	if (!(is_intx || d->irq_index < 0) || start != 0 || count != 1)
		return -EINVAL;
	if (flags & KABI_VFIO_IRQ_SET_DATA_EVENTFD) {
		memcpy(&fd, data, sizeof(fd));
		if (fd < 0) {
			if (is_intx)
				type_clear(d);
			return 0;
		}
		r = fd_take(fd);
		if (r < 0)
			return r;
		if (!is_intx && type_enable(d, KABI_VFIO_PCI_INTX_IRQ_INDEX, 1)) {
			close(r);
			return -ENOMEM;
		}
		if (d->irq_fds[0] >= 0)
			close(d->irq_fds[0]);
		d->irq_fds[0] = r;
		return 0;
	}
	if (!is_intx)
		return -EINVAL;
	if ((flags & KABI_VFIO_IRQ_SET_DATA_NONE) || data[0])
		signal_fd(d, d->irq_fds[0]); /* loopback: the eventfd, not the line */
	return 0;
}

/* vfio_pci_set_msi_trigger */
static int msi_trigger(struct vdev *d, uint32_t index, uint32_t start, uint32_t count,
		       uint32_t flags, const uint8_t *data)
{
	bool is_index = d->irq_index == (int)index;

	if (is_index && !count && (flags & KABI_VFIO_IRQ_SET_DATA_NONE)) {
		type_clear(d);
		return 0;
	}
	if (!(is_index || d->irq_index < 0))
		return -EINVAL;
	if (flags & KABI_VFIO_IRQ_SET_DATA_EVENTFD) {
		bool enabled_here = false;
		int r = 0;

		if (!is_index) {
			/* vfio_msi_enable(start + count): the vectors the driver asked for */
			uint32_t nvec = index == KABI_VFIO_PCI_MSIX_IRQ_INDEX ? d->msix_vectors :
				       start + count;
			if (!count)
				return -EINVAL;
			if (type_enable(d, index, nvec))
				return -ENOMEM;
			enabled_here = true;
		}
		for (uint32_t i = 0; i < count && !r; i++) {
			uint32_t v = start + i;
			int32_t fd;
			int nfd = -1;

			memcpy(&fd, data + i * sizeof(fd), sizeof(fd));
			if (v >= d->nr_irq_fds) {
				r = -EINVAL;
				break;
			}
			if (fd >= 0) {
				nfd = fd_take(fd);
				if (nfd < 0) {
					r = nfd;
					break;
				}
			}
			if (d->irq_fds[v] >= 0)
				close(d->irq_fds[v]);
			d->irq_fds[v] = nfd;
		}
		if (r && enabled_here)
			type_clear(d);
		return r;
	}
	if (!is_index)
		return -EINVAL;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t v = start + i;

		if (v >= d->nr_irq_fds)
			continue;
		if ((flags & KABI_VFIO_IRQ_SET_DATA_NONE) || data[i])
			signal_fd(d, d->irq_fds[v]);
	}
	return 0;
}

/* vfio_pci_set_ctx_trigger_single: ERR and REQ */
static int single_trigger(struct vdev *d, int *slot, uint32_t count, uint32_t flags,
			  const uint8_t *data)
{
	int32_t fd;
	int nfd;

	if (flags & KABI_VFIO_IRQ_SET_DATA_NONE) {
		if (*slot < 0)
			return -EINVAL;
		if (count) {
			signal_fd(d, *slot);
		} else {
			close(*slot);
			*slot = -1;
		}
		return 0;
	}
	if (!count)
		return -EINVAL;
	if (flags & KABI_VFIO_IRQ_SET_DATA_BOOL) {
		if (data[0] && *slot >= 0)
			signal_fd(d, *slot);
		return 0;
	}
	memcpy(&fd, data, sizeof(fd));
	if (fd == -1) {
		if (*slot >= 0)
			close(*slot);
		*slot = -1;
	} else if (fd >= 0) {
		nfd = fd_take(fd);
		if (nfd < 0)
			return nfd;
		if (*slot >= 0)
			close(*slot);
		*slot = nfd;
	}
	return 0;
}

static uint32_t irq_count(const struct vdev *d, uint32_t index)
{
	switch (index) {
	case KABI_VFIO_PCI_INTX_IRQ_INDEX:
		return d->intx_pin ? 1 : 0;
	case KABI_VFIO_PCI_MSI_IRQ_INDEX:
		return d->msi_vectors;
	case KABI_VFIO_PCI_MSIX_IRQ_INDEX:
		return d->msix_vectors;
	case KABI_VFIO_PCI_ERR_IRQ_INDEX:
		return d->pcie ? 1 : 0;
	case KABI_VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	}
	return 0;
}

int vdev_set_irqs(struct vdev *d, void *arg)
{
	const uint32_t data_mask = KABI_VFIO_IRQ_SET_DATA_NONE | KABI_VFIO_IRQ_SET_DATA_BOOL |
				   KABI_VFIO_IRQ_SET_DATA_EVENTFD;
	const uint32_t action_mask = KABI_VFIO_IRQ_SET_ACTION_MASK | KABI_VFIO_IRQ_SET_ACTION_UNMASK |
				     KABI_VFIO_IRQ_SET_ACTION_TRIGGER;
	struct kabi_vfio_irq_set hdr;
	uint8_t *data = NULL;
	size_t size = 0, data_size = 0;
	uint32_t max;
	int r = -ENOTTY;

	if (emu_copy_from_user(&hdr, (uintptr_t)arg, sizeof(hdr)))
		return -EFAULT;
	/* vfio_set_irqs_validate_and_prepare */
	if (hdr.argsz < sizeof(hdr) || hdr.index >= KABI_VFIO_PCI_NUM_IRQS ||
	    hdr.count >= UINT32_MAX - hdr.start || (hdr.flags & ~(data_mask | action_mask)))
		return -EINVAL;
	max = irq_count(d, hdr.index);
	if (hdr.start >= max || hdr.start + hdr.count > max)
		return -EINVAL;
	switch (hdr.flags & data_mask) {
	case KABI_VFIO_IRQ_SET_DATA_NONE:
		break;
	case KABI_VFIO_IRQ_SET_DATA_BOOL:
		size = 1;
		break;
	case KABI_VFIO_IRQ_SET_DATA_EVENTFD:
		size = 4;
		break;
	default:
		return -EINVAL;
	}
	if (size) {
		if (hdr.argsz - sizeof(hdr) < (uint64_t)hdr.count * size)
			return -EINVAL;
		data_size = hdr.count * size;
	}
	if (data_size) {
		data = malloc(data_size);
		if (!data)
			return -ENOMEM;
		if (emu_copy_from_user(data, (uintptr_t)arg + sizeof(hdr), data_size)) {
			free(data);
			return -EFAULT;
		}
	}
	/* vfio_pci_set_irqs_ioctl: the handler of (index, action) */
	switch (hdr.index) {
	case KABI_VFIO_PCI_INTX_IRQ_INDEX:
		switch (hdr.flags & action_mask) {
		case KABI_VFIO_IRQ_SET_ACTION_MASK:
			r = intx_mask(d, false, hdr.start, hdr.count, hdr.flags, data);
			break;
		case KABI_VFIO_IRQ_SET_ACTION_UNMASK:
			r = intx_mask(d, true, hdr.start, hdr.count, hdr.flags, data);
			break;
		case KABI_VFIO_IRQ_SET_ACTION_TRIGGER:
			r = intx_trigger(d, hdr.start, hdr.count, hdr.flags, data);
			break;
		}
		break;
	case KABI_VFIO_PCI_MSI_IRQ_INDEX:
	case KABI_VFIO_PCI_MSIX_IRQ_INDEX:
		if ((hdr.flags & action_mask) == KABI_VFIO_IRQ_SET_ACTION_TRIGGER)
			r = msi_trigger(d, hdr.index, hdr.start, hdr.count, hdr.flags, data);
		break;
	case KABI_VFIO_PCI_ERR_IRQ_INDEX:
		if ((hdr.flags & action_mask) == KABI_VFIO_IRQ_SET_ACTION_TRIGGER && d->pcie)
			r = single_trigger(d, &d->err_fd, hdr.count, hdr.flags, data);
		break;
	case KABI_VFIO_PCI_REQ_IRQ_INDEX:
		if ((hdr.flags & action_mask) == KABI_VFIO_IRQ_SET_ACTION_TRIGGER)
			r = single_trigger(d, &d->req_fd, hdr.count, hdr.flags, data);
		break;
	}
	free(data);
	return r;
}
