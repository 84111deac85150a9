"""NumPy direct convolution for one input channel per group (depthwise).

Each output is a short dot product over the kernel taps of one channel: no GEMM helps,
and a multiply and an add pass per tap (the generic path) streams the whole array
through memory twice per tap. With the input channel-last, `einsum` on a window view
does all taps in one pass whose inner loop runs along the contiguous channels; slabs of
images (or of rows, for a single image) run on all cores.
"""

from __future__ import annotations

import math
import string

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import _scratch, _threads

_SLAB_BYTES = 1 << 20  # output bytes per task: enough work to hide the dispatch


def conv_direct(x: np.ndarray, weight: np.ndarray, spec, out_spatial) -> np.ndarray | None:
    """Depthwise `(N, C, *S)` convolution, or None for other layers (the generic path)."""
    n, channels = x.shape[:2]
    filters = weight.shape[0]
    if weight.shape[1] != 1 or channels != spec.groups or 0 in (n, channels, *out_spatial):
        return None
    if x.dtype != weight.dtype:
        return None
    rank = len(out_spatial)
    multiplier = filters // channels
    xcl = _channel_last(x)
    extent = spec.dilated_kernel
    windows = sliding_window_view(xcl, extent, axis=tuple(range(1, 1 + rank)))
    take = tuple(
        slice(0, (o - 1) * s + 1, s) for o, s in zip(out_spatial, spec.stride, strict=True)
    )
    taps = tuple(slice(None, None, d) for d in spec.dilation)
    windows = windows[(slice(None), *take, slice(None), *taps)]  # (N, *O, C, *k)
    windows = windows.transpose(0, *range(1, 1 + rank), *range(2 + rank, 2 + 2 * rank), 1 + rank)
    # (C * M, 1, *k) -> (M, *k, C): the channel axis last, like the windows
    w = weight.reshape(channels, multiplier, *spec.kernel_size)
    w = np.ascontiguousarray(w.transpose(1, *range(2, 2 + rank), 0))
    out = np.empty((n, *out_spatial, channels, multiplier), dtype=x.dtype)
    letters = string.ascii_letters
    o, k = letters[:rank], letters[rank : 2 * rank]
    subscripts = f"{o}{k}z,{k}z->{o}z"

    def run(index: tuple[slice, ...]) -> None:
        for i in range(n)[index[0]]:
            rows = index[1] if len(index) > 1 else slice(None)
            for m in range(multiplier):
                np.einsum(subscripts, windows[i, rows], w[m], out=out[i, rows, ..., m])

    slabs = _slabs(n, out_spatial[0], out.nbytes)
    _threads.run([lambda s=s: run(s) for s in slabs])
    result = out.reshape(n, *out_spatial, filters)
    return result.transpose(0, rank + 1, *range(1, rank + 1))


def _channel_last(x: np.ndarray) -> np.ndarray:
    """`(N, *S, C)`: a view if x is laid out channel-last, else a copy."""
    view = np.moveaxis(x, 1, -1)
    if view.flags.c_contiguous:
        return view
    out = _scratch.empty("channel-last", view.shape, x.dtype)
    _threads.copyto(out, view)
    return out


def _slabs(n: int, rows: int, nbytes: int) -> list[tuple[slice, ...]]:
    """Tasks of whole images, or of row bands when there are fewer images than cores."""
    workers = _threads.workers()
    if nbytes < _SLAB_BYTES or workers == 1:
        return [(slice(None),)]
    if n >= workers:
        return [(s,) for s in _threads.split(n, workers)]
    bands = max(1, min(rows, math.ceil(workers / n)))
    return [(slice(i, i + 1), s) for i in range(n) for s in _threads.split(rows, bands)]
