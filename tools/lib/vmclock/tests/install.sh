#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# `make install-userspace` into a temporary DESTDIR with PREFIX=/usr, then a
# program that includes <vmclock.h> builds against that tree with nothing but
# `pkg-config --cflags --libs vmclock` (PKG_CONFIG_SYSROOT_DIR and
# PKG_CONFIG_LIBDIR pointing into it), dynamically and statically, and runs.
# Also: the multiarch library directory, the man pages of every call, the
# header clean under -std=c99 -pedantic and as C++. TAP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../../.." && pwd)
VH=${VMCLOCK_HOST:-$top/tools/vmclock-host/build/vmclock-host}
CC=${CC:-cc}
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
D=$tmp/dest

make -s -C "$top" install-userspace DESTDIR="$D" PREFIX=/usr >"$tmp/make.log" 2>&1
ok $? "make install-userspace DESTDIR=... PREFIX=/usr"
[ $? = 0 ] || sed 's/^/# /' "$tmp/make.log"
ma=$($CC -print-multiarch 2>/dev/null)
libdir=/usr/lib${ma:+/$ma}
for f in usr/include/vmclock.h "${libdir#/}/libvmclock.so.1" "${libdir#/}/libvmclock.a" \
	"${libdir#/}/pkgconfig/vmclock.pc" usr/bin/vmclock usr/share/man/man1/vmclock.1; do
	[ -e "$D/$f" ]; ok $? "installed /$f"
done
[ "$(readlink "$D$libdir/libvmclock.so")" = libvmclock.so.1 ]; ok $? "libvmclock.so -> libvmclock.so.1 (development link)"
missing=
for fn in $(sed -n 's/^[a-z].*[ *]\(vmclock_[a-z_]*\)(.*/\1/p' "$D/usr/include/vmclock.h"); do
	[ -e "$D/usr/share/man/man3/$fn.3" ] || missing="$missing $fn"
done
[ -z "$missing" ]; ok $? "a man page for every call of <vmclock.h>${missing:+ (missing:$missing)}"
warn=$(cd "$D/usr/share/man" && for f in man3/*.3 man1/*.1; do groff -man -ww -z "$f" 2>&1; done)
[ -z "$warn" ]; ok $? "man pages render without groff warnings"
[ -z "$warn" ] || echo "$warn" | sed 's/^/# /'

cat >"$tmp/prog.c" <<'PROG'
#include <vmclock.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	struct vmclock_token tok;
	struct vmclock_now now;
	struct vmclock *vc;
	int ret = vmclock_open(argc > 1 ? argv[1] : NULL, &vc);

	if (ret) {
		fprintf(stderr, "%s\n", vmclock_strerror(ret));
		return 3;
	}
	if (vmclock_token_take(vc, &tok) || vmclock_now(vc, &now))
		return 4;
	printf("source=%d bounded=%d valid=%d\n", now.realtime.source,
	       now.realtime.bounded, vmclock_token_check(vc, &tok));
	vmclock_close(vc);
	return 0;
}
PROG
export PKG_CONFIG_SYSROOT_DIR="$D" PKG_CONFIG_LIBDIR="$D$libdir/pkgconfig" PKG_CONFIG_PATH=
flags=$(pkg-config --cflags --libs vmclock); ok $? "pkg-config --cflags --libs vmclock: $flags"
# shellcheck disable=SC2086
$CC -Wall -Wextra -Werror -std=c99 -pedantic -o "$tmp/prog" "$tmp/prog.c" $flags 2>"$tmp/cc.log"
ok $? "a program including <vmclock.h> builds with pkg-config's flags alone (c99 -pedantic)"
sed 's/^/# /' "$tmp/cc.log"
sflags=$(pkg-config --static --cflags --libs vmclock)
# shellcheck disable=SC2086
$CC -std=c99 -static -o "$tmp/prog-static" "$tmp/prog.c" $sflags 2>"$tmp/cc.log"
ok $? "and statically (libvmclock.a)"
if command -v c++ >/dev/null; then
	# shellcheck disable=SC2086
	echo '#include <vmclock.h>
int main() { return vmclock_open(0, 0) == -EINVAL ? 0 : 1; }' >"$tmp/p.cc"
	c++ -Wall -Wextra -Werror -o "$tmp/prog-cxx" "$tmp/p.cc" $flags 2>"$tmp/cc.log" &&
		LD_LIBRARY_PATH="$D$libdir" "$tmp/prog-cxx"
	ok $? "usable from C++ (extern \"C\")"
fi

rm -f "$tmp/page"; truncate -s 4096 "$tmp/page"
"$VH" --file "$tmp/page" --offset 0 init >/dev/null &&
	"$VH" --file "$tmp/page" --offset 0 clock --counter-offset 0 >/dev/null
out=$(LD_LIBRARY_PATH="$D$libdir" "$tmp/prog" "$tmp/page")
[ "$out" = "source=2 bounded=1 valid=1" ]; ok $? "it runs against the installed libvmclock.so.1: $out"
LD_LIBRARY_PATH="$D$libdir" ldd "$tmp/prog" | grep -q "libvmclock.so.1 => $D$libdir/libvmclock.so.1"
ok $? "and resolves the installed soname libvmclock.so.1"
out=$("$tmp/prog-static" "$tmp/page"); ok $? "the static build runs: $out"

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed = 0 ]
