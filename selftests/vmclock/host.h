/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Asking the rig's host side (tools/vmclock-host) to act on the VMClock page.
 *
 * vmc_rig_request() is the one call the selftests need. The test rig's
 * mailbox library (tests/vm/guest: librig.a, whose selftest_host.c
 * implements it on the rig's mailbox client) provides it when the Makefile
 * is given VMCLOCK_RIG_LIB; otherwise rig_stub.c does, with
 * vmc_rig_present false, and the tests that need the host skip.
 */
#ifndef VMCLOCK_SELFTEST_HOST_H
#define VMCLOCK_SELFTEST_HOST_H

#include <stdbool.h>
#include <stddef.h>

/* True when the rig's mailbox library is linked (see above). */
extern const bool vmc_rig_present;

/*
 * Sends one vmclock-host command line (without --file/--offset), waits up
 * to @timeout_ms (0: the library's default) for the host's acknowledgement
 * and copies the host's output into @reply.
 * Return: 0 when the host did it, else the host's non-zero status or a
 * negative errno when the mailbox itself failed.
 */
int vmc_rig_request(const char *cmdline, unsigned int timeout_ms,
		    char *reply, size_t reply_len);

/*
 * printf-style wrapper: formats the command line, calls vmc_rig_request() and,
 * on failure, leaves a one-line explanation in host_error() for a test's
 * reason. Return: as vmc_rig_request().
 */
int host_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *host_error(void);
/* host_cmd() for a command that runs long (fuzz): waits up to @timeout_ms. */
int host_cmd_timeout(unsigned int timeout_ms, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The host's output of the last host_cmd(). */
const char *host_reply(void);

#endif /* VMCLOCK_SELFTEST_HOST_H */
