# SPDX-License-Identifier: GPL-2.0
# Real time-sync clients (testptp, phc_ctl, phc2sys, chronyd) against the
# driver in a rig guest. Sourced by tests/vm/boots/clients-*.sh after
# lib.sh; the programs come from tests/vm/userland.sh's tree (usr/bin,
# usr/sbin), this file from its usr/share/vmclock-clients.
#
# Busybox sh: 64-bit shell arithmetic, no arrays. Every client runs under
# `timeout` so a hung one cannot hold the guest.

PHC=/dev/ptp_vmclock
# The name linuxptp is given: the link, or (linuxptp_link_check) the
# /dev/ptpN behind it when this linuxptp cannot use the link.
LPTP=$PHC
# TAI - UTC as the clients are told it (phc2sys -O, chrony offset); the
# checks always expect 37 s, so rig.tai-offset=-36 on the kernel command
# line is a deliberately wrong configuration the checks must catch.
TAI_ARG=${RIG_TAI_OFFSET:--37}
TAI_NS=37000000000
LOCK_BOUND_NS=10000	# |offset| once phc2sys is locked
SYS_BOUND_NS=100000	# system clock vs PHC - 37 s after a client ran

# abs N
abs() { [ "$1" -lt 0 ] && echo $((-$1)) || echo "$1"; }

