#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The udev rules of udev/ match only the devices they mean: every rule that
# matches a kernel name also matches the subsystem, and the subsystem is
# the one the driver's devices have (/dev/vmclockN is a misc device, the
# PTP clock is in class "ptp"; vmclock_uevent checks SUBSYSTEM=misc on the
# live device). TAP, closing "N passed, N failed". RULES_DIR=dir tests
# another copy.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RULES_DIR=${RULES_DIR:-$ROOT/udev}
# shellcheck source=tests/tap.sh
. "$ROOT/tests/tap.sh"

# The subsystem a kernel name pattern of ours belongs to.
want_subsystem() {
	case $1 in
	vmclock*) echo misc ;;
	ptp*) echo ptp ;;
	*) echo "?" ;;
	esac
}

for f in "$RULES_DIR"/*.rules; do
	base=${f##*/}
	# One rule a line, continuation lines joined, comments dropped.
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$f" | grep -vE '^[[:space:]]*(#|$)' |
	while IFS= read -r rule; do
		kernel=$(sed -n 's/.*KERNEL=="\([^"]*\)".*/\1/p' <<<"$rule")
		subsys=$(sed -n 's/.*SUBSYSTEM=="\([^"]*\)".*/\1/p' <<<"$rule")
		attr=$(grep -o 'ATTR{clock_name}' <<<"$rule")
		if [ -n "$kernel" ]; then
			want=$(want_subsystem "$kernel")
			echo "$([ "$subsys" = "$want" ] && echo 1 || echo 0)|$base: KERNEL==\"$kernel\" also matches SUBSYSTEM==\"$want\"|rule: $rule"
		elif [ -n "$attr" ]; then
			echo "$([ "$subsys" = ptp ] && echo 1 || echo 0)|$base: ATTR{clock_name} rule matches SUBSYSTEM==\"ptp\"|rule: $rule"
		fi
	done
done >"${TMPDIR:-/tmp}/udev-check.$$"
while IFS='|' read -r good name why; do
	echo "$why" >"${TMPDIR:-/tmp}/udev-why.$$"
	result "$good" "$name" "${TMPDIR:-/tmp}/udev-why.$$"
done <"${TMPDIR:-/tmp}/udev-check.$$"
rm -f "${TMPDIR:-/tmp}/udev-check.$$" "${TMPDIR:-/tmp}/udev-why.$$"
[ "$n" -gt 0 ] || result 0 "rules found in $RULES_DIR: none matched a kernel name or clock_name"
tap_close
