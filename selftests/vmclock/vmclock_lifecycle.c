// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_lifecycle: unbind/bind and module unload with users around, on
 * the kselftest harness.
 *
 * unbind_with_users: each test runs LOOPS rounds that open /dev/vmclock0,
 * map it, leave a child blocked in poll() on it, unbind the driver and bind
 * it again, and checks one property over them: the unbind succeeds; the
 * blocked poller returns (bounded); the old fd fails a read or reports
 * POLLHUP/POLLERR; the bind brings the devices back.
 *
 * unload: rmmod with an fd open must fail with EBUSY (the kernel spells it
 * EWOULDBLOCK/EAGAIN) or succeed safely; after the last user is gone rmmod
 * works, and loading the module again brings the devices back. The module
 * file comes from $VMCLOCK_KO or the usual /lib/modules places; without
 * it, or with the driver built in, these tests skip.
 *
 * lifecycle: all of the above in turn must not taint the kernel with a
 * crash (D) or a warning (W).
 *
 * Every test leaves the module loaded and the driver bound (teardown).
 *
 * Host commands: none.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmc_harness.h"

/*
 * The fixtures' teardown runs in the harness's parent of the test process
 * (FIXTURE_TEARDOWN_PARENT), where the harness's own wrapper keeps a pid
 * across its setjmp(): GCC's -Wclobbered flags that code, not this file's.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#define LOOPS		20
#define POLLER_MS	3000	/* the child's own poll timeout */
#define CHILD_BOUND_MS	6000	/* the parent's bound on the child */

/*
 * A round waits at most 2 s for the unbind, 8 s for the poller and 4 s for
 * the bind: 280 s for LOOPS rounds at worst, and the teardown may load the
 * module and wait for the devices (a round takes well under a second with a
 * driver that wakes its pollers, 3 s without). The harness's timeout kills
 * the test before its teardown: it must not be reached.
 */
#define ROUNDS_TIMEOUT	360
/* rmmod retried for 3 s, insmod, up to 2 s for each device. */
#define UNLOAD_TIMEOUT	60

enum { CH_TIMEOUT, CH_POLLIN, CH_HUP, CH_ERROR };

/* The properties a round checks, one test each. */
enum prop { P_UNBIND, P_POLLER, P_STALE, P_REBIND, NPROPS };

/* First failure per property over the rounds. */
struct verdict {
	bool failed;
	char why[200];
};

struct rounds {
	int done;		/* rounds run to their end */
	int stopped;		/* the property whose failure ended them, or -1 */
	struct verdict v[NPROPS];
};

static void __printf(3, 4)
note(struct verdict *v, int round, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (v->failed)
		return;
	v->failed = true;
	n = snprintf(v->why, sizeof(v->why), "round %d: ", round);
	va_start(ap, fmt);
	vsnprintf(v->why + n, sizeof(v->why) - n, fmt, ap);
	va_end(ap);
}

static pid_t start_poller(int fd)
{
	pid_t pid = fork_flushed();

	if (pid == 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r;

		r = poll(&pfd, 1, POLLER_MS);
		if (r < 0)
			_exit(CH_ERROR);
		if (r == 0)
			_exit(CH_TIMEOUT);
		_exit(pfd.revents & (POLLHUP | POLLERR) ? CH_HUP : CH_POLLIN);
	}
	return pid;
}

/*
 * LOOPS rounds of open, mmap, read, a blocked poller, unbind, bind; every
 * property noted at its first failure. A round that cannot start (open,
 * mmap or read fails) or leaves the driver unbound ends them.
 */
