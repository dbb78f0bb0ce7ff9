// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fault-injection sweep of the library through the emulator
 * (iommufd_emu_set_fail_nth): for each step of a few library sequences, the
 * step is run once to count the emulator's injection sites it reaches, then
 * once per site with that site failing. Each failed run must return a
 * negative errno with a reason in iommufd_last_error(), and leave the state
 * as it was: the same next object ID, no extra fd, the same device state,
 * the same mappings (the final unmap_all totals), and the step must then
 * succeed when retried without injection. Every run tears everything down,
 * so `meson test --setup valgrind` finds any leak of a failed path.
 *
 * Emulator only: skipped with IOMMUFD_TEST_REAL=1 (the kernel's own
 * fault injection is not driven from here).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "shared/abi.h"
#include "shared/abi-test.h"
#include "shared/backend.h" /* be_close(): the mock's access fd is an emulated fd */

#define PAGE 4096ul
#define BUFSZ (16 * PAGE)
#define IOVA 0x100000ull
#define IOVA2 0x200000ull
#define IOVA_FILE 0x400000ull
#define EDU_BDF "0000:00:02.0"
#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000
#define XFER 2048
#define VIRT_ID 0x99
#define RW (IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE)
#define FIXED (RW | IOMMUFD_MAP_FIXED_IOVA)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* a step ran without error but produced the wrong result */
#define WRONG (-EILSEQ)

/* everything one run of a sequence holds */
struct world {
	struct iommufd_emu *emu;
	struct iommufd_backend *be;
	struct iommufd_ctx *scope; /* where devices and groups are opened */
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
	struct iommufd_group *grp;
	uint8_t *buf;      /* BUFSZ bytes of anonymous memory */
	int memfd;         /* BUFSZ bytes, for MAP_FILE */
	uint32_t ioas, ioas2;
	uint64_t mapped, mapped2; /* bytes mapped in ioas, ioas2 */
	uint32_t dev_id, hwpt;
	uint32_t attached; /* the HWPT the device's RID is attached to, 0: none */
	/* mock (selftest) device */
	uint32_t stdev, idev, parent;
	/* fault queue */
	struct iommufd_fault_queue *fq;
	uint32_t iopf_hwpt, cookie;
	/* vIOMMU */
	uint32_t viommu, vdev, hwq, nested;
	struct iommufd_veventq *vq;
	/* mock access object (an in-kernel user of an IOAS) */
	int access_fd;
	uint64_t mmap_off, mmap_len;
	void *mmap_addr;   /* the vIOMMU's region, mapped through the context */
	/* migration: the data fd of the session (valid when mig_open) */
	int mig_fd;
	bool mig_open;
};

struct step {
	const char *name;
	int (*run)(struct world *w);
	/*
	 * The kernel swallows this site's failure (the ioctl succeeds and the
	 * event is dropped): a success under injection is then checked by
	 * swallowed() instead.
	 */
	void (*swallowed)(struct world *w);
	/* extra checks after a failed run (optional) */
	void (*after_fail)(struct world *w);
};

struct sequence {
	const char *name;
	void (*setup)(struct world *w); /* never injected */
	const struct step *steps;
	size_t nsteps;
	/* the final state after steps [0, done) succeeded (mappings, devices) */
	void (*verify)(struct world *w, size_t done);
};

/* ------------------------------------------------------------ helpers */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

