# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 7
# rig-module: intree
# rig-acpi: none
# rig-qemu-vmclock: yes
# rig-timeout: 300
#
# QEMU 10's save/restore seen through the kernel's own ptp_vmclock (7.x):
# it has no polling timer, so the guest reads the marker until it moves;
# `vmclock watch` (libvmclock) gets POLLHUP from it and looks at the page
# itself.
check "rig module loads (no notify method in QEMU's table)" load_rig notify_method=
check "in-tree driver loads" load_driver
check "/dev/vmclock0 appears for QEMU's device" wait_for 5 test -c /dev/vmclock0
before=$(page_u64 16)
echo "# disruption_marker before save: $before"
vmclock info > /tmp/info.out 2>&1
check "vmclock info: QEMU's page has no clock data, no generation counter" \
	eval 'grep -q "^clock data: *none" /tmp/info.out && grep -q "^VM generation: *absent" /tmp/info.out'
sed 's/^/# /' /tmp/info.out
vmclock check > /tmp/check.out 2>&1
check "vmclock check: not usable without clock data (exit 1)" [ $? = 1 ]
vmclock watch -n 1 -t 120 > /tmp/watch.out 2>&1 &
watch_pid=$!
sleep 1
echo "RIG-ACTION save-restore"
marker_is() { [ "$(page_u64 16)" = "$1" ]; }
check "disruption_marker moved by one" wait_for 120 marker_is $((before + 1))
echo "# disruption_marker after restore: $(page_u64 16)"
wait $watch_pid
watch_rc=$?
sed 's/^/# /' /tmp/watch.out
check "vmclock watch saw the new marker after the restore" [ $watch_rc = 0 ]
check "vmclock watch looked at the page itself (the driver answers POLLHUP)" \
	grep -q " wait=periodic$" /tmp/watch.out
