// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * VFIO migration and DMA logging. On vfio-pci (the VM's edu and NVMe, and
 * the emulator's devices without a migration driver) every call answers
 * ENOTTY: that case runs on both backends (run-vm --compare). The rest is
 * the emulator's edu with IOMMUFD_EMU_DEVICE_MIGRATION, a migration driver
 * the VM has no device for: every arc of the kernel's FSM from every state,
 * with all the optional states and with STOP_COPY alone
 * (vfio_mig_get_next_state(): the state reached, the errno and the state
 * kept when refused, which arcs give a data fd), the data fd (STOP_COPY's
 * end of stream, PRE_COPY's initial and dirty data, ENOMSG, ENODEV once the
 * session ended, VFIO_MIG_GET_PRECOPY_INFO), ERROR and its way out, a
 * device state carried from one edu to another, and DMA logging (START,
 * REPORT and their checks, the pages an edu DMA writes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device-common.h"

#define SRC_BDF "0000:00:05.0" /* edu with a migration driver */
#define DST_BDF "0000:00:06.0" /* another: the destination */
#define EDU_LIVE 0x04
#define EDU_FACT 0x08
#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000
#define IOVA 0x100000
#define PAGE 4096
#define NPAGES 16
#define ALL_FLAGS (IOMMUFD_MIGRATION_STOP_COPY | IOMMUFD_MIGRATION_P2P | IOMMUFD_MIGRATION_PRE_COPY)

enum { ERR = IOMMUFD_MIG_STATE_ERROR, STOP = IOMMUFD_MIG_STATE_STOP, RUN = IOMMUFD_MIG_STATE_RUNNING,
       STOPC = IOMMUFD_MIG_STATE_STOP_COPY, RES = IOMMUFD_MIG_STATE_RESUMING,
       RUNP = IOMMUFD_MIG_STATE_RUNNING_P2P, PRE = IOMMUFD_MIG_STATE_PRE_COPY,
       PREP = IOMMUFD_MIG_STATE_PRE_COPY_P2P };

struct env {
	struct iommufd_ctx *ctx;
	struct iommufd_device *src, *dst;
	uint32_t ioas;
	uint8_t *mem; /* NPAGES pages mapped at IOVA */
};

static struct iommufd_device *add_edu(const char *bdf)
{
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o, .kind = IOMMUFD_EMU_DEVICE_EDU, .bdf = bdf,
		     .flags = IOMMUFD_EMU_DEVICE_MIGRATION);

	check(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0));
	return dev_open(test_scope(), bdf);
}

static void bus_master_on(struct iommufd_device *dev)
{
	uint32_t cmd = 0;

	check(iommufd_device_config_read(dev, 0x04, 2, &cmd));
	check(iommufd_device_config_write(dev, 0x04, 2, cmd | 0x6));
}

