// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Every exported function of libiommufd and libiommufd-emu called with
 * hostile arguments: NULL pointers, handles and object IDs that do not
 * exist, sizes and flags out of range. Each must return its documented error
 * (man/), never crash; the ASan+UBSan build runs it too. The list of exports
 * comes from the version scripts at build time (exports.h, made by
 * gen-exports.py): an export without a case below fails the test, and so
 * does a case whose function is no longer exported.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common.h"
#include "iommufd.h"

#define EDU_BDF "0000:00:02.0"
#define NO_ID 0xdead0u  /* an object ID nothing has */
/* call returns -err; a mismatch is reported and counted, the cases go on */
#define E(call, err) expect((long long)(call), -(long long)(err), #call, __LINE__)

static int mismatches;

static void expect(long long got, long long want, const char *call, int line)
{
	if (got == want)
		return;
	print_error("line %d: %s returned %lld, documented: %lld\n", line, call, got, want);
	mismatches++;
}

struct env {
	struct iommufd_emu *emu;
	struct iommufd_ctx *scope, *ctx;
	struct iommufd_device *dev; /* edu, parked */
	uint32_t ioas;
};

static struct env g;

/* -------------------------------------------------------------- version */

static void h_iommufd_version_major(void)
{
	assert_true(iommufd_version_major() >= 1);
}

static void h_iommufd_version_minor(void)
{
	assert_true(iommufd_version_minor() >= 0);
}

static void h_iommufd_check_version(void)
{
	assert_false(iommufd_check_version(iommufd_version_major() + 1, 0));
	assert_false(iommufd_check_version(-1, -1) && iommufd_check_version(INT32_MAX, INT32_MAX));
	assert_true(iommufd_check_version(iommufd_version_major(), 0));
}

/* -------------------------------------------------------------- context */

static void h_iommufd_ctx_new(void)
{
	E(iommufd_ctx_new(NULL), EINVAL);
}

static void h_iommufd_ctx_new_from_fd(void)
{
	struct iommufd_ctx *c = NULL;

	E(iommufd_ctx_new_from_fd(-1, &c), EBADF);
	E(iommufd_ctx_new_from_fd(0, NULL), EINVAL);
	E(iommufd_ctx_new_from_fd(INT32_MAX, &c), EBADF);
	assert_null(c);
}

static void h_iommufd_ctx_new_opts(void)
{
	struct iommufd_ctx_opts o = { .sz = 1 };
	struct { struct iommufd_ctx_opts o; uint64_t tail; } big = { .o.sz = sizeof(big), .tail = 1 };
	struct iommufd_ctx *c = NULL;

	E(iommufd_ctx_new_opts(NULL, NULL), EINVAL);
	E(iommufd_ctx_new_opts(&o, &c), EINVAL);
	E(iommufd_ctx_new_opts(&big.o, &c), E2BIG);
	o = (struct iommufd_ctx_opts){ .sz = sizeof(o), .flags = ~0u };
	E(iommufd_ctx_new_opts(&o, &c), EINVAL);
	o = (struct iommufd_ctx_opts){ .sz = sizeof(o), .flags = IOMMUFD_CTX_FROM_FD, .fd = -1 };
	E(iommufd_ctx_new_opts(&o, &c), EBADF);
	assert_null(c);
}

static void h_iommufd_ctx_ref(void)
{
	assert_null(iommufd_ctx_ref(NULL));
}

static void h_iommufd_ctx_unref(void)
{
	assert_null(iommufd_ctx_unref(NULL));
}

static void h_iommufd_ctx_unrefp(void)
{
	struct iommufd_ctx *c = NULL;

	iommufd_ctx_unrefp(NULL);
	iommufd_ctx_unrefp(&c);
	assert_null(c);
}

static void h_iommufd_ctx_get_fd(void)
{
	E(iommufd_ctx_get_fd(NULL), EINVAL);
}

static void h_iommufd_ctx_last_error(void)
{
	assert_non_null(iommufd_ctx_last_error(NULL));
}

static void h_iommufd_last_error(void)
{
	E(iommufd_ctx_get_fd(NULL), EINVAL);
	assert_true(strlen(iommufd_last_error()) > 0);
}

static void h_iommufd_ctx_set_log_fn(void)
{
	iommufd_ctx_set_log_fn(NULL, NULL, NULL);
	iommufd_ctx_set_log_fn(g.ctx, NULL, NULL); /* back to the default */
}

static void h_iommufd_ctx_get_log_priority(void)
{
	E(iommufd_ctx_get_log_priority(NULL), EINVAL);
}

static void h_iommufd_ctx_set_log_priority(void)
{
	int p = iommufd_ctx_get_log_priority(g.ctx);

	iommufd_ctx_set_log_priority(NULL, 3);
	iommufd_ctx_set_log_priority(g.ctx, -5);
	iommufd_ctx_set_log_priority(g.ctx, INT32_MAX);
	iommufd_ctx_set_log_priority(g.ctx, p);
	assert_int_equal(iommufd_ctx_get_log_priority(g.ctx), p);
}

static void h_iommufd_request_name(void)
{
	assert_null(iommufd_request_name((enum iommufd_request)-1));
	assert_null(iommufd_request_name((enum iommufd_request)100000));
}

static void h_iommufd_ctx_supports(void)
{
	E(iommufd_ctx_supports(NULL, IOMMUFD_REQ_IOAS_ALLOC), EINVAL);
	E(iommufd_ctx_supports(g.ctx, (enum iommufd_request)100000), EINVAL);
	E(iommufd_ctx_supports(g.ctx, (enum iommufd_request)-1), EINVAL);
}

static void h_iommufd_ctx_supports_flags(void)
{
	E(iommufd_ctx_supports_flags(NULL, IOMMUFD_REQ_IOAS_ALLOC, 0), EINVAL);
	E(iommufd_ctx_supports_flags(g.ctx, (enum iommufd_request)100000, 0), EINVAL);
}

static void h_iommufd_ctx_ioctl(void)
{
	E(iommufd_ctx_ioctl(NULL, 0, NULL), EINVAL);
	E(iommufd_ctx_ioctl(g.ctx, 0, NULL), ENOTTY);
}

static void h_iommufd_destroy(void)
{
	E(iommufd_destroy(NULL, 1), EINVAL);
	E(iommufd_destroy(g.ctx, NO_ID), ENOENT);
	E(iommufd_destroy(g.ctx, 0), ENOENT);
}

static void h_iommufd_ctx_get_mode(void)
{
	assert_int_equal(iommufd_ctx_get_mode(NULL), 0);
	assert_int_equal(iommufd_ctx_get_mode(g.ctx), IOMMUFD_MODE_IOMMUFD);
}

static void h_iommufd_ctx_get_mode_info(void)
{
	struct { struct iommufd_mode_info i; uint64_t tail; } big = { .i.sz = sizeof(big), .tail = 1 };
	struct iommufd_mode_info info = { .sz = 1 };

	E(iommufd_ctx_get_mode_info(NULL, &info), EINVAL);
	E(iommufd_ctx_get_mode_info(g.ctx, NULL), EINVAL);
	E(iommufd_ctx_get_mode_info(g.ctx, &info), EINVAL);
	E(iommufd_ctx_get_mode_info(g.ctx, &big.i), E2BIG);
}

static void h_iommufd_mode_name(void)
{
	assert_null(iommufd_mode_name((enum iommufd_mode)0));
	assert_null(iommufd_mode_name((enum iommufd_mode)-1));
	assert_null(iommufd_mode_name((enum iommufd_mode)1000));
}

/* -------------------------------------------------------------- IOAS */

static void h_iommufd_ioas_alloc(void)
{
	uint32_t id;

	E(iommufd_ioas_alloc(NULL, &id), EINVAL);
	E(iommufd_ioas_alloc(g.ctx, NULL), EINVAL);
}

static void h_iommufd_ioas_iova_ranges(void)
{
	struct iommufd_iova_range *r = NULL;
	size_t n = 0;

	E(iommufd_ioas_iova_ranges(NULL, g.ioas, &r, &n, NULL), EINVAL);
	E(iommufd_ioas_iova_ranges(g.ctx, g.ioas, NULL, &n, NULL), EINVAL);
	E(iommufd_ioas_iova_ranges(g.ctx, g.ioas, &r, NULL, NULL), EINVAL);
	E(iommufd_ioas_iova_ranges(g.ctx, NO_ID, &r, &n, NULL), ENOENT);
	assert_null(r);
}

static void h_iommufd_ioas_allow_iovas(void)
{
	struct iommufd_iova_range bad = { .start = 0x2000, .last = 0x1000 };

	E(iommufd_ioas_allow_iovas(NULL, g.ioas, NULL, 0), EINVAL);
	E(iommufd_ioas_allow_iovas(g.ctx, g.ioas, NULL, 1), EINVAL);
	E(iommufd_ioas_allow_iovas(g.ctx, g.ioas, &bad, 1), EINVAL);
	E(iommufd_ioas_allow_iovas(g.ctx, NO_ID, NULL, 0), ENOENT);
}

