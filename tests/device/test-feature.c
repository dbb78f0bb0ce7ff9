// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device features (VFIO_DEVICE_FEATURE) and resets: what vfio-pci answers
 * for every feature probe on edu and NVMe, the core's checks of the
 * request, low power entry and exit with and without a wake-up eventfd,
 * the VF token, bus master and migration features a plain vfio-pci device
 * lacks, PCI hot reset of devices on the root bus (none: ENODEV) and of the
 * two functions behind the VM's root port (through a cdev: ownership by the
 * context or through the group; through a group: its fds), the function
 * reset and the automatic choice. The same cases on the emulator and on the
 * kernel in the VM; the last two (devices of a bus in separate groups, a
 * device alone below its bridge) only on the emulator.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "device-common.h"

struct env {
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
};

static void env_setup(struct env *e, const char *bdf)
{
	struct iommufd_ctx *scope = dev_scope();

	e->ctx = test_ctx_new();
	e->dev = dev_open(scope, bdf);
	check(iommufd_device_bind(e->dev, e->ctx, NULL, NULL));
}

static void env_teardown(struct env *e)
{
	iommufd_device_unref(e->dev);
	iommufd_ctx_unref(e->ctx);
}

/* ------------------------------------------------------------ probes */

#define P_G IOMMUFD_FEATURE_GET
#define P_S IOMMUFD_FEATURE_SET

/* vfio-pci's answers in the VM, per feature: probe with no access, GET, SET, GET|SET */
static const struct {
	uint32_t feature;
	int err[4];
} pci_probes[] = {
	{ IOMMUFD_FEATURE_PCI_VF_TOKEN, { ENOTTY, ENOTTY, ENOTTY, ENOTTY } }, /* not an SR-IOV PF */
	{ IOMMUFD_FEATURE_MIGRATION, { ENOTTY, ENOTTY, ENOTTY, ENOTTY } },
	{ IOMMUFD_FEATURE_MIG_DEVICE_STATE, { ENOTTY, ENOTTY, ENOTTY, ENOTTY } },
	{ IOMMUFD_FEATURE_LOW_POWER_ENTRY, { 0, EINVAL, 0, EINVAL } },
	{ IOMMUFD_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP, { 0, EINVAL, 0, EINVAL } },
	{ IOMMUFD_FEATURE_LOW_POWER_EXIT, { 0, EINVAL, 0, EINVAL } },
	{ IOMMUFD_FEATURE_DMA_LOGGING_START, { ENOTTY, ENOTTY, ENOTTY, ENOTTY } },
	{ IOMMUFD_FEATURE_DMA_LOGGING_STOP, { ENOTTY, ENOTTY, ENOTTY, ENOTTY } },
	{ IOMMUFD_FEATURE_DMA_LOGGING_REPORT, { ENOTTY, ENOTTY, ENOTTY, ENOTTY } },
	{ IOMMUFD_FEATURE_MIG_DATA_SIZE, { ENOTTY, ENOTTY, ENOTTY, ENOTTY } },
	{ IOMMUFD_FEATURE_BUS_MASTER, { ENOTTY, ENOTTY, ENOTTY, ENOTTY } }, /* vfio-cdx only */
	{ IOMMUFD_FEATURE_DMA_BUF, { 0, 0, EINVAL, EINVAL } },
	{ IOMMUFD_FEATURE_MIG_PRECOPY_INFO_V2, { EINVAL, EINVAL, EINVAL, EINVAL } }, /* no PRE_COPY */
	{ 13, { ENOTTY, ENOTTY, ENOTTY, ENOTTY } },
	{ 0xffff, { ENOTTY, ENOTTY, ENOTTY, ENOTTY } },
};

static void probe_all(const char *bdf)
{
	static const uint32_t access[4] = { 0, P_G, P_S, P_G | P_S };
	struct env e;

	env_setup(&e, bdf);
	for (size_t i = 0; i < sizeof(pci_probes) / sizeof(pci_probes[0]); i++) {
		for (int a = 0; a < 4; a++) {
			int r = iommufd_device_feature_probe(e.dev, pci_probes[i].feature, access[a]);

			if (r != -pci_probes[i].err[a])
				fail_msg("%s: probe of feature %u, access %u: %d, expected %d (%s)", bdf,
					 pci_probes[i].feature, access[a], r, -pci_probes[i].err[a],
					 iommufd_last_error());
		}
	}
	/* the reason says what ENOTTY means for the feature */
	assert_errno(iommufd_device_feature_probe(e.dev, IOMMUFD_FEATURE_MIGRATION, 0), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "migration"));
	assert_errno(iommufd_device_feature_probe(e.dev, IOMMUFD_FEATURE_PCI_VF_TOKEN, P_S), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "SR-IOV"));
	/* the library's own checks */
	assert_errno(iommufd_device_feature_probe(e.dev, 0x10000, 0), EINVAL);
	assert_errno(iommufd_device_feature_probe(e.dev, IOMMUFD_FEATURE_LOW_POWER_EXIT, 1u << 2), EINVAL);
	assert_errno(iommufd_device_feature_probe(NULL, IOMMUFD_FEATURE_LOW_POWER_EXIT, 0), EINVAL);
	env_teardown(&e);
}

