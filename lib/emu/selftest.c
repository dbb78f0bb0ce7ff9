// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The selftest command IOMMU_TEST_CMD (the kernel's
 * drivers/iommu/iommufd/selftest.c): mock devices and domains, the access
 * fds over access objects (device.c), map/ref/iotlb/cache checks, dirty
 * marking, IOPF and vEVENT injection, raw PASID attach, test dma-bufs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"
#include "iopt.h"
#include "shared/abi-test.h"

/* ------------------------------------------------------------ access fds */

/* the mock's access fd */
static void access_f_release(struct emu_file *f)
{
	struct emu_access *a = f->priv;
	struct emu_ictx *ictx = a->obj.ictx;

	emu_obj_remove(&a->obj, false);
	emu_ictx_put(ictx);
}

static const struct emu_file_ops access_fops = {
	.name = "[iommufd_test_staccess]",
	.release = access_f_release,
};

static int access_from_fd(struct emu_ictx *ictx, uint32_t fd, struct emu_access **ret)
{
	struct emu_file *f = emu_file_lookup(ictx->emu, (int)fd);

	if (!f || f->ops != &access_fops)
		return -EBADFD;
	*ret = f->priv;
	return 0;
}

/* ------------------------------------------------------------ selftest object */

struct emu_selftest {
	struct emu_obj obj;
	struct emu_dev dev;
	struct emu_group *group;
};

static void selftest_destroy(struct emu_obj *obj)
{
	struct emu_selftest *st = (struct emu_selftest *)obj;

	emu_device_unbind(&st->dev);
	emu_group_free(st->group);
	free(st);
}

static struct emu_selftest *selftest_find(struct emu_ictx *ictx, uint32_t id)
{
	return (struct emu_selftest *)emu_obj_find(ictx, id, EMU_OBJ_SELFTEST);
}

static int mock_domain(struct emu_ucmd *u, struct kabi_test_cmd *cmd, uint32_t dev_flags)
{
	struct emu_selftest *st;
	uint32_t dev_id, pt_id = cmd->id;
	int r;

	if (dev_flags & ~(KABI_MOCK_FLAGS_DEVICE_NO_DIRTY | KABI_MOCK_FLAGS_DEVICE_PASID))
		return -EINVAL;
	st = emu_obj_alloc(u->ictx, EMU_OBJ_SELFTEST, sizeof(*st), selftest_destroy, &r);
	if (!st)
		return r;
	st->group = emu_should_fail(u->ictx->emu) ? NULL : emu_group_new(u->ictx->emu);
	if (!st->group) {
		r = -ENOMEM;
		goto out_abort;
	}
	st->dev.group = st->group;
	st->dev.flags = EMU_DEV_MOCK |
			(dev_flags & KABI_MOCK_FLAGS_DEVICE_NO_DIRTY ? EMU_DEV_NO_DIRTY : 0) |
			(dev_flags & KABI_MOCK_FLAGS_DEVICE_PASID ? EMU_DEV_PASID : 0);
	r = emu_device_bind(u->ictx, &st->dev, &dev_id);
	if (r)
		goto out_abort;
	r = emu_device_attach(&st->dev, EMU_NO_PASID, &pt_id);
	if (r)
		goto out_abort;
	cmd->mock_domain.out_stdev_id = st->obj.id;
	cmd->mock_domain.out_hwpt_id = pt_id;
	cmd->mock_domain.out_idev_id = dev_id;
	r = emu_ucmd_respond(u);
	if (r)
		goto out_abort;
	emu_obj_publish(&st->obj);
	return 0;
out_abort:
	emu_obj_abort(&st->obj);
	return r;
}

/* ------------------------------------------------------------ page identity */

/* the backing (inode, offset) of a process address, from /proc/self/maps */
static bool va_backing(uint64_t va, uint64_t *ino, uint64_t *off)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	bool ok = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		uint64_t s, e, o, inode;
		unsigned int maj, min;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %x:%x %" SCNu64, &s, &e,
			   &o, &maj, &min, &inode) != 6)
			continue;
		if (va < s || va >= e)
			continue;
		if (inode) {
			*ino = inode;
			*off = o + (va - s);
			ok = true;
		}
		break;
	}
	fclose(f);
	return ok;
}

