// SPDX-License-Identifier: GPL-2.0
/*
 * Page life-cycle events: init (a fresh page, as a hypervisor creates it),
 * disrupt (live migration / snapshot restore), leap (leap second states),
 * and the rig helpers notify and sleep.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "vmclock-host.h"

/*
 * init: zero the page, then the identity fields, seq_count 2 (what QEMU and
 * Firecracker start with). Meant for before the guest maps the page: a
 * reader that began on an older seq_count 2 would not notice the reset.
 */
int cmd_init(struct host *h, int argc, char **argv)
{
	uint64_t size = PAGE_BYTES, magic = VMCLOCK_MAGIC, version = 1;
	const char *counter = "invalid", *tt = NULL;
	int64_t tai = 0;
	bool notify = false, gen = false;
	struct opt opts[] = {
		{ "size", OPT_U64, &size, 0, UINT32_MAX, false },
		{ "magic", OPT_U64, &magic, 0, UINT32_MAX, false },
		{ "version", OPT_U64, &version, 0, UINT16_MAX, false },
		{ "counter", OPT_STR, &counter, 0, 0, false },
		{ "time-type", OPT_STR, &tt, 0, 0, false },
		{ "tai-offset", OPT_S64, &tai, -32768, 32767, false },
		{ "notify", OPT_FLAG, &notify, 0, 0, false },
		{ "gen-counter", OPT_FLAG, &gen, 0, 0, false },
		{ NULL, 0, NULL, 0, 0, false },
	};
	uint8_t cid, ttype = VMCLOCK_TIME_UTC;
	uint64_t flags = 0;
	unsigned int off;

	if (parse_opts(h, "init", argc, argv, opts, NULL, NULL, 0))
		return RC_USAGE;
	if (!strcasecmp(counter, "invalid"))
		cid = VMCLOCK_COUNTER_INVALID;
	else if (!strcasecmp(counter, "tsc"))
		cid = VMCLOCK_COUNTER_X86_TSC;
	else if (!strcasecmp(counter, "arm"))
		cid = VMCLOCK_COUNTER_ARM_VCNT;
	else
		return usage_error(h, "init: --counter must be invalid, tsc or arm");
	if (tt && parse_time_type(h, tt, &ttype))
		return RC_USAGE;
	if (opts[5].seen)
		flags |= VMCLOCK_FLAG_TAI_OFFSET_VALID;
	if (notify)
		flags |= VMCLOCK_FLAG_NOTIFICATION_PRESENT;
	if (gen)
		flags |= VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT;

	tx_begin(h);
	for (off = 0; off < PAGE_BYTES; off += 4)
		if (off != offsetof(struct vmclock_abi, seq_count))
			fld_store((uint8_t *)h->page + off, 4, 0);
	PUT(h, magic, magic);
	PUT(h, size, size);
	PUT(h, version, version);
	PUT(h, counter_id, cid);
	PUT(h, time_type, ttype);
	PUT(h, disruption_marker, 1);
	PUT(h, flags, flags);
	PUT(h, clock_status, VMCLOCK_STATUS_UNKNOWN);
	PUT(h, tai_offset_sec, (uint16_t)tai);
	h->tx_seq = 1;			/* tx_end makes it 2 */
	tx_end(h);
	return RC_OK;
}

/* Second transaction of a disruption: the clock is trustworthy again. */
int disrupt_restore(struct host *h)
{
	tx_begin(h);
	PUT(h, clock_status, VMCLOCK_STATUS_SYNCHRONIZED);
	tx_end(h);
	h->srv.restore_pending = false;
	return RC_OK;
}

/*
 * disrupt: what a hypervisor does around a live migration or a snapshot
 * restore. --marker-only is the QEMU/Firecracker shape (no status change).
 * Inside serve the second transaction is scheduled, not waited for, so the
 * guest gets its ack while the clock is still UNRELIABLE.
 */
