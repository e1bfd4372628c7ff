// SPDX-License-Identifier: GPL-2.0
/*
 * rig-host: ask the rig's host side to perform an action through the
 * mailbox, e.g. `rig-host set clock_status=4`. Prints the host's reply and
 * exits with its status; 124 when no acknowledgement came in time.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rig_request.h"

#define EXIT_USAGE	2
#define EXIT_TIMEOUT	124	/* as timeout(1) */

static void usage(void)
{
	fprintf(stderr,
		"usage: rig-host [-t SECONDS] CMD [ARG...]\n"
		"  sends \"CMD ARG...\" to the rig host through %s\n"
		"  (override with RIG_MAILBOX_DEV), prints the reply and exits\n"
		"  with the host's status; 124 if no reply within SECONDS (default %d)\n",
		RIG_MAILBOX_DEV_DEFAULT, RIG_TIMEOUT_MS_DEFAULT / 1000);
	exit(EXIT_USAGE);
}

/* Seconds (may be fractional) to milliseconds; -1 when not valid. */
static long parse_timeout(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400)
		return -1;
	return (long)(v * 1000 + 0.5);
}

int main(int argc, char **argv)
{
	long timeout_ms = RIG_TIMEOUT_MS_DEFAULT;
	static struct rig_reply reply;
	static char text[RIG_MB_REQ_MAX];
	struct rig_mailbox mb;
	size_t len = 0;
	int opt, i, ret;

	/* "+": stop at CMD so its own options (--generation) pass through. */
	while ((opt = getopt(argc, argv, "+t:h")) != -1) {
		switch (opt) {
		case 't':
			timeout_ms = parse_timeout(optarg);
			if (timeout_ms < 1) {
				fprintf(stderr, "rig-host: bad timeout '%s'\n",
					optarg);
				usage();
			}
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();

	for (i = optind; i < argc; i++) {
		size_t n = strlen(argv[i]) + (i > optind);

		if (len + n >= sizeof(text)) {
			fprintf(stderr, "rig-host: request longer than %d bytes\n",
				RIG_MB_REQ_MAX - 1);
			return EXIT_USAGE;
		}
		len += sprintf(text + len, "%s%s", i > optind ? " " : "",
			       argv[i]);
	}

	ret = rig_mailbox_open(&mb);
	if (ret) {
		fprintf(stderr, "rig-host: %s: %s\n", rig_mailbox_path(),
			strerror(-ret));
		return 1;
	}
	ret = rig_request(&mb, text, (unsigned int)timeout_ms, &reply);
	rig_mailbox_close(&mb);
	if (ret == -ETIMEDOUT) {
		fprintf(stderr, "rig-host: timed out after %.1f s waiting for the host: %s\n",
			timeout_ms / 1000.0, reply.text);
		return EXIT_TIMEOUT;
	}
	if (ret) {
		fprintf(stderr, "rig-host: %s\n", strerror(-ret));
		return 1;
	}

	len = strlen(reply.text);
	if (len)
		printf("%s%s", reply.text, reply.text[len - 1] == '\n' ? "" : "\n");
	if (reply.result) {
		fprintf(stderr, "rig-host: host action '%s' failed with status %d\n",
			text, reply.result);
		/* Exit codes are 8 bits: keep failures visible as failures. */
		return reply.result > 0 && reply.result < 256 ? reply.result : 1;
	}
	return 0;
}
