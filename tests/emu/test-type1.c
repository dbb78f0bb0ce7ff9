// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The VFIO type1 container (/dev/vfio/vfio of a kernel with
 * CONFIG_VFIO_CONTAINER and CONFIG_VFIO_IOMMU_TYPE1, the VM's) in raw
 * ioctls: each command's validation order and errno, GET_INFO's capability
 * bytes, MAP/UNMAP under the v1 and v2 rules, UNMAP_ALL, dirty pages, several
 * groups in one container, the refusals of the group file, the last group
 * leaving, and an edu DMA through a container mapping. Written once: it runs
 * on the emulator and, with IOMMUFD_TEST_REAL=1, on the VM's kernel (edu and
 * NVMe on vfio-pci, their groups read from sysfs), and run-vm --compare
 * lists every disagreement. Last, the emulator's configuration knob
 * (iommufd_emu_set_config()), emulator only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../device/device-common.h"
#include "shared/abi.h"
#include "shared/backend.h" /* raw ioctls on the emulator's fds */

#define PAGE 4096ull
#define IOVA 0x100000ull
#define REGION(i) ((off_t)(i) << 40) /* vfio-pci: region index in the offset's top bits */
#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000
#define XFER 2048
#define VFIO_UPDATE_VADDR 10

/* ------------------------------------------------------------ raw calls on either backend */

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	if (!test_real_kernel())
		return be_ioctl(test_backend_get(), fd, req, arg);
	r = ioctl(fd, req, arg);
	return r < 0 ? -errno : r;
}

static int xioctl_v(int fd, unsigned long req, unsigned long v)
{
	return xioctl(fd, req, (void *)(uintptr_t)v);
}

static ssize_t xpread(int fd, void *buf, size_t len, off_t off)
{
	ssize_t r;

	if (!test_real_kernel())
		return be_pread(test_backend_get(), fd, buf, len, off);
	r = pread(fd, buf, len, off);
	return r < 0 ? -errno : r;
}

static ssize_t xpwrite(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t r;

	if (!test_real_kernel())
		return be_pwrite(test_backend_get(), fd, buf, len, off);
	r = pwrite(fd, buf, len, off);
	return r < 0 ? -errno : r;
}

/* the fds a test opened and has not closed: its teardown closes them, so a
 * failed test leaves no group open for the next one */
static int open_fds[64];
static unsigned int nopen;

static int track(int fd)
{
	if (fd >= 0 && nopen < sizeof(open_fds) / sizeof(open_fds[0]))
		open_fds[nopen++] = fd;
	return fd;
}

static void xclose(int fd)
{
	for (unsigned int i = 0; i < nopen; i++) {
		if (open_fds[i] == fd) {
			open_fds[i] = open_fds[--nopen];
			break;
		}
	}
	test_fd_close(fd);
}

static int xopen(const char *path)
{
	return track(test_open_node(path, O_RDWR));
}

/* after each test: what it left open, its backend */
static int teardown(void **state)
{
	(void)state;
	while (nopen)
		xclose(open_fds[nopen - 1]);
	test_backend_put();
	return 0;
}

/* the IOMMU group of bdf, from sysfs */
static int group_of(const char *bdf)
{
	char rel[128], link[256];
	ssize_t n;
	const char *slash;

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", bdf);
	if (test_real_kernel()) {
		char path[160];

		snprintf(path, sizeof(path), "/sys/%s", rel);
		n = readlink(path, link, sizeof(link) - 1);
	} else {
		n = be_sysfs_readlink(test_backend_get(), rel, link, sizeof(link) - 1);
	}
	assert_true(n > 0);
	link[n] = 0;
	slash = strrchr(link, '/');
	assert_non_null(slash);
	return atoi(slash + 1);
}

static int open_group(const char *bdf)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group_of(bdf));
	fd = xopen(path);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(-fd));
	return fd;
}

static int set_container(int gfd, int cfd)
{
	int32_t fd = cfd;

	return xioctl(gfd, KABI_VFIO_GROUP_SET_CONTAINER, &fd);
}

static int get_device_fd(int gfd, const char *bdf)
{
	return track(xioctl(gfd, KABI_VFIO_GROUP_GET_DEVICE_FD, (void *)bdf));
}

static int map(int cfd, uint64_t vaddr, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct kabi_vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags, .vaddr = vaddr, .iova = iova, .size = size,
	};

	return xioctl(cfd, KABI_VFIO_IOMMU_MAP_DMA, &m);
}

/* unmap: the ioctl's result, and *done the size the kernel wrote back (unchanged on error) */
static int unmap(int cfd, uint64_t iova, uint64_t size, uint32_t flags, uint64_t *done)
{
	struct kabi_vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = size,
	};
	int r = xioctl(cfd, KABI_VFIO_IOMMU_UNMAP_DMA, &u);

	if (done)
		*done = u.size;
	return r;
}

/* the environment of one test: edu's group in a new container, the type set */
struct t1 {
	int cfd, gfd;
	uint8_t *mem;   /* 16 pages of anonymous memory */
};

static void t1_setup(struct t1 *t, unsigned long type)
{
	dev_scope();
	t->cfd = xopen("/dev/vfio/vfio");
	assert_true(t->cfd >= 0);
	t->gfd = open_group(EDU_BDF);
	assert_ok(set_container(t->gfd, t->cfd));
	if (type)
		assert_ok(xioctl_v(t->cfd, KABI_VFIO_SET_IOMMU, type));
	t->mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(t->mem != MAP_FAILED);
	memset(t->mem, 0, 16 * PAGE);
}

static void t1_teardown(struct t1 *t)
{
	if (t->gfd >= 0)
		xclose(t->gfd);
	if (t->cfd >= 0)
		xclose(t->cfd);
	munmap(t->mem, 16 * PAGE);
}

/* ------------------------------------------------------------ the container file */

static void container_unset(void **state)
{
	struct kabi_vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	int cfd;

	(void)state;
	dev_scope();
	cfd = xopen("/dev/vfio/vfio");
	assert_true(cfd >= 0);
	assert_int_equal(xioctl(cfd, KABI_VFIO_GET_API_VERSION, NULL), KABI_VFIO_API_VERSION);
	/* no driver yet: every registered driver is asked, with no container */
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1_IOMMU), 1);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1v2_IOMMU), 1);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_UNMAP_ALL), 1);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 0);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_DMA_CC_IOMMU), 0);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_NOIOMMU_IOMMU), 0);
	assert_int_equal(xioctl_v(cfd, KABI_VFIO_CHECK_EXTENSION, 2 /* SPAPR_TCE */), 0);
	/* SET_IOMMU needs a group first */
	assert_errno(xioctl_v(cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU), EINVAL);
	/* the driver's ioctls without a driver: EINVAL, even unknown ones */
	assert_errno(xioctl(cfd, KABI_VFIO_IOMMU_GET_INFO, &info), EINVAL);
	assert_errno(map(cfd, (uintptr_t)&info, IOVA, PAGE, 3), EINVAL);
	assert_errno(xioctl(cfd, KABI_VFIO_IO(60), NULL), EINVAL);
	xclose(cfd);
}

