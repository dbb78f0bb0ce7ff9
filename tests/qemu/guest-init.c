// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * guest-init: PID 1 of the guest that tests/qemu/run-qemu boots under QEMU 10.
 * QEMU runs on this machine under the preload library, with the emulator's
 * edu and NVMe handed to the guest through
 *   -object iommufd -device vfio-pci,host=...,iommufd=...
 * (QEMU's default vfio-pci options: BAR0 is an mmap of the emulated device).
 * This program sees them as any Linux guest does, as PCI devices in
 * /sys/bus/pci, and drives them from user space through sysfs:
 *
 *  - edu: its identity (0x010000ed), liveness (a value written reads back
 *    inverted), the factorial unit, an interrupt raised by hand (MSI,
 *    received through the guest's vfio-pci in no-IOMMU mode), and a DMA round trip through the guest's
 *    memory: guest RAM -> edu's buffer -> other guest RAM (2 KiB). The addresses it
 *    gives edu are guest-physical (/proc/self/pagemap); QEMU mapped the guest's
 *    RAM into the iommufd IOAS at IOVA = guest-physical address, so the
 *    emulated device's DMA goes through the emulator's IOAS into QEMU's memory
 *    for the guest.
 *  - NVMe: CAP and VS through an mmap of resource0, then the controller
 *    brought up on an admin queue in guest memory and asked Identify
 *    Controller (DMA of the command, the data and the completion).
 *
 * It prints TAP on the second serial port (/dev/ttyS1: the console, ttyS0,
 * carries the kernel's messages) and powers the machine off. It never exits:
 * PID 1 exiting is a kernel panic.
 *
 * It is linked statically and is the only file of the guest's initramfs
 * (with /dev/console), so the guest needs nothing of this machine.
 *
 * Stores to an mmap'd BAR of an emulated device take effect a moment later
 * (the device-model thread, DEVELOPING.md): like a driver for real hardware,
 * this program polls for the effect (with a bound), it never expects a load
 * right after a store to see it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vfio.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u

/* edu (QEMU's docs/specs/edu.rst) */
#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_IDENT 0x00
#define EDU_LIVENESS 0x04
#define EDU_FACT 0x08
#define EDU_STATUS 0x20
#define EDU_STATUS_COMPUTING 0x01u
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_START 0x01u
#define EDU_DMA_TO_RAM 0x02u /* direction: edu's buffer -> RAM */
#define EDU_BUF 0x40000u     /* edu's 4 KiB buffer in its DMA address space */
/* bytes per transfer: QEMU's edu refuses one that ends at its buffer's end */
#define EDU_XFER 2048u
#define EDU_DMA_LIMIT (1ull << 28) /* edu's DMA mask: 28 bits */
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_IRQ_BITS 0x1234u /* raised by hand: any bits */

/* NVMe (NVMe base specification, "Controller Registers") */
#define NVME_CLASS 0x010802
#define NVME_CAP 0x00
#define NVME_VS 0x08
#define NVME_CC 0x14
#define NVME_CSTS 0x1c
#define NVME_AQA 0x24
#define NVME_ASQ 0x28
#define NVME_ACQ 0x30
#define NVME_DBS 0x1000
#define NVME_CC_EN 0x1u
#define NVME_CC_IOSQES6_IOCQES4 ((6u << 16) | (4u << 20))
#define NVME_CSTS_RDY 0x1u
#define NVME_CSTS_CFS 0x2u
#define NVME_QDEPTH 8u

#define PLAN 12 /* TAP points: 7 for edu, 5 for the NVMe */

#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2u
#define PCI_COMMAND_MASTER 0x4u

static FILE *tap;    /* /dev/ttyS1, or the console when it is missing */
static int npoints;  /* TAP points printed */
static int nfailed;  /* of which failed */

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("guest-init: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

/* one TAP point; a failed one carries its reason as a TAP comment */
static bool point(bool ok, const char *what, const char *fmt, ...)
{
	char why[256] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	npoints++;
	if (!ok)
		nfailed++;
	if (ok)
		why[0] = 0; /* the reason is for a failure */
	fprintf(tap, "%s %d - %s%s%s\n", ok ? "ok" : "not ok", npoints, what, why[0] ? ": " : "", why);
	fflush(tap);
	say("%s %s%s%s", ok ? "ok" : "FAILED", what, why[0] ? ": " : "", why);
	return ok;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile uint32_t *reg32(volatile void *bar, uint32_t off)
{
	return (volatile uint32_t *)((volatile char *)bar + off);
}

static uint32_t rd32(volatile void *bar, uint32_t off)
{
	return *reg32(bar, off);
}

static void wr32(volatile void *bar, uint32_t off, uint32_t v)
{
	*reg32(bar, off) = v;
}

static uint64_t rd64(volatile void *bar, uint32_t off)
{
	return rd32(bar, off) | ((uint64_t)rd32(bar, off + 4) << 32);
}

static void wr64(volatile void *bar, uint32_t off, uint64_t v)
{
	wr32(bar, off, (uint32_t)v);
	wr32(bar, off + 4, (uint32_t)(v >> 32));
}

/* poll until (reg & mask) == want, for at most sec seconds; true when it was */
static bool poll32(volatile void *bar, uint32_t off, uint32_t mask, uint32_t want, double sec,
		   uint32_t *last)
{
	double end = now() + sec;
	uint32_t v;

	for (;;) {
		v = rd32(bar, off);
		if ((v & mask) == want || now() > end)
			break;
		usleep(100);
	}
	if (last)
		*last = v;
	return (v & mask) == want;
}

/* a sysfs attribute of a PCI device as a number; -1 when unreadable */
static long attr(const char *dev, const char *name)
{
	char path[320], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 0);
}

/* the first PCI device matching vendor:device, or class when vendor is 0 */
static bool find_dev(long vendor, long device, long class, char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (vendor ? attr(e->d_name, "vendor") == vendor && attr(e->d_name, "device") == device :
			     attr(e->d_name, "class") == class) {
			snprintf(bdf, len, "%s", e->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/*
 * Memory decoding and bus mastering on, through the config space file (no
 * driver does it for us), and BAR0 mapped from resource0. NULL on failure,
 * with *why set.
 */
static volatile void *map_bar0(const char *bdf, size_t *len, char *why, size_t whylen)
{
	char path[320];
	uint16_t cmd;
	struct stat st;
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pread(fd, &cmd, 2, PCI_COMMAND) != 2) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(fd, &cmd, 2, PCI_COMMAND) != 2) {
		snprintf(why, whylen, "writing the command register: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	close(fd);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", bdf);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	*len = (size_t)st.st_size;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		snprintf(why, whylen, "mmap of %s (%zu bytes): %s", path, *len, strerror(errno));
		return NULL;
	}
	return p;
}

/* a locked page of guest memory and its guest-physical address (0: failure) */
static void *dma_page(uint64_t *phys)
{
	uint64_t ent = 0;
	void *p;
	int fd;

	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, PAGE);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (pread(fd, &ent, sizeof(ent), (off_t)((uintptr_t)p / PAGE * sizeof(ent))) != sizeof(ent))
			ent = 0;
		close(fd);
	}
	/* bit 63: present; bits 0-54: the page frame number */
	if (!(ent >> 63) || !(ent & ((1ull << 55) - 1))) {
		munmap(p, PAGE);
		return NULL;
	}
	*phys = (ent & ((1ull << 55) - 1)) * PAGE;
	return p;
}

static bool write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok;
}

/*
 * An interrupt of edu's, raised by hand, reaches the guest: edu bound to the
 * guest's vfio-pci in no-IOMMU mode (the guest has no IOMMU), MSI on an
 * eventfd through VFIO_DEVICE_SET_IRQS. On its way: the emulated device
 * signals the eventfd QEMU gave the emulator with SET_IRQS, QEMU injects
 * the MSI, the guest's vfio-pci signals this program's eventfd. On failure
 * *why says where it stopped.
 */
static bool edu_irq(const char *bdf, volatile void *bar, char *why, size_t whylen)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct {
		struct vfio_irq_set set;
		int32_t fd;
	} irq;
	char path[320], link[256];
	int cfd = -1, gfd = -1, dfd = -1, efd = -1;
	struct pollfd pfd;
	uint64_t count = 0;
	const char *group;
	uint32_t status;
	uint16_t cmd;
	ssize_t n;
	bool ok = false;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (!write_file(path, "vfio-pci") || !write_file("/sys/bus/pci/drivers_probe", bdf)) {
		snprintf(why, whylen, "binding to vfio-pci: %s", strerror(errno));
		return false;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		snprintf(why, whylen, "no iommu_group after binding to vfio-pci (no-IOMMU mode off?)");
		return false;
	}
	link[n] = 0;
	group = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%s", group);
	cfd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	gfd = open(path, O_RDWR | O_CLOEXEC);
	if (cfd < 0 || gfd < 0) {
		snprintf(why, whylen, "opening /dev/vfio/vfio and %s: %s", path, strerror(errno));
		goto out;
	}
	if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &cfd) || ioctl(cfd, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU)) {
		snprintf(why, whylen, "the no-IOMMU container: %s", strerror(errno));
		goto out;
	}
	dfd = ioctl(gfd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dfd < 0 || ioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, &ri) ||
	    pread(dfd, &cmd, 2, (off_t)ri.offset + PCI_COMMAND) != 2) {
		snprintf(why, whylen, "the device file: %s", strerror(errno));
		goto out;
	}
	/* MSI is a memory write of the device's: bus mastering on */
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	irq.set = (struct vfio_irq_set){ .argsz = sizeof(irq),
					 .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
					 .index = VFIO_PCI_MSI_IRQ_INDEX, .start = 0, .count = 1 };
	irq.fd = efd;
	if (pwrite(dfd, &cmd, 2, (off_t)ri.offset + PCI_COMMAND) != 2 || efd < 0 ||
	    ioctl(dfd, VFIO_DEVICE_SET_IRQS, &irq)) {
		snprintf(why, whylen, "MSI on an eventfd: %s", strerror(errno));
		goto out;
	}
	wr32(bar, EDU_IRQ_RAISE, EDU_IRQ_BITS);
	pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
	if (poll(&pfd, 1, 5000) != 1 || read(efd, &count, sizeof(count)) != sizeof(count) || !count) {
		snprintf(why, whylen, "no interrupt in 5 s (irq status 0x%" PRIx32 ")",
			 rd32(bar, EDU_IRQ_STATUS));
		goto out;
	}
	if (!poll32(bar, EDU_IRQ_STATUS, ~0u, EDU_IRQ_BITS, 2.0, &status)) {
		snprintf(why, whylen, "irq status 0x%" PRIx32 ", raised 0x%x", status, EDU_IRQ_BITS);
		goto out;
	}
	wr32(bar, EDU_IRQ_ACK, EDU_IRQ_BITS);
	if (!poll32(bar, EDU_IRQ_STATUS, ~0u, 0, 2.0, &status)) {
		snprintf(why, whylen, "irq status 0x%" PRIx32 " after the ack", status);
		goto out;
	}
	say("edu MSI: %" PRIu64 " interrupt(s) on the guest's eventfd", count);
	ok = true;
