# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 6.1 6.12 7
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 900
#
# The driver's in-guest selftests (selftests/vmclock) on a page with real
# clock data for the guest's TSC, kept fresh by the host once calibrated.

check "rig module loads" load_rig
check "host writes a page without clock data" host init --counter invalid --gen-counter
if calibrate; then ok "host learns the guest TSC offset"; else notok "host learns the guest TSC offset"; fi
check "clocksource switched to tsc" wait_for 15 clocksource_is_tsc
check "host writes clock data" host clock --counter-offset "$VMCLOCK_COUNTER_OFFSET"
check "driver loads" load_driver
check "/dev/vmclock0 appears" wait_for 5 test -c /dev/vmclock0
export VMCLOCK_KO=/rig/modules/ours/ptp_vmclock.ko
for t in ${RIG_SELFTESTS:-vmclock_dev vmclock_ptp vmclock_poll vmclock_uevent vmclock_probe vmclock_lifecycle}; do
	# Poll and uevent checks time the page's updates: no steady ones then.
	case $t in vmclock_poll|vmclock_uevent) host steady --stop >/dev/null ;; esac
	echo "# selftest $t"
	run_selftest "$t"
	echo "# selftest $t exit $?"
	case $t in vmclock_poll|vmclock_uevent) host steady >/dev/null ;; esac
done
