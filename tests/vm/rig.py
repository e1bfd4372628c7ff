#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The vmclock test rig: boot real Debian kernels under QEMU TCG with a
host-driven VMClock page, run the in-guest checks, report TAP.

Each boot is described by a script in tests/vm/boots/ whose header lines
say how to boot it:

    # rig-kernels: 6.1 6.12 7      kernels of the cache's kernels/ to boot it on
    # rig-acpi: default            SSDT variants (iasl -D names joined by +),
                                   or "none" for no table of ours; one guest
                                   run per kernel and variant
    # rig-expect: kernel-warning   the run must show a WARNING (rig canary)
    # rig-expect-report: TEXT      the kernel log must show a report line
                                   containing TEXT (repeatable; debug canary)
    # rig-known-differences: FILE  failing checks expected of the in-tree
                                   driver (reported as TODO)
    # rig-module: ours             module under test: ours | intree | none
    # rig-qemu-vmclock: yes        also give the guest QEMU's -device vmclock
    # rig-serve: --steady          extra arguments for vmclock-host serve
    # rig-timeout: 300             seconds for the whole boot
    # rig-userland: bookworm       also unpack tests/vm/userland.sh NAME's
                                   tree (client programs and their libraries)
                                   into the guest's root
    # rig-cmdline: ...             extra kernel command line
    # rig-arm64: acpi              arm64 guests boot UEFI firmware and find
                                   the page through ACPI (our SSDT from the
                                   initrd, the page in an NVDIMM), not the
                                   device tree (tests/vm/arm64.py)
    # rig-dt: irq                  arm64 device tree variant: the node
                                   gets the interrupt of QEMU's PL061
                                   (tests/vm/arm64.py), which the host
                                   raises on the guest's RIG-ACTION
                                   powerdown
    # rig-icount: yes              one vCPU whose clocks count its executed
                                   instructions (-icount shift=0): guest time
                                   no longer includes the host's scheduling,
                                   but the guest TSC is not the host's (no
                                   calibration, no clock data for the host)

