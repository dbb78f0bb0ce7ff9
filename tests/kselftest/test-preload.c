// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The preload library (lib/preload) seen from an ordinary program: it runs
 * with LD_PRELOAD=libiommufd-preload.so and IOMMUFD_EMU_DEVICES set (see
 * meson.build), uses plain libc calls on /dev/iommu, /dev/vfio, /proc and
 * /sys, and libiommufd's *kernel* backend, and checks that the emulator
 * answers. Not for the VM: it tests the interposition, not the kernel.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common.h"
#include "shared/abi.h"
#include "shared/abi-test.h"

static uint32_t ioas_alloc(int fd)
{
	struct kabi_ioas_alloc cmd = { .size = sizeof(cmd) };

	assert_int_equal(ioctl(fd, KABI_IOMMU_IOAS_ALLOC, &cmd), 0);
	return cmd.out_ioas_id;
}

/* VmPin of this process in kB, from /proc/self/status */
static long vm_pinned(void)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld", &v) == 1)
			break;
	fclose(f);
	return v;
}

static void test_open_ioctl_close(void **state)
{
	struct stat st;
	int fd = open("/dev/iommu", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(ioas_alloc(fd), 1);
	assert_int_equal(ioas_alloc(fd), 2);
	/* a bad user pointer is EFAULT, not a crash */
	assert_int_equal(ioctl(fd, KABI_IOMMU_DESTROY, NULL), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(close(fd), 0);
	/* the number is really closed */
	assert_int_equal(ioctl(fd, KABI_IOMMU_IOAS_ALLOC, NULL), -1);
	assert_int_equal(errno, EBADF);
	/* a new context starts from ID 1 */
	fd = open("/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ioas_alloc(fd), 1);
	assert_int_equal(close(fd), 0);
}

static void test_dup(void **state)
{
	int fd = open("/dev/iommu", O_RDWR), d1, d2;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ioas_alloc(fd), 1);
	d1 = dup(fd);
	assert_true(d1 >= 0 && d1 != fd);
	assert_int_equal(ioas_alloc(d1), 2); /* same context */
	assert_int_equal(dup2(fd, 100), 100);
	d2 = fcntl(fd, F_DUPFD_CLOEXEC, 200);
	assert_true(d2 >= 200);
	assert_int_equal(close(fd), 0);
	assert_int_equal(close(d1), 0);
	/* the file lives while any of its numbers does */
	assert_int_equal(ioas_alloc(100), 3);
	assert_int_equal(ioas_alloc(d2), 4);
	assert_int_equal(close(100), 0);
	assert_int_equal(close(d2), 0);
	assert_int_equal(ioctl(100, KABI_IOMMU_IOAS_ALLOC, NULL), -1);
	assert_int_equal(errno, EBADF);
}

/* dup3 with bad flags fails before it closes the target */
static void test_dup3_bad_flags(void **state)
{
	int fd = open("/dev/iommu", O_RDWR), p[2];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup3(fd, p[1], 0x40000000), -1);
	assert_int_equal(errno, EINVAL);
	assert_true(fcntl(p[1], F_GETFD) >= 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	/* the emulated target, too */
	assert_int_equal(dup3(p[0], fd, 0x40000000), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioas_alloc(fd), 1);
	close(p[0]);
	close(p[1]);
	/* F_DUPFD's lowest number is unsigned to the kernel: a negative one is EINVAL */
	assert_int_equal(fcntl(fd, F_DUPFD, -1), -1);
	assert_int_equal(errno, EINVAL);
	/* an emulated fd stays close-on-exec: its state cannot cross exec */
	assert_int_equal(fcntl(fd, F_SETFD, 0), 0);
	assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC);
	assert_int_equal(close(fd), 0);
}

/*
 * Closes the preload library does not see: the emulated fd's number must not
 * stay the emulator's. A real file that gets the number afterwards is the
 * kernel's (its read and ioctl are not the emulator's), and the emulated
 * file is released as the close would have released it: the device's next
 * file binds.
 */
enum unseen_close {
	BY_FCLOSE,	  /* fclose(fdopen(fd)): glibc closes internally */
	BY_CLOSE_RANGE,	  /* close_range(fd, fd, 0) */
	BY_CLOSE_RANGE_UNSHARE, /* close_range(fd, ~0U, CLOSE_RANGE_UNSHARE) */
	BY_CLOSEFROM,	  /* closefrom(fd) */
	BY_SYSCALL,	  /* syscall(SYS_close, fd): no libc function at all */
};

static int bind_dev(int dev, int iommufd)
{
	struct kabi_vfio_device_bind_iommufd b = { .argsz = sizeof(b), .iommufd = iommufd };

	return ioctl(dev, KABI_VFIO_DEVICE_BIND_IOMMUFD, &b);
}

static void unseen_close(enum unseen_close how)
{
	int ictx = open("/dev/iommu", O_RDWR), dev = open("/dev/vfio/devices/vfio0", O_RDWR), p[2];
	char buf[16] = "";
	FILE *f;

	assert_true(ictx >= 0);
	assert_true(dev > ictx);
	assert_int_equal(bind_dev(dev, ictx), 0);
	switch (how) {
	case BY_FCLOSE:
		f = fdopen(dev, "r+");
		assert_non_null(f);
		assert_int_equal(fclose(f), 0);
		break;
	case BY_CLOSE_RANGE:
		assert_int_equal(close_range((unsigned int)dev, (unsigned int)dev, 0), 0);
		break;
	case BY_CLOSE_RANGE_UNSHARE:
		assert_int_equal(close_range((unsigned int)dev, ~0u, CLOSE_RANGE_UNSHARE), 0);
		break;
	case BY_CLOSEFROM:
		closefrom(dev);
		break;
	case BY_SYSCALL:
		assert_int_equal(syscall(SYS_close, dev), 0);
		break;
	}
	/* the lowest free number: the closed one */
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(p[0], dev);
	assert_int_equal(write(p[1], "hello", 5), 5);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(ioctl(p[0], KABI_VFIO_DEVICE_GET_INFO, NULL), -1);
	assert_int_equal(errno, ENOTTY);
	/* the device's first file is gone: a new one binds */
	dev = open("/dev/vfio/devices/vfio0", O_RDWR);
	assert_true(dev >= 0);
	assert_int_equal(bind_dev(dev, ictx), 0);
	assert_int_equal(close(dev), 0);
	assert_int_equal(close(p[0]), 0);
	assert_int_equal(close(p[1]), 0);
	assert_int_equal(close(ictx), 0);
}

static void test_unseen_fclose(void **state)
{
	(void)state;
	unseen_close(BY_FCLOSE);
}

static void test_unseen_close_range(void **state)
{
	(void)state;
	unseen_close(BY_CLOSE_RANGE);
}

static void test_unseen_close_range_unshare(void **state)
{
	(void)state;
	unseen_close(BY_CLOSE_RANGE_UNSHARE);
}

static void test_unseen_closefrom(void **state)
{
	(void)state;
	unseen_close(BY_CLOSEFROM);
}

static void test_unseen_syscall_close(void **state)
{
	(void)state;
	unseen_close(BY_SYSCALL);
}

/* CLOSE_RANGE_CLOEXEC closes nothing: the emulated fd stays, close-on-exec */
static void test_close_range_cloexec(void **state)
{
	int fd = open("/dev/iommu", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ioas_alloc(fd), 1);
	assert_int_equal(close_range((unsigned int)fd, (unsigned int)fd, CLOSE_RANGE_CLOEXEC), 0);
	assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC);
	assert_int_equal(ioas_alloc(fd), 2);
	assert_int_equal(close(fd), 0);
}

