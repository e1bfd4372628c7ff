#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Host-side tests of the vmclock command with --file: a VMClock page in a
# plain temporary file written by tools/vmclock-host (built if missing).
# info/now/check (text and --json) against the fields written; watch:
# marker and generation changes, -n, -t, -q, --exec and its environment, a
# writer stuck with an odd seq_count; bad arguments and errors.
# (The poll() path needs the driver: the QEMU rig exercises it.)
# TAP output, ends with "N passed, N failed"; exit status 1 on any failure.
#
# VMCLOCK and VMCLOCK_HOST name the binaries. EXPECT_BREAK=1 expects a
# wrong marker in one test, to see the suite fail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
VC=${VMCLOCK:-$here/build/vmclock}
VH=${VMCLOCK_HOST:-$top/tools/vmclock-host/build/vmclock-host}

if [ ! -x "$VC" ]; then
	make -C "$here" >&2 || { echo "Bail out! cannot build vmclock"; exit 1; }
fi
if [ ! -x "$VH" ]; then
	make -C "$top/tools/vmclock-host" >&2 ||
		{ echo "Bail out! cannot build vmclock-host"; exit 1; }
fi

# shellcheck source=../../tests/scratch.sh
. "$here/../../tests/scratch.sh"

F=$tmp/page
# shellcheck source=../../tests/tap.sh
. "$here/../../tests/tap.sh"
vh() { "$VH" --file "$F" --offset 0 "$@" >/dev/null; }
new_page() { rm -f "$F"; truncate -s 4096 "$F"; vh init "$@"; }
vc() { "$VC" --file "$F" "$@"; }
# json FILE EXPR: a Python expression over the JSON object j of FILE's first line
json() { python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).readline()); print(eval(sys.argv[2]))' "$1" "$2" 2>&1; }