out:
	if (efd >= 0)
		close(efd);
	if (dfd >= 0)
		close(dfd);
	if (gfd >= 0)
		close(gfd);
	if (cfd >= 0)
		close(cfd);
	return ok;
}

/* edu's DMA engine: count bytes from src to dst; false on a timeout */
static bool edu_dma(volatile void *bar, uint64_t src, uint64_t dst, uint32_t count, uint32_t dir,
		    uint32_t *cmd)
{
	wr64(bar, EDU_DMA_SRC, src);
	wr64(bar, EDU_DMA_DST, dst);
	wr64(bar, EDU_DMA_COUNT, count);
	wr64(bar, EDU_DMA_CMD, EDU_DMA_START | dir);
	return poll32(bar, EDU_DMA_CMD, EDU_DMA_START, 0, 5.0, cmd);
}

/* edu's registers and DMA; BAR0 mapped (NULL when it could not be: the
 * points left are reported failed) */
static volatile void *test_edu_regs(char *bdf, size_t bdflen)
{
	char why[512];
	volatile void *bar;
	size_t len;
	uint32_t v;
	uint64_t pa, pb;
	unsigned char *a, *b;
	bool ok;

	if (!point(find_dev(EDU_VENDOR, EDU_DEVICE, 0, bdf, bdflen), "edu: found in /sys/bus/pci",
		   "no %04x:%04x device", EDU_VENDOR, EDU_DEVICE)) {
		for (int i = 0; i < 6; i++)
			point(false, "edu: not run", "no device");
		return NULL;
	}
	say("edu at %s", bdf);
	bar = map_bar0(bdf, &len, why, sizeof(why));
	if (!point(bar != NULL, "edu: BAR0 mapped through resource0", "%s", why)) {
		for (int i = 0; i < 5; i++)
			point(false, "edu: not run", "BAR0 not mapped");
		return NULL;
	}
	v = rd32(bar, EDU_IDENT);
	point(v == 0x010000ed, "edu: ident reads 0x010000ed", "read 0x%08" PRIx32, v);

	/* liveness: the device answers with the value written, inverted */
	wr32(bar, EDU_LIVENESS, 0x12345678);
	ok = poll32(bar, EDU_LIVENESS, ~0u, ~0x12345678u, 2.0, &v);
	point(ok, "edu: liveness reads back ~0x12345678", "read 0x%08" PRIx32, v);

	/* factorial: 10! = 3628800; status bit 0 while the device computes */
	wr32(bar, EDU_FACT, 10);
	ok = poll32(bar, EDU_FACT, ~0u, 3628800, 2.0, &v) &&
	     poll32(bar, EDU_STATUS, EDU_STATUS_COMPUTING, 0, 2.0, NULL);
	point(ok, "edu: factorial of 10 is 3628800", "read %" PRIu32, v);

	/* DMA: page a -> edu's buffer -> page b, all by guest-physical address */
	a = dma_page(&pa);
	b = dma_page(&pb);
	if (!a || !b || pa + PAGE > EDU_DMA_LIMIT || pb + PAGE > EDU_DMA_LIMIT) {
		point(false, "edu: DMA round trip through guest memory",
		      "no DMA page below 2^28 (pagemap: 0x%" PRIx64 ", 0x%" PRIx64 ")", a ? pa : 0, b ? pb : 0);
		return bar;
	}
	for (unsigned i = 0; i < PAGE; i++)
		a[i] = (unsigned char)(i * 7 + 3);
	memset(b, 0xee, PAGE);
	if (!edu_dma(bar, pa, EDU_BUF, EDU_XFER, 0, &v)) {
		point(false, "edu: DMA round trip through guest memory",
		      "RAM 0x%" PRIx64 " -> edu: command still 0x%" PRIx32 " after 5 s", pa, v);
		return bar;
	}
	if (!edu_dma(bar, EDU_BUF, pb, EDU_XFER, EDU_DMA_TO_RAM, &v)) {
		point(false, "edu: DMA round trip through guest memory",
		      "edu -> RAM 0x%" PRIx64 ": command still 0x%" PRIx32 " after 5 s", pb, v);
		return bar;
	}
	point(memcmp(a, b, EDU_XFER) == 0 && b[EDU_XFER] == 0xee, "edu: DMA round trip through guest memory",
	      "RAM 0x%" PRIx64 " -> edu -> RAM 0x%" PRIx64 ": the data differ (first bytes %02x %02x %02x %02x)",
	      pa, pb, b[0], b[1], b[2], b[3]);
	say("edu DMA: %u bytes from guest-physical 0x%" PRIx64 " to edu 0x%x and back to guest-physical 0x%" PRIx64,
	    EDU_XFER, pa, EDU_BUF, pb);
	return bar;
}

