// SPDX-License-Identifier: LGPL-2.1-or-later
/* The kernel's VFIO migration FSM (see migfsm.h). */
#include <errno.h>

#include "abi.h"
#include "migfsm.h"

_Static_assert((int)IFD_MIG_NR == (int)KABI_VFIO_DEVICE_STATE_NR, "enum vfio_device_mig_state");

enum {
	ERR = IFD_MIG_ERROR,
	STOP = IFD_MIG_STOP,
	RUN = IFD_MIG_RUNNING,
	STOPC = IFD_MIG_STOP_COPY,
	RES = IFD_MIG_RESUMING,
	RUNP = IFD_MIG_RUNNING_P2P,
	PRE = IFD_MIG_PRE_COPY,
	PREP = IFD_MIG_PRE_COPY_P2P,
};

/*
 * drivers/vfio/vfio_main.c vfio_mig_get_next_state(): vfio_from_fsm_table,
 * [from][to] = the next step; each row in the order of the states (ERROR,
 * STOP, RUNNING, STOP_COPY, RESUMING, RUNNING_P2P, PRE_COPY, PRE_COPY_P2P).
 * The saving group (PRE_COPY*, STOP_COPY) is left through STOP only, and
 * STOP_COPY never goes back to PRE_COPY*.
 */
static const uint8_t fsm[IFD_MIG_NR][IFD_MIG_NR] = {
	[STOP] = { ERR, STOP, RUNP, STOPC, RES, RUNP, RUNP, RUNP },
	[RUN] = { ERR, RUNP, RUN, RUNP, RUNP, RUNP, PRE, RUNP },
	[PRE] = { ERR, RUN, RUN, PREP, RUN, RUN, PRE, PREP },
	[PREP] = { ERR, RUNP, RUNP, STOPC, RUNP, RUNP, PRE, PREP },
	[STOPC] = { ERR, STOP, STOP, STOPC, STOP, STOP, ERR, ERR },
	[RES] = { ERR, STOP, STOP, STOP, RES, STOP, STOP, STOP },
	[RUNP] = { ERR, STOP, RUN, STOP, STOP, RUNP, RUN, PREP },
	[ERR] = { ERR, ERR, ERR, ERR, ERR, ERR, ERR, ERR },
};

/* its state_flags_table */
uint64_t ifd_mig_state_needs(uint32_t s)
{
	switch (s) {
	case STOP:
	case RUN:
	case STOPC:
	case RES:
		return KABI_VFIO_MIGRATION_STOP_COPY;
	case PRE:
		return KABI_VFIO_MIGRATION_STOP_COPY | KABI_VFIO_MIGRATION_PRE_COPY;
	case PREP:
		return KABI_VFIO_MIGRATION_STOP_COPY | KABI_VFIO_MIGRATION_P2P |
		       KABI_VFIO_MIGRATION_PRE_COPY;
	case RUNP:
		return KABI_VFIO_MIGRATION_STOP_COPY | KABI_VFIO_MIGRATION_P2P;
	}
	return ~0ull;
}

bool ifd_mig_state_ok(uint64_t flags, uint32_t s)
{
	uint64_t needs = ifd_mig_state_needs(s);

	return s < IFD_MIG_NR && (needs & flags) == needs;
}

int ifd_mig_next_state(uint64_t flags, uint32_t cur, uint32_t want, uint32_t *next)
{
	if (!ifd_mig_state_ok(flags, cur) || !ifd_mig_state_ok(flags, want))
		return -EINVAL;
	/* arcs through states the device lacks are skipped over */
	*next = fsm[cur][want];
	while (*next != ERR && !ifd_mig_state_ok(flags, *next))
		*next = fsm[*next][want];
	return *next != ERR ? 0 : -EINVAL;
}
