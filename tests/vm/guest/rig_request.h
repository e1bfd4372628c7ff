/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest side of the rig mailbox's action requests (layout in
 * tools/vmclock-host/rig-mailbox.h): write the request text, bump
 * RIG_MB_REQ_SEQ, wait for RIG_MB_ACK_SEQ.
 * Used by rig-host, rig-echo and the in-guest selftests. x86 only.
 *
 * The page comes from mmap() of /dev/vmclock_rig (the rig module), or of
 * the file named by the environment variable RIG_MAILBOX_DEV (host tests
 * use a plain 4 KiB file and a fake responder).
 */
#ifndef RIG_REQUEST_H
#define RIG_REQUEST_H

#include <stddef.h>

#include "rig-mailbox.h"

#define RIG_MAILBOX_DEV_DEFAULT	"/dev/vmclock_rig"
#define RIG_TIMEOUT_MS_DEFAULT	20000

struct rig_mailbox {
	volatile unsigned char *page;	/* one shared page */
	int fd;				/* kept open for flock() */
};

struct rig_reply {
	int result;			/* RIG_MB_RESULT */
	char text[RIG_MB_REPLY_MAX];	/* RIG_MB_REPLY_TEXT, always NUL-terminated */
};

/* The device path in use: $RIG_MAILBOX_DEV or RIG_MAILBOX_DEV_DEFAULT. */
const char *rig_mailbox_path(void);

/* Map the mailbox page read-write. 0, or -errno. */
int rig_mailbox_open(struct rig_mailbox *mb);
void rig_mailbox_close(struct rig_mailbox *mb);

/*
 * Send one request and wait up to timeout_ms for the host's ack, including
 * the wait for a still-pending earlier request. Requests from processes
 * sharing the page are serialised with flock() on the device.
 * Returns 0 with *reply filled, -ETIMEDOUT when no ack came (reply->text
 * then says which wait timed out), -E2BIG when text does not fit in
 * RIG_MB_REQ_TEXT, or another -errno.
 */
int rig_request(struct rig_mailbox *mb, const char *text,
		unsigned int timeout_ms, struct rig_reply *reply);

/*
 * One-shot helper for tests: format the request, open the mailbox, send it
 * with the default timeout, close. Returns what rig_request() returns.
 */
int rig_host(struct rig_reply *reply, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* RIG_REQUEST_H */