The guest's own checks are TAP lines on the serial console; the host adds,
per boot, that the guest finished in time and that its kernel log is free of
BUG, WARNING, Oops and their kind. The run ends with `N passed, N failed`.
"""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import arm64

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Machine-wide, so that a fresh clone reuses what an earlier run fetched.
CACHE = os.environ.get("VMCLOCK_CACHE", "/var/cache/vmclock")
BUILD = os.path.join(ROOT, "build", "vm")
VM = os.path.join(ROOT, "tests", "vm")

VMCLOCK_GPA = 0x1F000000
FC_VMCLOCK_GPA = 0x9D000
# QEMU loads the initrd just below the top of RAM: with 512 MiB a client
# userland's initrd reached the page at 0x1f000000 and was overwritten by
# the host. 1 GiB keeps it clear (and below 2 GiB, file offset == GPA).
RAM_MB = 1024

# What makes a guest run fail when it shows in the kernel log.
KERNEL_FAILURES = re.compile(
    r"BUG:|WARNING:|Oops|general protection fault|UBSAN:|"
    r"soft lockup|hard LOCKUP|blocked for more than \d+ seconds|"
    r"Kernel panic|Call Trace:|"
    # debug kernel: lockdep's INFO reports, kmemleak's dump, ODEBUG
    r"INFO: (possible|trying to register|inconsistent|lockdep)|"
    r"unreferenced object 0x|suspected memory leaks|ODEBUG:")

TAP_LINE = re.compile(r"^(not ok|ok)\b(?:\s+\d+)?(?:\s*-\s*)?(.*)$")
PLAN_LINE = re.compile(r"^1\.\.(\d+)")


class Report:
    """Collects TAP results of the whole run and prints them as they come."""

    def __init__(self):
        self.n = self.passed = self.failed = self.skipped = self.todo = 0
        self.known = None   # {pattern: times seen} of the boot running now

    def result(self, good, name, diag=()):
        self.n += 1
        skip = "# SKIP" in name
        if not good and self.known is not None:
            for pat in self.known:
                if pat in name:
                    self.known[pat] += 1
                    name += " # TODO known difference of the in-tree driver"
                    break
        if skip:
            self.skipped += 1
        elif "# TODO" in name:
            self.todo += 1
        elif good:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'ok' if good else 'not ok'} {self.n} - {name}", flush=True)
        for line in diag:
            print(f"# {line}", flush=True)

    def note(self, text):
        print(f"# {text}", flush=True)

    def close(self):
        print(f"1..{self.n}")
        tail = f", {self.skipped} skipped" if self.skipped else ""
        if self.todo:
            self.note(f"{self.todo} known differences of the in-tree driver (TODO)")
        print(f"{self.passed} passed, {self.failed} failed{tail}", flush=True)
        return self.failed == 0


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def kernel_version(kernel):
    return os.path.basename(os.path.realpath(os.path.join(CACHE, "kernels", kernel)))


# ------------------------------------------------------------------ boots
class Boot:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-3]
        self.kernels = ["6.1", "6.12", "7"]
        self.acpi = ["default"]
        self.expect_warning = False
        self.expect_reports = []
        self.module = "ours"
        self.qemu_vmclock = False
        self.serve = ""
        self.timeout = 300
        self.cmdline = ""
        self.arm64 = "dt"
        self.known = None
        self.userland = None
        self.icount = False
        self.dt = "default"
        with open(path) as f:
            for line in f:
                m = re.match(r"#\s*rig-([a-z0-9-]+):\s*(.*?)\s*$", line)
                if not m:
                    continue
                key, val = m.groups()
                if key == "kernels":
                    self.kernels = val.split()
                elif key == "acpi":
                    self.acpi = val.split()
                elif key == "expect":
                    self.expect_warning = val == "kernel-warning"
                elif key == "expect-report":
                    self.expect_reports.append(val)
                elif key == "module":
                    self.module = val
                elif key == "qemu-vmclock":
                    self.qemu_vmclock = val == "yes"
                elif key == "serve":
                    self.serve = val
                elif key == "timeout":
                    self.timeout = int(val)
                elif key == "cmdline":
                    self.cmdline = val
                elif key == "arm64":
                    self.arm64 = val
                elif key == "userland":
                    self.userland = val
                elif key == "dt":
                    self.dt = val
                elif key == "icount":
                    self.icount = val == "yes"
                elif key == "known-differences":
                    with open(os.path.join(ROOT, val)) as kf:
                        self.known = [l.strip() for l in kf
                                      if l.strip() and not l.startswith("#")]


def page_gpa(acpi):
    return FC_VMCLOCK_GPA if "FC_SHAPE" in acpi.split("+") else VMCLOCK_GPA


def find_boots(names):
    boots = [Boot(p) for p in sorted(glob.glob(os.path.join(VM, "boots", "*.sh")))]
    if names:
        boots = [b for b in boots if b.name in names]
        missing = set(names) - {b.name for b in boots}
        if missing:
            sys.exit(f"rig: no such boot: {' '.join(sorted(missing))}")
    return boots


# ------------------------------------------------------------------ builds
def build_host_parts():
    """Everything that does not depend on the guest kernel."""
    run(["make", "-s", "-C", os.path.join(ROOT, "tools", "vmclock-host")])
    run(["make", "-s", "-C", os.path.join(VM, "guest"), "all"])
    run(["make", "-s", "-C", os.path.join(ROOT, "tools", "vmclock"), "static"])
    run(["make", "-s", "-C", os.path.join(ROOT, "tools", "lib", "vmclock"), "guest"])
    run([os.path.join(VM, "kselftest.sh"), "install", "x86_64", os.path.join(BUILD, "kselftest")],
        stdout=subprocess.DEVNULL)


def build_acpi(variant):
    out = os.path.join(BUILD, "acpi", f"{variant}.aml")
    src = os.path.join(VM, "acpi", "vmclock.asl")
    if os.path.exists(out) and os.path.getmtime(out) > os.path.getmtime(src):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    defs = [] if variant == "default" else sum((["-D", d] for d in variant.split("+")), [])
    run(["iasl", "-vs", "-we", "-p", out[:-4]] + defs + [src], stdout=subprocess.DEVNULL)
    return out


def build_module(kernel, name, files, subdir="."):
    """Build an external module for one kernel in a private copy of the
    repository files it needs (kbuild writes objects next to the sources, so
    kernels must not share a tree); subdir is where its Kbuild is."""
    kver = kernel_version(kernel)
    work = os.path.join(BUILD, "kbuild", kver, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # Sources only: build products of a build in the checkout itself carry
    # that build's paths.
    products = shutil.ignore_patterns("*.o", "*.ko", "*.mod", "*.mod.c", ".*.cmd",
                                      "Module.symvers", "modules.order", ".tmp*")
    for rel in files:
        src = os.path.join(ROOT, rel)
        dst = os.path.join(work, rel)
        if os.path.isdir(src):
            shutil.copytree(src, dst, ignore=products)
        else:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
    mdir = os.path.join(work, subdir)
    run([os.path.join(VM, "kbuild.sh"), kernel, mdir, "modules"], stdout=subprocess.DEVNULL)
    kos = glob.glob(os.path.join(mdir, "**", "*.ko"), recursive=True)
    if not kos:
        raise RuntimeError(f"no module built for {name} on {kver}")
    return kos


def builtin_vmclock(kernel):
    """Whether KERNEL has the kernel's own ptp_vmclock built in (Debian's
    arm64 7.x): then it would bind the page before ours could load."""
    kver = kernel_version(kernel)
    path = os.path.join(CACHE, "kernels", kver, "lib", "modules", kver, "modules.builtin")
    if not os.path.exists(path):
        return False
    return "kernel/drivers/ptp/ptp_vmclock.ko" in read(path).split()


def intree_module(kernel):
    kver = kernel_version(kernel)
    pat = os.path.join(CACHE, "kernels", kver, "lib", "modules", kver, "kernel",
                       "drivers", "ptp", "ptp_vmclock.ko*")
    found = glob.glob(pat)
    if not found:
        return None
    out = os.path.join(BUILD, "intree", kver, "ptp_vmclock.ko")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    decompress_module(found[0], out)
    return out


def module_deps(kernel, kos):
    """The kernel's own modules that KOS need (e.g. ptp and pps_core, which
    5.10 builds as modules where later kernels have them built in), in an
    order insmod can load them, decompressed: (name, path) pairs."""
    kver = kernel_version(kernel)
    mdir = os.path.join(CACHE, "kernels", kernel, "lib", "modules", kver)
    deps = {}
    with open(os.path.join(mdir, "modules.dep")) as f:
        for line in f:
            mod, _, needs = line.partition(":")
            deps[ko_name(mod)] = (mod, [ko_name(n) for n in needs.split()])
    order = []

    def want(name):
        if name in order:
            return
        if name not in deps:
            raise RuntimeError(f"{kver}: no module {name} in modules.dep")
        for need in reversed(deps[name][1]):
            want(need)
        order.append(name)

    for ko in kos:
        needs = subprocess.run(["modinfo", "-F", "depends", ko], check=True,
                               capture_output=True, text=True).stdout.strip()
        for name in filter(None, needs.replace("-", "_").split(",")):
            want(name)
    out = []
    for name in order:
        src = os.path.join(mdir, deps[name][0])
        dst = os.path.join(BUILD, "deps", kver, name + ".ko")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        decompress_module(src, dst)
        out.append((name, dst))
    return out


def ko_name(path):
    """A module's name from its file name (modules.dep, modinfo style)."""
    return re.sub(r"\.ko(\.(xz|zst|gz))?$", "", os.path.basename(path)).replace("-", "_")


