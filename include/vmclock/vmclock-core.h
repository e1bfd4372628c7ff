/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Kernel-neutral, header-only VMClock core: a consistent snapshot of the
 * shared page and the counter-to-time arithmetic with error bounds.
 *
 * One source of truth for the driver (drivers/ptp/vmclock), the user-space
 * library and the host-side unit tests. It never trusts the page: every value
 * is bounded before it is used, and failures are negative errno values.
 *
 * The including environment is picked by __KERNEL__:
 *  - kernel: <linux/types.h> (u8..u64, and u128 on every 64-bit
 *    architecture), <linux/errno.h>, le*_to_cpu, READ_ONCE, virt_rmb
 *  - user space: <stdint.h>, <errno.h>, compiler byte swaps, volatile
 *    loads and acquire fences; the kernel's u8..u64/s8..s64/u128 names are
 *    provided below.
 *
 * CONTRACT (the driver is written against these exact names):
 *
 * struct vmclock_snap      -- CPU-order copy of the seq-protected fields
 * vmclock_snap_read()      -- one attempt of the seq reader
 * vmclock_clock_read()     -- one attempt at the clock fields alone
 * vmclock_disruption_read() -- one attempt at the marker and generation only
 * vmclock_snap_instant()   -- counter -> time in the page's scale
 * vmclock_snap_time()      -- the same, + error bounds
 * vmclock_scale_offset()   -- seconds to add to reach TAI or UTC
 * vmclock_pvclock_ns()     -- kvm-clock (pvclock) TSC -> ns conversion
 */
#ifndef __VMCLOCK_CORE_H__
#define __VMCLOCK_CORE_H__

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/stddef.h>
#include <linux/limits.h>
#include <linux/compiler.h>
#include <asm/barrier.h>
#include <asm/byteorder.h>

#define VMCLOCK_LOAD(x)		READ_ONCE(x)
/* Orders the seq_count loads against the field loads (see snap_read). */
#define vmclock_rmb()		virt_rmb()
#define vmclock_le16(x)		le16_to_cpu(x)
#define vmclock_le32(x)		le32_to_cpu(x)
#define vmclock_le64(x)		le64_to_cpu(x)
#else
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
/* 128-bit intermediates for 64x64-bit products, as the kernel's u128. */
__extension__ typedef unsigned __int128 u128;

#ifndef U64_MAX
#define U64_MAX			UINT64_MAX
#endif
/* The page is written by another agent: force one real load per access. */
#define VMCLOCK_LOAD(x)		(*(const volatile __typeof__(x) *)&(x))
#define vmclock_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
/* Not <endian.h>: its le*toh() vanish under a strict -std=c99/c11. */
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define vmclock_le16(x)		((u16)__builtin_bswap16(x))
#define vmclock_le32(x)		((u32)__builtin_bswap32(x))
#define vmclock_le64(x)		((u64)__builtin_bswap64(x))
#else
#define vmclock_le16(x)		((u16)(x))
#define vmclock_le32(x)		((u32)(x))
#define vmclock_le64(x)		((u64)(x))
#endif
#endif

#include "../uapi/linux/vmclock-abi.h"

/*
 * A counter reading before counter_value by this much or more contradicts
 * the page (C1 was sampled at T1, so only counter skew can put a later
 * reading before it). Readings after it are extrapolated however far.
 */
#define VMCLOCK_MAX_BEHIND_SEC	1ULL

/* Requested time scale for vmclock_scale_offset(). */
enum vmclock_scale {
	VMCLOCK_SCALE_TAI,
	VMCLOCK_SCALE_UTC,
};

