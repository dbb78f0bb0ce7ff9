// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device files that are already bound (and attached) to an iommufd: adopted
 * from the IDs their binder kept (a live update's incoming side, a secondary
 * process), and handed with their context to another process over a Unix
 * socket.
 *
 * The kernel has no call that names the DEVICE ID or the page table of a
 * device file, so the IDs come from the caller and are checked as far as the
 * kernel answers without a change: the file is a VFIO device file that is
 * bound (VFIO_DEVICE_GET_INFO answers; on a parked one it is EINVAL), the ID
 * is a DEVICE object of the context (IOMMU_GET_HW_INFO on it answers), and an
 * attached file re-attached to its page table succeeds: the kernel replaces
 * the domain with itself (drivers/vfio/iommufd.c
 * vfio_iommufd_physical_attach_ioas -> iommufd_device_replace), and looks the
 * page table up in the context the file is bound to, which proves that
 * context is ctx as far as the IDs differ between contexts (they are
 * numbered per context: a coincidence passes). The re-attach is a no-op only
 * with the right pt_id: the IDs are the caller's word, from the process that
 * made them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device-private.h"

/* the wire: a header, then per device one entry; fds: [ctx, devices...] */
#define HANDOVER_MAGIC 0x48444669u /* "iFDH" little-endian */
#define HANDOVER_VERSION 1

struct handover_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t hdr_size;   /* sizeof(struct handover_hdr) */
	uint16_t entry_size; /* sizeof(struct handover_entry) */
	uint16_t reserved0;
	uint32_t nr;         /* devices */
};

struct handover_entry {
	uint32_t state; /* enum iommufd_device_state */
	uint32_t dev_id;
	uint32_t pt_id;
	uint32_t reserved;
};

IOMMUFD_EXPORT int iommufd_device_adopt(struct iommufd_ctx *ctx, int fd,
					const struct iommufd_device_adopt_opts *user_opts,
					struct iommufd_device **ret)
{
	struct iommufd_device_adopt_opts o;
	struct iommufd_backend *be = NULL;
	struct iommufd_device *dev;
	bool attached;
	struct stat st;
	char name[32];
	int r;

	r = ifd_scope_backend(ctx, __func__, &be);
	if (r)
		return r;
	if (!ret || !user_opts)
		return FAIL(ctx, EINVAL, "opts or ret is NULL");
	r = ifd_ext_copy_in(&o, sizeof(o), user_opts, sizeof(size_t));
	if (r)
		return FAIL(ctx, r, "opts->sz %zu", user_opts->sz);
	if (o.flags & ~IOMMUFD_DEVICE_ADOPT_ATTACHED)
		return FAIL(ctx, EINVAL, "unknown flags %#x", o.flags & ~IOMMUFD_DEVICE_ADOPT_ATTACHED);
	if (o.reserved)
		return FAIL(ctx, EINVAL, "opts->reserved is %u, not 0", o.reserved);
	attached = o.flags & IOMMUFD_DEVICE_ADOPT_ATTACHED;
	if (!o.dev_id)
		return FAIL(ctx, EINVAL, "dev_id 0: the kernel never gives it");
	if (attached && !o.pt_id)
		return FAIL(ctx, EINVAL, "IOMMUFD_DEVICE_ADOPT_ATTACHED with pt_id 0");
	if (!attached && o.pt_id)
		return FAIL(ctx, EINVAL,
			    "pt_id %u without IOMMUFD_DEVICE_ADOPT_ATTACHED: a bound device has no page table",
			    o.pt_id);
	if (fd < 0)
		return FAIL(ctx, EBADF, "fd %d", fd);
	r = be_fstat(be, fd, &st);
	if (r < 0)
		return FAIL(ctx, -r, "fd %d: %s", fd, r == -EBADF ? "not an open file" : strerror(-r));
	if (ctx->t1)
		return FAIL(ctx, EOPNOTSUPP,
			    "fd %d: a type1-mode context has no DEVICE IDs or page tables to adopt a bound device by: open the device in its scope",
			    fd);
	r = ifd_vfio_fd_bound(be, ctx, __func__, fd);
	if (r < 0)
		return r;
	if (r == 0)
		return FAIL(ctx, EINVAL,
			    "fd %d is a parked VFIO device file (bound to no iommufd): adopt it with iommufd_device_new_from_fd() and bind it",
			    fd);

