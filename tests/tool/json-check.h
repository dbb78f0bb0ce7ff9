/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A strict JSON syntax check, shared by the command's tests and its fuzz
 * target: RFC 8259 values (nesting at most 64 deep), strings of well-formed
 * UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), no raw
 * control characters, valid escapes, nothing but white space after the value.
 */
#ifndef IOMMUFD_TEST_JSON_CHECK_H
#define IOMMUFD_TEST_JSON_CHECK_H

#include <stdbool.h>

bool json_check(const char *text);

#endif
