"""MATLAB's convolution layers: `convolution1d/2d/3dLayer`, `groupedConvolution2dLayer`,
`transposedConv1d/2d/3dLayer`, with MATLAB's name-value arguments and property names.

Data are `S..S x C x B` (`SSCB` for images; the batch, and any trailing singleton, may be
absent); weights are `h x w x C x F`, grouped `h x w x C/g x F/g x g`, transposed
`h x w x F x C`; biases `1 x 1 x F` (grouped `1 x 1 x F/g x g`). Weights and biases are
initialized the first time the channel count is known (`NumChannels` or the first
input) from MATLAB's global stream, which `rng(seed)` seeds.

Choices where the reference pages are silent:

- Transposed `Cropping='same'` removes `k - stride` in total, the odd one at the end
  (bottom/right), like Keras; with `k < stride` the output is extended with zeros.
- `PaddingSize` of a `'same'` layer whose padding depends on the input size reads
  `[0 0 0 0]` until the layer has seen an input, as MATLAB shows before training.
- Arithmetic is single precision unless the input and the weights are both double
  (MATLAB's rule that single wins over double; integer inputs are converted).

>>> import numpy as np
>>> from xconv.compat import matlab
>>> layer = matlab.convolution2dLayer(3, 4, Padding="same", NumChannels=2)
>>> layer.Weights.shape, layer(np.ones((5, 6, 2, 7), dtype=np.float32)).shape
((3, 3, 2, 4), (5, 6, 4, 7))
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from ..spec import ConvSpec
from . import _matlab_args as args
from ._layer import (
    CompatLayer,
    TranslationError,
    as_float_array,
    cast,
    check_numeric,
    namespace,
    permute,
    reshape,
    run,
    shape_of,
)
from ._matlab_args import MatlabError, rng

__all__ = [
    "MatlabError",
    "convolution1dLayer",
    "convolution2dLayer",
    "convolution3dLayer",
    "groupedConvolution2dLayer",
    "rng",
    "transposedConv1dLayer",
    "transposedConv2dLayer",
    "transposedConv3dLayer",
]

_COMMON = (
    "Stride",
    "NumChannels",
    "WeightsInitializer",
    "BiasInitializer",
    "Weights",
    "Bias",
    "WeightLearnRateFactor",
    "BiasLearnRateFactor",
    "WeightL2Factor",
    "BiasL2Factor",
    "Name",
)
_FORWARD = (*_COMMON, "DilationFactor", "Padding", "PaddingValue")
_GROUPED = (*[n for n in _FORWARD if n != "NumChannels"], "NumChannelsPerGroup")
_TRANSPOSED = (*_COMMON, "Cropping")


class MatlabLayer(CompatLayer):
    """Shared by the MATLAB layers: properties, weights, initialization and the call."""

    dialect = "matlab"
    RANK: ClassVar[int] = 2
    FUNCTION: ClassVar[str] = ""
    TRANSPOSED: ClassVar[bool] = False
    GROUPED: ClassVar[bool] = False
    NumInputs = 1
    InputNames = ("in",)
    NumOutputs = 1
    OutputNames = ("out",)

    def __init__(self, filterSize: Any, filters: Any, allowed, name_values: dict) -> None:
        options = args.name_values(name_values, allowed, self.FUNCTION)
        rank = self.RANK
        self.FilterSize = args.per_dimension(filterSize, rank, "FilterSize")
        self._filters = args.scalar_integer(
            filters, "NumFiltersPerGroup" if self.GROUPED else "NumFilters"
        )
        self.Stride = args.per_dimension(options.get("Stride", 1), rank, "Stride")
        self.WeightsInitializer = args.initializer(
            options.get("WeightsInitializer", "glorot"),
            "WeightsInitializer",
            args.WEIGHT_INITIALIZERS,
        )
        self.BiasInitializer = args.initializer(
            options.get("BiasInitializer", "zeros"), "BiasInitializer", args.BIAS_INITIALIZERS
        )
        self.WeightLearnRateFactor = args.nonnegative_scalar(
            options.get("WeightLearnRateFactor", 1), "WeightLearnRateFactor"
        )
        self.BiasLearnRateFactor = args.nonnegative_scalar(
            options.get("BiasLearnRateFactor", 1), "BiasLearnRateFactor"
        )
        self.WeightL2Factor = args.nonnegative_scalar(
            options.get("WeightL2Factor", 1), "WeightL2Factor"
        )
        self.BiasL2Factor = args.nonnegative_scalar(options.get("BiasL2Factor", 0), "BiasL2Factor")
        name = options.get("Name", "")
        if not isinstance(name, str):
            raise MatlabError(
                "Invalid value for 'Name'. Value must be a character vector or string."
            )
        self.Name = name
        self._channels: int | None = None
        self._last_spatial: tuple[int, ...] | None = None
        self._configure(options)
        if "NumChannels" in options and options["NumChannels"] != "auto":
            self._set_channels(
                args.scalar_integer(options["NumChannels"], "NumChannels"), "NumChannels"
            )
        self.Weights = options.get("Weights")
        self.Bias = options.get("Bias")
        if self._channels is None and self.Weights is not None:
            self._set_channels(self._channels_from_weights(), "the weights")
        if self._channels is not None:
            self.initialize()

    # -- subclass hooks -------------------------------------------------------------------

    def _configure(self, options: dict) -> None:  # pragma: no cover - abstract
        """Read the subclass's own name-value options (the rest are read by `__init__`)."""
        raise NotImplementedError

    @property
    def _groups(self) -> int | None:
        return 1

    def _weights_size(self) -> tuple:
        """MATLAB size of the weights, None where the channel count is unknown."""
        c, f, k = self._channels, self._filters, self.FilterSize
        return (*k, f, c) if self.TRANSPOSED else (*k, c, f)

    def _bias_size(self) -> tuple[int, ...]:
        return (1,) * self.RANK + (self._filters,) if self.RANK > 1 else (1, self._filters)

    def _fans(self) -> tuple[int, int]:
        taps = math.prod(self.FilterSize)
        return taps * self._channels, taps * self._filters

    def _channels_from_weights(self) -> int:
        size = args.with_trailing_ones(self.Weights, len(self._weights_size())).shape
        return int(size[self.RANK + 1] if self.TRANSPOSED else size[self.RANK])

    # -- properties ----------------------------------------------------------------------

    @property
    def Weights(self):
        return self._weights

    @Weights.setter
    def Weights(self, value) -> None:
        self._weights = None if value is None or _empty(value) else as_float_array(value)

    @property
    def Bias(self):
        return self._bias

    @Bias.setter
    def Bias(self, value) -> None:
        self._bias = None if value is None or _empty(value) else as_float_array(value)

    @property
    def NumChannels(self) -> int | str:
        return "auto" if self._channels is None else self._channels

    @property
    def NumFilters(self) -> int:
        return self._filters

    # -- initialization --------------------------------------------------------------------

    def _set_channels(self, channels: int, source: str) -> None:
        if self._channels is not None and channels != self._channels:
            raise MatlabError(
                f"Layer '{self.Name}': the number of channels of {source} ({channels}) does "
                f"not match the layer's NumChannels ({self._channels})."
            )
        groups = self._groups
        if groups is not None and channels % groups:
            raise MatlabError(
                f"Layer '{self.Name}': the number of groups ({groups}) must evenly divide the "
                f"number of channels of the layer input ({channels})."
            )
        self._channels = channels

    def initialize(self, numChannels: int | None = None) -> MatlabLayer:
        """Fix the channel count and fill empty `Weights` / `Bias` from the initializers."""
        if numChannels is not None:
            self._set_channels(args.scalar_integer(numChannels, "NumChannels"), "the input")
        if self._channels is None:
            raise MatlabError(
                f"Layer '{self.Name}': cannot initialize: the number of input channels is "
                "unknown; set NumChannels or call the layer on data"
            )
        self._settle_groups()
        size = self._weights_size()
        fan_in, fan_out = self._fans()
        if self.Weights is None:
            self.Weights = args.draw(self.WeightsInitializer, size, fan_in, fan_out)
        if self.Bias is None:
            self.Bias = args.draw(self.BiasInitializer, self._bias_size(), fan_in, fan_out)
        self._check_arrays()
        return self

    def _settle_groups(self) -> None:
        pass

    def _check_arrays(self) -> None:
        size = self._weights_size()
        weights = args.with_trailing_ones(self.Weights, len(size))
        if shape_of(weights) != size:
            raise MatlabError(
                f"Layer '{self.Name}': Weights must be a {args.size_text(size)} array, got "
                f"size {args.size_text(shape_of(self.Weights))}."
            )
        bias_size = self._bias_size()
        bias = self.Bias
        if math.prod(shape_of(bias)) != math.prod(bias_size) or (
            self.GROUPED and shape_of(args.with_trailing_ones(bias, 4)) != bias_size
        ):
            raise MatlabError(
                f"Layer '{self.Name}': Bias must be a {args.size_text(bias_size)} array, got "
                f"size {args.size_text(shape_of(bias))}."
            )

    # -- the canonical description -------------------------------------------------------

    @property
    def spec(self) -> ConvSpec:  # pragma: no cover - per subclass
        raise NotImplementedError

    def canonical_weights(self) -> tuple[Any, Any]:
        """`(weight, bias)` in xconv's layout, from MATLAB's."""
        if self.Weights is None or self.Bias is None:
            raise MatlabError(f"Layer '{self.Name}' has no Weights yet: initialize it first.")
        rank = self.RANK
        w = args.with_trailing_ones(self.Weights, len(self._weights_size()))
        spatial = tuple(range(rank))
        if self.GROUPED:
            w = permute(w, (rank + 2, rank + 1, rank, *spatial))
            shape = shape_of(w)
            w = reshape(w, (shape[0] * shape[1], shape[2], *shape[3:]))
        else:
            w = permute(w, (rank + 1, rank, *spatial))
        return w, args.column_major_vector(self.Bias)

    def portable(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.Name:
            out["name"] = self.Name
        for key, value, default in (
            ("weight_learn_rate", self.WeightLearnRateFactor, 1),
            ("bias_learn_rate", self.BiasLearnRateFactor, 1),
            ("weight_l2_factor", self.WeightL2Factor, 1),
            ("bias_l2_factor", self.BiasL2Factor, 0),
        ):
            if value != default:
                out[key] = value
        return out

    # -- evaluation ------------------------------------------------------------------------

    def __call__(self, X, DataFormat: str | None = None):
        """The layer's output for `X` in `DataFormat` (default `S..SCB`), in that format."""
        X = check_numeric(X, f"Layer '{self.Name}': the input must be numeric data")
        fmt = DataFormat or args.default_format(self.RANK)
        x, undo = args.to_canonical(X, fmt, self.RANK)
        channels = int(x.shape[1])
        self._set_channels(channels, "the input")
        self.initialize()
        self._last_spatial = shape_of(x)[2:]
        self._check_input(self._last_spatial)
        weight, bias = self.canonical_weights()
        xp = namespace(x)
        both_double = x.dtype == xp.float64 and weight.dtype == getattr(
            namespace(weight), "float64", None
        )
        dtype = "float64" if both_double else "float32"
        try:
            y = run(self.spec, cast(x, dtype), cast(weight, dtype), cast(bias, dtype))
        except ValueError as error:
            raise MatlabError(f"Layer '{self.Name}': {error}") from error
        return undo(y)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} with properties:"]
        for name in self._display():
            lines.append(f"    {name}: {_show(getattr(self, name))}")
        return "\n".join(lines)

    def _display(self) -> tuple[str, ...]:
        return ("Name", "FilterSize", "NumChannels", "NumFilters", "Stride")

    def _check_input(self, spatial: tuple[int, ...]) -> None:
        pass