/* Seq-protected fields, in CPU byte order; absent fields read as zero. */
struct vmclock_snap {
	u32 seq;			/* the even seq_count the copy belongs to */
	u8 counter_id;
	u8 time_type;
	u8 clock_status;
	u8 leap_indicator;
	u8 counter_period_shift;
	s16 tai_offset_sec;
	u64 disruption_marker;
	u64 flags;
	u64 counter_value;
	u64 counter_period;		/* counter_period_frac_sec */
	u64 period_esterror;		/* counter_period_esterror_rate_frac_sec */
	u64 period_maxerror;		/* counter_period_maxerror_rate_frac_sec */
	u64 time_sec;
	u64 time_frac;			/* 2^-64 s */
	u64 time_esterror_ns;
	u64 time_maxerror_ns;
	u64 vm_generation_counter;	/* 0 unless size covers it */
	u64 counter;			/* the CPU counter read inside the window */
};

/* A point in time computed from a snapshot. */
struct vmclock_time {
	u64 sec;		/* whole seconds in the page's time scale */
	u32 nsec;		/* 0..999999999, truncated from frac */
	u64 frac;		/* the full 2^-64 s fraction */
	u64 esterror_ns;	/* U64_MAX/UINT64_MAX: unknown; saturating */
	u64 maxerror_ns;	/* U64_MAX/UINT64_MAX: unknown; saturating */
};

#define VMCLOCK_NSEC_PER_SEC	1000000000ULL

/* True when the first @size bytes of the page hold all of @field. */
#define VMCLOCK_COVERS(size, field)					\
	(offsetof(struct vmclock_abi, field) +				\
	 sizeof(((struct vmclock_abi *)0)->field) <= (size))

/* One little-endian load of @field, or 0 when @size does not cover it. */
#define VMCLOCK_GET(page, size, field, conv)				\
	(VMCLOCK_COVERS(size, field) ? conv(VMCLOCK_LOAD((page)->field)) : 0)

#define vmclock_le8(x)		(x)

/*
 * The seq protocol: vmclock_seq_begin() takes an even seq_count (-EAGAIN
 * while a writer is at work) and orders the field loads after it;
 * vmclock_seq_changed() orders them before the second load and tells
 * whether a writer came in between (the copy is then worthless).
 */
static inline int vmclock_seq_begin(const struct vmclock_abi *page, u32 *seq)
{
	*seq = vmclock_le32(VMCLOCK_LOAD(page->seq_count));
	if (*seq & 1)
		return -EAGAIN;
	vmclock_rmb();
	return 0;
}

static inline bool vmclock_seq_changed(const struct vmclock_abi *page,
				       u32 seq)
{
	vmclock_rmb();
	return vmclock_le32(VMCLOCK_LOAD(page->seq_count)) != seq;
}

/*
 * The fields that turn a counter reading into time in a known scale (what
 * vmclock_snap_instant() and vmclock_scale_offset() use, with counter_id
 * and clock_status), each read as zero when @size does not cover it.
 */
static inline void vmclock_get_clock(const struct vmclock_abi *page, u32 size,
				     struct vmclock_snap *s)
{
	s->counter_id = VMCLOCK_GET(page, size, counter_id, vmclock_le8);
	s->time_type = VMCLOCK_GET(page, size, time_type, vmclock_le8);
	s->flags = VMCLOCK_GET(page, size, flags, vmclock_le64);
	s->clock_status = VMCLOCK_GET(page, size, clock_status, vmclock_le8);
	s->tai_offset_sec = (s16)VMCLOCK_GET(page, size, tai_offset_sec,
					     vmclock_le16);
	s->counter_period_shift = VMCLOCK_GET(page, size, counter_period_shift,
					      vmclock_le8);
	s->counter_value = VMCLOCK_GET(page, size, counter_value, vmclock_le64);
	s->counter_period = VMCLOCK_GET(page, size, counter_period_frac_sec,
					vmclock_le64);
	s->time_sec = VMCLOCK_GET(page, size, time_sec, vmclock_le64);
	s->time_frac = VMCLOCK_GET(page, size, time_frac_sec, vmclock_le64);
}

/*
 * vmclock_snap_read() - one attempt at a consistent copy.
 * @page: the mapped page (never written)
 * @size: bytes of the structure the caller validated (fields beyond are
 *        treated as absent and read as zero); seq_count itself is always
 *        read, so the caller must have checked the page holds the header
 * @snap: filled on success; snap->counter = read_counter(ctx) taken inside
 *        the seq window (read_counter may be NULL: counter left 0)
 * Return: 0 when consistent, -EAGAIN when seq_count was odd or changed.
 * The caller bounds the retries (and maps running out to -EBUSY).
 */
