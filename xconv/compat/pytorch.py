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
import math
from typing import Any, ClassVar

import numpy as np

from ..spec import ConvSpec
from ._layer import ChannelsUnknownError, CompatLayer, cast, check_real, namespace, run, shape_of

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

# PyTorch's padding modes by xconv's names
_PADDING_MODES = {
    "zeros": "constant",
    "reflect": "reflect",
    "replicate": "replicate",
    "circular": "circular",
}
_DTYPES = {"float32": np.float32, "float": np.float32, "float64": np.float64, "double": np.float64}
_stream = {"rng": np.random.default_rng()}


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
    _stream["rng"] = np.random.default_rng(seed)


def _per_dimension(value: Any, rank: int, name: str, minimum: int) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(values, (tuple, list))
        or len(values) != rank
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    ):
        raise TypeError(f"{name} must be an int or a tuple of {rank} ints, got {value!r}")
    if any(v < minimum for v in values):
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return tuple(values)


def _dtype(dtype: Any) -> type:
    name = str(dtype).removeprefix("torch.") if dtype is not None else "float32"
    if name not in _DTYPES:
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    return _DTYPES[name]


class TorchLayer(CompatLayer):
    """What PyTorch's convolution modules and functions share: the spec, weights, the call."""

    dialect = "pytorch"
    RANK: ClassVar[int] = 2
    TRANSPOSED: ClassVar[bool] = False

    def _init_window(self, kernel_size, stride, padding, dilation, groups, output_padding):
        rank, name = self.RANK, type(self).__name__
        self.stride = _per_dimension(stride, rank, "stride", 1)
        self.dilation = _per_dimension(dilation, rank, "dilation", 1)
        self.output_padding = _per_dimension(output_padding, rank, "output_padding", 0)
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError("groups must be a positive integer")
        self.groups = groups
        if isinstance(padding, str):
            if self.TRANSPOSED:
                raise TypeError(f"padding of {name} must be an int or a tuple of ints")
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _per_dimension(padding, rank, "padding", 0)
        if self.TRANSPOSED:
            for op, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
                if op >= max(s, d):
                    raise ValueError(
                        "output padding must be smaller than either stride or dilation"
                    )
        if kernel_size is not None:
            self.kernel_size = _per_dimension(kernel_size, rank, "kernel_size", 1)

    @property
    def spec(self) -> ConvSpec:
        in_channels, out_channels = self._channels()
        return ConvSpec(
            self.kernel_size,
            stride=self.stride,
            padding=(
                self.padding
                if isinstance(self.padding, str)
                else tuple((p, p) for p in self.padding)
            ),
            dilation=self.dilation,
            groups=self.groups,
            padding_mode=_PADDING_MODES[getattr(self, "padding_mode", "zeros")],
            transposed=self.TRANSPOSED,
            output_padding=self.output_padding if self.TRANSPOSED else 0,
            in_channels=in_channels,
            out_channels=out_channels,
        )

    _weight: Any = None
    _bias: Any = None

    @property
    def weight(self) -> Any:
        """PyTorch's layout, `(F, C/groups, *k)` (transposed `(C, F/groups, *k)`); None
        until known (a lazy module's first call, a function's weight not yet given)."""
        self._materialize()
        return self._weight

    @property
    def bias(self) -> Any:
        """`(F,)`, or None."""
        self._materialize()
        return self._bias

    def _materialize(self) -> None:
        """Draw the weights that are due from the stream (late, so a seed set after the
        layer was written still counts)."""

    def set_weights(self, weight: Any, bias: Any = None) -> None:
        """Load `weight` (PyTorch's layout) and `bias` (`(F,)`, or None without a bias)."""
        if not hasattr(weight, "shape"):
            weight = np.asarray(weight, dtype=np.float32)
        self._accept_shape(shape_of(weight))
        out = self._channels()[1]
        if bias is not None:
            if not hasattr(bias, "shape"):
                bias = np.asarray(bias, dtype=np.float32)
            if shape_of(bias) != (out,):
                raise ValueError(f"bias must have shape ({out},), got {shape_of(bias)}")
        elif self.use_bias and isinstance(self, _Module):
            raise ValueError(f"{type(self).__name__} has a bias: give it with the weight")
        elif self.use_bias and "bias" not in getattr(self, "_creators", {}):
            raise ValueError(f"{self._function_name()}: the call passes a bias: give it with "
                             "the weight")  # fmt: skip
        if bias is not None and not self.use_bias and isinstance(self, _Module):
            raise ValueError(f"{type(self).__name__} was made with bias=False: it has no bias")
        self._weight, self._bias = weight, bias
        self.use_bias = bias is not None

    def canonical_weights(self) -> tuple[Any, Any]:
        if self.weight is None:
            raise ValueError(
                f"{type(self).__name__}: the weight is not known yet (a lazy module makes it "
                "on its first call)"
            )
        return self.weight, self.bias

    @property
    def has_bias(self) -> bool:
        return self.use_bias

    def _check_input(self, x):
        x = check_real(x, f"{type(self).__name__} expects a tensor")
        rank, name = self.RANK, self._function_name()
        shape = shape_of(x)
        if len(shape) not in (rank + 1, rank + 2):
            raise ValueError(
                f"Expected {rank + 1}D (unbatched) or {rank + 2}D (batched) input to {name}, "
                f"but got input of size: {list(shape)}"
            )
        return x, shape

    def _function_name(self) -> str:
        kind = "conv_transpose" if self.TRANSPOSED else "conv"
        return f"{kind}{self.RANK}d"

    def _convolve(self, x):
        """The convolution of a checked input with the layer's weights (known by now)."""
        x, shape = self._check_input(x)
        unbatched = len(shape) == self.RANK + 1
        channels = shape[-self.RANK - 1]
        in_channels, _ = self._channels()
        if channels != in_channels:
            batch = [1, *shape] if unbatched else list(shape)
            raise ValueError(
                f"Given groups={self.groups}, weight of size {list(shape_of(self.weight))}, "
                f"expected input{batch} to have {in_channels} channels, but got {channels} "
                "channels instead"
            )
        xp = namespace(x)
        dtype = np.dtype(self.weight.dtype).name if isinstance(self.weight, np.ndarray) else None
        if dtype is not None:
            x = cast(x, dtype)
        if unbatched:
            x = xp.expand_dims(x, axis=0)
        y = run(self.spec, x, self.weight, self.bias, prepared=self.prepared_weights)
        return y[0, ...] if unbatched else y


