// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * vmclock - what the hypervisor's VMClock page provides, the time it gives,
 * and its clock disruptions, for operators and scripts. Built on libvmclock.
 *
 *   vmclock [-d DEV | --file PATH] [--json] info|now|check|watch [OPTIONS]
 *
 * Exit status: 0 success (check: the clock is usable), 1 check: not usable
 * / watch: timeout, 2 bad arguments, 3 error (no device, not a VMClock page,
 * permission, writer stuck).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmclock.h"

enum { EXIT_OK = 0, EXIT_NO = 1, EXIT_USAGE = 2, EXIT_ERROR = 3 };

/* Flag bits and values of the page (linux/vmclock-abi.h), for decoding. */
#define FLAG_TAI_OFFSET_VALID	(1ULL << 0)
#define FLAG_PERIOD_ESTERR	(1ULL << 3)
#define FLAG_PERIOD_MAXERR	(1ULL << 4)
#define FLAG_TIME_ESTERR	(1ULL << 5)
#define FLAG_TIME_MAXERR	(1ULL << 6)
#define FLAG_GEN_PRESENT	(1ULL << 8)
#define FLAG_NOTIFY		(1ULL << 9)
#define GEN_END			0x70	/* size covering vm_generation_counter */

static const char *const flag_names[] = {
	"TAI_OFFSET_VALID", "DISRUPTION_SOON", "DISRUPTION_IMMINENT",
	"PERIOD_ESTERROR_VALID", "PERIOD_MAXERROR_VALID", "TIME_ESTERROR_VALID",
	"TIME_MAXERROR_VALID", "TIME_MONOTONIC", "VM_GEN_COUNTER_PRESENT",
	"NOTIFICATION_PRESENT",
};

struct opts {
	const char *path;	/* NULL: the default device */
	bool file, json, quiet;
	unsigned long count;	/* watch -n */
	double timeout_s;	/* watch -t; 0 none */
	const char *exec;	/* watch --exec */
	uint64_t max_error_ns;	/* check --max-error-ns; 0 none */
};

static const char *prog = "vmclock";

static void __attribute__((format(printf, 1, 2))) msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *page_status_name(unsigned int s)
{
	static const char *const n[] = { "UNKNOWN", "INITIALIZING",
		"SYNCHRONIZED", "FREERUNNING", "UNRELIABLE" };

	return s < 5 ? n[s] : "RESERVED";
}

static const char *status_name(int s)
{
	static const char *const n[] = { "UNKNOWN", "SYNCHRONIZED",
		"FREE_RUNNING", "UNRELIABLE", "DISRUPTED" };

	return s >= 0 && s < 5 ? n[s] : "?";
}

static const char *counter_name(unsigned int c)
{
	return c == 0 ? "arm-vcnt" : c == 1 ? "x86-tsc" : c == 0xff ? "none" : "reserved";
}

static const char *time_type_name(unsigned int t)
{
	static const char *const n[] = { "UTC", "TAI", "MONOTONIC", "SMEARED",
		"MAYBE_SMEARED" };

	return t < 5 ? n[t] : "RESERVED";
}

static const char *source_name(int s)
{
	return s == VMCLOCK_SOURCE_PAGE ? "page" :
	       s == VMCLOCK_SOURCE_SYSTEM ? "system" : "none";
}

static bool gen_present(const struct vmclock_snapshot *s)
{
	return (s->flags & FLAG_GEN_PRESENT) && s->size >= GEN_END;
}

/* The /dev/ptpN whose clock_name is the device's name (vmclockN). */
static void ptp_of(const char *path, char *out, size_t len)
{
	const char *name = strrchr(path, '/');
	glob_t g;
	size_t i;

	snprintf(out, len, "none");
	name = name ? name + 1 : path;
	if (glob("/sys/class/ptp/ptp*/clock_name", 0, NULL, &g))
		return;
	for (i = 0; i < g.gl_pathc; i++) {
		char buf[64] = "";
		FILE *f = fopen(g.gl_pathv[i], "r");

		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
		if (!strcmp(buf, name)) {
			/* /sys/class/ptp/ptpN/clock_name -> /dev/ptpN */
			const char *p = g.gl_pathv[i] + strlen("/sys/class/ptp/");

			snprintf(out, len, "/dev/%.*s", (int)strcspn(p, "/"), p);
			break;
		}
	}
	globfree(&g);
}

