// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * An SR-IOV PF on vfio-pci (IOMMUFD_EMU_DEVICE_SRIOV): QEMU's NVMe with
 * sriov_max_vfs=2, as the VM booted with tests/vm/run-vm --sriov shows it,
 * and the kernel's rules around it; iommufd_emu_device_set_sriov_totalvfs()
 * sets another sriov_max_vfs (1 to 127, QEMU's NVME_MAX_VFS).
 *
 * Config space: the PF's extended space holds ARI (0x100) and SR-IOV
 * (0x120: TotalVFs and InitialVFs 2, First VF Offset 1, VF Stride 1, VF
 * Device ID 0x0010, supported page sizes 0x553, system page size 1, a 64-bit
 * VF BAR0), which vfio-pci passes through read only
 * (drivers/vfio/pci/vfio_pci_config.c: ecap_perms[PCI_EXT_CAP_ID_SRIOV] has
 * no write function); VF Enable, VF MSE and NumVFs follow sriov_numvfs. A
 * VF has ARI alone, no INTx (its pin reads 0, vfio_config_init), BAR0 reads
 * its flag bits only, and its vendor and device IDs are the PF's
 * (virtualised by vfio-pci from pdev->vendor and the VF Device ID).
 *
 * sysfs (drivers/pci/iov.c): sriov_totalvfs, sriov_numvfs, sriov_offset,
 * sriov_stride, sriov_vf_device (hex, no 0x), sriov_drivers_autoprobe; the
 * links virtfnN (PF) and physfn (VF), "../<bdf>". sriov_numvfs_store():
 * not a number (kstrtou16 with base 0, one trailing newline; the VM's
 * kernel answers EINVAL also for a number above 65535), EINVAL; above
 * sriov_totalvfs, ERANGE; the current count, a no-op; then vfio-pci's
 * sriov_configure (drivers/vfio/pci/vfio_pci.c vfio_pci_sriov_configure():
 * ENOENT while its parameter enable_sriov is off, for disabling too); a
 * new non-zero count while VFs are enabled, EBUSY. The PF need not be open.
 * Each VF is a device of its own at the PF's routing ID + offset + stride *
 * i (pci_iov_virtfn_bus/devfn), probed to vfio-pci (vfio_pci_bus_notifier()
 * captures its driver_override), with a new IOMMU group and the lowest free
 * vfioN, as the VM's kernel numbers them.
 *
 * Disabling removes the VFs one by one (sriov_del_vfs()); the removal of a
 * VF in use waits until it is closed (vfio_unregister_group_dev(): the
 * request eventfd, VFIO_PCI_REQ_IRQ_INDEX, signalled at once and every 10
 * s), its cdev and GET_DEVICE_FD gone meanwhile (no new user). The emulator also waits while the VF's group file is open (the
 * kernel leaves such a file without its device): a group of the emulator
 * goes with its last device.
 *
 * The VF token (drivers/vfio/pci/vfio_pci_core.c): a random UUID at probe,
 * set by VFIO_DEVICE_FEATURE_PCI_VF_TOKEN (SET only; GET EINVAL) on the PF,
 * and checked by vfio_pci_core_match_token_uuid() at BIND (cdev) or
 * GET_DEVICE_FD ("<bdf> vf_token=<uuid>"): a VF needs the PF's token (none
 * or another: EACCES); a PF whose VFs are in use (users: VFs open) needs it
 * too, and with no VF in use a token given to the PF becomes its token; a
 * token to a device that is neither: EINVAL.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "vfio.h"

#define SRIOV_TOTAL 2      /* QEMU's sriov_max_vfs of the VM's PF */
#define ECAP_ARI 0x100u
#define ECAP_SRIOV 0x120u
#define SRIOV_CTRL_VFE 0x01u
#define SRIOV_CTRL_MSE 0x08u
#define SRIOV_CTRL_ARI 0x10u
#define REQUEST_EVERY_US 10000000u /* vfio_unregister_group_dev(): HZ * 10 */
#define POLL_US 2000u

struct vsriov {
	uint16_t total, num;
	uint16_t offset, stride, vf_device;
	uint8_t token[16];     /* vfio_pci_vf_token.uuid */
	int users;             /* its VFs open (vfio_pci_vf_token.users) */
	bool busy;             /* a store runs (the kernel's device_lock) */
	struct vdev *vfs[VSRIOV_MAX_VFS];
};

