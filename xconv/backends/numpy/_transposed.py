"""NumPy speed-up for transposed convolution: phases written into place, not stacked."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np


def interleave(blocks: list, stride: Sequence[int]) -> np.ndarray:
    """Merge phase blocks `(N, C, *rows)` (C order over phases) into `(N, C, *(rows * s))`."""
    n, c, rows = blocks[0].shape[0], blocks[0].shape[1], tuple(blocks[0].shape[2:])
    full = tuple(r * s for r, s in zip(rows, stride, strict=True))
    out = np.empty((n, c, *full), dtype=blocks[0].dtype)
    for block, phase in zip(blocks, itertools.product(*(range(s) for s in stride)), strict=True):
        step = tuple(slice(p, None, s) for p, s in zip(phase, stride, strict=True))
        out[(slice(None), slice(None), *step)] = block
    return out


def sum_of(terms: list) -> np.ndarray:
    """The sum of equally shaped arrays, accumulated in place into one fresh array."""
    total = np.array(terms[0], copy=True)
    for term in terms[1:]:
        np.add(total, term, out=total)
    return total
