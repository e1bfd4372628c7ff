#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch --strict on the kernel code: the driver, the core header it
# shares with user space, and the rig's guest module. checkpatch.pl comes
# from Debian's linux-source package (the one the rig's set-up already
# fetched, else linux-source-6.1 from the machine's own apt sources),
# extracted once into the rig cache. Messages listed with a reason in
# tests/checkpatch-accepted.txt are allowed; any other fails the file.
# TAP, closing "N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${VMCLOCK_CACHE:-/var/cache/vmclock}
ACCEPTED=$ROOT/tests/checkpatch-accepted.txt
FILES=(drivers/ptp/vmclock/*.c drivers/ptp/vmclock/*.h include/vmclock/vmclock-core.h
	tests/vm/rig-module/vmclock_rig.c)
# shellcheck source=tests/tap.sh
. "$ROOT/tests/tap.sh"

# checkpatch.pl (with spelling.txt and const_structs.checkpatch beside it).
find_checkpatch() {
	local deb dir
	deb=$(ls "$CACHE"/debs/linux-source-*.deb "$CACHE"/userland/testptp/linux-source-*.deb \
		2>/dev/null | tail -n1)
	if [ -z "$deb" ]; then
		mkdir -p "$CACHE/debs"
		(cd "$CACHE/debs" && apt-get -q -o APT::Sandbox::User=root download linux-source-6.1 \
			>/dev/null 2>&1) || return 1
		deb=$(ls "$CACHE"/debs/linux-source-6.1_*.deb 2>/dev/null | tail -n1)
		[ -n "$deb" ] || return 1
	fi
	dir=$CACHE/checkpatch/$(basename "$deb" .deb)
	if [ ! -e "$dir/.ready" ]; then
		mkdir -p "$dir"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
			tar -xJ -C "$dir" --strip-components=1 --wildcards \
				'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
				'*/scripts/const_structs.checkpatch' || return 1
		touch "$dir/.ready"
	fi
	echo "$dir/scripts/checkpatch.pl"
}

mkdir -p "$CACHE"
exec 8>"$CACHE/.checkpatch.lock"
flock 8
CP=$(find_checkpatch)
flock -u 8
if [ -z "$CP" ] || [ ! -r "$CP" ]; then
	result 0 "checkpatch.pl from Debian's linux-source package"
	tap_close; exit 1
fi
echo "# $CP"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -vE '^(#|$)' "$ACCEPTED" | sed -E 's/^([^ ]+) ([A-Z0-9_]+):.*/\1 \2/' | sort -u >"$tmp/accepted"
: >"$tmp/seen"
cd "$ROOT" || exit 1
for f in "${FILES[@]}"; do
	perl "$CP" --strict --no-tree --show-types --terse -f "$f" 2>&1 |
		grep -E '^[^:]+:[0-9]+: (ERROR|WARNING|CHECK):' >"$tmp/msgs"
	# "FILE:LINE: LEVEL:TYPE: text" -> "FILE TYPE"
	sed -E 's/^([^:]+):[0-9]+: [A-Z]+:([A-Z0-9_]+):.*/\1 \2/' "$tmp/msgs" | sort -u >"$tmp/types"
	cat "$tmp/types" >>"$tmp/seen"
	grep -Fxv -f "$tmp/accepted" "$tmp/types" >"$tmp/new"
	total=$(wc -l <"$tmp/msgs")
	if [ -s "$tmp/new" ]; then
		grep -F -f <(cut -d' ' -f2 "$tmp/new" | sed 's/$/:/') "$tmp/msgs" >"$tmp/why"
		result 0 "checkpatch --strict: $f" "$tmp/why"
	else
		result 1 "checkpatch --strict: $f ($total message(s), each justified in tests/checkpatch-accepted.txt)"
	fi
done
sort -u "$tmp/seen" >"$tmp/seen.u"
grep -Fxv -f "$tmp/seen.u" "$tmp/accepted" >"$tmp/stale"
[ -s "$tmp/stale" ] && result 0 "every line of tests/checkpatch-accepted.txt still matches a message" "$tmp/stale" ||
	result 1 "every line of tests/checkpatch-accepted.txt still matches a message"
tap_close
