// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SR-IOV through vfio-pci: enabling and disabling the VFs of a PF
 * (iommufd_pci_sriov_set_numvfs() and the kernel's own answers to a raw write
 * of sriov_numvfs), the VF list, and the VF token: a VF opened without it or
 * with a wrong one is refused (EACCES), with the PF's token it binds, reads
 * its config space and BAR0, and attaches to an IOAS.
 *
 * In the VM this runs on the boot of `run-vm --sriov` (QEMU 10, an NVMe PF
 * with two VFs at 0000:02:00.0, bound to vfio-pci by the VM's init), also in
 * the type1 mode (the token then goes to VFIO_GROUP_GET_DEVICE_FD). On the
 * emulator the same PF is its NVMe with IOMMUFD_EMU_DEVICE_SRIOV at the same
 * address, and sysfs is the emulator's view (test_sysfs_*()).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "device-common.h"

#define PF_BDF "0000:02:00.0"
#define SYS_PF "/sys/bus/pci/devices/" PF_BDF
#define ENABLE_SRIOV "/sys/module/vfio_pci/parameters/enable_sriov"

static const uint8_t token[16] = { 0x5a, 0x10, 0xf0, 0x0d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const uint8_t wrong[16] = { 0xde, 0xad, 0xbe, 0xef };

/* the scope, with the PF on the emulator as in the VM (no namespace) */
static struct iommufd_ctx *sriov_scope(void)
{
	struct iommufd_ctx *scope = dev_scope();

	if (!test_real_kernel()) {
		IOMMUFD_OPTS(struct iommufd_emu_device_opts, pf, .kind = IOMMUFD_EMU_DEVICE_NVME,
			     .bdf = PF_BDF,
			     .flags = IOMMUFD_EMU_DEVICE_SRIOV | IOMMUFD_EMU_DEVICE_NVME_NO_NAMESPACE);

		assert_int_equal(iommufd_emu_add_pci_device(test_emu(), &pf, NULL, 0), 0);
	} else if (!test_sysfs_exists(SYS_PF "/sriov_totalvfs")) {
		/* in the VM, this program runs only on the --sriov boot: a missing PF is a failure */
		fail_msg("%s: no SR-IOV PF (is the VM booted with run-vm --sriov?)", SYS_PF);
	}
	return scope;
}

static int sys_write(const char *path, const char *s)
{
	return test_sysfs_write(path, s);
}

static void sys_read(const char *path, char *buf, size_t len)
{
	assert_int_equal(test_sysfs_read(path, buf, len), 0);
}

static void sys_link(const char *path, const char *target)
{
	char buf[256];

	assert_int_equal(test_sysfs_readlink(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, target);
}

static void reason_has(const char *what)
{
	if (!strstr(iommufd_last_error(), what))
		fail_msg("reason \"%s\" lacks \"%s\"", iommufd_last_error(), what);
}

/* ------------------------------------------------------------ both backends */

static void test_args(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_device *dev = NULL;
	unsigned int n = 99, t = 99;
	char vf[IOMMUFD_BDF_LEN];

	(void)state;
	assert_errno(iommufd_pci_sriov_get_numvfs(NULL, PF_BDF, &n, &t), EINVAL);
	assert_errno(iommufd_pci_sriov_get_numvfs(scope, NULL, &n, &t), EINVAL);
	assert_errno(iommufd_pci_sriov_get_numvfs(scope, PF_BDF, NULL, NULL), EINVAL);
	assert_errno(iommufd_pci_sriov_get_numvfs(scope, "02:00.0", &n, &t), EINVAL);
	reason_has("not a PCI address");
	assert_errno(iommufd_pci_sriov_set_numvfs(scope, NULL, 1), EINVAL);
	assert_errno(iommufd_pci_sriov_set_numvfs(scope, "0000:02:00.9", 1), EINVAL);
	assert_errno(iommufd_pci_sriov_get_vf(scope, PF_BDF, 0, NULL), EINVAL);
	assert_errno(iommufd_pci_sriov_get_vf(scope, NULL, 0, vf), EINVAL);
	assert_errno(iommufd_device_open_vf(scope, PF_BDF, 0, token, NULL, NULL), EINVAL);
	assert_errno(iommufd_device_open_vf(NULL, PF_BDF, 0, token, NULL, &dev), EINVAL);
	assert_null(dev);
	assert_int_equal(n, 99);
	assert_int_equal(t, 99);
}

/* absent devices and devices that are no PF: the same answers on both backends */
static void test_not_a_pf(void **state)
{
	struct iommufd_ctx *scope = dev_scope();
	struct iommufd_device *dev = NULL;
	char vf[IOMMUFD_BDF_LEN];
	unsigned int n;

	(void)state;
	assert_errno(iommufd_pci_sriov_get_numvfs(scope, "0000:00:1e.0", &n, NULL), ENODEV);
	reason_has("no PCI device 0000:00:1e.0");
	assert_errno(iommufd_pci_sriov_set_numvfs(scope, "0000:00:1e.0", 1), ENODEV);
	assert_errno(iommufd_pci_sriov_get_numvfs(scope, NVME_BDF, &n, NULL), EOPNOTSUPP);
	reason_has("not an SR-IOV physical function");
	assert_errno(iommufd_pci_sriov_set_numvfs(scope, EDU_BDF, 0), EOPNOTSUPP);
	assert_errno(iommufd_pci_sriov_get_vf(scope, NVME_BDF, 0, vf), EOPNOTSUPP);
	assert_errno(iommufd_device_open_vf(scope, NVME_BDF, 0, token, NULL, &dev), EOPNOTSUPP);
	assert_null(dev);
}

/* a token to a device that is neither a VF nor a PF: the kernel's EINVAL */
static void test_token_not_pf_or_vf(void **state)
{
	struct iommufd_ctx *scope = dev_scope(), *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, EDU_BDF);

	(void)state;
	assert_errno(iommufd_device_bind(dev, ctx, token, NULL), EINVAL);
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_PARKED);
	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
}

/* ------------------------------------------------------------ the VM's PF */

/* sriov_numvfs: the kernel's rules, raw and through the library */
static void test_numvfs_rules(void **state)
{
	struct iommufd_ctx *scope = sriov_scope();
	unsigned int n = 99, t = 0;
	char vf[IOMMUFD_BDF_LEN], buf[256];

	(void)state;
	assert_ok(iommufd_pci_sriov_get_numvfs(scope, PF_BDF, &n, &t));
	assert_int_equal(n, 0);
	assert_int_equal(t, 2);
	sys_read(SYS_PF "/driver_override", buf, sizeof(buf));
	assert_string_equal(buf, "vfio-pci");

	/* enable_sriov off: vfio-pci answers ENOENT */
	assert_ok(sys_write(ENABLE_SRIOV, "N"));
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "1"), -ENOENT);
	assert_errno(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 1), ENOENT);
	reason_has("enable_sriov");
	/* above sriov_totalvfs: ERANGE, from the PCI core before the driver */
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "3"), -ERANGE);
	assert_errno(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 3), ERANGE);
	reason_has("at most 2");
	/* disabling what is disabled: a no-op for both */
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "0"), 0);
	assert_ok(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 0));

	assert_ok(sys_write(ENABLE_SRIOV, "Y"));
	assert_ok(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 1));
	assert_ok(iommufd_pci_sriov_get_numvfs(scope, PF_BDF, &n, NULL));
	assert_int_equal(n, 1);
	/* the same count: a no-op; another non-zero one: EBUSY */
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "1"), 0);
	assert_ok(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 1));
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "2"), -EBUSY);
	assert_errno(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 2), EBUSY);
	reason_has("disable them (0)");

	/* the VF: virtfn0, with vfio-pci's captured driver_override, probed to vfio-pci */
	assert_ok(iommufd_pci_sriov_get_vf(scope, PF_BDF, 0, vf));
	assert_string_equal(vf, "0000:02:00.1");
	assert_errno(iommufd_pci_sriov_get_vf(scope, PF_BDF, 1, vf), ENOENT);
	reason_has("no VF 1");
	sys_read("/sys/bus/pci/devices/0000:02:00.1/driver_override", buf, sizeof(buf));
	assert_string_equal(buf, "vfio-pci");
	assert_int_equal(test_sysfs_readlink("/sys/bus/pci/devices/0000:02:00.1/driver", buf,
					     sizeof(buf)), 0);
	assert_non_null(strstr(buf, "/vfio-pci"));
	assert_true(test_sysfs_exists("/sys/bus/pci/devices/0000:02:00.1/physfn"));

	/* both VFs after a disable; then none, and the VF devices gone */
	assert_ok(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 0));
	assert_ok(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 2));
	assert_ok(iommufd_pci_sriov_get_vf(scope, PF_BDF, 1, vf));
	assert_string_equal(vf, "0000:02:00.2");
	assert_ok(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 0));
	assert_false(test_sysfs_exists("/sys/bus/pci/devices/0000:02:00.1"));
	assert_errno(iommufd_pci_sriov_get_vf(scope, PF_BDF, 0, vf), ENOENT);
	assert_ok(sys_write(ENABLE_SRIOV, "N"));
}

