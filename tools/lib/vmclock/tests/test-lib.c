// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of libvmclock against VMClock pages that tools/vmclock-host
 * writes into a plain file, the way a hypervisor writes guest memory: every
 * clock status, time scale (both signs of tai_offset_sec), flag and error
 * case, a disruption between token and check, a writer that keeps seq_count
 * odd, concurrent readers against a live writer, fork, and the promise that
 * vmclock_now() and the token calls make no system call (seccomp strict
 * mode kills the process on any).
 * Built with ASan and UBSan; TAP out, closing "N passed, N failed".
 * VMCLOCK_HOST names the writer; TEST_BREAK=name makes one check expect the
 * wrong thing, to see the suite fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmclock.h"
#include "tap.h"

#define NS	1000000000LL

static const char *host_tool;
static char page_path[256];
static char dir[128];

static bool broken(const char *name)
{
	const char *b = getenv("TEST_BREAK");

	return b && !strcmp(b, name);
}

/* Run vmclock-host on the page file; returns its exit status. */
static int __attribute__((format(printf, 1, 2))) vh(const char *fmt, ...)
{
	char args[512], cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s --file %s --offset 0 %s >/dev/null",
		 host_tool, page_path, args);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		tap_diag("vmclock-host %s: status %d", args, st);
		return -1;
	}
	return 0;
}

/* A fresh 4 KiB page: `init ARGS`. */
static int __attribute__((format(printf, 1, 2))) new_page(const char *fmt, ...)
{
	char args[400];
	va_list ap;
	int fd;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	unlink(page_path);
	fd = open(page_path, O_CREAT | O_WRONLY, 0644);
	if (fd < 0 || ftruncate(fd, 4096) || close(fd))
		return -1;
	return vh("init %s", args);
}

/* A page with real clock data for this host's TSC (counter offset 0). */
static int clock_page(const char *init_args, const char *clock_args)
{
	if (new_page("%s", init_args))
		return -1;
	return vh("clock --counter-offset 0 %s", clock_args);
}

static struct vmclock *open_page(void)
{
	struct vmclock *vc = NULL;
	int ret = vmclock_open(page_path, &vc);

	if (ret)
		tap_diag("vmclock_open: %s", vmclock_strerror(ret));
	return vc;
}

static int64_t ts_ns(const struct vmclock_timespec *ts)
{
	return (int64_t)ts->tv_sec * NS + ts->tv_nsec;
}

static int64_t sys_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static struct vmclock_now now_of(struct vmclock *vc, int *ret)
{
	struct vmclock_now n;

	memset(&n, 0xa5, sizeof(n));
	*ret = vmclock_now(vc, &n);
	return n;
}

/* ------------------------------------------------------------ open */

static void test_open_errors(void)
{
	char p[300];
	struct vmclock *vc = (void *)1;
	int ret, fd;

	snprintf(p, sizeof(p), "%s/no-such-vmclock", dir);
	ret = vmclock_open(p, &vc);
	tap_ok(ret == -ENODEV && !vc, "absent path: -ENODEV (%d), handle NULL", ret);
	tap_ok(strstr(vmclock_strerror(-ENODEV), "ptp_vmclock") != NULL,
	       "ENODEV message names the module: %s", vmclock_strerror(-ENODEV));

	snprintf(p, sizeof(p), "%s/junk", dir);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (write(fd, "not a page at all, just text, long enough for a header\n", 56) != 56)
		tap_diag("write junk failed");
	close(fd);
	ret = vmclock_open(p, &vc);
	tap_ok(ret == VMCLOCK_EBADMAGIC, "text file: bad magic (%s)", vmclock_strerror(ret));

	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (write(fd, "VCLK", 4) != 4)
		tap_diag("write short failed");
	close(fd);
	ret = vmclock_open(p, &vc);
	tap_ok(ret == VMCLOCK_EBADSIZE, "4-byte file: too small (%s)", vmclock_strerror(ret));

	ret = vmclock_open(dir, &vc);
	tap_ok(ret < 0 && !vc, "a directory: an error (%s)", vmclock_strerror(ret));

	new_page("--magic 0x12345678");
	ret = vmclock_open(page_path, &vc);
	tap_ok(ret == VMCLOCK_EBADMAGIC, "page with magic 0x12345678: bad magic");
	new_page("--version 2");
	ret = vmclock_open(page_path, &vc);
	tap_ok(ret == VMCLOCK_EBADVERSION && strstr(vmclock_strerror(ret), "version"),
	       "page version 2: %s", vmclock_strerror(ret));
	new_page("--size 16");
	ret = vmclock_open(page_path, &vc);
	tap_ok(ret == VMCLOCK_EBADSIZE, "page size 16 (below the header): %s",
	       vmclock_strerror(ret));
	tap_ok(vmclock_open(NULL, NULL) == -EINVAL, "NULL handle pointer: -EINVAL");
}

