// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Emulated VFIO: PCI devices on vfio-pci, their cdev files
 * (<dev>/vfio/devices/vfioN, drivers/vfio/device_cdev.c and vfio_main.c),
 * their group files (<dev>/vfio/<group>, drivers/vfio/group.c), and the sysfs view that
 * describes them (bus/pci/devices/<bdf>/..., in memory).
 *
 * Device registers and DMA engines live in edu.c; this file is the VFIO
 * layer: file states, exclusivity, the device ioctls and the region
 * read/write/mmap plumbing. Every function runs with emu->lock held.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "emu.h"
#include "shared/bdf.h"
#include "vfio.h"

#define VFIO_CDEV_MAJOR 511  /* the char major our cdev nodes claim */
#define VFIO_GROUP_MAJOR 510
#define REGION_SHIFT 40      /* vfio-pci: region index in the top bits of the file offset */
#define REGION_MASK ((1ull << REGION_SHIFT) - 1)

struct vgroup {
	struct vgroup *next;
	int nr;
	bool noiommu;           /* VFIO_NO_IOMMU: /dev/vfio/noiommu-<nr>, named vfio-noiommu */
	struct emu_group *eg;
	bool opened;            /* /dev/vfio/<nr> is open */
	int cdev_bound;         /* devices of the group bound through a cdev */
	struct emu_ictx *ictx;  /* SET_CONTAINER (iommufd) */
	struct emu_type1_group t1; /* SET_CONTAINER (a type1 container) */
	struct emu_file *file;  /* the open group file */
};

struct vfio_state {
	struct vdev *devs;
	struct vgroup *groups;
	int next_index;
	struct vsvc *svc; /* the thread that runs the models behind BAR0 mmaps */
	bool enable_sriov; /* vfio-pci's module parameter (vfio-sriov.c) */
};

/* one open of a device: a cdev file or a group-path file */
struct vfile {
	struct vdev *dev;
	bool group_path;
	bool bound;            /* access granted */
	struct emu_ictx *ictx; /* cdev: the ref BIND took */
};

/* ------------------------------------------------------------ state */

static void state_free(struct iommufd_emu *emu)
{
	struct vfio_state *s = emu->device_priv;

	if (!s)
		return;
	vsvc_free(s->svc); /* first: it may be looking at the devices */
	while (s->devs) {
		struct vdev *d = s->devs;

		s->devs = d->next;
		vdev_model_free(d);
		free(d);
	}
	while (s->groups) {
		struct vgroup *g = s->groups;

		s->groups = g->next;
		if (g->ictx)
			emu_ictx_put(g->ictx);
		emu_type1_detach_group(&g->t1);
		free(g->t1.devs);
		emu_group_free(g->eg);
		free(g);
	}
	free(s);
	emu->device_priv = NULL;
	emu->device_priv_free = NULL;
	emu->device_priv_reset = NULL;
}

/* every device as added (emu_reset); -EBUSY while one holds anything */
static int state_reset(struct iommufd_emu *emu)
{
	struct vfio_state *s = emu->device_priv;

	for (struct vdev *d = s->devs; d; d = d->next)
		if (d->cdev_file || d->open_count || d->t1_group_file || d->svc_active ||
		    d->edev.idev || d->irq_index >= 0 || d->nr_irq_fds || d->err_fd >= 0 ||
		    d->req_fd >= 0 || d->pm_wake_fd >= 0)
			return -EBUSY;
	for (struct vgroup *g = s->groups; g; g = g->next)
		if (g->ictx || g->opened || g->cdev_bound || g->file)
			return -EBUSY;
	vsriov_reset(emu); /* the devices as added: no VF */
	for (struct vdev *d = s->devs; d; d = d->next) {
		int r;

		d->dma_faults = 0;
		d->last_fault_iova = 0;
		d->irqs_raised = 0;
		d->intx_masked = false;
		d->intx_pending = false;
		d->pm_engaged = false;
		d->bar0_dmabuf = false; /* every dma-buf closed */
		memset(d->edev.cache, 0, sizeof(d->edev.cache));
		r = vdev_model_power_on(d);
		if (r)
			return r;
	}
	return 0;
}

static struct vfio_state *state_get(struct iommufd_emu *emu)
{
	struct vfio_state *s = emu->device_priv;

	if (s)
		return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->svc = vsvc_new(emu);
	if (!s->svc) {
		free(s);
		return NULL;
	}
	emu->device_priv = s;
	emu->device_priv_free = state_free;
	emu->device_priv_reset = state_reset;
	return s;
}

/* ------------------------------------------------------------ sysfs view */

/*
 * sysfs as the kernel shows it for PCI devices on vfio-pci, computed from the
 * device list at each lookup (nothing to keep in sync, nothing on disk).
 *
 * The devices are directories of the device tree, below their PCI root
 * (devices/pci<seg>:00/, drivers/pci/probe.c pci_register_host_bridge()), and a
 * device on a bus other than 0 below the root port that bridges to that bus
 * (the topology of vfio-reset.c: one bridge level). The root port of bus B
 * is taken at 00:(5+B).0 of the segment, the next slot up when an emulated
 * device holds that address: where QEMU puts the VM's pcie-root-port
 * (00:06.0 for bus 1). Of the root port the view has only the directory
 * with the devices below it. Everything else links into that tree, with the
 * kernel's relative targets (fs/kernfs/symlink.c kernfs_get_target_path():
 * up from the link's directory to the root, then down): bus/pci/devices/
 * <bdf>, bus/pci/drivers/vfio-pci/<bdf>, kernel/iommu_groups/<N>/devices/
 * <bdf>, class/vfio-dev/vfioN (drivers/vfio/vfio_main.c), and the device's
 * iommu_group, driver and subsystem.
 */
enum snode_kind {
	SN_ROOT,
	SN_BUS,
	SN_PCI,
	SN_DEVICES,       /* bus/pci/devices */
	SN_DRIVERS,
	SN_VFIO_PCI,
	SN_KERNEL,
	SN_GROUPS,
	SN_GROUP,         /* kernel/iommu_groups/<grp> */
	SN_GROUP_DEVICES, /* kernel/iommu_groups/<grp>/devices */
	SN_SYS_DEVICES,   /* devices */
	SN_PCI_ROOT,      /* devices/pci<seg>:00 (grp: the segment) */
	SN_BRIDGE,        /* devices/pci<seg>:00/<root port> (d: a device below it) */
	SN_CLASS_DIR,     /* class */
	SN_CLASS_VFIO,    /* class/vfio-dev */
	SN_DEV,           /* devices/pci<seg>:00/[<root port>/]<bdf> */
	SN_VFIO_DEV,      /* <dev>/vfio-dev */
	SN_VFIO_N,        /* <dev>/vfio-dev/vfioN */
	SN_MODULE,        /* module */
	SN_MODULE_VFIO_PCI, /* module/vfio_pci */
	SN_MODULE_PARAMS, /* module/vfio_pci/parameters */
	/* files */
	SN_VENDOR,
	SN_DEVICE,
	SN_CLASS,
	SN_CDEV_DEV,      /* <dev>/vfio-dev/vfioN/dev */
	SN_GROUP_NAME,    /* kernel/iommu_groups/<grp>/name: no-IOMMU groups only */
	SN_DRIVER_OVERRIDE, /* <dev>/driver_override */
	SN_SRIOV_ATTR,    /* <dev>/sriov_* of a PF (grp: enum vsriov_attr) */
	SN_ENABLE_SRIOV,  /* module/vfio_pci/parameters/enable_sriov */
	/* links */
	SN_GROUP_LINK,    /* <dev>/iommu_group */
	SN_DRIVER_LINK,   /* <dev>/driver */
	SN_SUBSYS_LINK,   /* <dev>/subsystem */
	SN_BUS_DEV_LINK,  /* bus/pci/devices/<bdf> */
	SN_DRV_DEV_LINK,  /* bus/pci/drivers/vfio-pci/<bdf> */
	SN_GROUP_DEV_LINK, /* kernel/iommu_groups/<grp>/devices/<bdf> */
	SN_CLASS_LINK,    /* class/vfio-dev/vfioN */
	SN_VIRTFN_LINK,   /* <PF>/virtfn<grp> -> ../<VF> */
	SN_PHYSFN_LINK,   /* <VF>/physfn -> ../<PF> */
};

struct snode {
	enum snode_kind kind;
	struct vdev *d;
	int grp;
};

#define SYSFS_MAX_DEPTH 16
#define SYSFS_MAX_LINKS 40 /* the kernel's MAXSYMLINKS */

static enum emu_sysfs_type snode_type(const struct snode *n)
{
	if (n->kind >= SN_GROUP_LINK)
		return EMU_SYSFS_LINK;
	if (n->kind >= SN_VENDOR)
		return EMU_SYSFS_FILE;
	return EMU_SYSFS_DIR;
}

struct pci_loc {
	unsigned int seg, bus, slot, fn;
};

static struct pci_loc loc_of(const struct vdev *d)
{
	struct pci_loc l = { 0, 0, 0, 0 };

	if (sscanf(d->bdf, "%x:%x:%x.%x", &l.seg, &l.bus, &l.slot, &l.fn) != 4)
		l = (struct pci_loc){ 0, 0, 0, 0 };
	return l;
}

/* the name of the root port above d (on a bus other than 0) */
static void bridge_name(const struct vdev *devs, const struct vdev *d, char *buf, size_t len)
{
	struct pci_loc l = loc_of(d);
	unsigned int slot = 5 + l.bus;

	for (bool taken = true; taken && slot < 32; ) {
		taken = false;
		for (const struct vdev *e = devs; e && !taken; e = e->next) {
			struct pci_loc m = loc_of(e);

			taken = m.seg == l.seg && m.bus == 0 && m.slot == slot;
		}
		if (taken)
			slot++;
	}
	snprintf(buf, len, "%04x:00:%02x.0", l.seg, slot & 0x1f);
}

/* d's directory below the sysfs root; the number of its components */
static int dev_path(const struct vdev *devs, const struct vdev *d, char *buf, size_t len)
{
	struct pci_loc l = loc_of(d);
	char br[32];

	if (!l.bus) {
		snprintf(buf, len, "devices/pci%04x:00/%s", l.seg, d->bdf);
		return 3;
	}
	bridge_name(devs, d, br, sizeof(br));
	snprintf(buf, len, "devices/pci%04x:00/%s/%s", l.seg, br, d->bdf);
	return 4;
}