/*
 * The handles of test_vf_token, released by the teardown when a case fails:
 * disabling the VFs while one is open would wait for it forever.
 */
static struct {
	struct iommufd_ctx *ctx, *ctx2;
	struct iommufd_device *pf, *vf, *raw;
} h;

static void release_handles(void)
{
	iommufd_device_unref(h.raw);
	iommufd_device_unref(h.vf);
	iommufd_device_unref(h.pf);
	iommufd_ctx_unref(h.ctx2);
	iommufd_ctx_unref(h.ctx);
	memset(&h, 0, sizeof(h));
}

/* the VF token: set on the bound PF, required of its VFs at bind */
static void test_vf_token(void **state)
{
	struct iommufd_ctx *scope = sriov_scope(), *ctx, *ctx2;
	struct iommufd_device *pf, *vf = NULL, *raw;
	uint32_t dev_id = 0, ioas, hwpt = 0, v = 0, cap_lo = 0;
	char vf_bdf[IOMMUFD_BDF_LEN];

	(void)state;
	ctx = h.ctx = test_ctx_new();
	ctx2 = h.ctx2 = test_ctx_new();
	pf = h.pf = dev_open(scope, PF_BDF);
	check(iommufd_device_bind(pf, ctx, NULL, NULL));
	check(iommufd_device_set_vf_token(pf, token));
	assert_ok(sys_write(ENABLE_SRIOV, "Y"));
	check(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 1));
	check(iommufd_pci_sriov_get_vf(scope, PF_BDF, 0, vf_bdf));

	/* no token, a wrong one: EACCES (vfio_pci_core_match_token_uuid()) */
	assert_errno(iommufd_device_open_vf(ctx, PF_BDF, 0, NULL, NULL, &vf), EACCES);
	reason_has("VF token missing or wrong");
	assert_null(vf);
	assert_errno(iommufd_device_open_vf(ctx, PF_BDF, 0, wrong, NULL, &vf), EACCES);
	reason_has("VF token missing or wrong");
	raw = h.raw = dev_open(scope, vf_bdf);
	assert_errno(iommufd_device_bind(raw, ctx, NULL, NULL), EACCES);
	reason_has("VF token missing or wrong");
	assert_errno(iommufd_device_bind(raw, ctx2, wrong, NULL), EACCES);
	assert_int_equal(iommufd_device_get_state(raw), IOMMUFD_DEVICE_PARKED);
	iommufd_device_unref(raw);
	h.raw = NULL;

	/* the PF's token: bound, usable */
	check(iommufd_device_open_vf(ctx, PF_BDF, 0, token, &dev_id, &vf));
	h.vf = vf;
	assert_int_not_equal(dev_id, 0);
	assert_int_equal(iommufd_device_get_state(vf), IOMMUFD_DEVICE_BOUND);
	check(iommufd_device_config_read(vf, 0, 4, &v));
	assert_int_equal(v & 0xffff, 0x1b36); /* QEMU's NVMe, as its PF */
	assert_int_not_equal(v, 0xffffffff);
	assert_true(iommufd_device_region_read(vf, 0, 0, &cap_lo, 4) == 4); /* NVMe CAP */
	assert_int_not_equal(cap_lo, 0xffffffff);
	check(iommufd_ioas_alloc(ctx, &ioas));
	check(iommufd_device_attach(vf, ioas, &hwpt));
	assert_int_not_equal(hwpt, 0);
	assert_int_equal(iommufd_device_get_state(vf), IOMMUFD_DEVICE_ATTACHED);

	/* while a VF is in use, a new token of the PF's is still accepted */
	check(iommufd_device_set_vf_token(pf, wrong));

	/* disabling VFs waits for their users: close the VF first */
	iommufd_device_unref(vf);
	h.vf = NULL;
	check(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 0));
	assert_ok(sys_write(ENABLE_SRIOV, "N"));
	release_handles();
}

