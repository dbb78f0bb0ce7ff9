// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * iommufd info: is iommufd usable here? One finding per check (device nodes,
 * kernel configuration, modules, IOMMU hardware and interrupt remapping, the
 * kernel command line, the memlock limit, the requests /dev/iommu answers),
 * each problem with its fix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libkmod.h>

#include "iommufd.h"
#include "json.h"
#include "parse.h"
#include "tool.h"

/* ------------------------------------------------------------------ */
/* info: findings                                                       */
/* ------------------------------------------------------------------ */

enum level { L_OK, L_INFO, L_WARN, L_ERROR };
static const char *const level_name[] = { "ok", "info", "warn", "error" };

struct finding {
	const char *check;
	enum level level;
	char msg[512];
	char fix[512];
};

static struct finding findings[64];
static int nfindings;

static struct finding *__attribute__((format(printf, 3, 4)))
add(const char *check, enum level level, const char *fmt, ...)
{
	struct finding *f = &findings[nfindings < 63 ? nfindings++ : 63];
	va_list ap;

	f->check = check;
	f->level = level;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	f->fix[0] = 0;
	return f;
}

static void __attribute__((format(printf, 2, 3))) fix(struct finding *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->fix, sizeof(f->fix), fmt, ap);
	va_end(ap);
}

/* the kernel options info looks at, and what it found */
static const char *const config_names[] = {
	"CONFIG_IOMMUFD", "CONFIG_VFIO", "CONFIG_VFIO_DEVICE_CDEV", "CONFIG_VFIO_GROUP",
	"CONFIG_IOMMUFD_VFIO_CONTAINER", "CONFIG_VFIO_PCI", "CONFIG_IRQ_REMAP",
	"CONFIG_INTEL_IOMMU", "CONFIG_AMD_IOMMU",
};
static char config_val[ARRAY_SIZE(config_names)][16]; /* "y", "m", "n" (not set) */
static char config_src[NAME_COMPONENT_MAX + 16];                          /* "" when no config was found */

static const char *config(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_names); i++)
		if (!strcmp(config_names[i], name))
			return config_val[i];
	return "n";
}

#define CONFIG_MAX (16u << 20) /* a kernel config is ~300 KiB: a file past this is not one */

/* /proc/config.gz (the running kernel's own), else /boot/config-<release> */
static void check_config(const char *release)
{
	char p[PATH_MAX], why[128], *text = NULL;
	struct finding *f;
	int r;

	r = read_gz(lpath(p, "/proc/config.gz"), CONFIG_MAX, &text, NULL, why, sizeof(why));
	if (r == 0)
		snprintf(config_src, sizeof(config_src), "/proc/config.gz");
	else if (r == -EBADMSG)
		add("kernel-config", L_WARN, "/proc/config.gz is not a readable gzip file (%s)", why);
	else if (r == -EFBIG)
		add("kernel-config", L_WARN, "/proc/config.gz is over the %u MiB limit (compressed or decompressed): not read",
		    CONFIG_MAX >> 20);
	else if (r != -ENOENT)
		add("kernel-config", L_WARN, "cannot read /proc/config.gz: %s", tool_strerror(-r));
	if (!text) {
		text = slurp(lpath(p, "/boot/config-%s", release), CONFIG_MAX, NULL);
		if (text)
			snprintf(config_src, sizeof(config_src), "/boot/config-%s", release);
		else if (errno != ENOENT)
			add("kernel-config", L_WARN, "cannot read /boot/config-%s: %s", release, tool_strerror(errno));
	}
	if (!text) {
		add("kernel-config", L_INFO,
		    "kernel configuration not found (no readable /proc/config.gz, no /boot/config-%s): options not checked",
		    release);
		return;
	}
	parse_config(text, config_names, ARRAY_SIZE(config_names), config_val);
	free(text);

	if (!strcmp(config("CONFIG_IOMMUFD"), "n")) {
		f = add("config-iommufd", L_ERROR, "CONFIG_IOMMUFD is not set (%s): this kernel has no /dev/iommu",
			config_src);
		fix(f, "boot a kernel built with CONFIG_IOMMUFD=y or =m");
	} else {
		add("config-iommufd", L_OK, "CONFIG_IOMMUFD=%s (%s)", config("CONFIG_IOMMUFD"), config_src);
	}
	if (!strcmp(config("CONFIG_VFIO_DEVICE_CDEV"), "y")) {
		add("config-vfio-cdev", L_OK, "CONFIG_VFIO_DEVICE_CDEV=y: VFIO devices have /dev/vfio/devices/vfioN nodes");
	} else {
		f = add("config-vfio-cdev", L_WARN,
			"CONFIG_VFIO_DEVICE_CDEV is not set%s: no /dev/vfio/devices/vfioN, devices only through the group path",
			!strcmp(config("CONFIG_VFIO_GROUP"), "y") ? " (it defaults to n when CONFIG_VFIO_GROUP=y)" : "");
		fix(f, "boot a kernel built with CONFIG_VFIO_DEVICE_CDEV=y");
	}
	if (!strcmp(config("CONFIG_IOMMUFD_VFIO_CONTAINER"), "y"))
		add("config-vfio-container", L_INFO,
		    "CONFIG_IOMMUFD_VFIO_CONTAINER=y: /dev/vfio/vfio (the legacy container) is provided by iommufd");
	else
		add("config-vfio-container", L_INFO,
		    "CONFIG_IOMMUFD_VFIO_CONTAINER is not set: legacy VFIO containers use vfio_iommu_type1");
}

