// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * lib-bench PAGE [RUNS]: the cost of libvmclock's vmclock_now() against the
 * vDSO's clock_gettime(CLOCK_REALTIME), measured in the same run, and of
 * the disruption token check. PAGE must carry clock data for this CPU's
 * counter (bench/lib-bench.sh writes one with tools/vmclock-host).
 *
 * Each run times a batch of each call back to back with CLOCK_MONOTONIC
 * around it, so that a busy neighbour slows the calls of one run alike; the
 * ratio is taken per run and the report gives the medians over the runs.
 * The last line is for scripts:
 *   bench: libvmclock now/clock_gettime=R token_ns=T
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vmclock.h"
#include "counter.h"	/* the library's ordered counter read, for the floor */

#define BATCH	500000
#define MAX_RUNS	101

static volatile int64_t sink;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double time_now(struct vmclock *vc)
{
	struct vmclock_now n;
	int64_t acc = 0;
	double t0 = mono();
	int i;

	for (i = 0; i < BATCH; i++) {
		vmclock_now(vc, &n);
		acc += n.realtime.latest.tv_nsec;
	}
	sink = acc;
	return (mono() - t0) / BATCH;
}

static double time_gettime(void)
{
	struct timespec ts;
	int64_t acc = 0;
	double t0 = mono();
	int i;

	for (i = 0; i < BATCH; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		acc += ts.tv_nsec;
	}
	sink = acc;
	return (mono() - t0) / BATCH;
}

static double time_token(struct vmclock *vc, const struct vmclock_token *tok)
{
	int64_t acc = 0;
	double t0 = mono();
	int i;

	for (i = 0; i < BATCH; i++)
		acc += vmclock_token_check(vc, tok);
	sink = acc;
	return (mono() - t0) / BATCH;
}

/* The floor: the library's ordered counter read alone (lfence; rdtsc). */
static double time_counter(void)
{
	int64_t acc = 0;
	double t0 = mono();
	int i;

	for (i = 0; i < BATCH; i++)
		acc += vmclock_counter_read(NULL);
	sink = acc;
	return (mono() - t0) / BATCH;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	double now_ns[MAX_RUNS], cgt_ns[MAX_RUNS], tok_ns[MAX_RUNS], ratio[MAX_RUNS], ctr[MAX_RUNS];
	struct vmclock_token tok;
	struct vmclock_now n;
	struct vmclock *vc;
	int runs = argc > 2 ? atoi(argv[2]) : 21;
	int r, ret;

	if (argc < 2 || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: lib-bench PAGE [RUNS 1..%d]\n", MAX_RUNS);
		return 2;
	}
	ret = vmclock_open(argv[1], &vc);
	if (ret) {
		fprintf(stderr, "lib-bench: %s: %s\n", argv[1], vmclock_strerror(ret));
		return 1;
	}
	if (vmclock_now(vc, &n) || n.realtime.source != VMCLOCK_SOURCE_PAGE ||
	    !n.realtime.bounded || vmclock_token_take(vc, &tok) ||
	    vmclock_token_check(vc, &tok) != 1) {
		fprintf(stderr, "lib-bench: %s has no usable clock data for this CPU\n",
			argv[1]);
		return 1;
	}
	printf("# run  now_ns  clock_gettime_ns  ratio  token_check_ns  (%d calls each)\n", BATCH);
	for (r = 0; r < runs; r++) {
		now_ns[r] = time_now(vc);
		cgt_ns[r] = time_gettime();
		tok_ns[r] = time_token(vc, &tok);
		ctr[r] = time_counter() / cgt_ns[r];
		ratio[r] = now_ns[r] / cgt_ns[r];
		printf("%5d  %6.2f  %16.2f  %5.2f  %14.2f\n", r + 1, now_ns[r], cgt_ns[r],
		       ratio[r], tok_ns[r]);
	}
	{
		double mn = median(now_ns, runs), mc = median(cgt_ns, runs);
		double mt = median(tok_ns, runs), mr = median(ratio, runs);

		printf("median of %d runs: now %.2f ns, clock_gettime(CLOCK_REALTIME) %.2f ns, ratio %.2f, token check %.2f ns\n",
		       runs, mn, mc, mr, mt);
		printf("the ordered counter read alone costs %.2f of clock_gettime (median)\n",
		       median(ctr, runs));
		printf("bench: libvmclock now/clock_gettime=%.2f token_ns=%.1f\n", mr, mt);
	}
	vmclock_close(vc);
	return 0;
}
