#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The counter reads of counter.h for each architecture, compiled (arm64 is
# not run here): x86-64 lfence + rdtsc, arm64 isb + CNTVCT_EL0; any other
# architecture has no counter (the library then uses the system clock).
# Cross-compiles with clang when present; skips otherwise. TAP.
here=$(cd "$(dirname "$0")/.." && pwd)
n=0 failed=0 skipped=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n - $1 # SKIP $2"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/c.c" <<'C'
#include "counter.h"
unsigned long long read_it(void) { return vmclock_counter_read(0); }
int native(void) { return VMCLOCK_NATIVE_COUNTER; }
C
# counter.h names the ABI's counter ids; give them without the libc headers.
defs="-DVMCLOCK_COUNTER_ARM_VCNT=0 -DVMCLOCK_COUNTER_X86_TSC=1"
dis() { objdump -d "$1" 2>/dev/null || llvm-objdump -d "$1"; }
if command -v clang >/dev/null; then
	for t in x86_64:'lfence.*rdtsc' aarch64:'isb.*mrs.*cntvct_el0' riscv64:''; do
		arch=${t%%:*} want=${t#*:}
		if ! clang --target=$arch-linux-gnu -O2 -ffreestanding -nostdinc \
			-isystem "$(clang -print-resource-dir)/include" $defs -I"$here" \
			-c "$tmp/c.c" -o "$tmp/$arch.o" 2>"$tmp/err"; then
			ok 1 "counter.h compiles for $arch"; sed 's/^/# /' "$tmp/err"; continue
		fi
		ok 0 "counter.h compiles for $arch"
		code=$(dis "$tmp/$arch.o" | tr 'A-Z\n' 'a-z ')
		if [ -n "$want" ]; then
			echo "$code" | grep -q "$want"; ok $? "$arch: the ordered counter read ($want)"
		else
			echo "$code" | grep -qv 'rdtsc\|cntvct'; ok $? "$arch: no counter (system clock)"
		fi
	done
else
	skip "counter.h for x86_64, aarch64, riscv64" "no clang"
fi
echo "1..$n"
if [ $skipped -gt 0 ]; then echo "$((n - failed - skipped)) passed, $failed failed, $skipped skipped"; else echo "$((n - failed)) passed, $failed failed"; fi
[ $failed = 0 ]
