// SPDX-License-Identifier: LGPL-2.1-or-later
/* vIOMMU, vDEVICE, HW queue and the vEVENT queue with its fd protocol. */
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "core.h"

/* no flags of these requests are defined by the kernel yet */
#define VIOMMU_FLAGS 0u
#define HW_QUEUE_FLAGS 0u
#define VEVENTQ_FLAGS 0u

int ifd_viommu_alloc(struct iommufd_ctx *ctx, const char *func, uint32_t dev_id, uint32_t hwpt_id,
		     uint32_t type, const struct iommufd_viommu_alloc_opts *opts, uint32_t *viommu_id)
{
	struct iommufd_viommu_alloc_opts o;
	struct kabi_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = hwpt_id,
	};
	char note[IFD_FLAGS_NOTE_MAX];
	int r;

	if (!viommu_id)
		return ifd_fail(ctx, func, EINVAL, "viommu_id is NULL");
	r = ifd_ext_copy_in(&o, sizeof(o), opts, sizeof(size_t));
	if (r)
		return ifd_fail(ctx, func, r, "bad opts (sz %zu, dev %u, hwpt %u)",
				opts ? opts->sz : 0, dev_id, hwpt_id);
	if (o.data_len && !o.data)
		return ifd_fail(ctx, func, EINVAL, "data is NULL with data_len %u (dev %u, hwpt %u)",
				o.data_len, dev_id, hwpt_id);
	cmd.flags = o.flags;
	cmd.data_len = o.data_len;
	cmd.data_uptr = U64_PTR(o.data);
	r = ifd_ioctl(ctx, KABI_IOMMU_VIOMMU_ALLOC, &cmd);
	if (r < 0)
		return ifd_fail(ctx, func, r,
				"IOMMU_VIOMMU_ALLOC (dev %u, hwpt %u, type 0x%x, flags 0x%x, data len %u%s)",
				dev_id, hwpt_id, type, o.flags, o.data_len,
				ifd_flags_note(note, o.flags, VIOMMU_FLAGS));
	*viommu_id = cmd.out_viommu_id;
	return 0;
}

IOMMUFD_EXPORT int iommufd_viommu_alloc(struct iommufd_ctx *ctx, uint32_t dev_id, uint32_t hwpt_id,
					uint32_t type, const struct iommufd_viommu_alloc_opts *opts,
					uint32_t *viommu_id)
{
	CHECK_CTX(ctx);
	return ifd_viommu_alloc(ctx, __func__, dev_id, hwpt_id, type, opts, viommu_id);
}

IOMMUFD_EXPORT int iommufd_vdevice_alloc(struct iommufd_ctx *ctx, uint32_t viommu_id, uint32_t dev_id,
					 uint64_t virt_id, uint32_t *vdevice_id)
{
	struct kabi_vdevice_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, vdevice_id);
	r = ifd_ioctl(ctx, KABI_IOMMU_VDEVICE_ALLOC, &cmd);
	if (r < 0)
		return FAIL(ctx, r, "IOMMU_VDEVICE_ALLOC (viommu %u, dev %u, virt id 0x%llx)",
			    viommu_id, dev_id, (unsigned long long)virt_id);
	*vdevice_id = cmd.out_vdevice_id;
	return 0;
}

