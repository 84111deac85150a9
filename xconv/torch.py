"""`xconv.torch.Conv`: any xconv convolution as a PyTorch module.

The module holds the weight (`(F, C // groups, *kernel)`, transposed `(C, F // groups,
*kernel)`) and the bias as parameters and runs `xconv.conv` / `xconv.conv_transpose`
with its `ConvSpec`: torch's own kernels where they compute the layer exactly, xconv's
(with its analytic gradients) where they win or torch has none (rank 4 and up, the
symmetric padding mode, `same` at any stride). Data are in the spec's layout: `(N, C,
*spatial)`, or `(N, *spatial, C)` for a channels-last spec (Keras layers, Wolfram
layers with `Interleaving -> True`).

`Conv.from_layer` ports a Wolfram, MATLAB or Keras layer with its weights:

>>> import torch
>>> from xconv.compat import matlab
>>> from xconv.torch import Conv
>>> layer = matlab.convolution2dLayer(3, 8, Padding="same", Stride=2, NumChannels=3)
>>> conv = Conv.from_layer(layer)
>>> conv(torch.ones(1, 3, 9, 9)).shape
torch.Size([1, 8, 5, 5])
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .forward import conv
from .spec import ConvSpec
from .transposed import conv_transpose

__all__ = ["Conv"]


class Conv(torch.nn.Module):
    """A convolution described by `spec`, with `weight` and `bias` as parameters.

    The forward pass is `xconv.conv` (or `conv_transpose`) on the module's parameters:
    PyTorch's own kernels where they compute the layer exactly, xconv's paths (the FFT for
    large kernels, the symmetric padding mode) with xconv's VJPs in autograd otherwise.

    Parameters
    ----------
    spec : ConvSpec
        The convolution; it must know its channels (`ConvSpec.from_weight_shape` and the
        dialect layers' `.spec` do).
    weight : tensor or array, optional
        The initial weight in xconv's layout; without one the parameters start as
        PyTorch's `nn.Conv*d` start them (uniform within `1 / sqrt(fan_in)`, the bias
        too).
    bias : bool, tensor or array, default True
        `False` leaves the bias out; an array gives its initial value.
    activation : callable, optional
        Applied to the output (a Keras layer's activation, say).
    algorithm : {"auto", "direct", "gemm", "fft", "measure"}, default "auto"
        As in `xconv.conv`.
    device : torch.device or str, optional
        Where the parameters live.
    dtype : torch.dtype, optional
        The parameters' dtype (the given weight's, or float32).

    Raises
    ------
    TypeError
        `spec` is not a ConvSpec, or `activation` is not callable.
    ValueError
        A spec without channels, or a weight of the wrong shape.

    Examples
    --------
    >>> import torch
    >>> import xconv
    >>> from xconv.torch import Conv
    >>> spec = xconv.ConvSpec.from_weight_shape((8, 3, 5, 5), padding="same",
    ...                                         padding_mode="symmetric")
    >>> layer = Conv(spec)
    >>> layer(torch.ones(2, 3, 16, 16)).shape
    torch.Size([2, 8, 16, 16])
    """

    def __init__(
        self,
        spec: ConvSpec,
        weight=None,
        bias=True,
        *,
        activation=None,
        algorithm: str = "auto",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if not isinstance(spec, ConvSpec):
            raise TypeError(f"spec must be an xconv.ConvSpec, got {type(spec).__name__}")
        if spec.in_channels is None or spec.out_channels is None:
            raise ValueError("spec must know in_channels and out_channels")
        if activation is not None and not callable(activation):
            raise TypeError(f"activation must be callable, got {activation!r}")
        self.spec = spec
        self.algorithm = algorithm
        self.activation = activation
        first, second = (
            (spec.in_channels, spec.out_channels // spec.groups)
            if spec.transposed
            else (spec.out_channels, spec.in_channels // spec.groups)
        )
        shape = (first, second, *spec.kernel_size)
        given = {name: a for name, a in (("weight", weight), ("bias", bias))
                 if a is not None and not isinstance(a, bool)}  # fmt: skip
        dtype = _parameter_dtype(given, dtype)
        options = {"device": device, "dtype": dtype}
        fan_in = second * math.prod(spec.kernel_size)
        bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
        if weight is None:
            weight = torch.empty(shape, **options).uniform_(-bound, bound)
        weight = _tensor(weight, options, "weight")
        if tuple(weight.shape) != shape:
            raise ValueError(
                f"weight must have shape {shape} for this spec, got {tuple(weight.shape)}"
            )
        self.weight = torch.nn.Parameter(weight)
        if bias is True:
            bias = torch.empty(spec.out_channels, **options).uniform_(-bound, bound)
        if bias is False or bias is None:
            self.register_parameter("bias", None)
        else:
            bias = _tensor(bias, options, "bias")
            if tuple(bias.shape) != (spec.out_channels,):
                raise ValueError(
                    f"bias must have shape ({spec.out_channels},), got {tuple(bias.shape)}"
                )
            self.bias = torch.nn.Parameter(bias)

    @classmethod
    def from_layer(cls, layer, *, algorithm: str = "auto", device=None, dtype=None) -> Conv:
        """The convolution of an `xconv.compat` layer (Wolfram, MATLAB, Keras, PyTorch) or
        of a `torch.nn.Conv*d` / `ConvTranspose*d` module, with its weights in xconv's
        layout (the layer must have them: initialize or build it) and, for a Keras layer,
        its activation."""
        if isinstance(layer, torch.nn.Module):
            from .compat.pytorch import from_module

            layer = from_module(layer)
        weight, bias = layer.canonical_weights()
        activation = getattr(layer, "activation", None)
        if activation is not None and getattr(activation, "__name__", "") == "linear":
            activation = None
        return cls(
            layer.spec,
            weight,
            False if bias is None else bias,
            activation=activation,
            algorithm=algorithm,
            device=device,
            dtype=dtype,
        )

    def forward(self, x):
        """The convolution of `x` (PyTorch's layout, or the spec's channels-last one)."""
        operation = conv_transpose if self.spec.transposed else conv
        y = operation(x, self.weight, self.bias, spec=self.spec, algorithm=self.algorithm)
        return y if self.activation is None else self.activation(y)

    def extra_repr(self) -> str:
        """The spec, in the module's printed form."""
        spec = self.spec
        kind = "transposed, " if spec.transposed else ""
        return (
            f"{kind}{spec.in_channels} -> {spec.out_channels}, kernel {spec.kernel_size}, "
            f"stride {spec.stride}, padding {spec.padding!r}, dilation {spec.dilation}, "
            f"groups {spec.groups}, padding_mode {spec.padding_mode!r}, "
            f"channels_last {spec.channels_last}, bias {self.bias is not None}"
        )


