// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_poll: poll()/epoll on /dev/vmclock0 as common.md fixes it.
 * POLLIN|POLLRDNORM while seq_count differs from what this fd last read
 * (0 at open), cleared by read(); a blocked waiter is woken by the polling
 * timer (page without NOTIFICATION_PRESENT) and by a real ACPI Notify (page
 * with it); POLLHUP whenever nothing can wake the file: poll_interval_ms=0
 * and either no NOTIFICATION_PRESENT or no Notify/interrupt wired up. Every wait is bounded: a broken driver fails a check.
 *
 * Host commands: set (flags, time_esterror_nanosec, and the saved page at
 * the end), notify. Rebinds the driver to switch notification modes.
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

#include "common.h"
#include "host.h"
#include "tap.h"

#define WAKE_DELAY_MS	400	/* the child changes the page after this */
#define BLOCKED_MIN_MS	300	/* a waiter returning earlier never blocked */
#define WAKE_BOUND_MS	5000
/*
 * In timer mode a reader that starts waiting puts the detector back on
 * poll_interval_ms at once (it looks at the page only once a second while
 * nobody waits): woken within one interval of the update. The slack is for
 * the host's command and the guest's scheduling under TCG.
 */
#define WAKE_SLACK_MS	200

static char saved_interval[32] = "100";
static unsigned long long esterror = 1000;	/* distinct value per update */

#define RIG_PLATFORM_PAGE "/sys/module/vmclock_rig/parameters/platform_page"
#define SECOND_DEV	"/dev/vmclock1"

