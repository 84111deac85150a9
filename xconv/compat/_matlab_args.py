"""MATLAB's argument forms: name-value pairs, padding and cropping vectors, PaddingValue,
initializers, the global random stream and the `S..SCB` data formats."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import _init
from ._layer import ChannelsUnknownError, namespace, permute, reshape, shape_of

Pair = tuple[int, int]

PADDING_VALUES = {
    "symmetric-include-edge": "symmetric",
    "symmetric-exclude-edge": "reflect",
    "replicate": "replicate",
}
WEIGHT_INITIALIZERS = ("glorot", "he", "narrow-normal", "zeros", "ones")
BIAS_INITIALIZERS = ("zeros", "narrow-normal", "ones")


class MatlabError(ValueError):
    """An invalid MATLAB argument, worded as MATLAB words it (a `ValueError`).

    Examples
    --------
    >>> from xconv.compat import matlab
    >>> try:
    ...     matlab.convolution2dLayer(3, 4, Strides=2)
    ... except matlab.MatlabError as error:
    ...     print(error)  # doctest: +ELLIPSIS
    'Strides' is not a recognized parameter. For a list of valid name-value pair ...
    """


class MatlabChannelsUnknown(MatlabError, ChannelsUnknownError):
    """A MATLAB layer asked for what its input channels decide, before it knows them."""


# -- the global random stream (MATLAB's `rng`) ---------------------------------------------

_stream = {"rng": np.random.default_rng()}


def rng(seed: int | str = "shuffle") -> None:
    """Seed the stream MATLAB's initializers draw from, as MATLAB's `rng` does.

    The statistics are MATLAB's; the numbers are not MATLAB's own Mersenne Twister's.

    Parameters
    ----------
    seed : int or {"default", "shuffle"}, default "shuffle"
        A seed, `'default'` (the same as 0) or `'shuffle'` (fresh entropy).

    Raises
    ------
    MatlabError
        Another string.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat import matlab
    >>> matlab.rng(0)
    >>> first = matlab.convolution2dLayer(3, 4, NumChannels=2).Weights
    >>> matlab.rng(0)
    >>> np.array_equal(first, matlab.convolution2dLayer(3, 4, NumChannels=2).Weights)
    True
    """
    if isinstance(seed, str):
        if seed not in ("default", "shuffle"):
            raise MatlabError(f"rng: expected a seed, 'default' or 'shuffle', got {seed!r}")
        seed = 0 if seed == "default" else None
    _stream["rng"] = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    return _stream["rng"]


# -- name-value pairs ------------------------------------------------------------------------


def name_values(given: dict[str, Any], allowed: Sequence[str], function: str) -> dict[str, Any]:
    """Name-value pairs with MATLAB's case-insensitive names, keyed by their proper spelling."""
    proper = {name.lower(): name for name in allowed}
    out: dict[str, Any] = {}
    for name, value in given.items():
        key = proper.get(name.lower())
        if key is None:
            raise MatlabError(
                f"'{name}' is not a recognized parameter. For a list of valid name-value pair "
                f"arguments, see the documentation for {function}."
            )
        out[key] = value
    return out


def _numbers(value: Any, name: str) -> list:
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return [value]
    if hasattr(value, "shape"):
        return [v.item() if hasattr(v, "item") else v for v in np.asarray(value).ravel()]
    if isinstance(value, Sequence) and not isinstance(value, str):
        flat = []
        for item in value:
            flat.extend(_numbers(item, name))
        return flat
    raise MatlabError(f"Invalid value for '{name}'. Value must be numeric, got {value!r}.")


def integers(value: Any, name: str, *, minimum: int) -> list[int]:
    """A MATLAB scalar or vector of integers (doubles with integral values are fine)."""
    values = _numbers(value, name)
    out = []
    for v in values:
        if (
            isinstance(v, bool)
            or not isinstance(v, numbers.Real)
            or not math.isfinite(v)
            or v != int(v)
            or v < minimum
        ):
            kind = "positive" if minimum == 1 else "nonnegative"
            raise MatlabError(
                f"Invalid value for '{name}'. Value must be a {kind} integer or a vector of "
                f"{kind} integers, got {value!r}."
            )
        out.append(int(v))
    return out


