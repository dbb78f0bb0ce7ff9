// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Conformance suite of the library core: every iommufd command through the
 * public API, with its effect asserted. Runs on the emulator (default) and on
 * the real kernel (IOMMUFD_TEST_REAL=1, in the VM). Commands that need a
 * device use the kernel's selftest mock (IOMMU_TEST_CMD through
 * iommufd_ctx_ioctl()), which the emulator serves too.
 *
 * It runs in both modes (the test's contexts are made without a mode, so
 * IOMMUFD_MODE=type1 forces the type1 mode for the whole run): where the
 * type1 mode (a VFIO container) behaves as iommufd does the assertion is the
 * same; where it differs by design (one IOAS, HWPT 2 only with a device, no
 * mock, the commands type1 has no equivalent for) the case asserts type1's
 * documented outcome, decided from the context's mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "common.h"
#include "shared/abi-test.h"
#include "shared/backend.h"

#define PAGE 4096ul
#define BUF_PAGES 64
#define MOCK_BASE KABI_MOCK_APERTURE_START

static void *buffer; /* BUF_PAGES pages of real memory, 2 MiB aligned */

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

static int group_setup(void **state)
{
	size_t len = 4ul << 20;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)state;
	if (p == MAP_FAILED)
		return -1;
	/* 2 MiB alignment makes the kernel's auto IOVA alignment predictable */
	buffer = (void *)(((uintptr_t)p + (2ul << 20) - 1) & ~((2ul << 20) - 1));
	memset(buffer, 0x5a, BUF_PAGES * PAGE);
	return 0;
}

/* ------------------------------------------------------------ mock helpers */

static int test_cmd(struct iommufd_ctx *ctx, struct kabi_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return iommufd_ctx_ioctl(ctx, KABI_IOMMU_TEST_CMD, cmd);
}

struct mock_dev {
	uint32_t stdev_id; /* destroy it to remove the device */
	uint32_t hwpt_id;  /* what it is attached to */
	uint32_t dev_id;   /* the DEVICE object */
};

/* a mock device attached to pt_id (an IOAS or a HWPT) */
static struct mock_dev mock_domain_flags(struct iommufd_ctx *ctx, uint32_t pt_id, uint32_t flags)
{
	struct kabi_test_cmd cmd = { .op = KABI_TEST_OP_MOCK_DOMAIN_FLAGS, .id = pt_id };
	struct mock_dev d;
	int r;

	cmd.mock_domain_flags.dev_flags = flags;
	r = test_cmd(ctx, &cmd);
	if (r)
		fail_msg("MOCK_DOMAIN_FLAGS on %u: %d (%s)", pt_id, r, iommufd_last_error());
	d.stdev_id = cmd.mock_domain_flags.out_stdev_id;
	d.hwpt_id = cmd.mock_domain_flags.out_hwpt_id;
	d.dev_id = cmd.mock_domain_flags.out_idev_id;
	assert_int_not_equal(d.dev_id, 0);
	return d;
}

static struct mock_dev mock_domain(struct iommufd_ctx *ctx, uint32_t pt_id)
{
	struct kabi_test_cmd cmd = { .op = KABI_TEST_OP_MOCK_DOMAIN, .id = pt_id };
	struct mock_dev d;
	int r;

	r = test_cmd(ctx, &cmd);
	if (r)
		fail_msg("MOCK_DOMAIN on %u: %d (%s)", pt_id, r, iommufd_last_error());
	d.stdev_id = cmd.mock_domain.out_stdev_id;
	d.hwpt_id = cmd.mock_domain.out_hwpt_id;
	d.dev_id = cmd.mock_domain.out_idev_id;
	assert_int_not_equal(d.dev_id, 0);
	assert_int_not_equal(d.hwpt_id, 0);
	return d;
}

static int mock_replace(struct iommufd_ctx *ctx, uint32_t stdev_id, uint32_t pt_id)
{
	struct kabi_test_cmd cmd = { .op = KABI_TEST_OP_MOCK_DOMAIN_REPLACE, .id = stdev_id };

	cmd.mock_domain_replace.pt_id = pt_id;
	return test_cmd(ctx, &cmd);
}

static int add_reserved(struct iommufd_ctx *ctx, uint32_t ioas, uint64_t start, uint64_t length)
{
	struct kabi_test_cmd cmd = { .op = KABI_TEST_OP_ADD_RESERVED, .id = ioas };

	cmd.add_reserved.start = start;
	cmd.add_reserved.length = length;
	return test_cmd(ctx, &cmd);
}

static int check_iotlb(struct iommufd_ctx *ctx, uint32_t hwpt, uint32_t id, uint32_t val)
{
	struct kabi_test_cmd cmd = { .op = KABI_TEST_OP_MD_CHECK_IOTLB, .id = hwpt };

	cmd.check_iotlb.id = id;
	cmd.check_iotlb.iotlb = val;
	return test_cmd(ctx, &cmd);
}

static uint32_t ioas_new(struct iommufd_ctx *ctx)
{
	uint32_t id = 0;

	assert_ok(iommufd_ioas_alloc(ctx, &id));
	assert_int_not_equal(id, 0);
	return id;
}

/* the effective capability cap of this process */
static bool has_cap(int cap)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return eff & (1ull << cap);
}

static bool contains(const char *s, const char *sub)
{
	if (!strstr(s, sub)) {
		print_error("\"%s\" does not contain \"%s\"\n", s, sub);
		return false;
	}
	return true;
}

/* ctx drives a VFIO container (IOMMUFD_MODE=type1 for the run) */
static bool type1(const struct iommufd_ctx *ctx)
{
	return iommufd_ctx_get_mode(ctx) == IOMMUFD_MODE_TYPE1;
}

/* what the type1 mode has no equivalent for: EOPNOTSUPP and a reason naming the mode */
#define assert_type1_refuses(call)                                        \
	do {                                                              \
		assert_errno((call), EOPNOTSUPP);                         \
		assert_true(contains(iommufd_last_error(), "type1"));     \
	} while (0)

/*
 * The selftest mock is iommufd's: on a type1 context IOMMU_TEST_CMD goes to
 * the container, which without an IOMMU driver refuses what it does not
 * know with EINVAL (vfio_fops_unl_ioctl(), drivers/vfio/container.c).
 */
static void assert_no_mock(struct iommufd_ctx *ctx, uint32_t id)
{
	struct kabi_test_cmd cmd = { .size = sizeof(cmd), .op = KABI_TEST_OP_MOCK_DOMAIN, .id = id };

	assert_errno(iommufd_ctx_ioctl(ctx, KABI_IOMMU_TEST_CMD, &cmd), EINVAL);
	assert_int_equal(cmd.mock_domain.out_idev_id, 0);
}

/* ------------------------------------------------------------ context */

/* adopt fd on the test's backend: iommufd_ctx_new_from_fd(), or its options form on the emulator */
static int adopt(int fd, struct iommufd_ctx **ret)
{
	IOMMUFD_OPTS(struct iommufd_ctx_opts, opts, .flags = IOMMUFD_CTX_FROM_FD, .fd = fd,
		     .backend = test_backend_get());

	if (test_real_kernel())
		return iommufd_ctx_new_from_fd(fd, ret);
	return iommufd_ctx_new_opts(&opts, ret);
}

static void test_ctx_lifecycle(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new(), *ctx2 = NULL, *ctx2_shared;
	struct iommufd_fault_queue *q = NULL;
	uint32_t ioas;
	int fd;

	(void)state;
	fd = iommufd_ctx_get_fd(ctx);
	assert_true(fd >= 0);
	assert_ptr_equal(iommufd_ctx_ref(ctx), ctx);
	assert_null(iommufd_ctx_unref(ctx)); /* drops the extra ref only */
	assert_int_equal(iommufd_ctx_get_fd(ctx), fd);
	assert_null(iommufd_ctx_unref(NULL));
	assert_null(iommufd_ctx_ref(NULL));
	assert_errno(iommufd_ctx_get_fd(NULL), EINVAL);

	/* adopt the same file: an iommufd's objects are seen through both */
	assert_ok(adopt(fd, &ctx2));
	assert_int_equal(iommufd_ctx_get_fd(ctx2), fd);
	assert_int_equal(iommufd_ctx_get_mode(ctx2), iommufd_ctx_get_mode(ctx));
	ioas = ioas_new(ctx2);
	if (type1(ctx)) {
		/* a container's IOAS is the library's: an adopted one starts with its own, empty */
		assert_int_equal(ioas, 1);
		assert_errno(iommufd_destroy(ctx, ioas), ENOENT);
		assert_ok(iommufd_destroy(ctx2, ioas));
	} else {
		assert_ok(iommufd_destroy(ctx, ioas));
	}
	ctx2_shared = ctx2;

	/* not an iommufd: a fault queue's fd; not open: -EBADF */
	ctx2 = NULL;
	if (type1(ctx)) {
		/* no fault queue in type1 mode, so no such fd to hand over */
		assert_type1_refuses(iommufd_fault_queue_new(ctx, &q));
	} else {
		assert_ok(iommufd_fault_queue_new(ctx, &q));
		assert_errno(adopt(iommufd_fault_queue_get_fd(q), &ctx2), ENOTTY);
		assert_null(ctx2);
		assert_true(contains(iommufd_last_error(), "ENOTTY"));
	}
	assert_errno(adopt(1000, &ctx2), EBADF);
	assert_errno(adopt(-1, &ctx2), EBADF);
	assert_errno(adopt(fd, NULL), EINVAL);
	assert_errno(iommufd_ctx_new(NULL), EINVAL);
	assert_errno(iommufd_ctx_new_from_fd(fd, NULL), EINVAL);
	assert_errno(iommufd_ctx_new_opts(NULL, NULL), EINVAL);
	iommufd_fault_queue_unref(q);

	/* both own the one fd: the second close is of a closed fd, harmless */
	iommufd_ctx_unref(ctx2_shared);
	iommufd_ctx_unref(ctx);
}

static void test_ctx_from_fd_owns(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new(), *ctx2 = NULL;
	int fd = iommufd_ctx_get_fd(ctx);

	(void)state;
	/* the adopted context closes fd on its last unref: ctx then fails with EBADF */
	assert_ok(adopt(fd, &ctx2));
	iommufd_ctx_unref(ctx2);
	if (type1(ctx)) {
		/* DESTROY is the library's in type1 mode: a container ioctl reaches the fd */
		assert_errno(iommufd_ctx_ioctl(ctx, KABI_VFIO_GET_API_VERSION, NULL), EBADF);
	} else {
		assert_errno(iommufd_destroy(ctx, 0), EBADF);
	}
	iommufd_ctx_unref(ctx); /* closes a closed fd: harmless */
}

static void test_ctx_default_backend(void **state)
{
	struct iommufd_ctx *test_ctx = test_ctx_new(), *ctx = NULL;
	int r;

	(void)state;
	/* no backend named: the kernel, in the mode of this run */
	r = iommufd_ctx_new(&ctx);
	if (r == 0) {
		assert_int_equal(iommufd_ctx_get_mode(ctx), iommufd_ctx_get_mode(test_ctx));
		iommufd_ctx_unref(ctx);
	} else {
		/* no /dev/iommu (or container) on this host: the reason names the path */
		assert_false(test_real_kernel());
		assert_true(contains(iommufd_last_error(),
				     type1(test_ctx) ? "/dev/vfio/vfio" : "/dev/iommu"));
	}
	iommufd_ctx_unref(test_ctx);
}

static void test_ctx_opts(void **state)
{
	IOMMUFD_OPTS(struct iommufd_ctx_opts, unknown_flag, .flags = 1u << 31);
	struct {
		struct iommufd_ctx_opts opts;
		uint64_t newer_field;
	} newer = { .opts = { .sz = sizeof(newer) }, .newer_field = 1 };
	/* a backend built against another layout of the ops is refused, never called */
	struct iommufd_backend foreign = { .abi = IFD_BACKEND_ABI + 1, .ops = NULL };
	IOMMUFD_OPTS(struct iommufd_ctx_opts, bad_backend, .backend = &foreign);
	struct iommufd_ctx *ctx = NULL;

	(void)state;
	assert_errno(iommufd_ctx_new_opts(&unknown_flag, &ctx), EINVAL);
	assert_true(contains(iommufd_last_error(), "unknown flags 0x80000000"));
	assert_errno(iommufd_ctx_new_opts(&newer.opts, &ctx), E2BIG);
	newer.opts.sz = 1;
	assert_errno(iommufd_ctx_new_opts(&newer.opts, &ctx), EINVAL);
	assert_errno(iommufd_ctx_new_opts(&bad_backend, &ctx), EPROTO);
	assert_true(contains(iommufd_last_error(), "another version of libiommufd"));
	assert_null(ctx);
	/* the options form opens like iommufd_ctx_new() on the test's backend */
	ctx = test_ctx_new();
	assert_true(iommufd_ctx_get_fd(ctx) >= 0);
	iommufd_ctx_unref(ctx);
}

static void *other_thread(void *arg)
{
	(void)arg;
	return (void *)iommufd_last_error();
}

