// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The iommufd command on hostile --root trees. Each case builds a tree (a
 * shell snippet run in it; $OUT is a directory outside the root holding
 * canary files, $SELF this program for what sh cannot make) and runs
 * `info`, `info --json`, `devices`, `devices --json` on it, with openat2 and
 * with the component-walk fallback (IOMMUFD_TEST_NO_OPENAT2), as this user
 * and, when root, as uid/gid 65534 too. Each run must:
 *  - end by itself within 5 s (else it is killed and the case fails),
 *  - exit normally with a documented code (0..3),
 *  - print JSON that python3's json module reads from the raw bytes decoded
 *    as strict UTF-8 (--json; skipped without python3), or nothing at all
 *    with exit code 3 (devices without sysfs),
 *  - not open anything outside the root (inotify on $OUT) nor print a canary.
 *
 *   test-hostile                    all cases
 *   test-hostile mksock PATH        (for the snippets) a listening AF_UNIX socket file
 *   test-hostile garbage PATH SEED  (for the snippets) a libkmod index magic, then 4 KiB of noise
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REL "6.9.0-test"
#define CANARY "CANARY-5e1f-outside-the-root"
#define TIMEOUT_MS 5000

/* a small tree where the command finds a little of everything */
static const char base_tree[] =
	"set -e\n"
	"mkdir -p proc/sys/kernel proc/self dev/vfio/devices boot lib/modules/" REL " sys/class/iommu/dmar0/intel-iommu\n"
	"mkdir -p sys/bus/pci/devices/0000:00:02.0/vfio-dev/vfio0 sys/bus/pci/drivers/vfio-pci sys/kernel/iommu_groups/2/devices\n"
	"echo " REL " > proc/sys/kernel/osrelease\n"
	"echo 'ro quiet intel_iommu=on' > proc/cmdline\n"
	"echo ' 24: 0 IR-PCI-MSI vfio' > proc/interrupts\n"
	"printf 'Name:\\tx\\nCapEff:\\t0\\n' > proc/self/status\n"
	"printf 'CONFIG_IOMMUFD=y\\nCONFIG_VFIO_DEVICE_CDEV=y\\n' > boot/config-" REL "\n"
	"echo f0205ef > sys/class/iommu/dmar0/intel-iommu/ecap\n"
	"echo kernel/drivers/iommu/iommufd/iommufd.ko > lib/modules/" REL "/modules.builtin\n"
	"echo 'kernel/drivers/vfio/pci/vfio-pci.ko:' > lib/modules/" REL "/modules.dep\n"
	"for a in vendor:0x1234 device:0x11e8 class:0x00ff00; do echo ${a#*:} > sys/bus/pci/devices/0000:00:02.0/${a%%:*}; done\n"
	"ln -s ../../../../bus/pci/drivers/vfio-pci sys/bus/pci/devices/0000:00:02.0/driver\n"
	"ln -s ../../../../kernel/iommu_groups/2 sys/bus/pci/devices/0000:00:02.0/iommu_group\n"
	"ln -s ../../../../bus/pci/devices/0000:00:02.0 sys/kernel/iommu_groups/2/devices/0000:00:02.0\n"
	": > dev/iommu; : > dev/vfio/devices/vfio0\n";

struct hcase {
	const char *name;
	const char *sh;
	bool needs_root; /* mknod */
};

#define D "sys/bus/pci/devices/0000:00:02.0"
#define M "lib/modules/" REL

