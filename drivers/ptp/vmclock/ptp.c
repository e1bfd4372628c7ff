// SPDX-License-Identifier: GPL-2.0
/*
 * ptp_vmclock: the PTP clock "vmclockN".
 *
 * Time comes from the page, in TAI by default or UTC with phc_utc=Y. The
 * CPU counter is read inside the seq window, so each reading and the page
 * contents it is converted with belong together. Cross-timestamps hand that
 * same counter reading to the timekeeper: the TSC or the Arm arch counter,
 * or on an x86 guest running on kvm-clock the same TSC reading converted
 * through this CPU's pvclock page. Which of these the system clock takes is
 * asked without the page and remembered per device, so that a PRECISE reads
 * the page once; a clocksource change makes the next one choose again.
 */

#include <linux/device.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/ptp_clock_kernel.h>
#include <linux/time64.h>
#include <linux/timekeeping.h>

#ifdef CONFIG_X86
#include <asm/pvclock.h>
#include <asm/tsc.h>
#endif
#ifdef CONFIG_ARM64
#include <clocksource/arm_arch_timer.h>
#endif

#include "compat.h"
#include "vmclock.h"

static bool phc_utc;
module_param(phc_utc, bool, 0444);
MODULE_PARM_DESC(phc_utc, "PTP clock returns UTC instead of TAI (default N: TAI)");

#if defined(CONFIG_X86)
#define VMCLOCK_CPU_COUNTER	VMCLOCK_COUNTER_X86_TSC
#define VMCLOCK_CPU_CSID	CSID_X86_TSC

static u64 vmclock_cpu_counter(void)
{
	return rdtsc_ordered();
}

static bool vmclock_cpu_counter_usable(void)
{
	/* The hypervisor should say UNRELIABLE first; be paranoid anyway. */
	return !check_tsc_unstable();
}
#elif defined(CONFIG_ARM64)
#define VMCLOCK_CPU_COUNTER	VMCLOCK_COUNTER_ARM_VCNT
#define VMCLOCK_CPU_CSID	CSID_ARM_ARCH_COUNTER

static u64 vmclock_cpu_counter(void)
{
	return arch_timer_read_counter();
}

static bool vmclock_cpu_counter_usable(void)
{
	return true;
}
#endif

#ifdef VMCLOCK_CPU_COUNTER

/* Context of one read: the PTP system timestamps, or a cross-timestamp. */
struct vmclock_read {
	struct ptp_system_timestamp *sts;	/* gettimex64 pre/post, or NULL */
	enum vmclock_sys_counter sys;		/* counter handed to timekeeping */
	u64 sys_cycles;				/* its value at the reading */
	int err;				/* set by the counter callback */
};

#ifndef VMCLOCK_COMPAT_STS_TIMES_ONLY
/*
 * The counter reading behind the pre timestamp, when the timekeeper took it
 * from the page's counter (its clocksource, or the counter a derived one
 * such as kvm-clock reads): the PHC time then belongs to the very instant
 * of the system time, and the post timestamp is the pre one.
 */
static bool vmclock_counter_from_sts(struct ptp_system_timestamp *sts,
				     u64 *counter)
{
	const struct system_time_snapshot *pre = &sts->pre_sts;

	if (!pre->valid)
		return false;
	if (pre->cs_id == VMCLOCK_CPU_CSID)
		*counter = pre->cycles;
	else if (pre->hw_csid == VMCLOCK_CPU_CSID && pre->hw_cycles)
		*counter = pre->hw_cycles;
	else
		return false;
	sts->post_sts = *pre;
	return true;
}
#else
static bool vmclock_counter_from_sts(struct ptp_system_timestamp *sts,
				     u64 *counter)
{
	return false;
}
#endif

/* Inline where the page read calls it: this is every PTP reading's path. */
static __always_inline u64 vmclock_read_counter(void *ctx)
{
	struct vmclock_read *rd = ctx;
	u64 counter;

	if (rd->sts) {
		ptp_read_system_prets(rd->sts);
		if (!vmclock_counter_from_sts(rd->sts, &counter)) {
			counter = vmclock_cpu_counter();
			ptp_read_system_postts(rd->sts);
		}
	} else {
		counter = vmclock_cpu_counter();
	}

	rd->sys_cycles = counter;
	return counter;
}

