"""Wolfram Language's `ConvolutionLayer`, with its options, ports, `NetExtract` and `Information`.

`ConvolutionLayer(n, s, **options)` takes the options under their Wolfram names
(`Weights`, `Biases`, `ChannelGroups`, `Dilation`, `Dimensionality`, `Interleaving`,
`LearningRateMultipliers`, `PaddingSize`, `Stride`, `Input`); `Automatic` (or the string
`"Automatic"`) leaves a value to be inferred, `None` and `"Varying"` mark a varying
dimension in `Input`. Weights are `{n, m/g, *k}` (xconv's own layout), biases `{n}`.

Choices where the reference page is silent:

- `PaddingSize -> "Same"` with an odd total padding puts the extra zero at the end
  (bottom/right), as MATLAB documents and Keras, TensorFlow and ONNX `SAME_UPPER` do.
- A layer given `Weights` but not `Biases` uses zero biases.
- `NetInitialize` draws Xavier weights (normal, variance 2 / (fan_in + fan_out), fans
  counted per channel group) and zero biases unless told otherwise.
- Evaluation runs in `WorkingPrecision -> "Real32"` unless `"Real64"` (or `"Mixed"`:
  half-precision arrays accumulated in single precision) is asked for.

>>> import numpy as np
>>> from xconv.compat import wolfram
>>> layer = wolfram.ConvolutionLayer(1, 2, Weights=[[[0.5, 0.5]]], Biases=None)
>>> layer(np.array([[1.0, 2.0, 3.0, 4.0]]))
array([[1.5, 2.5, 3.5]], dtype=float32)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..spec import ConvSpec
from . import _init
from ._layer import (
    CompatLayer,
    TranslationError,
    as_float_array,
    cast,
    check_numeric,
    namespace,
    run,
    shape_of,
)

__all__ = [
    "Automatic",
    "ConvolutionLayer",
    "Information",
    "NetExtract",
    "NetInitialize",
    "Options",
    "Varying",
]


class _AutomaticType:
    """Wolfram's `Automatic`: a value the layer infers."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Automatic"

    def __reduce__(self):
        return (_AutomaticType, ())


Automatic = _AutomaticType()
Varying = "Varying"

_PRECISIONS = {"Real32": "float32", "Real64": "float64", "Mixed": "float16"}
_EVALUATION_OPTIONS = {
    "BatchSize": Automatic,
    "NetEvaluationMode": "Test",
    "RandomSeeding": "Inherited",
    "TargetDevice": "CPU",
    "WorkingPrecision": "Real32",
}
_NAME = "ConvolutionLayer"


def _automatic(value: object) -> bool:
    return value is Automatic or (isinstance(value, str) and value == "Automatic")


def _fail(message: str) -> ValueError:
    return ValueError(f"{_NAME}: {message}")


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise _fail(f"{what} should be a positive integer, but was {value!r}")


