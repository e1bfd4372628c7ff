# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 5.10 6.1
# rig-module: ours
# rig-acpi: FC_SHAPE CID_ONLY CRS_DWORD CRS_FIXED32 CRS_MEM24+FC_SHAPE CRS_TWO CRS_IO
# rig-timeout: 180
#
# The ACPI shapes a hypervisor may give the device (tests/vm/acpi/vmclock.asl):
# Firecracker's (_STA a method, page below 1 MiB), a _HID of no driver's with
# _CID VMCLOCK, and each memory descriptor kind bind; two descriptors or an
# I/O port one are refused with a message.
check "rig module loads" load_rig
check "host writes a page" host init --counter invalid
case $RIG_ACPI in
*CRS_TWO*|*CRS_IO*)
	load_driver
	sleep 1
	check "driver refuses _CRS of $RIG_ACPI" not test -e /dev/vmclock0
	dmesg | grep -i vmclock | tail -n 3 | sed 's/^/# /'
	check "the refusal is explained in the kernel log" sh -c 'dmesg | grep -q "vmclock.*_CRS"'
	;;
*)
	check "driver loads" load_driver
	check "driver binds with $RIG_ACPI" wait_for 5 test -c /dev/vmclock0
	host set disruption_marker=77 >/dev/null
	check "the page it maps is the host's" [ "$(page_u64 16)" = 77 ]
	;;
esac
