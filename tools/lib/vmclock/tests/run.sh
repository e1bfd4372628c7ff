#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The library's suite: the unit tests (under sanitizers) and the export
# checks of the shared library; one closing "N passed, N failed" line.
# BUILD names the build directory, VMCLOCK_HOST the page writer.
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$here/../build}
passed=0 failed=0 skipped=0 rc=0
for t in "$BUILD/test-lib" "$here/symbols.sh" "$here/install.sh" "$here/arch.sh"; do
	out=$(BUILD=$BUILD "$t" 2>&1) || rc=1
	echo "$out" | sed 's/^\([0-9]* passed, [0-9]* failed.*\)$/# \1/'
	line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n1)
	[ -n "$line" ] || { echo "not ok - $t printed no closing line"; failed=$((failed + 1)); continue; }
	passed=$((passed + ${line%% *}))
	f=${line#*, }; failed=$((failed + ${f%% *}))
	case $line in *skipped*) k=${line##*failed, }; skipped=$((skipped + ${k%% *})) ;; esac
done
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $rc = 0 ] && [ $failed = 0 ]