def per_dimension(value: Any, rank: int, name: str) -> tuple[int, ...]:
    """`FilterSize`, `Stride`, `DilationFactor`: a scalar or one value per dimension."""
    values = integers(value, name, minimum=1)
    if len(values) == 1:
        return tuple(values) * rank
    if len(values) != rank:
        raise MatlabError(
            f"Invalid value for '{name}'. Value must be a positive integer or a vector of "
            f"{rank} positive integers, got {value!r}."
        )
    return tuple(values)


def scalar_integer(value: Any, name: str) -> int:
    values = integers(value, name, minimum=1)
    if len(values) != 1:
        raise MatlabError(f"Invalid value for '{name}'. Value must be a positive integer.")
    return values[0]


def nonnegative_scalar(value: Any, name: str) -> float:
    values = _numbers(value, name)
    if len(values) != 1 or not isinstance(values[0], numbers.Real) or values[0] < 0:
        raise MatlabError(f"Invalid value for '{name}'. Value must be a nonnegative scalar.")
    return float(values[0])


# -- padding and cropping ---------------------------------------------------------------------


def edge_sizes(value: Any, rank: int, name: str, modes: Sequence[str]) -> tuple[str, Any]:
    """`Padding` / `Cropping` in MATLAB's forms -> (mode, per-dimension pairs or None).

    1-D: p, [l r]; 2-D: p, [a b] (top/bottom, left/right), [t b l r]; 3-D: p, [a b c],
    [t l f; b r k] (before on the first row, after on the second); or a mode string.
    """
    if isinstance(value, str):
        mode = value.lower()
        if mode not in modes:
            shown = ", ".join(f"'{m}'" for m in modes)
            raise MatlabError(
                f"Invalid value for '{name}'. Value must be {shown} or a vector of "
                f"nonnegative integers, got {value!r}."
            )
        return mode, None
    if rank == 3 and _is_matrix(value):
        rows = [integers(row, name, minimum=0) for row in value]
        if len(rows) != 2 or any(len(r) != 3 for r in rows):
            raise MatlabError(f"Invalid value for '{name}'. A matrix must be 2-by-3.")
        return "manual", tuple((b, a) for b, a in zip(rows[0], rows[1], strict=True))
    sizes = integers(value, name, minimum=0)
    if len(sizes) == 1:
        return "manual", ((sizes[0], sizes[0]),) * rank
    if rank == 1 and len(sizes) == 2:
        return "manual", ((sizes[0], sizes[1]),)
    if rank >= 2 and len(sizes) == rank:
        return "manual", tuple((s, s) for s in sizes)
    if rank == 2 and len(sizes) == 4:
        return "manual", ((sizes[0], sizes[1]), (sizes[2], sizes[3]))
    forms = {1: "p or [l r]", 2: "p, [a b] or [t b l r]", 3: "p, [a b c] or [t l f; b r k]"}
    raise MatlabError(f"Invalid value for '{name}'. Value must be {forms[rank]}, got {value!r}.")


def _is_matrix(value: Any) -> bool:
    if hasattr(value, "shape"):
        return len(value.shape) == 2 and value.shape[0] > 1
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(isinstance(v, Sequence) and not isinstance(v, str) for v in value)
    )


def size_property(pairs: Sequence[Pair], rank: int):
    """Pairs as MATLAB's `PaddingSize` / `CroppingSize`: [l r], [t b l r] or [t l f; b r k]."""
    if rank == 3:
        return (tuple(p[0] for p in pairs), tuple(p[1] for p in pairs))
    return tuple(v for pair in pairs for v in pair)


def padding_value(value: Any) -> tuple[str, float, Any]:
    """`PaddingValue` -> (xconv padding_mode, padding_value, the MATLAB property value)."""
    if isinstance(value, str):
        mode = PADDING_VALUES.get(value.lower())
        if mode is None:
            shown = ", ".join(f"'{name}'" for name in PADDING_VALUES)
            raise MatlabError(f"PaddingValue {value!r} is not one of {shown} or a numeric scalar")
        return mode, 0.0, value.lower()
    values = _numbers(value, "PaddingValue")
    if len(values) != 1 or isinstance(values[0], bool):
        raise MatlabError(f"PaddingValue {value!r} is not a numeric scalar")
    scalar = values[0]
    if not isinstance(scalar, numbers.Real):
        raise MatlabError(f"PaddingValue {value!r} is not a real numeric scalar")
    if not math.isfinite(scalar):  # xconv pads with finite values only
        raise MatlabError(f"PaddingValue {value!r} is not finite: xconv pads with finite values")
    return "constant", float(scalar), scalar


