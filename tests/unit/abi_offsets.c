// SPDX-License-Identifier: GPL-2.0
/*
 * Compile-time check of the uapi layout against the table in
 * vmclock-facts.md section 1 (Linux 7.0): a wrong offset, width, flag bit
 * or total size stops the unit-test build.
 */
#include <stddef.h>

#include <vmclock/vmclock-core.h>

#include "tap.h"
#include "tests.h"

#define FIELD(name, off, len)						\
	_Static_assert(offsetof(struct vmclock_abi, name) == (off),	\
		       #name " offset");				\
	_Static_assert(sizeof(((struct vmclock_abi *)0)->name) == (len), \
		       #name " size")

FIELD(magic, 0x00, 4);
FIELD(size, 0x04, 4);
FIELD(version, 0x08, 2);
FIELD(counter_id, 0x0a, 1);
FIELD(time_type, 0x0b, 1);
FIELD(seq_count, 0x0c, 4);
FIELD(disruption_marker, 0x10, 8);
FIELD(flags, 0x18, 8);
FIELD(pad, 0x20, 2);
FIELD(clock_status, 0x22, 1);
FIELD(leap_second_smearing_hint, 0x23, 1);
FIELD(tai_offset_sec, 0x24, 2);
FIELD(leap_indicator, 0x26, 1);
FIELD(counter_period_shift, 0x27, 1);
FIELD(counter_value, 0x28, 8);
FIELD(counter_period_frac_sec, 0x30, 8);
FIELD(counter_period_esterror_rate_frac_sec, 0x38, 8);
FIELD(counter_period_maxerror_rate_frac_sec, 0x40, 8);
FIELD(time_sec, 0x48, 8);
FIELD(time_frac_sec, 0x50, 8);
FIELD(time_esterror_nanosec, 0x58, 8);
FIELD(time_maxerror_nanosec, 0x60, 8);
FIELD(vm_generation_counter, 0x68, 8);
_Static_assert(sizeof(struct vmclock_abi) == 112, "struct vmclock_abi size");

_Static_assert(VMCLOCK_MAGIC == 0x4b4c4356, "magic");
_Static_assert(VMCLOCK_FLAG_TAI_OFFSET_VALID == 1ULL << 0, "flag 0");
_Static_assert(VMCLOCK_FLAG_DISRUPTION_SOON == 1ULL << 1, "flag 1");
_Static_assert(VMCLOCK_FLAG_DISRUPTION_IMMINENT == 1ULL << 2, "flag 2");
_Static_assert(VMCLOCK_FLAG_PERIOD_ESTERROR_VALID == 1ULL << 3, "flag 3");
_Static_assert(VMCLOCK_FLAG_PERIOD_MAXERROR_VALID == 1ULL << 4, "flag 4");
_Static_assert(VMCLOCK_FLAG_TIME_ESTERROR_VALID == 1ULL << 5, "flag 5");
_Static_assert(VMCLOCK_FLAG_TIME_MAXERROR_VALID == 1ULL << 6, "flag 6");
_Static_assert(VMCLOCK_FLAG_TIME_MONOTONIC == 1ULL << 7, "flag 7");
/* The spec text's 7 and 8 are wrong; the kernel and Firecracker agree. */
_Static_assert(VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT == 0x100, "flag 8");
_Static_assert(VMCLOCK_FLAG_NOTIFICATION_PRESENT == 0x200, "flag 9");

/* Reaching run time means every assertion above held. */
void test_abi_offsets(void)
{
	tap_ok(true, "abi: %zu-byte struct vmclock_abi, offsets checked at compile time",
	       sizeof(struct vmclock_abi));
}
