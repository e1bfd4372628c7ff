// SPDX-License-Identifier: GPL-2.0
/*
 * `clock` and `steady`: clock data that describes the guest's real TSC.
 *
 * Under TCG guest_tsc = host_tsc + counter_offset, so one sample of the
 * host (rdtsc, CLOCK_REALTIME) pair, shifted by the offset, is a reference
 * point of the guest counter; the period is the host TSC rate.
 */
#include <string.h>

#include "vmclock-host.h"

/* Realistic defaults: an NTP-disciplined host, a TSC calibrated in 200 ms. */
#define DEF_ESTERROR_NS		1000ull
#define DEF_MAXERROR_NS		100000ull
#define PERIOD_EST_PPM		1ull
#define PERIOD_MAX_PPM		50ull

#define VALID_FLAGS (VMCLOCK_FLAG_PERIOD_ESTERROR_VALID | \
		     VMCLOCK_FLAG_PERIOD_MAXERROR_VALID | \
		     VMCLOCK_FLAG_TIME_ESTERROR_VALID | \
		     VMCLOCK_FLAG_TIME_MAXERROR_VALID)

static uint64_t tai_magnitude(int16_t off)
{
	return (uint64_t)(off < 0 ? -(int32_t)off : off);
}

/*
 * One transaction of clock data. @first also writes the identity of the
 * clock (counter_id, time_type, TAI offset, status); later steady rounds
 * keep those as they find them, so a `set` or `disrupt` in between sticks,
 * and follow the page's time_type when it is UTC or TAI.
 */
int clock_round(struct host *h, const struct clock_cfg *c, bool first)
{
	struct clock_sample s;
	uint8_t tt = c->time_type;
	uint64_t sec, p;
	int rc;

	rc = tsc_rate_measure(h);
	if (rc)
		return rc;
	p = h->rate.period;
	if (!first) {
		uint8_t cur = (uint8_t)GET(h, time_type);

		if (cur == VMCLOCK_TIME_UTC || cur == VMCLOCK_TIME_TAI)
			tt = cur;
	}
	if (clock_sample(CLOCK_REALTIME, &s))
		return run_error(h, "clock_gettime(CLOCK_REALTIME) failed");
	/* This host's CLOCK_TAI is CLOCK_REALTIME: add TAI - UTC ourselves. */
	sec = (uint64_t)s.ts.tv_sec;
	if (tt == VMCLOCK_TIME_TAI)
		sec += tai_magnitude(c->tai_offset);

	tx_begin(h);
	if (first) {
		PUT(h, counter_id, counter_id());
		PUT(h, time_type, tt);
		PUT(h, tai_offset_sec, (uint16_t)c->tai_offset);
		PUT(h, clock_status, c->status);
		PUT(h, flags, GET(h, flags) | VMCLOCK_FLAG_TAI_OFFSET_VALID);
	}
	PUT(h, flags, GET(h, flags) | VALID_FLAGS);
	PUT(h, counter_period_shift, h->rate.shift);
	PUT(h, counter_value, s.tsc + (uint64_t)c->counter_offset);
	PUT(h, counter_period_frac_sec, p);
	PUT(h, counter_period_esterror_rate_frac_sec, p / 1000000 * PERIOD_EST_PPM);
	PUT(h, counter_period_maxerror_rate_frac_sec, p / 1000000 * PERIOD_MAX_PPM);
	PUT(h, time_sec, sec);
	/* ns -> 2^-64 s: ns * 2^64 / 1e9, exact to below a zeptosecond */
	PUT(h, time_frac_sec, (uint64_t)(((unsigned __int128)s.ts.tv_nsec << 64) /
					 1000000000u));
	PUT(h, time_esterror_nanosec, c->esterror_ns);
	PUT(h, time_maxerror_nanosec, c->maxerror_ns);
	tx_end(h);
	return RC_OK;
}

/* Options of clock and steady (interval, duration and stop: steady only). */
struct clock_args {
	int64_t offset;
	const char *tt, *status;
	int64_t tai;
	uint64_t est, max, interval, duration;
	bool stop;
};