IOMMUFD_EXPORT int iommufd_hw_queue_alloc(struct iommufd_ctx *ctx, uint32_t viommu_id, uint32_t type,
					  uint32_t index, uint64_t iova, uint64_t length,
					  const struct iommufd_hw_queue_alloc_opts *opts,
					  uint32_t *hw_queue_id)
{
	struct iommufd_hw_queue_alloc_opts o;
	char note[IFD_FLAGS_NOTE_MAX];
	struct kabi_hw_queue_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.index = index,
		.nesting_parent_iova = iova,
		.length = length,
	};
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, hw_queue_id);
	r = ifd_ext_copy_in(&o, sizeof(o), opts, sizeof(size_t));
	if (r)
		return FAIL(ctx, r, "bad opts (sz %zu, viommu %u)", opts ? opts->sz : 0, viommu_id);
	cmd.flags = o.flags;
	r = ifd_ioctl(ctx, KABI_IOMMU_HW_QUEUE_ALLOC, &cmd);
	if (r < 0)
		return FAIL(ctx, r,
			    "IOMMU_HW_QUEUE_ALLOC (viommu %u, type 0x%x, index %u, iova 0x%llx, length 0x%llx, flags 0x%x%s)",
			    viommu_id, type, index, (unsigned long long)iova,
			    (unsigned long long)length, o.flags,
			    ifd_flags_note(note, o.flags, HW_QUEUE_FLAGS));
	*hw_queue_id = cmd.out_hw_queue_id;
	return 0;
}

/* ------------------------------------------------------------ vEVENT queue */

#define VEVENTQ_BUF 4096

struct iommufd_veventq {
	struct ifd_queue q;  /* ctx, id, fd, refcount */
	uint32_t type;
	size_t payload;      /* bytes of data after each event header */
	uint32_t next_seq;   /* the sequence number expected next */
	uint32_t lost;       /* lost events not yet reported */
	uint32_t lost_seq;   /* sequence of the last LOST_EVENTS record */
	size_t pos, end;     /* unread bytes of buf */
	unsigned char buf[VEVENTQ_BUF];
};

/* payload size of each event of a queue type; 0: unknown type */
static size_t vevent_payload(uint32_t type)
{
	switch (type) {
	case IOMMUFD_VEVENTQ_ARM_SMMUV3:
		return sizeof(struct kabi_vevent_arm_smmuv3);
	case IOMMUFD_VEVENTQ_TEGRA241_CMDQV:
		return sizeof(struct kabi_vevent_tegra241_cmdqv);
	case KABI_VEVENTQ_TYPE_SELFTEST:
		return sizeof(uint32_t); /* the mock's {u32 virt_id} */
	default:
		return 0;
	}
}

IOMMUFD_EXPORT int iommufd_veventq_new(struct iommufd_ctx *ctx, uint32_t viommu_id, uint32_t type,
				       uint32_t depth, const struct iommufd_veventq_opts *opts,
				       struct iommufd_veventq **ret)
{
	struct iommufd_veventq_opts o;
	char note[IFD_FLAGS_NOTE_MAX];
	struct kabi_veventq_alloc cmd = {
		.size = sizeof(cmd),
		.viommu_id = viommu_id,
		.type = type,
		.veventq_depth = depth,
	};
	struct iommufd_veventq *q;
	struct ifd_queue *base;
	size_t payload;
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, ret);
	r = ifd_ext_copy_in(&o, sizeof(o), opts, sizeof(size_t));
	if (r)
		return FAIL(ctx, r, "bad opts (sz %zu, viommu %u)", opts ? opts->sz : 0, viommu_id);
	cmd.flags = o.flags;
	payload = vevent_payload(type);
	if (!payload)
		return FAIL(ctx, EINVAL, "unknown vEVENT queue type 0x%x (viommu %u)", type, viommu_id);
	r = ifd_queue_new(ctx, sizeof(*q), KABI_IOMMU_VEVENTQ_ALLOC, &cmd, &cmd.out_veventq_id,
			  &cmd.out_veventq_fd, &base);
	if (r < 0)
		return FAIL(ctx, r, "IOMMU_VEVENTQ_ALLOC (viommu %u, type 0x%x, depth %u, flags 0x%x%s)",
			    viommu_id, type, depth, o.flags,
			    ifd_flags_note(note, o.flags, VEVENTQ_FLAGS));
	q = (struct iommufd_veventq *)base;
	q->type = type;
	q->payload = payload;
	*ret = q;
	return 0;
}

