// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * iommufd contexts and their object tables: IDs (lowest free >= 1, reserved
 * during creation, tombstones), DESTROY rules and close semantics (drivers/iommu/iommufd/main.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"

#define EMU_ID_MAX 0x7fffffffu

/* ------------------------------------------------------------ allocations */

void *emu_calloc(struct iommufd_emu *emu, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return emu_zalloc(emu, bytes);
}

void *emu_realloc(struct iommufd_emu *emu, void *p, size_t n, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	if (emu_should_fail(emu))
		return NULL;
	return realloc(p, bytes ? bytes : 1);
}

/* ------------------------------------------------------------ object table */

void *emu_obj_alloc(struct emu_ictx *ictx, enum emu_obj_type type, size_t size,
		    void (*destroy)(struct emu_obj *obj), int *err)
{
	struct emu_obj *obj;
	uint32_t id;

	obj = emu_zalloc(ictx->emu, size);
	if (!obj) {
		*err = -ENOMEM;
		return NULL;
	}
	for (id = 1; id < ictx->xa_size; id++)
		if (!ictx->xa[id])
			break;
	if (id >= ictx->xa_size) {
		uint32_t n = ictx->xa_size ? ictx->xa_size * 2 : 64;
		struct emu_obj **p;

		if (id > EMU_ID_MAX) {
			free(obj);
			*err = -EBUSY;
			return NULL;
		}
		p = emu_realloc(ictx->emu, ictx->xa, n, sizeof(*p));
		if (!p) {
			free(obj);
			*err = -ENOMEM;
			return NULL;
		}
		memset(p + ictx->xa_size, 0, (n - ictx->xa_size) * sizeof(*p));
		ictx->xa = p;
		ictx->xa_size = n;
	}
	obj->type = type;
	obj->id = id;
	obj->users = 1;
	obj->ictx = ictx;
	obj->destroy = destroy;
	ictx->xa[id] = obj;
	return obj;
}

void emu_obj_publish(struct emu_obj *obj)
{
	obj->published = true;
}

void emu_obj_abort(struct emu_obj *obj)
{
	emu_obj_remove(obj, false);
}

struct emu_obj *emu_obj_find(struct emu_ictx *ictx, uint32_t id, enum emu_obj_type type)
{
	struct emu_obj *obj;

	if (id == 0 || id >= ictx->xa_size)
		return NULL;
	obj = ictx->xa[id];
	if (!obj || obj == EMU_XA_TOMB || !obj->published)
		return NULL;
	if (type != EMU_OBJ_ANY && obj->type != type)
		return NULL;
	return obj;
}

void emu_obj_remove(struct emu_obj *obj, bool tombstone)
{
	struct emu_ictx *ictx = obj->ictx;

	if (obj->id < ictx->xa_size && ictx->xa[obj->id] == obj)
		ictx->xa[obj->id] = tombstone ? EMU_XA_TOMB : NULL;
	if (obj->destroy)
		obj->destroy(obj);
	else
		free(obj);
}

int emu_obj_destroy_user(struct emu_ictx *ictx, uint32_t id)
{
	struct emu_obj *obj = emu_obj_find(ictx, id, EMU_OBJ_ANY);

	if (!obj)
		return -ENOENT;
	if (obj->users != 1)
		return -EBUSY;
	emu_obj_remove(obj, false);
	return 0;
}

bool emu_ictx_has_objects(struct emu_ictx *ictx)
{
	for (uint32_t i = 1; i < ictx->xa_size; i++)
		if (ictx->xa[i])
			return true;
	return false;
}

/* ------------------------------------------------------------ contexts */

static void ictx_release(struct emu_ictx *ictx)
{
	bool progress;

	ictx->dead = true;
	/* leaf first: destroy everything nobody else uses, until nothing moves */
	do {
		progress = false;
		for (uint32_t i = 1; i < ictx->xa_size; i++) {
			struct emu_obj *obj = ictx->xa[i];

			if (!obj || obj == EMU_XA_TOMB || !obj->published || obj->users != 1)
				continue;
			emu_obj_remove(obj, false);
			progress = true;
		}
	} while (progress);
	/* whatever is left (should not happen): force it */
	for (uint32_t i = 1; i < ictx->xa_size; i++) {
		struct emu_obj *obj = ictx->xa[i];

		if (obj && obj != EMU_XA_TOMB && obj->published)
			emu_obj_remove(obj, false);
	}
	free(ictx->xa);
	ictx->emu->nictx--;
	free(ictx);
}

void emu_ictx_get(struct emu_ictx *ictx)
{
	ictx->refs++;
}

void emu_ictx_put(struct emu_ictx *ictx)
{
	if (--ictx->refs == 0)
		ictx_release(ictx);
}

struct iommufd_emu *emu_ictx_emu(struct emu_ictx *ictx)
{
	return ictx->emu;
}

static int ictx_f_ioctl(struct emu_file *f, unsigned long req, void *arg)
{
	return emu_ictx_ioctl(f->priv, req, arg);
}

static int ictx_f_mmap(struct emu_file *f, off_t off, size_t len, int prot, int flags, void **addr)
{
	return emu_ictx_mmap(f->priv, off, len, prot, flags, addr);
}

static ssize_t ictx_f_read(struct emu_file *f, void *buf, size_t len, off_t off, bool pos)
{
	return -EINVAL;
}

static void ictx_f_release(struct emu_file *f)
{
	struct emu_ictx *ictx = f->priv;

	ictx->file = NULL;
	emu_ictx_put(ictx);
}

/* /dev/iommu, or /dev/vfio/vfio when it is iommufd's compat container */
static int ictx_f_fstat(struct emu_file *f, struct stat *st)
{
	struct emu_ictx *ictx = f->priv;

	if (ictx->container_node)
		emu_stat_chr(st, EMU_MISC_MAJOR, EMU_VFIO_MINOR, 0666);
	else
		emu_stat_chr(st, EMU_MISC_MAJOR, EMU_IOMMUFD_MINOR, 0660);
	return 0;
}

static const struct emu_file_ops ictx_fops = {
	.name = "[iommufd]",
	.fstat = ictx_f_fstat,
	.ioctl = ictx_f_ioctl,
	.read = ictx_f_read,
	.write = NULL,
	.mmap = ictx_f_mmap,
	.release = ictx_f_release,
};

int emu_ictx_open(struct iommufd_emu *emu, int flags)
{
	return emu_ictx_open_mode(emu, flags, false);
}

int emu_ictx_open_mode(struct iommufd_emu *emu, int flags, bool mm)
{
	struct emu_ictx *ictx = emu_zalloc(emu, sizeof(*ictx));
	int fd;

	(void)flags;
	if (!ictx)
		return -ENOMEM;
	ictx->emu = emu;
	ictx->refs = 1;
	ictx->rlimit_mm = mm;
	ictx->container_node = mm;
	fd = emu_file_new(emu, &ictx_fops, ictx, &ictx->file);
	if (fd < 0) {
		free(ictx);
		return fd;
	}
	emu->nictx++;
	return fd;
}

int emu_ictx_from_fd(struct iommufd_emu *emu, int fd, struct emu_ictx **ret)
{
	struct emu_file *f = emu_file_lookup(emu, fd);

	if (!f)
		return emu_fd_is_open(emu, fd) ? -EBADFD : -EBADF;
	if (f->ops != &ictx_fops)
		return -EBADFD;
	emu_ictx_get(f->priv);
	*ret = f->priv;
	return 0;
}

struct emu_ictx *emu_ictx_new_internal(struct iommufd_emu *emu, bool mm)
{
	struct emu_ictx *ictx = emu_zalloc(emu, sizeof(*ictx));

	if (!ictx)
		return NULL;
	ictx->emu = emu;
	ictx->refs = 1;
	ictx->rlimit_mm = mm;
	emu->nictx++;
	return ictx;
}
