#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Proves test.sh can fail: builds vmclock-host with one deliberate bug at a
# time and requires test.sh to report a failure for each. Prints one line per
# mutant and exits 1 if any mutant survived (test.sh passed on it).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
top=$here/../..
RG=${RIG_GUEST:-$here/build/rig-guest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# FILE|sed expression: each a bug a test in test.sh must catch
mutants=(
	'clock.c|s/sec += tai_magnitude(c->tai_offset);/sec += tai_magnitude(c->tai_offset) - 1;/'
	'page.c|s/PUT(h, seq_count, h->tx_seq + 1);/PUT(h, seq_count, h->tx_seq + 3);/'
	'echo.c|s/keep_hi(br, (int64_t)(v - prev_b));/keep_hi(br, (int64_t)(v - prev_b) + 100000);/'
	'fields.c|s/F(leap_indicator, false, false, leap_names),/F(leap_indicator, false, false, NULL),/'
	'events.c|s/s->stall_seq = (uint32_t)GET(h, seq_count) | 1;/s->stall_seq = (uint32_t)GET(h, seq_count) \& ~1u;/'
)
survived=0
for m in "${mutants[@]}"; do
	file=${m%%|*} expr=${m#*|}
	rm -rf "$work/src"; mkdir -p "$work/src"
	cp "$here"/*.c "$here"/*.h "$work/src/"
	sed -i "$expr" "$work/src/$file"
	if cmp -s "$here/$file" "$work/src/$file"; then
		echo "mutant $file: sed did not apply: $expr"; survived=1; continue
	fi
	cc -O2 -Wall -Wextra -std=gnu11 -I"$top/include/uapi" -I"$top/tests/vm" \
		-o "$work/vmclock-host" "$work"/src/*.c || { survived=1; continue; }
	res=$(VMCLOCK_HOST=$work/vmclock-host RIG_GUEST=$RG "$here/test.sh" 2>&1)
	rc=$?
	first=$(grep -m1 '^not ok' <<<"$res")
	if [ $rc -ne 0 ]; then
		echo "mutant $file killed: $(tail -1 <<<"$res"); first: $first"
	else
		echo "mutant $file SURVIVED: $expr"; survived=1
	fi
done
exit $survived