static void run_rounds(struct rounds *r, bool had_ptp)
{
	long pg = sysconf(_SC_PAGESIZE);
	char buf[8192];
	int round;

	memset(r, 0, sizeof(*r));
	r->stopped = -1;
	for (round = 1; round <= LOOPS; round++) {
		struct pollfd pfd;
		int fd, ret, status = 0;
		ssize_t n;
		void *map;
		pid_t pid;

		fd = open(VMC_DEV, O_RDONLY);
		if (fd < 0) {
			note(&r->v[P_REBIND], round, "open: %s", strerror(errno));
			r->stopped = P_REBIND;
			break;
		}
		map = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
		/* Read so the child's poll() blocks instead of seeing POLLIN. */
		if (map == MAP_FAILED || read(fd, buf, sizeof(buf)) <= 0) {
			note(&r->v[P_UNBIND], round, "mmap/read before unbind: %s",
			     strerror(errno));
			if (map != MAP_FAILED)
				munmap(map, pg);
			close(fd);
			r->stopped = P_UNBIND;
			break;
		}
		pid = start_poller(fd);
		sleep_ms(50);

		ret = vmc_unbind();
		if (ret)
			note(&r->v[P_UNBIND], round, "write to unbind: %s", strerror(-ret));
		else if (wait_path(VMC_DEV, false, VMC_SETTLE_MS))
			note(&r->v[P_UNBIND], round, "%s still present", VMC_DEV);

		ret = pid < 0 ? -ECHILD : wait_child(pid, CHILD_BOUND_MS, &status);
		if (ret)
			note(&r->v[P_POLLER], round, "poller %s", strerror(-ret));
		else if (!WIFEXITED(status) || WEXITSTATUS(status) == CH_ERROR)
			note(&r->v[P_POLLER], round, "poller %s",
			     WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) :
			     "poll() failed");

		errno = 0;
		n = read(fd, buf, sizeof(buf));
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		poll(&pfd, 1, 0);
		if (n >= 0 && !(pfd.revents & (POLLHUP | POLLERR)))
			note(&r->v[P_STALE], round, "read() returned %zd and poll revents 0x%x",
			     n, (unsigned int)pfd.revents);

		ret = vmc_bind();
		if (ret)
			note(&r->v[P_REBIND], round, "write to bind: %s", strerror(-ret));
		else if (!wait_path(VMC_DEV, true, VMC_SETTLE_MS))
			note(&r->v[P_REBIND], round, "%s did not come back", VMC_DEV);
		else if (had_ptp && !wait_ptp(true, VMC_SETTLE_MS))
			note(&r->v[P_REBIND], round, "PTP clock did not come back");

		munmap(map, pg);
		close(fd);
		if (r->v[P_REBIND].failed) {
			r->stopped = P_REBIND;	/* nothing left to unbind */
			break;
		}
		r->done = round;
	}
}

/* What every test starts from, and what its teardown puts back. */
struct lc_state {
	bool had_ptp;
	long taint0;
	bool have_ko;		/* the module file was found */
	bool is_module;		/* the driver is a loaded module */
	char ko[512];
	char params[128];
};

static void lc_setup(struct __test_metadata *_metadata, struct lc_state *lc)
{
	ASSERT_TRUE(vmc_device_name() && vmc_bound())
		TH_LOG("driver not bound to a vmclock device");
	lc->had_ptp = wait_ptp(true, 0);
	lc->taint0 = kernel_taint();
	lc->have_ko = vmc_module_path(lc->ko, sizeof(lc->ko));
	lc->is_module = !access("/sys/module/" VMC_MODULE "/initstate", F_OK);
	/* The loaded module's parameters, for loading it again as it was. */
	vmc_module_params(lc->params, sizeof(lc->params));
	TH_LOG("device %s, PTP clock %s, tainted %ld", vmc_device_name(),
	       lc->had_ptp ? "present" : "absent", lc->taint0);
}

/*
 * Runs in the harness's parent of the test process (FIXTURE_TEARDOWN_PARENT):
 * a driver that oopses on the fd left open across unbind kills the test
 * process, and the next test must still find the driver loaded and bound.
 */
static void lc_teardown(struct __test_metadata *_metadata, const struct lc_state *lc)
{
	bool dev, ptp_ok;

	if (lc->have_ko && lc->is_module && access("/sys/module/" VMC_MODULE, F_OK))
		vmc_module_load(lc->ko, lc->params);
	if (!vmc_bound())
		vmc_bind();
	dev = wait_path(VMC_DEV, true, VMC_SETTLE_MS);
	ptp_ok = !lc->had_ptp || wait_ptp(true, VMC_SETTLE_MS);
	EXPECT_TRUE(dev && ptp_ok)
		TH_LOG("after the test: /dev/vmclock0 %s%s", dev ? "present" : "absent",
		       ptp_ok ? "" : ", PTP clock absent (was present)");
}

