// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The device-model thread: it runs the emulated devices behind stores into an
 * mmap of their BAR0, as hardware runs asynchronously behind its registers.
 *
 * An emulated device's BAR0 is a memfd. vfio.c maps it into the program
 * (VFIO_DEVICE_GET_REGION_INFO says MMAP, as vfio-pci does for QEMU's edu and
 * NVMe) and the models keep their registers' values in it, so a load from the
 * mapping reads what the model says with no emulator code running. A store
 * only changes memory, though: nothing runs when a program rings a doorbell
 * or writes edu's command register. This thread closes that gap. Each model
 * names the words it watches (struct bar_watch: edu's register block, the
 * NVMe's controller registers and doorbells) and keeps a shadow of what it
 * last saw or published there. The thread compares the words with their
 * shadows without any lock; when one differs, a store happened: it takes the
 * emulator lock (emu->lock), and the model takes the store in (runs the
 * command, fetches the submission queue entries, posts completions, signals
 * the MSI-X eventfd) and publishes the registers' new values.
 *
 * Publishing uses compare-and-swap against the shadow, so a store that the
 * program makes while the model works is never overwritten: it stays
 * different from its shadow and is taken in on the next pass. A store of the
 * value a word already holds cannot be seen; for doorbells (monotonic
 * positions) and the command registers the models use that is harmless, and
 * pwrite() through the device file, which stays synchronous, does see it.
 *
 * Polling is adaptive: after work the thread keeps looking without sleeping
 * for SPIN_NS (a driver usually rings again soon), then sleeps from
 * SLEEP_MIN_NS doubling up to SLEEP_MAX_NS (1 ms), so an idle emulator costs
 * a thousand short wake-ups a second at most, and no thread at all while no
 * open device's BAR0 can change behind the emulator: the thread starts when
 * a device is open (bound or taken from its group) and its BAR0 mmapped or
 * exported as a dma-buf (which an IOAS maps for another device's DMA), in
 * either order, and stops when the last device is released (its sleep is a
 * wait on a condition the stop signals, so a release never waits out a
 * sleep). A program that only reads and writes the device file, whose
 * accesses run the model synchronously, never has the thread: it does not
 * pay for a thread start and a join per open, nor for the wait of a join
 * (up to LOCK_WAIT_NS while the thread waits for the lock the releasing
 * caller holds). A device once mapped keeps the thread at each open, as the
 * mapping may outlive the device file. One thread serves all the devices
 * of an emulator. It blocks every signal (the
 * program's handlers run on its own threads) and, after fork(), exists only
 * in the parent; a child that opens a device of its own copy of the emulator
 * gets a thread of its own.
 *
 * Why not trap the accesses, as a hypervisor does? mprotect() + SIGSEGV
 * would take a signal handler from the program (QEMU, SPDK and test
 * frameworks install their own), needs instruction decoding to learn the
 * value and width of each store, and makes every register read a fault
 * (~2 us each: an NVMe driver polling CSTS would crawl). userfaultfd reports
 * only the first touch of a missing page (write-protect mode reports stores
 * but not their values, and not at all on the memfd shmem of older kernels),
 * and needs a privilege that tests do not have everywhere. Watching the
 * memory costs no fault, keeps every load a plain load, and behaves like the
 * posted writes of real PCI: a store takes effect a little later, which
 * drivers written for hardware already allow for (they poll CSTS.RDY, the
 * completion phase, edu's status and run bits). What it cannot give is a
 * read that flushes the write before it: a program that stores edu's
 * factorial argument and reads the result at once may read its own argument
 * (QEMU's edu is asynchronous there too, and says to poll).
 *
 * Locks: the thread takes emu->lock with a timeout and checks its stop flag
 * while it waits, so vsvc_remove() may join it while holding the lock. It
 * holds emu->lock only inside svc_fork_lock, which fork() takes first
 * (pthread_atfork): a child never inherits an emulator locked by a thread it
 * does not have. (The thread gives svc_fork_lock up whenever emu->lock is
 * not to be had, so a fork() from a thread that holds emu->lock, as the
 * preload library's does, waits at most one LOCK_WAIT_NS.)
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "vfio.h"

#define SPIN_NS 50000ull       /* keep looking without sleep after work */
#define SLEEP_MIN_NS 10000ull  /* then sleep 10 us, 20 us, ... */
#define SLEEP_MAX_NS 1000000ull /* ... up to 1 ms */
#define LOCK_WAIT_NS 1000000ull /* recheck the stop flag while waiting for the lock */

struct vsvc {
	struct iommufd_emu *emu;
	pthread_t tid;
	pid_t pid;             /* the process the thread runs in; 0: none */
	int stop;              /* atomic */
	/* the thread sleeps on wake, which vsvc_stop() signals: a stop (a
	 * device's last close) never waits out a sleep */
	pthread_mutex_t wake_lock;
	pthread_cond_t wake;
	unsigned int gen;      /* atomic: devs changed */
	int scanning;          /* atomic: the thread is looking at BAR0 words lock-free */
	struct vdev **devs;    /* the devices served; changed under emu->lock */
	unsigned int ndevs, cap;
	/* the thread's copy of devs, to look at without the lock (kept here,
	 * not on its stack, so that a forked child still knows the memory) */
	struct vdev **mine;
	unsigned int nmine, capmine;
};

/* ------------------------------------------------------------ BAR0 words */

static uint32_t *word(struct vdev *d, uint32_t off)
{
	/* bar0 moves while memory decoding is off (bar_decode) */
	return (uint32_t *)(void *)(__atomic_load_n(&d->bar0, __ATOMIC_SEQ_CST) + off);
}

uint32_t bar_load(struct vdev *d, uint32_t off)
{
	return __atomic_load_n(word(d, off), __ATOMIC_ACQUIRE);
}

bool bar_watch_changed(struct vdev *d, const struct bar_watch *w)
{
	for (uint32_t i = 0; i < w->len / 4; i++)
		if (__atomic_load_n(word(d, w->off + 4 * i), __ATOMIC_RELAXED) !=
		    __atomic_load_n(&w->shadow[i], __ATOMIC_RELAXED))
			return true;
	return false;
}

void bar_watch_seen(const struct bar_watch *w, uint32_t off, uint32_t v)
{
	__atomic_store_n(&w->shadow[(off - w->off) / 4], v, __ATOMIC_RELAXED);
}

void bar_publish(struct vdev *d, const struct bar_watch *w, uint32_t off, uint32_t v)
{
	uint32_t *sh = &w->shadow[(off - w->off) / 4];
	uint32_t expect = __atomic_load_n(sh, __ATOMIC_RELAXED);

	if (expect == v)
		return;
	/* fails when the program stored since the model looked: its store wins */
	if (__atomic_compare_exchange_n(word(d, off), &expect, v, false, __ATOMIC_RELEASE,
					__ATOMIC_RELAXED))
		__atomic_store_n(sh, v, __ATOMIC_RELAXED);
}

void bar_set(struct vdev *d, const struct bar_watch *w, uint32_t off, uint32_t v)
{
	__atomic_store_n(word(d, off), v, __ATOMIC_RELEASE);
	if (w)
		bar_watch_seen(w, off, v);
}

/* ------------------------------------------------------------ the thread */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool stopping(struct vsvc *t)
{
	return __atomic_load_n(&t->stop, __ATOMIC_ACQUIRE);
}

static pthread_mutex_t svc_fork_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t svc_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
	pthread_mutex_lock(&svc_fork_lock);
}

static void fork_done(void)
{
	pthread_mutex_unlock(&svc_fork_lock);
}

static void svc_init_once(void)
{
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

/* svc_fork_lock and emu->lock, or false when asked to stop while waiting */
static bool lock_or_stop(struct vsvc *t)
{
	while (!stopping(t)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)LOCK_WAIT_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&svc_fork_lock);
		if (pthread_mutex_timedlock(&t->emu->lock, &ts) == 0) {
			if (!stopping(t))
				return true;
			emu_unlock(t->emu);
			pthread_mutex_unlock(&svc_fork_lock);
			return false;
		}
		pthread_mutex_unlock(&svc_fork_lock);
	}
	return false;
}

static void unlock_both(struct vsvc *t)
{
	emu_unlock(t->emu);
	pthread_mutex_unlock(&svc_fork_lock);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void *vsvc_main(void *arg)
{
	struct vsvc *t = arg;
	unsigned int gen = 0;
	bool fresh = false;
	uint64_t last_work = now_ns(), sleep_ns = SLEEP_MIN_NS;

	prctl(PR_SET_TIMERSLACK, 10000UL); /* sleeps of 10 us mean 10 us, not 50 */
	while (!stopping(t)) {
		bool want = !fresh || __atomic_load_n(&t->gen, __ATOMIC_ACQUIRE) != gen;

		/* bar_decode() waits for the end of a look that may have
		 * loaded an old d->bar0 (seq_cst both sides) */
		__atomic_store_n(&t->scanning, 1, __ATOMIC_SEQ_CST);
		for (unsigned int i = 0; i < t->nmine && !want; i++)
			want = vdev_model_pending(t->mine[i]);
		__atomic_store_n(&t->scanning, 0, __ATOMIC_SEQ_CST);
		if (want) {
			bool did = false;

			if (!lock_or_stop(t))
				break;
			if (!fresh || t->gen != gen) {
				if (t->ndevs > t->capmine) {
					struct vdev **p = realloc(t->mine, t->ndevs * sizeof(*p));

					if (p) {
						t->mine = p;
						t->capmine = t->ndevs;
					}
				}
				t->nmine = t->ndevs <= t->capmine ? t->ndevs : t->capmine;
				if (t->nmine)
					memcpy(t->mine, t->devs, t->nmine * sizeof(*t->mine));
				gen = t->gen;
				fresh = true;
			}
			for (unsigned int i = 0; i < t->nmine; i++)
				if (t->mine[i]->svc_active)
					did |= vdev_model_service(t->mine[i]);
			unlock_both(t);
			if (did) {
				last_work = now_ns();
				sleep_ns = SLEEP_MIN_NS;
				continue;
			}
		}
		if (now_ns() - last_work < SPIN_NS) {
			cpu_relax();
			continue;
		}
		{
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += (long)sleep_ns;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_mutex_lock(&t->wake_lock);
			if (!stopping(t))
				pthread_cond_timedwait(&t->wake, &t->wake_lock, &ts);
			pthread_mutex_unlock(&t->wake_lock);
		}
		if (sleep_ns < SLEEP_MAX_NS)
			sleep_ns = sleep_ns * 2 > SLEEP_MAX_NS ? SLEEP_MAX_NS : sleep_ns * 2;
	}
	return NULL;
}

/* the thread of this process, if any (after fork the child has none) */
static bool running_here(struct vsvc *t)
{
	if (t->pid && t->pid != getpid())
		t->pid = 0;
	return t->pid != 0;
}

/* d->bar0 was just changed: wait until the thread cannot use the old one */
static void vsvc_quiesce(struct vsvc *t)
{
	if (!t || !running_here(t))
		return;
	while (__atomic_load_n(&t->scanning, __ATOMIC_SEQ_CST))
		cpu_relax();
}

/*
 * Memory decoding off, as vfio-pci does it when the command register's MEM
 * bit is cleared (drivers/vfio/pci/vfio_pci_config.c vfio_basic_config_write:
 * vfio_pci_zap_and_down_write_memory_lock): every mapping of the BAR is
 * zapped and a fault on it gives SIGBUS until decoding is back
 * (vfio_pci_mmap_huge_fault), new mmaps included. Here the memfd behind
 * every mapping is truncated to 0 (a shared mapping beyond the end of its
 * file faults with SIGBUS, in any process that maps it) after its contents
 * moved to a private copy, where the models keep working (d->bar0); decoding
 * back on restores the size and the contents. Called with emu->lock held.
 */
int bar_decode(struct vdev *d, bool on)
{
	uint8_t *copy;

	if (on == !d->bar0_saved)
		return 0;
	if (!on) {
		copy = mmap(NULL, d->bar0_size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (copy == MAP_FAILED)
			return -ENOMEM;
		memcpy(copy, d->bar0_map, d->bar0_size);
		__atomic_store_n(&d->bar0, copy, __ATOMIC_SEQ_CST);
		vsvc_quiesce(d->svc);
		if (ftruncate(d->bar0_fd, 0) < 0) {
			int r = -errno;

			__atomic_store_n(&d->bar0, d->bar0_map, __ATOMIC_SEQ_CST);
			vsvc_quiesce(d->svc);
			munmap(copy, d->bar0_size);
			return r;
		}
		d->bar0_saved = copy;
		return 0;
	}
	if (ftruncate(d->bar0_fd, (off_t)d->bar0_size) < 0)
		return -errno;
	memcpy(d->bar0_map, d->bar0_saved, d->bar0_size);
	__atomic_store_n(&d->bar0, d->bar0_map, __ATOMIC_SEQ_CST);
	vsvc_quiesce(d->svc);
	munmap(d->bar0_saved, d->bar0_size);
	d->bar0_saved = NULL;
	return 0;
}

static int vsvc_start(struct vsvc *t)
{
	sigset_t all, old;
	int r;

	pthread_condattr_t ca;

	pthread_once(&svc_once, svc_init_once);
	__atomic_store_n(&t->stop, 0, __ATOMIC_RELEASE);
	/* made afresh: after fork() a copy may be held by a thread that did not come along */
	pthread_mutex_init(&t->wake_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t->tid, NULL, vsvc_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	t->pid = getpid();
	return 0;
}

static void vsvc_stop(struct vsvc *t)
{
	if (!running_here(t))
		return;
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&t->wake_lock);
	pthread_cond_signal(&t->wake);
	pthread_mutex_unlock(&t->wake_lock);
	if (pthread_equal(pthread_self(), t->tid))
		pthread_detach(t->tid); /* released from a model call: it ends by itself */
	else
		pthread_join(t->tid, NULL);
	t->pid = 0;
}

struct vsvc *vsvc_new(struct iommufd_emu *emu)
{
	struct vsvc *t = calloc(1, sizeof(*t));

	if (t)
		t->emu = emu;
	return t;
}

void vsvc_free(struct vsvc *t)
{
	if (!t)
		return;
	vsvc_stop(t);
	free(t->mine);
	free(t->devs);
	free(t);
}

/* can the BAR0 of a device served change behind the emulator? */
static bool needed(const struct vsvc *t)
{
	for (unsigned int i = 0; i < t->ndevs; i++)
		if (t->devs[i]->bar0_mapped || t->devs[i]->bar0_dmabuf)
			return true;
	return false;
}

int vsvc_add(struct vsvc *t, struct vdev *d)
{
	if (d->svc_active)
		return 0;
	if (t->ndevs == t->cap) {
		unsigned int cap = t->cap ? 2 * t->cap : 4;
		struct vdev **p = realloc(t->devs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->devs = p;
		t->cap = cap;
	}
	t->devs[t->ndevs++] = d;
	d->svc_active = true;
	__atomic_add_fetch(&t->gen, 1, __ATOMIC_RELEASE);
	if (!running_here(t) && needed(t)) {
		int r = vsvc_start(t);

		if (r) {
			t->ndevs--;
			d->svc_active = false;
			return r;
		}
	}
	return 0;
}

int vsvc_exposed(struct vsvc *t, struct vdev *d)
{
	if (!d->svc_active || running_here(t))
		return 0;
	return vsvc_start(t);
}

void vsvc_remove(struct vsvc *t, struct vdev *d)
{
	if (!d->svc_active)
		return;
	for (unsigned int i = 0; i < t->ndevs; i++) {
		if (t->devs[i] == d) {
			t->devs[i] = t->devs[--t->ndevs];
			break;
		}
	}
	d->svc_active = false;
	__atomic_add_fetch(&t->gen, 1, __ATOMIC_RELEASE);
	if (!t->ndevs)
		vsvc_stop(t);
}
