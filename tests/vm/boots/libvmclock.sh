# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 6.1 6.12 7
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 600
#
# libvmclock and the vmclock command on the driver's /dev/vmclock0, with
# real clock data for the guest's TSC: the library's time agrees with the
# PHC (and through it with the host's TAI); a host disruption wakes the
# library's wait, fails the token check, and now() says DISRUPTED until the
# page is synchronized again. The same script runs on the in-tree driver
# (libvmclock-intree.sh).
bring_up
ptp=$(wait_for 5 vmclock_ptp && vmclock_ptp)
check "a PTP clock named vmclock0 appears" [ -n "$ptp" ]

vmclock info > /tmp/info.out 2>&1
check "vmclock info: TSC clock data, TAI, synchronized, generation present" \
	eval 'grep -q "^counter: *x86-tsc ([1-9][0-9]* Hz)$" /tmp/info.out && grep -q "^time type: *TAI" /tmp/info.out &&
	      grep -q "^clock status: *SYNCHRONIZED" /tmp/info.out && grep -q "^VM generation: *0" /tmp/info.out &&
	      grep -q "^PTP clock: *$ptp\$" /tmp/info.out'
sed 's/^/# /' /tmp/info.out
check "vmclock check: usable (bounded, synchronized page time)" vmclock check

# The library against the PHC in the guest, the PHC against the host's TAI
# (the rig's echo check), then the library against the PHC again on the
# clock data that check wrote.
vmclock-libcheck phc "$ptp" 2000
check "vmclock-libcheck phc exits 0" [ $? = 0 ]
check "guest PHC agrees with the host's TAI within 1 ms" phc_agrees_with_host "$ptp"
vmclock-libcheck phc "$ptp" 2000
check "vmclock-libcheck phc (after the host check) exits 0" [ $? = 0 ]

rm -f /tmp/lib-ready
vmclock-libcheck disruption /tmp/lib-ready 60 > /tmp/libcheck.out 2>&1 &
lib_pid=$!
check "the library waits" wait_for 10 test -e /tmp/lib-ready
sleep 0.5
check "host: disrupt --generation (UNRELIABLE for 500 ms, new marker and generation)" \
	host disrupt --generation --unreliable-ms 500
wait $lib_pid
lib_rc=$?
cat /tmp/libcheck.out
check "vmclock-libcheck disruption exits 0" [ $lib_rc = 0 ]
check "vmclock check after the disruption: usable again" vmclock check
