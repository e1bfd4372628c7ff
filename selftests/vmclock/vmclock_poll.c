// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_poll: poll()/epoll on /dev/vmclock0 as common.md fixes it, on the
 * kselftest harness.
 * POLLIN|POLLRDNORM while seq_count differs from what this fd last read
 * (0 at open), cleared by read(); a blocked waiter is woken by the polling
 * timer (page without NOTIFICATION_PRESENT) and by a real ACPI Notify (page
 * with it); POLLHUP whenever nothing can wake the file: poll_interval_ms=0
 * and either no NOTIFICATION_PRESENT or no Notify/interrupt wired up. Every
 * wait is bounded: a broken driver fails a test, it does not hang it.
 *
 * Two fixtures, one per notification mode; every test runs alone in its
 * own process. The setup puts the device in the mode (the page's
 * NOTIFICATION_PRESENT flag, with a rebind when it has to change, and
 * poll_interval_ms), the teardown puts the parameter, the page and the
 * binding back as they were found:
 *   poll_timer   no NOTIFICATION_PRESENT, poll_interval_ms as found (100
 *                when it was found 0);
 *   poll_notify  NOTIFICATION_PRESENT, poll_interval_ms=0.
 * The rig stops the host's steady page updates while this program runs
 * (tests/vm/guest/lib.sh): the only page updates are the tests' own.
 *
 * Host commands: set (flags, time_esterror_nanosec, and the saved page in
 * the teardown), notify.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmc_harness.h"

/*
 * GCC's -Wclobbered (in -Wextra) flags the harness's own "child" in each
 * test wrapper once a test body calls a helper that is not inlined. The
 * wrapper keeps it in memory across its setjmp (checked in the generated
 * code): a false alarm in kselftest_harness.h, not in this file.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wclobbered"
#endif

#define WAKE_DELAY_MS	400	/* the child changes the page after this */
#define BLOCKED_MIN_MS	300	/* a waiter returning earlier never blocked */
#define WAKE_BOUND_MS	5000
#define CHILD_BOUND_MS	30000	/* the child's host commands */
/*
 * In timer mode a reader that starts waiting puts the detector back on
 * poll_interval_ms at once (it looks at the page only once a second while
 * nobody waits): woken within one interval of the update. The slack is for
 * the host's command and the guest's scheduling under TCG.
 */
#define WAKE_SLACK_MS	200

/*
 * Test timeouts. Setup and teardown may each send host requests (the
 * rig's library waits up to 20 s for one) and rebind the driver, slow
 * under TCG; a test killed at its timeout skips its teardown and leaves
 * the device in its mode for every test after it, so the bounds are
 * generous. A wake test adds its 5 s wait and up to 30 s for the child's
 * host commands.
 */
#define MODE_TIMEOUT_S	90
#define WAKE_TIMEOUT_S	150

#define RIG_PLATFORM_PAGE "/sys/module/vmclock_rig/parameters/platform_page"
#define SECOND_DEV	"/dev/vmclock1"

/* What a fixture found and changed; both fixtures share it. */
struct poll_env {
	struct vmclock_abi saved;	/* the page as found */
	u64 flags;			/* its flags */
	u32 seq;			/* its seq_count */
	char found_interval[32];	/* poll_interval_ms as found */
	char interval[32];		/* the timer's interval in timer mode */
	u64 esterror;			/* last time_esterror_nanosec written */
	bool param_written;
	bool page_changed;
	bool rebound;
	bool second_dev;		/* the rig's platform device added */
	int fd, ep;
};

static int open_path(const char *path)
{
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Read the page so the fd's recorded seq is current; true when done. */
static bool drain(int fd)
{
	char buf[8192];

	return pread(fd, buf, sizeof(buf), 0) > 0;
}

static short poll_now(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDNORM };

	if (poll(&pfd, 1, timeout_ms) < 0)
		return -1;
	return pfd.revents;
}

static unsigned int revents(short rev)
{
	return (unsigned int)(unsigned short)rev;
}

/*
 * Whether a bound vmclock device can be notified: it has an ACPI companion
 * (the rig's SSDT raises Notify) or a device-tree interrupt. The arm64
 * rig's node has no "interrupts": NOTIFICATION_PRESENT then wakes nobody.
 */
