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

    `spec` must know its channels (`ConvSpec.from_weight_shape` does). Without a `weight`
    the parameters start as PyTorch's `nn.Conv*d` start them (uniform, bound
    `1 / sqrt(fan_in)` for both); `bias=False` leaves the bias out.
    """

    def __init__(
        self,
        spec: ConvSpec,
        weight=None,
        bias=True,
        *,
        algorithm: str = "auto",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if not isinstance(spec, ConvSpec):
            raise TypeError(f"spec must be an xconv.ConvSpec, got {type(spec).__name__}")
        if spec.in_channels is None or spec.out_channels is None:
            raise ValueError("spec must know in_channels and out_channels")
        self.spec = spec
        self.algorithm = algorithm
        first, second = (
            (spec.in_channels, spec.out_channels // spec.groups)
            if spec.transposed
            else (spec.out_channels, spec.in_channels // spec.groups)
        )
        shape = (first, second, *spec.kernel_size)
        options = {"device": device, "dtype": dtype or torch.get_default_dtype()}
        fan_in = second * math.prod(spec.kernel_size)
        bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
        if weight is None:
            weight = torch.empty(shape, **options).uniform_(-bound, bound)
        weight = _tensor(weight, options)
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
            bias = _tensor(bias, options)
            if tuple(bias.shape) != (spec.out_channels,):
                raise ValueError(
                    f"bias must have shape ({spec.out_channels},), got {tuple(bias.shape)}"
                )
            self.bias = torch.nn.Parameter(bias)

    @classmethod
    def from_layer(cls, layer, *, algorithm: str = "auto", device=None, dtype=None) -> Conv:
        """The convolution of an `xconv.compat` layer (Wolfram, MATLAB, Keras), with its
        weights in xconv's layout (the layer must have them: initialize or build it)."""
        weight, bias = layer.canonical_weights()
        options = {"device": device, "dtype": dtype or _torch_dtype(weight)}
        return cls(
            layer.spec,
            _tensor(weight, options),
            False if bias is None else _tensor(bias, options),
            algorithm=algorithm,
            device=device,
            dtype=options["dtype"],
        )

    def forward(self, x):
        operation = conv_transpose if self.spec.transposed else conv
        return operation(x, self.weight, self.bias, spec=self.spec, algorithm=self.algorithm)

    def extra_repr(self) -> str:
        spec = self.spec
        kind = "transposed, " if spec.transposed else ""
        return (
            f"{kind}{spec.in_channels} -> {spec.out_channels}, kernel {spec.kernel_size}, "
            f"stride {spec.stride}, padding {spec.padding!r}, dilation {spec.dilation}, "
            f"groups {spec.groups}, padding_mode {spec.padding_mode!r}, "
            f"channels_last {spec.channels_last}, bias {self.bias is not None}"
        )


def _torch_dtype(array):
    if isinstance(array, torch.Tensor):
        return array.dtype
    return {np.float64: torch.float64, np.float16: torch.float16}.get(
        np.asarray(array).dtype.type, torch.float32
    )


def _tensor(array, options: dict):
    """`array` (any array library, or nested lists) as a detached torch tensor."""
    if not isinstance(array, torch.Tensor):
        array = torch.as_tensor(np.asarray(array))
    return array.detach().to(**{k: v for k, v in options.items() if v is not None}).clone()
