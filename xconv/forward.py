"""`xconv.conv` and `xconv.output_shape`: forward N-d convolution on any array-API array."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from ._arrays import (
    array_namespace,
    checked_kind,
    compute_dtype,
    from_canonical,
    result_dtype,
    to_canonical,
)
from .padding import check_padding_widths, pad
from .planner import check_algorithm, run
from .spec import ConvSpec

IntOrTuple = int | Sequence[int]
Padding = int | str | Sequence[int] | Sequence[tuple[int, int]]


def conv(
    x,
    weight,
    bias=None,
    *,
    stride: IntOrTuple = 1,
    padding: Padding = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    padding_mode: str = "constant",
    padding_value: float | complex = 0.0,
    channels_last: bool = False,
    algorithm: str = "auto",
):
    """N-d cross-correlation (the deep-learning "convolution"), without kernel flip.

    Parameters
    ----------
    x : array
        `(N, C, *spatial)` or unbatched `(C, *spatial)`; with `channels_last=True`,
        `(N, *spatial, C)` or `(*spatial, C)`. The output follows the same convention.
    weight : array
        `(F, C // groups, *kernel)`; its number of trailing axes is the spatial rank.
    bias : array, optional
        `(F,)`, cast to the result dtype.
    stride, dilation : int or one int per spatial dimension, >= 1.
    padding : int, one int per dimension, one `(before, after)` pair per dimension, or
        `"valid"`, `"same"` (output `ceil(n / stride)`, odd extra at the end),
        `"same_lower"` (odd extra at the start), `"full"` or `"causal"`.
    padding_mode : `"constant"` (filled with `padding_value`), `"reflect"` (mirror without
        the edge sample), `"symmetric"` (mirror with it), `"replicate"` or `"circular"`.
    algorithm : `"auto"` (the planner's choice, see `xconv.plan`), `"direct"`, `"gemm"`,
        `"fft"`, or `"measure"` (time the candidates once per shapes, dtype, parameters and
        namespace, and reuse the fastest).

    The result dtype is the promotion of `x` and `weight` (integers take the float dtype of
    the other operand, or the default float); float16 accumulates in float32. Complex
    inputs are multiplied without conjugation.

    >>> import numpy as np, xconv
    >>> x = np.arange(5.0)[None]                  # one channel, five samples
    >>> xconv.conv(x, np.array([[[1.0, -1.0]]]))  # forward differences, negated
    array([[-1., -1., -1., -1.]])
    """
    xp = array_namespace(x, weight, bias)
    check_algorithm(algorithm)
    spec = _spec_for(
        weight,
        groups=groups,
        stride=stride,
        padding=padding,
        dilation=dilation,
        padding_mode=padding_mode,
        padding_value=padding_value,
        channels_last=channels_last,
    )
    x, batched = to_canonical(xp, x, spec.rank, channels_last)
    _check_channels(x.shape[1], weight.shape, spec)
    _check_bias(xp, bias, spec.out_channels)
    dtype = result_dtype(xp, x, weight)
    _check_padding_value(xp, padding_value, dtype, padding_mode)

    spatial = tuple(x.shape[2:])
    pads = spec.resolve_padding(spatial)
    check_padding_widths(spatial, pads, padding_mode)
    out_spatial = spec.output_spatial(spatial)

    work = compute_dtype(xp, dtype)
    unpadded = tuple(x.shape)
    x = pad(xp, xp.astype(x, work, copy=False), pads, padding_mode, padding_value)
    y = run(xp, x, xp.astype(weight, work, copy=False), spec, out_spatial, algorithm, unpadded)
    if bias is not None:
        y = y + xp.reshape(xp.astype(bias, work), (1, -1) + (1,) * spec.rank)
    return from_canonical(xp, xp.astype(y, dtype, copy=False), batched, channels_last)


def output_shape(
    input_shape: Sequence[int | None],
    weight_shape: Sequence[int],
    *,
    stride: IntOrTuple = 1,
    padding: Padding = 0,
    dilation: IntOrTuple = 1,
    channels_last: bool = False,
) -> tuple[int | None, ...]:
    """Shape of `conv(x, weight, ...)` for `x.shape == input_shape`, without computing it.

    `None` marks a size that is unknown (varying); the result has None wherever a size
    cannot be known. The number of groups follows from the input and weight channels.

    >>> output_shape((3, 256, 252), (8, 3, 2, 3), stride=2, dilation=(3, 4), padding=(1, 2))
    (8, 128, 124)
    """
    weight_shape = tuple(weight_shape)
    spec = _spec_for_shape(weight_shape, stride, padding, dilation, channels_last)
    channels = _channels_of(tuple(input_shape), spec.rank, channels_last)
    if channels is not None:
        spec = _spec_for_shape(
            weight_shape,
            stride,
            padding,
            dilation,
            channels_last,
            groups=_inferred_groups(channels, weight_shape),
        )
    return spec.output_shape(input_shape)


def _spec_for(weight, **options) -> ConvSpec:
    if not hasattr(weight, "shape") or len(weight.shape) < 3:
        shape = getattr(weight, "shape", None)
        raise ValueError(
            f"weight must be an array of shape (F, C // groups, *kernel) with at least one "
            f"spatial dimension, got shape {shape}"
        )
    return ConvSpec.from_weight_shape(tuple(weight.shape), **options)


def _spec_for_shape(weight_shape, stride, padding, dilation, channels_last, groups=1):
    return ConvSpec.from_weight_shape(
        weight_shape,
        groups=groups,
        stride=stride,
        padding=padding,
        dilation=dilation,
        channels_last=channels_last,
    )


def _channels_of(shape: tuple, rank: int, channels_last: bool):
    if len(shape) not in (rank + 1, rank + 2):
        return None  # spec.output_shape reports the rank mismatch
    return shape[-1] if channels_last else shape[len(shape) - rank - 1]


def _inferred_groups(channels: int, weight_shape: tuple) -> int:
    per_group = weight_shape[1]
    if channels % per_group:
        raise ValueError(
            f"input has {channels} channels, not a multiple of the weight's {per_group} "
            f"input channels per group (weight shape {weight_shape})"
        )
    return channels // per_group


def _check_channels(channels: int, weight_shape, spec: ConvSpec) -> None:
    if channels != spec.in_channels:
        raise ValueError(
            f"x has {channels} channels but weight of shape {tuple(weight_shape)} with "
            f"groups={spec.groups} expects {spec.in_channels} "
            f"({weight_shape[1]} per group x {spec.groups} groups)"
        )


def _check_bias(xp, bias, filters: int) -> None:
    if bias is None:
        return
    checked_kind(xp, bias, "bias")
    if tuple(bias.shape) != (filters,):
        raise ValueError(
            f"bias must have shape ({filters},), one value per output channel, "
            f"got shape {tuple(bias.shape)}"
        )


def _check_padding_value(xp, value, dtype, mode: str) -> None:
    is_complex = isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real)
    if mode == "constant" and is_complex and not xp.isdtype(dtype, "complex floating"):
        raise TypeError(f"padding_value {value!r} is complex but the result dtype {dtype} is real")
