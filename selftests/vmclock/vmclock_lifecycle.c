// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_lifecycle: unbind/bind and module unload with users around.
 * Each of LOOPS rounds opens /dev/vmclock0, maps it, leaves a child
 * blocked in poll() on it, unbinds the driver and binds it again. After the
 * unbind the blocked poller must return (bounded), and the old fd must fail
 * a read or report POLLHUP/POLLERR; the kernel must not taint itself with a
 * crash (D) or warning (W). Then rmmod with an fd open must fail with EBUSY
 * (the kernel spells it EWOULDBLOCK/EAGAIN) or succeed safely; after the
 * last user is gone rmmod works, and loading the module again brings the
 * devices back. The module file comes from $VMCLOCK_KO or the usual
 * /lib/modules places; without it the unload part is skipped.
 *
 * Host commands: none.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "tap.h"

#define LOOPS		20
#define POLLER_MS	3000	/* the child's own poll timeout */
#define CHILD_BOUND_MS	6000	/* the parent's bound on the child */

enum { CH_TIMEOUT, CH_POLLIN, CH_HUP, CH_ERROR };

static bool had_ptp;

/* First failure per property; checks are reported once after the loop. */
struct verdict {
	const char *name;
	bool failed;
	char why[200];
};

static void __attribute__((format(printf, 3, 4)))
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

		signal(SIGALRM, SIG_DFL);
		r = poll(&pfd, 1, POLLER_MS);
		if (r < 0)
			_exit(CH_ERROR);
		if (r == 0)
			_exit(CH_TIMEOUT);
		_exit(pfd.revents & (POLLHUP | POLLERR) ? CH_HUP : CH_POLLIN);
	}
	return pid;
}

static void run_loops(void)
{
	struct verdict unbind = { .name = "unbind with an open fd, a mapping and a poller succeeds" };
	struct verdict poller = { .name = "the blocked poller returns after unbind (no hang, no crash)" };
	struct verdict stale = { .name = "after unbind the old fd fails read() or reports POLLHUP/POLLERR" };
	struct verdict rebind = { .name = "bind brings /dev/vmclock0 (and the PTP clock) back" };
	struct verdict *all[] = { &unbind, &poller, &stale, &rebind };
	long pg = sysconf(_SC_PAGESIZE);
	char buf[8192];
	unsigned int i;
	int round;

	for (round = 1; round <= LOOPS; round++) {
		struct pollfd pfd;
		int fd, ret, status = 0;
		ssize_t n;
		void *map;
		pid_t pid;

		fd = open(VMC_DEV, O_RDONLY);
		if (fd < 0) {
			note(&rebind, round, "open: %s", strerror(errno));
			break;
		}
		map = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
		/* Read so the child's poll() blocks instead of seeing POLLIN. */
		if (map == MAP_FAILED || read(fd, buf, sizeof(buf)) <= 0) {
			note(&unbind, round, "mmap/read before unbind: %s",
			     strerror(errno));
			if (map != MAP_FAILED)
				munmap(map, pg);
			close(fd);
			break;
		}
		pid = start_poller(fd);
		sleep_ms(50);

		ret = vmc_unbind();
		if (ret)
			note(&unbind, round, "write to unbind: %s", strerror(-ret));
		else if (wait_path(VMC_DEV, false, VMC_SETTLE_MS))
			note(&unbind, round, "%s still present", VMC_DEV);

		ret = pid < 0 ? -ECHILD : wait_child(pid, CHILD_BOUND_MS, &status);
		if (ret)
			note(&poller, round, "poller %s", strerror(-ret));
		else if (!WIFEXITED(status) || WEXITSTATUS(status) == CH_ERROR)
			note(&poller, round, "poller %s",
			     WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) :
			     "poll() failed");

		errno = 0;
		n = read(fd, buf, sizeof(buf));
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		poll(&pfd, 1, 0);
		if (n >= 0 && !(pfd.revents & (POLLHUP | POLLERR)))
			note(&stale, round, "read() returned %zd and poll revents 0x%x",
			     n, (unsigned int)pfd.revents);

		ret = vmc_bind();
		if (ret)
			note(&rebind, round, "write to bind: %s", strerror(-ret));
		else if (!wait_path(VMC_DEV, true, VMC_SETTLE_MS))
			note(&rebind, round, "%s did not come back", VMC_DEV);
		else if (had_ptp && !wait_ptp(true, VMC_SETTLE_MS))
			note(&rebind, round, "PTP clock did not come back");

		munmap(map, pg);
		close(fd);
		if (rebind.failed)
			break;	/* nothing left to unbind */
	}
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		tap_check(!all[i]->failed, all[i]->name, "%s", all[i]->why);
}

