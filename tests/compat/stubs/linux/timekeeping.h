/* SPDX-License-Identifier: GPL-2.0 */
/* Stub: struct system_counterval_t names its clocksource by id from 6.9. */
#ifndef _STUB_LINUX_TIMEKEEPING_H
#define _STUB_LINUX_TIMEKEEPING_H

#include <linux/types.h>

struct clocksource;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
enum clocksource_ids {
	CSID_GENERIC,
	CSID_ARM_ARCH_COUNTER,
	CSID_X86_TSC,
	CSID_X86_KVM_CLK,
};

struct system_counterval_t {
	u64 cycles;
	enum clocksource_ids cs_id;
};
#else
struct system_counterval_t {
	u64 cycles;
	struct clocksource *cs;
};
#endif

#endif
