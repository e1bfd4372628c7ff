# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 6.1 6.12 7 debug
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 900
#
# The driver's in-guest selftests (selftests/vmclock) on every kernel.
driver_selftests
idle_wakeups
