// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock-insns: guest instructions per call of the driver's shared paths,
 * for a guest under QEMU -icount shift=0 (bench/icount.py). There the
 * guest TSC advances one tick per executed guest instruction, so a TSC
 * difference counts instructions: of this program, of the kernel, of any
 * interrupt that lands in between. Each path is called CALLS times and the
 * cheapest call is the figure: an interrupt, an allocator refill or a page
 * retry only ever adds, so the minimum is the path itself, and it repeats
 * exactly from run to run.
 *
 *   vmclock-insns --ptp /dev/ptpN --dev /dev/vmclock0
 *   -> insns extended=N precise=N gettime=N read=N   (per call; extended
 *      per sample of a 25-sample PTP_SYS_OFFSET_EXTENDED2; loop: the two
 *      counter reads, already taken off the others)
 *
 *   vmclock-insns --wait N --dev /dev/vmclock0
 *   -> N times: poll() until the page changes, then write "vmclock-woke"
 *      to the trace buffer (tracefs trace_marker) and read() the page; then
 *      "woke n=N". The Notify hop is measured in the trace: from the
 *      driver's notify handler (a kprobe) to the marker (bench/boots).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>
#include <linux/ptp_clock.h>

#define CALLS	500
#define TRACE_MARKER	"/sys/kernel/tracing/trace_marker"
#define WAIT_MS		10000	/* for one change: the host bumps every 0.5 s */
#define FD_TO_CLOCKID(fd)	((~(clockid_t)(fd) << 3) | 3)	/* posix-clock.h */

static int ptp_fd, dev_fd;

static uint64_t insns_now(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}

static bool call_extended(void)
{
	struct ptp_sys_offset_extended req;

	memset(&req, 0, sizeof(req));
	req.n_samples = PTP_MAX_SAMPLES;
	return !ioctl(ptp_fd, PTP_SYS_OFFSET_EXTENDED2, &req);
}

static bool call_precise(void)
{
	struct ptp_sys_offset_precise req;

	memset(&req, 0, sizeof(req));
	return !ioctl(ptp_fd, PTP_SYS_OFFSET_PRECISE2, &req);
}

static bool call_gettime(void)
{
	struct timespec ts;

	return !clock_gettime(FD_TO_CLOCKID(ptp_fd), &ts);
}

static bool call_read(void)
{
	static char page[4096];

	return pread(dev_fd, page, sizeof(page), 0) > 0;
}

static bool call_nothing(void)
{
	return true;
}

/*
 * Instructions of the cheapest of CALLS calls; -1 when a call failed. One
 * call at a time: a batch would take in the allocator's occasional refill
 * (the ioctl and read() paths allocate) and vary by a few instructions.
 */
static int64_t insns_per_call(bool (*fn)(void))
{
	uint64_t best = UINT64_MAX;
	int i;

	if (!fn())		/* the first call may choose or fault in */
		return -1;
	for (i = 0; i < CALLS; i++) {
		uint64_t t0 = insns_now(), t1;
		bool ok = fn();

		t1 = insns_now();
		if (!ok)
			return -1;
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return (int64_t)best;
}

/* --wait: @n wake-ups of a reader blocked in poll(), each marked in the trace. */
static int wait_wakes(const char *dev, long n)
{
	static char page[4096];
	struct pollfd pfd;
	int marker;
	long i;

	pfd.fd = open(dev, O_RDONLY | O_CLOEXEC);
	marker = open(TRACE_MARKER, O_WRONLY | O_CLOEXEC);
	if (pfd.fd < 0 || marker < 0) {
		fprintf(stderr, "vmclock-insns: cannot open %s / %s: %s\n", dev,
			TRACE_MARKER, strerror(errno));
		return 1;
	}
	pfd.events = POLLIN;
	/* Read once, so that poll() waits for the next change. */
	if (pread(pfd.fd, page, sizeof(page), 0) <= 0) {
		fprintf(stderr, "vmclock-insns: read %s: %s\n", dev, strerror(errno));
		return 1;
	}
	printf("waiting\n");
	fflush(stdout);
	for (i = 0; i < n; i++) {
		int r = poll(&pfd, 1, WAIT_MS);

		if (r != 1 || !(pfd.revents & POLLIN)) {
			fprintf(stderr, "vmclock-insns: wake-up %ld: poll() %d revents 0x%x\n",
				i, r, r == 1 ? pfd.revents : 0);
			return 1;
		}
		if (write(marker, "vmclock-woke\n", 13) != 13 ||
		    pread(pfd.fd, page, sizeof(page), 0) <= 0) {
			fprintf(stderr, "vmclock-insns: wake-up %ld: %s\n", i, strerror(errno));
			return 1;
		}
	}
	printf("woke n=%ld\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ptp = NULL, *dev = NULL, *wait = NULL;
	int64_t loop, ext, pre, get, rd;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--ptp"))
			ptp = argv[i + 1];
		else if (!strcmp(argv[i], "--dev"))
			dev = argv[i + 1];
		else if (!strcmp(argv[i], "--wait"))
			wait = argv[i + 1];
		else
			break;
	}
	if (wait && dev && !ptp && i == argc && atol(wait) > 0)
		return wait_wakes(dev, atol(wait));
	if (!ptp || !dev || wait || i != argc) {
		fprintf(stderr, "usage: vmclock-insns --ptp /dev/ptpN --dev /dev/vmclockN\n"
			"       vmclock-insns --wait N --dev /dev/vmclockN\n");
		return 2;
	}
	ptp_fd = open(ptp, O_RDONLY | O_CLOEXEC);
	dev_fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (ptp_fd < 0 || dev_fd < 0) {
		fprintf(stderr, "vmclock-insns: cannot open %s / %s: %s\n", ptp, dev,
			strerror(errno));
		return 1;
	}
	/* The two counter reads around a call, taken off each figure. */
	loop = insns_per_call(call_nothing);
	ext = insns_per_call(call_extended);
	pre = insns_per_call(call_precise);
	get = insns_per_call(call_gettime);
	rd = insns_per_call(call_read);
	if (ext < 0 || pre < 0 || get < 0 || rd < 0) {
		fprintf(stderr, "vmclock-insns: a call failed: %s\n", strerror(errno));
		return 1;
	}
	printf("insns extended=%.2f precise=%lld gettime=%lld read=%lld loop=%lld\n",
	       (double)(ext - loop) / PTP_MAX_SAMPLES, (long long)(pre - loop),
	       (long long)(get - loop), (long long)(rd - loop), (long long)loop);
	return 0;
}
