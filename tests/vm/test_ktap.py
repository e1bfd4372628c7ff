#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host checks of the rig's reading of run_kselftest.sh output
(rig.guest_results, KselftestRun): each case is a guest log excerpt and the
results the rig must draw from it. TAP, closing "N passed, N failed"."""
import contextlib
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig  # noqa: E402


def ksft(prog, inner, outer, rc="0"):
    """A guest log of one `run_kselftest.sh -t drivers/ptp/vmclock:PROG`."""
    lines = [f"# kselftest drivers/ptp/vmclock:{prog}", "TAP version 13", "1..1",
             f"# selftests: drivers/ptp/vmclock: {prog}"]
    lines += ["# " + l for l in inner]
    lines += [outer, f"# kselftest drivers/ptp/vmclock:{prog} exit {rc}"]
    return "\n".join(lines) + "\n"


PASS = ["TAP version 13", "1..2", "# Starting 2 tests from 1 test cases.",
        "#  RUN           dev.a ...", "ok 1 dev.a", "ok 2 dev.b # SKIP no host",
        "# PASSED: 2 / 2 tests passed."]
CASES = [
    # name, log, expected [(good, substring of the result's name)]
    ("two tests and the runner's verdict",
     ksft("vmclock_dev", PASS, "ok 1 selftests: drivers/ptp/vmclock: vmclock_dev"),
     [(True, "vmclock_dev: dev.a"), (True, "dev.b # SKIP no host"),
      (True, "run_kselftest.sh: selftests: drivers/ptp/vmclock: vmclock_dev")]),
    ("a failed test and the runner's not ok",
     ksft("vmclock_dev", ["TAP version 13", "1..1", "not ok 1 dev.a"],
          "not ok 1 selftests: drivers/ptp/vmclock: vmclock_dev # exit=1", "0"),
     [(False, "dev.a"), (False, "vmclock_dev # exit=1")]),
    ("the program ran fewer tests than planned (killed)",
     ksft("vmclock_dev", ["TAP version 13", "1..3", "ok 1 dev.a"],
          "not ok 1 selftests: drivers/ptp/vmclock: vmclock_dev # exit=137"),
     [(True, "dev.a"), (False, "planned 3 tests, ran 1"),
      (False, "runner says")]),
    ("the runner says ok after a failed test",
     ksft("vmclock_dev", ["TAP version 13", "1..1", "not ok 1 dev.a"],
          "ok 1 selftests: drivers/ptp/vmclock: vmclock_dev"),
     [(False, "dev.a"), (False, "runner says")]),
    ("the whole program skipped",
     ksft("vmclock_dev", ["TAP version 13", "1..0 # SKIP no /dev/vmclock0"],
          "ok 1 selftests: drivers/ptp/vmclock: vmclock_dev # SKIP", "0"),
     [(True, "vmclock_dev # SKIP")]),
    ("no KTAP plan from the program",
     ksft("vmclock_dev", ["something else"],
          "ok 1 selftests: drivers/ptp/vmclock: vmclock_dev"),
     [(False, "printed no KTAP plan"), (True, "vmclock_dev")]),
    ("the runner printed no verdict (the guest died)",
     "# kselftest drivers/ptp/vmclock:vmclock_dev\nTAP version 13\n1..1\n"
     "# TAP version 13\n# 1..1\n# ok 1 dev.a\n",
     [(True, "dev.a"), (False, "printed no result for drivers/ptp/vmclock:vmclock_dev")]),
]


class Recorder(rig.Report):
    def __init__(self):
        super().__init__()
        self.seen = []

    def result(self, good, name, diag=()):
        self.seen.append((good, name))


def main():
    n = failed = 0
    for name, log, want in CASES:
        rep = Recorder()
        with contextlib.redirect_stdout(io.StringIO()):
            rig.guest_results(rep, "driver@7", log)
        good = len(rep.seen) == len(want) and all(
            g == wg and sub in seen for (g, seen), (wg, sub) in zip(rep.seen, want))
        n += 1
        print(f"{'ok' if good else 'not ok'} {n} - rig reads run_kselftest.sh: {name}")
        if not good:
            failed += 1
            print(f"# want {want}")
            print(f"# got  {rep.seen}")
    print(f"1..{n}")
    print(f"{n - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
