// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The iommufd command on the real kernel, for the VM suite (tests/vm): info
 * says usable, devices lists edu and NVMe on vfio-pci with their cdevs, and
 * demo --device 0000:00:02.0 does its DMA through the IOMMU. TAP on stdout.
 * The command is $IOMMUFD_TOOL, else ../../tools/iommufd next to this program.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tool[PATH_MAX];
static int npoint, nfailed;

/* run `iommufd args...`, stdout+stderr into out; returns the exit status */
static int run(char *out, size_t size, const char *const *args)
{
	char cmd[PATH_MAX * 2] = "", line[1024];
	size_t n = 0;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "'%s'", tool);
	for (; *args; args++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " %s", *args);
	printf("# $ iommufd%s\n", strchr(cmd + 1, '\'') + 1);
	strcat(cmd, " 2>&1");
	p = popen(cmd, "r");
	if (!p)
		return -1;
	out[0] = 0;
	while (fgets(line, sizeof(line), p)) {
		printf("#   %s", line);
		if (n + strlen(line) < size) {
			strcpy(out + n, line);
			n += strlen(line);
		}
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void __attribute__((format(printf, 2, 3))) point(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++npoint);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	nfailed += !ok;
	fflush(stdout);
}

/* a line of out that has every one of the given strings */
static bool line_with(const char *out, const char *a, const char *b, const char *c)
{
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t n = strcspn(l, "\n");
		char buf[1024];

		snprintf(buf, sizeof(buf), "%.*s", (int)n, l);
		if (strstr(buf, a) && strstr(buf, b) && strstr(buf, c))
			return true;
	}
	return false;
}

int main(void)
{
	static char out[1 << 16];
	const char *env = getenv("IOMMUFD_TOOL");
	const char *real = getenv("IOMMUFD_TEST_REAL");
	int rc;

	/* it checks the machine it runs on: only meaningful in the VM */
	if (!real || strcmp(real, "1") != 0) {
		printf("1..0 # SKIP iommufd info/devices/demo on a real kernel: run in the VM\n");
		return 77;
	}
	if (env) {
		snprintf(tool, sizeof(tool), "%s", env);
	} else {
		ssize_t n = readlink("/proc/self/exe", tool, sizeof(tool) - 32);

		if (n < 0)
			return 1;
		tool[n] = 0;
		strcpy(strrchr(tool, '/'), "/../../tools/iommufd");
	}
	printf("TAP version 13\n1..9\n");

	rc = run(out, sizeof(out), (const char *const[]){ "info", NULL });
	point(rc == 0 && strstr(out, "iommufd: usable"), "info: iommufd usable (exit %d)", rc);
	point(line_with(out, "mode", "iommufd mode", "/dev/iommu opened"), "info: the iommufd mode, and why");
	point(strstr(out, "interrupt remapping is in use") && strstr(out, "IOAS_MAP"),
	      "info: interrupt remapping in use, requests probed");

	rc = run(out, sizeof(out), (const char *const[]){ "info", "--json", NULL });
	point(rc == 0 && strstr(out, "\"usable\": true") && strstr(out, "\"IOAS_ALLOC\": true"),
	      "info --json: usable, IOAS_ALLOC supported");

	rc = run(out, sizeof(out), (const char *const[]){ "devices", NULL });
	point(rc == 0 && line_with(out, "0000:00:02.0  1234:11e8", "vfio-pci", "/dev/vfio/devices/vfio") &&
		      line_with(out, "0000:00:02.0", " yes", "vfio-pci"),
	      "devices: edu on vfio-pci with its cdev, bindable");
	point(rc == 0 && line_with(out, "0000:00:03.0  1b36:0010", "vfio-pci", "/dev/vfio/devices/vfio") &&
		      line_with(out, "0000:00:03.0", " yes", "vfio-pci"),
	      "devices: NVMe on vfio-pci with its cdev, bindable");

	rc = run(out, sizeof(out), (const char *const[]){ "devices", "--json", NULL });
	point(rc == 0 && strstr(out, "\"cdev\": \"/dev/vfio/devices/vfio") && strstr(out, "\"bindable\": true"),
	      "devices --json");

	rc = run(out, sizeof(out), (const char *const[]){ "demo", "--device", "0000:00:02.0", NULL });
	point(rc == 0 && strstr(out, "dma check: OK") && strstr(out, "demo: done"),
	      "demo --device 0000:00:02.0: DMA through the IOMMU checked (exit %d)", rc);

	/* the same demo on the VFIO container */
	setenv("IOMMUFD_MODE", "type1", 1);
	rc = run(out, sizeof(out), (const char *const[]){ "demo", "--device", "0000:00:02.0", NULL });
	unsetenv("IOMMUFD_MODE");
	point(rc == 0 && strstr(out, "type1 mode") && strstr(out, "dma check: OK") && strstr(out, "demo: done"),
	      "demo --device 0000:00:02.0 in the type1 mode: DMA through the container checked (exit %d)", rc);
	return nfailed ? 1 : 0;
}