int cmd_disrupt(struct host *h, int argc, char **argv)
{
	bool gen = false, marker_only = false;
	uint64_t ms = 0;
	int64_t jump = 0;
	struct opt opts[] = {
		{ "generation", OPT_FLAG, &gen, 0, 0, false },
		{ "unreliable-ms", OPT_U64, &ms, 0, 3600000, false },
		{ "counter-jump", OPT_S64, &jump, 1, 0, false },
		{ "marker-only", OPT_FLAG, &marker_only, 0, 0, false },
		{ NULL, 0, NULL, 0, 0, false },
	};

	if (parse_opts(h, "disrupt", argc, argv, opts, NULL, NULL, 0))
		return RC_USAGE;
	if (marker_only && opts[1].seen)
		return usage_error(h, "disrupt: --marker-only and --unreliable-ms exclude each other");

	tx_begin(h);
	if (!marker_only)
		PUT(h, clock_status, VMCLOCK_STATUS_UNRELIABLE);
	PUT(h, disruption_marker, GET(h, disruption_marker) + 1);
	if (gen) {
		PUT(h, vm_generation_counter, GET(h, vm_generation_counter) + 1);
		PUT(h, flags, GET(h, flags) | VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT);
	}
	PUT(h, counter_value, GET(h, counter_value) + (uint64_t)jump);
	tx_end(h);
	fprintf(h->out, "disruption_marker=%llu\n",
		(unsigned long long)GET(h, disruption_marker));
	if (marker_only)
		return RC_OK;

	if (h->srv.active) {
		clock_gettime(CLOCK_MONOTONIC, &h->srv.restore_at);
		ts_add_ms(&h->srv.restore_at, ms);
		h->srv.restore_pending = true;
		return RC_OK;
	}
	sleep_ms(ms);
	return disrupt_restore(h);
}

int cmd_leap(struct host *h, int argc, char **argv)
{
	const struct name_val *nv;
	char *pos[1];
	int n;

	if (parse_opts(h, "leap", argc, argv, NULL, &n, pos, 1))
		return RC_USAGE;
	if (n != 1)
		return usage_error(h, "leap: need KIND (none, pre-pos, pre-neg, pos, post-pos, post-neg)");
	for (nv = leap_names; nv->name; nv++)
		if (!strcmp(nv->name, pos[0]))
			break;
	if (!nv->name)
		return usage_error(h, "leap: unknown KIND '%s' (none, pre-pos, pre-neg, pos, post-pos, post-neg)",
				   pos[0]);
	tx_begin(h);
	PUT(h, leap_indicator, nv->val);
	tx_end(h);
	return RC_OK;
}

/* notify: one more Notify(VCLK, 0x80) request for the rig module. */
int cmd_notify(struct host *h, int argc, char **argv)
{
	int rc;

	if (parse_opts(h, "notify", argc, argv, NULL, NULL, NULL, 0))
		return RC_USAGE;
	rc = mailbox_map(h);
	if (rc)
		return rc;
	mb_notify(h);
	fprintf(h->out, "notify_req=%u\n", mb_load32(h, RIG_MB_NOTIFY_REQ));
	return RC_OK;
}

/* sleep MS: inside serve, serve's own rounds go on meanwhile. */
int cmd_sleep(struct host *h, int argc, char **argv)
{
	struct timespec until;
	uint64_t ms;
	char *pos[1];
	int n;

	if (parse_opts(h, "sleep", argc, argv, NULL, &n, pos, 1))
		return RC_USAGE;
	if (n != 1 || parse_u64(pos[0], &ms) || ms > 3600000)
		return usage_error(h, "sleep: need MS (0..3600000)");
	clock_gettime(CLOCK_MONOTONIC, &until);
	ts_add_ms(&until, ms);
	while (!stop_requested && !ts_reached(&until)) {
		if (h->srv.active)
			serve_duties(h);
		sleep_ms(1);
	}
	return RC_OK;
}

