// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /sys for vfio-pci devices as programs see it with libc's calls
 * (readlink, realpath, stat, lstat, opendir): the device directories below
 * /sys/devices/pci0000:00 (behind the root port for bus 1) and the kernel's
 * relative link targets into them. The same assertions on the real kernel
 * in the VM (IOMMUFD_TEST_REAL=1: QEMU's edu at 00:02.0, NVMe at 00:03.0,
 * the two-function edu at 01:00.0/01:00.1 behind the pcie-root-port at
 * 00:06.0, tests/vm/run-vm) and here on the emulator: the program then
 * runs itself again under the preload library with those devices.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

#define ROOT "/sys/devices/pci0000:00"
#define PORT "0000:00:06.0"
#define EDU "0000:00:02.0"
#define FN0 "0000:01:00.0"
#define FN1 "0000:01:00.1"

/* the VM's devices (tests/vm/run-vm), as the emulator is to show them */
#define EMU_DEVICES \
	"edu@0000:00:02.0,nvme@0000:00:03.0,edu@0000:01:00.0#20,edu@0000:01:00.1#20"

static const char *link_of(const char *path)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0) {
		fprintf(stderr, "readlink %s: %s\n", path, strerror(errno));
		return "";
	}
	buf[n] = 0;
	printf("# %s -> %s\n", path, buf);
	return buf;
}

static void assert_link(const char *path, const char *target, const char *resolved)
{
	char real[PATH_MAX];
	struct stat st, rst;

	assert_string_equal(link_of(path), target);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_non_null(realpath(path, real));
	assert_string_equal(real, resolved);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* the node it resolves to, whatever the path */
	assert_int_equal(stat(resolved, &rst), 0);
	assert_int_equal(st.st_ino, rst.st_ino);
	assert_int_equal(st.st_dev, rst.st_dev);
}

/* the group number of the device's iommu_group link, "../"*up + kernel/iommu_groups/<N> */
static int group_of(const char *dev, int up)
{
	char path[PATH_MAX], want[PATH_MAX], real[PATH_MAX];
	const char *t;
	int grp = -1, o = 0;

	snprintf(path, sizeof(path), "%s/iommu_group", dev);
	t = link_of(path);
	for (int i = 0; i < up; i++)
		o += snprintf(want + o, sizeof(want) - (size_t)o, "../");
	assert_int_equal(strncmp(t, want, (size_t)o), 0);
	assert_int_equal(sscanf(t + o, "kernel/iommu_groups/%d", &grp), 1);
	snprintf(want + o, sizeof(want) - (size_t)o, "kernel/iommu_groups/%d", grp);
	assert_string_equal(t, want);
	assert_non_null(realpath(path, real));
	snprintf(want, sizeof(want), "/sys/kernel/iommu_groups/%d", grp);
	assert_string_equal(real, want);
	return grp;
}

/* vfioN of the device's vfio-dev directory, -1 if none */
static int cdev_of(const char *dev)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = -1;
	DIR *d;

	snprintf(path, sizeof(path), "%s/vfio-dev", dev);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (sscanf(de->d_name, "vfio%d", &n) == 1)
			break;
	closedir(d);
	return n;
}

/* does directory path have entry name of type type? */
static bool has_entry(const char *path, const char *name, unsigned char type)
{
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(path);

	assert_non_null(d);
	while ((de = readdir(d)))
		found |= strcmp(de->d_name, name) == 0 && de->d_type == type;
	assert_int_equal(closedir(d), 0);
	return found;
}

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, (int)len, f));
	fclose(f);
}

/*
 * One device: dir is its directory below /sys/devices, up the number of
 * "../" from it to the sysfs root.
 */