/* the stores' parsing: kstrtou16 for sriov_numvfs, kstrtobool for enable_sriov */
static void test_store_parsing(void **state)
{
	struct iommufd_ctx *scope = sriov_scope();
	char buf[64];
	unsigned int n = 99;

	(void)state;
	assert_int_equal(sys_write(ENABLE_SRIOV, "maybe"), -EINVAL);
	assert_ok(sys_write(ENABLE_SRIOV, "1"));
	sys_read(ENABLE_SRIOV, buf, sizeof(buf));
	assert_string_equal(buf, "Y");
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "abc"), -EINVAL);
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "-1"), -EINVAL);
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", " 1"), -EINVAL);
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "70000"), -EINVAL);
	assert_ok(sys_write(SYS_PF "/sriov_numvfs", "0x1\n"));
	assert_ok(iommufd_pci_sriov_get_numvfs(scope, PF_BDF, &n, NULL));
	assert_int_equal(n, 1);
	/* vfio-pci refuses disabling too while enable_sriov is off */
	assert_ok(sys_write(ENABLE_SRIOV, "n"));
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "0"), -ENOENT);
	assert_errno(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 0), ENOENT);
	assert_true(test_sysfs_exists("/sys/bus/pci/devices/0000:02:00.1"));
	assert_ok(sys_write(ENABLE_SRIOV, "Y"));
	assert_ok(sys_write(SYS_PF "/sriov_numvfs", "0"));
	assert_ok(sys_write(ENABLE_SRIOV, "0"));
	sys_read(ENABLE_SRIOV, buf, sizeof(buf));
	assert_string_equal(buf, "N");
}

