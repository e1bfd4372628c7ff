# SPDX-License-Identifier: GPL-2.0
# Helpers for the rig's boot scripts (tests/vm/boots/*.sh), sourced in the
# guest. Checks print TAP lines ("ok - ..." / "not ok - ..."); the host
# numbers them and adds the boot's name.

ok()	{ echo "ok - $*"; }
notok()	{ echo "not ok - $*"; }
skip()	{ echo "ok - $1 # SKIP ${2:-}"; }
# check NAME CMD...: one TAP line from a command's exit status.
check() {
	local name=$1 check_out
	shift
	if check_out=$("$@" 2>&1); then ok "$name"; else notok "$name"; echo "$check_out" | sed 's/^/# /'; fi
}

# not CMD...: succeeds when CMD fails (for check; works with functions too).
not() { ! "$@"; }

# in_system_ram HEXADDR: the address lies in a range /proc/iomem calls System RAM.
in_system_ram() {
	awk -v a="$1" '/System RAM/ {
		sub(/^ +/, ""); split($0, r, /[- ]/)
		# busybox awk reads "0x..." strings as hex numbers
		if (("0x" a) + 0 >= ("0x" r[1]) + 0 && ("0x" a) + 0 <= ("0x" r[2]) + 0) { print; found = 1 }
	} END { exit !found }' /proc/iomem
}

# The module under test: "ours" (this project's) or "intree" (the kernel's).
load_rig() {
	# A device-tree guest (arm64) has no ACPI method to notify through.
	[ -d /sys/firmware/acpi ] || set -- notify_method= "$@"
	insmod /rig/modules/vmclock_rig.ko ${RIG_MAILBOX:+mailbox=$RIG_MAILBOX} "$@"
}
load_driver() {
	echo "RIG-MODULE-LOADING ${RIG_MODULE:-ours}"
	load_deps && insmod "/rig/modules/${RIG_MODULE:-ours}/ptp_vmclock.ko" "$@"
}
# The kernel's own modules the driver needs where the kernel has them as
# modules, not built in (5.10: ptp, pps_core), in the order the host wrote.
load_deps() {
	local m
	while read -r m; do
		[ -d "/sys/module/$m" ] || insmod "/rig/modules/deps/$m.ko" || return 1
	done < /rig/modules/deps/order
}
unload_driver() { rmmod ptp_vmclock; }

# host CMD...: run a vmclock-host command on the host through the mailbox.
host() { rig-host "$@"; }

# calibrate [OPTION...]: the host learns the guest TSC offset from round
# trips the guest answers (tools/vmclock-host/echo.c; OPTIONs go to its
# calibrate). Exports the offset and the width of its bracket.
calibrate() {
	# An arm64 guest's counter ticks at the rate it states (CNTFRQ_EL0).
	hz=$(rig-echo hz 2>/dev/null)
	rig-echo tsc 3 &
	echo_pid=$!
	out=$(rig-host calibrate ${hz:+--counter-hz "$hz"} "$@")
	st=$?
	wait $echo_pid
	echo "# calibrate: $out"
	VMCLOCK_COUNTER_OFFSET=$(echo "$out" | sed -n 's/.*offset=\(-\{0,1\}[0-9]*\).*/\1/p')
	VMCLOCK_COUNTER_WIDTH=$(echo "$out" | sed -n 's/.* width=\([0-9]*\).*/\1/p')
	export VMCLOCK_COUNTER_OFFSET VMCLOCK_COUNTER_WIDTH
	return $st
}

# calibrate_loose: for guests under -icount (rig-icount: yes), whose TSC
# counts instructions and so drifts away from the host's. A calibration that
# accepts any spread and width, minus a margin of 10^12 ticks (minutes) that
# keeps the guest's counter ahead of counter_value for the whole run: clock
# data that readers convert in full, though the PHC is off by that much.
# Exports VMCLOCK_COUNTER_OFFSET; run it in this shell, not in check.
calibrate_loose() {
	calibrate --max-spread 100000000000000 --max-width-ns 1000000000 &&
		[ -n "$VMCLOCK_COUNTER_OFFSET" ] || return 1
	VMCLOCK_COUNTER_OFFSET=$((VMCLOCK_COUNTER_OFFSET - 1000000000000))
	export VMCLOCK_COUNTER_OFFSET
}

# wait_for SECONDS CMD...: retry CMD every 0.1 s until it succeeds.
wait_for() {
	n=$(($1 * 10)); shift
	while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}

# The clocksource that reads the counter the page describes.
counter_clocksource() {
	case $(uname -m) in aarch64) echo arch_sys_counter ;; *) echo tsc ;; esac
}
clocksource_is_counter() {
	[ "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)" = "$(counter_clocksource)" ]
}

