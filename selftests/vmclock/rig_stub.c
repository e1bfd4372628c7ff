// SPDX-License-Identifier: GPL-2.0
/*
 * vmc_rig_request() for a build without the test rig's mailbox library
 * (VMCLOCK_RIG_LIB unset): there is no hypervisor side to ask, so the tests
 * that need one skip (VMC_NEED_HOST) and a stray request fails.
 */
#include <errno.h>
#include <stdio.h>

#include "host.h"

const bool vmc_rig_present = false;

int vmc_rig_request(const char *cmdline, unsigned int timeout_ms,
		    char *reply, size_t reply_len)
{
	(void)timeout_ms;
	if (reply && reply_len)
		snprintf(reply, reply_len,
			 "no VMClock host side in this build (VMCLOCK_RIG_LIB unset): cannot send \"%s\"",
			 cmdline);
	return -ENOSYS;
}
