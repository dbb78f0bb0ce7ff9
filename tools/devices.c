// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * iommufd devices: the PCI devices with driver, IOMMU group and VFIO cdev,
 * and whether each can be bound to iommufd (if not, why and the fix).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "parse.h"
#include "tool.h"

/* ------------------------------------------------------------------ */
/* devices                                                              */
/* ------------------------------------------------------------------ */

struct pci_dev {
	char bdf[32], vendor[8], device[8], class[8], driver[64], group[16];
	char cdev[64];     /* "vfio0" or "" */
	bool cdev_node;    /* /dev/vfio/devices/<cdev> exists */
	bool cdev_access;  /* ... and is read/write for us */
	bool noiommu;      /* a no-IOMMU VFIO group: DMA not translated */
	bool viable;       /* every device of the group is free for userspace */
	bool bindable;
	char reason[320], fix[640];
};

static bool is_vfio_driver(const char *drv)
{
	return !strncmp(drv, "vfio", 4);
}

/* drivers that do not stop a group from going to userspace */
static bool driver_ok_in_group(const char *drv)
{
	return !*drv || is_vfio_driver(drv) || !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport");
}

static void hex_attr(const char *bdf, const char *attr, char *out, size_t size)
{
	char p[PATH_MAX], v[32];

	if (read_line(lpath(p, "/sys/bus/pci/devices/%s/%s", bdf, attr), v, sizeof(v)) < 0)
		snprintf(v, sizeof(v), "?");
	snprintf(out, size, "%.*s", (int)size - 1, strncmp(v, "0x", 2) ? v : v + 2);
}

/* fill in d for the PCI device bdf */
static void pci_dev_read(struct pci_dev *d, const char *bdf)
{
	char p[PATH_MAX], **ents = NULL, other[256] = "";
	int n;

	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	hex_attr(bdf, "vendor", d->vendor, sizeof(d->vendor));
	hex_attr(bdf, "device", d->device, sizeof(d->device));
	hex_attr(bdf, "class", d->class, sizeof(d->class));
	read_link_base(lpath(p, "/sys/bus/pci/devices/%s/driver", bdf), d->driver, sizeof(d->driver));
	read_link_base(lpath(p, "/sys/bus/pci/devices/%s/iommu_group", bdf), d->group, sizeof(d->group));
	if (d->group[0]) {
		char name[32];

		/* drivers/vfio/group.c vfio_noiommu_group_alloc() names the group */
		d->noiommu = read_line(lpath(p, "/sys/kernel/iommu_groups/%s/name", d->group), name,
				       sizeof(name)) >= 0 &&
			     !strcmp(name, "vfio-noiommu");
	}

	n = list_dir(lpath(p, "/sys/bus/pci/devices/%s/vfio-dev", bdf), &ents);
	if (n > 0) {
		snprintf(d->cdev, sizeof(d->cdev), "%s", ents[0]);
		d->cdev_node = exists(lpath(p, "/dev/vfio/devices/%s", d->cdev));
		d->cdev_access = d->cdev_node && rw_access(p);
	}
	free_list(ents);
	ents = NULL;

	/* viability: every device of the IOMMU group is unbound or on a userspace-safe driver */
	d->viable = d->group[0] != 0;
	n = d->group[0] ? list_dir(lpath(p, "/sys/kernel/iommu_groups/%s/devices", d->group), &ents) : 0;
	for (int i = 0; i < n; i++) {
		char drv[64] = "";

		if (!strcmp(ents[i], bdf))
			continue;
		read_link_base(lpath(p, "/sys/kernel/iommu_groups/%s/devices/%s/driver", d->group, ents[i]),
			       drv, sizeof(drv));
		if (!driver_ok_in_group(drv)) {
			d->viable = false;
			snprintf(other, sizeof(other), "%s (driver %s)", ents[i], drv);
		}
	}
	free_list(ents);

	if (!d->group[0]) {
		snprintf(d->reason, sizeof(d->reason), "no IOMMU group");
		snprintf(d->fix, sizeof(d->fix), "enable the IOMMU (firmware, intel_iommu=on); see `iommufd info`");
	} else if (!is_vfio_driver(d->driver)) {
		snprintf(d->reason, sizeof(d->reason), "driver %s, not vfio-pci", d->driver[0] ? d->driver : "none");
		if (d->driver[0])
			snprintf(d->fix, sizeof(d->fix),
				 "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; echo %s > /sys/bus/pci/drivers/%s/unbind; echo %s > /sys/bus/pci/drivers_probe",
				 bdf, bdf, d->driver, bdf);
		else
			snprintf(d->fix, sizeof(d->fix),
				 "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; echo %s > /sys/bus/pci/drivers_probe",
				 bdf, bdf);
	} else if (d->noiommu) {
		/* no cdev (drivers/vfio/vfio.h vfio_device_add()), although sysfs
		 * lists vfio-dev/vfioN: the group path only */
		d->cdev[0] = 0;
		snprintf(d->reason, sizeof(d->reason),
			 "no-IOMMU group %s: DMA is NOT translated (unsafe), no cdev; only /dev/vfio/noiommu-%s",
			 d->group, d->group);
		snprintf(d->fix, sizeof(d->fix),
			 "open it through its group (iommufd_group_open(%s)) as root (CAP_SYS_RAWIO), or boot with the IOMMU on",
			 d->group);
	} else if (!d->cdev[0]) {
		snprintf(d->reason, sizeof(d->reason), "on %s but has no VFIO cdev", d->driver);
		snprintf(d->fix, sizeof(d->fix),
			 "boot a kernel with CONFIG_VFIO_DEVICE_CDEV=y (or use the group path /dev/vfio/%s)", d->group);
	} else if (!d->cdev_node) {
		snprintf(d->reason, sizeof(d->reason), "/dev/vfio/devices/%s does not exist", d->cdev);
		snprintf(d->fix, sizeof(d->fix), "mount devtmpfs on /dev or check udev");
	} else if (!d->cdev_access) {
		snprintf(d->reason, sizeof(d->reason), "/dev/vfio/devices/%s is not read/write for uid %u", d->cdev,
			 getuid());
		snprintf(d->fix, sizeof(d->fix), "run as root or chown /dev/vfio/devices/%s to your user", d->cdev);
	} else if (!d->viable) {
		snprintf(d->reason, sizeof(d->reason), "IOMMU group %s not viable: %s", d->group, other);
		snprintf(d->fix, sizeof(d->fix), "unbind %s from its driver or hand it to vfio-pci too", other);
	} else {
		d->bindable = true;
	}
}

