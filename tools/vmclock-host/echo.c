// SPDX-License-Identifier: GPL-2.0
/*
 * calibrate and echo-check: relate a value the guest keeps rewriting into a
 * mailbox word (its TSC, or its PHC time) to the host's own clock.
 *
 * Each host read of the word is bracketed by host clock readings b and a.
 * When a read sees a new value v, the guest stored v after the previous read
 * began (b_prev) and before this read ended (a): v - host = offset lies in
 * [v - a, v - b_prev]. Intersecting these brackets over ~0.5 s narrows the
 * offset to about one guest loop iteration.
 *
 * The lower bounds always hold: the guest took v before it stored it, and
 * the store came before a. An upper bound assumes the guest stored v right
 * after taking it; one that ends below the best lower bound proves the
 * guest was held up in between (preempted vCPU thread) and is dropped.
 */
#include <stdlib.h>

#include "vmclock-host.h"

struct brackets {
	unsigned int events;
	int64_t lo;		/* best (largest) lower bound */
	int64_t *hi;		/* every upper bound: which ones hold is only */
	size_t nhi, cap;	/* known once the final lo is */
	bool oom;
};

static void keep_hi(struct brackets *br, int64_t hi)
{
	if (br->nhi == br->cap) {
		size_t cap = br->cap ? 2 * br->cap : 4096;
		int64_t *n = realloc(br->hi, cap * sizeof(*n));

		if (!n) {
			br->oom = true;
			return;
		}
		br->hi = n;
		br->cap = cap;
	}
	br->hi[br->nhi++] = hi;
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

static void collect(struct host *h, unsigned int word, uint64_t dur_ms,
		    uint64_t (*now)(int64_t), int64_t arg, struct brackets *br)
{
	struct timespec until;
	uint64_t prev_b, prev_v;

	br->events = 0;
	br->nhi = 0;
	br->lo = INT64_MIN;
	br->oom = false;
	clock_gettime(CLOCK_MONOTONIC, &until);
	ts_add_ms(&until, dur_ms);
	prev_b = now(arg);
	prev_v = mb_load64(h, word);
	while (!stop_requested) {
		uint64_t b, v, a;
		unsigned int i;

		/* Check the deadline every 256 reads only: keep reads dense. */
		for (i = 0; i < 256; i++) {
			b = now(arg);
			v = mb_load64(h, word);
			a = now(arg);
			if (v != prev_v) {
				int64_t lo = (int64_t)(v - a);

				if (lo > br->lo)
					br->lo = lo;
				keep_hi(br, (int64_t)(v - prev_b));
				br->events++;
			}
			prev_b = b;
			prev_v = v;
		}
		if (ts_reached(&until))
			break;
	}
}

/*
 * Intersection of the brackets: 0 and [*lo, *hi], or -1 when none. Every
 * lower bound holds, so the offset is at least the largest; of the upper
 * bounds only those at or above it can hold, and the smallest of them wins.
 * (Keeping only the smallest few upper bounds is not enough: a busy host
 * delays many guest stores, and all the small ones may be such.)
 */
static int intersect(const struct brackets *br, int64_t *lo, int64_t *hi)
{
	bool found = false;
	int64_t best = 0;
	size_t i;

	if (br->oom)
		return -1;
	for (i = 0; i < br->nhi; i++)
		if (br->hi[i] >= br->lo && (!found || br->hi[i] < best)) {
			best = br->hi[i];
			found = true;
		}
	if (!found)
		return -1;
	*lo = br->lo;
	*hi = best;
	return 0;
}

static struct brackets *brackets_new(struct host *h)
{
	struct brackets *br = calloc(1, sizeof(*br));

	if (!br)
		run_error(h, "out of memory");
	return br;
}

static void brackets_free(struct brackets *br)
{
	free(br->hi);
	free(br);
}

int cmd_calibrate(struct host *h, int argc, char **argv)
{
	uint64_t dur = 500;
	struct opt opts[] = {
		{ "duration-ms", OPT_U64, &dur, 10, 60000, false },
		{ NULL, 0, NULL, 0, 0, false },
	};
	struct brackets *br;
	int64_t lo, hi, off;
	unsigned int events;
	int rc;

	if (parse_opts(h, "calibrate", argc, argv, opts, NULL, NULL, 0))
		return RC_USAGE;
	rc = mailbox_map(h);
	if (rc)
		return rc;
	if (!counter_available())
		return run_error(h, "calibrate: no TSC on this architecture");
	br = brackets_new(h);
	if (!br)
		return RC_FAIL;
	collect(h, RIG_MB_TSC_ECHO, dur, now_tsc, 0, br);
	if (!br->events) {
		brackets_free(br);
		return run_error(h, "calibrate: mailbox word RIG_MB_TSC_ECHO (file offset 0x%llx) never changed in %llu ms: is the guest's rdtsc echo loop running?",
				 (unsigned long long)(h->mailbox + RIG_MB_TSC_ECHO),
				 (unsigned long long)dur);
	}
	events = br->events;
	rc = intersect(br, &lo, &hi);
	brackets_free(br);
	if (rc)
		return run_error(h, "calibrate: %u changes but no consistent bracket", events);
	off = lo + (hi - lo) / 2;
	fprintf(h->out, "offset=%lld width=%lld events=%u\n", (long long)off,
		(long long)(hi - lo), events);
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
	struct brackets *br;
	int64_t lo, hi, diff;
	bool pass;
	int rc;

	if (parse_opts(h, "echo-check", argc, argv, opts, NULL, NULL, 0))
		return RC_USAGE;
	if (!opts[0].seen || max > INT64_MAX / 2)
		return usage_error(h, "echo-check: --max-error-ns N is required");
	rc = mailbox_map(h);
	if (rc)
		return rc;
	br = brackets_new(h);
	if (!br)
		return RC_FAIL;
	collect(h, RIG_MB_PHC_ECHO, dur, now_tai_ns, tai < 0 ? -tai : tai, br);
	if (!br->events) {
		brackets_free(br);
		return run_error(h, "echo-check: mailbox word RIG_MB_PHC_ECHO (file offset 0x%llx) never changed in %llu ms: is the guest's PHC echo loop running?",
				 (unsigned long long)(h->mailbox + RIG_MB_PHC_ECHO),
				 (unsigned long long)dur);
	}
	rc = intersect(br, &lo, &hi);
	brackets_free(br);
	if (rc)
		return run_error(h, "echo-check: no consistent bracket");
	/* Proven only when the whole bracket lies within +-max. */
	diff = lo + (hi - lo) / 2;
	pass = lo >= -(int64_t)max && hi <= (int64_t)max;
	fprintf(h->out, "diff_ns=%lld width_ns=%lld max_error_ns=%llu %s\n",
		(long long)diff, (long long)(hi - lo), (unsigned long long)max,
		pass ? "ok" : "FAIL");
	if (!pass && (uint64_t)llabs(diff) <= max)
		fprintf(h->err, "vmclock-host: echo-check: bracket too wide to prove the bound (loaded machine? retry)\n");
	return pass ? RC_OK : RC_FAIL;
}