#define check(call)                                                                   \
	do {                                                                          \
		int r_ = (call);                                                      \
		if (r_)                                                               \
			fail_msg("%s = %d: %s", #call, r_, iommufd_last_error());     \
	} while (0)

static int test_cmd(struct world *w, struct kabi_test_cmd *c)
{
	c->size = sizeof(*c);
	return iommufd_ctx_ioctl(w->ctx, KABI_IOMMU_TEST_CMD, c);
}

static void world_new(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->memfd = memfd_create("failnth", MFD_CLOEXEC);
	assert_true(w->memfd >= 0);
	assert_int_equal(ftruncate(w->memfd, BUFSZ), 0);
	check(iommufd_emu_new(&w->emu));
	w->be = iommufd_emu_get_backend(w->emu);
	check(iommufd_emu_ctx_new(w->emu, &w->scope));
	w->buf = mmap(NULL, BUFSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(w->buf != MAP_FAILED);
	for (size_t i = 0; i < BUFSZ; i++)
		w->buf[i] = (uint8_t)(i * 7 + 3);
}

static void world_free(struct world *w)
{
	if (w->mmap_addr)
		check(iommufd_ctx_munmap(w->ctx, w->mmap_addr, w->mmap_len));
	if (w->access_fd > 0)
		check(be_close(w->be, w->access_fd));
	if (w->mig_open)
		check(iommufd_device_mig_data_close(w->dev, w->mig_fd));
	w->vq = iommufd_veventq_unref(w->vq);
	w->fq = iommufd_fault_queue_unref(w->fq);
	w->dev = iommufd_device_unref(w->dev);
	w->grp = iommufd_group_unref(w->grp);
	w->ctx = iommufd_ctx_unref(w->ctx);
	w->scope = iommufd_ctx_unref(w->scope);
	w->emu = iommufd_emu_unref(w->emu);
	munmap(w->buf, BUFSZ);
	close(w->memfd);
}

/* what must not change when a step fails */
struct snap {
	int nfds;
	uint32_t next_id;  /* the ID the next IOAS_ALLOC gets (0: no context) */
	enum iommufd_device_state state;
	uint32_t dev_id, pt_id;
};

static void snap_take(struct world *w, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	if (w->ctx) {
		check(iommufd_ioas_alloc(w->ctx, &s->next_id));
		check(iommufd_destroy(w->ctx, s->next_id));
	}
	if (w->dev) {
		s->state = iommufd_device_get_state(w->dev);
		s->dev_id = iommufd_device_get_dev_id(w->dev);
		s->pt_id = iommufd_device_get_pt_id(w->dev);
	}
	s->nfds = count_fds(); /* last: the checks above use no fd for long */
}

static void snap_equal(const struct snap *a, const struct snap *b, const char *what)
{
	if (a->nfds != b->nfds)
		fail_msg("%s: %d fds before, %d after", what, a->nfds, b->nfds);
	if (a->next_id != b->next_id)
		fail_msg("%s: next ID %u before, %u after (an ID leaked)", what, a->next_id,
			 b->next_id);
	if (a->state != b->state || a->dev_id != b->dev_id || a->pt_id != b->pt_id)
		fail_msg("%s: device %s/%u/%u before, %s/%u/%u after", what,
			 iommufd_device_state_name(a->state), a->dev_id, a->pt_id,
			 iommufd_device_state_name(b->state), b->dev_id, b->pt_id);
}

static void expect_unmap_all(struct world *w, uint32_t ioas, uint64_t bytes)
{
	uint64_t n = ~0ull;

	if (!ioas)
		return;
	check(iommufd_ioas_unmap_all(w->ctx, ioas, &n));
	if (n != bytes)
		fail_msg("IOAS %u: unmap_all removed %llu bytes, expected %llu", ioas,
			 (unsigned long long)n, (unsigned long long)bytes);
}

/* edu: one DMA through the device's attachment; 0 or -errno */
static int reg_write(struct world *w, uint64_t off, uint64_t v)
{
	ssize_t r = iommufd_device_region_write(w->dev, IOMMUFD_PCI_BAR0_REGION, off, &v, 8);

	return r == 8 ? 0 : r < 0 ? (int)r : -EIO;
}

static int edu_dma(struct world *w, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	uint32_t pcicmd;
	uint64_t v = 0;
	int r;

	/* memory space and bus master on */
	if ((r = iommufd_device_config_read(w->dev, 0x04, 2, &pcicmd)) ||
	    (r = iommufd_device_config_write(w->dev, 0x04, 2, pcicmd | 0x6)))
		return r;
	if ((r = reg_write(w, EDU_SRC, src)) || (r = reg_write(w, EDU_DST, dst)) ||
	    (r = reg_write(w, EDU_CNT, cnt)) || (r = reg_write(w, EDU_CMD, cmd | EDU_CMD_RUN)))
		return r;
	/* the emulated engine runs synchronously */
	if (iommufd_device_region_read(w->dev, IOMMUFD_PCI_BAR0_REGION, EDU_CMD, &v, 8) != 8)
		return -EIO;
	return v & EDU_CMD_RUN ? WRONG : 0;
}

static uint64_t dma_faults(struct world *w)
{
	uint64_t n = 0;

	check(iommufd_emu_device_get_dma_faults(w->emu, EDU_BDF, &n, NULL));
	return n;
}

static void add_edu(struct world *w, uint32_t flags)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o, .kind = IOMMUFD_EMU_DEVICE_EDU,
		     .bdf = EDU_BDF, .flags = flags);

	check(iommufd_emu_add_pci_device(w->emu, &o, NULL, 0));
}

/* ------------------------------------------------------------ the sweep */

/* a fresh world with steps [0, k) done, never injected */
static void world_at(const struct sequence *seq, struct world *w, size_t k)
{
	world_new(w);
	if (seq->setup)
		seq->setup(w);
	for (size_t i = 0; i < k; i++) {
		int r = seq->steps[i].run(w);

		if (r)
			fail_msg("%s/%s (uninjected) = %d: %s", seq->name, seq->steps[i].name, r,
				 iommufd_last_error());
	}
}

static unsigned long sweep(const struct sequence *seq)
{
	unsigned long total = 0;

	for (size_t k = 0; k < seq->nsteps; k++) {
		const struct step *st = &seq->steps[k];
		unsigned long sites, n;
		struct world w;
		int fds0, r;

		/* count the injection sites the step reaches (after a snapshot, as
		 * below: taking it may grow internal tables) */
		fds0 = count_fds();
		world_at(seq, &w, k);
		{
			struct snap s;

			snap_take(&w, &s);
		}
		check(iommufd_emu_set_fail_nth(w.emu, ULONG_MAX));
		r = st->run(&w);
		sites = iommufd_emu_get_fail_count(w.emu);
		check(iommufd_emu_set_fail_nth(w.emu, 0));
		if (r)
			fail_msg("%s/%s (counting) = %d: %s", seq->name, st->name, r,
				 iommufd_last_error());
		seq->verify(&w, k + 1);
		world_free(&w);
		assert_int_equal(count_fds(), fds0);

		for (n = 1; n <= sites; n++) {
			struct snap before, after;
			char what[128];
			const char *err;

			snprintf(what, sizeof(what), "%s/%s fail_nth=%lu of %lu", seq->name, st->name,
				 n, sites);
			fds0 = count_fds();
			world_at(seq, &w, k);
			snap_take(&w, &before);
			check(iommufd_emu_set_fail_nth(w.emu, n));
			r = st->run(&w);
			if (iommufd_emu_get_fail_count(w.emu) < n)
				fail_msg("%s: the site was not reached again", what);
			check(iommufd_emu_set_fail_nth(w.emu, 0));
			if (r == 0) {
				if (!st->swallowed)
					fail_msg("%s: succeeded although an internal step failed", what);
				st->swallowed(&w);
			} else {
				if (r > 0 || r == WRONG)
					fail_msg("%s: returned %d (a wrong result, not an errno)", what, r);
				err = iommufd_last_error();
				if (!err || !err[0])
					fail_msg("%s: failed with %d but no reason recorded", what, r);
				snap_take(&w, &after);
				snap_equal(&before, &after, what);
				if (st->after_fail)
					st->after_fail(&w);
			}
			/* nothing half-done is left in the way: the step works now */
			r = st->run(&w);
			if (r)
				fail_msg("%s: the retry without injection = %d: %s", what, r,
					 iommufd_last_error());
			seq->verify(&w, k + 1);
			world_free(&w);
			if (count_fds() != fds0)
				fail_msg("%s: %d fds before the run, %d after teardown", what, fds0,
					 count_fds());
		}
		print_message("  %s/%s: %lu sites\n", seq->name, st->name, sites);
		total += sites;
	}
	return total;
}