	/* dev_id names a DEVICE of ctx: anything else is ENOENT */
	{
		uint64_t raw[32] = { 0 };
		struct kabi_hw_info hw = {
			.size = sizeof(hw),
			.dev_id = o.dev_id,
			.data_len = sizeof(raw),
			.data_uptr = (uint64_t)(uintptr_t)raw,
		};

		r = ifd_ioctl(ctx, KABI_IOMMU_GET_HW_INFO, &hw);
		if (r < 0)
			return FAIL(ctx, r, "fd %d: IOMMU_GET_HW_INFO on dev_id %u: %s", fd, o.dev_id,
				    r == -ENOENT ? "no DEVICE object with that ID in the context" :
				    "the kernel refused");
	}

	/* attached: replace the domain with itself; pt_id is looked up in fd's own context */
	if (attached) {
		struct kabi_vfio_device_attach_iommufd_pt at = {
			.argsz = sizeof(at),
			.pt_id = o.pt_id,
		};

		r = be_ioctl(be, fd, KABI_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
		if (r < 0)
			return FAIL(ctx, r, "fd %d: re-attach to pt_id %u: %s", fd, o.pt_id,
				    r == -ENOENT ? "no such object in the context the file is bound to (a wrong pt_id, or the file is bound to another iommufd)" :
				    r == -EINVAL ? "the object is not an IOAS or HWPT, or not a domain of this device" :
				    "the kernel refused");
		o.pt_id = at.pt_id;
	}

	snprintf(name, sizeof(name), "fd %d", fd);
	r = ifd_device_alloc(be, fd, name, &dev);
	if (r < 0)
		return FAIL(NULL, r, "allocating the device for fd %d", fd);
	dev->ctx = iommufd_ctx_ref(ctx);
	dev->dev_id = o.dev_id;
	dev->pt_id = attached ? o.pt_id : 0;
	dev->state = attached ? IOMMUFD_DEVICE_ATTACHED : IOMMUFD_DEVICE_BOUND;
	dbg(ctx, "adopted %s: dev_id %u, %s%u", dev->name, o.dev_id,
	    attached ? "attached to hwpt " : "bound, pt ", dev->pt_id);
	*ret = dev;
	return 0;
}

/* ------------------------------------------------------------ handover */

/* SCM_RIGHTS carries kernel files only: an emulator's fds are its own numbers */
static int handover_check_ctx(struct iommufd_ctx *ctx, const char *func)
{
	int r;

	if (!ctx)
		return ifd_fail(NULL, func, EINVAL, "ctx is NULL");
	r = ifd_ctx_check(ctx, func);
	if (r)
		return r;
	if (ctx->be != ifd_backend_kernel())
		return ifd_fail(ctx, func, EOPNOTSUPP,
				"the context is on a non-kernel backend (the emulator): its fds are not kernel files, SCM_RIGHTS cannot carry them");
	if (ctx->t1)
		return ifd_fail(ctx, func, EOPNOTSUPP,
				"type1 mode: a VFIO container's devices have no DEVICE IDs to adopt them by");
	return 0;
}

IOMMUFD_EXPORT int iommufd_handover_send(int sock, struct iommufd_ctx *ctx,
					 struct iommufd_device *const *devs, size_t nr)
{
	struct handover_entry ent[IOMMUFD_HANDOVER_MAX_DEVICES];
	union {
		char buf[CMSG_SPACE(sizeof(int) * (IOMMUFD_HANDOVER_MAX_DEVICES + 1))];
		struct cmsghdr align;
	} cbuf;
	struct handover_hdr hdr = {
		.magic = HANDOVER_MAGIC,
		.version = HANDOVER_VERSION,
		.hdr_size = sizeof(hdr),
		.entry_size = sizeof(struct handover_entry),
		.nr = (uint32_t)nr,
	};
	struct iovec iov[2];
	struct msghdr msg = { 0 };
	struct cmsghdr *cm;
	int fds[IOMMUFD_HANDOVER_MAX_DEVICES + 1];
	ssize_t n;
	size_t i;
	int r;

