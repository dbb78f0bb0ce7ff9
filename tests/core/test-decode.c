// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library's decoding against a scripted kernel (a fake backend below the
 * boundary that plays back chosen answers and records the requests): cases
 * neither the kernel's mock nor the emulator can produce on demand, such as
 * vendor hw_info of real IOMMUs, vEVENT sequence wrap at INT_MAX, IOVA ranges
 * that change between calls, ENOTTY/EOPNOTSUPP from an older kernel.
 * Host only (it does not talk to a kernel).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "shared/backend.h"
#include "shared/abi.h"

/* ------------------------------------------------------------ the fake kernel */

#define FAKE_FD 7
#define QUEUE_FD 8

static struct {
	/* reads: chunks handed out one per read() */
	unsigned char chunk[8][256];
	size_t chunk_len[8];
	int nr_chunks, next_chunk;
	/* last write */
	unsigned char written[64];
	size_t written_len;
	/* ioctl answers */
	int iova_ranges_calls;
	uint32_t iova_ranges_total[4]; /* total ranges reported on call i */
	struct kabi_hw_info hw_info_req;
	uint32_t hw_info_type;
	unsigned char hw_info_data[256];
	uint32_t hw_info_len;
	uint32_t unknown_nr; /* this request number answers ENOTTY */
	bool flags_unsupported; /* any non-zero flags: EOPNOTSUPP */
	unsigned long last_req;
	unsigned char last_arg[64];
	int closed;
} fk;

static int f_open(struct iommufd_backend *be, const char *path, int flags)
{
	(void)be;
	(void)path;
	(void)flags;
	return FAKE_FD;
}

static int f_close(struct iommufd_backend *be, int fd)
{
	(void)be;
	(void)fd;
	fk.closed++;
	return 0;
}

static int f_ioctl(struct iommufd_backend *be, int fd, unsigned long req, void *arg)
{
	uint32_t size;

	(void)be;
	if (fd != FAKE_FD)
		return -EBADF;
	fk.last_req = req;
	memcpy(&size, arg, sizeof(size));
	memcpy(fk.last_arg, arg, size < sizeof(fk.last_arg) ? size : sizeof(fk.last_arg));
	if ((req & 0xff) == fk.unknown_nr)
		return -ENOTTY;
	if (size == 0)
		return -EINVAL; /* below every minimum */

	switch (req) {
	case KABI_IOMMU_DESTROY:
		return -ENOENT;
	case KABI_IOMMU_IOAS_IOVA_RANGES: {
		struct kabi_ioas_iova_ranges *c = arg;
		struct kabi_iova_range *r = (void *)(uintptr_t)c->allowed_iovas;
		uint32_t total = fk.iova_ranges_total[fk.iova_ranges_calls++];

		for (uint32_t i = 0; i < total && i < c->num_iovas; i++) {
			r[i].start = i * 0x10000ull;
			r[i].last = i * 0x10000ull + 0xfff;
		}
		c->out_iova_alignment = 0x1000;
		if (total > c->num_iovas) {
			c->num_iovas = total;
			return -EMSGSIZE;
		}
		c->num_iovas = total;
		return 0;
	}
	case KABI_IOMMU_GET_HW_INFO: {
		struct kabi_hw_info *c = arg;

		fk.hw_info_req = *c;
		memcpy((void *)(uintptr_t)c->data_uptr, fk.hw_info_data,
		       c->data_len < fk.hw_info_len ? c->data_len : fk.hw_info_len);
		c->data_len = fk.hw_info_len;
		c->data_type = fk.hw_info_type;
		c->out_max_pasid_log2 = 16;
		c->out_capabilities = KABI_HW_CAP_PCI_PASID_EXEC | KABI_HW_CAP_DIRTY_TRACKING;
		return 0;
	}
	case KABI_IOMMU_HWPT_INVALIDATE: {
		struct kabi_hwpt_invalidate *c = arg;

		c->entry_num = 2; /* two done, then the third failed */
		return -EINVAL;
	}
	case KABI_IOMMU_FAULT_QUEUE_ALLOC: {
		struct kabi_fault_alloc *c = arg;

		c->out_fault_id = 5;
		c->out_fault_fd = QUEUE_FD;
		return 0;
	}
	case KABI_IOMMU_VEVENTQ_ALLOC: {
		struct kabi_veventq_alloc *c = arg;

		c->out_veventq_id = 6;
		c->out_veventq_fd = QUEUE_FD;
		return 0;
	}
	case KABI_IOMMU_IOAS_MAP: {
		struct kabi_ioas_map *c = arg;

		if (fk.flags_unsupported && c->flags)
			return -EOPNOTSUPP;
		return c->iova == UINT64_MAX ? -EOVERFLOW : 0;
	}
	case KABI_IOMMU_HWPT_GET_DIRTY_BITMAP: {
		struct kabi_hwpt_get_dirty_bitmap *c = arg;

		if (fk.flags_unsupported && c->flags)
			return -EOPNOTSUPP;
		return -ENOENT;
	}
	default:
		return -ENOTTY;
	}
}

