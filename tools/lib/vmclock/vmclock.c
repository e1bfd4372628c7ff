// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * libvmclock: the VMClock page for applications.
 *
 * The page is mapped read-only once at open; the seq reader and all time
 * arithmetic are the core's (include/vmclock/vmclock-core.h), the same code
 * the driver runs. vmclock_now() and the token calls read the mapping and
 * the CPU counter only: no allocation, no lock, no system call (except the
 * documented fall-backs to clock_gettime() when the page has no clock data
 * for this CPU, and to pread() when the page could not be mapped).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "vmclock/vmclock-core.h"
#include "counter.h"
#include "vmclock.h"

#define EXPORT	__attribute__((visibility("default")))

/* Consistent-copy attempts before -EBUSY: tens of ms of spinning at most. */
#define SEQ_TRIES		(1u << 20)
/* How often the page is looked at when nothing notifies us. */
#define PERIODIC_MS		100
/* The header up to and including flags: what every page must have. */
#define MIN_SIZE		(offsetof(struct vmclock_abi, flags) + \
				 sizeof(((struct vmclock_abi *)0)->flags))

struct vmclock {
	int fd;
	int timer_fd;			/* periodic mode: for vmclock_fd() */
	int mode;			/* enum vmclock_wait_mode */
	const struct vmclock_abi *page;	/* NULL: pread() into a copy */
	size_t map_len;
	u32 size;			/* bytes of the structure we may read */
	u32 page_size;			/* the page's size field */
	u16 version;
	/* Disruption baseline of vmclock_now(): relaxed atomics. */
	u64 base_marker;
	u64 base_gen;
	int waiting;			/* a vmclock_wait() owns the fd's poll state */
};

/* ------------------------------------------------------------ reading */

