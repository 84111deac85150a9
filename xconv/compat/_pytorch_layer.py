"""PyTorch's convolution modules and functions as layer objects (`pytorch` names them)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..spec import ConvSpec
from . import _pytorch_args as args
from ._layer import CompatLayer, cast, check_real, namespace, run, shape_of


class TorchLayer(CompatLayer):
    """What PyTorch's convolution modules and functions share: the spec, weights, the call."""

    dialect = "pytorch"
    RANK: ClassVar[int] = 2
    TRANSPOSED: ClassVar[bool] = False

    def _init_window(self, kernel_size, stride, padding, dilation, groups, output_padding):
        rank, name = self.RANK, type(self).__name__
        self.stride = args.per_dimension(stride, rank, "stride", 1)
        self.dilation = args.per_dimension(dilation, rank, "dilation", 1)
        self.output_padding = args.per_dimension(output_padding, rank, "output_padding", 0)
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
            self.padding = args.per_dimension(padding, rank, "padding", 0)
        if self.TRANSPOSED:
            for op, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
                if op >= max(s, d):
                    raise ValueError(
                        "output padding must be smaller than either stride or dilation"
                    )
        if kernel_size is not None:
            self.kernel_size = args.per_dimension(kernel_size, rank, "kernel_size", 1)

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
            padding_mode=args.PADDING_MODES[getattr(self, "padding_mode", "zeros")],
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
        elif self.use_bias and isinstance(self, Module):
            raise ValueError(f"{type(self).__name__} has a bias: give it with the weight")
        elif self.use_bias and "bias" not in getattr(self, "_creators", {}):
            raise ValueError(f"{self._function_name()}: the call passes a bias: give it with "
                             "the weight")  # fmt: skip
        if bias is not None and not self.use_bias and isinstance(self, Module):
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


class Module(TorchLayer):
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
        self.dtype = args.dtype_of(dtype)

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
        rng = args.stream()
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


class Conv(Module):
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
        kernel_size = args.per_dimension(kernel_size, self.RANK, "kernel_size", 1)  # never None
        self._init_window(kernel_size, stride, padding, dilation, groups, 0)
        self._init_module(in_channels, out_channels, bias, padding_mode, dtype)


class ConvTranspose(Module):
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
        kernel_size = args.per_dimension(kernel_size, self.RANK, "kernel_size", 1)  # never None
        self._init_window(kernel_size, stride, padding, dilation, groups, output_padding)
        self._init_module(in_channels, out_channels, bias, padding_mode, dtype)


class LazyConv(Conv):
    LAZY = True

    def __init__(self, out_channels: int, kernel_size: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(None, out_channels, kernel_size, *args, **kwargs)


class LazyConvTranspose(ConvTranspose):
    LAZY = True

    def __init__(self, out_channels: int, kernel_size: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(None, out_channels, kernel_size, *args, **kwargs)


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
            setattr(self, f"_{name}", creator.make(args.stream()))
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


def ranked(base: type, rank: int, name: str, module: str) -> type:
    """`base` at `rank`, named and documented as PyTorch's module, living in `module`."""
    doc = args.module_doc(name, rank, issubclass(base, ConvTranspose))
    return type(name, (base,), {"RANK": rank, "__doc__": doc, "__module__": module})


def function(rank: int, transposed: bool, module: str):
    """`F.conv<rank>d` (or `conv_transpose`), computed by a `Functional` layer."""
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
    call.__module__ = module
    call.__doc__ = args.function_doc(kind, rank, transposed)
    call.layer_type = layer_type  # what the text reader builds
    return call
