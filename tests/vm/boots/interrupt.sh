# SPDX-License-Identifier: GPL-2.0
# rig-kernels: 6.12-arm64 6.1-arm64 7-arm64
# rig-module: ours
# rig-acpi: none
# rig-dt: irq
# rig-timeout: 400
#
# arm64: the device-tree interrupt wakes readers. The node names the SPI of
# QEMU's PL061 GPIO controller (no driver of the guest claims it; this
# script arms its pin 3, the power button, for a rising edge), and the host
# pulses that pin with system_powerdown on the QEMU monitor. With the page
# saying NOTIFICATION_PRESENT and the driver's polling off
# (poll_interval_ms=0), only the interrupt can wake a poller.

# PL061 registers: GPIOIS, GPIOIBE, GPIOIEV, GPIOIE, GPIOIC.
pl061_arm() {
	devmem $((RIG_PL061 + 0x41c)) 32 0xff &&
	devmem $((RIG_PL061 + 0x404)) 32 0 &&
	devmem $((RIG_PL061 + 0x408)) 32 0 &&
	devmem $((RIG_PL061 + 0x40c)) 32 8 &&
	devmem $((RIG_PL061 + 0x410)) 32 8 &&
	[ $(($(devmem $((RIG_PL061 + 0x410)) 32) & 8)) = 8 ]
}
# Seconds since boot, to the hundredth.
uptime_cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }

# irq_trace_start: trace vmclock0's interrupt handler entries with the
# CLOCK_MONOTONIC trace clock, the clock of vmclock watch's woke_at.
irq_trace_start() {
	t=/sys/kernel/tracing
	tracefs_ready && echo mono > $t/trace_clock &&
	echo 'name == "vmclock0"' > $t/events/irq/irq_handler_entry/filter &&
	echo 1 > $t/events/irq/irq_handler_entry/enable && echo 1 > $t/tracing_on
}
# wake_latency_us: from the first traced entry of the handler to the
# reader's return from poll() (woke_at, ns), in microseconds.
wake_latency_us() {
	woke=$(sed -n 's/^disruption .* woke_at=\([0-9]*\)$/\1/p' /tmp/watch.out)
	[ -n "$woke" ] || return 1
	awk -v woke="$woke" '/irq_handler_entry/ {
		for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) {
			split(substr($i, 1, length($i) - 1), a, ".")
			us = (woke / 1000) - (a[1] * 1000000 + a[2])
			if (us > 0) { printf "%d\n", us; found = 1 }
			exit
		}
	} END { exit !found }' /sys/kernel/tracing/trace
}

check "rig module loads" load_rig
check "host writes a page with NOTIFICATION_PRESENT" host init --notify --counter invalid --gen-counter
check "ptp_vmclock (${RIG_MODULE:-ours}) loads with poll_interval_ms=0" load_driver poll_interval_ms=0
check "/dev/vmclock0 appears" wait_for 5 test -c /dev/vmclock0
check "the driver holds the node's interrupt" grep -q vmclock /proc/interrupts
check "the PL061's pin 3 interrupt is armed" pl061_arm
check "tracing vmclock0's interrupt handler" irq_trace_start
watch_disruption_start
check "host disrupts (marker and seq change, no wake yet)" host disrupt
sleep 2
check "no reader woke without the interrupt" kill -0 "$watch_pid"
t0=$(uptime_cs)
echo "RIG-ACTION powerdown"
watch_disruption_end
t1=$(uptime_cs)
echo "# interrupt requested at ${t0}0 ms, readers done at ${t1}0 ms (guest uptime; includes the rig's 0.2 s log polling)"
# vmclock watch looks at the page once its own timeout (120 s) is over:
# only a prompt wake shows the interrupt did it.
check "the readers woke within 2 s of the request" [ $((t1 - t0)) -lt 200 ]
# The wake-up itself: interrupt handler to the reader's return from poll().
lat=$(wake_latency_us)
echo "# wake latency: ${lat:-unknown} us from vmclock0's interrupt handler to vmclock watch's return from poll()"
check "the reader's wake-up follows the traced interrupt" [ -n "$lat" ]
grep vmclock /proc/interrupts | sed 's/^/# /'