static void set_iommu(void **state)
{
	struct t1 t;
	struct kabi_vfio_group_status st = { .argsz = sizeof(st) };
	int32_t bad = -1;
	int c2, dfd, p[2], g2;

	(void)state;
	t1_setup(&t, 0);
	assert_ok(xioctl(t.gfd, KABI_VFIO_GROUP_GET_STATUS, &st));
	assert_int_equal(st.flags, KABI_VFIO_GROUP_FLAGS_VIABLE | KABI_VFIO_GROUP_FLAGS_CONTAINER_SET);
	/* a group is in one container: a second SET_CONTAINER is refused */
	c2 = xopen("/dev/vfio/vfio");
	assert_true(c2 >= 0);
	assert_errno(set_container(t.gfd, c2), EINVAL);
	assert_errno(set_container(t.gfd, t.cfd), EINVAL);
	assert_errno(xioctl(t.gfd, KABI_VFIO_GROUP_SET_CONTAINER, &bad), EBADF);
	/* an fd that is neither a container nor an iommufd */
	assert_int_equal(pipe(p), 0);
	assert_errno(set_container(t.gfd, p[0]), EINVAL); /* the group has its container first */
	/* the device: an unknown name first, then no IOMMU driver yet */
	assert_errno(get_device_fd(t.gfd, "0000:00:1f.7"), ENODEV);
	assert_errno(get_device_fd(t.gfd, EDU_BDF), EINVAL);
	/* the types: probed by CHECK_EXTENSION, then opened */
	assert_errno(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, 77), ENODEV);
	assert_errno(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_DMA_CC_IOMMU), ENODEV);
	assert_errno(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_UNMAP_ALL), EINVAL);
	assert_ok(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU));
	assert_errno(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU), EINVAL);
	assert_errno(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1_IOMMU), EINVAL);
	/* the driver answers now */
	assert_int_equal(xioctl_v(t.cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1_IOMMU), 1);
	assert_int_equal(xioctl_v(t.cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1v2_IOMMU), 1);
	assert_int_equal(xioctl_v(t.cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_UNMAP_ALL), 1);
	assert_int_equal(xioctl_v(t.cfd, KABI_VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 1);
	assert_int_equal(xioctl_v(t.cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_DMA_CC_IOMMU), 0);
	assert_int_equal(xioctl_v(t.cfd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_NOIOMMU_IOMMU), 0);
	assert_int_equal(xioctl_v(t.cfd, KABI_VFIO_CHECK_EXTENSION, 6 /* reserved NESTING */), 0);
	assert_errno(xioctl(t.cfd, KABI_VFIO_IO(60), NULL), ENOTTY);
	/* and the device can be had, more than once through the group */
	dfd = get_device_fd(t.gfd, EDU_BDF);
	assert_true(dfd >= 0);
	assert_true(get_device_fd(t.gfd, EDU_BDF) >= 0);
	/* with a device open the group cannot leave */
	assert_errno(xioctl(t.gfd, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL), EBUSY);
	/* another group: an fd that is neither a container nor an iommufd */
	g2 = open_group(NVME_BDF);
	assert_errno(set_container(g2, p[0]), EBADFD);
	assert_errno(xioctl(g2, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL), EINVAL);
	assert_errno(get_device_fd(g2, NVME_BDF), EINVAL);
	assert_ok(xioctl(g2, KABI_VFIO_GROUP_GET_STATUS, &st));
	assert_int_equal(st.flags, KABI_VFIO_GROUP_FLAGS_VIABLE);
	close(p[0]);
	close(p[1]);
	xclose(g2);
	xclose(c2);
	t1_teardown(&t);
}

/* ------------------------------------------------------------ GET_INFO */

static void get_info(void **state)
{
	struct t1 t;
	uint8_t buf[256];
	struct kabi_vfio_iommu_type1_info *info = (void *)buf;
	struct kabi_vfio_info_cap_header h;
	uint64_t u64;
	uint32_t u32, need;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	memset(buf, 0xa5, sizeof(buf));
	info->argsz = 15;
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_GET_INFO, info), EINVAL);
	/* argsz 16: no room for cap_offset, the size needed comes back */
	info->argsz = 16;
	assert_ok(xioctl(t.cfd, KABI_VFIO_IOMMU_GET_INFO, info));
	need = info->argsz;
	print_message("# argsz needed %u, flags %#x, iova_pgsizes %#" PRIx64 "\n", need, info->flags,
		      info->iova_pgsizes);
	assert_int_equal(info->flags, KABI_VFIO_IOMMU_INFO_PGSIZES | KABI_VFIO_IOMMU_INFO_CAPS);
	assert_int_equal(info->iova_pgsizes, 0x40201000ull);
	assert_int_equal(info->cap_offset, 0xa5a5a5a5u); /* not written */
	/* room for the struct, not the caps: cap_offset 0 */
	info->argsz = sizeof(*info);
	assert_ok(xioctl(t.cfd, KABI_VFIO_IOMMU_GET_INFO, info));
	assert_int_equal(info->argsz, need);
	assert_int_equal(info->cap_offset, 0);
	assert_int_equal(need, 24 + 32 + 16 + 16 + 2 * 16);
	/* everything */
	memset(buf, 0xa5, sizeof(buf));
	info->argsz = need;
	assert_ok(xioctl(t.cfd, KABI_VFIO_IOMMU_GET_INFO, info));
	assert_int_equal(info->argsz, need);
	assert_int_equal(info->cap_offset, 24);
	/* MIGRATION at 24 */
	memcpy(&h, buf + 24, sizeof(h));
	assert_int_equal(h.id, KABI_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.next, 56);
	memcpy(&u32, buf + 32, 4);
	assert_int_equal(u32, 0);
	memcpy(&u64, buf + 40, 8);
	assert_int_equal(u64, PAGE);
	memcpy(&u64, buf + 48, 8);
	assert_int_equal(u64, 0x10000000ull);
	/* DMA_AVAIL at 56, padded to 16 */
	memcpy(&h, buf + 56, sizeof(h));
	assert_int_equal(h.id, KABI_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.next, 72);
	memcpy(&u32, buf + 64, 4);
	assert_int_equal(u32, 65535);
	memcpy(&u32, buf + 68, 4);
	assert_int_equal(u32, 0);
	/* IOVA_RANGE at 72: the aperture without the MSI window */
	memcpy(&h, buf + 72, sizeof(h));
	assert_int_equal(h.id, KABI_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.next, 0);
	memcpy(&u32, buf + 80, 4);
	assert_int_equal(u32, 2);
	for (int i = 0; i < 4; i++) {
		static const uint64_t want[4] = { 0, 0xfedfffffull, 0xfef00000ull, (1ull << 39) - 1 };

		memcpy(&u64, buf + 88 + 8 * i, 8);
		print_message("# iova range word %d: %#" PRIx64 "\n", i, u64);
		assert_int_equal(u64, want[i]);
	}
	assert_int_equal(buf[need], 0xa5); /* nothing past argsz */
	/* a mapping uses an entry */
	assert_ok(map(t.cfd, (uintptr_t)t.mem, IOVA, PAGE, 3));
	assert_ok(xioctl(t.cfd, KABI_VFIO_IOMMU_GET_INFO, info));
	memcpy(&u32, buf + 64, 4);
	assert_int_equal(u32, 65534);
	t1_teardown(&t);
}

