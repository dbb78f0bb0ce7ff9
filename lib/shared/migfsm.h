/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's VFIO migration FSM, for both libraries: the emulator's
 * migration driver walks a requested state through it as every kernel driver
 * does, and libiommufd explains by it why the kernel refused a state change.
 * drivers/vfio/vfio_main.c vfio_mig_get_next_state(): vfio_from_fsm_table (the
 * next step from a state towards another) and state_flags_table (the
 * migration flags, VFIO_MIGRATION_*, a state needs).
 */
#ifndef IOMMUFD_SHARED_MIGFSM_H
#define IOMMUFD_SHARED_MIGFSM_H

#include <stdbool.h>
#include <stdint.h>

/* enum vfio_device_mig_state */
enum {
	IFD_MIG_ERROR,
	IFD_MIG_STOP,
	IFD_MIG_RUNNING,
	IFD_MIG_STOP_COPY,
	IFD_MIG_RESUMING,
	IFD_MIG_RUNNING_P2P,
	IFD_MIG_PRE_COPY,
	IFD_MIG_PRE_COPY_P2P,
	IFD_MIG_NR,
};

/* the VFIO_MIGRATION_* flags state s needs (all bits for ERROR and beyond) */
uint64_t ifd_mig_state_needs(uint32_t s);
/* s is a state of the FSM that a device with these migration flags has */
bool ifd_mig_state_ok(uint64_t flags, uint32_t s);
/*
 * vfio_mig_get_next_state(): the next step from cur towards want for a
 * device with these flags, skipping the states it lacks, into *next; 0, or
 * -EINVAL when cur or want is not a state the device has or the FSM has no
 * path (*next is then IFD_MIG_ERROR if a path was looked for).
 */
int ifd_mig_next_state(uint64_t flags, uint32_t cur, uint32_t want, uint32_t *next);

#endif
