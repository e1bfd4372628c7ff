/* SPDX-License-Identifier: GPL-2.0 */
/* The unit test groups run by main.c. */
#ifndef VMCLOCK_TESTS_H
#define VMCLOCK_TESTS_H

void test_abi_offsets(void);
void test_snap_read(void);
void test_snap_time(void);
void test_scale_offset(void);
void test_pvclock(void);

#endif
