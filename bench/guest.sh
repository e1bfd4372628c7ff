# SPDX-License-Identifier: GPL-2.0
# The benchmark's guest side, sourced by bench/boots/*.sh after the rig's
# tests/vm/guest/lib.sh (bench/run.py puts it at /rig/bench/guest.sh).
# Results are "BENCH ..." lines on the console for bench/run.py; set-up
# steps are TAP checks like any rig boot, so a broken set-up fails the run.
#
# Kernel command line (rig.NAME=VALUE, set by bench/run.py):
#   rig.bench_count=N      wake-ups per mode (default 20)
#   rig.bench_phc2sys=S    run phc2sys for S seconds (0: not at all)

BENCH_COUNT=${RIG_BENCH_COUNT:-20}
BENCH_PHC2SYS=${RIG_BENCH_PHC2SYS:-0}

# bench_run CMD...: the command's result lines as BENCH lines, the rest as
# comments; a TAP check of its exit status.
bench_run() {
	out=$("$@" 2>&1)
	rc=$?
	echo "$out" | grep -E '^(cost|wake) ' | sed 's/^/BENCH /'
	echo "$out" | grep -vE '^(cost|wake) ' | sed 's/^\([^#]\)/# \1/'
	if [ $rc = 0 ]; then ok "$1 $2 ran"; else notok "$1 $2 ran (exit $rc)"; fi
}

# phc2sys_start / phc2sys_end: phc2sys on the PHC for BENCH_PHC2SYS s,
# |offset| statistics over the s2 (locked) lines from 10 s after its first
# sample, as tests/vm/clients/clients.sh counts them.
phc2sys_start() {
	phc2sys_pid=
	[ "$BENCH_PHC2SYS" -gt 0 ] || return 0
	if ! command -v phc2sys >/dev/null; then
		echo "# phc2sys not in this guest's userland"
		return 0
	fi
	timeout "$BENCH_PHC2SYS" phc2sys -s "$1" -c CLOCK_REALTIME -O -37 -m \
		> /tmp/phc2sys.out 2>&1 &
	phc2sys_pid=$!
}
phc2sys_end() {
	[ -n "$phc2sys_pid" ] || return 0
	wait "$phc2sys_pid"
	sed -n '1,3p' /tmp/phc2sys.out | sed 's/^/# phc2sys: /'
	start=$(awk '/ phc offset / { t = $1; gsub(/[^0-9.]/, "", t); print t; exit }' /tmp/phc2sys.out)
	set -- $(awk -v from="$(( ${start%.*} + 10 ))" '/ phc offset / {
		t = $1; gsub(/[^0-9.]/, "", t); if (t + 0 < from) next
		all++
		if (!/ s2 /) next
		for (i = 1; i < NF; i++) if ($i == "offset") o = $(i + 1)
		if (o < 0) o = -o; v[n++] = o
	} END {
		if (!n) { print 0, 0, 0, all + 0; exit }
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		print n, v[int((n - 1) / 2)], v[n - 1], all + 0
	}' /tmp/phc2sys.out)
	echo "BENCH phc2sys n=$1 of=$4 median_ns=$2 max_ns=$3 version=$(phc2sys -v 2>&1)"
	# Lines after the lock that are not s2 (phc2sys reset its servo): shown.
	awk -v from="$(( ${start%.*} + 10 ))" '/ phc offset / && !/ s2 / {
		t = $1; gsub(/[^0-9.]/, "", t); if (t + 0 >= from) print "# phc2sys (not s2): " $0 }' /tmp/phc2sys.out
	check "phc2sys locked (s2) on at least 40 lines from 10 s on ($1 of $4)" [ "$1" -ge 40 ]
}

bench_main() {
	module=${RIG_MODULE:-ours}
	check "rig module loads" load_rig
	check "host writes a page without clock data" host init --counter invalid --gen-counter
	if calibrate; then ok "host learns the guest TSC offset"; else notok "host learns the guest TSC offset"; fi
	check "clocksource switched to tsc" wait_for 15 clocksource_is_counter
	check "host writes clock data for the guest's TSC" host clock --counter-offset "$VMCLOCK_COUNTER_OFFSET"
	# No steady rounds: each one would wake the pollers (stray wake-ups)
	# and step the PHC under phc2sys. The page stays valid without them.
	check "host: steady rounds off" host steady --stop

	# Notify mode: NOTIFICATION_PRESENT before the driver binds (the
	# in-tree driver looks at it at probe only), our polling timer off.
	check "page advertises notifications" host set flags+=notify
	args=
	[ "$module" = intree ] || args=poll_interval_ms=0
	check "ptp_vmclock ($module) loads for notify mode ${args}" load_driver $args
	check "/dev/vmclock0 appears" wait_for 5 test -c /dev/vmclock0
	ptp=$(wait_for 5 vmclock_ptp && vmclock_ptp)
	check "a PTP clock named vmclock0 appears" [ -n "$ptp" ]
	phc2sys_start "$ptp"
	bench_run vmclock-bench cost --ptp "$ptp"
	bench_run vmclock-bench wake --notify --offset "$VMCLOCK_COUNTER_OFFSET" --count "$BENCH_COUNT"
	phc2sys_end
	check "ptp_vmclock unloads" unload_driver

	# Polling mode: no NOTIFICATION_PRESENT, default parameters.
	check "page without notifications" host set flags-=notify
	check "ptp_vmclock ($module) loads for polling mode" load_driver
	check "/dev/vmclock0 appears again" wait_for 5 test -c /dev/vmclock0
	bench_run vmclock-bench wake --offset "$VMCLOCK_COUNTER_OFFSET" --count "$BENCH_COUNT"
	[ "$module" = intree ] || echo "# poll_interval_ms=$(cat /sys/module/ptp_vmclock/parameters/poll_interval_ms)"
}
