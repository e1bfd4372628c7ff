# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# A scratch directory for a host-side shell suite, sourced: $tmp is made
# now; on exit every process whose PID the suite appended to pids is
# killed and reaped, then $tmp goes.
tmp=$(mktemp -d)
pids=()
scratch_cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap scratch_cleanup EXIT
