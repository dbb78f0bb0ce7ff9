// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The iommufd command on fake /dev, /sys, /proc, /boot, /lib/modules trees
 * (--root), human and JSON output, exit codes; and `iommufd demo` on the
 * emulator. The command is $IOMMUFD_TOOL (set by meson).
 *
 *   test-tool trees   the fake-tree cases
 *   test-tool demo    iommufd demo on the emulated backend
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "json-check.h"

#define REL "6.9.0-test"

static char tree[256]; /* the fake root, a mkdtemp() directory */

/* ---------------------------------------------------------------- fake tree */

static void mkdirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0755);
			*s = '/';
		}
	}
	mkdir(p, 0755);
}

static void __attribute__((format(printf, 2, 3))) put(const char *rel, const char *fmt, ...)
{
	char p[PATH_MAX], *slash;
	va_list ap;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", tree, rel);
	slash = strrchr(p, '/');
	*slash = 0;
	mkdirs(p);
	*slash = '/';
	f = fopen(p, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
}

static void link_in(const char *target, const char *rel)
{
	char p[PATH_MAX], *slash;

	snprintf(p, sizeof(p), "%s/%s", tree, rel);
	slash = strrchr(p, '/');
	*slash = 0;
	mkdirs(p);
	*slash = '/';
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
}

static void rm(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", tree, rel);
	assert_int_equal(unlink(p), 0);
}

/* a PCI device: sysfs attributes, driver and group links, cdev */
static void pci(const char *bdf, const char *vendor, const char *device, const char *class, const char *driver,
		int group, int cdev)
{
	char p[PATH_MAX], t[PATH_MAX];

	snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/vendor", bdf);
	put(p, "0x%s\n", vendor);
	snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/device", bdf);
	put(p, "0x%s\n", device);
	snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/class", bdf);
	put(p, "0x%s\n", class);
	if (driver) {
		snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/driver", bdf);
		snprintf(t, sizeof(t), "../../../../bus/pci/drivers/%s", driver);
		link_in(t, p);
	}
	if (group >= 0) {
		snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/iommu_group", bdf);
		snprintf(t, sizeof(t), "../../../../kernel/iommu_groups/%d", group);
		link_in(t, p);
		snprintf(p, sizeof(p), "sys/kernel/iommu_groups/%d/devices/%s", group, bdf);
		snprintf(t, sizeof(t), "../../../../bus/pci/devices/%s", bdf);
		link_in(t, p);
	}
	if (cdev >= 0) {
		snprintf(p, sizeof(p), "sys/bus/pci/devices/%s/vfio-dev/vfio%d/dev", bdf, cdev);
		put(p, "511:%d\n", cdev);
		snprintf(p, sizeof(p), "dev/vfio/devices/vfio%d", cdev);
		put(p, "%s", "");
	}
}

/* a kernel config of ~8 KiB with the options the tool reads at the end */
static void config_text(FILE *f, const char *options)
{
	for (int i = 0; i < 300; i++)
		fprintf(f, "CONFIG_FILLER_OPTION_%d=%c\n", i, "ymn"[i % 3]);
	fputs("# CONFIG_IOMMUFD_TEST is not set\n", f);
	fputs(options, f);
}

#define HEALTHY_CONFIG                                                                 \
	"CONFIG_IOMMUFD=y\nCONFIG_VFIO=y\nCONFIG_VFIO_GROUP=y\nCONFIG_VFIO_DEVICE_CDEV=y\n" \
	"# CONFIG_IOMMUFD_VFIO_CONTAINER is not set\nCONFIG_VFIO_PCI=m\nCONFIG_IRQ_REMAP=y\n"

/* /proc/config.gz, compressed with gzip(1) (the tool reads it with zlib) */
static void config_gz_lines(const char *options, int filler)
{
	char cmd[PATH_MAX * 2 + 32], p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/proc/config", tree);
	f = fopen(p, "w");
	assert_non_null(f);
	for (int i = 0; i < filler; i++)
		fprintf(f, "CONFIG_LARGE_FILLER_%d=%c\n", i, "ymn"[i % 3]);
	config_text(f, options);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "gzip -9 -n -f '%s'", p);
	assert_int_equal(system(cmd), 0);
}

static void config_gz(const char *options)
{
	config_gz_lines(options, 0);
}

