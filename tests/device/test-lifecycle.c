// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VFIO device lifecycle as one table: every (state, operation) pair on
 * the edu device, with the kernel's errno and the state that results. The
 * same table runs on the emulator and, with IOMMUFD_TEST_REAL=1, on the real
 * kernel in the VM. Then the group path and exclusivity rules.
 *
 * In the type1 mode (IOMMUFD_MODE=type1: the contexts drive a VFIO
 * container) the same (state, operation) pairs run against a table of
 * their own, the library's documented answers on the container: bind joins
 * the device's group, attach to the IOAS or to HWPT 2 gives HWPT 2 (the
 * container's domain, so "attached-hwpt" is HWPT 2), detach of an attached
 * device and PASIDs are EOPNOTSUPP, device IDs name no kernel object.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "device-common.h"
#include "shared/backend.h" /* the emulator's ops, to make one sysfs answer stale */

enum st { S_PARKED, S_BOUND, S_ATT_IOAS, S_ATT_HWPT, S_CLOSED, NR_STATES = 4 };
static const char *const st_name[] = { "parked", "bound", "attached-ioas", "attached-hwpt", "closed" };

enum op {
	OP_BIND,
	OP_BIND_AGAIN,
	OP_ATTACH_IOAS,
	OP_ATTACH_HWPT,
	OP_ATTACH_BAD_ID,
	OP_ATTACH_WRONG_TYPE,
	OP_DETACH,
	OP_DESTROY_DEV,
	OP_DESTROY_HWPT,
	OP_GET_INFO,
	OP_CLOSE,
	OP_GROUP_OPEN,
	OP_BIND_GROUP_OPEN,
	OP_SECOND_CDEV_BIND,
	OP_PASID_ATTACH_IOAS,
	OP_PASID_ATTACH_HWPT,
	OP_PASID_DETACH,
	NR_OPS
};
static const char *const op_name[] = {
	"bind", "bind-again", "attach-ioas", "attach-hwpt", "attach-bad-id", "attach-wrong-type",
	"detach", "destroy-dev_id", "destroy-hwpt", "get-info", "close", "group-open-while",
	"bind-while-group-open", "second-cdev-file-bind", "pasid-attach-ioas", "pasid-attach-hwpt",
	"pasid-detach",
};

struct outcome {
	int err;      /* 0 or the positive errno expected */
	enum st then; /* the state of the device file afterwards */
};

#define OK(s) { 0, s }
#define E(e, s) { e, s }

/* THE TABLE: [operation][starting state], the kernel's answers (drivers/vfio/device_cdev.c, drivers/vfio/vfio_main.c) */
static const struct outcome table[NR_OPS][NR_STATES] = {
	/*                      parked                  bound                   attached(ioas)            attached(hwpt) */
	[OP_BIND] =             { OK(S_BOUND),          E(EINVAL, S_BOUND),     E(EINVAL, S_ATT_IOAS),    E(EINVAL, S_ATT_HWPT) },
	/* bind twice: the outcome of the second bind */
	[OP_BIND_AGAIN] =       { E(EINVAL, S_BOUND),   E(EINVAL, S_BOUND),     E(EINVAL, S_ATT_IOAS),    E(EINVAL, S_ATT_HWPT) },
	[OP_ATTACH_IOAS] =      { E(EINVAL, S_PARKED),  OK(S_ATT_IOAS),         OK(S_ATT_IOAS),           OK(S_ATT_IOAS) },
	[OP_ATTACH_HWPT] =      { E(EINVAL, S_PARKED),  OK(S_ATT_HWPT),         OK(S_ATT_HWPT),           OK(S_ATT_HWPT) },
	[OP_ATTACH_BAD_ID] =    { E(EINVAL, S_PARKED),  E(ENOENT, S_BOUND),     E(ENOENT, S_ATT_IOAS),    E(ENOENT, S_ATT_HWPT) },
	[OP_ATTACH_WRONG_TYPE] = { E(EINVAL, S_PARKED), E(EINVAL, S_BOUND),     E(EINVAL, S_ATT_IOAS),    E(EINVAL, S_ATT_HWPT) },
	[OP_DETACH] =           { E(EINVAL, S_PARKED),  OK(S_BOUND),            OK(S_BOUND),              OK(S_BOUND) },
	/* parked: the device has no ID; DESTROY(0) */
	[OP_DESTROY_DEV] =      { E(ENOENT, S_PARKED),  E(EBUSY, S_BOUND),      E(EBUSY, S_ATT_IOAS),     E(EBUSY, S_ATT_HWPT) },
	/* the manual HWPT (unattached in parked/bound), or the attached one */
	[OP_DESTROY_HWPT] =     { OK(S_PARKED),         OK(S_BOUND),            E(EBUSY, S_ATT_IOAS),     E(EBUSY, S_ATT_HWPT) },
	[OP_GET_INFO] =         { E(EINVAL, S_PARKED),  OK(S_BOUND),            OK(S_ATT_IOAS),           OK(S_ATT_HWPT) },
	[OP_CLOSE] =            { OK(S_CLOSED),         OK(S_CLOSED),           OK(S_CLOSED),             OK(S_CLOSED) },
	[OP_GROUP_OPEN] =       { OK(S_PARKED),         E(EBUSY, S_BOUND),      E(EBUSY, S_ATT_IOAS),     E(EBUSY, S_ATT_HWPT) },
	/* open the group (fails unless parked), then bind this file */
	[OP_BIND_GROUP_OPEN] =  { E(EBUSY, S_PARKED),   E(EINVAL, S_BOUND),     E(EINVAL, S_ATT_IOAS),    E(EINVAL, S_ATT_HWPT) },
	/* bind a second cdev file of the device; the state is the first file's */
	[OP_SECOND_CDEV_BIND] = { OK(S_PARKED),         E(EINVAL, S_BOUND),     E(EINVAL, S_ATT_IOAS),    E(EINVAL, S_ATT_HWPT) },
	/* pasid 1: an IOAS gives a non-pasid-compatible auto domain; the HWPT is not PASID either */
	[OP_PASID_ATTACH_IOAS] = { E(EINVAL, S_PARKED), E(EINVAL, S_BOUND),     E(EINVAL, S_ATT_IOAS),    E(EINVAL, S_ATT_HWPT) },
	[OP_PASID_ATTACH_HWPT] = { E(EINVAL, S_PARKED), E(EINVAL, S_BOUND),     E(EINVAL, S_ATT_IOAS),    E(EINVAL, S_ATT_HWPT) },
	/* detaching a pasid that is not attached: silent success */
	[OP_PASID_DETACH] =     { E(EINVAL, S_PARKED),  OK(S_BOUND),            OK(S_ATT_IOAS),           OK(S_ATT_HWPT) },
};

/*
 * THE TYPE1 TABLE: a container (drivers/vfio/container.c, group.c and the
 * library's IOAS rules, lib/type1). The target HWPT is HWPT 2, which exists
 * while a group is in the container: in "parked" the NVMe is bound, so it
 * does.
 */
static const struct outcome table_t1[NR_OPS][NR_STATES] = {
	/*                      parked                  bound                   attached(ioas)            attached(hwpt 2) */
	[OP_BIND] =             { OK(S_BOUND),          E(EINVAL, S_BOUND),     E(EINVAL, S_ATT_IOAS),    E(EINVAL, S_ATT_HWPT) },
	[OP_BIND_AGAIN] =       { E(EINVAL, S_BOUND),   E(EINVAL, S_BOUND),     E(EINVAL, S_ATT_IOAS),    E(EINVAL, S_ATT_HWPT) },
	[OP_ATTACH_IOAS] =      { E(EINVAL, S_PARKED),  OK(S_ATT_IOAS),         OK(S_ATT_IOAS),           OK(S_ATT_IOAS) },
	[OP_ATTACH_HWPT] =      { E(EINVAL, S_PARKED),  OK(S_ATT_HWPT),         OK(S_ATT_HWPT),           OK(S_ATT_HWPT) },
	[OP_ATTACH_BAD_ID] =    { E(EINVAL, S_PARKED),  E(ENOENT, S_BOUND),     E(ENOENT, S_ATT_IOAS),    E(ENOENT, S_ATT_HWPT) },
	/* a device ID is neither the IOAS nor HWPT 2 */
	[OP_ATTACH_WRONG_TYPE] = { E(EINVAL, S_PARKED), E(ENOENT, S_BOUND),     E(ENOENT, S_ATT_IOAS),    E(ENOENT, S_ATT_HWPT) },
	/* no blocked state: bound is a no-op, attached cannot go back */
	[OP_DETACH] =           { E(EINVAL, S_PARKED),  OK(S_BOUND),            E(EOPNOTSUPP, S_ATT_IOAS), E(EOPNOTSUPP, S_ATT_HWPT) },
	/* a type1 device ID is the library's label, no object */
	[OP_DESTROY_DEV] =      { E(ENOENT, S_PARKED),  E(ENOENT, S_BOUND),     E(ENOENT, S_ATT_IOAS),    E(ENOENT, S_ATT_HWPT) },
	/* HWPT 2 stays while a group is in the container */
	[OP_DESTROY_HWPT] =     { E(EBUSY, S_PARKED),   E(EBUSY, S_BOUND),      E(EBUSY, S_ATT_IOAS),     E(EBUSY, S_ATT_HWPT) },
	[OP_GET_INFO] =         { E(EINVAL, S_PARKED),  OK(S_BOUND),            OK(S_ATT_IOAS),           OK(S_ATT_HWPT) },
	[OP_CLOSE] =            { OK(S_CLOSED),         OK(S_CLOSED),           OK(S_CLOSED),             OK(S_CLOSED) },
	/* the container holds the group's file: a second open is EBUSY */
	[OP_GROUP_OPEN] =       { OK(S_PARKED),         E(EBUSY, S_BOUND),      E(EBUSY, S_ATT_IOAS),     E(EBUSY, S_ATT_HWPT) },
	[OP_BIND_GROUP_OPEN] =  { E(EBUSY, S_PARKED),   E(EINVAL, S_BOUND),     E(EINVAL, S_ATT_IOAS),    E(EINVAL, S_ATT_HWPT) },
	/* a second handle of the device: the group path opens a device more than once */
	[OP_SECOND_CDEV_BIND] = { OK(S_PARKED),         OK(S_BOUND),            OK(S_ATT_IOAS),           OK(S_ATT_HWPT) },
	[OP_PASID_ATTACH_IOAS] = { E(EINVAL, S_PARKED), E(EOPNOTSUPP, S_BOUND), E(EOPNOTSUPP, S_ATT_IOAS), E(EOPNOTSUPP, S_ATT_HWPT) },
	[OP_PASID_ATTACH_HWPT] = { E(EINVAL, S_PARKED), E(EOPNOTSUPP, S_BOUND), E(EOPNOTSUPP, S_ATT_IOAS), E(EOPNOTSUPP, S_ATT_HWPT) },
	[OP_PASID_DETACH] =     { E(EINVAL, S_PARKED),  E(EOPNOTSUPP, S_BOUND), E(EOPNOTSUPP, S_ATT_IOAS), E(EOPNOTSUPP, S_ATT_HWPT) },
};

