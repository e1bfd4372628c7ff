#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian packages and the install targets, checked on the host: `make deb`
# builds them, lintian has nothing to say, vmclock-dkms holds exactly the
# tree's module sources, rules and opt-in chrony files, its maintainer
# scripts call DKMS and clean up the chrony links, DKMS builds and installs
# the packaged sources (into private trees, never the host's), depmod
# prefers the installed module to a 7.x kernel's own, and `make install` /
# `make uninstall` do what they say (into a DESTDIR); the user-space
# packages hold what they should and a program builds against them with
# pkg-config alone. Needs the kernels of
# tests/vm/setup.sh. TAP, closing "N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${VMCLOCK_CACHE:-/var/cache/vmclock}
WORK=$ROOT/build/deb-check
n=0 passed=0 failed=0

result() {	# good name [detail]
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		passed=$((passed + 1)); echo "ok $n - $2"
	else
		failed=$((failed + 1)); echo "not ok $n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | head -n 30 | sed 's/^/# /'
	fi
}
check() {	# name command...: ok when the command succeeds; its output is the detail
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then result 1 "$name"; else result 0 "$name" "$out"; fi
}

rm -rf "$WORK"; mkdir -p "$WORK"
version=$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}/\1/p' "$ROOT/dkms.conf")
root=$WORK/root

# ------------------------------------------------------------ build, lintian
make -C "$ROOT" -s deb >"$WORK/make-deb.log" 2>&1
rc=$?
deb=$(ls "$ROOT"/build/deb/vmclock-dkms_*_all.deb 2>/dev/null | head -n1)
if [ $rc = 0 ] && [ -n "$deb" ]; then
	result 1 "make deb builds ${deb##*/}"
else
	result 0 "make deb builds vmclock-dkms_*_all.deb" "$(tail -n 20 "$WORK/make-deb.log")"
	echo "1..$n"; echo "$passed passed, $failed failed"; exit 1
fi

lintian_clean() {
	local out
	out=$(lintian --info "$ROOT"/build/deb/*.changes 2>&1 | grep -E '^[EW]: ')
	[ -z "$out" ] || { echo "$out"; return 1; }
	# Every override carries a one-line reason on the line above it.
	local f
	for f in "$ROOT"/debian/*lintian-overrides; do
		[ -e "$f" ] || continue
		awk 'NF && $1 !~ /^#/ && prev !~ /^#/ { print FILENAME ": no reason for: " $0; bad = 1 }
			{ prev = $0 } END { exit bad }' "$f" || return 1
	done
}
check "lintian: no error, no warning, every override explained" lintian_clean

dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$WORK/control"

versions_agree() {
	local changelog pkg
	changelog=$(cd "$ROOT" && dpkg-parsechangelog -S Version)
	pkg=$(dpkg-deb -f "$deb" Version)
	echo "dkms.conf $version, debian/changelog $changelog, package $pkg"
	[ "${changelog%%-*}" = "$version" ] && [ "$pkg" = "$changelog" ]
}
check "versions agree: dkms.conf, debian/changelog, package" versions_agree

# ------------------------------------------------------------ contents
src=usr/src/vmclock-$version
expected_files() {
	(cd "$ROOT" && git ls-files Kbuild drivers include) | sed "s|^|$src/|"
	echo "$src/dkms.conf"
	echo lib/udev/rules.d/60-vmclock.rules
	printf 'usr/share/vmclock/chrony/%s\n' 61-vmclock-chrony.rules vmclock.conf \
		chrony-wait-vmclock.conf
	printf 'usr/share/doc/vmclock-dkms/%s\n' README.Debian changelog.gz copyright
}
file_list() {
	diff <(expected_files | sort) <(cd "$root" && find . -type f -o -type l | sed 's|^\./||' | sort)
}
check "file list is exactly: module sources, dkms.conf, udev rule, chrony files, docs" file_list

same_as_tree() {
	local f bad=0
	for f in $(cd "$ROOT" && git ls-files Kbuild dkms.conf drivers include); do
		cmp -s "$ROOT/$f" "$root/$src/$f" || { echo "differs: $f"; bad=1; }
	done
	cmp -s "$ROOT/udev/60-vmclock.rules" "$root/lib/udev/rules.d/60-vmclock.rules" ||
		{ echo "differs: 60-vmclock.rules"; bad=1; }
	for f in udev/61-vmclock-chrony.rules chrony/vmclock.conf chrony/chrony-wait-vmclock.conf; do
		cmp -s "$ROOT/$f" "$root/usr/share/vmclock/chrony/${f##*/}" || { echo "differs: $f"; bad=1; }
	done
	return $bad
}
check "packaged files are the tree's files" same_as_tree

