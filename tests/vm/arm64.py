# SPDX-License-Identifier: GPL-2.0
"""The rig's arm64 guests: qemu-system-aarch64's `virt` machine under TCG,
booted with QEMU's own device tree plus a VMClock node (compatible
"amazon,vmclock", Documentation/devicetree/amazon,vmclock.yaml) whose page
sits in guest RAM, in the shared backing file, kept from the kernel by a
no-map reserved-memory node. Kernels of the cache named NAME-arm64."""
import os
import re
import subprocess

# virt puts RAM at 1 GiB: guest-physical = RAM_BASE + offset in the file.
RAM_BASE = 0x40000000
CROSS = "aarch64-linux-gnu-"


def is_arm64(kernel):
    return kernel.endswith("-arm64")


def build_guest_parts(root, build):
    """The guest's static programs, cross-built into build/vm/arm64/."""
    out = os.path.join(build, "arm64")
    cc = [f"CC={CROSS}gcc", f"AR={CROSS}ar"]
    lib = os.path.join(out, "lib")

    def make(sub, *args):
        subprocess.run(["make", "-s", "-C", os.path.join(root, sub)] + cc + list(args),
                       check=True)

    make("tests/vm/guest", f"OUT={out}/guest", "all")
    make("tools/vmclock", f"BUILD={out}/vmclock", f"LIBBUILD={lib}", "static")
    make("tools/lib/vmclock", f"BUILD={lib}", f"{lib}/vmclock-libcheck")
    subprocess.run([os.path.join(root, "tests", "vm", "kselftest.sh"), "install", "arm64",
                    os.path.join(out, "kselftest")], check=True, stdout=subprocess.DEVNULL)
    return out


def machine_args(ram, ram_mb):
    """Two vCPUs on one host thread (single-threaded TCG, as on x86: the
    guest counter keeps one relation to the host's clock)."""
    return ["-accel", "tcg,thread=single", "-cpu", "cortex-a72", "-smp", "2",
            "-m", f"{ram_mb}M",
            "-object", f"memory-backend-file,id=ram,size={ram_mb}M,mem-path={ram},share=on",
            "-machine", "virt,memory-backend=ram"]


def vmclock_node(gpa, spi=None):
    """The VMClock node of Documentation/devicetree/amazon,vmclock.yaml,
    for a parent with two address and two size cells; with SPI, the GIC
    shared interrupt it names (edge, rising)."""
    irq = "" if spi is None else f"\n\t\tinterrupts = <0x0 {spi:#x} 0x1>;"
    return f"""
	ptp@{gpa:x} {{
		compatible = "amazon,vmclock";
		reg = <0x0 {gpa:#x} 0x0 0x1000>;{irq}
	}};
"""


def take_pl061(dts):
    """The interrupt for the node (variant "irq"): the SPI QEMU's virt wires
    to its PL061 GPIO controller, whose pin 3 the power button
    (system_powerdown on the monitor) pulses. The PL061 and gpio-keys nodes
    go, so that no driver claims the controller: the guest arms it itself.
    Returns the deletions, the SPI and the PL061's address."""
    m = re.search(r"\n\t(pl061@([0-9a-f]+)) \{(.*?)\n\t\};", dts, re.S)
    if not m:
        raise RuntimeError("QEMU's device tree has no PL061 node")
    irq = re.search(r"interrupts = <0x00 (0x[0-9a-f]+) ", m.group(3))
    gone = f"\n\t/delete-node/ {m.group(1)};\n\t/delete-node/ gpio-keys;\n"
    return gone, int(irq.group(1), 16), int(m.group(2), 16)


def vmclock_nodes(gpa, reserve, spi=None, extra=""):
    """Device-tree source added to QEMU's tree: the page (and the rig's
    mailbox page after it, RESERVE bytes in all) kept out of the kernel's
    memory, and the VMClock node naming the page."""
    return f"""
/ {{{extra}
	reserved-memory {{
		#address-cells = <2>;
		#size-cells = <2>;
		ranges;

		vmclock-page@{gpa:x} {{
			reg = <0x0 {gpa:#x} 0x0 {reserve:#x}>;
			no-map;
		}};
	}};
{vmclock_node(gpa, spi)}}};
"""