static void test_last_error(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new(), *ctx2 = test_ctx_new();
	pthread_t t;
	void *res;

	(void)state;
	assert_string_equal(iommufd_ctx_last_error(ctx), "");
	assert_errno(iommufd_destroy(ctx, 12345), ENOENT);
	assert_true(contains(iommufd_ctx_last_error(ctx), "iommufd_destroy"));
	assert_true(contains(iommufd_ctx_last_error(ctx), "12345"));
	assert_true(contains(iommufd_ctx_last_error(ctx), "ENOENT"));
	assert_string_equal(iommufd_last_error(), iommufd_ctx_last_error(ctx));
	/* another context had no failure */
	assert_string_equal(iommufd_ctx_last_error(ctx2), "");
	assert_string_equal(iommufd_ctx_last_error(NULL), "");
	/* per thread */
	assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
	assert_int_equal(pthread_join(t, &res), 0);
	assert_string_equal((const char *)res, "");

	/* a library argument check names the call and the argument */
	assert_errno(iommufd_ioas_alloc(ctx2, NULL), EINVAL);
	assert_true(contains(iommufd_ctx_last_error(ctx2), "iommufd_ioas_alloc"));
	assert_true(contains(iommufd_ctx_last_error(ctx2), "ioas_id"));
	assert_true(contains(iommufd_ctx_last_error(ctx2), "EINVAL"));
	assert_string_equal(iommufd_ctx_last_error(ctx), "");

	/* a kernel error names the request and its arguments */
	{
		uint32_t ioas = ioas_new(ctx);
		uint64_t iova = 0x100000;

		assert_ok(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova,
					   IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ));
		assert_errno(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova,
					      IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ),
			     EEXIST);
		assert_true(contains(iommufd_ctx_last_error(ctx), "iommufd_ioas_map"));
		assert_true(contains(iommufd_ctx_last_error(ctx), "IOAS_MAP"));
		assert_true(contains(iommufd_ctx_last_error(ctx), "0x100000"));
		assert_true(contains(iommufd_ctx_last_error(ctx), "EEXIST"));
	}
	iommufd_ctx_unref(ctx2);
	iommufd_ctx_unref(ctx);
}

/*
 * The last error is tagged with its context's identity, not its address: a
 * new context that happens to get a freed one's address must not inherit its
 * message, even when the failure happened in another thread than the free.
 */
struct alias_arg {
	struct iommufd_ctx *ctx;
	pthread_barrier_t step;
	bool new_ctx_clean;
};

static void *alias_thread(void *p)
{
	struct alias_arg *a = p;

	/* this thread's last error: on the first context */
	iommufd_destroy(a->ctx, 12345);
	pthread_barrier_wait(&a->step);
	/* meanwhile the main thread frees it and makes a new one */
	pthread_barrier_wait(&a->step);
	a->new_ctx_clean = strcmp(iommufd_ctx_last_error(a->ctx), "") == 0;
	return NULL;
}

static void test_last_error_stale_ctx(void **state)
{
	struct alias_arg a = { .ctx = test_ctx_new() };
	void *old = a.ctx;
	bool reused = false;
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_barrier_init(&a.step, NULL, 2), 0);
	assert_int_equal(pthread_create(&t, NULL, alias_thread, &a), 0);
	pthread_barrier_wait(&a.step);
	iommufd_ctx_unref(a.ctx);
	/* malloc hands the same block back in most cases; try a few times */
	for (int i = 0; i < 8 && !reused; i++) {
		a.ctx = test_ctx_new();
		reused = (void *)a.ctx == old;
		if (!reused)
			iommufd_ctx_unref(a.ctx);
	}
	if (!reused)
		a.ctx = test_ctx_new();
	pthread_barrier_wait(&a.step);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_barrier_destroy(&a.step);
	assert_true(a.new_ctx_clean);
	iommufd_ctx_unref(a.ctx);
	if (!reused)
		print_message("note: the address was not reused, the aliasing case did not arise\n");
}

/* the reason names errnos the library meets, by name */
static void test_errno_names(void **state)
{
	struct iommufd_device *dev = NULL;
	char path[400];

	(void)state;
	memset(path, 'a', sizeof(path));
	memcpy(path, "/tmp/", 5);
	path[sizeof(path) - 1] = 0;
	if (type1(test_scope())) {
		/* a type1 context opens devices by their group, never by a cdev path */
		assert_errno(iommufd_device_open(test_scope(), path, &dev), EOPNOTSUPP);
		assert_true(contains(iommufd_last_error(), "EOPNOTSUPP"));
		assert_true(contains(iommufd_last_error(), "type1"));
		assert_null(dev);
		return;
	}
	assert_errno(iommufd_device_open(test_scope(), path, &dev), ENAMETOOLONG);
	assert_true(contains(iommufd_last_error(), "ENAMETOOLONG"));
}

static int log_calls;
static char log_last[256];

static void log_fn(void *data, int prio, const char *file, int line, const char *fn,
		   const char *fmt, va_list ap)
{
	(void)file;
	(void)line;
	(void)fn;
	assert_ptr_equal(data, &log_calls);
	assert_int_equal(prio, LOG_DEBUG);
	log_calls++;
	vsnprintf(log_last, sizeof(log_last), fmt, ap);
}

static void test_logging(void **state)
{
	struct iommufd_ctx *ctx;

	(void)state;
	setenv("IOMMUFD_LOG", "debug", 1);
	ctx = test_ctx_new();
	unsetenv("IOMMUFD_LOG");
	assert_int_equal(iommufd_ctx_get_log_priority(ctx), LOG_DEBUG);
	iommufd_ctx_set_log_fn(ctx, log_fn, &log_calls);
	log_calls = 0;
	assert_errno(iommufd_destroy(ctx, 777), ENOENT);
	assert_true(log_calls >= 1);
	assert_true(contains(log_last, "777"));
	/* below the priority: nothing */
	iommufd_ctx_set_log_priority(ctx, LOG_ERR);
	assert_int_equal(iommufd_ctx_get_log_priority(ctx), LOG_ERR);
	log_calls = 0;
	assert_errno(iommufd_destroy(ctx, 778), ENOENT);
	assert_int_equal(log_calls, 0);
	iommufd_ctx_set_log_fn(ctx, NULL, NULL);
	iommufd_ctx_unref(ctx);

	setenv("IOMMUFD_LOG", "6", 1);
	ctx = test_ctx_new();
	unsetenv("IOMMUFD_LOG");
	assert_int_equal(iommufd_ctx_get_log_priority(ctx), LOG_INFO);
	iommufd_ctx_unref(ctx);
	ctx = test_ctx_new();
	assert_int_equal(iommufd_ctx_get_log_priority(ctx), LOG_ERR);
	iommufd_ctx_unref(ctx);
}

/*
 * A forked child _exit()s holding the parent's handles (it must not release
 * them): kept here, valgrind counts them reachable rather than lost in it.
 */
static void *volatile fork_child_keep[4];

static void test_fork_echild(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx), id;
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fork_child_keep[0] = ctx;
		int ok = iommufd_ioas_alloc(ctx, &id) == -ECHILD &&
			 iommufd_destroy(ctx, ioas) == -ECHILD &&
			 iommufd_ctx_supports(ctx, IOMMUFD_REQ_DESTROY) == -ECHILD &&
			 iommufd_ctx_ioctl(ctx, KABI_IOMMU_DESTROY, &id) == -ECHILD &&
			 strstr(iommufd_last_error(), "ECHILD") != NULL;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the parent is unaffected */
	assert_ok(iommufd_destroy(ctx, ioas));
	iommufd_ctx_unref(ctx);
}

static void test_arg_checks(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx), id;
	struct iommufd_iova_range *ranges;
	size_t nr;
	uint64_t iova = 0, u;
	bool b;
	enum iommufd_rlimit_mode mode;
	struct iommufd_fault_queue *fq;
	struct iommufd_veventq *vq;
	struct iommufd_vevent ev;
	struct iommufd_fault f;
	uint32_t n = 1;
	void *addr;

	(void)state;
	/* NULL context */
	assert_errno(iommufd_ioas_alloc(NULL, &id), EINVAL);
	assert_errno(iommufd_destroy(NULL, 1), EINVAL);
	assert_errno(iommufd_ioas_map(NULL, ioas, buffer, PAGE, &iova, IOMMUFD_MAP_READ), EINVAL);
	assert_errno(iommufd_ctx_ioctl(NULL, KABI_IOMMU_DESTROY, &id), EINVAL);
	assert_errno(iommufd_ctx_supports(NULL, IOMMUFD_REQ_DESTROY), EINVAL);
	assert_errno(iommufd_ctx_get_log_priority(NULL), EINVAL);
	/* NULL out-pointers */
	assert_errno(iommufd_ioas_iova_ranges(ctx, ioas, NULL, &nr, NULL), EINVAL);
	assert_errno(iommufd_ioas_iova_ranges(ctx, ioas, &ranges, NULL, NULL), EINVAL);
	assert_errno(iommufd_ioas_map(ctx, ioas, buffer, PAGE, NULL, IOMMUFD_MAP_READ), EINVAL);
	assert_errno(iommufd_ioas_map_file(ctx, ioas, 0, 0, PAGE, NULL, IOMMUFD_MAP_READ), EINVAL);
	assert_errno(iommufd_ioas_copy(ctx, ioas, NULL, ioas, 0, PAGE, IOMMUFD_MAP_READ), EINVAL);
	assert_errno(iommufd_ctx_get_rlimit_mode(ctx, NULL), EINVAL);
	assert_errno(iommufd_ioas_get_huge_pages(ctx, ioas, NULL), EINVAL);
	assert_errno(iommufd_vfio_ioas_get(ctx, NULL), EINVAL);
	assert_errno(iommufd_hwpt_alloc(ctx, 1, ioas, NULL, NULL), EINVAL);
	assert_errno(iommufd_get_hw_info(ctx, 1, 0, NULL), EINVAL);
	assert_errno(iommufd_hwpt_get_dirty_bitmap(ctx, 1, 0, PAGE, PAGE, NULL, 0), EINVAL);
	assert_errno(iommufd_hwpt_invalidate(ctx, 1, 0, NULL, 8, NULL), EINVAL);
	assert_errno(iommufd_hwpt_invalidate(ctx, 1, 0, NULL, 8, &n), EINVAL);
	assert_int_equal(n, 0);
	assert_errno(iommufd_fault_queue_new(ctx, NULL), EINVAL);
	assert_errno(iommufd_viommu_alloc(ctx, 1, 1, IOMMUFD_VIOMMU_SELFTEST, NULL, NULL), EINVAL);
	{
		IOMMUFD_OPTS(struct iommufd_viommu_alloc_opts, vo, .data_len = 8); /* data NULL */

		assert_errno(iommufd_viommu_alloc(ctx, 1, 1, IOMMUFD_VIOMMU_SELFTEST, &vo, &id),
			     EINVAL);
		vo.data_len = 0;
		vo.sz = 4; /* smaller than the sz member */
		assert_errno(iommufd_viommu_alloc(ctx, 1, 1, IOMMUFD_VIOMMU_SELFTEST, &vo, &id),
			     EINVAL);
	}
	assert_errno(iommufd_vdevice_alloc(ctx, 1, 1, 0, NULL), EINVAL);
	assert_errno(iommufd_hw_queue_alloc(ctx, 1, IOMMUFD_HW_QUEUE_SELFTEST, 0, 0, PAGE, NULL,
					    NULL),
		     EINVAL);
	assert_errno(iommufd_veventq_new(ctx, 1, IOMMUFD_VEVENTQ_SELFTEST, 2, NULL, NULL), EINVAL);
	assert_errno(iommufd_ctx_mmap(ctx, 0, PAGE, NULL), EINVAL);
	assert_errno(iommufd_ctx_mmap(ctx, 0, 0, &addr), EINVAL);
	assert_errno(iommufd_ctx_munmap(ctx, NULL, PAGE), EINVAL);
	/*
	 * flag bits the library does not know go to the kernel, which refuses
	 * them (EOPNOTSUPP); the reason names the bits the library did not know
	 */
	assert_errno(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova, IOMMUFD_MAP_READ | (1u << 3)),
		     EOPNOTSUPP);
	assert_true(contains(iommufd_last_error(), "did not recognise flag bits 0x8"));
	assert_errno(iommufd_ioas_map_file(ctx, ioas, 0, 0, PAGE, &iova, 1u << 8), EOPNOTSUPP);
	assert_true(contains(iommufd_last_error(), "did not recognise flag bits 0x100"));
	assert_errno(iommufd_ioas_copy(ctx, ioas, &iova, ioas, 0, PAGE, 1u << 31), EOPNOTSUPP);
	assert_true(contains(iommufd_last_error(), "did not recognise flag bits 0x80000000"));
	assert_errno(iommufd_hwpt_get_dirty_bitmap(ctx, 1, 0, PAGE, PAGE, &u, 2), EOPNOTSUPP);
	assert_true(contains(iommufd_last_error(), "did not recognise flag bits 0x2"));
	/* a known flag refused for another reason: no such note */
	assert_errno(iommufd_ioas_map_file(ctx, ioas, -1, 0, PAGE, &iova, IOMMUFD_MAP_READ), EBADF);
	assert_errno(iommufd_ioas_map(ctx, ioas + 100, buffer, PAGE, &iova, IOMMUFD_MAP_READ), ENOENT);
	assert_false(contains(iommufd_last_error(), "recognise"));
	/* unknown library values */
	assert_errno(iommufd_ctx_set_rlimit_mode(ctx, (enum iommufd_rlimit_mode)2), EINVAL);
	assert_errno(iommufd_ioas_allow_iovas(ctx, ioas, NULL, 1), EINVAL);
	assert_errno(iommufd_veventq_new(ctx, 1, 0x1234, 2, NULL, &vq), EINVAL);
	/* queue handles */
	assert_errno(iommufd_fault_queue_read(NULL, &f, 1), EINVAL);
	assert_errno(iommufd_fault_queue_respond(NULL, 1, IOMMUFD_FAULT_RESPONSE_SUCCESS), EINVAL);
	assert_errno(iommufd_fault_queue_get_fd(NULL), EINVAL);
	assert_int_equal(iommufd_fault_queue_get_id(NULL), 0);
	assert_null(iommufd_fault_queue_unref(NULL));
	assert_errno(iommufd_veventq_read(NULL, &ev), EINVAL);
	assert_errno(iommufd_veventq_get_fd(NULL), EINVAL);
	assert_int_equal(iommufd_veventq_get_id(NULL), 0);
	assert_null(iommufd_veventq_unref(NULL));
	if (type1(ctx)) {
		/* no fault queue in type1 mode: the checks of its arguments do not arise */
		assert_type1_refuses(iommufd_fault_queue_new(ctx, &fq));
	} else {
		assert_ok(iommufd_fault_queue_new(ctx, &fq));
		assert_errno(iommufd_fault_queue_read(fq, NULL, 1), EINVAL);
		assert_errno(iommufd_fault_queue_read(fq, &f, 0), EINVAL);
		assert_errno(iommufd_fault_queue_respond(fq, 1, (enum iommufd_fault_response)7), EINVAL);
		iommufd_fault_queue_unref(fq);
	}
	/* bitmap walker */
	assert_errno(iommufd_bitmap_next_run(NULL, 64, &u, &u, &u), EINVAL);
	/* nothing above changed the IOAS */
	assert_ok(iommufd_ioas_iova_ranges(ctx, ioas, &ranges, &nr, NULL));
	free(ranges);
	assert_ok(iommufd_ioas_unmap_all(ctx, ioas, &u));
	assert_int_equal(u, 0);
	if (type1(ctx)) {
		/* IOMMU_OPTION has no type1 equivalent */
		assert_type1_refuses(iommufd_ioas_get_huge_pages(ctx, ioas, &b));
		assert_type1_refuses(iommufd_ctx_get_rlimit_mode(ctx, &mode));
	} else {
		assert_ok(iommufd_ioas_get_huge_pages(ctx, ioas, &b));
		assert_true(b);
		assert_ok(iommufd_ctx_get_rlimit_mode(ctx, &mode));
	}
	iommufd_ctx_unref(ctx);
}