static void h_iommufd_ioas_map(void)
{
	static char page[4096] __attribute__((aligned(4096)));
	uint64_t iova = 0;

	E(iommufd_ioas_map(NULL, g.ioas, page, 4096, &iova, IOMMUFD_MAP_READ), EINVAL);
	E(iommufd_ioas_map(g.ctx, g.ioas, page, 4096, NULL, IOMMUFD_MAP_READ), EINVAL);
	E(iommufd_ioas_map(g.ctx, g.ioas, page, 0, &iova, IOMMUFD_MAP_READ), EINVAL);
	E(iommufd_ioas_map(g.ctx, g.ioas, page, 4096, &iova, 0x80000000u), EOPNOTSUPP);
	E(iommufd_ioas_map(g.ctx, NO_ID, page, 4096, &iova, IOMMUFD_MAP_READ), ENOENT);
	E(iommufd_ioas_map(g.ctx, g.ioas, (void *)-4096, 8192, &iova, IOMMUFD_MAP_READ), EOVERFLOW);
}

static void h_iommufd_ioas_map_file(void)
{
	uint64_t iova = 0;

	E(iommufd_ioas_map_file(NULL, g.ioas, 0, 0, 4096, &iova, IOMMUFD_MAP_READ), EINVAL);
	E(iommufd_ioas_map_file(g.ctx, g.ioas, 0, 0, 4096, NULL, IOMMUFD_MAP_READ), EINVAL);
	E(iommufd_ioas_map_file(g.ctx, g.ioas, -1, 0, 4096, &iova, IOMMUFD_MAP_READ), EBADF);
	E(iommufd_ioas_map_file(g.ctx, g.ioas, 0, 0, 4096, &iova, 0x80000000u), EOPNOTSUPP);
}

static void h_iommufd_ioas_copy(void)
{
	uint64_t iova = 0;

	E(iommufd_ioas_copy(NULL, g.ioas, &iova, g.ioas, 0, 4096, IOMMUFD_MAP_READ), EINVAL);
	E(iommufd_ioas_copy(g.ctx, g.ioas, NULL, g.ioas, 0, 4096, IOMMUFD_MAP_READ), EINVAL);
	E(iommufd_ioas_copy(g.ctx, g.ioas, &iova, g.ioas, 0, 4096, 0x80000000u), EOPNOTSUPP);
	E(iommufd_ioas_copy(g.ctx, NO_ID, &iova, g.ioas, 0, 4096, IOMMUFD_MAP_READ), ENOENT);
}

static void h_iommufd_ioas_unmap(void)
{
	E(iommufd_ioas_unmap(NULL, g.ioas, 0, 4096, NULL), EINVAL);
	E(iommufd_ioas_unmap(g.ctx, NO_ID, 0, 4096, NULL), ENOENT);
	E(iommufd_ioas_unmap(g.ctx, g.ioas, 0x1000, 4096, NULL), ENOENT);
}

static void h_iommufd_ioas_unmap_all(void)
{
	E(iommufd_ioas_unmap_all(NULL, g.ioas, NULL), EINVAL);
	E(iommufd_ioas_unmap_all(g.ctx, NO_ID, NULL), ENOENT);
}

static void h_iommufd_ctx_get_rlimit_mode(void)
{
	enum iommufd_rlimit_mode m;

	E(iommufd_ctx_get_rlimit_mode(NULL, &m), EINVAL);
	E(iommufd_ctx_get_rlimit_mode(g.ctx, NULL), EINVAL);
}

static void h_iommufd_ctx_set_rlimit_mode(void)
{
	E(iommufd_ctx_set_rlimit_mode(NULL, IOMMUFD_RLIMIT_USER), EINVAL);
	E(iommufd_ctx_set_rlimit_mode(g.ctx, (enum iommufd_rlimit_mode)99), EINVAL);
}

static void h_iommufd_ioas_get_huge_pages(void)
{
	bool on;

	E(iommufd_ioas_get_huge_pages(NULL, g.ioas, &on), EINVAL);
	E(iommufd_ioas_get_huge_pages(g.ctx, g.ioas, NULL), EINVAL);
	E(iommufd_ioas_get_huge_pages(g.ctx, NO_ID, &on), ENOENT);
}

static void h_iommufd_ioas_set_huge_pages(void)
{
	E(iommufd_ioas_set_huge_pages(NULL, g.ioas, true), EINVAL);
	E(iommufd_ioas_set_huge_pages(g.ctx, NO_ID, true), ENOENT);
}

static void h_iommufd_vfio_ioas_get(void)
{
	uint32_t id;

	E(iommufd_vfio_ioas_get(NULL, &id), EINVAL);
	E(iommufd_vfio_ioas_get(g.ctx, NULL), EINVAL);
}

static void h_iommufd_vfio_ioas_set(void)
{
	E(iommufd_vfio_ioas_set(NULL, g.ioas), EINVAL);
	E(iommufd_vfio_ioas_set(g.ctx, NO_ID), ENOENT);
}

static void h_iommufd_vfio_ioas_clear(void)
{
	E(iommufd_vfio_ioas_clear(NULL), EINVAL);
}

static void h_iommufd_ioas_change_process(void)
{
	E(iommufd_ioas_change_process(NULL), EINVAL);
}

/* -------------------------------------------------------------- HWPT, hw info */

static void h_iommufd_hwpt_alloc(void)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = 0x80000000u);
	uint32_t id;

	E(iommufd_hwpt_alloc(NULL, 1, g.ioas, NULL, &id), EINVAL);
	E(iommufd_hwpt_alloc(g.ctx, 1, g.ioas, NULL, NULL), EINVAL);
	/* unknown flags go to the kernel, which looks up the device first */
	E(iommufd_hwpt_alloc(g.ctx, NO_ID, g.ioas, &o, &id), ENOENT);
	o = (struct iommufd_hwpt_alloc_opts){ .sz = 1 }; /* smaller than a size_t */
	E(iommufd_hwpt_alloc(g.ctx, 1, g.ioas, &o, &id), EINVAL);
	E(iommufd_hwpt_alloc(g.ctx, NO_ID, g.ioas, NULL, &id), ENOENT);
}

static void h_iommufd_get_hw_info(void)
{
	IOMMUFD_OPTS(struct iommufd_hw_info, info);

	E(iommufd_get_hw_info(NULL, 1, 0, &info), EINVAL);
	E(iommufd_get_hw_info(g.ctx, 1, 0, NULL), EINVAL);
	info.sz = 1;
	E(iommufd_get_hw_info(g.ctx, 1, 0, &info), EINVAL);
	info.sz = sizeof(info);
	E(iommufd_get_hw_info(g.ctx, NO_ID, 0, &info), ENOENT);
}

static void h_iommufd_hwpt_set_dirty_tracking(void)
{
	E(iommufd_hwpt_set_dirty_tracking(NULL, 1, true), EINVAL);
	E(iommufd_hwpt_set_dirty_tracking(g.ctx, NO_ID, true), ENOENT);
}

static void h_iommufd_hwpt_get_dirty_bitmap(void)
{
	uint64_t bm = 0;

	E(iommufd_hwpt_get_dirty_bitmap(NULL, 1, 0, 4096, 4096, &bm, 0), EINVAL);
	E(iommufd_hwpt_get_dirty_bitmap(g.ctx, 1, 0, 4096, 4096, NULL, 0), EINVAL);
	E(iommufd_hwpt_get_dirty_bitmap(g.ctx, 1, 0, 4096, 4096, &bm, 0x80000000u), EOPNOTSUPP);
	E(iommufd_hwpt_get_dirty_bitmap(g.ctx, NO_ID, 0, 4096, 3, &bm, 0), ENOENT);
}

static void h_iommufd_bitmap_next_run(void)
{
	uint64_t bm = 0xf0, pos = 0, start, count;

	E(iommufd_bitmap_next_run(NULL, 64, &pos, &start, &count), EINVAL);
	E(iommufd_bitmap_next_run(&bm, 64, NULL, &start, &count), EINVAL);
	E(iommufd_bitmap_next_run(&bm, 64, &pos, NULL, &count), EINVAL);
	E(iommufd_bitmap_next_run(&bm, 64, &pos, &start, NULL), EINVAL);
	pos = 65;
	assert_int_equal(iommufd_bitmap_next_run(&bm, 64, &pos, &start, &count), 0);
}

static void h_iommufd_hwpt_invalidate(void)
{
	uint32_t num = 1;
	uint64_t entry[4] = { 0 };

	E(iommufd_hwpt_invalidate(NULL, 1, 0, entry, sizeof(entry), &num), EINVAL);
	E(iommufd_hwpt_invalidate(g.ctx, 1, 0, entry, sizeof(entry), NULL), EINVAL);
	E(iommufd_hwpt_invalidate(g.ctx, 1, 0, NULL, sizeof(entry), &num), EINVAL);
}

/* -------------------------------------------------------------- queues */

static void h_iommufd_fault_queue_new(void)
{
	struct iommufd_fault_queue *q;

	E(iommufd_fault_queue_new(NULL, &q), EINVAL);
	E(iommufd_fault_queue_new(g.ctx, NULL), EINVAL);
}

static void h_iommufd_fault_queue_ref(void)
{
	assert_null(iommufd_fault_queue_ref(NULL));
}

static void h_iommufd_fault_queue_unref(void)
{
	assert_null(iommufd_fault_queue_unref(NULL));
}

static void h_iommufd_fault_queue_unrefp(void)
{
	struct iommufd_fault_queue *q = NULL;

	iommufd_fault_queue_unrefp(NULL);
	iommufd_fault_queue_unrefp(&q);
}