static bool has_wake_source(void)
{
	static const char *const pats[] = {
		"/sys/bus/platform/drivers/*vmclock/*/firmware_node",
		"/sys/bus/platform/drivers/*vmclock/*/of_node/interrupts",
	};
	bool found = false;
	unsigned int i;
	glob_t g;

	for (i = 0; i < ARRAY_SIZE(pats) && !found; i++) {
		if (!glob(pats[i], 0, NULL, &g))
			found = g.gl_pathc > 0;
		globfree(&g);
	}
	return found;
}

/*
 * Everything the fixture changed, put back as found: the rig's second
 * device, poll_interval_ms, the page, the binding. 0, or -1 with the first
 * failure described in @why.
 */
static int env_restore(struct poll_env *env, char *why, size_t len)
{
	int ret, err = 0;

	if (env->ep >= 0)
		close(env->ep);
	if (env->fd >= 0)
		close(env->fd);
	env->ep = env->fd = -1;
	if (env->second_dev) {
		file_write(RIG_PLATFORM_PAGE, "N");
		if (wait_path(SECOND_DEV, false, VMC_SETTLE_MS))
			ksft_print_msg("%s still present after removing the platform device\n",
				       SECOND_DEV);
		env->second_dev = false;
	}
	if (env->param_written) {
		ret = param_write("poll_interval_ms", env->found_interval);
		if (ret && !err++)
			snprintf(why, len, "poll_interval_ms=%s: %s",
				 env->found_interval, strerror(-ret));
		env->param_written = false;
	}
	if (env->page_changed) {
		if (host_restore_page(&env->saved) && !err++)
			snprintf(why, len, "restoring the page failed: %s", host_error());
		env->page_changed = false;
	}
	if (env->rebound) {
		if (vmc_rebind_settled() && !err++)
			snprintf(why, len, "rebinding with the restored page failed");
		env->rebound = false;
	}
	return err ? -1 : 0;
}

/* Sets the page's flags and rebinds so the driver probes the new mode. */
static int page_flags_rebind(struct poll_env *env, u64 flags, char *why, size_t len)
{
	int ret;

	env->page_changed = true;
	ret = host_cmd("set flags=%llu", (unsigned long long)flags);
	if (ret) {
		snprintf(why, len, "%s", host_error());
		return -1;
	}
	env->rebound = true;
	ret = vmc_rebind_settled();
	if (ret == -ETIMEDOUT) {
		snprintf(why, len, "no %s after the rebind", VMC_DEV);
		return -1;
	}
	if (ret) {
		snprintf(why, len, "rebind failed: %s", strerror(-ret));
		return -1;
	}
	return 0;
}

/*
 * The fixtures' setup: saves what the tests may change, then switches to
 * timer mode (@notify false) or notify mode. A failed switch undoes itself
 * before failing: the harness runs no teardown after a failed setup.
 */
static void env_setup(struct __test_metadata *_metadata, struct poll_env *env, bool notify)
{
	const u64 nflag = VMCLOCK_FLAG_NOTIFICATION_PRESENT;
	const char *mode_fail = notify ? "could not set the flag, rebind and disable the timer" :
				"cannot switch the page to timer mode";
	struct vmc_map m = { .fd = -1 };
	struct vmclock_snap s;
	char why[320] = "", undo[320] = "";
	const char *val;
	bool switch_flags;
	int ret;

	env->fd = env->ep = -1;
	ret = vmc_save_page(&env->saved, NULL);
	ASSERT_EQ(0, ret) TH_LOG("cannot save the page: %s", strerror(-ret));
	ret = vmc_map_open(&m);
	if (!ret)
		ret = vmc_snap(&m, &s, false);
	vmc_map_close(&m);
	ASSERT_EQ(0, ret) TH_LOG("cannot map and read %s: %s", VMC_DEV, strerror(-ret));
	env->flags = s.flags;
	env->seq = s.seq;
	env->esterror = s.time_esterror_ns;
	/* Found 0 (timer off): timer mode runs it at the default 100 ms. */
	snprintf(env->found_interval, sizeof(env->found_interval), "100");
	param_read("poll_interval_ms", env->found_interval, sizeof(env->found_interval));
	snprintf(env->interval, sizeof(env->interval), "%s",
		 strcmp(env->found_interval, "0") ? env->found_interval : "100");

	switch_flags = notify ? !(s.flags & nflag) : !!(s.flags & nflag);
	if (switch_flags)
		VMC_NEED_HOST();

	/* A failed write changes nothing: nothing to undo yet. */
	val = notify ? "0" : env->interval;
	ret = param_write("poll_interval_ms", val);
	ASSERT_EQ(0, ret)
		TH_LOG("%s: cannot write " VMC_PARAM_DIR "/poll_interval_ms=%s: %s",
		       mode_fail, val, strerror(-ret));
	env->param_written = true;

	ret = 0;
	if (switch_flags) {
		ret = page_flags_rebind(env, notify ? s.flags | nflag : s.flags & ~nflag,
					why, sizeof(why));
		if (ret)
			env_restore(env, undo, sizeof(undo));
	}
	ASSERT_EQ(0, ret)
		TH_LOG("%s: %s%s%s", mode_fail, why, undo[0] ? "; undoing: " : "", undo);
}