static inline int vmclock_snap_read(const struct vmclock_abi *page, u32 size,
				    struct vmclock_snap *snap,
				    u64 (*read_counter)(void *ctx), void *ctx)
{
	struct vmclock_snap s;	/* every member is assigned below */
	u32 seq;

	if (vmclock_seq_begin(page, &seq))
		return -EAGAIN;

	s.seq = seq;
	vmclock_get_clock(page, size, &s);
	s.disruption_marker = VMCLOCK_GET(page, size, disruption_marker,
					  vmclock_le64);
	s.leap_indicator = VMCLOCK_GET(page, size, leap_indicator,
				       vmclock_le8);
	s.period_esterror = VMCLOCK_GET(page, size,
					counter_period_esterror_rate_frac_sec,
					vmclock_le64);
	s.period_maxerror = VMCLOCK_GET(page, size,
					counter_period_maxerror_rate_frac_sec,
					vmclock_le64);
	s.time_esterror_ns = VMCLOCK_GET(page, size, time_esterror_nanosec,
					 vmclock_le64);
	s.time_maxerror_ns = VMCLOCK_GET(page, size, time_maxerror_nanosec,
					 vmclock_le64);
	s.vm_generation_counter = VMCLOCK_GET(page, size, vm_generation_counter,
					      vmclock_le64);
	/* Inside the window, so a concurrent update forces a retry. */
	s.counter = read_counter ? read_counter(ctx) : 0;

	if (vmclock_seq_changed(page, seq))
		return -EAGAIN;

	*snap = s;
	return 0;
}

/* The page up to time_frac_sec: what vmclock_clock_read() needs. */
#define VMCLOCK_CLOCK_SIZE						\
	(offsetof(struct vmclock_abi, time_frac_sec) +			\
	 sizeof(((struct vmclock_abi *)0)->time_frac_sec))

/*
 * vmclock_clock_read() - one attempt at the clock alone: like
 * vmclock_snap_read(), but loads only seq_count, the fields of
 * vmclock_get_clock() and the counter, for readers that return the time
 * and nothing else (a PTP clock). The caller has checked that the page
 * holds VMCLOCK_CLOCK_SIZE bytes.
 * Writes @snap->seq, the clock fields and @snap->counter, also when the
 * attempt fails, and no other member.
 * Return: 0 when consistent, -EAGAIN when seq_count was odd or changed.
 */
static inline int vmclock_clock_read(const struct vmclock_abi *page,
				     struct vmclock_snap *snap,
				     u64 (*read_counter)(void *ctx), void *ctx)
{
	u32 seq;

	if (vmclock_seq_begin(page, &seq))
		return -EAGAIN;
	snap->seq = seq;
	vmclock_get_clock(page, VMCLOCK_CLOCK_SIZE, snap);
	snap->counter = read_counter ? read_counter(ctx) : 0;
	return vmclock_seq_changed(page, seq) ? -EAGAIN : 0;
}

/*
 * vmclock_disruption_read() - one attempt at the two values whose change is
 * a disruption, under the same seq protocol as vmclock_snap_read() but with
 * four loads instead of the whole page (cheap enough to check per event).
 * @generation: vm_generation_counter when the page covers it and sets
 *              VM_GEN_COUNTER_PRESENT, else 0
 * Return: 0 when consistent, -EAGAIN when seq_count was odd or changed.
 */
static inline int vmclock_disruption_read(const struct vmclock_abi *page,
					  u32 size, u64 *marker,
					  u64 *generation)
{
	u64 m, flags, gen;
	u32 seq;

	if (vmclock_seq_begin(page, &seq))
		return -EAGAIN;
	m = VMCLOCK_GET(page, size, disruption_marker, vmclock_le64);
	flags = VMCLOCK_GET(page, size, flags, vmclock_le64);
	gen = 0;
	if (flags & VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT)
		gen = VMCLOCK_GET(page, size, vm_generation_counter,
				  vmclock_le64);
	if (vmclock_seq_changed(page, seq))
		return -EAGAIN;

	*marker = m;
	*generation = gen;
	return 0;
}