static void test_probe_edu(void **state)
{
	(void)state;
	probe_all(EDU_BDF);
}

static void test_probe_nvme(void **state)
{
	(void)state;
	probe_all(NVME_BDF);
}

/* a parked device (opened, not bound) answers EINVAL to every feature */
static void test_probe_parked(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF);

	(void)state;
	assert_errno(iommufd_device_feature_probe(dev, IOMMUFD_FEATURE_LOW_POWER_ENTRY, 0), EINVAL);
	assert_errno(iommufd_device_feature_probe(dev, IOMMUFD_FEATURE_MIGRATION, 0), EINVAL);
	iommufd_device_unref(dev);
}

/* the core's checks of the request (drivers/vfio/vfio_main.c), through the raw ioctl */
static void test_feature_request(void **state)
{
	uint8_t buf[sizeof(struct vfio_device_feature) + 16] = { 0 };
	struct vfio_device_feature *f = (struct vfio_device_feature *)buf;
	struct env e;

	(void)state;
	env_setup(&e, NVME_BDF);
	/* argsz below the header */
	f->argsz = sizeof(*f) - 1;
	f->flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY;
	assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_FEATURE, f), EINVAL);
	/* an unknown flag bit, before the feature is looked at */
	f->argsz = sizeof(*f);
	f->flags = (1u << 19) | 100;
	assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_FEATURE, f), EINVAL);
	/* GET and SET together without PROBE */
	f->flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET | 100;
	assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_FEATURE, f), EINVAL);
	/* an unknown feature: ENOTTY, whatever the access */
	f->flags = VFIO_DEVICE_FEATURE_GET | 100;
	assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_FEATURE, f), ENOTTY);
	/* a known feature with neither GET nor SET (nor PROBE) */
	f->flags = VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP;
	assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_FEATURE, f), EINVAL);
	/* too little data for the feature */
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP;
	f->argsz = sizeof(*f) + 4;
	assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_FEATURE, f), EINVAL);
	/* the generic call: exactly one access, and the kernel's answer */
	assert_errno(iommufd_device_feature(e.dev, IOMMUFD_FEATURE_LOW_POWER_EXIT, P_G | P_S, NULL, 0), EINVAL);
	assert_errno(iommufd_device_feature(e.dev, IOMMUFD_FEATURE_LOW_POWER_EXIT, 0, NULL, 0), EINVAL);
	assert_errno(iommufd_device_feature(e.dev, IOMMUFD_FEATURE_LOW_POWER_ENTRY, P_G, NULL, 0), EINVAL);
	assert_errno(iommufd_device_feature(e.dev, IOMMUFD_FEATURE_DMA_BUF, P_S, NULL, 0), EINVAL);
	assert_errno(iommufd_device_feature(e.dev, IOMMUFD_FEATURE_MIGRATION, P_G, buf, 8), ENOTTY);
	assert_errno(iommufd_device_feature(e.dev, IOMMUFD_FEATURE_MIGRATION, P_G, NULL, 8), EINVAL);
	assert_int_equal(iommufd_device_feature(e.dev, IOMMUFD_FEATURE_LOW_POWER_EXIT, P_S, NULL, 0), 0);
	/* DMA_BUF: its checks of the request (no range; a BAR the device lacks) */
	{
		struct {
			uint32_t region_index, open_flags, flags, nr_ranges;
		} db = { 0 };

		assert_errno(iommufd_device_feature(e.dev, IOMMUFD_FEATURE_DMA_BUF, P_G, &db, sizeof(db)),
			     EINVAL);
		db.nr_ranges = 1;
		db.region_index = 3;
		assert_errno(iommufd_device_feature(e.dev, IOMMUFD_FEATURE_DMA_BUF, P_G, &db, sizeof(db)),
			     ENODEV);
	}
	env_teardown(&e);
}

/* ------------------------------------------------------------ low power */

