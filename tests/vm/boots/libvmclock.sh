# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 5.10 6.1 6.12 7
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 600
#
# libvmclock and the vmclock command on our driver (libvmclock_checks in
# tests/vm/guest/lib.sh); libvmclock-intree.sh runs them on Linux's driver.
libvmclock_checks