/* ------------------------------------------------------------ MAP_DMA */

static void map_rules(void **state)
{
	struct kabi_vfio_iommu_type1_dma_map m = { .argsz = sizeof(m) - 1, .flags = 3 };
	struct t1 t;
	uint64_t va;
	void *hole, *ro;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	va = (uintptr_t)t.mem;
	m.vaddr = va;
	m.iova = IOVA;
	m.size = PAGE;
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_MAP_DMA, &m), EINVAL);
	assert_errno(map(t.cfd, va, IOVA, PAGE, 8), EINVAL);
	assert_errno(map(t.cfd, va, IOVA, 0, 3), EINVAL);
	/* overflow before the missing protection, and that before alignment */
	assert_errno(map(t.cfd, va, UINT64_MAX - PAGE + 2, PAGE, 3), EOVERFLOW);
	assert_errno(map(t.cfd, UINT64_MAX - 10, IOVA, PAGE, 3), EOVERFLOW);
	assert_errno(map(t.cfd, va + 1, IOVA + 1, PAGE, 0), EINVAL);
	assert_errno(map(t.cfd, va, IOVA, PAGE, KABI_VFIO_DMA_MAP_FLAG_VADDR | 1), EINVAL);
	assert_errno(map(t.cfd, va, IOVA + 1, PAGE, 3), EINVAL);
	assert_errno(map(t.cfd, va + 1, IOVA, PAGE, 3), EINVAL);
	assert_errno(map(t.cfd, va, IOVA, PAGE + 1, 3), EINVAL);
	/* outside the valid IOVA list: the MSI window, past the aperture */
	assert_errno(map(t.cfd, va, 0xfee00000ull, PAGE, 3), EINVAL);
	assert_errno(map(t.cfd, va, 0xfedff000ull, 2 * PAGE, 3), EINVAL);
	assert_errno(map(t.cfd, va, 1ull << 39, PAGE, 3), EINVAL);
	assert_errno(map(t.cfd, va, (1ull << 39) - PAGE, 2 * PAGE, 3), EINVAL);
	/* memory that is not there: pinning fails */
	hole = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(hole != MAP_FAILED);
	munmap(hole, PAGE);
	assert_errno(map(t.cfd, (uintptr_t)hole, IOVA, PAGE, 3), EFAULT);
	/* read-only memory: the device may read it, not write it (pinned for write: EFAULT) */
	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ro != MAP_FAILED);
	assert_errno(map(t.cfd, (uintptr_t)ro, IOVA, PAGE, 3), EFAULT);
	assert_errno(map(t.cfd, (uintptr_t)ro, IOVA, PAGE, KABI_VFIO_DMA_MAP_FLAG_WRITE), EFAULT);
	assert_ok(map(t.cfd, (uintptr_t)ro, IOVA + 12 * PAGE, PAGE, KABI_VFIO_DMA_MAP_FLAG_READ));
	/* good ones: read-only and write-only included */
	assert_ok(map(t.cfd, va, IOVA, 4 * PAGE, 3));
	assert_ok(map(t.cfd, va, IOVA + 4 * PAGE, PAGE, KABI_VFIO_DMA_MAP_FLAG_READ));
	assert_ok(map(t.cfd, va, IOVA + 5 * PAGE, PAGE, KABI_VFIO_DMA_MAP_FLAG_WRITE));
	assert_ok(map(t.cfd, va, 0xfef00000ull, PAGE, 3));
	/* any overlap */
	assert_errno(map(t.cfd, va, IOVA, PAGE, 3), EEXIST);
	assert_errno(map(t.cfd, va, IOVA + 3 * PAGE, 2 * PAGE, 3), EEXIST);
	assert_errno(map(t.cfd, va, IOVA - PAGE, 2 * PAGE, 3), EEXIST);
	/* VADDR: only for a mapping whose vaddr was invalidated, exactly */
	assert_errno(map(t.cfd, va, IOVA + 8 * PAGE, PAGE, KABI_VFIO_DMA_MAP_FLAG_VADDR), ENOENT);
	assert_errno(map(t.cfd, va, IOVA, 4 * PAGE, KABI_VFIO_DMA_MAP_FLAG_VADDR), EINVAL);
	assert_ok(unmap(t.cfd, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	munmap(ro, PAGE);
	t1_teardown(&t);
}

/* dma_entry_limit: 65535 mappings per container */
static void dma_entry_limit(void **state)
{
	struct t1 t;
	uint64_t done;
	unsigned int i;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	for (i = 0; i < 65535; i++) {
		int r = map(t.cfd, (uintptr_t)t.mem, IOVA + i * PAGE, PAGE, 3);

		if (r)
			fail_msg("mapping %u: %s", i, strerror(-r));
	}
	assert_errno(map(t.cfd, (uintptr_t)t.mem, IOVA + i * PAGE, PAGE, 3), ENOSPC);
	/* the limit comes after the overlap check */
	assert_errno(map(t.cfd, (uintptr_t)t.mem, IOVA, PAGE, 3), EEXIST);
	assert_ok(unmap(t.cfd, IOVA, PAGE, 0, &done));
	assert_ok(map(t.cfd, (uintptr_t)t.mem, IOVA + i * PAGE, PAGE, 3));
	assert_ok(unmap(t.cfd, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, &done));
	assert_int_equal(done, 65535 * PAGE);
	t1_teardown(&t);
}

static void vaddr_update(void **state)
{
	struct t1 t;
	uint64_t va, done = 0;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	va = (uintptr_t)t.mem;
	assert_ok(map(t.cfd, va, IOVA, 2 * PAGE, 3));
	assert_ok(map(t.cfd, va, IOVA + 4 * PAGE, PAGE, 3));
	assert_ok(unmap(t.cfd, IOVA, 2 * PAGE, KABI_VFIO_DMA_UNMAP_FLAG_VADDR, &done));
	assert_int_equal(done, 2 * PAGE);
	/* already invalid: EINVAL, and this call's marks undone */
	assert_errno(unmap(t.cfd, IOVA, 8 * PAGE, KABI_VFIO_DMA_UNMAP_FLAG_VADDR, &done), EINVAL);
	assert_errno(map(t.cfd, va, IOVA + 4 * PAGE, PAGE, KABI_VFIO_DMA_MAP_FLAG_VADDR), EINVAL);
	/* the size must match */
	assert_errno(map(t.cfd, va + PAGE, IOVA, PAGE, KABI_VFIO_DMA_MAP_FLAG_VADDR), EINVAL);
	assert_ok(map(t.cfd, va + 8 * PAGE, IOVA, 2 * PAGE, KABI_VFIO_DMA_MAP_FLAG_VADDR));
	assert_errno(map(t.cfd, va, IOVA, 2 * PAGE, KABI_VFIO_DMA_MAP_FLAG_VADDR), EINVAL);
	assert_ok(unmap(t.cfd, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, &done));
	assert_int_equal(done, 3 * PAGE);
	t1_teardown(&t);
}

/* ------------------------------------------------------------ UNMAP_DMA */

static void unmap_v2(void **state)
{
	struct kabi_vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u) - 1, .iova = IOVA, .size = PAGE };
	struct t1 t;
	uint64_t va, done = 7;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	va = (uintptr_t)t.mem;
	assert_ok(map(t.cfd, va, IOVA, 4 * PAGE, 3));
	assert_ok(map(t.cfd, va, IOVA + 8 * PAGE, PAGE, 3));
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_UNMAP_DMA, &u), EINVAL);
	assert_errno(unmap(t.cfd, IOVA, PAGE, 8, NULL), EINVAL);
	assert_errno(unmap(t.cfd, IOVA + 1, PAGE, 0, NULL), EINVAL);
	assert_errno(unmap(t.cfd, IOVA, 0, 0, NULL), EINVAL);
	assert_errno(unmap(t.cfd, IOVA, PAGE + 1, 0, NULL), EINVAL);
	assert_errno(unmap(t.cfd, IOVA, UINT64_MAX - PAGE + 1, 0, NULL), EOVERFLOW);
	/* GET_DIRTY_BITMAP never with ALL or VADDR; ALL only with iova = size = 0 */
	assert_errno(unmap(t.cfd, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL |
				 KABI_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, NULL), EINVAL);
	assert_errno(unmap(t.cfd, IOVA, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, NULL), EINVAL);
	assert_errno(unmap(t.cfd, 0, PAGE, KABI_VFIO_DMA_UNMAP_FLAG_ALL, NULL), EINVAL);
	/* v2 does not bisect a mapping, at either end */
	assert_errno(unmap(t.cfd, IOVA, PAGE, 0, &done), EINVAL);
	assert_int_equal(done, PAGE); /* not written back on error */
	assert_errno(unmap(t.cfd, IOVA + PAGE, 3 * PAGE, 0, NULL), EINVAL);
	assert_errno(unmap(t.cfd, IOVA - PAGE, 2 * PAGE, 0, NULL), EINVAL);
	/* nothing there: success, size 0 */
	assert_ok(unmap(t.cfd, IOVA + 16 * PAGE, PAGE, 0, &done));
	assert_int_equal(done, 0);
	/* a range covering whole mappings, gaps included */
	assert_ok(unmap(t.cfd, IOVA - PAGE, 10 * PAGE, 0, &done));
	assert_int_equal(done, 5 * PAGE);
	assert_ok(unmap(t.cfd, IOVA, 9 * PAGE, 0, &done));
	assert_int_equal(done, 0);
	/* UNMAP_ALL */
	assert_ok(map(t.cfd, va, IOVA, 4 * PAGE, 3));
	assert_ok(map(t.cfd, va, 0x40000000ull, 2 * PAGE, 3));
	assert_ok(map(t.cfd, va, 0xfef00000ull, PAGE, 3));
	assert_ok(unmap(t.cfd, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, &done));
	assert_int_equal(done, 7 * PAGE);
	assert_ok(unmap(t.cfd, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, &done));
	assert_int_equal(done, 0);
	t1_teardown(&t);
}

