/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * This process's pid without a system call, for both sides of the kernel
 * boundary: libiommufd's fork check and the emulator's "is this our own
 * memory" test. Each library compiles its own copy (shared_sources).
 *
 * The pid must not cost a system call (glibc stopped caching getpid() in
 * 2.25). As systemd's getpid_cached() (src/basic/process-util.c) does, the pid is
 * cached in ifd_pid_cache, read with a relaxed atomic load; 0 means "not
 * known": ifd_getpid_slow() then registers, once per process image
 * (pthread_once), a pthread_atfork() child handler that resets the cache to 0,
 * and only then asks the kernel and fills the cache.
 *
 * The rule, the same as systemd's:
 * - fork(), and whatever runs the atfork handlers (glibc's fork(), system(),
 *   popen() children that return to our code), resets the cache in the child:
 *   handles of the parent then fail with -ECHILD.
 * - A child made without the atfork handlers (clone(2) or syscall(SYS_clone)
 *   without CLONE_VM, clone3, glibc's _Fork()) keeps the parent's pid in its
 *   copy of the cache and would not see -ECHILD; systemd's raw_clone() resets
 *   its cache in the child by hand for that reason. Such a child must not use
 *   the parent's handles (nothing here can notice it cheaply).
 * - A vfork() or CLONE_VM child shares the parent's memory: it may only call
 *   execve() or _exit() (POSIX), never this library, or it would write its
 *   pid into the parent's cache.
 */
#ifndef IOMMUFD_SHARED_PID_H
#define IOMMUFD_SHARED_PID_H

#include <sys/types.h>

extern pid_t ifd_pid_cache __attribute__((visibility("hidden")));
pid_t ifd_getpid_slow(void);
static inline pid_t ifd_getpid(void)
{
	pid_t p = __atomic_load_n(&ifd_pid_cache, __ATOMIC_RELAXED);

	return p ? p : ifd_getpid_slow();
}

#endif
