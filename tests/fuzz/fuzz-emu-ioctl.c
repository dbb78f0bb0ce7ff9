// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the emulator's iommufd ioctl dispatch (lib/emu/main.c and
 * what it calls). Each input builds a fresh emulator and context (plus, when
 * the first byte says so, an emulated edu device opened and bound through the
 * device API) and is read as a sequence of operations:
 *
 *   op byte, then the bytes it consumes
 *     op % 32 < 21: an iommufd command (index into cmds[] below); the struct
 *                   comes from the input, with its size chosen from
 *                   {kernel size, minimum, a few bytes more, raw}, object IDs
 *                   reduced to small numbers, and every user pointer
 *                   (user_va, allowed_iovas, data_uptr, data) replaced by a
 *                   pointer into a scratch buffer owned by the harness, which
 *                   a PROT_NONE guard follows, so only the emulator's logic
 *                   is fuzzed, never wild pointers
 *     else:         a VFIO type1 compat request on the iommufd fd, or a
 *                   device operation (attach, detach, pasid attach/detach,
 *                   edu DMA through the device file, config access, reset,
 *                   device-side page fault and vEVENT), or (op 27) a raw
 *                   VFIO_DEVICE_FEATURE, GET_PCI_HOT_RESET_INFO or
 *                   PCI_HOT_RESET on the device file
 *
 * With setup bit 0x10 (and the edu bit) the VFIO requests go instead to a
 * type1 container (/dev/vfio/vfio, lib/emu/type1.c) that edu's group has
 * joined, with dirty-page requests and the group's GET_DEVICE_FD and
 * UNSET/SET_CONTAINER among them; edu is then not opened through its cdev.
 *
 * One emulator per device setup (none, or edu with its flags and address)
 * serves every input with that setup, made at the first: building an
 * emulator and its device costs far more than most inputs (a BAR0 memfd,
 * its pages), so a new one per input ran at a few dozen inputs a second. At
 * the end of each input the harness releases what it holds and emu_reset()
 * (lib/emu/emu.h, internal) closes every fd the input left open and powers
 * the device on again; the input's objects, contexts and files must all be
 * gone by then (emu_reset() counts them): a leftover aborts, as a leak.
 * The harness reaches edu's BAR0 through the device file only, never an
 * mmap, so no device-model thread runs (lib/emu/bar-thread.c: it starts
 * when a served BAR0 is mapped or exported as a dma-buf, and an input that
 * exports one pays for its start and join) and a reset does not refill the
 * 1 MiB BAR0 (edu_init_regs()): an input costs what its requests cost.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iommufd-emu.h>

#include "emu/emu.h" /* emu_reset() */
#include "shared/abi.h"
#include "shared/backend.h" /* raw ioctls on the container and group fds */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PS 4096u
#define SCRATCH_PAGES 64u
#define SCRATCH_SIZE (SCRATCH_PAGES * PS)
#define GUARD_SIZE (16u * PS)

static uint8_t *scratch;
static int memfd = -1;
static bool debug; /* FUZZ_DEBUG set: print each request and its result */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t get8(struct in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static uint32_t get32(struct in *in)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v |= (uint32_t)get8(in) << (8 * i);
	return v;
}

static uint64_t get64(struct in *in)
{
	return get32(in) | (uint64_t)get32(in) << 32;
}

static void getbytes(struct in *in, void *dst, size_t len)
{
	size_t n = len < in->n ? len : in->n;

	memcpy(dst, in->p, n);
	memset((uint8_t *)dst + n, 0, len - n);
	in->p += n;
	in->n -= n;
}

/* field rewrite rules */
enum kind { F_END, F_ID, F_PTR, F_IOVA, F_LEN, F_NUM };
struct field {
	uint8_t kind;
	uint8_t off;
};

struct cmd {
	unsigned long req;
	uint32_t ksize, min;
	struct field f[8];
};

