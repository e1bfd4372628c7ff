#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite: every suite prints TAP and its own
# "N passed, N failed" line; this sums them into the one closing line.
# Usage: tests/run-all.sh [SUITE...]   (default: all, in the order below)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOGDIR=$ROOT/build/test-logs
mkdir -p "$LOGDIR"

declare -A SUITES=(
	[unit]="make -s -C $ROOT/tests/unit check"
	[host-tool]="make -s -C $ROOT/tools/vmclock-host check"
	[guest-tools]="make -s -C $ROOT/tests/vm/guest check"
	[lib]="make -s -C $ROOT/tools/lib/vmclock check"
	[cli]="make -s -C $ROOT/tools/vmclock check"
	[kbuild]="bash $ROOT/tests/kbuild-check.sh"
	[compat]="bash $ROOT/tests/compat/check.sh"
	[dt]="bash $ROOT/tests/devicetree/check.sh"
	[checkpatch]="bash $ROOT/tests/checkpatch.sh"
	[udev]="bash $ROOT/tests/udev/check.sh"
	[deb]="bash $ROOT/tests/deb-check.sh"
	[ktap]="python3 $ROOT/tests/vm/test_ktap.py"
	[vm]="python3 $ROOT/tests/vm/rig.py"
	[apt]="python3 $ROOT/tests/vm/apt/apt-check.py"
)
ORDER=(kbuild checkpatch compat dt udev unit host-tool guest-tools ktap lib cli deb vm apt)
[ $# -gt 0 ] && ORDER=("$@")

passed=0 failed=0 skipped=0
for s in "${ORDER[@]}"; do
	cmd=${SUITES[$s]:-}
	[ -n "$cmd" ] || { echo "run-all: no suite '$s'" >&2; exit 2; }
	echo "# ---- suite $s: $cmd"
	start=$(date +%s)
	$cmd 2>&1 | tee "$LOGDIR/$s.log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^(# )?[0-9]+ passed, [0-9]+ failed' "$LOGDIR/$s.log" | tail -n1)
	if [ -z "$line" ]; then
		echo "not ok - suite $s printed no closing line (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	p=$(echo "$line" | sed -E 's/^(# )?([0-9]+) passed.*/\2/')
	f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	k=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + ${k:-0}))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - suite $s exited $rc with no failed check"
		failed=$((failed + 1))
	fi
	echo "# ---- suite $s: $line ($(($(date +%s) - start)) s)"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
