#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vmclock as a kselftest target of a real kernel tree.
#
#   kselftest.sh src
#	print tools/testing/selftests of Debian's linux-source-6.12, unpacked
#	once into the machine-wide cache with its uapi headers installed for
#	x86_64 and arm64 (hdr-ARCH/include)
#   kselftest.sh install ARCH OUT
#	OUT/linux: a kernel tree (links into that cache, its selftests
#	directory copied) with selftests/vmclock placed at
#	tools/testing/selftests/drivers/ptp/vmclock; then kselftest's own
#	  make -C OUT/linux/tools/testing/selftests \
#	       TARGETS="drivers/ptp/vmclock ptp" install INSTALL_PATH=OUT/install
#	builds static programs for ARCH (x86_64 or arm64) linked with the
#	rig's mailbox library, and installs run_kselftest.sh, the runner, both
#	targets and kselftest-list.txt: the directory a guest runs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${VMCLOCK_CACHE:-/var/cache/vmclock}
# shellcheck source=tests/vm/linux-source.sh
. "$ROOT/tests/vm/linux-source.sh"

log() { printf 'kselftest: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The unpacked source, keyed by the package it came from.
source_tree() {
	local deb top
	deb=$(linux_source_deb) || die "cannot get $LINUX_SOURCE_PKG (run tests/vm/setup.sh)"
	top=$CACHE/kselftest-src-$(basename "$deb" .deb)
	exec 9>"$CACHE/.kselftest-src.lock"
	flock 9
	if [ ! -e "$top/.ready" ]; then
		log "unpacking $(basename "$deb") (once)"
		rm -rf "$top"
		mkdir -p "$top/linux"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$LINUX_SOURCE_PKG.tar.xz" |
			xz -dc -T"$(nproc)" | tar -x -C "$top/linux" --strip-components=1
		for arch in x86_64 arm64; do
			make -s -C "$top/linux" ARCH="$arch" O="$top/hdr-build-$arch" \
				INSTALL_HDR_PATH="$top/hdr-$arch" headers_install >/dev/null
			rm -rf "$top/hdr-build-$arch"
		done
		touch "$top/.ready"
	fi
	flock -u 9
	echo "$top"
}

# OUT/linux: every top-level entry a link into the cached tree, except
# tools/testing/selftests, copied, so that builds never write into the cache.
stage_tree() {
	local src=$1 tree=$2 e
	rm -rf "$tree"
	mkdir -p "$tree/tools/testing"
	for e in "$src"/*; do
		[ "$(basename "$e")" = tools ] || ln -s "$e" "$tree/"
	done
	for e in "$src"/tools/*; do
		[ "$(basename "$e")" = testing ] || ln -s "$e" "$tree/tools/"
	done
	for e in "$src"/tools/testing/*; do
		[ "$(basename "$e")" = selftests ] || ln -s "$e" "$tree/tools/testing/"
	done
	cp -a "$src/tools/testing/selftests" "$tree/tools/testing/"
	mkdir -p "$tree/tools/testing/selftests/drivers/ptp"
	cp -a "$ROOT/selftests/vmclock" "$tree/tools/testing/selftests/drivers/ptp/vmclock"
}

install_tree() {
	local arch=$1 out=$2 top cross="" rig=$ROOT/tests/vm/guest
	top=$(source_tree)
	case $arch in
	x86_64) ;;
	arm64) cross=aarch64-linux-gnu- rig=$ROOT/build/vm/arm64/guest ;;
	*) die "unknown ARCH $arch" ;;
	esac
	[ -e "$rig/librig.a" ] || die "no $rig/librig.a (make -C tests/vm/guest first)"
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	stage_tree "$top/linux" "$out/linux"
	rm -rf "$out/install"
	make -s -C "$out/linux/tools/testing/selftests" \
		TARGETS="drivers/ptp/vmclock ptp" CROSS_COMPILE="$cross" \
		KHDR_INCLUDES="-isystem $top/hdr-$arch/include" \
		VMCLOCK_TOP="$ROOT" VMCLOCK_RIG_LIB="$rig/librig.a" USERLDFLAGS=-static \
		INSTALL_PATH="$out/install" install >"$out/install.log" 2>&1 ||
		{ cat "$out/install.log" >&2; die "kselftest install failed"; }
	[ -x "$out/install/run_kselftest.sh" ] || die "no run_kselftest.sh in $out/install"
	echo "$out/install"
}

case ${1:-} in
src) echo "$(source_tree)/linux/tools/testing/selftests" ;;
install) [ $# = 3 ] || die "usage: $0 install ARCH OUT"; install_tree "$2" "$3" ;;
*) die "usage: $0 src | install ARCH OUT" ;;
esac