/* ------------------------------------------------------------------ */
/* info: modules                                                        */
/* ------------------------------------------------------------------ */

static const char *const module_names[] = { "iommufd", "vfio", "vfio_pci", "vfio_iommu_type1" };
static const char *module_state[ARRAY_SIZE(module_names)];

/*
 * libkmod on a tree that may be anyone's. libkmod maps its binary indexes
 * and trusts them (libkmod/libkmod-index.c of kmod): random bytes after a
 * valid magic crash it or make it allocate without end. Two defences, the
 * second for what the first misses (libkmod's other code, a check too lax):
 *  1. Validation: the indexes a lookup reads are copied out of the tree by
 *     the root's readers (regular files only, bounded, no symlink out of the
 *     root) into a private directory, and each copy must pass
 *     kmod_index_check() (parse.c: every offset and string in the file, a
 *     trie without cycles or shared nodes, of bounded depth). libkmod sees
 *     these copies only, and no modprobe.d configuration of the tree.
 *  2. Isolation: libkmod runs in a forked child with RLIMIT_AS (not in
 *     AddressSanitizer builds, whose shadow memory needs terabytes of address
 *     space), RLIMIT_CPU and RLIMIT_FSIZE, answering one byte per module
 *     through a pipe; the parent waits KMOD_TIMEOUT_MS at most, then kills it.
 *     A child that dies or overruns is a finding, not a hang or a crash.
 */
#if defined(__SANITIZE_ADDRESS__)
#define TOOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TOOL_ASAN 1
#endif
#endif

#define KMOD_INDEX_MAX (64u << 20)
#define KMOD_TIMEOUT_MS 3000
#define KMOD_AS_MAX (1ull << 30)
#define KMOD_CPU_SEC 2

/*
 * What a module lookup of libkmod reads: the indexes of kmod_load_resources(),
 * and modules.builtin.modinfo (not an index: "module.key=value" strings,
 * each NUL-terminated), which libkmod 30 reads for the builtin modules.
 */
static const char *const kmod_index_files[] = {
	"modules.dep.bin", "modules.alias.bin", "modules.symbols.bin", "modules.builtin.alias.bin",
	"modules.builtin.bin", "modules.builtin.modinfo",
};

static void kmod_log_none(void *data, int priority, const char *file, int line, const char *fn,
			  const char *format, va_list args)
{
}

/* the child: look each module up, write 'b' (builtin), 'a' (available) or '-' each */
static void __attribute__((noreturn)) kmod_child(const char *dir, int wfd)
{
	static const char *const no_config[] = { NULL };
	char states[ARRAY_SIZE(module_names)];
	struct rlimit cpu = { KMOD_CPU_SEC, KMOD_CPU_SEC + 1 }, fsize = { 0, 0 };
	struct kmod_ctx *kctx;

#ifndef TOOL_ASAN
	struct rlimit as = { KMOD_AS_MAX, KMOD_AS_MAX };

	setrlimit(RLIMIT_AS, &as);
#endif
	setrlimit(RLIMIT_CPU, &cpu);
	setrlimit(RLIMIT_FSIZE, &fsize);
	kctx = kmod_new(dir, no_config);
	if (!kctx)
		_exit(1);
	kmod_set_log_fn(kctx, kmod_log_none, NULL);
	kmod_load_resources(kctx); /* else each lookup opens the index files */
	for (size_t i = 0; i < ARRAY_SIZE(module_names); i++) {
		struct kmod_module *mod = NULL;

		states[i] = '-';
		if (kmod_module_new_from_name_lookup(kctx, module_names[i], &mod) == 0 && mod) {
			/* a builtin module has no path; a loadable one has its .ko */
			states[i] = kmod_module_get_path(mod) ? 'a' : 'b';
			kmod_module_unref(mod);
		}
	}
	kmod_unref(kctx);
	_exit(write(wfd, states, sizeof(states)) == (ssize_t)sizeof(states) ? 0 : 1);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* copy the root's index files of release into dir, each checked; -errno with why */
static int kmod_stage(const char *release, const char *dir, char *why, size_t why_size)
{
	char p[PATH_MAX], out[PATH_MAX], reason[96];

	for (size_t i = 0; i < ARRAY_SIZE(kmod_index_files); i++) {
		size_t len;
		char *buf = slurp(lpath(p, "/lib/modules/%s/%s", release, kmod_index_files[i]), KMOD_INDEX_MAX, &len);
		ssize_t w;
		int fd, r;

		if (!buf && errno == ENOENT)
			continue;
		if (buf && len == 0) { /* depmod writes an empty modules.builtin.alias.bin: as if absent */
			free(buf);
			continue;
		}
		if (!buf) {
			r = -errno;
			snprintf(why, why_size, "%s: %s", kmod_index_files[i], tool_strerror(-r));
			return r;
		}
		r = strstr(kmod_index_files[i], ".bin")
			    ? kmod_index_check((const unsigned char *)buf, len, reason, sizeof(reason))
			    : 0;
		if (r < 0) {
			free(buf);
			snprintf(why, why_size, "%s is corrupt: %s", kmod_index_files[i], reason);
			return r;
		}
		if ((size_t)snprintf(out, sizeof(out), "%s/%s", dir, kmod_index_files[i]) >= sizeof(out))
			errno = ENAMETOOLONG, out[0] = 0;
		fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0)
			errno = 0; /* a short write sets none */
		w = fd < 0 ? -1 : write(fd, buf, len);
		r = fd < 0 || w != (ssize_t)len ? -(errno ? errno : EIO) : 0;
		if (fd >= 0 && close(fd) < 0 && !r)
			r = -errno;
		free(buf);
		if (r < 0) {
			snprintf(why, why_size, "copying %s: %s", kmod_index_files[i], strerror(-r));
			return r;
		}
	}
	return 0;
}

