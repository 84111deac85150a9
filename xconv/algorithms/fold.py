"""The adjoint of padding: the gradient of padded samples folded back onto their sources."""

from __future__ import annotations

from collections.abc import Sequence

from ..padding import source_indices


def fold_padding(backend, g, spatial: Sequence[int], pads, mode: str):
    """Adjoint of `pad(x, pads, mode)` on the trailing axes: padded samples add onto sources.

    Each side of an axis is cut into runs whose sources step by +1, -1 (mirrors) or 0
    (replicate); a run is flipped or summed, then added onto the samples it copies.
    """
    xp = backend.xp
    rank = len(pads)
    first = g.ndim - rank
    for i, (n, (before, after)) in enumerate(zip(spatial, pads, strict=True)):
        if before == after == 0:
            continue
        axis = first + i
        sources = source_indices(n, before, after, mode)
        out = _take(g, axis, before, before + n)
        for start, stop, step in _runs(sources, before, n):
            block = _take(g, axis, start, stop)
            if step == -1:
                block = xp.flip(block, axis=axis)
            elif step == 0:
                block = xp.sum(block, axis=axis, keepdims=True)
            low = min(sources[start], sources[stop - 1])
            widths = [(0, 0)] * rank
            widths[i] = (low, n - low - block.shape[axis])
            out = out + backend.pad(block, widths)
        g = out
    return g


def _runs(sources: list[int], before: int, n: int):
    """`(start, stop, step)` runs of padded positions outside `[before, before + n)`."""
    outside = [*range(before), *range(before + n, len(sources))]
    runs: list[list[int]] = []
    for p in outside:
        if runs:
            start, stop, step = runs[-1]
            delta = sources[p] - sources[p - 1]
            if p == stop and ((stop - start == 1 and delta in (-1, 0, 1)) or delta == step):
                runs[-1] = [start, p + 1, delta]
                continue
        runs.append([p, p + 1, 1])
    return [tuple(r) for r in runs]


def _take(a, axis: int, start: int, stop: int):
    return a[(*(slice(None),) * axis, slice(start, stop), ...)]
