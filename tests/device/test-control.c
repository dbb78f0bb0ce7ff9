// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Device control beyond the lifecycle: the raw ioctl escape hatch and the
 * interrupt actions of VFIO_DEVICE_SET_IRQS (mask, unmask, loopback
 * triggers, ERR and REQ, the rules between indexes of
 * drivers/vfio/pci/vfio_pci_intrs.c), on edu and NVMe, the same on the
 * emulator and on vfio-pci in the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "device-common.h"

#define TIMEOUT_MS 2000

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

static int new_efd(void)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	assert_true(efd >= 0);
	return efd;
}

/* the eventfd's count after waiting up to ms for it (0: none came) */
static uint64_t efd_take(int efd, int ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t cnt = 0;

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	assert_int_equal(read(efd, &cnt, sizeof(cnt)), 8);
	return cnt;
}

static void test_ioctl(void **state)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct env e;

	(void)state;
	env_setup(&e, EDU_BDF);
	assert_int_equal(iommufd_device_ioctl(e.dev, VFIO_DEVICE_GET_INFO, &info), 0);
	assert_true(info.flags & VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(info.num_irqs, 5);
	assert_int_equal(iommufd_device_ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	assert_true(ri.size >= 256);
	/* the kernel's errno, and a reason naming the request */
	assert_errno(iommufd_device_ioctl(e.dev, _IO(VFIO_TYPE, VFIO_BASE + 60), NULL), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "ioctl"));
	assert_errno(iommufd_device_ioctl(NULL, VFIO_DEVICE_GET_INFO, &info), EINVAL);
	env_teardown(&e);
}

/*
 * Hot reset: edu and the NVMe sit on the root bus, with no hotplug slot and
 * no bridge above them, so neither a slot nor a bus reset can be done: ENODEV
 * after the header's checks (QEMU: "no available reset mechanism" for edu,
 * which has no reset of its own either).
 */
static void test_hot_reset(void **state)
{
	static const char *const bdfs[] = { EDU_BDF, NVME_BDF };

	(void)state;
	for (size_t i = 0; i < sizeof(bdfs) / sizeof(bdfs[0]); i++) {
		struct vfio_pci_hot_reset_info info = { .argsz = sizeof(info) - 1 };
		struct vfio_pci_hot_reset hr = { .argsz = sizeof(hr) - 1 };
		struct env e;

		env_setup(&e, bdfs[i]);
		assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info),
			     EINVAL);
		info.argsz = sizeof(info);
		assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info),
			     ENODEV);
		assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr), EINVAL);
		hr.argsz = sizeof(hr);
		hr.flags = 1;
		assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr), EINVAL);
		/* opened as a cdev: the group fd array must be empty */
		hr.flags = 0;
		hr.count = 1;
		assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr), EINVAL);
		hr.count = 0;
		assert_errno(iommufd_device_ioctl(e.dev, VFIO_DEVICE_PCI_HOT_RESET, &hr), ENODEV);
		env_teardown(&e);
		test_backend_put(); /* the next round makes its devices again */
	}
}