static void test_passthrough(void **state)
{
	int p[2];
	char c = 0;

	(void)state;
	/* real fds are untouched */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	assert_int_equal(ioctl(p[0], KABI_IOMMU_IOAS_ALLOC, NULL), -1);
	assert_int_equal(errno, ENOTTY);
	close(p[0]);
	close(p[1]);
}

static void test_fail_nth(void **state)
{
	struct kabi_ioas_alloc cmd = { .size = sizeof(cmd) };
	char path[64], buf[32] = "";
	int fd, nth;
	ssize_t n;

	(void)state;
	fd = open("/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", (int)getpid());
	nth = open(path, O_RDWR);
	assert_true(nth >= 0);
	/* the first injection site fails, and reading back says it fired */
	assert_int_equal(pwrite(nth, "1", 1, 0), 1);
	assert_int_equal(ioctl(fd, KABI_IOMMU_IOAS_ALLOC, &cmd), -1);
	assert_int_equal(errno, ENOMEM);
	n = pread(nth, buf, sizeof(buf), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "0\n", 2);
	assert_int_equal(pwrite(nth, "0", 1, 0), 1);
	/* far away: the call succeeds and the count left is below what was armed */
	assert_int_equal(pwrite(nth, "1000", 4, 0), 4);
	assert_int_equal(ioctl(fd, KABI_IOMMU_IOAS_ALLOC, &cmd), 0);
	n = pread(nth, buf, sizeof(buf) - 1, 0);
	assert_true(n > 1);
	buf[n] = '\0';
	assert_true(atoi(buf) > 0 && atoi(buf) < 1000);
	assert_int_equal(pwrite(nth, "0", 1, 0), 1);
	assert_int_equal(ioctl(fd, KABI_IOMMU_IOAS_ALLOC, &cmd), 0);
	/* junk is refused like the kernel's knob does */
	assert_int_equal(pwrite(nth, "x", 1, 0), -1);
	assert_int_equal(errno, EINVAL);
	close(nth);
	close(fd);
}

static void test_vm_pinned(void **state)
{
	struct kabi_test_cmd md = { .size = sizeof(md), .op = KABI_TEST_OP_MOCK_DOMAIN };
	struct kabi_ioas_map map = { .size = sizeof(map) };
	long page = sysconf(_SC_PAGESIZE), before;
	void *buf;
	int fd;

	(void)state;
	buf = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	fd = open("/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	before = vm_pinned();
	assert_true(before >= 0);
	md.id = ioas_alloc(fd);
	map.ioas_id = md.id;
	/* inside the mock domain's aperture */
	map.flags = KABI_IOAS_MAP_FIXED_IOVA | KABI_IOAS_MAP_READABLE | KABI_IOAS_MAP_WRITEABLE;
	map.iova = 1ull << 24;
	map.user_va = (uintptr_t)buf;
	map.length = (uint64_t)page;
	if (ioctl(fd, KABI_IOMMU_IOAS_MAP, &map))
		fail_msg("IOAS_MAP: %s", strerror(errno));
	/* a domain pins the page: the process' VmPin grows by it */
	if (ioctl(fd, KABI_IOMMU_TEST_CMD, &md))
		fail_msg("MOCK_DOMAIN: %s", strerror(errno));
	assert_int_equal(vm_pinned(), before + page / 1024);
	assert_int_equal(close(fd), 0);
	assert_int_equal(vm_pinned(), before);
	munmap(buf, (size_t)page);
}

/* after fork, parent and child work on one iommufd object, as on the kernel */
static void test_fork_shared(void **state)
{
	struct kabi_ioas_map map = { .size = sizeof(map) };
	long page = sysconf(_SC_PAGESIZE);
	int fd, status = -1;
	void *buf;
	pid_t pid;

	(void)state;
	buf = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	fd = open("/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ioas_alloc(fd), 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kabi_ioas_alloc a = { .size = sizeof(a) };

		/* the child's calls land in the parent's object: next ID is 2 */
		if (ioctl(fd, KABI_IOMMU_IOAS_ALLOC, &a) || a.out_ioas_id != 2)
			_exit(1);
		map.ioas_id = 2;
		map.flags = KABI_IOAS_MAP_FIXED_IOVA | KABI_IOAS_MAP_READABLE;
		map.iova = 1ull << 24;
		map.user_va = (uintptr_t)buf;
		map.length = (uint64_t)page;
		_exit(ioctl(fd, KABI_IOMMU_IOAS_MAP, &map) ? 2 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(ioas_alloc(fd), 3);
	/* the child's mapping is in IOAS 2: mapping the same IOVA again is refused */
	map.size = sizeof(map);
	map.ioas_id = 2;
	map.flags = KABI_IOAS_MAP_FIXED_IOVA | KABI_IOAS_MAP_READABLE;
	map.iova = 1ull << 24;
	map.user_va = (uintptr_t)buf;
	map.length = (uint64_t)page;
	assert_int_equal(ioctl(fd, KABI_IOMMU_IOAS_MAP, &map), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(close(fd), 0);
	munmap(buf, (size_t)page);
}

/* a forked child's ioctl writes its output into its own memory, never the parent's */
static uint8_t fork_out[4096];

static void test_fork_output_child_only(void **state)
{
	struct kabi_ioas_iova_ranges *r = (void *)fork_out;
	int fd, status = -1;
	uint32_t id;
	pid_t pid;

	(void)state;
	fd = open("/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	id = ioas_alloc(fd);
	memset(fork_out, 0xa5, sizeof(fork_out));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		memset(fork_out, 0, sizeof(fork_out));
		r->size = sizeof(*r);
		r->ioas_id = id;
		r->num_iovas = 4;
		r->allowed_iovas = (uintptr_t)(r + 1);
		if (ioctl(fd, KABI_IOMMU_IOAS_IOVA_RANGES, r) || r->num_iovas < 1)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (size_t i = 0; i < sizeof(fork_out); i++)
		if (fork_out[i] != 0xa5)
			fail_msg("the child's ioctl wrote the parent's byte %zu", i);
	assert_int_equal(close(fd), 0);
}

/*
 * The fork server serves a child's calls with the parent's rights on the
 * memory of the pid the request names: a child that names its parent's pid is
 * refused. The request as lib/preload/fork.c sends it (struct fwd_req).
 */
struct forged_req {
	int op;
	int fd;
	unsigned long req;
	uint64_t arg;
	uint64_t len;
	int64_t off;
	pid_t pid;
};

/* the inherited socket to the fork server: this program's only SEQPACKET socket */
static int fork_server_socket(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		int type = 0;
		socklen_t l = sizeof(type);

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) == 0 && type == SOCK_SEQPACKET)
			return fd;
	}
	return -1;
}

static int64_t forged_call(int srv, const struct forged_req *q)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { (void *)q, sizeof(*q) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int64_t ret = 0;
	int rp[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp))
		return 1;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &rp[1], sizeof(int));
	if (sendmsg(srv, &m, MSG_NOSIGNAL) != sizeof(*q))
		return 2;
	close(rp[1]);
	if (recv(rp[0], &ret, sizeof(ret), 0) != sizeof(ret))
		return 3;
	close(rp[0]);
	return ret;
}

