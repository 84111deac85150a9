"""FFT lengths: fast composite sizes, and the overlap-save block size that minimises work.

Generic FFTs (`xp.fft`) are fastest on 2,3,5-smooth lengths (every FFT library handles
those radices well); the NumPy backend asks `scipy.fft.next_fast_len`, which also knows
pocketfft's radix-7 and radix-11 passes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

FastLength = Callable[[int], int]


@functools.lru_cache(maxsize=4096)
def smooth_length(n: int) -> int:
    """The smallest 2,3,5-smooth integer >= `n` (`n` >= 1).

    >>> smooth_length(97), smooth_length(1025), smooth_length(1)
    (100, 1080, 1)
    """
    if n <= 1:
        return 1
    best = 1 << (n - 1).bit_length()  # a power of two always qualifies
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            # smallest power of two lifting power35 to at least n
            candidate = power35 << max((-(-n // power35) - 1).bit_length(), 0)
            best = min(best, candidate)
            power35 *= 3
        power5 *= 5
    return best


def candidate_lengths(
    minimum: int, maximum: int, fast_length: FastLength, step: float = 2**0.25
) -> list[int]:
    """Fast lengths from `minimum` up to `fast_length(maximum)`, growing by about `step`.

    Enough choice for the block-size search without trying every smooth number.

    >>> candidate_lengths(25, 2072, smooth_length, 2.0)
    [25, 50, 100, 200, 400, 800, 1600, 2160]
    """
    top = fast_length(max(maximum, minimum))
    lengths = {top}
    target = float(max(minimum, 1))
    while target < top:
        length = fast_length(math.ceil(target))
        if length < top:
            lengths.add(length)
        target *= step
    return sorted(lengths)
