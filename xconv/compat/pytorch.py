"""PyTorch's convolutions as a dialect: `nn.Conv1d/2d/3d`, `nn.ConvTranspose1d/2d/3d`, their
`nn.Lazy*` forms, and the functions `F.conv*d` / `F.conv_transpose*d`.

Arguments are PyTorch's, in PyTorch's order (a transposed module takes `groups` and
`bias` before `dilation`), checked with PyTorch's messages; weights keep PyTorch's layout,
which is xconv's canonical one (`(F, C/groups, *k)`, transposed `(C, F/groups, *k)`);
data are `(N, C, *spatial)` or unbatched `(C, *spatial)`. Torch itself is not needed.

Choices where PyTorch is not xconv's business:

- Weights start as `nn.Conv*d` starts them (uniform within `1/sqrt(fan_in)`, the bias
  too), drawn from this module's stream, which `manual_seed(seed)` seeds; the numbers are
  not torch's own.
- Inputs are computed in the weights' dtype (float32 unless `dtype="float64"`); PyTorch
  would refuse a float64 input to a float32 module.
- A function call (`conv2d(x, w, ...)`) is a layer whose weight is `w`; read from text, a
  bare name such as `w` leaves the weight to be given (`xconv run --weights`), and
  `torch.empty(8, 3, 3, 3)` (or `zeros`, `ones`, `randn`, `rand`) gives its shape.

>>> import numpy as np
>>> from xconv.compat import pytorch
>>> conv = pytorch.Conv2d(3, 8, 3, stride=2, padding=1, padding_mode="reflect")
>>> conv.weight.shape, conv(np.ones((3, 9, 9), dtype=np.float32)).shape
((8, 3, 3, 3), (8, 5, 5))
"""

from __future__ import annotations

import inspect
from typing import Any

from . import _pytorch_args as args
from ._layer import ChannelsUnknownError
from ._pytorch_layer import (
    Conv,
    ConvTranspose,
    LazyConv,
    LazyConvTranspose,
    Tensor,
    TorchLayer,
    function,
    ranked,
)

__all__ = [
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "from_module",
    "manual_seed",
]


def manual_seed(seed: int) -> None:
    """Seed the stream new weights are drawn from, as `torch.manual_seed` does.

    Parameters
    ----------
    seed : int
        The seed.

    Examples
    --------
    >>> import numpy as np
    >>> from xconv.compat import pytorch
    >>> pytorch.manual_seed(0)
    >>> first = pytorch.Conv2d(2, 4, 3).weight
    >>> pytorch.manual_seed(0)
    >>> np.array_equal(first, pytorch.Conv2d(2, 4, 3).weight)
    True
    """
    args.seed(seed)


Conv1d, Conv2d, Conv3d = (ranked(Conv, r, f"Conv{r}d", __name__) for r in (1, 2, 3))
ConvTranspose1d, ConvTranspose2d, ConvTranspose3d = (
    ranked(ConvTranspose, r, f"ConvTranspose{r}d", __name__) for r in (1, 2, 3)
)
LazyConv1d, LazyConv2d, LazyConv3d = (
    ranked(LazyConv, r, f"LazyConv{r}d", __name__) for r in (1, 2, 3)
)
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    ranked(LazyConvTranspose, r, f"LazyConvTranspose{r}d", __name__) for r in (1, 2, 3)
)


def from_module(module: Any) -> TorchLayer:
    """The dialect's layer for a real `torch.nn.Conv*d` / `ConvTranspose*d` module.

    Parameters
    ----------
    module : torch.nn.Module
        A convolution module of PyTorch (an initialized lazy one too).

    Returns
    -------
    TorchLayer
        The layer, with a copy of the module's weight and bias as NumPy arrays (read,
        not shared).

    Raises
    ------
    TypeError
        Another kind of module.
    ChannelsUnknownError
        A lazy module that has not seen data.

    Examples
    --------
    >>> import torch
    >>> from xconv.compat.pytorch import from_module
    >>> layer = from_module(torch.nn.Conv2d(3, 8, 3, stride=2, padding_mode="circular"))
    >>> layer.spec.padding_mode, layer.weight.shape
    ('circular', (8, 3, 3, 3))
    """
    name = type(module).__name__
    if name.startswith("Lazy") and getattr(module, "in_channels", 0) == 0:
        raise ChannelsUnknownError(f"{name} has no weight yet: call it on data first")
    name = name.removeprefix("Lazy")  # an initialized lazy module is its plain one
    if name not in MODULES:
        raise TypeError(f"expected a torch.nn convolution module, got {type(module).__name__}")
    options = dict(stride=module.stride, padding=module.padding, dilation=module.dilation,
                   groups=module.groups, bias=module.bias is not None,
                   padding_mode=module.padding_mode)  # fmt: skip
    if name.startswith("ConvTranspose"):
        options["output_padding"] = module.output_padding
    layer = MODULES[name](module.in_channels, module.out_channels, module.kernel_size, **options)
    bias = None if module.bias is None else module.bias.detach().cpu().numpy()
    layer.set_weights(module.weight.detach().cpu().numpy(), bias)
    return layer


# -- the functions ------------------------------------------------------------------------

conv1d, conv2d, conv3d = (function(r, False, __name__) for r in (1, 2, 3))
conv_transpose1d, conv_transpose2d, conv_transpose3d = (
    function(r, True, __name__) for r in (1, 2, 3)
)


# -- from text ------------------------------------------------------------------------------

MODULES = {cls.__name__: cls for cls in (
    Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d,
    LazyConv1d, LazyConv2d, LazyConv3d,
    LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d,
)}  # fmt: skip
FUNCTIONS = {f.__name__: f for f in (conv1d, conv2d, conv3d)} | {
    f.__name__: f for f in (conv_transpose1d, conv_transpose2d, conv_transpose3d)
}


def from_text_call(name: str, args: tuple, options: dict) -> TorchLayer:
    """The layer a call read from text builds (`_syntax.read_pytorch`): a module, or a
    function call as a `Functional` layer. Names stand for tensors not given (the input,
    a weight or bias to load later) or for dtypes (`torch.float64`)."""
    from ._syntax import Creation, Name

    def value(v):
        if isinstance(v, Creation):
            return Tensor(v.creator, v.shape)
        if isinstance(v, Name):
            return v.text
        return v

    args = tuple(value(v) for v in args)
    options = {k: value(v) for k, v in options.items()}
    if name in MODULES:
        options.pop("device", None)
        return MODULES[name](*args, **options)
    function = FUNCTIONS[name]
    bound = _bind(function, args, options)
    if not isinstance(bound.pop("input"), str):
        raise TypeError(f"{name}: the input must be a name (the data come with the run)")
    weight, bias = bound.pop("weight"), bound.pop("bias", None)
    use_bias = bias is not None
    weight = None if isinstance(weight, str) else weight
    bias = None if isinstance(bias, str) else bias
    return function.layer_type(
        weight,
        bias,
        bound.get("stride", 1),
        bound.get("padding", 0),
        bound.get("dilation", 1),
        bound.get("groups", 1),
        bound.get("output_padding", 0),
        use_bias=use_bias,
    )


def _bind(function, args: tuple, options: dict) -> dict:
    try:
        return dict(inspect.signature(function).bind(*args, **options).arguments)
    except TypeError as error:
        raise TypeError(f"{function.__name__}(): {error}") from None
