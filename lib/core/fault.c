// SPDX-License-Identifier: LGPL-2.1-or-later
/* I/O page fault queue: IOMMU_FAULT_QUEUE_ALLOC and its fd protocol. */
#include <stdlib.h>
#include <unistd.h>

#include "core.h"

struct iommufd_fault_queue {
	struct ifd_queue q; /* ctx, id, fd, refcount */
};

_Static_assert(sizeof(struct kabi_hwpt_pgfault) == 40, "fault record");
_Static_assert(sizeof(struct kabi_hwpt_page_response) == 8, "fault response");
_Static_assert(IOMMUFD_FAULT_PASID_VALID == KABI_PGFAULT_FLAGS_PASID_VALID, "fault flag");
_Static_assert(IOMMUFD_FAULT_LAST_PAGE == KABI_PGFAULT_FLAGS_LAST_PAGE, "fault flag");
_Static_assert(IOMMUFD_FAULT_PERM_READ == KABI_PGFAULT_PERM_READ, "fault perm");
_Static_assert(IOMMUFD_FAULT_PERM_WRITE == KABI_PGFAULT_PERM_WRITE, "fault perm");
_Static_assert(IOMMUFD_FAULT_PERM_EXEC == KABI_PGFAULT_PERM_EXEC, "fault perm");
_Static_assert(IOMMUFD_FAULT_PERM_PRIV == KABI_PGFAULT_PERM_PRIV, "fault perm");

/* a read asks for at most this many records at once */
#define FAULT_READ_MAX 4096

IOMMUFD_EXPORT int iommufd_fault_queue_new(struct iommufd_ctx *ctx, struct iommufd_fault_queue **ret)
{
	struct kabi_fault_alloc cmd = { .size = sizeof(cmd) };
	struct ifd_queue *q;
	int r;

	CHECK_CTX(ctx);
	CHECK_PTR(ctx, ret);
	r = ifd_queue_new(ctx, sizeof(struct iommufd_fault_queue), KABI_IOMMU_FAULT_QUEUE_ALLOC,
			  &cmd, &cmd.out_fault_id, &cmd.out_fault_fd, &q);
	if (r < 0)
		return FAIL(ctx, r, "IOMMU_FAULT_QUEUE_ALLOC");
	*ret = (struct iommufd_fault_queue *)q;
	return 0;
}

IOMMUFD_EXPORT struct iommufd_fault_queue *iommufd_fault_queue_ref(struct iommufd_fault_queue *fq)
{
	ifd_queue_ref(fq ? &fq->q : NULL);
	return fq;
}

IOMMUFD_EXPORT struct iommufd_fault_queue *iommufd_fault_queue_unref(struct iommufd_fault_queue *fq)
{
	ifd_queue_unref(fq ? &fq->q : NULL, "fault queue");
	return NULL;
}

IOMMUFD_EXPORT void iommufd_fault_queue_unrefp(struct iommufd_fault_queue **fq)
{
	if (fq)
		*fq = iommufd_fault_queue_unref(*fq);
}

IOMMUFD_EXPORT uint32_t iommufd_fault_queue_get_id(const struct iommufd_fault_queue *fq)
{
	return fq ? fq->q.id : 0;
}

IOMMUFD_EXPORT int iommufd_fault_queue_get_fd(const struct iommufd_fault_queue *fq)
{
	if (!fq)
		return FAIL(NULL, EINVAL, "q is NULL");
	return fq->q.fd;
}

IOMMUFD_EXPORT int iommufd_fault_queue_read(struct iommufd_fault_queue *fq,
					    struct iommufd_fault *faults, size_t max)
{
	struct ifd_queue *q = fq ? &fq->q : NULL;
	struct kabi_hwpt_pgfault *buf;
	ssize_t n;
	size_t nr;

	if (!q)
		return FAIL(NULL, EINVAL, "q is NULL");
	CHECK_CTX(q->ctx);
	CHECK_PTR(q->ctx, faults);
	if (!max)
		return FAIL(q->ctx, EINVAL, "max is 0 (fault queue %u)", q->id);
	if (max > FAULT_READ_MAX)
		max = FAULT_READ_MAX;
	buf = calloc(max, sizeof(*buf));
	if (!buf)
		return FAIL(q->ctx, ENOMEM, "fault queue %u: buffer of %zu records", q->id, max);
	n = be_read(q->ctx->be, q->fd, buf, max * sizeof(*buf));
	if (n < 0) {
		free(buf);
		return FAIL(q->ctx, (int)n, "read of fault queue %u (fd %d, %zu records)", q->id,
			    q->fd, max);
	}
	if (n % sizeof(*buf)) {
		free(buf);
		return FAIL(q->ctx, EIO, "read of fault queue %u returned %zd bytes", q->id, n);
	}
	nr = (size_t)n / sizeof(*buf);
	for (size_t i = 0; i < nr; i++) {
		faults[i] = (struct iommufd_fault){
			.flags = buf[i].flags,
			.dev_id = buf[i].dev_id,
			.pasid = buf[i].pasid,
			.grpid = buf[i].grpid,
			.perm = buf[i].perm,
			.addr = buf[i].addr,
			.length = buf[i].length,
			.cookie = buf[i].cookie,
		};
	}
	free(buf);
	return (int)nr;
}

IOMMUFD_EXPORT int iommufd_fault_queue_respond(struct iommufd_fault_queue *fq, uint32_t cookie,
					       enum iommufd_fault_response code)
{
	struct ifd_queue *q = fq ? &fq->q : NULL;
	struct kabi_hwpt_page_response resp = { .cookie = cookie, .code = code };
	ssize_t n;

	if (!q)
		return FAIL(NULL, EINVAL, "q is NULL");
	CHECK_CTX(q->ctx);
	if (code != IOMMUFD_FAULT_RESPONSE_SUCCESS && code != IOMMUFD_FAULT_RESPONSE_INVALID)
		return FAIL(q->ctx, EINVAL, "unknown response code %d (fault queue %u, cookie %u)",
			    (int)code, q->id, cookie);
	n = be_write(q->ctx->be, q->fd, &resp, sizeof(resp));
	if (n < 0)
		return FAIL(q->ctx, (int)n, "response to fault queue %u (cookie %u, code %d)", q->id,
			    cookie, (int)code);
	if (n != sizeof(resp))
		return FAIL(q->ctx, EIO, "short response write to fault queue %u (%zd bytes)", q->id,
			    n);
	return 0;
}