static int open_page(const struct opts *o, struct vmclock **vc)
{
	const char *path = o->path ? o->path : VMCLOCK_DEFAULT_DEVICE;
	int ret = vmclock_open(path, vc);

	if (ret)
		msg("%s: %s", path, vmclock_strerror(ret));
	return ret;
}

/* ------------------------------------------------------------ info */

/* Counter frequency in Hz from the period (2^-(64+shift) s units). */
static double counter_hz(const struct vmclock_snapshot *s)
{
	if (!s->counter_period_frac_sec)
		return 0;
	return ldexp(1.0, 64 + s->counter_period_shift) /
	       (double)s->counter_period_frac_sec;
}

/* A period error rate in parts per billion. */
static double rate_ppb(uint64_t rate, const struct vmclock_snapshot *s)
{
	if (!s->counter_period_frac_sec)
		return 0;
	return (double)rate / (double)s->counter_period_frac_sec * 1e9;
}

static int cmd_info(const struct opts *o)
{
	const char *path = o->path ? o->path : VMCLOCK_DEFAULT_DEVICE;
	struct vmclock_snapshot s;
	struct vmclock *vc;
	char ptp[64], flags[400] = "";
	bool notify;
	unsigned int i;
	int ret, mode;

	if (open_page(o, &vc))
		return EXIT_ERROR;
	ret = vmclock_snapshot(vc, &s);
	mode = vmclock_wait_mode(vc);
	vmclock_close(vc);
	if (ret) {
		msg("%s: %s", path, vmclock_strerror(ret));
		return EXIT_ERROR;
	}
	if (o->file)
		snprintf(ptp, sizeof(ptp), "none");
	else
		ptp_of(path, ptp, sizeof(ptp));
	for (i = 0; i < 10; i++) {
		if (!(s.flags & (1ULL << i)))
			continue;
		if (*flags)
			strcat(flags, o->json ? "\", \"" : " ");
		strcat(flags, flag_names[i]);
	}
	notify = s.flags & FLAG_NOTIFY;

	if (o->json) {
		printf("{\"device\": \"%s\", \"size\": %u, \"version\": %u, "
		       "\"counter\": \"%s\", \"counter_id\": %u, \"counter_hz\": %.0f, "
		       "\"time_type\": \"%s\", \"clock_status\": \"%s\", "
		       "\"seq_count\": %u, \"disruption_marker\": %llu, "
		       "\"flags\": %llu, \"flag_names\": [%s%s%s], "
		       "\"notifications\": %s, \"wait\": \"%s\", "
		       "\"vm_generation_counter\": ",
		       path, s.size, s.version, counter_name(s.counter_id),
		       s.counter_id, counter_hz(&s), time_type_name(s.time_type),
		       page_status_name(s.clock_status), s.seq_count,
		       (unsigned long long)s.disruption_marker,
		       (unsigned long long)s.flags, *flags ? "\"" : "", flags,
		       *flags ? "\"" : "", notify ? "true" : "false",
		       mode == VMCLOCK_WAIT_NOTIFY ? "notify" : "periodic");
		if (gen_present(&s))
			printf("%llu", (unsigned long long)s.vm_generation_counter);
		else
			printf("null");
		printf(", \"tai_offset_sec\": %d, \"tai_offset_valid\": %s, "
		       "\"leap_indicator\": %u, \"leap_second_smearing_hint\": %u, "
		       "\"counter_value\": %llu, \"counter_period_frac_sec\": %llu, "
		       "\"counter_period_shift\": %u, \"time_sec\": %llu, "
		       "\"time_frac_sec\": %llu, \"time_esterror_ns\": ",
		       s.tai_offset_sec, s.flags & FLAG_TAI_OFFSET_VALID ? "true" : "false",
		       s.leap_indicator, s.leap_second_smearing_hint,
		       (unsigned long long)s.counter_value,
		       (unsigned long long)s.counter_period_frac_sec,
		       s.counter_period_shift, (unsigned long long)s.time_sec,
		       (unsigned long long)s.time_frac_sec);
		if (s.flags & FLAG_TIME_ESTERR)
			printf("%llu", (unsigned long long)s.time_esterror_nanosec);
		else
			printf("null");
		printf(", \"time_maxerror_ns\": ");
		if (s.flags & FLAG_TIME_MAXERR)
			printf("%llu", (unsigned long long)s.time_maxerror_nanosec);
		else
			printf("null");
		printf(", \"period_esterror_ppb\": ");
		if (s.flags & FLAG_PERIOD_ESTERR)
			printf("%.3f", rate_ppb(s.counter_period_esterror_rate_frac_sec, &s));
		else
			printf("null");
		printf(", \"period_maxerror_ppb\": ");
		if (s.flags & FLAG_PERIOD_MAXERR)
			printf("%.3f", rate_ppb(s.counter_period_maxerror_rate_frac_sec, &s));
		else
			printf("null");
		printf(", \"ptp\": %s%s%s}\n", strcmp(ptp, "none") ? "\"" : "",
		       strcmp(ptp, "none") ? ptp : "null", strcmp(ptp, "none") ? "\"" : "");
		return EXIT_OK;
	}

	printf("device:            %s\n", path);
	printf("page:              version %u, size %u bytes\n", s.version, s.size);
	if (s.counter_id == 0xff)
		printf("clock data:        none (the hypervisor provides only the disruption marker)\n");
	else
		printf("counter:           %s (%.0f Hz)\n", counter_name(s.counter_id),
		       counter_hz(&s));
	printf("time type:         %s\n", time_type_name(s.time_type));
	printf("clock status:      %s\n", page_status_name(s.clock_status));
	printf("disruption marker: %llu (seq_count %u)\n",
	       (unsigned long long)s.disruption_marker, s.seq_count);
	if (gen_present(&s))
		printf("VM generation:     %llu\n", (unsigned long long)s.vm_generation_counter);
	else
		printf("VM generation:     absent\n");
	printf("changes:           %s; waiting by %s\n",
	       notify ? "the hypervisor notifies" : "no notifications",
	       mode == VMCLOCK_WAIT_NOTIFY ? "poll() on the device" :
	       "looking at the page every 100 ms");
	printf("flags:             0x%llx %s\n", (unsigned long long)s.flags, flags);
	if (s.flags & FLAG_TAI_OFFSET_VALID)
		printf("TAI offset:        %d s (magnitude used: TAI = UTC + %d s)\n",
		       s.tai_offset_sec, abs(s.tai_offset_sec));
	else
		printf("TAI offset:        not valid\n");
	printf("leap indicator:    %u, smearing hint %u\n", s.leap_indicator,
	       s.leap_second_smearing_hint);
	if (s.flags & FLAG_TIME_MAXERR)
		printf("time max error:    %llu ns\n", (unsigned long long)s.time_maxerror_nanosec);
	if (s.flags & FLAG_TIME_ESTERR)
		printf("time est error:    %llu ns\n", (unsigned long long)s.time_esterror_nanosec);
	if (s.flags & FLAG_PERIOD_MAXERR)
		printf("period max error:  %.3f ppb\n",
		       rate_ppb(s.counter_period_maxerror_rate_frac_sec, &s));
	if (s.flags & FLAG_PERIOD_ESTERR)
		printf("period est error:  %.3f ppb\n",
		       rate_ppb(s.counter_period_esterror_rate_frac_sec, &s));
	printf("PTP clock:         %s\n", ptp);
	return EXIT_OK;
}