/* ------------------------------------------------------------ IOAS */

static void test_ioas_alloc_destroy(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t a = ioas_new(ctx), b, c;

	(void)state;
	if (type1(ctx)) {
		/* a container is one address space: IOAS 1, a second one is refused */
		assert_int_equal(a, 1);
		assert_type1_refuses(iommufd_ioas_alloc(ctx, &b));
		assert_true(contains(iommufd_last_error(), "another needs another context"));
		assert_ok(iommufd_destroy(ctx, a));
		assert_errno(iommufd_destroy(ctx, a), ENOENT);
		assert_errno(iommufd_destroy(ctx, 0), ENOENT);
		/* gone, it can be made again, with the same ID */
		c = ioas_new(ctx);
		assert_int_equal(c, a);
		assert_ok(iommufd_destroy(ctx, c));
		iommufd_ctx_unref(ctx);
		return;
	}
	b = ioas_new(ctx);
	assert_int_not_equal(a, b);
	assert_ok(iommufd_destroy(ctx, a));
	assert_errno(iommufd_destroy(ctx, a), ENOENT);
	assert_errno(iommufd_destroy(ctx, 0), ENOENT);
	/* IDs are reused: lowest free first */
	c = ioas_new(ctx);
	assert_int_equal(c, a);
	assert_ok(iommufd_destroy(ctx, b));
	assert_ok(iommufd_destroy(ctx, c));
	iommufd_ctx_unref(ctx);
}

static void test_iova_ranges(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx), ioas2;
	struct iommufd_iova_range *r = NULL;
	uint64_t align = 0;
	size_t nr = 0;

	(void)state;
	assert_ok(iommufd_ioas_iova_ranges(ctx, ioas, &r, &nr, &align));
	assert_int_equal(nr, 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, UINT64_MAX);
	/* type1 maps whole CPU pages: its IOVAs are page aligned even before a device */
	assert_int_equal(align, type1(ctx) ? (uint64_t)sysconf(_SC_PAGESIZE) : 1);
	free(r);
	if (type1(ctx)) {
		/* no reserved region nor mock domain to add to a container: its ranges come with its devices */
		assert_errno(add_reserved(ctx, ioas, 0x100000, PAGE), EINVAL);
		assert_no_mock(ctx, ioas);
		assert_errno(iommufd_ioas_iova_ranges(ctx, 999, &r, &nr, NULL), ENOENT);
		assert_true(contains(iommufd_last_error(), "the container's IOAS is 1"));
		iommufd_ctx_unref(ctx);
		return;
	}
	ioas2 = ioas_new(ctx);

	/* 9 reserved holes -> 10 ranges: more than the first buffer holds */
	for (int i = 0; i < 9; i++)
		assert_ok(add_reserved(ctx, ioas, 0x100000ull * (i + 1), PAGE));
	assert_ok(iommufd_ioas_iova_ranges(ctx, ioas, &r, &nr, NULL));
	assert_int_equal(nr, 10);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0x100000 - 1);
	for (int i = 1; i < 9; i++) {
		assert_int_equal(r[i].start, 0x100000ull * i + PAGE);
		assert_int_equal(r[i].last, 0x100000ull * (i + 1) - 1);
	}
	assert_int_equal(r[9].start, 0x900000 + PAGE);
	assert_int_equal(r[9].last, UINT64_MAX);
	free(r);

	/* a mock domain narrows to its aperture and sets its page size */
	mock_domain(ctx, ioas2);
	assert_ok(iommufd_ioas_iova_ranges(ctx, ioas2, &r, &nr, &align));
	assert_int_equal(nr, 1);
	assert_int_equal(r[0].start, KABI_MOCK_APERTURE_START);
	assert_int_equal(r[0].last, KABI_MOCK_APERTURE_LAST);
	assert_int_equal(align, KABI_MOCK_PAGE_SIZE);
	free(r);

	assert_errno(iommufd_ioas_iova_ranges(ctx, 999, &r, &nr, NULL), ENOENT);
	iommufd_ctx_unref(ctx);
}

static void test_map_unmap(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx);
	const uint32_t rw = IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE;
	const uint32_t fixed = rw | IOMMUFD_MAP_FIXED_IOVA;
	uint64_t iova, u = 0;

	(void)state;
	/* nothing mapped */
	assert_errno(iommufd_ioas_unmap(ctx, ioas, 0x100000, PAGE, &u), ENOENT);

	iova = 0x100000;
	assert_ok(iommufd_ioas_map(ctx, ioas, buffer, 2 * PAGE, &iova, fixed));
	assert_int_equal(iova, 0x100000);
	/* half of the area: no split */
	assert_errno(iommufd_ioas_unmap(ctx, ioas, 0x100000, PAGE, &u), ENOENT);
	assert_errno(iommufd_ioas_unmap(ctx, ioas, 0x100000 + PAGE, PAGE, &u), ENOENT);
	/* overlaps of any size */
	iova = 0x100000 + PAGE;
	assert_errno(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova, fixed), EEXIST);
	iova = 0x100000 - PAGE;
	assert_errno(iommufd_ioas_map(ctx, ioas, buffer, 2 * PAGE, &iova, fixed), EEXIST);
	iova = 0x100000 - PAGE;
	assert_errno(iommufd_ioas_map(ctx, ioas, buffer, 4 * PAGE, &iova, fixed), EEXIST);
	/* no permission */
	iova = 0x200000;
	assert_errno(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova, IOMMUFD_MAP_FIXED_IOVA),
		     EINVAL);
	/* length 0: the kernel's EINVAL */
	assert_errno(iommufd_ioas_map(ctx, ioas, buffer, 0, &iova, fixed), EINVAL);
	/* the exact area: its length comes back */
	u = 0;
	assert_ok(iommufd_ioas_unmap(ctx, ioas, 0x100000, 2 * PAGE, &u));
	assert_int_equal(u, 2 * PAGE);

	/* a range covering several areas and gaps: the sum of the areas */
	for (int i = 0; i < 4; i++) {
		iova = 0x400000 + i * 4 * PAGE;
		assert_ok(iommufd_ioas_map(ctx, ioas, (char *)buffer + i * PAGE, PAGE, &iova, fixed));
	}
	assert_ok(iommufd_ioas_unmap(ctx, ioas, 0x400000, 16 * PAGE, &u));
	assert_int_equal(u, 4 * PAGE);

	/* unmap_all */
	for (int i = 0; i < 3; i++) {
		iova = 0x800000 + i * 0x10000;
		assert_ok(iommufd_ioas_map(ctx, ioas, buffer, (i + 1) * PAGE, &iova, fixed));
	}
	assert_ok(iommufd_ioas_unmap_all(ctx, ioas, &u));
	assert_int_equal(u, 6 * PAGE);
	assert_ok(iommufd_ioas_unmap_all(ctx, ioas, &u)); /* empty: fine */
	assert_int_equal(u, 0);
	assert_ok(iommufd_ioas_unmap_all(ctx, ioas, NULL));
	assert_errno(iommufd_ioas_unmap_all(ctx, 999, &u), ENOENT);
	iommufd_ctx_unref(ctx);
}

static uint64_t lowbit(uint64_t v)
{
	return v & -v;
}

static uint64_t pow2_up(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

static void test_map_auto_iova(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx);
	const uint32_t rw = IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE;
	uint64_t iova, u;

	(void)state;
	for (unsigned int pages = 1; pages <= 16; pages++) {
		char *va = (char *)buffer + (pages % 4) * PAGE;
		uint64_t len = pages * PAGE;
		uint64_t align = pow2_up(len);

		if (lowbit((uint64_t)(uintptr_t)va) < align)
			align = lowbit((uint64_t)(uintptr_t)va);
		if (align > (2ull << 20))
			align = 2ull << 20;
		iova = 0xdead; /* ignored without FIXED_IOVA */
		assert_ok(iommufd_ioas_map(ctx, ioas, va, len, &iova, rw));
		assert_int_not_equal(iova, 0);      /* never IOVA 0 */
		assert_int_equal(iova % align, 0);  /* naturally aligned */
		/* the exact area comes back */
		assert_ok(iommufd_ioas_unmap(ctx, ioas, iova, len, &u));
		assert_int_equal(u, len);
	}
	iova = 0;
	if (type1(ctx)) {
		/* type1 maps whole pages (vfio_dma_do_map()): a sub-page VA offset is refused */
		assert_errno(iommufd_ioas_map(ctx, ioas, (char *)buffer + 0x10, PAGE, &iova, rw),
			     EINVAL);
		assert_true(contains(iommufd_last_error(), "multiples of the page size"));
	} else {
		/* a sub-page VA offset is kept in the IOVA */
		assert_ok(iommufd_ioas_map(ctx, ioas, (char *)buffer + 0x10, PAGE, &iova, rw));
		assert_int_equal(iova % PAGE, 0x10);
	}
	/* first fit, lowest address, from PAGE upward */
	assert_ok(iommufd_ioas_unmap_all(ctx, ioas, NULL));
	assert_ok(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova, rw));
	assert_int_equal(iova, PAGE);
	iommufd_ctx_unref(ctx);
}

