// SPDX-License-Identifier: GPL-2.0
/*
 * Weak fallback for vmc_rig_request(), linked into every selftest. When the
 * rig's mailbox client exists, rig_adapter.c's strong definition wins.
 */
#include <errno.h>
#include <stdio.h>

#include "host.h"

__attribute__((weak))
int vmc_rig_request(const char *cmdline, char *reply, size_t reply_len)
{
	if (reply && reply_len)
		snprintf(reply, reply_len, "rig_request unavailable");
	printf("# rig_request unavailable (tests/vm/guest/rig_request.c was not linked): cannot send \"%s\"\n",
	       cmdline);
	fflush(stdout);
	return -ENOSYS;
}