	r = handover_check_ctx(ctx, __func__);
	if (r)
		return r;
	if (sock < 0)
		return FAIL(ctx, EBADF, "sock %d", sock);
	if (nr > IOMMUFD_HANDOVER_MAX_DEVICES)
		return FAIL(ctx, E2BIG, "%zu devices: at most %d", nr, IOMMUFD_HANDOVER_MAX_DEVICES);
	if (nr && !devs)
		return FAIL(ctx, EINVAL, "devs is NULL with nr %zu", nr);
	fds[0] = ctx->fd;
	for (i = 0; i < nr; i++) {
		struct iommufd_device *d = devs[i];

		if (!d)
			return FAIL(ctx, EINVAL, "devs[%zu] is NULL", i);
		r = ifd_owner_check(d->pid, ctx, __func__, "device", d->name);
		if (r)
			return r;
		pthread_mutex_lock(&d->lock);
		memset(&ent[i], 0, sizeof(ent[i]));
		ent[i].state = d->state;
		ent[i].dev_id = d->dev_id;
		ent[i].pt_id = d->pt_id;
		r = 0;
		if (d->group_path || d->t1 || d->fd < 0)
			r = FAIL(ctx, EINVAL, "devs[%zu] (%s): a group-path or type1 device has no DEVICE ID to hand over",
				 i, d->name);
		else if (d->state != IOMMUFD_DEVICE_PARKED && d->ctx != ctx)
			r = FAIL(ctx, EINVAL, "devs[%zu] (%s) is bound to another context", i, d->name);
		else if (d->nr_pasids)
			r = FAIL(ctx, EINVAL,
				 "devs[%zu] (%s) has %zu pasid attachments: only the RID attachment is handed over",
				 i, d->name, d->nr_pasids);
		fds[i + 1] = d->fd;
		pthread_mutex_unlock(&d->lock);
		if (r)
			return r;
	}
	iov[0].iov_base = &hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = ent;
	iov[1].iov_len = nr * sizeof(ent[0]);
	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_iov = iov;
	msg.msg_iovlen = nr ? 2 : 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (nr + 1));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (nr + 1));
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (nr + 1));
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return FAIL(ctx, errno, "sendmsg on sock %d (%zu devices)", sock, nr);
	if ((size_t)n != sizeof(hdr) + nr * sizeof(ent[0]))
		return FAIL(ctx, EPROTO, "sendmsg on sock %d sent %zd of %zu bytes", sock, n,
			    sizeof(hdr) + nr * sizeof(ent[0]));
	dbg(ctx, "handed fd %d and %zu devices over sock %d", ctx->fd, nr, sock);
	return 0;
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

IOMMUFD_EXPORT int iommufd_handover_recv(int sock, struct iommufd_ctx **ret_ctx,
					 struct iommufd_device ***ret_devs, size_t *ret_nr)
{
	struct {
		struct handover_hdr hdr;
		struct handover_entry ent[IOMMUFD_HANDOVER_MAX_DEVICES + 1]; /* +1: see a longer message */
	} buf;
	union {
		char buf[CMSG_SPACE(sizeof(int) * (IOMMUFD_HANDOVER_MAX_DEVICES + 1))];
		struct cmsghdr align;
	} cbuf;
	int fds[IOMMUFD_HANDOVER_MAX_DEVICES + 1];
	struct iovec iov = { .iov_base = &buf, .iov_len = sizeof(buf) };
	struct msghdr msg = { 0 };
	struct iommufd_device **devs = NULL;
	struct iommufd_ctx *ctx = NULL;
	struct cmsghdr *cm;
	size_t nfds = 0, i, adopted = 0;
	ssize_t n;
	int r;

