// SPDX-License-Identifier: GPL-2.0
/*
 * rig-guest: plays the guest side for test.sh on a plain file. It shares
 * nothing with vmclock-host but the two headers, so it checks the tool
 * against an independent reading of the ABI and of the mailbox.
 *
 *  page-time FILE PAGE_OFF COUNTER_OFF TAI_SEC MS
 *      read the page with the reader protocol for MS ms (counter = host
 *      rdtsc + COUNTER_OFF), compare each reading with CLOCK_REALTIME +
 *      TAI_SEC (pairs not taken within 20000 ticks are skipped as "slow");
 *      print "reads=N retries=R slow=S max_abs_diff_ns=D last_diff_ns=L"
 *  tsc-echo FILE MB_OFF OFFSET MS [DRIFT [DELAY_US]]  answer the mailbox
 *      pings for MS ms with rdtsc + OFFSET (+ DRIFT ticks more for every ms
 *      since start: an offset that moves, as multi-threaded TCG's does),
 *      each answer DELAY_US after its reading (a slow, loaded guest)
 *  phc-echo FILE MB_OFF OFFSET_NS MS  answer them with REALTIME + 37 s +
 *      OFFSET_NS
 *  vcnt-echo FILE MB_OFF OFFSET MS HZ  answer them as an arm64 guest's
 *      virtual counter under QEMU TCG does: whole ticks of 10^9/HZ ns of
 *      CLOCK_MONOTONIC, + OFFSET
 *  request FILE MB_OFF TEXT TIMEOUT_MS  post a request, wait for the ack;
 *      print "result=R" and the reply; exit 0 only when acked
 *  tsc                               print the host rdtsc (brackets bump)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "linux/vmclock-abi.h"
#include "rig-mailbox.h"

#define LOAD(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

static uint8_t *map(const char *file, const char *off_s)
{
	unsigned long long off = strtoull(off_s, NULL, 0);
	long pg = sysconf(_SC_PAGESIZE);
	int fd = open(file, O_RDWR);
	uint8_t *p;

	if (fd < 0) {
		perror(file);
		exit(2);
	}
	p = mmap(NULL, 0x1000 + off % pg, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, (off_t)(off - off % pg));
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	close(fd);
	return p + off % pg;
}

static int64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t tsc(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}

/* Page time at counter c in ns since the epoch of its scale. */
static int64_t page_ns(const struct vmclock_abi *v, uint64_t c)
{
	int64_t delta = (int64_t)(c - v->counter_value);
	uint64_t mag = delta < 0 ? -(uint64_t)delta : (uint64_t)delta;
	unsigned __int128 d = ((unsigned __int128)mag * v->counter_period_frac_sec) >>
			      v->counter_period_shift;	/* 2^-64 s */
	unsigned __int128 t = ((unsigned __int128)v->time_sec << 64) + v->time_frac_sec;

	t = delta < 0 ? t - d : t + d;
	return (int64_t)(t >> 64) * 1000000000 +
	       (int64_t)(((t & UINT64_MAX) * 1000000000) >> 64);
}

static int page_time(char **a)
{
	const struct vmclock_abi *pg = (const void *)map(a[0], a[1]);
	int64_t coff = strtoll(a[2], NULL, 0), tai = strtoll(a[3], NULL, 0);
	int64_t end = now_ns(CLOCK_MONOTONIC) + strtoll(a[4], NULL, 0) * 1000000;
	int64_t maxd = 0, last = 0;
	long reads = 0, retries = 0, slow = 0;

	do {
		struct vmclock_abi v;
		uint32_t seq = LOAD(pg->seq_count);
		int64_t host, t;
		uint64_t c, c2;

		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		memcpy(&v, (const void *)pg, sizeof(v));
		c = tsc();
		host = now_ns(CLOCK_REALTIME) + tai * 1000000000;
		c2 = tsc();
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if ((seq & 1) || seq != LOAD(pg->seq_count)) {
			retries++;
			continue;
		}
		/* preempted between the reads: not a comparison of clocks */
		if (c2 - c > 20000) {
			slow++;
			continue;
		}
		c = c + (c2 - c) / 2 + (uint64_t)coff;
		t = page_ns(&v, c);
		last = t - host;
		if (llabs(last) > maxd)
			maxd = llabs(last);
		reads++;
	} while (now_ns(CLOCK_MONOTONIC) < end);
	printf("reads=%ld retries=%ld slow=%ld max_abs_diff_ns=%lld last_diff_ns=%lld\n",
	       reads, retries, slow, (long long)maxd, (long long)last);
	return reads ? 0 : 1;
}

