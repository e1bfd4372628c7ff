/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptp_vmclock: state shared by the files of the driver.
 *
 * One struct vmclock_state per VMClock device. It is reference counted
 * because open files of /dev/vmclockN may outlive an unbind: the device
 * holds one reference, every open file one more, and the mapping of the
 * page is only dropped with the last reference.
 */
#ifndef _PTP_VMCLOCK_H
#define _PTP_VMCLOCK_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/percpu.h>
#include <linux/ptp_clock_kernel.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "compat.h"		/* before the core: u128 on older kernels */
#include <vmclock/vmclock-core.h>

#define VMCLOCK_NAME_LEN	16	/* "vmclock" + index, fits ptp_clock_info.name */

/*
 * A reader that finds the page in flux (seq_count odd or changing) tries
 * again for up to this long, then gives up with -EBUSY (transient for
 * phc2sys and chronyd; Linux 7.0 answers -ETIMEDOUT after the same time).
 */
#define VMCLOCK_SEQ_TIMEOUT_MS	100
/* Probe waits this long for a page still being set up or in flux. */
#define VMCLOCK_PROBE_WAIT_MS	1000
/*
 * Without notifications and with no reader waiting in poll(), the detector
 * looks at the page this often (or every poll_interval_ms, if longer): a
 * disruption's uevent comes at most this late (plus a scheduling delay).
 */
#define VMCLOCK_IDLE_POLL_MS	1000U
/* At most one uevent per this interval; the last change is always sent. */
#define VMCLOCK_UEVENT_GAP_MS	100

/* How PTP_SYS_OFFSET_PRECISE relates the page's counter to system time. */
enum vmclock_xts {
	VMCLOCK_XTS_UNKNOWN,		/* choose at the next PRECISE */
	VMCLOCK_XTS_CPU_COUNTER,	/* timekeeper on the TSC / arch counter */
	VMCLOCK_XTS_KVM_CLOCK,		/* timekeeper on kvm-clock */
	VMCLOCK_XTS_TSC_SNAPSHOT,	/* before 6.9: a timekeeper snapshot */
};

struct vmclock_state {
	struct kref kref;
	struct device *dev;		/* the platform device */
	char name[VMCLOCK_NAME_LEN];
	int index;

	/* The page, read-only; mapped until the last reference goes. */
	const struct vmclock_abi *page;
	phys_addr_t phys;
	u32 size;			/* the page's size field as validated at probe */
	bool removed;			/* set at unbind: file ops fail with -ENODEV */

	/* PTP clock (NULL when the page carries no usable clock data). */
	struct ptp_clock_info ptp_info;
	struct ptp_clock *ptp;
	enum vmclock_scale scale;
	enum vmclock_xts xts;		/* the method that worked last */
	u64 __percpu *ptp_page_reads;	/* consistent copies for the clock */
	struct dentry *debugfs;		/* vmclock/vmclockN */

	/* /dev/vmclockN (unregistered when the page is smaller than a page). */
	struct miscdevice miscdev;
	bool misc_registered;
	wait_queue_head_t waitq;	/* woken on every seq_count change */

	/* Change detector. */
	struct delayed_work work;
	struct list_head node;		/* on the list poll_interval_ms kicks */
	bool has_notify;		/* an ACPI Notify or DT irq is wired up */
	bool polling_fast;		/* at poll_interval_ms: a reader waits */
	spinlock_t detector_lock;	/* detector_stopped against poll() */
	bool detector_stopped;		/* unbinding: no more kicks from poll() */
	u32 last_seq;
	u64 last_marker;
	u64 last_generation;
	bool uevent_pending;		/* a change not announced yet */
	unsigned long uevent_after;	/* jiffies: the next uevent may go */
};

extern unsigned int vmclock_poll_interval_ms;