def decompress_module(src, out):
    if src.endswith(".xz"):
        with open(out, "wb") as f:
            run(["xz", "-dc", src], stdout=f)
    elif src.endswith(".zst"):
        run(["zstd", "-q", "-f", "-d", src, "-o", out])
    else:
        shutil.copy2(src, out)


def userland(name):
    """The root tree tests/vm/userland.sh makes for NAME (built once, cached)."""
    out = subprocess.run(["bash", os.path.join(VM, "userland.sh"), name], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()
    if not out or not os.path.isdir(out[-1]):
        raise RuntimeError(f"userland.sh {name} printed no tree")
    return out[-1]


def guest_programs(kernel):
    """busybox, the vmclock command, and the other static programs the
    guest runs, built for the kernel's architecture."""
    if arm64.is_arm64(kernel):
        out = arm64.build_guest_parts(ROOT, BUILD)
        guest, vmclock = os.path.join(out, "guest"), os.path.join(out, "vmclock")
        lib = os.path.join(out, "lib")
        busybox = os.path.join(CACHE, "busybox-arm64", "bin", "busybox")
    else:
        guest, vmclock = os.path.join(VM, "guest"), os.path.join(ROOT, "tools", "vmclock", "build")
        lib = os.path.join(ROOT, "tools", "lib", "vmclock", "build")
        busybox = "/bin/busybox"
    progs = [os.path.join(guest, p) for p in ("rig-echo", "rig-host", "uevent-listen", "ptp-show")]
    progs.append(os.path.join(lib, "vmclock-libcheck"))
    return busybox, os.path.join(vmclock, "vmclock-static"), progs


def kselftest_install(kernel):
    """The installed kselftest tree (tests/vm/kselftest.sh) for the kernel's
    architecture: run_kselftest.sh, the vmclock target and ptp."""
    if arm64.is_arm64(kernel):
        return os.path.join(BUILD, "arm64", "kselftest", "install")
    return os.path.join(BUILD, "kselftest", "install")


def make_initramfs(kernel, boot, modules):
    """One cpio per (kernel, boot): busybox, helpers, tests, modules, script."""
    kver = kernel_version(kernel)
    busybox, vmclock, progs = guest_programs(kernel)
    tree = tempfile.mkdtemp(prefix="rig-initrd-")
    try:
        for d in ("bin", "sbin", "proc", "sys", "dev", "tmp", "rig/bin", "rig/modules"):
            os.makedirs(os.path.join(tree, d), exist_ok=True)
        shutil.copy2(busybox, os.path.join(tree, "bin", "busybox"))
        os.symlink("busybox", os.path.join(tree, "bin", "sh"))
        shutil.copy2(os.path.join(VM, "guest", "init.sh"), os.path.join(tree, "init"))
        shutil.copy2(os.path.join(VM, "guest", "lib.sh"), os.path.join(tree, "rig", "lib.sh"))
        shutil.copy2(boot.path, os.path.join(tree, "rig", "boot.sh"))
        shutil.copy2(vmclock, os.path.join(tree, "rig", "bin", "vmclock"))
        for p in progs:
            shutil.copy2(p, os.path.join(tree, "rig", "bin"))
        shutil.copytree(kselftest_install(kernel), os.path.join(tree, "rig", "kselftest"),
                        symlinks=True)
        for sub, path in modules.items():
            dst = os.path.join(tree, "rig", "modules", sub)
            if sub.endswith(".ko"):
                dst = os.path.join(tree, "rig", "modules")
            os.makedirs(dst, exist_ok=True)
            shutil.copy2(path, dst)
        # The kernel's modules these need, loaded in this order (lib.sh).
        deps = module_deps(kernel, list(modules.values()))
        os.makedirs(os.path.join(tree, "rig", "modules", "deps"))
        with open(os.path.join(tree, "rig", "modules", "deps", "order"), "w") as f:
            for name, path in deps:
                shutil.copy2(path, os.path.join(tree, "rig", "modules", "deps"))
                f.write(name + "\n")
        if boot.userland:
            shutil.copytree(userland(boot.userland), tree, symlinks=True, dirs_exist_ok=True)
        os.chmod(os.path.join(tree, "init"), 0o755)
        out = os.path.join(BUILD, "initrd", f"{kver}-{boot.name}.cpio")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        files = subprocess.run(["find", "."], cwd=tree, check=True, capture_output=True,
                               text=True).stdout
        with open(out, "wb") as f:
            subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=tree, input=files.encode(),
                           stdout=f, check=True)
        return out
    finally:
        shutil.rmtree(tree)


