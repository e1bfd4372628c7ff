// SPDX-License-Identifier: GPL-2.0
/*
 * The selftests' host requests (selftests/vmclock/host.h) on the rig's
 * mailbox client (rig_request.h): one request, the caller's timeout, the
 * host's RIG_MB_RESULT as the return value. Part of librig.a, the small
 * library the selftests link (VMCLOCK_RIG_LIB); both headers are included
 * so the compiler checks the two prototypes against each other.
 */
#include <stdio.h>

#include "host.h"
#include "rig_request.h"

const bool vmc_rig_present = true;

int vmc_rig_request(const char *cmdline, unsigned int timeout_ms,
		    char *reply, size_t reply_len)
{
	static struct rig_reply rr;	/* 2 KiB: keep it off the stack */
	struct rig_mailbox mb;
	int ret;

	ret = rig_mailbox_open(&mb);
	if (ret) {
		snprintf(rr.text, sizeof(rr.text), "rig mailbox %s: %d",
			 rig_mailbox_path(), ret);
	} else {
		ret = rig_request(&mb, cmdline,
				  timeout_ms ? timeout_ms : RIG_TIMEOUT_MS_DEFAULT,
				  &rr);
		rig_mailbox_close(&mb);
	}
	if (reply && reply_len)
		snprintf(reply, reply_len, "%s", rr.text);
	/* Mailbox failures are -errno; the host's own status otherwise. */
	return ret ? ret : rr.result;
}
