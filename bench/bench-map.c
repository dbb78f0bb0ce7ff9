// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * bench-map: map and unmap N areas through the emulator's IOAS page-table
 * engine (lib/emu/iopt.c), with fixed and automatic IOVAs, and print the
 * operations per second of each phase and the peak RSS, for N = 10,000,
 * 100,000 and 1,000,000 by default (or the N given as arguments). With
 * O(log n) operations the ns/op column grows by a small constant per decade,
 * not by 10x. Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so a
 * loaded machine disturbs them less than wall-clock time would.
 *
 * Phases per N (each on a fresh IOAS, no domain, so nothing is pinned):
 *   map-fixed    N one-page maps at fixed IOVAs (gaps of one page between)
 *   lookup       N translations of random mapped IOVAs
 *   unmap-fixed  N unmaps in random order
 *   map-auto     N one-page maps with allocated IOVAs (first fit)
 *   unmap-auto   N unmaps in ascending order
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#include "emu/iopt.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void report(size_t n, const char *phase, double secs)
{
	printf("%-9zu %-12s %12.0f %10.1f %12ld\n", n, phase, n / secs, secs * 1e9 / n,
	       peak_rss_kib());
	fflush(stdout);
}

static void die(const char *what, size_t i, int rc)
{
	fprintf(stderr, "bench-map: %s #%zu failed: %s\n", what, i, strerror(-rc));
	exit(1);
}

static void run(size_t n)
{
	const uint64_t ps = iopt_page_size(), va = 0x7f0000000000ULL;
	uint64_t *iovas, un, sum = 0;
	struct iopt *iopt;
	struct iopt_xlate x;
	size_t i;
	double t;
	int rc;

	iovas = malloc(n * sizeof(*iovas));
	if (!iovas || iopt_new(false, NULL, &iopt))
		die("setup", 0, -12);

	t = now();
	for (i = 0; i < n; i++) {
		iovas[i] = (2 * i + 1) * ps;
		rc = iopt_map_user(iopt, &iovas[i], va + i * ps, ps, IOPT_READ | IOPT_WRITE,
				   IOPT_MAP_FIXED);
		if (rc)
			die("map-fixed", i, rc);
	}
	report(n, "map-fixed", now() - t);

	t = now();
	for (i = 0; i < n; i++) {
		rc = iopt_translate(iopt, iovas[rng() % n] + 123, &x);
		if (rc)
			die("lookup", i, rc);
		sum += x.uva;
	}
	report(n, "lookup", now() - t);

	for (i = n - 1; i > 0; i--) {
		size_t j = rng() % (i + 1);
		uint64_t tmp = iovas[i];

		iovas[i] = iovas[j];
		iovas[j] = tmp;
	}
	t = now();
	for (i = 0; i < n; i++) {
		rc = iopt_unmap(iopt, iovas[i], ps, &un);
		if (rc)
			die("unmap-fixed", i, rc);
	}
	report(n, "unmap-fixed", now() - t);

	t = now();
	for (i = 0; i < n; i++) {
		iovas[i] = 0;
		rc = iopt_map_user(iopt, &iovas[i], va + i * ps, ps, IOPT_READ | IOPT_WRITE, 0);
		if (rc)
			die("map-auto", i, rc);
	}
	report(n, "map-auto", now() - t);

	t = now();
	for (i = 0; i < n; i++) {
		rc = iopt_unmap(iopt, iovas[i], ps, &un);
		if (rc)
			die("unmap-auto", i, rc);
	}
	report(n, "unmap-auto", now() - t);

	if (iopt_area_count(iopt) != 0)
		die("final count", 0, -22);
	iopt_free(iopt);
	free(iovas);
	if (sum == 1)
		printf("(never)\n");
}

int main(int argc, char **argv)
{
	static const size_t defaults[] = { 10000, 100000, 1000000 };
	int i;

	printf("%-9s %-12s %12s %10s %12s\n", "N", "phase", "ops/s", "ns/op", "peak-RSS-KiB");
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			run(strtoull(argv[i], NULL, 0));
	} else {
		for (i = 0; i < 3; i++)
			run(defaults[i]);
	}
	return 0;
}
