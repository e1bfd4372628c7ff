#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# bench/icount.sh [--rounds N]: guest instructions per call, ours against
# the in-tree driver, in one Linux 7.x guest under QEMU -icount; see
# bench/README.md. Needs what `make check` needs (tests/vm/setup.sh).
set -e
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/icount.py" "$@"
