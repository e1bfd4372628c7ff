#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the rig's busybox initramfs: mount the basics, run the boot's
# script (/rig/boot.sh) with the helpers of /rig/lib.sh, dump the kernel
# log between markers for the host to scan, power off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/rig/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# The links udev makes on a full system; kselftest's runner writes to
# /dev/stdout (on a bare devtmpfs that would make a regular file).
ln -sf /proc/self/fd /dev/fd
for i in 0:stdin 1:stdout 2:stderr; do ln -sf "/proc/self/fd/${i%%:*}" "/dev/${i#*:}"; done
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mkdir -p /tmp /run && mount -t tmpfs tmpfs /tmp
# Arguments the host put on the kernel command line as rig.NAME=VALUE.
for arg in $(cat /proc/cmdline); do
	case $arg in
	rig.*=*) k=${arg#rig.}; k=${k%%=*}; export "RIG_$(echo "$k" | tr a-z- A-Z_)=${arg#*=}" ;;
	esac
done
echo "RIG-BEGIN $(uname -r)"
# Debug kernel: forget what boot itself left for kmemleak; the end of the
# run scans again and any leak found shows in the kernel log dumped below.
kmemleak=/sys/kernel/debug/kmemleak
[ -w $kmemleak ] && { echo scan > $kmemleak; echo scan > $kmemleak; echo clear > $kmemleak; }
. /rig/lib.sh
sh -c '. /rig/lib.sh; . /rig/boot.sh' 2>&1
echo "RIG-STATUS $?"
leaks=
if [ -w $kmemleak ]; then
	# Only objects older than 5 s are reported, and only from the second
	# scan that finds them unchanged and unreferenced.
	sleep 6
	echo scan > $kmemleak
	echo scan > $kmemleak
	leaks=$(cat $kmemleak)
	echo "# kmemleak: $(echo "$leaks" | grep -c 'unreferenced object') unreferenced objects at the end of the run"
fi
echo RIG-DMESG-BEGIN
dmesg
[ -n "$leaks" ] && echo "$leaks"
echo RIG-DMESG-END
echo RIG-END
sync
poweroff -f