/* A 0600 file of another user: EACCES with the udev hint. */
static void test_eacces(void)
{
	int st, pfd[2], ret = 0;
	pid_t pid;

	new_page("%s", "");
	chmod(page_path, 0600);
	if (pipe(pfd))
		return;
	pid = fork();
	if (!pid) {
		struct vmclock *vc;

		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(1);
		if (geteuid() != 0)
			chmod(page_path, 0);
		ret = vmclock_open(page_path, &vc);
		if (write(pfd[1], &ret, sizeof(ret)) != sizeof(ret))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &ret, sizeof(ret)) != sizeof(ret))
		ret = 1;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	chmod(page_path, 0644);
	tap_ok(ret == -EACCES, "unreadable device: -EACCES (%d)", ret);
	tap_ok(strstr(vmclock_strerror(-EACCES), "udev") &&
	       strstr(vmclock_strerror(-EACCES), "60-vmclock.rules"),
	       "EACCES message points at the udev rule");
}

/* ------------------------------------------------------------ no clock data */

static void test_marker_only(void)
{
	struct vmclock_snapshot s;
	struct vmclock_now n;
	struct vmclock *vc;
	int64_t before, after;
	int ret;

	new_page("%s", "");	/* QEMU's shape */
	vc = open_page();
	if (!tap_ok(vc != NULL, "open a page without clock data"))
		return;
	ret = vmclock_snapshot(vc, &s);
	tap_diag("size %u version %u counter %u seq %u marker %llu status %u flags %llx",
		 s.size, s.version, s.counter_id, s.seq_count,
		 (unsigned long long)s.disruption_marker, s.clock_status,
		 (unsigned long long)s.flags);
	tap_ok(!ret && s.size == 4096 && s.version == 1 && s.counter_id == 0xff &&
	       s.seq_count == 2 && s.disruption_marker == 1 && s.clock_status == 0 &&
	       s.flags == 0 && s.counter_period_frac_sec == 0,
	       "snapshot: size 4096, version 1, counter 0xff, seq 2, marker 1, status 0");
	tap_ok(vmclock_wait_mode(vc) == VMCLOCK_WAIT_PERIODIC,
	       "a plain file: periodic wait mode");

	before = sys_ns(CLOCK_REALTIME);
	n = now_of(vc, &ret);
	after = sys_ns(CLOCK_REALTIME);
	tap_ok(!ret && n.realtime.source == VMCLOCK_SOURCE_SYSTEM && !n.realtime.bounded &&
	       ts_ns(&n.realtime.earliest) == ts_ns(&n.realtime.latest) &&
	       ts_ns(&n.realtime.earliest) >= before && ts_ns(&n.realtime.earliest) <= after,
	       "now without clock data: the system clock, bound unknown");
	tap_ok(n.tai.source == VMCLOCK_SOURCE_NONE && !n.tai.bounded &&
	       !n.tai.earliest.tv_sec && !n.tai.latest.tv_nsec,
	       "now without clock data: no TAI invented");
	tap_ok(n.status == VMCLOCK_UNKNOWN && n.disruption_marker == 1 &&
	       n.vm_generation_counter == 0,
	       "now: status UNKNOWN, marker 1, generation 0");

	/* A marker-only disruption: DISRUPTED until acknowledged. */
	vh("disrupt --marker-only");
	n = now_of(vc, &ret);
	tap_ok(!ret && n.status == VMCLOCK_DISRUPTED && n.disruption_marker == 2,
	       "marker-only disruption: now says DISRUPTED (%d), marker 2", n.status);
	n = now_of(vc, &ret);
	tap_ok(n.status == VMCLOCK_DISRUPTED, "still DISRUPTED on the next call");
	tap_ok(vmclock_ack(vc) == 0, "vmclock_ack");
	n = now_of(vc, &ret);
	tap_ok(n.status == VMCLOCK_UNKNOWN, "after ack: UNKNOWN again (%d)", n.status);
	vmclock_close(vc);
}

/* ------------------------------------------------------------ statuses */

static void test_statuses(void)
{
	static const struct { const char *name; int want; } st[] = {
		{ "unknown", VMCLOCK_UNKNOWN },
		{ "initializing", VMCLOCK_UNKNOWN },
		{ "synchronized", VMCLOCK_SYNCHRONIZED },
		{ "freerunning", VMCLOCK_FREE_RUNNING },
		{ "unreliable", VMCLOCK_UNRELIABLE },
		{ "7", VMCLOCK_UNKNOWN },	/* reserved value */
	};
	struct vmclock_now n;
	struct vmclock *vc;
	unsigned int i;
	int ret;

	clock_page("--gen-counter", "");
	vc = open_page();
	if (!vc)
		return;
	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		int want = st[i].want;

		if (i == 2 && broken("status"))
			want = VMCLOCK_FREE_RUNNING;
		vh("set clock_status=%s", st[i].name);
		n = now_of(vc, &ret);
		tap_ok(!ret && n.status == want && n.realtime.source == VMCLOCK_SOURCE_PAGE,
		       "clock_status %s -> status %d (got %d), time still from the page",
		       st[i].name, want, n.status);
	}
	vmclock_close(vc);
}

