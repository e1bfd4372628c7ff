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
check "ours unloads after the idle count" unload_driver

# notify_hop MODULE: guest instructions from the driver's ACPI notify
# handler (a kprobe) to a reader's return from poll() (vmclock-insns
# --wait marks it in the trace), for WAKES host bumps with a Notify each;
# the trace clock is the TSC, which counts instructions here. Prints
# "n=N min=I median=I max=I".
WAKES=${RIG_BENCH_WAKES:-10}
notify_hop() {
	t=/sys/kernel/tracing
	tracefs_ready || return 1
	case $1 in
	intree) fn=vmclock_acpi_notification_handler ;;
	*) fn=vmclock_acpi_notify ;;
	esac
	echo 0 > $t/tracing_on; echo > $t/trace
	echo x86-tsc > $t/trace_clock || return 1
	echo "p:vmclock_bench/notify $fn" > $t/kprobe_events || return 1
	echo 1 > $t/events/vmclock_bench/notify/enable; echo 1 > $t/tracing_on
	vmclock-insns --wait "$WAKES" --dev /dev/vmclock0 > /tmp/wait.out 2>&1 &
	pid=$!
	wait_for 5 grep -q waiting /tmp/wait.out
	for i in $(seq "$WAKES"); do host bump --notify > /dev/null; sleep 0.5; done
	wait $pid; rc=$?
	echo 0 > $t/tracing_on; echo 0 > $t/events/vmclock_bench/notify/enable
	# Removing the kprobe empties the buffer: read it first.
	cat $t/trace > /tmp/trace.out
	echo > $t/kprobe_events
	sed 's/^/# /' /tmp/wait.out >&2
	[ $rc = 0 ] || return 1
	grep -E ' notify: |vmclock-woke' /tmp/trace.out | head -4 | sed 's/^/# trace: /' >&2
	# A wake-up's hop: its marker's timestamp minus the notify's before it.
	awk -v want="$WAKES" '
		{ ts = ""; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+:$/) { ts = substr($i, 1, length($i) - 1); break } }
		ts == "" { next }
		/ notify: / { start = ts; next }
		/vmclock-woke/ && start != "" { v[n++] = ts - start; start = "" }
		END {
			if (n != want) exit 1
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
			printf "n=%d min=%d median=%d max=%d\n", n, v[0], v[int((n - 1) / 2)], v[n - 1]
		}' /tmp/trace.out
}

# The Notify hop: the page advertises notifications (before the driver
# binds: the in-tree driver looks at probe only) and ours does not poll.
check "page advertises notifications" host set flags+=notify
for RIG_MODULE in ours intree; do
	args=
	[ "$RIG_MODULE" = intree ] || args=poll_interval_ms=0
	check "notify: $RIG_MODULE loads $args" load_driver $args
	check "notify: $RIG_MODULE: /dev/vmclock0" wait_for 5 test -c /dev/vmclock0
	hop=$(notify_hop "$RIG_MODULE")
	check "notify: $RIG_MODULE: every wake-up measured" [ -n "$hop" ]
	echo "BENCH notify $RIG_MODULE ${hop:-none}"
	check "notify: $RIG_MODULE unloads" unload_driver
done
