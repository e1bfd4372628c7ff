/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptp_vmclock: every difference between the kernel API the driver is
 * written against (Linux 7.x) and the older kernels it also builds for
 * (5.10 and later). Each shim is small and named after what it papers over,
 * so that the rest of the driver reads like current upstream code. Every
 * other call of the driver builds and links unchanged against 5.10.
 */
#ifndef _PTP_VMCLOCK_COMPAT_H
#define _PTP_VMCLOCK_COMPAT_H

#include <linux/acpi.h>
#include <linux/mm.h>
#include <linux/timekeeping.h>
#include <linux/version.h>

#ifdef CONFIG_X86
#include <asm/tsc.h>
#include <asm/pvclock.h>	/* before kvmclock.h, which needs its types */
#include <asm/kvmclock.h>
#endif

/*
 * 6.5 added the kernel's u128 (when the compiler has 128-bit integers, as
 * it has on every 64-bit architecture); vmclock-core.h uses it.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0) && defined(__SIZEOF_INT128__)
typedef unsigned __int128 u128;
#endif

/*
 * 6.3 made vma->vm_flags read-only and added vm_flags_set()/vm_flags_clear().
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_clear(struct vm_area_struct *vma,
				  unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * acpi_dev_install_notify_handler() came in 6.6 without a context argument
 * (its handlers got the struct acpi_device) and took one in 6.7. Before
 * 6.7 the driver's four-argument calls go to a shim of our own name (6.6
 * declares the three-argument function, so the name itself is taken).
 */
#if defined(CONFIG_ACPI) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
static inline int
vmclock_acpi_dev_install_notify_handler(struct acpi_device *adev,
					u32 handler_type,
					acpi_notify_handler handler,
					void *context)
{
	acpi_status status;

	status = acpi_install_notify_handler(adev->handle, handler_type,
					     handler, context);
	return ACPI_FAILURE(status) ? -ENODEV : 0;
}

#define acpi_dev_install_notify_handler vmclock_acpi_dev_install_notify_handler
#endif

/*
 * acpi_dev_remove_notify_handler() came in 6.6 in its current form; it also
 * waits for handlers still running, which the old API left to callers.
 */
#if defined(CONFIG_ACPI) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
static inline void acpi_dev_remove_notify_handler(struct acpi_device *adev,
						  u32 handler_type,
						  acpi_notify_handler handler)
{
	acpi_remove_notify_handler(adev->handle, handler_type, handler);
	acpi_os_wait_events_complete();
}
#endif

/*
 * System counter for get_device_system_crosststamp(). Since 6.9 a
 * struct system_counterval_t names its clocksource by id (CSID_X86_TSC,
 * CSID_X86_KVM_CLK, CSID_ARM_ARCH_COUNTER); before, by a pointer to the
 * struct clocksource. Of those only kvm_clock is exported: for the others
 * older kernels get a NULL clocksource, which the timekeeper refuses with
 * -ENODEV (see vmclock_tsc_snapshot() below for the TSC).
 */
enum vmclock_sys_counter {
	VMCLOCK_SYS_CPU_COUNTER,	/* the TSC or the Arm arch counter */
	VMCLOCK_SYS_KVM_CLOCK,		/* x86 kvm-clock (pvclock ns) */
};

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
static inline struct system_counterval_t
vmclock_system_counterval(u64 cycles, enum vmclock_sys_counter which)
{
	enum clocksource_ids id = CSID_GENERIC;

#if defined(CONFIG_X86)
	id = which == VMCLOCK_SYS_KVM_CLOCK ? CSID_X86_KVM_CLK : CSID_X86_TSC;
#elif defined(CONFIG_ARM64)
	if (which == VMCLOCK_SYS_CPU_COUNTER)
		id = CSID_ARM_ARCH_COUNTER;
#endif
	return (struct system_counterval_t){ .cycles = cycles, .cs_id = id };
}
#else
static inline struct system_counterval_t
vmclock_system_counterval(u64 cycles, enum vmclock_sys_counter which)
{
	struct clocksource *cs = NULL;

#if defined(CONFIG_X86) && defined(CONFIG_KVM_GUEST)
	if (which == VMCLOCK_SYS_KVM_CLOCK)
		cs = &kvm_clock;
#endif
	return (struct system_counterval_t){ .cycles = cycles, .cs = cs };
}
#endif

/*
 * 7.2 made the PTP pre/post system timestamps timekeeper snapshots, which
 * carry the clocksource's counter reading (and, for a clocksource derived
 * from another counter, as kvm-clock is from the TSC, that one's too).
 * Before, they held the times alone: every PHC reading between them needs
 * a counter read of its own.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(7, 2, 0)
#define VMCLOCK_COMPAT_STS_TIMES_ONLY
#endif

/*
 * Before 6.9 nothing exported names the TSC clocksource, so the timekeeper
 * refuses a TSC reading. A snapshot of the timekeeper taken while it runs
 * on the TSC carries both a TSC reading and the system times at that very
 * reading, which is a cross-timestamp all the same. The TSC read on either
 * side proves which clocksource produced the snapshot's cycles.
 */
#if defined(CONFIG_X86) && LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
#define VMCLOCK_COMPAT_TSC_SNAPSHOT

static inline bool vmclock_tsc_snapshot(struct system_time_snapshot *snap)
{
	u64 before, after;

	preempt_disable();
	before = rdtsc_ordered();
	ktime_get_snapshot(snap);
	after = rdtsc_ordered();
	preempt_enable();

	return before <= snap->cycles && snap->cycles <= after;
}
#endif

#endif /* _PTP_VMCLOCK_COMPAT_H */