/* ------------------------------------------------------------ 1: IOAS */

static int s_ctx_new(struct world *w)
{
	return iommufd_emu_ctx_new(w->emu, &w->ctx);
}

static void ctx_unchanged(struct world *w)
{
	assert_null(w->ctx);
}

static int s_ioas_alloc(struct world *w)
{
	return iommufd_ioas_alloc(w->ctx, &w->ioas);
}

static int s_ioas_alloc2(struct world *w)
{
	return iommufd_ioas_alloc(w->ctx, &w->ioas2);
}

static int s_iova_ranges(struct world *w)
{
	struct iommufd_iova_range *ranges = NULL;
	size_t n = 0;
	uint64_t align = 0;
	int r = iommufd_ioas_iova_ranges(w->ctx, w->ioas, &ranges, &n, &align);

	if (r)
		return r;
	r = n >= 1 && align >= 1 && ranges[0].start <= IOVA ? 0 : WRONG;
	free(ranges);
	return r;
}

static int s_allow_iovas(struct world *w)
{
	const struct iommufd_iova_range r[2] = { { PAGE, (1ull << 32) - 1 },
						 { 1ull << 40, (1ull << 41) - 1 } };

	return iommufd_ioas_allow_iovas(w->ctx, w->ioas, r, 2);
}

static int s_map(struct world *w)
{
	uint64_t iova = IOVA;
	int r = iommufd_ioas_map(w->ctx, w->ioas, w->buf, BUFSZ, &iova, FIXED);

	if (!r)
		w->mapped += BUFSZ;
	return r;
}

static int s_copy(struct world *w)
{
	uint64_t iova = IOVA2;
	int r = iommufd_ioas_copy(w->ctx, w->ioas2, &iova, w->ioas, IOVA, BUFSZ, FIXED);

	if (!r)
		w->mapped2 += BUFSZ;
	return r;
}

static int s_map_file(struct world *w)
{
	uint64_t iova = IOVA_FILE;
	int r;

	r = iommufd_ioas_map_file(w->ctx, w->ioas2, w->memfd, 0, BUFSZ, &iova, FIXED);
	if (!r)
		w->mapped2 += BUFSZ;
	return r;
}

static int s_unmap(struct world *w)
{
	uint64_t n = 0;
	int r = iommufd_ioas_unmap(w->ctx, w->ioas, IOVA, BUFSZ, &n);

	if (r)
		return r;
	w->mapped -= n;
	return n == BUFSZ ? 0 : WRONG;
}

static void verify_maps(struct world *w, size_t done)
{
	(void)done;
	expect_unmap_all(w, w->ioas, w->mapped);
	expect_unmap_all(w, w->ioas2, w->mapped2);
}

static const struct step ioas_steps[] = {
	{ .name = "ctx_new", .run = s_ctx_new, .after_fail = ctx_unchanged },
	{ .name = "ioas_alloc", .run = s_ioas_alloc },
	{ .name = "iova_ranges", .run = s_iova_ranges },
	{ .name = "allow_iovas", .run = s_allow_iovas },
	{ .name = "map", .run = s_map },
	{ .name = "ioas_alloc2", .run = s_ioas_alloc2 },
	{ .name = "copy", .run = s_copy },
	{ .name = "map_file", .run = s_map_file },
	{ .name = "unmap", .run = s_unmap },
};

static const struct sequence ioas_seq = {
	"ioas", NULL, ioas_steps, ARRAY_SIZE(ioas_steps), verify_maps,
};

/* ------------------------------------------------------------ 2: device */

static void setup_edu(struct world *w)
{
	add_edu(w, 0);
}

static int s_open_pci(struct world *w)
{
	return iommufd_device_open_pci(w->scope, EDU_BDF, &w->dev);
}

static void dev_unchanged(struct world *w)
{
	assert_null(w->dev);
}

static int s_bind(struct world *w)
{
	return iommufd_device_bind(w->dev, w->ctx, NULL, &w->dev_id);
}

static int s_attach_ioas(struct world *w)
{
	int r = iommufd_device_attach(w->dev, w->ioas, &w->hwpt);

	if (r)
		return r;
	w->attached = w->hwpt;
	return iommufd_device_get_state(w->dev) == IOMMUFD_DEVICE_ATTACHED ? 0 : WRONG;
}

/* the device reads page 0 of buf and writes it to page 1 */
static int s_dma(struct world *w)
{
	uint64_t f0 = dma_faults(w);
	int r;

	memset(w->buf + PAGE, 0, PAGE);
	if ((r = edu_dma(w, IOVA, EDU_BUF, XFER, 0)) ||
	    (r = edu_dma(w, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM)))
		return r;
	if (dma_faults(w) != f0 || memcmp(w->buf, w->buf + PAGE, XFER))
		return WRONG;
	return 0;
}

static int s_map2(struct world *w)
{
	uint64_t iova = IOVA;
	int r = iommufd_ioas_map(w->ctx, w->ioas2, w->buf, BUFSZ, &iova, FIXED);

	if (!r)
		w->mapped2 += BUFSZ;
	return r;
}

/* attach on an attached device: a replace, to ioas2's auto domain */
static int s_replace_ioas2(struct world *w)
{
	uint32_t got = 0;
	int r = iommufd_device_attach(w->dev, w->ioas2, &got);

	if (r)
		return r;
	if (!got || got == w->attached || iommufd_device_get_pt_id(w->dev) != got)
		return WRONG;
	w->attached = got;
	return 0;
}

