#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# userland.sh NAME: a root tree with real time-sync clients for the rig's
# guests (boots with "# rig-userland: NAME"), built once under
# $CACHE/userland/NAME and printed as the LAST line of stdout. rig.py
# overlays it onto the busybox initramfs, so it holds no top-level bin, sbin,
# init or rig: programs go to usr/bin and usr/sbin, libraries keep their
# (symlink-free) paths, lib64/ld-linux-x86-64.so.2 points at the loader.
#
#   bookworm  Debian 12: chrony 4.3, linuxptp 3.1.1. The packages are only
#             downloaded and unpacked (installing chrony on the host would
#             start a service that steers the host clock).
#   sid       current: chrony and linuxptp, plus udevadm/systemd-udevd, are
#             installed into the sid chroot setup.sh made ($CACHE/sid-root).
#
#   bookworm-arm64  Debian 12's linuxptp 3.1.1 for arm64 guests (phc2sys,
#             phc_ctl), downloaded through the private arm64 apt state
#             setup.sh keeps and unpacked with the arm64 C library it needs.
#
# All get testptp, compiled static from Debian 12's linux-source-6.1
# (tools/testing/selftests/ptp/testptp.c, taken from the package at build
# time and never kept in the project).
#
# The udev rules of udev/ and the guest scripts of tests/vm/clients/ are
# copied in on every call (cheap), so edits to them need no rebuild.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${VMCLOCK_CACHE:-/var/cache/vmclock}
UL=$CACHE/userland
export DEBIAN_FRONTEND=noninteractive

log() { printf 'userland: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# = 1 ] || { echo "usage: userland.sh bookworm|sid|bookworm-arm64" >&2; exit 2; }
name=$1
case $name in bookworm|sid|bookworm-arm64) ;; *) die "unknown userland $name" ;; esac

# Keyed by this script: a change to what goes in builds a new tree.
top=$UL/$name-$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
tree=$top/root
ARCH_LIBDIR=usr/lib/x86_64-linux-gnu
CC_STATIC=gcc
case $name in *-arm64) CC_STATIC=aarch64-linux-gnu-gcc ;; esac

