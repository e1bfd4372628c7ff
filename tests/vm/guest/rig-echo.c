// SPDX-License-Identifier: GPL-2.0
/*
 * rig-echo: answer the host's clock pings over the mailbox so the host can
 * bracket a guest clock reading between two of its own (offset
 * calibration, accuracy checks; see tools/vmclock-host/echo.c).
 *   rig-echo tsc SECONDS             answer each ping with rdtsc
 *   rig-echo phc /dev/ptpN SECONDS   answer each ping with the PHC time in ns
 * For each new round number in RIG_MB_PING: read the clock, store it in
 * RIG_MB_PONG_VALUE, then the round number in RIG_MB_PONG.
 * Exits 0 after SECONDS (answered or not: the host judges), 1 when the
 * clock could not be read, 2 on bad arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "rig_request.h"

#define EXIT_USAGE	2
#define FD_TO_CLOCKID(fd)	((~(clockid_t)(fd) << 3) | 3)

static void usage(void)
{
	fprintf(stderr,
		"usage: rig-echo tsc SECONDS\n"
		"       rig-echo phc /dev/ptpN SECONDS\n"
		"       rig-echo hz\n"
		"  rewrites rdtsc (tsc) or the PHC time in ns (phc) into the rig\n"
		"  mailbox (%s, override with RIG_MAILBOX_DEV) for SECONDS;\n"
		"  hz prints the counter's rate where the CPU states it (arm64)\n",
		RIG_MAILBOX_DEV_DEFAULT);
	exit(EXIT_USAGE);
}

static double parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400) {
		fprintf(stderr, "rig-echo: bad SECONDS '%s'\n", s);
		usage();
	}
	return v;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Aligned 64-bit accesses are single-copy atomic on x86-64: no tearing. */
static uint64_t load(volatile unsigned char *page, unsigned int off)
{
	return __atomic_load_n((volatile uint64_t *)(page + off), __ATOMIC_ACQUIRE);
}

static void store(volatile unsigned char *page, unsigned int off, uint64_t v)
{
	__atomic_store_n((volatile uint64_t *)(page + off), v, __ATOMIC_RELEASE);
}

/*
 * The CPU counter the page describes. rdtsc is not ordered after the load
 * that saw the ping: lfence first; on arm64 isb keeps the read of the
 * virtual counter (CNTVCT_EL0) from being taken early.
 */
static int read_tsc(void *unused, uint64_t *v)
{
	(void)unused;
#if defined(__x86_64__)
	_mm_lfence();
	*v = __rdtsc();
#elif defined(__aarch64__)
	__asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(*v) :: "memory");
#else
#error "rig-echo: no CPU counter read for this architecture"
#endif
	return 0;
}

/* The virtual counter's rate, CNTFRQ_EL0 (readable at EL0 under Linux). */
static int print_hz(void)
{
#if defined(__aarch64__)
	uint64_t hz;

	__asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(hz));
	printf("%llu\n", (unsigned long long)hz);
	return 0;
#else
	fprintf(stderr, "rig-echo: hz: no counter rate register here (the TSC's is the host's)\n");
	return 1;
#endif
}

static int read_phc(void *clk, uint64_t *v)
{
	struct timespec ts;

	if (clock_gettime(*(clockid_t *)clk, &ts))
		return -errno;
	*v = (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
	return 0;
}

/*
 * Answer pings until SECONDS have passed. The last answered round starts as
 * whatever PONG holds, so a ping posted before we started is answered too.
 */
static int respond(volatile unsigned char *page, double secs,
		   int (*read_clock)(void *, uint64_t *), void *arg,
		   unsigned long *answered)
{
	uint64_t last = load(page, RIG_MB_PONG);
	double end = now_s() + secs;
	unsigned int spins = 0;
	uint64_t probe;
	int ret;

	*answered = 0;
	/* A clock that cannot be read fails now, not at the first ping. */
	ret = read_clock(arg, &probe);
	if (ret)
		return ret;
	for (;;) {
		uint64_t n = load(page, RIG_MB_PING), v;

		if (n == last) {
			if (!(++spins & 4095) && now_s() >= end)
				return 0;
			continue;
		}
		ret = read_clock(arg, &v);
		if (ret)
			return ret;
		store(page, RIG_MB_PONG_VALUE, v);
		store(page, RIG_MB_PONG, n);
		last = n;
		++*answered;
	}
}

int main(int argc, char **argv)
{
	struct rig_mailbox mb;
	const char *what;
	unsigned long n;
	double secs;
	int ret;

	if (argc == 2 && !strcmp(argv[1], "hz"))
		return print_hz();
	if (argc == 3 && !strcmp(argv[1], "tsc")) {
		secs = parse_seconds(argv[2]);
	} else if (argc == 4 && !strcmp(argv[1], "phc")) {
		secs = parse_seconds(argv[3]);
	} else {
		usage();
		return EXIT_USAGE;
	}
	what = argv[1];

	ret = rig_mailbox_open(&mb);
	if (ret) {
		fprintf(stderr, "rig-echo: %s: %s\n", rig_mailbox_path(),
			strerror(-ret));
		return 1;
	}
	if (argc == 3) {
		ret = respond(mb.page, secs, read_tsc, NULL, &n);
	} else {
		clockid_t clk;
		/* Read-only is enough for clock_gettime(), as chrony does. */
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			ret = -errno;
		} else {
			clk = FD_TO_CLOCKID(fd);
			ret = respond(mb.page, secs, read_phc, &clk, &n);
			close(fd);
		}
	}
	rig_mailbox_close(&mb);
	if (ret) {
		fprintf(stderr, "rig-echo: %s: cannot read the clock: %s\n",
			argc == 3 ? what : argv[2], strerror(-ret));
		return 1;
	}
	fprintf(stderr, "rig-echo: %s: %lu pings answered in %.3g s\n",
		what, n, secs);
	return 0;
}
