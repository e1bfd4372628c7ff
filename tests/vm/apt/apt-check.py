#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The package test: vmclock-dkms through apt in a Debian 12 guest with
systemd, as an operator would install it.

The guest boots (QEMU TCG) a copy of the Debian 12 root that
tests/vm/setup.sh debootstraps into the cache (systemd, DKMS, the 6.1 kernel
and its headers, chrony, linuxptp); a second disk carries the package, the
rig's guest helpers and the 6.12 kernel's packages. Guest RAM is a shared
file, so vmclock-host writes the VMClock page (before each boot: a page
without clock data; then `serve --steady` answers the guest through the
rig mailbox). Three boots of the same disk (tests/vm/apt/guest.sh says what
each checks): install, reboot into the installed module, boot the second
kernel and purge. TAP, every name starting with "apt", then
"N passed, N failed".

Usage: tests/vm/apt/apt-check.py [--keep]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import rig  # noqa: E402  (the rig's runner: cache, builds, TAP report)

APT_ROOT = os.path.join(rig.CACHE, "apt-root")
PHASES = [(1, "6.1"), (2, "6.1"), (3, "6.12")]
PHASE_TIMEOUT = 1500


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def test_disk(work):
    """The second disk: guest script, package, rig helpers, second kernel."""
    d = os.path.join(work, "t")
    os.makedirs(os.path.join(d, "bin"))
    shutil.copy2(os.path.join(HERE, "guest.sh"), d)
    debs = [f for f in os.listdir(os.path.join(rig.ROOT, "build", "deb"))
            if re.match(r"vmclock-dkms_.*_all\.deb$", f)]
    if len(debs) != 1:
        raise RuntimeError(f"expected one vmclock-dkms package in build/deb, found {debs}")
    shutil.copy2(os.path.join(rig.ROOT, "build", "deb", debs[0]), d)
    for prog in ("rig-host", "rig-echo"):
        shutil.copy2(os.path.join(rig.VM, "guest", prog), os.path.join(d, "bin"))
    for _, kernel in PHASES:
        kver = rig.kernel_version(kernel)
        os.makedirs(os.path.join(d, "rig", kver), exist_ok=True)
        ko = rig.build_module(kernel, "rig", ["tests/vm/rig-module/Kbuild",
                                              "tests/vm/rig-module/vmclock_rig.c",
                                              "tools/vmclock-host/rig-mailbox.h"],
                              "tests/vm/rig-module")[0]
        shutil.copy2(ko, os.path.join(d, "rig", kver))
    # The second kernel as its packages: image, headers and what they need
    # beyond the root (kbuild, common headers), from the rig's download cache.
    k2 = rig.kernel_version("6.12")
    os.makedirs(os.path.join(d, "k2"))
    debs = os.path.join(rig.CACHE, "debs")
    want = (f"linux-image-{k2}_", f"linux-headers-{k2}_",
            f"linux-headers-{k2.rsplit('-', 1)[0]}-common_",
            f"linux-kbuild-{k2.rsplit('-', 1)[0]}_")
    picked = [f for f in sorted(os.listdir(debs)) if f.startswith(want)]
    if len(picked) != len(want):
        raise RuntimeError(f"second kernel packages incomplete in {debs}: {picked}")
    for f in picked:
        shutil.copy2(os.path.join(debs, f), os.path.join(d, "k2"))
    img = os.path.join(work, "t.img")
    sh(["mke2fs", "-q", "-t", "ext4", "-L", "t", "-d", d, img, "1G"])
    return img