static void test_low_power(void **state)
{
	struct env e;

	(void)state;
	env_setup(&e, EDU_BDF);
	assert_ok(iommufd_device_low_power_enter(e.dev, NULL));
	/* a second entry while the first is in force */
	assert_errno(iommufd_device_low_power_enter(e.dev, NULL), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "LOW_POWER_ENTRY"));
	/* the device is usable meanwhile (each access resumes it) */
	{
		IOMMUFD_OPTS(struct iommufd_device_info, info);

		assert_ok(iommufd_device_get_info(e.dev, &info));
	}
	assert_errno(iommufd_device_low_power_enter(e.dev, NULL), EINVAL);
	assert_ok(iommufd_device_low_power_exit(e.dev));
	/* an exit when not in low power is no error */
	assert_ok(iommufd_device_low_power_exit(e.dev));
	assert_ok(iommufd_device_low_power_enter(e.dev, NULL));
	assert_ok(iommufd_device_low_power_exit(e.dev));
	/* the options: unknown flags, an unknown tail */
	{
		IOMMUFD_OPTS(struct iommufd_low_power_opts, o, .flags = 1u << 5);
		struct {
			struct iommufd_low_power_opts o;
			uint32_t more;
		} big = { .o = { .sz = sizeof(big) }, .more = 1 };

		assert_errno(iommufd_device_low_power_enter(e.dev, &o), EINVAL);
		assert_errno(iommufd_device_low_power_enter(e.dev, &big.o), E2BIG);
	}
	env_teardown(&e);
}

/* the eventfd's count after waiting up to ms, asking the device every 20 ms (0: none) */
static uint64_t wake_wait(struct iommufd_device *dev, int efd, int ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t cnt = 0;

	for (int waited = 0; waited <= ms; waited += 20) {
		IOMMUFD_OPTS(struct iommufd_device_info, info);

		/* an access resumes a suspended device: that signals the eventfd */
		assert_ok(iommufd_device_get_info(dev, &info));
		if (poll(&pfd, 1, 20) == 1) {
			assert_int_equal(read(efd, &cnt, sizeof(cnt)), 8);
			return cnt;
		}
	}
	return 0;
}

static void test_low_power_wakeup(void **state)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), pfd[2], closed;
	IOMMUFD_OPTS(struct iommufd_low_power_opts, o, .flags = IOMMUFD_LOW_POWER_WAKEUP);
	struct env e;

	(void)state;
	env_setup(&e, NVME_BDF);
	assert_true(efd >= 0);
	assert_int_equal(pipe(pfd), 0);
	closed = dup(pfd[0]);
	assert_true(closed >= 0);
	close(closed);
	/* bad eventfds: negative (the library), not open, not an eventfd */
	o.wakeup_eventfd = -1;
	assert_errno(iommufd_device_low_power_enter(e.dev, &o), EINVAL);
	o.wakeup_eventfd = closed;
	assert_errno(iommufd_device_low_power_enter(e.dev, &o), EBADF);
	o.wakeup_eventfd = pfd[0];
	assert_errno(iommufd_device_low_power_enter(e.dev, &o), EINVAL);
	/* the raw request with a negative eventfd: the kernel's own EINVAL */
	{
		uint8_t buf[sizeof(struct vfio_device_feature) + 8] = { 0 };
		struct vfio_device_feature *f = (struct vfio_device_feature *)buf;
		int32_t minus_one = -1;

		f->argsz = sizeof(buf);
		f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP;
		memcpy(f->data, &minus_one, sizeof(minus_one));
		assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_FEATURE, f), EINVAL);
	}
	/* a plain entry in force refuses one with a wake-up too */
	assert_ok(iommufd_device_low_power_enter(e.dev, NULL));
	o.wakeup_eventfd = efd;
	assert_errno(iommufd_device_low_power_enter(e.dev, &o), EINVAL);
	assert_ok(iommufd_device_low_power_exit(e.dev));
	/* with the eventfd: the device suspends, the next access wakes it and signals */
	assert_ok(iommufd_device_low_power_enter(e.dev, &o));
	assert_int_equal(wake_wait(e.dev, efd, 3000), 1);
	/* the wake-up ended the low power state: a new entry is accepted */
	assert_ok(iommufd_device_low_power_enter(e.dev, NULL));
	assert_ok(iommufd_device_low_power_exit(e.dev));
	env_teardown(&e);
	close(pfd[0]);
	close(pfd[1]);
	close(efd);
}

/* ------------------------------------------------------------ other features */