static void run_unload(void)
{
	char ko[512], params[128];
	const char *name = "rmmod with an fd open fails with EBUSY/EWOULDBLOCK or is safe";
	uint64_t end;
	long taint0 = kernel_taint();
	int fd, ret;

	if (!vmc_module_path(ko, sizeof(ko))) {
		tap_skip(name, "module file not found (set VMCLOCK_KO)");
		tap_skip("rmmod without users, insmod again", "module file not found");
		return;
	}
	if (access("/sys/module/" VMC_MODULE "/initstate", F_OK)) {
		tap_skip(name, VMC_MODULE " is built in or not a module");
		tap_skip("rmmod without users, insmod again", "not a module");
		return;
	}
	vmc_module_params(params, sizeof(params));

	fd = open(VMC_DEV, O_RDONLY);
	if (fd < 0) {
		tap_fail(name, "open: %s", strerror(errno));
		return;
	}
	ret = vmc_module_unload();
	if (ret == -EBUSY || ret == -EWOULDBLOCK) {
		tap_pass(name);
	} else if (ret == 0) {
		char buf[256];
		ssize_t n;

		/* Unloaded under an open fd: the fd must still be safe. */
		n = read(fd, buf, sizeof(buf));
		tap_check(!(kernel_taint() & ~taint0 & TAINT_CRASH_BITS), name,
			  "unloaded with an fd open; read gave %zd; kernel now tainted %ld",
			  n, kernel_taint());
	} else {
		tap_fail(name, "delete_module: %s", strerror(-ret));
	}
	close(fd);

	if (access("/sys/module/" VMC_MODULE, F_OK) == 0) {
		/* The last fput may run a moment after close(): retry. */
		end = mono_ns() + 3000000000ULL;
		do {
			ret = vmc_module_unload();
		} while ((ret == -EWOULDBLOCK || ret == -EBUSY) &&
			 mono_ns() < end && (sleep_ms(50), true));
		tap_check(!ret && !wait_path(VMC_DEV, false, VMC_SETTLE_MS),
			  "rmmod without users succeeds and removes /dev/vmclock0",
			  "delete_module: %s", strerror(-ret));
	}
	ret = vmc_module_load(ko, params);
	tap_check(!ret && wait_path(VMC_DEV, true, VMC_SETTLE_MS) &&
		  (!had_ptp || wait_ptp(true, VMC_SETTLE_MS)),
		  "insmod again brings the devices back",
		  "finit_module(%s, \"%s\"): %s", ko, params,
		  ret ? strerror(-ret) : "devices missing");
}

int main(void)
{
	const char *why;
	long taint0;

	tap_start("vmclock_lifecycle: unbind/bind and unload with users");
	why = vmc_unavailable_reason();
	if (why)
		tap_skip_all("%s", why);
	watchdog_arm(600, "vmclock_lifecycle");
	if (!vmc_device_name() || !vmc_bound())
		tap_bail("driver not bound to a vmclock device");
	had_ptp = wait_ptp(true, 0);
	taint0 = kernel_taint();
	tap_diag("device %s, PTP clock %s, tainted %ld", vmc_device_name(),
		 had_ptp ? "present" : "absent", taint0);

	run_loops();
	run_unload();

	tap_check(!(kernel_taint() & ~taint0 & TAINT_CRASH_BITS),
		  "kernel not newly tainted by an oops (D) or warning (W)",
		  "tainted %ld, was %ld", kernel_taint(), taint0);
	return tap_finish();
}
