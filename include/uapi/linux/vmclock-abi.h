/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * VMClock shared-page ABI.
 *
 * A hypervisor publishes one page that relates the guest's CPU counter
 * (x86 TSC, Arm virtual counter) to real time, with error bounds, and a
 * disruption marker that changes whenever the guest's view of that counter
 * may have jumped (live migration, snapshot restore).
 *
 * The layout is byte-for-byte the one of Linux 7.0's uapi header: every
 * field is little-endian, naturally aligned and explicitly padded, so the
 * structure has the same 112-byte shape on every architecture and compiler.
 * Fields after @flags are optional: a field exists only when @size covers it.
 *
 * Writer protocol: make @seq_count odd, write barrier, update the fields,
 * write barrier, set @seq_count to the next even value; then raise a
 * notification when VMCLOCK_FLAG_NOTIFICATION_PRESENT is set.
 * Reader protocol: take @seq_count with bit 0 cleared, read barrier, read
 * the fields (and the CPU counter), read barrier, retry unless @seq_count
 * is unchanged.
 */
#ifndef __VMCLOCK_ABI_H__
#define __VMCLOCK_ABI_H__

#include <linux/types.h>

struct vmclock_abi {
	/* 0x00: identification, never covered by seq_count */
	__le32 magic;
#define VMCLOCK_MAGIC	0x4b4c4356	/* "VCLK" as bytes in memory */
	__le32 size;		/* bytes of the region holding the structure */
	__le16 version;		/* 1 is the only defined version */
	__u8 counter_id;	/* which CPU counter the clock data describes */
#define VMCLOCK_COUNTER_ARM_VCNT	0
#define VMCLOCK_COUNTER_X86_TSC		1
#define VMCLOCK_COUNTER_INVALID		0xff
	__u8 time_type;		/* the time scale of time_sec/time_frac_sec */
#define VMCLOCK_TIME_UTC		0	/* may be smeared; see hint */
#define VMCLOCK_TIME_TAI		1
#define VMCLOCK_TIME_MONOTONIC		2	/* undefined epoch */
#define VMCLOCK_TIME_INVALID_SMEARED	3	/* not to be used */
#define VMCLOCK_TIME_INVALID_MAYBE_SMEARED 4	/* not to be used */

	/* 0x0c: odd while the hypervisor is writing what follows */
	__le32 seq_count;

	/* 0x10: changes whenever the counter may have been disrupted */
	__le64 disruption_marker;

	/* 0x18: unknown bits are to be ignored */
	__le64 flags;
#define VMCLOCK_FLAG_TAI_OFFSET_VALID		(1ULL << 0)
#define VMCLOCK_FLAG_DISRUPTION_SOON		(1ULL << 1)	/* ~a day */
#define VMCLOCK_FLAG_DISRUPTION_IMMINENT	(1ULL << 2)	/* ~an hour */
#define VMCLOCK_FLAG_PERIOD_ESTERROR_VALID	(1ULL << 3)
#define VMCLOCK_FLAG_PERIOD_MAXERROR_VALID	(1ULL << 4)
#define VMCLOCK_FLAG_TIME_ESTERROR_VALID	(1ULL << 5)
#define VMCLOCK_FLAG_TIME_MAXERROR_VALID	(1ULL << 6)
#define VMCLOCK_FLAG_TIME_MONOTONIC		(1ULL << 7)
#define VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT	(1ULL << 8)
#define VMCLOCK_FLAG_NOTIFICATION_PRESENT	(1ULL << 9)

	/* 0x20 */
	__u8 pad[2];
	__u8 clock_status;
#define VMCLOCK_STATUS_UNKNOWN		0
#define VMCLOCK_STATUS_INITIALIZING	1
#define VMCLOCK_STATUS_SYNCHRONIZED	2
#define VMCLOCK_STATUS_FREERUNNING	3
#define VMCLOCK_STATUS_UNRELIABLE	4
	__u8 leap_second_smearing_hint;	/* a hint only: the page is never smeared */
#define VMCLOCK_SMEARING_STRICT		0
#define VMCLOCK_SMEARING_NOON_LINEAR	1
#define VMCLOCK_SMEARING_UTC_SLS	2
	__le16 tai_offset_sec;		/* signed; valid with TAI_OFFSET_VALID */
	__u8 leap_indicator;
#define VMCLOCK_LEAP_NONE	0
#define VMCLOCK_LEAP_PRE_POS	1	/* positive leap second pending */
#define VMCLOCK_LEAP_PRE_NEG	2	/* negative leap second pending */
#define VMCLOCK_LEAP_POS	3	/* inside the leap second */
#define VMCLOCK_LEAP_POST_POS	4
#define VMCLOCK_LEAP_POST_NEG	5
	__u8 counter_period_shift;	/* extra right shift of the period fields */

	/* 0x28: time T1 = time_sec + time_frac_sec / 2^64 at counter C1 */
	__le64 counter_value;
	/* one counter tick lasts counter_period_frac_sec / 2^(64 + shift) s */
	__le64 counter_period_frac_sec;
	__le64 counter_period_esterror_rate_frac_sec;
	__le64 counter_period_maxerror_rate_frac_sec;
	__le64 time_sec;
	__le64 time_frac_sec;		/* units of 2^-64 s */
	__le64 time_esterror_nanosec;
	__le64 time_maxerror_nanosec;

	/* 0x68: Linux 7.0; changes on snapshot restore or clone */
	__le64 vm_generation_counter;
};

#endif /* __VMCLOCK_ABI_H__ */
