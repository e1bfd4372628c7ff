// SPDX-License-Identifier: GPL-2.0
/*
 * ptp-show - print what a PTP hardware clock offers and what it reads.
 *
 *   ptp-show /dev/ptpN
 *
 * In order: the capabilities (PTP_CLOCK_GETCAPS2), one clock_gettime() on
 * the clock (with CLOCK_REALTIME around it for context), one
 * PTP_SYS_OFFSET_EXTENDED2 with 3 samples and one PTP_SYS_OFFSET_PRECISE2.
 * Times print as SEC.NSEC, differences in signed ns.
 *
 * Every failing call prints "NAME: failed: <strerror>" and the run goes on
 * with the next one; the exit status is 1 if anything failed (2 for bad
 * arguments), so scripts need not parse the output to see a failure.
 *
 * The *2 ioctls exist since Linux 5.8 and, unlike the originals, reject
 * non-zero reserved fields, so every request is zeroed first. The original
 * variant is tried only when the *2 one is unknown to the kernel (ENOTTY).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/ptp_clock.h>

#define NS_PER_SEC	1000000000LL
#define N_SAMPLES	3

/* The dynamic POSIX clock id of an open PHC (see clock_gettime(2)). */
#define FD_TO_CLOCKID(fd)	((clockid_t)((~(unsigned int)(fd) << 3) | 3))

static int failures;

static void failed(const char *what, int err)
{
	printf("%s: failed: %s\n", what, strerror(err));
	failures++;
}

/*
 * ioctl with the *2 request, and the original one only on ENOTTY (a kernel
 * older than 5.8). *used names the request that answered or failed last.
 */
static int ioctl2(int fd, unsigned long req2, const char *name2,
		  unsigned long req1, const char *name1, void *arg,
		  const char **used)
{
	*used = name2;
	if (!ioctl(fd, req2, arg))
		return 0;
	if (errno != ENOTTY)
		return -1;
	printf("%s: unknown to this kernel (before 5.8?), trying %s\n",
	       name2, name1);
	*used = name1;
	return ioctl(fd, req1, arg);
}

static long long pct_ns(const struct ptp_clock_time *t)
{
	return (long long)t->sec * NS_PER_SEC + t->nsec;
}

static long long ts_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * NS_PER_SEC + t->tv_nsec;
}

static void print_pct(const char *label, const struct ptp_clock_time *t)
{
	printf(" %s=%lld.%09u", label, (long long)t->sec, t->nsec);
}

static void show_caps(int fd)
{
	struct ptp_clock_caps caps;
	const char *name;

	memset(&caps, 0, sizeof(caps));
	if (ioctl2(fd, PTP_CLOCK_GETCAPS2, "PTP_CLOCK_GETCAPS2",
		   PTP_CLOCK_GETCAPS, "PTP_CLOCK_GETCAPS", &caps, &name)) {
		failed(name, errno);
		return;
	}
	printf("%s:\n", name);
	printf("  max_adj %d\n", caps.max_adj);
	printf("  n_alarm %d\n", caps.n_alarm);
	printf("  n_ext_ts %d\n", caps.n_ext_ts);
	printf("  n_per_out %d\n", caps.n_per_out);
	printf("  pps %d\n", caps.pps);
	printf("  n_pins %d\n", caps.n_pins);
	printf("  cross_timestamping %d\n", caps.cross_timestamping);
	printf("  adjust_phase %d\n", caps.adjust_phase);
}

static void show_gettime(int fd)
{
	struct timespec before, phc, after;

	clock_gettime(CLOCK_REALTIME, &before);
	if (clock_gettime(FD_TO_CLOCKID(fd), &phc)) {
		failed("clock_gettime", errno);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &after);
	/* A TAI clock reads about 37 s ahead of CLOCK_REALTIME (UTC). */
	printf("clock_gettime: phc=%lld.%09ld phc-realtime_ns=%lld\n",
	       (long long)phc.tv_sec, phc.tv_nsec,
	       ts_ns(&phc) - (ts_ns(&before) + (ts_ns(&after) - ts_ns(&before)) / 2));
}

static void show_extended(int fd)
{
	struct ptp_sys_offset_extended ext;
	const char *name;
	long long pre, post;
	unsigned int i;

	memset(&ext, 0, sizeof(ext));
	ext.n_samples = N_SAMPLES;
	if (ioctl2(fd, PTP_SYS_OFFSET_EXTENDED2, "PTP_SYS_OFFSET_EXTENDED2",
		   PTP_SYS_OFFSET_EXTENDED, "PTP_SYS_OFFSET_EXTENDED", &ext,
		   &name)) {
		failed(name, errno);
		return;
	}
	printf("%s: n_samples=%u\n", name, ext.n_samples);
	/* ts[i] = { system before, PHC, system after } (CLOCK_REALTIME). */
	for (i = 0; i < ext.n_samples && i < PTP_MAX_SAMPLES; i++) {
		pre = pct_ns(&ext.ts[i][0]);
		post = pct_ns(&ext.ts[i][2]);
		printf("  sample %u:", i);
		print_pct("sys_before", &ext.ts[i][0]);
		print_pct("phc", &ext.ts[i][1]);
		print_pct("sys_after", &ext.ts[i][2]);
		/* offset from the midpoint of the bracket; width = its error */
		printf(" offset_ns=%lld width_ns=%lld\n",
		       pct_ns(&ext.ts[i][1]) - (pre + (post - pre) / 2),
		       post - pre);
	}
}

static void show_precise(int fd)
{
	struct ptp_sys_offset_precise pre;
	const char *name;

	memset(&pre, 0, sizeof(pre));
	if (ioctl2(fd, PTP_SYS_OFFSET_PRECISE2, "PTP_SYS_OFFSET_PRECISE2",
		   PTP_SYS_OFFSET_PRECISE, "PTP_SYS_OFFSET_PRECISE", &pre,
		   &name)) {
		failed(name, errno);
		return;
	}
	printf("%s:", name);
	print_pct("device", &pre.device);
	print_pct("sys_realtime", &pre.sys_realtime);
	print_pct("sys_monoraw", &pre.sys_monoraw);
	printf(" device-realtime_ns=%lld\n",
	       pct_ns(&pre.device) - pct_ns(&pre.sys_realtime));
}

int main(int argc, char **argv)
{
	int fd;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: ptp-show /dev/ptpN\n"
			"exit status: 0 all calls worked, 1 any failed, 2 usage\n");
		return 2;
	}
	/* Read-only is enough for every call here (chrony does the same). */
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("open %s: failed: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("device: %s\n", argv[1]);
	show_caps(fd);
	show_gettime(fd);
	show_extended(fd);
	show_precise(fd);
	close(fd);
	return failures ? 1 : 0;
}
