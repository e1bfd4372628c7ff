// SPDX-License-Identifier: GPL-2.0
/*
 * vmclock-host --file PATH --offset OFF [--mailbox OFF] COMMAND [ARGS]
 *
 * Global options, then one command; `serve` runs further commands from the
 * rig mailbox through run_command().
 */
#include <signal.h>
#include <string.h>

#include "vmclock-host.h"

volatile sig_atomic_t stop_requested;

static const char usage[] =
"usage: vmclock-host --file PATH --offset OFF [--mailbox OFF] COMMAND [ARGS]\n"
"  --mailbox defaults to OFF + 0x1000; numbers are decimal or 0x hex\n"
"commands:\n"
"  init [--size N] [--magic X] [--version V] [--counter invalid|tsc|arm]\n"
"       [--time-type utc|tai|monotonic|N] [--tai-offset S] [--notify] [--gen-counter]\n"
"  set FIELD=VALUE|FIELD+=BITS|FIELD-=BITS ...   (seq_count=... writes raw)\n"
"  clock [--counter-offset N] [--time-type tai|utc] [--tai-offset S] [--status S]\n"
"        [--esterror-ns N] [--maxerror-ns N]\n"
"  steady [clock options] [--interval-ms 1000] [--duration-s S] [--stop (in serve)]\n"
"  disrupt [--generation] [--unreliable-ms N] [--counter-jump TICKS] [--marker-only]\n"
"  leap none|pre-pos|pre-neg|pos|post-pos|post-neg\n"
"  calibrate [--duration-ms 500] [--max-spread 2000] [--max-width-ns 250000]\n"
"            [--counter-hz HZ]\n"
"  echo-check --max-error-ns N [--duration-ms 500] [--tai-offset 37]\n"
"  serve [--counter-offset N] [--interval-ms 1000] [--steady] [--notify-on-update]\n"
"  notify | sleep MS | dump\n"
"  bump [--disrupt] [--notify]   (seq +2 only; host TSC -> RIG_MB_BUMP_TSC)\n"
"  stall MS [--count N] [--gap-ms G] [--disrupt] | stall --status\n"
"  fuzz [--duration-s 60] [--seed 1] [--pause-us 2000]   (hostile page, then restored)\n"
"exit status: 0 done, 1 failed, 2 bad argument\n";

struct command {
	const char *name;
	int (*fn)(struct host *h, int argc, char **argv);
};

static const struct command commands[] = {
	{ "init", cmd_init }, { "set", cmd_set }, { "clock", cmd_clock },
	{ "steady", cmd_steady }, { "disrupt", cmd_disrupt },
	{ "leap", cmd_leap }, { "calibrate", cmd_calibrate },
	{ "echo-check", cmd_echo_check }, { "serve", cmd_serve },
	{ "notify", cmd_notify }, { "sleep", cmd_sleep }, { "dump", cmd_dump },
	{ "bump", cmd_bump }, { "stall", cmd_stall }, { "fuzz", cmd_fuzz },
	{ NULL, NULL },
};

static const struct command *find_command(const char *name)
{
	const struct command *c;

	for (c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int run_command(struct host *h, int argc, char **argv)
{
	const struct command *c = find_command(argv[0]);

	if (!c)
		return usage_error(h, "unknown command '%s' (try --help)", argv[0]);
	return c->fn(h, argc, argv);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Global options up to the command name; returns its index or -1. */
static int parse_global(struct host *h, int argc, char **argv)
{
	bool have_offset = false, have_mailbox = false;
	int i;

	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		const char *a = argv[i] + 2, *eq = strchr(a, '='), *val;
		size_t len = eq ? (size_t)(eq - a) : strlen(a);

		if (len == 4 && !strncmp(a, "help", 4)) {
			fputs(usage, stdout);
			return -2;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return usage_error(h, "%s needs a value", argv[i]), -1;
		if (len == 4 && !strncmp(a, "file", 4)) {
			h->file = val;
		} else if (len == 6 && !strncmp(a, "offset", 6)) {
			if (parse_u64(val, &h->offset) || h->offset > UINT64_MAX - 2 * PAGE_BYTES)
				return usage_error(h, "bad --offset '%s'", val), -1;
			have_offset = true;
		} else if (len == 7 && !strncmp(a, "mailbox", 7)) {
			if (parse_u64(val, &h->mailbox) || h->mailbox > UINT64_MAX - PAGE_BYTES)
				return usage_error(h, "bad --mailbox '%s'", val), -1;
			have_mailbox = true;
		} else {
			return usage_error(h, "unknown option '--%.*s' (global options come before the command)",
					   (int)len, a), -1;
		}
	}
	if (!h->file)
		return usage_error(h, "--file PATH is required\n%s", usage), -1;
	if (!have_offset)
		return usage_error(h, "--offset OFF is required"), -1;
	if (i >= argc)
		return usage_error(h, "no command given (try --help)"), -1;
	if (!have_mailbox)
		h->mailbox = h->offset + PAGE_BYTES;
	return i;
}

int main(int argc, char **argv)
{
	struct host h = { .fd = -1, .out = stdout, .err = stderr };
	struct sigaction sa;
	int first, rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: sleeps end early */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	first = parse_global(&h, argc, argv);
	if (first == -2)
		return RC_OK;
	if (first < 0)
		return RC_USAGE;
	/* Reject an unknown command before touching the file. */
	if (!find_command(argv[first]))
		return usage_error(&h, "unknown command '%s' (try --help)", argv[first]);
	rc = page_open(&h);
	if (!rc)
		rc = run_command(&h, argc - first, argv + first);
	page_close(&h);
	return rc;
}