# ts_ns SEC.NSEC: nanoseconds as one integer.
ts_ns() {
	s=${1%.*}; n=${1#*.}
	n=$(echo "$n" | sed 's/^0*//')
	echo $((s * 1000000000 + ${n:-0}))
}

# phc_minus_sys: PHC - CLOCK_REALTIME in ns from one PTP_SYS_OFFSET_PRECISE
# (ptp-show), the reference the clients' readings are compared with.
phc_minus_sys() {
	ptp-show "$PHC" 2>/dev/null | sed -n 's/.*PRECISE2:.*device-realtime_ns=\(-\{0,1\}[0-9]*\).*/\1/p'
}
phc_now_ns() {
	ts_ns "$(ptp-show "$PHC" 2>/dev/null | sed -n 's/^clock_gettime: phc=\([0-9.]*\).*/\1/p')"
}

# within NAME VALUE REF BOUND: a TAP line for |VALUE - REF| <= BOUND.
within() {
	d=$(abs $(($2 - $3)))
	if [ "$d" -le "$4" ]; then ok "$1 (off by $d ns)"; else notok "$1 (off by $d ns, bound $4)"; fi
}

# sys_agrees WHO: after WHO steered the system clock, CLOCK_REALTIME must be
# PHC - 37 s (the PHC itself is checked against the host's TAI in clients_up).
sys_agrees() {
	d=$(phc_minus_sys)
	echo "# $1: PHC - CLOCK_REALTIME = $d ns"
	within "$1 leaves CLOCK_REALTIME = PHC - 37 s within $SYS_BOUND_NS ns" "${d:-0}" $TAI_NS $SYS_BOUND_NS
}

# clients_up: the driver with real clock data, the stable PHC name, loopback.
clients_up() {
	bring_up
	ptp=$(wait_for 5 vmclock_ptp && vmclock_ptp)
	check "a PTP clock named vmclock0 appears" [ -n "$ptp" ]
	# On a real system udev/60-vmclock.rules makes this link; a guest
	# without udevd gets it here (CLIENTS_UDEV=yes: udevd makes it).
	[ "$CLIENTS_UDEV" = yes ] && udevd_start
	[ -e $PHC ] || ln -s "${ptp#/dev/}" $PHC
	ifconfig lo 127.0.0.1 up
	mkdir -p /var/lib/chrony /run/chrony /tmp/clients
	# As on a Debian system: chronyd runs as _chrony (it opens the PHC
	# before dropping root) and owns its socket directory, which it wants
	# closed to others. chronyc >= 4.5 also drops to _chrony to bind its
	# end of the socket; without both, chronyc falls back to UDP, where
	# only monitoring commands (not "reset sources") are allowed.
	chown 100:101 /run/chrony /var/lib/chrony	# _chrony in userland.sh's /etc/passwd
	chmod 0750 /run/chrony
	check "the guest PHC agrees with the host's TAI within 1 ms" phc_agrees_with_host "$PHC"
}

# ftrace on the driver's two read paths, to see which ioctl a client uses.
trace_dir=/sys/kernel/tracing
trace_start() {
	[ -e $trace_dir/trace ] || mount -t tracefs tracefs $trace_dir 2>/dev/null
	[ -e $trace_dir/set_ftrace_filter ] || return 1
	echo 0 > $trace_dir/tracing_on
	echo 'vmclock_getcrosststamp vmclock_gettimex64' > $trace_dir/set_ftrace_filter || return 1
	echo function > $trace_dir/current_tracer
	echo > $trace_dir/trace
	echo 1 > $trace_dir/tracing_on
}
# trace_count FUNC: calls of FUNC since trace_start.
trace_count() { grep -c " $1 <-" $trace_dir/trace; }
trace_stop() {
	echo 0 > $trace_dir/tracing_on
	echo nop > $trace_dir/current_tracer
	echo > $trace_dir/set_ftrace_filter
}

# ------------------------------------------------------------------ testptp
# testptp exits 0 even when an ioctl fails: every check parses its output.
clients_testptp() {
	ref=$(phc_minus_sys)
	echo "# reference PHC - CLOCK_REALTIME (PTP_SYS_OFFSET_PRECISE via ptp-show): $ref ns"

	timeout 10 testptp -d $PHC -c > /tmp/clients/c.out 2>&1
	sed 's/^/# testptp -c: /' /tmp/clients/c.out
	check "testptp -c: capabilities show cross timestamping 1" grep -q '^ *1 cross timestamping' /tmp/clients/c.out

	t0=$(phc_now_ns)
	timeout 10 testptp -d $PHC -g > /tmp/clients/g.out 2>&1
	t1=$(phc_now_ns)
	sed 's/^/# testptp -g: /' /tmp/clients/g.out
	g=$(sed -n 's/^clock time: \([0-9]*\.[0-9]*\) .*/\1/p' /tmp/clients/g.out)
	if [ -n "$g" ] && [ "$t0" -le "$(ts_ns "$g")" ] && [ "$(ts_ns "$g")" -le "$t1" ] &&
		[ $((t1 - t0)) -lt 1000000000 ]; then
		ok "testptp -g: the PHC time lies between two PHC reads $(( (t1 - t0) / 1000 )) us apart"
	else
		notok "testptp -g: PHC time '$g' not between $t0 and $t1"
	fi

	timeout 10 testptp -d $PHC -k 3 > /tmp/clients/k.out 2>&1
	sed 's/^/# testptp -k 3: /' /tmp/clients/k.out
	n=0; bad=0
	for o in $(sed -n 's/^system\/phc clock time offset is \(-\{0,1\}[0-9]*\) ns/\1/p' /tmp/clients/k.out); do
		n=$((n + 1))
		# testptp prints system - phc; the reference is phc - system.
		[ "$(abs $((-o - ref)))" -le 1000000 ] || bad=$((bad + 1))
	done
	grep -q 'offset request okay' /tmp/clients/k.out || bad=$((bad + 100))
	check "testptp -k 3: PTP_SYS_OFFSET gives 3 samples within 1 ms of the reference" \
		[ "$n" = 3 -a "$bad" = 0 ]

	timeout 10 testptp -d $PHC -x 3 > /tmp/clients/x.out 2>&1
	sed 's/^/# testptp -x 3: /' /tmp/clients/x.out
	n=0; bad=0
	for sample in $(sed -n 's/.*system time before: \([0-9.]*\)/b\1/p; s/.*phc time: \([0-9.]*\)/p\1/p;
			s/.*system time after: \([0-9.]*\)/a\1/p' /tmp/clients/x.out); do
		v=$(ts_ns "${sample#?}")
		case $sample in
		b*) before=$v ;;
		p*) phc=$v ;;
		a*)	n=$((n + 1))
			[ "$(abs $((phc - (before + v) / 2 - ref)))" -le 1000000 ] || bad=$((bad + 1)) ;;
		esac
	done
	grep -q 'returned 3 samples' /tmp/clients/x.out || bad=$((bad + 100))
	check "testptp -x 3: PTP_SYS_OFFSET_EXTENDED gives 3 samples within 1 ms of the reference" \
		[ "$n" = 3 -a "$bad" = 0 ]

	timeout 10 testptp -d $PHC -X > /tmp/clients/xx.out 2>&1
	sed 's/^/# testptp -X: /' /tmp/clients/xx.out
	dev=$(sed -n 's/^device time: \([0-9.]*\)/\1/p' /tmp/clients/xx.out)
	sys=$(sed -n 's/^system time: \([0-9.]*\)/\1/p' /tmp/clients/xx.out)
	if grep -q 'crosstimestamping request okay' /tmp/clients/xx.out && [ -n "$dev" ] && [ -n "$sys" ]; then
		within "testptp -X: PTP_SYS_OFFSET_PRECISE device - system within 1 ms of the reference" \
			$(($(ts_ns "$dev") - $(ts_ns "$sys"))) "$ref" 1000000
	else
		notok "testptp -X: PTP_SYS_OFFSET_PRECISE failed"
	fi
}

