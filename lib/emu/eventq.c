// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Event queues (the kernel's drivers/iommu/iommufd/eventq.c): FAULT (I/O page
 * fault queue) and VEVENTQ objects, FAULT_QUEUE_ALLOC and
 * VEVENTQ_ALLOC, and the read/write/poll protocol of their fds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

/* ------------------------------------------------------------ FAULT */

static void fault_update_poll(struct emu_fault *f)
{
	if (f->file)
		emu_file_set_readable(f->file, f->npending > 0);
}

static void fault_destroy(struct emu_obj *obj)
{
	struct emu_fault *f = (struct emu_fault *)obj;

	free(f->pending);
	free(f->resp);
	free(f);
}

static ssize_t fault_read(struct emu_file *file, void *buf, size_t len, off_t off, bool pos)
{
	struct emu_fault *f = file->priv;
	const size_t rs = sizeof(struct kabi_hwpt_pgfault);
	size_t done = 0;

	if (off || len % rs)
		return -ESPIPE;
	while (f->npending && done + rs <= len) {
		struct emu_fault_rec *r = &f->pending[0], *nr;
		uint32_t cookie = 1;

		/* lowest free cookie >= 1 */
		for (bool again = true; again;) {
			again = false;
			for (unsigned int i = 0; i < f->nresp; i++)
				if (f->resp[i].rec.cookie == cookie) {
					cookie++;
					again = true;
				}
		}
		nr = emu_realloc(file->emu, f->resp, f->nresp + 1, sizeof(*nr));
		if (!nr)
			return done ? (ssize_t)done : -ENOMEM;
		f->resp = nr;
		r->rec.cookie = cookie;
		r->rec.reserved = 0;
		r->rec.length = 0;
		if (emu_copy_to_user((uintptr_t)buf + done, &r->rec, rs))
			return done ? (ssize_t)done : -EFAULT;
		f->resp[f->nresp++] = *r;
		memmove(&f->pending[0], &f->pending[1], (f->npending - 1) * sizeof(*r));
		f->npending--;
		done += rs;
	}
	if (!done && f->npending)
		return -EINVAL; /* the first group does not fit */
	fault_update_poll(f);
	return (ssize_t)done;
}

static ssize_t fault_write(struct emu_file *file, const void *buf, size_t len, off_t off, bool pos)
{
	struct emu_fault *f = file->priv;
	const size_t rs = sizeof(struct kabi_hwpt_page_response);
	size_t done = 0;

	if (off || len % rs)
		return -ESPIPE;
	while (done < len) {
		struct kabi_hwpt_page_response resp;
		unsigned int i;
		int r = 0;

		if (emu_copy_from_user(&resp, (uintptr_t)buf + done, rs))
			return done ? (ssize_t)done : -EFAULT;
		if (resp.code != KABI_PAGE_RESP_SUCCESS && resp.code != KABI_PAGE_RESP_INVALID)
			r = -EINVAL;
		for (i = 0; !r && i < f->nresp; i++)
			if (f->resp[i].rec.cookie == resp.cookie)
				break;
		if (!r && i == f->nresp)
			r = -EINVAL;
		if (r)
			return done ? (ssize_t)done : r;
		memmove(&f->resp[i], &f->resp[i + 1], (f->nresp - i - 1) * sizeof(*f->resp));
		f->nresp--;
		done += rs;
	}
	return (ssize_t)done;
}

static void fault_release(struct emu_file *file)
{
	struct emu_fault *f = file->priv;
	struct emu_ictx *ictx = f->obj.ictx;

	f->file = NULL;
	f->obj.users--;
	emu_ictx_put(ictx);
}

static const struct emu_file_ops fault_fops = {
	.name = "[iommufd-pgfault]",
	.read = fault_read,
	.write = fault_write,
	.release = fault_release,
};

int emu_fault_report(struct emu_fault *f, struct emu_idev *idev, struct emu_hwpt *hwpt,
		     const struct kabi_hwpt_pgfault *rec)
{
	struct emu_fault_rec *p = emu_realloc(f->obj.ictx->emu, f->pending, f->npending + 1,
					      sizeof(*p));

	if (!p)
		return -ENOMEM;
	f->pending = p;
	p[f->npending].rec = *rec;
	p[f->npending].idev = idev;
	p[f->npending].hwpt = hwpt;
	f->npending++;
	fault_update_poll(f);
	return 0;
}