static void test_absent_features(void **state)
{
	static const uint8_t token[16] = { 0x12, 0x34 };
	enum iommufd_mig_state st;
	uint64_t v = 0;
	int fd = 7;
	struct env e;

	(void)state;
	env_setup(&e, EDU_BDF);
	/* the VF token: only an SR-IOV PF has one */
	assert_errno(iommufd_device_set_vf_token(e.dev, token), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "SR-IOV"));
	assert_errno(iommufd_device_set_vf_token(e.dev, NULL), EINVAL);
	/* bus master: vfio-cdx's, a PCI device has it in config space */
	assert_errno(iommufd_device_set_bus_master(e.dev, true), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "cdx"));
	assert_errno(iommufd_device_set_bus_master(e.dev, false), ENOTTY);
	/* migration: vfio-pci alone has no migration driver */
	assert_errno(iommufd_device_get_migration(e.dev, &v), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "migration"));
	assert_errno(iommufd_device_get_mig_state(e.dev, &st), ENOTTY);
	assert_errno(iommufd_device_set_mig_state(e.dev, IOMMUFD_MIG_STATE_STOP, &fd), ENOTTY);
	assert_int_equal(fd, -1);
	assert_errno(iommufd_device_get_mig_data_size(e.dev, &v), ENOTTY);
	assert_errno(iommufd_device_get_migration(e.dev, NULL), EINVAL);
	assert_errno(iommufd_device_get_mig_state(e.dev, NULL), EINVAL);
	assert_errno(iommufd_device_get_mig_data_size(e.dev, NULL), EINVAL);
	env_teardown(&e);
}

/* ------------------------------------------------------------ resets */

/* devices on the root bus: no hot reset, but every check before that answer */
static void hot_reset_root(const char *bdf)
{
	struct iommufd_hot_reset_dev *devs = (void *)1;
	uint8_t buf[64] = { 0 };
	struct vfio_pci_hot_reset_info *hi = (struct vfio_pci_hot_reset_info *)buf;
	struct vfio_pci_hot_reset *hr = (struct vfio_pci_hot_reset *)buf;
	uint32_t flags = 0x55;
	size_t nr = 77;
	int fds[1] = { 0 };
	struct env e;

	env_setup(&e, bdf);
	assert_errno(iommufd_device_get_hot_reset_info(e.dev, &flags, &devs, &nr), ENODEV);
	assert_non_null(strstr(iommufd_last_error(), "root bus"));
	assert_int_equal(nr, 77);
	assert_ptr_equal(devs, (void *)1);
	assert_errno(iommufd_device_get_hot_reset_info(e.dev, &flags, NULL, &nr), EINVAL);
	/* raw: argsz below the header first; the header is not written on ENODEV */
	hi->argsz = 11;
	assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, hi), EINVAL);
	hi->argsz = sizeof(buf);
	hi->flags = 0x55;
	hi->count = 77;
	assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, hi), ENODEV);
	assert_int_equal(hi->flags, 0x55);
	assert_int_equal(hi->count, 77);
	/* the reset: the iommufd form reaches the bus check */
	assert_errno(iommufd_device_hot_reset(e.dev, NULL), ENODEV);
	/* group fds on a cdev device: refused before it */
	{
		IOMMUFD_OPTS(struct iommufd_hot_reset_opts, o, .nr_group_fds = 1, .group_fds = fds);
		IOMMUFD_OPTS(struct iommufd_hot_reset_opts, f, .flags = 1);

		assert_errno(iommufd_device_hot_reset(e.dev, &o), EINVAL);
		assert_errno(iommufd_device_hot_reset(e.dev, &f), EINVAL);
		o.group_fds = NULL;
		assert_errno(iommufd_device_hot_reset(e.dev, &o), EINVAL);
	}
	memset(buf, 0, sizeof(buf));
	hr->argsz = 11;
	assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_PCI_HOT_RESET, hr), EINVAL);
	env_teardown(&e);
}

static void test_hot_reset_root_edu(void **state)
{
	(void)state;
	hot_reset_root(EDU_BDF);
}

static void test_hot_reset_root_nvme(void **state)
{
	(void)state;
	hot_reset_root(NVME_BDF);
}

/* a group-path device: group fds, not the iommufd form */
static void test_hot_reset_group(void **state)
{
	struct iommufd_ctx *scope = dev_scope(), *ctx = test_ctx_new();
	struct iommufd_hot_reset_dev *devs = NULL;
	struct iommufd_group *grp = NULL;
	struct iommufd_device *dev = NULL;
	size_t nr = 0;
	int group, gfd, bad[2];

	(void)state;
	check(iommufd_pci_get_iommu_group(scope, EDU_BDF, &group));
	check(iommufd_group_open(scope, group, &grp));
	check(iommufd_group_set_ctx(grp, ctx));
	check(iommufd_group_get_device(grp, EDU_BDF, &dev));
	gfd = iommufd_group_get_fd(grp);
	assert_errno(iommufd_device_get_hot_reset_info(dev, NULL, &devs, &nr), ENODEV);
	/* the iommufd form on a group-path device */
	assert_errno(iommufd_device_hot_reset(dev, NULL), EINVAL);
	/* with group fds the bus check comes before the fds are looked at */
	{
		IOMMUFD_OPTS(struct iommufd_hot_reset_opts, o, .nr_group_fds = 1, .group_fds = &gfd);

		assert_errno(iommufd_device_hot_reset(dev, &o), ENODEV);
		bad[0] = -1;
		bad[1] = gfd;
		o.group_fds = bad;
		assert_errno(iommufd_device_hot_reset(dev, &o), ENODEV);
		o.nr_group_fds = 2;
		assert_errno(iommufd_device_hot_reset(dev, &o), ENODEV);
	}
	/* features work on group-path devices too */
	assert_ok(iommufd_device_feature_probe(dev, IOMMUFD_FEATURE_LOW_POWER_ENTRY, 0));
	iommufd_device_unref(dev);
	iommufd_group_unref(grp);
	iommufd_ctx_unref(ctx);
}