class _Convolution(MatlabLayer):
    """Forward convolution: Padding, PaddingValue, DilationFactor."""

    MODES: ClassVar[tuple[str, ...]] = ("same",)

    def _configure(self, options: dict) -> None:
        self.DilationFactor = args.per_dimension(
            options.get("DilationFactor", 1), self.RANK, "DilationFactor"
        )
        self.PaddingMode, self._pairs = args.edge_sizes(
            options.get("Padding", 0), self.RANK, "Padding", self.MODES
        )
        self._padding_mode, self._padding_value, self.PaddingValue = args.padding_value(
            options.get("PaddingValue", 0)
        )

    def _check_input(self, spatial: tuple[int, ...]) -> None:
        limit = {"reflect": lambda n: n - 1, "symmetric": lambda n: n}.get(self._padding_mode)
        if limit is None:
            return
        pads = self.spec_without_channels().resolve_padding(spatial)
        for i, (n, pair) in enumerate(zip(spatial, pads, strict=True)):
            if max(pair) > limit(n):
                raise MatlabError(
                    f"Layer '{self.Name}': PaddingValue '{self.PaddingValue}' cannot pad "
                    f"{max(pair)} elements on dimension {i + 1} of size {n} (at most "
                    f"{limit(n)})."
                )

    @property
    def PaddingSize(self):
        pairs = self._pairs
        if pairs is None:
            spec = self.spec_without_channels()
            pairs = spec.resolve_padding(self._last_spatial or (None,) * self.RANK)
            if any(p is None for p in pairs):
                pairs = ((0, 0),) * self.RANK
        return args.size_property(pairs, self.RANK)

    def spec_without_channels(self) -> ConvSpec:
        return self._spec(groups=1)

    def _spec(self, **channels) -> ConvSpec:
        """A `ConvSpec` of the filter size, stride, padding and dilation, with `channels`."""
        return ConvSpec(
            self.FilterSize,
            stride=self.Stride,
            padding=self.PaddingMode if self._pairs is None else self._pairs,
            dilation=self.DilationFactor,
            padding_mode=self._padding_mode,
            padding_value=self._padding_value,
            **channels,
        )

    @property
    def spec(self) -> ConvSpec:
        """The layer as an `xconv.ConvSpec` (channel-first canonical layout)."""
        groups = self._groups
        if groups is None:
            raise MatlabError(
                f"Layer '{self.Name}': NumGroups is 'channelwise' and the number of input "
                "channels is not known yet; call the layer on data or initialize it"
            )
        filters = self._filters * (groups if self.GROUPED else 1)
        return self._spec(groups=groups, in_channels=self._channels, out_channels=filters)

    def _display(self) -> tuple[str, ...]:
        return (
            "Name",
            "FilterSize",
            "NumChannels",
            "NumFilters",
            "Stride",
            "DilationFactor",
            "PaddingMode",
            "PaddingSize",
            "PaddingValue",
        )


