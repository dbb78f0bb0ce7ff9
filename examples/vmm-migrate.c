/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Live migration of guest RAM the way a VMM does it for DMA-capable devices,
 * with the IOMMU's dirty tracking:
 *
 *  1. Guest RAM is a memfd (64 MiB), mapped into an IOAS with MAP_FILE at its
 *     guest-physical addresses (IOVA = GPA), as a VMM maps RAM for its devices.
 *  2. A device is attached to a HWPT (an IOMMU page table) allocated with
 *     IOMMUFD_HWPT_DIRTY_TRACKING: each DMA write of the device sets the dirty
 *     bit of the page table entry it goes through.
 *  3. Migration: start tracking, copy all of RAM to the destination while the
 *     guest (here: its device) keeps writing, then again and again copy only
 *     the pages the dirty bitmap reports, until the dirty set is small enough
 *     (it converges); then pause the guest, copy the last dirty pages
 *     ("stop and copy") and check that the destination equals the source.
 *
 *   cc vmm-migrate.c $(pkg-config --cflags --libs libiommufd) -o vmm-migrate
 *   ./vmm-migrate                                   (a kernel with the mock)
 *   LD_PRELOAD=libiommufd-preload.so ./vmm-migrate  (anywhere: the emulator)
 *
 * The device. Dirty tracking needs an IOMMU that has it, and neither the
 * VT-d that QEMU emulates nor a plain VFIO device give one in a test VM. So
 * the device is the kernel's own test device: the "mock domain" of the iommufd
 * selftests (CONFIG_IOMMUFD_TEST, IOMMU_TEST_CMD), which the emulator
 * implements too, so the one code path below runs on both. A mock device has
 * a real dirty-tracking page table but cannot move data, so this program
 * plays its DMA engine: it stores into guest RAM and then reports the pages
 * it wrote with the mock's DIRTY operation, which sets their dirty bits as an
 * IOMMU walking a DMA write does. Everything else (HWPT allocation, tracking,
 * reading the bitmap) is the normal public API a VMM would use with any
 * device (iommufd_device_bind/attach instead of the mock's creation call).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create() */
#endif
#include <iommufd.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM_SIZE (64ull << 20)
#define GPA_BASE (16ull << 20) /* guest RAM base: where the mock IOMMU's aperture starts */
#define PAGE 4096ull
#define NPAGES (RAM_SIZE / PAGE)
#define BITMAP_WORDS (NPAGES / 64)

#define FIRST_BURST 4096 /* page writes of the device in the first round; halves every round */
#define CONVERGED 16     /* a dirty set this small is copied with the guest paused */
#define MAX_ROUNDS 30

/*
 * The kernel selftest ABI (include/uapi/linux/iommufd_test.h of the kernel
 * tree; not a stable UAPI, only in kernels built with CONFIG_IOMMUFD_TEST):
 * only the fields used here, under our own names.
 */
#define MOCK_CMD _IO(';', 0x80 + 32) /* IOMMU_TEST_CMD */
enum {
	MOCK_OP_MOCK_DOMAIN = 2,          /* create a mock device, bind it, attach it to id */
	MOCK_OP_MOCK_DOMAIN_REPLACE = 10, /* re-attach mock device id to pt_id */
	MOCK_OP_DIRTY = 13,               /* set the dirty bits of the pages in a bitmap */
};
struct mock_cmd {
	uint32_t size;
	uint32_t op;
	uint32_t id;
	uint32_t reserved;
	union {
		struct {
			uint32_t out_stdev_id; /* the mock device (DESTROY it to remove it) */
			uint32_t out_hwpt_id;
			uint32_t out_idev_id;  /* its DEVICE object (as a bind gives) */
		} mock_domain;
		struct {
			uint32_t pt_id;
		} replace;
		struct {
			uint32_t flags;
			uint64_t iova;
			uint64_t length;
			uint64_t page_size;
			uint64_t uptr; /* bitmap: bit i = iova + i * page_size */
			uint64_t out_nr_dirty;
		} dirty;
		uint64_t space[6];
	};
	uint32_t last;
};
_Static_assert(sizeof(struct mock_cmd) == 72, "the kernel's struct iommu_test_cmd is 72 bytes");

struct vm {
	struct iommufd_ctx *ctx;
	uint32_t ioas, hwpt, stdev, idev;
	uint8_t *ram;        /* guest RAM: the source */
	uint8_t *dst;        /* the "destination host" */
	uint64_t bitmap[BITMAP_WORDS];
	uint64_t rng;
};

static int fail(const char *what, int r)
{
	fprintf(stderr, "vmm-migrate: %s: %s (%s)\n", what, strerror(-r), iommufd_last_error());
	return r;
}

static int mock(struct vm *vm, struct mock_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return iommufd_ctx_ioctl(vm->ctx, MOCK_CMD, cmd);
}

static uint64_t rnd(struct vm *vm)
{
	/* xorshift64: a fixed, reproducible stream of "guest activity" */
	vm->rng ^= vm->rng << 13;
	vm->rng ^= vm->rng >> 7;
	vm->rng ^= vm->rng << 17;
	return vm->rng;
}

/*
 * The device DMAs into n random pages of guest RAM: the data lands in RAM and
 * the IOMMU marks the pages dirty (the mock's DIRTY op, see the top comment).
 */
static int device_writes(struct vm *vm, unsigned int n)
{
	uint64_t written[BITMAP_WORDS] = { 0 };
	struct mock_cmd cmd = { .op = MOCK_OP_DIRTY, .id = vm->hwpt };
	int r;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t page = rnd(vm) % NPAGES, off = rnd(vm) % (PAGE / 8) * 8, val = rnd(vm);

		memcpy(vm->ram + page * PAGE + off, &val, 8);
		written[page / 64] |= 1ull << (page % 64);
	}
	cmd.dirty.iova = GPA_BASE;
	cmd.dirty.length = RAM_SIZE;
	cmd.dirty.page_size = PAGE;
	cmd.dirty.uptr = (uintptr_t)written;
	r = mock(vm, &cmd);
	return r < 0 ? fail("IOMMU_TEST_CMD(DIRTY)", r) : 0;
}