static void check_device(const char *bdf, const char *dir, int up)
{
	char path[PATH_MAX], want[PATH_MAX], res[PATH_MAX], a[64], b[64], ups[32] = "";
	const char *rel = dir + strlen("/sys/");
	struct stat st, rst;
	int grp, n;

	for (int i = 0; i < up; i++)
		strcat(ups, "../");
	/* the bus's link to the directory, and through it */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	snprintf(want, sizeof(want), "../../../%s", rel);
	assert_link(path, want, dir);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	read_line(path, a, sizeof(a));
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/vendor", dir);
	read_line(path, b, sizeof(b));
	assert_string_equal(a, b);
	assert_int_equal(stat(path, &rst), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_ino, rst.st_ino);
	/* the device's own links */
	grp = group_of(dir, up);
	snprintf(path, sizeof(path), "%s/driver", dir);
	snprintf(want, sizeof(want), "%sbus/pci/drivers/vfio-pci", ups);
	assert_link(path, want, "/sys/bus/pci/drivers/vfio-pci");
	snprintf(path, sizeof(path), "%s/subsystem", dir);
	snprintf(want, sizeof(want), "%sbus/pci", ups);
	assert_link(path, want, "/sys/bus/pci");
	assert_true(has_entry(dir, "iommu_group", DT_LNK));
	assert_true(has_entry(dir, "vendor", DT_REG));
	assert_true(has_entry(dir, "vfio-dev", DT_DIR));
	/* the links to it: group, driver, class */
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices/%s", grp, bdf);
	snprintf(want, sizeof(want), "../../../../%s", rel);
	assert_link(path, want, dir);
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/vfio-pci/%s", bdf);
	assert_link(path, want, dir);
	n = cdev_of(dir);
	assert_true(n >= 0);
	snprintf(path, sizeof(path), "/sys/class/vfio-dev/vfio%d", n);
	snprintf(want, sizeof(want), "../../%s/vfio-dev/vfio%d", rel, n);
	snprintf(res, sizeof(res), "%s/vfio-dev/vfio%d", dir, n);
	assert_link(path, want, res);
	snprintf(path, sizeof(path), "/sys/class/vfio-dev/vfio%d/dev", n);
	read_line(path, a, sizeof(a));
	snprintf(path, sizeof(path), "%s/vfio-dev/vfio%d/dev", dir, n);
	read_line(path, b, sizeof(b));
	assert_string_equal(a, b);
	snprintf(path, sizeof(path), "vfio%d", n);
	assert_true(has_entry("/sys/class/vfio-dev", path, DT_LNK));
	/* a name the device lacks */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/nope", bdf);
	assert_null(realpath(path, res));
	assert_int_equal(errno, ENOENT);
}

/* 00:02.0, on the root bus */
static void test_root_bus(void **state)
{
	struct stat st;

	(void)state;
	check_device(EDU, ROOT "/" EDU, 3);
	assert_true(has_entry(ROOT, EDU, DT_DIR));
	assert_int_equal(stat(ROOT "/" EDU "/nope", &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* 01:00.0 and 01:00.1, behind the root port: one more level, one group */
static void test_behind_port(void **state)
{
	char real[PATH_MAX], a[PATH_MAX];
	struct stat st;

	(void)state;
	check_device(FN0, ROOT "/" PORT "/" FN0, 4);
	check_device(FN1, ROOT "/" PORT "/" FN1, 4);
	assert_true(has_entry(ROOT, PORT, DT_DIR));
	assert_true(has_entry(ROOT "/" PORT, FN0, DT_DIR));
	assert_true(has_entry(ROOT "/" PORT, FN1, DT_DIR));
	/* ".." after a link is the parent of its target */
	assert_non_null(realpath("/sys/bus/pci/devices/" FN0 "/iommu_group/devices/" FN1 "/../" FN0,
				 real));
	assert_string_equal(real, ROOT "/" PORT "/" FN0);
	assert_int_equal(stat("/sys/bus/pci/devices/" FN0 "/..", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_non_null(realpath("/sys/bus/pci/devices/" FN0 "/iommu_group", real));
	assert_non_null(realpath("/sys/bus/pci/devices/" FN1 "/iommu_group", a));
	assert_string_equal(real, a);
	assert_true(has_entry(ROOT "/" PORT "/" FN0 "/vfio-dev", ".", DT_DIR));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_bus),
		cmocka_unit_test(test_behind_port),
	};
	const char *pre = getenv("LD_PRELOAD");

	(void)argc;
	if (!test_real_kernel() && !(pre && strstr(pre, PRELOAD_PATH))) {
		/* the emulator: under the preload library, with the VM's devices */
		if (setenv("LD_PRELOAD", PRELOAD_PATH, 1) < 0 ||
		    setenv("IOMMUFD_EMU_DEVICES", EMU_DEVICES, 1) < 0)
			return 1;
		execv("/proc/self/exe", argv);
		perror("execv /proc/self/exe");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
