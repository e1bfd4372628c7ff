// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: a hostile hypervisor for a while. Step after step it writes random
 * and boundary values into every field of the page: whole random
 * transactions, one boundary value on top of the page as it was at the
 * start (shift 64..255, period 0 and all ones, time_sec all ones, counter far
 * ahead of and behind counter_value, status, time_type and counter_id out of
 * range, random flags), magic/size/version changed outside the seq protocol,
 * seq_count left odd for a second or more, the disruption marker flapping,
 * and Notify requests. At the end the page as it was at the start is
 * written back in one transaction (under serve, --steady rounds then
 * refresh its clock data).
 *
 * Deterministic for a given --seed (apart from timing). Prints what it did.
 */
#include <string.h>

#include "vmclock-host.h"

enum fuzz_kind { FZ_RANDOM, FZ_BOUNDARY, FZ_HEADER, FZ_SEQ_ODD, FZ_FLAP, FZ_NOTIFY, FZ_KINDS };

static const char *const kind_names[FZ_KINDS] = {
	"random", "boundary", "header", "seq_odd", "flap", "notify",
};

struct fuzz {
	struct host *h;
	uint64_t rng;
	struct vmclock_abi base;	/* the page at the start */
	uint64_t steps[FZ_KINDS];
	uint64_t tx;			/* writer transactions */
	uint64_t odd_ms;		/* time spent with seq_count held odd */
	uint64_t notifies;
};