/* states[i] of module_names[i] by libkmod, as kmod_child() writes them; -errno with why */
static int kmod_lookup(const char *release, char *states, char *why, size_t why_size)
{
	const char *tmp = secure_getenv("TMPDIR");
	char dir[PATH_MAX / 2], p[PATH_MAX];
	size_t got = 0, want = ARRAY_SIZE(module_names);
	long long deadline;
	int pfd[2], status, r;
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/iommufd-kmod.XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		snprintf(why, why_size, "cannot make a directory in %s: %s", tmp ? tmp : "/tmp", strerror(errno));
		return -errno;
	}
	r = kmod_stage(release, dir, why, why_size);
	if (r == 0 && pipe2(pfd, O_CLOEXEC) < 0) {
		r = -errno;
		snprintf(why, why_size, "pipe: %s", strerror(-r));
	}
	if (r == 0) {
		fflush(NULL); /* nothing buffered twice */
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			kmod_child(dir, pfd[1]);
		}
		close(pfd[1]);
		if (pid < 0) {
			r = -errno;
			snprintf(why, why_size, "fork: %s", strerror(-r));
		}
	}
	if (r == 0) {
		deadline = now_ms() + KMOD_TIMEOUT_MS;
		while (got < want) {
			long long left = deadline - now_ms();
			struct pollfd pl = { .fd = pfd[0], .events = POLLIN };
			ssize_t n;

			if (left <= 0)
				break;
			n = poll(&pl, 1, (int)left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			n = read(pfd[0], states + got, want - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += n;
		}
		close(pfd[0]);
		if (got < want)
			kill(pid, SIGKILL); /* not reaped yet: still our child */
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (got < want) {
			r = -EBADMSG;
			if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
				snprintf(why, why_size, "libkmod died of signal %d (%s) on the index files",
					 WTERMSIG(status), strsignal(WTERMSIG(status)));
			else if (WIFSIGNALED(status))
				snprintf(why, why_size, "libkmod did not answer within %d ms: stopped",
					 KMOD_TIMEOUT_MS);
			else
				snprintf(why, why_size, "libkmod failed on the index files (exit %d)",
					 WEXITSTATUS(status));
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(kmod_index_files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, kmod_index_files[i]);
		unlink(p);
	}
	rmdir(dir);
	return r;
}

/*
 * State of each module: "loaded" (<root>/sys/module/NAME/initstate), "builtin"
 * (libkmod's modules.builtin index, or /sys/module/NAME without initstate),
 * "available" (modules.dep lists it: modprobe NAME) or "missing". libkmod
 * reads <root>/lib/modules/<release> (kmod_lookup() above); without depmod's
 * binary indexes there (fake trees), the text files modules.builtin and
 * modules.dep are read. "unknown" when neither can be read.
 */
static void check_modules(const char *release)
{
	char p[PATH_MAX], kstates[ARRAY_SIZE(module_names)], why[256];
	bool have_index, have_bin, have_kmod = false;
	char *builtin = NULL, *dep = NULL;
	struct finding *f;

	have_index = is_dir(lpath(p, "/lib/modules/%s", release));
	have_bin = have_index && exists(lpath(p, "/lib/modules/%s/modules.dep.bin", release));
	if (have_bin) {
		have_kmod = kmod_lookup(release, kstates, why, sizeof(why)) == 0;
		if (!have_kmod) {
			f = add("modules", L_WARN, "module index of /lib/modules/%s not used: %s", release, why);
			fix(f, "regenerate it: depmod %s", release);
			have_index = false; /* states "unknown", as without an index */
		}
	} else if (have_index) {
		builtin = slurp(lpath(p, "/lib/modules/%s/modules.builtin", release), 4 << 20, NULL);
		dep = slurp(lpath(p, "/lib/modules/%s/modules.dep", release), 16 << 20, NULL);
		for (char *c = dep; c && (c = strchr(c, '-')); c++) /* vfio-pci.ko is module vfio_pci */
			*c = '_';
		for (char *c = builtin; c && (c = strchr(c, '-')); c++)
			*c = '_';
	}
	for (size_t i = 0; i < ARRAY_SIZE(module_names); i++) {
		const char *name = module_names[i], *st = "missing";
		bool is_builtin = false, available = false;

		if (have_kmod) {
			is_builtin = kstates[i] == 'b';
			available = kstates[i] == 'a';
		} else {
			is_builtin = text_index_has(builtin, name);
			available = text_index_has(dep, name);
		}
		if (exists(lpath(p, "/sys/module/%s/initstate", name)))
			st = "loaded";
		else if (is_builtin || is_dir(lpath(p, "/sys/module/%s", name)))
			st = "builtin";
		else if (available)
			st = "available";
		else if (!have_index)
			st = "unknown";
		module_state[i] = st;
	}
	free(builtin);
	free(dep);

	if (!have_index)
		add("modules", L_INFO, "no module index in /lib/modules/%s: modules not in /sys/module are \"unknown\"",
		    release);
	for (size_t i = 0; i < ARRAY_SIZE(module_names); i++) {
		const char *st = module_state[i], *name = module_names[i];
		bool legacy = !strcmp(name, "vfio_iommu_type1"); /* only legacy containers need it */

		if (!strcmp(st, "available")) {
			f = add("module", legacy ? L_INFO : L_WARN, "module %s is available but not loaded%s", name,
				legacy ? " (only legacy VFIO containers use it)" : "");
			fix(f, "modprobe %s", name);
		} else if (!strcmp(st, "missing")) {
			f = add("module", !strcmp(name, "iommufd") ? L_ERROR : legacy ? L_INFO : L_WARN,
				"module %s is neither built in nor installed for %s", name, release);
			fix(f, "install the kernel's modules, or boot a kernel built with it");
		} else {
			add("module", strcmp(st, "unknown") ? L_OK : L_INFO, "module %s: %s", name, st);
		}
	}
}

/* ------------------------------------------------------------------ */
/* info: device nodes, IOMMU hardware, command line, memlock            */
/* ------------------------------------------------------------------ */

static bool dev_iommu_ok;

static void check_nodes(void)
{
	char p[PATH_MAX], **names = NULL, bad[256] = "";
	struct finding *f;
	int n, nok = 0;

	lpath(p, "/dev/iommu");
	n = root_open(p, S_IFCHR, O_PATH); /* only for the reason of a failure: a node is not needed under --root */
	if (n >= 0)
		close(n);
	if (n == -ELOOP) {
		f = add("dev-iommu", L_ERROR, "/dev/iommu: %s", tool_strerror(ELOOP));
		fix(f, "make /dev/iommu the iommufd device node");
	} else if (!exists(p)) {
		char c[PATH_MAX];
		bool container = exists(lpath(c, "/dev/vfio/vfio"));

		/* without iommufd the library drives the VFIO container: not an error */
		f = add("dev-iommu", container ? L_INFO : L_ERROR, "/dev/iommu does not exist%s",
			container ? ": the type1 mode (the VFIO container /dev/vfio/vfio) is used" : "");
		fix(f, "modprobe iommufd (or boot a kernel with CONFIG_IOMMUFD); with devtmpfs the node appears by itself");
	} else if (!rw_access(p)) {
		f = add("dev-iommu", L_ERROR, "/dev/iommu is not readable and writable by uid %u", getuid());
		fix(f, "run as root, or give your user access (a udev rule with GROUP= and MODE=0660)");
	} else {
		add("dev-iommu", L_OK, "/dev/iommu is present, read/write for uid %u", getuid());
		dev_iommu_ok = true;
	}

	n = list_dir(lpath(p, "/dev/vfio/devices"), &names);
	if (n <= 0) {
		f = add("vfio-cdevs", L_WARN, "no VFIO device nodes in /dev/vfio/devices");
		fix(f, "bind a device to vfio-pci (see `iommufd devices`); the kernel needs CONFIG_VFIO_DEVICE_CDEV");
	} else {
		for (int i = 0; i < n; i++) {
			if (rw_access(lpath(p, "/dev/vfio/devices/%s", names[i])))
				nok++;
			else
				snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), " %s", names[i]);
		}
		if (nok == n) {
			add("vfio-cdevs", L_OK, "%d VFIO device node(s) in /dev/vfio/devices, all read/write", n);
		} else {
			f = add("vfio-cdevs", L_WARN, "VFIO device node(s) not read/write for uid %u:%s", getuid(),
				bad);
			fix(f, "run as root, or chown the nodes of the devices you use to your user");
		}
	}
	free_list(names);

	/*
	 * vfio's no-IOMMU mode (drivers/vfio/vfio_main.c
	 * enable_unsafe_noiommu_mode): devices without an IOMMU group get a
	 * vfio-noiommu group, /dev/vfio/noiommu-N, and DMA that is not translated
	 */
	{
		char v[8] = "";
		int nn;

		nn = list_dir(lpath(p, "/dev/vfio"), &names);
		nok = 0;
		for (int i = 0; i < nn; i++)
			nok += !strncmp(names[i], "noiommu-", 8);
		free_list(names);
		if (nok) {
			f = add("vfio-noiommu", L_WARN,
				"%d no-IOMMU VFIO group(s) (/dev/vfio/noiommu-N): their devices' DMA is NOT translated, nothing isolates them; no cdev, the group path only",
				nok);
			fix(f, "boot with the IOMMU on and without vfio.enable_unsafe_noiommu_mode=1 to translate DMA");
		} else if (read_line(lpath(p, "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"), v,
				     sizeof(v)) >= 0 && v[0] == 'Y') {
			add("vfio-noiommu", L_INFO,
			    "vfio's no-IOMMU mode is on: a device bound to vfio-pci without an IOMMU group would get untranslated DMA");
		}
	}
}

