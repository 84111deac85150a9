"""What `xconv.signal` and `xconv.ndimage` share: one channel's N-d correlation, batched
over the axes that are not filtered, run by `xconv.conv` on any array-API array."""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import ModuleType

from array_api_compat import device

from ._arrays import check_sizes_known, dtype_name, is_array, one_namespace
from .forward import conv


def operands(**named) -> tuple:
    """The namespace and the operands as its arrays, in the order given: lists and
    scalars are read as NumPy reads them, and NumPy arrays given beside arrays of one
    other library (weights beside Dask, torch or JAX data) are moved to that library, as
    `xconv.conv` moves them; arrays of two other libraries are a TypeError naming both."""
    import numpy as np

    arrays = {}
    for name, a in named.items():
        if not is_array(a):
            a = np.asarray(a)
            if a.dtype == object:
                raise TypeError(f"{name} must be numeric, got objects")
        arrays[name] = a
    check_sizes_known(arrays)
    xp, arrays = one_namespace(arrays, lead=next(iter(named)))
    return (xp, *arrays.values())


def result_dtype(xp: ModuleType, *arrays):
    """NumPy's promotion of the arrays' dtypes (SciPy promotes as NumPy does), as a dtype
    of `xp`: strict libraries that refuse to mix kinds get NumPy's answer too."""
    try:
        return xp.result_type(*(a.dtype for a in arrays))
    except TypeError:
        import numpy as np

        name = np.result_type(*(np.dtype(dtype_name(a.dtype)) for a in arrays)).name
        return getattr(xp, name)


def is_extended(dtype) -> bool:
    """NumPy's long double and its complex (computed here in float64 precision)."""
    return dtype_name(dtype) in ("float128", "float96", "longdouble", "complex256",
                                 "complex192", "clongdouble")  # fmt: skip


def to_integer(xp: ModuleType, y, dtype, *, rounding: str):
    """`y` (real floats) as integers of `dtype`.

    `"round"` (SciPy's signal sums, integer arithmetic in C): the nearest integer, wrapped
    modulo the type's range as C's integer sums wrap. `"trunc"` (ndimage's store of a
    double into the output type): C's cast as x86-64 performs it, also where C leaves it
    undefined (NaN, out of range), so every library gives what SciPy gives there: toward
    zero; int8 to int32 and uint8/uint16 through a 32-bit conversion and uint32 and int64
    through a 64-bit one, each giving its most negative value when out of range, then
    wrapped; uint64 as x86-64 converts to it."""
    name = dtype_name(dtype)
    if rounding == "round":
        y = xp.round(y)
        if name == "bool":
            return y != 0
        return _wrap(xp, _convert(xp, y, xp.int64, 63), dtype)
    y = xp.trunc(y)
    if name == "bool":  # ndimage's bool is an unsigned char: the low byte decides
        return _wrap(xp, _convert(xp, y, xp.int32, 31), xp.uint8) != 0
    if name == "uint64":
        low = _convert(xp, y, xp.int64, 63)  # below 2**63: a plain conversion
        high = _convert(xp, y - 2.0**63, xp.int64, 63)  # above: offset, then the top bit
        high = _wrap(xp, high, xp.uint64) ^ xp.asarray(2**63, dtype=xp.uint64)
        return xp.where(y >= 2.0**63, high, _wrap(xp, low, xp.uint64))  # NaN: the low one
    narrow = name in ("int8", "int16", "int32", "uint8", "uint16")
    converted = _convert(xp, y, xp.int32, 31) if narrow else _convert(xp, y, xp.int64, 63)
    return _wrap(xp, converted, dtype)


def _convert(xp: ModuleType, y, dtype, bits: int):
    """x86-64's conversion of floats to a signed integer of `bits + 1` bits: out of range
    or NaN gives the most negative value."""
    inside = (y >= -(2.0**bits)) & (y < 2.0**bits)  # False for NaN
    return xp.astype(xp.where(inside, y, -(2.0**bits)), dtype)


def _wrap(xp: ModuleType, a, dtype):
    """Integers as `dtype`, modulo its range (every library's integer cast wraps)."""
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        return xp.astype(a, dtype)


def finite(xp: ModuleType, *arrays) -> bool | None:
    """Whether every value is finite; None where the values are not at hand (a traced
    JAX array, a lazy Dask array)."""
    from .backends import backend_for

    arrays = [a for a in arrays if not xp.isdtype(a.dtype, ("integral", "bool"))]
    largest = [backend_for(xp).max_abs(a) for a in arrays]
    if any(m is None for m in largest):
        return None
    return all(math.isfinite(m) for m in largest)


def at_hand(xp: ModuleType, a) -> bool:
    """Whether `a`'s values can be read now (not a traced JAX array, not a lazy Dask one),
    judged on one sample so that nothing large is computed."""
    from .backends import backend_for

    sample = xp.astype(xp.reshape(a, (-1,))[:1], xp.float64)
    return backend_for(xp).max_abs(sample) is not None


def pad_constant(xp: ModuleType, x, axes: Sequence[int], pads, value):
    """`x` padded with `value` over `axes` by joining filled blocks (for values that
    `xconv.conv`'s padding takes only when finite: NaN and infinities)."""
    for axis, (before, after) in zip(axes, pads, strict=True):
        parts = []
        for width in (before, after):
            shape = list(x.shape)
            shape[axis] = width
            parts.append(xp.full(tuple(shape), value, dtype=x.dtype, device=device(x)))
        x = xp.concat([parts[0], x, parts[1]], axis=axis)
    return x


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
    # the value pads only in constant mode (ndimage takes any cval with any mode)
    keywords = dict(padding=tuple(pads), padding_mode=mode,
                    padding_value=value if mode == "constant" else 0)  # fmt: skip
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