/*
 * A store through a duplicate of the attribute's fd whose original is
 * closed, as a shell's `echo 1 > sriov_numvfs` does it (open, dup2 onto
 * fd 1, close, write). Files of sysfs: the kernel and the preload library.
 */
static void test_store_through_dup(void **state)
{
	struct iommufd_ctx *scope = sriov_scope();
	unsigned int n = 99;
	int fd, d;

	(void)state;
	if (!test_real_kernel()) {
		skip(); /* the in-process emulator's sysfs has no fds */
		return;
	}
	assert_ok(sys_write(ENABLE_SRIOV, "1"));
	fd = open(SYS_PF "/sriov_numvfs", O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	d = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	assert_true(d >= 100);
	assert_int_equal(close(fd), 0);
	assert_int_equal(write(d, "1", 1), 1);
	assert_ok(iommufd_pci_sriov_get_numvfs(scope, PF_BDF, &n, NULL));
	assert_int_equal(n, 1);
	/* dup3 onto a number in use: the copy is the attribute, the old file gone */
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(dup3(d, fd, O_CLOEXEC), fd);
	assert_int_equal(close(d), 0);
	errno = 0;
	assert_int_equal(write(fd, "2", 1), -1);
	assert_int_equal(errno, EBUSY); /* VFs enabled: first back to 0 */
	assert_int_equal(write(fd, "0", 1), 1);
	assert_int_equal(close(fd), 0);
	assert_ok(iommufd_pci_sriov_get_numvfs(scope, PF_BDF, &n, NULL));
	assert_int_equal(n, 0);
	assert_ok(sys_write(ENABLE_SRIOV, "N"));
}

/* the extended capability of id in dev's config space, 0 if none */
static uint32_t find_ecap(struct iommufd_device *dev, uint16_t id)
{
	uint32_t hdr, p = 0x100;

	for (int n = 0; p >= 0x100 && n < 64; n++) {
		check(iommufd_device_config_read(dev, p, 4, &hdr));
		if ((hdr & 0xffff) == id)
			return p;
		p = hdr >> 20;
	}
	return 0;
}

/* the PF's attributes, its SR-IOV capability, the VFs' links, groups and config */
static void test_layout(void **state)
{
	struct iommufd_ctx *scope = sriov_scope(), *ctx = test_ctx_new();
	struct iommufd_device *pf = dev_open(scope, PF_BDF), *vf = NULL;
	char buf[256], g0[256], g1[256], gpf[256];
	uint32_t cap, v;

	(void)state;
	check(iommufd_device_bind(pf, ctx, NULL, NULL));
	check(iommufd_device_set_vf_token(pf, token));
	sys_read(SYS_PF "/sriov_offset", buf, sizeof(buf));
	assert_string_equal(buf, "1");
	sys_read(SYS_PF "/sriov_stride", buf, sizeof(buf));
	assert_string_equal(buf, "1");
	sys_read(SYS_PF "/sriov_vf_device", buf, sizeof(buf));
	assert_string_equal(buf, "10");
	sys_read(SYS_PF "/sriov_drivers_autoprobe", buf, sizeof(buf));
	assert_string_equal(buf, "1");
	/* the SR-IOV capability, read only through vfio-pci */
	cap = find_ecap(pf, 0x10);
	assert_int_not_equal(cap, 0);
	check(iommufd_device_config_read(pf, cap + 0x0c, 4, &v));
	assert_int_equal(v, 0x00020002); /* InitialVFs, TotalVFs */
	check(iommufd_device_config_read(pf, cap + 0x10, 2, &v));
	assert_int_equal(v, 0);
	check(iommufd_device_config_read(pf, cap + 0x14, 4, &v));
	assert_int_equal(v, 0x00010001); /* offset, stride */
	check(iommufd_device_config_read(pf, cap + 0x18, 4, &v));
	assert_int_equal(v >> 16, 0x0010); /* VF Device ID */
	check(iommufd_device_config_write(pf, cap + 0x10, 2, 2));
	check(iommufd_device_config_read(pf, cap + 0x10, 2, &v));
	assert_int_equal(v, 0);

	assert_ok(sys_write(ENABLE_SRIOV, "Y"));
	check(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 2));
	check(iommufd_device_config_read(pf, cap + 0x08, 2, &v));
	assert_int_equal(v & 0x09, 0x09); /* VF Enable, VF MSE */
	check(iommufd_device_config_read(pf, cap + 0x10, 2, &v));
	assert_int_equal(v, 2);
	sys_link(SYS_PF "/virtfn0", "../0000:02:00.1");
	sys_link(SYS_PF "/virtfn1", "../0000:02:00.2");
	sys_link("/sys/bus/pci/devices/0000:02:00.2/physfn", "../" PF_BDF);
	assert_int_equal(test_sysfs_readlink(SYS_PF "/iommu_group", gpf, sizeof(gpf)), 0);
	assert_int_equal(test_sysfs_readlink("/sys/bus/pci/devices/0000:02:00.1/iommu_group", g0,
					     sizeof(g0)), 0);
	assert_int_equal(test_sysfs_readlink("/sys/bus/pci/devices/0000:02:00.2/iommu_group", g1,
					     sizeof(g1)), 0);
	assert_string_not_equal(g0, gpf);
	assert_string_not_equal(g0, g1);
	assert_true(test_sysfs_exists("/sys/bus/pci/devices/0000:02:00.2/vfio-dev"));
	assert_false(test_sysfs_exists("/sys/bus/pci/devices/0000:02:00.2/sriov_numvfs"));
	sys_read("/sys/bus/pci/devices/0000:02:00.1/vendor", buf, sizeof(buf));
	assert_string_equal(buf, "0x1b36");
	sys_read("/sys/bus/pci/devices/0000:02:00.1/device", buf, sizeof(buf));
	assert_string_equal(buf, "0x0010");
	/* a VF: no INTx, no SR-IOV capability of its own */
	check(iommufd_device_open_vf(ctx, PF_BDF, 1, token, NULL, &vf));
	check(iommufd_device_config_read(vf, 0x3d, 1, &v));
	assert_int_equal(v, 0);
	assert_int_equal(find_ecap(vf, 0x10), 0);
	iommufd_device_unref(vf);
	check(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 0));
	check(iommufd_device_config_read(pf, cap + 0x08, 2, &v));
	assert_int_equal(v & 0x09, 0);
	assert_ok(sys_write(ENABLE_SRIOV, "N"));
	iommufd_device_unref(pf);
	iommufd_ctx_unref(ctx);
}