static char cmdline[4096];

/*
 * IOMMU units are the entries of /sys/class/iommu. Interrupt remapping (which
 * VFIO_DEVICE_BIND_IOMMUFD needs, else EPERM) is "in use" when an interrupt
 * chip of /proc/interrupts is a remapping one ("IR-PCI-MSI", "IR-IO-APIC");
 * the VT-d capability is bit 3 of /sys/class/iommu/dmarN/intel-iommu/ecap.
 */
static void check_iommu(void)
{
	char p[PATH_MAX], **units = NULL, list[256] = "", line[64];
	char *irq = slurp(lpath(p, "/proc/interrupts"), 4 << 20, NULL);
	bool ir_used = irq && strstr(irq, " IR-"), ir_hw = false, unsafe = false;
	int n = list_dir(lpath(p, "/sys/class/iommu"), &units);
	struct finding *f;

	free(irq);
	for (int i = 0; i < n; i++) {
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", units[i]);
		if (read_line(lpath(p, "/sys/class/iommu/%s/intel-iommu/ecap", units[i]), line, sizeof(line)) == 0 &&
		    (strtoull(line, NULL, 16) & (1u << 3)))
			ir_hw = true;
	}
	free_list(units);
	if (n <= 0) {
		f = add("iommu-hw", L_WARN, "no IOMMU in /sys/class/iommu: no device can be bound to iommufd");
		fix(f, "enable VT-d/AMD-Vi in the firmware%s",
		    strstr(cmdline, "intel_iommu=on") ? "" : " and boot with intel_iommu=on (Intel)");
	} else {
		add("iommu-hw", L_OK, "IOMMU unit(s): %s", list);
	}

	if (read_line(lpath(p, "/sys/module/iommufd/parameters/allow_unsafe_interrupts"), line, sizeof(line)) == 0)
		unsafe = line[0] == 'Y' || line[0] == '1';
	if (ir_used) {
		add("irq-remap", L_OK, "interrupt remapping is in use (IR- interrupt chips in /proc/interrupts)");
	} else if (unsafe) {
		add("irq-remap", L_INFO,
		    "interrupt remapping not seen, but iommufd.allow_unsafe_interrupts=1 lets devices bind (unsafe)");
	} else if (n > 0) {
		f = add("irq-remap", L_WARN, "interrupt remapping not seen in use%s: binding a device fails with EPERM",
			ir_hw ? " (the VT-d unit supports it)" : "");
		fix(f, "%s", cmdline_has(cmdline, "intremap=off") || cmdline_has(cmdline, "nointremap")
				     ? "remove intremap=off / nointremap from the kernel command line"
				     : "enable interrupt remapping (firmware, x2apic), or accept the risk with iommufd.allow_unsafe_interrupts=1");
	}
}