static void h_iommufd_fault_queue_get_id(void)
{
	assert_int_equal(iommufd_fault_queue_get_id(NULL), 0);
}

static void h_iommufd_fault_queue_get_fd(void)
{
	E(iommufd_fault_queue_get_fd(NULL), EINVAL);
}

static void h_iommufd_fault_queue_read(void)
{
	struct iommufd_fault_queue *q;
	struct iommufd_fault f[2];

	E(iommufd_fault_queue_read(NULL, f, 2), EINVAL);
	assert_int_equal(iommufd_fault_queue_new(g.ctx, &q), 0);
	E(iommufd_fault_queue_read(q, NULL, 2), EINVAL);
	E(iommufd_fault_queue_read(q, f, 0), EINVAL);
	iommufd_fault_queue_unref(q);
}

static void h_iommufd_fault_queue_respond(void)
{
	struct iommufd_fault_queue *q;

	E(iommufd_fault_queue_respond(NULL, 1, IOMMUFD_FAULT_RESPONSE_SUCCESS), EINVAL);
	assert_int_equal(iommufd_fault_queue_new(g.ctx, &q), 0);
	E(iommufd_fault_queue_respond(q, 1, (enum iommufd_fault_response)77), EINVAL);
	E(iommufd_fault_queue_respond(q, 12345, IOMMUFD_FAULT_RESPONSE_SUCCESS), EINVAL);
	iommufd_fault_queue_unref(q);
}

static void h_iommufd_viommu_alloc(void)
{
	IOMMUFD_OPTS(struct iommufd_viommu_alloc_opts, o, .data_len = 8);
	uint32_t id;

	E(iommufd_viommu_alloc(NULL, 1, 1, 0, NULL, &id), EINVAL);
	E(iommufd_viommu_alloc(g.ctx, 1, 1, 0, NULL, NULL), EINVAL);
	E(iommufd_viommu_alloc(g.ctx, 1, 1, 0, &o, &id), EINVAL); /* data_len, no data */
}

static void h_iommufd_vdevice_alloc(void)
{
	uint32_t id;

	E(iommufd_vdevice_alloc(NULL, 1, 1, 0, &id), EINVAL);
	E(iommufd_vdevice_alloc(g.ctx, 1, 1, 0, NULL), EINVAL);
	E(iommufd_vdevice_alloc(g.ctx, NO_ID, NO_ID, 0, &id), ENOENT);
}

static void h_iommufd_handover_send(void)
{
	struct iommufd_device *devs[1] = { NULL };
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	E(iommufd_handover_send(sv[0], NULL, NULL, 0), EINVAL);
	/* the emulator's fds are not kernel files */
	E(iommufd_handover_send(sv[0], g.ctx, NULL, 0), EOPNOTSUPP);
	E(iommufd_handover_send(sv[0], g.ctx, devs, 1), EOPNOTSUPP);
	E(iommufd_handover_send(-1, g.ctx, NULL, SIZE_MAX), EOPNOTSUPP);
	close(sv[0]);
	close(sv[1]);
}

static void h_iommufd_handover_recv(void)
{
	struct iommufd_device **devs = NULL;
	struct iommufd_ctx *c = NULL;
	size_t nr = 0;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	E(iommufd_handover_recv(sv[0], NULL, &devs, &nr), EINVAL);
	E(iommufd_handover_recv(sv[0], &c, NULL, &nr), EINVAL);
	E(iommufd_handover_recv(sv[0], &c, &devs, NULL), EINVAL);
	E(iommufd_handover_recv(-1, &c, &devs, &nr), EBADF);
	/* a message that is no handover */
	assert_int_equal(send(sv[1], "hello", 5, 0), 5);
	E(iommufd_handover_recv(sv[0], &c, &devs, &nr), EPROTO);
	close(sv[1]);
	E(iommufd_handover_recv(sv[0], &c, &devs, &nr), EPIPE);
	close(sv[0]);
	assert_null(c);
	assert_null(devs);
}

static void h_iommufd_hw_queue_alloc(void)
{
	IOMMUFD_OPTS(struct iommufd_hw_queue_alloc_opts, o, .flags = 0x80000000u);
	uint32_t id;

	E(iommufd_hw_queue_alloc(NULL, 1, 0, 0, 0, 4096, NULL, &id), EINVAL);
	E(iommufd_hw_queue_alloc(g.ctx, 1, 0, 0, 0, 4096, NULL, NULL), EINVAL);
	E(iommufd_hw_queue_alloc(g.ctx, 1, 1, 0, 0, 4096, &o, &id), EOPNOTSUPP);
	E(iommufd_hw_queue_alloc(g.ctx, 1, 0, 0, 0, 4096, NULL, &id), EOPNOTSUPP); /* type 0 */
}

static void h_iommufd_ctx_mmap(void)
{
	void *p;

	E(iommufd_ctx_mmap(NULL, 0, 4096, &p), EINVAL);
	E(iommufd_ctx_mmap(g.ctx, 0, 4096, NULL), EINVAL);
	E(iommufd_ctx_mmap(g.ctx, 0, 0, &p), EINVAL);
}

static void h_iommufd_ctx_munmap(void)
{
	E(iommufd_ctx_munmap(NULL, NULL, 4096), EINVAL);
	E(iommufd_ctx_munmap(g.ctx, NULL, 4096), EINVAL);
}

static void h_iommufd_veventq_new(void)
{
	IOMMUFD_OPTS(struct iommufd_veventq_opts, o, .flags = 0x80000000u);
	struct iommufd_veventq *q;

	E(iommufd_veventq_new(NULL, 1, 1, 1, NULL, &q), EINVAL);
	E(iommufd_veventq_new(g.ctx, 1, 1, 1, NULL, NULL), EINVAL);
	E(iommufd_veventq_new(g.ctx, 1, 1, 1, &o, &q), EOPNOTSUPP);
	E(iommufd_veventq_new(g.ctx, NO_ID, 1, 1, NULL, &q), ENOENT);
}

static void h_iommufd_veventq_ref(void)
{
	assert_null(iommufd_veventq_ref(NULL));
}

static void h_iommufd_veventq_unref(void)
{
	assert_null(iommufd_veventq_unref(NULL));
}

static void h_iommufd_veventq_unrefp(void)
{
	struct iommufd_veventq *q = NULL;

	iommufd_veventq_unrefp(NULL);
	iommufd_veventq_unrefp(&q);
}

static void h_iommufd_veventq_get_id(void)
{
	assert_int_equal(iommufd_veventq_get_id(NULL), 0);
}

static void h_iommufd_veventq_get_fd(void)
{
	E(iommufd_veventq_get_fd(NULL), EINVAL);
}

static void h_iommufd_veventq_read(void)
{
	struct iommufd_vevent ev;

	E(iommufd_veventq_read(NULL, &ev), EINVAL);
}

/* -------------------------------------------------------------- devices */

static void h_iommufd_device_open(void)
{
	struct iommufd_device *d = NULL;

	E(iommufd_device_open(NULL, "/dev/vfio/devices/vfio0", &d), EINVAL);
	E(iommufd_device_open(g.scope, NULL, &d), EINVAL);
	E(iommufd_device_open(g.scope, "/dev/vfio/devices/vfio0", NULL), EINVAL);
	E(iommufd_device_open(g.scope, "/dev/vfio/devices/vfio99", &d), ENOENT);
	assert_null(d);
}

static void h_iommufd_device_open_pci(void)
{
	struct iommufd_device *d = NULL;

	E(iommufd_device_open_pci(NULL, EDU_BDF, &d), EINVAL);
	E(iommufd_device_open_pci(g.scope, NULL, &d), EINVAL);
	E(iommufd_device_open_pci(g.scope, EDU_BDF, NULL), EINVAL);
	E(iommufd_device_open_pci(g.scope, "0000:00:02.0/../..", &d), EINVAL);
	E(iommufd_device_open_pci(g.scope, "0000:00:1f.7", &d), ENODEV);
	assert_null(d);
}

static void h_iommufd_device_new_from_fd(void)
{
	struct iommufd_device *d = NULL;

	E(iommufd_device_new_from_fd(NULL, 0, &d), EINVAL);
	E(iommufd_device_new_from_fd(g.scope, 0, NULL), EINVAL);
	E(iommufd_device_new_from_fd(g.scope, -1, &d), EBADF);
	E(iommufd_device_new_from_fd(g.scope, INT32_MAX, &d), EBADF);
	assert_null(d);
}