#define C(NR, S, M, ...) { KABI_IO(KABI_CMD_##NR), S, M, { __VA_ARGS__ } }
#define O(T, m) (uint8_t)offsetof(struct kabi_##T, m)
static const struct cmd cmds[] = {
	C(DESTROY, 8, 8, { F_ID, O(destroy, id) }),
	C(IOAS_ALLOC, 12, 12, { F_END, 0 }),
	C(IOAS_ALLOW_IOVAS, 24, 24, { F_ID, O(ioas_allow_iovas, ioas_id) },
	  { F_NUM, O(ioas_allow_iovas, num_iovas) },
	  { F_PTR, O(ioas_allow_iovas, allowed_iovas) }),
	C(IOAS_COPY, 40, 40, { F_ID, O(ioas_copy, dst_ioas_id) },
	  { F_ID, O(ioas_copy, src_ioas_id) }, { F_LEN, O(ioas_copy, length) },
	  { F_IOVA, O(ioas_copy, dst_iova) }, { F_IOVA, O(ioas_copy, src_iova) }),
	C(IOAS_IOVA_RANGES, 32, 32, { F_ID, O(ioas_iova_ranges, ioas_id) },
	  { F_NUM, O(ioas_iova_ranges, num_iovas) },
	  { F_PTR, O(ioas_iova_ranges, allowed_iovas) }),
	C(IOAS_MAP, 40, 40, { F_ID, O(ioas_map, ioas_id) }, { F_PTR, O(ioas_map, user_va) },
	  { F_LEN, O(ioas_map, length) }, { F_IOVA, O(ioas_map, iova) }),
	C(IOAS_UNMAP, 24, 24, { F_ID, O(ioas_unmap, ioas_id) }, { F_IOVA, O(ioas_unmap, iova) },
	  { F_LEN, O(ioas_unmap, length) }),
	C(OPTION, 24, 24, { F_ID, O(option, object_id) }),
	C(VFIO_IOAS, 12, 12, { F_ID, O(vfio_ioas, ioas_id) }),
	C(HWPT_ALLOC, 48, 24, { F_ID, O(hwpt_alloc, dev_id) }, { F_ID, O(hwpt_alloc, pt_id) },
	  { F_NUM, O(hwpt_alloc, data_len) }, { F_PTR, O(hwpt_alloc, data_uptr) },
	  { F_ID, O(hwpt_alloc, fault_id) }),
	C(GET_HW_INFO, 40, 32, { F_ID, O(hw_info, dev_id) }, { F_NUM, O(hw_info, data_len) },
	  { F_PTR, O(hw_info, data_uptr) }),
	C(HWPT_SET_DIRTY_TRACKING, 16, 16, { F_ID, O(hwpt_set_dirty_tracking, hwpt_id) }),
	C(HWPT_GET_DIRTY_BITMAP, 48, 48, { F_ID, O(hwpt_get_dirty_bitmap, hwpt_id) },
	  { F_IOVA, O(hwpt_get_dirty_bitmap, iova) }, { F_LEN, O(hwpt_get_dirty_bitmap, length) },
	  { F_PTR, O(hwpt_get_dirty_bitmap, data) }),
	C(HWPT_INVALIDATE, 32, 32, { F_ID, O(hwpt_invalidate, hwpt_id) },
	  { F_PTR, O(hwpt_invalidate, data_uptr) }, { F_NUM, O(hwpt_invalidate, entry_len) },
	  { F_NUM, O(hwpt_invalidate, entry_num) }),
	C(FAULT_QUEUE_ALLOC, 16, 16, { F_END, 0 }),
	C(IOAS_MAP_FILE, 40, 40, { F_ID, O(ioas_map_file, ioas_id) },
	  { F_IOVA, O(ioas_map_file, start) }, { F_LEN, O(ioas_map_file, length) },
	  { F_IOVA, O(ioas_map_file, iova) }),
	C(VIOMMU_ALLOC, 40, 24, { F_ID, O(viommu_alloc, dev_id) },
	  { F_ID, O(viommu_alloc, hwpt_id) }, { F_NUM, O(viommu_alloc, data_len) },
	  { F_PTR, O(viommu_alloc, data_uptr) }),
	C(VDEVICE_ALLOC, 24, 24, { F_ID, O(vdevice_alloc, viommu_id) },
	  { F_ID, O(vdevice_alloc, dev_id) }),
	C(IOAS_CHANGE_PROCESS, 8, 8, { F_END, 0 }),
	C(VEVENTQ_ALLOC, 32, 28, { F_ID, O(veventq_alloc, viommu_id) }),
	C(HW_QUEUE_ALLOC, 40, 40, { F_ID, O(hw_queue_alloc, viommu_id) },
	  { F_IOVA, O(hw_queue_alloc, nesting_parent_iova) },
	  { F_LEN, O(hw_queue_alloc, length) }),
};
#undef C
#undef O
#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, 8);
}

