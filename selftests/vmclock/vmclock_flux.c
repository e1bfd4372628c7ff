// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_flux: a hypervisor writer that is slow in the middle of its
 * updates, on the kselftest harness. The host holds seq_count odd for 5 ms
 * at a time (vmclock-host "stall"), the way a VMM thread descheduled
 * mid-update does. Each path, pread() of /dev/vmclock0 and clock_gettime()
 * on the PHC, is a variant of the flux fixture:
 *  - issued meanwhile, every call succeeds: the driver's readers wait up
 *    to 100 ms (one kept off the CPU that long by a busy host may give up
 *    then, rightly);
 *  - with seq_count stuck odd, the call fails with EBUSY once 100 ms have
 *    passed: not at once, and not much later.
 * Then insmod while the page is in flux, a disruption in every window,
 * binds the device (probe waits too, and a copy showing the new marker is
 * as good as any).
 *
 * Every test starts its own stall and waits for its end (teardown), so the
 * next test finds the page out of flux; the insmod test loads the module
 * and binds the driver again if it has to.
 *
 * Host commands: stall.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmc_harness.h"

#define BOUND_MS	100	/* the driver's documented reader bound */
/* Calls of each path that met the page in flux: enough to test something. */
#define MIN_IN_FLUX	10U
/*
 * A reader giving up after this is too late: twice the bound, which a
 * count-based or much longer bound would miss, while a vCPU thread kept
 * waiting by a busy host (TCG, shared cores) does not reach it.
 */
#define LATE_MS		200
#define INSMOD_ROUNDS	3U

/* The host's account of its last stall (vmclock-host stall --status). */
struct stall_stats {
	int running;
	unsigned long long windows, longest_us;
};

static int stall_status(struct stall_stats *st)
{
	if (host_cmd("stall --status") ||
	    sscanf(host_reply(), "stall: running=%d windows=%llu longest_us=%llu",
		   &st->running, &st->windows, &st->longest_us) != 3)
		return -EIO;
	return 0;
}

/* Until the host's last stall is over; its longest window in @st. */
static int stall_wait_end(struct stall_stats *st)
{
	uint64_t end = mono_ns() + 20000000000ULL;

	do {
		if (stall_status(st))
			return -EIO;
		if (!st->running)
			return 0;
		sleep_ms(50);
	} while (mono_ns() < end);
	return -ETIMEDOUT;
}

/* 1 while the host's stall runs, 0 once it is over, <0 on error. */
static int stall_running(void)
{
	struct stall_stats st;

	if (stall_status(&st))
		return -EIO;
	return st.running;
}

static u32 seq_of(const struct vmc_map *m)
{
	return le32toh(__atomic_load_n(&m->page->seq_count, __ATOMIC_ACQUIRE));
}

struct tally {
	unsigned int calls;
	unsigned int in_flux;		/* seq_count odd or moving around it */
	unsigned int failed;		/* gave up before the bound */
	unsigned int failed_late;	/* gave up after it */
	int first_errno;
	uint64_t max_ns;
};

static void tally_add(struct tally *t, bool ok, bool flux, uint64_t ns)
{
	t->calls++;
	t->in_flux += flux;
	if (!ok && !t->failed && !t->failed_late)
		t->first_errno = errno;
	if (!ok && ns < BOUND_MS * 1000000ULL)
		t->failed++;
	else if (!ok)
		t->failed_late++;
	if (ns > t->max_ns)
		t->max_ns = ns;
}

/*
 * One pread() of the page or one clock_gettime() on the PHC, tallied. It
 * met the page in flux when seq_count was odd before or after it or moved
 * while it ran: a window opened or closed (rarely, a whole transaction).
 */
static void read_in_flux(const struct vmc_map *m, int ptp, bool phc, struct tally *t)
{
	static char buf[65536];
	struct timespec ts;
	u32 seq0, seq1;
	uint64_t t0, ns;
	bool ok;

	seq0 = seq_of(m);
	t0 = mono_ns();
	if (phc)
		ok = !clock_gettime(FD_TO_CLOCKID(ptp), &ts);
	else
		ok = pread(m->fd, buf, sizeof(buf), 0) == (ssize_t)m->size;
	ns = mono_ns() - t0;
	seq1 = seq_of(m);
	tally_add(t, ok, (seq0 | seq1) & 1 || seq0 != seq1, ns);
}

/*
 * The page mapped, the PHC open when there is one; the variant says which
 * of the two paths its tests read through.
 */
FIXTURE(flux) {
	struct vmc_map m;
	int ptp;
	bool stall_pending;	/* a stall was started and not seen over */
};

FIXTURE_VARIANT(flux) {
	bool phc;
	const char *what;
};

FIXTURE_VARIANT_ADD(flux, pread) {
	.phc = false, .what = "pread()",
};

