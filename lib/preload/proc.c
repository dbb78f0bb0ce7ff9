// SPDX-License-Identifier: LGPL-2.1-or-later
/* /proc fakes: the fail-nth knobs, and VmPin/VmLck of /proc/<pid>/status. */
#include "preload.h"

/* ------------------------------------------------------------ paths */

/* "/proc/self/task/N/fail-nth", "/proc/N/task/N/fail-nth", "/proc/thread-self/fail-nth" */
bool is_fail_nth(const char *path)
{
	size_t l;

	if (!path || strncmp(path, "/proc/", 6) != 0)
		return false;
	l = strlen(path);
	return l > 9 && strcmp(path + l - 9, "/fail-nth") == 0 &&
	       (strstr(path, "/task/") || strncmp(path, "/proc/thread-self/", 18) == 0);
}

/* /proc/<pid>/status: the pid it names, 0 if not such a path */
pid_t status_pid(const char *path)
{
	char *end;
	long pid;

	if (!path || strncmp(path, "/proc/", 6) != 0)
		return 0;
	path += 6;
	if (strcmp(path, "self/status") == 0 || strcmp(path, "thread-self/status") == 0)
		return getpid();
	pid = strtol(path, &end, 10);
	if (end == path || pid <= 0 || strcmp(end, "/status") != 0)
		return 0;
	return (pid_t)pid;
}

/* fail-nth files: real eventfds, written/read as the kernel's knob */
#define MAX_NTH_FDS 16
static int g_nth_fds[MAX_NTH_FDS];
static int g_nnth_fds;
static unsigned long g_nth; /* armed value, 0: off */

/* ------------------------------------------------------------ fail-nth */

static int nth_slot(int fd)
{
	for (int i = 0; i < g_nnth_fds; i++)
		if (g_nth_fds[i] == fd)
			return i;
	return -1;
}

bool is_nth_fd(int fd)
{
	bool r;

	if (fd < 0 || !g_nnth_fds)
		return false;
	pthread_mutex_lock(&g_lock);
	r = nth_slot(fd) >= 0;
	pthread_mutex_unlock(&g_lock);
	return r;
}

int nth_open(int flags)
{
	int fd;

	fd = eventfd(0, (flags & O_CLOEXEC) ? EFD_CLOEXEC : 0);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&g_lock);
	if (g_nnth_fds == MAX_NTH_FDS) {
		pthread_mutex_unlock(&g_lock);
		REAL(close)(fd);
		errno = EMFILE;
		return -1;
	}
	g_nth_fds[g_nnth_fds++] = fd;
	pthread_mutex_unlock(&g_lock);
	pdbg("fail-nth opened as fd %d", fd);
	return fd;
}

void nth_close(int fd)
{
	pthread_mutex_lock(&g_lock);
	int i = nth_slot(fd);

	if (i >= 0)
		g_nth_fds[i] = g_nth_fds[--g_nnth_fds];
	pthread_mutex_unlock(&g_lock);
}

void nth_close_range(unsigned int lo, unsigned int hi)
{
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < g_nnth_fds;) {
		if ((unsigned int)g_nth_fds[i] >= lo && (unsigned int)g_nth_fds[i] <= hi)
			g_nth_fds[i] = g_nth_fds[--g_nnth_fds];
		else
			i++;
	}
	pthread_mutex_unlock(&g_lock);
}

/* the kernel's value: armed count left, "0" once the fault fired (or off) */
ssize_t nth_read(void *buf, size_t len, off_t off)
{
	char s[32];
	unsigned long left = 0;
	size_t n;

	in_emu++;
	if (g_nth && g_emu) {
		unsigned long count = iommufd_emu_get_fail_count(g_emu);

		left = count >= g_nth ? 0 : g_nth - count;
	}
	in_emu--;
	n = (size_t)snprintf(s, sizeof(s), "%lu\n", left);
	if (off < 0)
		return ret_errno(-EINVAL);
	if ((size_t)off >= n)
		return 0;
	n -= (size_t)off;
	if (n > len)
		n = len;
	memcpy(buf, s + off, n);
	return (ssize_t)n;
}

ssize_t nth_write(const void *buf, size_t len)
{
	struct iommufd_emu *emu;
	char s[32];
	unsigned long v;
	char *end;

	if (len == 0 || len >= sizeof(s))
		return ret_errno(-EINVAL);
	memcpy(s, buf, len);
	s[len] = '\0';
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || (*end && strcmp(end, "\n") != 0) || v > UINT_MAX)
		return ret_errno(-EINVAL);
	in_emu++;
	emu = emu_get();
	if (!emu) {
		in_emu--;
		return -1;
	}
	iommufd_emu_set_fail_nth(emu, v);
	g_nth = v;
	in_emu--;
	return (ssize_t)len;
}

/* ------------------------------------------------------------ /proc/<pid>/status */

FILE *status_open(const char *path, const char *mode, pid_t pid)
{
	struct iopt_acct_stats st;
	char line[512];
	FILE *in, *out;
	long pin_kb, lck_kb;

	in_emu++;
	iopt_acct_get(&st);
	pin_kb = (long)(st.pinned * iopt_page_size() / 1024);
	lck_kb = (long)(st.mm_locked * iopt_page_size() / 1024);
	in = REAL(fopen)(path, mode);
	if (!in) {
		in_emu--;
		return NULL;
	}
	out = fmemopen(NULL, 16384, "w+");
	if (!out) {
		in_emu--;
		return in;
	}
	while (fgets(line, sizeof(line), in)) {
		long v;

		if (sscanf(line, "VmPin: %ld", &v) == 1)
			fprintf(out, "VmPin:\t%8ld kB\n", v + pin_kb);
		else if (sscanf(line, "VmLck: %ld", &v) == 1)
			fprintf(out, "VmLck:\t%8ld kB\n", v + lck_kb);
		else
			fputs(line, out);
	}
	fclose(in);
	rewind(out);
	in_emu--;
	pdbg("%s: VmPin +%ld kB, VmLck +%ld kB", path, pin_kb, lck_kb);
	(void)pid;
	return out;
}