static void test_function_reset(void **state)
{
	IOMMUFD_OPTS(struct iommufd_device_info, info);
	IOMMUFD_OPTS(struct iommufd_reset_how, how);
	struct env e;

	(void)state;
	/* edu: no FLR, no PM capability, on the root bus: no reset at all */
	env_setup(&e, EDU_BDF);
	assert_ok(iommufd_device_get_info(e.dev, &info));
	assert_false(info.flags & IOMMUFD_DEVICE_INFO_RESET);
	assert_errno(iommufd_device_reset(e.dev), EINVAL);
	how.method = 99;
	assert_errno(iommufd_device_reset_auto(e.dev, &how), ENODEV);
	assert_non_null(strstr(iommufd_last_error(), "no reset"));
	assert_int_equal(how.method, 99); /* untouched on failure */
	how.flags = IOMMUFD_RESET_NO_HOT;
	assert_errno(iommufd_device_reset_auto(e.dev, &how), ENODEV);
	how.flags = 1u << 7;
	assert_errno(iommufd_device_reset_auto(e.dev, &how), EINVAL);
	iommufd_device_unref(e.dev);
	/* NVMe: an FLR */
	e.dev = dev_open(test_scope(), NVME_BDF);
	check(iommufd_device_bind(e.dev, e.ctx, NULL, NULL));
	assert_ok(iommufd_device_get_info(e.dev, &info));
	assert_true(info.flags & IOMMUFD_DEVICE_INFO_RESET);
	assert_ok(iommufd_device_reset(e.dev));
	how.flags = 0;
	assert_ok(iommufd_device_reset_auto(e.dev, &how));
	assert_int_equal(how.method, IOMMUFD_RESET_FUNCTION);
	assert_int_equal(how.nr_devs, 1);
	assert_ok(iommufd_device_reset_auto(e.dev, NULL));
	env_teardown(&e);
}

/* ------------------------------------------------------------ behind a bridge */

/*
 * The VM has a pcie-root-port (bus 1 below it) with a two-function edu:
 * 0000:01:00.0 and 0000:01:00.1, in one IOMMU group (no ACS between the
 * functions), both on vfio-pci. A secondary bus reset resets both; neither
 * has a function reset of its own (not alone on the bus). The emulator gets
 * the same two devices in one group.
 */
#define BR_A "0000:01:00.0"
#define BR_B "0000:01:00.1"

static struct iommufd_ctx *bridge_scope(void)
{
	struct iommufd_ctx *scope = dev_scope();

	if (!test_real_kernel()) {
		IOMMUFD_OPTS(struct iommufd_emu_device_opts, a, .kind = IOMMUFD_EMU_DEVICE_EDU,
			     .bdf = BR_A, .group = 8);
		IOMMUFD_OPTS(struct iommufd_emu_device_opts, b, .kind = IOMMUFD_EMU_DEVICE_EDU,
			     .bdf = BR_B, .group = 8);

		assert_ok(iommufd_emu_add_pci_device(test_emu(), &a, NULL, 0));
		assert_ok(iommufd_emu_add_pci_device(test_emu(), &b, NULL, 0));
	}
	return scope;
}

