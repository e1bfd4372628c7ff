#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The driver and the rig module build warning-free with W=1 on every guest
# kernel, and sparse-clean (C=1) where the sparse at hand understands the
# kernel (5.10 with the bullseye chroot's, 6.1 and 6.12 with the host's:
# Debian's 7.x headers lack the script kbuild uses to validate sparse).
# TAP, closing "N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$ROOT/build/kbuild-check
# shellcheck source=tests/tap.sh
. "$ROOT/tests/tap.sh"

# build KERNEL NAME SUBDIR FILES...: a source-only copy, built with W=1 (and
# C=1 when asked through $SPARSE); any warning fails.
build() {
	local kernel=$1 name=$2 sub=$3 w
	shift 3
	w=$WORK/$kernel/$name
	rm -rf "$w"; mkdir -p "$w"
	(cd "$ROOT" && cp -r --parents "$@" "$w/")
	find "$w" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \) -delete
	"$ROOT/tests/vm/kbuild.sh" "$kernel" "$w/$sub" modules W=1 ${SPARSE:+C=1} >"$w.log" 2>&1
	local rc=$?
	# kbuild's own note about BTF without vmlinux is not a warning of ours.
	grep -v 'Skipping BTF generation' "$w.log" | grep -iE 'warning|error' >"$w.warn"
	[ $rc = 0 ] && [ ! -s "$w.warn" ]
}

for kernel in 5.10 6.1 6.12 7 6.1-arm64 6.12-arm64 7-arm64; do
	SPARSE=
	case $kernel in 5.*|6.*) SPARSE=1 ;; esac
	tag="W=1${SPARSE:+ C=1}"
	if build "$kernel" vmclock . Kbuild drivers include; then
		result 1 "ptp_vmclock builds for $kernel with $tag, no warning"
	else
		result 0 "ptp_vmclock builds for $kernel with $tag, no warning" "$WORK/$kernel/vmclock.log"
	fi
	if build "$kernel" rig tests/vm/rig-module tests/vm/rig-module tools/vmclock-host/rig-mailbox.h; then
		result 1 "rig module builds for $kernel with $tag, no warning"
	else
		result 0 "rig module builds for $kernel with $tag, no warning" "$WORK/$kernel/rig.log"
	fi
done
# An architecture without 128-bit integers (Debian 12's 32-bit x86 headers)
# is refused by the Kbuild file with its one message, before any compiling.
refuses_i386() {
	local w=$WORK/i386/vmclock
	rm -rf "$w"; mkdir -p "$w"
	(cd "$ROOT" && cp -r Kbuild drivers include "$w/")
	if "$ROOT/tests/vm/kbuild.sh" i386 "$w" modules >"$w.log" 2>&1; then
		echo "the build succeeded"
		return 1
	fi
	cat "$w.log"
	grep -q 'Kbuild:[0-9]*: \*\*\* ptp_vmclock needs 128-bit integer arithmetic.* (i386: CONFIG_ARCH_SUPPORTS_INT128 unset)' "$w.log" &&
		! grep -q 'CC \[M\]' "$w.log"
}
if refuses_i386 >"$WORK/i386.out" 2>&1; then
	result 1 "ptp_vmclock refuses i386 (no 128-bit integers) with one message, compiling nothing"
else
	result 0 "ptp_vmclock refuses i386 (no 128-bit integers) with one message, compiling nothing" "$WORK/i386.out"
fi
tap_close
