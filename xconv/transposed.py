"""`xconv.conv_transpose`: transposed N-d convolution, the adjoint of `xconv.conv`."""

from __future__ import annotations

from collections.abc import Sequence

from ._correlations import adjoint_spec, transposed_window
from ._front import Call, check_call, dispatch, spec_keywords
from .spec import ConvSpec

IntOrTuple = int | Sequence[int]
Cropping = int | str | Sequence[int] | Sequence[tuple[int, int]]


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
    x : array
        `(N, C, *spatial)` or unbatched `(C, *spatial)`; with `channels_last=True`,
        `(N, *spatial, C)` or `(*spatial, C)`. The output follows the same convention.
    weight : array
        `(C, F // groups, *kernel)` (PyTorch/ONNX layout).
    bias : array, optional
        `(F,)`, cast to the result dtype.
    stride, dilation : int or one int per spatial dimension, >= 1.
    padding : the cropping of the full output `(n - 1) * stride + (k - 1) * dilation + 1`:
        an int, one int per dimension, one `(before, after)` pair per dimension,
        `"valid"` (none) or `"same"` (output `n * stride`; `(k - 1) * d + 1 - stride` in
        total, the odd one at the end, as MATLAB Cropping 'same' and Keras 'same').
    output_padding : int or one per dimension, added at the end; smaller than the stride
        or the dilation.
    algorithm : `"auto"`, `"direct"`, `"gemm"`, `"fft"` or `"measure"`, as in `conv`:
        each output phase `i mod stride` is a stride-1 forward correlation of `x` with
        the phase's (flipped) kernel taps, run by that algorithm (`"auto"`: the planner's
        choice for the phase; `"measure"`: the fastest, timed once).
    spec : a ready transposed `ConvSpec` instead of the keywords above.

    Dtypes follow `conv`: the promotion of `x` and `weight`, float16 computed in float32.

    >>> import numpy as np, xconv
    >>> x = np.array([[1.0, 2.0, 3.0]])          # one channel, three samples
    >>> xconv.conv_transpose(x, np.array([[[1.0, 10.0]]]), stride=2)
    array([[ 1., 10.,  2., 20.,  3., 30.]])
    """
    call = check_call(
        "conv_transpose",
        x,
        weight,
        bias=bias,
        algorithm=algorithm,
        spec=spec,
        **spec_keywords(
            spec,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
            groups=groups,
            channels_last=channels_last,
        ),
    )
    return dispatch(call, _conv_transpose)


def _conv_transpose(call: Call):
    y = transposed_window(
        call.backend,
        call.in_work_dtype(call.x),
        call.in_work_dtype(call.weight),
        adjoint_spec(call.spec),
        [before for before, _ in call.padding],
        call.out_spatial,
        call.algorithm,
    )
    return call.finish(call.add_bias(y))
