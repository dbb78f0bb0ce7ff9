// SPDX-License-Identifier: LGPL-2.1-or-later
/* fork: the child's calls on inherited emulated fds, run in the emulator's process */
#include "preload.h"

/* ------------------------------------------------------------ fork: forwarding */

/*
 * After fork the kernel has ONE iommufd object behind the parent's and the
 * child's fd. Here the child has a copy of the emulator; so that both work on
 * the same state, the child sends its calls on the fds it inherited to the
 * process that owns the emulator, where a server thread runs them on behalf
 * of the child (emu_set_current_pid: user memory and page ownership are the
 * child's, like "current" in the kernel). The server starts at the first fork
 * of that process. If it cannot be reached (gone), the child's own copy
 * answers, as before.
 */
void emu_set_current_pid(pid_t pid) __attribute__((weak));


struct fwd_req {
	int op;
	int fd;
	unsigned long req;
	uint64_t arg; /* ioctl arg / buffer, in the child's memory */
	uint64_t len;
	int64_t off;
	pid_t pid;
};

static int g_fwd_srv = -1;  /* the owner's end (served by its thread) */
static int g_fwd_cli = -1;  /* the children's end */
static bool g_fwd_started;
static bool g_fwd_thread;   /* the server thread runs (joined at exit) */
static pthread_t g_fwd_tid;
/* in a child: the emulated fds inherited from the emulator's process */
static uint8_t *g_remote;   /* bitmap */
static size_t g_nremote;    /* bits */

/*
 * In a child: numbers that arrived by SCM_RIGHTS (recvmsg) holding the
 * placeholder of an inherited fd (remote_alias): the emulator's process knows
 * that file by its own number, target, which the forwarded calls carry. fd
 * -1: a free entry; an entry is published by its fd (release), after target.
 */
#define MAX_ALIAS 64
static struct {
	int fd;
	int target;
} g_alias[MAX_ALIAS] = { [0 ... MAX_ALIAS - 1] = { -1, -1 } };
static int g_nalias; /* entries ever used: the scan's bound */

static bool remote_bit(int fd)
{
	return g_remote && fd >= 0 && (size_t)fd < g_nremote &&
	       (g_remote[fd / 8] & (1u << (fd % 8)));
}

/* the emulator's process's number for the remote fd, or -1 */
static int remote_target(int fd)
{
	int n = __atomic_load_n(&g_nalias, __ATOMIC_ACQUIRE);

	if (fd < 0)
		return -1;
	if (remote_bit(fd))
		return fd; /* inherited: the same number there */
	for (int i = 0; i < n; i++)
		if (__atomic_load_n(&g_alias[i].fd, __ATOMIC_ACQUIRE) == fd)
			return __atomic_load_n(&g_alias[i].target, __ATOMIC_RELAXED);
	return -1;
}

bool is_remote(int fd)
{
	return !in_emu && remote_target(fd) >= 0;
}

/* fd is no longer remote: neither inherited nor an alias */
static void forget_number(int fd)
{
	int n = __atomic_load_n(&g_nalias, __ATOMIC_ACQUIRE);

	if (fd < 0)
		return;
	if (remote_bit(fd))
		g_remote[fd / 8] &= (uint8_t)~(1u << (fd % 8));
	for (int i = 0; i < n; i++)
		if (__atomic_load_n(&g_alias[i].fd, __ATOMIC_ACQUIRE) == fd)
			__atomic_store_n(&g_alias[i].fd, -1, __ATOMIC_RELEASE);
}

void remote_forget(int fd)
{
	if (!in_emu)
		forget_number(fd);
}

int remote_alias(int fd, int of)
{
	int target = remote_target(of);

	if (fd < 0 || target < 0 || fd == of)
		return -EINVAL;
	pthread_mutex_lock(&g_lock);
	forget_number(fd); /* a number the child lost unseen (syscall(SYS_close)) */
	for (int i = 0; i < MAX_ALIAS; i++) {
		if (g_alias[i].fd >= 0)
			continue;
		__atomic_store_n(&g_alias[i].target, target, __ATOMIC_RELAXED);
		__atomic_store_n(&g_alias[i].fd, fd, __ATOMIC_RELEASE);
		if (i >= g_nalias)
			__atomic_store_n(&g_nalias, i + 1, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&g_lock);
		return 0;
	}
	pthread_mutex_unlock(&g_lock);
	return -ENFILE;
}

void remote_forget_range(unsigned int lo, unsigned int hi)
{
	int n = __atomic_load_n(&g_nalias, __ATOMIC_ACQUIRE);

	for (size_t fd = lo; fd < g_nremote && fd <= hi; fd++)
		remote_forget((int)fd);
	for (int i = 0; i < n && !in_emu; i++) {
		int fd = __atomic_load_n(&g_alias[i].fd, __ATOMIC_ACQUIRE);

		if (fd >= 0 && (unsigned int)fd >= lo && (unsigned int)fd <= hi)
			__atomic_store_n(&g_alias[i].fd, -1, __ATOMIC_RELEASE);
	}
}