enum echo_clock { ECHO_TSC, ECHO_PHC, ECHO_VCNT };

static int echo(char **a, enum echo_clock what, int64_t arg, int64_t delay_us)
{
	uint8_t *mb = map(a[0], a[1]);
	uint64_t *ping = (uint64_t *)(mb + RIG_MB_PING);
	uint64_t *pong = (uint64_t *)(mb + RIG_MB_PONG);
	uint64_t *value = (uint64_t *)(mb + RIG_MB_PONG_VALUE);
	int64_t off = strtoll(a[2], NULL, 0);
	int64_t start = now_ns(CLOCK_MONOTONIC);
	int64_t end = start + strtoll(a[3], NULL, 0) * 1000000;
	uint64_t last = __atomic_load_n(pong, __ATOMIC_ACQUIRE);
	unsigned int i;

	while (now_ns(CLOCK_MONOTONIC) < end) {
		for (i = 0; i < 1024; i++) {
			uint64_t n = __atomic_load_n(ping, __ATOMIC_ACQUIRE), v;

			if (n == last)
				continue;
			if (what == ECHO_PHC) {
				v = (uint64_t)(now_ns(CLOCK_REALTIME) + 37000000000LL + off);
			} else if (what == ECHO_VCNT) {
				/* arg: HZ; QEMU's tick is a whole number of ns */
				v = (uint64_t)(now_ns(CLOCK_MONOTONIC) / (1000000000 / arg) + off);
			} else {
				/* arg: drift in ticks per ms */
				int64_t moved = arg *
					((now_ns(CLOCK_MONOTONIC) - start) / 1000000);

				v = tsc() + (uint64_t)(off + moved);
			}
			if (delay_us) {
				int64_t until = now_ns(CLOCK_MONOTONIC) +
						delay_us * 1000;

				while (now_ns(CLOCK_MONOTONIC) < until)
					;
			}
			__atomic_store_n(value, v, __ATOMIC_RELEASE);
			__atomic_store_n(pong, n, __ATOMIC_RELEASE);
			last = n;
		}
	}
	return 0;
}

static int request(char **a)
{
	uint8_t *mb = map(a[0], a[1]);
	int64_t end = now_ns(CLOCK_MONOTONIC) + strtoll(a[3], NULL, 0) * 1000000;
	uint32_t *req = (uint32_t *)(mb + RIG_MB_REQ_SEQ);
	uint32_t *ack = (uint32_t *)(mb + RIG_MB_ACK_SEQ);
	uint32_t seq;

	strncpy((char *)mb + RIG_MB_REQ_TEXT, a[2], RIG_MB_REQ_MAX - 1);
	mb[RIG_MB_REQ_TEXT + RIG_MB_REQ_MAX - 1] = 0;
	seq = LOAD(*req) + 1;
	__atomic_store_n(req, seq, __ATOMIC_RELEASE);
	while (__atomic_load_n(ack, __ATOMIC_ACQUIRE) != seq) {
		if (now_ns(CLOCK_MONOTONIC) > end) {
			printf("timeout req=%u ack=%u\n", seq, LOAD(*ack));
			return 1;
		}
		usleep(1000);
	}
	printf("result=%d\n%.*s", (int32_t)LOAD(*(uint32_t *)(mb + RIG_MB_RESULT)),
	       RIG_MB_REPLY_MAX, (char *)mb + RIG_MB_REPLY_TEXT);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 7 && !strcmp(argv[1], "page-time"))
		return page_time(argv + 2);
	if (argc >= 6 && argc <= 8 && !strcmp(argv[1], "tsc-echo"))
		return echo(argv + 2, ECHO_TSC, argc >= 7 ? strtoll(argv[6], NULL, 0) : 0,
			    argc == 8 ? strtoll(argv[7], NULL, 0) : 0);
	if (argc == 6 && !strcmp(argv[1], "phc-echo"))
		return echo(argv + 2, ECHO_PHC, 0, 0);
	if (argc == 7 && !strcmp(argv[1], "vcnt-echo") && strtoll(argv[6], NULL, 0) > 0)
		return echo(argv + 2, ECHO_VCNT, strtoll(argv[6], NULL, 0), 0);
	if (argc == 6 && !strcmp(argv[1], "request"))
		return request(argv + 2);
	if (argc == 2 && !strcmp(argv[1], "tsc"))
		return printf("%llu\n", (unsigned long long)tsc()) < 0;
	fprintf(stderr, "usage: see the comment at the top of rig-guest.c\n");
	return 2;
}
