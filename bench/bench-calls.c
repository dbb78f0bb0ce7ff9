// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-calls: what the library adds to a kernel call, in user-space
 * instructions per call, measured by callgrind (which counts user space only):
 * each call through the library against the same ioctl(2) done by hand
 * (the struct built in the loop, the result checked, errno read on failure),
 * in the same run, on the same file.
 *
 *   map          iommufd_ioas_map of one page at a fixed IOVA (N IOVAs)
 *   unmap        iommufd_ioas_unmap of those N pages
 *   unmap-enoent iommufd_ioas_unmap of a range that is not mapped (ENOENT,
 *                an expected failure: a vIOMMU does it thousands of times)
 *   alloc+destroy iommufd_ioas_alloc then iommufd_destroy
 *
 * Usage: bench-calls [-n N] [--emu]
 *   Runs itself under `valgrind --tool=callgrind` (exit 77 without valgrind)
 *   and prints: call, library Ir/call, raw Ir/call, ratio. On the real kernel
 *   (/dev/iommu: in the VM, bench/run-vm-bench) that is the figure that
 *   matters; without /dev/iommu, or with --emu, it runs on the emulator,
 *   where "raw" is the emulator's ioctl entry called by hand and the
 *   emulator's own work dominates both columns: a quick look only.
 * bench-calls --measure [-n N] [--emu] is the program callgrind runs: the
 * loops, each bracketed by CALLGRIND_TOGGLE_COLLECT and followed by
 * CALLGRIND_DUMP_STATS_AT("<call>/<lib|raw>").
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <valgrind/callgrind.h>

#include "iommufd-emu.h"
#include "shared/abi.h"
#include "shared/backend.h"

#define PAGE 4096ul
#define IOVA_BASE 0x100000ull

static unsigned long n_calls = 1000;
static bool emu_mode;

static void die(const char *what, int r)
{
	fprintf(stderr, "bench-calls: %s: %s (%s)\n", what, strerror(r < 0 ? -r : r),
		iommufd_last_error());
	exit(1);
}

/* ------------------------------------------------------------ measured side */

static struct iommufd_backend *be; /* the emulator's, for the raw calls in --emu */

/*
 * The raw call: ioctl(2) on the kernel; on the emulator its ioctl entry. Two
 * copies of each loop (RAW_LOOPS below), so the kernel's loop has no branch
 * the library's does not.
 */
#define RAW_KERNEL(fd, req, arg) (ioctl((fd), (req), (arg)) < 0 ? -errno : 0)
#define RAW_EMU(fd, req, arg) be_ioctl(be, (fd), (req), (arg))

#define MEASURE(name, body)                                                       \
	do {                                                                      \
		CALLGRIND_TOGGLE_COLLECT;                                         \
		body;                                                             \
		CALLGRIND_TOGGLE_COLLECT;                                         \
		CALLGRIND_DUMP_STATS_AT(name);                                    \
	} while (0)

#define DEFINE_RAW(suffix, RAW)                                                           \
	static void raw_map_##suffix(int fd, uint32_t ioas, void *buf)                    \
	{                                                                                 \
		for (unsigned long i = 0; i < n_calls; i++) {                              \
			struct kabi_ioas_map cmd = {                                      \
				.size = sizeof(cmd),                                      \
				.flags = KABI_IOAS_MAP_FIXED_IOVA | KABI_IOAS_MAP_READABLE | \
					 KABI_IOAS_MAP_WRITEABLE,                         \
				.ioas_id = ioas,                                          \
				.user_va = (uintptr_t)buf,                                \
				.length = PAGE,                                           \
				.iova = IOVA_BASE + i * PAGE,                             \
			};                                                                \
			int r = RAW(fd, KABI_IOMMU_IOAS_MAP, &cmd);                       \
			if (r < 0)                                                        \
				die("raw map", r);                                        \
		}                                                                         \
	}                                                                                 \
	static void raw_unmap_##suffix(int fd, uint32_t ioas, int want)                   \
	{                                                                                 \
		for (unsigned long i = 0; i < n_calls; i++) {                              \
			struct kabi_ioas_unmap cmd = {                                    \
				.size = sizeof(cmd),                                      \
				.ioas_id = ioas,                                          \
				.iova = IOVA_BASE + i * PAGE,                             \
				.length = PAGE,                                           \
			};                                                                \
			int r = RAW(fd, KABI_IOMMU_IOAS_UNMAP, &cmd);                     \
			if (r != want)                                                    \
				die("raw unmap", r);                                      \
		}                                                                         \
	}                                                                                 \
	static void raw_alloc_destroy_##suffix(int fd)                                    \
	{                                                                                 \
		for (unsigned long i = 0; i < n_calls; i++) {                              \
			struct kabi_ioas_alloc a = { .size = sizeof(a) };                 \
			struct kabi_destroy d = { .size = sizeof(d) };                    \
			int r = RAW(fd, KABI_IOMMU_IOAS_ALLOC, &a);                       \
			if (r < 0)                                                        \
				die("raw alloc", r);                                      \
			d.id = a.out_ioas_id;                                             \
			r = RAW(fd, KABI_IOMMU_DESTROY, &d);                              \
			if (r < 0)                                                        \
				die("raw destroy", r);                                    \
		}                                                                         \
	}