struct fixture {
	bool t1; /* the contexts drive a VFIO container */
	struct iommufd_ctx *scope;
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;  /* edu, the device under test */
	struct iommufd_device *nvme; /* parked state: bound to ctx to make a HWPT */
	uint32_t ioas, hwpt, auto_hwpt, dev_id, other_id;
	int group;
};

/* reach state s on a fresh backend */
static void reach(struct fixture *f, enum st s)
{
	memset(f, 0, sizeof(*f));
	f->scope = dev_scope();
	f->ctx = test_ctx_new();
	f->t1 = iommufd_ctx_get_mode(f->ctx) == IOMMUFD_MODE_TYPE1;
	check(iommufd_ioas_alloc(f->ctx, &f->ioas));
	check(iommufd_pci_get_iommu_group(f->scope, EDU_BDF, &f->group));
	f->dev = dev_open(f->scope, EDU_BDF);
	assert_int_equal(iommufd_device_get_state(f->dev), IOMMUFD_DEVICE_PARKED);
	if (f->t1) {
		/* the container's HWPT 2 is the target; the NVMe keeps it in parked */
		f->hwpt = 2;
		if (s == S_PARKED) {
			f->nvme = dev_open(f->scope, NVME_BDF);
			check(iommufd_device_bind(f->nvme, f->ctx, NULL, &f->other_id));
			return;
		}
		check(iommufd_device_bind(f->dev, f->ctx, NULL, &f->dev_id));
		assert_true(f->dev_id > 2);
		f->other_id = f->dev_id;
		if (s == S_ATT_IOAS) {
			check(iommufd_device_attach(f->dev, f->ioas, &f->auto_hwpt));
			assert_int_equal(f->auto_hwpt, 2);
		} else if (s == S_ATT_HWPT) {
			uint32_t got;

			check(iommufd_device_attach(f->dev, f->hwpt, &got));
			assert_int_equal(got, 2);
		}
		return;
	}
	if (s == S_PARKED) {
		/* a HWPT and a DEVICE ID to use as targets, made through the NVMe */
		f->nvme = dev_open(f->scope, NVME_BDF);
		check(iommufd_device_bind(f->nvme, f->ctx, NULL, &f->other_id));
		check(iommufd_hwpt_alloc(f->ctx, f->other_id, f->ioas, NULL, &f->hwpt));
		return;
	}
	check(iommufd_device_bind(f->dev, f->ctx, NULL, &f->dev_id));
	assert_int_not_equal(f->dev_id, 0);
	f->other_id = f->dev_id;
	check(iommufd_hwpt_alloc(f->ctx, f->dev_id, f->ioas, NULL, &f->hwpt));
	if (s == S_ATT_IOAS) {
		check(iommufd_device_attach(f->dev, f->ioas, &f->auto_hwpt));
		assert_int_not_equal(f->auto_hwpt, f->hwpt);
		assert_int_not_equal(f->auto_hwpt, f->ioas);
	} else if (s == S_ATT_HWPT) {
		uint32_t got;

		check(iommufd_device_attach(f->dev, f->hwpt, &got));
		assert_int_equal(got, f->hwpt);
	}
}

static void release(struct fixture *f)
{
	iommufd_device_unref(f->dev);
	iommufd_device_unref(f->nvme);
	iommufd_ctx_unref(f->ctx);
	test_backend_put();
}

static int do_op(struct fixture *f, enum op op, enum st from)
{
	struct iommufd_device *second = NULL;
	struct iommufd_group *grp = NULL;
	struct iommufd_device_info info = { .sz = sizeof(info) };
	int r;

	switch (op) {
	case OP_BIND:
		return iommufd_device_bind(f->dev, f->ctx, NULL, NULL);
	case OP_BIND_AGAIN:
		iommufd_device_bind(f->dev, f->ctx, NULL, NULL);
		return iommufd_device_bind(f->dev, f->ctx, NULL, NULL);
	case OP_ATTACH_IOAS:
		return iommufd_device_attach(f->dev, f->ioas, NULL);
	case OP_ATTACH_HWPT:
		return iommufd_device_attach(f->dev, f->hwpt, NULL);
	case OP_ATTACH_BAD_ID:
		return iommufd_device_attach(f->dev, 9999, NULL);
	case OP_ATTACH_WRONG_TYPE:
		return iommufd_device_attach(f->dev, f->other_id, NULL);
	case OP_DETACH:
		return iommufd_device_detach(f->dev);
	case OP_DESTROY_DEV:
		return iommufd_destroy(f->ctx, from == S_PARKED ? 0 : f->dev_id);
	case OP_DESTROY_HWPT:
		return iommufd_destroy(f->ctx, from == S_ATT_IOAS ? f->auto_hwpt : f->hwpt);
	case OP_GET_INFO:
		return iommufd_device_get_info(f->dev, &info);
	case OP_CLOSE:
		f->dev = iommufd_device_unref(f->dev);
		return 0;
	case OP_GROUP_OPEN:
		r = iommufd_group_open(f->scope, f->group, &grp);
		iommufd_group_unref(grp);
		return r;
	case OP_BIND_GROUP_OPEN:
		iommufd_group_open(f->scope, f->group, &grp);
		r = iommufd_device_bind(f->dev, f->ctx, NULL, NULL);
		iommufd_group_unref(grp);
		return r;
	case OP_SECOND_CDEV_BIND:
		second = dev_open(f->scope, EDU_BDF);
		r = iommufd_device_bind(second, f->ctx, NULL, NULL);
		iommufd_device_unref(second);
		return r;
	case OP_PASID_ATTACH_IOAS:
		return iommufd_device_pasid_attach(f->dev, 1, f->ioas, NULL);
	case OP_PASID_ATTACH_HWPT:
		return iommufd_device_pasid_attach(f->dev, 1, f->hwpt, NULL);
	case OP_PASID_DETACH:
		return iommufd_device_pasid_detach(f->dev, 1);
	case NR_OPS:
		break;
	}
	return -ENOSYS;
}

