// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_uevent: one KOBJ_CHANGE uevent on the misc device vmclock0 when
 * the disruption marker or the VM generation counter changes, carrying
 * VMCLOCK_DISRUPTION_MARKER, VMCLOCK_SEQ_COUNT and (only with
 * VM_GEN_COUNTER_PRESENT) VMCLOCK_VM_GENERATION_COUNTER equal to the page;
 * none for an ordinary seq update (common.md); 20-digit values in full;
 * at most one per 100 ms under a flapping marker. The page is kept in timer
 * mode (no NOTIFICATION_PRESENT, poll_interval_ms > 0) so detection does
 * not depend on the host raising a Notify.
 *
 * Host commands: disrupt [--generation|--marker-only], set (flags,
 * time_esterror_nanosec, marker and generation,
 * the saved page at the end). Rebinds the driver when it changes flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "common.h"
#include "host.h"
#include "tap.h"

#define FIRST_BOUND_MS	5000	/* detection is one timer period away */
#define QUIET_MS	1000	/* how long we listen for more */
/*
 * With nobody waiting in poll() the driver looks at the page once a second
 * (VMCLOCK_IDLE_POLL_MS, documented); the slack is for the guest's vCPU
 * and the unbound worker getting a turn under TCG on a shared host.
 */
#define IDLE_POLL_MS	1000
#define SCHED_SLACK_MS	500

struct uev {
	unsigned int count;	/* matching events seen */
	uint64_t first_ns;	/* mono_ns() when the first arrived */
	bool has_marker, has_seq, has_gen;
	unsigned long long marker, seq, gen;
	char first[256];	/* header of the first match, for messages */
	bool last_has_marker;	/* the same of the last match */
	unsigned long long last_marker;
};

static int uevent_socket(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	int fd, sz = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
		    NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static void drain_socket(int fd)
{
	char buf[8192];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && !strcmp(s + a - b, tail);
}

/* A kernel uevent: "action@devpath\0KEY=VALUE\0...". */
static bool parse_match(const char *buf, size_t len, struct uev *u)
{
	const char *p = buf, *end = buf + len;
	bool change = false, misc = false, ours = false;
	bool hm = false, hs = false, hg = false;
	unsigned long long m = 0, s = 0, g = 0;

	if (len < 2 || !memchr(buf, '@', strnlen(buf, len)) ||
	    !strncmp(buf, "libudev", 7))
		return false;
	for (p += strnlen(p, end - p) + 1; p < end; p += strnlen(p, end - p) + 1) {
		if (!strcmp(p, "ACTION=change"))
			change = true;
		else if (!strcmp(p, "SUBSYSTEM=misc"))
			misc = true;
		else if (!strncmp(p, "DEVPATH=", 8))
			ours = ends_with(p, "/vmclock0");
		else if (!strncmp(p, "VMCLOCK_DISRUPTION_MARKER=", 26))
			hm = true, m = strtoull(p + 26, NULL, 10);
		else if (!strncmp(p, "VMCLOCK_SEQ_COUNT=", 18))
			hs = true, s = strtoull(p + 18, NULL, 10);
		else if (!strncmp(p, "VMCLOCK_VM_GENERATION_COUNTER=", 30))
			hg = true, g = strtoull(p + 30, NULL, 10);
	}
	if (!change || !misc || !ours)
		return false;
	u->last_has_marker = hm, u->last_marker = m;
	if (!u->count++) {
		snprintf(u->first, sizeof(u->first), "%s", buf);
		u->has_marker = hm, u->marker = m;
		u->has_seq = hs, u->seq = s;
		u->has_gen = hg, u->gen = g;
	}
	return true;
}

/*
 * Collects change uevents of vmclock0: waits up to @first_ms for the first
 * (0: do not wait for one), then QUIET_MS more for any further ones.
 */
static void collect(int fd, unsigned int first_ms, struct uev *u)
{
	uint64_t end = mono_ns() + (uint64_t)(first_ms ? first_ms : QUIET_MS) * 1000000ULL;
	bool extended = !first_ms;
	char buf[8192];

	memset(u, 0, sizeof(*u));
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = (int64_t)(end - mono_ns()) / 1000000;
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (parse_match(buf, (size_t)n, u) && !extended) {
			u->first_ns = mono_ns();
			extended = true;
			end = mono_ns() + QUIET_MS * 1000000ULL;
		}
	}
}

static bool snap_now(struct vmclock_snap *s)
{
	struct vmc_map m = { .fd = -1 };
	bool ok = !vmc_map_open(&m) && !vmc_snap(&m, s, false);

	vmc_map_close(&m);
	return ok;
}

static bool set_flags_rebind(u64 flags)
{
	if (host_cmd("set flags=%llu", (unsigned long long)flags)) {
		tap_diag("%s", host_error());
		return false;
	}
	return !vmc_rebind() && wait_path(VMC_DEV, true, VMC_SETTLE_MS);
}

