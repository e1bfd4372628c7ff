// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_ptp: the PTP clock "vmclock0" against the page it is computed
 * from, as kselftest harness tests. Each PHC reading is bracketed by two TSC
 * reads taken from the same consistent snapshot of the mapped page (the
 * core's vmclock_snap_read and vmclock_snap_time, as the driver uses them),
 * so it must fall between the page's time at the first and at the second
 * TSC read, within a few us.
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
 * Fixtures: phc (one behaviour each, the page as found), reads and precise
 * (the page comparisons, one variant per page configuration: the setup
 * brings the page there), unreliable (the EBUSY refusals) and scale (the
 * host's rewrites of the page's time scale). Every test that changes the
 * page, the host's steady rounds or the clocksource puts them back in its
 * teardown.
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

#include "vmc_harness.h"

#define NSEC_PER_SEC	1000000000LL
/* Slack around the TSC bracket: ns truncation on both sides plus margin. */
#define TOL_NS		5000LL
#define TAI_UTC		37
#define N_SAMPLES	5

/*
 * Test timeouts, in s. A guest under QEMU TCG is slow; every setup may
 * first give the page clock data (a host request, up to 20 s for the rig's
 * ack, and a rebind), and some tests wait up to 10 s for the clocksource.
 * The page configurations add host requests (up to four in a test with its
 * teardown) and clocksource switches (up to 12 s).
 */
#define PHC_TIMEOUT	60
#define SCENE_TIMEOUT	120

struct phc {
	int fd;
	clockid_t clk;
	char dev[64];
	char param[16];		/* phc_utc as read */
	bool want_utc;		/* phc_utc=Y */
	struct vmc_map m;
};

/* What a test opened and what it changed, for its teardown to put back. */
struct ctx {
	struct phc p;
	struct vmclock_abi saved;	/* the page at setup */
	bool have_saved;
	bool page_changed;		/* put @saved back */
	bool old_data_set;		/* put @fresh's reference point back */
	struct vmclock_snap fresh;
	bool steady_stopped;		/* restart the host's steady rounds */
	bool cs_switched;		/* switch the clocksource back */
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

/* The caller checks every sample itself; *v is the first PHC value. */
static int read_extended(struct phc *p, int64_t *v, void *arg)
{
	struct ptp_sys_offset_extended *x = arg;

	memset(x, 0, sizeof(*x));
	x->n_samples = N_SAMPLES;
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

/* The clocksource is one PRECISE can relate to the page's counter now. */
static bool precise_clocksource(void)
{
	char cs[64] = "";

	file_read(CLOCKSOURCE_CUR, cs, sizeof(cs));
	return !strcmp(cs, VMC_CLOCKSOURCE) || !strcmp(cs, "kvm-clock");
}

/*
 * The same, after waiting for the counter to become the clocksource: the
 * TSC becomes it about a second after boot.
 */
static bool precise_clocksource_settled(void)
{
	return precise_clocksource() || wait_clocksource(VMC_CLOCKSOURCE, 10000);
}

static const char *current_clocksource(void)
{
	static char cs[64];

	cs[0] = '\0';
	file_read(CLOCKSOURCE_CUR, cs, sizeof(cs));
	return cs;
}

/* PRECISE2 must work here; else false and why not in @why. */
static bool precise_expected(char *why, size_t len)
{
	if (!precise_clocksource_settled()) {
		snprintf(why, len, "clocksource %s: PRECISE2 must fail there "
			 "(phc.precise_eopnotsupp_off_the_counter)", current_clocksource());
		return false;
	}
	if (!precise_possible()) {
		snprintf(why, len, "no PRECISE2 on arm64 before Linux 6.9 "
			 "(phc.precise_eopnotsupp_arm64_before_6_9)");
		return false;
	}
	return true;
}

/* A PRECISE2 call that has to fail: 0 or the errno it failed with. */
static int precise_errno(struct phc *p, int *ret)
{
	struct ptp_sys_offset_precise x;

	memset(&x, 0, sizeof(x));
	errno = 0;
	*ret = ioctl(p->fd, PTP_SYS_OFFSET_PRECISE2, &x);
	return errno;
}

/* Moves the clocksource from the counter to hpet or acpi_pm. */
static int clocksource_leave_counter(struct ctx *c, const char **other,
				     char *why, size_t len)
{
	static const char *const others[] = { "hpet", "acpi_pm" };
	char avail[256] = "", cur[64] = "";
	unsigned int i;

	*other = NULL;
	file_read(CLOCKSOURCE_AVAIL, avail, sizeof(avail));
	file_read(CLOCKSOURCE_CUR, cur, sizeof(cur));
	for (i = 0; i < ARRAY_SIZE(others); i++)
		if (strstr(avail, others[i]))
			*other = others[i];
	if (strcmp(cur, VMC_CLOCKSOURCE) || !*other) {
		snprintf(why, len, "needs clocksource " VMC_CLOCKSOURCE
			 " and one of hpet/acpi_pm (current %s, available %s)", cur, avail);
		return KSFT_SKIP;
	}
	c->cs_switched = true;
	if (file_write(CLOCKSOURCE_CUR, *other) || !wait_clocksource(*other, 2000)) {
		snprintf(why, len, "could not switch the clocksource to %s", *other);
		return KSFT_SKIP;
	}
	return 0;
}

static int clocksource_back_to_counter(struct ctx *c)
{
	if (file_write(CLOCKSOURCE_CUR, VMC_CLOCKSOURCE) ||
	    !wait_clocksource(VMC_CLOCKSOURCE, 10000))
		return -EIO;
	c->cs_switched = false;
	return 0;
}

/*
 * The PHC and the mapped page, shared by every test. Without a PTP clock
 * and with the rig's calibration, the page had no clock data at probe: it
 * gets some (and keeps it: that is the state the tests compare against).
 */
static void ctx_open(struct __test_metadata *_metadata, struct ctx *c)
{
	struct phc *p = &c->p;
	int ret;

	p->fd = -1;
	p->m.fd = -1;
	if (counter_offset_env() && !wait_ptp(true, 0)) {
		if (host_cmd("clock --counter-offset %s --time-type tai --tai-offset %d",
			     counter_offset_env(), TAI_UTC) || vmc_rebind())
			TH_LOG("setting up a clock page failed: %s", host_error());
	}
	ASSERT_TRUE(wait_ptp(true, VMC_SETTLE_MS) && ptp_find(p->dev, sizeof(p->dev)) >= 0)
		TH_LOG("no PTP clock named " VMC_PTP_NAME " (page without usable clock data?)");
	p->fd = open(p->dev, O_RDWR);
	ret = p->fd < 0 ? -errno : 0;
	ASSERT_EQ(0, ret) TH_LOG("open %s: %s", p->dev, strerror(-ret));
	p->clk = FD_TO_CLOCKID(p->fd);
	ret = vmc_map_open(&p->m);
	ASSERT_EQ(0, ret) TH_LOG("map %s: %s", VMC_DEV, strerror(-ret));
	snprintf(p->param, sizeof(p->param), "N");
	param_read("phc_utc", p->param, sizeof(p->param));
	p->want_utc = p->param[0] == 'Y' || p->param[0] == 'y' || p->param[0] == '1';
	c->have_saved = !vmc_save_page(&c->saved, NULL);
}

/* The scale the page comparisons expect, for the reader of a failure. */
static void log_scale(struct __test_metadata *_metadata, const struct ctx *c)
{
	TH_LOG("%s, phc_utc=%s: expecting %s", c->p.dev, c->p.param,
	       c->p.want_utc ? "UTC" : "TAI");
}

/* Puts back whatever the test changed; run by every teardown. */
static void ctx_undo(struct __test_metadata *_metadata, struct ctx *c)
{
	int ret;

	if (c->cs_switched && !wait_clocksource(VMC_CLOCKSOURCE, 0)) {
		ret = clocksource_back_to_counter(c);
		EXPECT_EQ(0, ret)
			TH_LOG("could not switch the clocksource back to " VMC_CLOCKSOURCE
			       " (it is %s)", current_clocksource());
	}
	c->cs_switched = false;
	if (c->old_data_set) {
		ret = host_cmd("set counter_value=%llu time_sec=%llu",
			       (unsigned long long)c->fresh.counter_value,
			       (unsigned long long)c->fresh.time_sec);
		EXPECT_EQ(0, ret) TH_LOG("restoring the clock data failed: %s", host_error());
		c->old_data_set = false;
	}
	if (c->steady_stopped) {
		ret = host_cmd("steady");
		EXPECT_EQ(0, ret)
			TH_LOG("restarting the steady rounds failed: %s", host_error());
		c->steady_stopped = false;
	}
	if (c->page_changed) {
		ret = host_restore_page(&c->saved);
		EXPECT_EQ(0, ret) TH_LOG("restoring the page failed: %s", host_error());
		c->page_changed = false;
	}
}

static void ctx_close(struct __test_metadata *_metadata, struct ctx *c)
{
	ctx_undo(_metadata, c);
	vmc_map_close(&c->p.m);
	if (c->p.fd >= 0)
		close(c->p.fd);
}

/*
 * The page configurations the comparisons run in. Entering one returns 0,
 * KSFT_SKIP or KSFT_FAIL with the reason in @why; what it changed is
 * flagged in the ctx for ctx_undo().
 */
enum scene {
	AS_FOUND,
	OLD_DATA,	/* clock data two days old, steady rounds stopped */
	RESYNC,		/* UNRELIABLE, then SYNCHRONIZED again */
	BACK_ON_TSC,	/* clocksource hpet/acpi_pm, then the counter again */
	TAI_PAGE,	/* host clock data, TAI, tai_offset_sec 37 */
	UTC_PLUS_37,	/* UTC page, tai_offset_sec +37 */
	UTC_MINUS_37,	/* the same with tai_offset_sec -37 */
};

static bool scene_needs_host(enum scene s)
{
	return s != AS_FOUND && s != BACK_ON_TSC;
}

/*
 * Nothing obliges a hypervisor to refresh the clock data: the same clock
 * described from a reference point two days back (counter_value and
 * time_sec moved back together) must read the same, not fail. The steady
 * rounds would refresh the data: stopped meanwhile.
 */
#define OLD_SEC		(2 * 86400ULL)

static int enter_old_data(struct ctx *c, char *why, size_t len)
{
	struct vmclock_snap *s = &c->fresh;
	u64 ticks;

	c->steady_stopped = true;
	if (host_cmd("steady --stop") || vmc_snap(&c->p.m, s, false)) {
		snprintf(why, len, "clock data 2 days old: cannot stop the steady rounds "
			 "or read the page: %s", host_error());
		return KSFT_FAIL;
	}
	if (!s->counter_period || s->counter_period_shift > 40) {
		snprintf(why, len, "period %llu shift %u: not a rig page",
			 (unsigned long long)s->counter_period, s->counter_period_shift);
		return KSFT_SKIP;
	}
	/* Ticks in OLD_SEC seconds, rounded down: < 1 tick short. */
	ticks = (u64)(((u128)OLD_SEC << (64 + s->counter_period_shift)) / s->counter_period);
	c->old_data_set = true;
	if (host_cmd("set counter_value=%llu time_sec=%llu",
		     (unsigned long long)(s->counter_value - ticks),
		     (unsigned long long)(s->time_sec - OLD_SEC))) {
		snprintf(why, len, "clock data 2 days old: %s", host_error());
		return KSFT_FAIL;
	}
	return 0;
}

static int enter_resync(struct ctx *c, char *why, size_t len)
{
	struct ptp_sys_offset_extended x;
	struct timespec ts;
	int ret;

	c->page_changed = true;
	if (host_cmd("set clock_status=%d", VMCLOCK_STATUS_UNRELIABLE)) {
		snprintf(why, len, "clock_status UNRELIABLE: %s", host_error());
		return KSFT_FAIL;
	}
	/*
	 * Refused reads first (the unreliable tests check the refusals): the
	 * driver must not keep refusing once the status is good again.
	 */
	clock_gettime(c->p.clk, &ts);
	memset(&x, 0, sizeof(x));
	x.n_samples = 1;
	ioctl(c->p.fd, PTP_SYS_OFFSET_EXTENDED2, &x);
	if (precise_clocksource() && precise_possible())
		precise_errno(&c->p, &ret);
	if (host_cmd("set clock_status=%d", VMCLOCK_STATUS_SYNCHRONIZED)) {
		snprintf(why, len, "SYNCHRONIZED again: reads succeed: %s", host_error());
		return KSFT_FAIL;
	}
	return 0;
}

/* The page's scale/offset as the host left it: a precondition. */
static int page_is(struct ctx *c, int ret, int type, int off, const char *what,
		   char *why, size_t len)
{
	struct vmclock_snap s;

	if (ret) {
		snprintf(why, len, "%s: %s", what, host_error());
		return KSFT_FAIL;
	}
	if (vmc_snap(&c->p.m, &s, false)) {
		snprintf(why, len, "%s: cannot read the page", what);
		return KSFT_FAIL;
	}
	if (s.time_type == type &&
	    (off == 0 || (s.tai_offset_sec == off &&
			  (s.flags & VMCLOCK_FLAG_TAI_OFFSET_VALID))))
		return 0;
	snprintf(why, len, "%s: page differs (time_type %u tai_offset_sec %d flags %#llx)", what,
		 s.time_type, s.tai_offset_sec, (unsigned long long)s.flags);
	return KSFT_FAIL;
}

/*
 * TAI/UTC and both signs of tai_offset_sec. With the rig's calibration the
 * host writes real clock data (clock); without it the current TAI page is
 * rewritten as the same instant in UTC (time_sec - 37).
 */
static int enter_utc(struct ctx *c, char *why, size_t len)
{
	const char *off = counter_offset_env();
	struct vmclock_snap s;
	int ret;

	if (off) {
		c->page_changed = true;
		ret = host_cmd("clock --counter-offset %s --time-type utc --tai-offset %d",
			       off, TAI_UTC);
	} else {
		ksft_print_msg("VMCLOCK_COUNTER_OFFSET not set: "
			       "deriving a UTC page from the current one\n");
		if (vmc_snap(&c->p.m, &s, false) || s.time_type != VMCLOCK_TIME_TAI) {
			snprintf(why, len, "needs VMCLOCK_COUNTER_OFFSET or a TAI page");
			return KSFT_SKIP;
		}
		c->page_changed = true;
		ret = host_cmd("set time_type=%d time_sec=%llu tai_offset_sec=%d flags=%llu",
			       VMCLOCK_TIME_UTC,
			       (unsigned long long)(s.time_sec - TAI_UTC), TAI_UTC,
			       (unsigned long long)(s.flags | VMCLOCK_FLAG_TAI_OFFSET_VALID));
	}
	return page_is(c, ret, VMCLOCK_TIME_UTC, TAI_UTC,
		       "host wrote a UTC page with tai_offset_sec +37", why, len);
}

static int scene_enter(struct ctx *c, enum scene scene, char *why, size_t len)
{
	const char *other;
	int ret;

	if (scene_needs_host(scene) && !c->have_saved) {
		snprintf(why, len, "cannot save the page to put it back afterwards");
		return KSFT_FAIL;
	}
	switch (scene) {
	case AS_FOUND:
		return 0;
	case OLD_DATA:
		return enter_old_data(c, why, len);
	case RESYNC:
		return enter_resync(c, why, len);
	case BACK_ON_TSC:
		ret = clocksource_leave_counter(c, &other, why, len);
		if (ret)
			return ret;
		if (clocksource_back_to_counter(c)) {
			snprintf(why, len, "could not switch the clocksource back to "
				 VMC_CLOCKSOURCE " (it is %s)", current_clocksource());
			return KSFT_FAIL;
		}
		return 0;
	case TAI_PAGE:
		if (!counter_offset_env()) {
			snprintf(why, len, "needs VMCLOCK_COUNTER_OFFSET for real clock data");
			return KSFT_SKIP;
		}
		c->page_changed = true;
		ret = host_cmd("clock --counter-offset %s --time-type tai --tai-offset %d",
			       counter_offset_env(), TAI_UTC);
		return page_is(c, ret, VMCLOCK_TIME_TAI, TAI_UTC,
			       "host wrote a TAI page with tai_offset_sec 37", why, len);
	case UTC_PLUS_37:
		return enter_utc(c, why, len);
	case UTC_MINUS_37:
		ret = enter_utc(c, why, len);
		if (ret)
			return ret;
		ret = host_cmd("set tai_offset_sec=%d", -TAI_UTC);
		return page_is(c, ret, VMCLOCK_TIME_UTC, -TAI_UTC,
			       "host set tai_offset_sec -37", why, len);
	}
	snprintf(why, len, "unknown page configuration %d", scene);
	return KSFT_FAIL;
}

/*
 * For a setup: the configuration entered, or the test skipped or failed
 * with everything put back (a failed setup has no teardown). Must be the
 * setup's last call: a skip only returns from here.
 */
static void scene_setup(struct __test_metadata *_metadata, struct ctx *c,
			enum scene scene)
{
	char why[320] = "";
	int ret = scene_enter(c, scene, why, sizeof(why));

	if (!ret)
		return;
	ctx_undo(_metadata, c);
	if (ret == KSFT_SKIP)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
}

/* One behaviour each, on the page as found. */
FIXTURE(phc) {
	struct ctx c;
};

FIXTURE_SETUP(phc)
{
	ctx_open(_metadata, &self->c);
}

FIXTURE_TEARDOWN(phc)
{
	ctx_close(_metadata, &self->c);
}

TEST_F_TIMEOUT(phc, caps_report_cross_timestamping, PHC_TIMEOUT)
{
	struct ptp_clock_caps caps;
	int ret;

	memset(&caps, 0, sizeof(caps));
	ret = ioctl(self->c.p.fd, PTP_CLOCK_GETCAPS2, &caps) ? -errno : 0;
	ASSERT_EQ(0, ret) TH_LOG("want cross_timestamping=1; PTP_CLOCK_GETCAPS2: %s",
				 strerror(-ret));
	EXPECT_EQ(1, caps.cross_timestamping)
		TH_LOG("ioctl ok, cross_timestamping=%d", caps.cross_timestamping);
}

/*
 * PTP_SYS_OFFSET_EXTENDED2 asking for CLOCK_MONOTONIC system timestamps
 * (the first reserved word became clockid in Linux 6.11; older kernels
 * refuse a non-zero one with EINVAL): every pre and post timestamp must
 * come from that clock, between two CLOCK_MONOTONIC reads around the call,
 * not from CLOCK_REALTIME, decades away.
 */
TEST_F_TIMEOUT(phc, extended_clockid_monotonic, PHC_TIMEOUT)
{
	struct ptp_sys_offset_extended x;
	struct timespec m0, m1;
	int64_t pre = 0, post = 0;
	int ret, err, i;

	memset(&x, 0, sizeof(x));
	x.n_samples = N_SAMPLES;
	x.rsv[0] = CLOCK_MONOTONIC;	/* clockid */
	clock_gettime(CLOCK_MONOTONIC, &m0);
	ret = ioctl(self->c.p.fd, PTP_SYS_OFFSET_EXTENDED2, &x);
	err = errno;
	clock_gettime(CLOCK_MONOTONIC, &m1);
	if (ret && err == EINVAL && !kernel_at_least(6, 11))
		SKIP(return, "Linux before 6.11 has no clockid in EXTENDED2");
	ASSERT_EQ(0, ret) TH_LOG("ioctl: %s", strerror(err));
	for (i = 0; i < N_SAMPLES; i++) {
		pre = ptp_ns(&x.ts[i][0]);
		post = ptp_ns(&x.ts[i][2]);
		if (pre < ts_ns(&m0) || pre > post || post > ts_ns(&m1))
			break;
	}
	EXPECT_EQ(N_SAMPLES, i)
		TH_LOG("sample %d: pre %lld post %lld, "
		       "CLOCK_MONOTONIC around the call [%lld, %lld]", i,
		       (long long)pre, (long long)post,
		       (long long)ts_ns(&m0), (long long)ts_ns(&m1));
}

/*
 * Since Linux 7.2 a PTP system timestamp is a timekeeper snapshot that
 * carries its counter reading. With the system clock on the page's counter,
 * a driver can convert that very reading: every sample's pre and post
 * timestamps are then one instant (Linux 7.2's own vmclock does so).
 */
TEST_F_TIMEOUT(phc, extended_pre_equals_post_on_counter, PHC_TIMEOUT)
{
	struct ptp_sys_offset_extended x;
	int64_t pre = 0, post = 0;
	int ret, i;

	if (!kernel_at_least(7, 2))
		SKIP(return, "before Linux 7.2 system timestamps carry no counter reading");
	/* The TSC becomes the clocksource about a second after boot. */
	if (!wait_clocksource(VMC_CLOCKSOURCE, 10000))
		SKIP(return, "the clocksource is not " VMC_CLOCKSOURCE);
	memset(&x, 0, sizeof(x));
	x.n_samples = N_SAMPLES;
	ret = ioctl(self->c.p.fd, PTP_SYS_OFFSET_EXTENDED2, &x) ? -errno : 0;
	ASSERT_EQ(0, ret) TH_LOG("ioctl: %s", strerror(-ret));
	for (i = 0; i < N_SAMPLES; i++) {
		pre = ptp_ns(&x.ts[i][0]);
		post = ptp_ns(&x.ts[i][2]);
		if (pre != post)
			break;
	}
	EXPECT_EQ(N_SAMPLES, i)
		TH_LOG("want pre == post (one counter reading per sample); "
		       "sample %d: pre %lld post %lld (%lld ns apart)", i,
		       (long long)pre, (long long)post, (long long)(post - pre));
}

TEST_F_TIMEOUT(phc, settime_eopnotsupp, PHC_TIMEOUT)
{
	struct timespec ts;
	int ret, err;

	clock_gettime(self->c.p.clk, &ts);
	errno = 0;
	ret = clock_settime(self->c.p.clk, &ts);
	err = errno;
	EXPECT_TRUE(ret == -1 && err == EOPNOTSUPP)
		TH_LOG("want -1 with EOPNOTSUPP; returned %d errno %s", ret, strerror(err));
}

TEST_F_TIMEOUT(phc, adjtime_eopnotsupp, PHC_TIMEOUT)
{
	struct timex tx;
	int ret, err;

	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	tx.time.tv_sec = 0;
	tx.time.tv_usec = 1000;	/* 1 us, in ns because of ADJ_NANO */
	errno = 0;
	ret = clock_adjtime(self->c.p.clk, &tx);
	err = errno;
	EXPECT_TRUE(ret == -1 && err == EOPNOTSUPP)
		TH_LOG("clock_adjtime(ADJ_SETOFFSET): want -1 with EOPNOTSUPP; "
		       "returned %d errno %s", ret, strerror(err));
}

TEST_F_TIMEOUT(phc, adjfine_eopnotsupp, PHC_TIMEOUT)
{
	struct timex tx;
	int ret, err;

	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_FREQUENCY;
	tx.freq = 0;		/* within any max_adj: reaches adjfine */
	errno = 0;
	ret = clock_adjtime(self->c.p.clk, &tx);
	err = errno;
	EXPECT_TRUE(ret == -1 && err == EOPNOTSUPP)
		TH_LOG("clock_adjtime(ADJ_FREQUENCY): want -1 with EOPNOTSUPP; "
		       "returned %d errno %s", ret, strerror(err));
}

TEST_F_TIMEOUT(phc, precise_eopnotsupp_arm64_before_6_9, PHC_TIMEOUT)
{
	int ret, err;

	if (precise_possible())
		SKIP(return, "PRECISE2 is possible here: x86-64, or arm64 on Linux 6.9+");
	if (!precise_clocksource_settled())
		SKIP(return, "clocksource %s: checked by phc.precise_eopnotsupp_off_the_counter",
		     current_clocksource());
	err = precise_errno(&self->c.p, &ret);
	EXPECT_TRUE(ret == -1 && err == EOPNOTSUPP)
		TH_LOG("want -1 with EOPNOTSUPP; returned %d errno %s", ret, strerror(err));
}

/* The system clock off the counter (as found): PRECISE has nothing to relate. */
TEST_F_TIMEOUT(phc, precise_eopnotsupp_off_the_counter, PHC_TIMEOUT)
{
	int ret, err;

	if (precise_clocksource_settled())
		SKIP(return, "clocksource %s: PRECISE2 has to work (the precise tests)",
		     current_clocksource());
	err = precise_errno(&self->c.p, &ret);
	EXPECT_TRUE(ret == -1 && err == EOPNOTSUPP)
		TH_LOG("clocksource %s: want -1 with EOPNOTSUPP; returned %d errno %s",
		       current_clocksource(), ret, strerror(err));
}

/*
 * PRECISE cannot relate hpet/acpi_pm to the page's TSC: EOPNOTSUPP. The
 * teardown switches the clocksource back.
 */
TEST_F_TIMEOUT(phc, precise_eopnotsupp_on_hpet_or_acpi_pm, PHC_TIMEOUT)
{
	const char *other;
	char why[320] = "";
	int ret, err;

	if (!precise_expected(why, sizeof(why)))
		SKIP(return, "%s", why);
	ret = clocksource_leave_counter(&self->c, &other, why, sizeof(why));
	if (ret)
		SKIP(return, "%s", why);
	err = precise_errno(&self->c.p, &ret);
	EXPECT_TRUE(ret == -1 && err == EOPNOTSUPP)
		TH_LOG("clocksource %s: want -1 with EOPNOTSUPP; ioctl returned %d errno %s",
		       other, ret, strerror(err));
}

/* gettime and EXTENDED against the page, in each page configuration. */
FIXTURE(reads) {
	struct ctx c;
};

FIXTURE_VARIANT(reads) {
	enum scene scene;
};

FIXTURE_VARIANT_ADD(reads, as_found) {
	.scene = AS_FOUND,
};

FIXTURE_VARIANT_ADD(reads, data_2_days_old) {
	.scene = OLD_DATA,
};

FIXTURE_VARIANT_ADD(reads, synchronized_again) {
	.scene = RESYNC,
};

FIXTURE_VARIANT_ADD(reads, tai_page) {
	.scene = TAI_PAGE,
};

FIXTURE_VARIANT_ADD(reads, utc_page_offset_plus_37) {
	.scene = UTC_PLUS_37,
};

FIXTURE_VARIANT_ADD(reads, utc_page_offset_minus_37) {
	.scene = UTC_MINUS_37,
};

FIXTURE_SETUP(reads)
{
	if (scene_needs_host(variant->scene))
		VMC_NEED_HOST();
	ctx_open(_metadata, &self->c);
	log_scale(_metadata, &self->c);
	scene_setup(_metadata, &self->c, variant->scene);
}

FIXTURE_TEARDOWN(reads)
{
	ctx_close(_metadata, &self->c);
}

TEST_F_TIMEOUT(reads, gettime_matches_page, SCENE_TIMEOUT)
{
	struct window w;
	int64_t v;
	int ret;

	ret = measure(&self->c.p, read_gettime, NULL, &w, &v);
	ASSERT_EQ(0, ret) TH_LOG("clock_gettime(FD_TO_CLOCKID) against the page: %s",
				 strerror(-ret));
	EXPECT_TRUE(in_window(&w, v)) TH_LOG("%s", win_str(&w, v));
}

TEST_F_TIMEOUT(reads, extended_matches_page, SCENE_TIMEOUT)
{
	struct ptp_sys_offset_extended x;
	int64_t v = 0, pre = 0, post = 0;
	struct window w;
	int ret, i;

	ret = measure(&self->c.p, read_extended, &x, &w, &v);
	ASSERT_EQ(0, ret) TH_LOG("PTP_SYS_OFFSET_EXTENDED2 (%d samples) against the page: %s",
				 N_SAMPLES, strerror(-ret));
	for (i = 0; i < N_SAMPLES; i++) {
		v = ptp_ns(&x.ts[i][1]);
		pre = ptp_ns(&x.ts[i][0]);
		post = ptp_ns(&x.ts[i][2]);
		if (!in_window(&w, v) || pre > post)
			break;
	}
	EXPECT_EQ(N_SAMPLES, i)
		TH_LOG("sample %d: %s; system pre %lld post %lld", i, win_str(&w, v),
		       (long long)pre, (long long)post);
}

/* PRECISE2 against the page, where the clocksource lets it work. */
FIXTURE(precise) {
	struct ctx c;
};

FIXTURE_VARIANT(precise) {
	enum scene scene;
};

FIXTURE_VARIANT_ADD(precise, as_found) {
	.scene = AS_FOUND,
};

FIXTURE_VARIANT_ADD(precise, back_on_tsc) {
	.scene = BACK_ON_TSC,
};

FIXTURE_VARIANT_ADD(precise, synchronized_again) {
	.scene = RESYNC,
};

FIXTURE_VARIANT_ADD(precise, utc_page_offset_plus_37) {
	.scene = UTC_PLUS_37,
};

FIXTURE_VARIANT_ADD(precise, utc_page_offset_minus_37) {
	.scene = UTC_MINUS_37,
};

FIXTURE_SETUP(precise)
{
	char why[320] = "";

	if (scene_needs_host(variant->scene))
		VMC_NEED_HOST();
	ctx_open(_metadata, &self->c);
	if (!precise_expected(why, sizeof(why)))
		SKIP(return, "%s", why);
	log_scale(_metadata, &self->c);
	scene_setup(_metadata, &self->c, variant->scene);
}

FIXTURE_TEARDOWN(precise)
{
	ctx_close(_metadata, &self->c);
}

TEST_F_TIMEOUT(precise, device_time_matches_page, SCENE_TIMEOUT)
{
	struct precise_arg a;
	struct window w;
	int64_t v;
	int ret;

	ret = measure(&self->c.p, read_precise, &a, &w, &v);
	ASSERT_EQ(0, ret) TH_LOG("PTP_SYS_OFFSET_PRECISE2 against the page: %s", strerror(-ret));
	EXPECT_TRUE(in_window(&w, v)) TH_LOG("device time: %s", win_str(&w, v));
}

TEST_F_TIMEOUT(precise, sys_realtime_between_reads, SCENE_TIMEOUT)
{
	struct precise_arg a;
	struct window w;
	int64_t v, rt;
	int ret;

	ret = measure(&self->c.p, read_precise, &a, &w, &v);
	ASSERT_EQ(0, ret) TH_LOG("PTP_SYS_OFFSET_PRECISE2 against the page: %s", strerror(-ret));
	rt = ptp_ns(&a.x.sys_realtime);
	EXPECT_TRUE(rt >= ts_ns(&a.rt0) - TOL_NS && rt <= ts_ns(&a.rt1) + TOL_NS)
		TH_LOG("sys_realtime %lld, CLOCK_REALTIME [%lld, %lld]", (long long)rt,
		       (long long)ts_ns(&a.rt0), (long long)ts_ns(&a.rt1));
}

/* clock_status UNRELIABLE (set by the setup): every read is refused. */
FIXTURE(unreliable) {
	struct ctx c;
};

FIXTURE_SETUP(unreliable)
{
	char why[320] = "";
	int ret;

	VMC_NEED_HOST();
	ctx_open(_metadata, &self->c);
	ASSERT_TRUE(self->c.have_saved) TH_LOG("cannot save the page to put it back afterwards");
	self->c.page_changed = true;
	ret = host_cmd("set clock_status=%d", VMCLOCK_STATUS_UNRELIABLE);
	if (ret) {
		snprintf(why, sizeof(why), "%s", host_error());
		ctx_undo(_metadata, &self->c);
	}
	ASSERT_EQ(0, ret) TH_LOG("setting clock_status UNRELIABLE: %s", why);
}

FIXTURE_TEARDOWN(unreliable)
{
	ctx_close(_metadata, &self->c);
}

TEST_F_TIMEOUT(unreliable, gettime_ebusy, SCENE_TIMEOUT)
{
	struct timespec ts;
	int ret, err;

	errno = 0;
	ret = clock_gettime(self->c.p.clk, &ts);
	err = errno;
	EXPECT_TRUE(ret == -1 && err == EBUSY)
		TH_LOG("want -1 with EBUSY; returned %d errno %s", ret, strerror(err));
}

TEST_F_TIMEOUT(unreliable, extended_ebusy, SCENE_TIMEOUT)
{
	struct ptp_sys_offset_extended x;
	int ret, err;

	memset(&x, 0, sizeof(x));
	x.n_samples = 1;
	errno = 0;
	ret = ioctl(self->c.p.fd, PTP_SYS_OFFSET_EXTENDED2, &x);
	err = errno;
	EXPECT_TRUE(ret == -1 && err == EBUSY)
		TH_LOG("want -1 with EBUSY; returned %d errno %s", ret, strerror(err));
}

TEST_F_TIMEOUT(unreliable, precise_ebusy, SCENE_TIMEOUT)
{
	char why[320] = "";
	int ret, err;

	if (!precise_expected(why, sizeof(why)))
		SKIP(return, "%s", why);
	err = precise_errno(&self->c.p, &ret);
	EXPECT_TRUE(ret == -1 && err == EBUSY)
		TH_LOG("want -1 with EBUSY; returned %d errno %s", ret, strerror(err));
}

/* The host's rewrites of the time scale land on the page as asked. */
FIXTURE(scale) {
	struct ctx c;
};

FIXTURE_VARIANT(scale) {
	enum scene scene;
};

FIXTURE_VARIANT_ADD(scale, tai_page) {
	.scene = TAI_PAGE,
};

FIXTURE_VARIANT_ADD(scale, utc_page_offset_plus_37) {
	.scene = UTC_PLUS_37,
};

FIXTURE_VARIANT_ADD(scale, utc_page_offset_minus_37) {
	.scene = UTC_MINUS_37,
};

FIXTURE_SETUP(scale)
{
	VMC_NEED_HOST();
	ctx_open(_metadata, &self->c);
}

FIXTURE_TEARDOWN(scale)
{
	ctx_close(_metadata, &self->c);
}

TEST_F_TIMEOUT(scale, host_writes_page, SCENE_TIMEOUT)
{
	char why[320] = "";
	int ret;

	ret = scene_enter(&self->c, variant->scene, why, sizeof(why));
	if (ret == KSFT_SKIP)
		SKIP(return, "%s", why);
	EXPECT_EQ(0, ret) TH_LOG("%s", why);
}

VMC_HARNESS_MAIN
