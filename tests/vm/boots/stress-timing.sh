# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 5.10 6.1 6.12 7
# rig-module: ours
# rig-acpi: default
# rig-icount: yes
# rig-timeout: 600
#
# The stress fuzz with its call timings checked: every driver path is held
# to the documented reader bound (100 ms) plus the slowest driver-free
# control call. In stress.sh the guest's time runs on while QEMU waits for
# a host CPU and while single-threaded TCG runs the other vCPU (up to
# 100 ms per turn), so no call can be timed there. Here the guest has one
# vCPU whose clocks count its own instructions (-icount): a call is slow
# only by what the guest itself executed or waited for. The guest TSC then
# is not the host's plus a constant, so the host writes clock data from a
# loose calibration (lib.sh's calibrate_loose): the PHC readings are
# converted in full, minutes off (their time is not compared here:
# stress.sh does that).
check "rig module loads" load_rig
check "host writes a page without clock data" \
	host init --counter invalid --gen-counter
if calibrate_loose; then ok "host: a loose guest TSC offset"; else notok "host: a loose guest TSC offset"; fi
check "clocksource switched to tsc" wait_for 15 clocksource_is_counter
check "host writes clock data behind the guest's TSC" host clock --counter-offset "$VMCLOCK_COUNTER_OFFSET"
check "ptp_vmclock (${RIG_MODULE:-ours}) loads on $(uname -r)" load_driver
check "/dev/vmclock0 appears" wait_for 5 test -c /dev/vmclock0
export VMCLOCK_KO=/rig/modules/${RIG_MODULE:-ours}/ptp_vmclock.ko
echo "# selftest vmclock_stress-fuzz"
run_selftest vmclock_stress fuzz "${RIG_STRESS_FUZZ_S:-20}"
echo "# selftest vmclock_stress-fuzz exit $?"