static ssize_t f_read(struct iommufd_backend *be, int fd, void *buf, size_t len)
{
	size_t n;

	(void)be;
	if (fd != QUEUE_FD)
		return -EBADF;
	if (fk.next_chunk >= fk.nr_chunks)
		return 0;
	n = fk.chunk_len[fk.next_chunk];
	assert_true(n <= len);
	memcpy(buf, fk.chunk[fk.next_chunk++], n);
	return (ssize_t)n;
}

static ssize_t f_write(struct iommufd_backend *be, int fd, const void *buf, size_t len)
{
	(void)be;
	if (fd != QUEUE_FD)
		return -EBADF;
	memcpy(fk.written, buf, len < sizeof(fk.written) ? len : sizeof(fk.written));
	fk.written_len = len;
	return (ssize_t)len;
}

static const struct backend_ops fake_ops = {
	.open = f_open,
	.close = f_close,
	.ioctl = f_ioctl,
	.read = f_read,
	.write = f_write,
};

static struct iommufd_backend fake_be = { .abi = IFD_BACKEND_ABI, .ops = &fake_ops };

static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	return 0;
}

static struct iommufd_ctx *fake_ctx(void)
{
	struct iommufd_ctx *ctx = NULL;

	IOMMUFD_OPTS(struct iommufd_ctx_opts, opts, .backend = &fake_be);

	assert_ok(iommufd_ctx_new_opts(&opts, &ctx));
	assert_int_equal(iommufd_ctx_get_fd(ctx), FAKE_FD);
	return ctx;
}

/* append a chunk of vEVENT records: {flags, seq} + payload (4 bytes: seq * 10) */
struct rec {
	uint32_t flags, seq;
};

static void chunk(const struct rec *r, int n)
{
	unsigned char *p = fk.chunk[fk.nr_chunks];
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		struct kabi_vevent_header h = { .flags = r[i].flags, .sequence = r[i].seq };
		uint32_t payload = r[i].seq * 10;

		memcpy(p + len, &h, sizeof(h));
		len += sizeof(h);
		if (!(r[i].flags & KABI_VEVENTQ_FLAG_LOST_EVENTS)) {
			memcpy(p + len, &payload, sizeof(payload));
			len += sizeof(payload);
		}
	}
	fk.chunk_len[fk.nr_chunks++] = len;
}

static void expect_event(struct iommufd_veventq *q, uint32_t seq, uint32_t lost, bool data)
{
	struct iommufd_vevent ev;
	uint32_t payload;

	assert_int_equal(iommufd_veventq_read(q, &ev), 1);
	assert_int_equal(ev.sequence, seq);
	assert_int_equal(ev.lost, lost);
	if (data) {
		assert_int_equal(ev.data_len, 4);
		memcpy(&payload, ev.data, 4);
		assert_int_equal(payload, seq * 10);
	} else {
		assert_int_equal(ev.data_len, 0);
	}
}

/* ------------------------------------------------------------ tests */