/* a system where iommufd is usable: edu and NVMe on vfio-pci with cdevs */
static void healthy_tree(void)
{
	snprintf(tree, sizeof(tree), "/tmp/iommufd-tool-test.XXXXXX");
	assert_non_null(mkdtemp(tree));
	put("dev/iommu", "%s", "");
	put("proc/sys/kernel/osrelease", REL "\n");
	put("proc/cmdline", "BOOT_IMAGE=/vmlinuz ro quiet intel_iommu=on iommu=pt note=\"a\\b\ttab\" "
	    "utf8=\xc3\xa9 bad=\xff\xc3\n");
	put("proc/interrupts", "           CPU0\n 24:  0  IR-PCI-MSI 65536-edge  vfio\n");
	put("proc/self/status", "Name:\tiommufd\nCapEff:\t0000000000004000\n");
	config_gz(HEALTHY_CONFIG);
	put("sys/class/iommu/dmar0/intel-iommu/ecap", "f0205ef\n");
	put("sys/module/iommufd/parameters/allow_unsafe_interrupts", "N\n");
	put("sys/module/vfio_pci/initstate", "live\n");
	put("lib/modules/" REL "/modules.builtin",
	    "kernel/drivers/iommu/iommufd/iommufd.ko\nkernel/drivers/vfio/vfio.ko\n");
	put("lib/modules/" REL "/modules.dep",
	    "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n"
	    "kernel/drivers/vfio/vfio_iommu_type1.ko:\n");
	pci("0000:00:02.0", "1234", "11e8", "00ff00", "vfio-pci", 2, 0);
	pci("0000:00:03.0", "1b36", "0010", "010802", "vfio-pci", 3, 1);
}

