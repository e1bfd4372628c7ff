// SPDX-License-Identifier: GPL-2.0
/*
 * bump: one writer transaction that changes nothing but seq_count (or, with
 * --disrupt, also disruption_marker), timed for the wake-up benchmark
 * (bench/). The host TSC taken just before seq_count becomes even goes to
 * the mailbox word RIG_MB_BUMP_TSC, with the new seq_count in
 * RIG_MB_BUMP_SEQ. Under TCG guest_tsc = host_tsc + the calibrated offset,
 * so a guest that takes rdtsc when poll() wakes it can compute how long the
 * change took to reach it.
 */
#include "vmclock-host.h"

int cmd_bump(struct host *h, int argc, char **argv)
{
	bool disrupt = false, notify = false;
	struct opt opts[] = {
		{ "disrupt", OPT_FLAG, &disrupt, 0, 0, false },
		{ "notify", OPT_FLAG, &notify, 0, 0, false },
		{ NULL, 0, NULL, 0, 0, false },
	};
	uint32_t even;
	uint64_t t;
	int rc;

	if (parse_opts(h, "bump", argc, argv, opts, NULL, NULL, 0))
		return RC_USAGE;
	if (!counter_available())
		return run_error(h, "bump: needs the x86 TSC");
	rc = mailbox_map(h);
	if (rc)
		return rc;

	tx_begin(h);
	if (disrupt)
		PUT(h, disruption_marker, GET(h, disruption_marker) + 1);
	even = h->tx_seq + 1;
	/*
	 * tx_end()'s steps, with the timestamp in between: the fields are
	 * globally visible before the TSC is read, and BUMP_TSC/BUMP_SEQ
	 * before the even seq_count, so a guest that sees the new seq_count
	 * also sees the timestamp that belongs to it.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t = counter_read();
	fld_store(h->mb + RIG_MB_BUMP_TSC, 8, t);
	mb_store32(h, RIG_MB_BUMP_SEQ, even);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	PUT(h, seq_count, even);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* One Notify even when serve --notify-on-update would add another. */
	if (notify || h->srv.notify_on_update)
		mb_notify(h);
	fprintf(h->out, "seq=%u bump_tsc=%llu disruption_marker=%llu notify_req=%u\n",
		even, (unsigned long long)t,
		(unsigned long long)GET(h, disruption_marker),
		mb_load32(h, RIG_MB_NOTIFY_REQ));
	return RC_OK;
}