/* is a device before d in devs the same as d by same()? (d is not the first of its kind) */
static bool seen_before(const struct vdev *devs, const struct vdev *d,
			bool (*same)(const struct vdev *a, const struct vdev *b))
{
	for (const struct vdev *e = devs; e != d; e = e->next)
		if (same(e, d))
			return true;
	return false;
}

static bool same_group(const struct vdev *a, const struct vdev *b)
{
	return a->grp->nr == b->grp->nr;
}

static bool same_seg(const struct vdev *a, const struct vdev *b)
{
	return loc_of(a).seg == loc_of(b).seg;
}

static bool same_bus(const struct vdev *a, const struct vdev *b)
{
	struct pci_loc x = loc_of(a), y = loc_of(b);

	return x.seg == y.seg && x.bus == y.bus;
}

/* fn(data, name, child) for each entry of directory n; stops at non-zero */
static int snode_children(struct iommufd_emu *emu, const struct snode *n,
			  int (*fn)(void *data, const char *name, const struct snode *c), void *data)
{
	static const struct {
		enum snode_kind parent, kind;
		const char *name;
	} fixed[] = {
		{ SN_ROOT, SN_BUS, "bus" },
		{ SN_ROOT, SN_KERNEL, "kernel" },
		{ SN_ROOT, SN_SYS_DEVICES, "devices" },
		{ SN_ROOT, SN_CLASS_DIR, "class" },
		{ SN_ROOT, SN_MODULE, "module" },
		{ SN_MODULE, SN_MODULE_VFIO_PCI, "vfio_pci" },
		{ SN_MODULE_VFIO_PCI, SN_MODULE_PARAMS, "parameters" },
		{ SN_MODULE_PARAMS, SN_ENABLE_SRIOV, "enable_sriov" },
		{ SN_BUS, SN_PCI, "pci" },
		{ SN_PCI, SN_DEVICES, "devices" },
		{ SN_PCI, SN_DRIVERS, "drivers" },
		{ SN_DRIVERS, SN_VFIO_PCI, "vfio-pci" },
		{ SN_KERNEL, SN_GROUPS, "iommu_groups" },
		{ SN_GROUP, SN_GROUP_DEVICES, "devices" },
		{ SN_CLASS_DIR, SN_CLASS_VFIO, "vfio-dev" },
		{ SN_DEV, SN_VENDOR, "vendor" },
		{ SN_DEV, SN_DEVICE, "device" },
		{ SN_DEV, SN_CLASS, "class" },
		{ SN_DEV, SN_VFIO_DEV, "vfio-dev" },
		{ SN_DEV, SN_GROUP_LINK, "iommu_group" },
		{ SN_DEV, SN_DRIVER_LINK, "driver" },
		{ SN_DEV, SN_SUBSYS_LINK, "subsystem" },
		{ SN_DEV, SN_DRIVER_OVERRIDE, "driver_override" },
		{ SN_VFIO_N, SN_CDEV_DEV, "dev" },
	};
	struct vfio_state *s = emu->device_priv;
	struct vdev *devs = s ? s->devs : NULL;
	char name[32];
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		struct snode c = { fixed[i].kind, n->d, n->grp };

		if (fixed[i].parent != n->kind)
			continue;
		/* the cdev (vfio-dev/vfioN, its class) exists only with CONFIG_IOMMUFD */
		if ((fixed[i].kind == SN_VFIO_DEV || fixed[i].kind == SN_CLASS_VFIO) &&
		    (emu->config & IOMMUFD_EMU_CONFIG_NO_IOMMUFD))
			continue;
		r = fn(data, fixed[i].name, &c);
		if (r)
			return r;
	}
	/* drivers/pci/iov.c: a PF's sriov_* attributes and virtfnN links, a VF's physfn */
	if (n->kind == SN_DEV && n->d->sriov) {
		for (int a = 0; a < VSRIOV_NR_ATTRS; a++) {
			struct snode c = { SN_SRIOV_ATTR, n->d, a };

			r = fn(data, vsriov_attr_names[a], &c);
			if (r)
				return r;
		}
		for (struct vdev *v = devs; v; v = v->next) {
			struct snode c = { SN_VIRTFN_LINK, n->d, 0 };

			if (v->physfn != n->d)
				continue;
			c.grp = (int)v->vf_id;
			snprintf(name, sizeof(name), "virtfn%u", v->vf_id);
			r = fn(data, name, &c);
			if (r)
				return r;
		}
	}
	if (n->kind == SN_DEV && n->d->physfn) {
		struct snode c = { SN_PHYSFN_LINK, n->d, 0 };

		r = fn(data, "physfn", &c);
		if (r)
			return r;
	}
	/* iommu_group_set_name() makes the attribute: only vfio-noiommu groups have it */
	if (n->kind == SN_GROUP) {
		for (struct vgroup *g = s ? s->groups : NULL; g; g = g->next) {
			struct snode c = { SN_GROUP_NAME, NULL, n->grp };

			if (g->nr != n->grp || !g->noiommu)
				continue;
			r = fn(data, "name", &c);
			if (r)
				return r;
		}
	}
	for (struct vdev *d = devs; d; d = d->next) {
		struct pci_loc l = loc_of(d);
		struct snode c = { SN_DEV, d, n->grp };
		const char *nm = d->bdf;

		switch (n->kind) {
		case SN_DEVICES:
			c.kind = SN_BUS_DEV_LINK;
			break;
		case SN_VFIO_PCI:
			c.kind = SN_DRV_DEV_LINK;
			break;
		case SN_GROUP_DEVICES:
			if (d->grp->nr != n->grp)
				continue;
			c.kind = SN_GROUP_DEV_LINK;
			break;
		case SN_GROUPS: /* the groups that have a device, each once */
			if (seen_before(devs, d, same_group))
				continue;
			c = (struct snode){ SN_GROUP, NULL, d->grp->nr };
			snprintf(name, sizeof(name), "%d", d->grp->nr);
			nm = name;
			break;
		case SN_SYS_DEVICES: /* the segments that have a device, each once */
			if (seen_before(devs, d, same_seg))
				continue;
			c = (struct snode){ SN_PCI_ROOT, NULL, (int)l.seg };
			snprintf(name, sizeof(name), "pci%04x:00", l.seg);
			nm = name;
			break;
		case SN_PCI_ROOT: /* bus 0's devices, and a root port per other bus */
			if (l.seg != (unsigned int)n->grp)
				continue;
			if (l.bus) {
				if (seen_before(devs, d, same_bus))
					continue;
				c.kind = SN_BRIDGE;
				bridge_name(devs, d, name, sizeof(name));
				nm = name;
			}
			break;
		case SN_BRIDGE:
			if (!same_bus(d, n->d))
				continue;
			break;
		case SN_CLASS_VFIO:
			if (d->removing)
				continue;
			c.kind = SN_CLASS_LINK;
			snprintf(name, sizeof(name), "vfio%d", d->index);
			nm = name;
			break;
		case SN_VFIO_DEV:
			if (d != n->d || d->removing)
				continue;
			c.kind = SN_VFIO_N;
			snprintf(name, sizeof(name), "vfio%d", d->index);
			nm = name;
			break;
		default:
			return 0;
		}
		r = fn(data, nm, &c);
		if (r)
			return r;
	}
	return 0;
}

struct child_find {
	const char *name;
	struct snode *out;
};

static int child_match(void *data, const char *name, const struct snode *c)
{
	struct child_find *f = data;

	if (strcmp(name, f->name))
		return 0;
	*f->out = *c;
	return 1;
}

/* a file's content or a link's target; its length */
static size_t snode_render(struct iommufd_emu *emu, const struct snode *n, char *buf, size_t len)
{
	struct vfio_state *s = emu->device_priv;
	const struct vdev *devs = s ? s->devs : NULL;
	char path[128], up[16] = "";
	int r = 0, depth;

	if (snode_type(n) == EMU_SYSFS_LINK) {
		/* from a device's directory, one "../" per component of its path */
		depth = dev_path(devs, n->d, path, sizeof(path));
		for (int i = 0; i < depth && i < 5; i++)
			strcat(up, "../");
	}
	switch (n->kind) {
	case SN_VENDOR:
		r = snprintf(buf, len, "0x%04x\n", n->d->vendor);
		break;
	case SN_DEVICE:
		r = snprintf(buf, len, "0x%04x\n", n->d->device);
		break;
	case SN_CLASS:
		r = snprintf(buf, len, "0x%06x\n", n->d->class_code);
		break;
	case SN_CDEV_DEV:
		r = snprintf(buf, len, "%d:%d\n", VFIO_CDEV_MAJOR, n->d->index);
		break;
	case SN_GROUP_NAME:
		r = snprintf(buf, len, "vfio-noiommu\n");
		break;
	case SN_DRIVER_OVERRIDE: /* the VM's init binds each device so; VFs get it captured */
		r = snprintf(buf, len, "vfio-pci\n");
		break;
	case SN_SRIOV_ATTR:
		r = vsriov_attr_show(n->d, (enum vsriov_attr)n->grp, buf, len);
		break;
	case SN_ENABLE_SRIOV:
		r = vsriov_param_show(emu, buf, len);
		break;
	case SN_VIRTFN_LINK:
		for (const struct vdev *v = devs; v; v = v->next)
			if (v->physfn == n->d && v->vf_id == (unsigned int)n->grp)
				r = snprintf(buf, len, "../%s", v->bdf);
		break;
	case SN_PHYSFN_LINK:
		r = snprintf(buf, len, "../%s", n->d->physfn->bdf);
		break;
	case SN_GROUP_LINK:
		r = snprintf(buf, len, "%skernel/iommu_groups/%d", up, n->d->grp->nr);
		break;
	case SN_DRIVER_LINK:
		r = snprintf(buf, len, "%sbus/pci/drivers/vfio-pci", up);
		break;
	case SN_SUBSYS_LINK:
		r = snprintf(buf, len, "%sbus/pci", up);
		break;
	case SN_BUS_DEV_LINK: /* from bus/pci/devices */
		r = snprintf(buf, len, "../../../%s", path);
		break;
	case SN_DRV_DEV_LINK: /* from bus/pci/drivers/vfio-pci */
	case SN_GROUP_DEV_LINK: /* from kernel/iommu_groups/<N>/devices */
		r = snprintf(buf, len, "../../../../%s", path);
		break;
	case SN_CLASS_LINK: /* from class/vfio-dev */
		r = snprintf(buf, len, "../../%s/vfio-dev/vfio%d", path, n->d->index);
		break;
	default:
		break;
	}
	return r < 0 ? 0 : (size_t)r >= len ? len - 1 : (size_t)r;
}