static void check_cmdline(void)
{
	static const char *const off[] = { "intel_iommu=off", "amd_iommu=off", "iommu=off" };
	char p[PATH_MAX];
	struct finding *f;
	bool hint = false;

	if (read_line(lpath(p, "/proc/cmdline"), cmdline, sizeof(cmdline)) < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(off); i++) {
		if (cmdline_has(cmdline, off[i])) {
			f = add("cmdline", L_WARN, "the kernel command line has %s: the IOMMU is disabled", off[i]);
			fix(f, "remove %s from the kernel command line", off[i]);
			hint = true;
		}
	}
	if (cmdline_has(cmdline, "iommu=pt") || cmdline_has(cmdline, "iommu.passthrough=1")) {
		add("cmdline", L_INFO,
		    "host DMA in passthrough (iommu=pt / iommu.passthrough=1): fine, devices given to iommufd still get their own domains");
		hint = true;
	}
	if (cmdline_has(cmdline, "intel_iommu=on") || cmdline_has(cmdline, "amd_iommu=on")) {
		add("cmdline", L_OK, "the kernel command line enables the IOMMU (%s)",
		    strstr(cmdline, "intel_iommu=on") ? "intel_iommu=on" : "amd_iommu=on");
		hint = true;
	}
	if (!hint)
		add("cmdline", L_INFO, "no IOMMU option on the kernel command line");
}

