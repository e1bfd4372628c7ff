// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_stress: the driver under a hostile hypervisor and a churning
 * lifecycle, with every user-space path hammered at once.
 *
 *   vmclock_stress fuzz SECONDS [report-timing]
 *	One reader process per path calls it in a loop (PTP_SYS_OFFSET,
 *	_EXTENDED, _PRECISE, clock_gettime on the PHC, lseek + read, pread,
 *	mmap, poll, epoll) while the host's `vmclock-host fuzz` writes random
 *	and boundary values into the page for SECONDS. Pass: each path ran,
 *	saw only the errnos Documentation/device-interface.md lists for it, and no
 *	call took longer than VMC_SNAP_BOUND_MS (the documented reader bound)
 *	beyond what the guest could not account for: run-queue waits and vCPU
 *	stalls seen by a per-CPU sentinel are taken out, and what remains of
 *	the host's scheduling (single-threaded TCG runs the vCPUs in turn) is
 *	measured by two driver-free controls (getppid, a page read from
 *	/dev/zero) in the same run: a driver call may take the bound plus the
 *	slowest control call, no more (each slow call is listed).
 *	report-timing: timings are printed, not checked: for a guest whose
 *	clocks run on while it is not running (tests/vm/boots/stress.sh;
 *	stress-timing.sh checks them in a guest whose clocks count its
 *	instructions).
 *	The host restores the page at the end; the boot script then checks the
 *	PHC against the host.
 *
 *   vmclock_stress lifecycle UNBINDS RMMODS
 *	Pollers block in poll() and epoll_wait() on /dev/vmclock0, readers
 *	hammer the PHC (kept open across everything) and open/mmap/pread the
 *	misc device, and a child keeps the host bumping the page, moving the
 *	disruption marker and raising Notify (with NOTIFICATION_PRESENT set
 *	and cleared in turn, so both the Notify path and the polling detector
 *	run), while the driver is unbound and bound UNBINDS times and removed
 *	and loaded RMMODS times (each time first tried with a file open: that
 *	must fail with EBUSY/EWOULDBLOCK). Pass: every bind brings the devices
 *	back, every blocked poller returns after each unbind, only documented
 *	errnos, the kernel is not tainted.
 *
 * A plain kselftest.h program, not a kselftest_harness.h one: one invocation
 * is one fuzz run (or one lifecycle storm), and its per-path verdicts are
 * separate results of that single run, which the harness would tear apart
 * into separate processes. The plan ("1..N", printed first) counts every
 * result the mode prints, so each check point prints exactly one result on
 * every path; a failure's reason is a "# " line just before its result.
 * Without a VMClock device or root the program skips as a whole (exit 4);
 * a run that cannot go on bails out (exit 1).
 *
 * Figures (calls, errno counts and the slowest call per path, cycles run)
 * are printed as KTAP diagnostics. Host commands: fuzz, set, bump, disrupt.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ptp_clock.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "host.h"
#include "kselftest.h"

#define MAX_ERRNO	256
#define MAX_SLOW	16
#define MAX_CPUS	8
#define MAX_STALLS	65536
#define SENTINEL_NS	1000000ULL	/* the sentinels' sleep */
#define SLOW_NS		((uint64_t)VMC_SNAP_BOUND_MS * 1000000ULL)
#define POLL_MS		20	/* fuzz: poll/epoll timeout per call */
/* Mean pause between the host's fuzz steps: the writer shares the host's
 * cores with the two vCPUs, and a busier one only adds host stalls. */
#define FUZZ_PAUSE_US	2000
#define RETURN_MS	2000	/* lifecycle: bound for pollers after unbind */

/* One user-space path: its own thread, so no locking of the counters. */
struct path {
	const char *name;
	const int *allowed;	/* documented errnos, 0-terminated */
	uint64_t calls, fails;
	uint64_t slow_ns;	/* slowest call, run-queue waits excluded */
	uint64_t slow_wall_ns;	/* slowest call in wall time */
	uint64_t err[MAX_ERRNO];
	int undocumented;	/* first errno outside the list, or 0 */
	uint64_t extra[3];	/* path-specific counts (poll outcomes) */
	unsigned int nslow;	/* calls over SLOW_NS, the first MAX_SLOW kept */
	struct slow_call {
		uint64_t start, end, ns;
		int cpu0, cpu1;
	} slow[MAX_SLOW];
};

static const int err_ptp[] = { EBUSY, EIO, 0 };
static const int err_precise[] = { EBUSY, EIO, EOPNOTSUPP, 0 };
static const int err_read[] = { EBUSY, 0 };
static const int err_none[] = { 0 };
/* Lifecycle: the same, plus what an unbound device or a removed node gives. */
static const int err_ptp_gone[] = { EBUSY, EIO, ENODEV, 0 };
static const int err_open_gone[] = { ENOENT, ENODEV, ENXIO, 0 };
static const int err_user_gone[] = { EBUSY, ENODEV, ENOENT, ENXIO, 0 };

/* Shared with the reader processes (and the lifecycle threads). */
struct shared {
	atomic_bool stop;
	struct path paths[16];
	/* Per CPU: when its sentinel woke late (vCPU stalled, see sentinel()). */
	atomic_uint nstalls[MAX_CPUS];
	struct stall {
		uint64_t start, end;
	} stalls[MAX_CPUS][MAX_STALLS];
};
static struct shared *shm;
#define stop (shm->stop)