class Convolution1DLayer(_Convolution):
    RANK = 1
    FUNCTION = "convolution1dLayer"
    MODES = ("same", "causal")


class Convolution2DLayer(_Convolution):
    RANK = 2
    FUNCTION = "convolution2dLayer"


class Convolution3DLayer(_Convolution):
    RANK = 3
    FUNCTION = "convolution3dLayer"


class GroupedConvolution2DLayer(_Convolution):
    """`groupedConvolution2dLayer`: `NumGroups` groups of `NumFiltersPerGroup` filters."""

    RANK = 2
    FUNCTION = "groupedConvolution2dLayer"
    GROUPED = True

    def __init__(self, filterSize, numFiltersPerGroup, numGroups, name_values) -> None:
        if isinstance(numGroups, str):
            if numGroups.lower() != "channelwise":
                raise MatlabError(
                    f"Invalid value for 'numGroups'. Value must be a positive integer or "
                    f"'channelwise', got {numGroups!r}."
                )
            self._num_groups: int | str = "channelwise"
        else:
            self._num_groups = args.scalar_integer(numGroups, "numGroups")
        self._resolved_groups: int | None = (
            None if self._num_groups == "channelwise" else self._num_groups
        )
        super().__init__(filterSize, numFiltersPerGroup, _GROUPED, name_values)

    def _configure(self, options: dict) -> None:
        per_group = options.pop("NumChannelsPerGroup", "auto")
        super()._configure(options)
        if not (isinstance(per_group, str) and per_group.lower() == "auto"):
            per_group = args.scalar_integer(per_group, "NumChannelsPerGroup")
            if self._num_groups == "channelwise":
                if per_group != 1:
                    raise MatlabError(
                        f"NumChannelsPerGroup must be 1 for a 'channelwise' layer, got {per_group}."
                    )
            else:
                self._set_channels(per_group * self._num_groups, "NumChannelsPerGroup")

    @property
    def _groups(self) -> int | None:
        return self._resolved_groups

    def _set_channels(self, channels: int, source: str) -> None:
        if self._num_groups == "channelwise" and self._resolved_groups is None:
            self._resolved_groups = channels
        super()._set_channels(channels, source)

    def _channels_from_weights(self) -> int:
        size = shape_of(args.with_trailing_ones(self.Weights, 5))
        groups = size[4]
        if self._num_groups == "channelwise":
            self._resolved_groups = groups
        return size[2] * groups

    @property
    def NumGroups(self) -> int | str:
        return self._num_groups

    @property
    def NumFiltersPerGroup(self) -> int:
        return self._filters

    @property
    def NumFilters(self) -> int | None:
        groups = self._groups
        return None if groups is None else self._filters * groups

    @property
    def NumChannelsPerGroup(self) -> int | str:
        groups = self._groups
        if self._channels is None or groups is None:
            return "auto"
        return self._channels // groups

    def _weights_size(self) -> tuple:
        per_group = self.NumChannelsPerGroup
        return (
            *self.FilterSize,
            None if per_group == "auto" else per_group,
            self._filters,
            self._groups,
        )

    def _bias_size(self) -> tuple:
        return (1, 1, self._filters, self._groups)

    def _fans(self) -> tuple[int, int]:
        taps = math.prod(self.FilterSize)
        return taps * self.NumChannelsPerGroup, taps * self._filters

    def _display(self) -> tuple[str, ...]:
        return (
            "Name",
            "FilterSize",
            "NumGroups",
            "NumChannelsPerGroup",
            "NumFiltersPerGroup",
            "Stride",
            "DilationFactor",
            "PaddingMode",
            "PaddingSize",
            "PaddingValue",
        )