# ------------------------------------------------------------------ phc_ctl
# linuxptp_link_check old|new: linuxptp before 4.0 (Debian 12's 3.1.1)
# takes any path starting with /dev/ptp for /dev/ptpN and parses N from the
# name itself, so it refuses /dev/ptp_vmclock ("failed to parse PHC
# index"); later versions resolve the link first. Expected either way; with
# "old" the linuxptp checks then use the /dev/ptpN the link points to.
linuxptp_link_check() {
	timeout 10 phc_ctl $PHC get > /tmp/clients/link.out 2>&1
	rc=$?
	sed 's/^/# phc_ctl (link): /' /tmp/clients/link.out
	if [ "$1" = old ]; then
		check "linuxptp $(phc2sys -v 2>&1) refuses the /dev/ptp_vmclock link (expected before 4.0)" \
			grep -q 'failed to parse PHC index' /tmp/clients/link.out
		LPTP=$(readlink -f $PHC)
		echo "# linuxptp $(phc2sys -v 2>&1): using $LPTP instead of $PHC"
	else
		check "linuxptp $(phc2sys -v 2>&1) opens the /dev/ptp_vmclock link" [ $rc = 0 ]
	fi
}

clients_phc_ctl() {
	timeout 10 phc_ctl $LPTP caps get cmp > /tmp/clients/phc_ctl.out 2>&1
	rc=$?
	sed 's/^/# phc_ctl: /' /tmp/clients/phc_ctl.out
	check "phc_ctl caps, get, cmp exit 0" [ $rc = 0 ]
	check "phc_ctl caps reports the capabilities" grep -q 'capabilities' /tmp/clients/phc_ctl.out
	check "phc_ctl get reports the clock time" grep -q 'clock time is' /tmp/clients/phc_ctl.out
	# cmp prints "offset from CLOCK_REALTIME is Nns" (PHC - system clock).
	o=$(sed -n 's/.*offset from CLOCK_REALTIME is \(-\{0,1\}[0-9]*\)ns.*/\1/p' /tmp/clients/phc_ctl.out)
	ref=$(phc_minus_sys)
	if [ -n "$o" ]; then
		# Either sign convention: compare magnitudes.
		within "phc_ctl cmp: offset from CLOCK_REALTIME within 1 ms of the reference" \
			"$(abs "$o")" "$(abs "$ref")" 1000000
	else
		notok "phc_ctl cmp printed no offset"
	fi
}

# ------------------------------------------------------------------ phc2sys
# phc2sys_stats FILE FROM: "n median max" of |offset| over the s2 lines of
# FILE whose phc2sys timestamp is >= FROM (seconds, its monotonic clock).
phc2sys_stats() {
	awk -v from="$2" '/ phc offset / && / s2 / {
		t = $1; gsub(/[^0-9.]/, "", t); if (t + 0 < from) next
		for (i = 1; i < NF; i++) if ($i == "offset") o = $(i + 1)
		if (o < 0) o = -o; v[n++] = o
	} END {
		if (!n) { print 0, 0, 0; exit }
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		print n, v[int(n / 2)], v[n - 1]
	}' "$1"
}
# phc2sys_time FILE: the timestamp of its last offset line.
phc2sys_time() {
	awk '/ phc offset / { t = $1 } END { gsub(/[^0-9.]/, "", t); print t + 0 }' "$1"
}

