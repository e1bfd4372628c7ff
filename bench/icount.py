#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Guest instructions per call, ours against the in-tree driver.

One rig guest (Linux 7.x) under QEMU `-icount shift=0` (single-threaded
TCG, which the rig uses anyway): the guest TSC then advances one tick per
executed guest instruction, so differences of it are instruction counts,
the same from run to run, unlike wall-clock figures under TCG. In that one
boot our module, the kernel's own and a deliberately slowed build of ours
(an extra loop in the inline page read of every PTP path) are loaded in
turn on the same page for several rounds; bench/vmclock-insns.c measures
each path. Then, with notifications on, the Notify hop of ours and the
in-tree driver: instructions from the ACPI notify handler to a reader's
return from poll(). Prints two Markdown tables, then

    bench: instructions ours/in-tree extended=R precise=R gettime=R read=R
    bench: idle wake-ups per second ours=N

and exits 1 when a round disagrees with another (not deterministic) or
the slowed build does not show.
"""
import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "vm"))
import rig  # noqa: E402  (tests/vm/rig.py)
sys.path.insert(0, HERE)
import run  # noqa: E402  (bench/run.py: its initramfs helper)

KERNEL = "7"
PATHS = ("extended", "precise", "gettime", "read")
# read() copies 4 KiB through kernel buffers whose addresses change from one
# load of a module to the next; the copy's instruction count moves with
# their alignment by a few instructions. Its figure is shown as min-max;
# the other paths repeat exactly and are checked to.
EXACT = ("extended", "precise", "gettime")
# The slowed build: this loop goes at the start of vmclock_clock_snapshot(), the
# inline page read of every PTP path.
SLOW_FILE = "vmclock.h"
SLOW_ANCHOR = "\tif (likely(!vmclock_clock_read(st->page, snap, read_counter, ctx)))\n"
SLOW_LOOP = "\tfor (int i = 0; i < 100; i++)\n\t\tbarrier();\n"


def slow_module(kernel):
    """Our module with SLOW_LOOP in the page read, built in a private copy."""
    kver = rig.kernel_version(kernel)
    work = os.path.join(rig.BUILD, "kbuild", kver, "vmclock-slow")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    for rel in ("Kbuild", "drivers", "include"):
        src, dst = os.path.join(ROOT, rel), os.path.join(work, rel)
        if os.path.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.o", "*.ko", ".*.cmd"))
        else:
            shutil.copy2(src, dst)
    slowed = os.path.join(work, "drivers", "ptp", "vmclock", SLOW_FILE)
    text = rig.read(slowed)
    if SLOW_ANCHOR not in text:
        raise RuntimeError(f"bench: the slowed build's anchor is gone from {SLOW_FILE}")
    with open(slowed, "w") as f:
        f.write(text.replace(SLOW_ANCHOR, SLOW_LOOP + SLOW_ANCHOR, 1))
    rig.run([os.path.join(rig.VM, "kbuild.sh"), kernel, work, "modules"],
            stdout=subprocess.DEVNULL)
    return os.path.join(work, "ptp_vmclock.ko")


def parse(text):
    """{module: [{path: figure}, ...] per round}, the idle runs line and
    {module: {n, min, median, max}} of the Notify hop."""
    rounds, idle, notify = {}, None, {}
    for line in text.splitlines():
        m = re.match(r"^BENCH notify (ours|intree) (n=.*)$", line.strip())
        if m:
            notify[m.group(1)] = dict(re.findall(r"(\w+)=(\d+)", m.group(2)))
        m = re.match(r"^BENCH (ours|intree|slow) round=\d+ (.*)$", line.strip())
        if m:
            vals = dict(re.findall(r"(\w+)=([0-9.]+)", m.group(2)))
            rounds.setdefault(m.group(1), []).append(vals)
        m = re.match(r"^BENCH idle ours runs=(\d+) seconds=(\d+)", line.strip())
        if m:
            idle = int(m.group(1)) / int(m.group(2))
    return rounds, idle, notify


def cell(got, path):
    """One figure of the table: the rounds' value, or min-max when they differ."""
    vals = sorted({float(r[path]) for r in got if path in r})
    if not vals:
        return "-"
    fmt = (lambda v: f"{v:.2f}") if path == "extended" else (lambda v: f"{v:.0f}")
    return fmt(vals[0]) if len(vals) == 1 else f"{fmt(vals[0])}-{fmt(vals[-1])}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="rounds per module (default 3)")
    args = ap.parse_args()

    # The rig's TAP lines are progress here: stdout is for the table.
    with contextlib.redirect_stdout(sys.stderr):
        rig.build_host_parts()
        subprocess.run(["make", "-s", "-C", HERE], check=True)
        report = rig.Report()
        built = {}
        mods = dict(rig.kernel_modules(built, KERNEL, "ours"))
        mods.update(rig.kernel_modules(built, KERNEL, "intree"))
        if "intree" not in mods:
            print("bench: no in-tree ptp_vmclock in this 7.x kernel")
            return 1
        mods["slow"] = slow_module(KERNEL)
        boot = rig.Boot(os.path.join(HERE, "boots", "icount.sh"))
        boot.name = "bench-icount"
        boot.cmdline = f"rig.bench_rounds={args.rounds}"
        initrd = rig.make_initramfs(KERNEL, boot, mods)
        run.append_cpio(initrd, {"rig/bin/vmclock-insns":
                                 os.path.join(HERE, "build", "vmclock-insns")})
        rig.run_boot(report, KERNEL, boot, "default", initrd, False)
        label = f"{boot.name}@{KERNEL}"
        rounds, idle, notify = parse(rig.read(os.path.join(rig.BUILD, "logs", f"{label}.log")))
        ok = report.close()

    bad = []
    for module in ("ours", "intree", "slow"):
        got = rounds.get(module, [])
        if len(got) != args.rounds or any(set(PATHS) - set(r) for r in got):
            bad.append(f"{module}: {len(got)} of {args.rounds} rounds measured")
        elif any(r[p] != got[0][p] for r in got for p in EXACT):
            bad.append(f"{module}: the rounds differ: {got}")
    if not bad:
        ours, slow = rounds["ours"][0], rounds["slow"][0]
        for p in EXACT:
            if float(slow[p]) <= float(ours[p]):
                bad.append(f"the slowed build does not show in {p}: "
                           f"{slow[p]} against {ours[p]}")
    kver = rig.kernel_version(KERNEL)
    print(f"Guest instructions per call, Linux {kver}, QEMU -icount shift=0, "
          f"{args.rounds} rounds each; min-max where rounds differ\n")
    print("| driver | " + " | ".join(PATHS) + " |")
    print("|---|" + "---|" * len(PATHS))
    for module in ("ours", "intree", "slow"):
        print(f"| {module} | " + " | ".join(cell(rounds.get(module, []), p) for p in PATHS)
              + " |")
    print("\nNotify hop, guest instructions from the driver's ACPI notify handler to "
          "the reader's return from poll()\n")
    print("| driver | wake-ups | min | median | max |")
    print("|---|---|---|---|---|")
    for module in ("ours", "intree"):
        h = notify.get(module)
        if not h:
            bad.append(f"{module}: the Notify hop was not measured")
            continue
        print(f"| {module} | {h['n']} | {h['min']} | {h['median']} | {h['max']} |")
    for b in bad:
        print(f"\nbench: {b}")
    if notify.get("ours") and notify.get("intree"):
        print(f"\nbench: notify hop median instructions ours={notify['ours']['median']} "
              f"in-tree={notify['intree']['median']}")
    if not [b for b in bad if "measured" in b]:
        low = {m: {p: min(float(r[p]) for r in rounds[m]) for p in PATHS}
               for m in ("ours", "intree")}
        ratios = " ".join(f"{p}={low['ours'][p] / low['intree'][p]:.2f}" for p in PATHS)
        print(f"bench: instructions ours/in-tree {ratios}")
    print(f"bench: idle wake-ups per second ours={idle if idle is not None else 'n/a'}")
    return 0 if ok and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