static void test_veventq_lost(void **state)
{
	struct iommufd_ctx *ctx = fake_ctx();
	struct iommufd_veventq *q = NULL;
	struct iommufd_vevent ev;
	const uint32_t L = KABI_VEVENTQ_FLAG_LOST_EVENTS;

	(void)state;
	/* a gap in the sequence (2, 3 missing) */
	chunk((struct rec[]){ { 0, 0 }, { 0, 1 }, { 0, 4 } }, 3);
	/* a LOST_EVENTS record (5..7 lost) followed by an event */
	chunk((struct rec[]){ { L, 7 }, { 0, 8 } }, 2);
	/* a LOST_EVENTS record at the end of one read, the event in the next */
	chunk((struct rec[]){ { 0, 9 }, { L, 11 } }, 2);
	chunk((struct rec[]){ { 0, 12 } }, 1);
	/* a jump near INT_MAX, then the wrap to 0 without loss, then across it with loss */
	chunk((struct rec[]){ { 0, INT_MAX - 1 }, { 0, INT_MAX }, { 0, 0 } }, 3);
	chunk((struct rec[]){ { 0, INT_MAX } }, 1);
	chunk((struct rec[]){ { 0, 1 } }, 1);
	/* a trailing LOST_EVENTS record (2..4 lost), then nothing */
	chunk((struct rec[]){ { L, 4 } }, 1);

	assert_ok(iommufd_veventq_new(ctx, 1, IOMMUFD_VEVENTQ_SELFTEST, 4, NULL, &q));
	assert_int_equal(iommufd_veventq_get_id(q), 6);
	assert_int_equal(iommufd_veventq_get_fd(q), QUEUE_FD);
	expect_event(q, 0, 0, true);
	expect_event(q, 1, 0, true);
	expect_event(q, 4, 2, true);
	expect_event(q, 8, 3, true);
	expect_event(q, 9, 0, true);
	expect_event(q, 12, 2, true);
	expect_event(q, INT_MAX - 1, (uint32_t)(INT_MAX - 1 - 13), true);
	expect_event(q, INT_MAX, 0, true);
	expect_event(q, 0, 0, true);
	/* from 1 expected to INT_MAX: INT_MAX - 1 lost; then 0 lost across the wrap */
	expect_event(q, INT_MAX, INT_MAX - 1, true);
	expect_event(q, 1, 1, true);
	expect_event(q, 4, 3, false);
	assert_int_equal(iommufd_veventq_read(q, &ev), 0);
	assert_int_equal(iommufd_veventq_read(q, &ev), 0);

	/* a truncated record: EIO, and the reason says so */
	fk.nr_chunks = fk.next_chunk = 0;
	chunk((struct rec[]){ { 0, 5 } }, 1);
	fk.chunk_len[0] -= 2;
	assert_errno(iommufd_veventq_read(q, &ev), EIO);
	assert_non_null(strstr(iommufd_last_error(), "truncated"));
	/* the undecodable rest was dropped: the next read gets the next event (5 counted lost) */
	chunk((struct rec[]){ { 0, 6 } }, 1);
	expect_event(q, 6, 1, true);
	assert_int_equal(iommufd_veventq_read(q, &ev), 0);
	/* a truncated header likewise */
	chunk((struct rec[]){ { 0, 7 } }, 1);
	fk.chunk_len[fk.nr_chunks - 1] = 3;
	assert_errno(iommufd_veventq_read(q, &ev), EIO);
	chunk((struct rec[]){ { 0, 8 } }, 1);
	expect_event(q, 8, 1, true);

	fk.closed = 0;
	iommufd_veventq_unref(q);
	assert_int_equal(fk.closed, 1); /* the queue fd */
	assert_int_equal(fk.last_req, KABI_IOMMU_DESTROY);
	iommufd_ctx_unref(ctx);
}

static void test_iova_ranges_grow(void **state)
{
	struct iommufd_ctx *ctx = fake_ctx();
	struct iommufd_iova_range *r = NULL;
	uint64_t align = 0;
	size_t nr = 0;

	(void)state;
	/* 10 ranges, then 20 by the time the bigger buffer comes, then stable */
	fk.iova_ranges_total[0] = 10;
	fk.iova_ranges_total[1] = 20;
	fk.iova_ranges_total[2] = 20;
	assert_ok(iommufd_ioas_iova_ranges(ctx, 1, &r, &nr, &align));
	assert_int_equal(fk.iova_ranges_calls, 3);
	assert_int_equal(nr, 20);
	assert_int_equal(align, 0x1000);
	for (size_t i = 0; i < nr; i++) {
		assert_int_equal(r[i].start, i * 0x10000);
		assert_int_equal(r[i].last, i * 0x10000 + 0xfff);
	}
	free(r);
	/* no range at all */
	fk.iova_ranges_calls = 0;
	fk.iova_ranges_total[0] = 0;
	assert_ok(iommufd_ioas_iova_ranges(ctx, 1, &r, &nr, NULL));
	assert_int_equal(nr, 0);
	free(r);
	iommufd_ctx_unref(ctx);
}