# migrate: a simulated live migration the clients cannot miss. The steady
# rounds would rewrite counter_value within a second and hide the jump, so
# they stop first; the page then keeps the jumped relation (PHC about
# 100 us behind) until the caller restarts them.
migrate_ticks() {
	# arm64: the counter's stated rate (CNTFRQ_EL0); x86: the TSC's.
	hz=$(rig-echo hz 2>/dev/null)
	if [ -n "$hz" ]; then
		echo $((hz / 10000))
		return
	fi
	mhz=$(dmesg | sed -n 's/.*Refined TSC clocksource calibration: \([0-9]*\)\..*/\1/p' | tail -n1)
	echo $(( ${mhz:-2600} * 100 ))	# ticks in 100 us
}
migrate() {
	echo "# migration at uptime $(cut -d" " -f1 /proc/uptime) s"
	ticks=$(migrate_ticks)
	host steady --stop >/dev/null
	check "host: disrupt --unreliable-ms 2000 --counter-jump $ticks (PHC steps back ~100 us)" \
		host disrupt --unreliable-ms 2000 --counter-jump "$ticks"
}

# clients_phc2sys survives|exits: phc2sys for 60 s (locked for the last 50 s),
# then with "survives" a migration it must ride out (linuxptp >= 4:
# EBUSY samples skipped, then locked again), with "exits" one it
# must exit on (3.1.1 exits on every read error).
clients_phc2sys() {
	expect=$1
	# Not "out": lib.sh's check() sets that global.
	p2s=/tmp/clients/phc2sys.out
	trace_start || echo "# ftrace unavailable: read path not observed"
	timeout 95 phc2sys -s $LPTP -c CLOCK_REALTIME -O "$TAI_ARG" -m > $p2s 2>&1 &
	pid=$!
	sleep 60
	start=$(awk '/ phc offset / { t = $1; gsub(/[^0-9.]/, "", t); print t; exit }' $p2s)
	set -- $(phc2sys_stats $p2s $(( ${start%.*} + 10 )))
	lines=$(awk -v from=$(( ${start%.*} + 10 )) '/ phc offset / { t = $1; gsub(/[^0-9.]/, "", t); if (t + 0 >= from) n++ } END { print n + 0 }' $p2s)
	echo "# phc2sys offsets (last 50 s, s2): n=$1 median |offset|=$2 ns max |offset|=$3 ns of $lines lines"
	sed -n '1,6p' $p2s | sed 's/^/# phc2sys: /'
	awk '/ s2 / { locked = 1; next } locked && / phc offset / { print "# phc2sys, not s2 after the lock: " $0 }' $p2s
	if [ -n "$start" ]; then
		echo "# phc2sys: first s2 line at $(awk '/ s2 / { t = $1; gsub(/[^0-9.]/, "", t); print t - '"$start"'; exit }' $p2s) s after the first sample"
	fi
	check "phc2sys reached the locked state (s2)" grep -q ' s2 ' $p2s
	check "phc2sys locked for the last 50 s: $1 of $lines lines s2, max |offset| $3 ns < $LOCK_BOUND_NS ns" \
		[ "$1" -ge 40 -a "$1" = "$lines" -a "$3" -lt $LOCK_BOUND_NS ]
	if [ -e $trace_dir/trace ]; then
		cs=$(trace_count vmclock_getcrosststamp); gx=$(trace_count vmclock_gettimex64)
		echo "# phc2sys read path (ftrace): getcrosststamp $cs calls, gettimex64 $gx calls"
		check "phc2sys reads the PHC with PTP_SYS_OFFSET_PRECISE" [ "$cs" -gt 40 ]
	fi
	trace_stop
	sys_agrees phc2sys

	before="median $2 ns max $3 ns"
	mig=$(phc2sys_time $p2s)
	migrate
	sleep 25
	if [ "$expect" = exits ]; then
		if kill -0 $pid 2>/dev/null; then
			notok "phc2sys $(phc2sys -v 2>&1) exits on the EBUSY of the unreliable window (expected of 3.1.1)"
			kill $pid
		else
			wait $pid; rc=$?
			ok "phc2sys $(phc2sys -v 2>&1) exits on the EBUSY of the unreliable window (expected of 3.1.1; exit $rc)"
		fi
		echo "# phc2sys 3.1.1 behaviour, expected: it exits on the first failed PHC read; a service manager must restart it"
		grep -v ' phc offset ' $p2s | tail -n 3 | sed 's/^/# phc2sys: /'
	else
		alive=no; kill -0 $pid 2>/dev/null && alive=yes
		check "phc2sys kept running through the migration" [ $alive = yes ]
		set -- $(phc2sys_stats $p2s $(awk -v m="$mig" 'BEGIN { print m + 12 }'))
		after_n=$1 after_med=$2 after_max=$3
		worst=$(awk -v m="$mig" '/ phc offset / { t = $1; gsub(/[^0-9.]/, "", t); if (t + 0 <= m) next
			o = $0; sub(/.* offset */, "", o); o = o + 0; if (o < 0) o = -o; if (o > w) w = o } END { print w + 0 }' $p2s)
		gap=$(awk -v m="$mig" '/ phc offset / { t = $1; gsub(/[^0-9.]/, "", t); if (t + 0 > m) { print t - m; exit } }' $p2s)
		echo "# phc2sys before migration: $before; first sample after it $gap s later; worst |offset| after: $worst ns"
		echo "# phc2sys after migration (from 12 s on): n=$after_n median |offset|=$after_med ns max |offset|=$after_max ns"
		grep -iE 'busy|fail|error|jump' $p2s | head -n 5 | sed 's/^/# phc2sys: /'
		check "phc2sys skipped samples in the unreliable window (>= 1 s without one)" \
			awk -v g="${gap:-0}" 'BEGIN { exit !(g >= 1) }'
		check "phc2sys saw the ~100 us step (worst |offset| after it > 50 us)" [ "$worst" -gt 50000 ]
		check "phc2sys locked again within 12 s: $after_n s2 lines, max |offset| $after_max ns < $LOCK_BOUND_NS ns" \
			[ "$after_n" -ge 8 -a "$after_max" -lt $LOCK_BOUND_NS ]
		kill $pid 2>/dev/null
	fi
	wait $pid 2>/dev/null
	host steady >/dev/null
}