/* run one forwarded call in the emulator's process */
static int64_t fwd_serve_one(const struct fwd_req *q)
{
	struct iommufd_emu *emu = g_emu;
	struct iommufd_backend *be = be_of(emu);
	struct iovec l, r;
	void *buf = NULL;
	int64_t ret;

	if (q->op != FWD_IOCTL) {
		if (q->len > (64u << 20))
			return -EINVAL;
		buf = malloc(q->len ? q->len : 1);
		if (!buf)
			return -ENOMEM;
		l = (struct iovec){ buf, q->len };
		r = (struct iovec){ (void *)(uintptr_t)q->arg, q->len };
		if ((q->op == FWD_WRITE || q->op == FWD_PWRITE) && q->len &&
		    process_vm_readv(q->pid, &l, 1, &r, 1, 0) != (ssize_t)q->len) {
			free(buf);
			return -EFAULT;
		}
	}
	switch (q->op) {
	case FWD_IOCTL:
		/* the ioctl's argument is in the child's memory: the emulator's
		 * user copies go there; reads and writes use buf, ours */
		if (emu_set_current_pid)
			emu_set_current_pid(q->pid);
		ret = be_ioctl(be, q->fd, q->req, (void *)(uintptr_t)q->arg);
		if (emu_set_current_pid)
			emu_set_current_pid(0);
		break;
	case FWD_READ:
		ret = be_read(be, q->fd, buf, q->len);
		break;
	case FWD_PREAD:
		ret = be_pread(be, q->fd, buf, q->len, q->off);
		break;
	case FWD_WRITE:
		ret = be_write(be, q->fd, buf, q->len);
		break;
	case FWD_PWRITE:
		ret = be_pwrite(be, q->fd, buf, q->len, q->off);
		break;
	default:
		ret = -EINVAL;
	}
	if ((q->op == FWD_READ || q->op == FWD_PREAD) && ret > 0) {
		l.iov_len = r.iov_len = (size_t)ret;
		if (process_vm_writev(q->pid, &l, 1, &r, 1, 0) != ret)
			ret = -EFAULT;
	}
	free(buf);
	return ret;
}

/* the parent of pid, from /proc/<pid>/stat (-1: unknown) */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;
	long pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = REAL(read)(fd, buf, sizeof(buf) - 1);
	REAL(close)(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')'); /* the name may hold anything, even ") " */
	if (!p || sscanf(p + 1, " %*c %ld", &pp) != 1)
		return -1;
	return (pid_t)pp;
}

/* is pid a descendant of this process? (its ancestors, bounded) */
static bool is_descendant(pid_t pid)
{
	pid_t me = getpid();

	for (int depth = 0; depth < 64 && pid > 1; depth++) {
		pid = parent_of(pid);
		if (pid == me)
			return true;
	}
	return false;
}

/*
 * May the sender of q have it served? The kernel stamps the sender's real
 * credentials on the message (SO_PASSCRED): the memory read and written is the
 * claimed pid's, with this process's rights, so the claim must be the
 * sender's own, and the sender a child (or grandchild) of this process, with
 * its user.
 */
static bool fwd_allowed(const struct fwd_req *q, const struct ucred *cr)
{
	if (!cr) {
		pdbg("forward request without credentials: refused");
		return false;
	}
	if (cr->pid != q->pid || cr->uid != geteuid()) {
		pdbg("forward request claims pid %d, sent by pid %d uid %u: refused",
		     (int)q->pid, (int)cr->pid, (unsigned)cr->uid);
		return false;
	}
	if (!is_descendant(cr->pid)) {
		pdbg("forward request from pid %d, not a descendant: refused", (int)cr->pid);
		return false;
	}
	return true;
}