static void unmap_v1(void **state)
{
	struct kabi_vfio_iommu_type1_dirty_bitmap db = { .argsz = sizeof(db),
		.flags = KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_START };
	struct t1 t;
	uint64_t va, done;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1_IOMMU);
	va = (uintptr_t)t.mem;
	assert_ok(map(t.cfd, va, IOVA, 4 * PAGE, 3));
	assert_ok(map(t.cfd, va, IOVA + 4 * PAGE, 2 * PAGE, 3));
	/* v1: a range starting inside a mapping unmaps nothing, successfully */
	assert_ok(unmap(t.cfd, IOVA + PAGE, PAGE, 0, &done));
	assert_int_equal(done, 0);
	assert_ok(unmap(t.cfd, IOVA + PAGE, 8 * PAGE, 0, &done));
	assert_int_equal(done, 0);
	/* a range covering a mapping's first page unmaps the whole mapping */
	assert_ok(unmap(t.cfd, IOVA, PAGE, 0, &done));
	assert_int_equal(done, 4 * PAGE);
	assert_ok(unmap(t.cfd, IOVA, 5 * PAGE, 0, &done));
	assert_int_equal(done, 2 * PAGE);
	assert_ok(map(t.cfd, va, IOVA, 4 * PAGE, 3));
	assert_ok(unmap(t.cfd, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, &done));
	assert_int_equal(done, 4 * PAGE);
	/* no dirty tracking on v1 */
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_DIRTY_PAGES, &db), EACCES);
	t1_teardown(&t);
}

/* ------------------------------------------------------------ dirty pages */

struct dirty_get {
	struct kabi_vfio_iommu_type1_dirty_bitmap h;
	struct kabi_vfio_iommu_type1_dirty_bitmap_get g;
};

static int dirty(int cfd, uint32_t flags)
{
	struct kabi_vfio_iommu_type1_dirty_bitmap db = { .argsz = sizeof(db), .flags = flags };

	return xioctl(cfd, KABI_VFIO_IOMMU_DIRTY_PAGES, &db);
}

static int dirty_get(int cfd, uint64_t iova, uint64_t size, uint64_t pgsize, uint64_t *bm,
		     uint64_t bmsize)
{
	struct dirty_get d = {
		.h = { .argsz = sizeof(d), .flags = KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP },
		.g = { .iova = iova, .size = size,
		       .bitmap = { .pgsize = pgsize, .size = bmsize, .data = (uintptr_t)bm } },
	};

	return xioctl(cfd, KABI_VFIO_IOMMU_DIRTY_PAGES, &d);
}

struct unmap_dirty {
	struct kabi_vfio_iommu_type1_dma_unmap u;
	struct kabi_vfio_bitmap b;
};

