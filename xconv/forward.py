"""`xconv.conv` and `xconv.output_shape`: forward N-d convolution on any array-API array."""

from __future__ import annotations

from collections.abc import Sequence

from ._docstrings import shared
from ._front import check_call
from .algorithms.prepared import PreparedWeights
from .operations import perform, public
from .spec import ConvSpec

IntOrTuple = int | Sequence[int]
Padding = int | str | Sequence[int] | Sequence[tuple[int, int]]


@public("conv")
@shared
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

    `y[n, f, o] = bias[f] + sum over c, t of x[n, c, o * stride + t * dilation - before]
    * weight[f, c, t]`, over the input channels `c` of the group of filter `f` and the
    kernel taps `t`, where samples outside `x` come from the padding.

    Parameters
    ----------
    {x}
    {weight}
    {bias}
    {stride}
    {padding}
    {dilation}
    {groups}
    {padding_mode}
    {padding_value}
    {channels_last}
    {algorithm}
    {spec}

    Returns
    -------
    array
        `(N, F, *out)` (or the caller's layout and batching) of the caller's array
        library and device, `out = (n + before + after - (k - 1) * dilation - 1) //
        stride + 1` per axis. The dtype is the promotion of `x` and `weight` (an integer
        operand takes the other's float dtype, or the default float); float16
        accumulates in float32. Complex inputs are multiplied without conjugation.

    Raises
    ------
    {raises}

    See Also
    --------
    conv_transpose : the adjoint.
    conv_vjp : the gradients.
    plan : what `algorithm="auto"` will run, and why.

    Examples
    --------
    >>> import numpy as np, xconv
    >>> x = np.arange(5.0)[None]                  # one channel, five samples
    >>> xconv.conv(x, np.array([[[1.0, -1.0]]]))  # forward differences, negated
    array([[-1., -1., -1., -1.]])

    A strided, padded 2-D layer over a batch, channels last:

    >>> x = np.ones((2, 32, 32, 3), np.float32)
    >>> xconv.conv(x, np.ones((8, 3, 3, 3), np.float32), stride=2, padding="same",
    ...            padding_mode="reflect", channels_last=True).shape
    (2, 16, 16, 8)
    """


def conv_prepared(
    x, weight, bias, *, spec: ConvSpec, prepared: PreparedWeights | None, algorithm="auto"
):
    """`conv(x, weight, bias, spec=spec)`, keeping the weight in its algorithm's form in
    `prepared` between calls (what the dialect layers run; None keeps nothing)."""
    call = check_call("conv", x, weight, bias=bias, algorithm=algorithm, spec=spec)
    return perform(call, prepared)


@shared
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

    Parameters
    ----------
    input_shape : tuple of int or None
        The shape of `x`, batched or not; `None` marks a size that is unknown (varying).
    weight_shape : tuple of int
        `(F, C // groups, *kernel)`; the number of groups follows from the input's and
        the weight's channels.
    {stride}
    {padding}
    {dilation}
    {channels_last}

    Returns
    -------
    tuple of int or None
        The output shape in the input's layout; None wherever a size cannot be known.

    Raises
    ------
    ValueError
        A rank, channel count or size that does not fit the weight, named with its values.

    Examples
    --------
    >>> from xconv import output_shape
    >>> output_shape((3, 256, 252), (8, 3, 2, 3), stride=2, dilation=(3, 4), padding=(1, 2))
    (8, 128, 124)
    >>> output_shape((None, 3, 224, 224), (64, 3, 7, 7), stride=2, padding="same")
    (None, 64, 112, 112)
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