static void h_iommufd_device_adopt(void)
{
	struct iommufd_device_adopt_opts o = { .sz = sizeof(o), .dev_id = 1 };
	struct iommufd_device_adopt_opts bad = o;
	struct iommufd_device *d = NULL;
	int parked = iommufd_device_get_fd(g.dev);

	E(iommufd_device_adopt(NULL, parked, &o, &d), EINVAL);
	E(iommufd_device_adopt(g.scope, parked, NULL, &d), EINVAL);
	E(iommufd_device_adopt(g.scope, parked, &o, NULL), EINVAL);
	bad.sz = 1;
	E(iommufd_device_adopt(g.scope, parked, &bad, &d), EINVAL);
	bad = o;
	bad.flags = 0x80000000u;
	E(iommufd_device_adopt(g.scope, parked, &bad, &d), EINVAL);
	bad = o;
	bad.reserved = 1;
	E(iommufd_device_adopt(g.scope, parked, &bad, &d), EINVAL);
	bad = o;
	bad.dev_id = 0;
	E(iommufd_device_adopt(g.scope, parked, &bad, &d), EINVAL);
	bad = o;
	bad.pt_id = 2; /* without the ATTACHED flag */
	E(iommufd_device_adopt(g.scope, parked, &bad, &d), EINVAL);
	bad = o;
	bad.flags = IOMMUFD_DEVICE_ADOPT_ATTACHED; /* and pt_id 0 */
	E(iommufd_device_adopt(g.scope, parked, &bad, &d), EINVAL);
	E(iommufd_device_adopt(g.scope, -1, &o, &d), EBADF);
	E(iommufd_device_adopt(g.scope, INT32_MAX, &o, &d), EBADF);
	E(iommufd_device_adopt(g.ctx, iommufd_ctx_get_fd(g.ctx), &o, &d), ENOTTY);
	E(iommufd_device_adopt(g.scope, parked, &o, &d), EINVAL); /* parked */
	assert_null(d);
}

static void h_iommufd_device_ref(void)
{
	assert_null(iommufd_device_ref(NULL));
}

static void h_iommufd_device_unref(void)
{
	assert_null(iommufd_device_unref(NULL));
}

static void h_iommufd_device_unrefp(void)
{
	struct iommufd_device *d = NULL;

	iommufd_device_unrefp(NULL);
	iommufd_device_unrefp(&d);
}

static void h_iommufd_device_get_fd(void)
{
	E(iommufd_device_get_fd(NULL), EINVAL);
}

static void h_iommufd_device_bind(void)
{
	uint32_t id;

	E(iommufd_device_bind(NULL, g.ctx, NULL, &id), EINVAL);
	E(iommufd_device_bind(g.dev, NULL, NULL, &id), EINVAL);
}

static void h_iommufd_device_attach(void)
{
	E(iommufd_device_attach(NULL, g.ioas, NULL), EINVAL);
	E(iommufd_device_attach(g.dev, g.ioas, NULL), EINVAL); /* parked */
}

static void h_iommufd_device_detach(void)
{
	E(iommufd_device_detach(NULL), EINVAL);
	E(iommufd_device_detach(g.dev), EINVAL);
}

static void h_iommufd_device_pasid_attach(void)
{
	E(iommufd_device_pasid_attach(NULL, 1, g.ioas, NULL), EINVAL);
	E(iommufd_device_pasid_attach(g.dev, 1, g.ioas, NULL), EINVAL);
	E(iommufd_device_pasid_attach(g.dev, 1u << 20, g.ioas, NULL), EINVAL);
}

static void h_iommufd_device_pasid_detach(void)
{
	E(iommufd_device_pasid_detach(NULL, 1), EINVAL);
	E(iommufd_device_pasid_detach(g.dev, 1), EINVAL);
}

static void h_iommufd_device_get_state(void)
{
	assert_int_equal(iommufd_device_get_state(NULL), IOMMUFD_DEVICE_PARKED);
	assert_int_equal(iommufd_device_get_state(g.dev), IOMMUFD_DEVICE_PARKED);
}

static void h_iommufd_device_state_name(void)
{
	assert_non_null(iommufd_device_state_name((enum iommufd_device_state)-1));
	assert_non_null(iommufd_device_state_name((enum iommufd_device_state)1000));
}

static void h_iommufd_device_get_dev_id(void)
{
	assert_int_equal(iommufd_device_get_dev_id(NULL), 0);
	assert_int_equal(iommufd_device_get_dev_id(g.dev), 0);
}

static void h_iommufd_device_get_pt_id(void)
{
	assert_int_equal(iommufd_device_get_pt_id(NULL), 0);
	assert_int_equal(iommufd_device_get_pt_id(g.dev), 0);
}

static void h_iommufd_device_get_pasid_pt_id(void)
{
	assert_int_equal(iommufd_device_get_pasid_pt_id(NULL, 1), 0);
	assert_int_equal(iommufd_device_get_pasid_pt_id(g.dev, ~0u), 0);
}

static void h_iommufd_device_get_pasids(void)
{
	uint32_t *p = NULL;
	size_t n = 7;

	E(iommufd_device_get_pasids(NULL, &p, &n), EINVAL);
	E(iommufd_device_get_pasids(g.dev, NULL, &n), EINVAL);
	E(iommufd_device_get_pasids(g.dev, &p, NULL), EINVAL);
	assert_int_equal(iommufd_device_get_pasids(g.dev, &p, &n), 0);
	assert_int_equal(n, 0);
	free(p);
}

static void h_iommufd_device_get_ctx(void)
{
	assert_null(iommufd_device_get_ctx(NULL));
	assert_null(iommufd_device_get_ctx(g.dev));
}

static void h_iommufd_device_is_group_path(void)
{
	assert_false(iommufd_device_is_group_path(NULL));
	assert_false(iommufd_device_is_group_path(g.dev));
}

static void h_iommufd_pci_get_iommu_group(void)
{
	int grp;

	E(iommufd_pci_get_iommu_group(NULL, EDU_BDF, &grp), EINVAL);
	E(iommufd_pci_get_iommu_group(g.scope, NULL, &grp), EINVAL);
	E(iommufd_pci_get_iommu_group(g.scope, EDU_BDF, NULL), EINVAL);
	E(iommufd_pci_get_iommu_group(g.scope, "x", &grp), EINVAL);
	E(iommufd_pci_get_iommu_group(g.scope, "0000:00:1f.7", &grp), ENODEV);
}

static void h_iommufd_pci_sriov_get_numvfs(void)
{
	unsigned int n, t;

	E(iommufd_pci_sriov_get_numvfs(NULL, EDU_BDF, &n, &t), EINVAL);
	E(iommufd_pci_sriov_get_numvfs(g.scope, NULL, &n, &t), EINVAL);
	E(iommufd_pci_sriov_get_numvfs(g.scope, EDU_BDF, NULL, NULL), EINVAL);
	E(iommufd_pci_sriov_get_numvfs(g.scope, "x", &n, &t), EINVAL);
	E(iommufd_pci_sriov_get_numvfs(g.scope, "0000:00:1f.7", &n, &t), ENODEV);
	E(iommufd_pci_sriov_get_numvfs(g.scope, EDU_BDF, &n, &t), EOPNOTSUPP);
}

static void h_iommufd_pci_sriov_set_numvfs(void)
{
	E(iommufd_pci_sriov_set_numvfs(NULL, EDU_BDF, 1), EINVAL);
	E(iommufd_pci_sriov_set_numvfs(g.scope, NULL, 1), EINVAL);
	E(iommufd_pci_sriov_set_numvfs(g.scope, "x", 1), EINVAL);
	E(iommufd_pci_sriov_set_numvfs(g.scope, "0000:00:1f.7", 1), ENODEV);
	E(iommufd_pci_sriov_set_numvfs(g.scope, EDU_BDF, UINT_MAX), EOPNOTSUPP);
}

static void h_iommufd_pci_sriov_get_vf(void)
{
	char vf[IOMMUFD_BDF_LEN];

	E(iommufd_pci_sriov_get_vf(NULL, EDU_BDF, 0, vf), EINVAL);
	E(iommufd_pci_sriov_get_vf(g.scope, NULL, 0, vf), EINVAL);
	E(iommufd_pci_sriov_get_vf(g.scope, EDU_BDF, 0, NULL), EINVAL);
	E(iommufd_pci_sriov_get_vf(g.scope, "x", 0, vf), EINVAL);
	E(iommufd_pci_sriov_get_vf(g.scope, EDU_BDF, UINT_MAX, vf), EOPNOTSUPP);
}

static void h_iommufd_device_open_vf(void)
{
	struct iommufd_device *dev = NULL;

	E(iommufd_device_open_vf(NULL, EDU_BDF, 0, NULL, NULL, &dev), EINVAL);
	E(iommufd_device_open_vf(g.scope, EDU_BDF, 0, NULL, NULL, NULL), EINVAL);
	E(iommufd_device_open_vf(g.scope, NULL, 0, NULL, NULL, &dev), EINVAL);
	E(iommufd_device_open_vf(g.scope, "x", 0, NULL, NULL, &dev), EINVAL);
	E(iommufd_device_open_vf(g.scope, EDU_BDF, 0, NULL, NULL, &dev), EOPNOTSUPP);
	assert_null(dev);
}

/* -------------------------------------------------------------- groups */

static void h_iommufd_group_open(void)
{
	struct iommufd_group *grp = NULL;

	E(iommufd_group_open(NULL, 0, &grp), EINVAL);
	E(iommufd_group_open(g.scope, 0, NULL), EINVAL);
	E(iommufd_group_open(g.scope, -1, &grp), EINVAL);
	E(iommufd_group_open(g.scope, 99999, &grp), ENOENT);
	assert_null(grp);
}

static void h_iommufd_group_open_path(void)
{
	struct iommufd_group *grp = NULL;

	E(iommufd_group_open_path(NULL, "/dev/vfio/0", &grp), EINVAL);
	E(iommufd_group_open_path(g.scope, NULL, &grp), EINVAL);
	E(iommufd_group_open_path(g.scope, "/dev/vfio/0", NULL), EINVAL);
	E(iommufd_group_open_path(g.scope, "/dev/vfio/99999", &grp), ENOENT);
	assert_null(grp);
}

