/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vmclock selftests on the kernel's kselftest harness.
 *
 * kselftest_harness.h comes from the kernel source's
 * tools/testing/selftests (the Makefile puts it on the include path, in a
 * kernel tree and standalone). What this adds:
 *   VMC_HARNESS_MAIN  main(): with no VMClock device, no root or another
 *                     architecture, the whole program skips with the reason
 *                     ("1..0 # SKIP ...", exit 4, kselftest's KSFT_SKIP);
 *                     otherwise the harness runs the tests.
 *   VMC_NEED_HOST()   a test that asks the hypervisor side (the test rig's
 *                     host, through the mailbox library) to change the page
 *                     skips when the program was built without that library.
 */
#ifndef VMCLOCK_SELFTEST_HARNESS_H
#define VMCLOCK_SELFTEST_HARNESS_H

#include <string.h>

/* The harness's own timeout handler leaves a parameter unused (-Wextra). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "common.h"
#include "host.h"

#ifdef KSELFTEST_PRIO_TEST_F
/*
 * TEST_F() registers its tests from constructors of priority
 * KSELFTEST_PRIO_TEST_F, which run before the harness's own constructor
 * that finds constructors run in file order; until then it prepends, and a
 * fixture's tests would run (and print) last first. Tell it earlier.
 */
static void __attribute__((constructor(KSELFTEST_PRIO_TEST_F - 1)))
vmc_harness_order_forward(void)
{
	__constructor_order_forward = true;
}
#endif

/* Options that only list or explain the tests run without a device. */
static inline bool vmc_harness_listing(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-l") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

#define VMC_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		const char *why = vmc_unavailable_reason();		\
									\
		if (why && !vmc_harness_listing(argc, argv)) {		\
			ksft_print_header();				\
			ksft_exit_skip("%s\n", why);			\
		}							\
		return test_harness_run(argc, argv);			\
	}

#define VMC_NEED_HOST()							\
	do {								\
		if (!vmc_rig_present)					\
			SKIP(return, "needs the VMClock host side: "	\
			     "build with VMCLOCK_RIG_LIB (the vmclock rig's mailbox library)"); \
	} while (0)

#endif /* VMCLOCK_SELFTEST_HARNESS_H */