def _is_seq(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


class ConvolutionLayer(CompatLayer):
    """`ConvolutionLayer[n, s, opts]`: `n` output channels, kernels of size `s`.

    `s` is an int (the rank then comes from `Dimensionality`, `Input` or `Weights`) or a
    list of 1, 2 or 3 ints. Call the layer on one example `(m, *spatial)` (channels
    last with `Interleaving=True`), on a batch with one more leading axis, or on a list
    of examples (each may have its own size); `output_shape(dims)` gives the output
    dimensions of one example, with None for "Varying".

    >>> from xconv.compat.wolfram import ConvolutionLayer
    >>> layer = ConvolutionLayer(16, [2, 3], Stride=2, Dilation=[3, 4], PaddingSize=[1, 2],
    ...                          Input=[3, 256, 252])
    >>> layer.output_shape()
    (16, 128, 124)
    """

    dialect = "wolfram"

    def __init__(
        self,
        n: int,
        s: int | Sequence[int],
        *,
        Weights: Any = Automatic,
        Biases: Any = Automatic,
        ChannelGroups: int = 1,
        Dilation: int | Sequence[int] = 1,
        Dimensionality: int | Any = Automatic,
        Interleaving: bool = False,
        LearningRateMultipliers: Any = Automatic,
        PaddingSize: Any = 0,
        Stride: int | Sequence[int] = 1,
        Input: Any = Automatic,
    ) -> None:
        self.OutputChannels = _positive_int(n, "the number of output channels n")
        self.ChannelGroups = _positive_int(ChannelGroups, "'ChannelGroups'")
        if self.OutputChannels % self.ChannelGroups:
            raise _fail(
                f"'ChannelGroups' -> {self.ChannelGroups} does not divide the "
                f"{self.OutputChannels} output channels"
            )
        if not isinstance(Interleaving, bool):
            raise _fail(f"Interleaving should be True or False, but was {Interleaving!r}")
        self.Interleaving = Interleaving
        weights = None if Weights is None or _automatic(Weights) else as_float_array(Weights)
        self.Biases = (
            None
            if Biases is None
            else (Automatic if _automatic(Biases) else as_float_array(Biases))
        )
        self._rank = self._infer_rank(s, Dimensionality, Input, weights)
        self._kernel_arg = s
        self._stride_arg, self._dilation_arg, self._padding_arg = Stride, Dilation, PaddingSize
        self._input_arg = Input
        self._channels: int | None = None
        self._spatial_in: tuple | None = None
        if self._rank is not None:
            self._settle()
        self.Weights = Automatic
        self.LearningRateMultipliers = _learning_rates(LearningRateMultipliers)
        if weights is not None:
            self._set_weights(weights)
        biases = self.Biases
        has_biases = biases is not None and biases is not Automatic
        if has_biases and shape_of(biases) != (self.OutputChannels,):
            raise _fail(
                f'the value of "Biases" should be a vector of length '
                f"{self.OutputChannels}, but has dimensions {shape_of(self.Biases)}"
            )

    # -- parameters --------------------------------------------------------------------

    def _infer_rank(self, s, dimensionality, input_dims, weights) -> int | None:
        claims = {}
        if _is_seq(s):
            if not 1 <= len(s) <= 3:
                raise _fail(
                    f"the kernel size should be an integer or a list of 1 to 3 "
                    f"integers, but was {list(s)}"
                )
            claims["the kernel size"] = len(s)
        elif not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise _fail(
                f"the kernel size should be an integer or a list of integers, but was {s!r}"
            )
        if not _automatic(dimensionality) and dimensionality is not None:
            claims['"Dimensionality"'] = _positive_int(dimensionality, '"Dimensionality"')
        if not _automatic(input_dims) and input_dims is not None:
            if not _is_seq(input_dims) or len(input_dims) < 2:
                raise _fail(
                    f'"Input" should be a list of dimensions {{m, d1, ...}}, but was {input_dims!r}'
                )
            claims['"Input"'] = len(input_dims) - 1
        if weights is not None:
            claims['"Weights"'] = len(weights.shape) - 2
        ranks = set(claims.values())
        if len(ranks) > 1:
            stated = ", ".join(f"{k} implies {v}" for k, v in claims.items())
            raise _fail(f"inconsistent dimensionality: {stated}")
        if ranks and not 1 <= min(ranks) <= 3:
            raise _fail(
                f"convolutions of {min(ranks)} spatial dimensions are not supported (1 to 3 are)"
            )
        return ranks.pop() if ranks else None

    def _settle(self) -> None:
        """Normalise every per-dimension parameter once the rank is known."""
        rank = self._rank
        s = self._kernel_arg
        self.KernelSize = tuple(_per_dim(s, rank, "the kernel size", 1))
        self.Stride = tuple(_per_dim(self._stride_arg, rank, '"Stride"', 1))
        self.Dilation = tuple(_per_dim(self._dilation_arg, rank, '"Dilation"', 1))
        self.PaddingSize = _padding(self._padding_arg, rank)
        self.Dimensionality = rank
        if not _automatic(self._input_arg) and self._input_arg is not None:
            dims = [None if d is None or d == Varying else d for d in self._input_arg]
            channels = dims[-1] if self.Interleaving else dims[0]
            spatial = dims[:-1] if self.Interleaving else dims[1:]
            for d in spatial:
                if d is not None:
                    _positive_int(d, 'every dimension of "Input"')
            self._spatial_in = tuple(spatial)
            self._set_channels(_positive_int(channels, 'the channel dimension of "Input"'))

    def _set_channels(self, m: int) -> None:
        if self._channels is not None and m != self._channels:
            raise _fail(f"the input has {m} channels, but the layer expects {self._channels}")
        if m % self.ChannelGroups:
            raise _fail(
                f"'ChannelGroups' -> {self.ChannelGroups} does not divide the {m} input channels"
            )
        self._channels = m

    def _set_weights(self, weights) -> None:
        shape = shape_of(weights)
        expected = (self.OutputChannels, None, *self.KernelSize)
        if len(shape) != len(expected) or any(
            e is not None and e != d for e, d in zip(expected, shape, strict=True)
        ):
            want = ", ".join("m/g" if e is None else str(e) for e in expected)
            raise _fail(
                f'the value of "Weights" should have dimensions {{{want}}}, but has '
                f"dimensions {list(shape)}"
            )
        self._set_channels(shape[1] * self.ChannelGroups)
        self.Weights = weights
        if self.Biases is Automatic:
            xp = namespace(weights)
            self.Biases = xp.zeros((self.OutputChannels,), dtype=weights.dtype)

    @property
    def initialized(self) -> bool:
        """True when the weights are known (given, or set by `NetInitialize`)."""
        return self.Weights is not Automatic

    @property
    def InputChannels(self) -> int | None:
        return self._channels

    def _need_rank(self) -> int:
        if self._rank is None:
            raise _fail(
                "the dimensionality of the convolution is not known; give the kernel size as "
                'a list, or specify "Dimensionality", "Input" or "Weights"'
            )
        return self._rank

    # -- the canonical description -------------------------------------------------------

    @property
    def spec(self) -> ConvSpec:
        """The layer as an `xconv.ConvSpec` (zero padding, channels-last if interleaved)."""
        self._need_rank()
        return ConvSpec(
            self.KernelSize,
            stride=self.Stride,
            padding="same" if self.PaddingSize == "Same" else self.PaddingSize,
            dilation=self.Dilation,
            groups=self.ChannelGroups,
            channels_last=self.Interleaving,
            in_channels=self._channels,
            out_channels=self.OutputChannels,
        )

    def canonical_weights(self) -> tuple[Any, Any]:
        self._require_initialized()
        return self.Weights, self.Biases

    def portable(self) -> dict[str, Any]:
        rates = self.LearningRateMultipliers
        out: dict[str, Any] = {}
        if rates.get("Weights", 1) != 1:
            out["weight_learn_rate"] = rates["Weights"]
        if rates.get("Biases", 1) != 1:
            out["bias_learn_rate"] = rates["Biases"]
        return out

    def _require_initialized(self) -> None:
        self._need_rank()
        if not self.initialized:
            known = "known" if self._channels is not None else "not known"
            raise _fail(
                'the layer is not initialized: its "Weights" are Automatic and the number '
                f'of input channels is {known}. Specify "Weights" -> an array of dimensions '
                '{n, m/g, *k}, or use NetInitialize(layer) once "Input" fixes the channels'
            )

    # -- shapes --------------------------------------------------------------------------

    def output_shape(self, input_dims: Sequence | None = None) -> tuple:
        """Output dimensions of one example, `(n, *d')` (or `(*d', n)` interleaved).

        `input_dims` is `(m, d1, ...)` (or `(d1, ..., m)`); None or `"Varying"` marks a
        varying size, which stays None in the result. Without it, the `Input` option.
        """
        rank = self._need_rank()
        if input_dims is None:
            if self._spatial_in is None:
                raise _fail('the input dimensions are not known; specify "Input" or pass them')
            input_dims = (
                (*self._spatial_in, self._channels)
                if self.Interleaving
                else (self._channels, *self._spatial_in)
            )
        dims = tuple(None if d is None or d == Varying else d for d in input_dims)
        if len(dims) != rank + 1:
            raise _fail(
                f"the input should be an array of rank {rank + 1} (channels and "
                f"{rank} spatial dimensions), but has dimensions {list(input_dims)}"
            )
        channels = dims[-1] if self.Interleaving else dims[0]
        spatial = dims[:-1] if self.Interleaving else dims[1:]
        if channels is not None:
            self._check_input_channels(channels)
        self._check_fits(spatial)
        out = self.spec.output_spatial(spatial)
        return (*out, self.OutputChannels) if self.Interleaving else (self.OutputChannels, *out)

    def _check_input_channels(self, m: int) -> None:
        if m % self.ChannelGroups:
            raise _fail(
                f"'ChannelGroups' -> {self.ChannelGroups} does not divide the {m} input channels"
            )
        if self._channels is not None and m != self._channels:
            raise _fail(f"the input has {m} channels, but the layer expects {self._channels}")

    def _check_fits(self, spatial: Sequence) -> None:
        pads = self.spec.resolve_padding(spatial)
        for i, (d, pad) in enumerate(zip(spatial, pads, strict=True)):
            if d is None or pad is None:
                continue
            extent = (self.KernelSize[i] - 1) * self.Dilation[i] + 1
            if extent > d + pad[0] + pad[1]:
                raise _fail(
                    f"the kernel size {self.KernelSize[i]} (spanning {extent} with dilation "
                    f"{self.Dilation[i]}) cannot be larger than the input dimension {d} plus "
                    f"padding {pad[0] + pad[1]} (dimension {i + 1})"
                )

    # -- evaluation ----------------------------------------------------------------------

    def __call__(
        self,
        x,
        *,
        WorkingPrecision: str = "Real32",
        TargetDevice: str = "CPU",
        BatchSize: int | Any = Automatic,
        NetEvaluationMode: str = "Test",
        RandomSeeding: Any = "Inherited",
    ):
        """Apply the layer to one example, a batch, or a list of examples."""
        if WorkingPrecision not in _PRECISIONS:
            raise _fail(
                f"WorkingPrecision should be one of {list(_PRECISIONS)}, but was "
                f"{WorkingPrecision!r}"
            )
        if TargetDevice not in ("CPU", "GPU") and not _is_seq(TargetDevice):
            raise _fail(f'TargetDevice should be "CPU" or "GPU", but was {TargetDevice!r}')
        if NetEvaluationMode not in ("Test", "Train"):
            raise _fail(
                f'NetEvaluationMode should be "Test" or "Train", but was {NetEvaluationMode!r}'
            )
        options = {"WorkingPrecision": WorkingPrecision, "BatchSize": BatchSize}
        if isinstance(x, (list, tuple)) and x and all(hasattr(e, "shape") for e in x):
            return [self._evaluate(e, options, allow_batch=False) for e in x]
        x = check_numeric(x, f"{_NAME} cannot accept symbolic inputs: expected numeric arrays")
        if isinstance(x, np.ndarray) and x.dtype == object:
            raise TypeError(f"{_NAME} cannot accept symbolic inputs")
        return self._evaluate(x, options, allow_batch=True)

    def _evaluate(self, x, options, *, allow_batch: bool):
        rank = self._need_rank()
        self._require_initialized()
        if x.ndim not in ((rank + 1, rank + 2) if allow_batch else (rank + 1,)):
            raise _fail(
                f"the input should be an array of rank {rank + 1} (one example) or "
                f"{rank + 2} (a batch), but has dimensions {list(shape_of(x))}"
            )
        xp = namespace(x)
        if xp.isdtype(x.dtype, "complex floating"):
            raise TypeError(f"{_NAME} cannot accept complex inputs")
        example = shape_of(x)[-rank - 1 :]
        channels = example[-1] if self.Interleaving else example[0]
        self._check_input_channels(channels)
        self._check_fits(example[:-1] if self.Interleaving else example[1:])
        dtype = _PRECISIONS[options["WorkingPrecision"]]
        weight, bias = cast(self.Weights, dtype), self.Biases
        bias = None if bias is None else cast(bias, dtype)
        x = cast(x, dtype)
        batch = options["BatchSize"]
        if x.ndim == rank + 2 and not _automatic(batch) and batch is not None:
            size = _positive_int(batch, "BatchSize")
            parts = [
                run(self.spec, x[i : i + size, ...], weight, bias)
                for i in range(0, x.shape[0], size)
            ]
            y = xp.concat(parts, axis=0)
        else:
            y = run(self.spec, x, weight, bias)
        return cast(y, "float32") if dtype == "float16" else y

    def __repr__(self) -> str:
        kernel = list(self.KernelSize) if self._rank is not None else self._kernel_arg
        state = "" if self.initialized else ", <uninitialized>"
        return f"ConvolutionLayer[{self.OutputChannels}, {kernel}{state}]"


def _per_dim(value, rank: int, what: str, minimum: int) -> list[int]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        values = [int(value)] * rank
    elif (
        _is_seq(value)
        and len(value) == rank
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    ):
        values = [int(v) for v in value]
    else:
        raise _fail(f"{what} should be an integer or a list of {rank} integers, but was {value!r}")
    if any(v < minimum for v in values):
        raise _fail(f"{what} should be at least {minimum} in every dimension, but was {value!r}")
    return values


def _padding(value, rank: int):
    if isinstance(value, str):
        if value != "Same":
            raise _fail(f'PaddingSize should be an integer, a list or "Same", but was {value!r}')
        return "Same"
    if _is_seq(value) and len(value) == rank and all(_is_seq(p) for p in value):
        pairs = []
        for p in value:
            pair = _per_dim(p, 2, "each PaddingSize pair {before, after}", 0)
            pairs.append((pair[0], pair[1]))
        return tuple(pairs)
    sizes = _per_dim(value, rank, "PaddingSize", 0)
    return tuple((p, p) for p in sizes)


def _learning_rates(value) -> dict[str, float]:
    if value is None or _automatic(value):
        return {}
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return {"Weights": float(value), "Biases": float(value)}
    rules = value.items() if isinstance(value, dict) else value
    out = {}
    try:
        for key, rate in rules:
            if key not in ("Weights", "Biases"):
                raise KeyError(key)
            out[key] = float(rate)
    except (KeyError, TypeError, ValueError) as error:
        raise _fail(
            'LearningRateMultipliers should be a number or rules for "Weights" and '
            f'"Biases", but was {value!r}'
        ) from error
    return out


# -- NetInitialize, NetExtract, Information, Options ---------------------------------------


def NetInitialize(
    layer: ConvolutionLayer,
    *,
    Method: Any = "Xavier",
    RandomSeeding: int | Any = Automatic,
    Input: Sequence | None = None,
) -> ConvolutionLayer:
    """A copy of `layer` with random weights (`"Xavier"` or `"Kaiming"`) and zero biases.

    `Method` is a name or `(name, {"Distribution": "Normal" | "Uniform"})`; fans are
    counted per channel group. The input channel count must be known (`Input` here or
    on the layer).

    >>> layer = NetInitialize(ConvolutionLayer(4, [3, 3], Input=[2, 8, 8]), RandomSeeding=1)
    >>> NetExtract(layer, "Weights").shape
    (4, 2, 3, 3)
    """
    import copy

    name, settings = (Method, {}) if isinstance(Method, str) else (Method[0], dict(Method[1]))
    if name not in ("Xavier", "Kaiming"):
        raise _fail(f'Method should be "Xavier" or "Kaiming", but was {Method!r}')
    distribution = settings.get("Distribution", "Normal")
    if distribution not in ("Normal", "Uniform"):
        raise _fail(f'"Distribution" should be "Normal" or "Uniform", but was {distribution!r}')
    new = copy.copy(layer)
    if Input is not None:
        new._input_arg = Input
        new._rank = new._infer_rank(new._kernel_arg, Automatic, Input, None)
        new._settle()
    new._need_rank()
    if new._channels is None:
        raise _fail(
            "cannot be initialized until all its input and output dimensions are known: "
            'the number of input channels is unknown (specify "Input")'
        )
    groups = new.ChannelGroups
    taps = math.prod(new.KernelSize)
    fan_in, fan_out = taps * new._channels // groups, taps * new.OutputChannels // groups
    variance = 2.0 / (fan_in + fan_out) if name == "Xavier" else 2.0 / fan_in
    rng = np.random.default_rng(None if _automatic(RandomSeeding) else RandomSeeding)
    shape = (new.OutputChannels, new._channels // groups, *new.KernelSize)
    if distribution == "Normal":
        weights = _init.normal(rng, shape, math.sqrt(variance))
    else:
        limit = math.sqrt(3 * variance)
        weights = _init.uniform(rng, shape, -limit, limit)
    new.Weights = Automatic
    if new.Biases is not None:
        new.Biases = Automatic
    new._set_weights(weights)
    return new


_PARAMETERS = (
    "OutputChannels",
    "KernelSize",
    "Stride",
    "Dilation",
    "PaddingSize",
    "ChannelGroups",
    "Dimensionality",
    "Interleaving",
    "InputChannels",
)


def NetExtract(layer: ConvolutionLayer, name: str):
    """An array (`"Weights"`, `"Biases"`) or a parameter of the layer.

    Uninitialized arrays are `Automatic`; `"Biases"` is None for a layer without biases.

    >>> layer = ConvolutionLayer(2, [3], Weights=np.ones((2, 1, 3)))
    >>> NetExtract(layer, "Weights").shape, NetExtract(layer, "Stride")
    ((2, 1, 3), (1,))
    """
    if name == "Weights":
        return layer.Weights
    if name == "Biases":
        return layer.Biases
    if name in ("Input", "Output"):
        return _ports(layer)[name]
    if name in _PARAMETERS:
        if name not in ("OutputChannels", "ChannelGroups", "Interleaving", "InputChannels"):
            layer._need_rank()
        return getattr(layer, name)
    raise _fail(
        f"NetExtract: {name!r} is not an array or parameter of the layer; "
        f"available: {['Weights', 'Biases', 'Input', 'Output', *_PARAMETERS]}"
    )


def _ports(layer: ConvolutionLayer) -> dict[str, Any]:
    if layer._rank is None:
        return {"Input": Automatic, "Output": Automatic}
    spatial = layer._spatial_in or (None,) * layer._rank
    m = layer._channels
    dims_in = (*spatial, m) if layer.Interleaving else (m, *spatial)
    try:
        dims_out = layer.output_shape(dims_in)
    except ValueError:
        dims_out = Automatic
    return {"Input": dims_in, "Output": dims_out}


def _array_dimensions(layer: ConvolutionLayer) -> dict[tuple, Any]:
    layer._need_rank()
    m = layer._channels
    per_group = None if m is None else m // layer.ChannelGroups
    dims: dict[tuple, Any] = {("Weights",): (layer.OutputChannels, per_group, *layer.KernelSize)}
    if layer.Biases is not None:
        dims[("Biases",)] = (layer.OutputChannels,)
    return dims


def Information(layer: ConvolutionLayer, prop: str | None = None):
    """A property of the layer (as for NetGraph), or a dict of all of them.

    Properties: "InputPorts", "OutputPorts", "Arrays", "ArraysCount", "ArraysDimensions",
    "ArraysElementCounts", "ArraysPositionList", "ArraysTotalElementCount",
    "ArraysTotalSize" (bytes), "LayersCount", "LayerTypeCounts", "Options".

    >>> Information(ConvolutionLayer(6, [3, 3], ChannelGroups=3, Input=[3, 8, 8]),
    ...             "ArraysTotalElementCount")
    60
    """
    dims = _array_dimensions(layer)
    counts = {k: None if any(d is None for d in v) else math.prod(v) for k, v in dims.items()}
    known = all(c is not None for c in counts.values())

    def total_size():
        if not known:
            return None
        size = 0
        for key, count in counts.items():
            array = layer.Weights if key == ("Weights",) else layer.Biases
            itemsize = getattr(getattr(array, "dtype", None), "itemsize", 4)
            size += count * (itemsize if isinstance(itemsize, int) else 4)
        return size

    ports = _ports(layer)
    props = {
        "InputPorts": lambda: {"Input": ports["Input"]},
        "OutputPorts": lambda: {"Output": ports["Output"]},
        "Arrays": lambda: {k: layer.Weights if k == ("Weights",) else layer.Biases for k in dims},
        "ArraysCount": lambda: len(dims),
        "ArraysDimensions": lambda: dims,
        "ArraysElementCounts": lambda: counts,
        "ArraysPositionList": lambda: list(dims),
        "ArraysTotalElementCount": lambda: sum(counts.values()) if known else None,
        "ArraysTotalSize": total_size,
        "LayersCount": lambda: 1,
        "LayerTypeCounts": lambda: {_NAME: 1},
        "Options": lambda: _layer_options(layer),
    }
    if prop is None:
        return {name: get() for name, get in props.items()}
    if prop not in props:
        raise _fail(f"Information: {prop!r} is not a known property; available: {list(props)}")
    return props[prop]()


def _layer_options(layer: ConvolutionLayer) -> dict[str, Any]:
    return {
        "Biases": layer.Biases,
        "ChannelGroups": layer.ChannelGroups,
        "Dilation": getattr(layer, "Dilation", layer._dilation_arg),
        "Dimensionality": layer._rank if layer._rank is not None else Automatic,
        "Interleaving": layer.Interleaving,
        "LearningRateMultipliers": layer.LearningRateMultipliers or Automatic,
        "PaddingSize": getattr(layer, "PaddingSize", layer._padding_arg),
        "Stride": getattr(layer, "Stride", layer._stride_arg),
        "Weights": layer.Weights,
    }


def Options(obj: Any = ConvolutionLayer) -> dict[str, Any]:
    """`Options(ConvolutionLayer)`: construction defaults; `Options(layer)`: evaluation ones.

    >>> Options(ConvolutionLayer)["PaddingSize"], Options(ConvolutionLayer)["Interleaving"]
    (0, False)
    """
    if obj is ConvolutionLayer:
        return {
            "Biases": Automatic,
            "ChannelGroups": 1,
            "Dilation": 1,
            "Dimensionality": Automatic,
            "Interleaving": False,
            "LearningRateMultipliers": Automatic,
            "PaddingSize": 0,
            "Stride": 1,
            "Weights": Automatic,
        }
    if isinstance(obj, ConvolutionLayer):
        return dict(_EVALUATION_OPTIONS)
    raise TypeError(f"Options expects ConvolutionLayer or a ConvolutionLayer[...], got {obj!r}")


# -- translation target ---------------------------------------------------------------------


def from_canonical(
    spec: ConvSpec, weight, bias, portable: dict[str, Any]
) -> tuple[ConvolutionLayer, set[str]]:
    """The `ConvolutionLayer` computing `spec` with canonical weights; the portable keys used."""
    if spec.transposed:
        raise TranslationError(
            "Wolfram's ConvolutionLayer cannot express a transposed convolution; the nearest "
            "faithful form is DeconvolutionLayer, which xconv.compat.wolfram does not model"
        )
    if spec.padding_mode != "constant" or spec.padding_value != 0:
        what = (
            f"padding_mode={spec.padding_mode!r}"
            if spec.padding_mode != "constant"
            else f"padding value {spec.padding_value}"
        )
        raise TranslationError(
            f"Wolfram's ConvolutionLayer pads with zeros only, not {what}; the nearest "
            'faithful form is a PaddingLayer (Padding -> "Reflected", "Fixed", ...) '
            "followed by ConvolutionLayer[..., PaddingSize -> 0]"
        )
    padding = _static_padding(spec)
    if isinstance(padding, str) and padding != "same":
        raise TranslationError(
            f"Wolfram's ConvolutionLayer has no {padding!r} padding at stride {spec.stride}: "
            'its "Same" puts the odd padding at the end; use explicit PaddingSize pairs '
            "for a fixed input size"
        )
    activation = portable.get("activation")
    if activation not in (None, "linear"):
        raise TranslationError(
            f"Wolfram's ConvolutionLayer has no activation ({activation!r}); the nearest "
            "faithful form is NetChain[{ConvolutionLayer[...], ElementwiseLayer[...]}]: "
            "translate the layer with activation=None and apply the function after it"
        )
    rates = {}
    if "weight_learn_rate" in portable:
        rates["Weights"] = portable["weight_learn_rate"]
    if "bias_learn_rate" in portable:
        rates["Biases"] = portable["bias_learn_rate"]
    layer = ConvolutionLayer(
        spec.out_channels if spec.out_channels is not None else weight.shape[0],
        list(spec.kernel_size),
        Weights=Automatic if weight is None else weight,
        Biases=None
        if bias is None and weight is not None
        else (Automatic if bias is None else bias),
        ChannelGroups=spec.groups,
        Dilation=list(spec.dilation),
        Interleaving=spec.channels_last,
        LearningRateMultipliers=rates or Automatic,
        PaddingSize="Same" if "same" in (padding, spec.padding) else [list(p) for p in padding],
        Stride=list(spec.stride),
        Input=Automatic
        if spec.in_channels is None
        else (
            [*[Varying] * spec.rank, spec.in_channels]
            if spec.channels_last
            else [spec.in_channels, *[Varying] * spec.rank]
        ),
    )
    # a Wolfram layer's name is its key in the enclosing NetChain / NetGraph
    return layer, {"weight_learn_rate", "bias_learn_rate", "activation", "name"}


def _static_padding(spec: ConvSpec):
    from .translate import static_padding

    return static_padding(spec)