# ------------------------------------------------------------------ one guest run
def machine_args(ram, icount=False):
    """The x86 guest every rig boot runs: its RAM shared with the host."""
    # Single-threaded TCG: with one host thread per vCPU, QEMU pushes
    # the guest TSC offset forward whenever two threads read the host
    # TSC out of order, so the guest-host offset the rig learns (and
    # every page the host writes from it) drifts by up to milliseconds.
    # One thread running both vCPUs in turn keeps it constant.
    cpus = ["-smp", "2"]
    if icount:
        # One vCPU: with two, QEMU's round robin lets one run up to
        # 100 ms of virtual time while the other waits, in guest time.
        cpus = ["-icount", "shift=0", "-smp", "1"]
    return ["-accel", "tcg,thread=single", "-cpu", "max"] + cpus + ["-m", f"{RAM_MB}M",
            "-object", f"memory-backend-file,id=ram,size={RAM_MB}M,mem-path={ram},share=on",
            "-machine", "q35,memory-backend=ram"]


class Guest:
    """A QEMU process with its shared RAM file, serial log and host server."""

    def __init__(self, kernel, boot, acpi, initrd, aml, workdir):
        self.kernel, self.boot, self.initrd, self.aml = kernel, boot, initrd, aml
        self.acpi, self.gpa = acpi, page_gpa(acpi)
        # The page's place in the RAM file (virt's RAM starts at 1 GiB).
        self.offset = self.gpa
        self.workdir = workdir
        self.ram = os.path.join(workdir, "ram")
        # The file the host writes the page into, at self.offset.
        self.page_file = self.ram
        self.arm64_acpi = arm64.is_arm64(kernel) and boot.arm64 == "acpi"
        if self.arm64_acpi:
            self.page_file = os.path.join(workdir, "vmclock-page")
            self.offset, self.gpa = 0, arm64.NVDIMM_GPA
            self.initrd = arm64.acpi_initrd(aml, initrd, workdir)
        elif arm64.is_arm64(kernel):
            self.offset, self.gpa = self.gpa, arm64.RAM_BASE + self.gpa
        self.log = os.path.join(workdir, "serial.log")
        self.monitor = os.path.join(workdir, "monitor.sock")
        self.qemu = None
        self.serve = None
        self.actions = []   # (host action the guest asked for, outcome)

    def qemu_cmd(self, incoming=None):
        """The guest's QEMU command line; with INCOMING, one restoring a saved state."""
        append = [f"rig.acpi={self.acpi}", "loglevel=4", "panic=-1",
                  f"rig.mailbox={self.gpa + 0x1000:#x}",
                  f"rig.module={self.boot.module}", f"rig.kernel={self.kernel}"]
        if self.boot.cmdline:
            append.append(self.boot.cmdline)
        if os.environ.get("RIG_SELFTESTS"):
            # A developer's choice of selftests (comma-separated), for lib.sh.
            append.append("rig.selftests=" + os.environ["RIG_SELFTESTS"].replace(" ", ","))
        if self.boot.module != "intree" and builtin_vmclock(self.kernel):
            # Keep the built-in driver from registering: ours binds instead.
            append.append("initcall_blacklist=vmclock_platform_driver_init")
        if arm64.is_arm64(self.kernel):
            machine, devices = self.arm64_machine(append)
        else:
            machine, devices = self.x86_machine(append)
        cmd = machine + [
               "-kernel", os.path.join(CACHE, "kernels", self.kernel, "vmlinuz"),
               "-initrd", self.initrd, "-append", " ".join(append),
               "-display", "none", "-no-reboot", "-nodefaults",
               "-chardev", f"file,id=ser,path={self.log},append=on", "-serial", "chardev:ser",
               "-monitor", f"unix:{self.monitor},server=on,wait=off"] + devices
        if incoming:
            cmd += ["-incoming", incoming]
        return cmd

    def x86_machine(self, append):
        """QEMU and its machine for x86, and the devices that hold the page
        (our SSDT, QEMU's own vmclock); adds to the kernel command line."""
        append += ["console=ttyS0", "tsc=reliable", f"memmap=8K${self.gpa:#x}"]
        devices = []
        if self.aml:
            devices += ["-acpitable", f"file={self.aml}"]
        if self.boot.qemu_vmclock:
            devices += ["-device", "vmclock"]
        return ["qemu-system-x86_64"] + machine_args(self.ram, self.boot.icount), devices

    def arm64_machine(self, append):
        """The same for arm64: its device tree describes the page, or with
        "rig-arm64: acpi" our SSDT among the firmware's ACPI tables."""
        if self.arm64_acpi:
            firmware = os.path.join(CACHE, arm64.FIRMWARE)
            append += ["console=ttyAMA0", "acpi=force"]
            return ["qemu-system-aarch64"] + arm64.acpi_machine_args(
                self.ram, RAM_MB, self.page_file, firmware), []
        machine = ["qemu-system-aarch64"] + arm64.machine_args(self.ram, RAM_MB)
        # The page and the rig's mailbox after it, as memmap=8K on x86.
        dtb, pl061 = arm64.make_dtb(machine + ["-nodefaults"], self.workdir, self.gpa, 0x2000,
                                    self.boot.dt)
        append.append("console=ttyAMA0")
        if pl061 is not None:
            append.append(f"rig.pl061={pl061:#x}")
        return machine, ["-dtb", dtb]

    def start(self):
        with open(self.ram, "wb") as f:
            f.truncate(RAM_MB << 20)
        if self.page_file != self.ram:
            with open(self.page_file, "wb") as f:
                f.truncate(arm64.NVDIMM_BYTES)
        self.qemu = subprocess.Popen(self.qemu_cmd(), stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.workdir, "qemu.out"), "w"),
                                     stderr=subprocess.STDOUT)
        host = os.path.join(ROOT, "tools", "vmclock-host", "build", "vmclock-host")
        args = [host, "--file", self.page_file, "--offset", hex(self.offset), "serve"]
        args += self.boot.serve.split()
        self.serve = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                      stdout=open(os.path.join(self.workdir, "serve.log"), "w"),
                                      stderr=subprocess.STDOUT)

    def hmp(self, command, wait_s=10):
        """One human-monitor command over the unix socket."""
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(wait_s)
        s.connect(self.monitor)
        s.sendall((command + "\n").encode())
        time.sleep(0.3)
        try:
            data = s.recv(65536)
        except socket.timeout:
            data = b""
        s.close()
        return data.decode(errors="replace")

    def save_restore(self):
        """Real QEMU save to a file and restore into a new QEMU process."""
        state = os.path.join(self.workdir, "state")
        self.hmp(f'migrate "exec:cat > {state}"')
        deadline = time.time() + 60
        while time.time() < deadline:
            if "completed" in self.hmp("info migrate"):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("migration to file did not complete")
        self.hmp("quit")
        self.qemu.wait(timeout=30)
        if os.path.exists(self.monitor):
            os.unlink(self.monitor)
        # The new QEMU runs the guest by itself once the state is loaded
        # (-incoming without -S). No monitor command may follow: QEMU 10
        # removes its own monitor socket's path about half a second after
        # it starts from -incoming (seen while the process ran on), so a
        # connection then fails with ENOENT or not, by timing.
        self.qemu = subprocess.Popen(self.qemu_cmd(incoming=f"exec:cat {state}"),
                                     stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.workdir, "qemu2.out"), "w"),
                                     stderr=subprocess.STDOUT)

    def stop(self):
        for p in (self.serve, self.qemu):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def wait(self, timeout):
        """Follow the serial log until RIG-END or the deadline; act on requests."""
        deadline = time.time() + timeout
        seen_actions = 0
        while time.time() < deadline:
            text = read(self.log)
            if "RIG-END" in text:
                return True
            actions = re.findall(r"^RIG-ACTION (\S+)", text, re.M)
            for action in actions[seen_actions:]:
                try:
                    if action == "powerdown":
                        # arm64 "irq" guests: pulses the PL061 pin whose
                        # interrupt the vmclock node names.
                        self.hmp("system_powerdown")
                    elif action == "save-restore":
                        self.save_restore()
                    else:
                        raise RuntimeError("unknown action")
                    outcome = "done"
                except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                    outcome = f"failed: {e}"
                self.actions.append((action, outcome))
            seen_actions = len(actions)
            if self.qemu.poll() is not None and "RIG-END" not in read(self.log):
                return False
            time.sleep(0.2)
        return False


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