static void test_bridge_cdev(void **state)
{
	struct iommufd_ctx *scope = bridge_scope(), *ctx = test_ctx_new(), *ctx2 = test_ctx_new();
	struct iommufd_device *a = dev_open(scope, BR_A), *b = dev_open(scope, BR_B);
	struct iommufd_hot_reset_dev *devs = NULL;
	IOMMUFD_OPTS(struct iommufd_device_info, info);
	IOMMUFD_OPTS(struct iommufd_reset_how, how);
	uint32_t flags = 0, id_a = 0, id_b = 0;
	size_t nr = 0;
	int fd = 0;

	(void)state;
	check(iommufd_device_bind(a, ctx, NULL, &id_a));
	/* not alone on its bus, no FLR: no function reset */
	assert_ok(iommufd_device_get_info(a, &info));
	assert_false(info.flags & IOMMUFD_DEVICE_INFO_RESET);
	assert_errno(iommufd_device_reset(a), EINVAL);
	/* both functions affected; B is owned through the group A is bound in */
	check(iommufd_device_get_hot_reset_info(a, &flags, &devs, &nr));
	assert_int_equal(flags, IOMMUFD_HOT_RESET_DEV_ID | IOMMUFD_HOT_RESET_ALL_OWNED);
	assert_int_equal(nr, 2);
	assert_int_equal(devs[0].segment, 0);
	assert_int_equal(devs[0].bus, 1);
	assert_int_equal(devs[0].devfn, 0);
	assert_int_equal(devs[0].dev_id, id_a);
	assert_int_equal(devs[0].group_id, 0);
	assert_int_equal(devs[0].flags, IOMMUFD_HOT_RESET_DEV_OWNED);
	assert_int_equal(devs[1].bus, 1);
	assert_int_equal(devs[1].devfn, 1);
	assert_int_equal(devs[1].dev_id, 0);
	assert_int_equal(devs[1].flags, IOMMUFD_HOT_RESET_DEV_OWNED);
	free(devs);
	/* the growth protocol: a bare header gets ENOSPC, the count, flags 0 */
	{
		struct vfio_pci_hot_reset_info hi = { .argsz = sizeof(hi), .flags = 0x55 };

		assert_errno(iommufd_device_ioctl(a, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hi), ENOSPC);
		assert_int_equal(hi.count, 2);
		assert_int_equal(hi.flags, 0);
	}
	/* the iommufd form resets both; group fds are for group-path devices */
	check(iommufd_device_hot_reset(a, NULL));
	{
		IOMMUFD_OPTS(struct iommufd_hot_reset_opts, o, .nr_group_fds = 1, .group_fds = &fd);

		assert_errno(iommufd_device_hot_reset(a, &o), EINVAL);
	}
	/* the automatic choice: a hot reset, but of two devices */
	assert_errno(iommufd_device_reset_auto(a, &how), EBUSY);
	assert_non_null(strstr(iommufd_last_error(), "other devices"));
	how.flags = IOMMUFD_RESET_HOT_MULTI;
	assert_ok(iommufd_device_reset_auto(a, &how));
	assert_int_equal(how.method, IOMMUFD_RESET_HOT);
	assert_int_equal(how.nr_devs, 2);
	/* group fds given for a cdev device are not passed on */
	how.nr_group_fds = 1;
	how.group_fds = &fd;
	assert_ok(iommufd_device_reset_auto(a, &how));
	assert_int_equal(how.method, IOMMUFD_RESET_HOT);
	/* B cannot go to another context (its group belongs to ctx); bound to ctx it has its ID */
	assert_errno(iommufd_device_bind(b, ctx2, NULL, NULL), EPERM);
	check(iommufd_device_bind(b, ctx, NULL, &id_b));
	check(iommufd_device_get_hot_reset_info(b, &flags, &devs, &nr));
	assert_int_equal(flags, IOMMUFD_HOT_RESET_DEV_ID | IOMMUFD_HOT_RESET_ALL_OWNED);
	assert_int_equal(nr, 2);
	assert_int_equal(devs[0].dev_id, id_a);
	assert_int_equal(devs[1].dev_id, id_b);
	free(devs);
	check(iommufd_device_hot_reset(b, NULL));
	/* B closed: owned through the group again */
	iommufd_device_unref(b);
	check(iommufd_device_get_hot_reset_info(a, &flags, &devs, &nr));
	assert_int_equal(nr, 2);
	assert_int_equal(devs[1].dev_id, 0);
	assert_int_equal(devs[1].flags, IOMMUFD_HOT_RESET_DEV_OWNED);
	free(devs);
	iommufd_device_unref(a);
	iommufd_ctx_unref(ctx2);
	iommufd_ctx_unref(ctx);
}