/*
 * One sync of the migration: read (and clear) the dirty bitmap of all guest
 * RAM, copy every dirty run of pages to the destination. Returns the number
 * of pages copied, or -errno.
 */
static int64_t copy_dirty(struct vm *vm)
{
	uint64_t pos = 0, start, count, copied = 0;
	int r;

	memset(vm->bitmap, 0, sizeof(vm->bitmap)); /* the kernel only sets bits */
	r = iommufd_hwpt_get_dirty_bitmap(vm->ctx, vm->hwpt, GPA_BASE, RAM_SIZE, PAGE,
					  vm->bitmap, 0);
	if (r < 0)
		return fail("iommufd_hwpt_get_dirty_bitmap", r);
	while (iommufd_bitmap_next_run(vm->bitmap, NPAGES, &pos, &start, &count) == 1) {
		memcpy(vm->dst + start * PAGE, vm->ram + start * PAGE, count * PAGE);
		copied += count;
	}
	return (int64_t)copied;
}

/* Guest RAM and its device: memfd, IOAS mapping, mock device on a dirty-tracking HWPT. */
static int setup(struct vm *vm, int memfd)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, opts, .flags = IOMMUFD_HWPT_DIRTY_TRACKING);
	struct mock_cmd cmd = { .op = MOCK_OP_MOCK_DOMAIN };
	uint64_t gpa = GPA_BASE;
	int r;

	r = iommufd_ctx_new(&vm->ctx);
	if (r < 0)
		return fail("iommufd_ctx_new", r);
	r = iommufd_ioas_alloc(vm->ctx, &vm->ioas);
	if (r < 0)
		return fail("iommufd_ioas_alloc", r);
	/*
	 * Dirty bits live in page table entries: with huge pages a single write
	 * would dirty 2 MiB. Keep small entries so a dirty bit means one page.
	 */
	r = iommufd_ioas_set_huge_pages(vm->ctx, vm->ioas, false);
	if (r < 0)
		return fail("iommufd_ioas_set_huge_pages", r);

	/* The device, attached to the IOAS (through an automatic HWPT, without tracking). */
	cmd.id = vm->ioas;
	r = mock(vm, &cmd);
	if (r < 0)
		return fail("IOMMU_TEST_CMD(MOCK_DOMAIN): a kernel with CONFIG_IOMMUFD_TEST?", r);
	vm->stdev = cmd.mock_domain.out_stdev_id;
	vm->idev = cmd.mock_domain.out_idev_id;

	/* A HWPT of our own on the same IOAS, that can track dirty pages; move the device to it. */
	r = iommufd_hwpt_alloc(vm->ctx, vm->idev, vm->ioas, &opts, &vm->hwpt);
	if (r < 0)
		return fail("iommufd_hwpt_alloc(DIRTY_TRACKING)", r);
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = MOCK_OP_MOCK_DOMAIN_REPLACE;
	cmd.id = vm->stdev;
	cmd.replace.pt_id = vm->hwpt;
	r = mock(vm, &cmd);
	if (r < 0)
		return fail("IOMMU_TEST_CMD(MOCK_DOMAIN_REPLACE)", r);

	/* Guest RAM at its guest-physical address: IOVA == GPA. */
	r = iommufd_ioas_map_file(vm->ctx, vm->ioas, memfd, 0, RAM_SIZE, &gpa,
				  IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
	if (r < 0)
		return fail("iommufd_ioas_map_file", r);
	printf("guest RAM: %llu MiB memfd at GPA 0x%llx; device %u on HWPT %u (dirty tracking)\n",
	       RAM_SIZE >> 20, (unsigned long long)gpa, vm->idev, vm->hwpt);
	return 0;
}