# The /dev/ptpN whose clock_name is vmclock0, or nothing.
vmclock_ptp() {
	for d in /sys/class/ptp/ptp*; do
		[ "$(cat "$d/clock_name" 2>/dev/null)" = "${1:-vmclock0}" ] && { echo "/dev/${d##*/}"; return 0; }
	done
	return 1
}

# The installed kselftest tree (tests/vm/kselftest.sh install) and the
# vmclock target's directory in it.
KSELFTEST=/rig/kselftest
VMCLOCK_TESTS=$KSELFTEST/drivers/ptp/vmclock

# run_selftest NAME [ARGS]: run one program of the vmclock target directly
# (vmclock_stress, which takes arguments); its KTAP lines pass through.
run_selftest() {
	prog=$VMCLOCK_TESTS/$1; shift
	[ -x "$prog" ] || { notok "selftest $prog present"; return 1; }
	"$prog" "$@"
}

# run_kselftest COLLECTION:TEST: one test through the installed tree's own
# runner, between the markers the rig parses (rig.py guest_results).
run_kselftest() {
	echo "# kselftest $1"
	"$KSELFTEST/run_kselftest.sh" -t "$1"
	echo "# kselftest $1 exit $?"
}

# page_u64 OFFSET [DEV]: one little-endian u64 of the page, read through the
# driver's read() (no lseek: the in-tree driver has none).
page_u64() {
	dd if="${2:-/dev/vmclock0}" of=/tmp/page.bin bs=4096 count=1 2>/dev/null || return 1
	od -An -tu8 -j"$1" -N8 /tmp/page.bin | tr -d ' '
}

# bring_up: the rig module, a page with real clock data for the guest's TSC
# (the host learns the offset first and keeps the data fresh when its serve
# runs --steady), and the module under test bound to it.
bring_up() {
	check "rig module loads" load_rig
	check "host writes a page without clock data" host init --counter invalid --gen-counter
	# calibrate exports VMCLOCK_COUNTER_OFFSET: run it in this shell.
	if calibrate; then ok "host learns the guest TSC offset"; else notok "host learns the guest TSC offset"; fi
	check "clocksource switched to $(counter_clocksource)" wait_for 15 clocksource_is_counter
	check "host writes clock data for the guest's TSC" host clock --counter-offset "$VMCLOCK_COUNTER_OFFSET"
	check "ptp_vmclock (${RIG_MODULE:-ours}) loads on $(uname -r)" load_driver
	check "/dev/vmclock0 appears" wait_for 5 test -c /dev/vmclock0
}

# driver_selftests: bring_up, then every test of the installed vmclock
# kselftest target (or those named in $RIG_SELFTESTS), one at a time through
# run_kselftest.sh, so that the host's steady updates can stop around two.
driver_selftests() {
	bring_up
	export VMCLOCK_KO=/rig/modules/${RIG_MODULE:-ours}/ptp_vmclock.ko
	list=$(echo "${RIG_SELFTESTS:-}" | tr , ' ')
	[ -n "$list" ] || list=$(sed -n 's|^drivers/ptp/vmclock:||p' "$KSELFTEST/kselftest-list.txt")
	for t in $list; do
		# Poll and uevent checks time the page's updates: no steady ones then.
		case $t in vmclock_poll|vmclock_uevent) host steady --stop >/dev/null ;; esac
		run_kselftest "drivers/ptp/vmclock:$t"
		case $t in vmclock_poll|vmclock_uevent) host steady >/dev/null ;; esac
	done
}

# watch_disruption_start / watch_disruption_end: a reader blocked in poll()
# (`vmclock watch`, tools/vmclock) and a uevent listener wait for one
# disruption, started before the host causes it; _end checks that both saw
# it, and that the reader waited in the driver's poll() (wait=notify), not by
# looking at the page itself.
watch_disruption_start() {
	rm -f /tmp/listening
	uevent-listen -t 120 -n 1 -r /tmp/listening VMCLOCK_DISRUPTION_MARKER > /tmp/uevent.out 2>&1 &
	uevent_pid=$!
	wait_for 5 test -e /tmp/listening
	vmclock watch -n 1 -t 120 > /tmp/watch.out 2>&1 &
	watch_pid=$!
	sleep 1
}
watch_disruption_end() {
	wait $watch_pid
	watch_rc=$?
	check "vmclock watch saw the new marker" [ $watch_rc = 0 ]
	check "vmclock watch waited in the driver's poll()" grep -q " wait=notify$" /tmp/watch.out
	sed 's/^/# /' /tmp/watch.out
	wait $uevent_pid
	check "the driver sent a disruption uevent" [ $? = 0 ]
	sed 's/^/# /' /tmp/uevent.out
}