static void test_allow_iovas(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx);
	const uint32_t rw = IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE;
	struct iommufd_iova_range win = { .start = 0x10000000, .last = 0x1fffffff };
	struct iommufd_iova_range two[2] = { { 0x1000, 0x1fff }, { 0x1800, 0x2fff } };
	struct iommufd_iova_range bad = { .start = 0x5000, .last = 0x5000 };
	struct iommufd_iova_range *r;
	uint64_t iova;
	size_t nr;

	(void)state;
	if (type1(ctx)) {
		/* type1 has no allowed list: refused, and automatic IOVAs stay first fit from PAGE */
		assert_type1_refuses(iommufd_ioas_allow_iovas(ctx, ioas, &win, 1));
		assert_type1_refuses(iommufd_ioas_allow_iovas(ctx, ioas, NULL, 0));
		assert_errno(iommufd_ioas_allow_iovas(ctx, ioas, NULL, 1), EINVAL);
		assert_ok(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova, rw));
		assert_int_equal(iova, PAGE);
		iommufd_ctx_unref(ctx);
		return;
	}
	assert_ok(iommufd_ioas_allow_iovas(ctx, ioas, &win, 1));
	for (int i = 0; i < 4; i++) {
		assert_ok(iommufd_ioas_map(ctx, ioas, buffer, 4 * PAGE, &iova, rw));
		assert_true(iova >= win.start && iova + 4 * PAGE - 1 <= win.last);
	}
	/* the allowed list does not narrow IOVA_RANGES */
	assert_ok(iommufd_ioas_iova_ranges(ctx, ioas, &r, &nr, NULL));
	assert_int_equal(nr, 1);
	assert_int_equal(r[0].last, UINT64_MAX);
	free(r);
	/* start >= last, overlapping ranges: EINVAL */
	assert_errno(iommufd_ioas_allow_iovas(ctx, ioas, &bad, 1), EINVAL);
	assert_errno(iommufd_ioas_allow_iovas(ctx, ioas, two, 2), EINVAL);
	/* a reservation inside the allowed list is refused, and vice versa */
	assert_errno(add_reserved(ctx, ioas, 0x18000000, PAGE), EADDRINUSE);
	assert_ok(iommufd_ioas_allow_iovas(ctx, ioas, NULL, 0)); /* clear */
	assert_ok(add_reserved(ctx, ioas, 0x18000000, PAGE));
	assert_errno(iommufd_ioas_allow_iovas(ctx, ioas, &win, 1), EADDRINUSE);
	/* cleared: auto IOVA may go outside the window again */
	assert_ok(iommufd_ioas_unmap_all(ctx, ioas, NULL));
	assert_ok(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova, rw));
	assert_true(iova < win.start);
	assert_errno(iommufd_ioas_allow_iovas(ctx, 999, &win, 1), ENOENT);
	iommufd_ctx_unref(ctx);
}

static void test_map_file(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx);
	const uint32_t rw = IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE;
	int mfd = memfd_create("test-core", MFD_CLOEXEC);
	uint64_t iova = 0, u;

	(void)state;
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 8 * PAGE), 0);
	if (type1(ctx)) {
		/* VFIO_IOMMU_MAP_DMA maps user VAs only: nothing is mapped */
		assert_type1_refuses(iommufd_ioas_map_file(ctx, ioas, mfd, 2 * PAGE, 4 * PAGE, &iova, rw));
		iova = 0x300000;
		assert_type1_refuses(iommufd_ioas_map_file(ctx, ioas, mfd, 0, PAGE, &iova,
							   rw | IOMMUFD_MAP_FIXED_IOVA));
		assert_int_equal(iova, 0x300000);
		assert_ok(iommufd_ioas_unmap_all(ctx, ioas, &u));
		assert_int_equal(u, 0);
		close(mfd);
		iommufd_ctx_unref(ctx);
		return;
	}
	assert_ok(iommufd_ioas_map_file(ctx, ioas, mfd, 2 * PAGE, 4 * PAGE, &iova, rw));
	/* aligned to the file offset's lowest bit (8 KiB), first fit from PAGE up */
	assert_int_not_equal(iova, 0);
	assert_int_equal(iova % (2 * PAGE), 0);
	iova = 0x300000;
	assert_errno(iommufd_ioas_map_file(ctx, ioas, mfd, 0, 0, &iova, rw | IOMMUFD_MAP_FIXED_IOVA),
		     EINVAL);
	assert_ok(iommufd_ioas_map_file(ctx, ioas, mfd, 0, PAGE, &iova, rw | IOMMUFD_MAP_FIXED_IOVA));
	assert_int_equal(iova, 0x300000);
	assert_ok(iommufd_ioas_unmap(ctx, ioas, 0x300000, PAGE, &u));
	assert_int_equal(u, PAGE);
	assert_ok(iommufd_ioas_unmap_all(ctx, ioas, &u));
	assert_int_equal(u, 4 * PAGE);
	/* an fd number that is not open */
	assert_errno(iommufd_ioas_map_file(ctx, ioas, 999, 0, PAGE, &iova, rw), EBADF);
	close(mfd);
	iommufd_ctx_unref(ctx);
}

static void test_copy(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t a = ioas_new(ctx), b;
	const uint32_t fixed = IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE | IOMMUFD_MAP_FIXED_IOVA;
	uint64_t iova = 0x100000, dst, u;

	(void)state;
	assert_ok(iommufd_ioas_map(ctx, a, buffer, 4 * PAGE, &iova, fixed));
	if (type1(ctx)) {
		/* one IOAS and no copy between areas: refused, the source mapping stays */
		assert_type1_refuses(iommufd_ioas_alloc(ctx, &b));
		dst = 0x200000;
		assert_type1_refuses(iommufd_ioas_copy(ctx, a, &dst, a, 0x100000, 4 * PAGE, fixed));
		assert_type1_refuses(iommufd_ioas_copy(ctx, a, &dst, a, 0x100000 + PAGE, 2 * PAGE,
						       IOMMUFD_MAP_READ));
		assert_ok(iommufd_ioas_unmap_all(ctx, a, &u));
		assert_int_equal(u, 4 * PAGE);
		iommufd_ctx_unref(ctx);
		return;
	}
	b = ioas_new(ctx);
	/* into another IOAS at a fixed IOVA */
	dst = 0x200000;
	assert_ok(iommufd_ioas_copy(ctx, b, &dst, a, 0x100000, 4 * PAGE, fixed));
	assert_int_equal(dst, 0x200000);
	/* a sub-range, kernel-chosen IOVA, into the same IOAS */
	assert_ok(iommufd_ioas_copy(ctx, a, &dst, a, 0x100000 + PAGE, 2 * PAGE,
				    IOMMUFD_MAP_READ));
	assert_int_not_equal(dst, 0x100000 + PAGE);
	assert_ok(iommufd_ioas_unmap(ctx, a, dst, 2 * PAGE, &u));
	assert_int_equal(u, 2 * PAGE);
	/* the copy stays when the source goes */
	assert_ok(iommufd_ioas_unmap_all(ctx, a, &u));
	assert_int_equal(u, 4 * PAGE);
	assert_ok(iommufd_ioas_unmap(ctx, b, 0x200000, 4 * PAGE, &u));
	assert_int_equal(u, 4 * PAGE);
	/* unmapped source */
	assert_errno(iommufd_ioas_copy(ctx, b, &dst, a, 0x100000, PAGE, fixed), ENOENT);
	iommufd_ctx_unref(ctx);
}

/* ------------------------------------------------------------ options etc. */

static void test_options(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	enum iommufd_rlimit_mode mode = IOMMUFD_RLIMIT_MM;
	uint32_t ioas;
	bool on = false;

	(void)state;
	if (type1(ctx)) {
		/* IOMMU_OPTION has no type1 equivalent: neither the rlimit mode nor huge pages */
		assert_type1_refuses(iommufd_ctx_get_rlimit_mode(ctx, &mode));
		assert_type1_refuses(iommufd_ctx_set_rlimit_mode(ctx, IOMMUFD_RLIMIT_MM));
		assert_errno(iommufd_ctx_set_rlimit_mode(ctx, (enum iommufd_rlimit_mode)2), EINVAL);
		ioas = ioas_new(ctx);
		assert_type1_refuses(iommufd_ioas_get_huge_pages(ctx, ioas, &on));
		assert_type1_refuses(iommufd_ioas_set_huge_pages(ctx, ioas, false));
		assert_ok(iommufd_destroy(ctx, ioas));
		iommufd_ctx_unref(ctx);
		return;
	}
	assert_ok(iommufd_ctx_get_rlimit_mode(ctx, &mode));
	assert_int_equal(mode, IOMMUFD_RLIMIT_USER);
	/* CAP_SYS_RESOURCE and no object: may change; else EPERM */
	if (!has_cap(24 /* CAP_SYS_RESOURCE */)) {
		assert_errno(iommufd_ctx_set_rlimit_mode(ctx, IOMMUFD_RLIMIT_MM), EPERM);
	} else {
		assert_ok(iommufd_ctx_set_rlimit_mode(ctx, IOMMUFD_RLIMIT_MM));
		assert_ok(iommufd_ctx_get_rlimit_mode(ctx, &mode));
		assert_int_equal(mode, IOMMUFD_RLIMIT_MM);
		ioas = ioas_new(ctx);
		/* not with objects */
		assert_errno(iommufd_ctx_set_rlimit_mode(ctx, IOMMUFD_RLIMIT_USER), EBUSY);
		assert_ok(iommufd_destroy(ctx, ioas));
		assert_ok(iommufd_ctx_set_rlimit_mode(ctx, IOMMUFD_RLIMIT_USER));
		assert_ok(iommufd_ctx_get_rlimit_mode(ctx, &mode));
		assert_int_equal(mode, IOMMUFD_RLIMIT_USER);
	}

	ioas = ioas_new(ctx);
	assert_ok(iommufd_ioas_get_huge_pages(ctx, ioas, &on));
	assert_true(on);
	assert_ok(iommufd_ioas_set_huge_pages(ctx, ioas, false));
	assert_ok(iommufd_ioas_get_huge_pages(ctx, ioas, &on));
	assert_false(on);
	assert_ok(iommufd_ioas_set_huge_pages(ctx, ioas, true));
	assert_ok(iommufd_ioas_get_huge_pages(ctx, ioas, &on));
	assert_true(on);
	assert_errno(iommufd_ioas_get_huge_pages(ctx, 0, &on), ENOENT);
	assert_errno(iommufd_ioas_set_huge_pages(ctx, 0, true), ENOENT);
	iommufd_ctx_unref(ctx);
}

static void test_vfio_ioas(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx), got = 0;

	(void)state;
	if (type1(ctx)) {
		/* the context is the container itself: no compat IOAS to choose */
		assert_type1_refuses(iommufd_vfio_ioas_get(ctx, &got));
		assert_type1_refuses(iommufd_vfio_ioas_set(ctx, ioas));
		assert_type1_refuses(iommufd_vfio_ioas_clear(ctx));
		assert_int_equal(got, 0);
		iommufd_ctx_unref(ctx);
		return;
	}
	assert_errno(iommufd_vfio_ioas_get(ctx, &got), ENODEV);
	assert_errno(iommufd_vfio_ioas_set(ctx, 0), ENOENT);
	assert_ok(iommufd_vfio_ioas_set(ctx, ioas));
	assert_ok(iommufd_vfio_ioas_get(ctx, &got));
	assert_int_equal(got, ioas);
	assert_ok(iommufd_vfio_ioas_clear(ctx));
	assert_errno(iommufd_vfio_ioas_get(ctx, &got), ENODEV);
	assert_ok(iommufd_vfio_ioas_clear(ctx));
	/* destroying the compat IOAS clears it */
	assert_ok(iommufd_vfio_ioas_set(ctx, ioas));
	assert_ok(iommufd_destroy(ctx, ioas));
	assert_errno(iommufd_vfio_ioas_get(ctx, &got), ENODEV);
	iommufd_ctx_unref(ctx);
}

static void test_change_process(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx);
	const uint32_t rw = IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE;
	int mfd = memfd_create("test-core", MFD_CLOEXEC);
	uint64_t iova;

	(void)state;
	if (type1(ctx)) {
		/* type1 pins pages for the container's owner: no change of process */
		assert_type1_refuses(iommufd_ioas_change_process(ctx));
		assert_ok(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova, rw));
		assert_type1_refuses(iommufd_ioas_change_process(ctx));
		assert_ok(iommufd_ioas_unmap_all(ctx, ioas, NULL));
		close(mfd);
		iommufd_ctx_unref(ctx);
		return;
	}
	assert_ok(iommufd_ioas_change_process(ctx)); /* nothing to move */
	mock_domain(ctx, ioas);
	assert_ok(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova, rw));
	/* a user-VA map cannot move */
	assert_errno(iommufd_ioas_change_process(ctx), EINVAL);
	assert_ok(iommufd_ioas_unmap_all(ctx, ioas, NULL));
	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 4 * PAGE), 0);
	assert_ok(iommufd_ioas_map_file(ctx, ioas, mfd, 0, 4 * PAGE, &iova, rw));
	assert_ok(iommufd_ioas_change_process(ctx));
	close(mfd);
	iommufd_ctx_unref(ctx);
}