static const struct hcase cases[] = {
	{ .name = "fifos", .sh =
	  "for f in proc/cmdline proc/interrupts proc/self/status boot/config-" REL " proc/config.gz " D "/vendor "
	  M "/modules.dep " M "/modules.builtin dev/iommu dev/vfio/devices/vfio0 sys/class/iommu/dmar0/intel-iommu/ecap; "
	  "do rm -f $f; mkfifo $f; done" },
	{ .name = "fifo-osrelease", .sh = "rm proc/sys/kernel/osrelease; mkfifo proc/sys/kernel/osrelease" },
	{ .name = "fifo-kmod-index", .sh = "for f in dep alias symbols builtin builtin.alias; do mkfifo " M "/modules.$f.bin; done" },
	{ .name = "sockets", .sh = "for f in proc/cmdline boot/config-" REL " " D "/class " M "/modules.dep; do rm -f $f; \"$SELF\" mksock $f; done" },
	{ .name = "device-nodes", .sh =
	  "for f in boot/config-" REL " proc/cmdline " D "/vendor proc/interrupts; do rm -f $f; mknod $f c 1 5; done; "
	  "rm dev/iommu dev/vfio/devices/vfio0; mknod dev/iommu c 1 3; mknod dev/vfio/devices/vfio0 c 1 3; "
	  "rm proc/sys/kernel/osrelease; mknod proc/sys/kernel/osrelease c 1 5",
	  .needs_root = true },
	{ .name = "symlink-loops", .sh =
	  "for f in proc/cmdline boot/config-" REL " proc/config.gz dev/iommu " D "/vendor; do rm -f $f; ln -s $(basename $f) $f; done; "
	  "ln -s b proc/a; ln -s a proc/b; rm proc/interrupts; ln -s a proc/interrupts; "
	  "rm " D "/driver; ln -s driver " D "/driver; rm -r sys/class/iommu; ln -s iommu sys/class/iommu; "
	  "rm -r " M "; ln -s ./" REL " " M },
	{ .name = "symlink-chain", .sh =
	  "for i in $(seq 0 60); do ln -s l$((i+1)) proc/l$i; done; echo " CANARY " > proc/l61; "
	  "rm proc/cmdline; ln -s l0 proc/cmdline" },
	{ .name = "escape-absolute", .sh =
	  "for f in proc/cmdline proc/interrupts proc/self/status boot/config-" REL " proc/sys/kernel/osrelease " D "/vendor; do "
	  "rm -f $f; ln -s \"$OUT/canary\" $f; done; ln -s \"$OUT/canary.gz\" proc/config.gz; "
	  "rm -r " M " sys/class/iommu; ln -s \"$OUT/modules\" " M "; ln -s \"$OUT\" sys/class/iommu; "
	  "rm -r sys/bus/pci/devices; ln -s \"$OUT/devices\" sys/bus/pci/devices" },
	{ .name = "escape-relative", .sh =
	  "u=../../../../../../../../../../../..; "
	  "for f in proc/cmdline proc/interrupts boot/config-" REL " " D "/vendor; do rm -f $f; ln -s \"$u$OUT/canary\" $f; done; "
	  "ln -s \"$u$OUT/canary.gz\" proc/config.gz; rm -r " M "; ln -s \"$u$OUT/modules\" " M "; "
	  "rm -r sys/class/iommu; ln -s \"$u$OUT\" sys/class/iommu; "
	  "rm " D "/iommu_group; ln -s \"$u$OUT/devices/g\" " D "/iommu_group" },
	{ .name = "escape-dotdot-dirs", .sh = /* directories named like the path of the osrelease escape */
	  "mkdir -p 'boot/config-..' 'lib/modules/..'; echo ../../../outside > proc/sys/kernel/osrelease" },
	{ .name = "osrelease-dotdot", .sh = "echo .. > proc/sys/kernel/osrelease" },
	{ .name = "osrelease-slash", .sh = "echo ../../../outside/modules > proc/sys/kernel/osrelease; mkdir -p 'boot/config-..'" },
	{ .name = "osrelease-nul", .sh = "printf '" REL "\\000/../../../outside\\n' > proc/sys/kernel/osrelease" },
	{ .name = "osrelease-long", .sh = "head -c 5000 /dev/zero | tr '\\0' a > proc/sys/kernel/osrelease" },
	{ .name = "osrelease-control", .sh = "printf '\\033]0;pwned\\007\\033[2J\\n' > proc/sys/kernel/osrelease" },
	{ .name = "huge-sparse", .sh =
	  "for f in boot/config-" REL " proc/config.gz proc/cmdline proc/interrupts " D "/vendor " M "/modules.dep "
	  "proc/sys/kernel/osrelease; do rm -f $f; truncate -s 1T $f; done" },
	{ .name = "huge-kmod-index", .sh = "printf '\\260\\007\\364\\127\\000\\002\\000\\001' > " M "/modules.dep.bin; truncate -s 1T " M "/modules.dep.bin" },
	{ .name = "kmod-garbage", .sh =
	  "i=1; for f in dep alias symbols builtin builtin.alias; do \"$SELF\" garbage " M "/modules.$f.bin $i; i=$((i+1)); done" },
	{ .name = "kmod-cycle", .sh = /* root: a node with one child, itself */
	  "printf '\\260\\007\\364\\127\\000\\002\\000\\001\\040\\000\\000\\014aa\\040\\000\\000\\014' > " M "/modules.dep.bin" },
	{ .name = "kmod-values", .sh = /* a value count of 2^32 - 1 */
	  "printf '\\260\\007\\364\\127\\000\\002\\000\\001\\100\\000\\000\\014\\377\\377\\377\\377' > " M "/modules.dep.bin" },
	{ .name = "kmod-wide-children", .sh = /* first 0x80, last 0x7f as signed chars: 256 children */
	  "printf '\\260\\007\\364\\127\\000\\002\\000\\001\\040\\000\\000\\014\\001\\377' > " M "/modules.dep.bin; "
	  "head -c 1024 /dev/zero >> " M "/modules.dep.bin" },
	{ .name = "non-utf8-names", .sh =
	  "mkdir -p $(printf 'sys/bus/pci/devices/\\377\\376:00.0') $(printf 'sys/class/iommu/\\300\\257') "
	  "$(printf 'sys/kernel/iommu_groups/\\355\\240\\200/devices'); "
	  "echo 0x1 > $(printf 'sys/bus/pci/devices/\\377\\376:00.0/vendor'); "
	  "ln -s $(printf '../x/\\377drv\\033[31m') $(printf 'sys/bus/pci/devices/\\377\\376:00.0/driver'); "
	  "ln -s $(printf '../../\\355\\240\\200') $(printf 'sys/bus/pci/devices/\\377\\376:00.0/iommu_group'); "
	  ": > $(printf 'dev/vfio/devices/\\364\\220\\200\\200'); printf 'x=\\377\\300\\n' > proc/cmdline" },
	{ .name = "unreadable", .sh =
	  "chmod 000 proc/cmdline proc/interrupts boot/config-" REL " " D " " M " sys/class/iommu proc/sys/kernel/osrelease "
	  "sys/kernel/iommu_groups/2" },
	{ .name = "types-swapped", .sh =
	  "for f in proc/cmdline boot/config-" REL " proc/config.gz proc/interrupts " D "/vendor " M "/modules.dep.bin; do "
	  "rm -f $f; mkdir $f; done; rm -r sys/class/iommu dev/vfio/devices; : > sys/class/iommu; : > dev/vfio/devices; "
	  "rm " D "/driver; : > " D "/driver; rm " D "/iommu_group; mkdir " D "/iommu_group; "
	  "rm proc/sys/kernel/osrelease; mkdir proc/sys/kernel/osrelease" },
	{ .name = "types-swapped-roots", .sh =
	  "rm -r sys/bus/pci/devices lib/modules; : > sys/bus/pci/devices; : > lib/modules; rm -r proc/sys; : > proc/sys" },
	{ .name = "empty", .sh = "rm -rf proc sys dev boot lib" },
};

