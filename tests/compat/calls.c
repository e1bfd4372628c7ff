// SPDX-License-Identifier: GPL-2.0
/*
 * The calls the driver makes into the API that compat.h papers over, written
 * as the driver writes them (against the newest kernel): compiled against
 * the stub headers of each kernel version by check.sh.
 */
#include "compat.h"

static void handler(acpi_handle handle, u32 event, void *data)
{
}

/* As notify.c installs and removes its ACPI Notify handler. */
int notify_calls(struct acpi_device *adev, void *st)
{
	int ret;

	ret = acpi_dev_install_notify_handler(adev, ACPI_DEVICE_NOTIFY,
					      handler, st);
	acpi_dev_remove_notify_handler(adev, ACPI_DEVICE_NOTIFY, handler);
	return ret;
}

/* As miscdev.c restricts a mapping. */
void mmap_calls(struct vm_area_struct *vma)
{
	vm_flags_clear(vma, 0x20);
}

/* As vmclock-core.h multiplies. */
u64 u128_calls(u64 a, u64 b)
{
	return (u64)(((u128)a * b) >> 64);
}
