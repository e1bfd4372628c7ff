// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_uevent: one KOBJ_CHANGE uevent on the misc device vmclock0 when
 * the disruption marker or the VM generation counter changes, carrying
 * VMCLOCK_DISRUPTION_MARKER, VMCLOCK_SEQ_COUNT and (only with
 * VM_GEN_COUNTER_PRESENT) VMCLOCK_VM_GENERATION_COUNTER equal to the page;
 * none for an ordinary seq update (common.md); 20-digit values in full;
 * at most one per 100 ms under a flapping marker.
 *
 * A kselftest harness program. Every test listens on its own uevent socket
 * and makes the page change itself, with the page kept in timer mode (no
 * NOTIFICATION_PRESENT, poll_interval_ms > 0) so that detection does not
 * depend on the host raising a Notify; the setup rebinds the driver when
 * it changes the flags. The teardown puts poll_interval_ms and the page
 * back and rebinds the driver, so the next test finds the page as it was
 * and no uevent for the restore is left to arrive in its window. The rig
 * stops the host's steady page updates around this program
 * (tests/vm/guest/lib.sh driver_selftests).
 *
 * Host commands: disrupt [--generation|--marker-only], set (flags,
 * time_esterror_nanosec, marker and generation, the saved page in every
 * teardown).
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

#include "vmc_harness.h"

#define FIRST_BOUND_MS	5000	/* detection is one timer period away */
#define QUIET_MS	1000	/* how long we listen for more */
/*
 * With nobody waiting in poll() the driver looks at the page once a second
 * (VMCLOCK_IDLE_POLL_MS, documented); the slack is for the guest's vCPU
 * and the unbound worker getting a turn under TCG on a shared host.
 */
#define IDLE_POLL_MS	1000
#define SCHED_SLACK_MS	500

/*
 * Harness timeouts (s). A test runs well under 15 s, but a host command
 * that fails waits for the rig's 20 s request timeout, and setup, test and
 * teardown each send one: the bound lets such a test end with its own
 * message and its teardown instead of being killed. Flapping sends 30
 * commands, each a mailbox round trip under TCG.
 */
#define UEVENT_TIMEOUT	90
#define FLAP_TIMEOUT	150

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