static int s_detach(struct world *w)
{
	int r = iommufd_device_detach(w->dev);

	if (r)
		return r;
	w->attached = 0;
	return iommufd_device_get_state(w->dev) == IOMMUFD_DEVICE_BOUND ? 0 : WRONG;
}

static void verify_dev(struct world *w, size_t done)
{
	if (w->dev && w->attached) {
		assert_int_equal(iommufd_device_get_state(w->dev), IOMMUFD_DEVICE_ATTACHED);
		assert_int_equal(iommufd_device_get_pt_id(w->dev), w->attached);
	} else if (w->dev && w->dev_id) {
		assert_int_equal(iommufd_device_get_state(w->dev), IOMMUFD_DEVICE_BOUND);
		assert_int_equal(iommufd_device_get_pt_id(w->dev), 0);
	}
	verify_maps(w, done);
}

static const struct step dev_steps[] = {
	{ .name = "open_pci", .run = s_open_pci, .after_fail = dev_unchanged },
	{ .name = "ctx_new", .run = s_ctx_new, .after_fail = ctx_unchanged },
	{ .name = "ioas_alloc", .run = s_ioas_alloc },
	{ .name = "bind", .run = s_bind },
	{ .name = "attach", .run = s_attach_ioas },
	{ .name = "map", .run = s_map },
	{ .name = "dma", .run = s_dma },
	{ .name = "ioas_alloc2", .run = s_ioas_alloc2 },
	{ .name = "map2", .run = s_map2 },
	{ .name = "replace", .run = s_replace_ioas2 },
	{ .name = "dma_after_replace", .run = s_dma },
	{ .name = "detach", .run = s_detach },
};

/* ------------------------------------------------------------ 2b: group path */

static int s_group_open(struct world *w)
{
	int group, r = iommufd_pci_get_iommu_group(w->scope, EDU_BDF, &group);

	return r ? r : iommufd_group_open(w->scope, group, &w->grp);
}

static void grp_unchanged(struct world *w)
{
	assert_null(w->grp);
}

static int s_set_ctx(struct world *w)
{
	return iommufd_group_set_ctx(w->grp, w->ctx);
}

static void ctx_not_set(struct world *w)
{
	uint32_t flags;

	check(iommufd_group_get_status(w->grp, &flags));
	assert_int_equal(flags & IOMMUFD_GROUP_CTX_SET, 0);
	assert_errno(iommufd_vfio_ioas_get(w->ctx, &w->ioas), ENODEV);
}

static int s_compat_ioas(struct world *w)
{
	return iommufd_vfio_ioas_get(w->ctx, &w->ioas);
}

static int s_group_device(struct world *w)
{
	int r = iommufd_group_get_device(w->grp, EDU_BDF, &w->dev);

	if (r)
		return r;
	return iommufd_device_get_state(w->dev) == IOMMUFD_DEVICE_ATTACHED ? 0 : WRONG;
}

static const struct step group_steps[] = {
	{ .name = "ctx_new", .run = s_ctx_new, .after_fail = ctx_unchanged },
	{ .name = "group_open", .run = s_group_open, .after_fail = grp_unchanged },
	{ .name = "set_ctx", .run = s_set_ctx, .after_fail = ctx_not_set },
	{ .name = "compat_ioas", .run = s_compat_ioas },
	{ .name = "group_get_device", .run = s_group_device, .after_fail = dev_unchanged },
	{ .name = "map", .run = s_map },
	{ .name = "dma", .run = s_dma },
};

static const struct sequence dev_seq = {
	"device", setup_edu, dev_steps, ARRAY_SIZE(dev_steps), verify_dev,
};

/* ------------------------------------------------------------ 2c: hot reset behind a bridge */

#define BRIDGE_BDF "0000:01:00.0" /* not on the root bus: a bus reset exists */
#define BRIDGE_BDF2 "0000:01:00.1"

/* two functions of one group below a bridge, as the VM's edu: a hot reset resets both */
static void setup_bridge_edu(struct world *w)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o, .kind = IOMMUFD_EMU_DEVICE_EDU,
		     .bdf = BRIDGE_BDF, .group = 8);
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o2, .kind = IOMMUFD_EMU_DEVICE_EDU,
		     .bdf = BRIDGE_BDF2, .group = 8);

	check(iommufd_emu_add_pci_device(w->emu, &o, NULL, 0));
	check(iommufd_emu_add_pci_device(w->emu, &o2, NULL, 0));
}

static int s_open_bridge(struct world *w)
{
	return iommufd_device_open_pci(w->scope, BRIDGE_BDF, &w->dev);
}

static int s_hot_reset_info(struct world *w)
{
	struct iommufd_hot_reset_dev *devs = NULL;
	uint32_t flags = 0;
	size_t nr = 0;
	int r = iommufd_device_get_hot_reset_info(w->dev, &flags, &devs, &nr);

	if (r)
		return r;
	/* the other function is owned through the group */
	r = nr == 2 && devs[0].dev_id == w->dev_id && devs[1].dev_id == 0 &&
			    flags == (IOMMUFD_HOT_RESET_DEV_ID | IOMMUFD_HOT_RESET_ALL_OWNED) ?
		    0 :
		    WRONG;
	free(devs);
	return r;
}

static int s_hot_reset(struct world *w)
{
	return iommufd_device_hot_reset(w->dev, NULL);
}

static int s_reset_auto(struct world *w)
{
	IOMMUFD_OPTS(struct iommufd_reset_how, how, .flags = IOMMUFD_RESET_HOT_MULTI);
	int r = iommufd_device_reset_auto(w->dev, &how);

	if (r)
		return r;
	return how.method == IOMMUFD_RESET_HOT && how.nr_devs == 2 ? 0 : WRONG;
}

