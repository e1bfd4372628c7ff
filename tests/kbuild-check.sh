#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The driver and the rig module build warning-free with W=1 on every guest
# kernel, and sparse-clean (C=1) where the host's sparse understands the
# kernel can run it (6.1, 6.12: Debian's 7.x headers lack the script kbuild
# uses to validate sparse). TAP, closing "N passed, N failed".
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

for kernel in 6.1 6.12 7 6.1-arm64 6.12-arm64 7-arm64; do
	SPARSE=
	case $kernel in 6.*) SPARSE=1 ;; esac
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
tap_close