static void dirty_pages(void **state)
{
	struct dirty_get d = { .h = { .argsz = sizeof(d.h) + 8,
				      .flags = KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP } };
	struct unmap_dirty ud = { .u = { .argsz = sizeof(ud),
					 .flags = KABI_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP } };
	uint64_t bm[4];
	struct t1 t;
	uint64_t va;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	va = (uintptr_t)t.mem;
	assert_ok(map(t.cfd, va, IOVA, 4 * PAGE, 3));
	assert_ok(map(t.cfd, va, IOVA + 8 * PAGE, 2 * PAGE, 3));
	/* one flag at a time, known ones only */
	assert_errno(dirty(t.cfd, 0), EINVAL);
	assert_errno(dirty(t.cfd, 3), EINVAL);
	assert_errno(dirty(t.cfd, 8), EINVAL);
	/* not tracking: GET_BITMAP refused after its own checks */
	assert_errno(dirty_get(t.cfd, IOVA, 10 * PAGE, PAGE, bm, 8), EINVAL);
	assert_ok(dirty(t.cfd, KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	assert_ok(dirty(t.cfd, KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	assert_ok(dirty(t.cfd, KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	/* GET_BITMAP's checks, in order */
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_DIRTY_PAGES, &d), EINVAL);
	assert_errno(dirty_get(t.cfd, IOVA, 0, PAGE, bm, 8), EINVAL);
	assert_errno(dirty_get(t.cfd, IOVA, UINT64_MAX, PAGE, bm, 8), EOVERFLOW);
	assert_errno(dirty_get(t.cfd, IOVA, 10 * PAGE, PAGE, (uint64_t *)(uintptr_t)(1ull << 62), 8),
		     EINVAL);
	assert_errno(dirty_get(t.cfd, IOVA, 10 * PAGE, PAGE, bm, 0), EINVAL);
	assert_errno(dirty_get(t.cfd, IOVA, 100 * PAGE, PAGE, bm, 8), EINVAL); /* bitmap too small */
	assert_errno(dirty_get(t.cfd, IOVA, 10 * PAGE, 2 * PAGE, bm, 8), EINVAL);
	assert_errno(dirty_get(t.cfd, IOVA + 1, 10 * PAGE, PAGE, bm, 8), EINVAL);
	assert_errno(dirty_get(t.cfd, IOVA, 10 * PAGE + 1, PAGE, bm, 8), EINVAL);
	/* whole mappings only */
	assert_errno(dirty_get(t.cfd, IOVA + PAGE, 3 * PAGE, PAGE, bm, 8), EINVAL);
	assert_errno(dirty_get(t.cfd, IOVA, 9 * PAGE, PAGE, bm, 8), EINVAL);
	/*
	 * No device wrote anything: every mapped page is reported dirty, each
	 * time. The second mapping starts at bit 8 of the word: type1 shifts
	 * its bitmap in place, ORs in the user's word (bits 0-3, just written
	 * for the first mapping), and clears only the mapping's own 2 bits
	 * afterwards: the rest comes back, shifted again, at the next read.
	 */
	memset(bm, 0, sizeof(bm));
	assert_ok(dirty_get(t.cfd, IOVA, 10 * PAGE, PAGE, bm, 8));
	assert_int_equal(bm[0], 0x30f);
	memset(bm, 0, sizeof(bm));
	assert_ok(dirty_get(t.cfd, IOVA, 10 * PAGE, PAGE, bm, 8));
	assert_int_equal(bm[0], 0x30f0f);
	/* at the start of a word: its bitmap written as it is, the next word untouched */
	bm[0] = 0x1;
	bm[1] = 0xff00;
	assert_ok(dirty_get(t.cfd, IOVA + 8 * PAGE, 2 * PAGE, PAGE, bm, 16));
	assert_int_equal(bm[0], 0x30f0f);
	assert_int_equal(bm[1], 0xff00);
	memset(bm, 0xff, sizeof(bm));
	assert_ok(dirty_get(t.cfd, IOVA - 64 * PAGE, 74 * PAGE, PAGE, bm, 16));
	assert_int_equal(bm[0], UINT64_MAX); /* nothing mapped there: untouched */
	assert_int_equal(bm[1], 0x30f0f0f);
	/* unmap with the bitmap */
	ud.u.iova = IOVA;
	ud.u.size = 4 * PAGE;
	ud.b.pgsize = PAGE;
	ud.b.size = 8;
	ud.b.data = (uintptr_t)bm;
	ud.u.argsz = sizeof(ud.u);
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_UNMAP_DMA, &ud), EINVAL);
	ud.u.argsz = sizeof(ud);
	ud.b.pgsize = 2 * PAGE;
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_UNMAP_DMA, &ud), EINVAL);
	ud.b.pgsize = PAGE;
	ud.b.size = 0;
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_UNMAP_DMA, &ud), EINVAL);
	ud.b.size = 8;
	memset(bm, 0, sizeof(bm));
	assert_ok(xioctl(t.cfd, KABI_VFIO_IOMMU_UNMAP_DMA, &ud));
	assert_int_equal(ud.u.size, 4 * PAGE);
	assert_int_equal(bm[0], 0xf);
	/* a mapping made while tracking is reported too */
	assert_ok(map(t.cfd, va, IOVA, PAGE, 3));
	memset(bm, 0, sizeof(bm));
	assert_ok(dirty_get(t.cfd, IOVA, 10 * PAGE, PAGE, bm, 8));
	assert_int_equal(bm[0], 0x30f0f0f01);
	assert_ok(dirty(t.cfd, KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP));
	assert_errno(dirty_get(t.cfd, IOVA, 10 * PAGE, PAGE, bm, 8), EINVAL);
	ud.u.iova = IOVA;
	ud.u.size = PAGE;
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_UNMAP_DMA, &ud), EINVAL);
	t1_teardown(&t);
}

/* ------------------------------------------------------------ groups */

static void two_groups(void **state)
{
	struct kabi_vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	struct t1 t;
	int g2, d1, d2;
	uint64_t done;

	(void)state;
	t1_setup(&t, 0);
	assert_int_not_equal(group_of(EDU_BDF), group_of(NVME_BDF));
	g2 = open_group(NVME_BDF);
	assert_ok(set_container(g2, t.cfd));
	assert_ok(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU));
	d1 = get_device_fd(t.gfd, EDU_BDF);
	d2 = get_device_fd(g2, NVME_BDF);
	assert_true(d1 >= 0 && d2 >= 0);
	/* a device of one group is not found through the other */
	assert_errno(get_device_fd(g2, EDU_BDF), ENODEV);
	assert_ok(map(t.cfd, (uintptr_t)t.mem, IOVA, 2 * PAGE, 3));
	/* a group with an open device stays */
	assert_errno(xioctl(t.gfd, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL), EBUSY);
	xclose(d1);
	assert_ok(xioctl(t.gfd, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL));
	assert_errno(xioctl(t.gfd, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL), EINVAL);
	assert_errno(get_device_fd(t.gfd, EDU_BDF), EINVAL);
	/* the other group keeps the driver and the mappings */
	assert_ok(xioctl(t.cfd, KABI_VFIO_IOMMU_GET_INFO, &info));
	assert_errno(map(t.cfd, (uintptr_t)t.mem, IOVA, PAGE, 3), EEXIST);
	/* the group comes back into the driver */
	assert_ok(set_container(t.gfd, t.cfd));
	d1 = get_device_fd(t.gfd, EDU_BDF);
	assert_true(d1 >= 0);
	xclose(d1);
	assert_ok(xioctl(t.gfd, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL));
	/* the last group leaves: the driver and every mapping go */
	xclose(d2);
	assert_ok(xioctl(g2, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL));
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_GET_INFO, &info), EINVAL);
	assert_errno(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU), EINVAL);
	assert_ok(set_container(g2, t.cfd));
	assert_ok(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1_IOMMU));
	assert_ok(unmap(t.cfd, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, &done));
	assert_int_equal(done, 0);
	xclose(g2);
	t1_teardown(&t);
}

static void group_close_busy(void **state)
{
	struct kabi_vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	char path[64];
	struct t1 t;
	int dfd, fd;
	uint64_t done;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	assert_ok(map(t.cfd, (uintptr_t)t.mem, IOVA, PAGE, 3));
	dfd = get_device_fd(t.gfd, EDU_BDF);
	assert_true(dfd >= 0);
	xclose(t.gfd);
	t.gfd = -1;
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_of(EDU_BDF));
	assert_errno(xopen(path), EBUSY);
	/* the container still has its driver and mapping */
	assert_ok(xioctl(t.cfd, KABI_VFIO_IOMMU_GET_INFO, &info));
	assert_errno(map(t.cfd, (uintptr_t)t.mem, IOVA, PAGE, 3), EEXIST);
	/* the device goes, the group file with it: the container is empty */
	xclose(dfd);
	assert_errno(xioctl(t.cfd, KABI_VFIO_IOMMU_GET_INFO, &info), EINVAL);
	fd = xopen(path);
	assert_true(fd >= 0);
	t.gfd = fd;
	assert_ok(set_container(t.gfd, t.cfd));
	assert_ok(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU));
	assert_ok(unmap(t.cfd, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, &done));
	assert_int_equal(done, 0);
	t1_teardown(&t);
}

