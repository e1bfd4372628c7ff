#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# The shared library exports exactly the public calls of vmclock.h, under
# the version node VMCLOCK_1, and carries the soname libvmclock.so.1.
# TAP; BUILD names the build directory.
set -u
here=$(cd "$(dirname "$0")" && pwd)
so=${BUILD:-$here/../build}/libvmclock.so.1
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }

# The calls the header declares: "int vmclock_x(" / "const char *vmclock_x(" ...
want=$(sed -n 's/^[a-z].*[ *]\(vmclock_[a-z_]*\)(.*/\1/p' "$here/../vmclock.h" | sort)
got=$(nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | sed 's/@.*//' | sort)
[ "$want" = "$got" ]; ok $? "exported symbols are exactly the header's calls ($(echo $got | wc -w))"
[ "$want" = "$got" ] || { echo "# header: $(echo $want)"; echo "# exported: $(echo $got)"; }
nm -D --defined-only "$so" | awk '$2 != "A"' | grep -qv ' T vmclock_'
ok $((! $?)) "nothing else exported (no data, no helpers)"
objdump -T "$so" | grep -q 'VMCLOCK_1 *vmclock_now'; ok $? "versioned: vmclock_now@@VMCLOCK_1"
objdump -p "$so" | grep -q 'SONAME *libvmclock.so.1$'; ok $? "soname libvmclock.so.1"
echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed = 0 ]