# ------------------------------------------------------------------ chrony
chrony_conf() {	# PATH [DEVICE-SUFFIX]
	cat > /tmp/clients/chrony.conf <<-EOF
	# The driver guide's line; no other source.
	refclock PHC $1 poll 0 offset $TAI_ARG refid VMCK
	makestep 1 -1
	EOF
}
chrony_selected() { chronyc -n sources 2>/dev/null | grep -q '^#\* *VMCK'; }
chrony_dump() {
	for c in sources sourcestats tracking; do
		timeout 5 chronyc -n $c 2>&1 | sed "s/^/# chronyc $c: /"
	done
}
# chrony_offsets: "Last offset" and "RMS offset" of chronyc tracking.
chrony_offsets() {
	timeout 5 chronyc -n tracking | awk -F': *' '/^(System time|Last offset|RMS offset)/ { printf "%s=%s; ", $1, $2 }'
}

# chrony_start [DEVICE-SUFFIX]: chronyd in the foreground, bounded.
chrony_start() {
	chrony_conf "$PHC$1"
	rm -f /tmp/clients/chronyd.out
	timeout "${2:-120}" chronyd -d -u _chrony -f /tmp/clients/chrony.conf > /tmp/clients/chronyd.out 2>&1 &
	chrony_pid=$!
}
chrony_stop() {
	kill $chrony_pid 2>/dev/null
	wait $chrony_pid 2>/dev/null
}

