# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 7
# rig-module: intree
# rig-acpi: none
# rig-qemu-vmclock: yes
# rig-timeout: 300
#
# QEMU 10's save/restore seen through the kernel's own ptp_vmclock (7.x):
# it has no polling timer, so the guest reads the marker until it moves.
check "rig module loads (no notify method in QEMU's table)" load_rig notify_method=
check "in-tree driver loads" load_driver
check "/dev/vmclock0 appears for QEMU's device" wait_for 5 test -c /dev/vmclock0
before=$(page_u64 16)
echo "# disruption_marker before save: $before"
echo "RIG-ACTION save-restore"
marker_is() { [ "$(page_u64 16)" = "$1" ]; }
check "disruption_marker moved by one" wait_for 120 marker_is $((before + 1))
echo "# disruption_marker after restore: $(page_u64 16)"