static char base[64], rootdir[PATH_MAX], outside[PATH_MAX];
static const char *self;
static bool have_python;
static int failures;

static void __attribute__((format(printf, 2, 3))) failf(const char *cname, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s: ", cname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failures++;
}

static int sh(const char *dir, const char *script)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (chdir(dir) < 0)
			_exit(126);
		setenv("OUT", outside, 1);
		setenv("SELF", self, 1);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap && !(buf = realloc(buf, cap = 2 * cap + 8192)))
			abort();
		r = fread(buf + n, 1, 4096, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* run the command once; false (and a failure) if any check fails */
/*
 * Can uid/gid 65534 run the tool at all? Not when the build directory is
 * private (a package build in a mode-0700 temporary directory): then the
 * unprivileged half is skipped, and said so.
 */
static bool unpriv_can_run(void)
{
	const char *tool = getenv("IOMMUFD_TOOL");
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
			_exit(126);
		execl(tool, "iommufd", "--version", (char *)NULL);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void run_one(const char *cname, const char *const argv[], bool fallback, bool unpriv, int ino)
{
	char out[PATH_MAX], err[PATH_MAX], label[256], evbuf[4096];
	const char *tool = getenv("IOMMUFD_TOOL");
	bool json = argv[2] && !strcmp(argv[2], "--json");
	long long deadline = now_ms() + TIMEOUT_MS;
	int st = 0, ofd, efd;
	struct stat sb;
	size_t len;
	char *text;
	pid_t pid;

	snprintf(label, sizeof(label), "%s: %s %s%s%s", cname, argv[1], json ? "--json " : "",
		 fallback ? "(no openat2) " : "", unpriv ? "(uid 65534)" : "");
	snprintf(out, sizeof(out), "%s/stdout", base);
	snprintf(err, sizeof(err), "%s/stderr", base);
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid = fork();
	if (pid == 0) {
		dup2(ofd, 1);
		dup2(efd, 2);
		if (fallback)
			setenv("IOMMUFD_TEST_NO_OPENAT2", "1", 1);
		else
			unsetenv("IOMMUFD_TEST_NO_OPENAT2");
		unsetenv("IOMMUFD_ROOT");
		if (unpriv && (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
			_exit(126);
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	close(ofd);
	close(efd);
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			failf(label, "did not finish within %d ms: killed", TIMEOUT_MS);
			return;
		}
		usleep(2000);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 3) {
		text = read_all(err, &len);
		failf(label, "%s %d (documented exit codes: 0..3); stderr: %s", WIFEXITED(st) ? "exit" : "signal",
		      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), text ? text : "");
		free(text);
		return;
	}
	text = read_all(out, &len);
	if (!text) {
		failf(label, "no output file");
		return;
	}
	if (memmem(text, len, "CANARY", 6))
		failf(label, "printed the content of a file outside the root:\n%s", text);
	free(text);
	text = read_all(err, &len);
	if (text && memmem(text, len, "CANARY", 6))
		failf(label, "printed the content of a file outside the root on stderr:\n%s", text);
	free(text);
	for (ssize_t n; (n = read(ino, evbuf, sizeof(evbuf))) > 0;) {
		for (char *p = evbuf; p < evbuf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			failf(label, "opened or read %s/%s, outside the root (inotify mask %#x)", outside,
			      ev->len ? ev->name : "", ev->mask);
			p += sizeof(*ev) + ev->len;
		}
	}
	/* --json prints nothing when the command fails (exit 3, the reason on stderr) */
	if (json && have_python && !(WEXITSTATUS(st) == 3 && stat(out, &sb) == 0 && sb.st_size == 0)) {
		char cmd[PATH_MAX + 200];

		snprintf(cmd, sizeof(cmd),
			 "python3 -c 'import json,sys; json.loads(open(sys.argv[1], \"rb\").read().decode(\"utf-8\", errors=\"strict\"))' '%s'",
			 out);
		if (system(cmd) != 0) {
			text = read_all(out, &len);
			failf(label, "not valid JSON in strict UTF-8:\n%s", text ? text : "");
			free(text);
		}
	}
}

static int watch_outside(void)
{
	static const char *const sub[] = { "", "/modules", "/devices", "/devices/g" };
	int ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char p[PATH_MAX];

	for (size_t i = 0; ino >= 0 && i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", outside, sub[i]);
		if (inotify_add_watch(ino, p, IN_OPEN | IN_ACCESS) < 0) {
			perror(p);
			exit(1);
		}
	}
	return ino;
}

static int mksock(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	return fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0 ? 0 : 1;
}

static int garbage(const char *path, unsigned int seed)
{
	static const unsigned char magic[] = { 0xb0, 0x07, 0xf4, 0x57, 0x00, 0x02, 0x00, 0x01 };
	uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1);
	FILE *f = fopen(path, "wb");

	if (!f)
		return 1;
	fwrite(magic, 1, sizeof(magic), f);
	for (int i = 0; i < 4096; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		fputc((int)(x >> 32), f);
	}
	return fclose(f) ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const char *const cmds[][5] = {
		{ "iommufd", "info", "--root", NULL }, { "iommufd", "info", "--json", "--root", NULL },
		{ "iommufd", "devices", "--root", NULL }, { "iommufd", "devices", "--json", "--root", NULL },
	};
	bool as_root = geteuid() == 0, unpriv;
	char cmd[PATH_MAX * 2];
	int ino;

	self = argv[0];
	if (argc == 3 && !strcmp(argv[1], "mksock"))
		return mksock(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "garbage"))
		return garbage(argv[2], atoi(argv[3]));
	if (!getenv("IOMMUFD_TOOL")) {
		fprintf(stderr, "IOMMUFD_TOOL is not set\n");
		return 1;
	}
	if (!(self = realpath(argv[0], NULL)))
		return 1;
	have_python = system("command -v python3 >/dev/null 2>&1") == 0;
	if (!have_python)
		printf("python3 not found: JSON not checked\n");
	if (!as_root)
		printf("not root: device-node case and the uid 65534 runs skipped\n");
	unpriv = as_root && unpriv_can_run();
	if (as_root && !unpriv)
		printf("uid 65534 cannot run %s (a private build directory): its runs skipped\n",
		       getenv("IOMMUFD_TOOL"));
	snprintf(base, sizeof(base), "/tmp/iommufd-hostile.XXXXXX");
	if (!mkdtemp(base))
		return 1;
	chmod(base, 0755);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	snprintf(rootdir, sizeof(rootdir), "%s/root", base);
	snprintf(cmd, sizeof(cmd),
		 "set -e; mkdir -p modules devices/g; echo 'CONFIG_IOMMUFD=" CANARY "' > canary; "
		 "printf '" CANARY " intel_iommu=off\\n' >> canary; gzip -c canary > canary.gz; "
		 "echo 'kernel/vfio/vfio-pci.ko: " CANARY "' > modules/modules.dep; cp canary modules/modules.builtin; "
		 "echo 0x" CANARY " > devices/vendor; mkdir -p modules/kernel; chmod -R a+rX .");
	mkdir(outside, 0755);
	if (sh(outside, cmd) != 0)
		return 1;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct hcase *hc = &cases[c];

		if (hc->needs_root && !as_root) {
			printf("%-22s skipped (mknod needs root)\n", hc->name);
			continue;
		}
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rootdir);
		system(cmd);
		mkdir(rootdir, 0755);
		if (sh(rootdir, base_tree) != 0 || sh(rootdir, hc->sh) != 0) {
			failf(hc->name, "building the tree failed");
			continue;
		}
		ino = watch_outside();
		for (int fb = 0; fb < 2; fb++) {
			for (int as_nobody = 0; as_nobody <= (unpriv ? 1 : 0); as_nobody++) {
				for (size_t k = 0; k < 4; k++) {
					const char *argv2[6];
					int n = 0;

					for (; cmds[k][n]; n++)
						argv2[n] = cmds[k][n];
					argv2[n++] = rootdir;
					argv2[n] = NULL;
					run_one(hc->name, argv2, fb, as_nobody, ino);
				}
			}
		}
		close(ino);
		printf("%-22s done\n", hc->name);
		fflush(stdout);
	}
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwX '%s' 2>/dev/null; rm -rf '%s'", base, base);
	system(cmd);
	printf("%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