/* disrupt, then the uevent against the page; @gen: the flag is set. */
static void check_disrupt(int fd, bool gen, const char *tag)
{
	struct vmclock_snap before, after;
	uint64_t changed, late_ms;
	struct uev u;
	char name[160];
	int ret;

	if (!snap_now(&before)) {
		tap_fail(tag, "cannot read the page");
		return;
	}
	drain_socket(fd);
	ret = host_cmd("%s", gen ? "disrupt --generation" : "disrupt");
	changed = mono_ns();	/* the host has written the page by now */
	collect(fd, FIRST_BOUND_MS, &u);
	snprintf(name, sizeof(name), "%s: host changed the marker%s", tag,
		 gen ? " and the generation" : "");
	if (!tap_check(!ret && snap_now(&after) &&
		       after.disruption_marker != before.disruption_marker &&
		       (!gen || after.vm_generation_counter !=
				before.vm_generation_counter), name,
		       "%s", ret ? host_error() : "page values unchanged"))
		return;

	snprintf(name, sizeof(name), "%s: exactly one change uevent for vmclock0", tag);
	if (!tap_check(u.count == 1, name, "saw %u within %d+%d ms", u.count,
		       FIRST_BOUND_MS, QUIET_MS))
		if (!u.count)
			return;
	tap_diag("uevent %s: marker %llu seq %llu gen %s%llu", u.first,
		 u.marker, u.seq, u.has_gen ? "" : "(absent) ", u.gen);
	late_ms = u.first_ns > changed ? (u.first_ns - changed) / 1000000 : 0;
	snprintf(name, sizeof(name), "%s: the uevent came within the idle period (%d ms), nobody waiting",
		 tag, IDLE_POLL_MS);
	tap_check(late_ms <= IDLE_POLL_MS + SCHED_SLACK_MS, name,
		  "%llu ms after the host's change (at most %d + %d)",
		  (unsigned long long)late_ms, IDLE_POLL_MS, SCHED_SLACK_MS);
	tap_diag("%s: uevent %llu ms after the change", tag,
		 (unsigned long long)late_ms);

	snprintf(name, sizeof(name), "%s: VMCLOCK_DISRUPTION_MARKER equals the page", tag);
	tap_check(u.has_marker && u.marker == after.disruption_marker, name,
		  "uevent %s%llu, page %llu", u.has_marker ? "" : "(absent) ",
		  u.marker, (unsigned long long)after.disruption_marker);
	/*
	 * The host's disrupt is one transaction for the new marker and one that
	 * ends the unreliable window: the uevent carries the seq at which the
	 * driver saw the change, which is after the old and at most the new.
	 */
	snprintf(name, sizeof(name), "%s: VMCLOCK_SEQ_COUNT within the disruption's updates", tag);
	tap_check(u.has_seq && u.seq > before.seq && u.seq <= after.seq && !(u.seq & 1),
		  name, "uevent %s%llu, page before %u after %u",
		  u.has_seq ? "" : "(absent) ", u.seq, before.seq, after.seq);
	if (gen) {
		snprintf(name, sizeof(name), "%s: VMCLOCK_VM_GENERATION_COUNTER equals the page", tag);
		tap_check(u.has_gen && u.gen == after.vm_generation_counter,
			  name, "uevent %s%llu, page %llu",
			  u.has_gen ? "" : "(absent) ", u.gen,
			  (unsigned long long)after.vm_generation_counter);
	} else {
		snprintf(name, sizeof(name), "%s: no VMCLOCK_VM_GENERATION_COUNTER", tag);
		tap_check(!u.has_gen, name, "present: %llu", u.gen);
	}
}

/* 20-digit values must arrive whole: U64_MAX in both variables. */
static void check_max_values(int fd)
{
	const char *name = "U64_MAX marker and generation: one change uevent";
	struct uev u;

	drain_socket(fd);
	if (host_cmd("set disruption_marker=%llu vm_generation_counter=%llu",
		     (unsigned long long)UINT64_MAX,
		     (unsigned long long)UINT64_MAX)) {
		tap_fail(name, "%s", host_error());
		return;
	}
	collect(fd, FIRST_BOUND_MS, &u);
	if (!tap_check(u.count == 1, name, "saw %u", u.count) && !u.count)
		return;
	tap_check(u.has_gen && u.gen == UINT64_MAX,
		  "VMCLOCK_VM_GENERATION_COUNTER=18446744073709551615 (U64_MAX) in full",
		  "uevent %s%llu", u.has_gen ? "" : "(absent) ", u.gen);
	tap_check(u.has_marker && u.marker == UINT64_MAX,
		  "VMCLOCK_DISRUPTION_MARKER=18446744073709551615 (U64_MAX) in full",
		  "uevent %s%llu", u.has_marker ? "" : "(absent) ", u.marker);
}

/*
 * A hypervisor flapping disruption_marker, seen by a 1 ms polling timer:
 * at most one uevent per 100 ms (plus the first), the last value always
 * delivered.
 */
#define FLAPS		30
#define FLAP_SLEEP_MS	10
#define COALESCE_MS	100