static void test_hw_info_vendors(void **state)
{
	struct iommufd_ctx *ctx = fake_ctx();
	IOMMUFD_OPTS(struct iommufd_hw_info, info);

	(void)state;
	{
		struct kabi_hw_info_vtd v = { .flags = 1, .cap_reg = 0x1122334455667788ull,
					      .ecap_reg = 0x99aabbccddeeff00ull };
		fk.hw_info_type = KABI_HW_INFO_TYPE_INTEL_VTD;
		memcpy(fk.hw_info_data, &v, sizeof(v));
		fk.hw_info_len = sizeof(v);
		assert_ok(iommufd_get_hw_info(ctx, 3, IOMMUFD_HW_INFO_NONE, &info));
		/* the request: no INPUT_TYPE, device 3, our whole buffer */
		assert_int_equal(fk.hw_info_req.flags, 0);
		assert_int_equal(fk.hw_info_req.dev_id, 3);
		assert_int_equal(fk.hw_info_req.data_len, sizeof(info.data.raw));
		assert_int_equal(info.type, IOMMUFD_HW_INFO_INTEL_VTD);
		assert_int_equal(info.data_len, sizeof(v));
		assert_int_equal(info.max_pasid_log2, 16);
		assert_int_equal(info.capabilities,
				 IOMMUFD_HW_CAP_PCI_PASID_EXEC | IOMMUFD_HW_CAP_DIRTY_TRACKING);
		assert_int_equal(info.data.vtd.flags, 1);
		assert_int_equal(info.data.vtd.cap_reg, 0x1122334455667788ull);
		assert_int_equal(info.data.vtd.ecap_reg, 0x99aabbccddeeff00ull);
	}
	{
		struct kabi_hw_info_arm_smmuv3 v = { .flags = 2, .idr = { 10, 11, 12, 13, 14, 15 },
						     .iidr = 16, .aidr = 17 };
		fk.hw_info_type = KABI_HW_INFO_TYPE_ARM_SMMUV3;
		memcpy(fk.hw_info_data, &v, sizeof(v));
		fk.hw_info_len = sizeof(v);
		assert_ok(iommufd_get_hw_info(ctx, 3, IOMMUFD_HW_INFO_ARM_SMMUV3, &info));
		assert_int_equal(fk.hw_info_req.flags, KABI_HW_INFO_FLAG_INPUT_TYPE);
		assert_int_equal(fk.hw_info_req.data_type, KABI_HW_INFO_TYPE_ARM_SMMUV3);
		assert_int_equal(info.type, IOMMUFD_HW_INFO_ARM_SMMUV3);
		assert_int_equal(info.data.smmuv3.flags, 2);
		for (int i = 0; i < 6; i++)
			assert_int_equal(info.data.smmuv3.idr[i], 10 + i);
		assert_int_equal(info.data.smmuv3.iidr, 16);
		assert_int_equal(info.data.smmuv3.aidr, 17);
	}
	{
		struct kabi_hw_info_tegra241_cmdqv v = { .flags = 3, .version = 4, .log2vcmdqs = 5,
							 .log2vsids = 6 };
		fk.hw_info_type = KABI_HW_INFO_TYPE_TEGRA241_CMDQV;
		memcpy(fk.hw_info_data, &v, sizeof(v));
		fk.hw_info_len = sizeof(v);
		assert_ok(iommufd_get_hw_info(ctx, 3, IOMMUFD_HW_INFO_TEGRA241_CMDQV, &info));
		assert_int_equal(info.type, IOMMUFD_HW_INFO_TEGRA241_CMDQV);
		assert_int_equal(info.data.tegra241_cmdqv.flags, 3);
		assert_int_equal(info.data.tegra241_cmdqv.version, 4);
		assert_int_equal(info.data.tegra241_cmdqv.log2vcmdqs, 5);
		assert_int_equal(info.data.tegra241_cmdqv.log2vsids, 6);
	}
	{
		struct kabi_hw_info_amd v = { .efr = 0xabcdef, .efr2 = 0x123456 };
		fk.hw_info_type = KABI_HW_INFO_TYPE_AMD;
		memcpy(fk.hw_info_data, &v, sizeof(v));
		fk.hw_info_len = sizeof(v);
		assert_ok(iommufd_get_hw_info(ctx, 3, IOMMUFD_HW_INFO_NONE, &info));
		assert_int_equal(info.type, IOMMUFD_HW_INFO_AMD);
		assert_int_equal(info.data.amd.efr, 0xabcdef);
		assert_int_equal(info.data.amd.efr2, 0x123456);
	}
	{
		/* an unknown vendor: raw bytes only; more data than we hold: the true length */
		fk.hw_info_type = 77;
		memset(fk.hw_info_data, 0x42, sizeof(fk.hw_info_data));
		fk.hw_info_len = 200;
		_Static_assert(sizeof(info.data.raw) < 200, "more than the library holds");
		assert_ok(iommufd_get_hw_info(ctx, 3, IOMMUFD_HW_INFO_NONE, &info));
		assert_int_equal(info.type, 77);
		assert_int_equal(info.data_len, 200);
		assert_int_equal(info.data.raw[0], 0x42);
		assert_int_equal(info.data.raw[sizeof(info.data.raw) - 1], 0x42);
	}
	iommufd_ctx_unref(ctx);
}

