#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The device-tree binding (Documentation/devicetree/amazon,vmclock.yaml)
# and the node the rig gives arm64 guests (tests/vm/arm64.py) agree: the
# binding's example compiles with dtc free of warnings, and the rig's node
# compiles likewise, carries every required property and no property the
# binding does not list. TAP, closing "N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${VMCLOCK_CACHE:-/var/cache/vmclock}
BINDING=$ROOT/Documentation/devicetree/amazon,vmclock.yaml
WORK=$ROOT/build/devicetree-check
# shellcheck source=tests/tap.sh
. "$ROOT/tests/tap.sh"
mkdir -p "$WORK"

# The dt-bindings headers the example includes, from an arm64 kernel's headers.
DTB_INC=$(find -L "$CACHE/kernels/6.12-arm64/usr/src" -maxdepth 3 -type d -path '*-common/include' | head -n1)

# yaml_block KEY: the lines of the top-level KEY's block, indented under it.
yaml_block() {
	awk -v k="$1:" '$0 == k { on = 1; next } on && /^[^ ]/ { exit } on' "$BINDING"
}
# The binding's property names, and the required ones.
props=$(yaml_block properties | sed -n 's/^  \([a-z#,-]*\):.*/\1/p' | sort)
required=$(yaml_block required | sed -n 's/^  - \(.*\)/\1/p' | sort)

# dtc_clean NAME DTS: compile, preprocessed like the kernel's dts files;
# any dtc warning fails.
dtc_clean() {
	local name=$1 src=$2
	cpp -nostdinc -I "$DTB_INC" -undef -D__DTS__ -x assembler-with-cpp -P \
		-o "$WORK/$name.pp.dts" "$src" 2>"$WORK/$name.log" &&
		dtc -I dts -O dtb -o "$WORK/$name.dtb" "$WORK/$name.pp.dts" 2>>"$WORK/$name.log" &&
		[ ! -s "$WORK/$name.log" ]
}

# A tree around a node, as dt-schema wraps binding examples: one address
# and one size cell unless the node text says otherwise, an interrupt parent.
wrap() {	# address-cells node-text
	printf '/dts-v1/;\n/ {\n\t#address-cells = <%s>;\n\t#size-cells = <%s>;\n' "$1" "$1"
	printf '\tinterrupt-parent = <&gic>;\n'
	printf '\tgic: interrupt-controller@1000 {\n\t\tcompatible = "arm,gic-400";\n'
	printf '\t\treg = <%s>;\n\t\tinterrupt-controller;\n\t\t#interrupt-cells = <3>;\n\t\t#address-cells = <0>;\n\t};\n' \
		"$([ "$1" = 2 ] && echo '0x0 0x1000 0x0 0x1000' || echo '0x1000 0x1000')"
	printf '%s\n};\n' "$2"
}

# unit_matches_reg NAME ADDRESS-CELLS: in the compiled tree NAME, the
# vmclock node's unit address is the address its reg starts with (dtc
# itself checks this only below a simple-bus).
unit_matches_reg() {
	local unit cells addr=0 c
	unit=$(dtc -I dtb -O dts "$WORK/$1.dtb" 2>/dev/null | sed -n 's/^[ \t]*ptp@\([0-9a-f]*\) {$/\1/p')
	cells=$(dtc -I dtb -O dts "$WORK/$1.dtb" 2>/dev/null |
		awk '/compatible = "amazon,vmclock"/ { on = 1 } on && /reg = / { gsub(/.*<|>.*/, ""); print; exit }')
	[ -n "$unit" ] && [ -n "$cells" ] || return 1
	for c in $(echo "$cells" | cut -d' ' -f1-"$2"); do addr=$(( (addr << 32) + c )); done
	[ "$(printf '%x' "$addr")" = "$unit" ]
}

example=$(yaml_block examples | sed '1d; s/^    //')
wrap 1 "$example" >"$WORK/example.dts"
if [ -n "$DTB_INC" ] && dtc_clean example "$WORK/example.dts"; then
	result 1 "the binding's example compiles with dtc, no warning"
else
	result 0 "the binding's example compiles with dtc, no warning" "$WORK/example.log"
fi
unit_matches_reg example 1
ok "the example's unit address is its reg address"

# The rig's node (reserved-memory part aside: not the binding's), at the
# page the arm64 guests get: polling, and with the interrupt (SPI 7, the
# PL061's on QEMU's virt, for rig-dt: irq).
for variant in polling irq; do
	spi=None; [ $variant = irq ] && spi=7
	node=$(cd "$ROOT/tests/vm" && python3 -c "import arm64; print(arm64.vmclock_node(0x5f000000, $spi))")
	wrap 2 "$node" >"$WORK/rig-$variant.dts"
	if dtc_clean "rig-$variant" "$WORK/rig-$variant.dts"; then
		result 1 "the rig's vmclock node ($variant) compiles with dtc, no warning"
	else
		result 0 "the rig's vmclock node ($variant) compiles with dtc, no warning" "$WORK/rig-$variant.log"
	fi
	unit_matches_reg "rig-$variant" 2
	ok "the rig's node ($variant): unit address is its reg address"
	# Its properties, from the compiled tree.
	have=$(dtc -I dtb -O dts "$WORK/rig-$variant.dtb" 2>/dev/null |
		awk '/compatible = "amazon,vmclock"/ { on = 1 } on && /};/ { exit }
		     on && / = |;$/ { sub(/^[ \t]+/, ""); sub(/[ ;=].*/, ""); print }' | sort -u)
	extra=$(comm -23 <(echo "$have") <(echo "$props"))
	missing=$(comm -13 <(echo "$have") <(echo "$required"))
	result "$([ -n "$have" ] && [ -z "$extra" ] && echo 1 || echo 0)" \
		"the rig's node ($variant) has only properties the binding lists${extra:+ (not listed: $extra)}"
	result "$([ -z "$missing" ] && echo 1 || echo 0)" \
		"the rig's node ($variant) has every property the binding requires${missing:+ (missing: $missing)}"
done
[ "$(grep -c '^interrupts$' <<<"$have")" = 1 ]
ok "the rig's node (irq) has the interrupts property"
tap_close
