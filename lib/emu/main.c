// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The ioctl dispatch of an emulated iommufd file (the kernel's
 * drivers/iommu/iommufd/main.c): the command table and its ucmd size rules,
 * and the commands on the context itself, DESTROY and OPTION. The
 * other handlers live in the file of the object they act on: ioas.c,
 * hw_pagetable.c, device.c, viommu.c, eventq.c, vfio_compat.c, selftest.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "emu.h"
#include "shared/abi-test.h"

int emu_ucmd_respond(struct emu_ucmd *u)
{
	size_t n = u->user_size < u->ksize ? u->user_size : u->ksize;

	return emu_copy_to_user(u->ubuf, u->cmd, n);
}

static bool capable(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

static int option_rlimit_mode(struct emu_ucmd *u)
{
	struct kabi_option *cmd = u->cmd;

	if (cmd->object_id)
		return -EOPNOTSUPP;
	if (cmd->op == KABI_OPTION_OP_GET) {
		cmd->val64 = u->ictx->rlimit_mm;
	} else if (cmd->op == KABI_OPTION_OP_SET) {
		if (!capable(CAP_SYS_RESOURCE))
			return -EPERM;
		if (emu_ictx_has_objects(u->ictx))
			return -EBUSY;
		if (cmd->val64 > 1)
			return -EINVAL;
		u->ictx->rlimit_mm = cmd->val64;
	} else {
		return -EOPNOTSUPP;
	}
	return 0;
}

/* the context's options here, an object's in the file of its object */
static int emu_cmd_option(struct emu_ucmd *u)
{
	struct kabi_option *cmd = u->cmd;
	int r;

	if (cmd->reserved)
		return -EOPNOTSUPP;
	switch (cmd->option_id) {
	case KABI_OPTION_RLIMIT_MODE:
		r = option_rlimit_mode(u);
		break;
	case KABI_OPTION_HUGE_PAGES:
		r = emu_ioas_option(u);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (r)
		return r;
	return emu_copy_to_user(u->ubuf + offsetof(struct kabi_option, val64), &cmd->val64,
				sizeof(cmd->val64));
}

static int emu_cmd_destroy(struct emu_ucmd *u)
{
	struct kabi_destroy *cmd = u->cmd;

	return emu_obj_destroy_user(u->ictx, cmd->id);
}

/* ------------------------------------------------------------ dispatch */

/* a kernel copy of any command: each ioctl's struct is read into one */
union ucmd_buffer {
	struct kabi_destroy destroy;
	struct kabi_fault_alloc fault;
	struct kabi_hw_info info;
	struct kabi_hw_queue_alloc hw_queue;
	struct kabi_hwpt_alloc hwpt;
	struct kabi_hwpt_get_dirty_bitmap get_dirty_bitmap;
	struct kabi_hwpt_invalidate cache;
	struct kabi_hwpt_set_dirty_tracking set_dirty_tracking;
	struct kabi_ioas_alloc alloc;
	struct kabi_ioas_allow_iovas allow_iovas;
	struct kabi_ioas_change_process change_process;
	struct kabi_ioas_copy ioas_copy;
	struct kabi_ioas_iova_ranges iova_ranges;
	struct kabi_ioas_map map;
	struct kabi_ioas_map_file map_file;
	struct kabi_ioas_unmap unmap;
	struct kabi_option option;
	struct kabi_vdevice_alloc vdev;
	struct kabi_veventq_alloc veventq;
	struct kabi_vfio_ioas vfio_ioas;
	struct kabi_viommu_alloc viommu;
	struct kabi_test_cmd test;
};

struct emu_ioctl_op {
	unsigned long ioctl_num;
	uint32_t size;     /* the kernel's struct: longer input must have a zero tail */
	uint32_t min_size; /* up to the last member of the first version */
	int (*execute)(struct emu_ucmd *u);
};

/* 0, or a build error when e is true */
#define BUILD_BUG_ON_ZERO(e) ((int)(0 * sizeof(struct { int x; int : (-!!(e)); })))

/*
 * As IOCTL_OP() of drivers/iommu/iommufd/main.c: the sizes come from the
 * command's struct and the last member its first version had, never typed.
 */
#define IOCTL_OP(_ioctl, _fn, _struct, _last)                                   \
	[((_ioctl) & 0xff) - KABI_CMD_BASE] = {                                 \
		.ioctl_num = _ioctl,                                            \
		.size = sizeof(_struct) +                                       \
			BUILD_BUG_ON_ZERO(sizeof(union ucmd_buffer) < sizeof(_struct)), \
		.min_size = offsetofend(_struct, _last),                        \
		.execute = _fn,                                                 \
	}

static const struct emu_ioctl_op ioctl_ops[] = {
	IOCTL_OP(KABI_IOMMU_DESTROY, emu_cmd_destroy, struct kabi_destroy, id),
	IOCTL_OP(KABI_IOMMU_FAULT_QUEUE_ALLOC, emu_cmd_fault_queue_alloc, struct kabi_fault_alloc,
		 out_fault_fd),
	IOCTL_OP(KABI_IOMMU_GET_HW_INFO, emu_cmd_get_hw_info, struct kabi_hw_info, reserved),
	IOCTL_OP(KABI_IOMMU_HW_QUEUE_ALLOC, emu_cmd_hw_queue_alloc, struct kabi_hw_queue_alloc,
		 length),
	IOCTL_OP(KABI_IOMMU_HWPT_ALLOC, emu_cmd_hwpt_alloc, struct kabi_hwpt_alloc, reserved),
	IOCTL_OP(KABI_IOMMU_HWPT_GET_DIRTY_BITMAP, emu_cmd_hwpt_get_dirty_bitmap,
		 struct kabi_hwpt_get_dirty_bitmap, data),
	IOCTL_OP(KABI_IOMMU_HWPT_INVALIDATE, emu_cmd_hwpt_invalidate, struct kabi_hwpt_invalidate,
		 reserved),
	IOCTL_OP(KABI_IOMMU_HWPT_SET_DIRTY_TRACKING, emu_cmd_hwpt_set_dirty_tracking,
		 struct kabi_hwpt_set_dirty_tracking, reserved),
	IOCTL_OP(KABI_IOMMU_IOAS_ALLOC, emu_cmd_ioas_alloc, struct kabi_ioas_alloc, out_ioas_id),
	IOCTL_OP(KABI_IOMMU_IOAS_ALLOW_IOVAS, emu_cmd_ioas_allow_iovas, struct kabi_ioas_allow_iovas,
		 allowed_iovas),
	IOCTL_OP(KABI_IOMMU_IOAS_CHANGE_PROCESS, emu_cmd_ioas_change_process,
		 struct kabi_ioas_change_process, reserved),
	IOCTL_OP(KABI_IOMMU_IOAS_COPY, emu_cmd_ioas_copy, struct kabi_ioas_copy, src_iova),
	IOCTL_OP(KABI_IOMMU_IOAS_IOVA_RANGES, emu_cmd_ioas_iova_ranges, struct kabi_ioas_iova_ranges,
		 out_iova_alignment),
	IOCTL_OP(KABI_IOMMU_IOAS_MAP, emu_cmd_ioas_map, struct kabi_ioas_map, iova),
	IOCTL_OP(KABI_IOMMU_IOAS_MAP_FILE, emu_cmd_ioas_map_file, struct kabi_ioas_map_file, iova),
	IOCTL_OP(KABI_IOMMU_IOAS_UNMAP, emu_cmd_ioas_unmap, struct kabi_ioas_unmap, length),
	IOCTL_OP(KABI_IOMMU_OPTION, emu_cmd_option, struct kabi_option, val64),
	IOCTL_OP(KABI_IOMMU_VDEVICE_ALLOC, emu_cmd_vdevice_alloc, struct kabi_vdevice_alloc,
		 virt_id),
	IOCTL_OP(KABI_IOMMU_VEVENTQ_ALLOC, emu_cmd_veventq_alloc, struct kabi_veventq_alloc,
		 out_veventq_fd),
	IOCTL_OP(KABI_IOMMU_VFIO_IOAS, emu_cmd_vfio_ioas, struct kabi_vfio_ioas, reserved),
	IOCTL_OP(KABI_IOMMU_VIOMMU_ALLOC, emu_cmd_viommu_alloc, struct kabi_viommu_alloc,
		 out_viommu_id),
	IOCTL_OP(KABI_IOMMU_TEST_CMD, emu_cmd_test, struct kabi_test_cmd, last),
};
#undef IOCTL_OP

int emu_ictx_ioctl(struct emu_ictx *ictx, unsigned long req, void *arg)
{
	unsigned int nr = req & 0xff;
	const struct emu_ioctl_op *op;
	union ucmd_buffer buf;
	struct emu_ucmd u;
	uint32_t size;
	int r;

	if (nr < KABI_CMD_BASE || nr >= KABI_CMD_BASE + ARRAY_SIZE(ioctl_ops))
		return emu_vfio_compat_ioctl(ictx, req, arg);
	if (emu_copy_from_user(&size, (uintptr_t)arg, sizeof(size)))
		return -EFAULT;
	op = &ioctl_ops[nr - KABI_CMD_BASE];
	if (!op->execute || op->ioctl_num != req)
		return -ENOTTY;
	if (size < op->min_size)
		return -EINVAL;
	r = emu_copy_struct_from_user(&buf, op->size, (uintptr_t)arg, size);
	if (r)
		return r;
	u.ictx = ictx;
	u.ubuf = (uintptr_t)arg;
	u.user_size = size;
	u.cmd = &buf;
	u.ksize = op->size;
	emu_ictx_get(ictx);
	r = op->execute(&u);
	emu_ictx_put(ictx);
	return r;
}