class _TransposedConvolution(MatlabLayer):
    """Transposed convolution: Cropping instead of Padding, weights `h x w x F x C`."""

    TRANSPOSED = True

    def _configure(self, options: dict) -> None:
        self.CroppingMode, self._pairs = args.edge_sizes(
            options.get("Cropping", 0), self.RANK, "Cropping", ("same",)
        )

    @property
    def CroppingSize(self):
        pairs = self._pairs
        if pairs is None:
            pairs = self.spec.resolve_padding((None,) * self.RANK)
        return args.size_property(pairs, self.RANK)

    @property
    def Cropping(self):
        """Deprecated `[a b]` form of `CroppingSize` (top/bottom, left/right), 2-D only."""
        size = self.CroppingSize
        return (size[0], size[2]) if self.RANK == 2 else size

    @property
    def spec(self) -> ConvSpec:
        """The layer as a transposed `xconv.ConvSpec` (cropping as padding)."""
        return ConvSpec(
            self.FilterSize,
            stride=self.Stride,
            padding=self.CroppingMode if self._pairs is None else self._pairs,
            transposed=True,
            in_channels=self._channels,
            out_channels=self._filters,
        )

    def _display(self) -> tuple[str, ...]:
        return (
            "Name",
            "FilterSize",
            "NumChannels",
            "NumFilters",
            "Stride",
            "CroppingMode",
            "CroppingSize",
        )