static bool allowed(const int *list, int e)
{
	for (; *list; list++)
		if (*list == e)
			return true;
	return false;
}

/*
 * A "# " diagnostic line per line of the message: host replies and errors
 * can span several lines, and ksft_print_msg() prefixes only the first.
 */
static void vdiag(const char *fmt, va_list ap)
{
	char buf[1024], *line, *save = NULL;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		ksft_print_msg("%s\n", line);
}

static void __printf(1, 2) diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(fmt, ap);
	va_end(ap);
}

/* One result; a failure's reason goes just before it, as "# " lines. */
static bool __printf(3, 4) check(bool pass, const char *name, const char *why_fmt, ...)
{
	va_list ap;

	if (!pass) {
		va_start(ap, why_fmt);
		vdiag(why_fmt, ap);
		va_end(ap);
	}
	ksft_test_result(pass, "%s\n", name);
	return pass;
}

/*
 * Per-thread clock for "how long did the call take": wall time minus the
 * time the thread waited on a run queue meanwhile (/proc/thread-self/
 * schedstat, second field), so that nine busy threads on two vCPUs do not
 * count as slow calls. Without schedstat: wall time.
 */
static __thread int schedstat_fd = -2;

static uint64_t run_delay_ns(void)
{
	char buf[128];
	unsigned long long run, wait;
	ssize_t n;

	if (schedstat_fd == -2)
		schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	if (schedstat_fd < 0)
		return 0;
	n = pread(schedstat_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return sscanf(buf, "%llu %llu", &run, &wait) == 2 ? wait : 0;
}

struct stamp {
	uint64_t wall, waited;
	int cpu;
};

/* The start of a timed span: wall time first, so that a run-queue wait in
 * between counts on both sides. */
static struct stamp stamp_now(void)
{
	struct stamp t = { .wall = mono_ns() };

	t.waited = run_delay_ns();
	t.cpu = sched_getcpu();
	return t;
}

/* The end of a timed span: wall time last. How long it took, run-queue
 * waits excluded. */
static uint64_t stamp_since(struct stamp t0, struct stamp *t1)
{
	uint64_t ns, queued;

	t1->cpu = sched_getcpu();
	t1->waited = run_delay_ns();
	t1->wall = mono_ns();
	ns = t1->wall - t0.wall;
	queued = t1->waited - t0.waited;
	return queued < ns ? ns - queued : 0;
}

/* Account one call since @t0 that returned @ret (< 0: errno in @e). */
static void account(struct path *p, struct stamp t0, long ret, int e)
{
	struct stamp t1;
	uint64_t ns = stamp_since(t0, &t1);

	p->calls++;
	if (ns > SLOW_NS && p->nslow++ < MAX_SLOW)
		p->slow[p->nslow - 1] = (struct slow_call){ t0.wall, t1.wall, ns, t0.cpu,
							    t1.cpu };
	if (ns > p->slow_ns)
		p->slow_ns = ns;
	if (t1.wall - t0.wall > p->slow_wall_ns)
		p->slow_wall_ns = t1.wall - t0.wall;
	if (ret >= 0)
		return;
	p->fails++;
	p->err[e > 0 && e < MAX_ERRNO ? e : 0]++;
	if (!allowed(p->allowed, e) && !p->undocumented)
		p->undocumented = e ? e : -1;
}

#define TIMED(p, call) do {						\
	struct stamp t0_ = stamp_now();					\
	long r_ = (long)(call);						\
	int e_ = errno;							\
	account((p), t0_, r_ < 0 ? -1 : r_, e_);			\
} while (0)

static void path_report(const struct path *p)
{
	char buf[512];
	int n, e;

	n = snprintf(buf, sizeof(buf), "%s: calls=%llu ok=%llu slowest_ms=%.3f (wall %.3f)",
		     p->name, (unsigned long long)p->calls,
		     (unsigned long long)(p->calls - p->fails), p->slow_ns / 1e6,
		     p->slow_wall_ns / 1e6);
	for (e = 0; e < MAX_ERRNO && n < (int)sizeof(buf) - 32; e++)
		if (p->err[e])
			n += snprintf(buf + n, sizeof(buf) - n, " %s=%llu",
				      e ? strerrorname_np(e) : "other",
				      (unsigned long long)p->err[e]);
	diag("%s", buf);
}

/*
 * A sentinel per CPU, pinned there, sleeps SENTINEL_NS again and again and
 * records each wake-up that came late (run-queue waits excluded): the
 * vCPU itself did not run (the host descheduled its thread, or TCG paused
 * every vCPU), so nothing on it, driver or not, made progress meanwhile.
 * A driver spinning on that CPU with interrupts on does not delay the
 * sentinel's timer: only its run-queue wait, which is not counted (in a
 * kernel without forced preemption even a real-time task waits for a
 * system call to end).
 */
static void sentinel(int cpu)
{
	cpu_set_t set;

	struct sched_param sp = { .sched_priority = 1 };

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Real-time: it runs as soon as it wakes, so it is almost always
	 * asleep and sees (nearly) every stall of its vCPU. */
	if (sched_setaffinity(0, sizeof(set), &set) ||
	    sched_setscheduler(0, SCHED_FIFO, &sp))
		return;
	while (!atomic_load(&stop)) {
		struct stamp t0 = stamp_now(), t1;
		uint64_t late;

		sleep_ms(SENTINEL_NS / 1000000);
		late = stamp_since(t0, &t1);
		if (late > 2 * SENTINEL_NS) {
			unsigned int i = atomic_load(&shm->nstalls[cpu]);

			if (i < MAX_STALLS) {
				shm->stalls[cpu][i] = (struct stall){ t0.wall + SENTINEL_NS,
								     t0.wall + late };
				atomic_store(&shm->nstalls[cpu], i + 1);
			}
		}
	}
}

