// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock-bench: in-guest benchmark of a VMClock driver, run by the rig
 * (bench/run.sh). Two commands:
 *
 *  cost [--ptp DEV] [--batches N] [--batch-ms MS]
 *      ns per PTP_SYS_OFFSET_EXTENDED2 sample, per PTP_SYS_OFFSET_PRECISE2
 *      call, per clock_gettime() on the PHC and per
 *      clock_gettime(CLOCK_MONOTONIC): each timed in N batches of about MS
 *      ms (a bounded number of calls), the median batch reported. Prints
 *        cost extended_ns=X precise_ns=X phc_gettime_ns=X monotonic_ns=X
 *      where X is "n/a" when the call fails (errno on stderr).
 *
 *  wake --offset N [--dev DEV] [--count N] [--notify] [--timeout-ms MS]
 *      N times: block in poll() on DEV, ask the host (rig mailbox) for a
 *      `bump` (one seq_count transaction, with --notify also an ACPI
 *      Notify through the rig module), take rdtsc on wake-up and compute
 *        latency = guest_tsc - N - RIG_MB_BUMP_TSC
 *      (under TCG guest_tsc = host_tsc + N, N learned by `calibrate`),
 *      converted to ns with the page's counter period. Prints one line per
 *      wake-up and then
 *        wake MODE n=N median_us=X p90_us=X max_us=X
 *      or "wake MODE n/a (POLLHUP)" when the driver says nothing would
 *      ever wake the file (no notifications, no polling timer).
 *
 * Exit status: 0 done, 1 failed, 2 bad arguments. x86 only (rdtsc).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/ptp_clock.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "linux/vmclock-abi.h"
#include "rig_request.h"

#define MAX_BATCHES	31
#define MAX_CALLS	1000000		/* per batch: bounds a batch in time */
#define MAX_WAKES	200
#define FD_TO_CLOCKID(fd)	((~(clockid_t)(fd) << 3) | 3)	/* posix-clock.h */

static const char *prog = "vmclock-bench";

static void __attribute__((format(printf, 1, 2))) msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* lfence on both sides: rdtsc must not move across poll()'s return. */
static uint64_t tsc_now(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile (0 < p <= 100) of n sorted values. */
static double percentile(const double *sorted, int n, double p)
{
	int rank = (int)ceil(p / 100.0 * n);

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static bool parse_long(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 0);
	return !errno && end != s && !*end && *v >= min && *v <= max;
}

static bool parse_ll(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 0);
	return !errno && end != s && !*end;
}

/* ------------------------------------------------------------ cost */

/* One call of what is measured; false (errno set) when it failed. */
typedef bool (*call_fn)(int fd);

static bool call_extended(int fd)
{
	struct ptp_sys_offset_extended req;

	memset(&req, 0, sizeof(req));
	req.n_samples = PTP_MAX_SAMPLES;
	return ioctl(fd, PTP_SYS_OFFSET_EXTENDED2, &req) == 0;
}

static bool call_precise(int fd)
{
	struct ptp_sys_offset_precise req;

	memset(&req, 0, sizeof(req));
	return ioctl(fd, PTP_SYS_OFFSET_PRECISE2, &req) == 0;
}

static bool call_phc_gettime(int fd)
{
	struct timespec ts;

	return clock_gettime(FD_TO_CLOCKID(fd), &ts) == 0;
}

static bool call_monotonic(int fd)
{
	struct timespec ts;

	(void)fd;
	return clock_gettime(CLOCK_MONOTONIC, &ts) == 0;
}

/*
 * Median over batches of ns per unit (a call, or per_call units in one
 * call); negative when the first call fails. A transient EBUSY in the
 * middle of a batch is retried with the call counted: it costs what it costs.
 */
static double time_calls(call_fn fn, int fd, int per_call, int batches,
			 int batch_ms, const char *name)
{
	double per[MAX_BATCHES];
	int b, busy = 0;

	if (!fn(fd)) {
		msg("%s: %s", name, strerror(errno));
		return -1;
	}
	for (b = 0; b < batches; b++) {
		int64_t t0 = mono_ns(), t1, end = t0 + (int64_t)batch_ms * 1000000;
		long calls = 0;

		do {
			if (!fn(fd)) {
				if (errno != EBUSY) {
					msg("%s: %s after %ld calls", name,
					    strerror(errno), calls);
					return -1;
				}
				busy++;
			}
			calls++;
			t1 = mono_ns();
		} while (t1 < end && calls < MAX_CALLS);
		per[b] = (double)(t1 - t0) / ((double)calls * per_call);
	}
	if (busy)
		msg("%s: %d calls answered EBUSY", name, busy);
	qsort(per, batches, sizeof(per[0]), cmp_double);
	return percentile(per, batches, 50);
}

static void print_cost(const char *key, double ns)
{
	if (ns < 0)
		printf(" %s=n/a", key);
	else
		printf(" %s=%.0f", key, ns);
}