class TransposedConvolution1DLayer(_TransposedConvolution):
    RANK = 1
    FUNCTION = "transposedConv1dLayer"


class TransposedConvolution2DLayer(_TransposedConvolution):
    RANK = 2
    FUNCTION = "transposedConv2dLayer"


class TransposedConvolution3DLayer(_TransposedConvolution):
    RANK = 3
    FUNCTION = "transposedConv3dLayer"


# -- constructors, as MATLAB names them ---------------------------------------------------------


def convolution1dLayer(filterSize: Any, numFilters: int, **name_value: Any) -> Convolution1DLayer:
    """`convolution1dLayer(filterSize, numFilters, Name=Value)`; data `S x C x B`.

    >>> convolution1dLayer(3, 2, Padding="causal", NumChannels=1).PaddingSize
    (2, 0)
    """
    return Convolution1DLayer(filterSize, numFilters, _FORWARD, name_value)


def convolution2dLayer(filterSize: Any, numFilters: int, **name_value: Any) -> Convolution2DLayer:
    """`convolution2dLayer(filterSize, numFilters, Name=Value)`; data `H x W x C x B`.

    >>> convolution2dLayer([3, 5], 16, Stride=2, Padding=[1, 2]).PaddingSize
    (1, 1, 2, 2)
    """
    return Convolution2DLayer(filterSize, numFilters, _FORWARD, name_value)


def convolution3dLayer(filterSize: Any, numFilters: int, **name_value: Any) -> Convolution3DLayer:
    """`convolution3dLayer(filterSize, numFilters, Name=Value)`; data `H x W x D x C x B`.

    >>> convolution3dLayer(3, 8, Padding=[[0, 1, 2], [3, 4, 5]]).PaddingSize
    ((0, 1, 2), (3, 4, 5))
    """
    return Convolution3DLayer(filterSize, numFilters, _FORWARD, name_value)