/* type1: attached is to the container's domain, whatever the attach named; it cannot go */
static void verify_attached_t1(struct fixture *f)
{
	assert_int_equal(iommufd_device_get_state(f->dev), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(iommufd_device_get_pt_id(f->dev), 2);
	assert_errno(iommufd_destroy(f->ctx, 2), EBUSY);
	assert_errno(iommufd_destroy(f->ctx, f->ioas), EBUSY);
}

/* the device file is in state s: the library says so and the kernel agrees */
static void verify_state(struct fixture *f, enum st s, enum st from, enum op op)
{
	struct iommufd_device_info info = { .sz = sizeof(info) };
	struct iommufd_group *grp = NULL;

	if (s == S_CLOSED && f->t1) {
		/* closed: the group left the container; HWPT 2 stays only with the NVMe in it */
		check(iommufd_group_open(f->scope, f->group, &grp));
		iommufd_group_unref(grp);
		assert_errno(iommufd_destroy(f->ctx, f->hwpt), from == S_PARKED ? EBUSY : ENOENT);
		return;
	}
	if (s == S_CLOSED) {
		/* closed: the group is free again, an auto-HWPT is gone, a manual one stays */
		check(iommufd_group_open(f->scope, f->group, &grp));
		iommufd_group_unref(grp);
		if (from == S_ATT_IOAS)
			assert_errno(iommufd_destroy(f->ctx, f->auto_hwpt), ENOENT);
		check(iommufd_destroy(f->ctx, f->hwpt));
		return;
	}
	switch (s) {
	case S_PARKED:
		assert_int_equal(iommufd_device_get_state(f->dev), IOMMUFD_DEVICE_PARKED);
		assert_int_equal(iommufd_device_get_dev_id(f->dev), 0);
		assert_null(iommufd_device_get_ctx(f->dev));
		assert_errno(iommufd_device_get_info(f->dev, &info), EINVAL);
		/* parked does not block the group */
		check(iommufd_group_open(f->scope, f->group, &grp));
		iommufd_group_unref(grp);
		return;
	case S_BOUND:
		assert_int_equal(iommufd_device_get_state(f->dev), IOMMUFD_DEVICE_BOUND);
		assert_int_equal(iommufd_device_get_pt_id(f->dev), 0);
		break;
	case S_ATT_IOAS:
		if (f->t1) {
			verify_attached_t1(f);
			break;
		}
		assert_int_equal(iommufd_device_get_state(f->dev), IOMMUFD_DEVICE_ATTACHED);
		assert_int_not_equal(iommufd_device_get_pt_id(f->dev), 0);
		assert_int_not_equal(iommufd_device_get_pt_id(f->dev), f->hwpt);
		/* it is attached: its HWPT cannot go */
		assert_errno(iommufd_destroy(f->ctx, iommufd_device_get_pt_id(f->dev)), EBUSY);
		if (from == S_ATT_IOAS && op == OP_ATTACH_IOAS)
			assert_int_equal(iommufd_device_get_pt_id(f->dev), f->auto_hwpt);
		break;
	case S_ATT_HWPT:
		if (f->t1) {
			verify_attached_t1(f);
			break;
		}
		assert_int_equal(iommufd_device_get_state(f->dev), IOMMUFD_DEVICE_ATTACHED);
		assert_int_equal(iommufd_device_get_pt_id(f->dev), f->hwpt);
		assert_errno(iommufd_destroy(f->ctx, f->hwpt), EBUSY);
		/* replacing the auto domain freed it */
		if (from == S_ATT_IOAS)
			assert_errno(iommufd_destroy(f->ctx, f->auto_hwpt), ENOENT);
		break;
	default:
		break;
	}
	/* bound or attached; no pasid attached */
	{
		uint32_t *pasids = NULL;
		size_t nr = 1;

		check(iommufd_device_get_pasids(f->dev, &pasids, &nr));
		assert_int_equal(nr, 0);
		assert_null(pasids);
		assert_int_equal(iommufd_device_get_pasid_pt_id(f->dev, 1), 0);
	}
	assert_ptr_equal(iommufd_device_get_ctx(f->dev), f->ctx);
	if (from == S_PARKED)
		assert_int_not_equal(iommufd_device_get_dev_id(f->dev), 0);
	else
		assert_int_equal(iommufd_device_get_dev_id(f->dev), f->dev_id);
	check(iommufd_device_get_info(f->dev, &info));
	assert_true(info.flags & IOMMUFD_DEVICE_INFO_PCI);
	if (s == S_BOUND && (from == S_ATT_IOAS) && op == OP_DETACH)
		assert_errno(iommufd_destroy(f->ctx, f->auto_hwpt), ENOENT);
}

struct table_case {
	enum st from;
	enum op op;
	char name[80];
};

/* whatever happened in a test, the next one starts from a fresh backend */
static int backend_reset(void **state)
{
	(void)state;
	test_backend_put();
	return 0;
}

static void test_table_case(void **state)
{
	const struct table_case *c = *state;
	const struct outcome *o;
	struct fixture f;
	int r;

	reach(&f, c->from);
	o = f.t1 ? &table_t1[c->op][c->from] : &table[c->op][c->from];
	r = do_op(&f, c->op, c->from);
	if (r != -o->err)
		fail_msg("%s in state %s: got %d (%s), want %d; reason: %s", op_name[c->op],
			 st_name[c->from], r, r ? strerror(-r) : "success", -o->err, iommufd_last_error());
	if (r && c->op != OP_BIND_GROUP_OPEN && c->op != OP_SECOND_CDEV_BIND && c->op < OP_DESTROY_DEV)
		assert_true(strlen(iommufd_last_error()) > 0);
	/* what the mode cannot do says so */
	if (r == -EOPNOTSUPP)
		assert_non_null(strstr(iommufd_last_error(), "type1"));
	verify_state(&f, o->then, c->from, c->op);
	release(&f);
}

/* ------------------------------------------------------------ beyond the table */

/* the contexts of this run drive a VFIO container (IOMMUFD_MODE=type1) */
static bool type1(struct iommufd_ctx *ctx)
{
	return iommufd_ctx_get_mode(ctx) == IOMMUFD_MODE_TYPE1;
}

/* what the type1 mode has no equivalent for: EOPNOTSUPP, and a reason naming the mode */
#define assert_type1_refuses(call)                                                \
	do {                                                                      \
		assert_errno((call), EOPNOTSUPP);                                 \
		assert_non_null(strstr(iommufd_last_error(), "type1"));           \
	} while (0)

/* the reason explains a refusal on a parked device */
static void test_reason_parked(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF);
	uint32_t ioas;

	(void)state;
	check(iommufd_ioas_alloc(ctx, &ioas));
	assert_errno(iommufd_device_attach(dev, ioas, NULL), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "parked: bind it to a context first"));
	assert_non_null(strstr(iommufd_last_error(), "EINVAL"));
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/*
 * The iommufd commands on a device handle: refused with a reason until the
 * device is bound, then the same answers as the (ctx, dev_id) calls.
 */