/* How much of [a, b] the sentinel of @cpu saw stalled. */
static uint64_t stalled_ns(int cpu, uint64_t a, uint64_t b)
{
	uint64_t sum = 0;
	unsigned int i, n;

	if (cpu < 0 || cpu >= MAX_CPUS)
		return 0;
	n = atomic_load(&shm->nstalls[cpu]);
	for (i = 0; i < n; i++) {
		uint64_t s = shm->stalls[cpu][i].start, e = shm->stalls[cpu][i].end;

		s = s > a ? s : a;
		e = e < b ? e : b;
		sum += e > s ? e - s : 0;
	}
	return sum;
}

static void stall_report(int ncpu)
{
	int c;

	for (c = 0; c < ncpu && c < MAX_CPUS; c++) {
		unsigned int i, n = atomic_load(&shm->nstalls[c]);
		uint64_t longest = 0;

		for (i = 0; i < n; i++)
			if (shm->stalls[c][i].end - shm->stalls[c][i].start > longest)
				longest = shm->stalls[c][i].end - shm->stalls[c][i].start;
		diag("cpu %d sentinel: %u late wake-ups over %.0f ms, longest stall %.3f ms",
		     c, n, 2 * SENTINEL_NS / 1e6, longest / 1e6);
	}
}

/*
 * The slowest call of @p, without the time the CPU it ran on was stalled
 * (its sentinel's view; the smaller one if the call moved between CPUs).
 * Each call over the bound is listed.
 */
static uint64_t worst_unstalled_ns(const struct path *p)
{
	uint64_t worst = 0;
	unsigned int i;

	for (i = 0; i < p->nslow && i < MAX_SLOW; i++) {
		const struct slow_call *c = &p->slow[i];
		uint64_t st0 = stalled_ns(c->cpu0, c->start, c->end);
		uint64_t st1 = stalled_ns(c->cpu1, c->start, c->end);
		uint64_t st = st0 < st1 ? st0 : st1;
		uint64_t ns = c->ns - (st < c->ns ? st : c->ns);

		if (ns > worst)
			worst = ns;
		diag("%s: slow call %.3f ms on cpu %d->%d, %.3f ms of it the vCPU stalled",
		     p->name, c->ns / 1e6, c->cpu0, c->cpu1, st / 1e6);
	}
	if (p->nslow > MAX_SLOW)	/* not all examined: the plain maximum */
		worst = p->slow_ns;
	return worst ? worst : p->slow_ns;
}

/*
 * The path checks: ran at all, documented errnos only, never slow. A timed
 * path prints two results (the timing one a skip when only reported), an
 * untimed one one: path_results() counts them for the plan.
 */
enum timing { UNTIMED, TIMING_REPORTED, TIMING_CHECKED };

static unsigned int path_results(enum timing timing)
{
	return timing == UNTIMED ? 1 : 2;
}

static void path_checks(const char *phase, const struct path *p, enum timing timing,
			uint64_t allowance_ns)
{
	uint64_t worst;
	char name[160];

	path_report(p);
	snprintf(name, sizeof(name), "stress %s: %s: ran and saw only documented errnos",
		 phase, p->name);
	check(p->calls > 0 && !p->undocumented, name,
	      "%llu calls, first undocumented errno %d (%s)", (unsigned long long)p->calls,
	      p->undocumented,
	      p->undocumented > 0 ? strerror(p->undocumented) : "-");
	if (timing == UNTIMED)
		return;
	worst = worst_unstalled_ns(p);
	snprintf(name, sizeof(name),
		 "stress %s: %s: no call slower than %d ms (vCPU stalls aside)",
		 phase, p->name, VMC_SNAP_BOUND_MS);
	if (timing == TIMING_REPORTED) {
		ksft_test_result_code(KSFT_SKIP, name,
			"timings reported, not checked, on this kernel (slowest %.3f ms)",
			worst / 1e6);
		return;
	}
	check(worst <= SLOW_NS + allowance_ns, name,
	      "slowest call %.3f ms (vCPU stalls aside), allowed %.3f ms (the bound + the slowest control call)",
	      worst / 1e6, (SLOW_NS + allowance_ns) / 1e6);
}

static bool is_control(const char *name)
{
	return !strncmp(name, "control:", 8);
}

/* ------------------------------------------------------------ fuzz */

static char ptp_dev[64];

static int open_or_die(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		ksft_exit_fail_msg("open %s: %s\n", path, strerror(errno));
	return fd;
}

static void *rd_sysoff(void *arg)
{
	struct path *p = arg;
	int fd = open_or_die(ptp_dev, O_RDONLY);
	struct ptp_sys_offset so = { .n_samples = 3 };

	while (!atomic_load(&stop))
		TIMED(p, ioctl(fd, PTP_SYS_OFFSET, &so));
	close(fd);
	return NULL;
}

static void *rd_extended(void *arg)
{
	struct path *p = arg;
	int fd = open_or_die(ptp_dev, O_RDONLY);
	struct ptp_sys_offset_extended so = { .n_samples = 3 };

	while (!atomic_load(&stop))
		TIMED(p, ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &so));
	close(fd);
	return NULL;
}