static const struct step reset_steps[] = {
	{ .name = "open_pci", .run = s_open_bridge, .after_fail = dev_unchanged },
	{ .name = "ctx_new", .run = s_ctx_new, .after_fail = ctx_unchanged },
	{ .name = "bind", .run = s_bind },
	{ .name = "hot_reset_info", .run = s_hot_reset_info },
	{ .name = "hot_reset", .run = s_hot_reset },
	{ .name = "reset_auto", .run = s_reset_auto },
};

static const struct sequence reset_seq = {
	"reset", setup_bridge_edu, reset_steps, ARRAY_SIZE(reset_steps), verify_dev,
};

static const struct sequence group_seq = {
	"group", setup_edu, group_steps, ARRAY_SIZE(group_steps), verify_dev,
};

/* ------------------------------------------------------------ 3: dirty tracking */

static void setup_dirty(struct world *w)
{
	add_edu(w, IOMMUFD_EMU_DEVICE_DIRTY_TRACKING);
	check(iommufd_emu_ctx_new(w->emu, &w->ctx));
	check(iommufd_ioas_alloc(w->ctx, &w->ioas));
	check(iommufd_device_open_pci(w->scope, EDU_BDF, &w->dev));
	check(iommufd_device_bind(w->dev, w->ctx, NULL, &w->dev_id));
}

static int s_hwpt_dirty(struct world *w)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_DIRTY_TRACKING);

	return iommufd_hwpt_alloc(w->ctx, w->dev_id, w->ioas, &o, &w->hwpt);
}

static int s_attach_hwpt(struct world *w)
{
	uint32_t got = 0;
	int r = iommufd_device_attach(w->dev, w->hwpt, &got);

	if (r)
		return r;
	w->attached = got;
	return got == w->hwpt ? 0 : WRONG;
}

static int s_dirty_on(struct world *w)
{
	return iommufd_hwpt_set_dirty_tracking(w->ctx, w->hwpt, true);
}

/* the device writes page 1 */
static int s_dma_write(struct world *w)
{
	return edu_dma(w, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM);
}

static int s_get_dirty(struct world *w)
{
	uint64_t bm[2] = { 0, 0 };
	int r = iommufd_hwpt_get_dirty_bitmap(w->ctx, w->hwpt, IOVA, BUFSZ, PAGE, bm, 0);

	if (r)
		return r;
	/* page 1 only: a failed earlier read must not have cleared (or lost) it */
	return bm[0] == 2 && bm[1] == 0 ? 0 : WRONG;
}

static const struct step dirty_steps[] = {
	{ .name = "hwpt_alloc_dirty", .run = s_hwpt_dirty },
	{ .name = "attach_hwpt", .run = s_attach_hwpt },
	{ .name = "map", .run = s_map },
	{ .name = "set_dirty_tracking", .run = s_dirty_on },
	{ .name = "dma_write", .run = s_dma_write },
	{ .name = "get_dirty_bitmap", .run = s_get_dirty },
};

static const struct sequence dirty_seq = {
	"dirty", setup_dirty, dirty_steps, ARRAY_SIZE(dirty_steps), verify_dev,
};

/* ------------------------------------------------------------ 3b: migration */

/* an edu with a migration driver, bound and attached, buf mapped */
static void setup_mig(struct world *w)
{
	add_edu(w, IOMMUFD_EMU_DEVICE_MIGRATION);
	check(iommufd_emu_ctx_new(w->emu, &w->ctx));
	check(iommufd_ioas_alloc(w->ctx, &w->ioas));
	check(iommufd_device_open_pci(w->scope, EDU_BDF, &w->dev));
	check(iommufd_device_bind(w->dev, w->ctx, NULL, &w->dev_id));
	check(s_attach_ioas(w));
	check(s_map(w));
}

static int mig_state_is(struct world *w, enum iommufd_mig_state want)
{
	enum iommufd_mig_state st;
	int r = iommufd_device_get_mig_state(w->dev, &st);

	return r ? r : st == want ? 0 : WRONG;
}

static int s_log_start(struct world *w)
{
	struct iommufd_dma_log_range r = { .iova = IOVA, .length = BUFSZ };
	uint64_t ps = PAGE;

	return iommufd_device_dma_log_start(w->dev, &r, 1, &ps);
}

/* a failed start leaves logging off: a report says so */
static void log_off(struct world *w)
{
	uint64_t bm = 0;

	assert_errno(iommufd_device_dma_log_report(w->dev, IOVA, BUFSZ, PAGE, &bm), EINVAL);
}

static int s_log_report(struct world *w)
{
	uint64_t bm = 0;
	int r = iommufd_device_dma_log_report(w->dev, IOVA, BUFSZ, PAGE, &bm);

	if (r)
		return r;
	/* page 1 only (s_dma_write) */
	return bm == 2 ? 0 : WRONG;
}

static int s_pre_copy(struct world *w)
{
	int r = iommufd_device_set_mig_state(w->dev, IOMMUFD_MIG_STATE_PRE_COPY, &w->mig_fd);

	if (r)
		return r;
	w->mig_open = true;
	return w->mig_fd >= 0 ? 0 : WRONG;
}

/* a failed arc from RUNNING: the device stays RUNNING, no fd */
static void still_running(struct world *w)
{
	assert_false(w->mig_open);
	check(mig_state_is(w, IOMMUFD_MIG_STATE_RUNNING));
}

/* the initial data, then (the device changed) the dirty data, to ENOMSG */
static int s_precopy_read(struct world *w)
{
	uint8_t data[16384];
	ssize_t n;
	uint32_t v = 7;

	if (iommufd_device_region_write(w->dev, IOMMUFD_PCI_BAR0_REGION, 0x04, &v, 4) != 4)
		return -EIO;
	do
		n = iommufd_device_mig_data_read(w->dev, w->mig_fd, data, sizeof(data));
	while (n > 0);
	return n == -ENOMSG ? 0 : n < 0 ? (int)n : WRONG;
}