static void test_device_commands(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF);
	IOMMUFD_OPTS(struct iommufd_hw_info, a);
	IOMMUFD_OPTS(struct iommufd_hw_info, b);
	uint32_t ioas, dev_id, hwpt = 0, viommu = 0, hwpt2 = 0;
	int r1, r2;

	(void)state;
	check(iommufd_ioas_alloc(ctx, &ioas));
	assert_errno(iommufd_device_get_hw_info(NULL, 0, &a), EINVAL);
	assert_errno(iommufd_device_get_hw_info(dev, 0, &a), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "iommufd_device_get_hw_info"));
	assert_non_null(strstr(iommufd_last_error(), "not bound"));
	assert_errno(iommufd_device_hwpt_alloc(dev, ioas, NULL, &hwpt), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "not bound"));
	assert_errno(iommufd_device_viommu_alloc(dev, 1, IOMMUFD_VIOMMU_ARM_SMMUV3, NULL, &viommu),
		     EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "not bound"));

	check(iommufd_device_bind(dev, ctx, NULL, &dev_id));
	if (type1(ctx)) {
		/* the same answers as the (ctx, dev_id) calls: what type1 has not */
		assert_type1_refuses(iommufd_device_get_hw_info(dev, IOMMUFD_HW_INFO_NONE, &a));
		assert_non_null(strstr(iommufd_last_error(), "iommufd_device_get_hw_info"));
		assert_type1_refuses(iommufd_get_hw_info(ctx, dev_id, IOMMUFD_HW_INFO_NONE, &b));
		assert_errno(iommufd_device_get_hw_info(dev, 0, NULL), EINVAL);
		assert_type1_refuses(iommufd_device_hwpt_alloc(dev, ioas, NULL, &hwpt));
		assert_non_null(strstr(iommufd_last_error(), "iommufd_device_hwpt_alloc"));
		assert_type1_refuses(iommufd_hwpt_alloc(ctx, dev_id, ioas, NULL, &hwpt2));
		check(iommufd_device_attach(dev, ioas, &hwpt));
		assert_int_equal(hwpt, 2);
		assert_int_equal(iommufd_device_get_pt_id(dev), 2);
		r1 = iommufd_device_viommu_alloc(dev, hwpt, IOMMUFD_VIOMMU_ARM_SMMUV3, NULL, &viommu);
		r2 = iommufd_viommu_alloc(ctx, dev_id, hwpt, IOMMUFD_VIOMMU_ARM_SMMUV3, NULL, &viommu);
		assert_int_equal(r1, -EOPNOTSUPP);
		assert_int_equal(r1, r2);
		/* after release, a new handle is parked again */
		iommufd_device_unref(dev);
		dev = dev_open(scope, EDU_BDF);
		assert_errno(iommufd_device_get_hw_info(dev, 0, &a), EINVAL);
		iommufd_device_unref(dev);
		iommufd_ctx_unref(ctx);
		test_backend_put();
		return;
	}
	check(iommufd_device_get_hw_info(dev, IOMMUFD_HW_INFO_NONE, &a));
	check(iommufd_get_hw_info(ctx, dev_id, IOMMUFD_HW_INFO_NONE, &b));
	assert_memory_equal(&a, &b, sizeof(a));
	assert_errno(iommufd_device_get_hw_info(dev, 0, NULL), EINVAL);

	check(iommufd_device_hwpt_alloc(dev, ioas, NULL, &hwpt));
	check(iommufd_device_attach(dev, hwpt, NULL));
	assert_int_equal(iommufd_device_get_pt_id(dev), hwpt);
	/* a failure is the kernel's, reported under the device-handle call */
	r1 = iommufd_device_hwpt_alloc(dev, 9999, NULL, &hwpt2);
	assert_non_null(strstr(iommufd_last_error(), "iommufd_device_hwpt_alloc"));
	assert_non_null(strstr(iommufd_last_error(), "IOMMU_HWPT_ALLOC"));
	r2 = iommufd_hwpt_alloc(ctx, dev_id, 9999, NULL, &hwpt2);
	assert_int_equal(r1, r2);
	assert_true(r1 < 0);
	/* the vIOMMU call answers like the (ctx, dev_id) one, whatever the IOMMU */
	r1 = iommufd_device_viommu_alloc(dev, hwpt, IOMMUFD_VIOMMU_ARM_SMMUV3, NULL, &viommu);
	r2 = iommufd_viommu_alloc(ctx, dev_id, hwpt, IOMMUFD_VIOMMU_ARM_SMMUV3, NULL, &viommu);
	assert_int_equal(r1, r2);
	assert_true(r1 < 0); /* hwpt is not a nest parent */

	/* after unbind (close), the handle is gone; a new one is parked again */
	iommufd_device_unref(dev);
	dev = dev_open(scope, EDU_BDF);
	assert_errno(iommufd_device_get_hw_info(dev, 0, &a), EINVAL);
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/* open by cdev path and by adopting an fd give the same device */
static void test_open_paths(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *a = NULL, *b = NULL;
	uint32_t id;
	int fd;

	(void)state;
	if (type1(scope)) {
		uint32_t id2;

		/* no cdev path nor adopted device file: the group is the way in */
		assert_type1_refuses(iommufd_device_open(scope, "/dev/vfio/devices/vfio0", &a));
		assert_null(a);
		fd = test_open_node("/dev/vfio/devices/vfio0", O_RDWR);
		assert_true(fd >= 0);
		assert_type1_refuses(iommufd_device_new_from_fd(scope, fd, &b));
		assert_null(b);
		assert_ok(test_fd_close(fd)); /* refused: the fd stays the caller's */
		/* two handles of the device through its group: both join, each with its own ID */
		a = dev_open(scope, EDU_BDF);
		b = dev_open(scope, EDU_BDF);
		assert_int_equal(iommufd_device_get_fd(a), -1); /* no file until bind */
		check(iommufd_device_bind(a, ctx, NULL, &id));
		check(iommufd_device_bind(b, ctx, NULL, &id2));
		assert_true(id > 2 && id2 > 2 && id != id2);
		assert_true(iommufd_device_get_fd(a) >= 0);
		iommufd_device_unref(b);
		iommufd_device_unref(a);
		a = NULL;
		assert_errno(iommufd_device_open_pci(scope, "0000:00:1e.0", &a), ENODEV);
		assert_errno(iommufd_device_open_pci(scope, "../../etc", &a), EINVAL);
		iommufd_ctx_unref(ctx);
		test_backend_put();
		return;
	}
	check(iommufd_device_open(scope, "/dev/vfio/devices/vfio0", &a));
	check(iommufd_device_bind(a, ctx, NULL, &id));
	/* a second file (an adopted fd of a new open) of the same device cannot bind */
	fd = test_open_node("/dev/vfio/devices/vfio0", O_RDWR);
	assert_true(fd >= 0);
	check(iommufd_device_new_from_fd(scope, fd, &b));
	assert_int_equal(iommufd_device_get_fd(b), fd);
	assert_errno(iommufd_device_bind(b, ctx, NULL, NULL), EINVAL);
	iommufd_device_unref(b);
	/* closing a unbinds: a new file binds, and gets the lowest free ID again */
	a = iommufd_device_unref(a);
	check(iommufd_device_open(scope, "/dev/vfio/devices/vfio0", &a));
	{
		uint32_t id2;

		check(iommufd_device_bind(a, ctx, NULL, &id2));
		assert_int_equal(id2, id);
	}
	iommufd_device_unref(a);
	assert_errno(iommufd_device_open_pci(scope, "0000:00:1e.0", &a), ENODEV);
	assert_errno(iommufd_device_open_pci(scope, "../../etc", &a), EINVAL);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/*
 * iommufd_device_new_from_fd() adopts parked VFIO device files only: a closed
 * number is EBADF, a file of another kind ENOTTY, a device file bound already
 * (here: the one another handle owns) EBUSY; a refused fd stays the caller's.
 * A handle never closes a number that no longer holds its file.
 */
static void test_adopt_checks(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *a = NULL, *b = NULL;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), p[2], closed, fd, other;

	(void)state;
	assert_true(null >= 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	closed = dup(null);
	assert_true(closed >= 0);
	close(closed);
	assert_errno(iommufd_device_new_from_fd(scope, closed, &b), EBADF);
	assert_non_null(strstr(iommufd_last_error(), "not an open file"));
	if (type1(scope)) {
		/* an open file: what type1 cannot adopt (test_open_paths) */
		assert_type1_refuses(iommufd_device_new_from_fd(scope, null, &b));
		assert_null(b);
		goto out;
	}
	assert_errno(iommufd_device_new_from_fd(scope, null, &b), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "not a VFIO device file"));
	assert_errno(iommufd_device_new_from_fd(scope, p[0], &b), ENOTTY);
	assert_errno(iommufd_device_new_from_fd(scope, iommufd_ctx_get_fd(ctx), &b), ENOTTY);
	assert_null(b);
	assert_true(fcntl(null, F_GETFD) >= 0);
	assert_true(fcntl(p[0], F_GETFD) >= 0);
	/* the bound file of another handle */
	check(iommufd_device_open(scope, "/dev/vfio/devices/vfio0", &a));
	check(iommufd_device_bind(a, ctx, NULL, NULL));
	assert_errno(iommufd_device_new_from_fd(scope, iommufd_device_get_fd(a), &b), EBUSY);
	assert_non_null(strstr(iommufd_last_error(), "parked"));
	check(iommufd_device_get_info(a, &(struct iommufd_device_info){ .sz = sizeof(struct iommufd_device_info) }));
	a = iommufd_device_unref(a);
	/* adopted, then closed by its former owner and the number reused:
	 * the handle leaves the new file alone */
	fd = test_open_node("/dev/vfio/devices/vfio0", O_RDWR);
	assert_true(fd >= 0);
	check(iommufd_device_new_from_fd(scope, fd, &b));
	close(fd);
	other = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(other, fd);
	iommufd_device_unref(b);
	assert_true(fcntl(other, F_GETFD) >= 0);
	close(other);
	/* the device was released: it binds again */
	check(iommufd_device_open(scope, "/dev/vfio/devices/vfio0", &a));
	check(iommufd_device_bind(a, ctx, NULL, NULL));
	iommufd_device_unref(a);
out:
	close(p[0]);
	close(p[1]);
	close(null);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/* the VF token: edu is neither PF nor VF, the token is refused with EINVAL */
static void test_token(void **state)
{
	static const uint8_t token[16] = { 1, 2, 3 };
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF);

	(void)state;
	assert_errno(iommufd_device_bind(dev, ctx, token, NULL), EINVAL);
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_PARKED);
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/*
 * type1: the group set on the container, its device ATTACHED to HWPT 2 (the
 * container's domain); the group leaves only when no device file is open
 * (drivers/vfio/group.c: container_users)
 */