static void h_iommufd_group_ref(void)
{
	assert_null(iommufd_group_ref(NULL));
}

static void h_iommufd_group_unref(void)
{
	assert_null(iommufd_group_unref(NULL));
}

static void h_iommufd_group_unrefp(void)
{
	struct iommufd_group *grp = NULL;

	iommufd_group_unrefp(NULL);
	iommufd_group_unrefp(&grp);
}

static void h_iommufd_group_get_fd(void)
{
	E(iommufd_group_get_fd(NULL), EINVAL);
}

static void h_iommufd_group_set_ctx(void)
{
	E(iommufd_group_set_ctx(NULL, g.ctx), EINVAL);
}

static void h_iommufd_group_unset_ctx(void)
{
	E(iommufd_group_unset_ctx(NULL), EINVAL);
}

static void h_iommufd_group_get_status(void)
{
	uint32_t f;

	E(iommufd_group_get_status(NULL, &f), EINVAL);
}

static void h_iommufd_group_get_device(void)
{
	struct iommufd_device *d = NULL;

	E(iommufd_group_get_device(NULL, EDU_BDF, &d), EINVAL);
	assert_null(d);
}

/* -------------------------------------------------------------- device helpers */

static void h_iommufd_device_get_hw_info(void)
{
	IOMMUFD_OPTS(struct iommufd_hw_info, info);

	E(iommufd_device_get_hw_info(NULL, 0, &info), EINVAL);
	E(iommufd_device_get_hw_info(g.dev, 0, NULL), EINVAL);
	E(iommufd_device_get_hw_info(g.dev, 0, &info), EINVAL); /* parked */
}

static void h_iommufd_device_hwpt_alloc(void)
{
	uint32_t id;

	E(iommufd_device_hwpt_alloc(NULL, g.ioas, NULL, &id), EINVAL);
	E(iommufd_device_hwpt_alloc(g.dev, g.ioas, NULL, NULL), EINVAL);
	E(iommufd_device_hwpt_alloc(g.dev, g.ioas, NULL, &id), EINVAL); /* parked */
}

static void h_iommufd_device_viommu_alloc(void)
{
	uint32_t id;

	E(iommufd_device_viommu_alloc(NULL, 1, 0, NULL, &id), EINVAL);
	E(iommufd_device_viommu_alloc(g.dev, 1, 0, NULL, NULL), EINVAL);
	E(iommufd_device_viommu_alloc(g.dev, 1, 0, NULL, &id), EINVAL); /* parked */
}

static void h_iommufd_device_get_info(void)
{
	IOMMUFD_OPTS(struct iommufd_device_info, info);

	E(iommufd_device_get_info(NULL, &info), EINVAL);
	E(iommufd_device_get_info(g.dev, NULL), EINVAL);
	info.sz = 1;
	E(iommufd_device_get_info(g.dev, &info), EINVAL);
}

static void h_iommufd_device_get_region_info(void)
{
	IOMMUFD_OPTS(struct iommufd_region_info, info);

	E(iommufd_device_get_region_info(NULL, 0, &info), EINVAL);
	E(iommufd_device_get_region_info(g.dev, 0, NULL), EINVAL);
	info.sz = 1;
	E(iommufd_device_get_region_info(g.dev, 0, &info), EINVAL);
}

static void h_iommufd_device_region_read(void)
{
	char b[4];

	E(iommufd_device_region_read(NULL, 0, 0, b, 4), EINVAL);
	E(iommufd_device_region_read(g.dev, 0, 0, NULL, 4), EINVAL);
	E(iommufd_device_region_read(g.dev, 0, UINT64_MAX, b, 4), EINVAL);
}

static void h_iommufd_device_region_write(void)
{
	char b[4] = { 0 };

	E(iommufd_device_region_write(NULL, 0, 0, b, 4), EINVAL);
	E(iommufd_device_region_write(g.dev, 0, 0, NULL, 4), EINVAL);
	E(iommufd_device_region_write(g.dev, 0, UINT64_MAX, b, 4), EINVAL);
}

static void h_iommufd_device_region_mmap(void)
{
	void *p;

	E(iommufd_device_region_mmap(NULL, 0, 0, 4096, PROT_READ, &p), EINVAL);
	E(iommufd_device_region_mmap(g.dev, 0, 0, 4096, PROT_READ, NULL), EINVAL);
	E(iommufd_device_region_mmap(g.dev, 0, 0, 0, PROT_READ, &p), EINVAL);
	E(iommufd_device_region_mmap(g.dev, 0, 0, 4096, PROT_EXEC, &p), EINVAL);
}

static void h_iommufd_device_region_munmap(void)
{
	E(iommufd_device_region_munmap(NULL, NULL, 4096), EINVAL);
	E(iommufd_device_region_munmap(g.dev, NULL, 4096), EINVAL);
}

static void h_iommufd_device_config_read(void)
{
	uint32_t v;

	E(iommufd_device_config_read(NULL, 0, 4, &v), EINVAL);
	E(iommufd_device_config_read(g.dev, 0, 4, NULL), EINVAL);
	E(iommufd_device_config_read(g.dev, 0, 3, &v), EINVAL);
	E(iommufd_device_config_read(g.dev, 1, 4, &v), EINVAL);
}

static void h_iommufd_device_config_write(void)
{
	E(iommufd_device_config_write(NULL, 0, 4, 0), EINVAL);
	E(iommufd_device_config_write(g.dev, 0, 8, 0), EINVAL);
	E(iommufd_device_config_write(g.dev, 2, 4, 0), EINVAL);
}

static void h_iommufd_device_reset(void)
{
	E(iommufd_device_reset(NULL), EINVAL);
	E(iommufd_device_reset(g.dev), EINVAL); /* parked */
}

static void h_iommufd_device_get_irq_info(void)
{
	IOMMUFD_OPTS(struct iommufd_irq_info, info);

	E(iommufd_device_get_irq_info(NULL, 0, &info), EINVAL);
	E(iommufd_device_get_irq_info(g.dev, 0, NULL), EINVAL);
	info.sz = 1;
	E(iommufd_device_get_irq_info(g.dev, 0, &info), EINVAL);
}

static void h_iommufd_device_set_irqs(void)
{
	int fd = -1;

	E(iommufd_device_set_irqs(NULL, 0, 0, &fd, 1), EINVAL);
	E(iommufd_device_set_irqs(g.dev, 0, 0, NULL, 1), EINVAL);
	E(iommufd_device_set_irqs(g.dev, 0, 0, &fd, 70000), EINVAL);
}

static void h_iommufd_device_disable_irqs(void)
{
	E(iommufd_device_disable_irqs(NULL, 0), EINVAL);
	E(iommufd_device_disable_irqs(g.dev, 0), EINVAL); /* parked */
}

static void h_iommufd_device_ioctl(void)
{
	E(iommufd_device_ioctl(NULL, 0, NULL), EINVAL);
}

static void h_iommufd_device_irq_mask(void)
{
	E(iommufd_device_irq_mask(NULL, 0, 0, 1), EINVAL);
	E(iommufd_device_irq_mask(g.dev, 0, 0, 1), EINVAL); /* parked */
}

static void h_iommufd_device_irq_unmask(void)
{
	E(iommufd_device_irq_unmask(NULL, 0, 0, 1), EINVAL);
	E(iommufd_device_irq_unmask(g.dev, 0, 0, 1), EINVAL);
}

static void h_iommufd_device_irq_trigger(void)
{
	E(iommufd_device_irq_trigger(NULL, 0, 0, 1, NULL), EINVAL);
	E(iommufd_device_irq_trigger(g.dev, 0, 0, 70000, NULL), EINVAL);
}

static void h_iommufd_device_get_region_caps(void)
{
	IOMMUFD_OPTS(struct iommufd_region_caps, caps);

	E(iommufd_device_get_region_caps(NULL, 0, &caps), EINVAL);
	E(iommufd_device_get_region_caps(g.dev, 0, NULL), EINVAL);
	caps.sz = 1;
	E(iommufd_device_get_region_caps(g.dev, 0, &caps), EINVAL);
}

/* -------------------------------------------------------------- device features, resets */

static void h_iommufd_device_feature(void)
{
	char b[8];

	E(iommufd_device_feature(NULL, 0, 0, b, sizeof(b)), EINVAL);
	E(iommufd_device_feature(g.dev, 0, 0, b, sizeof(b)), EINVAL); /* parked */
}

static void h_iommufd_bar_dmabuf_export(void)
{
	const struct iommufd_dmabuf_range r = { 0, 4096 };
	struct iommufd_bar_dmabuf *db = NULL;

	E(iommufd_bar_dmabuf_export(NULL, 0, &r, 1, 0, &db), EINVAL);
	E(iommufd_bar_dmabuf_export(g.dev, 0, &r, 1, 0, NULL), EINVAL);
	E(iommufd_bar_dmabuf_export(g.dev, 0, NULL, 1, 0, &db), EINVAL);
	E(iommufd_bar_dmabuf_export(g.dev, 0, &r, 1, 1, &db), EINVAL);
	E(iommufd_bar_dmabuf_export(g.dev, 0, &r, UINT32_MAX, 0, &db), EINVAL);
	E(iommufd_bar_dmabuf_export(g.dev, 0, &r, 1, 0, &db), EINVAL); /* parked */
	assert_null(db);
}