DEFINE_RAW(kernel, RAW_KERNEL)
DEFINE_RAW(emu, RAW_EMU)

static void lib_map(struct iommufd_ctx *ctx, uint32_t ioas, void *buf)
{
	for (unsigned long i = 0; i < n_calls; i++) {
		uint64_t iova = IOVA_BASE + i * PAGE;
		int r = iommufd_ioas_map(ctx, ioas, buf, PAGE, &iova,
					 IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
		if (r < 0)
			die("map", r);
	}
}

static void lib_unmap(struct iommufd_ctx *ctx, uint32_t ioas, int want)
{
	for (unsigned long i = 0; i < n_calls; i++) {
		int r = iommufd_ioas_unmap(ctx, ioas, IOVA_BASE + i * PAGE, PAGE, NULL);
		if (r != want)
			die("unmap", r);
	}
}

static void lib_alloc_destroy(struct iommufd_ctx *ctx)
{
	for (unsigned long i = 0; i < n_calls; i++) {
		uint32_t id;
		int r = iommufd_ioas_alloc(ctx, &id);
		if (r < 0)
			die("alloc", r);
		r = iommufd_destroy(ctx, id);
		if (r < 0)
			die("destroy", r);
	}
}

static int measure(void)
{
	struct iommufd_emu *emu = NULL;
	struct iommufd_ctx *ctx;
	uint32_t ioas;
	void *buf;
	int fd, r;

	if (emu_mode) {
		r = iommufd_emu_new(&emu);
		if (r < 0)
			die("iommufd_emu_new", r);
		be = iommufd_emu_get_backend(emu);
	}
	r = emu ? iommufd_emu_ctx_new(emu, &ctx) : iommufd_ctx_new(&ctx);
	if (r < 0)
		die("iommufd_ctx_new", r);
	fd = iommufd_ctx_get_fd(ctx);
	r = iommufd_ioas_alloc(ctx, &ioas);
	if (r < 0)
		die("iommufd_ioas_alloc", r);
	buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		   -1, 0);
	if (buf == MAP_FAILED)
		die("mmap", errno);

	/*
	 * warm up: resolve every PLT entry, fill the pid cache, fault in the
	 * stacks, and one full round of maps so that the first measured one does
	 * not also grow the heap (the emulator allocates per mapping)
	 */
	lib_map(ctx, ioas, buf);
	lib_unmap(ctx, ioas, 0);
	{
		unsigned long n = n_calls;

		n_calls = 1;
		lib_unmap(ctx, ioas, -ENOENT);
		lib_alloc_destroy(ctx);
		if (emu_mode) {
			raw_map_emu(fd, ioas, buf);
			raw_unmap_emu(fd, ioas, 0);
			raw_unmap_emu(fd, ioas, -ENOENT);
			raw_alloc_destroy_emu(fd);
		} else {
			raw_map_kernel(fd, ioas, buf);
			raw_unmap_kernel(fd, ioas, 0);
			raw_unmap_kernel(fd, ioas, -ENOENT);
			raw_alloc_destroy_kernel(fd);
		}
		n_calls = n;
	}

	/* library, then raw, per call; each starts from the same state */
	MEASURE("map/lib", lib_map(ctx, ioas, buf));
	MEASURE("unmap/lib", lib_unmap(ctx, ioas, 0));
	MEASURE("unmap-enoent/lib", lib_unmap(ctx, ioas, -ENOENT));
	MEASURE("alloc+destroy/lib", lib_alloc_destroy(ctx));
	if (emu_mode) {
		MEASURE("map/raw", raw_map_emu(fd, ioas, buf));
		MEASURE("unmap/raw", raw_unmap_emu(fd, ioas, 0));
		MEASURE("unmap-enoent/raw", raw_unmap_emu(fd, ioas, -ENOENT));
		MEASURE("alloc+destroy/raw", raw_alloc_destroy_emu(fd));
	} else {
		MEASURE("map/raw", raw_map_kernel(fd, ioas, buf));
		MEASURE("unmap/raw", raw_unmap_kernel(fd, ioas, 0));
		MEASURE("unmap-enoent/raw", raw_unmap_kernel(fd, ioas, -ENOENT));
		MEASURE("alloc+destroy/raw", raw_alloc_destroy_kernel(fd));
	}

	iommufd_destroy(ctx, ioas);
	iommufd_ctx_unref(ctx);
	iommufd_emu_unref(emu);
	munmap(buf, PAGE);
	return 0;
}

/* ------------------------------------------------------------ driver side */

static const char *const calls[] = { "map", "unmap", "unmap-enoent", "alloc+destroy" };
#define NCALLS (sizeof(calls) / sizeof(calls[0]))

/* Ir of each dump, by name ("map/lib"): from desc: Trigger ... and totals:/summary: */
struct dump {
	char name[64];
	unsigned long long ir;
};

