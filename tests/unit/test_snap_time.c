// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_snap_time() against reference.py over more than a million cases,
 * and vmclock_snap_instant() against it (the same time, no bounds):
 * a grid of edge values (every error-flag combination, shifts 0/63/invalid,
 * periods 0/1/max, counters wrapping past 2^64, readings before
 * counter_value, time_sec next to U64_MAX, distances around a day ahead and
 * on both sides of the behind bound) and a seeded random mix including
 * realistic pages.
 */
#include <stdio.h>
#include <string.h>

#include <vmclock/vmclock-core.h>

#include "refpipe.h"
#include "rng.h"
#include "tests.h"
#include "tap.h"

#define NS_PERIOD	0x89705F4136B4A597ULL	/* 1 ns at shift 29 */
#define ERR_FLAGS	(VMCLOCK_FLAG_PERIOD_ESTERROR_VALID |		\
			 VMCLOCK_FLAG_PERIOD_MAXERROR_VALID |		\
			 VMCLOCK_FLAG_TIME_ESTERROR_VALID |		\
			 VMCLOCK_FLAG_TIME_MAXERROR_VALID)
#define RANDOM_CASES	600000ULL
#define DAY_SEC		86400ULL	/* distances around a day stay interesting */

/* Record layouts of reference.py's "time" mode. */
struct time_case {
	u64 counter, counter_value, period, shift, period_esterror;
	u64 period_maxerror, time_sec, time_frac, time_esterror;
	u64 time_maxerror, flags;
};

struct time_result {
	s64 rc;
	u64 sec, nsec, frac, esterror, maxerror;
};

static const u64 grid_shift[] = { 0, 1, 29, 31, 32, 62, 63, 64, 255 };
static const u64 grid_period[] = { 0, 1, 2, NS_PERIOD, 1ULL << 63,
				   UINT64_MAX };
static const u64 grid_cv[] = { 0, 1ULL << 63, UINT64_MAX - 2 };
static const u64 grid_tsec[] = { 0, 1, 1700000000, UINT64_MAX - 86400,
				 UINT64_MAX - 1, UINT64_MAX };
static const u64 grid_tfrac[] = { 0, 1, 1ULL << 63, UINT64_MAX };
static const u64 err_time[] = { 0, 1, 1000, UINT64_MAX - 1, UINT64_MAX };
static const u64 err_rate[] = { 0, 1, NS_PERIOD, UINT64_MAX };
#define N(a)		(sizeof(a) / sizeof((a)[0]))
#define GRID_DELTAS	12
#define GRID_CASES	(N(grid_shift) * N(grid_period) * N(grid_cv) *	\
			 GRID_DELTAS * N(grid_tsec) * N(grid_tfrac) * 16)

/*
 * Smallest distance in ticks whose elapsed time reaches @limit seconds, or
 * 2^63 when none below that does. Only picks inputs: the expected results
 * come from reference.py.
 */