static void h_iommufd_bar_dmabuf_free(void)
{
	iommufd_bar_dmabuf_free(NULL);
}

static void h_iommufd_bar_dmabuf_get_fd(void)
{
	E(iommufd_bar_dmabuf_get_fd(NULL), EINVAL);
}

static void h_iommufd_bar_dmabuf_get_size(void)
{
	assert_int_equal(iommufd_bar_dmabuf_get_size(NULL), 0);
}

static void h_iommufd_bar_dmabuf_map(void)
{
	uint64_t iova = 0;

	E(iommufd_bar_dmabuf_map(NULL, g.ctx, g.ioas, &iova, IOMMUFD_MAP_READ), EINVAL);
}

static void h_iommufd_bar_dmabuf_unmap(void)
{
	E(iommufd_bar_dmabuf_unmap(NULL, g.ctx, g.ioas, 0), EINVAL);
}

static void h_iommufd_bar_dmabuf_get_state(void)
{
	enum iommufd_dmabuf_state st;

	E(iommufd_bar_dmabuf_get_state(NULL, &st), EINVAL);
}

static void h_iommufd_bar_dmabuf_remap(void)
{
	uint32_t nr = 7;

	E(iommufd_bar_dmabuf_remap(NULL, 0, &nr), EINVAL);
	assert_int_equal(nr, 0);
}

static void h_iommufd_device_feature_probe(void)
{
	E(iommufd_device_feature_probe(NULL, 0, 0), EINVAL);
	E(iommufd_device_feature_probe(g.dev, 0, 0), EINVAL);
}

static void h_iommufd_device_get_hot_reset_info(void)
{
	struct iommufd_hot_reset_dev *devs = NULL;
	uint32_t flags;
	size_t nr;

	E(iommufd_device_get_hot_reset_info(NULL, &flags, &devs, &nr), EINVAL);
	E(iommufd_device_get_hot_reset_info(g.dev, &flags, NULL, &nr), EINVAL);
	E(iommufd_device_get_hot_reset_info(g.dev, &flags, &devs, NULL), EINVAL);
	assert_null(devs);
}

static void h_iommufd_device_get_mig_data_size(void)
{
	uint64_t len;

	E(iommufd_device_get_mig_data_size(NULL, &len), EINVAL);
	E(iommufd_device_get_mig_data_size(g.dev, NULL), EINVAL);
}

static void h_iommufd_device_get_mig_state(void)
{
	enum iommufd_mig_state st;

	E(iommufd_device_get_mig_state(NULL, &st), EINVAL);
	E(iommufd_device_get_mig_state(g.dev, NULL), EINVAL);
}

static void h_iommufd_device_get_migration(void)
{
	uint64_t flags;

	E(iommufd_device_get_migration(NULL, &flags), EINVAL);
	E(iommufd_device_get_migration(g.dev, NULL), EINVAL);
}

static void h_iommufd_device_hot_reset(void)
{
	E(iommufd_device_hot_reset(NULL, NULL), EINVAL);
}

static void h_iommufd_device_low_power_enter(void)
{
	E(iommufd_device_low_power_enter(NULL, NULL), EINVAL);
}

static void h_iommufd_device_low_power_exit(void)
{
	E(iommufd_device_low_power_exit(NULL), EINVAL);
}

static void h_iommufd_device_reset_auto(void)
{
	E(iommufd_device_reset_auto(NULL, NULL), EINVAL);
}

static void h_iommufd_device_set_bus_master(void)
{
	E(iommufd_device_set_bus_master(NULL, true), EINVAL);
	E(iommufd_device_set_bus_master(g.dev, true), EINVAL); /* parked */
}

static void h_iommufd_device_set_mig_state(void)
{
	int fd;

	E(iommufd_device_set_mig_state(NULL, IOMMUFD_MIG_STATE_RUNNING, &fd), EINVAL);
}

static void h_iommufd_device_dma_log_start(void)
{
	struct iommufd_dma_log_range r = { .iova = 0, .length = 4096 };
	uint64_t ps = 4096;

	E(iommufd_device_dma_log_start(NULL, &r, 1, &ps), EINVAL);
	E(iommufd_device_dma_log_start(g.dev, &r, 1, NULL), EINVAL);
	E(iommufd_device_dma_log_start(g.dev, NULL, 1, &ps), EINVAL);
	E(iommufd_device_dma_log_start(g.dev, &r, 1, &ps), EINVAL); /* parked */
}

static void h_iommufd_device_dma_log_stop(void)
{
	E(iommufd_device_dma_log_stop(NULL), EINVAL);
	E(iommufd_device_dma_log_stop(g.dev), EINVAL); /* parked */
}

static void h_iommufd_device_dma_log_report(void)
{
	uint64_t bm = 0;

	E(iommufd_device_dma_log_report(NULL, 0, 4096, 4096, &bm), EINVAL);
	E(iommufd_device_dma_log_report(g.dev, 0, 4096, 4096, NULL), EINVAL);
	E(iommufd_device_dma_log_report(g.dev, 0, 4096, 4096, &bm), EINVAL); /* parked */
}

static void h_iommufd_device_enable_precopy_info_v2(void)
{
	E(iommufd_device_enable_precopy_info_v2(NULL), EINVAL);
	E(iommufd_device_enable_precopy_info_v2(g.dev), EINVAL);
}

static void h_iommufd_device_mig_data_read(void)
{
	char buf[8];

	E(iommufd_device_mig_data_read(NULL, 3, buf, sizeof(buf)), EINVAL);
	E(iommufd_device_mig_data_read(g.dev, -1, buf, sizeof(buf)), EBADF);
}

static void h_iommufd_device_mig_data_write(void)
{
	char buf[8] = { 0 };

	E(iommufd_device_mig_data_write(NULL, 3, buf, sizeof(buf)), EINVAL);
	E(iommufd_device_mig_data_write(g.dev, -1, buf, sizeof(buf)), EBADF);
}

static void h_iommufd_device_mig_data_close(void)
{
	E(iommufd_device_mig_data_close(NULL, 3), EINVAL);
	E(iommufd_device_mig_data_close(g.dev, -1), EBADF);
}

static void h_iommufd_device_mig_precopy_info(void)
{
	IOMMUFD_OPTS(struct iommufd_mig_precopy_info, info);

	E(iommufd_device_mig_precopy_info(NULL, 3, &info), EINVAL);
	E(iommufd_device_mig_precopy_info(g.dev, -1, &info), EBADF);
	E(iommufd_device_mig_precopy_info(g.dev, 0, NULL), EINVAL);
	info.sz = 4;
	E(iommufd_device_mig_precopy_info(g.dev, 0, &info), EINVAL);
}

static void h_iommufd_mig_state_name(void)
{
	assert_null(iommufd_mig_state_name((enum iommufd_mig_state)99));
	assert_string_equal(iommufd_mig_state_name(IOMMUFD_MIG_STATE_STOP), "STOP");
}

static void h_iommufd_device_set_vf_token(void)
{
	E(iommufd_device_set_vf_token(NULL, NULL), EINVAL);
	E(iommufd_device_set_vf_token(g.dev, NULL), EINVAL);
}

/* -------------------------------------------------------------- DMA layer */

static void h_iommufd_dma_new(void)
{
	IOMMUFD_OPTS(struct iommufd_dma_opts, o, .flags = 0x80000000u);
	struct iommufd_dma *d = NULL;

	E(iommufd_dma_new(NULL, g.ioas, NULL, &d), EINVAL);
	E(iommufd_dma_new(g.ctx, g.ioas, NULL, NULL), EINVAL);
	E(iommufd_dma_new(g.ctx, g.ioas, &o, &d), EINVAL);
	o = (struct iommufd_dma_opts){ .sz = 1 };
	E(iommufd_dma_new(g.ctx, g.ioas, &o, &d), EINVAL);
	E(iommufd_dma_new(g.ctx, NO_ID, NULL, &d), ENOENT);
	assert_null(d);
}

static void h_iommufd_dma_ref(void)
{
	assert_null(iommufd_dma_ref(NULL));
}

static void h_iommufd_dma_unref(void)
{
	assert_null(iommufd_dma_unref(NULL));
}

static void h_iommufd_dma_refresh_ranges(void)
{
	E(iommufd_dma_refresh_ranges(NULL), EINVAL);
}

static void h_iommufd_dma_iova_alloc(void)
{
	uint64_t iova;

	E(iommufd_dma_iova_alloc(NULL, 4096, 4096, &iova), EINVAL);
}

static void h_iommufd_dma_iova_free(void)
{
	E(iommufd_dma_iova_free(NULL, 0, 4096), EINVAL);
}

static void h_iommufd_dma_register(void)
{
	static char page[4096] __attribute__((aligned(4096)));
	uint64_t iova;

	E(iommufd_dma_register(NULL, page, 4096, 0, &iova), EINVAL);
}

static void h_iommufd_dma_unregister(void)
{
	static char page[4096] __attribute__((aligned(4096)));

	E(iommufd_dma_unregister(NULL, page, 4096), EINVAL);
}

static void h_iommufd_dma_pin(void)
{
	E(iommufd_dma_pin(NULL, &g), EINVAL);
}

static void h_iommufd_dma_unpin(void)
{
	E(iommufd_dma_unpin(NULL, &g), EINVAL);
}

