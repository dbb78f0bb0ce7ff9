// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * iommufd(1): is iommufd usable here (info), which PCI devices can be handed
 * to it (devices), and the library at work on an emulated or real device
 * (demo). See man/iommufd.1.
 *
 * Every /dev, /sys, /proc, /boot and /lib/modules path goes through rpath(),
 * which prefixes the root override (--root DIR or $IOMMUFD_ROOT), so the tests
 * run it on fake trees. Paths shown to the user are the logical ones ("/dev/iommu").
 * Plain libc and libkmod only: no external program is run, and /proc/config.gz
 * is read with our own gunzip() (gunzip.c).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libkmod.h>

#include "gunzip.h"
#include "iommufd-emu.h"

/* exit codes, documented in --help and iommufd(1) */
enum {
	EXIT_OK = 0,       /* done; info: iommufd is usable */
	EXIT_FAILED = 1,   /* an operation failed (demo step, unreadable output) */
	EXIT_USAGE = 2,    /* bad command line */
	EXIT_UNUSABLE = 3, /* info: not usable here; devices/demo: what they need is missing */
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *prog = "iommufd";
static char root[PATH_MAX]; /* "" for the real / */

static void __attribute__((format(printf, 1, 2))) errorf(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------------ */
/* Files under the root                                                 */
/* ------------------------------------------------------------------ */

/* buf := root + formatted logical path */
static const char *__attribute__((format(printf, 2, 3))) rpath(char *buf, const char *fmt, ...)
{
	size_t n = strlen(root);
	va_list ap;

	memcpy(buf, root, n);
	va_start(ap, fmt);
	vsnprintf(buf + n, PATH_MAX - n, fmt, ap);
	va_end(ap);
	return buf;
}

/* read a whole file (at most max bytes) into a malloc()ed NUL-terminated buffer */
static char *slurp(const char *path, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb = cap >= max ? NULL : realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* first line of a small sysfs/proc file, trimmed; -errno if absent */
static int read_line(const char *path, char *out, size_t size)
{
	char *s = slurp(path, 4096, NULL);
	size_t n;

	if (!s)
		return -errno;
	n = strcspn(s, "\n");
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	s[n] = 0;
	snprintf(out, size, "%s", s);
	free(s);
	return 0;
}

/* basename of a symlink's target (the driver or iommu_group links of sysfs) */
static int read_link_base(const char *path, char *out, size_t size)
{
	char t[PATH_MAX];
	ssize_t n = readlink(path, t, sizeof(t) - 1);
	const char *b;

	if (n < 0)
		return -errno;
	t[n] = 0;
	b = strrchr(t, '/');
	snprintf(out, size, "%.*s", (int)size - 1, b ? b + 1 : t);
	return 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* sorted entries of a directory (no dot files); returns the count or -errno */
static int list_dir(const char *path, char ***names)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, versionsort), k = 0;

	if (n < 0)
		return -errno;
	*names = calloc(n + 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && *names)
			(*names)[k++] = strdup(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return *names ? k : -ENOMEM;
}

static void free_list(char **names)
{
	for (char **p = names; p && *p; p++)
		free(*p);
	free(names);
}

/* the kernel release: <root>/proc/sys/kernel/osrelease, else uname(2) */
static void kernel_release(char *out, size_t size)
{
	char p[PATH_MAX];
	struct utsname u;

	if (read_line(rpath(p, "/proc/sys/kernel/osrelease"), out, size) == 0 && *out)
		return;
	snprintf(out, size, "%s", uname(&u) == 0 ? u.release : "unknown");
}

/* ------------------------------------------------------------------ */
/* JSON output                                                          */
/* ------------------------------------------------------------------ */

static struct {
	int depth;
	bool first[32];
} js;

/* length of the valid UTF-8 sequence at s, 0 if invalid (overlongs are let through) */
static int utf8_len(const unsigned char *s)
{
	int n = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = *s;
		int n;

		if (c >= 0x80) { /* valid UTF-8 as is, any other byte as U+FFFD */
			n = utf8_len((const unsigned char *)s);
			if (n)
				fwrite(s, 1, n, stdout);
			else
				fputs("\\ufffd", stdout);
			s += n ? n - 1 : 0;
		} else if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", stdout);
		} else if (c == '\t') {
			fputs("\\t", stdout);
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

/* separator, indentation and "key": of the next member (key NULL in arrays) */
static void json_key(const char *key)
{
	if (js.depth > 0) {
		printf("%s\n%*s", js.first[js.depth] ? "" : ",", 2 * js.depth, "");
		js.first[js.depth] = false;
	}
	if (key) {
		json_string(key);
		fputs(": ", stdout);
	}
}

static void json_open(const char *key, char bracket)
{
	json_key(key);
	putchar(bracket);
	js.first[++js.depth] = true;
}

static void json_close(char bracket)
{
	bool empty = js.first[js.depth--];

	if (!empty)
		printf("\n%*s", 2 * js.depth, "");
	putchar(bracket);
	if (js.depth == 0)
		putchar('\n');
}

static void json_str(const char *key, const char *val)
{
	json_key(key);
	if (val)
		json_string(val);
	else
		fputs("null", stdout);
}

static void json_int(const char *key, long long v)
{
	json_key(key);
	printf("%lld", v);
}

static void json_bool(const char *key, bool v)
{
	json_key(key);
	fputs(v ? "true" : "false", stdout);
}

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

/* /proc/config.gz (the running kernel's own), else /boot/config-<release> */
static void check_config(const char *release)
{
	char p[PATH_MAX], *text = NULL;
	size_t len;
	uint8_t *gz = (uint8_t *)slurp(rpath(p, "/proc/config.gz"), 8 << 20, &len);
	struct finding *f;

	if (gz) {
		text = gunzip(gz, len, 64 << 20);
		free(gz);
		if (!text)
			add("kernel-config", L_WARN, "/proc/config.gz is not a readable gzip file");
		else
			snprintf(config_src, sizeof(config_src), "/proc/config.gz");
	}
	if (!text) {
		text = slurp(rpath(p, "/boot/config-%s", release), 8 << 20, NULL);
		if (text)
			snprintf(config_src, sizeof(config_src), "/boot/config-%s", release);
	}
	if (!text) {
		add("kernel-config", L_INFO,
		    "kernel configuration not found (no /proc/config.gz, no /boot/config-%s): options not checked",
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
#define DEMO_PIN (64ull << 10)     /* what `iommufd demo` pins */

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

static int cmd_info(bool json)
{
	char release[128];
	int nerr = 0, nwarn = 0;

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

	if (json) {
		json_open(NULL, '{');
		json_str("root", *root ? root : "/");
		json_str("release", release);
		json_bool("usable", nerr == 0);
		json_int("errors", nerr);
		json_int("warnings", nwarn);
		json_open("findings", '[');
		for (int i = 0; i < nfindings; i++) {
			json_open(NULL, '{');
			json_str("check", findings[i].check);
			json_str("level", level_name[findings[i].level]);
			json_str("message", findings[i].msg);
			json_str("fix", findings[i].fix[0] ? findings[i].fix : NULL);
			json_close('}');
		}
		json_close(']');
		json_open("config", '{');
		json_str("source", config_src[0] ? config_src : NULL);
		for (size_t i = 0; config_src[0] && i < ARRAY_SIZE(config_names); i++)
			json_str(config_names[i], config_val[i]);
		json_close('}');
		json_open("modules", '{');
		for (size_t i = 0; i < ARRAY_SIZE(module_names); i++)
			json_str(module_names[i], module_state[i]);
		json_close('}');
		json_str("cmdline", cmdline);
		json_open("memlock", '{');
		if (memlock.rlim_cur == RLIM_INFINITY)
			json_str("soft", NULL);
		else
			json_int("soft", memlock.rlim_cur);
		if (memlock.rlim_max == RLIM_INFINITY)
			json_str("hard", NULL);
		else
			json_int("hard", memlock.rlim_max);
		json_bool("cap_ipc_lock", cap_ipc_lock);
		json_close('}');
		json_open("requests", '{');
		for (int i = 0; probed && i < (int)ARRAY_SIZE(req_state); i++)
			json_bool(iommufd_request_name(IOMMUFD_REQ_DESTROY + i), req_state[i] == 1);
		json_close('}');
		json_open("flags", '{');
		for (size_t i = 0; probed && i < ARRAY_SIZE(probe_flags); i++) {
			char key[80];

			snprintf(key, sizeof(key), "%s:%s", iommufd_request_name(probe_flags[i].req),
				 probe_flags[i].name);
			json_bool(key, flag_state[i] == 1);
		}
		json_close('}');
		json_close('}');
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

/* ------------------------------------------------------------------ */
/* devices                                                              */
/* ------------------------------------------------------------------ */

struct pci_dev {
	char bdf[32], vendor[8], device[8], class[8], driver[64], group[16];
	char cdev[64];     /* "vfio0" or "" */
	bool cdev_node;    /* /dev/vfio/devices/<cdev> exists */
	bool cdev_access;  /* ... and is read/write for us */
	bool viable;       /* every device of the group is free for userspace */
	bool bindable;
	char reason[320], fix[640];
};

static bool is_vfio_driver(const char *drv)
{
	return !strncmp(drv, "vfio", 4);
}

/* drivers that do not stop a group from going to userspace */
static bool driver_ok_in_group(const char *drv)
{
	return !*drv || is_vfio_driver(drv) || !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport");
}

static void hex_attr(const char *bdf, const char *attr, char *out, size_t size)
{
	char p[PATH_MAX], v[32];

	if (read_line(rpath(p, "/sys/bus/pci/devices/%s/%s", bdf, attr), v, sizeof(v)) < 0)
		snprintf(v, sizeof(v), "?");
	snprintf(out, size, "%.*s", (int)size - 1, strncmp(v, "0x", 2) ? v : v + 2);
}

/* fill in d for the PCI device bdf */
static void pci_dev_read(struct pci_dev *d, const char *bdf)
{
	char p[PATH_MAX], **ents = NULL, other[256] = "";
	int n;

	memset(d, 0, sizeof(*d));
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	hex_attr(bdf, "vendor", d->vendor, sizeof(d->vendor));
	hex_attr(bdf, "device", d->device, sizeof(d->device));
	hex_attr(bdf, "class", d->class, sizeof(d->class));
	read_link_base(rpath(p, "/sys/bus/pci/devices/%s/driver", bdf), d->driver, sizeof(d->driver));
	read_link_base(rpath(p, "/sys/bus/pci/devices/%s/iommu_group", bdf), d->group, sizeof(d->group));

	n = list_dir(rpath(p, "/sys/bus/pci/devices/%s/vfio-dev", bdf), &ents);
	if (n > 0) {
		snprintf(d->cdev, sizeof(d->cdev), "%s", ents[0]);
		d->cdev_node = exists(rpath(p, "/dev/vfio/devices/%s", d->cdev));
		d->cdev_access = d->cdev_node && access(p, R_OK | W_OK) == 0;
	}
	free_list(ents);
	ents = NULL;

	/* viability: every device of the IOMMU group is unbound or on a userspace-safe driver */
	d->viable = d->group[0] != 0;
	n = d->group[0] ? list_dir(rpath(p, "/sys/kernel/iommu_groups/%s/devices", d->group), &ents) : 0;
	for (int i = 0; i < n; i++) {
		char drv[64] = "";

		if (!strcmp(ents[i], bdf))
			continue;
		read_link_base(rpath(p, "/sys/kernel/iommu_groups/%s/devices/%s/driver", d->group, ents[i]),
			       drv, sizeof(drv));
		if (!driver_ok_in_group(drv)) {
			d->viable = false;
			snprintf(other, sizeof(other), "%s (driver %s)", ents[i], drv);
		}
	}
	free_list(ents);

	if (!d->group[0]) {
		snprintf(d->reason, sizeof(d->reason), "no IOMMU group");
		snprintf(d->fix, sizeof(d->fix), "enable the IOMMU (firmware, intel_iommu=on); see `iommufd info`");
	} else if (!is_vfio_driver(d->driver)) {
		snprintf(d->reason, sizeof(d->reason), "driver %s, not vfio-pci", d->driver[0] ? d->driver : "none");
		if (d->driver[0])
			snprintf(d->fix, sizeof(d->fix),
				 "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; echo %s > /sys/bus/pci/drivers/%s/unbind; echo %s > /sys/bus/pci/drivers_probe",
				 bdf, bdf, d->driver, bdf);
		else
			snprintf(d->fix, sizeof(d->fix),
				 "echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; echo %s > /sys/bus/pci/drivers_probe",
				 bdf, bdf);
	} else if (!d->cdev[0]) {
		snprintf(d->reason, sizeof(d->reason), "on %s but has no VFIO cdev", d->driver);
		snprintf(d->fix, sizeof(d->fix),
			 "boot a kernel with CONFIG_VFIO_DEVICE_CDEV=y (or use the group path /dev/vfio/%s)", d->group);
	} else if (!d->cdev_node) {
		snprintf(d->reason, sizeof(d->reason), "/dev/vfio/devices/%s does not exist", d->cdev);
		snprintf(d->fix, sizeof(d->fix), "mount devtmpfs on /dev or check udev");
	} else if (!d->cdev_access) {
		snprintf(d->reason, sizeof(d->reason), "/dev/vfio/devices/%s is not read/write for uid %u", d->cdev,
			 getuid());
		snprintf(d->fix, sizeof(d->fix), "run as root or chown /dev/vfio/devices/%s to your user", d->cdev);
	} else if (!d->viable) {
		snprintf(d->reason, sizeof(d->reason), "IOMMU group %s not viable: %s", d->group, other);
		snprintf(d->fix, sizeof(d->fix), "unbind %s from its driver or hand it to vfio-pci too", other);
	} else {
		d->bindable = true;
	}
}

static int cmd_devices(bool json)
{
	char p[PATH_MAX], **names = NULL;
	int n = list_dir(rpath(p, "/sys/bus/pci/devices"), &names), nfix = 0;
	struct pci_dev d;

	if (n < 0) {
		errorf("cannot list /sys/bus/pci/devices%s%s: %s", *root ? " under " : "", root, strerror(-n));
		return EXIT_UNUSABLE;
	}
	if (json) {
		json_open(NULL, '{');
		json_str("root", *root ? root : "/");
		json_open("devices", '[');
	} else {
		printf("%-13s %-9s %-6s %-12s %-5s %-23s %s\n", "DEVICE", "ID", "CLASS", "DRIVER", "GROUP",
		       "CDEV", "BINDABLE");
	}
	for (int i = 0; i < n; i++) {
		char cdev[96];

		pci_dev_read(&d, names[i]);
		snprintf(cdev, sizeof(cdev), "/dev/vfio/devices/%s", d.cdev);
		if (json) {
			json_open(NULL, '{');
			json_str("device", d.bdf);
			json_str("vendor", d.vendor);
			json_str("device_id", d.device);
			json_str("class", d.class);
			json_str("driver", d.driver[0] ? d.driver : NULL);
			json_str("iommu_group", d.group[0] ? d.group : NULL);
			json_str("cdev", d.cdev[0] ? cdev : NULL);
			json_bool("cdev_accessible", d.cdev_access);
			json_bool("group_viable", d.viable);
			json_bool("bindable", d.bindable);
			json_str("reason", d.bindable ? NULL : d.reason);
			json_str("fix", d.bindable ? NULL : d.fix);
			json_close('}');
		} else {
			printf("%-13s %4s:%-4s %-6.6s %-12s %-5s %-23s %s%s\n", d.bdf, d.vendor, d.device, d.class,
			       d.driver[0] ? d.driver : "-", d.group[0] ? d.group : "-", d.cdev[0] ? cdev : "-",
			       d.bindable ? "yes" : "no: ", d.bindable ? "" : d.reason);
			nfix += !d.bindable && is_vfio_driver(d.driver);
		}
	}
	if (json) {
		json_close(']');
		json_close('}');
	} else if (n == 0) {
		printf("(no PCI devices)\n");
	} else {
		/* the fixes of devices meant for userspace (on vfio-*), then the general recipe */
		for (int i = 0; nfix && i < n; i++) {
			pci_dev_read(&d, names[i]);
			if (!d.bindable && is_vfio_driver(d.driver))
				printf("%s fix: %s\n", d.bdf, d.fix);
		}
		printf("\nto hand device BDF to vfio-pci (as root):\n"
		       "  echo vfio-pci > /sys/bus/pci/devices/BDF/driver_override\n"
		       "  echo BDF > /sys/bus/pci/devices/BDF/driver/unbind   # if it has a driver\n"
		       "  echo BDF > /sys/bus/pci/drivers_probe\n");
	}
	free_list(names);
	return fflush(stdout) ? EXIT_FAILED : EXIT_OK;
}

/* ------------------------------------------------------------------ */
/* demo                                                                 */
/* ------------------------------------------------------------------ */

/* QEMU's edu device: BAR0 registers and its 4 KiB buffer at device address 0x40000 */
#define EDU_IDENT 0x00
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_CMD_START 1u
#define EDU_CMD_TO_RAM 2u
#define EDU_BUF 0x40000ull
#define EDU_XFER 2048ull /* QEMU 7.2 aborts on a transfer that ends at the buffer's end */

#define EMU_BDF "0000:00:02.0"     /* the emulated edu, where QEMU puts it too */
#define DEMO_IOVA 0x100000ull     /* preferred; edu DMA addresses must be below 2^28 */
#define EDU_DMA_LIMIT (1ull << 28)
#define DEMO_PAGE 4096ull
#define DEMO_OUT (8 * DEMO_PAGE)  /* where the device writes back, inside the buffer */

struct demo {
	struct iommufd_emu *emu;
	struct iommufd_backend *be;
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
	uint32_t ioas_id, dev_id, hwpt_id, dirty_hwpt_id;
	uint64_t iova; /* of the buffer */
	uint8_t *buf;
	bool mapped;
	int step;
};

static void __attribute__((format(printf, 2, 3))) step(struct demo *d, const char *fmt, ...)
{
	va_list ap;

	printf("[%2d] ", ++d->step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* a failed step: one line on stderr with the library's reason */
static int demo_fail(const char *what, int r)
{
	const char *why = iommufd_last_error();

	errorf("demo: %s failed: %s%s%s", what, strerror(-r), *why ? ": " : "", why);
	return EXIT_FAILED;
}

static const char *state_of(struct demo *d)
{
	return iommufd_device_state_name(iommufd_device_get_state(d->dev));
}

static int edu_write64(struct demo *d, uint64_t off, uint64_t v)
{
	ssize_t r = iommufd_device_region_write(d->dev, IOMMUFD_PCI_BAR0_REGION, off, &v, sizeof(v));

	return r == sizeof(v) ? 0 : r < 0 ? (int)r : -EIO;
}

/* one edu DMA of len bytes; waits (up to 5 s) for the engine to go idle */
static int edu_dma(struct demo *d, uint64_t src, uint64_t dst, uint64_t len, bool to_ram)
{
	uint64_t cmd = EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0);
	int r;

	if ((r = edu_write64(d, EDU_DMA_SRC, src)) || (r = edu_write64(d, EDU_DMA_DST, dst)) ||
	    (r = edu_write64(d, EDU_DMA_COUNT, len)) || (r = edu_write64(d, EDU_DMA_CMD, cmd)))
		return r;
	for (int i = 0; i < 5000; i++) {
		ssize_t n = iommufd_device_region_read(d->dev, IOMMUFD_PCI_BAR0_REGION, EDU_DMA_CMD, &cmd,
						       sizeof(cmd));

		if (n != sizeof(cmd))
			return n < 0 ? (int)n : -EIO;
		if (!(cmd & EDU_CMD_START))
			return 0;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

/* open the device: an emulated edu, a cdev path, or a PCI address */
static int demo_open(struct demo *d, const char *device)
{
	char cdev[PATH_MAX];
	int r;

	if (device) {
		if (device[0] == '/') {
			r = iommufd_device_open(d->ctx, device, &d->dev);
		} else {
			r = iommufd_device_open_pci(d->ctx, device, &d->dev);
		}
		if (r < 0)
			return demo_fail("opening the device", r);
		step(d, "device: opened %s: %s", device, state_of(d));
		return 0;
	}
	/* unlike QEMU's VT-d in front of the VM's edu, this IOMMU tracks dirty pages */
	IOMMUFD_OPTS(struct iommufd_emu_device_opts, opts, .kind = IOMMUFD_EMU_DEVICE_EDU, .bdf = EMU_BDF,
		     .flags = IOMMUFD_EMU_DEVICE_DIRTY_TRACKING);
	r = iommufd_emu_add_pci_device(d->emu, &opts, cdev, sizeof(cdev));
	if (r < 0)
		return demo_fail("adding an emulated edu device", r);
	r = iommufd_device_open(d->ctx, cdev, &d->dev);
	if (r < 0)
		return demo_fail("opening the emulated device", r);
	step(d, "device: emulated edu (1234:11e8) on vfio-pci, IOMMU with dirty tracking, opened %s: %s",
	     cdev, state_of(d));
	return 0;
}

/* bind, attach to the IOAS, enable memory decoding and bus mastering */
static int demo_bind_attach(struct demo *d)
{
	uint32_t cmd = 0, ident = 0;
	int r;

	r = iommufd_device_bind(d->dev, d->ctx, NULL, &d->dev_id);
	if (r < 0)
		return demo_fail("VFIO_DEVICE_BIND_IOMMUFD", r);
	step(d, "device: bind -> %s (device object %u, DMA blocked)", state_of(d), d->dev_id);
	r = iommufd_device_attach(d->dev, d->ioas_id, &d->hwpt_id);
	if (r < 0)
		return demo_fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT", r);
	step(d, "device: attach IOAS %u -> %s (auto hardware page table %u)", d->ioas_id, state_of(d),
	     d->hwpt_id);

	r = iommufd_device_config_read(d->dev, 4, 2, &cmd);
	if (r == 0)
		r = iommufd_device_config_write(d->dev, 4, 2, cmd | 0x6); /* memory space, bus master */
	if (r < 0)
		return demo_fail("enabling bus mastering (PCI command register)", r);
	if (iommufd_device_region_read(d->dev, IOMMUFD_PCI_BAR0_REGION, EDU_IDENT, &ident, 4) != 4)
		return demo_fail("reading the edu ident register", -EIO);
	if ((ident & 0xff) != 0xed) {
		errorf("demo: the device is not an edu (ident register 0x%08x): it cannot run the DMA test",
		       ident);
		return EXIT_UNUSABLE;
	}
	step(d, "device: edu ident 0x%08x, bus mastering on", ident);
	return 0;
}

/* an IOVA for the buffer inside the usable ranges (the IOMMU's aperture) and edu's 28 bits */
static int demo_pick_iova(struct demo *d)
{
	struct iommufd_iova_range *ranges = NULL;
	uint64_t align = DEMO_PAGE;
	size_t n = 0;
	int r = iommufd_ioas_iova_ranges(d->ctx, d->ioas_id, &ranges, &n, &align);

	if (r < 0)
		return demo_fail("IOMMU_IOAS_IOVA_RANGES", r);
	if (align < DEMO_PAGE)
		align = DEMO_PAGE;
	d->iova = 0;
	for (size_t i = 0; i < n && !d->iova; i++) {
		uint64_t start = ranges[i].start > DEMO_IOVA ? ranges[i].start : DEMO_IOVA;

		start = (start + align - 1) & ~(align - 1);
		if (start + DEMO_PIN - 1 <= ranges[i].last && start + DEMO_PIN <= EDU_DMA_LIMIT)
			d->iova = start;
	}
	free(ranges);
	if (!d->iova) {
		errorf("demo: no usable IOVA range below 2^28 for the device's DMA");
		return EXIT_FAILED;
	}
	return 0;
}

/* RAM -> device buffer -> RAM at another IOVA, then compare */
static int demo_dma(struct demo *d)
{
	uint64_t faults = 0;
	int r;

	for (size_t i = 0; i < EDU_XFER; i++)
		d->buf[i] = (uint8_t)(i * 7 + 0x5a);
	memset(d->buf + DEMO_OUT, 0, EDU_XFER);
	r = edu_dma(d, d->iova, EDU_BUF, EDU_XFER, false);
	if (r == 0)
		r = edu_dma(d, EDU_BUF, d->iova + DEMO_OUT, EDU_XFER, true);
	if (r < 0)
		return demo_fail("edu DMA", r);
	step(d, "dma: device read %llu bytes at iova 0x%llx, wrote them back at iova 0x%llx", EDU_XFER,
	     (unsigned long long)d->iova, (unsigned long long)(d->iova + DEMO_OUT));
	if (memcmp(d->buf, d->buf + DEMO_OUT, EDU_XFER)) {
		if (d->emu)
			iommufd_emu_device_get_dma_faults(d->emu, EMU_BDF, &faults, NULL);
		errorf("demo: dma check FAILED: the bytes the device wrote do not match (%llu IOMMU fault(s))",
		       (unsigned long long)faults);
		return EXIT_FAILED;
	}
	step(d, "dma check: OK, the %llu bytes written by the device through the IOMMU match",
	     EDU_XFER);
	return 0;
}

/* the dirty pages of the buffer as " 0xIOVA+N" runs (or " none") */
static void dirty_runs(struct demo *d, const uint64_t *bitmap, char *out, size_t len)
{
	uint64_t pos = 0, start, count;
	size_t n = 0;

	out[0] = '\0';
	while (iommufd_bitmap_next_run(bitmap, DEMO_PIN / DEMO_PAGE, &pos, &start, &count) == 1 &&
	       n < len)
		n += (size_t)snprintf(out + n, len - n, " 0x%llx+%llu",
				      (unsigned long long)(d->iova + start * DEMO_PAGE),
				      (unsigned long long)count);
	if (!out[0])
		snprintf(out, len, " none");
}

/*
 * A dirty-tracking HWPT replaces the auto one; the device reads one page and
 * writes across two others: the bitmap must show exactly the two it wrote.
 */
static int demo_dirty(struct demo *d)
{
	IOMMUFD_OPTS(struct iommufd_hwpt_alloc_opts, opts, .flags = IOMMUFD_HWPT_DIRTY_TRACKING);
	/* a write straddling pages 9 and 10 of the buffer, a read of page 0 */
	const uint64_t dst = DEMO_OUT + DEMO_PAGE + DEMO_PAGE - EDU_XFER / 2;
	const uint64_t first = dst / DEMO_PAGE, last = (dst + EDU_XFER - 1) / DEMO_PAGE;
	uint64_t bitmap[1] = { 0 }, expect = 0;
	IOMMUFD_OPTS(struct iommufd_hw_info, hw);
	char runs[256];
	int r;

	r = iommufd_get_hw_info(d->ctx, d->dev_id, IOMMUFD_HW_INFO_NONE, &hw);
	if (r == 0 && !(hw.capabilities & IOMMUFD_HW_CAP_DIRTY_TRACKING)) {
		step(d, "dirty tracking: skipped: the IOMMU has no dirty tracking (GET_HW_INFO type 0x%x, capabilities 0x%llx)",
		     hw.type, (unsigned long long)hw.capabilities);
		return 0;
	}
	r = iommufd_hwpt_alloc(d->ctx, d->dev_id, d->ioas_id, &opts, &d->dirty_hwpt_id);
	if (r == -EOPNOTSUPP) {
		step(d, "dirty tracking: skipped: the IOMMU has no dirty tracking (IOMMU_HWPT_ALLOC: %s)",
		     strerror(-r));
		return 0;
	}
	if (r < 0)
		return demo_fail("IOMMU_HWPT_ALLOC with DIRTY_TRACKING", r);
	step(d, "dirty tracking: the IOMMU tracks dirty pages; hardware page table %u allocated with DIRTY_TRACKING",
	     d->dirty_hwpt_id);
	r = iommufd_device_attach(d->dev, d->dirty_hwpt_id, NULL);
	if (r < 0)
		return demo_fail("replacing the domain with the dirty-tracking one", r);
	step(d, "dirty tracking: device moved to hardware page table %u -> %s", d->dirty_hwpt_id,
	     state_of(d));
	r = iommufd_hwpt_set_dirty_tracking(d->ctx, d->dirty_hwpt_id, true);
	if (r < 0)
		return demo_fail("IOMMU_HWPT_SET_DIRTY_TRACKING (enable)", r);
	/* read and clear anything already dirty: the round starts clean */
	r = iommufd_hwpt_get_dirty_bitmap(d->ctx, d->dirty_hwpt_id, d->iova, DEMO_PIN, DEMO_PAGE,
					  bitmap, 0);
	if (r < 0)
		return demo_fail("IOMMU_HWPT_GET_DIRTY_BITMAP", r);
	dirty_runs(d, bitmap, runs, sizeof(runs));
	step(d, "dirty tracking: on; dirty pages before any DMA:%s", runs);

	memset(d->buf + dst, 0, EDU_XFER);
	r = edu_dma(d, d->iova, EDU_BUF, EDU_XFER, false);
	if (r == 0)
		r = edu_dma(d, EDU_BUF, d->iova + dst, EDU_XFER, true);
	if (r < 0)
		return demo_fail("edu DMA", r);
	step(d, "dirty tracking: device read %llu bytes at iova 0x%llx, wrote them at iova 0x%llx (buffer pages %llu-%llu)",
	     EDU_XFER, (unsigned long long)d->iova, (unsigned long long)(d->iova + dst),
	     (unsigned long long)first, (unsigned long long)last);
	bitmap[0] = 0;
	r = iommufd_hwpt_get_dirty_bitmap(d->ctx, d->dirty_hwpt_id, d->iova, DEMO_PIN, DEMO_PAGE,
					  bitmap, 0);
	if (r < 0)
		return demo_fail("IOMMU_HWPT_GET_DIRTY_BITMAP", r);
	dirty_runs(d, bitmap, runs, sizeof(runs));
	step(d, "dirty tracking: bitmap of the %llu pages (read and cleared): dirty pages:%s",
	     DEMO_PIN / DEMO_PAGE, runs);
	for (uint64_t p = first; p <= last; p++)
		expect |= 1ull << p;
	if (bitmap[0] != expect || memcmp(d->buf + dst, d->buf, EDU_XFER)) {
		errorf("demo: dirty check FAILED: dirty bitmap 0x%llx, the device wrote pages %llu-%llu (0x%llx)%s",
		       (unsigned long long)bitmap[0], (unsigned long long)first,
		       (unsigned long long)last, (unsigned long long)expect,
		       memcmp(d->buf + dst, d->buf, EDU_XFER) ? ", and its bytes do not match" : "");
		return EXIT_FAILED;
	}
	step(d, "dirty check: OK, exactly the %llu page(s) the device wrote are dirty, not the one it read",
	     (unsigned long long)(last - first + 1));
	r = iommufd_hwpt_set_dirty_tracking(d->ctx, d->dirty_hwpt_id, false);
	if (r < 0)
		return demo_fail("IOMMU_HWPT_SET_DIRTY_TRACKING (disable)", r);
	step(d, "dirty tracking: off");
	r = iommufd_device_attach(d->dev, d->ioas_id, &d->hwpt_id);
	if (r < 0)
		return demo_fail("attaching back to the IOAS", r);
	step(d, "dirty tracking: device back on IOAS %u (auto hardware page table %u) -> %s", d->ioas_id,
	     d->hwpt_id, state_of(d));
	return 0;
}

static int demo_run(struct demo *d, const char *device)
{
	int r;

	if (device) {
		d->be = NULL; /* the running kernel */
		printf("backend: the kernel (/dev/iommu), device %s\n", device);
	} else {
		r = iommufd_emu_new(&d->emu);
		if (r < 0)
			return demo_fail("creating the emulator", r);
		d->be = iommufd_emu_get_backend(d->emu);
		printf("backend: the emulator (an in-process model of the kernel; --device BDF for a real one)\n");
	}
	r = iommufd_ctx_new_opts(&(struct iommufd_ctx_opts){ .sz = sizeof(struct iommufd_ctx_opts), .backend = d->be }, &d->ctx);
	if (r < 0)
		return device ? (demo_fail("opening /dev/iommu", r), EXIT_UNUSABLE) : demo_fail("iommufd_ctx_new", r);
	step(d, "context: /dev/iommu open (fd %d)", iommufd_ctx_get_fd(d->ctx));
	r = iommufd_ioas_alloc(d->ctx, &d->ioas_id);
	if (r < 0)
		return demo_fail("IOMMU_IOAS_ALLOC", r);
	step(d, "ioas: I/O address space %u allocated", d->ioas_id);
	if ((r = demo_open(d, device)) || (r = demo_bind_attach(d)))
		return r;

	d->buf = mmap(NULL, DEMO_PIN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->buf == MAP_FAILED) {
		d->buf = NULL;
		return demo_fail("mmap of the buffer", -errno);
	}
	memset(d->buf, 0, DEMO_PIN);
	if ((r = demo_pick_iova(d)))
		return r;
	r = iommufd_ioas_map(d->ctx, d->ioas_id, d->buf, DEMO_PIN, &d->iova,
			     IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE);
	if (r < 0)
		return demo_fail(r == -ENOMEM ? "IOMMU_IOAS_MAP (memlock limit? see `iommufd info`)" : "IOMMU_IOAS_MAP", r);
	d->mapped = true;
	step(d, "map: %llu KiB buffer at %p -> iova 0x%llx (read/write, pinned)",
	     DEMO_PIN >> 10, (void *)d->buf, (unsigned long long)d->iova);
	if ((r = demo_dma(d)) || (r = demo_dirty(d)))
		return r;
	return 0;
}

/* teardown in reverse order, each step checked */
static int demo_teardown(struct demo *d, int rc)
{
	uint64_t unmapped = 0;
	int r;

	if (d->dev && iommufd_device_get_state(d->dev) == IOMMUFD_DEVICE_ATTACHED) {
		r = iommufd_device_detach(d->dev);
		if (r < 0)
			rc = rc ?: demo_fail("VFIO_DEVICE_DETACH_IOMMUFD_PT", r);
		else
			step(d, "teardown: detach -> %s", state_of(d));
	}
	if (d->dev) {
		iommufd_device_unref(d->dev);
		step(d, "teardown: device closed (unbound)");
	}
	if (d->dirty_hwpt_id) {
		r = iommufd_destroy(d->ctx, d->dirty_hwpt_id);
		if (r < 0)
			rc = rc ?: demo_fail("IOMMU_DESTROY of the dirty-tracking page table", r);
		else
			step(d, "teardown: dirty-tracking page table %u destroyed", d->dirty_hwpt_id);
	}
	if (d->mapped) {
		r = iommufd_ioas_unmap_all(d->ctx, d->ioas_id, &unmapped);
		if (r < 0)
			rc = rc ?: demo_fail("IOMMU_IOAS_UNMAP", r);
		else
			step(d, "teardown: unmapped %llu KiB", (unsigned long long)unmapped >> 10);
	}
	if (d->ioas_id) {
		r = iommufd_destroy(d->ctx, d->ioas_id);
		if (r < 0)
			rc = rc ?: demo_fail("IOMMU_DESTROY of the IOAS", r);
		else
			step(d, "teardown: IOAS %u destroyed", d->ioas_id);
	}
	if (d->ctx) {
		iommufd_ctx_unref(d->ctx);
		step(d, "teardown: context closed");
	}
	if (d->buf)
		munmap(d->buf, DEMO_PIN);
	if (d->emu)
		iommufd_emu_unref(d->emu);
	printf("demo: %s\n", rc ? "FAILED" : "done");
	return rc;
}

static int cmd_demo(const char *device)
{
	struct demo d = { 0 };

	return demo_teardown(&d, demo_run(&d, device));
}

/* ------------------------------------------------------------------ */
/* command line                                                         */
/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s COMMAND [OPTIONS]\n"
		"Is iommufd usable here, which devices can use it, and the library at work.\n"
		"\n"
		"Commands:\n"
		"  info     check /dev/iommu, VFIO nodes, kernel config, modules, IOMMU hardware,\n"
		"           interrupt remapping, command line, memlock limit and the requests the\n"
		"           kernel supports; each problem with its fix\n"
		"  devices  PCI devices with driver, IOMMU group, VFIO cdev, and whether they can be bound\n"
		"  demo     context, IOAS, device bind/attach, map, DMA and its check, dirty tracking,\n"
		"           teardown: on an emulated edu device, or on a real one with --device\n"
		"\n"
		"Options:\n"
		"  --json           machine-readable output (info, devices)\n"
		"  --root DIR       read /dev, /sys, /proc, /boot, /lib/modules under DIR (info,\n"
		"                   devices; default: $IOMMUFD_ROOT, else /)\n"
		"  --device DEV     demo: a PCI address (0000:00:02.0) or cdev path on vfio-pci\n"
		"  -h, --help       this help\n"
		"  --version        the version\n"
		"\n"
		"Exit status: 0 success (info: iommufd usable); 1 an operation failed;\n"
		"2 usage error; 3 info: iommufd not usable here, devices: no sysfs, demo: the device\n"
		"or /dev/iommu is not usable.\n",
		prog);
}

int main(int argc, char **argv)
{
	enum { OPT_ROOT = 256, OPT_DEVICE, OPT_VERSION };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	const char *cmd, *root_arg = secure_getenv("IOMMUFD_ROOT"), *device = NULL;
	bool json = false, root_given = false;
	int c;

	if (argc < 2) {
		errorf("missing command (info, devices or demo); try --help");
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "--version")) {
		printf("%s %s\n", prog, IOMMUFD_VERSION);
		return EXIT_OK;
	}
	if (strcmp(cmd, "info") && strcmp(cmd, "devices") && strcmp(cmd, "demo")) {
		errorf("unknown command '%s' (info, devices or demo); try --help", cmd);
		return EXIT_USAGE;
	}
	opterr = 0;
	optind = 2;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case OPT_ROOT:
			root_arg = optarg;
			root_given = true;
			break;
		case OPT_DEVICE:
			device = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case OPT_VERSION:
			printf("%s %s\n", prog, IOMMUFD_VERSION);
			return EXIT_OK;
		default:
			errorf("%s: unknown option or missing argument: %s; try --help", cmd, argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		errorf("%s: unexpected argument '%s'; try --help", cmd, argv[optind]);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "demo") ? device != NULL : json || root_given) {
		errorf("%s: option %s is not for this command; try --help", cmd,
		       device ? "--device" : json ? "--json" : "--root");
		return EXIT_USAGE;
	}
	if (device && !*device) {
		errorf("demo: --device needs a PCI address or a cdev path");
		return EXIT_USAGE;
	}
	if (root_arg && *root_arg && strcmp(cmd, "demo")) {
		char *r = realpath(root_arg, NULL);

		if (!r || !is_dir(r) || strlen(r) > PATH_MAX / 2) {
			errorf("--root %s: not a directory", root_arg);
			free(r);
			return EXIT_USAGE;
		}
		snprintf(root, sizeof(root), "%s", strcmp(r, "/") ? r : "");
		free(r);
	}
	if (!strcmp(cmd, "info"))
		return cmd_info(json);
	if (!strcmp(cmd, "devices"))
		return cmd_devices(json);
	return cmd_demo(device);
}