/* edu: INTx and MSI exclude each other; mask/unmask and loopback triggers */
static void test_irq_rules_edu(void **state)
{
	const bool yes = true, no = false;
	struct env e;
	int efd = new_efd(), efd2 = new_efd();

	(void)state;
	env_setup(&e, EDU_BDF);
	/* nothing enabled: INTx mask, loopback and disables are refused */
	assert_errno(iommufd_device_irq_mask(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1), EINVAL);
	assert_errno(iommufd_device_irq_unmask(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1), EINVAL);
	assert_errno(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1, NULL), EINVAL);
	assert_errno(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_INTX), EINVAL);
	assert_errno(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI), EINVAL);
	assert_errno(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_MSI, 0, 1, NULL), EINVAL);
	/* MSI-X: no vectors on edu; ERR: edu is not PCIe */
	assert_errno(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_MSIX), EINVAL);
	assert_errno(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_ERR, 0, 1, NULL), EINVAL);
	/* MSI cannot be masked by vfio-pci: no handler */
	assert_errno(iommufd_device_irq_mask(e.dev, IOMMUFD_PCI_IRQ_MSI, 0, 1), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "MSI"));
	/* INTx on: loopback DATA_NONE and DATA_BOOL signal the eventfd */
	check(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, &efd, 1));
	check(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1, NULL));
	assert_int_equal(efd_take(efd, TIMEOUT_MS), 1);
	check(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1, &no));
	assert_int_equal(efd_take(efd, 50), 0);
	check(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1, &yes));
	assert_int_equal(efd_take(efd, TIMEOUT_MS), 1);
	check(iommufd_device_irq_mask(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1));
	check(iommufd_device_irq_unmask(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1));
	assert_errno(iommufd_device_irq_unmask(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 0), EINVAL);
	/* MSI while INTx is on: refused until INTx is disabled */
	assert_errno(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI, 0, &efd2, 1), EINVAL);
	check(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_INTX));
	assert_errno(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_INTX), EINVAL);
	check(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI, 0, &efd2, 1));
	check(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_MSI, 0, 1, &yes));
	assert_int_equal(efd_take(efd2, TIMEOUT_MS), 1);
	assert_errno(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1, NULL), EINVAL);
	assert_errno(iommufd_device_irq_unmask(e.dev, IOMMUFD_PCI_IRQ_MSI, 0, 1), ENOTTY);
	check(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_MSI));
	/* REQ: its own eventfd beside the type; disabling it twice is refused */
	check(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_REQ, 0, &efd, 1));
	check(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_REQ, 0, 1, NULL));
	assert_int_equal(efd_take(efd, TIMEOUT_MS), 1);
	assert_errno(iommufd_device_irq_mask(e.dev, IOMMUFD_PCI_IRQ_REQ, 0, 1), ENOTTY);
	check(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_REQ));
	assert_errno(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_REQ), EINVAL);
	/* BOOL loopback on an unset REQ: accepted, nothing signalled */
	check(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_REQ, 0, 1, &yes));
	assert_int_equal(efd_take(efd, 50), 0);
	close(efd);
	close(efd2);
	env_teardown(&e);
}

/* NVMe (PCIe): the ERR index */
static void test_irq_err_nvme(void **state)
{
	struct env e;
	int efd = new_efd();

	(void)state;
	env_setup(&e, NVME_BDF);
	assert_errno(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_ERR), EINVAL);
	check(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_ERR, 0, &efd, 1));
	check(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_ERR, 0, 1, NULL));
	assert_int_equal(efd_take(efd, TIMEOUT_MS), 1);
	assert_errno(iommufd_device_irq_unmask(e.dev, IOMMUFD_PCI_IRQ_ERR, 0, 1), ENOTTY);
	/* ERR stays set while another type comes and goes */
	check(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_REQ, 0, &efd, 1));
	check(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_REQ));
	check(iommufd_device_irq_trigger(e.dev, IOMMUFD_PCI_IRQ_ERR, 0, 1, NULL));
	assert_int_equal(efd_take(efd, TIMEOUT_MS), 1);
	check(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_ERR));
	close(efd);
	env_teardown(&e);
}

/*
 * DATA_EVENTFD takes eventfds only: eventfd_ctx_fdget() refuses a file of
 * another kind with EINVAL and a closed number with EBADF
 * (drivers/vfio/pci/vfio_pci_intrs.c, fs/eventfd.c), for every index; the
 * refused call enables nothing, a real eventfd then works.
 */
