"""`conv_vjp` and `conv_transpose_vjp`: input, weight and bias gradients.

Both return the gradients of `sum(grad_output * f(x, weight, bias))`: the transpose of
the derivative, without complex conjugation (the same bilinear convention as the forward
pass). For a forward convolution the input gradient is a transposed convolution, folded
back through the adjoint of the padding mode, and the weight gradient is a correlation of
the padded input with the output gradient; a transposed convolution swaps the two roles.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._docstrings import shared
from .operations import public
from .spec import ConvSpec

IntOrTuple = int | Sequence[int]
Padding = int | str | Sequence[int] | Sequence[tuple[int, int]]


@public("conv_vjp")
@shared
def conv_vjp(
    grad_output,
    x,
    weight,
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
    """Gradients `(grad_input, grad_weight, grad_bias)` of `xconv.conv`.

    The gradients of `sum(grad_output * conv(x, weight, bias, ...))`: the transpose of the
    derivative, without complex conjugation (the forward pass's bilinear convention).
    Every padding mode works: the input gradient of the padded samples folds back onto
    the input samples they copy (constant padding just drops them, and `padding_value`
    reaches only the weight gradient).

    Parameters
    ----------
    {grad_output}
    {x}
    {weight}
    {stride}
    {padding}
    {dilation}
    {groups}
    {padding_mode}
    {padding_value}
    {channels_last}
    algorithm : str, default "auto"
        Runs the correlations inside: the input gradient is a transposed convolution
        (stride-1 phase correlations, each planned on its own under "auto", or ONNX
        Runtime's `ConvTranspose` in one call), the weight gradient a correlation of the
        padded input with `grad_output`, planned like the forward layer ("measure" times
        the phases and uses the model for the weight gradient; under "auto" xconv's own
        products, which `"onnxruntime"` replaces by its `Conv` of the exchanged batch and
        channels). On the FFT path at stride 1 both come from one set of spectra.
    {spec}

    Returns
    -------
    grad_input : array
        The shape and layout of `x`.
    grad_weight : array
        The shape of `weight`.
    grad_bias : array
        `(F,)`. All three in the forward result dtype.

    Raises
    ------
    {raises}

    See Also
    --------
    conv : the forward convolution.

    Examples
    --------
    >>> import numpy as np, xconv
    >>> x, w = np.arange(4.0)[None], np.array([[[1.0, -1.0]]])
    >>> gx, gw, gb = xconv.conv_vjp(np.ones((1, 3)), x, w)
    >>> gx, gw, gb
    (array([[ 1.,  0.,  0., -1.]]), array([[[3., 6.]]]), array([3.]))
    """


@public("conv_transpose_vjp")
@shared
def conv_transpose_vjp(
    grad_output,
    x,
    weight,
    *,
    stride: IntOrTuple = 1,
    padding: Padding = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    channels_last: bool = False,
    algorithm: str = "auto",
    spec: ConvSpec | None = None,
):
    """Gradients `(grad_input, grad_weight, grad_bias)` of `xconv.conv_transpose`.

    The input gradient is a forward correlation of `grad_output` (the cropping becomes
    padding), the weight gradient a correlation of `grad_output` with `x`.

    Parameters
    ----------
    {grad_output}
    {x}
    {weight_t}
    {stride}
    {cropping}
    {output_padding}
    {dilation}
    {groups}
    {channels_last}
    algorithm : str, default "auto"
        Runs the correlations inside, as in `conv_vjp`.
    spec : ConvSpec, optional
        A ready transposed spec instead of the keywords above.

    Returns
    -------
    grad_input : array
        The shape and layout of `x`.
    grad_weight : array
        The shape of `weight`, `(C, F // groups, *kernel)`.
    grad_bias : array
        `(F,)`. All three in the result dtype.

    Raises
    ------
    {raises}

    See Also
    --------
    conv_transpose : the transposed convolution.

    Examples
    --------
    >>> import numpy as np, xconv
    >>> x, w = np.array([[1.0, 2.0]]), np.array([[[1.0, 10.0]]])
    >>> gx, gw, gb = xconv.conv_transpose_vjp(np.array([[1.0, 0.0, 0.0, 1.0]]), x, w, stride=2)
    >>> gx, gw, gb
    (array([[ 1., 10.]]), array([[[1., 2.]]]), array([2.]))
    """