/* does the translation x describe the same page as process address uptr? */
static bool same_page(const struct iopt_xlate *x, uint64_t uptr)
{
	uint64_t ino, off, ino2, off2;

	if (x->type == IOPT_PAGES_VA) {
		if (x->pid == emu_current_pid() && x->uva == uptr)
			return true;
		if (x->pid != emu_current_pid())
			return false;
		return va_backing(x->uva, &ino, &off) && va_backing(uptr, &ino2, &off2) &&
		       ino == ino2 && off == off2;
	} else {
		struct stat st;

		if (fstat(x->fd, &st) < 0 || !va_backing(uptr, &ino2, &off2))
			return false;
		return st.st_ino == ino2 && x->file_offset == off2;
	}
}

static struct emu_hwpt *md_hwpt(struct emu_ictx *ictx, uint32_t id, int *err)
{
	struct emu_obj *o = emu_obj_find(ictx, id, EMU_OBJ_ANY);

	if (!o) {
		*err = -ENOENT;
		return NULL;
	}
	if (o->type != EMU_OBJ_HWPT_PAGING) {
		*err = -EINVAL;
		return NULL;
	}
	return (struct emu_hwpt *)o;
}

static int md_check_map(struct emu_ictx *ictx, struct kabi_test_cmd *cmd)
{
	uint64_t iova = cmd->check_map.iova, len = cmd->check_map.length;
	uint64_t uptr = cmd->check_map.uptr;
	struct emu_hwpt *hwpt;
	int r;

	if (iova % EMU_MOCK_PAGE_SIZE || len % EMU_MOCK_PAGE_SIZE)
		return -EINVAL;
	hwpt = md_hwpt(ictx, cmd->id, &r);
	if (!hwpt)
		return r;
	for (uint64_t o = 0; o < len; o += EMU_MOCK_PAGE_SIZE) {
		struct iopt_xlate x;

		if (iopt_translate(hwpt->ioas->iopt, iova + o, &x) || !x.pinned)
			return -EINVAL;
		if (!same_page(&x, uptr + o))
			return -EINVAL;
	}
	return 0;
}

struct area_list {
	struct iommufd_emu *emu;
	uint64_t *iova;
	uint64_t *len;
	size_t n, cap;
};

/* called with the engine's lock held: only record, never call back into it */
static int collect_area(void *opaque, uint64_t iova, uint64_t length, int prot)
{
	struct area_list *l = opaque;

	(void)prot;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		uint64_t *a = emu_realloc(l->emu, l->iova, cap, sizeof(*a)), *b;

		if (!a)
			return -ENOMEM;
		l->iova = a;
		b = emu_realloc(l->emu, l->len, cap, sizeof(*b));
		if (!b)
			return -ENOMEM;
		l->len = b;
		l->cap = cap;
	}
	l->iova[l->n] = iova;
	l->len[l->n++] = length;
	return 0;
}

/*
 * MD_CHECK_REFS: the kernel compares each page's pin count. The emulator
 * knows which IOVA pages are pinned: refs 0 means no pinned area of this
 * context maps any page of the range; refs > 0 means every page is pinned.
 */