static int open_path(const char *path)
{
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int open_dev(void)
{
	return open_path(VMC_DEV);
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

/* After a read, no POLLIN: retried when the host moved seq meanwhile. */
static void check_cleared(int fd, const char *name)
{
	short rev = 0;
	int i;

	for (i = 0; i < 3; i++) {
		if (!drain(fd)) {
			tap_fail(name, "read failed: %s", strerror(errno));
			return;
		}
		rev = poll_now(fd, 0);
		if (rev >= 0 && !(rev & POLLIN))
			break;
		sleep_ms(200);
	}
	tap_check(rev >= 0 && !(rev & (POLLIN | POLLRDNORM)), name,
		  "revents 0x%x after read()", (unsigned int)(unsigned short)rev);
}

static void check_initial(void)
{
	int fd = open_dev();
	short rev;

	if (fd < 0) {
		tap_fail("fresh fd: POLLIN|POLLRDNORM", "open: %s", strerror(errno));
		return;
	}
	rev = poll_now(fd, 0);
	tap_check(rev > 0 && (rev & POLLIN) && (rev & POLLRDNORM),
		  "fresh fd: POLLIN|POLLRDNORM (seq differs from 0)",
		  "revents 0x%x", (unsigned int)(unsigned short)rev);
	check_cleared(fd, "after read(): no POLLIN");
	close(fd);
}

/*
 * Blocks in poll() or epoll_wait() while a child changes the page after
 * WAKE_DELAY_MS (and optionally raises a Notify). Must wake with POLLIN
 * after having blocked, within WAKE_BOUND_MS.
 */
static void check_wake(const char *name, bool use_epoll, bool notify,
		       unsigned int interval_ms)
{
	char set[64], bound[96];
	const char *cmds[] = { set, notify ? "notify" : NULL, NULL };
	uint64_t t0, ms;
	int fd, ep = -1, ret, status = 0;
	short rev = 0;
	pid_t pid;

	fd = open_dev();
	if (fd < 0 || !drain(fd)) {
		tap_fail(name, "open/read: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	if (use_epoll) {
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
			tap_fail(name, "epoll setup: %s", strerror(errno));
			goto out;
		}
		if (epoll_wait(ep, &ev, 1, 0) != 0) {
			tap_fail(name, "event pending right after read()");
			goto out;
		}
	}
	snprintf(set, sizeof(set), "set time_esterror_nanosec=%llu", ++esterror);
	pid = host_cmds_later(WAKE_DELAY_MS, cmds);
	if (pid < 0) {
		tap_fail(name, "fork: %s", strerror(-pid));
		goto out;
	}
	t0 = mono_ns();
	if (use_epoll) {
		struct epoll_event ev;

		ret = epoll_wait(ep, &ev, 1, WAKE_BOUND_MS);
		rev = ret == 1 ? (short)ev.events : ret;
	} else {
		rev = poll_now(fd, WAKE_BOUND_MS);
	}
	ms = (mono_ns() - t0) / 1000000;
	ret = wait_child(pid, 30000, &status);
	if (ret || !WIFEXITED(status) || WEXITSTATUS(status)) {
		tap_fail(name, "host command in the child failed (see above)");
		goto out;
	}
	if (!tap_check(rev > 0 && (rev & POLLIN) && ms >= BLOCKED_MIN_MS, name,
		       "revents 0x%x after %llu ms (needs POLLIN after >= %d ms)",
		       (unsigned int)(unsigned short)rev, (unsigned long long)ms,
		       BLOCKED_MIN_MS) || !interval_ms)
		goto out;
	snprintf(bound, sizeof(bound), "%.60s: within poll_interval_ms", name);
	tap_check(ms <= WAKE_DELAY_MS + interval_ms + WAKE_SLACK_MS, bound,
		  "woken %llu ms after starting to wait, the update came after %d ms; interval %u ms",
		  (unsigned long long)ms, WAKE_DELAY_MS, interval_ms);
	tap_diag("%s: woken after %llu ms", name, (unsigned long long)ms);
out:
	if (ep >= 0)
		close(ep);
	close(fd);
}

static void check_hup_path(const char *path, bool want_hup, const char *name)
{
	int fd = open_path(path);
	uint64_t t0;
	short rev;

	if (fd < 0 || !drain(fd)) {
		tap_fail(name, "open/read: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	t0 = mono_ns();
	/* POLLHUP is reported at once; the timeout only bounds a hang. */
	rev = poll_now(fd, want_hup ? 2000 : 0);
	tap_check(rev >= 0 && !!(rev & POLLHUP) == want_hup, name,
		  "revents 0x%x after %llu ms", (unsigned int)(unsigned short)rev,
		  (unsigned long long)((mono_ns() - t0) / 1000000));
	close(fd);
}

static void check_hup(bool want_hup, const char *name)
{
	check_hup_path(VMC_DEV, want_hup, name);
}

/*
 * A second device on the same page with neither ACPI companion nor
 * interrupt (the rig module's platform device, shaped like a DT node
 * without "interrupts"): NOTIFICATION_PRESENT alone wakes nobody.
 */
static void check_no_wake_source(void)
{
	const char *name = "NOTIFICATION_PRESENT but no Notify or IRQ wired, poll_interval_ms=0: POLLHUP";
	int ret;

	ret = file_write(RIG_PLATFORM_PAGE, "Y");
	if (ret || !wait_path(SECOND_DEV, true, VMC_SETTLE_MS)) {
		tap_fail(name, "no %s from the rig's platform device: %s",
			 SECOND_DEV, ret ? strerror(-ret) : "probe failed?");
	} else {
		check_hup_path(SECOND_DEV, true, name);
	}
	file_write(RIG_PLATFORM_PAGE, "N");
	if (wait_path(SECOND_DEV, false, VMC_SETTLE_MS))
		tap_diag("%s still present after removing the platform device", SECOND_DEV);
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

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]) && !found; i++) {
		if (!glob(pats[i], 0, NULL, &g))
			found = g.gl_pathc > 0;
		globfree(&g);
	}
	return found;
}

static int set_interval(const char *val)
{
	int ret = param_write("poll_interval_ms", val);

	if (ret)
		tap_diag("poll_interval_ms=%s: %s", val, strerror(-ret));
	return ret;
}

/* Sets the page's flags and rebinds so the driver probes the new mode. */
static bool page_flags_rebind(u64 flags)
{
	int ret;

	if (host_cmd("set flags=%llu", (unsigned long long)flags)) {
		tap_diag("%s", host_error());
		return false;
	}
	ret = vmc_rebind();
	if (ret) {
		tap_diag("rebind failed: %s", strerror(-ret));
		return false;
	}
	return wait_path(VMC_DEV, true, VMC_SETTLE_MS);
}

int main(void)
{
	struct vmc_map m = { .fd = -1 };
	struct vmclock_snap s;
	struct vmclock_abi saved;
	const char *why;
	unsigned int interval;
	u64 flags;
	bool have_saved, notify_mode;

	tap_start("vmclock_poll: poll/epoll on /dev/vmclock0");
	why = vmc_unavailable_reason();
	if (why)
		tap_skip_all("%s", why);
	watchdog_arm(300, "vmclock_poll");
	param_read("poll_interval_ms", saved_interval, sizeof(saved_interval));
	if (!strcmp(saved_interval, "0"))
		strcpy(saved_interval, "100");
	have_saved = !vmc_save_page(&saved, NULL);
	if (vmc_map_open(&m) || vmc_snap(&m, &s, false))
		tap_bail("cannot map and read %s", VMC_DEV);
	vmc_map_close(&m);
	flags = s.flags;
	tap_diag("seq %u flags 0x%llx poll_interval_ms %s", s.seq,
		 (unsigned long long)flags, saved_interval);

	/* Timer mode: a page without NOTIFICATION_PRESENT. */
	if (set_interval(saved_interval))
		tap_bail("cannot write " VMC_PARAM_DIR "/poll_interval_ms");
	if (flags & VMCLOCK_FLAG_NOTIFICATION_PRESENT) {
		flags &= ~VMCLOCK_FLAG_NOTIFICATION_PRESENT;
		if (!page_flags_rebind(flags))
			tap_bail("cannot switch the page to timer mode");
	}
	if (s.seq == 0)
		tap_skip("fresh fd: POLLIN|POLLRDNORM", "page seq_count is 0");
	else
		check_initial();
	check_hup(false, "timer mode: no POLLHUP");
	interval = strtoul(saved_interval, NULL, 10);
	check_wake("timer mode: poll() wakes with POLLIN on a host update", false, false, interval);
	check_wake("timer mode: epoll_wait() wakes with EPOLLIN on a host update", true, false,
		   interval);

	if (!set_interval("0")) {
		check_hup(true, "no notification, poll_interval_ms=0: POLLHUP");
		set_interval(saved_interval);
		check_hup(false, "poll_interval_ms restored: no POLLHUP");
		check_wake("poll_interval_ms restored: timer wakes poll() again", false, false, 0);
	} else {
		tap_fail("no notification, poll_interval_ms=0: POLLHUP",
			 "cannot write poll_interval_ms at run time");
	}

	/* Notify mode: with the timer off, only the ACPI Notify can wake. */
	notify_mode = page_flags_rebind(flags | VMCLOCK_FLAG_NOTIFICATION_PRESENT) &&
		      !set_interval("0");
	if (notify_mode && !has_wake_source()) {
		check_hup(true, "NOTIFICATION_PRESENT, device without Notify or IRQ, poll_interval_ms=0: POLLHUP");
		tap_skip("NOTIFICATION_PRESENT: ACPI Notify wakes poll()",
			 "the device has neither an ACPI companion nor an interrupt");
		tap_skip("NOTIFICATION_PRESENT: ACPI Notify wakes epoll_wait()",
			 "the device has neither an ACPI companion nor an interrupt");
		check_no_wake_source();
	} else if (notify_mode) {
		check_hup(false, "NOTIFICATION_PRESENT, poll_interval_ms=0: no POLLHUP");
		check_wake("NOTIFICATION_PRESENT: ACPI Notify wakes poll()", false, true, 0);
		check_wake("NOTIFICATION_PRESENT: ACPI Notify wakes epoll_wait()", true, true, 0);
		check_no_wake_source();
	} else {
		tap_fail("NOTIFICATION_PRESENT: ACPI Notify wakes poll()",
			 "could not set the flag, rebind and disable the timer");
	}

	set_interval(saved_interval);
	if (have_saved && host_restore_page(&saved))
		tap_diag("restoring the page failed: %s", host_error());
	if (vmc_rebind() || !wait_path(VMC_DEV, true, VMC_SETTLE_MS))
		tap_diag("rebinding with the restored page failed");
	return tap_finish();
}