static void env_teardown(struct __test_metadata *_metadata, struct poll_env *env)
{
	char why[320] = "";
	int ret = env_restore(env, why, sizeof(why));

	EXPECT_EQ(0, ret) TH_LOG("putting the device back as found: %s", why);
}

/*
 * A fresh fd on @path, read: poll() must say POLLHUP (@want_hup) or not.
 * POLLHUP is reported at once; the timeout only bounds a hang.
 */
static void check_hup(struct __test_metadata *_metadata, struct poll_env *env,
		      const char *path, bool want_hup)
{
	uint64_t t0;
	short rev;
	bool ok;
	int err;

	env->fd = open_path(path);
	err = errno;
	ASSERT_LE(0, env->fd) TH_LOG("open %s: %s", path, strerror(err));
	ok = drain(env->fd);
	err = errno;
	ASSERT_TRUE(ok) TH_LOG("read %s: %s", path, strerror(err));
	t0 = mono_ns();
	rev = poll_now(env->fd, want_hup ? 2000 : 0);
	EXPECT_TRUE(rev >= 0 && !!(rev & POLLHUP) == want_hup)
		TH_LOG("want %s; revents 0x%x after %llu ms", want_hup ? "POLLHUP" : "no POLLHUP",
		       revents(rev), (unsigned long long)((mono_ns() - t0) / 1000000));
}

struct wake {
	short rev;
	uint64_t ms;
};

static bool woken(const struct wake *w)
{
	return w->rev > 0 && (w->rev & POLLIN) && w->ms >= BLOCKED_MIN_MS;
}

#define WAKE_FMT	"revents 0x%x after %llu ms (needs POLLIN after >= %d ms)"

/*
 * Blocks in poll() or epoll_wait() on a fresh, read fd while a child
 * changes the page after WAKE_DELAY_MS (and raises a Notify with @notify).
 * What the wait returned, and after how long, in @w; the caller judges.
 */
