#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# One idempotent set-up for a fresh Debian 12 machine: installs the host
# packages the rig needs (QEMU 10 from bookworm-backports, nothing from newer
# suites), and downloads + unpacks the guest kernels into the machine-wide
# cache (/var/cache/vmclock, or $VMCLOCK_CACHE) without installing them.
# Everything there is keyed by what it holds (kernel ABI version, the chroot's
# package list), so a fresh clone on the same machine downloads nothing and
# a changed input gets a new entry beside the old one.
#
# Extra suites come from the mirror this machine already uses, read from its
# apt sources, with a private apt state under the cache's apt/ so the machine's own
# sources and lists stay as they were.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${VMCLOCK_CACHE:-/var/cache/vmclock}
APTDIR=$CACHE/apt
KDIR=$CACHE/kernels
DEBS=$CACHE/debs
export DEBIAN_FRONTEND=noninteractive

log() { printf 'setup: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages)"

# ---------------------------------------------------------------- mirror
# The URI of the machine's own Debian archive entry serving SUITE (bookworm
# by default; bookworm-security finds the security archive).
debian_mirror() {
	local f uri suite=${1:-bookworm}
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		uri=$(awk -v want="$suite" 'BEGIN{RS=""} $0 ~ "Suites:[^\n]*[ \t]" want "([ \n]|$)" {
			if (match($0, /URIs:[ \t]*[^ \t\n]+/)) {
				s = substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", s); print s; exit
			}}' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -e "$f" ] || continue
		uri=$(awk -v want="$suite" '$1=="deb" && $0 ~ " " want " " { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	return 1
}

# ---------------------------------------------------------------- host packages
HOST_PKGS=(build-essential bc flex bison libelf-dev busybox-static acpica-tools
	kmod cpio xz-utils zstd dwarves sparse python3 debootstrap socat
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross device-tree-compiler
	rsync	# kselftest's lib.mk installs with it (tests/vm/kselftest.sh)
	debhelper dh-dkms dkms lintian)	# the last four: make deb, tests/deb-check.sh

missing_pkgs() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || echo "$p"
	done
}

MIRROR=$(debian_mirror) || die "cannot find the Debian mirror in /etc/apt sources"
mkdir -p "$APTDIR" "$KDIR" "$DEBS"
# Two runs at once (two clones on one machine) take turns.
exec 9>"$CACHE/.setup.lock"
flock 9

# apt configurations: "bpo" = the machine's sources + bookworm-backports (for
# installs and the 6.12 kernel); "sid" = sid only, "bullseye" = Debian 11
# and, when the machine has a security archive, bullseye-security, whose
# 5.10 is the newest (both for downloads only, never installs).
write_apt_conf() {
	local name=$1; shift
	mkdir -p "$APTDIR/$name/lists/partial" "$APTDIR/$name/cache/archives/partial"
	printf '%s\n' "$@" > "$APTDIR/$name/sources.list"
}
write_apt_conf bpo "deb $MIRROR bookworm-backports main"
write_apt_conf sid "deb $MIRROR sid main"
SECURITY=$(debian_mirror bookworm-security) || SECURITY=
write_apt_conf bullseye "deb $MIRROR bullseye main" \
	${SECURITY:+"deb $SECURITY bullseye-security main"}
BULLSEYE_SUITE=bullseye${SECURITY:+-security}
# "i386" = bookworm's 32-bit x86 packages, for one headers package.
write_apt_conf i386 "deb [arch=i386] $MIRROR bookworm main"
# The arm64 twins of bpo and sid (same suites, arm64 package lists;
# downloads only).
write_apt_conf bpo-arm64 "deb $MIRROR bookworm-backports main"
write_apt_conf sid-arm64 "deb $MIRROR sid main"

apt_opts() {	# name
	local d=$APTDIR/$1 base=${1%-arm64}
	echo "-o Dir::Etc::SourceList=$d/sources.list -o Dir::State::Lists=$d/lists -o Dir::Cache=$d/cache"
	[ "$base" != bpo ] && echo "-o Dir::Etc::SourceParts=/nonexistent"
	[ "$1" = i386 ] && echo "-o APT::Architecture=i386 -o APT::Architectures::=i386"
	[ "$base" != "$1" ] && echo "-o APT::Architecture=arm64 -o APT::Architectures::=arm64"
	echo "-o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root"
}

apt_update() {	# name: refresh a private list at most once a day
	local stamp=$APTDIR/$1/updated
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		log "apt update ($1)"
		# shellcheck disable=SC2046
		apt-get $(apt_opts "$1") -q update >/dev/null
		touch "$stamp"
	fi
}

need=$(missing_pkgs "${HOST_PKGS[@]}")
if [ -n "$need" ]; then
	log "installing: $need"
	[ -n "$(find /var/lib/apt/lists -name '*bookworm_main*Packages*' 2>/dev/null)" ] || apt-get -q update >/dev/null
	# shellcheck disable=SC2086
	apt-get -q install -y --no-install-recommends $need >/dev/null
fi

qemu_ok() {
	command -v qemu-system-x86_64 >/dev/null &&
		qemu-system-x86_64 -device help 2>/dev/null | grep -q '"vmclock"'
}
if ! qemu_ok; then
	apt_update bpo
	log "installing QEMU with -device vmclock from bookworm-backports"
	# shellcheck disable=SC2046
	apt-get $(apt_opts bpo) -q install -y --no-install-recommends \
		-t bookworm-backports qemu-system-x86 seabios >/dev/null
	qemu_ok || die "installed QEMU has no -device vmclock"
fi
# The arm64 guests' QEMU, the same build as the x86 one.
qemu_version() { "$1" --version 2>/dev/null | head -n1; }
if [ "$(qemu_version qemu-system-aarch64)" != "$(qemu_version qemu-system-x86_64)" ]; then
	apt_update bpo
	log "installing qemu-system-arm from bookworm-backports"
	# shellcheck disable=SC2046
	apt-get $(apt_opts bpo) -q install -y --no-install-recommends \
		-t bookworm-backports qemu-system-arm >/dev/null
fi

# ---------------------------------------------------------------- kernels
# The versioned linux-* packages a metapackage pulls in, recursively.
kernel_closure() {	# conf suite meta...
	local conf=$1 suite=$2; shift 2
	local todo=() seen=" " p dep
	for p in "$@"; do todo+=("$p/$suite"); done
	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}; todo=("${todo[@]:1}")
		# shellcheck disable=SC2046
		for dep in $(apt-cache $(apt_opts "$conf") depends "$p" 2>/dev/null |
			awk '/^ *\|?(Pre)?Depends: linux-(image|headers|kbuild|binary|modules|base)-[0-9]/ {print $2}'); do
			case $seen in *" $dep "*) continue ;; esac
			seen="$seen$dep "
			todo+=("$dep")
		done
	done
	echo "$seen"
}