static int setup(void **state)
{
	struct env *e;
	uint64_t iova = IOVA;

	if (test_real_kernel()) {
		*state = NULL;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	assert_non_null(e);
	test_backend_get();
	e->ctx = test_ctx_new();
	check(iommufd_ioas_alloc(e->ctx, &e->ioas));
	e->src = add_edu(SRC_BDF);
	e->dst = add_edu(DST_BDF);
	check(iommufd_device_bind(e->src, e->ctx, NULL, NULL));
	check(iommufd_device_bind(e->dst, e->ctx, NULL, NULL));
	check(iommufd_device_attach(e->src, e->ioas, NULL));
	check(iommufd_device_attach(e->dst, e->ioas, NULL));
	bus_master_on(e->src);
	bus_master_on(e->dst);
	e->mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(e->mem != MAP_FAILED);
	check(iommufd_ioas_map(e->ctx, e->ioas, e->mem, NPAGES * PAGE, &iova,
			       IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	if (!e)
		return 0;
	iommufd_device_unref(e->src);
	iommufd_device_unref(e->dst);
	iommufd_ctx_unref(e->ctx);
	munmap(e->mem, NPAGES * PAGE);
	test_backend_put();
	free(e);
	return 0;
}

#define ENV(state)                                                            \
	({                                                                    \
		if (!*(state))                                                \
			skip();                                               \
		(struct env *)*(state);                                       \
	})

static void reg_write(struct iommufd_device *dev, uint64_t off, uint64_t v, size_t w)
{
	assert_int_equal(iommufd_device_region_write(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, w), (ssize_t)w);
}

static uint64_t reg_read(struct iommufd_device *dev, uint64_t off, size_t w)
{
	uint64_t v = 0;

	assert_int_equal(iommufd_device_region_read(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, w), (ssize_t)w);
	return v;
}

/* one edu DMA (synchronous through the device file) */
static void edu_dma(struct iommufd_device *dev, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	reg_write(dev, EDU_SRC, src, 8);
	reg_write(dev, EDU_DST, dst, 8);
	reg_write(dev, EDU_CNT, cnt, 8);
	reg_write(dev, EDU_CMD, cmd | EDU_CMD_RUN, 8);
	assert_int_equal(reg_read(dev, EDU_CMD, 8) & EDU_CMD_RUN, 0);
}

static int get_state(struct iommufd_device *dev)
{
	enum iommufd_mig_state s = IOMMUFD_MIG_STATE_ERROR;

	check(iommufd_device_get_mig_state(dev, &s));
	return (int)s;
}

/* set state (which must work) and close any data fd */
static void go(struct iommufd_device *dev, int s)
{
	int fd = -1;

	check(iommufd_device_set_mig_state(dev, (enum iommufd_mig_state)s, &fd));
	if (fd >= 0)
		check(iommufd_device_mig_data_close(dev, fd));
	assert_int_equal(get_state(dev), s);
}

/* read the whole stream (to its end, or to ENOMSG in PRE_COPY) into buf; the bytes read */
static size_t drain(struct iommufd_device *dev, int fd, uint8_t *buf, size_t cap, bool *at_end)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = iommufd_device_mig_data_read(dev, fd, buf + got, cap - got > 1000 ? 1000 : cap - got);

		if (n == -ENOMSG) {
			*at_end = false;
			return got;
		}
		assert_true(n >= 0);
		if (n == 0) {
			*at_end = true;
			return got;
		}
		got += (size_t)n;
		assert_true(got < cap);
	}
}

/* ------------------------------------------------------------ vfio-pci: ENOTTY (both backends) */

static void enotty_on(const char *bdf)
{
	struct iommufd_ctx *scope = dev_scope(), *ctx = test_ctx_new();
	struct iommufd_device *dev = dev_open(scope, bdf);
	struct iommufd_dma_log_range r = { .iova = 0x100000, .length = 0x10000 };
	enum iommufd_mig_state st;
	uint64_t v, ps = PAGE, bm = 0;
	int fd = 5;

	check(iommufd_device_bind(dev, ctx, NULL, NULL));
	for (uint32_t f = IOMMUFD_FEATURE_DMA_LOGGING_START; f <= IOMMUFD_FEATURE_DMA_LOGGING_REPORT; f++)
		assert_errno(iommufd_device_feature_probe(dev, f, 0), ENOTTY);
	assert_errno(iommufd_device_get_migration(dev, &v), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "no migration support"));
	assert_errno(iommufd_device_get_mig_state(dev, &st), ENOTTY);
	assert_errno(iommufd_device_set_mig_state(dev, IOMMUFD_MIG_STATE_STOP_COPY, &fd), ENOTTY);
	assert_int_equal(fd, -1);
	assert_errno(iommufd_device_get_mig_data_size(dev, &v), ENOTTY);
	/* the core refuses PRECOPY_INFOv2 of a device without PRE_COPY first */
	assert_errno(iommufd_device_enable_precopy_info_v2(dev), EINVAL);
	assert_errno(iommufd_device_dma_log_start(dev, &r, 1, &ps), ENOTTY);
	assert_non_null(strstr(iommufd_last_error(), "no DMA logging"));
	assert_int_equal(ps, PAGE);
	/* ENOTTY before any check of the arguments */
	assert_errno(iommufd_device_dma_log_start(dev, &r, 0, &ps), ENOTTY);
	assert_errno(iommufd_device_dma_log_stop(dev), ENOTTY);
	assert_errno(iommufd_device_dma_log_report(dev, 0x100000, 0x10000, PAGE, &bm), ENOTTY);
	assert_errno(iommufd_device_dma_log_report(dev, 0x100000, 0x10000, 1, &bm), ENOTTY);
	/* the library's own checks */
	assert_errno(iommufd_device_dma_log_start(dev, &r, 1, NULL), EINVAL);
	assert_errno(iommufd_device_dma_log_start(dev, NULL, 1, &ps), EINVAL);
	assert_errno(iommufd_device_dma_log_report(dev, 0x100000, 0x10000, PAGE, NULL), EINVAL);
	assert_errno(iommufd_device_dma_log_stop(NULL), EINVAL);
	assert_errno(iommufd_device_mig_data_read(dev, -1, &v, 8), EBADF);
	assert_errno(iommufd_device_mig_data_write(dev, -1, &v, 8), EBADF);
	assert_errno(iommufd_device_mig_data_close(dev, -1), EBADF);
	assert_errno(iommufd_device_mig_data_read(NULL, 3, &v, 8), EINVAL);
	iommufd_device_unref(dev);
	iommufd_ctx_unref(ctx);
}