/* A private copy for handles without a mapping (pread, a system call). */
static int copy_page(const struct vmclock *vc, struct vmclock_abi *buf)
{
	ssize_t n;

	do {
		n = pread(vc->fd, buf, sizeof(*buf), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EBUSY ? -EAGAIN : -errno;
	if ((size_t)n < vc->size)
		return -ENODATA;
	return 0;
}

/* The pread() path, for handles whose page could not be mapped. */
static int __attribute__((noinline))
read_snap_copy(const struct vmclock *vc, struct vmclock_snap *snap,
	       bool with_counter)
{
	struct vmclock_abi copy;
	unsigned int i;
	int ret;

	for (i = 0; i < SEQ_TRIES; i++) {
		ret = copy_page(vc, &copy);
		if (ret && ret != -EAGAIN)
			return ret;
		if (!ret && !vmclock_snap_read(&copy, vc->size, snap, NULL, NULL)) {
			/* The copy is older than the counter: fine. */
			snap->counter = with_counter ?
					vmclock_counter_read(NULL) : 0;
			return 0;
		}
		vmclock_cpu_relax();
	}
	return -EBUSY;
}

/* One consistent snapshot with the counter read inside the seq window. */
static inline __attribute__((always_inline)) int
read_snap(const struct vmclock *vc, struct vmclock_snap *snap, bool with_counter)
{
	unsigned int i;

	if (__builtin_expect(!vc->page, 0))
		return read_snap_copy(vc, snap, with_counter);
	for (i = 0; i < SEQ_TRIES; i++) {
		if (!vmclock_snap_read(vc->page, vc->size, snap,
				       with_counter ? vmclock_counter_read : NULL,
				       NULL))
			return 0;
		vmclock_cpu_relax();
	}
	return -EBUSY;
}

/* The bounded retries of the core's disruption reader; @size folds when constant. */
static inline __attribute__((always_inline)) int
disruption_tries(const struct vmclock_abi *page, u32 size, u64 *marker, u64 *gen)
{
	unsigned int i;

	for (i = 0; i < SEQ_TRIES; i++) {
		if (!vmclock_disruption_read(page, size, marker, gen))
			return 0;
		vmclock_cpu_relax();
	}
	return -EBUSY;
}

static inline __attribute__((always_inline)) int
read_disruption(const struct vmclock *vc, u64 *marker, u64 *gen)
{
	struct vmclock_snap snap;
	int ret;

	if (__builtin_expect(!vc->page, 0)) {
		ret = read_snap_copy(vc, &snap, false);
		if (ret)
			return ret;
		*marker = snap.disruption_marker;
		*gen = (snap.flags & VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT) ?
		       snap.vm_generation_counter : 0;
		return 0;
	}
	/* A full-size page (the usual case) lets the size checks fold away. */
	if (__builtin_expect(vc->size >= sizeof(struct vmclock_abi), 1))
		return disruption_tries(vc->page, sizeof(struct vmclock_abi),
					marker, gen);
	return disruption_tries(vc->page, vc->size, marker, gen);
}

/* ------------------------------------------------------------ open */

static int check_header(const struct vmclock_abi *hdr, size_t got, u32 *size,
			u32 *page_size, u16 *version)
{
	if (got < MIN_SIZE)
		return VMCLOCK_EBADSIZE;
	if (vmclock_le32(hdr->magic) != VMCLOCK_MAGIC)
		return VMCLOCK_EBADMAGIC;
	*version = vmclock_le16(hdr->version);
	if (*version != 1)
		return VMCLOCK_EBADVERSION;
	*size = *page_size = vmclock_le32(hdr->size);
	if (*size < MIN_SIZE)
		return VMCLOCK_EBADSIZE;
	if (*size > got)
		*size = (u32)got;	/* fields beyond what we can read: absent */
	return 0;
}

/* Which way vmclock_wait() learns of changes (the first pread armed it). */
static int pick_mode(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct stat st;
	u32 seq;
	int i;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode))
		return VMCLOCK_WAIT_PERIODIC;	/* a file is always readable */
	for (i = 0; i < 3; i++) {
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) < 0)
			return VMCLOCK_WAIT_PERIODIC;
		/* POLLHUP: the driver will never wake us (no notifications). */
		if (pfd.revents & (POLLHUP | POLLERR))
			return VMCLOCK_WAIT_PERIODIC;
		if (!(pfd.revents & POLLIN))
			return VMCLOCK_WAIT_NOTIFY;
		/*
		 * Readable right after a read: the page changed meanwhile, or
		 * the driver has no poll() at all (Linux 6.13 to 6.19: always
		 * readable). Read again; readable three times is the latter.
		 */
		if (pread(fd, &seq, sizeof(seq),
			  offsetof(struct vmclock_abi, seq_count)) < 0)
			return VMCLOCK_WAIT_PERIODIC;
	}
	return VMCLOCK_WAIT_PERIODIC;
}

