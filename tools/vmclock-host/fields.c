// SPDX-License-Identifier: GPL-2.0
/*
 * Every field of struct vmclock_abi by name: `set FIELD=VALUE...` writes
 * them, `dump` prints them as name=value lines that `set` accepts back.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "vmclock-host.h"

static const struct name_val counter_names[] = {
	{ "arm", VMCLOCK_COUNTER_ARM_VCNT }, { "tsc", VMCLOCK_COUNTER_X86_TSC },
	{ "invalid", VMCLOCK_COUNTER_INVALID }, { NULL, 0 },
};

static const struct name_val time_names[] = {
	{ "utc", VMCLOCK_TIME_UTC }, { "tai", VMCLOCK_TIME_TAI },
	{ "monotonic", VMCLOCK_TIME_MONOTONIC },
	{ "smeared", VMCLOCK_TIME_INVALID_SMEARED },
	{ "maybe-smeared", VMCLOCK_TIME_INVALID_MAYBE_SMEARED }, { NULL, 0 },
};

static const struct name_val status_names[] = {
	{ "unknown", VMCLOCK_STATUS_UNKNOWN },
	{ "initializing", VMCLOCK_STATUS_INITIALIZING },
	{ "synchronized", VMCLOCK_STATUS_SYNCHRONIZED },
	{ "freerunning", VMCLOCK_STATUS_FREERUNNING },
	{ "unreliable", VMCLOCK_STATUS_UNRELIABLE }, { NULL, 0 },
};

static const struct name_val smear_names[] = {
	{ "strict", VMCLOCK_SMEARING_STRICT },
	{ "noon-linear", VMCLOCK_SMEARING_NOON_LINEAR },
	{ "utc-sls", VMCLOCK_SMEARING_UTC_SLS }, { NULL, 0 },
};

const struct name_val leap_names[] = {
	{ "none", VMCLOCK_LEAP_NONE }, { "pre-pos", VMCLOCK_LEAP_PRE_POS },
	{ "pre-neg", VMCLOCK_LEAP_PRE_NEG }, { "pos", VMCLOCK_LEAP_POS },
	{ "post-pos", VMCLOCK_LEAP_POST_POS }, { "post-neg", VMCLOCK_LEAP_POST_NEG },
	{ NULL, 0 },
};

/* Flag names, long and short; several joined with '|'. */
static const struct name_val flag_names[] = {
	{ "tai_offset_valid", VMCLOCK_FLAG_TAI_OFFSET_VALID },
	{ "tai", VMCLOCK_FLAG_TAI_OFFSET_VALID },
	{ "disruption_soon", VMCLOCK_FLAG_DISRUPTION_SOON },
	{ "soon", VMCLOCK_FLAG_DISRUPTION_SOON },
	{ "disruption_imminent", VMCLOCK_FLAG_DISRUPTION_IMMINENT },
	{ "imminent", VMCLOCK_FLAG_DISRUPTION_IMMINENT },
	{ "period_esterror_valid", VMCLOCK_FLAG_PERIOD_ESTERROR_VALID },
	{ "period_maxerror_valid", VMCLOCK_FLAG_PERIOD_MAXERROR_VALID },
	{ "time_esterror_valid", VMCLOCK_FLAG_TIME_ESTERROR_VALID },
	{ "time_maxerror_valid", VMCLOCK_FLAG_TIME_MAXERROR_VALID },
	{ "time_monotonic", VMCLOCK_FLAG_TIME_MONOTONIC },
	{ "monotonic", VMCLOCK_FLAG_TIME_MONOTONIC },
	{ "vm_gen_counter_present", VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT },
	{ "gen", VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT },
	{ "notification_present", VMCLOCK_FLAG_NOTIFICATION_PRESENT },
	{ "notify", VMCLOCK_FLAG_NOTIFICATION_PRESENT },
	{ NULL, 0 },
};

struct field {
	const char *name;
	unsigned int off, size;
	bool is_signed, hex;
	const struct name_val *names;
};

#define F(n, ...) { #n, offsetof(struct vmclock_abi, n), \
		    sizeof(((struct vmclock_abi *)0)->n), __VA_ARGS__ }
static const struct field fields[] = {
	F(magic, false, true, NULL),
	F(size, false, true, NULL),
	F(version, false, false, NULL),
	F(counter_id, false, false, counter_names),
	F(time_type, false, false, time_names),
	F(seq_count, false, false, NULL),
	F(disruption_marker, false, false, NULL),
	F(flags, false, true, NULL),
	F(pad, false, false, NULL),
	F(clock_status, false, false, status_names),
	F(leap_second_smearing_hint, false, false, smear_names),
	F(tai_offset_sec, true, false, NULL),
	F(leap_indicator, false, false, leap_names),
	F(counter_period_shift, false, false, NULL),
	F(counter_value, false, false, NULL),
	F(counter_period_frac_sec, false, false, NULL),
	F(counter_period_esterror_rate_frac_sec, false, false, NULL),
	F(counter_period_maxerror_rate_frac_sec, false, false, NULL),
	F(time_sec, false, false, NULL),
	F(time_frac_sec, false, false, NULL),
	F(time_esterror_nanosec, false, false, NULL),
	F(time_maxerror_nanosec, false, false, NULL),
	F(vm_generation_counter, false, false, NULL),
};
#undef F
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct field *field_find(const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < NFIELDS; i++)
		if (strlen(fields[i].name) == len && !strncmp(fields[i].name, name, len))
			return &fields[i];
	return NULL;
}

