/* SPDX-License-Identifier: GPL-2.0 */
/* Deterministic case generation helpers (splitmix64, fixed seeds). */
#ifndef VMCLOCK_RNG_H
#define VMCLOCK_RNG_H

#include <vmclock/vmclock-core.h>

static inline u64 rng_next(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the tiny modulo bias does not matter). */
static inline u64 rng_below(u64 *state, u64 n)
{
	return rng_next(state) % n;
}

/* A random value of random bit length: small and huge values alike. */
static inline u64 rng_bits(u64 *state)
{
	return rng_next(state) >> rng_below(state, 64);
}

static inline u64 rng_pick(u64 *state, const u64 *set, unsigned int n)
{
	return set[rng_below(state, n)];
}

#endif
