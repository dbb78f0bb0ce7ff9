// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The preload library (lib/preload) under the ways a real program handles
 * its fds: fork while other threads run emulated ioctls (the child uses the
 * fds it inherited), exec (emulated fds are close-on-exec; the new program
 * has the emulated /dev again), dup/dup2/dup3/F_DUPFD onto emulated and real
 * targets and with bad arguments, every close path (close, fclose(fdopen),
 * close_range with and without CLOSE_RANGE_CLOEXEC, closefrom,
 * syscall(SYS_close)), and poll/epoll/select on the emulated event queues (a
 * fault queue's fd) and on the eventfd an emulated device's interrupt
 * signals. Built for the ASan+UBSan and the ThreadSanitizer builds too.
 *
 * How the preload library gets in: this program is LINKED against
 * libiommufd-preload.so (a DT_NEEDED entry), not run with LD_PRELOAD. An
 * LD_PRELOAD library is loaded ahead of every DT_NEEDED library, and so ahead
 * of a dynamically linked sanitizer runtime (gcc's libasan.so/libtsan.so),
 * which then refuses to start ("ASan runtime does not come first"). As a
 * DT_NEEDED entry the preload library comes after the sanitizer runtime
 * (gcc places -lasan/-ltsan first; clang's static runtime is in the
 * executable itself) and before libc: the runtime's interceptors run first
 * and their dlsym(RTLD_NEXT) finds the preload library's definitions, whose
 * own RTLD_NEXT then finds libc's. One way for every compiler and sanitizer,
 * with nothing to compute at configure time (the other way,
 * LD_PRELOAD="$(gcc -print-file-name=libasan.so):libiommufd-preload.so",
 * needs the runtime's path and differs for clang's static runtimes). The
 * exec case runs this same program, which brings the library in again.
 * Under TSan one report is suppressed, an order TSan cannot see (tsan.supp).
 * Valgrind does not run it (meson.build's valgrind setup says why).
 *
 * Environment (meson.build): IOMMUFD_EMU_DEVICES=edu@0000:00:02.0, so that
 * /dev/vfio/devices/vfio0 is an emulated edu. Not for the VM: it tests the
 * interposition, not the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "shared/abi.h"
#include "shared/abi-test.h"

#define EXEC_CHILD "--exec-child"

static int open_iommu(void)
{
	int fd = open("/dev/iommu", O_RDWR);

	if (fd < 0)
		fail_msg("open /dev/iommu: %s", strerror(errno));
	return fd;
}

static int open_edu(void)
{
	int fd = open("/dev/vfio/devices/vfio0", O_RDWR);

	if (fd < 0)
		fail_msg("open /dev/vfio/devices/vfio0: %s", strerror(errno));
	return fd;
}

/* IOAS_ALLOC on fd: the new ID, or 0 with errno set */
static uint32_t ioas_try(int fd)
{
	struct kabi_ioas_alloc cmd = { .size = sizeof(cmd) };

	return ioctl(fd, KABI_IOMMU_IOAS_ALLOC, &cmd) ? 0 : cmd.out_ioas_id;
}

static uint32_t ioas_alloc(int fd)
{
	uint32_t id = ioas_try(fd);

	if (!id)
		fail_msg("IOAS_ALLOC on fd %d: %s", fd, strerror(errno));
	return id;
}

static int destroy(int fd, uint32_t id)
{
	struct kabi_destroy d = { .size = sizeof(d), .id = id };

	return ioctl(fd, KABI_IOMMU_DESTROY, &d);
}

static int test_cmd(int fd, struct kabi_test_cmd *c)
{
	c->size = sizeof(*c);
	return ioctl(fd, KABI_IOMMU_TEST_CMD, c);
}

static int bind_dev(int dev, int iommufd)
{
	struct kabi_vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };

	return ioctl(dev, KABI_VFIO_DEVICE_BIND_IOMMUFD, &b);
}

/* fd is open (any file) */
static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* fd is closed: F_GETFD says EBADF */
static void assert_closed(int fd)
{
	errno = 0;
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

/* fd is an emulated iommufd that answers (an IOAS made and destroyed) */
static void assert_iommufd(int fd)
{
	uint32_t id = ioas_alloc(fd);

	assert_int_equal(destroy(fd, id), 0);
}

/* fd is a real file: an iommufd ioctl is the kernel's ENOTTY */
static void assert_not_emulated(int fd)
{
	errno = 0;
	assert_int_equal(ioctl(fd, KABI_IOMMU_IOAS_ALLOC, NULL), -1);
	assert_int_equal(errno, ENOTTY);
}

/* ------------------------------------------------------------ fork with threads */

#define WORKERS 3
#define FORKS 8

struct worker {
	pthread_t tid;
	int fd;
	int errors;		/* ioctls that failed */
	long calls;
	volatile int *stop;
};

/* emulated ioctls until told to stop: IOAS made and destroyed, ranges read */
static void *worker(void *arg)
{
	struct worker *w = arg;

	while (!__atomic_load_n(w->stop, __ATOMIC_ACQUIRE)) {
		uint32_t id = ioas_try(w->fd);

		if (!id || destroy(w->fd, id))
			w->errors++;
		w->calls++;
	}
	return NULL;
}

/*
 * Threads run emulated ioctls while the main thread forks. Each child uses
 * the inherited fd (its calls land in the parent's object: the IOAS it makes
 * is the parent's to destroy) and opens an iommufd of its own (a context of
 * the child's own, from ID 1 on). The locks the workers held at the fork must
 * not hang the child, and nothing may fail.
 */
static void test_fork_threads(void **state)
{
	struct worker w[WORKERS];
	volatile int stop = 0;
	uint32_t *ids;
	int fd = open_iommu(), alive;

	(void)state;
	ids = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(ids != MAP_FAILED);
	assert_iommufd(fd);
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){ .fd = fd, .stop = &stop };
		assert_int_equal(pthread_create(&w[i].tid, NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < FORKS; i++) {
		int status = -1;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			uint32_t id = ioas_try(fd);
			int own;

			if (!id)
				_exit(1);
			ids[i] = id;
			own = open("/dev/iommu", O_RDWR);
			if (own < 0 || own == fd)
				_exit(2);
			/* a new context of the child's own: its first ID */
			if (ioas_try(own) != 1)
				_exit(3);
			if (close(own) || close(fd))
				_exit(4);
			/* closed in the child: the number is gone here */
			if (ioas_try(fd) || errno != EBADF)
				_exit(5);
			_exit(0);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < WORKERS; i++) {
		assert_int_equal(pthread_join(w[i].tid, NULL), 0);
		assert_int_equal(w[i].errors, 0);
		assert_true(w[i].calls > 0);
	}
	/* every child's IOAS is in the parent's object, the child's close did
	 * not close the parent's file */
	alive = 0;
	for (int i = 0; i < FORKS; i++) {
		assert_int_not_equal(ids[i], 0);
		alive += destroy(fd, ids[i]) == 0;
	}
	assert_int_equal(alive, FORKS);
	assert_iommufd(fd);
	assert_int_equal(close(fd), 0);
	munmap(ids, 4096);
}

/* a thread forks while the main thread polls an emulated queue: both finish */
static void *fork_and_wait(void *arg)
{
	int fd = *(int *)arg, status = -1;
	pid_t pid = fork();

	if (pid == 0)
		_exit(ioas_try(fd) ? 0 : 1);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return (void *)1;
	return (void *)(intptr_t)(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 2);
}

static void test_fork_from_thread(void **state)
{
	pthread_t t;
	void *ret = (void *)-1;
	int fd = open_iommu();

	(void)state;
	assert_iommufd(fd);
	assert_int_equal(pthread_create(&t, NULL, fork_and_wait, &fd), 0);
	for (int i = 0; i < 50; i++)
		assert_iommufd(fd);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	assert_int_equal(close(fd), 0);
}

/* ------------------------------------------------------------ exec */

/*
 * The exec'd side (this program with EXEC_CHILD, the fd numbers to check):
 * the emulated ones are closed, the real one (not close-on-exec) is open,
 * and /dev/iommu is emulated again: a fresh emulator (ID 1) with the
 * selftest mock, which no production kernel has.
 */
static int exec_child(int argc, char **argv)
{
	struct kabi_test_cmd md = { .op = KABI_TEST_OP_MOCK_DOMAIN };
	int real, fd;

	if (argc < 4)
		return 10;
	real = atoi(argv[2]);
	for (int i = 3; i < argc; i++)
		if (fd_open(atoi(argv[i]))) {
			fprintf(stderr, "exec: emulated fd %s crossed exec\n", argv[i]);
			return 11;
		}
	if (!fd_open(real) || write(real, "x", 1) != 1)
		return 12;
	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "exec: /dev/iommu: %s\n", strerror(errno));
		return 13;
	}
	md.id = ioas_try(fd);
	if (md.id != 1)
		return 14;
	if (test_cmd(fd, &md)) {
		fprintf(stderr, "exec: MOCK_DOMAIN: %s\n", strerror(errno));
		return 15;
	}
	if (open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC) < 0)
		return 16;
	return close(fd) ? 17 : 0;
}