static int s_stop_copy(struct world *w)
{
	uint8_t data[16384];
	ssize_t n;
	int r = iommufd_device_set_mig_state(w->dev, IOMMUFD_MIG_STATE_STOP_COPY, NULL);

	if (r)
		return r;
	do
		n = iommufd_device_mig_data_read(w->dev, w->mig_fd, data, sizeof(data));
	while (n > 0);
	return n < 0 ? (int)n : mig_state_is(w, IOMMUFD_MIG_STATE_STOP_COPY);
}

/* the saving session over: STOP, its fd closed (never injected: no allocation) */
static int s_stop(struct world *w)
{
	int r = iommufd_device_set_mig_state(w->dev, IOMMUFD_MIG_STATE_STOP, NULL);

	if (r)
		return r;
	w->mig_open = false;
	return iommufd_device_mig_data_close(w->dev, w->mig_fd);
}

/* a failed arc from STOP: the device stays in STOP, no fd */
static void still_stopped(struct world *w)
{
	assert_false(w->mig_open);
	check(mig_state_is(w, IOMMUFD_MIG_STATE_STOP));
}

static int s_resuming(struct world *w)
{
	int r = iommufd_device_set_mig_state(w->dev, IOMMUFD_MIG_STATE_RESUMING, &w->mig_fd);
	if (r)
		return r;
	w->mig_open = true;
	return 0;
}

static const struct step mig_steps[] = {
	{ .name = "dma_log_start", .run = s_log_start, .after_fail = log_off },
	{ .name = "dma_write", .run = s_dma_write },
	{ .name = "dma_log_report", .run = s_log_report },
	{ .name = "pre_copy", .run = s_pre_copy, .after_fail = still_running },
	{ .name = "precopy_read", .run = s_precopy_read },
	{ .name = "stop_copy", .run = s_stop_copy },
	{ .name = "stop", .run = s_stop },
	{ .name = "resuming", .run = s_resuming, .after_fail = still_stopped },
};

static const struct sequence mig_seq = {
	"migration", setup_mig, mig_steps, ARRAY_SIZE(mig_steps), verify_dev,
};

/* ------------------------------------------------------------ 4: fault queue */

/* a context, an IOAS, a mock device on it and a nest-parent HWPT */
static void setup_mock(struct world *w)
{
	struct kabi_test_cmd c = { .op = KABI_TEST_OP_MOCK_DOMAIN };
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = IOMMUFD_HWPT_NEST_PARENT);

	check(iommufd_emu_ctx_new(w->emu, &w->ctx));
	check(iommufd_ioas_alloc(w->ctx, &w->ioas));
	c.id = w->ioas;
	check(test_cmd(w, &c));
	w->stdev = c.mock_domain.out_stdev_id;
	w->idev = c.mock_domain.out_idev_id;
	check(iommufd_hwpt_alloc(w->ctx, w->idev, w->ioas, &o, &w->parent));
}

static int s_fault_new(struct world *w)
{
	return iommufd_fault_queue_new(w->ctx, &w->fq);
}

static void fq_unchanged(struct world *w)
{
	assert_null(w->fq);
}

static int nested_alloc(struct world *w, uint32_t pt, uint32_t flags, uint32_t fault_id,
			uint32_t *out)
{
	struct kabi_hwpt_selftest data = { .iotlb = KABI_TEST_IOTLB_DEFAULT };
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, o, .flags = flags, .fault_id = fault_id,
		     .data_type = IOMMUFD_HWPT_DATA_SELFTEST, .data_len = sizeof(data),
		     .data = &data);

	return iommufd_hwpt_alloc(w->ctx, w->idev, pt, &o, out);
}

static int s_hwpt_fault(struct world *w)
{
	return nested_alloc(w, w->parent, IOMMUFD_HWPT_FAULT_ID_VALID,
			    iommufd_fault_queue_get_id(w->fq), &w->iopf_hwpt);
}

static int replace(struct world *w, uint32_t pt)
{
	struct kabi_test_cmd c = { .op = KABI_TEST_OP_MOCK_DOMAIN_REPLACE, .id = w->stdev };

	c.mock_domain_replace.pt_id = pt;
	return test_cmd(w, &c);
}

static int s_replace_iopf(struct world *w)
{
	return replace(w, w->iopf_hwpt);
}

static int s_trigger_iopf(struct world *w)
{
	struct kabi_test_cmd c = { .op = KABI_TEST_OP_TRIGGER_IOPF };

	c.trigger_iopf.dev_id = w->idev;
	c.trigger_iopf.grpid = 0x2;
	c.trigger_iopf.perm = KABI_PGFAULT_PERM_READ;
	c.trigger_iopf.addr = 0xdeadbeef000ull;
	return test_cmd(w, &c);
}

/* the kernel drops a fault it cannot queue (TRIGGER_IOPF still succeeds) */
static void iopf_dropped(struct world *w)
{
	struct iommufd_fault f[2];

	assert_int_equal(iommufd_fault_queue_read(w->fq, f, 2), 0);
}

static int s_fault_read(struct world *w)
{
	struct iommufd_fault f[4];
	int n = iommufd_fault_queue_read(w->fq, f, 4);

	if (n < 0)
		return n;
	if (n != 1 || f[0].dev_id != w->idev || f[0].addr != 0xdeadbeef000ull ||
	    f[0].grpid != 2)
		return WRONG;
	w->cookie = f[0].cookie;
	return 0;
}

static int s_fault_respond(struct world *w)
{
	return iommufd_fault_queue_respond(w->fq, w->cookie, IOMMUFD_FAULT_RESPONSE_SUCCESS);
}

static void verify_mock(struct world *w, size_t done)
{
	(void)done;
	if (w->hwq)
		check(iommufd_destroy(w->ctx, w->hwq)); /* its pinned, locked area */
	verify_maps(w, done);
}

