/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef IOMMUFD_TOOL_GUNZIP_H
#define IOMMUFD_TOOL_GUNZIP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decompress the first member of the gzip data in[0..inlen), producing at
 * most outmax bytes. Returns a malloc()ed, NUL-terminated buffer, or NULL on
 * corrupt or truncated input, a CRC mismatch, or more than outmax bytes.
 */
char *gunzip(const uint8_t *in, size_t inlen, size_t outmax);

#endif