static void group_path_t1(struct iommufd_ctx *scope, struct iommufd_ctx *ctx)
{
	struct iommufd_device *gdev = NULL, *cdev;
	struct iommufd_device_info info = { .sz = sizeof(info) };
	struct iommufd_group *grp = NULL, *grp2 = NULL;
	uint32_t flags, ioas, vioas;
	int group;

	check(iommufd_ioas_alloc(ctx, &ioas));
	check(iommufd_pci_get_iommu_group(scope, EDU_BDF, &group));
	check(iommufd_group_open(scope, group, &grp));
	assert_errno(iommufd_group_open(scope, group, &grp2), EBUSY);
	check(iommufd_group_get_status(grp, &flags));
	assert_int_equal(flags & IOMMUFD_GROUP_CTX_SET, 0);
	assert_true(flags & IOMMUFD_GROUP_VIABLE);
	assert_errno(iommufd_group_get_device(grp, EDU_BDF, &gdev), EINVAL);
	assert_errno(iommufd_group_unset_ctx(grp), EINVAL);
	check(iommufd_group_set_ctx(grp, ctx));
	assert_errno(iommufd_group_set_ctx(grp, ctx), EINVAL);
	check(iommufd_group_get_status(grp, &flags));
	assert_true(flags & IOMMUFD_GROUP_CTX_SET);
	/* the context is the container: no compat IOAS to choose */
	assert_type1_refuses(iommufd_vfio_ioas_get(ctx, &vioas));
	assert_errno(iommufd_group_get_device(grp, NVME_BDF, &gdev), ENODEV);
	check(iommufd_group_get_device(grp, EDU_BDF, &gdev));
	assert_true(iommufd_device_is_group_path(gdev));
	assert_int_equal(iommufd_device_get_state(gdev), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(iommufd_device_get_pt_id(gdev), 2);
	assert_int_equal(iommufd_device_get_dev_id(gdev), 0);
	check(iommufd_device_get_info(gdev, &info));
	{
		IOMMUFD_OPTS(struct iommufd_hw_info, hw);

		assert_errno(iommufd_device_get_hw_info(gdev, 0, &hw), EINVAL);
		assert_non_null(strstr(iommufd_last_error(), "VFIO group"));
	}
	assert_errno(iommufd_device_bind(gdev, ctx, NULL, NULL), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "group"));
	assert_errno(iommufd_device_attach(gdev, ioas, NULL), ENOTTY);
	assert_errno(iommufd_device_detach(gdev), ENOTTY);
	assert_int_equal(iommufd_device_get_state(gdev), IOMMUFD_DEVICE_ATTACHED);
	/* a group is in the container: neither the IOAS nor HWPT 2 can go */
	assert_errno(iommufd_destroy(ctx, ioas), EBUSY);
	assert_errno(iommufd_destroy(ctx, 2), EBUSY);
	/* another handle of the device: its group is open, so it cannot join */
	cdev = dev_open(scope, EDU_BDF);
	assert_errno(iommufd_device_bind(cdev, ctx, NULL, NULL), EBUSY);
	/* a device file of the group is open: the group stays in the container */
	assert_errno(iommufd_group_unset_ctx(grp), EBUSY);
	check(iommufd_device_get_info(gdev, &info)); /* still usable */
	gdev = iommufd_device_unref(gdev);
	check(iommufd_group_unset_ctx(grp));
	grp = iommufd_group_unref(grp);
	assert_errno(iommufd_destroy(ctx, 2), ENOENT); /* no group: no domain */
	/* the group is free: the other handle joins through it */
	check(iommufd_device_bind(cdev, ctx, NULL, NULL));
	assert_errno(iommufd_group_open(scope, group, &grp), EBUSY);
	iommufd_device_unref(cdev);
	check(iommufd_group_open(scope, group, &grp));
	iommufd_group_unref(grp);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/* the group path: set onto a context, device ATTACHED to the compat IOAS */
static void test_group_path(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *gdev = NULL, *cdev;
	struct iommufd_device_info info = { .sz = sizeof(info) };
	struct iommufd_group *grp = NULL, *grp2 = NULL;
	uint32_t flags, ioas;
	int group;

	(void)state;
	if (type1(ctx)) {
		group_path_t1(scope, ctx);
		return;
	}
	check(iommufd_pci_get_iommu_group(scope, EDU_BDF, &group));
	check(iommufd_group_open(scope, group, &grp));
	assert_errno(iommufd_group_open(scope, group, &grp2), EBUSY);
	check(iommufd_group_get_status(grp, &flags));
	assert_int_equal(flags & IOMMUFD_GROUP_CTX_SET, 0);
	assert_true(flags & IOMMUFD_GROUP_VIABLE);
	/* no context yet */
	assert_errno(iommufd_group_get_device(grp, EDU_BDF, &gdev), EINVAL);
	assert_errno(iommufd_group_unset_ctx(grp), EINVAL);
	check(iommufd_group_set_ctx(grp, ctx));
	assert_errno(iommufd_group_set_ctx(grp, ctx), EINVAL);
	check(iommufd_group_get_status(grp, &flags));
	assert_true(flags & IOMMUFD_GROUP_CTX_SET);
	/* the compat IOAS was made */
	check(iommufd_vfio_ioas_get(ctx, &ioas));
	assert_errno(iommufd_group_get_device(grp, NVME_BDF, &gdev), ENODEV);
	/* the first open attaches to the current compat IOAS: none -> ENODEV */
	check(iommufd_vfio_ioas_clear(ctx));
	assert_errno(iommufd_group_get_device(grp, EDU_BDF, &gdev), ENODEV);
	check(iommufd_vfio_ioas_set(ctx, ioas));
	check(iommufd_group_get_device(grp, EDU_BDF, &gdev));
	assert_true(iommufd_device_is_group_path(gdev));
	assert_int_equal(iommufd_device_get_state(gdev), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(iommufd_device_get_dev_id(gdev), 0);
	check(iommufd_device_get_info(gdev, &info));
	/* no DEVICE ID: the device-handle commands cannot name it */
	{
		IOMMUFD_OPTS(struct iommufd_hw_info, hw);

		assert_errno(iommufd_device_get_hw_info(gdev, 0, &hw), EINVAL);
		assert_non_null(strstr(iommufd_last_error(), "VFIO group"));
	}
	/* cdev-only calls: ENOTTY; bind: EINVAL */
	assert_errno(iommufd_device_bind(gdev, ctx, NULL, NULL), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "group"));
	assert_errno(iommufd_device_attach(gdev, ioas, NULL), ENOTTY);
	assert_errno(iommufd_device_detach(gdev), ENOTTY);
	assert_int_equal(iommufd_device_get_state(gdev), IOMMUFD_DEVICE_ATTACHED);
	/* the compat IOAS has an attached auto domain */
	assert_errno(iommufd_destroy(ctx, ioas), EBUSY);
	/* the cdev of the device: open works, bind gives EBUSY while the group is open */
	cdev = dev_open(scope, EDU_BDF);
	assert_errno(iommufd_device_bind(cdev, ctx, NULL, NULL), EBUSY);
	/* group closed, group-path file still open: EINVAL (device open elsewhere) */
	check(iommufd_group_unset_ctx(grp));
	grp = iommufd_group_unref(grp);
	assert_errno(iommufd_device_bind(cdev, ctx, NULL, NULL), EINVAL);
	check(iommufd_device_get_info(gdev, &info)); /* still usable */
	gdev = iommufd_device_unref(gdev);
	/* unbound at the last group-path close: the cdev binds now */
	check(iommufd_device_bind(cdev, ctx, NULL, NULL));
	assert_errno(iommufd_group_open(scope, group, &grp), EBUSY);
	iommufd_device_unref(cdev);
	check(iommufd_group_open(scope, group, &grp));
	iommufd_group_unref(grp);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/* region info, config space, BAR0 through pread and mmap, irq info, reset */
static void test_driver_helpers(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF);
	struct iommufd_region_info ri = { .sz = sizeof(ri) };
	struct iommufd_irq_info ii = { .sz = sizeof(ii) };
	struct iommufd_device_info info = { .sz = sizeof(info) };
	uint32_t v;
	void *bar;

	(void)state;
	/* parked: every helper is refused by the kernel with EINVAL */
	assert_errno(iommufd_device_config_read(dev, 0, 2, &v), EINVAL);
	assert_errno(iommufd_device_get_region_info(dev, 0, &ri), EINVAL);
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	check(iommufd_device_get_info(dev, &info));
	assert_true(info.num_regions >= 9);
	assert_int_equal(info.num_irqs, 5);
	check(iommufd_device_config_read(dev, 0, 2, &v));
	assert_int_equal(v, 0x1234);
	check(iommufd_device_config_read(dev, 2, 2, &v));
	assert_int_equal(v, 0x11e8);
	check(iommufd_device_config_read(dev, 0, 4, &v));
	assert_int_equal(v, 0x11e81234);
	assert_errno(iommufd_device_config_read(dev, 0, 3, &v), EINVAL);
	check(iommufd_device_get_region_info(dev, IOMMUFD_PCI_BAR0_REGION, &ri));
	assert_int_equal(ri.size, 1 << 20);
	assert_true(ri.flags & IOMMUFD_REGION_READ);
	assert_true(ri.flags & IOMMUFD_REGION_MMAP);
	check(iommufd_device_get_region_info(dev, IOMMUFD_PCI_CONFIG_REGION, &ri));
	assert_true(ri.size >= 256);
	/* BAR0: ident, liveness register */
	assert_int_equal(iommufd_device_region_read(dev, 0, 0, &v, 4), 4);
	assert_int_equal(v, 0x010000ed);
	v = 0x12345678;
	assert_int_equal(iommufd_device_region_write(dev, 0, 4, &v, 4), 4);
	assert_int_equal(iommufd_device_region_read(dev, 0, 4, &v, 4), 4);
	assert_int_equal(v, ~0x12345678u);
	check(iommufd_device_region_mmap(dev, 0, 0, 4096, 3 /* PROT_READ|PROT_WRITE */, &bar));
	assert_int_equal(*(volatile uint32_t *)bar, 0x010000ed);
	assert_int_equal(((volatile uint32_t *)bar)[1], ~0x12345678u);
	check(iommufd_device_region_munmap(dev, bar, 4096));
	/* interrupts: INTx 1 (maskable), MSI 1 vector */
	check(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_INTX, &ii));
	assert_int_equal(ii.count, 1);
	assert_true(ii.flags & IOMMUFD_IRQ_INFO_EVENTFD);
	assert_true(ii.flags & IOMMUFD_IRQ_INFO_MASKABLE);
	check(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_MSI, &ii));
	assert_int_equal(ii.count, 1);
	check(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_MSIX, &ii));
	assert_int_equal(ii.count, 0);
	check(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_REQ, &ii));
	assert_int_equal(ii.flags, IOMMUFD_IRQ_INFO_EVENTFD | IOMMUFD_IRQ_INFO_NORESIZE);
	assert_errno(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_ERR, &ii), EINVAL); /* not PCIe */
	/* edu cannot be reset; no VGA region; config space ends at 256 */
	assert_int_equal(info.flags & IOMMUFD_DEVICE_INFO_RESET, 0);
	assert_errno(iommufd_device_reset(dev), EINVAL);
	assert_errno(iommufd_device_get_region_info(dev, 8, &ri), EINVAL);
	assert_errno(iommufd_device_region_read(dev, IOMMUFD_PCI_CONFIG_REGION, 256, &v, 4), EFAULT);
	assert_errno(iommufd_device_region_read(dev, IOMMUFD_PCI_CONFIG_REGION, 254, &v, 4), EFAULT);
	/* vfio-pci enabled memory and I/O decoding, not bus mastering */
	check(iommufd_device_config_read(dev, 0x04, 2, &v));
	assert_int_equal(v & 0x7, 0x3);
	/* edu: accesses below 4 bytes read 0; 4-byte reads of no register read all ones */
	{
		uint16_t w = 0xffff;

		assert_int_equal(iommufd_device_region_read(dev, 0, 0, &w, 2), 2);
		assert_int_equal(w, 0);
		assert_int_equal(iommufd_device_region_read(dev, 0, 0x84, &v, 4), 4);
		assert_int_equal(v, 0xffffffff);
	}
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/* the NVMe: resettable PCIe function with MSI-X in BAR0 */
static void test_driver_helpers_nvme(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, NVME_BDF);
	struct iommufd_region_info ri = { .sz = sizeof(ri) };
	struct iommufd_irq_info ii = { .sz = sizeof(ii) };
	struct iommufd_device_info info = { .sz = sizeof(info) };
	uint32_t v;

	(void)state;
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	check(iommufd_device_get_info(dev, &info));
	assert_true(info.flags & IOMMUFD_DEVICE_INFO_RESET);
	check(iommufd_device_reset(dev));
	check(iommufd_device_config_read(dev, 0, 4, &v));
	assert_int_equal(v, 0x00101b36);
	check(iommufd_device_config_read(dev, 0x04, 2, &v));
	assert_int_equal(v & 0x3, 0x3); /* restored after the reset */
	check(iommufd_device_get_region_info(dev, IOMMUFD_PCI_CONFIG_REGION, &ri));
	assert_int_equal(ri.size, 4096);
	check(iommufd_device_get_region_info(dev, IOMMUFD_PCI_BAR0_REGION, &ri));
	assert_int_equal(ri.size, 0x4000);
	assert_true(ri.flags & IOMMUFD_REGION_CAPS);
	check(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_MSIX, &ii));
	assert_int_equal(ii.count, 65);
	assert_int_equal(ii.flags, IOMMUFD_IRQ_INFO_EVENTFD);
	check(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_MSI, &ii));
	assert_int_equal(ii.count, 0);
	check(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_ERR, &ii));
	assert_int_equal(ii.count, 1);
	/* NVMe version register */
	assert_int_equal(iommufd_device_region_read(dev, 0, 0x08, &v, 4), 4);
	assert_int_equal(v, 0x00010400);
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/*
 * pread/pwrite of the device file into a buffer the process cannot access:
 * EFAULT, as vfio-pci's copy_to_user/copy_from_user give
 * (drivers/vfio/pci/vfio_pci_rdwr.c, vfio_pci_config.c), and the device
 * keeps its state: a write that faulted wrote nothing.
 */