chrony_off() {
	# Nothing under /etc, no disruption rule where udev reads rules, no conffiles.
	[ ! -e "$root/etc" ] || { find "$root/etc"; return 1; }
	[ ! -e "$root/lib/udev/rules.d/61-vmclock-chrony.rules" ] || { echo "61 rule active"; return 1; }
	[ ! -s "$WORK/control/conffiles" ] || { cat "$WORK/control/conffiles"; return 1; }
}
check "chrony integration ships disabled (no file in /etc, no active 61 rule)" chrony_off

dkms_conf() {
	local c=$root/$src/dkms.conf
	grep -qx 'PACKAGE_NAME="vmclock"' "$c" && grep -qx 'BUILT_MODULE_NAME\[0\]="ptp_vmclock"' "$c" &&
		grep -qx 'DEST_MODULE_LOCATION\[0\]="/updates/dkms"' "$c" &&
		grep -qx 'AUTOINSTALL="yes"' "$c" || { cat "$c"; return 1; }
}
check "dkms.conf: module ptp_vmclock, into updates/dkms, autoinstall" dkms_conf

control_fields() {
	local arch dep
	arch=$(dpkg-deb -f "$deb" Architecture) dep=$(dpkg-deb -f "$deb" Depends)
	echo "Architecture: $arch; Depends: $dep"
	[ "$arch" = all ] && [[ "$dep" =~ (^|, )dkms ]]
}
check "control: Architecture all, depends on dkms" control_fields

maint_scripts() {
	grep -q 'for DKMS_POSTINST in /usr/lib/dkms/common.postinst' "$WORK/control/postinst" &&
		grep -q '$DKMS_POSTINST $DKMS_NAME $DKMS_VERSION' "$WORK/control/postinst" &&
		grep -qx 'DKMS_NAME=vmclock' "$WORK/control/postinst" &&
		grep -qx "DKMS_VERSION=$version" "$WORK/control/postinst" &&
		grep -q 'dkms remove -m $DKMS_NAME -v $DKMS_VERSION --all' "$WORK/control/prerm" &&
		grep -qx 'DKMS_VERSION='"$version" "$WORK/control/prerm" ||
		{ head -n 40 "$WORK/control/postinst" "$WORK/control/prerm"; return 1; }
}
check "postinst builds with DKMS (vmclock $version), prerm removes it from DKMS" maint_scripts

# postrm against a scratch /etc: our links go, anything else stays.
postrm_links() {
	local t=$WORK/postrm s=/usr/share/vmclock/chrony
	rm -rf "$t"; mkdir -p "$t/etc/chrony/conf.d" "$t/etc/udev/rules.d" \
		"$t/etc/systemd/system/chrony.service.d"
	ln -s "$s/vmclock.conf" "$t/etc/chrony/conf.d/vmclock.conf"
	ln -s "$s/61-vmclock-chrony.rules" "$t/etc/udev/rules.d/61-vmclock-chrony.rules"
	ln -s /etc/elsewhere.conf "$t/etc/systemd/system/chrony.service.d/vmclock.conf"
	echo keep >"$t/etc/chrony/conf.d/other.conf"
	sed -e "s|/etc/|$t/etc/|g" -e "s|/run/systemd/system|$t/no-systemd|" \
		"$WORK/control/postrm" >"$t/postrm"
	sh "$t/postrm" remove || { echo "postrm remove failed"; return 1; }
	[ ! -L "$t/etc/chrony/conf.d/vmclock.conf" ] && [ ! -L "$t/etc/udev/rules.d/61-vmclock-chrony.rules" ] &&
		[ -L "$t/etc/systemd/system/chrony.service.d/vmclock.conf" ] &&
		[ -f "$t/etc/chrony/conf.d/other.conf" ] || { (cd "$t" && find etc); return 1; }
}
check "postrm remove deletes the chrony links into the package, keeps foreign files" postrm_links

