// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The debugfs stand-in: /sys/kernel/debug holding the fault-injection knobs
 * (failslab/, fail_page_alloc/, ...), so that programs configuring debugfs
 * fault injection (the kernel's iommufd_fail_nth selftest) find it. In
 * memory: each open gets a copy of the knob's value to write into, thrown
 * away at close (the emulator's fault injection is the fail-nth knob).
 */
#include "preload.h"

static const char *const knobs[] = { "failslab", "fail_page_alloc", "fail_usercopy",
				     "fail_iommufd" };

bool debugfs_enabled(void)
{
	const char *e = getenv("IOMMUFD_PRELOAD_DEBUGFS");

	return !e || strcmp(e, "0") != 0;
}

/* the knob directory rel names (its first component), -1 if none */
static int knob_of(const char *rel, size_t *len)
{
	size_t n = strcspn(rel, "/");

	for (size_t i = 0; i < ARRAY_SIZE(knobs); i++) {
		if (strlen(knobs[i]) == n && strncmp(rel, knobs[i], n) == 0) {
			*len = n;
			return (int)i;
		}
	}
	return -1;
}

/* the value of file name in knob directory k, NULL if it has none */
static const char *knob_file(int k, const char *name)
{
	if (strcmp(name, "verbose") == 0)
		return "2\n";
	if (strcmp(name, "ignore-gfp-wait") == 0)
		return "Y\n";
	if (strcmp(name, "ignore-gfp-highmem") == 0 && strcmp(knobs[k], "fail_page_alloc") == 0)
		return "Y\n";
	return NULL;
}

/* rel: normalised, relative to /sys/kernel/debug ("" the root) */
int debugfs_lookup(const char *rel, enum emu_sysfs_type *type)
{
	size_t n;
	int k;

	if (!*rel) {
		*type = EMU_SYSFS_DIR;
		return 0;
	}
	k = knob_of(rel, &n);
	if (k < 0)
		return -ENOENT;
	if (!rel[n]) {
		*type = EMU_SYSFS_DIR;
		return 0;
	}
	if (strchr(rel + n + 1, '/') || !knob_file(k, rel + n + 1))
		return -ENOENT;
	*type = EMU_SYSFS_FILE;
	return 0;
}

ssize_t debugfs_read(const char *rel, char *buf, size_t len)
{
	enum emu_sysfs_type t;
	const char *v;
	size_t n;
	int k;

	if (debugfs_lookup(rel, &t) < 0)
		return -ENOENT;
	if (t != EMU_SYSFS_FILE)
		return -EISDIR;
	k = knob_of(rel, &n);
	v = knob_file(k, rel + n + 1);
	n = strlen(v) < len ? strlen(v) : len;
	memcpy(buf, v, n);
	return (ssize_t)n;
}

int debugfs_list(const char *rel, int (*fn)(void *data, const char *name, enum emu_sysfs_type t),
		 void *data)
{
	static const char *const files[] = { "verbose", "ignore-gfp-wait", "ignore-gfp-highmem" };
	enum emu_sysfs_type t;
	size_t n;
	int k, r;

	if (debugfs_lookup(rel, &t) < 0)
		return -ENOENT;
	if (t != EMU_SYSFS_DIR)
		return -ENOTDIR;
	if (!*rel) {
		for (size_t i = 0; i < ARRAY_SIZE(knobs); i++)
			if ((r = fn(data, knobs[i], EMU_SYSFS_DIR)))
				return r;
		return 0;
	}
	k = knob_of(rel, &n);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		if (knob_file(k, files[i]) && (r = fn(data, files[i], EMU_SYSFS_FILE)))
			return r;
	return 0;
}