static void test_bridge_group(void **state)
{
	struct iommufd_ctx *scope = bridge_scope(), *ctx = test_ctx_new();
	struct iommufd_hot_reset_dev *devs = NULL;
	struct iommufd_group *grp = NULL, *other = NULL;
	struct iommufd_device *a = NULL;
	IOMMUFD_OPTS(struct iommufd_reset_how, how, .flags = IOMMUFD_RESET_HOT_MULTI);
	uint32_t flags = 0x55;
	size_t nr = 0;
	int group, group_b, edu_group, gfd, fds[3], closed;

	(void)state;
	check(iommufd_pci_get_iommu_group(scope, BR_A, &group));
	check(iommufd_pci_get_iommu_group(scope, BR_B, &group_b));
	assert_int_equal(group, group_b);
	check(iommufd_pci_get_iommu_group(scope, EDU_BDF, &edu_group));
	check(iommufd_group_open(scope, group, &grp));
	check(iommufd_group_open(scope, edu_group, &other));
	check(iommufd_group_set_ctx(grp, ctx));
	check(iommufd_group_get_device(grp, BR_A, &a));
	gfd = iommufd_group_get_fd(grp);
	/* the group form: group IDs, no ownership flags */
	check(iommufd_device_get_hot_reset_info(a, &flags, &devs, &nr));
	assert_int_equal(flags, 0);
	assert_int_equal(nr, 2);
	assert_int_equal(devs[0].group_id, (uint32_t)group);
	assert_int_equal(devs[1].group_id, (uint32_t)group);
	assert_int_equal(devs[0].dev_id, 0);
	assert_int_equal(devs[0].flags, 0);
	free(devs);
	/* the iommufd form on a group-path device */
	assert_errno(iommufd_device_hot_reset(a, NULL), EINVAL);
	{
		IOMMUFD_OPTS(struct iommufd_hot_reset_opts, o, .nr_group_fds = 1, .group_fds = fds);

		fds[0] = gfd;
		assert_ok(iommufd_device_hot_reset(a, &o));
		/* the same group twice is fine; more fds than affected devices is not */
		fds[1] = gfd;
		fds[2] = gfd;
		o.nr_group_fds = 2;
		assert_ok(iommufd_device_hot_reset(a, &o));
		o.nr_group_fds = 3;
		assert_errno(iommufd_device_hot_reset(a, &o), EINVAL);
		/* an fd that is no group, one that is not open, a group that proves nothing */
		o.nr_group_fds = 1;
		fds[0] = iommufd_ctx_get_fd(ctx);
		assert_errno(iommufd_device_hot_reset(a, &o), EINVAL);
		closed = dup(gfd);
		assert_true(closed >= 0);
		close(closed);
		fds[0] = closed;
		assert_errno(iommufd_device_hot_reset(a, &o), EBADF);
		fds[0] = iommufd_group_get_fd(other);
		assert_errno(iommufd_device_hot_reset(a, &o), EINVAL);
	}
	/* the automatic choice needs the group fds on the group path */
	assert_errno(iommufd_device_reset_auto(a, &how), EPERM);
	how.nr_group_fds = 1;
	how.group_fds = &gfd;
	assert_ok(iommufd_device_reset_auto(a, &how));
	assert_int_equal(how.method, IOMMUFD_RESET_HOT);
	assert_int_equal(how.nr_devs, 2);
	iommufd_device_unref(a);
	iommufd_group_unref(other);
	iommufd_group_unref(grp);
	iommufd_ctx_unref(ctx);
}

/* ------------------------------------------------------------ other topologies (emulator) */

#define EM_EDU "0000:01:00.0"
#define EM_NVME "0000:01:01.0"
#define EM_LONE "0000:02:00.0"

/* edu and NVMe on bus 1 in separate groups, an edu alone on bus 2 */
static struct iommufd_ctx *emu_bridge_scope(void)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, a, .kind = IOMMUFD_EMU_DEVICE_EDU, .bdf = EM_EDU);
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, b, .kind = IOMMUFD_EMU_DEVICE_NVME, .bdf = EM_NVME);
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, c, .kind = IOMMUFD_EMU_DEVICE_EDU, .bdf = EM_LONE);

	test_backend_get();
	assert_ok(iommufd_emu_add_pci_device(test_emu(), &a, NULL, 0));
	assert_ok(iommufd_emu_add_pci_device(test_emu(), &b, NULL, 0));
	assert_ok(iommufd_emu_add_pci_device(test_emu(), &c, NULL, 0));
	return test_scope();
}

static uint32_t edu_liveness(struct iommufd_device *dev)
{
	uint32_t v = 0;

	assert_int_equal(iommufd_device_region_read(dev, IOMMUFD_PCI_BAR0_REGION, 4, &v, 4), 4);
	return v;
}

