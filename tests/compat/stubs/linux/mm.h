/* SPDX-License-Identifier: GPL-2.0 */
/* Stub: vm_flags became read-only in 6.3, with vm_flags_set/clear(). */
#ifndef _STUB_LINUX_MM_H
#define _STUB_LINUX_MM_H

#include <linux/types.h>

struct vm_area_struct {
	unsigned long vm_flags;
};

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
void vm_flags_clear(struct vm_area_struct *vma, unsigned long flags);
#endif

#endif
