// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Adopting a device file that is already bound (and attached), as a live
 * update's incoming side or a secondary process does: a second number for
 * the bound edu file (a dup) is adopted with the IDs of its bind and attach.
 * The refusals, DMA through the adopted handle after the original is gone,
 * and a fork()ed child that receives the context and edu over a socketpair
 * (iommufd_handover_*) and runs an edu DMA round trip in its own memory: in
 * the VM, and the same under the preload library (device-adopt-preload:
 * IOMMUFD_TEST_REAL=1, the kernel backend with the emulator behind libc,
 * whose emulated fds are sockets SCM_RIGHTS carries). On the in-process
 * emulator the handover is refused (its fds are not kernel files), which is
 * asserted before the case skips.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "device-common.h"

#define EDU_SRC 0x80
#define EDU_DST 0x88
#define EDU_CNT 0x90
#define EDU_CMD 0x98
#define EDU_CMD_RUN 0x1
#define EDU_CMD_TO_RAM 0x2
#define EDU_BUF 0x40000
#define IOVA 0x100000
#define PAGE 4096
/* QEMU's edu refuses a transfer that ends at the end of its buffer */
#define XFER 2048

struct env {
	struct iommufd_ctx *scope;
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev; /* edu, opened and bound here */
	uint32_t ioas, dev_id, hwpt;
	int dup_fd;                 /* a second number for dev's file */
};

static void env_setup(struct env *e, bool attach)
{
	uint32_t cmd;

	memset(e, 0, sizeof(*e));
	e->scope = dev_scope();
	e->ctx = test_ctx_new();
	check(iommufd_ioas_alloc(e->ctx, &e->ioas));
	e->dev = dev_open(e->scope, EDU_BDF);
	check(iommufd_device_bind(e->dev, e->ctx, NULL, &e->dev_id));
	if (attach) {
		check(iommufd_device_attach(e->dev, e->ioas, &e->hwpt));
		/* memory space and bus master on: the device may DMA */
		check(iommufd_device_config_read(e->dev, 0x04, 2, &cmd));
		check(iommufd_device_config_write(e->dev, 0x04, 2, cmd | 0x6));
	}
	e->dup_fd = test_fd_dup(iommufd_device_get_fd(e->dev));
	assert_true(e->dup_fd >= 0);
}

static void env_teardown(struct env *e)
{
	if (e->dup_fd >= 0)
		assert_ok(test_fd_close(e->dup_fd));
	iommufd_device_unref(e->dev);
	iommufd_ctx_unref(e->ctx);
	test_backend_put();
}

/* adopt e->dup_fd with these IDs: the device owns dup_fd on success */
static int adopt(struct env *e, struct iommufd_ctx *ctx, uint32_t flags, uint32_t dev_id,
		 uint32_t pt_id, struct iommufd_device **dev)
{
	IOMMUFD_OPTS(struct iommufd_device_adopt_opts, o, .flags = flags, .dev_id = dev_id,
		     .pt_id = pt_id);
	int r = iommufd_device_adopt(ctx, e->dup_fd, &o, dev);

	if (r == 0)
		e->dup_fd = -1;
	return r;
}

/*
 * The type1 mode (IOMMUFD_MODE=type1, a VFIO container) has no DEVICE IDs or
 * page tables to adopt by: every call is refused; then the case skips.
 */
static bool type1_refused(struct env *e)
{
	struct iommufd_device *devs[1] = { e->dev };
	struct iommufd_device *dev = NULL;
	int sv[2];

	if (iommufd_ctx_get_mode(e->ctx) != IOMMUFD_MODE_TYPE1)
		return false;
	assert_errno(adopt(e, e->ctx, 0, 1, 0, &dev), EOPNOTSUPP);
	assert_non_null(strstr(iommufd_last_error(), "type1"));
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_errno(iommufd_handover_send(sv[0], e->ctx, devs, 1), EOPNOTSUPP);
	close(sv[0]);
	close(sv[1]);
	env_teardown(e);
	return true;
}
#define SKIP_IF_TYPE1(e)                                                              \
	do {                                                                          \
		if (type1_refused(e)) {                                               \
			skip(); /* type1: adoption is refused, asserted above */      \
			return;                                                       \
		}                                                                     \
	} while (0)