const char *const vsriov_attr_names[VSRIOV_NR_ATTRS] = {
	[VSRIOV_TOTALVFS] = "sriov_totalvfs",
	[VSRIOV_NUMVFS] = "sriov_numvfs",
	[VSRIOV_OFFSET] = "sriov_offset",
	[VSRIOV_STRIDE] = "sriov_stride",
	[VSRIOV_VF_DEVICE] = "sriov_vf_device",
	[VSRIOV_DRIVERS_AUTOPROBE] = "sriov_drivers_autoprobe",
};

static void put(struct vdev *d, uint32_t off, size_t w, uint32_t v)
{
	memcpy(d->config + off, &v, w);
}

int vsriov_init(struct vdev *d)
{
	struct vsriov *sv;

	if (d->kind != IOMMUFD_EMU_DEVICE_NVME)
		return -EINVAL;
	sv = calloc(1, sizeof(*sv));
	if (!sv)
		return -ENOMEM;
	sv->total = SRIOV_TOTAL;
	sv->offset = 1;
	sv->stride = 1;
	/* uuid_gen() at probe (vfio_pci_vf_token_alloc()) */
	if (getrandom(sv->token, sizeof(sv->token), 0) != (ssize_t)sizeof(sv->token))
		memset(sv->token, 0x5a, sizeof(sv->token));
	d->sriov = sv;
	return 0;
}

void vsriov_free(struct vdev *d)
{
	free(d->sriov);
	d->sriov = NULL;
}

/* config_init() of a PF or a VF: its capabilities as the VM shows them */
void vsriov_config(struct vdev *d)
{
	struct vsriov *sv = d->sriov;

	if (!sv && !d->physfn)
		return;
	/* behind a root port: a PCIe endpoint (v2), not root complex integrated */
	put(d, 0x82, 2, 0x0002);
	if (d->physfn) {
		/* vfio_config_init(): no INTx on a VF; BAR0 is the PF's VF BAR */
		d->intx_pin = 0;
		put(d, 0x3c, 2, 0);
		put(d, 0x10, 4, d->bar0_flags);
		put(d, ECAP_ARI, 4, 0x0001000eu); /* ARI, version 1, last */
		return;
	}
	sv->vf_device = d->device; /* QEMU's NVMe: the PF's */
	put(d, ECAP_ARI, 4, 0x0001000eu | ECAP_SRIOV << 20);
	put(d, ECAP_SRIOV, 4, 0x00010010u); /* SR-IOV, version 1, last */
	put(d, ECAP_SRIOV + 0x08, 2,
	    SRIOV_CTRL_ARI | (sv->num ? SRIOV_CTRL_VFE | SRIOV_CTRL_MSE : 0));
	put(d, ECAP_SRIOV + 0x0c, 2, sv->total); /* InitialVFs */
	put(d, ECAP_SRIOV + 0x0e, 2, sv->total); /* TotalVFs */
	put(d, ECAP_SRIOV + 0x10, 2, sv->num);
	put(d, ECAP_SRIOV + 0x14, 2, sv->offset);
	put(d, ECAP_SRIOV + 0x16, 2, sv->stride);
	put(d, ECAP_SRIOV + 0x1a, 2, sv->vf_device);
	put(d, ECAP_SRIOV + 0x1c, 4, 0x553);  /* supported page sizes */
	put(d, ECAP_SRIOV + 0x20, 4, 1);      /* system page size: 4 KiB */
	put(d, ECAP_SRIOV + 0x24, 4, 0xfe604000u | 0x4); /* VF BAR0, 64-bit */
}

int vsriov_attr_show(struct vdev *pf, enum vsriov_attr a, char *buf, size_t len)
{
	struct vsriov *sv = pf->sriov;

	switch (a) {
	case VSRIOV_TOTALVFS:
		return snprintf(buf, len, "%u\n", sv->total);
	case VSRIOV_NUMVFS:
		return snprintf(buf, len, "%u\n", sv->num);
	case VSRIOV_OFFSET:
		return snprintf(buf, len, "%u\n", sv->offset);
	case VSRIOV_STRIDE:
		return snprintf(buf, len, "%u\n", sv->stride);
	case VSRIOV_VF_DEVICE:
		return snprintf(buf, len, "%x\n", sv->vf_device);
	case VSRIOV_DRIVERS_AUTOPROBE:
		return snprintf(buf, len, "1\n");
	case VSRIOV_NR_ATTRS:
		break;
	}
	return 0;
}

