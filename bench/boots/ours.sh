# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 6.1 6.12 7
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-userland: sid
# rig-timeout: 240
#
# The benchmark on this project's driver (bench/run.sh; not part of make
# check). bench/run.py adds /rig/bin/vmclock-bench and /rig/bench/guest.sh.
. /rig/bench/guest.sh
bench_main
