/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Live migration of a VFIO device the way a VMM does it with a migration
 * driver (mlx5-vfio-pci, pds-vfio-pci...): the device's own state through
 * MIG_DEVICE_STATE and its data fd, and the guest RAM it writes through the
 * device's DMA logging (no IOMMU dirty tracking needed).
 *
 *  1. The source: guest RAM (1 MiB at guest-physical 1 MiB, IOVA = GPA) in an
 *     IOAS, an edu attached to it and working (its DMA buffer loaded from
 *     RAM, its registers set). The destination: its own RAM, IOAS and edu.
 *  2. DMA logging starts on the RAM range; all of RAM is copied.
 *  3. PRE_COPY rounds while the device keeps running: the data fd's initial
 *     and then dirty data are read and "sent" (appended to a buffer standing
 *     for the wire), the pages the device wrote are reported and copied,
 *     until VFIO_MIG_GET_PRECOPY_INFO and the log say little is left.
 *  4. STOP_COPY: the device stops; the rest of its state is read to the end
 *     of the stream, the last dirty pages are copied, logging stops.
 *  5. The destination edu: STOP -> RESUMING, the stream written, -> RUNNING.
 *  6. The check: the destination's RAM equals the source's, its registers
 *     equal the source's, and its DMA buffer too (both edus DMA it into RAM).
 *
 *   cc migrate.c $(pkg-config --cflags --libs libiommufd) -o migrate
 *   LD_PRELOAD=libiommufd-preload.so \
 *   IOMMUFD_EMU_DEVICES=edu+migration@0000:00:02.0,edu+migration@0000:00:04.0 ./migrate
 *
 * QEMU's edu has no migration driver in a kernel: there every call answers
 * ENOTTY and the program says so and exits 77 (skipped). It needs two such
 * devices, which its meson test makes (IOMMUFD_EMU_DEVICES above), so
 * install-test: build only
 */
#include <iommufd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GPA_BASE 0x100000ull
#define RAM_SIZE (1ull << 20)
#define PAGE 4096ull
#define NPAGES (RAM_SIZE / PAGE)
#define XFER 2048 /* bytes per edu DMA (its buffer is 4 KiB) */
#define MAX_ROUNDS 8
#define STREAM_MAX (1u << 20)

/* edu's registers (QEMU's hw/misc/edu.c) */
#define EDU_LIVE 0x04
#define EDU_FACT 0x08
#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000

struct side {
	const char *name;
	struct iommufd_device *dev;
	uint32_t ioas;
	uint8_t *ram;
};

static int die(const char *what)
{
	fprintf(stderr, "migrate: %s: %s\n", what, iommufd_last_error());
	return 1;
}

/* edu takes 4-byte accesses below 0x80, 8-byte ones to its DMA registers */
static int reg_write(struct iommufd_device *dev, uint64_t off, uint64_t v)
{
	size_t w = off < 0x80 ? 4 : 8;
	uint32_t v32 = (uint32_t)v;

	return iommufd_device_region_write(dev, IOMMUFD_PCI_BAR0_REGION, off, w == 4 ? (void *)&v32 : &v,
					   w) == (ssize_t)w ? 0 : -1;
}

static uint64_t reg_read(struct iommufd_device *dev, uint64_t off, size_t w)
{
	uint64_t v = 0;

	if (iommufd_device_region_read(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, w) != (ssize_t)w)
		return ~0ull;
	return v;
}

/* one edu DMA between RAM (guest-physical gpa) and its buffer */
static int edu_dma(struct iommufd_device *dev, uint64_t gpa, int to_ram)
{
	if (reg_write(dev, EDU_SRC, to_ram ? EDU_BUF : gpa) || reg_write(dev, EDU_DST, to_ram ? gpa : EDU_BUF) ||
	    reg_write(dev, EDU_CNT, XFER) ||
	    reg_write(dev, EDU_CMD, EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0)))
		return -1;
	/* through the device file the DMA is done when the write returns; poll
	 * anyway, as a driver does */
	for (int i = 0; i < 1000000 && (reg_read(dev, EDU_CMD, 8) & EDU_CMD_RUN); i++)
		;
	return 0;
}

/* a side: its RAM in an IOAS at GPA_BASE, its edu bound, attached, bus master on */
static int side_open(struct iommufd_ctx *ctx, struct side *s, const char *bdf)
{
	uint64_t iova = GPA_BASE;
	uint32_t cmd = 0;

	s->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->ram == MAP_FAILED)
		return -1;
	if (iommufd_ioas_alloc(ctx, &s->ioas) ||
	    iommufd_ioas_map(ctx, s->ioas, s->ram, RAM_SIZE, &iova,
			     IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE) ||
	    iommufd_device_open_pci(ctx, bdf, &s->dev) || iommufd_device_bind(s->dev, ctx, NULL, NULL) ||
	    iommufd_device_attach(s->dev, s->ioas, NULL) ||
	    iommufd_device_config_read(s->dev, 0x04, 2, &cmd) ||
	    iommufd_device_config_write(s->dev, 0x04, 2, cmd | 0x6))
		return -1;
	return 0;
}

