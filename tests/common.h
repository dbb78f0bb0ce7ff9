/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the test programs. A test program is written once and runs
 * against the emulated backend (default) or, with IOMMUFD_TEST_REAL=1, the
 * real kernel (the VM suite sets that). Run with CMOCKA_MESSAGE_OUTPUT=TAP to
 * get TAP output (the VM suite does).
 */
#ifndef IOMMUFD_TEST_COMMON_H
#define IOMMUFD_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "iommufd.h"

/* true when the tests run against the real kernel */
bool test_real_kernel(void);
/*
 * A fresh backend for one test: the kernel, or a new emulator (released by
 * test_backend_put()). Each test takes its own so no state leaks between them.
 */
struct iommufd_backend *test_backend_get(void);
void test_backend_put(void);
/* the emulator of the current test, NULL on the real kernel */
struct iommufd_emu *test_emu(void);
/* open a context on the current test's backend; fails the test on error */
struct iommufd_ctx *test_ctx_new(void);

/* assert that call returns -E (a negative errno) */
#define assert_errno(call, E) assert_int_equal((call), -(E))
#define assert_ok(call) assert_int_equal((call), 0)

#endif