static void test_destroy_busy(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx), ioas2;
	const uint32_t fixed = IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE | IOMMUFD_MAP_FIXED_IOVA;
	struct mock_dev d;
	uint64_t iova = 0x100000, u;

	(void)state;
	if (type1(ctx)) {
		/* mappings never block destroy; the IOAS comes back empty */
		assert_ok(iommufd_ioas_map(ctx, ioas, buffer, PAGE, &iova, fixed));
		assert_ok(iommufd_destroy(ctx, ioas));
		assert_int_equal(ioas_new(ctx), ioas);
		assert_ok(iommufd_ioas_unmap_all(ctx, ioas, &u));
		assert_int_equal(u, 0);
		/* HWPT 2 exists only while a device is in the container */
		assert_errno(iommufd_destroy(ctx, 2), ENOENT);
		assert_true(contains(iommufd_last_error(), "only while a device"));
		assert_no_mock(ctx, ioas);
		assert_ok(iommufd_destroy(ctx, ioas));
		iommufd_ctx_unref(ctx);
		return;
	}
	ioas2 = ioas_new(ctx);
	/* mappings never block destroy */
	assert_ok(iommufd_ioas_map(ctx, ioas2, buffer, PAGE, &iova, fixed));
	assert_ok(iommufd_destroy(ctx, ioas2));

	d = mock_domain(ctx, ioas);
	assert_errno(iommufd_destroy(ctx, ioas), EBUSY);    /* has a HWPT */
	assert_errno(iommufd_destroy(ctx, d.dev_id), EBUSY); /* devices: always */
	assert_errno(iommufd_destroy(ctx, d.hwpt_id), EBUSY); /* attached */
	assert_ok(iommufd_destroy(ctx, d.stdev_id));         /* removes the device */
	/* the auto HWPT went with its last attachment */
	assert_errno(iommufd_destroy(ctx, d.hwpt_id), ENOENT);
	assert_ok(iommufd_destroy(ctx, ioas));
	iommufd_ctx_unref(ctx);
}

/* ------------------------------------------------------------ probing */

/* type1 mode: the library answers for the mode, nothing is asked of the container */
static void test_probe_type1(struct iommufd_ctx *ctx)
{
	const uint64_t map_all = IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE;
	uint32_t probe[16] = { 0 };
	int n = 0;

	for (unsigned int req = IOMMUFD_REQ_DESTROY; req <= IOMMUFD_REQ_HW_QUEUE_ALLOC; req++) {
		int want = req == IOMMUFD_REQ_DESTROY || req == IOMMUFD_REQ_IOAS_ALLOC ||
			   req == IOMMUFD_REQ_IOAS_IOVA_RANGES || req == IOMMUFD_REQ_IOAS_MAP ||
			   req == IOMMUFD_REQ_IOAS_UNMAP ||
			   req == IOMMUFD_REQ_HWPT_SET_DIRTY_TRACKING ||
			   req == IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP;

		assert_non_null(iommufd_request_name((enum iommufd_request)req));
		assert_int_equal(iommufd_ctx_supports(ctx, (enum iommufd_request)req), want);
		n += want;
	}
	assert_int_equal(n, 7);
	assert_errno(iommufd_ctx_supports(ctx, (enum iommufd_request)0x95), EINVAL);
	/*
	 * The raw ioctl reaches the container: it knows its API version and,
	 * without an IOMMU driver, refuses any other number with EINVAL
	 * (vfio_fops_unl_ioctl(), drivers/vfio/container.c)
	 */
	assert_int_equal(iommufd_ctx_ioctl(ctx, KABI_VFIO_GET_API_VERSION, NULL), KABI_VFIO_API_VERSION);
	assert_errno(iommufd_ctx_ioctl(ctx, KABI_IO(0x7f), probe), EINVAL);
	assert_errno(iommufd_ctx_ioctl(ctx, KABI_IO(0x85), probe), EINVAL);

	/* flags: those of the mapping and dirty commands type1 has */
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP, map_all), 1);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP_FILE, map_all), 0);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_COPY, map_all), 0);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_GET_HW_INFO,
						    IOMMUFD_HW_INFO_INPUT_TYPE), 0);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_SET_DIRTY_TRACKING,
						    IOMMUFD_DIRTY_ENABLE), 1);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_SET_DIRTY_TRACKING,
						    1u << 1), 0);
	/* VFIO_IOMMU_DIRTY_PAGES always clears what it reports */
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP,
						    IOMMUFD_DIRTY_NO_CLEAR), 0);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_OPTION,
						    IOMMUFD_OPTION_RLIMIT_MODE |
						    IOMMUFD_OPTION_HUGE_PAGES), 0);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_DESTROY, 0), 1);
	assert_errno(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_ALLOC,
						IOMMUFD_HWPT_NEST_PARENT), EINVAL);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP, 1u << 3), 0);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP,
						    1u << 5), 0);
	assert_errno(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP, 1ull << 32), EINVAL);
	assert_errno(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_OPTION, 1u << 2), EINVAL);
	assert_errno(iommufd_ctx_supports_flags(ctx, (enum iommufd_request)0x95, 1), EINVAL);
	/* the probes left nothing behind: the IOAS is still to be made */
	assert_int_equal(ioas_new(ctx), 1);
	iommufd_ctx_unref(ctx);
}

static void test_probe(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	const uint64_t map_all = IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE;
	int n = 0;

	(void)state;
	if (type1(ctx)) {
		test_probe_type1(ctx);
		return;
	}
	for (unsigned int req = IOMMUFD_REQ_DESTROY; req <= IOMMUFD_REQ_HW_QUEUE_ALLOC; req++) {
		const char *name = iommufd_request_name((enum iommufd_request)req);

		assert_non_null(name);
		/* Linux 7.2 (and the emulator of it) knows every request */
		if (iommufd_ctx_supports(ctx, (enum iommufd_request)req) == 1)
			n++;
		else
			print_error("request %s not supported\n", name);
		/* cached: same answer */
		assert_int_equal(iommufd_ctx_supports(ctx, (enum iommufd_request)req), 1);
	}
	assert_int_equal(n, 21);
	assert_string_equal(iommufd_request_name(IOMMUFD_REQ_IOAS_MAP), "IOAS_MAP");
	assert_string_equal(iommufd_request_name(IOMMUFD_REQ_HW_QUEUE_ALLOC), "HW_QUEUE_ALLOC");
	assert_null(iommufd_request_name((enum iommufd_request)0x95));
	assert_null(iommufd_request_name((enum iommufd_request)0x7f));
	assert_errno(iommufd_ctx_supports(ctx, (enum iommufd_request)0x95), EINVAL);
	/* what the probe relies on: an unknown number is ENOTTY */
	{
		uint32_t probe[16] = { 0 };
		assert_errno(iommufd_ctx_ioctl(ctx, KABI_IO(0x7f), probe), ENOTTY);
		assert_errno(iommufd_ctx_ioctl(ctx, KABI_IO(0x95), probe), ENOTTY);
		assert_errno(iommufd_ctx_ioctl(ctx, KABI_IO(0x85), probe), EINVAL);
	}

	/* flags */
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP, map_all), 1);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP_FILE, map_all), 1);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_COPY, map_all), 1);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_GET_HW_INFO,
						    IOMMUFD_HW_INFO_INPUT_TYPE), 1);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_SET_DIRTY_TRACKING,
						    IOMMUFD_DIRTY_ENABLE), 1);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_SET_DIRTY_TRACKING,
						    1u << 1), 0);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP,
						    IOMMUFD_DIRTY_NO_CLEAR), 1);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_OPTION,
						    IOMMUFD_OPTION_RLIMIT_MODE |
						    IOMMUFD_OPTION_HUGE_PAGES), 1);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_DESTROY, 0), 1);
	/* not probeable without a device, unknown library flags */
	assert_errno(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_ALLOC,
						IOMMUFD_HWPT_NEST_PARENT), EINVAL);
	/* bits unknown to the library are the kernel's to judge */
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP, 1u << 3), 0);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP,
						    1u << 5), 0);
	assert_errno(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP, 1ull << 32), EINVAL);
	assert_errno(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_OPTION, 1u << 2), EINVAL);
	assert_errno(iommufd_ctx_supports_flags(ctx, (enum iommufd_request)0x95, 1), EINVAL);
	/* the probes left nothing behind: the first object is still ID 1 */
	assert_int_equal(ioas_new(ctx), 1);
	iommufd_ctx_unref(ctx);
}

/* ------------------------------------------------------------ HWPT */

static void test_hwpt_alloc(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx), hwpt = 0, parent = 0, nested = 0, nested2 = 0;
	struct kabi_hwpt_selftest data = { .iotlb = 0x1234 };
	struct mock_dev d;
	struct {
		struct iommufd_hwpt_alloc_opts o;
		uint64_t future;
	} big = { .o = { .sz = sizeof(big) } };

	(void)state;
	if (type1(ctx)) {
		/* the container's domain is its only HWPT: the library's checks, then refused */
		IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_NEST_PARENT);

		assert_type1_refuses(iommufd_hwpt_alloc(ctx, 3, ioas, NULL, &hwpt));
		assert_true(contains(iommufd_last_error(), "HWPT allocation"));
		assert_type1_refuses(iommufd_hwpt_alloc(ctx, 3, ioas, &o, &parent));
		assert_type1_refuses(iommufd_hwpt_alloc(ctx, 3, ioas, &big.o, &hwpt));
		o.sz = 4;
		assert_errno(iommufd_hwpt_alloc(ctx, 3, ioas, &o, &hwpt), EINVAL);
		big.future = 1;
		assert_errno(iommufd_hwpt_alloc(ctx, 3, ioas, &big.o, &hwpt), E2BIG);
		assert_int_equal(hwpt, 0);
		assert_int_equal(parent, 0);
		assert_no_mock(ctx, ioas);
		iommufd_ctx_unref(ctx);
		return;
	}
	d = mock_domain(ctx, ioas);
	/* plain and nest-parent on the IOAS; opts may be NULL */
	assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, NULL, &hwpt));
	assert_int_not_equal(hwpt, 0);
	{
		IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_NEST_PARENT);
		assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &o, &parent));
	}
	/* the device can be moved onto it */
	assert_ok(mock_replace(ctx, d.stdev_id, hwpt));
	assert_errno(iommufd_destroy(ctx, hwpt), EBUSY);
	/* nested with vendor data */
	{
		IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .data_type = IOMMUFD_HWPT_DATA_SELFTEST,
			     .data_len = sizeof(data), .data = &data);
		assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, parent, &o, &nested));
		for (uint32_t i = 0; i < KABI_MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
			assert_ok(check_iotlb(ctx, nested, i, 0x1234));
		assert_errno(check_iotlb(ctx, nested, 0, 0x1235), EINVAL);
		/* nested on a non-parent HWPT, on a nested one: EINVAL */
		assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, hwpt, &o, &nested2), EINVAL);
		assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, nested, &o, &nested2), EINVAL);
		/* an unknown vendor type */
		o.data_type = IOMMUFD_HWPT_DATA_VTD_S1;
		assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, parent, &o, &nested2), EOPNOTSUPP);
	}
	assert_errno(iommufd_destroy(ctx, parent), EBUSY); /* parent of nested */
	/* pt_id missing: EINVAL; dev_id missing: ENOENT */
	assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, 999, NULL, &hwpt), EINVAL);
	assert_errno(iommufd_hwpt_alloc(ctx, 999, ioas, NULL, &hwpt), ENOENT);
	{
		IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o,
			     .flags = IOMMUFD_HWPT_NEST_PARENT | IOMMUFD_HWPT_FAULT_ID_VALID);
		assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &o, &hwpt), EOPNOTSUPP);
	}
	/* the library's opts checks */
	{
		IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = 1u << 7);
		/* a flag the library does not know: the kernel's answer */
		assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &o, &hwpt), EOPNOTSUPP);
		assert_true(contains(iommufd_last_error(), "did not recognise flag bits 0x80"));
		o.flags = 0;
		o.sz = 4; /* smaller than the sz member */
		assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &o, &hwpt), EINVAL);
		o.sz = sizeof(o);
		o.data_len = 8; /* data NULL */
		assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &o, &hwpt), EINVAL);
		o.data_len = 0;
		o.fault_id = 3; /* without FAULT_ID_VALID */
		assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &o, &hwpt), EINVAL);
	}
	/* a bigger (newer) struct: zero tail fine, non-zero tail E2BIG */
	assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &big.o, &hwpt));
	assert_ok(iommufd_destroy(ctx, hwpt));
	big.future = 1;
	assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &big.o, &hwpt), E2BIG);
	/* an old (smaller) struct: the fields past sz read as zero */
	{
		IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_NEST_PARENT,
			     .data_type = IOMMUFD_HWPT_DATA_SELFTEST, .data_len = 8, .data = &data);
		o.sz = offsetof(struct iommufd_hwpt_alloc_opts, fault_id);
		assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &o, &hwpt));
		/* it is a parent: a nested HWPT can be made on it */
		o.sz = sizeof(o);
		o.flags = 0;
		assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, hwpt, &o, &nested2));
	}
	iommufd_ctx_unref(ctx);
}

