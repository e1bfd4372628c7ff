# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 7
# rig-module: intree
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 900
# rig-known-differences: tests/vm/intree-differences.txt
#
# The same selftests against the kernel's own ptp_vmclock (Linux 7.x). Where
# it behaves differently from ours, the check is listed in
# tests/vm/intree-differences.txt (and in Documentation/kernel-developers.md);
# a listed difference that is no longer seen fails the run.
driver_selftests
