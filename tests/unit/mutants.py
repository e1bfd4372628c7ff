#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Show that the unit tests can fail: break the core on purpose, one way at
a time, in a temporary copy of include/, and require `make check` to fail
for every break. Slow (a full build and run per mutant): not part of check.

Usage: mutants.py [name ...]     (from tests/unit; default: all mutants)
"""
import os
import shutil
import subprocess
import sys
import tempfile

CORE = 'vmclock/vmclock-core.h'
ABI = 'uapi/linux/vmclock-abi.h'

# name -> (how it must die, [(file, exact text, replacement), ...]).
# 'test': it compiles and a test point reports "not ok".
# 'build': abi_offsets.c refuses to compile. Each text occurs exactly once.
MUTANTS = {
    'drop the fraction carry': ('test', [(CORE, '\t\tnow += elapsed;\n',
        '\t\tnow += elapsed - ((u128)((u64)now + (u64)elapsed <'
        ' (u64)now) << 64);\n')]),
    'truncate instead of floor behind C1': ('test', [(CORE,
        '\t\t\telapsed++;\n', '\t\t\telapsed += 0;\n')]),
    'off-by-one distance bound': ('test', [(CORE,
        '(u64)(elapsed >> 64) >= VMCLOCK_MAX_BEHIND_SEC',
        '(u64)(elapsed >> 64) > VMCLOCK_MAX_BEHIND_SEC')]),
    'refuses clock data a day old': ('test', [(CORE,
        'if (behind && (u64)(elapsed >> 64) >= VMCLOCK_MAX_BEHIND_SEC)',
        'if ((u64)(elapsed >> 64) >= (behind ? VMCLOCK_MAX_BEHIND_SEC : 86400))')]),
    'no time_sec overflow check': ('test', [(CORE,
        'if (now + elapsed < now)', 'if (0)')]),
    'unsigned delta only': ('test', [(CORE,
        'bool behind = (s64)delta < 0;', 'bool behind = false;')]),
    'accept shift 64': ('test', [(CORE, 'shift > 63)', 'shift > 64)')]),
    'error bound rounded down': ('test', [(CORE,
        '\tif (inexact) {', '\tif (inexact && 0) {')]),
    'error bound wraps instead of saturating': ('test', [(CORE,
        '\tif (q >> 64)\n', '\tif (0)\n')]),
    'error sum wraps': ('test', [(CORE,
        'time_err > U64_MAX - ns ? U64_MAX :', '0 ? U64_MAX :')]),
    'esterror ignores PERIOD_ESTERROR_VALID': ('test', [(CORE,
        '(flags & VMCLOCK_FLAG_PERIOD_ESTERROR_VALID))', '1)')]),
    'maxerror uses the estimated rate': ('test', [(CORE,
        'snap->period_maxerror, shift', 'snap->period_esterror, shift')]),
    'nsec rounded up': ('test', [(CORE, 'VMCLOCK_NSEC_PER_SEC) >> 64);',
        'VMCLOCK_NSEC_PER_SEC + UINT64_MAX) >> 64);')]),
    'seq reader accepts odd seq': ('test', [(CORE,
        '\tif (*seq & 1)\n', '\tif (0)\n')]),
    'seq reader skips the re-check': ('test', [(CORE,
        'VMCLOCK_LOAD(page->seq_count)) != seq;',
        'VMCLOCK_LOAD(page->seq_count)) != seq && 0;')]),
    'clock_read ignores the re-check': ('test', [(CORE,
        'return vmclock_seq_changed(page, seq) ? -EAGAIN : 0;',
        'return vmclock_seq_changed(page, seq) ? 0 : 0;')]),
    'clock_read loads an error field too': ('test', [(CORE,
        '\tvmclock_get_clock(page, VMCLOCK_CLOCK_SIZE, snap);\n',
        '\tvmclock_get_clock(page, VMCLOCK_CLOCK_SIZE, snap);\n'
        '\tsnap->time_esterror_ns = VMCLOCK_LOAD(page->time_esterror_nanosec);\n')]),
    'clock_read reads the counter before the window': ('test', [
        (CORE, '\tsnap->counter = read_counter ? read_counter(ctx) : 0;\n'
         '\treturn vmclock_seq_changed', '\treturn vmclock_seq_changed'),
        (CORE, '\tif (vmclock_seq_begin(page, &seq))\n\t\treturn -EAGAIN;\n\tsnap->seq = seq;',
         '\tsnap->counter = read_counter ? read_counter(ctx) : 0;\n'
         '\tif (vmclock_seq_begin(page, &seq))\n\t\treturn -EAGAIN;\n\tsnap->seq = seq;')]),
    'snap_read reads the counter after the window': ('test', [
        (CORE, '\ts.counter = read_counter ? read_counter(ctx) : 0;\n', ''),
        (CORE, '\t*snap = s;\n',
         '\ts.counter = read_counter ? read_counter(ctx) : 0;\n'
         '\t*snap = s;\n')]),
    'snap_read counts half-covered fields': ('test', [(CORE,
        'sizeof(((struct vmclock_abi *)0)->field) <= (size))',
        'sizeof(((struct vmclock_abi *)0)->field) < (size) + 4)')]),
    'snap_read writes snap on failure': ('test', [(CORE,
        '\tif (vmclock_seq_begin(page, &seq))\n\t\treturn -EAGAIN;\n\n',
        '\t*snap = (struct vmclock_snap){ 0 };\n'
        '\tif (vmclock_seq_begin(page, &seq))\n\t\treturn -EAGAIN;\n\n')]),
    'scale uses the raw sign': ('test', [(CORE,
        '\tif (tai_minus_utc < 0)\n', '\tif (0)\n')]),
    'scale ignores TAI_OFFSET_VALID': ('test', [(CORE,
        'bool valid = snap->flags & VMCLOCK_FLAG_TAI_OFFSET_VALID;',
        'bool valid = true;')]),
    'scale takes a monotonic page as UTC': ('test', [(CORE,
        '} else if (snap->time_type == VMCLOCK_TIME_UTC) {',
        '} else if (snap->time_type != VMCLOCK_TIME_TAI) {')]),
    'pvclock shift sign inverted': ('test', [(CORE,
        'delta = tsc_shift > -64 ? delta >> -tsc_shift : 0;',
        'delta = tsc_shift > -64 ? delta << -tsc_shift : 0;')]),
    'pvclock shift guard off by one': ('test', [(CORE,
        'delta = tsc_shift < 64 ? delta << tsc_shift : 0;',
        'delta = tsc_shift < 65 ? delta << (tsc_shift & 63) : 0;')]),
    'pvclock multiply shifted by 31': ('test', [(CORE,
        'tsc_to_system_mul) >> 32);', 'tsc_to_system_mul) >> 31);')]),
    'abi: 6.13 size (no vm_generation_counter)': ('build', [(ABI,
        '\t__le64 vm_generation_counter;\n', '')]),
    'abi: spec-text flag numbering': ('build', [(ABI,
        'VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT\t(1ULL << 8)',
        'VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT\t(1ULL << 7)')]),
    'abi: time_esterror_nanosec 32 bits wide': ('build', [(ABI,
        '__le64 time_esterror_nanosec;', '__le32 time_esterror_nanosec;')]),
}


def apply(inc, edits):
    for rel, old, new in edits:
        path = os.path.join(inc, rel)
        with open(path) as f:
            text = f.read()
        if text.count(old) != 1:
            return 'pattern not found exactly once: %r' % old
        with open(path, 'w') as f:
            f.write(text.replace(old, new))
    return None


def run_mutant(kind, edits, top):
    with tempfile.TemporaryDirectory(prefix='vmclock-mutant-') as tmp:
        inc = os.path.join(tmp, 'include')
        shutil.copytree(os.path.join(top, 'include'), inc)
        err = apply(inc, edits)
        if err:
            return False, err
        res = subprocess.run(['make', '-s', 'INCDIR=' + inc,
                              'OUT=' + os.path.join(tmp, 'build'), 'check'],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
        out = res.stdout.splitlines()
        failed = [ln for ln in out if ln.startswith('not ok')]
        built = any(ln.startswith('ok ') for ln in out) or failed
        if res.returncode == 0:
            return False, 'SURVIVED: make check passed'
        if kind == 'test':
            if failed:
                return True, 'killed by: ' + '; '.join(failed)
            return False, 'did not reach the tests: ' + ' | '.join(
                ln for ln in out if 'error' in ln)[:300]
        if built:
            return False, 'built although the ABI was broken'
        return True, 'killed at build: ' + ' | '.join(
            ln.strip() for ln in out if 'static assert' in ln)[:300]


def main():
    top = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
    names = sys.argv[1:] or list(MUTANTS)
    survivors = 0
    for name in names:
        kind, edits = MUTANTS[name]
        killed, why = run_mutant(kind, edits, top)
        survivors += not killed
        print('%s - mutant "%s": %s' % ('ok' if killed else 'not ok', name,
                                        why), flush=True)
    print('%d of %d mutants survived' % (survivors, len(names)))
    sys.exit(1 if survivors else 0)


if __name__ == '__main__':
    main()