/* ------------------------------------------------------------ scales */

/* Page time vs the system clock, and the TAI - UTC distance. */
static void check_time(struct vmclock *vc, const char *what, int want_rt_src,
		       int want_tai_src, int64_t want_tai_minus_utc)
{
	struct vmclock_now n;
	int64_t before, after, e, l;
	int ret;

	before = sys_ns(CLOCK_REALTIME);
	n = now_of(vc, &ret);
	after = sys_ns(CLOCK_REALTIME);
	if (!tap_ok(!ret, "%s: now succeeds", what))
		return;
	tap_ok(n.realtime.source == want_rt_src && n.tai.source == want_tai_src,
	       "%s: realtime source %d (want %d), TAI source %d (want %d)", what,
	       n.realtime.source, want_rt_src, n.tai.source, want_tai_src);
	e = ts_ns(&n.realtime.earliest);
	l = ts_ns(&n.realtime.latest);
	if (want_rt_src == VMCLOCK_SOURCE_PAGE) {
		/* The page was written from this host's CLOCK_REALTIME. */
		tap_ok(n.realtime.bounded && e <= after && l >= before && l - e < 2000000,
		       "%s: system time [%lld, %lld] meets the page's range [%lld, %lld]",
		       what, (long long)before, (long long)after, (long long)e, (long long)l);
	} else {
		tap_ok(!n.realtime.bounded && e == l && e >= before && e <= after,
		       "%s: system time, no bound", what);
	}
	if (want_tai_src == VMCLOCK_SOURCE_PAGE && want_rt_src == VMCLOCK_SOURCE_PAGE) {
		int64_t d = ts_ns(&n.tai.earliest) - e;

		tap_ok(d == want_tai_minus_utc * NS && ts_ns(&n.tai.latest) - l == d,
		       "%s: TAI - UTC = %lld ns (want %lld s)", what, (long long)d,
		       (long long)want_tai_minus_utc);
	}
	if (want_tai_src == VMCLOCK_SOURCE_PAGE && want_rt_src != VMCLOCK_SOURCE_PAGE) {
		int64_t d = ts_ns(&n.tai.earliest) - e;

		tap_ok(n.tai.bounded && d > (want_tai_minus_utc - 1) * NS &&
		       d < (want_tai_minus_utc + 1) * NS,
		       "%s: TAI from the page, %lld ns ahead of the system clock", what,
		       (long long)d);
	}
}

static void test_scales(void)
{
	struct vmclock *vc;
	int64_t want = broken("sign") ? -37 : 37;

	/* Linux's sign (UTC - TAI = -37) and the spec prose's (+37). */
	clock_page("", "--time-type tai --tai-offset -37");
	vc = open_page();
	check_time(vc, "TAI page, offset -37", VMCLOCK_SOURCE_PAGE, VMCLOCK_SOURCE_PAGE, want);
	vmclock_close(vc);
	clock_page("", "--time-type tai --tai-offset 37");
	vc = open_page();
	check_time(vc, "TAI page, offset +37", VMCLOCK_SOURCE_PAGE, VMCLOCK_SOURCE_PAGE, 37);
	vmclock_close(vc);
	clock_page("", "--time-type utc --tai-offset -37");
	vc = open_page();
	check_time(vc, "UTC page, offset -37", VMCLOCK_SOURCE_PAGE, VMCLOCK_SOURCE_PAGE, 37);
	vmclock_close(vc);
	clock_page("", "--time-type utc --tai-offset 37");
	vc = open_page();
	check_time(vc, "UTC page, offset +37", VMCLOCK_SOURCE_PAGE, VMCLOCK_SOURCE_PAGE, 37);
	vh("set flags-=tai");
	check_time(vc, "UTC page, no valid offset", VMCLOCK_SOURCE_PAGE, VMCLOCK_SOURCE_NONE, 0);
	vmclock_close(vc);
	clock_page("", "--time-type tai --tai-offset -37");
	vh("set flags-=tai");
	vc = open_page();
	check_time(vc, "TAI page, no valid offset", VMCLOCK_SOURCE_SYSTEM, VMCLOCK_SOURCE_PAGE, 37);
	vh("set time_type=monotonic");
	check_time(vc, "monotonic page", VMCLOCK_SOURCE_SYSTEM, VMCLOCK_SOURCE_NONE, 0);
	vh("set time_type=smeared flags+=tai");
	check_time(vc, "smeared page", VMCLOCK_SOURCE_SYSTEM, VMCLOCK_SOURCE_NONE, 0);
	vh("set time_type=4");
	check_time(vc, "maybe-smeared page", VMCLOCK_SOURCE_SYSTEM, VMCLOCK_SOURCE_NONE, 0);
	vmclock_close(vc);
}