def boot_files(work, kernel, phase, root_img):
    """vmlinuz and the initrd the guest's own initramfs-tools made."""
    kver = rig.kernel_version(kernel)
    vmlinuz = os.path.join(rig.CACHE, "kernels", kernel, "vmlinuz")
    if phase < 3:
        return vmlinuz, os.path.join(APT_ROOT, "root", "boot", f"initrd.img-{kver}")
    initrd = os.path.join(work, f"initrd.img-{kver}")
    sh(["debugfs", "-R", f"dump /boot/initrd.img-{kver} {initrd}", root_img],
       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not os.path.getsize(initrd):
        raise RuntimeError(f"no /boot/initrd.img-{kver} in the guest's disk")
    return vmlinuz, initrd


def run_phase(report, work, phase, kernel, root_img, t_img, aml):
    label = f"apt@{kernel}"
    host = os.path.join(rig.ROOT, "tools", "vmclock-host", "build", "vmclock-host")
    ram = os.path.join(work, "ram")
    log = os.path.join(work, f"serial-{phase}.log")
    gpa = rig.VMCLOCK_GPA
    with open(ram, "wb") as f:
        f.truncate(rig.RAM_MB << 20)
    # The page is there before the kernel boots: the module must load by itself.
    sh([host, "--file", ram, "--offset", hex(gpa), "init", "--counter", "invalid",
        "--gen-counter"], stdout=subprocess.DEVNULL)
    vmlinuz, initrd = boot_files(work, kernel, phase, root_img)
    append = ["root=/dev/vda", "rw", "console=ttyS0", "loglevel=3", "tsc=reliable",
              f"memmap=8K${gpa:#x}", f"apt.phase={phase}", "systemd.show_status=0",
              # A getty on the console would hang up the test's output.
              "systemd.mask=serial-getty@ttyS0.service"]
    cmd = ["qemu-system-x86_64"] + rig.machine_args(ram) + [
           "-kernel", vmlinuz, "-initrd", initrd, "-append", " ".join(append),
           "-drive", f"file={root_img},if=virtio,format=raw,cache=unsafe",
           "-drive", f"file={t_img},if=virtio,format=raw,readonly=on",
           "-acpitable", f"file={aml}",
           "-display", "none", "-no-reboot", "-nodefaults",
           "-chardev", f"file,id=ser,path={log}", "-serial", "chardev:ser"]
    t0 = time.time()
    qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            stdout=open(os.path.join(work, f"qemu-{phase}.out"), "w"))
    serve = subprocess.Popen([host, "--file", ram, "--offset", hex(gpa), "serve", "--steady"],
                             stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                             stdout=open(os.path.join(work, f"serve-{phase}.log"), "w"))
    end = f"APT-PHASE-END {phase}"
    try:
        while time.time() - t0 < PHASE_TIMEOUT and qemu.poll() is None:
            time.sleep(0.5)
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait()
    finally:
        serve.terminate()
        serve.wait()
    elapsed = time.time() - t0
    text = rig.read(log)
    saved = os.path.join(rig.BUILD, "logs", f"apt-{phase}@{kernel}.log")
    os.makedirs(os.path.dirname(saved), exist_ok=True)
    shutil.copy2(log, saved)
    report.note(f"{label} phase {phase}: {elapsed:.0f} s, log {os.path.relpath(saved, rig.ROOT)}")
    body = text.split("RIG-DMESG-BEGIN")[0]
    for line in body.splitlines():
        if re.match(r"^# (apt|second|VMCK|calibrate)|^# \S+ .*took", line):
            report.note(line[2:])
    rig.guest_results(report, label, body)
    finished = end in text
    report.result(finished, f"{label}: apt phase {phase} ran to the end and powered off "
                  f"within {PHASE_TIMEOUT} s", [] if finished else text.splitlines()[-15:])
    bad = [l for l in rig.kernel_log(text).splitlines() if rig.KERNEL_FAILURES.search(l)]
    report.result(finished and not bad, f"{label}: apt phase {phase} kernel log free of "
                  "BUG/WARNING/Oops/lockups", bad[:10])
    return finished


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    report = rig.Report()
    if not os.path.exists(os.path.join(APT_ROOT, ".ready")):
        report.result(False, f"apt: no Debian 12 root in {APT_ROOT} (run tests/vm/setup.sh)")
        return 0 if report.close() else 1
    with open(os.path.join(rig.ROOT, "build", "apt-make-deb.log"), "w") as out:
        sh(["make", "-s", "-C", rig.ROOT, "deb"], stdout=out, stderr=subprocess.STDOUT)
    sh(["make", "-s", "-C", os.path.join(rig.ROOT, "tools", "vmclock-host")])
    sh(["make", "-s", "-C", os.path.join(rig.VM, "guest"), "all"])
    aml = rig.build_acpi("default")
    work = tempfile.mkdtemp(prefix="apt-", dir=os.path.join(rig.ROOT, "build"))
    try:
        t_img = test_disk(work)
        root_img = os.path.join(work, "root.img")
        sh(["cp", "--sparse=always", os.path.join(APT_ROOT, "root.img"), root_img])
        for phase, kernel in PHASES:
            try:
                ended = run_phase(report, work, phase, kernel, root_img, t_img, aml)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                report.result(False, f"apt@{kernel}: apt phase {phase} could not start: {e}")
                ended = False
            if not ended:
                for later, k in PHASES[phase:]:
                    report.result(False, f"apt@{k}: apt phase {later} not run (phase {phase} did not end)")
                break
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            report.note(f"work directory kept: {work}")
    return 0 if report.close() else 1


if __name__ == "__main__":
    sys.exit(main())
