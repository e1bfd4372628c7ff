# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 7
# rig-module: intree
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 240
#
# Validates the rig itself against the kernel's own ptp_vmclock (Linux 7.x):
# the host-written page binds, host changes are seen in the running guest,
# the page describes the guest's real TSC (PHC agrees with the host's TAI),
# and a wrong magic makes the driver refuse to bind.

check "rig module loads" load_rig
check "host writes a page without clock data" host init --counter invalid --gen-counter
check "in-tree driver loads" load_driver
check "/dev/vmclock0 appears" wait_for 5 test -c /dev/vmclock0
magic=$(page_u64 0 | tr -d '\n')
echo "# first 8 bytes: $magic"
# magic 0x4b4c4356 and size 0x1000 as one little-endian u64
check "page magic and size read through the driver" [ "$magic" = 17593449333590 ]
before=$(page_u64 16)
host set disruption_marker=4242 >/dev/null
after=$(page_u64 16)
echo "# disruption_marker before=$before after=$after"
check "host change seen in the running guest" [ "$after" = 4242 ]

# Clock data for the guest's real TSC.
# calibrate exports VMCLOCK_COUNTER_OFFSET: run it in this shell, not in check.
if calibrate; then ok "host learns the guest TSC offset"; else notok "host learns the guest TSC offset"; fi
check "clocksource switched to tsc" wait_for 15 clocksource_is_counter
check "host writes clock data" host clock --counter-offset "$VMCLOCK_COUNTER_OFFSET"
unload_driver
check "in-tree driver reloads with clock data" load_driver
ptp=$(wait_for 5 vmclock_ptp && vmclock_ptp)
check "in-tree driver registers a PTP clock" [ -n "$ptp" ]
[ -n "$ptp" ] &&
	check "guest PHC agrees with the host's TAI within 1 ms" phc_agrees_with_host "$ptp"

# The rig can fail: clock data 10^7 ticks off (milliseconds at any TSC
# rate below 10 GHz) must fail the PHC check.
host steady --stop >/dev/null
host clock --counter-offset $((VMCLOCK_COUNTER_OFFSET + 10000000)) >/dev/null
[ -n "$ptp" ] &&
	check "the PHC check fails on clock data milliseconds off" not phc_agrees_with_host "$ptp"

# The rig can fail: a wrong magic must stop the in-tree driver binding.
unload_driver
host set magic=0x12345678 >/dev/null
load_driver 2>/dev/null
check "in-tree driver refuses a page with a wrong magic" not test -e /dev/vmclock0
unload_driver 2>/dev/null
true