/* the group path and the cdev exclude each other: a bound cdev keeps the group closed */
static void cdev_exclusion(void **state)
{
	struct kabi_vfio_device_bind_iommufd b = { .argsz = 16 };
	char path[64];
	struct t1 t;
	int cdev, ifd, dfd;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	dfd = get_device_fd(t.gfd, EDU_BDF);
	assert_true(dfd >= 0);
	/* the cdev opens, but cannot be bound while the group is open */
	cdev = xopen("/dev/vfio/devices/vfio0");
	assert_true(cdev >= 0);
	ifd = xopen("/dev/iommu");
	assert_true(ifd >= 0);
	b.iommufd = ifd;
	assert_errno(xioctl(cdev, KABI_VFIO_DEVICE_BIND_IOMMUFD, &b), EBUSY);
	/* the group file goes with its last device: then the cdev binds */
	xclose(dfd);
	xclose(t.gfd);
	t.gfd = -1;
	assert_ok(xioctl(cdev, KABI_VFIO_DEVICE_BIND_IOMMUFD, &b));
	/* and the group cannot be opened while the cdev is bound */
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_of(EDU_BDF));
	assert_errno(xopen(path), EBUSY);
	xclose(cdev);
	t.gfd = xopen(path);
	assert_true(t.gfd >= 0);
	xclose(ifd);
	t1_teardown(&t);
}

/* closing the container file does not take the driver from its groups */
static void container_close(void **state)
{
	struct t1 t;
	int dfd;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	xclose(t.cfd);
	t.cfd = -1;
	dfd = get_device_fd(t.gfd, EDU_BDF);
	assert_true(dfd >= 0);
	xclose(dfd);
	assert_ok(xioctl(t.gfd, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL));
	t1_teardown(&t);
}

/* ------------------------------------------------------------ edu DMA through the container */

static void reg_write(int dfd, uint64_t off, uint64_t v)
{
	assert_int_equal(xpwrite(dfd, &v, 8, REGION(0) + (off_t)off), 8);
}

static uint64_t reg_read(int dfd, uint64_t off)
{
	uint64_t v = 0;

	assert_int_equal(xpread(dfd, &v, 8, REGION(0) + (off_t)off), 8);
	return v;
}

static void edu_dma(int dfd, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	struct timespec t0, now;

	reg_write(dfd, EDU_SRC, src);
	reg_write(dfd, EDU_DST, dst);
	reg_write(dfd, EDU_CNT, cnt);
	reg_write(dfd, EDU_CMD, cmd | EDU_CMD_RUN);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (reg_read(dfd, EDU_CMD) & EDU_CMD_RUN) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 10)
			fail_msg("edu DMA did not complete in 10 s");
		usleep(1000);
	}
}

static void edu_dma_round_trip(void **state)
{
	struct t1 t;
	uint16_t cmd;
	uint64_t done, bm[1] = { 0 }, faults0 = 0, faults1 = 0;
	int dfd;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	dfd = get_device_fd(t.gfd, EDU_BDF);
	assert_true(dfd >= 0);
	assert_int_equal(xpread(dfd, &cmd, 2, REGION(KABI_VFIO_PCI_CONFIG_REGION_INDEX) + 4), 2);
	cmd |= 0x6; /* memory space, bus master */
	assert_int_equal(xpwrite(dfd, &cmd, 2, REGION(KABI_VFIO_PCI_CONFIG_REGION_INDEX) + 4), 2);
	for (int i = 0; i < XFER; i++)
		t.mem[i] = (uint8_t)(i * 7 + 1);
	assert_ok(map(t.cfd, (uintptr_t)t.mem, IOVA, 2 * PAGE, 3));
	assert_ok(dirty(t.cfd, KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_START));
	/* memory -> edu -> memory, through the container's mapping */
	edu_dma(dfd, IOVA, EDU_BUF, XFER, 0);
	edu_dma(dfd, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM);
	assert_memory_equal(t.mem + PAGE, t.mem, XFER);
	/* type1 cannot see the device's writes: every page dirty, as without them */
	assert_ok(dirty_get(t.cfd, IOVA, 2 * PAGE, PAGE, bm, 8));
	assert_int_equal(bm[0], 0x3);
	/* unmapped: the write does not arrive */
	if (!test_real_kernel())
		assert_ok(iommufd_emu_device_get_dma_faults(test_emu(), EDU_BDF, &faults0, NULL));
	assert_ok(unmap(t.cfd, IOVA, 2 * PAGE, 0, &done));
	assert_int_equal(done, 2 * PAGE);
	memset(t.mem + PAGE, 0, XFER);
	edu_dma(dfd, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM);
	for (int i = 0; i < XFER; i++)
		if (t.mem[PAGE + i])
			fail_msg("byte %d arrived after the unmap", i);
	if (!test_real_kernel()) {
		assert_ok(iommufd_emu_device_get_dma_faults(test_emu(), EDU_BDF, &faults1, NULL));
		assert_true(faults1 > faults0);
	}
	xclose(dfd);
	t1_teardown(&t);
}

/*
 * A BAR mmap in a container mapping: vfio-pci maps the BAR VM_IO | VM_PFNMAP,
 * which pin_user_pages() refuses, and type1 then follows the vma's PFNs
 * (vaddr_get_pfns() of drivers/vfio/vfio_iommu_type1.c): the mapping is made,
 * for peer-to-peer DMA, where iommufd's IOAS_MAP fails (test-device-mmio).
 */
static void bar_map(void **state)
{
	struct t1 t;
	uint64_t done;
	void *bar;
	int dfd;

	(void)state;
	t1_setup(&t, KABI_VFIO_TYPE1v2_IOMMU);
	dfd = get_device_fd(t.gfd, EDU_BDF);
	assert_true(dfd >= 0);
	assert_ok(test_fd_mmap(dfd, REGION(0), PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, &bar));
	assert_ok(map(t.cfd, (uintptr_t)bar, IOVA, PAGE, 3));
	assert_ok(unmap(t.cfd, IOVA, PAGE, 0, &done));
	assert_int_equal(done, PAGE);
	assert_ok(test_fd_munmap(bar, PAGE));
	xclose(dfd);
	t1_teardown(&t);
}

/* NVMe: an admin Identify Controller through a container mapping, then into an unmapped page */
static uint32_t r32(int dfd, uint32_t off)
{
	uint32_t v = 0;

	assert_int_equal(xpread(dfd, &v, 4, REGION(0) + off), 4);
	return v;
}

static void w32(int dfd, uint32_t off, uint32_t v)
{
	assert_int_equal(xpwrite(dfd, &v, 4, REGION(0) + off), 4);
}