static void *fwd_server(void *unused)
{
	(void)unused;
	in_emu++; /* everything this thread does is the emulator's own */
	for (;;) {
		char cbuf[CMSG_SPACE(4 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
		struct ucred cred, *cr = NULL;
		struct fwd_req q;
		struct iovec iov = { &q, sizeof(q) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		int64_t ret;
		int rfd = -1;
		ssize_t n = recvmsg(g_fwd_srv, &m, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != SOL_SOCKET)
				continue;
			if (c->cmsg_type == SCM_RIGHTS) {
				size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

				for (size_t i = 0; i < nfd; i++) {
					int f;

					memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
					if (rfd < 0)
						rfd = f;
					else
						REAL(close)(f); /* one reply socket only */
				}
			} else if (c->cmsg_type == SCM_CREDENTIALS &&
				   c->cmsg_len >= CMSG_LEN(sizeof(cred))) {
				memcpy(&cred, CMSG_DATA(c), sizeof(cred));
				cr = &cred;
			}
		}
		if (rfd < 0)
			continue;
		if (n != sizeof(q) || (m.msg_flags & MSG_CTRUNC))
			ret = -EINVAL;
		else if (!fwd_allowed(&q, cr))
			ret = -EPERM;
		else
			ret = fwd_serve_one(&q);
		if (send(rfd, &ret, sizeof(ret), MSG_NOSIGNAL) < 0)
			pdbg("forward reply: %s", strerror(errno));
		REAL(close)(rfd);
	}
	in_emu--;
	return NULL;
}

/* the emulator's process is about to fork: make sure children can reach it */
static void fwd_start(void)
{
	int sv[2];

	if (g_fwd_started || !g_emu || g_emu_pid != getpid() || !emu_set_current_pid)
		return;
	g_fwd_started = true;
	in_emu++;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		in_emu--;
		return;
	}
	/* the kernel stamps each request with its sender's credentials */
	if (setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0) {
		REAL(close)(sv[0]);
		REAL(close)(sv[1]);
		in_emu--;
		return;
	}
	g_fwd_srv = sv[0];
	g_fwd_cli = sv[1];
	if (pthread_create(&g_fwd_tid, NULL, fwd_server, NULL) != 0) {
		REAL(close)(sv[0]);
		REAL(close)(sv[1]);
		g_fwd_srv = g_fwd_cli = -1;
	} else {
		g_fwd_thread = true;
	}
	in_emu--;
}

/* in a child: send a call to the emulator's process; false if unreachable */
bool fwd_call(int op, int fd, unsigned long req, uint64_t arg, uint64_t len, int64_t off,
		     int64_t *ret)
{
	struct fwd_req q;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &q, sizeof(q) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int rp[2];
	ssize_t n;

	if (g_fwd_cli < 0)
		return false;
	memset(&q, 0, sizeof(q)); /* no stray padding bytes on the socket */
	q.op = op;
	q.fd = remote_target(fd); /* an inherited number, or what a received one stands for */
	if (q.fd < 0)
		return false;
	q.req = req;
	q.arg = arg;
	q.len = len;
	q.off = off;
	q.pid = getpid();
	in_emu++;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp) < 0) {
		in_emu--;
		return false;
	}
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &rp[1], sizeof(int));
	n = sendmsg(g_fwd_cli, &m, MSG_NOSIGNAL);
	REAL(close)(rp[1]);
	if (n == sizeof(q)) {
		do
			n = recv(rp[0], ret, sizeof(*ret), 0);
		while (n < 0 && errno == EINTR);
	}
	REAL(close)(rp[0]);
	in_emu--;
	if (n != sizeof(*ret)) {
		pdbg("forwarding fd %d: the emulator's process is gone, using the copy", fd);
		return false;
	}
	return true;
}

/* in a child: remember the emulated fds inherited (once; grandchildren keep them) */
static void fwd_child_setup(void)
{
	struct iommufd_emu *emu = g_emu;

	if (g_remote || !emu || g_fwd_cli < 0)
		return;
	g_nremote = emu->nfds;
	g_remote = calloc((g_nremote + 7) / 8, 1);
	if (!g_remote)
		return;
	for (size_t i = 0; i < emu->nfds; i++)
		if (emu->fds[i])
			g_remote[i / 8] |= (uint8_t)(1u << (i % 8));
}


EXPORT pid_t fork(void)
{
	if (!in_emu && __atomic_load_n(&g_emu, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&g_lock);
		fwd_start();
		pthread_mutex_unlock(&g_lock);
	}
	return REAL(fork)();
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&g_lock);
	if (g_emu)
		emu_lock(g_emu);
}

static void atfork_parent(void)
{
	if (g_emu)
		emu_unlock(g_emu);
	pthread_mutex_unlock(&g_lock);
}

/*
 * In the child the locks taken by atfork_prepare belong to a thread id that
 * does not exist there (a recursive mutex refuses an unlock by another
 * owner): make them afresh, unlocked. The child has only the forking thread.
 */
static void atfork_child(void)
{
	if (g_emu) {
		pthread_mutexattr_t a;

		pthread_mutexattr_init(&a);
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&g_emu->lock, &a);
		pthread_mutexattr_destroy(&a);
	}
	pthread_mutex_init(&g_lock, NULL);
	if (g_fwd_srv >= 0) {
		/* the server thread did not come along */
		REAL(close)(g_fwd_srv);
		g_fwd_srv = -1;
	}
	g_fwd_thread = false;
	fwd_child_setup();
}

/* at exit: stop the fork server (its recvmsg sees the end) */
void fwd_stop(void)
{
	if (g_fwd_thread) {
		shutdown(g_fwd_srv, SHUT_RDWR);
		pthread_join(g_fwd_tid, NULL);
		g_fwd_thread = false;
	}
}

__attribute__((constructor)) static void preload_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}
