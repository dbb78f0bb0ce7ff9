/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The version macros of the header, the library's answer and meson's
 * project version (argv[1], "MAJOR.MINOR.PATCH") agree, and
 * iommufd_check_version() compares as documented.
 */
#include <iommufd.h>

#include <stdio.h>

int main(int argc, char **argv)
{
	int major = -1, minor = -1, failed = 0;

	if (argc != 2 || sscanf(argv[1], "%d.%d", &major, &minor) != 2) {
		printf("usage: version MAJOR.MINOR.PATCH (meson's project version)\n");
		return 1;
	}
	if (major != IOMMUFD_VERSION_MAJOR || minor != IOMMUFD_VERSION_MINOR) {
		printf("header %d.%d, meson.build %s: update IOMMUFD_VERSION_* in include/iommufd.h\n",
		       IOMMUFD_VERSION_MAJOR, IOMMUFD_VERSION_MINOR, argv[1]);
		failed = 1;
	}
	if (iommufd_version_major() != IOMMUFD_VERSION_MAJOR ||
	    iommufd_version_minor() != IOMMUFD_VERSION_MINOR) {
		printf("library %d.%d, header %d.%d\n", iommufd_version_major(),
		       iommufd_version_minor(), IOMMUFD_VERSION_MAJOR, IOMMUFD_VERSION_MINOR);
		failed = 1;
	}
	if (!iommufd_check_version(IOMMUFD_VERSION_MAJOR, IOMMUFD_VERSION_MINOR) ||
	    !iommufd_check_version(IOMMUFD_VERSION_MAJOR, 0) ||
	    iommufd_check_version(IOMMUFD_VERSION_MAJOR, IOMMUFD_VERSION_MINOR + 1) ||
	    iommufd_check_version(IOMMUFD_VERSION_MAJOR + 1, 0) ||
	    (IOMMUFD_VERSION_MAJOR > 0 && iommufd_check_version(IOMMUFD_VERSION_MAJOR - 1, 0))) {
		printf("iommufd_check_version() does not compare as documented\n");
		failed = 1;
	}
	if (!failed)
		printf("ok %d.%d\n", iommufd_version_major(), iommufd_version_minor());
	return failed;
}
