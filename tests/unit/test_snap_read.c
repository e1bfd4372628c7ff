// SPDX-License-Identifier: GPL-2.0
/*
 * The seq reader: odd or changing seq_count gives -EAGAIN and leaves the
 * snapshot alone; a consistent copy converts every field from little
 * endian; fields that @size does not wholly cover read as zero.
 */
#include <endian.h>
#include <stddef.h>
#include <string.h>

#include <vmclock/vmclock-core.h>

#include "tap.h"
#include "tests.h"

/* The page as a hypervisor would lay it out, with distinct values. */
static void fill_page(struct vmclock_abi *p, u32 seq)
{
	memset(p, 0, sizeof(*p));
	p->magic = htole32(VMCLOCK_MAGIC);
	p->size = htole32(0x1000);
	p->version = htole16(1);
	p->counter_id = 0x11;
	p->time_type = 0x12;
	p->seq_count = htole32(seq);
	p->disruption_marker = htole64(0x0102030405060708ULL);
	p->flags = htole64(0x1112131415161718ULL);
	p->clock_status = 0x13;
	p->leap_second_smearing_hint = 0x14;
	p->tai_offset_sec = htole16((u16)-37);
	p->leap_indicator = 0x15;
	p->counter_period_shift = 0x16;
	p->counter_value = htole64(0x2122232425262728ULL);
	p->counter_period_frac_sec = htole64(0x3132333435363738ULL);
	p->counter_period_esterror_rate_frac_sec =
		htole64(0x4142434445464748ULL);
	p->counter_period_maxerror_rate_frac_sec =
		htole64(0x5152535455565758ULL);
	p->time_sec = htole64(0x6162636465666768ULL);
	p->time_frac_sec = htole64(0x7172737475767778ULL);
	p->time_esterror_nanosec = htole64(0x8182838485868788ULL);
	p->time_maxerror_nanosec = htole64(0x9192939495969798ULL);
	p->vm_generation_counter = htole64(0xa1a2a3a4a5a6a7a8ULL);
}

/* What a hostile or busy hypervisor does while the counter is read. */
struct counter_ctx {
	struct vmclock_abi *page;
	int action;		/* 0 none, 1 seq += 2, 2 seq odd */
	unsigned int calls;
};

static u64 read_counter(void *opaque)
{
	struct counter_ctx *ctx = opaque;
	u32 seq = le32toh(ctx->page->seq_count);

	ctx->calls++;
	if (ctx->action == 1)
		ctx->page->seq_count = htole32(seq + 2);
	else if (ctx->action == 2)
		ctx->page->seq_count = htole32(seq + 1);
	return 0xc0ffee00c0ffee00ULL;
}

static int read_with(struct vmclock_abi *p, u32 size, int action,
		     struct vmclock_snap *s, unsigned int *calls)
{
	struct counter_ctx ctx = { .page = p, .action = action };
	int rc = vmclock_snap_read(p, size, s, read_counter, &ctx);

	if (calls)
		*calls = ctx.calls;
	return rc;
}

static void test_refusals(void)
{
	struct vmclock_snap s, pat;
	struct vmclock_abi p;
	int rc;

	memset(&pat, 0x5a, sizeof(pat));

	fill_page(&p, 7);
	s = pat;
	rc = read_with(&p, sizeof(p), 0, &s, NULL);
	tap_ok(rc == -EAGAIN && !memcmp(&s, &pat, sizeof(s)),
	       "snap_read: odd seq_count -> -EAGAIN, snapshot untouched (%d)",
	       rc);

	fill_page(&p, 8);
	s = pat;
	rc = read_with(&p, sizeof(p), 1, &s, NULL);
	tap_ok(rc == -EAGAIN && !memcmp(&s, &pat, sizeof(s)),
	       "snap_read: seq_count moved on during the counter read -> -EAGAIN (%d)",
	       rc);

	fill_page(&p, 8);
	s = pat;
	rc = read_with(&p, sizeof(p), 2, &s, NULL);
	tap_ok(rc == -EAGAIN && !memcmp(&s, &pat, sizeof(s)),
	       "snap_read: writer started during the counter read -> -EAGAIN (%d)",
	       rc);

	/* A wrapped even seq_count is as good as any other. */
	fill_page(&p, 0xfffffffe);
	rc = read_with(&p, sizeof(p), 0, &s, NULL);
	tap_ok(!rc && s.seq == 0xfffffffe,
	       "snap_read: seq_count 0xfffffffe is accepted (%d)", rc);
}