# phc_agrees_with_host PTPDEV: the guest's PHC, from the clock data the
# host wrote with the offset learned earlier, reads within 1 ms of the
# host's TAI; and the guest TSC offset has not moved since it was learned:
# learned again afterwards, it must lie within the two brackets' half
# widths plus calibrate's own tolerance (--max-spread, 2000 ticks). (Under
# multi-threaded TCG it moves: QEMU pushes its TSC offset forward whenever
# two vCPU threads read the host TSC out of order; the rig runs
# single-threaded TCG for that reason.)
phc_agrees_with_host() {
	# (calibrate sets st: this function's own status needs another name)
	local off0=$VMCLOCK_COUNTER_OFFSET w0=$VMCLOCK_COUNTER_WIDTH agree gap
	[ -n "$off0" ] || { echo "phc_agrees_with_host: no calibration yet"; return 1; }
	rig-echo phc "$1" 5 &
	echo_pid=$!
	host echo-check --max-error-ns 1000000
	agree=$?
	wait $echo_pid
	calibrate || return 1
	gap=$((VMCLOCK_COUNTER_OFFSET - off0))
	[ $gap -lt 0 ] && gap=$((-gap))
	echo "TSC offset then $off0 (width $w0), now $VMCLOCK_COUNTER_OFFSET (width $VMCLOCK_COUNTER_WIDTH)"
	if [ $((2 * gap)) -gt $((w0 + VMCLOCK_COUNTER_WIDTH + 2 * 2000)) ]; then
		echo "the guest TSC offset moved by $gap ticks since it was learned"
		return 1
	fi
	return $agree
}

# libvmclock_checks: libvmclock and the vmclock command on /dev/vmclock0 with
# real clock data (tests/vm/boots/libvmclock*.sh): the library's time agrees
# with the PHC, and through the PHC with the host's TAI; a host disruption
# wakes the library's wait, fails the token check, and now() says DISRUPTED
# until the page is synchronized again.
libvmclock_checks() {
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
}

# tracefs_ready: tracefs mounted at /sys/kernel/tracing (mounting it if need be).
tracefs_ready() {
	[ -e /sys/kernel/tracing/trace ] || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
}

# detector_runs SECONDS: how many times the driver's change detector ran in
# that time, from the workqueue_execute_start tracepoint (each run of it
# without a notification is a wake-up by its own timer).
detector_runs() {
	t=/sys/kernel/tracing
	tracefs_ready || return 1
	ev=$t/events/workqueue/workqueue_execute_start
	[ -e $ev/enable ] || return 1
	echo 0 > $t/tracing_on; echo > $t/trace
	echo 1 > $ev/enable; echo 1 > $t/tracing_on
	sleep "$1"
	echo 0 > $t/tracing_on; echo 0 > $ev/enable
	grep -c "function vmclock_detect" $t/trace
}

# idle_wakeups: with no notification and nobody waiting in poll(), the
# detector looks at the page at most once a second (VMCLOCK_IDLE_POLL_MS);
# with a reader waiting, every poll_interval_ms (100) again.
idle_wakeups() {
	secs=10
	if ! tracefs_ready; then
		skip "idle guest: the detector wakes at most once a second" "no tracefs in this kernel"
		return 0
	fi
	idle=$(detector_runs $secs)
	echo "# detector runs in $secs s, nobody waiting: ${idle:-unknown}"
	# A window of N s holds at most N + 1 runs one second apart.
	check "idle guest: the detector wakes at most once a second" [ "${idle:-none}" -le $((secs + 1)) ]
	vmclock watch -n 1 -t 60 >/dev/null 2>&1 &
	waiter=$!
	sleep 1
	busy=$(detector_runs 5)
	kill $waiter 2>/dev/null; wait $waiter 2>/dev/null
	echo "# detector runs in 5 s, a reader waiting in poll(): ${busy:-unknown}"
	# About 50 at poll_interval_ms 100. A detector that ignored the waiter
	# would run about 12 times: 6 on its idle period, and as often again
	# kicked by the reader re-entering poll() after the host's steady updates.
	check "a reader waiting in poll(): the detector polls at poll_interval_ms again" [ "${busy:-none}" -ge 25 ]
	check "the kernel log calls none of our work items' workqueues deprecated" no_deprecated_workqueue
}

# Linux 7.2 names a driver that queues work on system_wq in its log.
no_deprecated_workqueue() {
	! dmesg | grep -q "vmclock.*enqueued on deprecated workqueue"
}