/* a small object ID (the emulator numbers from 1), sometimes kept raw */
static uint32_t fix_id(uint32_t v)
{
	return (v & 0x80000000u) ? v : v % 16;
}

/* an IOVA: mostly page multiples below 1 MiB, sometimes unaligned or raw */
static uint64_t fix_iova(uint64_t v)
{
	switch (v & 3) {
	case 0:
		return ((v >> 8) & 0xff) * PS;
	case 1:
		return ((v >> 8) & 0xff) * PS + ((v >> 16) & 0xfff);
	case 2:
		return v & ~(uint64_t)(PS - 1);
	default:
		return v;
	}
}

static uint64_t fix_len(uint64_t v)
{
	switch (v & 3) {
	case 0:
		return ((v >> 8) & 0x3f) * PS;
	case 1:
		return (v >> 8) & 0xffff;
	case 2:
		return ((v >> 8) & 0x3ff) * PS;
	default:
		/* raw: huge lengths, page aligned or not */
		return (v & 4) ? v & ~(uint64_t)(PS - 1) : v;
	}
}

/* a pointer into the scratch buffer (its guard pages follow) */
static uint64_t fix_ptr(uint64_t v)
{
	if ((v & 0xff) == 0xff)
		return 0; /* NULL */
	if (v & 1)
		return (uintptr_t)scratch + ((v >> 8) % SCRATCH_SIZE);
	return (uintptr_t)scratch + ((v >> 8) % SCRATCH_PAGES) * PS;
}

static void do_cmd(struct iommufd_ctx *ctx, struct in *in, const struct cmd *c)
{
	uint8_t b[128];
	uint8_t sz = get8(in);
	uint32_t size;
	int r;

	switch (sz & 3) {
	case 0:
	case 1:
		size = c->ksize;
		break;
	case 2:
		size = c->min;
		break;
	default:
		size = c->ksize + (sz >> 2) % 24;
		break;
	}
	if ((sz & 0xe0) == 0xe0)
		size = sz & 0x7f; /* raw, possibly below the minimum */
	getbytes(in, b, size);
	put32(b, 0, size);
	for (const struct field *f = c->f; f < c->f + 8 && f->kind != F_END; f++) {
		uint32_t v32;
		uint64_t v64;

		if ((size_t)f->off + 8 > sizeof(b))
			continue;
		memcpy(&v32, b + f->off, 4);
		memcpy(&v64, b + f->off, 8);
		switch (f->kind) {
		case F_ID:
			put32(b, f->off, fix_id(v32));
			break;
		case F_NUM:
			put32(b, f->off, (v32 & 0x80000000u) ? v32 : v32 % 128);
			break;
		case F_PTR:
			put64(b, f->off, fix_ptr(v64));
			break;
		case F_IOVA:
			put64(b, f->off, fix_iova(v64));
			break;
		case F_LEN:
			put64(b, f->off, fix_len(v64));
			break;
		}
	}
	if (c->req == KABI_IOMMU_IOAS_MAP_FILE)
		put32(b, offsetof(struct kabi_ioas_map_file, fd), (sz & 0x10) ? (uint32_t)-1 : (uint32_t)memfd);
	r = iommufd_ctx_ioctl(ctx, c->req, b);
	if (debug)
		fprintf(stderr, "cmd 0x%lx size %u: %d\n", c->req & 0xff, size, r);
}

