// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_ptp: the PTP clock "vmclock0" against the page it is computed
 * from. Each PHC reading is bracketed by two TSC reads taken from the same
 * consistent snapshot of the mapped page (the core's vmclock_snap_read and
 * vmclock_snap_time, as the driver uses them), so it must fall between the
 * page's time at the first and at the second TSC read, within a few us.
 *
 * Fixed by common.md and checked here: cross-timestamping advertised;
 * gettime/EXTENDED/PRECISE agree with the page; settime, adjtime and
 * adjfine fail with EOPNOTSUPP; PRECISE fails with EOPNOTSUPP when the
 * system clocksource is not the TSC (or kvm-clock), and on arm64 before
 * Linux 6.9 (no arch-counter cross-timestamp there); the PHC returns TAI
 * (UTC with phc_utc=Y) with TAI = UTC + |tai_offset_sec| for both signs;
 * -EBUSY while clock_status is UNRELIABLE, success again once SYNCHRONIZED;
 * clock data two days old is extrapolated, not refused; EXTENDED2 system
 * timestamps in the clock its clockid asks for (Linux 6.11+).
 *
 * Host commands: clock (when VMCLOCK_COUNTER_OFFSET is set), set, steady.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <linux/ptp_clock.h>

#include "common.h"
#include "host.h"
#include "tap.h"

#define NSEC_PER_SEC	1000000000LL
/* Slack around the TSC bracket: ns truncation on both sides plus margin. */
#define TOL_NS		5000LL
#define TAI_UTC		37

struct phc {
	int fd;
	clockid_t clk;
	char dev[64];
	bool want_utc;		/* phc_utc=Y */
	struct vmc_map m;
};

static int64_t ptp_ns(const struct ptp_clock_time *t)
{
	return t->sec * NSEC_PER_SEC + t->nsec;
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * NSEC_PER_SEC + t->tv_nsec;
}

/*
 * Seconds the PHC must add to the page's time, from the rule common.md
 * fixes (written out here rather than taken from the core, so that a wrong
 * sign in the core cannot make driver and test agree).
 */
static int expected_offset(const struct vmclock_snap *s, bool want_utc,
			   int64_t *add)
{
	int64_t off = s->tai_offset_sec < 0 ? -s->tai_offset_sec :
					      s->tai_offset_sec;
	bool valid = s->flags & VMCLOCK_FLAG_TAI_OFFSET_VALID;

	if (s->time_type == VMCLOCK_TIME_TAI && !want_utc)
		*add = 0;
	else if (s->time_type == VMCLOCK_TIME_UTC && want_utc)
		*add = 0;
	else if (s->time_type == VMCLOCK_TIME_TAI && valid)
		*add = -off;
	else if (s->time_type == VMCLOCK_TIME_UTC && valid)
		*add = off;
	else
		return -EINVAL;
	return 0;
}

/* The window [lo, hi] the PHC value must fall into, in ns of its scale. */
struct window {
	int64_t lo, hi;
	int64_t add_sec;
	struct vmclock_snap snap;
};

static int page_ns(const struct vmclock_snap *s, u64 counter, int64_t add,
		   int64_t *ns)
{
	struct vmclock_time t;
	int ret = vmclock_snap_time(s, counter, &t);

	if (ret)
		return ret;
	*ns = (int64_t)(t.sec + add) * NSEC_PER_SEC + t.nsec;
	return 0;
}

static int window_begin(struct phc *p, struct window *w)
{
	int ret = vmc_snap(&p->m, &w->snap, true);

	if (ret)
		return ret;
	ret = expected_offset(&w->snap, p->want_utc, &w->add_sec);
	if (ret)
		return ret;
	return page_ns(&w->snap, w->snap.counter, w->add_sec, &w->lo);
}

/* -EAGAIN when the host changed the page meanwhile: measure again. */
static int window_end(struct phc *p, struct window *w)
{
	u64 t1 = rdtsc_counter(NULL);
	struct vmclock_snap now;
	int ret;

	ret = vmc_snap(&p->m, &now, false);
	if (ret)
		return ret;
	if (now.seq != w->snap.seq)
		return -EAGAIN;
	return page_ns(&w->snap, t1, w->add_sec, &w->hi);
}

static bool in_window(const struct window *w, int64_t v)
{
	return v >= w->lo - TOL_NS && v <= w->hi + TOL_NS;
}

