# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 6.1
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 300
#
# The demo (make demo): Debian 12's own kernel, which has no VMClock driver,
# gets ours; the host plays the hypervisor with real clock data for the
# guest's TSC, then simulates a live migration.
say() { echo "#"; echo "# == $*"; }

check "rig module loads" load_rig
check "host writes the VMClock page" host init --counter invalid --gen-counter
if calibrate; then ok "host learns the guest TSC offset"; else notok "host learns the guest TSC offset"; fi
check "clocksource switched to tsc" wait_for 15 clocksource_is_tsc
check "host writes clock data for the guest's TSC" host clock --counter-offset "$VMCLOCK_COUNTER_OFFSET"
check "ptp_vmclock loads on $(uname -r)" load_driver
check "/dev/vmclock0 appears" wait_for 5 test -c /dev/vmclock0
ptp=$(wait_for 5 vmclock_ptp && vmclock_ptp)
check "a PTP clock named vmclock0 appears" [ -n "$ptp" ]

say "devices"
ls -l /dev/vmclock0 "$ptp" | sed 's/^/# /'
dmesg | grep vmclock | sed 's/^/# /'
say "ptp-show $ptp (capabilities, EXTENDED and PRECISE readings)"
ptp-show "$ptp" > /tmp/ptp-show.out 2>&1
check "ptp-show: caps, gettime, EXTENDED and PRECISE all succeed" [ $? = 0 ]
sed 's/^/# /' /tmp/ptp-show.out
rig-echo phc "$ptp" 3 &
check "guest PHC agrees with the host's TAI within 1 ms" host echo-check --max-error-ns 1000000
wait

say "a database waits in poll() for a disruption; the host simulates a live migration"
uevent-listen -t 60 -n 1 -r /tmp/listening VMCLOCK_DISRUPTION_MARKER > /tmp/uevent.out 2>&1 &
ue=$!
wait_for 5 test -e /tmp/listening
vmclock-watch -n 1 -t 60 > /tmp/watch.out 2>&1 &
watch=$!
sleep 1
check "host: disrupt --generation (UNRELIABLE for 500 ms, new marker and generation)" \
	host disrupt --generation --unreliable-ms 500
wait $watch
check "vmclock-watch woke from poll() and saw the new marker" [ $? = 0 ]
sed 's/^/# /' /tmp/watch.out
wait $ue
check "the driver sent a disruption uevent" [ $? = 0 ]
sed 's/^/# /' /tmp/uevent.out