clients_chrony() {
	trace_start || echo "# ftrace unavailable: read path not observed"
	chrony_start "" 150
	t=0
	while [ $t -lt 60 ] && ! chrony_selected; do sleep 1; t=$((t + 1)); done
	check "chronyd selects VMCK (#*) within 60 s (took $t s)" chrony_selected
	sleep 15
	chrony_dump
	check "chronyc tracking: reference VMCK" sh -c 'chronyc -n tracking | grep -q "^Reference ID.*(VMCK)"'
	echo "# chrony offsets, locked: $(chrony_offsets)"
	cs=$(trace_count vmclock_getcrosststamp); gx=$(trace_count vmclock_gettimex64)
	echo "# chronyd read path (ftrace): getcrosststamp $cs calls, gettimex64 $gx calls"
	check "chronyd latched PTP_SYS_OFFSET_PRECISE (getcrosststamp only)" [ "${cs:-0}" -gt 10 -a "${gx:-1}" = 0 ]
	last=$(timeout 5 chronyc -n tracking | sed -n 's/^Last offset *: *\([-+0-9.]*\) seconds/\1/p')
	check "chrony last offset below 10 us ($last s)" awk -v o="${last:-1}" 'BEGIN { if (o < 0) o = -o; exit !(o < 0.00001) }'
	sys_agrees chronyd

	migrate
	t=0
	# The unreliable window first, then a re-selection.
	sleep 3
	while [ $t -lt 30 ] && ! chrony_selected; do sleep 1; t=$((t + 1)); done
	sleep 5
	alive=no; kill -0 $chrony_pid 2>/dev/null && alive=yes
	check "chronyd kept running through the migration" [ $alive = yes ]
	check "chronyd selects VMCK (#*) again after the migration (within $((t + 3)) s)" chrony_selected
	chrony_dump
	[ "$CLIENTS_UDEV" = yes ] && udev_chrony_fired
	echo "# chrony offsets after migration: $(chrony_offsets)"
	grep -iE 'PHC|fail|could not|jump|step|wrong|disabled' /tmp/clients/chronyd.out | head -n 8 | sed 's/^/# chronyd: /'
	chrony_stop
	host steady >/dev/null
	trace_stop

	# The same line with :nocrossts must move chrony to EXTENDED: shows the
	# trace above tells the two paths apart.
	if trace_start; then
		chrony_start ":nocrossts" 20
		sleep 8
		chrony_stop
		cs=$(trace_count vmclock_getcrosststamp); gx=$(trace_count vmclock_gettimex64)
		echo "# chronyd :nocrossts read path (ftrace): getcrosststamp $cs calls, gettimex64 $gx calls"
		check "chronyd with :nocrossts uses PTP_SYS_OFFSET_EXTENDED instead" [ "${cs:-1}" = 0 -a "${gx:-0}" -gt 3 ]
		trace_stop
	fi
}

# ------------------------------------------------------------------ udev
# udevd_start: systemd-udevd (from the sid userland) with the project's
# rules (userland.sh copies udev/*.rules into /etc/udev/rules.d), logging
# at debug level so the RUN+= programs it starts can be seen; then the PTP
# clock's "add" event replayed, for 60-vmclock.rules' /dev/ptp_vmclock.
udevd_start() {
	mkdir -p /run/udev /tmp/clients
	timeout 900 /usr/lib/systemd/systemd-udevd --debug --resolve-names=never \
		> /tmp/clients/udevd.log 2>&1 &
	udevd_pid=$!
	check "systemd-udevd starts" wait_for 10 udevadm control --ping
	udevadm trigger --action=add --subsystem-match=ptp --subsystem-match=misc
	udevadm settle --timeout=20
	check "udevd made /dev/ptp_vmclock (60-vmclock.rules)" [ -L /dev/ptp_vmclock ]
	ls -l /dev/ptp_vmclock /dev/vmclock0 2>&1 | sed 's/^/# /'
	check "udevd made /dev/vmclock0 mode 0644 (60-vmclock.rules)" \
		sh -c 'ls -l /dev/vmclock0 | grep -q "^crw-r--r--"'
}
# udev_chrony_fired: after a disruption while chronyd ran, 61-vmclock-chrony
# .rules must have had udevd run both chronyc commands successfully.
udev_chrony_fired() {
	udevadm settle --timeout=20
	grep -E "ACTION=change|chronyc|61-vmclock" /tmp/clients/udevd.log | tail -n 20 | sed 's/^/# udevd: /'
	check "udevd ran '/usr/bin/chronyc reset sources' on the disruption uevent" \
		grep -qE "/usr/bin/chronyc reset sources.*succeeded" /tmp/clients/udevd.log
	# burst applies to NTP sources only: with VMCK alone chronyd answers
	# "503 No such source" (exit 1, which udevd logs and ignores).
	check "udevd ran '/usr/bin/chronyc burst 4/4' and chronyd answered it (200 OK or, with no NTP source, 503)" \
		grep -qE "/usr/bin/chronyc burst 4/4'\(out\) '(200 OK|503 No such source)'" /tmp/clients/udevd.log
}
udevd_stop() { kill $udevd_pid 2>/dev/null; wait $udevd_pid 2>/dev/null; }

