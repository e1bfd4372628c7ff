# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 5.10 6.1 6.12 7 debug 6.12-arm64 6.1-arm64 7-arm64
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 900
#
# The driver's in-guest selftests (selftests/vmclock) on every kernel.
driver_selftests
idle_wakeups