#if defined(CONFIG_X86) && defined(CONFIG_KVM_GUEST)
/* Bound on pvclock version retries; the host updates it rarely. */
#define VMCLOCK_PVCLOCK_TRIES	100

static bool vmclock_kvmclock_present(void)
{
	return this_cpu_hvclock();
}

/*
 * One TSC reading, converted as kvm-clock would convert it on this CPU. The
 * TSC goes to the page, the kvm-clock value to the timekeeper.
 */
static u64 vmclock_read_counter_kvmclock(void *ctx)
{
	struct vmclock_read *rd = ctx;
	struct pvclock_vcpu_time_info *pvti;
	unsigned int version;
	u64 tsc = 0;
	int tries;

	rd->err = -EBUSY;
	preempt_disable_notrace();
	pvti = this_cpu_pvti();
	for (tries = 0; tries < VMCLOCK_PVCLOCK_TRIES; tries++) {
		version = pvclock_read_begin(pvti);
		if (!(pvti->flags & PVCLOCK_TSC_STABLE_BIT)) {
			rd->err = -EOPNOTSUPP;
			break;
		}
		tsc = rdtsc_ordered();
		rd->sys_cycles = vmclock_pvclock_ns(tsc, pvti->tsc_timestamp,
						    pvti->system_time,
						    pvti->tsc_to_system_mul,
						    pvti->tsc_shift);
		if (!pvclock_read_retry(pvti, version)) {
			rd->err = 0;
			break;
		}
	}
	preempt_enable_notrace();
	return tsc;
}
#else
static bool vmclock_kvmclock_present(void)
{
	return false;
}

static u64 vmclock_read_counter_kvmclock(void *ctx)
{
	struct vmclock_read *rd = ctx;

	rd->err = -EOPNOTSUPP;
	return 0;
}
#endif

/*
 * Read the clock, in the scale the PTP clock reports, as a timespec64.
 * Inline in each caller, so that @read_counter is a direct call there.
 */
static __always_inline int vmclock_read_time(struct vmclock_state *st,
					     struct vmclock_read *rd,
					     u64 (*read_counter)(void *ctx),
					     struct timespec64 *ts)
{
	/*
	 * Not zeroed on kernels that zero the stack: the read fills what is
	 * used here, and the rest (over half of it) is never looked at.
	 */
	struct vmclock_snap snap __uninitialized;
	struct vmclock_time t;
	s64 offset, sec;
	int ret;

	ret = vmclock_clock_snapshot(st, &snap, read_counter, rd);
	if (ret)
		return ret;
	this_cpu_inc(*st->ptp_page_reads);
	if (rd->err)
		return rd->err;

	if (snap.clock_status == VMCLOCK_STATUS_UNRELIABLE)
		return -EBUSY;
	if (snap.counter_id != VMCLOCK_CPU_COUNTER ||
	    !vmclock_cpu_counter_usable())
		return -EIO;
	if (vmclock_scale_offset(&snap, st->scale, &offset))
		return -EIO;
	if (vmclock_snap_instant(&snap, snap.counter, &t))
		return -EIO;

	/* Keep the result representable as a ktime_t. */
	if (t.sec > KTIME_SEC_MAX)
		return -EIO;
	sec = (s64)t.sec + offset;
	if (sec < 0 || sec > KTIME_SEC_MAX)
		return -EIO;

	ts->tv_sec = sec;
	ts->tv_nsec = t.nsec;
	return 0;
}

static int vmclock_gettimex64(struct ptp_clock_info *info,
			      struct timespec64 *ts,
			      struct ptp_system_timestamp *sts)
{
	struct vmclock_state *st = container_of(info, struct vmclock_state,
						ptp_info);
	struct vmclock_read rd = { .sts = sts };

	return vmclock_read_time(st, &rd, vmclock_read_counter, ts);
}

struct vmclock_xtstamp {
	struct vmclock_state *st;
	struct vmclock_read rd;
};

static int vmclock_device_time(ktime_t *device,
			       struct system_counterval_t *sys, void *ctx)
{
	struct vmclock_xtstamp *xt = ctx;
	struct timespec64 ts;
	int ret;

	if (xt->rd.sys == VMCLOCK_SYS_KVM_CLOCK)
		ret = vmclock_read_time(xt->st, &xt->rd,
					vmclock_read_counter_kvmclock, &ts);
	else
		ret = vmclock_read_time(xt->st, &xt->rd, vmclock_read_counter,
					&ts);
	if (ret)
		return ret;

