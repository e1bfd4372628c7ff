# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 5.10 6.1
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 300
#
# The demo (make demo boots it on Debian 12's 6.1, make check on Debian 11's
# 5.10 too): a kernel with no VMClock driver of its own gets ours; the host
# plays the hypervisor with real clock data for the guest's TSC, then
# simulates a live migration.
say() { echo "#"; echo "# == $*"; }

bring_up
ptp=$(wait_for 5 vmclock_ptp && vmclock_ptp)
check "a PTP clock named vmclock0 appears" [ -n "$ptp" ]

say "devices"
ls -l /dev/vmclock0 "$ptp" | sed 's/^/# /'
dmesg | grep vmclock | sed 's/^/# /'
say "ptp-show $ptp (capabilities, EXTENDED and PRECISE readings)"
ptp-show "$ptp" > /tmp/ptp-show.out 2>&1
check "ptp-show: caps, gettime, EXTENDED and PRECISE all succeed" [ $? = 0 ]
sed 's/^/# /' /tmp/ptp-show.out
check "guest PHC agrees with the host's TAI within 1 ms" phc_agrees_with_host "$ptp"

say "a database waits in poll() for a disruption; the host simulates a live migration"
watch_disruption_start
check "host: disrupt --generation (UNRELIABLE for 500 ms, new marker and generation)" \
	host disrupt --generation --unreliable-ms 500
watch_disruption_end