static void bad_eventfds(const char *bdf, const uint32_t *indexes, size_t n)
{
	struct env e;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), p[2], closed, efd = new_efd();

	assert_true(null >= 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	env_setup(&e, bdf);
	closed = dup(null); /* a number that no file has */
	assert_true(closed >= 0);
	close(closed);
	for (size_t i = 0; i < n; i++) {
		assert_errno(iommufd_device_set_irqs(e.dev, indexes[i], 0, &null, 1), EINVAL);
		assert_errno(iommufd_device_set_irqs(e.dev, indexes[i], 0, &p[0], 1), EINVAL);
		assert_errno(iommufd_device_set_irqs(e.dev, indexes[i], 0, &closed, 1), EBADF);
		check(iommufd_device_set_irqs(e.dev, indexes[i], 0, &efd, 1));
		check(iommufd_device_irq_trigger(e.dev, indexes[i], 0, 1, NULL));
		assert_int_equal(efd_take(efd, TIMEOUT_MS), 1);
		check(iommufd_device_disable_irqs(e.dev, indexes[i]));
	}
	env_teardown(&e);
	close(efd);
	close(p[0]);
	close(p[1]);
	close(null);
}

static void test_irq_not_eventfd_edu(void **state)
{
	static const uint32_t edu[] = { IOMMUFD_PCI_IRQ_INTX, IOMMUFD_PCI_IRQ_MSI, IOMMUFD_PCI_IRQ_REQ };

	(void)state;
	bad_eventfds(EDU_BDF, edu, sizeof(edu) / sizeof(edu[0]));
}

static void test_irq_not_eventfd_nvme(void **state)
{
	static const uint32_t nvme[] = { IOMMUFD_PCI_IRQ_MSIX, IOMMUFD_PCI_IRQ_ERR };

	(void)state;
	bad_eventfds(NVME_BDF, nvme, sizeof(nvme) / sizeof(nvme[0]));
}

/*
 * INTx is automasked: after the first interrupt the line stays masked, a
 * second interrupt is held until the driver unmasks.
 */
static void test_intx_automask(void **state)
{
	uint32_t v = 0, one = 1;
	struct env e;
	int efd = new_efd();

	(void)state;
	env_setup(&e, EDU_BDF);
	check(iommufd_device_set_irqs(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, &efd, 1));
	/* edu: 0x60 raises irq status bits, 0x64 acknowledges them */
	assert_int_equal(iommufd_device_region_write(e.dev, 0, 0x60, &one, 4), 4);
	assert_int_equal(efd_take(efd, TIMEOUT_MS), 1);
	assert_int_equal(iommufd_device_region_write(e.dev, 0, 0x64, &one, 4), 4);
	assert_int_equal(iommufd_device_region_write(e.dev, 0, 0x60, &one, 4), 4);
	assert_int_equal(efd_take(efd, 100), 0); /* masked since the first */
	check(iommufd_device_irq_unmask(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1));
	assert_int_equal(efd_take(efd, TIMEOUT_MS), 1);
	assert_int_equal(iommufd_device_region_read(e.dev, 0, 0x24, &v, 4), 4);
	assert_true(v & 1);
	assert_int_equal(iommufd_device_region_write(e.dev, 0, 0x64, &one, 4), 4);
	check(iommufd_device_irq_unmask(e.dev, IOMMUFD_PCI_IRQ_INTX, 0, 1));
	check(iommufd_device_disable_irqs(e.dev, IOMMUFD_PCI_IRQ_INTX));
	close(efd);
	env_teardown(&e);
}

/*
 * The capability chain of VFIO_DEVICE_GET_REGION_INFO (raw): NVMe's BAR0
 * holds the MSI-X table, so vfio-pci flags it mappable; a first call of the
 * bare struct is told the argsz the chain needs.
 */