/*
 * The token's other rules: the PF's feature is SET only; a PF whose VFs are
 * in use needs the token to bind, and with none in use a token given at
 * bind becomes the PF's; a VF opens with the PF closed; a new count while a
 * VF is open is EBUSY.
 */
static void test_token_rules(void **state)
{
	struct iommufd_ctx *scope = sriov_scope(), *ctx, *ctx2;
	struct iommufd_device *pf, *vf = NULL;
	uint8_t got[16];

	(void)state;
	ctx = h.ctx = test_ctx_new();
	ctx2 = h.ctx2 = test_ctx_new();
	pf = h.pf = dev_open(scope, PF_BDF);
	check(iommufd_device_bind(pf, ctx, NULL, NULL));
	assert_ok(iommufd_device_feature_probe(pf, IOMMUFD_FEATURE_PCI_VF_TOKEN, IOMMUFD_FEATURE_SET));
	assert_errno(iommufd_device_feature_probe(pf, IOMMUFD_FEATURE_PCI_VF_TOKEN, IOMMUFD_FEATURE_GET),
		     EINVAL);
	assert_errno(iommufd_device_feature(pf, IOMMUFD_FEATURE_PCI_VF_TOKEN, IOMMUFD_FEATURE_GET, got,
					    sizeof(got)), EINVAL);
	check(iommufd_device_set_vf_token(pf, token));
	assert_ok(sys_write(ENABLE_SRIOV, "Y"));
	check(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 2));
	check(iommufd_device_open_vf(ctx, PF_BDF, 0, token, NULL, &vf));
	h.vf = vf;
	/* a VF has no token of its own */
	assert_errno(iommufd_device_set_vf_token(vf, token), ENOTTY);
	/* another count while a VF is open */
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "1"), -EBUSY);

	/* the PF again, while its VF is open: the token is required */
	iommufd_device_unref(pf);
	pf = h.pf = dev_open(scope, PF_BDF);
	assert_errno(iommufd_device_bind(pf, ctx2, NULL, NULL), EACCES);
	reason_has("VF token missing or wrong");
	assert_errno(iommufd_device_bind(pf, ctx2, wrong, NULL), EACCES);
	check(iommufd_device_bind(pf, ctx2, token, NULL));
	iommufd_device_unref(vf);
	h.vf = vf = NULL;
	iommufd_device_unref(pf);

	/* no VF in use: the PF's bind sets the token it is given */
	pf = h.pf = dev_open(scope, PF_BDF);
	check(iommufd_device_bind(pf, ctx2, wrong, NULL));
	assert_errno(iommufd_device_open_vf(ctx, PF_BDF, 1, token, NULL, &vf), EACCES);
	check(iommufd_device_open_vf(ctx, PF_BDF, 1, wrong, NULL, &vf));
	iommufd_device_unref(vf);
	vf = NULL;
	iommufd_device_unref(pf);
	h.pf = NULL;
	/* the PF closed: its token still guards the VFs */
	assert_errno(iommufd_device_open_vf(ctx, PF_BDF, 1, token, NULL, &vf), EACCES);
	check(iommufd_device_open_vf(ctx, PF_BDF, 1, wrong, NULL, &vf));
	iommufd_device_unref(vf);
	check(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 0));
	assert_ok(sys_write(ENABLE_SRIOV, "N"));
	release_handles();
}

