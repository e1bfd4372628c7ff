#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The package test inside a Debian 12 guest with systemd, run at each boot by
# vmclock-apt-test.service from the second disk (mounted at /mnt/t, with the
# package, the rig's guest helpers and the second kernel's packages). The
# host boots the same disk several times; apt.phase= on the kernel command
# line says which part runs:
#   1  apt install the package: DKMS builds and installs (and signs) the
#      module; enable the chrony integration as Documentation/install.md says
#   2  after a reboot: autoload, udev nodes, chrony selects the PHC and hears
#      of a disruption; a second kernel with its headers gets the module
#   3  booted into that second kernel: autoload; then apt purge leaves nothing
# TAP lines on the serial console, "APT-PHASE-END" last; then power off.
T=/mnt/t
export PATH=$T/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
phase=$(sed -n 's/.*apt\.phase=\([0-9]*\).*/\1/p' /proc/cmdline)
kver=$(uname -r)
mb=0x1f001000

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
check() {	# NAME CMD...: ok when CMD succeeds; its output as diagnostics otherwise
	name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else notok "$name"; echo "$out" | tail -n 15 | sed 's/^/# /'; fi
}
wait_for() {	# SECONDS CMD...
	n=$(($1 * 10)); shift
	while [ $n -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; n=$((n - 1)); done
	"$@"
}
finish() {
	echo "RIG-DMESG-BEGIN"; dmesg; echo "RIG-DMESG-END"
	echo "APT-PHASE-END $phase"
	systemctl poweroff
	exit 0
}

no_module() { ! modinfo -n ptp_vmclock; }
# DKMS compresses the module as the kernel's own are (.ko.xz on 6.12).
dkms_module() { ls /lib/modules/"$1"/updates/dkms/ptp_vmclock.ko* 2>/dev/null; }
ours_installed() {
	f=$(dkms_module "$kver"); echo "module: '$f', modinfo -n: $(modinfo -n ptp_vmclock)"
	[ -n "$f" ] && [ "$(modinfo -n ptp_vmclock)" = "$f" ] && dkms status vmclock -k "$kver" | grep -q installed
}
signed_by_dkms() {
	s=$(modinfo -F signer ptp_vmclock); echo "signer: '$s'"
	[ -n "$s" ] && openssl x509 -inform DER -in /var/lib/dkms/mok.pub -noout -subject | grep -qF "$s"
}
enable_chrony() {	# the commands of Documentation/install.md, as written
	ln -s /usr/share/vmclock/chrony/vmclock.conf /etc/chrony/conf.d/vmclock.conf &&
	ln -s /usr/share/vmclock/chrony/61-vmclock-chrony.rules /etc/udev/rules.d/ &&
	mkdir -p /etc/systemd/system/chrony.service.d &&
	ln -s /usr/share/vmclock/chrony/chrony-wait-vmclock.conf \
		/etc/systemd/system/chrony.service.d/vmclock.conf &&
	systemctl daemon-reload && udevadm control --reload
}
autoloaded() { lsmod | grep -q '^ptp_vmclock ' && [ -c /dev/vmclock0 ]; }
mode_0644() { [ "$(stat -c %a /dev/vmclock0)" = 644 ]; }
ptp_link() { [ -L /dev/ptp_vmclock ] && [ "$(cat /sys/class/ptp/"$(basename "$(readlink -f /dev/ptp_vmclock)")"/clock_name)" = vmclock0 ]; }
vmck_selected() { chronyc -n sources | grep -q '^#\* VMCK'; }
vmck_samples() { chronyc -c sourcestats | awk -F, '$1 == "VMCK" { print $2 }'; }

# The rig's mailbox (rig module, rig-host, rig-echo): the host's vmclock-host
# learns this guest's TSC offset, writes clock data for it, and (serve
# --steady) keeps them fresh.
clock_data() {
	insmod "$T/rig/$kver/vmclock_rig.ko" mailbox=$mb || return 1
	rig-echo tsc 3 & e=$!
	out=$(rig-host calibrate); wait $e
	off=$(echo "$out" | sed -n 's/.*offset=\(-\{0,1\}[0-9]*\).*/\1/p')
	echo "calibrate: $out"
	[ -n "$off" ] && wait_for 15 grep -qx tsc /sys/devices/system/clocksource/clocksource0/current_clocksource &&
		rig-host clock --counter-offset "$off"
}
reload_driver() { modprobe -r ptp_vmclock && modprobe ptp_vmclock; }

disruption_resets_chrony() {
	before=$(vmck_samples); echo "VMCK samples before: $before"
	[ "${before:-0}" -ge 6 ] || return 1
	rig-host disrupt || return 1
	n=50
	while [ $n -gt 0 ]; do
		now=$(vmck_samples)
		[ "${now:-99}" -lt "$before" ] && [ "${now:-99}" -le 3 ] && { echo "after: $now"; return 0; }
		sleep 0.1; n=$((n - 1))
	done
	echo "VMCK samples 5 s after the disruption: $(vmck_samples)"; return 1
}

nothing_left() {
	left=$(find / -xdev \( -path /mnt -o -path /proc -o -path /sys -o -name 'vmclock-apt-test.service' \) \
		-prune -o -iname '*vmclock*' ! -iname '*kvmclock*' -print)
	[ -z "$left" ] || { echo "left: $left"; return 1; }
	dpkg -s vmclock-dkms 2>/dev/null | grep -q '^Status: install' && { echo "still installed"; return 1; }
	return 0
}

case $phase in
1)
	check "no ptp_vmclock before the package on $kver" no_module
	t0=$(date +%s)
	check "apt install ./vmclock-dkms_*.deb" apt-get install -y "$(ls $T/vmclock-dkms_*_all.deb)"
	echo "# apt install took $(($(date +%s) - t0)) s"
	check "DKMS built and installed the module for $kver into updates/dkms" ours_installed
	check "the module is signed with DKMS's MOK key" signed_by_dkms
	check "chrony integration enabled as documented" enable_chrony
	;;