static void test_full_copy(void)
{
	struct vmclock_snap s;
	struct vmclock_abi p;
	unsigned int calls;
	int rc;

	fill_page(&p, 42);
	rc = read_with(&p, sizeof(p), 0, &s, &calls);
	tap_ok(!rc && calls == 1 && s.seq == 42 && s.counter_id == 0x11 &&
	       s.time_type == 0x12 && s.clock_status == 0x13 &&
	       s.leap_indicator == 0x15 && s.counter_period_shift == 0x16 &&
	       s.tai_offset_sec == -37 &&
	       s.disruption_marker == 0x0102030405060708ULL &&
	       s.flags == 0x1112131415161718ULL &&
	       s.counter_value == 0x2122232425262728ULL &&
	       s.counter_period == 0x3132333435363738ULL &&
	       s.period_esterror == 0x4142434445464748ULL &&
	       s.period_maxerror == 0x5152535455565758ULL &&
	       s.time_sec == 0x6162636465666768ULL &&
	       s.time_frac == 0x7172737475767778ULL &&
	       s.time_esterror_ns == 0x8182838485868788ULL &&
	       s.time_maxerror_ns == 0x9192939495969798ULL &&
	       s.vm_generation_counter == 0xa1a2a3a4a5a6a7a8ULL &&
	       s.counter == 0xc0ffee00c0ffee00ULL,
	       "snap_read: consistent copy of every field, counter read once (%d)",
	       rc);

	rc = vmclock_snap_read(&p, sizeof(p), &s, NULL, NULL);
	tap_ok(!rc && s.counter == 0 && s.time_sec == 0x6162636465666768ULL,
	       "snap_read: NULL read_counter leaves counter 0 (%d)", rc);
}

/*
 * Every size from 0 to past the structure: each field is either its value
 * or zero, decided by its own table entry (offset, width) from the facts
 * sheet, independent of the header's offsetof-based rule.
 */
static void test_sizes(void)
{
	static const struct {
		unsigned int off, len;
	} f[] = {
		{ 0x0a, 1 }, { 0x0b, 1 }, { 0x10, 8 }, { 0x18, 8 },
		{ 0x22, 1 }, { 0x24, 2 }, { 0x26, 1 }, { 0x27, 1 },
		{ 0x28, 8 }, { 0x30, 8 }, { 0x38, 8 }, { 0x40, 8 },
		{ 0x48, 8 }, { 0x50, 8 }, { 0x58, 8 }, { 0x60, 8 },
		{ 0x68, 8 },
	};
	unsigned int bad = 0, first_bad = 0;
	struct vmclock_abi p;
	struct vmclock_snap s;

	fill_page(&p, 2);
	for (u32 size = 0; size <= 128; size++) {
		u64 got[17], want[17];
		const u8 *raw = (const u8 *)&p;

		if (read_with(&p, size, 0, &s, NULL)) {
			bad++;
			continue;
		}
		got[0] = s.counter_id;
		got[1] = s.time_type;
		got[2] = s.disruption_marker;
		got[3] = s.flags;
		got[4] = s.clock_status;
		got[5] = (u16)s.tai_offset_sec;
		got[6] = s.leap_indicator;
		got[7] = s.counter_period_shift;
		got[8] = s.counter_value;
		got[9] = s.counter_period;
		got[10] = s.period_esterror;
		got[11] = s.period_maxerror;
		got[12] = s.time_sec;
		got[13] = s.time_frac;
		got[14] = s.time_esterror_ns;
		got[15] = s.time_maxerror_ns;
		got[16] = s.vm_generation_counter;
		for (unsigned int i = 0; i < 17; i++) {
			want[i] = 0;
			if (f[i].off + f[i].len > size)
				continue;
			for (unsigned int b = 0; b < f[i].len; b++)
				want[i] |= (u64)raw[f[i].off + b] << (8 * b);
		}
		if (memcmp(got, want, sizeof(got)) || s.seq != 2) {
			if (!bad++)
				first_bad = size;
		}
	}
	tap_ok(!bad, "snap_read: sizes 0..128 read exactly the covered fields (first bad size %u)",
	       first_bad);

	read_with(&p, 104, 0, &s, NULL);
	tap_ok(s.vm_generation_counter == 0 &&
	       s.time_maxerror_ns == 0x9192939495969798ULL,
	       "snap_read: a 104-byte (6.13) page has no vm_generation_counter");
	read_with(&p, 0x5c, 0, &s, NULL);
	tap_ok(s.time_esterror_ns == 0 && s.time_frac == 0x7172737475767778ULL,
	       "snap_read: a half-covered field reads as zero");
}

