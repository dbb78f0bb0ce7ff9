// SPDX-License-Identifier: LGPL-2.1-or-later
/* The cached pid (see pid.h). */
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "pid.h"

pid_t ifd_pid_cache; /* atomic: 0 = not known (see pid.h) */
static pthread_once_t pid_cache_once = PTHREAD_ONCE_INIT;
static bool pid_cache_usable;

/* in the child of fork(), before fork() returns there: the pid changed */
static void pid_cache_reset(void)
{
	__atomic_store_n(&ifd_pid_cache, 0, __ATOMIC_RELAXED);
}

static void pid_cache_init(void)
{
	/* without the handler a cached pid could outlive a fork: then never cache */
	pid_cache_usable = pthread_atfork(NULL, NULL, pid_cache_reset) == 0;
}

pid_t ifd_getpid_slow(void)
{
	pid_t pid;

	/* the handler first: a fork after the store below then resets it */
	pthread_once(&pid_cache_once, pid_cache_init);
	pid = getpid();
	/* threads racing here all store the same value */
	if (pid_cache_usable)
		__atomic_store_n(&ifd_pid_cache, pid, __ATOMIC_RELAXED);
	return pid;
}