static void test_hw_info(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx);
	struct mock_dev d, p;
	IOMMUFD_OPTS(struct iommufd_hw_info, info);

	(void)state;
	if (type1(ctx)) {
		/* the container tells nothing of the IOMMU behind it */
		assert_type1_refuses(iommufd_get_hw_info(ctx, 3, IOMMUFD_HW_INFO_NONE, &info));
		assert_true(contains(iommufd_last_error(), "GET_HW_INFO"));
		assert_type1_refuses(iommufd_get_hw_info(ctx, 3, IOMMUFD_HW_INFO_INTEL_VTD, &info));
		info.sz = 2;
		assert_errno(iommufd_get_hw_info(ctx, 3, IOMMUFD_HW_INFO_NONE, &info), EINVAL);
		iommufd_ctx_unref(ctx);
		return;
	}
	d = mock_domain(ctx, ioas);
	p = mock_domain_flags(ctx, ioas, KABI_MOCK_FLAGS_DEVICE_PASID);
	assert_ok(iommufd_get_hw_info(ctx, d.dev_id, IOMMUFD_HW_INFO_NONE, &info));
	assert_int_equal(info.sz, sizeof(info));
	assert_int_equal(info.type, IOMMUFD_HW_INFO_SELFTEST);
	assert_int_equal(info.data_len, sizeof(struct kabi_hw_info_selftest));
	assert_int_equal(info.data.selftest.test_reg, KABI_HW_INFO_SELFTEST_REGVAL);
	assert_int_equal(info.data.selftest.flags, 0);
	assert_int_equal(info.max_pasid_log2, 0);
	assert_true(info.capabilities & IOMMUFD_HW_CAP_DIRTY_TRACKING);
	assert_true(info.capabilities & IOMMUFD_HW_CAP_PCI_ATS_NOT_SUPPORTED);

	/* the selftest type asked for explicitly; a PASID device */
	memset(&info, 0, sizeof(info));
	info.sz = sizeof(info);
	assert_ok(iommufd_get_hw_info(ctx, p.dev_id, IOMMUFD_HW_INFO_SELFTEST, &info));
	assert_int_equal(info.type, IOMMUFD_HW_INFO_SELFTEST);
	assert_int_equal(info.max_pasid_log2, KABI_MOCK_PASID_WIDTH);
	assert_int_equal(info.data.selftest.test_reg, KABI_HW_INFO_SELFTEST_REGVAL);
	/* another vendor's type */
	assert_errno(iommufd_get_hw_info(ctx, d.dev_id, IOMMUFD_HW_INFO_INTEL_VTD, &info),
		     EOPNOTSUPP);
	assert_errno(iommufd_get_hw_info(ctx, 999, IOMMUFD_HW_INFO_NONE, &info), ENOENT);
	/* an old struct (up to capabilities): only its bytes are written */
	{
		struct iommufd_hw_info small;

		memset(&small, 0xee, sizeof(small));
		small.sz = offsetof(struct iommufd_hw_info, max_pasid_log2);
		assert_ok(iommufd_get_hw_info(ctx, d.dev_id, IOMMUFD_HW_INFO_NONE, &small));
		assert_int_equal(small.type, IOMMUFD_HW_INFO_SELFTEST);
		assert_int_not_equal(small.data_len, 0xeeeeeeee);
		assert_int_equal(small.max_pasid_log2, 0xee);
		assert_int_equal(small.data.raw[0], 0xee);
		small.sz = 2;
		assert_errno(iommufd_get_hw_info(ctx, d.dev_id, IOMMUFD_HW_INFO_NONE, &small), EINVAL);
	}
	iommufd_ctx_unref(ctx);
}

/* the runs of the bitmap of pages 1, 2, 3, 10 and 63 */
static void check_runs(const uint64_t *want)
{
	uint64_t pos = 0, start, count;

	assert_int_equal(iommufd_bitmap_next_run(want, 64, &pos, &start, &count), 1);
	assert_int_equal(start, 1);
	assert_int_equal(count, 3);
	assert_int_equal(iommufd_bitmap_next_run(want, 64, &pos, &start, &count), 1);
	assert_int_equal(start, 10);
	assert_int_equal(count, 1);
	assert_int_equal(iommufd_bitmap_next_run(want, 64, &pos, &start, &count), 1);
	assert_int_equal(start, 63);
	assert_int_equal(count, 1);
	assert_int_equal(iommufd_bitmap_next_run(want, 64, &pos, &start, &count), 0);
}

static void test_dirty_tracking(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx), hwpt = 0, plain = 0;
	struct mock_dev d;
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_DIRTY_TRACKING);
	const uint32_t fixed = IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE | IOMMUFD_MAP_FIXED_IOVA;
	const uint64_t npages = 64, base = MOCK_BASE;
	uint64_t want[1] = { 0 }, got[1] = { 0 }, iova = base;
	struct kabi_test_cmd cmd = { .op = KABI_TEST_OP_DIRTY };
	struct mock_dev d2;

	(void)state;
	if (type1(ctx)) {
		/*
		 * The container's HWPT 2 tracks dirty pages once a device is in
		 * it (tests/device): before, there is none; no HWPT is allocated.
		 */
		assert_type1_refuses(iommufd_hwpt_alloc(ctx, 3, ioas, &o, &hwpt));
		assert_ok(iommufd_ioas_map(ctx, ioas, buffer, npages * PAGE, &iova, fixed));
		assert_errno(iommufd_hwpt_set_dirty_tracking(ctx, 2, true), ENOENT);
		assert_true(contains(iommufd_last_error(), "until a device is attached"));
		assert_errno(iommufd_hwpt_set_dirty_tracking(ctx, ioas, true), ENOENT);
		assert_errno(iommufd_hwpt_get_dirty_bitmap(ctx, 2, base, npages * PAGE, PAGE, got, 0),
			     ENOENT);
		assert_errno(iommufd_hwpt_get_dirty_bitmap(ctx, 2, base, npages * PAGE, PAGE, got,
							   1u << 5), EOPNOTSUPP);
		assert_int_equal(got[0], 0);
		assert_no_mock(ctx, ioas);
		/* the bitmap walker is the mode's too */
		want[0] = (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 10) | (1ull << 63);
		check_runs(want);
		iommufd_ctx_unref(ctx);
		return;
	}
	d = mock_domain(ctx, ioas);
	assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &o, &hwpt));
	assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, NULL, &plain));
	d2 = mock_domain(ctx, hwpt); /* a device on the tracking HWPT */
	assert_int_equal(d2.hwpt_id, hwpt);
	/*
	 * One area per page: a mapping of physically contiguous memory may use
	 * larger PTEs, and a dirty PTE sets every bit it covers.
	 */
	for (uint64_t i = 0; i < npages; i++) {
		iova = base + i * PAGE;
		assert_ok(iommufd_ioas_map(ctx, ioas, (char *)buffer + i * PAGE, PAGE, &iova, fixed));
	}

	/* a HWPT without dirty tracking */
	assert_errno(iommufd_hwpt_set_dirty_tracking(ctx, plain, true), EOPNOTSUPP);
	assert_errno(iommufd_hwpt_set_dirty_tracking(ctx, 999, true), ENOENT);
	assert_ok(iommufd_hwpt_set_dirty_tracking(ctx, hwpt, true));
	assert_ok(iommufd_hwpt_set_dirty_tracking(ctx, hwpt, true)); /* already: no-op */

	/* the mock marks pages 1, 2, 3, 10 and 63 dirty */
	want[0] = (1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 10) | (1ull << 63);
	cmd.id = hwpt;
	cmd.dirty.iova = base;
	cmd.dirty.length = npages * PAGE;
	cmd.dirty.page_size = PAGE;
	cmd.dirty.uptr = (uint64_t)(uintptr_t)want;
	assert_ok(test_cmd(ctx, &cmd));
	assert_int_equal(cmd.dirty.out_nr_dirty, 5);

	/* NO_CLEAR: read twice, same bits */
	assert_ok(iommufd_hwpt_get_dirty_bitmap(ctx, hwpt, base, npages * PAGE, PAGE, got,
						IOMMUFD_DIRTY_NO_CLEAR));
	assert_int_equal(got[0], want[0]);
	got[0] = 0;
	assert_ok(iommufd_hwpt_get_dirty_bitmap(ctx, hwpt, base, npages * PAGE, PAGE, got, 0));
	assert_int_equal(got[0], want[0]);
	/* cleared by the read without NO_CLEAR */
	got[0] = 0;
	assert_ok(iommufd_hwpt_get_dirty_bitmap(ctx, hwpt, base, npages * PAGE, PAGE, got, 0));
	assert_int_equal(got[0], 0);
	/* the kernel only sets bits */
	got[0] = 1ull << 5;
	assert_ok(iommufd_hwpt_get_dirty_bitmap(ctx, hwpt, base, npages * PAGE, PAGE, got, 0));
	assert_int_equal(got[0], 1ull << 5);

	/* the runs of the bitmap */
	check_runs(want);

	/* range checks: page size 0, misaligned */
	assert_errno(iommufd_hwpt_get_dirty_bitmap(ctx, hwpt, base, PAGE, 0, got, 0), EINVAL);
	assert_errno(iommufd_hwpt_get_dirty_bitmap(ctx, hwpt, base + 1, PAGE, PAGE, got, 0), EINVAL);
	/* disabled: the mock refuses to mark */
	assert_ok(iommufd_hwpt_set_dirty_tracking(ctx, hwpt, false));
	assert_errno(test_cmd(ctx, &cmd), EINVAL);
	iommufd_ctx_unref(ctx);
}

static void test_bitmap_next_run(void **state)
{
	uint64_t bm[3] = { 0, 0, 0 }, pos = 0, start = 0, count = 0;

	(void)state;
	assert_int_equal(iommufd_bitmap_next_run(bm, 192, &pos, &start, &count), 0);
	/* a run across a word boundary, and one cut by nbits */
	bm[0] = 0xffull << 60;
	bm[1] = 0xf;
	bm[2] = 0xffffffffffffffffull;
	pos = 0;
	assert_int_equal(iommufd_bitmap_next_run(bm, 130, &pos, &start, &count), 1);
	assert_int_equal(start, 60);
	assert_int_equal(count, 8);
	assert_int_equal(pos, 68);
	assert_int_equal(iommufd_bitmap_next_run(bm, 130, &pos, &start, &count), 1);
	assert_int_equal(start, 128);
	assert_int_equal(count, 2);
	assert_int_equal(iommufd_bitmap_next_run(bm, 130, &pos, &start, &count), 0);
	/* starting inside a run */
	pos = 62;
	assert_int_equal(iommufd_bitmap_next_run(bm, 192, &pos, &start, &count), 1);
	assert_int_equal(start, 62);
	assert_int_equal(count, 6);
	assert_int_equal(iommufd_bitmap_next_run(bm, 192, &pos, &start, &count), 1);
	assert_int_equal(start, 128);
	assert_int_equal(count, 64);
	assert_int_equal(pos, 192);
	assert_int_equal(iommufd_bitmap_next_run(bm, 192, &pos, &start, &count), 0);
}

static void test_invalidate(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx), parent = 0, nested = 0, n;
	struct mock_dev d;
	struct kabi_hwpt_selftest data = { .iotlb = 0x1234 };
	struct kabi_hwpt_invalidate_selftest inv[2] = { { .iotlb_id = 1 }, { .iotlb_id = 4 } };
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, po, .flags = IOMMUFD_HWPT_NEST_PARENT);
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, no, .data_type = IOMMUFD_HWPT_DATA_SELFTEST,
		     .data_len = sizeof(data), .data = &data);

	(void)state;
	if (type1(ctx)) {
		/* no nesting: no parent, no nested HWPT, no cache to invalidate */
		assert_type1_refuses(iommufd_hwpt_alloc(ctx, 3, ioas, &po, &parent));
		n = 1;
		assert_type1_refuses(iommufd_hwpt_invalidate(ctx, 2, IOMMUFD_INVALIDATE_SELFTEST, inv,
							     sizeof(inv[0]), &n));
		assert_true(contains(iommufd_last_error(), "HWPT_INVALIDATE"));
		assert_int_equal(n, 0);
		iommufd_ctx_unref(ctx);
		return;
	}
	d = mock_domain(ctx, ioas);
	assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &po, &parent));
	assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, parent, &no, &nested));

	/* zero entries: the probe of a data type */
	n = 0;
	assert_ok(iommufd_hwpt_invalidate(ctx, nested, IOMMUFD_INVALIDATE_SELFTEST, NULL,
					  sizeof(inv[0]), &n));
	assert_int_equal(n, 0);
	n = 0;
	assert_errno(iommufd_hwpt_invalidate(ctx, nested, IOMMUFD_INVALIDATE_VTD_S1, NULL,
					     sizeof(inv[0]), &n), EINVAL);
	/* one entry: iotlb 1 only */
	n = 1;
	assert_ok(iommufd_hwpt_invalidate(ctx, nested, IOMMUFD_INVALIDATE_SELFTEST, inv,
					  sizeof(inv[0]), &n));
	assert_int_equal(n, 1);
	assert_ok(check_iotlb(ctx, nested, 0, 0x1234));
	assert_ok(check_iotlb(ctx, nested, 1, 0));
	assert_ok(check_iotlb(ctx, nested, 2, 0x1234));
	/* a batch whose second entry is bad: the first is done and counted */
	inv[0].iotlb_id = 2;
	n = 2;
	assert_errno(iommufd_hwpt_invalidate(ctx, nested, IOMMUFD_INVALIDATE_SELFTEST, inv,
					     sizeof(inv[0]), &n), EINVAL);
	assert_int_equal(n, 1);
	assert_ok(check_iotlb(ctx, nested, 2, 0));
	assert_ok(check_iotlb(ctx, nested, 3, 0x1234));
	/* all */
	inv[0].flags = KABI_TEST_INVALIDATE_FLAG_ALL;
	n = 1;
	assert_ok(iommufd_hwpt_invalidate(ctx, nested, IOMMUFD_INVALIDATE_SELFTEST, inv,
					  sizeof(inv[0]), &n));
	for (uint32_t i = 0; i < 4; i++)
		assert_ok(check_iotlb(ctx, nested, i, 0));
	/* not on a paging HWPT; unknown ID */
	n = 0;
	assert_errno(iommufd_hwpt_invalidate(ctx, parent, IOMMUFD_INVALIDATE_SELFTEST, NULL,
					     sizeof(inv[0]), &n), EINVAL);
	n = 0;
	assert_errno(iommufd_hwpt_invalidate(ctx, 999, IOMMUFD_INVALIDATE_SELFTEST, NULL,
					     sizeof(inv[0]), &n), ENOENT);
	iommufd_ctx_unref(ctx);
}

