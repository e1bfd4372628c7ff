// SPDX-License-Identifier: GPL-2.0
/*
 * rig-echo: keep rewriting a guest clock reading into the mailbox so the
 * host can bracket it with its own clock (offset calibration, accuracy).
 *   rig-echo tsc SECONDS             rdtsc -> RIG_MB_TSC_ECHO
 *   rig-echo phc /dev/ptpN SECONDS   PHC ns -> RIG_MB_PHC_ECHO
 * Exits 0 when at least one reading was echoed, 1 otherwise.
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
#include <x86intrin.h>

#include "rig_request.h"

#define EXIT_USAGE	2
#define FD_TO_CLOCKID(fd)	((~(clockid_t)(fd) << 3) | 3)

static void usage(void)
{
	fprintf(stderr,
		"usage: rig-echo tsc SECONDS\n"
		"       rig-echo phc /dev/ptpN SECONDS\n"
		"  rewrites rdtsc (tsc) or the PHC time in ns (phc) into the rig\n"
		"  mailbox (%s, override with RIG_MAILBOX_DEV) for SECONDS\n",
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

/* An aligned 64-bit store is single-copy atomic on x86-64: no torn reads. */
static void echo(volatile unsigned char *page, unsigned int off, uint64_t v)
{
	__atomic_store_n((volatile uint64_t *)(page + off), v, __ATOMIC_RELAXED);
}

static unsigned long echo_tsc(volatile unsigned char *page, double secs)
{
	double end = now_s() + secs;
	unsigned long n = 0;

	do {
		/* Check the clock rarely so the loop stays tight. */
		for (int i = 0; i < 4096; i++, n++)
			echo(page, RIG_MB_TSC_ECHO, __rdtsc());
	} while (now_s() < end);
	return n;
}

static unsigned long echo_phc(volatile unsigned char *page, const char *dev,
			      double secs)
{
	unsigned long n = 0, errors = 0;
	int first_errno = 0;
	struct timespec ts;
	double end;
	clockid_t clk;
	int fd;

	/* Read-only is enough for clock_gettime(), as chrony does. */
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "rig-echo: %s: %s\n", dev, strerror(errno));
		return 0;
	}
	clk = FD_TO_CLOCKID(fd);
	end = now_s() + secs;
	do {
		for (int i = 0; i < 64; i++) {
			if (clock_gettime(clk, &ts)) {
				if (!errors++)
					first_errno = errno;
				continue;
			}
			echo(page, RIG_MB_PHC_ECHO,
			     (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec);
			n++;
		}
	} while (now_s() < end);
	close(fd);
	if (errors)
		fprintf(stderr, "rig-echo: %lu failed PHC reads, first: %s\n",
			errors, strerror(first_errno));
	return n;
}

int main(int argc, char **argv)
{
	struct rig_mailbox mb;
	const char *what;
	unsigned long n;
	double secs;
	int ret;

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
	if (argc == 3)
		n = echo_tsc(mb.page, secs);
	else
		n = echo_phc(mb.page, argv[2], secs);
	rig_mailbox_close(&mb);

	fprintf(stderr, "rig-echo: %s: %lu readings echoed in %.3g s\n",
		what, n, secs);
	return n ? 0 : 1;
}