/* ------------------------------------------------------------ now */

static void print_ts(const char *key, const struct vmclock_timespec *ts, bool json)
{
	if (json)
		printf("\"%s\": \"%lld.%09ld\"", key, (long long)ts->tv_sec, ts->tv_nsec);
	else
		printf("%-18s %lld.%09ld\n", key, (long long)ts->tv_sec, ts->tv_nsec);
}

static int64_t half_width_ns(const struct vmclock_range *r)
{
	return ((int64_t)(r->latest.tv_sec - r->earliest.tv_sec) * 1000000000 +
		(r->latest.tv_nsec - r->earliest.tv_nsec)) / 2;
}

static void print_range(const char *name, const struct vmclock_range *r, bool json)
{
	char key[32];

	if (json)
		printf("\"%s\": {\"source\": \"%s\", \"bounded\": %s, ", name,
		       source_name(r->source), r->bounded ? "true" : "false");
	else
		printf("%-18s source %s, %s\n", name, source_name(r->source),
		       r->bounded ? "bounded" : "bound unknown");
	if (r->source == VMCLOCK_SOURCE_NONE) {
		if (json)
			printf("\"earliest\": null, \"latest\": null}");
		return;
	}
	snprintf(key, sizeof(key), json ? "earliest" : "  earliest");
	print_ts(key, &r->earliest, json);
	if (json)
		printf(", ");
	snprintf(key, sizeof(key), json ? "latest" : "  latest");
	print_ts(key, &r->latest, json);
	if (json)
		printf(", \"maxerror_ns\": %lld}", r->bounded ? (long long)half_width_ns(r) : -1LL);
	else if (r->bounded)
		printf("%-18s %lld\n", "  maxerror_ns", (long long)half_width_ns(r));
}

