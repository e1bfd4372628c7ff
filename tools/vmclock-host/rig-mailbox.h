/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test rig's mailbox: one 4 KiB page of guest RAM right after the
 * VMClock page (guest-physical VMCLOCK_PAGE + 0x1000), reserved from the
 * guest with memmap= and shared with the host through the guest-RAM backing
 * file. It is a test-only channel between the rig's host side
 * (tools/vmclock-host "serve") and the guest (tests/vm/rig-module, the
 * selftests); no product code uses it. All fields little-endian; x86 only.
 *
 *  host <-> guest clock echo (calibration and accuracy checks), one round
 *  trip at a time, so that every reading is bracketed by two host readings
 *    RIG_MB_PING         u64  host writes a new round number n after taking
 *                             its clock (b)
 *    RIG_MB_PONG_VALUE   u64  guest clock reading (rdtsc, or PHC ns) taken
 *                             after the guest saw PING == n
 *    RIG_MB_PONG         u64  guest writes n after PONG_VALUE; the host
 *                             takes its clock (a) once it sees it, so the
 *                             reading was taken between b and a
 *  host -> guest notification requests
 *    RIG_MB_NOTIFY_REQ   u32  host increments; the rig module then evaluates
 *                             the SSDT method that does Notify(VCLK, 0x80)
 *    RIG_MB_NOTIFY_DONE  u32  rig module copies NOTIFY_REQ after evaluating
 *  guest -> host action requests (one at a time)
 *    RIG_MB_REQ_SEQ      u32  guest increments after writing RIG_MB_REQ_TEXT
 *    RIG_MB_ACK_SEQ      u32  host sets it to REQ_SEQ when the action is done
 *    RIG_MB_RESULT       s32  0 or the action's non-zero status
 *    RIG_MB_REQ_TEXT     char[RIG_MB_REQ_MAX], NUL-terminated: a vmclock-host
 *                             command line without the --file/--offset part,
 *                             e.g. "set clock_status=4" or "disrupt --generation"
 *    RIG_MB_REPLY_TEXT   char[RIG_MB_REPLY_MAX], NUL-terminated: the action's
 *                             output (e.g. the result of "calibrate")
 *  host -> guest wake-up timing (vmclock-host "bump", bench/)
 *    RIG_MB_BUMP_TSC     u64  host rdtsc taken just before the bump's
 *                             seq_count became even; stored before it
 *    RIG_MB_BUMP_SEQ     u32  the even seq_count that bump wrote, so a
 *                             reader can tell which bump BUMP_TSC belongs to
 */
#ifndef RIG_MAILBOX_H
#define RIG_MAILBOX_H

#define RIG_MB_PING		0x020
#define RIG_MB_PONG_VALUE	0x028
#define RIG_MB_PONG		0x030
#define RIG_MB_NOTIFY_REQ	0x040
#define RIG_MB_NOTIFY_DONE	0x044
#define RIG_MB_REQ_SEQ		0x080
#define RIG_MB_ACK_SEQ		0x084
#define RIG_MB_RESULT		0x088
#define RIG_MB_REQ_TEXT		0x100
#define RIG_MB_REQ_MAX		0x400
#define RIG_MB_REPLY_TEXT	0x800
#define RIG_MB_REPLY_MAX	0x800
#define RIG_MB_BUMP_TSC		0x010
#define RIG_MB_BUMP_SEQ		0x018

/* Guest-physical layout used by the rig's default page source. */
#define RIG_VMCLOCK_GPA		0x1f000000ULL	/* in RAM; memmap=8K$ reserves it */
#define RIG_MAILBOX_GPA		(RIG_VMCLOCK_GPA + 0x1000)
/* Firecracker-shaped variant: below 1 MiB. */
#define RIG_FC_VMCLOCK_GPA	0x9d000ULL
#define RIG_FC_MAILBOX_GPA	(RIG_FC_VMCLOCK_GPA + 0x1000)

#endif /* RIG_MAILBOX_H */
