// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_flux: a hypervisor writer that is slow in the middle of its
 * updates. The host holds seq_count odd for 5 ms at a time
 * (vmclock-host "stall"), the way a VMM thread descheduled mid-update does:
 *  - pread() of /dev/vmclock0 and clock_gettime() on the PHC issued
 *    meanwhile all succeed: the driver's readers wait up to 100 ms (one
 *    kept off the CPU that long by a busy host may give up then, rightly);
 *  - with seq_count stuck odd, both fail with EBUSY once 100 ms have
 *    passed: not at once, and not much later;
 *  - insmod while the page is in flux, a disruption in every window,
 *    binds the device (probe waits too, and a copy showing the new
 *    marker is as good as any).
 *
 * Host commands: stall.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "host.h"
#include "tap.h"

#define BOUND_MS	100	/* the driver's documented reader bound */
/* Calls of each path that met the page in flux: enough to test something. */
#define MIN_IN_FLUX	10
/*
 * A reader giving up after this is too late: twice the bound, which a
 * count-based or much longer bound would miss, while a vCPU thread kept
 * waiting by a busy host (TCG, shared cores) does not reach it.
 */
#define LATE_MS		200
#define INSMOD_ROUNDS	3

/* The host's account of its last stall (vmclock-host stall --status). */
struct stall_stats {
	int running;
	unsigned long long windows, longest_us;
};

