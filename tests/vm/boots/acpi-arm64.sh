# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 7-arm64
# rig-module: ours
# rig-acpi: default
# rig-arm64: acpi
# rig-serve: --steady
# rig-timeout: 900
#
# arm64 through ACPI, as on EC2 Graviton: UEFI firmware, the page described
# by our SSDT (AMZNC10C, added from the initrd), no device tree node; the
# driver binds the ACPI device and its selftests pass, the ACPI Notify
# (evaluated by the rig module) wakes readers.
check "the kernel runs on ACPI (no device tree)" test -d /sys/firmware/acpi/tables
check "the firmware's tables and our SSDT: SSDT of VMCLKT installed" \
	sh -c 'dmesg | grep -q "Table Upgrade: install \[SSDT-VMCLKT"'
check "the ACPI device AMZNC10C is present" test -d /sys/bus/acpi/devices/AMZNC10C:00
driver_selftests
check "the driver is bound to the ACPI device's platform device" \
	test -e /sys/bus/acpi/devices/AMZNC10C:00/physical_node/driver
# The page sits in the NVDIMM at 2 GiB, which the firmware leaves out of
# the memory map; RAM starts at 1 GiB.
check "the check sees RAM: 40001000 is System RAM" in_system_ram 40001000
check "the page (80000000) is not in the kernel's System RAM" not in_system_ram 80000000
