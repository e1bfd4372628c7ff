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
# Under -icount the guest TSC counts instructions, so it drifts away from
# the host's: an offset from a loose calibration, minus a margin (1e12
# ticks, minutes) that keeps the guest's counter ahead of counter_value for
# the whole run. The PHC is then off by that much; its cost is the same.
rig-echo tsc 3 &
echo_pid=$!
out=$(rig-host calibrate --max-spread 100000000000000 --max-width-ns 1000000000)
check "host: a loose guest TSC offset" [ $? = 0 ]
wait $echo_pid
echo "# calibrate: $out"
offset=$(echo "$out" | sed -n 's/.*offset=\(-\{0,1\}[0-9]*\).*/\1/p')
check "clocksource switched to tsc" wait_for 15 clocksource_is_counter
check "host writes clock data behind the guest's TSC" host clock --counter-offset $((offset - 1000000000000))

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