static int lookup_name(const struct name_val *nv, const char *s, size_t len,
		       uint64_t *v)
{
	for (; nv && nv->name; nv++)
		if (strlen(nv->name) == len && !strncasecmp(nv->name, s, len)) {
			*v = nv->val;
			return 0;
		}
	return -1;
}

/* "notify|gen|0x8": names or numbers joined by '|'. */
static int parse_flags(const char *s, uint64_t *v)
{
	uint64_t acc = 0;

	for (;;) {
		const char *bar = strchr(s, '|');
		size_t len = bar ? (size_t)(bar - s) : strlen(s);
		char num[32];
		uint64_t one;

		if (lookup_name(flag_names, s, len, &one)) {
			if (!len || len >= sizeof(num))
				return -1;
			memcpy(num, s, len);
			num[len] = '\0';
			if (parse_u64(num, &one))
				return -1;
		}
		acc |= one;
		if (!bar)
			break;
		s = bar + 1;
	}
	*v = acc;
	return 0;
}

/* Value of @f from text: a number in the field's range, or a known name. */
static int field_value(const struct field *f, const char *s, uint64_t *v)
{
	uint64_t max = f->size == 8 ? UINT64_MAX : (1ull << (8 * f->size)) - 1;
	int64_t sv;

	if (!lookup_name(f->names, s, strlen(s), v))
		return 0;
	if (!strcmp(f->name, "flags"))
		return parse_flags(s, v);
	if (f->is_signed && *s == '-') {
		/* Negative decimal: must fit the signed width. */
		int64_t lo = -(int64_t)(max / 2) - 1;

		if (parse_s64(s, &sv) || sv < lo)
			return -1;
		*v = (uint64_t)sv & max;
		return 0;
	}
	if (parse_u64(s, v))
		return -1;
	/* Positive decimal for a signed field: up to its positive max. */
	if (f->is_signed && !(s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		max /= 2;
	return *v > max ? -1 : 0;
}

/*
 * set FIELD=VALUE...: all assignments in one transaction. When seq_count is
 * among them the whole set is written raw, without the protocol, so a test
 * can leave the page in any state (e.g. a writer stuck at an odd seq_count).
 * FIELD+=V and FIELD-=V set and clear bits (meant for flags).
 */
int cmd_set(struct host *h, int argc, char **argv)
{
	const struct field *fs[64];
	uint64_t vals[64];
	char ops[64];
	bool raw = false;
	int i, n = argc - 1;

	if (n < 1)
		return usage_error(h, "set: need FIELD=VALUE (fields: see dump)");
	if (n > 64)
		return usage_error(h, "set: at most 64 assignments");
	for (i = 0; i < n; i++) {
		const char *a = argv[i + 1], *eq = strchr(a, '=');
		size_t len;

		if (!eq || eq == a)
			return usage_error(h, "set: '%s' is not FIELD=VALUE", a);
		len = (size_t)(eq - a);
		ops[i] = '=';
		if (a[len - 1] == '+' || a[len - 1] == '-')
			ops[i] = a[--len];
		fs[i] = field_find(a, len);
		if (!fs[i])
			return usage_error(h, "set: unknown field '%.*s' (see dump for names)",
					   (int)len, a);
		if (field_value(fs[i], eq + 1, &vals[i]))
			return usage_error(h, "set: bad value '%s' for %s", eq + 1,
					   fs[i]->name);
		if (!strcmp(fs[i]->name, "seq_count"))
			raw = true;
	}
	if (!raw)
		tx_begin(h);
	for (i = 0; i < n; i++) {
		void *p = (uint8_t *)h->page + fs[i]->off;
		uint64_t v = vals[i];

		if (ops[i] == '+')
			v = fld_load(p, fs[i]->size) | v;
		else if (ops[i] == '-')
			v = fld_load(p, fs[i]->size) & ~v;
		fld_store(p, fs[i]->size, v);
	}
	if (!raw)
		tx_end(h);
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return RC_OK;
}

/* Copy of the structure under the reader protocol, bounded at ~100 ms. */
static bool read_consistent(struct host *h, uint64_t *vals)
{
	struct timespec until;
	unsigned int i;

	clock_gettime(CLOCK_MONOTONIC, &until);
	ts_add_ms(&until, 100);
	do {
		uint32_t seq = (uint32_t)GET(h, seq_count);

		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		for (i = 0; i < NFIELDS; i++)
			vals[i] = fld_load((uint8_t *)h->page + fields[i].off,
					   fields[i].size);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (!(seq & 1) && seq == (uint32_t)GET(h, seq_count))
			return true;
	} while (!ts_reached(&until));
	return false;
}

int cmd_dump(struct host *h, int argc, char **argv)
{
	uint64_t vals[NFIELDS];
	unsigned int i;

	if (parse_opts(h, "dump", argc, argv, NULL, NULL, NULL, 0))
		return RC_USAGE;
	if (!read_consistent(h, vals))
		fprintf(h->err, "vmclock-host: dump: seq_count odd or moving for 100 ms; printing a raw copy\n");
	for (i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];

		if (f->hex)
			fprintf(h->out, "%s=0x%llx\n", f->name, (unsigned long long)vals[i]);
		else if (f->is_signed)
			fprintf(h->out, "%s=%d\n", f->name, (int16_t)vals[i]);
		else
			fprintf(h->out, "%s=%llu\n", f->name, (unsigned long long)vals[i]);
	}
	return RC_OK;
}
