#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""vmclock benchmark: boot rig guests one at a time and print one table.

For our driver on 6.1, 6.12 and 7.x and the in-tree driver on 7.x: cost
per PTP_SYS_OFFSET_EXTENDED2 sample, per PTP_SYS_OFFSET_PRECISE2 call, per
clock_gettime() on the PHC and on CLOCK_MONOTONIC; wake-up latency from the
host's seq_count bump to the guest's poll() return, through the ACPI Notify
and through the polling timer; phc2sys |offset| once locked.

The guests are the rig's (tests/vm/rig.py, imported, unchanged): its boots
live in tests/vm/boots/ and all run under `make check`, so the benchmark's
boots live in bench/boots/ and this runner drives the rig's functions
itself, appending a second cpio archive (the kernel unpacks concatenated
archives) with the benchmark program and its guest script.
"""
import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "vm"))
import rig  # noqa: E402  (tests/vm/rig.py)

LOGDIR = os.path.join(ROOT, "build", "bench")
RUNS = [("ours", "6.1"), ("ours", "6.12"), ("ours", "7"), ("intree", "7")]


@contextlib.contextmanager
def output_to(path):
    """Send stdout and stderr to path at the descriptor level, so the make,
    kbuild and cpio children of the rig's functions go there too; yields a
    stream on the original stderr for progress lines."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    progress = os.fdopen(os.dup(saved_err), "w", buffering=1)
    with open(path, "w") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield progress
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            progress.close()


def append_cpio(initrd, files):
    """Append files ({path in the guest: source}) to initrd as a second cpio
    archive (the kernel unpacks concatenated archives)."""
    tree = tempfile.mkdtemp(prefix="bench-initrd-")
    try:
        names = []
        for dst, src in files.items():
            parts = dst.split("/")
            # Directories too: the kernel does not create missing parents.
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in names:
                    names.append(d)
            os.makedirs(os.path.join(tree, os.path.dirname(dst)), exist_ok=True)
            shutil.copy2(src, os.path.join(tree, dst))
            names.append(dst)
        with open(initrd, "ab") as f:
            subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=tree,
                           input=("\n".join(names) + "\n").encode(), stdout=f, check=True)
    finally:
        shutil.rmtree(tree)


def extra_cpio(initrd):
    """Append rig/bin/vmclock-bench and rig/bench/guest.sh to initrd."""
    append_cpio(initrd, {"rig/bin/vmclock-bench": os.path.join(HERE, "build", "vmclock-bench"),
                         "rig/bench/guest.sh": os.path.join(HERE, "guest.sh")})


def parse(text):
    """The guest's BENCH lines as a dict of dicts."""
    res = {}
    for line in text.splitlines():
        m = re.match(r"^BENCH (cost|wake notify|wake poll|phc2sys)\b(.*)$", line.strip())
        if not m:
            continue
        kind, rest = m.groups()
        vals = dict(re.findall(r"(\w+)=(\S+)", rest))
        if "n/a" in rest.split()[:1]:
            vals["na"] = rest.strip()
        res[kind] = vals
    return res


def fmt_num(d, key, scale=1.0, digits=0):
    if not d or key not in d:
        return "-"
    try:
        return f"{float(d[key]) / scale:.{digits}f}"
    except ValueError:
        return d[key]


def fmt_wake(d, scale, digits):
    if not d:
        return "-"
    if "na" in d:
        return "n/a"
    return " / ".join(fmt_num(d, k, scale, digits) for k in ("median_us", "p90_us", "max_us"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=20, help="wake-ups per mode (default 20)")
    ap.add_argument("--phc2sys", type=int, default=60,
                    help="seconds of phc2sys per guest, 0 to leave it out (default 60)")
    ap.add_argument("--only", help="comma-separated runs, e.g. ours@7,intree@7")
    args = ap.parse_args()

    runs = RUNS
    if args.only:
        want = set(args.only.split(","))
        runs = [r for r in RUNS if f"{r[0]}@{r[1]}" in want]
    os.makedirs(LOGDIR, exist_ok=True)
    tap_log = os.path.join(LOGDIR, "rig.tap")
    t_start = time.time()
    rows, failed = [], False
    with output_to(tap_log) as progress:
        rig.build_host_parts()
        subprocess.run(["make", "-s", "-C", HERE], check=True)
        report = rig.Report()
        built = {}
        for module, kernel in runs:
            boot = rig.Boot(os.path.join(HERE, "boots", f"{module}.sh"))
            boot.name = f"bench-{module}"
            boot.cmdline = f"rig.bench_count={args.count} rig.bench_phc2sys={args.phc2sys}"
            if not args.phc2sys:
                boot.userland = None
            label = f"{boot.name}@{kernel}"
            print(f"bench: {label} ...", file=progress)
            mods = rig.kernel_modules(built, kernel, module)
            if module == "intree" and "intree" not in mods:
                rows.append((kernel, module, None))
                report.note(f"{label}: no in-tree ptp_vmclock, skipped")
                continue
            initrd = rig.make_initramfs(kernel, boot, mods)
            extra_cpio(initrd)
            before = report.failed
            elapsed = rig.run_boot(report, kernel, boot, "default", initrd, False)
            text = rig.read(os.path.join(rig.BUILD, "logs", f"{label}.log"))
            res = parse(text)
            want = ["cost", "wake notify", "wake poll"] + (["phc2sys"] if args.phc2sys else [])
            for kind in want:
                if kind not in res:
                    report.result(False, f"{label}: the guest printed its {kind} result")
            bad = report.failed - before
            failed |= bad > 0
            print(f"bench: {label}: {elapsed:.0f} s, {bad} failed checks",
                  file=progress)
            rows.append((kernel, module, res))
        ok = report.close()

    kver = {k: rig.kernel_version(k) for _, k in runs}
    head = ["kernel", "driver", "EXTENDED2 ns/sample", "PRECISE2 ns", "PHC gettime ns",
            "MONOTONIC ns", "Notify wake us (med / p90 / max)",
            "polling wake ms (med / p90 / max)"]
    if args.phc2sys:
        head.append(f"phc2sys \\|offset\\| ns (med / max, {args.phc2sys} s)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kernel, module, res in rows:
        if res is None:
            cells = [kver[kernel], module] + ["skipped"] * (len(head) - 2)
        else:
            cost = res.get("cost")
            cells = [kver[kernel], module,
                     fmt_num(cost, "extended_ns"), fmt_num(cost, "precise_ns"),
                     fmt_num(cost, "phc_gettime_ns"), fmt_num(cost, "monotonic_ns"),
                     fmt_wake(res.get("wake notify"), 1, 0),
                     fmt_wake(res.get("wake poll"), 1000, 1)]
            if args.phc2sys:
                p = res.get("phc2sys")
                cell = f"{p['median_ns']} / {p['max_ns']}" if p else "-"
                if p and p.get("n") != p.get("of"):
                    cell += f" ({p.get('n')} of {p.get('of')} lines s2)"
                cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines))
    print(f"\n{len(rows)} guests in {time.time() - t_start:.0f} s; rig TAP log "
          f"{os.path.relpath(tap_log, ROOT)}, guest logs build/vm/logs/bench-*.log")
    if failed or not ok:
        print("bench: some guest checks FAILED (see the TAP log): figures may be missing",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
