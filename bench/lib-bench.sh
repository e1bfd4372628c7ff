#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# bench/lib-bench.sh [RUNS]: libvmclock's now() and token check against the
# vDSO's clock_gettime(CLOCK_REALTIME), natively on this host, with a page in
# a temporary file that tools/vmclock-host fills with real clock data for
# this host's TSC. Builds what it needs. A benchmark, not a test: the last
# line is `bench: libvmclock now/clock_gettime=R token_ns=T`.
set -e
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
make -s -C "$top/tools/lib/vmclock" >&2
make -s -C "$top/tools/vmclock-host" >&2
make -s -C "$here" build/lib-bench >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
truncate -s 4096 "$tmp/page"
vh="$top/tools/vmclock-host/build/vmclock-host --file $tmp/page --offset 0"
$vh init >/dev/null
$vh clock --counter-offset 0 >/dev/null
echo "# $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs, clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
"$here/build/lib-bench" "$tmp/page" "${1:-21}"