static void test_region_caps_raw(void **state)
{
	struct {
		struct vfio_region_info ri;
		unsigned char caps[256];
	} buf;
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct vfio_info_cap_header hdr;
	bool msix = false;
	uint32_t at;
	struct env e;

	(void)state;
	env_setup(&e, NVME_BDF);
	assert_int_equal(iommufd_device_ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	assert_true(ri.flags & VFIO_REGION_INFO_FLAG_CAPS);
	assert_true(ri.argsz > sizeof(ri));
	assert_true(ri.argsz <= sizeof(buf));
	assert_int_equal(ri.cap_offset, 0);
	memset(&buf, 0, sizeof(buf));
	buf.ri.argsz = ri.argsz;
	buf.ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	assert_int_equal(iommufd_device_ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &buf), 0);
	assert_true(buf.ri.cap_offset >= sizeof(buf.ri));
	for (at = buf.ri.cap_offset; at; at = hdr.next) {
		assert_true(at + sizeof(hdr) <= buf.ri.argsz);
		memcpy(&hdr, (unsigned char *)&buf + at, sizeof(hdr));
		if (hdr.id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE)
			msix = true;
	}
	assert_true(msix);
	env_teardown(&e);
}

/* the same through the library's decoder */
static void test_region_caps(void **state)
{
	struct iommufd_region_caps caps = { .sz = sizeof(caps) };
	struct env e;

	(void)state;
	env_setup(&e, NVME_BDF);
	check(iommufd_device_get_region_caps(e.dev, IOMMUFD_PCI_BAR0_REGION, &caps));
	assert_true(caps.caps & IOMMUFD_REGION_CAP_MSIX_MAPPABLE);
	assert_int_equal(caps.caps & IOMMUFD_REGION_CAP_SPARSE_MMAP, 0);
	assert_int_equal(caps.nr_areas, 0);
	check(iommufd_device_get_region_caps(e.dev, IOMMUFD_PCI_CONFIG_REGION, &caps));
	assert_int_equal(caps.caps, 0);
	assert_errno(iommufd_device_get_region_caps(e.dev, 8, &caps), EINVAL); /* no VGA */
	env_teardown(&e);
}

/* edu has no MSI-X: no chain */
static void test_region_caps_raw_edu(void **state)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct env e;

	(void)state;
	env_setup(&e, EDU_BDF);
	assert_int_equal(iommufd_device_ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	assert_int_equal(ri.flags & VFIO_REGION_INFO_FLAG_CAPS, 0);
	assert_int_equal(ri.argsz, sizeof(ri));
	env_teardown(&e);
}

/* the MSI-X table's offset in its BAR, from the capability in config space */
static uint32_t msix_table(struct env *e, uint32_t *bir)
{
	uint32_t at = 0, v = 0;

	check(iommufd_device_config_read(e->dev, 0x34, 1, &at));
	for (int hops = 0; at && hops < 48; hops++) {
		check(iommufd_device_config_read(e->dev, at, 2, &v));
		if ((v & 0xff) == 0x11) { /* PCI_CAP_ID_MSIX */
			check(iommufd_device_config_read(e->dev, at + 4, 4, &v));
			*bir = v & 7;
			return v & ~7u;
		}
		at = (v >> 8) & 0xfc;
	}
	fail_msg("no MSI-X capability");
	return 0;
}

/*
 * vfio-pci (drivers/vfio/pci/vfio_pci_core.c vfio_pci_ioctl_get_region_info,
 * vfio_pci_core_mmap) marks NVMe's BAR0, which holds the MSI-X table, MSI-X
 * mappable and lists no sparse areas: the table's page maps like the rest and
 * reads what pread reads; only the end of the BAR bounds a mapping.
 */
