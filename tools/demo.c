// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * iommufd demo: the library at work, step by step: context, IOAS, device
 * bind/attach, map, a DMA of QEMU's edu device and its check, a dirty-tracking
 * round, teardown. On an emulated edu (the emulator of libiommufd), or on a
 * real one with --device.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef IOMMUFD_HAVE_EMU
#include "iommufd-emu.h"
#else
#include "iommufd.h"
struct iommufd_emu; /* a build without the emulator library */
#endif
#include "tool.h"

/* ------------------------------------------------------------------ */
/* demo                                                                 */
/* ------------------------------------------------------------------ */

/* QEMU's edu device: BAR0 registers and its 4 KiB buffer at device address 0x40000 */
#define EDU_IDENT 0x00
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_START 1u
#define EDU_CMD_TO_RAM 2u
#define EDU_BUF 0x40000ull
#define EDU_XFER 2048ull /* QEMU 7.2 aborts on a transfer that ends at the buffer's end */

#define EMU_BDF "0000:00:02.0"     /* the emulated edu, where QEMU puts it too */
#define DEMO_IOVA 0x100000ull     /* preferred; edu DMA addresses must be below 2^28 */
#define EDU_DMA_LIMIT (1ull << 28)
#define DEMO_PAGE 4096ull
#define DEMO_OUT (8 * DEMO_PAGE)  /* where the device writes back, inside the buffer */

struct demo {
	struct iommufd_emu *emu; /* NULL on a real device */
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
	uint32_t ioas_id, dev_id, hwpt_id, dirty_hwpt_id;
	uint64_t iova; /* of the buffer */
	uint8_t *buf;
	bool mapped;
	int step;
};