static int open_timer(void)
{
	struct itimerspec it = {
		.it_interval = { 0, PERIODIC_MS * 1000000L },
		.it_value = { 0, PERIODIC_MS * 1000000L },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &it, NULL)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

EXPORT int vmclock_open(const char *path, struct vmclock **vcp)
{
	long pagesz = sysconf(_SC_PAGESIZE);
	struct vmclock_abi hdr;
	struct vmclock *vc;
	void *map;
	ssize_t n;
	int ret, tries = 0;

	if (!vcp)
		return -EINVAL;
	*vcp = NULL;
	if (!path)
		path = VMCLOCK_DEFAULT_DEVICE;

	vc = calloc(1, sizeof(*vc));
	if (!vc)
		return -ENOMEM;
	vc->timer_fd = -1;
	vc->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (vc->fd < 0) {
		ret = errno == ENOENT ? -ENODEV : -errno;
		goto fail;
	}

	/*
	 * The header is not covered by seq_count; the driver may answer EBUSY
	 * while the hypervisor writes. This read also arms the driver's poll.
	 */
	memset(&hdr, 0, sizeof(hdr));
	do {
		n = pread(vc->fd, &hdr, sizeof(hdr), 0);
	} while (n < 0 && (errno == EINTR ||
			   (errno == EBUSY && ++tries < 1000 && !usleep(1000))));
	if (n < 0) {
		ret = errno == EISDIR ? VMCLOCK_EBADSIZE : -errno;
		goto fail;
	}
	ret = check_header(&hdr, (size_t)n, &vc->size, &vc->page_size,
			   &vc->version);
	if (ret)
		goto fail;

	/* The driver allows exactly one page at offset 0, read-only. */
	map = mmap(NULL, (size_t)pagesz, PROT_READ, MAP_SHARED, vc->fd, 0);
	if (map != MAP_FAILED) {
		struct stat st;

		/* A file shorter than the mapping would fault past its end. */
		if (!fstat(vc->fd, &st) && S_ISREG(st.st_mode) &&
		    st.st_size < pagesz) {
			munmap(map, (size_t)pagesz);
		} else {
			vc->page = map;
			vc->map_len = (size_t)pagesz;
		}
	}

	vc->mode = pick_mode(vc->fd);
	if (vc->mode == VMCLOCK_WAIT_PERIODIC) {
		vc->timer_fd = open_timer();
		if (vc->timer_fd < 0) {
			ret = vc->timer_fd;
			goto fail;
		}
	}

	ret = read_disruption(vc, &vc->base_marker, &vc->base_gen);
	if (ret)
		goto fail;
	*vcp = vc;
	return 0;
fail:
	vmclock_close(vc);
	return ret;
}

EXPORT void vmclock_close(struct vmclock *vc)
{
	if (!vc)
		return;
	if (vc->page)
		munmap((void *)vc->page, vc->map_len);
	if (vc->timer_fd >= 0)
		close(vc->timer_fd);
	if (vc->fd >= 0)
		close(vc->fd);
	free(vc);
}

/* ------------------------------------------------------------ snapshot */

EXPORT int vmclock_snapshot(struct vmclock *vc, struct vmclock_snapshot *s)
{
	struct vmclock_snap snap;
	int ret;

	if (!vc || !s)
		return -EINVAL;
	ret = read_snap(vc, &snap, false);
	if (ret)
		return ret;

	memset(s, 0, sizeof(*s));
	s->size = vc->page_size;
	s->version = vc->version;
	s->counter_id = snap.counter_id;
	s->time_type = snap.time_type;
	s->seq_count = snap.seq;
	s->disruption_marker = snap.disruption_marker;
	s->flags = snap.flags;
	s->clock_status = snap.clock_status;
	s->leap_second_smearing_hint = vc->page ?
		VMCLOCK_GET(vc->page, vc->size, leap_second_smearing_hint,
			    vmclock_le8) : 0;
	s->tai_offset_sec = snap.tai_offset_sec;
	s->leap_indicator = snap.leap_indicator;
	s->counter_period_shift = snap.counter_period_shift;
	s->counter_value = snap.counter_value;
	s->counter_period_frac_sec = snap.counter_period;
	s->counter_period_esterror_rate_frac_sec = snap.period_esterror;
	s->counter_period_maxerror_rate_frac_sec = snap.period_maxerror;
	s->time_sec = snap.time_sec;
	s->time_frac_sec = snap.time_frac;
	s->time_esterror_nanosec = snap.time_esterror_ns;
	s->time_maxerror_nanosec = snap.time_maxerror_ns;
	s->vm_generation_counter = snap.vm_generation_counter;
	return 0;
}

/* ------------------------------------------------------------ now */

static int map_status(u8 page_status)
{
	switch (page_status) {
	case VMCLOCK_STATUS_SYNCHRONIZED:	return VMCLOCK_SYNCHRONIZED;
	case VMCLOCK_STATUS_FREERUNNING:	return VMCLOCK_FREE_RUNNING;
	case VMCLOCK_STATUS_UNRELIABLE:		return VMCLOCK_UNRELIABLE;
	default:				return VMCLOCK_UNKNOWN;
	}
}

/* Beyond a century a bound says nothing: call it unknown. */
#define MAX_BOUND_NS	(100ULL * 366 * 86400 * VMCLOCK_NSEC_PER_SEC)
/* @ts moved by @ns (below 100 years) forward or back, normalised. */
static inline void ts_add(struct vmclock_timespec *ts, u64 ns, bool back)
{
	s64 sec = 0;

	if (__builtin_expect(ns >= VMCLOCK_NSEC_PER_SEC, 0)) {
		sec = (s64)(ns / VMCLOCK_NSEC_PER_SEC);
		ns %= VMCLOCK_NSEC_PER_SEC;
	}
	if (back) {
		ts->tv_sec -= sec;
		ts->tv_nsec -= (long)ns;
		if (ts->tv_nsec < 0) {
			ts->tv_nsec += (long)VMCLOCK_NSEC_PER_SEC;
			ts->tv_sec--;
		}
	} else {
		ts->tv_sec += sec;
		ts->tv_nsec += (long)ns;
		if (ts->tv_nsec >= (long)VMCLOCK_NSEC_PER_SEC) {
			ts->tv_nsec -= (long)VMCLOCK_NSEC_PER_SEC;
			ts->tv_sec++;
		}
	}
}

static inline void set_range(struct vmclock_range *r,
			     const struct vmclock_timespec *e,
			     const struct vmclock_timespec *l, s64 off,
			     bool bounded)
{
	r->earliest.tv_sec = e->tv_sec + off;
	r->earliest.tv_nsec = e->tv_nsec;
	r->latest.tv_sec = l->tv_sec + off;
	r->latest.tv_nsec = l->tv_nsec;
	r->source = VMCLOCK_SOURCE_PAGE;
	r->bounded = bounded;
}

/*
 * The page's time and its maximum-error interval, in the page's scale,
 * then shifted by whole seconds into UTC and TAI where the scale allows.
 */
static inline void page_ranges(const struct vmclock_snap *snap,
			       const struct vmclock_time *t,
			       struct vmclock_now *now)
{
	struct vmclock_timespec e = { (s64)t->sec, (long)t->nsec }, l = e;
	bool bounded = t->maxerror_ns < MAX_BOUND_NS;
	s64 off;

	/*
	 * t->nsec is the exact time floored to a ns: the earliest end needs
	 * nothing more, the latest end one ns (a bound only widens).
	 */
	if (bounded) {
		ts_add(&e, t->maxerror_ns, true);
		ts_add(&l, t->maxerror_ns + 1, false);
	}
	if (!vmclock_scale_offset(snap, VMCLOCK_SCALE_UTC, &off))
		set_range(&now->realtime, &e, &l, off, bounded);
	if (!vmclock_scale_offset(snap, VMCLOCK_SCALE_TAI, &off))
		set_range(&now->tai, &e, &l, off, bounded);
}

EXPORT int vmclock_now(struct vmclock *vc, struct vmclock_now *now)
{
	struct vmclock_snap snap;
	struct vmclock_time t;
	u64 gen;
	int ret;

	/* A full-size page (the usual case) lets the size checks fold away. */
	if (__builtin_expect(vc->size >= sizeof(struct vmclock_abi) && vc->page, 1)) {
		const struct vmclock vfull = { .page = vc->page,
					       .size = sizeof(struct vmclock_abi) };

		ret = read_snap(&vfull, &snap, true);
	} else {
		ret = read_snap(vc, &snap, true);
	}
	if (ret)
		return ret;

	now->tai.source = VMCLOCK_SOURCE_NONE;
	now->tai.bounded = 0;
	now->realtime.source = VMCLOCK_SOURCE_NONE;
	now->leap_indicator = snap.leap_indicator;
	now->disruption_marker = snap.disruption_marker;
	gen = (snap.flags & VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT) ?
	      snap.vm_generation_counter : 0;
	now->vm_generation_counter = gen;

	/* Only the maximum error makes a bound: skip the estimate's cost. */
	snap.flags &= ~(u64)VMCLOCK_FLAG_TIME_ESTERROR_VALID;
	/* Seconds a timespec cannot hold, whatever the offset: no page time. */
	if (snap.counter_id == VMCLOCK_NATIVE_COUNTER &&
	    !vmclock_snap_time(&snap, snap.counter, &t) &&
	    t.sec < (u64)INT64_MAX - (1u << 16))
		page_ranges(&snap, &t, now);
	if (now->realtime.source == VMCLOCK_SOURCE_NONE) {
		struct timespec ts;

		/* No page time in UTC: the system's, with no bound invented. */
		clock_gettime(CLOCK_REALTIME, &ts);
		now->realtime.earliest.tv_sec = ts.tv_sec;
		now->realtime.earliest.tv_nsec = ts.tv_nsec;
		now->realtime.latest = now->realtime.earliest;
		now->realtime.source = VMCLOCK_SOURCE_SYSTEM;
		now->realtime.bounded = 0;
	}
	if (now->tai.source == VMCLOCK_SOURCE_NONE) {
		memset(&now->tai.earliest, 0, sizeof(now->tai.earliest));
		now->tai.latest = now->tai.earliest;
	}

	now->status = map_status(snap.clock_status);
	if (snap.disruption_marker != __atomic_load_n(&vc->base_marker, __ATOMIC_RELAXED) ||
	    gen != __atomic_load_n(&vc->base_gen, __ATOMIC_RELAXED)) {
		if (snap.clock_status == VMCLOCK_STATUS_SYNCHRONIZED) {
			/* Synchronized again: the disruption is over. */
			__atomic_store_n(&vc->base_marker, snap.disruption_marker,
					 __ATOMIC_RELAXED);
			__atomic_store_n(&vc->base_gen, gen, __ATOMIC_RELAXED);
		} else {
			now->status = VMCLOCK_DISRUPTED;
		}
	}
	return 0;
}

EXPORT int vmclock_ack(struct vmclock *vc)
{
	u64 marker, gen;
	int ret = read_disruption(vc, &marker, &gen);

	if (ret)
		return ret;
	__atomic_store_n(&vc->base_marker, marker, __ATOMIC_RELAXED);
	__atomic_store_n(&vc->base_gen, gen, __ATOMIC_RELAXED);
	return 0;
}

/* ------------------------------------------------------------ token */

EXPORT int vmclock_token_take(struct vmclock *vc, struct vmclock_token *tok)
{
	return read_disruption(vc, &tok->disruption_marker,
			       &tok->vm_generation_counter);
}

EXPORT int vmclock_token_check(struct vmclock *vc,
			       const struct vmclock_token *tok)
{
	u64 marker, gen;
	int ret = read_disruption(vc, &marker, &gen);

	if (ret)
		return ret;
	return marker == tok->disruption_marker &&
	       gen == tok->vm_generation_counter;
}

/* ------------------------------------------------------------ wait */

static s64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (s64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);	/* a signal ends it early: the caller loops */
}