IOMMUFD_EXPORT struct iommufd_veventq *iommufd_veventq_ref(struct iommufd_veventq *q)
{
	ifd_queue_ref(q ? &q->q : NULL);
	return q;
}

IOMMUFD_EXPORT struct iommufd_veventq *iommufd_veventq_unref(struct iommufd_veventq *q)
{
	ifd_queue_unref(q ? &q->q : NULL, "vEVENT queue");
	return NULL;
}

IOMMUFD_EXPORT void iommufd_veventq_unrefp(struct iommufd_veventq **q)
{
	if (q)
		*q = iommufd_veventq_unref(*q);
}

IOMMUFD_EXPORT uint32_t iommufd_veventq_get_id(const struct iommufd_veventq *q)
{
	return q ? q->q.id : 0;
}

IOMMUFD_EXPORT int iommufd_veventq_get_fd(const struct iommufd_veventq *q)
{
	if (!q)
		return FAIL(NULL, EINVAL, "q is NULL");
	return q->q.fd;
}

/* events between the expected sequence and seq (exclusive), modulo the wrap at INT_MAX */
static uint32_t seq_gap(uint32_t expected, uint32_t seq)
{
	return (seq - expected) & (uint32_t)INT_MAX;
}

IOMMUFD_EXPORT int iommufd_veventq_read(struct iommufd_veventq *q, struct iommufd_vevent *ev)
{
	struct kabi_vevent_header hdr;
	bool saw_lost = false;

	if (!q)
		return FAIL(NULL, EINVAL, "q is NULL");
	CHECK_CTX(q->q.ctx);
	CHECK_PTR(q->q.ctx, ev);

	for (;;) {
		if (q->pos >= q->end) {
			ssize_t n = be_read(q->q.ctx->be, q->q.fd, q->buf, sizeof(q->buf));

			if (n < 0)
				return FAIL(q->q.ctx, (int)n, "read of vEVENT queue %u (fd %d)",
					    q->q.id, q->q.fd);
			q->pos = 0;
			q->end = (size_t)n;
			if (n == 0) {
				if (!saw_lost)
					return 0;
				/* a trailing LOST_EVENTS record: report it alone */
				*ev = (struct iommufd_vevent){
					.sequence = q->lost_seq,
					.lost = q->lost,
				};
				q->lost = 0;
				return 1;
			}
		}
		if (q->end - q->pos < sizeof(hdr)) {
			size_t left = q->end - q->pos;

			/* the rest of this read cannot be decoded: drop it */
			q->pos = q->end;
			return FAIL(q->q.ctx, EIO, "vEVENT queue %u: truncated header (%zu bytes)",
				    q->q.id, left);
		}
		memcpy(&hdr, q->buf + q->pos, sizeof(hdr));
		q->pos += sizeof(hdr);

		if (hdr.flags & KABI_VEVENTQ_FLAG_LOST_EVENTS) {
			/* the events up to and including hdr.sequence were dropped */
			q->lost += seq_gap(q->next_seq, hdr.sequence) + 1;
			q->lost_seq = hdr.sequence;
			q->next_seq = (hdr.sequence + 1) & (uint32_t)INT_MAX;
			saw_lost = true;
			continue;
		}
		if (q->end - q->pos < q->payload) {
			size_t left = q->end - q->pos;

			q->pos = q->end;
			return FAIL(q->q.ctx, EIO,
				    "vEVENT queue %u: truncated event %u (%zu bytes)", q->q.id,
				    hdr.sequence, left);
		}
		q->lost += seq_gap(q->next_seq, hdr.sequence);
		q->next_seq = (hdr.sequence + 1) & (uint32_t)INT_MAX;
		*ev = (struct iommufd_vevent){
			.sequence = hdr.sequence,
			.lost = q->lost,
			.data_len = q->payload,
			.data = q->buf + q->pos,
		};
		q->pos += q->payload;
		q->lost = 0;
		return 1;
	}
}