# start ARGS...: vmclock --file $F watch ARGS in the background; output in
# $tmp/out, $tmp/err, exit status in $tmp/rc. Returns once the start line is
# out (so later page changes are seen as changes), or after 5 s.
start() {
	local i
	rm -f "$tmp/out" "$tmp/err" "$tmp/rc"
	: >"$tmp/out"
	( "$VC" --file "$F" watch "$@" >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc" ) &
	pids+=($!)
	for i in $(seq 50); do
		[ -s "$tmp/out" ] || [ -e "$tmp/rc" ] && return 0
		sleep 0.1
	done
}
finish() {	# wait up to 15 s for the watcher; echo its exit status
	local i
	for i in $(seq 150); do
		[ -e "$tmp/rc" ] && { cat "$tmp/rc"; return; }
		sleep 0.1
	done
	echo none
}
# line N of the output without the (run-dependent) woke_at value
line() { sed -n "${1}p" "$tmp/out" | sed 's/ woke_at=[0-9]*$/ woke_at=T/'; }

echo "TAP version 13"

# --- arguments and errors (no page needed) ---
"$VC" >/dev/null 2>&1; is "no command exits 2" $? 2
"$VC" bogus >/dev/null 2>&1; is "unknown command exits 2" $? 2
"$VC" watch -n 0 >/dev/null 2>&1; is "watch -n 0 exits 2" $? 2
"$VC" watch -t abc >/dev/null 2>&1; is "watch -t abc exits 2" $? 2
"$VC" info -n 1 >/dev/null 2>&1; is "-n outside watch exits 2" $? 2
"$VC" now --max-error-ns 5 >/dev/null 2>&1; is "--max-error-ns outside check exits 2" $? 2
"$VC" -d /dev/null --file "$F" info >/dev/null 2>&1; is "-d with --file exits 2" $? 2
"$VC" --bogus info >/dev/null 2>&1; is "unknown option exits 2" $? 2
"$VC" info extra >/dev/null 2>&1; is "extra argument exits 2" $? 2
"$VC" --help | grep -q '^usage: vmclock'; ok "--help prints the usage"
"$VC" -d "$tmp/no-such-vmclock" info >/dev/null 2>"$tmp/err"; rc=$?
why="exit $rc, stderr: $(head -c 300 "$tmp/err")"
[ $rc -eq 3 ] && grep -q "no-such-vmclock: no VMClock device (is the ptp_vmclock module loaded" "$tmp/err"
ok "absent device: exit 3 with a clear message"
printf 'not a page at all, just text, long enough for a header\n' >"$tmp/junk"
"$VC" --file "$tmp/junk" info >/dev/null 2>"$tmp/err"; rc=$?
why="exit $rc, stderr: $(head -c 200 "$tmp/err")"
[ $rc -eq 3 ] && grep -q "bad magic" "$tmp/err"; ok "not a VMClock page: exit 3, bad magic"
new_page --version 2
vc info >/dev/null 2>"$tmp/err"; rc=$?
why="exit $rc, stderr: $(head -c 200 "$tmp/err")"
[ $rc -eq 3 ] && grep -q "version" "$tmp/err"; ok "version 2: exit 3, unsupported version"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	new_page
	chmod 600 "$F"; chmod 755 "$tmp"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$VC" --file "$F" info >/dev/null 2>"$tmp/err"; rc=$?
	why="exit $rc, stderr: $(head -c 300 "$tmp/err")"
	[ $rc -eq 3 ] && grep -q "60-vmclock.rules" "$tmp/err"; ok "unreadable device: exit 3, hint at the udev rule"
	chmod 644 "$F"
fi

# --- info: QEMU's shape (no clock data) ---
new_page
vc info >"$tmp/info"; rc=$?
why="$(cat "$tmp/info")"
[ $rc = 0 ] && grep -q '^clock data: *none' "$tmp/info" && grep -q '^VM generation: *absent' "$tmp/info" &&
	grep -q '^disruption marker: *1 (seq_count 2)' "$tmp/info" &&
	grep -q 'looking at the page every 100 ms' "$tmp/info"
ok "info (text): no clock data, generation absent, marker 1, periodic waiting"
vc --json info >"$tmp/j"
is "info --json: marker, seq, counter, generation, ptp" \
	"$(json "$tmp/j" '(j["disruption_marker"], j["seq_count"], j["counter"], j["vm_generation_counter"], j["ptp"], j["wait"])')" \
	"(1, 2, 'none', None, None, 'periodic')"

# --- info: every field of a page with clock data ---
new_page --gen-counter --notify
vh clock --counter-offset 0 --time-type utc --tai-offset 37 --maxerror-ns 250000 --esterror-ns 3000
vh set vm_generation_counter=7 leap_indicator=pre-pos leap_second_smearing_hint=utc-sls flags+=soon
vc info --json >"$tmp/j"
want=$("$VH" --file "$F" --offset 0 dump | python3 -c '
import sys
d = dict(l.strip().split("=", 1) for l in sys.stdin)
print((int(d["size"], 16), int(d["version"]), int(d["seq_count"]), int(d["disruption_marker"]),
       int(d["flags"], 16), int(d["tai_offset_sec"]), int(d["counter_value"]),
       int(d["counter_period_frac_sec"]), int(d["counter_period_shift"]), int(d["time_sec"]),
       int(d["time_frac_sec"]), int(d["vm_generation_counter"]), int(d["leap_indicator"]),
       int(d["leap_second_smearing_hint"])))')
got=$(json "$tmp/j" '(j["size"], j["version"], j["seq_count"], j["disruption_marker"], j["flags"], j["tai_offset_sec"], j["counter_value"], j["counter_period_frac_sec"], j["counter_period_shift"], j["time_sec"], j["time_frac_sec"], j["vm_generation_counter"], j["leap_indicator"], j["leap_second_smearing_hint"])')
is "info --json shows the page's fields as vmclock-host dump reads them" "$got" "$want"
is "info --json: decoded names" \
	"$(json "$tmp/j" '(j["counter"], j["time_type"], j["clock_status"], j["notifications"], j["tai_offset_valid"], j["time_maxerror_ns"], j["time_esterror_ns"], j["period_maxerror_ppb"], "DISRUPTION_SOON" in j["flag_names"])')" \
	"('x86-tsc', 'UTC', 'SYNCHRONIZED', True, True, 250000, 3000, 50000.0, True)"
hz=$(json "$tmp/j" 'j["counter_hz"]')
cpu_mhz=$(awk -F: '/^cpu MHz/ {print int($2); exit}' /proc/cpuinfo)
why="counter_hz $hz, cpu MHz $cpu_mhz"
[ -n "$hz" ] && [ "${hz%.*}" -gt 100000000 ]; ok "info: a plausible counter frequency ($hz Hz)"
vc info >"$tmp/info"
grep -q '^TAI offset: *37 s (magnitude used: TAI = UTC + 37 s)' "$tmp/info" &&
	grep -q '^VM generation: *7' "$tmp/info" && grep -q '^changes: *the hypervisor notifies' "$tmp/info"
ok "info (text): TAI offset, generation, notifications"

# --- now ---
vc now --json >"$tmp/j"; rc=$?
sys=$(date +%s)
r=$(json "$tmp/j" '(j["status"], j["realtime"]["source"], j["realtime"]["bounded"], j["tai"]["source"], round(float(j["tai"]["earliest"]) - float(j["realtime"]["earliest"])), j["vm_generation_counter"])')
is "now --json: synchronized page time, TAI = UTC + 37 s, generation 7" "$rc $r" \
	"0 ('SYNCHRONIZED', 'page', True, 'page', 37, 7)"
d=$(json "$tmp/j" "abs(float(j['realtime']['earliest']) - $sys) < 3")
is "now: the page's UTC is the host's time" "$d" True
mx=$(json "$tmp/j" 'j["realtime"]["maxerror_ns"]')
why="maxerror_ns $mx"
[ "$mx" -ge 250000 ] && [ "$mx" -lt 400000 ]; ok "now: maxerror = page's 250 us + period error ($mx ns)"
vc now | grep -q '^status  *SYNCHRONIZED$'; ok "now (text): status line"

# --- check ---
vc check >/dev/null; is "check: synchronized page with bounds exits 0" $? 0
vc check --max-error-ns 1000 >/dev/null; is "check --max-error-ns 1000 (bound 250 us) exits 1" $? 1
vc check --max-error-ns 10000000 >/dev/null; is "check --max-error-ns 10 ms exits 0" $? 0
vh set clock_status=unreliable
vc check --json >"$tmp/j"; rc=$?
is "check: unreliable exits 1 with the reason" "$rc $(json "$tmp/j" '(j["usable"], j["reason"])')" \
	"1 (False, 'the clock is not synchronized')"
vh set clock_status=freerunning
vc check -q; is "check: free running (bounds still hold) exits 0" $? 0
vh set flags-=time_maxerror_valid
vc check >/dev/null; is "check: no maximum error exits 1" $? 1
new_page
vc check >"$tmp/out"; rc=$?
is "check: no clock data exits 1" "$rc $(cat "$tmp/out")" \
	"1 not usable: no clock data for this CPU's counter in the page, status UNKNOWN, maxerror -1 ns"
vc now --json >"$tmp/j"
is "now without clock data: system time, no bound, no TAI" \
	"$(json "$tmp/j" '(j["realtime"]["source"], j["realtime"]["bounded"], j["tai"]["source"], j["tai"]["earliest"])')" \
	"('system', False, 'none', None)"

# --- watch: generation counter present (the Firecracker shape) ---
new_page --gen-counter
start -n 1 -t 10
is "watch: start line with generation counter" "$(line 1)" \
	"page seq=2 disruption_marker=1 vm_generation_counter=0 clock_status=UNKNOWN wait=periodic"
vh set clock_status=synchronized	# ordinary update: no output
sleep 0.3
vh disrupt --generation --marker-only	# one transaction: a fixed seq
is "watch: exit 0 after one disruption" "$(finish)" 0
want_marker=2
[ -n "${EXPECT_BREAK:-}" ] && want_marker=3
is "watch: disruption line (marker and generation)" "$(line 2)" \
	"disruption seq=6 disruption_marker=1->$want_marker vm_generation_counter=0->1 clock_status=SYNCHRONIZED woke_at=T"
is "watch: an ordinary update printed nothing" "$(wc -l <"$tmp/out")" 2
grep -q '^disruption .* woke_at=[1-9][0-9]*$' "$tmp/out"; ok "watch: woke_at is a CLOCK_MONOTONIC ns value"

# --- QEMU's shape: marker only, no generation counter ---
new_page
start -n 1 -t 10
is "watch: start line, generation absent" "$(line 1)" \
	"page seq=2 disruption_marker=1 vm_generation_counter=absent clock_status=UNKNOWN wait=periodic"
vh disrupt --marker-only
is "watch: exit 0 after a marker-only disruption" "$(finish)" 0
is "watch: marker-only disruption line" "$(line 2)" \
	"disruption seq=4 disruption_marker=1->2 vm_generation_counter=absent->absent clock_status=UNKNOWN woke_at=T"

# --- a generation change alone is a disruption too ---
new_page --gen-counter
start -n 1 -t 10
vh set vm_generation_counter=5
is "watch: generation-only change: exit 0" "$(finish)" 0
is "watch: generation-only disruption line" "$(line 2)" \
	"disruption seq=4 disruption_marker=1->1 vm_generation_counter=0->5 clock_status=UNKNOWN woke_at=T"

# --- timeout, -n 2, -q, --json ---
new_page
start -t 1.5
vh set clock_status=synchronized
is "watch: no disruption within -t: exit 1" "$(finish)" 1
grep -q "timeout after 1.5 s (0 disruptions seen)" "$tmp/err"; ok "watch: timeout message on stderr"

new_page
start -n 2 -t 10
vh disrupt --marker-only
sleep 0.5	# two separate looks (a look every 100 ms)
vh disrupt --marker-only
is "watch -n 2: exit 0 after the second disruption" "$(finish)" 0
is "watch -n 2: second disruption line" "$(line 3)" \
	"disruption seq=6 disruption_marker=2->3 vm_generation_counter=absent->absent clock_status=UNKNOWN woke_at=T"

new_page
start -q -n 1 -t 10
vh disrupt --marker-only
is "watch -q: exit 0 after the disruption" "$(finish)" 0
is "watch -q: nothing on stdout" "$(wc -c <"$tmp/out")" 0

new_page --gen-counter
start --json -n 1 -t 10
vh disrupt --generation --marker-only
is "watch --json: exit 0" "$(finish)" 0
sed -n 2p "$tmp/out" >"$tmp/j2"
is "watch --json: start and disruption objects" \
	"$(json "$tmp/out" '(j["event"], j["disruption_marker"], j["wait"])') $(json "$tmp/j2" '(j["event"], j["previous_disruption_marker"], j["disruption_marker"], j["previous_vm_generation_counter"], j["vm_generation_counter"], j["woke_at"] > 0)')" \
	"('start', 1, 'periodic') ('disruption', 1, 2, 0, 1, True)"

# --- --exec: the hook runs with the event in its environment ---
new_page --gen-counter
hook='echo "$VMCLOCK_EVENT $VMCLOCK_DEVICE $VMCLOCK_DISRUPTION_MARKER_PREVIOUS->$VMCLOCK_DISRUPTION_MARKER $VMCLOCK_VM_GENERATION_COUNTER_PREVIOUS->$VMCLOCK_VM_GENERATION_COUNTER $VMCLOCK_CLOCK_STATUS $VMCLOCK_SEQ" >>'"$tmp/hook"
rm -f "$tmp/hook"
start -n 2 -t 10 --exec "$hook"
vh disrupt --generation --marker-only
sleep 0.5
vh disrupt --marker-only
is "watch --exec: exit 0 after two disruptions" "$(finish)" 0
is "watch --exec: the hook ran once per disruption with the new values" "$(cat "$tmp/hook" 2>&1)" \
	"disruption $F 1->2 0->1 UNKNOWN 4
disruption $F 2->3 1->1 UNKNOWN 6"
new_page
start -n 1 -t 10 --exec 'exit 7'
vh disrupt --marker-only
is "watch --exec: a failing hook does not stop the watch" "$(finish)" 0
grep -q "exited with status 7" "$tmp/err"; ok "watch --exec: the hook's failure is reported on stderr"

# --- a writer that never finishes (seq_count stays odd) ---
new_page
start -n 1 -t 10
vh set seq_count=3	# raw write: "being written" forever
rc=$(finish)
why="exit $rc, stderr: $(head -c 300 "$tmp/err")"
[ "$rc" = 3 ] && grep -q "no consistent copy" "$tmp/err"
ok "watch: seq_count stuck odd: exit 3, no consistent copy"
vc now >/dev/null 2>"$tmp/err"; rc=$?
why="exit $rc, stderr: $(head -c 300 "$tmp/err")"
[ "$rc" = 3 ] && grep -q "writer stuck" "$tmp/err"; ok "now: seq_count stuck odd: exit 3"

echo "1..$n"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
