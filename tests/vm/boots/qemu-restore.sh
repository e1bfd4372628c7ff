# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 5.10 6.1 7
# rig-module: ours
# rig-acpi: none
# rig-qemu-vmclock: yes
# rig-timeout: 300
#
# The real hypervisor: QEMU 10's own -device vmclock (its page and SSDT, no
# clock data, no notifications). The host saves the running guest to a file
# and restores it into a new QEMU; the guest must see a new disruption_marker,
# its poll() must wake (the driver's polling timer), and a uevent must come.
check "rig module loads (no notify method in QEMU's table)" load_rig notify_method=
check "driver loads" load_driver
check "/dev/vmclock0 appears for QEMU's device" wait_for 5 test -c /dev/vmclock0
check "no PTP clock without clock data" not vmclock_ptp
before=$(page_u64 16)
echo "# disruption_marker before save: $before"
watch_disruption_start
echo "RIG-ACTION save-restore"
watch_disruption_end
after=$(page_u64 16)
echo "# disruption_marker after restore: $after"
check "disruption_marker moved by one" [ "$after" = $((before + 1)) ]