/* ------------------------------------------------------------ clock data */

static void test_bad_clock_data(void)
{
	static const char *const bad[] = {
		"counter_id=arm", "counter_id=invalid", "counter_period_frac_sec=0",
		"counter_period_shift=64",
		/* a reference point far ahead of the counter: out of range */
		"counter_value-=1",
		/* seconds no timespec holds, in UTC and TAI */
		"time_sec=0x7fffffffffffffff time_type=utc flags+=tai tai_offset_sec=32767",
		"time_sec=0xffffffffffffff00",
	};
	struct vmclock_snapshot s;
	struct vmclock_now n;
	struct vmclock *vc;
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		clock_page("", "");
		vc = open_page();
		if (!vc)
			continue;
		if (i == 4) {
			/* counter_value far in the future: -ERANGE in the core. */
			vmclock_snapshot(vc, &s);
			vh("set counter_value=%llu",
			   (unsigned long long)(s.counter_value + (1ULL << 62)));
		} else {
			vh("set %s", bad[i]);
		}
		n = now_of(vc, &ret);
		tap_ok(!ret && n.realtime.source == VMCLOCK_SOURCE_SYSTEM &&
		       !n.realtime.bounded && n.tai.source == VMCLOCK_SOURCE_NONE &&
		       n.realtime.earliest.tv_sec > 0 &&
		       n.status == VMCLOCK_SYNCHRONIZED,
		       "unusable clock data (%s): system time, no bound, page status kept",
		       i == 4 ? "counter_value 2^62 ahead" : bad[i]);
		vmclock_close(vc);
	}
}

static void test_error_bounds(void)
{
	struct vmclock_now n;
	struct vmclock *vc;
	int64_t w;
	int ret;

	clock_page("", "--maxerror-ns 5000000 --esterror-ns 2000");
	vc = open_page();
	if (!vc)
		return;
	n = now_of(vc, &ret);
	w = ts_ns(&n.realtime.latest) - ts_ns(&n.realtime.earliest);
	/* 2 x (5 ms + 50 ppm of the time since the page was written) */
	tap_ok(!ret && w >= 10000000 && w < 10100000 && n.realtime.bounded,
	       "maxerror 5 ms: range width %lld ns", (long long)w);

	vh("set flags-=time_maxerror_valid");
	n = now_of(vc, &ret);
	tap_ok(!ret && n.realtime.source == VMCLOCK_SOURCE_PAGE && !n.realtime.bounded &&
	       ts_ns(&n.realtime.latest) == ts_ns(&n.realtime.earliest) &&
	       !n.tai.bounded, "no TIME_MAXERROR_VALID: page time, bound unknown");
	vh("set flags+=time_maxerror_valid flags-=period_maxerror_valid");
	n = now_of(vc, &ret);
	tap_ok(!n.realtime.bounded, "no PERIOD_MAXERROR_VALID: bound unknown");
	vh("set flags+=period_maxerror_valid flags-=time_esterror_valid flags-=period_esterror_valid");
	n = now_of(vc, &ret);
	tap_ok(n.realtime.bounded, "no estimated errors: the maximum error still bounds");
	vmclock_close(vc);
}

static void test_flags_and_size(void)
{
	struct vmclock_snapshot s;
	struct vmclock_token t;
	struct vmclock_now n;
	struct vmclock *vc;
	int ret;

	new_page("%s", "");
	vh("set flags=0x3ff vm_generation_counter=5 leap_indicator=3 "
	   "leap_second_smearing_hint=2 tai_offset_sec=-37");
	vc = open_page();
	if (!vc)
		return;
	ret = vmclock_snapshot(vc, &s);
	tap_ok(!ret && s.flags == 0x3ff && s.vm_generation_counter == 5 &&
	       s.leap_indicator == 3 && s.leap_second_smearing_hint == 2 &&
	       s.tai_offset_sec == -37, "snapshot shows every flag and field as written");
	n = now_of(vc, &ret);
	tap_ok(n.vm_generation_counter == 5 && n.leap_indicator == 3,
	       "now: generation 5 with VM_GEN_COUNTER_PRESENT, leap indicator 3");
	vh("set flags-=gen");
	n = now_of(vc, &ret);
	vmclock_token_take(vc, &t);
	tap_ok(n.vm_generation_counter == 0 && t.vm_generation_counter == 0,
	       "generation ignored without VM_GEN_COUNTER_PRESENT");
	vh("set vm_generation_counter=6");
	tap_ok(vmclock_token_check(vc, &t) == 1,
	       "a generation change without its flag is no disruption");
	vmclock_close(vc);

	/* Linux 6.13's 104-byte structure: no generation field at all. */
	new_page("--size 0x68 --gen-counter");
	vh("set vm_generation_counter=9");
	vc = open_page();
	if (!vc)
		return;
	ret = vmclock_snapshot(vc, &s);
	tap_ok(!ret && s.size == 0x68 && s.vm_generation_counter == 0,
	       "size 0x68: the generation field is absent (read as 0)");
	vmclock_close(vc);
}

