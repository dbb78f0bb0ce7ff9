/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs the examples that need the real kernel (in the VM of tests/vm) and
 * checks what they print: TAP on stdout.
 *
 *  - nvme-identify 0000:00:03.0 must print "serial: deadbeef" (QEMU's NVMe
 *    of the VM is started with serial=deadbeef);
 *  - the same with IOMMUFD_MODE=type1: unchanged, it runs on the VFIO
 *    container (the type1 mode) and prints the same serial;
 *  - nvme-io writes 16 KiB of namespace 1 (the VM's NVMe has a 16 MiB
 *    one) and reads them back identical, in both modes;
 *  - vmm-migrate must finish with "destination equals source";
 *  - migrate finds no migration driver on the VM's edu (ENOTTY) and exits
 *    77 saying so (the emulator's edu+migration runs it in examples/).
 * Under tests/vm/no-iommufd (IOMMUFD_TEST_AUTO set) only nvme-identify runs,
 * with no mode asked for: it must fall back to the VFIO container itself.
 *
 * The example binaries are found relative to this program
 * (<build>/tests/examples/ -> <build>/examples/), because the VM sees the
 * build tree at another path when it lies under /tmp (/run/host/tmp/...).
 * Outside the VM (IOMMUFD_TEST_REAL unset) it skips.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char examples_dir[PATH_MAX + 16];

static int find_examples_dir(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -errno;
	self[n] = '\0';
	/* strip "/vm-examples", then "/examples", then "/tests" */
	for (int i = 0; i < 3; i++) {
		slash = strrchr(self, '/');
		if (!slash)
			return -ENOENT;
		*slash = '\0';
	}
	snprintf(examples_dir, sizeof(examples_dir), "%s/examples", self);
	return 0;
}

/*
 * Run examples/<name> with one argument, capture its stdout and stderr into
 * out (NUL-terminated). Returns its exit status, or -1 if it did not exit.
 */
static int run(const char *name, const char *arg, const char *mode, char *out, size_t len)
{
	char path[PATH_MAX + 64];
	size_t used = 0;
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", examples_dir, name);
	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		if (mode)
			setenv("IOMMUFD_MODE", mode, 1);
		execl(path, name, arg, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while (used + 1 < len && (n = read(fds[0], out + used, len - 1 - used)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Print the output as TAP comments, one "# " line per line. */
static void diag(const char *out)
{
	const char *p = out, *nl;

	while (*p) {
		nl = strchrnul(p, '\n');
		printf("# %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static int check_status(int num, const char *desc, const char *name, const char *arg,
			const char *mode, int want, const char *expect)
{
	static char out[1 << 16];
	int status = run(name, arg, mode, out, sizeof(out));
	int ok = status == want && strstr(out, expect) != NULL;

	diag(out);
	if (!ok)
		printf("# exit status %d (expected %d), expected \"%s\" in the output\n", status, want,
		       expect);
	printf("%sok %d - %s\n", ok ? "" : "not ", num, desc);
	fflush(stdout);
	return ok;
}

static int check(int num, const char *desc, const char *name, const char *arg, const char *mode,
		 const char *expect)
{
	return check_status(num, desc, name, arg, mode, 0, expect);
}

int main(void)
{
	const char *real = getenv("IOMMUFD_TEST_REAL");
	int ok = 1;

	if (!real || strcmp(real, "1") != 0) {
		printf("1..0 # SKIP the examples need the real kernel: run in the VM\n");
		return 77;
	}
	if (find_examples_dir() < 0) {
		printf("1..0 # SKIP cannot find the examples\n");
		return 77;
	}
	if (getenv("IOMMUFD_TEST_AUTO")) {
		/* tests/vm/no-iommufd: no /dev/iommu; the same binary falls back by itself */
		printf("1..1\n");
		fflush(stdout);
		ok &= check(1, "nvme-identify without /dev/iommu prints serial deadbeef", "nvme-identify",
			    "0000:00:03.0", NULL, "serial: deadbeef\n");
		return ok ? 0 : 1;
	}
	printf("1..6\n");
	fflush(stdout);
	ok &= check(1, "nvme-identify prints serial deadbeef", "nvme-identify", "0000:00:03.0", NULL,
		    "serial: deadbeef\n");
	ok &= check(2, "nvme-identify in the type1 mode prints serial deadbeef", "nvme-identify",
		    "0000:00:03.0", "type1", "serial: deadbeef\n");
	ok &= check(3, "nvme-io writes and reads back blocks of namespace 1", "nvme-io", "0000:00:03.0",
		    NULL, "blocks at LBA 0: identical\n");
	ok &= check(4, "nvme-io in the type1 mode", "nvme-io", "0000:00:03.0", "type1",
		    "blocks at LBA 0: identical\n");
	ok &= check(5, "vmm-migrate: destination equals source", "vmm-migrate", NULL, NULL,
		    "destination equals source");
	/* QEMU's edu on vfio-pci has no migration driver: migrate says so and skips */
	ok &= check_status(6, "migrate: edu on vfio-pci has no migration driver (ENOTTY)", "migrate",
			   "0000:00:02.0", NULL, 77, "no migration driver");
	return ok ? 0 : 1;
}