static void wait_for_update(struct __test_metadata *_metadata, struct poll_env *env,
			    bool use_epoll, bool notify, struct wake *w)
{
	char set[64];
	const char *cmds[] = { set, notify ? "notify" : NULL, NULL };
	struct epoll_event ev = { .events = EPOLLIN };
	int ret, err, status = 0;
	uint64_t t0;
	pid_t pid;
	bool ok;

	env->fd = open_path(VMC_DEV);
	err = errno;
	ASSERT_LE(0, env->fd) TH_LOG("open %s: %s", VMC_DEV, strerror(err));
	ok = drain(env->fd);
	err = errno;
	ASSERT_TRUE(ok) TH_LOG("read %s: %s", VMC_DEV, strerror(err));
	if (use_epoll) {
		env->ep = epoll_create1(EPOLL_CLOEXEC);
		ev.data.fd = env->fd;
		ret = env->ep < 0 ? -1 : epoll_ctl(env->ep, EPOLL_CTL_ADD, env->fd, &ev);
		err = errno;
		ASSERT_EQ(0, ret) TH_LOG("epoll setup: %s", strerror(err));
		ret = epoll_wait(env->ep, &ev, 1, 0);
		ASSERT_EQ(0, ret) TH_LOG("event pending right after read()");
	}
	/* A value the page does not hold yet: the update is a real change. */
	env->esterror++;
	snprintf(set, sizeof(set), "set time_esterror_nanosec=%llu",
		 (unsigned long long)env->esterror);
	env->page_changed = true;
	pid = host_cmds_later(WAKE_DELAY_MS, cmds);
	ASSERT_LT(0, pid) TH_LOG("fork: %s", strerror(-pid));
	t0 = mono_ns();
	if (use_epoll) {
		ret = epoll_wait(env->ep, &ev, 1, WAKE_BOUND_MS);
		w->rev = ret == 1 ? (short)ev.events : ret;
	} else {
		w->rev = poll_now(env->fd, WAKE_BOUND_MS);
	}
	w->ms = (mono_ns() - t0) / 1000000;
	ret = wait_child(pid, CHILD_BOUND_MS, &status);
	ASSERT_TRUE(!ret && WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("host command in the child failed (see above)");
	ksft_print_msg("%s: woken after %llu ms\n", _metadata->name, (unsigned long long)w->ms);
}

/* The timer's bound: woken within one interval of the update. */
static void check_within_interval(struct __test_metadata *_metadata, struct poll_env *env,
				  bool use_epoll)
{
	unsigned int interval = strtoul(env->interval, NULL, 10);
	struct wake w;

	VMC_NEED_HOST();
	wait_for_update(_metadata, env, use_epoll, false, &w);
	ASSERT_TRUE(woken(&w))
		TH_LOG(WAKE_FMT, revents(w.rev), (unsigned long long)w.ms, BLOCKED_MIN_MS);
	EXPECT_GE((uint64_t)WAKE_DELAY_MS + interval + WAKE_SLACK_MS, w.ms)
		TH_LOG("woken %llu ms after starting to wait, the update came after %d ms; "
		       "interval %u ms", (unsigned long long)w.ms, WAKE_DELAY_MS, interval);
}

static void check_woken(struct __test_metadata *_metadata, struct poll_env *env,
			bool use_epoll, bool notify)
{
	struct wake w;

	VMC_NEED_HOST();
	wait_for_update(_metadata, env, use_epoll, notify, &w);
	EXPECT_TRUE(woken(&w))
		TH_LOG(WAKE_FMT, revents(w.rev), (unsigned long long)w.ms, BLOCKED_MIN_MS);
}

/* Timer mode: a page without NOTIFICATION_PRESENT. */
FIXTURE(poll_timer) {
	struct poll_env env;
};

FIXTURE_SETUP(poll_timer)
{
	env_setup(_metadata, &self->env, false);
}

FIXTURE_TEARDOWN(poll_timer)
{
	env_teardown(_metadata, &self->env);
}

TEST_F_TIMEOUT(poll_timer, fresh_fd_pollin_rdnorm, MODE_TIMEOUT_S)
{
	struct poll_env *env = &self->env;
	short rev;
	int err;

	ksft_print_msg("seq %u flags 0x%llx poll_interval_ms %s\n", env->seq,
		       (unsigned long long)env->flags, env->found_interval);
	if (env->seq == 0)
		SKIP(return, "page seq_count is 0");
	env->fd = open_path(VMC_DEV);
	err = errno;
	ASSERT_LE(0, env->fd) TH_LOG("open: %s", strerror(err));
	rev = poll_now(env->fd, 0);
	EXPECT_TRUE(rev > 0 && (rev & POLLIN) && (rev & POLLRDNORM))
		TH_LOG("want POLLIN|POLLRDNORM (seq %u differs from 0); revents 0x%x",
		       env->seq, revents(rev));
}

/* After a read, no POLLIN: retried when the host moved seq meanwhile. */
TEST_F_TIMEOUT(poll_timer, read_clears_pollin, MODE_TIMEOUT_S)
{
	struct poll_env *env = &self->env;
	short rev = 0;
	bool ok;
	int i, err;

	env->fd = open_path(VMC_DEV);
	err = errno;
	ASSERT_LE(0, env->fd) TH_LOG("open: %s", strerror(err));
	for (i = 0; i < 3; i++) {
		ok = drain(env->fd);
		err = errno;
		ASSERT_TRUE(ok) TH_LOG("read failed: %s", strerror(err));
		rev = poll_now(env->fd, 0);
		if (rev >= 0 && !(rev & POLLIN))
			break;
		sleep_ms(200);
	}
	EXPECT_TRUE(rev >= 0 && !(rev & (POLLIN | POLLRDNORM)))
		TH_LOG("want neither POLLIN nor POLLRDNORM; revents 0x%x after read()",
		       revents(rev));
}

TEST_F_TIMEOUT(poll_timer, no_pollhup, MODE_TIMEOUT_S)
{
	check_hup(_metadata, &self->env, VMC_DEV, false);
}

TEST_F_TIMEOUT(poll_timer, poll_wakes_on_host_update, WAKE_TIMEOUT_S)
{
	check_woken(_metadata, &self->env, false, false);
}

TEST_F_TIMEOUT(poll_timer, poll_wake_within_poll_interval_ms, WAKE_TIMEOUT_S)
{
	check_within_interval(_metadata, &self->env, false);
}

TEST_F_TIMEOUT(poll_timer, epoll_wait_wakes_on_host_update, WAKE_TIMEOUT_S)
{
	check_woken(_metadata, &self->env, true, false);
}

TEST_F_TIMEOUT(poll_timer, epoll_wake_within_poll_interval_ms, WAKE_TIMEOUT_S)
{
	check_within_interval(_metadata, &self->env, true);
}

/* No notification and no timer: nothing would ever wake the file. */
TEST_F_TIMEOUT(poll_timer, poll_interval_ms_0_pollhup, MODE_TIMEOUT_S)
{
	int ret = param_write("poll_interval_ms", "0");

	ASSERT_EQ(0, ret)
		TH_LOG("cannot write poll_interval_ms at run time: %s", strerror(-ret));
	check_hup(_metadata, &self->env, VMC_DEV, true);
}

/* Set to 0 and back at run time: the timer takes over again at once. */
static void interval_off_and_back(struct __test_metadata *_metadata, struct poll_env *env)
{
	int ret = param_write("poll_interval_ms", "0");

	ASSERT_EQ(0, ret)
		TH_LOG("cannot write poll_interval_ms at run time: %s", strerror(-ret));
	ret = param_write("poll_interval_ms", env->interval);
	ASSERT_EQ(0, ret)
		TH_LOG("poll_interval_ms=%s: %s", env->interval, strerror(-ret));
}

TEST_F_TIMEOUT(poll_timer, poll_interval_ms_restored_no_pollhup, MODE_TIMEOUT_S)
{
	interval_off_and_back(_metadata, &self->env);
	check_hup(_metadata, &self->env, VMC_DEV, false);
}

TEST_F_TIMEOUT(poll_timer, poll_interval_ms_restored_wakes_poll, WAKE_TIMEOUT_S)
{
	VMC_NEED_HOST();
	interval_off_and_back(_metadata, &self->env);
	check_woken(_metadata, &self->env, false, false);
}

/* Notify mode: with the timer off, only the ACPI Notify can wake. */
FIXTURE(poll_notify) {
	struct poll_env env;
};

FIXTURE_SETUP(poll_notify)
{
	env_setup(_metadata, &self->env, true);
}

FIXTURE_TEARDOWN(poll_notify)
{
	env_teardown(_metadata, &self->env);
}

#define NO_WAKE_SOURCE	"the device has neither an ACPI companion nor an interrupt"

TEST_F_TIMEOUT(poll_notify, poll_interval_ms_0_no_pollhup, MODE_TIMEOUT_S)
{
	if (!has_wake_source())
		SKIP(return, NO_WAKE_SOURCE);
	check_hup(_metadata, &self->env, VMC_DEV, false);
}

TEST_F_TIMEOUT(poll_notify, no_wake_source_poll_interval_ms_0_pollhup, MODE_TIMEOUT_S)
{
	if (has_wake_source())
		SKIP(return, "the device has an ACPI companion or an interrupt");
	check_hup(_metadata, &self->env, VMC_DEV, true);
}

TEST_F_TIMEOUT(poll_notify, acpi_notify_wakes_poll, WAKE_TIMEOUT_S)
{
	if (!has_wake_source())
		SKIP(return, NO_WAKE_SOURCE);
	check_woken(_metadata, &self->env, false, true);
}

TEST_F_TIMEOUT(poll_notify, acpi_notify_wakes_epoll_wait, WAKE_TIMEOUT_S)
{
	if (!has_wake_source())
		SKIP(return, NO_WAKE_SOURCE);
	check_woken(_metadata, &self->env, true, true);
}

/*
 * A second device on the same page with neither ACPI companion nor
 * interrupt (the rig module's platform device, shaped like a DT node
 * without "interrupts"): NOTIFICATION_PRESENT alone wakes nobody. The
 * teardown removes the device.
 */
TEST_F_TIMEOUT(poll_notify, unwired_second_dev_poll_interval_ms_0_pollhup, MODE_TIMEOUT_S)
{
	int ret;

	/* The platform device is the rig module's, there with the rig's host. */
	VMC_NEED_HOST();
	self->env.second_dev = true;
	ret = file_write(RIG_PLATFORM_PAGE, "Y");
	ASSERT_TRUE(!ret && wait_path(SECOND_DEV, true, VMC_SETTLE_MS))
		TH_LOG("no %s from the rig's platform device: %s", SECOND_DEV,
		       ret ? strerror(-ret) : "probe failed?");
	check_hup(_metadata, &self->env, SECOND_DEV, true);
}

VMC_HARNESS_MAIN