static int put_backend(void **state)
{
	(void)state;
	test_backend_put();
	return 0;
}

static void test_enotty_edu(void **state)
{
	(void)state;
	enotty_on(EDU_BDF);
}

static void test_enotty_nvme(void **state)
{
	(void)state;
	enotty_on(NVME_BDF);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(iommufd_mig_state_name(IOMMUFD_MIG_STATE_ERROR), "ERROR");
	assert_string_equal(iommufd_mig_state_name(IOMMUFD_MIG_STATE_RUNNING), "RUNNING");
	assert_string_equal(iommufd_mig_state_name(IOMMUFD_MIG_STATE_PRE_COPY_P2P), "PRE_COPY_P2P");
	assert_null(iommufd_mig_state_name((enum iommufd_mig_state)8));
	assert_null(iommufd_mig_state_name((enum iommufd_mig_state)-1));
}

/* ------------------------------------------------------------ the FSM (emulator) */

static void test_features(void **state)
{
	struct env *e = ENV(state);
	uint64_t flags = 0, size = 0;

	check(iommufd_device_get_migration(e->src, &flags));
	assert_int_equal(flags, ALL_FLAGS);
	assert_int_equal(get_state(e->src), RUN);
	check(iommufd_device_get_mig_data_size(e->src, &size));
	assert_true(size > 4096); /* the DMA buffer and the registers */
	for (uint32_t f = IOMMUFD_FEATURE_MIGRATION; f <= IOMMUFD_FEATURE_MIG_DATA_SIZE; f++)
		if (f < IOMMUFD_FEATURE_LOW_POWER_ENTRY || f > IOMMUFD_FEATURE_LOW_POWER_EXIT)
			check(iommufd_device_feature_probe(e->src, f, 0));
	/* the accesses each has */
	assert_errno(iommufd_device_feature_probe(e->src, IOMMUFD_FEATURE_MIGRATION, IOMMUFD_FEATURE_SET),
		     EINVAL);
	check(iommufd_device_feature_probe(e->src, IOMMUFD_FEATURE_MIG_DEVICE_STATE,
					   IOMMUFD_FEATURE_GET | IOMMUFD_FEATURE_SET));
	assert_errno(iommufd_device_feature_probe(e->src, IOMMUFD_FEATURE_DMA_LOGGING_START,
						  IOMMUFD_FEATURE_GET), EINVAL);
	assert_errno(iommufd_device_feature_probe(e->src, IOMMUFD_FEATURE_DMA_LOGGING_REPORT,
						  IOMMUFD_FEATURE_SET), EINVAL);
	check(iommufd_device_feature_probe(e->src, IOMMUFD_FEATURE_MIG_PRECOPY_INFO_V2, IOMMUFD_FEATURE_SET));
	check(iommufd_device_enable_precopy_info_v2(e->src));
	/* argsz too small for the state */
	assert_errno(iommufd_device_feature(e->src, IOMMUFD_FEATURE_MIG_DEVICE_STATE, IOMMUFD_FEATURE_GET,
					    &flags, 4), EINVAL);
}

/* does the last arc of cur -> want start a session (a data fd)? */
static bool gives_fd(int cur, int want)
{
	if (want == RES)
		return true;
	if (want == STOPC)
		return cur != PRE && cur != PREP;
	if (want == PRE || want == PREP)
		return cur != PRE && cur != PREP;
	return false;
}