/*
 * rel to its node; links followed in the middle, and at the end if follow;
 * its path without links, "." or ".." into canon (clen bytes) if not NULL
 */
static int sysfs_walk(struct iommufd_emu *emu, const char *rel, bool follow, struct snode *out,
		      char *canon, size_t clen)
{
	struct snode stack[SYSFS_MAX_DEPTH + 1];
	char names[SYSFS_MAX_DEPTH + 1][NAME_MAX + 1];
	char path[PATH_MAX], next[PATH_MAX];
	int depth, links = 0;
	bool want_dir;

	if (!rel)
		return -EFAULT;
	if (strlen(rel) >= sizeof(path))
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s", rel);
restart:
	depth = 0;
	stack[0] = (struct snode){ .kind = SN_ROOT };
	want_dir = false;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");
		char name[NAME_MAX + 1];
		struct snode c;
		struct child_find f = { name, &c };
		bool last;

		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, p, n);
		name[n] = 0;
		p += n;
		want_dir = *p == '/';
		while (*p == '/')
			p++;
		last = !*p;
		if (!n)
			continue;
		if (snode_type(&stack[depth]) != EMU_SYSFS_DIR)
			return -ENOTDIR;
		if (strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			if (depth)
				depth--;
			continue;
		}
		if (!snode_children(emu, &stack[depth], child_match, &f))
			return -ENOENT;
		if (snode_type(&c) == EMU_SYSFS_LINK && (!last || follow || want_dir)) {
			/* the target, relative to the link's directory, then the rest */
			char target[128];
			size_t o = 0;

			if (++links > SYSFS_MAX_LINKS)
				return -ELOOP;
			snode_render(emu, &c, target, sizeof(target));
			next[0] = 0;
			for (int i = 1; i <= depth; i++)
				o += (size_t)snprintf(next + o, sizeof(next) - o, "%s/", names[i]);
			if (o + strlen(target) + 1 + strlen(p) >= sizeof(next))
				return -ENAMETOOLONG;
			snprintf(next + o, sizeof(next) - o, "%s%s%s", target, *p || want_dir ? "/" : "",
				 p);
			memcpy(path, next, sizeof(path));
			goto restart;
		}
		if (depth == SYSFS_MAX_DEPTH)
			return -ENAMETOOLONG;
		stack[++depth] = c;
		memcpy(names[depth], name, n + 1);
	}
	if (want_dir && snode_type(&stack[depth]) != EMU_SYSFS_DIR)
		return -ENOTDIR;
	*out = stack[depth];
	if (canon) {
		size_t o = 0;

		canon[0] = 0;
		for (int i = 1; i <= depth; i++) {
			int w = snprintf(canon + o, clen - o, "%s%s", i > 1 ? "/" : "", names[i]);

			if (w < 0 || (size_t)w >= clen - o)
				return -ENAMETOOLONG;
			o += (size_t)w;
		}
	}
	return 0;
}

int emu_sysfs_lookup(struct iommufd_emu *emu, const char *rel, bool follow,
		     enum emu_sysfs_type *type)
{
	return emu_sysfs_resolve(emu, rel, follow, type, NULL, 0);
}

int emu_sysfs_resolve(struct iommufd_emu *emu, const char *rel, bool follow,
		      enum emu_sysfs_type *type, char *canon, size_t len)
{
	struct snode n;
	int r;

	if (canon && !len)
		return -EINVAL;
	emu_lock(emu);
	r = sysfs_walk(emu, rel, follow, &n, canon, len);
	emu_unlock(emu);
	if (r == 0 && type)
		*type = snode_type(&n);
	return r;
}

ssize_t emu_sysfs_read(struct iommufd_emu *emu, const char *rel, char *buf, size_t len)
{
	char tmp[64];
	struct snode n;
	size_t l;
	int r;

	emu_lock(emu);
	r = sysfs_walk(emu, rel, true, &n, NULL, 0);
	if (r == 0 && snode_type(&n) == EMU_SYSFS_DIR)
		r = -EISDIR;
	if (r) {
		emu_unlock(emu);
		return r;
	}
	l = snode_render(emu, &n, tmp, sizeof(tmp));
	emu_unlock(emu);
	if (l > len)
		l = len;
	memcpy(buf, tmp, l);
	return (ssize_t)l;
}

ssize_t emu_sysfs_readlink(struct iommufd_emu *emu, const char *rel, char *buf, size_t len)
{
	char tmp[128];
	struct snode n;
	size_t l;
	int r;

	emu_lock(emu);
	r = sysfs_walk(emu, rel, false, &n, NULL, 0);
	if (r == 0 && snode_type(&n) != EMU_SYSFS_LINK)
		r = -EINVAL;
	if (r) {
		emu_unlock(emu);
		return r;
	}
	l = snode_render(emu, &n, tmp, sizeof(tmp));
	emu_unlock(emu);
	if (l > len)
		l = len;
	memcpy(buf, tmp, l);
	return (ssize_t)l;
}

ssize_t emu_sysfs_write(struct iommufd_emu *emu, const char *rel, const char *buf, size_t len)
{
	struct snode n;
	ssize_t r;

	emu_lock(emu);
	r = sysfs_walk(emu, rel, true, &n, NULL, 0);
	if (r == 0 && snode_type(&n) == EMU_SYSFS_DIR)
		r = -EISDIR;
	if (r == 0 && !len)
		r = 0; /* sysfs: nothing to store */
	else if (r == 0 && n.kind == SN_SRIOV_ATTR)
		r = vsriov_attr_store(n.d, (enum vsriov_attr)n.grp, buf, len);
	else if (r == 0 && n.kind == SN_ENABLE_SRIOV)
		r = vsriov_param_store(emu, buf, len);
	else if (r == 0)
		r = -EACCES; /* a read-only attribute (0444) */
	emu_unlock(emu);
	return r;
}

bool emu_sysfs_writable(struct iommufd_emu *emu, const char *rel)
{
	struct snode n;
	bool w;

	emu_lock(emu);
	w = sysfs_walk(emu, rel, true, &n, NULL, 0) == 0 &&
	    ((n.kind == SN_SRIOV_ATTR &&
	      (n.grp == VSRIOV_NUMVFS || n.grp == VSRIOV_DRIVERS_AUTOPROBE)) ||
	     n.kind == SN_ENABLE_SRIOV);
	emu_unlock(emu);
	return w;
}

struct list_ctx {
	int (*fn)(void *data, const char *name, enum emu_sysfs_type type);
	void *data;
};

static int list_one(void *data, const char *name, const struct snode *c)
{
	struct list_ctx *l = data;

	return l->fn(l->data, name, snode_type(c));
}

int emu_sysfs_list(struct iommufd_emu *emu, const char *rel,
		   int (*fn)(void *data, const char *name, enum emu_sysfs_type type), void *data)
{
	struct list_ctx l = { fn, data };
	struct snode n;
	int r;

	emu_lock(emu);
	r = sysfs_walk(emu, rel, true, &n, NULL, 0);
	if (r == 0 && snode_type(&n) != EMU_SYSFS_DIR)
		r = -ENOTDIR;
	if (r == 0)
		r = snode_children(emu, &n, list_one, &l);
	emu_unlock(emu);
	return r;
}

/* ------------------------------------------------------------ file ops: device */

static void vfile_unbind(struct vfile *vf)
{
	struct vdev *d = vf->dev;

	if (!vf->bound)
		return;
	vf->bound = false;
	if (vf->group_path) {
		if (--d->open_count == 0) {
			vsriov_close(d);
			vdev_irqs_clear(d);
			vdev_pm_clear(d);
			vdev_dmabuf_cleanup(d);
			vdev_model_close(d);
			if (d->t1_group_file) {
				/* a type1 container: the group stays attached to its domain;
				 * the device's hold on the group file goes */
				struct emu_file *gf = d->t1_group_file;

				d->t1_group_file = NULL;
				emu_file_put(gf);
			} else if (!d->grp->noiommu) {
				emu_device_unbind(&d->edev);
			}
		}
		return;
	}
	vsriov_close(d);
	vdev_irqs_clear(d);
	vdev_pm_clear(d);
	vdev_dmabuf_cleanup(d);
	vdev_model_close(d);
	emu_device_unbind(&d->edev);
	d->cdev_file = NULL;
	d->grp->cdev_bound--;
	emu_ictx_put(vf->ictx);
	vf->ictx = NULL;
}

static void vfile_release(struct emu_file *f)
{
	struct vfile *vf = f->priv;

	vfile_unbind(vf);
	free(vf);
}

static int vfile_fstat(struct emu_file *f, struct stat *st)
{
	struct vfile *vf = f->priv;

	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0600;
	st->st_rdev = makedev(VFIO_CDEV_MAJOR, vf->dev->index);
	st->st_nlink = 1;
	st->st_blksize = 4096;
	return 0;
}

/* VFIO_DEVICE_BIND_IOMMUFD, vfio_df_ioctl_bind_iommufd() of drivers/vfio/device_cdev.c */
static int vfile_bind(struct vfile *vf, void *arg)
{
	struct kabi_vfio_device_bind_iommufd b;
	struct vdev *d = vf->dev;
	struct iommufd_emu *emu = d->emu;
	struct emu_ictx *ictx;
	uint32_t argsz, id;
	int r;

	if (emu_copy_from_user(&argsz, (uintptr_t)arg, sizeof(argsz)))
		return -EFAULT;
	if (argsz < 16)
		return -EINVAL;
	r = emu_copy_struct_from_user(&b, sizeof(b), (uintptr_t)arg, argsz);
	if (r)
		return r;
	if (b.iommufd < 0 || (b.flags & ~KABI_VFIO_DEVICE_BIND_FLAG_TOKEN))
		return -EINVAL;
	if (vf->group_path)
		return -EINVAL;
	if (d->grp->opened)
		return -EBUSY;
	if (vf->bound)
		return -EINVAL;
	/* vfio_df_check_token(): vfio_pci_core_match_token_uuid() (vfio-sriov.c) */
	if (b.flags & KABI_VFIO_DEVICE_BIND_FLAG_TOKEN) {
		uint8_t uuid[16];

		if (emu_copy_from_user(uuid, b.token_uuid_ptr, sizeof(uuid)))
			return -EFAULT;
		r = vsriov_match_token(d, uuid);
	} else {
		r = vsriov_match_token(d, NULL);
	}
	if (r)
		return r;
	r = emu_ictx_from_fd(emu, b.iommufd, &ictx);
	if (r)
		return r;
	if (d->cdev_file || d->open_count) {
		emu_ictx_put(ictx);
		return -EINVAL;
	}
	r = emu_device_bind(ictx, &d->edev, &id);
	if (r) {
		emu_ictx_put(ictx);
		return r;
	}
	if (emu_copy_to_user((uintptr_t)arg + offsetof(struct kabi_vfio_device_bind_iommufd, out_devid),
			     &id, sizeof(id))) {
		emu_device_unbind(&d->edev);
		emu_ictx_put(ictx);
		return -EFAULT;
	}
	vf->bound = true;
	vf->ictx = ictx;
	d->cdev_file = vf;
	d->grp->cdev_bound++;
	vdev_model_open(d);
	vsriov_open(d);
	return 0;
}

