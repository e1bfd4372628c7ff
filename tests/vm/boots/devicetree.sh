# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 6.12-arm64 6.1-arm64 7-arm64
# rig-module: ours
# rig-acpi: none
# rig-timeout: 600
#
# arm64 (QEMU virt, device tree): the driver binds to the "amazon,vmclock"
# node the rig adds to QEMU's tree, through its OF match table, and serves
# the page the host writes at the address the node's reg names.
check "rig module loads" load_rig
check "host writes a page without clock data" host init --counter invalid --gen-counter
check "ptp_vmclock (${RIG_MODULE:-ours}) loads on $(uname -r)" load_driver
check "/dev/vmclock0 appears" wait_for 5 test -c /dev/vmclock0
node=$(ls -d /sys/firmware/devicetree/base/ptp@* 2>/dev/null | head -n1)
check "the device tree has the vmclock node" [ -n "$node" ]
check "its compatible is amazon,vmclock" [ "$(tr -d '\0' < "$node/compatible")" = amazon,vmclock ]
dev=$(ls -d /sys/bus/platform/drivers/vmclock/*.ptp 2>/dev/null | head -n1)
check "the vmclock driver is bound to the node's platform device" [ -n "$dev" ]
check "the bound device's of_node is that node" \
	[ "$(readlink -f "$dev/of_node")" = "$(readlink -f "$node")" ]
check "the page is not in the kernel's System RAM (no-map)" not in_system_ram "${node##*ptp@}"
magic=$(page_u64 0 | awk '{printf "%x", $1 % 4294967296}')
echo "# page magic read through /dev/vmclock0: $magic"
check "/dev/vmclock0 reads the host's page (magic 0x4b4c4356)" [ "$magic" = 4b4c4356 ]