static void test_adopt_bound(void **state)
{
	struct iommufd_device *dev = NULL;
	struct iommufd_device_info info = { .sz = sizeof(info) };
	struct iommufd_hw_info hw = { .sz = sizeof(hw) };
	uint32_t hwpt = 0;
	struct env e;

	(void)state;
	env_setup(&e, false);
	SKIP_IF_TYPE1(&e);
	check(adopt(&e, e.ctx, 0, e.dev_id, 0, &dev));
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_BOUND);
	assert_int_equal(iommufd_device_get_dev_id(dev), e.dev_id);
	assert_int_equal(iommufd_device_get_pt_id(dev), 0);
	assert_ptr_equal(iommufd_device_get_ctx(dev), e.ctx);
	/* a working handle: device calls and the iommufd calls that name its ID */
	check(iommufd_device_get_info(dev, &info));
	assert_true(info.num_regions > 0);
	check(iommufd_device_get_hw_info(dev, IOMMUFD_HW_INFO_NONE, &hw));
	/* and its transitions: attach and detach through the adopted handle */
	check(iommufd_device_attach(dev, e.ioas, &hwpt));
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(iommufd_device_get_pt_id(dev), hwpt);
	check(iommufd_device_detach(dev));
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_BOUND);
	/* the context lives while the adopted device holds it */
	iommufd_ctx_ref(e.ctx);
	iommufd_device_unref(dev);
	assert_null(iommufd_ctx_unref(e.ctx));
	env_teardown(&e);
}