def make_dtb(qemu_cmd, workdir, gpa, reserve, variant="default"):
    """QEMU's tree for exactly this machine (dumpdtb with the same
    arguments), with the VMClock nodes, compiled by dtc. Variant "irq":
    the node has the PL061's interrupt (take_pl061). Returns the tree's
    path and the PL061 address the guest arms (or None)."""
    base = os.path.join(workdir, "virt.dtb")
    cmd = list(qemu_cmd)
    i = cmd.index("-machine") + 1
    cmd[i] += f",dumpdtb={base}"
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)
    dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", base], check=True,
                         capture_output=True, text=True).stdout
    spi = pl061 = None
    extra = ""
    if variant == "irq":
        extra, spi, pl061 = take_pl061(dts)
    src = os.path.join(workdir, "guest.dts")
    with open(src, "w") as f:
        f.write(dts + vmclock_nodes(gpa, reserve, spi, extra))
    out = os.path.join(workdir, "guest.dtb")
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out, src], check=True)
    return out, pl061


# ACPI guests (boots with "# rig-arm64: acpi"), as on Graviton: UEFI
# firmware (Debian's qemu-efi-aarch64, unpacked by setup.sh) hands the
# kernel QEMU's ACPI tables; our SSDT joins them from the initrd
# (CONFIG_ACPI_TABLE_UPGRADE: an uncompressed cpio first in the initrd,
# holding kernel/firmware/acpi/*.aml). ACPI has no reserved-memory node and
# arm64 no memmap=, so the page (and the rig's mailbox after it) lives in
# a cold-plugged NVDIMM, a shared file of its own that the firmware leaves
# out of the memory map: with RAM_MB of RAM at 1 GiB, virt's device memory
# (and so the NVDIMM's first slot) starts at 2 GiB.
NVDIMM_GPA = 0x80000000
NVDIMM_BYTES = 2 << 20
FIRMWARE = os.path.join("firmware-arm64", "usr", "share", "qemu-efi-aarch64", "QEMU_EFI.fd")


def acpi_machine_args(ram, ram_mb, page_file, firmware):
    """machine_args() with UEFI firmware (ACPI) and the page's NVDIMM."""
    args = machine_args(ram, ram_mb)
    args[args.index("-m") + 1] = f"{ram_mb}M,slots=1,maxmem={2 * ram_mb}M"
    args[args.index("-machine") + 1] += ",nvdimm=on"
    return args + ["-bios", firmware,
                   "-object", f"memory-backend-file,id=vmclock,size={NVDIMM_BYTES},"
                              f"mem-path={page_file},share=on",
                   "-device", f"nvdimm,id=vmclock-page,memdev=vmclock,addr={NVDIMM_GPA:#x}"]


def acpi_initrd(aml, initrd, workdir):
    """INITRD with AML in front, where the kernel's table upgrade finds it
    (names must start with kernel/firmware/acpi/, no leading ./)."""
    tree = os.path.join(workdir, "early")
    os.makedirs(os.path.join(tree, "kernel", "firmware", "acpi"))
    with open(aml, "rb") as src, \
            open(os.path.join(tree, "kernel", "firmware", "acpi", "vmclock.aml"), "wb") as dst:
        dst.write(src.read())
    names = "kernel\nkernel/firmware\nkernel/firmware/acpi\nkernel/firmware/acpi/vmclock.aml\n"
    early = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], input=names.encode(),
                           cwd=tree, check=True, capture_output=True).stdout
    out = os.path.join(workdir, "initrd")
    with open(initrd, "rb") as src, open(out, "wb") as dst:
        dst.write(early)
        dst.write(src.read())
    return out
