"""NumPy speed-up for transposed convolution: phases written into place, not stacked."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np

from . import _scratch


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


def assemble_phases(shape: Sequence[int], dtype, tiles: Iterable, stride: Sequence[int]):
    """`Backend.assemble_phases`: each phase's terms summed straight into its strided place
    in one preallocated result (no phase blocks, no interleaving copy, no joined tiles).

    A sum of several terms collects in a reused buffer first (a phase block of one tile
    stays in cache), then goes into place with one strided copy.
    """
    out = np.empty(tuple(shape), dtype=dtype)
    phases_of = list(itertools.product(*(range(s) for s in stride)))
    for region, phases in tiles:
        target = out[region]
        for phase, terms in zip(phases_of, phases, strict=True):
            steps = tuple(slice(p, None, s) for p, s in zip(phase, stride, strict=True))
            place = target[(slice(None), slice(None), *steps)]
            cut = (slice(None), slice(None), *(slice(0, m) for m in place.shape[2:]))
            if len(terms) == 1:
                np.copyto(place, terms[0][cut])
                continue
            total = _scratch.empty("phase-sum", place.shape, dtype)
            np.add(terms[0][cut], terms[1][cut], out=total)
            for term in terms[2:]:
                np.add(total, term[cut], out=total)
            np.copyto(place, total)
    return out


def scratch_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`a @ b` in this thread's reused product buffer (a fresh multi-megabyte product
    faults in every page on first touch: ~2,000 faults per tconv4s2 call, measured)."""
    shape = (*np.broadcast_shapes(a.shape[:-2], b.shape[:-2]), a.shape[-2], b.shape[-1])
    out = _scratch.empty("product", shape, np.result_type(a, b))
    return np.matmul(a, b, out=out)