static void test_region_mmap_msix_nvme(void **state)
{
	struct iommufd_region_info ri = { .sz = sizeof(ri) };
	struct iommufd_region_area area[4];
	struct iommufd_region_caps caps = { .sz = sizeof(caps), .areas = area, .max_areas = 4 };
	uint32_t bir = 99, tbl, ctl = 0, page = (uint32_t)sysconf(_SC_PAGESIZE);
	struct env e;
	void *p;

	(void)state;
	env_setup(&e, NVME_BDF);
	check(iommufd_device_get_region_info(e.dev, IOMMUFD_PCI_BAR0_REGION, &ri));
	assert_int_equal(ri.flags, IOMMUFD_REGION_READ | IOMMUFD_REGION_WRITE | IOMMUFD_REGION_MMAP |
					   IOMMUFD_REGION_CAPS);
	check(iommufd_device_get_region_caps(e.dev, IOMMUFD_PCI_BAR0_REGION, &caps));
	assert_int_equal(caps.caps, IOMMUFD_REGION_CAP_MSIX_MAPPABLE);
	assert_int_equal(caps.nr_areas, 0);
	tbl = msix_table(&e, &bir);
	assert_int_equal(bir, 0);
	assert_true(tbl + 16 <= ri.size);
	/*
	 * The table's page maps, and shows vector 0 masked; read and write of
	 * the table are not the user's (vfio_pci_bar_rw): reads give 0xff,
	 * writes are dropped.
	 */
	check(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, tbl & ~(page - 1), page,
					 PROT_READ, &p));
	assert_int_equal(*(volatile uint32_t *)((char *)p + (tbl & (page - 1)) + 12) & 1, 1);
	assert_int_equal(iommufd_device_region_read(e.dev, IOMMUFD_PCI_BAR0_REGION, tbl + 12, &ctl, 4), 4);
	assert_int_equal(ctl, 0xffffffff);
	ctl = 0;
	assert_int_equal(iommufd_device_region_write(e.dev, IOMMUFD_PCI_BAR0_REGION, tbl + 12, &ctl, 4), 4);
	assert_int_equal(*(volatile uint32_t *)((char *)p + (tbl & (page - 1)) + 12) & 1, 1);
	check(iommufd_device_region_munmap(e.dev, p, page));
	/* the whole BAR, and a range from below the table across it */
	check(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, ri.size, PROT_READ, &p));
	check(iommufd_device_region_munmap(e.dev, p, ri.size));
	if (tbl >= page) {
		check(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, tbl + page,
						 PROT_READ, &p));
		check(iommufd_device_region_munmap(e.dev, p, tbl + page));
	}
	/* across the BAR's end */
	assert_errno(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, ri.size - page,
						2 * page, PROT_READ, &p), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "past the end"));
	env_teardown(&e);
}

/* edu's BAR0 (no MSI-X): no capabilities, mapped up to its end */
static void test_region_mmap_edu(void **state)
{
	struct iommufd_region_info ri = { .sz = sizeof(ri) };
	struct iommufd_region_caps caps = { .sz = sizeof(caps) };
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	struct env e;
	void *p;

	(void)state;
	env_setup(&e, EDU_BDF);
	check(iommufd_device_get_region_info(e.dev, IOMMUFD_PCI_BAR0_REGION, &ri));
	assert_int_equal(ri.flags, IOMMUFD_REGION_READ | IOMMUFD_REGION_WRITE | IOMMUFD_REGION_MMAP);
	check(iommufd_device_get_region_caps(e.dev, IOMMUFD_PCI_BAR0_REGION, &caps));
	assert_int_equal(caps.caps, 0);
	assert_int_equal(caps.nr_areas, 0);
	check(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, ri.size, PROT_READ, &p));
	assert_int_equal(*(volatile uint32_t *)p, 0x010000edu); /* the identification register */
	check(iommufd_device_region_munmap(e.dev, p, ri.size));
	check(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, ri.size - page, page,
					 PROT_READ, &p));
	check(iommufd_device_region_munmap(e.dev, p, page));
	assert_errno(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, ri.size - page,
						page + 1, PROT_READ, &p), EINVAL);
	env_teardown(&e);
}

/*
 * The emulator only (vfio-pci has MSI-X mappable): an NVMe whose MSI-X table
 * is not mappable lists sparse mmap areas around the table's pages;
 * region_mmap maps inside one and refuses the rest with the areas named,
 * before the kernel does.
 */