def groupedConvolution2dLayer(
    filterSize: Any, numFiltersPerGroup: int, numGroups: int | str, **name_value: Any
) -> GroupedConvolution2DLayer:
    """`groupedConvolution2dLayer(filterSize, numFiltersPerGroup, numGroups | 'channelwise')`.

    >>> layer = groupedConvolution2dLayer(11, 10, 3, Name="gconv1", NumChannelsPerGroup=2)
    >>> layer.Weights.shape, layer.Bias.shape
    ((11, 11, 2, 10, 3), (1, 1, 10, 3))
    """
    return GroupedConvolution2DLayer(filterSize, numFiltersPerGroup, numGroups, name_value)


def transposedConv1dLayer(
    filterSize: Any, numFilters: int, **name_value: Any
) -> TransposedConvolution1DLayer:
    """`transposedConv1dLayer(filterSize, numFilters, Name=Value)`; weights `k x F x C`."""
    return TransposedConvolution1DLayer(filterSize, numFilters, _TRANSPOSED, name_value)


def transposedConv2dLayer(
    filterSize: Any, numFilters: int, **name_value: Any
) -> TransposedConvolution2DLayer:
    """`transposedConv2dLayer(filterSize, numFilters, Name=Value)`; weights `h x w x F x C`.

    >>> transposedConv2dLayer(11, 96, Stride=4, Cropping="same").CroppingSize
    (3, 4, 3, 4)
    """
    return TransposedConvolution2DLayer(filterSize, numFilters, _TRANSPOSED, name_value)


def transposedConv3dLayer(
    filterSize: Any, numFilters: int, **name_value: Any
) -> TransposedConvolution3DLayer:
    """`transposedConv3dLayer(filterSize, numFilters, Name=Value)`; weights `h x w x d x F x C`."""
    return TransposedConvolution3DLayer(filterSize, numFilters, _TRANSPOSED, name_value)


def _empty(value) -> bool:
    if hasattr(value, "shape"):
        return math.prod(value.shape) == 0
    return isinstance(value, (list, tuple)) and len(value) == 0


def _show(value) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if value is None:
        return "[]"
    if hasattr(value, "shape"):
        return f"[{args.size_text(shape_of(value)).replace('-by-', 'x')} {value.dtype}]"
    if isinstance(value, tuple):
        if value and isinstance(value[0], tuple):
            return "[" + "; ".join(" ".join(str(v) for v in row) for row in value) + "]"
        return "[" + " ".join(str(v) for v in value) + "]"
    if callable(value):
        return f"@{getattr(value, '__name__', 'function')}"
    return str(value)


# -- translation target --------------------------------------------------------------------------


def from_canonical(
    spec: ConvSpec, weight, bias, portable: dict[str, Any]
) -> tuple[MatlabLayer, set[str]]:
    """The MATLAB layer computing `spec` with canonical weights; the portable keys used."""
    from .translate import net_cropping, require_linear, static_padding

    require_linear(
        portable,
        "MATLAB",
        "the nearest faithful form is the convolution layer followed by the activation "
        "layer (reluLayer, tanhLayer, ...): translate with activation=None",
    )
    rank = spec.rank
    if rank > 3:
        raise TranslationError(f"MATLAB has no {rank}-D convolution layer (1-D to 3-D only)")
    options: dict[str, Any] = {
        "Stride": list(spec.stride),
        "WeightLearnRateFactor": portable.get("weight_learn_rate", 1),
        "BiasLearnRateFactor": portable.get("bias_learn_rate", 1),
        "WeightL2Factor": portable.get("weight_l2_factor", 1),
        "BiasL2Factor": portable.get("bias_l2_factor", 0),
        "Name": portable.get("name", ""),
    }
    used = {
        "name",
        "weight_learn_rate",
        "bias_learn_rate",
        "weight_l2_factor",
        "bias_l2_factor",
        "activation",
    }
    if spec.in_channels is not None:
        options["NumChannels"] = spec.in_channels
    if spec.transposed:
        layer_type = _transposed_options(spec, options, net_cropping(spec))
    else:
        layer_type = _forward_options(spec, options, static_padding(spec))
    if weight is not None:
        options["Weights"] = _matlab_weights(spec, weight)
        if bias is None:  # MATLAB layers always add a bias: a frozen zero one
            xp = namespace(weight)
            bias = xp.zeros((spec.out_channels,), dtype=weight.dtype)
            options["BiasLearnRateFactor"] = 0
        options["Bias"] = args.from_column_major(bias, _bias_size(spec))
    return layer_type(options), used