static void test_exec(void **state)
{
	int fd = open_iommu(), dev = open_edu(), p[2], status = -1;
	char a[4][16];
	char *argv[8] = { 0 };
	pid_t pid;

	(void)state;
	assert_int_equal(bind_dev(dev, fd), 0);
	/* emulated fds are close-on-exec, whatever the program asks */
	assert_int_equal(fcntl(fd, F_SETFD, 0), 0);
	assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC);
	assert_int_equal(dup2(fd, 77), 77);
	assert_int_equal(fcntl(77, F_GETFD), FD_CLOEXEC);
	assert_int_equal(fcntl(dev, F_GETFD), FD_CLOEXEC);
	assert_int_equal(pipe(p), 0); /* not close-on-exec: crosses */
	snprintf(a[0], sizeof(a[0]), "%d", p[1]);
	snprintf(a[1], sizeof(a[1]), "%d", fd);
	snprintf(a[2], sizeof(a[2]), "%d", 77);
	snprintf(a[3], sizeof(a[3]), "%d", dev);
	argv[0] = (char *)"test-preload-robust";
	argv[1] = (char *)EXEC_CHILD;
	for (int i = 0; i < 4; i++)
		argv[2 + i] = a[i];
	argv[6] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	{
		char c = 0;

		assert_int_equal(close(p[1]), 0);
		assert_int_equal(read(p[0], &c, 1), 1);
		assert_int_equal(c, 'x');
		assert_int_equal(close(p[0]), 0);
	}
	/* the parent's files are untouched by the child's exec */
	assert_iommufd(fd);
	assert_iommufd(77);
	assert_int_equal(close(77), 0);
	assert_int_equal(close(dev), 0);
	assert_int_equal(close(fd), 0);
}