	if (!ret_ctx || !ret_devs || !ret_nr)
		return FAIL(NULL, EINVAL, "ctx, devs or nr is NULL");
	if (sock < 0)
		return FAIL(NULL, EBADF, "sock %d", sock);
	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.buf;
	msg.msg_controllen = sizeof(cbuf.buf);
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return FAIL(NULL, errno, "recvmsg on sock %d", sock);
	/* every fd that arrived, whatever else is wrong: they are ours to close */
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++) {
			int f;

			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(f));
			if (nfds < IOMMUFD_HANDOVER_MAX_DEVICES + 1)
				fds[nfds++] = f;
			else
				close(f);
		}
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		r = FAIL(NULL, EMSGSIZE, "sock %d: the fds were truncated (more than %d, MSG_CTRUNC)", sock,
			 IOMMUFD_HANDOVER_MAX_DEVICES + 1);
		goto fail;
	}
	if (msg.msg_flags & MSG_TRUNC) {
		r = FAIL(NULL, EMSGSIZE, "sock %d: the message was truncated (MSG_TRUNC)", sock);
		goto fail;
	}
	if (n == 0) {
		r = FAIL(NULL, EPIPE, "sock %d: the peer closed the socket before a handover", sock);
		goto fail;
	}
	if ((size_t)n < sizeof(buf.hdr) || buf.hdr.magic != HANDOVER_MAGIC) {
		r = FAIL(NULL, EPROTO, "sock %d: %zd bytes, not a libiommufd handover", sock, n);
		goto fail;
	}
	if (buf.hdr.version != HANDOVER_VERSION || buf.hdr.hdr_size != sizeof(buf.hdr) ||
	    buf.hdr.entry_size != sizeof(buf.ent[0])) {
		r = FAIL(NULL, EPROTO, "sock %d: handover version %u (header %u, entry %u bytes): this library reads version %d",
			 sock, buf.hdr.version, buf.hdr.hdr_size, buf.hdr.entry_size, HANDOVER_VERSION);
		goto fail;
	}
	if (buf.hdr.nr > IOMMUFD_HANDOVER_MAX_DEVICES) {
		r = FAIL(NULL, E2BIG, "sock %d: %u devices: at most %d", sock, buf.hdr.nr,
			 IOMMUFD_HANDOVER_MAX_DEVICES);
		goto fail;
	}
	if ((size_t)n != sizeof(buf.hdr) + buf.hdr.nr * sizeof(buf.ent[0]) || nfds != buf.hdr.nr + 1) {
		r = FAIL(NULL, EPROTO, "sock %d: %zd bytes and %zu fds for %u devices", sock, n, nfds,
			 buf.hdr.nr);
		goto fail;
	}
	r = iommufd_ctx_new_from_fd(fds[0], &ctx);
	if (r)
		goto fail;
	fds[0] = -1; /* the context's now */
	if (ctx->t1) {
		r = FAIL(ctx, EOPNOTSUPP, "sock %d: the handed fd is a VFIO container, not an iommufd", sock);
		goto fail;
	}
	if (buf.hdr.nr) {
		devs = calloc(buf.hdr.nr, sizeof(*devs));
		if (!devs) {
			r = FAIL(ctx, ENOMEM, "%u devices", buf.hdr.nr);
			goto fail;
		}
	}
	for (i = 0; i < buf.hdr.nr; i++) {
		const struct handover_entry *e = &buf.ent[i];
		struct iommufd_device_adopt_opts o = {
			.sz = sizeof(o),
			.dev_id = e->dev_id,
			.pt_id = e->pt_id,
		};

		switch (e->state) {
		case IOMMUFD_DEVICE_PARKED:
			r = iommufd_device_new_from_fd(ctx, fds[i + 1], &devs[i]);
			break;
		case IOMMUFD_DEVICE_ATTACHED:
			o.flags = IOMMUFD_DEVICE_ADOPT_ATTACHED;
			/* fall through */
		case IOMMUFD_DEVICE_BOUND:
			r = iommufd_device_adopt(ctx, fds[i + 1], &o, &devs[i]);
			break;
		default:
			r = FAIL(ctx, EPROTO, "sock %d: device %zu has state %u", sock, i, e->state);
		}
		if (r)
			goto fail;
		fds[i + 1] = -1; /* the device's now */
		adopted++;
	}
	*ret_ctx = ctx;
	*ret_devs = devs;
	*ret_nr = buf.hdr.nr;
	return 0;

fail:
	for (i = 0; i < adopted; i++)
		iommufd_device_unref(devs[i]);
	free(devs);
	iommufd_ctx_unref(ctx);
	close_fds(fds, nfds);
	return r;
}