/*
 * vmclock_error_ns() - @time_err + ceil(@dist * @rate / 2^(64 + @shift) s)
 * in ns, saturating at U64_MAX. The product with 1e9 needs 192 bits, so it
 * is kept as hi (upper 128 bits) and lo (lower 64 bits); no division.
 */
static inline u64 vmclock_error_ns(u64 time_err, u64 dist, u64 rate,
				   unsigned int shift)
{
	u128 e = (u128)dist * rate;
	u128 lo = (u128)(u64)e * VMCLOCK_NSEC_PER_SEC;
	u128 hi = (u128)(u64)(e >> 64) * VMCLOCK_NSEC_PER_SEC +
			  (u64)(lo >> 64);
	u128 q = hi >> shift;
	bool inexact = (u64)lo || (hi & (((u128)1 << shift) - 1));
	u64 ns;

	if (q >> 64)
		return U64_MAX;
	ns = (u64)q;
	if (inexact) {
		if (ns == U64_MAX)
			return U64_MAX;
		ns++;
	}
	return time_err > U64_MAX - ns ? U64_MAX : time_err + ns;
}

/*
 * vmclock_snap_instant() - the time at @counter according to @snap, without
 * its error bounds (both set to unknown): for readers that return the time
 * alone, such as a PTP clock, and should not pay for the bounds' 128-bit
 * products.
 * Uses delta = counter - counter_value as a signed distance. Ahead of C1
 * the page's time is extrapolated however old the clock data is (nothing
 * obliges a hypervisor to refresh it; vmclock_snap_time()'s error bounds
 * grow with the distance instead); behind C1 only up to
 * VMCLOCK_MAX_BEHIND_SEC, else -ERANGE. Period 0 or a shift above 63:
 * -EINVAL. The time is the exact value floored to 2^-64 s (also behind C1),
 * so it never decreases as @counter grows; a result below 0 or at or above
 * 2^64 s (where the arithmetic would overflow) is -ERANGE.
 * Return: 0 or negative errno; @t untouched on error.
 */
static inline int vmclock_snap_instant(const struct vmclock_snap *snap,
				       u64 counter, struct vmclock_time *t)
{
	unsigned int shift = snap->counter_period_shift;
	u64 delta = counter - snap->counter_value;
	bool behind = (s64)delta < 0;
	u64 dist = behind ? -delta : delta;
	u128 prod, elapsed, now, rem_mask;

	if (!snap->counter_period || shift > 63)
		return -EINVAL;

	/* Elapsed time in 2^-64 s: exact product, then the extra shift. */
	prod = (u128)dist * snap->counter_period;
	elapsed = prod >> shift;
	if (behind && (u64)(elapsed >> 64) >= VMCLOCK_MAX_BEHIND_SEC)
		return -ERANGE;

	now = ((u128)snap->time_sec << 64) | snap->time_frac;
	if (behind) {
		/* Subtract the rounded-up distance to floor the result. */
		rem_mask = ((u128)1 << shift) - 1;
		if (prod & rem_mask)
			elapsed++;
		if (elapsed > now)
			return -ERANGE;
		now -= elapsed;
	} else {
		/* Seconds past U64_MAX would wrap to the distant past. */
		if (now + elapsed < now)
			return -ERANGE;
		now += elapsed;
	}

	t->sec = (u64)(now >> 64);
	t->frac = (u64)now;
	t->nsec = (u32)(((u128)t->frac * VMCLOCK_NSEC_PER_SEC) >> 64);

	t->esterror_ns = U64_MAX;
	t->maxerror_ns = U64_MAX;
	return 0;
}

/*
 * vmclock_snap_time() - vmclock_snap_instant() with its error bounds:
 * time_*error + |delta| * period_*error (each only when its VALID flags are
 * set, else left unknown), rounded up, saturating at U64_MAX.
 * Return: 0 or negative errno; @t untouched on error.
 */
