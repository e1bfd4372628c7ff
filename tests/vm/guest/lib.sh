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

# The module under test: "ours" (this project's) or "intree" (the kernel's).
load_rig() {
	insmod /rig/modules/vmclock_rig.ko ${RIG_MAILBOX:+mailbox=$RIG_MAILBOX} "$@"
}
load_driver() {
	echo "RIG-MODULE-LOADING ${RIG_MODULE:-ours}"
	insmod "/rig/modules/${RIG_MODULE:-ours}/ptp_vmclock.ko" "$@"
}
unload_driver() { rmmod ptp_vmclock; }

# host CMD...: run a vmclock-host command on the host through the mailbox.
host() { rig-host "$@"; }

# calibrate: the host learns the guest TSC offset while the guest echoes it.
calibrate() {
	rig-echo tsc 3 &
	echo_pid=$!
	out=$(rig-host calibrate)
	st=$?
	wait $echo_pid
	echo "# calibrate: $out"
	VMCLOCK_COUNTER_OFFSET=$(echo "$out" | sed -n 's/.*offset=\(-\{0,1\}[0-9]*\).*/\1/p')
	export VMCLOCK_COUNTER_OFFSET
	return $st
}

# wait_for SECONDS CMD...: retry CMD every 0.1 s until it succeeds.
wait_for() {
	n=$(($1 * 10)); shift
	while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}

clocksource_is_tsc() {
	[ "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)" = tsc ]
}

# The /dev/ptpN whose clock_name is vmclock0, or nothing.
vmclock_ptp() {
	for d in /sys/class/ptp/ptp*; do
		[ "$(cat "$d/clock_name" 2>/dev/null)" = "${1:-vmclock0}" ] && { echo "/dev/${d##*/}"; return 0; }
	done
	return 1
}

# run_selftest NAME [ARGS]: run one selftest program; its TAP lines pass through.
run_selftest() {
	prog=/rig/bin/$1; shift
	[ -x "$prog" ] || { notok "selftest $prog present"; return 1; }
	"$prog" "$@"
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
	check "clocksource switched to tsc" wait_for 15 clocksource_is_tsc
	check "host writes clock data for the guest's TSC" host clock --counter-offset "$VMCLOCK_COUNTER_OFFSET"
	check "ptp_vmclock (${RIG_MODULE:-ours}) loads on $(uname -r)" load_driver
	check "/dev/vmclock0 appears" wait_for 5 test -c /dev/vmclock0
}

# driver_selftests: bring_up, then every selftest of selftests/vmclock (or
# those named in $RIG_SELFTESTS).
driver_selftests() {
	bring_up
	export VMCLOCK_KO=/rig/modules/${RIG_MODULE:-ours}/ptp_vmclock.ko
	for t in ${RIG_SELFTESTS:-vmclock_dev vmclock_ptp vmclock_flux vmclock_poll vmclock_uevent vmclock_probe vmclock_lifecycle}; do
		# Poll and uevent checks time the page's updates: no steady ones then.
		case $t in vmclock_poll|vmclock_uevent) host steady --stop >/dev/null ;; esac
		echo "# selftest $t"
		run_selftest "$t"
		echo "# selftest $t exit $?"
		case $t in vmclock_poll|vmclock_uevent) host steady >/dev/null ;; esac
	done
}

# watch_disruption_start / watch_disruption_end: a reader blocked in poll()
# (tools/vmclock-watch) and a uevent listener wait for one disruption,
# started before the host causes it; _end checks that both saw it.
watch_disruption_start() {
	rm -f /tmp/listening
	uevent-listen -t 120 -n 1 -r /tmp/listening VMCLOCK_DISRUPTION_MARKER > /tmp/uevent.out 2>&1 &
	uevent_pid=$!
	wait_for 5 test -e /tmp/listening
	vmclock-watch -n 1 -t 120 > /tmp/watch.out 2>&1 &
	watch_pid=$!
	sleep 1
}
watch_disruption_end() {
	wait $watch_pid
	check "vmclock-watch woke from poll() and saw the new marker" [ $? = 0 ]
	sed 's/^/# /' /tmp/watch.out
	wait $uevent_pid
	check "the driver sent a disruption uevent" [ $? = 0 ]
	sed 's/^/# /' /tmp/uevent.out
}

# phc_agrees_with_host PTPDEV: the guest's PHC reads within 1 ms of the host's
# TAI. QEMU's TCG keeps its guest TSC monotonic by adding to the TSC offset
# whenever the host TSC it reads steps back (host cores are not in step), so
# the offset learned at start may have moved: learn it again and rewrite
# the clock data right before comparing.
phc_agrees_with_host() {
	calibrate >/dev/null && host clock --counter-offset "$VMCLOCK_COUNTER_OFFSET" >/dev/null || return 1
	rig-echo phc "$1" 3 &
	echo_pid=$!
	host echo-check --max-error-ns 1000000
	st=$?
	wait $echo_pid
	return $st
}