static void test_fork_server_pid_claim(void **state)
{
	struct kabi_ioas_iova_ranges *r = (void *)fork_out;
	int fd, status = -1;
	uint32_t id;
	pid_t pid;

	(void)state;
	fd = open("/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	id = ioas_alloc(fd);
	memset(fork_out, 0, sizeof(fork_out));
	r->size = sizeof(*r);
	r->ioas_id = id;
	r->num_iovas = 4;
	r->allowed_iovas = (uintptr_t)(r + 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct forged_req q = { .op = 1 /* FWD_IOCTL */, .fd = fd,
					.req = KABI_IOMMU_IOAS_IOVA_RANGES,
					.arg = (uintptr_t)r, .pid = getppid() };
		int srv = fork_server_socket();
		int64_t ret;

		if (srv < 0)
			_exit(10);
		/* the honest claim is served: the same call in the child's memory */
		q.pid = getpid();
		if (forged_call(srv, &q) != 0 || r->num_iovas < 1)
			_exit(11);
		/* the parent's pid is refused */
		q.pid = getppid();
		ret = forged_call(srv, &q);
		_exit(ret == -EPERM ? 0 : 12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the parent's request was not answered into its memory */
	assert_int_equal(r->num_iovas, 4);
	assert_int_equal(((uint64_t *)(r + 1))[1], 0);
	assert_int_equal(close(fd), 0);
}

/* ------------------------------------------------------------ SCM_RIGHTS */

static void send_fd(int sock, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	char byte = 'x';
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
			    .msg_controllen = sizeof(cbuf.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	memset(&cbuf, 0, sizeof(cbuf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &m, 0) != 1)
		fail_msg("sendmsg: %s", strerror(errno));
}

/* the fd of one SCM_RIGHTS message, by recvmsg or recvmmsg; -1 when none arrived */
static int recv_fd(int sock, bool mmsg)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	char byte;
	struct iovec iov = { &byte, 1 };
	struct mmsghdr mm = { .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
					   .msg_controllen = sizeof(cbuf.buf) } };
	struct cmsghdr *c;
	int fd = -1;

	memset(&cbuf, 0, sizeof(cbuf));
	if (mmsg ? recvmmsg(sock, &mm, 1, 0, NULL) != 1 : recvmsg(sock, &mm.msg_hdr, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&mm.msg_hdr);
	if (c && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * An emulated fd sent to this process itself arrives as another reference to
 * the same file, as a dup: by recvmsg and by recvmmsg.
 */
static void test_scm_rights_self(void **state)
{
	struct stat st, st2;
	int fd, nfd, sv[2];

	(void)state;
	fd = open("/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ioas_alloc(fd), 1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	for (int mmsg = 0; mmsg < 2; mmsg++) {

		send_fd(sv[0], fd);
		nfd = recv_fd(sv[1], mmsg);
		assert_true(nfd >= 0 && nfd != fd);
		/* the same context, the same node, close-on-exec like every emulated fd */
		assert_int_equal(ioas_alloc(nfd), 2 + mmsg);
		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(fstat(nfd, &st2), 0);
		assert_true(S_ISCHR(st2.st_mode));
		assert_int_equal(st2.st_rdev, st.st_rdev);
		assert_true(fcntl(nfd, F_GETFD) & FD_CLOEXEC);
		assert_int_equal(close(nfd), 0);
		assert_int_equal(ioctl(nfd, KABI_IOMMU_IOAS_ALLOC, NULL), -1);
		assert_int_equal(errno, EBADF);
	}
	/* the file lives while a received number does */
	send_fd(sv[0], fd);
	nfd = recv_fd(sv[1], false);
	assert_int_equal(close(fd), 0);
	assert_int_equal(ioas_alloc(nfd), 4);
	/*
	 * The limit: the emulated file goes with its last number, so one closed
	 * while its placeholder is in flight arrives as a plain socket (the
	 * kernel would keep the file alive in the message)
	 */
	send_fd(sv[0], nfd);
	assert_int_equal(close(nfd), 0);
	fd = recv_fd(sv[1], false);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(close(fd), 0);
	/* a plain fd stays plain */
	send_fd(sv[0], sv[0]);
	fd = recv_fd(sv[1], false);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(close(fd), 0);
	close(sv[0]);
	close(sv[1]);
}

/* the child's half of test_scm_rights_child: 0 or the step that failed */
static int scm_child(int sock, int inherited)
{
	struct kabi_ioas_alloc a = { .size = sizeof(a) };
	struct stat st;
	int nfd = recv_fd(sock, false), late;

	/* the inherited file: forwarded as the parent's number (next ID 2 there) */
	if (nfd < 0 || nfd == inherited)
		return 1;
	if (ioctl(nfd, KABI_IOMMU_IOAS_ALLOC, &a) || a.out_ioas_id != 2)
		return 2;
	if (fstat(nfd, &st) || !S_ISCHR(st.st_mode) || !(fcntl(nfd, F_GETFD) & FD_CLOEXEC))
		return 3;
	/* its close forgets the alias only: the inherited number still works */
	if (close(nfd) || ioctl(nfd, KABI_IOMMU_IOAS_ALLOC, &a) != -1 || errno != EBADF)
		return 4;
	if (ioctl(inherited, KABI_IOMMU_IOAS_ALLOC, &a) || a.out_ioas_id != 3)
		return 5;
	/* a file the parent opened after the fork: unknown here, a plain socket */
	late = recv_fd(sock, false);
	if (late < 0 || fstat(late, &st) || !S_ISSOCK(st.st_mode))
		return 6;
	if (ioctl(late, KABI_IOMMU_IOAS_ALLOC, &a) != -1 || errno != ENOTTY)
		return 7;
	close(late);
	return 0;
}

/*
 * A forked child that receives a placeholder of an fd it inherited uses the
 * parent's file under the received number (forwarded as the parent's
 * number); one of a file opened after the fork stays a socket.
 */
static void test_scm_rights_child(void **state)
{
	int fd, late, sv[2], status = -1;
	pid_t pid;

	(void)state;
	fd = open("/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ioas_alloc(fd), 1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		/* a number the parent's fd is not: the received one may not be fd */
		_exit(scm_child(sv[1], fd));
	}
	close(sv[1]);
	late = open("/dev/iommu", O_RDWR);
	assert_true(late >= 0);
	send_fd(sv[0], fd);
	send_fd(sv[0], late);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the child's calls landed in this process's object */
	assert_int_equal(ioas_alloc(fd), 4);
	assert_int_equal(ioas_alloc(late), 1);
	assert_int_equal(close(late), 0);
	assert_int_equal(close(fd), 0);
	close(sv[0]);
}

static void test_debugfs(void **state)
{
	DIR *d = opendir("/sys/kernel/debug/");
	bool failslab = false;
	struct dirent *de;
	struct stat st;
	char buf[8] = "";
	int fd;

	(void)state;
	assert_non_null(d);
	/* what the kernel's iommufd_fail_nth does: writes relative to dirfd() */
	fd = openat(dirfd(d), "failslab/ignore-gfp-wait", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "N", 1), 1);
	close(fd);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, "failslab") == 0) {
			failslab = true;
			assert_int_equal(de->d_type, DT_DIR);
		}
	}
	assert_true(failslab);
	assert_int_equal(fstatat(dirfd(d), "fail_page_alloc/verbose", &st, 0), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(fstat(dirfd(d), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* nothing else there: the host's debugfs is never reached through it */
	assert_int_equal(openat(dirfd(d), "failslab/times", O_WRONLY), -1);
	assert_int_equal(errno, ENOENT);
	rewinddir(d);
	de = readdir(d);
	assert_non_null(de);
	assert_string_equal(de->d_name, ".");
	assert_int_equal(closedir(d), 0);
	/* each open is a throw-away copy of the knob */
	fd = open("/sys/kernel/debug/failslab/verbose", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "2\n", 2);
	close(fd);
}

/* IOMMUFD_EMU_DEVICES=edu@0000:00:02.0 (meson.build) */
static void test_devices(void **state)
{
	char buf[32] = "";
	struct stat st;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(access("/sys/bus/pci/devices/0000:00:02.0/vendor", R_OK), 0);
	f = fopen("/sys/bus/pci/devices/0000:00:02.0/vendor", "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "0x1234\n");
	fd = open("/dev/vfio/devices/vfio0", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(close(fd), 0);
	/* no such node */
	assert_int_equal(open("/dev/vfio/devices/vfio9", O_RDWR), -1);
	assert_int_equal(errno, ENOENT);
}

/*
 * One node of /dev as every query sees it: stat, lstat, fstatat, statx,
 * access and the fstat of an open agree (a char device with these numbers,
 * which the caller may open), or all say ENOENT
 */
static void node_agrees(const char *path, unsigned int maj, unsigned int min)
{
	struct stat st, fst;
	struct statx stx;
	int fd;

	if (!maj) {
		assert_int_equal(stat(path, &st), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(lstat(path, &st), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(fstatat(AT_FDCWD, path, &st, 0), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(access(path, F_OK), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(open(path, O_RDWR), -1);
		assert_int_equal(errno, ENOENT);
		return;
	}
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(major(st.st_rdev), maj);
	assert_int_equal(minor(st.st_rdev), min);
	assert_int_equal(st.st_uid, getuid());
	assert_int_equal(lstat(path, &fst), 0);
	assert_int_equal(fst.st_mode, st.st_mode);
	assert_int_equal(fst.st_rdev, st.st_rdev);
	assert_int_equal(fstatat(AT_FDCWD, path, &fst, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(fst.st_rdev, st.st_rdev);
	assert_int_equal(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &stx), 0);
	assert_int_equal(stx.stx_mode, st.st_mode);
	assert_int_equal(stx.stx_rdev_major, maj);
	assert_int_equal(stx.stx_rdev_minor, min);
	assert_int_equal(access(path, R_OK | W_OK), 0);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &fst), 0);
	assert_int_equal(fst.st_mode, st.st_mode);
	assert_int_equal(fst.st_rdev, st.st_rdev);
	close(fd);
}

/* IOMMUFD_EMU_DEVICES=edu@0000:00:02.0: /dev as the VM's kernel lays it out */
static void test_dev_nodes(void **state)
{
	char buf[32] = "";
	struct stat st;
	unsigned int maj, min;
	FILE *f;

	(void)state;
	node_agrees("/dev/iommu", 10, 257);
	assert_int_equal(stat("/dev/iommu", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	node_agrees("/dev/vfio/vfio", 10, 196);
	assert_int_equal(stat("/dev/vfio/vfio", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0666);
	/* the cdev: the numbers its sysfs dev file reports */
	f = fopen("/sys/bus/pci/devices/0000:00:02.0/vfio-dev/vfio0/dev", "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_int_equal(sscanf(buf, "%u:%u", &maj, &min), 2);
	node_agrees("/dev/vfio/devices/vfio0", maj, min);
	assert_int_equal(stat("/dev/vfio/devices/vfio0", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* its group (the first new group is 2, as the kernel numbers them) */
	assert_int_equal(stat("/dev/vfio/2", &st), 0);
	node_agrees("/dev/vfio/2", major(st.st_rdev), 2);
	/* what is not there */
	node_agrees("/dev/vfio/devices/vfio1", 0, 0);
	node_agrees("/dev/vfio/7", 0, 0);
	node_agrees("/dev/vfio/bogus", 0, 0);
	/* the directories */
	assert_int_equal(stat("/dev/vfio", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(stat("/dev/vfio/devices", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(access("/dev/vfio/devices", X_OK), 0);
	/* below a device node: not a directory */
	assert_int_equal(stat("/dev/vfio/devices/vfio0/x", &st), -1);
	assert_int_equal(errno, ENOTDIR);
}

struct dent {
	const char *name;
	unsigned char type;
};

/* d lists exactly want[0..n) (in any order), with their d_type; closes d */
static void dir_lists(DIR *d, const struct dent *want, size_t n)
{
	bool seen[16] = { false };
	struct dirent *de;
	size_t count = 0;

	assert_non_null(d);
	assert_true(n <= sizeof(seen) / sizeof(seen[0]));
	errno = 0;
	while ((de = readdir(d))) {
		size_t i;

		for (i = 0; i < n && strcmp(want[i].name, de->d_name) != 0; i++)
			;
		if (i == n)
			fail_msg("unexpected entry %s", de->d_name);
		assert_false(seen[i]);
		seen[i] = true;
		assert_int_equal(de->d_type, want[i].type);
		count++;
	}
	assert_int_equal(errno, 0);
	assert_int_equal(count, n);
	assert_int_equal(closedir(d), 0);
}

/* each entry but "." and ".." of dir: stat, access and open agree with its d_type */
static void entries_agree(const char *dir, const struct dent *want, size_t n)
{
	char path[PATH_MAX];
	struct stat st, fst;
	int fd;

	for (size_t i = 0; i < n; i++) {
		if (want[i].name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, want[i].name);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(lstat(path, &fst), 0);
		assert_int_equal(st.st_mode, fst.st_mode);
		assert_int_equal(access(path, F_OK), 0);
		if (want[i].type == DT_DIR) {
			assert_true(S_ISDIR(st.st_mode));
			fd = open(path, O_RDONLY | O_DIRECTORY);
		} else {
			assert_int_equal(want[i].type, DT_CHR);
			assert_true(S_ISCHR(st.st_mode));
			fd = open(path, O_RDWR);
		}
		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &fst), 0);
		assert_int_equal(fst.st_mode & S_IFMT, st.st_mode & S_IFMT);
		if (S_ISDIR(st.st_mode))
			assert_int_equal(fst.st_ino, st.st_ino);
		close(fd);
	}
}

/* how many times /dev's listing (of opendir, or of fdopendir(fd) if fd >= 0)
 * has name, and with which d_type */
static int dev_lists(int fd, const char *name, unsigned char *type)
{
	DIR *d = fd >= 0 ? fdopendir(fd) : opendir("/dev");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, name) == 0) {
			*type = de->d_type;
			n++;
		}
	}
	closedir(d);
	return n;
}

/* /dev: the host's, with the emulated names whatever the host has, and what
 * is opened relative to it as what its absolute path opens */
static void test_dev_top(void **state)
{
	unsigned char type = DT_UNKNOWN;
	struct stat st, abs;
	int fd, cfd;

	(void)state;
	assert_int_equal(dev_lists(-1, "vfio", &type), 1);
	assert_int_equal(type, DT_DIR);
	assert_int_equal(dev_lists(-1, "iommu", &type), 1);
	assert_int_equal(type, DT_CHR);
	assert_int_equal(dev_lists(-1, "null", &type), 1);
	fd = open("/dev", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(fstatat(fd, "iommu", &st, 0), 0);
	assert_int_equal(stat("/dev/iommu", &abs), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, abs.st_rdev);
	assert_int_equal(fstatat(fd, "vfio/devices/../devices", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
	cfd = openat(fd, "vfio/devices/vfio0", O_RDWR);
	assert_true(cfd >= 0);
	close(cfd);
	assert_int_equal(faccessat(fd, "null", R_OK, 0), 0); /* the host's */
	assert_int_equal(dev_lists(fd, "vfio", &type), 1); /* closes fd */
}

/*
 * IOMMUFD_EMU_DEVICES=edu+noiommu@0000:00:02.0,nvme@0000:00:03.0 (meson.build,
 * --config noiommu): the no-IOMMU group's node is noiommu-2 and its device has
 * no cdev (drivers/vfio/group.c, vfio.h vfio_device_add()), the NVMe keeps
 * both, as the VM booted for no-IOMMU devices shows (tests/vm/README.md)
 */
static void test_config_noiommu(void **state)
{
	static const struct dent vfio[] = {
		{ ".", DT_DIR }, { "..", DT_DIR }, { "vfio", DT_CHR }, { "noiommu-2", DT_CHR },
		{ "3", DT_CHR }, { "devices", DT_DIR },
	};
	static const struct dent devices[] = {
		{ ".", DT_DIR }, { "..", DT_DIR }, { "vfio1", DT_CHR },
	};
	struct stat st;

	(void)state;
	dir_lists(opendir("/dev/vfio"), vfio, sizeof(vfio) / sizeof(vfio[0]));
	dir_lists(opendir("/dev/vfio/devices"), devices, sizeof(devices) / sizeof(devices[0]));
	entries_agree("/dev/vfio", vfio, sizeof(vfio) / sizeof(vfio[0]));
	entries_agree("/dev/vfio/devices", devices, sizeof(devices) / sizeof(devices[0]));
	assert_int_equal(stat("/dev/vfio/2", &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(stat("/dev/vfio/devices/vfio0", &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* the directories of the emulated /dev open, list and walk as devtmpfs's */
static void test_dev_dirs(void **state)
{
	static const struct dent vfio[] = {
		{ ".", DT_DIR }, { "..", DT_DIR }, { "vfio", DT_CHR }, { "2", DT_CHR },
		{ "devices", DT_DIR },
	};
	static const struct dent devices[] = {
		{ ".", DT_DIR }, { "..", DT_DIR }, { "vfio0", DT_CHR },
	};
	struct stat st, top, dst;
	struct statx stx;
	int fd, dup_fd, top_fd, cfd;

	(void)state;
	dir_lists(opendir("/dev/vfio"), vfio, sizeof(vfio) / sizeof(vfio[0]));
	dir_lists(opendir("/dev/vfio/"), vfio, sizeof(vfio) / sizeof(vfio[0]));
	dir_lists(opendir("/dev/vfio/devices"), devices, sizeof(devices) / sizeof(devices[0]));
	dir_lists(opendir("/dev/vfio/devices/../devices/."), devices,
		  sizeof(devices) / sizeof(devices[0]));
	entries_agree("/dev/vfio", vfio, sizeof(vfio) / sizeof(vfio[0]));
	entries_agree("/dev/vfio/devices", devices, sizeof(devices) / sizeof(devices[0]));
	/* two directories: their own inodes, and devices/ counted in the top's links */
	assert_int_equal(stat("/dev/vfio", &top), 0);
	assert_int_equal(stat("/dev/vfio/devices", &dst), 0);
	assert_int_not_equal(top.st_ino, dst.st_ino);
	assert_int_equal(top.st_nlink, 3);
	assert_int_equal(dst.st_nlink, 2);
	/* shmem's size of a directory: 20 bytes an entry, "." and ".." too */
	assert_int_equal(top.st_size, 20 * 5);
	assert_int_equal(dst.st_size, 20 * 3);
	assert_int_equal(top.st_dev, dst.st_dev);
	assert_int_equal(stat("/dev/vfio/devices/..", &st), 0);
	assert_int_equal(st.st_ino, top.st_ino);

	/* open(O_DIRECTORY): a directory to fstat and to open relative to */
	fd = open("/dev/vfio/devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_ino, dst.st_ino);
	assert_int_equal(fstatat(fd, "", &st, AT_EMPTY_PATH), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx), 0);
	assert_true(S_ISDIR(stx.stx_mode));
	assert_int_equal(stx.stx_ino, dst.st_ino);
	cfd = openat(fd, "vfio0", O_RDWR);
	assert_true(cfd >= 0);
	assert_int_equal(fstat(cfd, &st), 0);
	assert_int_equal(stat("/dev/vfio/devices/vfio0", &dst), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, dst.st_rdev);
	close(cfd);
	assert_int_equal(fstatat(fd, "vfio0", &st, 0), 0);
	assert_int_equal(st.st_rdev, dst.st_rdev);
	assert_int_equal(faccessat(fd, "vfio0", R_OK | W_OK, 0), 0);
	assert_int_equal(openat(fd, "vfio9", O_RDWR), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fstatat(fd, "vfio9", &st, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(readlinkat(fd, "vfio0", (char[8]){ 0 }, 8), -1);
	assert_int_equal(errno, EINVAL);
	/* ".." is /dev/vfio, and the group there is reachable from here */
	top_fd = openat(fd, "..", O_RDONLY | O_DIRECTORY);
	assert_true(top_fd >= 0);
	assert_int_equal(fstat(top_fd, &st), 0);
	assert_int_equal(st.st_ino, top.st_ino);
	assert_int_equal(fstatat(fd, "../2", &st, 0), 0);
	assert_true(S_ISCHR(st.st_mode));
	cfd = openat(top_fd, "devices/vfio0", O_RDWR);
	assert_true(cfd >= 0);
	close(cfd);
	close(top_fd);
	/* a dup of the directory fd is one too (fts walks with dups) */
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	assert_true(dup_fd >= 0);
	close(fd);
	cfd = openat(dup_fd, "vfio0", O_RDWR);
	assert_true(cfd >= 0);
	close(cfd);
	dir_lists(fdopendir(dup_fd), devices, sizeof(devices) / sizeof(devices[0]));

	/* not directories, and a directory is not opened for writing */
	assert_null(opendir("/dev/vfio/2"));
	assert_int_equal(errno, ENOTDIR);
	assert_null(opendir("/dev/vfio/devices/vfio0"));
	assert_int_equal(errno, ENOTDIR);
	assert_null(opendir("/dev/vfio/devices/vfio7"));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(open("/dev/vfio", O_RDWR), -1);
	assert_int_equal(errno, EISDIR);
	assert_int_equal(open("/dev/vfio/devices", O_WRONLY | O_DIRECTORY), -1);
	assert_int_equal(errno, EISDIR);
	/* no extended attributes (devtmpfs without a security module), for
	 * ls -l; what is absent stays absent */
	assert_int_equal(lgetxattr("/dev/vfio/devices/vfio0", "security.selinux", NULL, 0), -1);
	assert_int_equal(errno, ENODATA);
	assert_int_equal(getxattr("/dev/vfio", "security.selinux", NULL, 0), -1);
	assert_int_equal(errno, ENODATA);
	assert_int_equal(llistxattr("/dev/vfio/devices", NULL, 0), 0);
	/* the host's /dev (not the host's lookup of a /dev/vfio it may lack) */
	errno = 0;
	llistxattr("/dev/vfio/devices/../..", NULL, 0);
	assert_int_not_equal(errno, ENOENT);
	assert_int_equal(listxattr("/dev/vfio/devices/vfio7", NULL, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(listxattr("/sys/bus/pci/devices/0000:00:02.0/vendor", NULL, 0), 0);
}

/* below the emulated device's directory nothing is the host's (whose device
 * at that address, if any, is another): what the view lacks is absent */
static void test_sysfs_no_host(void **state)
{
	static const char *const absent[] = { "resource", "numa_node", "uevent", "power",
					      "power/control", "config", "vfio-dev/vfio9" };
	char path[PATH_MAX];
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/0000:00:02.0/%s", absent[i]);
		assert_int_equal(stat(path, &st), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(lstat(path, &st), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(access(path, F_OK), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(open(path, O_RDONLY), -1);
		assert_int_equal(errno, ENOENT);
		assert_null(opendir(path));
		assert_int_equal(errno, ENOENT);
		assert_null(fopen(path, "r"));
		assert_int_equal(errno, ENOENT);
	}
	/* what it has is there */
	assert_int_equal(stat("/sys/bus/pci/devices/0000:00:02.0/vendor", &st), 0);
	assert_int_equal(stat("/sys/bus/pci/devices/0000:00:02.0/vfio-dev/vfio0/dev", &st), 0);
}

/* realpath() resolves the view's links (glibc's own would walk the host's sysfs) */
static void test_sysfs_realpath(void **state)
{
	char buf[PATH_MAX];
	char *p;

	(void)state;
	assert_non_null(realpath("/sys/bus/pci/devices/0000:00:02.0/iommu_group", buf));
	assert_string_equal(buf, "/sys/kernel/iommu_groups/2");
	p = realpath("/sys/bus/pci/devices/0000:00:02.0/driver", NULL);
	assert_non_null(p);
	assert_string_equal(p, "/sys/bus/pci/drivers/vfio-pci");
	free(p);
	p = canonicalize_file_name("/sys/kernel/iommu_groups/2/devices/0000:00:02.0/vfio-dev/./vfio0/../vfio0/dev");
	assert_non_null(p);
	assert_string_equal(p, "/sys/devices/pci0000:00/0000:00:02.0/vfio-dev/vfio0/dev");
	free(p);
	assert_null(realpath("/sys/bus/pci/devices/0000:00:02.0/iommu_group/nope", buf));
	assert_int_equal(errno, ENOENT);
	assert_null(realpath("/sys/bus/pci/devices/0000:00:02.0/vendor/x", buf));
	assert_int_equal(errno, ENOTDIR);
	assert_null(realpath("/sys/bus/pci/devices/0000:00:02.0/resource", buf));
	assert_int_equal(errno, ENOENT);
}

/* the device's sysfs, as the kernel shows it: files, directories, links */
static void test_sysfs(void **state)
{
	const char *dev = "/sys/bus/pci/devices/0000:00:02.0";
	bool vendor = false, group = false;
	char buf[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	ssize_t n;
	DIR *d;
	int fd;

	(void)state;
	fd = open("/sys/bus/pci/devices/0000:00:02.0/vendor", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	assert_int_equal(n, 7);
	assert_memory_equal(buf, "0x1234\n", 7);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 7);
	close(fd);
	d = opendir(dev);
	assert_non_null(d);
	while ((de = readdir(d))) {
		vendor |= strcmp(de->d_name, "vendor") == 0 && de->d_type == DT_REG;
		group |= strcmp(de->d_name, "iommu_group") == 0 && de->d_type == DT_LNK;
	}
	assert_int_equal(closedir(d), 0);
	assert_true(vendor && group);
	snprintf(path, sizeof(path), "%s/iommu_group", dev);
	n = readlink(path, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = 0;
	assert_string_equal(buf, "../../../kernel/iommu_groups/2");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* through the group's link back to the device */
	assert_int_equal(stat("/sys/kernel/iommu_groups/2/devices/0000:00:02.0/vfio-dev/vfio0/dev", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	fd = open("/sys/bus/pci/devices/0000:00:02.0/vfio-dev/vfio0/dev", O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "511:0\n", 6);
	close(fd);
	/* a directory fd and paths relative to it */
	fd = open(dev, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(fstatat(fd, "class", &st, 0), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(openat(fd, "nope", O_RDONLY), -1);
	assert_int_equal(errno, ENOENT);
	close(fd);
	/* read-only, and absent names go to the host (which has no such device) */
	assert_int_equal(open("/sys/bus/pci/devices/0000:00:02.0/vendor", O_WRONLY), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(access("/sys/bus/pci/devices/0000:00:1f.7/vendor", F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

/* libiommufd's kernel backend, unmodified, gets the emulator */
/* the host's names in directory path, read with system calls the preload does not see */
static size_t host_names(const char *path, char names[][256], size_t max)
{
	char buf[8192];
	size_t n = 0;
	long len;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while ((len = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < len;) {
			struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type;
				 char name[]; } *de = (void *)(buf + off);

			if (strcmp(de->name, ".") && strcmp(de->name, "..") && n < max)
				snprintf(names[n++], 256, "%s", de->name);
			off += de->reclen;
		}
	}
	syscall(SYS_close, fd);
	return n;
}

static bool listed(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	assert_non_null(d);
	while ((de = readdir(d)))
		found |= !strcmp(de->d_name, name);
	closedir(d);
	return found;
}

static int count_listed(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += !strcmp(de->d_name, name);
	closedir(d);
	return n;
}

/*
 * The view joins the host's sysfs: /sys, /sys/bus, /sys/bus/pci/devices,
 * /sys/devices/pci0000:00 ... list the host's entries beside the emulated
 * ones, and names below them the view lacks are the host's, also relative
 * to a directory fd of the view; the emulated device's own directory is the
 * view's alone.
 */
static void test_sysfs_merged(void **state)
{
	static const char *const dirs[] = { "/sys", "/sys/bus", "/sys/bus/pci/devices", "/sys/devices",
					    "/sys/devices/pci0000:00", "/sys/class" };
	static char names[512][256];
	struct stat st;
	int fd, f;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		n = host_names(dirs[i], names, 512);
		for (size_t j = 0; j < n; j++)
			if (!listed(dirs[i], names[j]))
				fail_msg("%s/%s of the host is not listed", dirs[i], names[j]);
	}
	assert_true(listed("/sys/bus", "pci"));
	assert_true(listed("/sys/bus/pci/devices", "0000:00:02.0"));
	assert_true(listed("/sys/bus/pci/devices/", "0000:00:02.0"));
	/* the emulated device's directory has the view's entries only */
	assert_true(listed("/sys/bus/pci/devices/0000:00:02.0", "vendor"));
	assert_false(listed("/sys/bus/pci/devices/0000:00:02.0", "config"));
	/* its directory in the device tree: once among the host's, the view's alone */
	assert_int_equal(count_listed("/sys/devices/pci0000:00", "0000:00:02.0"), 1);
	assert_true(listed("/sys/devices/pci0000:00/0000:00:02.0", "subsystem"));
	assert_false(listed("/sys/devices/pci0000:00/0000:00:02.0", "config"));
	assert_int_equal(stat("/sys/devices/pci0000:00/0000:00:02.0/config", &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_true(listed("/sys/class", "vfio-dev"));
	/* the host's devices of the same root stay the host's, also relative to
	 * the root's directory fd */
	n = host_names("/sys/devices/pci0000:00", names, 512);
	for (size_t j = 0; j < n; j++) {
		char path[PATH_MAX];

		if (strncmp(names[j], "0000:", 5) || !strcmp(names[j], "0000:00:02.0"))
			continue;
		snprintf(path, sizeof(path), "/sys/devices/pci0000:00/%s/config", names[j]);
		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		fd = open("/sys/devices/pci0000:00", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(fd >= 0);
		snprintf(path, sizeof(path), "%s/config", names[j]);
		assert_int_equal(fstatat(fd, path, &st, 0), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(fstatat(fd, "0000:00:02.0/config", &st, 0), -1);
		assert_int_equal(errno, ENOENT);
		close(fd);
		/* and the host's links resolve into the host's tree */
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", names[j]);
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
			char real[PATH_MAX], want[PATH_MAX];

			assert_non_null(realpath(path, real));
			snprintf(want, sizeof(want), "/sys/devices/pci0000:00/%s", names[j]);
			assert_string_equal(real, want);
		}
		break;
	}
	/* relative to a directory fd of the view: a host bus */
	if (host_names("/sys/bus/cpu", names, 512)) {
		fd = open("/sys/bus", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(fstatat(fd, "cpu", &st, 0), 0);
		assert_true(S_ISDIR(st.st_mode));
		f = openat(fd, "cpu/drivers_autoprobe", O_RDONLY | O_CLOEXEC);
		assert_true(f >= 0);
		close(f);
		assert_int_equal(faccessat(fd, "cpu", R_OK, 0), 0);
		/* the view's own names stay the view's */
		assert_int_equal(openat(fd, "pci/devices/0000:00:02.0/config", O_RDONLY), -1);
		assert_int_equal(errno, ENOENT);
		assert_int_equal(openat(fd, "nosuchbus", O_RDONLY), -1);
		assert_int_equal(errno, ENOENT);
		close(fd);
	}
}

static void test_library_kernel_backend(void **state)
{
	struct iommufd_ctx *ctx = NULL;
	uint32_t id = 0;

	(void)state;
	assert_ok(iommufd_ctx_new(&ctx));
	assert_ok(iommufd_ioas_alloc(ctx, &id));
	assert_int_equal(id, 1);
	iommufd_ctx_unref(ctx);
}

/* ---------------------------------------------------- IOMMUFD_EMU_CONFIG (run by mode) */

/* IOMMUFD_EMU_CONFIG=no-iommufd: the nodes of iommufd are absent to every call */
static void test_config_no_iommufd(void **state)
{
	static const struct dent vfio[] = {
		{ ".", DT_DIR }, { "..", DT_DIR }, { "vfio", DT_CHR }, { "2", DT_CHR },
	};
	unsigned char type;
	struct stat st;
	int32_t cfd;
	int gfd, dfd, vfd;

	(void)state;
	errno = 0;
	assert_int_equal(open("/dev/iommu", O_RDWR), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(stat("/dev/iommu", &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(access("/dev/iommu", F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(open("/dev/vfio/devices/vfio0", O_RDWR), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(stat("/dev/vfio/devices", &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(access("/dev/vfio/devices/vfio0", F_OK), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(opendir("/dev/vfio/devices"));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(open("/dev/vfio/devices", O_RDONLY | O_DIRECTORY), -1);
	assert_int_equal(errno, ENOENT);
	/* /dev/vfio lists the group and the container, no devices/ */
	dir_lists(opendir("/dev/vfio"), vfio, sizeof(vfio) / sizeof(vfio[0]));
	entries_agree("/dev/vfio", vfio, sizeof(vfio) / sizeof(vfio[0]));
	assert_int_equal(stat("/dev/vfio", &st), 0);
	assert_int_equal(st.st_nlink, 2);
	vfd = open("/dev/vfio", O_RDONLY | O_DIRECTORY);
	assert_true(vfd >= 0);
	assert_int_equal(openat(vfd, "devices", O_RDONLY | O_DIRECTORY), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fstatat(vfd, "devices/vfio0", &st, 0), -1);
	assert_int_equal(errno, ENOENT);
	close(vfd);
	/* and /dev lists no iommu, relative to it as absolute */
	assert_int_equal(dev_lists(-1, "iommu", &type), 0);
	vfd = open("/dev", O_RDONLY | O_DIRECTORY);
	assert_true(vfd >= 0);
	assert_int_equal(fstatat(vfd, "iommu", &st, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fstatat(vfd, "vfio/2", &st, 0), 0);
	close(vfd);
	assert_int_equal(access("/sys/bus/pci/devices/0000:00:02.0/vfio-dev", F_OK), -1);
	assert_int_equal(access("/sys/bus/pci/devices/0000:00:02.0/iommu_group", F_OK), 0);
	/* the group and the type1 container */
	cfd = open("/dev/vfio/vfio", O_RDWR);
	assert_true(cfd >= 0);
	gfd = open("/dev/vfio/2", O_RDWR);
	assert_true(gfd >= 0);
	assert_int_equal(ioctl(gfd, KABI_VFIO_GROUP_SET_CONTAINER, &cfd), 0);
	assert_int_equal(ioctl(cfd, KABI_VFIO_SET_IOMMU, KABI_VFIO_TYPE1v2_IOMMU), 0);
	dfd = ioctl(gfd, KABI_VFIO_GROUP_GET_DEVICE_FD, "0000:00:02.0");
	assert_true(dfd >= 0);
	close(dfd);
	close(gfd);
	close(cfd);
}

/* IOMMUFD_EMU_CONFIG=container-compat: /dev/vfio/vfio is an iommufd */
static void test_config_container_compat(void **state)
{
	int fd = open("/dev/vfio/vfio", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	ioas_alloc(fd);
	close(fd);
}

/* by default /dev/vfio/vfio is the type1 container: no iommufd command there */
static void test_config_default(void **state)
{
	struct kabi_ioas_alloc cmd = { .size = sizeof(cmd) };
	int fd = open("/dev/vfio/vfio", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, KABI_IOMMU_IOAS_ALLOC, &cmd), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioctl(fd, KABI_VFIO_CHECK_EXTENSION, KABI_VFIO_TYPE1v2_IOMMU), 1);
	close(fd);
}

/* IOMMUFD_EMU_CONFIG with an unknown word: the emulator does not start, and says why */
static void test_config_bad(void **state)
{
	char msg[512] = "";
	int p[2], saved;
	ssize_t n;

	(void)state;
	assert_int_equal(pipe(p), 0);
	saved = dup(2);
	dup2(p[1], 2);
	errno = 0;
	assert_int_equal(open("/dev/iommu", O_RDWR), -1);
	assert_int_equal(errno, EINVAL);
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	assert_true(n > 0);
	msg[n] = 0;
	assert_non_null(strstr(msg, "IOMMUFD_EMU_CONFIG: unknown word \"bogus\""));
}

int main(int argc, char **argv)
{
	/* test-preload --config MODE: the IOMMUFD_EMU_CONFIG cases (meson.build sets the env) */
	if (argc == 3 && strcmp(argv[1], "--config") == 0) {
		const struct CMUnitTest no_iommufd[] = { cmocka_unit_test(test_config_no_iommufd) };
		const struct CMUnitTest compat[] = { cmocka_unit_test(test_config_container_compat) };
		const struct CMUnitTest dflt[] = { cmocka_unit_test(test_config_default) };
		const struct CMUnitTest bad[] = { cmocka_unit_test(test_config_bad) };
		const struct CMUnitTest noiommu[] = { cmocka_unit_test(test_config_noiommu) };

		if (strcmp(argv[2], "no-iommufd") == 0)
			return cmocka_run_group_tests(no_iommufd, NULL, NULL);
		if (strcmp(argv[2], "container-compat") == 0)
			return cmocka_run_group_tests(compat, NULL, NULL);
		if (strcmp(argv[2], "default") == 0)
			return cmocka_run_group_tests(dflt, NULL, NULL);
		if (strcmp(argv[2], "bad") == 0)
			return cmocka_run_group_tests(bad, NULL, NULL);
		if (strcmp(argv[2], "noiommu") == 0)
			return cmocka_run_group_tests(noiommu, NULL, NULL);
		fprintf(stderr, "unknown mode %s\n", argv[2]);
		return 2;
	}

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_ioctl_close),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_dup3_bad_flags),
		cmocka_unit_test(test_unseen_fclose),
		cmocka_unit_test(test_unseen_close_range),
		cmocka_unit_test(test_unseen_close_range_unshare),
		cmocka_unit_test(test_unseen_closefrom),
		cmocka_unit_test(test_unseen_syscall_close),
		cmocka_unit_test(test_close_range_cloexec),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_fail_nth),
		cmocka_unit_test(test_vm_pinned),
		cmocka_unit_test(test_fork_shared),
		cmocka_unit_test(test_fork_output_child_only),
		cmocka_unit_test(test_fork_server_pid_claim),
		cmocka_unit_test(test_scm_rights_self),
		cmocka_unit_test(test_scm_rights_child),
		cmocka_unit_test(test_debugfs),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_sysfs),
		cmocka_unit_test(test_sysfs_merged),
		cmocka_unit_test(test_dev_nodes),
		cmocka_unit_test(test_dev_dirs),
		cmocka_unit_test(test_dev_top),
		cmocka_unit_test(test_sysfs_no_host),
		cmocka_unit_test(test_sysfs_realpath),
		cmocka_unit_test(test_library_kernel_backend),
	};

	(void)argc;
	(void)argv;
	if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "iommufd-preload")) {
		fprintf(stderr, "run with LD_PRELOAD=libiommufd-preload.so (meson test does)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