# ------------------------------------------------------------------ results
def guest_results(report, label, text):
    """Pass the guest's TAP lines on. A selftest program runs between the
    markers "# selftest NAME" and "# selftest NAME exit RC" (guest/lib.sh):
    it must print a plan (leading or trailing) that matches what it ran, and
    a non-zero exit other than 4 (all skipped) must come with a failure."""
    prog = None

    def finish(rc):
        if prog is None:
            return
        name, plan, ran, failed = prog["name"], prog["plan"], prog["ran"], prog["failed"]
        if plan is None:
            report.result(False, f"{label}: {name} printed no TAP plan (exit {rc})")
        elif plan != ran and not (plan == 0 and failed):
            report.result(False, f"{label}: {name} planned {plan} checks, ran {ran}")
        elif rc not in ("0", "4") and not failed:
            report.result(False, f"{label}: {name} exited {rc} without a failed check")

    body = text.split("RIG-DMESG-BEGIN")[0]
    ksft = None
    for raw in body.splitlines():
        line = raw.strip("\r")
        m = re.match(r"^# kselftest (\S+)(?: exit (\d+))?$", line)
        if m:
            if m.group(2) is None:
                ksft = KselftestRun(report, label, m.group(1))
            elif ksft is not None:
                ksft.finish(m.group(2))
                ksft = None
            continue
        if ksft is not None:
            ksft.line(line)
            continue
        m = re.match(r"^# selftest (\S+)(?: exit (\d+))?$", line)
        if m:
            if m.group(2) is None:
                prog = {"name": m.group(1), "plan": None, "ran": 0, "failed": 0}
            else:
                finish(m.group(2))
                prog = None
            continue
        m = PLAN_LINE.match(line)
        if m and prog is not None:
            prog["plan"] = int(m.group(1))
            continue
        if line.startswith("Bail out!"):
            report.result(False, f"{label}: {line}")
            if prog is not None:
                prog["failed"] += 1
            continue
        m = TAP_LINE.match(line)
        if m:
            good = m.group(1) == "ok"
            if prog is not None:
                prog["ran"] += 1
                prog["failed"] += 0 if good else 1
            report.result(good, f"{label}: {m.group(2).strip()}")
    finish("lost")
    if ksft is not None:
        ksft.finish("lost")