# -- initializers ------------------------------------------------------------------------------


def initializer(value: Any, name: str, allowed: Sequence[str]) -> str | Callable:
    if callable(value):
        return value
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    shown = ", ".join(f"'{a}'" for a in allowed)
    raise MatlabError(
        f"Invalid value for '{name}'. Value must be {shown} or a function handle, got {value!r}."
    )


def draw(init: str | Callable, size: tuple[int, ...], fan_in: int, fan_out: int):
    """Weights or biases of MATLAB size `size` from an initializer (single precision)."""
    if callable(init):
        values = init(size)
        if tuple(getattr(values, "shape", ())) != size and np.asarray(values).shape != size:
            raise MatlabError(
                f"The initializer function must return an array of size "
                f"{'x'.join(map(str, size))}, got size {np.asarray(values).shape}."
            )
        return values if hasattr(values, "shape") else np.asarray(values, dtype="float32")
    rng = generator()
    if init == "glorot":
        limit = _init.glorot_uniform_limit(fan_in, fan_out)
        return _init.uniform(rng, size, -limit, limit)
    if init == "he":
        return _init.normal(rng, size, math.sqrt(2.0 / fan_in))
    if init == "narrow-normal":
        return _init.normal(rng, size, 0.01)
    return _init.constant(size, 1.0 if init == "ones" else 0.0)


# -- arrays in MATLAB's shapes -------------------------------------------------------------------


def with_trailing_ones(array, ndim: int):
    """MATLAB drops trailing singleton dimensions; put them back up to `ndim`."""
    shape = shape_of(array)
    if len(shape) < ndim:
        return reshape(array, shape + (1,) * (ndim - len(shape)))
    return array


def column_major_vector(array):
    """All elements in MATLAB's linear (column-major) order, as a 1-D array."""
    axes = tuple(range(len(array.shape)))[::-1]
    return reshape(permute(array, axes), (-1,))


def from_column_major(vector, shape: tuple[int, ...]):
    """The inverse of `column_major_vector` for an array of MATLAB size `shape`."""
    reversed_array = reshape(vector, shape[::-1])
    return permute(reversed_array, tuple(range(len(shape)))[::-1])


def size_text(shape: Sequence[int]) -> str:
    return "-by-".join(str(s) for s in shape)


# -- data formats ------------------------------------------------------------------------------


def default_format(rank: int) -> str:
    return "S" * rank + "CB"


def to_canonical(x, fmt: str, rank: int):
    """`x` in MATLAB format `fmt` -> (`(N, C, *S)` array, how to undo it).

    The format's trailing singleton dimensions may be missing from `x`; spatial dims are
    the `S`s (for a 1-D layer without `S`, the `T`); `B`, `T` and `U` beyond those are
    flattened into the batch.
    """
    fmt = fmt.upper()
    if len(set(fmt) - set("SCBTU")) or fmt.count("C") != 1:
        raise MatlabError(f"Invalid data format {fmt!r}: use the letters S, C, B, T, U with one C")
    if x.ndim > len(fmt):
        raise MatlabError(f"Invalid input data: {x.ndim} dimensions for data format '{fmt}'")
    spatial_letter = "S" if "S" in fmt or rank > 1 else "T"
    spatial = [i for i, c in enumerate(fmt) if c == spatial_letter]
    if len(spatial) != rank:
        raise MatlabError(
            f"Invalid input data: format '{fmt}' has {len(spatial)} spatial dimensions, the "
            f"layer convolves over {rank}"
        )
    present = x.ndim
    x = with_trailing_ones(x, len(fmt))
    channel = fmt.index("C")
    batch = [i for i in range(len(fmt)) if i not in spatial and i != channel]
    order = (*batch, channel, *spatial)
    xp = namespace(x)
    moved = xp.permute_dims(x, order)
    batch_shape = tuple(moved.shape[: len(batch)])
    canonical = xp.reshape(moved, (math.prod(batch_shape), *moved.shape[len(batch) :]))

    def undo(y):
        y = xp.reshape(y, (*batch_shape, *y.shape[1:]))
        inverse = [0] * len(order)
        for position, axis in enumerate(order):
            inverse[axis] = position
        y = xp.permute_dims(y, tuple(inverse))
        keep = max(present, channel + 1, max(spatial) + 1)
        return xp.reshape(y, tuple(y.shape[:keep])) if keep < len(fmt) else y

    return canonical, undo