static void test_every_arc(void **state)
{
	struct env *e = ENV(state);
	static const int states[] = { STOP, RUN, STOPC, RES, RUNP, PRE, PREP };

	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		for (int want = 0; want <= 9; want++) {
			int cur = states[i], fd = -1, r;
			bool refused = want != cur && (want == ERR || want > PREP ||
						       (cur == STOPC && (want == PRE || want == PREP)));

			go(e->src, cur);
			r = iommufd_device_set_mig_state(e->src, (enum iommufd_mig_state)want, &fd);
			if (refused) {
				if (r != -EINVAL)
					fail_msg("%d -> %d: %d, expected -EINVAL", cur, want, r);
				assert_int_equal(fd, -1);
				/* refused at the first arc: the state stays */
				assert_int_equal(get_state(e->src), cur);
			} else {
				if (r)
					fail_msg("%d -> %d: %s", cur, want, iommufd_last_error());
				assert_int_equal(get_state(e->src), want);
				if ((fd >= 0) != (want != cur && gives_fd(cur, want)))
					fail_msg("%d -> %d: data fd %d", cur, want, fd);
				if (fd >= 0)
					check(iommufd_device_mig_data_close(e->src, fd));
			}
			go(e->src, RUN);
		}
	}
}

/* a driver with STOP_COPY alone: the optional states refused, the FSM skips them */
static void test_every_arc_stop_copy_only(void **state)
{
	struct env *e = ENV(state);
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, o, .kind = IOMMUFD_EMU_DEVICE_EDU,
		     .bdf = "0000:00:07.0",
		     .flags = IOMMUFD_EMU_DEVICE_MIGRATION | IOMMUFD_EMU_DEVICE_MIGRATION_STOP_COPY_ONLY);
	static const int states[] = { STOP, RUN, STOPC, RES };
	struct iommufd_device *dev;
	uint64_t flags = 0;

	check(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0));
	dev = dev_open(test_scope(), "0000:00:07.0");
	check(iommufd_device_bind(dev, e->ctx, NULL, NULL));
	check(iommufd_device_get_migration(dev, &flags));
	assert_int_equal(flags, IOMMUFD_MIGRATION_STOP_COPY);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		for (int want = 0; want <= 9; want++) {
			int cur = states[i], fd = -1, r;
			bool refused = want != cur && (want == ERR || want > STOPC + 1 ||
						       want == RUNP || want == PRE || want == PREP);

			go(dev, cur);
			r = iommufd_device_set_mig_state(dev, (enum iommufd_mig_state)want, &fd);
			if (refused) {
				if (r != -EINVAL)
					fail_msg("%d -> %d: %d, expected -EINVAL", cur, want, r);
				assert_int_equal(get_state(dev), cur);
				if (want == RUNP || want == PRE || want == PREP)
					assert_non_null(strstr(iommufd_last_error(), "has no"));
			} else {
				if (r)
					fail_msg("%d -> %d: %s", cur, want, iommufd_last_error());
				assert_int_equal(get_state(dev), want);
				if ((fd >= 0) != (want != cur && gives_fd(cur, want)))
					fail_msg("%d -> %d: data fd %d", cur, want, fd);
				if (fd >= 0)
					check(iommufd_device_mig_data_close(dev, fd));
			}
			go(dev, RUN);
		}
	}
	/* no PRE_COPY: the core refuses PRECOPY_INFOv2 */
	assert_errno(iommufd_device_enable_precopy_info_v2(dev), EINVAL);
	iommufd_device_unref(dev);
	/* the option needs MIGRATION */
	o.bdf = "0000:00:08.0";
	o.flags = IOMMUFD_EMU_DEVICE_MIGRATION_STOP_COPY_ONLY;
	assert_errno(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0), EINVAL);
	o.kind = IOMMUFD_EMU_DEVICE_NVME;
	o.flags = IOMMUFD_EMU_DEVICE_MIGRATION;
	assert_errno(iommufd_emu_add_pci_device(test_emu(), &o, NULL, 0), EINVAL);
}

static void test_arc_reasons(void **state)
{
	struct env *e = ENV(state);
	int fd;

	assert_errno(iommufd_device_set_mig_state(e->src, (enum iommufd_mig_state)9, &fd), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "not a migration state"));
	assert_errno(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_ERROR, &fd), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "ERROR cannot be asked for"));
	go(e->src, STOPC);
	assert_errno(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_PRE_COPY, &fd), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "STOP_COPY -> PRE_COPY is no arc"));
	go(e->src, RUN);
	/* a data fd the caller does not want is closed */
	check(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_STOP_COPY, NULL));
	go(e->src, RUN);
}