static void *rd_precise(void *arg)
{
	struct path *p = arg;
	int fd = open_or_die(ptp_dev, O_RDONLY);
	struct ptp_sys_offset_precise so;

	while (!atomic_load(&stop)) {
		memset(&so, 0, sizeof(so));
		TIMED(p, ioctl(fd, PTP_SYS_OFFSET_PRECISE, &so));
	}
	close(fd);
	return NULL;
}

/* The controls: system calls that have nothing to do with the driver, a
 * trivial one and one that copies a page like read() does. */
static void *rd_control(void *arg)
{
	struct path *p = arg;

	while (!atomic_load(&stop))
		TIMED(p, syscall(SYS_getppid));
	return NULL;
}

static void *rd_zero(void *arg)
{
	struct path *p = arg;
	int fd = open_or_die("/dev/zero", O_RDONLY);
	char buf[4096];

	while (!atomic_load(&stop))
		TIMED(p, read(fd, buf, sizeof(buf)));
	close(fd);
	return NULL;
}

static void *rd_gettime(void *arg)
{
	struct path *p = arg;
	int fd = open_or_die(ptp_dev, O_RDONLY);
	struct timespec ts;

	while (!atomic_load(&stop))
		TIMED(p, clock_gettime(FD_TO_CLOCKID(fd), &ts));
	close(fd);
	return NULL;
}

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* lseek (accounted in the next path) to a random place, then read the rest. */
static void *rd_read(void *arg)
{
	struct path *p = arg, *lseek_path = p + 1;
	int fd = open_or_die(VMC_DEV, O_RDONLY);
	unsigned int seed = 1;
	char buf[4096];

	while (!atomic_load(&stop)) {
		TIMED(lseek_path, lseek(fd, rnd(&seed) % 4097, SEEK_SET));
		TIMED(p, read(fd, buf, sizeof(buf)));
	}
	close(fd);
	return NULL;
}

static void *rd_pread(void *arg)
{
	struct path *p = arg;
	int fd = open_or_die(VMC_DEV, O_RDONLY);
	unsigned int seed = 2;
	char buf[4200];

	while (!atomic_load(&stop))
		TIMED(p, pread(fd, buf, 1 + rnd(&seed) % sizeof(buf),
			       rnd(&seed) % 4200));
	close(fd);
	return NULL;
}

/* mmap + a read of seq_count through the mapping + munmap. */
static void *rd_mmap(void *arg)
{
	struct path *p = arg;
	int fd = open_or_die(VMC_DEV, O_RDONLY);
	long pg = sysconf(_SC_PAGESIZE);
	volatile uint32_t sink = 0;

	while (!atomic_load(&stop)) {
		struct stamp t0 = stamp_now();
		void *m = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
		int e = errno;

		if (m != MAP_FAILED) {
			sink += ((const volatile struct vmclock_abi *)m)->seq_count;
			munmap(m, pg);
		}
		account(p, t0, m == MAP_FAILED ? -1 : 0, e);
	}
	(void)sink;
	close(fd);
	return NULL;
}

/* poll() with a short timeout; a readable file is read to re-arm it. */
static void *rd_poll(void *arg)
{
	struct path *p = arg;
	int fd = open_or_die(VMC_DEV, O_RDONLY);
	char buf[4096];

	while (!atomic_load(&stop)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct stamp t0 = stamp_now();
		int r = poll(&pfd, 1, POLL_MS);

		account(p, t0, r, errno);
		if (r > 0 && (pfd.revents & (POLLHUP | POLLERR)))
			p->extra[2]++;
		else if (r > 0)
			p->extra[1]++;
		else if (r == 0)
			p->extra[0]++;
		if (r > 0 && (pfd.revents & POLLIN) && pread(fd, buf, sizeof(buf), 0) < 0 &&
		    errno != EBUSY)
			account(p, stamp_now(), -1, errno);
	}
	close(fd);
	return NULL;
}

static void *rd_epoll(void *arg)
{
	struct path *p = arg;
	int fd = open_or_die(VMC_DEV, O_RDONLY);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	char buf[4096];

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		ksft_exit_fail_msg("epoll on %s: %s\n", VMC_DEV, strerror(errno));
	while (!atomic_load(&stop)) {
		struct stamp t0 = stamp_now();
		int r = epoll_wait(ep, &ev, 1, POLL_MS);

		account(p, t0, r, errno);
		if (r > 0 && (ev.events & (EPOLLHUP | EPOLLERR)))
			p->extra[2]++;
		else if (r > 0)
			p->extra[1]++;
		else if (r == 0)
			p->extra[0]++;
		if (r > 0 && (ev.events & EPOLLIN) && pread(fd, buf, sizeof(buf), 0) < 0 &&
		    errno != EBUSY)
			account(p, stamp_now(), -1, errno);
	}
	close(ep);
	close(fd);
	return NULL;
}

/*
 * The paths of a fuzz run. One process per path: no shared mm, so no
 * mmap_lock or TLB shoot-down waits between them. A NULL fn: filled by
 * the previous.
 */