/* One vmclock_now() on a freshly opened page; 0 or an exit status. */
static int read_now(const struct opts *o, const char *what, struct vmclock_now *n)
{
	struct vmclock *vc;
	int ret;

	if (open_page(o, &vc))
		return EXIT_ERROR;
	ret = vmclock_now(vc, n);
	vmclock_close(vc);
	if (ret) {
		msg("%s: %s", what, vmclock_strerror(ret));
		return EXIT_ERROR;
	}
	return 0;
}

static int cmd_now(const struct opts *o)
{
	struct vmclock_now n;

	if (read_now(o, "now", &n))
		return EXIT_ERROR;
	if (o->json) {
		printf("{\"status\": \"%s\", ", status_name(n.status));
		print_range("realtime", &n.realtime, true);
		printf(", ");
		print_range("tai", &n.tai, true);
		printf(", \"leap_indicator\": %u, \"disruption_marker\": %llu, "
		       "\"vm_generation_counter\": %llu}\n", n.leap_indicator,
		       (unsigned long long)n.disruption_marker,
		       (unsigned long long)n.vm_generation_counter);
		return EXIT_OK;
	}
	printf("%-18s %s\n", "status", status_name(n.status));
	print_range("realtime", &n.realtime, false);
	print_range("tai", &n.tai, false);
	printf("%-18s %llu\n", "disruption_marker", (unsigned long long)n.disruption_marker);
	printf("%-18s %llu\n", "vm_generation", (unsigned long long)n.vm_generation_counter);
	return EXIT_OK;
}

/* ------------------------------------------------------------ check */

static int cmd_check(const struct opts *o)
{
	const char *why = NULL;
	struct vmclock_now n;
	int64_t err = -1;

	if (read_now(o, "check", &n))
		return EXIT_ERROR;
	if (n.realtime.source != VMCLOCK_SOURCE_PAGE)
		why = "no clock data for this CPU's counter in the page";
	else if (!n.realtime.bounded)
		why = "the page gives no maximum error";
	else if (n.status != VMCLOCK_SYNCHRONIZED && n.status != VMCLOCK_FREE_RUNNING)
		why = "the clock is not synchronized";
	if (n.realtime.bounded)
		err = half_width_ns(&n.realtime);
	if (!why && o->max_error_ns && (uint64_t)err > o->max_error_ns)
		why = "the maximum error exceeds --max-error-ns";

	if (o->json)
		printf("{\"usable\": %s, \"status\": \"%s\", \"maxerror_ns\": %lld, \"reason\": %s%s%s}\n",
		       why ? "false" : "true", status_name(n.status), (long long)err,
		       why ? "\"" : "", why ? why : "null", why ? "\"" : "");
	else if (!o->quiet)
		printf("%s: %s, status %s, maxerror %lld ns\n", why ? "not usable" : "usable",
		       why ? why : "page time with bounds", status_name(n.status),
		       (long long)err);
	return why ? EXIT_NO : EXIT_OK;
}

/* ------------------------------------------------------------ watch */

struct state {
	uint32_t seq;
	uint64_t marker, gen;
	bool gen_present;
	uint8_t status;
};

static void to_state(const struct vmclock_snapshot *s, struct state *st)
{
	st->seq = s->seq_count;
	st->marker = s->disruption_marker;
	st->gen_present = gen_present(s);
	st->gen = st->gen_present ? s->vm_generation_counter : 0;
	st->status = s->clock_status;
}