static struct rlimit memlock;
static bool cap_ipc_lock;
#define MEMLOCK_WANT (64ull << 20) /* below this, pinning a guest's or a DMA pool's memory fails */

static void fmt_size(char *buf, size_t size, rlim_t v)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, size, "unlimited");
	else if (v >= (1 << 20) && !(v & ((1 << 20) - 1)))
		snprintf(buf, size, "%llu MiB", (unsigned long long)v >> 20);
	else
		snprintf(buf, size, "%llu KiB", (unsigned long long)v >> 10);
}

/*
 * Pinned pages are charged against RLIMIT_MEMLOCK unless the process has
 * CAP_IPC_LOCK (bit 14 of CapEff in /proc/self/status).
 */
static void check_memlock(void)
{
	char p[PATH_MAX], *st = slurp(lpath(p, "/proc/self/status"), 1 << 16, NULL), s[32], h[32];
	const char *cap = st ? strstr(st, "\nCapEff:") : NULL;
	struct finding *f;

	cap_ipc_lock = cap && (strtoull(cap + 8, NULL, 16) & (1ull << 14));
	free(st);
	getrlimit(RLIMIT_MEMLOCK, &memlock);
	fmt_size(s, sizeof(s), memlock.rlim_cur);
	fmt_size(h, sizeof(h), memlock.rlim_max);
	if (cap_ipc_lock) {
		add("memlock", L_OK, "CAP_IPC_LOCK: pinned memory is not limited (RLIMIT_MEMLOCK %s)", s);
	} else if (memlock.rlim_cur == RLIM_INFINITY || memlock.rlim_cur >= MEMLOCK_WANT) {
		add("memlock", L_OK, "RLIMIT_MEMLOCK %s (hard %s): room to pin at least 64 MiB", s, h);
	} else {
		f = add("memlock", memlock.rlim_cur < DEMO_PIN ? L_ERROR : L_WARN,
			"RLIMIT_MEMLOCK is %s (hard %s): mapping more than that for DMA fails with ENOMEM%s", s, h,
			memlock.rlim_cur < DEMO_PIN ? ", even the 64 KiB of `iommufd demo`" : "");
		fix(f, "raise it (ulimit -l, LimitMEMLOCK= of systemd, memlock in /etc/security/limits.conf) or grant CAP_IPC_LOCK");
	}
}

/* ------------------------------------------------------------------ */
/* info: capability probing on /dev/iommu                              */
/* ------------------------------------------------------------------ */

static int req_state[IOMMUFD_REQ_HW_QUEUE_ALLOC - IOMMUFD_REQ_DESTROY + 1];
static bool probed;

static const struct {
	enum iommufd_request req;
	uint64_t flag;
	const char *name;
} probe_flags[] = {
	{ IOMMUFD_REQ_IOAS_MAP, IOMMUFD_MAP_FIXED_IOVA, "FIXED_IOVA" },
	{ IOMMUFD_REQ_IOAS_MAP, IOMMUFD_MAP_WRITE, "WRITE" },
	{ IOMMUFD_REQ_IOAS_MAP, IOMMUFD_MAP_READ, "READ" },
	{ IOMMUFD_REQ_IOAS_MAP_FILE, IOMMUFD_MAP_FIXED_IOVA, "FIXED_IOVA" },
	{ IOMMUFD_REQ_IOAS_COPY, IOMMUFD_MAP_FIXED_IOVA, "FIXED_IOVA" },
	{ IOMMUFD_REQ_GET_HW_INFO, IOMMUFD_HW_INFO_INPUT_TYPE, "INPUT_TYPE" },
	{ IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP, IOMMUFD_DIRTY_NO_CLEAR, "NO_CLEAR" },
};
static int flag_state[ARRAY_SIZE(probe_flags)];