# kernel_deb PACKAGE ARCH: the downloaded .deb of PACKAGE for ARCH (or all).
kernel_deb() {
	ls "$DEBS/${1}_"*"_$2.deb" "$DEBS/${1}_"*_all.deb 2>/dev/null | tail -n1
}

# fetch_kernel FLAVOUR CONF SUITE [ARCH]: unpack image+modules+headers into
# $CACHE/kernels/KVER (an ARCH other than amd64: flavour named FLAVOUR-ARCH)
fetch_kernel() {
	local flavour=$1 conf=$2 suite=$3 arch=${4:-amd64} pkgs kver dest p
	[ "$arch" = amd64 ] || flavour=$flavour-$arch
	# Resolving takes apt-cache a while: once per refresh of the lists.
	local resolved=$APTDIR/$flavour.packages
	if [ ! "$resolved" -nt "$APTDIR/$conf/updated" ]; then
		kernel_closure "$conf" "$suite" "linux-image-$arch" "linux-headers-$arch" >"$resolved.new"
		mv "$resolved.new" "$resolved"
	fi
	pkgs=$(cat "$resolved")
	kver=$(printf '%s\n' $pkgs | sed -n "s/^linux-headers-\\(.*-$arch\\)\$/\\1/p" | head -n1)
	[ -n "$kver" ] || die "no $flavour kernel found in $suite"
	dest=$KDIR/$kver
	ln -sfn "$kver" "$KDIR/$flavour"
	# A `make clean` of an external module whose M= tree holds this cache
	# deletes every *.ko below it: count them, and unpack again if they went.
	[ -e "$dest/.unpacked" ] && [ -n "$(find -L "$dest/lib/modules" -name '*.ko*' -print -quit)" ] &&
		return 0
	rm -rf "$dest"; mkdir -p "$dest"
	# The build tools (linux-kbuild-*) run on this host: for another
	# architecture's kernel they come from the amd64 configuration.
	local a c
	for p in $pkgs; do
		a=$arch c=$conf
		case $p in linux-kbuild-*) a=amd64 c=${conf%-arm64} ;; esac
		[ -n "$(kernel_deb "$p" "$a")" ] && continue
		log "downloading $p ($a) for $flavour kernel $kver"
		# shellcheck disable=SC2046
		(cd "$DEBS" && apt-get $(apt_opts "$c") -q download "$p:$a" >/dev/null)
	done
	log "unpacking $flavour kernel $kver"
	for p in $pkgs; do
		a=$arch
		case $p in linux-kbuild-*) a=amd64 ;; esac
		dpkg-deb -x "$(kernel_deb "$p" "$a")" "$dest"
	done
	# Debian 12 ships modules under lib/, newer releases under usr/lib/.
	[ -e "$dest/lib/modules" ] || { mkdir -p "$dest/lib"; ln -s ../usr/lib/modules "$dest/lib/modules"; }
	depmod -b "$dest" "$kver"
	# The arch headers include the -common tree by an absolute /usr/src path.
	local hdr=$dest/usr/src/linux-headers-$kver
	sed -i "s#/usr/src/#$dest/usr/src/#g" "$hdr/Makefile"
	# Debian 12 ships the image as boot/vmlinuz-KVER, newer ones in the modules dir.
	local img
	img=$(find "$dest/boot" "$dest/usr/lib/modules/$kver" -maxdepth 1 \
		\( -name "vmlinuz-$kver" -o -name vmlinuz \) 2>/dev/null | head -n1 || true)
	[ -n "$img" ] || die "$kver: no vmlinuz"
	ln -sfn "${img#"$dest"/}" "$dest/vmlinuz"
	touch "$dest/.unpacked"
}

