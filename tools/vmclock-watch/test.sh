#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of vmclock-watch in --file mode: a VMClock page in a plain
# temporary file, written by tools/vmclock-host (built if missing), read by
# vmclock-watch every 100 ms through the same code as on /dev/vmclockN
# (mmap + the core's seq reader, or pread only with --no-mmap). The poll()
# path itself needs the driver and is exercised in the guest.
# TAP output, ends with "N passed, N failed"; exit status 1 on any failure.
#
# VMCLOCK_WATCH and VMCLOCK_HOST name the binaries. EXPECT_MARKER_BREAK=1
# expects a wrong marker in one test, to see the suite fail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
VW=${VMCLOCK_WATCH:-$here/vmclock-watch}
VH=${VMCLOCK_HOST:-$top/tools/vmclock-host/build/vmclock-host}

if [ ! -x "$VW" ]; then
	make -C "$here" >&2 || { echo "Bail out! cannot build vmclock-watch"; exit 1; }
fi
if [ ! -x "$VH" ]; then
	make -C "$top/tools/vmclock-host" >&2 ||
		{ echo "Bail out! cannot build vmclock-host"; exit 1; }
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

F=$tmp/page
n=0 passed=0 failed=0
why=
ok() {	# ok DESC -- result of the last test command ($?)
	local rc=$? desc=$1
	n=$((n + 1))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1)); echo "ok $n - $desc"
	else
		failed=$((failed + 1)); echo "not ok $n - $desc"
		[ -n "$why" ] && echo "# $why"
	fi
	why=
}
vh() { "$VH" --file "$F" --offset 0 "$@" >/dev/null; }
new_page() { rm -f "$F"; truncate -s 4096 "$F"; vh init "$@"; }

# start WATCH-ARGS...: vmclock-watch --file $F in the background; output in
# $tmp/out, $tmp/err, exit status in $tmp/rc. Returns once the start line is
# out (so later page changes are seen as changes), or after 5 s.
start() {
	local i
	rm -f "$tmp/out" "$tmp/err" "$tmp/rc"
	: >"$tmp/out"
	( "$VW" --file "$F" "$@" >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc" ) &
	pids+=($!)
	for i in $(seq 50); do
		[ -s "$tmp/out" ] || [ -e "$tmp/rc" ] && return 0
		sleep 0.1
	done
}
# finish: wait up to 15 s for the watcher; echo its exit status
finish() {
	local i
	for i in $(seq 150); do
		[ -e "$tmp/rc" ] && { cat "$tmp/rc"; return; }
		sleep 0.1
	done
	echo none
}
is() {	# is DESC ACTUAL EXPECTED
	why="got '$2', want '$3'"
	[ "$2" = "$3" ]; ok "$1"
}
# line N of the output without the (run-dependent) woke_at value
line() { sed -n "${1}p" "$tmp/out" | sed 's/ woke_at=[0-9]*$/ woke_at=T/'; }

# --- arguments and errors (no page needed) ---
"$VW" -n 0 >/dev/null 2>&1; is "bad -n exits 2" $? 2
"$VW" -t abc >/dev/null 2>&1; is "bad -t exits 2" $? 2
"$VW" -d /dev/null --file "$F" >/dev/null 2>&1; is "-d with --file exits 2" $? 2
"$VW" --bogus >/dev/null 2>&1; is "unknown option exits 2" $? 2
"$VW" -d "$tmp/no-such-vmclock" >/dev/null 2>"$tmp/err"; rc=$?
why="exit $rc, stderr: $(head -c 200 "$tmp/err")"
[ $rc -eq 3 ] && grep -q "cannot open $tmp/no-such-vmclock: No such file" "$tmp/err"
ok "absent device: exit 3 with a clear message"
printf 'not a page at all, just text, long enough for a header\n' >"$tmp/junk"
"$VW" --file "$tmp/junk" >/dev/null 2>"$tmp/err"; rc=$?
why="exit $rc, stderr: $(head -c 200 "$tmp/err")"
[ $rc -eq 3 ] && grep -q "bad magic" "$tmp/err"; ok "not a VMClock page: exit 3, bad magic"

# --- generation counter present: the Firecracker shape ---
new_page --gen-counter
start -n 1 -t 10
is "start line with generation counter" "$(line 1)" \
	"page seq=2 disruption_marker=1 vm_generation_counter=0 clock_status=UNKNOWN"
vh set clock_status=synchronized	# ordinary update: no output
sleep 0.3
vh disrupt --generation --marker-only	# one transaction: a fixed seq
is "exit 0 after one disruption" "$(finish)" 0
want_marker=2
[ -n "${EXPECT_MARKER_BREAK:-}" ] && want_marker=3
is "disruption line (marker and generation)" "$(line 2)" \
	"disruption seq=6 disruption_marker=1->$want_marker vm_generation_counter=0->1 woke_at=T"
is "ordinary update printed nothing" "$(wc -l <"$tmp/out")" 2
grep -q '^disruption .* woke_at=[1-9][0-9]*$' "$tmp/out"; ok "woke_at is a CLOCK_MONOTONIC ns value"

# --- QEMU's shape: marker only, no generation counter; pread path ---
for mode in mmap pread; do
	extra=()
	[ $mode = pread ] && extra=(--no-mmap)
	new_page
	start -n 1 -t 10 "${extra[@]}"
	is "$mode: start line, generation absent" "$(line 1)" \
		"page seq=2 disruption_marker=1 vm_generation_counter=absent clock_status=UNKNOWN"
	vh disrupt --marker-only
	is "$mode: exit 0 after one disruption" "$(finish)" 0
	is "$mode: marker-only disruption line" "$(line 2)" \
		"disruption seq=4 disruption_marker=1->2 vm_generation_counter=absent->absent woke_at=T"
done

# --- a generation change alone is a disruption too ---
new_page --gen-counter
start -n 1 -t 10
vh set vm_generation_counter=5
is "generation-only change: exit 0" "$(finish)" 0
is "generation-only disruption line" "$(line 2)" \
	"disruption seq=4 disruption_marker=1->1 vm_generation_counter=0->5 woke_at=T"

# --- -v, timeout, -n 2 ---
new_page
start -v -t 1.5
vh set clock_status=synchronized
is "no disruption within -t: exit 1" "$(finish)" 1
is "-v prints the ordinary update" "$(line 2)" "update seq=4 clock_status=SYNCHRONIZED woke_at=T"
grep -q "timeout after 1.5 s (0 disruptions seen)" "$tmp/err"; ok "timeout message on stderr"

new_page
start -n 2 -t 10
vh disrupt --marker-only
sleep 0.5	# two separate looks (a look every 100 ms)
vh disrupt --marker-only
is "-n 2: exit 0 after the second disruption" "$(finish)" 0
is "-n 2: second disruption line" "$(line 3)" \
	"disruption seq=6 disruption_marker=2->3 vm_generation_counter=absent->absent woke_at=T"

new_page
start -q -n 1 -t 10
vh disrupt --marker-only
is "-q: exit 0 after the disruption" "$(finish)" 0
is "-q: nothing on stdout" "$(wc -c <"$tmp/out")" 0

# --- a writer that never finishes (seq_count stays odd) ---
new_page
start -n 1 -t 10
vh set seq_count=3	# raw write: "being written" forever
rc=$(finish)
why="exit $rc, stderr: $(head -c 200 "$tmp/err")"
[ "$rc" = 3 ] && grep -q "no consistent copy" "$tmp/err"
ok "seq_count stuck odd: exit 3, no consistent copy"

echo "1..$n"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
