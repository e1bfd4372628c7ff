#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the rig's guest helpers (TAP). The mailbox is a plain
# 4 KiB file (RIG_MAILBOX_DEV) answered by fake-host; the uevent check
# triggers a harmless "change" on /dev/null when /sys allows it.
#   ./test.sh            build and run
#   RIG_TEST_BREAK=1 ./test.sh   run against a deliberately broken
#                                responder: the reply checks must fail
set -u
cd "$(dirname "$0")" || exit 1

make -s all fake-host >build.log 2>&1
build_rc=$?

TMP=$(mktemp -d)
RESPONDER=
cleanup() {
	[ -n "$RESPONDER" ] && kill "$RESPONDER" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

n=0 pass=0 fail=0
ok() {	# description
	n=$((n + 1)) pass=$((pass + 1))
	echo "ok $n - $1"
}
not_ok() {	# description detail
	n=$((n + 1)) fail=$((fail + 1))
	echo "not ok $n - $1"
	printf '%s\n' "$2" | sed 's/^/#   /'
}
skip() {	# description reason
	n=$((n + 1)) pass=$((pass + 1))
	echo "ok $n - $1 # SKIP $2"
}
# check DESC WANT_RC WANT_OUT_SUBSTRING CMD...: runs CMD, compares exit
# status and (if non-empty) looks for the substring in stdout+stderr.
check() {
	desc=$1 want_rc=$2 want=$3
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$want_rc" ]; then
		not_ok "$desc" "exit $rc, want $want_rc; output: $out"
	elif [ -n "$want" ] && ! printf '%s' "$out" | grep -qF -- "$want"; then
		not_ok "$desc" "output lacks '$want': $out"
	else
		ok "$desc"
	fi
}
word() {	# FILE OFFSET SIZE(4|8): unsigned little-endian word
	od -An -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' '
}

if [ "$build_rc" -eq 0 ] && ! grep -q 'warning' build.log; then
	ok "build with -Wall -Wextra is warning-free"
else
	not_ok "build with -Wall -Wextra is warning-free" "$(cat build.log)"
	echo "1..$n"; echo "$pass passed, $fail failed"; exit 1
fi
rm -f build.log

MB=$TMP/mailbox
dd if=/dev/zero of="$MB" bs=4096 count=1 2>/dev/null
export RIG_MAILBOX_DEV=$MB
if [ -n "${RIG_TEST_BREAK:-}" ]; then
	./fake-host -b "$MB" & RESPONDER=$!
else
	./fake-host "$MB" & RESPONDER=$!
fi

# rig-host: argument handling
check "rig-host without CMD: usage, exit 2" 2 "usage: rig-host" ./rig-host
check "rig-host -t bad: exit 2" 2 "bad timeout" ./rig-host -t 1x hello
check "rig-host -t 0: exit 2" 2 "bad timeout" ./rig-host -t 0 hello
long=$(head -c 1100 /dev/zero | tr '\0' a)
check "rig-host with a request too long: exit 2" 2 "longer than 1023" ./rig-host "$long"
check "rig-host with a missing device: exit 1" 1 "No such file" \
	env RIG_MAILBOX_DEV="$TMP/none" ./rig-host hello

# rig-host: the request protocol
check "request joined and echoed" 0 "echo: set clock_status=4" ./rig-host set clock_status=4
check "CMD options pass through" 0 "echo: disrupt --generation" ./rig-host disrupt --generation
check "host status becomes exit status" 3 "failed with status 3" ./rig-host exit 3
check "host status 300 maps to 1" 1 "failed with status 300" ./rig-host exit 300
seq=$(word "$MB" $((0x80)) 4) ack=$(word "$MB" $((0x84)) 4)
if [ "$seq" = 4 ] && [ "$ack" = 4 ]; then
	ok "REQ_SEQ and ACK_SEQ count the 4 requests"
else
	not_ok "REQ_SEQ and ACK_SEQ count the 4 requests" "seq=$seq ack=$ack"
fi
check "no ack within -t: exit 124" 124 "timed out after 0.3 s" ./rig-host -t 0.3 delay 1000 late
check "next request waits for the pending one" 0 "echo: after" ./rig-host -t 5 after
kill "$RESPONDER"; wait "$RESPONDER" 2>/dev/null; RESPONDER=
check "responder gone: exit 124" 124 "not acknowledged" ./rig-host -t 0.2 hello

# rig-echo
check "rig-echo without args: exit 2" 2 "usage: rig-echo" ./rig-echo
check "rig-echo bad mode: exit 2" 2 "usage: rig-echo" ./rig-echo foo 1
check "rig-echo bad SECONDS: exit 2" 2 "bad SECONDS" ./rig-echo tsc -1
# rig-echo answers the pings of vmclock-host's calibrate. Run here, the
# "guest" TSC is the host's: the learned offset's bracket must hold 0.
VH=../../../tools/vmclock-host/build/vmclock-host
ECHO_FILE=$TMP/echo-pages	# mailbox at 0, an unused page at 0x1000
dd if=/dev/zero of="$ECHO_FILE" bs=4096 count=2 2>/dev/null
if make -s -C ../../../tools/vmclock-host >/dev/null 2>&1; then
	RIG_MAILBOX_DEV=$ECHO_FILE ./rig-echo tsc 1.5 2>"$TMP/echo.err" &
	echo_pid=$!
	cal=$("$VH" --file "$ECHO_FILE" --offset 0x1000 --mailbox 0 calibrate 2>&1)
	wait $echo_pid
	off=$(echo "$cal" | sed -n 's/^offset=\(-\{0,1\}[0-9]*\) .*/\1/p')
	width=$(echo "$cal" | sed -n 's/.* width=\([0-9]*\).*/\1/p')
	spread=$(echo "$cal" | sed -n 's/.* spread=\([0-9]*\).*/\1/p')
	abs=${off#-}
	if [ -n "$off" ] && [ $((2 * abs)) -le $((width + 2 * spread + 2)) ]; then
		ok "rig-echo tsc answers calibrate's pings; the offset's bracket holds 0 ($cal)"
	else
		not_ok "rig-echo tsc answers calibrate's pings; the offset's bracket holds 0" "$cal"
	fi
	grep -q "pings answered" "$TMP/echo.err" && ok "rig-echo says how many pings it answered" ||
		not_ok "rig-echo says how many pings it answered" "$(cat "$TMP/echo.err")"
else
	not_ok "vmclock-host builds (for the rig-echo checks)" ""
fi
check "rig-echo phc on a non-PHC: exit 1" 1 "cannot read the clock" ./rig-echo phc /dev/null 0.1
ptp=$(ls /dev/ptp[0-9]* 2>/dev/null | head -1)
if [ -n "$ptp" ]; then
	check "rig-echo phc $ptp runs" 0 "pings answered" ./rig-echo phc "$ptp" 0.2
else
	skip "rig-echo phc" "no /dev/ptpN on this host"
fi

# uevent-listen
check "uevent-listen bad -n: exit 2" 2 "bad count" ./uevent-listen -n 0
check "uevent-listen bad option: exit 2" 2 "usage: uevent-listen" ./uevent-listen -x
check "uevent-listen timeout: exit 1" 1 "timed out after 0.3 s" \
	./uevent-listen -t 0.3 NO_SUCH_VARIABLE_xyz=
if [ -w /sys/class/mem/null/uevent ]; then
	ready=$TMP/ready
	./uevent-listen -t 5 -r "$ready" ACTION=change DEVPATH=/devices/virtual/mem/null \
		>"$TMP/ev" 2>&1 &
	lpid=$!
	i=0
	while [ ! -e "$ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	echo change >/sys/class/mem/null/uevent
	wait $lpid
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^ACTION=change DEVPATH=/devices/virtual/mem/null .*SUBSYSTEM=mem.*SEQNUM=' "$TMP/ev"; then
		ok "uevent-listen prints the triggered change on /dev/null"
	else
		not_ok "uevent-listen prints the triggered change on /dev/null" \
			"exit $rc: $(cat "$TMP/ev")"
	fi
else
	skip "uevent-listen with a real uevent" "/sys/class/mem/null/uevent not writable"
fi

echo "1..$n"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
