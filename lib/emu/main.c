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

struct cmd_desc {
	unsigned long req;
	uint32_t ksize;
	uint32_t min;
	int (*fn)(struct emu_ucmd *u);
};

#define TEST_CMD_SIZE 72u
#define TEST_CMD_MIN 68u

#define D(NR, S, M, F) [KABI_CMD_##NR - KABI_CMD_BASE] = { KABI_IO(KABI_CMD_##NR), S, M, F }
static const struct cmd_desc cmds[] = {
	D(DESTROY, 8, 8, emu_cmd_destroy),
	D(IOAS_ALLOC, 12, 12, emu_cmd_ioas_alloc),
	D(IOAS_ALLOW_IOVAS, 24, 24, emu_cmd_ioas_allow_iovas),
	D(IOAS_COPY, 40, 40, emu_cmd_ioas_copy),
	D(IOAS_IOVA_RANGES, 32, 32, emu_cmd_ioas_iova_ranges),
	D(IOAS_MAP, 40, 40, emu_cmd_ioas_map),
	D(IOAS_UNMAP, 24, 24, emu_cmd_ioas_unmap),
	D(OPTION, 24, 24, emu_cmd_option),
	D(VFIO_IOAS, 12, 12, emu_cmd_vfio_ioas),
	D(HWPT_ALLOC, 48, 24, emu_cmd_hwpt_alloc),
	D(GET_HW_INFO, 40, 32, emu_cmd_get_hw_info),
	D(HWPT_SET_DIRTY_TRACKING, 16, 16, emu_cmd_hwpt_set_dirty_tracking),
	D(HWPT_GET_DIRTY_BITMAP, 48, 48, emu_cmd_hwpt_get_dirty_bitmap),
	D(HWPT_INVALIDATE, 32, 32, emu_cmd_hwpt_invalidate),
	D(FAULT_QUEUE_ALLOC, 16, 16, emu_cmd_fault_queue_alloc),
	D(IOAS_MAP_FILE, 40, 40, emu_cmd_ioas_map_file),
	D(VIOMMU_ALLOC, 40, 24, emu_cmd_viommu_alloc),
	D(VDEVICE_ALLOC, 24, 24, emu_cmd_vdevice_alloc),
	D(IOAS_CHANGE_PROCESS, 8, 8, emu_cmd_ioas_change_process),
	D(VEVENTQ_ALLOC, 32, 28, emu_cmd_veventq_alloc),
	D(HW_QUEUE_ALLOC, 40, 40, emu_cmd_hw_queue_alloc),
	D(TEST, TEST_CMD_SIZE, TEST_CMD_MIN, emu_cmd_test),
};
#undef D

int emu_ictx_ioctl(struct emu_ictx *ictx, unsigned long req, void *arg)
{
	unsigned int nr = req & 0xff;
	const struct cmd_desc *d;
	uint64_t buf[16];
	struct emu_ucmd u;
	uint32_t size;
	int r;

	if (nr < KABI_CMD_BASE || nr >= KABI_CMD_BASE + ARRAY_SIZE(cmds))
		return emu_vfio_compat_ioctl(ictx, req, arg);
	if (emu_copy_from_user(&size, (uintptr_t)arg, sizeof(size)))
		return -EFAULT;
	d = &cmds[nr - KABI_CMD_BASE];
	if (!d->fn || d->req != req)
		return -ENOTTY;
	if (size < d->min)
		return -EINVAL;
	r = emu_copy_struct_from_user(buf, d->ksize, (uintptr_t)arg, size);
	if (r)
		return r;
	u.ictx = ictx;
	u.ubuf = (uintptr_t)arg;
	u.user_size = size;
	u.cmd = buf;
	u.ksize = d->ksize;
	emu_ictx_get(ictx);
	r = d->fn(&u);
	emu_ictx_put(ictx);
	return r;
}
