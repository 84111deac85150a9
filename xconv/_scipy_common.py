"""What `xconv.signal` and `xconv.ndimage` share: one channel's N-d correlation, batched
over the axes that are not filtered, run by `xconv.conv` on any array-API array."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from types import ModuleType

from ._arrays import array_namespace
from .forward import conv


def namespace_of(*arrays) -> ModuleType:
    """The arrays' namespace (NumPy for lists and scalars, as SciPy reads them)."""
    real = [a for a in arrays if hasattr(a, "shape") and hasattr(a, "dtype")]
    if not real:
        import numpy as np

        return array_namespace(np.asarray(0.0))
    return array_namespace(*real)


def as_array(xp: ModuleType, a, name: str):
    """`a` as an array of `xp` (lists and scalars too); bool and object data are refused."""
    if not (hasattr(a, "shape") and hasattr(a, "dtype")):
        import numpy as np

        a = np.asarray(a)
        if a.dtype == object:
            raise TypeError(f"{name} must be numeric, got objects")
        a = xp.asarray(a)
    if xp.isdtype(a.dtype, "bool"):
        raise TypeError(f"{name} must be numeric, got bool")
    return a


def normalize_axes(axes, ndim: int, name: str = "axes") -> tuple[int, ...]:
    """Distinct axes in `[-ndim, ndim)`, as non-negative ints in the order given."""
    if axes is None:
        return tuple(range(ndim))
    if isinstance(axes, int) or hasattr(axes, "__index__"):
        axes = [axes]
    out = []
    for axis in axes:
        try:
            axis = operator.index(axis)
        except TypeError:
            raise TypeError(f"{name} must be ints, got {axis!r}") from None
        if not -ndim <= axis < ndim:
            raise ValueError(f"{name} {axis} is out of range for {ndim}-d input")
        out.append(axis % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must be distinct, got {tuple(axes)}")
    return tuple(out)


def correlate_axes(
    xp: ModuleType,
    x,
    kernel,
    axes: Sequence[int],
    pads: Sequence[tuple[int, int]],
    *,
    mode: str = "constant",
    value=0.0,
    algorithm: str = "auto",
):
    """Correlate `x` with `kernel` over `axes` (no conjugation, no flip), padded by `pads`
    in `mode`; the other axes broadcast between the two (each pair of lines its own
    filter). Both arrays have the same ndim."""
    ndim = x.ndim
    others = [i for i in range(ndim) if i not in axes]
    batch = tuple(_broadcast(x.shape[i], kernel.shape[i]) for i in others)
    count = math.prod(batch)
    order = (*others, *axes)
    x_t = xp.permute_dims(x, order)
    k_t = xp.permute_dims(kernel, order)
    spatial = tuple(x.shape[i] for i in axes)
    taps = tuple(kernel.shape[i] for i in axes)
    shared = all(kernel.shape[i] == 1 for i in others)
    keywords = dict(padding=tuple(pads), padding_mode=mode, padding_value=value)
    if shared:  # one filter for every line: the lines are the batch
        x_t = xp.reshape(xp.broadcast_to(x_t, (*batch, *spatial)), (count, 1, *spatial))
        y = conv(x_t, xp.reshape(k_t, (1, 1, *taps)), algorithm=algorithm, **keywords)
    else:  # a filter per line: the lines are channels of one depthwise convolution
        x_t = xp.reshape(xp.broadcast_to(x_t, (*batch, *spatial)), (1, count, *spatial))
        k_t = xp.reshape(xp.broadcast_to(k_t, (*batch, *taps)), (count, 1, *taps))
        y = conv(x_t, k_t, groups=count, algorithm=algorithm, **keywords)
    y = xp.reshape(y, (*batch, *y.shape[2:]))
    back = [0] * ndim
    for position, axis in enumerate(order):
        back[axis] = position
    return xp.permute_dims(y, tuple(back))


def extend(xp, x, axes, pads, mode: str):
    """Pads too wide for xconv's modes (SciPy repeats the extension without end) done
    here by an index map, axis by axis; returns `x` and the pads left to `xconv.conv`."""
    if mode == "constant":
        return x, pads
    left = []
    for axis, (before, after) in zip(axes, pads, strict=True):
        n = x.shape[axis]
        limit = n - 1 if mode == "reflect" else (float("inf") if mode == "replicate" else n)
        if max(before, after) <= limit:
            left.append((before, after))
            continue
        index = [_source(i, n, mode) for i in range(-before, n + after)]
        x = xp.take(x, xp.asarray(index, dtype=xp.int64), axis=axis)
        left.append((0, 0))
    return x, left


def _source(i: int, n: int, mode: str) -> int:
    """The input sample at padded position `i` of an axis of `n`, any distance out."""
    if mode == "circular":
        return i % n
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "symmetric":  # period 2n: a b c d | d c b a
        i %= 2 * n
        return i if i < n else 2 * n - 1 - i
    if n == 1:  # whole-sample mirror of one sample
        return 0
    i %= 2 * n - 2  # period 2n - 2: a b c d | c b
    return i if i < n else 2 * n - 2 - i


def _broadcast(a: int, b: int) -> int:
    if a == b or b == 1:
        return a
    if a == 1:
        return b
    raise ValueError(
        f"the arrays' sizes {a} and {b} along an axis that is not convolved must be equal or 1"
    )
