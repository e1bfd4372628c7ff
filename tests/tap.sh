# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# TAP for the host-side shell suites, sourced:
#   result GOOD NAME [FILE]   "ok N - NAME", or "not ok N - NAME" and the
#                             first 30 lines of FILE as "# " diagnostics
#   ok DESC                   a TAP line from the status of the command just
#                             before it; $why, if set, as its diagnostic
#   is DESC ACTUAL EXPECTED   ok when the two strings are equal
#   tap_close                 the plan and "N passed, N failed"; status 1
#                             when a check failed
n=0 passed=0 failed=0
why=

result() {
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		passed=$((passed + 1)); echo "ok $n - $2"
	else
		failed=$((failed + 1)); echo "not ok $n - $2"
		[ -n "${3:-}" ] && sed 's/^/# /' "$3" | head -n 30
	fi
	return 0
}

ok() {
	local rc=$? desc=$1
	n=$((n + 1))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1)); echo "ok $n - $desc"
	else
		failed=$((failed + 1)); echo "not ok $n - $desc"
		[ -n "${why:-}" ] && echo "# $why"
	fi
	why=
}

is() {
	why="got '$2', want '$3'"
	[ "$2" = "$3" ]; ok "$1"
}

tap_close() {
	echo "1..$n"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