static void test_adopt_attached(void **state)
{
	struct iommufd_device *dev = NULL, *dev2 = NULL;
	struct env e;
	int fd2;

	(void)state;
	env_setup(&e, true);
	SKIP_IF_TYPE1(&e);
	fd2 = test_fd_dup(e.dup_fd);
	assert_true(fd2 >= 0);
	/* by its HWPT */
	check(adopt(&e, e.ctx, IOMMUFD_DEVICE_ADOPT_ATTACHED, e.dev_id, e.hwpt, &dev));
	assert_int_equal(iommufd_device_get_state(dev), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(iommufd_device_get_dev_id(dev), e.dev_id);
	assert_int_equal(iommufd_device_get_pt_id(dev), e.hwpt);
	/* by its IOAS: the kernel finds the same domain and gives its HWPT */
	e.dup_fd = fd2;
	check(adopt(&e, e.ctx, IOMMUFD_DEVICE_ADOPT_ATTACHED, e.dev_id, e.ioas, &dev2));
	assert_int_equal(iommufd_device_get_state(dev2), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(iommufd_device_get_pt_id(dev2), e.hwpt);
	/* nothing changed for the original handle */
	assert_int_equal(iommufd_device_get_state(e.dev), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(iommufd_device_get_pt_id(e.dev), e.hwpt);
	iommufd_device_unref(dev2);
	iommufd_device_unref(dev);
	env_teardown(&e);
}

static void test_refusals(void **state)
{
	struct iommufd_device *dev = NULL, *nvme, *parked;
	struct iommufd_ctx *ctx2;
	uint32_t ioas2[4], nvme_id = 0;
	struct env e;

	(void)state;
	env_setup(&e, true);
	SKIP_IF_TYPE1(&e);
	/* dev_id: no object, or an object that is not a DEVICE */
	assert_errno(adopt(&e, e.ctx, 0, e.dev_id + 100, 0, &dev), ENOENT);
	assert_errno(adopt(&e, e.ctx, 0, e.ioas, 0, &dev), ENOENT);
	/* pt_id: no object, or not a page table */
	assert_errno(adopt(&e, e.ctx, IOMMUFD_DEVICE_ADOPT_ATTACHED, e.dev_id, e.hwpt + 100, &dev),
		     ENOENT);
	assert_errno(adopt(&e, e.ctx, IOMMUFD_DEVICE_ADOPT_ATTACHED, e.dev_id, e.dev_id, &dev), EINVAL);
	/* not a VFIO device file: the context's own fd */
	{
		IOMMUFD_OPTS(struct iommufd_device_adopt_opts, o, .dev_id = e.dev_id);
		assert_errno(iommufd_device_adopt(e.ctx, iommufd_ctx_get_fd(e.ctx), &o, &dev), ENOTTY);
	}
	/* a parked file: new_from_fd's, not adopt's */
	parked = dev_open(e.scope, NVME_BDF);
	{
		IOMMUFD_OPTS(struct iommufd_device_adopt_opts, o, .dev_id = e.dev_id);
		assert_errno(iommufd_device_adopt(e.ctx, iommufd_device_get_fd(parked), &o, &dev), EINVAL);
		assert_non_null(strstr(iommufd_last_error(), "iommufd_device_new_from_fd"));
	}
	/* bound to another context: a DEVICE ID of ctx2 passes, its IOAS is not in edu's context */
	ctx2 = test_ctx_new();
	for (int i = 0; i < 4; i++)
		check(iommufd_ioas_alloc(ctx2, &ioas2[i]));
	nvme = parked;
	check(iommufd_device_bind(nvme, ctx2, NULL, &nvme_id));
	assert_true(ioas2[3] > e.hwpt && ioas2[3] > e.dev_id && ioas2[3] > e.ioas);
	assert_errno(adopt(&e, ctx2, IOMMUFD_DEVICE_ADOPT_ATTACHED, nvme_id, ioas2[3], &dev), ENOENT);
	assert_null(dev);
	/* every refusal left the file as it was */
	assert_int_equal(iommufd_device_get_state(e.dev), IOMMUFD_DEVICE_ATTACHED);
	check(adopt(&e, e.ctx, IOMMUFD_DEVICE_ADOPT_ATTACHED, e.dev_id, e.hwpt, &dev));
	iommufd_device_unref(dev);
	iommufd_device_unref(nvme);
	iommufd_ctx_unref(ctx2);
	env_teardown(&e);
}

/* ------------------------------------------------------------ DMA */

static int reg_write(struct iommufd_device *dev, uint64_t off, uint64_t v)
{
	return iommufd_device_region_write(dev, IOMMUFD_PCI_BAR0_REGION, off, &v, 8) == 8 ? 0 : -1;
}

/* one edu DMA, waiting until the engine is idle: 0 or -1 (no cmocka: a forked child runs it too) */
static int edu_dma(struct iommufd_device *dev, uint64_t src, uint64_t dst, uint64_t cnt, uint64_t cmd)
{
	struct timespec t0, t;
	uint64_t v = 0;

	if (reg_write(dev, EDU_SRC, src) || reg_write(dev, EDU_DST, dst) || reg_write(dev, EDU_CNT, cnt) ||
	    reg_write(dev, EDU_CMD, cmd | EDU_CMD_RUN))
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (iommufd_device_region_read(dev, IOMMUFD_PCI_BAR0_REGION, EDU_CMD, &v, 8) != 8)
			return -1;
		if (!(v & EDU_CMD_RUN))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 10)
			return -1;
		usleep(1000);
	}
}

/*
 * Map two fresh pages at IOVA of ioas, DMA page 0 -> edu -> page 1 and
 * compare: 0, or the step that failed (1..).
 */
static int dma_round_trip(struct iommufd_ctx *ctx, uint32_t ioas, struct iommufd_device *dev)
{
	uint64_t iova = IOVA, unmapped = 0;
	uint8_t *mem;
	int r = 0;

	mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	for (size_t i = 0; i < PAGE; i++)
		mem[i] = (uint8_t)(i * 13 + 5);
	memset(mem + PAGE, 0xaa, PAGE);
	if (iommufd_ioas_map(ctx, ioas, mem, 2 * PAGE, &iova,
			     IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE)) {
		r = 2;
		goto out;
	}
	if (edu_dma(dev, IOVA, EDU_BUF, XFER, 0) || edu_dma(dev, EDU_BUF, IOVA + PAGE, XFER, EDU_CMD_TO_RAM))
		r = 3;
	else if (memcmp(mem + PAGE, mem, XFER) || mem[PAGE + XFER] != 0xaa)
		r = 4;
	if (iommufd_ioas_unmap(ctx, ioas, IOVA, 2 * PAGE, &unmapped) || unmapped != 2 * PAGE)
		r = r ? r : 5;
out:
	munmap(mem, 2 * PAGE);
	return r;
}

/* DMA through an adopted attached edu, after the handle that bound it is gone */
static void test_dma_after_adopt(void **state)
{
	struct iommufd_device *dev = NULL;
	struct env e;
	int r;

	(void)state;
	env_setup(&e, true);
	SKIP_IF_TYPE1(&e);
	check(adopt(&e, e.ctx, IOMMUFD_DEVICE_ADOPT_ATTACHED, e.dev_id, e.hwpt, &dev));
	e.dev = iommufd_device_unref(e.dev); /* closes its number; dev's keeps the file */
	r = dma_round_trip(e.ctx, e.ioas, dev);
	if (r)
		fail_msg("DMA round trip through the adopted edu: step %d: %s", r, iommufd_last_error());
	iommufd_device_unref(dev);
	env_teardown(&e);
}

/* ------------------------------------------------------------ handover */

/* the child: receive ctx + edu, check the IDs, DMA in its own memory; its exit code tells */
static int child(int sock, uint32_t ioas, uint32_t dev_id, uint32_t hwpt)
{
	struct iommufd_device **devs = NULL;
	struct iommufd_ctx *ctx = NULL;
	size_t nr = 0;
	int r;

	if (iommufd_handover_recv(sock, &ctx, &devs, &nr)) {
		fprintf(stderr, "child: %s\n", iommufd_last_error());
		return 20;
	}
	if (nr != 1 || iommufd_device_get_state(devs[0]) != IOMMUFD_DEVICE_ATTACHED ||
	    iommufd_device_get_dev_id(devs[0]) != dev_id || iommufd_device_get_pt_id(devs[0]) != hwpt)
		return 21;
	r = dma_round_trip(ctx, ioas, devs[0]);
	if (r)
		fprintf(stderr, "child: DMA step %d: %s\n", r, iommufd_last_error());
	iommufd_device_unref(devs[0]);
	free(devs);
	iommufd_ctx_unref(ctx);
	return r ? 30 + r : 0;
}

static void test_handover(void **state)
{
	struct iommufd_device *devs[1];
	int sv[2], status = 0;
	struct env e;
	pid_t pid;

	(void)state;
	env_setup(&e, true);
	SKIP_IF_TYPE1(&e);
	devs[0] = e.dev;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	if (!test_real_kernel()) {
		/* the in-process emulator's fds are its own numbers, not files
		 * SCM_RIGHTS could carry (the preload library's are: the full case
		 * runs there, as on the kernel) */
		assert_errno(iommufd_handover_send(sv[0], e.ctx, devs, 1), EOPNOTSUPP);
		close(sv[0]);
		close(sv[1]);
		env_teardown(&e);
		skip(); /* the handover needs kernel files: the VM and device-adopt-preload */
		return;
	}
	assert_errno(iommufd_handover_send(sv[0], e.ctx, devs, IOMMUFD_HANDOVER_MAX_DEVICES + 1), E2BIG);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(child(sv[1], e.ioas, e.dev_id, e.hwpt));
	}
	close(sv[1]);
	check(iommufd_handover_send(sv[0], e.ctx, devs, 1));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(sv[0]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the parent's handle still works after the child closed its copies */
	assert_int_equal(iommufd_device_get_state(e.dev), IOMMUFD_DEVICE_ATTACHED);
	assert_int_equal(dma_round_trip(e.ctx, e.ioas, e.dev), 0);
	env_teardown(&e);
}

/* more fds than the receiver takes: MSG_CTRUNC, refused, what arrived closed */
static void send_many_fds(int sock, int fd, size_t n)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 100)];
		struct cmsghdr align;
	} cbuf;
	char byte[16] = { 0 };
	struct iovec iov = { .iov_base = byte, .iov_len = sizeof(byte) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf };
	struct cmsghdr *cm;

	assert_true(n <= 100);
	memset(&cbuf, 0, sizeof(cbuf));
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	for (size_t i = 0; i < n; i++)
		memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof(int));
	assert_int_equal(sendmsg(sock, &msg, 0), (ssize_t)sizeof(byte));
}