class _Module(TorchLayer):
    """`nn.Conv*d` / `nn.ConvTranspose*d` and their lazy forms."""

    LAZY: ClassVar[bool] = False

    def _init_module(self, in_channels, out_channels, bias, padding_mode, dtype) -> None:
        name = type(self).__name__
        for label, count in (("in_channels", in_channels), ("out_channels", out_channels)):
            if count is None and label == "in_channels" and self.LAZY:
                continue
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise ValueError(f"{label} must be a positive integer, got {count!r}")
            if count % self.groups:
                raise ValueError(f"{label} must be divisible by groups")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                "padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, "
                f"but got padding_mode='{padding_mode}'"
            )
        if self.TRANSPOSED and padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.padding_mode = padding_mode
        self.use_bias = bias
        self.dtype = _dtype(dtype)

    def _channels(self) -> tuple[int | None, int]:
        return self.in_channels, self.out_channels

    def _accept_shape(self, shape: tuple[int, ...]) -> None:
        if self.in_channels is None and len(shape) == self.RANK + 2:  # a lazy module
            self.in_channels = shape[0] if self.TRANSPOSED else shape[1] * self.groups
        expected = self._weight_shape()
        if tuple(shape) != expected:
            raise ValueError(f"weight must have shape {expected}, got {tuple(shape)}")

    def _weight_shape(self) -> tuple[int, ...] | None:
        if self.in_channels is None:
            return None
        if self.TRANSPOSED:
            return (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    def _materialize(self) -> None:
        if self._weight is None and self.in_channels is not None:
            self.initialize(self.in_channels)

    def initialize(self, in_channels: int) -> None:
        """Make the weights for `in_channels` input channels, as `nn.Conv*d` does."""
        if self._weight is not None:
            return
        if in_channels % self.groups:
            raise ValueError("in_channels must be divisible by groups")
        self.in_channels = in_channels
        outer, inner = (
            (in_channels, self.out_channels // self.groups)
            if self.TRANSPOSED
            else (self.out_channels, in_channels // self.groups)
        )
        bound = 1 / math.sqrt(inner * math.prod(self.kernel_size))  # PyTorch's fan_in
        rng = _stream["rng"]
        shape = (outer, inner, *self.kernel_size)
        self._weight = rng.uniform(-bound, bound, shape).astype(self.dtype)
        self._bias = (
            rng.uniform(-bound, bound, self.out_channels).astype(self.dtype)
            if self.use_bias
            else None
        )

    def __call__(self, x):
        x, shape = self._check_input(x)
        if self.in_channels is None:  # a lazy module learns its channels here
            self.initialize(shape[-self.RANK - 1])
        return self._convolve(x)


class _Conv(_Module):
    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        kernel_size = _per_dimension(kernel_size, self.RANK, "kernel_size", 1)  # never None
        self._init_window(kernel_size, stride, padding, dilation, groups, 0)
        self._init_module(in_channels, out_channels, bias, padding_mode, dtype)


class _ConvTranspose(_Module):
    TRANSPOSED = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        kernel_size = _per_dimension(kernel_size, self.RANK, "kernel_size", 1)  # never None
        self._init_window(kernel_size, stride, padding, dilation, groups, output_padding)
        self._init_module(in_channels, out_channels, bias, padding_mode, dtype)


class _LazyConv(_Conv):
    LAZY = True

    def __init__(self, out_channels: int, kernel_size: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(None, out_channels, kernel_size, *args, **kwargs)


class _LazyConvTranspose(_ConvTranspose):
    LAZY = True

    def __init__(self, out_channels: int, kernel_size: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(None, out_channels, kernel_size, *args, **kwargs)


# PyTorch's arguments, as its reference pages document them
_ARGUMENTS = {
    "in_channels": """in_channels : int
    Channels of the input.""",
    "out_channels": """out_channels : int
    Channels of the output.""",
    "kernel_size": """kernel_size : int or tuple of int
    The kernel's size, one for every axis or one per axis.""",
    "stride": """stride : int or tuple of int, default 1
    The step of the window.""",
    "padding": """padding : int, tuple of int or {"valid", "same"}, default 0
    Zeros (or `padding_mode`) on both sides of each axis; `"same"` only at stride 1.""",
    "padding_t": """padding : int or tuple of int, default 0
    `dilation * (kernel_size - 1) - padding` zeros are added to both sides of the input:
    the cropping of the full output.""",
    "output_padding": """output_padding : int or tuple of int, default 0
    Extra size at the end of each axis of the output, smaller than stride or dilation.""",
    "dilation": """dilation : int or tuple of int, default 1
    The spacing between kernel taps.""",
    "groups": """groups : int, default 1
    Channel groups; `in_channels` and `out_channels` must be multiples of it.""",
    "bias": """bias : bool, default True
    Whether the module has a bias.""",
    "padding_mode": """padding_mode : {"zeros", "reflect", "replicate", "circular"}, default "zeros"
    How the padding is filled (transposed modules take only `"zeros"`).""",
    "device": """device : object, optional
    Accepted for PyTorch's signature; the weights are NumPy arrays.""",
    "dtype": """dtype : {"float32", "float64"}, optional
    The weights' dtype, in which inputs are computed (float32 by default).""",
    "lazy": """*args, **kwargs
    The module's other arguments, as for the non-lazy module; `in_channels` is taken
    from the first input.""",
}
_FORWARD = (
    "in_channels",
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
    "bias",
    "padding_mode",
    "device",
    "dtype",
)
_TRANSPOSED = ("in_channels", "out_channels", "kernel_size", "stride", "padding_t",
               "output_padding", "groups", "bias", "dilation", "padding_mode", "device",
               "dtype")  # fmt: skip


def _module_doc(name: str, rank: int, base: type) -> str:
    """`nn.<name>`'s docstring: PyTorch's arguments and an example of this rank."""
    transposed, lazy = issubclass(base, _ConvTranspose), name.startswith("Lazy")
    entries = _TRANSPOSED if transposed else _FORWARD
    if lazy:
        entries = ("out_channels", "kernel_size", "lazy")
    parameters = "\n".join(_ARGUMENTS[entry] for entry in entries)
    spatial = ", ".join(["5"] * rank)
    arguments = "4, 3" if lazy else "2, 4, 3"
    arguments += ", stride=2" if transposed else ", padding=1"
    out = ", ".join(["11" if transposed else "5"] * rank)
    kernel = ", ".join(["k"] * rank)
    weight = f"(C, F // groups, {kernel})" if transposed else f"(F, C // groups, {kernel})"
    return f"""PyTorch's `nn.{name}`: data `(N, C, *spatial)` or `(C, *spatial)`.

The weight is `{weight}`, the bias `(F,)`; both start as PyTorch's do (uniform within
`1 / sqrt(fan_in)`), drawn from the stream `manual_seed` seeds.

Parameters
----------
{parameters}

Examples
--------
>>> import numpy as np
>>> from xconv.compat.pytorch import {name}
>>> layer = {name}({arguments})
>>> layer(np.ones((1, 2, {spatial}), np.float32)).shape
(1, 4, {out})
"""


def _ranked(base: type, rank: int, name: str) -> type:
    return type(name, (base,), {"RANK": rank, "__doc__": _module_doc(name, rank, base)})


Conv1d, Conv2d, Conv3d = (_ranked(_Conv, r, f"Conv{r}d") for r in (1, 2, 3))
ConvTranspose1d, ConvTranspose2d, ConvTranspose3d = (
    _ranked(_ConvTranspose, r, f"ConvTranspose{r}d") for r in (1, 2, 3)
)
LazyConv1d, LazyConv2d, LazyConv3d = (_ranked(_LazyConv, r, f"LazyConv{r}d") for r in (1, 2, 3))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _ranked(_LazyConvTranspose, r, f"LazyConvTranspose{r}d") for r in (1, 2, 3)
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
    if name not in _MODULES:
        raise TypeError(f"expected a torch.nn convolution module, got {type(module).__name__}")
    options = dict(stride=module.stride, padding=module.padding, dilation=module.dilation,
                   groups=module.groups, bias=module.bias is not None,
                   padding_mode=module.padding_mode)  # fmt: skip
    if name.startswith("ConvTranspose"):
        options["output_padding"] = module.output_padding
    layer = _MODULES[name](module.in_channels, module.out_channels, module.kernel_size, **options)
    bias = None if module.bias is None else module.bias.detach().cpu().numpy()
    layer.set_weights(module.weight.detach().cpu().numpy(), bias)
    return layer


# -- the functions ------------------------------------------------------------------------


class Functional(TorchLayer):
    """`F.conv*d(input, weight, bias, ...)` as a layer: the weight and bias are its arguments.

    `weight` is an array, None (not given yet: `set_weights` before calling) or a
    `Tensor` read from text (a creator such as `torch.randn` and a shape, drawn from this
    module's stream when first needed); `bias` likewise, or None for no bias with
    `use_bias=False`.
    """

    def __init__(
        self,
        weight: Any,
        bias: Any = None,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        output_padding: Any = 0,
        *,
        use_bias: bool | None = None,
    ) -> None:
        self._init_window(None, stride, padding, dilation, groups, output_padding)
        self.weight_shape: tuple[int, ...] | None = None
        self.use_bias = bias is not None if use_bias is None else use_bias
        self._creators: dict[str, Tensor] = {}
        for name, value in (("weight", weight), ("bias", bias)):
            if isinstance(value, Tensor):
                self._creators[name] = value
        if isinstance(weight, Tensor):
            self._accept_shape(weight.shape)
        elif weight is not None:
            self.set_weights(weight, None if isinstance(bias, Tensor) else bias)
        if isinstance(bias, Tensor) and self.weight_shape is not None:
            out = self._channels()[1]
            if bias.shape != (out,):
                raise ValueError(f"bias must have shape ({out},), got {bias.shape}")

    def _accept_shape(self, shape: tuple[int, ...]) -> None:
        name = self._function_name()
        if len(shape) != self.RANK + 2 or not all(isinstance(n, int) and n > 0 for n in shape):
            raise ValueError(
                f"{name}: weight must be {self.RANK + 2}-D with positive sizes, got {shape}"
            )
        if shape[0] % self.groups:
            kind = "in_channels" if self.TRANSPOSED else "out_channels"
            raise ValueError(f"{name}: {kind} ({shape[0]}) must be divisible by groups")
        self.weight_shape = tuple(shape)
        self.kernel_size = tuple(shape[2:])

    def _materialize(self) -> None:
        for name, creator in list(self._creators.items()):
            setattr(self, f"_{name}", creator.make(_stream["rng"]))
            del self._creators[name]

    def _channels(self) -> tuple[int | None, int]:
        if self.weight_shape is None:
            raise ValueError(
                f"{self._function_name()}: the weight is not known: give its values (xconv "
                "run --weights FILE) or write its shape, as torch.empty(F, C, *kernel)"
            )
        outer, inner = self.weight_shape[:2]
        if self.TRANSPOSED:
            return outer, inner * self.groups
        return inner * self.groups, outer

    def __call__(self, x):
        if self.weight is None:
            raise ValueError(f"{self._function_name()}: set the weight before calling")
        if self.use_bias and self.bias is None:
            raise ValueError(f"{self._function_name()}: set the bias before calling")
        return self._convolve(x)


class Tensor:
    """A tensor written in text by its creator, `torch.randn(8, 3, 3, 3)`: read, not run."""

    CREATORS = ("empty", "zeros", "ones", "randn", "rand")

    def __init__(self, creator: str, shape: tuple[int, ...]) -> None:
        if creator not in self.CREATORS:
            raise ValueError(f"torch.{creator} is not read; use one of {self.CREATORS}")
        self.creator, self.shape = creator, tuple(shape)

    def make(self, rng: np.random.Generator) -> np.ndarray:
        if self.creator in ("zeros", "ones"):
            return getattr(np, self.creator)(self.shape, dtype=np.float32)
        if self.creator == "randn":
            return rng.standard_normal(self.shape, dtype=np.float32)
        if self.creator == "rand":
            return rng.random(self.shape, dtype=np.float32)
        fan_in = math.prod(self.shape[1:]) or 1  # empty: as a module's weight starts
        return rng.uniform(-1, 1, self.shape).astype(np.float32) / np.float32(math.sqrt(fan_in))


def _function(rank: int, transposed: bool):
    kind = "conv_transpose" if transposed else "conv"
    layer_type = type(
        f"{kind}{rank}d",
        (Functional,),
        {"RANK": rank, "TRANSPOSED": transposed, "__doc__": f"`F.{kind}{rank}d` as a layer."},
    )

    if transposed:

        def call(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                 dilation=1):  # fmt: skip
            return layer_type(weight, bias, stride, padding, dilation, groups, output_padding)(
                input
            )
    else:

        def call(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
            return layer_type(weight, bias, stride, padding, dilation, groups)(input)

    call.__name__ = call.__qualname__ = f"{kind}{rank}d"
    call.__doc__ = _function_doc(kind, rank, transposed)
    call.layer_type = layer_type  # what the text reader builds
    return call


def _function_doc(kind: str, rank: int, transposed: bool) -> str:
    """`F.<kind><rank>d`'s docstring: PyTorch's arguments and an example of this rank."""
    weight = "(C, F // groups, *k)" if transposed else "(F, C // groups, *k)"
    padding = _ARGUMENTS["padding_t" if transposed else "padding"]
    middle = [padding]
    if transposed:
        middle += [_ARGUMENTS["output_padding"], _ARGUMENTS["groups"], _ARGUMENTS["dilation"]]
    else:
        middle += [_ARGUMENTS["dilation"], _ARGUMENTS["groups"]]
    spatial = ", ".join(["6"] * rank)
    out = ", ".join(["13" if transposed else "4"] * rank)
    kernel = ", ".join(["3"] * rank)
    shape = f"(2, 4, {kernel})" if transposed else f"(4, 2, {kernel})"
    stride = ", stride=2" if transposed else ""
    return f"""PyTorch's `F.{kind}{rank}d`, computed by xconv.

Parameters
----------
input : array
    `(N, C, *spatial)` or `(C, *spatial)`.
weight : array
    `{weight}`.
bias : array, optional
    `(F,)`.
{_ARGUMENTS["stride"]}
{chr(10).join(middle)}

Returns
-------
array
    The result, in the input's array library.

Examples
--------
>>> import numpy as np
>>> from xconv.compat.pytorch import {kind}{rank}d
>>> x, w = np.ones((1, 2, {spatial}), np.float32), np.ones({shape}, np.float32)
>>> {kind}{rank}d(x, w{stride}).shape
(1, 4, {out})
"""


conv1d, conv2d, conv3d = (_function(r, False) for r in (1, 2, 3))
conv_transpose1d, conv_transpose2d, conv_transpose3d = (_function(r, True) for r in (1, 2, 3))


# -- from text ------------------------------------------------------------------------------

_MODULES = {cls.__name__: cls for cls in (
    Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d,
    LazyConv1d, LazyConv2d, LazyConv3d,
    LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d,
)}  # fmt: skip
_FUNCTIONS = {f.__name__: f for f in (conv1d, conv2d, conv3d)} | {
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
    if name in _MODULES:
        options.pop("device", None)
        return _MODULES[name](*args, **options)
    function = _FUNCTIONS[name]
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