static void bad_buffer_rw(const char *bdf, uint64_t reg, uint32_t val, uint32_t want)
{
	static const uint32_t regions[] = { IOMMUFD_PCI_BAR0_REGION, IOMMUFD_PCI_CONFIG_REGION };
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, bdf);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	char *mem = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *bad = mem + pg; /* the second page: no access */
	uint32_t v, cmd;

	assert_ptr_not_equal(mem, MAP_FAILED);
	assert_int_equal(mprotect(bad, pg, PROT_NONE), 0);
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	check(iommufd_device_config_read(dev, 0x04, 2, &cmd));
	assert_int_equal(iommufd_device_region_write(dev, IOMMUFD_PCI_BAR0_REGION, reg, &val, 4), 4);
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		uint64_t off = regions[i] == IOMMUFD_PCI_CONFIG_REGION ? 0x04 : reg;

		assert_errno(iommufd_device_region_read(dev, regions[i], off, bad, 4), EFAULT);
		assert_errno(iommufd_device_region_write(dev, regions[i], off, bad, 4), EFAULT);
		/* a buffer whose last bytes are in the bad page */
		assert_errno(iommufd_device_region_write(dev, regions[i], off, bad - 2, 4), EFAULT);
	}
	/* nothing was written: the command register and the BAR register kept their values */
	check(iommufd_device_config_read(dev, 0x04, 2, &v));
	assert_int_equal(v, cmd);
	assert_int_equal(iommufd_device_region_read(dev, IOMMUFD_PCI_BAR0_REGION, reg, &v, 4), 4);
	assert_int_equal(v, want);
	munmap(mem, 2 * pg);
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

static void test_bad_buffer(void **state)
{
	(void)state;
	bad_buffer_rw(EDU_BDF, 0x04, 0x12345678, ~0x12345678u); /* edu: liveness check */
	bad_buffer_rw(NVME_BDF, 0x28, 0x5000, 0x5000);	       /* NVMe: ASQ (low half) */
}

/* sysfs_read of the emulator, but vfio-dev/vfio0/dev says 511:77 */
static const struct backend_ops *stale_orig;

static ssize_t stale_sysfs_read(struct iommufd_backend *be, const char *rel, char *buf, size_t len)
{
	static const char stale[] = "511:77\n";

	if (strstr(rel, "/vfio-dev/vfio0/dev")) {
		len = len < sizeof(stale) - 1 ? len : sizeof(stale) - 1;
		memcpy(buf, stale, len);
		return (ssize_t)len;
	}
	return stale_orig->sysfs_read(be, rel, buf, len);
}

/* emulator only: a stale node (sysfs says another major:minor) is refused */
static void test_stale_node(void **state)
{
	static struct backend_ops stale_ops;
	struct iommufd_backend *be;
	struct iommufd_ctx *scope;
	struct iommufd_device *dev = NULL;

	(void)state;
	scope = dev_scope();
	be = test_backend_get();
	stale_orig = be->ops;
	stale_ops = *be->ops;
	stale_ops.sysfs_read = stale_sysfs_read;
	be->ops = &stale_ops;
	if (type1(scope)) {
		/* the group path never uses the cdev's node: no stale answer to meet */
		check(iommufd_device_open_pci(scope, EDU_BDF, &dev));
		be->ops = stale_orig;
		assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_PARKED);
		iommufd_device_unref(dev);
		test_backend_put();
		return;
	}
	assert_errno(iommufd_device_open_pci(scope, EDU_BDF, &dev), ESTALE);
	be->ops = stale_orig;
	assert_non_null(strstr(iommufd_last_error(), "stale"));
	test_backend_put();
}

/* emulator only: two devices of one group on different contexts: EPERM */
static void test_group_owner(void **state)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, a, .kind = IOMMUFD_EMU_DEVICE_GENERIC,
		     .bdf = "0000:00:05.0", .group = 9);
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, b, .kind = IOMMUFD_EMU_DEVICE_GENERIC,
		     .bdf = "0000:00:05.1", .group = 9);
	struct iommufd_ctx *c1, *c2;
	struct iommufd_device *da, *db;
	struct iommufd_ctx *scope;
	uint32_t ioas, h1, h2, hw;
	int group;

	(void)state;
	scope = dev_scope();
	check(iommufd_emu_add_pci_device(test_emu(), &a, NULL, 0));
	check(iommufd_emu_add_pci_device(test_emu(), &b, NULL, 0));
	check(iommufd_pci_get_iommu_group(scope, "0000:00:05.1", &group));
	assert_int_equal(group, 9);
	c1 = test_ctx_new();
	c2 = test_ctx_new();
	da = dev_open(scope, "0000:00:05.0");
	db = dev_open(scope, "0000:00:05.1");
	check(iommufd_device_bind(da, c1, NULL, NULL));
	if (type1(c1)) {
		/* the group's file is c1's container's: another container cannot open it */
		assert_errno(iommufd_device_bind(db, c2, NULL, NULL), EBUSY);
		assert_non_null(strstr(iommufd_last_error(), "open elsewhere"));
		/* same container: both in, both on its one domain */
		check(iommufd_device_bind(db, c1, NULL, &h2));
		check(iommufd_ioas_alloc(c1, &ioas));
		check(iommufd_device_attach(da, ioas, &h1));
		assert_type1_refuses(iommufd_hwpt_alloc(c1, h2, ioas, NULL, &hw));
		check(iommufd_device_attach(db, ioas, &h2));
		assert_int_equal(h1, 2);
		assert_int_equal(h1, h2);
		iommufd_device_unref(da);
		iommufd_device_unref(db);
		iommufd_ctx_unref(c1);
		iommufd_ctx_unref(c2);
		test_backend_put();
		return;
	}
	assert_errno(iommufd_device_bind(db, c2, NULL, NULL), EPERM);
	assert_non_null(strstr(iommufd_last_error(), "ownership"));
	/* same context: both bound; they share the group's attachment */
	check(iommufd_device_bind(db, c1, NULL, &h2));
	check(iommufd_ioas_alloc(c1, &ioas));
	check(iommufd_device_attach(da, ioas, &h1));
	check(iommufd_hwpt_alloc(c1, h2, ioas, NULL, &hw));
	assert_errno(iommufd_device_attach(db, hw, NULL), EINVAL);
	check(iommufd_device_attach(db, ioas, &h2));
	assert_int_equal(h1, h2);
	iommufd_device_unref(da);
	iommufd_device_unref(db);
	iommufd_ctx_unref(c1);
	iommufd_ctx_unref(c2);
	test_backend_put();
}