static const char *win_str(const struct window *w, int64_t v)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "value %lld ns, page window [%lld, %lld] (%+lld ns from lo)",
		 (long long)v, (long long)w->lo, (long long)w->hi,
		 (long long)(v - w->lo));
	return buf;
}

/* One bracketed measurement; @read returns 0 or -errno and one value. */
typedef int (*phc_read_fn)(struct phc *p, int64_t *v, void *arg);

static int measure(struct phc *p, phc_read_fn read, void *arg,
		   struct window *w, int64_t *v)
{
	int attempt, ret = -EAGAIN;

	for (attempt = 0; attempt < 5 && ret == -EAGAIN; attempt++) {
		ret = window_begin(p, w);
		if (ret)
			return ret;
		ret = read(p, v, arg);
		if (ret)
			return ret;
		ret = window_end(p, w);
	}
	return ret;
}

static int read_gettime(struct phc *p, int64_t *v, void *arg)
{
	struct timespec ts;

	(void)arg;
	if (clock_gettime(p->clk, &ts))
		return -errno;
	*v = ts_ns(&ts);
	return 0;
}

/* Checks every sample itself; *v is the first PHC value. */
static int read_extended(struct phc *p, int64_t *v, void *arg)
{
	struct ptp_sys_offset_extended *x = arg;

	memset(x, 0, sizeof(*x));
	x->n_samples = 5;
	if (ioctl(p->fd, PTP_SYS_OFFSET_EXTENDED2, x))
		return -errno;
	*v = ptp_ns(&x->ts[0][1]);
	return 0;
}

struct precise_arg {
	struct ptp_sys_offset_precise x;
	struct timespec rt0, rt1;
};

static int read_precise(struct phc *p, int64_t *v, void *arg)
{
	struct precise_arg *a = arg;

	memset(&a->x, 0, sizeof(a->x));
	clock_gettime(CLOCK_REALTIME, &a->rt0);
	if (ioctl(p->fd, PTP_SYS_OFFSET_PRECISE2, &a->x))
		return -errno;
	clock_gettime(CLOCK_REALTIME, &a->rt1);
	*v = ptp_ns(&a->x.device);
	return 0;
}

static void check_caps(struct phc *p)
{
	struct ptp_clock_caps caps;
	int ret;

	memset(&caps, 0, sizeof(caps));
	ret = ioctl(p->fd, PTP_CLOCK_GETCAPS2, &caps);
	tap_check(ret == 0 && caps.cross_timestamping == 1,
		  "PTP_CLOCK_GETCAPS2 reports cross_timestamping=1",
		  "ioctl %d (%s), cross_timestamping=%d", ret,
		  ret ? strerror(errno) : "ok", caps.cross_timestamping);
}

/* gettime and EXTENDED against the page; @tag names the configuration. */
static void check_reads(struct phc *p, const char *tag)
{
	struct ptp_sys_offset_extended x;
	struct window w;
	char name[160];
	int64_t v;
	int ret, i;
	bool ok = true;

	snprintf(name, sizeof(name), "%s: clock_gettime(FD_TO_CLOCKID) matches the page", tag);
	ret = measure(p, read_gettime, NULL, &w, &v);
	tap_check(!ret && in_window(&w, v), name, "%s",
		  ret ? strerror(-ret) : win_str(&w, v));

	snprintf(name, sizeof(name), "%s: PTP_SYS_OFFSET_EXTENDED2 (5 samples) matches the page", tag);
	ret = measure(p, read_extended, &x, &w, &v);
	if (ret) {
		tap_fail(name, "%s", strerror(-ret));
		return;
	}
	for (i = 0; i < 5 && ok; i++) {
		v = ptp_ns(&x.ts[i][1]);
		ok = in_window(&w, v) &&
		     ptp_ns(&x.ts[i][0]) <= ptp_ns(&x.ts[i][2]);
	}
	tap_check(ok, name, "sample %d: %s", i - 1, win_str(&w, v));
}