/* "KEY=VALUE" with @key: the value, and true. */
static bool var_u64(const char *p, const char *key, bool *has,
		    unsigned long long *val)
{
	size_t n = strlen(key);

	if (strncmp(p, key, n) || p[n] != '=')
		return false;
	*has = true;
	*val = strtoull(p + n + 1, NULL, 10);
	return true;
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
		else if (!var_u64(p, "VMCLOCK_DISRUPTION_MARKER", &hm, &m) &&
			 !var_u64(p, "VMCLOCK_SEQ_COUNT", &hs, &s))
			var_u64(p, "VMCLOCK_VM_GENERATION_COUNTER", &hg, &g);
	}
	if (!change || !misc || !ours)
		return false;
	u->last_has_marker = hm;
	u->last_marker = m;
	if (!u->count++) {
		snprintf(u->first, sizeof(u->first), "%s", buf);
		u->has_marker = hm;
		u->marker = m;
		u->has_seq = hs;
		u->seq = s;
		u->has_gen = hg;
		u->gen = g;
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

static const char *absent(bool present)
{
	return present ? "" : "(absent) ";
}

/*
 * What every test starts from: a uevent socket, the page as found (to put
 * back), poll_interval_ms as found, and the page in timer mode with the
 * generation counter advertised or not.
 */
struct uev_env {
	int fd;			/* NETLINK_KOBJECT_UEVENT socket */
	struct vmclock_abi saved;
	char interval[32];	/* poll_interval_ms as found; "" if none */
};

/*
 * Puts poll_interval_ms and the page back; the rebind makes the restored
 * page the driver's starting point, so no uevent for it is left to come.
 */
static void env_put_back(struct __test_metadata *_metadata, struct uev_env *e)
{
	char now[32] = "";
	int ret;

	if (e->interval[0] && !param_read("poll_interval_ms", now, sizeof(now)) &&
	    strcmp(now, e->interval)) {
		ret = param_write("poll_interval_ms", e->interval);
		EXPECT_EQ(0, ret) TH_LOG("restoring poll_interval_ms=%s: %s",
					 e->interval, strerror(-ret));
	}
	ret = host_restore_page(&e->saved);
	EXPECT_EQ(0, ret) TH_LOG("restoring the page failed: %s", host_error());
	ret = vmc_rebind_settled();
	EXPECT_EQ(0, ret) TH_LOG("rebinding with the restored page failed: %s%s",
				 ret == -ETIMEDOUT ? "no " : strerror(-ret),
				 ret == -ETIMEDOUT ? VMC_DEV : "");
}

static void env_setup(struct __test_metadata *_metadata, struct uev_env *e,
		      bool gen)
{
	struct vmclock_snap s;
	char why[600] = "";
	u64 flags;
	int ret;

	e->fd = uevent_socket();
	ASSERT_LE(0, e->fd) TH_LOG("NETLINK_KOBJECT_UEVENT socket: %s",
				   strerror(-e->fd));
	/* Every teardown restores the page: without a copy, no test. */
	ret = vmc_save_page(&e->saved, NULL);
	ASSERT_EQ(0, ret) TH_LOG("cannot save the page: %s", strerror(-ret));
	ASSERT_TRUE(snap_now(&s)) TH_LOG("cannot read the page");
	e->interval[0] = '\0';
	param_read("poll_interval_ms", e->interval, sizeof(e->interval));
	if (!strcmp(e->interval, "0")) {
		ret = param_write("poll_interval_ms", "100");
		ASSERT_EQ(0, ret) TH_LOG("poll_interval_ms is 0 and cannot be changed");
	}

	/* Timer mode; the generation counter as the test wants it. */
	flags = s.flags & ~VMCLOCK_FLAG_NOTIFICATION_PRESENT;
	if (gen)
		flags |= VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	else
		flags &= ~VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;
	if (flags == s.flags)
		return;
	if (host_cmd("set flags=%llu", (unsigned long long)flags))
		snprintf(why, sizeof(why), "%s", host_error());
	else if (vmc_rebind_settled())
		snprintf(why, sizeof(why), "rebind failed or no %s", VMC_DEV);
	/* No teardown follows a failed setup: undo here. */
	if (why[0])
		env_put_back(_metadata, e);
	ASSERT_FALSE(why[0]) TH_LOG("cannot set flags 0x%llx and rebind: %s",
				    (unsigned long long)flags, why);
}

static void env_teardown(struct __test_metadata *_metadata, struct uev_env *e)
{
	env_put_back(_metadata, e);
	close(e->fd);
}

/*
 * The host's disrupt and the page around it. gen_flag: the page advertises
 * the generation counter and the host changes it too; no_gen_flag: neither.
 */
struct disruption {
	struct vmclock_snap before, after;
	bool after_ok;
	int ret;		/* the host's disrupt */
	uint64_t changed;	/* mono_ns() once the host had written the page */
	struct uev u;
};

FIXTURE(disrupt) {
	struct uev_env env;
	struct disruption d;
};

FIXTURE_VARIANT(disrupt) {
	bool gen;
};

FIXTURE_VARIANT_ADD(disrupt, gen_flag) {
	.gen = true,
};

FIXTURE_VARIANT_ADD(disrupt, no_gen_flag) {
	.gen = false,
};

FIXTURE_SETUP(disrupt)
{
	VMC_NEED_HOST();
	env_setup(_metadata, &self->env, variant->gen);
}

FIXTURE_TEARDOWN(disrupt)
{
	env_teardown(_metadata, &self->env);
}

/* disrupt, then (@listen) the uevents that follow, then the page. */
static void do_disrupt(struct __test_metadata *_metadata, struct uev_env *e,
		       bool gen, bool listen, struct disruption *d)
{
	ASSERT_TRUE(snap_now(&d->before)) TH_LOG("cannot read the page");
	drain_socket(e->fd);
	d->ret = host_cmd("%s", gen ? "disrupt --generation" : "disrupt");
	d->changed = mono_ns();	/* the host has written the page by now */
	if (listen)
		collect(e->fd, FIRST_BOUND_MS, &d->u);
	d->after_ok = snap_now(&d->after);
}

static bool page_changed(const struct disruption *d, bool gen)
{
	return !d->ret && d->after_ok &&
	       d->after.disruption_marker != d->before.disruption_marker &&
	       (!gen || d->after.vm_generation_counter !=
			d->before.vm_generation_counter);
}

#define CHANGED_WHAT(gen)	((gen) ? "the marker and the generation" : "the marker")
#define CHANGE_FAILURE(d)	((d)->ret ? host_error() : "page values unchanged")

/* For the tests of the uevents: the host did change the page. */
static void disrupted(struct __test_metadata *_metadata, struct uev_env *e,
		      bool gen, struct disruption *d)
{
	do_disrupt(_metadata, e, gen, true, d);
	ASSERT_TRUE(page_changed(d, gen))
		TH_LOG("want the host to change %s: %s", CHANGED_WHAT(gen),
		       CHANGE_FAILURE(d));
}

/* For the tests of the uevent's contents: there is one to look at. */
static void disrupted_with_uevent(struct __test_metadata *_metadata,
				  struct uev_env *e, bool gen,
				  struct disruption *d)
{
	disrupted(_metadata, e, gen, d);
	ASSERT_NE(0U, d->u.count)
		TH_LOG("no change uevent for vmclock0 within %d+%d ms",
		       FIRST_BOUND_MS, QUIET_MS);
}

TEST_F_TIMEOUT(disrupt, host_changes_page, UEVENT_TIMEOUT)
{
	struct disruption *d = &self->d;

	do_disrupt(_metadata, &self->env, variant->gen, false, d);
	EXPECT_TRUE(page_changed(d, variant->gen))
		TH_LOG("want the host to change %s: %s",
		       CHANGED_WHAT(variant->gen), CHANGE_FAILURE(d));
}

TEST_F_TIMEOUT(disrupt, one_change_uevent, UEVENT_TIMEOUT)
{
	struct uev *u = &self->d.u;

	disrupted(_metadata, &self->env, variant->gen, &self->d);
	if (u->count)
		TH_LOG("uevent %s: marker %llu seq %llu gen %s%llu", u->first,
		       u->marker, u->seq, absent(u->has_gen), u->gen);
	EXPECT_EQ(1U, u->count)
		TH_LOG("want exactly one change uevent for vmclock0: saw %u within %d+%d ms",
		       u->count, FIRST_BOUND_MS, QUIET_MS);
}

TEST_F_TIMEOUT(disrupt, uevent_within_idle_period, UEVENT_TIMEOUT)
{
	struct disruption *d = &self->d;
	uint64_t late_ms;

	disrupted_with_uevent(_metadata, &self->env, variant->gen, d);
	late_ms = d->u.first_ns > d->changed ?
		  (d->u.first_ns - d->changed) / 1000000 : 0;
	TH_LOG("uevent %llu ms after the change", (unsigned long long)late_ms);
	/* Nobody waits in poll(): the driver looks once per idle period. */
	EXPECT_TRUE(late_ms <= IDLE_POLL_MS + SCHED_SLACK_MS)
		TH_LOG("%llu ms after the host's change (at most %d + %d)",
		       (unsigned long long)late_ms, IDLE_POLL_MS, SCHED_SLACK_MS);
}

TEST_F_TIMEOUT(disrupt, marker_equals_page, UEVENT_TIMEOUT)
{
	struct disruption *d = &self->d;
	struct uev *u = &d->u;

	disrupted_with_uevent(_metadata, &self->env, variant->gen, d);
	EXPECT_TRUE(u->has_marker && u->marker == d->after.disruption_marker)
		TH_LOG("want VMCLOCK_DISRUPTION_MARKER as the page: uevent %s%llu, page %llu",
		       absent(u->has_marker), u->marker,
		       (unsigned long long)d->after.disruption_marker);
}

/*
 * The host's disrupt is one transaction for the new marker and one that
 * ends the unreliable window: the uevent carries the seq at which the
 * driver saw the change, which is after the old and at most the new.
 */
TEST_F_TIMEOUT(disrupt, seq_within_disruption, UEVENT_TIMEOUT)
{
	struct disruption *d = &self->d;
	struct uev *u = &d->u;

	disrupted_with_uevent(_metadata, &self->env, variant->gen, d);
	EXPECT_TRUE(u->has_seq && u->seq > d->before.seq &&
		    u->seq <= d->after.seq && !(u->seq & 1))
		TH_LOG("uevent %s%llu, page before %u after %u (want even, in (before, after])",
		       absent(u->has_seq), u->seq, d->before.seq, d->after.seq);
}

/* With the flag: equal to the page; without: left out. */
TEST_F_TIMEOUT(disrupt, gen_counter_follows_flag, UEVENT_TIMEOUT)
{
	struct disruption *d = &self->d;
	struct uev *u = &d->u;

	disrupted_with_uevent(_metadata, &self->env, variant->gen, d);
	if (variant->gen) {
		EXPECT_TRUE(u->has_gen && u->gen == d->after.vm_generation_counter)
			TH_LOG("want the page's generation: uevent %s%llu, page %llu",
			       absent(u->has_gen), u->gen,
			       (unsigned long long)d->after.vm_generation_counter);
	} else {
		EXPECT_FALSE(u->has_gen)
			TH_LOG("want no VMCLOCK_VM_GENERATION_COUNTER; present: %llu",
			       u->gen);
	}
}

/* 20-digit values must arrive whole: U64_MAX in both variables. */
FIXTURE(u64_max) {
	struct uev_env env;
	struct uev u;
};

FIXTURE_SETUP(u64_max)
{
	VMC_NEED_HOST();
	env_setup(_metadata, &self->env, true);
}

FIXTURE_TEARDOWN(u64_max)
{
	env_teardown(_metadata, &self->env);
}

static void set_max_values(struct __test_metadata *_metadata,
			   struct uev_env *e, struct uev *u)
{
	int ret;

	drain_socket(e->fd);
	ret = host_cmd("set disruption_marker=%llu vm_generation_counter=%llu",
		       (unsigned long long)UINT64_MAX,
		       (unsigned long long)UINT64_MAX);
	ASSERT_EQ(0, ret) TH_LOG("%s", host_error());
	collect(e->fd, FIRST_BOUND_MS, u);
}

TEST_F_TIMEOUT(u64_max, one_change_uevent, UEVENT_TIMEOUT)
{
	set_max_values(_metadata, &self->env, &self->u);
	EXPECT_EQ(1U, self->u.count)
		TH_LOG("want one change uevent for U64_MAX marker and generation: saw %u",
		       self->u.count);
}

TEST_F_TIMEOUT(u64_max, generation_in_full, UEVENT_TIMEOUT)
{
	struct uev *u = &self->u;

	set_max_values(_metadata, &self->env, u);
	ASSERT_NE(0U, u->count)
		TH_LOG("no change uevent for vmclock0 within %d ms", FIRST_BOUND_MS);
	EXPECT_TRUE(u->has_gen && u->gen == UINT64_MAX)
		TH_LOG("want VMCLOCK_VM_GENERATION_COUNTER=18446744073709551615: uevent %s%llu",
		       absent(u->has_gen), u->gen);
}

TEST_F_TIMEOUT(u64_max, marker_in_full, UEVENT_TIMEOUT)
{
	struct uev *u = &self->u;

	set_max_values(_metadata, &self->env, u);
	ASSERT_NE(0U, u->count)
		TH_LOG("no change uevent for vmclock0 within %d ms", FIRST_BOUND_MS);
	EXPECT_TRUE(u->has_marker && u->marker == UINT64_MAX)
		TH_LOG("want VMCLOCK_DISRUPTION_MARKER=18446744073709551615: uevent %s%llu",
		       absent(u->has_marker), u->marker);
}

/* A seq update that moves neither marker nor generation: no uevent. */
struct seq_update {
	struct vmclock_snap before, after;
	int ret;		/* the host's set */
};

FIXTURE(ordinary_update) {
	struct uev_env env;
	struct seq_update s;
};

FIXTURE_SETUP(ordinary_update)
{
	VMC_NEED_HOST();
	env_setup(_metadata, &self->env, true);
}

FIXTURE_TEARDOWN(ordinary_update)
{
	env_teardown(_metadata, &self->env);
}

/* The host rewrites one ordinary field; true when seq_count moved. */
static bool update_seq(struct __test_metadata *_metadata, struct uev_env *e,
		       struct seq_update *s)
{
	ASSERT_TRUE(snap_now(&s->before)) TH_LOG("cannot read the page");
	drain_socket(e->fd);
	s->ret = host_cmd("set time_esterror_nanosec=5");
	return !s->ret && snap_now(&s->after) && s->after.seq != s->before.seq;
}

TEST_F_TIMEOUT(ordinary_update, changes_seq_count, UEVENT_TIMEOUT)
{
	EXPECT_TRUE(update_seq(_metadata, &self->env, &self->s))
		TH_LOG("want the host to change seq_count: %s",
		       self->s.ret ? host_error() : "seq_count unchanged");
}

TEST_F_TIMEOUT(ordinary_update, no_uevent_within_1s, UEVENT_TIMEOUT)
{
	struct uev u;

	ASSERT_TRUE(update_seq(_metadata, &self->env, &self->s))
		TH_LOG("want the host to change seq_count: %s",
		       self->s.ret ? host_error() : "seq_count unchanged");
	collect(self->env.fd, 0, &u);
	EXPECT_EQ(0U, u.count)
		TH_LOG("want no change uevent within %d ms: saw %u: %s",
		       QUIET_MS, u.count, u.first);
}

/*
 * A hypervisor flapping disruption_marker, seen by a 1 ms polling timer:
 * at most one uevent per 100 ms (plus the first), the last value always
 * delivered.
 */
#define FLAPS		30
#define FLAP_SLEEP_MS	10
#define COALESCE_MS	100

struct flapping {
	uint64_t ms;		/* how long the flaps took */
	struct uev u;
	char why[600];		/* why they could not be done */
};

FIXTURE(flapping_marker) {
	struct uev_env env;
	struct flapping f;
};

FIXTURE_SETUP(flapping_marker)
{
	VMC_NEED_HOST();
	env_setup(_metadata, &self->env, true);
}

FIXTURE_TEARDOWN(flapping_marker)
{
	env_teardown(_metadata, &self->env);
}

/*
 * FLAPS marker changes, spread over several coalescing gaps, and the
 * uevents they bring. Returns false with f->why when they could not be
 * done; the waiter is closed and poll_interval_ms put back either way, so
 * the caller can ASSERT with nothing left open on the device.
 */
static bool flap(struct uev_env *e, struct flapping *f)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char interval[32] = "100";
	int i, ret = 0, waiter, ep;
	uint64_t t0;

	f->why[0] = '\0';
	/*
	 * A reader registered with epoll waits on the device throughout, so
	 * the detector polls at poll_interval_ms and sees every flap.
	 */
	waiter = open(VMC_DEV, O_RDONLY);
	ep = epoll_create1(0);
	if (waiter < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, waiter, &ev)) {
		snprintf(f->why, sizeof(f->why), "cannot register a waiter: %s",
			 strerror(errno));
		goto out;
	}
	param_read("poll_interval_ms", interval, sizeof(interval));
	if (param_write("poll_interval_ms", "1")) {
		snprintf(f->why, sizeof(f->why), "cannot set poll_interval_ms=1");
		goto out;
	}
	drain_socket(e->fd);
	t0 = mono_ns();
	/* Spread over several gaps: one per gap, not one in total. */
	for (i = 0; i < FLAPS && !ret; i++) {
		ret = host_cmd("disrupt --marker-only");
		sleep_ms(FLAP_SLEEP_MS);
	}
	f->ms = (mono_ns() - t0) / 1000000;
	collect(e->fd, FIRST_BOUND_MS, &f->u);
	param_write("poll_interval_ms", interval);
	if (ret)
		snprintf(f->why, sizeof(f->why), "%s", host_error());
