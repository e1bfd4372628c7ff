# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 6.12-arm64 6.1-arm64 7-arm64
# rig-module: ours
# rig-acpi: none
# rig-serve: --steady
# rig-timeout: 600
#
# arm64: the page describes the guest's virtual counter (CNTVCT_EL0) with
# real clock data (the host learns its offset at the rate the guest states,
# tools/vmclock-host/README.md), and the PHC the driver registers on it
# tells the host's TAI within 1 ms.
check "the counter's rate is stated (CNTFRQ_EL0 $(rig-echo hz))" rig-echo hz
bring_up
# counter_id_is N: the page's counter_id (byte 10) is N.
counter_id_is() {
	w=$(page_u64 8) && [ -n "$w" ] && [ $(((w >> 16) & 255)) = "$1" ]
}
check "the page's counter_id is ARM_VCNT (0)" counter_id_is 0
ptp=$(vmclock_ptp)
check "the driver registers a PTP clock" [ -n "$ptp" ]
check "guest PHC agrees with the host's TAI within 1 ms" phc_agrees_with_host "$ptp"

# The check can fail: clock data 125000 ticks (2 ms at 62.5 MHz) off.
host steady --stop >/dev/null
host clock --counter-offset $((VMCLOCK_COUNTER_OFFSET + 125000)) >/dev/null
check "the PHC check fails on clock data 2 ms off" not phc_agrees_with_host "$ptp"
