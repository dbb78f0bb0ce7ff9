// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * sysfs below the kernel boundary (be_sysfs_read/readlink/list): the
 * emulator's view of its devices, in memory, and iommufd_device_open_pci()
 * over it with nothing written to disk. Emulator only.
 *
 * The process runs in a mount namespace of its own with an empty tmpfs on
 * /tmp when it may (root, or an unprivileged user namespace), so that the
 * "nothing new in /tmp" checks see this process only; otherwise (or under
 * valgrind, whose vgdb pipes live in /tmp) they compare the host's /tmp
 * before and after, for entries named iommufd*.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common.h"
#include "shared/backend.h"

#define EDU_BDF "0000:00:02.0"
#define GEN_BDF "0000:00:05.1"

static bool private_tmp;

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, s, strlen(s)) < 0)
			(void)0;
		close(fd);
	}
}

/* a mount namespace with an empty tmpfs on /tmp: true if made */
static bool make_private_tmp(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	const char *pre = getenv("LD_PRELOAD");
	char map[64];

	/* valgrind keeps its vgdb pipes in /tmp and could not remove them after */
	if (pre && strstr(pre, "vgpreload"))
		return false;
	if (unshare(CLONE_NEWNS) < 0) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return false;
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
		write_file("/proc/self/uid_map", map);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
		write_file("/proc/self/gid_map", map);
	}
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return false;
	return mount("iommufd-test-tmp", "/tmp", "tmpfs", 0, "mode=1777") == 0;
}

/* entries of /tmp that count: all in a private /tmp; otherwise the names
 * the emulator and the preload library ever used (tests running meanwhile
 * make and remove iommufd-kmod.*, iommufd-tool-test.* and the like) */
static int tmp_count(void)
{
	DIR *d = opendir("/tmp");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (private_tmp || strncmp(de->d_name, "iommufd-emu-", 12) == 0 ||
		    strncmp(de->d_name, "iommufd-preload-", 16) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static struct iommufd_backend *emu_with_devices(void)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, edu, .kind = IOMMUFD_EMU_DEVICE_EDU,
		     .bdf = EDU_BDF);
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, a, .kind = IOMMUFD_EMU_DEVICE_GENERIC,
		     .bdf = "0000:00:05.0", .group = 9);
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, b, .kind = IOMMUFD_EMU_DEVICE_GENERIC,
		     .bdf = GEN_BDF, .group = 9);
	struct iommufd_backend *be = test_backend_get();

	assert_int_equal(iommufd_emu_add_pci_device(test_emu(), &edu, NULL, 0), 0);
	assert_int_equal(iommufd_emu_add_pci_device(test_emu(), &a, NULL, 0), 0);
	assert_int_equal(iommufd_emu_add_pci_device(test_emu(), &b, NULL, 0), 0);
	return be;
}

struct names {
	char all[512];
	int n;
};

static int collect(void *data, const char *name)
{
	struct names *s = data;
	size_t l = strlen(s->all);

	snprintf(s->all + l, sizeof(s->all) - l, "%s%s", l ? " " : "", name);
	s->n++;
	return 0;
}

static int stop_at_second(void *data, const char *name)
{
	(void)name;
	return ++*(int *)data == 2 ? 42 : 0;
}

static void assert_read(struct iommufd_backend *be, const char *rel, const char *want)
{
	char buf[64];
	ssize_t n = be_sysfs_read(be, rel, buf, sizeof(buf));

	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, (size_t)n);
}

static void assert_link(struct iommufd_backend *be, const char *rel, const char *want)
{
	char buf[128];
	ssize_t n = be_sysfs_readlink(be, rel, buf, sizeof(buf));

	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, (size_t)n);
}

