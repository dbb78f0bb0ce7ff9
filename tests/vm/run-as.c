// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A test program (PROG_REL, relative to this one's directory) run through
 * the script SCRIPT of tests/vm (copied beside this one): no-iommufd (as on
 * a kernel without iommufd) or type1 (the type1 mode forced). A program,
 * not a script, so that meson and the VM runner treat it like the other
 * test programs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char self[PATH_MAX], script[PATH_MAX + 64], prog[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0) {
		perror("readlink /proc/self/exe");
		return 1;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return 1;
	*slash = '\0';
	snprintf(script, sizeof(script), "%s/%s", self, SCRIPT);
	snprintf(prog, sizeof(prog), "%s/%s", self, PROG_REL);
	execl("/bin/sh", "sh", script, prog, (char *)NULL);
	fprintf(stderr, "cannot run %s: %s\n", script, strerror(errno));
	return 1;
}
