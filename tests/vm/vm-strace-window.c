// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vm-strace-window: the library makes no system call the work does not need.
 * Under `strace -f`, 1,000 iommufd_ioas_map/iommufd_ioas_unmap pairs through
 * the kernel backend must show exactly 2,000 ioctls and no other system call
 * (no getpid() for the fork check, nothing for errors or logging). The
 * measured window is marked by two system calls nobody else makes:
 * write(-1, "iommufd-window-begin", ...) and write(-1, "iommufd-window-end", ...).
 *
 * Run without arguments (as the VM suite does): runs itself as
 * `strace -f -qq -o FILE vm-strace-window --window` and prints TAP. Needs the
 * real kernel (IOMMUFD_TEST_REAL=1, /dev/iommu) and strace (Debian: strace);
 * skipped on the emulator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "iommufd.h"

#define PAIRS 1000
#define PAGE 4096ul
#define BEGIN "iommufd-window-begin"
#define END "iommufd-window-end"

static int window(void)
{
	struct iommufd_ctx *ctx;
	uint32_t ioas;
	uint64_t iova = 0x100000;
	void *buf;
	int r;

	r = iommufd_ctx_new(&ctx);
	if (r < 0) {
		fprintf(stderr, "vm-strace-window: %s\n", iommufd_last_error());
		return 1;
	}
	if (iommufd_ioas_alloc(ctx, &ioas) < 0) {
		fprintf(stderr, "vm-strace-window: %s\n", iommufd_last_error());
		return 1;
	}
	buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		return 1;
	/* one pair first: lazy binding, the pid cache and the like happen outside */
	if (iommufd_ioas_map(ctx, ioas, buf, PAGE, &iova,
			     IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE) < 0 ||
	    iommufd_ioas_unmap(ctx, ioas, iova, PAGE, NULL) < 0) {
		fprintf(stderr, "vm-strace-window: %s\n", iommufd_last_error());
		return 1;
	}

	r = (int)write(-1, BEGIN, strlen(BEGIN));
	for (int i = 0; i < PAIRS; i++) {
		r = iommufd_ioas_map(ctx, ioas, buf, PAGE, &iova,
				     IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
		if (r < 0)
			break;
		r = iommufd_ioas_unmap(ctx, ioas, iova, PAGE, NULL);
		if (r < 0)
			break;
	}
	if (write(-1, END, strlen(END)) >= 0 || r < 0) {
		fprintf(stderr, "vm-strace-window: %s\n", iommufd_last_error());
		return 1;
	}

	iommufd_destroy(ctx, ioas);
	iommufd_ctx_unref(ctx);
	munmap(buf, PAGE);
	return 0;
}

int main(int argc, char **argv)
{
	char self[4096], trace[] = "/tmp/vm-strace-window.XXXXXX", line[4096];
	unsigned long ioctls = 0, others = 0, shown = 0;
	int status, fd, in_window = 0, saw_end = 0;
	ssize_t n;
	FILE *f;
	pid_t pid;

	if (argc > 1 && !strcmp(argv[1], "--window"))
		return window();
	if (!getenv("IOMMUFD_TEST_REAL")) {
		printf("1..0 # SKIP needs the real kernel (IOMMUFD_TEST_REAL=1, the VM suite)\n");
		return 0;
	}
	printf("1..3\n");
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	fd = mkstemp(trace);
	if (n <= 0 || fd < 0) {
		printf("Bail out! readlink or mkstemp: %s\n", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	close(fd);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execlp("strace", "strace", "-f", "-qq", "-o", trace, self, "--window", (char *)NULL);
		fprintf(stderr, "vm-strace-window: cannot run strace: %s (Debian: apt install strace)\n",
			strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		printf("not ok 1 - the map/unmap program ran under strace (status %#x)\n", status);
		printf("not ok 2 - %d ioctls in the window # SKIP did not run\n", 2 * PAIRS);
		printf("not ok 3 - no other system call in the window # SKIP did not run\n");
		unlink(trace);
		return 1;
	}
	printf("ok 1 - the map/unmap program ran under strace\n");

	f = fopen(trace, "r");
	if (!f) {
		printf("Bail out! %s: %s\n", trace, strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		size_t len;

		/* "-f -o FILE" lines may start with the pid */
		while (*p >= '0' && *p <= '9')
			p++;
		while (*p == ' ')
			p++;
		if (strstr(p, "\"" BEGIN "\"")) {
			in_window = 1;
			continue;
		}
		if (strstr(p, "\"" END "\"")) {
			saw_end = 1;
			break;
		}
		if (!in_window)
			continue;
		len = strcspn(p, "(");
		if (len == 5 && !strncmp(p, "ioctl", 5)) {
			ioctls++;
			continue;
		}
		others++;
		if (shown++ < 10)
			printf("# in the window: %s", p);
	}
	fclose(f);
	unlink(trace);
	if (!in_window || !saw_end)
		printf("# the window's markers were not both found in strace's output\n");
	printf("%s 2 - %lu ioctls in the window, %d expected (%d map/unmap pairs)\n",
	       ioctls == 2 * PAIRS && saw_end ? "ok" : "not ok", ioctls, 2 * PAIRS, PAIRS);
	printf("%s 3 - %lu other system calls in the window, 0 expected\n",
	       others == 0 && saw_end ? "ok" : "not ok", others);
	return ioctls == 2 * PAIRS && others == 0 && saw_end ? 0 : 1;
}
