// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-emu-ioctl: what an emulated iommufd command costs, as a ratio to a
 * trivial ioctl(2) of the real kernel (FIONREAD on a pipe) timed in the same
 * run, so the figure does not depend on the machine:
 *  - IOAS_MAP + IOAS_UNMAP of one 4 KiB page (the kernel picks the IOVA),
 *  - OPTION (get RLIMIT_MODE),
 *  - IOAS_IOVA_RANGES,
 *  - IOAS_MAP + IOAS_UNMAP again with a selftest mock domain attached to the
 *    IOAS, so that every map pins (checks the VMAs, charges the pages),
 * directly through the emulator's backend (be_ioctl), and, given the path of
 * libiommufd-preload.so, through the preload library as an unmodified
 * program sees it (the bench runs itself again with LD_PRELOAD: open() of
 * /dev/iommu and libc's ioctl()). In the preload run the baseline ioctl goes
 * through the preload's interposer too, as every ioctl of such a program.
 * Each figure is the best of ROUNDS short rounds, and so is the baseline's,
 * their rounds interleaved, timed by the thread's CPU clock: the ratio holds
 * on a loaded machine, where wall time counts the time other programs ran
 * and a long round is preempted more often than a short one.
 *
 *   bench-emu-ioctl [path/to/libiommufd-preload.so]
 */
#include <errno.h>
#include <stdbool.h>
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
#include "shared/abi-test.h"
#include "shared/backend.h"

#define ITERS 500
#define ROUNDS 40
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

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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

/* ns per call of op over one round; negative: op failed */
static double round_op(struct ctx *c, int (*op)(struct ctx *))
{
	double t0 = now_ns();

	for (int i = 0; i < ITERS; i++) {
		int r = op(c);

		if (r) {
			fprintf(stderr, "bench-emu-ioctl: call failed: %s\n", strerror(-r));
			return -1;
		}
	}
	return (now_ns() - t0) / ITERS;
}

/*
 * The best round of op and the best round of the baseline, the rounds
 * interleaved: on a loaded machine (the 2 cores are shared) a round can be
 * slowed several times over (caches, frequency), and the best of many is
 * what the code costs, for the baseline as for the op. Returns 0, -1 when
 * op failed.
 */
static int time_op(struct ctx *c, int (*op)(struct ctx *), double *op_ns, double *base_ns)
{
	*op_ns = *base_ns = 0;
	for (int round = 0; round < ROUNDS; round++) {
		double b = round_op(c, op_trivial), t = round_op(c, op);

		if (b < 0 || t < 0)
			return -1;
		if (!round || b < *base_ns)
			*base_ns = b;
		if (!round || t < *op_ns)
			*op_ns = t;
	}
	return 0;
}

/* a selftest mock device attached to the IOAS: maps then pin pages */
static int attach_mock(struct ctx *c, uint32_t *stdev_id)
{
	struct kabi_test_cmd cmd = {
		.size = sizeof(cmd), .op = KABI_TEST_OP_MOCK_DOMAIN, .id = c->ioas,
	};
	int r = do_ioctl(c->fd, KABI_IOMMU_TEST_CMD, &cmd);

	*stdev_id = cmd.mock_domain.out_stdev_id;
	return r;
}

static int run(const char *how)
{
	static const struct {
		const char *name;
		int (*op)(struct ctx *);
		int calls;    /* emulated calls per op */
		bool domain;  /* with a mock domain attached */
	} ops[] = {
		{ "IOAS_MAP+IOAS_UNMAP (4 KiB)", op_map_unmap, 2, false },
		{ "OPTION (get RLIMIT_MODE)", op_option, 1, false },
		{ "IOAS_IOVA_RANGES", op_iova_ranges, 1, false },
		{ "MAP+UNMAP, a domain attached", op_map_unmap, 2, true },
	};
	struct kabi_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct ctx c = { .fd = -1 };
	uint32_t stdev_id = 0;
	int pipefd[2];
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
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		double t, base;

		if (ops[i].domain && !stdev_id) {
			r = attach_mock(&c, &stdev_id);
			if (r) {
				fprintf(stderr, "bench-emu-ioctl: MOCK_DOMAIN: %s\n", strerror(-r));
				return 1;
			}
		}
		if (time_op(&c, ops[i].op, &t, &base))
			return 1;
		printf("%s: %-29s %7.0f ns  %5.1fx the trivial ioctl (%.0f ns)", how, ops[i].name, t,
		       t / base, base);
		if (ops[i].calls > 1)
			printf(", %.1fx per call", t / base / ops[i].calls);
		printf("\n");
	}
	if (stdev_id) {
		struct kabi_destroy d = { .size = sizeof(d), .id = stdev_id };

		do_ioctl(c.fd, KABI_IOMMU_DESTROY, &d);
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