/* open <root>/dev/iommu and ask the kernel which requests and flags it knows */
static void check_caps(void)
{
	char p[PATH_MAX];
	struct iommufd_ctx *ctx = NULL;
	struct finding *f;
	int fd, r;

	if (!dev_iommu_ok)
		return;
	/*
	 * Under --root, only the node of this machine's iommufd is opened (same
	 * device number as /dev/iommu): a tree's device node could be any
	 * driver's, and an open() alone can have effects (a watchdog's).
	 */
	fd = root_open(lpath(p, "/dev/iommu"), S_IFCHR, O_PATH);
	if (fd >= 0 && *root) {
		struct stat st, host;

		if (fstat(fd, &st) < 0 || stat("/dev/iommu", &host) < 0 || !S_ISCHR(host.st_mode) ||
		    st.st_rdev != host.st_rdev) {
			close(fd);
			fd = -ENOTREG;
		}
	}
	if (fd >= 0) {
		int fd2 = fd;

		fd = root_open(p, S_IFCHR, O_RDWR);
		close(fd2);
	}
	if (fd == -ENOTREG && *root) {
		add("iommufd-open", L_INFO,
		    "/dev/iommu is not this machine's iommufd node: capabilities not probed under --root");
		return;
	}
	if (fd < 0) {
		r = fd;
		f = add("iommufd-open", L_ERROR, "cannot open /dev/iommu: %s",
			r == -ENOTREG ? "not a character device" : tool_strerror(-r));
		fix(f, "check the permissions and that nothing (a seccomp/LSM policy) denies it");
		return;
	}
	r = iommufd_ctx_new_from_fd(fd, &ctx);
	if (r < 0) {
		close(fd);
		f = add("iommufd-open", *root ? L_INFO : L_ERROR, "/dev/iommu is not an iommufd (%s)%s",
			strerror(-r), *root ? ": capabilities not probed under --root" : "");
		if (!*root)
			fix(f, "make sure /dev/iommu is the iommufd misc device (major 10)");
		return;
	}
	for (int i = 0; i < (int)ARRAY_SIZE(req_state); i++)
		req_state[i] = iommufd_ctx_supports(ctx, IOMMUFD_REQ_DESTROY + i);
	for (size_t i = 0; i < ARRAY_SIZE(probe_flags); i++)
		flag_state[i] = iommufd_ctx_supports_flags(ctx, probe_flags[i].req, probe_flags[i].flag);
	probed = true;
	if (req_state[0] == 1 && req_state[IOMMUFD_REQ_IOAS_MAP - IOMMUFD_REQ_DESTROY] == 1)
		add("iommufd-open", L_OK, "/dev/iommu opens and answers requests");
	else
		add("iommufd-open", L_ERROR, "/dev/iommu opens but does not answer IOMMU_DESTROY/IOAS_MAP: %s",
		    iommufd_last_error());
	iommufd_ctx_unref(ctx);
}

/* which mode iommufd_ctx_new() chooses here, and why (include/iommufd.h "Modes") */
static void check_mode(void)
{
	IOMMUFD_OPTS(struct iommufd_mode_info, info);
	struct iommufd_ctx *ctx = NULL;
	char p[PATH_MAX];
	struct finding *f;
	int r;

	if (*root) {
		/* nothing of another tree is opened: say what its nodes would give */
		if (exists(lpath(p, "/dev/iommu")))
			add("mode", L_INFO, "iommufd mode would be used (/dev/iommu exists)");
		else if (exists(lpath(p, "/dev/vfio/vfio")))
			add("mode", L_INFO, "type1 mode would be used (no /dev/iommu; /dev/vfio/vfio exists)");
		else
			add("mode", L_ERROR, "neither /dev/iommu nor /dev/vfio/vfio exists");
		return;
	}
	r = iommufd_ctx_new(&ctx);
	if (r < 0) {
		f = add("mode", L_ERROR, "no kernel interface opens: %s", iommufd_last_error());
		fix(f, "load vfio (and iommufd, or vfio_iommu_type1), and give your user access to /dev/iommu or /dev/vfio/vfio");
		return;
	}
	r = iommufd_ctx_get_mode_info(ctx, &info);
	if (r < 0)
		add("mode", L_ERROR, "iommufd_ctx_get_mode_info: %s", iommufd_last_error());
	else
		add("mode", L_OK, "%s mode%s%s: %s", iommufd_mode_name(info.mode),
		    info.flags & IOMMUFD_MODE_INFO_COMPAT ? " (the container is iommufd's compatibility)" : "",
		    info.flags & IOMMUFD_MODE_INFO_FORCED ? " (forced by IOMMUFD_MODE)" : "", info.why);
	iommufd_ctx_unref(ctx);
}

static const char *tristate(int v)
{
	return v == 1 ? "yes" : v == 0 ? "no" : "error";
}

