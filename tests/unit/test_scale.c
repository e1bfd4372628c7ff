// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock_scale_offset(): TAI = UTC + |tai_offset_sec| whatever sign the
 * hypervisor wrote, and -EINVAL (output untouched) whenever the page does
 * not say which scale it is in or how to leave it.
 */
#include <vmclock/vmclock-core.h>

#include "tap.h"
#include "tests.h"

#define UNTOUCHED	0x5eed5eedLL
#define NOT_A_SCALE	(VMCLOCK_SCALE_UTC + 99)

struct scale_row {
	u8 time_type;
	bool valid;
	s16 tai_offset;
	int want;
	int rc;
	s64 offset;
};

static const struct scale_row rows[] = {
	/* TAI page */
	{ VMCLOCK_TIME_TAI, false, 0, VMCLOCK_SCALE_TAI, 0, 0 },
	{ VMCLOCK_TIME_TAI, true, 37, VMCLOCK_SCALE_TAI, 0, 0 },
	{ VMCLOCK_TIME_TAI, true, 37, VMCLOCK_SCALE_UTC, 0, -37 },
	{ VMCLOCK_TIME_TAI, true, -37, VMCLOCK_SCALE_UTC, 0, -37 },
	{ VMCLOCK_TIME_TAI, false, 37, VMCLOCK_SCALE_UTC, -EINVAL, 0 },
	{ VMCLOCK_TIME_TAI, false, -37, VMCLOCK_SCALE_UTC, -EINVAL, 0 },
	/* UTC page */
	{ VMCLOCK_TIME_UTC, false, 0, VMCLOCK_SCALE_UTC, 0, 0 },
	{ VMCLOCK_TIME_UTC, true, -37, VMCLOCK_SCALE_UTC, 0, 0 },
	{ VMCLOCK_TIME_UTC, true, 37, VMCLOCK_SCALE_TAI, 0, 37 },
	{ VMCLOCK_TIME_UTC, true, -37, VMCLOCK_SCALE_TAI, 0, 37 },
	{ VMCLOCK_TIME_UTC, true, 0, VMCLOCK_SCALE_TAI, 0, 0 },
	{ VMCLOCK_TIME_UTC, true, -32768, VMCLOCK_SCALE_TAI, 0, 32768 },
	{ VMCLOCK_TIME_UTC, true, 32767, VMCLOCK_SCALE_TAI, 0, 32767 },
	{ VMCLOCK_TIME_UTC, false, 37, VMCLOCK_SCALE_TAI, -EINVAL, 0 },
	{ VMCLOCK_TIME_UTC, false, -37, VMCLOCK_SCALE_TAI, -EINVAL, 0 },
	/* no usable scale, even with a valid offset */
	{ VMCLOCK_TIME_MONOTONIC, true, 37, VMCLOCK_SCALE_TAI, -EINVAL, 0 },
	{ VMCLOCK_TIME_MONOTONIC, true, 37, VMCLOCK_SCALE_UTC, -EINVAL, 0 },
	{ VMCLOCK_TIME_INVALID_SMEARED, true, 37, VMCLOCK_SCALE_TAI, -EINVAL, 0 },
	{ VMCLOCK_TIME_INVALID_SMEARED, true, 37, VMCLOCK_SCALE_UTC, -EINVAL, 0 },
	{ VMCLOCK_TIME_INVALID_MAYBE_SMEARED, true, 37, VMCLOCK_SCALE_TAI, -EINVAL, 0 },
	{ VMCLOCK_TIME_INVALID_MAYBE_SMEARED, true, 37, VMCLOCK_SCALE_UTC, -EINVAL, 0 },
	{ 5, true, 37, VMCLOCK_SCALE_UTC, -EINVAL, 0 },
	{ 0xff, true, 37, VMCLOCK_SCALE_TAI, -EINVAL, 0 },
	/* a request for neither scale */
	{ VMCLOCK_TIME_TAI, true, 37, NOT_A_SCALE, -EINVAL, 0 },
	{ VMCLOCK_TIME_UTC, true, 37, NOT_A_SCALE, -EINVAL, 0 },
};

static void test_rows(void)
{
	unsigned int bad = 0;

	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct scale_row *r = &rows[i];
		struct vmclock_snap s = {
			.time_type = r->time_type,
			.tai_offset_sec = r->tai_offset,
			/* unrelated flags must not matter */
			.flags = ~VMCLOCK_FLAG_TAI_OFFSET_VALID |
				 (r->valid ? VMCLOCK_FLAG_TAI_OFFSET_VALID : 0),
		};
		s64 off = UNTOUCHED;
		int rc = vmclock_scale_offset(&s, (enum vmclock_scale)r->want,
					      &off);

		if (rc != r->rc || off != (rc ? UNTOUCHED : r->offset)) {
			bad++;
			tap_diag("row %u: type %u valid %d off %d want %d: rc %d offset %lld",
				 i, r->time_type, r->valid, r->tai_offset,
				 r->want, rc, (long long)off);
		}
	}
	tap_ok(!bad, "scale_offset: %zu table rows (%u wrong)",
	       sizeof(rows) / sizeof(rows[0]), bad);
}

/* The same instant from a UTC page and a TAI page, both signs. */
static void test_both_signs(void)
{
	const u64 utc = 1700000000, tai = utc + 37;
	const s16 sign[] = { 37, -37 };

	for (unsigned int i = 0; i < 2; i++) {
		struct vmclock_snap u = {
			.time_type = VMCLOCK_TIME_UTC,
			.tai_offset_sec = sign[i],
			.flags = VMCLOCK_FLAG_TAI_OFFSET_VALID,
		};
		struct vmclock_snap t = u;
		s64 to_tai = 0, to_utc = 0;
		int rc1, rc2;

		t.time_type = VMCLOCK_TIME_TAI;
		rc1 = vmclock_scale_offset(&u, VMCLOCK_SCALE_TAI, &to_tai);
		rc2 = vmclock_scale_offset(&t, VMCLOCK_SCALE_UTC, &to_utc);
		tap_ok(!rc1 && !rc2 && utc + to_tai == tai &&
		       tai + to_utc == utc,
		       "scale_offset: tai_offset_sec %+d gives TAI = UTC + 37 both ways",
		       sign[i]);
	}
}

void test_scale_offset(void)
{
	test_rows();
	test_both_signs();
}
