// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the PCI address parser of lib/shared/bdf.h, which both
 * libraries apply to addresses from their callers (and the preload
 * library's IOMMUFD_EMU_DEVICES). The input is the string (cut at its first
 * NUL). Checked: an accepted string has the shape DDDD:BB:DD.F with device
 * below 32 and function below 8; its formatted form is the input in
 * lowercase and parses again to the same fields; a refused string has a
 * reason and leaves the output alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shared/bdf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static char lower(char c)
{
	return c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
}

/* the rule, written the plain way */
static int shape_ok(const char *s)
{
	static const char shape[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'x' ? !is_hex(s[i]) : s[i] != shape[i])
			return 0;
	return strtoul(s + 8, NULL, 16) < 32 && strtoul(s + 11, NULL, 16) < 8;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct ifd_bdf b = { 0xdead & 0xffff, 0xaa, 0xbb, 0xcc }, again;
	char out[IFD_BDF_LEN];
	const char *why = NULL;
	int r;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	r = ifd_bdf_parse(s, &b, &why);
	if ((r == 0) != shape_ok(s))
		abort();
	if (r) {
		if (!why || b.domain != 0xdead || b.bus != 0xaa || b.dev != 0xbb || b.fn != 0xcc)
			abort();
	} else {
		ifd_bdf_format(&b, out);
		for (size_t i = 0; i < IFD_BDF_LEN; i++)
			if (out[i] != lower(s[i]))
				abort();
		if (ifd_bdf_parse(out, &again, NULL) || again.domain != b.domain ||
		    again.bus != b.bus || again.dev != b.dev || again.fn != b.fn)
			abort();
	}
	free(s);
	return 0;
}