/* names and values from the tree, printed on a terminal: no escape sequence gets through */
static void pci_dev_tty_safe(struct pci_dev *d)
{
	char *fields[] = { d->bdf, d->vendor, d->device, d->class, d->driver, d->group, d->cdev, d->reason, d->fix };

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		tty_safe(fields[i]);
}

static int devices_run(const struct tool_args *args)
{
	char p[PATH_MAX], **names = NULL;
	int n = list_dir(lpath(p, "/sys/bus/pci/devices"), &names), nfix = 0;
	bool json = args->json;
	struct pci_dev d;
	struct json j;

	if (n < 0) {
		errorf("cannot list /sys/bus/pci/devices%s%s: %s", *root ? " under " : "", root, tool_strerror(-n));
		return EXIT_UNUSABLE;
	}
	if (json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "root", *root ? root : "/");
		json_open(&j, "devices", '[');
	} else {
		printf("%-13s %-9s %-6s %-12s %-5s %-23s %s\n", "DEVICE", "ID", "CLASS", "DRIVER", "GROUP",
		       "CDEV", "BINDABLE");
	}
	for (int i = 0; i < n; i++) {
		char cdev[96];

		pci_dev_read(&d, names[i]);
		if (!json)
			pci_dev_tty_safe(&d);
		snprintf(cdev, sizeof(cdev), "/dev/vfio/devices/%s", d.cdev);
		if (json) {
			json_open(&j, NULL, '{');
			json_str(&j, "device", d.bdf);
			json_str(&j, "vendor", d.vendor);
			json_str(&j, "device_id", d.device);
			json_str(&j, "class", d.class);
			json_str(&j, "driver", d.driver[0] ? d.driver : NULL);
			json_str(&j, "iommu_group", d.group[0] ? d.group : NULL);
			json_str(&j, "cdev", d.cdev[0] ? cdev : NULL);
			json_bool(&j, "cdev_accessible", d.cdev_access);
			json_bool(&j, "noiommu", d.noiommu);
			json_bool(&j, "dma_translated", !d.noiommu && d.group[0]);
			json_bool(&j, "group_viable", d.viable);
			json_bool(&j, "bindable", d.bindable);
			json_str(&j, "reason", d.bindable ? NULL : d.reason);
			json_str(&j, "fix", d.bindable ? NULL : d.fix);
			json_close(&j, '}');
		} else {
			printf("%-13s %4s:%-4s %-6.6s %-12s %-5s %-23s %s%s\n", d.bdf, d.vendor, d.device, d.class,
			       d.driver[0] ? d.driver : "-", d.group[0] ? d.group : "-", d.cdev[0] ? cdev : "-",
			       d.bindable ? "yes" : "no: ", d.bindable ? "" : d.reason);
			nfix += !d.bindable && is_vfio_driver(d.driver);
		}
	}
	if (json) {
		json_close(&j, ']');
		json_close(&j, '}');
	} else if (n == 0) {
		printf("(no PCI devices)\n");
	} else {
		/* the fixes of devices meant for userspace (on vfio-*), then the general recipe */
		for (int i = 0; nfix && i < n; i++) {
			pci_dev_read(&d, names[i]);
			pci_dev_tty_safe(&d);
			if (!d.bindable && is_vfio_driver(d.driver))
				printf("%s fix: %s\n", d.bdf, d.fix);
		}
		printf("\nto hand device BDF to vfio-pci (as root):\n"
		       "  echo vfio-pci > /sys/bus/pci/devices/BDF/driver_override\n"
		       "  echo BDF > /sys/bus/pci/devices/BDF/driver/unbind   # if it has a driver\n"
		       "  echo BDF > /sys/bus/pci/drivers_probe\n");
	}
	free_list(names);
	return fflush(stdout) ? EXIT_FAILED : EXIT_OK;
}

const struct tool_cmd tool_cmd_devices = {
	.name = "devices",
	.help = "PCI devices with driver, IOMMU group, VFIO cdev, and whether they can be bound",
	.opts = TOOL_OPT_JSON | TOOL_OPT_ROOT,
	.run = devices_run,
};