static void nvme_wait_ready(int dfd, uint32_t ready)
{
	for (int i = 0; i < 10000; i++) {
		uint32_t csts = r32(dfd, 0x1c);

		assert_int_equal(csts & 0x2, 0); /* no fatal status */
		if ((csts & 1) == ready)
			return;
		usleep(1000);
	}
	fail_msg("CSTS.RDY not %u after 10 s", ready);
}

/* submit Identify Controller in SQ slot, PRP1 prp; the completion's status */
static uint32_t nvme_identify(int dfd, uint8_t *sq, uint8_t *cq, unsigned int slot, uint64_t prp)
{
	volatile uint32_t *dw3 = (volatile uint32_t *)(cq + 16 * slot + 12);
	uint8_t *sqe = sq + 64 * slot;

	memset(sqe, 0, 64);
	sqe[0] = 0x06;
	sqe[2] = (uint8_t)(slot + 1);
	memcpy(sqe + 24, &prp, 8);
	sqe[40] = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	w32(dfd, 0x1000, slot + 1);
	for (int i = 0; i < 50000 && !(*dw3 & (1u << 16)); i++)
		usleep(100);
	assert_true(*dw3 & (1u << 16));
	assert_int_equal(*dw3 & 0xffff, slot + 1);
	w32(dfd, 0x1004, slot + 1);
	return *dw3 >> 17;
}

static void nvme_dma(void **state)
{
	struct t1 t;
	uint8_t *sq, *cq, *id;
	const uint64_t base = 0x200000;
	uint16_t cmd;
	uint64_t done;
	uint32_t status;
	int g2, dfd;

	(void)state;
	t1_setup(&t, 0);
	/* NVMe's group joins edu's container: one set of mappings for both */
	g2 = open_group(NVME_BDF);
	assert_ok(set_container(g2, t.cfd));
	assert_ok(xioctl_v(t.cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU));
	dfd = get_device_fd(g2, NVME_BDF);
	assert_true(dfd >= 0);
	assert_int_equal(xpread(dfd, &cmd, 2, REGION(KABI_VFIO_PCI_CONFIG_REGION_INDEX) + 4), 2);
	cmd |= 0x6;
	assert_int_equal(xpwrite(dfd, &cmd, 2, REGION(KABI_VFIO_PCI_CONFIG_REGION_INDEX) + 4), 2);
	sq = t.mem;
	cq = t.mem + PAGE;
	id = t.mem + 2 * PAGE;
	assert_ok(map(t.cfd, (uintptr_t)sq, base, 2 * PAGE, 3));
	assert_ok(map(t.cfd, (uintptr_t)id, base + 2 * PAGE, PAGE, 3));
	w32(dfd, 0x14, 0);
	nvme_wait_ready(dfd, 0);
	w32(dfd, 0x24, 3u << 16 | 3u);
	w32(dfd, 0x28, (uint32_t)base);
	w32(dfd, 0x2c, 0);
	w32(dfd, 0x30, (uint32_t)(base + PAGE));
	w32(dfd, 0x34, 0);
	w32(dfd, 0x14, 1u | 6u << 16 | 4u << 20);
	nvme_wait_ready(dfd, 1);
	assert_int_equal(nvme_identify(dfd, sq, cq, 0, base + 2 * PAGE), 0);
	assert_memory_equal(id + 4, "deadbeef", 8);
	/* the answer's page unmapped: the controller cannot write it */
	assert_ok(unmap(t.cfd, base + 2 * PAGE, PAGE, 0, &done));
	assert_int_equal(done, PAGE);
	memset(id, 0, PAGE);
	/* the emulated controller completes it with Data Transfer Error; QEMU's
	 * ignores the result of its data DMA (hw/nvme/ctrl.c nvme_tx) and
	 * reports success (as tests/device/test-mmio.c notes): on both, nothing
	 * arrives */
	status = nvme_identify(dfd, sq, cq, 1, base + 2 * PAGE);
	print_message("# Identify into an unmapped page: status %#x\n", status);
	if (!test_real_kernel())
		assert_int_equal(status, 0x4);
	for (unsigned int i = 0; i < PAGE; i++)
		if (id[i])
			fail_msg("byte %u arrived after the unmap", i);
	w32(dfd, 0x14, 0);
	nvme_wait_ready(dfd, 0);
	xclose(dfd);
	xclose(g2);
	t1_teardown(&t);
}

/* ------------------------------------------------------------ fault injection (emulator) */

/* one run of the sequence: edu's group in a container, NVMe's group beside it */
struct fw {
	int cfd, gfd, g2;
	uint8_t *mem;
	uint64_t bm[2];
};

static int f_set_iommu(struct fw *w)
{
	return xioctl_v(w->cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU);
}

static int f_map_a(struct fw *w)
{
	return map(w->cfd, (uintptr_t)w->mem, IOVA, 4 * PAGE, 3);
}

static int f_dirty_start(struct fw *w)
{
	return dirty(w->cfd, KABI_VFIO_IOMMU_DIRTY_PAGES_FLAG_START);
}

static int f_map_b(struct fw *w)
{
	return map(w->cfd, (uintptr_t)w->mem, IOVA + 8 * PAGE, 2 * PAGE, 3);
}

static int f_get_bitmap(struct fw *w)
{
	return dirty_get(w->cfd, IOVA, 10 * PAGE, PAGE, w->bm, 8);
}

static int f_join(struct fw *w)
{
	return set_container(w->g2, w->cfd);
}

static int f_device(struct fw *w)
{
	int fd = get_device_fd(w->g2, NVME_BDF);

	if (fd < 0)
		return fd;
	xclose(fd);
	return 0;
}

static int f_unmap_a_bitmap(struct fw *w)
{
	struct unmap_dirty ud = {
		.u = { .argsz = sizeof(ud), .flags = KABI_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
		       .iova = IOVA, .size = 4 * PAGE },
		.b = { .pgsize = PAGE, .size = 8, .data = (uintptr_t)w->bm },
	};

	return xioctl(w->cfd, KABI_VFIO_IOMMU_UNMAP_DMA, &ud);
}

static int f_leave(struct fw *w)
{
	return xioctl(w->g2, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL);
}

static int (*const f_steps[])(struct fw *w) = {
	f_set_iommu, f_map_a, f_dirty_start, f_map_b, f_get_bitmap, f_join, f_device,
	f_unmap_a_bitmap, f_leave,
};
#define NSTEPS (sizeof(f_steps) / sizeof(f_steps[0]))

/*
 * For each step, each injection site it reaches fails once (counted from the
 * step's start): the step fails with ENOMEM (EFAULT for a pin) or succeeds,
 * a failed one succeeds when retried, and the whole sequence then ends with
 * the mappings it should have (UNMAP_ALL's total). Every run releases
 * everything: valgrind sees a leak of any failed path.
 */
