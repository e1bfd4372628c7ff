// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock-watch - wait for clock disruptions announced by a VMClock page.
 *
 * A virtual machine's clock can be disrupted behind its back: after a live
 * migration the CPU counter (TSC, Arm virtual counter) may run at another
 * rate or have jumped; after a snapshot restore the whole guest, this
 * process included, resumes at an unknown later time, and there may be
 * several copies of it. The hypervisor announces both in the VMClock page,
 * which the ptp_vmclock driver exposes as /dev/vmclockN:
 *
 *  - disruption_marker changes whenever the counter may have been
 *    disrupted (migration, restore);
 *  - vm_generation_counter (when VM_GEN_COUNTER_PRESENT is set) changes
 *    when the guest was restored from a snapshot or cloned.
 *
 * This program is meant to be read and copied. It shows the whole pattern:
 * open the device read-only, map the page read-only, sleep in poll() until
 * the driver says the page changed, take a consistent copy, compare the two
 * values with the last ones seen.
 *
 * WHAT A DATABASE SHOULD DO WHEN A DISRUPTION IS REPORTED
 *
 *  1. Discard every clock calibration derived before it: TSC-to-time
 *     scale factors, measured offsets from a time server, "the clock was
 *     within X us of true time at T" facts, drift estimates. They describe
 *     a counter that may no longer exist.
 *  2. Treat the clock's error bound as UNKNOWN (infinite) until the page
 *     says clock_status=SYNCHRONIZED again and you have new samples. A
 *     commit-wait, lease or lock timeout that relies on a bounded clock
 *     error must wait or fall back to a safe path (refuse leases, extend
 *     waits to the maximum) during that window. The page's own error bound
 *     (see vmclock_snap_time() in include/vmclock/vmclock-core.h) is only
 *     meaningful with clock_status SYNCHRONIZED.
 *  3. If vm_generation_counter changed, this instance is a restored or
 *     cloned copy and other copies may be running too: reseed random
 *     number generators, regenerate anything that must be unique per
 *     instance (node ids, UUID generator state, nonces, session and
 *     transaction id ranges, TLS session keys), and do not assume leases or
 *     locks taken before the snapshot are still yours.
 *  4. If you persist any calibration or identity, store the marker and
 *     generation next to it, and throw it away on start when they differ.
 *
 * Output (one line each, stdout, flushed at once):
 *
 *   NAME seq=N disruption_marker=N vm_generation_counter=N|absent clock_status=S
 *       once at start: the current state (NAME is the device's file name)
 *   disruption seq=N disruption_marker=OLD->NEW vm_generation_counter=OLD->NEW woke_at=NS
 *       for every change of either value; woke_at is CLOCK_MONOTONIC in ns
 *       taken when poll() returned, so a test harness that timestamps the
 *       host's update on the same clock can compute the notification latency
 *   update seq=N clock_status=S woke_at=NS
 *       with -v only: an ordinary update (neither value changed)
 *
 * Exit status: 0 after -n COUNT disruptions, 1 when -t TIMEOUT_S passed,
 * 2 bad arguments, 3 error (message on stderr), including POLLHUP: the
 * driver has no way to learn about changes (the page advertises no
 * notifications and the driver's polling timer is off).
 *
 * Several updates between two wake-ups are seen as one: what matters is
 * whether the values differ from the last ones seen, never how many events
 * arrived. Nothing is lost either: poll() stays readable until this file
 * has read the newest seq_count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vmclock/vmclock-core.h"

enum {
	EXIT_DONE = 0,		/* -n COUNT disruptions seen */
	EXIT_TIMEOUT = 1,	/* -t TIMEOUT_S passed first */
	EXIT_USAGE = 2,
	EXIT_ERROR = 3,		/* includes POLLHUP */
};

#define DEFAULT_DEVICE		"/dev/vmclock0"
#define FILE_INTERVAL_NS	100000000ULL	/* --file: re-read period */
#define READ_BOUND_NS		1000000000ULL	/* give up on a stuck writer */
#define NS_PER_SEC		1000000000ULL

/* The smallest page worth reading: the header up to and including flags. */
#define MIN_PAGE_SIZE	(offsetof(struct vmclock_abi, flags) + \
			 sizeof(((struct vmclock_abi *)0)->flags))

struct watch {
	const char *path;
	const char *name;	/* file name of path, for the state line */
	bool file_mode;		/* --file: a plain file, no poll() */
	bool quiet, verbose, no_mmap;
	unsigned long count;	/* disruptions to wait for; 0: unlimited */
	double timeout_s;	/* 0: none */

	int fd;
	const struct vmclock_abi *map;	/* NULL: read through pread only */
	size_t map_len;
	u32 size;		/* bytes of the structure we may read */
	struct vmclock_abi copy;	/* the last pread() result */
};

/* The values whose change is a disruption, plus what the lines show. */
struct state {
	u32 seq;
	u64 marker;
	bool gen_present;
	u64 gen;
	u8 status;
};

static const char *prog = "vmclock-watch";

static void __attribute__((format(printf, 1, 2))) msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * NS_PER_SEC + (u64)ts.tv_nsec;
}