class KselftestRun:
    """One `run_kselftest.sh -t COLLECTION:TEST` between the markers
    "# kselftest C:T" and "# kselftest C:T exit RC" (guest/lib.sh): the
    runner's own KTAP (plan 1..1, one "ok 1 selftests: C: T" line) with the
    program's KTAP nested in it, each line prefixed "# ". Every nested test
    result is a result of the run; so is the runner's verdict, which must
    agree with them, and the program's plan must match what it ran."""

    def __init__(self, report, label, name):
        self.report, self.label, self.name = report, label, name
        self.prog = name.split(":")[-1]
        self.outer = None        # (good, text) of the runner's line
        self.plan = None
        self.ran = self.failed = 0

    def line(self, line):
        if line.startswith("# "):
            inner = line[2:]
            m = PLAN_LINE.match(inner)
            if m:
                self.plan = int(m.group(1))
                return
            if inner.startswith("Bail out!"):
                self.failed += 1
                self.report.result(False, f"{self.label}: {self.prog}: {inner}")
                return
            m = TAP_LINE.match(inner)
            if m:
                good = m.group(1) == "ok"
                self.ran += 1
                self.failed += 0 if good else 1
                self.report.result(good, f"{self.label}: {self.prog}: {m.group(2).strip()}")
            return
        m = TAP_LINE.match(line)
        if m:
            self.outer = (m.group(1) == "ok", m.group(2).strip())

    def finish(self, rc):
        what = f"{self.label}: {self.prog}: run_kselftest.sh"
        if self.outer is None:
            self.report.result(False, f"{what} printed no result for {self.name} (exit {rc})")
            return
        good, text = self.outer
        skip = "# SKIP" in text
        if self.plan is None:
            self.report.result(False, f"{what}: the program printed no KTAP plan")
        elif self.plan != self.ran and not (self.plan == 0 and skip):
            self.report.result(False, f"{what}: the program planned {self.plan} tests, ran {self.ran}")
        if good != (self.failed == 0):
            self.report.result(False, f"{what}: runner says {text!r} after {self.failed} failed tests")
        elif skip:
            self.report.result(True, f"{what}: {text}")
        else:
            self.report.result(good, f"{what}: {text}")


