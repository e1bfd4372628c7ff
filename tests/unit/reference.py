#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Exact reference for include/vmclock/vmclock-core.h, stdlib only.

Python integers are unbounded, so every quantity here is computed exactly
(rationals kept as numerator and power-of-two denominator) and only rounded
once, at the end, the way the header's comments say it must be. It shares
no code and no intermediate formula with the C implementation.

Usage: reference.py time|pvclock  < binary records  > binary results
Records are native-endian u64 words (the C side runs on this same host).
  time:    counter counter_value period shift period_esterror
           period_maxerror time_sec time_frac time_esterror time_maxerror
           flags  ->  rc(s64) sec nsec frac esterror maxerror
  pvclock: tsc tsc_timestamp system_time mul shift(s64) -> ns
"""
import errno
import struct
import sys

M64 = (1 << 64) - 1
NSEC = 10**9
MAX_BEHIND_SEC = 1

TIME_ESTERROR_VALID = 1 << 5
TIME_MAXERROR_VALID = 1 << 6
PERIOD_ESTERROR_VALID = 1 << 3
PERIOD_MAXERROR_VALID = 1 << 4


def ceil_div_pow2(num, bits):
    """ceil(num / 2**bits) for num >= 0."""
    return -((-num) >> bits)


def snap_time(counter, cv, period, shift, pe, pm, tsec, tfrac, te, tm,
              flags):
    fail_inval = (-errno.EINVAL, 0, 0, 0, 0, 0)
    fail_range = (-errno.ERANGE, 0, 0, 0, 0, 0)
    if period == 0 or shift > 63:
        return fail_inval
    # Signed distance between the reading and counter_value, in ticks.
    delta = (counter - cv) & M64
    if delta >= 1 << 63:
        ticks = delta - (1 << 64)          # negative: before C1
    else:
        ticks = delta                      # ahead: any distance
    dist = abs(ticks)
    # Elapsed seconds = dist * period / 2**(64 + shift), exactly; behind
    # C1 only up to the skew bound.
    if ticks < 0 and dist * period >= MAX_BEHIND_SEC << (64 + shift):
        return fail_range
    # The time in units of 2**-(64 + shift) s, exact, then floored.
    exact = ((tsec << 64) + tfrac << shift) + ticks * period
    units = exact >> shift                 # Python's >> floors negatives
    if units < 0 or units >= 1 << 128:
        return fail_range
    sec = units >> 64
    frac = units & M64
    nsec = frac * NSEC >> 64

    def bound(time_flag, period_flag, time_err, rate):
        if not (flags & time_flag and flags & period_flag):
            return M64
        grow = ceil_div_pow2(dist * rate * NSEC, 64 + shift)
        return min(time_err + grow, M64)

    est = bound(TIME_ESTERROR_VALID, PERIOD_ESTERROR_VALID, te, pe)
    mx = bound(TIME_MAXERROR_VALID, PERIOD_MAXERROR_VALID, tm, pm)
    return (0, sec, nsec, frac, est, mx)


def pvclock(tsc, stamp, system_time, mul, shift):
    delta = (tsc - stamp) & M64
    if shift >= 0:
        delta = (delta << shift) & M64
    else:
        delta >>= -shift
    return ((system_time + (delta * mul >> 32)) & M64,)


MODES = {
    'time': (struct.Struct('=11Q'), struct.Struct('=q5Q'), snap_time),
    'pvclock': (struct.Struct('=4Qq'), struct.Struct('=Q'), pvclock),
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.exit('usage: reference.py time|pvclock < records > results')
    rec, res, fn = MODES[sys.argv[1]]
    src = sys.stdin.buffer
    dst = sys.stdout.buffer
    chunk = rec.size * 8192
    pack = res.pack
    while True:
        data = src.read(chunk)
        if not data:
            break
        while len(data) % rec.size:
            more = src.read(rec.size - len(data) % rec.size)
            if not more:
                sys.exit('reference.py: truncated record')
            data += more
        dst.write(b''.join(pack(*fn(*r)) for r in rec.iter_unpack(data)))
    dst.flush()


if __name__ == '__main__':
    main()