/* a device of the bus in another group is owned only when bound to the same context */
static void test_emu_not_owned(void **state)
{
	struct iommufd_ctx *scope, *ctx, *other;
	struct iommufd_device *edu, *nvme;
	struct iommufd_hot_reset_dev *devs = NULL;
	IOMMUFD_OPTS(struct iommufd_reset_how, how);
	uint32_t flags = 0, v0, x = 0x12345678, edu_id;
	size_t nr = 0;

	(void)state;
	if (test_real_kernel())
		skip(); /* the VM's devices behind the bridge share one group */
	scope = emu_bridge_scope();
	ctx = test_ctx_new();
	other = test_ctx_new();
	edu = dev_open(scope, EM_EDU);
	nvme = dev_open(scope, EM_NVME);
	check(iommufd_device_bind(edu, ctx, NULL, &edu_id));
	/* NVMe not opened: not owned, and the flag of the whole answer goes */
	check(iommufd_device_get_hot_reset_info(edu, &flags, &devs, &nr));
	assert_int_equal(nr, 2);
	assert_int_equal(flags, IOMMUFD_HOT_RESET_DEV_ID);
	assert_int_equal(devs[0].dev_id, edu_id);
	assert_int_equal(devs[0].flags, IOMMUFD_HOT_RESET_DEV_OWNED);
	assert_int_equal(devs[1].devfn, 1 << 3);
	assert_int_equal(devs[1].dev_id, 0);
	assert_int_equal(devs[1].flags, 0);
	free(devs);
	assert_errno(iommufd_device_hot_reset(edu, NULL), EINVAL);
	how.flags = IOMMUFD_RESET_HOT_MULTI;
	assert_errno(iommufd_device_reset_auto(edu, &how), EPERM);
	/* bound to another context: still not owned */
	check(iommufd_device_bind(nvme, other, NULL, NULL));
	assert_errno(iommufd_device_hot_reset(edu, NULL), EINVAL);
	iommufd_device_unref(nvme);
	/* both in edu's context: the reset resets edu's registers */
	nvme = dev_open(scope, EM_NVME);
	check(iommufd_device_bind(nvme, ctx, NULL, NULL));
	v0 = edu_liveness(edu);
	assert_int_equal(iommufd_device_region_write(edu, IOMMUFD_PCI_BAR0_REGION, 4, &x, 4), 4);
	assert_int_not_equal(edu_liveness(edu), v0);
	check(iommufd_device_hot_reset(edu, NULL));
	assert_int_equal(edu_liveness(edu), v0);
	/* NVMe has FLR: that comes first */
	how.flags = 0;
	assert_ok(iommufd_device_reset_auto(nvme, &how));
	assert_int_equal(how.method, IOMMUFD_RESET_FUNCTION);
	iommufd_device_unref(nvme);
	iommufd_device_unref(edu);
	iommufd_ctx_unref(other);
	iommufd_ctx_unref(ctx);
}

/* alone below its bridge, a device's function reset is the bus reset */
static void test_emu_alone(void **state)
{
	struct iommufd_ctx *scope, *ctx;
	struct iommufd_device *edu;
	IOMMUFD_OPTS(struct iommufd_device_info, info);
	IOMMUFD_OPTS(struct iommufd_reset_how, how);

	(void)state;
	if (test_real_kernel())
		skip();
	scope = emu_bridge_scope();
	ctx = test_ctx_new();
	edu = dev_open(scope, EM_LONE);
	check(iommufd_device_bind(edu, ctx, NULL, NULL));
	assert_ok(iommufd_device_get_info(edu, &info));
	assert_true(info.flags & IOMMUFD_DEVICE_INFO_RESET);
	assert_ok(iommufd_device_reset(edu));
	assert_ok(iommufd_device_reset_auto(edu, &how));
	assert_int_equal(how.method, IOMMUFD_RESET_FUNCTION);
	assert_int_equal(how.nr_devs, 1);
	check(iommufd_device_hot_reset(edu, NULL));
	iommufd_device_unref(edu);
	iommufd_ctx_unref(ctx);
}

static int teardown(void **state)
{
	(void)state;
	test_backend_put();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_probe_edu, teardown),
		cmocka_unit_test_teardown(test_probe_nvme, teardown),
		cmocka_unit_test_teardown(test_probe_parked, teardown),
		cmocka_unit_test_teardown(test_feature_request, teardown),
		cmocka_unit_test_teardown(test_low_power, teardown),
		cmocka_unit_test_teardown(test_low_power_wakeup, teardown),
		cmocka_unit_test_teardown(test_absent_features, teardown),
		cmocka_unit_test_teardown(test_hot_reset_root_edu, teardown),
		cmocka_unit_test_teardown(test_hot_reset_root_nvme, teardown),
		cmocka_unit_test_teardown(test_hot_reset_group, teardown),
		cmocka_unit_test_teardown(test_function_reset, teardown),
		cmocka_unit_test_teardown(test_bridge_cdev, teardown),
		cmocka_unit_test_teardown(test_bridge_group, teardown),
		cmocka_unit_test_teardown(test_emu_not_owned, teardown),
		cmocka_unit_test_teardown(test_emu_alone, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