static int read_dumps(const char *dir, struct dump *d, int max)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!dh)
		return 0;
	while ((de = readdir(dh)) && n < max) {
		char path[4096], line[1024];
		FILE *f;

		if (strncmp(de->d_name, "cg.out", 6))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		d[n].name[0] = '\0';
		d[n].ir = 0;
		while (fgets(line, sizeof(line), f)) {
			const char *trig = "desc: Trigger: Client Request: ";
			unsigned long long v;

			if (!strncmp(line, trig, strlen(trig))) {
				snprintf(d[n].name, sizeof(d[n].name), "%.63s", line + strlen(trig));
				d[n].name[strcspn(d[n].name, "\n")] = '\0';
			} else if (sscanf(line, "totals: %llu", &v) == 1 ||
				   sscanf(line, "summary: %llu", &v) == 1) {
				d[n].ir = v;
			}
		}
		fclose(f);
		unlink(path);
		if (d[n].name[0])
			n++;
	}
	closedir(dh);
	return n;
}

static double find(const struct dump *d, int n, const char *call, const char *impl)
{
	char name[64];

	snprintf(name, sizeof(name), "%s/%s", call, impl);
	for (int i = 0; i < n; i++)
		if (!strcmp(d[i].name, name))
			return (double)d[i].ir / (double)n_calls;
	return -1;
}

static int drive(const char *self)
{
	char dir[] = "/tmp/bench-calls.XXXXXX", out[256], log[256], nbuf[32];
	struct dump d[32];
	int status, nd;
	pid_t pid;

	if (system("valgrind --version > /dev/null 2>&1") != 0) {
		printf("1..0 # SKIP valgrind not found (Debian: apt install valgrind)\n");
		return 77;
	}
	if (!mkdtemp(dir))
		die("mkdtemp", errno);
	snprintf(out, sizeof(out), "--callgrind-out-file=%s/cg.out", dir);
	/* valgrind's own notes (unknown ioctls...) go to a file, shown on failure */
	snprintf(log, sizeof(log), "--log-file=%s/valgrind.log", dir);
	snprintf(nbuf, sizeof(nbuf), "%lu", n_calls);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (pid == 0) {
		const char *argv[] = { "valgrind", "--tool=callgrind", "--collect-atstart=no",
				       "--dump-instr=no", "--compress-strings=no", log, out,
				       self, "--measure", "-n", nbuf,
				       emu_mode ? "--emu" : NULL, NULL };

		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	snprintf(log, sizeof(log), "%s/valgrind.log", dir);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		char cmd[512];

		fprintf(stderr, "bench-calls: the callgrind run failed (status %#x); %s:\n", status, log);
		snprintf(cmd, sizeof(cmd), "cat '%s' >&2", log);
		if (system(cmd) != 0)
			fprintf(stderr, "bench-calls: cannot show %s\n", log);
		return 1;
	}
	nd = read_dumps(dir, d, 32);
	unlink(log);
	rmdir(dir);

	printf("user-space instructions per call (callgrind Ir), %lu calls each, %s\n", n_calls,
	       emu_mode ? "EMULATOR (raw = the emulator's ioctl entry: a quick look only)" :
			  "real kernel (raw = ioctl(2) by hand)");
	printf("%-14s %14s %14s %7s\n", "call", "library Ir/call", "raw Ir/call", "ratio");
	for (size_t i = 0; i < NCALLS; i++) {
		double lib = find(d, nd, calls[i], "lib"), raw = find(d, nd, calls[i], "raw");

		if (lib < 0 || raw <= 0) {
			printf("%-14s %14s %14s %7s\n", calls[i], "?", "?", "?");
			continue;
		}
		printf("%-14s %14.1f %14.1f %6.2fx\n", calls[i], lib, raw, lib / raw);
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool measuring = false;
	char *env_argv[16], *env = getenv("BENCH_CALLS_ARGS");

	/* run-vm starts programs without arguments: bench/run-vm-bench passes them here */
	if (argc == 1 && env && (env = strdup(env))) {
		env_argv[0] = argv[0];
		argc = 1;
		for (char *w = strtok(env, " "); w && argc < 15; w = strtok(NULL, " "))
			env_argv[argc++] = w;
		env_argv[argc] = NULL;
		argv = env_argv;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--measure"))
			measuring = true;
		else if (!strcmp(argv[i], "--emu"))
			emu_mode = true;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			n_calls = strtoul(argv[++i], NULL, 0);
		else {
			fprintf(stderr, "usage: %s [-n N] [--emu]\n", argv[0]);
			return 2;
		}
	}
	if (n_calls == 0 || n_calls > 100000)
		n_calls = 1000;
	if (!emu_mode && access("/dev/iommu", R_OK | W_OK) != 0)
		emu_mode = true;
	if (measuring)
		return measure();
	{
		/* valgrind must be given our path: /proc/self/exe would be itself there */
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (n <= 0)
			die("readlink /proc/self/exe", errno);
		self[n] = '\0';
		return drive(self);
	}
}
