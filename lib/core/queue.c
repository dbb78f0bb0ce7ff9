// SPDX-License-Identifier: LGPL-2.1-or-later
/* The common part of the fault queue and vEVENT queue handles: an object ID and its fd. */
#include <stdlib.h>
#include <unistd.h>

#include "core.h"

int ifd_queue_new(struct iommufd_ctx *ctx, size_t size, unsigned long req, void *cmd,
		  const uint32_t *out_id, const uint32_t *out_fd, struct ifd_queue **ret)
{
	struct ifd_queue *q = calloc(1, size);
	int r;

	if (!q)
		return -ENOMEM;
	r = ifd_ioctl(ctx, req, cmd);
	if (r < 0) {
		free(q);
		return r;
	}
	q->refcount = 1;
	q->ctx = iommufd_ctx_ref(ctx);
	q->id = *out_id;
	q->fd = (int)*out_fd;
	*ret = q;
	return 0;
}

struct ifd_queue *ifd_queue_ref(struct ifd_queue *q)
{
	if (q)
		__atomic_add_fetch(&q->refcount, 1, __ATOMIC_RELAXED);
	return q;
}

void ifd_queue_unref(struct ifd_queue *q, const char *what)
{
	struct kabi_destroy cmd;

	if (!q || __atomic_sub_fetch(&q->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	/* the fd holds a reference on the object: close it first */
	be_close(q->ctx->be, q->fd);
	/* after fork the object is the parent's: leave it alone */
	if (q->ctx->pid == ifd_getpid()) {
		cmd = (struct kabi_destroy){ .size = sizeof(cmd), .id = q->id };
		/* EBUSY while in use (a HWPT on a fault queue): the context's close releases it */
		if (ifd_ioctl(q->ctx, KABI_IOMMU_DESTROY, &cmd) < 0)
			dbg(q->ctx, "%s %u left for the context's close", what, q->id);
	}
	iommufd_ctx_unref(q->ctx);
	free(q);
}