static void h_iommufd_dma_translate(void)
{
	uint64_t iova;
	size_t len;

	E(iommufd_dma_translate(NULL, &g, &iova, &len), EINVAL);
}

static void h_iommufd_dma_translate_iov(void)
{
	struct iovec iov = { &g, sizeof(g) };
	struct iommufd_dma_seg seg;
	size_t n;

	E(iommufd_dma_translate_iov(NULL, &iov, 1, &seg, 1, &n), EINVAL);
}

static void h_iommufd_dma_buf_alloc(void)
{
	struct iommufd_dma_buf *b = NULL;

	E(iommufd_dma_buf_alloc(NULL, 4096, NULL, &b), EINVAL);
	assert_null(b);
}

static void h_iommufd_dma_buf_free(void)
{
	assert_int_equal(iommufd_dma_buf_free(NULL), 0);
}

static void h_iommufd_dma_buf_get_va(void)
{
	assert_null(iommufd_dma_buf_get_va(NULL));
}

static void h_iommufd_dma_buf_get_iova(void)
{
	assert_int_equal(iommufd_dma_buf_get_iova(NULL), 0);
}

static void h_iommufd_dma_buf_get_size(void)
{
	assert_int_equal(iommufd_dma_buf_get_size(NULL), 0);
}

static void h_iommufd_dma_buf_get_backing(void)
{
	(void)iommufd_dma_buf_get_backing(NULL);
}

static void h_iommufd_dma_buf_get_fd(void)
{
	assert_int_equal(iommufd_dma_buf_get_fd(NULL), -1);
}

static void h_iommufd_dma_buf_pin(void)
{
	E(iommufd_dma_buf_pin(NULL), EINVAL);
}

static void h_iommufd_dma_buf_unpin(void)
{
	E(iommufd_dma_buf_unpin(NULL), EINVAL);
}

/* -------------------------------------------------------------- the emulator */

static void h_iommufd_emu_new(void)
{
	E(iommufd_emu_new(NULL), EINVAL);
}

static void h_iommufd_emu_ref(void)
{
	assert_null(iommufd_emu_ref(NULL));
}

static void h_iommufd_emu_unref(void)
{
	assert_null(iommufd_emu_unref(NULL));
}

static void h_iommufd_emu_get_backend(void)
{
	assert_null(iommufd_emu_get_backend(NULL));
}

static void h_iommufd_emu_ctx_new(void)
{
	struct iommufd_ctx *c = NULL;

	E(iommufd_emu_ctx_new(NULL, &c), EINVAL);
	E(iommufd_emu_ctx_new(g.emu, NULL), EINVAL);
	assert_null(c);
}

static void h_iommufd_emu_last_error(void)
{
	E(iommufd_emu_new(NULL), EINVAL);
	assert_true(strlen(iommufd_emu_last_error()) > 0);
}

static void h_iommufd_emu_set_fail_nth(void)
{
	E(iommufd_emu_set_fail_nth(NULL, 1), EINVAL);
}

static void h_iommufd_emu_set_config(void)
{
	E(iommufd_emu_set_config(NULL, 0), EINVAL);
	E(iommufd_emu_set_config(g.emu, 0x80000000u), EINVAL);
	E(iommufd_emu_set_config(g.emu, IOMMUFD_EMU_CONFIG_NO_IOMMUFD |
					 IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT), EINVAL);
	E(iommufd_emu_set_config(g.emu, 0), EBUSY); /* files are open */
}

static void h_iommufd_emu_get_config(void)
{
	assert_int_equal(iommufd_emu_get_config(NULL), 0);
	assert_int_equal(iommufd_emu_get_config(g.emu), 0);
}

static void h_iommufd_emu_get_fail_count(void)
{
	assert_int_equal(iommufd_emu_get_fail_count(NULL), 0);
}

static void h_iommufd_emu_add_pci_device(void)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o, .kind = IOMMUFD_EMU_DEVICE_EDU);
	char path[64];

	E(iommufd_emu_add_pci_device(NULL, &o, path, sizeof(path)), EINVAL);
	E(iommufd_emu_add_pci_device(g.emu, NULL, path, sizeof(path)), EINVAL);
	o.kind = (enum iommufd_emu_device_kind)999;
	E(iommufd_emu_add_pci_device(g.emu, &o, path, sizeof(path)), EINVAL);
	o.kind = IOMMUFD_EMU_DEVICE_EDU;
	o.flags = 0x80000000u;
	E(iommufd_emu_add_pci_device(g.emu, &o, path, sizeof(path)), EINVAL);
	o.flags = 0;
	o.group = -1;
	E(iommufd_emu_add_pci_device(g.emu, &o, path, sizeof(path)), EINVAL);
	o.group = 0;
	o.bdf = EDU_BDF; /* exists */
	E(iommufd_emu_add_pci_device(g.emu, &o, path, sizeof(path)), EEXIST);
	o.sz = 1;
	E(iommufd_emu_add_pci_device(g.emu, &o, path, sizeof(path)), EINVAL);
}

static void h_iommufd_emu_device_get_dma_faults(void)
{
	uint64_t c;

	E(iommufd_emu_device_get_dma_faults(NULL, EDU_BDF, &c, NULL), EINVAL);
	E(iommufd_emu_device_get_dma_faults(g.emu, NULL, &c, NULL), EINVAL);
	E(iommufd_emu_device_get_dma_faults(g.emu, "0000:00:1f.7", &c, NULL), ENODEV);
}

static void h_iommufd_emu_device_dma(void)
{
	char b[8];

	E(iommufd_emu_device_dma(NULL, EDU_BDF, 0, 0, b, 8, false), EINVAL);
	E(iommufd_emu_device_dma(g.emu, NULL, 0, 0, b, 8, false), EINVAL);
	E(iommufd_emu_device_dma(g.emu, EDU_BDF, 0, 0, NULL, 8, false), EINVAL);
	E(iommufd_emu_device_dma(g.emu, "0000:00:1f.7", 0, 0, b, 8, false), ENODEV);
}

static void h_iommufd_emu_device_page_fault(void)
{
	E(iommufd_emu_device_page_fault(NULL, EDU_BDF, 0, 0, 1, 0), EINVAL);
	E(iommufd_emu_device_page_fault(g.emu, NULL, 0, 0, 1, 0), EINVAL);
	E(iommufd_emu_device_page_fault(g.emu, "0000:00:1f.7", 0, 0, 1, 0), ENODEV);
}

static void h_iommufd_emu_device_vevent(void)
{
	char b[8] = { 0 };

	E(iommufd_emu_device_vevent(NULL, EDU_BDF, 1, b, 8), EINVAL);
	E(iommufd_emu_device_vevent(g.emu, NULL, 1, b, 8), EINVAL);
	E(iommufd_emu_device_vevent(g.emu, EDU_BDF, 1, NULL, 8), EINVAL);
	E(iommufd_emu_device_vevent(g.emu, EDU_BDF, 99, b, 8), EINVAL);
	E(iommufd_emu_device_vevent(g.emu, "0000:00:1f.7", IOMMUFD_VEVENTQ_SELFTEST, b, 4), ENODEV);
}

static void h_iommufd_emu_device_set_sriov_totalvfs(void)
{
	E(iommufd_emu_device_set_sriov_totalvfs(NULL, EDU_BDF, 2), EINVAL);
	E(iommufd_emu_device_set_sriov_totalvfs(g.emu, NULL, 2), EINVAL);
	E(iommufd_emu_device_set_sriov_totalvfs(g.emu, "0000:00:1f.7", 2), ENODEV);
	E(iommufd_emu_device_set_sriov_totalvfs(g.emu, EDU_BDF, 2), EINVAL); /* not a PF */
	E(iommufd_emu_device_set_sriov_totalvfs(g.emu, EDU_BDF, 0), EINVAL);
	E(iommufd_emu_device_set_sriov_totalvfs(g.emu, EDU_BDF, UINT_MAX), EINVAL);
}

/* -------------------------------------------------------------- the table */