static int clock_parse(struct host *h, const char *cmd, int argc, char **argv,
		       bool steady, struct clock_cfg *c, struct clock_args *a)
{
	struct opt opts[] = {
		{ "counter-offset", OPT_S64, &a->offset, 1, 0, false },
		{ "time-type", OPT_STR, &a->tt, 0, 0, false },
		{ "tai-offset", OPT_S64, &a->tai, -32768, 32767, false },
		{ "status", OPT_STR, &a->status, 0, 0, false },
		{ "esterror-ns", OPT_U64, &a->est, 1, 0, false },
		{ "maxerror-ns", OPT_U64, &a->max, 1, 0, false },
		/* steady only: cut off below for clock */
		{ "interval-ms", OPT_U64, &a->interval, 1, 3600000, false },
		{ "duration-s", OPT_U64, &a->duration, 0, 31536000, false },
		{ "stop", OPT_FLAG, &a->stop, 0, 0, false },
		{ NULL, 0, NULL, 0, 0, false },
	};

	memset(a, 0, sizeof(*a));
	a->tai = -TAI_UTC_DEFAULT;
	a->est = DEF_ESTERROR_NS;
	a->max = DEF_MAXERROR_NS;
	a->interval = 1000;
	if (!steady)
		opts[6].name = NULL;
	if (parse_opts(h, cmd, argc, argv, opts, NULL, NULL, 0))
		return RC_USAGE;
	memset(c, 0, sizeof(*c));
	if (opts[0].seen) {
		c->counter_offset = a->offset;
	} else if (h->srv.have_offset) {
		c->counter_offset = h->srv.counter_offset;
	} else if (!a->stop) {
		return usage_error(h, "%s: --counter-offset N is required (learn it with calibrate)",
				   cmd);
	}
	c->time_type = VMCLOCK_TIME_TAI;
	if (a->tt) {
		if (parse_time_type(h, a->tt, &c->time_type))
			return RC_USAGE;
		if (c->time_type != VMCLOCK_TIME_TAI && c->time_type != VMCLOCK_TIME_UTC)
			return usage_error(h, "%s: --time-type must be tai or utc", cmd);
	}
	c->tai_offset = (int16_t)a->tai;
	c->status = VMCLOCK_STATUS_SYNCHRONIZED;
	if (a->status && parse_status(h, a->status, &c->status))
		return RC_USAGE;
	c->esterror_ns = a->est;
	c->maxerror_ns = a->max;
	return RC_OK;
}

int cmd_clock(struct host *h, int argc, char **argv)
{
	struct clock_args a;
	struct clock_cfg c;

	if (clock_parse(h, "clock", argc, argv, false, &c, &a))
		return RC_USAGE;
	return clock_round(h, &c, true);
}

/*
 * steady: a clock round every --interval-ms until killed or --duration-s.
 * Inside serve it only (re)configures serve's own rounds and returns at once
 * (one process owns the page); `steady --stop` ends them.
 */
int cmd_steady(struct host *h, int argc, char **argv)
{
	struct clock_args a;
	struct clock_cfg c;
	struct timespec until;
	bool first = true;
	int rc;

	if (clock_parse(h, "steady", argc, argv, true, &c, &a))
		return RC_USAGE;
	if (a.stop && !h->srv.active)
		return usage_error(h, "steady: --stop only makes sense inside serve");
	if (h->srv.active) {
		struct serve_state *s = &h->srv;

		s->steady = !a.stop;
		s->steady_first = true;
		s->steady_cfg = c;
		s->interval_ms = a.interval;
		clock_gettime(CLOCK_MONOTONIC, &s->next_round);
		s->steady_until_set = a.duration != 0;
		s->steady_until = s->next_round;
		ts_add_ms(&s->steady_until, a.duration * 1000);
		fprintf(h->out, a.stop ? "steady stopped\n" :
			"steady every %llu ms\n", (unsigned long long)a.interval);
		return RC_OK;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	ts_add_ms(&until, a.duration * 1000);
	while (!stop_requested && (!a.duration || !ts_reached(&until))) {
		rc = clock_round(h, &c, first);
		if (rc)
			return rc;
		first = false;
		sleep_ms(a.interval);
	}
	return RC_OK;
}