/* read what the data fd has now into the wire: bytes, -1 on error; *end: end of stream */
static long send_data(struct side *s, int fd, uint8_t *wire, size_t *wire_len, int *end)
{
	long total = 0;

	*end = 0;
	for (;;) {
		ssize_t n = iommufd_device_mig_data_read(s->dev, fd, wire + *wire_len,
							 STREAM_MAX - *wire_len);

		if (n == -ENOMSG) /* PRE_COPY: nothing more for now */
			return total;
		if (n < 0)
			return -1;
		if (n == 0) {
			*end = 1;
			return total;
		}
		*wire_len += (size_t)n;
		total += n;
	}
}

/* report the pages the device wrote since the last report and copy them */
static long copy_dirty(struct side *src, struct side *dst, uint64_t *bitmap)
{
	uint64_t pos = 0, start, count;
	long pages = 0;

	memset(bitmap, 0, NPAGES / 8);
	if (iommufd_device_dma_log_report(src->dev, GPA_BASE, RAM_SIZE, PAGE, bitmap))
		return -1;
	while (iommufd_bitmap_next_run(bitmap, NPAGES, &pos, &start, &count) == 1) {
		memcpy(dst->ram + start * PAGE, src->ram + start * PAGE, count * PAGE);
		pages += (long)count;
	}
	return pages;
}

