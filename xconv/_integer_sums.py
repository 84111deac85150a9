"""Integer correlations exact in the integers' own arithmetic, from float64 sums.

A float64 sum of integer products is exact while every partial sum stays below 2**53.
Past that (int64 data with large values or long kernels), each operand is split into
limbs of `b` bits, `a = sum_i a_i * 2**(b*i)`, small enough that each limb-by-limb
correlation is exact in float64; the limb correlations are then joined in int64, whose
arithmetic wraps modulo 2**64 as C's does (SciPy's direct sums). The result is exact
modulo 2**64 for every integer input, as SciPy's is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType

# float64 holds every integer below this exactly
EXACT = 2**53


def exact_in_float64(largest_x: int, largest_k: int, terms: int) -> bool:
    """Whether float64 sums of `terms` products of such magnitudes are exact."""
    return largest_x * largest_k * terms < EXACT


def correlate_in_limbs(
    xp: ModuleType,
    x,
    k,
    fill: int,
    terms: int,
    largest: tuple[int, int],
    correlate: Callable,
):
    """`correlate(x_limb, k_limb, fill_limb)` (float64 in, float64 out; linear in both
    operands and the constant fill) joined into the exact int64 correlation of the
    integer arrays `x` and `k` (each as int64: larger unsigned values have wrapped).
    `terms` bounds the products in one output sum, `largest` the operands' magnitudes."""
    # int64, or int32 where the library has no int64 (JAX without x64): the sums are
    # exact modulo 2**width, all a result of that width keeps
    width = xp.iinfo(x.dtype).bits
    bits = max(1, (52 - math.ceil(math.log2(terms + 1))) // 2)
    x_limbs = _limbs(xp, x, bits, _count(largest[0], bits))
    k_limbs = _limbs(xp, k, bits, _count(largest[1], bits))
    fills = _int_limbs(fill, bits, len(x_limbs))
    total = None
    for i, x_limb in enumerate(x_limbs):
        for j, k_limb in enumerate(k_limbs):
            part = xp.astype(xp.round(correlate(x_limb, k_limb, fills[i])), x.dtype)
            shift = bits * (i + j)
            if shift >= width:  # a multiple of 2**width: nothing modulo 2**width
                continue
            part = part * xp.asarray(_wrapped(2**shift, width), dtype=x.dtype)
            total = part if total is None else total + part
    return total


def _count(largest: int, bits: int) -> int:
    """Limbs for magnitudes up to `largest` (int64 at most): the top limb is signed."""
    return max(1, math.ceil((min(largest, 2**63).bit_length() + 1) / bits))


def _limbs(xp: ModuleType, a, bits: int, count: int) -> list:
    """`a` (int64) as `count` float64 limbs: the low ones in [0, 2**bits), the top signed."""
    base = xp.asarray(2**bits, dtype=a.dtype)
    limbs = []
    for _ in range(count - 1):
        limbs.append(xp.astype(xp.remainder(a, base), xp.float64))
        a = xp.floor_divide(a, base)
    limbs.append(xp.astype(a, xp.float64))
    return limbs


def _int_limbs(value: int, bits: int, count: int) -> list[int]:
    value = _wrapped(int(value))
    limbs = []
    for _ in range(count - 1):
        limbs.append(value % 2**bits)
        value //= 2**bits
    return [*limbs, value]


def _wrapped(value: int, width: int = 64) -> int:
    """`value` modulo 2**width, as a signed integer of that width."""
    value %= 2**width
    return value - 2**width if value >= 2 ** (width - 1) else value
