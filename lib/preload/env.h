/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The preload library's environment, parsed (env.c): pure functions of the
 * strings, with no emulator and no getenv(), so that the fuzz target
 * (tests/fuzz/fuzz-preload-env.c) reaches them as the library does.
 */
#ifndef IOMMUFD_PRELOAD_ENV_H
#define IOMMUFD_PRELOAD_ENV_H

#include <stddef.h>
#include <stdint.h>

/*
 * IOMMUFD_EMU_CONFIG: words separated by commas or spaces, each
 * "no-iommufd" (IOMMUFD_EMU_CONFIG_NO_IOMMUFD) or "container-compat"
 * (IOMMUFD_EMU_CONFIG_CONTAINER_COMPAT). s NULL or empty: 0. *flags gets
 * the bits; -EINVAL for an unknown word, found at *bad (badlen bytes; bad
 * may be NULL).
 */
int preload_parse_config(const char *s, uint32_t *flags, const char **bad, size_t *badlen);

/* one device of IOMMUFD_EMU_DEVICES */
struct preload_dev_spec {
	uint32_t kind;   /* enum iommufd_emu_device_kind */
	const char *bdf; /* as written (the emulator checks it); NULL: the next free address */
	int group;       /* 0: a group of its own */
	uint32_t flags;  /* IOMMUFD_EMU_DEVICE_* from the "+option"s */
	const char *tok; /* the whole entry, kind first, for messages */
};

/*
 * IOMMUFD_EMU_DEVICES: entries separated by commas or spaces, each
 * "kind[+option...][@bdf][#group]" ("#group" may come before "@bdf"), kind
 * one of edu, nvme, generic, an option one of pasid, dirty-tracking,
 * no-namespace, nesting, msix-sparse, migration, stop-copy-only, noiommu, sriov (the
 * IOMMUFD_EMU_DEVICE_* flag of that name; the emulator checks which kinds
 * take it), group a decimal number 0..INT_MAX. fn is called for each
 * entry in order (its strings live during the call); returns the number
 * of entries, fn's negative return as is, or -EINVAL with the reason in why
 * (whylen bytes), -ENOMEM.
 */
int preload_parse_devices(const char *s, int (*fn)(void *data, const struct preload_dev_spec *d),
			  void *data, char *why, size_t whylen);

#endif