static const struct reader {
	void *(*fn)(void *);
	const char *name;
	const int *allowed;
} rd[] = {
	{ rd_sysoff, "PTP_SYS_OFFSET", err_ptp },
	{ rd_extended, "PTP_SYS_OFFSET_EXTENDED", err_ptp },
	{ rd_precise, "PTP_SYS_OFFSET_PRECISE", err_precise },
	{ rd_gettime, "clock_gettime", err_ptp },
	{ rd_read, "read", err_read },
	{ NULL, "lseek", err_none },
	{ rd_pread, "pread", err_read },
	{ rd_mmap, "mmap", err_none },
	{ rd_poll, "poll", err_none },
	{ rd_epoll, "epoll", err_none },
	/* driver-free controls */
	{ rd_control, "control: getppid", err_none },
	{ rd_zero, "control: read /dev/zero", err_none },
};

/*
 * The results a fuzz run prints: the readers stopped, the host's fuzz, the
 * checks of each path (see path_checks()), the taint.
 */
static unsigned int fuzz_plan(enum timing timing)
{
	unsigned int plan = 3;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rd); i++)
		plan += path_results(is_control(rd[i].name) ? UNTIMED : timing);
	return plan;
}

static void run_fuzz(unsigned int seconds, enum timing timing)
{
	uint64_t allowance = 0;
	const size_t n = ARRAY_SIZE(rd);
	pid_t pids[16], sentinels[MAX_CPUS] = { 0 };
	int c, ncpu;
	char cmd[96];
	long taint0 = kernel_taint();
	unsigned int hung = 0;
	size_t i;
	int ret;

	if (ptp_find(ptp_dev, sizeof(ptp_dev)) < 0)
		ksft_exit_fail_msg("no PTP clock vmclock0\n");
	for (i = 0; i < n; i++) {
		shm->paths[i].name = rd[i].name;
		shm->paths[i].allowed = rd[i].allowed;
	}
	for (i = 0; i < n; i++) {
		pids[i] = 0;
		if (!rd[i].fn)
			continue;
		pids[i] = fork_flushed();
		if (pids[i] < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
		if (pids[i] == 0) {
			signal(SIGALRM, SIG_DFL);
			rd[i].fn(&shm->paths[i]);
			_exit(0);
		}
	}
	ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	for (c = 0; c < ncpu && c < MAX_CPUS; c++) {
		sentinels[c] = fork_flushed();
		if (sentinels[c] == 0) {
			signal(SIGALRM, SIG_DFL);
			sentinel(c);
			_exit(0);
		}
	}
	sleep_ms(200);

	/* The host fuzzes for the whole duration, then restores the page. */
	snprintf(cmd, sizeof(cmd), "fuzz --duration-s %u --seed %ld --pause-us %d", seconds,
		 (long)time(NULL), FUZZ_PAUSE_US);
	ret = host_cmd_timeout((seconds + 60) * 1000, "%s", cmd);
	atomic_store(&stop, true);
	/* One result for every reader, each hung one's name before it. */
	for (i = 0; i < n; i++) {
		int status;

		if (pids[i] > 0 && wait_child(pids[i], 5000, &status)) {
			diag("%s reader still running 5 s later (killed)", rd[i].name);
			hung++;
		}
	}
	ksft_test_result(!hung, "stress fuzz: a reader process stops when asked\n");
	for (c = 0; c < ncpu && c < MAX_CPUS; c++) {
		int status;

		if (sentinels[c] > 0)
			wait_child(sentinels[c], 5000, &status);
	}

	check(!ret, "stress fuzz: the host fuzzed the page and restored it", "%s", host_error());
	diag("host %s", host_reply());
	stall_report(ncpu);
	/*
	 * The driver-free controls measure what the guest cannot account
	 * for in this run; their slowest call is the driver paths' allowance
	 * over the bound. They are reported, not held to it.
	 */
	for (i = 0; i < n; i++) {
		uint64_t worst;

		if (!is_control(shm->paths[i].name))
			continue;
		worst = worst_unstalled_ns(&shm->paths[i]);
		if (worst > allowance)
			allowance = worst;
	}
	diag("allowance over the %d ms bound from the controls: %.3f ms",
	     VMC_SNAP_BOUND_MS, allowance / 1e6);
	for (i = 0; i < n; i++) {
		const struct path *p = &shm->paths[i];

		path_checks("fuzz", p, is_control(p->name) ? UNTIMED : timing, allowance);
		if (rd[i].fn == rd_poll || rd[i].fn == rd_epoll)
			diag("%s: timeouts=%llu readable=%llu hup_or_err=%llu", p->name,
			     (unsigned long long)p->extra[0],
			     (unsigned long long)p->extra[1],
			     (unsigned long long)p->extra[2]);
	}
	check(!(kernel_taint() & ~taint0 & TAINT_CRASH_BITS),
	      "stress fuzz: kernel not newly tainted (D, W)",
	      "tainted %ld, was %ld", kernel_taint(), taint0);
}

/* ------------------------------------------------------------ lifecycle */

/* Shared with the churn child: how many host requests it made, failed. */
struct churn_stats {
	atomic_ulong done, failed;
	char first_error[256];
};

static struct churn_stats *churn;
static atomic_int in_poll;		/* pollers blocked right now */
static atomic_ulong poll_returns[3];	/* readable, hup/err, error */

static pid_t start_churn(void)
{
	static const char *const cmds[] = {
		"bump --notify", "disrupt --marker-only", "bump --notify --disrupt",
		"disrupt --generation",
	};
	pid_t pid;

	churn = mmap(NULL, sizeof(*churn), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (churn == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	pid = fork_flushed();
	if (pid == 0) {
		unsigned long i;

		signal(SIGALRM, SIG_DFL);
		for (i = 0;; i++) {
			const char *c = cmds[i % 4];
			int ret;

			/* Every 64 requests: Notify path or polling detector. */
			if (i % 64 == 0)
				c = i % 128 ? "set flags-=notify" : "set flags+=notify";
			ret = host_cmd("%s", c);
			atomic_fetch_add(&churn->done, 1);
			if (ret && !atomic_fetch_add(&churn->failed, 1))
				snprintf(churn->first_error, sizeof(churn->first_error),
					 "%s", host_error());
			sleep_ms(2);
		}
	}
	return pid;
}

static int open_retry(const char *path, struct path *p)
{
	while (!atomic_load(&stop)) {
		int fd;

		TIMED(p, fd = open(path, O_RDONLY | O_CLOEXEC));
		if (fd >= 0)
			return fd;
		sleep_ms(2);
	}
	return -1;
}

/* A poller: open, read (so the next poll blocks), block until woken. */
static void *lc_poller(void *arg)
{
	struct path *p = arg;	/* counts the open() calls */
	bool use_epoll = p->extra[0];
	char buf[4096];

	while (!atomic_load(&stop)) {
		int fd = open_retry(VMC_DEV, p), ep = -1;

		if (fd < 0)
			break;
		if (use_epoll) {
			struct epoll_event ev = { .events = EPOLLIN };

			ep = epoll_create1(EPOLL_CLOEXEC);
			if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
				ksft_exit_fail_msg("epoll: %s\n", strerror(errno));
		}
		for (;;) {
			unsigned int rev;
			int r;

			if (pread(fd, buf, sizeof(buf), 0) < 0 && errno != EBUSY)
				break;	/* ENODEV: unbound */
			atomic_fetch_add(&in_poll, 1);
			if (use_epoll) {
				struct epoll_event ev;

				r = epoll_wait(ep, &ev, 1, -1);
				rev = r > 0 ? ev.events : 0;
			} else {
				struct pollfd pfd = { .fd = fd, .events = POLLIN };

				r = poll(&pfd, 1, -1);
				rev = pfd.revents;
			}
			atomic_fetch_sub(&in_poll, 1);
			if (r < 0) {
				atomic_fetch_add(&poll_returns[2], 1);
				break;
			}
			if (rev & (POLLHUP | POLLERR)) {
				atomic_fetch_add(&poll_returns[1], 1);
				break;
			}
			atomic_fetch_add(&poll_returns[0], 1);
			if (atomic_load(&stop))
				break;
		}
		if (ep >= 0)
			close(ep);
		close(fd);
	}
	return NULL;
}

/*
 * The PHC, kept open across unbinds and unloads, reopened once the driver is
 * back. The main loop waits for that reopen before it unbinds again: an
 * open() of /dev/ptpN racing the clock's unregistration hits a use-after-
 * free in the kernel's char-device code (cdev_put() in __fput() after
 * posix_clock_release() dropped the last reference; seen on 6.1 and 6.12,
 * not a driver bug), which is not what this test is about.
 */
static atomic_ulong bound_epoch = 1;	/* + 1 after each bind or insmod */
static atomic_ulong phc_epoch;		/* the epoch the PHC was opened in */

static void *lc_phc(void *arg)
{
	struct path *p = arg;
	struct ptp_sys_offset_extended so = { .n_samples = 2 };

	while (!atomic_load(&stop)) {
		unsigned long e = atomic_load(&bound_epoch);
		char dev[64];
		struct timespec ts;
		int fd;

		if (ptp_find(dev, sizeof(dev)) < 0 || (fd = open(dev, O_RDONLY | O_CLOEXEC)) < 0) {
			sleep_ms(2);
			continue;
		}
		atomic_store(&phc_epoch, e);
		for (;;) {
			long r;

			TIMED(p, r = clock_gettime(FD_TO_CLOCKID(fd), &ts));
			if (r >= 0)
				TIMED(p, r = ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &so));
			if ((r < 0 && errno == ENODEV) || atomic_load(&stop))
				break;
		}
		close(fd);
		while (atomic_load(&bound_epoch) == e && !atomic_load(&stop))
			sleep_ms(1);
	}
	return NULL;
}

/* Before an unbind or unload: the PHC is open again (bounded wait). */
static bool phc_reopened(bool ptp)
{
	uint64_t end = mono_ns() + RETURN_MS * 1000000ULL;

	while (ptp && atomic_load(&phc_epoch) != atomic_load(&bound_epoch)) {
		if (mono_ns() >= end)
			return false;
		sleep_ms(1);
	}
	return true;
}

/* Short-lived users of the misc device: open, mmap, pread, close. */
static void *lc_user(void *arg)
{
	struct path *p = arg;
	long pg = sysconf(_SC_PAGESIZE);
	char buf[256];

	while (!atomic_load(&stop)) {
		int fd = open(VMC_DEV, O_RDONLY | O_CLOEXEC);
		void *m;

		if (fd < 0) {
			account(p, stamp_now(), -1, errno);
			sleep_ms(2);
			continue;
		}
		TIMED(p, m = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0));
		TIMED(p, pread(fd, buf, sizeof(buf), 0));
		if (m != MAP_FAILED)
			munmap(m, pg);
		close(fd);
	}
	return NULL;
}

static int delete_module(void)
{
	return syscall(SYS_delete_module, VMC_MODULE, O_NONBLOCK) ? -errno : 0;
}

static int load_module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

static bool devices_back(bool ptp)
{
	return wait_path(VMC_DEV, true, VMC_SETTLE_MS) &&
	       (!ptp || wait_ptp(true, VMC_SETTLE_MS));
}

/* After an unbind or unload, every blocked poller must come out of poll. */
static bool pollers_returned(void)
{
	uint64_t end = mono_ns() + RETURN_MS * 1000000ULL;

	while (atomic_load(&in_poll) > 0) {
		if (mono_ns() >= end)
			return false;
		sleep_ms(1);
	}
	return true;
}

/*
 * After a failed bind (a refused probe): bind again, a few times, so that
 * the storm goes on and every failure is counted. False if it stays unbound.
 */
static bool rebind_after_failure(bool ptp)
{
	int i;

	for (i = 0; i < 10; i++) {
		if (!vmc_bind() && devices_back(ptp))
			return true;
		sleep_ms(10);
	}
	return false;
}

struct failure {
	unsigned long count;
	char first[200];
};

static void __attribute__((format(printf, 3, 4)))
fail_note(struct failure *f, unsigned long cycle, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->count++)
		return;
	n = snprintf(f->first, sizeof(f->first), "cycle %lu: ", cycle);
	va_start(ap, fmt);
	vsnprintf(f->first + n, sizeof(f->first) - n, fmt, ap);
	va_end(ap);
}