static int cmd_cost(int argc, char **argv)
{
	const char *ptp = NULL;
	long batches = 7, batch_ms = 20;
	double ext, pre, phc, mono;
	int i, fd;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--ptp") && i + 1 < argc) {
			ptp = argv[++i];
		} else if (!strcmp(argv[i], "--batches") && i + 1 < argc &&
			   parse_long(argv[i + 1], 1, MAX_BATCHES, &batches)) {
			i++;
		} else if (!strcmp(argv[i], "--batch-ms") && i + 1 < argc &&
			   parse_long(argv[i + 1], 1, 1000, &batch_ms)) {
			i++;
		} else {
			msg("cost: bad argument '%s'", argv[i]);
			return 2;
		}
	}
	if (!ptp) {
		msg("cost: --ptp DEV is required");
		return 2;
	}
	/* Read-only is enough: these calls do not steer the clock. */
	fd = open(ptp, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		msg("cannot open %s: %s", ptp, strerror(errno));
		return 1;
	}
	ext = time_calls(call_extended, fd, PTP_MAX_SAMPLES, batches, batch_ms,
			 "PTP_SYS_OFFSET_EXTENDED2");
	pre = time_calls(call_precise, fd, 1, batches, batch_ms,
			 "PTP_SYS_OFFSET_PRECISE2");
	phc = time_calls(call_phc_gettime, fd, 1, batches, batch_ms,
			 "clock_gettime(PHC)");
	mono = time_calls(call_monotonic, fd, 1, batches, batch_ms,
			  "clock_gettime(CLOCK_MONOTONIC)");
	close(fd);
	printf("cost");
	print_cost("extended_ns", ext);
	print_cost("precise_ns", pre);
	print_cost("phc_gettime_ns", phc);
	print_cost("monotonic_ns", mono);
	printf("\n");
	/* The PHC read itself must work; PRECISE may be unsupported. */
	return ext < 0 || phc < 0 || mono < 0;
}

/* ------------------------------------------------------------ wake */

/* The requester thread: bumps on the main thread's signal. */
struct bumper {
	struct rig_mailbox mb;
	const char *request;		/* "bump" or "bump --notify" */
	sem_t go, done;
	int delay_ms;			/* before the request: main is in poll() */
	int ret;			/* rig_request()'s result */
	int result;			/* the host's exit status */
	char reply[160];
	bool quit;
};

static void *bumper_main(void *arg)
{
	struct bumper *b = arg;
	struct rig_reply *reply = malloc(sizeof(*reply));

	for (;;) {
		sem_wait(&b->go);
		if (b->quit)
			break;
		usleep((useconds_t)b->delay_ms * 1000);
		if (!reply) {
			b->ret = -ENOMEM;
		} else {
			b->ret = rig_request(&b->mb, b->request, 5000, reply);
			b->result = reply->result;
			snprintf(b->reply, sizeof(b->reply), "%.150s", reply->text);
		}
		sem_post(&b->done);
	}
	free(reply);
	return NULL;
}

/* sem_wait with a deadline: false on timeout. */
static bool sem_wait_ms(sem_t *s, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	while (sem_timedwait(s, &ts)) {
		if (errno != EINTR)
			return false;
	}
	return true;
}

/* A consistent copy of the page (records its seq_count for poll()). */
static int read_page(int fd, struct vmclock_abi *page)
{
	int64_t deadline = mono_ns() + 1000000000;
	ssize_t n;

	do {
		n = pread(fd, page, sizeof(*page), 0);
	} while (n < 0 && (errno == EINTR || errno == EBUSY) &&
		 mono_ns() < deadline);
	if (n < (ssize_t)sizeof(*page)) {
		msg("pread: %s", n < 0 ? strerror(errno) : "short read");
		return -1;
	}
	return 0;
}

static uint64_t mb_load64(struct rig_mailbox *mb, unsigned int off)
{
	return __atomic_load_n((volatile uint64_t *)(mb->page + off),
			       __ATOMIC_ACQUIRE);
}

static uint32_t mb_load32(struct rig_mailbox *mb, unsigned int off)
{
	return __atomic_load_n((volatile uint32_t *)(mb->page + off),
			       __ATOMIC_ACQUIRE);
}