/*
 * kstrtou16(buf, 0) as sriov_numvfs_store() gets it: an optional '+', then
 * 0x (hex), 0 (octal) or decimal digits, and one newline at most
 * (lib/kstrtox.c); -EINVAL for anything else, above 65535 too (the VM's
 * kernel answers EINVAL there).
 */
static int parse_u16(const char *buf, size_t len, uint16_t *out)
{
	unsigned long long v = 0;
	unsigned int base = 10, digits = 0;
	size_t i = 0;

	if (len && buf[len - 1] == '\n')
		len--;
	if (i < len && buf[i] == '+')
		i++;
	if (i + 1 < len && buf[i] == '0' && (buf[i + 1] == 'x' || buf[i + 1] == 'X') &&
	    i + 2 < len) {
		base = 16;
		i += 2;
	} else if (i < len && buf[i] == '0') {
		base = 8;
	}
	for (; i < len; i++, digits++) {
		char c = buf[i];
		unsigned int dv;

		if (c >= '0' && c <= '9')
			dv = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			dv = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			dv = (unsigned int)(c - 'A' + 10);
		else
			return -EINVAL;
		if (dv >= base)
			return -EINVAL;
		v = v * base + dv;
		if (v > 0xffff)
			return -EINVAL;
	}
	if (!digits)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* kstrtobool(): the first characters say it */
static int parse_bool(const char *buf, size_t len, bool *out)
{
	if (!len)
		return -EINVAL;
	switch (buf[0]) {
	case 'y':
	case 'Y':
	case '1':
		*out = true;
		return 0;
	case 'n':
	case 'N':
	case '0':
		*out = false;
		return 0;
	case 'o':
	case 'O':
		if (len > 1 && (buf[1] == 'n' || buf[1] == 'N')) {
			*out = true;
			return 0;
		}
		if (len > 1 && (buf[1] == 'f' || buf[1] == 'F')) {
			*out = false;
			return 0;
		}
		break;
	}
	return -EINVAL;
}

/* the routing ID of VF i (pci_iov_virtfn_bus() and _devfn()) as a BDF */
static void vf_bdf(const struct vdev *pf, unsigned int i, char *buf, size_t len)
{
	unsigned int seg, bus, slot, fn, rid;

	if (sscanf(pf->bdf, "%x:%x:%x.%x", &seg, &bus, &slot, &fn) != 4)
		seg = bus = slot = fn = 0;
	rid = (bus << 8 | slot << 3 | fn) + pf->sriov->offset + pf->sriov->stride * i;
	snprintf(buf, len, "%04x:%02x:%02x.%x", seg, (rid >> 8) & 0xff, (rid >> 3) & 0x1f, rid & 7);
}

/* vfio_pci_core_request(): the user is asked to release the device
 * (eventfd_signal() never blocks: a full counter stays as it is) */
static void request(struct vdev *vf)
{
	struct pollfd p = { .fd = vf->req_fd, .events = POLLOUT };
	uint64_t one = 1;

	if (vf->req_fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLOUT))
		(void)!write(vf->req_fd, &one, sizeof(one));
}

/* sriov_del_vfs(): each VF in turn, once its users let it go */
static void del_vfs(struct vdev *pf)
{
	struct vsriov *sv = pf->sriov;
	struct iommufd_emu *emu = pf->emu;

	for (unsigned int i = 0; i < sv->num; i++) {
		struct vdev *vf = sv->vfs[i];
		unsigned int waited = 0;

		if (!vf)
			continue;
		/* vfio_device_group_unregister(), vfio_device_del(): no new user */
		vf->removing = true;
		while (vfio_device_in_use(vf)) {
			if (waited % REQUEST_EVERY_US == 0 && (vf->cdev_file || vf->open_count))
				request(vf);
			emu_unlock(emu);
			usleep(POLL_US);
			emu_lock(emu);
			waited += POLL_US;
		}
		sv->vfs[i] = NULL;
		vfio_vf_remove(vf);
	}
	sv->num = 0;
	vsriov_config(pf);
}