static int migrate(struct vm *vm)
{
	unsigned int round, burst = FIRST_BURST;
	int64_t dirty, prev = -1;
	int r;

	/* Tracking starts from a clean slate, then the first pass copies everything. */
	r = iommufd_hwpt_set_dirty_tracking(vm->ctx, vm->hwpt, true);
	if (r < 0)
		return fail("iommufd_hwpt_set_dirty_tracking", r);
	memcpy(vm->dst, vm->ram, RAM_SIZE);
	printf("round 0: copied all %llu pages\n", NPAGES);

	/*
	 * Iterative pre-copy: while we copied, the guest kept running. Copy what
	 * it dirtied, until what is left is small or stops shrinking.
	 */
	for (round = 1; round <= MAX_ROUNDS; round++) {
		r = device_writes(vm, burst);
		if (r < 0)
			return r;
		burst /= 2; /* each copy is shorter, so the guest dirties less meanwhile */
		dirty = copy_dirty(vm);
		if (dirty < 0)
			return (int)dirty;
		printf("round %u: copied %lld dirty pages\n", round, (long long)dirty);
		if (dirty <= CONVERGED || (prev >= 0 && dirty >= prev))
			break;
		prev = dirty;
	}

	/* Stop and copy: the last writes happen, the guest is paused, the rest is copied. */
	r = device_writes(vm, burst + 1);
	if (r < 0)
		return r;
	dirty = copy_dirty(vm);
	if (dirty < 0)
		return (int)dirty;
	printf("stop and copy: %lld dirty pages\n", (long long)dirty);
	r = iommufd_hwpt_set_dirty_tracking(vm->ctx, vm->hwpt, false);
	if (r < 0)
		return fail("iommufd_hwpt_set_dirty_tracking(off)", r);

	for (uint64_t p = 0; p < NPAGES; p++) {
		if (memcmp(vm->dst + p * PAGE, vm->ram + p * PAGE, PAGE) != 0) {
			fprintf(stderr, "vmm-migrate: page %llu (GPA 0x%llx) differs\n",
				(unsigned long long)p, (unsigned long long)(GPA_BASE + p * PAGE));
			return -EIO;
		}
	}
	printf("migrated in %u rounds: destination equals source (%llu MiB)\n",
	       round > MAX_ROUNDS ? MAX_ROUNDS : round, RAM_SIZE >> 20);
	return 0;
}

int main(void)
{
	struct vm *vm;
	int memfd, r;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return 1;
	vm->rng = 0x9e3779b97f4a7c15ull;

	/* Guest RAM: a memfd the VMM maps for itself (and would share with other processes). */
	memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, RAM_SIZE) < 0) {
		perror("vmm-migrate: memfd");
		return 1;
	}
	vm->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	vm->dst = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->ram == MAP_FAILED || vm->dst == MAP_FAILED) {
		perror("vmm-migrate: mmap");
		return 1;
	}
	for (uint64_t p = 0; p < NPAGES; p++) /* something to migrate: each page says who it is */
		memcpy(vm->ram + p * PAGE, &p, sizeof(p));

	r = setup(vm, memfd);
	if (r == 0)
		r = migrate(vm);

	/* Teardown: the mock device, its HWPT, the mapping; closing the context would do it all. */
	if (vm->stdev)
		iommufd_destroy(vm->ctx, vm->stdev);
	if (vm->hwpt)
		iommufd_destroy(vm->ctx, vm->hwpt);
	if (vm->ctx)
		iommufd_ioas_unmap_all(vm->ctx, vm->ioas, NULL);
	iommufd_ctx_unref(vm->ctx);
	munmap(vm->ram, RAM_SIZE);
	munmap(vm->dst, RAM_SIZE);
	close(memfd);
	free(vm);
	return r < 0 ? 1 : 0;
}