# ------------------------------------------------------------ user space
# libvmclock1, libvmclock-dev and vmclock: what each holds, and a program
# built against the unpacked packages with pkg-config alone.
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
us_root=$WORK/userspace
userspace_files() {	# package: its files, sorted, without docs
	local d
	d=$(ls "$ROOT"/build/deb/"$1"_*.deb 2>/dev/null | head -n1)
	[ -n "$d" ] || { echo "no $1 package"; return 1; }
	dpkg-deb -c "$d" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' |
		grep -v '^usr/share/doc/' | sort
}
userspace_lists() {
	local got want
	got=$(userspace_files libvmclock1) || { echo "$got"; return 1; }
	want=$(printf '%s\n' "usr/lib/$ma/libvmclock.so.1" "usr/lib/$ma/libvmclock.so.1.0.0" | sort)
	[ "$got" = "$want" ] || { echo "libvmclock1: got"; echo "$got"; return 1; }
	got=$(userspace_files libvmclock-dev) || { echo "$got"; return 1; }
	want=$( { printf '%s\n' usr/include/vmclock.h "usr/lib/$ma/libvmclock.so" \
		"usr/lib/$ma/libvmclock.a" "usr/lib/$ma/pkgconfig/vmclock.pc"
		(cd "$ROOT/tools/lib/vmclock" && ls man/*.3 2>/dev/null || ls *.3) |
			sed 's|.*/||; s|^|usr/share/man/man3/|; s|$|.gz|'; } | sort)
	[ "$got" = "$want" ] || { echo "libvmclock-dev: got"; echo "$got"; echo "want"; echo "$want"; return 1; }
	got=$(userspace_files vmclock) || { echo "$got"; return 1; }
	want=$(printf '%s\n' usr/bin/vmclock usr/share/man/man1/vmclock.1.gz)
	[ "$got" = "$want" ] || { echo "vmclock: got"; echo "$got"; return 1; }
}
check "user-space packages: libvmclock1 (the soname), libvmclock-dev (header, .so, .a, .pc, man pages), vmclock (command, man page)" userspace_lists

builds_with_pkg_config() {
	local d
	rm -rf "$us_root"; mkdir -p "$us_root"
	for d in "$ROOT"/build/deb/libvmclock1_*.deb "$ROOT"/build/deb/libvmclock-dev_*.deb; do
		dpkg-deb -x "$d" "$us_root" || return 1
	done
	printf '#include <vmclock.h>\nint main(void) { return vmclock_open(0, 0) ? 0 : 1; }\n' >"$WORK/use.c"
	local flags
	flags=$(PKG_CONFIG_SYSROOT_DIR=$us_root PKG_CONFIG_LIBDIR=$us_root/usr/lib/$ma/pkgconfig \
		pkg-config --cflags --libs vmclock) || return 1
	echo "pkg-config: $flags"
	# shellcheck disable=SC2086
	cc -o "$WORK/use" "$WORK/use.c" $flags || return 1
	LD_LIBRARY_PATH=$us_root/usr/lib/$ma ldd "$WORK/use" | grep -q "$us_root/usr/lib/$ma/libvmclock.so.1"
}
check "a program builds against the unpacked libvmclock-dev with pkg-config alone and links libvmclock.so.1" builds_with_pkg_config

# ------------------------------------------------------------ DKMS, depmod
kernel_dir() { readlink -f "$CACHE/kernels/$1"; }
dkms_private() {	# kver action...: DKMS on private trees, no depmod of the host
	dkms "$@" -m vmclock -v "$version" --dkmstree "$WORK/dkms" --sourcetree "$WORK/src" \
		--installtree "$WORK/sys/lib/modules" --no-depmod
}
rm -rf "$WORK/src" "$WORK/dkms" "$WORK/sys"
mkdir -p "$WORK/src" "$WORK/dkms" "$WORK/sys/lib/modules"
cp -r "$root/$src" "$WORK/src/"
for k in 6.1 6.12; do
	kd=$(kernel_dir "$k") kv=$(basename "$(kernel_dir "$k")")
	dkms_install() {
		mkdir -p "$WORK/sys/lib/modules/$kv"
		dkms_private install -k "$kv" --kernelsourcedir "$kd/usr/src/linux-headers-$kv" || return 1
		local ko=$WORK/sys/lib/modules/$kv/updates/dkms/ptp_vmclock.ko
		[ -f "$ko" ] || { find "$WORK/sys/lib/modules/$kv"; return 1; }
		[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$kv" ] || { modinfo "$ko"; return 1; }
	}
	check "DKMS builds and installs the packaged source for $kv into updates/dkms" dkms_install
done

# The kernel names are DKMS's to judge; the 6.1 headers do the building
# (5.10's want Debian 11's gcc-10, which only the rig's chroot has).
build_exclusive() {
	local kd kv rc
	kd=$(kernel_dir 6.1) kv=$(basename "$kd")
	dkms_private build -k 5.4.0-42-amd64 --kernelsourcedir "$kd/usr/src/linux-headers-$kv"
	rc=$?
	[ $rc = 77 ] || { echo "5.4: dkms exit $rc, not 77 (skipped)"; return 1; }
	dkms_private build -k 5.10.0-46-amd64 --kernelsourcedir "$kd/usr/src/linux-headers-$kv"
	rc=$?
	[ $rc = 0 ] || { echo "5.10: dkms exit $rc, not 0 (built)"; return 1; }
	dkms_private build -k "$kv" -a i686 --kernelsourcedir "$kd/usr/src/linux-headers-$kv"
	rc=$?
	ls "$WORK/dkms/vmclock/$version/$kv/i686/module" 2>/dev/null && { echo "built for i686"; return 1; }
	return 0
}
check "DKMS builds for 5.10 and skips older kernels and architectures other than x86_64/arm64" build_exclusive

# On a 7.x kernel that ships ptp_vmclock, the module DKMS installs is the one
# modprobe loads. (Built with the 6.1 headers, as the 7.x ones need a newer
# userland; depmod looks at the module's place, not its build.)
precedence() {
	local kd kv m sys got h
	kd=$(kernel_dir 7) kv=$(basename "$kd")
	m=$kd/usr/lib/modules/$kv sys=$WORK/sys
	h=$(kernel_dir 6.1)/usr/src/linux-headers-$(basename "$(kernel_dir 6.1)")
	mkdir -p "$sys/lib/modules/$kv/kernel/drivers/ptp"
	cp "$m"/kernel/drivers/ptp/ptp_vmclock.ko* "$sys/lib/modules/$kv/kernel/drivers/ptp/" ||
		{ echo "no in-tree ptp_vmclock in $kv"; return 1; }
	cp "$m"/modules.order "$m"/modules.builtin* "$sys/lib/modules/$kv/"
	dkms_private install -k "$kv" --kernelsourcedir "$h" || return 1
	depmod -b "$sys" "$kv" || return 1
	got=$(modinfo -b "$sys" -k "$kv" -n ptp_vmclock)
	echo "modinfo -n: $got"
	[ "$got" = "$sys/lib/modules/$kv/updates/dkms/ptp_vmclock.ko" ]
}
check "7.x: DKMS installs beside the kernel's own ptp_vmclock and depmod prefers ours" precedence

# ------------------------------------------------------------ make install / uninstall
tree=$WORK/tree dest=$WORK/dest
rm -rf "$tree" "$dest"; mkdir -p "$tree"
(cd "$ROOT" && git ls-files -co --exclude-standard | tar -cf - --ignore-failed-read -T - | tar -xf - -C "$tree")
kd=$(kernel_dir 6.1) kv=$(basename "$kd")
make_install() {
	make -C "$tree" -s install KDIR="$kd/usr/src/linux-headers-$kv" KVER="$kv" \
		DESTDIR="$dest" PREFIX=/usr/local || return 1
	local missing=0 f
	for f in "lib/modules/$kv/updates/ptp_vmclock.ko" etc/udev/rules.d/60-vmclock.rules \
		usr/local/share/vmclock/chrony/61-vmclock-chrony.rules \
		usr/local/share/vmclock/chrony/vmclock.conf \
		usr/local/share/vmclock/chrony/chrony-wait-vmclock.conf; do
		[ -f "$dest/$f" ] || { echo "missing: $f"; missing=1; }
	done
	grep -q '^updates/ptp_vmclock.ko:' "$dest/lib/modules/$kv/modules.dep" ||
		{ echo "modules.dep:"; cat "$dest/lib/modules/$kv/modules.dep"; missing=1; }
	[ ! -e "$dest/etc/udev/rules.d/61-vmclock-chrony.rules" ] || { echo "61 rule active"; missing=1; }
	return $missing
}
check "make install: module in updates/, depmod, udev rule, chrony files (disabled)" make_install

make_uninstall() {
	make -C "$tree" -s uninstall KVER="$kv" DESTDIR="$dest" PREFIX=/usr/local || return 1
	local left
	left=$(cd "$dest" && find . -type f ! -name 'modules.*')
	[ -z "$left" ] || { echo "left behind: $left"; return 1; }
	! grep -q ptp_vmclock "$dest/lib/modules/$kv/modules.dep"
}
check "make uninstall leaves no file of ours" make_uninstall

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