/* a stream the driver does not take: ERROR, left only by a reset or the last close */
static void test_error_state(void **state)
{
	struct env *e = ENV(state);
	uint8_t junk[64];
	int fd = -1;

	memset(junk, 0x5a, sizeof(junk));
	go(e->src, STOP);
	check(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_RESUMING, &fd));
	assert_true(fd >= 0);
	assert_int_equal(iommufd_device_mig_data_write(e->src, fd, junk, sizeof(junk)), sizeof(junk));
	/* a resuming session gives nothing to read */
	assert_errno(iommufd_device_mig_data_read(e->src, fd, junk, sizeof(junk)), EINVAL);
	assert_errno(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_RUNNING, NULL), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "in ERROR"));
	assert_int_equal(get_state(e->src), ERR);
	/* the session ended with the arc */
	assert_errno(iommufd_device_mig_data_write(e->src, fd, junk, 8), ENODEV);
	check(iommufd_device_mig_data_close(e->src, fd));
	assert_errno(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_STOP, NULL), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "in ERROR"));
	/* asking for the state it is in does nothing, even ERROR */
	check(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_ERROR, NULL));
	/* edu has no function reset: closing the device is the way out */
	assert_errno(iommufd_device_reset(e->src), EINVAL);
	iommufd_device_unref(e->src);
	e->src = dev_open(test_scope(), SRC_BDF);
	check(iommufd_device_bind(e->src, e->ctx, NULL, NULL));
	assert_int_equal(get_state(e->src), RUN);
}

/* ------------------------------------------------------------ the data fd (emulator) */

static void test_stop_copy_stream(void **state)
{
	struct env *e = ENV(state);
	IOMMUFD_OPTS(struct iommufd_mig_precopy_info, info);
	uint64_t size = 0;
	uint8_t buf[16384];
	bool end = false;
	int fd = -1;

	check(iommufd_device_get_mig_data_size(e->src, &size));
	go(e->src, STOP);
	check(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_STOP_COPY, &fd));
	assert_true(fd >= 0);
	/* not PRE_COPY: no precopy info; not resuming: no write */
	assert_errno(iommufd_device_mig_precopy_info(e->src, fd, &info), EINVAL);
	assert_errno(iommufd_device_mig_data_write(e->src, fd, buf, 8), EINVAL);
	assert_int_equal(drain(e->src, fd, buf, sizeof(buf), &end), size);
	assert_true(end);
	assert_int_equal(iommufd_device_mig_data_read(e->src, fd, buf, sizeof(buf)), 0);
	/* the size stays the estimate in every state */
	check(iommufd_device_get_mig_data_size(e->src, &size));
	assert_int_equal(drain(e->src, fd, buf, sizeof(buf), &end), 0);
	go(e->src, STOP);
	assert_errno(iommufd_device_mig_data_read(e->src, fd, buf, 8), ENODEV);
	assert_non_null(strstr(iommufd_last_error(), "session has ended"));
	check(iommufd_device_mig_data_close(e->src, fd));
	go(e->src, RUN);
}

