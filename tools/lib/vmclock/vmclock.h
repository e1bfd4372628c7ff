/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * libvmclock: time with error bounds, and clock disruptions, from a VMClock
 * page (/dev/vmclockN), without a daemon.
 *
 * Every call returns 0 (or a documented positive value) on success and a
 * negative errno value on failure; vmclock_strerror() turns one into a
 * message with a hint. See vmclock(7) and the per-call man pages.
 *
 * Threads: a handle may be used by any number of threads at once. After
 * vmclock_open() it is never written except for atomic words: the
 * disruption baseline of vmclock_now() (marker and generation, relaxed) and
 * the waiter flag of vmclock_wait(); vmclock_now() and the token calls
 * otherwise only read the shared page. Fork: a child may keep using a handle it inherited (the mapping and
 * the descriptor are shared, the descriptor is close-on-exec).
 */
#ifndef VMCLOCK_H
#define VMCLOCK_H

#include <errno.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMCLOCK_DEFAULT_DEVICE	"/dev/vmclock0"

struct vmclock;		/* an open page: opaque */

/* The page's fields, decoded from one consistent copy. */
struct vmclock_snapshot {
	uint32_t size;			/* the page's size field */
	uint16_t version;
	uint8_t counter_id;		/* 0 Arm virtual counter, 1 x86 TSC, 0xff none */
	uint8_t time_type;		/* 0 UTC, 1 TAI, 2 monotonic, 3/4 smeared */
	uint32_t seq_count;		/* the even value the copy belongs to */
	uint64_t disruption_marker;
	uint64_t flags;			/* VMCLOCK_FLAG_* bits of the ABI */
	uint8_t clock_status;		/* VMCLOCK_STATUS_* of the ABI */
	uint8_t leap_second_smearing_hint;
	int16_t tai_offset_sec;		/* as written (the sign varies) */
	uint8_t leap_indicator;
	uint8_t counter_period_shift;
	uint64_t counter_value;
	uint64_t counter_period_frac_sec;
	uint64_t counter_period_esterror_rate_frac_sec;
	uint64_t counter_period_maxerror_rate_frac_sec;
	uint64_t time_sec;
	uint64_t time_frac_sec;
	uint64_t time_esterror_nanosec;
	uint64_t time_maxerror_nanosec;
	uint64_t vm_generation_counter;	/* 0 unless the page has one */
};

/* What vmclock_now() says about the time it returns. */
enum vmclock_status {
	VMCLOCK_UNKNOWN = 0,		/* page status unknown or initializing */
	VMCLOCK_SYNCHRONIZED = 1,
	VMCLOCK_FREE_RUNNING = 2,	/* bounds still hold, they grow */
	VMCLOCK_UNRELIABLE = 3,		/* the hypervisor says: do not trust */
	VMCLOCK_DISRUPTED = 4,		/* marker or generation changed, page
					 * not synchronized again since */
};

/* Where a time range comes from. */
enum vmclock_source {
	VMCLOCK_SOURCE_NONE = 0,	/* not available: fields are zero */
	VMCLOCK_SOURCE_SYSTEM = 1,	/* clock_gettime(); bounds unknown */
	VMCLOCK_SOURCE_PAGE = 2,	/* the page and this CPU's counter */
};

/* A struct timespec of its own: that one needs POSIX feature macros. */
struct vmclock_timespec {
	int64_t tv_sec;
	long tv_nsec;			/* 0..999999999 */
};

struct vmclock_range {
	struct vmclock_timespec earliest;	/* true time is not before this */
	struct vmclock_timespec latest;	/* ... and not after this */
	uint8_t source;			/* enum vmclock_source */
	uint8_t bounded;		/* 1: the range is the page's maximum
					 * error; 0: unknown (earliest ==
					 * latest, the best estimate) */
};

struct vmclock_now {
	struct vmclock_range realtime;	/* UTC, as CLOCK_REALTIME */
	struct vmclock_range tai;	/* TAI; source NONE without an offset */
	int status;			/* enum vmclock_status */
	uint8_t leap_indicator;		/* the page's, for UTC users */
	uint64_t disruption_marker;	/* the values it was computed under */
	uint64_t vm_generation_counter;
};

/* Taken before a timestamp, checked after it: see vmclock_token_check(). */
struct vmclock_token {
	uint64_t disruption_marker;
	uint64_t vm_generation_counter;
};

/* How vmclock_wait() learns of page changes. */
enum vmclock_wait_mode {
	VMCLOCK_WAIT_NOTIFY = 1,	/* the driver's poll() */
	VMCLOCK_WAIT_PERIODIC = 2,	/* the library looks every 100 ms */
};

/* Library-specific errors (besides the usual errno values). */
#define VMCLOCK_EBADMAGIC	(-EPROTO)		/* not a VMClock page */
#define VMCLOCK_EBADVERSION	(-EPROTONOSUPPORT)	/* version is not 1 */
#define VMCLOCK_EBADSIZE	(-EBADMSG)		/* page too small */

/* Open @path (NULL: /dev/vmclock0): a device or a file holding a page. */
int vmclock_open(const char *path, struct vmclock **vcp);
void vmclock_close(struct vmclock *vc);

/* A consistent copy of the page. */
int vmclock_snapshot(struct vmclock *vc, struct vmclock_snapshot *snap);

/* The time now, with bounds and status. No system call with clock data. */
int vmclock_now(struct vmclock *vc, struct vmclock_now *now);

/* The disruption token: take before a timestamp, check after it. */
int vmclock_token_take(struct vmclock *vc, struct vmclock_token *tok);
/* 1: no disruption since @tok was taken; 0: disrupted; <0: error. */
int vmclock_token_check(struct vmclock *vc, const struct vmclock_token *tok);

/* Forget disruptions seen so far: vmclock_now() stops saying DISRUPTED. */
int vmclock_ack(struct vmclock *vc);

/*
 * Block until the page's marker or generation differs from @tok, or
 * @timeout_ms passes (-1: forever). 1: disrupted (@tok unchanged),
 * 0: timeout, <0: error.
 */
int vmclock_wait(struct vmclock *vc, const struct vmclock_token *tok,
		 int timeout_ms);
/* A descriptor for poll()/epoll: readable when vmclock_wait(vc, tok, 0) is due. */
int vmclock_fd(struct vmclock *vc);
int vmclock_wait_mode(struct vmclock *vc);

/* A message for a negative return value, with a hint; never NULL. */
const char *vmclock_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* VMCLOCK_H */