static void __attribute__((format(printf, 2, 3))) step(struct demo *d, const char *fmt, ...)
{
	va_list ap;

	printf("[%2d] ", ++d->step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* a failed step: one line on stderr with the library's reason */
static int demo_fail(const char *what, int r)
{
	const char *why = iommufd_last_error();

	errorf("demo: %s failed: %s%s%s", what, strerror(-r), *why ? ": " : "", why);
	return EXIT_FAILED;
}

static const char *state_of(struct demo *d)
{
	return iommufd_device_state_name(iommufd_device_get_state(d->dev));
}

static int edu_write64(struct demo *d, uint64_t off, uint64_t v)
{
	ssize_t r = iommufd_device_region_write(d->dev, IOMMUFD_PCI_BAR0_REGION, off, &v, sizeof(v));

	return r == sizeof(v) ? 0 : r < 0 ? (int)r : -EIO;
}

/* one edu DMA of len bytes; waits (up to 5 s) for the engine to go idle */
static int edu_dma(struct demo *d, uint64_t src, uint64_t dst, uint64_t len, bool to_ram)
{
	uint64_t cmd = EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0);
	int r;

	if ((r = edu_write64(d, EDU_DMA_SRC, src)) || (r = edu_write64(d, EDU_DMA_DST, dst)) ||
	    (r = edu_write64(d, EDU_DMA_COUNT, len)) || (r = edu_write64(d, EDU_DMA_CMD, cmd)))
		return r;
	for (int i = 0; i < 5000; i++) {
		ssize_t n = iommufd_device_region_read(d->dev, IOMMUFD_PCI_BAR0_REGION, EDU_DMA_CMD, &cmd,
						       sizeof(cmd));

		if (n != sizeof(cmd))
			return n < 0 ? (int)n : -EIO;
		if (!(cmd & EDU_CMD_START))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/* open the device: an emulated edu, a cdev path, or a PCI address */
static int demo_open(struct demo *d, const char *device)
{
	char cdev[PATH_MAX];
	int r;

	if (device) {
		if (device[0] == '/') {
			r = iommufd_device_open(d->ctx, device, &d->dev);
		} else {
			r = iommufd_device_open_pci(d->ctx, device, &d->dev);
		}
		if (r < 0)
			return demo_fail("opening the device", r);
		step(d, "device: opened %s: %s", device, state_of(d));
		return 0;
	}
#ifdef IOMMUFD_HAVE_EMU
	/* unlike QEMU's VT-d in front of the VM's edu, this IOMMU tracks dirty pages */
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, opts, .kind = IOMMUFD_EMU_DEVICE_EDU, .bdf = EMU_BDF,
		     .flags = IOMMUFD_EMU_DEVICE_DIRTY_TRACKING);
	r = iommufd_emu_add_pci_device(d->emu, &opts, cdev, sizeof(cdev));
	if (r < 0) {
		errorf("demo: adding an emulated edu device: %s", iommufd_emu_last_error());
		return EXIT_FAILED;
	}
	/* by its PCI address, which works in either mode (a type1 context has no cdevs) */
	r = iommufd_device_open_pci(d->ctx, EMU_BDF, &d->dev);
	if (r < 0)
		return demo_fail("opening the emulated device", r);
	step(d, "device: emulated edu (1234:11e8) on vfio-pci, IOMMU with dirty tracking, opened %s%s%s: %s",
	     EMU_BDF, cdev[0] ? " at " : "", cdev, state_of(d));
	return 0;
#else
	(void)cdev;
	(void)r;
	return -EINVAL; /* demo_run() refuses to run without a device in this build */
#endif
}

/* bind, attach to the IOAS, enable memory decoding and bus mastering */
static int demo_bind_attach(struct demo *d)
{
	uint32_t cmd = 0, ident = 0;
	int r;

	bool t1 = iommufd_ctx_get_mode(d->ctx) == IOMMUFD_MODE_TYPE1;

	r = iommufd_device_bind(d->dev, d->ctx, NULL, &d->dev_id);
	if (r < 0)
		return demo_fail(t1 ? "bind (the group into the container)" : "VFIO_DEVICE_BIND_IOMMUFD", r);
	step(d, "device: bind -> %s (device object %u, %s)", state_of(d), d->dev_id,
	     t1 ? "its group in the container: DMA through the container's mappings" : "DMA blocked");
	r = iommufd_device_attach(d->dev, d->ioas_id, &d->hwpt_id);
	if (r < 0)
		return demo_fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT", r);
	step(d, "device: attach IOAS %u -> %s (auto hardware page table %u)", d->ioas_id, state_of(d),
	     d->hwpt_id);

	r = iommufd_device_config_read(d->dev, 4, 2, &cmd);
	if (r == 0)
		r = iommufd_device_config_write(d->dev, 4, 2, cmd | 0x6); /* memory space, bus master */
	if (r < 0)
		return demo_fail("enabling bus mastering (PCI command register)", r);
	if (iommufd_device_region_read(d->dev, IOMMUFD_PCI_BAR0_REGION, EDU_IDENT, &ident, 4) != 4)
		return demo_fail("reading the edu ident register", -EIO);
	if ((ident & 0xff) != 0xed) {
		errorf("demo: the device is not an edu (ident register 0x%08x): it cannot run the DMA test",
		       ident);
		return EXIT_UNUSABLE;
	}
	step(d, "device: edu ident 0x%08x, bus mastering on", ident);
	return 0;
}

/* an IOVA for the buffer inside the usable ranges (the IOMMU's aperture) and edu's 28 bits */
static int demo_pick_iova(struct demo *d)
{
	struct iommufd_iova_range *ranges = NULL;
	uint64_t align = DEMO_PAGE;
	size_t n = 0;
	int r = iommufd_ioas_iova_ranges(d->ctx, d->ioas_id, &ranges, &n, &align);

	if (r < 0)
		return demo_fail("IOMMU_IOAS_IOVA_RANGES", r);
	if (align < DEMO_PAGE)
		align = DEMO_PAGE;
	d->iova = 0;
	for (size_t i = 0; i < n && !d->iova; i++) {
		uint64_t start = ranges[i].start > DEMO_IOVA ? ranges[i].start : DEMO_IOVA;

		start = (start + align - 1) & ~(align - 1);
		if (start + DEMO_PIN - 1 <= ranges[i].last && start + DEMO_PIN <= EDU_DMA_LIMIT)
			d->iova = start;
	}
	free(ranges);
	if (!d->iova) {
		errorf("demo: no usable IOVA range below 2^28 for the device's DMA");
		return EXIT_FAILED;
	}
	return 0;
}

/* RAM -> device buffer -> RAM at another IOVA, then compare */
static int demo_dma(struct demo *d)
{
	uint64_t faults = 0;
	int r;

	for (size_t i = 0; i < EDU_XFER; i++)
		d->buf[i] = (uint8_t)(i * 7 + 0x5a);
	memset(d->buf + DEMO_OUT, 0, EDU_XFER);
	r = edu_dma(d, d->iova, EDU_BUF, EDU_XFER, false);
	if (r == 0)
		r = edu_dma(d, EDU_BUF, d->iova + DEMO_OUT, EDU_XFER, true);
	if (r < 0)
		return demo_fail("edu DMA", r);
	step(d, "dma: device read %llu bytes at iova 0x%llx, wrote them back at iova 0x%llx", EDU_XFER,
	     (unsigned long long)d->iova, (unsigned long long)(d->iova + DEMO_OUT));
	if (memcmp(d->buf, d->buf + DEMO_OUT, EDU_XFER)) {
#ifdef IOMMUFD_HAVE_EMU
		if (d->emu)
			iommufd_emu_device_get_dma_faults(d->emu, EMU_BDF, &faults, NULL);
#endif
		errorf("demo: dma check FAILED: the bytes the device wrote do not match (%llu IOMMU fault(s))",
		       (unsigned long long)faults);
		return EXIT_FAILED;
	}
	step(d, "dma check: OK, the %llu bytes written by the device through the IOMMU match",
	     EDU_XFER);
	return 0;
}

/* the dirty pages of the buffer as " 0xIOVA+N" runs (or " none") */
static void dirty_runs(struct demo *d, const uint64_t *bitmap, char *out, size_t len)
{
	uint64_t pos = 0, start, count;
	size_t n = 0;

	out[0] = '\0';
	while (iommufd_bitmap_next_run(bitmap, DEMO_PIN / DEMO_PAGE, &pos, &start, &count) == 1 &&
	       n < len)
		n += (size_t)snprintf(out + n, len - n, " 0x%llx+%llu",
				      (unsigned long long)(d->iova + start * DEMO_PAGE),
				      (unsigned long long)count);
	if (!out[0])
		snprintf(out, len, " none");
}

/*
 * A dirty-tracking HWPT replaces the auto one; the device reads one page and
 * writes across two others: the bitmap must show exactly the two it wrote.
 */
/*
 * The type1 mode: the container's dirty tracking (VFIO_IOMMU_DIRTY_PAGES) on
 * its HWPT. type1 cannot see a vfio-pci device's writes: it reports every
 * mapped page, which must include the ones the device wrote.
 */
static int demo_dirty_type1(struct demo *d)
{
	const uint64_t dst = DEMO_OUT + DEMO_PAGE + DEMO_PAGE - EDU_XFER / 2;
	const uint64_t first = dst / DEMO_PAGE, last = (dst + EDU_XFER - 1) / DEMO_PAGE;
	const uint64_t all = DEMO_PIN / DEMO_PAGE >= 64 ? ~0ull : (1ull << (DEMO_PIN / DEMO_PAGE)) - 1;
	uint64_t bitmap[1] = { 0 };
	char runs[256];
	int r;

	r = iommufd_hwpt_set_dirty_tracking(d->ctx, d->hwpt_id, true);
	if (r == -EOPNOTSUPP) {
		step(d, "dirty tracking: skipped: the container has none (%s)", iommufd_last_error());
		return 0;
	}
	if (r < 0)
		return demo_fail("VFIO_IOMMU_DIRTY_PAGES start", r);
	r = iommufd_hwpt_get_dirty_bitmap(d->ctx, d->hwpt_id, d->iova, DEMO_PIN, DEMO_PAGE, bitmap, 0);
	if (r < 0)
		return demo_fail("VFIO_IOMMU_DIRTY_PAGES bitmap", r);
	step(d, "dirty tracking: on (type1: VFIO_IOMMU_DIRTY_PAGES on the container's page table %u)",
	     d->hwpt_id);
	r = edu_dma(d, d->iova, EDU_BUF, EDU_XFER, false);
	if (r == 0)
		r = edu_dma(d, EDU_BUF, d->iova + dst, EDU_XFER, true);
	if (r < 0)
		return demo_fail("edu DMA", r);
	bitmap[0] = 0;
	r = iommufd_hwpt_get_dirty_bitmap(d->ctx, d->hwpt_id, d->iova, DEMO_PIN, DEMO_PAGE, bitmap, 0);
	if (r < 0)
		return demo_fail("VFIO_IOMMU_DIRTY_PAGES bitmap", r);
	dirty_runs(d, bitmap, runs, sizeof(runs));
	step(d, "dirty tracking: device wrote pages %llu-%llu; dirty pages:%s",
	     (unsigned long long)first, (unsigned long long)last, runs);
	for (uint64_t p = first; p <= last; p++) {
		if (!(bitmap[0] >> p & 1)) {
			errorf("demo: dirty check FAILED: page %llu, written by the device, is not reported dirty",
			       (unsigned long long)p);
			return EXIT_FAILED;
		}
	}
	step(d, "dirty check: OK, the pages the device wrote are dirty%s",
	     bitmap[0] == all ? " (type1 reports every mapped page: it cannot see which ones a device writes)" : "");
	r = iommufd_hwpt_set_dirty_tracking(d->ctx, d->hwpt_id, false);
	if (r < 0)
		return demo_fail("VFIO_IOMMU_DIRTY_PAGES stop", r);
	step(d, "dirty tracking: off");
	return 0;
}

static int demo_dirty(struct demo *d)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, opts, .flags = IOMMUFD_HWPT_DIRTY_TRACKING);
	/* a write straddling pages 9 and 10 of the buffer, a read of page 0 */
	const uint64_t dst = DEMO_OUT + DEMO_PAGE + DEMO_PAGE - EDU_XFER / 2;
	const uint64_t first = dst / DEMO_PAGE, last = (dst + EDU_XFER - 1) / DEMO_PAGE;
	uint64_t bitmap[1] = { 0 }, expect = 0;
	IOMMUFD_OPTS(struct iommufd_hw_info, hw);
	char runs[256];
	int r;

	if (iommufd_ctx_get_mode(d->ctx) == IOMMUFD_MODE_TYPE1)
		return demo_dirty_type1(d);
	r = iommufd_get_hw_info(d->ctx, d->dev_id, IOMMUFD_HW_INFO_NONE, &hw);
	if (r == 0 && !(hw.capabilities & IOMMUFD_HW_CAP_DIRTY_TRACKING)) {
		step(d, "dirty tracking: skipped: the IOMMU has no dirty tracking (GET_HW_INFO type 0x%x, capabilities 0x%llx)",
		     hw.type, (unsigned long long)hw.capabilities);
		return 0;
	}
	r = iommufd_hwpt_alloc(d->ctx, d->dev_id, d->ioas_id, &opts, &d->dirty_hwpt_id);
	if (r == -EOPNOTSUPP) {
		step(d, "dirty tracking: skipped: the IOMMU has no dirty tracking (IOMMU_HWPT_ALLOC: %s)",
		     strerror(-r));
		return 0;
	}
	if (r < 0)
		return demo_fail("IOMMU_HWPT_ALLOC with DIRTY_TRACKING", r);
	step(d, "dirty tracking: the IOMMU tracks dirty pages; hardware page table %u allocated with DIRTY_TRACKING",
	     d->dirty_hwpt_id);
	r = iommufd_device_attach(d->dev, d->dirty_hwpt_id, NULL);
	if (r < 0)
		return demo_fail("replacing the domain with the dirty-tracking one", r);
	step(d, "dirty tracking: device moved to hardware page table %u -> %s", d->dirty_hwpt_id,
	     state_of(d));
	r = iommufd_hwpt_set_dirty_tracking(d->ctx, d->dirty_hwpt_id, true);
	if (r < 0)
		return demo_fail("IOMMU_HWPT_SET_DIRTY_TRACKING (enable)", r);
	/* read and clear anything already dirty: the round starts clean */
	r = iommufd_hwpt_get_dirty_bitmap(d->ctx, d->dirty_hwpt_id, d->iova, DEMO_PIN, DEMO_PAGE,
					  bitmap, 0);
	if (r < 0)
		return demo_fail("IOMMU_HWPT_GET_DIRTY_BITMAP", r);
	dirty_runs(d, bitmap, runs, sizeof(runs));
	step(d, "dirty tracking: on; dirty pages before any DMA:%s", runs);

	memset(d->buf + dst, 0, EDU_XFER);
	r = edu_dma(d, d->iova, EDU_BUF, EDU_XFER, false);
	if (r == 0)
		r = edu_dma(d, EDU_BUF, d->iova + dst, EDU_XFER, true);
	if (r < 0)
		return demo_fail("edu DMA", r);
	step(d, "dirty tracking: device read %llu bytes at iova 0x%llx, wrote them at iova 0x%llx (buffer pages %llu-%llu)",
	     EDU_XFER, (unsigned long long)d->iova, (unsigned long long)(d->iova + dst),
	     (unsigned long long)first, (unsigned long long)last);
	bitmap[0] = 0;
	r = iommufd_hwpt_get_dirty_bitmap(d->ctx, d->dirty_hwpt_id, d->iova, DEMO_PIN, DEMO_PAGE,
					  bitmap, 0);
	if (r < 0)
		return demo_fail("IOMMU_HWPT_GET_DIRTY_BITMAP", r);
	dirty_runs(d, bitmap, runs, sizeof(runs));
	step(d, "dirty tracking: bitmap of the %llu pages (read and cleared): dirty pages:%s",
	     DEMO_PIN / DEMO_PAGE, runs);
	for (uint64_t p = first; p <= last; p++)
		expect |= 1ull << p;
	if (bitmap[0] != expect || memcmp(d->buf + dst, d->buf, EDU_XFER)) {
		errorf("demo: dirty check FAILED: dirty bitmap 0x%llx, the device wrote pages %llu-%llu (0x%llx)%s",
		       (unsigned long long)bitmap[0], (unsigned long long)first,
		       (unsigned long long)last, (unsigned long long)expect,
		       memcmp(d->buf + dst, d->buf, EDU_XFER) ? ", and its bytes do not match" : "");
		return EXIT_FAILED;
	}
	step(d, "dirty check: OK, exactly the %llu page(s) the device wrote are dirty, not the one it read",
	     (unsigned long long)(last - first + 1));
	r = iommufd_hwpt_set_dirty_tracking(d->ctx, d->dirty_hwpt_id, false);
	if (r < 0)
		return demo_fail("IOMMU_HWPT_SET_DIRTY_TRACKING (disable)", r);
	step(d, "dirty tracking: off");
	r = iommufd_device_attach(d->dev, d->ioas_id, &d->hwpt_id);
	if (r < 0)
		return demo_fail("attaching back to the IOAS", r);
	step(d, "dirty tracking: device back on IOAS %u (auto hardware page table %u) -> %s", d->ioas_id,
	     d->hwpt_id, state_of(d));
	return 0;
}