static void recs_drop(struct emu_fault_rec *v, unsigned int *n, struct emu_idev *idev,
		      struct emu_hwpt *hwpt)
{
	unsigned int j = 0;

	for (unsigned int i = 0; i < *n; i++) {
		if ((!idev || v[i].idev == idev) && (!hwpt || v[i].hwpt == hwpt))
			continue;
		v[j++] = v[i];
	}
	*n = j;
}

void emu_fault_flush(struct emu_fault *f, struct emu_idev *idev, struct emu_hwpt *hwpt)
{
	recs_drop(f->pending, &f->npending, idev, hwpt);
	recs_drop(f->resp, &f->nresp, idev, hwpt);
	fault_update_poll(f);
}

int emu_cmd_fault_queue_alloc(struct emu_ucmd *u)
{
	struct kabi_fault_alloc *cmd = u->cmd;
	struct emu_fault *f;
	struct emu_file *file;
	int r, fd;

	if (cmd->flags)
		return -EOPNOTSUPP;
	f = emu_obj_alloc(u->ictx, EMU_OBJ_FAULT, sizeof(*f), fault_destroy, &r);
	if (!f)
		return r;
	fd = emu_file_new(u->ictx->emu, &fault_fops, f, &file);
	if (fd < 0) {
		emu_obj_abort(&f->obj);
		return fd;
	}
	f->file = file;
	f->obj.users++;
	emu_ictx_get(u->ictx);
	cmd->out_fault_id = f->obj.id;
	cmd->out_fault_fd = fd;
	r = emu_ucmd_respond(u);
	if (r) {
		/* release the fd: the file drops its refs, then the object goes */
		emu_ictx_get(u->ictx);
		u->ictx->emu->be.ops->close(&u->ictx->emu->be, fd);
		emu_obj_abort(&f->obj);
		emu_ictx_put(u->ictx);
		return r;
	}
	emu_obj_publish(&f->obj);
	return 0;
}

/* ------------------------------------------------------------ VEVENTQ */

static unsigned int veventq_real(struct emu_veventq *q)
{
	return q->nev - (q->lost_tail ? 1 : 0);
}

static void veventq_update_poll(struct emu_veventq *q)
{
	if (q->file)
		emu_file_set_readable(q->file, q->nev > 0);
}

/*
 * The ring always keeps a free slot for the LOST_EVENTS header (the kernel's is
 * preallocated in the queue): q->cap > q->nev whenever no header is at the tail.
 */
static void veventq_push(struct emu_veventq *q, uint32_t flags, const void *data, uint32_t len)
{
	struct emu_vevent *ev = &q->ev[q->nev++];

	ev->flags = flags;
	ev->seq = q->seq;
	ev->len = len;
	if (len)
		memcpy(ev->data, data, len);
	q->seq = (q->seq + 1) & 0x7fffffffu;
}

