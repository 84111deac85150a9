"""`xconv.conv_transpose`: transposed N-d convolution, the adjoint of `xconv.conv`."""

from __future__ import annotations

from collections.abc import Sequence

from ._docstrings import shared
from .operations import public
from .spec import ConvSpec

IntOrTuple = int | Sequence[int]
Cropping = int | str | Sequence[int] | Sequence[tuple[int, int]]


@public("conv_transpose")
@shared
def conv_transpose(
    x,
    weight,
    bias=None,
    *,
    stride: IntOrTuple = 1,
    padding: Cropping = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    channels_last: bool = False,
    algorithm: str = "auto",
    spec: ConvSpec | None = None,
):
    """Transposed N-d convolution: the adjoint of `conv` with the same parameters.

    What PyTorch's `conv_transpose*d`, ONNX ConvTranspose, Keras `Conv*DTranspose` and
    MATLAB's `transposedConv2dLayer` compute: every input sample scatters `weight` into
    the output at `i * stride + t * dilation`, and the result is then cropped.

    Parameters
    ----------
    {x}
    {weight_t}
    {bias}
    {stride}
    {cropping}
    {output_padding}
    {dilation}
    {groups}
    {channels_last}
    algorithm : str, default "auto"
        As in `conv`: each output phase `i mod stride` is a stride-1 forward correlation
        of `x` with the phase's (flipped) kernel taps, run by that algorithm (`"auto"`:
        the planner's choice for the phase; `"measure"`: the fastest, timed once).
    spec : ConvSpec, optional
        A ready transposed spec instead of the keywords above.

    Returns
    -------
    array
        `(N, F, *out)` (or the caller's layout and batching), `out = (n - 1) * stride +
        (k - 1) * dilation + 1 - cropping + output_padding` per axis; dtypes as in
        `conv` (the promotion of `x` and `weight`, float16 computed in float32).

    Raises
    ------
    {raises}

    See Also
    --------
    conv : the forward convolution this is the adjoint of.
    conv_transpose_vjp : the gradients.

    Examples
    --------
    >>> import numpy as np, xconv
    >>> x = np.array([[1.0, 2.0, 3.0]])          # one channel, three samples
    >>> xconv.conv_transpose(x, np.array([[[1.0, 10.0]]]), stride=2)
    array([[ 1., 10.,  2., 20.,  3., 30.]])

    A stride-2 upsampling layer that doubles the size, as Keras' `padding="same"`:

    >>> xconv.conv_transpose(np.ones((1, 8, 16, 16)), np.ones((8, 4, 4, 4)), stride=2,
    ...                      padding="same").shape
    (1, 4, 32, 32)
    """