static void test_view(void **state)
{
	struct iommufd_backend *be;
	struct names s = { "", 0 };
	char buf[4];
	int count = 0;

	(void)state;
	be = emu_with_devices();
	assert_int_equal(be_sysfs_list(be, "bus/pci/devices", collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_non_null(strstr(s.all, EDU_BDF));
	memset(&s, 0, sizeof(s));
	assert_int_equal(be_sysfs_list(be, "bus/pci/devices/" EDU_BDF, collect, &s), 0);
	assert_string_equal(s.all, "vendor device class vfio-dev iommu_group driver subsystem driver_override");
	memset(&s, 0, sizeof(s));
	assert_int_equal(be_sysfs_list(be, "", collect, &s), 0);
	assert_string_equal(s.all, "bus kernel devices class module");
	memset(&s, 0, sizeof(s));
	/* one entry per group with devices */
	assert_int_equal(be_sysfs_list(be, "kernel/iommu_groups", collect, &s), 0);
	assert_int_equal(s.n, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(be_sysfs_list(be, "kernel/iommu_groups/9/devices", collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(be_sysfs_list(be, "bus/pci/drivers/vfio-pci", collect, &s), 0);
	/* fn's non-zero return stops the walk and is returned */
	assert_int_equal(be_sysfs_list(be, "bus/pci/devices", stop_at_second, &count), 42);
	assert_int_equal(count, 2);

	assert_read(be, "bus/pci/devices/" EDU_BDF "/vendor", "0x1234\n");
	assert_read(be, "bus/pci/devices/" EDU_BDF "/device", "0x11e8\n");
	assert_read(be, "bus/pci/devices/" EDU_BDF "/vfio-dev/vfio0/dev", "511:0\n");
	/* bounded by len, no NUL added */
	assert_int_equal(be_sysfs_read(be, "bus/pci/devices/" EDU_BDF "/vendor", buf, 4), 4);
	assert_memory_equal(buf, "0x12", 4);
	assert_link(be, "bus/pci/devices/" EDU_BDF "/iommu_group", "../../../kernel/iommu_groups/2");
	assert_link(be, "bus/pci/devices/" EDU_BDF "/driver", "../../../bus/pci/drivers/vfio-pci");
	assert_link(be, "bus/pci/devices/" EDU_BDF "/subsystem", "../../../bus/pci");
	assert_link(be, "bus/pci/devices/" EDU_BDF, "../../../devices/pci0000:00/" EDU_BDF);
	assert_link(be, "bus/pci/drivers/vfio-pci/" EDU_BDF, "../../../../devices/pci0000:00/" EDU_BDF);
	assert_link(be, "kernel/iommu_groups/9/devices/" GEN_BDF, "../../../../devices/pci0000:00/" GEN_BDF);
	assert_link(be, "class/vfio-dev/vfio0", "../../devices/pci0000:00/" EDU_BDF "/vfio-dev/vfio0");
	assert_read(be, "class/vfio-dev/vfio0/dev", "511:0\n");
	/* links in the middle are followed, relative to their directory */
	assert_read(be, "kernel/iommu_groups/2/devices/" EDU_BDF "/vendor", "0x1234\n");
	assert_read(be, "bus/pci/devices/" EDU_BDF "/iommu_group/devices/" EDU_BDF "/class",
		    "0x00ff00\n");
	assert_read(be, "bus/pci/devices/./" EDU_BDF "//vendor", "0x1234\n");
	assert_read(be, "bus/pci/devices/" EDU_BDF "/../" EDU_BDF "/vendor", "0x1234\n");
	memset(&s, 0, sizeof(s));
	assert_int_equal(be_sysfs_list(be, "bus/pci/devices/" EDU_BDF "/iommu_group/devices", collect, &s), 0);
	assert_string_equal(s.all, EDU_BDF);

	/* the kernel's errnos */
	assert_int_equal(be_sysfs_read(be, "bus/pci/devices/0000:00:1f.0/vendor", buf, 4), -ENOENT);
	assert_int_equal(be_sysfs_read(be, "bus/pci/devices", buf, 4), -EISDIR);
	assert_int_equal(be_sysfs_read(be, "bus/pci/devices/" EDU_BDF "/vendor/x", buf, 4), -ENOTDIR);
	assert_int_equal(be_sysfs_readlink(be, "bus/pci/devices/" EDU_BDF "/vendor", buf, 4), -EINVAL);
	assert_int_equal(be_sysfs_list(be, "bus/pci/devices/" EDU_BDF "/vendor", collect, &s), -ENOTDIR);
	assert_int_equal(be_sysfs_list(be, "nope", collect, &s), -ENOENT);
	test_backend_put();
}

/* the library finds, opens and checks the cdev over the view; nothing in /tmp */
static void test_open_pci_no_tmp(void **state)
{
	struct iommufd_ctx *scope;
	struct iommufd_device *dev = NULL;
	int before = tmp_count(), group = -1;

	(void)state;
	emu_with_devices();
	scope = test_scope();
	assert_int_equal(iommufd_device_open_pci(scope, EDU_BDF, &dev), 0);
	assert_non_null(dev);
	iommufd_device_unref(dev);
	assert_int_equal(iommufd_pci_get_iommu_group(scope, GEN_BDF, &group), 0);
	assert_int_equal(group, 9);
	/* the messages name sysfs as the kernel's */
	assert_errno(iommufd_device_open_pci(scope, "0000:00:1e.0", &dev), ENODEV);
	assert_non_null(strstr(iommufd_last_error(), "/sys/bus/pci/devices/0000:00:1e.0"));
	assert_errno(iommufd_pci_get_iommu_group(scope, "0000:00:1e.0", &group), ENODEV);
	/* while the emulator lives (a tree would be there now) and after */
	assert_int_equal(tmp_count(), before);
	test_backend_put();
	assert_int_equal(tmp_count(), before);
	if (private_tmp)
		assert_int_equal(before, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view),
		cmocka_unit_test(test_open_pci_no_tmp),
	};

	if (getenv("IOMMUFD_TEST_REAL") && strcmp(getenv("IOMMUFD_TEST_REAL"), "0") != 0) {
		fprintf(stderr, "emulator only\n");
		return 77;
	}
	private_tmp = make_private_tmp();
	if (!private_tmp)
		fprintf(stderr, "# no private /tmp here: counting iommufd* entries of the host's\n");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