static u64 boundary(u64 period, unsigned int shift, u64 limit)
{
	u64 lo = 0, hi = 1ULL << 63;

	if (!period || shift > 63)
		return 1000;
	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;
		unsigned __int128 e = ((unsigned __int128)mid * period) >> shift;

		if ((u64)(e >> 64) >= limit)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Signed distance near either bound, near zero, or at the extremes. */
static u64 grid_delta(unsigned int k, const struct time_case *c, u64 *rng)
{
	u64 ahead = boundary(c->period, c->shift, DAY_SEC);
	u64 behind = boundary(c->period, c->shift, VMCLOCK_MAX_BEHIND_SEC);

	switch (k) {
	case 0: return 0;
	case 1: return 1;
	case 2: return -1ULL;
	case 3: return INT64_MAX;
	case 4: return 1ULL << 63;		/* most negative */
	case 5: return ahead - 1;
	case 6: return ahead;
	case 7: return -(behind - 1);
	case 8: return -behind;
	case 9: return rng_bits(rng) >> 24;
	case 10: return -(rng_bits(rng) >> 24);
	default: return rng_next(rng);
	}
}

static void grid_case(u64 i, u64 *rng, struct time_case *c)
{
	u64 flags = i % 16, k;

	i /= 16;
	c->time_frac = grid_tfrac[i % N(grid_tfrac)];
	i /= N(grid_tfrac);
	c->time_sec = grid_tsec[i % N(grid_tsec)];
	i /= N(grid_tsec);
	k = i % GRID_DELTAS;
	i /= GRID_DELTAS;
	c->counter_value = grid_cv[i % N(grid_cv)];
	i /= N(grid_cv);
	c->period = grid_period[i % N(grid_period)];
	i /= N(grid_period);
	c->shift = grid_shift[i % N(grid_shift)];

	/* The four error-valid bits take every combination. */
	c->flags = (flags & 1 ? VMCLOCK_FLAG_PERIOD_ESTERROR_VALID : 0) |
		   (flags & 2 ? VMCLOCK_FLAG_PERIOD_MAXERROR_VALID : 0) |
		   (flags & 4 ? VMCLOCK_FLAG_TIME_ESTERROR_VALID : 0) |
		   (flags & 8 ? VMCLOCK_FLAG_TIME_MAXERROR_VALID : 0);
	c->counter = c->counter_value + grid_delta(k, c, rng);
	c->time_esterror = rng_pick(rng, err_time, N(err_time));
	c->time_maxerror = rng_pick(rng, err_time, N(err_time));
	c->period_esterror = rng_pick(rng, err_rate, N(err_rate));
	c->period_maxerror = rng_pick(rng, err_rate, N(err_rate));
}

/* A page a hypervisor could write: a counter of 1 MHz .. 6 GHz. */
static void realistic_period(u64 *rng, struct time_case *c)
{
	u64 freq = 1000000 + rng_below(rng, 6000000000ULL);
	unsigned int shift = 0;

	/* The largest shift whose period still fits in 64 bits. */
	while (shift < 63 &&
	       ((unsigned __int128)1 << (65 + shift)) / freq <= UINT64_MAX)
		shift++;
	c->shift = shift;
	c->period = ((unsigned __int128)1 << (64 + shift)) / freq;
	c->period_esterror = c->period >> (20 + rng_below(rng, 30));
	c->period_maxerror = c->period >> (10 + rng_below(rng, 30));
}

static void random_case(u64 *rng, struct time_case *c)
{
	static const u64 specials[] = { 0, 1, UINT64_MAX, NS_PERIOD,
					1ULL << 63 };
	u64 r = rng_below(rng, 100), dist, sel;

	c->shift = rng_below(rng, 64);
	c->period = rng_bits(rng);
	c->period_esterror = rng_bits(rng);
	c->period_maxerror = rng_bits(rng);
	if (r < 35) {
		realistic_period(rng, c);
	} else if (r < 45) {
		c->period = rng_pick(rng, specials, N(specials));
		c->shift = rng_below(rng, 2) ? 63 : 0;
	} else if (r < 50) {
		c->shift = 64 + rng_below(rng, 192);	/* invalid */
	}

	c->counter_value = rng_below(rng, 4) ? rng_next(rng) :
			   UINT64_MAX - rng_below(rng, 1000);
	sel = rng_below(rng, 10);
	if (sel < 4) {			/* up to about ten minutes */
		dist = rng_next(rng) >> (rng_below(rng, 64) | 22);
		c->counter = c->counter_value +
			     (rng_below(rng, 2) ? dist : -dist);
	} else if (sel < 6) {		/* around the ahead bound */
		dist = boundary(c->period, c->shift, DAY_SEC);
		c->counter = c->counter_value + dist - 3 + rng_below(rng, 7);
	} else if (sel < 8) {		/* around the behind bound */
		dist = boundary(c->period, c->shift, VMCLOCK_MAX_BEHIND_SEC);
		c->counter = c->counter_value - dist - 3 + rng_below(rng, 7);
	} else {
		c->counter = rng_next(rng);
	}

	sel = rng_below(rng, 10);
	if (sel < 5)
		c->time_sec = 1700000000 + rng_below(rng, 1ULL << 32);
	else if (sel < 7)
		c->time_sec = UINT64_MAX - rng_below(rng, 3 * 86400);
	else if (sel < 8)
		c->time_sec = rng_below(rng, 3);
	else
		c->time_sec = rng_next(rng);
	c->time_frac = rng_below(rng, 8) ? rng_next(rng) :
		       rng_pick(rng, specials, 3);
	c->time_esterror = rng_bits(rng);
	c->time_maxerror = rng_bits(rng);
	/* Random bits: every error-flag combination plus unknown flags. */
	c->flags = rng_next(rng);
}

struct time_run {
	bool grid;		/* else random */
	u64 cases;
	/* filled by the checker */
	u64 checked, mismatches, ok, einval, erange, finite, unknown;
	u64 instant_wrong;	/* vmclock_snap_instant() disagreeing */
};

static void next_case(const struct time_run *run, u64 i, u64 *rng,
		      struct time_case *c)
{
	if (run->grid)
		grid_case(i, rng, c);
	else
		random_case(rng, c);
}

static void emit_cases(FILE *to_ref, void *ctx)
{
	const struct time_run *run = ctx;
	u64 rng = run->grid ? 1 : 2;
	struct time_case c;

	for (u64 i = 0; i < run->cases; i++) {
		next_case(run, i, &rng, &c);
		if (fwrite(&c, sizeof(c), 1, to_ref) != 1)
			return;
	}
}

static void show_case(const struct time_case *c, const struct time_result *want,
		      int rc, const struct vmclock_time *t)
{
	tap_diag("counter=%#llx cv=%#llx period=%#llx shift=%llu flags=%#llx",
		 (unsigned long long)c->counter,
		 (unsigned long long)c->counter_value,
		 (unsigned long long)c->period, (unsigned long long)c->shift,
		 (unsigned long long)c->flags);
	tap_diag("  time=%#llx.%016llx err est %llu+%#llx max %llu+%#llx",
		 (unsigned long long)c->time_sec,
		 (unsigned long long)c->time_frac,
		 (unsigned long long)c->time_esterror,
		 (unsigned long long)c->period_esterror,
		 (unsigned long long)c->time_maxerror,
		 (unsigned long long)c->period_maxerror);
	tap_diag("  want rc=%lld %llu.%09llu frac=%#llx est=%llu max=%llu",
		 (long long)want->rc, (unsigned long long)want->sec,
		 (unsigned long long)want->nsec,
		 (unsigned long long)want->frac,
		 (unsigned long long)want->esterror,
		 (unsigned long long)want->maxerror);
	tap_diag("  got  rc=%d %llu.%09u frac=%#llx est=%llu max=%llu", rc,
		 (unsigned long long)t->sec, t->nsec,
		 (unsigned long long)t->frac,
		 (unsigned long long)t->esterror_ns,
		 (unsigned long long)t->maxerror_ns);
}

static bool same(const struct time_result *want, int rc,
		 const struct vmclock_time *t, const struct vmclock_time *pat)
{
	if (want->rc != rc)
		return false;
	if (rc)		/* @t must be untouched on error */
		return !memcmp(t, pat, sizeof(*t));
	return t->sec == want->sec && t->nsec == want->nsec &&
	       t->frac == want->frac && t->esterror_ns == want->esterror &&
	       t->maxerror_ns == want->maxerror;
}

/*
 * vmclock_snap_instant() on the same case: the same result and time as
 * vmclock_snap_time() gave (@rc, @full), both bounds unknown, and @t
 * untouched on error.
 */
static bool same_instant(const struct vmclock_snap *snap, u64 counter,
			 int rc, const struct vmclock_time *full,
			 const struct vmclock_time *pat)
{
	struct vmclock_time t = *pat;

	if (vmclock_snap_instant(snap, counter, &t) != rc)
		return false;
	if (rc)
		return !memcmp(&t, pat, sizeof(t));
	return t.sec == full->sec && t.frac == full->frac &&
	       t.nsec == full->nsec && t.esterror_ns == UINT64_MAX &&
	       t.maxerror_ns == UINT64_MAX;
}

static void check_cases(FILE *from_ref, void *ctx)
{
	struct time_run *run = ctx;
	u64 rng = run->grid ? 1 : 2;
	struct vmclock_time pat, t;
	struct vmclock_snap snap;
	struct time_result want;
	struct time_case c;
	int rc;

	memset(&pat, 0xa5, sizeof(pat));
	for (u64 i = 0; i < run->cases; i++) {
		if (fread(&want, sizeof(want), 1, from_ref) != 1)
			break;
		next_case(run, i, &rng, &c);
		memset(&snap, 0, sizeof(snap));
		snap.counter_value = c.counter_value;
		snap.counter_period = c.period;
		snap.counter_period_shift = (u8)c.shift;
		snap.period_esterror = c.period_esterror;
		snap.period_maxerror = c.period_maxerror;
		snap.time_sec = c.time_sec;
		snap.time_frac = c.time_frac;
		snap.time_esterror_ns = c.time_esterror;
		snap.time_maxerror_ns = c.time_maxerror;
		snap.flags = c.flags;
		t = pat;
		rc = vmclock_snap_time(&snap, c.counter, &t);
		run->checked++;
		if (!same(&want, rc, &t, &pat)) {
			if (run->mismatches++ < 3)
				show_case(&c, &want, rc, &t);
		}
		run->instant_wrong += !same_instant(&snap, c.counter, rc, &t,
						    &pat);
		run->ok += !rc;
		run->einval += rc == -EINVAL;
		run->erange += rc == -ERANGE;
		if (!rc) {
			run->unknown += t.esterror_ns == UINT64_MAX;
			run->finite += t.esterror_ns != UINT64_MAX;
		}
	}
	/* Drain anything unexpected so the script can exit. */
	while (fread(&want, sizeof(want), 1, from_ref) == 1)
		run->mismatches++;
}

static void run_reference(bool grid, u64 cases, const char *name)
{
	struct time_run run = { .grid = grid, .cases = cases };
	struct ref_job job = {
		.mode = "time", .emit = emit_cases, .check = check_cases,
		.ctx = &run,
	};
	int ret = ref_run(&job);

	tap_ok(!ret && run.checked == cases && !run.mismatches,
	       "snap_time matches reference.py: %s (%llu cases, %llu wrong)",
	       name, (unsigned long long)run.checked,
	       (unsigned long long)run.mismatches);
	tap_ok(!ret && !run.instant_wrong,
	       "snap_instant gives snap_time's time without bounds: %s (%llu wrong)",
	       name, (unsigned long long)run.instant_wrong);
	tap_diag("%s: 0=%llu -EINVAL=%llu -ERANGE=%llu; esterror finite=%llu unknown=%llu",
		 name, (unsigned long long)run.ok,
		 (unsigned long long)run.einval,
		 (unsigned long long)run.erange,
		 (unsigned long long)run.finite,
		 (unsigned long long)run.unknown);
	/* A generator that drifted into one outcome would test little. */
	tap_ok(run.ok > cases / 10 && run.einval && run.erange > cases / 20 &&
	       run.finite && run.unknown,
	       "snap_time %s cases reach success, -EINVAL, -ERANGE, finite and unknown bounds",
	       name);
}

/* A few answers worked out by hand, independent of reference.py. */
static void known_answers(void)
{
	struct vmclock_snap s = {
		.counter_period = NS_PERIOD, .counter_period_shift = 29,
		.counter_value = 1000, .time_sec = 5, .time_frac = UINT64_MAX,
	};
	struct vmclock_time t;
	int rc;

	/* One tick of about 1 ns carries the full fraction into seconds. */
	rc = vmclock_snap_time(&s, 1001, &t);
	tap_ok(!rc && t.sec == 6 && t.nsec == 0 && t.esterror_ns == UINT64_MAX,
	       "snap_time carries the fraction into seconds (%d %llu.%09u)",
	       rc, (unsigned long long)t.sec, t.nsec);

	/* NS_PERIOD is rounded down: 1e9 ticks fall just short of 1 s. */
	s.time_frac = 0;
	rc = vmclock_snap_time(&s, 1000 + 1000000000, &t);
	tap_ok(!rc && t.sec == 5 && t.nsec == 999999999,
	       "snap_time 1e9 ticks of the 1 ns period (%d %llu.%09u)", rc,
	       (unsigned long long)t.sec, t.nsec);

	/* One tick before C1 at time 5.0 floors to just below 5 s. */
	rc = vmclock_snap_time(&s, 999, &t);
	tap_ok(!rc && t.sec == 4 && t.nsec == 999999998,
	       "snap_time behind counter_value floors (%d %llu.%09u)", rc,
	       (unsigned long long)t.sec, t.nsec);

	s.time_sec = UINT64_MAX;
	s.time_frac = UINT64_MAX;
	tap_ok(vmclock_snap_time(&s, 1001, &t) == -ERANGE,
	       "snap_time refuses to wrap time_sec past U64_MAX");
	s.flags = ERR_FLAGS;
	s.time_sec = 1;
	s.time_esterror_ns = 10;
	s.period_esterror = NS_PERIOD;	/* 1 ns/tick error rate */
	rc = vmclock_snap_time(&s, 1010, &t);
	tap_ok(!rc && t.esterror_ns == 20, "snap_time esterror grows 1 ns per tick (%llu)",
	       (unsigned long long)t.esterror_ns);
}

/*
 * Nothing obliges a hypervisor to refresh the clock data: a reading days or
 * years after counter_value is extrapolated, with error bounds grown by
 * the period's error over the distance (values worked out with exact
 * integer arithmetic).
 */
static void old_data(void)
{
	struct vmclock_snap s = {
		.counter_period = NS_PERIOD, .counter_period_shift = 29,
		.counter_value = 1000, .time_sec = 1700000000,
		.flags = ERR_FLAGS, .time_maxerror_ns = 100000,
		.time_esterror_ns = 1000,
		.period_maxerror = NS_PERIOD >> 16,	/* about 15 ppm */
		.period_esterror = NS_PERIOD >> 20,
	};
	struct vmclock_time t;
	int rc;

	rc = vmclock_snap_time(&s, 1000 + 172800 * 1000000000ULL, &t);
	tap_ok(!rc && t.sec == 1700172799 && t.nsec == 999999999 &&
	       t.maxerror_ns == 2636818750ULL,
	       "snap_time extrapolates clock data 2 days old, maxerror grown (%d %llu.%09u max %llu)",
	       rc, (unsigned long long)t.sec, t.nsec,
	       (unsigned long long)t.maxerror_ns);

	rc = vmclock_snap_time(&s, 1000 + 3652 * 86400 * 1000000000ULL, &t);
	tap_ok(!rc && t.sec == 2015532799 && t.nsec == 999999999 &&
	       t.maxerror_ns == 4814648537500ULL,
	       "snap_time extrapolates clock data 10 years old, maxerror grown (%d %llu.%09u max %llu)",
	       rc, (unsigned long long)t.sec, t.nsec,
	       (unsigned long long)t.maxerror_ns);

	/* 2^63 - 1 ticks of about 1 s from 1.5 * 2^63 s: past 2^64 s. */
	s.counter_period = UINT64_MAX;
	s.counter_period_shift = 0;
	s.time_sec = 3ULL << 62;
	rc = vmclock_snap_time(&s, 1000ULL + INT64_MAX, &t);
	tap_ok(rc == -ERANGE, "snap_time: a time past 2^64 s is -ERANGE (%d)", rc);
}

void test_snap_time(void)
{
	known_answers();
	old_data();
	run_reference(true, GRID_CASES, "edge grid");
	run_reference(false, RANDOM_CASES, "seeded random");
}