/* ------------------------------------------------------------ tokens */

static void test_tokens(void)
{
	struct vmclock_token t, t2;
	struct vmclock *vc;

	clock_page("--gen-counter", "");
	vc = open_page();
	if (!vc)
		return;
	tap_ok(vmclock_token_take(vc, &t) == 0 && t.disruption_marker == 1 &&
	       t.vm_generation_counter == 0, "token: marker 1, generation 0");
	tap_ok(vmclock_token_check(vc, &t) == 1, "check right after take: valid");
	vh("set clock_status=freerunning");
	tap_ok(vmclock_token_check(vc, &t) == 1, "an ordinary update keeps the token valid");
	vh("disrupt");
	tap_ok(vmclock_token_check(vc, &t) == (broken("token") ? 1 : 0),
	       "a disruption between take and check: invalid");
	tap_ok(vmclock_token_check(vc, &t) == 0, "and it stays invalid");
	vmclock_token_take(vc, &t2);
	tap_ok(vmclock_token_check(vc, &t2) == 1 && t2.disruption_marker == 2,
	       "a new token after the disruption: valid, marker 2");
	vh("set vm_generation_counter=1");
	tap_ok(vmclock_token_check(vc, &t2) == 0,
	       "a generation change alone invalidates the token");
	vmclock_close(vc);
}

/* disrupt (UNRELIABLE, new marker) ... synchronized again. */
static void test_now_disrupted(void)
{
	struct vmclock_now n;
	struct vmclock *vc;
	int ret;

	clock_page("--gen-counter", "");
	vc = open_page();
	if (!vc)
		return;
	n = now_of(vc, &ret);
	tap_ok(n.status == VMCLOCK_SYNCHRONIZED, "before: SYNCHRONIZED");
	vh("disrupt --generation");	/* unreliable, then synchronized at once */
	vh("set clock_status=unreliable");
	vh("disrupt --marker-only");	/* and now a window that stays open */
	n = now_of(vc, &ret);
	tap_ok(!ret && n.status == VMCLOCK_DISRUPTED && n.disruption_marker == 3 &&
	       n.vm_generation_counter == 1,
	       "after a disruption: DISRUPTED, marker 3, generation 1 (status %d)", n.status);
	vh("set clock_status=freerunning");
	n = now_of(vc, &ret);
	tap_ok(n.status == VMCLOCK_DISRUPTED, "free running is not synchronized: still DISRUPTED");
	vh("set clock_status=synchronized");
	n = now_of(vc, &ret);
	tap_ok(n.status == VMCLOCK_SYNCHRONIZED, "synchronized again: SYNCHRONIZED");
	vh("set clock_status=freerunning");
	n = now_of(vc, &ret);
	tap_ok(n.status == VMCLOCK_FREE_RUNNING, "later: the page's own status (FREE_RUNNING)");
	vmclock_close(vc);
}

/* ------------------------------------------------------------ stuck writer */

static void test_stuck_writer(void)
{
	struct vmclock_snapshot s;
	struct vmclock_token t = { 1, 0 };
	struct vmclock_now n;
	struct vmclock *vc;
	int64_t t0, dt;
	int ret;

	clock_page("", "");
	vc = open_page();
	if (!vc)
		return;
	vh("set seq_count=3");	/* raw: "being written" forever */
	t0 = sys_ns(CLOCK_MONOTONIC);
	ret = vmclock_now(vc, &n);
	dt = sys_ns(CLOCK_MONOTONIC) - t0;
	tap_ok(ret == -EBUSY && dt < 2 * NS, "seq_count stuck odd: now -EBUSY after %lld ms",
	       (long long)(dt / 1000000));
	tap_ok(strstr(vmclock_strerror(ret), "stuck") != NULL, "EBUSY message: %s",
	       vmclock_strerror(ret));
	tap_ok(vmclock_token_take(vc, &t) == -EBUSY, "token take: -EBUSY");
	tap_ok(vmclock_token_check(vc, &t) == -EBUSY, "token check: -EBUSY, never 'valid'");
	tap_ok(vmclock_snapshot(vc, &s) == -EBUSY, "snapshot: -EBUSY");
	tap_ok(vmclock_wait(vc, &t, 200) == -EBUSY, "wait: -EBUSY");
	vmclock_close(vc);
	ret = vmclock_open(page_path, &vc);
	tap_ok(ret == -EBUSY, "open of a stuck page: -EBUSY (%d)", ret);
	vh("set seq_count=4");
	ret = vmclock_open(page_path, &vc);
	tap_ok(ret == 0, "the writer finishes: open works again");
	if (!ret)
		vmclock_close(vc);
}