/* the emulator's PF with another TotalVFs (QEMU's sriov_max_vfs): emulator only */
static void test_emu_totalvfs(void **state)
{
	struct iommufd_ctx *scope;
	char buf[64], vf[IOMMUFD_BDF_LEN];
	unsigned int n = 0, t = 0;

	(void)state;
	if (test_real_kernel())
		skip(); /* the emulator's API */
	scope = sriov_scope();
	assert_errno(iommufd_emu_device_set_sriov_totalvfs(NULL, PF_BDF, 4), EINVAL);
	assert_errno(iommufd_emu_device_set_sriov_totalvfs(test_emu(), NULL, 4), EINVAL);
	assert_errno(iommufd_emu_device_set_sriov_totalvfs(test_emu(), "0000:00:1e.0", 4), ENODEV);
	assert_errno(iommufd_emu_device_set_sriov_totalvfs(test_emu(), NVME_BDF, 4), EINVAL);
	assert_non_null(strstr(iommufd_emu_last_error(), "not an SR-IOV PF"));
	assert_errno(iommufd_emu_device_set_sriov_totalvfs(test_emu(), PF_BDF, 0), EINVAL);
	assert_errno(iommufd_emu_device_set_sriov_totalvfs(test_emu(), PF_BDF, 128), EINVAL);
	assert_ok(iommufd_emu_device_set_sriov_totalvfs(test_emu(), PF_BDF, 9));
	sys_read(SYS_PF "/sriov_totalvfs", buf, sizeof(buf));
	assert_string_equal(buf, "9");
	assert_ok(sys_write(ENABLE_SRIOV, "Y"));
	assert_int_equal(sys_write(SYS_PF "/sriov_numvfs", "10"), -ERANGE);
	check(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 9));
	check(iommufd_pci_sriov_get_numvfs(scope, PF_BDF, &n, &t));
	assert_int_equal(n, 9);
	assert_int_equal(t, 9);
	/* routing IDs past function 7: the next device number */
	check(iommufd_pci_sriov_get_vf(scope, PF_BDF, 8, vf));
	assert_string_equal(vf, "0000:02:01.1");
	assert_true(test_sysfs_exists("/sys/bus/pci/devices/0000:02:01.1/vfio-dev"));
	assert_errno(iommufd_emu_device_set_sriov_totalvfs(test_emu(), PF_BDF, 2), EBUSY);
	check(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 0));
	assert_ok(iommufd_emu_device_set_sriov_totalvfs(test_emu(), PF_BDF, 2));
	assert_ok(sys_write(ENABLE_SRIOV, "N"));
}