FIXTURE_VARIANT_ADD(flux, phc_gettime) {
	.phc = true, .what = "PHC clock_gettime()",
};

FIXTURE_SETUP(flux)
{
	char ptpdev[64];
	int ret;

	self->m.fd = -1;
	self->ptp = -1;
	VMC_NEED_HOST();
	ret = vmc_map_open(&self->m);
	ASSERT_EQ(0, ret) TH_LOG("cannot open and map %s: %s", VMC_DEV, strerror(-ret));
	if (ptp_find(ptpdev, sizeof(ptpdev)) >= 0)
		self->ptp = open(ptpdev, O_RDONLY | O_CLOEXEC);
}

/* The next test (or program) must not find the page still in flux. */
static void stall_settle(struct __test_metadata *_metadata, bool pending)
{
	struct stall_stats st = { 0 };
	int ret;

	if (!pending)
		return;
	ret = stall_wait_end(&st);
	EXPECT_EQ(0, ret) TH_LOG("the host's stall did not end: %s",
				 ret == -EIO ? host_error() : strerror(-ret));
}

FIXTURE_TEARDOWN(flux)
{
	stall_settle(_metadata, self->stall_pending);
	if (self->ptp >= 0)
		close(self->ptp);
	vmc_map_close(&self->m);
}

/*
 * Reads through the variant's path while the host stalls, until it has met
 * the page in flux MIN_IN_FLUX times or the windows are over. One path per
 * stall, because calls that share the loop share the windows by how long
 * each takes (a window that opens during a pread() is waited out by it): a
 * PHC read several times cheaper than a pread() met a few of 200 windows.
 * Not for a fixed time: a busy host opens its windows late and far apart,
 * and a path that never met one proves nothing.
 *
 * Every call succeeds, but for a call that gave up only after the bound: a
 * spin-count reader gives up at once, while a reader bounded in time gives
 * up after the bound only when it was itself kept off the CPU that long (a
 * busy host deschedules vCPU threads) or the host held a window that long
 * (the host's longest window is printed). Those are counted and shown, not
 * failed.
 *
 * Up to 20 s for the host to take the stall, 30 s of reading and 20 s for
 * the stall to end (2 s on a quiet host): more than the default timeout.
 */
TEST_F_TIMEOUT(flux, in_flux_succeeds_or_waits_out_bound, 120)
{
	struct stall_stats st = { 0 };
	struct tally t = { 0 };
	uint64_t end, next_status;
	int ret;

	if (variant->phc && self->ptp < 0)
		SKIP(return, "no PTP clock");
	/* Windows of 5 ms, 5 ms apart, 200 of them: 2 s on a quiet host. */
	ret = host_cmd("stall 5 --count 200 --gap-ms 5");
	ASSERT_EQ(0, ret) TH_LOG("%s", host_error());
	self->stall_pending = true;

	end = mono_ns() + 30000000000ULL;
	next_status = mono_ns() + 250000000ULL;
	while (t.in_flux < MIN_IN_FLUX && mono_ns() < end) {
		read_in_flux(&self->m, self->ptp, variant->phc, &t);
		if (mono_ns() >= next_status) {
			if (stall_running() <= 0)
				break;
			next_status = mono_ns() + 250000000ULL;
		}
	}
	if (!stall_wait_end(&st)) {
		self->stall_pending = false;
		TH_LOG("the host held %llu windows, the longest %llu us",
		       st.windows, st.longest_us);
	}
	TH_LOG("%s: %u calls, %u met the page in flux, slowest %llu us", variant->what,
	       t.calls, t.in_flux, (unsigned long long)(t.max_ns / 1000));
	TH_LOG("%s: %u gave up after the bound (longest window %llu us)", variant->what,
	       t.failed_late, st.longest_us);

	EXPECT_EQ(0U, t.failed)
		TH_LOG("%u of %u gave up before the bound (first: %s)", t.failed, t.calls,
		       t.failed ? strerror(t.first_errno) : "-");
	EXPECT_GE(t.in_flux, MIN_IN_FLUX)
		TH_LOG("%u met the page in flux (want %u)", t.in_flux, MIN_IN_FLUX);
}

/*
 * One window of 1.5 s: the call must give up with EBUSY once the 100 ms
 * bound has passed, and well before LATE_MS. The window outlasts the call;
 * the teardown waits for its end (up to 20 s, besides up to 20 s for the
 * host to take the stall).
 */