static void test_fault_decode(void **state)
{
	struct iommufd_ctx *ctx = fake_ctx();
	struct iommufd_fault_queue *q = NULL;
	struct kabi_hwpt_pgfault rec[2] = {
		{ .flags = KABI_PGFAULT_FLAGS_PASID_VALID, .dev_id = 3, .pasid = 9, .grpid = 1,
		  .perm = KABI_PGFAULT_PERM_EXEC, .addr = 0x1000, .length = 0, .cookie = 4 },
		{ .flags = KABI_PGFAULT_FLAGS_PASID_VALID | KABI_PGFAULT_FLAGS_LAST_PAGE,
		  .dev_id = 3, .pasid = 9, .grpid = 1, .perm = KABI_PGFAULT_PERM_PRIV,
		  .addr = 0x2000, .length = 0, .cookie = 4 },
	};
	struct iommufd_fault f[4];
	struct kabi_hwpt_page_response resp;

	(void)state;
	memcpy(fk.chunk[0], rec, sizeof(rec));
	fk.chunk_len[0] = sizeof(rec);
	fk.nr_chunks = 1;
	assert_ok(iommufd_fault_queue_new(ctx, &q));
	assert_int_equal(iommufd_fault_queue_get_id(q), 5);
	assert_int_equal(iommufd_fault_queue_read(q, f, 4), 2);
	assert_int_equal(f[0].flags, IOMMUFD_FAULT_PASID_VALID);
	assert_int_equal(f[0].pasid, 9);
	assert_int_equal(f[0].perm, IOMMUFD_FAULT_PERM_EXEC);
	assert_int_equal(f[0].addr, 0x1000);
	assert_int_equal(f[1].flags, IOMMUFD_FAULT_PASID_VALID | IOMMUFD_FAULT_LAST_PAGE);
	assert_int_equal(f[1].perm, IOMMUFD_FAULT_PERM_PRIV);
	assert_int_equal(f[1].addr, 0x2000);
	assert_int_equal(f[1].cookie, 4);
	assert_int_equal(iommufd_fault_queue_read(q, f, 4), 0);
	/* a response is one 8-byte record */
	assert_ok(iommufd_fault_queue_respond(q, 4, IOMMUFD_FAULT_RESPONSE_INVALID));
	assert_int_equal(fk.written_len, sizeof(resp));
	memcpy(&resp, fk.written, sizeof(resp));
	assert_int_equal(resp.cookie, 4);
	assert_int_equal(resp.code, KABI_PAGE_RESP_INVALID);
	/* a partial record from the kernel: EIO */
	memcpy(fk.chunk[1], rec, 30);
	fk.chunk_len[1] = 30;
	fk.nr_chunks = 2;
	assert_errno(iommufd_fault_queue_read(q, f, 4), EIO);
	iommufd_fault_queue_unref(q);
	iommufd_ctx_unref(ctx);
}