/* VFIO_DEVICE_ATTACH_IOMMUFD_PT, vfio_df_ioctl_attach_pt() of drivers/vfio/device_cdev.c */
static int vfile_attach(struct vfile *vf, void *arg)
{
	struct kabi_vfio_device_attach_iommufd_pt at = { 0 };
	struct emu_dev *ed = &vf->dev->edev;
	uint32_t pasid = EMU_NO_PASID, pt;
	int r;

	if (emu_copy_from_user(&at, (uintptr_t)arg, 12))
		return -EFAULT;
	if (at.argsz < 12)
		return -EINVAL;
	if (at.flags & ~KABI_VFIO_DEVICE_ATTACH_PASID)
		return -EINVAL;
	if (at.flags & KABI_VFIO_DEVICE_ATTACH_PASID) {
		if (at.argsz < 16)
			return -EINVAL;
		if (emu_copy_from_user(&pasid, (uintptr_t)arg + 12, sizeof(pasid)))
			return -EFAULT;
	}
	pt = at.pt_id;
	if (emu_device_attached_hwpt(ed, pasid))
		r = emu_device_replace(ed, pasid, &pt);
	else
		r = emu_device_attach(ed, pasid, &pt);
	if (r)
		return r;
	if (emu_copy_to_user((uintptr_t)arg + 8, &pt, sizeof(pt))) {
		emu_device_detach(ed, EMU_NO_PASID); /* the kernel detaches the RID, even for a pasid */
		return -EFAULT;
	}
	return 0;
}

/* VFIO_DEVICE_DETACH_IOMMUFD_PT, vfio_df_ioctl_detach_pt() of drivers/vfio/device_cdev.c */
static int vfile_detach(struct vfile *vf, void *arg)
{
	struct kabi_vfio_device_detach_iommufd_pt de = { 0 };
	uint32_t pasid = EMU_NO_PASID;

	if (emu_copy_from_user(&de, (uintptr_t)arg, 8))
		return -EFAULT;
	if (de.argsz < 8)
		return -EINVAL;
	if (de.flags & ~KABI_VFIO_DEVICE_DETACH_PASID)
		return -EINVAL;
	if (de.flags & KABI_VFIO_DEVICE_DETACH_PASID) {
		if (de.argsz < 12)
			return -EINVAL;
		if (emu_copy_from_user(&pasid, (uintptr_t)arg + 8, sizeof(pasid)))
			return -EFAULT;
	}
	emu_device_detach(&vf->dev->edev, pasid);
	return 0;
}