TEST_F_TIMEOUT(flux, stuck_odd_ebusy_after_100ms, 60)
{
	static char buf[4096];
	struct timespec ts;
	uint64_t t0, ns, ms;
	int ret, err;
	bool ok;

	if (variant->phc && self->ptp < 0)
		SKIP(return, "no PTP clock");
	ret = host_cmd("stall 1500");
	ASSERT_EQ(0, ret) TH_LOG("%s", host_error());
	self->stall_pending = true;

	t0 = mono_ns();
	if (variant->phc)
		ok = !clock_gettime(FD_TO_CLOCKID(self->ptp), &ts);
	else
		ok = pread(self->m.fd, buf, sizeof(buf), 0) >= 0;
	err = errno;
	ns = mono_ns() - t0;
	ms = ns / 1000000;
	TH_LOG("%s with seq_count stuck odd: %s after %llu us", variant->what,
	       ok ? "succeeded" : strerror(err), (unsigned long long)(ns / 1000));

	EXPECT_TRUE(!ok && err == EBUSY && ms >= BOUND_MS && ms < LATE_MS)
		TH_LOG("%s after %llu ms (want EBUSY after %d to %d ms)",
		       ok ? "succeeded" : strerror(err), (unsigned long long)ms,
		       BOUND_MS, LATE_MS);
}

/* rmmod, then insmod while the host keeps the page in flux. */
FIXTURE(flux_insmod) {
	bool had_ptp;
	bool have_ko;
	bool stall_pending;
	char ko[512];
	char params[128];
};

FIXTURE_SETUP(flux_insmod)
{
	VMC_NEED_HOST();
	self->had_ptp = ptp_find(NULL, 0) >= 0;
	self->have_ko = vmc_module_path(self->ko, sizeof(self->ko));
	/* The loaded module's parameters, for loading it again as it was. */
	vmc_module_params(self->params, sizeof(self->params));
}

/* Leave the driver as we found it for the next test and program. */
FIXTURE_TEARDOWN(flux_insmod)
{
	stall_settle(_metadata, self->stall_pending);
	if (self->have_ko && access("/sys/module/" VMC_MODULE, F_OK))
		vmc_module_load(self->ko, self->params);
	if (!wait_path(VMC_DEV, true, VMC_SETTLE_MS))
		vmc_rebind();
	EXPECT_TRUE(wait_path(VMC_DEV, true, VMC_SETTLE_MS))
		TH_LOG("%s not back after reloading %s and binding the driver",
		       VMC_DEV, VMC_MODULE);
}

/*
 * INSMOD_ROUNDS rounds of rmmod (up to 2 s for the device to go), a stall
 * (up to 20 s for the host to take it), insmod, 1 s for the devices and up
 * to 20 s for the stall to end; about 5 s a round on a quiet host.
 */
TEST_F_TIMEOUT(flux_insmod, binds_while_page_in_flux_and_marker_moves, 180)
{
	struct stall_stats st = { 0 };
	uint64_t t0, ms, slowest = 0;
	unsigned int i, bound = 0;
	char why[256] = "";
	bool dev, ptp;
	int ret;

	if (!self->have_ko)
		SKIP(return, "module file not found (set VMCLOCK_KO)");
	for (i = 0; i < INSMOD_ROUNDS; i++) {
		ret = vmc_module_unload();
		/* wait_path() tells whether the path is (still) there. */
		if (ret || wait_path(VMC_DEV, false, VMC_SETTLE_MS)) {
			snprintf(why, sizeof(why), "rmmod: %s",
				 ret ? strerror(-ret) : "/dev/vmclock0 stayed");
			break;
		}
		/* About 1.8 s of windows: insmod must finish well inside. */
		if (host_cmd("stall 5 --count 300 --gap-ms 1 --disrupt")) {
			snprintf(why, sizeof(why), "%s", host_error());
			break;
		}
		self->stall_pending = true;
		t0 = mono_ns();
		ret = vmc_module_load(self->ko, self->params);
		ms = (mono_ns() - t0) / 1000000;
		if (ms > slowest)
			slowest = ms;
		dev = wait_path(VMC_DEV, true, 500);
		ptp = wait_ptp(true, 500);
		if (!ret && dev && (ptp || !self->had_ptp))
			bound++;
		else if (!why[0])
			snprintf(why, sizeof(why),
				 "round %u: insmod %s, /dev/vmclock0 %s, PTP clock %s",
				 i + 1, ret ? strerror(-ret) : "ok",
				 dev ? "present" : "absent", ptp ? "present" : "absent");
		if (stall_wait_end(&st))
			snprintf(why, sizeof(why), "the host's stall did not end");
		else
			self->stall_pending = false;
		TH_LOG("insmod round %u: the host held %llu windows, longest %llu us",
		       i + 1, st.windows, st.longest_us);
	}
	if (slowest >= 1500)
		snprintf(why, sizeof(why),
			 "insmod took %llu ms: probe may have run after the windows",
			 (unsigned long long)slowest);
	TH_LOG("insmod in flux: slowest %llu ms", (unsigned long long)slowest);

	EXPECT_TRUE(bound == INSMOD_ROUNDS && slowest < 1500)
		TH_LOG("%u of %u bound; %s", bound, INSMOD_ROUNDS, why);
}

VMC_HARNESS_MAIN