/* room for one more event and the spare header slot */
static int veventq_reserve(struct emu_veventq *q)
{
	struct emu_vevent *ev;
	unsigned int cap;

	/* the kernel allocates every event: each report is an injection site */
	if (emu_should_fail(q->obj.ictx->emu))
		return -ENOMEM;
	if (q->nev + 2 <= q->cap)
		return 0;
	cap = q->cap * 2 > q->nev + 2 ? q->cap * 2 : q->nev + 2;
	ev = realloc(q->ev, (size_t)cap * sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	q->ev = ev;
	q->cap = cap;
	return 0;
}

int emu_veventq_report(struct emu_veventq *q, const void *data, uint32_t len)
{
	int r = 0;

	if (len > sizeof(q->ev[0].data))
		len = sizeof(q->ev[0].data);
	/* a header at the tail is replaced by whatever comes next */
	if (q->lost_tail) {
		q->nev--;
		q->lost_tail = false;
	}
	if (veventq_real(q) < q->depth) {
		r = veventq_reserve(q);
		if (!r) {
			veventq_push(q, 0, data, len);
			veventq_update_poll(q);
			return 0;
		}
	}
	/* full, or out of memory (iommufd_viommu_report_event(), eventq.c): the loss is recorded by a payload-less
	 * LOST_EVENTS header at the tail, which still takes a sequence number */
	veventq_push(q, KABI_VEVENTQ_FLAG_LOST_EVENTS, NULL, 0);
	q->lost_tail = true;
	veventq_update_poll(q);
	return r;
}

struct emu_veventq *emu_viommu_find_veventq(struct emu_viommu *viommu, uint32_t type)
{
	struct emu_ictx *ictx = viommu->obj.ictx;

	for (uint32_t i = 1; i < ictx->xa_size; i++) {
		struct emu_veventq *q =
			(struct emu_veventq *)emu_obj_find(ictx, i, EMU_OBJ_VEVENTQ);

		if (q && q->viommu == viommu && q->type == type)
			return q;
	}
	return NULL;
}

static void veventq_destroy(struct emu_obj *obj)
{
	struct emu_veventq *q = (struct emu_veventq *)obj;

	if (q->viommu)
		q->viommu->obj.users--;
	free(q->ev);
	free(q);
}

static ssize_t veventq_read(struct emu_file *file, void *buf, size_t len, off_t off, bool pos)
{
	struct emu_veventq *q = file->priv;
	const size_t hs = sizeof(struct kabi_vevent_header);
	size_t done = 0;
	unsigned int n = 0;

	if (off)
		return -ESPIPE;
	if (len < hs)
		return -EINVAL;
	while (n < q->nev) {
		struct emu_vevent *ev = &q->ev[n];
		struct kabi_vevent_header h = { ev->flags, ev->seq };

		if (done + hs + ev->len > len) {
			if (!n)
				return -EINVAL; /* the first event does not fit */
			break;
		}
		if (emu_copy_to_user((uintptr_t)buf + done, &h, hs) ||
		    emu_copy_to_user((uintptr_t)buf + done + hs, ev->data, ev->len)) {
			if (!n)
				return -EFAULT;
			break;
		}
		done += hs + ev->len;
		n++;
	}
	if (n) {
		if (q->lost_tail && n == q->nev)
			q->lost_tail = false;
		memmove(q->ev, q->ev + n, (q->nev - n) * sizeof(*q->ev));
		q->nev -= n;
	}
	veventq_update_poll(q);
	return (ssize_t)done;
}

static void veventq_release(struct emu_file *file)
{
	struct emu_veventq *q = file->priv;
	struct emu_ictx *ictx = q->obj.ictx;

	q->file = NULL;
	q->obj.users--;
	emu_ictx_put(ictx);
}

static const struct emu_file_ops veventq_fops = {
	.name = "[iommufd-viommu-event]",
	.read = veventq_read,
	.release = veventq_release,
};

int emu_cmd_veventq_alloc(struct emu_ucmd *u)
{
	struct kabi_veventq_alloc *cmd = u->cmd;
	struct emu_viommu *v;
	struct emu_veventq *q;
	struct emu_file *file;
	int r, fd;

	if (cmd->flags || cmd->reserved || cmd->type == KABI_VEVENTQ_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->veventq_depth || cmd->veventq_depth > (1u << 19))
		return -EINVAL;
	v = (struct emu_viommu *)emu_obj_find(u->ictx, cmd->viommu_id, EMU_OBJ_VIOMMU);
	if (!v)
		return -ENOENT;
	if (emu_viommu_find_veventq(v, cmd->type))
		return -EEXIST;
	q = emu_obj_alloc(u->ictx, EMU_OBJ_VEVENTQ, sizeof(*q), veventq_destroy, &r);
	if (!q)
		return r;
	q->viommu = v;
	v->obj.users++;
	q->type = cmd->type;
	q->depth = cmd->veventq_depth;
	/* the first event's slot and the spare LOST_EVENTS header slot */
	q->ev = emu_calloc(u->ictx->emu, 2, sizeof(*q->ev));
	if (!q->ev) {
		emu_obj_abort(&q->obj);
		return -ENOMEM;
	}
	q->cap = 2;
	fd = emu_file_new(u->ictx->emu, &veventq_fops, q, &file);
	if (fd < 0) {
		emu_obj_abort(&q->obj);
		return fd;
	}
	q->file = file;
	q->obj.users++;
	emu_ictx_get(u->ictx);
	cmd->out_veventq_id = q->obj.id;
	cmd->out_veventq_fd = fd;
	r = emu_ucmd_respond(u);
	if (r) {
		emu_ictx_get(u->ictx);
		u->ictx->emu->be.ops->close(&u->ictx->emu->be, fd);
		emu_obj_abort(&q->obj);
		emu_ictx_put(u->ictx);
		return r;
	}
	emu_obj_publish(&q->obj);
	return 0;
}
