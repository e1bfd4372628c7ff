/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The CPU counter a VMClock page can describe, read in user space.
 *
 * x86-64: the TSC. rdtsc alone may execute before earlier loads complete;
 * lfence before it keeps it after the seq_count load of the reader (as the
 * kernel's rdtsc_ordered() does).
 * arm64: the virtual counter CNTVCT_EL0, readable from EL0 wherever the
 * kernel runs a vDSO on it; isb keeps it after the earlier loads.
 * Anything else: no counter, so vmclock_now() uses the system clock.
 */
#ifndef VMCLOCK_COUNTER_H
#define VMCLOCK_COUNTER_H

#include <stdint.h>

#if defined(__x86_64__)
#define VMCLOCK_NATIVE_COUNTER	VMCLOCK_COUNTER_X86_TSC

static inline uint64_t vmclock_counter_read(void *ctx)
{
	uint32_t lo, hi;

	(void)ctx;
	__asm__ __volatile__("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void vmclock_cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}
#elif defined(__aarch64__)
#define VMCLOCK_NATIVE_COUNTER	VMCLOCK_COUNTER_ARM_VCNT

static inline uint64_t vmclock_counter_read(void *ctx)
{
	uint64_t v;

	(void)ctx;
	__asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v) :: "memory");
	return v;
}

static inline void vmclock_cpu_relax(void)
{
	__asm__ __volatile__("yield" ::: "memory");
}
#else
#define VMCLOCK_NATIVE_COUNTER	(-1)	/* matches no counter_id */

static inline uint64_t vmclock_counter_read(void *ctx)
{
	(void)ctx;
	return 0;	/* never used: no page describes this counter */
}

static inline void vmclock_cpu_relax(void)
{
	__asm__ __volatile__("" ::: "memory");
}
#endif

#endif /* VMCLOCK_COUNTER_H */
