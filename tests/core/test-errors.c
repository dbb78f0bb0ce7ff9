// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The last error and the fork check, made cheap (lib/ctx.c, lib/private.h):
 * a failure records its parts and the text is made when asked for, so the
 * text must be the same as if it had been formatted at once, string
 * arguments must survive their buffers, a log function at LOG_DEBUG must
 * still see every failure, and a forked child must see its own pid.
 * Runs on the emulator and on the real kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "common.h"

#define PAGE 4096ul

static int setup(void **state)
{
	(void)state;
	test_backend_get();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_backend_put();
	return 0;
}

static uint32_t ioas_new(struct iommufd_ctx *ctx)
{
	uint32_t id;

	assert_ok(iommufd_ioas_alloc(ctx, &id));
	return id;
}

/* the text of a failure is exactly what printf would have made at once */
static void test_exact_text(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx);
	void *buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t iova = 0x100000;
	char want[512];
	const char *a, *b;

	(void)state;
	assert_true(buf != MAP_FAILED);
	assert_ok(iommufd_ioas_map(ctx, ioas, buf, PAGE, &iova,
				   IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ));
	assert_errno(iommufd_ioas_map(ctx, ioas, buf, PAGE, &iova,
				      IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ),
		     EEXIST);
	snprintf(want, sizeof(want),
		 "iommufd_ioas_map: IOMMU_IOAS_MAP (ioas %u, va %p, length 0x1000, iova 0x100000, flags 0x5): EEXIST (%s)",
		 ioas, buf, strerror(EEXIST));
	a = iommufd_ctx_last_error(ctx);
	assert_string_equal(a, want);
	/* made once: the same buffer, the same text */
	b = iommufd_last_error();
	assert_ptr_equal(a, b);
	assert_string_equal(b, want);

	/* negative numbers, "auto ", 64-bit lengths */
	iova = 0;
	assert_errno(iommufd_ioas_unmap(ctx, ioas, 0x200000, 0x123456789000ull, NULL), ENOENT);
	snprintf(want, sizeof(want),
		 "iommufd_ioas_unmap: IOMMU_IOAS_UNMAP (ioas %u, iova 0x200000, length 0x123456789000): ENOENT (%s)",
		 ioas, strerror(ENOENT));
	assert_string_equal(iommufd_last_error(), want);
	assert_errno(iommufd_ioas_map_file(ctx, ioas, -3, 0, PAGE, &iova, IOMMUFD_MAP_READ), EBADF);
	snprintf(want, sizeof(want), "iommufd_ioas_map_file: fd -3 (ioas %u): EBADF (%s)", ioas,
		 strerror(EBADF));
	assert_string_equal(iommufd_last_error(), want);
	/* a flag bit the library does not know goes to the kernel, which refuses it */
	iova = 0;
	assert_errno(iommufd_ioas_map(ctx, ioas, buf, PAGE, &iova, 0x80 | IOMMUFD_MAP_READ), EOPNOTSUPP);
	snprintf(want, sizeof(want),
		 "iommufd_ioas_map: IOMMU_IOAS_MAP (ioas %u, va %p, length 0x1000, iova auto 0x0, flags 0x84; "
		 "the library did not recognise flag bits 0x80): EOPNOTSUPP (%s)",
		 ioas, buf, strerror(EOPNOTSUPP));
	assert_string_equal(iommufd_last_error(), want);
	/* a string argument: the stringified name of the checked argument */
	assert_errno(iommufd_ioas_alloc(ctx, NULL), EINVAL);
	snprintf(want, sizeof(want), "iommufd_ioas_alloc: ioas_id is NULL: EINVAL (%s)",
		 strerror(EINVAL));
	assert_string_equal(iommufd_last_error(), want);

	assert_ok(iommufd_ioas_unmap_all(ctx, ioas, NULL));
	assert_ok(iommufd_destroy(ctx, ioas));
	munmap(buf, PAGE);
	iommufd_ctx_unref(ctx);
}