static struct iommufd_device *closing_vf;
static volatile int vf_closing;
static int reopen_err, req_fd = -1;
static uint64_t requests;

/*
 * While the store waits: the VF takes no new user; then its close. The
 * request to release it (vfio_pci_core_request()) comes once the VF takes
 * no new user (drivers/vfio/vfio_main.c vfio_unregister_group_dev()), so
 * waiting for it, not for a time, makes the reopen fall in the store.
 */
static void *close_later(void *arg)
{
	struct pollfd p = { .fd = req_fd, .events = POLLIN };
	struct iommufd_device *again = NULL;
	int r;

	if (poll(&p, 1, 10000) != 1 || read(req_fd, &requests, sizeof(requests)) != sizeof(requests))
		requests = 0;
	r = iommufd_device_open_pci(arg, "0000:02:00.1", &again);
	if (r == 0) {
		r = iommufd_device_bind(again, h.ctx, token, NULL);
		iommufd_device_unref(again);
	}
	reopen_err = r;
	vf_closing = 1;
	iommufd_device_unref(closing_vf);
	return NULL;
}

/* disabling the VFs while one is open: the store asks the VF's user to
 * release it (its request eventfd), waits for its close, and the VF takes
 * no new user meanwhile (vfio_unregister_group_dev()) */
