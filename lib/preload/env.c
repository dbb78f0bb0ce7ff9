// SPDX-License-Identifier: LGPL-2.1-or-later
/* The preload library's environment, parsed: see env.h */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iommufd-emu.h"
#include "preload/env.h"

#define SEPARATORS ", "

int preload_parse_config(const char *s, uint32_t *flags, const char **bad, size_t *badlen)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} words[] = {
		{ "no-iommufd", IOMMUFD_EMU_CONFIG_NO_IOMMUFD },
		{ "container-compat", IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT },
	};

	*flags = 0;
	for (const char *p = s ? s : ""; *p;) {
		size_t n = strcspn(p, SEPARATORS);
		size_t i;

		for (i = 0; n && i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].name) == n && strncmp(p, words[i].name, n) == 0)
				break;
		if (n && i == sizeof(words) / sizeof(words[0])) {
			if (bad) {
				*bad = p;
				*badlen = n;
			}
			return -EINVAL;
		}
		if (n)
			*flags |= words[i].flag;
		p += n;
		p += strspn(p, SEPARATORS);
	}
	return 0;
}

static const struct {
	const char *name;
	uint32_t kind;
} dev_kinds[] = {
	{ "edu", IOMMUFD_EMU_DEVICE_EDU },
	{ "nvme", IOMMUFD_EMU_DEVICE_NVME },
	{ "generic", IOMMUFD_EMU_DEVICE_GENERIC },
};

static const struct {
	const char *name;
	uint32_t flag;
} dev_options[] = {
	{ "pasid", IOMMUFD_EMU_DEVICE_PASID },
	{ "dirty-tracking", IOMMUFD_EMU_DEVICE_DIRTY_TRACKING },
	{ "no-namespace", IOMMUFD_EMU_DEVICE_NVME_NO_NAMESPACE },
	{ "nesting", IOMMUFD_EMU_DEVICE_NESTING },
	{ "msix-sparse", IOMMUFD_EMU_DEVICE_MSIX_SPARSE },
	{ "migration", IOMMUFD_EMU_DEVICE_MIGRATION },
	{ "stop-copy-only", IOMMUFD_EMU_DEVICE_MIGRATION_STOP_COPY_ONLY },
	{ "noiommu", IOMMUFD_EMU_DEVICE_NOIOMMU },
	{ "sriov", IOMMUFD_EMU_DEVICE_SRIOV },
};
#define DEV_OPTION_NAMES "pasid, dirty-tracking, no-namespace, nesting, msix-sparse, migration, stop-copy-only, noiommu, sriov"

/* a group number: decimal digits only, 0..INT_MAX */
static int parse_group(const char *s, int *out)
{
	long v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

/* one entry, cut in place: 0 and *d, or -EINVAL and why */
static int parse_entry(char *tok, const char *whole, struct preload_dev_spec *d, char *why,
		       size_t whylen)
{
	char *at = strchr(tok, '@'), *hash = strchr(tok, '#');
	size_t i;

	*d = (struct preload_dev_spec){ .tok = whole };
	if (at && strchr(at + 1, '@')) {
		snprintf(why, whylen, "\"%s\": more than one '@'", whole);
		return -EINVAL;
	}
	if (hash && strchr(hash + 1, '#')) {
		snprintf(why, whylen, "\"%s\": more than one '#'", whole);
		return -EINVAL;
	}
	if (hash)
		*hash = '\0';
	if (at)
		*at = '\0';
	if (hash && parse_group(hash + 1, &d->group)) {
		snprintf(why, whylen, "\"%s\": the group after '#' is not a number 0..%d", whole,
			 INT_MAX);
		return -EINVAL;
	}
	if (at) {
		if (!at[1]) {
			snprintf(why, whylen, "\"%s\": no PCI address after '@'", whole);
			return -EINVAL;
		}
		d->bdf = at + 1;
	}
	/* options after the kind */
	for (char *plus; (plus = strrchr(tok, '+'));) {
		for (i = 0; i < sizeof(dev_options) / sizeof(dev_options[0]); i++)
			if (strcmp(plus + 1, dev_options[i].name) == 0)
				break;
		if (i == sizeof(dev_options) / sizeof(dev_options[0])) {
			snprintf(why, whylen, "\"%s\": unknown device option \"%s\" (" DEV_OPTION_NAMES ")",
				 whole, plus + 1);
			return -EINVAL;
		}
		d->flags |= dev_options[i].flag;
		*plus = '\0';
	}
	for (i = 0; i < sizeof(dev_kinds) / sizeof(dev_kinds[0]); i++)
		if (strcmp(tok, dev_kinds[i].name) == 0)
			d->kind = dev_kinds[i].kind;
	if (!d->kind) {
		snprintf(why, whylen, "unknown device kind \"%s\" (edu, nvme, generic)", tok);
		return -EINVAL;
	}
	return 0;
}

int preload_parse_devices(const char *s, int (*fn)(void *data, const struct preload_dev_spec *d),
			  void *data, char *why, size_t whylen)
{
	char *copy, *whole, *save = NULL;
	int n = 0, r = 0;
	size_t len;

	if (!s || !*s)
		return 0;
	len = strlen(s) + 1;
	/* the entries cut in place, and each whole for messages */
	copy = malloc(2 * len);
	if (!copy) {
		snprintf(why, whylen, "no memory");
		return -ENOMEM;
	}
	memcpy(copy, s, len);
	whole = copy + len;
	for (char *tok = strtok_r(copy, SEPARATORS, &save); tok;
	     tok = strtok_r(NULL, SEPARATORS, &save)) {
		struct preload_dev_spec d;

		memcpy(whole, tok, strlen(tok) + 1);
		r = parse_entry(tok, whole, &d, why, whylen);
		if (r)
			break;
		r = fn(data, &d);
		if (r < 0)
			break;
		if (n == INT_MAX) {
			snprintf(why, whylen, "too many devices");
			r = -EINVAL;
			break;
		}
		n++;
		r = 0;
	}
	free(copy);
	return r < 0 ? r : n;
}
