// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-emu-ioctl: what an emulated iommufd command costs, as a ratio to a
 * trivial ioctl(2) of the real kernel (FIONREAD on a pipe) timed in the same
 * run, so the figure does not depend on the machine:
 *  - IOAS_MAP + IOAS_UNMAP of one 4 KiB page (the kernel picks the IOVA),
 *  - OPTION (get RLIMIT_MODE),
 *  - IOAS_IOVA_RANGES,
 * directly through the emulator's backend (be_ioctl), and, given the path of
 * libiommufd-preload.so, through the preload library as an unmodified
 * program sees it (the bench runs itself again with LD_PRELOAD: open() of
 * /dev/iommu and libc's ioctl()). In the preload run the baseline ioctl goes
 * through the preload's interposer too, as every ioctl of such a program.
 *
 *   bench-emu-ioctl [path/to/libiommufd-preload.so]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "iommufd-emu.h"
#include "shared/abi.h"
#include "shared/backend.h"

#define ITERS 20000
#define PAGE 4096

static struct iommufd_backend *g_be; /* NULL: libc's ioctl (the preload run) */

static int do_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	if (g_be)
		return be_ioctl(g_be, fd, req, arg);
	r = ioctl(fd, req, arg);
	return r < 0 ? -errno : r;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

struct ctx {
	int fd;           /* the iommufd */
	uint32_t ioas;
	void *buf;
	int pipe_rd;      /* the baseline's */
};

static int op_trivial(struct ctx *c)
{
	int n = 0;

	return ioctl(c->pipe_rd, FIONREAD, &n) < 0 ? -errno : 0;
}

static int op_map_unmap(struct ctx *c)
{
	struct kabi_ioas_map map = {
		.size = sizeof(map),
		.flags = KABI_IOAS_MAP_READABLE | KABI_IOAS_MAP_WRITEABLE,
		.ioas_id = c->ioas,
		.user_va = (uintptr_t)c->buf,
		.length = PAGE,
	};
	struct kabi_ioas_unmap unmap = { .size = sizeof(unmap), .ioas_id = c->ioas };
	int r = do_ioctl(c->fd, KABI_IOMMU_IOAS_MAP, &map);

	if (r)
		return r;
	unmap.iova = map.iova;
	unmap.length = PAGE;
	return do_ioctl(c->fd, KABI_IOMMU_IOAS_UNMAP, &unmap);
}

static int op_option(struct ctx *c)
{
	struct kabi_option o = {
		.size = sizeof(o), .option_id = KABI_OPTION_RLIMIT_MODE, .op = KABI_OPTION_OP_GET,
	};

	return do_ioctl(c->fd, KABI_IOMMU_OPTION, &o);
}

static int op_iova_ranges(struct ctx *c)
{
	struct kabi_iova_range ranges[8];
	struct kabi_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = c->ioas,
		.num_iovas = 8,
		.allowed_iovas = (uintptr_t)ranges,
	};

	return do_ioctl(c->fd, KABI_IOMMU_IOAS_IOVA_RANGES, &q);
}

/* ns per call of op, the best of three rounds; negative: op failed */
static double time_op(struct ctx *c, int (*op)(struct ctx *))
{
	double best = 0;

	for (int round = 0; round < 3; round++) {
		double t0 = now_ns(), t;

		for (int i = 0; i < ITERS; i++) {
			int r = op(c);

			if (r) {
				fprintf(stderr, "bench-emu-ioctl: call failed: %s\n", strerror(-r));
				return -1;
			}
		}
		t = (now_ns() - t0) / ITERS;
		if (!round || t < best)
			best = t;
	}
	return best;
}

static int run(const char *how)
{
	static const struct {
		const char *name;
		int (*op)(struct ctx *);
	} ops[] = {
		{ "IOAS_MAP+IOAS_UNMAP (4 KiB)", op_map_unmap },
		{ "OPTION (get RLIMIT_MODE)", op_option },
		{ "IOAS_IOVA_RANGES", op_iova_ranges },
	};
	struct kabi_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct ctx c = { .fd = -1 };
	int pipefd[2];
	double base;
	int r;

	c.buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c.buf == MAP_FAILED || pipe(pipefd) < 0) {
		perror("bench-emu-ioctl: setup");
		return 1;
	}
	memset(c.buf, 0, PAGE);
	c.pipe_rd = pipefd[0];
	c.fd = g_be ? be_open(g_be, "/dev/iommu", O_RDWR) : open("/dev/iommu", O_RDWR);
	if (c.fd < 0) {
		fprintf(stderr, "bench-emu-ioctl: open /dev/iommu (%s): %s\n", how,
			strerror(g_be ? -c.fd : errno));
		return 1;
	}
	r = do_ioctl(c.fd, KABI_IOMMU_IOAS_ALLOC, &alloc);
	if (r) {
		fprintf(stderr, "bench-emu-ioctl: IOAS_ALLOC: %s\n", strerror(-r));
		return 1;
	}
	c.ioas = alloc.out_ioas_id;
	base = time_op(&c, op_trivial);
	if (base <= 0)
		return 1;
	printf("%s: trivial ioctl (FIONREAD on a pipe): %.0f ns\n", how, base);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		double t = time_op(&c, ops[i].op);

		if (t < 0)
			return 1;
		printf("%s: %-28s %8.0f ns  %6.1fx the trivial ioctl\n", how, ops[i].name, t,
		       t / base);
	}
	if (g_be)
		be_close(g_be, c.fd);
	else
		close(c.fd);
	close(pipefd[0]);
	close(pipefd[1]);
	munmap(c.buf, PAGE);
	return 0;
}

int main(int argc, char **argv)
{
	struct iommufd_emu *emu;
	int r;

	if (argc == 2 && strcmp(argv[1], "--preload-run") == 0) {
		if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "iommufd-preload")) {
			fprintf(stderr, "bench-emu-ioctl: --preload-run without the preload library\n");
			return 1;
		}
		return run("preload");
	}
	if (argc > 2) {
		fprintf(stderr, "usage: bench-emu-ioctl [path/to/libiommufd-preload.so]\n");
		return 2;
	}
	r = iommufd_emu_new(&emu);
	if (r) {
		fprintf(stderr, "bench-emu-ioctl: iommufd_emu_new: %s\n", strerror(-r));
		return 1;
	}
	g_be = iommufd_emu_get_backend(emu);
	r = run("backend");
	g_be = NULL;
	iommufd_emu_unref(emu);
	if (r || argc < 2)
		return r;
	fflush(stdout);
	if (setenv("LD_PRELOAD", argv[1], 1) < 0) {
		perror("bench-emu-ioctl: setenv");
		return 1;
	}
	execl("/proc/self/exe", argv[0], "--preload-run", (char *)NULL);
	perror("bench-emu-ioctl: exec");
	return 1;
}