static int teardown_tree(void **state)
{
	char cmd[PATH_MAX + 16];

	if (tree[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
		if (system(cmd) != 0)
			return -1;
	}
	tree[0] = 0;
	return 0;
}

/* ---------------------------------------------------------------- running the tool */

struct run {
	int status;
	char out[65536], err[4096];
};

static void drain(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf + n, size - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(fd);
}

/* run the tool with args (NULL-terminated), memlock soft limit (0: as is) */
static struct run *run_tool(rlim_t memlock, const char *arg, ...)
{
	static struct run res;
	const char *argv[16] = { "iommufd" };
	const char *tool = getenv("IOMMUFD_TOOL");
	int out[2], err[2], n = 1;
	va_list ap;
	pid_t pid;

	assert_non_null(tool);
	va_start(ap, arg);
	for (const char *a = arg; a && n < 15; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (memlock) {
			struct rlimit rl;

			getrlimit(RLIMIT_MEMLOCK, &rl);
			rl.rlim_cur = memlock;
			setrlimit(RLIMIT_MEMLOCK, &rl);
		}
		unsetenv("IOMMUFD_ROOT");
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		execv(tool, (char **)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	drain(err[0], res.err, sizeof(res.err)); /* small: cannot block the child */
	drain(out[0], res.out, sizeof(res.out));
	assert_int_equal(waitpid(pid, &res.status, 0), pid);
	assert_true(WIFEXITED(res.status));
	res.status = WEXITSTATUS(res.status);
	if (getenv("TEST_TOOL_VERBOSE")) /* to see what the tool printed */
		fprintf(stderr, "--- exit %d\n%s%s", res.status, res.out, res.err);
	return &res;
}

#define assert_has(hay, needle)                                                         \
	do {                                                                            \
		if (!strstr((hay), (needle)))                                           \
			fail_msg("missing \"%s\" in output:\n%s", (needle), (hay));     \
	} while (0)
#define assert_lacks(hay, needle)                                                       \
	do {                                                                            \
		if (strstr((hay), (needle)))                                            \
			fail_msg("unexpected \"%s\" in output:\n%s", (needle), (hay));  \
	} while (0)

/* ---------------------------------------------------------------- a JSON syntax check */

static void assert_json(const char *text)
{
	if (!json_check(text))
		fail_msg("not valid JSON:\n%s", text);
}

/* and what a JSON library says, where there is one (python3) */
static void assert_json_python(const char *text)
{
	char path[PATH_MAX], cmd[PATH_MAX + 160];
	FILE *f;
	int rc;

	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		print_message("python3 not found: JSON checked by test-tool only\n");
		return;
	}
	snprintf(path, sizeof(path), "%s.json", tree[0] ? tree : "/tmp/iommufd-tool-test");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	/* bytes decoded strictly: sys.stdin may carry bad UTF-8 through as surrogates */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; json.loads(open(sys.argv[1], \"rb\").read().decode(\"utf-8\"))' '%s'",
		 path);
	rc = system(cmd);
	unlink(path);
	if (rc != 0)
		fail_msg("python3's json module rejects:\n%s", text);
}

/* ---------------------------------------------------------------- cases */

static void test_healthy(void **state)
{
	struct run *r;

	healthy_tree();
	r = run_tool(0, "info", "--root", tree, NULL);
	assert_int_equal(r->status, 0);
	assert_has(r->out, "iommufd: usable");
	assert_has(r->out, "/dev/iommu is present, read/write");
	assert_has(r->out, "2 VFIO device node(s) in /dev/vfio/devices, all read/write");
	assert_has(r->out, "CONFIG_IOMMUFD=y (/proc/config.gz)");
	assert_has(r->out, "CONFIG_VFIO_DEVICE_CDEV=y");
	assert_has(r->out, "module iommufd: builtin");
	assert_has(r->out, "module vfio: builtin");
	assert_has(r->out, "module vfio_pci: loaded");
	assert_has(r->out, "module vfio_iommu_type1 is available but not loaded");
	assert_has(r->out, "fix: modprobe vfio_iommu_type1");
	assert_has(r->out, "IOMMU unit(s): dmar0");
	assert_has(r->out, "interrupt remapping is in use");
	assert_has(r->out, "iommu=pt");
	assert_has(r->out, "CAP_IPC_LOCK");
	assert_lacks(r->out, "error ");
	/* a regular file is no iommufd: probing is skipped, not an error */
	assert_has(r->out, "capabilities not probed under --root");

	r = run_tool(0, "info", "--json", "--root", tree, NULL);
	assert_int_equal(r->status, 0);
	assert_json(r->out);
	assert_has(r->out, "\"usable\": true");
	assert_has(r->out, "\"release\": \"" REL "\"");
	assert_has(r->out, "\"source\": \"/proc/config.gz\"");
	assert_has(r->out, "\"CONFIG_IOMMUFD\": \"y\"");
	assert_has(r->out, "\"CONFIG_VFIO_PCI\": \"m\"");
	assert_has(r->out, "\"CONFIG_IOMMUFD_VFIO_CONTAINER\": \"n\"");
	assert_has(r->out, "\"iommufd\": \"builtin\"");
	assert_has(r->out, "\"vfio_pci\": \"loaded\"");
	assert_has(r->out, "\"vfio_iommu_type1\": \"available\"");
	assert_has(r->out, "\"cap_ipc_lock\": true");
	/* the command line's quote, backslash and tab, escaped */
	assert_has(r->out, "note=\\\"a\\\\b\\ttab\\\" utf8=\xc3\xa9 bad=\\ufffd\\ufffd\"");

	r = run_tool(0, "devices", "--root", tree, NULL);
	assert_int_equal(r->status, 0);
	assert_has(r->out, "0000:00:02.0  1234:11e8 00ff00 vfio-pci     2     /dev/vfio/devices/vfio0 yes");
	assert_has(r->out, "0000:00:03.0  1b36:0010 010802 vfio-pci     3     /dev/vfio/devices/vfio1 yes");

	r = run_tool(0, "devices", "--json", "--root", tree, NULL);
	assert_int_equal(r->status, 0);
	assert_json(r->out);
	assert_has(r->out, "\"device\": \"0000:00:02.0\",\n      \"vendor\": \"1234\",\n      \"device_id\": \"11e8\"");
	assert_has(r->out, "\"cdev\": \"/dev/vfio/devices/vfio1\"");
	assert_has(r->out, "\"bindable\": true");
	assert_lacks(r->out, "\"bindable\": false");
}

static void test_no_dev_iommu(void **state)
{
	struct run *r;

	healthy_tree();
	rm("dev/iommu");
	r = run_tool(0, "info", "--root", tree, NULL);
	assert_int_equal(r->status, 3);
	assert_has(r->out, "iommufd: NOT usable (2 error(s)");
	assert_has(r->out, "error  dev-iommu             /dev/iommu does not exist");
	assert_has(r->out, "error  mode                  neither /dev/iommu nor /dev/vfio/vfio exists");
	assert_has(r->out, "fix: modprobe iommufd");

	r = run_tool(0, "info", "--json", "--root", tree, NULL);
	assert_int_equal(r->status, 3);
	assert_json(r->out);
	assert_has(r->out, "\"usable\": false");
	assert_has(r->out, "\"check\": \"dev-iommu\",\n      \"level\": \"error\"");
	assert_has(r->out, "\"requests\": {}");

	/* a kernel without iommufd but with the VFIO container: the type1 mode */
	put("dev/vfio/vfio", "%s", "");
	r = run_tool(0, "info", "--root", tree, NULL);
	assert_has(r->out, "info   dev-iommu             /dev/iommu does not exist: the type1 mode (the VFIO container /dev/vfio/vfio) is used");
	assert_has(r->out, "info   mode                  type1 mode would be used (no /dev/iommu; /dev/vfio/vfio exists)");
	assert_lacks(r->out, "error  dev-iommu");
}

static void test_not_on_vfio(void **state)
{
	struct run *r;

	healthy_tree();
	pci("0000:00:1f.2", "8086", "2922", "010601", "ahci", 4, -1);
	pci("0000:00:04.0", "8086", "10d3", "020000", "vfio-pci", 4, 2); /* shares group 4 with ahci */
	pci("0000:00:05.0", "1af4", "1041", "020000", NULL, 5, -1);       /* no driver */
	r = run_tool(0, "devices", "--root", tree, NULL);
	assert_int_equal(r->status, 0);
	assert_has(r->out, "0000:00:1f.2  8086:2922 010601 ahci         4     -                       no: driver ahci, not vfio-pci");
	assert_has(r->out, "0000:00:05.0  1af4:1041 020000 -            5     -                       no: driver none, not vfio-pci");
	assert_has(r->out, "no: IOMMU group 4 not viable: 0000:00:1f.2 (driver ahci)");
	assert_has(r->out, "0000:00:04.0 fix: unbind 0000:00:1f.2 (driver ahci)");
	assert_has(r->out, "/dev/vfio/devices/vfio0 yes");

	r = run_tool(0, "devices", "--json", "--root", tree, NULL);
	assert_int_equal(r->status, 0);
	assert_json(r->out);
	assert_has(r->out, "\"driver\": \"ahci\"");
	assert_has(r->out, "\"reason\": \"driver ahci, not vfio-pci\"");
	assert_has(r->out, "\"fix\": \"echo vfio-pci > /sys/bus/pci/devices/0000:00:1f.2/driver_override; "
			   "echo 0000:00:1f.2 > /sys/bus/pci/drivers/ahci/unbind; "
			   "echo 0000:00:1f.2 > /sys/bus/pci/drivers_probe\"");
	assert_has(r->out, "\"group_viable\": false");
	assert_has(r->out, "\"driver\": null");
}

static void test_low_memlock(void **state)
{
	struct run *r;

	healthy_tree();
	put("proc/self/status", "Name:\tiommufd\nCapEff:\t0000000000000000\n");
	r = run_tool(1 << 20, "info", "--root", tree, NULL);
	assert_int_equal(r->status, 0); /* a warning: usable, with a limit */
	assert_has(r->out, "iommufd: usable (0 error(s), 1 warning(s))");
	assert_has(r->out, "warn   memlock               RLIMIT_MEMLOCK is 1 MiB");
	assert_has(r->out, "fails with ENOMEM");
	assert_has(r->out, "fix: raise it (ulimit -l");

	r = run_tool(1 << 20, "info", "--json", "--root", tree, NULL);
	assert_json(r->out);
	assert_has(r->out, "\"soft\": 1048576");
	assert_has(r->out, "\"cap_ipc_lock\": false");

	/* below what even the demo pins: not usable */
	r = run_tool(16 << 10, "info", "--root", tree, NULL);
	assert_int_equal(r->status, 3);
	assert_has(r->out, "error  memlock               RLIMIT_MEMLOCK is 16 KiB");
}

/* /boot/config-<release> when there is no /proc/config.gz; VFIO_DEVICE_CDEV off */
static void test_boot_config(void **state)
{
	char p[PATH_MAX];
	FILE *f;
	struct run *r;

	healthy_tree();
	rm("proc/config.gz");
	snprintf(p, sizeof(p), "%s/boot", tree);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/boot/config-" REL, tree);
	f = fopen(p, "w");
	assert_non_null(f);
	config_text(f, "CONFIG_IOMMUFD=m\nCONFIG_VFIO_GROUP=y\n# CONFIG_VFIO_DEVICE_CDEV is not set\n"
		       "CONFIG_IOMMUFD_VFIO_CONTAINER=y\n");
	fclose(f);
	r = run_tool(0, "info", "--root", tree, NULL);
	assert_int_equal(r->status, 0);
	assert_has(r->out, "CONFIG_IOMMUFD=m (/boot/config-" REL ")");
	assert_has(r->out, "CONFIG_VFIO_DEVICE_CDEV is not set (it defaults to n when CONFIG_VFIO_GROUP=y)");
	assert_has(r->out, "CONFIG_IOMMUFD_VFIO_CONTAINER=y");

	/* a corrupt config.gz is reported, the /boot one still used */
	put("proc/config.gz", "\x1f\x8b\x08garbage-garbage-garbage");
	r = run_tool(0, "info", "--root", tree, NULL);
	assert_has(r->out, "/proc/config.gz is not a readable gzip file (");
	assert_has(r->out, "CONFIG_IOMMUFD=m (/boot/config-" REL ")");
}

/*
 * /proc/config.gz through zlib: a config of ~1.1 MiB (many reads, a growing
 * buffer) with the options at its end, preferred to /boot; a truncated copy,
 * a file that is not gzip; and the 16 MiB bound, met exactly and passed by one
 * byte. Every failure is reported and /boot/config-<release> used instead.
 */
static void test_config_gz(void **state)
{
	char p[PATH_MAX], cmd[PATH_MAX + 128];
	struct stat st;
	struct run *r;
	FILE *f;

	healthy_tree();
	config_gz_lines(HEALTHY_CONFIG, 40000);
	snprintf(p, sizeof(p), "%s/boot", tree);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/boot/config-" REL, tree);
	f = fopen(p, "w");
	assert_non_null(f);
	config_text(f, "CONFIG_IOMMUFD=m\n");
	fclose(f);
	r = run_tool(0, "info", "--json", "--root", tree, NULL);
	assert_json(r->out);
	assert_has(r->out, "\"source\": \"/proc/config.gz\"");
	assert_has(r->out, "\"CONFIG_IOMMUFD\": \"y\"");
	assert_has(r->out, "\"CONFIG_VFIO_PCI\": \"m\"");
	assert_lacks(r->out, "kernel-config");

	snprintf(p, sizeof(p), "%s/proc/config.gz", tree);
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_size > 3 * 16384);
	assert_int_equal(truncate(p, st.st_size / 2), 0);
	r = run_tool(0, "info", "--root", tree, NULL);
	assert_has(r->out, "warn   kernel-config         /proc/config.gz is not a readable gzip file (truncated)");
	assert_has(r->out, "CONFIG_IOMMUFD=m (/boot/config-" REL ")");

	put("proc/config.gz", "CONFIG_IOMMUFD=y\n");
	r = run_tool(0, "info", "--root", tree, NULL);
	assert_has(r->out, "/proc/config.gz is not a readable gzip file (incorrect header check)");
	assert_has(r->out, "CONFIG_IOMMUFD=m (/boot/config-" REL ")");

	/* 16 MiB of "CONFIG_X=y\n"...: read; one byte more: refused */
	snprintf(cmd, sizeof(cmd), "yes CONFIG_X=y | head -c %d | gzip -1 -n > '%s'", 16 << 20, p);
	assert_int_equal(system(cmd), 0);
	r = run_tool(0, "info", "--root", tree, NULL);
	assert_has(r->out, "CONFIG_IOMMUFD is not set (/proc/config.gz)");
	assert_lacks(r->out, "kernel-config");
	snprintf(cmd, sizeof(cmd), "yes CONFIG_X=y | head -c %d | gzip -1 -n > '%s'", (16 << 20) + 1, p);
	assert_int_equal(system(cmd), 0);
	r = run_tool(0, "info", "--root", tree, NULL);
	assert_has(r->out, "warn   kernel-config         /proc/config.gz is over the 16 MiB limit (compressed or decompressed): not read");
	assert_has(r->out, "CONFIG_IOMMUFD=m (/boot/config-" REL ")");
}

/*
 * The libkmod path: depmod's binary indexes of <root>/lib/modules/<release>,
 * with a stub vfio_iommu_type1.ko (an object file with a .modinfo section).
 * Needs depmod(8) and cc, else skipped.
 */
static void test_kmod_index(void **state)
{
	char cmd[4096], dir[300];
	struct run *r;
	FILE *f;

	if (system("command -v depmod >/dev/null 2>&1 && command -v cc >/dev/null 2>&1") != 0) {
		print_message("depmod(8) or cc not found: libkmod index case skipped\n");
		skip();
	}
	healthy_tree();
	rm("sys/module/vfio_pci/initstate");
	snprintf(dir, sizeof(dir), "%s/sys/module/vfio_pci", tree);
	assert_int_equal(rmdir(dir), 0);
	snprintf(dir, sizeof(dir), "%s/lib/modules/" REL, tree);
	mkdirs(dir);
	snprintf(cmd, sizeof(cmd), "%s/stub.c", tree);
	f = fopen(cmd, "w");
	assert_non_null(f);
	fputs("__attribute__((section(\".modinfo\"), used)) static const char l[] = \"license=GPL\";\n"
	      "__attribute__((section(\".modinfo\"), used)) static const char n[] = \"name=vfio_iommu_type1\";\n",
	      f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s/kernel/drivers/vfio' && cc -c '%s/stub.c' -o '%s/kernel/drivers/vfio/vfio_iommu_type1.ko' && "
		 "rm '%s/modules.dep' && depmod -b '%s' " REL " 2>/dev/null",
		 dir, tree, dir, dir, tree);
	assert_int_equal(system(cmd), 0);
	r = run_tool(0, "info", "--json", "--root", tree, NULL);
	assert_json(r->out);
	assert_has(r->out, "\"iommufd\": \"builtin\"");
	assert_has(r->out, "\"vfio\": \"builtin\"");
	assert_has(r->out, "\"vfio_pci\": \"missing\"");
	assert_has(r->out, "\"vfio_iommu_type1\": \"available\"");
}

/*
 * Names and file contents are bytes: a device and a driver named with bytes
 * that are not UTF-8 or are control characters, a command line with overlong,
 * surrogate, out-of-range and truncated UTF-8 sequences. The JSON stays
 * valid (json.load() reads it), each bad byte a U+FFFD, each control byte
 * escaped, valid UTF-8 kept.
 */
static void test_json_bytes(void **state)
{
	struct run *r;

	healthy_tree();
	pci("0000:00:06.\xff\x01", "1af4", "1041", "020000", "drv\xfe\x1b", 6, -1);
	put("proc/cmdline", "ro x=\x01\x7f\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82!\xf0\x9f\x98\x80\r\n");

	r = run_tool(0, "devices", "--json", "--root", tree, NULL);
	assert_int_equal(r->status, 0);
	assert_json(r->out);
	assert_json_python(r->out);
	assert_has(r->out, "\"device\": \"0000:00:06.\\ufffd\\u0001\"");
	assert_has(r->out, "\"driver\": \"drv\\ufffd\\u001b\"");
	assert_has(r->out, "\"reason\": \"driver drv\\ufffd\\u001b, not vfio-pci\"");

	r = run_tool(0, "info", "--json", "--root", tree, NULL);
	assert_int_equal(r->status, 0);
	assert_json(r->out);
	assert_json_python(r->out);
	assert_has(r->out, "\"cmdline\": \"ro x=\\u0001\\u007f\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
			   "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd!\xf0\x9f\x98\x80\"");
}

/* nothing at all: no IOMMU, no config, no modules, no vfio */
static void test_bare(void **state)
{
	struct run *r;

	snprintf(tree, sizeof(tree), "/tmp/iommufd-tool-test.XXXXXX");
	assert_non_null(mkdtemp(tree));
	put("proc/sys/kernel/osrelease", REL "\n");
	put("proc/cmdline", "ro intel_iommu=off\n");
	r = run_tool(0, "info", "--root", tree, NULL);
	assert_int_equal(r->status, 3);
	assert_has(r->out, "no IOMMU in /sys/class/iommu");
	assert_has(r->out, "intel_iommu=off: the IOMMU is disabled");
	assert_has(r->out, "module iommufd: unknown");
	assert_has(r->out, "kernel configuration not found");
	r = run_tool(0, "devices", "--root", tree, NULL);
	assert_int_equal(r->status, 3);
	assert_has(r->err, "cannot list /sys/bus/pci/devices");
}

static void test_usage(void **state)
{
	struct run *r;

	r = run_tool(0, NULL);
	assert_int_equal(r->status, 2);
	assert_has(r->err, "missing command");
	r = run_tool(0, "frobnicate", NULL);
	assert_int_equal(r->status, 2);
	assert_has(r->err, "unknown command 'frobnicate'");
	r = run_tool(0, "info", "--bogus", NULL);
	assert_int_equal(r->status, 2);
	assert_has(r->err, "--bogus");
	r = run_tool(0, "info", "--root", "/nonexistent/dir", NULL);
	assert_int_equal(r->status, 2);
	assert_has(r->err, "not a directory");
	r = run_tool(0, "info", "--device", "0000:00:02.0", NULL);
	assert_int_equal(r->status, 2);
	r = run_tool(0, "demo", "--json", NULL);
	assert_int_equal(r->status, 2);
	r = run_tool(0, "devices", "extra", NULL);
	assert_int_equal(r->status, 2);
	assert_has(r->err, "unexpected argument 'extra'");
	/* every error is one line */
	assert_non_null(strchr(r->err, '\n'));
	assert_string_equal(strchr(r->err, '\n') + 1, "");
	r = run_tool(0, "--help", NULL);
	assert_int_equal(r->status, 0);
	assert_has(r->out, "Exit status:");
	r = run_tool(0, "demo", "--help", NULL);
	assert_int_equal(r->status, 0);
}

static void test_demo(void **state)
{
	struct run *r = run_tool(0, "demo", NULL);

	if (r->status != 0)
		fail_msg("iommufd demo exited %d\nstdout:\n%s\nstderr:\n%s", r->status, r->out, r->err);
	assert_has(r->out, "backend: the emulator");
	assert_has(r->out, "parked");
	assert_has(r->out, "bind -> bound");
	assert_has(r->out, "-> attached");
	assert_has(r->out, "dma check: OK");
	/* the emulated edu's IOMMU tracks dirty pages: a real round, not a skip */
	assert_has(r->out, "allocated with DIRTY_TRACKING");
	assert_has(r->out, "dirty pages before any DMA: none");
	assert_has(r->out, "wrote them at iova 0x109c00 (buffer pages 9-10)");
	assert_has(r->out, "dirty pages: 0x109000+2\n");
	assert_has(r->out, "dirty check: OK");
	assert_has(r->out, "dirty tracking: off");
	assert_has(r->out, "dirty-tracking page table");
	assert_lacks(r->out, "skipped");
	assert_has(r->out, "teardown: context closed");
	assert_has(r->out, "demo: done");
	assert_string_equal(r->err, "");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest trees[] = {
		cmocka_unit_test_teardown(test_healthy, teardown_tree),
		cmocka_unit_test_teardown(test_no_dev_iommu, teardown_tree),
		cmocka_unit_test_teardown(test_not_on_vfio, teardown_tree),
		cmocka_unit_test_teardown(test_low_memlock, teardown_tree),
		cmocka_unit_test_teardown(test_boot_config, teardown_tree),
		cmocka_unit_test_teardown(test_config_gz, teardown_tree),
		cmocka_unit_test_teardown(test_kmod_index, teardown_tree),
		cmocka_unit_test_teardown(test_json_bytes, teardown_tree),
		cmocka_unit_test_teardown(test_bare, teardown_tree),
		cmocka_unit_test(test_usage),
	};
	const struct CMUnitTest demo[] = {
		cmocka_unit_test(test_demo),
	};

	if (argc > 1 && !strcmp(argv[1], "demo"))
		return cmocka_run_group_tests_name("tool-demo", demo, NULL, NULL);
	return cmocka_run_group_tests_name("tool-trees", trees, NULL, NULL);
}