static int cmd_wake(int argc, char **argv)
{
	const char *dev = "/dev/vmclock0", *mode;
	long count = 20, timeout_ms = 5000;
	long long offset = 0;
	bool have_offset = false, notify = false;
	double lat_ns[MAX_WAKES], ns_per_tick, sorted[MAX_WAKES];
	struct vmclock_abi page;
	struct bumper b;
	pthread_t thread;
	int i, n = 0, fd, rc = 1, stray = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dev") && i + 1 < argc) {
			dev = argv[++i];
		} else if (!strcmp(argv[i], "--offset") && i + 1 < argc &&
			   parse_ll(argv[i + 1], &offset)) {
			have_offset = true;
			i++;
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc &&
			   parse_long(argv[i + 1], 1, MAX_WAKES, &count)) {
			i++;
		} else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc &&
			   parse_long(argv[i + 1], 1, 60000, &timeout_ms)) {
			i++;
		} else if (!strcmp(argv[i], "--notify")) {
			notify = true;
		} else {
			msg("wake: bad argument '%s'", argv[i]);
			return 2;
		}
	}
	if (!have_offset) {
		msg("wake: --offset N (guest TSC - host TSC) is required");
		return 2;
	}
	mode = notify ? "notify" : "poll";

	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		msg("cannot open %s: %s", dev, strerror(errno));
		return 1;
	}
	if (read_page(fd, &page))
		goto out_fd;
	/* One tick lasts period / 2^(64 + shift) s. */
	if (!page.counter_period_frac_sec || page.counter_period_shift > 63) {
		msg("the page has no usable counter period");
		goto out_fd;
	}
	ns_per_tick = ldexp((double)page.counter_period_frac_sec,
			    -64 - page.counter_period_shift) * 1e9;

	memset(&b, 0, sizeof(b));
	b.request = notify ? "bump --notify" : "bump";
	if (rig_mailbox_open(&b.mb)) {
		msg("cannot map the rig mailbox %s", rig_mailbox_path());
		goto out_fd;
	}
	sem_init(&b.go, 0, 0);
	sem_init(&b.done, 0, 0);
	if (pthread_create(&thread, NULL, bumper_main, &b)) {
		msg("pthread_create failed");
		goto out_mb;
	}

	for (i = 0; n < count && i < count + 10; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t woke, bump_tsc;
		uint32_t bump_seq;
		int r;

		if (read_page(fd, &page))
			goto out_thread;
		r = poll(&pfd, 1, 0);
		if (r == 1 && (pfd.revents & POLLHUP)) {
			printf("wake %s n/a (POLLHUP: nothing would wake the file)\n", mode);
			rc = 0;
			goto out_thread;
		}
		if (r == 1) {		/* a change of someone else's: again */
			stray++;
			continue;
		}
		/* Vary the phase against a polling timer (20..117 ms). */
		b.delay_ms = 20 + (i * 37) % 98;
		sem_post(&b.go);
		r = poll(&pfd, 1, (int)timeout_ms + b.delay_ms);
		woke = tsc_now();
		if (!sem_wait_ms(&b.done, 10000)) {
			/* rig_request() has its own 5 s bound: not expected. */
			msg("the bump request never returned");
			exit(1);
		}
		if (b.ret || b.result) {
			msg("bump request failed (%d, host status %d): %s",
			    b.ret, b.result, b.reply);
			goto out_thread;
		}
		if (r != 1 || !(pfd.revents & POLLIN)) {
			msg("wake-up %d: poll() returned %d revents 0x%x within %ld ms",
			    i, r, r == 1 ? pfd.revents : 0,
			    timeout_ms + b.delay_ms);
			goto out_thread;
		}
		bump_tsc = mb_load64(&b.mb, RIG_MB_BUMP_TSC);
		bump_seq = mb_load32(&b.mb, RIG_MB_BUMP_SEQ);
		if (read_page(fd, &page))
			goto out_thread;
		if (page.seq_count != bump_seq) {
			/* Another writer's change woke us: not this bump's. */
			stray++;
			continue;
		}
		lat_ns[n] = (double)(int64_t)(woke - (uint64_t)offset - bump_tsc) *
			    ns_per_tick;
		printf("# wake %s %d: seq=%u latency_ns=%.0f\n", mode, n,
		       bump_seq, lat_ns[n]);
		n++;
	}
	if (n < count) {
		msg("only %d of %ld wake-ups were ours (%d stray changes)", n,
		    count, stray);
		goto out_thread;
	}
	memcpy(sorted, lat_ns, sizeof(lat_ns[0]) * n);
	qsort(sorted, n, sizeof(sorted[0]), cmp_double);
	printf("wake %s n=%d median_us=%.1f p90_us=%.1f max_us=%.1f min_us=%.1f\n",
	       mode, n, percentile(sorted, n, 50) / 1000,
	       percentile(sorted, n, 90) / 1000, sorted[n - 1] / 1000,
	       sorted[0] / 1000);
	if (stray)
		printf("# %d stray changes skipped\n", stray);
	/* A negative latency means the offset or the timestamps are wrong. */
	rc = sorted[0] < 0;
	if (rc)
		msg("negative latency: the TSC offset does not fit");
out_thread:
	/* The thread is idle in sem_wait(&b.go) here. */
	b.quit = true;
	sem_post(&b.go);
	pthread_join(thread, NULL);
out_mb:
	rig_mailbox_close(&b.mb);
out_fd:
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "cost"))
		return cmd_cost(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "wake"))
		return cmd_wake(argc - 2, argv + 2);
	fprintf(stderr, "usage: %s cost --ptp DEV [--batches N] [--batch-ms MS]\n"
		"       %s wake --offset N [--dev DEV] [--count N] [--notify] [--timeout-ms MS]\n",
		prog, prog);
	return 2;
}