/* A retry loop bounded in time (main.c). */
struct vmclock_retry {
	u64 deadline_ns;	/* ktime_get_mono_fast_ns(); 0: not armed yet */
	unsigned int ms;	/* the bound, from the first failed attempt */
	bool last;		/* the attempt under way began past it */
};

/* main.c */
void vmclock_retry_start(struct vmclock_retry *r, unsigned int ms);
bool vmclock_retry_again(struct vmclock_retry *r);
int vmclock_snapshot_retry(struct vmclock_state *st, struct vmclock_snap *snap,
			   u64 (*read_counter)(void *ctx), void *ctx);
void vmclock_state_put(struct vmclock_state *st);

/* The structure up to its last field: what a page of today's ABI holds. */
#define VMCLOCK_FULL_SIZE \
	offsetofend(struct vmclock_abi, vm_generation_counter)

/**
 * vmclock_snapshot() - a consistent copy of the page, retried a bounded time.
 * @st: the device
 * @snap: filled on success
 * @read_counter: reads the CPU counter inside the seq window (may be NULL)
 * @ctx: passed to @read_counter
 *
 * The first attempt is inline: on a page that holds every field (the rule)
 * it reads with a constant size, so the core's per-field size checks fold
 * away and @read_counter is called directly. A page in flux, or one
 * shorter than today's ABI, goes to vmclock_snapshot_retry().
 *
 * Return: 0, or -EBUSY when the page stayed in flux for
 * VMCLOCK_SEQ_TIMEOUT_MS.
 */
static __always_inline int vmclock_snapshot(struct vmclock_state *st,
					    struct vmclock_snap *snap,
					    u64 (*read_counter)(void *ctx),
					    void *ctx)
{
	if (likely(st->size >= VMCLOCK_FULL_SIZE) &&
	    !vmclock_snap_read(st->page, VMCLOCK_FULL_SIZE, snap, read_counter,
			       ctx))
		return 0;
	return vmclock_snapshot_retry(st, snap, read_counter, ctx);
}

/**
 * vmclock_clock_snapshot() - vmclock_snapshot() for the clock fields alone.
 * @st: the device; its page holds VMCLOCK_CLOCK_SIZE bytes (the PTP clock
 *      is registered only then)
 * @snap: on success, the clock fields, seq and counter (see
 *        vmclock_clock_read()); other members are meaningful only when a
 *        retry filled them
 * @read_counter: reads the CPU counter inside the seq window
 * @ctx: passed to @read_counter
 *
 * The first attempt loads what a time reading needs and no more; a page in
 * flux goes to vmclock_snapshot_retry(), whose full copy holds those too.
 *
 * Return: 0, or -EBUSY when the page stayed in flux for
 * VMCLOCK_SEQ_TIMEOUT_MS.
 */
static __always_inline int vmclock_clock_snapshot(struct vmclock_state *st,
						  struct vmclock_snap *snap,
						  u64 (*read_counter)(void *ctx),
						  void *ctx)
{
	if (likely(!vmclock_clock_read(st->page, snap, read_counter, ctx)))
		return 0;
	return vmclock_snapshot_retry(st, snap, read_counter, ctx);
}

/* ptp.c */
bool vmclock_ptp_usable(struct vmclock_state *st,
			const struct vmclock_snap *snap);
int vmclock_ptp_register(struct vmclock_state *st);

/* miscdev.c */
int vmclock_miscdev_register(struct vmclock_state *st);

/* debugfs.c */
int vmclock_debugfs_add(struct vmclock_state *st);
void vmclock_debugfs_init(void);
void vmclock_debugfs_exit(void);

/* notify.c */
int vmclock_notify_init(struct vmclock_state *st,
			const struct vmclock_snap *snap);
void vmclock_detector_prepare(struct vmclock_state *st);
void vmclock_listen(struct vmclock_state *st);
int vmclock_notify_module_init(void);
void vmclock_notify_module_exit(void);

#endif /* _PTP_VMCLOCK_H */
