/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stub: the ACPI notify API as each kernel declares it (include/acpi/
 * acpi_bus.h and ACPICA's acpixf.h):
 *   all:  acpi_install_notify_handler(handle, type, handler, context),
 *         acpi_remove_notify_handler(handle, type, handler),
 *         acpi_os_wait_events_complete()
 *   6.6:  acpi_dev_install_notify_handler(adev, type, handler) and
 *         acpi_dev_remove_notify_handler(adev, type, handler) appear
 *   6.7:  acpi_dev_install_notify_handler() takes a void *context as well
 */
#ifndef _STUB_LINUX_ACPI_H
#define _STUB_LINUX_ACPI_H

#include <errno.h>
#include <linux/types.h>

typedef u32 acpi_status;
typedef void *acpi_handle;
typedef void (*acpi_notify_handler)(acpi_handle handle, u32 value, void *context);

#define AE_OK			((acpi_status)0)
#define ACPI_FAILURE(s)		((s) != AE_OK)
#define ACPI_DEVICE_NOTIFY	0x2

struct acpi_device {
	acpi_handle handle;
};

acpi_status acpi_install_notify_handler(acpi_handle device, u32 handler_type,
					acpi_notify_handler handler,
					void *context);
acpi_status acpi_remove_notify_handler(acpi_handle device, u32 handler_type,
				       acpi_notify_handler handler);
void acpi_os_wait_events_complete(void);

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
int acpi_dev_install_notify_handler(struct acpi_device *adev, u32 handler_type,
				    acpi_notify_handler handler, void *context);
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
int acpi_dev_install_notify_handler(struct acpi_device *adev, u32 handler_type,
				    acpi_notify_handler handler);
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
void acpi_dev_remove_notify_handler(struct acpi_device *adev, u32 handler_type,
				    acpi_notify_handler handler);
#endif

#endif