static int md_check_refs(struct emu_ictx *ictx, struct kabi_test_cmd *cmd)
{
	uint64_t len = cmd->check_refs.length, uptr = cmd->check_refs.uptr;
	uint64_t npages = len / EMU_PAGE_SIZE, ino0 = 0, off0 = 0;
	uint8_t *pinned;
	int r = 0;

	if (len % EMU_PAGE_SIZE || uptr % EMU_PAGE_SIZE)
		return -EINVAL;
	pinned = emu_calloc(ictx->emu, npages ? npages : 1, 1);
	if (!pinned)
		return -ENOMEM;
	/* a file-backed range (a memfd mapping): its (inode, offset) */
	bool file_backed = va_backing(uptr, &ino0, &off0);
	for (uint32_t i = 1; i < ictx->xa_size; i++) {
		struct emu_ioas *ioas = (struct emu_ioas *)emu_obj_find(ictx, i, EMU_OBJ_IOAS);
		struct area_list l = { .emu = ictx->emu };

		if (!ioas)
			continue;
		r = iopt_for_each_area(ioas->iopt, 0, UINT64_MAX, collect_area, &l);
		if (r < 0) {
			free(l.iova);
			free(l.len);
			free(pinned);
			return r;
		}
		r = 0;
		for (size_t k = 0; k < l.n; k++) {
			struct iopt_xlate x;
			uint64_t lo, hi;

			if (iopt_translate(ioas->iopt, l.iova[k], &x))
				continue;
			if (x.type != IOPT_PAGES_VA) {
				struct stat st;

				if (!file_backed || fstat(x.fd, &st) < 0 || st.st_ino != ino0)
					continue;
				/* file offsets [x.file_offset, +len) against [off0, off0 + len) */
				for (uint64_t p = 0; p < npages; p++) {
					uint64_t off = off0 + p * EMU_PAGE_SIZE;
					struct iopt_xlate y;

					if (off + EMU_PAGE_SIZE <= x.file_offset ||
					    off >= x.file_offset + l.len[k])
						continue;
					if (off < x.file_offset)
						off = x.file_offset;
					uint64_t iova = l.iova[k] + (off - x.file_offset);

					if (!iopt_translate(ioas->iopt, iova, &y) && y.pinned)
						pinned[p] = 1;
				}
				continue;
			}
			if (x.pid != emu_current_pid())
				continue;
			/* the area's VA span [x.uva, x.uva + len) against [uptr, uptr + len) */
			lo = x.uva > uptr ? x.uva : uptr;
			hi = x.uva + l.len[k] < uptr + len ? x.uva + l.len[k] : uptr + len;
			uint64_t va0 = lo & ~(EMU_PAGE_SIZE - 1);

			for (uint64_t va = va0; va < hi; va += EMU_PAGE_SIZE) {
				struct iopt_xlate y;
				uint64_t probe = va < lo ? lo : va;

				if (va < uptr)
					continue;
				if (!iopt_translate(ioas->iopt, l.iova[k] + (probe - x.uva), &y) &&
				    y.pinned)
					pinned[(va - uptr) / EMU_PAGE_SIZE] = 1;
			}
		}
		free(l.iova);
		free(l.len);
	}
	for (uint64_t p = 0; p < npages; p++) {
		if (cmd->check_refs.refs == 0 ? pinned[p] : !pinned[p]) {
			r = -EIO;
			break;
		}
	}
	free(pinned);
	return r;
}

