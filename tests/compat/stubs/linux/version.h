/* SPDX-License-Identifier: GPL-2.0 */
/* Stub: the kernel version under test comes from the compiler's command line. */
#ifndef _STUB_LINUX_VERSION_H
#define _STUB_LINUX_VERSION_H

#define KERNEL_VERSION(a, b, c)	(((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
#define LINUX_VERSION_CODE	STUB_LINUX_VERSION_CODE

#endif