/* Why the unload tests skip: no module file, or the driver built in. */
static const char *module_unavailable(const struct lc_state *lc)
{
	if (!lc->have_ko)
		return "module file not found (set VMCLOCK_KO)";
	if (!lc->is_module)
		return VMC_MODULE " is built in or not a module";
	return NULL;
}

/* The rounds, and one property's verdict over them. */
static void check_rounds(struct __test_metadata *_metadata, const struct lc_state *lc,
			 enum prop want)
{
	struct rounds r;

	run_rounds(&r, lc->had_ptp);
	TH_LOG("%d of %d rounds ran to their end", r.done, LOOPS);
	EXPECT_FALSE(r.v[want].failed) TH_LOG("%s", r.v[want].why);
	/* Rounds another property ended early checked this one less. */
	if (r.stopped >= 0 && r.stopped != (int)want)
		EXPECT_EQ(LOOPS, r.done) TH_LOG("the rounds stopped: %s", r.v[r.stopped].why);
}

FIXTURE(unbind_with_users) {
	struct lc_state lc;
};

FIXTURE_SETUP(unbind_with_users)
{
	lc_setup(_metadata, &self->lc);
}

FIXTURE_TEARDOWN_PARENT(unbind_with_users)
{
	lc_teardown(_metadata, &self->lc);
}

TEST_F_TIMEOUT(unbind_with_users, unbind_succeeds, ROUNDS_TIMEOUT)
{
	check_rounds(_metadata, &self->lc, P_UNBIND);
}

/* Returns after unbind, bounded: no hang, no crash. */
TEST_F_TIMEOUT(unbind_with_users, blocked_poller_returns, ROUNDS_TIMEOUT)
{
	check_rounds(_metadata, &self->lc, P_POLLER);
}

TEST_F_TIMEOUT(unbind_with_users, stale_fd_fails_read_or_reports_hup, ROUNDS_TIMEOUT)
{
	check_rounds(_metadata, &self->lc, P_STALE);
}

/* /dev/vmclock0, and the PTP clock when there was one. */
TEST_F_TIMEOUT(unbind_with_users, bind_brings_devices_back, ROUNDS_TIMEOUT)
{
	check_rounds(_metadata, &self->lc, P_REBIND);
}

/*
 * rmmod after the last user is gone; the last fput may run a moment after
 * close(): retried for 3 s.
 */
static int rmmod_without_users(void)
{
	uint64_t end = mono_ns() + 3000000000ULL;
	int ret;

	do {
		ret = vmc_module_unload();
	} while ((ret == -EWOULDBLOCK || ret == -EBUSY) &&
		 mono_ns() < end && (sleep_ms(50), true));
	return ret;
}

FIXTURE(unload) {
	struct lc_state lc;
};

FIXTURE_SETUP(unload)
{
	lc_setup(_metadata, &self->lc);
}

FIXTURE_TEARDOWN_PARENT(unload)
{
	lc_teardown(_metadata, &self->lc);
}