# ------------------------------------------------------------------ the kernel's ptp selftest
# ptp_selftest NAME ARGS OUT: one run of the installed kselftest tree's ptp
# target (tools/testing/selftests/ptp) through its runner, with ARGS given
# the runner's way (KSELFTEST_<NAME>_ARGS); its output in OUT.
ptp_selftest() {
	var=KSELFTEST_$(echo "$1" | tr a-z. A-Z_)_ARGS
	# Appending: the runner reopens /dev/stdout for the test's own output.
	: > "$3"
	env "$var=$2" "$KSELFTEST/run_kselftest.sh" -t "ptp:$1" >> "$3" 2>&1
	sed "s/^/# $1: /" "$3"
}

# kernel_ptp_selftest: the kernel's own PTP selftest against vmclock0.
# testptp's reading paths (capabilities, time, the three offset ioctls)
# apply and must pass; setting, shifting and steering the clock cannot
# apply to a clock the hypervisor owns: testptp -s/-t/-f and phc.sh's three
# tests (settime, adjtime, adjfreq) must fail, each for the documented
# reason, not another: setting and stepping the clock are refused with
# EOPNOTSUPP; a frequency change with ERANGE, as the PTP core refuses any
# offset beyond the clock's max_adj of 0 before asking the driver.
# Documentation/kernel-developers.md lists the outcome.
kernel_ptp_selftest() {
	dev=$(readlink -f $PHC)
	ptp_selftest testptp "-d $dev -c -g -k 3 -x 3 -X" /tmp/clients/kt-read.out
	check "kselftest ptp:testptp reading vmclock0: the runner reports ok" \
		grep -q '^ok 1 selftests: ptp: testptp$' /tmp/clients/kt-read.out
	for what in "system and phc clock time offset request okay" \
		"extended timestamp request returned 3 samples" \
		"system and phc crosstimestamping request okay" "clock time: "; do
		check "kselftest ptp:testptp: '$what'" grep -q "$what" /tmp/clients/kt-read.out
	done
	check "kselftest ptp:testptp reading vmclock0: no call failed" \
		not grep -qE 'PTP_|Operation|failed' /tmp/clients/kt-read.out
	for op in "-s:clock_settime: Operation not supported" \
		"-t 1:clock_adjtime: Operation not supported" \
		"-f 1:clock_adjtime: Numerical result out of range"; do
		ptp_selftest testptp "-d $dev ${op%%:*}" /tmp/clients/kt-set.out
		check "kselftest ptp:testptp ${op%%:*} on vmclock0 refused: ${op#*:}" \
			grep -q "${op#*:}" /tmp/clients/kt-set.out
	done
	ln -sf /usr/bin/bash /bin/bash
	ptp_selftest phc.sh "$dev" /tmp/clients/kt-phc.out
	for t in settime adjtime adjfreq; do
		check "kselftest ptp:phc.sh $t on vmclock0: FAIL (a read-only clock)" \
			grep -qE "^# TEST: $t +\[FAIL\]" /tmp/clients/kt-phc.out
	done
	check "kselftest ptp:phc.sh: the runner reports not ok (exit 1)" \
		grep -q '^not ok 1 selftests: ptp: phc.sh # exit=1$' /tmp/clients/kt-phc.out
	for op in "set 0:Operation not supported" "adj 10:Operation not supported" \
		"freq 100:Numerical result out of range"; do
		# shellcheck disable=SC2086
		timeout 10 phc_ctl "$dev" ${op%%:*} > /tmp/clients/phc-refused.out 2>&1
		sed "s/^/# phc_ctl ${op%%:*}: /" /tmp/clients/phc-refused.out
		check "phc.sh's phc_ctl ${op%%:*} on vmclock0 refused: ${op#*:}" \
			grep -q "${op#*:}" /tmp/clients/phc-refused.out
	done
}