/*
 * stall: a writer descheduled in the middle of its updates. seq_count is
 * made odd and left so for MS ms, then given its next even value, N times
 * with G ms between windows; no other field changes, except the marker
 * (+1 in every window) with --disrupt. --status tells whether a stall still
 * runs and how long its longest window was actually held (a busy host may
 * run late). Inside serve the
 * first window opens before the ack and serve_duties() runs the rest, so
 * the guest acts while the page is in flux. A window another transaction
 * ended early (a request, disrupt's second half) is left as it is.
 */
static void stall_open(struct host *h)
{
	struct serve_state *s = &h->srv;

	s->stall_seq = (uint32_t)GET(h, seq_count) | 1;
	PUT(h, seq_count, s->stall_seq);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->stall_odd = true;
	clock_gettime(CLOCK_MONOTONIC, &s->stall_opened);
	s->stall_next = s->stall_opened;
	ts_add_ms(&s->stall_next, s->stall_ms);
}

static void stall_close(struct host *h)
{
	struct serve_state *s = &h->srv;
	struct timespec now;
	uint64_t held;

	if ((uint32_t)GET(h, seq_count) == s->stall_seq) {
		if (s->stall_disrupt)
			PUT(h, disruption_marker, GET(h, disruption_marker) + 1);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		PUT(h, seq_count, s->stall_seq + 1);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->stall_odd = false;
	s->stall_left--;
	/* A busy host holds a window longer than asked: say by how much. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	held = ts_ns(&now) - ts_ns(&s->stall_opened);
	if (held > s->stall_longest_ns)
		s->stall_longest_ns = held;
	s->stall_windows++;
	s->stall_next = now;
	ts_add_ms(&s->stall_next, s->stall_gap_ms);
}

/* Opens or closes the current window when its time has come. */
void stall_step(struct host *h)
{
	struct serve_state *s = &h->srv;

	if (!s->stall_left || !ts_reached(&s->stall_next))
		return;
	if (s->stall_odd)
		stall_close(h);
	else
		stall_open(h);
}

int cmd_stall(struct host *h, int argc, char **argv)
{
	struct serve_state *s = &h->srv;
	uint64_t count = 1, gap = 1, ms;
	bool disrupt = false, status = false;
	struct opt opts[] = {
		{ "count", OPT_U64, &count, 1, 100000, false },
		{ "gap-ms", OPT_U64, &gap, 0, 60000, false },
		{ "disrupt", OPT_FLAG, &disrupt, 0, 0, false },
		{ "status", OPT_FLAG, &status, 0, 0, false },
		{ NULL, 0, NULL, 0, 0, false },
	};
	char *pos[1];
	int n;

	if (parse_opts(h, "stall", argc, argv, opts, &n, pos, 1))
		return RC_USAGE;
	if (status && n)
		return usage_error(h, "stall: --status takes no MS");
	if (status) {
		fprintf(h->out, "stall: running=%d windows=%llu longest_us=%llu\n",
			s->stall_left != 0, (unsigned long long)s->stall_windows,
			(unsigned long long)(s->stall_longest_ns / 1000));
		return RC_OK;
	}
	if (n != 1 || parse_u64(pos[0], &ms) || ms > 60000)
		return usage_error(h, "stall: need MS (0..60000)");
	if (s->stall_left)
		return usage_error(h, "stall: a stall is still running");

	s->stall_ms = ms;
	s->stall_gap_ms = gap;
	s->stall_left = count;
	s->stall_disrupt = disrupt;
	s->stall_windows = 0;
	s->stall_longest_ns = 0;
	stall_open(h);
	fprintf(h->out, "stall: seq_count=%u for %llu ms, %llu times, %llu ms apart\n",
		s->stall_seq, (unsigned long long)ms, (unsigned long long)count,
		(unsigned long long)gap);
	if (s->active)
		return RC_OK;
	/* One-shot: run the windows here. */
	while (s->stall_left && !stop_requested) {
		stall_step(h);
		sleep_ms(1);
	}
	if (s->stall_odd)
		stall_close(h);
	s->stall_left = 0;
	return RC_OK;
}