int main(int argc, char **argv)
{
	struct side src = { .name = "source" }, dst = { .name = "destination" };
	const char *src_bdf = argc > 1 ? argv[1] : "0000:00:02.0";
	const char *dst_bdf = argc > 2 ? argv[2] : "0000:00:04.0";
	struct iommufd_dma_log_range range = { .iova = GPA_BASE, .length = RAM_SIZE };
	IOMMUFD_OPTS(struct iommufd_mig_precopy_info, info);
	uint64_t flags = 0, page = PAGE, size = 0, bitmap[NPAGES / 64];
	static const uint64_t regs[] = { EDU_LIVE, EDU_FACT, EDU_SRC, EDU_DST, EDU_CNT };
	struct iommufd_ctx *ctx = NULL;
	uint8_t *wire = malloc(STREAM_MAX);
	size_t wire_len = 0;
	int fd = -1, dfd = -1, end = 0, bad = 0, round;
	long n;

	if (!wire)
		return 1;
	if (iommufd_ctx_new(&ctx))
		return die("context");
	if (side_open(ctx, &src, src_bdf))
		return die("opening the source device");
	n = iommufd_device_get_migration(src.dev, &flags);
	if (n == -ENOTTY) {
		printf("migrate: %s has no migration driver (%s): skipped\n", src_bdf,
		       iommufd_last_error());
		return 77;
	}
	if (n)
		return die("MIGRATION");
	if (side_open(ctx, &dst, dst_bdf))
		return die("opening the destination device");
	iommufd_device_get_mig_data_size(src.dev, &size);
	printf("source %s: migration flags%s%s%s, about %llu bytes of device state\n", src_bdf,
	       flags & IOMMUFD_MIGRATION_STOP_COPY ? " STOP_COPY" : "",
	       flags & IOMMUFD_MIGRATION_P2P ? " P2P" : "",
	       flags & IOMMUFD_MIGRATION_PRE_COPY ? " PRE_COPY" : "", (unsigned long long)size);

	/* the guest at work: RAM with contents, the device loaded from it */
	for (size_t i = 0; i < RAM_SIZE; i++)
		src.ram[i] = (uint8_t)(i * 31 + (i >> 12));
	if (edu_dma(src.dev, GPA_BASE + 8 * PAGE, 0) || reg_write(src.dev, EDU_LIVE, 0x5eed) ||
	    reg_write(src.dev, EDU_FACT, 5))
		return die("driving the source edu");

	/* DMA logging, then RAM copied once whole */
	if (iommufd_device_dma_log_start(src.dev, &range, 1, &page))
		return die("DMA_LOGGING_START");
	memcpy(dst.ram, src.ram, RAM_SIZE);
	printf("DMA logging on [0x%llx, +0x%llx) at %llu-byte pages; RAM copied (%llu pages)\n",
	       (unsigned long long)GPA_BASE, (unsigned long long)RAM_SIZE, (unsigned long long)page,
	       (unsigned long long)NPAGES);

	/* PRE_COPY rounds: the device runs, its state and its RAM writes flow */
	if (flags & IOMMUFD_MIGRATION_PRE_COPY) {
		if (iommufd_device_set_mig_state(src.dev, IOMMUFD_MIG_STATE_PRE_COPY, &fd))
			return die("RUNNING -> PRE_COPY");
		for (round = 0; round < MAX_ROUNDS; round++) {
			long dirty;

			/* the device keeps working, less every round: DMAs into RAM, a new factorial */
			for (int k = 0; k < 3 - round; k++)
				if (edu_dma(src.dev, GPA_BASE + (uint64_t)(16 + round * 4 + k) * PAGE + 0x100, 1))
					return die("source DMA");
			if (round < 2 && reg_write(src.dev, EDU_FACT, 6 + (uint64_t)round))
				return die("source register");
			if (iommufd_device_mig_precopy_info(src.dev, fd, &info))
				return die("VFIO_MIG_GET_PRECOPY_INFO");
			n = send_data(&src, fd, wire, &wire_len, &end);
			dirty = copy_dirty(&src, &dst, bitmap);
			if (n < 0 || dirty < 0)
				return die("PRE_COPY round");
			printf("PRE_COPY round %d: initial %llu, dirty %llu bytes; sent %ld bytes; "
			       "%ld dirty pages copied\n", round, (unsigned long long)info.initial_bytes,
			       (unsigned long long)info.dirty_bytes, n, dirty);
			if (!n && !dirty)
				break; /* converged */
		}
		/* PRE_COPY -> STOP_COPY: the same session goes on */
		if (iommufd_device_set_mig_state(src.dev, IOMMUFD_MIG_STATE_STOP_COPY, NULL))
			return die("PRE_COPY -> STOP_COPY");
	} else if (iommufd_device_set_mig_state(src.dev, IOMMUFD_MIG_STATE_STOP_COPY, &fd)) {
		return die("RUNNING -> STOP_COPY");
	}

	/* stopped: the rest of the state, the last dirty pages */
	n = send_data(&src, fd, wire, &wire_len, &end);
	if (n < 0 || !end)
		return die("STOP_COPY: reading to the end of the stream");
	n = copy_dirty(&src, &dst, bitmap);
	if (n < 0 || iommufd_device_dma_log_stop(src.dev))
		return die("the last dirty pages");
	printf("STOP_COPY: stream complete, %zu bytes in all; %ld last dirty pages copied\n", wire_len, n);
	iommufd_device_mig_data_close(src.dev, fd);

	/* the destination takes the stream */
	if (iommufd_device_set_mig_state(dst.dev, IOMMUFD_MIG_STATE_RESUMING, &dfd))
		return die("destination -> RESUMING");
	for (size_t off = 0; off < wire_len;) {
		ssize_t w = iommufd_device_mig_data_write(dst.dev, dfd, wire + off, wire_len - off);

		if (w <= 0)
			return die("writing the stream");
		off += (size_t)w;
	}
	if (iommufd_device_set_mig_state(dst.dev, IOMMUFD_MIG_STATE_RUNNING, NULL))
		return die("destination RESUMING -> RUNNING");
	iommufd_device_mig_data_close(dst.dev, dfd);
	printf("destination %s: resumed and RUNNING\n", dst_bdf);

	/* the check: RAM, registers, the DMA buffer */
	if (memcmp(src.ram, dst.ram, RAM_SIZE)) {
		printf("FAIL: the destination's RAM differs\n");
		bad = 1;
	}
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		uint64_t a = reg_read(src.dev, regs[i], 4), b = reg_read(dst.dev, regs[i], 4);

		printf("register 0x%02llx: source 0x%llx, destination 0x%llx\n",
		       (unsigned long long)regs[i], (unsigned long long)a, (unsigned long long)b);
		bad |= a != b;
	}
	/* the source back to RUNNING (as after a migration that is abandoned);
	 * both DMA their buffers into a page nobody wrote */
	if (iommufd_device_set_mig_state(src.dev, IOMMUFD_MIG_STATE_RUNNING, NULL) ||
	    edu_dma(src.dev, GPA_BASE + 200 * PAGE, 1) || edu_dma(dst.dev, GPA_BASE + 200 * PAGE, 1))
		return die("the buffers' check");
	if (memcmp(src.ram + 200 * PAGE, dst.ram + 200 * PAGE, XFER)) {
		printf("FAIL: the destination's DMA buffer differs\n");
		bad = 1;
	}
	printf("%s\n", bad ? "migration FAILED" : "migration OK: the destination equals the source");

	iommufd_device_unref(src.dev);
	iommufd_device_unref(dst.dev);
	iommufd_ctx_unref(ctx);
	munmap(src.ram, RAM_SIZE);
	munmap(dst.ram, RAM_SIZE);
	free(wire);
	return bad;
}
