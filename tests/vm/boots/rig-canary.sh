# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 5.10 6.1
# rig-module: none
# rig-expect: kernel-warning
# rig-timeout: 120
#
# The rig's own canary: the rig module raises a deliberate WARNING, and the
# runner's kernel-log check must catch it (it reports this boot as passing
# only when the WARNING is found). Proves that a guest which warns fails.
check "rig module loads with warn_on_load=1" load_rig warn_on_load=1
