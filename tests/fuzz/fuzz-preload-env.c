// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: what the preload library (lib/preload) and the emulator
 * it starts parse from the environment, as pure functions of the string:
 *
 *   first byte % 3 == 0: IOMMUFD_EMU_CONFIG  (preload_parse_config, lib/preload/env.c)
 *                     1: IOMMUFD_EMU_DEVICES (preload_parse_devices, lib/preload/env.c)
 *                     2: IOMMUFD_EMU_NVME_SIZE (nvme_parse_size, lib/emu/nvme.c)
 *
 * the rest of the input being the variable's value (up to its first NUL).
 * Beyond memory errors, each result is checked against a plain reference
 * reading of the same grammar (words split at commas and spaces; sizes in
 * exact arithmetic), so a value the parser accepts wrongly or refuses
 * wrongly is a crash too. For devices, the second byte says after how many
 * entries the callback refuses (0: never), which must stop the parse there.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommufd-emu.h>

#include "emu/vfio.h" /* nvme_parse_size() */
#include "preload/env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP ", "

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "fuzz-preload-env: %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                                  \
			abort();                                                         \
		}                                                                        \
	} while (0)

/* the reference: the flag of a config word, 0 if unknown */
static uint32_t config_word(const char *w, size_t n)
{
	if (n == strlen("no-iommufd") && !strncmp(w, "no-iommufd", n))
		return IOMMUFD_EMU_CONFIG_NO_IOMMUFD;
	if (n == strlen("container-compat") && !strncmp(w, "container-compat", n))
		return IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT;
	return 0;
}

static void check_config(const char *s)
{
	const char *bad = NULL, *first_bad = NULL;
	size_t badlen = 0, first_len = 0;
	uint32_t flags = 0xdead, want = 0;
	int r = preload_parse_config(s, &flags, &bad, &badlen);

	for (const char *p = s; *p;) {
		size_t n = strcspn(p, SEP);

		if (n) {
			uint32_t f = config_word(p, n);

			if (!f && !first_bad) {
				first_bad = p;
				first_len = n;
			}
			want |= f;
		}
		p += n;
		p += strspn(p, SEP);
	}
	if (first_bad) {
		CHECK(r == -EINVAL);
		CHECK(bad == first_bad && badlen == first_len);
	} else {
		CHECK(r == 0);
		CHECK(flags == want);
	}
	/* a NULL bad pointer is allowed, the result the same */
	CHECK(preload_parse_config(s, &flags, NULL, NULL) == r);
}

struct devs {
	unsigned int calls;
	unsigned int refuse_at; /* the callback's nth call fails (1-based), 0: never */
	const char *s;
};

static int on_dev(void *data, const struct preload_dev_spec *d)
{
	struct devs *v = data;

	v->calls++;
	CHECK(d->kind >= IOMMUFD_EMU_DEVICE_EDU && d->kind <= IOMMUFD_EMU_DEVICE_GENERIC);
	CHECK(d->group >= 0);
	CHECK(!(d->flags & ~(IOMMUFD_EMU_DEVICE_PASID | IOMMUFD_EMU_DEVICE_DIRTY_TRACKING |
			     IOMMUFD_EMU_DEVICE_NVME_NO_NAMESPACE | IOMMUFD_EMU_DEVICE_NESTING |
			     IOMMUFD_EMU_DEVICE_MSIX_SPARSE | IOMMUFD_EMU_DEVICE_MIGRATION |
			     IOMMUFD_EMU_DEVICE_MIGRATION_STOP_COPY_ONLY)));
	CHECK(!d->flags || strchr(d->tok, '+'));
	CHECK(d->tok && *d->tok && strcspn(d->tok, SEP) == strlen(d->tok));
	/* the entry is one of the string's words */
	CHECK(strstr(v->s, d->tok));
	if (d->bdf) {
		CHECK(*d->bdf && strcspn(d->bdf, SEP "@#") == strlen(d->bdf));
		CHECK(strstr(d->tok, d->bdf));
	}
	return v->calls == v->refuse_at ? -EXDEV : 0;
}