static void test_pre_copy_stream(void **state)
{
	struct env *e = ENV(state);
	IOMMUFD_OPTS(struct iommufd_mig_precopy_info, info);
	uint64_t size = 0;
	uint8_t buf[32768];
	size_t got;
	bool end = true;
	int fd = -1, efd;

	check(iommufd_device_get_mig_data_size(e->src, &size));
	check(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_PRE_COPY, &fd));
	assert_true(fd >= 0);
	check(iommufd_device_mig_precopy_info(e->src, fd, &info));
	assert_int_equal(info.initial_bytes, size);
	assert_int_equal(info.dirty_bytes, 0);
	assert_int_equal(info.flags, 0);
	/* part of the initial data */
	assert_int_equal(iommufd_device_mig_data_read(e->src, fd, buf, 100), 100);
	check(iommufd_device_mig_precopy_info(e->src, fd, &info));
	assert_int_equal(info.initial_bytes, size - 100);
	got = 100 + drain(e->src, fd, buf + 100, sizeof(buf) - 100, &end);
	assert_int_equal(got, size);
	assert_false(end); /* ENOMSG: the temporary end */
	check(iommufd_device_mig_precopy_info(e->src, fd, &info));
	assert_int_equal(info.initial_bytes, 0);
	assert_int_equal(info.dirty_bytes, 0);
	/* the device keeps running: its state changes, dirty data appears */
	reg_write(e->src, EDU_LIVE, 0x1234, 4);
	check(iommufd_device_mig_precopy_info(e->src, fd, &info));
	assert_int_equal(info.initial_bytes, 0);
	assert_int_equal(info.dirty_bytes, size);
	assert_int_equal(drain(e->src, fd, buf, sizeof(buf), &end), size);
	assert_false(end);
	/* P2P quiesced: still PRE_COPY's session */
	go(e->src, PREP);
	check(iommufd_device_mig_precopy_info(e->src, fd, &info));
	/* STOP_COPY continues the session (no new fd): the final data, then the end */
	check(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_STOP_COPY, &efd));
	assert_int_equal(efd, -1);
	assert_errno(iommufd_device_mig_precopy_info(e->src, fd, &info), EINVAL);
	assert_int_equal(drain(e->src, fd, buf, sizeof(buf), &end), size);
	assert_true(end);
	/* the caller's checks; an fd that is no data fd */
	assert_errno(iommufd_device_mig_precopy_info(e->src, fd, NULL), EINVAL);
	info.reserved = 1;
	assert_errno(iommufd_device_mig_precopy_info(e->src, fd, &info), EINVAL);
	efd = eventfd(0, EFD_CLOEXEC);
	assert_true(efd >= 0);
	info.reserved = 0;
	assert_errno(iommufd_device_mig_precopy_info(e->src, efd, &info), ENOTTY);
	close(efd);
	check(iommufd_device_mig_data_close(e->src, fd));
	go(e->src, RUN);
}

/* a PRE_COPY session that ends by going back to RUNNING */
static void test_pre_copy_abort(void **state)
{
	struct env *e = ENV(state);
	uint8_t buf[64];
	int fd = -1;

	check(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_PRE_COPY, &fd));
	go(e->src, RUN);
	assert_errno(iommufd_device_mig_data_read(e->src, fd, buf, sizeof(buf)), ENODEV);
	check(iommufd_device_mig_data_close(e->src, fd));
}

/* the state carried from one edu to another: registers and the DMA buffer */
static void test_state_carried(void **state)
{
	struct env *e = ENV(state);
	uint8_t stream[32768], pattern[2048];
	size_t len = 0;
	bool end = false;
	int sfd = -1, dfd = -1;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + 3);
	memcpy(e->mem, pattern, sizeof(pattern));
	edu_dma(e->src, IOVA, EDU_BUF, sizeof(pattern), 0); /* RAM -> the source's buffer */
	reg_write(e->src, EDU_LIVE, 0xcafe, 4);
	reg_write(e->src, EDU_FACT, 6, 4);
	assert_int_equal(reg_read(e->src, EDU_FACT, 4), 720);
	go(e->src, STOP);
	check(iommufd_device_set_mig_state(e->src, IOMMUFD_MIG_STATE_STOP_COPY, &sfd));
	len = drain(e->src, sfd, stream, sizeof(stream), &end);
	assert_true(end);
	check(iommufd_device_mig_data_close(e->src, sfd));

	/* the destination: STOP -> RESUMING, the stream in pieces, -> RUNNING */
	go(e->dst, STOP);
	check(iommufd_device_set_mig_state(e->dst, IOMMUFD_MIG_STATE_RESUMING, &dfd));
	assert_true(dfd >= 0);
	assert_int_equal(iommufd_device_mig_data_write(e->dst, dfd, stream, 10), 10);
	assert_int_equal(iommufd_device_mig_data_write(e->dst, dfd, stream + 10, len - 10),
			 (ssize_t)(len - 10));
	check(iommufd_device_set_mig_state(e->dst, IOMMUFD_MIG_STATE_RUNNING, NULL));
	check(iommufd_device_mig_data_close(e->dst, dfd));
	assert_int_equal(reg_read(e->dst, EDU_LIVE, 4), (uint32_t)~0xcafeu);
	assert_int_equal(reg_read(e->dst, EDU_FACT, 4), 720);
	/* the destination's buffer is the source's: it DMAs it into page 2 */
	edu_dma(e->dst, EDU_BUF, IOVA + 2 * PAGE, sizeof(pattern), EDU_CMD_TO_RAM);
	assert_memory_equal(e->mem + 2 * PAGE, pattern, sizeof(pattern));
	go(e->src, RUN);
}

