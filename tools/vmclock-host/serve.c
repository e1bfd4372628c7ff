// SPDX-License-Identifier: GPL-2.0
/*
 * serve: the rig's long-running host side. One process owns the page: it
 * runs the guest's requests from the mailbox in-process and, with --steady,
 * the periodic clock rounds, so writers never race each other.
 *
 * Mailbox handshake (rig-mailbox.h): the guest writes REQ_TEXT and
 * then increments REQ_SEQ; while REQ_SEQ != ACK_SEQ we run the request,
 * write REPLY_TEXT and RESULT, barrier, then ACK_SEQ = REQ_SEQ.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "vmclock-host.h"

#define MAX_TOKENS 64

static bool steady_pending;	/* --steady given, waiting for an offset */

static void start_steady(struct host *h, uint64_t interval_ms)
{
	char ms[24];
	char *argv[] = { "steady", "--interval-ms", ms, NULL };

	snprintf(ms, sizeof(ms), "%llu", (unsigned long long)interval_ms);
	if (cmd_steady(h, 3, argv) == RC_OK)
		steady_pending = false;
}

/* Everything serve does besides requests; also called while `sleep` waits. */
void serve_duties(struct host *h)
{
	struct serve_state *s = &h->srv;

	if (steady_pending && s->have_offset)
		start_steady(h, s->interval_ms);
	stall_step(h);
	/* A round would end a stall window early: wait for its end. */
	if (s->steady && !s->stall_odd && ts_reached(&s->next_round)) {
		if (s->steady_until_set && ts_reached(&s->steady_until)) {
			s->steady = false;
		} else if (clock_round(h, &s->steady_cfg, s->steady_first)) {
			fprintf(stderr, "vmclock-host: serve: steady round failed, steady stopped\n");
			s->steady = false;
		} else {
			s->steady_first = false;
			ts_add_ms(&s->next_round, s->interval_ms);
			if (ts_reached(&s->next_round)) {	/* fell behind */
				clock_gettime(CLOCK_MONOTONIC, &s->next_round);
				ts_add_ms(&s->next_round, s->interval_ms);
			}
		}
	}
	if (s->restore_pending && ts_reached(&s->restore_at))
		disrupt_restore(h);
}

static int tokenize(char *text, char **argv)
{
	int argc = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(text, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == MAX_TOKENS)
			return -1;
		argv[argc++] = tok;
	}
	argv[argc] = NULL;
	return argc;
}

/* For the rig log: one line, printable characters only. */
static void log_line(const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i] && s[i] != '\n'; i++)
		putchar(isprint((unsigned char)s[i]) ? s[i] : '?');
}

static void handle_request(struct host *h, uint32_t req)
{
	char text[RIG_MB_REQ_MAX + 1], copy[RIG_MB_REQ_MAX + 1];
	char *argv[MAX_TOKENS + 1], *reply = NULL;
	FILE *out = h->out, *err = h->err, *m;
	size_t len = 0;
	int argc, rc;

	__atomic_thread_fence(__ATOMIC_ACQUIRE);	/* text after REQ_SEQ */
	memcpy(text, h->mb + RIG_MB_REQ_TEXT, RIG_MB_REQ_MAX);
	text[RIG_MB_REQ_MAX] = '\0';
	memcpy(copy, text, sizeof(copy));

	m = open_memstream(&reply, &len);
	if (!m) {
		rc = RC_FAIL;
	} else {
		h->out = h->err = m;
		argc = tokenize(copy, argv);
		if (argc < 0)
			rc = usage_error(h, "request has more than %d words", MAX_TOKENS);
		else if (argc == 0)
			rc = usage_error(h, "empty request");
		else if (!strcmp(argv[0], "serve"))
			rc = usage_error(h, "serve cannot be requested through the mailbox");
		else
			rc = run_command(h, argc, argv);
		fclose(m);
		h->out = out;
		h->err = err;
	}
	len = reply ? strnlen(reply, RIG_MB_REPLY_MAX - 1) : 0;
	if (len)
		memcpy(h->mb + RIG_MB_REPLY_TEXT, reply, len);
	h->mb[RIG_MB_REPLY_TEXT + len] = '\0';
	mb_store32(h, RIG_MB_RESULT, (uint32_t)rc);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);	/* reply before ack */
	mb_store32(h, RIG_MB_ACK_SEQ, req);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	printf("serve: req %u rc=%d \"", req, rc);
	log_line(text, RIG_MB_REQ_MAX);
	printf("\" -> ");
	log_line(reply ? reply : "", len);
	putchar('\n');
	free(reply);
}

int cmd_serve(struct host *h, int argc, char **argv)
{
	int64_t offset = 0;
	uint64_t interval = 1000;
	bool steady = false, notify = false;
	struct opt opts[] = {
		{ "counter-offset", OPT_S64, &offset, 1, 0, false },
		{ "interval-ms", OPT_U64, &interval, 1, 3600000, false },
		{ "steady", OPT_FLAG, &steady, 0, 0, false },
		{ "notify-on-update", OPT_FLAG, &notify, 0, 0, false },
		{ NULL, 0, NULL, 0, 0, false },
	};
	int rc;

	if (h->srv.active)
		return usage_error(h, "serve cannot run inside serve");
	if (parse_opts(h, "serve", argc, argv, opts, NULL, NULL, 0))
		return RC_USAGE;
	rc = mailbox_map(h);
	if (rc)
		return rc;
	/* Measure the TSC now, not in the middle of the first request. */
	if (counter_available()) {
		rc = tsc_rate_measure(h);
		if (rc)
			return rc;
	}
	h->srv.active = true;
	h->srv.notify_on_update = notify;
	h->srv.have_offset = opts[0].seen;
	h->srv.counter_offset = offset;
	h->srv.interval_ms = interval;
	steady_pending = steady;
	printf("serve: page 0x%llx mailbox 0x%llx in %s, tsc %llu Hz, steady %s\n",
	       (unsigned long long)h->offset, (unsigned long long)h->mailbox,
	       h->file, (unsigned long long)h->rate.hz,
	       !steady ? "off" : opts[0].seen ? "on" : "after calibrate");

	while (!stop_requested) {
		uint32_t req = mb_load32(h, RIG_MB_REQ_SEQ);

		serve_duties(h);
		if (req != mb_load32(h, RIG_MB_ACK_SEQ))
			handle_request(h, req);
		sleep_ms(1);
	}
	printf("serve: stopping on signal\n");
	return RC_OK;
}
