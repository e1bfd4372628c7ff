# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 7
# rig-module: intree
# rig-acpi: default
# rig-serve: --steady
# rig-userland: sid
# rig-timeout: 240
#
# The benchmark on the kernel's own ptp_vmclock (Linux 7.x), for comparison
# with ours (bench/run.sh; not part of make check).
. /rig/bench/guest.sh
bench_main