def kernel_log(text):
    m = re.search(r"RIG-DMESG-BEGIN\n(.*?)RIG-DMESG-END", text, re.S)
    return m.group(1) if m else text


def show_guest(text):
    """The guest's own output, for a person: no kernel log, no rig markers."""
    body = text.split("RIG-DMESG-BEGIN")[0]
    for line in body.splitlines():
        if not re.match(r"^\[\s*\d+\.\d+\]|^RIG-", line):
            print(f"  | {line}", flush=True)


def run_boot(report, kernel, boot, acpi, initrd, keep, show=False):
    label = f"{boot.name}@{kernel}" if len(boot.acpi) == 1 else f"{boot.name}[{acpi}]@{kernel}"
    if acpi == "none" or (arm64.is_arm64(kernel) and boot.arm64 != "acpi"):
        aml = None
    elif arm64.is_arm64(kernel):
        aml = build_acpi("ARM64_NVDIMM" if acpi == "default" else acpi + "+ARM64_NVDIMM")
    else:
        aml = build_acpi(acpi)
    for attempt in (1, 2):
        workdir = tempfile.mkdtemp(prefix="rig-", dir="/dev/shm")
        guest = Guest(kernel, boot, acpi, initrd, aml, workdir)
        t0 = time.time()
        try:
            guest.start()
            finished = guest.wait(boot.timeout)
        finally:
            guest.stop()
        elapsed = time.time() - t0
        text = read(guest.log)
        klog = kernel_log(text)
        before_module = text.split("RIG-MODULE-LOADING")[0]
        # A TCG glitch can oops a kernel before our module is anywhere near
        # it (rig-notes): retry such a boot once, and say so.
        if (attempt == 1 and not finished and "RIG-MODULE-LOADING" not in text
                and KERNEL_FAILURES.search(before_module)):
            report.note(f"{label}: kernel failed before the module was loaded; retrying once")
            report.note(f"retry reason: {KERNEL_FAILURES.search(before_module).group(0)}")
            shutil.rmtree(workdir, ignore_errors=True)
            continue
        break
    logdir = os.path.join(BUILD, "logs")
    os.makedirs(logdir, exist_ok=True)
    saved = os.path.join(logdir, f"{label}.log")
    shutil.copy2(guest.log, saved)
    shutil.copy2(os.path.join(workdir, "serve.log"), saved[:-4] + ".serve.log")
    report.note(f"{label}: {elapsed:.1f} s, log {os.path.relpath(saved, ROOT)}")
    if show:
        show_guest(text)
    if boot.known is not None:
        report.known = {pat: 0 for pat in boot.known}
    guest_results(report, label, text)
    for action, outcome in guest.actions:
        report.result(outcome == "done", f"{label}: host action {action} {outcome}")
    status = re.search(r"^RIG-STATUS (\d+)", text, re.M)
    report.result(finished, f"{label}: guest ran to the end within {boot.timeout} s",
                  [] if finished else text.splitlines()[-15:])
    bad = [l for l in klog.splitlines() if KERNEL_FAILURES.search(l)]
    if boot.expect_reports:
        for pat in boot.expect_reports:
            report.result(any(pat in l for l in bad),
                          f"{label}: kernel-log check catches the deliberate '{pat}'", bad[:3])
    elif boot.expect_warning:
        report.result(any("WARNING:" in l for l in bad),
                      f"{label}: kernel-log check catches the deliberate WARNING", bad[:3])
    else:
        report.result(not bad, f"{label}: kernel log free of BUG/WARNING/Oops/lockups", bad[:10])
    if report.known is not None:
        # A listed difference must still be seen: the list stays true. (The
        # list is put away first: its own patterns must not excuse these.)
        known, report.known = report.known, None
        for pat, seen in known.items():
            if not seen:
                report.result(False, f"{label}: listed in-tree difference not seen: {pat}")
    if status and status.group(1) != "0":
        report.note(f"{label}: boot script exit status {status.group(1)}")
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return elapsed