	*device = timespec64_to_ktime(ts);
	*sys = vmclock_system_counterval(xt->rd.sys_cycles, xt->rd.sys);
	return 0;
}

/*
 * The counter alone, without the page: whether the timekeeper takes this
 * kind of counter reading now. The device time is thrown away.
 */
static int vmclock_counter_only(ktime_t *device,
				struct system_counterval_t *sys, void *ctx)
{
	struct vmclock_read *rd = ctx;

	rd->err = 0;
	if (rd->sys == VMCLOCK_SYS_KVM_CLOCK)
		vmclock_read_counter_kvmclock(rd);
	else
		vmclock_read_counter(rd);
	if (rd->err)
		return rd->err;

	*device = 0;
	*sys = vmclock_system_counterval(rd->sys_cycles, rd->sys);
	return 0;
}

static bool vmclock_counter_accepted(enum vmclock_sys_counter which)
{
	struct system_device_crosststamp unused;
	struct vmclock_read rd = { .sys = which };

	return !get_device_system_crosststamp(vmclock_counter_only, &rd, NULL,
					      &unused);
}

#ifdef VMCLOCK_COMPAT_TSC_SNAPSHOT
struct vmclock_snapshot_read {
	struct vmclock_read rd;
	struct system_time_snapshot snap;
};

static u64 vmclock_read_counter_snapshot(void *ctx)
{
	struct vmclock_read *rd = ctx;
	struct vmclock_snapshot_read *sr;

	sr = container_of(rd, struct vmclock_snapshot_read, rd);

	/* Not on the TSC: the same answer the timekeeper gives the others. */
	sr->rd.err = vmclock_tsc_snapshot(&sr->snap) ? 0 : -ENODEV;
	return sr->snap.cycles;
}

/* Older kernels: cross-timestamp from a timekeeper snapshot on the TSC. */
static int vmclock_snapshot_crosststamp(struct vmclock_state *st,
					struct system_device_crosststamp *xts)
{
	struct vmclock_snapshot_read sr = {};
	struct timespec64 ts;
	int ret;

	ret = vmclock_read_time(st, &sr.rd, vmclock_read_counter_snapshot, &ts);
	if (ret)
		return ret;

	xts->device = timespec64_to_ktime(ts);
	xts->sys_realtime = sr.snap.real;
	xts->sys_monoraw = sr.snap.raw;
	return 0;
}

static bool vmclock_snapshot_on_tsc(void)
{
	struct system_time_snapshot snap;

	return vmclock_tsc_snapshot(&snap);
}
#else
static int vmclock_snapshot_crosststamp(struct vmclock_state *st,
					struct system_device_crosststamp *xts)
{
	return -ENODEV;
}

static bool vmclock_snapshot_on_tsc(void)
{
	return false;
}
#endif

/*
 * The first method, in order of preference, that the system clock takes
 * now: asked without reading the page, so that choosing costs no page read.
 */
static enum vmclock_xts vmclock_xts_choose(void)
{
	if (vmclock_counter_accepted(VMCLOCK_SYS_CPU_COUNTER))
		return VMCLOCK_XTS_CPU_COUNTER;
	if (vmclock_kvmclock_present() &&
	    vmclock_counter_accepted(VMCLOCK_SYS_KVM_CLOCK))
		return VMCLOCK_XTS_KVM_CLOCK;
	if (vmclock_snapshot_on_tsc())
		return VMCLOCK_XTS_TSC_SNAPSHOT;
	return VMCLOCK_XTS_UNKNOWN;
}

/* One cross-timestamp by @method: -ENODEV when the clocksource is another. */
static int vmclock_xts_read(struct vmclock_state *st, enum vmclock_xts method,
			    struct system_device_crosststamp *xtstamp)
{
	struct vmclock_xtstamp xt = { .st = st };

	switch (method) {
	case VMCLOCK_XTS_CPU_COUNTER:
		xt.rd.sys = VMCLOCK_SYS_CPU_COUNTER;
		break;
	case VMCLOCK_XTS_KVM_CLOCK:
		xt.rd.sys = VMCLOCK_SYS_KVM_CLOCK;
		break;
	case VMCLOCK_XTS_TSC_SNAPSHOT:
		return vmclock_snapshot_crosststamp(st, xtstamp);
	default:
		return -ENODEV;
	}
	return get_device_system_crosststamp(vmclock_device_time, &xt, NULL,
					     xtstamp);
}