/* ------------------------------------------------------------ wait */

static void test_wait(void)
{
	struct pollfd pfd;
	struct vmclock_token t;
	struct vmclock *vc;
	int64_t t0, dt;
	pid_t pid;
	int ret, st;

	new_page("--gen-counter");
	vc = open_page();
	if (!vc)
		return;
	vmclock_token_take(vc, &t);
	t0 = sys_ns(CLOCK_MONOTONIC);
	ret = vmclock_wait(vc, &t, 300);
	dt = sys_ns(CLOCK_MONOTONIC) - t0;
	tap_ok(ret == 0 && dt >= 300000000 && dt < 1500000000,
	       "no disruption: wait times out after %lld ms", (long long)(dt / 1000000));

	vh("set clock_status=synchronized");
	tap_ok(vmclock_wait(vc, &t, 250) == 0, "an ordinary update does not end the wait");

	pid = fork();
	if (!pid) {
		usleep(300000);
		_exit(vh("disrupt --generation") ? 1 : 0);
	}
	t0 = sys_ns(CLOCK_MONOTONIC);
	ret = vmclock_wait(vc, &t, -1);
	dt = sys_ns(CLOCK_MONOTONIC) - t0;
	waitpid(pid, &st, 0);
	tap_ok(ret == 1 && dt >= 250000000 && dt < 3000000000LL,
	       "wait (no timeout) wakes on a disruption: %d after %lld ms", ret,
	       (long long)(dt / 1000000));
	tap_ok(vmclock_wait(vc, &t, 1000) == 1, "a stale token returns at once");

	pfd.fd = vmclock_fd(vc);
	pfd.events = POLLIN;
	tap_ok(pfd.fd >= 0 && poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLIN),
	       "vmclock_fd (a timer in periodic mode) becomes readable");
	vmclock_token_take(vc, &t);
	vmclock_wait(vc, &t, 0);
	pfd.revents = 0;
	tap_ok(poll(&pfd, 1, 0) == 0, "wait(0) clears vmclock_fd");
	tap_ok(vmclock_wait(NULL, &t, 0) == -EINVAL && vmclock_wait(vc, NULL, 0) == -EINVAL,
	       "wait with NULL: -EINVAL");
	vmclock_close(vc);
}

/* ------------------------------------------------------------ no allocation */

/*
 * The library's calls to the allocator, counted: the test is linked with
 * --wrap for each, so only calls from the library's (and this file's)
 * objects come here.
 */
static unsigned long allocations;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
	allocations++;
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	allocations++;
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	allocations++;
	return __real_realloc(p, n);
}

static void test_no_allocation(void)
{
	struct vmclock_token t;
	struct vmclock_now n;
	struct vmclock *vc;
	unsigned long before;
	int i;

	before = allocations;
	clock_page("", "");
	vc = open_page();
	if (!vc)
		return;
	tap_ok(allocations > before, "the allocation counter sees vmclock_open's handle");
	before = allocations;
	for (i = 0; i < 1000; i++) {
		vmclock_now(vc, &n);
		vmclock_token_take(vc, &t);
		vmclock_token_check(vc, &t);
		if (broken("alloc")) {	/* as if the library allocated */
			void *volatile p = malloc(1);

			free(p);
		}
	}
	tap_ok(allocations == before, "1000 now() + token calls allocate nothing (%lu)",
	       allocations - before);
	vmclock_close(vc);
}

/* ------------------------------------------------------------ pread path */

/* A file shorter than a page is not mapped: every read is a pread(). */
static void test_pread_path(void)
{
	struct vmclock_snapshot s;
	struct vmclock_token t;
	struct vmclock_now n;
	struct vmclock *vc;
	int64_t before, after;
	int ret;

	clock_page("--gen-counter", "");
	if (truncate(page_path, 112))
		return;
	vc = open_page();
	if (!tap_ok(vc != NULL, "pread path: a 112-byte file opens"))
		return;
	ret = vmclock_snapshot(vc, &s);
	tap_ok(!ret && s.counter_id == 1 && s.clock_status == 2 && s.disruption_marker == 1,
	       "pread path: snapshot");
	before = sys_ns(CLOCK_REALTIME);
	ret = vmclock_now(vc, &n);
	after = sys_ns(CLOCK_REALTIME);
	tap_ok(!ret && n.realtime.source == VMCLOCK_SOURCE_PAGE && n.realtime.bounded &&
	       ts_ns(&n.realtime.earliest) <= after && ts_ns(&n.realtime.latest) >= before,
	       "pread path: now() gives the page's time around the system's");
	tap_ok(vmclock_token_take(vc, &t) == 0 && vmclock_token_check(vc, &t) == 1,
	       "pread path: token valid");
	/* vmclock-host writes only whole pages: grow, disrupt, shrink. */
	if (truncate(page_path, 4096) || vh("disrupt --generation") || truncate(page_path, 112))
		tap_diag("could not disrupt the short page");
	tap_ok(vmclock_token_check(vc, &t) == 0, "pread path: the disruption invalidates the token");
	tap_ok(vmclock_wait(vc, &t, 1000) == 1, "pread path: wait returns at once");
	if (truncate(page_path, 100))
		tap_diag("truncate failed");
	tap_ok(vmclock_now(vc, &n) == -ENODATA && strstr(vmclock_strerror(-ENODATA), "shorter"),
	       "pread path: a page that shrank below what was opened: -ENODATA");
	vmclock_close(vc);
}

