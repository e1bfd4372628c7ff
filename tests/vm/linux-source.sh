# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Debian's linux-source-6.12 (bookworm-backports), the kernel source the rig
# builds from: the debug kernel (tests/vm/debug-kernel/build.sh) and the
# kselftest tree (tests/vm/kselftest.sh). Sourced; needs CACHE and the
# private apt state tests/vm/setup.sh makes.
#
#   linux_source_version   the version the private lists offer
#   linux_source_deb       the package in $CACHE/debs, downloaded once
LINUX_SOURCE_PKG=linux-source-6.12
LINUX_SOURCE_SUITE=bookworm-backports

linux_source_apt() {
	local apt=$CACHE/apt/bpo
	[ -e "$apt/sources.list" ] || return 1
	apt_opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::State::Lists=$apt/lists"
		-o "Dir::Cache=$apt/cache" -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
}

linux_source_version() {
	local apt_opts
	linux_source_apt || return 1
	apt-cache "${apt_opts[@]}" show "$LINUX_SOURCE_PKG/$LINUX_SOURCE_SUITE" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n1
}

linux_source_deb() {
	local apt_opts version debs=$CACHE/debs deb
	linux_source_apt || return 1
	version=$(linux_source_version) && [ -n "$version" ] || return 1
	mkdir -p "$debs"
	deb="$debs/${LINUX_SOURCE_PKG}_${version//:/%3a}_all.deb"
	if [ ! -e "$deb" ]; then
		(cd "$debs" && apt-get "${apt_opts[@]}" -q download \
			"$LINUX_SOURCE_PKG/$LINUX_SOURCE_SUITE" >/dev/null) || return 1
	fi
	[ -e "$deb" ] && echo "$deb"
}