/* stopped, the device does not DMA */
static void test_stopped_no_dma(void **state)
{
	struct env *e = ENV(state);

	memset(e->mem, 0, NPAGES * PAGE);
	reg_write(e->src, EDU_LIVE, 1, 4); /* any state */
	go(e->src, STOP);
	edu_dma(e->src, EDU_BUF, IOVA, 64, EDU_CMD_TO_RAM);
	go(e->src, RUN);
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(e->mem[i], 0);
}

/* ------------------------------------------------------------ DMA logging (emulator) */

static uint64_t report(struct env *e, uint64_t iova, uint64_t len, uint64_t page)
{
	uint64_t bm = 0;

	check(iommufd_device_dma_log_report(e->src, iova, len, page, &bm));
	return bm;
}

static void test_log_start_checks(void **state)
{
	struct env *e = ENV(state);
	struct iommufd_dma_log_range r[300];
	uint64_t ps = PAGE;

	for (size_t i = 0; i < 300; i++)
		r[i] = (struct iommufd_dma_log_range){ .iova = IOVA + i * 2 * PAGE, .length = PAGE };
	assert_errno(iommufd_device_dma_log_start(e->src, r, 0, &ps), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "no range"));
	assert_errno(iommufd_device_dma_log_start(e->src, r, 257, &ps), E2BIG);
	check(iommufd_device_dma_log_start(e->src, r, 256, &ps)); /* a page of them */
	check(iommufd_device_dma_log_stop(e->src));
	r[1].iova += 1;
	assert_errno(iommufd_device_dma_log_start(e->src, r, 2, &ps), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "range 1"));
	r[1].iova = IOVA + PAGE / 2 * 0; /* overlaps range 0 */
	r[1].length = 2 * PAGE;
	assert_errno(iommufd_device_dma_log_start(e->src, r, 2, &ps), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "overlap"));
	r[1] = (struct iommufd_dma_log_range){ .iova = ~0ull - PAGE + 1, .length = 2 * PAGE };
	assert_errno(iommufd_device_dma_log_start(e->src, r, 2, &ps), EOVERFLOW);
	/* the driver's choice of granule: the hint when it can */
	r[0].length = 2 * PAGE;
	ps = 2 * PAGE;
	check(iommufd_device_dma_log_start(e->src, r, 1, &ps));
	assert_int_equal(ps, 2 * PAGE);
	ps = PAGE;
	assert_errno(iommufd_device_dma_log_start(e->src, r, 1, &ps), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "already started"));
	check(iommufd_device_dma_log_stop(e->src));
	check(iommufd_device_dma_log_stop(e->src)); /* not started: 0 */
	ps = 512;
	r[0] = (struct iommufd_dma_log_range){ .iova = IOVA, .length = PAGE };
	check(iommufd_device_dma_log_start(e->src, r, 1, &ps));
	assert_int_equal(ps, PAGE);
	check(iommufd_device_dma_log_stop(e->src));
}