static const struct step fault_steps[] = {
	{ .name = "fault_queue_new", .run = s_fault_new, .after_fail = fq_unchanged },
	{ .name = "hwpt_alloc_fault", .run = s_hwpt_fault },
	{ .name = "replace", .run = s_replace_iopf },
	{ .name = "trigger_iopf", .run = s_trigger_iopf, .swallowed = iopf_dropped },
	{ .name = "fault_read", .run = s_fault_read },
	{ .name = "fault_respond", .run = s_fault_respond },
};

static const struct sequence fault_seq = {
	"fault", setup_mock, fault_steps, ARRAY_SIZE(fault_steps), verify_mock,
};

/* ------------------------------------------------------------ 5: vIOMMU */

static void setup_viommu(struct world *w)
{
	setup_mock(w);
	/* the HW queue's guest memory, in the parent's IOAS (mock aperture) */
	{
		uint64_t iova = KABI_MOCK_APERTURE_START;

		check(iommufd_ioas_map(w->ctx, w->ioas, w->buf, BUFSZ, &iova, FIXED));
		w->mapped += BUFSZ;
	}
}

static int s_viommu(struct world *w)
{
	struct {
		uint32_t in_data;
		uint32_t out_data;
		uint64_t out_mmap_offset;
		uint64_t out_mmap_length;
	} data = { .in_data = 0x1234 };
	IOMMUFD_OPTS(struct iommufd_viommu_alloc_opts, o, .data_len = sizeof(data), .data = &data);
	int r = iommufd_viommu_alloc(w->ctx, w->idev, w->parent, IOMMUFD_VIOMMU_SELFTEST, &o,
				     &w->viommu);

	if (r)
		return r;
	w->mmap_off = data.out_mmap_offset;
	w->mmap_len = data.out_mmap_length;
	return data.out_data == 0x1234 && w->mmap_len ? 0 : WRONG;
}

static int s_ctx_mmap(struct world *w)
{
	void *p = NULL;
	int r = iommufd_ctx_mmap(w->ctx, w->mmap_off, w->mmap_len, &p);

	if (r)
		return r;
	w->mmap_addr = p;
	/* the region starts with the vIOMMU's in_data */
	return *(uint32_t *)p == 0x1234 ? 0 : WRONG;
}

static void mmap_unchanged(struct world *w)
{
	assert_null(w->mmap_addr);
}

static int s_vdevice(struct world *w)
{
	return iommufd_vdevice_alloc(w->ctx, w->viommu, w->idev, VIRT_ID, &w->vdev);
}

static int s_veventq(struct world *w)
{
	return iommufd_veventq_new(w->ctx, w->viommu, IOMMUFD_VEVENTQ_SELFTEST, 4, NULL, &w->vq);
}

static void vq_unchanged(struct world *w)
{
	assert_null(w->vq);
}

static int s_hw_queue(struct world *w)
{
	return iommufd_hw_queue_alloc(w->ctx, w->viommu, IOMMUFD_HW_QUEUE_SELFTEST, 0,
				      KABI_MOCK_APERTURE_START, PAGE, NULL, &w->hwq);
}

static int s_nested_viommu(struct world *w)
{
	return nested_alloc(w, w->viommu, 0, 0, &w->nested);
}

static int s_replace_nested(struct world *w)
{
	return replace(w, w->nested);
}

/* a vEVENT, then read it back */
static int s_vevent(struct world *w)
{
	struct kabi_test_cmd c = { .op = KABI_TEST_OP_TRIGGER_VEVENT };
	struct iommufd_vevent ev;
	uint32_t virt;
	int r;

	c.trigger_vevent.dev_id = w->idev;
	r = test_cmd(w, &c);
	if (r)
		return r;
	r = iommufd_veventq_read(w->vq, &ev);
	if (r < 0)
		return r;
	if (r != 1 || ev.data_len != sizeof(virt))
		return WRONG;
	memcpy(&virt, ev.data, sizeof(virt));
	return virt == VIRT_ID ? 0 : WRONG;
}

/* a vEVENT that could not be stored is recorded as lost (drivers/iommu/iommufd/eventq.c) */
static void vevent_lost(struct world *w)
{
	struct iommufd_vevent ev;

	assert_int_equal(iommufd_veventq_read(w->vq, &ev), 1);
	assert_int_equal(ev.data_len, 0);
	assert_true(ev.lost >= 1);
	assert_int_equal(iommufd_veventq_read(w->vq, &ev), 0);
}

static const struct step viommu_steps[] = {
	{ .name = "viommu_alloc", .run = s_viommu },
	{ .name = "ctx_mmap", .run = s_ctx_mmap, .after_fail = mmap_unchanged },
	{ .name = "vdevice_alloc", .run = s_vdevice },
	{ .name = "veventq_new", .run = s_veventq, .after_fail = vq_unchanged },
	{ .name = "hw_queue_alloc", .run = s_hw_queue },
	{ .name = "hwpt_alloc_nested", .run = s_nested_viommu },
	{ .name = "replace", .run = s_replace_nested },
	{ .name = "vevent", .run = s_vevent, .after_fail = vevent_lost },
};

static const struct sequence viommu_seq = {
	"viommu", setup_viommu, viommu_steps, ARRAY_SIZE(viommu_steps), verify_mock,
};

/* ------------------------------------------------------------ 6: access object */

static void setup_access(struct world *w)
{
	uint64_t iova = IOVA, iova2 = IOVA2;

	check(iommufd_emu_ctx_new(w->emu, &w->ctx));
	check(iommufd_ioas_alloc(w->ctx, &w->ioas));
	check(iommufd_ioas_alloc(w->ctx, &w->ioas2));
	check(iommufd_ioas_map(w->ctx, w->ioas, w->buf, BUFSZ, &iova, FIXED));
	check(iommufd_ioas_map(w->ctx, w->ioas2, w->buf, BUFSZ, &iova2, FIXED));
	w->mapped = w->mapped2 = BUFSZ;
}