/* a string argument is copied at the failure: its buffer may die right after */
static void test_string_argument_copied(void **state)
{
	struct iommufd_device *dev = NULL;
	char *path = strdup("/nonexistent-iommufd-test/vfio77");
	char want[512];

	(void)state;
	assert_non_null(path);
	assert_true(iommufd_device_open(test_scope(), path, &dev) < 0);
	assert_null(dev);
	memset(path, 'X', strlen(path));
	free(path);
	if (iommufd_ctx_get_mode(test_scope()) == IOMMUFD_MODE_TYPE1)
		/* a type1 context refuses a cdev path: the path is in that reason */
		snprintf(want, sizeof(want),
			 "iommufd_device_open: /nonexistent-iommufd-test/vfio77: a type1-mode context ");
	else
		snprintf(want, sizeof(want), "iommufd_device_open: open /nonexistent-iommufd-test/vfio77: ");
	assert_true(strncmp(iommufd_last_error(), want, strlen(want)) == 0);
}

struct logged {
	int count;
	char last[512];
};

__attribute__((format(printf, 6, 0))) static void log_fn(void *userdata, int priority, const char *file, int line, const char *fn,
		   const char *format, va_list args)
{
	struct logged *l = userdata;

	(void)file;
	(void)line;
	(void)fn;
	if (priority != LOG_DEBUG)
		return;
	vsnprintf(l->last, sizeof(l->last), format, args);
	l->count++;
}

/* a log function at LOG_DEBUG sees each failure's text, the same text as the last error */
static void test_debug_log(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	struct logged l = { 0 };

	(void)state;
	iommufd_ctx_set_log_fn(ctx, log_fn, &l);
	iommufd_ctx_set_log_priority(ctx, LOG_DEBUG);
	assert_errno(iommufd_destroy(ctx, 54321), ENOENT);
	assert_int_equal(l.count, 1);
	assert_non_null(strstr(l.last, "54321"));
	assert_string_equal(l.last, iommufd_ctx_last_error(ctx));
	/* at LOG_ERR: nothing logged, the text still right when asked */
	iommufd_ctx_set_log_priority(ctx, LOG_ERR);
	assert_errno(iommufd_destroy(ctx, 54322), ENOENT);
	assert_int_equal(l.count, 1);
	assert_non_null(strstr(iommufd_ctx_last_error(ctx), "54322"));
	iommufd_ctx_unref(ctx);
}

/*
 * The cached pid is reset in a forked child: the child's -ECHILD names the
 * parent's pid as the maker and its own as the user, in a child and in a
 * grandchild. Handles of the child itself work there.
 */
static void *volatile fork_keep;

static int child_checks(struct iommufd_ctx *parent_ctx, pid_t maker)
{
	struct iommufd_ctx *own;
	char want[256];
	uint32_t id;

	if (iommufd_ioas_alloc(parent_ctx, &id) != -ECHILD)
		return 1;
	snprintf(want, sizeof(want), "context made by process %d, used in %d after fork",
		 (int)maker, (int)getpid());
	if (!strstr(iommufd_last_error(), want))
		return 2;
	if (iommufd_ctx_new_opts(&(struct iommufd_ctx_opts){ .sz = sizeof(struct iommufd_ctx_opts),
						   .backend = test_backend_get() }, &own) < 0)
		return 0; /* the emulator's state is the parent's: nothing more to check */
	if (iommufd_ioas_alloc(own, &id) != 0) {
		iommufd_ctx_unref(own);
		return 3;
	}
	iommufd_ctx_unref(own);
	return 0;
}

static void test_fork_pid(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	pid_t parent = getpid(), pid;
	uint32_t id;
	int status;

	(void)state;
	fork_keep = ctx;
	assert_ok(iommufd_ioas_alloc(ctx, &id)); /* the pid is cached now */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int r = child_checks(ctx, parent);
		pid_t g;

		if (r)
			_exit(r);
		g = fork();
		if (g < 0)
			_exit(10);
		if (g == 0)
			_exit(child_checks(ctx, parent) ? 11 : 0);
		if (waitpid(g, &status, 0) != g || !WIFEXITED(status))
			_exit(12);
		_exit(WEXITSTATUS(status));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_ok(iommufd_destroy(ctx, id));
	iommufd_ctx_unref(ctx);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_exact_text),
		T(test_string_argument_copied),
		T(test_debug_log),
		T(test_fork_pid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