static int info_run(const struct tool_args *args)
{
	char release[NAME_COMPONENT_MAX + 1];
	int nerr = 0, nwarn = 0;
	struct json j;

	int r = kernel_release(release, sizeof(release));
	struct finding *f;

	if (r < 0 && r != -ENOENT) {
		f = add("kernel-release", L_WARN,
			"/proc/sys/kernel/osrelease is not a kernel release (%s): this machine's (%s) is used",
			r == -EINVAL ? "not a valid path component" : tool_strerror(-r), release);
		fix(f, "the file holds one line, the release, such as 6.1.0-18-amd64");
	}
	check_nodes();
	check_cmdline(); /* before check_iommu, which reads cmdline[] */
	check_config(release);
	check_modules(release);
	check_iommu();
	check_memlock();
	check_caps();
	check_mode();
	for (int i = 0; i < nfindings; i++) {
		nerr += findings[i].level == L_ERROR;
		nwarn += findings[i].level == L_WARN;
	}

	if (args->json) {
		json_init(&j, stdout);
		json_open(&j, NULL, '{');
		json_str(&j, "root", *root ? root : "/");
		json_str(&j, "release", release);
		json_bool(&j, "usable", nerr == 0);
		json_int(&j, "errors", nerr);
		json_int(&j, "warnings", nwarn);
		json_open(&j, "findings", '[');
		for (int i = 0; i < nfindings; i++) {
			json_open(&j, NULL, '{');
			json_str(&j, "check", findings[i].check);
			json_str(&j, "level", level_name[findings[i].level]);
			json_str(&j, "message", findings[i].msg);
			json_str(&j, "fix", findings[i].fix[0] ? findings[i].fix : NULL);
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_open(&j, "config", '{');
		json_str(&j, "source", config_src[0] ? config_src : NULL);
		for (size_t i = 0; config_src[0] && i < ARRAY_SIZE(config_names); i++)
			json_str(&j, config_names[i], config_val[i]);
		json_close(&j, '}');
		json_open(&j, "modules", '{');
		for (size_t i = 0; i < ARRAY_SIZE(module_names); i++)
			json_str(&j, module_names[i], module_state[i]);
		json_close(&j, '}');
		json_str(&j, "cmdline", cmdline);
		json_open(&j, "memlock", '{');
		if (memlock.rlim_cur == RLIM_INFINITY)
			json_str(&j, "soft", NULL);
		else
			json_int(&j, "soft", memlock.rlim_cur);
		if (memlock.rlim_max == RLIM_INFINITY)
			json_str(&j, "hard", NULL);
		else
			json_int(&j, "hard", memlock.rlim_max);
		json_bool(&j, "cap_ipc_lock", cap_ipc_lock);
		json_close(&j, '}');
		json_open(&j, "requests", '{');
		for (int i = 0; probed && i < (int)ARRAY_SIZE(req_state); i++)
			json_bool(&j, iommufd_request_name(IOMMUFD_REQ_DESTROY + i), req_state[i] == 1);
		json_close(&j, '}');
		json_open(&j, "flags", '{');
		for (size_t i = 0; probed && i < ARRAY_SIZE(probe_flags); i++) {
			char key[80];

			snprintf(key, sizeof(key), "%s:%s", iommufd_request_name(probe_flags[i].req),
				 probe_flags[i].name);
			json_bool(&j, key, flag_state[i] == 1);
		}
		json_close(&j, '}');
		json_close(&j, '}');
	} else {
		printf("iommufd: %s", nerr ? "NOT usable" : "usable");
		if (nerr || nwarn)
			printf(" (%d error(s), %d warning(s))", nerr, nwarn);
		printf("\nkernel %s%s%s\n\n", release, *root ? ", root " : "", root);
		for (int i = 0; i < nfindings; i++) {
			tty_safe(findings[i].msg); /* names and values of the tree: no escape sequence */
			tty_safe(findings[i].fix);
			printf("%-5s  %-21s %s\n", level_name[findings[i].level], findings[i].check,
			       findings[i].msg);
			if (findings[i].fix[0])
				printf("%-5s  %-21s fix: %s\n", "", "", findings[i].fix);
		}
		if (probed) {
			printf("\nrequests:");
			for (int i = 0; i < (int)ARRAY_SIZE(req_state); i++)
				printf("%s %s%s", i % 6 ? "" : "\n ",
				       iommufd_request_name(IOMMUFD_REQ_DESTROY + i) ?: "?",
				       req_state[i] == 1 ? "" : req_state[i] == 0 ? " (no)" : " (error)");
			printf("\nflags:");
			for (size_t i = 0; i < ARRAY_SIZE(probe_flags); i++)
				printf("%s %s:%s %s", i % 4 ? "," : "\n ",
				       iommufd_request_name(probe_flags[i].req), probe_flags[i].name,
				       tristate(flag_state[i]));
			printf("\n");
		}
	}
	if (fflush(stdout) != 0)
		return EXIT_FAILED;
	return nerr ? EXIT_UNUSABLE : EXIT_OK;
}

const struct tool_cmd tool_cmd_info = {
	.name = "info",
	.help = "check /dev/iommu, VFIO nodes, kernel config, modules, IOMMU hardware,\n"
		"interrupt remapping, command line, memlock limit and the requests the\n"
		"kernel supports; each problem with its fix",
	.opts = TOOL_OPT_JSON | TOOL_OPT_ROOT,
	.run = info_run,
};
