#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# bench/run.sh [--count N] [--phc2sys S] [--only ours@7,intree@7]
# Boots one rig guest at a time (ours on 6.1, 6.12, 7.x; in-tree on 7.x)
# and prints the benchmark table; see bench/README.md. Needs what
# `make check` needs (tests/vm/setup.sh has run).
set -e
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/run.py" "$@"