static void check_flapping(int fd)
{
	const char *name = "marker flapping: at most one uevent per 100 ms";
	struct epoll_event ev = { .events = EPOLLIN };
	struct vmclock_snap after;
	char interval[32] = "100";
	uint64_t t0, ms, bound;
	int i, ret = 0, waiter, ep;
	struct uev u;

	/*
	 * A reader registered with epoll waits on the device throughout, so
	 * the detector polls at poll_interval_ms and sees every flap.
	 */
	waiter = open(VMC_DEV, O_RDONLY);
	ep = epoll_create1(0);
	if (waiter < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, waiter, &ev)) {
		tap_fail(name, "cannot register a waiter: %s", strerror(errno));
		goto out;
	}
	param_read("poll_interval_ms", interval, sizeof(interval));
	if (param_write("poll_interval_ms", "1")) {
		tap_fail(name, "cannot set poll_interval_ms=1");
		goto out;
	}
	drain_socket(fd);
	t0 = mono_ns();
	/* Spread over several gaps: one per gap, not one in total. */
	for (i = 0; i < FLAPS && !ret; i++) {
		ret = host_cmd("disrupt --marker-only");
		sleep_ms(FLAP_SLEEP_MS);
	}
	ms = (mono_ns() - t0) / 1000000;
	collect(fd, FIRST_BOUND_MS, &u);
	param_write("poll_interval_ms", interval);
	if (ret) {
		tap_fail(name, "%s", host_error());
		goto out;
	}
	/* The first at once, then one per started 100 ms, the last included. */
	bound = 2 + ms / COALESCE_MS;
	tap_check(u.count >= 1 && u.count <= bound, name,
		  "%u uevents for %d marker changes in %llu ms (at most %llu allowed)",
		  u.count, FLAPS, (unsigned long long)ms, (unsigned long long)bound);
	tap_diag("flapping: %u uevents for %d changes in %llu ms", u.count,
		 FLAPS, (unsigned long long)ms);
	tap_check(snap_now(&after) && u.last_has_marker &&
		  u.last_marker == after.disruption_marker,
		  "marker flapping: the last uevent carries the final marker",
		  "last uevent %s%llu, page %llu",
		  u.last_has_marker ? "" : "(absent) ", u.last_marker,
		  (unsigned long long)after.disruption_marker);
out:
	if (ep >= 0)
		close(ep);
	if (waiter >= 0)
		close(waiter);
}

static void check_ordinary(int fd)
{
	struct vmclock_snap before, after;
	struct uev u;
	int ret;

	snap_now(&before);
	drain_socket(fd);
	ret = host_cmd("set time_esterror_nanosec=5");
	if (!tap_check(!ret && snap_now(&after) && after.seq != before.seq,
		       "ordinary update: host changed seq_count",
		       "%s", ret ? host_error() : "seq_count unchanged"))
		return;
	collect(fd, 0, &u);
	tap_check(u.count == 0, "ordinary update: no change uevent within 1 s",
		  "saw %u: %s", u.count, u.first);
}

int main(void)
{
	struct vmclock_abi saved;
	struct vmclock_snap s;
	char interval[32] = "";
	const char *why;
	bool have_saved;
	u64 flags;
	int fd;

	tap_start("vmclock_uevent: KOBJ_CHANGE on disruption and generation changes");
	why = vmc_unavailable_reason();
	if (why)
		tap_skip_all("%s", why);
	watchdog_arm(240, "vmclock_uevent");
	fd = uevent_socket();
	if (fd < 0)
		tap_bail("NETLINK_KOBJECT_UEVENT socket: %s", strerror(-fd));
	have_saved = !vmc_save_page(&saved, NULL);
	if (!snap_now(&s))
		tap_bail("cannot read the page");
	param_read("poll_interval_ms", interval, sizeof(interval));
	if (!strcmp(interval, "0") && param_write("poll_interval_ms", "100"))
		tap_bail("poll_interval_ms is 0 and cannot be changed");

	/* Timer mode, generation counter advertised. */
	flags = (s.flags & ~VMCLOCK_FLAG_NOTIFICATION_PRESENT) |
		VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	if (flags != s.flags && !set_flags_rebind(flags))
		tap_bail("cannot set flags 0x%llx and rebind",
			 (unsigned long long)flags);
	check_disrupt(fd, true, "disrupt --generation");
	check_max_values(fd);
	check_ordinary(fd);
	check_flapping(fd);

	/* Without VM_GEN_COUNTER_PRESENT the variable must be left out. */
	flags &= ~VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	if (set_flags_rebind(flags))
		check_disrupt(fd, false, "disrupt, no generation flag");
	else
		tap_fail("disrupt, no generation flag", "cannot set flags and rebind");

	if (!strcmp(interval, "0"))
		param_write("poll_interval_ms", "0");
	if (have_saved && host_restore_page(&saved))
		tap_diag("restoring the page failed: %s", host_error());
	if (vmc_rebind() || !wait_path(VMC_DEV, true, VMC_SETTLE_MS))
		tap_diag("rebinding with the restored page failed");
	close(fd);
	return tap_finish();
}
