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
        return x[(slice(None),) * axis + (slice(0, length),)]
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
            x[(slice(None),) * axis + (slice(j * hop, (j + count) * hop),)],
            (*before, count, hop, *after),
        )
        for j in range(pieces)
    ]
    framed = rows[0] if pieces == 1 else xp.concat(rows, axis=axis + 1)
    return fit(xp, framed, axis + 1, frame)