/*
 * Re-arm the driver's poll: it reports seq values this file has not read.
 * *seq: the seq_count the driver recorded (unchanged when the read failed).
 */
static int rearm(struct vmclock *vc, u32 *seq)
{
	if (pread(vc->fd, seq, sizeof(*seq), offsetof(struct vmclock_abi,
						       seq_count)) < 0 &&
	    errno == ENODEV)
		return -ENODEV;
	return 0;
}

EXPORT int vmclock_wait(struct vmclock *vc, const struct vmclock_token *tok,
			int timeout_ms)
{
	s64 deadline = timeout_ms < 0 ? -1 : mono_ns() + timeout_ms * 1000000LL;
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	bool notify = false, woken = false;
	int ret, step, spurious = 0;
	u32 seq = 0;
	u64 expirations;
	s64 left;

	if (!vc || !tok)
		return -EINVAL;
	pfd.fd = vc->fd;
	/*
	 * The driver's "seen" state belongs to the open file, so one waiter
	 * at a time owns it; others look at the page every PERIODIC_MS.
	 */
	if (vc->mode == VMCLOCK_WAIT_NOTIFY) {
		int zero = 0;

		notify = __atomic_compare_exchange_n(&vc->waiting, &zero, 1,
						     false, __ATOMIC_ACQUIRE,
						     __ATOMIC_RELAXED);
	} else if (read(vc->timer_fd, &expirations, sizeof(expirations)) < 0) {
		/* EAGAIN: not expired; vmclock_fd() users only care it is clear */
	}

	for (;;) {
		if (notify) {
			u32 prev = seq;

			ret = rearm(vc, &seq);
			if (ret)
				break;
			/*
			 * Woken three times without a new seq_count: this
			 * poll() says nothing (a driver without one is always
			 * readable); look at the page ourselves instead.
			 */
			spurious = woken && seq == prev ? spurious + 1 : 0;
			if (spurious >= 3) {
				__atomic_store_n(&vc->waiting, 0, __ATOMIC_RELEASE);
				notify = false;
			}
			woken = false;
		}
		/* After the re-arm: a later change makes poll() return. */
		ret = vmclock_token_check(vc, tok);
		if (ret <= 0) {
			ret = ret ? ret : 1;
			break;
		}
		left = deadline < 0 ? -1 : deadline - mono_ns();
		if (deadline >= 0 && left <= 0) {
			ret = 0;
			break;
		}
		/* In ms, rounded up: waking early would only loop. */
		left = left < 0 ? -1 : (left + 999999) / 1000000;
		step = left < 0 || left > 0x7fffffff ? -1 : (int)left;
		if (!notify) {
			sleep_ms(step < 0 || step > PERIODIC_MS ? PERIODIC_MS : step);
			continue;
		}
		pfd.revents = 0;
		if (poll(&pfd, 1, step) < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		if (pfd.revents & (POLLERR | POLLNVAL)) {
			ret = -ENODEV;
			break;
		}
		if (pfd.revents & POLLHUP) {
			/* Nobody will wake this file: look ourselves. */
			__atomic_store_n(&vc->waiting, 0, __ATOMIC_RELEASE);
			notify = false;
		}
		woken = pfd.revents & POLLIN;
	}
	if (notify)
		__atomic_store_n(&vc->waiting, 0, __ATOMIC_RELEASE);
	return ret;
}

EXPORT int vmclock_fd(struct vmclock *vc)
{
	if (!vc)
		return -EINVAL;
	return vc->mode == VMCLOCK_WAIT_NOTIFY ? vc->fd : vc->timer_fd;
}

EXPORT int vmclock_wait_mode(struct vmclock *vc)
{
	if (!vc)
		return -EINVAL;
	return vc->mode;
}

/* ------------------------------------------------------------ errors */

EXPORT const char *vmclock_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -ENODEV:
		return "no VMClock device (is the ptp_vmclock module loaded, and does the hypervisor provide a VMClock page?)";
	case -EACCES:
	case -EPERM:
		return "permission denied (the kernel creates /dev/vmclockN mode 0600: install the udev rule 60-vmclock.rules to make it readable by all, or run as root)";
	case VMCLOCK_EBADMAGIC:
		return "not a VMClock page (bad magic)";
	case VMCLOCK_EBADVERSION:
		return "unsupported VMClock page version (only version 1 is defined)";
	case VMCLOCK_EBADSIZE:
		return "VMClock page too small (its size does not cover the header)";
	case -EBUSY:
		return "no consistent copy of the page (seq_count stays odd or keeps changing: is the hypervisor's writer stuck?)";
	case -ENODATA:
		return "the page became shorter than at open";
	case -EINVAL:
		return "invalid argument";
	case -ENOMEM:
		return "out of memory";
	}
	return err < 0 ? strerror(-err) : "unknown error";
}
