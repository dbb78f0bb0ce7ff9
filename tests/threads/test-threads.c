// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The thread-safety promises of the public header (issues 2 and 3):
 *  - a context may be used from many threads at once (private IOASes, one
 *    shared IOAS, capability probing, per-thread last error, ref/unref,
 *    logging set while others log);
 *  - concurrent callers on one device cannot corrupt its state (attach /
 *    replace / detach storms checked against the kernel's truth afterwards,
 *    concurrent binds with exactly one winner).
 * Runs on the emulator (default) and on the real kernel in the VM
 * (IOMMUFD_TEST_REAL=1). cmocka's asserts are not usable off the main
 * thread, so workers record their first failure in a string that the main
 * thread asserts empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <syslog.h>
#include <unistd.h>

#include "common.h"
#include "shared/abi-test.h"

#define PAGE 4096ul
#define NTHREADS 8
#define BUF_LEN (4ul << 20)
#define EDU_BDF "0000:00:02.0"

static uint8_t *buffer; /* BUF_LEN bytes of real memory, 2 MiB aligned */

/* ------------------------------------------------------------ worker plumbing */

struct worker {
	pthread_t thread;
	int idx;
	unsigned int seed;
	char err[400]; /* first failure of this thread, "" if none */
	void *arg;     /* the test's shared state */
	/* results handed back to the main thread */
	uint64_t bytes;
	uint64_t count;
	uint32_t id;
	int ret;
};

#define W_FAIL(w, ...)                                                                        \
	do {                                                                                  \
		if (!(w)->err[0]) {                                                           \
			int n_ = snprintf((w)->err, sizeof((w)->err), "thread %d, line %d: ", \
					  (w)->idx, __LINE__);                                \
			snprintf((w)->err + n_, sizeof((w)->err) - n_, __VA_ARGS__);          \
		}                                                                             \
	} while (0)

/* cond must hold, else record why and stop: jump to the thread function's out: label */
#define W_CHECK(w, cond, ...)                                                         \
	do {                                                                          \
		if (!(cond)) {                                                        \
			W_FAIL(w, __VA_ARGS__);                                       \
			goto out;                                                     \
		}                                                                     \
	} while (0)

