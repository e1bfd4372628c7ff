// SPDX-License-Identifier: GPL-2.0
/*
 * The host's CPU counter and its relation to the host clocks.
 *
 * Under QEMU TCG the guest's TSC is the host's rdtsc plus an offset fixed at
 * VM start, so the host TSC rate is the guest TSC rate: measure it once.
 *
 * An arm64 guest's virtual counter (CNTVCT_EL0) under TCG counts QEMU's
 * virtual clock, which is the host's CLOCK_MONOTONIC plus an offset that
 * stays fixed while the guest runs, at the guest's CNTFRQ_EL0 rate. Once
 * told that rate (counter_set_virtual), the host counter is CLOCK_MONOTONIC
 * at that rate: the guest's counter plus an offset, as with the TSC.
 */
#include <errno.h>

#include "vmclock-host.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

static uint64_t virtual_hz;	/* 0: the host's TSC */

void counter_set_virtual(struct host *h, uint64_t hz)
{
	virtual_hz = hz;
	h->rate.valid = false;		/* another counter, another rate */
}

uint8_t counter_id(void)
{
	return virtual_hz ? VMCLOCK_COUNTER_ARM_VCNT : VMCLOCK_COUNTER_X86_TSC;
}

bool counter_available(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return true;
#else
	return virtual_hz != 0;
#endif
}

/* QEMU's count: whole ticks of the virtual clock's nanoseconds. */
static uint64_t virtual_read(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)((unsigned __int128)ts_ns(&ts) * virtual_hz / 1000000000u);
}

/*
 * lfence on both sides keeps rdtsc from drifting across the loads and
 * clock reads it brackets (rdtsc alone is not ordered).
 */
uint64_t counter_read(void)
{
	if (virtual_hz)
		return virtual_read();
#if defined(__x86_64__) || defined(__i386__)
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
#else
	return 0;
#endif
}

uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

void ts_add_ms(struct timespec *ts, uint64_t ms)
{
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* True once CLOCK_MONOTONIC has passed @deadline. */
bool ts_reached(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* Sleeps, returning early when a signal arrives (the caller checks why). */
void sleep_ms(uint64_t ms)
{
	struct timespec d = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	nanosleep(&d, NULL);
}

/*
 * One (counter, clock) pair: the clock read bracketed by two counter reads;
 * of 16 tries keep the tightest bracket and its midpoint, so a preemption
 * between the reads does not end up in the page.
 */
int clock_sample(clockid_t id, struct clock_sample *s)
{
	uint64_t best = UINT64_MAX;
	int i;

	for (i = 0; i < 16; i++) {
		struct timespec ts;
		uint64_t a, b;

		a = counter_read();
		if (clock_gettime(id, &ts))
			return -errno;
		b = counter_read();
		if (b - a < best) {
			best = b - a;
			s->tsc = a + (b - a) / 2;
			s->ts = ts;
		}
	}
	return 0;
}

/*
 * Measure the host counter against CLOCK_MONOTONIC_RAW over ~200 ms and
 * derive the page's period: one tick lasts period / 2^(64 + shift) s, with
 * the largest shift that keeps period below 2^64, i.e. 2^shift < hz
 * (2.6 GHz: shift 31). Integer arithmetic only, in 128 bits.
 */
int tsc_rate_measure(struct host *h)
{
	struct clock_sample a, b;
	unsigned __int128 num, den;
	uint64_t dns, dtsc;
	unsigned int shift = 0;

	if (h->rate.valid)
		return RC_OK;
	if (virtual_hz) {
		/* Known exactly: one tick is 1/hz s, 2^shift < hz. */
		while ((2ull << shift) < virtual_hz)
			shift++;
		h->rate.period = (uint64_t)(((unsigned __int128)1 << (64 + shift)) / virtual_hz);
		h->rate.shift = (uint8_t)shift;
		h->rate.hz = virtual_hz;
		h->rate.valid = true;
		return RC_OK;
	}
	if (!counter_available())
		return run_error(h, "no TSC on this architecture");
	if (clock_sample(CLOCK_MONOTONIC_RAW, &a))
		return run_error(h, "clock_gettime(CLOCK_MONOTONIC_RAW) failed");
	sleep_ms(200);
	if (clock_sample(CLOCK_MONOTONIC_RAW, &b))
		return run_error(h, "clock_gettime(CLOCK_MONOTONIC_RAW) failed");
	dns = ts_ns(&b.ts) - ts_ns(&a.ts);
	dtsc = b.tsc - a.tsc;
	/* 1 MHz .. 8 GHz, and a window short enough for the 128-bit math. */
	if (dns < 50000000ull || dns > 1000000000ull ||
	    dtsc / 8 > dns || dtsc < dns / 1000)
		return run_error(h, "host TSC calibration failed: %llu ticks in %llu ns",
				 (unsigned long long)dtsc, (unsigned long long)dns);
	den = (unsigned __int128)dtsc * 1000000000u;	/* hz * dns */
	while (((unsigned __int128)dns << (shift + 1)) < den)
		shift++;			/* 2^(shift+1) < hz */
	num = (unsigned __int128)dns << (64 + shift);	/* <= 30 + 96 bits */
	h->rate.period = (uint64_t)(num / den);
	h->rate.shift = (uint8_t)shift;
	h->rate.hz = (uint64_t)(den / dns);
	h->rate.valid = true;
	return RC_OK;
}