TEST_F_TIMEOUT(unload, rmmod_with_fd_open_ebusy_or_safe, UNLOAD_TIMEOUT)
{
	long taint0 = kernel_taint();
	bool crashed;
	char buf[256];
	int fd, ret;
	ssize_t n;

	if (module_unavailable(&self->lc))
		SKIP(return, "%s", module_unavailable(&self->lc));
	fd = open(VMC_DEV, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	ret = vmc_module_unload();
	if (ret == 0) {
		/* Unloaded under an open fd: the fd must still be safe. */
		n = read(fd, buf, sizeof(buf));
		crashed = kernel_taint() & ~taint0 & TAINT_CRASH_BITS;
		EXPECT_FALSE(crashed)
			TH_LOG("unloaded with an fd open; read gave %zd; kernel now tainted %ld",
			       n, kernel_taint());
	} else {
		EXPECT_TRUE(ret == -EBUSY || ret == -EWOULDBLOCK)
			TH_LOG("delete_module: %s", strerror(-ret));
	}
	close(fd);
}

/* After an rmmod refused for the open fd, the fd closed. */
TEST_F_TIMEOUT(unload, rmmod_without_users_removes_dev, UNLOAD_TIMEOUT)
{
	int fd, ret;

	if (module_unavailable(&self->lc))
		SKIP(return, "%s", module_unavailable(&self->lc));
	fd = open(VMC_DEV, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	vmc_module_unload();
	close(fd);
	if (access("/sys/module/" VMC_MODULE, F_OK))
		SKIP(return, "the module unloaded with an fd open: no user left to wait for");

	ret = rmmod_without_users();
	EXPECT_TRUE(!ret && !wait_path(VMC_DEV, false, VMC_SETTLE_MS))
		TH_LOG("delete_module: %s", strerror(-ret));
}

/* After the rmmod with an fd open and the rmmod without users. */
TEST_F_TIMEOUT(unload, insmod_again_brings_devices_back, UNLOAD_TIMEOUT)
{
	struct lc_state *lc = &self->lc;
	int fd, ret;

	if (module_unavailable(lc))
		SKIP(return, "%s", module_unavailable(lc));
	fd = open(VMC_DEV, O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	vmc_module_unload();
	close(fd);
	if (!access("/sys/module/" VMC_MODULE, F_OK)) {
		ret = rmmod_without_users();
		ASSERT_EQ(0, ret) TH_LOG("rmmod without users: delete_module: %s", strerror(-ret));
	}

	ret = vmc_module_load(lc->ko, lc->params);
	EXPECT_TRUE(!ret && wait_path(VMC_DEV, true, VMC_SETTLE_MS) &&
		    (!lc->had_ptp || wait_ptp(true, VMC_SETTLE_MS)))
		TH_LOG("finit_module(%s, \"%s\"): %s", lc->ko, lc->params,
		       ret ? strerror(-ret) : "devices missing");
}

FIXTURE(lifecycle) {
	struct lc_state lc;
};

FIXTURE_SETUP(lifecycle)
{
	lc_setup(_metadata, &self->lc);
}

FIXTURE_TEARDOWN_PARENT(lifecycle)
{
	lc_teardown(_metadata, &self->lc);
}

/*
 * The rounds, then (when the driver is a module and its file is known)
 * rmmod with an fd open, rmmod without users and insmod; what each step
 * gave is the other tests' business, shown here only to explain a taint.
 * Both parts' bounds add up.
 */
TEST_F_TIMEOUT(lifecycle, kernel_not_tainted_by_oops_or_warning,
	       ROUNDS_TIMEOUT + UNLOAD_TIMEOUT)
{
	struct lc_state *lc = &self->lc;
	const char *why;
	struct rounds r;
	int fd, ret, i;
	char buf[256];
	bool crashed;

	run_rounds(&r, lc->had_ptp);
	TH_LOG("%d of %d rounds ran to their end", r.done, LOOPS);
	for (i = 0; i < NPROPS; i++)
		if (r.v[i].failed)
			TH_LOG("%s", r.v[i].why);

	why = module_unavailable(lc);
	if (!why) {
		fd = open(VMC_DEV, O_RDONLY);
		ret = vmc_module_unload();
		TH_LOG("rmmod with an fd open: %s", ret ? strerror(-ret) : "unloaded");
		if (!ret && fd >= 0 && read(fd, buf, sizeof(buf)) < 0)
			TH_LOG("read after it: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		if (!access("/sys/module/" VMC_MODULE, F_OK)) {
			ret = rmmod_without_users();
			TH_LOG("rmmod without users: %s", ret ? strerror(-ret) : "unloaded");
		}
		ret = vmc_module_load(lc->ko, lc->params);
		TH_LOG("insmod: %s", ret ? strerror(-ret) : "loaded");
		wait_path(VMC_DEV, true, VMC_SETTLE_MS);
	} else {
		TH_LOG("no rmmod/insmod: %s", why);
	}

	crashed = kernel_taint() & ~lc->taint0 & TAINT_CRASH_BITS;
	EXPECT_FALSE(crashed)
		TH_LOG("tainted %ld, was %ld", kernel_taint(), lc->taint0);
}

VMC_HARNESS_MAIN
