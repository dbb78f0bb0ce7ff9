// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the library's parsers of bytes the kernel hands out,
 * fault queue records (lib/core/fault.c) and vEVENT streams
 * (lib/core/viommu.c), through a fake backend below the boundary (as
 * tests/core/test-decode.c) whose queue fd plays back the input.
 *
 * Input: byte 0 picks the queue (fault, or a vEVENT queue of type SMMUv3,
 * TEGRA241 CMDQV or selftest) and byte 1 the read size for fault reads; then
 * chunks {u8 len, len bytes}, one per read(2) of the queue fd (a length byte
 * of 0xff: that read fails with EAGAIN instead). A chunk longer than the
 * read asks for is cut, as the kernel never returns more than asked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <iommufd-emu.h>

#include "shared/backend.h"
#include "shared/abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAKE_FD 7
#define QUEUE_FD 8

static const uint8_t *in_p;
static size_t in_n;

static int f_open(struct iommufd_backend *be, const char *path, int flags)
{
	(void)be;
	(void)path;
	(void)flags;
	return FAKE_FD;
}

static int f_close(struct iommufd_backend *be, int fd)
{
	(void)be;
	(void)fd;
	return 0;
}

static int f_ioctl(struct iommufd_backend *be, int fd, unsigned long req, void *arg)
{
	(void)be;
	if (fd != FAKE_FD)
		return -EBADF;
	switch (req) {
	case KABI_IOMMU_FAULT_QUEUE_ALLOC: {
		struct kabi_fault_alloc *c = arg;

		c->out_fault_id = 5;
		c->out_fault_fd = QUEUE_FD;
		return 0;
	}
	case KABI_IOMMU_VEVENTQ_ALLOC: {
		struct kabi_veventq_alloc *c = arg;

		c->out_veventq_id = 6;
		c->out_veventq_fd = QUEUE_FD;
		return 0;
	}
	case KABI_IOMMU_DESTROY:
		return 0;
	default:
		return -ENOTTY;
	}
}

static ssize_t f_read(struct iommufd_backend *be, int fd, void *buf, size_t len)
{
	size_t n;

	(void)be;
	if (fd != QUEUE_FD)
		return -EBADF;
	if (!in_n)
		return 0;
	n = *in_p++;
	in_n--;
	if (n == 0xff)
		return -EAGAIN;
	if (n > in_n)
		n = in_n;
	memcpy(buf, in_p, n < len ? n : len);
	in_p += n;
	in_n -= n;
	return (ssize_t)(n < len ? n : len);
}

static ssize_t f_write(struct iommufd_backend *be, int fd, const void *buf, size_t len)
{
	(void)be;
	(void)buf;
	if (fd != QUEUE_FD)
		return -EBADF;
	return (ssize_t)len;
}

static const struct backend_ops fake_ops = {
	.open = f_open,
	.close = f_close,
	.ioctl = f_ioctl,
	.read = f_read,
	.write = f_write,
};

static struct iommufd_backend fake_be = { .abi = IFD_BACKEND_ABI, .ops = &fake_ops };

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

static volatile uint8_t sink;

static void faults(struct iommufd_ctx *ctx, size_t max)
{
	struct iommufd_fault_queue *q = NULL;
	struct iommufd_fault *f;

	if (iommufd_fault_queue_new(ctx, &q))
		abort();
	f = calloc(max, sizeof(*f));
	if (!f)
		abort();
	for (int i = 0; i < 256 && in_n; i++) {
		int r = iommufd_fault_queue_read(q, f, max);

		if (r > (int)max)
			abort();
		for (int j = 0; j < r; j++)
			iommufd_fault_queue_respond(q, f[j].cookie, f[j].flags & 1);
	}
	free(f);
	iommufd_fault_queue_unref(q);
}

static void vevents(struct iommufd_ctx *ctx, uint32_t type)
{
	static const size_t payload[] = { 32, 16, 4 };
	struct iommufd_veventq *q = NULL;
	struct iommufd_vevent ev;

	if (iommufd_veventq_new(ctx, 1, type, 16, NULL, &q))
		abort();
	for (int i = 0; i < 1024; i++) {
		int r = iommufd_veventq_read(q, &ev);

		if (r == 0 && !in_n)
			break;
		if (r != 1)
			continue;
		if (ev.data_len != 0 && ev.data_len != payload[type == 1 ? 0 : type == 2 ? 1 : 2])
			abort();
		if (ev.data_len && !ev.data)
			abort();
		/* the payload must be readable in full */
		for (size_t j = 0; j < ev.data_len; j++)
			sink ^= ((const uint8_t *)ev.data)[j];
	}
	iommufd_veventq_unref(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iommufd_ctx *ctx = NULL;
	uint8_t sel, max;

	if (size < 2)
		return 0;
	sel = data[0];
	max = data[1];
	in_p = data + 2;
	in_n = size - 2;
	if (iommufd_ctx_new_opts(&(struct iommufd_ctx_opts){ .sz = sizeof(struct iommufd_ctx_opts), .backend = &fake_be }, &ctx))
		abort();
	iommufd_ctx_set_log_fn(ctx, quiet_log, NULL);
	switch (sel % 4) {
	case 0:
		faults(ctx, (size_t)max % 8 + 1);
		break;
	case 1:
		vevents(ctx, IOMMUFD_VEVENTQ_ARM_SMMUV3);
		break;
	case 2:
		vevents(ctx, IOMMUFD_VEVENTQ_TEGRA241_CMDQV);
		break;
	default:
		vevents(ctx, IOMMUFD_VEVENTQ_SELFTEST);
		break;
	}
	iommufd_ctx_unref(ctx);
	return 0;
}
