# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 7
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-userland: sid
# rig-timeout: 420
#
# Current clients (chrony 4.6+, linuxptp 4.x) on Linux 7.x with systemd-udevd
# running our udev rules: the /dev/ptp_vmclock link comes from
# 60-vmclock.rules, and 61-vmclock-chrony.rules must reset chrony's sources
# on the disruption uevent. phc2sys must ride out a simulated live
# migration (EBUSY samples skipped) and lock again; chronyd must re-select
# VMCK. Body: tests/vm/clients/clients.sh.
. /usr/share/vmclock-clients/clients.sh

CLIENTS_UDEV=yes
clients_up
clients_testptp
linuxptp_link_check new
clients_phc_ctl
clients_phc2sys survives
clients_chrony
udevd_stop