/* the open fds of this process (the directory's own left out; under
 * valgrind, its own high numbers too, which stay open throughout) */
#define FDS_MAX 1024
struct fdset {
	int fd[FDS_MAX];
	int n;
};

static void open_fds(struct fdset *s)
{
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");

	assert_non_null(dir);
	s->n = 0;
	while ((d = readdir(dir))) {
		int fd;

		if (d->d_name[0] == '.')
			continue;
		fd = atoi(d->d_name);
		if (fd == dirfd(dir))
			continue;
		assert_true(s->n < FDS_MAX);
		s->fd[s->n++] = fd;
	}
	closedir(dir);
}

/*
 * No fd is open now that was not open at @before. Fds may have closed since:
 * the preload library's forwarding thread closes a reply socket of an exited
 * child's last request on its own time, so counts are not comparable.
 */
static void assert_no_new_fds(const struct fdset *before)
{
	struct fdset now;

	open_fds(&now);
	for (int i = 0; i < now.n; i++) {
		int j = 0;

		while (j < before->n && before->fd[j] != now.fd[i])
			j++;
		if (j == before->n)
			fail_msg("fd %d is open and was not before", now.fd[i]);
	}
}

/* the refusals of the handover and a bound (not attached) device handed over */
static void test_handover_refusals(void **state)
{
	struct iommufd_device **devs = NULL;
	struct iommufd_ctx *ctx = NULL;
	size_t nr = 0;
	struct fdset fds0;
	struct env e;
	int sv[2];

	(void)state;
	env_setup(&e, false);
	SKIP_IF_TYPE1(&e);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	if (!test_real_kernel()) {
		assert_errno(iommufd_handover_send(sv[0], e.ctx, NULL, 0), EOPNOTSUPP);
		close(sv[0]);
		close(sv[1]);
		env_teardown(&e);
		skip();
		return;
	}
	/* a device of another context */
	{
		struct iommufd_ctx *ctx2 = test_ctx_new();
		struct iommufd_device *d[1] = { e.dev };

		assert_errno(iommufd_handover_send(sv[0], ctx2, d, 1), EINVAL);
		iommufd_ctx_unref(ctx2);
	}
	/* truncated fds, and fds with no handover: refused, every fd received closed */
	open_fds(&fds0);
	send_many_fds(sv[0], sv[0], IOMMUFD_HANDOVER_MAX_DEVICES + 5);
	assert_errno(iommufd_handover_recv(sv[1], &ctx, &devs, &nr), EMSGSIZE);
	assert_no_new_fds(&fds0);
	send_many_fds(sv[0], sv[0], 3);
	assert_errno(iommufd_handover_recv(sv[1], &ctx, &devs, &nr), EPROTO);
	assert_no_new_fds(&fds0);
	assert_null(ctx);
	/* a bound device arrives bound, with its ID */
	{
		struct iommufd_device *d[1] = { e.dev };

		check(iommufd_handover_send(sv[0], e.ctx, d, 1));
	}
	assert_ok(iommufd_handover_recv(sv[1], &ctx, &devs, &nr));
	assert_int_equal(nr, 1);
	assert_int_equal(iommufd_device_get_state(devs[0]), IOMMUFD_DEVICE_BOUND);
	assert_int_equal(iommufd_device_get_dev_id(devs[0]), e.dev_id);
	iommufd_device_unref(devs[0]);
	free(devs);
	iommufd_ctx_unref(ctx);
	/* the peer goes away */
	close(sv[0]);
	assert_errno(iommufd_handover_recv(sv[1], &ctx, &devs, &nr), EPIPE);
	close(sv[1]);
	env_teardown(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adopt_bound),
		cmocka_unit_test(test_adopt_attached),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_dma_after_adopt),
		cmocka_unit_test(test_handover),
		cmocka_unit_test(test_handover_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
