// SPDX-License-Identifier: GPL-2.0
/*
 * calibrate and echo-check: relate a guest clock (its TSC, or its PHC time)
 * to the host's own clock through round trips over the mailbox.
 *
 * One round: the host takes its clock (b), writes a new round number n to
 * RIG_MB_PING, waits until the guest has answered n in RIG_MB_PONG and takes
 * its clock again (a). The guest read its clock (v, in RIG_MB_PONG_VALUE)
 * after it saw n and before it answered, so at the moment of that reading
 *
 *     v - a  <=  guest - host  <=  v - b
 *
 * with no assumption about how long anything took: a descheduled vCPU or
 * host thread only makes that round's bracket wider. Both bounds hold
 * for every round.
 *
 * calibrate assumes the offset is constant (TCG: guest TSC = host TSC +
 * a fixed offset) and intersects all rounds. An empty intersection proves
 * that the offset moved during the window, or that the host and QEMU's
 * thread read the TSC a little out of step: by how much ("spread") is
 * printed. Up to --max-spread ticks (default 2000: below 1 us on any
 * host of 2 GHz or more, 1000 times below the rig's 1 ms checks, and well
 * above the 50 to 100 ns seen from cross-core effects under single-threaded
 * TCG) the midpoint is taken; beyond it calibrate fails (multi-threaded
 * TCG moves the offset by milliseconds), with the two halves of the window
 * intersected apart to show which way it moved.
 *
 * The offset is known to within the intersection's width, which is at most
 * the fastest round trip. On a loaded machine every round trip can take
 * milliseconds, and the midpoint of so wide a bracket may be that far off:
 * calibrate then keeps collecting (up to CAL_MAX_WINDOWS windows of
 * --duration-ms) until the width is at most --max-width-ns (default
 * 250 us: a midpoint within 125 us, well inside the rig's 1 ms checks), and
 * fails with that reason if it never is.
 *
 * echo-check asks whether guest - host stays within +-max: a round proves
 * agreement when its whole bracket is inside, a violation when its whole
 * bracket is outside; a round whose bracket straddles the bound proves
 * nothing. It passes when no round proves a violation and at least
 * ECHO_PROOFS rounds prove agreement. On a loaded machine round trips are
 * slow and wide, so it keeps collecting (up to ECHO_MAX_WINDOWS windows of
 * --duration-ms) until it has that many proofs; without them it fails.
 */
#include <stdlib.h>

#include "vmclock-host.h"

/* A round not answered within this is abandoned (the guest is gone). */
#define ROUND_TIMEOUT_MS	200
#define ECHO_PROOFS		100
#define ECHO_MAX_WINDOWS	5
/* Within the 3 s a rig guest's echo (rig-echo tsc 3) answers. */
#define CAL_MAX_WINDOWS		4

struct bracket {
	int64_t lo, hi;		/* empty when lo > hi */
};

struct rounds {
	unsigned int n, lost;
	struct bracket all, half[2];
	struct bracket tightest;	/* narrowest single round */
	unsigned int inside, outside;	/* echo-check: rounds proving it */
};

static void bracket_reset(struct bracket *br)
{
	br->lo = INT64_MIN;
	br->hi = INT64_MAX;
}

static void bracket_add(struct bracket *br, int64_t lo, int64_t hi)
{
	if (lo > br->lo)
		br->lo = lo;
	if (hi < br->hi)
		br->hi = hi;
}

static uint64_t now_tsc(int64_t unused)
{
	(void)unused;
	return counter_read();
}

/* Host TAI in ns: CLOCK_REALTIME plus the TAI - UTC offset (this host's
 * CLOCK_TAI equals CLOCK_REALTIME). */
static uint64_t now_tai_ns(int64_t tai_sec)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts_ns(&ts) + (uint64_t)tai_sec * 1000000000ull;
}

/*
 * One round trip; 0 with v, b and a, or -1 when the guest did not answer
 * within ROUND_TIMEOUT_MS.
 */
