#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh: the rig's debug kernel (KASAN, lockdep, kmemleak, UBSAN, KFENCE,
# debug objects), built once from Debian's linux-source-6.12
# (bookworm-backports) with a small config (tinyconfig + ./config) and
# kept in the machine-wide cache as
#
#   $CACHE/debug-kernel-KEY/KVER/{vmlinuz, lib/modules/KVER, usr/src/linux-headers-KVER}
#   $CACHE/kernels/debug -> ../debug-kernel-KEY/KVER
#
# the shape of the rig's other kernels, so rig.py boots it as kernel "debug"
# and tests/vm/kbuild.sh builds external modules against its tree. KEY is
# the source package version plus a hash of ./config and this script: a
# second run with the same inputs only re-points the link. Needs the
# private apt state tests/vm/setup.sh makes; prints KVER.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VMCLOCK_CACHE:-/var/cache/vmclock}
JOBS=${JOBS:-$(nproc)}
# shellcheck source=tests/vm/linux-source.sh
. "$HERE/../linux-source.sh"
SRCPKG=$LINUX_SOURCE_PKG

log() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -e "$CACHE/apt/bpo/sources.list" ] || die "no private apt state in $CACHE/apt/bpo (run tests/vm/setup.sh)"
# The version the private lists offer (no network needed to know it).
version=$(linux_source_version)
[ -n "$version" ] || die "$SRCPKG not found in $LINUX_SOURCE_SUITE"
inputs=$(cat "$HERE/config" "$HERE/build.sh" | sha256sum | cut -c1-12)
key=$(printf '%s' "$version" | tr -c 'A-Za-z0-9.+\n' '_')-$inputs
top=$CACHE/debug-kernel-$key
mkdir -p "$CACHE/kernels"

exec 9>"$CACHE/.debug-kernel.lock"
flock 9
if [ -e "$top/.built" ]; then
	kver=$(cat "$top/.built")
	ln -sfn "../debug-kernel-$key/$kver" "$CACHE/kernels/debug"
	echo "$kver"
	exit 0
fi

log "building the debug kernel $key (once; about 4 min on 2 cores)"
t0=$(date +%s)
rm -rf "$top"
mkdir -p "$top/tmp"
deb=$(linux_source_deb) || die "cannot download $SRCPKG"
src=$top/tmp/src
mkdir -p "$src"
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$SRCPKG.tar.xz" |
	xz -dc -T"$JOBS" | tar -x -C "$src" --strip-components=1

mk() { make -C "$src" -s ARCH=x86_64 "$@"; }
mk tinyconfig >/dev/null
(cd "$src" && KCONFIG_CONFIG=.config scripts/kconfig/merge_config.sh -m .config "$HERE/config" >/dev/null)
mk LOCALVERSION=-vmclock-debug olddefconfig >/dev/null
# Every line of the fragment must have survived olddefconfig.
bad=""
while IFS= read -r line; do
	case $line in
	CONFIG_*=n) opt=${line%=n}; grep -q "^$opt=" "$src/.config" && bad="$bad $line" ;;
	CONFIG_*=*) grep -qx "$line" "$src/.config" || bad="$bad $line" ;;
	esac
done <"$HERE/config"
[ -z "$bad" ] || die "config lines not in the result (missing dependency?):$bad"

kver=$(mk LOCALVERSION=-vmclock-debug kernelrelease)
[ -n "$kver" ] || die "no kernel release"
dest=$top/$kver
tree=$dest/usr/src/linux-headers-$kver
mkdir -p "$(dirname "$tree")"
# Built in place where it stays: kbuild's files hold absolute paths.
mv "$src" "$tree"
mk() { make -C "$tree" -s ARCH=x86_64 LOCALVERSION=-vmclock-debug "$@"; }
mk -j"$JOBS" bzImage modules
mk INSTALL_MOD_PATH="$dest" INSTALL_MOD_STRIP=1 DEPMOD=/sbin/depmod modules_install >/dev/null
# No build/source links into this machine's paths: the tree is found by
# its place (tests/vm/kbuild.sh), as for the rig's other kernels.
rm -f "$dest/lib/modules/$kver/build" "$dest/lib/modules/$kver/source"
mkdir -p "$dest/boot"
cp "$tree/arch/x86/boot/bzImage" "$dest/boot/vmlinuz-$kver"
cp "$tree/.config" "$dest/boot/config-$kver"
ln -sfn "boot/vmlinuz-$kver" "$dest/vmlinuz"
rm -rf "$top/tmp"
echo "$kver" >"$top/.built"
touch "$dest/.unpacked"
ln -sfn "../debug-kernel-$key/$kver" "$CACHE/kernels/debug"
log "built $kver in $(( $(date +%s) - t0 )) s"
echo "$kver"