#define CASE(name) { #name, h_##name },
static const struct hcase {
	const char *name;
	void (*fn)(void);
} cases[] = {
CASE(iommufd_version_major)
CASE(iommufd_version_minor)
CASE(iommufd_check_version)
CASE(iommufd_ctx_new)
CASE(iommufd_ctx_new_from_fd)
CASE(iommufd_ctx_new_opts)
CASE(iommufd_ctx_ref)
CASE(iommufd_ctx_unref)
CASE(iommufd_ctx_unrefp)
CASE(iommufd_ctx_get_fd)
CASE(iommufd_ctx_last_error)
CASE(iommufd_last_error)
CASE(iommufd_ctx_set_log_fn)
CASE(iommufd_ctx_get_log_priority)
CASE(iommufd_ctx_get_mode)
CASE(iommufd_ctx_get_mode_info)
CASE(iommufd_mode_name)
CASE(iommufd_ctx_set_log_priority)
CASE(iommufd_request_name)
CASE(iommufd_ctx_supports)
CASE(iommufd_ctx_supports_flags)
CASE(iommufd_ctx_ioctl)
CASE(iommufd_destroy)
CASE(iommufd_ioas_alloc)
CASE(iommufd_ioas_iova_ranges)
CASE(iommufd_ioas_allow_iovas)
CASE(iommufd_ioas_map)
CASE(iommufd_ioas_map_file)
CASE(iommufd_ioas_copy)
CASE(iommufd_ioas_unmap)
CASE(iommufd_ioas_unmap_all)
CASE(iommufd_ctx_get_rlimit_mode)
CASE(iommufd_ctx_set_rlimit_mode)
CASE(iommufd_ioas_get_huge_pages)
CASE(iommufd_ioas_set_huge_pages)
CASE(iommufd_vfio_ioas_get)
CASE(iommufd_vfio_ioas_set)
CASE(iommufd_vfio_ioas_clear)
CASE(iommufd_ioas_change_process)
CASE(iommufd_hwpt_alloc)
CASE(iommufd_get_hw_info)
CASE(iommufd_hwpt_set_dirty_tracking)
CASE(iommufd_hwpt_get_dirty_bitmap)
CASE(iommufd_bitmap_next_run)
CASE(iommufd_hwpt_invalidate)
CASE(iommufd_fault_queue_new)
CASE(iommufd_fault_queue_ref)
CASE(iommufd_fault_queue_unref)
CASE(iommufd_fault_queue_unrefp)
CASE(iommufd_fault_queue_get_id)
CASE(iommufd_fault_queue_get_fd)
CASE(iommufd_fault_queue_read)
CASE(iommufd_fault_queue_respond)
CASE(iommufd_viommu_alloc)
CASE(iommufd_vdevice_alloc)
CASE(iommufd_hw_queue_alloc)
CASE(iommufd_handover_send)
CASE(iommufd_handover_recv)
CASE(iommufd_ctx_mmap)
CASE(iommufd_ctx_munmap)
CASE(iommufd_veventq_new)
CASE(iommufd_veventq_ref)
CASE(iommufd_veventq_unref)
CASE(iommufd_veventq_unrefp)
CASE(iommufd_veventq_get_id)
CASE(iommufd_veventq_get_fd)
CASE(iommufd_veventq_read)
CASE(iommufd_device_open)
CASE(iommufd_device_open_pci)
CASE(iommufd_device_new_from_fd)
CASE(iommufd_device_adopt)
CASE(iommufd_device_ref)
CASE(iommufd_device_unref)
CASE(iommufd_device_unrefp)
CASE(iommufd_device_get_fd)
CASE(iommufd_device_bind)
CASE(iommufd_device_attach)
CASE(iommufd_device_detach)
CASE(iommufd_device_pasid_attach)
CASE(iommufd_device_pasid_detach)
CASE(iommufd_device_get_state)
CASE(iommufd_device_state_name)
CASE(iommufd_device_get_dev_id)
CASE(iommufd_device_get_pt_id)
CASE(iommufd_device_get_pasid_pt_id)
CASE(iommufd_device_get_pasids)
CASE(iommufd_device_get_ctx)
CASE(iommufd_device_is_group_path)
CASE(iommufd_pci_get_iommu_group)
CASE(iommufd_pci_sriov_get_numvfs)
CASE(iommufd_pci_sriov_set_numvfs)
CASE(iommufd_pci_sriov_get_vf)
CASE(iommufd_device_open_vf)
CASE(iommufd_group_open)
CASE(iommufd_group_open_path)
CASE(iommufd_group_ref)
CASE(iommufd_group_unref)
CASE(iommufd_group_unrefp)
CASE(iommufd_group_get_fd)
CASE(iommufd_group_set_ctx)
CASE(iommufd_group_unset_ctx)
CASE(iommufd_group_get_status)
CASE(iommufd_group_get_device)
CASE(iommufd_device_get_hw_info)
CASE(iommufd_device_hwpt_alloc)
CASE(iommufd_device_viommu_alloc)
CASE(iommufd_device_get_info)
CASE(iommufd_device_get_region_info)
CASE(iommufd_device_region_read)
CASE(iommufd_device_region_write)
CASE(iommufd_device_region_mmap)
CASE(iommufd_device_region_munmap)
CASE(iommufd_device_config_read)
CASE(iommufd_device_config_write)
CASE(iommufd_device_reset)
CASE(iommufd_device_get_irq_info)
CASE(iommufd_device_set_irqs)
CASE(iommufd_device_disable_irqs)
CASE(iommufd_device_ioctl)
CASE(iommufd_device_irq_mask)
CASE(iommufd_device_irq_unmask)
CASE(iommufd_device_irq_trigger)
CASE(iommufd_device_get_region_caps)
CASE(iommufd_device_feature)
CASE(iommufd_bar_dmabuf_export)
CASE(iommufd_bar_dmabuf_free)
CASE(iommufd_bar_dmabuf_get_fd)
CASE(iommufd_bar_dmabuf_get_size)
CASE(iommufd_bar_dmabuf_map)
CASE(iommufd_bar_dmabuf_unmap)
CASE(iommufd_bar_dmabuf_get_state)
CASE(iommufd_bar_dmabuf_remap)
CASE(iommufd_device_feature_probe)
CASE(iommufd_device_get_hot_reset_info)
CASE(iommufd_device_get_mig_data_size)
CASE(iommufd_device_get_mig_state)
CASE(iommufd_device_get_migration)
CASE(iommufd_device_hot_reset)
CASE(iommufd_device_low_power_enter)
CASE(iommufd_device_low_power_exit)
CASE(iommufd_device_reset_auto)
CASE(iommufd_device_set_bus_master)
CASE(iommufd_device_set_mig_state)
CASE(iommufd_device_set_vf_token)
CASE(iommufd_device_dma_log_start)
CASE(iommufd_device_dma_log_stop)
CASE(iommufd_device_dma_log_report)
CASE(iommufd_device_enable_precopy_info_v2)
CASE(iommufd_device_mig_data_read)
CASE(iommufd_device_mig_data_write)
CASE(iommufd_device_mig_data_close)
CASE(iommufd_device_mig_precopy_info)
CASE(iommufd_mig_state_name)
CASE(iommufd_dma_new)
CASE(iommufd_dma_ref)
CASE(iommufd_dma_unref)
CASE(iommufd_dma_refresh_ranges)
CASE(iommufd_dma_iova_alloc)
CASE(iommufd_dma_iova_free)
CASE(iommufd_dma_register)
CASE(iommufd_dma_unregister)
CASE(iommufd_dma_pin)
CASE(iommufd_dma_unpin)
CASE(iommufd_dma_translate)
CASE(iommufd_dma_translate_iov)
CASE(iommufd_dma_buf_alloc)
CASE(iommufd_dma_buf_free)
CASE(iommufd_dma_buf_get_va)
CASE(iommufd_dma_buf_get_iova)
CASE(iommufd_dma_buf_get_size)
CASE(iommufd_dma_buf_get_backing)
CASE(iommufd_dma_buf_get_fd)
CASE(iommufd_dma_buf_pin)
CASE(iommufd_dma_buf_unpin)
CASE(iommufd_emu_new)
CASE(iommufd_emu_ref)
CASE(iommufd_emu_unref)
CASE(iommufd_emu_get_backend)
CASE(iommufd_emu_ctx_new)
CASE(iommufd_emu_last_error)
CASE(iommufd_emu_set_fail_nth)
CASE(iommufd_emu_set_config)
CASE(iommufd_emu_get_config)
CASE(iommufd_emu_get_fail_count)
CASE(iommufd_emu_add_pci_device)
CASE(iommufd_emu_device_get_dma_faults)
CASE(iommufd_emu_device_dma)
CASE(iommufd_emu_device_page_fault)
CASE(iommufd_emu_device_vevent)
CASE(iommufd_emu_device_set_sriov_totalvfs)
};

static const char *const exports[] = {
#define EXPORT(name) #name,
#include "exports.h"
#undef EXPORT
};

static const struct hcase *case_of(const char *name)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	return NULL;
}

static bool exported(const char *name)
{
	for (size_t i = 0; i < sizeof(exports) / sizeof(exports[0]); i++)
		if (!strcmp(exports[i], name))
			return true;
	return false;
}

static int env_setup(void **state)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, edu, .kind = IOMMUFD_EMU_DEVICE_EDU,
		     .bdf = EDU_BDF);
	char path[64];

	(void)state;
	test_backend_get();
	g.emu = test_emu();
	assert_non_null(g.emu);
	assert_ok(iommufd_emu_add_pci_device(g.emu, &edu, path, sizeof(path)));
	g.scope = test_scope();
	g.ctx = test_ctx_new();
	assert_ok(iommufd_ioas_alloc(g.ctx, &g.ioas));
	assert_ok(iommufd_device_open_pci(g.scope, EDU_BDF, &g.dev));
	return 0;
}

static int env_teardown(void **state)
{
	(void)state;
	iommufd_device_unref(g.dev);
	iommufd_ctx_unref(g.ctx);
	test_backend_put();
	return 0;
}

/* every export has a case, every case an export */
static void test_coverage(void **state)
{
	size_t missing = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(exports) / sizeof(exports[0]); i++) {
		if (!case_of(exports[i])) {
			print_error("%s is exported but has no hostile-argument case\n", exports[i]);
			missing++;
		}
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!exported(cases[i].name)) {
			print_error("%s has a case but is not exported\n", cases[i].name);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(exports) / sizeof(exports[0]); i++) {
		const struct hcase *c = case_of(exports[i]);

		if (!c)
			continue;
		c->fn();
	}
	assert_int_equal(mismatches, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coverage),
		cmocka_unit_test_setup_teardown(test_cases, env_setup, env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