# Debian 12's headers for 32-bit x86 (the 686 flavour), only for the check
# that the module refuses an architecture without 128-bit integers
# (tests/kbuild-check.sh). No kernel to boot: the headers and their -common
# tree, with the (amd64) build tools of the 6.1 kernel unpacked above.
fetch_i386_headers() {
	local kver dest p pkgs
	# shellcheck disable=SC2046
	kver=$(apt-cache $(apt_opts i386) depends linux-headers-686 |
		sed -n 's/^ *Depends: linux-headers-\(.*-686\)$/\1/p' | head -n1)
	[ -n "$kver" ] || die "no 686 kernel headers found in bookworm"
	dest=$KDIR/$kver
	ln -sfn "$kver" "$KDIR/i386"
	[ -e "$dest/.unpacked" ] && return 0
	pkgs="linux-headers-$kver linux-headers-${kver%-686}-common"
	for p in $pkgs; do
		ls "$DEBS/${p}_"*.deb >/dev/null 2>&1 && continue
		log "downloading $p"
		# shellcheck disable=SC2046
		(cd "$DEBS" && apt-get $(apt_opts i386) -q download "$p" >/dev/null)
	done
	rm -rf "$dest"; mkdir -p "$dest/usr/lib"
	for p in $pkgs; do
		dpkg-deb -x "$(ls "$DEBS/${p}_"*.deb | tail -n1)" "$dest"
	done
	ln -s "$(readlink -f "$KDIR/6.1")/usr/lib/linux-kbuild-6.1" "$dest/usr/lib/"
	sed -i "s#/usr/src/#$dest/usr/src/#g" "$dest/usr/src/linux-headers-$kver/Makefile"
	touch "$dest/.unpacked"
}

# The arm64 guests' busybox: Debian 12's static build, unpacked (the
# host's own busybox-static serves the x86 guests).
fetch_arm64_busybox() {
	local dest=$CACHE/busybox-arm64
	[ -x "$dest/bin/busybox" ] && return 0
	if [ -z "$(kernel_deb busybox-static arm64)" ]; then
		log "downloading busybox-static (arm64)"
		# shellcheck disable=SC2046
		(cd "$DEBS" && apt-get $(apt_opts bpo-arm64) -q download busybox-static:arm64 >/dev/null)
	fi
	rm -rf "$dest"
	dpkg-deb -x "$(kernel_deb busybox-static arm64)" "$dest"
}

# The arm64 ACPI guests' UEFI firmware: Debian 12's EDK2 build for QEMU's
# virt machine, unpacked (tests/vm/arm64.py runs QEMU_EFI.fd with -bios).
fetch_arm64_firmware() {
	local dest=$CACHE/firmware-arm64
	[ -s "$dest/usr/share/qemu-efi-aarch64/QEMU_EFI.fd" ] && return 0
	if [ -z "$(kernel_deb qemu-efi-aarch64 all)" ]; then
		log "downloading qemu-efi-aarch64"
		# shellcheck disable=SC2046
		(cd "$DEBS" && apt-get $(apt_opts bpo-arm64) -q download qemu-efi-aarch64 >/dev/null)
	fi
	rm -rf "$dest"
	dpkg-deb -x "$(kernel_deb qemu-efi-aarch64 all)" "$dest"
}