/* the type1 container mode: the container and edu's group, on the emulator's backend */
struct t1 {
	struct iommufd_backend *be;
	int cfd, gfd;
};

static int vfio_ioctl(struct iommufd_ctx *ctx, const struct t1 *t, unsigned long req, void *arg)
{
	int r = t->be ? be_ioctl(t->be, t->cfd, req, arg) : iommufd_ctx_ioctl(ctx, req, arg);

	if (debug)
		fprintf(stderr, "vfio 0x%lx on the %s: %d\n", req & 0xff,
			t->be ? "type1 container" : "iommufd", r);
	return r;
}

/* type1 only: dirty pages, unmap with a bitmap, the group's requests */
static void do_type1(const struct t1 *t, struct in *in)
{
	uint8_t which = get8(in);
	struct {
		struct kabi_vfio_iommu_type1_dirty_bitmap h;
		struct kabi_vfio_iommu_type1_dirty_bitmap_get g;
	} d;
	struct {
		struct kabi_vfio_iommu_type1_dma_unmap u;
		struct kabi_vfio_bitmap b;
	} ub;
	int32_t fd = t->cfd;
	int r;

	memset(&d, 0, sizeof(d));
	memset(&ub, 0, sizeof(ub));
	r = 0;
	switch (which % 5) {
	case 0:
		d.h.argsz = get8(in) % 64;
		d.h.flags = get8(in) % 8;
		d.g.iova = fix_iova(get64(in));
		d.g.size = fix_len(get64(in));
		d.g.bitmap.pgsize = (get8(in) & 1) ? PS : fix_len(get64(in));
		d.g.bitmap.size = get8(in) % 64;
		d.g.bitmap.data = fix_ptr(get64(in));
		r = be_ioctl(t->be, t->cfd, KABI_VFIO_IOMMU_DIRTY_PAGES, &d);
		break;
	case 1:
		ub.u.argsz = sizeof(ub) - (get8(in) % 2) * 8;
		ub.u.flags = get8(in) % 8;
		ub.u.iova = fix_iova(get64(in));
		ub.u.size = fix_len(get64(in));
		ub.b.pgsize = PS;
		ub.b.size = get8(in) % 64;
		ub.b.data = fix_ptr(get64(in));
		r = be_ioctl(t->be, t->cfd, KABI_VFIO_IOMMU_UNMAP_DMA, &ub);
		break;
	case 2:
		r = be_ioctl(t->be, t->gfd, KABI_VFIO_GROUP_GET_DEVICE_FD, (void *)"0000:00:02.0");
		if (r >= 0) {
			/* bus master on, one edu DMA, closed again */
			uint16_t cmd = 0x6;
			uint64_t v[4] = { fix_iova(get64(in)), 0x40000, get32(in) % 4096, 1 | (get8(in) & 2) };

			be_pwrite(t->be, r, &cmd, 2, (off_t)7 << 40 | 4);
			for (int i = 0; i < 4; i++)
				be_pwrite(t->be, r, &v[i], 8, 0x80 + 8 * i);
			be_close(t->be, r);
		}
		break;
	case 3:
		r = be_ioctl(t->be, t->gfd, KABI_VFIO_GROUP_UNSET_CONTAINER, NULL);
		break;
	default:
		r = be_ioctl(t->be, t->gfd, KABI_VFIO_GROUP_SET_CONTAINER, &fd);
		break;
	}
	if (debug)
		fprintf(stderr, "type1 op %u: %d\n", which % 5, r);
}

