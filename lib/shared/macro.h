/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Macros used on both sides of the kernel boundary: by libiommufd and by the
 * emulator library. Private header: never installed.
 */
#ifndef IOMMUFD_SHARED_MACRO_H
#define IOMMUFD_SHARED_MACRO_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

#endif