static void test_edu(void)
{
	char bdf[256];
	volatile void *bar;

	bar = test_edu_regs(bdf, sizeof(bdf));
	if (!bar)
		return;
	/* last: vfio-pci turns bus mastering off when the device file closes */
	{
		char why[512] = "";

		point(edu_irq(bdf, bar, why, sizeof(why)), "edu: an interrupt reaches the guest (MSI)",
		      "%s", why);
	}
}

/* copy an NVMe identify string (space-padded) into out, without the padding */
static void nvme_str(char *out, const unsigned char *in, size_t len)
{
	memcpy(out, in, len);
	out[len] = 0;
	for (size_t i = len; i > 0 && (out[i - 1] == ' ' || out[i - 1] == 0); i--)
		out[i - 1] = 0;
}

static void test_nvme(void)
{
	char bdf[256], why[512], sn[21], mn[41];
	volatile void *bar;
	size_t len;
	uint64_t cap, psq, pcq, pid;
	uint32_t vs, csts, to, dstrd;
	unsigned char *sq, *cq, *id;
	volatile uint16_t *status;
	double end;

	if (!point(find_dev(0, 0, NVME_CLASS, bdf, sizeof(bdf)), "nvme: found in /sys/bus/pci",
		   "no device of class 0x%06x", NVME_CLASS)) {
		for (int i = 0; i < 4; i++)
			point(false, "nvme: not run", "no device");
		return;
	}
	say("NVMe at %s", bdf);
	bar = map_bar0(bdf, &len, why, sizeof(why));
	if (!point(bar != NULL && len >= NVME_DBS + 8, "nvme: BAR0 mapped through resource0", "%s",
		   bar ? "BAR0 too small" : why)) {
		for (int i = 0; i < 3; i++)
			point(false, "nvme: not run", "BAR0 not mapped");
		return;
	}
	cap = rd64(bar, NVME_CAP);
	vs = rd32(bar, NVME_VS);
	/* CAP: MQES (bits 0-15) at least 1, CSS (bits 37-44) has the NVM command set */
	point((cap & 0xffff) >= 1 && (cap >> 37 & 1), "nvme: CAP is a controller's",
	      "CAP 0x%016" PRIx64, cap);
	point(vs >= 0x00010000 && vs < 0x00030000, "nvme: VS is an NVMe 1.x or 2.x version",
	      "VS 0x%08" PRIx32, vs);
	say("NVMe CAP 0x%016" PRIx64 " VS 0x%08" PRIx32, cap, vs);

	/* the controller up on an admin queue in guest memory, Identify Controller */
	sq = dma_page(&psq);
	cq = dma_page(&pcq);
	id = dma_page(&pid);
	if (!sq || !cq || !id) {
		point(false, "nvme: Identify Controller through guest memory", "no DMA pages");
		return;
	}
	to = (uint32_t)(cap >> 24 & 0xff); /* CAP.TO: in 500 ms units */
	dstrd = (uint32_t)(cap >> 32 & 0xf);
	wr32(bar, NVME_CC, 0);
	if (!poll32(bar, NVME_CSTS, NVME_CSTS_RDY, 0, to * 0.5 + 1, &csts)) {
		point(false, "nvme: Identify Controller through guest memory",
		      "disable: CSTS 0x%" PRIx32 " still ready", csts);
		return;
	}
	wr32(bar, NVME_AQA, (NVME_QDEPTH - 1) << 16 | (NVME_QDEPTH - 1));
	wr64(bar, NVME_ASQ, psq);
	wr64(bar, NVME_ACQ, pcq);
	wr32(bar, NVME_CC, NVME_CC_IOSQES6_IOCQES4 | NVME_CC_EN);
	if (!poll32(bar, NVME_CSTS, NVME_CSTS_RDY | NVME_CSTS_CFS, NVME_CSTS_RDY, to * 0.5 + 1, &csts)) {
		point(false, "nvme: Identify Controller through guest memory",
		      "enable: CSTS 0x%" PRIx32 " after CAP.TO", csts);
		return;
	}
	/* Identify (opcode 0x06), CNS 1 (the controller), command id 0x1234 */
	memset(sq, 0, 64);
	sq[0] = 0x06;
	sq[2] = 0x34;
	sq[3] = 0x12;
	memcpy(sq + 24, &pid, 8); /* PRP1 */
	sq[40] = 1;               /* CDW10: CNS */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	wr32(bar, NVME_DBS, 1); /* SQ0 tail */
	status = (volatile uint16_t *)(cq + 14);
	end = now() + 5;
	while (!(*status & 1) && now() < end) /* the phase tag of the first entry */
		usleep(100);
	if (!(*status & 1)) {
		point(false, "nvme: Identify Controller through guest memory",
		      "no completion in 5 s (CSTS 0x%" PRIx32 ")", rd32(bar, NVME_CSTS));
		return;
	}
	wr32(bar, NVME_DBS + (4u << dstrd), 1); /* CQ0 head */
	nvme_str(sn, id + 4, 20);
	nvme_str(mn, id + 24, 40);
	point((*status >> 1) == 0 && cq[12] == 0x34 && cq[13] == 0x12 && sn[0],
	      "nvme: Identify Controller through guest memory",
	      "status 0x%x, command id 0x%02x%02x, serial \"%s\"", *status >> 1, cq[13], cq[12], sn);
	say("NVMe Identify: model \"%s\", serial \"%s\"", mn, sn);
	wr32(bar, NVME_CC, 0);
}

static void setup(void)
{
	int fd;

	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mkdir("/dev", 0755);
	if (mount("proc", "/proc", "proc", 0, NULL) < 0)
		say("mount /proc: %s", strerror(errno));
	if (mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
		say("mount /sys: %s", strerror(errno));
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) < 0 && errno != EBUSY)
		say("mount /dev: %s", strerror(errno));
	fd = open("/dev/ttyS1", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		struct termios t;

		/* raw output: no \r added to the TAP lines */
		if (tcgetattr(fd, &t) == 0) {
			cfmakeraw(&t);
			tcsetattr(fd, TCSANOW, &t);
		}
		tap = fdopen(fd, "w");
	}
	if (!tap) {
		say("no /dev/ttyS1 (%s): TAP on the console", strerror(errno));
		tap = stdout;
	}
}

int main(void)
{
	setup();
	say("start");
	fprintf(tap, "TAP version 13\n1..%d\n", PLAN);
	test_edu();
	test_nvme();
	if (npoints != PLAN)
		point(false, "guest-init: the plan", "%d points printed, planned %d", npoints, PLAN);
	say("done: %d of %d failed; powering off", nfailed, npoints);
	fflush(tap);
	if (tap != stdout)
		tcdrain(fileno(tap));
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