static void do_compat(struct iommufd_ctx *ctx, const struct t1 *t, struct in *in)
{
	uint8_t which = get8(in);
	union {
		struct kabi_vfio_iommu_type1_dma_map map;
		struct kabi_vfio_iommu_type1_dma_unmap unmap;
		uint8_t raw[128];
	} u;

	memset(&u, 0, sizeof(u));
	if (t->be && which >= 0xc0) {
		do_type1(t, in);
		return;
	}
	switch (which % 6) {
	case 0:
		vfio_ioctl(ctx, t, KABI_VFIO_CHECK_EXTENSION, (void *)(uintptr_t)(get8(in) % 12));
		break;
	case 1:
		vfio_ioctl(ctx, t, KABI_VFIO_SET_IOMMU, (void *)(uintptr_t)(get8(in) % 5));
		break;
	case 2:
		u.map.argsz = get8(in) % 40;
		u.map.flags = get8(in);
		u.map.vaddr = fix_ptr(get64(in));
		u.map.iova = fix_iova(get64(in));
		u.map.size = fix_len(get64(in));
		vfio_ioctl(ctx, t, KABI_VFIO_IOMMU_MAP_DMA, &u);
		break;
	case 3:
		u.unmap.argsz = get8(in) % 40;
		u.unmap.flags = get8(in);
		u.unmap.iova = fix_iova(get64(in));
		u.unmap.size = fix_len(get64(in));
		vfio_ioctl(ctx, t, KABI_VFIO_IOMMU_UNMAP_DMA, &u);
		break;
	case 4: {
		/* GET_INFO: argsz up to 128, the caps chain written back in u */
		uint32_t argsz = get8(in) % sizeof(u);

		memcpy(u.raw, &argsz, 4);
		vfio_ioctl(ctx, t, KABI_VFIO_IOMMU_GET_INFO, &u);
		break;
	}
	default:
		vfio_ioctl(ctx, t, KABI_VFIO_GET_API_VERSION, NULL);
		break;
	}
}

static void edu_write(struct iommufd_device *dev, uint64_t off, uint64_t v, size_t w)
{
	iommufd_device_region_write(dev, 0, off, &v, w);
}

static void do_device(struct iommufd_emu *emu, const char *bdf, struct iommufd_device *dev,
		      struct in *in)
{
	uint8_t which = get8(in);
	uint8_t buf[64];
	uint32_t v;
	uint64_t faults = 0;

	if (!dev)
		return;
	if (debug) {
		iommufd_emu_device_get_dma_faults(emu, bdf, &faults, NULL);
		fprintf(stderr, "device op %u (dma faults so far %llu)\n", which % 10,
			(unsigned long long)faults);
	}
	switch (which % 10) {
	case 0:
		iommufd_device_attach(dev, fix_id(get32(in)), NULL);
		break;
	case 1:
		iommufd_device_detach(dev);
		break;
	case 2:
		iommufd_device_pasid_attach(dev, get8(in) % 4, fix_id(get32(in)), NULL);
		break;
	case 3:
		iommufd_device_pasid_detach(dev, get8(in) % 4);
		break;
	case 4:
		/* an edu DMA: src, dst, count, then the cmd register runs it */
		edu_write(dev, 0x80, fix_iova(get64(in)) | (get8(in) & 1 ? 0x40000 : 0), 8);
		edu_write(dev, 0x88, fix_iova(get64(in)) | (get8(in) & 1 ? 0x40000 : 0), 8);
		edu_write(dev, 0x90, get32(in) % 8192, 8);
		edu_write(dev, 0x98, get8(in) & 7, 8);
		break;
	case 5:
		iommufd_device_config_read(dev, get8(in), 1u << (get8(in) % 3), &v);
		break;
	case 6:
		/* config writes: the command register (bus master) mostly */
		v = get32(in);
		iommufd_device_config_write(dev, (v & 0x100) ? (v >> 16) & 0xff : 4,
					    1u << (get8(in) % 3), (v & 0x100) ? get32(in) : 0x6);
		break;
	case 7:
		iommufd_device_reset(dev);
		break;
	case 8:
		iommufd_emu_device_page_fault(emu, bdf, get8(in) % 4, get32(in), get8(in) & 0xf,
					      fix_iova(get64(in)));
		break;
	default: {
		static const uint32_t types[] = { 1, 2, 0xbeefbeef, 0 };
		uint8_t t = get8(in);
		size_t len = get8(in) % 40;

		getbytes(in, buf, len);
		iommufd_emu_device_vevent(emu, bdf, types[t % 4], buf, len);
		break;
	}
	}
}

