# SPDX-License-Identifier: GPL-2.0
# rig-kernels: debug
# rig-module: none
# rig-expect-report: unreferenced object 0x
# rig-expect-report: use-after-free
# rig-expect-report: UBSAN: shift-out-of-bounds
# rig-expect-report: possible circular locking dependency
# rig-timeout: 300
#
# The debug kernel's canary: the rig module commits one leak, one
# use-after-free, one shift out of range and one ABBA lock order on load;
# the runner must find each report (kmemleak's scan at the end of the run,
# KASAN or KFENCE, UBSAN, lockdep) in the kernel log. Proves that a debug
# boot with such a bug fails.
check "rig module loads with debug_canary=1" load_rig debug_canary=1