/* ------------------------------------------------------------ poll()less devices */

/*
 * A device whose poll() says nothing: fstat() and poll() are wrapped (the
 * test is linked with --wrap for them) so that the page file looks like a
 * character device whose poll() is either quiet or always readable, as
 * Linux 6.13 to 6.19's driver, which has no poll(), is.
 */
enum { FAKE_OFF, FAKE_QUIET, FAKE_ALWAYS };
static int fake_dev = FAKE_OFF;
static unsigned long fake_polls;
int __real_fstat(int fd, struct stat *st);
int __real_poll(struct pollfd *fds, nfds_t n, int timeout);

int __wrap_fstat(int fd, struct stat *st)
{
	int ret = __real_fstat(fd, st);

	if (!ret && fake_dev != FAKE_OFF && S_ISREG(st->st_mode))
		st->st_mode = (st->st_mode & ~S_IFMT) | S_IFCHR;
	return ret;
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (fake_dev == FAKE_OFF || n != 1)
		return __real_poll(fds, n, timeout);
	fake_polls++;
	if (fake_dev == FAKE_ALWAYS) {
		fds[0].revents = POLLIN | POLLRDNORM;
		return 1;
	}
	fds[0].revents = 0;
	if (timeout)
		usleep(timeout < 0 || timeout > 50 ? 50000 : timeout * 1000);
	return 0;
}

static void test_pollless_device(void)
{
	struct vmclock_token t;
	struct vmclock *vc;
	int64_t t0, dt;
	int ret;

	new_page("%s", "--notify");
	fake_dev = FAKE_ALWAYS;
	vc = open_page();
	if (vc) {
		tap_ok(vmclock_wait_mode(vc) == VMCLOCK_WAIT_PERIODIC,
		       "a device that is always readable: periodic wait mode");
		vmclock_close(vc);
	}
	/* Quiet at open (notify mode), always readable afterwards. */
	fake_dev = FAKE_QUIET;
	vc = open_page();
	if (!vc) {
		fake_dev = FAKE_OFF;
		return;
	}
	tap_ok(vmclock_wait_mode(vc) == VMCLOCK_WAIT_NOTIFY, "a quiet device: notify mode");
	vmclock_token_take(vc, &t);
	fake_dev = FAKE_ALWAYS;
	fake_polls = 0;
	t0 = sys_ns(CLOCK_MONOTONIC);
	ret = vmclock_wait(vc, &t, 300);
	dt = sys_ns(CLOCK_MONOTONIC) - t0;
	tap_ok(ret == 0 && dt >= 300000000 && fake_polls <= 10,
	       "poll() readable without a page change: wait does not spin "
	       "(%lu polls in %lld ms, then looks at the page itself)", fake_polls,
	       (long long)(dt / 1000000));
	fake_dev = FAKE_OFF;
	vmclock_close(vc);
}

/* ------------------------------------------------------------ no syscalls */

enum { PROBE_NOW, PROBE_TOKEN };

/*
 * Under this seccomp filter any system call but write and exit kills the
 * process. (Strict mode would also forbid rdtsc.)
 */