static int vfile_get_info(struct vdev *d, void *arg)
{
	struct kabi_vfio_device_info info = { 0 };
	const size_t minsz = offsetof(struct kabi_vfio_device_info, cap_offset);

	if (emu_copy_from_user(&info, (uintptr_t)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	info.flags = KABI_VFIO_DEVICE_FLAGS_PCI | (vdev_reset_works(d) ? KABI_VFIO_DEVICE_FLAGS_RESET : 0);
	info.num_regions = KABI_VFIO_PCI_NUM_REGIONS;
	info.num_irqs = KABI_VFIO_PCI_NUM_IRQS;
	if (info.argsz >= sizeof(info))
		info.cap_offset = 0;
	return emu_copy_to_user((uintptr_t)arg, &info, info.argsz < sizeof(info) ? minsz : sizeof(info)) ?
		       -EFAULT : 0;
}

/* size and flags of region index (size 0: absent) */
static void region_of(struct vdev *d, uint32_t index, uint64_t *size, uint32_t *flags)
{
	*size = 0;
	*flags = 0;
	if (index == KABI_VFIO_PCI_BAR0_REGION_INDEX) {
		*size = d->bar0_size;
		*flags = KABI_VFIO_REGION_INFO_FLAG_READ | KABI_VFIO_REGION_INFO_FLAG_WRITE |
			 KABI_VFIO_REGION_INFO_FLAG_MMAP;
	} else if (index == KABI_VFIO_PCI_CONFIG_REGION_INDEX) {
		*size = d->config_size;
		*flags = KABI_VFIO_REGION_INFO_FLAG_READ | KABI_VFIO_REGION_INFO_FLAG_WRITE;
	}
}

static int vfile_region_info(struct vdev *d, void *arg)
{
	struct kabi_vfio_region_info ri;
	const size_t minsz = offsetof(struct kabi_vfio_region_info, offset) + sizeof(uint64_t);
	uint64_t size;
	uint32_t flags;
	int r;

	if (emu_copy_from_user(&ri, (uintptr_t)arg, minsz))
		return -EFAULT;
	if (ri.argsz < minsz)
		return -EINVAL;
	/* no VGA region on these devices: vfio-pci refuses its index */
	if (ri.index >= KABI_VFIO_PCI_NUM_REGIONS || ri.index == KABI_VFIO_PCI_VGA_REGION_INDEX)
		return -EINVAL;
	region_of(d, ri.index, &size, &flags);
	ri.offset = (uint64_t)ri.index << REGION_SHIFT;
	ri.size = size;
	ri.flags = flags;
	ri.cap_offset = 0;
	r = vdev_region_caps(d, &ri, arg); /* the capability chain (vfio-region.c) */
	if (r)
		return r;
	return emu_copy_to_user((uintptr_t)arg, &ri, minsz) ? -EFAULT : 0;
}

static uint32_t irq_count(struct vdev *d, uint32_t index)
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

static int vfile_irq_info(struct vdev *d, void *arg)
{
	struct kabi_vfio_irq_info ii;

	if (emu_copy_from_user(&ii, (uintptr_t)arg, sizeof(ii)))
		return -EFAULT;
	if (ii.argsz < sizeof(ii) || ii.index >= KABI_VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	if (ii.index == KABI_VFIO_PCI_ERR_IRQ_INDEX && !d->pcie)
		return -EINVAL;
	ii.flags = KABI_VFIO_IRQ_INFO_EVENTFD;
	ii.count = irq_count(d, ii.index);
	if (ii.index == KABI_VFIO_PCI_INTX_IRQ_INDEX)
		ii.flags |= KABI_VFIO_IRQ_INFO_MASKABLE | KABI_VFIO_IRQ_INFO_AUTOMASKED;
	else if (ii.index != KABI_VFIO_PCI_MSIX_IRQ_INDEX || !d->msix_vectors)
		ii.flags |= KABI_VFIO_IRQ_INFO_NORESIZE; /* MSI-X vectors can be added dynamically */
	return emu_copy_to_user((uintptr_t)arg, &ii, sizeof(ii)) ? -EFAULT : 0;
}

static int vfile_ioctl(struct emu_file *f, unsigned long req, void *arg)
{
	struct vfile *vf = f->priv;
	struct vdev *d = vf->dev;

	if (req == KABI_VFIO_DEVICE_BIND_IOMMUFD)
		return vfile_bind(vf, arg);
	if (!vf->bound)
		return -EINVAL;
	vdev_pm_resume(d); /* vfio_device_pm_runtime_get() */
	if (!vf->group_path) {
		if (req == KABI_VFIO_DEVICE_ATTACH_IOMMUFD_PT)
			return vfile_attach(vf, arg);
		if (req == KABI_VFIO_DEVICE_DETACH_IOMMUFD_PT)
			return vfile_detach(vf, arg);
	}
	switch (req) {
	case KABI_VFIO_DEVICE_GET_INFO:
		return vfile_get_info(d, arg);
	case KABI_VFIO_DEVICE_GET_REGION_INFO:
		return vfile_region_info(d, arg);
	case KABI_VFIO_DEVICE_GET_IRQ_INFO:
		return vfile_irq_info(d, arg);
	case KABI_VFIO_DEVICE_SET_IRQS:
		return vdev_set_irqs(d, arg);
	case KABI_VFIO_DEVICE_RESET:
		if (!vdev_reset_works(d))
			return -EINVAL;
		vdev_dmabuf_move(d, true);
		vdev_model_reset(d);
		vdev_dmabuf_restore(d);
		return 0;
	case KABI_VFIO_DEVICE_FEATURE:
		return vdev_feature(d, arg);
	case KABI_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vdev_hot_reset_info(d, !vf->group_path, arg);
	case KABI_VFIO_DEVICE_PCI_HOT_RESET:
		return vdev_hot_reset(d, !vf->group_path, arg);
	}
	return -ENOTTY;
}

struct vdev *vfio_devices(struct iommufd_emu *emu)
{
	struct vfio_state *s = emu->device_priv;

	return s ? s->devs : NULL;
}

int vdev_group_nr(const struct vdev *d)
{
	return d->grp->nr;
}

/*
 * BAR0 through the file. Its MSI-X table is not the user's through read
 * and write (drivers/vfio/pci/vfio_pci_rdwr.c vfio_pci_bar_rw,
 * vfio_pci_core_do_io_rw): reads of it give 0xff bytes, writes to it are
 * dropped; the rest of the access reaches the device. The mapping, MSI-X
 * mappable, reaches the table.
 */
static ssize_t bar0_rw(struct vdev *d, uint64_t off, uint8_t *buf, size_t len, bool write)
{
	uint64_t x_start = d->msix_table, x_end = d->msix_table + 16ull * d->msix_vectors;
	uint64_t end = off + len;
	ssize_t r;

	if (!d->msix_vectors || end <= x_start || off >= x_end)
		return write ? vdev_bar0_write(d, off, buf, len) : vdev_bar0_read(d, off, buf, len);
	if (off < x_start) {
		r = write ? vdev_bar0_write(d, off, buf, x_start - off) :
			    vdev_bar0_read(d, off, buf, x_start - off);
		if (r < 0)
			return r;
	}
	if (!write) {
		uint64_t from = off > x_start ? off : x_start, to = end < x_end ? end : x_end;

		memset(buf + (from - off), 0xff, to - from);
	}
	if (end > x_end) {
		r = write ? vdev_bar0_write(d, x_end, buf + (x_end - off), end - x_end) :
			    vdev_bar0_read(d, x_end, buf + (x_end - off), end - x_end);
		if (r < 0)
			return r;
	}
	return (ssize_t)len;
}

static ssize_t vfile_rw(struct emu_file *f, void *buf, size_t len, off_t off, bool pos, bool write)
{
	struct vfile *vf = f->priv;
	struct vdev *d = vf->dev;
	uint32_t index, flags;
	uint64_t size, roff;
	void *kbuf;
	ssize_t r;

	if (!vf->bound || off < 0)
		return -EINVAL;
	index = (uint32_t)((uint64_t)off >> REGION_SHIFT);
	roff = (uint64_t)off & REGION_MASK;
	if (index >= KABI_VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	region_of(d, index, &size, &flags);
	if (!size)
		return -EINVAL;
	if (index == KABI_VFIO_PCI_CONFIG_REGION_INDEX) {
		/* config space: no truncation, EFAULT past its end */
		if (roff >= size || len > size - roff)
			return -EFAULT;
	} else {
		if (roff >= size)
			return -EINVAL;
		if (len > size - roff)
			len = size - roff;
		/* vfio_pci_bar_rw: memory decoding off, the BAR does not answer */
		if (!vdev_mem_enabled(d))
			return -EIO;
	}
	/*
	 * buf is the caller's memory: reached only through copy_from_user and
	 * copy_to_user, as vfio-pci does (drivers/vfio/pci/vfio_pci_rdwr.c,
	 * vfio_pci_config.c). A write whose buffer faults writes nothing; a
	 * read that cannot be stored is EFAULT.
	 */
	if (!len)
		return 0;
	kbuf = malloc(len);
	if (!kbuf)
		return -ENOMEM;
	if (write && emu_copy_from_user(kbuf, (uintptr_t)buf, len)) {
		free(kbuf);
		return -EFAULT;
	}
	if (index == KABI_VFIO_PCI_CONFIG_REGION_INDEX)
		r = write ? vdev_config_write(d, roff, kbuf, len) : vdev_config_read(d, roff, kbuf, len);
	else
		r = bar0_rw(d, roff, kbuf, len, write);
	if (!write && r > 0 && emu_copy_to_user((uintptr_t)buf, kbuf, (size_t)r))
		r = -EFAULT;
	free(kbuf);
	return r;
}

static ssize_t vfile_read(struct emu_file *f, void *buf, size_t len, off_t off, bool pos)
{
	return vfile_rw(f, buf, len, off, pos, false);
}

static ssize_t vfile_write(struct emu_file *f, const void *buf, size_t len, off_t off, bool pos)
{
	return vfile_rw(f, (void *)buf, len, off, pos, true);
}

static int vfile_mmap(struct emu_file *f, off_t off, size_t len, int prot, int flags, void **addr)
{
	struct vfile *vf = f->priv;
	struct vdev *d = vf->dev;
	struct kabi_vfio_region_sparse_mmap_area area[2];
	uint64_t roff, plen = ((uint64_t)len + EMU_PAGE_SIZE - 1) & ~(uint64_t)(EMU_PAGE_SIZE - 1);
	uint32_t n;
	void *p;

	if (!vf->bound)
		return -EINVAL;
	if (off < 0 || ((uint64_t)off >> REGION_SHIFT) != KABI_VFIO_PCI_BAR0_REGION_INDEX)
		return -EINVAL;
	roff = (uint64_t)off & REGION_MASK;
	if ((roff & (EMU_PAGE_SIZE - 1)) || roff >= d->bar0_size || len > d->bar0_size - roff ||
	    !(flags & MAP_SHARED))
		return -EINVAL;
	if (vdev_msix_sparse(d, KABI_VFIO_PCI_BAR0_REGION_INDEX, area, &n)) {
		uint32_t i;

		for (i = 0; i < n; i++)
			if (roff >= area[i].offset && roff - area[i].offset < area[i].size &&
			    plen <= area[i].size - (roff - area[i].offset))
				break;
		if (i == n)
			return -EINVAL; /* the MSI-X table's pages are not mappable */
	}
	p = mmap(NULL, len, prot, flags, d->bar0_fd, (off_t)roff);
	if (p == MAP_FAILED)
		return -errno;
	/* stores into the mapping reach the model through the thread */
	d->bar0_mapped = true;
	d->bar0_ones = false;
	if (d->svc) {
		int r = vsvc_exposed(d->svc, d);

		if (r) {
			munmap(p, len);
			return r;
		}
	}
	*addr = p;
	return 0;
}

static const struct emu_file_ops vfile_ops = {
	.name = "vfio-device",
	.ioctl = vfile_ioctl,
	.read = vfile_read,
	.write = vfile_write,
	.mmap = vfile_mmap,
	.release = vfile_release,
	.fstat = vfile_fstat,
};

static int vfile_new(struct vdev *d, bool group_path, struct vfile **ret)
{
	struct vfile *vf = calloc(1, sizeof(*vf));
	int fd;

	if (!vf)
		return -ENOMEM;
	vf->dev = d;
	vf->group_path = group_path;
	fd = emu_file_new(d->emu, &vfile_ops, vf, NULL);
	if (fd < 0) {
		free(vf);
		return fd;
	}
	*ret = vf;
	return fd;
}

/* ------------------------------------------------------------ file ops: group */

struct gfile {
	struct iommufd_emu *emu;
	struct vgroup *grp;
	struct vfio_state *s;
};

static void gfile_release(struct emu_file *f)
{
	struct gfile *gf = f->priv;

	/* vfio_group_fops_release(): device files hold the group file, so no
	 * device of the group is open here */
	gf->grp->opened = false;
	gf->grp->file = NULL;
	emu_type1_detach_group(&gf->grp->t1);
	if (gf->grp->ictx) {
		emu_ictx_put(gf->grp->ictx);
		gf->grp->ictx = NULL;
	}
	free(gf);
}

static int gfile_fstat(struct emu_file *f, struct stat *st)
{
	struct gfile *gf = f->priv;

	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0600;
	st->st_rdev = makedev(VFIO_GROUP_MAJOR, gf->grp->nr);
	st->st_nlink = 1;
	return 0;
}

/* vfio_group_has_iommu() */
static bool group_has_iommu(const struct vgroup *g)
{
	return g->ictx || g->t1.container;
}

/* the group's devices, for the type1 container */
static int group_t1_devs(struct gfile *gf)
{
	struct vgroup *g = gf->grp;
	struct emu_dev **devs;
	unsigned int n = 0;

	for (struct vdev *d = gf->s->devs; d; d = d->next)
		n += d->grp == g;
	devs = emu_calloc(gf->emu, n ? n : 1, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	n = 0;
	for (struct vdev *d = gf->s->devs; d; d = d->next)
		if (d->grp == g)
			devs[n++] = &d->edev;
	free(g->t1.devs);
	g->t1.devs = devs;
	g->t1.ndevs = n;
	return 0;
}

/* vfio_group_ioctl_set_container() of drivers/vfio/group.c */
static int gfile_set_container(struct gfile *gf, void *arg)
{
	struct vgroup *g = gf->grp;
	struct iommufd_emu *emu = gf->emu;
	struct emu_type1 *container;
	struct emu_ictx *ictx;
	uint32_t ioas;
	int32_t fd;
	int r;

	if (emu_copy_from_user(&fd, (uintptr_t)arg, sizeof(fd)))
		return -EFAULT;
	if (!emu_fd_is_open(emu, fd))
		return -EBADF;
	if (group_has_iommu(g))
		return -EINVAL;
	container = emu_type1_from_fd(emu, fd);
	if (container) {
		r = group_t1_devs(gf);
		g->t1.noiommu = g->noiommu;
		return r ? r : emu_type1_attach_group(container, &g->t1);
	}
	r = emu_ictx_from_fd(emu, fd, &ictx);
	if (r)
		return r;
	/* vfio_group_ioctl_set_container(): a no-IOMMU group turns the context
	 * no-IOMMU (CAP_SYS_RAWIO assumed), any other makes the compat IOAS */
	if (g->noiommu)
		r = emu_ictx_set_no_iommu(ictx);
	else
		r = emu_ictx_compat_ioas(ictx, true, &ioas);
	if (r) {
		emu_ictx_put(ictx);
		return r;
	}
	g->ictx = ictx;
	return 0;
}

/* uuid_is_valid() (lib/uuid.c): 36 characters, hex digits with hyphens at 8, 13, 18 and 23 */
static bool uuid_valid(const char *u)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (u[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)u[i])) {
			return false;
		}
	}
	return true;
}

/* uuid_parse(): a valid UUID's 16 bytes in the order they are written */
static void uuid_parse(const char *u, uint8_t out[16])
{
	static const int at[16] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34 };

	for (int i = 0; i < 16; i++) {
		unsigned int v = 0;

		sscanf(u + at[i], "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

/*
 * vfio_pci_core_match() (drivers/vfio/pci/vfio_pci_core.c): the device's
 * name, then only spaces and one "vf_token=<uuid>". 1: this device, 0: not
 * this one, -errno: the name is refused.
 */
static int dev_match(struct vdev *d, const char *buf)
{
	static const char arg[] = "vf_token=";
	size_t n = strlen(d->bdf);
	bool token = false;
	uint8_t uuid[16];
	int r;

	if (strncmp(d->bdf, buf, n))
		return 0;
	buf += n;
	if (*buf && *buf != ' ')
		return 0; /* non-whitespace after the name */
	while (*buf) {
		if (*buf == ' ') {
			buf++;
			continue;
		}
		if (token || strncmp(buf, arg, sizeof(arg) - 1))
			return -EINVAL; /* an unknown or a repeated option */
		buf += sizeof(arg) - 1;
		if (strlen(buf) < 36 || !uuid_valid(buf))
			return -EINVAL;
		uuid_parse(buf, uuid);
		token = true;
		buf += 36;
	}
	r = vsriov_match_token(d, token ? uuid : NULL); /* vfio_pci_core_match_token_uuid() */
	return r ? r : 1;
}

/* vfio_device_get_from_name() (drivers/vfio/group.c): the first answer of a device of g */
static int group_find_dev(struct vfio_state *s, struct vgroup *g, const char *name, struct vdev **ret)
{
	for (struct vdev *d = s->devs; d; d = d->next) {
		int r;

		if (d->grp != g || d->removing)
			continue;
		r = dev_match(d, name);
		if (r < 0)
			return r;
		if (r) {
			*ret = d;
			return 0;
		}
	}
	return -ENODEV;
}

static int gfile_get_device_fd(struct gfile *gf, void *arg)
{
	struct vgroup *g = gf->grp;
	struct vfile *vf;
	char name[256];
	struct vdev *d = NULL;
	size_t i;
	int fd, r;

	/* strndup_user of the name */
	for (i = 0; i < sizeof(name); i++) {
		if (emu_copy_from_user(&name[i], (uintptr_t)arg + i, 1))
			return -EFAULT;
		if (!name[i])
			break;
	}
	if (i == sizeof(name))
		return -ENODEV; /* longer than any name of ours with a token */
	r = group_find_dev(gf->s, g, name, &d);
	if (r)
		return r;
	if (!group_has_iommu(g))
		return -EINVAL;
	if (d->cdev_file)
		return -EINVAL; /* cannot happen while the group is open; keep the invariant */
	if (g->t1.container) {
		/* vfio_group_use_container(): SET_IOMMU not done yet */
		if (!emu_type1_driver_set(g->t1.container))
			return -EINVAL;
		/* the group is in the container's domain since it joined the driver */
		fd = vfile_new(d, true, &vf);
		if (fd < 0)
			return fd;
		vf->bound = true;
		if (d->open_count++ == 0) {
			/* the device holds the group file (get_file(group->opened_file)) */
			emu_file_get(g->file);
			d->t1_group_file = g->file;
			vdev_model_open(d);
			vsriov_open(d);
		}
		return fd;
	}
	if (g->noiommu) {
		/* vfio_df_group_open(): no compat IOAS may exist (translation
		 * expected); vfio_df_iommufd_bind() binds a no-IOMMU device to nothing */
		if (d->open_count == 0 && g->ictx->compat_ioas &&
		    emu_ioas_find(g->ictx, g->ictx->compat_ioas))
			return -EPERM;
		fd = vfile_new(d, true, &vf);
		if (fd < 0)
			return fd;
		vf->bound = true;
		if (d->open_count++ == 0) {
			vdev_model_open(d);
			vsriov_open(d);
		}
		return fd;
	}
	if (d->open_count == 0) {
		uint32_t ioas, id;

		r = emu_ictx_compat_ioas(g->ictx, false, &ioas);
		if (r)
			return r == -ENOENT ? -ENODEV : r;
		r = emu_device_bind(g->ictx, &d->edev, &id);
		if (r)
			return r;
		r = emu_device_attach(&d->edev, EMU_NO_PASID, &ioas);
		if (r) {
			emu_device_unbind(&d->edev);
			return r;
		}
	}
	fd = vfile_new(d, true, &vf);
	if (fd < 0) {
		if (d->open_count == 0)
			emu_device_unbind(&d->edev);
		return fd;
	}
	vf->bound = true;
	if (d->open_count++ == 0) {
		vdev_model_open(d);
		vsriov_open(d);
	}
	return fd;
}

static int gfile_ioctl(struct emu_file *f, unsigned long req, void *arg)
{
	struct gfile *gf = f->priv;
	struct vgroup *g = gf->grp;

	switch (req) {
	case KABI_VFIO_GROUP_GET_STATUS: {
		struct kabi_vfio_group_status st;

		if (emu_copy_from_user(&st, (uintptr_t)arg, sizeof(st)))
			return -EFAULT;
		if (st.argsz < sizeof(st))
			return -EINVAL;
		st.flags = KABI_VFIO_GROUP_FLAGS_VIABLE |
			   (group_has_iommu(g) ? KABI_VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
		return emu_copy_to_user((uintptr_t)arg, &st, sizeof(st)) ? -EFAULT : 0;
	}
	case KABI_VFIO_GROUP_SET_CONTAINER:
		return gfile_set_container(gf, arg);
	case KABI_VFIO_GROUP_UNSET_CONTAINER:
		/* vfio_group_ioctl_unset_container() */
		if (!group_has_iommu(g))
			return -EINVAL;
		if (g->t1.container) {
			/* container_users != 1: a device of the group is open */
			for (struct vdev *d = gf->s->devs; d; d = d->next)
				if (d->grp == g && d->open_count)
					return -EBUSY;
			emu_type1_detach_group(&g->t1);
			return 0;
		}
		emu_ictx_put(g->ictx);
		g->ictx = NULL;
		return 0;
	case KABI_VFIO_GROUP_GET_DEVICE_FD:
		return gfile_get_device_fd(gf, arg);
	}
	return -ENOTTY;
}

static const struct emu_file_ops gfile_ops = {
	.name = "vfio-group",
	.ioctl = gfile_ioctl,
	.release = gfile_release,
	.fstat = gfile_fstat,
};

/* ------------------------------------------------------------ open() of nodes */

static int vfio_node_open(struct iommufd_emu *emu, const char *rel, int flags, void *data)
{
	struct vfio_state *s = data;
	const char *p = rel + strlen("vfio/");
	bool noiommu;
	char *end;
	long n;

	(void)flags;
	if (strncmp(p, "devices/", 8) == 0 || strcmp(p, "devices") == 0) {
		struct vfile *vf;

		/* the cdevs exist only with CONFIG_IOMMUFD */
		if ((emu->config & IOMMUFD_EMU_CONFIG_NO_IOMMUFD) || strncmp(p, "devices/vfio", 12))
			return -ENOENT;
		n = strtol(p + 12, &end, 10);
		if (*end || end == p + 12)
			return -ENOENT;
		/* a no-IOMMU device has no cdev (drivers/vfio/vfio.h vfio_device_add()) */
		for (struct vdev *d = s->devs; d; d = d->next)
			if (d->index == n && !d->grp->noiommu && !d->removing)
				return vfile_new(d, false, &vf);
		return -ENOENT;
	}
	noiommu = strncmp(p, "noiommu-", 8) == 0;
	if (noiommu)
		p += 8;
	if (*p < '0' || *p > '9')
		return -ENOENT;
	n = strtol(p, &end, 10);
	if (*end || end == p)
		return -ENOENT;
	for (struct vgroup *g = s->groups; g; g = g->next) {
		struct gfile *gf;
		int fd;

		if (g->nr != n || g->noiommu != noiommu)
			continue;
		if (g->opened || g->cdev_bound)
			return -EBUSY;
		gf = calloc(1, sizeof(*gf));
		if (!gf)
			return -ENOMEM;
		gf->emu = emu;
		gf->grp = g;
		gf->s = s;
		fd = emu_file_new(emu, &gfile_ops, gf, &g->file);
		if (fd < 0) {
			free(gf);
			return fd;
		}
		g->opened = true;
		return fd;
	}
	return -ENOENT;
}

/* a number ending the name, or -ENOENT; -ENOTDIR when the walk goes on below it */
static long node_number(const char *p)
{
	char *end;
	long n;

	if (*p < '0' || *p > '9')
		return -ENOENT;
	n = strtol(p, &end, 10);
	if (*end == '/')
		return -ENOTDIR;
	return *end ? -ENOENT : n;
}

/*
 * Is there a /dev/vfio/devices? Its cdevs exist only with CONFIG_IOMMUFD, and
 * a no-IOMMU device has none (drivers/vfio/vfio.h vfio_device_add()): the
 * directory is there once one device has a cdev.
 */
static bool has_cdevs(const struct iommufd_emu *emu, const struct vfio_state *s)
{
	if (emu->config & IOMMUFD_EMU_CONFIG_NO_IOMMUFD)
		return false;
	for (const struct vdev *d = s->devs; d; d = d->next)
		if (!d->grp->noiommu)
			return true;
	return false;
}

/* stat of /dev/vfio/<group>, /dev/vfio/devices and its vfioN, as devtmpfs has them */
static int vfio_node_stat(struct iommufd_emu *emu, const char *rel, struct stat *st, void *data)
{
	struct vfio_state *s = data;
	const char *p = rel + strlen("vfio/");
	bool noiommu;
	long n;

	if (strncmp(p, "devices", 7) == 0 && (!p[7] || p[7] == '/')) {
		/* the cdevs (and so their directory) exist only with CONFIG_IOMMUFD */
		if (!has_cdevs(emu, s))
			return -ENOENT;
		if (!p[7] || !p[8]) {
			emu_stat_dir(st);
			return 0;
		}
		if (strncmp(p + 8, "vfio", 4))
			return -ENOENT;
		n = node_number(p + 12);
		if (n < 0)
			return (int)n;
		for (struct vdev *d = s->devs; d; d = d->next) {
			if (d->index == n && !d->grp->noiommu && !d->removing) {
				emu_stat_chr(st, VFIO_CDEV_MAJOR, (unsigned int)n, 0600);
				return 0;
			}
		}
		return -ENOENT;
	}
	noiommu = strncmp(p, "noiommu-", 8) == 0;
	n = node_number(noiommu ? p + 8 : p);
	if (n < 0)
		return (int)n;
	for (struct vgroup *g = s->groups; g; g = g->next) {
		if (g->nr == n && g->noiommu == noiommu) {
			emu_stat_chr(st, VFIO_GROUP_MAJOR, (unsigned int)n, 0600);
			return 0;
		}
	}
	return -ENOENT;
}

/* the entries of /dev/vfio (each group, devices/) and /dev/vfio/devices (vfioN) */
static int vfio_node_list(struct iommufd_emu *emu, const char *rel, emu_dirent_fn fn, void *fdata,
			  void *data)
{
	struct vfio_state *s = data;
	bool cdevs = has_cdevs(emu, s);
	char name[32];
	int r = 0;

	if (strcmp(rel, "vfio") == 0) {
		for (struct vgroup *g = s->groups; g && !r; g = g->next) {
			snprintf(name, sizeof(name), "%s%d", g->noiommu ? "noiommu-" : "", g->nr);
			r = fn(fdata, name, S_IFCHR);
		}
		return r ?: cdevs ? fn(fdata, "devices", S_IFDIR) : 0;
	}
	if (strcmp(rel, "vfio/devices") != 0 || !cdevs)
		return 0;
	for (struct vdev *d = s->devs; d && !r; d = d->next) {
		if (d->grp->noiommu || d->removing)
			continue;
		snprintf(name, sizeof(name), "vfio%d", d->index);
		r = fn(fdata, name, S_IFCHR);
	}
	return r;
}

/* ------------------------------------------------------------ public */

static struct vgroup *group_get(struct iommufd_emu *emu, struct vfio_state *s, int nr)
{
	struct vgroup *g;

	for (g = s->groups; g; g = g->next)
		if (g->nr == nr)
			return g;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->eg = emu_group_new(emu);
	if (!g->eg) {
		free(g);
		return NULL;
	}
	g->nr = nr;
	g->next = s->groups;
	s->groups = g;
	return g;
}

static bool group_used(struct vfio_state *s, int nr)
{
	for (struct vgroup *g = s->groups; g; g = g->next)
		if (g->nr == nr)
			return true;
	return false;
}

/* the IOMMU side of the device's option flags (the model set its defaults) */
static void apply_iommu_flags(struct vdev *d)
{
	if (d->opt_flags & IOMMUFD_EMU_DEVICE_PASID)
		d->edev.flags |= EMU_DEV_PASID;
	/* the model starts without dirty tracking, as QEMU's VT-d */
	if (d->opt_flags & IOMMUFD_EMU_DEVICE_DIRTY_TRACKING)
		d->edev.flags &= ~(unsigned int)EMU_DEV_NO_DIRTY;
	/* nor nesting */
	if (d->opt_flags & IOMMUFD_EMU_DEVICE_NESTING)
		d->edev.flags &= ~(unsigned int)EMU_DEV_NO_NEST;
}

/* the lowest vfioN no device has (the kernel's ida) */
static int free_index(struct vfio_state *s)
{
	for (int i = 0;; i++) {
		bool used = false;

		for (struct vdev *d = s->devs; d && !used; d = d->next)
			used = d->index == i;
		if (!used)
			return i;
	}
}

bool *vfio_enable_sriov(struct iommufd_emu *emu)
{
	struct vfio_state *s = emu->device_priv;

	return &s->enable_sriov;
}

struct vdev *vfio_device_find(struct iommufd_emu *emu, const char *bdf)
{
	struct vfio_state *s = emu->device_priv;

	for (struct vdev *d = s ? s->devs : NULL; d; d = d->next)
		if (strcmp(d->bdf, bdf) == 0)
			return d;
	return NULL;
}

bool vfio_device_in_use(const struct vdev *d)
{
	return d->cdev_file || d->open_count || d->t1_group_file || d->grp->opened || d->grp->file;
}

int vfio_vf_add(struct vdev *pf, unsigned int vf_id, const char *bdf, struct vdev **ret)
{
	struct iommufd_emu *emu = pf->emu;
	struct vfio_state *s = emu->device_priv;
	struct vdev *d;
	int group = 0, r;

	if (vfio_device_find(emu, bdf))
		return -EEXIST;
	/* a group of its own, numbered after the others (the VM: PF 10, VFs 11, 12) */
	for (struct vgroup *g = s->groups; g; g = g->next)
		if (g->nr >= group)
			group = g->nr + 1;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->emu = emu;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->kind = pf->kind;
	d->index = free_index(s);
	d->irq_index = -1;
	d->err_fd = -1;
	d->req_fd = -1;
	d->pm_wake_fd = -1;
	d->bar0_fd = -1;
	d->physfn = pf;
	d->vf_id = vf_id;
	d->opt_flags = pf->opt_flags & ~(uint32_t)IOMMUFD_EMU_DEVICE_SRIOV;
	d->opt_ns_size = pf->opt_ns_size;
	memcpy(d->opt_serial, pf->opt_serial, sizeof(d->opt_serial));
	d->grp = group_get(emu, s, group);
	if (!d->grp) {
		free(d);
		return -ENOMEM;
	}
	d->edev.group = d->grp->eg;
	d->svc = s->svc;
	r = vdev_model_init(d);
	if (r) {
		s->groups = d->grp->next; /* group_get() put the new group first */
		emu_group_free(d->grp->eg);
		free(d->grp);
		free(d);
		return r;
	}
	apply_iommu_flags(d);
	d->next = s->devs;
	s->devs = d;
	if (d->index >= s->next_index)
		s->next_index = d->index + 1;
	*ret = d;
	return 0;
}

void vfio_vf_remove(struct vdev *vf)
{
	struct vfio_state *s = vf->emu->device_priv;
	struct vgroup *g = vf->grp;
	bool shared = false;

	for (struct vdev **p = &s->devs; *p; p = &(*p)->next) {
		if (*p == vf) {
			*p = vf->next;
			break;
		}
	}
	for (struct vdev *d = s->devs; d && !shared; d = d->next)
		shared = d->grp == g;
	if (!shared) {
		for (struct vgroup **p = &s->groups; *p; p = &(*p)->next) {
			if (*p == g) {
				*p = g->next;
				break;
			}
		}
		if (g->ictx)
			emu_ictx_put(g->ictx);
		emu_type1_detach_group(&g->t1);
		free(g->t1.devs);
		emu_group_free(g->eg);
		free(g);
	}
	vdev_model_free(vf);
	free(vf);
}

IOMMUFD_EMU_EXPORT int iommufd_emu_add_pci_device(struct iommufd_emu *emu,
					      const struct iommufd_emu_device_opts *user_opts,
					      char *cdev_path, size_t len)
{
	/* the caller's opts, zero-extended to this library's version */
	struct iommufd_emu_device_opts o;
	const struct iommufd_emu_device_opts *opts = &o;
	struct vfio_state *s;
	char bdf[IFD_BDF_LEN];
	struct ifd_bdf addr;
	const char *why;
	struct vdev *d;
	unsigned int slot = 2;
	bool noiommu;
	int group, r;

	if (!emu || !user_opts)
		return EMU_FAIL(EINVAL, "emu or opts is NULL");
	/* kind is the one field every version must have */
	r = ifd_ext_copy_in(&o, sizeof(o), user_opts,
			    offsetof(struct iommufd_emu_device_opts, kind) + sizeof(o.kind));
	if (r)
		return EMU_FAIL(r, "opts->sz %zu: %s", user_opts->sz,
			    r == -E2BIG ? "unknown non-zero bytes past the known fields" :
					  "too small");
	if (opts->kind < IOMMUFD_EMU_DEVICE_EDU || opts->kind > IOMMUFD_EMU_DEVICE_GENERIC)
		return EMU_FAIL(EINVAL, "unknown device kind %u", opts->kind);
	if (opts->group < 0)
		return EMU_FAIL(EINVAL, "group %d", opts->group);
	if (opts->sz >= offsetof(struct iommufd_emu_device_opts, flags) + sizeof(uint32_t) &&
	    (opts->flags & ~(IOMMUFD_EMU_DEVICE_PASID | IOMMUFD_EMU_DEVICE_DIRTY_TRACKING |
			     IOMMUFD_EMU_DEVICE_NVME_NO_NAMESPACE | IOMMUFD_EMU_DEVICE_NESTING |
			     IOMMUFD_EMU_DEVICE_MSIX_SPARSE | IOMMUFD_EMU_DEVICE_MIGRATION |
			     IOMMUFD_EMU_DEVICE_MIGRATION_STOP_COPY_ONLY | IOMMUFD_EMU_DEVICE_NOIOMMU |
			     IOMMUFD_EMU_DEVICE_SRIOV)))
		return EMU_FAIL(EINVAL, "unknown flags %#x", opts->flags);
	if (opts->sz >= offsetof(struct iommufd_emu_device_opts, flags) + sizeof(uint32_t) &&
	    (opts->flags & IOMMUFD_EMU_DEVICE_SRIOV) &&
	    (opts->kind != IOMMUFD_EMU_DEVICE_NVME || (opts->flags & IOMMUFD_EMU_DEVICE_NOIOMMU)))
		return EMU_FAIL(EINVAL, "an SR-IOV PF is modelled for NVMe with an IOMMU only");
	if (opts->nvme_ns_size % 512 || opts->nvme_ns_size > (1ull << 40))
		return EMU_FAIL(EINVAL, "NVMe namespace of %llu bytes: not a multiple of 512 "
			    "up to 1 TiB", (unsigned long long)opts->nvme_ns_size);
	if (opts->nvme_serial) {
		size_t n = strlen(opts->nvme_serial);

		for (size_t i = 0; i < n; i++)
			if (opts->nvme_serial[i] < 0x20 || opts->nvme_serial[i] > 0x7e)
				n = 0;
		if (n == 0 || n > 20)
			return EMU_FAIL(EINVAL, "NVMe serial \"%s\": 1 to 20 printable ASCII "
				    "characters", opts->nvme_serial);
	}
	noiommu = opts->sz >= offsetof(struct iommufd_emu_device_opts, flags) + sizeof(uint32_t) &&
		  (opts->flags & IOMMUFD_EMU_DEVICE_NOIOMMU);
	if (opts->bdf && ifd_bdf_parse(opts->bdf, &addr, &why))
		return EMU_FAIL(EINVAL, "\"%.64s\" is not a PCI address like 0000:00:02.0: %s",
				opts->bdf, why);

	emu_lock(emu);
	s = state_get(emu);
	if (!s) {
		emu_unlock(emu);
		return EMU_FAIL(ENOMEM, "emulated VFIO state");
	}
	if (opts->bdf) {
		ifd_bdf_format(&addr, bdf);
		slot = addr.dev;
	} else {
		for (;; slot++) {
			bool used = false;

			snprintf(bdf, sizeof(bdf), "0000:00:%02x.0", slot);
			for (d = s->devs; d; d = d->next)
				used |= strcmp(d->bdf, bdf) == 0;
			if (!used || slot >= 31)
				break;
		}
	}
	for (d = s->devs; d; d = d->next) {
		if (strcmp(d->bdf, bdf) == 0) {
			emu_unlock(emu);
			return EMU_FAIL(EEXIST, "PCI device %s exists", bdf);
		}
	}
	group = opts->group;
	if (!group) {
		/* like x86 with an IOMMU: a group per device, numbered by slot where free */
		group = (int)slot;
		while (group_used(s, group))
			group++;
	}
	for (struct vgroup *g = s->groups; g; g = g->next) {
		if (g->nr == group && g->noiommu != noiommu) {
			emu_unlock(emu);
			return EMU_FAIL(EINVAL, "group %d %s a no-IOMMU group: a group's devices are all "
					"no-IOMMU or none", group, noiommu ? "is not" : "is");
		}
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		emu_unlock(emu);
		return EMU_FAIL(ENOMEM, "device %s", bdf);
	}
	d->emu = emu;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->kind = opts->kind;
	d->index = free_index(s); /* next_index but after VFs came and went */
	d->irq_index = -1;
	d->err_fd = -1;
	d->req_fd = -1;
	d->pm_wake_fd = -1;
	d->bar0_fd = -1;
	d->grp = group_get(emu, s, group);
	if (!d->grp) {
		free(d);
		emu_unlock(emu);
		return EMU_FAIL(ENOMEM, "group %d", group);
	}
	d->grp->noiommu = noiommu;
	d->edev.group = d->grp->eg;
	d->svc = s->svc;
	if (opts->sz >= offsetof(struct iommufd_emu_device_opts, flags) + sizeof(uint32_t))
		d->opt_flags = opts->flags;
	d->opt_ns_size = opts->nvme_ns_size;
	if (opts->nvme_serial)
		snprintf(d->opt_serial, sizeof(d->opt_serial), "%s", opts->nvme_serial);
	r = (d->opt_flags & IOMMUFD_EMU_DEVICE_SRIOV) ? vsriov_init(d) : 0;
	if (!r)
		r = vdev_model_init(d);
	if (!r)
		apply_iommu_flags(d);
	if (!r) {
		r = vmig_init(d);
		if (r) {
			vdev_model_free(d);
			free(d);
			emu_unlock(emu);
			return EMU_FAIL(r, "%s: migration is modelled for edu only (and "
					"STOP_COPY_ONLY goes with MIGRATION)", bdf);
		}
	}
	if (r) {
		free(d);
		emu_unlock(emu);
		return EMU_FAIL(r, "device model of %s", bdf);
	}
	if (!s->devs) {
		r = emu_node_register(emu, "vfio/", vfio_node_open, s);
		if (!r)
			r = emu_node_set_stat(emu, "vfio/", vfio_node_stat);
		if (!r)
			r = emu_node_set_list(emu, "vfio/", vfio_node_list);
		if (r) {
			emu_node_unregister(emu, "vfio/");
			vdev_model_free(d);
			free(d);
			emu_unlock(emu);
			return EMU_FAIL(r, "registering the vfio nodes");
		}
	}
	d->next = s->devs;
	s->devs = d;
	if (d->index >= s->next_index)
		s->next_index = d->index + 1;
	if (noiommu)
		emu->noiommu_mode = true;
	if (cdev_path && len) {
		if ((emu->config & IOMMUFD_EMU_CONFIG_NO_IOMMUFD) || noiommu)
			cdev_path[0] = 0; /* no cdev without CONFIG_IOMMUFD, nor of a no-IOMMU device */
		else
			snprintf(cdev_path, len, "%s/vfio/devices/vfio%d", BE_DEV_ROOT, d->index);
	}
	emu_unlock(emu);
	return 0;
}

IOMMUFD_EMU_EXPORT int iommufd_emu_device_get_dma_faults(struct iommufd_emu *emu, const char *bdf,
						     uint64_t *count, uint64_t *last_iova)
{
	struct vfio_state *s;

	if (!emu || !bdf || !count)
		return EMU_FAIL(EINVAL, "emu, bdf or count is NULL");
	emu_lock(emu);
	s = emu->device_priv;
	for (struct vdev *d = s ? s->devs : NULL; d; d = d->next) {
		if (strcmp(d->bdf, bdf))
			continue;
		*count = d->dma_faults;
		if (last_iova)
			*last_iova = d->last_fault_iova;
		emu_unlock(emu);
		return 0;
	}
	emu_unlock(emu);
	return EMU_FAIL(ENODEV, "no emulated PCI device %s", bdf);
}

IOMMUFD_EMU_EXPORT int iommufd_emu_device_set_sriov_totalvfs(struct iommufd_emu *emu, const char *bdf,
							 unsigned int totalvfs)
{
	struct vdev *d;
	int r;

	if (!emu || !bdf)
		return EMU_FAIL(EINVAL, "emu or bdf is NULL");
	emu_lock(emu);
	d = vfio_device_find(emu, bdf);
	if (!d) {
		emu_unlock(emu);
		return EMU_FAIL(ENODEV, "no emulated PCI device %s", bdf);
	}
	if (!d->sriov) {
		emu_unlock(emu);
		return EMU_FAIL(EINVAL, "%s is not an SR-IOV PF (IOMMUFD_EMU_DEVICE_SRIOV)", bdf);
	}
	r = vsriov_set_totalvfs(d, totalvfs);
	emu_unlock(emu);
	if (r == -EBUSY)
		return EMU_FAIL(EBUSY, "%s has VFs enabled: disable them (sriov_numvfs 0) first", bdf);
	if (r)
		return EMU_FAIL(-r, "%u VFs for %s: 1 to %u (QEMU's NVMe at most)", totalvfs, bdf,
				VSRIOV_MAX_VFS);
	return 0;
}

/* ------------------------------------------------------------ public: device-side events */

static struct vdev *vdev_find(struct iommufd_emu *emu, const char *bdf)
{
	struct vfio_state *s = emu->device_priv;

	for (struct vdev *d = s ? s->devs : NULL; d; d = d->next)
		if (strcmp(d->bdf, bdf) == 0)
			return d;
	return NULL;
}

static const char *dma_refusal(int r)
{
	switch (r) {
	case -ENODEV:
		return "not attached (blocked)";
	case -ENOENT:
		return "IOVA not mapped";
	case -EPERM:
		return "no permission";
	}
	return "process memory behind the IOVA is gone";
}

IOMMUFD_EMU_EXPORT int iommufd_emu_device_dma(struct iommufd_emu *emu, const char *bdf, uint32_t pasid,
					  uint64_t iova, void *buf, size_t len, bool write)
{
	struct vdev *d;
	int r;

	if (!emu || !bdf || !buf || !len)
		return EMU_FAIL(EINVAL, "emu, bdf or buf is NULL, or len is 0");
	emu_lock(emu);
	d = vdev_find(emu, bdf);
	if (!d) {
		emu_unlock(emu);
		return EMU_FAIL(ENODEV, "no emulated PCI device %s", bdf);
	}
	r = emu_device_dma(&d->edev, pasid, iova, buf, len, write);
	if (r && d->grp->noiommu) {
		d->dma_faults++;
		d->last_fault_iova = iova;
		emu_unlock(emu);
		return EMU_FAIL(EFAULT,
			    "DMA %s of %s at %#" PRIx64 " + %zu refused: a no-IOMMU device's DMA is not "
			    "translated, it reaches physical addresses, and the emulator has no physical "
			    "memory", write ? "write" : "read", bdf, iova, len);
	}
	if (r) {
		d->dma_faults++;
		d->last_fault_iova = iova;
		emu_unlock(emu);
		return EMU_FAIL(EFAULT,
			    "DMA %s of %s (pasid %u) at IOVA %#" PRIx64 " + %zu refused: %s",
			    write ? "write" : "read", bdf, pasid, iova, len, dma_refusal(r));
	}
	emu_unlock(emu);
	return 0;
}

IOMMUFD_EMU_EXPORT int iommufd_emu_device_page_fault(struct iommufd_emu *emu, const char *bdf,
						 uint32_t pasid, uint32_t grpid, uint32_t perm,
						 uint64_t addr)
{
	const uint32_t perms = IOMMUFD_FAULT_PERM_READ | IOMMUFD_FAULT_PERM_WRITE |
			       IOMMUFD_FAULT_PERM_EXEC | IOMMUFD_FAULT_PERM_PRIV;
	struct vdev *d;
	int r;

	if (!emu || !bdf)
		return EMU_FAIL(EINVAL, "emu or bdf is NULL");
	if (perm & ~perms)
		return EMU_FAIL(EINVAL, "unknown perm bits %#x", perm & ~perms);
	emu_lock(emu);
	d = vdev_find(emu, bdf);
	if (!d) {
		emu_unlock(emu);
		return EMU_FAIL(ENODEV, "no emulated PCI device %s", bdf);
	}
	r = emu_device_iopf(&d->edev, pasid, grpid, perm, addr);
	emu_unlock(emu);
	/* blocked (-ENODEV): no domain, so no fault handler either */
	if (r == -ENODEV || r == -EOPNOTSUPP)
		return EMU_FAIL(EOPNOTSUPP, "%s pasid %u: %s", bdf, pasid,
			    r == -ENODEV ? "not attached" : "the attached HWPT has no fault queue");
	if (r)
		return EMU_FAIL(-r, "page fault of %s pasid %u at %#" PRIx64, bdf, pasid, addr);
	return 0;
}

/* payload bytes of one vEVENT of type, 0: no driver reports that type */
static size_t vevent_size(uint32_t type)
{
	switch (type) {
	case KABI_VEVENTQ_TYPE_ARM_SMMUV3:
		return sizeof(struct kabi_vevent_arm_smmuv3);
	case KABI_VEVENTQ_TYPE_TEGRA241_CMDQV:
		return sizeof(struct kabi_vevent_tegra241_cmdqv);
	case KABI_VEVENTQ_TYPE_SELFTEST:
		return sizeof(uint32_t); /* the mock's {u32 virt_id} */
	}
	return 0;
}

IOMMUFD_EMU_EXPORT int iommufd_emu_device_vevent(struct iommufd_emu *emu, const char *bdf,
					     uint32_t type, const void *data, size_t len)
{
	struct emu_idev *idev;
	struct emu_hwpt *hwpt = NULL;
	struct emu_veventq *q;
	struct vdev *d;
	int r;

	if (!emu || !bdf || !data)
		return EMU_FAIL(EINVAL, "emu, bdf or data is NULL");
	/* the event stream has no lengths: each type's record has a fixed size */
	if (!vevent_size(type) || len != vevent_size(type))
		return EMU_FAIL(EINVAL, "vEVENT type %#x with %zu bytes (%zu for this type)",
			    type, len, vevent_size(type));
	emu_lock(emu);
	d = vdev_find(emu, bdf);
	if (!d) {
		emu_unlock(emu);
		return EMU_FAIL(ENODEV, "no emulated PCI device %s", bdf);
	}
	/* the vIOMMU of the device's current (nested) domain on the RID */
	idev = d->edev.idev;
	for (unsigned int i = 0; idev && i < idev->natt; i++)
		if (idev->att[i].pasid == EMU_NO_PASID)
			hwpt = idev->att[i].hwpt;
	if (!hwpt || !hwpt->viommu || !idev->vdev || idev->vdev->viommu != hwpt->viommu) {
		emu_unlock(emu);
		return EMU_FAIL(ENOENT, "%s: not attached to a HWPT of a vIOMMU with its vDEVICE",
			    bdf);
	}
	q = emu_viommu_find_veventq(hwpt->viommu, type);
	if (!q) {
		emu_unlock(emu);
		return EMU_FAIL(EOPNOTSUPP, "%s: the vIOMMU has no vEVENT queue of type %#x", bdf,
			    type);
	}
	r = emu_veventq_report(q, data, (uint32_t)len);
	emu_unlock(emu);
	if (r)
		return EMU_FAIL(-r, "vEVENT of %s: out of memory (recorded as lost)", bdf);
	return 0;
}