/* The running kernel is @major.@minor or newer. */
static bool kernel_at_least(unsigned int major, unsigned int minor)
{
	struct utsname u;
	unsigned int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/*
 * Since Linux 7.2 a PTP system timestamp is a timekeeper snapshot that
 * carries its counter reading. With the system clock on the page's counter,
 * a driver can convert that very reading: every sample's pre and post
 * timestamps are then one instant (Linux 7.2's own vmclock does so).
 */
static void check_extended_one_reading(struct phc *p)
{
	const char *name = "PTP_SYS_OFFSET_EXTENDED2 on the page's counter: pre == post (one counter reading per sample)";
	struct ptp_sys_offset_extended x;
	int64_t pre = 0, post = 0;
	bool ok = true;
	int i;

	if (!kernel_at_least(7, 2)) {
		tap_skip(name, "before Linux 7.2 system timestamps carry no counter reading");
		return;
	}
	if (!wait_clocksource(VMC_CLOCKSOURCE, 0)) {
		tap_skip(name, "the clocksource is not " VMC_CLOCKSOURCE);
		return;
	}
	memset(&x, 0, sizeof(x));
	x.n_samples = 5;
	if (ioctl(p->fd, PTP_SYS_OFFSET_EXTENDED2, &x)) {
		tap_fail(name, "ioctl: %s", strerror(errno));
		return;
	}
	for (i = 0; i < 5 && ok; i++) {
		pre = ptp_ns(&x.ts[i][0]);
		post = ptp_ns(&x.ts[i][2]);
		ok = pre == post;
	}
	tap_check(ok, name, "sample %d: pre %lld post %lld (%lld ns apart)",
		  i - 1, (long long)pre, (long long)post,
		  (long long)(post - pre));
}

/*
 * PTP_SYS_OFFSET_EXTENDED2 asking for CLOCK_MONOTONIC system timestamps
 * (the first reserved word became clockid in Linux 6.11; older kernels
 * refuse a non-zero one with EINVAL): every pre and post timestamp must
 * come from that clock, between two CLOCK_MONOTONIC reads around the call,
 * not from CLOCK_REALTIME, decades away.
 */
static void check_extended_clockid(struct phc *p)
{
	const char *name = "PTP_SYS_OFFSET_EXTENDED2 with clockid CLOCK_MONOTONIC: system timestamps from that clock";
	struct ptp_sys_offset_extended x;
	struct timespec m0, m1;
	int64_t pre = 0, post = 0;
	int ret, i;
	bool ok = true;

	memset(&x, 0, sizeof(x));
	x.n_samples = 5;
	x.rsv[0] = CLOCK_MONOTONIC;	/* clockid */
	clock_gettime(CLOCK_MONOTONIC, &m0);
	ret = ioctl(p->fd, PTP_SYS_OFFSET_EXTENDED2, &x);
	clock_gettime(CLOCK_MONOTONIC, &m1);
	if (ret && errno == EINVAL && !kernel_at_least(6, 11)) {
		tap_skip(name, "Linux before 6.11 has no clockid in EXTENDED2");
		return;
	}
	if (ret) {
		tap_fail(name, "ioctl: %s", strerror(errno));
		return;
	}
	for (i = 0; i < 5 && ok; i++) {
		pre = ptp_ns(&x.ts[i][0]);
		post = ptp_ns(&x.ts[i][2]);
		ok = pre >= ts_ns(&m0) && pre <= post && post <= ts_ns(&m1);
	}
	tap_check(ok, name, "sample %d: pre %lld post %lld, CLOCK_MONOTONIC around the call [%lld, %lld]",
		  i - 1, (long long)pre, (long long)post,
		  (long long)ts_ns(&m0), (long long)ts_ns(&m1));
}

static void check_precise(struct phc *p, const char *tag)
{
	struct precise_arg a;
	struct window w;
	char name[160];
	int64_t v, rt;
	int ret;

	snprintf(name, sizeof(name), "%s: PTP_SYS_OFFSET_PRECISE2 device time matches the page", tag);
	ret = measure(p, read_precise, &a, &w, &v);
	if (ret) {
		tap_fail(name, "%s", strerror(-ret));
		return;
	}
	tap_check(in_window(&w, v), name, "%s", win_str(&w, v));
	rt = ptp_ns(&a.x.sys_realtime);
	snprintf(name, sizeof(name), "%s: PRECISE2 sys_realtime lies between two CLOCK_REALTIME reads", tag);
	tap_check(rt >= ts_ns(&a.rt0) - TOL_NS && rt <= ts_ns(&a.rt1) + TOL_NS,
		  name, "sys_realtime %lld, CLOCK_REALTIME [%lld, %lld]",
		  (long long)rt, (long long)ts_ns(&a.rt0),
		  (long long)ts_ns(&a.rt1));
}

/*
 * arm64 kernels before 6.9 cannot name the arch counter to the timekeeper
 * (struct system_counterval_t had a clocksource pointer, not exported for
 * it), and the driver's TSC snapshot fallback is x86-only: no PRECISE.
 */
static bool precise_possible(void)
{
#if defined(__aarch64__)
	return kernel_at_least(6, 9);
#else
	return true;
#endif
}

static bool precise_expected(void)
{
	char cs[64] = "";

	file_read(CLOCKSOURCE_CUR, cs, sizeof(cs));
	return !strcmp(cs, VMC_CLOCKSOURCE) || !strcmp(cs, "kvm-clock");
}

static void check_not_adjustable(struct phc *p)
{
	struct timespec ts;
	struct timex tx;
	int ret;

	clock_gettime(p->clk, &ts);
	errno = 0;
	ret = clock_settime(p->clk, &ts);
	tap_check(ret == -1 && errno == EOPNOTSUPP, "clock_settime -> EOPNOTSUPP",
		  "returned %d errno %s", ret, strerror(errno));

	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	tx.time.tv_sec = 0;
	tx.time.tv_usec = 1000;	/* 1 us, in ns because of ADJ_NANO */
	errno = 0;
	ret = clock_adjtime(p->clk, &tx);
	tap_check(ret == -1 && errno == EOPNOTSUPP,
		  "clock_adjtime(ADJ_SETOFFSET) (adjtime) -> EOPNOTSUPP",
		  "returned %d errno %s", ret, strerror(errno));

	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_FREQUENCY;
	tx.freq = 0;		/* within any max_adj: reaches adjfine */
	errno = 0;
	ret = clock_adjtime(p->clk, &tx);
	tap_check(ret == -1 && errno == EOPNOTSUPP,
		  "clock_adjtime(ADJ_FREQUENCY) (adjfine) -> EOPNOTSUPP",
		  "returned %d errno %s", ret, strerror(errno));
}

/* PRECISE cannot relate hpet/acpi_pm to the page's TSC: EOPNOTSUPP. */
static void check_precise_other_clocksource(struct phc *p)
{
	static const char *const others[] = { "hpet", "acpi_pm" };
	const char *name = "PRECISE2 -> EOPNOTSUPP while the clocksource is not the TSC";
	char avail[256] = "", cur[64] = "";
	struct ptp_sys_offset_precise x;
	const char *other = NULL;
	unsigned int i;
	int ret;

	file_read(CLOCKSOURCE_AVAIL, avail, sizeof(avail));
	file_read(CLOCKSOURCE_CUR, cur, sizeof(cur));
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (strstr(avail, others[i]))
			other = others[i];
	if (strcmp(cur, VMC_CLOCKSOURCE) || !other) {
		tap_skip(name, "needs clocksource tsc and one of hpet/acpi_pm (current %s, available %s)",
			 cur, avail);
		return;
	}
	if (file_write(CLOCKSOURCE_CUR, other) || !wait_clocksource(other, 2000)) {
		tap_skip(name, "could not switch the clocksource to %s", other);
		return;
	}
	memset(&x, 0, sizeof(x));
	errno = 0;
	ret = ioctl(p->fd, PTP_SYS_OFFSET_PRECISE2, &x);
	tap_check(ret == -1 && errno == EOPNOTSUPP, name,
		  "clocksource %s: ioctl returned %d errno %s", other, ret,
		  strerror(errno));
	if (file_write(CLOCKSOURCE_CUR, VMC_CLOCKSOURCE) ||
	    !wait_clocksource(VMC_CLOCKSOURCE, 10000))
		tap_bail("could not switch the clocksource back to tsc");
	check_precise(p, "back on tsc");
}

static void check_unreliable(struct phc *p, bool precise)
{
	struct ptp_sys_offset_extended x;
	struct ptp_sys_offset_precise px;
	struct timespec ts;
	int r1, e1, r2, e2, r3 = -1, e3 = EBUSY;

	if (host_cmd("set clock_status=%d", VMCLOCK_STATUS_UNRELIABLE)) {
		tap_fail("clock_status UNRELIABLE -> EBUSY", "%s", host_error());
		return;
	}
	errno = 0;
	r1 = clock_gettime(p->clk, &ts);
	e1 = errno;
	memset(&x, 0, sizeof(x));
	x.n_samples = 1;
	errno = 0;
	r2 = ioctl(p->fd, PTP_SYS_OFFSET_EXTENDED2, &x);
	e2 = errno;
	if (precise) {
		memset(&px, 0, sizeof(px));
		errno = 0;
		r3 = ioctl(p->fd, PTP_SYS_OFFSET_PRECISE2, &px);
		e3 = errno;
	}
	tap_check(r1 == -1 && e1 == EBUSY, "UNRELIABLE: clock_gettime -> EBUSY",
		  "returned %d errno %s", r1, strerror(e1));
	tap_check(r2 == -1 && e2 == EBUSY, "UNRELIABLE: EXTENDED2 -> EBUSY",
		  "returned %d errno %s", r2, strerror(e2));
	if (precise)
		tap_check(r3 == -1 && e3 == EBUSY, "UNRELIABLE: PRECISE2 -> EBUSY",
			  "returned %d errno %s", r3, strerror(e3));

	if (host_cmd("set clock_status=%d", VMCLOCK_STATUS_SYNCHRONIZED)) {
		tap_fail("SYNCHRONIZED again: reads succeed", "%s", host_error());
		return;
	}
	check_reads(p, "SYNCHRONIZED again");
	if (precise)
		check_precise(p, "SYNCHRONIZED again");
}

/*
 * Nothing obliges a hypervisor to refresh the clock data: the same clock
 * described from a reference point two days back (counter_value and
 * time_sec moved back together) must read the same, not fail. The steady
 * rounds would refresh the data: stopped meanwhile.
 */
#define OLD_SEC		(2 * 86400ULL)

static void check_old_data(struct phc *p)
{
	const char *tag = "clock data 2 days old";
	struct vmclock_snap s;
	u64 ticks;

	if (host_cmd("steady --stop") || vmc_snap(&p->m, &s, false)) {
		tap_fail(tag, "cannot stop the steady rounds or read the page: %s",
			 host_error());
		return;
	}
	if (!s.counter_period || s.counter_period_shift > 40) {
		tap_skip(tag, "period %llu shift %u: not a rig page",
			 (unsigned long long)s.counter_period,
			 s.counter_period_shift);
	} else {
		/* Ticks in OLD_SEC seconds, rounded down: < 1 tick short. */
		ticks = (u64)(((u128)OLD_SEC << (64 + s.counter_period_shift)) /
			      s.counter_period);
		if (host_cmd("set counter_value=%llu time_sec=%llu",
			     (unsigned long long)(s.counter_value - ticks),
			     (unsigned long long)(s.time_sec - OLD_SEC)))
			tap_fail(tag, "%s", host_error());
		else
			check_reads(p, tag);
		if (host_cmd("set counter_value=%llu time_sec=%llu",
			     (unsigned long long)s.counter_value,
			     (unsigned long long)s.time_sec))
			tap_diag("restoring the clock data failed: %s", host_error());
	}
	if (host_cmd("steady"))
		tap_diag("restarting the steady rounds failed: %s", host_error());
}

/* The page's scale/offset as the host left it: a precondition. */
static bool page_is(struct phc *p, int type, int off)
{
	struct vmclock_snap s;

	if (vmc_snap(&p->m, &s, false))
		return false;
	return s.time_type == type &&
	       (off == 0 || (s.tai_offset_sec == off &&
			     (s.flags & VMCLOCK_FLAG_TAI_OFFSET_VALID)));
}

/*
 * TAI/UTC and both signs of tai_offset_sec. With the rig's calibration the
 * host writes real clock data (clock); without it the current TAI page is
 * rewritten as the same instant in UTC (time_sec - 37).
 */
static void check_scales(struct phc *p, bool precise)
{
	const char *off = counter_offset_env();
	struct vmclock_snap s;
	int ret;

	if (off) {
		ret = host_cmd("clock --counter-offset %s --time-type tai --tai-offset %d",
			       off, TAI_UTC);
		if (!tap_check(!ret && page_is(p, VMCLOCK_TIME_TAI, TAI_UTC),
			       "host wrote a TAI page with tai_offset_sec 37",
			       "%s", ret ? host_error() : "page differs"))
			return;
		check_reads(p, "TAI page");
		ret = host_cmd("clock --counter-offset %s --time-type utc --tai-offset %d",
			       off, TAI_UTC);
	} else {
		tap_diag("VMCLOCK_COUNTER_OFFSET not set: deriving a UTC page from the current one");
		if (vmc_snap(&p->m, &s, false) || s.time_type != VMCLOCK_TIME_TAI) {
			tap_skip("UTC page with tai_offset_sec +37 and -37",
				 "needs VMCLOCK_COUNTER_OFFSET or a TAI page");
			return;
		}
		ret = host_cmd("set time_type=%d time_sec=%llu tai_offset_sec=%d flags=%llu",
			       VMCLOCK_TIME_UTC,
			       (unsigned long long)(s.time_sec - TAI_UTC), TAI_UTC,
			       (unsigned long long)(s.flags |
						    VMCLOCK_FLAG_TAI_OFFSET_VALID));
	}
	if (!tap_check(!ret && page_is(p, VMCLOCK_TIME_UTC, TAI_UTC),
		       "host wrote a UTC page with tai_offset_sec +37",
		       "%s", ret ? host_error() : "page differs"))
		return;
	check_reads(p, "UTC page, tai_offset_sec +37");
	if (precise)
		check_precise(p, "UTC page, tai_offset_sec +37");

	ret = host_cmd("set tai_offset_sec=%d", -TAI_UTC);
	if (!tap_check(!ret && page_is(p, VMCLOCK_TIME_UTC, -TAI_UTC),
		       "host set tai_offset_sec -37",
		       "%s", ret ? host_error() : "page differs"))
		return;
	check_reads(p, "UTC page, tai_offset_sec -37");
	if (precise)
		check_precise(p, "UTC page, tai_offset_sec -37");
}

int main(void)
{
	struct vmclock_abi saved;
	struct phc p = { .fd = -1, .m = { .fd = -1 } };
	char param[16] = "N";
	const char *why;
	bool precise, have_saved;
	int ret;

	tap_start("vmclock_ptp: PTP clock vmclock0 against the page");
	why = vmc_unavailable_reason();
	if (why)
		tap_skip_all("%s", why);
	watchdog_arm(300, "vmclock_ptp");

	have_saved = !vmc_save_page(&saved, NULL);
	if (counter_offset_env() && !wait_ptp(true, 0)) {
		/* The page had no clock data at probe: give it some. */
		if (host_cmd("clock --counter-offset %s --time-type tai --tai-offset %d",
			     counter_offset_env(), TAI_UTC) || vmc_rebind())
			tap_diag("setting up a clock page failed: %s", host_error());
	}
	if (!wait_ptp(true, VMC_SETTLE_MS) ||
	    ptp_find(p.dev, sizeof(p.dev)) < 0)
		tap_bail("no PTP clock named " VMC_PTP_NAME " (page without usable clock data?)");
	p.fd = open(p.dev, O_RDWR);
	if (p.fd < 0)
		tap_bail("open %s: %s", p.dev, strerror(errno));
	p.clk = FD_TO_CLOCKID(p.fd);
	ret = vmc_map_open(&p.m);
	if (ret)
		tap_bail("map %s: %s", VMC_DEV, strerror(-ret));
	param_read("phc_utc", param, sizeof(param));
	p.want_utc = param[0] == 'Y' || param[0] == 'y' || param[0] == '1';
	tap_diag("%s, phc_utc=%s: expecting %s", p.dev, param,
		 p.want_utc ? "UTC" : "TAI");

	check_caps(&p);
	check_reads(&p, "as found");
	check_extended_clockid(&p);
	check_old_data(&p);

	/* The TSC becomes the clocksource about a second after boot. */
	precise = wait_clocksource(VMC_CLOCKSOURCE, 10000) || precise_expected();
	check_extended_one_reading(&p);
	if (precise && !precise_possible()) {
		struct ptp_sys_offset_precise x;

		precise = false;
		memset(&x, 0, sizeof(x));
		errno = 0;
		ret = ioctl(p.fd, PTP_SYS_OFFSET_PRECISE2, &x);
		tap_check(ret == -1 && errno == EOPNOTSUPP,
			  "PRECISE2 -> EOPNOTSUPP on arm64 before Linux 6.9",
			  "returned %d errno %s", ret, strerror(errno));
	} else if (precise) {
		check_precise(&p, "as found");
	} else {
		struct ptp_sys_offset_precise x;
		char cs[64] = "";

		file_read(CLOCKSOURCE_CUR, cs, sizeof(cs));
		memset(&x, 0, sizeof(x));
		errno = 0;
		ret = ioctl(p.fd, PTP_SYS_OFFSET_PRECISE2, &x);
		tap_check(ret == -1 && errno == EOPNOTSUPP,
			  "PRECISE2 -> EOPNOTSUPP on a non-TSC clocksource",
			  "clocksource %s: returned %d errno %s", cs, ret,
			  strerror(errno));
	}
	check_not_adjustable(&p);
	if (precise)
		check_precise_other_clocksource(&p);

	check_unreliable(&p, precise);
	check_scales(&p, precise);

	if (have_saved && host_restore_page(&saved))
		tap_diag("restoring the page failed: %s", host_error());
	vmc_map_close(&p.m);
	close(p.fd);
	return tap_finish();
}