static int s_create_access(struct world *w)
{
	struct kabi_test_cmd c = { .op = KABI_TEST_OP_CREATE_ACCESS, .id = w->ioas };
	int r;

	c.create_access.flags = KABI_MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
	r = test_cmd(w, &c);
	if (!r)
		w->access_fd = (int)c.create_access.out_access_fd;
	return r;
}

static int s_access_pages(struct world *w)
{
	struct kabi_test_cmd c = { .op = KABI_TEST_OP_ACCESS_PAGES, .id = (uint32_t)w->access_fd };

	c.access_pages.iova = IOVA;
	c.access_pages.length = PAGE;
	c.access_pages.uptr = (uintptr_t)w->buf;
	return test_cmd(w, &c);
}

/* the access reads len bytes at iova of its IOAS: 0 when they are buf's */
static int access_read(struct world *w, uint64_t iova)
{
	struct kabi_test_cmd c = { .op = KABI_TEST_OP_ACCESS_RW, .id = (uint32_t)w->access_fd };
	uint8_t out[64];
	int r;

	c.access_rw.iova = iova;
	c.access_rw.length = sizeof(out);
	c.access_rw.uptr = (uintptr_t)out;
	r = test_cmd(w, &c);
	if (r)
		return r;
	return memcmp(out, w->buf, sizeof(out)) ? WRONG : 0;
}

static int s_access_replace(struct world *w)
{
	struct kabi_test_cmd c = { .op = KABI_TEST_OP_ACCESS_REPLACE_IOAS,
				   .id = (uint32_t)w->access_fd };

	c.access_replace_ioas.ioas_id = w->ioas2;
	return test_cmd(w, &c);
}

/* a failed replace leaves the access on its IOAS, with its pinned page */
static void access_unchanged(struct world *w)
{
	struct kabi_test_cmd c = { .op = KABI_TEST_OP_MD_CHECK_REFS };

	c.check_refs.length = PAGE;
	c.check_refs.uptr = (uintptr_t)w->buf;
	c.check_refs.refs = 1;
	check(test_cmd(w, &c));
	check(access_read(w, IOVA));
	assert_errno(access_read(w, IOVA2), ENOENT);
}

static int s_access_rw2(struct world *w)
{
	return access_read(w, IOVA2);
}

static const struct step access_steps[] = {
	{ .name = "create_access", .run = s_create_access },
	{ .name = "access_pages", .run = s_access_pages },
	{ .name = "access_replace_ioas", .run = s_access_replace, .after_fail = access_unchanged },
	{ .name = "access_rw", .run = s_access_rw2 },
};

static const struct sequence access_seq = {
	"access", setup_access, access_steps, ARRAY_SIZE(access_steps), verify_maps,
};

/* ------------------------------------------------------------ tests */

static void run_seq(const struct sequence *seq, unsigned long min_sites)
{
	unsigned long n;

	if (test_real_kernel())
		skip();
	n = sweep(seq);
	print_message("%s: %lu injected failures, each unwound\n", seq->name, n);
	/* the sweep really injected (a sequence without sites tests nothing) */
	assert_true(n >= min_sites);
}

static void test_ioas(void **state)
{
	(void)state;
	run_seq(&ioas_seq, 10);
}

static void test_device(void **state)
{
	(void)state;
	run_seq(&dev_seq, 5);
}

static void test_group(void **state)
{
	(void)state;
	run_seq(&group_seq, 5);
}

static void test_reset(void **state)
{
	(void)state;
	run_seq(&reset_seq, 3);
}

static void test_dirty(void **state)
{
	(void)state;
	run_seq(&dirty_seq, 3);
}

static void test_migration(void **state)
{
	(void)state;
	run_seq(&mig_seq, 4);
}

static void test_fault(void **state)
{
	(void)state;
	run_seq(&fault_seq, 4);
}

static void test_viommu(void **state)
{
	(void)state;
	run_seq(&viommu_seq, 5);
}

/*
 * Not an injection test, but the emulator's mmap tracking it relies on: each
 * piece of a vIOMMU mapping keeps the vIOMMU busy (drivers/iommu/iommufd/viommu.c: DESTROY gives EBUSY
 * until munmap), whichever part is unmapped first.
 */
static void test_access(void **state)
{
	(void)state;
	run_seq(&access_seq, 3);
}

static void test_partial_munmap(void **state)
{
	struct world w;

	(void)state;
	if (test_real_kernel())
		skip();
	for (int first = 0; first < 2; first++) {
		uint8_t *p;

		world_new(&w);
		setup_mock(&w);
		check(s_viommu(&w));
		check(s_ctx_mmap(&w));
		assert_int_equal(w.mmap_len, 2 * PAGE);
		p = w.mmap_addr;
		assert_errno(iommufd_destroy(w.ctx, w.viommu), EBUSY);
		/* one page gone: the other still maps the region */
		check(iommufd_ctx_munmap(w.ctx, p + first * PAGE, PAGE));
		assert_errno(iommufd_destroy(w.ctx, w.viommu), EBUSY);
		/* the same page again: nothing more goes */
		check(iommufd_ctx_munmap(w.ctx, p + first * PAGE, PAGE));
		assert_errno(iommufd_destroy(w.ctx, w.viommu), EBUSY);
		check(iommufd_ctx_munmap(w.ctx, p + (1 - first) * PAGE, PAGE));
		w.mmap_addr = NULL;
		check(iommufd_destroy(w.ctx, w.viommu));
		world_free(&w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ioas),
		cmocka_unit_test(test_device),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_dirty),
		cmocka_unit_test(test_migration),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_viommu),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_access),
		cmocka_unit_test(test_partial_munmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
