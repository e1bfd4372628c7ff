/* SPDX-License-Identifier: GPL-2.0 */
/* Stub: the kernel's fixed-size types; u128 from 6.5 on (include/linux/types.h). */
#ifndef _STUB_LINUX_TYPES_H
#define _STUB_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/version.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0) && defined(__SIZEOF_INT128__)
typedef unsigned __int128 u128 __attribute__((aligned(16)));
#endif

#endif