/* ------------------------------------------------------------ fault queue */

static void test_fault_queue(void **state)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	uint32_t ioas = ioas_new(ctx), parent = 0, iopf = 0, fid;
	struct mock_dev d;
	struct kabi_hwpt_selftest data = { .iotlb = 0x1234 };
	struct iommufd_fault_queue *q = NULL;
	struct iommufd_fault f[4];
	struct kabi_test_cmd cmd = { .op = KABI_TEST_OP_TRIGGER_IOPF };
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, po, .flags = IOMMUFD_HWPT_NEST_PARENT);

	(void)state;
	if (type1(ctx)) {
		/* type1 has no I/O page faults to deliver: no queue, no HWPT taking one */
		IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_FAULT_ID_VALID,
			     .fault_id = 3);

		assert_type1_refuses(iommufd_fault_queue_new(ctx, &q));
		assert_true(contains(iommufd_last_error(), "fault queue"));
		assert_null(q);
		assert_type1_refuses(iommufd_hwpt_alloc(ctx, 3, ioas, &o, &iopf));
		iommufd_ctx_unref(ctx);
		return;
	}
	d = mock_domain(ctx, ioas);
	assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, ioas, &po, &parent));
	assert_ok(iommufd_fault_queue_new(ctx, &q));
	fid = iommufd_fault_queue_get_id(q);
	assert_int_not_equal(fid, 0);
	assert_true(iommufd_fault_queue_get_fd(q) >= 0);
	assert_errno(iommufd_destroy(ctx, fid), EBUSY); /* its fd is open */
	{
		IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_FAULT_ID_VALID,
			     .fault_id = 999, .data_type = IOMMUFD_HWPT_DATA_SELFTEST,
			     .data_len = sizeof(data), .data = &data);
		assert_errno(iommufd_hwpt_alloc(ctx, d.dev_id, parent, &o, &iopf), ENOENT);
		o.fault_id = fid;
		assert_ok(iommufd_hwpt_alloc(ctx, d.dev_id, parent, &o, &iopf));
	}
	assert_ok(mock_replace(ctx, d.stdev_id, iopf));

	/* empty: 0, never blocks */
	assert_int_equal(iommufd_fault_queue_read(q, f, 4), 0);
	cmd.trigger_iopf.dev_id = d.dev_id;
	cmd.trigger_iopf.pasid = 0;
	cmd.trigger_iopf.grpid = 0x2;
	cmd.trigger_iopf.perm = IOMMUFD_FAULT_PERM_READ | IOMMUFD_FAULT_PERM_WRITE;
	cmd.trigger_iopf.addr = 0xdeadbeaf;
	assert_ok(test_cmd(ctx, &cmd));
	assert_int_equal(iommufd_fault_queue_read(q, f, 4), 1);
	assert_int_equal(f[0].dev_id, d.dev_id);
	assert_int_equal(f[0].grpid, 0x2);
	assert_int_equal(f[0].perm, IOMMUFD_FAULT_PERM_READ | IOMMUFD_FAULT_PERM_WRITE);
	assert_int_equal(f[0].addr, 0xdeadbeaf);
	assert_true(f[0].flags & IOMMUFD_FAULT_LAST_PAGE);
	assert_false(f[0].flags & IOMMUFD_FAULT_PASID_VALID);
	assert_int_equal(f[0].length, 0);
	assert_int_equal(iommufd_fault_queue_read(q, f + 1, 3), 0);
	assert_ok(iommufd_fault_queue_respond(q, f[0].cookie, IOMMUFD_FAULT_RESPONSE_SUCCESS));
	/* the cookie is gone once answered */
	assert_errno(iommufd_fault_queue_respond(q, f[0].cookie, IOMMUFD_FAULT_RESPONSE_SUCCESS),
		     EINVAL);

	/* two faults, answered INVALID */
	cmd.trigger_iopf.grpid = 0x3;
	assert_ok(test_cmd(ctx, &cmd));
	cmd.trigger_iopf.grpid = 0x4;
	assert_ok(test_cmd(ctx, &cmd));
	assert_int_equal(iommufd_fault_queue_read(q, f, 4), 2);
	assert_int_equal(f[0].grpid, 0x3);
	assert_int_equal(f[1].grpid, 0x4);
	assert_int_not_equal(f[0].cookie, f[1].cookie);
	assert_ok(iommufd_fault_queue_respond(q, f[0].cookie, IOMMUFD_FAULT_RESPONSE_INVALID));
	assert_ok(iommufd_fault_queue_respond(q, f[1].cookie, IOMMUFD_FAULT_RESPONSE_INVALID));

	/* the HWPT holds the fault: the unref leaves it to the context */
	assert_ok(mock_replace(ctx, d.stdev_id, parent));
	assert_ok(iommufd_destroy(ctx, iopf));
	q = iommufd_fault_queue_unref(q);
	/* closed then destroyed: gone */
	assert_errno(iommufd_destroy(ctx, fid), ENOENT);
	iommufd_ctx_unref(ctx);
}

/* ------------------------------------------------------------ vIOMMU & co */

struct viommu_env {
	struct iommufd_ctx *ctx;
	uint32_t ioas, parent, viommu;
	struct mock_dev d;
};

static void viommu_env(struct viommu_env *e)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, po, .flags = IOMMUFD_HWPT_NEST_PARENT);

	e->ctx = test_ctx_new();
	e->ioas = ioas_new(e->ctx);
	e->d = mock_domain(e->ctx, e->ioas);
	assert_ok(iommufd_hwpt_alloc(e->ctx, e->d.dev_id, e->ioas, &po, &e->parent));
	assert_ok(iommufd_viommu_alloc(e->ctx, e->d.dev_id, e->parent, IOMMUFD_VIOMMU_SELFTEST,
				       NULL, &e->viommu));
}

/*
 * type1 mode: no vIOMMU, so none of what hangs off one (vDEVICE, vEVENT and
 * HW queues); the library's argument checks still come first
 */
static bool viommu_type1(void)
{
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_veventq *q = NULL;
	uint32_t ioas, id = 0;

	if (!type1(ctx)) {
		iommufd_ctx_unref(ctx);
		return false;
	}
	ioas = ioas_new(ctx);
	assert_type1_refuses(iommufd_viommu_alloc(ctx, 3, 2, IOMMUFD_VIOMMU_SELFTEST, NULL, &id));
	assert_true(contains(iommufd_last_error(), "vIOMMU"));
	assert_errno(iommufd_viommu_alloc(ctx, 3, 2, IOMMUFD_VIOMMU_SELFTEST, NULL, NULL), EINVAL);
	assert_type1_refuses(iommufd_vdevice_alloc(ctx, 4, 3, 0x99, &id));
	assert_true(contains(iommufd_last_error(), "vDEVICE"));
	assert_type1_refuses(iommufd_veventq_new(ctx, 4, IOMMUFD_VEVENTQ_SELFTEST, 2, NULL, &q));
	assert_null(q);
	assert_type1_refuses(iommufd_hw_queue_alloc(ctx, 4, IOMMUFD_HW_QUEUE_SELFTEST, 0, PAGE, PAGE,
						    NULL, &id));
	assert_int_equal(id, 0);
	assert_ok(iommufd_destroy(ctx, ioas));
	iommufd_ctx_unref(ctx);
	return true;
}

static void test_viommu(void **state)
{
	struct viommu_env e;
	struct kabi_viommu_selftest data = { .in_data = 0xbeefcafe };
	IOMMUFD_OPTS(struct iommufd_viommu_alloc_opts, vo, .data_len = sizeof(data), .data = &data);
	uint32_t v2 = 0, plain = 0;
	void *map = NULL;

	(void)state;
	if (viommu_type1())
		return;
	viommu_env(&e);
	assert_int_not_equal(e.viommu, 0);
	/* with data: the mock loops in_data back and offers an mmap region */
	assert_ok(iommufd_viommu_alloc(e.ctx, e.d.dev_id, e.parent, IOMMUFD_VIOMMU_SELFTEST, &vo,
				       &v2));
	assert_int_equal(data.out_data, 0xbeefcafe);
	assert_int_not_equal(data.out_mmap_length, 0);
	assert_errno(iommufd_ctx_mmap(e.ctx, data.out_mmap_offset + PAGE, data.out_mmap_length,
				      &map), ENXIO);
	assert_ok(iommufd_ctx_mmap(e.ctx, data.out_mmap_offset, data.out_mmap_length, &map));
	assert_int_equal(*(volatile uint32_t *)map, 0xbeefcafe);
	assert_errno(iommufd_destroy(e.ctx, v2), EBUSY); /* mapped */
	assert_ok(iommufd_ctx_munmap(e.ctx, map, data.out_mmap_length));
	assert_ok(iommufd_destroy(e.ctx, v2));

	/* rules */
	assert_errno(iommufd_viommu_alloc(e.ctx, e.d.dev_id, 0, IOMMUFD_VIOMMU_SELFTEST, NULL,
					  &v2), ENOENT);
	assert_ok(iommufd_hwpt_alloc(e.ctx, e.d.dev_id, e.ioas, NULL, &plain));
	assert_errno(iommufd_viommu_alloc(e.ctx, e.d.dev_id, plain, IOMMUFD_VIOMMU_SELFTEST, NULL,
					  &v2), EINVAL);
	{
		/* a flag no kernel knows yet: passed through, the kernel's EOPNOTSUPP */
		IOMMUFD_OPTS(struct iommufd_viommu_alloc_opts, fo, .flags = 1u << 4);

		assert_errno(iommufd_viommu_alloc(e.ctx, e.d.dev_id, e.parent,
						  IOMMUFD_VIOMMU_SELFTEST, &fo, &v2), EOPNOTSUPP);
		assert_true(contains(iommufd_last_error(), "did not recognise flag bits 0x10"));
	}
	assert_errno(iommufd_viommu_alloc(e.ctx, e.d.dev_id, e.parent, 0xdead, NULL, &v2),
		     EOPNOTSUPP);
	assert_errno(iommufd_viommu_alloc(e.ctx, 999, e.parent, IOMMUFD_VIOMMU_SELFTEST, NULL,
					  &v2), ENOENT);
	assert_errno(iommufd_destroy(e.ctx, e.parent), EBUSY);
	iommufd_ctx_unref(e.ctx);
}

static void trigger_vevent(struct iommufd_ctx *ctx, uint32_t dev_id)
{
	struct kabi_test_cmd cmd = { .op = KABI_TEST_OP_TRIGGER_VEVENT };

	cmd.trigger_vevent.dev_id = dev_id;
	assert_ok(test_cmd(ctx, &cmd));
}