static int create_access(struct emu_ucmd *u, struct kabi_test_cmd *cmd)
{
	struct emu_ictx *ictx = u->ictx;
	struct emu_access *a = NULL;
	struct emu_ioas *ioas;
	struct emu_file *f;
	int r, fd;

	if (cmd->create_access.flags & ~KABI_MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
		return -EOPNOTSUPP;
	r = emu_access_new(ictx, NULL,
			   cmd->create_access.flags & KABI_MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
			   false, &a);
	if (r)
		return r;
	ioas = (struct emu_ioas *)emu_obj_find(ictx, cmd->id, EMU_OBJ_IOAS);
	r = ioas ? emu_access_attach(a, ioas) : -ENOENT;
	if (r) {
		emu_obj_remove(&a->obj, false);
		return r;
	}
	emu_ictx_get(ictx);
	fd = emu_file_new(ictx->emu, &access_fops, a, &f);
	if (fd < 0) {
		emu_obj_remove(&a->obj, false);
		emu_ictx_put(ictx);
		return fd;
	}
	a->file = f;
	cmd->create_access.out_access_fd = fd;
	r = emu_ucmd_respond(u);
	if (r) {
		ictx->emu->be.ops->close(&ictx->emu->be, fd);
		return r;
	}
	return 0;
}

static int access_pages(struct emu_ucmd *u, struct kabi_test_cmd *cmd)
{
	struct emu_access *a;
	uint64_t iova = cmd->access_pages.iova, len = cmd->access_pages.length;
	uint64_t uptr = cmd->access_pages.uptr;
	uint32_t id;
	int r;

	if (cmd->access_pages.flags & ~KABI_MOCK_FLAGS_ACCESS_WRITE)
		return -EOPNOTSUPP;
	r = access_from_fd(u->ictx, cmd->id, &a);
	if (r)
		return r;
	if (!a->needs_pin)
		return -EOPNOTSUPP;
	if (len > 16 * 1024 * 1024)
		return -ENOMEM;
	r = emu_access_pin(a, iova, len,
			   cmd->access_pages.flags & KABI_MOCK_FLAGS_ACCESS_WRITE ?
				   IOPT_PIN_WRITE : 0,
			   uptr, &id);
	if (r)
		return r;
	if (uptr) {
		uint64_t ps = EMU_PAGE_SIZE;

		for (uint64_t p = iova & ~(ps - 1); p < iova + len; p += ps) {
			struct iopt_xlate x;
			uint64_t up = uptr + (p > iova ? p - iova : 0);

			if (p < iova)
				up = uptr;
			if (iopt_translate(a->ioas->iopt, p < iova ? iova : p, &x) ||
			    !same_page(&x, up)) {
				emu_access_drop_pin(a, a->npins - 1);
				return -EBADE;
			}
		}
	}
	cmd->access_pages.out_access_pages_id = id;
	r = emu_ucmd_respond(u);
	if (r) {
		emu_access_drop_pin(a, a->npins - 1);
		return r;
	}
	return 0;
}

static int destroy_access_pages(struct emu_ictx *ictx, struct kabi_test_cmd *cmd)
{
	struct emu_access *a;
	int r = access_from_fd(ictx, cmd->id, &a);

	if (r)
		return r;
	for (unsigned int i = 0; i < a->npins; i++) {
		if (a->pins[i].id == cmd->destroy_access_pages.access_pages_id) {
			emu_access_drop_pin(a, i);
			return 0;
		}
	}
	return -ENOENT;
}

static int access_rw(struct emu_ictx *ictx, struct kabi_test_cmd *cmd)
{
	uint64_t len = cmd->access_rw.length;
	unsigned int flags = cmd->access_rw.flags;
	struct emu_access *a;
	void *tmp;
	int r;

	if (flags & ~(KABI_MOCK_ACCESS_RW_WRITE | KABI_MOCK_ACCESS_RW_SLOW_PATH))
		return -EOPNOTSUPP;
	r = access_from_fd(ictx, cmd->id, &a);
	if (r)
		return r;
	if (len > 16 * 1024 * 1024)
		return -ENOMEM;
	tmp = emu_zalloc(ictx->emu, len ? len : 1);
	if (!tmp)
		return -ENOMEM;
	if (flags & KABI_MOCK_ACCESS_RW_WRITE) {
		r = emu_copy_from_user(tmp, cmd->access_rw.uptr, len);
		if (r)
			goto out;
	}
	if (!a->ioas) {
		r = -ENOENT;
		goto out;
	}
	r = iopt_access_rw(a->ioas->iopt, cmd->access_rw.iova, tmp, len,
			   flags & KABI_MOCK_ACCESS_RW_WRITE ? IOPT_RW_WRITE : 0);
	if (r)
		goto out;
	if (!(flags & KABI_MOCK_ACCESS_RW_WRITE))
		r = emu_copy_to_user(cmd->access_rw.uptr, tmp, len);
out:
	free(tmp);
	return r;
}

static int mock_dirty(struct emu_ucmd *u, struct kabi_test_cmd *cmd)
{
	uint64_t iova = cmd->dirty.iova, len = cmd->dirty.length, ps = cmd->dirty.page_size;
	uint64_t nbits, nr = 0, words;
	struct emu_hwpt *hwpt;
	uint64_t *bm;
	int r;

	if (!ps || !len || iova % ps || len % ps || !cmd->dirty.uptr)
		return -EINVAL;
	nbits = len / ps;
	if (nbits > 16ull * 1024 * 1024 * 8)
		return -EOVERFLOW;
	hwpt = md_hwpt(u->ictx, cmd->id, &r);
	if (!hwpt)
		return r;
	if (!hwpt->dirty || !hwpt->dirty_enabled)
		return -EINVAL;
	words = (nbits + 63) / 64;
	bm = emu_calloc(u->ictx->emu, words, 8);
	if (!bm)
		return -ENOMEM;
	r = emu_copy_from_user(bm, cmd->dirty.uptr, (nbits + 7) / 8);
	if (r)
		goto out;
	for (uint64_t i = 0; i < nbits; i++) {
		struct iopt_xlate x;

		if (!(bm[i / 64] & (1ull << (i % 64))))
			continue;
		/* marks the PTE holding iova + i * ps (nothing if unmapped); counts every bit */
		if (!iopt_translate(hwpt->ioas->iopt, iova + i * ps, &x))
			iopt_dirty_mark(hwpt->dirty, iova + i * ps, 1);
		nr++;
	}
	cmd->dirty.out_nr_dirty = nr;
	r = emu_ucmd_respond(u);
out:
	free(bm);
	return r;
}

/* ------------------------------------------------------------ dma-bufs */

struct emu_dmabuf *emu_dmabuf_find(struct iommufd_emu *emu, int fd)
{
	struct stat st;

	if (fd < 0 || emu_file_lookup(emu, fd) || fstat(fd, &st) < 0)
		return NULL;
	for (struct emu_dmabuf *d = emu->dmabufs; d; d = d->next)
		if (d->dev == st.st_dev && d->ino == st.st_ino)
			return d;
	return NULL;
}

/* DMABUF_GET: the test exporter's buffer, here a memfd the emulator recognises */
static int dmabuf_get(struct emu_ictx *ictx, struct kabi_test_cmd *cmd)
{
	uint64_t len = (uint64_t)cmd->dmabuf_get.length;
	struct emu_dmabuf *d;
	struct stat st;
	int fd;

	len = (len + EMU_PAGE_SIZE - 1) & ~(EMU_PAGE_SIZE - 1);

	if (!len || len > 512 * EMU_PAGE_SIZE)
		return -EINVAL;
	d = emu_zalloc(ictx->emu, sizeof(*d));
	if (!d)
		return -ENOMEM;
	fd = memfd_create("dmabuf", cmd->dmabuf_get.open_flags & O_CLOEXEC ? MFD_CLOEXEC : 0);
	if (fd < 0 || ftruncate(fd, (off_t)len) < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		free(d);
		return -ENOMEM;
	}
	d->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (d->fd < 0) {
		close(fd);
		free(d);
		return -ENOMEM;
	}
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->size = len;
	d->next = ictx->emu->dmabufs;
	ictx->emu->dmabufs = d;
	return fd;
}

static int dmabuf_revoke(struct emu_ictx *ictx, struct kabi_test_cmd *cmd)
{
	struct emu_dmabuf *d;

	if (!emu_fd_is_open(ictx->emu, cmd->dmabuf_revoke.dmabuf_fd))
		return -EBADF;
	d = emu_dmabuf_find(ictx->emu, cmd->dmabuf_revoke.dmabuf_fd);
	if (!d || d->vfio)
		return -EINVAL;
	/* new maps see it; existing mappings keep their IOVA (not unmapped
	 * from the domains here) */
	d->revoked = cmd->dmabuf_revoke.revoked;
	return 0;
}

/* ------------------------------------------------------------ dispatch */

int emu_cmd_test(struct emu_ucmd *u)
{
	struct emu_ictx *ictx = u->ictx;
	struct kabi_test_cmd *cmd = u->cmd;
	struct emu_selftest *st;
	struct emu_hwpt *hwpt;
	struct emu_idev *idev;
	struct emu_ioas *ioas;
	struct emu_access *a;
	uint32_t pt;
	int r;

	switch (cmd->op) {
	case KABI_TEST_OP_ADD_RESERVED: {
		uint64_t start = cmd->add_reserved.start, len = cmd->add_reserved.length, last;

		ioas = (struct emu_ioas *)emu_obj_find(ictx, cmd->id, EMU_OBJ_IOAS);
		if (!ioas)
			return -ENOENT;
		if (!len)
			return -EINVAL;
		if (__builtin_add_overflow(start, len - 1, &last))
			return -EOVERFLOW;
		return iopt_reserve(ioas->iopt, start, last, NULL);
	}
	case KABI_TEST_OP_MOCK_DOMAIN:
		return mock_domain(u, cmd, 0);
	case KABI_TEST_OP_MOCK_DOMAIN_FLAGS:
		return mock_domain(u, cmd, cmd->mock_domain_flags.dev_flags);
	case KABI_TEST_OP_MOCK_DOMAIN_REPLACE:
		st = selftest_find(ictx, cmd->id);
		if (!st)
			return -ENOENT;
		pt = cmd->mock_domain_replace.pt_id;
		r = emu_device_replace(&st->dev, EMU_NO_PASID, &pt);
		if (r)
			return r;
		cmd->mock_domain_replace.pt_id = pt;
		return emu_ucmd_respond(u);
	case KABI_TEST_OP_MD_CHECK_MAP:
		return md_check_map(ictx, cmd);
	case KABI_TEST_OP_MD_CHECK_REFS:
		return md_check_refs(ictx, cmd);
	case KABI_TEST_OP_CREATE_ACCESS:
		return create_access(u, cmd);
	case KABI_TEST_OP_DESTROY_ACCESS_PAGES:
		return destroy_access_pages(ictx, cmd);
	case KABI_TEST_OP_ACCESS_PAGES:
		return access_pages(u, cmd);
	case KABI_TEST_OP_ACCESS_RW:
		return access_rw(ictx, cmd);
	case KABI_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		if (cmd->memory_limit.limit < 12)
			return -EINVAL;
		ictx->emu->temp_memory_limit = cmd->memory_limit.limit;
		return 0;
	case KABI_TEST_OP_ACCESS_REPLACE_IOAS:
		r = access_from_fd(ictx, cmd->id, &a);
		if (r)
			return r;
		ioas = (struct emu_ioas *)emu_obj_find(ictx, cmd->access_replace_ioas.ioas_id,
						       EMU_OBJ_IOAS);
		if (!ioas)
			return -ENOENT;
		return emu_access_set_ioas(a, ioas);
	case KABI_TEST_OP_DIRTY:
		return mock_dirty(u, cmd);
	case KABI_TEST_OP_MD_CHECK_IOTLB:
		hwpt = (struct emu_hwpt *)emu_obj_find(ictx, cmd->id, EMU_OBJ_HWPT_NESTED);
		if (!hwpt)
			return -ENOENT;
		if (cmd->check_iotlb.id > 3 ||
		    hwpt->iotlb[cmd->check_iotlb.id] != cmd->check_iotlb.iotlb)
			return -EINVAL;
		return 0;
	case KABI_TEST_OP_TRIGGER_IOPF:
		idev = emu_idev_find(ictx, cmd->trigger_iopf.dev_id);
		if (!idev)
			return -ENOENT;
		/* the report's own outcome (no handler, no queue) is not returned */
		emu_device_iopf(idev->dev, cmd->trigger_iopf.pasid, cmd->trigger_iopf.grpid,
				cmd->trigger_iopf.perm, cmd->trigger_iopf.addr);
		return 0;
	case KABI_TEST_OP_DEV_CHECK_CACHE:
		idev = emu_idev_find(ictx, cmd->id);
		if (!idev)
			return -ENOENT;
		if (cmd->check_dev_cache.id > 3 ||
		    idev->dev->cache[cmd->check_dev_cache.id] != cmd->check_dev_cache.cache)
			return -EINVAL;
		return 0;
	case KABI_TEST_OP_TRIGGER_VEVENT:
		idev = emu_idev_find(ictx, cmd->trigger_vevent.dev_id);
		if (!idev)
			return -ENOENT;
		return emu_device_vevent(idev->dev);
	case KABI_TEST_OP_PASID_ATTACH:
	case KABI_TEST_OP_PASID_REPLACE:
		st = selftest_find(ictx, cmd->id);
		if (!st)
			return -ENOENT;
		pt = cmd->pasid_attach.pt_id;
		if (cmd->op == KABI_TEST_OP_PASID_ATTACH)
			r = emu_device_attach(&st->dev, cmd->pasid_attach.pasid, &pt);
		else
			r = emu_device_replace(&st->dev, cmd->pasid_attach.pasid, &pt);
		if (r)
			return r;
		cmd->pasid_attach.pt_id = pt;
		return emu_ucmd_respond(u);
	case KABI_TEST_OP_PASID_DETACH:
		st = selftest_find(ictx, cmd->id);
		if (!st)
			return -ENOENT;
		emu_device_detach(&st->dev, cmd->pasid_detach.pasid);
		return 0;
	case KABI_TEST_OP_PASID_CHECK_HWPT:
		st = selftest_find(ictx, cmd->id);
		if (!st)
			return -ENOENT;
		if (emu_device_attached_hwpt(&st->dev, cmd->pasid_check.pasid) !=
		    cmd->pasid_check.hwpt_id)
			return -EINVAL;
		return 0;
	case KABI_TEST_OP_DMABUF_GET:
		return dmabuf_get(ictx, cmd);
	case KABI_TEST_OP_DMABUF_REVOKE:
		return dmabuf_revoke(ictx, cmd);
	default:
		return -EOPNOTSUPP;
	}
}
