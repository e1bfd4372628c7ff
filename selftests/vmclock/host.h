/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Asking the rig's host side (tools/vmclock-host) to act on the VMClock page.
 *
 * vmc_rig_request() is the one call the selftests need. rig_adapter.c
 * implements it on top of the rig's mailbox client
 * (tests/vm/guest/rig_request.c, whose own rig_request() takes a mailbox
 * handle and a struct rig_reply) and is built only when that file exists.
 * Without it, rig_stub.c's weak fallback says "rig_request unavailable" and
 * returns -ENOSYS, so the checks that need the host fail, not the build.
 */
#ifndef VMCLOCK_SELFTEST_HOST_H
#define VMCLOCK_SELFTEST_HOST_H

#include <stddef.h>

/*
 * Sends one vmclock-host command line (without --file/--offset), waits for
 * the host's acknowledgement and copies the host's output into @reply.
 * Return: 0 when the host did it, else the host's non-zero status or a
 * negative errno when the mailbox itself failed.
 */
int vmc_rig_request(const char *cmdline, char *reply, size_t reply_len);

/*
 * printf-style wrapper: formats the command line, calls vmc_rig_request() and,
 * on failure, leaves a one-line explanation in host_error() for a TAP
 * reason. Return: as vmc_rig_request().
 */
int host_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *host_error(void);
/* The host's output of the last host_cmd(). */
const char *host_reply(void);

#endif /* VMCLOCK_SELFTEST_HOST_H */
