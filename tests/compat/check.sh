#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# drivers/ptp/vmclock/compat.h against the kernel API of each version it
# must span, including versions the rig has no headers for (6.5, 6.6, 6.7):
# calls.c makes the driver's calls through compat.h, compiled against stub
# headers that declare each version's API as the kernel's history has it.
# TAP, closing "N passed, N failed". COMPAT_H=path tests another copy.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
COMPAT_H=${COMPAT_H:-$ROOT/drivers/ptp/vmclock/compat.h}
CC=${CC:-gcc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$COMPAT_H" "$tmp/compat.h"
# shellcheck source=tests/tap.sh
. "$ROOT/tests/tap.sh"
for v in 5.10 6.1 6.3 6.5 6.6 6.7 6.9 6.12 7.0; do
	major=${v%.*} minor=${v#*.}
	code=$(( (major << 16) + (minor << 8) ))
	name="compat.h: the driver's ACPI notify, mmap and u128 calls compile against $v's API"
	if $CC -fsyntax-only -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror \
		-DCONFIG_ACPI -DSTUB_LINUX_VERSION_CODE=$code \
		-I"$tmp" -I"$here/stubs" "$here/calls.c" >"$tmp/log" 2>&1; then
		result 1 "$name"
	else
		grep -m4 -E 'error|warning' "$tmp/log" >"$tmp/why"
		result 0 "$name" "$tmp/why"
	fi
done
tap_close
