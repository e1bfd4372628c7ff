# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 6.1 7
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
check "no PTP clock without clock data" sh -c '! vmclock_ptp'
before=$(page_u64 16)
echo "# disruption_marker before save: $before"
uevent-listen -t 120 -n 1 -r /tmp/listening VMCLOCK_DISRUPTION_MARKER > /tmp/uevent.out 2>&1 &
ue=$!
wait_for 5 test -e /tmp/listening
vmclock-watch -n 1 -t 120 > /tmp/watch.out 2>&1 &
watch=$!
sleep 1
echo "RIG-ACTION save-restore"
wait $watch
check "vmclock-watch woke on the restore" [ $? = 0 ]
sed 's/^/# /' /tmp/watch.out
wait $ue
check "a disruption uevent came" [ $? = 0 ]
sed 's/^/# /' /tmp/uevent.out
after=$(page_u64 16)
echo "# disruption_marker after restore: $after"
check "disruption_marker moved by one" [ "$after" = $((before + 1)) ]
