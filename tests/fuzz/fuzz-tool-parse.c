// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: the iommufd command's parsers of --root trees
 * (tools/parse.c) and its JSON writer (tools/json.c). The first byte picks:
 *   0  kernel config text (parse_config)
 *   1  a libkmod binary index (kmod_index_check); one it accepts goes to
 *      libkmod itself (a module lookup and an alias search on it), which must
 *      not crash: the check is what stands between a tree and libkmod
 *   2  sysfs/proc values: first_line, valid_component, tty_safe,
 *      text_index_has, cmdline_has
 *   3  the JSON writer: the input as keys and values of nested objects; the
 *      output must be JSON in well-formed UTF-8 (checked here, strictly)
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libkmod.h>

#include "json.h"
#include "parse.h"
#include "json-check.h"


/* ---------------------------------------------------------------- the modes */

static void fuzz_config(const char *text)
{
	static const char *const names[] = { "CONFIG_IOMMUFD", "CONFIG_VFIO", "CONFIG_VFIO_DEVICE_CDEV" };
	char vals[3][16];

	parse_config(text, names, 3, vals);
	for (int i = 0; i < 3; i++)
		assert(memchr(vals[i], 0, sizeof(vals[i])));
}

/* an index the check accepts, handed to libkmod as modules.dep.bin and modules.alias.bin */
static void fuzz_kmod(const uint8_t *data, size_t size)
{
	static char dir[64];
	static const char *const no_config[] = { NULL };
	static const char *const files[] = { "modules.dep.bin", "modules.alias.bin" };
	char why[96], p[128];
	struct kmod_ctx *ctx;
	struct kmod_list *list = NULL, *l;
	struct kmod_module *mod = NULL;

	if (kmod_index_check(data, size, why, sizeof(why)) < 0)
		return;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz-tool-parse.XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	for (size_t i = 0; i < 2; i++) {
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		f = fopen(p, "wb");
		if (!f || fwrite(data, 1, size, f) != size || fclose(f))
			abort();
	}
	ctx = kmod_new(dir, no_config);
	if (!ctx)
		return;
	kmod_set_log_priority(ctx, 0);
	kmod_load_resources(ctx);
	if (kmod_module_new_from_name_lookup(ctx, "vfio_pci", &mod) == 0 && mod) {
		(void)kmod_module_get_path(mod);
		kmod_module_unref(mod);
	}
	if (kmod_module_new_from_lookup(ctx, "pci:v00001234d000011E8sv*", &list) == 0) {
		kmod_list_foreach(l, list)
			(void)kmod_module_get_name(kmod_module_get_module(l));
		kmod_module_unref_list(list);
	}
	kmod_unref(ctx);
}

static void fuzz_values(const char *text, size_t size)
{
	char line[256];

	if (first_line(text, size, line, sizeof(line)) == 0) {
		assert(strlen(line) < sizeof(line));
		if (valid_component(line, strlen(line)))
			assert(!strchr(line, '/') && strcmp(line, ".") && strcmp(line, "..") && *line);
		tty_safe(line);
		for (const char *c = line; *c; c++)
			assert((unsigned char)*c >= 0x20 && *c != 0x7f);
	}
	(void)text_index_has(text, "vfio_pci");
	(void)cmdline_has(text, "intel_iommu=on");
	(void)cmdline_has(text, "iommu.passthrough=");
}

static void fuzz_json(const char *text, size_t size)
{
	char *out = NULL;
	size_t len = 0, half = strnlen(text, size) / 2;
	char *key = strndup(text, half);
	struct json j;
	FILE *f = open_memstream(&out, &len);

	if (!f || !key)
		abort();
	json_init(&j, f);
	json_open(&j, NULL, '{');
	json_str(&j, key, text + half);
	json_open(&j, text, '[');
	json_str(&j, NULL, key);
	json_int(&j, NULL, (long long)size);
	json_close(&j, ']');
	json_open(&j, key, '{');
	json_bool(&j, text + half, size & 1);
	json_str(&j, "", NULL);
	json_close(&j, '}');
	json_close(&j, '}');
	fclose(f);
	if (!json_check(out)) {
		fprintf(stderr, "not valid JSON:\n%s\n", out);
		abort();
	}
	free(out);
	free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	uint8_t mode;

	if (size < 1 || size > (1 << 20))
		return 0;
	mode = data[0] % 4;
	data++;
	size--;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	switch (mode) {
	case 0:
		fuzz_config(text);
		break;
	case 1:
		fuzz_kmod(data, size);
		break;
	case 2:
		fuzz_values(text, size);
		break;
	case 3:
		fuzz_json(text, size);
		break;
	}
	free(text);
	return 0;
}
