# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 7
# rig-module: ours
# rig-acpi: default
# rig-icount: yes
# rig-timeout: 900
#
# Instructions per call (one vCPU under QEMU -icount shift=0, run by
# bench/icount.py): our module, the kernel's own and our module with a deliberately
# slowed page read, loaded in turn on one page in one boot, several rounds.
# bench/icount.py adds /rig/bin/vmclock-insns and the "slow" module.
ROUNDS=${RIG_BENCH_ROUNDS:-3}

check "rig module loads" load_rig
check "host writes a page without clock data" host init --counter invalid
# Under -icount the guest TSC drifts from the host's: clock data from a
# loose calibration (lib.sh); the PHC is minutes off, its cost the same.
if calibrate_loose; then ok "host: a loose guest TSC offset"; else notok "host: a loose guest TSC offset"; fi
check "clocksource switched to tsc" wait_for 15 clocksource_is_counter
check "host writes clock data behind the guest's TSC" host clock --counter-offset "$VMCLOCK_COUNTER_OFFSET"

for round in $(seq "$ROUNDS"); do
	for RIG_MODULE in ours intree slow; do
		check "round $round: $RIG_MODULE loads" load_driver
		ptp=$(wait_for 5 vmclock_ptp && vmclock_ptp)
		check "round $round: $RIG_MODULE: /dev/vmclock0 and the PTP clock" [ -n "$ptp" -a -c /dev/vmclock0 ]
		out=$(vmclock-insns --ptp "$ptp" --dev /dev/vmclock0 2>&1)
		check "round $round: $RIG_MODULE: vmclock-insns ran" [ $? = 0 ]
		echo "BENCH $RIG_MODULE round=$round ${out#insns }"
		check "round $round: $RIG_MODULE unloads" unload_driver
	done
done

# Idle wake-ups of ours: nobody has /dev/vmclock0 open.
RIG_MODULE=ours
check "ours loads for the idle count" load_driver
sleep 2
runs=$(detector_runs 10)
echo "BENCH idle ours runs=${runs:-none} seconds=10"
check "idle: the detector's runs were counted" [ -n "$runs" ]