/* the reference: does the entry w (n bytes) name a device? */
static bool dev_entry_ok(const char *w, size_t n)
{
	char *e = strndup(w, n), *at, *hash;
	bool ok = false;
	long g = 0;

	if (!e)
		abort();
	at = strchr(e, '@');
	hash = strchr(e, '#');
	if ((at && strchr(at + 1, '@')) || (hash && strchr(hash + 1, '#')))
		goto out;
	/* "@bdf" and "#group" end at each other, in either order */
	if (hash)
		*hash = 0;
	if (at)
		*at = 0;
	if (hash) {
		if (!hash[1])
			goto out;
		for (const char *p = hash + 1; *p; p++) {
			if (*p < '0' || *p > '9')
				goto out;
			g = g * 10 + (*p - '0');
			if (g > INT_MAX)
				goto out;
		}
	}
	if (at && !at[1])
		goto out;
	/* "+option"s after the kind */
	for (char *plus; (plus = strrchr(e, '+'));) {
		static const char *const names[] = { "pasid", "dirty-tracking", "no-namespace", "nesting",
						     "msix-sparse", "migration", "stop-copy-only", "noiommu",
						     "sriov" };
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]) && strcmp(plus + 1, names[i]); i++)
			;
		if (i == sizeof(names) / sizeof(names[0]))
			goto out;
		*plus = 0;
	}
	ok = !strcmp(e, "edu") || !strcmp(e, "nvme") || !strcmp(e, "generic");
out:
	free(e);
	return ok;
}

static void check_devices(const char *s, uint8_t refuse_at)
{
	struct devs v = { .refuse_at = refuse_at, .s = s };
	unsigned int ok = 0, total = 0;
	bool all_ok = true;
	char why[128] = "";
	int r = preload_parse_devices(s, on_dev, &v, why, sizeof(why));

	/* the reference: entries up to the first bad one */
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, SEP);

		if (n) {
			total++;
			if (all_ok && dev_entry_ok(p, n))
				ok++;
			else
				all_ok = false;
		}
		p += n;
		p += strspn(p, SEP);
	}
	if (refuse_at && refuse_at <= ok) {
		CHECK(r == -EXDEV);
		CHECK(v.calls == refuse_at);
	} else if (!all_ok) {
		CHECK(r == -EINVAL);
		CHECK(v.calls == ok);
		CHECK(why[0]);
	} else {
		CHECK(r >= 0 && (unsigned int)r == total);
		CHECK(v.calls == total);
	}
}

static void check_size(const char *s)
{
	uint64_t got = nvme_parse_size(s), want = 0;
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (*s) {
		errno = 0;
		v = strtoull(s, &end, 0);
		switch (*end) {
		case 'k': case 'K':
			shift = 10;
			end++;
			break;
		case 'm': case 'M':
			shift = 20;
			end++;
			break;
		case 'g': case 'G':
			shift = 30;
			end++;
			break;
		}
		/* exact: a value that does not fit is refused, never wrapped */
		if (!*end && errno != ERANGE && v <= (~0ull >> shift) && !((v << shift) % 512) &&
		    (v << shift) <= (1ull << 40))
			want = v << shift;
	}
	if (got != want) {
		fprintf(stderr, "fuzz-preload-env: IOMMUFD_EMU_NVME_SIZE=\"%s\": %llu, want %llu\n",
			s, (unsigned long long)got, (unsigned long long)want);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t which, refuse = 0;
	char *s;

	if (!size)
		return 0;
	which = data[0] % 3;
	data++;
	size--;
	if (which == 1 && size) {
		refuse = data[0];
		data++;
		size--;
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	switch (which) {
	case 0:
		check_config(s);
		break;
	case 1:
		check_devices(s, refuse);
		break;
	default:
		check_size(s);
		break;
	}
	free(s);
	return 0;
}