#define W_CALL(w, call)                                                                \
	do {                                                                         \
		int r_ = (call);                                                     \
		W_CHECK(w, r_ == 0, "%s = %d: %s", #call, r_, iommufd_last_error()); \
	} while (0)

static void run_workers(struct worker *w, int n, void *(*fn)(void *), void *arg)
{
	for (int i = 0; i < n; i++) {
		w[i] = (struct worker){ .idx = i, .seed = 0x5eed + 7919 * i, .arg = arg };
		assert_int_equal(pthread_create(&w[i].thread, NULL, fn, &w[i]), 0);
	}
	for (int i = 0; i < n; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (int i = 0; i < n; i++)
		if (w[i].err[0])
			print_error("%s\n", w[i].err);
	for (int i = 0; i < n; i++)
		if (w[i].err[0])
			fail_msg("%s", w[i].err);
}

static int setup(void **state)
{
	(void)state;
	test_backend_get();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_backend_put();
	return 0;
}

static int group_setup(void **state)
{
	uint8_t *p = mmap(NULL, BUF_LEN + (2ul << 20), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)state;
	if (p == MAP_FAILED)
		return -1;
	buffer = (uint8_t *)(((uintptr_t)p + (2ul << 20) - 1) & ~((2ul << 20) - 1));
	memset(buffer, 0xa5, BUF_LEN);
	return 0;
}

/* ------------------------------------------------------------ private IOASes */

#define PRIV_ROUNDS 25
#define PRIV_MAPS 16

struct priv_shared {
	struct iommufd_ctx *ctx;
	uint32_t live[NTHREADS]; /* IOAS each thread holds now (0: none); atomic */
};

/* each thread: its own IOAS, auto and fixed maps, ranges, unmaps, destroy */
static void *priv_thread(void *p)
{
	struct worker *w = p;
	struct priv_shared *s = w->arg;
	struct iommufd_ctx *ctx = s->ctx;

	for (int round = 0; round < PRIV_ROUNDS && !w->err[0]; round++) {
		struct iommufd_iova_range *ranges = NULL;
		uint64_t iova[2 * PRIV_MAPS], len[2 * PRIV_MAPS], align = 0, left = 0, got;
		size_t nr = 0;
		uint32_t ioas;

		W_CALL(w, iommufd_ioas_alloc(ctx, &ioas));
		/* no other thread may hold the same ID at the same time */
		__atomic_store_n(&s->live[w->idx], ioas, __ATOMIC_SEQ_CST);
		for (int t = 0; t < NTHREADS; t++)
			if (t != w->idx && __atomic_load_n(&s->live[t], __ATOMIC_SEQ_CST) == ioas)
				W_FAIL(w, "IOAS %u handed to threads %d and %d", ioas, w->idx, t);

		W_CALL(w, iommufd_ioas_iova_ranges(ctx, ioas, &ranges, &nr, &align));
		W_CHECK(w, nr >= 1 && align >= 1 && !(align & (align - 1)),
			"ioas %u: %zu ranges, alignment %" PRIu64, ioas, nr, align);
		W_CHECK(w, ranges[0].start <= ranges[0].last, "range [%#" PRIx64 ", %#" PRIx64 "]",
			ranges[0].start, ranges[0].last);
		free(ranges);

		for (int i = 0; i < PRIV_MAPS; i++) {
			/* auto: the kernel picks; fixed: above 4 GiB, 64 KiB apart */
			len[i] = (1 + (rand_r(&w->seed) % 8)) * PAGE;
			W_CALL(w, iommufd_ioas_map(ctx, ioas, buffer + i * PAGE, len[i], &iova[i],
						 IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
			iova[PRIV_MAPS + i] = (1ull << 32) + i * 0x10000;
			len[PRIV_MAPS + i] = (1 + (rand_r(&w->seed) % 16)) * PAGE;
			W_CALL(w, iommufd_ioas_map(ctx, ioas, buffer, len[PRIV_MAPS + i],
						 &iova[PRIV_MAPS + i],
						 IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ));
			W_CHECK(w, iova[PRIV_MAPS + i] == (1ull << 32) + i * 0x10000,
				"fixed map moved to %#" PRIx64, iova[PRIV_MAPS + i]);
		}
		/* the even ones one by one (exactly their length), the rest in one go */
		for (int i = 0; i < 2 * PRIV_MAPS; i++) {
			if (i % 2) {
				left += len[i];
				continue;
			}
			W_CALL(w, iommufd_ioas_unmap(ctx, ioas, iova[i], len[i], &got));
			W_CHECK(w, got == len[i], "unmap of [%#" PRIx64 " +%#" PRIx64 "] removed %#" PRIx64,
				iova[i], len[i], got);
		}
		W_CALL(w, iommufd_ioas_unmap_all(ctx, ioas, &got));
		W_CHECK(w, got == left, "unmap_all of ioas %u removed %#" PRIx64 ", mapped %#" PRIx64,
			ioas, got, left);
		W_CALL(w, iommufd_ioas_unmap_all(ctx, ioas, &got));
		W_CHECK(w, got == 0, "second unmap_all removed %#" PRIx64, got);
		__atomic_store_n(&s->live[w->idx], 0, __ATOMIC_SEQ_CST);
		W_CALL(w, iommufd_destroy(ctx, ioas));
		w->count++;
	}
out:
	return NULL;
}

static void test_ctx_private_ioas(void **state)
{
	struct priv_shared s = { .ctx = test_ctx_new() };
	struct worker w[NTHREADS];
	uint32_t ioas;

	(void)state;
	run_workers(w, NTHREADS, priv_thread, &s);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(w[i].count, PRIV_ROUNDS);
	/* everything was destroyed: the next IOAS gets the lowest ID again */
	assert_ok(iommufd_ioas_alloc(s.ctx, &ioas));
	assert_int_equal(ioas, 1);
	iommufd_ctx_unref(s.ctx);
}

/* ------------------------------------------------------------ one shared IOAS */

#define SHARED_OPS 400
#define SHARED_MAX 512
#define SHARED_WINDOW(t) ((1ull << 40) + (uint64_t)(t) * (1ull << 32))

struct area {
	uint64_t iova, len;
};

struct shared_ioas {
	struct iommufd_ctx *ctx;
	uint32_t ioas;
	/* per thread: what it has mapped now (fixed ones ascending) */
	struct area fixed[NTHREADS][SHARED_MAX];
	size_t nr_fixed[NTHREADS];
	struct area autos[NTHREADS][SHARED_MAX];
	size_t nr_autos[NTHREADS];
};

static void area_del(struct area *a, size_t *nr, size_t i, size_t n)
{
	memmove(&a[i], &a[i + n], (*nr - i - n) * sizeof(*a));
	*nr -= n;
}

static void *shared_thread(void *p)
{
	struct worker *w = p;
	struct shared_ioas *s = w->arg;
	struct area *fixed = s->fixed[w->idx], *autos = s->autos[w->idx];
	size_t *nr_fixed = &s->nr_fixed[w->idx], *nr_autos = &s->nr_autos[w->idx];
	uint64_t cursor = SHARED_WINDOW(w->idx), got;

	for (int op = 0; op < SHARED_OPS; op++) {
		int what = rand_r(&w->seed) % 10;
		uint64_t len = (1 + rand_r(&w->seed) % 8) * PAGE, iova;

		if (what < 3 && *nr_fixed < SHARED_MAX) {
			/* a fixed map in this thread's window, sometimes right after the last */
			cursor += (rand_r(&w->seed) % 2) * PAGE;
			iova = cursor;
			W_CALL(w, iommufd_ioas_map(s->ctx, s->ioas, buffer, len, &iova,
						 IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ |
							 IOMMUFD_MAP_WRITE));
			W_CHECK(w, iova == cursor, "fixed map at %#" PRIx64 " moved to %#" PRIx64,
				cursor, iova);
			fixed[(*nr_fixed)++] = (struct area){ iova, len };
			cursor += len;
		} else if (what < 4 && *nr_fixed) {
			/* one of ours, exactly */
			size_t i = rand_r(&w->seed) % *nr_fixed;

			W_CALL(w, iommufd_ioas_unmap(s->ctx, s->ioas, fixed[i].iova, fixed[i].len, &got));
			W_CHECK(w, got == fixed[i].len,
				"unmap [%#" PRIx64 " +%#" PRIx64 "] removed %#" PRIx64, fixed[i].iova,
				fixed[i].len, got);
			area_del(fixed, nr_fixed, i, 1);
		} else if (what < 5 && *nr_fixed) {
			/* a range over several consecutive ones of ours (holes between are fine) */
			size_t i = rand_r(&w->seed) % *nr_fixed;
			size_t n = 1 + rand_r(&w->seed) % (*nr_fixed - i < 5 ? *nr_fixed - i : 5);
			uint64_t want = 0, end = fixed[i + n - 1].iova + fixed[i + n - 1].len;

			for (size_t k = i; k < i + n; k++)
				want += fixed[k].len;
			W_CALL(w, iommufd_ioas_unmap(s->ctx, s->ioas, fixed[i].iova, end - fixed[i].iova,
						   &got));
			W_CHECK(w, got == want,
				"unmap of %zu areas [%#" PRIx64 ", %#" PRIx64 ") removed %#" PRIx64
				", expected %#" PRIx64, n, fixed[i].iova, end, got, want);
			area_del(fixed, nr_fixed, i, n);
		} else if (what < 7 && *nr_autos < SHARED_MAX) {
			/* the kernel picks the IOVA: first fit from the bottom, far below the windows */
			W_CALL(w, iommufd_ioas_map(s->ctx, s->ioas, buffer + PAGE * (op % 64), len, &iova,
						 IOMMUFD_MAP_READ));
			W_CHECK(w, iova && iova + len <= SHARED_WINDOW(0),
				"auto IOVA %#" PRIx64 " +%#" PRIx64 " out of the expected space", iova, len);
			autos[(*nr_autos)++] = (struct area){ iova, len };
		} else if (what < 8 && *nr_autos) {
			size_t i = rand_r(&w->seed) % *nr_autos;

			W_CALL(w, iommufd_ioas_unmap(s->ctx, s->ioas, autos[i].iova, autos[i].len, &got));
			W_CHECK(w, got == autos[i].len,
				"unmap of auto [%#" PRIx64 " +%#" PRIx64 "] removed %#" PRIx64,
				autos[i].iova, autos[i].len, got);
			area_del(autos, nr_autos, i, 1);
		} else if (what < 9) {
			/* an unmap of a hole of our window: nothing there, ENOENT, nothing removed */
			int r = iommufd_ioas_unmap(s->ctx, s->ioas, cursor + (1ull << 30), PAGE, &got);

			W_CHECK(w, r == -ENOENT, "unmap of an empty range gave %d", r);
		} else {
			struct iommufd_iova_range *ranges = NULL;
			size_t nr = 0;

			W_CALL(w, iommufd_ioas_iova_ranges(s->ctx, s->ioas, &ranges, &nr, NULL));
			free(ranges);
			W_CHECK(w, nr >= 1, "no IOVA range");
		}
		w->count++;
	}
out:
	return NULL;
}

static int area_cmp(const void *a, const void *b)
{
	const struct area *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

static void test_ctx_shared_ioas(void **state)
{
	struct shared_ioas *s = calloc(1, sizeof(*s));
	struct area *all = calloc(NTHREADS * SHARED_MAX, sizeof(*all));
	struct worker w[NTHREADS];
	uint64_t total = 0, got;
	size_t n = 0;

	(void)state;
	assert_non_null(s);
	assert_non_null(all);
	s->ctx = test_ctx_new();
	assert_ok(iommufd_ioas_alloc(s->ctx, &s->ioas));
	run_workers(w, NTHREADS, shared_thread, s);

	/* no two threads were handed overlapping auto IOVAs */
	for (int t = 0; t < NTHREADS; t++) {
		assert_int_equal(w[t].count, SHARED_OPS);
		for (size_t i = 0; i < s->nr_autos[t]; i++)
			all[n++] = s->autos[t][i];
		for (size_t i = 0; i < s->nr_fixed[t]; i++)
			total += s->fixed[t][i].len;
	}
	qsort(all, n, sizeof(*all), area_cmp);
	for (size_t i = 0; i < n; i++) {
		total += all[i].len;
		if (i && all[i - 1].iova + all[i - 1].len > all[i].iova)
			fail_msg("auto areas overlap: [%#" PRIx64 " +%#" PRIx64 "] and [%#" PRIx64
				 " +%#" PRIx64 "]",
				 all[i - 1].iova, all[i - 1].len, all[i].iova, all[i].len);
	}
	/* the kernel holds exactly what the threads recorded: nothing lost, nothing twice */
	assert_ok(iommufd_ioas_unmap_all(s->ctx, s->ioas, &got));
	assert_int_equal(got, total);
	assert_ok(iommufd_ioas_unmap_all(s->ctx, s->ioas, &got));
	assert_int_equal(got, 0);
	assert_ok(iommufd_destroy(s->ctx, s->ioas));
	iommufd_ctx_unref(s->ctx);
	free(all);
	free(s);
}

/* ------------------------------------------------------------ objects of every kind */

#define OBJ_ROUNDS 40
#define OBJ_SLOTS 4

struct obj_shared {
	struct iommufd_ctx *ctx;
	uint32_t live[NTHREADS][OBJ_SLOTS]; /* IDs each thread holds now; atomic */
};

/* register id in slot (0: forget), then check no other thread holds it */
static bool obj_hold(struct worker *w, struct obj_shared *s, int slot, uint32_t id)
{
	__atomic_store_n(&s->live[w->idx][slot], id, __ATOMIC_SEQ_CST);
	if (!id)
		return true;
	for (int t = 0; t < NTHREADS; t++)
		for (int k = 0; k < OBJ_SLOTS; k++)
			if ((t != w->idx || k != slot) &&
			    __atomic_load_n(&s->live[t][k], __ATOMIC_SEQ_CST) == id) {
				W_FAIL(w, "ID %u live twice: thread %d slot %d and thread %d slot %d", id,
				       w->idx, slot, t, k);
				return false;
			}
	return true;
}

static void *obj_thread(void *p)
{
	struct worker *w = p;
	struct obj_shared *s = w->arg;

	for (int round = 0; round < OBJ_ROUNDS; round++) {
		struct kabi_test_cmd cmd = { .size = sizeof(cmd), .op = KABI_TEST_OP_MOCK_DOMAIN };
		uint32_t ioas, hwpt, stdev, auto_hwpt;
		uint64_t iova, got, len = (1 + round % 4) * PAGE;
		int r;

		W_CALL(w, iommufd_ioas_alloc(s->ctx, &ioas));
		W_CHECK(w, obj_hold(w, s, 0, ioas), "ioas");
		/* a mock device on an auto-HWPT of it (the kernel's selftest mock) */
		cmd.id = ioas;
		W_CALL(w, iommufd_ctx_ioctl(s->ctx, KABI_IOMMU_TEST_CMD, &cmd));
		stdev = cmd.mock_domain.out_stdev_id;
		auto_hwpt = cmd.mock_domain.out_hwpt_id;
		W_CHECK(w, obj_hold(w, s, 1, stdev), "stdev");
		W_CHECK(w, obj_hold(w, s, 2, auto_hwpt), "auto hwpt");
		W_CALL(w, iommufd_ioas_map(s->ctx, ioas, buffer, len, &iova,
					   IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE));
		/* a manual HWPT, then move the device onto it: the auto one goes away */
		W_CALL(w, iommufd_hwpt_alloc(s->ctx, cmd.mock_domain.out_idev_id, ioas, NULL, &hwpt));
		W_CHECK(w, obj_hold(w, s, 3, hwpt), "hwpt");
		obj_hold(w, s, 2, 0);
		cmd = (struct kabi_test_cmd){ .size = sizeof(cmd),
					      .op = KABI_TEST_OP_MOCK_DOMAIN_REPLACE,
					      .id = stdev };
		cmd.mock_domain_replace.pt_id = hwpt;
		W_CALL(w, iommufd_ctx_ioctl(s->ctx, KABI_IOMMU_TEST_CMD, &cmd));
		r = iommufd_destroy(s->ctx, ioas);
		W_CHECK(w, r == -EBUSY, "DESTROY of IOAS %u with a HWPT gave %d", ioas, r);
		r = iommufd_destroy(s->ctx, hwpt);
		W_CHECK(w, r == -EBUSY, "DESTROY of attached HWPT %u gave %d", hwpt, r);
		W_CALL(w, iommufd_ioas_unmap_all(s->ctx, ioas, &got));
		W_CHECK(w, got == len, "unmap_all gave %#" PRIx64 ", mapped %#" PRIx64, got, len);
		/* leaf first: device, HWPT, IOAS */
		obj_hold(w, s, 1, 0);
		W_CALL(w, iommufd_destroy(s->ctx, stdev));
		obj_hold(w, s, 3, 0);
		W_CALL(w, iommufd_destroy(s->ctx, hwpt));
		obj_hold(w, s, 0, 0);
		W_CALL(w, iommufd_destroy(s->ctx, ioas));
		w->count++;
	}
out:
	return NULL;
}

static void test_ctx_objects(void **state)
{
	struct obj_shared s = { .ctx = test_ctx_new() };
	struct worker w[NTHREADS];
	uint32_t ioas;

	(void)state;
	run_workers(w, NTHREADS, obj_thread, &s);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(w[i].count, OBJ_ROUNDS);
	/* nothing left behind: the lowest ID is free again */
	assert_ok(iommufd_ioas_alloc(s.ctx, &ioas));
	assert_int_equal(ioas, 1);
	iommufd_ctx_unref(s.ctx);
}

/* ------------------------------------------------------------ capability probing */

#define PROBE_ROUNDS 20

struct probe_case {
	enum iommufd_request req;
	uint64_t flags;
};

static const struct probe_case probe_flags[] = {
	{ IOMMUFD_REQ_IOAS_MAP, IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ | IOMMUFD_MAP_WRITE },
	{ IOMMUFD_REQ_IOAS_MAP_FILE, IOMMUFD_MAP_READ },
	{ IOMMUFD_REQ_IOAS_COPY, IOMMUFD_MAP_WRITE },
	{ IOMMUFD_REQ_GET_HW_INFO, IOMMUFD_HW_INFO_INPUT_TYPE },
	{ IOMMUFD_REQ_HWPT_SET_DIRTY_TRACKING, IOMMUFD_DIRTY_ENABLE },
	{ IOMMUFD_REQ_HWPT_GET_DIRTY_BITMAP, IOMMUFD_DIRTY_NO_CLEAR },
	{ IOMMUFD_REQ_OPTION, IOMMUFD_OPTION_RLIMIT_MODE | IOMMUFD_OPTION_HUGE_PAGES },
};

#define NR_REQ (IOMMUFD_REQ_HW_QUEUE_ALLOC - IOMMUFD_REQ_DESTROY + 1)

struct probe_shared {
	struct iommufd_ctx *ctx;
	pthread_barrier_t start;
	int want[NR_REQ];
	int want_flags[sizeof(probe_flags) / sizeof(probe_flags[0])];
};

static void *probe_thread(void *p)
{
	struct worker *w = p;
	struct probe_shared *s = w->arg;

	pthread_barrier_wait(&s->start);
	/* each thread walks the requests from a different starting point */
	for (int k = 0; k < NR_REQ; k++) {
		int i = (k + w->idx * 3) % NR_REQ;
		int r = iommufd_ctx_supports(s->ctx, IOMMUFD_REQ_DESTROY + i);

		W_CHECK(w, r == s->want[i], "supports(%s) = %d, single-threaded %d",
			iommufd_request_name(IOMMUFD_REQ_DESTROY + i), r, s->want[i]);
	}
	for (size_t k = 0; k < sizeof(probe_flags) / sizeof(probe_flags[0]); k++) {
		size_t i = (k + w->idx) % (sizeof(probe_flags) / sizeof(probe_flags[0]));
		int r = iommufd_ctx_supports_flags(s->ctx, probe_flags[i].req, probe_flags[i].flags);

		W_CHECK(w, r == s->want_flags[i], "supports_flags(%s, %#" PRIx64 ") = %d, single-threaded %d",
			iommufd_request_name(probe_flags[i].req), probe_flags[i].flags, r,
			s->want_flags[i]);
	}
out:
	return NULL;
}

static void test_ctx_probe(void **state)
{
	struct probe_shared s;
	struct iommufd_ctx *ref = test_ctx_new();
	struct worker w[NTHREADS];
	int yes = 0;

	(void)state;
	/* the reference answers, from one thread on another context */
	for (int i = 0; i < NR_REQ; i++) {
		s.want[i] = iommufd_ctx_supports(ref, IOMMUFD_REQ_DESTROY + i);
		assert_true(s.want[i] == 0 || s.want[i] == 1);
		yes += s.want[i];
	}
	/* a 7.2 kernel knows every request */
	assert_int_equal(yes, NR_REQ);
	for (size_t i = 0; i < sizeof(probe_flags) / sizeof(probe_flags[0]); i++) {
		s.want_flags[i] = iommufd_ctx_supports_flags(ref, probe_flags[i].req, probe_flags[i].flags);
		assert_int_equal(s.want_flags[i], 1);
	}
	/* fresh contexts (empty caches) probed by all threads at once */
	for (int round = 0; round < PROBE_ROUNDS; round++) {
		s.ctx = test_ctx_new();
		pthread_barrier_init(&s.start, NULL, NTHREADS);
		run_workers(w, NTHREADS, probe_thread, &s);
		pthread_barrier_destroy(&s.start);
		/* and the cache holds the same answers afterwards */
		for (int i = 0; i < NR_REQ; i++)
			assert_int_equal(iommufd_ctx_supports(s.ctx, IOMMUFD_REQ_DESTROY + i), s.want[i]);
		iommufd_ctx_unref(s.ctx);
	}
	iommufd_ctx_unref(ref);
}

/* ------------------------------------------------------------ per-thread last error */

#define ERR_ROUNDS 200

struct err_shared {
	struct iommufd_ctx *ctx, *other;
	pthread_barrier_t step;
};

static void *err_thread(void *p)
{
	struct worker *w = p;
	struct err_shared *s = w->arg;
	char want[64];

	for (int round = 0; round < ERR_ROUNDS; round++) {
		uint32_t id = 0x10000000u + (uint32_t)w->idx * 100000u + (uint32_t)round;
		const char *msg;
		int r;

		/* thread 0 never fails; odd threads fail without a system call, even ones in it */
		want[0] = 0;
		if (w->idx == 0) {
			uint32_t ioas;

			r = iommufd_ioas_alloc(s->ctx, &ioas);
			if (!r)
				r = iommufd_destroy(s->ctx, ioas);
			if (r)
				W_FAIL(w, "alloc/destroy: %d: %s", r, iommufd_last_error());
		} else if (w->idx % 2) {
			uint64_t iova = 0;

			r = iommufd_ioas_map(s->ctx, id, buffer, PAGE, &iova, 0x80);
			if (r != -EOPNOTSUPP)
				W_FAIL(w, "map with flag 0x80 gave %d", r);
			snprintf(want, sizeof(want),
				 "flags 0x80; the library did not recognise flag bits 0x80");
		} else {
			r = iommufd_destroy(s->ctx, id);
			if (r != -ENOENT)
				W_FAIL(w, "destroy(%u) gave %d", id, r);
			snprintf(want, sizeof(want), "IOMMU_DESTROY (id %u)", id);
		}
		/* everyone has failed (or not) before anyone looks */
		pthread_barrier_wait(&s->step);
		msg = iommufd_last_error();
		if (!want[0] ? msg[0] != 0 : !strstr(msg, want))
			W_FAIL(w, "round %d: last error \"%s\", expected \"%s\"", round, msg, want);
		if (strcmp(iommufd_ctx_last_error(s->ctx), msg))
			W_FAIL(w, "round %d: ctx last error \"%s\" != last error \"%s\"", round,
			       iommufd_ctx_last_error(s->ctx), msg);
		if (iommufd_ctx_last_error(s->other)[0])
			W_FAIL(w, "round %d: the other context has an error: %s", round,
			       iommufd_ctx_last_error(s->other));
		pthread_barrier_wait(&s->step);
	}
	return NULL;
}

static void test_ctx_last_error(void **state)
{
	struct err_shared s = { .ctx = test_ctx_new(), .other = test_ctx_new() };
	struct worker w[NTHREADS];

	(void)state;
	pthread_barrier_init(&s.step, NULL, NTHREADS);
	run_workers(w, NTHREADS, err_thread, &s);
	pthread_barrier_destroy(&s.step);
	iommufd_ctx_unref(s.other);
	iommufd_ctx_unref(s.ctx);
}

/* ------------------------------------------------------------ ref/unref races */

#define REF_LOOPS 20000
#define REF_WORK 300

struct ref_shared {
	struct iommufd_ctx *ctx;
	int closes; /* "closing fd" debug messages seen; atomic */
	int running; /* workers still holding their ref; atomic */
	int early;   /* a close logged while a worker still held a ref; atomic */
};

static void ref_log(void *data, int prio, const char *file, int line, const char *fn,
		    const char *fmt, va_list ap)
{
	struct ref_shared *s = data;

	(void)prio, (void)file, (void)line, (void)fn, (void)ap;
	/* the debug message of iommufd_ctx_unref() when it closes the fd (lib/ctx.c) */
	if (strstr(fmt, "closing fd")) {
		__atomic_add_fetch(&s->closes, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&s->running, __ATOMIC_SEQ_CST))
			__atomic_add_fetch(&s->early, 1, __ATOMIC_SEQ_CST);
	}
}

static void *ref_thread(void *p)
{
	struct worker *w = p;
	struct ref_shared *s = w->arg;
	struct iommufd_ctx *ctx = s->ctx; /* the ref taken for us by the main thread */

	if (w->idx % 2) {
		/* take and drop refs as fast as possible */
		for (int i = 0; i < REF_LOOPS; i++) {
			struct iommufd_ctx *c = iommufd_ctx_ref(ctx);

			if (c != ctx) {
				W_FAIL(w, "ref returned %p, not %p", (void *)c, (void *)ctx);
				break;
			}
			if (iommufd_ctx_unref(c)) {
				W_FAIL(w, "unref returned non-NULL");
				break;
			}
		}
	} else {
		/* work on the context meanwhile */
		for (int i = 0; i < REF_WORK; i++) {
			uint64_t iova, got;
			uint32_t ioas;

			W_CALL(w, iommufd_ioas_alloc(ctx, &ioas));
			W_CALL(w, iommufd_ioas_map(ctx, ioas, buffer, 4 * PAGE, &iova, IOMMUFD_MAP_READ));
			W_CALL(w, iommufd_ioas_unmap_all(ctx, ioas, &got));
			W_CHECK(w, got == 4 * PAGE, "unmapped %#" PRIx64, got);
			W_CALL(w, iommufd_destroy(ctx, ioas));
			w->count++;
		}
	}
out:
	__atomic_sub_fetch(&s->running, 1, __ATOMIC_SEQ_CST);
	iommufd_ctx_unref(ctx);
	return NULL;
}

static void test_ctx_ref_race(void **state)
{
	struct ref_shared s = { 0 };
	struct worker w[NTHREADS];
	int fd;

	(void)state;
	s.ctx = test_ctx_new();
	fd = iommufd_ctx_get_fd(s.ctx);
	assert_true(fd >= 0);
	iommufd_ctx_set_log_fn(s.ctx, ref_log, &s);
	iommufd_ctx_set_log_priority(s.ctx, LOG_DEBUG);
	s.running = NTHREADS;
	/* one ref per worker; the main thread's goes while they run */
	for (int i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ .idx = i, .arg = &s };
		iommufd_ctx_ref(s.ctx);
	}
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&w[i].thread, NULL, ref_thread, &w[i]), 0);
	assert_null(iommufd_ctx_unref(s.ctx));
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (int i = 0; i < NTHREADS; i++) {
		if (w[i].err[0])
			fail_msg("%s", w[i].err);
		if (i % 2 == 0)
			assert_int_equal(w[i].count, REF_WORK);
	}
	/* the context was closed exactly once, by the last unref, after all work */
	assert_int_equal(s.closes, 1);
	assert_int_equal(s.early, 0);
	/* and its fd is gone */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

/* ------------------------------------------------------------ logging set while others log */

#define LOG_TOGGLES 3000

struct log_shared {
	struct iommufd_ctx *ctx;
	pthread_barrier_t phase;
	int calls, mismatches; /* atomic */
	int tag_a, tag_b;
};

static struct log_shared *log_s;

static void log_a(void *data, int prio, const char *file, int line, const char *fn,
		  const char *fmt, va_list ap)
{
	(void)prio, (void)file, (void)line, (void)fn, (void)fmt, (void)ap;
	__atomic_add_fetch(&log_s->calls, 1, __ATOMIC_SEQ_CST);
	if (data != &log_s->tag_a)
		__atomic_add_fetch(&log_s->mismatches, 1, __ATOMIC_SEQ_CST);
}

static void log_b(void *data, int prio, const char *file, int line, const char *fn,
		  const char *fmt, va_list ap)
{
	(void)prio, (void)file, (void)line, (void)fn, (void)fmt, (void)ap;
	__atomic_add_fetch(&log_s->calls, 1, __ATOMIC_SEQ_CST);
	if (data != &log_s->tag_b)
		__atomic_add_fetch(&log_s->mismatches, 1, __ATOMIC_SEQ_CST);
}

static void *log_thread(void *p)
{
	struct worker *w = p;
	struct log_shared *s = w->arg;

	if (w->idx == 0) {
		for (int i = 0; i < LOG_TOGGLES; i++) {
			switch (i % 3) {
			case 0:
				iommufd_ctx_set_log_fn(s->ctx, log_a, &s->tag_a);
				break;
			case 1:
				iommufd_ctx_set_log_fn(s->ctx, log_b, &s->tag_b);
				break;
			default:
				iommufd_ctx_set_log_fn(s->ctx, NULL, NULL);
			}
			iommufd_ctx_set_log_priority(s->ctx, i % 2 ? LOG_DEBUG : LOG_ERR);
		}
		iommufd_ctx_set_log_fn(s->ctx, log_a, &s->tag_a);
		iommufd_ctx_set_log_priority(s->ctx, LOG_DEBUG);
	} else {
		for (int i = 0; i < LOG_TOGGLES / 4; i++) {
			int r = iommufd_destroy(s->ctx, 0x20000000u + i);

			if (r != -ENOENT) {
				W_FAIL(w, "destroy gave %d", r);
				break;
			}
		}
	}
	pthread_barrier_wait(&s->phase);
	/* the log function is now fixed: each failure is logged once more */
	if (w->idx != 0 && iommufd_destroy(s->ctx, 0x30000000u) != -ENOENT)
		W_FAIL(w, "final destroy did not fail");
	return NULL;
}

static void test_ctx_log_race(void **state)
{
	struct log_shared s = { .ctx = test_ctx_new() };
	struct worker w[NTHREADS];
	int before;

	(void)state;
	log_s = &s;
	pthread_barrier_init(&s.phase, NULL, NTHREADS);
	run_workers(w, NTHREADS, log_thread, &s);
	pthread_barrier_destroy(&s.phase);
	/* every call went to a function with its own userdata */
	assert_int_equal(s.mismatches, 0);
	assert_true(s.calls >= NTHREADS - 1);
	before = s.calls;
	assert_errno(iommufd_destroy(s.ctx, 0x30000001u), ENOENT);
	assert_int_equal(s.calls, before + 1);
	iommufd_ctx_unref(s.ctx);
	log_s = NULL;
}

/* ------------------------------------------------------------ devices */

/* this test's scope context on a backend with the edu at EDU_BDF */
static struct iommufd_ctx *edu_scope(void)
{
	test_backend_get();
	if (!test_real_kernel()) {
		IOMMUFD_OPTS(struct iommufd_emu_device_opts, edu, .kind = IOMMUFD_EMU_DEVICE_EDU,
			     .bdf = EDU_BDF);

		assert_ok(iommufd_emu_add_pci_device(test_emu(), &edu, NULL, 0));
	}
	return test_scope();
}

static struct iommufd_device *edu_open(struct iommufd_ctx *scope)
{
	struct iommufd_device *dev = NULL;
	int r = iommufd_device_open_pci(scope, EDU_BDF, &dev);

	if (r)
		fail_msg("iommufd_device_open_pci(%s): %s", EDU_BDF, iommufd_last_error());
	return dev;
}

#define check(call)                                                                   \
	do {                                                                          \
		int r_ = (call);                                                      \
		if (r_)                                                               \
			fail_msg("%s = %d: %s", #call, r_, iommufd_last_error());     \
	} while (0)

/* --- attach / replace / detach storm on one device */

#define NPT 3
#define STORM_THREADS 6
#define STORM_CHUNK 10 /* ops per thread between two checks against the kernel */

struct storm {
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
	uint32_t dev_id;
	uint32_t ioas[NPT], hwpt[NPT]; /* changed only by the checker, between barriers */
	int ops;                       /* per thread */
	pthread_barrier_t check;
	int checks;
	bool stop; /* a check failed: the state is unknown, stop everyone */
};

static bool is_manual(const struct storm *s, uint32_t id)
{
	for (int i = 0; i < NPT; i++)
		if (s->hwpt[i] == id)
			return true;
	return false;
}

/* one random operation; false (with w->err set) on failure */
static bool storm_op(struct worker *w, struct storm *s)
{
	int k = rand_r(&w->seed) % NPT;
	uint32_t got = 0;

	switch (rand_r(&w->seed) % 8) {
	case 0:
	case 1:
		/* attach (or replace) to an IOAS: an auto-HWPT, never a manual one */
		W_CALL(w, iommufd_device_attach(s->dev, s->ioas[k], &got));
		W_CHECK(w, got && !is_manual(s, got), "attach to IOAS %u gave HWPT %u", s->ioas[k],
			got);
		break;
	case 2:
	case 3:
		W_CALL(w, iommufd_device_attach(s->dev, s->hwpt[k], &got));
		W_CHECK(w, got == s->hwpt[k], "attach to HWPT %u gave %u", s->hwpt[k], got);
		break;
	case 4:
		W_CALL(w, iommufd_device_detach(s->dev));
		break;
	case 5: {
		/* queries: never parked, always our dev_id and context */
		enum iommufd_device_state st = iommufd_device_get_state(s->dev);

		W_CHECK(w, st == IOMMUFD_DEVICE_BOUND || st == IOMMUFD_DEVICE_ATTACHED, "state %s",
			iommufd_device_state_name(st));
		W_CHECK(w, iommufd_device_get_dev_id(s->dev) == s->dev_id, "dev_id %u",
			iommufd_device_get_dev_id(s->dev));
		W_CHECK(w, iommufd_device_get_ctx(s->dev) == s->ctx, "another context");
		break;
	}
	case 6: {
		/* map and unmap while the device moves between domains (pins, fills) */
		uint64_t iova = (1ull << 32) + (uint64_t)w->idx * 0x100000, unmapped;

		W_CALL(w, iommufd_ioas_map(s->ctx, s->ioas[k], buffer + w->idx * PAGE, PAGE, &iova,
					   IOMMUFD_MAP_FIXED_IOVA | IOMMUFD_MAP_READ |
						   IOMMUFD_MAP_WRITE));
		W_CALL(w, iommufd_ioas_unmap(s->ctx, s->ioas[k], iova, PAGE, &unmapped));
		W_CHECK(w, unmapped == PAGE, "unmapped %#" PRIx64, unmapped);
		break;
	}
	default:
		/* take and drop references meanwhile */
		W_CHECK(w, iommufd_device_ref(s->dev) == s->dev, "device ref");
		W_CHECK(w, !iommufd_device_unref(s->dev), "device unref");
	}
	return true;
out:
	return false;
}

/*
 * With every thread stopped: the library's record must be the kernel's truth.
 * ATTACHED(pt): DESTROY(pt) is EBUSY. Every manual HWPT but pt can be
 * destroyed, and then every IOAS but the one holding the attached HWPT (an
 * auto-HWPT is destroyed with its last attachment, so only an attached one
 * keeps its IOAS busy). BOUND: all of them can. What was destroyed is made
 * again for the next round.
 */
static bool storm_check(struct worker *w, struct storm *s)
{
	enum iommufd_device_state st = iommufd_device_get_state(s->dev);
	uint32_t pt = iommufd_device_get_pt_id(s->dev);
	int busy_ioas = 0, r;

	s->checks++;
	W_CHECK(w, (st == IOMMUFD_DEVICE_ATTACHED) == (pt != 0), "state %s with pt_id %u",
		iommufd_device_state_name(st), pt);
	if (pt) {
		r = iommufd_destroy(s->ctx, pt);
		W_CHECK(w, r == -EBUSY, "check %d: the library says attached to %u, DESTROY of it gave %d",
			s->checks, pt, r);
	}
	for (int k = 0; k < NPT; k++) {
		if (s->hwpt[k] == pt)
			continue; /* its IOAS stays busy, by that HWPT */
		r = iommufd_destroy(s->ctx, s->hwpt[k]);
		W_CHECK(w, r == 0, "check %d: the library says %s %u, DESTROY of manual HWPT %u gave %d",
			s->checks, iommufd_device_state_name(st), pt, s->hwpt[k], r);
		r = iommufd_destroy(s->ctx, s->ioas[k]);
		if (r == -EBUSY) {
			busy_ioas++;
		} else {
			W_CHECK(w, r == 0, "check %d: DESTROY of IOAS %u gave %d", s->checks, s->ioas[k], r);
			W_CALL(w, iommufd_ioas_alloc(s->ctx, &s->ioas[k]));
		}
		W_CALL(w, iommufd_hwpt_alloc(s->ctx, s->dev_id, s->ioas[k], NULL, &s->hwpt[k]));
	}
	/* exactly one IOAS held by an auto-HWPT when attached to one, else none */
	W_CHECK(w, busy_ioas == (pt && !is_manual(s, pt)),
		"check %d: the library says %s %u (%s), %d IOAS busy", s->checks,
		iommufd_device_state_name(st), pt, pt && !is_manual(s, pt) ? "auto" : "manual",
		busy_ioas);
	return true;
out:
	return false;
}

static void *storm_thread(void *p)
{
	struct worker *w = p;
	struct storm *s = w->arg;

	for (int op = 0; op < s->ops; op++) {
		/* after an error: keep meeting the others at the barriers, do nothing */
		if (!w->err[0] && !s->stop && storm_op(w, s))
			w->count++;
		if ((op + 1) % STORM_CHUNK == 0) {
			if (pthread_barrier_wait(&s->check) == PTHREAD_BARRIER_SERIAL_THREAD &&
			    !s->stop && !storm_check(w, s))
				s->stop = true;
			pthread_barrier_wait(&s->check);
		}
	}
	return NULL;
}

static void test_device_storm(void **state)
{
	struct iommufd_ctx *scope = edu_scope();
	struct worker w[STORM_THREADS];
	struct storm s = { .ctx = test_ctx_new() };
	enum iommufd_device_state st;
	uint32_t pt, got;

	(void)state;
	s.dev = edu_open(scope);
	/* a few thousand transitions in all (fewer on the slow TCG VM) */
	s.ops = test_real_kernel() ? 500 : 1000;
	check(iommufd_device_bind(s.dev, s.ctx, NULL, &s.dev_id));
	for (int i = 0; i < NPT; i++) {
		check(iommufd_ioas_alloc(s.ctx, &s.ioas[i]));
		check(iommufd_hwpt_alloc(s.ctx, s.dev_id, s.ioas[i], NULL, &s.hwpt[i]));
	}
	pthread_barrier_init(&s.check, NULL, STORM_THREADS);
	run_workers(w, STORM_THREADS, storm_thread, &s);
	pthread_barrier_destroy(&s.check);
	for (int i = 0; i < STORM_THREADS; i++)
		assert_int_equal(w[i].count, s.ops);
	assert_int_equal(s.checks, s.ops / STORM_CHUNK);

	/* the final record, once more, and a clean end */
	st = iommufd_device_get_state(s.dev);
	pt = iommufd_device_get_pt_id(s.dev);
	assert_int_equal(iommufd_device_get_dev_id(s.dev), s.dev_id);
	if (st == IOMMUFD_DEVICE_ATTACHED) {
		assert_int_not_equal(pt, 0);
		/* attached there: the kernel refuses to destroy it... */
		assert_errno(iommufd_destroy(s.ctx, pt), EBUSY);
		/* ...and re-attaching to it is a no-op replace that names it */
		check(iommufd_device_attach(s.dev, pt, &got));
		assert_int_equal(got, pt);
		for (int i = 0; i < NPT; i++)
			if (s.hwpt[i] != pt)
				check(iommufd_destroy(s.ctx, s.hwpt[i]));
		check(iommufd_device_detach(s.dev));
		/* a manual HWPT is free now; an auto one went with its last attachment */
		if (is_manual(&s, pt))
			check(iommufd_destroy(s.ctx, pt));
		else
			assert_errno(iommufd_destroy(s.ctx, pt), ENOENT);
	} else {
		assert_int_equal(st, IOMMUFD_DEVICE_BOUND);
		assert_int_equal(pt, 0);
		for (int i = 0; i < NPT; i++)
			check(iommufd_destroy(s.ctx, s.hwpt[i]));
	}
	assert_int_equal(iommufd_device_get_state(s.dev), IOMMUFD_DEVICE_BOUND);
	assert_int_equal(iommufd_device_get_pt_id(s.dev), 0);
	/* no auto-HWPT is left behind on any IOAS: each can be destroyed */
	for (int i = 0; i < NPT; i++)
		check(iommufd_destroy(s.ctx, s.ioas[i]));
	iommufd_device_unref(s.dev);
	iommufd_ctx_unref(s.ctx);
	test_backend_put();
}

/* --- concurrent binds */

#define BIND_ROUNDS 10

struct bind_shared {
	struct iommufd_device *dev;      /* one handle for all, or NULL: ... */
	struct iommufd_device *devs[NTHREADS]; /* ... one file per thread */
	struct iommufd_ctx *ctxs[NTHREADS];
	pthread_barrier_t start;
};

static void *bind_thread(void *p)
{
	struct worker *w = p;
	struct bind_shared *s = w->arg;
	struct iommufd_device *dev = s->dev ? s->dev : s->devs[w->idx];

	pthread_barrier_wait(&s->start);
	w->ret = iommufd_device_bind(dev, s->ctxs[w->idx], NULL, &w->id);
	if (w->ret && w->ret != -EINVAL)
		W_FAIL(w, "bind gave %d: %s", w->ret, iommufd_last_error());
	if (w->ret && !strstr(iommufd_last_error(), "EINVAL"))
		W_FAIL(w, "the reason does not say EINVAL: %s", iommufd_last_error());
	return NULL;
}

static void bind_race(bool one_handle)
{
	struct iommufd_ctx *scope = edu_scope();
	struct worker w[NTHREADS];

	for (int round = 0; round < BIND_ROUNDS; round++) {
		struct bind_shared s = { 0 };
		int winner = -1;

		/* each thread binds to its own context */
		for (int i = 0; i < NTHREADS; i++) {
			s.ctxs[i] = test_ctx_new();
			if (!one_handle)
				s.devs[i] = edu_open(scope);
		}
		if (one_handle)
			s.dev = edu_open(scope);
		pthread_barrier_init(&s.start, NULL, NTHREADS);
		run_workers(w, NTHREADS, bind_thread, &s);
		pthread_barrier_destroy(&s.start);

		for (int i = 0; i < NTHREADS; i++) {
			if (w[i].ret)
				continue;
			if (winner >= 0)
				fail_msg("round %d: threads %d and %d both bound", round, winner, i);
			winner = i;
		}
		if (winner < 0)
			fail_msg("round %d: no bind succeeded", round);
		for (int i = 0; i < NTHREADS; i++) {
			struct iommufd_device *d = one_handle ? s.dev : s.devs[i];

			if (!one_handle && i != winner) {
				/* the losers' files stay parked */
				assert_int_equal(iommufd_device_get_state(d), IOMMUFD_DEVICE_PARKED);
				assert_int_equal(iommufd_device_get_dev_id(d), 0);
				assert_null(iommufd_device_get_ctx(d));
				continue;
			}
			if (i != winner)
				continue;
			/* BOUND, with the winner's dev_id and context */
			assert_int_equal(iommufd_device_get_state(d), IOMMUFD_DEVICE_BOUND);
			assert_int_equal(iommufd_device_get_dev_id(d), w[winner].id);
			assert_ptr_equal(iommufd_device_get_ctx(d), s.ctxs[winner]);
			/* the kernel agrees: the winner's context holds that DEVICE (EBUSY)... */
			assert_errno(iommufd_destroy(s.ctxs[winner], w[winner].id), EBUSY);
			/* ...and the device works through it: attach to an IOAS of that context */
			{
				uint32_t ioas, hwpt;

				check(iommufd_ioas_alloc(s.ctxs[winner], &ioas));
				check(iommufd_device_attach(d, ioas, &hwpt));
				assert_int_equal(iommufd_device_get_state(d), IOMMUFD_DEVICE_ATTACHED);
				assert_int_equal(iommufd_device_get_pt_id(d), hwpt);
			}
		}
		/* the losers' contexts hold no DEVICE: their ID 1 is free */
		for (int i = 0; i < NTHREADS; i++) {
			if (i != winner)
				assert_errno(iommufd_destroy(s.ctxs[i], 1), ENOENT);
		}
		iommufd_device_unref(s.dev);
		for (int i = 0; i < NTHREADS; i++) {
			iommufd_device_unref(s.devs[i]);
			iommufd_ctx_unref(s.ctxs[i]);
		}
	}
	test_backend_put();
}

static void test_device_bind_race_one_handle(void **state)
{
	(void)state;
	bind_race(true);
}

static void test_device_bind_race_many_files(void **state)
{
	(void)state;
	bind_race(false);
}

/* --- driver queries racing the bind of their device */

#define QUERY_LOOPS 200

struct query_shared {
	struct iommufd_ctx *ctx;
	struct iommufd_device *dev;
	pthread_barrier_t bound;
};

static void *query_thread(void *p)
{
	struct worker *w = p;
	struct query_shared *s = w->arg;

	if (w->idx == 0) {
		/* the binder: let the others start on a parked device */
		usleep(1000);
		w->ret = iommufd_device_bind(s->dev, s->ctx, NULL, &w->id);
		if (w->ret)
			W_FAIL(w, "bind gave %d: %s", w->ret, iommufd_last_error());
		pthread_barrier_wait(&s->bound);
		return NULL;
	}
	/* before and during the bind: EINVAL (parked) or success, nothing else */
	for (int i = 0; i < QUERY_LOOPS && !w->err[0]; i++) {
		IOMMUFD_OPTS(struct iommufd_device_info, info);
		IOMMUFD_OPTS(struct iommufd_region_info, ri);
		uint32_t val;
		int r;

		switch ((i + w->idx) % 3) {
		case 0:
			r = iommufd_device_get_info(s->dev, &info);
			break;
		case 1:
			r = iommufd_device_get_region_info(s->dev, IOMMUFD_PCI_BAR0_REGION, &ri);
			if (!r && !ri.size)
				W_FAIL(w, "BAR0 of size 0");
			break;
		default:
			r = iommufd_device_config_read(s->dev, 0, 2, &val);
			if (!r && val != 0x1234)
				W_FAIL(w, "vendor %#x", val);
		}
		if (r && r != -EINVAL)
			W_FAIL(w, "query %d gave %d: %s", i % 3, r, iommufd_last_error());
	}
	pthread_barrier_wait(&s->bound);
	/* once bound: every query works, with the bound device's answers */
	{
		IOMMUFD_OPTS(struct iommufd_region_info, ri);
		uint32_t val = 0;
		int r = iommufd_device_get_region_info(s->dev, IOMMUFD_PCI_BAR0_REGION, &ri);

		if (r || !ri.size)
			W_FAIL(w, "bound: region info %d size %#" PRIx64 ": %s", r, ri.size,
			       iommufd_last_error());
		r = iommufd_device_config_read(s->dev, 2, 2, &val);
		if (r || val != 0x11e8)
			W_FAIL(w, "bound: device id %d %#x: %s", r, val, iommufd_last_error());
	}
	return NULL;
}

static void test_device_queries_during_bind(void **state)
{
	struct iommufd_ctx *scope = edu_scope();
	struct query_shared s = { .ctx = test_ctx_new() };
	struct worker w[NTHREADS];

	(void)state;
	s.dev = edu_open(scope);
	pthread_barrier_init(&s.bound, NULL, NTHREADS);
	run_workers(w, NTHREADS, query_thread, &s);
	pthread_barrier_destroy(&s.bound);
	assert_int_equal(iommufd_device_get_state(s.dev), IOMMUFD_DEVICE_BOUND);
	assert_int_equal(iommufd_device_get_dev_id(s.dev), w[0].id);
	iommufd_device_unref(s.dev);
	iommufd_ctx_unref(s.ctx);
	test_backend_put();
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ctx_private_ioas),
		T(test_ctx_shared_ioas),
		T(test_ctx_objects),
		T(test_ctx_probe),
		T(test_ctx_last_error),
		T(test_ctx_ref_race),
		T(test_ctx_log_race),
		T(test_device_storm),
		T(test_device_bind_race_one_handle),
		T(test_device_bind_race_many_files),
		T(test_device_queries_during_bind),
	};

	return cmocka_run_group_tests_name("threads", tests, group_setup, NULL);
}
