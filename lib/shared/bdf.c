// SPDX-License-Identifier: LGPL-2.1-or-later
/* The strict PCI address parser (see bdf.h). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "bdf.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n hex digits at s into *v: false unless all n are hex digits */
static bool hex_field(const char *s, int n, unsigned int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		int d = hexval(s[i]);

		if (d < 0)
			return false;
		*v = *v << 4 | (unsigned int)d;
	}
	return true;
}

static int bad(const char **why, const char *msg)
{
	if (why)
		*why = msg;
	return -EINVAL;
}

int ifd_bdf_parse(const char *s, struct ifd_bdf *out, const char **why)
{
	unsigned int dom, bus, dev, fn;

	if (!s)
		return bad(why, "no PCI address");
	/* each field is checked before the next is read: a short string stops
	 * at its NUL, never reads past it */
	if (!hex_field(s, 4, &dom) || s[4] != ':')
		return bad(why, "the domain is not 4 hex digits and ':'");
	if (!hex_field(s + 5, 2, &bus) || s[7] != ':')
		return bad(why, "the bus is not 2 hex digits and ':'");
	if (!hex_field(s + 8, 2, &dev) || s[10] != '.')
		return bad(why, "the device is not 2 hex digits and '.'");
	if (!hex_field(s + 11, 1, &fn))
		return bad(why, "the function is not 1 hex digit");
	if (s[12])
		return bad(why, "something follows the function");
	if (dev > 0x1f)
		return bad(why, "the device is above 1f");
	if (fn > 7)
		return bad(why, "the function is above 7");
	*out = (struct ifd_bdf){
		.domain = (uint16_t)dom, .bus = (uint8_t)bus, .dev = (uint8_t)dev, .fn = (uint8_t)fn
	};
	return 0;
}

void ifd_bdf_format(const struct ifd_bdf *b, char out[IFD_BDF_LEN])
{
	static const char hex[] = "0123456789abcdef";
	const unsigned int d = b->domain;

	/* by hand: exactly 12 characters whatever the fields hold */
	out[0] = hex[d >> 12 & 15];
	out[1] = hex[d >> 8 & 15];
	out[2] = hex[d >> 4 & 15];
	out[3] = hex[d & 15];
	out[4] = ':';
	out[5] = hex[b->bus >> 4 & 15];
	out[6] = hex[b->bus & 15];
	out[7] = ':';
	out[8] = hex[b->dev >> 4 & 15];
	out[9] = hex[b->dev & 15];
	out[10] = '.';
	out[11] = hex[b->fn & 15];
	out[12] = 0;
}
