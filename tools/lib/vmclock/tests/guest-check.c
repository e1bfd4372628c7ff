// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * vmclock-libcheck: libvmclock's checks inside a guest (tests/vm/boots),
 * against the driver's /dev/vmclock0. Prints TAP lines ("ok - ..." /
 * "not ok - ...", the rig numbers them); exit status 1 when one failed.
 *
 *   vmclock-libcheck phc /dev/ptpN COUNT
 *       the library's time agrees with the PHC: each PHC reading (TAI) lies
 *       in [earliest, latest] of the library's TAI taken just before and
 *       just after it; now() made from the page, bounded, synchronized
 *   vmclock-libcheck disruption READY_FILE TIMEOUT_S
 *       takes a token, creates READY_FILE, and waits; the host then
 *       disrupts the page (new marker and generation, UNRELIABLE for a
 *       while): the wait must wake, the token check fail, now() report
 *       DISRUPTED until the page says SYNCHRONIZED again, then
 *       SYNCHRONIZED with page time
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmclock.h"

#define CLOCKFD			3
#define FD_TO_CLOCKID(fd)	((clockid_t)((((unsigned int)~(fd)) << 3) | CLOCKFD))
#define NS			1000000000LL

static int failed;

static void check(bool pass, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check(bool pass, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", pass ? "ok" : "not ok");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!pass)
		failed = 1;
}

static int64_t ns_of(const struct vmclock_timespec *t)
{
	return t->tv_sec * NS + t->tv_nsec;
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static const char *const status_names[] = { "UNKNOWN", "SYNCHRONIZED",
	"FREE_RUNNING", "UNRELIABLE", "DISRUPTED" };

static int cmd_phc(const char *ptp, int count)
{
	struct vmclock_now a, b;
	struct vmclock *vc;
	struct timespec ts;
	int64_t worst_lo = INT64_MAX, worst_hi = INT64_MAX, width = 0;
	int fd, i, ret, bad = 0, busy = 0;

	ret = vmclock_open(NULL, &vc);
	check(!ret, "libvmclock opens /dev/vmclock0 (%s)", vmclock_strerror(ret));
	if (ret)
		return 1;
	fd = open(ptp, O_RDONLY);
	check(fd >= 0, "open %s", ptp);
	if (fd < 0)
		return 1;
	ret = vmclock_now(vc, &a);
	check(!ret && a.realtime.source == VMCLOCK_SOURCE_PAGE && a.realtime.bounded &&
	      a.tai.source == VMCLOCK_SOURCE_PAGE && a.status == VMCLOCK_SYNCHRONIZED,
	      "now(): page time, bounded, UTC and TAI, SYNCHRONIZED (source %d/%d, status %s)",
	      a.realtime.source, a.tai.source, status_names[a.status % 5]);
	check(ns_of(&a.tai.earliest) - ns_of(&a.realtime.earliest) == 37 * NS,
	      "now(): TAI - UTC = 37 s");

	for (i = 0; i < count; i++) {
		int64_t phc, lo, hi;

		if (vmclock_now(vc, &a) || clock_gettime(FD_TO_CLOCKID(fd), &ts) ||
		    vmclock_now(vc, &b)) {
			busy++;
			continue;
		}
		phc = ts.tv_sec * NS + ts.tv_nsec;
		lo = phc - ns_of(&a.tai.earliest);	/* >= 0 when inside */
		hi = ns_of(&b.tai.latest) - phc;	/* >= 0 when inside */
		if (lo < worst_lo)
			worst_lo = lo;
		if (hi < worst_hi)
			worst_hi = hi;
		width = ns_of(&a.tai.latest) - ns_of(&a.tai.earliest);
		if (lo < 0 || hi < 0)
			bad++;
	}
	check(!busy && !bad,
	      "library TAI agrees with the PHC: %d readings inside [earliest, latest] "
	      "(%d outside, %d errors; closest margins %lld / %lld ns, width %lld ns)",
	      count - bad - busy, bad, busy, (long long)worst_lo, (long long)worst_hi,
	      (long long)width);
	close(fd);
	vmclock_close(vc);
	return failed;
}

static int cmd_disruption(const char *ready, int timeout_s)
{
	struct vmclock_token tok;
	struct vmclock_now n;
	struct vmclock *vc;
	int64_t t0, woke, until;
	long disrupted = 0, other = 0;
	int ret, fd, first = -1;

	ret = vmclock_open(NULL, &vc);
	check(!ret, "libvmclock opens /dev/vmclock0 (%s)", vmclock_strerror(ret));
	if (ret)
		return 1;
	printf("# wait mode: %s\n",
	       vmclock_wait_mode(vc) == VMCLOCK_WAIT_NOTIFY ? "notify (poll on the device)" :
	       "periodic (the library looks every 100 ms)");
	ret = vmclock_token_take(vc, &tok);
	check(!ret && vmclock_token_check(vc, &tok) == 1, "token taken and valid before");
	ret = vmclock_now(vc, &n);
	check(!ret && n.status == VMCLOCK_SYNCHRONIZED, "now() before: SYNCHRONIZED (%s)",
	      status_names[n.status % 5]);

	fd = open(ready, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
	t0 = mono_ns();
	ret = vmclock_wait(vc, &tok, timeout_s * 1000);
	woke = mono_ns();
	check(ret == 1, "vmclock_wait woke on the host's disruption (%d, after %lld ms)",
	      ret, (long long)((woke - t0) / 1000000));
	check(vmclock_token_check(vc, &tok) == 0, "the token taken before fails its check");

	/* DISRUPTED from now until the page is SYNCHRONIZED again. */
	until = woke + 10 * NS;
	for (;;) {
		ret = vmclock_now(vc, &n);
		if (ret || mono_ns() > until)
			break;
		if (first < 0)
			first = n.status;
		if (n.status == VMCLOCK_SYNCHRONIZED)
			break;
		if (n.status == VMCLOCK_DISRUPTED)
			disrupted++;
		else
			other++;
		usleep(1000);
	}
	check(first == VMCLOCK_DISRUPTED, "now() right after the wake: DISRUPTED (%s)",
	      first >= 0 ? status_names[first % 5] : "no reading");
	check(!ret && n.status == VMCLOCK_SYNCHRONIZED && !other && disrupted > 0,
	      "now() said DISRUPTED (%ld times, %ld other) until SYNCHRONIZED again after %lld ms",
	      disrupted, other, (long long)((mono_ns() - woke) / 1000000));
	check(n.realtime.source == VMCLOCK_SOURCE_PAGE && n.realtime.bounded &&
	      n.vm_generation_counter == tok.vm_generation_counter + 1 &&
	      n.disruption_marker == tok.disruption_marker + 1,
	      "then page time again, marker %llu -> %llu, generation %llu -> %llu",
	      (unsigned long long)tok.disruption_marker,
	      (unsigned long long)n.disruption_marker,
	      (unsigned long long)tok.vm_generation_counter,
	      (unsigned long long)n.vm_generation_counter);
	vmclock_close(vc);
	return failed;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "phc"))
		return cmd_phc(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "disruption"))
		return cmd_disruption(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: vmclock-libcheck phc /dev/ptpN COUNT | disruption READY_FILE TIMEOUT_S\n");
	return 2;
}