/* sriov_enable(): the VFs as devices, probed to vfio-pci */
static int add_vfs(struct vdev *pf, uint16_t n)
{
	struct vsriov *sv = pf->sriov;
	char bdf[16];
	int r;

	for (unsigned int i = 0; i < n; i++) {
		vf_bdf(pf, i, bdf, sizeof(bdf));
		r = vfio_vf_add(pf, i, bdf, &sv->vfs[i]);
		if (r) {
			while (i--) {
				vfio_vf_remove(sv->vfs[i]);
				sv->vfs[i] = NULL;
			}
			return r;
		}
	}
	sv->num = n;
	vsriov_config(pf);
	return 0;
}

/* sriov_numvfs_store() with vfio_pci_sriov_configure() */
static ssize_t numvfs_store(struct vdev *pf, const char *buf, size_t len)
{
	struct vsriov *sv = pf->sriov;
	struct iommufd_emu *emu = pf->emu;
	uint16_t n;
	int r;

	r = parse_u16(buf, len, &n);
	if (r)
		return r;
	if (n > sv->total)
		return -ERANGE;
	/* device_lock(): one store at a time */
	while (sv->busy) {
		emu_unlock(emu);
		usleep(POLL_US);
		emu_lock(emu);
	}
	if (n == sv->num)
		return (ssize_t)len;
	if (!*vfio_enable_sriov(emu))
		return -ENOENT;
	if (n && sv->num)
		return -EBUSY;
	sv->busy = true;
	if (n)
		r = add_vfs(pf, n);
	else
		del_vfs(pf);
	sv->busy = false;
	return r ? r : (ssize_t)len;
}

ssize_t vsriov_attr_store(struct vdev *pf, enum vsriov_attr a, const char *buf, size_t len)
{
	bool b;

	if (a == VSRIOV_NUMVFS)
		return numvfs_store(pf, buf, len);
	if (a == VSRIOV_DRIVERS_AUTOPROBE) {
		/* sriov_drivers_autoprobe_store(): kept at 1, VFs always probe
		 * (the emulator's devices are all on vfio-pci) */
		if (parse_bool(buf, len, &b))
			return -EINVAL;
		return b ? (ssize_t)len : -EOPNOTSUPP;
	}
	return -EACCES;
}

int vsriov_param_show(struct iommufd_emu *emu, char *buf, size_t len)
{
	return snprintf(buf, len, "%c\n", *vfio_enable_sriov(emu) ? 'Y' : 'N');
}

/* param_set_bool() */
ssize_t vsriov_param_store(struct iommufd_emu *emu, const char *buf, size_t len)
{
	bool b;

	if (parse_bool(buf, len, &b))
		return -EINVAL;
	*vfio_enable_sriov(emu) = b;
	return (ssize_t)len;
}

int vsriov_match_token(struct vdev *d, const uint8_t *uuid)
{
	if (d->physfn) {
		/* the PF is always on vfio-pci here (sriov_pf_core_dev set) */
		if (!uuid || memcmp(uuid, d->physfn->sriov->token, 16))
			return -EACCES;
		return 0;
	}
	if (d->sriov) {
		if (d->sriov->users) {
			if (!uuid || memcmp(uuid, d->sriov->token, 16))
				return -EACCES;
		} else if (uuid) {
			memcpy(d->sriov->token, uuid, 16);
		}
		return 0;
	}
	return uuid ? -EINVAL : 0;
}

int vsriov_set_totalvfs(struct vdev *pf, unsigned int total)
{
	if (!pf->sriov || !total || total > VSRIOV_MAX_VFS)
		return -EINVAL;
	if (pf->sriov->num)
		return -EBUSY;
	pf->sriov->total = (uint16_t)total;
	vsriov_config(pf);
	return 0;
}

void vsriov_set_token(struct vdev *pf, const uint8_t uuid[16])
{
	memcpy(pf->sriov->token, uuid, 16);
}

void vsriov_open(struct vdev *d)
{
	if (d->physfn)
		d->physfn->sriov->users++;
}

void vsriov_close(struct vdev *d)
{
	if (d->physfn && d->physfn->sriov->users > 0)
		d->physfn->sriov->users--;
}

void vsriov_reset(struct iommufd_emu *emu)
{
	struct vdev *d;

restart:
	for (d = vfio_devices(emu); d; d = d->next) {
		if (d->sriov && d->sriov->num) {
			d->sriov->users = 0;
			del_vfs(d); /* nothing is in use: state_reset() checked */
			goto restart; /* the list changed */
		}
	}
	for (d = vfio_devices(emu); d; d = d->next)
		if (d->sriov)
			d->sriov->users = 0;
	*vfio_enable_sriov(emu) = false;
}
