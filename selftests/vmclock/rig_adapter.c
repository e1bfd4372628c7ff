// SPDX-License-Identifier: GPL-2.0
/*
 * vmc_rig_request() on top of the rig's mailbox client
 * (tests/vm/guest/rig_request.h): one request, the default timeout, the
 * host's RIG_MB_RESULT as the return value. Built only when that client
 * exists (see the Makefile); both headers are included so the compiler
 * checks the two prototypes against each other.
 */
#include <stdio.h>

#include "host.h"
#include "rig_request.h"

int vmc_rig_request(const char *cmdline, char *reply, size_t reply_len)
{
	static struct rig_reply rr;	/* 2 KiB: keep it off the stack */
	int ret;

	ret = rig_host(&rr, "%s", cmdline);
	if (reply && reply_len)
		snprintf(reply, reply_len, "%s", rr.text);
	/* Mailbox failures are -errno; the host's own status otherwise. */
	return ret ? ret : rr.result;
}
