"""`xconv.conv` and `xconv.output_shape`: forward N-d convolution on any array-API array."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from ._front import check_call, dispatch, spec_keywords
from .algorithms.prepared import PreparedWeights
from .planner import convolve
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
    spec: ConvSpec | None = None,
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
        the edge sample: PyTorch's and NumPy's `reflect`, SciPy ndimage's `mirror`),
        `"symmetric"` (mirror with it: NumPy's `symmetric`, ndimage's `reflect`, MATLAB's
        `'symmetric-include-edge'`), `"replicate"` (NumPy's `edge`, ndimage's `nearest`)
        or `"circular"` (NumPy's and ndimage's `wrap`). The README's cross-walk has every
        framework's names.
    algorithm : `"auto"` (the planner's choice, see `xconv.plan`), `"direct"`, `"gemm"`,
        `"fft"`, or `"measure"` (time the candidates once per shapes, dtype, parameters and
        namespace, and reuse the fastest). A transform mixes all samples of a frame, so on
        the FFT path one NaN or infinity makes every output of its frame non-finite;
        `"auto"` and `"measure"` therefore never choose it for non-finite data (one
        reduction over the input tells), and an explicit `"fft"` does what it says.
    spec : a ready `ConvSpec` instead of the keywords above (what the dialect layers
        pass); its channels, if set, must match the weight.

    The result dtype is the promotion of `x` and `weight` (integers take the float dtype of
    the other operand, or the default float); float16 accumulates in float32. Complex
    inputs are multiplied without conjugation.

    >>> import numpy as np, xconv
    >>> x = np.arange(5.0)[None]                  # one channel, five samples
    >>> xconv.conv(x, np.array([[[1.0, -1.0]]]))  # forward differences, negated
    array([[-1., -1., -1., -1.]])
    """
    call = check_call(
        "conv",
        x,
        weight,
        bias=bias,
        algorithm=algorithm,
        spec=spec,
        **spec_keywords(
            spec,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            padding_mode=padding_mode,
            padding_value=padding_value,
            channels_last=channels_last,
        ),
    )
    return dispatch(call, convolve)


def conv_prepared(
    x, weight, bias, *, spec: ConvSpec, prepared: PreparedWeights | None, algorithm="auto"
):
    """`conv(x, weight, bias, spec=spec)`, keeping the weight in its algorithm's form in
    `prepared` between calls (what the dialect layers run; None keeps nothing)."""
    call = check_call("conv", x, weight, bias=bias, algorithm=algorithm, spec=spec)
    return dispatch(call, functools.partial(convolve, prepared=prepared))


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