# Linux 7.x headers come with build tools linked against a newer glibc and
# want the compiler the kernel was built with (gcc-16): modules for it are
# built in a minimal sid chroot (tests/vm/kbuild.sh enters it), with the
# same gcc as a cross compiler for the arm64 ones. Debian 11's 5.10
# likewise gets a bullseye chroot with its gcc-10 (and the sparse and
# pahole of its time, which understand that kernel).
SID_PKGS=make,gcc-16,gcc-16-aarch64-linux-gnu,libc6-dev,libelf1t64,libssl3t64,pahole,kmod,bc
BULLSEYE_PKGS=make,gcc-10,libc6-dev,libelf1,libssl1.1,dwarves,kmod,bc,sparse
make_build_root() {	# suite packages
	# Keyed by the package list: a changed list builds a new chroot.
	local suite=$1 pkgs=$2 key root
	key=$(printf '%s' "$pkgs" | sha256sum | cut -c1-12)
	root=$CACHE/$suite-root-$key
	if [ ! -e "$root/.ready" ]; then
		log "creating the $suite build chroot (once)"
		rm -rf "$root"
		debootstrap --variant=minbase --include="$pkgs" \
			"$suite" "$root" "$MIRROR" >"$CACHE/debootstrap-$suite.log" 2>&1 ||
			die "debootstrap failed, see $CACHE/debootstrap-$suite.log"
		touch "$root/.ready"
	fi
	ln -sfn "$suite-root-$key" "$CACHE/$suite-root"
}

# A Debian 12 system for the package test (tests/vm/apt/): systemd, DKMS,
# the 6.1 guest kernel with its headers, chrony, linuxptp; booted from an
# ext4 image of it. The unit runs the test script of the guest's second disk.
apt_root_unit() {
	cat <<-'UNIT'
	[Unit]
	Description=vmclock package test (second disk)
	Requires=dev-vdb.device
	After=dev-vdb.device chrony.service systemd-udev-settle.service
	[Service]
	Type=oneshot
	ExecStart=/bin/sh -c 'mkdir -p /mnt/t && mount -o ro /dev/vdb /mnt/t && exec /bin/sh /mnt/t/guest.sh'
	StandardOutput=tty
	StandardError=tty
	TTYPath=/dev/ttyS0
	[Install]
	WantedBy=multi-user.target
	UNIT
}
make_apt_root() {	# kver of the 6.1 guest kernel
	local pkgs key dir
	pkgs="systemd-sysv,udev,kmod,dkms,linux-image-$1,linux-headers-$1,chrony,linuxptp,openssl,dwarves,procps"
	key=$( (echo "$pkgs"; apt_root_unit) | sha256sum | cut -c1-12)
	dir=$CACHE/apt-root-$key
	if [ ! -e "$dir/.ready" ]; then
		log "creating the Debian 12 root of the package test (once)"
		rm -rf "$dir"; mkdir -p "$dir"
		debootstrap --variant=minbase --include="$pkgs" bookworm "$dir/root" "$MIRROR" \
			>"$CACHE/debootstrap-apt.log" 2>&1 ||
			die "debootstrap failed, see $CACHE/debootstrap-apt.log"
		apt_root_unit >"$dir/root/etc/systemd/system/vmclock-apt-test.service"
		ln -sf /etc/systemd/system/vmclock-apt-test.service \
			"$dir/root/etc/systemd/system/multi-user.target.wants/vmclock-apt-test.service"
		echo vmclock-apt >"$dir/root/etc/hostname"
		rm -f "$dir/root/var/cache/apt/archives/"*.deb
		mke2fs -q -t ext4 -L root -d "$dir/root" "$dir/root.img" 4G
		touch "$dir/.ready"
	fi
	ln -sfn "apt-root-$key" "$CACHE/apt-root"
}

apt_update bpo
apt_update sid
apt_update bullseye
make_build_root sid "$SID_PKGS"
make_build_root bullseye "$BULLSEYE_PKGS"
fetch_kernel 5.10 bullseye "$BULLSEYE_SUITE"
fetch_kernel 6.1 bpo bookworm
apt_update i386
fetch_i386_headers
fetch_kernel 6.12 bpo bookworm-backports
fetch_kernel 7 sid sid
apt_update bpo-arm64
fetch_arm64_busybox
fetch_arm64_firmware
apt_update sid-arm64
fetch_kernel 6.1 bpo-arm64 bookworm arm64
fetch_kernel 6.12 bpo-arm64 bookworm-backports arm64
fetch_kernel 7 sid-arm64 sid arm64
make_apt_root "$(basename "$(readlink -f "$KDIR/6.1")")"
log "kernels ready: $(find "$KDIR" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*-a[mr]*64' -printf '%f ')"