static void sleep_ns(u64 ns)
{
	struct timespec ts = {
		.tv_sec = ns / NS_PER_SEC,
		.tv_nsec = ns % NS_PER_SEC,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const char *status_name(u8 status)
{
	static char other[16];

	switch (status) {
	case VMCLOCK_STATUS_UNKNOWN:		return "UNKNOWN";
	case VMCLOCK_STATUS_INITIALIZING:	return "INITIALIZING";
	case VMCLOCK_STATUS_SYNCHRONIZED:	return "SYNCHRONIZED";
	case VMCLOCK_STATUS_FREERUNNING:	return "FREERUNNING";
	case VMCLOCK_STATUS_UNRELIABLE:		return "UNRELIABLE";
	}
	snprintf(other, sizeof(other), "RESERVED_%u", status);
	return other;
}

/* "absent" or the decimal value; @buf must hold 21 bytes. */
static const char *gen_str(const struct state *s, char *buf, size_t len)
{
	if (!s->gen_present)
		return "absent";
	snprintf(buf, len, "%llu", (unsigned long long)s->gen);
	return buf;
}

/*
 * Open the page and check that it is a VMClock page at all. The header
 * (magic, size, version) is not covered by seq_count: it is fixed for the
 * page's life, so checking it once is enough.
 */
static int watch_open(struct watch *w)
{
	long page = sysconf(_SC_PAGESIZE);
	u64 deadline;
	ssize_t n;
	u32 magic, size;
	u16 version;

	/* Read-only is all a reader needs (and all udev's 0644 allows). */
	w->fd = open(w->path, O_RDONLY | O_CLOEXEC);
	if (w->fd < 0) {
		int e = errno;

		msg("cannot open %s: %s", w->path, strerror(e));
		if (!w->file_mode && e == ENOENT)
			msg("is ptp_vmclock loaded, and does the hypervisor provide a VMClock page of at least one page?");
		if (!w->file_mode && e == EACCES)
			msg("the kernel creates it mode 0600: run as root or install udev/60-vmclock.rules (0644)");
		return -1;
	}

	/* EBUSY: the driver found no consistent copy this time; bounded. */
	deadline = mono_ns() + READ_BOUND_NS;
	do {
		n = pread(w->fd, &w->copy, sizeof(w->copy), 0);
		if (n < 0 && errno == EBUSY && mono_ns() < deadline)
			sleep_ns(1000000);
	} while (n < 0 && (errno == EINTR ||
			   (errno == EBUSY && mono_ns() < deadline)));
	if (n < 0) {
		msg("cannot read %s: %s", w->path, strerror(errno));
		return -1;
	}
	if ((size_t)n < MIN_PAGE_SIZE) {
		msg("%s: only %zd bytes, not a VMClock page", w->path, n);
		return -1;
	}
	magic = vmclock_le32(w->copy.magic);
	size = vmclock_le32(w->copy.size);
	version = vmclock_le16(w->copy.version);
	if (magic != VMCLOCK_MAGIC) {
		msg("%s: bad magic 0x%08x, not a VMClock page", w->path, magic);
		return -1;
	}
	if (version != 1) {
		msg("%s: unsupported version %u", w->path, version);
		return -1;
	}
	if (size < MIN_PAGE_SIZE) {
		msg("%s: size %u is below the %zu-byte header", w->path, size,
		    MIN_PAGE_SIZE);
		return -1;
	}
	/*
	 * Fields beyond what the page's size says, or beyond what we could
	 * read, are absent: vmclock_snap_read() then reports them as zero.
	 */
	w->size = size < (u32)n ? size : (u32)n;

	/*
	 * The mapping is the cheap way to look at the page: no system call per
	 * look. The driver allows exactly one page at offset 0, read-only.
	 * Without it (old driver, no mmap support) pread() alone works too,
	 * since the driver hands out a consistent copy.
	 */
	if (!w->no_mmap) {
		void *p = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED,
			       w->fd, 0);

		if (p == MAP_FAILED) {
			if (!w->quiet)
				msg("note: mmap of %s failed (%s); reading with pread() only",
				    w->path, strerror(errno));
		} else {
			w->map = p;
			w->map_len = (size_t)page;
		}
	}
	return 0;
}

/*
 * Take a consistent snapshot of the page into @s.
 *
 * First pread(): on /dev/vmclockN this tells the driver which seq_count
 * this file has now seen, so poll() sleeps until the next one (it is the
 * re-arm step; mapping reads are invisible to the driver). Then the seq
 * reader of the core on the mapping. The mapping is read after pread(), so
 * it is never older than what the driver recorded: if the page moved on in
 * between, poll() simply returns at once and the next look finds no change.
 *
 * A writer leaves seq_count odd for microseconds; one that stays odd (or
 * keeps changing it) for READ_BOUND_NS is broken, and we give up.
 */
static int read_state(struct watch *w, struct state *s)
{
	u64 deadline = mono_ns() + READ_BOUND_NS;
	struct vmclock_snap snap;
	unsigned int tries = 0;
	ssize_t n;

	for (;;) {
		n = pread(w->fd, &w->copy, sizeof(w->copy), 0);
		if (n < 0 && errno != EINTR && errno != EBUSY) {
			msg("%s: read failed: %s%s", w->path, strerror(errno),
			    errno == ENODEV ? " (device unbound?)" : "");
			return -1;
		}
		if (n >= 0 && (size_t)n < w->size) {
			msg("%s: page shrank to %zd bytes", w->path, n);
			return -1;
		}
		/* -EAGAIN: seq_count was odd or changed under us; retry. */
		if (n >= 0 && !vmclock_snap_read(w->map ? w->map : &w->copy,
						 w->size, &snap, NULL, NULL))
			break;
		if (mono_ns() > deadline) {
			msg("%s: no consistent copy within %llu ms (seq_count stays odd or keeps changing: hypervisor writer stuck?)",
			    w->path, READ_BOUND_NS / 1000000);
			return -1;
		}
		/* Spin briefly (updates are short), then back off. */
		if (++tries > 100)
			sleep_ns(1000000);
	}

	s->seq = snap.seq;
	s->marker = snap.disruption_marker;
	/* The generation counter means something only with its flag. */
	s->gen_present = (snap.flags & VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT) &&
			 VMCLOCK_COVERS(w->size, vm_generation_counter);
	s->gen = s->gen_present ? snap.vm_generation_counter : 0;
	s->status = snap.clock_status;
	return 0;
}

/* Time left before -t expires, in ns; U64_MAX without -t. */
static u64 time_left(u64 deadline)
{
	u64 now;

	if (!deadline)
		return U64_MAX;
	now = mono_ns();
	return now >= deadline ? 0 : deadline - now;
}

/*
 * Sleep until the page may have changed.
 * Return: 0 woken (*woke_at set), EXIT_TIMEOUT, or EXIT_ERROR.
 */
static int wait_change(struct watch *w, u64 deadline, u64 *woke_at)
{
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
	u64 left;
	int ms, r;

	for (;;) {
		left = time_left(deadline);
		if (!left)
			return EXIT_TIMEOUT;

		/*
		 * A regular file is always "readable": poll() cannot tell when
		 * it changed, so --file mode looks every FILE_INTERVAL_NS.
		 */
		if (w->file_mode) {
			sleep_ns(left < FILE_INTERVAL_NS ? left : FILE_INTERVAL_NS);
			if (!time_left(deadline))
				return EXIT_TIMEOUT;
			*woke_at = mono_ns();
			return 0;
		}

		/* Round up: waking 1 ms early would just loop again. */
		if (left == U64_MAX)
			ms = -1;
		else if (left / 1000000 >= INT_MAX)
			ms = INT_MAX;
		else
			ms = (int)((left + 999999) / 1000000);

		r = poll(&pfd, 1, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			msg("%s: poll failed: %s", w->path, strerror(errno));
			return EXIT_ERROR;
		}
		if (r == 0)
			continue;	/* time_left() decides */
		*woke_at = mono_ns();

		if (pfd.revents & POLLNVAL) {
			msg("%s: poll: invalid file", w->path);
			return EXIT_ERROR;
		}
		if (pfd.revents & POLLERR) {
			msg("%s: poll: device gone (driver unbound or module removed)",
			    w->path);
			return EXIT_ERROR;
		}
		if (pfd.revents & POLLHUP) {
			msg("%s: poll: POLLHUP: the driver cannot signal page changes (the page has no NOTIFICATION_PRESENT and poll_interval_ms is 0); set /sys/module/ptp_vmclock/parameters/poll_interval_ms to e.g. 100, or poll the page yourself",
			    w->path);
			return EXIT_ERROR;
		}
		if (pfd.revents & POLLIN)
			return 0;
	}
}

static void print_state(const struct watch *w, const struct state *s)
{
	char g[24];

	if (w->quiet)
		return;
	printf("%s seq=%u disruption_marker=%llu vm_generation_counter=%s clock_status=%s\n",
	       w->name, s->seq, (unsigned long long)s->marker,
	       gen_str(s, g, sizeof(g)), status_name(s->status));
}

static void print_disruption(const struct watch *w, const struct state *old,
			     const struct state *cur, u64 woke_at)
{
	char g0[24], g1[24];

	if (w->quiet)
		return;
	printf("disruption seq=%u disruption_marker=%llu->%llu vm_generation_counter=%s->%s woke_at=%llu\n",
	       cur->seq, (unsigned long long)old->marker,
	       (unsigned long long)cur->marker, gen_str(old, g0, sizeof(g0)),
	       gen_str(cur, g1, sizeof(g1)), (unsigned long long)woke_at);
}

static int watch_loop(struct watch *w)
{
	u64 deadline = 0, woke_at;
	unsigned long seen = 0;
	struct state last, cur;
	int rc;

	if (w->timeout_s > 0)
		deadline = mono_ns() + (u64)(w->timeout_s * 1e9);

	/* The first read also tells the driver what we have seen. */
	if (read_state(w, &last))
		return EXIT_ERROR;
	print_state(w, &last);

	for (;;) {
		rc = wait_change(w, deadline, &woke_at);
		if (rc == EXIT_TIMEOUT) {
			if (!w->quiet)
				msg("timeout after %g s (%lu disruption%s seen)",
				    w->timeout_s, seen, seen == 1 ? "" : "s");
			return EXIT_TIMEOUT;
		}
		if (rc)
			return rc;
		if (read_state(w, &cur))
			return EXIT_ERROR;

		if (cur.marker != last.marker ||
		    cur.gen_present != last.gen_present ||
		    cur.gen != last.gen) {
			/*
			 * This is where a database acts: see "WHAT A DATABASE
			 * SHOULD DO" at the top. cur.status tells whether the
			 * clock is already trustworthy again (SYNCHRONIZED).
			 */
			print_disruption(w, &last, &cur, woke_at);
			seen++;
		} else if (cur.seq != last.seq && w->verbose && !w->quiet) {
			printf("update seq=%u clock_status=%s woke_at=%llu\n",
			       cur.seq, status_name(cur.status),
			       (unsigned long long)woke_at);
		}
		last = cur;
		if (w->count && seen >= w->count)
			return EXIT_DONE;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-d DEVICE | --file PATH] [-n COUNT] [-t TIMEOUT_S] [-q] [-v] [--no-mmap]\n"
		"  -d DEVICE      VMClock device (default %s)\n"
		"  --file PATH    read a VMClock page from a plain file at offset 0\n"
		"                 (tests); looks every 100 ms instead of poll()\n"
		"  -n COUNT       exit 0 after COUNT disruptions (default: never)\n"
		"  -t TIMEOUT_S   exit 1 after TIMEOUT_S seconds\n"
		"  -q             print nothing on stdout; use the exit status\n"
		"  -v             also print ordinary updates (new seq_count only)\n"
		"  --no-mmap      read with pread() only, as when mmap fails\n"
		"exit status: 0 COUNT disruptions seen, 1 timeout, 2 bad arguments,\n"
		"             3 error or POLLHUP (driver cannot signal changes)\n",
		prog, DEFAULT_DEVICE);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'F' },
		{ "no-mmap", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch w = { .fd = -1 };
	const char *dev = NULL, *file = NULL, *slash;
	unsigned long long ull;
	char *end;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "d:n:t:qvh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'F':
			file = optarg;
			break;
		case 'n':
			errno = 0;
			ull = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || !ull ||
			    ull > ULONG_MAX || optarg[0] == '-') {
				msg("-n wants a count of at least 1, not '%s'",
				    optarg);
				return EXIT_USAGE;
			}
			w.count = ull;
			break;
		case 't':
			errno = 0;
			w.timeout_s = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !isfinite(w.timeout_s) || w.timeout_s <= 0 ||
			    w.timeout_s > 1e9) {
				msg("-t wants a positive number of seconds, not '%s'",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'q':
			w.quiet = true;
			break;
		case 'v':
			w.verbose = true;
			break;
		case 'M':
			w.no_mmap = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_DONE;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		msg("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (dev && file) {
		msg("-d and --file exclude each other");
		return EXIT_USAGE;
	}
	w.file_mode = file != NULL;
	w.path = file ? file : dev ? dev : DEFAULT_DEVICE;
	slash = strrchr(w.path, '/');
	w.name = slash ? slash + 1 : w.path;

	/* Lines must reach a pipe or log at once, not when a buffer fills. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (watch_open(&w))
		rc = EXIT_ERROR;
	else
		rc = watch_loop(&w);

	if (w.map)
		munmap((void *)w.map, w.map_len);
	if (w.fd >= 0)
		close(w.fd);
	return rc;
}
