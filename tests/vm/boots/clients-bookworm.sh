# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 5.10 6.1
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-userland: bookworm
# rig-timeout: 420
#
# Debian 12's own clients (chrony 4.3, linuxptp 3.1.1, testptp of 6.1) on
# Debian 12's kernel and Debian 11's 5.10: testptp and phc_ctl read every
# path, phc2sys and chronyd lock to the PHC, and a simulated live
# migration shows what each does (phc2sys 3.1.1 exits on the EBUSY of the
# unreliable window, as expected of that version); then the kernel's own
# PTP selftest (kselftest's ptp target: testptp, phc.sh, with Debian 12's
# bash) against vmclock0. Body: tests/vm/clients/clients.sh.
. /usr/share/vmclock-clients/clients.sh

clients_up
clients_testptp
linuxptp_link_check old
clients_phc_ctl
clients_phc2sys exits
clients_chrony
kernel_ptp_selftest
