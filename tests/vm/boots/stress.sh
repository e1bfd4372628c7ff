# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 5.10 6.1 6.12 7 debug
# rig-module: ours
# rig-acpi: default
# rig-serve: --steady
# rig-timeout: 900
#
# Stress: the host fuzzes the page for 60 s while every reader path runs at
# once, then the restored page must give a PHC that agrees with the host;
# then 1000 unbind/bind and 200 rmmod/insmod cycles under open files,
# mappings, blocked pollers, PHC readers and a host that keeps bumping,
# disrupting and notifying (selftests/vmclock/vmclock_stress.c). On the
# debug kernel any KASAN, lockdep, UBSAN, KFENCE or kmemleak report fails it.
#
# Call timings (slowest per path) are reported, not checked: here the guest's
# clocks run on while QEMU waits for a host CPU and while single-threaded TCG
# runs the other vCPU (up to 100 ms of a turn), so driver-free getppid() calls
# of the same runs took 120 to 525 ms. stress-timing.sh checks them, on one
# vCPU whose clocks count instructions. The debug kernel makes every call many
# times slower (KASAN, lockdep, debug objects under TCG: a bind takes about
# 0.6 s): there the lifecycle runs 50 and 10 cycles so that its boots stay
# within minutes.
bring_up
export VMCLOCK_KO=/rig/modules/${RIG_MODULE:-ours}/ptp_vmclock.ko
unbinds=1000 rmmods=200
[ "${RIG_KERNEL:-}" = debug ] && unbinds=50 rmmods=10
echo "# selftest vmclock_stress-fuzz"
run_selftest vmclock_stress fuzz "${RIG_STRESS_FUZZ_S:-60}" report-timing
echo "# selftest vmclock_stress-fuzz exit $?"
check "stress fuzz: the restored page gives a PHC within 1 ms of the host" \
	phc_agrees_with_host "$(vmclock_ptp)"
echo "# selftest vmclock_stress-lifecycle"
run_selftest vmclock_stress lifecycle "${RIG_STRESS_UNBINDS:-$unbinds}" "${RIG_STRESS_RMMODS:-$rmmods}"
echo "# selftest vmclock_stress-lifecycle exit $?"