static void test_region_mmap_sparse(void **state)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o, .kind = IOMMUFD_EMU_DEVICE_NVME,
		     .bdf = "0000:00:05.0", .flags = IOMMUFD_EMU_DEVICE_MSIX_SPARSE);
	struct vfio_region_info vri = { .argsz = sizeof(vri), .index = VFIO_PCI_BAR0_REGION_INDEX };
	struct iommufd_region_info ri = { .sz = sizeof(ri) };
	struct iommufd_region_area area[4];
	struct iommufd_region_caps caps = { .sz = sizeof(caps), .areas = area, .max_areas = 4 };
	uint32_t bir = 99, tbl, page = (uint32_t)sysconf(_SC_PAGESIZE);
	struct env e;
	void *p;

	(void)state;
	if (test_real_kernel())
		skip();
	test_backend_get();
	check(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0));
	e.ctx = test_ctx_new();
	e.dev = dev_open(test_scope(), "0000:00:05.0");
	check(iommufd_device_bind(e.dev, e.ctx, NULL, NULL));
	check(iommufd_device_get_region_info(e.dev, IOMMUFD_PCI_BAR0_REGION, &ri));
	tbl = msix_table(&e, &bir);
	assert_int_equal(bir, 0);
	check(iommufd_device_get_region_caps(e.dev, IOMMUFD_PCI_BAR0_REGION, &caps));
	assert_int_equal(caps.caps, IOMMUFD_REGION_CAP_SPARSE_MMAP);
	assert_int_equal(caps.nr_areas, 2); /* the pages before the table, and after it */
	assert_int_equal(area[0].offset, 0);
	assert_int_equal(area[0].size, tbl & ~(page - 1));
	assert_true(area[1].offset > tbl);
	assert_int_equal(area[1].offset + area[1].size, ri.size);
	/* inside an area */
	check(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, area[0].size, PROT_READ, &p));
	check(iommufd_device_region_munmap(e.dev, p, area[0].size));
	check(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, area[1].offset, area[1].size,
					 PROT_READ, &p));
	check(iommufd_device_region_munmap(e.dev, p, area[1].size));
	/* across the first area's end, into the table */
	assert_errno(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, area[0].size + page,
						PROT_READ, &p), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "sparse mmap areas"));
	assert_non_null(strstr(iommufd_last_error(), "[0, +"));
	/* the table's page; the whole BAR */
	assert_errno(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, tbl & ~(page - 1), page,
						PROT_READ, &p), EINVAL);
	assert_errno(iommufd_device_region_mmap(e.dev, IOMMUFD_PCI_BAR0_REGION, 0, ri.size, PROT_READ,
						&p), EINVAL);
	/* the raw chain says the same */
	assert_int_equal(iommufd_device_ioctl(e.dev, VFIO_DEVICE_GET_REGION_INFO, &vri), 0);
	assert_true(vri.flags & VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(vri.argsz, sizeof(vri) + sizeof(struct vfio_region_info_cap_sparse_mmap) +
					    2 * sizeof(struct vfio_region_sparse_mmap_area));
	env_teardown(&e);
}

static int backend_reset(void **state)
{
	(void)state;
	test_backend_put();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ioctl, backend_reset),
		cmocka_unit_test_teardown(test_hot_reset, backend_reset),
		cmocka_unit_test_teardown(test_irq_rules_edu, backend_reset),
		cmocka_unit_test_teardown(test_irq_err_nvme, backend_reset),
		cmocka_unit_test_teardown(test_intx_automask, backend_reset),
		cmocka_unit_test_teardown(test_irq_not_eventfd_edu, backend_reset),
		cmocka_unit_test_teardown(test_irq_not_eventfd_nvme, backend_reset),
		cmocka_unit_test_teardown(test_region_caps_raw, backend_reset),
		cmocka_unit_test_teardown(test_region_caps_raw_edu, backend_reset),
		cmocka_unit_test_teardown(test_region_caps, backend_reset),
		cmocka_unit_test_teardown(test_region_mmap_msix_nvme, backend_reset),
		cmocka_unit_test_teardown(test_region_mmap_edu, backend_reset),
		cmocka_unit_test_teardown(test_region_mmap_sparse, backend_reset),
	};

	return cmocka_run_group_tests_name("device-control", tests, NULL, NULL);
}