static int demo_run(struct demo *d, const char *device)
{
	int r;

	if (device) {
		r = iommufd_ctx_new(&d->ctx);
		if (r == 0)
			printf("backend: the kernel, %s mode (%s), device %s\n",
			       iommufd_mode_name(iommufd_ctx_get_mode(d->ctx)),
			       iommufd_ctx_get_mode(d->ctx) == IOMMUFD_MODE_TYPE1 ? "/dev/vfio/vfio" : "/dev/iommu",
			       device);
	} else {
#ifdef IOMMUFD_HAVE_EMU
		r = iommufd_emu_new(&d->emu);
		if (r < 0) {
			errorf("demo: creating the emulator: %s", iommufd_emu_last_error());
			return EXIT_FAILED;
		}
		printf("backend: the emulator (an in-process model of the kernel; --device BDF for a real one)\n");
		r = iommufd_emu_ctx_new(d->emu, &d->ctx);
#else
		errorf("demo: this build has no emulator (built with -Demulator=false): give --device BDF");
		return EXIT_USAGE;
#endif
	}
	if (r < 0)
		return device ? (demo_fail("opening /dev/iommu or /dev/vfio/vfio", r), EXIT_UNUSABLE) :
				demo_fail("iommufd_ctx_new", r);
	step(d, "context: %s open (fd %d)",
	     iommufd_ctx_get_mode(d->ctx) == IOMMUFD_MODE_TYPE1 ? "/dev/vfio/vfio (type1 mode)" : "/dev/iommu",
	     iommufd_ctx_get_fd(d->ctx));
	r = iommufd_ioas_alloc(d->ctx, &d->ioas_id);
	if (r < 0)
		return demo_fail("IOMMU_IOAS_ALLOC", r);
	step(d, "ioas: I/O address space %u allocated", d->ioas_id);
	if ((r = demo_open(d, device)) || (r = demo_bind_attach(d)))
		return r;

	d->buf = mmap(NULL, DEMO_PIN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->buf == MAP_FAILED) {
		d->buf = NULL;
		return demo_fail("mmap of the buffer", -errno);
	}
	memset(d->buf, 0, DEMO_PIN);
	if ((r = demo_pick_iova(d)))
		return r;
	r = iommufd_ioas_map(d->ctx, d->ioas_id, d->buf, DEMO_PIN, &d->iova,
			     IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
	if (r < 0)
		return demo_fail(r == -ENOMEM ? "IOMMU_IOAS_MAP (memlock limit? see `iommufd info`)" : "IOMMU_IOAS_MAP", r);
	d->mapped = true;
	step(d, "map: %llu KiB buffer at %p -> iova 0x%llx (read/write, pinned)",
	     DEMO_PIN >> 10, (void *)d->buf, (unsigned long long)d->iova);
	if ((r = demo_dma(d)) || (r = demo_dirty(d)))
		return r;
	return 0;
}

/* teardown in reverse order, each step checked */
static int demo_teardown(struct demo *d, int rc)
{
	uint64_t unmapped = 0;
	int r;

	if (d->dev && iommufd_device_get_state(d->dev) == IOMMUFD_DEVICE_ATTACHED &&
	    iommufd_ctx_get_mode(d->ctx) == IOMMUFD_MODE_TYPE1) {
		step(d, "teardown: type1 mode: no detach, the device leaves the container when closed");
	} else if (d->dev && iommufd_device_get_state(d->dev) == IOMMUFD_DEVICE_ATTACHED) {
		r = iommufd_device_detach(d->dev);
		if (r < 0)
			rc = rc ?: demo_fail("VFIO_DEVICE_DETACH_IOMMUFD_PT", r);
		else
			step(d, "teardown: detach -> %s", state_of(d));
	}
	if (d->dev) {
		iommufd_device_unref(d->dev);
		step(d, "teardown: device closed (unbound)");
	}
	if (d->dirty_hwpt_id) {
		r = iommufd_destroy(d->ctx, d->dirty_hwpt_id);
		if (r < 0)
			rc = rc ?: demo_fail("IOMMU_DESTROY of the dirty-tracking page table", r);
		else
			step(d, "teardown: dirty-tracking page table %u destroyed", d->dirty_hwpt_id);
	}
	if (d->mapped) {
		r = iommufd_ioas_unmap_all(d->ctx, d->ioas_id, &unmapped);
		if (r < 0)
			rc = rc ?: demo_fail("IOMMU_IOAS_UNMAP", r);
		else
			step(d, "teardown: unmapped %llu KiB", (unsigned long long)unmapped >> 10);
	}
	if (d->ioas_id) {
		r = iommufd_destroy(d->ctx, d->ioas_id);
		if (r < 0)
			rc = rc ?: demo_fail("IOMMU_DESTROY of the IOAS", r);
		else
			step(d, "teardown: IOAS %u destroyed", d->ioas_id);
	}
	if (d->ctx) {
		iommufd_ctx_unref(d->ctx);
		step(d, "teardown: context closed");
	}
	if (d->buf)
		munmap(d->buf, DEMO_PIN);
#ifdef IOMMUFD_HAVE_EMU
	iommufd_emu_unref(d->emu);
#endif
	printf("demo: %s\n", rc ? "FAILED" : "done");
	return rc;
}

static int demo_main(const struct tool_args *args)
{
	struct demo d = { 0 };

	return demo_teardown(&d, demo_run(&d, args->device));
}

const struct tool_cmd tool_cmd_demo = {
	.name = "demo",
	.help = "context, IOAS, device bind/attach, map, DMA and its check, dirty tracking,\n"
		"teardown: on an emulated edu device, or on a real one with --device",
	.opts = TOOL_OPT_DEVICE,
	.run = demo_main,
};