/* emulator only: a PASID-capable device: per-pasid attach, replace, detach */
static void test_pasid(void **state)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o, .kind = IOMMUFD_EMU_DEVICE_GENERIC,
		     .bdf = "0000:00:06.0", .flags = IOMMUFD_EMU_DEVICE_PASID);
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, po, .flags = IOMMUFD_HWPT_PASID);
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev;
	uint32_t ioas, id, hp1, hp2, plain, got, *pasids = NULL;
	size_t nr;

	(void)state;
	check(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0));
	dev = dev_open(scope, "0000:00:06.0");
	check(iommufd_ioas_alloc(ctx, &ioas));
	check(iommufd_device_bind(dev, ctx, NULL, &id));
	if (type1(ctx)) {
		/* a container has no PASID: even a PASID-capable device attaches its RID only */
		assert_type1_refuses(iommufd_hwpt_alloc(ctx, id, ioas, &po, &hp1));
		assert_type1_refuses(iommufd_device_pasid_attach(dev, 5, ioas, &got));
		assert_type1_refuses(iommufd_device_pasid_attach(dev, 5, 2, &got));
		assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_BOUND);
		check(iommufd_device_get_pasids(dev, &pasids, &nr));
		assert_int_equal(nr, 0);
		assert_int_equal(iommufd_device_get_pasid_pt_id(dev, 5), 0);
		assert_type1_refuses(iommufd_device_pasid_detach(dev, 5));
		check(iommufd_device_attach(dev, ioas, &got));
		assert_int_equal(got, 2);
		iommufd_device_unref(dev);
		iommufd_ctx_unref(ctx);
		test_backend_put();
		return;
	}
	check(iommufd_hwpt_alloc(ctx, id, ioas, &po, &hp1));
	check(iommufd_hwpt_alloc(ctx, id, ioas, &po, &hp2));
	check(iommufd_hwpt_alloc(ctx, id, ioas, NULL, &plain));
	check(iommufd_device_pasid_attach(dev, 5, hp1, &got));
	assert_int_equal(got, hp1);
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_BOUND); /* the RID is not */
	check(iommufd_device_pasid_attach(dev, 3, hp2, &got));
	check(iommufd_device_get_pasids(dev, &pasids, &nr));
	assert_int_equal(nr, 2);
	assert_int_equal(pasids[0], 3);
	assert_int_equal(pasids[1], 5);
	free(pasids);
	/* a second attach of pasid 5 replaces; hp1 is then free */
	check(iommufd_device_pasid_attach(dev, 5, hp2, &got));
	assert_int_equal(iommufd_device_get_pasid_pt_id(dev, 5), hp2);
	check(iommufd_destroy(ctx, hp1));
	/* an IOAS gives an auto domain, never pasid-compatible */
	assert_errno(iommufd_device_pasid_attach(dev, 7, ioas, NULL), EINVAL);
	assert_int_equal(iommufd_device_get_pasid_pt_id(dev, 7), 0);
	/* the RID may not go to a non-pasid-compatible HWPT while pasids are attached */
	assert_errno(iommufd_device_attach(dev, plain, NULL), EINVAL);
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_BOUND);
	check(iommufd_device_attach(dev, hp2, &got));
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_ATTACHED);
	check(iommufd_device_pasid_detach(dev, 5));
	check(iommufd_device_pasid_detach(dev, 5)); /* nothing attached: success */
	check(iommufd_device_get_pasids(dev, &pasids, &nr));
	assert_int_equal(nr, 1);
	assert_int_equal(pasids[0], 3);
	free(pasids);
	assert_errno(iommufd_destroy(ctx, hp2), EBUSY);
	/* close detaches everything: every HWPT can go */
	iommufd_device_unref(dev);
	check(iommufd_destroy(ctx, hp2));
	check(iommufd_destroy(ctx, plain));
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/* concurrent transitions on one device: the recorded state stays the kernel's */
struct race {
	struct iommufd_device *dev;
	uint32_t ioas, hwpt;
	int tid;
	int failures;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 200; i++) {
		uint32_t got = 0;
		int e;

		switch ((i + r->tid) % 3) {
		case 0:
			e = iommufd_device_attach(r->dev, r->ioas, &got);
			if (e || !got || got == r->hwpt)
				r->failures++;
			break;
		case 1:
			e = iommufd_device_attach(r->dev, r->hwpt, &got);
			if (e || got != r->hwpt)
				r->failures++;
			break;
		default:
			if (iommufd_device_detach(r->dev))
				r->failures++;
		}
	}
	return NULL;
}

/*
 * type1: attached from the start (there is no way back); concurrent
 * attaches to the IOAS and to HWPT 2 all give HWPT 2, detaches are refused
 */
static void *race_thread_t1(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 200; i++) {
		uint32_t got = 0;

		switch ((i + r->tid) % 3) {
		case 0:
			if (iommufd_device_attach(r->dev, r->ioas, &got) || got != 2)
				r->failures++;
			break;
		case 1:
			if (iommufd_device_attach(r->dev, 2, &got) || got != 2)
				r->failures++;
			break;
		default:
			if (iommufd_device_detach(r->dev) != -EOPNOTSUPP)
				r->failures++;
		}
	}
	return NULL;
}

static void concurrent_t1(struct iommufd_ctx *ctx, struct iommufd_device *dev)
{
	struct race r[4];
	pthread_t t[4];
	uint32_t ioas, hwpt;

	check(iommufd_ioas_alloc(ctx, &ioas));
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	check(iommufd_device_attach(dev, ioas, &hwpt));
	for (int i = 0; i < 4; i++) {
		r[i] = (struct race){ .dev = dev, .ioas = ioas, .hwpt = 2, .tid = i };
		assert_int_equal(pthread_create(&t[i], NULL, race_thread_t1, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].failures, 0);
	}
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(iommufd_device_get_pt_id(dev), 2);
	assert_errno(iommufd_destroy(ctx, 2), EBUSY);
	assert_errno(iommufd_destroy(ctx, ioas), EBUSY);
	/* released: the group leaves, the IOAS can go */
	iommufd_device_unref(dev);
	check(iommufd_destroy(ctx, ioas));
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

static void test_concurrent(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF);
	struct race r[4];
	pthread_t t[4];
	uint32_t ioas, hwpt, id, pt;

	(void)state;
	if (type1(ctx)) {
		concurrent_t1(ctx, dev);
		return;
	}
	check(iommufd_ioas_alloc(ctx, &ioas));
	check(iommufd_device_bind(dev, ctx, NULL, &id));
	check(iommufd_hwpt_alloc(ctx, id, ioas, NULL, &hwpt));
	for (int i = 0; i < 4; i++) {
		r[i] = (struct race){ .dev = dev, .ioas = ioas, .hwpt = hwpt, .tid = i };
		assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(r[i].failures, 0);
	}
	pt = iommufd_device_get_pt_id(dev);
	if (iommufd_device_get_state(dev) == IOMMUFD_DEVICE_ATTACHED) {
		assert_int_not_equal(pt, 0);
		assert_errno(iommufd_destroy(ctx, pt), EBUSY); /* the kernel agrees: attached there */
		if (pt != hwpt)
			check(iommufd_destroy(ctx, hwpt)); /* and not to the manual one */
	} else {
		assert_int_equal(pt, 0);
		check(iommufd_destroy(ctx, hwpt));
	}
	/* no auto-HWPT leaked: detach, then the IOAS can go */
	check(iommufd_device_detach(dev));
	if (pt == hwpt)
		check(iommufd_destroy(ctx, hwpt));
	check(iommufd_destroy(ctx, ioas));
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/*
 * A caller built against an older (shorter) info struct: the library writes
 * only the first sz bytes. Each struct sits in a larger buffer filled with a
 * pattern; sz covers sz and flags only, and nothing past them may change.
 */
#define PATTERN 0xa5
static void check_untouched(const unsigned char *buf, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (buf[i] != PATTERN)
			fail_msg("byte %zu past sz %zu was written (0x%02x)", i, from, buf[i]);
}

static void test_short_sz(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF);
	struct iommufd_device_info info = { .sz = sizeof(info) };
	struct iommufd_region_info ri = { .sz = sizeof(ri) };
	struct iommufd_irq_info ii = { .sz = sizeof(ii) };
	union {
		struct iommufd_device_info info;
		struct iommufd_region_info ri;
		struct iommufd_irq_info ii;
		unsigned char b[128];
	} u;
	size_t sz;
	uint32_t flags;

	(void)state;
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	check(iommufd_device_get_info(dev, &info));
	check(iommufd_device_get_region_info(dev, IOMMUFD_PCI_BAR0_REGION, &ri));
	check(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_INTX, &ii));

	/* device info: sz and flags only */
	memset(&u, PATTERN, sizeof(u));
	sz = offsetof(struct iommufd_device_info, flags) + sizeof(uint32_t);
	u.info.sz = sz;
	check(iommufd_device_get_info(dev, &u.info));
	assert_int_equal(u.info.sz, sz);
	memcpy(&flags, u.b + offsetof(struct iommufd_device_info, flags), sizeof(flags));
	assert_int_equal(flags, info.flags);
	check_untouched(u.b, sz, sizeof(u));
	/* only sz: nothing written at all */
	memset(&u, PATTERN, sizeof(u));
	u.info.sz = sizeof(size_t);
	check(iommufd_device_get_info(dev, &u.info));
	check_untouched(u.b, sizeof(size_t), sizeof(u));

	/* region info: sz and flags (size and offset are not written) */
	memset(&u, PATTERN, sizeof(u));
	sz = offsetof(struct iommufd_region_info, flags) + sizeof(uint32_t);
	u.ri.sz = sz;
	check(iommufd_device_get_region_info(dev, IOMMUFD_PCI_BAR0_REGION, &u.ri));
	memcpy(&flags, u.b + offsetof(struct iommufd_region_info, flags), sizeof(flags));
	assert_int_equal(flags, ri.flags);
	check_untouched(u.b, sz, sizeof(u));
	/* up to size: offset is not written */
	memset(&u, PATTERN, sizeof(u));
	sz = offsetof(struct iommufd_region_info, size) + sizeof(uint64_t);
	u.ri.sz = sz;
	check(iommufd_device_get_region_info(dev, IOMMUFD_PCI_BAR0_REGION, &u.ri));
	assert_int_equal(u.ri.size, ri.size);
	check_untouched(u.b, sz, sizeof(u));

	/* irq info: sz and flags (count is not written) */
	memset(&u, PATTERN, sizeof(u));
	sz = offsetof(struct iommufd_irq_info, flags) + sizeof(uint32_t);
	u.ii.sz = sz;
	check(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_INTX, &u.ii));
	memcpy(&flags, u.b + offsetof(struct iommufd_irq_info, flags), sizeof(flags));
	assert_int_equal(flags, ii.flags);
	check_untouched(u.b, sz, sizeof(u));

	/* sz below the sz member: EINVAL; a non-zero tail past the struct: E2BIG */
	memset(&u, 0, sizeof(u));
	u.info.sz = sizeof(size_t) - 1;
	assert_errno(iommufd_device_get_info(dev, &u.info), EINVAL);
	u.ii.sz = sizeof(u.ii) + 8;
	u.b[sizeof(u.ii) + 4] = 1;
	assert_errno(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_INTX, &u.ii), E2BIG);
	u.b[sizeof(u.ii) + 4] = 0;
	check(iommufd_device_get_irq_info(dev, IOMMUFD_PCI_IRQ_INTX, &u.ii));
	assert_int_equal(u.ii.count, ii.count);

	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/* region mmap/munmap argument checks: prot bits, the region's end, len 0 */
