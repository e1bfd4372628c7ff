// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_pvclock_ns() against reference.py: seeded random and edge
 * parameters, tsc_shift of both signs (and out-of-range ones, which must
 * give a zero delta rather than undefined behaviour).
 */
#include <stdio.h>

#include <vmclock/vmclock-core.h>

#include "refpipe.h"
#include "rng.h"
#include "tap.h"
#include "tests.h"

#define PV_CASES	200000ULL

/* Record layout of reference.py's "pvclock" mode. */
struct pv_case {
	u64 tsc, stamp, system_time, mul;
	s64 shift;
};

struct pv_run {
	u64 checked, mismatches, neg, pos;
};

static void pv_case(u64 *rng, struct pv_case *c)
{
	static const s64 edge_shift[] = { -128, -65, -64, -63, -1, 0, 1,
					  31, 63, 64, 127 };
	u64 r = rng_below(rng, 10);

	c->stamp = rng_next(rng);
	/* Mostly a TSC a little after the stamp; sometimes anywhere. */
	c->tsc = r < 8 ? c->stamp + (rng_bits(rng) >> 16) : rng_next(rng);
	c->system_time = rng_below(rng, 2) ? rng_bits(rng) : rng_next(rng);
	c->mul = (u32)rng_next(rng);
	if (r == 9)
		c->shift = edge_shift[rng_below(rng, 11)];
	else if (r == 8)
		c->shift = (s8)rng_next(rng);
	else
		c->shift = (s64)rng_below(rng, 65) - 32;
}

static void pv_emit(FILE *to_ref, void *ctx)
{
	struct pv_case c;
	u64 rng = 3;

	(void)ctx;
	for (u64 i = 0; i < PV_CASES; i++) {
		pv_case(&rng, &c);
		if (fwrite(&c, sizeof(c), 1, to_ref) != 1)
			return;
	}
}

static void pv_check(FILE *from_ref, void *ctx)
{
	struct pv_run *run = ctx;
	struct pv_case c;
	u64 want, got, rng = 3;

	for (u64 i = 0; i < PV_CASES; i++) {
		if (fread(&want, sizeof(want), 1, from_ref) != 1)
			break;
		pv_case(&rng, &c);
		got = vmclock_pvclock_ns(c.tsc, c.stamp, c.system_time,
					 (u32)c.mul, (s8)c.shift);
		run->checked++;
		run->neg += c.shift < 0;
		run->pos += c.shift > 0;
		if (got != want && run->mismatches++ < 3)
			tap_diag("tsc %#llx stamp %#llx sys %#llx mul %#llx shift %lld: want %#llx got %#llx",
				 (unsigned long long)c.tsc,
				 (unsigned long long)c.stamp,
				 (unsigned long long)c.system_time,
				 (unsigned long long)c.mul, (long long)c.shift,
				 (unsigned long long)want,
				 (unsigned long long)got);
	}
	while (fread(&want, sizeof(want), 1, from_ref) == 1)
		run->mismatches++;
}

void test_pvclock(void)
{
	struct pv_run run = { 0 };
	struct ref_job job = {
		.mode = "pvclock", .emit = pv_emit, .check = pv_check,
		.ctx = &run,
	};
	int ret = ref_run(&job);

	tap_ok(!ret && run.checked == PV_CASES && !run.mismatches &&
	       run.neg && run.pos,
	       "pvclock_ns matches reference.py (%llu cases, %llu negative and %llu positive tsc_shift, %llu wrong)",
	       (unsigned long long)run.checked, (unsigned long long)run.neg,
	       (unsigned long long)run.pos,
	       (unsigned long long)run.mismatches);

	/* By hand: 2 GHz TSC, mul 2^31 with shift 0 is 0.5 ns per tick. */
	tap_ok(vmclock_pvclock_ns(3000, 1000, 500, 1U << 31, 0) == 1500 &&
	       vmclock_pvclock_ns(3000, 1000, 500, 1U << 31, -1) == 1000 &&
	       vmclock_pvclock_ns(3000, 1000, 500, 1U << 31, 1) == 2500,
	       "pvclock_ns known answers for tsc_shift -1, 0, +1");
}
