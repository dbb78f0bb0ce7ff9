/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one PCI address parser of the project, for both libraries: a BDF is
 * exactly "DDDD:BB:DD.F" (domain, bus, device, function in hex, either case),
 * device below 32, function below 8, nothing before or after. What passes is
 * safe in a sysfs path; ifd_bdf_format() gives the kernel's spelling
 * (lowercase), the name of the device's sysfs directory.
 */
#ifndef IOMMUFD_SHARED_BDF_H
#define IOMMUFD_SHARED_BDF_H

#include <stdint.h>

struct ifd_bdf {
	uint16_t domain;
	uint8_t bus;
	uint8_t dev;
	uint8_t fn;
};

/* "0000:00:02.0" and its terminating NUL */
#define IFD_BDF_LEN 13

/*
 * Parse s into *out: 0, or -EINVAL with *why (if why is not NULL) saying
 * what is wrong; *out is written only on success.
 */
int ifd_bdf_parse(const char *s, struct ifd_bdf *out, const char **why);
/* the kernel's spelling of b into out */
void ifd_bdf_format(const struct ifd_bdf *b, char out[IFD_BDF_LEN]);

#endif
