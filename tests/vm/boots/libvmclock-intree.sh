# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 7
# rig-module: intree
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 600
#
# libvmclock and the vmclock command on Linux's own ptp_vmclock (7.x), which
# has no lseek and answers POLLHUP without NOTIFICATION_PRESENT (the library
# then looks at the page every 100 ms itself); the checks of libvmclock.sh
# (libvmclock_checks in tests/vm/guest/lib.sh).
libvmclock_checks
