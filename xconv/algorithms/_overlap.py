"""Overlap-save framing with array-API operations only (reshapes, slices and concatenation).

A signal is cut into `count` frames of `frame` samples starting every `hop` samples; each
frame's circular correlation with a kernel of `taps` samples is exact in its first
`frame - taps + 1` outputs, so with `hop = frame - taps + 1` the valid parts tile the
output. The frames of one axis are built from `ceil(frame / hop)` shifted reshapes of
the signal into `(count, hop)` rows, concatenated side by side, so no gather or strided
view (which the standard lacks) is needed.
"""

from __future__ import annotations

from types import ModuleType

from array_api_compat import device


def fit(xp: ModuleType, x, axis: int, length: int):
    """`x` cropped or zero-padded at the end of `axis` to `length` samples."""
    size = x.shape[axis]
    if size == length:
        return x
    if size > length:
        return x[(*(slice(None),) * axis, slice(0, length), ...)]
    shape = list(x.shape)
    shape[axis] = length - size
    return xp.concat([x, xp.zeros(tuple(shape), dtype=x.dtype, device=device(x))], axis=axis)


def frames(xp: ModuleType, x, axis: int, count: int, hop: int, frame: int):
    """Replace `axis` of `x` by `(count, frame)`: frame `i` holds samples `i*hop ...`.

    Missing samples past the end read as zeros.
    """
    if count == 1:
        return xp.expand_dims(fit(xp, x, axis, frame), axis=axis)
    pieces = -(-frame // hop)
    x = fit(xp, x, axis, (count + pieces - 1) * hop)
    before, after = x.shape[:axis], x.shape[axis + 1 :]
    rows = [
        xp.reshape(
            x[(*(slice(None),) * axis, slice(j * hop, (j + count) * hop), ...)],
            (*before, count, hop, *after),
        )
        for j in range(pieces)
    ]
    framed = rows[0] if pieces == 1 else xp.concat(rows, axis=axis + 1)
    return fit(xp, framed, axis + 1, frame)


def overlap_frames(xp: ModuleType, x, counts, hop, frame):
    """Overlap-save frames of `(n, C, *S)` as `(n, *counts, C, *frame)`.

    Frame `(i1, i2, ...)` starts at sample `(i1 * hop1, i2 * hop2, ...)`. This is the
    generic backend's primitive; the NumPy backend builds the frames as a strided view.
    """
    n, channels, rank = x.shape[0], x.shape[1], len(counts)
    if all(c == 1 for c in counts):
        for i in range(rank):
            x = fit(xp, x, 2 + i, frame[i])
        return xp.reshape(x, (n, *(1,) * rank, channels, *x.shape[2:]))
    for i in range(rank):
        x = frames(xp, x, 2 + 2 * i, counts[i], hop[i], frame[i])  # (n, C, c1, f1, c2, f2 ...)
    return xp.permute_dims(x, (0, *range(2, 2 + 2 * rank, 2), 1, *range(3, 3 + 2 * rank, 2)))


def overlap_join(xp: ModuleType, y, counts, block):
    """The first `block` outputs of each frame of `(n, *counts, F, *L)`, joined: `(n, F, *O)`.

    `O = counts * block` per dimension.
    """
    rank = len(counts)
    y = y[(..., *(slice(0, b) for b in block))]
    n, filters = y.shape[0], y.shape[rank + 1]
    if any(c > 1 for c in counts):  # (n, c1, c2, F, b1, b2) -> (n, F, c1, b1, c2, b2)
        y = xp.permute_dims(
            y, (0, rank + 1, *(i for d in range(rank) for i in (1 + d, rank + 2 + d)))
        )
    return xp.reshape(y, (n, filters, *(c * b for c, b in zip(counts, block, strict=True))))