2)
	check "module loaded by itself at boot on $kver (ACPI modalias)" wait_for 10 autoloaded
	check "udev: /dev/vmclock0 is 0644" mode_0644
	check "modinfo -n names the DKMS module" ours_installed
	check "host writes clock data for this guest's TSC" clock_data
	check "driver reloaded with clock data" reload_driver
	check "udev: /dev/ptp_vmclock links to the PTP clock vmclock0" wait_for 10 ptp_link
	check "chronyd restarts with the drop-in" systemctl restart chrony
	check "chrony selects the PHC (#* VMCK) with the documented line" wait_for 90 vmck_selected
	chronyc -n sources | sed 's/^/# /'
	wait_for 30 sh -c '[ "$(chronyc -c sourcestats | awk -F, "\$1==\"VMCK\"{print \$2}")" -ge 6 ]'
	check "a disruption reaches chrony (udev rule resets its sources)" disruption_resets_chrony
	t0=$(date +%s)
	# No network here: the image's Recommends (apparmor) cannot be fetched.
	# A small initramfs (this machine's drivers only) saves minutes under TCG.
	echo MODULES=dep >/etc/initramfs-tools/conf.d/apt-test-small
	check "apt install a second kernel with its headers" apt-get install -y --no-install-recommends $T/k2/*.deb
	echo "# second kernel install took $(($(date +%s) - t0)) s"
	k2=$(basename "$(ls $T/k2/linux-image-*.deb | head -n1)" | sed 's/^linux-image-\([^_]*\)_.*/\1/; s/-unsigned$//')
	check "DKMS built the module for $k2" dkms_module "$k2"
	;;
3)
	check "second kernel $kver boots, module loaded by itself" wait_for 10 autoloaded
	check "modinfo -n names the DKMS module on $kver" ours_installed
	t0=$(date +%s)
	check "apt purge vmclock-dkms" apt-get purge -y vmclock-dkms
	echo "# apt purge took $(($(date +%s) - t0)) s"
	check "purge leaves no module, rule, link or file named vmclock" nothing_left
	check "no ptp_vmclock for any kernel after purge" sh -c '! ls /lib/modules/*/updates/dkms/ptp_vmclock.ko*'
	check "chronyd starts after purge" systemctl restart chrony
	;;
*)
	notok "no apt.phase= on the kernel command line"
	;;
esac
finish