static void test_probe_old_kernel(void **state)
{
	struct iommufd_ctx *ctx = fake_ctx();
	struct kabi_ioas_map sent;

	(void)state;
	fk.unknown_nr = KABI_CMD_HW_QUEUE_ALLOC;
	assert_int_equal(iommufd_ctx_supports(ctx, IOMMUFD_REQ_HW_QUEUE_ALLOC), 0);
	assert_int_equal(iommufd_ctx_supports(ctx, IOMMUFD_REQ_IOAS_MAP), 1);
	/* the probe sends size 0 */
	memcpy(&sent, fk.last_arg, sizeof(uint32_t));
	assert_int_equal(sent.size, 0);
	/* no flags: the request itself */
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP, 0), 1);

	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP,
						    IOMMUFD_MAP_READ | IOMMUFD_MAP_FIXED_IOVA), 1);
	memcpy(&sent, fk.last_arg, sizeof(sent));
	assert_int_equal(sent.flags, IOMMUFD_MAP_READ | IOMMUFD_MAP_FIXED_IOVA);
	assert_int_equal(sent.iova, UINT64_MAX);
	assert_int_equal(sent.ioas_id, 0);
	fk.flags_unsupported = true;
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP, IOMMUFD_MAP_READ), 0);
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP,
						    IOMMUFD_DIRTY_NO_CLEAR), 0);
	/* a request the kernel does not know: its flags are not supported either */
	fk.unknown_nr = KABI_CMD_IOAS_MAP_FILE;
	assert_int_equal(iommufd_ctx_supports_flags(ctx, IOMMUFD_REQ_IOAS_MAP_FILE,
						    IOMMUFD_MAP_READ), 0);
	iommufd_ctx_unref(ctx);
}

static void test_invalidate_count(void **state)
{
	struct iommufd_ctx *ctx = fake_ctx();
	uint64_t entries[3] = { 0 };
	uint32_t n = 3;

	(void)state;
	assert_errno(iommufd_hwpt_invalidate(ctx, 4, IOMMUFD_INVALIDATE_SELFTEST, entries, 8, &n),
		     EINVAL);
	assert_int_equal(n, 2);
	assert_non_null(strstr(iommufd_ctx_last_error(ctx), "2 done"));
	/* an older kernel without the request: ENOTTY, and none was handled */
	fk.unknown_nr = KABI_CMD_HWPT_INVALIDATE;
	n = 3;
	assert_errno(iommufd_hwpt_invalidate(ctx, 4, IOMMUFD_INVALIDATE_SELFTEST, entries, 8, &n),
		     ENOTTY);
	assert_int_equal(n, 0);
	iommufd_ctx_unref(ctx);
}

/* the queue handles are refcounted: only the last unref closes and destroys */
static void test_queue_refs(void **state)
{
	struct iommufd_ctx *ctx = fake_ctx();
	struct iommufd_fault_queue *fq = NULL;
	struct iommufd_veventq *vq = NULL;

	(void)state;
	assert_ok(iommufd_fault_queue_new(ctx, &fq));
	assert_ptr_equal(iommufd_fault_queue_ref(fq), fq);
	assert_null(iommufd_fault_queue_ref(NULL));
	assert_null(iommufd_fault_queue_unref(fq));
	assert_int_equal(fk.closed, 0);
	assert_int_equal(iommufd_fault_queue_get_id(fq), 5); /* still usable */
	assert_int_equal(iommufd_fault_queue_get_fd(fq), QUEUE_FD);
	fk.last_req = 0;
	assert_null(iommufd_fault_queue_unref(fq));
	assert_int_equal(fk.closed, 1);
	assert_int_equal(fk.last_req, KABI_IOMMU_DESTROY);

	assert_ok(iommufd_veventq_new(ctx, 1, IOMMUFD_VEVENTQ_SELFTEST, 4, NULL, &vq));
	assert_ptr_equal(iommufd_veventq_ref(vq), vq);
	assert_null(iommufd_veventq_ref(NULL));
	assert_null(iommufd_veventq_unref(vq));
	assert_int_equal(fk.closed, 1);
	assert_int_equal(iommufd_veventq_get_id(vq), 6);
	fk.last_req = 0;
	assert_null(iommufd_veventq_unref(vq));
	assert_int_equal(fk.closed, 2);
	assert_int_equal(fk.last_req, KABI_IOMMU_DESTROY);
	/* the context is released last: its fd */
	iommufd_ctx_unref(ctx);
	assert_int_equal(fk.closed, 3);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_veventq_lost),
		T(test_iova_ranges_grow),
		T(test_hw_info_vendors),
		T(test_fault_decode),
		T(test_probe_old_kernel),
		T(test_invalidate_count),
		T(test_queue_refs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