def _parameter_dtype(given: dict, dtype):
    """The parameters' dtype: `dtype`, else the given weight's or bias's floating or
    complex dtype (complex wins: its imaginary part is kept), else torch's default."""
    kinds = []
    for name, array in given.items():
        kinds.append(_torch_dtype(array))
        if not (kinds[-1].is_floating_point or kinds[-1].is_complex):
            raise TypeError(f"{name} must be floating or complex, got {kinds[-1]}")
    if dtype is not None:
        if any(k.is_complex for k in kinds) and not dtype.is_complex:
            raise TypeError(
                f"the weight or bias is complex but dtype is {dtype}: pass a complex dtype "
                "(torch.complex64 or torch.complex128) to keep the imaginary part"
            )
        return dtype
    complex_kinds = [k for k in kinds if k.is_complex]
    return (complex_kinds or kinds or [torch.get_default_dtype()])[0]


def _torch_dtype(array):
    if isinstance(array, torch.Tensor):
        return array.dtype
    return torch.from_numpy(np.zeros(0, np.asarray(array).dtype)).dtype


def _tensor(array, options: dict, name: str):
    """`array` (any array library, or nested lists) as a detached torch tensor."""
    if not isinstance(array, torch.Tensor):
        array = np.asarray(array)
        if array.dtype == object:
            raise TypeError(f"{name} must be numeric, got objects")
        array = torch.as_tensor(array)
    return array.detach().to(**{k: v for k, v in options.items() if v is not None}).clone()