static void test_disable_waits(void **state)
{
	struct iommufd_ctx *scope = sriov_scope(), *ctx = h.ctx = test_ctx_new();
	struct iommufd_device *pf = h.pf = dev_open(scope, PF_BDF);
	pthread_t t;

	(void)state;
	check(iommufd_device_bind(pf, ctx, token, NULL));
	assert_ok(sys_write(ENABLE_SRIOV, "Y"));
	check(iommufd_pci_sriov_set_numvfs(scope, PF_BDF, 1));
	check(iommufd_device_open_vf(ctx, PF_BDF, 0, token, NULL, &closing_vf));
	req_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(req_fd >= 0);
	check(iommufd_device_set_irqs(closing_vf, 4 /* VFIO_PCI_REQ_IRQ_INDEX */, 0, &req_fd, 1));
	assert_int_equal(pthread_create(&t, NULL, close_later, scope), 0);
	assert_ok(sys_write(SYS_PF "/sriov_numvfs", "0"));
	assert_int_equal(vf_closing, 1);
	assert_int_equal(reopen_err, -ENODEV);
	assert_int_equal(requests, 1);
	close(req_fd);
	req_fd = -1;
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_false(test_sysfs_exists("/sys/bus/pci/devices/0000:02:00.1"));
	assert_ok(sys_write(ENABLE_SRIOV, "N"));
	release_handles();
}

static int teardown(void **state)
{
	(void)state;
	release_handles();
	if (test_real_kernel() && !access(SYS_PF "/sriov_numvfs", F_OK)) {
		sys_write(ENABLE_SRIOV, "Y");
		sys_write(SYS_PF "/sriov_numvfs", "0");
		sys_write(ENABLE_SRIOV, "N");
	}
	test_backend_put();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_args, teardown),
		cmocka_unit_test_teardown(test_not_a_pf, teardown),
		cmocka_unit_test_teardown(test_token_not_pf_or_vf, teardown),
		cmocka_unit_test_teardown(test_numvfs_rules, teardown),
		cmocka_unit_test_teardown(test_vf_token, teardown),
		cmocka_unit_test_teardown(test_store_parsing, teardown),
		cmocka_unit_test_teardown(test_store_through_dup, teardown),
		cmocka_unit_test_teardown(test_layout, teardown),
		cmocka_unit_test_teardown(test_token_rules, teardown),
		cmocka_unit_test_teardown(test_disable_waits, teardown),
		cmocka_unit_test_teardown(test_emu_totalvfs, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