# libs_of SYSROOT LDD-OUTPUT [UNPACKED]: copy every library ldd named (paths
# as seen inside SYSROOT, "" for the host, or inside the UNPACKED packages)
# into the tree at the library's real directory (merged-usr links such as
# /lib -> usr/lib resolved), under the name ldd gave. Fails on "not found".
libs_of() {
	if grep -q 'not found' <<<"$2"; then
		die "unresolved libraries: $(grep 'not found' <<<"$2" | tr -s '\t\n' '  ')"
	fi
	local sysroot=$1 unpacked=${3:-/nonexistent} path real dir
	for path in $(awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+ \(/ { print $1 }' <<<"$2"); do
		real=$(readlink -f "$sysroot$path")
		[ -f "$real" ] || die "library $path not found under '${sysroot:-/}'"
		dir=$(dirname "${real#"$sysroot"}")
		dir=${dir#"$unpacked"}
		mkdir -p "$tree$dir"
		cp -L "$real" "$tree$dir/$(basename "$path")"
	done
}

# The common skeleton: users, empty dirs the clients want, the loader link.
skeleton() {
	mkdir -p "$tree/etc" "$tree/var/lib/chrony" "$tree/run/chrony" "$tree/lib64" \
		"$tree/usr/bin" "$tree/usr/sbin" "$tree/etc/chrony" "$tree/etc/udev/rules.d"
	# chronyd wants its socket directory closed to others and owned by its
	# user (clients.sh sets this again at run time).
	chmod 0750 "$tree/run/chrony"
	chown 100:101 "$tree/run/chrony" "$tree/var/lib/chrony"
	printf 'root:x:0:0:root:/root:/bin/sh\n_chrony:x:100:101:Chrony daemon:/var/lib/chrony:/bin/false\n' \
		> "$tree/etc/passwd"
	printf 'root:x:0:\n_chrony:x:101:\n' > "$tree/etc/group"
	# Programs built for /var/run/... find /run/... (as on Debian).
	mkdir -p "$tree/var"
	ln -sfn ../run "$tree/var/run"
	case $name in
	*-arm64) rmdir "$tree/lib64" ;;
	*) ln -sfn "../$ARCH_LIBDIR/ld-linux-x86-64.so.2" "$tree/lib64/ld-linux-x86-64.so.2" ;;
	esac
}

# testptp: the kernel's own PTP test tool, from Debian 12's kernel source.
testptp() {
	local dir=$UL/testptp deb bin=testptp
	[ "$CC_STATIC" = gcc ] || bin=testptp-${name##*-}
	if [ ! -x "$dir/$bin" ]; then
		mkdir -p "$dir"
		if ! ls "$dir"/linux-source-6.1_*.deb >/dev/null 2>&1; then
			log "downloading linux-source-6.1 (for testptp.c)"
			(cd "$dir" && apt-get -q -o APT::Sandbox::User=root download linux-source-6.1 >/dev/null)
		fi
		deb=$(ls "$dir"/linux-source-6.1_*.deb | tail -n1)
		if [ ! -s "$dir/testptp.c" ]; then
			log "extracting testptp.c from $(basename "$deb")"
			dpkg-deb --fsys-tarfile "$deb" |
				tar -xO ./usr/src/linux-source-6.1.tar.xz |
				tar -xJO linux-source-6.1/tools/testing/selftests/ptp/testptp.c > "$dir/testptp.c"
		fi
		[ -s "$dir/testptp.c" ] || die "testptp.c not found in $deb"
		"$CC_STATIC" -O2 -static -o "$dir/$bin.tmp" "$dir/testptp.c" -lrt
		mv "$dir/$bin.tmp" "$dir/$bin"
	fi
	cp "$dir/$bin" "$tree/usr/bin/testptp"
}

build_bookworm() {
	local debs=$UL/debs-bookworm x=$UL/bookworm-extract p pkgs missing=""
	mkdir -p "$debs"
	# The programs' packages, and any library package they need that the
	# host lacks (ldd below resolves against the extracted tree first).
	# bash: the kernel's ptp selftest (phc.sh) is a bash script.
	pkgs="chrony linuxptp bash"
	for p in $(apt-cache depends chrony linuxptp bash | awk '/^ *Depends: lib/ { print $2 }' | sort -u); do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			missing="$missing $p"
	done
	pkgs="$pkgs$missing"
	for p in $pkgs; do
		ls "$debs/${p}_"*.deb >/dev/null 2>&1 && continue
		log "downloading $p (bookworm)"
		(cd "$debs" && apt-get -q -o APT::Sandbox::User=root download "$p" >/dev/null)
	done
	rm -rf "$x"; mkdir -p "$x"
	for p in $pkgs; do dpkg-deb -x "$(ls "$debs/${p}_"*.deb | tail -n1)" "$x"; done
	local libpath=$x/usr/lib/x86_64-linux-gnu:$x/lib/x86_64-linux-gnu
	local prog out
	for prog in usr/sbin/chronyd usr/bin/chronyc usr/sbin/phc2sys usr/sbin/phc_ctl bin/bash; do
		[ -x "$x/$prog" ] || die "$prog not in the bookworm packages"
		# No top-level bin in the tree (the guest's is busybox's).
		case $prog in bin/*) cp "$x/$prog" "$tree/usr/$prog" ;; *) cp "$x/$prog" "$tree/$prog" ;; esac
		out=$(LD_LIBRARY_PATH=$libpath ldd "$x/$prog")
		# Libraries found in the extracted tree are copied from there
		# (libs_of resolves the path as given), the rest from the host.
		libs_of "" "$out" "$x"
	done
	rm -rf "$x"
}

# needed_libs ELF: the libraries an arm64 program names (readelf's NEEDED:
# ldd cannot run it here).
needed_libs() {
	aarch64-linux-gnu-readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'
}

# linuxptp for arm64: the packages through setup.sh's private arm64 apt
# state (its bpo-arm64 lists include bookworm main), unpacked; each
# program's libraries (needed_libs) and the loader are copied from the
# unpacked libc6.
build_bookworm_arm64() {
	local debs=$UL/debs-bookworm-arm64 x=$UL/bookworm-arm64-extract p prog lib
	local apt=$CACHE/apt/bpo-arm64 libdir=lib/aarch64-linux-gnu
	[ -e "$apt/sources.list" ] || die "no arm64 apt state at $apt (run tests/vm/setup.sh)"
	mkdir -p "$debs"
	for p in linuxptp libc6; do
		ls "$debs/${p}_"*_arm64.deb >/dev/null 2>&1 && continue
		log "downloading $p (bookworm, arm64)"
		(cd "$debs" && apt-get -q -o Dir::Etc::SourceList="$apt/sources.list" \
			-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" \
			-o APT::Architecture=arm64 -o APT::Architectures::=arm64 \
			-o APT::Sandbox::User=root download "$p:arm64" >/dev/null)
	done
	rm -rf "$x"; mkdir -p "$x"
	for p in linuxptp libc6; do dpkg-deb -x "$(ls "$debs/${p}_"*_arm64.deb | tail -n1)" "$x"; done
	mkdir -p "$tree/$libdir"
	for prog in usr/sbin/phc2sys usr/sbin/phc_ctl; do
		[ -x "$x/$prog" ] || die "$prog not in the arm64 linuxptp package"
		cp "$x/$prog" "$tree/$prog"
		for lib in $(needed_libs "$x/$prog"); do
			[ -e "$x/$libdir/$lib" ] || die "$prog needs $lib, not in arm64 libc6"
			cp -L "$x/$libdir/$lib" "$tree/$libdir/$lib"
		done
	done
	cp -L "$x/lib/ld-linux-aarch64.so.1" "$tree/lib/ld-linux-aarch64.so.1"
	rm -rf "$x"
}

# Run a command in the sid chroot (private mount namespace, /proc mounted).
in_sid() {
	local r
	r=$(readlink -f "$CACHE/sid-root")
	unshare -m sh -c 'r=$1; shift; mount -t proc proc "$r/proc"; exec chroot "$r" "$@"' sh "$r" "$@"
}

build_sid() {
	local r prog out
	r=$(readlink -f "$CACHE/sid-root")
	[ -e "$r/.ready" ] || die "no sid chroot at $r (run tests/vm/setup.sh)"
	if [ ! -x "$r/usr/sbin/chronyd" ] || [ ! -x "$r/usr/sbin/phc2sys" ] || [ ! -x "$r/usr/bin/udevadm" ]; then
		log "installing chrony, linuxptp and udev in the sid chroot"
		cp /etc/resolv.conf "$r/etc/resolv.conf"
		# Nothing may start a service inside the chroot.
		printf '#!/bin/sh\nexit 101\n' > "$r/usr/sbin/policy-rc.d"
		chmod 755 "$r/usr/sbin/policy-rc.d"
		# A mirror snapshot may serve a Release file past its Valid-Until.
		in_sid apt-get -q -o Acquire::Check-Valid-Until=false update >/dev/null
		in_sid apt-get -q install -y --no-install-recommends chrony linuxptp udev >/dev/null
	fi
	for prog in usr/sbin/chronyd usr/bin/chronyc usr/sbin/phc2sys usr/sbin/phc_ctl usr/bin/udevadm; do
		cp -L "$r/$prog" "$tree/$prog"
		out=$(in_sid ldd "/$prog")
		libs_of "$r" "$out"
	done
	# systemd-udevd is udevadm under another name (the binary looks at argv[0]).
	mkdir -p "$tree/usr/lib/systemd"
	ln -sfn ../../bin/udevadm "$tree/usr/lib/systemd/systemd-udevd"
	# udev's own rules for device naming are not needed; its config file is.
	mkdir -p "$tree/etc/udev"
	[ -e "$r/etc/udev/udev.conf" ] && cp "$r/etc/udev/udev.conf" "$tree/etc/udev/"
	in_sid chronyd --version | head -n1 >&2
	in_sid phc2sys -v >&2 || true
}

if [ ! -e "$top/.complete" ]; then
	rm -rf "$tree"
	mkdir -p "$tree"
	skeleton
	"build_${name//-/_}"
	testptp
	# The tree must run on its own: each program loads inside it (arm64:
	# cannot run here; its loader and libraries must be in the tree).
	for prog in usr/sbin/chronyd usr/bin/chronyc usr/sbin/phc2sys usr/sbin/phc_ctl usr/bin/testptp; do
		case $name in
		*-arm64)
			[ -e "$tree/$prog" ] || continue
			for lib in $(needed_libs "$tree/$prog"); do
				[ -e "$tree/lib/aarch64-linux-gnu/$lib" ] || die "$prog: $lib not in the tree"
			done
			if aarch64-linux-gnu-readelf -l "$tree/$prog" | grep -q 'program interpreter'; then
				[ -e "$tree/lib/ld-linux-aarch64.so.1" ] || die "$prog: no loader in the tree"
			fi
			continue ;;
		esac
		out=$(chroot "$tree" "/$prog" -v 2>&1 || true)
		if grep -qiE 'error while loading|not found|no such file' <<<"$out"; then
			die "$prog does not start inside the tree: $out"
		fi
	done
	for d in bin sbin init rig lib; do
		[ ! -L "$tree/$d" ] || die "tree has a top-level $d symlink"
	done
	for d in bin sbin init rig; do
		[ ! -e "$tree/$d" ] || die "tree has a top-level $d"
	done
	touch "$top/.complete"
	log "$name userland ready: $(du -sh "$tree" | cut -f1)"
fi

# Refreshed on every call: the project's udev rules and guest scripts.
rm -rf "$tree/usr/share/vmclock-clients"
mkdir -p "$tree/usr/share/vmclock-clients" "$tree/etc/udev/rules.d"
cp "$ROOT"/tests/vm/clients/* "$tree/usr/share/vmclock-clients/"
cp "$ROOT"/udev/*.rules "$tree/etc/udev/rules.d/"
echo "$tree"