static int forbid_syscalls(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int strict_probe(struct vmclock *vc, int what)
{
	int pfd[2], st, result = -1000;
	pid_t pid;

	if (pipe(pfd))
		return -1000;
	pid = fork();
	if (!pid) {
		struct vmclock_token t;
		struct vmclock_now n;
		int r;

		close(pfd[0]);
		if (forbid_syscalls())
			syscall(SYS_exit, 2);
		if (what == PROBE_NOW) {
			r = vmclock_now(vc, &n);
			if (!r)
				r = n.realtime.source;
			if (broken("syscall"))
				getppid();
		} else {
			r = vmclock_token_take(vc, &t);
			if (!r)
				r = vmclock_token_check(vc, &t);
		}
		if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
			syscall(SYS_exit, 3);
		syscall(SYS_exit, 0);
	}
	close(pfd[1]);
	if (read(pfd[0], &result, sizeof(result)) != sizeof(result))
		result = -1000;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return -2000 - (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return result;
}

static void test_no_syscalls(void)
{
	struct vmclock *vc;
	int r;

	clock_page("", "");
	vc = open_page();
	if (!vc)
		return;
	r = strict_probe(vc, PROBE_NOW);
	tap_ok(r == VMCLOCK_SOURCE_PAGE,
	       "now() with clock data makes no system call (seccomp: %d)", r);
	r = strict_probe(vc, PROBE_TOKEN);
	tap_ok(r == 1, "token take + check make no system call (seccomp: %d)", r);
	vmclock_close(vc);
}

/* ------------------------------------------------------------ threads, fork */

struct reader {
	struct vmclock *vc;
	int64_t bad, calls, busy;
	char why[160];
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	struct vmclock_token t;
	struct vmclock_now n;
	int64_t before, after;
	int ret;

	while (r->calls < 200000) {
		before = sys_ns(CLOCK_REALTIME);
		ret = vmclock_now(r->vc, &n);
		after = sys_ns(CLOCK_REALTIME);
		r->calls++;
		if (ret == -EBUSY) {
			r->busy++;
			continue;
		}
		if (ret || n.realtime.source != VMCLOCK_SOURCE_PAGE ||
		    ts_ns(&n.realtime.earliest) > after ||
		    ts_ns(&n.realtime.latest) < before) {
			if (!r->bad++)
				snprintf(r->why, sizeof(r->why),
					 "ret %d source %d range [%lld, %lld] system [%lld, %lld]",
					 ret, n.realtime.source,
					 (long long)ts_ns(&n.realtime.earliest),
					 (long long)ts_ns(&n.realtime.latest),
					 (long long)before, (long long)after);
		}
		if (vmclock_token_take(r->vc, &t) || vmclock_token_check(r->vc, &t) != 1)
			r->bad++;
	}
	return NULL;
}

static void test_threads(void)
{
	struct reader r[4];
	pthread_t th[4];
	struct vmclock *vc;
	char cmd[700];
	int64_t bad = 0, calls = 0;
	pid_t writer;
	int i, st;

	clock_page("", "");
	vc = open_page();
	if (!vc)
		return;
	/* A live writer: new clock data every millisecond for a while. */
	snprintf(cmd, sizeof(cmd), "exec %s --file %s --offset 0 steady --counter-offset 0 "
		 "--interval-ms 1 --duration-s 3 >/dev/null", host_tool, page_path);
	writer = fork();
	if (!writer) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	usleep(300000);
	for (i = 0; i < 4; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].vc = vc;
		pthread_create(&th[i], NULL, reader_thread, &r[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		bad += r[i].bad;
		calls += r[i].calls;
		if (r[i].bad)
			tap_diag("thread %d: %s", i, r[i].why);
	}
	kill(writer, SIGTERM);
	waitpid(writer, &st, 0);
	tap_ok(bad == 0, "4 threads, %lld now() + token calls against a writer "
	       "updating every ms: %lld inconsistent", (long long)calls, (long long)bad);
	vmclock_close(vc);
}

static void test_fork(void)
{
	struct vmclock_token t;
	struct vmclock *vc;
	pid_t pid;
	int st;

	clock_page("", "");
	vc = open_page();
	if (!vc)
		return;
	vmclock_token_take(vc, &t);
	pid = fork();
	if (!pid) {
		struct vmclock_now n;

		if (vmclock_now(vc, &n) || n.realtime.source != VMCLOCK_SOURCE_PAGE)
			_exit(1);
		if (vmclock_token_check(vc, &t) != 1)
			_exit(2);
		if (vmclock_wait(vc, &t, 500) != 1)	/* the parent disrupts */
			_exit(3);
		vmclock_close(vc);
		_exit(0);
	}
	usleep(100000);
	vh("disrupt --marker-only");
	waitpid(pid, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "a forked child uses the inherited handle: now, token, wait (status %d)",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	tap_ok(vmclock_token_check(vc, &t) == 0, "the parent sees the disruption too");
	vmclock_close(vc);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	host_tool = getenv("VMCLOCK_HOST");
	if (!host_tool || access(host_tool, X_OK)) {
		printf("Bail out! VMCLOCK_HOST must name tools/vmclock-host's binary\n");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/libvmclock-test.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	chmod(dir, 0755);	/* the EACCES test's other user must reach the file */
	snprintf(page_path, sizeof(page_path), "%s/page", dir);
	printf("TAP version 13\n");

	test_open_errors();
	test_eacces();
	test_marker_only();
	test_statuses();
	test_scales();
	test_bad_clock_data();
	test_error_bounds();
	test_flags_and_size();
	test_tokens();
	test_now_disrupted();
	test_stuck_writer();
	test_wait();
	test_pread_path();
	test_pollless_device();
	test_no_allocation();
	test_no_syscalls();
	test_threads();
	test_fork();

	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			tap_diag("could not remove %s", dir);
	}
	return tap_finish();
}