static void test_mmap_checks(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF);
	struct iommufd_region_info ri = { .sz = sizeof(ri) };
	void *p = NULL;

	(void)state;
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	check(iommufd_device_get_region_info(dev, IOMMUFD_PCI_BAR0_REGION, &ri));
	assert_true(ri.size >= 2 * 4096);
	assert_errno(iommufd_device_region_mmap(dev, 0, 0, 4096, PROT_READ | PROT_EXEC, &p), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "prot"));
	assert_errno(iommufd_device_region_mmap(dev, 0, 0, 4096, 0x100, &p), EINVAL);
	/* past the end of BAR0 */
	assert_errno(iommufd_device_region_mmap(dev, 0, ri.size - 4096, 2 * 4096, PROT_READ, &p),
		     EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "past the end"));
	assert_errno(iommufd_device_region_mmap(dev, 0, ri.size, 4096, PROT_READ, &p), EINVAL);
	assert_null(p);
	/* the last page is fine */
	check(iommufd_device_region_mmap(dev, 0, ri.size - 4096, 4096, PROT_READ, &p));
	assert_non_null(p);
	assert_errno(iommufd_device_region_munmap(dev, p, 0), EINVAL);
	check(iommufd_device_region_munmap(dev, p, 4096));
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/* the parent's handles, kept by a forked child until its _exit (valgrind: reachable, not lost) */
static void *volatile fork_child_keep[4];

/* after fork: a child's group cannot be set on the parent's context; the parent's device is off limits */
static void test_fork_group_device(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF);
	void *bar = NULL;
	int group, status;
	pid_t pid;

	(void)state;
	check(iommufd_pci_get_iommu_group(scope, NVME_BDF, &group));
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	check(iommufd_device_region_mmap(dev, 0, 0, 4096, PROT_READ, &bar));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct iommufd_group *grp = NULL;
		int ok = 1;

		fork_child_keep[0] = ctx;
		fork_child_keep[1] = dev;

		/* the group is the child's own (opened in a context of its own), the context is not */
		if (iommufd_group_open(scope, group, &grp) != -ECHILD)
			_exit(3);
		fork_child_keep[2] = test_ctx_new();
		if (iommufd_group_open(fork_child_keep[2], group, &grp) != 0)
			_exit(2);
		ok &= iommufd_group_set_ctx(grp, ctx) == -ECHILD;
		ok &= strstr(iommufd_last_error(), "context") != NULL;
		ok &= iommufd_device_region_munmap(dev, bar, 4096) == -ECHILD;
		ok &= strstr(iommufd_last_error(), "device") != NULL;
		iommufd_group_unref(grp);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the parent's mapping and device are unaffected */
	check(iommufd_device_region_munmap(dev, bar, 4096));
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	test_backend_put();
}

/*
 * The emulator released first: its contexts, devices and groups keep it
 * alive and keep working; the last of them frees it (valgrind: no leak, no
 * use after free).
 */
static void test_emu_unref_first(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_ctx *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF), *gdev = NULL;
	struct iommufd_group *grp = NULL;
	uint64_t iova = 0x100000;
	uint32_t ioas, hwpt, vioas;
	int group;
	void *buf;

	(void)state;
	check(iommufd_pci_get_iommu_group(scope, NVME_BDF, &group));
	check(iommufd_group_open(scope, group, &grp));
	test_backend_put(); /* the test's own reference on the emulator */
	assert_null(test_emu());
	/* the context works: alloc and map */
	check(iommufd_ioas_alloc(ctx, &ioas));
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	check(iommufd_ioas_map(ctx, ioas, buf, 4096, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	/* the device: bind, attach */
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	check(iommufd_device_attach(dev, ioas, &hwpt));
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_ATTACHED);
	/* the group: set on the context, hands out its device */
	check(iommufd_group_set_ctx(grp, ctx));
	if (type1(ctx))
		assert_type1_refuses(iommufd_vfio_ioas_get(ctx, &vioas)); /* the container is the IOAS */
	else
		check(iommufd_vfio_ioas_get(ctx, &vioas));
	check(iommufd_group_get_device(grp, NVME_BDF, &gdev));
	/* released in any order: the context first, then the group, the devices last */
	iommufd_ctx_unref(ctx);
	iommufd_group_unref(grp);
	if (type1(iommufd_device_get_ctx(dev)))
		assert_type1_refuses(iommufd_device_detach(dev)); /* no way back: released attached */
	else
		check(iommufd_device_detach(dev));
	iommufd_device_unref(gdev);
	iommufd_device_unref(dev);
	munmap(buf, 4096);
}

/* the emulator's device opts follow the rule of every extensible struct */
static void test_emu_opts_sz(void **state)
{
	struct iommufd_emu_device_opts o;
	char path[64];

	(void)state;
	test_backend_get();
	/* an older, shorter version (up to bdf): group and flags read as 0 */
	memset(&o, 0, sizeof(o));
	o.kind = IOMMUFD_EMU_DEVICE_EDU;
	o.bdf = EDU_BDF;
	o.group = 77; /* past sz: not read */
	o.sz = offsetof(struct iommufd_emu_device_opts, bdf) + sizeof(o.bdf);
	check(iommufd_emu_add_pci_device(test_emu(), &o, path, sizeof(path)));
	{
		int group = 0;

		check(iommufd_pci_get_iommu_group(test_scope(), EDU_BDF, &group));
		assert_int_not_equal(group, 77);
	}
	/* without kind: EINVAL */
	o.bdf = NVME_BDF;
	o.sz = offsetof(struct iommufd_emu_device_opts, kind);
	assert_errno(iommufd_emu_add_pci_device(test_emu(), &o, path, sizeof(path)), EINVAL);
	/* a non-zero tail past the known struct: E2BIG */
	{
		unsigned char big[sizeof(o) + 8] = { 0 };

		memcpy(big, &o, sizeof(o));
		((struct iommufd_emu_device_opts *)big)->sz = sizeof(big);
		((struct iommufd_emu_device_opts *)big)->kind = IOMMUFD_EMU_DEVICE_NVME;
		big[sizeof(o) + 3] = 1;
		assert_errno(iommufd_emu_add_pci_device(test_emu(), (void *)big, path, sizeof(path)),
			     E2BIG);
		big[sizeof(o) + 3] = 0;
		check(iommufd_emu_add_pci_device(test_emu(), (void *)big, path, sizeof(path)));
	}
	test_backend_put();
}

int main(void)
{
	struct table_case cases[NR_STATES * NR_OPS];
	struct CMUnitTest tests[NR_STATES * NR_OPS + 24];
	size_t n = 0;

	for (int o = 0; o < NR_OPS; o++) {
		for (int s = 0; s < NR_STATES; s++) {
			struct table_case *c = &cases[n];

			c->from = (enum st)s;
			c->op = (enum op)o;
			snprintf(c->name, sizeof(c->name), "%s/%s", st_name[s], op_name[o]);
			tests[n] = (struct CMUnitTest){ c->name, test_table_case, NULL, backend_reset, c };
			n++;
		}
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_reason_parked, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_device_commands, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_open_paths, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_token, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_adopt_checks, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_group_path, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_driver_helpers, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_driver_helpers_nvme, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_bad_buffer, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_concurrent, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_short_sz, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_mmap_checks, backend_reset);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_fork_group_device, backend_reset);
	if (!test_real_kernel()) {
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_emu_unref_first, backend_reset);
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_emu_opts_sz, backend_reset);
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_pasid, backend_reset);
		/* emulator only: a fake stale node; two devices in one group (the VM has none) */
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_stale_node, backend_reset);
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(test_group_owner, backend_reset);
	}
	if (n > sizeof(tests) / sizeof(tests[0]))
		return 99; /* the array above is too small */
	return _cmocka_run_group_tests("device-lifecycle", tests, n, NULL, NULL);
}