/* Until the host's last stall is over; its longest window in @st. */
static int stall_wait_end(struct stall_stats *st)
{
	uint64_t end = mono_ns() + 20000000000ULL;

	do {
		if (host_cmd("stall --status") ||
		    sscanf(host_reply(), "stall: running=%d windows=%llu longest_us=%llu",
			   &st->running, &st->windows, &st->longest_us) != 3)
			return -EIO;
		if (!st->running)
			return 0;
		sleep_ms(50);
	} while (mono_ns() < end);
	return -ETIMEDOUT;
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
 * Every call succeeds, but for a call that gave up only after the bound:
 * a spin-count reader gives up at once, while a reader bounded in time
 * gives up after the bound only when it was itself kept off the CPU that
 * long (a busy host deschedules vCPU threads) or the host held a window
 * that long (the host's longest window is printed). Those are counted and
 * shown, not failed.
 */
static void tally_check(const struct tally *t, const struct stall_stats *st,
			const char *name)
{
	tap_check(t->in_flux >= MIN_IN_FLUX && !t->failed, name,
		  "%u of %u gave up before the bound (first: %s); %u met the page in flux (want %u)",
		  t->failed, t->calls, t->failed ? strerror(t->first_errno) : "-",
		  t->in_flux, MIN_IN_FLUX);
	tap_diag("%s: %u calls, %u met the page in flux, %u gave up after the bound (longest window %llu us), slowest %llu us",
		 name, t->calls, t->in_flux, t->failed_late, st->longest_us,
		 (unsigned long long)(t->max_ns / 1000));
}

/* 1 while the host's stall runs, 0 once it is over, <0 on error. */
static int stall_running(void)
{
	struct stall_stats st;

	if (host_cmd("stall --status") ||
	    sscanf(host_reply(), "stall: running=%d windows=%llu longest_us=%llu",
		   &st.running, &st.windows, &st.longest_us) != 3)
		return -EIO;
	return st.running;
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
 * Reads through each path in turn while the host stalls: pread() alone
 * until it has met the page in flux MIN_IN_FLUX times, then the PHC alone
 * until it has too, or until the windows are over. One path at a time,
 * because calls that share the loop share the windows by how long each
 * takes (a window that opens during a pread() is waited out by it): a PHC
 * read several times cheaper than a pread() met a few of 200 windows. Not
 * for a fixed time: a busy host opens its windows late and far apart, and
 * a path that never met one proves nothing.
 */
static void check_reads_in_flux(const struct vmc_map *m, int ptp)
{
	struct tally rd = { 0 }, clk = { 0 };
	struct stall_stats st = { 0 };
	uint64_t end, next_status;

	/* Windows of 5 ms, 5 ms apart, 200 of them: 2 s on a quiet host. */
	if (host_cmd("stall 5 --count 200 --gap-ms 5")) {
		tap_fail("page in flux (seq_count odd 5 ms at a time): every pread() succeeds or waits out the 100 ms bound",
			 "%s", host_error());
		return;
	}
	end = mono_ns() + 30000000000ULL;
	next_status = mono_ns() + 250000000ULL;
	while ((rd.in_flux < MIN_IN_FLUX || (ptp >= 0 && clk.in_flux < MIN_IN_FLUX)) &&
	       mono_ns() < end) {
		bool phc = rd.in_flux >= MIN_IN_FLUX;

		read_in_flux(m, ptp, phc, phc ? &clk : &rd);
		if (mono_ns() >= next_status) {
			if (stall_running() <= 0)
				break;
			next_status = mono_ns() + 250000000ULL;
		}
	}
	if (!stall_wait_end(&st))
		tap_diag("the host held %llu windows, the longest %llu us",
			 st.windows, st.longest_us);
	tally_check(&rd, &st, "page in flux (seq_count odd 5 ms at a time): every pread() succeeds or waits out the 100 ms bound");
	if (ptp < 0)
		tap_skip("page in flux (seq_count odd 5 ms at a time): every PHC clock_gettime() succeeds or waits out the 100 ms bound",
			 "no PTP clock");
	else
		tally_check(&clk, &st, "page in flux (seq_count odd 5 ms at a time): every PHC clock_gettime() succeeds or waits out the 100 ms bound");
}

/* A call that fails with EBUSY once the bound has passed. */
static void check_gives_up(const char *name, bool ok, int err, uint64_t ns)
{
	uint64_t ms = ns / 1000000;

	tap_check(!ok && err == EBUSY && ms >= BOUND_MS && ms < LATE_MS, name,
		  "%s after %llu ms (want EBUSY after %d to %d ms)",
		  ok ? "succeeded" : strerror(err), (unsigned long long)ms,
		  BOUND_MS, LATE_MS);
	tap_diag("%s: %s after %llu us", name, ok ? "succeeded" : strerror(err),
		 (unsigned long long)(ns / 1000));
}

static void check_stuck(const struct vmc_map *m, int ptp)
{
	struct stall_stats st;
	static char buf[4096];
	struct timespec ts;
	uint64_t t0, ns;
	bool ok;
	int err;

	if (host_cmd("stall 1500")) {
		tap_fail("seq_count stuck odd: pread() -> EBUSY after 100 ms", "%s",
			 host_error());
		return;
	}
	t0 = mono_ns();
	ok = pread(m->fd, buf, sizeof(buf), 0) >= 0;
	err = errno;
	ns = mono_ns() - t0;
	check_gives_up("seq_count stuck odd: pread() -> EBUSY after 100 ms", ok, err, ns);
	if (ptp >= 0) {
		t0 = mono_ns();
		ok = !clock_gettime(FD_TO_CLOCKID(ptp), &ts);
		err = errno;
		ns = mono_ns() - t0;
		check_gives_up("seq_count stuck odd: PHC clock_gettime() -> EBUSY after 100 ms",
			       ok, err, ns);
	} else {
		tap_skip("seq_count stuck odd: PHC clock_gettime() -> EBUSY after 100 ms",
			 "no PTP clock");
	}
	stall_wait_end(&st);
}

/* rmmod, then insmod while the host keeps the page in flux. */
static void check_insmod_in_flux(bool had_ptp)
{
	const char *name = "insmod while seq_count is odd 5 ms at a time and the marker moves: the device binds";
	char ko[512], params[128], why[256] = "";
	struct stall_stats st = { 0 };
	unsigned int i, bound = 0;
	uint64_t t0, ms, slowest = 0;
	bool dev, ptp;
	int ret;

	if (!vmc_module_path(ko, sizeof(ko))) {
		tap_skip(name, "module file not found (set VMCLOCK_KO)");
		return;
	}
	vmc_module_params(params, sizeof(params));
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
		t0 = mono_ns();
		ret = vmc_module_load(ko, params);
		ms = (mono_ns() - t0) / 1000000;
		if (ms > slowest)
			slowest = ms;
		dev = wait_path(VMC_DEV, true, 500);
		ptp = wait_ptp(true, 500);
		if (!ret && dev && (ptp || !had_ptp))
			bound++;
		else if (!why[0])
			snprintf(why, sizeof(why),
				 "round %u: insmod %s, /dev/vmclock0 %s, PTP clock %s",
				 i + 1, ret ? strerror(-ret) : "ok",
				 dev ? "present" : "absent", ptp ? "present" : "absent");
		if (stall_wait_end(&st))
			snprintf(why, sizeof(why), "the host's stall did not end");
		tap_diag("insmod round %u: the host held %llu windows, longest %llu us",
			 i + 1, st.windows, st.longest_us);
	}
	if (slowest >= 1500)
		snprintf(why, sizeof(why), "insmod took %llu ms: probe may have run after the windows",
			 (unsigned long long)slowest);
	tap_check(bound == INSMOD_ROUNDS && slowest < 1500, name,
		  "%u of %d bound; %s", bound, INSMOD_ROUNDS, why);
	tap_diag("insmod in flux: slowest %llu ms", (unsigned long long)slowest);

	/* Leave the driver as we found it for the next program. */
	if (access("/sys/module/" VMC_MODULE, F_OK))
		vmc_module_load(ko, params);
	if (!wait_path(VMC_DEV, true, VMC_SETTLE_MS))
		vmc_rebind();
}

int main(void)
{
	struct vmc_map m = { .fd = -1 };
	char ptpdev[64];
	const char *why;
	bool had_ptp;
	int ptp = -1, ret;

	tap_start("vmclock_flux: readers and probe while the host is mid-update");
	why = vmc_unavailable_reason();
	if (why)
		tap_skip_all("%s", why);
	watchdog_arm(120, "vmclock_flux");
	ret = vmc_map_open(&m);
	if (ret)
		tap_bail("cannot open and map %s: %s", VMC_DEV, strerror(-ret));
	had_ptp = ptp_find(ptpdev, sizeof(ptpdev)) >= 0;
	if (had_ptp)
		ptp = open(ptpdev, O_RDONLY | O_CLOEXEC);

	check_reads_in_flux(&m, ptp);
	check_stuck(&m, ptp);

	if (ptp >= 0)
		close(ptp);
	vmc_map_close(&m);
	check_insmod_in_flux(had_ptp);
	return tap_finish();
}