static const char *gen_str(const struct state *s, char *buf, size_t len, bool json)
{
	if (!s->gen_present)
		return json ? "null" : "absent";
	snprintf(buf, len, "%llu", (unsigned long long)s->gen);
	return buf;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void set_env_u64(const char *name, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	setenv(name, buf, 1);
}

/* The --exec hook, with the event in its environment; waited for. */
static void run_hook(const struct opts *o, const char *path,
		     const struct state *old, const struct state *cur)
{
	char g[24];
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		msg("--exec: fork: %s", strerror(errno));
		return;
	}
	if (!pid) {
		setenv("VMCLOCK_EVENT", "disruption", 1);
		setenv("VMCLOCK_DEVICE", path, 1);
		set_env_u64("VMCLOCK_SEQ", cur->seq);
		set_env_u64("VMCLOCK_DISRUPTION_MARKER", cur->marker);
		set_env_u64("VMCLOCK_DISRUPTION_MARKER_PREVIOUS", old->marker);
		setenv("VMCLOCK_VM_GENERATION_COUNTER", gen_str(cur, g, sizeof(g), false), 1);
		setenv("VMCLOCK_VM_GENERATION_COUNTER_PREVIOUS",
		       gen_str(old, g, sizeof(g), false), 1);
		setenv("VMCLOCK_CLOCK_STATUS", page_status_name(cur->status), 1);
		execl("/bin/sh", "sh", "-c", o->exec, (char *)NULL);
		msg("--exec: /bin/sh: %s", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		msg("--exec: '%s' %s %d", o->exec,
		    WIFEXITED(st) ? "exited with status" : "killed by signal",
		    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static int cmd_watch(const struct opts *o)
{
	const char *path = o->path ? o->path : VMCLOCK_DEFAULT_DEVICE;
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	uint64_t deadline = 0, woke_at, left;
	struct vmclock_snapshot s;
	struct vmclock_token tok;
	struct state last, cur;
	unsigned long seen = 0;
	struct vmclock *vc;
	char g0[24], g1[24];
	int ret, mode, ms;

	if (o->timeout_s > 0)
		deadline = mono_ns() + (uint64_t)(o->timeout_s * 1e9);
	if (open_page(o, &vc))
		return EXIT_ERROR;
	mode = vmclock_wait_mode(vc);
	ret = vmclock_token_take(vc, &tok);
	if (!ret)
		ret = vmclock_snapshot(vc, &s);
	if (ret)
		goto err;
	to_state(&s, &last);
	if (o->json)
		printf("{\"event\": \"start\", \"device\": \"%s\", \"seq\": %u, "
		       "\"disruption_marker\": %llu, \"vm_generation_counter\": %s, "
		       "\"clock_status\": \"%s\", \"wait\": \"%s\"}\n", path, last.seq,
		       (unsigned long long)last.marker, gen_str(&last, g0, sizeof(g0), true),
		       page_status_name(last.status),
		       mode == VMCLOCK_WAIT_NOTIFY ? "notify" : "periodic");
	else if (!o->quiet)
		printf("%s seq=%u disruption_marker=%llu vm_generation_counter=%s clock_status=%s wait=%s\n",
		       name, last.seq, (unsigned long long)last.marker,
		       gen_str(&last, g0, sizeof(g0), false), page_status_name(last.status),
		       mode == VMCLOCK_WAIT_NOTIFY ? "notify" : "periodic");

	for (;;) {
		ms = -1;
		if (deadline) {
			uint64_t now = mono_ns();

			left = now >= deadline ? 0 : deadline - now;
			if (!left) {
				if (!o->quiet)
					msg("timeout after %g s (%lu disruption%s seen)",
					    o->timeout_s, seen, seen == 1 ? "" : "s");
				vmclock_close(vc);
				return EXIT_NO;
			}
			ms = left / 1000000 >= INT_MAX ? INT_MAX : (int)((left + 999999) / 1000000);
		}
		ret = vmclock_wait(vc, &tok, ms);
		if (ret < 0)
			goto err;
		if (!ret)
			continue;	/* the deadline decides */
		woke_at = mono_ns();
		ret = vmclock_token_take(vc, &tok);
		if (!ret)
			ret = vmclock_snapshot(vc, &s);
		if (ret)
			goto err;
		to_state(&s, &cur);
		if (cur.marker == last.marker && cur.gen == last.gen &&
		    cur.gen_present == last.gen_present)
			continue;	/* changed and changed back: nothing to say */
		if (o->json)
			printf("{\"event\": \"disruption\", \"seq\": %u, \"disruption_marker\": %llu, "
			       "\"previous_disruption_marker\": %llu, \"vm_generation_counter\": %s, "
			       "\"previous_vm_generation_counter\": %s, \"clock_status\": \"%s\", "
			       "\"woke_at\": %llu}\n", cur.seq,
			       (unsigned long long)cur.marker, (unsigned long long)last.marker,
			       gen_str(&cur, g1, sizeof(g1), true), gen_str(&last, g0, sizeof(g0), true),
			       page_status_name(cur.status), (unsigned long long)woke_at);
		else if (!o->quiet)
			printf("disruption seq=%u disruption_marker=%llu->%llu vm_generation_counter=%s->%s clock_status=%s woke_at=%llu\n",
			       cur.seq, (unsigned long long)last.marker,
			       (unsigned long long)cur.marker, gen_str(&last, g0, sizeof(g0), false),
			       gen_str(&cur, g1, sizeof(g1), false), page_status_name(cur.status),
			       (unsigned long long)woke_at);
		if (o->exec)
			run_hook(o, path, &last, &cur);
		last = cur;
		if (o->count && ++seen >= o->count)
			break;
	}
	vmclock_close(vc);
	return EXIT_OK;
err:
	msg("%s: %s", path, vmclock_strerror(ret));
	vmclock_close(vc);
	return EXIT_ERROR;
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-d DEVICE | --file PATH] [--json] COMMAND [OPTIONS]\n"
		"commands:\n"
		"  info                 what the hypervisor's page provides, decoded\n"
		"  now                  the time with its bounds and status\n"
		"  check [--max-error-ns N] [-q]\n"
		"                       exit 0 when the page gives bounded, synchronized time\n"
		"                       (within N ns), 1 when not\n"
		"  watch [-n COUNT] [-t TIMEOUT_S] [-q] [--exec CMD]\n"
		"                       print each disruption (marker or generation change);\n"
		"                       CMD runs with VMCLOCK_* variables in its environment\n"
		"options:\n"
		"  -d DEVICE            VMClock device (default %s)\n"
		"  --file PATH          a file holding a VMClock page at offset 0\n"
		"  --json               one JSON object per line\n"
		"exit status: 0 success, 1 check: not usable / watch: timeout,\n"
		"             2 bad arguments, 3 error\n",
		prog, VMCLOCK_DEFAULT_DEVICE);
}

static int parse_u64_opt(const char *opt, const char *s, uint64_t min, uint64_t *v)
{
	unsigned long long x;
	char *end;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || x < min) {
		msg("%s wants a whole number of at least %llu, not '%s'", opt,
		    (unsigned long long)min, s);
		return -1;
	}
	*v = x;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'F' },
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "exec", required_argument, NULL, 'e' },
		{ "max-error-ns", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	const char *cmd = NULL, *dev = NULL, *file = NULL;
	bool watch_opt = false, check_opt = false;
	uint64_t v;
	char *end;
	int opt;

	/* Options may come before or after the command. */
	while (optind < argc) {
		opt = getopt_long(argc, argv, "+d:n:t:qh", longopts, NULL);
		if (opt == -1) {
			if (cmd) {
				msg("unexpected argument '%s'", argv[optind]);
				return EXIT_USAGE;
			}
			cmd = argv[optind++];
			continue;
		}
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'F':
			file = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'e':
			o.exec = optarg;
			watch_opt = true;
			break;
		case 'm':
			if (parse_u64_opt("--max-error-ns", optarg, 1, &o.max_error_ns))
				return EXIT_USAGE;
			check_opt = true;
			break;
		case 'n':
			if (parse_u64_opt("-n", optarg, 1, &v) || v > ULONG_MAX)
				return EXIT_USAGE;
			o.count = v;
			watch_opt = true;
			break;
		case 't':
			errno = 0;
			o.timeout_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o.timeout_s) ||
			    o.timeout_s <= 0 || o.timeout_s > 1e9) {
				msg("-t wants a positive number of seconds, not '%s'", optarg);
				return EXIT_USAGE;
			}
			watch_opt = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!cmd) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (dev && file) {
		msg("-d and --file exclude each other");
		return EXIT_USAGE;
	}
	o.file = file != NULL;
	o.path = file ? file : dev;
	if (watch_opt && strcmp(cmd, "watch")) {
		msg("-n, -t and --exec belong to watch");
		return EXIT_USAGE;
	}
	if (check_opt && strcmp(cmd, "check")) {
		msg("--max-error-ns belongs to check");
		return EXIT_USAGE;
	}
	/* Lines must reach a pipe or a log at once. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(cmd, "info"))
		return cmd_info(&o);
	if (!strcmp(cmd, "now"))
		return cmd_now(&o);
	if (!strcmp(cmd, "check"))
		return cmd_check(&o);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(&o);
	msg("unknown command '%s'", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
