// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Grace periods for the translation tables' lock-free readers (see
 * dma-private.h). One domain for the process; a thread gets a reader record
 * on its first lookup and gives it back when it exits (records are reused,
 * never freed, so the writer can walk the list without a lock).
 *
 * Read side: ctr = epoch (a release store), a compiler barrier, the loads,
 * ctr = 0 (a release store). With membarrier(2) available the StoreLoad
 * barrier the entry needs is supplied by the writer's
 * MEMBARRIER_CMD_PRIVATE_EXPEDITED (as liburcu's "memb" flavour does); without
 * it the entry is an atomic exchange (a full barrier).
 *
 * Writer: epoch++, membarrier (or a full fence), then wait until every
 * record is either 0 or an epoch at least the new one: every read-side
 * section that could have seen what was unpublished before has ended.
 */
#include <linux/membarrier.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dma-private.h"

__thread struct ifd_rcu_reader *ifd_rcu_self __attribute__((tls_model("initial-exec")));
uint64_t ifd_rcu_epoch = 1;
int ifd_rcu_membarrier;
uint64_t ifd_dma_fork_gen;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
#endif
}

static struct ifd_rcu_reader *readers; /* atomic head, push only */
static pthread_mutex_t gp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t key;

static void thread_exit(void *p)
{
	struct ifd_rcu_reader *r = p;

	__atomic_store_n(&r->ctr, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->in_use, 0, __ATOMIC_RELEASE);
	if (ifd_rcu_self == r)
		ifd_rcu_self = NULL;
}

/* in the child of fork(): only the calling thread exists, its records are the only live one */
static void atfork_child(void)
{
	for (struct ifd_rcu_reader *r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next) {
		if (r == ifd_rcu_self)
			continue;
		__atomic_store_n(&r->ctr, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&r->in_use, 0, __ATOMIC_RELAXED);
	}
	pthread_mutex_init(&gp_lock, NULL);
	__atomic_add_fetch(&ifd_dma_fork_gen, 1, __ATOMIC_RELAXED);
}

static void init_once(void)
{
	long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	pthread_key_create(&key, thread_exit);
	pthread_atfork(NULL, NULL, atfork_child);
	if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		__atomic_store_n(&ifd_rcu_membarrier, 1, __ATOMIC_RELAXED);
}

void ifd_rcu_init(void)
{
	pthread_once(&once, init_once);
}

struct ifd_rcu_reader *ifd_rcu_register_thread(void)
{
	struct ifd_rcu_reader *r;

	ifd_rcu_init();
	for (r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next) {
		int zero = 0;

		if (__atomic_compare_exchange_n(&r->in_use, &zero, 1, false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED))
			goto found;
	}
	/* cannot fail softly in a lookup: a record is 64 bytes, once per thread */
	r = aligned_alloc(64, sizeof(*r));
	if (!r)
		abort();
	memset(r, 0, sizeof(*r));
	r->in_use = 1;
	r->next = __atomic_load_n(&readers, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&readers, &r->next, r, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
found:
	ifd_rcu_self = r;
	pthread_setspecific(key, r);
	return r;
}

void ifd_rcu_synchronize(void)
{
	uint64_t e;

	ifd_rcu_init();
	pthread_mutex_lock(&gp_lock);
	e = __atomic_add_fetch(&ifd_rcu_epoch, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&ifd_rcu_membarrier, __ATOMIC_RELAXED) ||
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (struct ifd_rcu_reader *r = __atomic_load_n(&readers, __ATOMIC_ACQUIRE); r; r = r->next) {
		unsigned int spins = 0;
		uint64_t c;

		while ((c = __atomic_load_n(&r->ctr, __ATOMIC_ACQUIRE)) != 0 && c < e) {
			if (++spins > 100)
				sched_yield();
			else
				cpu_relax();
		}
	}
	pthread_mutex_unlock(&gp_lock);
}
