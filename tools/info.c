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
#include <sys/resource.h>
#include <unistd.h>

#include <libkmod.h>

#include "iommufd.h"
#include "json.h"
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
static char config_src[64];                           /* "" when no config was found */

static const char *config(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_names); i++)
		if (!strcmp(config_names[i], name))
			return config_val[i];
	return "n";
}

static void parse_config(const char *text)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_names); i++) {
		size_t n = strlen(config_names[i]);
		const char *p = text;

		snprintf(config_val[i], sizeof(config_val[i]), "n");
		while ((p = strstr(p, config_names[i]))) {
			bool bol = p == text || p[-1] == '\n';

			p += n;
			if (bol && *p == '=') {
				snprintf(config_val[i], sizeof(config_val[i]), "%.*s",
					 (int)strcspn(p + 1, "\n"), p + 1);
				break;
			}
		}
	}
}

#define CONFIG_MAX (16u << 20) /* a kernel config is ~300 KiB: a file past this is not one */

/* /proc/config.gz (the running kernel's own), else /boot/config-<release> */
static void check_config(const char *release)
{
	char p[PATH_MAX], why[128], *text = NULL;
	struct finding *f;
	int r;

	r = read_gz(rpath(p, "/proc/config.gz"), CONFIG_MAX, &text, NULL, why, sizeof(why));
	if (r == 0)
		snprintf(config_src, sizeof(config_src), "/proc/config.gz");
	else if (r == -EBADMSG)
		add("kernel-config", L_WARN, "/proc/config.gz is not a readable gzip file (%s)", why);
	else if (r == -EFBIG)
		add("kernel-config", L_WARN, "/proc/config.gz is over the %u MiB limit (compressed or decompressed): not read",
		    CONFIG_MAX >> 20);
	else if (r != -ENOENT)
		add("kernel-config", L_WARN, "cannot read /proc/config.gz: %s", strerror(-r));
	if (!text) {
		text = slurp(rpath(p, "/boot/config-%s", release), CONFIG_MAX, NULL);
		if (text)
			snprintf(config_src, sizeof(config_src), "/boot/config-%s", release);
	}
	if (!text) {
		add("kernel-config", L_INFO,
		    "kernel configuration not found (no readable /proc/config.gz, no /boot/config-%s): options not checked",
		    release);
		return;
	}
	parse_config(text);
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

/* does the text index name (modules.builtin / modules.dep) list module name? */
static bool text_index_has(const char *text, const char *name)
{
	char want[64];
	const char *p = text;

	snprintf(want, sizeof(want), "/%s.ko", name);
	while (text && (p = strstr(p, want))) {
		char c = p[strlen(want)];

		p += strlen(want);
		if (c == '\n' || c == ':' || c == '.' || c == 0)
			return true;
	}
	return false;
}

/*
 * State of each module: "loaded" (<root>/sys/module/NAME/initstate), "builtin"
 * (libkmod's modules.builtin index, or /sys/module/NAME without initstate),
 * "available" (modules.dep lists it: modprobe NAME) or "missing". libkmod
 * reads <root>/lib/modules/<release>; without depmod's binary indexes there
 * (fake trees), the text files modules.builtin and modules.dep are read.
 */
static void check_modules(const char *release)
{
	char dir[PATH_MAX], p[PATH_MAX], conf1[PATH_MAX], conf2[PATH_MAX];
	const char *confs[] = { rpath(conf1, "/etc/modprobe.d"), rpath(conf2, "/lib/modprobe.d"), NULL };
	struct kmod_ctx *kctx = NULL;
	bool have_index, have_bin;
	char *builtin = NULL, *dep = NULL;
	struct finding *f;

	rpath(dir, "/lib/modules/%s", release);
	have_index = is_dir(dir);
	have_bin = exists(rpath(p, "/lib/modules/%s/modules.dep.bin", release));
	if (have_bin) {
		kctx = kmod_new(dir, confs);
		if (kctx)
			kmod_load_resources(kctx); /* else each lookup opens the index files */
	} else if (have_index) {
		builtin = slurp(rpath(p, "/lib/modules/%s/modules.builtin", release), 4 << 20, NULL);
		dep = slurp(rpath(p, "/lib/modules/%s/modules.dep", release), 16 << 20, NULL);
		for (char *c = dep; c && (c = strchr(c, '-')); c++) /* vfio-pci.ko is module vfio_pci */
			*c = '_';
		for (char *c = builtin; c && (c = strchr(c, '-')); c++)
			*c = '_';
	}
	for (size_t i = 0; i < ARRAY_SIZE(module_names); i++) {
		const char *name = module_names[i], *st = "missing";
		bool is_builtin = false, available = false;

		if (kctx) {
			struct kmod_module *mod = NULL;

			if (kmod_module_new_from_name_lookup(kctx, name, &mod) == 0 && mod) {
				/* a builtin module has no path; a loadable one has its .ko */
				available = kmod_module_get_path(mod) != NULL;
				is_builtin = !available;
				kmod_module_unref(mod);
			}
		} else {
			is_builtin = text_index_has(builtin, name);
			available = text_index_has(dep, name);
		}
		if (exists(rpath(p, "/sys/module/%s/initstate", name)))
			st = "loaded";
		else if (is_builtin || is_dir(rpath(p, "/sys/module/%s", name)))
			st = "builtin";
		else if (available)
			st = "available";
		else if (!have_index)
			st = "unknown";
		module_state[i] = st;
	}
	kmod_unref(kctx);
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

	rpath(p, "/dev/iommu");
	if (!exists(p)) {
		f = add("dev-iommu", L_ERROR, "/dev/iommu does not exist");
		fix(f, "modprobe iommufd (or boot a kernel with CONFIG_IOMMUFD); with devtmpfs the node appears by itself");
	} else if (access(p, R_OK | W_OK) != 0) {
		f = add("dev-iommu", L_ERROR, "/dev/iommu is not readable and writable by uid %u", getuid());
		fix(f, "run as root, or give your user access (a udev rule with GROUP= and MODE=0660)");
	} else {
		add("dev-iommu", L_OK, "/dev/iommu is present, read/write for uid %u", getuid());
		dev_iommu_ok = true;
	}

	n = list_dir(rpath(p, "/dev/vfio/devices"), &names);
	if (n <= 0) {
		f = add("vfio-cdevs", L_WARN, "no VFIO device nodes in /dev/vfio/devices");
		fix(f, "bind a device to vfio-pci (see `iommufd devices`); the kernel needs CONFIG_VFIO_DEVICE_CDEV");
	} else {
		for (int i = 0; i < n; i++) {
			if (access(rpath(p, "/dev/vfio/devices/%s", names[i]), R_OK | W_OK) == 0)
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
}

static bool cmdline_has(const char *cmdline, const char *tok)
{
	size_t n = strlen(tok);

	for (const char *p = cmdline; (p = strstr(p, tok)); p += n)
		if ((p == cmdline || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || !p[n] || tok[n - 1] == '='))
			return true;
	return false;
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
	char *irq = slurp(rpath(p, "/proc/interrupts"), 4 << 20, NULL);
	bool ir_used = irq && strstr(irq, " IR-"), ir_hw = false, unsafe = false;
	int n = list_dir(rpath(p, "/sys/class/iommu"), &units);
	struct finding *f;

	free(irq);
	for (int i = 0; i < n; i++) {
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", units[i]);
		if (read_line(rpath(p, "/sys/class/iommu/%s/intel-iommu/ecap", units[i]), line, sizeof(line)) == 0 &&
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

	if (read_line(rpath(p, "/sys/module/iommufd/parameters/allow_unsafe_interrupts"), line, sizeof(line)) == 0)
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

	if (read_line(rpath(p, "/proc/cmdline"), cmdline, sizeof(cmdline)) < 0)
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
	char p[PATH_MAX], *st = slurp(rpath(p, "/proc/self/status"), 1 << 16, NULL), s[32], h[32];
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
	fd = open(rpath(p, "/dev/iommu"), O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		f = add("iommufd-open", L_ERROR, "cannot open /dev/iommu: %s", strerror(-r));
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

static const char *tristate(int v)
{
	return v == 1 ? "yes" : v == 0 ? "no" : "error";
}

static int info_run(const struct tool_args *args)
{
	char release[128];
	int nerr = 0, nwarn = 0;
	struct json j;

	kernel_release(release, sizeof(release));
	check_nodes();
	check_cmdline(); /* before check_iommu, which reads cmdline[] */
	check_config(release);
	check_modules(release);
	check_iommu();
	check_memlock();
	check_caps();
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
