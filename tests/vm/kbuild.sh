#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kbuild.sh KERNEL DIR [make args...]: build the external module in DIR
# against an unpacked kernel of $CACHE/kernels (KERNEL: 5.10, 6.1, 6.12, 7 or
# a full version). Debian 12's kernels build with the host toolchain; 7.x
# builds inside the sid chroot made by setup.sh and 5.10 inside the bullseye
# one (each release's own compiler), with the checkout and the cache
# bind-mounted at their own paths in a private mount namespace.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${VMCLOCK_CACHE:-/var/cache/vmclock}
[ $# -ge 2 ] || { echo "usage: kbuild.sh KERNEL DIR [make args...]" >&2; exit 2; }
kern=$1 dir=$(cd "$2" && pwd); shift 2
kdir=$CACHE/kernels/$kern
[ -d "$kdir" ] || { echo "kbuild.sh: no kernel $kern in $CACHE/kernels (run tests/vm/setup.sh)" >&2; exit 2; }
kver=$(basename "$(readlink -f "$kdir")")
hdr=$(readlink -f "$kdir")/usr/src/linux-headers-$kver

# Another architecture's kernel: the cross compiler for it.
case $kver in
*-arm64) set -- ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- "$@" ;;
esac

case $kver in
6.*)	exec make -C "$hdr" M="$dir" "$@" ;;
5.*)	suite=bullseye ;;
*)	suite=sid ;;
esac

sysroot=$(readlink -f "$CACHE/$suite-root")
[ -e "$sysroot/.ready" ] || { echo "kbuild.sh: no $suite chroot (run tests/vm/setup.sh)" >&2; exit 2; }
binds=("$ROOT" "$CACHE" "$dir")
script='set -e; mount -t proc proc "$1/proc"; r=$1; shift'
for b in "${binds[@]}"; do
	mkdir -p "$sysroot$b"
	script+="; mount --bind '$b' \"\$r$b\""
done
script+='; exec chroot "$r" "$@"'
exec unshare -m sh -c "$script" sh "$sysroot" make -C "$hdr" M="$dir" "$@"