def _forward_options(spec: ConvSpec, options: dict, padding) -> Any:
    rank = spec.rank
    if isinstance(padding, str):
        if padding != "same":
            raise TranslationError(
                f"MATLAB has no {padding!r} padding at stride {spec.stride}: its 'same' puts the "
                "odd padding at the bottom/right; use explicit Padding for a fixed input size"
            )
        options["Padding"] = "same"
    elif spec.padding == "causal" and rank == 1:
        options["Padding"] = "causal"
    elif spec.padding == "same" and rank > 0:
        options["Padding"] = "same"
    else:
        options["Padding"] = _edge_value(padding, rank)
    options["DilationFactor"] = list(spec.dilation)
    mode = spec.padding_mode
    if mode == "circular":
        raise TranslationError(
            "MATLAB's PaddingValue has no circular padding; the nearest faithful form is to "
            "pad the input circularly first and use Padding=0"
        )
    if mode == "constant":
        if isinstance(spec.padding_value, complex):
            raise TranslationError("MATLAB's PaddingValue must be a real scalar")
        options["PaddingValue"] = spec.padding_value
    else:
        names = {v: k for k, v in args.PADDING_VALUES.items()}
        options["PaddingValue"] = names[mode]
    if spec.groups == 1:
        cls = {1: Convolution1DLayer, 2: Convolution2DLayer, 3: Convolution3DLayer}[rank]
        return lambda o: cls(spec.kernel_size, spec.out_channels, _FORWARD, o)
    if rank != 2:
        raise TranslationError(
            f"MATLAB has no grouped {rank}-D convolution layer (groupedConvolution2dLayer is "
            f"2-D only); the nearest faithful form is {spec.groups} convolution{rank}dLayer "
            "layers on the channel groups, joined by a concatenationLayer"
        )
    groups = spec.groups
    options.pop("NumChannels", None)
    if spec.in_channels is not None:
        options["NumChannelsPerGroup"] = spec.in_channels // groups
    per_group = spec.out_channels // groups
    return lambda o: GroupedConvolution2DLayer(spec.kernel_size, per_group, groups, o)


def _transposed_options(spec: ConvSpec, options: dict, crops) -> Any:
    rank = spec.rank
    if spec.groups != 1:
        raise TranslationError(
            f"MATLAB's transposedConv{rank}dLayer has no channel groups; the nearest faithful "
            f"form is {spec.groups} transposed layers on the channel groups, concatenated"
        )
    if any(d > 1 for d in spec.dilation):
        raise TranslationError(
            f"MATLAB's transposedConv{rank}dLayer has no DilationFactor; the nearest faithful "
            "form is the undilated kernel of size (k-1)*d+1 with zeros between the taps"
        )
    from .translate import net_cropping

    same = ConvSpec(spec.kernel_size, stride=spec.stride, padding="same", transposed=True)
    if tuple(crops) == net_cropping(same):
        options["Cropping"] = "same"
    elif all(end >= 0 for _, end in crops):
        options["Cropping"] = _edge_value(crops, rank)
    else:
        raise TranslationError(
            "MATLAB's Cropping cannot extend the output with zeros (output padding beyond the "
            "cropping); the nearest faithful form is Cropping=0 followed by zero padding of "
            "the output"
        )
    cls = {
        1: TransposedConvolution1DLayer,
        2: TransposedConvolution2DLayer,
        3: TransposedConvolution3DLayer,
    }[rank]
    return lambda o: cls(spec.kernel_size, spec.out_channels, _TRANSPOSED, o)


def _edge_value(pairs, rank: int):
    if rank == 3:
        return [[p[0] for p in pairs], [p[1] for p in pairs]]
    return [v for pair in pairs for v in pair]


def _matlab_weights(spec: ConvSpec, weight):
    rank = spec.rank
    spatial = tuple(range(2, rank + 2))
    if spec.groups > 1:
        shape = shape_of(weight)
        grouped = reshape(weight, (spec.groups, shape[0] // spec.groups, *shape[1:]))
        return permute(grouped, (*[a + 1 for a in spatial], 2, 1, 0))
    return permute(weight, (*spatial, 1, 0))


def _bias_size(spec: ConvSpec) -> tuple[int, ...]:
    if spec.groups > 1:
        return (1, 1, spec.out_channels // spec.groups, spec.groups)
    return (1,) * spec.rank + (spec.out_channels,) if spec.rank > 1 else (1, spec.out_channels)