def kernel_modules(built, kernel, module):
    """The rig module and the module under test for one kernel, built once."""
    mods = built.setdefault(kernel, {})
    if "vmclock_rig.ko" not in mods:
        mods["vmclock_rig.ko"] = build_module(
            kernel, "rig", ["tests/vm/rig-module/Kbuild", "tests/vm/rig-module/vmclock_rig.c",
                            "tools/vmclock-host/rig-mailbox.h"], "tests/vm/rig-module")[0]
    if module == "ours" and "ours" not in mods:
        mods["ours"] = [k for k in build_module(
            kernel, "vmclock", ["Kbuild", "drivers", "include"]) if k.endswith("ptp_vmclock.ko")][0]
    if module == "intree" and "intree" not in mods:
        intree = intree_module(kernel)
        if intree:
            mods["intree"] = intree
    return mods


def debug_kernel(report):
    """The debug kernel (tests/vm/debug-kernel): built once per machine."""
    t0 = time.time()
    kver = subprocess.run([os.path.join(VM, "debug-kernel", "build.sh")], check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()
    report.note(f"debug kernel {kver} ready in {time.time() - t0:.0f} s")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("boots", nargs="*", help="boot names (default: all in tests/vm/boots)")
    ap.add_argument("--kernels", help="comma-separated kernels to limit to (5.10,6.1,6.12,7,debug)")
    ap.add_argument("--keep", action="store_true", help="keep each guest's work dir")
    ap.add_argument("--list", action="store_true", help="list boots and exit")
    ap.add_argument("--show", action="store_true",
                    help="print what each guest printed (kernel lines left out)")
    args = ap.parse_args()

    boots = find_boots(args.boots)
    if args.list:
        for b in boots:
            print(f"{b.name}: kernels={' '.join(b.kernels)} acpi={' '.join(b.acpi)} "
                  f"module={b.module}")
        return 0
    only = set(args.kernels.split(",")) if args.kernels else None

    report = Report()
    build_host_parts()
    if any("debug" in b.kernels for b in boots) and (not only or "debug" in only):
        debug_kernel(report)
    built = {}
    for boot in boots:
        for kernel in boot.kernels:
            if only and kernel not in only:
                continue
            mods = kernel_modules(built, kernel, boot.module)
            if boot.module == "intree" and "intree" not in mods:
                report.result(True, f"{boot.name}@{kernel}: # SKIP no in-tree ptp_vmclock")
                continue
            initrd = make_initramfs(kernel, boot, mods)
            for acpi in boot.acpi:
                run_boot(report, kernel, boot, acpi, initrd, args.keep, args.show)
    return 0 if report.close() else 1


if __name__ == "__main__":
    sys.exit(main())