static int clock_read_with(struct vmclock_abi *p, int action,
			   struct vmclock_snap *s, unsigned int *calls)
{
	struct counter_ctx ctx = { .page = p, .action = action };
	int rc = vmclock_clock_read(p, s, read_counter, &ctx);

	if (calls)
		*calls = ctx.calls;
	return rc;
}

/* The clock fields of a snapshot, and seq and counter: what both readers fill. */
static int same_clock(const struct vmclock_snap *a, const struct vmclock_snap *b)
{
	return a->seq == b->seq && a->counter_id == b->counter_id &&
	       a->time_type == b->time_type && a->flags == b->flags &&
	       a->clock_status == b->clock_status &&
	       a->tai_offset_sec == b->tai_offset_sec &&
	       a->counter_period_shift == b->counter_period_shift &&
	       a->counter_value == b->counter_value &&
	       a->counter_period == b->counter_period &&
	       a->time_sec == b->time_sec && a->time_frac == b->time_frac &&
	       a->counter == b->counter;
}

/*
 * The clock-only reader: the clock fields as the full reader has them,
 * nothing else written, and the same refusals.
 */
static void test_clock_read(void)
{
	struct vmclock_snap full, clock, pat;
	struct vmclock_abi p;
	unsigned int calls;
	int rc, rc_full;

	memset(&pat, 0x5a, sizeof(pat));
	fill_page(&p, 42);
	rc_full = read_with(&p, sizeof(p), 0, &full, NULL);
	clock = pat;
	rc = clock_read_with(&p, 0, &clock, &calls);
	tap_ok(!rc && !rc_full && calls == 1 && same_clock(&clock, &full),
	       "clock_read: the clock fields, seq and counter as snap_read has them, counter read once (%d)",
	       rc);
	tap_ok(clock.disruption_marker == pat.disruption_marker &&
	       clock.leap_indicator == pat.leap_indicator &&
	       clock.period_esterror == pat.period_esterror &&
	       clock.period_maxerror == pat.period_maxerror &&
	       clock.time_esterror_ns == pat.time_esterror_ns &&
	       clock.time_maxerror_ns == pat.time_maxerror_ns &&
	       clock.vm_generation_counter == pat.vm_generation_counter,
	       "clock_read: loads no field beyond the clock (the others keep what was there)");

	/* A page shorter than the structure: the clock fields are in front. */
	fill_page(&p, 42);
	rc_full = read_with(&p, VMCLOCK_CLOCK_SIZE, 0, &full, NULL);
	rc = clock_read_with(&p, 0, &clock, NULL);
	tap_ok(!rc && !rc_full && same_clock(&clock, &full) && full.time_frac,
	       "clock_read: VMCLOCK_CLOCK_SIZE bytes hold every clock field (%d)",
	       rc);

	fill_page(&p, 7);
	rc = clock_read_with(&p, 0, &clock, &calls);
	tap_ok(rc == -EAGAIN && calls == 0,
	       "clock_read: odd seq_count -> -EAGAIN before the counter is read (%d)",
	       rc);
	fill_page(&p, 8);
	rc = clock_read_with(&p, 1, &clock, NULL);
	tap_ok(rc == -EAGAIN,
	       "clock_read: seq_count moved on during the counter read -> -EAGAIN (%d)",
	       rc);
	fill_page(&p, 8);
	rc = clock_read_with(&p, 2, &clock, NULL);
	tap_ok(rc == -EAGAIN,
	       "clock_read: writer started during the counter read -> -EAGAIN (%d)",
	       rc);
}

void test_snap_read(void)
{
	test_refusals();
	test_full_copy();
	test_sizes();
	test_clock_read();
}