/* ------------------------------------------------------------ dup */

/* dup, F_DUPFD(_CLOEXEC), dup2 and dup3 of an emulated fd: one file, many numbers */
static void test_dup_emulated(void **state)
{
	int fd = open_iommu(), d, d2;
	uint32_t id;

	(void)state;
	id = ioas_alloc(fd);
	d = dup(fd);
	assert_true(d >= 0 && d != fd);
	assert_int_equal(fcntl(d, F_GETFD), FD_CLOEXEC);
	/* the same context: the IOAS made on fd is destroyed through d */
	assert_int_equal(destroy(d, id), 0);
	d2 = fcntl(fd, F_DUPFD, 300);
	assert_true(d2 >= 300);
	assert_int_equal(fcntl(d2, F_GETFD), FD_CLOEXEC);
	/* far above the numbers used so far: the emulator's table grows */
	assert_int_equal(dup2(fd, 900), 900);
	assert_int_equal(dup3(fd, 901, O_CLOEXEC), 901);
	assert_int_equal(fcntl(901, F_GETFD), FD_CLOEXEC);
	id = ioas_alloc(900);
	assert_int_equal(destroy(901, id), 0);
	/* dup2 onto itself: nothing happens; dup3 onto itself: EINVAL */
	assert_int_equal(dup2(fd, fd), fd);
	assert_iommufd(fd);
	errno = 0;
	assert_int_equal(dup3(fd, fd, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_iommufd(fd);
	/* the file lives while any number does */
	assert_int_equal(close(fd), 0);
	assert_int_equal(close(d), 0);
	assert_int_equal(close(900), 0);
	assert_int_equal(close(901), 0);
	assert_iommufd(d2);
	assert_int_equal(close(d2), 0);
	assert_closed(d2);
	assert_closed(900);
}

/* dup2/dup3 of an emulated fd onto a real file's number, and the reverse */
static void test_dup_onto(void **state)
{
	int fd = open_iommu(), keep, p[2], q[2];
	char c;

	(void)state;
	keep = dup(fd);
	assert_true(keep >= 0);
	/* emulated onto real: the pipe's write end is closed, the number emulated */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(fd, p[1]), p[1]);
	assert_int_equal(read(p[0], &c, 1), 0); /* EOF: its only writer is gone */
	assert_iommufd(p[1]);
	assert_int_equal(fcntl(p[1], F_GETFD), FD_CLOEXEC);
	/* real onto emulated: the number is the pipe's again, the file stays */
	assert_int_equal(pipe(q), 0);
	assert_int_equal(dup3(q[1], p[1], 0), p[1]);
	assert_not_emulated(p[1]);
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_int_equal(read(q[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_iommufd(fd);
	/* emulated onto emulated: the target's file is released, then it is fd's */
	{
		int other = open_iommu(), dev = open_edu(), dev2;
		uint32_t id = ioas_alloc(fd);

		assert_int_equal(bind_dev(dev, other), 0);
		/* the device's file becomes another iommufd: the device is free */
		assert_int_equal(dup2(fd, dev), dev);
		assert_int_equal(destroy(dev, id), 0);
		dev2 = open_edu();
		assert_int_equal(bind_dev(dev2, other), 0);
		assert_int_equal(close(dev2), 0);
		assert_int_equal(close(other), 0);
		assert_int_equal(close(dev), 0);
	}
	/* real onto emulated, the emulated number being the file's last */
	{
		int last = open_iommu();

		assert_iommufd(last);
		assert_int_equal(dup2(q[0], last), last);
		assert_not_emulated(last);
		assert_int_equal(close(last), 0);
	}
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	assert_iommufd(keep);
	assert_int_equal(close(keep), 0);
	assert_int_equal(close(fd), 0);
}

/* bad arguments: the kernel's errno, and nothing closed on the way */
static void test_dup_bad(void **state)
{
	int fd = open_iommu(), p[2], gone;

	(void)state;
	assert_int_equal(pipe(p), 0);
	/* a closed source onto an emulated target: EBADF, the target stays */
	gone = dup(p[0]);
	assert_int_equal(close(gone), 0);
	errno = 0;
	assert_int_equal(dup2(gone, fd), -1);
	assert_int_equal(errno, EBADF);
	assert_iommufd(fd);
	errno = 0;
	assert_int_equal(dup3(gone, fd, 0), -1);
	assert_int_equal(errno, EBADF);
	assert_iommufd(fd);
	/* bad flags, emulated source or target: EINVAL before any close */
	errno = 0;
	assert_int_equal(dup3(fd, p[1], 0x40000000), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(write(p[1], "z", 1), 1);
	errno = 0;
	assert_int_equal(dup3(p[0], fd, ~O_CLOEXEC), -1);
	assert_int_equal(errno, EINVAL);
	assert_iommufd(fd);
	/* bad targets */
	errno = 0;
	assert_int_equal(dup2(fd, -1), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(dup3(fd, -5, O_CLOEXEC), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(dup2(fd, INT_MAX), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(fcntl(fd, F_DUPFD, -1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(fcntl(fd, F_DUPFD_CLOEXEC, INT_MAX), -1);
	assert_int_equal(errno, EINVAL);
	assert_iommufd(fd);
	/* a closed emulated number: EBADF, as any closed number */
	assert_int_equal(close(fd), 0);
	errno = 0;
	assert_int_equal(dup(fd), -1);
	assert_int_equal(errno, EBADF);
	errno = 0;
	assert_int_equal(close(fd), -1);
	assert_int_equal(errno, EBADF);
	close(p[0]);
	close(p[1]);
}

/* ------------------------------------------------------------ close paths */

enum close_how {
	BY_CLOSE,
	BY_FCLOSE,
	BY_CLOSE_RANGE,
	BY_CLOSEFROM,
	BY_SYSCALL,
	NR_CLOSE_HOW,
};

static const char *const close_names[] = { "close", "fclose(fdopen)", "close_range",
					   "closefrom", "syscall(SYS_close)" };

/*
 * Three emulated fds (an iommufd, an edu device file bound to it, a dup of
 * the iommufd) at the top of the table, a real pipe among them: closed the
 * way how says (close_range and closefrom: all at once; the others one by
 * one). Afterwards no number is the emulator's (a real file put there is the
 * kernel's) and the device is free (a new file binds): the closed files were
 * released, not merely forgotten.
 */
static void close_all(enum close_how how)
{
	int base = 400, ictx, dup_fd, p[2], nfd, ndev, t;
	FILE *f;

	t = open_iommu();
	ictx = fcntl(t, F_DUPFD_CLOEXEC, base);
	assert_int_equal(ictx, base);
	assert_int_equal(close(t), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], base + 1), base + 1);
	t = open_edu();
	assert_int_equal(dup2(t, base + 2), base + 2);
	assert_int_equal(close(t), 0);
	dup_fd = fcntl(ictx, F_DUPFD, base + 3);
	assert_int_equal(dup_fd, base + 3);
	assert_int_equal(bind_dev(base + 2, ictx), 0);
	assert_iommufd(ictx);
	switch (how) {
	case BY_CLOSE:
		assert_int_equal(close(ictx), 0);
		assert_int_equal(close(base + 2), 0);
		assert_int_equal(close(dup_fd), 0);
		assert_int_equal(close(base + 1), 0);
		break;
	case BY_FCLOSE:
		for (int fd = base; fd <= dup_fd; fd++) {
			f = fdopen(fd, "r");
			assert_non_null(f);
			assert_int_equal(fclose(f), 0);
		}
		break;
	case BY_CLOSE_RANGE:
		/* CLOSE_RANGE_CLOEXEC first: closes nothing, marks the pipe too */
		assert_int_equal(close_range((unsigned int)base, (unsigned int)dup_fd,
					     CLOSE_RANGE_CLOEXEC), 0);
		assert_int_equal(fcntl(base + 1, F_GETFD), FD_CLOEXEC);
		assert_iommufd(ictx);
		assert_iommufd(dup_fd);
		assert_int_equal(close_range((unsigned int)base, (unsigned int)dup_fd, 0), 0);
		break;
	case BY_CLOSEFROM:
		closefrom(base);
		break;
	case BY_SYSCALL:
		for (int fd = base; fd <= dup_fd; fd++)
			assert_int_equal(syscall(SYS_close, fd), 0);
		break;
	default:
		fail();
	}
	for (int fd = base; fd <= dup_fd; fd++)
		assert_closed(fd);
	/* new real files on the numbers: the kernel answers them */
	for (int fd = base; fd <= dup_fd; fd++) {
		assert_int_equal(dup2(p[1], fd), fd);
		assert_not_emulated(fd);
		assert_int_equal(close(fd), 0);
	}
	/* the device's file was released: the device is free */
	nfd = open_iommu();
	ndev = open_edu();
	assert_int_equal(bind_dev(ndev, nfd), 0);
	assert_int_equal(close(ndev), 0);
	assert_int_equal(close(nfd), 0);
	assert_int_equal(close(p[0]), 0);
	assert_int_equal(close(p[1]), 0);
}

static void test_close_paths(void **state)
{
	(void)state;
	for (int how = 0; how < NR_CLOSE_HOW; how++) {
		print_message("close path: %s\n", close_names[how]);
		close_all((enum close_how)how);
	}
}

/* ------------------------------------------------------------ poll, epoll, select */

struct fault_env {
	int fd;		/* the iommufd */
	int qfd;	/* the fault queue's fd */
	uint32_t idev;	/* the mock device, its faults go to the queue */
	uint32_t fault_id, iopf_hwpt, parent, stdev;
};

/* a mock device whose HWPT takes I/O page faults into a fault queue */
static void fault_env_setup(struct fault_env *e)
{
	struct kabi_test_cmd md = { .op = KABI_TEST_OP_MOCK_DOMAIN };
	struct kabi_test_cmd rep = { .op = KABI_TEST_OP_MOCK_DOMAIN_REPLACE };
	struct kabi_fault_alloc fa = { .size = sizeof(fa) };
	struct kabi_hwpt_selftest data = { .iotlb = KABI_TEST_IOTLB_DEFAULT };
	struct kabi_hwpt_alloc pa = { .size = sizeof(pa), .flags = KABI_HWPT_ALLOC_NEST_PARENT };
	struct kabi_hwpt_alloc ha = { .size = sizeof(ha), .flags = KABI_HWPT_FAULT_ID_VALID,
				      .data_type = KABI_HWPT_DATA_SELFTEST,
				      .data_len = sizeof(data), .data_uptr = (uintptr_t)&data };

	e->fd = open_iommu();
	md.id = ioas_alloc(e->fd);
	assert_int_equal(test_cmd(e->fd, &md), 0);
	e->stdev = md.mock_domain.out_stdev_id;
	e->idev = md.mock_domain.out_idev_id;
	pa.dev_id = e->idev;
	pa.pt_id = md.id;
	assert_int_equal(ioctl(e->fd, KABI_IOMMU_HWPT_ALLOC, &pa), 0);
	e->parent = pa.out_hwpt_id;
	assert_int_equal(ioctl(e->fd, KABI_IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
	e->fault_id = fa.out_fault_id;
	e->qfd = (int)fa.out_fault_fd;
	assert_true(e->qfd >= 0);
	ha.dev_id = e->idev;
	ha.pt_id = e->parent;
	ha.fault_id = e->fault_id;
	assert_int_equal(ioctl(e->fd, KABI_IOMMU_HWPT_ALLOC, &ha), 0);
	e->iopf_hwpt = ha.out_hwpt_id;
	rep.id = e->stdev;
	rep.mock_domain_replace.pt_id = e->iopf_hwpt;
	assert_int_equal(test_cmd(e->fd, &rep), 0);
}

static void fault_env_teardown(struct fault_env *e)
{
	assert_int_equal(close(e->qfd), 0);
	assert_int_equal(close(e->fd), 0);
}

static int trigger_iopf(const struct fault_env *e, uint64_t addr)
{
	struct kabi_test_cmd c = { .op = KABI_TEST_OP_TRIGGER_IOPF };

	c.trigger_iopf.dev_id = e->idev;
	c.trigger_iopf.grpid = 1;
	c.trigger_iopf.perm = KABI_PGFAULT_PERM_READ;
	c.trigger_iopf.addr = addr;
	return test_cmd(e->fd, &c);
}

/* readable now, says each of poll, select and a level-triggered epoll */
static int readable(int fd, int epfd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct epoll_event ev;
	struct timeval tv = { 0, 0 };
	fd_set rs;
	int p, s, e;

	p = poll(&pfd, 1, 0);
	assert_true(p >= 0);
	FD_ZERO(&rs);
	FD_SET(fd, &rs);
	s = select(fd + 1, &rs, NULL, NULL, &tv);
	assert_true(s >= 0);
	e = epoll_wait(epfd, &ev, 1, 0);
	assert_true(e >= 0);
	/* the three agree */
	assert_int_equal(p, s);
	assert_int_equal(p, e);
	if (p) {
		assert_true(pfd.revents & POLLIN);
		assert_true(FD_ISSET(fd, &rs));
		assert_true(ev.events & EPOLLIN);
		assert_int_equal(ev.data.fd, fd);
	}
	return p;
}

static int epoll_on(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	return ep;
}

struct later {
	const struct fault_env *e;
	int efd;	/* or an eventfd to write */
	int ms;
};

static void *trigger_later(void *arg)
{
	struct later *l = arg;

	usleep((useconds_t)l->ms * 1000);
	if (l->e)
		return (void *)(intptr_t)trigger_iopf(l->e, 0x7000);
	return (void *)(intptr_t)(eventfd_write(l->efd, 1) ? -1 : 0);
}

/* a fault queue's fd is readable exactly while faults wait in it */
static void test_poll_fault_queue(void **state)
{
	struct kabi_hwpt_pgfault rec[2];
	struct kabi_hwpt_page_response resp;
	struct fault_env e;
	struct pollfd pfd;
	pthread_t t;
	void *ret = (void *)-1;
	int ep;

	(void)state;
	fault_env_setup(&e);
	ep = epoll_on(e.qfd);
	assert_int_equal(readable(e.qfd, ep), 0);
	assert_int_equal(trigger_iopf(&e, 0x1000), 0);
	assert_int_equal(readable(e.qfd, ep), 1);
	assert_int_equal(read(e.qfd, rec, sizeof(rec)), sizeof(rec[0]));
	assert_int_equal(rec[0].dev_id, e.idev);
	assert_int_equal(rec[0].addr, 0x1000);
	assert_int_equal(readable(e.qfd, ep), 0);
	resp = (struct kabi_hwpt_page_response){ .cookie = rec[0].cookie,
						 .code = KABI_PAGE_RESP_SUCCESS };
	assert_int_equal(write(e.qfd, &resp, sizeof(resp)), sizeof(resp));
	/* a poll that blocks is woken by a fault another thread raises */
	{
		struct later l = { .e = &e, .ms = 50 };

		assert_int_equal(pthread_create(&t, NULL, trigger_later, &l), 0);
		pfd = (struct pollfd){ .fd = e.qfd, .events = POLLIN };
		assert_int_equal(poll(&pfd, 1, 10000), 1);
		assert_int_equal(pthread_join(t, &ret), 0);
		assert_null(ret);
	}
	{
		struct epoll_event ev;

		assert_int_equal(epoll_wait(ep, &ev, 1, 0), 1);
	}
	assert_int_equal(read(e.qfd, rec, sizeof(rec)), sizeof(rec[0]));
	assert_int_equal(rec[0].addr, 0x7000);
	assert_int_equal(readable(e.qfd, ep), 0);
	/* a dup of the queue's fd is the same queue */
	{
		int d = dup(e.qfd), ep2;

		assert_true(d >= 0);
		ep2 = epoll_on(d);
		assert_int_equal(trigger_iopf(&e, 0x2000), 0);
		assert_int_equal(readable(d, ep2), 1);
		assert_int_equal(readable(e.qfd, ep), 1);
		assert_int_equal(read(d, rec, sizeof(rec)), sizeof(rec[0]));
		assert_int_equal(readable(e.qfd, ep), 0);
		assert_int_equal(close(ep2), 0);
		assert_int_equal(close(d), 0);
	}
	assert_int_equal(close(ep), 0);
	fault_env_teardown(&e);
}

/* the eventfd of an emulated device's interrupt: signalled by the loopback trigger */
static void test_poll_irq_eventfd(void **state)
{
	struct {
		struct kabi_vfio_irq_set set;
		int32_t fd;
	} irq;
	struct kabi_vfio_irq_set trig = { .argsz = sizeof(trig),
					  .flags = KABI_VFIO_IRQ_SET_DATA_NONE |
						   KABI_VFIO_IRQ_SET_ACTION_TRIGGER,
					  .index = KABI_VFIO_PCI_INTX_IRQ_INDEX, .start = 0, .count = 1 };
	int fd = open_iommu(), dev = open_edu(), efd, ep;
	uint64_t cnt = 0;
	pthread_t t;
	void *ret = (void *)-1;

	(void)state;
	assert_int_equal(bind_dev(dev, fd), 0);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(efd >= 0);
	ep = epoll_on(efd);
	irq.set = (struct kabi_vfio_irq_set){ .argsz = sizeof(irq),
					      .flags = KABI_VFIO_IRQ_SET_DATA_EVENTFD |
						       KABI_VFIO_IRQ_SET_ACTION_TRIGGER,
					      .index = KABI_VFIO_PCI_INTX_IRQ_INDEX, .start = 0,
					      .count = 1 };
	irq.fd = efd;
	assert_int_equal(ioctl(dev, KABI_VFIO_DEVICE_SET_IRQS, &irq), 0);
	assert_int_equal(readable(efd, ep), 0);
	assert_int_equal(ioctl(dev, KABI_VFIO_DEVICE_SET_IRQS, &trig), 0);
	assert_int_equal(readable(efd, ep), 1);
	assert_int_equal(read(efd, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_int_equal(cnt, 1);
	assert_int_equal(readable(efd, ep), 0);
	/* a blocked poll on the eventfd wakes while the device fd is used elsewhere */
	{
		struct later l = { .efd = efd, .ms = 50 };
		struct pollfd pfd = { .fd = efd, .events = POLLIN };

		assert_int_equal(pthread_create(&t, NULL, trigger_later, &l), 0);
		assert_int_equal(poll(&pfd, 1, 10000), 1);
		assert_int_equal(pthread_join(t, &ret), 0);
		assert_null(ret);
		assert_int_equal(read(efd, &cnt, sizeof(cnt)), sizeof(cnt));
	}
	/* the device's fd itself polls as a plain file would: never readable data */
	{
		struct pollfd pfd = { .fd = dev, .events = POLLIN };

		assert_true(poll(&pfd, 1, 0) >= 0);
		assert_false(pfd.revents & POLLNVAL);
	}
	/* the device file closed (its interrupts torn down), the eventfd is the
	 * program's as before */
	assert_int_equal(close(dev), 0);
	assert_int_equal(readable(efd, ep), 0);
	assert_int_equal(eventfd_write(efd, 2), 0);
	assert_int_equal(readable(efd, ep), 1);
	assert_int_equal(read(efd, &cnt, sizeof(cnt)), sizeof(cnt));
	assert_int_equal(cnt, 2);
	assert_int_equal(close(ep), 0);
	assert_int_equal(close(efd), 0);
	assert_int_equal(close(fd), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_threads),
		cmocka_unit_test(test_fork_from_thread),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_dup_emulated),
		cmocka_unit_test(test_dup_onto),
		cmocka_unit_test(test_dup_bad),
		cmocka_unit_test(test_close_paths),
		cmocka_unit_test(test_poll_fault_queue),
		cmocka_unit_test(test_poll_irq_eventfd),
	};

	if (argc > 1 && strcmp(argv[1], EXEC_CHILD) == 0)
		return exec_child(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