/*
 * The method that worked last goes first and reads the page once. Only
 * when it finds another clocksource (the first call, or the system clock
 * switched) is a method chosen again, and the page read a second time.
 */
static int vmclock_getcrosststamp(struct ptp_clock_info *info,
				  struct system_device_crosststamp *xtstamp)
{
	struct vmclock_state *st = container_of(info, struct vmclock_state,
						ptp_info);
	enum vmclock_xts method = READ_ONCE(st->xts);
	int ret;

	ret = vmclock_xts_read(st, method, xtstamp);
	if (ret == -ENODEV) {
		method = vmclock_xts_choose();
		WRITE_ONCE(st->xts, method);
		ret = vmclock_xts_read(st, method, xtstamp);
	}

	/* Nothing relates the system clock to the page's counter. */
	if (ret == -ENODEV)
		ret = -EOPNOTSUPP;
	return ret;
}

static int vmclock_adjfine(struct ptp_clock_info *info, long scaled_ppm)
{
	return -EOPNOTSUPP;
}

static int vmclock_adjtime(struct ptp_clock_info *info, s64 delta)
{
	return -EOPNOTSUPP;
}

static int vmclock_settime64(struct ptp_clock_info *info,
			     const struct timespec64 *ts)
{
	return -EOPNOTSUPP;
}

static int vmclock_enable(struct ptp_clock_info *info,
			  struct ptp_clock_request *rq, int on)
{
	return -EOPNOTSUPP;
}

static const struct ptp_clock_info vmclock_ptp_info = {
	.owner		= THIS_MODULE,
	.gettimex64	= vmclock_gettimex64,
	.getcrosststamp	= vmclock_getcrosststamp,
	.adjfine	= vmclock_adjfine,
	.adjtime	= vmclock_adjtime,
	.settime64	= vmclock_settime64,
	.enable		= vmclock_enable,
};

/**
 * vmclock_ptp_usable() - whether the page carries a clock for this CPU.
 * @st: the device, with its size validated
 * @snap: a consistent copy of the page taken at probe
 *
 * Decided once at probe, as Linux does: the page must cover time_frac_sec,
 * describe this architecture's counter and use an unambiguous time scale.
 */
bool vmclock_ptp_usable(struct vmclock_state *st,
			const struct vmclock_snap *snap)
{
	s64 offset;

	st->scale = phc_utc ? VMCLOCK_SCALE_UTC : VMCLOCK_SCALE_TAI;

	if (st->size < VMCLOCK_CLOCK_SIZE)
		return false;
	if (snap->counter_id != VMCLOCK_CPU_COUNTER)
		return false;
	if (vmclock_scale_offset(snap, st->scale, &offset)) {
		dev_info(st->dev, "time type %u cannot give %s: no PTP clock\n",
			 snap->time_type, phc_utc ? "UTC" : "TAI");
		return false;
	}
	return true;
}

static void vmclock_ptp_unregister(void *data)
{
	struct vmclock_state *st = data;

	ptp_clock_unregister(st->ptp);
}

int vmclock_ptp_register(struct vmclock_state *st)
{
	struct ptp_clock *ptp;

	st->ptp_info = vmclock_ptp_info;
	strscpy(st->ptp_info.name, st->name, sizeof(st->ptp_info.name));

	ptp = ptp_clock_register(&st->ptp_info, st->dev);
	if (IS_ERR_OR_NULL(ptp)) {
		/* NULL: the kernel was built without PTP clock support. */
		int ret = ptp ? PTR_ERR(ptp) : -EOPNOTSUPP;

		dev_err(st->dev, "cannot register PTP clock: %d\n", ret);
		return ret;
	}
	st->ptp = ptp;
	return devm_add_action_or_reset(st->dev, vmclock_ptp_unregister, st);
}

#else /* !VMCLOCK_CPU_COUNTER: no architecture counter to relate the page to */

bool vmclock_ptp_usable(struct vmclock_state *st,
			const struct vmclock_snap *snap)
{
	return false;
}

int vmclock_ptp_register(struct vmclock_state *st)
{
	return -EOPNOTSUPP;
}

#endif /* VMCLOCK_CPU_COUNTER */