/*
 * The results a lifecycle storm prints: unbind/bind, pollers, rmmod refused,
 * rmmod/insmod, the checks of each of its LC_PATHS paths (untimed), the
 * host's churn, bound at the end, the taint.
 */
#define LC_PATHS	4

static unsigned int lifecycle_plan(void)
{
	return 4 + LC_PATHS * path_results(UNTIMED) + 3;
}

static void run_lifecycle(unsigned long unbinds, unsigned long rmmods)
{
	struct path open_poll = { .name = "open (poller)", .allowed = err_open_gone, .extra = { 0 } };
	struct path open_epoll = { .name = "open (epoll poller)", .allowed = err_open_gone,
				   .extra = { 1 } };
	struct path phc = { .name = "PHC clock_gettime+EXTENDED", .allowed = err_ptp_gone };
	struct path user = { .name = "open+mmap+pread", .allowed = err_user_gone };
	struct path *paths[LC_PATHS] = { &open_poll, &open_epoll, &phc, &user };
	pthread_t tid[LC_PATHS];
	void *(*fns[LC_PATHS])(void *) = { lc_poller, lc_poller, lc_phc, lc_user };
	struct failure f_unbind = { 0 }, f_bind = { 0 }, f_poll = { 0 }, f_busy = { 0 },
		       f_rmmod = { 0 }, f_insmod = { 0 };
	unsigned long c, u_done = 0, r_done = 0, busy_tries = 0;
	const char *ko = getenv("VMCLOCK_KO");
	long taint0 = kernel_taint();
	bool ptp = wait_ptp(true, 0);
	uint64_t t0 = mono_ns(), t1;
	pid_t churn_pid;
	int i, ret, status;

	if (!ko || access(ko, R_OK))
		ksft_exit_fail_msg("VMCLOCK_KO (the module file) not set or unreadable\n");
	churn_pid = start_churn();
	for (i = 0; i < LC_PATHS; i++)
		if (pthread_create(&tid[i], NULL, fns[i], paths[i]))
			ksft_exit_fail_msg("pthread_create failed\n");
	sleep_ms(300);

	for (c = 1; c <= unbinds; c++) {
		if (!phc_reopened(ptp))
			fail_note(&f_bind, c, "the PHC reader did not reopen within %d ms", RETURN_MS);
		ret = vmc_unbind();
		if (ret) {
			fail_note(&f_unbind, c, "unbind: %s", strerror(-ret));
			break;
		}
		if (!pollers_returned())
			fail_note(&f_poll, c, "%d pollers still blocked %d ms after unbind",
				  atomic_load(&in_poll), RETURN_MS);
		ret = vmc_bind();
		if (ret || !devices_back(ptp)) {
			fail_note(&f_bind, c, "bind: %s", ret ? strerror(-ret) : "devices missing");
			if (!rebind_after_failure(ptp))
				break;
		} else {
			u_done++;
		}
		atomic_fetch_add(&bound_epoch, 1);
	}
	t1 = mono_ns();

	for (c = 1; c <= rmmods && vmc_bound(); c++) {
		uint64_t end;

		/* Pollers hold /dev/vmclock0 open: removal must be refused. */
		end = mono_ns() + RETURN_MS * 1000000ULL;
		while (atomic_load(&in_poll) == 0 && mono_ns() < end)
			sleep_ms(1);
		if (!phc_reopened(ptp))
			fail_note(&f_insmod, c, "the PHC reader did not reopen within %d ms", RETURN_MS);
		ret = delete_module();
		if (ret != -EBUSY && ret != -EWOULDBLOCK) {
			fail_note(&f_busy, c, "rmmod with files open: %s",
				  ret ? strerror(-ret) : "succeeded");
			if (!ret)
				goto load;
		}
		/* Unbind to send the users away, then remove as they go. */
		ret = vmc_unbind();
		if (ret && ret != -ENODEV)
			fail_note(&f_rmmod, c, "unbind: %s", strerror(-ret));
		if (!pollers_returned())
			fail_note(&f_poll, c, "rmmod cycle: %d pollers still blocked",
				  atomic_load(&in_poll));
		end = mono_ns() + 5000000000ULL;
		do {
			ret = delete_module();
			busy_tries += !!ret;
		} while ((ret == -EBUSY || ret == -EWOULDBLOCK) && mono_ns() < end &&
			 (sleep_ms(1), true));
		if (ret) {
			fail_note(&f_rmmod, c, "rmmod: %s", strerror(-ret));
			break;
		}
load:
		ret = load_module(ko);
		if (ret || !devices_back(ptp)) {
			fail_note(&f_insmod, c, "insmod: %s", ret ? strerror(-ret) : "devices missing");
			if (ret || !rebind_after_failure(ptp))
				break;
		} else {
			r_done++;
		}
		atomic_fetch_add(&bound_epoch, 1);
	}

	/* The end: one more unbind must release every poller for good. */
	phc_reopened(ptp);
	atomic_store(&stop, true);
	vmc_unbind();
	if (!pollers_returned())
		fail_note(&f_poll, 0, "final unbind: %d pollers still blocked",
			  atomic_load(&in_poll));
	for (i = 0; i < LC_PATHS; i++)
		pthread_join(tid[i], NULL);
	kill(churn_pid, SIGKILL);
	waitpid(churn_pid, &status, 0);
	ret = vmc_bind();

	diag("unbind/bind cycles %lu good of %lu in %.1f s, rmmod/insmod cycles %lu good of %lu in %.1f s "
	     "(%lu removals refused while users left)",
	     u_done, unbinds, (t1 - t0) / 1e9, r_done, rmmods, (mono_ns() - t1) / 1e9,
	     busy_tries);
	diag("pollers woke: readable=%lu hup_or_err=%lu error=%lu",
	     atomic_load(&poll_returns[0]), atomic_load(&poll_returns[1]),
	     atomic_load(&poll_returns[2]));
	diag("host churn requests=%lu failed=%lu %s", atomic_load(&churn->done),
	     atomic_load(&churn->failed), churn->first_error);
	check(u_done == unbinds && !f_unbind.count && !f_bind.count,
	      "stress lifecycle: every unbind/bind cycle brings the devices back",
	      "%lu failed, first: %s%s", f_unbind.count + f_bind.count, f_unbind.first,
	      f_bind.first);
	check(!f_poll.count && atomic_load(&poll_returns[2]) == 0,
	      "stress lifecycle: every blocked poller returns after unbind or unload",
	      "%lu misses, first: %s; poll errors %lu", f_poll.count, f_poll.first,
	      atomic_load(&poll_returns[2]));
	check(!f_busy.count, "stress lifecycle: rmmod with files open is refused (EBUSY/EWOULDBLOCK)",
	      "%lu times, first: %s", f_busy.count, f_busy.first);
	check(r_done == rmmods && !f_rmmod.count && !f_insmod.count,
	      "stress lifecycle: every rmmod/insmod cycle brings the devices back",
	      "%lu failed, first: %s%s", f_rmmod.count + f_insmod.count, f_rmmod.first,
	      f_insmod.first);
	for (i = 0; i < LC_PATHS; i++)
		path_checks("lifecycle", paths[i], UNTIMED, 0);
	check(atomic_load(&churn->done) > 0 && atomic_load(&churn->failed) == 0,
	      "stress lifecycle: the host bumped, disrupted and notified throughout",
	      "%lu of %lu requests failed: %s", atomic_load(&churn->failed),
	      atomic_load(&churn->done), churn->first_error);
	check(!ret && devices_back(ptp), "stress lifecycle: the driver is bound at the end",
	      "bind: %s", strerror(-ret));
	check(!(kernel_taint() & ~taint0 & TAINT_CRASH_BITS),
	      "stress lifecycle: kernel not newly tainted (D, W)",
	      "tainted %ld, was %ld", kernel_taint(), taint0);
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: vmclock_stress fuzz SECONDS [report-timing] | lifecycle UNBINDS RMMODS\n");
	exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	enum { FUZZ, LIFECYCLE } mode;
	enum timing timing = TIMING_CHECKED;
	const char *why;

	ksft_print_header();
	ksft_print_msg("vmclock_stress: hostile page and lifecycle storms\n");
	/* "fuzz SECONDS report-timing": a guest that cannot time its calls. */
	if ((argc == 3 || (argc == 4 && !strcmp(argv[3], "report-timing"))) &&
	    !strcmp(argv[1], "fuzz")) {
		mode = FUZZ;
		if (argc == 4)
			timing = TIMING_REPORTED;
	} else if (argc == 4 && !strcmp(argv[1], "lifecycle")) {
		mode = LIFECYCLE;
	} else {
		usage();
	}
	why = vmc_unavailable_reason();
	if (why)
		ksft_exit_skip("%s\n", why);
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));

	if (mode == FUZZ) {
		ksft_set_plan(fuzz_plan(timing));
		watchdog_arm(atoi(argv[2]) + 120, "vmclock_stress fuzz");
		run_fuzz((unsigned int)atoi(argv[2]), timing);
	} else {
		ksft_set_plan(lifecycle_plan());
		watchdog_arm(900, "vmclock_stress lifecycle");
		if (!vmc_device_name() || !vmc_bound())
			ksft_exit_fail_msg("driver not bound to a vmclock device\n");
		run_lifecycle(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10));
	}
	ksft_finished();
}
