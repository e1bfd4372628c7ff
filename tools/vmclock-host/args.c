// SPDX-License-Identifier: GPL-2.0
/*
 * Argument parsing shared by every command. Numbers are decimal or 0x hex
 * only (no octal surprise from a leading 0); every error is a message on the
 * command's error stream and RC_USAGE, never an exit, because `serve` runs
 * the same commands in-process.
 */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "vmclock-host.h"

int parse_u64(const char *s, uint64_t *v)
{
	unsigned int base = 10;
	uint64_t acc = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (acc > (UINT64_MAX - d) / base)
			return -1;	/* overflow */
		acc = acc * base + d;
	}
	*v = acc;
	return 0;
}

int parse_s64(const char *s, int64_t *v)
{
	bool neg = *s == '-';
	uint64_t mag;

	if (parse_u64(s + neg, &mag))
		return -1;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -1;
		*v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > INT64_MAX)
			return -1;
		*v = (int64_t)mag;
	}
	return 0;
}

static int vmsg(struct host *h, int rc, const char *fmt, va_list ap)
{
	fputs("vmclock-host: ", h->err);
	vfprintf(h->err, fmt, ap);
	fputc('\n', h->err);
	return rc;
}

int usage_error(struct host *h, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vmsg(h, RC_USAGE, fmt, ap);
	va_end(ap);
	return rc;
}

int run_error(struct host *h, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vmsg(h, RC_FAIL, fmt, ap);
	va_end(ap);
	return rc;
}

static int set_opt(struct host *h, const char *cmd, struct opt *o,
		   const char *val)
{
	uint64_t u;
	int64_t s;

	switch (o->type) {
	case OPT_FLAG:
		*(bool *)o->dst = true;
		break;
	case OPT_STR:
		*(const char **)o->dst = val;
		break;
	case OPT_U64:
		if (parse_u64(val, &u) ||
		    (o->min <= o->max && (u < (uint64_t)o->min || u > (uint64_t)o->max)))
			return usage_error(h, "%s: --%s: bad value '%s'%s", cmd,
					   o->name, val, o->min <= o->max ?
					   " (out of range)" : "");
		*(uint64_t *)o->dst = u;
		break;
	case OPT_S64:
		if (parse_s64(val, &s) ||
		    (o->min <= o->max && (s < o->min || s > o->max)))
			return usage_error(h, "%s: --%s: bad value '%s'", cmd,
					   o->name, val);
		*(int64_t *)o->dst = s;
		break;
	}
	o->seen = true;
	return RC_OK;
}

/*
 * Options are "--name VALUE" or "--name=VALUE"; anything not starting with
 * "--" is positional (collected into @pos, at most @maxpos of them).
 * argv[0] is the command name.
 */
int parse_opts(struct host *h, const char *cmd, int argc, char **argv,
	       struct opt *opts, int *npos, char **pos, int maxpos)
{
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *val = NULL;
		struct opt *o;
		size_t len;

		if (strncmp(a, "--", 2) != 0 || !a[2]) {
			if (n >= maxpos)
				return usage_error(h, "%s: unexpected argument '%s'",
						   cmd, a);
			pos[n++] = argv[i];
			continue;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		for (o = opts; o && o->name; o++)
			if (strlen(o->name) == len && !strncmp(o->name, a, len))
				break;
		if (!o || !o->name)
			return usage_error(h, "%s: unknown option '%s'", cmd, argv[i]);
		if (o->type == OPT_FLAG) {
			if (eq)
				return usage_error(h, "%s: --%s takes no value", cmd,
						   o->name);
		} else if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return usage_error(h, "%s: --%s needs a value", cmd, o->name);
		}
		if (set_opt(h, cmd, o, val))
			return RC_USAGE;
	}
	if (npos)
		*npos = n;
	return RC_OK;
}

int parse_time_type(struct host *h, const char *s, uint8_t *tt)
{
	uint64_t v;

	if (!strcasecmp(s, "utc"))
		*tt = VMCLOCK_TIME_UTC;
	else if (!strcasecmp(s, "tai"))
		*tt = VMCLOCK_TIME_TAI;
	else if (!strcasecmp(s, "monotonic"))
		*tt = VMCLOCK_TIME_MONOTONIC;
	else if (!parse_u64(s, &v) && v <= 0xff)
		*tt = (uint8_t)v;
	else
		return usage_error(h, "bad time type '%s' (utc, tai, monotonic or 0..255)", s);
	return RC_OK;
}

int parse_status(struct host *h, const char *s, uint8_t *st)
{
	static const char *const names[] = {
		"unknown", "initializing", "synchronized", "freerunning",
		"unreliable",
	};
	uint64_t v;
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i])) {
			*st = (uint8_t)i;
			return RC_OK;
		}
	if (!parse_u64(s, &v) && v <= 0xff) {
		*st = (uint8_t)v;
		return RC_OK;
	}
	return usage_error(h, "bad clock status '%s' (unknown, initializing, synchronized, freerunning, unreliable or 0..255)", s);
}