static void test_vdevice_veventq(void **state)
{
	struct viommu_env e;
	struct kabi_hwpt_selftest data = { .iotlb = 0x1234 };
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, no, .data_type = IOMMUFD_HWPT_DATA_SELFTEST,
		     .data_len = sizeof(data), .data = &data);
	struct iommufd_veventq *q = NULL, *q2 = NULL;
	struct iommufd_vevent ev;
	uint32_t vdev = 0, vdev2, nested = 0, qid;
	uint32_t virt;

	(void)state;
	if (viommu_type1())
		return;
	viommu_env(&e);
	assert_ok(iommufd_hwpt_alloc(e.ctx, e.d.dev_id, e.viommu, &no, &nested));
	/* attaching to a vIOMMU-nested HWPT needs a vDEVICE */
	assert_errno(mock_replace(e.ctx, e.d.stdev_id, nested), ENOENT);
	assert_ok(iommufd_vdevice_alloc(e.ctx, e.viommu, e.d.dev_id, 0x99, &vdev));
	assert_int_not_equal(vdev, 0);
	assert_errno(iommufd_vdevice_alloc(e.ctx, e.viommu, e.d.dev_id, 0x98, &vdev2), EEXIST);
	assert_errno(iommufd_vdevice_alloc(e.ctx, 999, e.d.dev_id, 0x98, &vdev2), ENOENT);
	assert_ok(mock_replace(e.ctx, e.d.stdev_id, nested));

	/* queue rules */
	assert_errno(iommufd_veventq_new(e.ctx, e.viommu, IOMMUFD_VEVENTQ_SELFTEST, 0, NULL, &q), EINVAL);
	assert_errno(iommufd_veventq_new(e.ctx, e.viommu, IOMMUFD_VEVENTQ_SELFTEST, (1u << 19) + 1,
					 NULL,
					 &q), EINVAL);
	{
		IOMMUFD_OPTS(struct iommufd_veventq_opts, fo, .flags = 1u << 1);

		assert_errno(iommufd_veventq_new(e.ctx, e.viommu, IOMMUFD_VEVENTQ_SELFTEST, 2, &fo,
						 &q), EOPNOTSUPP);
		assert_true(contains(iommufd_last_error(), "did not recognise flag bits 0x2"));
		fo.flags = 0;
		assert_ok(iommufd_veventq_new(e.ctx, e.viommu, IOMMUFD_VEVENTQ_SELFTEST, 2, &fo, &q));
		iommufd_veventq_unref(q);
		q = NULL;
	}
	assert_ok(iommufd_veventq_new(e.ctx, e.viommu, IOMMUFD_VEVENTQ_SELFTEST, 2, NULL, &q));
	assert_errno(iommufd_veventq_new(e.ctx, e.viommu, IOMMUFD_VEVENTQ_SELFTEST, 2, NULL, &q2),
		     EEXIST);
	qid = iommufd_veventq_get_id(q);
	assert_int_not_equal(qid, 0);
	assert_true(iommufd_veventq_get_fd(q) >= 0);
	assert_errno(iommufd_destroy(e.ctx, e.viommu), EBUSY);

	/* one event */
	assert_int_equal(iommufd_veventq_read(q, &ev), 0);
	trigger_vevent(e.ctx, e.d.dev_id);
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.sequence, 0);
	assert_int_equal(ev.lost, 0);
	assert_int_equal(ev.data_len, sizeof(uint32_t));
	memcpy(&virt, ev.data, sizeof(virt));
	assert_int_equal(virt, 0x99);
	assert_int_equal(iommufd_veventq_read(q, &ev), 0);

	/* depth 2, three events: the third is lost (a trailing LOST_EVENTS) */
	for (int i = 0; i < 3; i++)
		trigger_vevent(e.ctx, e.d.dev_id);
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.sequence, 1);
	assert_int_equal(ev.lost, 0);
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.sequence, 2);
	assert_int_equal(ev.lost, 0);
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.data_len, 0);
	assert_int_equal(ev.lost, 1);
	assert_int_equal(ev.sequence, 3);
	assert_int_equal(iommufd_veventq_read(q, &ev), 0);
	/* delivery resumes; four more with depth 2: two lost, shown before the next one */
	for (int i = 0; i < 4; i++)
		trigger_vevent(e.ctx, e.d.dev_id);
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.sequence, 4);
	assert_int_equal(ev.lost, 0);
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.sequence, 5);
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.data_len, 0);
	assert_int_equal(ev.lost, 2);
	trigger_vevent(e.ctx, e.d.dev_id);
	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.sequence, 8);
	assert_int_equal(ev.lost, 0);
	assert_int_equal(ev.data_len, sizeof(uint32_t));

	/* unref closes the fd and destroys the queue */
	q = iommufd_veventq_unref(q);
	assert_errno(iommufd_destroy(e.ctx, qid), ENOENT);
	/* a new queue of the type can be made again */
	assert_ok(iommufd_veventq_new(e.ctx, e.viommu, IOMMUFD_VEVENTQ_SELFTEST, 8, NULL, &q));
	iommufd_veventq_unref(q);
	iommufd_ctx_unref(e.ctx);
}

static void test_hw_queue(void **state)
{
	struct viommu_env e;
	const uint32_t fixed = IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE | IOMMUFD_MAP_FIXED_IOVA;
	uint64_t iova = MOCK_BASE, u;
	uint32_t q0 = 0, q1 = 0, qx;

	(void)state;
	if (viommu_type1())
		return;
	viommu_env(&e);
	assert_ok(iommufd_ioas_map(e.ctx, e.ioas, buffer, 2 * PAGE, &iova, fixed));
	iova = MOCK_BASE + 0x100000;
	assert_ok(iommufd_ioas_map(e.ctx, e.ioas, (char *)buffer + 2 * PAGE, PAGE, &iova, fixed));

	assert_errno(iommufd_hw_queue_alloc(e.ctx, e.viommu, 0, 0, MOCK_BASE, PAGE, NULL, &qx),
		     EOPNOTSUPP);
	{
		IOMMUFD_OPTS(struct iommufd_hw_queue_alloc_opts, fo, .flags = 1u << 0);

		assert_errno(iommufd_hw_queue_alloc(e.ctx, e.viommu, IOMMUFD_HW_QUEUE_SELFTEST, 0,
						    MOCK_BASE, PAGE, &fo, &qx), EOPNOTSUPP);
		assert_true(contains(iommufd_last_error(), "did not recognise flag bits 0x1"));
	}
	assert_errno(iommufd_hw_queue_alloc(e.ctx, e.viommu, IOMMUFD_HW_QUEUE_SELFTEST, 0,
					    MOCK_BASE, 0, NULL, &qx), EINVAL);
	assert_errno(iommufd_hw_queue_alloc(e.ctx, e.viommu, IOMMUFD_HW_QUEUE_SELFTEST, 0,
					    UINT64_MAX, PAGE, NULL, &qx), EOVERFLOW);
	assert_errno(iommufd_hw_queue_alloc(e.ctx, e.viommu, IOMMUFD_HW_QUEUE_SELFTEST, 0,
					    MOCK_BASE + 0x200000, PAGE, NULL, &qx), ENOENT);
	assert_errno(iommufd_hw_queue_alloc(e.ctx, e.viommu, IOMMUFD_HW_QUEUE_SELFTEST, 1,
					    MOCK_BASE, PAGE, NULL, &qx), EIO);
	assert_ok(iommufd_hw_queue_alloc(e.ctx, e.viommu, IOMMUFD_HW_QUEUE_SELFTEST, 0, MOCK_BASE,
					 PAGE, NULL, &q0));
	assert_errno(iommufd_hw_queue_alloc(e.ctx, e.viommu, IOMMUFD_HW_QUEUE_SELFTEST, 0,
					    MOCK_BASE, PAGE, NULL, &qx), EEXIST);
	assert_ok(iommufd_hw_queue_alloc(e.ctx, e.viommu, IOMMUFD_HW_QUEUE_SELFTEST, 1,
					 MOCK_BASE + PAGE, PAGE, NULL, &q1));
	/* the queue pins its area; the other area unmaps */
	assert_errno(iommufd_ioas_unmap(e.ctx, e.ioas, MOCK_BASE, 2 * PAGE, &u), EBUSY);
	assert_ok(iommufd_ioas_unmap(e.ctx, e.ioas, MOCK_BASE + 0x100000, PAGE, &u));
	assert_int_equal(u, PAGE);
	assert_errno(iommufd_destroy(e.ctx, q0), EBUSY); /* q1 depends on it */
	assert_errno(iommufd_destroy(e.ctx, e.viommu), EBUSY);
	assert_ok(iommufd_destroy(e.ctx, q1));
	assert_ok(iommufd_destroy(e.ctx, q0));
	assert_ok(iommufd_ioas_unmap(e.ctx, e.ioas, MOCK_BASE, 2 * PAGE, &u));
	assert_int_equal(u, 2 * PAGE);
	iommufd_ctx_unref(e.ctx);
}

/* ------------------------------------------------------------ getters, cleanup, version */

/* the getter policy of the header: NULL gives the neutral value of the type */
static void test_getters_null(void **state)
{
	uint32_t *pasids = NULL;
	size_t nr = 0;

	(void)state;
	assert_errno(iommufd_ctx_get_fd(NULL), EINVAL);
	assert_errno(iommufd_ctx_get_log_priority(NULL), EINVAL);
	assert_true(contains(iommufd_last_error(), "iommufd_ctx_get_log_priority"));
	assert_errno(iommufd_fault_queue_get_fd(NULL), EINVAL);
	assert_int_equal(iommufd_fault_queue_get_id(NULL), 0);
	assert_errno(iommufd_veventq_get_fd(NULL), EINVAL);
	assert_int_equal(iommufd_veventq_get_id(NULL), 0);
	assert_errno(iommufd_device_get_fd(NULL), EINVAL);
	assert_int_equal(iommufd_device_get_state(NULL), IOMMUFD_DEVICE_PARKED);
	assert_int_equal(iommufd_device_get_dev_id(NULL), 0);
	assert_int_equal(iommufd_device_get_pt_id(NULL), 0);
	assert_int_equal(iommufd_device_get_pasid_pt_id(NULL, 1), 0);
	assert_errno(iommufd_device_get_pasids(NULL, &pasids, &nr), EINVAL);
	assert_null(iommufd_device_get_ctx(NULL));
	assert_false(iommufd_device_is_group_path(NULL));
	assert_errno(iommufd_group_get_fd(NULL), EINVAL);
}

/* *_unrefp() for __attribute__((cleanup)): unref and NULL the pointer; NULL is fine */
static void test_unrefp(void **state)
{
	struct iommufd_ctx *held;
	struct iommufd_fault_queue *fq_held = NULL;

	(void)state;
	{
		__attribute__((cleanup(iommufd_ctx_unrefp))) struct iommufd_ctx *ctx = test_ctx_new();
		__attribute__((cleanup(iommufd_fault_queue_unrefp))) struct iommufd_fault_queue *fq = NULL;

		held = iommufd_ctx_ref(ctx);
		if (type1(ctx))
			/* no fault queue in type1 mode: the context alone */
			assert_type1_refuses(iommufd_fault_queue_new(ctx, &fq));
		else
			assert_ok(iommufd_fault_queue_new(ctx, &fq));
		fq_held = iommufd_fault_queue_ref(fq);
	}
	/* the scope's references are gone, ours remain */
	if (type1(held))
		assert_null(fq_held);
	else
		assert_int_not_equal(iommufd_fault_queue_get_id(fq_held), 0);
	assert_true(iommufd_ctx_get_fd(held) >= 0);
	iommufd_fault_queue_unrefp(&fq_held);
	assert_null(fq_held);
	iommufd_ctx_unrefp(&held);
	assert_null(held);
	/* NULL pointers and pointers to NULL */
	iommufd_ctx_unrefp(NULL);
	iommufd_ctx_unrefp(&held);
	iommufd_device_unrefp(NULL);
	iommufd_group_unrefp(NULL);
	iommufd_fault_queue_unrefp(NULL);
	iommufd_veventq_unrefp(NULL);
	{
		struct iommufd_device *d = NULL;
		struct iommufd_group *g = NULL;
		struct iommufd_veventq *q = NULL;

		iommufd_device_unrefp(&d);
		iommufd_group_unrefp(&g);
		iommufd_veventq_unrefp(&q);
	}
}

static void test_version(void **state)
{
	(void)state;
	assert_int_equal(iommufd_version_major(), IOMMUFD_VERSION_MAJOR);
	assert_int_equal(iommufd_version_minor(), IOMMUFD_VERSION_MINOR);
	assert_true(iommufd_check_version(IOMMUFD_VERSION_MAJOR, IOMMUFD_VERSION_MINOR));
	assert_false(iommufd_check_version(IOMMUFD_VERSION_MAJOR, IOMMUFD_VERSION_MINOR + 1));
	assert_false(iommufd_check_version(IOMMUFD_VERSION_MAJOR + 1, 0));
}


#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ctx_lifecycle),
		T(test_ctx_from_fd_owns),
		T(test_ctx_default_backend),
		T(test_ctx_opts),
		T(test_last_error),
		T(test_last_error_stale_ctx),
		T(test_errno_names),
		T(test_logging),
		T(test_fork_echild),
		T(test_arg_checks),
		T(test_ioas_alloc_destroy),
		T(test_iova_ranges),
		T(test_map_unmap),
		T(test_map_auto_iova),
		T(test_allow_iovas),
		T(test_map_file),
		T(test_copy),
		T(test_options),
		T(test_vfio_ioas),
		T(test_change_process),
		T(test_destroy_busy),
		T(test_probe),
		T(test_hwpt_alloc),
		T(test_hw_info),
		T(test_getters_null),
		T(test_unrefp),
		T(test_version),
		T(test_dirty_tracking),
		T(test_bitmap_next_run),
		T(test_invalidate),
		T(test_fault_queue),
		T(test_viommu),
		T(test_vdevice_veventq),
		T(test_hw_queue),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