static void test_log_report(void **state)
{
	struct env *e = ENV(state);
	struct iommufd_dma_log_range r = { .iova = IOVA, .length = 8 * PAGE };
	uint64_t ps = PAGE, bm = 0, pos = 0, start = 0, count = 0;

	assert_errno(iommufd_device_dma_log_report(e->src, IOVA, 8 * PAGE, PAGE, &bm), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "not started"));
	check(iommufd_device_dma_log_start(e->src, &r, 1, &ps));
	assert_int_equal(report(e, IOVA, 8 * PAGE, PAGE), 0);
	/* the device writes 0x1000 bytes at page 1 + 0x800: pages 1 and 2 */
	edu_dma(e->src, EDU_BUF, IOVA + PAGE + 0x800, 0x1000 - 1, EDU_CMD_TO_RAM);
	/* a read of RAM is not logged, nor a write outside the ranges */
	edu_dma(e->src, IOVA + 5 * PAGE, EDU_BUF, 0x100, 0);
	edu_dma(e->src, EDU_BUF, IOVA + 9 * PAGE, 0x100, EDU_CMD_TO_RAM);
	bm = report(e, IOVA, 8 * PAGE, PAGE);
	assert_int_equal(bm, 0x6);
	assert_int_equal(iommufd_bitmap_next_run(&bm, 8, &pos, &start, &count), 1);
	assert_int_equal(start, 1);
	assert_int_equal(count, 2);
	assert_int_equal(iommufd_bitmap_next_run(&bm, 8, &pos, &start, &count), 0);
	/* read and cleared */
	assert_int_equal(report(e, IOVA, 8 * PAGE, PAGE), 0);
	/* another page size: 8 KiB pages 0 and 1; a part of the range */
	edu_dma(e->src, EDU_BUF, IOVA + PAGE + 0x800, 0x1000 - 1, EDU_CMD_TO_RAM);
	assert_int_equal(report(e, IOVA, 8 * PAGE, 2 * PAGE), 0x3);
	edu_dma(e->src, EDU_BUF, IOVA + 6 * PAGE, 0x10, EDU_CMD_TO_RAM);
	edu_dma(e->src, EDU_BUF, IOVA + 3 * PAGE, 0x10, EDU_CMD_TO_RAM);
	assert_int_equal(report(e, IOVA + 6 * PAGE, 2 * PAGE, PAGE), 0x1);
	assert_int_equal(report(e, IOVA, 8 * PAGE, PAGE), 0x8);
	/* bits already set stay: the kernel only ORs */
	edu_dma(e->src, EDU_BUF, IOVA, 0x10, EDU_CMD_TO_RAM);
	bm = 0x80;
	check(iommufd_device_dma_log_report(e->src, IOVA, 8 * PAGE, PAGE, &bm));
	assert_int_equal(bm, 0x81);
	/* the checks: page size, a range not inside the started one, wrapping */
	assert_errno(iommufd_device_dma_log_report(e->src, IOVA, 8 * PAGE, 2048, &bm), EINVAL);
	assert_non_null(strstr(iommufd_last_error(), "power of two"));
	assert_errno(iommufd_device_dma_log_report(e->src, IOVA, 8 * PAGE, 3 * PAGE, &bm), EINVAL);
	assert_errno(iommufd_device_dma_log_report(e->src, IOVA, 9 * PAGE, PAGE, &bm), EINVAL);
	assert_errno(iommufd_device_dma_log_report(e->src, IOVA - PAGE, 2 * PAGE, PAGE, &bm), EINVAL);
	assert_errno(iommufd_device_dma_log_report(e->src, IOVA, 0, PAGE, &bm), EINVAL);
	assert_errno(iommufd_device_dma_log_report(e->src, ~0ull - PAGE + 1, 2 * PAGE, PAGE, &bm),
		     EOVERFLOW);
	/* a bitmap the kernel cannot write loses the bits (iova_bitmap_set()) */
	edu_dma(e->src, EDU_BUF, IOVA, 0x10, EDU_CMD_TO_RAM);
	check(iommufd_device_dma_log_report(e->src, IOVA, 8 * PAGE, PAGE, (uint64_t *)(uintptr_t)8));
	assert_int_equal(report(e, IOVA, 8 * PAGE, PAGE), 0);
	check(iommufd_device_dma_log_stop(e->src));
	assert_errno(iommufd_device_dma_log_report(e->src, IOVA, 8 * PAGE, PAGE, &bm), EINVAL);
}

/* the last close stops logging and brings the device back to RUNNING */
static void test_close_resets(void **state)
{
	struct env *e = ENV(state);
	struct iommufd_dma_log_range r = { .iova = IOVA, .length = 8 * PAGE };
	uint64_t ps = PAGE, bm = 0;

	check(iommufd_device_dma_log_start(e->src, &r, 1, &ps));
	go(e->src, RUNP);
	iommufd_device_unref(e->src);
	e->src = dev_open(test_scope(), SRC_BDF);
	check(iommufd_device_bind(e->src, e->ctx, NULL, NULL));
	assert_int_equal(get_state(e->src), RUN);
	assert_errno(iommufd_device_dma_log_report(e->src, IOVA, 8 * PAGE, PAGE, &bm), EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_enotty_edu, put_backend),
		cmocka_unit_test_teardown(test_enotty_nvme, put_backend),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_arc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_arc_stop_copy_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arc_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_copy_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pre_copy_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pre_copy_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_carried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_no_dma, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_start_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_resets, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