/*
 * raw feature and hot reset requests: sizes, flags, data and fds from the
 * input (with setup bit 0x20 the edu sits below a bridge, where a hot reset
 * exists). The request goes from the last bytes of the scratch buffer, not
 * the stack: a handler may read past argsz, as the kernel does (the ranges
 * of VFIO_DEVICE_FEATURE_DMA_BUF, nr_ranges of them after the header,
 * drivers/vfio/pci/vfio_pci_dmabuf.c), and there it meets the guard pages
 * (EFAULT) instead of the harness's own stack.
 */
static void do_feature(struct iommufd_device *dev, struct in *in)
{
	uint8_t which = get8(in);
	union feature_req {
		struct kabi_vfio_device_feature f;
		struct kabi_vfio_pci_hot_reset_info hi;
		struct kabi_vfio_pci_hot_reset hr;
		uint8_t raw[64];
	} u;
	union feature_req *req = (union feature_req *)(void *)(scratch + SCRATCH_SIZE - sizeof(u));
	int r;

	if (!dev)
		return;
	memset(&u, 0, sizeof(u));
	switch (which % 3) {
	case 0:
		/* argsz up to the buffer, a feature 0..15 with any GET/SET/PROBE, 16 data bytes */
		u.f.argsz = get8(in) % sizeof(u);
		u.f.flags = (get32(in) & 0xffff0000u) | (get8(in) % 16);
		getbytes(in, u.raw + sizeof(u.f), 16);
		*req = u;
		r = iommufd_device_ioctl(dev, KABI_VFIO_DEVICE_FEATURE, req);
		break;
	case 1:
		u.hi.argsz = get8(in) % sizeof(u);
		*req = u;
		r = iommufd_device_ioctl(dev, KABI_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, req);
		break;
	default:
		u.hr.argsz = get8(in) % sizeof(u);
		u.hr.flags = get8(in) & 0x80 ? get32(in) : 0;
		u.hr.count = get8(in) % 4;
		for (uint32_t i = 0; i < u.hr.count; i++)
			u.hr.group_fds[i] = (int32_t)(get8(in) % 32) - 1;
		*req = u;
		r = iommufd_device_ioctl(dev, KABI_VFIO_DEVICE_PCI_HOT_RESET, req);
		break;
	}
	if (debug)
		fprintf(stderr, "feature/hot reset op %u: %d\n", which % 3, r);
}

static void quiet_log(void *userdata, int priority, const char *file, int line, const char *fn,
		      const char *format, va_list args)
{
	(void)userdata;
	(void)priority;
	(void)file;
	(void)line;
	(void)fn;
	(void)format;
	(void)args;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	debug = getenv("FUZZ_DEBUG");
	scratch = mmap(NULL, SCRATCH_SIZE + GUARD_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch == MAP_FAILED)
		abort();
	if (mprotect(scratch + SCRATCH_SIZE, GUARD_SIZE, PROT_NONE))
		abort();
	memfd = memfd_create("fuzz-emu", 0);
	if (memfd < 0 || ftruncate(memfd, SCRATCH_SIZE))
		abort();
	return 0;
}

/* the emulators kept across inputs, one per device setup (pool_get) */
#define SETUP_DEVICE 0x27u /* the setup bits that shape the device: edu, flags, address */
static struct {
	struct iommufd_emu *emu;
	char cdev[64];  /* edu's cdev */
	char group[64]; /* edu's group node */
} pool[SETUP_DEVICE + 1];