static void fail_nth(void **state)
{
	unsigned long total = 0;

	(void)state;
	if (test_real_kernel())
		skip();
	for (size_t k = 0; k < NSTEPS; k++) {
		for (unsigned long n = 1;; n++) {
			struct fw w = { 0 };
			unsigned long count;
			uint64_t done;
			int r;

			dev_scope();
			w.cfd = xopen("/dev/vfio/vfio");
			w.gfd = open_group(EDU_BDF);
			w.g2 = open_group(NVME_BDF);
			w.mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			assert_true(w.mem != MAP_FAILED);
			assert_ok(set_container(w.gfd, w.cfd));
			for (size_t j = 0; j < k; j++)
				assert_ok(f_steps[j](&w));
			assert_ok(iommufd_emu_set_fail_nth(test_emu(), n));
			r = f_steps[k](&w);
			count = iommufd_emu_get_fail_count(test_emu());
			assert_ok(iommufd_emu_set_fail_nth(test_emu(), 0));
			if (r < 0) {
				if (r != -ENOMEM && r != -EFAULT)
					fail_msg("step %zu, site %lu: %s", k, n, strerror(-r));
				r = f_steps[k](&w);
				if (r < 0)
					fail_msg("step %zu after site %lu failed: retry: %s", k, n,
						 strerror(-r));
			}
			for (size_t j = k + 1; j < NSTEPS; j++)
				if ((r = f_steps[j](&w)) < 0)
					fail_msg("step %zu after step %zu's site %lu: %s", j, k, n,
						 strerror(-r));
			assert_ok(unmap(w.cfd, 0, 0, KABI_VFIO_DMA_UNMAP_FLAG_ALL, &done));
			assert_int_equal(done, 2 * PAGE);
			munmap(w.mem, 16 * PAGE);
			teardown(NULL);
			if (count < n)
				break;
			total++;
		}
	}
	print_message("# %lu injection sites failed\n", total);
	assert_true(total > 10);
}

/* ------------------------------------------------------------ the emulator's configuration */

static void config_knob(void **state)
{
	struct iommufd_emu *emu;
	int fd;

	(void)state;
	if (test_real_kernel())
		skip();
	assert_errno(iommufd_emu_set_config(NULL, 0), EINVAL);
	assert_int_equal(iommufd_emu_get_config(NULL), 0);
	assert_ok(iommufd_emu_new(&emu));
	assert_int_equal(iommufd_emu_get_config(emu), 0);
	assert_errno(iommufd_emu_set_config(emu, IOMMUFD_EMU_CONFIG_NO_IOMMUFD |
						 IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT), EINVAL);
	assert_errno(iommufd_emu_set_config(emu, 1u << 2), EINVAL);
	assert_int_equal(iommufd_emu_get_config(emu), 0);
	assert_ok(iommufd_emu_set_config(emu, IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT));
	assert_int_equal(iommufd_emu_get_config(emu), IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT);
	assert_ok(iommufd_emu_set_config(emu, 0));
	fd = be_open(iommufd_emu_get_backend(emu), "/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	assert_errno(iommufd_emu_set_config(emu, IOMMUFD_EMU_CONFIG_NO_IOMMUFD), EBUSY);
	assert_true(strstr(iommufd_emu_last_error(), "already opened") != NULL);
	assert_int_equal(iommufd_emu_get_config(emu), 0);
	be_close(iommufd_emu_get_backend(emu), fd);
	assert_errno(iommufd_emu_set_config(emu, 0), EBUSY);
	iommufd_emu_unref(emu);
}

static void config_no_iommufd(void **state)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, edu, .kind = IOMMUFD_EMU_DEVICE_EDU,
		     .bdf = EDU_BDF);
	struct iommufd_backend *be;
	char path[64] = "x", link[64];
	int cfd, gfd, dfd;

	(void)state;
	if (test_real_kernel())
		skip();
	be = test_backend_get();
	assert_ok(iommufd_emu_set_config(test_emu(), IOMMUFD_EMU_CONFIG_NO_IOMMUFD));
	assert_ok(iommufd_emu_add_pci_device(test_emu(), &edu, path, sizeof(path)));
	assert_string_equal(path, "");
	assert_errno(be_open(be, "/dev/iommu", O_RDWR), ENOENT);
	assert_errno(be_open(be, "/dev/vfio/devices/vfio0", O_RDWR), ENOENT);
	assert_errno(be_open(be, "/dev/vfio/devices", O_RDONLY), ENOENT);
	assert_errno(be_sysfs_read(be, "bus/pci/devices/" EDU_BDF "/vfio-dev/vfio0/dev", link,
				   sizeof(link)), ENOENT);
	assert_true(be_sysfs_readlink(be, "bus/pci/devices/" EDU_BDF "/iommu_group", link,
				      sizeof(link)) > 0);
	/* the legacy path works */
	cfd = xopen("/dev/vfio/vfio");
	assert_true(cfd >= 0);
	gfd = open_group(EDU_BDF);
	assert_ok(set_container(gfd, cfd));
	assert_ok(xioctl_v(cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU));
	dfd = get_device_fd(gfd, EDU_BDF);
	assert_true(dfd >= 0);
	xclose(dfd);
	xclose(gfd);
	xclose(cfd);
}

static void config_container_compat(void **state)
{
	struct kabi_ioas_alloc a = { .size = sizeof(a) };
	struct kabi_vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	int cfd, gfd, dfd;

	(void)state;
	if (test_real_kernel())
		skip();
	test_backend_get();
	assert_ok(iommufd_emu_set_config(test_emu(), IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT));
	dev_scope();
	/* /dev/vfio/vfio is an iommufd */
	cfd = xopen("/dev/vfio/vfio");
	assert_true(cfd >= 0);
	assert_ok(xioctl(cfd, KABI_IOMMU_IOAS_ALLOC, &a));
	/* a group joins it through the compat IOAS; SET_IOMMU then works */
	gfd = open_group(EDU_BDF);
	assert_ok(set_container(gfd, cfd));
	assert_ok(xioctl_v(cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU));
	assert_ok(xioctl(cfd, KABI_VFIO_IOMMU_GET_INFO, &info));
	dfd = get_device_fd(gfd, EDU_BDF);
	assert_true(dfd >= 0);
	xclose(dfd);
	xclose(gfd);
	xclose(cfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(container_unset, teardown),
		cmocka_unit_test_teardown(set_iommu, teardown),
		cmocka_unit_test_teardown(get_info, teardown),
		cmocka_unit_test_teardown(map_rules, teardown),
		cmocka_unit_test_teardown(dma_entry_limit, teardown),
		cmocka_unit_test_teardown(vaddr_update, teardown),
		cmocka_unit_test_teardown(unmap_v2, teardown),
		cmocka_unit_test_teardown(unmap_v1, teardown),
		cmocka_unit_test_teardown(dirty_pages, teardown),
		cmocka_unit_test_teardown(two_groups, teardown),
		cmocka_unit_test_teardown(group_close_busy, teardown),
		cmocka_unit_test_teardown(cdev_exclusion, teardown),
		cmocka_unit_test_teardown(container_close, teardown),
		cmocka_unit_test_teardown(edu_dma_round_trip, teardown),
		cmocka_unit_test_teardown(bar_map, teardown),
		cmocka_unit_test_teardown(nvme_dma, teardown),
		cmocka_unit_test_teardown(fail_nth, teardown),
		cmocka_unit_test_teardown(config_knob, teardown),
		cmocka_unit_test_teardown(config_no_iommufd, teardown),
		cmocka_unit_test_teardown(config_container_compat, teardown),
	};

	return cmocka_run_group_tests_name("type1", tests, NULL, NULL);
}