static int round_trip(struct host *h, uint64_t n, uint64_t (*now)(int64_t),
		      int64_t arg, uint64_t *v, uint64_t *b, uint64_t *a)
{
	struct timespec until;
	unsigned int spins = 0;

	clock_gettime(CLOCK_MONOTONIC, &until);
	ts_add_ms(&until, ROUND_TIMEOUT_MS);
	*b = now(arg);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	fld_store(h->mb + RIG_MB_PING, 8, n);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	while (mb_load64(h, RIG_MB_PONG) != n) {
		/* Look at the deadline rarely: keep the wait short. */
		if (!(++spins & 1023) && (ts_reached(&until) || stop_requested))
			return -1;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*a = now(arg);
	*v = mb_load64(h, RIG_MB_PONG_VALUE);
	return 0;
}

static void rounds_reset(struct rounds *r)
{
	*r = (struct rounds){ 0 };
	bracket_reset(&r->all);
	bracket_reset(&r->half[0]);
	bracket_reset(&r->half[1]);
	r->tightest = (struct bracket){ 0, -1 };
}

/* Add dur_ms of round trips to *r. */
static void collect(struct host *h, uint64_t dur_ms, uint64_t (*now)(int64_t),
		    int64_t arg, int64_t max, struct rounds *r)
{
	struct timespec until, halfway;
	uint64_t n = mb_load64(h, RIG_MB_PING);

	clock_gettime(CLOCK_MONOTONIC, &until);
	halfway = until;
	ts_add_ms(&until, dur_ms);
	ts_add_ms(&halfway, dur_ms / 2);
	while (!stop_requested && !ts_reached(&until)) {
		uint64_t v, b, a;
		int64_t lo, hi;

		if (round_trip(h, ++n, now, arg, &v, &b, &a)) {
			/* Three silent rounds in a row: nobody is there. */
			if (++r->lost >= 3 && !r->n)
				return;
			continue;
		}
		lo = (int64_t)(v - a);
		hi = (int64_t)(v - b);
		r->n++;
		bracket_add(&r->all, lo, hi);
		bracket_add(&r->half[ts_reached(&halfway)], lo, hi);
		if (r->tightest.lo > r->tightest.hi ||
		    hi - lo < r->tightest.hi - r->tightest.lo)
			r->tightest = (struct bracket){ lo, hi };
		if (lo >= -max && hi <= max)
			r->inside++;
		else if (lo > max || hi < -max)
			r->outside++;
	}
}

static int64_t mid(const struct bracket *br)
{
	return br->lo + (br->hi - br->lo) / 2;
}

static int no_answer(struct host *h, const char *cmd, const char *what)
{
	return run_error(h, "%s: the guest never answered a ping in RIG_MB_PONG (file offset 0x%llx): is its %s echo (rig-echo) running?",
			 cmd, (unsigned long long)(h->mailbox + RIG_MB_PONG), what);
}

/* @ticks of the host counter in ns (its rate measured once, or given). */
static int ticks_to_ns(struct host *h, int64_t ticks, uint64_t *ns)
{
	int rc = tsc_rate_measure(h);

	if (rc)
		return rc;
	*ns = (uint64_t)((unsigned __int128)ticks * 1000000000u / h->rate.hz);
	return RC_OK;
}

int cmd_calibrate(struct host *h, int argc, char **argv)
{
	uint64_t dur = 500, max_spread = 2000, hz = 0, max_width_ns = 250000;
	struct opt opts[] = {
		{ "duration-ms", OPT_U64, &dur, 10, 60000, false },
		{ "max-spread", OPT_U64, &max_spread, 0, INT64_MAX / 4, false },
		/* an arm64 guest's virtual counter at its CNTFRQ_EL0 rate */
		{ "counter-hz", OPT_U64, &hz, 1000000, 10000000000ll, false },
		{ "max-width-ns", OPT_U64, &max_width_ns, 0, 1000000000, false },
		{ NULL, 0, NULL, 0, 0, false },
	};
	struct rounds r;
	int64_t off, width, spread;
	uint64_t width_ns = 0;
	unsigned int windows = 0;
	int rc;

	if (parse_opts(h, "calibrate", argc, argv, opts, NULL, NULL, 0))
		return RC_USAGE;
	rc = mailbox_map(h);
	if (rc)
		return rc;
	/* In serve, for every later command too (clock, steady, echo-check). */
	if (opts[2].seen)
		counter_set_virtual(h, hz);
	if (!counter_available())
		return run_error(h, "calibrate: no TSC on this architecture");
	rounds_reset(&r);
	for (;;) {
		collect(h, dur, now_tsc, 0, 0, &r);
		if (!r.n)
			return no_answer(h, "calibrate", "TSC");
		width = r.all.hi - r.all.lo;
		/* An empty intersection: the spread check below decides. */
		if (width <= 0)
			break;
		rc = ticks_to_ns(h, width, &width_ns);
		if (rc)
			return rc;
		if (width_ns <= max_width_ns)
			break;
		if (++windows >= CAL_MAX_WINDOWS || stop_requested)
			return run_error(h, "calibrate: after %u round trips the offset is known only to %lld ticks (%llu ns), more than --max-width-ns %llu: every round trip was that slow (loaded machine?)",
					 r.n, (long long)width,
					 (unsigned long long)width_ns,
					 (unsigned long long)max_width_ns);
	}
	spread = width < 0 ? -width : 0;
	if (spread > (int64_t)max_spread)
		return run_error(h, "calibrate: the offset moved during the window: %u round trips disagree by %lld ticks, more than --max-spread %llu (first half %lld..%lld, second half %lld..%lld); a guest TSC that is not the host's plus a constant (multi-threaded TCG?)",
				 r.n, (long long)spread,
				 (unsigned long long)max_spread,
				 (long long)r.half[0].lo, (long long)r.half[0].hi,
				 (long long)r.half[1].lo, (long long)r.half[1].hi);
	off = mid(&r.all);
	fprintf(h->out, "offset=%lld width=%lld spread=%lld rounds=%u lost=%u\n",
		(long long)off, (long long)(width < 0 ? 0 : width),
		(long long)spread, r.n, r.lost);
	if (h->srv.active) {
		/* serve's clock/steady without --counter-offset use it from now on */
		h->srv.have_offset = true;
		h->srv.counter_offset = off;
		h->srv.steady_cfg.counter_offset = off;
	}
	return RC_OK;
}

int cmd_echo_check(struct host *h, int argc, char **argv)
{
	uint64_t max = 0, dur = 500;
	int64_t tai = TAI_UTC_DEFAULT;
	struct opt opts[] = {
		{ "max-error-ns", OPT_U64, &max, 0, INT64_MAX, false },
		{ "duration-ms", OPT_U64, &dur, 10, 60000, false },
		{ "tai-offset", OPT_S64, &tai, -32768, 32767, false },
		{ NULL, 0, NULL, 0, 0, false },
	};
	struct rounds r;
	unsigned int windows = 0;
	bool pass;
	int rc;

	if (parse_opts(h, "echo-check", argc, argv, opts, NULL, NULL, 0))
		return RC_USAGE;
	if (!opts[0].seen || max > INT64_MAX / 2)
		return usage_error(h, "echo-check: --max-error-ns N is required");
	rc = mailbox_map(h);
	if (rc)
		return rc;
	rounds_reset(&r);
	do {
		collect(h, dur, now_tai_ns, tai < 0 ? -tai : tai, (int64_t)max, &r);
		if (!r.n)
			return no_answer(h, "echo-check", "PHC");
	} while (!r.outside && r.inside < ECHO_PROOFS && ++windows < ECHO_MAX_WINDOWS &&
		 !stop_requested);
	pass = !r.outside && r.inside >= ECHO_PROOFS;
	fprintf(h->out, "diff_ns=%lld width_ns=%lld rounds=%u inside=%u outside=%u max_error_ns=%llu %s\n",
		(long long)mid(&r.tightest),
		(long long)(r.tightest.hi - r.tightest.lo), r.n, r.inside,
		r.outside, (unsigned long long)max, pass ? "ok" : "FAIL");
	if (!pass && !r.outside)
		fprintf(h->err, "vmclock-host: echo-check: %u of %d round trips needed were narrow enough to prove the bound (loaded machine?)\n",
			r.inside, ECHO_PROOFS);
	return pass ? RC_OK : RC_FAIL;
}
