# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 7-arm64
# rig-module: ours
# rig-acpi: none
# rig-serve: --steady
# rig-userland: bookworm-arm64
# rig-timeout: 600
#
# arm64: Debian 12's linuxptp 3.1.1 (arm64 build) and the kernel's testptp
# against the PTP clock on the Arm virtual counter, bound through the device
# tree: testptp and phc_ctl read every path, phc2sys locks to the PHC with
# PTP_SYS_OFFSET_PRECISE (arch counter cross-timestamps, 6.9+), and exits on
# a simulated migration's unreliable window, as that version does on x86.
# Body: tests/vm/clients/clients.sh.
. /usr/share/vmclock-clients/clients.sh

clients_up
clients_testptp
linuxptp_link_check old
clients_phc_ctl
clients_phc2sys exits