/* the emulator for an input's setup: made with its device at first use */
static struct iommufd_emu *pool_get(uint8_t setup, const char *bdf, const char **cdev,
				    const char **group)
{
	unsigned int key = setup & 1 ? setup & SETUP_DEVICE : 0;

	if (!pool[key].emu) {
		struct iommufd_emu *emu;

		if (iommufd_emu_new(&emu))
			abort();
		if (setup & 1) {
			struct iommufd_emu_device_opts o = {
				.sz = sizeof(o),
				.kind = IOMMUFD_EMU_DEVICE_EDU,
				.bdf = bdf,
				.flags = (setup >> 1) & 3,
			};
			char link[256], rel[96];
			ssize_t n;

			if (iommufd_emu_add_pci_device(emu, &o, pool[key].cdev,
						       sizeof(pool[key].cdev)))
				abort();
			/* its group, numbered by slot ("../../../kernel/iommu_groups/N") */
			snprintf(rel, sizeof(rel), "bus/pci/devices/%s/iommu_group", bdf);
			n = emu_sysfs_readlink(emu, rel, link, sizeof(link) - 1);
			if (n <= 0)
				abort();
			link[n] = 0;
			snprintf(pool[key].group, sizeof(pool[key].group), "/dev/vfio/%s",
				 strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
		}
		pool[key].emu = emu;
	}
	*cdev = pool[key].cdev;
	*group = pool[key].group;
	return pool[key].emu;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct iommufd_emu *emu = NULL;
	struct iommufd_ctx *ctx = NULL;
	struct iommufd_device *dev = NULL;
	const char *cdev, *group;
	const char *bdf = "0000:00:02.0";
	uint8_t setup = get8(&in);
	struct t1 t = { NULL, -1, -1 };
	int ops = 0;

	memset(scratch, 0x5a, SCRATCH_SIZE);
	if (setup & 0x20)
		bdf = "0000:01:00.0"; /* below a bridge: the hot reset paths go past ENODEV */
	emu = pool_get(setup, bdf, &cdev, &group);
	if (iommufd_emu_ctx_new(emu, &ctx))
		abort();
	iommufd_ctx_set_log_fn(ctx, quiet_log, NULL);
	if ((setup & 0x11) == 0x11) {
		int32_t cfd;

		t.be = iommufd_emu_get_backend(emu);
		t.cfd = be_open(t.be, "/dev/vfio/vfio", 2);
		t.gfd = be_open(t.be, group, 2);
		cfd = t.cfd;
		if (t.cfd < 0 || t.gfd < 0 || be_ioctl(t.be, t.gfd, KABI_VFIO_GROUP_SET_CONTAINER, &cfd))
			abort();
	} else if (setup & 1) {
		if (iommufd_device_open(ctx, cdev, &dev))
			abort();
		if (!(setup & 8)) {
			iommufd_device_bind(dev, ctx, NULL, NULL);
			/* bus master on for the edu DMA engine */
			iommufd_device_config_write(dev, 4, 2, 0x6);
		}
	}

	while (in.n && ops++ < 64) {
		uint8_t op = get8(&in) % 32;

		if (op < NR_CMDS)
			do_cmd(ctx, &in, &cmds[op]);
		else if (op < 26)
			do_compat(ctx, &t, &in);
		else if (op == 26 && dev && setup & 8)
			iommufd_device_bind(dev, ctx, NULL, NULL);
		else if (op == 27)
			do_feature(dev, &in);
		else
			do_device(emu, bdf, dev, &in);
	}

	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
	/* the container and the group, whatever their state, and every fd the
	 * input made: closed by the reset, which must then find nothing left */
	if (emu_reset(emu)) {
		fprintf(stderr, "fuzz-emu-ioctl: the input left a file, a context or a device "
			"in use behind (emu_reset: %lu files, %lu contexts)\n", emu->nfiles,
			emu->nictx);
		abort();
	}
	return 0;
}