static inline int vmclock_snap_time(const struct vmclock_snap *snap,
				    u64 counter, struct vmclock_time *t)
{
	unsigned int shift = snap->counter_period_shift;
	u64 delta = counter - snap->counter_value;
	u64 dist = (s64)delta < 0 ? -delta : delta;
	u64 flags = snap->flags;
	int ret;

	ret = vmclock_snap_instant(snap, counter, t);
	if (ret)
		return ret;

	if ((flags & VMCLOCK_FLAG_TIME_ESTERROR_VALID) &&
	    (flags & VMCLOCK_FLAG_PERIOD_ESTERROR_VALID))
		t->esterror_ns = vmclock_error_ns(snap->time_esterror_ns, dist,
						  snap->period_esterror, shift);

	if ((flags & VMCLOCK_FLAG_TIME_MAXERROR_VALID) &&
	    (flags & VMCLOCK_FLAG_PERIOD_MAXERROR_VALID))
		t->maxerror_ns = vmclock_error_ns(snap->time_maxerror_ns, dist,
						  snap->period_maxerror, shift);

	return 0;
}

/*
 * vmclock_scale_offset() - seconds to add to the page's time to get @want.
 * Sign rule (documented): TAI - UTC has been positive since 1972, and
 * hypervisors disagree on the sign of tai_offset_sec (Linux: UTC - TAI,
 * -37; the spec prose and ClockBound: +37), so only its magnitude is used:
 * TAI = UTC + |tai_offset_sec|.
 * TAI page: TAI -> 0; UTC needs TAI_OFFSET_VALID -> -|off|.
 * UTC page: UTC -> 0; TAI needs TAI_OFFSET_VALID -> +|off|.
 * Any other time_type (monotonic, smeared, unknown): -EINVAL.
 * Return: 0 and *offset_sec, or -EINVAL when the scale is ambiguous.
 */
static inline int vmclock_scale_offset(const struct vmclock_snap *snap,
				       enum vmclock_scale want,
				       s64 *offset_sec)
{
	bool valid = snap->flags & VMCLOCK_FLAG_TAI_OFFSET_VALID;
	s64 tai_minus_utc = snap->tai_offset_sec;

	if (tai_minus_utc < 0)
		tai_minus_utc = -tai_minus_utc;

	if (snap->time_type == VMCLOCK_TIME_TAI) {
		if (want == VMCLOCK_SCALE_TAI) {
			*offset_sec = 0;
			return 0;
		}
		if (want == VMCLOCK_SCALE_UTC && valid) {
			*offset_sec = -tai_minus_utc;
			return 0;
		}
	} else if (snap->time_type == VMCLOCK_TIME_UTC) {
		if (want == VMCLOCK_SCALE_UTC) {
			*offset_sec = 0;
			return 0;
		}
		if (want == VMCLOCK_SCALE_TAI && valid) {
			*offset_sec = tai_minus_utc;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * vmclock_pvclock_ns() - kvm-clock system time for @tsc, as the kernel's
 * pvclock does: delta = tsc - tsc_timestamp, shifted left by tsc_shift
 * when positive or right by -tsc_shift, then (delta * mul) >> 32 added to
 * system_time. All sums wrap modulo 2^64 like the kernel's; a shift of 64
 * or more (never written by KVM) yields a delta of 0 instead of undefined
 * behaviour.
 */
static inline u64 vmclock_pvclock_ns(u64 tsc, u64 tsc_timestamp,
				     u64 system_time, u32 tsc_to_system_mul,
				     s8 tsc_shift)
{
	u64 delta = tsc - tsc_timestamp;

	if (tsc_shift < 0)
		delta = tsc_shift > -64 ? delta >> -tsc_shift : 0;
	else
		delta = tsc_shift < 64 ? delta << tsc_shift : 0;

	return system_time +
	       (u64)(((u128)delta * tsc_to_system_mul) >> 32);
}

#endif /* __VMCLOCK_CORE_H__ */