out:
	if (ep >= 0)
		close(ep);
	if (waiter >= 0)
		close(waiter);
	return !f->why[0];
}

TEST_F_TIMEOUT(flapping_marker, at_most_one_uevent_per_100ms, FLAP_TIMEOUT)
{
	struct flapping *f = &self->f;
	uint64_t bound;

	ASSERT_TRUE(flap(&self->env, f)) TH_LOG("%s", f->why);
	TH_LOG("flapping: %u uevents for %d changes in %llu ms", f->u.count,
	       FLAPS, (unsigned long long)f->ms);
	/* The first at once, then one per started 100 ms, the last included. */
	bound = 2 + f->ms / COALESCE_MS;
	EXPECT_TRUE(f->u.count >= 1 && f->u.count <= bound)
		TH_LOG("%u uevents for %d marker changes in %llu ms (at most %llu allowed)",
		       f->u.count, FLAPS, (unsigned long long)f->ms,
		       (unsigned long long)bound);
}

TEST_F_TIMEOUT(flapping_marker, last_uevent_has_final_marker, FLAP_TIMEOUT)
{
	struct vmclock_snap after = { 0 };
	struct flapping *f = &self->f;
	bool ok;

	ASSERT_TRUE(flap(&self->env, f)) TH_LOG("%s", f->why);
	TH_LOG("flapping: %u uevents for %d changes in %llu ms", f->u.count,
	       FLAPS, (unsigned long long)f->ms);
	ok = snap_now(&after);
	EXPECT_TRUE(ok && f->u.last_has_marker &&
		    f->u.last_marker == after.disruption_marker)
		TH_LOG("want the final marker last: last uevent %s%llu, page %llu%s",
		       absent(f->u.last_has_marker), f->u.last_marker,
		       (unsigned long long)after.disruption_marker,
		       ok ? "" : " (cannot read the page)");
}

VMC_HARNESS_MAIN