/* xorshift64*: small, and the same sequence for the same seed everywhere. */
static uint64_t rnd(struct fuzz *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t rnd_below(struct fuzz *f, uint64_t n)
{
	return n ? rnd(f) % n : 0;
}

/* Random, but boundary values (0, 1, all ones, the top bit, ...) often. */
static uint64_t rnd_value(struct fuzz *f, unsigned int bytes)
{
	static const uint64_t edges[] = {
		0, 1, 2, ~0ULL, ~0ULL - 1, 1ULL << 63, (1ULL << 63) - 1,
		1ULL << 32, 0xffffffffULL, 0x80, 0xff, 0x7fff, 0x8000,
	};
	uint64_t mask = bytes >= 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1;

	if (rnd_below(f, 3) == 0)
		return edges[rnd_below(f, sizeof(edges) / sizeof(edges[0]))] & mask;
	return rnd(f) & mask;
}

/* The guest's counter now, if serve learned the offset; else the host's. */
static uint64_t guest_counter(struct fuzz *f)
{
	int64_t off = f->h->srv.have_offset ? f->h->srv.counter_offset : 0;

	return counter_read() + (uint64_t)off;
}

/* Every field below seq_count, as the base page has it (one transaction). */
#define BASE_FIELDS(X) \
	X(counter_id) X(time_type) X(disruption_marker) X(flags) X(pad[0]) \
	X(pad[1]) X(clock_status) X(leap_second_smearing_hint) \
	X(tai_offset_sec) X(leap_indicator) X(counter_period_shift) \
	X(counter_value) X(counter_period_frac_sec) \
	X(counter_period_esterror_rate_frac_sec) \
	X(counter_period_maxerror_rate_frac_sec) X(time_sec) X(time_frac_sec) \
	X(time_esterror_nanosec) X(time_maxerror_nanosec) X(vm_generation_counter)

static void put_base(struct fuzz *f)
{
	struct host *h = f->h;
	const struct vmclock_abi *b = &f->base;

#define PUT_BASE(fld) fld_store(&h->page->fld, sizeof(h->page->fld), fld_load(&b->fld, sizeof(b->fld)));
	BASE_FIELDS(PUT_BASE)
#undef PUT_BASE
}

static void put_random(struct fuzz *f)
{
	struct host *h = f->h;

#define PUT_RANDOM(fld) fld_store(&h->page->fld, sizeof(h->page->fld), rnd_value(f, sizeof(h->page->fld)));
	BASE_FIELDS(PUT_RANDOM)
#undef PUT_RANDOM
}

/* One boundary value on top of the base page. */
static void put_boundary(struct fuzz *f)
{
	struct host *h = f->h;
	uint64_t now = guest_counter(f);

	put_base(f);
	switch (rnd_below(f, 14)) {
	case 0:
		PUT(h, counter_period_shift, 64 + rnd_below(f, 192));
		break;
	case 1:
		PUT(h, counter_period_frac_sec, 0);
		break;
	case 2:
		PUT(h, counter_period_frac_sec, ~0ULL);
		PUT(h, counter_period_shift, rnd_below(f, 2) ? 0 : 63);
		break;
	case 3:
		PUT(h, time_sec, ~0ULL);
		PUT(h, time_frac_sec, rnd_below(f, 2) ? ~0ULL : 0);
		break;
	case 4:		/* counter far ahead of counter_value */
		PUT(h, counter_value, now - (1ULL << (40 + rnd_below(f, 24))));
		break;
	case 5:		/* counter behind counter_value */
		PUT(h, counter_value, now + (1ULL << (20 + rnd_below(f, 44))));
		break;
	case 6:
		PUT(h, clock_status, 5 + rnd_below(f, 251));
		break;
	case 7:
		PUT(h, time_type, 3 + rnd_below(f, 253));
		break;
	case 8:
		PUT(h, counter_id, rnd_value(f, 1));
		break;
	case 9:
		PUT(h, flags, rnd_value(f, 8));
		break;
	case 10:
		PUT(h, tai_offset_sec, rnd_value(f, 2));
		PUT(h, leap_indicator, rnd_value(f, 1));
		break;
	case 11:
		PUT(h, time_maxerror_nanosec, ~0ULL);
		PUT(h, counter_period_maxerror_rate_frac_sec, ~0ULL);
		break;
	case 12:
		PUT(h, vm_generation_counter, rnd_value(f, 8));
		PUT(h, flags, GET(h, flags) | VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT);
		break;
	default:	/* the base page itself, stale by now */
		break;
	}
}

static void tx(struct fuzz *f, void (*fill)(struct fuzz *f))
{
	tx_begin(f->h);
	fill(f);
	tx_end(f->h);
	f->tx++;
}

static void put_header(struct fuzz *f)
{
	struct host *h = f->h;

	PUT(h, magic, fld_load(&f->base.magic, 4));
	PUT(h, size, fld_load(&f->base.size, 4));
	PUT(h, version, fld_load(&f->base.version, 2));
}

/* magic, size and version are outside the seq protocol: change them raw. */
static void header_change(struct fuzz *f)
{
	static const uint32_t sizes[] = { 0, 31, 32, 88, 0xfff, 0x1001, 0xffffffff };
	struct host *h = f->h;

	switch (rnd_below(f, 4)) {
	case 0:
		PUT(h, magic, rnd_value(f, 4));
		break;
	case 1:
		PUT(h, size, sizes[rnd_below(f, sizeof(sizes) / sizeof(sizes[0]))]);
		break;
	case 2:
		PUT(h, version, rnd_value(f, 2));
		break;
	default:	/* back to what the guest probed */
		put_header(f);
		break;
	}
}

static void notify(struct fuzz *f)
{
	mb_notify(f->h);
	f->notifies++;
}

/* A writer that stops half-way for @ms, then finishes with random data. */
static void seq_odd(struct fuzz *f, uint64_t ms)
{
	tx_begin(f->h);
	put_random(f);
	sleep_ms(ms);
	tx_end(f->h);
	f->tx++;
	f->odd_ms += ms;
}

/* The disruption marker changing on every one of @n back-to-back updates. */
static void flap(struct fuzz *f, unsigned int n)
{
	struct host *h = f->h;
	unsigned int i;

	for (i = 0; i < n; i++) {
		tx_begin(h);
		put_base(f);
		PUT(h, disruption_marker, fld_load(&f->base.disruption_marker, 8) + 1 + (i & 1));
		tx_end(h);
		f->tx++;
		if (i % 16 == 0)
			notify(f);
	}
}

static void step(struct fuzz *f, uint64_t elapsed_ms, uint64_t *last_odd_ms)
{
	enum fuzz_kind k;
	uint64_t r = rnd_below(f, 100);

	/* A long odd seq_count every 10 s or so: readers get through between. */
	if (elapsed_ms - *last_odd_ms >= 10000) {
		k = FZ_SEQ_ODD;
		*last_odd_ms = elapsed_ms;
	} else if (r < 40) {
		k = FZ_RANDOM;
	} else if (r < 85) {
		k = FZ_BOUNDARY;
	} else if (r < 92) {
		k = FZ_HEADER;
	} else if (r < 96) {
		k = FZ_FLAP;
	} else {
		k = FZ_NOTIFY;
	}
	f->steps[k]++;
	switch (k) {
	case FZ_RANDOM:
		tx(f, put_random);
		break;
	case FZ_BOUNDARY:
		tx(f, put_boundary);
		break;
	case FZ_HEADER:
		header_change(f);
		break;
	case FZ_SEQ_ODD:
		seq_odd(f, 1000 + rnd_below(f, 2000));
		break;
	case FZ_FLAP:
		flap(f, 50 + (unsigned int)rnd_below(f, 200));
		break;
	default:
		notify(f);
		break;
	}
	if (rnd_below(f, 8) == 0)
		notify(f);
}

/* The base page back in one transaction, header included. */
static void restore(struct fuzz *f)
{
	struct host *h = f->h;

	tx_begin(h);
	put_header(f);
	put_base(f);
	tx_end(h);
	f->tx++;
}

int cmd_fuzz(struct host *h, int argc, char **argv)
{
	uint64_t duration_s = 60, seed = 1, pause_us = 2000;
	struct opt opts[] = {
		{ "duration-s", OPT_U64, &duration_s, 1, 3600, false },
		{ "seed", OPT_U64, &seed, 1, INT64_MAX, false },
		{ "pause-us", OPT_U64, &pause_us, 0, 400000, false },
		{ NULL, 0, NULL, 0, 0, false },
	};
	struct timespec t0, now;
	uint64_t elapsed = 0, last_odd = 0;
	static struct fuzz f;
	unsigned int i;
	int rc;

	if (parse_opts(h, "fuzz", argc, argv, opts, NULL, NULL, 0))
		return RC_USAGE;
	if (!counter_available())
		return run_error(h, "fuzz: needs the x86 TSC");
	rc = mailbox_map(h);
	if (rc)
		return rc;
	memset(&f, 0, sizeof(f));
	f.h = h;
	f.rng = seed;
	/* The base: a copy taken while seq_count is even and unchanged. */
	for (i = 0;; i++) {
		uint32_t s1 = (uint32_t)GET(h, seq_count);

		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		memcpy(&f.base, (const void *)h->page, sizeof(f.base));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!(s1 & 1) && s1 == (uint32_t)GET(h, seq_count))
			break;
		if (i == 1000)
			return run_error(h, "fuzz: the page never settled");
		sleep_ms(1);
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop_requested && elapsed < duration_s * 1000) {
		step(&f, elapsed, &last_odd);
		if (pause_us) {
			struct timespec p = { 0, (long)rnd_below(&f, 2 * pause_us + 1) * 1000 };

			nanosleep(&p, NULL);
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (ts_ns(&now) - ts_ns(&t0)) / 1000000;
	}
	restore(&f);

	fprintf(h->out, "fuzz: seed=%llu ms=%llu transactions=%llu odd_ms=%llu notifies=%llu",
		(unsigned long long)seed, (unsigned long long)elapsed,
		(unsigned long long)f.tx, (unsigned long long)f.odd_ms,
		(unsigned long long)f.notifies);
	for (i = 0; i < FZ_KINDS; i++)
		fprintf(h->out, " %s=%llu", kind_names[i], (unsigned long long)f.steps[i]);
	fprintf(h->out, "\n");
	return RC_OK;
}
